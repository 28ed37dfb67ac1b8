//! Schedules that are closed-form functions of the step count t (0-based), with PyTorch's
//! names and formulas unless stated.

use super::ClosedForm;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

macro_rules! named {
    ($t:ty, $n:literal) => {
        fn name(&self) -> &'static str {
            $n
        }
    };
}

/// lr(t) = lr.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Constant {
    /// The learning rate.
    pub lr: f64,
}
impl ClosedForm for Constant {
    named!(Constant, "constant");
    fn at(&self, _t: u64) -> f64 {
        self.lr
    }
}

/// `StepLR`: lr(t) = lr gamma^floor(t / step_size) (gamma defaults to 0.1 in PyTorch).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// Initial learning rate.
    pub lr: f64,
    /// Steps between decays.
    pub step_size: u64,
    /// Decay factor.
    pub gamma: f64,
}
impl ClosedForm for Step {
    named!(Step, "step");
    fn at(&self, t: u64) -> f64 {
        self.lr * self.gamma.powi((t / self.step_size.max(1)) as i32)
    }
}

/// `MultiStepLR`: lr(t) = lr gamma^(number of milestones <= t).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MultiStep {
    /// Initial learning rate.
    pub lr: f64,
    /// Steps at which to decay.
    pub milestones: Vec<u64>,
    /// Decay factor.
    pub gamma: f64,
}
impl ClosedForm for MultiStep {
    named!(MultiStep, "multi-step");
    fn at(&self, t: u64) -> f64 {
        self.lr
            * self
                .gamma
                .powi(self.milestones.iter().filter(|&&m| m <= t).count() as i32)
    }
}

/// `ExponentialLR`: lr(t) = lr gamma^t.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Exponential {
    /// Initial learning rate.
    pub lr: f64,
    /// Decay per step.
    pub gamma: f64,
}
impl ClosedForm for Exponential {
    named!(Exponential, "exponential");
    fn at(&self, t: u64) -> f64 {
        self.lr * self.gamma.powf(t as f64)
    }
}

/// scikit-learn's `learning_rate="invscaling"`: lr(t) = eta0 / (t + 1)^power_t
/// (scikit-learn counts t from 1; defaults eta0 0.01, power_t 0.25 for SGDRegressor).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InverseScaling {
    /// Initial learning rate.
    pub eta0: f64,
    /// Exponent.
    pub power_t: f64,
}
impl ClosedForm for InverseScaling {
    named!(InverseScaling, "invscaling");
    fn at(&self, t: u64) -> f64 {
        self.eta0 / ((t + 1) as f64).powf(self.power_t)
    }
}

/// scikit-learn's `learning_rate="optimal"` (Bottou's heuristic): lr(t) = 1 / (alpha (t0 + t))
/// with t0 = 1 / (alpha eta0) and eta0 = sqrt(1 / sqrt(alpha)), the value scikit-learn derives
/// for the hinge and log losses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Optimal {
    /// Regularization strength alpha.
    pub alpha: f64,
}
impl Optimal {
    /// t0 of the heuristic.
    pub fn t0(&self) -> f64 {
        let eta0 = (1.0 / self.alpha.sqrt()).sqrt();
        1.0 / (eta0 * self.alpha)
    }
}
impl ClosedForm for Optimal {
    named!(Optimal, "optimal");
    fn at(&self, t: u64) -> f64 {
        1.0 / (self.alpha * (self.t0() + t as f64))
    }
}

/// `PolynomialLR` with an end value: lr(t) = (lr - end_lr) (1 - min(t, T) / T)^power + end_lr,
/// T = total_steps (PyTorch: end_lr 0, power 1).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Polynomial {
    /// Initial learning rate.
    pub lr: f64,
    /// Steps until end_lr.
    pub total_steps: u64,
    /// Exponent.
    pub power: f64,
    /// Final learning rate.
    pub end_lr: f64,
}
impl ClosedForm for Polynomial {
    named!(Polynomial, "polynomial");
    fn at(&self, t: u64) -> f64 {
        let frac = t.min(self.total_steps) as f64 / self.total_steps.max(1) as f64;
        (self.lr - self.end_lr) * (1.0 - frac).powf(self.power) + self.end_lr
    }
}

