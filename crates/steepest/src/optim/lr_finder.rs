//! The learning-rate range test.

use super::Optimizer;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Settings of [`lr_range_test`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct LrFinderConfig {
    /// First learning rate.
    pub start_lr: f64,
    /// Last learning rate.
    pub end_lr: f64,
    /// Number of steps (learning rates tried).
    pub num_steps: usize,
    /// Smoothing beta of the loss: s_i = beta s_{i-1} + (1 - beta) loss_i, bias-corrected.
    pub smoothing: f64,
    /// Stop once the smoothed loss exceeds this multiple of the best smoothed loss.
    pub diverge_factor: f64,
}

impl Default for LrFinderConfig {
    fn default() -> Self {
        Self {
            start_lr: 1e-7,
            end_lr: 10.0,
            num_steps: 100,
            smoothing: 0.98,
            diverge_factor: 4.0,
        }
    }
}

/// The curve of a range test and its suggestion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LrFinderResult {
    /// Learning rates tried.
    pub lrs: Vec<f64>,
    /// Raw loss at each.
    pub losses: Vec<f64>,
    /// Smoothed, bias-corrected loss at each.
    pub smoothed: Vec<f64>,
    /// The suggested learning rate (see [`lr_range_test`]).
    pub suggestion: Option<f64>,
    /// The learning rate of steepest descent of the smoothed curve (see [`lr_range_test`]).
    pub steepest: Option<f64>,
    /// Whether the sweep stopped because the loss diverged.
    pub diverged: bool,
}

/// The LR range test (Smith 2017, "Cyclical learning rates for training neural networks";
/// the smoothing and stopping rule of fastai's `lr_find`): one optimizer step per learning rate
/// lr_i = start (end / start)^(i / (n - 1)), each on the next mini-batch that `batch` gives
/// (it returns the loss and gradients at the current parameters), stopping when the smoothed
/// loss is not finite or above `diverge_factor` times its minimum.
///
/// Suggestion rule: one tenth of the learning rate at which the smoothed loss is lowest (the
/// rule of Smith's paper and fastai's `lr_min`: the minimum is already at the edge of
/// stability). Also reported, as `steepest`: the learning rate where the smoothed loss falls
/// fastest against ln(lr), from slopes over a window of 5 % of the points, skipping the first
/// 10 % (where the bias-corrected average is noisy) and stopping at the minimum. Both are `None`
/// when fewer than 10 points were recorded. The parameters are restored afterwards; the
/// optimizer's state is not (use a fresh one).
pub fn lr_range_test<T: Scalar>(
    opt: &mut dyn Optimizer<T>,
    params: &mut ParamStore<T>,
    cfg: &LrFinderConfig,
    mut batch: impl FnMut(usize, &ParamStore<T>) -> Result<(f64, ParamStore<T>)>,
) -> Result<LrFinderResult> {
    if !(cfg.start_lr > 0.0 && cfg.end_lr > cfg.start_lr && cfg.num_steps >= 2) {
        return Err(Error::invalid(
            "lr-find",
            "needs 0 < start_lr < end_lr and at least 2 steps",
        ));
    }
    let saved = params.clone();
    let mut res = LrFinderResult {
        lrs: vec![],
        losses: vec![],
        smoothed: vec![],
        suggestion: None,
        steepest: None,
        diverged: false,
    };
    let (mut avg, mut best) = (0.0, f64::INFINITY);
    let ratio = cfg.end_lr / cfg.start_lr;
    for i in 0..cfg.num_steps {
        let lr = cfg.start_lr * ratio.powf(i as f64 / (cfg.num_steps - 1) as f64);
        opt.set_lr(lr);
        let (loss, grads) = batch(i, params)?;
        avg = cfg.smoothing * avg + (1.0 - cfg.smoothing) * loss;
        let smooth = avg / (1.0 - cfg.smoothing.powi(i as i32 + 1));
        if !smooth.is_finite() || smooth > cfg.diverge_factor * best {
            res.diverged = true;
            break;
        }
        best = best.min(smooth);
        res.lrs.push(lr);
        res.losses.push(loss);
        res.smoothed.push(smooth);
        opt.step_with_loss(params, &grads, Some(loss))?;
        if !params.all_finite() {
            res.diverged = true;
            break;
        }
    }
    *params = saved;
    if res.lrs.len() >= 10 {
        let argmin = (0..res.smoothed.len()).min_by(|&a, &b| res.smoothed[a].total_cmp(&res.smoothed[b]));
        res.suggestion = argmin.map(|i| res.lrs[i] / 10.0);
        res.steepest = argmin.and_then(|i| steepest(&res.lrs[..=i], &res.smoothed[..=i]));
    }
    Ok(res)
}

fn steepest(lrs: &[f64], smoothed: &[f64]) -> Option<f64> {
    let n = lrs.len();
    let w = (n / 20).max(1);
    let first = (n / 10).max(w);
    (first..n.saturating_sub(w))
        .map(|i| {
            (
                i,
                (smoothed[i + w] - smoothed[i - w]) / (lrs[i + w].ln() - lrs[i - w].ln()),
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| lrs[i])
}
