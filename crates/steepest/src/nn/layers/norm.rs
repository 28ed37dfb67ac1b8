//! Normalization layers: `BatchNorm` (1-D and 2-D), `LayerNorm`, `GroupNorm`, with PyTorch's
//! defaults (eps 1e-5, momentum 0.1, weight ones, bias zeros, running mean zeros, running
//! variance ones).

use super::sync_norm::{sync_stats, SyncNormalize};
use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::{NormKind, Scalar, Tensor};

fn affine<T: Scalar>(vb: &VarBuilder<'_, T>, shape: &[usize], on: bool) -> Result<(Option<String>, Option<String>)> {
    if !on {
        return Ok((None, None));
    }
    let w = vb.param("weight", shape, |s, _| Tensor::ones(s))?;
    let b = vb.param("bias", shape, |s, _| Tensor::zeros(s))?;
    Ok((Some(w), Some(b)))
}

fn bind<'t, T: Scalar>(cx: &Cx<'t, T>, name: &Option<String>) -> Result<Option<Var<'t, T>>> {
    name.as_deref().map(|n| cx.var(n)).transpose()
}

/// Batch normalization over `[N, C]`, `[N, C, L]` (`BatchNorm1d`) or `[N, C, H, W]`
/// (`BatchNorm2d`): in training, each channel is normalized by the batch's mean and (biased)
/// variance, and the running averages move by `momentum` toward the batch's mean and unbiased
/// variance; in evaluation the running averages normalize. Under data parallelism each rank
/// normalizes by its own part of the batch (as PyTorch's DDP without SyncBatchNorm), unless
/// the step runs under a step communicator
/// ([`with_step_communicator`](crate::collective::with_step_communicator), which the training
/// loop installs with [`TrainConfig::sync_batchnorm`](crate::train::TrainConfig)): then the
/// statistics, the running averages and the backward are those of the whole batch over every
/// rank (PyTorch's `SyncBatchNorm`).
#[derive(Clone, Debug)]
pub struct BatchNorm {
    weight: Option<String>,
    bias: Option<String>,
    running_mean: String,
    running_var: String,
    channels: usize,
    eps: f64,
    momentum: f64,
    dims: &'static [usize],
}

impl BatchNorm {
    /// A batch norm over `channels`; `dims` lists the input ranks it accepts (`[2, 3]` for
    /// `BatchNorm1d`, `[4]` for `BatchNorm2d`).
    pub fn new<T: Scalar>(
        vb: &VarBuilder<'_, T>,
        channels: usize,
        eps: f64,
        momentum: f64,
        affine_on: bool,
        dims: &'static [usize],
    ) -> Result<Self> {
        if channels == 0 || eps.is_nan() || eps <= 0.0 || !(0.0..=1.0).contains(&momentum) {
            return Err(Error::invalid(
                "BatchNorm",
                "num_features must be positive, eps > 0 and momentum in [0, 1]",
            ));
        }
        let (weight, bias) = affine(vb, &[channels], affine_on)?;
        Ok(Self {
            weight,
            bias,
            running_mean: vb.buffer("running_mean", Tensor::zeros(&[channels])),
            running_var: vb.buffer("running_var", Tensor::ones(&[channels])),
            channels,
            eps,
            momentum,
            dims,
        })
    }
}

impl<T: Scalar> Module<T> for BatchNorm {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let s = x.shape();
        if !self.dims.contains(&s.len()) || s[1] != self.channels {
            return Err(Error::invalid(
                "BatchNorm",
                format!(
                    "expects {} channels in an input of rank {:?}, got {s:?}",
                    self.channels, self.dims
                ),
            ));
        }
        let (w, b) = (bind(cx, &self.weight)?, bind(cx, &self.bias)?);
        let rm = cx.var(&self.running_mean)?.value();
        let rv = cx.var(&self.running_var)?.value();
        if !cx.training() {
            let m: Vec<f64> = rm.data().iter().map(|v| v.as_f64()).collect();
            let v: Vec<f64> = rv.data().iter().map(|v| v.as_f64()).collect();
            return Ok(x.normalize(NormKind::Batch, w, b, self.eps, Some((&m, &v)))?.0);
        }
        if crate::collective::step_synced() {
            return self.forward_synced(cx, x, w, b, &rm, &rv);
        }
        let per = s[0] * s[2..].iter().product::<usize>();
        if per < 2 {
            return Err(Error::invalid(
                "BatchNorm",
                format!("needs more than one value per channel in training, got input {s:?}"),
            ));
        }
        let (y, st) = x.normalize(NormKind::Batch, w, b, self.eps, None)?;
        self.update_running(cx, &rm, &rv, &st.mean, &st.var, per as f64);
        Ok(y)
    }
}

