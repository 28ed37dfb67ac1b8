//! How a model is trained: optimizer, schedule, loop settings, scaling, validation split.

use crate::collective::Communicator;
use crate::data::{BatchSize, ScalerKind};
use crate::data::{Batches, Dataset};
use crate::error::{Error, Result};
use crate::optim::rules::Sgd;
use crate::optim::{lr_range_test, BuiltOptimizer, LrFinderConfig, LrFinderResult};
use crate::optim::{OptimizerSpec, ScheduleSpec};
use crate::tensor::{rng, Scalar};
use crate::train::{fit_parallel, Checkpoint, History, Observer, TrainConfig, Trainable};
use serde::{Deserialize, Serialize};

/// Training rows (borrowed when nothing is held out) and validation rows.
pub type TrainVal<'d, T> = (std::borrow::Cow<'d, Dataset<T>>, Option<Dataset<T>>);

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
    /// Linear models: take the per-example fast path where it gives the loop's steps (see
    /// `online_plan`; default true); false always runs the general loop.
    #[serde(default = "yes")]
    pub fast_path: bool,
}

fn yes() -> bool {
    true
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
            fast_path: true,
        }
    }
}

impl FitOptions {
    /// The training rows (borrowed when nothing is held out) and the validation rows
    /// (stratified, seeded by the run's seed). Without one the data is borrowed, not copied.
    pub fn split_validation<'d, T: Scalar>(&self, data: &'d Dataset<T>) -> Result<TrainVal<'d, T>> {
        if self.validation_fraction > 0.0 {
            let s = crate::data::split(&data.targets, self.validation_fraction, 0.0, self.train.seed)?;
            Ok((
                std::borrow::Cow::Owned(data.subset(&s.train)?),
                Some(data.subset(&s.val)?),
            ))
        } else {
            Ok((std::borrow::Cow::Borrowed(data), None))
        }
    }

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
        match &self.optimizer {
            // Newton is run by the models that have a Hessian; they check it.
            OptimizerSpec::Newton(n) => n.check(),
            // The linear fast path runs it; the linear models check that it applies.
            OptimizerSpec::Invariant(r) => r.check(),
            o => o.build::<f64>().map(|_| ()),
        }
    }
}

/// Builds the optimizer and schedule of `opts` and runs the training loop.
pub(crate) fn run_fit<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    opts: &FitOptions,
    resume: Option<Checkpoint<T>>,
    observers: &mut [&mut dyn Observer],
    comm: Option<&mut (dyn Communicator + '_)>,
) -> Result<History> {
    let mut opt: BuiltOptimizer<T> = opts.optimizer.build()?;
    let lr = match &opt {
        BuiltOptimizer::Step(o) => o.lr(),
        BuiltOptimizer::LineSearch(_) => 1.0,
    };
    let mut schedule = opts.schedule.as_ref().map(|s| s.build(lr)).transpose()?;
    fit_parallel(
        model,
        train,
        val,
        &mut opt,
        schedule.as_deref_mut(),
        &opts.train,
        resume,
        observers,
        comm,
    )
}

/// The LR range test on `model` with the optimizer of `opts`, one mini-batch per learning rate
/// (the batches of successive epochs, as training would see them).
pub(crate) fn lr_find<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    train: &Dataset<T>,
    opts: &FitOptions,
    cfg: &LrFinderConfig,
) -> Result<LrFinderResult> {
    let BuiltOptimizer::Step(mut opt) = opts.optimizer.build::<T>()? else {
        return Err(Error::invalid(
            "lr-find",
            "line-search optimizers choose their own step; the range test needs a step optimizer",
        ));
    };
    let n = train.rows();
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut epoch = 0;
    while order.len() < cfg.num_steps {
        let b = Batches::new(n, opts.train.batch_size, opts.train.shuffle, opts.train.seed, epoch);
        order.extend(b.iter().map(|c| c.to_vec()));
        epoch += 1;
    }
    let mut r = rng(opts.train.seed ^ 0x5EED);
    let mut params = model.params().clone();
    let m: &M = model;
    lr_range_test(opt.as_mut(), &mut params, cfg, |i, p| {
        m.loss_grad_at(p, train, &order[i], &mut r)
    })
}

/// Mean and standard deviation of regression targets over every rank's rows (two passes, as one
/// process computes them; a constant target keeps scale 1); `None` for class targets. Networks
/// predict the standardized value.
pub(crate) fn target_scale(
    targets: &crate::data::Targets,
    mut comm: Option<&mut (dyn Communicator + '_)>,
) -> Result<Option<(f64, f64)>> {
    let crate::data::Targets::Values(v) = targets else {
        return Ok(None);
    };
    let mut sum = [v.iter().sum::<f64>(), v.len() as f64];
    if let Some(c) = comm.as_deref_mut() {
        c.allreduce_sum_f64(&mut sum)?;
    }
    let n = sum[1].max(1.0);
    let m = sum[0] / n;
    let mut sq = [v.iter().map(|x| (x - m).powi(2)).sum::<f64>()];
    if let Some(c) = comm {
        c.allreduce_sum_f64(&mut sq)?;
    }
    let s = (sq[0] / n).sqrt();
    Ok(Some((m, if s > 0.0 { s } else { 1.0 })))
}

/// `d` with its features scaled by `scaler` and its regression targets standardized by
/// `scale` (the example shape kept, the names dropped).
pub(crate) fn scaled<T: Scalar>(
    d: &Dataset<T>,
    scaler: &crate::data::Scaler,
    scale: Option<(f64, f64)>,
) -> Result<Dataset<T>> {
    use crate::data::Targets;
    let targets = match (&d.targets, scale) {
        (Targets::Values(v), Some((m, s))) => Targets::Values(v.iter().map(|x| (x - m) / s).collect()),
        (t, _) => t.clone(),
    };
    Ok(Dataset {
        features: scaler.transform(&d.features)?,
        targets,
        feature_names: vec![],
        example_shape: d.example_shape.clone(),
        row_ids: d.row_ids.clone(),
    })
}

/// The number of outputs a network needs for `data`: one per class (at least 2 classes, or an
/// error naming `what`), or 1 for regression.
pub(crate) fn network_outputs<T: Scalar>(data: &Dataset<T>, what: &'static str) -> Result<usize> {
    match data.targets.task() {
        crate::data::Task::Classify if data.n_classes() < 2 => Err(Error::invalid(
            what,
            format!("classification needs at least 2 classes, found {}", data.n_classes()),
        )),
        crate::data::Task::Classify => Ok(data.n_classes()),
        crate::data::Task::Regress => Ok(1),
    }
}
