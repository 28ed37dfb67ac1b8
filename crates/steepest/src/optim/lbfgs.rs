//! L-BFGS with a strong-Wolfe line search: closure-based, full batch.

use super::line_search::strong_wolfe;
use super::{LineSearchOptimizer, Objective};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Limited-memory BFGS, after `torch.optim.LBFGS` (defaults: lr 1, max_iter 20,
/// max_eval 25, tolerance_grad 1e-7, tolerance_change 1e-9, history_size 100), but with the
/// strong-Wolfe line search on by default (`line_search: true`; PyTorch's default is none), so no
/// learning rate needs tuning: `lr` is only the first trial step.
///
/// Each iteration: d = -H g by the two-loop recursion over the stored pairs
/// (s_i = x_{i+1} - x_i, y_i = g_{i+1} - g_i) with H_0 = (s^T y / y^T y) I from the latest pair
/// (d = -g with no pairs); step length t by [`strong_wolfe`] (c1 1e-4, c2 0.9) from
/// t = lr (t = lr min(1, 1 / ||g||_1) on the very first iteration), at most 25 evaluations per
/// search; a pair is stored only when
/// y^T s > 1e-10. One [`LineSearchOptimizer::step`] runs up to `max_iter` iterations and stops
/// early when max |g| <= tolerance_grad, or max |t d| or the change in loss is below
/// tolerance_change, or `max_eval` evaluations were spent.
///
/// References: Liu and Nocedal (1989), "On the limited memory BFGS method for large scale
/// optimization"; Nocedal and Wright (2006), algorithm 7.4.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Lbfgs {
    /// First trial step (no line search: the step).
    pub lr: f64,
    /// Iterations per call of `step`.
    pub max_iter: usize,
    /// Function evaluations per call of `step` (default max_iter * 5 / 4).
    pub max_eval: Option<usize>,
    /// Stop when the largest gradient element is below this.
    pub tolerance_grad: f64,
    /// Stop when the step or the change in loss is below this.
    pub tolerance_change: f64,
    /// Number of (s, y) pairs kept.
    pub history_size: usize,
    /// Use the strong-Wolfe line search.
    pub line_search: bool,
    /// Curvature pairs and counters carried between steps (saved by `state`).
    #[serde(skip)]
    pub state: LbfgsState,
}

impl Default for Lbfgs {
    fn default() -> Self {
        Self {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search: true,
            state: LbfgsState::default(),
        }
    }
}

/// What L-BFGS carries between calls: the curvature pairs and counters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LbfgsState {
    s: VecDeque<Vec<f64>>,
    y: VecDeque<Vec<f64>>,
    n_iter: u64,
    func_evals: u64,
    /// Why the last step stopped short (the line search found no lower loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stalled: Option<String>,
}

/// Evaluations one line search may spend (PyTorch's `max_ls`); `max_eval` is checked between
/// iterations, as PyTorch does.
const MAX_LINE_SEARCH_EVALS: usize = 25;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

impl Lbfgs {
    /// The search direction -H g from the stored pairs (two-loop recursion).
    pub fn direction(&self, g: &[f64]) -> Vec<f64> {
        let st = &self.state;
        let mut q: Vec<f64> = g.iter().map(|v| -v).collect();
        let k = st.s.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            let rho = 1.0 / dot(&st.y[i], &st.s[i]);
            alpha[i] = rho * dot(&st.s[i], &q);
            q.iter_mut().zip(&st.y[i]).for_each(|(q, y)| *q -= alpha[i] * y);
        }
        if k > 0 {
            let gamma = dot(&st.s[k - 1], &st.y[k - 1]) / dot(&st.y[k - 1], &st.y[k - 1]);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y), a) in st.s.iter().zip(&st.y).zip(&alpha) {
            let beta = dot(y, &q) / dot(y, s);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - beta) * s);
        }
        q
    }

    /// Total iterations so far.
    pub fn iterations(&self) -> u64 {
        self.state.n_iter
    }

    /// Total function evaluations so far.
    pub fn evaluations(&self) -> u64 {
        self.state.func_evals
    }
}

/// Flattens `grads` in the order of `params`' names.
fn flat_grad<T: Scalar>(params: &ParamStore<T>, grads: &ParamStore<T>) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(params.num_elements());
    for (n, p) in params.iter() {
        let g = grads.require(n)?;
        if g.shape() != p.shape() {
            return Err(Error::shapes("lbfgs (gradient vs parameter)", g.shape(), p.shape()));
        }
        out.extend(g.data().iter().map(|v| v.as_f64()));
    }
    Ok(out)
}

/// Evaluates the closure at the flat point `x`, writing it into `scratch`.
pub(crate) fn eval_at<T: Scalar>(
    f: &mut Objective<'_, T>,
    scratch: &mut ParamStore<T>,
    x: &[f64],
) -> Result<(f64, Vec<f64>)> {
    let xt: Vec<T> = x.iter().map(|&v| T::of(v)).collect();
    scratch.unflatten_from(&xt)?;
    let (loss, grads) = f(scratch)?;
    Ok((loss, flat_grad(scratch, &grads)?))
}

