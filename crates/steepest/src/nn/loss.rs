//! Losses built from tape ops, each a mean over the batch (PyTorch's `reduction="mean"`):
//! cross-entropy with class weights and label smoothing, MSE, Huber, BCE with logits (the
//! fused ops of [`autograd`](crate::autograd)), and the KL divergence between diagonal
//! Gaussians that VAEs use.

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};

/// Cross-entropy of logits `z [n, C]` against classes `y`, with optional class weights `w`
/// and label smoothing `eps` (PyTorch's `CrossEntropyLoss(weight, label_smoothing)`):
///
/// `L = [(1 - eps) sum_i w_{y_i} nll_i + (eps / C) sum_i sum_c w_c (-log p_ic)] / sum_i w_{y_i}`.
///
/// ```
/// use steepest::{autograd::Tape, nn::cross_entropy, Tensor};
/// let t = Tape::<f64>::new();
/// let z = t.constant(Tensor::new(vec![2.0, 0.0], &[1, 2])?);
/// let lp1 = -(1.0 + (-2.0f64).exp()).ln(); // log p of class 0
/// let lp2 = lp1 - 2.0;                      // log p of class 1
/// let l = cross_entropy(z, &[0], None, 0.1)?.item()?;
/// assert!((l - (-(0.9 * lp1) - 0.05 * (lp1 + lp2))).abs() < 1e-12);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn cross_entropy<'t, T: Scalar>(z: Var<'t, T>, y: &[usize], w: Option<&[T]>, eps: f64) -> Result<Var<'t, T>> {
    if !(0.0..=1.0).contains(&eps) {
        return Err(Error::invalid(
            "cross_entropy",
            format!("label smoothing {eps} must be in [0, 1]"),
        ));
    }
    let ce = z.cross_entropy(y, w)?;
    if eps == 0.0 {
        return Ok(ce);
    }
    let shape = z.shape();
    let c = shape[1];
    let weights: Vec<T> = w.map_or_else(|| vec![T::one(); c], <[T]>::to_vec);
    let total: f64 = y.iter().map(|&k| weights.get(k).map_or(1.0, |v| v.as_f64())).sum();
    let wt = z.tape().constant(Tensor::from_vec(weights));
    let smooth = z
        .log_softmax(1)?
        .mul(wt)?
        .sum_all()
        .mul_scalar(T::of(-eps / c as f64 / total.max(f64::MIN_POSITIVE)));
    ce.mul_scalar(T::of(1.0 - eps)).add(smooth)
}

/// Huber loss with threshold `delta` (PyTorch's `HuberLoss`): per element `0.5 d^2` where
/// `|d| < delta`, `delta (|d| - delta / 2)` elsewhere, `d = pred - target`; computed as
/// `0.5 q^2 + delta (|d| - q)` with `q = min(|d|, delta)`.
pub fn huber<'t, T: Scalar>(pred: Var<'t, T>, target: Var<'t, T>, delta: f64) -> Result<Var<'t, T>> {
    if delta.is_nan() || delta <= 0.0 {
        return Err(Error::invalid("huber", format!("delta {delta} must be positive")));
    }
    let a = pred.sub(target)?.abs();
    let q = a.clamp(T::zero(), T::of(delta));
    Ok(q.square()
        .mul_scalar(T::of(0.5))
        .add(a.sub(q)?.mul_scalar(T::of(delta)))?
        .mean_all())
}

/// KL(N(mu1, exp(lv1)) || N(mu2, exp(lv2))) for diagonal Gaussians of `[n, d]`, summed over
/// the `d` dimensions and averaged over the `n` rows:
/// `0.5 sum_j (lv2 - lv1 + (exp(lv1) + (mu1 - mu2)^2) / exp(lv2) - 1)`. Without the second
/// Gaussian, the standard normal: `0.5 sum_j (exp(lv1) + mu1^2 - 1 - lv1)` (the VAE's term).
pub fn kl_diag_gaussians<'t, T: Scalar>(
    mu1: Var<'t, T>,
    lv1: Var<'t, T>,
    second: Option<(Var<'t, T>, Var<'t, T>)>,
) -> Result<Var<'t, T>> {
    let rows = mu1.shape().first().copied().unwrap_or(1).max(1);
    let per = match second {
        None => lv1.exp().add(mu1.square())?.sub(lv1)?.add_scalar(-T::one()),
        Some((mu2, lv2)) => {
            let num = lv1.exp().add(mu1.sub(mu2)?.square())?;
            lv2.sub(lv1)?.add(num.div(lv2.exp())?)?.add_scalar(-T::one())
        }
    };
    Ok(per.sum_all().mul_scalar(T::of(0.5 / rows as f64)))
}
