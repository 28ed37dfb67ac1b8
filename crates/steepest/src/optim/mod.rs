//! Optimizers: the update step of gradient descent and everything around it.
//!
//! * [`Optimizer`]: the object-safe interface the training loop drives. [`RuleOptimizer`] gives
//!   one to any per-parameter [`UpdateRule`] (SGD, Adam, ...; one rule per file under `rules/`)
//!   and adds parameter groups, a step count and saved state **by parameter name**.
//! * Closure-based, full-batch methods: [`Lbfgs`] (strong-Wolfe line search) and
//!   [`ArmijoGd`] (backtracking line search), [`Newton`] (the exact solver of linear and
//!   logistic regression).
//! * [`schedule`]: resumable, composable learning-rate schedules.
//! * Around the step: [`clip_grad_norm`], [`clip_grad_value`], [`GradAccumulator`],
//!   [`Averager`] (Polyak-Ruppert and EMA).
//! * Learning-rate sensitivity: [`lr_range_test`]. Local minima: [`multi_start`] and the classic
//!   surfaces of [`test_functions`].
//!
//! Hyper-parameter names and defaults follow `torch.optim`; each rule's doc comment states its
//! formula, its reference and any deviation.
//!
//! ```
//! use steepest::nn::ParamStore;
//! use steepest::optim::{rules::Sgd, Optimizer, RuleOptimizer};
//! use steepest::Tensor;
//! let mut params = ParamStore::<f64>::new();
//! params.insert("w", Tensor::from_vec(vec![1.0, -2.0]));
//! let mut grads = ParamStore::new();
//! grads.insert("w", Tensor::from_vec(vec![0.5, 0.5]));
//! let mut opt = RuleOptimizer::new(Sgd { lr: 0.1, ..Sgd::default() })?;
//! opt.step(&mut params, &grads)?;
//! assert_eq!(params.get("w").unwrap().data(), &[0.95, -2.05]);
//! # Ok::<(), steepest::Error>(())
//! ```

mod accumulate;
mod armijo;
mod averaging;
mod clip;
mod invariant;
mod lbfgs;
mod line_search;
mod lr_finder;
mod multistart;
mod newton;
mod part_update;
mod rule_optimizer;
pub mod rules;
pub mod schedule;
mod spec;
pub mod test_functions;

pub use accumulate::GradAccumulator;
pub use armijo::ArmijoGd;
pub use averaging::{Averager, Averaging};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use invariant::Invariant;
pub use lbfgs::{Lbfgs, LbfgsState};
pub use line_search::{strong_wolfe, WolfePoint};
pub use lr_finder::{lr_range_test, LrFinderConfig, LrFinderResult};
pub use multistart::{multi_start, MultiStartResult};
pub use newton::{newton_direction, newton_minimize, Newton, NewtonStep};
pub use part_update::{ApplyFn, PartUpdate};
pub use rule_optimizer::{ParamGroup, RuleOptimizer, StepCtx, UpdateRule};
pub use spec::{BuiltOptimizer, OptimizerSpec, ScheduleSpec, OPTIMIZER_NAMES, SCHEDULE_NAMES};

use crate::error::Result;
use crate::nn::ParamStore;
use crate::tensor::Scalar;

/// What the training loop hands an optimizer for one step: the learning rate its schedule gives
/// now (already scaled by the divergence guard), the momentum of a schedule that cycles it
/// (one-cycle), and the loss at the current parameters (the Polyak step reads it). The rule's
/// own hyper-parameters are left as configured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepArgs {
    /// Learning rate of this step (a parameter group's factor still applies).
    pub lr: f64,
    /// Momentum-like coefficient of this step (SGD's `momentum`, Adam's `beta1`), if a
    /// schedule sets one.
    pub momentum: Option<f64>,
    /// The loss at the current parameters, when known.
    pub loss: Option<f64>,
}

/// A gradient-descent optimizer driven one step at a time with precomputed gradients.
pub trait Optimizer<T: Scalar>: Send {
    /// Short name, as written in configs (`"sgd"`, `"adam"`, ...).
    fn name(&self) -> &'static str;

    /// One update of `params` against `grads` (matched by name; a parameter without a gradient
    /// is left alone) at the rate and momentum of `args`.
    fn step_at(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, args: &StepArgs) -> Result<()>;

    /// [`Optimizer::step_at`], returning the Euclidean norm of all of `grads` as
    /// [`ParamStore::global_norm`] computes it (the same bits). The default computes the norm
    /// first and does not step when it is not finite; an optimizer may instead compute it in
    /// the same sweep as the update (one pass over the gradients fewer) and step regardless, so
    /// a caller that finds a non-finite norm must restore the parameters and the state (the
    /// training loop does: it goes back to its last snapshot).
    fn step_at_and_norm(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, args: &StepArgs) -> Result<f64> {
        norm_then_step(self, params, grads, args)
    }

