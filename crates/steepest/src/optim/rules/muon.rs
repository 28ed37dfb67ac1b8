//! Muon: momentum orthogonalized by Newton-Schulz, for 2-D weights.

use super::adam::AdamState;
use super::adamw::AdamW;
use super::{check_common, check_range, ensure, lr_and_decay};
use crate::error::{Error, Result};
use crate::optim::{StepCtx, UpdateRule};
use crate::tensor::{Scalar, Tensor};
use serde::{Deserialize, Serialize};

/// Muon, as `torch.optim.Muon` (defaults: lr 1e-3, weight_decay 0.1, momentum 0.95,
/// nesterov true, ns_coefficients (3.4445, -4.775, 2.0315), eps 1e-7, ns_steps 5,
/// adjust_lr_fn "original"), for parameters with two dimensions. Every other parameter is handed
/// to the [`AdamW`] in `fallback`, whose learning rate follows Muon's (scaled by
/// `fallback.lr / lr`) so that schedules and groups apply to both.
///
/// p <- p (1 - lr wd); B <- mu B + (1 - mu) g (B starts at 0); U = (1 - mu) g + mu B (Nesterov)
/// or U = B; O = NS(U); p <- p - lr' O with lr' = lr sqrt(max(1, rows / cols)) ("original") or
/// lr' = 0.2 lr sqrt(max(rows, cols)) ("match_rms_adamw").
/// NS(U): X = U / max(||U||_F, eps), transposed if it has more rows than columns; then ns_steps
/// times A = X X^T, X <- a X + (b A + c A A) X; transposed back.
///
/// Deviation: PyTorch runs Newton-Schulz in bfloat16; here it runs in the parameter's type.
///
/// References: Jordan et al. (2024), "Muon: an optimizer for hidden layers in neural networks";
/// Liu et al. (2025), "Muon is scalable for LLM training" (match_rms_adamw).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Muon {
    /// Learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Momentum mu.
    pub momentum: f64,
    /// Nesterov-style update.
    pub nesterov: bool,
    /// Newton-Schulz coefficients (a, b, c).
    pub ns_coefficients: (f64, f64, f64),
    /// Floor of the Frobenius norm in the normalization.
    pub eps: f64,
    /// Newton-Schulz iterations.
    pub ns_steps: usize,
    /// `"original"` or `"match_rms_adamw"`.
    pub adjust_lr_fn: String,
    /// The optimizer for parameters that are not matrices.
    pub fallback: AdamW,
}

impl Default for Muon {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            weight_decay: 0.1,
            momentum: 0.95,
            nesterov: true,
            ns_coefficients: (3.4445, -4.775, 2.0315),
            eps: 1e-7,
            ns_steps: 5,
            adjust_lr_fn: "original".into(),
            fallback: AdamW::default(),
        }
    }
}

/// Muon's per-parameter state: a momentum buffer for matrices, Adam's state otherwise.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MuonState<T> {
    /// Momentum B (matrices).
    pub momentum_buffer: Vec<T>,
    /// AdamW state (other parameters).
    pub fallback: AdamState<T>,
}

/// Newton-Schulz orthogonalization of a `[rows, cols]` matrix (see [`Muon`]).
pub(crate) fn newton_schulz<T: Scalar>(
    u: &Tensor<T>,
    coef: (f64, f64, f64),
    steps: usize,
    eps: f64,
) -> Result<Tensor<T>> {
    let (r, c) = u.check_matrix("newton_schulz")?;
    let tall = r > c;
    let mut x = if tall { u.transpose()? } else { u.clone() };
    let norm = x.data().iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>().sqrt();
    x = x.mul_scalar(T::of(1.0 / norm.max(eps)));
    let (a, b, cc) = (T::of(coef.0), T::of(coef.1), T::of(coef.2));
    for _ in 0..steps {
        let gram = x.matmul_t(&x, false, true)?;
        let upd = gram.mul_scalar(b).add(&gram.matmul(&gram)?.mul_scalar(cc))?;
        x = x.mul_scalar(a).add(&upd.matmul(&x)?)?;
    }
    if tall {
        x.transpose()
    } else {
        Ok(x)
    }
}

impl<T: Scalar> UpdateRule<T> for Muon {
    type State = MuonState<T>;
    fn name(&self) -> &'static str {
        "muon"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("muon", self.lr, self.weight_decay, self.eps)?;
        check_range("muon", "momentum", self.momentum, 0.0, 1.0, false)?;
        if !matches!(self.adjust_lr_fn.as_str(), "original" | "match_rms_adamw") {
            return Err(Error::invalid(
                "muon",
                format!(
                    "adjust_lr_fn '{}' is not 'original' or 'match_rms_adamw'",
                    self.adjust_lr_fn
                ),
            ));
        }
        self.fallback.as_adam().check("muon (fallback adamw)")
    }
    fn update(&self, c: &StepCtx, shape: &[usize], p: &mut [T], g: &[T], s: &mut MuonState<T>) -> Result<()> {
        let &[rows, cols] = shape else {
            let scale = if self.lr > 0.0 { c.lr / self.lr } else { 0.0 };
            let ctx = StepCtx {
                lr: self.fallback.lr * scale,
                weight_decay: self.fallback.weight_decay,
                ..*c
            };
            self.fallback.as_adam().apply(&ctx, p, g, &mut s.fallback);
            return Ok(());
        };
        ensure(&mut s.momentum_buffer, p.len(), T::zero());
        let (mu, one) = (T::of(self.momentum), T::one());
        let decay = T::of(1.0 - c.lr * c.weight_decay);
        let mut u = Vec::with_capacity(p.len());
        for ((pv, &g), b) in p.iter_mut().zip(g).zip(s.momentum_buffer.iter_mut()) {
            *pv *= decay;
            *b = mu * *b + (one - mu) * g;
            u.push(if self.nesterov { (one - mu) * g + mu * *b } else { *b });
        }
        let o = newton_schulz(&Tensor::new(u, shape)?, self.ns_coefficients, self.ns_steps, self.eps)?;
        let ratio = match self.adjust_lr_fn.as_str() {
            "match_rms_adamw" => 0.2 * (rows.max(cols) as f64).sqrt(),
            _ => (rows as f64 / cols as f64).max(1.0).sqrt(),
        };
        let lr = T::of(c.lr * ratio);
        p.iter_mut().zip(o.data()).for_each(|(p, &o)| *p -= lr * o);
        Ok(())
    }
}
