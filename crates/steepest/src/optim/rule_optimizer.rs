//! The generic optimizer: a per-parameter update rule, parameter groups, and state by name.

use super::{norm_then_step, Optimizer, PartUpdate, StepArgs};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::elementwise::{split_pays, sum_of_squares};
use crate::tensor::{Scalar, Tensor};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a rule needs to know about the step it is taking, beyond the parameter itself.
#[derive(Clone, Copy, Debug)]
pub struct StepCtx {
    /// 1-based number of this step for this parameter (PyTorch's `state["step"]`).
    pub step: u64,
    /// Learning rate for this parameter's group.
    pub lr: f64,
    /// Weight decay for this parameter's group.
    pub weight_decay: f64,
    /// The loss at the current parameters, when the caller gave it.
    pub loss: Option<f64>,
    /// Euclidean norm of all gradients together (NaN unless the rule's
    /// [`UpdateRule::needs_grad_norm`] says it reads it).
    pub grad_norm: f64,
}

/// One update rule applied to each parameter separately.
pub trait UpdateRule<T: Scalar>: Clone + Send + Sync + Serialize + 'static {
    /// This rule's buffers for one parameter (lazily filled on its first step).
    type State: Default + Clone + Send + Serialize + DeserializeOwned;
    /// Short name (`"adam"`).
    fn name(&self) -> &'static str;
    /// The learning rate hyper-parameter.
    fn lr(&self) -> f64;
    /// Sets the learning rate.
    fn set_lr(&mut self, lr: f64);
    /// The weight-decay hyper-parameter.
    fn weight_decay(&self) -> f64;
    /// Sets the coefficient one-cycle schedules cycle, if the rule has one.
    fn set_momentum(&mut self, _momentum: f64) {}
    /// Rejects hyper-parameters outside their valid range.
    fn validate(&self) -> Result<()>;
    /// Updates `p` in place from `g` (same length, parameter of `shape`).
    fn update(&self, c: &StepCtx, shape: &[usize], p: &mut [T], g: &[T], s: &mut Self::State) -> Result<()>;
    /// Whether [`StepCtx::grad_norm`] is read (computing it costs a pass over the gradients).
    fn needs_grad_norm(&self) -> bool {
        false
    }
    /// The evaluation point, for rules whose iterate is not it (schedule-free).
    fn eval_point(&self, _p: &[T], _s: &Self::State) -> Option<Vec<T>> {
        None
    }
    /// For element-wise rules: this step's update of a parameter of `len` elements as a
    /// [`PartUpdate`], the state's buffers created on the first step as `update` would. A rule
    /// that returns `Some` does so for every parameter and step; the default, `None`, sends
    /// every step through `update`.
    fn part_update<'s>(&self, _c: &StepCtx, _len: usize, _s: &'s mut Self::State) -> Option<PartUpdate<'s, T>> {
        None
    }
}

/// A predicate on a parameter's `(name, shape)`.
type Matcher = std::sync::Arc<dyn Fn(&str, &[usize]) -> bool + Send + Sync>;

/// Parameters picked by a predicate on `(name, shape)`, with their own learning-rate factor and
/// weight decay. The first group that matches a parameter wins; others use the rule's values.
#[derive(Clone)]
pub struct ParamGroup {
    /// A label for messages.
    pub label: String,
    matcher: Matcher,
    /// Multiplies the base learning rate.
    pub lr_factor: f64,
    /// Replaces the rule's weight decay when set.
    pub weight_decay: Option<f64>,
}

impl ParamGroup {
    /// A group of the parameters for which `matcher(name, shape)` holds.
    pub fn new(label: impl Into<String>, matcher: impl Fn(&str, &[usize]) -> bool + Send + Sync + 'static) -> Self {
        Self {
            label: label.into(),
            matcher: std::sync::Arc::new(matcher),
            lr_factor: 1.0,
            weight_decay: None,
        }
    }

