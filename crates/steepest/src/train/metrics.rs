//! Classification and regression metrics, with scikit-learn's definitions.

use crate::error::{Error, Result};

fn check_len(a: usize, b: usize) -> Result<()> {
    if a != b || a == 0 {
        return Err(Error::invalid("metric", format!("{a} predictions for {b} targets")));
    }
    Ok(())
}

/// Fraction of correct predictions.
pub fn accuracy(y: &[usize], pred: &[usize]) -> Result<f64> {
    MetricParts::accuracy(y, pred).map(|p| p.value())
}

/// `[true class][predicted class]` counts for `k` classes.
pub fn confusion_matrix(y: &[usize], pred: &[usize], k: usize) -> Result<Vec<Vec<usize>>> {
    check_len(pred.len(), y.len())?;
    let mut m = vec![vec![0; k]; k];
    for (&t, &p) in y.iter().zip(pred) {
        if t >= k || p >= k {
            return Err(Error::invalid(
                "confusion matrix",
                format!("class {} is not below {k}", t.max(p)),
            ));
        }
        m[t][p] += 1;
    }
    Ok(m)
}

/// Mean of per-class recall over the classes present in `y`.
pub fn balanced_accuracy(y: &[usize], pred: &[usize], k: usize) -> Result<f64> {
    let m = confusion_matrix(y, pred, k)?;
    let recalls: Vec<f64> = (0..k)
        .filter(|&c| m[c].iter().sum::<usize>() > 0)
        .map(|c| m[c][c] as f64 / m[c].iter().sum::<usize>() as f64)
        .collect();
    Ok(recalls.iter().sum::<f64>() / recalls.len().max(1) as f64)
}

/// Precision, recall and F1, averaged.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Macro average: the unweighted mean over classes (a class with no predicted or no true rows
/// counts 0 for the undefined ratio, as scikit-learn's `zero_division=0`). Classes that appear
/// neither in `y` nor in `pred` are left out.
pub fn prf_macro(y: &[usize], pred: &[usize], k: usize) -> Result<Prf> {
    let m = confusion_matrix(y, pred, k)?;
    let (mut p, mut r, mut f, mut n) = (0.0, 0.0, 0.0, 0.0);
    for c in 0..k {
        let tp = m[c][c] as f64;
        let actual: usize = m[c].iter().sum();
        let predicted: usize = (0..k).map(|t| m[t][c]).sum();
        if actual == 0 && predicted == 0 {
            continue;
        }
        let pc = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
        let rc = if actual > 0 { tp / actual as f64 } else { 0.0 };
        p += pc;
        r += rc;
        f += if pc + rc > 0.0 { 2.0 * pc * rc / (pc + rc) } else { 0.0 };
        n += 1.0;
    }
    Ok(Prf {
        precision: p / n,
        recall: r / n,
        f1: f / n,
    })
}

/// Micro average: counts pooled over classes (for single-label data all three equal accuracy).
pub fn prf_micro(y: &[usize], pred: &[usize]) -> Result<Prf> {
    let a = accuracy(y, pred)?;
    Ok(Prf {
        precision: a,
        recall: a,
        f1: a,
    })
}

/// Mean negative log-probability of the true class; probabilities are clipped to
/// [1e-15, 1 - 1e-15] as scikit-learn does. `proba` holds `k` values per row.
pub fn log_loss(y: &[usize], proba: &[f64], k: usize) -> Result<f64> {
    check_len(proba.len(), y.len() * k)?;
    let eps = 1e-15;
    Ok(y.iter()
        .enumerate()
        .map(|(i, &c)| -proba[i * k + c].clamp(eps, 1.0 - eps).ln())
        .sum::<f64>()
        / y.len() as f64)
}

/// The log-loss of predicting every row's class with the classes' frequencies among `y`: the
/// entropy -sum_c f_c ln f_c (what a model without features scores; ln 2 for balanced binary
/// classes). A model's log-loss well above it is overconfident.
///
/// ```
/// use steepest::train::metrics::prior_log_loss;
/// assert!((prior_log_loss(&[0, 1, 1, 0], 2).unwrap() - 2f64.ln()).abs() < 1e-15);
/// // Frequencies 1/4 and 3/4.
/// let h = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
/// assert!((prior_log_loss(&[1, 1, 0, 1], 2).unwrap() - h).abs() < 1e-15);
/// ```
pub fn prior_log_loss(y: &[usize], k: usize) -> Result<f64> {
    if y.is_empty() {
        return Err(Error::invalid("prior_log_loss", "no rows"));
    }
    let mut counts = vec![0usize; k];
    for &c in y {
        *counts
            .get_mut(c)
            .ok_or_else(|| Error::invalid("prior_log_loss", format!("class {c} is not below {k}")))? += 1;
    }
    let n = y.len() as f64;
    Ok(counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let f = c as f64 / n;
            -f * f.ln()
        })
        .sum())
}

