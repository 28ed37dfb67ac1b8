//! How a model is trained: optimizer, schedule, loop settings, scaling, validation split.

use crate::data::{BatchSize, ScalerKind};
use crate::error::{Error, Result};
use crate::optim::rules::Sgd;
use crate::optim::{OptimizerSpec, ScheduleSpec};
use crate::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// Training options shared by every model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitOptions {
    /// The optimizer and its hyper-parameters.
    pub optimizer: OptimizerSpec,
    /// A learning-rate schedule, if any.
    pub schedule: Option<ScheduleSpec>,
    /// Loop settings (epochs, batch size, seed, early stopping, checkpoints, ...).
    pub train: TrainConfig,
    /// Feature scaling fitted on the training rows.
    pub scaler: ScalerKind,
    /// Fraction of the training rows held out (stratified) for validation every epoch; 0 uses
    /// none.
    pub validation_fraction: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            optimizer: OptimizerSpec::Sgd(Sgd {
                lr: 0.01,
                momentum: 0.9,
                ..Sgd::default()
            }),
            schedule: None,
            train: TrainConfig {
                epochs: 50,
                batch_size: BatchSize::Rows(32),
                ..TrainConfig::default()
            },
            scaler: ScalerKind::Standard,
            validation_fraction: 0.0,
        }
    }
}

impl FitOptions {
    /// Checks the settings that can be checked before data is seen.
    pub fn validate(&self) -> Result<()> {
        if self.train.epochs == 0 {
            return Err(Error::invalid("fit", "epochs must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return Err(Error::invalid(
                "fit",
                format!("validation fraction {} must be in [0, 1)", self.validation_fraction),
            ));
        }
        if let crate::data::BatchSize::Rows(0) = self.train.batch_size {
            return Err(Error::invalid("fit", "batch size must be at least 1"));
        }
        self.optimizer.build::<f64>().map(|_| ())
    }
}
