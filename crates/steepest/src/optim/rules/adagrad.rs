//! Adagrad.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Adagrad, as `torch.optim.Adagrad` (defaults: lr 1e-2, lr_decay 0, weight_decay 0,
/// initial_accumulator_value 0, eps 1e-10).
///
/// g <- g + wd p; lr_t = lr / (1 + (t - 1) lr_decay); s <- s + g^2;
/// p <- p - lr_t g / (sqrt(s) + eps), with s starting at initial_accumulator_value.
///
/// Reference: Duchi, Hazan and Singer (2011), "Adaptive subgradient methods for online learning
/// and stochastic optimization", JMLR 12.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Adagrad {
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay.
    pub lr_decay: f64,
    /// Coupled L2 penalty.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum.
    pub initial_accumulator_value: f64,
    /// Term added to the denominator.
    pub eps: f64,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Adagrad {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// Adagrad's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdagradState<T> {
    /// Running sum of squared gradients.
    pub sum: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for Adagrad {
    type State = AdagradState<T>;
    fn name(&self) -> &'static str {
        "adagrad"
    }
    lr_and_decay!();
    fn validate(&self) -> Result<()> {
        check_common("adagrad", self.lr, self.weight_decay, self.eps)?;
        check_range("adagrad", "lr_decay", self.lr_decay, 0.0, f64::MAX, true)?;
        check_range(
            "adagrad",
            "initial_accumulator_value",
            self.initial_accumulator_value,
            0.0,
            f64::MAX,
            true,
        )
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut AdagradState<T>) -> Result<()> {
        ensure(&mut s.sum, p.len(), T::of(self.initial_accumulator_value));
        let clr = T::of(c.lr / (1.0 + (c.step - 1) as f64 * self.lr_decay));
        let (wd, eps) = (T::of(c.weight_decay), T::of(self.eps));
        for ((p, &g), acc) in p.iter_mut().zip(g).zip(s.sum.iter_mut()) {
            let g = effective_grad(g, *p, wd, self.maximize);
            *acc += g * g;
            *p -= clr * g / (acc.sqrt() + eps);
        }
        Ok(())
    }
}