/// Area under the ROC curve for binary labels (1 positive) from scores: the probability that a
/// random positive outranks a random negative, ties counting one half (Mann-Whitney U).
pub fn roc_auc(y: &[usize], score: &[f64]) -> Result<f64> {
    check_len(score.len(), y.len())?;
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&t| y[idx[t]] == 1).count() as f64 * avg_rank;
        i = j + 1;
    }
    let pos = y.iter().filter(|&&c| c == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Err(Error::invalid("roc_auc", "needs both classes among the targets"));
    }
    Ok((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Mean squared error.
pub fn mse(y: &[f64], pred: &[f64]) -> Result<f64> {
    check_len(pred.len(), y.len())?;
    Ok(y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64)
}

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> Result<f64> {
    Ok(mse(y, pred)?.sqrt())
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> Result<f64> {
    check_len(pred.len(), y.len())?;
    Ok(y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64)
}

/// Coefficient of determination 1 - SS_res / SS_tot (1 for a perfect fit, 0 for predicting the
/// mean; 0 when y is constant and the fit is not perfect, as scikit-learn).
pub fn r2(y: &[f64], pred: &[f64]) -> Result<f64> {
    check_len(pred.len(), y.len())?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    Ok(if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else if ss_res == 0.0 {
        1.0
    } else {
        0.0
    })
}

/// A validation metric as sums over rows, so that the shards of data-parallel training add up
/// to the metric over all rows (accuracy from correct rows; R^2 from the residual sum of
/// squares and the sums of y and y^2: R^2 = 1 - SSE / (sum y^2 - (sum y)^2 / n)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricParts {
    /// Correct predictions and rows.
    Accuracy {
        /// Correct predictions.
        correct: f64,
        /// Rows.
        rows: f64,
    },
    /// Sums for R^2.
    R2 {
        /// Sum of squared residuals.
        sse: f64,
        /// Sum of targets.
        sum_y: f64,
        /// Sum of squared targets.
        sum_yy: f64,
        /// Rows.
        rows: f64,
    },
}

impl MetricParts {
    /// The parts of [`accuracy`].
    pub fn accuracy(y: &[usize], pred: &[usize]) -> Result<Self> {
        check_len(pred.len(), y.len())?;
        Ok(Self::Accuracy {
            correct: y.iter().zip(pred).filter(|(a, b)| a == b).count() as f64,
            rows: y.len() as f64,
        })
    }

    /// The parts of [`r2`].
    pub fn r2(y: &[f64], pred: &[f64]) -> Result<Self> {
        check_len(pred.len(), y.len())?;
        Ok(Self::R2 {
            sse: y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum(),
            sum_y: y.iter().sum(),
            sum_yy: y.iter().map(|a| a * a).sum(),
            rows: y.len() as f64,
        })
    }

    /// The metric's name: `accuracy` or `r2`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Accuracy { .. } => "accuracy",
            Self::R2 { .. } => "r2",
        }
    }

    /// The metric (R^2 of constant targets: 1 for a perfect fit, else 0, as [`r2`]).
    pub fn value(&self) -> f64 {
        match *self {
            Self::Accuracy { correct, rows } => correct / rows.max(1.0),
            Self::R2 {
                sse,
                sum_y,
                sum_yy,
                rows,
            } => {
                let sst = (sum_yy - sum_y * sum_y / rows.max(1.0)).max(0.0);
                if sst > 0.0 {
                    1.0 - sse / sst
                } else if sse == 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// The sums as a fixed-size array (for one allreduce).
    pub fn sums(&self) -> [f64; 4] {
        match *self {
            Self::Accuracy { correct, rows } => [correct, rows, 0.0, 0.0],
            Self::R2 {
                sse,
                sum_y,
                sum_yy,
                rows,
            } => [sse, sum_y, sum_yy, rows],
        }
    }

    /// The same metric with sums `s` (as [`MetricParts::sums`] lays them out).
    pub fn with_sums(&self, s: [f64; 4]) -> Self {
        match self {
            Self::Accuracy { .. } => Self::Accuracy {
                correct: s[0],
                rows: s[1],
            },
            Self::R2 { .. } => Self::R2 {
                sse: s[0],
                sum_y: s[1],
                sum_yy: s[2],
                rows: s[3],
            },
        }
    }
}