    /// One update at the configured learning rate; `loss` is the current loss, which some rules
    /// (the Polyak step size) need.
    fn step_with_loss(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, loss: Option<f64>) -> Result<()> {
        let args = StepArgs {
            lr: self.lr(),
            momentum: None,
            loss,
        };
        self.step_at(params, grads, &args)
    }

    /// [`Optimizer::step_with_loss`], returning the gradients' norm as
    /// [`Optimizer::step_at_and_norm`] does.
    fn step_and_norm(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, loss: Option<f64>) -> Result<f64> {
        let args = StepArgs {
            lr: self.lr(),
            momentum: None,
            loss,
        };
        self.step_at_and_norm(params, grads, &args)
    }

    /// One update without a loss value.
    fn step(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>) -> Result<()> {
        self.step_with_loss(params, grads, None)
    }

    /// A copy with the same hyper-parameters, groups and state (the divergence guard's
    /// snapshot: restoring it is a copy, not a round trip through JSON).
    fn box_clone(&self) -> Box<dyn Optimizer<T>>;

    /// The configured learning rate (the base a schedule starts from).
    fn lr(&self) -> f64;

    /// Sets the configured learning rate.
    fn set_lr(&mut self, lr: f64);

    /// Sets the momentum-like coefficient that one-cycle schedules cycle (SGD's `momentum`,
    /// Adam's `beta1`), where the rule has one.
    fn set_momentum(&mut self, _momentum: f64) {}

    /// Hyper-parameters as JSON (PyTorch names).
    fn hyperparameters(&self) -> serde_json::Value;

    /// The full state (per-parameter buffers and step counts, by parameter name) as JSON.
    fn state(&self) -> Result<serde_json::Value>;

    /// Restores a state saved by [`Optimizer::state`]. Entries for parameters that `params` does
    /// not hold are kept (they may return); an entry whose shape differs from the parameter of
    /// that name is an error.
    fn load_state(&mut self, state: &serde_json::Value, params: &ParamStore<T>) -> Result<()>;

    /// This step's update of each of `params` (in their order) as a [`PartUpdate`], for a
    /// model that applies the updates itself, range by range, as its gradient comes out; the
    /// step counts as taken. `None` (the default, and for rules that are not element-wise or
    /// need the gradients' norm): the model computes its gradients whole and the loop calls
    /// [`Optimizer::step_at`].
    fn part_updates<'s>(
        &'s mut self,
        _params: &ParamStore<T>,
        _args: &StepArgs,
    ) -> Result<Option<Vec<PartUpdate<'s, T>>>> {
        Ok(None)
    }

    /// The parameters to evaluate or predict with. The same as `params` for every rule but the
    /// schedule-free ones, whose gradient is taken at a point other than their iterate.
    fn eval_params(&self, params: &ParamStore<T>) -> ParamStore<T> {
        params.clone()
    }
}

/// The closure a [`LineSearchOptimizer`] evaluates: the loss and the gradients at the given
/// parameters.
pub type Objective<'a, T> = dyn FnMut(&ParamStore<T>) -> Result<(f64, ParamStore<T>)> + 'a;

/// A full-batch optimizer that evaluates the loss itself, through a closure returning the loss
/// and gradients at given parameters (L-BFGS, Armijo line-search gradient descent).
pub trait LineSearchOptimizer<T: Scalar>: Send {
    /// Short name.
    fn name(&self) -> &'static str;

    /// One step (L-BFGS: up to `max_iter` iterations); returns the loss at the new parameters.
    fn step(&mut self, params: &mut ParamStore<T>, f: &mut Objective<'_, T>) -> Result<f64>;

    /// The state carried between steps, as JSON.
    fn state(&self) -> Result<serde_json::Value>;

    /// Restores a state saved by [`LineSearchOptimizer::state`], checked against `params`.
    fn load_state(&mut self, state: &serde_json::Value, params: &ParamStore<T>) -> Result<()>;

    /// Why the last step ended training (no further decrease is possible), if it did.
    fn stop_reason(&self) -> Option<String> {
        None
    }

    /// A copy with the same settings and state (the divergence guard's snapshot).
    fn box_clone(&self) -> Box<dyn LineSearchOptimizer<T>>;
}

/// [`Optimizer::step_at_and_norm`] in two passes: the norm, then the step only when it is
/// finite.
pub(crate) fn norm_then_step<T: Scalar, O: Optimizer<T> + ?Sized>(
    opt: &mut O,
    params: &mut ParamStore<T>,
    grads: &ParamStore<T>,
    args: &StepArgs,
) -> Result<f64> {
    let norm = grads.global_norm();
    if norm.is_finite() {
        opt.step_at(params, grads, args)?;
    }
    Ok(norm)
}
