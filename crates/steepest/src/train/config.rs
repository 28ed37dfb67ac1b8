//! The loop's settings.

use super::early_stop::EarlyStopping;
use crate::data::BatchSize;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// When the schedule advances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulePer {
    /// After every epoch (with the monitored loss, for reduce-on-plateau).
    #[default]
    Epoch,
    /// After every optimizer step.
    Step,
}

/// Settings of the loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: BatchSize,
    /// Reshuffle the rows every epoch.
    pub shuffle: bool,
    /// Seed of shuffling and of stochastic layers.
    pub seed: u64,
    /// When the schedule advances.
    pub schedule_per: SchedulePer,
    /// Clip the global gradient norm to this.
    pub clip_grad_norm: Option<f64>,
    /// Early stopping.
    pub early_stopping: Option<EarlyStopping>,
    /// Where checkpoints go (none: no checkpoints).
    pub checkpoint_dir: Option<PathBuf>,
    /// Checkpoint after every this many epochs.
    pub checkpoint_every_epochs: Option<usize>,
    /// Checkpoint after every this many optimizer steps.
    pub checkpoint_every_steps: Option<u64>,
    /// Divergence recoveries before giving up.
    pub max_divergence_retries: usize,
    /// Stop after this many optimizer steps (counted over the whole run, resumes included),
    /// mid-epoch if need be; the last epoch's record covers the steps it took. `None`: train
    /// for `epochs`.
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// The divergence guard's test for a loss that explodes while staying finite: from the
    /// second epoch on, a step whose loss exceeds this factor times the first epoch's mean loss
    /// counts as diverged (rolled back, the rate halved). `None` turns the test off (training whose loss is not meant to fall, such
    /// as adversarial games); non-finite values are caught either way. Default 1e4.
    #[serde(default = "default_explosion")]
    pub divergence_factor: Option<f64>,
    /// Under data parallelism, batch norm normalizes by the statistics of the whole batch over
    /// every rank (PyTorch's `SyncBatchNorm`; the loop runs each step's loss and gradient under
    /// [`with_step_communicator`](crate::collective::with_step_communicator)) instead of each
    /// rank's own part (PyTorch's DDP default). Every rank must then take as many steps, each
    /// with rows (shards of equal batch counts). No effect in one process. Default false.
    #[serde(default)]
    pub sync_batchnorm: bool,
}

fn default_explosion() -> Option<f64> {
    Some(1e4)
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: BatchSize::Rows(32),
            shuffle: true,
            seed: 0,
            schedule_per: SchedulePer::Epoch,
            clip_grad_norm: None,
            early_stopping: None,
            checkpoint_dir: None,
            checkpoint_every_epochs: None,
            checkpoint_every_steps: None,
            max_divergence_retries: 3,
            max_steps: None,
            divergence_factor: default_explosion(),
            sync_batchnorm: false,
        }
    }
}
