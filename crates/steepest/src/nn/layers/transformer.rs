//! `TransformerEncoderLayer` and `TransformerDecoderLayer` (PyTorch's, `batch_first=True`):
//! attention and a feed-forward block, each with dropout, a residual connection and layer
//! norm, after (`norm_first = false`, PyTorch's default) or before the block.

use super::{Activation, Dropout, LayerNorm, Linear, MultiheadAttention};
use crate::autograd::Var;
use crate::error::Result;
use crate::nn::{Cx, Module, VarBuilder};
use crate::tensor::Scalar;

/// Settings shared by both layers (PyTorch's defaults: `dim_feedforward` 2048, dropout 0.1,
/// ReLU, layer-norm eps 1e-5, post-norm).
#[derive(Clone, Copy, Debug)]
pub struct TransformerConfig {
    /// Model width `d_model`.
    pub d_model: usize,
    /// Attention heads.
    pub nhead: usize,
    /// Width of the feed-forward block.
    pub dim_feedforward: usize,
    /// Dropout after attention, inside and after the feed-forward block.
    pub dropout: f64,
    /// Activation of the feed-forward block.
    pub activation: Activation,
    /// Layer norm before each block (pre-norm) instead of after.
    pub norm_first: bool,
    /// Self-attention hides future positions.
    pub causal: bool,
}

/// The feed-forward block `linear2(dropout(act(linear1(x))))`.
#[derive(Clone, Debug)]
struct FeedForward {
    linear1: Linear,
    linear2: Linear,
    act: Activation,
    dropout: Dropout,
}

impl FeedForward {
    fn new<T: Scalar>(vb: &VarBuilder<'_, T>, c: &TransformerConfig) -> Result<Self> {
        Ok(Self {
            linear1: Linear::new(&vb.pp("linear1"), c.d_model, c.dim_feedforward, true)?,
            linear2: Linear::new(&vb.pp("linear2"), c.dim_feedforward, c.d_model, true)?,
            act: c.activation,
            dropout: Dropout::new(c.dropout)?,
        })
    }
    fn forward<'t, T: Scalar>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        let h = self.act.apply(self.linear1.forward(cx, x)?)?;
        let h = self.dropout.forward(cx, h)?;
        self.linear2.forward(cx, h)
    }
}

/// `x + dropout(block(norm?(x)))`, normalized before or after.
fn residual<'t, T: Scalar>(
    cx: &mut Cx<'t, T>,
    x: Var<'t, T>,
    norm: &LayerNorm,
    drop: &Dropout,
    pre: bool,
    block: impl FnOnce(&mut Cx<'t, T>, Var<'t, T>) -> Result<Var<'t, T>>,
) -> Result<Var<'t, T>> {
    if pre {
        let h = norm.forward(cx, x)?;
        let h = block(cx, h)?;
        x.add(drop.forward(cx, h)?)
    } else {
        let h = block(cx, x)?;
        let y = x.add(drop.forward(cx, h)?)?;
        norm.forward(cx, y)
    }
}

/// Self-attention then feed-forward over `[N, L, d_model]`; parameters `self_attn.*`,
/// `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*` as PyTorch names them.
#[derive(Clone, Debug)]
pub struct TransformerEncoderLayer {
    attn: MultiheadAttention,
    ff: FeedForward,
    norm1: LayerNorm,
    norm2: LayerNorm,
    drop1: Dropout,
    drop2: Dropout,
    cfg: TransformerConfig,
}

impl TransformerEncoderLayer {
    /// Declares the layer's parameters under `vb`.
    pub fn new<T: Scalar>(vb: &VarBuilder<'_, T>, cfg: TransformerConfig) -> Result<Self> {
        Ok(Self {
            attn: MultiheadAttention::new(&vb.pp("self_attn"), cfg.d_model, cfg.nhead, cfg.dropout, cfg.causal)?,
            ff: FeedForward::new(vb, &cfg)?,
            norm1: LayerNorm::new(&vb.pp("norm1"), &[cfg.d_model], 1e-5, true)?,
            norm2: LayerNorm::new(&vb.pp("norm2"), &[cfg.d_model], 1e-5, true)?,
            drop1: Dropout::new(cfg.dropout)?,
            drop2: Dropout::new(cfg.dropout)?,
            cfg,
        })
    }

    /// The layer with a key padding mask (`true` = padding) for each example.
    pub fn forward_masked<'t, T: Scalar>(
        &self,
        cx: &mut Cx<'t, T>,
        x: Var<'t, T>,
        key_padding: Option<&[Vec<bool>]>,
    ) -> Result<Var<'t, T>> {
        let c = self.cfg;
        let x = residual(cx, x, &self.norm1, &self.drop1, c.norm_first, |cx, h| {
            self.attn.attend(cx, h, h, h, c.causal, key_padding)
        })?;
        residual(cx, x, &self.norm2, &self.drop2, c.norm_first, |cx, h| {
            self.ff.forward(cx, h)
        })
    }
}

impl<T: Scalar> Module<T> for TransformerEncoderLayer {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        self.forward_masked(cx, x, None)
    }
}

/// Causal self-attention, attention over an encoder's output (`memory`), then feed-forward;
/// parameters `self_attn.*`, `multihead_attn.*`, `linear1/2.*`, `norm1/2/3.*`.
#[derive(Clone, Debug)]
pub struct TransformerDecoderLayer {
    self_attn: MultiheadAttention,
    cross_attn: MultiheadAttention,
    ff: FeedForward,
    norms: [LayerNorm; 3],
    drops: [Dropout; 3],
    cfg: TransformerConfig,
}

impl TransformerDecoderLayer {
    /// Declares the layer's parameters under `vb` (its self-attention is causal whatever
    /// `cfg.causal` says, as a decoder's must be).
    pub fn new<T: Scalar>(vb: &VarBuilder<'_, T>, cfg: TransformerConfig) -> Result<Self> {
        let norm = |i: usize| LayerNorm::new(&vb.pp(format!("norm{i}")), &[cfg.d_model], 1e-5, true);
        Ok(Self {
            self_attn: MultiheadAttention::new(&vb.pp("self_attn"), cfg.d_model, cfg.nhead, cfg.dropout, true)?,
            cross_attn: MultiheadAttention::new(&vb.pp("multihead_attn"), cfg.d_model, cfg.nhead, cfg.dropout, false)?,
            ff: FeedForward::new(vb, &cfg)?,
            norms: [norm(1)?, norm(2)?, norm(3)?],
            drops: [
                Dropout::new(cfg.dropout)?,
                Dropout::new(cfg.dropout)?,
                Dropout::new(cfg.dropout)?,
            ],
            cfg,
        })
    }

    /// The layer on targets `x [N, L, d]` attending to `memory [N, S, d]`, with an optional
    /// padding mask of the memory's positions.
    pub fn forward_with_memory<'t, T: Scalar>(
        &self,
        cx: &mut Cx<'t, T>,
        x: Var<'t, T>,
        memory: Var<'t, T>,
        memory_padding: Option<&[Vec<bool>]>,
    ) -> Result<Var<'t, T>> {
        let pre = self.cfg.norm_first;
        let x = residual(cx, x, &self.norms[0], &self.drops[0], pre, |cx, h| {
            self.self_attn.attend(cx, h, h, h, true, None)
        })?;
        let x = residual(cx, x, &self.norms[1], &self.drops[1], pre, |cx, h| {
            self.cross_attn.attend(cx, h, memory, memory, false, memory_padding)
        })?;
        residual(cx, x, &self.norms[2], &self.drops[2], pre, |cx, h| {
            self.ff.forward(cx, h)
        })
    }
}
