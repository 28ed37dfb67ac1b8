//! The training loop every model shares, and the metrics it reports.
//!
//! [`fit`] runs epochs of gradient steps over [`Batches`](crate::data::Batches) (batch size 1:
//! SGD; b: mini-batch; all rows: full-batch GD) for any [`Trainable`] model, with any
//! [`Optimizer`](crate::optim::Optimizer) or line-search optimizer and any schedule. Around it:
//! validation every epoch, a metrics history, [`Observer`]s (progress, logging), early stopping
//! (patience, minimum improvement, restore best), checkpoints every N steps or epochs with exact
//! resume, and a divergence guard (a non-finite loss, gradient or parameter rolls back to the
//! start of the epoch, halves the learning rate, says so, and gives up after a few tries).
//!
//! The loop in `fit.rs` calls small parts, each in its own file and testable alone: the state a
//! run carries ([`TrainState`]: step, epoch, sums, generator, the guard's and early stopping's
//! state) apart from the file it is written to ([`Checkpoint`]); the divergence guard
//! ([`DivergenceGuard`], [`diverged_step`]) with its in-memory [`Snapshot`]s; early stopping
//! ([`EarlyStopState`]); the reduction of gradients over ranks (`reduce.rs`); when checkpoints
//! are due (`checkpoint.rs`); the [`Observer`]s. The schedule's rate is handed to each step
//! ([`StepArgs`](crate::optim::StepArgs)); the optimizer's own settings are never rewritten.
//!
//! Layering: this module knows models only through [`Trainable`]; the estimators of
//! [`models`](crate::models) implement it and call [`fit`].

mod checkpoint;
mod config;
mod early_stop;
mod fit;
mod game;
mod guard;
pub mod metrics;
mod observer;
mod record;
mod reduce;
mod state;
mod trainable;

pub use checkpoint::{Checkpoint, CHECKPOINT_FILE};
pub use config::{SchedulePer, TrainConfig};
pub use early_stop::{EarlyStopState, EarlyStopping};
pub use fit::{fit, fit_parallel};
pub use game::{fit_game, Game, GameHistory, Player};
pub use guard::{diverged_step, DivergenceGuard, Snapshot};
pub use observer::{LogObserver, Observer};
pub use record::{EpochRecord, History};
pub(crate) use reduce::evaluate;
pub use state::{EpochSums, TrainState};
pub use trainable::{loss_grad_replacing, Trainable};
