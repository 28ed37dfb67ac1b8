//! A fused, allocation-free forward and backward pass of a dense multi-layer perceptron: the
//! fast path the MLP model uses when no layer needs the general tape (no dropout, an
//! activation whose derivative follows from its output).
//!
//! Weights are in PyTorch's layout, `W_l [out, in]`. Per hidden layer:
//! A_l = act(A_{l-1} W_l^T + b_l), the bias and activation applied in the same sweep over the
//! product; the output layer adds its bias only. Backward, with D_L the derivative of the mean
//! loss with respect to the output: dW_l = D_l^T A_{l-1}, db_l = column sums of D_l,
//! D_{l-1} = (D_l W_l) * act'(A_{l-1}), the product and the activation derivative again fused.
//! It computes what the layers `Linear`, activation, ..., `Linear` compute on the tape (a test
//! holds them equal). Every buffer lives in [`MlpWorkspace`] and is reused.
//!
//! With several threads ([`set_num_threads`](crate::tensor::set_num_threads)) the batch is
//! split by rows into shares of at least 64 rows: each thread runs the forward pass and the
//! deltas of its share (everything up to here is row by row). The weight gradients
//! D_l^T A_{l-1} then need every row; they are split by rows of dW instead, the rows of all
//! layers cut into one share of equal work per thread, each computed over the whole batch, so
//! no thread's partial gradient is ever summed with another's and the result does not depend
//! on the thread count. Both parts run through [`run_parts`], whose caller spins briefly for
//! the other share instead of sleeping.

use crate::error::{Error, Result};
use crate::tensor::pool::run_parts;
use crate::tensor::{matmul_slices, matmul_slices_transposed_out, prefetch, split_threads, MatRef, Scalar, Tensor};

/// Activations whose derivative is a function of the activation's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelActivation {
    /// max(x, 0); derivative 1 where the output is positive.
    Relu,
    /// Leaky ReLU with slope 0.01.
    LeakyRelu,
    /// tanh; derivative 1 - a^2.
    Tanh,
    /// Logistic; derivative a (1 - a).
    Sigmoid,
    /// Identity.
    Identity,
}

impl KernelActivation {
    #[inline]
    fn apply<T: Scalar>(self, x: T) -> T {
        match self {
            Self::Relu => x.max(T::zero()),
            Self::LeakyRelu => {
                if x > T::zero() {
                    x
                } else {
                    T::of(0.01) * x
                }
            }
            Self::Tanh => x.tanh(),
            Self::Sigmoid => crate::tensor::unary::sigmoid(x),
            Self::Identity => x,
        }
    }

