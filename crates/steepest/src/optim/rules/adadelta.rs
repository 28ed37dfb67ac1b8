//! Adadelta.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Adadelta, as `torch.optim.Adadelta` (defaults: lr 1.0, rho 0.9, eps 1e-6, weight_decay 0).
///
/// g <- g + wd p; v <- rho v + (1 - rho) g^2; dx = sqrt(u + eps) / sqrt(v + eps) g;
/// u <- rho u + (1 - rho) dx^2; p <- p - lr dx.
///
/// Reference: Zeiler (2012), "ADADELTA: an adaptive learning rate method", arXiv:1212.5701.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Adadelta {
    /// Scale of the step.
    pub lr: f64,
    /// Decay of the running averages.
    pub rho: f64,
    /// Term inside the square roots.
    pub eps: f64,
    /// Coupled L2 penalty.
    pub weight_decay: f64,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Adadelta {
    fn default() -> Self {
        Self {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// Adadelta's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdadeltaState<T> {
    /// Running average of squared gradients v.
    pub square_avg: Vec<T>,
    /// Running average of squared steps u.
    pub acc_delta: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for Adadelta {
    type State = AdadeltaState<T>;
    fn name(&self) -> &'static str {
        "adadelta"
    }
    lr_and_decay!();
    fn validate(&self) -> Result<()> {
        check_common("adadelta", self.lr, self.weight_decay, self.eps)?;
        check_range("adadelta", "rho", self.rho, 0.0, 1.0, true)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut AdadeltaState<T>) -> Result<()> {
        let n = p.len();
        ensure(&mut s.square_avg, n, T::zero());
        ensure(&mut s.acc_delta, n, T::zero());
        let (lr, wd, eps, rho) = (T::of(c.lr), T::of(c.weight_decay), T::of(self.eps), T::of(self.rho));
        let one = T::one();
        for i in 0..n {
            let g = effective_grad(g[i], p[i], wd, self.maximize);
            let v = &mut s.square_avg[i];
            *v = rho * *v + (one - rho) * g * g;
            let u = &mut s.acc_delta[i];
            let dx = (*u + eps).sqrt() / (*v + eps).sqrt() * g;
            *u = rho * *u + (one - rho) * dx * dx;
            p[i] -= lr * dx;
        }
        Ok(())
    }
}
