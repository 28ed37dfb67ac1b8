//! Adamax.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Adamax, as `torch.optim.Adamax` (defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0).
///
/// g <- g + wd p; m <- b1 m + (1 - b1) g; u <- max(b2 u, |g| + eps);
/// p <- p - lr m / ((1 - b1^t) u).
///
/// Reference: Kingma and Ba (2015), section 7.1 (the infinity-norm variant of Adam).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Adamax {
    /// Learning rate.
    pub lr: f64,
    /// (b1, b2).
    pub betas: (f64, f64),
    /// Term added to |g|.
    pub eps: f64,
    /// Coupled L2 penalty.
    pub weight_decay: f64,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Adamax {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// Adamax's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdamaxState<T> {
    /// First moment m.
    pub exp_avg: Vec<T>,
    /// Exponentially weighted infinity norm u.
    pub exp_inf: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for Adamax {
    type State = AdamaxState<T>;
    fn name(&self) -> &'static str {
        "adamax"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("adamax", self.lr, self.weight_decay, self.eps)?;
        check_range("adamax", "beta1", self.betas.0, 0.0, 1.0, false)?;
        check_range("adamax", "beta2", self.betas.1, 0.0, 1.0, false)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut AdamaxState<T>) -> Result<()> {
        let n = p.len();
        ensure(&mut s.exp_avg, n, T::zero());
        ensure(&mut s.exp_inf, n, T::zero());
        let (b1, b2) = self.betas;
        let clr = T::of(c.lr / (1.0 - b1.powi(c.step as i32)));
        let (b1, b2, wd, eps, one) = (T::of(b1), T::of(b2), T::of(c.weight_decay), T::of(self.eps), T::one());
        for i in 0..n {
            let g = effective_grad(g[i], p[i], wd, self.maximize);
            let m = &mut s.exp_avg[i];
            *m = b1 * *m + (one - b1) * g;
            let u = &mut s.exp_inf[i];
            *u = (b2 * *u).max(g.abs() + eps);
            p[i] -= clr * *m / *u;
        }
        Ok(())
    }
}
