//! The per-example fast path inside the linear estimators: when a fit's settings are steps that
//! [`sgd_pass`] takes exactly, the trainer's loop is replaced by passes of `sgd_pass` over the
//! same row order, at O(non-zeros) per step instead of O(model width).
//!
//! It applies with batch size 1, importance-invariant AdaGrad ([`crate::optim::Invariant`], which
//! only it runs), plain SGD without momentum or weight decay (a constant rate,
//! any schedule stepped per epoch, or scikit-learn's "optimal" schedule stepped per example with
//! the L2 penalty's alpha) or AdaGrad without decay (no penalty: an L2 term would move every
//! weight each step), no penalty or L2 (lazy: the weights carry a scale), single-output losses,
//! one-vs-rest (each output its own model over the same rows) or the multinomial loss (every
//! class's model steps on each row, by [`softmax_pass`]; plain or AdaGrad steps, not invariant
//! ones), no class weights, clipping,
//! step budget, resumed checkpoint or data parallelism. Anything else takes the general loop,
//! which gives the same steps at the model's width per step; [`online_plan`] says why.
//!
//! The training loss of an epoch is the progressive loss: each row's loss before its step
//! (Vowpal Wabbit's "average loss"), without the penalty term. The divergence guard restores the
//! epoch's starting weights and halves the rate, as the loop does.

use super::linear::{row_targets, LinearTrainer};
use super::options::FitOptions;
use crate::data::{BatchSize, Batches, Dataset, Features, Targets};
use crate::error::{Error, Result};
use crate::linear::{sgd_pass, softmax_pass, LinearLoss, Penalty, RowTargets, SgdConfig, SgdModel};
use crate::nn::ParamStore;
use crate::optim::{OptimizerSpec, ScheduleSpec};
use crate::tensor::{Scalar, Tensor};
use crate::train::{Checkpoint, EarlyStopState, EpochRecord, History, Observer, SchedulePer, TrainState};
use std::time::Instant;

/// The per-example rule a fit maps to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OnlineRule {
    /// AdaGrad (otherwise plain SGD).
    pub adaptive: bool,
    /// The base rate (`None`: the "optimal" schedule per example).
    pub lr: Option<f64>,
    /// The L2 strength.
    pub alpha: f64,
    /// AdaGrad's eps.
    pub eps: f64,
    /// Importance-invariant AdaGrad ([`crate::optim::Invariant`]).
    pub invariant: bool,
}

impl OnlineRule {
    /// The step of one pass with `loss` at rate `eta` (`None`: the "optimal" schedule).
    fn step(&self, loss: LinearLoss, eta: Option<f64>) -> SgdConfig {
        SgdConfig {
            loss,
            alpha: self.alpha,
            adaptive: self.adaptive,
            eta,
            average: false,
            eps: self.eps,
            invariant: self.invariant,
        }
    }
}

