//! Probabilities from decision values: Platt's sigmoid per pair of classes, and pairwise
//! coupling of the pairs' probabilities into one distribution, as libsvm does.
//!
//! * Platt (1999), with the Newton method and targets of H.-T. Lin, C.-J. Lin and R. C. Weng,
//!   "A note on Platt's probabilistic outputs for support vector machines" (2007):
//!   P(positive | f) = 1 / (1 + exp(A f + B)), fitted on decision values from a cross-validation
//!   (so that they are not the training rows' own), targets (N+ + 1) / (N+ + 2) and
//!   1 / (N- + 2).
//! * Coupling: T.-F. Wu, C.-J. Lin and R. C. Weng, "Probability estimates for multi-class
//!   classification by pairwise coupling" (JMLR 2004), their second method (libsvm's): p
//!   minimizes sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2 with sum p = 1, where r_ij is the
//!   probability of class i in the pair (i, j).

use serde::{Deserialize, Serialize};

/// A fitted sigmoid: P(positive | f) = 1 / (1 + exp(a f + b)).
///
/// ```
/// use steepest::models::Sigmoid;
/// // Decision values of 200 rows: positives at +1, negatives at -1, a few on the wrong side.
/// let f: Vec<f64> = (0..200).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// let y: Vec<bool> = (0..200).map(|i| (i % 2 == 0) != (i % 20 == 0)).collect();
/// let s = Sigmoid::fit(&f, &y);
/// assert!(s.a < 0.0 && s.prob(1.0) > 0.8 && s.prob(-1.0) < 0.2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sigmoid {
    /// Slope (negative when larger decision values mean the positive class).
    pub a: f64,
    /// Offset.
    pub b: f64,
}

impl Sigmoid {
    /// P(positive | f).
    pub fn prob(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        // Stable for either sign of z.
        if z >= 0.0 {
            (-z).exp() / (1.0 + (-z).exp())
        } else {
            1.0 / (1.0 + z.exp())
        }
    }

    /// Fits (a, b) to decision values `f` and labels `positive` (Lin, Lin and Weng's Newton
    /// method with backtracking; at most 100 iterations).
    pub fn fit(f: &[f64], positive: &[bool]) -> Sigmoid {
        let np = positive.iter().filter(|&&p| p).count() as f64;
        let nn = positive.len() as f64 - np;
        let (hi, lo) = ((np + 1.0) / (np + 2.0), 1.0 / (nn + 2.0));
        let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
        let (mut a, mut b) = (0.0, ((nn + 1.0) / (np + 1.0)).ln());
        let objective = |a: f64, b: f64| -> f64 {
            f.iter()
                .zip(&t)
                .map(|(&fi, &ti)| {
                    let z = fi * a + b;
                    if z >= 0.0 {
                        ti * z + (-z).exp().ln_1p()
                    } else {
                        (ti - 1.0) * z + z.exp().ln_1p()
                    }
                })
                .sum()
        };
        let mut fval = objective(a, b);
        for _ in 0..100 {
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0);
            for (&fi, &ti) in f.iter().zip(&t) {
                let z = fi * a + b;
                let (p, q) = if z >= 0.0 {
                    ((-z).exp() / (1.0 + (-z).exp()), 1.0 / (1.0 + (-z).exp()))
                } else {
                    (1.0 / (1.0 + z.exp()), z.exp() / (1.0 + z.exp()))
                };
                let d2 = p * q;
                h11 += fi * fi * d2;
                h22 += d2;
                h21 += fi * d2;
                let d1 = ti - p;
                g1 += fi * d1;
                g2 += d1;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = objective(na, nb);
                if nf < fval + 1e-4 * step * gd {
                    (a, b, fval) = (na, nb, nf);
                    break;
                }
                step /= 2.0;
            }
            if step < 1e-10 {
                break;
            }
        }
        Sigmoid { a, b }
    }
}

/// One distribution over `k` classes from pairwise probabilities: `r[i * k + j]` is the
/// probability of class i in the pair (i, j) (and `r[j * k + i] = 1 - r[i * k + j]`).
///
/// ```
/// use steepest::models::couple;
/// // Pairwise probabilities consistent with p = (0.5, 0.3, 0.2): r_ij = p_i / (p_i + p_j).
/// let p = [0.5, 0.3, 0.2];
/// let r: Vec<f64> = (0..9).map(|x| { let (i, j) = (x / 3, x % 3); if i == j { 0.0 } else { p[i] / (p[i] + p[j]) } }).collect();
/// let q = couple(&r, 3);
/// assert!(q.iter().zip(&p).all(|(a, b)| (a - b).abs() < 1e-3));
/// ```
pub fn couple(r: &[f64], k: usize) -> Vec<f64> {
    let mut q = vec![0.0; k * k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t * k + t] += r[j * k + t] * r[j * k + t];
                q[t * k + j] = -r[j * k + t] * r[t * k + j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    let eps = 0.005 / k as f64;
    for _ in 0..100.max(k) {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t * k + j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}
