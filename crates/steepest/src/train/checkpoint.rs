//! Checkpoints: everything needed to continue a run bit-identically, written atomically.

use super::guard::Snapshot;
use super::state::TrainState;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A run written to its folder: the loop's [`TrainState`] (where it is, the epoch's sums, the
/// guard's and early stopping's state, the history) with the parameters, buffers, optimizer
/// state and schedule state, everything needed to continue bit-identically.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Scalar")]
pub struct Checkpoint<T: Scalar> {
    /// Format version.
    pub version: u32,
    /// The loop's state.
    #[serde(flatten)]
    pub state: TrainState<T>,
    /// Model parameters.
    pub params: ParamStore<T>,
    /// Model buffers (running statistics), saved but not trained.
    #[serde(default)]
    pub buffers: ParamStore<T>,
    /// Optimizer state.
    pub optimizer: serde_json::Value,
    /// Schedule state.
    pub schedule: Option<serde_json::Value>,
}

impl<T: Scalar> Checkpoint<T> {
    /// The file form of a snapshot the loop keeps in memory.
    pub(crate) fn of(snap: &Snapshot<T>) -> Result<Self> {
        Ok(Self {
            version: 1,
            state: snap.state.clone(),
            params: snap.params.clone(),
            buffers: snap.buffers.clone().unwrap_or_default(),
            optimizer: snap.optimizer.state()?,
            schedule: snap.schedule.clone(),
        })
    }
}

/// When the loop writes checkpoints, and where: after every `every_steps` optimizer steps and
/// every `every_epochs` epochs (each 0 or `None`: never), into `dir`, on the writing rank
/// only. A due checkpoint is also a point the divergence guard keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checkpointer<'a> {
    /// Folder of the checkpoint file (none: nothing is written).
    pub dir: Option<&'a Path>,
    /// Steps between checkpoints.
    pub every_steps: Option<u64>,
    /// Epochs between checkpoints.
    pub every_epochs: Option<usize>,
    /// Whether this process writes (rank 0).
    pub writer: bool,
}

impl Checkpointer<'_> {
    /// Whether a checkpoint is due after step `step` (1-based count of steps taken).
    pub fn due_after_step(&self, step: u64) -> bool {
        self.dir.is_some() && self.every_steps.is_some_and(|e| e > 0 && step.is_multiple_of(e))
    }

    /// Whether a checkpoint is due after epoch `epoch` (1-based count of epochs done).
    pub fn due_after_epoch(&self, epoch: usize) -> bool {
        self.dir.is_some() && self.every_epochs.is_some_and(|e| e > 0 && epoch.is_multiple_of(e))
    }

    /// Writes `snap` when this process is the writer.
    pub fn write<T: Scalar>(&self, snap: &Snapshot<T>) -> Result<()> {
        match (self.dir, self.writer) {
            (Some(dir), true) => Checkpoint::of(snap)?.save(dir),
            _ => Ok(()),
        }
    }
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
