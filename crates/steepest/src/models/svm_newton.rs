//! Newton's method for support vector machines in the primal (O. Chapelle, "Training a Support
//! Vector Machine in the Primal", Neural Computation 19, 2007), for classification (the hinge)
//! and regression (the epsilon-insensitive loss), over a kernel matrix ([`solve_dual`]: the
//! decision function is a kernel expansion f = K beta + b) or over explicit features
//! ([`solve_primal`]: f = Z w + b, for the kernel approximations).
//!
//! Each row's loss is a function of its excess u and a direction sigma:
//! classification, labels y = +-1: u = 1 - y f, sigma = y; regression: u = |y - f| - epsilon,
//! sigma = sign(y - f). The loss is the hinge of u, Huber-smoothed over a band of half-width h:
//! 0 for u < -h, (u + h)^2 / (4h) for |u| <= h, u above (h = 0: the squared hinge max(0, u)^2).
//! The objective is 1/2 ||w||^2 (1/2 beta' K beta) + sum_i C_i loss(u_i).
//!
//! The loss is piecewise quadratic, so Newton's step on the current parts (the rows in the band,
//! Q, and beyond it, L) is the exact minimizer of the local model. When the step changes the
//! parts it overshoots, so each step goes to the exact minimizer of the objective along it
//! ([`exact_step`]; backtracking from there keeps every step a decrease against rounding), and
//! a full step that leaves the parts unchanged has reached the minimizer. The band shrinks
//! to h by factors of 30, each stage warm-started from the last, from a first band that grows
//! with C (C / 60 within [0.001, 0.5]: a band narrow for the size of the coefficients lets only
//! a row or two enter it per step; a wide one puts most rows in the Newton systems).

use super::kernel_columns::KernelColumns;
use crate::error::{Error, Result};
use crate::tensor::{matmul_slices, Cholesky, MatRef};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// The loss of one binary or regression problem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SvmLoss {
    /// Classification, labels +-1.
    Hinge,
    /// Regression with a tube of half-width epsilon.
    EpsilonInsensitive(f64),
}

impl SvmLoss {
    /// (u, sigma) of a row with target `y` and decision `f`.
    #[inline]
    fn excess(self, y: f64, f: f64) -> (f64, f64) {
        match self {
            SvmLoss::Hinge => (1.0 - y * f, y),
            SvmLoss::EpsilonInsensitive(eps) => {
                let r = y - f;
                (r.abs() - eps, if r >= 0.0 { 1.0 } else { -1.0 })
            }
        }
    }

    /// The tube's half-width (0 for classification).
    fn epsilon(self) -> f64 {
        match self {
            SvmLoss::Hinge => 0.0,
            SvmLoss::EpsilonInsensitive(e) => e,
        }
    }
}

/// The smoothed hinge of the excess `u` with band half-width `h` (see the module's doc).
pub(crate) fn smoothed_hinge(u: f64, h: f64) -> f64 {
    if h == 0.0 {
        u.max(0.0).powi(2)
    } else if u < -h {
        0.0
    } else if u <= h {
        (u + h).powi(2) / (4.0 * h)
    } else {
        u
    }
}

/// Its derivative and second derivative in u.
fn hinge_derivatives(u: f64, h: f64) -> (f64, f64) {
    if h == 0.0 {
        if u > 0.0 {
            (2.0 * u, 2.0)
        } else {
            (0.0, 0.0)
        }
    } else if u < -h {
        (0.0, 0.0)
    } else if u <= h {
        ((u + h) / (2.0 * h), 1.0 / (2.0 * h))
    } else {
        (1.0, 0.0)
    }
}

