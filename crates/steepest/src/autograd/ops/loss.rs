//! Fused losses, each a scalar mean over its rows, with their exact gradients:
//!
//! * cross-entropy over logits z (n x c) with integer targets y and optional class weights w
//!   (PyTorch's weighted mean): L = sum_i w_{y_i} (logsumexp(z_i) - z_{i,y_i}) / sum_i w_{y_i},
//!   dL/dz_i = w_{y_i} (softmax(z_i) - onehot(y_i)) / sum_i w_{y_i};
//! * mean squared error: L = mean (p - t)^2, dL/dp = 2 (p - t) / n;
//! * binary cross-entropy on logits: L = mean softplus(z) - t z, dL/dz = (sigmoid(z) - t) / n.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::tensor::softmax::logsumexp;
use crate::tensor::unary::{sigmoid, softplus};
use crate::tensor::{Scalar, Tensor};

pub(crate) enum LossOp<T> {
    CrossEntropy {
        z: usize,
        targets: Vec<usize>,
        row_weights: Vec<T>,
        total: T,
    },
    Mse {
        p: usize,
        t: usize,
    },
    BceLogits {
        z: usize,
        t: usize,
    },
}

impl<'t, T: Scalar> Var<'t, T> {
    /// Mean cross-entropy of logits `self` (`[n, classes]`) against class indices `targets`,
    /// optionally weighted per class.
    ///
    /// ```
    /// # use steepest::{autograd::Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param(Tensor::new(vec![0.0, 0.0], &[1, 2])?);
    /// let loss = z.cross_entropy(&[1], None)?;
    /// assert!((loss.item()? - 2f64.ln()).abs() < 1e-12);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn cross_entropy(self, targets: &[usize], class_weights: Option<&[T]>) -> Result<Self> {
        let z = self.id();
        let (value, row_weights, total) = self.tape().with_value(z, |logits| -> Result<_> {
            let (n, k) = logits.check_matrix("cross_entropy")?;
            if targets.len() != n {
                return Err(Error::shapes("cross_entropy", logits.shape(), &[targets.len()]));
            }
            if let Some(w) = class_weights.filter(|w| w.len() != k) {
                return Err(Error::invalid(
                    "cross_entropy",
                    format!("{} class weights for {k} classes", w.len()),
                ));
            }
            let (mut sum, mut total) = (T::zero(), T::zero());
            let mut row_weights = Vec::with_capacity(n);
            for (i, &y) in targets.iter().enumerate() {
                if y >= k {
                    return Err(Error::invalid(
                        "cross_entropy",
                        format!("target {y} at row {i} is not below {k} classes"),
                    ));
                }
                let w = class_weights.map_or(T::one(), |w| w[y]);
                let row = logits.row(i);
                sum += w * (logsumexp(row) - row[y]);
                total += w;
                row_weights.push(w);
            }
            Ok((Tensor::scalar(sum / total), row_weights, total))
        })?;
        let op = LossOp::CrossEntropy {
            z,
            targets: targets.to_vec(),
            row_weights,
            total,
        };
        Ok(self.tape().push(value, Op::Loss(op), &[z]))
    }

    /// Mean squared error between `self` and `target` (same shape).
    pub fn mse(self, target: Var<'t, T>) -> Result<Self> {
        let v = self.tape().with_values2(self.id(), target.id(), |p, t| {
            if p.shape() != t.shape() {
                return Err(Error::shapes("mse", p.shape(), t.shape()));
            }
            Ok(Tensor::scalar(p.sub(t)?.square().mean_all()))
        })?;
        let op = LossOp::Mse {
            p: self.id(),
            t: target.id(),
        };
        Ok(self.tape().push(v, Op::Loss(op), &[self.id(), target.id()]))
    }

    /// Mean binary cross-entropy of logits `self` against targets in [0, 1] (same shape).
    pub fn bce_with_logits(self, target: Var<'t, T>) -> Result<Self> {
        let v = self.tape().with_values2(self.id(), target.id(), |z, t| {
            if z.shape() != t.shape() {
                return Err(Error::shapes("bce_with_logits", z.shape(), t.shape()));
            }
            Ok(Tensor::scalar(
                z.zip_with(t, "bce_with_logits", |z, t| softplus(z) - t * z)?.mean_all(),
            ))
        })?;
        let op = LossOp::BceLogits {
            z: self.id(),
            t: target.id(),
        };
        Ok(self.tape().push(v, Op::Loss(op), &[self.id(), target.id()]))
    }
}

impl<T: Scalar> LossOp<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g.data()[0];
        let mut out = Vec::with_capacity(2);
        match self {
            LossOp::CrossEntropy {
                z,
                targets,
                row_weights,
                total,
            } => {
                if c.needs(*z) {
                    let mut d = c.x(*z).softmax(1)?;
                    let k = d.row_len();
                    for (i, (&y, &w)) in targets.iter().zip(row_weights).enumerate() {
                        let row = &mut d.data_mut()[i * k..(i + 1) * k];
                        row[y] -= T::one();
                        let s = g * w / *total;
                        row.iter_mut().for_each(|v| *v *= s);
                    }
                    out.push((*z, d));
                }
            }
            &LossOp::Mse { p, t } => {
                let (pv, tv) = (c.x(p), c.x(t));
                let s = g * T::of(2.0 / pv.len() as f64);
                let diff = pv.sub(tv)?.mul_scalar(s);
                if c.needs(t) {
                    out.push((t, diff.neg()));
                }
                if c.needs(p) {
                    out.push((p, diff));
                }
            }
            &LossOp::BceLogits { z, t } => {
                let (zv, tv) = (c.x(z), c.x(t));
                let s = g / T::of(zv.len() as f64);
                if c.needs(z) {
                    out.push((z, zv.zip_with(tv, "bce", |z, t| (sigmoid(z) - t) * s)?));
                }
                if c.needs(t) {
                    out.push((t, zv.mul_scalar(-s)));
                }
            }
        }
        Ok(out)
    }
}