/// The per-example rule for these settings, or why the general loop must take them (a phrase:
/// "momentum 0.9 moves every weight at each step").
pub fn online_plan(
    opts: &FitOptions,
    loss: LinearLoss,
    penalty: Penalty,
    class_weights: bool,
) -> std::result::Result<OnlineRule, String> {
    let t = &opts.train;
    if t.batch_size != BatchSize::Rows(1) {
        return Err("the batch size is not 1".into());
    }
    match loss {
        LinearLoss::Multinomial if matches!(opts.optimizer, OptimizerSpec::Invariant(_)) => {
            return Err(
                "invariant steps are for single-output losses; the multinomial loss takes per-example AdaGrad \
                 or SGD steps (--optimizer adagrad)"
                    .into(),
            )
        }
        LinearLoss::Multinomial => {}
        _ if loss.is_multiclass() => return Err("the Crammer-Singer loss couples the outputs".into()),
        _ => {}
    }
    if class_weights {
        return Err("class weights".into());
    }
    if t.clip_grad_norm.is_some() {
        return Err("gradient clipping".into());
    }
    if t.max_steps.is_some() {
        return Err("a step budget".into());
    }
    let alpha = match penalty {
        Penalty::None => 0.0,
        Penalty::L2 { alpha } => alpha,
        _ => return Err("an L1 penalty's proximal step moves every weight".into()),
    };
    let (adaptive, lr, eps, invariant) = match &opts.optimizer {
        OptimizerSpec::Sgd(s) if s.momentum != 0.0 => {
            return Err(format!("momentum {} moves every weight at each step", s.momentum))
        }
        OptimizerSpec::Sgd(s) if s.weight_decay != 0.0 || s.maximize => {
            return Err("weight decay in the optimizer".into())
        }
        OptimizerSpec::Sgd(s) => (false, s.lr, 0.0, false),
        OptimizerSpec::Adagrad(a)
            if a.lr_decay != 0.0 || a.weight_decay != 0.0 || a.initial_accumulator_value != 0.0 || a.maximize =>
        {
            return Err("AdaGrad with decay or a starting sum".into())
        }
        OptimizerSpec::Adagrad(_) if alpha > 0.0 => {
            return Err("AdaGrad with an L2 penalty moves every weight at each step".into())
        }
        OptimizerSpec::Adagrad(a) => (true, a.lr, a.eps, false),
        OptimizerSpec::Invariant(_) if alpha > 0.0 => {
            return Err("invariant steps take no penalty (an L2 term would move every weight at each step)".into())
        }
        OptimizerSpec::Invariant(i) => (true, i.lr, i.eps, true),
        o => return Err(format!("{} moves every weight at each step", o.name())),
    };
    let lr = match (&opts.schedule, t.schedule_per) {
        (None, _) | (Some(_), SchedulePer::Epoch) => Some(lr),
        (Some(ScheduleSpec::Optimal { alpha: a }), SchedulePer::Step) if !adaptive && *a == alpha && alpha > 0.0 => {
            None
        }
        (Some(_), SchedulePer::Step) => return Err("a schedule stepped per example".into()),
    };
    Ok(OnlineRule {
        adaptive,
        lr,
        alpha,
        eps,
        invariant,
    })
}

/// Rows per call of [`sgd_pass`] (and per progress report).
const BLOCK: usize = 8192;

/// The key under which a checkpoint of the per-example path keeps its models' state.
const ONLINE_STATE: &str = "online";

/// Whether `ck` was written by the per-example path (and can resume it).
pub(super) fn is_online_checkpoint<T: Scalar>(ck: &Checkpoint<T>) -> bool {
    ck.optimizer.get(ONLINE_STATE).is_some()
}

/// Seconds to write `numbers` values of a checkpoint (JSON text, about 25 bytes each at a
/// conservative 250 MB/s): the cost a pass must amortize before one is written.
fn checkpoint_cost(numbers: usize) -> f64 {
    numbers as f64 * 1e-7
}

