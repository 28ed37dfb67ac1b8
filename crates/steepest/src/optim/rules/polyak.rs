//! The Polyak step size.

use super::{check_range, lr_and_decay};
use crate::error::{Error, Result};
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Gradient descent with the Polyak step size. Not in `torch.optim`. Defaults: lr 1 (a factor on
/// the step), f_star 0, c 1 (classic Polyak; 0.5 gives the SPS of Loizou et al.),
/// max_step none, eps 1e-12, weight_decay 0.
///
/// gamma = min(max(f(p) - f*, 0) / (c ||g||^2 + eps), max_step), over the gradient of all
/// parameters (the clamp at 0 keeps a too-high f* from turning the step into ascent);
/// g <- g + wd p; p <- p - lr gamma g. Needs the loss: drive it with
/// [`Optimizer::step_with_loss`](crate::optim::Optimizer::step_with_loss).
///
/// References: Polyak (1987), "Introduction to optimization", section 5.3; Loizou et al. (2021),
/// "Stochastic Polyak step-size for SGD", AISTATS.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Polyak {
    /// Factor on the Polyak step.
    pub lr: f64,
    /// A lower bound on (ideally the value of) the minimum.
    pub f_star: f64,
    /// Constant c in the denominator.
    pub c: f64,
    /// Upper bound on gamma, if any.
    pub max_step: Option<f64>,
    /// Term added to the denominator.
    pub eps: f64,
    /// Coupled L2 penalty.
    pub weight_decay: f64,
}

impl Default for Polyak {
    fn default() -> Self {
        Self {
            lr: 1.0,
            f_star: 0.0,
            c: 1.0,
            max_step: None,
            eps: 1e-12,
            weight_decay: 0.0,
        }
    }
}

/// The Polyak rule keeps no state.
pub type PolyakState = ();

impl<T: Scalar> UpdateRule<T> for Polyak {
    type State = PolyakState;
    fn name(&self) -> &'static str {
        "polyak"
    }
    lr_and_decay!();
    fn needs_grad_norm(&self) -> bool {
        true
    }
    fn validate(&self) -> Result<()> {
        super::check_common("polyak", self.lr, self.weight_decay, self.eps)?;
        check_range("polyak", "c", self.c, f64::MIN_POSITIVE, f64::MAX, true)?;
        if let Some(m) = self.max_step {
            check_range("polyak", "max_step", m, 0.0, f64::MAX, true)?;
        }
        Ok(())
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], _s: &mut ()) -> Result<()> {
        let loss = c
            .loss
            .ok_or_else(|| Error::invalid("polyak", "the Polyak step size needs the loss: use step_with_loss"))?;
        let mut gamma = ((loss - self.f_star).max(0.0)) / (self.c * c.grad_norm * c.grad_norm + self.eps);
        if let Some(m) = self.max_step {
            gamma = gamma.min(m);
        }
        let (step, wd) = (T::of(c.lr * gamma), T::of(c.weight_decay));
        for (p, &g) in p.iter_mut().zip(g) {
            *p -= step * (g + wd * *p);
        }
        Ok(())
    }
}
