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
//! With several threads ([`set_num_threads`](crate::tensor::set_num_threads)) a step has four
//! parts, each run through [`run_parts`] (whose caller spins briefly for the other parts
//! instead of sleeping):
//! 1. the batch is split by rows into shares of at least 64 rows, each gathered (copied from
//!    the data's rows) by one thread;
//! 2. the first layer's outputs are split by units: the weights' rows are cut into one part of
//!    equal work per thread, the first layer's units in equal parts, and each thread computes
//!    its units' outputs for the whole batch in one product (which the gemm crate packs the
//!    batch for). A thread so reads, and later steps, only its own rows of W_1 (the biggest
//!    layer of a typical network), which stay in its cache from one step to the next instead
//!    of moving between the cores every step;
//! 3. each share runs the other layers forward, the loss and the deltas of its rows (this is
//!    row by row), down to D_2 W_2 for the first layer;
//! 4. each thread applies act' to its first-layer units' deltas, then computes its rows of every
//!    dW_l = D_l^T A_{l-1} over the whole batch (and steps them, in the fused step), and its
//!    biases' gradients. No thread's partial gradient is ever summed with another's. Before
//!    each of its products it asks the memory for a slice of its share of the next batch's rows
//!    ([`MlpWorkspace::read_ahead`]), which the next step's gather then finds in the cache.
//!
//! Every activation and delta is column-major (a share's block, or the whole batch for the
//! first layer), so that each product reads its operands and writes its output where they lie:
//! the gemm crate packs neither the activations nor W^T, and nothing is copied back. The
//! batch itself stays row-major: X^T is then column-major for dW_1 = D_1^T X, and the first
//! layer's product packs X once per thread. (A column-major copy made at the gather, each
//! thread transposing its share, cost more than that packing: the other thread then read
//! those lines from the first thread's cache, and dW_1 read the row-major rows again.)

