//! Normalization kernels: batch norm, layer norm and group norm, as one computation over groups
//! of elements.
//!
//! Each element `x_i` belongs to a statistics group `s(i)` and an affine index `a(i)`:
//! `xhat_i = (x_i - mean_s) rstd_s` with `rstd_s = 1 / sqrt(var_s + eps)` (biased variance, as
//! PyTorch normalizes), `y_i = gamma_a xhat_i + beta_a`. The input gradient, with
//! `h_i = gamma_a dy_i` and means over each group of `m` elements, is
//! `dx_i = rstd_s (h_i - mean_s(h) - xhat_i mean_s(h xhat))`; with fixed statistics (batch norm
//! in evaluation) it is `rstd_s h_i`. Sums run in f64.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

/// Which elements share statistics, and which share an affine weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NormKind {
    /// Batch norm over `[N, C, ...]`: statistics per channel over the batch and the positions,
    /// affine per channel.
    Batch,
    /// Layer norm over the last `d` elements: statistics per row of `d`, affine per position in
    /// the row.
    Layer {
        /// Elements normalized together (the product of the normalized shape).
        d: usize,
    },
    /// Group norm over `[N, C, ...]`: statistics per example and group of `C / groups`
    /// channels, affine per channel.
    Group {
        /// Number of groups (divides `C`).
        groups: usize,
    },
}

/// The layout of one normalization: sizes and the maps `s(i)` and `a(i)`.
#[derive(Clone, Copy, Debug)]
pub struct NormLayout {
    kind: NormKind,
    n: usize,
    c: usize,
    inner: usize,
}

impl NormLayout {
    /// Checks `shape` against `kind`.
    pub fn new(kind: NormKind, shape: &[usize]) -> Result<Self> {
        let total: usize = shape.iter().product();
        match kind {
            NormKind::Layer { d } => {
                if d == 0 || !total.is_multiple_of(d) || shape.is_empty() {
                    return Err(Error::invalid(
                        "layer_norm",
                        format!("{shape:?} does not end in a block of {d} elements"),
                    ));
                }
                Ok(Self {
                    kind,
                    n: total / d,
                    c: 1,
                    inner: d,
                })
            }
            NormKind::Batch | NormKind::Group { .. } => {
                if shape.len() < 2 {
                    return Err(Error::invalid("norm", format!("expects [N, C, ...], got {shape:?}")));
                }
                if let NormKind::Group { groups } = kind {
                    if groups == 0 || !shape[1].is_multiple_of(groups) {
                        return Err(Error::invalid(
                            "group_norm",
                            format!("{} channels do not split into {groups} groups", shape[1]),
                        ));
                    }
                }
                Ok(Self {
                    kind,
                    n: shape[0],
                    c: shape[1],
                    inner: shape[2..].iter().product(),
                })
            }
        }
    }

    /// Number of statistics groups.
    pub fn groups(&self) -> usize {
        match self.kind {
            NormKind::Batch => self.c,
            NormKind::Layer { .. } => self.n,
            NormKind::Group { groups } => self.n * groups,
        }
    }

    /// Length of gamma and beta.
    pub fn affine_len(&self) -> usize {
        match self.kind {
            NormKind::Layer { d } => d,
            _ => self.c,
        }
    }

    /// Elements per statistics group.
    pub fn group_size(&self) -> usize {
        (self.n * self.c * self.inner) / self.groups().max(1)
    }

    /// Calls `f(i, s(i), a(i))` for every element in order.
    fn each(&self, mut f: impl FnMut(usize, usize, usize)) {
        let mut i = 0;
        for n in 0..self.n {
            for c in 0..self.c {
                let (s, a0) = match self.kind {
                    NormKind::Batch => (c, c),
                    NormKind::Layer { .. } => (n, 0),
                    NormKind::Group { groups } => (n * groups + c / (self.c / groups), c),
                };
                for k in 0..self.inner {
                    let a = if matches!(self.kind, NormKind::Layer { .. }) {
                        k
                    } else {
                        a0
                    };
                    f(i, s, a);
                    i += 1;
                }
            }
        }
    }
}

/// Statistics of one normalization: per group, the mean and `rstd = 1 / sqrt(var + eps)`, and
/// the biased variance (for running averages).
#[derive(Clone, Debug, PartialEq)]
pub struct NormStats {
    /// Mean per group.
    pub mean: Vec<f64>,
    /// Biased variance per group.
    pub var: Vec<f64>,
    /// 1 / sqrt(var + eps) per group.
    pub rstd: Vec<f64>,
}

