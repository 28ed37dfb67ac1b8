//! Schedule-Free SGD.

use super::{check_common, check_range, lr_and_decay};
use crate::error::Result;
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Schedule-Free SGD, as `SGDScheduleFree` of the authors' `schedulefree` package (defaults:
/// lr 1.0, momentum 0.9, weight_decay 0, warmup_steps 0, r 0, weight_lr_power 2). No learning-rate
/// schedule is needed (nor should one be used): the method averages instead.
///
/// The parameter holds y, where the gradient is taken; the state holds z. With k = t - 1:
/// lr_k = lr min(1, (k + 1) / warmup_steps); lr_max = max(lr_max, lr_k);
/// w_k = (k + 1)^r lr_max^weight_lr_power; c = w_k / sum_{i<=k} w_i; g <- g + wd y;
/// y <- y + c (z - y) + lr_k (beta (1 - c) - 1) g; z <- z - lr_k g (z starts at y).
/// The evaluation point ([`Optimizer::eval_params`](crate::optim::Optimizer::eval_params)) is
/// x = (y - (1 - beta) z) / beta.
///
/// Reference: Defazio et al. (2024), "The road less scheduled", NeurIPS.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleFreeSgd {
    /// Learning rate.
    pub lr: f64,
    /// Interpolation beta between the average x and the base sequence z.
    pub momentum: f64,
    /// Coupled L2 penalty, taken at y.
    pub weight_decay: f64,
    /// Linear warmup length in steps.
    pub warmup_steps: u64,
    /// Polynomial weighting power of the average.
    pub r: f64,
    /// Power of lr_max in the averaging weights.
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeSgd {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// Schedule-Free SGD's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScheduleFreeSgdState<T> {
    /// The base sequence z.
    pub z: Vec<T>,
    /// Sum of averaging weights so far.
    pub weight_sum: f64,
    /// Largest learning rate seen.
    pub lr_max: f64,
}

/// `(lr_k, c_{k+1})` of the schedule-free averaging at 1-based step `t`; updates the sums.
pub(crate) fn schedule_free_weights(
    lr: f64,
    t: u64,
    warmup: u64,
    r: f64,
    power: f64,
    weight_sum: &mut f64,
    lr_max: &mut f64,
) -> (f64, f64) {
    let k = (t - 1) as f64;
    let sched = if warmup > 0 && t <= warmup {
        (k + 1.0) / warmup as f64
    } else {
        1.0
    };
    let lr = lr * sched;
    *lr_max = lr_max.max(lr);
    let weight = (k + 1.0).powf(r) * lr_max.powf(power);
    *weight_sum += weight;
    let ckp1 = if *weight_sum > 0.0 { weight / *weight_sum } else { 0.0 };
    (lr, ckp1)
}

impl<T: Scalar> UpdateRule<T> for ScheduleFreeSgd {
    type State = ScheduleFreeSgdState<T>;
    fn name(&self) -> &'static str {
        "schedule-free-sgd"
    }
    lr_and_decay!();
    fn validate(&self) -> Result<()> {
        check_common("schedule-free-sgd", self.lr, self.weight_decay, 0.0)?;
        check_range("schedule-free-sgd", "momentum", self.momentum, 0.0, 1.0, false)?;
        if self.momentum == 0.0 {
            return Err(crate::Error::invalid("schedule-free-sgd", "momentum must be above 0"));
        }
        Ok(())
    }
    fn update(
        &self,
        c: &StepCtx,
        _shape: &[usize],
        p: &mut [T],
        g: &[T],
        s: &mut ScheduleFreeSgdState<T>,
    ) -> Result<()> {
        if s.z.len() != p.len() {
            s.z = p.to_vec();
        }
        let (lr, ckp1) = schedule_free_weights(
            c.lr,
            c.step,
            self.warmup_steps,
            self.r,
            self.weight_lr_power,
            &mut s.weight_sum,
            &mut s.lr_max,
        );
        let (tlr, tc, wd) = (T::of(lr), T::of(ckp1), T::of(c.weight_decay));
        let y_coef = T::of(lr * (self.momentum * (1.0 - ckp1) - 1.0));
        for ((y, &g), z) in p.iter_mut().zip(g).zip(s.z.iter_mut()) {
            let g = g + wd * *y;
            *y = *y + tc * (*z - *y) + y_coef * g;
            *z -= tlr * g;
        }
        Ok(())
    }
    fn eval_point(&self, p: &[T], s: &ScheduleFreeSgdState<T>) -> Option<Vec<T>> {
        eval_point(p, &s.z, self.momentum)
    }
}

/// x = (y - (1 - beta) z) / beta, computed as y + (1 - 1/beta)(z - y).
pub(crate) fn eval_point<T: Scalar>(y: &[T], z: &[T], beta: f64) -> Option<Vec<T>> {
    if z.len() != y.len() {
        return None;
    }
    let w = T::of(1.0 - 1.0 / beta);
    Some(y.iter().zip(z).map(|(&y, &z)| y + w * (z - y)).collect())
}