/// The rows in the band (Q) and beyond it (L) at decisions `f`; with h = 0 every row with a
/// loss is in Q.
fn parts(loss: SvmLoss, y: &[f64], f: &[f64], h: f64) -> (Vec<usize>, Vec<usize>) {
    let (mut q, mut l) = (Vec::new(), Vec::new());
    for i in 0..y.len() {
        let u = loss.excess(y[i], f[i]).0;
        if h == 0.0 {
            if u > 0.0 {
                q.push(i);
            }
        } else if u > h {
            l.push(i);
        } else if u >= -h {
            q.push(i);
        }
    }
    (q, l)
}

fn loss_sum(loss: SvmLoss, y: &[f64], f: &[f64], c: &[f64], h: f64) -> f64 {
    (0..y.len())
        .map(|i| c[i] * smoothed_hinge(loss.excess(y[i], f[i]).0, h))
        .sum()
}

/// From this band width the continuation goes straight to the final one: the rows in the
/// band are then the support vectors on the margin, whose set a narrower band barely changes
/// (the final stage starts from this band's parts, so its first Newton step lands on them).
const COARSE_BAND: f64 = 1e-3;

/// The continuation's ratio of one band to the next. With each step going to the minimum
/// along it, 30 took fewer Newton steps than 10 on K1 (the 20,000-row set: 2.0 against 2.5 s,
/// the same solution); a jump straight to the coarse band (500) took more.
const BAND_FACTOR: f64 = 30.0;

/// The widest band the continuation starts from.
const WIDEST_BAND: f64 = 0.5;

/// The band widths of the continuation: `start`, `start` / 30, ... while above
/// [`COARSE_BAND`], then [`COARSE_BAND`] (or the start, when narrower), then `h`.
/// For regression no wider than epsilon: a band reaching past r = 0 would smooth
/// |r| - epsilon where |r| has its kink, and Newton's steps would cross it.
fn widths(loss: SvmLoss, h: f64, start: f64) -> Vec<f64> {
    let (start, h) = match loss {
        SvmLoss::EpsilonInsensitive(e) if e > 0.0 => (start.min(e), h.min(e)),
        _ => (start, h),
    };
    let mut out = Vec::new();
    if h > 0.0 {
        let mut w = start.max(h);
        while w > h.max(COARSE_BAND) * 1.0001 {
            out.push(w);
            w /= BAND_FACTOR;
        }
        // The coarse band, or the starting one when that is narrower (a small epsilon).
        if h < COARSE_BAND && start > h {
            out.push(COARSE_BAND.min(start));
        }
    }
    out.push(h);
    out
}

/// The first band of [`solve_dual`]'s continuation for per-row weights `c`: C / 60 for their
/// mean C, within [[`COARSE_BAND`], [`WIDEST_BAND`]], and from a seeded start at most
/// 0.5 / 30. Too wide a band puts most rows in the first Newton systems (a kernel-ridge step,
/// cubic in their number); too narrow a band for the size of the coefficients (C) lets only a
/// row or two enter it per step. On the digits' pair problems (about 290 rows, RBF, gamma =
/// scale) the fastest start over C = 0.01 ... 1000 was near C / 60 (0.5 against 1/60 at C = 1:
/// 0.042 against 0.028 s; at C = 100: 0.031 against 0.064 s).
fn first_band(c: &[f64], seeded: bool) -> f64 {
    let mean = c.iter().sum::<f64>() / c.len().max(1) as f64;
    let w = (mean / 60.0).clamp(COARSE_BAND, WIDEST_BAND);
    match seeded {
        true => w.min(WIDEST_BAND / BAND_FACTOR),
        false => w,
    }
}

/// Above this many rows, [`solve_dual`] starts from a solution on a quarter of them.
const WARM_START_ROWS: usize = 3000;

/// A solved problem: coefficients (beta over the rows, or w over the features), intercept,
/// Newton steps, objective.
pub(crate) struct Solution {
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub steps: usize,
    pub objective: f64,
}

