//! What the loop needs of a model: parameters by name, and a loss with its gradient on a batch.

use super::metrics::MetricParts;
use crate::data::Dataset;
use crate::error::Result;
use crate::nn::ParamStore;
use crate::optim::{Optimizer, StepArgs};
use crate::tensor::{Rng, Scalar};

/// A model the loop can train: parameters by name, and a loss with its gradient on a batch.
/// `Send`, because with several threads the loop runs on a thread of rayon's pool.
pub trait Trainable<T: Scalar>: Send {
    /// The parameters.
    fn params(&self) -> &ParamStore<T>;
    /// The parameters, mutably.
    fn params_mut(&mut self) -> &mut ParamStore<T>;
    /// Mean loss over `rows` of `data` (penalty included) and its gradient at `params` (of the
    /// same names and shapes as the model's), in training mode (`rng` drives dropout and other
    /// stochastic layers).
    fn loss_grad_at(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
    ) -> Result<(f64, ParamStore<T>)>;
    /// [`Trainable::loss_grad_at`] the model's own parameters.
    fn loss_grad(&self, data: &Dataset<T>, rows: &[usize], rng: &mut Rng) -> Result<(f64, ParamStore<T>)> {
        self.loss_grad_at(self.params(), data, rows, rng)
    }
    /// [`Trainable::loss_grad`] with the gradient written into `grads`, a buffer the loop keeps
    /// across steps (models with a fused path override this to avoid allocating).
    fn loss_grad_into(
        &self,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
        grads: &mut ParamStore<T>,
    ) -> Result<f64> {
        loss_grad_replacing(self, data, rows, rng, grads)
    }
    /// One step with the optimizer's update fused into the gradient's computation (each part
    /// of the parameters stepped as soon as its gradient is known), for models with such a
    /// path when `opt` offers [`Optimizer::part_updates`]: the batch's mean loss (penalty
    /// included) and the gradient's Euclidean norm, the parameters stepped. `None` (the
    /// default) when it does not apply; then nothing has changed, and the loop computes the
    /// gradient and steps apart.
    fn loss_grad_step(
        &mut self,
        _data: &Dataset<T>,
        _rows: &[usize],
        _rng: &mut Rng,
        _opt: &mut dyn Optimizer<T>,
        _args: &StepArgs,
    ) -> Result<Option<(f64, f64)>> {
        Ok(None)
    }
    /// Told before each step but an epoch's last: the rows of the training data the step after
    /// it will read. A hint a model may use to bring them into the cache while the coming step
    /// computes (the MLP's fused kernel does); the default ignores it.
    fn read_ahead(&mut self, _rows: &[usize]) {}
    /// Mean loss over all rows of `data` in evaluation mode.
    fn eval_loss(&self, data: &Dataset<T>) -> Result<f64>;
    /// The validation metric (accuracy, R^2; higher is better) as sums over the rows of `data`,
    /// so that shards of data-parallel training add up.
    fn eval_metric(&self, data: &Dataset<T>) -> Result<Option<MetricParts>>;
    /// Runs after every optimizer step with its learning rate (the proximal L1 step, the
    /// running statistics of batch norm).
    fn after_step(&mut self, _lr: f64) {}
    /// Tensors saved with the model but not trained (running statistics); they travel in
    /// checkpoints and roll back with the parameters.
    fn buffers(&self) -> Option<&ParamStore<T>> {
        None
    }
    /// Replaces the buffers (from a checkpoint or a snapshot).
    fn set_buffers(&mut self, _buffers: ParamStore<T>) {}
}

/// [`Trainable::loss_grad`] with its gradient moved into `grads` (the default of
/// [`Trainable::loss_grad_into`], and the fallback of models whose fused path does not apply).
pub fn loss_grad_replacing<T: Scalar, M: Trainable<T> + ?Sized>(
    model: &M,
    data: &Dataset<T>,
    rows: &[usize],
    rng: &mut Rng,
    grads: &mut ParamStore<T>,
) -> Result<f64> {
    let (loss, g) = model.loss_grad(data, rows, rng)?;
    *grads = g;
    Ok(loss)
}
