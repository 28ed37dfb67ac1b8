//! The linear estimators.

use super::linear_online::{online_plan, OnlineRule};
use super::options::{lr_find, run_fit, FitOptions};
use super::rff::RandomFourierFeatures;
use crate::collective::Communicator;
use crate::data::{Dataset, Features, Interactions, PolynomialFeatures, Scaler, ScalerKind, Targets, Task};
use crate::error::{Error, Result};
use crate::linear::{LinearCore, LinearLoss, Penalty, RowTargets};
use crate::nn::ParamStore;
use crate::optim::rules::Sgd;
use crate::optim::{LrFinderConfig, LrFinderResult, OptimizerSpec};
use crate::tensor::{Rng, Scalar, Tensor};
use crate::train::metrics::MetricParts;
use crate::train::{History, Observer, Trainable};
use serde::{Deserialize, Serialize};

/// How a multi-class linear classifier combines its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Multiclass {
    /// One binary problem per class, trained together (class c against the rest).
    OneVsRest,
    /// One joint multi-class hinge (Crammer and Singer 2001; SVM losses only).
    CrammerSinger,
}

/// Which linear model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LinearKind {
    /// Linear regression with a regression loss (squared: ordinary least squares; with an L2
    /// penalty: ridge; L1: lasso; both: elastic net).
    Regression {
        /// The loss.
        loss: LinearLoss,
    },
    /// Binary logistic regression (log loss).
    Logistic,
    /// Multinomial (softmax) regression.
    Softmax,
    /// Linear support-vector machine.
    Svm {
        /// Hinge or squared hinge.
        loss: LinearLoss,
        /// Multi-class scheme.
        multiclass: Multiclass,
    },
    /// SVM with an RBF kernel approximated by random Fourier features.
    RbfSvm {
        /// Kernel width: k(x, y) = exp(-gamma ||x - y||^2).
        gamma: f64,
        /// Number of random features.
        components: usize,
        /// Hinge or squared hinge.
        loss: LinearLoss,
        /// Multi-class scheme.
        multiclass: Multiclass,
    },
    /// The perceptron (one-vs-rest for several classes).
    Perceptron,
}

impl LinearKind {
    /// The name the CLI uses.
    pub fn name(&self) -> &'static str {
        match self {
            LinearKind::Regression { .. } => "linear",
            LinearKind::Logistic => "logistic",
            LinearKind::Softmax => "softmax",
            LinearKind::Svm { .. } => "svm",
            LinearKind::RbfSvm { .. } => "rbf-svm",
            LinearKind::Perceptron => "perceptron",
        }
    }

    pub(super) fn task(&self) -> Task {
        match self {
            LinearKind::Regression { .. } => Task::Regress,
            _ => Task::Classify,
        }
    }

    pub(super) fn loss(&self) -> LinearLoss {
        match self {
            LinearKind::Regression { loss } => *loss,
            LinearKind::Logistic => LinearLoss::Log,
            LinearKind::Softmax => LinearLoss::Multinomial,
            LinearKind::Svm { loss, multiclass } | LinearKind::RbfSvm { loss, multiclass, .. } => {
                if *multiclass == Multiclass::CrammerSinger {
                    LinearLoss::CrammerSinger
                } else {
                    *loss
                }
            }
            LinearKind::Perceptron => LinearLoss::Perceptron,
        }
    }
}

/// Per-class weights of the loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassWeight {
    /// Every class weighs 1.
    #[default]
    Uniform,
    /// n / (k n_c): rare classes weigh more (scikit-learn's "balanced").
    Balanced,
    /// One weight per class, in class order.
    Manual(Vec<f64>),
}