impl BatchNorm {
    /// Moves the running averages by `momentum` toward the batch's mean and unbiased variance
    /// (`var` is biased, over `count` values per channel).
    fn update_running<T: Scalar>(
        &self,
        cx: &mut Cx<'_, T>,
        rm: &Tensor<T>,
        rv: &Tensor<T>,
        mean: &[f64],
        var: &[f64],
        count: f64,
    ) {
        let k = self.momentum;
        let unbiased = count / (count - 1.0);
        let new_m: Vec<T> = rm
            .data()
            .iter()
            .zip(mean)
            .map(|(r, m)| T::of((1.0 - k) * r.as_f64() + k * m))
            .collect();
        let new_v: Vec<T> = rv
            .data()
            .iter()
            .zip(var)
            .map(|(r, v)| T::of((1.0 - k) * r.as_f64() + k * v * unbiased))
            .collect();
        cx.update_buffer(&self.running_mean, Tensor::from_vec(new_m));
        cx.update_buffer(&self.running_var, Tensor::from_vec(new_v));
    }

    /// The training forward with the statistics of every rank of the step.
    fn forward_synced<'t, T: Scalar>(
        &self,
        cx: &mut Cx<'t, T>,
        x: Var<'t, T>,
        w: Option<Var<'t, T>>,
        b: Option<Var<'t, T>>,
        rm: &Tensor<T>,
        rv: &Tensor<T>,
    ) -> Result<Var<'t, T>> {
        let s = x.shape();
        let stats = sync_stats(&x.value())?;
        let local = s[0] * s[2..].iter().product::<usize>();
        let op = std::sync::Arc::new(SyncNormalize::new(&stats, self.eps, local));
        let mut y = Var::custom(op, &[x])?;
        // The affine per channel, broadcast over the examples and the positions.
        let mut per_channel = vec![self.channels];
        per_channel.extend(std::iter::repeat_n(1, s.len() - 2));
        if let Some(w) = w {
            y = y.mul(w.reshape(&per_channel)?)?;
        }
        if let Some(b) = b {
            y = y.add(b.reshape(&per_channel)?)?;
        }
        self.update_running(cx, rm, rv, &stats.mean, &stats.var, stats.total);
        Ok(y)
    }
}

/// Layer normalization over the trailing `normalized_shape` (PyTorch's `nn.LayerNorm`).
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Option<String>,
    bias: Option<String>,
    shape: Vec<usize>,
    eps: f64,
}

impl LayerNorm {
    /// Normalizes over the last dimensions `shape`.
    pub fn new<T: Scalar>(vb: &VarBuilder<'_, T>, shape: &[usize], eps: f64, affine_on: bool) -> Result<Self> {
        if shape.is_empty() || shape.contains(&0) || eps.is_nan() || eps <= 0.0 {
            return Err(Error::invalid(
                "LayerNorm",
                "normalized_shape must be non-empty and positive, eps > 0",
            ));
        }
        let (weight, bias) = affine(vb, shape, affine_on)?;
        Ok(Self {
            weight,
            bias,
            shape: shape.to_vec(),
            eps,
        })
    }
}

impl<T: Scalar> Module<T> for LayerNorm {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let s = x.shape();
        if s.len() < self.shape.len() || s[s.len() - self.shape.len()..] != self.shape[..] {
            return Err(Error::invalid(
                "LayerNorm",
                format!("input {s:?} does not end in the normalized shape {:?}", self.shape),
            ));
        }
        let d = self.shape.iter().product();
        let (w, b) = (bind(cx, &self.weight)?, bind(cx, &self.bias)?);
        Ok(x.normalize(NormKind::Layer { d }, w, b, self.eps, None)?.0)
    }
}

/// Group normalization of `[N, C, ...]` (PyTorch's `nn.GroupNorm`).
#[derive(Clone, Debug)]
pub struct GroupNorm {
    weight: Option<String>,
    bias: Option<String>,
    groups: usize,
    channels: usize,
    eps: f64,
}

impl GroupNorm {
    /// `groups` groups of `channels / groups` channels.
    pub fn new<T: Scalar>(
        vb: &VarBuilder<'_, T>,
        groups: usize,
        channels: usize,
        eps: f64,
        affine_on: bool,
    ) -> Result<Self> {
        if groups == 0 || !channels.is_multiple_of(groups) || eps.is_nan() || eps <= 0.0 {
            return Err(Error::invalid(
                "GroupNorm",
                format!("num_channels {channels} must be a multiple of num_groups {groups}, eps > 0"),
            ));
        }
        let (weight, bias) = affine(vb, &[channels], affine_on)?;
        Ok(Self {
            weight,
            bias,
            groups,
            channels,
            eps,
        })
    }
}

impl<T: Scalar> Module<T> for GroupNorm {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let s = x.shape();
        if s.len() < 2 || s[1] != self.channels {
            return Err(Error::invalid(
                "GroupNorm",
                format!("expects [N, {}, ...], got {s:?}", self.channels),
            ));
        }
        let (w, b) = (bind(cx, &self.weight)?, bind(cx, &self.bias)?);
        Ok(
            x.normalize(NormKind::Group { groups: self.groups }, w, b, self.eps, None)?
                .0,
        )
    }
}