/// Newton's method on the kernel expansion, kernel matrix `k` over the rows, targets `y` and
/// per-row weights `c` (C times the class weight).
///
/// Stationarity gives beta_L = C sigma_L and
/// (K_QQ + s I) beta_Q + b 1 = y_Q + sigma_Q (h - eps) - K_QL beta_L with 1' beta = 0, where
/// s_i = 2h / C_i (h = 0: 1 / (2 C_i)); beta is zero elsewhere. Each step solves that system
/// through a Cholesky factorization.
pub(crate) fn solve_dual(
    k: &KernelColumns,
    y: &[f64],
    c: &[f64],
    loss: SvmLoss,
    h: f64,
    max_iter: usize,
) -> Result<Solution> {
    let n = y.len();
    let (mut beta, mut b, mut f) = (vec![0.0; n], 0.0, vec![0.0; n]);
    let (mut steps, mut objective) = (0, f64::INFINITY);
    // Many rows: start from the solution on every fourth row (recursively), so that the first
    // Newton systems hold the band's rows, not all of them (Chapelle's section 5 grows the
    // training set the same way).
    let seeded = n > WARM_START_ROWS;
    if seeded {
        let sub: Vec<usize> = (0..n).step_by(4).collect();
        let ks = k.restrict(&sub);
        let pick = |v: &[f64]| -> Vec<f64> { sub.iter().map(|&i| v[i]).collect() };
        // The seed needs no narrower band than the coarse one (h = 0, the squared hinge, stays).
        let seed_h = if h > 0.0 { h.max(COARSE_BAND) } else { h };
        let s = solve_dual(&ks, &pick(y), &pick(c), loss, seed_h, max_iter)?;
        for (q, &i) in sub.iter().enumerate() {
            beta[i] = s.coef[q];
        }
        b = s.intercept;
        f = times_sparse(k, &beta);
        f.iter_mut().for_each(|v| *v += b);
        steps = s.steps;
    }
    let stages = widths(loss, h, first_band(c, seeded));
    // K gamma, where gamma holds the coefficients of the rows beyond the band (C sigma) as of the
    // last step: kept up to date through the columns of the rows whose coefficient changed
    // (few, once the parts settle), instead of gathering K_QL at every step.
    let (mut gamma, mut k_gamma) = (vec![0.0; n], vec![0.0; n]);
    for (stage, &w) in stages.iter().enumerate() {
        let warm = stage > 0 || seeded;
        let s: Vec<f64> = c.iter().map(|c| if w == 0.0 { 0.5 / c } else { 2.0 * w / c }).collect();
        // With f = K beta + b, beta' K beta = beta' (f - b): the objective costs O(n).
        let obj = |beta: &[f64], f: &[f64], b: f64| -> f64 {
            0.5 * beta.iter().zip(f).map(|(a, f)| a * (f - b)).sum::<f64>() + loss_sum(loss, y, f, c, w)
        };
        // A warm start takes its first parts at the previous band's width: the rows on the
        // margin sit within that band of it, and a narrower one would first put them beyond.
        // A cold start (f = 0) takes them at f = 0: for a classifier every row is beyond the
        // band (u = 1), so the first step needs no factorization, and the next ones only of the
        // rows it leaves in the band (not of all of them, as a kernel ridge start would).
        let width = match warm {
            true if stage > 0 => stages[stage - 1].max(w),
            _ => w,
        };
        let (mut quad, mut lin) = parts(loss, y, &f, width);
        let mut best = obj(&beta, &f, b);
        for _ in 0..max_iter {
            steps += 1;
            let mut beta_new = vec![0.0; n];
            for &i in &lin {
                beta_new[i] = c[i] * loss.excess(y[i], f[i]).1;
            }
            // K gamma brought up to beta_L (its rows of Q are K_QL beta_L).
            let mut change = vec![0.0; n];
            for &j in &lin {
                change[j] = beta_new[j];
            }
            for (ch, g) in change.iter_mut().zip(gamma.iter_mut()) {
                (*ch, *g) = (*ch - *g, *ch);
            }
            for (kg, v) in k_gamma.iter_mut().zip(times_sparse(k, &change)) {
                *kg += v;
            }
            let m = quad.len();
            let b_new = if m == 0 {
                b
            } else {
                // Row i of K_QQ is column quad[i] of the symmetric K (contiguous).
                k.prepare(&quad);
                let mut a = vec![0.0; m * m];
                a.par_chunks_mut(m).with_min_len(64).enumerate().for_each(|(i, row)| {
                    let col = k.column(quad[i]);
                    row.iter_mut().zip(&quad).for_each(|(v, &qj)| *v = col[qj]);
                    row[i] += s[quad[i]];
                });
                let chol = Cholesky::factor(a, m).ok_or_else(|| {
                    Error::invalid(
                        "svm",
                        "the kernel matrix is not positive semi-definite (sigmoid kernel?)",
                    )
                })?;
                let k_lin: Vec<f64> = quad.iter().map(|&i| k_gamma[i]).collect();
                let shift = w - loss.epsilon();
                let rhs: Vec<f64> = quad
                    .iter()
                    .map(|&i| {
                        // f is zero on a cold start: sigma is the label or the target's sign.
                        y[i] + loss.excess(y[i], f[i]).1 * shift
                    })
                    .zip(&k_lin)
                    .map(|(r, kl)| r - kl)
                    .collect();
                let u = chol.solve(&rhs);
                let v = chol.solve(&vec![1.0; m]);
                let lin_sum: f64 = lin.iter().map(|&j| beta_new[j]).sum();
                // 1' (u - b v) = -lin_sum.
                let b_new = (u.iter().sum::<f64>() + lin_sum) / v.iter().sum::<f64>();
                for (q, &i) in quad.iter().enumerate() {
                    beta_new[i] = u[q] - v[q] * b_new;
                }
                b_new
            };
            // f_new = K beta_new + b_new = K gamma + K_Q beta_Q + b_new: the columns of the band's
            // rows only. (f is K beta + b throughout, zero at a cold start.)
            let delta: Vec<f64> = beta_new.iter().zip(&beta).map(|(n, o)| n - o).collect();
            let mut in_band = vec![0.0; n];
            for &i in &quad {
                in_band[i] = beta_new[i];
            }
            let mut f_new = times_sparse(k, &in_band);
            for (v, kg) in f_new.iter_mut().zip(&k_gamma) {
                *v += kg + b_new;
            }
            // The regularizer along the step: with K beta = f - b and K delta = df - db,
            // Q'(t) = delta' K beta + t delta' K delta.
            let start = {
                let db = b_new - b;
                let df: Vec<f64> = f_new.iter().zip(&f).map(|(n, o)| n - o).collect();
                let q1: f64 = delta.iter().zip(&f).map(|(d, f)| d * (f - b)).sum();
                let q2: f64 = delta.iter().zip(&df).map(|(d, df)| d * (df - db)).sum();
                exact_step(loss, y, c, w, &f, &df, q1, q2).unwrap_or(1.0)
            };
            let Some((t, bt, bb, ft, o)) = line_search(best, start, |t| {
                let bt: Vec<f64> = beta.iter().zip(&beta_new).map(|(a, n)| a + t * (n - a)).collect();
                let ft: Vec<f64> = f.iter().zip(&f_new).map(|(a, n)| a + t * (n - a)).collect();
                let bb = b + t * (b_new - b);
                let o = obj(&bt, &ft, bb);
                (bt, bb, ft, o)
            }) else {
                break; // no decrease along the step: the optimum to the arithmetic's precision
            };
            best = o;
            (beta, b, f) = (bt, bb, ft);
            let (next_q, next_l) = parts(loss, y, &f, w);
            if t == 1.0 && next_q == quad && next_l == lin {
                break;
            }
            (quad, lin) = (next_q, next_l);
        }
        objective = best;
    }
    Ok(Solution {
        coef: beta,
        intercept: b,
        steps,
        objective,
    })
}

