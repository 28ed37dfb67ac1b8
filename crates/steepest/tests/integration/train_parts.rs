//! The training loop's parts, each alone: the divergence guard and its snapshots, early
//! stopping, the state a run carries and its checkpoint file, and the schedule's rate handed to
//! each step without rewriting the optimizer.

use std::sync::atomic::{AtomicUsize, Ordering};
use steepest::data::{BatchSize, Dataset, Features, Targets};
use steepest::nn::ParamStore;
use steepest::optim::rules::Sgd;
use steepest::optim::schedule::{Schedule, Step, Stepped};
use steepest::optim::{BuiltOptimizer, Optimizer, OptimizerSpec, RuleOptimizer, StepArgs};
use steepest::tensor::{Rng, Tensor};
use steepest::train::*;

/// Loss w^2 / 2 per row (gradient w), except that call number `poison` (1-based) of the
/// gradient returns a NaN loss.
struct Quadratic {
    params: ParamStore<f64>,
    calls: AtomicUsize,
    poison: usize,
}

impl Quadratic {
    fn new(w: f64, poison: usize) -> Self {
        let mut params = ParamStore::new();
        params.insert("w", Tensor::scalar(w));
        Self {
            params,
            calls: AtomicUsize::new(0),
            poison,
        }
    }
    fn w(&self) -> f64 {
        self.params.get("w").unwrap().item().unwrap()
    }
}

impl Trainable<f64> for Quadratic {
    fn params(&self) -> &ParamStore<f64> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut ParamStore<f64> {
        &mut self.params
    }
    fn loss_grad_at(
        &self,
        params: &ParamStore<f64>,
        _: &Dataset<f64>,
        _: &[usize],
        _: &mut Rng,
    ) -> steepest::Result<(f64, ParamStore<f64>)> {
        let w = params.get("w").unwrap().item().unwrap();
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let loss = if call == self.poison { f64::NAN } else { 0.5 * w * w };
        let mut g = ParamStore::new();
        g.insert("w", Tensor::scalar(w));
        Ok((loss, g))
    }
    fn eval_loss(&self, _: &Dataset<f64>) -> steepest::Result<f64> {
        Ok(0.5 * self.w() * self.w())
    }
    fn eval_metric(&self, _: &Dataset<f64>) -> steepest::Result<Option<metrics::MetricParts>> {
        Ok(None)
    }
}

fn rows(n: usize) -> Dataset<f64> {
    Dataset::new(
        Features::Dense(Tensor::zeros(&[n, 1])),
        Targets::Values(vec![0.0; n]),
        vec![],
    )
    .unwrap()
}

fn sgd(lr: f64) -> BuiltOptimizer<f64> {
    OptimizerSpec::Sgd(Sgd { lr, ..Sgd::default() }).build().unwrap()
}

struct Msgs(Vec<String>);
impl Observer for Msgs {
    fn on_message(&mut self, m: &str) {
        self.0.push(m.to_string());
    }
}

#[test]
fn the_guard_goes_back_to_the_start_of_the_epoch_without_a_checkpoint_folder() {
    // 4 steps per epoch; the 10th gradient (epoch 3, its second step) is NaN.
    let mut m = Quadratic::new(1.0, 10);
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: BatchSize::Rows(1),
        shuffle: false,
        ..TrainConfig::default()
    };
    let mut msgs = Msgs(vec![]);
    let h = fit(
        &mut m,
        &rows(4),
        None,
        &mut sgd(0.1),
        None,
        &cfg,
        None,
        &mut [&mut msgs],
    )
    .unwrap();
    assert_eq!(msgs.0.len(), 1, "{:?}", msgs.0);
    assert!(msgs.0[0].contains("restored the parameters of step 8"), "{}", msgs.0[0]);
    assert!(
        msgs.0[0].contains("halved the learning rate to 5.000e-2"),
        "{}",
        msgs.0[0]
    );
    // Closed form: 8 steps at 0.1, then 8 at 0.05 (the failed step's update was undone).
    let want = 0.9f64.powi(8) * 0.95f64.powi(8);
    assert!((m.w() - want).abs() < 1e-15, "{} vs {want}", m.w());
    assert_eq!(h.len(), 4);
    assert_eq!(h[3].lr, 0.05);
}

