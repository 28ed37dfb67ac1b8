//! A fused, allocation-free forward and backward pass of a dense multi-layer perceptron: the
//! fast path the MLP model uses when no layer needs the general tape (no dropout, an
//! activation whose derivative follows from its output).
//!
//! Per hidden layer: A_l = act(A_{l-1} W_l + b_l), the bias and activation applied in the same
//! sweep over the product; the output layer adds its bias only. Backward, with D_L the
//! derivative of the mean loss with respect to the output: dW_l = A_{l-1}^T D_l,
//! db_l = column sums of D_l, D_{l-1} = (D_l W_l^T) * act'(A_{l-1}), the product and the
//! activation derivative again fused. Every buffer lives in [`MlpWorkspace`] and is reused.

use crate::error::{Error, Result};
use crate::tensor::{matmul_into, Scalar, Tensor};

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

/// Reusable buffers for one batch size.
#[derive(Clone, Debug, Default)]
pub struct MlpWorkspace<T> {
    acts: Vec<Tensor<T>>,
    deltas: Vec<Tensor<T>>,
}

fn ensure<T: Scalar>(slot: &mut Tensor<T>, shape: [usize; 2]) {
    if slot.shape() != shape {
        *slot = Tensor::zeros(&shape);
    }
}

/// Mean loss of the network on batch `x` (`[rows, inputs]`) and, into `gw`/`gb` (shaped as
/// `w`/`b`), its gradient. `w[l]` is `[in, out]`, `b[l]` is `[out]`; the activation applies to
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
    let layers = w.len();
    let rows = x.rows_count();
    if layers == 0 || b.len() != layers || gw.len() != layers || gb.len() != layers || rows == 0 {
        return Err(Error::invalid("mlp kernel", "mismatched layer lists or an empty batch"));
    }
    ws.acts.resize_with(layers, || Tensor::zeros(&[0]));
    ws.deltas.resize_with(layers, || Tensor::zeros(&[0]));
    // Forward.
    for l in 0..layers {
        let out = w[l].shape()[1];
        ensure(&mut ws.acts[l], [rows, out]);
        let (before, rest) = ws.acts.split_at_mut(l);
        let input = if l == 0 { x } else { &before[l - 1] };
        matmul_into(&mut rest[0], input, false, w[l], false, false)?;
        let bias = b[l].data();
        let last = l + 1 == layers;
        for row in rest[0].data_mut().chunks_mut(out) {
            if last {
                row.iter_mut().zip(bias).for_each(|(v, &c)| *v += c);
            } else {
                row.iter_mut().zip(bias).for_each(|(v, &c)| *v = act.apply(*v + c));
            }
        }
    }
    // Loss and its derivative with respect to the output.
    let k = w[layers - 1].shape()[1];
    ensure(&mut ws.deltas[layers - 1], [rows, k]);
    let out = &ws.acts[layers - 1];
    let delta = &mut ws.deltas[layers - 1];
    let inv = T::of(1.0 / rows as f64);
    let mut loss = 0.0;
    match targets {
        KernelTargets::Classes(y) => {
            if y.len() != rows {
                return Err(Error::shapes("mlp kernel targets", &[rows], &[y.len()]));
            }
            for ((z, d), &c) in out.data().chunks(k).zip(delta.data_mut().chunks_mut(k)).zip(y) {
                if c >= k {
                    return Err(Error::invalid("mlp kernel", format!("class {c} is not below {k}")));
                }
                let m = z.iter().copied().fold(T::neg_infinity(), T::max);
                let mut s = T::zero();
                for (dv, &zv) in d.iter_mut().zip(z) {
                    *dv = (zv - m).exp();
                    s += *dv;
                }
                loss += (s.ln() + m - z[c]).as_f64();
                // Probabilities below 1e-30 become 0: they change nothing, and as subnormal
                // numbers they would slow every product they enter several-fold.
                let (is, tiny) = (T::one() / s, T::of(1e-30));
                d.iter_mut()
                    .for_each(|v| *v = if *v * is < tiny { T::zero() } else { *v * is * inv });
                d[c] -= inv;
            }
        }
        KernelTargets::Values(y) => {
            if y.len() != rows * k {
                return Err(Error::shapes("mlp kernel targets", &[rows, k], &[y.len()]));
            }
            let scale = T::of(1.0 / (rows * k) as f64);
            for ((d, &z), &t) in delta.data_mut().iter_mut().zip(out.data()).zip(y) {
                let r = z - T::of(t);
                loss += 0.5 * r.as_f64() * r.as_f64();
                *d = r * scale;
            }
            loss /= k as f64;
        }
    }
    loss /= rows as f64;
    // Backward.
    for l in (0..layers).rev() {
        let input = if l == 0 { x } else { &ws.acts[l - 1] };
        matmul_into(&mut gw[l], input, true, &ws.deltas[l], false, false)?;
        let out = w[l].shape()[1];
        let g = gb[l].data_mut();
        g.iter_mut().for_each(|v| *v = T::zero());
        for row in ws.deltas[l].data().chunks(out) {
            g.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
        }
        if l > 0 {
            let inp = w[l].shape()[0];
            let (lower, upper) = ws.deltas.split_at_mut(l);
            ensure(&mut lower[l - 1], [rows, inp]);
            matmul_into(&mut lower[l - 1], &upper[0], false, w[l], true, false)?;
            let a = ws.acts[l - 1].data();
            lower[l - 1]
                .data_mut()
                .iter_mut()
                .zip(a)
                .for_each(|(d, &av)| *d *= act.grad_from_output(av));
        }
    }
    Ok(loss)
}
