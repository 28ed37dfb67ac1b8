//! `Linear`: y = x W^T + b, as PyTorch's `nn.Linear` (weight `[out, in]`).

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::builder::torch_uniform;
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::Scalar;

/// A fully connected layer: `y = x W^T + b` over the last axis of `x [..., in]`. Weight
/// `[out, in]` and bias `[out]` start from U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default).
#[derive(Clone, Debug)]
pub struct Linear {
    weight: String,
    bias: Option<String>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// Declares `weight` (and `bias` when `bias`) under `vb`.
    pub fn new<T: Scalar>(vb: &VarBuilder<'_, T>, inputs: usize, outputs: usize, bias: bool) -> Result<Self> {
        if inputs == 0 || outputs == 0 {
            return Err(Error::invalid(
                "Linear",
                "in_features and out_features must be at least 1",
            ));
        }
        let weight = vb.param("weight", &[outputs, inputs], torch_uniform(inputs))?;
        let bias = bias
            .then(|| vb.param("bias", &[outputs], torch_uniform(inputs)))
            .transpose()?;
        Ok(Self {
            weight,
            bias,
            inputs,
            outputs,
        })
    }

    /// Input features.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Output features.
    pub fn outputs(&self) -> usize {
        self.outputs
    }
}

impl<T: Scalar> Module<T> for Linear {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let shape = x.shape();
        if shape.last() != Some(&self.inputs) {
            return Err(Error::invalid(
                "Linear",
                format!("expects inputs [..., {}], got {shape:?}", self.inputs),
            ));
        }
        let lead: Vec<usize> = shape[..shape.len() - 1].to_vec();
        let rows: usize = lead.iter().product();
        let x2 = if shape.len() == 2 {
            x
        } else {
            x.reshape(&[rows, self.inputs])?
        };
        let mut y = x2.matmul_t(cx.var(&self.weight)?, false, true)?;
        if let Some(b) = &self.bias {
            y = y.add(cx.var(b)?)?;
        }
        if shape.len() == 2 {
            return Ok(y);
        }
        let mut out = lead;
        out.push(self.outputs);
        y.reshape(&out)
    }
}
