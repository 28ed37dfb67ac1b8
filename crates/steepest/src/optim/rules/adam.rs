//! Adam (and the shared arithmetic of AdamW).

use super::{check_common, check_range, ensure, lr_and_decay};
use crate::error::Result;
use crate::optim::{PartUpdate, StepCtx, UpdateRule};
use crate::tensor::multiversion;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Adam, as `torch.optim.Adam` (defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0, amsgrad false).
///
/// g <- g + wd p (coupled; or p <- p (1 - lr wd) first when `decoupled_weight_decay`, which is
/// AdamW); m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; m^ = m / (1 - b1^t);
/// v^ = v / (1 - b2^t), or with AMSGrad v_max <- max(v_max, v) and v^ = v_max / (1 - b2^t);
/// p <- p - lr m^ / (sqrt(v^) + eps).
///
/// References: Kingma and Ba (2015), "Adam: a method for stochastic optimization"; Reddi, Kale and
/// Kumar (2018), "On the convergence of Adam and beyond" (AMSGrad).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// (b1, b2): decay of the first and second moment estimates.
    pub betas: (f64, f64),
    /// Term added to the denominator.
    pub eps: f64,
    /// Weight decay (coupled L2 unless `decoupled_weight_decay`).
    pub weight_decay: f64,
    /// Keep the running maximum of v (AMSGrad).
    pub amsgrad: bool,
    /// Decay the weights directly (AdamW) instead of adding to the gradient.
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend.
    pub maximize: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// Adam's per-parameter state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdamState<T> {
    /// First moment m.
    pub exp_avg: Vec<T>,
    /// Second moment v.
    pub exp_avg_sq: Vec<T>,
    /// Running maximum of v (AMSGrad only).
    pub max_exp_avg_sq: Vec<T>,
}

impl Adam {
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        check_common(op, self.lr, self.weight_decay, self.eps)?;
        check_range(op, "beta1", self.betas.0, 0.0, 1.0, false)?;
        check_range(op, "beta2", self.betas.1, 0.0, 1.0, false)
    }

    /// The Adam step on one parameter (shared by AdamW and Muon's fallback).
    pub(crate) fn apply<T: Scalar>(&self, c: &StepCtx, p: &mut [T], g: &[T], s: &mut AdamState<T>) {
        // The elements both slices have (the optimizer has checked that the shapes agree).
        let n = p.len().min(g.len());
        self.part(c, n, s).apply_whole(&mut p[..n], &g[..n]);
    }

    /// The Adam step on a parameter of `n` elements as a [`PartUpdate`] (buffers m, v and,
    /// with AMSGrad, max v).
    pub(crate) fn part<'s, T: Scalar>(&self, c: &StepCtx, n: usize, s: &'s mut AdamState<T>) -> PartUpdate<'s, T> {
        ensure(&mut s.exp_avg, n, T::zero());
        ensure(&mut s.exp_avg_sq, n, T::zero());
        if self.amsgrad {
            ensure(&mut s.max_exp_avg_sq, n, T::zero());
        }
        let t = c.step as i32;
        let (b1, b2) = self.betas;
        let one = T::one();
        let lr = T::of(c.lr);
        // As PyTorch: step size lr / (1 - b1^t), and sqrt(v) / sqrt(1 - b2^t) (here times its
        // reciprocal) + eps: one square root and one division per element.
        let k = AdamCoef {
            sign: if self.maximize { -one } else { one },
            coupled: if self.decoupled_weight_decay {
                T::zero()
            } else {
                T::of(c.weight_decay)
            },
            decay: if self.decoupled_weight_decay {
                one - lr * T::of(c.weight_decay)
            } else {
                one
            },
            b1: T::of(b1),
            b2: T::of(b2),
            step_size: T::of(c.lr / (1.0 - b1.powi(t))),
            inv_sqrt_bc2: T::of(1.0 / (1.0 - b2.powi(t)).sqrt()),
            eps: T::of(self.eps),
        };
        if self.amsgrad {
            PartUpdate {
                buffers: vec![&mut s.exp_avg[..], &mut s.exp_avg_sq[..], &mut s.max_exp_avg_sq[..]],
                apply: Box::new(move |p: &mut [T], g: &[T], b: &mut [&mut [T]]| {
                    let [m, v, vm] = b else { unreachable!("three buffers") };
                    adam_amsgrad_block(&k, p, g, m, v, vm)
                }),
            }
        } else {
            PartUpdate {
                buffers: vec![&mut s.exp_avg[..], &mut s.exp_avg_sq[..]],
                apply: Box::new(move |p: &mut [T], g: &[T], b: &mut [&mut [T]]| {
                    let [m, v] = b else { unreachable!("two buffers") };
                    adam_block(&k, p, g, m, v)
                }),
            }
        }
    }
}

/// The coefficients of one Adam step.
struct AdamCoef<T> {
    sign: T,
    coupled: T,
    decay: T,
    b1: T,
    b2: T,
    step_size: T,
    inv_sqrt_bc2: T,
    eps: T,
}

/// g' = sign g + coupled p; p <- decay p; m <- b1 m + (1 - b1) g'; v <- b2 v + (1 - b2) g'^2;
/// p <- p - step_size m / (sqrt(v_used) inv_sqrt_bc2 + eps).
#[inline(always)]
fn adam_element<T: Scalar>(k: &AdamCoef<T>, p: &mut T, g: T, m: &mut T, v: &mut T, v_used: impl FnOnce(T) -> T) {
    let one = T::one();
    let g = k.sign * g + k.coupled * *p;
    *p *= k.decay;
    *m = k.b1 * *m + (one - k.b1) * g;
    *v = k.b2 * *v + (one - k.b2) * g * g;
    let u = v_used(*v);
    *p -= k.step_size * *m / (u.sqrt() * k.inv_sqrt_bc2 + k.eps);
}

#[inline(always)]
fn adam_block_generic<T: Scalar>(k: &AdamCoef<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut())) {
        adam_element(k, p, g, m, v, |v| v);
    }
}

#[inline(always)]
fn adam_amsgrad_block_generic<T: Scalar>(
    k: &AdamCoef<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vm: &mut [T],
) {
    let it = p.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut()));
    for (((p, &g), (m, v)), vm) in it.zip(vm.iter_mut()) {
        adam_element(k, p, g, m, v, |v| {
            *vm = vm.max(v);
            *vm
        });
    }
}

multiversion!(fn adam_block<T>(k: &AdamCoef<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) => adam_block_generic);
multiversion!(fn adam_amsgrad_block<T>(k: &AdamCoef<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], vm: &mut [T]) => adam_amsgrad_block_generic);

impl<T: Scalar> UpdateRule<T> for Adam {
    type State = AdamState<T>;
    fn name(&self) -> &'static str {
        if self.decoupled_weight_decay {
            "adamw"
        } else {
            "adam"
        }
    }
    lr_and_decay!();
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
    fn validate(&self) -> Result<()> {
        self.check("adam")
    }
    fn update(&self, c: &StepCtx, _shape: &[usize], p: &mut [T], g: &[T], s: &mut AdamState<T>) -> Result<()> {
        self.apply(c, p, g, s);
        Ok(())
    }
    fn part_update<'s>(&self, c: &StepCtx, len: usize, s: &'s mut AdamState<T>) -> Option<PartUpdate<'s, T>> {
        Some(self.part(c, len, s))
    }
}