use crate::error::{Error, Result};
use crate::tensor::elementwise::sum;
use crate::tensor::pool::run_parts;
use crate::tensor::{matmul_slices_strided, prefetch, split_threads, MatRef, Scalar, Tensor};

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
    /// Column j of the column-major `a` (columns of `m` elements) becomes act(column + bias[j]).
    /// The match on the activation is made once, outside the loop, so that the loop of each
    /// vectorizes.
    fn add_bias_apply<T: Scalar>(self, a: &mut [T], m: usize, bias: &[T]) {
        match self {
            Self::Relu => relu_forward(a, m, bias),
            Self::LeakyRelu => leaky_forward(a, m, bias),
            Self::Tanh => tanh_forward(a, m, bias),
            Self::Sigmoid => sigmoid_forward(a, m, bias),
            Self::Identity => identity_forward(a, m, bias),
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
        fn $generic<T: Scalar>(a: &mut [T], m: usize, bias: &[T]) {
            for (col, &c) in a.chunks_exact_mut(m.max(1)).zip(bias) {
                col.iter_mut()
                    .for_each(|v| *v = KernelActivation::$variant.apply(*v + c));
            }
        }
        crate::tensor::multiversion!(fn $name<T>(a: &mut [T], m: usize, bias: &[T]) => $generic);
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

/// Reusable buffers: the gathered batch (row-major), and each layer's outputs and deltas.
///
/// A per-share buffer of width `w` holds share s (rows `start..start + m`) at
/// `start * w..(start + m) * w`, column-major: element (r, j) at `j * m + r`. Every product of a
/// share then reads its input and writes its output in place (no packing, no copy back), and
/// the columns of a block of units are one contiguous slice.
#[derive(Clone, Debug, Default)]
pub struct MlpWorkspace<T> {
    x: Vec<T>,
    pre: Vec<T>,
    acts: Vec<Vec<T>>,
    deltas: Vec<Vec<T>>,
    /// With a fused step, one block of weight-gradient rows per part, reused block after
    /// block (the gradient of the whole weights is never stored).
    blocks: Vec<T>,
    /// Rows of the input the call after the next will gather ([`MlpWorkspace::read_ahead`]).
    ahead: Vec<usize>,
}

impl<T> MlpWorkspace<T> {
    /// Names the rows of the input matrix that the step after the next one will gather: the
    /// next call's weights pass (which computes, its operands in cache) asks the memory for
    /// them a block at a time, so that the gather of that step copies them from the cache
    /// instead of waiting on the memory for each (W1: the gather's 54 us per step, most of it
    /// that wait). Only a hint, consumed by the next call: rows it names that the next-but-one
    /// call does not read, or rows out of range, cost a few wasted loads and change no result.
    ///
    /// ```
    /// let mut ws = steepest::nn::MlpWorkspace::<f32>::default();
    /// ws.read_ahead(&[3, 1, 4]);
    /// ```
    pub fn read_ahead(&mut self, rows: &[usize]) {
        self.ahead.clear();
        self.ahead.extend_from_slice(rows);
    }
}

/// Rows per share below which a batch is not split across threads.
const MIN_SHARE_ROWS: usize = 64;
/// How many rows ahead the gather of a batch prefetches.
const GATHER_AHEAD: usize = 2;
/// Networks with fewer weights get their weight gradients from one thread.
const MIN_SPLIT_WEIGHTS: usize = 1 << 14;

/// How the batch's rows are cut into shares: `shares` shares of `share_rows` rows, the last
/// one shorter.
#[derive(Clone, Copy)]
struct Split {
    rows: usize,
    share_rows: usize,
    shares: usize,
}

impl Split {
    fn new(rows: usize, threads: usize) -> Self {
        let share_rows = rows.div_ceil(threads.min(rows / MIN_SHARE_ROWS).max(1));
        Self {
            rows,
            share_rows,
            shares: rows.div_ceil(share_rows),
        }
    }

    /// The first row and the row count of share `s`.
    fn share(&self, s: usize) -> (usize, usize) {
        let start = s * self.share_rows;
        (start, self.share_rows.min(self.rows - start))
    }

    /// The elements of share `s` in a per-share buffer of width `w`.
    fn span(&self, s: usize, w: usize) -> std::ops::Range<usize> {
        let (start, m) = self.share(s);
        start * w..(start + m) * w
    }
}

/// The rows of the batch a share owns, and its parts of the workspace (the second layer's
/// on, and the first layer's deltas before the activation's derivative).
struct Share<'a, T> {
    start: usize,
    rows: usize,
    acts: Vec<&'a mut [T]>,
    deltas: Vec<&'a mut [T]>,
    pre: &'a mut [T],
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
        Some(gw),
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
        Some(gw),
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
/// the weights in `step` have taken the step and `gb` holds the biases' gradient (the biases are
/// not stepped). The weights' gradient is not kept: each block of its rows is computed into a
/// buffer of the workspace, handed to `step.update` and overwritten by the next block, so the
/// weights and the optimizer's state are all a step moves through the cache. The weights' shapes
/// are `shapes[l]` = (out, in). The forward and backward passes read the weights before any is
/// stepped, so the gradient is that of the weights as given.
#[allow(clippy::too_many_arguments)]
pub fn mlp_loss_grad_step_rows<T: Scalar>(
    shapes: &[(usize, usize)],
    b: &[&Tensor<T>],
    act: KernelActivation,
    x: &Tensor<T>,
    rows: &[usize],
    targets: KernelTargets<'_>,
    ws: &mut MlpWorkspace<T>,
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
        None,
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
    mut gw: Option<&mut [Tensor<T>]>,
    gb: &mut [Tensor<T>],
) -> Result<f64> {
    let layers = shapes.len();
    let gw_fits = gw.as_ref().is_none_or(|g| g.len() == layers);
    if layers == 0 || b.len() != layers || !gw_fits || gb.len() != layers || rows == 0 {
        return Err(Error::invalid("mlp kernel", "mismatched layer lists or an empty batch"));
    }
    let mut width = d;
    for l in 0..layers {
        let (o, i) = shapes[l];
        if i != width || b[l].len() != o {
            return Err(Error::shapes("mlp kernel layer", &[o, i], &[b[l].len(), width]));
        }
        if let Some(g) = gw.as_ref().map(|g| &g[l]).filter(|g| g.shape() != [o, i]) {
            return Err(Error::shapes("mlp kernel gradient", g.shape(), &[o, i]));
        }
        if gb[l].len() != o {
            return Err(Error::shapes("mlp kernel bias gradient", &[gb[l].len()], &[o]));
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
    let o0 = widths[0];
    ws.acts.resize_with(layers, Vec::new);
    ws.deltas.resize_with(layers, Vec::new);
    for ((a, dl), &o) in ws.acts.iter_mut().zip(ws.deltas.iter_mut()).zip(&widths) {
        a.resize(rows * o, T::zero());
        dl.resize(rows * o, T::zero());
    }
    ws.pre.resize(rows * o0, T::zero());
    let gathered = matches!(input, Input::Gather(..));
    ws.x.resize(if gathered { rows * d } else { 0 }, T::zero());

    let ahead = std::mem::take(&mut ws.ahead);
    let threads = split_threads();
    let split = Split::new(rows, threads);
    let ranges = weight_grad_ranges(shapes, threads);
    // With a step, each part's block of weight-gradient rows.
    let block_len = STEP_ROWS * shapes.iter().map(|&(_, i)| i).max().unwrap_or(0);
    let stepping = matches!(weights, Weights::Step(_));
    ws.blocks
        .resize(if stepping { ranges.len() * block_len } else { 0 }, T::zero());
    // The first layer's units of each part of the weights: the part computes their outputs,
    // their deltas and their weights' gradient and step, so each thread reads and writes only
    // its own rows of W_1, which stay in its cache from one step to the next.
    let units: Vec<(usize, usize)> = ranges
        .iter()
        .map(|r| {
            r.first()
                .filter(|&&(l, _, _)| l == 0)
                .map_or((0, 0), |&(_, r0, r1)| (r0, r1))
        })
        .collect();
    let act0 = layer_activation(act, 0, layers);

    // 1. The batch's rows gathered, share by share (a batch given whole is read in place).
    if let Input::Gather(data, batch) = input {
        let parts: Vec<_> = (0..split.shares)
            .map(|s| split.share(s))
            .zip(ws.x.chunks_mut((split.share_rows * d).max(1)))
            .collect();
        run_parts(parts, |((start, m), xr)| {
            gather_share(data, &batch[start..start + m], d, xr)
        });
    }
    let x_rows: &[T] = match input {
        Input::Batch(x) => x,
        Input::Gather(..) => &ws.x,
    };

    let w: Vec<&[T]> = match &weights {
        Weights::Read(w) => w.iter().map(|t| t.data()).collect(),
        Weights::Step(s) => s.weights.iter().map(|w| &**w).collect(),
    };

    // 2. The first layer's outputs, each part its units for every share.
    {
        let i0 = shapes[0].1;
        let a0 = cut_columns(&mut ws.acts[0], rows, &units);
        let first_layer = |((u0, u1), a0): ((usize, usize), &mut [T])| -> Result<()> {
            let w_units = MatRef::row_major(&w[0][u0 * i0..u1 * i0], u1 - u0, i0).t();
            matmul_slices_strided(a0, (1, rows), MatRef::row_major(x_rows, rows, d), w_units, false)?;
            act0.add_bias_apply(a0, rows, &b[0].data()[u0..u1]);
            Ok(())
        };
        let parts = units.iter().copied().zip(a0).filter(|((u0, u1), _)| u1 > u0).collect();
        run_parts(parts, first_layer).into_iter().collect::<Result<()>>()?;
    }

    // 3. The other layers' outputs, the loss and the deltas, share by share.
    let (a0, a_rest) = ws.acts.split_first_mut().expect("a layer");
    let (d0, d_rest) = ws.deltas.split_first_mut().expect("a layer");
    let a0: &[T] = a0;
    let mut act_parts: Vec<_> = a_rest
        .iter_mut()
        .zip(&widths[1..])
        .map(|(a, &o)| a.chunks_mut((split.share_rows * o).max(1)))
        .collect();
    let mut delta_parts: Vec<_> = d_rest
        .iter_mut()
        .zip(&widths[1..])
        .map(|(a, &o)| a.chunks_mut((split.share_rows * o).max(1)))
        .collect();
    let mut pre_parts = ws.pre.chunks_mut((split.share_rows * o0).max(1));
    let shares: Vec<Share<'_, T>> = (0..split.shares)
        .map(|s| Share {
            start: split.share(s).0,
            rows: split.share(s).1,
            acts: act_parts.iter_mut().map(|it| it.next().unwrap_or_default()).collect(),
            deltas: delta_parts.iter_mut().map(|it| it.next().unwrap_or_default()).collect(),
            pre: pre_parts.next().unwrap_or_default(),
        })
        .collect();
    let pass = |mut s: Share<'_, T>| share_pass(&mut s, a0, rows, &w, shapes, b, act, &targets);
    let losses: Vec<f64> = run_parts(shares, pass).into_iter().collect::<Result<_>>()?;
    drop(w);
    let mut loss: f64 = losses.iter().sum::<f64>() / rows as f64;
    if matches!(targets, KernelTargets::Values(_)) {
        loss /= k as f64;
    }

    // 4. Per part: the first layer's deltas of its units, D_1 = pre * act'(A_1), assembled
    // column-major over the whole batch; then weight gradients dW_l = D_l^T A_{l-1} in blocks of
    // rows of dW (the layer's output units), one product over the batch for the first layer, a
    // sum over the shares for the others; with a step, each block of weights steps right after
    // its gradient; and the biases' gradients (the deltas' column sums) of the same units.
    let (a_rest, d_rest, pre): (&[Vec<T>], &[Vec<T>], &[T]) = (a_rest, d_rest, &ws.pre);
    let d0_cut = cut_columns(d0, rows, &units);
    let first_deltas = |(u0, u1): (usize, usize), d0: &mut [T]| {
        for s in 0..split.shares {
            let (start, m) = split.share(s);
            let pre_s = &pre[split.span(s, o0)];
            for (j, col) in (u0..u1).zip(d0.chunks_exact_mut(rows)) {
                col[start..start + m].copy_from_slice(&pre_s[j * m..(j + 1) * m]);
            }
        }
        act0.scale_by_grad(d0, &a0[u0 * rows..u1 * rows]);
    };
    // dW_l rows r0.. into `part`; `d0` holds the first layer's deltas of units `u0..`.
    let product = |l: usize, r0: usize, part: &mut [T], d0: &[T], u0: usize| -> Result<()> {
        let (out, inp) = shapes[l];
        let cols = part.len() / inp;
        if l == 0 {
            // dW_block^T = X^T D_block, written transposed into the block of rows of dW.
            let a = MatRef::row_major(x_rows, rows, inp).t();
            let block = MatRef::col_major(&d0[(r0 - u0) * rows..], rows, cols);
            return matmul_slices_strided(part, (1, inp), a, block, false);
        }
        for s in 0..split.shares {
            let (start, m) = split.share(s);
            let a = match l {
                1 => MatRef::col_major(a0, rows, inp).row_block(start, m),
                _ => MatRef::col_major(&a_rest[l - 2][split.span(s, inp)], m, inp),
            };
            let dl = &d_rest[l - 1][split.span(s, out)];
            let block = MatRef::col_major(&dl[r0 * m..], m, cols);
            matmul_slices_strided(part, (1, inp), a.t(), block, s > 0)?;
        }
        Ok(())
    };
    let bias_sums = |l: usize, r0: usize, part: &mut [T], d0: &[T], u0: usize| {
        for (j, g) in (r0..).zip(part.iter_mut()) {
            let total: f64 = match l {
                0 => sum(&d0[(j - u0) * rows..(j - u0 + 1) * rows]),
                _ => (0..split.shares)
                    .map(|s| {
                        let m = split.share(s).1;
                        sum(&d_rest[l - 1][split.span(s, widths[l])][j * m..(j + 1) * m])
                    })
                    .sum(),
            };
            *g = T::of(total);
        }
    };
    let ins: Vec<usize> = shapes.iter().map(|&(_, i)| i).collect();
    let ones = vec![1; layers];
    let mut g_cut = gw
        .as_mut()
        .map(|gw| cut(gw.iter_mut().map(|g| g.data_mut()).collect(), &ins, &ranges).into_iter());
    let mut gb_cut = cut(gb.iter_mut().map(|g| g.data_mut()).collect(), &ones, &ranges).into_iter();
    let mut d0_cut = d0_cut.into_iter();
    let mut block_cut = ws.blocks.chunks_mut(block_len.max(1));
    // The next batch's rows to prefetch, cut in as many slices as there are parts.
    let ahead_data: &[T] = match input {
        Input::Gather(data, _) => data,
        Input::Batch(_) => &[],
    };
    let ahead_rows: &[usize] = if d > 0 && !ahead_data.is_empty() { &ahead } else { &[] };
    let data_rows = ahead_data.len() / d.max(1);
    let mut ahead_cut = ahead_rows.chunks(ahead_rows.len().div_ceil(ranges.len().max(1)).max(1));
    let (update, mut w_cut, mut sq_cut, mut buf_cuts) = match weights {
        Weights::Read(_) => (None, None, None, Vec::new()),
        Weights::Step(step) => {
            let w_cut = cut(step.weights.iter_mut().map(|w| &mut **w).collect(), &ins, &ranges).into_iter();
            let sq_cut = cut(step.squares.iter_mut().map(|q| &mut **q).collect(), &ones, &ranges).into_iter();
            // Buffer k of every layer, cut alike (every layer has the same number).
            let n_bufs = step.buffers.first().map_or(0, Vec::len);
            let mut per_k: Vec<Vec<&mut [T]>> = (0..n_bufs).map(|_| Vec::with_capacity(layers)).collect();
            for bufs in std::mem::take(&mut step.buffers) {
                for (k, b) in bufs.into_iter().enumerate() {
                    per_k[k].push(b);
                }
            }
            let buf_cuts: Vec<_> = per_k
                .into_iter()
                .map(|slices| cut(slices, &ins, &ranges).into_iter())
                .collect();
            (Some(&step.update), Some(w_cut), Some(sq_cut), buf_cuts)
        }
    };
    let parts: Vec<Part<'_, T>> = ranges
        .iter()
        .zip(&units)
        .map(|(r, &units)| {
            let mut g = g_cut.as_mut().and_then(Iterator::next).unwrap_or_default().into_iter();
            let mut gb = gb_cut.next().unwrap_or_default().into_iter();
            let mut w = w_cut.as_mut().and_then(Iterator::next).map(IntoIterator::into_iter);
            let mut sq = sq_cut.as_mut().and_then(Iterator::next).map(IntoIterator::into_iter);
            let mut bufs: Vec<_> = buf_cuts
                .iter_mut()
                .map(|it| it.next().unwrap_or_default().into_iter())
                .collect();
            let pieces = r
                .iter()
                .map(|&(l, r0, r1)| Piece {
                    layer: l,
                    rows: (r0, r1),
                    g: g.next().unwrap_or_default(),
                    gb: gb.next().unwrap_or_default(),
                    step: w.as_mut().zip(sq.as_mut()).map(|(w, sq)| StepPiece {
                        w: w.next().unwrap_or_default(),
                        sq: sq.next().unwrap_or_default(),
                        bufs: bufs.iter_mut().map(|b| b.next().unwrap_or_default()).collect(),
                    }),
                })
                .collect();
            let d0 = d0_cut.next().unwrap_or_default();
            let block = block_cut.next().unwrap_or_default();
            Part {
                units,
                d0,
                pieces,
                block,
                ahead: ahead_cut.next().unwrap_or_default(),
            }
        })
        .collect();
    let run_part = |p: Part<'_, T>| -> Result<()> {
        let (u0, d0, block) = (p.units.0, p.d0, p.block);
        // The part's rows of the next batch, asked for in equal slices before each product
        // (which keeps the cores busy while the memory answers).
        let products: usize = p
            .pieces
            .iter()
            .map(|pc| match (&pc.step, update) {
                (Some(_), Some(_)) => (pc.rows.1 - pc.rows.0).div_ceil(STEP_ROWS),
                _ => 1,
            })
            .sum();
        let mut ahead = p.ahead.chunks(p.ahead.len().div_ceil(products.max(1)).max(1));
        let mut read_ahead = || {
            for &r in ahead.next().unwrap_or_default() {
                if r < data_rows {
                    prefetch(&ahead_data[r * d..(r + 1) * d]);
                }
            }
        };
        if p.units.1 > u0 {
            first_deltas(p.units, d0);
        }
        let d0: &[T] = d0;
        for piece in p.pieces {
            let (l, (r0, r1)) = (piece.layer, piece.rows);
            let inp = ins[l];
            match (piece.step, update) {
                (Some(mut st), Some(update)) => {
                    // Blocks of STEP_ROWS rows: the product into the part's block, then the
                    // step while the block is in cache.
                    let mut at = r0;
                    while at < r1 {
                        let end = (at + STEP_ROWS).min(r1);
                        let span = (at - r0) * inp..(end - r0) * inp;
                        let g = &mut block[..span.len()];
                        read_ahead();
                        product(l, at, g, d0, u0)?;
                        let mut b: Vec<&mut [T]> = st.bufs.iter_mut().map(|b| &mut b[span.clone()]).collect();
                        update[l](&mut st.w[span], g, &mut b, &mut st.sq[at - r0..end - r0]);
                        at = end;
                    }
                }
                _ => {
                    read_ahead();
                    product(l, r0, piece.g, d0, u0)?
                }
            }
            bias_sums(l, r0, piece.gb, d0, u0);
        }
        Ok(())
    };
    run_parts(parts, run_part).into_iter().collect::<Result<()>>()?;
    // The hint is spent; its buffer is kept for the next one.
    ws.ahead = ahead;
    ws.ahead.clear();
    Ok(loss)
}

/// A column-major `[rows, _]` buffer cut into the columns of each range of `units` (laid end to
/// end from column 0, as [`weight_grad_ranges`] gives them to the parts).
fn cut_columns<'b, T>(buf: &'b mut [T], rows: usize, units: &[(usize, usize)]) -> Vec<&'b mut [T]> {
    let mut rest = buf;
    units
        .iter()
        .map(|&(u0, u1)| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut((u1 - u0) * rows);
            rest = tail;
            head
        })
        .collect()
}