/// Normalizes `x` by its own statistics (training) or by `fixed` ones (mean and variance per
/// group: batch norm in evaluation), then applies `gamma`, `beta` (each optional, of
/// [`NormLayout::affine_len`]). Returns `y`, `xhat` and the statistics used.
pub fn normalize<T: Scalar>(
    x: &Tensor<T>,
    layout: &NormLayout,
    gamma: Option<&Tensor<T>>,
    beta: Option<&Tensor<T>>,
    eps: f64,
    fixed: Option<(&[f64], &[f64])>,
) -> Result<(Tensor<T>, Tensor<T>, NormStats)> {
    let g = layout.groups();
    for (t, what) in [(gamma, "weight"), (beta, "bias")] {
        if let Some(t) = t {
            if t.len() != layout.affine_len() {
                return Err(Error::invalid(
                    "norm",
                    format!("{what} has {} elements, expected {}", t.len(), layout.affine_len()),
                ));
            }
        }
    }
    let xs = x.data();
    let (mean, var) = match fixed {
        Some((m, v)) => {
            if m.len() != g || v.len() != g {
                return Err(Error::invalid("norm", "running statistics of the wrong length"));
            }
            (m.to_vec(), v.to_vec())
        }
        None => {
            let m = layout.group_size().max(1) as f64;
            let mut sum = vec![0.0; g];
            layout.each(|i, s, _| sum[s] += xs[i].as_f64());
            let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
            let mut sq = vec![0.0; g];
            layout.each(|i, s, _| sq[s] += (xs[i].as_f64() - mean[s]).powi(2));
            (mean, sq.iter().map(|s| s / m).collect())
        }
    };
    let rstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let mut xhat = vec![T::zero(); xs.len()];
    let mut y = vec![T::zero(); xs.len()];
    let (gd, bd) = (gamma.map(Tensor::data), beta.map(Tensor::data));
    layout.each(|i, s, a| {
        let h = T::of((xs[i].as_f64() - mean[s]) * rstd[s]);
        xhat[i] = h;
        let mut v = h;
        if let Some(gd) = gd {
            v *= gd[a];
        }
        if let Some(bd) = bd {
            v += bd[a];
        }
        y[i] = v;
    });
    Ok((
        Tensor::new(y, x.shape())?,
        Tensor::new(xhat, x.shape())?,
        NormStats { mean, var, rstd },
    ))
}

/// Gradients of [`normalize`]: `(dx, dgamma, dbeta)` from `dy`, the saved `xhat` and `rstd`;
/// `fixed` when the statistics were not the input's own.
pub fn normalize_backward<T: Scalar>(
    dy: &Tensor<T>,
    xhat: &Tensor<T>,
    layout: &NormLayout,
    gamma: Option<&Tensor<T>>,
    rstd: &[f64],
    fixed: bool,
) -> Result<(Tensor<T>, Tensor<T>, Tensor<T>)> {
    let g = layout.groups();
    let (dys, xh) = (dy.data(), xhat.data());
    let gd = gamma.map(Tensor::data);
    let mut dgamma = vec![0.0; layout.affine_len()];
    let mut dbeta = vec![0.0; layout.affine_len()];
    let (mut mh, mut mhx) = (vec![0.0; g], vec![0.0; g]);
    layout.each(|i, s, a| {
        let d = dys[i].as_f64();
        dgamma[a] += d * xh[i].as_f64();
        dbeta[a] += d;
        let h = d * gd.map_or(1.0, |gd| gd[a].as_f64());
        mh[s] += h;
        mhx[s] += h * xh[i].as_f64();
    });
    let m = layout.group_size().max(1) as f64;
    let mut dx = vec![T::zero(); dys.len()];
    layout.each(|i, s, a| {
        let h = dys[i].as_f64() * gd.map_or(1.0, |gd| gd[a].as_f64());
        dx[i] = T::of(match fixed {
            true => rstd[s] * h,
            false => rstd[s] * (h - mh[s] / m - xh[i].as_f64() * mhx[s] / m),
        });
    });
    let to = |v: Vec<f64>| Tensor::from_vec(v.into_iter().map(T::of).collect());
    Ok((Tensor::new(dx, dy.shape())?, to(dgamma), to(dbeta)))
}
