//! The loop: epochs of optimizer steps over batches, calling its parts in order (the
//! data-parallel reduction in [`reduce`](super::reduce), the guard in
//! [`guard`](super::guard), early stopping in [`early_stop`](super::early_stop),
//! checkpoints in [`checkpoint`](super::checkpoint), the observers), with the state it carries
//! in a [`TrainState`].

use super::checkpoint::{Checkpoint, Checkpointer};
use super::config::{SchedulePer, TrainConfig};
use super::guard::{diverged_step, DivergenceGuard, Snapshot};
use super::observer::Observer;
use super::record::{EpochRecord, History};
use super::reduce::{evaluate, global_batches, local_loss_grad, reduce_step};
use super::state::TrainState;
use super::trainable::Trainable;
use crate::collective::{with_step_communicator, Communicator};
use crate::data::{Batches, Dataset};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::optim::schedule::Schedule;
use crate::optim::{clip_grad_norm, BuiltOptimizer, Optimizer, StepArgs};
use crate::tensor::{Rng, Scalar};
use std::time::Instant;

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

/// The run as it stands: the model's parameters and buffers, a copy of the optimizer, the
/// schedule's state, and `st`.
fn capture<T: Scalar, M: Trainable<T>>(
    model: &M,
    opt: &BuiltOptimizer<T>,
    schedule: &Option<&mut (dyn Schedule + '_)>,
    st: &TrainState<T>,
) -> Snapshot<T> {
    Snapshot {
        state: st.clone(),
        params: model.params().clone(),
        buffers: model.buffers().cloned(),
        optimizer: opt.clone(),
        schedule: schedule.as_ref().map(|s| s.state()),
    }
}

/// Puts the model, the optimizer and the schedule back as `snap` holds them; returns its state.
fn restore<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    opt: &mut BuiltOptimizer<T>,
    schedule: &mut Option<&mut (dyn Schedule + '_)>,
    snap: Snapshot<T>,
) -> Result<TrainState<T>> {
    *model.params_mut() = snap.params;
    if let Some(b) = snap.buffers {
        model.set_buffers(b);
    }
    *opt = snap.optimizer;
    if let (Some(s), Some(v)) = (schedule.as_deref_mut(), &snap.schedule) {
        s.load_state(v)?;
    }
    Ok(snap.state)
}

/// Loads a checkpoint into the model, the optimizer and the schedule (each checked against
/// it); returns its state, continued on `ranks` ranks.
fn resume_from<T: Scalar, M: Trainable<T>>(
    model: &mut M,
    opt: &mut BuiltOptimizer<T>,
    schedule: &mut Option<&mut (dyn Schedule + '_)>,
    ck: Checkpoint<T>,
    ranks: usize,
) -> Result<TrainState<T>> {
    ck.params.check_matches(model.params(), "checkpoint")?;
    *model.params_mut() = ck.params;
    if let Some(b) = model.buffers() {
        b.check_matches(&ck.buffers, "checkpoint buffers")?;
        model.set_buffers(ck.buffers);
    }
    opt.load_state(&ck.optimizer, model.params())?;
    if let (Some(s), Some(v)) = (schedule.as_deref_mut(), &ck.schedule) {
        s.load_state(v)?;
    }
    let mut st = ck.state;
    st.reshard(ranks);
    Ok(st)
}

fn tell(observers: &mut [&mut dyn Observer], msg: &str) {
    for o in observers.iter_mut() {
        o.on_message(msg);
    }
}

/// What an epoch's steps ended with.
enum EpochEnd {
    /// Every step was taken (or the step budget ran out).
    Done,
    /// The optimizer says training cannot go further (a line search found no decrease).
    Converged(String),
    /// A step diverged, for this reason.
    Diverged(String),
}

/// Everything an epoch's steps read but do not change.
struct Fixed<'a, T: Scalar> {
    train: &'a Dataset<T>,
    cfg: &'a TrainConfig,
    /// The rate the optimizer was configured with (the schedule's base when there is none).
    base_lr: f64,
    n_batches: usize,
    rank: usize,
    checkpoints: Checkpointer<'a>,
}

impl<T: Scalar> Fixed<'_, T> {
    fn steps_done(&self, st: &TrainState<T>) -> bool {
        self.cfg.max_steps.is_some_and(|m| st.step >= m)
    }
}

