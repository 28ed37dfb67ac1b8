//! The numbers of each epoch.

use serde::{Deserialize, Serialize};

/// One epoch's numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (weighted by rows).
    pub train_loss: f64,
    /// Validation loss, when there is validation data.
    pub val_loss: Option<f64>,
    /// Validation metric (name, value).
    pub val_metric: Option<(String, f64)>,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Mean global gradient norm over the epoch's steps (before clipping).
    #[serde(deserialize_with = "nan_if_null")]
    pub grad_norm: f64,
    /// Wall time of the epoch (excluded from bit-identity checks).
    pub seconds: f64,
}

/// The records of every epoch.
pub type History = Vec<EpochRecord>;

/// A number written by serde_json, where a NaN (not measured) is written as null.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}