    /// Sets the learning-rate factor.
    pub fn lr_factor(mut self, f: f64) -> Self {
        self.lr_factor = f;
        self
    }

    /// Sets the weight decay.
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = Some(wd);
        self
    }

    /// The common case: biases and every other parameter with fewer than two dimensions get no
    /// weight decay.
    pub fn no_decay_on_biases_and_1d() -> Self {
        Self::new("no_decay", |name, shape| shape.len() < 2 || name.ends_with("bias")).weight_decay(0.0)
    }

    fn matches(&self, name: &str, shape: &[usize]) -> bool {
        (self.matcher)(name, shape)
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Record<S> {
    shape: Vec<usize>,
    step: u64,
    state: S,
}

/// An [`Optimizer`] from an [`UpdateRule`]: keeps one state record per parameter name.
#[derive(Clone)]
pub struct RuleOptimizer<T: Scalar, R: UpdateRule<T>> {
    rule: R,
    groups: Vec<ParamGroup>,
    records: BTreeMap<String, Record<R::State>>,
}

impl<T: Scalar, R: UpdateRule<T>> RuleOptimizer<T, R> {
    /// Validates the rule's hyper-parameters and wraps it.
    pub fn new(rule: R) -> Result<Self> {
        rule.validate()?;
        Ok(Self {
            rule,
            groups: Vec::new(),
            records: BTreeMap::new(),
        })
    }

    /// Adds a parameter group (checked in the order added).
    pub fn with_group(mut self, group: ParamGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// The rule.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// Number of steps taken for parameter `name`.
    pub fn steps_of(&self, name: &str) -> u64 {
        self.records.get(name).map_or(0, |r| r.step)
    }
}

fn shape_error(name: &str, state: &[usize], param: &[usize]) -> Error {
    Error::format(
        "optimizer state",
        format!("state for '{name}' has shape {state:?} but the parameter has shape {param:?}"),
    )
}

impl<T: Scalar, R: UpdateRule<T>> RuleOptimizer<T, R> {
    /// Checks the record of `name` against the parameter's shape, creating it on its first step.
    fn ensure_record(&mut self, name: &str, shape: &[usize]) -> Result<()> {
        // Look up before inserting: no key allocation on the steps after the first.
        match self.records.get(name) {
            Some(rec) if rec.shape != shape => Err(shape_error(name, &rec.shape, shape)),
            Some(_) => Ok(()),
            None => {
                let fresh = Record {
                    shape: shape.to_vec(),
                    step: 0,
                    state: R::State::default(),
                };
                self.records.insert(name.to_string(), fresh);
                Ok(())
            }
        }
    }

    /// This step's context for parameter `name` of `shape`, given its record's step count.
    fn ctx(&self, name: &str, shape: &[usize], step: u64, args: &StepArgs, grad_norm: f64) -> StepCtx {
        let group = self.groups.iter().find(|gr| gr.matches(name, shape));
        StepCtx {
            step: step + 1,
            lr: args.lr * group.map_or(1.0, |gr| gr.lr_factor),
            weight_decay: group.and_then(|gr| gr.weight_decay).unwrap_or(self.rule.weight_decay()),
            loss: args.loss,
            grad_norm,
        }
    }

    /// The rule with a cycled momentum, for a step whose `args` carry one (it applies to this
    /// step only; the rule keeps its configured value).
    fn cycled(&self, args: &StepArgs) -> Option<R> {
        args.momentum.map(|m| {
            let mut r = self.rule.clone();
            r.set_momentum(m);
            r
        })
    }

    /// The update of every parameter that has a gradient, side by side, at the rate and
    /// momentum of `args`; with `with_norm`, the sum of squares of each gradient (in parameter
    /// order) too.
    fn sweep(
        &mut self,
        params: &mut ParamStore<T>,
        grads: &ParamStore<T>,
        args: &StepArgs,
        with_norm: bool,
    ) -> Result<Vec<f64>> {
        let grad_norm = if self.rule.needs_grad_norm() {
            grads.global_norm()
        } else {
            f64::NAN
        };
        // Check every pair and create missing records first, so that the updates below can run
        // side by side (all parameters in one parallel sweep when they are large).
        for (name, p) in params.iter() {
            let Some(g) = grads.get(name) else { continue };
            if g.shape() != p.shape() {
                return Err(Error::shapes(
                    "optimizer step (gradient vs parameter)",
                    g.shape(),
                    p.shape(),
                ));
            }
            self.ensure_record(name, p.shape())?;
        }
        // The contexts first (they read the groups), then each parameter takes its own record.
        let ctxs: Vec<StepCtx> = params
            .iter()
            .filter(|(name, _)| grads.get(name).is_some())
            .map(|(name, p)| {
                let step = self.records.get(name).map_or(0, |r| r.step);
                self.ctx(name, p.shape(), step, args, grad_norm)
            })
            .collect();
        let cycled = self.cycled(args);
        let mut records = records_by_name(&mut self.records);
        let mut work = Vec::new();
        let mut total = 0;
        let with_grads = params
            .iter_mut()
            .filter_map(|(name, p)| Some((name, p, grads.get(name)?)));
        for ((name, p, g), ctx) in with_grads.zip(ctxs) {
            let rec = records.take(name)?;
            total += p.len();
            work.push((ctx, p, g.data(), rec));
        }
        let rule = cycled.as_ref().unwrap_or(&self.rule);
        let update = |(ctx, p, g, rec): (StepCtx, &mut Tensor<T>, &[T], &mut Record<R::State>)| -> Result<f64> {
            // The gradient's sum of squares just before the update reads it again.
            let squares = if with_norm { sum_of_squares(g) } else { 0.0 };
            let (shape, data) = p.shape_and_data_mut();
            rule.update(&ctx, shape, data, g, &mut rec.state)?;
            rec.step += 1;
            Ok(squares)
        };
        if split_pays(total) && work.len() > 1 {
            use rayon::prelude::*;
            work.into_par_iter().map(update).collect()
        } else {
            work.into_iter().map(update).collect()
        }
    }
}

/// The records of an optimizer, each taken at most once by name (the names are distinct, so
/// several parameters' records are borrowed mutably at once).
struct RecordsByName<'r, S> {
    names: Vec<&'r String>,
    records: Vec<Option<&'r mut Record<S>>>,
}

fn records_by_name<S>(records: &mut BTreeMap<String, Record<S>>) -> RecordsByName<'_, S> {
    let (names, records) = records.iter_mut().map(|(k, r)| (k, Some(r))).unzip();
    RecordsByName { names, records }
}

