//! One step of an element-wise update rule on one parameter, cut so that disjoint ranges of
//! the parameter can be updated side by side, each as soon as its part of the gradient exists.

use crate::tensor::elementwise::{split_pays, BLOCK};
use crate::tensor::Scalar;

/// The update of one range: `(p, g, buffers)`, the range of the parameter, the same range of
/// its gradient and of each of the state's per-element buffers (in [`PartUpdate::buffers`]'
/// order).
pub type ApplyFn<'s, T> = dyn Fn(&mut [T], &[T], &mut [&mut [T]]) + Send + Sync + 's;

/// This step's update of one parameter by a rule whose update of each element reads only that
/// element of the parameter, of its gradient and of its state (SGD, Adam, AdamW): the state's
/// per-element buffers, and the function that updates any range of the parameter from the same
/// range of the gradient and of each buffer. Applying it to ranges that cover the parameter
/// once, in any order and on any threads, gives the same bits as the rule's `update`.
///
/// A fused kernel uses it to step each block of weights right after computing the block's
/// gradient, while the gradient is still in cache ([`Optimizer::part_updates`](super::Optimizer::part_updates)).
///
/// ```
/// use steepest::optim::rules::Sgd;
/// use steepest::optim::{StepCtx, UpdateRule};
/// let rule = Sgd { lr: 0.5, momentum: 0.9, ..Sgd::default() };
/// let ctx = StepCtx { step: 1, lr: 0.5, weight_decay: 0.0, loss: None, grad_norm: f64::NAN };
/// let mut state = Default::default();
/// let mut part = rule.part_update(&ctx, 4, &mut state).expect("SGD is element-wise");
/// let (mut p, g) = (vec![1.0f32; 4], vec![2.0f32; 4]);
/// // The second half first, then the first: the order does not matter.
/// let (head, tail) = p.split_at_mut(2);
/// let mut bufs: Vec<&mut [f32]> = part.buffers.iter_mut().map(|b| &mut b[2..]).collect();
/// (part.apply)(tail, &g[2..], &mut bufs);
/// let mut bufs: Vec<&mut [f32]> = part.buffers.iter_mut().map(|b| &mut b[..2]).collect();
/// (part.apply)(head, &g[..2], &mut bufs);
/// assert_eq!(p, [0.0; 4]);
/// ```
pub struct PartUpdate<'s, T> {
    /// The state's per-element buffers, each as long as the parameter.
    pub buffers: Vec<&'s mut [T]>,
    /// Updates a range of the parameter (see [`ApplyFn`]).
    pub apply: Box<ApplyFn<'s, T>>,
}

/// A block of [`PartUpdate::apply_whole`]: its first index, the parameter's block and the
/// buffers'.
type Block<'a, T> = (usize, &'a mut [T], Vec<&'a mut [T]>);

impl<T: Scalar> PartUpdate<'_, T> {
    /// Applies the update to all of `p` from `g` (as long as `p`): in fixed blocks of
    /// [`BLOCK`] elements side by side when [`split_pays`], otherwise in one go.
    pub fn apply_whole(mut self, p: &mut [T], g: &[T]) {
        let n = p.len();
        if !split_pays(n) {
            // Element-wise: the whole range at once gives the blocks' bits.
            return (self.apply)(p, g, &mut self.buffers);
        }
        let mut bufs: Vec<_> = self.buffers.iter_mut().map(|b| b.chunks_mut(BLOCK)).collect();
        let blocks: Vec<Block<'_, T>> = p
            .chunks_mut(BLOCK)
            .enumerate()
            .map(|(i, p)| {
                let b = bufs
                    .iter_mut()
                    .map(|it| it.next().expect("buffers as long as the parameter"));
                (i * BLOCK, p, b.collect())
            })
            .collect();
        let apply = &*self.apply;
        let run = |(at, p, mut b): Block<'_, T>| {
            let len = p.len();
            apply(p, &g[at..at + len], &mut b)
        };
        use rayon::prelude::*;
        blocks.into_par_iter().for_each(run);
    }
}
