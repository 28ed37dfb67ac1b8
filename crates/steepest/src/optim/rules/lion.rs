//! Lion.

use super::{check_common, check_range, ensure, lr_and_decay, sign};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Lion (EvoLved Sign Momentum). Not in `torch.optim`; names and defaults follow the paper and
/// optax (lr 1e-4, betas (0.9, 0.99), weight_decay 0).
///
/// c = b1 m + (1 - b1) g; p <- p - lr (sign(c) + wd p); m <- b2 m + (1 - b2) g,
/// with sign(0) = 0. The weight decay is decoupled.
///
/// Reference: Chen et al. (2023), "Symbolic discovery of optimization algorithms", NeurIPS.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Lion {
    /// Learning rate.
    pub lr: f64,
    /// (b1: interpolation for the update, b2: decay of the momentum).
    pub betas: (f64, f64),
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Lion {
    fn default() -> Self {
        Self {
            lr: 1e-4,
            betas: (0.9, 0.99),
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// Lion's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LionState<T> {
    /// Momentum m.
    pub exp_avg: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for Lion {
    type State = LionState<T>;
    fn name(&self) -> &'static str {
        "lion"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("lion", self.lr, self.weight_decay, 0.0)?;
        check_range("lion", "beta1", self.betas.0, 0.0, 1.0, true)?;
        check_range("lion", "beta2", self.betas.1, 0.0, 1.0, true)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut LionState<T>) -> Result<()> {
        ensure(&mut s.exp_avg, p.len(), T::zero());
        let (lr, wd, one) = (T::of(c.lr), T::of(c.weight_decay), T::one());
        let (b1, b2) = (T::of(self.betas.0), T::of(self.betas.1));
        for ((p, &g), m) in p.iter_mut().zip(g).zip(s.exp_avg.iter_mut()) {
            let g = if self.maximize { -g } else { g };
            let interp = b1 * *m + (one - b1) * g;
            *p -= lr * (sign(interp) + wd * *p);
            *m = b2 * *m + (one - b2) * g;
        }
        Ok(())
    }
}
