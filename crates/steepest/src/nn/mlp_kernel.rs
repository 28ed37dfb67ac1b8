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

impl KernelActivation {
    /// Each row of `a` (rows of `bias.len()`) becomes act(row + bias). The match on the
    /// activation is made once, outside the loop, so that the loop of each vectorizes.
    fn add_bias_apply<T: Scalar>(self, a: &mut [T], bias: &[T]) {
        match self {
            Self::Relu => relu_forward(a, bias),
            Self::LeakyRelu => leaky_forward(a, bias),
            Self::Tanh => tanh_forward(a, bias),
            Self::Sigmoid => sigmoid_forward(a, bias),
            Self::Identity => identity_forward(a, bias),
        }
    }

    /// d <- d * act'(a) element by element, `a` the activation's outputs.
    fn scale_by_grad<T: Scalar>(self, d: &mut [T], a: &[T]) {
        match self {
            Self::Relu => relu_backward(d, a),
            Self::LeakyRelu => leaky_backward(d, a),
            Self::Tanh => tanh_backward(d, a),
            Self::Sigmoid => sigmoid_backward(d, a),
            Self::Identity => {}
        }
    }
}

/// The forward loop of each activation, compiled for the widest vectors the CPU has
/// ([`multiversion`](crate::tensor::multiversion)).
macro_rules! forward_loops {
    ($($variant:ident: $name:ident, $generic:ident;)*) => {$(
        #[inline(always)]
        fn $generic<T: Scalar>(a: &mut [T], bias: &[T]) {
            for row in a.chunks_exact_mut(bias.len().max(1)) {
                row.iter_mut()
                    .zip(bias)
                    .for_each(|(v, &c)| *v = KernelActivation::$variant.apply(*v + c));
            }
        }
        crate::tensor::multiversion!(fn $name<T>(a: &mut [T], bias: &[T]) => $generic);
    )*};
}

/// The backward loop of each activation but the identity (whose derivative is 1), likewise.
macro_rules! backward_loops {
    ($($variant:ident: $name:ident, $generic:ident;)*) => {$(
        #[inline(always)]
        fn $generic<T: Scalar>(d: &mut [T], a: &[T]) {
            d.iter_mut()
                .zip(a)
                .for_each(|(d, &a)| *d *= KernelActivation::$variant.grad_from_output(a));
        }
        crate::tensor::multiversion!(fn $name<T>(d: &mut [T], a: &[T]) => $generic);
    )*};
}

forward_loops! {
    Relu: relu_forward, relu_forward_generic;
    LeakyRelu: leaky_forward, leaky_forward_generic;
    Tanh: tanh_forward, tanh_forward_generic;
    Sigmoid: sigmoid_forward, sigmoid_forward_generic;
    Identity: identity_forward, identity_forward_generic;
}