    /// The derivative at the point whose output is `a`.
    #[inline]
    fn grad_from_output<T: Scalar>(self, a: T) -> T {
        match self {
            Self::Relu => {
                if a > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Self::LeakyRelu => {
                if a > T::zero() {
                    T::one()
                } else {
                    T::of(0.01)
                }
            }
            Self::Tanh => T::one() - a * a,
            Self::Sigmoid => a * (T::one() - a),
            Self::Identity => T::one(),
        }
    }
}

/// What the network is trained to output.
pub enum KernelTargets<'a> {
    /// Class indices: softmax cross-entropy, mean over rows.
    Classes(&'a [usize]),
    /// Real values `[rows * outputs]`: half the mean squared error over every element.
    Values(&'a [f64]),
}

/// Reusable buffers: the gathered batch, and each layer's outputs and deltas for all its rows.
#[derive(Clone, Debug, Default)]
pub struct MlpWorkspace<T> {
    x: Vec<T>,
    acts: Vec<Vec<T>>,
    deltas: Vec<Vec<T>>,
}

/// Rows per share below which a batch is not split across threads.
const MIN_SHARE_ROWS: usize = 64;
/// How many rows ahead the gather of a batch prefetches.
const GATHER_AHEAD: usize = 2;
/// Networks with fewer weights get their weight gradients from one thread.
const MIN_SPLIT_WEIGHTS: usize = 1 << 14;

/// The rows of the batch a share owns, and its parts of the workspace.
struct Share<'a, T> {
    start: usize,
    rows: usize,
    x: &'a mut [T],
    acts: Vec<&'a mut [T]>,
    deltas: Vec<&'a mut [T]>,
}

/// Where the batch comes from.
#[derive(Clone, Copy)]
enum Input<'a, T> {
    /// A `[rows, inputs]` batch.
    Batch(&'a [T]),
    /// These rows of a `[n, inputs]` matrix, copied into the workspace.
    Gather(&'a [T], &'a [usize]),
}

/// Mean loss of the network on batch `x` (`[rows, inputs]`) and, into `gw`/`gb` (shaped as
/// `w`/`b`), its gradient. `w[l]` is `[out, in]` (PyTorch's layout), `b[l]` is `[out]`; the activation applies to
/// every layer but the last.
#[allow(clippy::too_many_arguments)]
pub fn mlp_loss_grad<T: Scalar>(
    w: &[&Tensor<T>],
    b: &[&Tensor<T>],
    act: KernelActivation,
    x: &Tensor<T>,
    targets: KernelTargets<'_>,
    ws: &mut MlpWorkspace<T>,
    gw: &mut [Tensor<T>],
    gb: &mut [Tensor<T>],
) -> Result<f64> {
    let (rows, d) = x.check_matrix("mlp kernel input")?;
    run(w, b, act, Input::Batch(x.data()), rows, d, targets, ws, gw, gb)
}

/// [`mlp_loss_grad`] on the batch made of rows `rows` of `x` (copied into the workspace by the
/// threads that use them); `targets` are the batch's, in the order of `rows`.
#[allow(clippy::too_many_arguments)]
pub fn mlp_loss_grad_rows<T: Scalar>(
    w: &[&Tensor<T>],
    b: &[&Tensor<T>],
    act: KernelActivation,
    x: &Tensor<T>,
    rows: &[usize],
    targets: KernelTargets<'_>,
    ws: &mut MlpWorkspace<T>,
    gw: &mut [Tensor<T>],
    gb: &mut [Tensor<T>],
) -> Result<f64> {
    let (n, d) = x.check_matrix("mlp kernel input")?;
    if let Some(&r) = rows.iter().find(|&&r| r >= n) {
        return Err(Error::invalid(
            "mlp kernel",
            format!("row {r} of a batch is not below {n}"),
        ));
    }
    run(
        w,
        b,
        act,
        Input::Gather(x.data(), rows),
        rows.len(),
        d,
        targets,
        ws,
        gw,
        gb,
    )
}

#[allow(clippy::too_many_arguments)]
fn run<T: Scalar>(
    w: &[&Tensor<T>],
    b: &[&Tensor<T>],
    act: KernelActivation,
    input: Input<'_, T>,
    rows: usize,
    d: usize,
    targets: KernelTargets<'_>,
    ws: &mut MlpWorkspace<T>,
    gw: &mut [Tensor<T>],
    gb: &mut [Tensor<T>],
) -> Result<f64> {
    let layers = w.len();
    if layers == 0 || b.len() != layers || gw.len() != layers || gb.len() != layers || rows == 0 {
        return Err(Error::invalid("mlp kernel", "mismatched layer lists or an empty batch"));
    }
    let mut width = d;
    for l in 0..layers {
        let (o, i) = w[l].check_matrix("mlp kernel weights")?;
        if i != width || b[l].len() != o {
            return Err(Error::shapes("mlp kernel layer", w[l].shape(), &[b[l].len(), width]));
        }
        if gw[l].shape() != w[l].shape() || gb[l].len() != o {
            return Err(Error::shapes("mlp kernel gradient", gw[l].shape(), w[l].shape()));
        }
        width = o;
    }
    let k = width;
    match targets {
        KernelTargets::Classes(y) if y.len() != rows => {
            return Err(Error::shapes("mlp kernel targets", &[rows], &[y.len()]))
        }
        KernelTargets::Values(y) if y.len() != rows * k => {
            return Err(Error::shapes("mlp kernel targets", &[rows, k], &[y.len()]))
        }
        _ => {}
    }
    let widths: Vec<usize> = w.iter().map(|t| t.shape()[0]).collect();
    ws.acts.resize_with(layers, Vec::new);
    ws.deltas.resize_with(layers, Vec::new);
    for ((a, dl), &o) in ws.acts.iter_mut().zip(ws.deltas.iter_mut()).zip(&widths) {
        a.resize(rows * o, T::zero());
        dl.resize(rows * o, T::zero());
    }
    ws.x.resize(
        if matches!(input, Input::Gather(..)) {
            rows * d
        } else {
            0
        },
        T::zero(),
    );

    // Forward pass and deltas, share by share.
    let threads = split_threads();
    let share_rows = rows.div_ceil(threads.min(rows / MIN_SHARE_ROWS).max(1));
    let shares = rows.div_ceil(share_rows);
    let mut x_parts = ws.x.chunks_mut((share_rows * d).max(1));
    let mut act_parts: Vec<_> = ws
        .acts
        .iter_mut()
        .zip(&widths)
        .map(|(a, &o)| a.chunks_mut((share_rows * o).max(1)))
        .collect();
    let mut delta_parts: Vec<_> = ws
        .deltas
        .iter_mut()
        .zip(&widths)
        .map(|(a, &o)| a.chunks_mut((share_rows * o).max(1)))
        .collect();
    let parts: Vec<Share<'_, T>> = (0..shares)
        .map(|s| Share {
            start: s * share_rows,
            rows: share_rows.min(rows - s * share_rows),
            x: x_parts.next().unwrap_or_default(),
            acts: act_parts.iter_mut().map(|it| it.next().unwrap_or_default()).collect(),
            deltas: delta_parts.iter_mut().map(|it| it.next().unwrap_or_default()).collect(),
        })
        .collect();
    let forward = |mut s: Share<'_, T>| share_pass(&mut s, w, b, act, input, d, &targets, rows);
    let losses: Vec<f64> = run_parts(parts, forward).into_iter().collect::<Result<_>>()?;
    let mut loss: f64 = losses.iter().sum::<f64>() / rows as f64;
    if matches!(targets, KernelTargets::Values(_)) {
        loss /= k as f64;
    }

    // Weight gradients dW_l = D_l^T A_{l-1} over the whole batch, in blocks of rows of dW (the
    // layer's output units).
    let x_all: &[T] = match input {
        Input::Batch(x) => x,
        Input::Gather(..) => &ws.x,
    };
    let shapes: Vec<(usize, usize)> = (0..layers).map(|l| (widths[l], w[l].shape()[1])).collect();
    let pieces = weight_grad_pieces(gw, &shapes, threads);
    let (acts, deltas) = (&ws.acts, &ws.deltas);
    let weight_grad = |(l, r0, part): (usize, usize, &mut [T])| -> Result<()> {
        let (out, inp) = shapes[l];
        let a = if l == 0 { x_all } else { &acts[l - 1][..] };
        // Columns r0.. of the layer's deltas (its output units), all rows, read transposed.
        let block = MatRef {
            data: &deltas[l][r0..],
            rows,
            cols: part.len() / inp,
            row_stride: out,
            col_stride: 1,
        };
        // dW_block^T = A^T D_block, written transposed into the block of rows of dW.
        matmul_slices_transposed_out(part, MatRef::row_major(a, rows, inp).t(), block)
    };
    let run_share = |share: Vec<(usize, usize, &mut [T])>| share.into_iter().try_for_each(weight_grad);
    run_parts(pieces, run_share).into_iter().collect::<Result<()>>()?;
    // Bias gradients: column sums of the deltas.
    for (l, g) in gb.iter_mut().enumerate() {
        let g = g.data_mut();
        g.iter_mut().for_each(|v| *v = T::zero());
        for row in deltas[l].chunks(widths[l]) {
            g.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
        }
    }
    Ok(loss)
}

/// The rows of every layer's weight gradient `gw` (`shapes[l]` = (rows, row length)) cut into
/// `parts` shares (one when the network has fewer than [`MIN_SPLIT_WEIGHTS`] weights) of equal
/// work: the rows of all layers laid end to end, each row weighing its
/// width (the product's cost per row), cut at the `parts` equal points. A share is a list of
/// (layer, first row, that block of rows of dW). Equal shares keep a thread from waiting for
/// the other's last block, which work stealing over per-layer blocks did (the small layers'
/// blocks were taken first and the second big block late).
#[allow(clippy::type_complexity)]
fn weight_grad_pieces<'g, T: Scalar>(
    gw: &'g mut [Tensor<T>],
    shapes: &[(usize, usize)],
    parts: usize,
) -> Vec<Vec<(usize, usize, &'g mut [T])>> {
    let total: usize = shapes.iter().map(|(i, o)| i * o).sum();
    let parts = if total >= MIN_SPLIT_WEIGHTS { parts.max(1) } else { 1 };
    let mut shares: Vec<Vec<(usize, usize, &'g mut [T])>> = (0..parts).map(|_| Vec::new()).collect();
    let mut offset = 0;
    for (l, (g, &(inp, out))) in gw.iter_mut().zip(shapes).enumerate() {
        let mut rest: &'g mut [T] = g.data_mut();
        let mut first = 0;
        for (t, share) in shares.iter_mut().enumerate() {
            // Share t ends at work (t + 1) total / parts: the rows of this layer before it.
            let end = if t + 1 == parts {
                inp
            } else {
                ((t + 1) * total / parts)
                    .saturating_sub(offset)
                    .div_ceil(out.max(1))
                    .min(inp)
            };
            if end > first {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut((end - first) * out);
                share.push((l, first, head));
                rest = tail;
                first = end;
            }
        }
        offset += inp * out;
    }
    shares.retain(|s| !s.is_empty());
    shares
}

/// One share's forward pass, loss (summed over its rows) and deltas (of the mean over all
/// `total` rows).
#[allow(clippy::too_many_arguments)]
fn share_pass<T: Scalar>(
    s: &mut Share<'_, T>,
    w: &[&Tensor<T>],
    b: &[&Tensor<T>],
    act: KernelActivation,
    input: Input<'_, T>,
    d: usize,
    targets: &KernelTargets<'_>,
    total: usize,
) -> Result<f64> {
    let (n, layers) = (s.rows, w.len());
    let x: &[T] = match input {
        Input::Batch(x) => &x[s.start * d..(s.start + n) * d],
        Input::Gather(data, rows) => {
            // The rows come in shuffled order, from memory: ask for the rows a few ahead while
            // copying this one.
            let mine = &rows[s.start..s.start + n];
            for (i, (dst, &r)) in s.x.chunks_mut(d.max(1)).zip(mine).enumerate() {
                if let Some(&ahead) = mine.get(i + GATHER_AHEAD) {
                    prefetch(&data[ahead * d..(ahead + 1) * d]);
                }
                dst.copy_from_slice(&data[r * d..(r + 1) * d]);
            }
            s.x
        }
    };
    // Forward.
    for l in 0..layers {
        let (out, inp) = (w[l].shape()[0], w[l].shape()[1]);
        let (before, rest) = s.acts.split_at_mut(l);
        let a_in: &[T] = if l == 0 { x } else { before[l - 1] };
        let a_out = &mut *rest[0];
        // A_out^T = W A_in^T: W is the left operand as stored (row-major), written transposed.
        matmul_slices_transposed_out(
            a_out,
            MatRef::row_major(w[l].data(), out, inp),
            MatRef::row_major(a_in, n, inp).t(),
        )?;
        let bias = b[l].data();
        if l + 1 == layers {
            for row in a_out.chunks_mut(out) {
                row.iter_mut().zip(bias).for_each(|(v, &c)| *v += c);
            }
        } else {
            for row in a_out.chunks_mut(out) {
                row.iter_mut().zip(bias).for_each(|(v, &c)| *v = act.apply(*v + c));
            }
        }
    }
    // Loss and its derivative with respect to the output.
    let k = w[layers - 1].shape()[0];
    let out = &*s.acts[layers - 1];
    let delta = &mut *s.deltas[layers - 1];
    let inv = T::of(1.0 / total as f64);
    let mut loss = 0.0;
    match *targets {
        KernelTargets::Classes(y) => {
            for ((z, d), &c) in out.chunks(k).zip(delta.chunks_mut(k)).zip(&y[s.start..s.start + n]) {
                if c >= k {
                    return Err(Error::invalid("mlp kernel", format!("class {c} is not below {k}")));
                }
                let m = z.iter().copied().fold(T::neg_infinity(), T::max);
                let mut sum = T::zero();
                for (dv, &zv) in d.iter_mut().zip(z) {
                    *dv = (zv - m).exp();
                    sum += *dv;
                }
                loss += (sum.ln() + m - z[c]).as_f64();
                // Probabilities below 1e-30 become 0: they change nothing, and as subnormal
                // numbers they would slow every product they enter several-fold.
                let (is, tiny) = (T::one() / sum, T::of(1e-30));
                d.iter_mut()
                    .for_each(|v| *v = if *v * is < tiny { T::zero() } else { *v * is * inv });
                d[c] -= inv;
            }
        }
        KernelTargets::Values(y) => {
            let scale = T::of(1.0 / (total * k) as f64);
            for ((d, &z), &t) in delta.iter_mut().zip(out).zip(&y[s.start * k..(s.start + n) * k]) {
                let r = z - T::of(t);
                loss += 0.5 * r.as_f64() * r.as_f64();
                *d = r * scale;
            }
        }
    }
    // Deltas of the hidden layers: D_{l-1} = (D_l W_l) * act'(A_{l-1}).
    for l in (1..layers).rev() {
        let (out, inp) = (w[l].shape()[0], w[l].shape()[1]);
        let (lower, upper) = s.deltas.split_at_mut(l);
        let dst = &mut *lower[l - 1];
        matmul_slices(
            dst,
            inp,
            MatRef::row_major(&*upper[0], n, out),
            MatRef::row_major(w[l].data(), out, inp),
            false,
        )?;
        dst.iter_mut()
            .zip(&*s.acts[l - 1])
            .for_each(|(d, &a)| *d *= act.grad_from_output(a));
    }
    Ok(loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of every layer lands in exactly one share, in order, and the shares' work
    /// (rows times width) differs by no more than one row of the widest layer.
    #[test]
    fn weight_gradient_shares_cover_every_row_once_with_equal_work() {
        let shapes = [(784, 256), (256, 128), (128, 10)];
        for parts in 1..=5 {
            let mut gw: Vec<Tensor<f32>> = shapes.iter().map(|&(i, o)| Tensor::zeros(&[i, o])).collect();
            let shares = weight_grad_pieces(&mut gw, &shapes, parts);
            assert_eq!(shares.len(), parts);
            let mut next = [0usize; 3];
            let mut work = Vec::new();
            for share in &shares {
                let mut w = 0;
                for (l, r0, block) in share {
                    assert_eq!(*r0, next[*l], "layer {l} continues where it stopped");
                    let rows = block.len() / shapes[*l].1;
                    next[*l] += rows;
                    w += rows * shapes[*l].1;
                }
                work.push(w);
            }
            assert_eq!(next, [784, 256, 128]);
            let (lo, hi) = (work.iter().min().unwrap(), work.iter().max().unwrap());
            assert!(hi - lo <= 256, "{parts} shares: work {work:?}");
        }
    }
}