/// One part of the weights' pass: the first layer's units it owns (their deltas over the batch,
/// column-major), its pieces of every layer, and with a step its block of gradient rows.
struct Part<'s, T> {
    units: (usize, usize),
    d0: &'s mut [T],
    pieces: Vec<Piece<'s, T>>,
    block: &'s mut [T],
    ahead: &'s [usize],
}

/// Rows `rows` of layer `layer`'s weights: their gradient (without a step), their biases'
/// gradient, and with a step the weights, the squares and the optimizer's buffers.
struct Piece<'s, T> {
    layer: usize,
    rows: (usize, usize),
    g: &'s mut [T],
    gb: &'s mut [T],
    step: Option<StepPiece<'s, T>>,
}

/// What a fused step updates of a piece.
struct StepPiece<'s, T> {
    w: &'s mut [T],
    sq: &'s mut [f64],
    bufs: Vec<&'s mut [T]>,
}

/// The activation of layer `l` of `layers`: `act`, but the identity for the output layer.
fn layer_activation(act: KernelActivation, l: usize, layers: usize) -> KernelActivation {
    match l + 1 == layers {
        true => KernelActivation::Identity,
        false => act,
    }
}

/// The rows `rows` of the `[n, d]` matrix `data` copied into `xr`, in order. They come in
/// shuffled order, from memory, so those a few ahead are asked for while one is copied.
fn gather_share<T: Scalar>(data: &[T], rows: &[usize], d: usize, xr: &mut [T]) {
    for (i, (dst, &r)) in xr.chunks_mut(d.max(1)).zip(rows).enumerate() {
        if let Some(&ahead) = rows.get(i + GATHER_AHEAD) {
            prefetch(&data[ahead * d..(ahead + 1) * d]);
        }
        dst.copy_from_slice(&data[r * d..(r + 1) * d]);
    }
}

