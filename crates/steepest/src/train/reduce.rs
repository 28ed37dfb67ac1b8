//! The data-parallel parts of the loop: gradients and losses summed over the ranks in one
//! allreduce, validation reduced the same way, and the step count every rank agrees on.

use super::metrics::MetricParts;
use super::trainable::Trainable;
use crate::collective::{allreduce_sum, Communicator};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{Rng, Scalar};

/// Sums `grads * rows`, `loss * rows` and `rows` over the ranks in one allreduce and leaves the
/// batch means in `grads`; returns (mean loss, rows of the whole batch).
pub(crate) fn reduce_step<T: Scalar>(
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
pub(crate) fn local_loss_grad<T: Scalar, M: Trainable<T>>(
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

/// The most and the fewest batches any rank has in an epoch (every rank takes the most).
pub(crate) fn global_batches(comm: Option<&mut (dyn Communicator + '_)>, local: usize) -> Result<(usize, usize)> {
    let Some(c) = comm else { return Ok((local, local)) };
    let mut each = vec![0.0; c.size()];
    each[c.rank()] = local as f64;
    c.allreduce_sum_f64(&mut each)?;
    let most = each.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    let fewest = each.iter().fold(f64::INFINITY, |a, &b| a.min(b)) as usize;
    if most == 0 {
        return Err(Error::invalid("train", "no training rows on any rank"));
    }
    Ok((most, fewest))
}
