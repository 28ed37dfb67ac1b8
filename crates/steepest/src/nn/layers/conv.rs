//! `Conv2d` and `Conv1d` (PyTorch's layouts: weight `[out, in / groups, kh, kw]` or
//! `[out, in / groups, k]`); the kernel is [`tensor::conv2d`](crate::tensor::conv2d).

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::builder::torch_uniform;
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::{Conv2dGeometry, Scalar};

/// 2-D convolution over `[N, C, H, W]`. Weight and bias start from U(-1/sqrt(fan_in),
/// 1/sqrt(fan_in)) with `fan_in = in / groups * kh * kw` (PyTorch's default).
#[derive(Clone, Debug)]
pub struct Conv2d {
    weight: String,
    bias: Option<String>,
    geo: Conv2dGeometry,
}

impl Conv2d {
    /// Declares the weight `[out, in / groups, kernel[0], kernel[1]]` and the bias `[out]`.
    pub fn new<T: Scalar>(
        vb: &VarBuilder<'_, T>,
        inputs: usize,
        outputs: usize,
        kernel: [usize; 2],
        geo: Conv2dGeometry,
        bias: bool,
    ) -> Result<Self> {
        check(inputs, outputs, &kernel, &geo, "Conv2d")?;
        let fan_in = inputs / geo.groups * kernel[0] * kernel[1];
        let weight = vb.param(
            "weight",
            &[outputs, inputs / geo.groups, kernel[0], kernel[1]],
            torch_uniform(fan_in),
        )?;
        let bias = bias
            .then(|| vb.param("bias", &[outputs], torch_uniform(fan_in)))
            .transpose()?;
        Ok(Self { weight, bias, geo })
    }
}

fn check(inputs: usize, outputs: usize, kernel: &[usize], geo: &Conv2dGeometry, what: &'static str) -> Result<()> {
    let g = geo.groups;
    if inputs == 0 || outputs == 0 || g == 0 || !inputs.is_multiple_of(g) || !outputs.is_multiple_of(g) {
        return Err(Error::invalid(
            what,
            format!("in_channels {inputs} and out_channels {outputs} must be positive multiples of groups {g}"),
        ));
    }
    if kernel.contains(&0) || geo.stride.contains(&0) || geo.dilation.contains(&0) {
        return Err(Error::invalid(
            what,
            "kernel_size, stride and dilation must be at least 1",
        ));
    }
    Ok(())
}

impl<T: Scalar> Module<T> for Conv2d {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let b = self.bias.as_deref().map(|b| cx.var(b)).transpose()?;
        x.conv2d(cx.var(&self.weight)?, b, &self.geo)
    }
}

/// 1-D convolution over `[N, C, L]`: [`Conv2d`] of height 1 (weight `[out, in / groups, k]`).
#[derive(Clone, Debug)]
pub struct Conv1d {
    weight: String,
    bias: Option<String>,
    shape: [usize; 4],
    geo: Conv2dGeometry,
}

impl Conv1d {
    /// Declares the weight `[out, in / groups, kernel]` and the bias `[out]`; `stride`,
    /// `padding`, `dilation` along the sequence.
    #[allow(clippy::too_many_arguments)]
    pub fn new<T: Scalar>(
        vb: &VarBuilder<'_, T>,
        inputs: usize,
        outputs: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        groups: usize,
        bias: bool,
    ) -> Result<Self> {
        let geo = Conv2dGeometry {
            stride: [1, stride],
            padding: [0, padding],
            dilation: [1, dilation],
            groups,
        };
        check(inputs, outputs, &[kernel], &geo, "Conv1d")?;
        let fan_in = inputs / groups * kernel;
        let weight = vb.param("weight", &[outputs, inputs / groups, kernel], torch_uniform(fan_in))?;
        let bias = bias
            .then(|| vb.param("bias", &[outputs], torch_uniform(fan_in)))
            .transpose()?;
        Ok(Self {
            weight,
            bias,
            shape: [outputs, inputs / groups, 1, kernel],
            geo,
        })
    }
}

impl<T: Scalar> Module<T> for Conv1d {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let s = x.shape();
        if s.len() != 3 {
            return Err(Error::invalid("Conv1d", format!("expects [N, C, L], got {s:?}")));
        }
        let w = cx.var(&self.weight)?.reshape(&self.shape)?;
        let b = self.bias.as_deref().map(|b| cx.var(b)).transpose()?;
        let y = x.reshape(&[s[0], s[1], 1, s[2]])?.conv2d(w, b, &self.geo)?;
        let ys = y.shape();
        y.reshape(&[ys[0], ys[1], ys[3]])
    }
}