/// Fits `trainer` (its weights start at zero, as the general loop's do, or at the state of a
/// checkpoint this path wrote) by per-example passes.
///
/// With `checkpoint_dir` and `checkpoint_every_epochs`, the state after a pass (every model's
/// weights, adaptive sums and averages, the schedule, the divergence guard's and early
/// stopping's state, the history) is written as a [`Checkpoint`] that resumes to the same
/// steps; a pass writes one when writing it costs under a millisecond (estimated), or else when
/// the time since the last one is at least ten times that cost (passes of wide models can take
/// less time than their JSON), and never after the last pass (the model is saved then).
#[allow(clippy::too_many_arguments)]
pub(super) fn fit_online<T: Scalar>(
    trainer: &mut LinearTrainer<T>,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    opts: &FitOptions,
    rule: OnlineRule,
    resume: Option<Checkpoint<T>>,
    observers: &mut [&mut dyn Observer],
    mut comm: Option<&mut (dyn crate::collective::Communicator + '_)>,
) -> Result<History> {
    let (d, k) = (trainer.core.inputs, trainer.core.outputs);
    let n = train.rows();
    let cfg = &opts.train;
    // One model per output, each with its own ±1 targets (one-vs-rest), or all together
    // (multinomial).
    let multinomial = trainer.loss == LinearLoss::Multinomial;
    let per_output: Vec<Vec<usize>> = match (&train.targets, k) {
        (Targets::Classes { labels, .. }, k) if k > 1 && !multinomial => (0..k)
            .map(|c| labels.iter().map(|&l| usize::from(l == c)).collect())
            .collect(),
        _ => Vec::new(),
    };
    let targets = |j: usize| -> RowTargets<'_> {
        match per_output.get(j) {
            Some(l) => RowTargets::Class(l),
            None => row_targets(&train.targets),
        }
    };
    let mut models: Vec<SgdModel<T>> = (0..k).map(|_| SgdModel::new(d)).collect();
    let base_lr = rule.lr.unwrap_or(f64::NAN);
    let mut schedule = match (&opts.schedule, rule.lr) {
        (Some(s), Some(lr)) => Some(s.build(lr)?),
        _ => None,
    };
    let blocks = n.div_ceil(BLOCK);
    for o in observers.iter_mut() {
        o.on_start(cfg.epochs, blocks);
    }
    let (mut history, mut lr_scale, mut retries) = (History::new(), 1.0, 0);
    let mut early = EarlyStopState::<T>::default();
    let mut epoch = 0;
    if let Some(ck) = resume {
        models = serde_json::from_value(ck.optimizer[ONLINE_STATE].clone())
            .map_err(|e| Error::format("checkpoint", format!("the per-example state: {e}")))?;
        if models.len() != k || models.iter().any(|m| m.dim() != d) {
            return Err(Error::invalid(
                "checkpoint",
                format!("its models do not fit {k} outputs of {d} features"),
            ));
        }
        if let (Some(s), Some(v)) = (schedule.as_deref_mut(), &ck.schedule) {
            s.load_state(v)?;
        }
        let st = ck.state;
        (epoch, history, lr_scale, retries, early) = (st.epoch, st.history, st.lr_scale, st.retries, st.early);
    }
    let writer = comm.as_ref().is_none_or(|c| c.rank() == 0);
    let ranks = comm.as_ref().map_or(1, |c| c.size());
    let mut last_checkpoint = Instant::now();
    while epoch < cfg.epochs {
        let start = Instant::now();
        let lr = rule.lr.map(|lr| schedule.as_ref().map_or(lr, |s| s.lr()) * lr_scale);
        let sgd = rule.step(trainer.loss, lr);
        let order: Vec<usize> = Batches::new(n, BatchSize::Rows(1), cfg.shuffle, cfg.seed, epoch as u64)
            .iter()
            .map(|c| c[0])
            .collect();
        let saved = models.clone();
        let mut total = 0.0;
        // The steps of `rows`, and their mean loss summed over the outputs.
        let pass = |models: &mut [SgdModel<T>], rows: &[usize]| -> Result<f64> {
            match &train.targets {
                Targets::Classes { labels, .. } if multinomial => {
                    softmax_pass(models, &train.features, labels, rows, &sgd)
                }
                _ => models
                    .iter_mut()
                    .enumerate()
                    .map(|(j, m)| sgd_pass(m, &train.features, targets(j), rows, &sgd))
                    .sum(),
            }
        };
        if order.is_empty() {
            // A rank without rows still sizes its models' state as the others do.
            pass(&mut models, &[])?;
        }
        for (bi, rows) in order.chunks(BLOCK).enumerate() {
            let loss = pass(&mut models, rows)?;
            total += loss * rows.len() as f64;
            for o in observers.iter_mut() {
                o.on_batch(epoch + 1, bi + 1, rows.len(), loss);
            }
        }
        // Across ranks: the models averaged after every pass (iterative parameter mixing),
        // so every rank decides divergence and stopping on the same numbers.
        let train_loss = match comm.as_deref_mut() {
            Some(c) => crate::linear::mix_models(c, &mut models, n, total)?,
            None => total / n.max(1) as f64,
        };
        if !train_loss.is_finite() || !models.iter().all(SgdModel::is_finite) {
            retries += 1;
            let why = format!("loss {train_loss} in epoch {}", epoch + 1);
            if retries > cfg.max_divergence_retries || rule.lr.is_none() {
                return Err(Error::Diverged(format!(
                    "{why}; gave up after {} recoveries; lower the learning rate",
                    retries - 1
                )));
            }
            models = saved;
            lr_scale *= 0.5;
            let msg = format!(
                "diverged ({why}): restored the weights of epoch {epoch}, halved the learning rate to {:.3e} (recovery {retries} of {})",
                lr.unwrap_or(base_lr) * 0.5,
                cfg.max_divergence_retries
            );
            for o in observers.iter_mut() {
                o.on_message(&msg);
            }
            continue;
        }
        store(trainer, &models)?;
        let (val_loss, val_metric) = match val {
            // Summed over the ranks' validation rows (exactly, R^2 included).
            Some(v) => {
                let (loss, m) = crate::train::evaluate(&*trainer, v, comm.as_deref_mut())?;
                (Some(loss), m)
            }
            None => (None, None),
        };
        let lr = lr.unwrap_or_else(|| optimal_rate(rule.alpha, &models[0]));
        let record = epoch_record(epoch, train_loss, (val_loss, val_metric), lr, start);
        report(observers, &mut history, record);
        epoch += 1;
        let monitored = val_loss.unwrap_or(train_loss);
        if let Some(s) = schedule.as_deref_mut() {
            s.step(Some(monitored));
        }
        if let Some(es) = cfg.early_stopping {
            if early.observe(&es, monitored, &trainer.params) {
                let msg = early.stop_message(epoch);
                for o in observers.iter_mut() {
                    o.on_message(&msg);
                }
                break;
            }
        }
        if let (Some(every), Some(dir), true) = (cfg.checkpoint_every_epochs, &cfg.checkpoint_dir, writer) {
            let numbers = models.iter().map(|m| 3 * m.dim()).sum::<usize>();
            let due = every > 0 && epoch.is_multiple_of(every) && epoch < cfg.epochs;
            let cost = checkpoint_cost(numbers);
            // Small models are always written; large ones once their passes amortize them.
            if due && (cost < 1e-3 || last_checkpoint.elapsed().as_secs_f64() >= 10.0 * cost) {
                let state = TrainState {
                    epoch,
                    step: (epoch * n) as u64,
                    lr_scale,
                    retries,
                    history: history.clone(),
                    early: early.clone(),
                    ..TrainState::new(cfg.seed, ranks)
                };
                Checkpoint {
                    version: 1,
                    state,
                    params: trainer.params.clone(),
                    buffers: ParamStore::new(),
                    optimizer: serde_json::json!({ ONLINE_STATE: &models }),
                    schedule: schedule.as_ref().map(|s| s.state()),
                }
                .save(dir)?;
                last_checkpoint = Instant::now();
            }
        }
    }
    if let Some(b) = early.take_best(cfg.early_stopping.as_ref()) {
        trainer.params = b;
    }
    for o in observers.iter_mut() {
        o.on_end();
    }
    Ok(history)
}

