//! AdamW: Adam with decoupled weight decay.

use super::adam::{Adam, AdamState};
use super::lr_and_decay;
use crate::error::Result;
use crate::optim::{PartUpdate, StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// AdamW, as `torch.optim.AdamW` (defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 1e-2, amsgrad false).
///
/// p <- p (1 - lr wd); then the Adam step of [`Adam`] without the coupled penalty:
/// m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; p <- p - lr m^ / (sqrt(v^) + eps).
///
/// Reference: Loshchilov and Hutter (2019), "Decoupled weight decay regularization", ICLR.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamW {
    /// Learning rate.
    pub lr: f64,
    /// (b1, b2).
    pub betas: (f64, f64),
    /// Term added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// AMSGrad.
    pub amsgrad: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for AdamW {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamW {
    pub(crate) fn as_adam(&self) -> Adam {
        Adam {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            decoupled_weight_decay: true,
            maximize: self.maximize,
        }
    }
}

impl<T: Scalar> UpdateRule<T> for AdamW {
    type State = AdamState<T>;
    fn name(&self) -> &'static str {
        "adamw"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        self.as_adam().check("adamw")
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut AdamState<T>) -> Result<()> {
        self.as_adam().apply(c, p, g, s);
        Ok(())
    }
    fn part_update<'s>(&self, c: &StepCtx, len: usize, s: &'s mut AdamState<T>) -> Option<PartUpdate<'s, T>> {
        Some(self.as_adam().part(c, len, s))
    }
}