/// `LinearLR` as a warmup: lr(t) = lr (s + (1 - s) min(t, W) / W), s = start_factor,
/// W = warmup_steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinearWarmup {
    /// Learning rate after warmup.
    pub lr: f64,
    /// Warmup length.
    pub warmup_steps: u64,
    /// Fraction of lr at t = 0.
    pub start_factor: f64,
}
impl ClosedForm for LinearWarmup {
    named!(LinearWarmup, "linear-warmup");
    fn at(&self, t: u64) -> f64 {
        let frac = t.min(self.warmup_steps) as f64 / self.warmup_steps.max(1) as f64;
        self.lr * (self.start_factor + (1.0 - self.start_factor) * frac)
    }
}

/// `CosineAnnealingLR` (closed form, held at eta_min after t_max):
/// lr(t) = eta_min + (lr - eta_min) (1 + cos(pi min(t, T) / T)) / 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cosine {
    /// Initial learning rate.
    pub lr: f64,
    /// Half-period T.
    pub t_max: u64,
    /// Final learning rate.
    pub eta_min: f64,
}
impl ClosedForm for Cosine {
    named!(Cosine, "cosine");
    fn at(&self, t: u64) -> f64 {
        cosine(
            self.lr,
            self.eta_min,
            t.min(self.t_max) as f64 / self.t_max.max(1) as f64,
        )
    }
}

fn cosine(hi: f64, lo: f64, frac: f64) -> f64 {
    lo + (hi - lo) * (1.0 + (PI * frac).cos()) / 2.0
}

/// Linear warmup from 0 then cosine decay (the schedule of Hugging Face's
/// `get_cosine_schedule_with_warmup`, with a floor): lr(t) = lr t / W for t < W, then
/// eta_min + (lr - eta_min)(1 + cos(pi min(t - W, T - W) / (T - W))) / 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WarmupCosine {
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup length W.
    pub warmup_steps: u64,
    /// Total length T.
    pub total_steps: u64,
    /// Final learning rate.
    pub eta_min: f64,
}
impl ClosedForm for WarmupCosine {
    named!(WarmupCosine, "warmup-cosine");
    fn at(&self, t: u64) -> f64 {
        if t < self.warmup_steps {
            return self.lr * t as f64 / self.warmup_steps as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
        cosine(
            self.lr,
            self.eta_min,
            (t - self.warmup_steps).min(span) as f64 / span as f64,
        )
    }
}

/// `CosineAnnealingWarmRestarts` (SGDR; Loshchilov and Hutter 2017): restarts after t_0 steps,
/// each cycle t_mult times longer; lr = eta_min + (lr - eta_min)(1 + cos(pi T_cur / T_i)) / 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CosineWarmRestarts {
    /// Learning rate at each restart.
    pub lr: f64,
    /// Length of the first cycle.
    pub t_0: u64,
    /// Growth of the cycle length (an integer >= 1 in PyTorch).
    pub t_mult: u64,
    /// Floor.
    pub eta_min: f64,
}
impl ClosedForm for CosineWarmRestarts {
    named!(CosineWarmRestarts, "cosine-restarts");
    fn at(&self, t: u64) -> f64 {
        let t0 = self.t_0.max(1);
        let (t_cur, t_i) = if self.t_mult <= 1 {
            (t % t0, t0)
        } else {
            let mut start = 0;
            let mut len = t0;
            while t >= start + len {
                start += len;
                len *= self.t_mult;
            }
            (t - start, len)
        };
        cosine(self.lr, self.eta_min, t_cur as f64 / t_i as f64)
    }
}

