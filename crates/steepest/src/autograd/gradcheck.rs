//! Gradient checking: autodiff against central finite differences, in f64.
//!
//! numeric_j = (f(x + h e_j) - f(x - h e_j)) / (2h), whose error is O(h^2) (about 1e-10 for the
//! default h = 1e-5 on smooth functions). The relative error of element j is
//! |analytic_j - numeric_j| / max(|analytic_j|, |numeric_j|, 1e-3): relative for gradients of a
//! reasonable size, and absolute below 1e-3, where round-off in the difference quotient would
//! otherwise dominate a gradient that is zero analytically.

use super::{Tape, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The outcome of [`check_gradients`]: the worst element over all inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Largest relative error (see the module docs).
    pub max_rel_error: f64,
    /// Largest absolute error.
    pub max_abs_error: f64,
    /// Input holding the element with the largest relative error.
    pub input: usize,
    /// Flat index of that element within its input.
    pub element: usize,
    /// Autodiff's derivative there.
    pub analytic: f64,
    /// The finite-difference derivative there.
    pub numeric: f64,
}

/// Compares the gradient of the scalar `f(inputs)` computed by [`Tape::backward`] with central
/// finite differences of step `h` (use `1e-5` unless the function calls for another).
///
/// ```
/// use steepest::autograd::check_gradients;
/// use steepest::Tensor;
/// let x = Tensor::from_vec(vec![0.3, -1.2, 2.0]);
/// let report = check_gradients(|_, v| Ok(v[0].tanh().mul(v[0])?.sum_all()), &[x], 1e-5)?;
/// assert!(report.max_rel_error < 1e-6, "{report:?}");
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn check_gradients<F>(f: F, inputs: &[Tensor<f64>], h: f64) -> Result<GradCheck>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
{
    if !(h > 0.0 && h.is_finite()) {
        return Err(Error::invalid("check_gradients", format!("step {h} must be positive")));
    }
    let tape = Tape::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|t| tape.param(t.clone())).collect();
    let loss = f(&tape, &vars)?;
    let grads = tape.backward(loss)?;

    let eval = |xs: &[Tensor<f64>]| -> Result<f64> {
        let t = Tape::inference();
        let vs: Vec<Var<'_, f64>> = xs.iter().map(|x| t.param(x.clone())).collect();
        f(&t, &vs)?.item()
    };
    let mut report = GradCheck {
        max_rel_error: 0.0,
        max_abs_error: 0.0,
        input: 0,
        element: 0,
        analytic: 0.0,
        numeric: 0.0,
    };
    let mut xs = inputs.to_vec();
    for (i, var) in vars.iter().enumerate() {
        let analytic = grads.wrt(*var)?;
        for j in 0..xs[i].len() {
            let x0 = xs[i].data()[j];
            xs[i].data_mut()[j] = x0 + h;
            let up = eval(&xs)?;
            xs[i].data_mut()[j] = x0 - h;
            let down = eval(&xs)?;
            xs[i].data_mut()[j] = x0;
            let numeric = (up - down) / (2.0 * h);
            let a = analytic.data()[j];
            let abs = (a - numeric).abs();
            let rel = abs / a.abs().max(numeric.abs()).max(1e-3);
            report.max_abs_error = report.max_abs_error.max(abs);
            if rel > report.max_rel_error || rel.is_nan() {
                report = GradCheck {
                    max_rel_error: rel,
                    input: i,
                    element: j,
                    analytic: a,
                    numeric,
                    ..report
                };
            }
        }
    }
    Ok(report)
}
