//! Residual blocks: `y = act(f(x) + shortcut(x))`, ResNet's `BasicBlock` among them.

use super::{Activation, BatchNorm, Conv2d, Sequential};
use crate::autograd::Var;
use crate::error::Result;
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::{Conv2dGeometry, Scalar};

/// `act(body(x) + shortcut(x))`, the shortcut the identity when absent.
pub struct Residual<T: Scalar> {
    body: Sequential<T>,
    shortcut: Option<Sequential<T>>,
    act: Activation,
}

impl<T: Scalar> Residual<T> {
    /// A block from its parts.
    pub fn new(body: Sequential<T>, shortcut: Option<Sequential<T>>, act: Activation) -> Self {
        Self { body, shortcut, act }
    }

    /// ResNet's `BasicBlock` (He et al. 2016): conv 3x3 (stride) - BN - ReLU - conv 3x3 - BN,
    /// plus the input (through conv 1x1 - BN when the stride or width changes), then ReLU.
    /// Parameters `conv1`, `bn1`, `conv2`, `bn2`, `downsample.0`, `downsample.1` as torchvision.
    pub fn basic_block(vb: &VarBuilder<'_, T>, inputs: usize, outputs: usize, stride: usize) -> Result<Self> {
        let conv = |name: &str, i: usize, k: usize, s: usize, p: usize| {
            Conv2d::new(
                &vb.pp(name),
                i,
                outputs,
                [k, k],
                Conv2dGeometry {
                    stride: [s, s],
                    padding: [p, p],
                    ..Conv2dGeometry::default()
                },
                false,
            )
        };
        let bn = |name: &str| BatchNorm::new(&vb.pp(name), outputs, 1e-5, 0.1, true, &[4]);
        let body = Sequential::new()
            .push(conv("conv1", inputs, 3, stride, 1)?)
            .push(bn("bn1")?)
            .push(Activation::Relu)
            .push(conv("conv2", outputs, 3, 1, 1)?)
            .push(bn("bn2")?);
        let shortcut = (stride != 1 || inputs != outputs)
            .then(|| -> Result<Sequential<T>> {
                Ok(Sequential::new()
                    .push(conv("downsample.0", inputs, 1, stride, 0)?)
                    .push(bn("downsample.1")?))
            })
            .transpose()?;
        Ok(Self::new(body, shortcut, Activation::Relu))
    }
}

impl<T: Scalar> Module<T> for Residual<T> {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let y = self.body.forward(cx, x)?;
        let s = match &self.shortcut {
            Some(sc) => sc.forward(cx, x)?,
            None => x,
        };
        self.act.apply(y.add(s)?)
    }
}
