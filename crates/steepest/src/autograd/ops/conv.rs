//! Convolution and pooling on the tape; the kernels are in [`crate::tensor`] (`conv.rs`,
//! `pool2d.rs`), each with its backward, which the rules here call.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{self, Conv2dGeometry, Pool2dGeometry, Scalar};

pub(crate) enum ConvOp {
    Conv2d {
        x: usize,
        w: usize,
        b: Option<usize>,
        geo: Conv2dGeometry,
    },
    MaxPool2d {
        x: usize,
        at: Vec<u32>,
    },
    AvgPool2d {
        x: usize,
        geo: Pool2dGeometry,
    },
    AdaptiveAvgPool2d {
        x: usize,
    },
}

impl<'t, T: Scalar> Var<'t, T> {
    /// 2-D convolution of `self [N, C, H, W]` with `weight [O, C/groups, kh, kw]` and an
    /// optional `bias [O]` (see [`tensor::conv2d`]).
    pub fn conv2d(self, weight: Var<'t, T>, bias: Option<Var<'t, T>>, geo: &Conv2dGeometry) -> Result<Self> {
        let mut ids = vec![self.id(), weight.id()];
        ids.extend(bias.map(|b| b.id()));
        let v = self
            .tape()
            .with_many(&ids, |v| tensor::conv2d(v[0], v[1], v.get(2).copied(), geo))?;
        let op = ConvOp::Conv2d {
            x: self.id(),
            w: weight.id(),
            b: bias.map(|b| b.id()),
            geo: *geo,
        };
        Ok(self.tape().push(v, Op::Conv(op), &ids))
    }

    /// Max pooling of `self [N, C, H, W]` (see [`tensor::max_pool2d`]).
    pub fn max_pool2d(self, geo: &Pool2dGeometry) -> Result<Self> {
        let (v, at) = self.tape().with_value(self.id(), |x| tensor::max_pool2d(x, geo))?;
        let op = ConvOp::MaxPool2d { x: self.id(), at };
        Ok(self.tape().push(v, Op::Conv(op), &[self.id()]))
    }

    /// Average pooling of `self [N, C, H, W]` (see [`tensor::avg_pool2d`]).
    pub fn avg_pool2d(self, geo: &Pool2dGeometry) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |x| tensor::avg_pool2d(x, geo))?;
        let op = ConvOp::AvgPool2d {
            x: self.id(),
            geo: *geo,
        };
        Ok(self.tape().push(v, Op::Conv(op), &[self.id()]))
    }

    /// Adaptive average pooling of `self [N, C, H, W]` to `[N, C, out[0], out[1]]`.
    pub fn adaptive_avg_pool2d(self, out: [usize; 2]) -> Result<Self> {
        let v = self
            .tape()
            .with_value(self.id(), |x| tensor::adaptive_avg_pool2d(x, out))?;
        Ok(self
            .tape()
            .push(v, Op::Conv(ConvOp::AdaptiveAvgPool2d { x: self.id() }), &[self.id()]))
    }
}

impl ConvOp {
    pub(crate) fn backward<T: Scalar>(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g;
        let mut out = Vec::with_capacity(3);
        match self {
            &ConvOp::Conv2d { x, w, b, ref geo } => {
                let (dx, dw) = tensor::conv2d_backward(c.x(x), c.x(w), g, geo, c.needs(x), c.needs(w))?;
                out.extend(dx.map(|d| (x, d)));
                out.extend(dw.map(|d| (w, d)));
                if let Some(b) = b.filter(|&b| c.needs(b)) {
                    out.push((b, tensor::channel_sum(g)?));
                }
            }
            ConvOp::MaxPool2d { x, at } => {
                out.push((*x, tensor::max_pool2d_backward(c.x(*x).shape(), g, at)?));
            }
            ConvOp::AvgPool2d { x, geo } => {
                out.push((*x, tensor::avg_pool2d_backward(c.x(*x).shape(), g, geo)?));
            }
            ConvOp::AdaptiveAvgPool2d { x } => {
                out.push((*x, tensor::adaptive_avg_pool2d_backward(c.x(*x).shape(), g)?));
            }
        }
        Ok(out)
    }
}
