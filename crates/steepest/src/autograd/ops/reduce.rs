//! Sums, means and maxima over everything or one axis. The gradient of a sum spreads the
//! incoming gradient over the reduced axis; a mean also divides by its length; a maximum sends it
//! to the (first) position that won.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{Scalar, Tensor};

pub(crate) enum ReduceOp {
    Sum { x: usize, axis: Option<usize> },
    Mean { x: usize, axis: Option<usize> },
    Max { x: usize, axis: Option<usize> },
}

impl<'t, T: Scalar> Var<'t, T> {
    fn reduce(self, op: ReduceOp, f: impl FnOnce(&Tensor<T>) -> Result<Tensor<T>>) -> Result<Self> {
        let v = self.tape().with_value(self.id(), f)?;
        Ok(self.tape().push(v, Op::Reduce(op), &[self.id()]))
    }

    /// Sum of all elements (a scalar).
    pub fn sum_all(self) -> Self {
        let op = ReduceOp::Sum {
            x: self.id(),
            axis: None,
        };
        self.reduce(op, |t| Ok(Tensor::scalar(t.sum_all())))
            .expect("sum_all cannot fail")
    }

    /// Mean of all elements (a scalar).
    pub fn mean_all(self) -> Self {
        let op = ReduceOp::Mean {
            x: self.id(),
            axis: None,
        };
        self.reduce(op, |t| Ok(Tensor::scalar(t.mean_all())))
            .expect("mean_all cannot fail")
    }

    /// Largest element (a scalar).
    pub fn max_all(self) -> Result<Self> {
        let op = ReduceOp::Max {
            x: self.id(),
            axis: None,
        };
        self.reduce(op, |t| t.max_all().map(Tensor::scalar))
    }

    /// Sum along `axis`.
    pub fn sum_axis(self, axis: usize, keepdim: bool) -> Result<Self> {
        let op = ReduceOp::Sum {
            x: self.id(),
            axis: Some(axis),
        };
        self.reduce(op, |t| t.sum_axis(axis, keepdim))
    }

    /// Mean along `axis`.
    pub fn mean_axis(self, axis: usize, keepdim: bool) -> Result<Self> {
        let op = ReduceOp::Mean {
            x: self.id(),
            axis: Some(axis),
        };
        self.reduce(op, |t| t.mean_axis(axis, keepdim))
    }

    /// Maximum along `axis`.
    pub fn max_axis(self, axis: usize, keepdim: bool) -> Result<Self> {
        let op = ReduceOp::Max {
            x: self.id(),
            axis: Some(axis),
        };
        self.reduce(op, |t| t.max_axis(axis, keepdim))
    }
}

/// The incoming gradient reshaped so that it broadcasts against the input.
fn kept<T: Scalar>(g: &Tensor<T>, x: &Tensor<T>, axis: Option<usize>) -> Result<Tensor<T>> {
    match axis {
        None => Ok(g.clone()),
        Some(a) => g.reshape(&x.reduced_shape(a, true)),
    }
}

impl ReduceOp {
    pub(crate) fn backward<T: Scalar>(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let (ReduceOp::Sum { x, axis, .. } | ReduceOp::Mean { x, axis, .. } | ReduceOp::Max { x, axis, .. }) = *self;
        if !c.needs(x) {
            return Ok(vec![]);
        }
        let xv = c.x(x);
        let g = kept(c.g, xv, axis)?;
        let grad = match self {
            ReduceOp::Sum { .. } => g.broadcast_to(xv.shape())?,
            ReduceOp::Mean { .. } => {
                let n = axis.map_or(xv.len(), |a| xv.shape()[a]);
                g.broadcast_to(xv.shape())?.mul_scalar(T::one() / T::of(n as f64))
            }
            ReduceOp::Max { .. } => {
                let mut out = Tensor::zeros(xv.shape());
                match axis {
                    None => out.data_mut()[xv.argmax_all()?] = g.data()[0],
                    Some(a) => {
                        let (_, len, inner) = xv.axis_split(a);
                        for (pos, k) in xv.argmax_axis(a)?.into_iter().enumerate() {
                            let (o, i) = (pos / inner, pos % inner);
                            out.data_mut()[(o * len + k) * inner + i] = g.data()[pos];
                        }
                    }
                }
                out
            }
        };
        Ok(vec![(x, grad)])
    }
}
