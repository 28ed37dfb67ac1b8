//! Pooling layers (1-D as height 1) and `Flatten`.

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::{Cx, Module};
use crate::tensor::{Pool2dGeometry, Scalar};

fn four_d<T: Scalar>(x: &Var<'_, T>, what: &'static str) -> Result<()> {
    match x.shape().len() {
        4 => Ok(()),
        _ => Err(Error::invalid(
            what,
            format!("expects [N, C, H, W], got {:?}", x.shape()),
        )),
    }
}

/// Runs a 2-D pooling on `[N, C, L]` as `[N, C, 1, L]`.
fn as_1d<'t, T: Scalar>(
    x: Var<'t, T>,
    what: &'static str,
    f: impl FnOnce(Var<'t, T>) -> Result<Var<'t, T>>,
) -> Result<Var<'t, T>> {
    let s = x.shape();
    if s.len() != 3 {
        return Err(Error::invalid(what, format!("expects [N, C, L], got {s:?}")));
    }
    let y = f(x.reshape(&[s[0], s[1], 1, s[2]])?)?;
    let ys = y.shape();
    y.reshape(&[ys[0], ys[1], ys[3]])
}

/// Max pooling over windows of `[N, C, H, W]` (PyTorch's `nn.MaxPool2d`; stride defaults to the
/// kernel size).
#[derive(Clone, Debug)]
pub struct MaxPool2d(pub Pool2dGeometry);

impl<T: Scalar> Module<T> for MaxPool2d {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        four_d(&x, "MaxPool2d")?;
        x.max_pool2d(&self.0)
    }
}

/// Average pooling over windows of `[N, C, H, W]` (padding counted in the average).
#[derive(Clone, Debug)]
pub struct AvgPool2d(pub Pool2dGeometry);

impl<T: Scalar> Module<T> for AvgPool2d {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        four_d(&x, "AvgPool2d")?;
        x.avg_pool2d(&self.0)
    }
}

/// Max pooling over `[N, C, L]`: geometry with kernel height 1.
#[derive(Clone, Debug)]
pub struct MaxPool1d(pub Pool2dGeometry);

impl<T: Scalar> Module<T> for MaxPool1d {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        as_1d(x, "MaxPool1d", |x| x.max_pool2d(&self.0))
    }
}

/// Average pooling over `[N, C, L]`: geometry with kernel height 1.
#[derive(Clone, Debug)]
pub struct AvgPool1d(pub Pool2dGeometry);

impl<T: Scalar> Module<T> for AvgPool1d {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        as_1d(x, "AvgPool1d", |x| x.avg_pool2d(&self.0))
    }
}

/// Adaptive average pooling of `[N, C, H, W]` to a fixed `[N, C, oh, ow]`.
#[derive(Clone, Debug)]
pub struct AdaptiveAvgPool2d(pub [usize; 2]);

impl<T: Scalar> Module<T> for AdaptiveAvgPool2d {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        four_d(&x, "AdaptiveAvgPool2d")?;
        x.adaptive_avg_pool2d(self.0)
    }
}

/// `[N, d1, d2, ...] -> [N, d1 d2 ...]` (PyTorch's `nn.Flatten()` with its defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl<T: Scalar> Module<T> for Flatten {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let s = x.shape();
        match s.len() {
            0 => Err(Error::invalid("Flatten", "cannot flatten a scalar")),
            1 | 2 => Ok(x),
            _ => x.reshape(&[s[0], s[1..].iter().product()]),
        }
    }
}
