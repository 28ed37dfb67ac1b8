//! Softmax, log-softmax and log-sum-exp along an axis.
//!
//! Backward, with y the output and g the upstream gradient (sums along the axis):
//! softmax: dx = y (g - sum(g y)); log-softmax: dx = g - softmax(x) sum(g);
//! logsumexp: dx = g softmax(x).

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{Scalar, Tensor};

pub(crate) enum SoftmaxOp {
    Softmax { x: usize, axis: usize },
    LogSoftmax { x: usize, axis: usize },
    LogSumExp { x: usize, axis: usize },
}

impl<'t, T: Scalar> Var<'t, T> {
    fn softmax_family(self, op: SoftmaxOp, f: impl FnOnce(&Tensor<T>) -> Result<Tensor<T>>) -> Result<Self> {
        let v = self.tape().with_value(self.id(), f)?;
        Ok(self.tape().push(v, Op::Softmax(op), &[self.id()]))
    }

    /// Softmax along `axis`.
    pub fn softmax(self, axis: usize) -> Result<Self> {
        self.softmax_family(SoftmaxOp::Softmax { x: self.id(), axis }, |t| t.softmax(axis))
    }

    /// Log-softmax along `axis`.
    pub fn log_softmax(self, axis: usize) -> Result<Self> {
        self.softmax_family(SoftmaxOp::LogSoftmax { x: self.id(), axis }, |t| t.log_softmax(axis))
    }

    /// Log-sum-exp along `axis`.
    pub fn logsumexp(self, axis: usize, keepdim: bool) -> Result<Self> {
        self.softmax_family(SoftmaxOp::LogSumExp { x: self.id(), axis }, |t| {
            t.logsumexp(axis, keepdim)
        })
    }
}

impl SoftmaxOp {
    pub(crate) fn backward<T: Scalar>(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let (SoftmaxOp::Softmax { x, axis } | SoftmaxOp::LogSoftmax { x, axis } | SoftmaxOp::LogSumExp { x, axis, .. }) =
            *self;
        if !c.needs(x) {
            return Ok(vec![]);
        }
        let g = c.g;
        let grad = match self {
            SoftmaxOp::Softmax { .. } => {
                let y = c.out;
                let s = g.mul(y)?.sum_axis(axis, true)?;
                y.mul(&g.sub(&s)?)?
            }
            SoftmaxOp::LogSoftmax { .. } => {
                let p = c.out.exp();
                g.sub(&p.mul(&g.sum_axis(axis, true)?)?)?
            }
            SoftmaxOp::LogSumExp { .. } => {
                let xv = c.x(x);
                let gk = g.reshape(&xv.reduced_shape(axis, true))?;
                xv.softmax(axis)?.mul(&gk)?
            }
        };
        Ok(vec![(x, grad)])
    }
}
