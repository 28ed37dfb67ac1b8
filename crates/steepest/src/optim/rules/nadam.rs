//! NAdam.

use super::{check_common, check_range, effective_grad, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// NAdam, as `torch.optim.NAdam` (defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0, momentum_decay 4e-3, decoupled_weight_decay false).
///
/// g <- g + wd p (or p <- p (1 - lr wd) when decoupled); mu_t = b1 (1 - 0.5 * 0.96^(t psi)) with
/// psi = momentum_decay; m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
/// m^ = mu_{t+1} m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t) g / (1 - prod_{i<=t} mu_i);
/// v^ = v / (1 - b2^t); p <- p - lr m^ / (sqrt(v^) + eps).
///
/// Reference: Dozat (2016), "Incorporating Nesterov momentum into Adam", ICLR workshop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct NAdam {
    /// Learning rate.
    pub lr: f64,
    /// (b1, b2).
    pub betas: (f64, f64),
    /// Term added to the denominator.
    pub eps: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// psi in the momentum schedule.
    pub momentum_decay: f64,
    /// Decay the weights directly (as AdamW) instead of adding to the gradient.
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for NAdam {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// NAdam's per-parameter state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NAdamState<T> {
    /// First moment m.
    pub exp_avg: Vec<T>,
    /// Second moment v.
    pub exp_avg_sq: Vec<T>,
    /// prod_{i<=t} mu_i.
    pub mu_product: f64,
}

impl<T> Default for NAdamState<T> {
    fn default() -> Self {
        Self {
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
            mu_product: 1.0,
        }
    }
}

impl<T: Scalar> UpdateRule<T> for NAdam {
    type State = NAdamState<T>;
    fn name(&self) -> &'static str {
        "nadam"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("nadam", self.lr, self.weight_decay, self.eps)?;
        check_range("nadam", "beta1", self.betas.0, 0.0, 1.0, false)?;
        check_range("nadam", "beta2", self.betas.1, 0.0, 1.0, false)?;
        check_range("nadam", "momentum_decay", self.momentum_decay, 0.0, f64::MAX, true)
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut NAdamState<T>) -> Result<()> {
        let n = p.len();
        ensure(&mut s.exp_avg, n, T::zero());
        ensure(&mut s.exp_avg_sq, n, T::zero());
        let t = c.step as f64;
        let (b1, b2) = self.betas;
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        s.mu_product *= mu;
        let bc2 = 1.0 - b2.powi(c.step as i32);
        let coef_g = T::of(c.lr * (1.0 - mu) / (1.0 - s.mu_product));
        let coef_m = T::of(c.lr * mu_next / (1.0 - s.mu_product * mu_next));
        let (coupled, decay) = if self.decoupled_weight_decay {
            (T::zero(), T::of(1.0 - c.lr * c.weight_decay))
        } else {
            (T::of(c.weight_decay), T::one())
        };
        let (b1, b2, bc2, eps, one) = (T::of(b1), T::of(b2), T::of(bc2), T::of(self.eps), T::one());
        for i in 0..n {
            let g = effective_grad(g[i], p[i], coupled, self.maximize);
            p[i] *= decay;
            // torch.optim.NAdam's operations in its order: exp_avg.lerp_(g, 1 - b1), then two
            // addcdiv_ (the gradient's term, then the momentum's), so that f64 runs agree to
            // the last bits.
            let m = &mut s.exp_avg[i];
            *m += (one - b1) * (g - *m);
            let v = &mut s.exp_avg_sq[i];
            *v = b2 * *v + (one - b2) * (g * g);
            let denom = (*v / bc2).sqrt() + eps;
            p[i] += -coef_g * (g / denom);
            p[i] += -coef_m * (*m / denom);
        }
        Ok(())
    }
}
