//! The MLP's fused paths: the kernel's loss and gradient ([`mlp_loss_grad_rows`]), and the
//! optimizer's step fused into it ([`mlp_loss_grad_step_rows`]), each used when it applies:
//! dense rows, no dropout, an activation whose derivative follows from its output.

use super::mlp::{layer_names, Activation, MlpNet};
use crate::data::{Dataset, Features, Targets};
use crate::error::{Error, Result};
use crate::nn::{mlp_loss_grad_rows, mlp_loss_grad_step_rows, KernelActivation, KernelTargets};
use crate::nn::{ParamStore, RowUpdate, WeightStep};
use crate::optim::{ApplyFn, Optimizer, PartUpdate, StepArgs};
use crate::tensor::elementwise::{for_blocks, sum_of_squares_serial};
use crate::tensor::{Scalar, Tensor};

/// The batch's targets, into buffers kept across steps.
fn batch_targets<'f, T: Scalar>(
    data: &Dataset<T>,
    rows: &[usize],
    labels: &'f mut Vec<usize>,
    values: &'f mut Vec<f64>,
) -> KernelTargets<'f> {
    match &data.targets {
        Targets::Classes { labels: all, .. } => {
            labels.clear();
            labels.extend(rows.iter().map(|&r| all[r]));
            KernelTargets::Classes(labels)
        }
        Targets::Values(v) => {
            values.clear();
            values.extend(rows.iter().map(|&r| v[r]));
            KernelTargets::Values(values)
        }
    }
}

/// Gradient buffers shaped as `shapes` (reallocated when the shapes change).
fn shape_like<T: Scalar>(bufs: &mut Vec<Tensor<T>>, shapes: &[&[usize]]) {
    if bufs.len() != shapes.len() || bufs.iter().zip(shapes).any(|(g, &s)| g.shape() != s) {
        *bufs = shapes.iter().map(|s| Tensor::zeros(s)).collect();
    }
}

/// How many gradient elements the fused step sums the squares of, then steps, at a time: few
/// enough to stay in the level-1 cache between the two.
const STEP_AT_ONCE: usize = 4096;

impl<T: Scalar> MlpNet<T> {
    /// The kernel's activation, if the fused paths apply to `data` (dense rows, no dropout, an
    /// activation whose derivative follows from its output).
    fn kernel_activation(&self, data: &Dataset<T>) -> Option<KernelActivation> {
        let act = match self.activation {
            Activation::Relu => KernelActivation::Relu,
            Activation::LeakyRelu => KernelActivation::LeakyRelu,
            Activation::Tanh => KernelActivation::Tanh,
            Activation::Sigmoid => KernelActivation::Sigmoid,
            Activation::Identity => KernelActivation::Identity,
            Activation::Gelu => return None,
        };
        (matches!(data.features, Features::Dense(_)) && self.dropout == 0.0).then_some(act)
    }

