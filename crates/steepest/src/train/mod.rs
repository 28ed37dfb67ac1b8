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
//! Layering: this module knows models only through [`Trainable`]; the estimators of
//! [`models`](crate::models) implement it and call [`fit`].

mod checkpoint;
mod fit;
pub(crate) use fit::evaluate;
mod game;
pub mod metrics;
mod observer;

pub use checkpoint::{Checkpoint, CHECKPOINT_FILE};
pub use fit::{
    fit, fit_parallel, loss_grad_replacing, EarlyStopping, EpochRecord, History, SchedulePer, TrainConfig, Trainable,
};
pub use game::{fit_game, Game, GameHistory, Player};
pub use observer::{LogObserver, Observer};
