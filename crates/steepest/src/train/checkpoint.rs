//! Checkpoints: everything needed to continue a run bit-identically, written atomically.

use super::fit::History;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{Rng, Scalar};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The full state of a training run at a step boundary.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Scalar")]
pub struct Checkpoint<T: Scalar> {
    /// Format version.
    pub version: u32,
    /// Epoch in progress (0-based).
    pub epoch: usize,
    /// Next batch of that epoch.
    pub batch: usize,
    /// Optimizer steps taken.
    pub step: u64,
    /// Sums over the epoch so far: loss times rows, rows, gradient norms, batches.
    pub sums: (f64, usize, f64, usize),
    /// Model parameters.
    pub params: ParamStore<T>,
    /// Model buffers (running statistics), saved but not trained.
    #[serde(default)]
    pub buffers: ParamStore<T>,
    /// Optimizer state.
    pub optimizer: serde_json::Value,
    /// Schedule state.
    pub schedule: Option<serde_json::Value>,
    /// Generator for stochastic layers (dropout).
    pub rng: Rng,
    /// Factor on the learning rate left by the divergence guard.
    pub lr_scale: f64,
    /// Divergence recoveries used.
    pub retries: usize,
    /// Epoch records so far.
    pub history: History,
    /// Early stopping: best monitored value, epochs without improvement, best parameters.
    pub best: Option<f64>,
    /// Epochs without improvement.
    pub bad_epochs: usize,
    /// Parameters at the best epoch.
    pub best_params: Option<ParamStore<T>>,
    /// Ranks of the data-parallel run that wrote it (1 for one process).
    #[serde(default = "one")]
    pub ranks: usize,
}

fn one() -> usize {
    1
}

/// The checkpoint file name inside a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

impl<T: Scalar> Checkpoint<T> {
    /// Writes the checkpoint to `dir/checkpoint.json` through a temporary file and a rename, so
    /// that a crash never leaves a partial checkpoint. Refuses non-finite parameters.
    pub fn save(&self, dir: &Path) -> Result<()> {
        if !self.params.all_finite() {
            return Err(Error::Diverged("refusing to checkpoint non-finite parameters".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let text = serde_json::to_vec(self).map_err(|e| Error::format("checkpoint", e.to_string()))?;
        crate::fsutil::write_atomic(&dir.join(CHECKPOINT_FILE), &text)
    }

    /// Reads `dir/checkpoint.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CHECKPOINT_FILE);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        Self::from_bytes(&bytes, &path)
    }

    /// Parses the bytes of a checkpoint file read from `path` (named in errors), as
    /// [`Checkpoint::load`] does (for a file read on one rank and broadcast to the others).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let ck: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::format(path.display().to_string(), format!("corrupt checkpoint: {e}")))?;
        if ck.version != 1 {
            return Err(Error::format(
                path.display().to_string(),
                format!("checkpoint version {} is not 1", ck.version),
            ));
        }
        if !ck.params.all_finite() {
            return Err(Error::format(
                path.display().to_string(),
                "checkpoint holds non-finite parameters",
            ));
        }
        Ok(ck)
    }
}