/// Rows of every layer's weights stepped per block by a fused step: small enough that the
/// block's gradient is still in the level-2 cache when the update reads it, a multiple of the
/// 6 columns the gemm crate's AVX-512 kernel takes at a time (blocks of 16 left a third of
/// each product to its narrower edge kernel).
const STEP_ROWS: usize = 96;

/// One thread's row ranges of the weights: (layer, first row, end row), in order.
type Ranges = Vec<(usize, usize, usize)>;

/// The rows of every layer's weight gradient (`shapes[l]` = (rows, row length)) cut into
/// `parts` shares (one when the network has fewer than [`MIN_SPLIT_WEIGHTS`] weights): the
/// first layer's rows in equal parts (the same units each thread computes forward), the other
/// layers' rows laid end to end, each row weighing its width (the product's cost per row), and
/// cut at the `parts` equal points. A share is a list of (layer, first row, end row), each
/// layer's ranges in order, its first-layer range first. Equal shares keep a thread from
/// waiting for the other's last block, which work stealing over per-layer blocks did (the
/// small layers' blocks were taken first and the second big block late).
fn weight_grad_ranges(shapes: &[(usize, usize)], parts: usize) -> Vec<Ranges> {
    let total: usize = shapes.iter().map(|(i, o)| i * o).sum();
    let parts = if total >= MIN_SPLIT_WEIGHTS { parts.max(1) } else { 1 };
    let mut shares: Vec<Ranges> = (0..parts).map(|_| Vec::new()).collect();
    let first_rows = shapes.first().map_or(0, |s| s.0);
    for (t, share) in shares.iter_mut().enumerate() {
        let (r0, r1) = (t * first_rows / parts, (t + 1) * first_rows / parts);
        if r1 > r0 {
            share.push((0, r0, r1));
        }
    }
    let rest: usize = shapes.iter().skip(1).map(|(i, o)| i * o).sum();
    let mut offset = 0;
    for (l, &(inp, out)) in shapes.iter().enumerate().skip(1) {
        let mut first = 0;
        for (t, share) in shares.iter_mut().enumerate() {
            // Share t ends at work (t + 1) rest / parts: the rows of this layer before it.
            let end = if t + 1 == parts {
                inp
            } else {
                ((t + 1) * rest / parts)
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

/// One share's forward pass from the second layer on (the first layer's outputs `a0` are
/// column-major over all `total` rows of the batch), its loss (summed over its rows) and deltas
/// (of the mean over all rows): the second layer's on, and `pre` = D_2 W_2, the first layer's
/// before the activation's derivative (which the parts apply by units). The share's own
/// buffers are column-major blocks of its rows.
#[allow(clippy::too_many_arguments)]
fn share_pass<T: Scalar>(
    s: &mut Share<'_, T>,
    a0: &[T],
    total: usize,
    w: &[&[T]],
    shapes: &[(usize, usize)],
    b: &[&Tensor<T>],
    act: KernelActivation,
    targets: &KernelTargets<'_>,
) -> Result<f64> {
    let (n, layers) = (s.rows, w.len());
    let first = MatRef::col_major(a0, total, shapes[0].0).row_block(s.start, n);
    // Forward: A_out = A_in W^T, every operand read in place (W^T is column-major as W is
    // stored) and the output written column-major. `s.acts[l - 1]` is layer l's.
    for l in 1..layers {
        let (out, inp) = shapes[l];
        let (before, rest) = s.acts.split_at_mut(l - 1);
        let a_in = if l == 1 {
            first
        } else {
            MatRef::col_major(&*before[l - 2], n, inp)
        };
        let a_out = &mut *rest[0];
        matmul_slices_strided(a_out, (1, n), a_in, MatRef::row_major(w[l], out, inp).t(), false)?;
        layer_activation(act, l, layers).add_bias_apply(a_out, n, b[l].data());
    }
    // Loss and its derivative with respect to the output (element (r, j) at j * ld + r).
    let k = shapes[layers - 1].0;
    let (z, ld, delta): (&[T], usize, &mut [T]) = match layers {
        1 => (first.data, total, &mut *s.pre),
        _ => (&*s.acts[layers - 2], n, &mut *s.deltas[layers - 2]),
    };
    let inv = T::of(1.0 / total as f64);
    let mut loss = 0.0;
    match *targets {
        KernelTargets::Classes(y) => {
            for (r, &c) in y[s.start..s.start + n].iter().enumerate() {
                if c >= k {
                    return Err(Error::invalid("mlp kernel", format!("class {c} is not below {k}")));
                }
                let m = (0..k).map(|j| z[j * ld + r]).fold(T::neg_infinity(), T::max);
                let mut sum = T::zero();
                for j in 0..k {
                    let e = (z[j * ld + r] - m).exp();
                    delta[j * n + r] = e;
                    sum += e;
                }
                loss += (sum.ln() + m - z[c * ld + r]).as_f64();
                // Probabilities below 1e-30 become 0: they change nothing, and as subnormal
                // numbers they would slow every product they enter several-fold.
                let (is, tiny) = (T::one() / sum, T::of(1e-30));
                for j in 0..k {
                    let v = &mut delta[j * n + r];
                    *v = if *v * is < tiny { T::zero() } else { *v * is * inv };
                }
                delta[c * n + r] -= inv;
            }
        }
        KernelTargets::Values(y) => {
            let scale = T::of(1.0 / (total * k) as f64);
            for (r, t) in y[s.start * k..(s.start + n) * k].chunks_exact(k).enumerate() {
                for (j, &t) in t.iter().enumerate() {
                    let e = z[j * ld + r] - T::of(t);
                    loss += 0.5 * e.as_f64() * e.as_f64();
                    delta[j * n + r] = e * scale;
                }
            }
        }
    }
    // Deltas of the hidden layers: D_{l-1} = (D_l W_l) * act'(A_{l-1}), the first layer's
    // without the derivative.
    for l in (1..layers).rev() {
        let (out, inp) = shapes[l];
        let (lower, upper) = s.deltas.split_at_mut(l - 1);
        let src = MatRef::col_major(&*upper[0], n, out);
        let dst: &mut [T] = if l == 1 { &mut *s.pre } else { &mut *lower[l - 2] };
        matmul_slices_strided(dst, (1, n), src, MatRef::row_major(w[l], out, inp), false)?;
        if l > 1 {
            act.scale_by_grad(dst, &*s.acts[l - 2]);
        }
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
