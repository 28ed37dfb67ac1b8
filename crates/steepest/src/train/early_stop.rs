//! Early stopping: the best monitored loss, the epochs since it, and the parameters to restore.

use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Early stopping on the validation loss (the training loss without validation data).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// An improvement must lower the loss by more than this.
    pub min_delta: f64,
    /// Put back the parameters of the best epoch at the end.
    pub restore_best: bool,
}

/// What early stopping remembers between epochs (checkpointed with the run).
///
/// ```
/// use steepest::nn::ParamStore;
/// use steepest::train::{EarlyStopState, EarlyStopping};
/// let rule = EarlyStopping { patience: 1, min_delta: 0.0, restore_best: false };
/// let mut es = EarlyStopState::<f32>::default();
/// let p = ParamStore::new();
/// assert!(!es.observe(&rule, 1.0, &p)); // best so far
/// assert!(!es.observe(&rule, 1.5, &p)); // one bad epoch: within patience
/// assert!(es.observe(&rule, 1.2, &p)); // two: stop
/// assert_eq!((es.best, es.bad_epochs), (Some(1.0), 2));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Scalar")]
pub struct EarlyStopState<T: Scalar> {
    /// The best monitored value so far.
    pub best: Option<f64>,
    /// Epochs since it.
    pub bad_epochs: usize,
    /// The parameters of that epoch, when they are to be restored.
    pub best_params: Option<ParamStore<T>>,
}

impl<T: Scalar> Default for EarlyStopState<T> {
    fn default() -> Self {
        Self {
            best: None,
            bad_epochs: 0,
            best_params: None,
        }
    }
}

impl<T: Scalar> EarlyStopState<T> {
    /// Takes an epoch's monitored loss (`params` are that epoch's parameters); returns whether
    /// training stops: more than `rule.patience` epochs without a loss below the best minus
    /// `rule.min_delta`.
    pub fn observe(&mut self, rule: &EarlyStopping, monitored: f64, params: &ParamStore<T>) -> bool {
        if self.best.is_none_or(|b| monitored < b - rule.min_delta) {
            self.best = Some(monitored);
            self.bad_epochs = 0;
            if rule.restore_best {
                self.best_params = Some(params.clone());
            }
        } else {
            self.bad_epochs += 1;
        }
        self.bad_epochs > rule.patience
    }

    /// What the run says when it stops after `epoch` (1-based).
    pub fn stop_message(&self, epoch: usize) -> String {
        format!(
            "early stopping after epoch {epoch}: no improvement for {} epochs",
            self.bad_epochs
        )
    }

    /// The parameters to finish with, when `rule` restores the best epoch's.
    pub fn take_best(&mut self, rule: Option<&EarlyStopping>) -> Option<ParamStore<T>> {
        self.best_params.take().filter(|_| rule.is_some_and(|r| r.restore_best))
    }
}