/// The full-batch step of a line-search optimizer (one per epoch).
fn line_search_epoch<T: Scalar, M: Trainable<T>>(
    f: &Fixed<'_, T>,
    model: &mut M,
    ls: &mut dyn crate::optim::LineSearchOptimizer<T>,
    st: &mut TrainState<T>,
    comm: &mut Option<&mut (dyn Communicator + '_)>,
) -> Result<EpochEnd> {
    if st.batch != 0 {
        return Ok(EpochEnd::Done);
    }
    let (train, n) = (f.train, f.train.rows());
    let all: Vec<usize> = (0..n).collect();
    let r = &mut st.rng;
    let m: &M = model;
    let mut objective = |p: &ParamStore<T>| -> Result<(f64, ParamStore<T>)> {
        let Some(c) = comm.as_deref_mut() else {
            return m.loss_grad_at(p, train, &all, r);
        };
        let (loss, mut g) = match (all.is_empty(), f.cfg.sync_batchnorm) {
            (true, _) => (0.0, p.zeros_like()),
            (false, true) => with_step_communicator(&mut *c, || m.loss_grad_at(p, train, &all, &mut *r))?,
            (false, false) => m.loss_grad_at(p, train, &all, r)?,
        };
        let (loss, _) = reduce_step(c, &mut g, loss, all.len(), &mut Vec::new())?;
        Ok((loss, g))
    };
    let mut params = model.params().clone();
    let loss = match ls.step(&mut params, &mut objective) {
        Ok(loss) => loss,
        Err(Error::Diverged(m)) => return Ok(EpochEnd::Diverged(m)),
        Err(e) => return Err(e),
    };
    if !params.all_finite() {
        return Ok(EpochEnd::Diverged(format!("loss {loss}, non-finite parameters")));
    }
    if let Some(why) = diverged_step(loss, 0.0, &st.history, f.cfg.divergence_factor) {
        return Ok(EpochEnd::Diverged(why));
    }
    *model.params_mut() = params;
    st.record_step(0, loss, n, 0.0);
    Ok(ls.stop_reason().map_or(EpochEnd::Done, EpochEnd::Converged))
}

/// The remaining steps of the epoch in progress, each: the schedule's rate, the batch's loss
/// and gradient (reduced over the ranks), clipping, the update, the guard's test, the
/// schedule's step, the observers, and a checkpoint when one is due.
#[allow(clippy::too_many_arguments)]
fn steps_epoch<T: Scalar, M: Trainable<T>>(
    f: &Fixed<'_, T>,
    model: &mut M,
    opt: &mut BuiltOptimizer<T>,
    schedule: &mut Option<&mut (dyn Schedule + '_)>,
    st: &mut TrainState<T>,
    guard: &mut DivergenceGuard<T>,
    observers: &mut [&mut dyn Observer],
    comm: &mut Option<&mut (dyn Communicator + '_)>,
    grads: &mut ParamStore<T>,
    flat: &mut Vec<T>,
) -> Result<EpochEnd> {
    let cfg = f.cfg;
    let shard_seed = cfg.seed ^ (f.rank as u64).wrapping_mul(0xA24B_AED4_963E_E407);
    let batches = Batches::new(f.train.rows(), cfg.batch_size, cfg.shuffle, shard_seed, st.epoch as u64);
    let mine: Vec<&[usize]> = batches.iter().collect();
    for bi in st.batch..f.n_batches {
        if f.steps_done(st) {
            break; // the epoch ends here: its record covers the steps taken
        }
        let BuiltOptimizer::Step(o) = &mut *opt else {
            return Err(Error::invalid("train", "a line-search optimizer takes no batch steps"));
        };
        let rows = mine.get(bi).copied().unwrap_or(&[]);
        let args = StepArgs {
            lr: st.lr(f.base_lr, schedule.as_deref()),
            momentum: schedule.as_ref().and_then(|s| s.momentum()),
            loss: None,
        };
        let mut r = st.step_rng(cfg.seed);
        model.read_ahead(mine.get(bi + 1).copied().unwrap_or(&[]));
        // The model's fused step, where it has one: one process, no clipping (which needs the
        // whole gradient before any step).
        let fused = match (comm.is_none(), cfg.clip_grad_norm) {
            (true, None) => model.loss_grad_step(f.train, rows, &mut r, o.as_mut(), &args)?,
            _ => None,
        };
        let (loss, count, norm) = match fused {
            Some((loss, norm)) => (loss, rows.len(), norm),
            None => apart_step(f, model, o.as_mut(), comm, grads, flat, rows, &mut r, args)?,
        };
        if let Some(why) = diverged_step(loss, norm, &st.history, cfg.divergence_factor) {
            return Ok(EpochEnd::Diverged(format!("{why} at step {}", st.step + 1)));
        }
        model.after_step(args.lr);
        st.record_step(bi, loss, count, norm);
        if cfg.schedule_per == SchedulePer::Step {
            if let Some(s) = schedule.as_deref_mut() {
                s.step(None);
            }
        }
        for ob in observers.iter_mut() {
            ob.on_batch(st.epoch + 1, bi + 1, count, loss);
        }
        if f.checkpoints.due_after_step(st.step) {
            let snap = capture(model, opt, schedule, st);
            f.checkpoints.write(&snap)?;
            guard.keep(snap);
        }
    }
    Ok(EpochEnd::Done)
}

/// One step with the gradient computed whole (reduced over the ranks), then clipped and
/// handed to the optimizer: the batch's loss, its row count and the gradient's norm.
#[allow(clippy::too_many_arguments)]
fn apart_step<T: Scalar, M: Trainable<T>>(
    f: &Fixed<'_, T>,
    model: &mut M,
    o: &mut dyn Optimizer<T>,
    comm: &mut Option<&mut (dyn Communicator + '_)>,
    grads: &mut ParamStore<T>,
    flat: &mut Vec<T>,
    rows: &[usize],
    r: &mut Rng,
    args: StepArgs,
) -> Result<(f64, usize, f64)> {
    let cfg = f.cfg;
    let (loss, count) = match comm.as_deref_mut() {
        None => (model.loss_grad_into(f.train, rows, r, grads)?, rows.len()),
        Some(c) => {
            let loss = match cfg.sync_batchnorm {
                true => with_step_communicator(&mut *c, || local_loss_grad(model, f.train, rows, r, grads))?,
                false => local_loss_grad(model, f.train, rows, r, grads)?,
            };
            reduce_step(c, grads, loss, rows.len(), flat)?
        }
    };
    let args = StepArgs {
        loss: Some(loss),
        ..args
    };
    // The norm is not finite exactly when some gradient is not. Without clipping it comes
    // from the optimizer's own sweep, which may have stepped already: a failure goes back
    // to the snapshot either way.
    let norm = match cfg.clip_grad_norm {
        Some(c) => {
            let norm = clip_grad_norm(grads, c);
            if loss.is_finite() && norm.is_finite() {
                o.step_at(model.params_mut(), grads, &args)?;
            }
            norm
        }
        None => o.step_at_and_norm(model.params_mut(), grads, &args)?,
    };
    Ok((loss, count, norm))
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
    let (rank, ranks) = comm.as_ref().map_or((0, 1), |c| (c.rank(), c.size()));
    let base_lr = match opt {
        BuiltOptimizer::Step(o) => o.lr(),
        BuiltOptimizer::LineSearch(_) => 1.0,
    };
    let mut st = match resume {
        Some(ck) => resume_from(model, opt, &mut schedule, ck, ranks)?,
        None => TrainState::new(cfg.seed, ranks),
    };
    let mut guard = DivergenceGuard::new(capture(model, opt, &schedule, &st), cfg.max_divergence_retries);
    let (n_batches, fewest) = global_batches(
        comm.as_deref_mut(),
        Batches::new(train.rows(), cfg.batch_size, false, 0, 0).len(),
    )?;
    if cfg.sync_batchnorm && comm.is_some() && fewest < n_batches {
        // A rank without rows would skip the reductions the others wait in.
        return Err(Error::invalid(
            "sync_batchnorm",
            format!(
                "every rank must take each step with rows, but the shards have {fewest} to {n_batches} batches per epoch: give the ranks shards of equal batch counts"
            ),
        ));
    }
    let f = Fixed {
        train,
        cfg,
        base_lr,
        n_batches,
        rank,
        checkpoints: Checkpointer {
            dir: cfg.checkpoint_dir.as_deref(),
            every_steps: cfg.checkpoint_every_steps,
            every_epochs: cfg.checkpoint_every_epochs,
            writer: rank == 0,
        },
    };
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
    let (mut grads, mut flat) = (ParamStore::new(), Vec::new());
    let mut epoch_start = Instant::now();
    while st.epoch < cfg.epochs && !f.steps_done(&st) {
        let mut end = match opt {
            BuiltOptimizer::LineSearch(ls) => line_search_epoch(&f, model, ls.as_mut(), &mut st, &mut comm)?,
            BuiltOptimizer::Step(_) => steps_epoch(
                &f,
                model,
                opt,
                &mut schedule,
                &mut st,
                &mut guard,
                observers,
                &mut comm,
                &mut grads,
                &mut flat,
            )?,
        };
        if matches!(end, EpochEnd::Done | EpochEnd::Converged(_)) && !model.params().all_finite() {
            end = EpochEnd::Diverged(format!("non-finite parameters in epoch {}", st.epoch + 1));
        }
        let converged = match end {
            EpochEnd::Diverged(why) => {
                let lr = st.lr(base_lr, schedule.as_deref());
                let back = guard.recover(&why, st.step, st.retries, st.lr_scale, lr)?;
                st = restore(model, opt, &mut schedule, back)?;
                let msg = format!(
                    "diverged ({why}): restored the parameters of step {}, halved the learning rate to {:.3e} (recovery {} of {})",
                    st.step,
                    st.lr(base_lr, schedule.as_deref()),
                    st.retries,
                    cfg.max_divergence_retries
                );
                tell(observers, &msg);
                continue;
            }
            EpochEnd::Converged(msg) => Some(msg),
            EpochEnd::Done => None,
        };
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
        let record = EpochRecord {
            epoch: st.epoch + 1,
            train_loss: st.sums.mean_loss(),
            val_loss,
            val_metric,
            lr: st.lr(base_lr, schedule.as_deref()),
            grad_norm: st.sums.mean_norm(),
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        epoch_start = Instant::now();
        for ob in observers.iter_mut() {
            ob.on_epoch(&record);
        }
        let monitored = val_loss.unwrap_or(record.train_loss);
        let stop_early = cfg
            .early_stopping
            .is_some_and(|rule| st.early.observe(&rule, monitored, model.params()));
        *model.params_mut() = train_params;
        if cfg.schedule_per == SchedulePer::Epoch {
            if let Some(s) = schedule.as_deref_mut() {
                s.step(Some(monitored));
            }
        }
        st.end_epoch(record);
        let last = st.epoch >= cfg.epochs || f.steps_done(&st) || stop_early || converged.is_some();
        let due = f.checkpoints.due_after_epoch(st.epoch);
        if due || !last {
            let snap = capture(model, opt, &schedule, &st);
            if due {
                f.checkpoints.write(&snap)?;
            }
            guard.keep(snap);
        }
        if let Some(msg) = converged {
            tell(observers, &msg);
            break;
        }
        if stop_early {
            tell(observers, &st.early.stop_message(st.epoch));
            break;
        }
    }
    // Finish at the evaluation point, or the best epoch's parameters.
    if let BuiltOptimizer::Step(o) = opt {
        let p = o.eval_params(model.params());
        *model.params_mut() = p;
    }
    if let Some(best) = st.early.take_best(cfg.early_stopping.as_ref()) {
        *model.params_mut() = best;
    }
    for ob in observers.iter_mut() {
        ob.on_end();
    }
    Ok(st.history)
}
