//! The value, gradient and Hessian of a one-output linear model's objective, for Newton's
//! method and for the covariance of its estimates:
//!
//! f(w, b) = (1/n) sum_i c_i l(x_i.w + b, y_i) + alpha/2 ||w||^2
//!
//! with the squared loss l = (z - y)^2 / 2 (regression) or the log loss l = ln(1 + e^(-s z)),
//! s = +-1 (binary classification), and c_i the row's class weight. The parameters are ordered
//! (w_1, ..., w_d, b); the Hessian is row-major (d + 1) x (d + 1).

use super::core::RowTargets;
use super::loss::LinearLoss;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};

/// Per-row loss, its first and second derivative in z, at decision value `z`.
fn pointwise(loss: LinearLoss, z: f64, y: f64) -> (f64, f64, f64) {
    match loss {
        LinearLoss::Squared => ((z - y).powi(2) / 2.0, z - y, 1.0),
        _ => {
            // Log loss, y in {-1, +1}: p = sigmoid(z), derivative p - (y + 1) / 2, second p (1 - p).
            let m = -y * z;
            let e = (-m.abs()).exp();
            let l = m.max(0.0) + e.ln_1p();
            let ez = (-z.abs()).exp();
            let p = if z >= 0.0 { 1.0 / (1.0 + ez) } else { ez / (1.0 + ez) };
            (l, p - (y + 1.0) / 2.0, p * (1.0 - p))
        }
    }
}

/// Whether [`value_grad_hessian`] covers `loss`.
pub fn has_hessian(loss: LinearLoss) -> bool {
    matches!(loss, LinearLoss::Squared | LinearLoss::Log)
}

/// f, its gradient and its Hessian at `theta` = (w, b) (see the module docs), over the rows of
/// dense `x` `[n, d]` with targets `y` (values, or classes 0/1), per-class weights and L2
/// strength `alpha`.
pub fn value_grad_hessian<T: Scalar>(
    x: &Tensor<T>,
    y: RowTargets<'_>,
    class_weights: Option<&[f64]>,
    loss: LinearLoss,
    alpha: f64,
    theta: &[f64],
) -> Result<(f64, Vec<f64>, Vec<f64>)> {
    if !has_hessian(loss) {
        return Err(Error::invalid(
            "newton",
            "needs the squared loss (linear regression) or the log loss (logistic regression)",
        ));
    }
    let (n, d) = (x.rows_count(), x.row_len());
    if theta.len() != d + 1 || y.len() != n {
        return Err(Error::invalid(
            "newton",
            format!(
                "{} parameters and {} targets for {n} rows of {d} features",
                theta.len(),
                y.len()
            ),
        ));
    }
    let k = d + 1;
    let (mut value, mut g, mut h) = (0.0, vec![0.0; k], vec![0.0; k * k]);
    let mut row = vec![0.0; k];
    for i in 0..n {
        for (r, v) in row.iter_mut().zip(x.row(i)) {
            *r = v.as_f64();
        }
        row[d] = 1.0;
        let z: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
        let (target, c) = match y {
            RowTargets::Real(v) => (v[i], 1.0),
            RowTargets::Class(l) => (
                if l[i] == 1 { 1.0 } else { -1.0 },
                class_weights.map_or(1.0, |w| w[l[i]]),
            ),
        };
        let (l, dl, d2) = pointwise(loss, z, target);
        value += c * l;
        let (a, b) = (c * dl, c * d2);
        for j in 0..k {
            g[j] += a * row[j];
            let s = b * row[j];
            if s != 0.0 {
                // Upper triangle; mirrored below.
                for (hj, r) in h[j * k + j..(j + 1) * k].iter_mut().zip(&row[j..]) {
                    *hj += s * r;
                }
            }
        }
    }
    let inv = 1.0 / n.max(1) as f64;
    value *= inv;
    g.iter_mut().for_each(|v| *v *= inv);
    for j in 0..k {
        for l in j..k {
            h[j * k + l] *= inv;
            h[l * k + j] = h[j * k + l];
        }
    }
    for j in 0..d {
        value += alpha / 2.0 * theta[j] * theta[j];
        g[j] += alpha * theta[j];
        h[j * k + j] += alpha;
    }
    Ok((value, g, h))
}
