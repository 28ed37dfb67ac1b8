//! Optimizers and schedules described as data (name plus hyper-parameters), as configs, model
//! metadata and the command line spell them.

use super::rules::*;
use super::schedule::*;
use super::{ArmijoGd, Lbfgs, LineSearchOptimizer, Newton, Optimizer, RuleOptimizer, UpdateRule};
use crate::error::{Error, Result};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// An optimizer by name with its hyper-parameters (PyTorch's names; omitted ones take their
/// defaults).
///
/// ```
/// use steepest::optim::OptimizerSpec;
/// let s: OptimizerSpec = serde_json::from_str(r#"{"name": "sgd", "lr": 0.1, "momentum": 0.9}"#).unwrap();
/// assert_eq!(s.name(), "sgd");
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum OptimizerSpec {
    /// [`Sgd`] (also plain and full-batch gradient descent).
    Sgd(Sgd),
    /// [`Adagrad`].
    Adagrad(Adagrad),
    /// [`Invariant`](super::Invariant): importance-invariant AdaGrad, the linear fast path's
    /// per-example rule (linear models with batch size 1 only).
    Invariant(super::Invariant),
    /// [`RmsProp`].
    #[serde(rename = "rmsprop")]
    RmsProp(RmsProp),
    /// [`Adadelta`].
    Adadelta(Adadelta),
    /// [`Adam`].
    Adam(Adam),
    /// [`AdamW`].
    #[serde(rename = "adamw")]
    AdamW(AdamW),
    /// [`NAdam`].
    #[serde(rename = "nadam")]
    NAdam(NAdam),
    /// [`RAdam`].
    #[serde(rename = "radam")]
    RAdam(RAdam),
    /// [`Adamax`].
    Adamax(Adamax),
    /// [`Lion`].
    Lion(Lion),
    /// [`Muon`].
    Muon(Muon),
    /// [`ScheduleFreeSgd`].
    ScheduleFreeSgd(ScheduleFreeSgd),
    /// [`ScheduleFreeAdamW`].
    #[serde(rename = "schedule-free-adamw")]
    ScheduleFreeAdamW(ScheduleFreeAdamW),
    /// [`Polyak`].
    Polyak(Polyak),
    /// [`Lbfgs`] (full batch).
    Lbfgs(Lbfgs),
    /// [`ArmijoGd`] (full batch).
    Armijo(ArmijoGd),
    /// [`Newton`]: the exact solver of linear and logistic regression (the models run it
    /// themselves; it has no step of its own on other models).
    Newton(Newton),
}

/// The optimizer names [`OptimizerSpec::from_name`] knows.
pub const OPTIMIZER_NAMES: [&str; 18] = [
    "sgd",
    "adagrad",
    "invariant",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "nadam",
    "radam",
    "adamax",
    "lion",
    "muon",
    "schedule-free-sgd",
    "schedule-free-adamw",
    "polyak",
    "lbfgs",
    "armijo",
    "newton",
];

/// A built optimizer of either kind.
pub enum BuiltOptimizer<T: Scalar> {
    /// Steps on precomputed gradients.
    Step(Box<dyn Optimizer<T>>),
    /// Evaluates the full-batch objective itself.
    LineSearch(Box<dyn LineSearchOptimizer<T>>),
}

impl<T: Scalar> Clone for BuiltOptimizer<T> {
    /// A copy with the same settings and state.
    fn clone(&self) -> Self {
        match self {
            BuiltOptimizer::Step(o) => BuiltOptimizer::Step(o.box_clone()),
            BuiltOptimizer::LineSearch(o) => BuiltOptimizer::LineSearch(o.box_clone()),
        }
    }
}

impl<T: Scalar> BuiltOptimizer<T> {
    /// The optimizer's name.
    pub fn name(&self) -> &'static str {
        match self {
            BuiltOptimizer::Step(o) => o.name(),
            BuiltOptimizer::LineSearch(o) => o.name(),
        }
    }

    /// Its state, as JSON.
    pub fn state(&self) -> Result<serde_json::Value> {
        match self {
            BuiltOptimizer::Step(o) => o.state(),
            BuiltOptimizer::LineSearch(o) => o.state(),
        }
    }

    /// Restores a state saved by [`BuiltOptimizer::state`].
    pub fn load_state(&mut self, s: &serde_json::Value, p: &crate::nn::ParamStore<T>) -> Result<()> {
        match self {
            BuiltOptimizer::Step(o) => o.load_state(s, p),
            BuiltOptimizer::LineSearch(o) => o.load_state(s, p),
        }
    }
}

