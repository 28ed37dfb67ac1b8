//! Metrics of a fitted model over test rows that arrive in blocks (a test file read piece by
//! piece keeps only each row's prediction, not its features).

use super::linear::classes_from_decision;
use super::predict::Predictor;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::tensor::Scalar;
use crate::train::metrics;
use std::collections::BTreeMap;

/// What a block of rows leaves behind for the metrics: per row, its class (or value), the
/// predicted class (or value), the class probabilities when the model has them, and the binary
/// decision score for ROC AUC; 40 bytes a row for a binary classifier.
///
/// Adding the rows of a dataset in any number of consecutive blocks gives the metrics of
/// [`Predictor::evaluate`] on the whole, to the last bit (each row's prediction does not depend
/// on the others, and the sums run in row order).
///
/// ```
/// use steepest::data::embedded;
/// use steepest::models::{Evaluator, LinearParams, Predictor};
/// let data = embedded::iris::<f64>()?;
/// let model = LinearParams::softmax_regression().check()?.fit(&data)?;
/// let mut e = Evaluator::new(&model);
/// e.add(&model, &data.subset(&(0..60).collect::<Vec<_>>())?)?;
/// e.add(&model, &data.subset(&(60..150).collect::<Vec<_>>())?)?;
/// assert_eq!(e.rows(), 150);
/// assert_eq!(e.finish()?, model.evaluate(&data)?);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Evaluator {
    classes: Option<usize>,
    y: Vec<usize>,
    pred: Vec<usize>,
    proba: Vec<f64>,
    /// Whether every block had probabilities.
    with_proba: bool,
    score: Vec<f64>,
    values: Vec<f64>,
    predicted: Vec<f64>,
}

impl Evaluator {
    /// An empty evaluation for `model` (a classifier over its classes, or a regressor).
    pub fn new<T: Scalar, P: Predictor<T> + ?Sized>(model: &P) -> Self {
        Self {
            classes: model.is_classifier().then(|| model.class_names().len()),
            y: Vec::new(),
            pred: Vec::new(),
            proba: Vec::new(),
            with_proba: true,
            score: Vec::new(),
            values: Vec::new(),
            predicted: Vec::new(),
        }
    }

    /// The rows added so far.
    pub fn rows(&self) -> usize {
        self.y.len() + self.values.len()
    }

    /// Predicts the rows of `data` with `model` and keeps what the metrics need. Classes are
    /// matched to the model's by name; a class not seen in training is an error.
    pub fn add<T: Scalar, P: Predictor<T> + ?Sized>(&mut self, model: &P, data: &Dataset<T>) -> Result<()> {
        let Some(k) = self.classes else {
            let y = data.targets.values()?;
            let z = model.decision_function(&data.features)?;
            self.values.extend_from_slice(y);
            self.predicted.extend(z.data().iter().map(|v| v.as_f64()));
            return Ok(());
        };
        if model.class_names().len() != k {
            return Err(Error::invalid(
                "evaluate",
                "blocks scored by models with different classes",
            ));
        }
        let y = model.align_classes(data)?;
        let z = model.decision_function(&data.features)?;
        self.pred.extend(classes_from_decision(&z));
        if k == 2 {
            if z.row_len() == 1 {
                self.score.extend(z.data().iter().map(|v| v.as_f64()));
            } else {
                self.score
                    .extend((0..z.rows_count()).map(|r| z.row(r)[1].as_f64() - z.row(r)[0].as_f64()));
            }
        }
        match model.predict_proba(&data.features)? {
            Some(p) if self.with_proba => self.proba.extend(p.data().iter().map(|v| v.as_f64())),
            _ => {
                self.with_proba = false;
                self.proba = Vec::new();
            }
        }
        self.y.extend(y);
        Ok(())
    }

    /// The log-loss of predicting the class frequencies of the rows added (see
    /// [`metrics::prior_log_loss`]); `None` for a regressor or before any row.
    pub fn prior_log_loss(&self) -> Option<f64> {
        let k = self.classes?;
        metrics::prior_log_loss(&self.y, k).ok()
    }

    /// The metrics of all rows added: accuracy, balanced_accuracy, precision/recall/f1 (macro
    /// and micro), log_loss (with probabilities) and roc_auc (binary, both classes present) for
    /// a classifier; mse, rmse, mae and r2 for a regressor.
    pub fn finish(&self) -> Result<BTreeMap<String, f64>> {
        let mut m = BTreeMap::new();
        let Some(k) = self.classes else {
            let (y, p) = (&self.values, &self.predicted);
            m.insert("mse".into(), metrics::mse(y, p)?);
            m.insert("rmse".into(), metrics::rmse(y, p)?);
            m.insert("mae".into(), metrics::mae(y, p)?);
            m.insert("r2".into(), metrics::r2(y, p)?);
            return Ok(m);
        };
        let (y, pred) = (&self.y, &self.pred);
        m.insert("accuracy".into(), metrics::accuracy(y, pred)?);
        m.insert("balanced_accuracy".into(), metrics::balanced_accuracy(y, pred, k)?);
        let ma = metrics::prf_macro(y, pred, k)?;
        let mi = metrics::prf_micro(y, pred)?;
        m.insert("precision_macro".into(), ma.precision);
        m.insert("recall_macro".into(), ma.recall);
        m.insert("f1_macro".into(), ma.f1);
        m.insert("precision_micro".into(), mi.precision);
        m.insert("recall_micro".into(), mi.recall);
        m.insert("f1_micro".into(), mi.f1);
        if self.with_proba {
            m.insert("log_loss".into(), metrics::log_loss(y, &self.proba, k)?);
        }
        if k == 2 && y.contains(&0) && y.contains(&1) {
            m.insert("roc_auc".into(), metrics::roc_auc(y, &self.score)?);
        }
        Ok(m)
    }
}
