//! Shared output helpers: files, run folders, metric tables.

use crate::error::{failed, CliResult};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Writes a file atomically, as a run failure (exit 1) if it cannot.
pub fn write_file(path: &Path, bytes: &[u8]) -> CliResult<()> {
    steepest::fsutil::write_atomic(path, bytes).map_err(|e| failed(format!("writing {}: {e}", path.display())))
}

/// The first `runs/<stem>-<n>` that does not exist yet.
pub fn next_dir(stem: &str) -> PathBuf {
    (1..)
        .map(|n| PathBuf::from("runs").join(format!("{stem}-{n}")))
        .find(|p| !p.exists())
        .expect("an unused number")
}

/// Metrics as the JSON object of `--json` (classifiers always carry `log_loss`, null when the
/// model has no probabilities).
pub fn metrics_json(m: &BTreeMap<String, f64>, classifier: bool) -> Value {
    let mut obj: serde_json::Map<String, Value> = m.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if classifier && !obj.contains_key("log_loss") {
        obj.insert("log_loss".into(), Value::Null);
    }
    Value::Object(obj)
}

/// Prints the headline metrics.
pub fn print_metrics(m: &BTreeMap<String, f64>, classifier: bool, rows: usize) {
    let keys: &[&str] = if classifier {
        &["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "roc_auc"]
    } else {
        &["r2", "rmse", "mae", "mse"]
    };
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| m.get(*k).map(|v| format!("{k} {v:.4}")))
        .collect();
    println!("test {} ({rows} rows)", parts.join("  "));
}

/// Warns when a classifier's test log-loss is far above `prior`, that of predicting the class
/// frequencies (by more than a tenth, and 0.05): its probabilities are overconfident, which the
/// accuracy alone does not show.
pub fn warn_if_overconfident(m: &BTreeMap<String, f64>, prior: Option<f64>) {
    if let (Some(&loss), Some(prior)) = (m.get("log_loss"), prior) {
        if loss > prior * 1.1 && loss > prior + 0.05 {
            eprintln!(
                "warning: the test log-loss {loss:.4} is far above the {prior:.4} of predicting the class frequencies: \
                 the model's probabilities are overconfident (a smaller --lr, a larger --alpha or fewer --epochs)"
            );
        }
    }
}

/// The metrics of `model` on `data` (see `Predictor::evaluate`), with
/// [`warn_if_overconfident`] against the class frequencies of its rows.
pub fn evaluate_checked<T: steepest::tensor::Scalar>(
    model: &steepest::models::FittedModel<T>,
    data: &steepest::data::Dataset<T>,
) -> CliResult<BTreeMap<String, f64>> {
    let mut eval = steepest::models::Evaluator::new(model);
    eval.add(model, data)?;
    let m = eval.finish()?;
    warn_if_overconfident(&m, eval.prior_log_loss());
    Ok(m)
}