fn boxed<T: Scalar, R: UpdateRule<T>>(r: R) -> Result<BuiltOptimizer<T>> {
    Ok(BuiltOptimizer::Step(Box::new(RuleOptimizer::new(r)?)))
}

impl OptimizerSpec {
    /// The spec of `name` with its defaults.
    ///
    /// ```
    /// use steepest::optim::{OptimizerSpec, OPTIMIZER_NAMES};
    /// for name in OPTIMIZER_NAMES {
    ///     assert_eq!(OptimizerSpec::from_name(name)?.name(), name);
    /// }
    /// assert!(OptimizerSpec::from_name("adamm").is_err());
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "sgd" => OptimizerSpec::Sgd(Sgd::default()),
            "adagrad" => OptimizerSpec::Adagrad(Adagrad::default()),
            "invariant" => OptimizerSpec::Invariant(super::Invariant::default()),
            "rmsprop" => OptimizerSpec::RmsProp(RmsProp::default()),
            "adadelta" => OptimizerSpec::Adadelta(Adadelta::default()),
            "adam" => OptimizerSpec::Adam(Adam::default()),
            "adamw" => OptimizerSpec::AdamW(AdamW::default()),
            "nadam" => OptimizerSpec::NAdam(NAdam::default()),
            "radam" => OptimizerSpec::RAdam(RAdam::default()),
            "adamax" => OptimizerSpec::Adamax(Adamax::default()),
            "lion" => OptimizerSpec::Lion(Lion::default()),
            "muon" => OptimizerSpec::Muon(Muon::default()),
            "schedule-free-sgd" => OptimizerSpec::ScheduleFreeSgd(ScheduleFreeSgd::default()),
            "schedule-free-adamw" => OptimizerSpec::ScheduleFreeAdamW(ScheduleFreeAdamW::default()),
            "polyak" => OptimizerSpec::Polyak(Polyak::default()),
            "lbfgs" => OptimizerSpec::Lbfgs(Lbfgs::default()),
            "armijo" => OptimizerSpec::Armijo(ArmijoGd::default()),
            "newton" => OptimizerSpec::Newton(Newton::default()),
            _ => {
                return Err(Error::invalid(
                    "optimizer",
                    format!("unknown optimizer '{name}' (known: {})", OPTIMIZER_NAMES.join(", ")),
                ))
            }
        })
    }

    /// The optimizer's name, as configs spell it.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerSpec::Sgd(_) => "sgd",
            OptimizerSpec::Adagrad(_) => "adagrad",
            OptimizerSpec::Invariant(_) => "invariant",
            OptimizerSpec::RmsProp(_) => "rmsprop",
            OptimizerSpec::Adadelta(_) => "adadelta",
            OptimizerSpec::Adam(_) => "adam",
            OptimizerSpec::AdamW(_) => "adamw",
            OptimizerSpec::NAdam(_) => "nadam",
            OptimizerSpec::RAdam(_) => "radam",
            OptimizerSpec::Adamax(_) => "adamax",
            OptimizerSpec::Lion(_) => "lion",
            OptimizerSpec::Muon(_) => "muon",
            OptimizerSpec::ScheduleFreeSgd(_) => "schedule-free-sgd",
            OptimizerSpec::ScheduleFreeAdamW(_) => "schedule-free-adamw",
            OptimizerSpec::Polyak(_) => "polyak",
            OptimizerSpec::Lbfgs(_) => "lbfgs",
            OptimizerSpec::Armijo(_) => "armijo",
            OptimizerSpec::Newton(_) => "newton",
        }
    }

    /// The learning rate (the initial step of L-BFGS and Armijo, the cap of Polyak's step),
    /// when the optimizer has one (Newton has none).
    pub fn lr(&self) -> Option<f64> {
        match self {
            OptimizerSpec::Sgd(r) => Some(r.lr),
            OptimizerSpec::Adagrad(r) => Some(r.lr),
            OptimizerSpec::Invariant(r) => Some(r.lr),
            OptimizerSpec::RmsProp(r) => Some(r.lr),
            OptimizerSpec::Adadelta(r) => Some(r.lr),
            OptimizerSpec::Adam(r) => Some(r.lr),
            OptimizerSpec::AdamW(r) => Some(r.lr),
            OptimizerSpec::NAdam(r) => Some(r.lr),
            OptimizerSpec::RAdam(r) => Some(r.lr),
            OptimizerSpec::Adamax(r) => Some(r.lr),
            OptimizerSpec::Lion(r) => Some(r.lr),
            OptimizerSpec::Muon(r) => Some(r.lr),
            OptimizerSpec::ScheduleFreeSgd(r) => Some(r.lr),
            OptimizerSpec::ScheduleFreeAdamW(r) => Some(r.lr),
            OptimizerSpec::Polyak(r) => Some(r.lr),
            OptimizerSpec::Lbfgs(r) => Some(r.lr),
            OptimizerSpec::Armijo(r) => Some(r.lr),
            OptimizerSpec::Newton(_) => None,
        }
    }

    /// Sets the learning rate; false (nothing set) when the optimizer has none.
    ///
    /// ```
    /// use steepest::optim::OptimizerSpec;
    /// let mut s = OptimizerSpec::from_name("adam")?;
    /// assert_eq!(s.lr(), Some(1e-3));
    /// assert!(s.set_lr(0.01));
    /// assert_eq!(s.lr(), Some(0.01));
    /// assert!(!OptimizerSpec::from_name("newton")?.set_lr(0.1));
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn set_lr(&mut self, lr: f64) -> bool {
        match self {
            OptimizerSpec::Sgd(r) => r.lr = lr,
            OptimizerSpec::Adagrad(r) => r.lr = lr,
            OptimizerSpec::Invariant(r) => r.lr = lr,
            OptimizerSpec::RmsProp(r) => r.lr = lr,
            OptimizerSpec::Adadelta(r) => r.lr = lr,
            OptimizerSpec::Adam(r) => r.lr = lr,
            OptimizerSpec::AdamW(r) => r.lr = lr,
            OptimizerSpec::NAdam(r) => r.lr = lr,
            OptimizerSpec::RAdam(r) => r.lr = lr,
            OptimizerSpec::Adamax(r) => r.lr = lr,
            OptimizerSpec::Lion(r) => r.lr = lr,
            OptimizerSpec::Muon(r) => r.lr = lr,
            OptimizerSpec::ScheduleFreeSgd(r) => r.lr = lr,
            OptimizerSpec::ScheduleFreeAdamW(r) => r.lr = lr,
            OptimizerSpec::Polyak(r) => r.lr = lr,
            OptimizerSpec::Lbfgs(r) => r.lr = lr,
            OptimizerSpec::Armijo(r) => r.lr = lr,
            OptimizerSpec::Newton(_) => return false,
        }
        true
    }

    /// Hyper-parameters as JSON (without the name).
    pub fn hyperparameters(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("name");
        }
        v
    }

    /// Sets hyper-parameter `key` (a PyTorch name such as `lr`, `momentum`, `betas`) from a
    /// value in text form (the command line's `--opt key=value` and flags), read with the type
    /// the rule's field has, checking that this optimizer has it. Code that knows the rule sets
    /// its fields directly (or [`OptimizerSpec::set_lr`]).
    pub fn set(&mut self, key: &str, value: serde_json::Value) -> Result<()> {
        let mut v = serde_json::to_value(&*self).map_err(|e| Error::invalid("optimizer", e.to_string()))?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| Error::invalid("optimizer", "not an object"))?;
        if !obj.contains_key(key) {
            let mut keys: Vec<&String> = obj.keys().filter(|k| *k != "name").collect();
            keys.sort();
            let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            return Err(Error::invalid(
                "optimizer",
                format!(
                    "'{}' has no hyper-parameter '{key}' (it has: {})",
                    self.name(),
                    keys.join(", ")
                ),
            ));
        }
        obj.insert(key.to_string(), value);
        *self = serde_json::from_value(v)
            .map_err(|e| Error::invalid("optimizer", format!("bad value for '{key}' of '{}': {e}", self.name())))?;
        Ok(())
    }

    /// Builds the optimizer, validating its hyper-parameters.
    pub fn build<T: Scalar>(&self) -> Result<BuiltOptimizer<T>> {
        match self.clone() {
            OptimizerSpec::Sgd(r) => boxed(r),
            OptimizerSpec::Adagrad(r) => boxed(r),
            OptimizerSpec::Invariant(_) => Err(Error::invalid(
                "optimizer",
                "invariant is the linear models' per-example rule: it needs a linear model with \
                 --batch-size 1 and no penalty",
            )),
            OptimizerSpec::RmsProp(r) => boxed(r),
            OptimizerSpec::Adadelta(r) => boxed(r),
            OptimizerSpec::Adam(r) => boxed(r),
            OptimizerSpec::AdamW(r) => boxed(r),
            OptimizerSpec::NAdam(r) => boxed(r),
            OptimizerSpec::RAdam(r) => boxed(r),
            OptimizerSpec::Adamax(r) => boxed(r),
            OptimizerSpec::Lion(r) => boxed(r),
            OptimizerSpec::Muon(r) => boxed(r),
            OptimizerSpec::ScheduleFreeSgd(r) => boxed(r),
            OptimizerSpec::ScheduleFreeAdamW(r) => boxed(r),
            OptimizerSpec::Polyak(r) => boxed(r),
            OptimizerSpec::Lbfgs(r) => Ok(BuiltOptimizer::LineSearch(Box::new(r))),
            OptimizerSpec::Armijo(r) => Ok(BuiltOptimizer::LineSearch(Box::new(r))),
            OptimizerSpec::Newton(_) => Err(Error::invalid(
                "optimizer",
                "newton solves linear regression (squared loss) and logistic regression exactly; \
                 this model needs a gradient optimizer (lbfgs is the closest)",
            )),
        }
    }
}

