//! Penalties on a linear model's weights (never on its intercept).

use crate::error::{Error, Result};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// R(w) with strength alpha: none; L2: alpha ||w||^2 / 2; L1: alpha ||w||_1; elastic net:
/// alpha (l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2) (scikit-learn's convention).
///
/// The smooth part enters the gradient; the L1 part is applied after each optimizer step as the
/// proximal operator w <- sign(w) max(|w| - lr alpha l1_ratio, 0) (soft thresholding), so
/// coefficients become exactly zero. With adaptive optimizers the threshold uses the base
/// learning rate, not the per-coordinate one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Penalty {
    /// No penalty.
    #[default]
    None,
    /// Ridge.
    L2 {
        /// Strength.
        alpha: f64,
    },
    /// Lasso.
    L1 {
        /// Strength.
        alpha: f64,
    },
    /// Elastic net.
    ElasticNet {
        /// Strength.
        alpha: f64,
        /// Share of L1 in [0, 1].
        l1_ratio: f64,
    },
}

impl Penalty {
    /// `(l1, l2)` strengths: R = l1 ||w||_1 + l2 ||w||^2 / 2.
    pub fn strengths(&self) -> (f64, f64) {
        match *self {
            Penalty::None => (0.0, 0.0),
            Penalty::L2 { alpha } => (0.0, alpha),
            Penalty::L1 { alpha } => (alpha, 0.0),
            Penalty::ElasticNet { alpha, l1_ratio } => (alpha * l1_ratio, alpha * (1.0 - l1_ratio)),
        }
    }

    /// Checks alpha >= 0 and l1_ratio in [0, 1].
    pub fn validate(&self) -> Result<()> {
        if let Penalty::ElasticNet { l1_ratio, .. } = self {
            if !(0.0..=1.0).contains(l1_ratio) {
                return Err(Error::invalid(
                    "penalty",
                    format!("l1_ratio = {l1_ratio} must be in [0, 1]"),
                ));
            }
        }
        let (l1, l2) = self.strengths();
        if !(l1 >= 0.0 && l2 >= 0.0 && l1.is_finite() && l2.is_finite()) {
            return Err(Error::invalid("penalty", "alpha must be a finite number >= 0"));
        }
        Ok(())
    }

    /// alpha R(w).
    pub fn value<T: Scalar>(&self, w: &[T]) -> f64 {
        let (l1, l2) = self.strengths();
        w.iter()
            .map(|v| v.as_f64())
            .map(|v| l1 * v.abs() + l2 * v * v / 2.0)
            .sum()
    }

    /// Adds the gradient of the smooth (L2) part to `g`.
    pub fn add_smooth_grad<T: Scalar>(&self, w: &[T], g: &mut [T]) {
        let l2 = T::of(self.strengths().1);
        if l2 != T::zero() {
            g.iter_mut().zip(w).for_each(|(g, &w)| *g += l2 * w);
        }
    }

    /// The proximal step of the L1 part for step size `lr`.
    pub fn prox<T: Scalar>(&self, w: &mut [T], lr: f64) {
        let t = self.strengths().0 * lr;
        if t > 0.0 {
            let t = T::of(t);
            w.iter_mut()
                .for_each(|v| *v = v.signum() * (v.abs() - t).max(T::zero()));
        }
    }
}
