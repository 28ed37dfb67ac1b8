//! The strong-Wolfe line search (Nocedal and Wright, "Numerical Optimization", 2nd ed.,
//! algorithms 3.5 and 3.6, with cubic interpolation in the zoom phase).
//!
//! Along a descent direction with phi(t) = f(x + t d), an accepted step t satisfies
//! sufficient decrease phi(t) <= phi(0) + c1 t phi'(0) and the curvature condition
//! |phi'(t)| <= c2 |phi'(0)|.

use crate::error::{Error, Result};

/// A point accepted by the line search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WolfePoint {
    /// The step length.
    pub t: f64,
    /// phi(t).
    pub f: f64,
    /// phi'(t).
    pub dphi: f64,
    /// Evaluations of phi made.
    pub evals: usize,
    /// Whether both strong-Wolfe conditions hold (otherwise the best point with sufficient
    /// decrease found within the evaluation budget, or t = 0 when no step decreased the
    /// function: the start is as low as the arithmetic can tell along this direction).
    pub wolfe: bool,
}

/// Minimizer of the cubic through (t1, f1, d1) and (t2, f2, d2), kept inside the bracket's
/// middle 80 % (falls back to bisection).
fn cubic_step(t1: f64, f1: f64, d1: f64, t2: f64, f2: f64, d2: f64) -> f64 {
    let (lo, hi) = (t1.min(t2), t1.max(t2));
    let a = d1 + d2 - 3.0 * (f1 - f2) / (t1 - t2);
    let disc = a * a - d1 * d2;
    let mid = 0.5 * (lo + hi);
    if disc < 0.0 || !disc.is_finite() {
        return mid;
    }
    let b = (t2 - t1).signum() * disc.sqrt();
    let t = t2 - (t2 - t1) * (d2 + b - a) / (d2 - d1 + 2.0 * b);
    let margin = 0.1 * (hi - lo);
    if t.is_finite() && t >= lo + margin && t <= hi - margin {
        t
    } else {
        mid
    }
}

/// Strong-Wolfe line search from step `t0` for `phi` (returning phi(t) and phi'(t)), given
/// phi(0) = `f0` and phi'(0) = `d0` < 0. Typical constants: c1 = 1e-4, c2 = 0.9 (quasi-Newton).
///
/// ```
/// use steepest::optim::strong_wolfe;
/// // phi(t) = (t - 2)^2: the exact minimizer t = 2 satisfies both conditions.
/// let p = strong_wolfe(|t| Ok(((t - 2.0).powi(2), 2.0 * (t - 2.0))), 4.0, -4.0, 1.0, 1e-4, 0.9, 25)?;
/// assert!(p.wolfe && p.f <= 4.0 - 1e-4 * p.t * 4.0 && (2.0 * (p.t - 2.0)).abs() <= 0.9 * 4.0);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn strong_wolfe(
    mut phi: impl FnMut(f64) -> Result<(f64, f64)>,
    f0: f64,
    d0: f64,
    t0: f64,
    c1: f64,
    c2: f64,
    max_evals: usize,
) -> Result<WolfePoint> {
    if d0 >= 0.0 || !d0.is_finite() {
        return Err(Error::invalid(
            "strong_wolfe",
            format!("not a descent direction (phi'(0) = {d0})"),
        ));
    }
    let armijo = |t: f64, f: f64| f <= f0 + c1 * t * d0;
    let curvature = |d: f64| d.abs() <= -c2 * d0;
    let mut evals = 0;
    let (mut t_prev, mut f_prev, mut d_prev) = (0.0, f0, d0);
    let mut t = t0;
    // Bracketing phase.
    let (mut lo, mut hi) = loop {
        let (f, d) = phi(t)?;
        evals += 1;
        if !f.is_finite() || !armijo(t, f) || (evals > 1 && f >= f_prev) {
            break ((t_prev, f_prev, d_prev), (t, f, d));
        }
        if curvature(d) {
            return Ok(WolfePoint {
                t,
                f,
                dphi: d,
                evals,
                wolfe: true,
            });
        }
        if d >= 0.0 {
            break ((t, f, d), (t_prev, f_prev, d_prev));
        }
        if evals >= max_evals {
            return Ok(WolfePoint {
                t,
                f,
                dphi: d,
                evals,
                wolfe: false,
            });
        }
        (t_prev, f_prev, d_prev) = (t, f, d);
        t *= 2.0;
    };
    // Zoom phase: lo always satisfies sufficient decrease and has the lowest value seen.
    while evals < max_evals {
        let t = if hi.1.is_finite() {
            cubic_step(lo.0, lo.1, lo.2, hi.0, hi.1, hi.2)
        } else {
            0.5 * (lo.0 + hi.0)
        };
        if (hi.0 - lo.0).abs() < 1e-12 * lo.0.abs().max(1.0) {
            break;
        }
        let (f, d) = phi(t)?;
        evals += 1;
        if !f.is_finite() || !armijo(t, f) || f >= lo.1 {
            hi = (t, f, d);
        } else {
            if curvature(d) {
                return Ok(WolfePoint {
                    t,
                    f,
                    dphi: d,
                    evals,
                    wolfe: true,
                });
            }
            if d * (hi.0 - lo.0) >= 0.0 {
                hi = lo;
            }
            lo = (t, f, d);
        }
    }
    // lo.0 == 0 when no step decreased the function enough: t = 0, the start (the caller
    // stops there, as PyTorch's and SciPy's L-BFGS do).
    Ok(WolfePoint {
        t: lo.0,
        f: lo.1,
        dphi: lo.2,
        evals,
        wolfe: false,
    })
}
