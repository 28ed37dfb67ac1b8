//! `Embedding`: a table of vectors looked up by index (PyTorch's `nn.Embedding`).

use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::{Scalar, Tensor};

/// A `[num, dim]` table; the input holds indices (whole numbers stored in the element type,
/// exact up to 2^24 in f32) of any shape `[...]`, the output is `[..., dim]`. The table starts
/// from N(0, 1), PyTorch's default.
#[derive(Clone, Debug)]
pub struct Embedding {
    weight: String,
    num: usize,
    dim: usize,
}

impl Embedding {
    /// A table of `num` vectors of `dim` values.
    pub fn new<T: Scalar>(vb: &VarBuilder<'_, T>, num: usize, dim: usize) -> Result<Self> {
        if num == 0 || dim == 0 {
            return Err(Error::invalid(
                "Embedding",
                "num_embeddings and embedding_dim must be positive",
            ));
        }
        let weight = vb.param("weight", &[num, dim], |s, r| Tensor::randn(s, 0.0, 1.0, r))?;
        Ok(Self { weight, num, dim })
    }
}

impl<T: Scalar> Module<T> for Embedding {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let shape = x.shape();
        let ids = x.tape().with_value(x.id(), |t| {
            t.data()
                .iter()
                .map(|v| {
                    let f = v.as_f64();
                    if f >= 0.0 && f.fract() == 0.0 && (f as usize) < self.num {
                        Ok(f as usize)
                    } else {
                        Err(Error::invalid(
                            "Embedding",
                            format!("index {f} is not a whole number below {}", self.num),
                        ))
                    }
                })
                .collect::<Result<Vec<usize>>>()
        })?;
        let mut out = shape;
        out.push(self.dim);
        cx.var(&self.weight)?.index_select_rows(&ids)?.reshape(&out)
    }
}