impl<'r, S> RecordsByName<'r, S> {
    fn take(&mut self, name: &str) -> Result<&'r mut Record<S>> {
        self.names
            .binary_search_by(|k| k.as_str().cmp(name))
            .ok()
            .and_then(|at| self.records[at].take())
            .ok_or_else(|| Error::invalid("optimizer step", format!("no state for '{name}'")))
    }
}

impl<T: Scalar, R: UpdateRule<T>> Optimizer<T> for RuleOptimizer<T, R> {
    fn name(&self) -> &'static str {
        self.rule.name()
    }

    fn step_at(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, args: &StepArgs) -> Result<()> {
        self.sweep(params, grads, args, false).map(|_| ())
    }

    fn step_at_and_norm(&mut self, params: &mut ParamStore<T>, grads: &ParamStore<T>, args: &StepArgs) -> Result<f64> {
        // In the update's sweep when every gradient has a parameter, in the same order (then the
        // per-tensor sums add up in global_norm's order); otherwise as the default does.
        let same_order = grads.len() == params.len() && grads.iter().zip(params.iter()).all(|((a, _), (b, _))| a == b);
        if self.rule.needs_grad_norm() || !same_order {
            return norm_then_step(self, params, grads, args);
        }
        let sums = self.sweep(params, grads, args, true)?;
        Ok(sums.iter().sum::<f64>().sqrt())
    }

    fn part_updates<'s>(
        &'s mut self,
        params: &ParamStore<T>,
        args: &StepArgs,
    ) -> Result<Option<Vec<PartUpdate<'s, T>>>> {
        let cycled = self.cycled(args);
        if self.rule.needs_grad_norm() {
            return Ok(None);
        }
        for (name, p) in params.iter() {
            self.ensure_record(name, p.shape())?;
        }
        let ctxs: Vec<StepCtx> = params
            .iter()
            .map(|(name, p)| {
                let step = self.records.get(name).map_or(0, |r| r.step);
                self.ctx(name, p.shape(), step, args, f64::NAN)
            })
            .collect();
        let rule = cycled.as_ref().unwrap_or(&self.rule);
        let mut records = records_by_name(&mut self.records);
        let mut parts = Vec::with_capacity(ctxs.len());
        for ((name, p), ctx) in params.iter().zip(ctxs) {
            let rec = records.take(name)?;
            // A rule without part updates answers None for the first parameter, having changed
            // nothing: the step goes through `step_at` instead.
            let Some(part) = rule.part_update(&ctx, p.len(), &mut rec.state) else {
                if parts.is_empty() {
                    return Ok(None);
                }
                return Err(Error::invalid(
                    "optimizer step",
                    format!("'{}' left out '{name}'", rule.name()),
                ));
            };
            rec.step += 1;
            parts.push(part);
        }
        Ok(Some(parts))
    }

    fn box_clone(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }

    fn lr(&self) -> f64 {
        self.rule.lr()
    }

    fn set_lr(&mut self, lr: f64) {
        self.rule.set_lr(lr);
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.rule.set_momentum(momentum);
    }

    fn hyperparameters(&self) -> serde_json::Value {
        serde_json::to_value(&self.rule).unwrap_or(serde_json::Value::Null)
    }

    fn state(&self) -> Result<serde_json::Value> {
        let params =
            serde_json::to_value(&self.records).map_err(|e| Error::format("optimizer state", e.to_string()))?;
        Ok(serde_json::json!({
            "optimizer": self.rule.name(),
            "dtype": T::DTYPE,
            "hyperparameters": self.hyperparameters(),
            "params": params,
        }))
    }

    fn load_state(&mut self, state: &serde_json::Value, params: &ParamStore<T>) -> Result<()> {
        let what = "optimizer state";
        let name = state.get("optimizer").and_then(|v| v.as_str()).unwrap_or("?");
        if name != self.rule.name() {
            return Err(Error::format(
                what,
                format!("saved by '{name}', loading into '{}'", self.rule.name()),
            ));
        }
        let dtype = state.get("dtype").and_then(|v| v.as_str()).unwrap_or("?");
        if dtype != T::DTYPE {
            return Err(Error::format(
                what,
                format!("saved as {dtype}, loading as {}", T::DTYPE),
            ));
        }
        let recs: BTreeMap<String, Record<R::State>> = state
            .get("params")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| Error::format(what, e.to_string()))?
            .ok_or_else(|| Error::format(what, "no 'params' entry"))?;
        for (n, r) in &recs {
            if let Some(p) = params.get(n) {
                if p.shape() != r.shape.as_slice() {
                    return Err(shape_error(n, &r.shape, p.shape()));
                }
            }
        }
        self.records = recs;
        Ok(())
    }

    fn eval_params(&self, params: &ParamStore<T>) -> ParamStore<T> {
        let mut out = params.clone();
        for (name, p) in out.iter_mut() {
            if let Some(rec) = self.records.get(name) {
                if let Some(x) = self.rule.eval_point(p.data(), &rec.state) {
                    p.data_mut().copy_from_slice(&x);
                }
            }
        }
        out
    }
}