/// A learning-rate schedule by name with its settings. The learning rate it starts from is the
/// optimizer's unless given.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum ScheduleSpec {
    /// Keep the optimizer's rate.
    Constant,
    /// lr gamma^floor(t / step_size).
    Step {
        /// Steps (or epochs) between decays.
        step_size: u64,
        /// Decay factor (default 0.1).
        #[serde(default = "tenth")]
        gamma: f64,
    },
    /// lr gamma^(milestones passed).
    MultiStep {
        /// When to decay.
        milestones: Vec<u64>,
        /// Decay factor (default 0.1).
        #[serde(default = "tenth")]
        gamma: f64,
    },
    /// lr gamma^t.
    Exponential {
        /// Decay per step.
        gamma: f64,
    },
    /// lr / (t + 1)^power_t.
    #[serde(rename = "invscaling")]
    InverseScaling {
        /// Exponent (default 0.25).
        #[serde(default = "quarter")]
        power_t: f64,
    },
    /// scikit-learn's "optimal".
    Optimal {
        /// Regularization strength alpha (default 1e-4).
        #[serde(default = "alpha_default")]
        alpha: f64,
    },
    /// Polynomial decay to end_lr over total_steps.
    Polynomial {
        /// Length.
        total_steps: u64,
        /// Exponent (default 1).
        #[serde(default = "one")]
        power: f64,
        /// Final rate (default 0).
        #[serde(default)]
        end_lr: f64,
    },
    /// Linear warmup from start_factor lr.
    LinearWarmup {
        /// Warmup length.
        warmup_steps: u64,
        /// Starting fraction (default 0).
        #[serde(default)]
        start_factor: f64,
    },
    /// Cosine decay to eta_min over t_max.
    Cosine {
        /// Length.
        t_max: u64,
        /// Floor (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// Warmup then cosine.
    WarmupCosine {
        /// Warmup length.
        warmup_steps: u64,
        /// Total length.
        total_steps: u64,
        /// Floor (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// SGDR.
    CosineRestarts {
        /// First cycle.
        t_0: u64,
        /// Cycle growth (default 1).
        #[serde(default = "one_u")]
        t_mult: u64,
        /// Floor (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// One-cycle up to max_lr (default: the optimizer's rate).
    OneCycle {
        /// Length.
        total_steps: u64,
        /// Peak (default: the optimizer's learning rate).
        #[serde(default)]
        max_lr: Option<f64>,
        /// Share of the cycle spent rising (default 0.3).
        #[serde(default = "pct_start_default")]
        pct_start: f64,
    },
    /// Cyclic between base_lr and the optimizer's rate.
    Cyclic {
        /// Lower bound.
        base_lr: f64,
        /// Steps up (down is the same).
        step_size_up: u64,
        /// triangular, triangular2 or exp_range.
        #[serde(default = "tri")]
        mode: CyclicMode,
        /// exp_range base (default 1).
        #[serde(default = "one")]
        gamma: f64,
    },
    /// Reduce on plateau of the monitored loss.
    Plateau {
        /// Factor (default 0.1).
        #[serde(default = "tenth")]
        factor: f64,
        /// Patience (default 10).
        #[serde(default = "ten")]
        patience: u64,
        /// Floor (default 0).
        #[serde(default)]
        min_lr: f64,
    },
}

fn tenth() -> f64 {
    0.1
}
fn quarter() -> f64 {
    0.25
}
fn alpha_default() -> f64 {
    1e-4
}
fn one() -> f64 {
    1.0
}
fn one_u() -> u64 {
    1
}
fn ten() -> u64 {
    10
}
fn pct_start_default() -> f64 {
    0.3
}
fn tri() -> CyclicMode {
    CyclicMode::Triangular
}

/// The schedule names [`ScheduleSpec`] knows.
pub const SCHEDULE_NAMES: [&str; 14] = [
    "constant",
    "step",
    "multi-step",
    "exponential",
    "invscaling",
    "optimal",
    "polynomial",
    "linear-warmup",
    "cosine",
    "warmup-cosine",
    "cosine-restarts",
    "one-cycle",
    "cyclic",
    "plateau",
];

impl ScheduleSpec {
    /// Builds the schedule starting from learning rate `lr`.
    pub fn build(&self, lr: f64) -> Result<Box<dyn Schedule>> {
        Ok(match self.clone() {
            ScheduleSpec::Constant => Box::new(Stepped::new(Constant { lr })),
            ScheduleSpec::Step { step_size, gamma } => Box::new(Stepped::new(Step { lr, step_size, gamma })),
            ScheduleSpec::MultiStep { milestones, gamma } => {
                Box::new(Stepped::new(MultiStep { lr, milestones, gamma }))
            }
            ScheduleSpec::Exponential { gamma } => Box::new(Stepped::new(Exponential { lr, gamma })),
            ScheduleSpec::InverseScaling { power_t } => Box::new(Stepped::new(InverseScaling { eta0: lr, power_t })),
            ScheduleSpec::Optimal { alpha } => Box::new(Stepped::new(Optimal { alpha })),
            ScheduleSpec::Polynomial {
                total_steps,
                power,
                end_lr,
            } => Box::new(Stepped::new(Polynomial {
                lr,
                total_steps,
                power,
                end_lr,
            })),
            ScheduleSpec::LinearWarmup {
                warmup_steps,
                start_factor,
            } => Box::new(Stepped::new(LinearWarmup {
                lr,
                warmup_steps,
                start_factor,
            })),
            ScheduleSpec::Cosine { t_max, eta_min } => Box::new(Stepped::new(Cosine { lr, t_max, eta_min })),
            ScheduleSpec::WarmupCosine {
                warmup_steps,
                total_steps,
                eta_min,
            } => Box::new(Stepped::new(WarmupCosine {
                lr,
                warmup_steps,
                total_steps,
                eta_min,
            })),
            ScheduleSpec::CosineRestarts { t_0, t_mult, eta_min } => Box::new(Stepped::new(CosineWarmRestarts {
                lr,
                t_0,
                t_mult,
                eta_min,
            })),
            ScheduleSpec::OneCycle {
                total_steps,
                max_lr,
                pct_start,
            } => Box::new(Stepped::new(OneCycle {
                max_lr: max_lr.unwrap_or(lr),
                total_steps,
                pct_start,
                ..OneCycle::default()
            })),
            ScheduleSpec::Cyclic {
                base_lr,
                step_size_up,
                mode,
                gamma,
            } => Box::new(Stepped::new(Cyclic {
                base_lr,
                max_lr: lr,
                step_size_up,
                step_size_down: None,
                mode,
                gamma,
                cycle_momentum: false,
                base_momentum: 0.8,
                max_momentum: 0.9,
            })),
            ScheduleSpec::Plateau {
                factor,
                patience,
                min_lr,
            } => {
                let mut p = ReduceOnPlateau::new(lr, PlateauMode::Min);
                p.factor = factor;
                p.patience = patience;
                p.min_lr = min_lr;
                Box::new(p)
            }
        })
    }
}