/// `OneCycleLR` with cosine annealing (Smith and Topin 2018): from max_lr / div_factor up to
/// max_lr over the first pct_start of total_steps, then down to
/// max_lr / (div_factor * final_div_factor); momentum cycles the opposite way between
/// max_momentum and base_momentum. Defaults (PyTorch): pct_start 0.3, div_factor 25,
/// final_div_factor 1e4, base_momentum 0.85, max_momentum 0.95, three_phase false.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OneCycle {
    /// Peak learning rate.
    pub max_lr: f64,
    /// Total steps of the cycle.
    pub total_steps: u64,
    /// Fraction of the cycle spent increasing.
    pub pct_start: f64,
    /// initial_lr = max_lr / div_factor.
    pub div_factor: f64,
    /// min_lr = initial_lr / final_div_factor.
    pub final_div_factor: f64,
    /// Lowest momentum.
    pub base_momentum: f64,
    /// Highest momentum.
    pub max_momentum: f64,
    /// Cycle momentum inversely to the learning rate.
    pub cycle_momentum: bool,
    /// Three phases (up, down to initial, annihilate) instead of two.
    pub three_phase: bool,
}
impl Default for OneCycle {
    fn default() -> Self {
        Self {
            max_lr: 0.1,
            total_steps: 1000,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            base_momentum: 0.85,
            max_momentum: 0.95,
            cycle_momentum: true,
            three_phase: false,
        }
    }
}
impl OneCycle {
    /// (end step, start lr, end lr, start momentum, end momentum) per phase, as PyTorch.
    fn phases(&self) -> Vec<(f64, f64, f64, f64, f64)> {
        let init = self.max_lr / self.div_factor;
        let min = init / self.final_div_factor;
        let total = self.total_steps as f64;
        let (bm, mm) = (self.base_momentum, self.max_momentum);
        if self.three_phase {
            vec![
                (self.pct_start * total - 1.0, init, self.max_lr, mm, bm),
                (2.0 * self.pct_start * total - 2.0, self.max_lr, init, bm, mm),
                (total - 1.0, init, min, mm, mm),
            ]
        } else {
            vec![
                (self.pct_start * total - 1.0, init, self.max_lr, mm, bm),
                (total - 1.0, self.max_lr, min, bm, mm),
            ]
        }
    }
    fn eval(&self, t: u64) -> (f64, f64) {
        let phases = self.phases();
        let t = t as f64;
        let mut start = 0.0;
        for (i, &(end, lr0, lr1, m0, m1)) in phases.iter().enumerate() {
            if t <= end || i == phases.len() - 1 {
                let pct = (t - start) / (end - start);
                let anneal = |a: f64, b: f64| b + (a - b) / 2.0 * ((PI * pct).cos() + 1.0);
                return (anneal(lr0, lr1), anneal(m0, m1));
            }
            start = end;
        }
        unreachable!("the last phase always matches")
    }
}
impl ClosedForm for OneCycle {
    named!(OneCycle, "one-cycle");
    fn at(&self, t: u64) -> f64 {
        self.eval(t).0
    }
    fn momentum_at(&self, t: u64) -> Option<f64> {
        self.cycle_momentum.then(|| self.eval(t).1)
    }
}

/// The policies of [`Cyclic`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// Constant amplitude.
    Triangular,
    /// Amplitude halved every cycle.
    Triangular2,
    /// Amplitude scaled by gamma^t.
    ExpRange,
}

/// `CyclicLR` (Smith 2017): x = 1 + t / (up + down) - cycle with cycle = floor(1 + t / (up + down));
/// scale = x / r when x <= r = up / (up + down), else (x - 1) / (r - 1);
/// lr = base_lr + (max_lr - base_lr) scale f, where f = 1 (triangular), 1 / 2^(cycle - 1)
/// (triangular2) or gamma^t (exp_range); momentum = max_momentum - (max_momentum -
/// base_momentum) scale f. Defaults: step_size_up 2000, step_size_down = up, gamma 1,
/// base_momentum 0.8, max_momentum 0.9.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cyclic {
    /// Lower bound.
    pub base_lr: f64,
    /// Upper bound.
    pub max_lr: f64,
    /// Steps of the increasing half.
    pub step_size_up: u64,
    /// Steps of the decreasing half (default: step_size_up).
    pub step_size_down: Option<u64>,
    /// Amplitude policy.
    pub mode: CyclicMode,
    /// Base of exp_range.
    pub gamma: f64,
    /// Cycle momentum inversely.
    pub cycle_momentum: bool,
    /// Lowest momentum.
    pub base_momentum: f64,
    /// Highest momentum.
    pub max_momentum: f64,
}
impl Cyclic {
    fn eval(&self, t: u64) -> (f64, f64) {
        let up = self.step_size_up.max(1) as f64;
        let down = self.step_size_down.unwrap_or(self.step_size_up).max(1) as f64;
        let total = up + down;
        let ratio = up / total;
        let t = t as f64;
        let cycle = (1.0 + t / total).floor();
        let x = 1.0 + t / total - cycle;
        let scale = if x <= ratio {
            x / ratio
        } else {
            (x - 1.0) / (ratio - 1.0)
        };
        let f = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(t),
        };
        let lr = self.base_lr + (self.max_lr - self.base_lr) * scale * f;
        let m = self.max_momentum - (self.max_momentum - self.base_momentum) * scale * f;
        (lr, m)
    }
}
impl ClosedForm for Cyclic {
    named!(Cyclic, "cyclic");
    fn at(&self, t: u64) -> f64 {
        self.eval(t).0
    }
    fn momentum_at(&self, t: u64) -> Option<f64> {
        self.cycle_momentum.then(|| self.eval(t).1)
    }
}