fn snapshot(step: u64, w: f64) -> Snapshot<f64> {
    let mut state = TrainState::new(0, 1);
    state.step = step;
    let mut params = ParamStore::new();
    params.insert("w", Tensor::scalar(w));
    Snapshot {
        state,
        params,
        buffers: None,
        optimizer: sgd(0.1),
        schedule: None,
    }
}

#[test]
fn the_guard_steps_further_back_when_a_snapshot_fails_twice_or_at_once() {
    let mut g = DivergenceGuard::new(snapshot(0, 1.0), 5);
    g.keep(snapshot(8, 2.0));
    // A failure later in the epoch: back to the current snapshot, the rate halved.
    let back = g.recover("x", 11, 0, 1.0, 0.1).unwrap();
    assert_eq!((back.state.step, back.state.retries, back.state.lr_scale), (8, 1, 0.5));
    // Failing again from it: that snapshot is bad, back to the one before.
    let back = g.recover("x", 10, 1, 0.5, 0.05).unwrap();
    assert_eq!((back.state.step, back.state.retries, back.state.lr_scale), (0, 2, 0.25));
    // A failure on the first step after a fresh snapshot goes back too.
    let mut g = DivergenceGuard::new(snapshot(0, 1.0), 5);
    g.keep(snapshot(8, 2.0));
    assert_eq!(g.recover("x", 8, 0, 1.0, 0.1).unwrap().state.step, 0);
    // Recoveries run out with an error naming the count.
    let mut g = DivergenceGuard::new(snapshot(0, 1.0), 2);
    let e = g.recover("loss NaN", 3, 2, 0.25, 0.1).unwrap_err().to_string();
    assert!(
        e.contains("loss NaN") && e.contains("gave up after 2 recoveries"),
        "{e}"
    );
}

#[test]
fn diverged_steps_are_non_finite_or_exploded_against_the_first_epoch() {
    let first = EpochRecord {
        epoch: 1,
        train_loss: 2.0,
        val_loss: None,
        val_metric: None,
        lr: 0.1,
        grad_norm: 1.0,
        seconds: 0.0,
    };
    let h = vec![first];
    assert!(diverged_step(1.9e4, 1.0, &h, Some(1e4)).is_none());
    assert!(diverged_step(2.1e4, 1.0, &h, Some(1e4)).unwrap().contains("more than"));
    assert!(diverged_step(2.1e4, 1.0, &h, None).is_none());
    assert!(diverged_step(1.0, f64::NAN, &h, None).is_some());
}

#[test]
fn early_stopping_keeps_the_best_epochs_parameters_only_when_asked() {
    let mut p = ParamStore::<f64>::new();
    p.insert("w", Tensor::scalar(1.0));
    let rule = EarlyStopping {
        patience: 0,
        min_delta: 0.1,
        restore_best: true,
    };
    let mut es = EarlyStopState::default();
    assert!(!es.observe(&rule, 1.0, &p));
    p.insert("w", Tensor::scalar(2.0));
    // 0.95 is not below 1.0 - 0.1: no improvement, and patience 0 stops.
    assert!(es.observe(&rule, 0.95, &p));
    let best = es.take_best(Some(&rule)).unwrap();
    assert_eq!(best.get("w").unwrap().item().unwrap(), 1.0);
    let mut es = EarlyStopState::default();
    es.observe(&rule, 1.0, &p);
    let no_restore = EarlyStopping {
        restore_best: false,
        ..rule
    };
    assert!(es.take_best(Some(&no_restore)).is_none());
}

