//! Activations as modules; each is the autograd op of the same name (SiLU is x sigmoid(x)).

use crate::autograd::Var;
use crate::error::Result;
use crate::nn::{Cx, Module};
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// An element-wise activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// x for x > 0, slope x otherwise (PyTorch's default slope 0.01).
    LeakyRelu(f64),
    /// x Phi(x), the exact (erf) form, PyTorch's default.
    Gelu,
    /// x sigmoid(x).
    Silu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// ln(1 + e^x).
    Softplus,
    /// x.
    Identity,
}

impl Activation {
    /// Applies the activation on the tape.
    pub fn apply<'t, T: Scalar>(self, x: Var<'t, T>) -> Result<Var<'t, T>> {
        Ok(match self {
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(s) => x.leaky_relu(T::of(s)),
            Activation::Gelu => x.gelu(),
            Activation::Silu => x.mul(x.sigmoid())?,
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Softplus => x.softplus(),
            Activation::Identity => x,
        })
    }
}

impl<T: Scalar> Module<T> for Activation {
    fn forward<'t>(&self, _cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        self.apply(x)
    }
}
