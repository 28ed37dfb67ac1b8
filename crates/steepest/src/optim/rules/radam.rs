//! RAdam.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// RAdam, as `torch.optim.RAdam` (defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0, decoupled_weight_decay false).
///
/// g <- g + wd p (or p <- p (1 - lr wd) when decoupled); m, v as Adam; m^ = m / (1 - b1^t);
/// rho_inf = 2 / (1 - b2) - 1; rho_t = rho_inf - 2 t b2^t / (1 - b2^t);
/// if rho_t > 5: l_t = sqrt(1 - b2^t) / (sqrt(v) + eps),
/// r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
/// p <- p - lr m^ r_t l_t; otherwise p <- p - lr m^.
///
/// Reference: Liu et al. (2020), "On the variance of the adaptive learning rate and beyond", ICLR.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RAdam {
    /// Learning rate.
    pub lr: f64,
    /// (b1, b2).
    pub betas: (f64, f64),
    /// Term added to the denominator.
    pub eps: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Decay the weights directly instead of adding to the gradient.
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for RAdam {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// RAdam's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RAdamState<T> {
    /// First moment m.
    pub exp_avg: Vec<T>,
    /// Second moment v.
    pub exp_avg_sq: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for RAdam {
    type State = RAdamState<T>;
    fn name(&self) -> &'static str {
        "radam"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("radam", self.lr, self.weight_decay, self.eps)?;
        check_range("radam", "beta1", self.betas.0, 0.0, 1.0, false)?;
        check_range("radam", "beta2", self.betas.1, 0.0, 1.0, false)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut RAdamState<T>) -> Result<()> {
        let n = p.len();
        ensure(&mut s.exp_avg, n, T::zero());
        ensure(&mut s.exp_avg_sq, n, T::zero());
        let t = c.step as i32;
        let (b1, b2) = self.betas;
        let bc1 = 1.0 - b1.powi(t);
        let bc2 = 1.0 - b2.powi(t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t as f64 * b2.powi(t) / bc2;
        let rect = (rho_t > 5.0)
            .then(|| ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).sqrt());
        let (coupled, decay) = if self.decoupled_weight_decay {
            (T::zero(), T::of(1.0 - c.lr * c.weight_decay))
        } else {
            (T::of(c.weight_decay), T::one())
        };
        let (lr, eps, one) = (T::of(c.lr), T::of(self.eps), T::one());
        let (tb1, tb2, tbc1, sbc2) = (T::of(b1), T::of(b2), T::of(bc1), T::of(bc2.sqrt()));
        for i in 0..n {
            let g = effective_grad(g[i], p[i], coupled, self.maximize);
            p[i] *= decay;
            let m = &mut s.exp_avg[i];
            *m = tb1 * *m + (one - tb1) * g;
            let v = &mut s.exp_avg_sq[i];
            *v = tb2 * *v + (one - tb2) * g * g;
            let m_hat = *m / tbc1;
            match rect {
                Some(r) => p[i] -= lr * m_hat * T::of(r) * sbc2 / (v.sqrt() + eps),
                None => p[i] -= lr * m_hat,
            }
        }
        Ok(())
    }
}
