//! `Dropout`: inverted dropout, drawn per example.

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::{Cx, Module};
use crate::tensor::{Scalar, Tensor};
use rand::Rng as _;

/// In training, zeroes each element with probability `p` and scales the others by
/// `1 / (1 - p)` (PyTorch's `nn.Dropout`); the identity in evaluation. Each example's mask comes
/// from its own generator ([`Cx::example_rng`]), so masks do not depend on how a batch is split.
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    p: f64,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`.
    pub fn new(p: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid("Dropout", format!("p = {p} must be in [0, 1)")));
        }
        Ok(Self { p })
    }
}

impl<T: Scalar> Module<T> for Dropout {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        if !cx.training() || self.p == 0.0 {
            return Ok(x);
        }
        cx.next_stream();
        let shape = x.shape();
        let n = shape.first().copied().unwrap_or(1);
        let per: usize = shape.iter().skip(1).product();
        let keep = 1.0 - self.p;
        let scale = T::of(1.0 / keep);
        let mut mask = Vec::with_capacity(n * per);
        for i in 0..n {
            let mut r = cx.example_rng(i);
            mask.extend((0..per).map(|_| if r.random::<f64>() < keep { scale } else { T::zero() }));
        }
        x.mul(cx.tape().constant(Tensor::new(mask, &shape)?))
    }
}
