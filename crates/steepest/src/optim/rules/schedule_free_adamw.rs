//! Schedule-Free AdamW.

use super::schedule_free_sgd::{eval_point, schedule_free_weights};
use super::{check_common, check_range, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Schedule-Free AdamW, as `AdamWScheduleFree` of the authors' `schedulefree` package (defaults:
/// lr 0.0025, betas (0.9, 0.999), eps 1e-8, weight_decay 0, warmup_steps 0, r 0,
/// weight_lr_power 2).
///
/// As [`ScheduleFreeSgd`](super::ScheduleFreeSgd) with the gradient normalized Adam-style:
/// v <- b2 v + (1 - b2) g^2; d = g / (sqrt(v / (1 - b2^t)) + eps) + wd y;
/// y <- y + c (z - y) + lr_k (b1 (1 - c) - 1) d; z <- z - lr_k d. Evaluate at
/// x = (y - (1 - b1) z) / b1.
///
/// Reference: Defazio et al. (2024), "The road less scheduled", NeurIPS.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleFreeAdamW {
    /// Learning rate.
    pub lr: f64,
    /// (b1: interpolation, b2: second-moment decay).
    pub betas: (f64, f64),
    /// Term added to the denominator.
    pub eps: f64,
    /// Weight decay, applied at y after normalization.
    pub weight_decay: f64,
    /// Linear warmup length in steps.
    pub warmup_steps: u64,
    /// Polynomial weighting power.
    pub r: f64,
    /// Power of lr_max in the averaging weights.
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeAdamW {
    fn default() -> Self {
        Self {
            lr: 0.0025,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// Schedule-Free AdamW's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScheduleFreeAdamWState<T> {
    /// The base sequence z.
    pub z: Vec<T>,
    /// Second moment v.
    pub exp_avg_sq: Vec<T>,
    /// Sum of averaging weights so far.
    pub weight_sum: f64,
    /// Largest learning rate seen.
    pub lr_max: f64,
}

impl<T: Scalar> UpdateRule<T> for ScheduleFreeAdamW {
    type State = ScheduleFreeAdamWState<T>;
    fn name(&self) -> &'static str {
        "schedule-free-adamw"
    }
    lr_and_decay!();
    fn validate(&self) -> Result<()> {
        check_common("schedule-free-adamw", self.lr, self.weight_decay, self.eps)?;
        check_range("schedule-free-adamw", "beta1", self.betas.0, 0.0, 1.0, false)?;
        check_range("schedule-free-adamw", "beta2", self.betas.1, 0.0, 1.0, false)?;
        if self.betas.0 == 0.0 {
            return Err(crate::Error::invalid("schedule-free-adamw", "beta1 must be above 0"));
        }
        Ok(())
    }
    fn update(
        &self,
        c: &StepCtx,
        _shape: &[usize],
        p: &mut [T],
        g: &[T],
        s: &mut ScheduleFreeAdamWState<T>,
    ) -> Result<()> {
        if s.z.len() != p.len() {
            s.z = p.to_vec();
        }
        ensure(&mut s.exp_avg_sq, p.len(), T::zero());
        let (b1, b2) = self.betas;
        let bc2 = T::of(1.0 - b2.powi(c.step as i32));
        let (lr, ckp1) = schedule_free_weights(
            c.lr,
            c.step,
            self.warmup_steps,
            self.r,
            self.weight_lr_power,
            &mut s.weight_sum,
            &mut s.lr_max,
        );
        let (tlr, tc, wd, eps, tb2, one) = (
            T::of(lr),
            T::of(ckp1),
            T::of(c.weight_decay),
            T::of(self.eps),
            T::of(b2),
            T::one(),
        );
        let y_coef = T::of(lr * (b1 * (1.0 - ckp1) - 1.0));
        for i in 0..p.len() {
            let v = &mut s.exp_avg_sq[i];
            *v = tb2 * *v + (one - tb2) * g[i] * g[i];
            let y = &mut p[i];
            let d = g[i] / ((*v / bc2).sqrt() + eps) + wd * *y;
            let z = &mut s.z[i];
            *y = *y + tc * (*z - *y) + y_coef * d;
            *z -= tlr * d;
        }
        Ok(())
    }
    fn eval_point(&self, p: &[T], s: &ScheduleFreeAdamWState<T>) -> Option<Vec<T>> {
        eval_point(p, &s.z, self.betas.0)
    }
}
