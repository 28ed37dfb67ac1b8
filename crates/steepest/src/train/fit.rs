//! The loop.

use super::checkpoint::Checkpoint;
use super::metrics::MetricParts;
use super::observer::Observer;
use crate::collective::{allreduce_sum, Communicator};
use crate::data::{BatchSize, Batches, Dataset};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::optim::schedule::Schedule;
use crate::optim::{clip_grad_norm, BuiltOptimizer};
use crate::tensor::{rng, Rng, Scalar};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// A model the loop can train: parameters by name, and a loss with its gradient on a batch.
/// `Send`, because with several threads the loop runs on a thread of rayon's pool.
pub trait Trainable<T: Scalar>: Send {
    /// The parameters.
    fn params(&self) -> &ParamStore<T>;
    /// The parameters, mutably.
    fn params_mut(&mut self) -> &mut ParamStore<T>;
    /// Mean loss over `rows` of `data` (penalty included) and its gradient at `params` (of the
    /// same names and shapes as the model's), in training mode (`rng` drives dropout and other
    /// stochastic layers).
    fn loss_grad_at(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
    ) -> Result<(f64, ParamStore<T>)>;
    /// [`Trainable::loss_grad_at`] the model's own parameters.
    fn loss_grad(&self, data: &Dataset<T>, rows: &[usize], rng: &mut Rng) -> Result<(f64, ParamStore<T>)> {
        self.loss_grad_at(self.params(), data, rows, rng)
    }
    /// [`Trainable::loss_grad`] with the gradient written into `grads`, a buffer the loop keeps
    /// across steps (models with a fused path override this to avoid allocating).
    fn loss_grad_into(
        &self,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
        grads: &mut ParamStore<T>,
    ) -> Result<f64> {
        loss_grad_replacing(self, data, rows, rng, grads)
    }
    /// Mean loss over all rows of `data` in evaluation mode.
    fn eval_loss(&self, data: &Dataset<T>) -> Result<f64>;
    /// The validation metric (accuracy, R^2; higher is better) as sums over the rows of `data`,
    /// so that shards of data-parallel training add up.
    fn eval_metric(&self, data: &Dataset<T>) -> Result<Option<MetricParts>>;
    /// Runs after every optimizer step with its learning rate (the proximal L1 step, the
    /// running statistics of batch norm).
    fn after_step(&mut self, _lr: f64) {}
    /// Tensors saved with the model but not trained (running statistics); they travel in
    /// checkpoints and roll back with the parameters.
    fn buffers(&self) -> Option<&ParamStore<T>> {
        None
    }
    /// Replaces the buffers (from a checkpoint or a snapshot).
    fn set_buffers(&mut self, _buffers: ParamStore<T>) {}
}

/// [`Trainable::loss_grad`] with its gradient moved into `grads` (the default of
/// [`Trainable::loss_grad_into`], and the fallback of models whose fused path does not apply).
pub fn loss_grad_replacing<T: Scalar, M: Trainable<T> + ?Sized>(
    model: &M,
    data: &Dataset<T>,
    rows: &[usize],
    rng: &mut Rng,
    grads: &mut ParamStore<T>,
) -> Result<f64> {
    let (loss, g) = model.loss_grad(data, rows, rng)?;
    *grads = g;
    Ok(loss)
}

/// When the schedule advances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulePer {
    /// After every epoch (with the monitored loss, for reduce-on-plateau).
    #[default]
    Epoch,
    /// After every optimizer step.
    Step,
}

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

