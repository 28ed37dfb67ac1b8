//! The divergence guard: it tells a diverged step from a good one, keeps a snapshot of the run
//! in memory (taken at every epoch's end and at every checkpoint, whether or not checkpoints
//! are written), and on divergence rolls the run back to it with the learning rate halved.

use super::record::EpochRecord;
use super::state::TrainState;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::optim::BuiltOptimizer;
use crate::tensor::Scalar;

/// The run at a step boundary: its state, the model's parameters and buffers, the optimizer
/// (a copy, state included) and the schedule's state.
#[derive(Clone)]
pub struct Snapshot<T: Scalar> {
    /// The loop's state.
    pub state: TrainState<T>,
    /// The parameters.
    pub params: ParamStore<T>,
    /// The buffers (running statistics), when the model has them.
    pub buffers: Option<ParamStore<T>>,
    /// The optimizer with its state.
    pub optimizer: BuiltOptimizer<T>,
    /// The schedule's state, when there is a schedule.
    pub schedule: Option<serde_json::Value>,
}

impl<T: Scalar> std::fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("state", &self.state)
            .field("params", &self.params)
            .field("buffers", &self.buffers)
            .field("optimizer", &self.optimizer.name())
            .field("schedule", &self.schedule)
            .finish()
    }
}

/// Why a step counts as diverged, if it does: a loss or gradient norm that is not finite, or,
/// with `factor` and from the second epoch on, a loss above `factor` times the first epoch's
/// mean training loss (a first epoch whose mean is 0, a perfect start, gives no reference).
///
/// ```
/// use steepest::train::diverged_step;
/// assert!(diverged_step(f64::NAN, 1.0, &[], Some(1e4)).is_some());
/// assert!(diverged_step(1.0, f64::INFINITY, &[], Some(1e4)).is_some());
/// assert!(diverged_step(1e9, 1.0, &[], Some(1e4)).is_none()); // no first epoch yet
/// ```
pub fn diverged_step(loss: f64, norm: f64, history: &[EpochRecord], factor: Option<f64>) -> Option<String> {
    if !loss.is_finite() || !norm.is_finite() {
        return Some(format!("loss {loss}, gradient norm {norm}"));
    }
    let f = factor?;
    let first = history.first()?.train_loss;
    (first > 0.0 && loss > f * first)
        .then(|| format!("loss {loss:.3e} is more than {f:.0e} times the first epoch's mean loss {first:.3e}"))
}

/// The guard: the last two snapshots and how many recoveries a run may use.
pub struct DivergenceGuard<T: Scalar> {
    max_retries: usize,
    current: Snapshot<T>,
    /// The snapshot before the current one: a failure on the first step after a snapshot, or
    /// a second failure from the same snapshot, means the snapshot's own parameters are bad
    /// (an epoch can end finite on its way to overflow), so the guard goes further back.
    previous: Option<Snapshot<T>>,
    /// Whether the run was rolled back to `current` since it was kept.
    restored_current: bool,
}

impl<T: Scalar> DivergenceGuard<T> {
    /// A guard starting from `start`, allowing `max_retries` recoveries in the whole run.
    pub fn new(start: Snapshot<T>, max_retries: usize) -> Self {
        Self {
            max_retries,
            current: start,
            previous: None,
            restored_current: false,
        }
    }

    /// Keeps `snapshot` as the point to roll back to.
    pub fn keep(&mut self, snapshot: Snapshot<T>) {
        self.previous = Some(std::mem::replace(&mut self.current, snapshot));
        self.restored_current = false;
    }

    /// The snapshot to roll back to after a failure (`why`) at step `at` of a run that has used
    /// `retries` recoveries, with its state's recovery count raised by one and its learning
    /// rate factor halved from `lr_scale`; [`Error::Diverged`] when the recoveries are used up
    /// (`lr` is the last learning rate, for the message). The current snapshot, unless the
    /// failure came on its first step or the run already went back to it once: then the one
    /// before.
    pub fn recover(&mut self, why: &str, at: u64, retries: usize, lr_scale: f64, lr: f64) -> Result<Snapshot<T>> {
        if retries + 1 > self.max_retries {
            return Err(Error::Diverged(format!(
                "{why}; gave up after {} recoveries (last learning rate {lr:.3e}); lower the learning rate",
                self.max_retries
            )));
        }
        if at == self.current.state.step || self.restored_current {
            if let Some(p) = self.previous.take() {
                self.current = p;
            }
        }
        self.restored_current = true;
        let mut back = self.current.clone();
        back.state.retries = retries + 1;
        back.state.lr_scale = lr_scale * 0.5;
        Ok(back)
    }
}