/// The hyper-parameters of a linear model (builder).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinearParams {
    /// Which model.
    pub kind: LinearKind,
    /// Penalty on the weights.
    pub penalty: Penalty,
    /// Class weights (classifiers).
    pub class_weight: ClassWeight,
    /// Polynomial feature degree (1: the features as they are).
    pub poly_degree: usize,
    /// Training options.
    pub fit: FitOptions,
    /// Feature hashing of sparse inputs into 2^N buckets, done by the reader (training and
    /// prediction alike; see [`crate::data::FeatureHasher`]): the model's inputs are buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_bits: Option<u32>,
    /// Quadratic interactions between groups of inputs (Vowpal Wabbit's `-q`), crossed before
    /// scaling, at training and prediction alike (see [`Interactions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactions: Option<Interactions>,
}

impl LinearParams {
    fn new(kind: LinearKind, lr: f64) -> Self {
        let fit = FitOptions {
            optimizer: OptimizerSpec::Sgd(Sgd {
                lr,
                momentum: 0.9,
                ..Sgd::default()
            }),
            ..FitOptions::default()
        };
        Self {
            kind,
            penalty: Penalty::None,
            class_weight: ClassWeight::Uniform,
            poly_degree: 1,
            fit,
            hash_bits: None,
            interactions: None,
        }
    }

    /// Ordinary least squares.
    pub fn linear_regression() -> Self {
        Self::new(
            LinearKind::Regression {
                loss: LinearLoss::Squared,
            },
            0.01,
        )
    }

    /// Ridge regression: squared loss with alpha ||w||^2 / 2.
    pub fn ridge(alpha: f64) -> Self {
        Self::linear_regression().penalty(Penalty::L2 { alpha })
    }

    /// Lasso: squared loss with alpha ||w||_1.
    pub fn lasso(alpha: f64) -> Self {
        Self::linear_regression().penalty(Penalty::L1 { alpha })
    }

    /// Elastic net.
    pub fn elastic_net(alpha: f64, l1_ratio: f64) -> Self {
        Self::linear_regression().penalty(Penalty::ElasticNet { alpha, l1_ratio })
    }

    /// Binary logistic regression.
    pub fn logistic_regression() -> Self {
        Self::new(LinearKind::Logistic, 0.01)
    }

    /// Softmax (multinomial) regression.
    pub fn softmax_regression() -> Self {
        Self::new(LinearKind::Softmax, 0.01)
    }

    /// Linear SVM with the hinge loss, one-vs-rest, and a small L2 penalty (alpha 1e-4).
    pub fn linear_svm() -> Self {
        Self::new(
            LinearKind::Svm {
                loss: LinearLoss::Hinge,
                multiclass: Multiclass::OneVsRest,
            },
            0.01,
        )
        .penalty(Penalty::L2 { alpha: 1e-4 })
    }

    /// RBF-kernel SVM through `components` random Fourier features of width `gamma`.
    pub fn rbf_svm(gamma: f64, components: usize) -> Self {
        let kind = LinearKind::RbfSvm {
            gamma,
            components,
            loss: LinearLoss::Hinge,
            multiclass: Multiclass::OneVsRest,
        };
        Self::new(kind, 0.01).penalty(Penalty::L2 { alpha: 1e-4 })
    }