backward_loops! {
    Relu: relu_backward, relu_backward_generic;
    LeakyRelu: leaky_backward, leaky_backward_generic;
    Tanh: tanh_backward, tanh_backward_generic;
    Sigmoid: sigmoid_backward, sigmoid_backward_generic;
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
    let shapes = shapes_of(w)?;
    run(
        &shapes,
        Weights::Read(w),
        b,
        act,
        Input::Batch(x.data()),
        rows,
        d,
        targets,
        ws,
        gw,
        gb,
    )
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
    let d = check_rows(x, rows)?;
    let shapes = shapes_of(w)?;
    run(
        &shapes,
        Weights::Read(w),
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

/// The update of one layer's weights by rows: `(w, g, buffers, squares)`, rows of the weights,
/// the same rows of their gradient (which the update may change first, adding a penalty) and of
/// each buffer, and one slot per row for the sum of squares of the gradient's row as used.
pub type RowUpdate<'a, T> = dyn Fn(&mut [T], &mut [T], &mut [&mut [T]], &mut [f64]) + Sync + 'a;

/// An optimizer step the kernel applies to each block of rows of every layer's weights as soon
/// as the block's gradient is computed, while it is still in cache: the fused step of
/// [`mlp_loss_grad_step_rows`].
pub struct WeightStep<'a, T> {
    /// Per layer, the weights `[out, in]` (as `w` of [`mlp_loss_grad`]), stepped in place.
    pub weights: Vec<&'a mut [T]>,
    /// Per layer, buffers as long as its weights (an optimizer's state), cut at the same rows;
    /// as many for every layer.
    pub buffers: Vec<Vec<&'a mut [T]>>,
    /// Per layer, the update of its rows.
    pub update: Vec<&'a RowUpdate<'a, T>>,
    /// Per layer, one slot per row of its weights: the row's sum of squares of the gradient
    /// (written by `update`).
    pub squares: Vec<&'a mut [f64]>,
}

/// [`mlp_loss_grad_rows`], stepping the weights as their gradient comes out: after this call
/// the weights in `step` have taken the step, `gw` holds the gradient they took it with (as
/// `step.update` left it) and `gb` the biases' gradient (the biases are not stepped). The
/// weights' shapes are `shapes[l]` = (out, in). The forward and backward passes read the
/// weights before any is stepped, so the gradient is that of the weights as given.
#[allow(clippy::too_many_arguments)]
pub fn mlp_loss_grad_step_rows<T: Scalar>(
    shapes: &[(usize, usize)],
    b: &[&Tensor<T>],
    act: KernelActivation,
    x: &Tensor<T>,
    rows: &[usize],
    targets: KernelTargets<'_>,
    ws: &mut MlpWorkspace<T>,
    gw: &mut [Tensor<T>],
    gb: &mut [Tensor<T>],
    mut step: WeightStep<'_, T>,
) -> Result<f64> {
    let d = check_rows(x, rows)?;
    let layers = shapes.len();
    let fits = step.weights.len() == layers
        && step.buffers.len() == layers
        && step.update.len() == layers
        && step.squares.len() == layers
        && (0..layers).all(|l| {
            let (o, i) = shapes[l];
            step.weights[l].len() == o * i
                && step.squares[l].len() == o
                && step.buffers[l].len() == step.buffers[0].len()
                && step.buffers[l].iter().all(|buf| buf.len() == o * i)
        });
    if !fits {
        return Err(Error::invalid(
            "mlp kernel",
            "a step whose weights, buffers or squares do not fit the layers",
        ));
    }
    run(
        shapes,
        Weights::Step(&mut step),
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

/// The width of the matrix `x`, checked to hold every row of `rows`.
fn check_rows<T: Scalar>(x: &Tensor<T>, rows: &[usize]) -> Result<usize> {
    let (n, d) = x.check_matrix("mlp kernel input")?;
    match rows.iter().find(|&&r| r >= n) {
        Some(&r) => Err(Error::invalid(
            "mlp kernel",
            format!("row {r} of a batch is not below {n}"),
        )),
        None => Ok(d),
    }
}

/// The weights a pass reads: as given, or those of a step that updates them.
enum Weights<'w, 'a, T> {
    Read(&'w [&'a Tensor<T>]),
    Step(&'w mut WeightStep<'a, T>),
}

/// The shapes (out, in) of the layers `w`, checked to be matrices.
fn shapes_of<T: Scalar>(w: &[&Tensor<T>]) -> Result<Vec<(usize, usize)>> {
    w.iter().map(|t| t.check_matrix("mlp kernel weights")).collect()
}

#[allow(clippy::too_many_arguments)]
fn run<T: Scalar>(
    shapes: &[(usize, usize)],
    weights: Weights<'_, '_, T>,
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
    let layers = shapes.len();
    if layers == 0 || b.len() != layers || gw.len() != layers || gb.len() != layers || rows == 0 {
        return Err(Error::invalid("mlp kernel", "mismatched layer lists or an empty batch"));
    }
    let mut width = d;
    for l in 0..layers {
        let (o, i) = shapes[l];
        if i != width || b[l].len() != o {
            return Err(Error::shapes("mlp kernel layer", &[o, i], &[b[l].len(), width]));
        }
        if gw[l].shape() != [o, i] || gb[l].len() != o {
            return Err(Error::shapes("mlp kernel gradient", gw[l].shape(), &[o, i]));
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
    let widths: Vec<usize> = shapes.iter().map(|&(o, _)| o).collect();
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
    let losses: Vec<f64> = {
        let w: Vec<&[T]> = match &weights {
            Weights::Read(w) => w.iter().map(|t| t.data()).collect(),
            Weights::Step(s) => s.weights.iter().map(|w| &**w).collect(),
        };
        let forward = |mut s: Share<'_, T>| share_pass(&mut s, &w, shapes, b, act, input, d, &targets, rows);
        run_parts(parts, forward).into_iter().collect::<Result<_>>()?
    };
    let mut loss: f64 = losses.iter().sum::<f64>() / rows as f64;
    if matches!(targets, KernelTargets::Values(_)) {
        loss /= k as f64;
    }

    // Weight gradients dW_l = D_l^T A_{l-1} over the whole batch, in blocks of rows of dW (the
    // layer's output units); with a step, each block of weights steps right after its gradient.
    let x_all: &[T] = match input {
        Input::Batch(x) => x,
        Input::Gather(..) => &ws.x,
    };
    let ranges = weight_grad_ranges(shapes, threads);
    let ins: Vec<usize> = shapes.iter().map(|&(_, i)| i).collect();
    let mut g_cut = cut(gw.iter_mut().map(|g| g.data_mut()).collect(), &ins, &ranges).into_iter();
    let (acts, deltas) = (&ws.acts, &ws.deltas);
    let product = |l: usize, r0: usize, part: &mut [T]| -> Result<()> {
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
    match weights {
        Weights::Read(_) => {
            let shares: Vec<_> = ranges.iter().zip(g_cut).collect();
            let run_share = |(ranges, parts): (&Ranges, Vec<&mut [T]>)| {
                ranges
                    .iter()
                    .zip(parts)
                    .try_for_each(|(&(l, r0, _), part)| product(l, r0, part))
            };
            run_parts(shares, run_share).into_iter().collect::<Result<()>>()?;
        }
        Weights::Step(step) => {
            let ones = vec![1; layers];
            let mut w_cut = cut(step.weights.iter_mut().map(|w| &mut **w).collect(), &ins, &ranges).into_iter();
            let mut sq_cut = cut(step.squares.iter_mut().map(|q| &mut **q).collect(), &ones, &ranges).into_iter();
            // Buffer k of every layer, cut alike (every layer has the same number).
            let n_bufs = step.buffers.first().map_or(0, Vec::len);
            let mut per_k: Vec<Vec<&mut [T]>> = (0..n_bufs).map(|_| Vec::with_capacity(layers)).collect();
            for bufs in std::mem::take(&mut step.buffers) {
                for (k, b) in bufs.into_iter().enumerate() {
                    per_k[k].push(b);
                }
            }
            let mut buf_cuts: Vec<_> = per_k
                .into_iter()
                .map(|slices| cut(slices, &ins, &ranges).into_iter())
                .collect();
            let update = &step.update;
            let shares: Vec<_> = ranges
                .iter()
                .map(|r| {
                    let g = g_cut.next().unwrap_or_default();
                    let w = w_cut.next().unwrap_or_default();
                    let sq = sq_cut.next().unwrap_or_default();
                    let mut bufs: Vec<Vec<&mut [T]>> = (0..r.len()).map(|_| Vec::new()).collect();
                    for it in buf_cuts.iter_mut() {
                        for (i, piece) in it.next().unwrap_or_default().into_iter().enumerate() {
                            bufs[i].push(piece);
                        }
                    }
                    (r, g, w, sq, bufs)
                })
                .collect();
            let run_share = |(ranges, g, w, sq, bufs): StepShare<'_, T>| -> Result<()> {
                let pieces = ranges.iter().zip(g).zip(w).zip(sq).zip(bufs);
                for ((((&(l, r0, r1), g), w), sq), mut bufs) in pieces {
                    // Blocks of STEP_ROWS rows: the product, then the step while it is in cache.
                    let inp = ins[l];
                    let mut at = r0;
                    while at < r1 {
                        let end = (at + STEP_ROWS).min(r1);
                        let span = (at - r0) * inp..(end - r0) * inp;
                        product(l, at, &mut g[span.clone()])?;
                        let mut b: Vec<&mut [T]> = bufs.iter_mut().map(|b| &mut b[span.clone()]).collect();
                        update[l](&mut w[span.clone()], &mut g[span], &mut b, &mut sq[at - r0..end - r0]);
                        at = end;
                    }
                }
                Ok(())
            };
            run_parts(shares, run_share).into_iter().collect::<Result<()>>()?;
        }
    }
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

/// Rows of every layer's weights stepped per block by a fused step: small enough that the
/// block's gradient is still in the level-2 cache when the update reads it, a multiple of the
/// 6 columns the gemm crate's AVX-512 kernel takes at a time (blocks of 16 left a third of
/// each product to its narrower edge kernel).
const STEP_ROWS: usize = 96;

/// One thread's row ranges of the weights: (layer, first row, end row), in order.
type Ranges = Vec<(usize, usize, usize)>;

/// One thread's part of a fused step: its row ranges and, for each, the rows of the gradient,
/// of the weights, of the squares and of each buffer.
type StepShare<'s, T> = (
    &'s Ranges,
    Vec<&'s mut [T]>,
    Vec<&'s mut [T]>,
    Vec<&'s mut [f64]>,
    Vec<Vec<&'s mut [T]>>,
);

/// The rows of every layer's weight gradient (`shapes[l]` = (rows, row length)) cut into
/// `parts` shares (one when the network has fewer than [`MIN_SPLIT_WEIGHTS`] weights) of equal
/// work: the rows of all layers laid end to end, each row weighing its width (the product's
/// cost per row), cut at the `parts` equal points. A share is a list of (layer, first row, end
/// row), each layer's ranges in order. Equal shares keep a thread from waiting for the other's
/// last block, which work stealing over per-layer blocks did (the small layers' blocks were
/// taken first and the second big block late).
fn weight_grad_ranges(shapes: &[(usize, usize)], parts: usize) -> Vec<Ranges> {
    let total: usize = shapes.iter().map(|(i, o)| i * o).sum();
    let parts = if total >= MIN_SPLIT_WEIGHTS { parts.max(1) } else { 1 };
    let mut shares: Vec<Ranges> = (0..parts).map(|_| Vec::new()).collect();
    let mut offset = 0;
    for (l, &(inp, out)) in shapes.iter().enumerate() {
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
                share.push((l, first, end));
                first = end;
            }
        }
        offset += inp * out;
    }
    shares.retain(|s| !s.is_empty());
    shares
}

/// Each layer's slice (`per_layer[l]`, rows of `widths[l]` elements) cut into the pieces of
/// `ranges`: one list per share, a piece per range.
fn cut<'g, E>(per_layer: Vec<&'g mut [E]>, widths: &[usize], ranges: &[Ranges]) -> Vec<Vec<&'g mut [E]>> {
    let mut rest = per_layer;
    ranges
        .iter()
        .map(|share| {
            share
                .iter()
                .map(|&(l, r0, r1)| {
                    let (head, tail) = std::mem::take(&mut rest[l]).split_at_mut((r1 - r0) * widths[l]);
                    rest[l] = tail;
                    head
                })
                .collect()
        })
        .collect()
}