/// Settings of the loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: BatchSize,
    /// Reshuffle the rows every epoch.
    pub shuffle: bool,
    /// Seed of shuffling and of stochastic layers.
    pub seed: u64,
    /// When the schedule advances.
    pub schedule_per: SchedulePer,
    /// Clip the global gradient norm to this.
    pub clip_grad_norm: Option<f64>,
    /// Early stopping.
    pub early_stopping: Option<EarlyStopping>,
    /// Where checkpoints go (none: no checkpoints).
    pub checkpoint_dir: Option<PathBuf>,
    /// Checkpoint after every this many epochs.
    pub checkpoint_every_epochs: Option<usize>,
    /// Checkpoint after every this many optimizer steps.
    pub checkpoint_every_steps: Option<u64>,
    /// Divergence recoveries before giving up.
    pub max_divergence_retries: usize,
    /// Stop after this many optimizer steps (counted over the whole run, resumes included),
    /// mid-epoch if need be; the last epoch's record covers the steps it took. `None`: train
    /// for `epochs`.
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// The divergence guard's test for a loss that explodes while staying finite: from the
    /// second epoch on, a step whose loss exceeds this factor times the first epoch's mean loss
    /// counts as diverged (rolled back, the rate halved). `None` turns the test off (training whose loss is not meant to fall, such
    /// as adversarial games); non-finite values are caught either way. Default 1e4.
    #[serde(default = "default_explosion")]
    pub divergence_factor: Option<f64>,
}

fn default_explosion() -> Option<f64> {
    Some(1e4)
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: BatchSize::Rows(32),
            shuffle: true,
            seed: 0,
            schedule_per: SchedulePer::Epoch,
            clip_grad_norm: None,
            early_stopping: None,
            checkpoint_dir: None,
            checkpoint_every_epochs: None,
            checkpoint_every_steps: None,
            max_divergence_retries: 3,
            max_steps: None,
            divergence_factor: default_explosion(),
        }
    }
}

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

fn diverged<T: Scalar>(loss: f64, grads: Option<&ParamStore<T>>, params: &ParamStore<T>) -> bool {
    !loss.is_finite() || grads.is_some_and(|g| !g.all_finite()) || !params.all_finite()
}

/// The divergence guard's test for a finite loss: `Some(reason)` when `loss` exceeds `factor`
/// times the first epoch's mean training loss (from the second epoch on; a first epoch whose
/// mean is 0, a perfect start, gives no reference).
fn exploded(loss: f64, history: &History, factor: Option<f64>) -> Option<String> {
    let f = factor?;
    let first = history.first()?.train_loss;
    (first > 0.0 && loss > f * first)
        .then(|| format!("loss {loss:.3e} is more than {f:.0e} times the first epoch's mean loss {first:.3e}"))
}

/// Trains `model` on `train` (see the module docs); returns the history. With `resume`, the run
/// continues from that checkpoint and ends bit-identical to a run never interrupted.
/// Subnormal numbers are flushed to zero while it runs (see
/// [`set_flush_denormals`](crate::tensor::set_flush_denormals)).
#[allow(clippy::too_many_arguments)]
pub fn fit<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    opt: &mut BuiltOptimizer<T>,
    schedule: Option<&mut (dyn Schedule + '_)>,
    cfg: &TrainConfig,
    resume: Option<Checkpoint<T>>,
    observers: &mut [&mut dyn Observer],
) -> Result<History> {
    fit_parallel(model, train, val, opt, schedule, cfg, resume, observers, None)
}