impl<T: Scalar> LineSearchOptimizer<T> for Lbfgs {
    fn name(&self) -> &'static str {
        "lbfgs"
    }

    fn box_clone(&self) -> Box<dyn LineSearchOptimizer<T>> {
        Box::new(self.clone())
    }

    fn step(&mut self, params: &mut ParamStore<T>, f: &mut Objective<'_, T>) -> Result<f64> {
        let max_eval = self.max_eval.unwrap_or(self.max_iter * 5 / 4).max(1);
        let mut scratch = params.clone();
        let mut x: Vec<f64> = params.flatten().iter().map(|v| v.as_f64()).collect();
        let (mut loss, mut g) = eval_at(f, &mut scratch, &x)?;
        self.state.stalled = None;
        let mut evals = 1;
        self.state.func_evals += 1;
        if !loss.is_finite() {
            return Err(Error::Diverged(format!("lbfgs: loss is {loss} at the starting point")));
        }
        for _ in 0..self.max_iter {
            if max_abs(&g) <= self.tolerance_grad {
                break;
            }
            self.state.n_iter += 1;
            let d = self.direction(&g);
            let gtd = dot(&g, &d);
            if gtd > -self.tolerance_change {
                break;
            }
            let t0 = if self.state.n_iter == 1 {
                self.lr * (1.0 / g.iter().map(|v| v.abs()).sum::<f64>()).min(1.0)
            } else {
                self.lr
            };
            let (t, new_loss, new_g, used) = if self.line_search {
                let mut last: Option<(f64, Vec<f64>)> = None;
                let mut trial = |t: f64| -> Result<(f64, f64)> {
                    let xt: Vec<f64> = x.iter().zip(&d).map(|(x, d)| x + t * d).collect();
                    let (fl, gl) = eval_at(f, &mut scratch, &xt)?;
                    let dphi = dot(&gl, &d);
                    last = Some((t, gl));
                    Ok((fl, dphi))
                };
                let wp = strong_wolfe(&mut trial, loss, gtd, t0, 1e-4, 0.9, MAX_LINE_SEARCH_EVALS)?;
                if wp.t == 0.0 {
                    // No lower loss along a descent direction: the optimum to the precision of
                    // the arithmetic. Keep the point reached (PyTorch and SciPy stop here too).
                    self.state.stalled = Some(format!(
                        "lbfgs stopped: no lower loss along the search direction in {} evaluations \
                         (max |gradient| {:.3e}): the optimum to {} precision{}",
                        wp.evals,
                        max_abs(&g),
                        T::DTYPE,
                        if T::DTYPE == "f32" {
                            "; --dtype f64 goes further"
                        } else {
                            ""
                        }
                    ));
                    self.state.func_evals += wp.evals as u64;
                    break;
                }
                let g_new = match last {
                    Some((lt, gl)) if lt == wp.t => gl,
                    _ => {
                        let xt: Vec<f64> = x.iter().zip(&d).map(|(x, d)| x + wp.t * d).collect();
                        eval_at(f, &mut scratch, &xt)?.1
                    }
                };
                (wp.t, wp.f, g_new, wp.evals)
            } else {
                let xt: Vec<f64> = x.iter().zip(&d).map(|(x, d)| x + t0 * d).collect();
                let (fl, gl) = eval_at(f, &mut scratch, &xt)?;
                (t0, fl, gl, 1)
            };
            evals += used;
            self.state.func_evals += used as u64;
            let s: Vec<f64> = d.iter().map(|v| t * v).collect();
            let y: Vec<f64> = new_g.iter().zip(&g).map(|(a, b)| a - b).collect();
            if dot(&y, &s) > 1e-10 {
                if self.state.s.len() == self.history_size {
                    self.state.s.pop_front();
                    self.state.y.pop_front();
                }
                self.state.s.push_back(s.clone());
                self.state.y.push_back(y);
            }
            x.iter_mut().zip(&s).for_each(|(x, s)| *x += s);
            let change = (new_loss - loss).abs();
            loss = new_loss;
            g = new_g;
            if evals >= max_eval || max_abs(&s) <= self.tolerance_change || change < self.tolerance_change {
                break;
            }
        }
        let xt: Vec<T> = x.iter().map(|&v| T::of(v)).collect();
        params.unflatten_from(&xt)?;
        Ok(loss)
    }

    fn state(&self) -> Result<serde_json::Value> {
        serde_json::to_value(&self.state).map_err(|e| Error::format("lbfgs state", e.to_string()))
    }

    fn stop_reason(&self) -> Option<String> {
        self.state.stalled.clone()
    }

    fn load_state(&mut self, state: &serde_json::Value, params: &ParamStore<T>) -> Result<()> {
        let st: LbfgsState =
            serde_json::from_value(state.clone()).map_err(|e| Error::format("lbfgs state", e.to_string()))?;
        let n = params.num_elements();
        if let Some(bad) = st.s.iter().chain(&st.y).find(|v| v.len() != n) {
            return Err(Error::format(
                "lbfgs state",
                format!("history vectors have {} elements, the parameters {n}", bad.len()),
            ));
        }
        self.state = st;
        Ok(())
    }
}
