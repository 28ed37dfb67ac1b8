//! Stochastic gradient descent with momentum, dampening, Nesterov and coupled weight decay.

use super::{check_common, check_range, lr_and_decay};
use crate::error::{Error, Result};
use crate::optim::{PartUpdate, StepCtx, UpdateRule};
use crate::tensor::multiversion;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// SGD, as `torch.optim.SGD` (defaults: lr 1e-3, momentum 0, dampening 0, weight_decay 0,
/// nesterov false, maximize false). With momentum 0 and the whole data set as the batch this is
/// plain (full-batch) gradient descent.
///
/// g <- g + wd p; if momentum mu != 0: b <- g at t = 1, else b <- mu b + (1 - dampening) g;
/// g <- g + mu b (Nesterov) or g <- b; then p <- p - lr g.
///
/// References: Robbins and Monro (1951); Polyak (1964) heavy ball; Sutskever et al. (2013) for
/// the Nesterov form used by PyTorch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor mu.
    pub momentum: f64,
    /// Dampening of the gradient in the momentum buffer.
    pub dampening: f64,
    /// Coupled L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    pub fn plain(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// SGD's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SgdState<T> {
    /// The momentum buffer b (empty until the first step with momentum).
    pub momentum_buffer: Vec<T>,
}

impl<T: Scalar> UpdateRule<T> for Sgd {
    type State = SgdState<T>;
    fn name(&self) -> &'static str {
        "sgd"
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }
    fn validate(&self) -> Result<()> {
        check_common("sgd", self.lr, self.weight_decay, 0.0)?;
        check_range("sgd", "momentum", self.momentum, 0.0, 1.0, true)?;
        check_range("sgd", "dampening", self.dampening, 0.0, 1.0, true)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid("sgd", "nesterov needs momentum > 0 and dampening 0"));
        }
        Ok(())
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut SgdState<T>) -> Result<()> {
        // The elements both slices have (the optimizer has checked that the shapes agree).
        let n = p.len().min(g.len());
        if let Some(part) = self.part_update(c, n, s) {
            part.apply_whole(&mut p[..n], &g[..n]);
        }
        Ok(())
    }
    fn part_update<'s>(&self, c: &StepCtx, len: usize, s: &'s mut SgdState<T>) -> Option<PartUpdate<'s, T>> {
        let (lr, wd, mu, damp) = (
            T::of(c.lr),
            T::of(c.weight_decay),
            T::of(self.momentum),
            T::of(self.dampening),
        );
        // The branches as coefficients, so that the loops have none and vectorize:
        // g' = sign g + wd p; b <- keep b + take g' (keep = 0, take = 1 on the first step);
        // d = of_b b + of_g g' (Nesterov: mu b + g'; else b); p <- p - lr d.
        let sign = if self.maximize { -T::one() } else { T::one() };
        if self.momentum == 0.0 {
            return Some(PartUpdate {
                buffers: Vec::new(),
                apply: Box::new(move |p: &mut [T], g: &[T], _: &mut [&mut [T]]| plain_block(p, g, lr, sign, wd)),
            });
        }
        let first = s.momentum_buffer.len() != len;
        if first {
            s.momentum_buffer = vec![T::zero(); len];
        }
        let (keep, take) = if first {
            (T::zero(), T::one())
        } else {
            (mu, T::one() - damp)
        };
        let (of_b, of_g) = if self.nesterov {
            (mu, T::one())
        } else {
            (T::one(), T::zero())
        };
        let k = [lr, sign, wd, keep, take, of_b, of_g];
        Some(PartUpdate {
            buffers: vec![&mut s.momentum_buffer[..]],
            apply: Box::new(move |p: &mut [T], g: &[T], b: &mut [&mut [T]]| momentum_block(p, g, &mut *b[0], &k)),
        })
    }
}

#[inline(always)]
fn plain_block_generic<T: Scalar>(p: &mut [T], g: &[T], lr: T, sign: T, wd: T) {
    for (p, &g) in p.iter_mut().zip(g) {
        *p -= lr * (sign * g + wd * *p);
    }
}

/// `k` = [lr, sign, wd, keep, take, of_b, of_g] (see [`Sgd::update`]).
#[inline(always)]
fn momentum_block_generic<T: Scalar>(p: &mut [T], g: &[T], b: &mut [T], k: &[T; 7]) {
    let [lr, sign, wd, keep, take, of_b, of_g] = *k;
    for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
        let g = sign * g + wd * *p;
        *b = keep * *b + take * g;
        *p -= lr * (of_b * *b + of_g * g);
    }
}

multiversion!(fn plain_block<T>(p: &mut [T], g: &[T], lr: T, sign: T, wd: T) => plain_block_generic);
multiversion!(fn momentum_block<T>(p: &mut [T], g: &[T], b: &mut [T], k: &[T; 7]) => momentum_block_generic);
