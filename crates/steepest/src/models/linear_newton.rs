//! Fitting a linear or logistic regression by Newton's method ([`Newton`]): the exact optimum
//! of the objective (mean loss plus L2 penalty on the scaled features), with one history record
//! per Newton step.

use super::linear::{row_targets, LinearTrainer};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::linear::{has_hessian, value_grad_hessian, Penalty};
use crate::optim::{newton_minimize, Newton};
use crate::tensor::{Scalar, Tensor};
use crate::train::{EpochRecord, History, Observer, Trainable};
use std::time::Instant;

/// Runs Newton's method on `trainer` over `train` (scaled features), reporting each step to
/// `observers` as an epoch.
pub(super) fn fit_newton<T: Scalar>(
    trainer: &mut LinearTrainer<T>,
    train: &Dataset<T>,
    val: Option<&Dataset<T>>,
    newton: &Newton,
    observers: &mut [&mut dyn Observer],
) -> Result<History> {
    let alpha = match trainer.penalty {
        Penalty::None => 0.0,
        Penalty::L2 { alpha } => alpha,
        _ => {
            return Err(Error::invalid(
                "newton",
                "needs a smooth objective: no penalty or l2 (use lbfgs or sgd for l1)",
            ))
        }
    };
    if trainer.core.outputs != 1 || !has_hessian(trainer.loss) {
        return Err(Error::invalid(
            "newton",
            "solves linear regression (squared loss) and binary logistic regression; \
             use lbfgs for other models",
        ));
    }
    let x = train.features.dense("newton")?;
    let d = x.row_len();
    let y = row_targets(&train.targets);
    let cw = trainer.class_weights.clone();
    let mut theta: Vec<f64> = trainer
        .params
        .require("weight")?
        .data()
        .iter()
        .map(|v| v.as_f64())
        .collect();
    theta.push(trainer.params.require("bias")?.data()[0].as_f64());
    for o in observers.iter_mut() {
        o.on_start(newton.max_iter, 1);
    }
    let t0 = Instant::now();
    let steps = newton_minimize(newton, &mut theta, |t| {
        value_grad_hessian(x, y, cw.as_deref(), trainer.loss, alpha, t)
    })?;
    trainer.params.insert(
        "weight",
        Tensor::new(theta[..d].iter().map(|&v| T::of(v)).collect(), &[d, 1])?,
    );
    trainer.params.insert("bias", Tensor::new(vec![T::of(theta[d])], &[1])?);
    let mut history = History::new();
    let seconds = t0.elapsed().as_secs_f64() / steps.len().max(1) as f64;
    let (final_value, _, _) = value_grad_hessian(x, y, cw.as_deref(), trainer.loss, alpha, &theta)?;
    let (val_loss, val_metric) = match val {
        Some(v) => (
            Some(trainer.eval_loss(v)?),
            trainer.eval_metric(v)?.map(|m| (m.name().to_string(), m.value())),
        ),
        None => (None, None),
    };
    for (i, s) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let r = EpochRecord {
            epoch: i + 1,
            // The objective after the step: the next step's start, or the final value.
            train_loss: steps.get(i + 1).map_or(final_value, |n| n.value),
            val_loss: val_loss.filter(|_| last),
            val_metric: val_metric.clone().filter(|_| last),
            lr: s.t,
            grad_norm: s.grad_max,
            seconds,
        };
        for o in observers.iter_mut() {
            o.on_epoch(&r);
        }
        history.push(r);
    }
    for o in observers.iter_mut() {
        o.on_end();
    }
    Ok(history)
}