/// [`fit`] as one rank of a synchronous data-parallel job when `comm` is given.
///
/// Each rank passes its own shard of the rows as `train` (and of the validation rows as `val`;
/// see [`shard_range`](crate::collective::shard_range)). Every step, each rank computes the
/// loss and gradient of its part of the batch, and one allreduce over a single flat buffer
/// `[g * rows, loss * rows, rows]` turns them into the mean over the whole batch, so all ranks
/// take the same optimizer step: with per-rank batch b on N ranks, the step of one process with
/// batch N b over the same rows. Every rank takes as many steps per epoch as the largest shard
/// has batches (a rank whose shard ran out adds zero rows). Validation loss and metric are
/// reduced the same way. Only rank 0 writes checkpoints; pass observers on rank 0 only.
/// Dropout draws per example from a generator seeded by (seed, step) and the example's row
/// identity ([`Dataset::row_ids`](crate::data::Dataset::row_ids)), so ranks draw what one
/// process would and a run resumes exactly; on another number of ranks, the epoch goes on after
/// the same count of rows.
#[allow(clippy::too_many_arguments)]
pub fn fit_parallel<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    opt: &mut BuiltOptimizer<T>,
    schedule: Option<&mut (dyn Schedule + '_)>,
    cfg: &TrainConfig,
    resume: Option<Checkpoint<T>>,
    observers: &mut [&mut dyn Observer],
    comm: Option<&mut (dyn Communicator + '_)>,
) -> Result<History> {
    if train.rows() == 0 && comm.is_none() {
        return Err(Error::invalid("train", "no training rows"));
    }
    if let Some(c) = cfg.clip_grad_norm {
        if !(c > 0.0 && c.is_finite()) {
            return Err(Error::invalid(
                "clip_grad_norm",
                format!("{c} is not a positive finite norm (0 would stop training, a negative norm would step uphill)"),
            ));
        }
    }
    let was_flushing = crate::tensor::flush_denormals_everywhere(true);
    // With several threads, the loop itself runs on a thread of rayon's pool: its parallel
    // parts (the shares of a batch, the optimizer's blocks) then start by handing work to the
    // other thread, instead of this thread queueing them and sleeping until they finish several
    // times per step (W1, 2 threads: 0.50 -> 0.40 s per epoch). A rank of a distributed job
    // stays on its own thread, from which MPI expects to be called.
    let into_pool = comm.is_none() && crate::tensor::num_threads() > 1 && rayon::current_thread_index().is_none();
    let result = if into_pool {
        rayon::scope(|_| {
            crate::tensor::pool::with_warm_pool(|| {
                fit_inner(model, train, val, opt, schedule, cfg, resume, observers, None)
            })
        })
    } else {
        fit_inner(model, train, val, opt, schedule, cfg, resume, observers, comm)
    };
    crate::tensor::flush_denormals_everywhere(was_flushing);
    result
}

/// Sums `grads * rows`, `loss * rows` and `rows` over the ranks in one allreduce and leaves the
/// batch means in `grads`; returns (mean loss, rows of the whole batch).
fn reduce_step<T: Scalar>(
    comm: &mut dyn Communicator,
    grads: &mut ParamStore<T>,
    loss: f64,
    rows: usize,
    flat: &mut Vec<T>,
) -> Result<(f64, usize)> {
    let c = T::of(rows as f64);
    flat.clear();
    for (_, t) in grads.iter() {
        flat.extend(t.data().iter().map(|&v| v * c));
    }
    flat.push(T::of(loss * rows as f64));
    flat.push(c);
    allreduce_sum(comm, flat)?;
    let total = flat.pop().map_or(0.0, |v| v.as_f64());
    let loss_sum = flat.pop().map_or(0.0, |v| v.as_f64());
    if total <= 0.0 {
        return Err(Error::invalid("distributed", "a step with no rows on any rank"));
    }
    let inv = T::of(1.0 / total);
    flat.iter_mut().for_each(|v| *v *= inv);
    grads.unflatten_from(flat)?;
    Ok((loss_sum / total, total.round() as usize))
}

/// Loss and gradient of `rows` into `grads`; zeros for a rank whose part of the batch is empty.
fn local_loss_grad<T: Scalar, M: Trainable<T>>(
    model: &M,
    data: &Dataset<T>,
    rows: &[usize],
    rng: &mut Rng,
    grads: &mut ParamStore<T>,
) -> Result<f64> {
    if rows.is_empty() {
        *grads = model.params().zeros_like();
        return Ok(0.0);
    }
    model.loss_grad_into(data, rows, rng, grads)
}

/// Validation loss and metric on `val` (this rank's validation rows), summed over the ranks.
pub(crate) fn evaluate<T: Scalar, M: Trainable<T>>(
    model: &M,
    val: &Dataset<T>,
    comm: Option<&mut (dyn Communicator + '_)>,
) -> Result<(f64, Option<(String, f64)>)> {
    let Some(comm) = comm else {
        let m = model.eval_metric(val)?;
        return Ok((model.eval_loss(val)?, m.map(|p| (p.name().to_string(), p.value()))));
    };
    let rows = val.rows() as f64;
    let (loss, metric) = if val.rows() == 0 {
        // No rows here: zero sums of the metric every rank computes for these targets.
        let empty = match val.targets {
            crate::data::Targets::Classes { .. } => MetricParts::Accuracy {
                correct: 0.0,
                rows: 0.0,
            },
            crate::data::Targets::Values(_) => MetricParts::R2 {
                sse: 0.0,
                sum_y: 0.0,
                sum_yy: 0.0,
                rows: 0.0,
            },
        };
        (0.0, Some(empty))
    } else {
        (model.eval_loss(val)?, model.eval_metric(val)?)
    };
    let mut buf = vec![loss * rows, rows];
    buf.extend(metric.map_or([0.0; 4], |m| m.sums()));
    comm.allreduce_sum_f64(&mut buf)?;
    let metric = metric.map(|m| {
        let merged = m.with_sums([buf[2], buf[3], buf[4], buf[5]]);
        (merged.name().to_string(), merged.value())
    });
    Ok((buf[0] / buf[1].max(1.0), metric))
}

/// The most batches any rank has in an epoch (every rank takes that many steps).
fn global_batches(comm: Option<&mut (dyn Communicator + '_)>, local: usize) -> Result<usize> {
    let Some(c) = comm else { return Ok(local) };
    let mut each = vec![0.0; c.size()];
    each[c.rank()] = local as f64;
    c.allreduce_sum_f64(&mut each)?;
    let most = each.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    if most == 0 {
        return Err(Error::invalid("train", "no training rows on any rank"));
    }
    Ok(most)
}

/// The generator of a step's randomness (dropout): the same on every rank and in one process,
/// so that with each example's draws seeded by its row identity, ranks draw what one process
/// would.
fn step_rng(seed: u64, step: u64) -> Rng {
    rng(seed ^ 0x5EED ^ (step + 1).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

#[allow(clippy::too_many_arguments)]
fn fit_inner<'c, T: Scalar, M: Trainable<T>>(
    model: &mut M,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    opt: &mut BuiltOptimizer<T>,
    mut schedule: Option<&mut (dyn Schedule + '_)>,
    cfg: &TrainConfig,
    resume: Option<Checkpoint<T>>,
    observers: &mut [&mut dyn Observer],
    mut comm: Option<&mut (dyn Communicator + 'c)>,
) -> Result<History> {
    let n = train.rows();
    let (rank, ranks) = comm.as_ref().map_or((0, 1), |c| (c.rank(), c.size()));
    let local_rows: Vec<usize> = (0..n).collect();
    let writer = rank == 0;
    let base_lr = match opt {
        BuiltOptimizer::Step(o) => o.lr(),
        BuiltOptimizer::LineSearch(_) => 1.0,
    };
    let capture =
        |model: &M, optimizer: serde_json::Value, schedule: &Option<&mut (dyn Schedule + '_)>, st: &Checkpoint<T>| {
            Checkpoint {
                params: model.params().clone(),
                buffers: model.buffers().cloned().unwrap_or_default(),
                optimizer,
                schedule: schedule.as_ref().map(|s| s.state()),
                ..st.clone()
            }
        };
    let mut st: Checkpoint<T> = match resume {
        Some(mut ck) => {
            ck.params.check_matches(model.params(), "checkpoint")?;
            *model.params_mut() = ck.params.clone();
            if let Some(b) = model.buffers() {
                b.check_matches(&ck.buffers, "checkpoint buffers")?;
                model.set_buffers(ck.buffers.clone());
            }
            opt.load_state(&ck.optimizer, model.params())?;
            if let (Some(s), Some(v)) = (schedule.as_deref_mut(), &ck.schedule) {
                s.load_state(v)?;
            }
            if ck.ranks != ranks {
                // The same count of rows seen, cut into the new number of shards.
                ck.batch = (ck.batch * ck.ranks.max(1)).div_ceil(ranks);
                ck.ranks = ranks;
            }
            ck
        }
        None => Checkpoint {
            version: 1,
            epoch: 0,
            batch: 0,
            step: 0,
            sums: (0.0, 0, 0.0, 0),
            params: ParamStore::new(),
            buffers: ParamStore::new(),
            optimizer: serde_json::Value::Null,
            schedule: None,
            rng: rng(cfg.seed ^ 0x5EED),
            lr_scale: 1.0,
            retries: 0,
            history: Vec::new(),
            best: None,
            bad_epochs: 0,
            best_params: None,
            ranks,
        },
    };
    let mut snapshot = capture(model, opt.state()?, &schedule, &st);
    // The snapshot before the current one: a failure on the first step after a snapshot means
    // the snapshot's own parameters are bad (their loss exploded), so the guard goes further back.
    let mut previous: Option<Checkpoint<T>> = None;
    let n_batches = global_batches(comm.as_deref_mut(), Batches::new(n, cfg.batch_size, false, 0, 0).len())?;
    // With a step budget, the epochs it takes (the last one possibly partial).
    let planned = match cfg.max_steps {
        Some(m) => cfg
            .epochs
            .min(st.epoch + (m.saturating_sub(st.step) as usize + st.batch).div_ceil(n_batches.max(1))),
        None => cfg.epochs,
    };
    for o in observers.iter_mut() {
        o.on_start(planned, n_batches);
    }
    let mut flat: Vec<T> = Vec::new();
    let mut epoch_start = Instant::now();
    let mut stopped_early = false;
    let mut converged: Option<String> = None;
    let steps_done = |st: &Checkpoint<T>| cfg.max_steps.is_some_and(|m| st.step >= m);
    'epochs: while st.epoch < cfg.epochs && !steps_done(&st) {
        let shard_seed = cfg.seed ^ (rank as u64).wrapping_mul(0xA24B_AED4_963E_E407);
        let batches = Batches::new(n, cfg.batch_size, cfg.shuffle, shard_seed, st.epoch as u64);
        let lr_now = |schedule: &Option<&mut (dyn Schedule + '_)>, st: &Checkpoint<T>| {
            schedule.as_ref().map_or(base_lr, |s| s.lr()) * st.lr_scale
        };
        let mut failure: Option<String> = None;
        match opt {
            BuiltOptimizer::LineSearch(ls) => {
                if st.batch == 0 {
                    let r = &mut st.rng;
                    let m: &M = model;
                    let c = &mut comm;
                    let mut f = |p: &ParamStore<T>| -> Result<(f64, ParamStore<T>)> {
                        let Some(c) = c.as_deref_mut() else {
                            return m.loss_grad_at(p, train, &local_rows, r);
                        };
                        let (loss, mut g) = match local_rows.is_empty() {
                            true => (0.0, p.zeros_like()),
                            false => m.loss_grad_at(p, train, &local_rows, r)?,
                        };
                        let (loss, _) = reduce_step(c, &mut g, loss, local_rows.len(), &mut Vec::new())?;
                        Ok((loss, g))
                    };
                    let mut params = model.params().clone();
                    let outcome = ls.step(&mut params, &mut f);
                    match outcome {
                        Ok(loss)
                            if !diverged(loss, None, &params)
                                && exploded(loss, &st.history, cfg.divergence_factor).is_none() =>
                        {
                            *model.params_mut() = params;
                            st.sums = (loss * n as f64, n, 0.0, 1);
                            st.step += 1;
                            st.batch = 1;
                            converged = ls.stop_reason();
                        }
                        Ok(loss) => failure = Some(format!("loss {loss}")),
                        Err(Error::Diverged(m)) => failure = Some(m),
                        Err(e) => return Err(e),
                    }
                }
            }
            BuiltOptimizer::Step(o) => {
                let mut grads = ParamStore::new();
                let mine: Vec<&[usize]> = batches.iter().collect();
                for bi in st.batch..n_batches {
                    if steps_done(&st) {
                        break; // the epoch ends here: its record covers the steps taken
                    }
                    let rows = mine.get(bi).copied().unwrap_or(&[]);
                    let lr = lr_now(&schedule, &st);
                    o.set_lr(lr);
                    if let Some(m) = schedule.as_ref().and_then(|s| s.momentum()) {
                        o.set_momentum(m);
                    }
                    let (loss, count) = match comm.as_deref_mut() {
                        None => {
                            let mut r = step_rng(cfg.seed, st.step);
                            (model.loss_grad_into(train, rows, &mut r, &mut grads)?, rows.len())
                        }
                        Some(c) => {
                            let mut r = step_rng(cfg.seed, st.step);
                            let loss = local_loss_grad(model, train, rows, &mut r, &mut grads)?;
                            reduce_step(c, &mut grads, loss, rows.len(), &mut flat)?
                        }
                    };
                    // The norm is not finite exactly when some gradient is not. Without clipping
                    // it comes from the optimizer's own sweep, which may have stepped already:
                    // a failure goes back to the snapshot either way.
                    let norm = match cfg.clip_grad_norm {
                        Some(c) => {
                            let norm = clip_grad_norm(&mut grads, c);
                            if loss.is_finite() && norm.is_finite() {
                                o.step_with_loss(model.params_mut(), &grads, Some(loss))?;
                            }
                            norm
                        }
                        None => o.step_and_norm(model.params_mut(), &grads, Some(loss))?,
                    };
                    if !loss.is_finite() || !norm.is_finite() {
                        failure = Some(format!("loss {loss}, gradient norm {norm} at step {}", st.step + 1));
                        break;
                    }
                    if let Some(why) = exploded(loss, &st.history, cfg.divergence_factor) {
                        failure = Some(format!("{why} at step {}", st.step + 1));
                        break;
                    }
                    model.after_step(lr);
                    st.step += 1;
                    st.batch = bi + 1;
                    st.sums.0 += loss * count as f64;
                    st.sums.1 += count;
                    st.sums.2 += norm;
                    st.sums.3 += 1;
                    if cfg.schedule_per == SchedulePer::Step {
                        if let Some(s) = schedule.as_deref_mut() {
                            s.step(None);
                        }
                    }
                    for ob in observers.iter_mut() {
                        ob.on_batch(st.epoch + 1, bi + 1, count, loss);
                    }
                    if let (Some(every), Some(dir)) = (cfg.checkpoint_every_steps, &cfg.checkpoint_dir) {
                        if every > 0 && st.step.is_multiple_of(every) {
                            previous = Some(std::mem::replace(
                                &mut snapshot,
                                capture(model, o.state()?, &schedule, &st),
                            ));
                            if writer {
                                snapshot.save(dir)?;
                            }
                        }
                    }
                }
            }
        }
        if failure.is_none() && !model.params().all_finite() {
            failure = Some(format!("non-finite parameters in epoch {}", st.epoch + 1));
        }
        if let Some(why) = failure {
            st.retries += 1;
            if st.retries > cfg.max_divergence_retries {
                return Err(Error::Diverged(format!(
                    "{why}; gave up after {} recoveries (last learning rate {:.3e}); lower the learning rate",
                    cfg.max_divergence_retries,
                    lr_now(&schedule, &st)
                )));
            }
            let (retries, scale) = (st.retries, st.lr_scale * 0.5);
            if st.step == snapshot.step {
                if let Some(p) = previous.take() {
                    snapshot = p;
                }
            }
            *model.params_mut() = snapshot.params.clone();
            if model.buffers().is_some() {
                model.set_buffers(snapshot.buffers.clone());
            }
            opt.load_state(&snapshot.optimizer, model.params())?;
            if let (Some(s), Some(v)) = (schedule.as_deref_mut(), &snapshot.schedule) {
                s.load_state(v)?;
            }
            st = Checkpoint {
                retries,
                lr_scale: scale,
                ..snapshot.clone()
            };
            let msg = format!(
                "diverged ({why}): restored the parameters of step {}, halved the learning rate to {:.3e} (recovery {retries} of {})",
                st.step,
                lr_now(&schedule, &st),
                cfg.max_divergence_retries
            );
            for ob in observers.iter_mut() {
                ob.on_message(&msg);
            }
            continue 'epochs;
        }
        // End of epoch: evaluate at the evaluation point (schedule-free rules differ).
        let train_params = model.params().clone();
        if let BuiltOptimizer::Step(o) = opt {
            *model.params_mut() = o.eval_params(&train_params);
        }
        let (val_loss, val_metric) = match val {
            Some(v) => {
                let (l, m) = evaluate(model, v, comm.as_deref_mut())?;
                (Some(l), m)
            }
            None => (None, None),
        };
        let (loss_sum, rows, norm_sum, steps) = st.sums;
        let train_loss = loss_sum / rows.max(1) as f64;
        let record = EpochRecord {
            epoch: st.epoch + 1,
            train_loss,
            val_loss,
            val_metric,
            lr: lr_now(&schedule, &st),
            grad_norm: norm_sum / steps.max(1) as f64,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        epoch_start = Instant::now();
        for ob in observers.iter_mut() {
            ob.on_epoch(&record);
        }
        let monitored = val_loss.unwrap_or(train_loss);
        st.history.push(record);
        if let Some(es) = cfg.early_stopping {
            if st.best.is_none_or(|b| monitored < b - es.min_delta) {
                st.best = Some(monitored);
                st.bad_epochs = 0;
                if es.restore_best {
                    st.best_params = Some(model.params().clone());
                }
            } else {
                st.bad_epochs += 1;
            }
            if st.bad_epochs > es.patience {
                stopped_early = true;
            }
        }
        *model.params_mut() = train_params;
        if cfg.schedule_per == SchedulePer::Epoch {
            if let Some(s) = schedule.as_deref_mut() {
                s.step(Some(monitored));
            }
        }
        st.epoch += 1;
        st.batch = 0;
        st.sums = (0.0, 0, 0.0, 0);
        if let (Some(every), Some(dir)) = (cfg.checkpoint_every_epochs, &cfg.checkpoint_dir) {
            if every > 0 && st.epoch.is_multiple_of(every) {
                previous = Some(std::mem::replace(
                    &mut snapshot,
                    capture(model, opt.state()?, &schedule, &st),
                ));
                if writer {
                    snapshot.save(dir)?;
                }
            }
        }
        if let Some(msg) = converged.take() {
            for ob in observers.iter_mut() {
                ob.on_message(&msg);
            }
            break 'epochs;
        }
        if stopped_early {
            let msg = format!(
                "early stopping after epoch {}: no improvement for {} epochs",
                st.epoch, st.bad_epochs
            );
            for ob in observers.iter_mut() {
                ob.on_message(&msg);
            }
            break 'epochs;
        }
    }
    // Finish at the evaluation point, or the best epoch's parameters.
    if let BuiltOptimizer::Step(o) = opt {
        let p = o.eval_params(model.params());
        *model.params_mut() = p;
    }
    if let Some(best) = st
        .best_params
        .take()
        .filter(|_| cfg.early_stopping.is_some_and(|e| e.restore_best))
    {
        *model.params_mut() = best;
    }
    for ob in observers.iter_mut() {
        ob.on_end();
    }
    Ok(st.history)
}
