//! Gradient descent with Armijo backtracking line search.

use super::{LineSearchOptimizer, Objective};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Gradient descent whose step length is found by backtracking (defaults: lr 1, beta 0.5,
/// c 1e-4, max_backtracks 50). Not in `torch.optim`; full batch, closure-based.
///
/// Each step: t = lr, then t <- beta t until f(p - t g) <= f(p) - c t ||g||^2 (the Armijo
/// sufficient-decrease condition); p <- p - t g. `lr` is only the first trial, so no learning
/// rate needs tuning.
///
/// Reference: Armijo (1966), "Minimization of functions having Lipschitz continuous first
/// partial derivatives", Pacific J. Math. 16; Nocedal and Wright (2006), algorithm 3.1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ArmijoGd {
    /// First trial step length.
    pub lr: f64,
    /// Shrink factor in (0, 1).
    pub beta: f64,
    /// Sufficient-decrease constant in (0, 1).
    pub c: f64,
    /// Most halvings before giving up.
    pub max_backtracks: usize,
    /// The step accepted last (for reporting).
    #[serde(skip)]
    pub last_step: f64,
}

impl Default for ArmijoGd {
    fn default() -> Self {
        Self {
            lr: 1.0,
            beta: 0.5,
            c: 1e-4,
            max_backtracks: 50,
            last_step: 0.0,
        }
    }
}

impl<T: Scalar> LineSearchOptimizer<T> for ArmijoGd {
    fn name(&self) -> &'static str {
        "armijo"
    }

    fn box_clone(&self) -> Box<dyn LineSearchOptimizer<T>> {
        Box::new(self.clone())
    }

    fn step(&mut self, params: &mut ParamStore<T>, f: &mut Objective<'_, T>) -> Result<f64> {
        if !(self.beta > 0.0 && self.beta < 1.0 && self.c > 0.0 && self.c < 1.0 && self.lr > 0.0) {
            return Err(Error::invalid("armijo", "needs lr > 0 and beta, c in (0, 1)"));
        }
        let (f0, grads) = f(params)?;
        let g2: f64 = grads.global_norm().powi(2);
        if g2 == 0.0 {
            return Ok(f0);
        }
        let mut trial = params.clone();
        let mut t = self.lr;
        for _ in 0..=self.max_backtracks {
            for (n, p) in trial.iter_mut() {
                let (p0, g) = (params.require(n)?, grads.require(n)?);
                let tt = T::of(t);
                p.data_mut()
                    .iter_mut()
                    .zip(p0.data().iter().zip(g.data()))
                    .for_each(|(p, (&a, &g))| *p = a - tt * g);
            }
            let (ft, _) = f(&trial)?;
            if ft.is_finite() && ft <= f0 - self.c * t * g2 {
                *params = trial;
                self.last_step = t;
                return Ok(ft);
            }
            t *= self.beta;
        }
        Err(Error::Diverged(format!(
            "armijo: no sufficient decrease after {} backtracks",
            self.max_backtracks
        )))
    }

    fn state(&self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({}))
    }

    fn load_state(&mut self, _state: &serde_json::Value, _params: &ParamStore<T>) -> Result<()> {
        Ok(())
    }
}
