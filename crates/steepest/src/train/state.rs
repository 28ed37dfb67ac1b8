//! What a training run carries from one step to the next, apart from the model and the
//! optimizer: where it is (epoch, batch, step), the sums of the epoch in progress, the
//! generator, the divergence guard's and early stopping's state, and the history.

use super::early_stop::EarlyStopState;
use super::record::{EpochRecord, History};
use crate::optim::schedule::Schedule;
use crate::tensor::{rng, Rng, Scalar};
use serde::{Deserialize, Serialize};

/// Sums over the batches of the epoch in progress, for its record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "(f64, usize, f64, usize)", into = "(f64, usize, f64, usize)")]
pub struct EpochSums {
    /// Each batch's mean loss times its rows.
    pub loss_rows: f64,
    /// Rows seen.
    pub rows: usize,
    /// Gradient norms (before clipping).
    pub norms: f64,
    /// Steps taken.
    pub steps: usize,
}

impl From<(f64, usize, f64, usize)> for EpochSums {
    fn from((loss_rows, rows, norms, steps): (f64, usize, f64, usize)) -> Self {
        Self {
            loss_rows,
            rows,
            norms,
            steps,
        }
    }
}

impl From<EpochSums> for (f64, usize, f64, usize) {
    fn from(s: EpochSums) -> Self {
        (s.loss_rows, s.rows, s.norms, s.steps)
    }
}

impl EpochSums {
    /// Adds one step: its mean loss over `rows` rows and its gradient norm.
    pub fn add(&mut self, loss: f64, rows: usize, norm: f64) {
        self.loss_rows += loss * rows as f64;
        self.rows += rows;
        self.norms += norm;
        self.steps += 1;
    }

    /// The mean training loss per row (0 before any row).
    pub fn mean_loss(&self) -> f64 {
        self.loss_rows / self.rows.max(1) as f64
    }

    /// The mean gradient norm per step (0 before any step).
    pub fn mean_norm(&self) -> f64 {
        self.norms / self.steps.max(1) as f64
    }
}

/// The state of a run at a step boundary, apart from the parameters, the optimizer and the
/// schedule: with those, everything a resumed run needs to continue bit-identically (a
/// [`Checkpoint`](super::Checkpoint) is this state plus them, written to a file).
///
/// ```
/// use steepest::train::TrainState;
/// let mut st = TrainState::<f32>::new(7, 1);
/// st.record_step(0, 2.0, 32, 1.5);
/// st.record_step(1, 1.0, 32, 0.5);
/// assert_eq!((st.step, st.batch), (2, 2));
/// assert_eq!((st.sums.mean_loss(), st.sums.mean_norm()), (1.5, 1.0));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Scalar")]
pub struct TrainState<T: Scalar> {
    /// Epoch in progress (0-based).
    pub epoch: usize,
    /// Next batch of that epoch.
    pub batch: usize,
    /// Optimizer steps taken.
    pub step: u64,
    /// Sums over the epoch so far.
    pub sums: EpochSums,
    /// Generator of the line-search optimizers' objective (stochastic layers); a step of the
    /// step optimizers draws from [`TrainState::step_rng`] instead.
    pub rng: Rng,
    /// Factor on the learning rate left by the divergence guard.
    pub lr_scale: f64,
    /// Divergence recoveries used.
    pub retries: usize,
    /// Epoch records so far.
    pub history: History,
    /// Early stopping's state.
    #[serde(flatten)]
    pub early: EarlyStopState<T>,
    /// Ranks of the data-parallel run that wrote it (1 for one process).
    #[serde(default = "one")]
    pub ranks: usize,
}

fn one() -> usize {
    1
}

impl<T: Scalar> TrainState<T> {
    /// The state before the first step of a run seeded by `seed` on `ranks` ranks.
    pub fn new(seed: u64, ranks: usize) -> Self {
        Self {
            epoch: 0,
            batch: 0,
            step: 0,
            sums: EpochSums::default(),
            rng: rng(seed ^ 0x5EED),
            lr_scale: 1.0,
            retries: 0,
            history: Vec::new(),
            early: EarlyStopState::default(),
            ranks,
        }
    }

    /// Continues on `ranks` ranks a run written on another number: the epoch goes on after
    /// the same count of rows, cut into the new number of shards.
    pub fn reshard(&mut self, ranks: usize) {
        if self.ranks != ranks {
            self.batch = (self.batch * self.ranks.max(1)).div_ceil(ranks);
            self.ranks = ranks;
        }
    }

    /// The learning rate of the next step: the schedule's (or `base` without one) times the
    /// divergence guard's factor.
    pub fn lr(&self, base: f64, schedule: Option<&(dyn Schedule + '_)>) -> f64 {
        schedule.map_or(base, |s| s.lr()) * self.lr_scale
    }

    /// The generator of the next step's randomness (dropout): the same on every rank and in
    /// one process, so that with each example's draws seeded by its row identity, ranks draw
    /// what one process would, and a resumed run draws what the whole run did.
    pub fn step_rng(&self, seed: u64) -> Rng {
        rng(seed ^ 0x5EED ^ (self.step + 1).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// Counts a step taken on batch `batch` (0-based) of the epoch: its mean loss over `rows`
    /// rows and its gradient norm.
    pub fn record_step(&mut self, batch: usize, loss: f64, rows: usize, norm: f64) {
        self.step += 1;
        self.batch = batch + 1;
        self.sums.add(loss, rows, norm);
    }

    /// Closes the epoch with its record: the next one starts at its first batch with fresh
    /// sums.
    pub fn end_epoch(&mut self, record: EpochRecord) {
        self.history.push(record);
        self.epoch += 1;
        self.batch = 0;
        self.sums = EpochSums::default();
    }
}