/// The record of epoch `epoch` (0-based); the gradient norm is not measured on this path.
fn epoch_record(
    epoch: usize,
    train_loss: f64,
    (val_loss, val_metric): (Option<f64>, Option<(String, f64)>),
    lr: f64,
    start: Instant,
) -> EpochRecord {
    EpochRecord {
        epoch: epoch + 1,
        train_loss,
        val_loss,
        val_metric,
        lr,
        grad_norm: f64::NAN,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Tells the observers about `record` and keeps it.
fn report(observers: &mut [&mut dyn Observer], history: &mut History, record: EpochRecord) {
    for o in observers.iter_mut() {
        o.on_epoch(&record);
    }
    history.push(record);
}

/// The rate the "optimal" schedule has reached after `m`'s steps.
fn optimal_rate<T: Scalar>(alpha: f64, m: &SgdModel<T>) -> f64 {
    1.0 / (alpha * (t0(alpha) + m.steps() as f64))
}

/// t0 of scikit-learn's "optimal" schedule (see [`crate::optim::schedule::Optimal`]).
fn t0(alpha: f64) -> f64 {
    1.0 / ((1.0 / alpha.sqrt()).sqrt() * alpha)
}

/// Writes the models' weights into the trainer's `weight` [inputs, outputs] and `bias`.
fn store<T: Scalar>(trainer: &mut LinearTrainer<T>, models: &[SgdModel<T>]) -> Result<()> {
    trainer.params = weights_of(models, trainer.core.inputs)?;
    Ok(())
}

/// Whether `x` is sparse and wider than `width` columns (where a step over every weight costs
/// far more than one over a row's features).
pub fn is_wide_sparse<T: Scalar>(x: &Features<T>, width: usize) -> bool {
    matches!(x, Features::Sparse(_)) && x.cols() > width
}

/// What a streamed fit learned: one model per output, the classes (sorted labels; empty for
/// regression), the widest row seen and the history.
pub(super) struct Streamed<T: Scalar> {
    pub models: Vec<SgdModel<T>>,
    pub classes: Vec<f64>,
    pub width: usize,
    pub history: History,
}

/// Per-example passes over `source` in file order (streams are not shuffled): the first chunk
/// fixes the classes (a later unknown label is an error), the models widen as features appear.
/// The training loss of a pass is its progressive loss, also reported as Vowpal Wabbit does
/// (at 2^k rows).
pub(super) fn stream_passes<T: Scalar>(
    source: &mut crate::data::StreamSource,
    params: &super::LinearParams,
    rule: OnlineRule,
    observers: &mut [&mut dyn Observer],
    mut comm: Option<&mut (dyn crate::collective::Communicator + '_)>,
) -> Result<Streamed<T>> {
    let (loss, opts, interactions) = (params.kind.loss(), &params.fit, params.interactions.as_ref());
    let classify = params.kind.task() == crate::data::Task::Classify;
    // Logistic regression and regression have one output; the others one per class.
    let multi_output = !matches!(
        params.kind,
        super::LinearKind::Logistic | super::LinearKind::Regression { .. }
    );
    let cfg = &opts.train;
    let mut schedule = match (&opts.schedule, rule.lr) {
        (Some(s), Some(lr)) => Some(s.build(lr)?),
        _ => None,
    };
    for o in observers.iter_mut() {
        o.on_start(cfg.epochs, 0);
    }
    let (mut models, mut classes, mut width) = (Vec::<SgdModel<T>>::new(), Vec::<f64>::new(), 0usize);
    let mut history = History::new();
    let (mut seen, mut next_report, mut since) = (0u64, 4096u64, (0.0f64, 0u64));
    if let Some(c) = comm.as_deref_mut() {
        // Ranks reading parts of one file agree on its index base: zero-based if any part's
        // first block has index 0.
        let lo = crate::collective::all_ok(c, source.first_block_min_index())?;
        let mut zero = [f64::from(u8::from(lo == Some(0)))];
        c.allreduce_sum_f64(&mut zero)?;
        source.set_one_based(zero[0] == 0.0);
    }
    let part = match comm.as_deref() {
        Some(c) => format!(" of rank {}'s part", c.rank()),
        None => String::new(),
    };
    for epoch in 0..cfg.epochs {
        let start = Instant::now();
        let lr = rule.lr.map(|lr| schedule.as_ref().map_or(lr, |s| s.lr()));
        let sgd = rule.step(loss, lr);
        let mut reader = source.open_pass()?;
        let (mut total, mut rows, mut chunk_no) = (0.0, 0u64, 0usize);
        // The first block is read here: its classes fix the model's (agreed across ranks).
        let first = reader.next_chunk();
        let first = match comm.as_deref_mut() {
            Some(c) => crate::collective::all_ok(c, first)?,
            None => first?,
        };
        if models.is_empty() {
            let local = first.as_ref().map_or_else(Vec::new, |f| f.labels.clone());
            classes = match (classify, comm.as_deref_mut()) {
                (false, _) => Vec::new(),
                (true, None) => distinct(local),
                (true, Some(c)) => agree_classes(c, distinct(local))?,
            };
            if classify && classes.is_empty() {
                return Err(Error::invalid("stream", "the file has no rows"));
            }
            if classify && classes.len() < 2 {
                return Err(Error::invalid(
                    "stream",
                    "the first block of the file has one class: a stream fixes its classes on its first 8 MiB \
                     (shuffle the file, or train without --stream)",
                ));
            }
            if classes.len() > 2 && !multi_output {
                return Err(Error::invalid(
                    "stream",
                    format!(
                        "{} classes for binary {} regression: --model softmax learns them together",
                        classes.len(),
                        params.kind.name()
                    ),
                ));
            }
            // The multinomial loss has an output per class, two included.
            let multinomial = loss == LinearLoss::Multinomial;
            let k = if classes.len() > 2 || multinomial {
                classes.len()
            } else {
                1
            };
            models = (0..k).map(|_| SgdModel::new(0)).collect();
        }
        // A reader thread parses the next block while this one learns from the current one
        // (its chunks wait in the channel).
        let ahead = reader.chunks_per_block().max(1);
        let pass = std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Option<crate::data::SparseChunk>>>(ahead);
            let more = first.is_some();
            scope.spawn(move || {
                if !more {
                    return;
                }
                loop {
                    let next = reader.next_chunk();
                    let last = !matches!(next, Ok(Some(_)));
                    if tx.send(next).is_err() || last {
                        break;
                    }
                }
            });
            for item in std::iter::once(Ok(first)).chain(rx) {
                let Some(chunk) = item? else { break };
                chunk_no += 1;
                let cols = chunk.x.shape().1;
                width = width.max(cols);
                let x = crate::data::Features::Sparse(chunk.x.into_cast::<T>().into_widened(width)?);
                // Hashed inputs have their final width from the first block: crossed in place.
                // Namespace crosses (no column pairs) were made by the reader.
                let x = match interactions {
                    Some(q) if !q.pairs.is_empty() => q.transform(&x)?,
                    _ => x,
                };
                let n = chunk.labels.len();
                let labels: Vec<usize> = match classify {
                    true => chunk
                        .labels
                        .iter()
                        .map(|l| {
                            classes.binary_search_by(|c| c.total_cmp(l)).map_err(|_| {
                                Error::invalid(
                                    "stream",
                                    format!(
                                        "label {l} after row {} is not among the classes of the first block ({:?})",
                                        seen + rows,
                                        classes
                                    ),
                                )
                            })
                        })
                        .collect::<Result<_>>()?,
                    false => Vec::new(),
                };
                let order: Vec<usize> = (0..n).collect();
                models.iter_mut().for_each(|m| m.grow(width));
                let k = models.len();
                let loss_sum = if loss == LinearLoss::Multinomial {
                    softmax_pass(&mut models, &x, &labels, &order, &sgd)? * n as f64
                } else {
                    let mut sum = 0.0;
                    for (j, m) in models.iter_mut().enumerate() {
                        let binary: Vec<usize>;
                        let y = match (classify, k) {
                            (false, _) => RowTargets::Real(&chunk.labels),
                            (true, 1) => RowTargets::Class(&labels),
                            (true, _) => {
                                binary = labels.iter().map(|&l| usize::from(l == j)).collect();
                                RowTargets::Class(&binary)
                            }
                        };
                        sum += sgd_pass(m, &x, y, &order, &sgd)? * n as f64;
                    }
                    sum
                };
                total += loss_sum;
                rows += n as u64;
                for o in observers.iter_mut() {
                    o.on_batch(epoch + 1, chunk_no, n, loss_sum / n.max(1) as f64);
                }
                if epoch == 0 {
                    since = (since.0 + loss_sum, since.1 + n as u64);
                    if seen + rows >= next_report {
                        while seen + rows >= next_report * 2 {
                            next_report *= 2;
                        }
                        let msg = format!(
                            "progressive loss {:.6} over {} rows{part} (the rows since the last report: {:.6})",
                            total / rows as f64,
                            seen + rows,
                            since.0 / since.1.max(1) as f64
                        );
                        for o in observers.iter_mut() {
                            o.on_message(&msg);
                        }
                        since = (0.0, 0);
                        next_report *= 2;
                    }
                }
            }
            Ok(())
        });
        // Every rank learns its part; then the ranks average their models (parameter mixing).
        let train_loss = match comm.as_deref_mut() {
            None => {
                pass?;
                if rows == 0 {
                    return Err(Error::invalid("stream", "the file has no rows"));
                }
                total / rows as f64
            }
            Some(c) => {
                crate::collective::all_ok(c, pass)?;
                let mut widths = vec![0.0; c.size()];
                widths[c.rank()] = width as f64;
                c.allreduce_sum_f64(&mut widths)?;
                width = widths.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
                for m in models.iter_mut() {
                    m.grow(width);
                }
                let mut all_rows = [rows as f64];
                c.allreduce_sum_f64(&mut all_rows)?;
                if all_rows[0] == 0.0 {
                    return Err(Error::invalid("stream", "the file has no rows"));
                }
                crate::linear::mix_models(c, &mut models, rows as usize, total)?
            }
        };
        if !train_loss.is_finite() || !models.iter().all(SgdModel::is_finite) {
            return Err(Error::Diverged(format!(
                "progressive loss {train_loss} in pass {}; lower the learning rate",
                epoch + 1
            )));
        }
        let lr = lr.unwrap_or_else(|| optimal_rate(rule.alpha, &models[0]));
        report(
            observers,
            &mut history,
            epoch_record(epoch, train_loss, (None, None), lr, start),
        );
        if epoch == 0 {
            seen = rows;
        }
        if let Some(s) = schedule.as_deref_mut() {
            s.step(Some(train_loss));
        }
    }
    for m in models.iter_mut() {
        m.grow(width);
    }
    for o in observers.iter_mut() {
        o.on_end();
    }
    Ok(Streamed {
        models,
        classes,
        width,
        history,
    })
}

/// The sorted distinct values of `labels`.
fn distinct(mut labels: Vec<f64>) -> Vec<f64> {
    labels.sort_by(f64::total_cmp);
    labels.dedup();
    labels
}

/// The most classes a rank's first block may bring to [`agree_classes`].
const MAX_STREAM_CLASSES: usize = 1024;

/// The union of every rank's `local` classes (sorted, distinct), the same on every rank.
fn agree_classes(c: &mut dyn crate::collective::Communicator, local: Vec<f64>) -> Result<Vec<f64>> {
    let too_many = match local.len() > MAX_STREAM_CLASSES {
        true => Err(Error::invalid(
            "stream",
            format!(
                "{} classes in the first block: at most {MAX_STREAM_CLASSES}",
                local.len()
            ),
        )),
        false => Ok(()),
    };
    crate::collective::all_ok(c, too_many)?;
    // Each rank writes its count and labels into its own slot of one summed buffer.
    let slot = MAX_STREAM_CLASSES + 1;
    let mut buf = vec![0.0; slot * c.size()];
    let at = slot * c.rank();
    buf[at] = local.len() as f64;
    buf[at + 1..at + 1 + local.len()].copy_from_slice(&local);
    c.allreduce_sum_f64(&mut buf)?;
    let all = buf
        .chunks(slot)
        .flat_map(|s| s[1..1 + s[0] as usize].to_vec())
        .collect();
    Ok(distinct(all))
}

/// The weight and bias tensors of per-output models of `width` features.
pub(super) fn weights_of<T: Scalar>(models: &[SgdModel<T>], width: usize) -> Result<crate::nn::ParamStore<T>> {
    let k = models.len();
    let mut w = vec![T::zero(); width * k];
    let mut b = vec![T::zero(); k];
    for (j, m) in models.iter().enumerate() {
        let (wj, bj) = m.finish(false);
        for (i, v) in wj.iter().enumerate().take(width) {
            w[i * k + j] = T::of(*v);
        }
        b[j] = T::of(bj);
    }
    let mut p = crate::nn::ParamStore::new();
    p.insert("weight", Tensor::new(w, &[width, k])?);
    p.insert("bias", Tensor::new(b, &[k])?);
    Ok(p)
}