    /// The fused kernel's loss and gradient (into `grads`), when it applies. `None` otherwise.
    pub(super) fn fused_loss_grad(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        grads: &mut ParamStore<T>,
    ) -> Result<Option<f64>> {
        let (Some(act), Features::Dense(x)) = (self.kernel_activation(data), &data.features) else {
            return Ok(None);
        };
        let names = layer_names(self.hidden);
        let w: Vec<&Tensor<T>> = names
            .iter()
            .map(|n| params.require(&format!("{n}.weight")))
            .collect::<Result<_>>()?;
        let b: Vec<&Tensor<T>> = names
            .iter()
            .map(|n| params.require(&format!("{n}.bias")))
            .collect::<Result<_>>()?;
        let mut fast = self.fast.borrow_mut();
        let fast = &mut *fast;
        shape_like(&mut fast.gw, &w.iter().map(|t| t.shape()).collect::<Vec<_>>());
        shape_like(&mut fast.gb, &b.iter().map(|t| t.shape()).collect::<Vec<_>>());
        let targets = batch_targets(data, rows, &mut fast.labels, &mut fast.values);
        let loss = mlp_loss_grad_rows(&w, &b, act, x, rows, targets, &mut fast.ws, &mut fast.gw, &mut fast.gb)?;
        // Hand the fresh gradients to the loop's store (in parameter order), taking its previous
        // tensors back as next step's buffers: no allocation, no copy.
        for (n, p) in params.iter() {
            if grads.get(n).is_none_or(|g| g.shape() != p.shape()) {
                grads.insert(n, Tensor::zeros(p.shape()));
            }
        }
        let alpha = T::of(self.alpha);
        for (l, n) in names.iter().enumerate() {
            let g = grads.get_mut(&format!("{n}.weight")).expect("inserted above");
            std::mem::swap(g, &mut fast.gw[l]);
            if self.alpha > 0.0 {
                let wv = w[l].data();
                for_blocks([g.data_mut()], |at, [g]| {
                    g.iter_mut().zip(&wv[at..]).for_each(|(g, &wv)| *g += alpha * wv);
                });
            }
            let g = grads.get_mut(&format!("{n}.bias")).expect("inserted above");
            std::mem::swap(g, &mut fast.gb[l]);
        }
        Ok(Some(loss + self.penalty(params)))
    }

