//! Learning-rate schedules: resumable (their state saves and loads) and composable
//! ([`Sequential`]).
//!
//! Every schedule gives the learning rate for the current step and is advanced by
//! [`Schedule::step`] (once per optimizer step or once per epoch: the caller decides, as with
//! PyTorch's schedulers). Schedules that are a closed-form function of the step count t
//! implement [`ClosedForm`] and are driven through [`Stepped`]; t starts at 0.
//!
//! ```
//! use steepest::optim::schedule::{Cosine, Schedule, Stepped};
//! let mut s = Stepped::new(Cosine { lr: 0.1, t_max: 10, eta_min: 0.0 });
//! assert_eq!(s.lr(), 0.1);
//! for _ in 0..10 { s.step(None); }
//! assert!(s.lr().abs() < 1e-12);
//! ```

mod closed_form;
mod plateau;
mod sequential;

pub use closed_form::{
    Constant, Cosine, CosineWarmRestarts, Cyclic, CyclicMode, Exponential, InverseScaling, LinearWarmup, MultiStep,
    OneCycle, Optimal, Polynomial, Step, WarmupCosine,
};
pub use plateau::{PlateauMode, ReduceOnPlateau, ThresholdMode};
pub use sequential::Sequential;

use crate::error::{Error, Result};
use serde::Serialize;

/// A learning-rate schedule.
pub trait Schedule: Send {
    /// Name, as configs spell it.
    fn name(&self) -> &'static str;
    /// The learning rate at the current step.
    fn lr(&self) -> f64;
    /// The momentum at the current step, for schedules that cycle it (one-cycle, cyclic).
    fn momentum(&self) -> Option<f64> {
        None
    }
    /// Advances one step. `metric` is the monitored value; only reduce-on-plateau reads it.
    fn step(&mut self, metric: Option<f64>);
    /// The state needed to resume, as JSON.
    fn state(&self) -> serde_json::Value;
    /// Restores a state saved by [`Schedule::state`].
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()>;
}

/// A schedule that is a pure function of the step count.
pub trait ClosedForm: Send + Serialize {
    /// Name, as configs spell it.
    fn name(&self) -> &'static str;
    /// The learning rate at step t.
    fn at(&self, t: u64) -> f64;
    /// The momentum at step t, if the schedule cycles it.
    fn momentum_at(&self, _t: u64) -> Option<f64> {
        None
    }
}

/// Drives a [`ClosedForm`] schedule: holds the step count t.
#[derive(Clone, Debug)]
pub struct Stepped<S> {
    /// The schedule.
    pub schedule: S,
    t: u64,
}

impl<S: ClosedForm> Stepped<S> {
    /// Starts `schedule` at t = 0.
    pub fn new(schedule: S) -> Self {
        Self { schedule, t: 0 }
    }

    /// The step count.
    pub fn t(&self) -> u64 {
        self.t
    }
}

impl<S: ClosedForm> Schedule for Stepped<S> {
    fn name(&self) -> &'static str {
        self.schedule.name()
    }
    fn lr(&self) -> f64 {
        self.schedule.at(self.t)
    }
    fn momentum(&self) -> Option<f64> {
        self.schedule.momentum_at(self.t)
    }
    fn step(&mut self, _metric: Option<f64>) {
        self.t += 1;
    }
    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name(), "t": self.t })
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        check_name(state, self.name())?;
        self.t = state
            .get("t")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| Error::format("schedule state", "missing step count 't'"))?;
        Ok(())
    }
}

pub(crate) fn check_name(state: &serde_json::Value, name: &str) -> Result<()> {
    let saved = state.get("name").and_then(|v| v.as_str()).unwrap_or("?");
    if saved != name {
        return Err(Error::format(
            "schedule state",
            format!("saved by '{saved}', loading into '{name}'"),
        ));
    }
    Ok(())
}
