//! `MultiheadAttention` (PyTorch's `nn.MultiheadAttention` with `batch_first=True`):
//! `softmax(Q K^T / sqrt(d_head) + mask) V` per head, with the input projections packed in one
//! `in_proj_weight [3E, E]` and the output projection `out_proj`.

use super::{Dropout, Linear};
use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::{Scalar, Tensor};
use rand_distr::Distribution;

/// Multi-head attention over `[N, L, E]` queries and `[N, S, E]` keys and values.
#[derive(Clone, Debug)]
pub struct MultiheadAttention {
    in_weight: String,
    in_bias: String,
    out: Linear,
    embed: usize,
    heads: usize,
    dropout: Dropout,
    causal: bool,
}

impl MultiheadAttention {
    /// `heads` heads over `embed` features (a multiple of `heads`); dropout on the attention
    /// weights; `causal` masks each query's future keys when used as a layer (self-attention).
    /// Initialization as PyTorch: `in_proj_weight` Xavier-uniform, biases zero, `out_proj`
    /// weight as a linear layer's.
    pub fn new<T: Scalar>(
        vb: &VarBuilder<'_, T>,
        embed: usize,
        heads: usize,
        dropout: f64,
        causal: bool,
    ) -> Result<Self> {
        if heads == 0 || embed == 0 || !embed.is_multiple_of(heads) {
            return Err(Error::invalid(
                "MultiheadAttention",
                format!("embed_dim {embed} must be a positive multiple of num_heads {heads}"),
            ));
        }
        let bound = (6.0 / (embed + 3 * embed) as f64).sqrt();
        let in_weight = vb.param("in_proj_weight", &[3 * embed, embed], |s, r| {
            let u = rand_distr::Uniform::new(-bound, bound).expect("finite bound");
            Tensor::new((0..s.iter().product()).map(|_| T::of(u.sample(r))).collect(), s).expect("shape")
        })?;
        let in_bias = vb.param("in_proj_bias", &[3 * embed], |s, _| Tensor::zeros(s))?;
        // PyTorch zeroes out_proj.bias: declared first, the linear layer keeps it.
        vb.param("out_proj.bias", &[embed], |s, _| Tensor::zeros(s))?;
        let out = Linear::new(&vb.pp("out_proj"), embed, embed, true)?;
        Ok(Self {
            in_weight,
            in_bias,
            out,
            embed,
            heads,
            dropout: Dropout::new(dropout)?,
            causal,
        })
    }

    /// Attention of `q [N, L, E]` over `k`, `v [N, S, E]`; `causal` hides key `j > i` from
    /// query `i`; `key_padding` (one flag per key of each example, `true` = padding) hides
    /// padding keys. Returns `[N, L, E]`.
    pub fn attend<'t, T: Scalar>(
        &self,
        cx: &mut Cx<'t, T>,
        q: Var<'t, T>,
        k: Var<'t, T>,
        v: Var<'t, T>,
        causal: bool,
        key_padding: Option<&[Vec<bool>]>,
    ) -> Result<Var<'t, T>> {
        let (qs, ks) = (q.shape(), k.shape());
        if qs.len() != 3
            || ks.len() != 3
            || qs[2] != self.embed
            || ks[2] != self.embed
            || qs[0] != ks[0]
            || v.shape() != ks
        {
            return Err(Error::invalid(
                "MultiheadAttention",
                format!(
                    "expects queries [N, L, {e}] and keys, values [N, S, {e}], got {qs:?}, {ks:?}, {:?}",
                    v.shape(),
                    e = self.embed
                ),
            ));
        }
        let (n, l, s, e, h) = (qs[0], qs[1], ks[1], self.embed, self.heads);
        let dh = e / h;
        let w = cx.var(&self.in_weight)?;
        let b = cx.var(&self.in_bias)?;
        let proj = |x: Var<'t, T>, part: usize, len: usize| -> Result<Var<'t, T>> {
            let wp = w.narrow(0, part * e, e)?;
            let bp = b.narrow(0, part * e, e)?;
            // [N, len, E] -> [N, len, H, dh] -> [N, H, len, dh]
            x.reshape(&[n * len, e])?
                .matmul_t(wp, false, true)?
                .add(bp)?
                .reshape(&[n, len, h, dh])?
                .permute(&[0, 2, 1, 3])
        };
        let qh = proj(q, 0, l)?;
        let kh = proj(k, 1, s)?;
        let vh = proj(v, 2, s)?;
        let mut scores = qh.bmm(kh, false, true)?.mul_scalar(T::of(1.0 / (dh as f64).sqrt()));
        if causal || key_padding.is_some() {
            let mut mask = vec![T::zero(); n * l * s];
            for ni in 0..n {
                for i in 0..l {
                    for j in 0..s {
                        let pad =
                            key_padding.is_some_and(|p| p.get(ni).and_then(|r| r.get(j)).copied().unwrap_or(false));
                        if (causal && j > i) || pad {
                            mask[(ni * l + i) * s + j] = T::neg_infinity();
                        }
                    }
                }
            }
            let m = cx.tape().constant(Tensor::new(mask, &[n, 1, l, s])?);
            scores = scores.add(m)?;
        }
        let attn = self.dropout.forward(cx, scores.softmax(3)?)?;
        let ctx = attn
            .bmm(vh, false, false)?
            .permute(&[0, 2, 1, 3])?
            .reshape(&[n, l, e])?;
        self.out.forward(cx, ctx)
    }
}

impl<T: Scalar> Module<T> for MultiheadAttention {
    /// Self-attention of `x [N, L, E]` (causal if the layer was built so).
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        self.attend(cx, x, x, x, self.causal, None)
    }
}
