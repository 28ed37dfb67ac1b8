//! Newton's method with a backtracking line search: the exact solver of smooth convex models
//! small enough for their Hessian (linear and logistic regression), as statsmodels' `OLS` and
//! `Logit` (Newton / IRLS) fit them, to the optimum in f64.
//!
//! Step: solve H p = -g (through the symmetric eigendecomposition of H, directions with an
//! eigenvalue below 1e-15 of the largest left out, as a pseudo-inverse), then t = 1, 1/2, ...
//! until f(theta + t p) <= f(theta) + 1e-4 t g.p (Armijo). Stops when the step is below
//! `tolerance` (1 + max |theta|), when the decrement -g.p / 2 is below 1e-30 (1 + |f|), or
//! after `max_iter` steps.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Newton's method (see the module docs).
///
/// ```
/// use steepest::optim::{newton_minimize, Newton};
/// // f(x, y) = (x - 1)^2 + 10 (y + 2)^2 + x^4: one Newton run finds the minimum.
/// let f = |t: &[f64]| {
///     let (x, y) = (t[0], t[1]);
///     let v = (x - 1.0).powi(2) + 10.0 * (y + 2.0).powi(2) + x.powi(4);
///     let g = vec![2.0 * (x - 1.0) + 4.0 * x.powi(3), 20.0 * (y + 2.0)];
///     let h = vec![2.0 + 12.0 * x * x, 0.0, 0.0, 20.0];
///     Ok((v, g, h))
/// };
/// let mut theta = vec![0.0, 0.0];
/// let steps = newton_minimize(&Newton::default(), &mut theta, f)?;
/// assert!((2.0 * (theta[0] - 1.0) + 4.0 * theta[0].powi(3)).abs() < 1e-12);
/// assert!((theta[1] + 2.0).abs() < 1e-12 && steps.len() < 20);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Newton {
    /// Most Newton steps (default 100).
    pub max_iter: usize,
    /// Stop when every coordinate of a step is below tolerance (1 + max |theta|) (default 1e-12).
    pub tolerance: f64,
}

impl Default for Newton {
    fn default() -> Self {
        Newton {
            max_iter: 100,
            tolerance: 1e-12,
        }
    }
}

/// One Newton step: the objective before it, its gradient's largest entry, the step length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonStep {
    /// f at the start of the step.
    pub value: f64,
    /// max |g| at the start of the step.
    pub grad_max: f64,
    /// The line search's t.
    pub t: f64,
}

impl Newton {
    /// Checks the settings.
    pub fn check(&self) -> Result<()> {
        if self.max_iter == 0 || !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(Error::invalid(
                "newton",
                "max_iter must be at least 1 and tolerance a finite number >= 0",
            ));
        }
        Ok(())
    }
}

/// Solves `h p = -g` for symmetric positive semi-definite `h` (row-major, n x n) as a
/// pseudo-inverse: eigen-directions with an eigenvalue below 1e-15 of the largest are left out.
pub fn newton_direction(h: &[f64], g: &[f64]) -> Vec<f64> {
    let n = g.len();
    let eig = DMatrix::from_row_slice(n, n, h).symmetric_eigen();
    let top = eig.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gv = DVector::from_column_slice(g);
    let proj = eig.eigenvectors.transpose() * gv;
    let scaled = DVector::from_iterator(
        n,
        proj.iter()
            .zip(eig.eigenvalues.iter())
            .map(|(p, &l)| if l > 1e-15 * top { -p / l } else { 0.0 }),
    );
    (eig.eigenvectors * scaled).iter().copied().collect()
}

/// Minimizes `f` from `theta` (updated in place) by Newton's method; `f` returns the value,
/// the gradient and the row-major Hessian. Returns one record per step taken.
pub fn newton_minimize(
    opts: &Newton,
    theta: &mut [f64],
    mut f: impl FnMut(&[f64]) -> Result<(f64, Vec<f64>, Vec<f64>)>,
) -> Result<Vec<NewtonStep>> {
    opts.check()?;
    let mut steps = Vec::new();
    let (mut value, mut g, mut h) = f(theta)?;
    for _ in 0..opts.max_iter {
        if !value.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(Error::Diverged(format!("newton: the objective is {value} at a step")));
        }
        let p = newton_direction(&h, &g);
        let slope: f64 = g.iter().zip(&p).map(|(a, b)| a * b).sum();
        let grad_max = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if -slope / 2.0 <= 1e-30 * (1.0 + value.abs()) {
            break;
        }
        let mut t = 1.0;
        let mut next = None;
        for _ in 0..60 {
            let trial: Vec<f64> = theta.iter().zip(&p).map(|(a, b)| a + t * b).collect();
            let (v, g2, h2) = f(&trial)?;
            if v.is_finite() && v <= value + 1e-4 * t * slope {
                next = Some((trial, v, g2, h2));
                break;
            }
            t *= 0.5;
        }
        steps.push(NewtonStep { value, grad_max, t });
        // No decrease along the Newton direction: the optimum to machine precision.
        let Some((trial, v, g2, h2)) = next else { break };
        let scale = 1.0 + theta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let moved = trial
            .iter()
            .zip(theta.iter())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        theta.copy_from_slice(&trial);
        (value, g, h) = (v, g2, h2);
        if moved <= opts.tolerance * scale {
            break;
        }
    }
    Ok(steps)
}
