//! RMSprop.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// RMSprop, as `torch.optim.RMSprop` (defaults: lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0,
/// momentum 0, centered false).
///
/// g <- g + wd p; v <- alpha v + (1 - alpha) g^2; v~ = v, or when centered
/// a <- alpha a + (1 - alpha) g and v~ = v - a^2; with momentum mu > 0:
/// b <- mu b + g / (sqrt(v~) + eps) and p <- p - lr b; otherwise p <- p - lr g / (sqrt(v~) + eps).
///
/// Reference: Hinton, Srivastava and Swersky, Neural Networks for Machine Learning, lecture 6e
/// (2012); the centered form is from Graves (2013), "Generating sequences with recurrent neural
/// networks".
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RmsProp {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    /// Term added to the denominator.
    pub eps: f64,
    /// Coupled L2 penalty.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Normalize by an estimate of the gradient's variance instead of its second moment.
    pub centered: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// RMSprop's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RmsPropState<T> {
    /// Average of squared gradients v.
    pub square_avg: Vec<T>,
    /// Average of gradients a (centered only).
    pub grad_avg: Vec<T>,
    /// Momentum buffer b (momentum > 0 only).
    pub momentum_buffer: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for RmsProp {
    type State = RmsPropState<T>;
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("rmsprop", self.lr, self.weight_decay, self.eps)?;
        check_range("rmsprop", "alpha", self.alpha, 0.0, 1.0, true)?;
        check_range("rmsprop", "momentum", self.momentum, 0.0, 1.0, true)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut RmsPropState<T>) -> Result<()> {
        let n = p.len();
        ensure(&mut s.square_avg, n, T::zero());
        if self.centered {
            ensure(&mut s.grad_avg, n, T::zero());
        }
        if self.momentum > 0.0 {
            ensure(&mut s.momentum_buffer, n, T::zero());
        }
        let (lr, wd, eps, alpha, mu) = (
            T::of(c.lr),
            T::of(c.weight_decay),
            T::of(self.eps),
            T::of(self.alpha),
            T::of(self.momentum),
        );
        let one = T::one();
        for i in 0..n {
            let g = effective_grad(g[i], p[i], wd, self.maximize);
            let v = &mut s.square_avg[i];
            *v = alpha * *v + (one - alpha) * g * g;
            let mut vt = *v;
            if self.centered {
                let a = &mut s.grad_avg[i];
                *a = alpha * *a + (one - alpha) * g;
                vt -= *a * *a;
            }
            let denom = vt.sqrt() + eps;
            if self.momentum > 0.0 {
                let b = &mut s.momentum_buffer[i];
                *b = mu * *b + g / denom;
                p[i] -= lr * *b;
            } else {
                p[i] -= lr * g / denom;
            }
        }
        Ok(())
    }
}
