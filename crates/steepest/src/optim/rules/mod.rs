//! The per-parameter update rules, one per file. Each doc comment gives the update in the
//! notation of the PyTorch documentation (p: parameter, g: gradient, t: 1-based step, lr: the
//! group's learning rate, wd: its weight decay) and the reference.

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod lion;
mod muon;
mod nadam;
mod polyak;
mod radam;
mod rmsprop;
mod schedule_free_adamw;
mod schedule_free_sgd;
mod sgd;

pub use adadelta::{Adadelta, AdadeltaState};
pub use adagrad::{Adagrad, AdagradState};
pub use adam::{Adam, AdamState};
pub use adamax::{Adamax, AdamaxState};
pub use adamw::AdamW;
pub use lion::{Lion, LionState};
pub use muon::{Muon, MuonState};
pub use nadam::{NAdam, NAdamState};
pub use polyak::{Polyak, PolyakState};
pub use radam::{RAdam, RAdamState};
pub use rmsprop::{RmsProp, RmsPropState};
pub use schedule_free_adamw::{ScheduleFreeAdamW, ScheduleFreeAdamWState};
pub use schedule_free_sgd::{ScheduleFreeSgd, ScheduleFreeSgdState};
pub use sgd::{Sgd, SgdState};

use crate::error::{Error, Result};
use crate::tensor::Scalar;

/// Rejects a value outside `[lo, hi)` (or `[lo, hi]` when `hi_inclusive`).
pub(crate) fn check_range(op: &'static str, what: &str, v: f64, lo: f64, hi: f64, hi_inclusive: bool) -> Result<()> {
    let ok = v >= lo && (v < hi || (hi_inclusive && v == hi)) && v.is_finite();
    if ok {
        Ok(())
    } else {
        let close = if hi_inclusive { ']' } else { ')' };
        let msg = if hi == f64::MAX || hi == f64::INFINITY {
            format!("{what} = {v} must be a finite number >= {lo}")
        } else {
            format!("{what} = {v} is outside [{lo}, {hi}{close}")
        };
        Err(Error::invalid(op, msg))
    }
}

/// Checks the hyper-parameters every rule has: `lr >= 0`, `weight_decay >= 0`, `eps >= 0`.
pub(crate) fn check_common(op: &'static str, lr: f64, weight_decay: f64, eps: f64) -> Result<()> {
    check_range(op, "lr", lr, 0.0, f64::MAX, true)?;
    if lr == 0.0 {
        return Err(Error::invalid(
            op,
            "lr = 0 would train nothing: give a positive learning rate",
        ));
    }
    check_range(op, "weight_decay", weight_decay, 0.0, f64::MAX, true)?;
    check_range(op, "eps", eps, 0.0, f64::MAX, true)
}

/// A buffer of `n` copies of `v`, created on first use.
pub(crate) fn ensure<T: Scalar>(buf: &mut Vec<T>, n: usize, v: T) {
    if buf.len() != n {
        *buf = vec![v; n];
    }
}

/// sign(x) with sign(0) = 0 (as `torch.sign`; `f64::signum(0.0)` is 1).
#[inline]
pub(crate) fn sign<T: Scalar>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// The gradient as the rule sees it: negated when maximizing, plus `wd * p` for coupled decay.
#[inline]
pub(crate) fn effective_grad<T: Scalar>(g: T, p: T, wd: T, maximize: bool) -> T {
    let g = if maximize { -g } else { g };
    g + wd * p
}

/// Implements the `lr`/`set_lr`/`weight_decay` trio of [`UpdateRule`](super::UpdateRule).
macro_rules! lr_and_decay {
    () => {
        fn lr(&self) -> f64 {
            self.lr
        }
        fn set_lr(&mut self, lr: f64) {
            self.lr = lr;
        }
        fn weight_decay(&self) -> f64 {
            self.weight_decay
        }
    };
}
pub(crate) use lr_and_decay;