    /// The perceptron (constant learning rate 1, no momentum, as scikit-learn).
    pub fn perceptron() -> Self {
        let mut p = Self::new(LinearKind::Perceptron, 1.0);
        p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
            lr: 1.0,
            ..Sgd::default()
        });
        p
    }

    /// Sets the penalty.
    pub fn penalty(mut self, p: Penalty) -> Self {
        self.penalty = p;
        self
    }

    /// Sets the class weights.
    pub fn class_weight(mut self, w: ClassWeight) -> Self {
        self.class_weight = w;
        self
    }

    /// Sets the polynomial degree.
    pub fn poly_degree(mut self, d: usize) -> Self {
        self.poly_degree = d;
        self
    }

    /// Sets the training options.
    pub fn fit_options(mut self, f: FitOptions) -> Self {
        self.fit = f;
        self
    }

    /// Validates every setting.
    pub fn check(self) -> Result<ValidLinearParams> {
        self.penalty.validate()?;
        self.fit.validate()?;
        self.kind.loss().validate()?;
        if self.poly_degree == 0 {
            return Err(Error::invalid("model", "poly_degree must be at least 1"));
        }
        match &self.kind {
            LinearKind::Regression { loss } if !loss.is_regression() => {
                return Err(Error::invalid("model", format!("{loss:?} is not a regression loss")))
            }
            LinearKind::Svm { loss, .. } | LinearKind::RbfSvm { loss, .. }
                if !matches!(loss, LinearLoss::Hinge | LinearLoss::SquaredHinge) =>
            {
                return Err(Error::invalid("model", "an SVM takes the hinge or squared hinge loss"))
            }
            LinearKind::RbfSvm { gamma, components, .. } if gamma.is_nan() || *gamma <= 0.0 || *components == 0 => {
                return Err(Error::invalid(
                    "model",
                    "rbf-svm needs gamma > 0 and at least one component",
                ))
            }
            _ => {}
        }
        if let ClassWeight::Manual(w) = &self.class_weight {
            if w.iter().any(|v| !(*v >= 0.0 && v.is_finite())) {
                return Err(Error::invalid("model", "class weights must be finite and >= 0"));
            }
        }
        if let OptimizerSpec::Invariant(_) = self.fit.optimizer {
            let loss = self.kind.loss();
            let weights = self.class_weight != ClassWeight::Uniform;
            online_plan(&self.fit, loss, self.penalty, weights)
                .map_err(|why| Error::invalid("invariant", format!("the per-example rule does not apply: {why}")))?;
        }
        let l1 = self.penalty.strengths().0 > 0.0;
        if let OptimizerSpec::Newton(_) = self.fit.optimizer {
            let exact = matches!(
                self.kind,
                LinearKind::Regression {
                    loss: LinearLoss::Squared
                } | LinearKind::Logistic
            );
            if !exact || l1 {
                return Err(Error::invalid(
                    "model",
                    format!(
                        "newton solves linear regression (squared loss) and logistic regression with no \
                         penalty or l2, not {}{}; use lbfgs",
                        self.kind.name(),
                        if l1 { " with an l1 penalty" } else { "" }
                    ),
                ));
            }
        }
        if l1 && matches!(self.fit.optimizer, OptimizerSpec::Lbfgs(_) | OptimizerSpec::Armijo(_)) {
            return Err(Error::invalid(
                "model",
                "an L1 penalty needs a step optimizer (its proximal step); not lbfgs or armijo",
            ));
        }
        Ok(ValidLinearParams(self))
    }
}

/// Checked [`LinearParams`], ready to fit.
#[derive(Clone, Debug)]
pub struct ValidLinearParams(LinearParams);

impl ValidLinearParams {
    /// The parameters.
    pub fn params(&self) -> &LinearParams {
        &self.0
    }

    /// Fits on `data`.
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<FittedLinear<T>> {
        self.fit_with(data, None, &mut [])
    }

    /// Checks that training on `data` fits the memory budget ([`crate::memory`]): weights,
    /// gradient, optimizer state, averages and the best copy (about six times the model), and
    /// the scaler's sums, for the width after polynomial expansion.
    pub fn check_memory<T: Scalar>(&self, data: &Dataset<T>) -> Result<()> {
        let p = &self.0;
        let width = match (p.poly_degree, &p.interactions) {
            (0 | 1, Some(q)) => q.output_count(),
            (0 | 1, None) => data.cols() as u128,
            (d, _) => PolynomialFeatures { degree: d }.output_count(data.cols()),
        };
        let outputs = match data.n_classes() {
            k if k > 2 => k as u128,
            _ => 1,
        };
        let per = std::mem::size_of::<T>() as u128;
        let hint = match data.features {
            Features::Sparse(_) => {
                "; the width is the largest feature index in the file: re-index the features, or hash \
                 them into fewer columns (feature hashing)"
            }
            Features::Dense(_) => "",
        };
        crate::memory::ensure(
            &format!("a linear model on {width} features with {outputs} outputs"),
            width
                .saturating_mul(outputs)
                .saturating_mul(per * 6)
                .saturating_add(width.saturating_mul(24)),
            hint,
        )
    }

