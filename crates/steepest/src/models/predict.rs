//! What every fitted model can do: predict, give probabilities, score and evaluate.

use super::evaluate::Evaluator;
use super::kernel_svm::FittedKernelSvm;
use super::linear::{classes_from_decision, FittedLinear};
use super::mlp::FittedMlp;
use super::net::FittedNet;
use crate::data::{Dataset, Features, Targets};
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use crate::train::{metrics, History};
use std::collections::BTreeMap;

/// Predictions for a set of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// Class indices (into the model's class names).
    Classes(Vec<usize>),
    /// Real values.
    Values(Vec<f64>),
}

/// A fitted model of any kind.
#[derive(Clone, Debug)]
pub enum FittedModel<T: Scalar> {
    /// A linear model.
    Linear(FittedLinear<T>),
    /// A multi-layer perceptron.
    Mlp(FittedMlp<T>),
    /// A network built from layers.
    Net(FittedNet<T>),
    /// An exact kernel SVM.
    Kernel(FittedKernelSvm<T>),
}

/// The prediction interface; `predict`, `score` and `evaluate` come with it.
pub trait Predictor<T: Scalar> {
    /// Decision values: scores or logits per output for classifiers, values for regressors.
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>>;
    /// Class probabilities `[rows, classes]`, for models that have them.
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>>;
    /// Whether the model predicts classes.
    fn is_classifier(&self) -> bool;
    /// The class names, in index order (empty for regressors).
    fn class_names(&self) -> &[String];

    /// Predicted classes or values.
    fn predict(&self, x: &Features<T>) -> Result<Predictions> {
        let z = self.decision_function(x)?;
        Ok(if self.is_classifier() {
            Predictions::Classes(classes_from_decision(&z))
        } else {
            Predictions::Values(z.data().iter().map(|v| v.as_f64()).collect())
        })
    }

    /// The targets of `data` as the model's class indices (matched by class name).
    fn align_classes(&self, data: &Dataset<T>) -> Result<Vec<usize>> {
        let (labels, names) = data.targets.classes()?;
        let map: Vec<Option<usize>> = names
            .iter()
            .map(|n| self.class_names().iter().position(|c| c == n))
            .collect();
        labels
            .iter()
            .map(|&l| {
                map[l].ok_or_else(|| {
                    Error::invalid(
                        "evaluate",
                        format!(
                            "class '{}' was not seen in training (classes: {})",
                            names[l],
                            self.class_names().join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// Accuracy for a classifier, R^2 for a regressor.
    fn score(&self, data: &Dataset<T>) -> Result<f64> {
        match self.predict(&data.features)? {
            Predictions::Classes(p) => metrics::accuracy(&self.align_classes(data)?, &p),
            Predictions::Values(p) => metrics::r2(data.targets.values()?, &p),
        }
    }

    /// All metrics: accuracy, balanced_accuracy, precision/recall/f1 (macro and micro),
    /// log_loss (with probabilities) and roc_auc (binary) for classifiers; mse, rmse, mae and
    /// r2 for regressors.
    fn evaluate(&self, data: &Dataset<T>) -> Result<BTreeMap<String, f64>> {
        let mut e = Evaluator::new(self);
        e.add(self, data)?;
        e.finish()
    }
}

impl<T: Scalar> Predictor<T> for FittedLinear<T> {
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        FittedLinear::decision_function(self, x)
    }
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        FittedLinear::predict_proba(self, x)
    }
    fn is_classifier(&self) -> bool {
        FittedLinear::is_classifier(self)
    }
    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

impl<T: Scalar> Predictor<T> for FittedMlp<T> {
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        FittedMlp::decision_function(self, x)
    }
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        FittedMlp::predict_proba(self, x)
    }
    fn is_classifier(&self) -> bool {
        FittedMlp::is_classifier(self)
    }
    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

impl<T: Scalar> Predictor<T> for FittedNet<T> {
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        FittedNet::decision_function(self, x)
    }
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        FittedNet::predict_proba(self, x)
    }
    fn is_classifier(&self) -> bool {
        FittedNet::is_classifier(self)
    }
    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

impl<T: Scalar> FittedModel<T> {
    fn inner(&self) -> &dyn Predictor<T> {
        match self {
            FittedModel::Linear(m) => m,
            FittedModel::Mlp(m) => m,
            FittedModel::Net(m) => m,
            FittedModel::Kernel(m) => m,
        }
    }

    /// The model kind as the CLI names it (`linear`, `logistic`, ..., `mlp`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            FittedModel::Linear(m) => m.params.kind.name(),
            FittedModel::Mlp(_) => "mlp",
            FittedModel::Net(m) => super::NetParams::PRESETS
                .into_iter()
                .find(|p| *p == m.params.arch_name)
                .unwrap_or("net"),
            FittedModel::Kernel(_) => "kernel-svm",
        }
    }

    /// Number of input columns.
    pub fn n_inputs(&self) -> usize {
        match self {
            FittedModel::Linear(m) => m.n_inputs,
            FittedModel::Mlp(m) => m.n_inputs,
            FittedModel::Net(m) => m.n_inputs,
            FittedModel::Kernel(m) => m.n_inputs,
        }
    }

    /// Names of the input columns (empty: the defaults `f0, f1, ...`).
    pub fn feature_names(&self) -> &[String] {
        match self {
            FittedModel::Linear(m) => &m.input_names,
            FittedModel::Mlp(m) => &m.feature_names,
            FittedModel::Net(m) => &m.feature_names,
            FittedModel::Kernel(m) => &m.feature_names,
        }
    }

    /// The training history.
    pub fn history(&self) -> &History {
        match self {
            FittedModel::Linear(m) => &m.history,
            FittedModel::Mlp(m) => &m.history,
            FittedModel::Net(m) => &m.history,
            FittedModel::Kernel(m) => &m.history,
        }
    }

    /// The learned parameters by name.
    pub fn weights(&self) -> &crate::nn::ParamStore<T> {
        match self {
            FittedModel::Linear(m) => &m.weights,
            FittedModel::Mlp(m) => &m.net.params,
            FittedModel::Net(m) => &m.net.params,
            FittedModel::Kernel(m) => &m.weights,
        }
    }

    /// Whether the targets of `data` suit this model.
    pub fn check_targets(&self, data: &Dataset<T>) -> Result<()> {
        match (&data.targets, self.is_classifier()) {
            (Targets::Classes { .. }, true) | (Targets::Values(_), false) => Ok(()),
            _ => Err(Error::invalid(
                "evaluate",
                "the data's targets do not match the model's task",
            )),
        }
    }
}

impl<T: Scalar> Predictor<T> for FittedModel<T> {
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        self.inner().decision_function(x)
    }
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        self.inner().predict_proba(x)
    }
    fn is_classifier(&self) -> bool {
        self.inner().is_classifier()
    }
    fn class_names(&self) -> &[String] {
        self.inner().class_names()
    }
}
