//! Batch, layer and group normalization on the tape; the kernel and its gradient are in
//! [`tensor::normalize`](crate::tensor::normalize).

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{self, NormKind, NormLayout, NormStats, Scalar, Tensor};

pub(crate) struct NormOp<T> {
    x: usize,
    gamma: Option<usize>,
    beta: Option<usize>,
    layout: NormLayout,
    xhat: Tensor<T>,
    rstd: Vec<f64>,
    fixed: bool,
}

impl<'t, T: Scalar> Var<'t, T> {
    /// Normalizes `self` as `kind` says, by its own statistics or by `fixed` (mean, biased
    /// variance) per group, with optional affine `gamma`, `beta`; returns the output and the
    /// statistics used (see [`tensor::normalize`]).
    pub fn normalize(
        self,
        kind: NormKind,
        gamma: Option<Var<'t, T>>,
        beta: Option<Var<'t, T>>,
        eps: f64,
        fixed: Option<(&[f64], &[f64])>,
    ) -> Result<(Self, NormStats)> {
        let layout = NormLayout::new(kind, &self.shape())?;
        let mut ids = vec![self.id()];
        ids.extend(gamma.map(|g| g.id()));
        ids.extend(beta.map(|b| b.id()));
        let (y, xhat, stats) = self.tape().with_many(&ids, |v| {
            let g = gamma.map(|_| v[1]);
            let b = beta.map(|_| v[ids.len() - 1]);
            tensor::normalize(v[0], &layout, g, b, eps, fixed)
        })?;
        let op = NormOp {
            x: self.id(),
            gamma: gamma.map(|g| g.id()),
            beta: beta.map(|b| b.id()),
            layout,
            xhat,
            rstd: stats.rstd.clone(),
            fixed: fixed.is_some(),
        };
        Ok((self.tape().push(y, Op::Norm(op), &ids), stats))
    }
}

impl<T: Scalar> NormOp<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let gamma = self.gamma.map(|g| c.x(g));
        let (dx, dg, db) = tensor::normalize_backward(c.g, &self.xhat, &self.layout, gamma, &self.rstd, self.fixed)?;
        let mut out = Vec::with_capacity(3);
        if c.needs(self.x) {
            out.push((self.x, dx));
        }
        if let Some(g) = self.gamma.filter(|&g| c.needs(g)) {
            out.push((g, dg.reshape(c.x(g).shape())?));
        }
        if let Some(b) = self.beta.filter(|&b| c.needs(b)) {
            out.push((b, db.reshape(c.x(b).shape())?));
        }
        Ok(out)
    }
}