    /// Checks `data` against the model and turns it into what the trainer sees: the validation
    /// split, polynomial expansion, scaling fitted on the training rows, random features.
    /// With `comm`, `data` is this rank's shard, and the statistics (class counts, scaling) are
    /// those of all ranks' rows.
    fn prepare<T: Scalar>(
        &self,
        data: &Dataset<T>,
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<Prepared<T>> {
        let p = &self.0;
        let task = p.kind.task();
        if data.targets.task() != task {
            return Err(Error::invalid(
                "model",
                format!(
                    "'{}' is for {task:?} but the targets are for {:?}",
                    p.kind.name(),
                    data.targets.task()
                ),
            ));
        }
        data.check_finite("training data")?;
        self.check_memory(data)?;
        let n_classes = data.n_classes();
        let outputs = match (&p.kind, n_classes) {
            (LinearKind::Regression { .. }, _) => 1,
            (LinearKind::Logistic, 2) => 1,
            (LinearKind::Logistic, k) => {
                return Err(Error::invalid(
                    "model",
                    format!("logistic regression is binary; the data has {k} classes (use softmax)"),
                ))
            }
            (_, k) if k < 2 => {
                return Err(Error::invalid(
                    "model",
                    format!("classification needs at least 2 classes, found {k}"),
                ))
            }
            (LinearKind::Softmax, k) => k,
            (
                LinearKind::Svm {
                    multiclass: Multiclass::CrammerSinger,
                    ..
                },
                k,
            )
            | (
                LinearKind::RbfSvm {
                    multiclass: Multiclass::CrammerSinger,
                    ..
                },
                k,
            ) => k,
            (_, 2) => 1,
            (_, k) => k,
        };
        let class_weights = match (&p.class_weight, &data.targets) {
            (ClassWeight::Uniform, _) | (_, Targets::Values(_)) => None,
            (ClassWeight::Balanced, Targets::Classes { labels, names }) => {
                let mut count = vec![0.0f64; names.len()];
                labels.iter().for_each(|&l| count[l] += 1.0);
                if let Some(c) = comm.as_deref_mut() {
                    c.allreduce_sum_f64(&mut count)?;
                }
                let n: f64 = count.iter().sum();
                Some(
                    count
                        .iter()
                        .map(|&c| if c > 0.0 { n / (names.len() as f64 * c) } else { 0.0 })
                        .collect(),
                )
            }
            (ClassWeight::Manual(w), Targets::Classes { names, .. }) if w.len() != names.len() => {
                return Err(Error::invalid(
                    "model",
                    format!("{} class weights for {} classes", w.len(), names.len()),
                ))
            }
            (ClassWeight::Manual(w), _) => Some(w.clone()),
        };
        // Validation split, then features: polynomial -> scaling (fitted on training rows) -> RFF.
        let (train, val) = p.fit.split_validation(data)?;
        let poly = (p.poly_degree > 1).then_some(PolynomialFeatures { degree: p.poly_degree });
        if poly.is_some() && p.interactions.is_some() {
            return Err(Error::invalid(
                "interactions",
                "polynomial features already hold every product: use --degree or --interactions, not both",
            ));
        }
        let expand = |x: &Features<T>| -> Result<Features<T>> {
            match (&poly, &p.interactions) {
                (Some(pf), _) => pf.transform(x),
                (None, Some(q)) => q.transform(x),
                (None, None) => Ok(x.clone()),
            }
        };
        let x_train = expand(&train.features)?;
        if let (Some(pf), Features::Dense(t)) = (poly, &x_train) {
            if !t.all_finite() {
                return Err(Error::invalid(
                    "polynomial features",
                    format!(
                        "degree {} overflows {}: a monomial of the training rows is not finite; lower --degree \
                         (or scale the inputs first)",
                        pf.degree,
                        T::DTYPE
                    ),
                ));
            }
        }
        let scaler = Scaler::fit_parallel(p.fit.scaler, &x_train, comm)?;
        let rff = match p.kind {
            LinearKind::RbfSvm { gamma, components, .. } => Some(RandomFourierFeatures::new(
                x_train.cols(),
                components,
                gamma,
                p.fit.train.seed ^ 0xF0F0,
            )),
            _ => None,
        };
        let finish = |x: Features<T>| -> Result<Features<T>> {
            let x = scaler.transform(&x)?;
            match &rff {
                Some(r) => r.transform(&x),
                None => Ok(x),
            }
        };
        let train_t = Dataset {
            features: finish(x_train)?,
            targets: train.targets.clone(),
            feature_names: vec![],
            example_shape: vec![],
            row_ids: train.row_ids.clone(),
        };
        let val_t = match &val {
            Some(v) => Some(Dataset {
                features: finish(expand(&v.features)?)?,
                targets: v.targets.clone(),
                feature_names: vec![],
                example_shape: vec![],
                row_ids: v.row_ids.clone(),
            }),
            None => None,
        };
        let core = LinearCore {
            inputs: train_t.cols(),
            outputs,
        };
        let trainer = LinearTrainer {
            core,
            params: core.init(),
            loss: p.kind.loss(),
            penalty: p.penalty,
            class_weights,
        };
        Ok(Prepared {
            trainer,
            train_t,
            val_t,
            scaler,
            poly,
            rff,
        })
    }

    /// The per-example rule [`Self::fit`] takes for these settings (see `online_plan`), or why
    /// it takes the general loop.
    pub fn fast_path(&self) -> std::result::Result<OnlineRule, String> {
        let p = &self.0;
        let trainer = LinearTrainer::<f64> {
            core: LinearCore { inputs: 0, outputs: 1 },
            params: ParamStore::new(),
            loss: p.kind.loss(),
            penalty: p.penalty,
            class_weights: (p.class_weight != ClassWeight::Uniform).then(Vec::new),
        };
        self.online_rule(&trainer, None)
    }

    fn online_rule<T: Scalar>(
        &self,
        trainer: &LinearTrainer<T>,
        resumed: Option<&crate::train::Checkpoint<T>>,
    ) -> std::result::Result<OnlineRule, String> {
        let p = &self.0;
        if !p.fit.fast_path {
            return Err("the fast path is turned off".into());
        }
        if resumed.is_some_and(|ck| !super::linear_online::is_online_checkpoint(ck)) {
            return Err("a checkpoint of the general loop".into());
        }
        if matches!(p.fit.optimizer, OptimizerSpec::Newton(_)) {
            return Err("Newton's method".into());
        }
        online_plan(&p.fit, trainer.loss, trainer.penalty, trainer.class_weights.is_some())
    }

    /// Fits on `source` read pass after pass (one epoch each; see `stream_passes`): per-example
    /// steps in file order, with the memory of the model and one block of the file, whatever
    /// the file's length. The fast path must apply (an error says why not); no scaling (the
    /// features as they are), no validation split, no polynomial or random features.
    pub fn fit_stream<T: Scalar>(
        &self,
        source: &mut crate::data::StreamSource,
        observers: &mut [&mut dyn Observer],
    ) -> Result<FittedLinear<T>> {
        self.fit_stream_with(source, observers, None)
    }

    /// [`ValidLinearParams::fit_stream`] on one rank of a data-parallel job: each rank streams its
    /// own part of the file (`StreamSource::with_part`), learning it alone, and after every
    /// pass the ranks average their models weighted by their rows (iterative parameter mixing,
    /// McDonald, Hall and Mann 2010), so every rank ends with the same model. The ranks agree
    /// on the classes (the union of their first blocks') and on the index base.
    pub fn fit_stream_with<T: Scalar>(
        &self,
        source: &mut crate::data::StreamSource,
        observers: &mut [&mut dyn Observer],
        comm: Option<&mut (dyn crate::collective::Communicator + '_)>,
    ) -> Result<FittedLinear<T>> {
        let p = &self.0;
        let rule = self
            .fast_path()
            .map_err(|why| Error::invalid("stream", format!("streaming takes per-example steps; here {why}")))?;
        if p.fit.scaler != ScalerKind::None || p.poly_degree > 1 || matches!(p.kind, LinearKind::RbfSvm { .. }) {
            return Err(Error::invalid(
                "stream",
                "a stream is learned as it is read: no scaling (--scaler none), polynomial or random features",
            ));
        }
        if p.interactions.as_ref().is_some_and(|q| !q.hashed) {
            return Err(Error::invalid(
                "stream",
                "a stream's width is known only at its end: cross its features into hash buckets (--hash-bits)",
            ));
        }
        if p.fit.validation_fraction > 0.0 || p.fit.train.early_stopping.is_some() {
            return Err(Error::invalid(
                "stream",
                "a stream has no validation split (its progressive loss is the held-out measure); drop --validation and --early-stopping",
            ));
        }
        let s = super::linear_online::stream_passes::<T>(source, p, rule, observers, comm)?;
        let width = s.width;
        let class_names = s.classes.iter().map(|&c| crate::data::fmt_label(c)).collect();
        Ok(FittedLinear {
            params: p.clone(),
            core: LinearCore {
                inputs: width,
                outputs: s.models.len(),
            },
            weights: super::linear_online::weights_of(&s.models, width)?,
            scaler: Scaler {
                kind: ScalerKind::None,
                offset: vec![0.0; width],
                scale: vec![1.0; width],
            },
            poly: None,
            rff: None,
            n_inputs: width,
            input_names: Vec::new(),
            feature_names: Vec::new(),
            class_names,
            history: s.history,
        })
    }

    /// The learning-rate range test for this model on `data` (see
    /// [`lr_range_test`](crate::optim::lr_range_test)), with its optimizer and batch size.
    pub fn lr_find<T: Scalar>(&self, data: &Dataset<T>, cfg: &LrFinderConfig) -> Result<LrFinderResult> {
        let mut prep = self.prepare(data, None)?;
        lr_find(&mut prep.trainer, &prep.train_t, &self.0.fit, cfg)
    }

    /// Fits on `data`, resuming from `resume` if given, reporting to `observers`.
    pub fn fit_with<T: Scalar>(
        &self,
        data: &Dataset<T>,
        resume: Option<crate::train::Checkpoint<T>>,
        observers: &mut [&mut dyn Observer],
    ) -> Result<FittedLinear<T>> {
        self.fit_parallel(data, resume, observers, None)
    }

    /// [`Self::fit_with`] as one rank of a data-parallel job over `comm` (see
    /// [`train::fit_parallel`](crate::train::fit_parallel)): each rank passes its own shard of
    /// the rows as `data` (with the same columns and class names on every rank); the scaling
    /// and class weights are fitted on all ranks' rows, the validation rows are held out of each
    /// shard, and all ranks return the same model.
    pub fn fit_parallel<T: Scalar>(
        &self,
        data: &Dataset<T>,
        resume: Option<crate::train::Checkpoint<T>>,
        observers: &mut [&mut dyn Observer],
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<FittedLinear<T>> {
        let p = &self.0;
        let Prepared {
            mut trainer,
            train_t,
            val_t,
            scaler,
            poly,
            rff,
        } = self.prepare(data, comm.as_deref_mut())?;
        let history = match &p.fit.optimizer {
            OptimizerSpec::Newton(newton) => {
                if comm.is_some() {
                    return Err(Error::invalid(
                        "newton",
                        "runs in one process; use lbfgs for a distributed fit",
                    ));
                }
                super::linear_newton::fit_newton(&mut trainer, &train_t, val_t.as_ref(), newton, observers)?
            }
            _ => match self.online_rule(&trainer, resume.as_ref()) {
                Ok(rule) => super::linear_online::fit_online(
                    &mut trainer,
                    &train_t,
                    val_t.as_ref(),
                    &p.fit,
                    rule,
                    resume,
                    observers,
                    comm,
                )?,
                Err(_) => run_fit(&mut trainer, &train_t, val_t.as_ref(), &p.fit, resume, observers, comm)?,
            },
        };
        let feature_names = match (poly, &p.interactions) {
            (Some(pf), _) => pf.names(&data.all_feature_names()),
            (None, Some(q)) => q.names(&data.feature_names),
            (None, None) => data.feature_names.clone(),
        };
        let class_names = data.targets.class_names().to_vec();
        Ok(FittedLinear {
            params: p.clone(),
            core: trainer.core,
            weights: trainer.params,
            scaler,
            poly,
            rff,
            n_inputs: data.cols(),
            input_names: data.feature_names.clone(),
            feature_names,
            class_names,
            history,
        })
    }
}

struct Prepared<T: Scalar> {
    trainer: LinearTrainer<T>,
    train_t: Dataset<T>,
    val_t: Option<Dataset<T>>,
    scaler: Scaler,
    poly: Option<PolynomialFeatures>,
    rff: Option<RandomFourierFeatures<T>>,
}

pub(super) struct LinearTrainer<T: Scalar> {
    pub(super) core: LinearCore,
    pub(super) params: ParamStore<T>,
    pub(super) loss: LinearLoss,
    pub(super) penalty: Penalty,
    pub(super) class_weights: Option<Vec<f64>>,
}

pub(super) fn row_targets(t: &Targets) -> RowTargets<'_> {
    match t {
        Targets::Classes { labels, .. } => RowTargets::Class(labels),
        Targets::Values(v) => RowTargets::Real(v),
    }
}

impl<T: Scalar> Trainable<T> for LinearTrainer<T> {
    fn params(&self) -> &ParamStore<T> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.params
    }
    fn loss_grad_at(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        _rng: &mut Rng,
    ) -> Result<(f64, ParamStore<T>)> {
        let y = row_targets(&data.targets);
        self.core.loss_grad(
            params,
            &data.features,
            y,
            self.class_weights.as_deref(),
            rows,
            self.loss,
            self.penalty,
        )
    }
    fn eval_loss(&self, data: &Dataset<T>) -> Result<f64> {
        let all: Vec<usize> = (0..data.rows()).collect();
        let y = row_targets(&data.targets);
        Ok(self
            .core
            .loss_grad(
                &self.params,
                &data.features,
                y,
                self.class_weights.as_deref(),
                &all,
                self.loss,
                self.penalty,
            )?
            .0)
    }
    fn eval_metric(&self, data: &Dataset<T>) -> Result<Option<MetricParts>> {
        let z = self.core.decision(&self.params, &data.features, None)?;
        Ok(Some(match &data.targets {
            Targets::Classes { labels, .. } => MetricParts::accuracy(labels, &classes_from_decision(&z))?,
            Targets::Values(v) => MetricParts::r2(v, &z.data().iter().map(|x| x.as_f64()).collect::<Vec<_>>())?,
        }))
    }
    fn after_step(&mut self, lr: f64) {
        if let Some(w) = self.params.get_mut("weight") {
            self.penalty.prox(w.data_mut(), lr);
        }
    }
}

/// Class of each row from decision values: the sign for one output (class 1 when positive),
/// the largest output otherwise.
pub(crate) fn classes_from_decision<T: Scalar>(z: &Tensor<T>) -> Vec<usize> {
    let k = z.row_len();
    if k == 1 {
        z.data().iter().map(|&v| usize::from(v > T::zero())).collect()
    } else {
        z.argmax_axis(1).unwrap_or_default()
    }
}

/// A fitted linear model.
#[derive(Clone, Debug)]
pub struct FittedLinear<T: Scalar> {
    /// The hyper-parameters it was fitted with.
    pub params: LinearParams,
    /// Shape of the model.
    pub core: LinearCore,
    /// `"weight"` `[features, outputs]` and `"bias"` `[outputs]`, on scaled (and expanded)
    /// features.
    pub weights: ParamStore<T>,
    /// The scaling fitted on the training rows.
    pub scaler: Scaler,
    /// Polynomial expansion, if any.
    pub poly: Option<PolynomialFeatures>,
    /// Random Fourier features, for the RBF SVM.
    pub rff: Option<RandomFourierFeatures<T>>,
    /// Number of input columns.
    pub n_inputs: usize,
    /// Names of the input columns (empty: the defaults `f0, f1, ...`).
    pub input_names: Vec<String>,
    /// Names of the model's features (after polynomial expansion; empty: the defaults).
    pub feature_names: Vec<String>,
    /// Class names (classifiers).
    pub class_names: Vec<String>,
    /// Training history.
    pub history: History,
}

impl<T: Scalar> FittedLinear<T> {
    /// The features as the weights see them.
    pub fn transform(&self, x: &Features<T>) -> Result<Features<T>> {
        // Sparse data has no names (the defaults): the count is `n_inputs`.
        if x.cols() != self.n_inputs {
            return Err(Error::invalid(
                "predict",
                format!("the model takes {} features, the data has {}", self.n_inputs, x.cols()),
            ));
        }
        let x = match (self.poly, &self.params.interactions) {
            (Some(p), _) => p.transform(x)?,
            (None, Some(q)) => q.transform(x)?,
            (None, None) => x.clone(),
        };
        let x = self.scaler.transform(&x)?;
        match &self.rff {
            Some(r) => r.transform(&x),
            None => Ok(x),
        }
    }

