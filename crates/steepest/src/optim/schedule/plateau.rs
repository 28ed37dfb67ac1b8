//! Reduce-on-plateau.

use super::{check_name, Schedule};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Whether the monitored metric should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How the improvement threshold is measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// Relative to the best value.
    Rel,
    /// In the metric's units.
    Abs,
}

/// `ReduceLROnPlateau`: multiplies the learning rate by `factor` once the metric has not
/// improved for more than `patience` steps, then waits `cooldown` steps; never below `min_lr`,
/// and changes smaller than `eps` are ignored. Improvement (mode min): a < best (1 - threshold)
/// (rel) or a < best - threshold (abs); mode max mirrors it. PyTorch defaults: factor 0.1,
/// patience 10, threshold 1e-4 (rel), cooldown 0, min_lr 0, eps 1e-8.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReduceOnPlateau {
    /// Current learning rate.
    pub lr: f64,
    /// Direction of improvement.
    pub mode: PlateauMode,
    /// Reduction factor.
    pub factor: f64,
    /// Steps without improvement tolerated.
    pub patience: u64,
    /// Size of an improvement that counts.
    pub threshold: f64,
    /// How `threshold` is measured.
    pub threshold_mode: ThresholdMode,
    /// Steps to wait after a reduction.
    pub cooldown: u64,
    /// Floor.
    pub min_lr: f64,
    /// Smallest change applied.
    pub eps: f64,
    best: Option<f64>,
    num_bad: u64,
    cooldown_counter: u64,
}

impl ReduceOnPlateau {
    /// PyTorch's defaults with initial learning rate `lr` and mode `mode`.
    pub fn new(lr: f64, mode: PlateauMode) -> Self {
        Self {
            lr,
            mode,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: None,
            num_bad: 0,
            cooldown_counter: 0,
        }
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (1.0 + self.threshold),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }
}

impl Schedule for ReduceOnPlateau {
    fn name(&self) -> &'static str {
        "reduce-on-plateau"
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    /// A step without a metric (or with a NaN) counts as no improvement.
    fn step(&mut self, metric: Option<f64>) {
        match (metric, self.best) {
            (Some(a), None) if !a.is_nan() => {
                self.best = Some(a);
                self.num_bad = 0;
            }
            (Some(a), Some(b)) if self.is_better(a, b) => {
                self.best = Some(a);
                self.num_bad = 0;
            }
            _ => self.num_bad += 1,
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad = 0;
        }
        if self.num_bad > self.patience {
            let new = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new > self.eps {
                self.lr = new;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad = 0;
        }
    }
    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name(), "config": self })
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        check_name(state, self.name())?;
        let cfg = state
            .get("config")
            .cloned()
            .ok_or_else(|| Error::format("schedule state", "missing 'config'"))?;
        *self = serde_json::from_value(cfg).map_err(|e| Error::format("schedule state", e.to_string()))?;
        Ok(())
    }
}