/// One share's forward pass, loss (summed over its rows) and deltas (of the mean over all
/// `total` rows).
#[allow(clippy::too_many_arguments)]
fn share_pass<T: Scalar>(
    s: &mut Share<'_, T>,
    w: &[&[T]],
    shapes: &[(usize, usize)],
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
        let (out, inp) = shapes[l];
        let (before, rest) = s.acts.split_at_mut(l);
        let a_in: &[T] = if l == 0 { x } else { before[l - 1] };
        let a_out = &mut *rest[0];
        // A_out^T = W A_in^T: W is the left operand as stored (row-major), written transposed.
        // A_out = A_in W^T: W^T is column-major as W is stored, which gemm reads in place; only
        // the share's rows are packed (with W as the left operand, every thread packed all of
        // W on every step: 13 % of a W1 epoch).
        matmul_slices(
            a_out,
            out,
            MatRef::row_major(a_in, n, inp),
            MatRef::row_major(w[l], out, inp).t(),
            false,
        )?;
        let layer_act = if l + 1 == layers {
            KernelActivation::Identity
        } else {
            act
        };
        layer_act.add_bias_apply(a_out, b[l].data());
    }
    // Loss and its derivative with respect to the output.
    let k = shapes[layers - 1].0;
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
        let (out, inp) = shapes[l];
        let (lower, upper) = s.deltas.split_at_mut(l);
        let dst = &mut *lower[l - 1];
        matmul_slices(
            dst,
            inp,
            MatRef::row_major(&*upper[0], n, out),
            MatRef::row_major(w[l], out, inp),
            false,
        )?;
        act.scale_by_grad(dst, &*s.acts[l - 1]);
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
            let shares = weight_grad_ranges(&shapes, parts);
            assert_eq!(shares.len(), parts);
            let mut next = [0usize; 3];
            let mut work = Vec::new();
            for share in &shares {
                let mut w = 0;
                for &(l, r0, r1) in share {
                    assert_eq!(r0, next[l], "layer {l} continues where it stopped");
                    next[l] = r1;
                    w += (r1 - r0) * shapes[l].1;
                }
                work.push(w);
            }
            assert_eq!(next, [784, 256, 128]);
            let (lo, hi) = (work.iter().min().unwrap(), work.iter().max().unwrap());
            assert!(hi - lo <= 256, "{parts} shares: work {work:?}");
            // The cut follows the ranges: each piece holds its rows of the layer.
            let mut data: Vec<Vec<u32>> = shapes.iter().map(|&(i, o)| (0..(i * o) as u32).collect()).collect();
            let widths: Vec<usize> = shapes.iter().map(|&(_, o)| o).collect();
            let pieces = cut(data.iter_mut().map(|d| &mut d[..]).collect(), &widths, &shares);
            for (share, ps) in shares.iter().zip(&pieces) {
                for (&(l, r0, r1), p) in share.iter().zip(ps) {
                    assert_eq!(p.len(), (r1 - r0) * widths[l]);
                    assert_eq!(p.first().copied(), Some((r0 * widths[l]) as u32));
                }
            }
        }
    }
}