/// K beta for the symmetric `k` and a `beta` that is zero on most rows: the columns of its
/// non-zero entries, scaled and summed.
fn times_sparse(k: &KernelColumns, beta: &[f64]) -> Vec<f64> {
    let nz: Vec<usize> = (0..beta.len()).filter(|&j| beta[j] != 0.0).collect();
    k.prepare(&nz);
    let cols: Vec<(&[f64], f64)> = nz.iter().map(|&j| (k.column(j), beta[j])).collect();
    let mut out = vec![0.0; k.order()];
    // Blocks of rows in parallel; each reads its part of every column it needs.
    const ROWS: usize = 2048;
    out.par_chunks_mut(ROWS).enumerate().for_each(|(ci, o)| {
        let r0 = ci * ROWS;
        for &(col, b) in &cols {
            let col = &col[r0..r0 + o.len()];
            o.iter_mut().zip(col).for_each(|(o, v)| *o += b * v);
        }
    });
    out
}

/// The exact minimizer in (0, 1] of the objective along a Newton step, phi(t) =
/// Q(t) + sum_i C_i loss(u_i(f + t df)), where the regularizer along the step is the quadratic
/// Q(t) with Q'(t) = `q1` + t `q2`. phi is convex and piecewise quadratic, so phi' is monotone
/// and piecewise linear: Newton's method on phi', kept inside a bracket by bisection, finds its
/// root in a few evaluations of O(rows) each. 1 when phi'(1) <= 0 (to rounding: the full step
/// has not changed the parts); `None` when phi'(0) >= 0 (no descent along the step).
#[allow(clippy::too_many_arguments)]
fn exact_step(loss: SvmLoss, y: &[f64], c: &[f64], h: f64, f: &[f64], df: &[f64], q1: f64, q2: f64) -> Option<f64> {
    // (phi'(t), phi''(t), the scale of phi'(t)'s terms)
    let slope = |t: f64| -> (f64, f64, f64) {
        let (mut d1, mut d2, mut scale) = (q1 + t * q2, q2, q1.abs() + (t * q2).abs());
        for i in 0..y.len() {
            let (u, sigma) = loss.excess(y[i], f[i] + t * df[i]);
            let (l1, l2) = hinge_derivatives(u, h);
            let g = c[i] * l1 * sigma * df[i];
            d1 -= g;
            scale += g.abs();
            d2 += c[i] * l2 * df[i] * df[i];
        }
        (d1, d2, scale)
    };
    let (g0, _, s0) = slope(0.0);
    if g0 >= -1e-12 * s0 {
        return None;
    }
    let (g1, _, s1) = slope(1.0);
    if g1 <= 1e-9 * s1 {
        return Some(1.0);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    let mut t = g0 / (g0 - g1); // the secant's root
    for _ in 0..60 {
        let (g, d2, scale) = slope(t);
        if g.abs() <= 1e-12 * scale {
            break;
        }
        if g < 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        let next = if d2 > 0.0 { t - g / d2 } else { f64::NAN };
        t = if next > lo && next < hi { next } else { 0.5 * (lo + hi) };
        if hi - lo <= 1e-15 {
            break;
        }
    }
    Some(t)
}

/// Backtracking from t = `start`, halving, until the objective (from `eval(t)`) is at most
/// `best` (any finite value when `best` is infinite): (t, the evaluation).
#[allow(clippy::type_complexity)]
fn line_search<A, B, C>(
    best: f64,
    start: f64,
    mut eval: impl FnMut(f64) -> (A, B, C, f64),
) -> Option<(f64, A, B, C, f64)> {
    let mut t = start;
    for _ in 0..50 {
        let (a, b, c, o) = eval(t);
        if (!best.is_finite() && o.is_finite()) || o <= best {
            return Some((t, a, b, c, o));
        }
        t *= 0.5;
    }
    None
}

/// Newton's method on explicit features `z` (rows x features): f = z w + b, objective
/// 1/2 ||w||^2 + sum_i C_i loss(u_i). The Hessian is I (w) plus sum over the band's rows of
/// C_i loss''(u_i) [z_i; 1][z_i; 1]', one product over those rows only, factorized by Cholesky
/// (the intercept's diagonal gets 1e-10 of ridge so that an empty band still factorizes).
pub(crate) fn solve_primal(
    z: &DMatrix<f64>,
    y: &[f64],
    c: &[f64],
    loss: SvmLoss,
    h: f64,
    max_iter: usize,
) -> Result<Solution> {
    let (n, d) = (z.nrows(), z.ncols());
    let (mut w, mut b) = (DVector::<f64>::zeros(d), 0.0);
    let mut f = vec![0.0; n];
    let (mut steps, mut objective) = (0, f64::INFINITY);
    for &width in &widths(loss, h, WIDEST_BAND) {
        let obj = |w: &DVector<f64>, f: &[f64]| 0.5 * w.norm_squared() + loss_sum(loss, y, f, c, width);
        let mut best = obj(&w, &f);
        let mut prev_parts = parts(loss, y, &f, width);
        for _ in 0..max_iter {
            steps += 1;
            // Gradient and the band's weights.
            let mut gw = w.clone();
            let mut gb = 0.0;
            let mut coef = vec![0.0; n]; // C_i loss'(u_i) sigma_i
            let mut band = Vec::new();
            for i in 0..n {
                let (u, sigma) = loss.excess(y[i], f[i]);
                let (d1, d2) = hinge_derivatives(u, width);
                if d1 != 0.0 {
                    coef[i] = c[i] * d1 * sigma;
                    gb -= coef[i];
                }
                if d2 != 0.0 {
                    band.push((i, (c[i] * d2).sqrt()));
                }
            }
            gw -= z.tr_mul(&DVector::from_column_slice(&coef));
            // Hessian: [I + Zq' D Zq, Zq' D 1; ., 1' D 1], one product of the band's scaled
            // rows [sqrt(C_i loss'') z_i, sqrt(C_i loss'')] (row-major) with themselves.
            let (rows, e) = (band.len(), d + 1);
            let mut a = vec![0.0; rows * e];
            for (r, &(i, s)) in band.iter().enumerate() {
                let row = &mut a[r * e..(r + 1) * e];
                for (j, v) in row[..d].iter_mut().enumerate() {
                    *v = s * z[(i, j)];
                }
                row[d] = s;
            }
            let mut hess = vec![0.0; e * e];
            if rows > 0 {
                let at = MatRef::row_major(&a, rows, e);
                matmul_slices(&mut hess, e, at.t(), at, false)?;
            }
            for j in 0..d {
                hess[j * e + j] += 1.0;
            }
            hess[d * e + d] += if band.is_empty() { 1.0 } else { 1e-10 };
            let g: Vec<f64> = gw.iter().copied().chain([gb]).collect();
            let chol =
                Cholesky::factor(hess, e).ok_or_else(|| Error::invalid("svm", "the Newton system is singular"))?;
            let step = chol.solve(&g);
            let dw = DVector::from_iterator(d, step[..d].iter().map(|v| -v));
            let db = -step[d];
            let df = z * &dw;
            // Along the step, 1/2 ||w + t dw||^2 has the derivative w'dw + t dw'dw.
            let df: Vec<f64> = df.iter().map(|v| v + db).collect();
            let start = exact_step(loss, y, c, width, &f, &df, w.dot(&dw), dw.norm_squared()).unwrap_or(1.0);
            let Some((t, wt, bt, ft, o)) = line_search(best, start, |t| {
                let wt = &w + &dw * t;
                let ft: Vec<f64> = (0..n).map(|i| f[i] + t * df[i]).collect();
                let o = obj(&wt, &ft);
                (wt, b + t * db, ft, o)
            }) else {
                break;
            };
            let decrease = best - o;
            best = o;
            (w, b, f) = (wt, bt, ft);
            let now = parts(loss, y, &f, width);
            let settled = t == 1.0 && prev_parts == now;
            prev_parts = now;
            if settled || decrease <= 1e-12 * best.abs().max(1.0) {
                break;
            }
        }
        objective = best;
    }
    Ok(Solution {
        coef: w.iter().copied().collect(),
        intercept: b,
        steps,
        objective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_step_minimizes_the_objective_along_the_step() {
        // Rows with excesses on every piece of the smoothed hinge; a step that moves them across.
        let y = [1.0, -1.0, 1.0, 1.0, -1.0, 1.0];
        let f = [0.2, 0.3, 1.5, -0.4, -2.0, 0.97];
        let df = [1.0, -0.5, -1.2, 2.0, 2.5, 0.1];
        let c = [1.0, 2.0, 1.0, 0.5, 1.0, 3.0];
        let (q0, q1, q2) = (0.3, -0.8, 1.1);
        for (loss, h) in [
            (SvmLoss::Hinge, 0.05),
            (SvmLoss::Hinge, 0.0),
            (SvmLoss::EpsilonInsensitive(0.3), 0.1),
        ] {
            let phi = |t: f64| {
                let ft: Vec<f64> = f.iter().zip(&df).map(|(f, d)| f + t * d).collect();
                q0 + q1 * t + 0.5 * q2 * t * t + loss_sum(loss, &y, &ft, &c, h)
            };
            let t = exact_step(loss, &y, &c, h, &f, &df, q1, q2).unwrap();
            // The grid's best point is no lower than the exact step's, to rounding.
            let grid = (0..=100_000)
                .map(|i| i as f64 / 100_000.0)
                .map(phi)
                .fold(f64::INFINITY, f64::min);
            assert!(
                phi(t) <= grid + 1e-12,
                "{loss:?}: phi({t}) = {} above the grid's {grid}",
                phi(t)
            );
            assert!(t > 0.0 && t <= 1.0);
        }
    }

    #[test]
    fn widths_pass_the_coarse_band_and_never_exceed_epsilon() {
        assert_eq!(widths(SvmLoss::Hinge, 1e-5, 0.5), vec![0.5, 0.5 / 30.0, 1e-3, 1e-5]);
        assert_eq!(widths(SvmLoss::Hinge, 0.01, 0.5), vec![0.5, 0.5 / 30.0, 0.01]);
        assert_eq!(widths(SvmLoss::Hinge, 1e-5, 0.02), vec![0.02, 1e-3, 1e-5]);
        assert_eq!(widths(SvmLoss::Hinge, 0.0, 0.5), vec![0.0]);
        // A tube narrower than the coarse band: from epsilon straight to h.
        assert_eq!(widths(SvmLoss::EpsilonInsensitive(5e-4), 1e-5, 0.5), vec![5e-4, 1e-5]);
        assert_eq!(widths(SvmLoss::EpsilonInsensitive(1e-5), 1e-5, 0.5), vec![1e-5]);
    }

    #[test]
    fn the_first_band_follows_c_within_its_limits() {
        assert_eq!(first_band(&[1.0; 4], false), 1.0 / 60.0);
        assert_eq!(first_band(&[2.0, 4.0], false), 3.0 / 60.0);
        assert_eq!(first_band(&[1000.0], false), 0.5);
        assert_eq!(first_band(&[1e-4], false), 1e-3);
        // A seeded start never begins wider than 0.5 / 30.
        assert_eq!(first_band(&[100.0], true), 0.5 / 30.0);
        assert_eq!(first_band(&[0.6], true), 0.01);
    }
}
