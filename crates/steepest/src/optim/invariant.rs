//! The settings of normalized, adaptive, importance-invariant steps, the linear fast path's own
//! per-example rule (Vowpal Wabbit's default update; see `linear::sgd` for the arithmetic).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Per-example AdaGrad, normalized and importance-invariant, as Vowpal Wabbit's default update:
/// * adaptive (Duchi, Hazan and Singer 2011): feature j's rate falls as 1 / sqrt(G_j), G_j the
///   sum of its squared gradients;
/// * normalized (Ross, Mineiro and Langford, "Normalized Online Learning", UAI 2013): the rate
///   is also divided by N_j, the largest |x_j| seen (a weight learned at a smaller scale is
///   rescaled when N_j grows), and multiplied by sqrt(t / sum_s ||x_s||_N^2), the inverse root
///   mean squared normalized row norm, so that rows with many features do not take larger steps;
/// * importance-invariant (Karampatziakis and Langford, "Online Importance Weight Aware
///   Updates", UAI 2011): with r_j = 1 / ((sqrt(G_j) + eps) N_j) and h = sum_j x_j^2 r_j over
///   the row's features and the constant, the decision value follows dz/dt = -lr' h L'(z) for t
///   in [0, 1] in closed form: the squared loss approaches its target without passing it, the
///   hinge stops at the margin, the log loss moves by u + e^u = u0 + e^u0 + lr' h (u = y z,
///   solved with the Lambert function). Each weight takes its share x_j r_j of that move.
///
/// A large rate can therefore not overshoot, which keeps one pass over rare features
/// calibrated. Only linear models with batch size 1 take it, without a penalty.
///
/// Defaults: lr 0.5 (Vowpal Wabbit's), eps 1e-10.
///
/// ```
/// use steepest::optim::{Invariant, OptimizerSpec};
/// let s = OptimizerSpec::from_name("invariant").unwrap();
/// assert!(matches!(s, OptimizerSpec::Invariant(Invariant { lr, .. }) if lr == 0.5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invariant {
    /// Learning rate.
    pub lr: f64,
    /// Term added to sqrt(G) in the denominator.
    pub eps: f64,
}

impl Default for Invariant {
    fn default() -> Self {
        Self { lr: 0.5, eps: 1e-10 }
    }
}

impl Invariant {
    /// Checks lr > 0 and eps >= 0, finite.
    pub fn check(&self) -> Result<()> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid(
                "invariant",
                format!("lr {} must be positive and finite", self.lr),
            ));
        }
        if !(self.eps >= 0.0 && self.eps.is_finite()) {
            return Err(Error::invalid(
                "invariant",
                format!("eps {} must be >= 0 and finite", self.eps),
            ));
        }
        Ok(())
    }
}