    /// One training step with the optimizer's update fused into the kernel, when both apply
    /// (`opt` offers [`Optimizer::part_updates`]): each block of rows of the weights steps
    /// right after its gradient is computed, the biases after the pass. Returns the batch's
    /// loss (penalty included) and the gradient's norm; `None`, with nothing changed, when the
    /// fused step does not apply.
    pub(super) fn fused_step(
        &mut self,
        data: &Dataset<T>,
        rows: &[usize],
        opt: &mut dyn Optimizer<T>,
        args: &StepArgs,
    ) -> Result<Option<(f64, f64)>> {
        let (Some(act), Features::Dense(x)) = (self.kernel_activation(data), &data.features) else {
            return Ok(None);
        };
        let names = layer_names(self.hidden);
        let layers = names.len();
        // Which layer each parameter belongs to, checked before the optimizer counts the step.
        let mut slot = Vec::with_capacity(self.params.len());
        for name in self.params.names() {
            let l = names.iter().position(|n| {
                name.strip_prefix(n.as_str())
                    .is_some_and(|rest| rest == ".weight" || rest == ".bias")
            });
            match l {
                Some(l) => slot.push((l, name.ends_with(".weight"))),
                None => return Err(Error::invalid("mlp", format!("unexpected parameter '{name}'"))),
            }
        }
        let penalty = self.penalty(&self.params);
        let Some(parts) = opt.part_updates(&self.params, args)? else {
            return Ok(None);
        };
        // Each parameter and its update, by layer.
        type Slot<'p, 's, T> = Option<(&'p mut Tensor<T>, PartUpdate<'s, T>)>;
        let mut weights: Vec<Slot<'_, '_, T>> = (0..layers).map(|_| None).collect();
        let mut biases: Vec<Slot<'_, '_, T>> = (0..layers).map(|_| None).collect();
        for (((_, t), part), &(l, is_weight)) in self.params.iter_mut().zip(parts).zip(&slot) {
            let to = if is_weight { &mut weights[l] } else { &mut biases[l] };
            *to = Some((t, part));
        }
        let missing = || Error::invalid("mlp", "a layer without its weight or bias");
        let weights: Vec<_> = weights
            .into_iter()
            .map(|s| s.ok_or_else(missing))
            .collect::<Result<_>>()?;
        let biases: Vec<_> = biases
            .into_iter()
            .map(|s| s.ok_or_else(missing))
            .collect::<Result<_>>()?;
        let shapes: Vec<(usize, usize)> = weights
            .iter()
            .map(|(t, _)| t.check_matrix("mlp weights"))
            .collect::<Result<_>>()?;
        let fast = self.fast.get_mut();
        // The weights' gradient is never stored whole (the kernel steps block by block): only
        // the biases' gradient needs a buffer.
        shape_like(&mut fast.gb, &biases.iter().map(|(t, _)| t.shape()).collect::<Vec<_>>());
        fast.squares.resize_with(layers, Vec::new);
        for (q, &(o, _)) in fast.squares.iter_mut().zip(&shapes) {
            q.resize(o, 0.0);
        }
        let targets = batch_targets(data, rows, &mut fast.labels, &mut fast.values);
        let (alpha, with_penalty) = (T::of(self.alpha), self.alpha > 0.0);
        // The weights' update by rows: the penalty's gradient added, each row's squares noted,
        // then the optimizer's rule.
        let row_update = |apply: &ApplyFn<'_, T>, w: &mut [T], g: &mut [T], bufs: &mut [&mut [T]], sq: &mut [f64]| {
            // A few rows at a time, so that the squares and the rule read the gradient from the
            // level-1 cache right after the penalty's gradient is added.
            let width = (g.len() / sq.len().max(1)).max(1);
            let rows = (STEP_AT_ONCE / width).max(1);
            let mut rest: Vec<&mut [T]> = bufs.iter_mut().map(|b| &mut **b).collect();
            let mut heads: Vec<&mut [T]> = Vec::with_capacity(rest.len());
            let mut w = w;
            for (q, g) in sq.chunks_mut(rows).zip(g.chunks_mut(rows * width)) {
                let (head, tail) = std::mem::take(&mut w).split_at_mut(g.len());
                w = tail;
                if with_penalty {
                    g.iter_mut().zip(&*head).for_each(|(g, &w)| *g += alpha * w);
                }
                for (q, row) in q.iter_mut().zip(g.chunks(width)) {
                    *q = sum_of_squares_serial(row);
                }
                heads.clear();
                for b in rest.iter_mut() {
                    let (head, tail) = std::mem::take(b).split_at_mut(g.len());
                    *b = tail;
                    heads.push(head);
                }
                apply(head, g, &mut heads);
            }
        };
        let mut step_weights = Vec::with_capacity(layers);
        let mut buffers = Vec::with_capacity(layers);
        let mut applies = Vec::with_capacity(layers);
        let mut b_parts = Vec::with_capacity(layers);
        let mut b_tensors = Vec::with_capacity(layers);
        for ((w, wp), (b, bp)) in weights.into_iter().zip(biases) {
            step_weights.push(w.data_mut());
            buffers.push(wp.buffers);
            applies.push(wp.apply);
            b_tensors.push(b);
            b_parts.push(bp);
        }
        let updates: Vec<Box<RowUpdate<'_, T>>> = applies
            .iter()
            .map(|apply| -> Box<RowUpdate<'_, T>> {
                let row_update = &row_update;
                Box::new(move |w: &mut [T], g: &mut [T], b: &mut [&mut [T]], q: &mut [f64]| {
                    row_update(&**apply, w, g, b, q)
                })
            })
            .collect();
        let step = WeightStep {
            weights: step_weights,
            buffers,
            update: updates.iter().map(|u| &**u).collect(),
            squares: fast.squares.iter_mut().map(|q| &mut q[..]).collect(),
        };
        let b_read: Vec<&Tensor<T>> = b_tensors.iter().map(|t| &**t).collect();
        let loss = mlp_loss_grad_step_rows(
            &shapes,
            &b_read,
            act,
            x,
            rows,
            targets,
            &mut fast.ws,
            &mut fast.gb,
            step,
        )?;
        // The biases step after the pass; the norm adds every row's squares, then the biases'.
        let mut squares: f64 = fast.squares.iter().flatten().sum();
        for ((b, part), gb) in b_tensors.into_iter().zip(b_parts).zip(&fast.gb) {
            squares += sum_of_squares_serial(gb.data());
            part.apply_whole(b.data_mut(), gb.data());
        }
        Ok(Some((loss + penalty, squares.sqrt())))
    }
}
