//! The shared machinery of every linear model: decision values and the mean loss with its
//! gradient over a set of rows.

use super::loss::{LinearLoss, Target};
use super::penalty::Penalty;
use crate::data::Features;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{Scalar, Tensor};

/// Targets as a linear loss reads them (borrowed from a dataset).
#[derive(Clone, Copy, Debug)]
pub enum RowTargets<'a> {
    /// Real values (regression).
    Real(&'a [f64]),
    /// Class indices (binary with one output: class 1 is the positive class).
    Class(&'a [usize]),
}

impl RowTargets<'_> {
    /// Weight of row `i` for per-class weights `cw` (1 without).
    fn weight(&self, i: usize, cw: Option<&[f64]>) -> f64 {
        match (self, cw) {
            (RowTargets::Class(c), Some(w)) => w[c[i]],
            _ => 1.0,
        }
    }

    fn get(&self, i: usize) -> Target {
        match self {
            RowTargets::Real(v) => Target::Real(v[i]),
            RowTargets::Class(c) => Target::Class(c[i]),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            RowTargets::Real(v) => v.len(),
            RowTargets::Class(c) => c.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Weights `W` (`[features, outputs]`, named `"weight"`) and intercepts `b` (`[outputs]`, named
/// `"bias"`) of a linear model, and the computations on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearCore {
    /// Number of input features.
    pub inputs: usize,
    /// Number of outputs (1 for regression and binary classification).
    pub outputs: usize,
}

/// Whether `rows` is exactly 0..n.
fn is_all(rows: &[usize], n: usize) -> bool {
    rows.len() == n && rows.iter().enumerate().all(|(i, &r)| i == r)
}

impl LinearCore {
    /// Zero-initialized parameters for `inputs` features and `outputs` outputs.
    pub fn init<T: Scalar>(&self) -> ParamStore<T> {
        let mut p = ParamStore::new();
        p.insert("weight", Tensor::zeros(&[self.inputs, self.outputs]));
        p.insert("bias", Tensor::zeros(&[self.outputs]));
        p
    }

    /// Decision values Z = X W + b for `rows` of `x` (all rows when `None`): `[rows, outputs]`.
    pub fn decision<T: Scalar>(&self, p: &ParamStore<T>, x: &Features<T>, rows: Option<&[usize]>) -> Result<Tensor<T>> {
        let (w, b) = (p.require("weight")?, p.require("bias")?);
        if x.cols() != self.inputs {
            return Err(Error::invalid(
                "linear model",
                format!("trained on {} features, given {}", self.inputs, x.cols()),
            ));
        }
        let mut z = match x {
            Features::Dense(t) => match rows {
                Some(r) if !is_all(r, t.rows_count()) => t.gather_rows(r)?.matmul(w)?,
                _ => t.matmul(w)?,
            },
            Features::Sparse(s) => {
                let all: Vec<usize>;
                let rows = match rows {
                    Some(r) => r,
                    None => {
                        all = (0..s.shape().0).collect();
                        &all
                    }
                };
                let k = self.outputs;
                let mut out = vec![T::zero(); rows.len() * k];
                for (o, &r) in out.chunks_mut(k).zip(rows) {
                    let (idx, val) = s.row(r);
                    for (&j, &v) in idx.iter().zip(val) {
                        let wrow = w.row(j as usize);
                        o.iter_mut().zip(wrow).for_each(|(o, &wj)| *o += v * wj);
                    }
                }
                Tensor::new(out, &[rows.len(), k])?
            }
        };
        let k = self.outputs;
        for row in z.data_mut().chunks_mut(k) {
            row.iter_mut().zip(b.data()).for_each(|(z, &b)| *z += b);
        }
        Ok(z)
    }

    /// The objective (1/n) sum s_i L(z_i, y_i) + alpha R(W) over `rows` and the gradient of its
    /// smooth part (the L1 part is left to the proximal step). s_i is the weight of row i's
    /// class in `class_weights` (1 without).
    #[allow(clippy::too_many_arguments)]
    pub fn loss_grad<T: Scalar>(
        &self,
        p: &ParamStore<T>,
        x: &Features<T>,
        y: RowTargets<'_>,
        class_weights: Option<&[f64]>,
        rows: &[usize],
        loss: LinearLoss,
        penalty: Penalty,
    ) -> Result<(f64, ParamStore<T>)> {
        let z = self.decision(p, x, Some(rows))?;
        let k = self.outputs;
        let n = rows.len().max(1) as f64;
        let mut dz = vec![T::zero(); rows.len() * k];
        let (mut zrow, mut drow) = (vec![0.0; k], vec![0.0; k]);
        let mut total = 0.0;
        for (i, &r) in rows.iter().enumerate() {
            zrow.iter_mut().zip(z.row(i)).for_each(|(a, b)| *a = b.as_f64());
            let s = y.weight(r, class_weights);
            total += s * loss.eval(&zrow, y.get(r), &mut drow);
            dz[i * k..(i + 1) * k]
                .iter_mut()
                .zip(&drow)
                .for_each(|(d, g)| *d = T::of(s * g / n));
        }
        let dz = Tensor::new(dz, &[rows.len(), k])?;
        let w = p.require("weight")?;
        let gw = match x {
            Features::Dense(t) => {
                if is_all(rows, t.rows_count()) {
                    t.matmul_t(&dz, true, false)?
                } else {
                    t.gather_rows(rows)?.matmul_t(&dz, true, false)?
                }
            }
            Features::Sparse(s) => {
                let mut g = vec![T::zero(); self.inputs * k];
                for (i, &r) in rows.iter().enumerate() {
                    let (idx, val) = s.row(r);
                    let d = dz.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        g[j as usize * k..(j as usize + 1) * k]
                            .iter_mut()
                            .zip(d)
                            .for_each(|(g, &d)| *g += v * d);
                    }
                }
                Tensor::new(g, &[self.inputs, k])?
            }
        };
        let mut gw = gw;
        penalty.add_smooth_grad(w.data(), gw.data_mut());
        let gb = dz.sum_axis(0, false)?;
        let mut g = ParamStore::new();
        g.insert("weight", gw);
        g.insert("bias", gb);
        Ok((total / n + penalty.value(w.data()), g))
    }
}
