//! Batch normalization with statistics over every rank of a data-parallel step (PyTorch's
//! `SyncBatchNorm`): the forward sums each channel's values over the ranks (two reductions:
//! the mean, then the squared deviations from it), and the backward sums each channel's
//! gradient terms the same way, so that ranks with per-rank batch b compute what one process
//! with the whole batch does.

use crate::autograd::CustomOp;
use crate::collective::step_allreduce_sum;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};

/// The global statistics of one batch norm's input: per channel, over every rank.
pub(crate) struct SyncStats {
    /// Mean of each channel.
    pub mean: Vec<f64>,
    /// Biased variance of each channel.
    pub var: Vec<f64>,
    /// Values per channel on all ranks together.
    pub total: f64,
}

/// `(examples, channels, values per channel per example)` of a `[N, C, ...]` input.
fn layout(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

/// Sums `f(channel, value index)` per channel over this rank's values.
fn channel_sums<T: Scalar>(x: &Tensor<T>, f: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let (n, c, sp) = layout(x.shape());
    let mut sums = vec![0.0; c];
    for i in 0..n {
        for (ch, s) in sums.iter_mut().enumerate() {
            let base = (i * c + ch) * sp;
            *s += (base..base + sp).map(|k| f(ch, k)).sum::<f64>();
        }
    }
    sums
}

/// The mean and biased variance of each channel of `x` over every rank of the step.
pub(crate) fn sync_stats<T: Scalar>(x: &Tensor<T>) -> Result<SyncStats> {
    let (n, c, sp) = layout(x.shape());
    let xd = x.data();
    let mut sums = channel_sums(x, |_, k| xd[k].as_f64());
    sums.push((n * sp) as f64);
    step_allreduce_sum(&mut sums)?;
    let total = sums[c];
    if total < 2.0 {
        return Err(Error::invalid(
            "BatchNorm",
            format!("needs more than one value per channel over the ranks in training, got {total}"),
        ));
    }
    let mean: Vec<f64> = sums[..c].iter().map(|s| s / total).collect();
    let mut sq = channel_sums(x, |ch, k| (xd[k].as_f64() - mean[ch]).powi(2));
    step_allreduce_sum(&mut sq)?;
    let var = sq.iter().map(|s| s / total).collect();
    Ok(SyncStats { mean, var, total })
}

/// x-hat = (x - mean) / sqrt(var + eps) with the statistics of every rank, and its backward
/// reduced over the ranks.
pub(crate) struct SyncNormalize {
    mean: Vec<f64>,
    inv_std: Vec<f64>,
    /// This rank's share of the values: its loss is a mean over its own rows, so its output
    /// gradient is the global one times total / local.
    share: f64,
}

impl SyncNormalize {
    pub(crate) fn new(stats: &SyncStats, eps: f64, local: usize) -> Self {
        Self {
            mean: stats.mean.clone(),
            inv_std: stats.var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect(),
            share: local as f64 / stats.total,
        }
    }
}

impl<T: Scalar> CustomOp<T> for SyncNormalize {
    fn name(&self) -> &str {
        "sync batch norm"
    }

    fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
        let (_, c, sp) = layout(x[0].shape());
        let data = x[0]
            .data()
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let ch = (k / sp) % c;
                T::of((v.as_f64() - self.mean[ch]) * self.inv_std[ch])
            })
            .collect();
        Tensor::new(data, x[0].shape())
    }

    /// dx = inv_std (g - A / n - x-hat B / n), n this rank's values per channel, A and B the
    /// sums over the ranks of each rank's share times its sums of g and g x-hat (with one rank:
    /// the sums of g and g x-hat).
    fn backward(&self, x: &[&Tensor<T>], y: &Tensor<T>, g: &Tensor<T>) -> Result<Vec<Option<Tensor<T>>>> {
        let (n, c, sp) = layout(x[0].shape());
        let (yd, gd) = (y.data(), g.data());
        let mut sums = channel_sums(g, |_, k| gd[k].as_f64());
        sums.extend(channel_sums(g, |_, k| gd[k].as_f64() * yd[k].as_f64()));
        sums.iter_mut().for_each(|s| *s *= self.share);
        step_allreduce_sum(&mut sums)?;
        let local = (n * sp) as f64;
        let dx = gd
            .iter()
            .zip(yd)
            .enumerate()
            .map(|(k, (gv, yv))| {
                let ch = (k / sp) % c;
                let (a, b) = (sums[ch] / local, sums[c + ch] / local);
                T::of(self.inv_std[ch] * (gv.as_f64() - a - yv.as_f64() * b))
            })
            .collect();
        Ok(vec![Some(Tensor::new(dx, x[0].shape())?)])
    }
}
