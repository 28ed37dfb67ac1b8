//! Ops that move elements across axes, look rows up by index, or multiply batches of
//! matrices; the backward of each moves the gradient back (`permute` by the inverse
//! permutation, `narrow` into a zero tensor, a row lookup by adding rows back).
//!
//! For `C = op(A) op(B)` batched: `dA = G op(B)^T` (or `op(B) G^T` when A was read
//! transposed), `dB = op(A)^T G` (or `G^T op(A)`); a `B` shared by every batch gets the sum over
//! the batches.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::tensor::{Indices, Scalar, Tensor};

pub(crate) enum LayoutOp {
    Permute { x: usize, axes: Vec<usize> },
    Narrow { x: usize, axis: usize, start: usize },
    IndexRows { table: usize, idx: Vec<usize> },
    IndexSelect { x: usize, axis: usize, idx: Vec<usize> },
    Gather { x: usize, axis: usize, index: Indices },
    Bmm { a: usize, b: usize, ta: bool, tb: bool },
}

impl<'t, T: Scalar> Var<'t, T> {
    fn laid_out(self, op: LayoutOp, parents: &[usize], v: Tensor<T>) -> Self {
        self.tape().push(v, Op::Layout(op), parents)
    }

    /// The axes reordered (see [`Tensor::permute`]).
    pub fn permute(self, axes: &[usize]) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.permute(axes))?;
        let op = LayoutOp::Permute {
            x: self.id(),
            axes: axes.to_vec(),
        };
        Ok(self.laid_out(op, &[self.id()], v))
    }

    /// Axes `a` and `b` swapped.
    pub fn swap_axes(self, a: usize, b: usize) -> Result<Self> {
        let rank = self.shape().len();
        if a >= rank || b >= rank {
            return Err(Error::invalid(
                "swap_axes",
                format!("axes {a}, {b} of a rank-{rank} value"),
            ));
        }
        let mut axes: Vec<usize> = (0..rank).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Elements `start..start + len` along `axis` (see [`Tensor::narrow`]).
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.narrow(axis, start, len))?;
        let op = LayoutOp::Narrow {
            x: self.id(),
            axis,
            start,
        };
        Ok(self.laid_out(op, &[self.id()], v))
    }

    /// Rows `idx` of the table `self [rows, ...]` (an embedding lookup); the gradient adds back
    /// into the rows looked up.
    pub fn index_select_rows(self, idx: &[usize]) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.index_select_rows(idx))?;
        let op = LayoutOp::IndexRows {
            table: self.id(),
            idx: idx.to_vec(),
        };
        Ok(self.laid_out(op, &[self.id()], v))
    }

    /// The slices at `idx` along `axis` (see [`Tensor::index_select`]); the gradient adds back
    /// into the slices picked.
    pub fn index_select(self, axis: usize, idx: &[usize]) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.index_select(axis, idx))?;
        let op = LayoutOp::IndexSelect {
            x: self.id(),
            axis,
            idx: idx.to_vec(),
        };
        Ok(self.laid_out(op, &[self.id()], v))
    }

    /// Elements picked along `axis` by `index` (see [`Tensor::gather`]; the log-probability of
    /// each target, a token's score); the gradient is scattered back where they came from.
    pub fn gather(self, axis: usize, index: &Indices) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.gather(axis, index))?;
        let op = LayoutOp::Gather {
            x: self.id(),
            axis,
            index: index.clone(),
        };
        Ok(self.laid_out(op, &[self.id()], v))
    }

    /// Batched matrix product over the leading axes (see [`Tensor::bmm`]).
    pub fn bmm(self, other: Var<'t, T>, ta: bool, tb: bool) -> Result<Self> {
        let v = self
            .tape()
            .with_values2(self.id(), other.id(), |a, b| a.bmm(b, ta, tb))?;
        let op = LayoutOp::Bmm {
            a: self.id(),
            b: other.id(),
            ta,
            tb,
        };
        Ok(self.laid_out(op, &[self.id(), other.id()], v))
    }
}

impl LayoutOp {
    pub(crate) fn backward<T: Scalar>(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g;
        Ok(match self {
            LayoutOp::Permute { x, axes } => {
                let mut inv = vec![0; axes.len()];
                for (i, &a) in axes.iter().enumerate() {
                    inv[a] = i;
                }
                vec![(*x, g.permute(&inv)?)]
            }
            &LayoutOp::Narrow { x, axis, start } => {
                let mut out = Tensor::zeros(c.x(x).shape());
                out.narrow_add(axis, start, g)?;
                vec![(x, out)]
            }
            LayoutOp::IndexRows { table, idx } => {
                let mut out = Tensor::zeros(c.x(*table).shape());
                out.scatter_add_rows(idx, g)?;
                vec![(*table, out)]
            }
            LayoutOp::IndexSelect { x, axis, idx } => {
                let mut out = Tensor::zeros(c.x(*x).shape());
                out.index_add(*axis, idx, g)?;
                vec![(*x, out)]
            }
            LayoutOp::Gather { x, axis, index } => {
                let mut out = Tensor::zeros(c.x(*x).shape());
                out.scatter_add(*axis, index, g)?;
                vec![(*x, out)]
            }
            &LayoutOp::Bmm { a, b, ta, tb } => {
                let (av, bv) = (c.x(a), c.x(b));
                let shared = bv.shape().len() == 2 && av.shape().len() > 2;
                let bexp;
                let bb = if shared {
                    let mut s = av.shape()[..av.shape().len() - 2].to_vec();
                    s.extend(bv.shape());
                    bexp = bv.broadcast_as(&s)?;
                    &bexp
                } else {
                    bv
                };
                let mut out = Vec::with_capacity(2);
                if c.needs(a) {
                    let da = if ta {
                        bb.bmm(g, tb, true)?
                    } else {
                        g.bmm(bb, false, !tb)?
                    };
                    out.push((a, da));
                }
                if c.needs(b) {
                    let db = if tb {
                        g.bmm(av, true, ta)?
                    } else {
                        av.bmm(g, !ta, false)?
                    };
                    let db = match shared {
                        true => {
                            let (r, cl) = (bv.shape()[0], bv.shape()[1]);
                            db.reshape(&[db.len() / (r * cl), r * cl])?
                                .sum_axis(0, false)?
                                .reshape(&[r, cl])?
                        }
                        false => db,
                    };
                    out.push((b, db));
                }
                out
            }
        })
    }
}