    /// Decision values `[rows, outputs]`.
    pub fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        self.core.decision(&self.weights, &self.transform(x)?, None)
    }

    /// Whether the model predicts classes.
    pub fn is_classifier(&self) -> bool {
        self.params.kind.task() == Task::Classify
    }

    /// Class probabilities `[rows * classes]` for logistic and softmax regression.
    pub fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        let z = self.decision_function(x)?;
        Ok(match self.params.kind {
            LinearKind::Logistic => {
                let p1 = z.sigmoid();
                let data = p1.data().iter().flat_map(|&p| [T::one() - p, p]).collect();
                Some(Tensor::new(data, &[z.rows_count(), 2])?)
            }
            LinearKind::Softmax => Some(z.softmax(1)?),
            _ => None,
        })
    }

    /// Coefficients and intercepts in the original feature units (undoing the scaling):
    /// w_j / s_j and b - sum_j w_j o_j / s_j, one row of coefficients per output, named by
    /// [`FittedLinear::feature_names`]. Not available for the RBF SVM.
    pub fn coefficients(&self) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
        if self.rff.is_some() {
            return Err(Error::invalid(
                "coefficients",
                "the RBF SVM has no coefficients in feature units",
            ));
        }
        let (w, b) = (self.weights.require("weight")?, self.weights.require("bias")?);
        let (d, k) = (self.core.inputs, self.core.outputs);
        let mut coef = vec![vec![0.0; d]; k];
        let mut intercept: Vec<f64> = b.data().iter().map(|v| v.as_f64()).collect();
        for j in 0..d {
            let (o, s) = (self.scaler.offset[j], self.scaler.scale[j]);
            for c in 0..k {
                let wj = w.data()[j * k + c].as_f64() / s;
                coef[c][j] = wj;
                intercept[c] -= wj * o;
            }
        }
        Ok((coef, intercept))
    }

    /// The scaler kind it was fitted with.
    pub fn scaler_kind(&self) -> ScalerKind {
        self.scaler.kind
    }
}