#[test]
fn a_checkpoint_file_of_the_earlier_layout_loads_and_keeps_its_layout() {
    // A file as the loop wrote it before its state became its own type (an SGD run's state cut
    // short).
    let text = r#"{"version":1,"epoch":2,"batch":3,"step":11,"sums":[1.5,3,0.25,3],
        "params":[["w",{"shape":[],"data":[0.5]}]],"buffers":[],
        "optimizer":{"dtype":"f64","hyperparameters":{"lr":0.01},"optimizer":"sgd","params":{}},"schedule":null,
        "rng":{"s":[716632666546416052,6139096880363046005,6727192872932819891,8129731167615341197]},"lr_scale":0.5,"retries":1,
        "history":[{"epoch":1,"train_loss":2.0,"val_loss":null,"val_metric":null,"lr":0.1,"grad_norm":null,"seconds":0.1}],
        "best":1.25,"bad_epochs":1,"best_params":null}"#;
    let ck = Checkpoint::<f64>::from_bytes(text.as_bytes(), std::path::Path::new("ck")).unwrap();
    let st = &ck.state;
    assert_eq!((st.epoch, st.batch, st.step, st.retries, st.ranks), (2, 3, 11, 1, 1));
    assert_eq!((st.sums.rows, st.sums.mean_loss()), (3, 0.5));
    assert_eq!((st.early.best, st.early.bad_epochs), (Some(1.25), 1));
    assert!(st.history[0].grad_norm.is_nan());
    assert_eq!(ck.params.get("w").unwrap().item().unwrap(), 0.5);
    // Written again, it has the same keys at the top level.
    let v: serde_json::Value = serde_json::to_value(&ck).unwrap();
    for k in [
        "epoch",
        "batch",
        "step",
        "sums",
        "rng",
        "lr_scale",
        "history",
        "best",
        "bad_epochs",
        "ranks",
    ] {
        assert!(v.get(k).is_some(), "{k} missing from {v}");
    }
    assert_eq!(v["sums"], serde_json::json!([1.5, 3, 0.25, 3]));
}

#[test]
fn the_schedule_hands_its_rate_to_each_step_and_the_rule_keeps_its_own() {
    // Step decay: 0.1 for 2 steps, then 0.05; w' = w (1 - lr) under loss w^2 / 2.
    let mut m = Quadratic::new(1.0, 0);
    let cfg = TrainConfig {
        epochs: 2,
        batch_size: BatchSize::Rows(1),
        shuffle: false,
        schedule_per: SchedulePer::Step,
        ..TrainConfig::default()
    };
    let mut sched = Stepped::new(Step {
        lr: 0.1,
        step_size: 2,
        gamma: 0.5,
    });
    let mut opt = sgd(0.1);
    let h = fit(
        &mut m,
        &rows(2),
        None,
        &mut opt,
        Some(&mut sched as &mut dyn Schedule),
        &cfg,
        None,
        &mut [],
    )
    .unwrap();
    let want = 0.9f64.powi(2) * 0.95 * 0.95;
    assert!((m.w() - want).abs() < 1e-15, "{} vs {want}", m.w());
    assert_eq!(h[1].lr, 0.025);
    let BuiltOptimizer::Step(o) = &opt else { panic!() };
    assert_eq!(o.lr(), 0.1, "the optimizer's configured rate is untouched");

    // The same through StepArgs by hand, with a momentum given for that step only.
    let mut o = RuleOptimizer::new(Sgd {
        lr: 0.1,
        momentum: 0.0,
        ..Sgd::default()
    })
    .unwrap();
    let mut p = ParamStore::<f64>::new();
    p.insert("w", Tensor::scalar(1.0));
    let mut g = ParamStore::new();
    g.insert("w", Tensor::scalar(1.0));
    let args = StepArgs {
        lr: 0.5,
        momentum: Some(0.9),
        loss: None,
    };
    o.step_at(&mut p, &g, &args).unwrap();
    o.step_at(&mut p, &g, &args).unwrap();
    // Buffer b1 = 1, b2 = 0.9 + 1: w = 1 - 0.5 - 0.95.
    assert!((p.get("w").unwrap().item().unwrap() - (1.0 - 0.5 - 0.95)).abs() < 1e-15);
    assert_eq!(o.rule().momentum, 0.0);
}
