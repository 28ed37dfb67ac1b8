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
        // An element is kept when a uniform 32-bit draw falls below keep * 2^32 (two draws per
        // 64-bit output of the generator).
        let threshold = (keep * 4_294_967_296.0) as u64;
        let mut mask = vec![T::zero(); n * per];
        let pick = |half: u64| if half < threshold { scale } else { T::zero() };
        for (i, m) in mask.chunks_mut(per.max(1)).enumerate() {
            let mut r = cx.example_rng(i);
            let mut pairs = m.chunks_exact_mut(2);
            for p in &mut pairs {
                let bits = r.random::<u64>();
                p[0] = pick(bits & 0xFFFF_FFFF);
                p[1] = pick(bits >> 32);
            }
            if let [last] = pairs.into_remainder() {
                *last = pick(r.random::<u64>() & 0xFFFF_FFFF);
            }
        }
        x.mul(cx.tape().constant(Tensor::new(mask, &shape)?))
    }
}
