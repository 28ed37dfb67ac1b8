//! The estimators' per-example fast path gives the general loop's steps: the same settings fitted
//! both ways (the general loop forced with `fast_path: false`) end at the same weights, f64.

use steepest::data::{BatchSize, Dataset, Features, ScalerKind, Targets};
use steepest::linear::{LinearLoss, Penalty};
use steepest::models::{FittedLinear, LinearKind, LinearParams, Multiclass};
use steepest::optim::rules::{Adagrad, Sgd};
use steepest::optim::{OptimizerSpec, ScheduleSpec};
use steepest::tensor::{rng, CsrMatrix, Tensor};
use steepest::train::SchedulePer;

/// `n` rows of `d` features (a third of them zero), with `k` classes from a random linear rule
/// (`k` = 0: real targets).
fn data(n: usize, d: usize, k: usize, sparse: bool) -> Dataset<f64> {
    let mut r = rng(7);
    let x = Tensor::<f64>::randn(&[n, d], 0.0, 1.0, &mut r);
    let outputs = if k > 2 { k } else { 1 };
    let w = Tensor::<f64>::randn(&[d, outputs], 0.0, 1.0, &mut r);
    let mut v = x.data().to_vec();
    v.iter_mut()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .for_each(|(_, x)| *x = 0.0);
    let x = Tensor::new(v, &[n, d]).unwrap();
    let z = x.matmul(&w).unwrap();
    let targets = match k {
        0 => Targets::Values(z.data().to_vec()),
        2 => Targets::Classes {
            labels: z.data().iter().map(|&v| usize::from(v > 0.2)).collect(),
            names: vec!["a".into(), "b".into()],
        },
        k => Targets::Classes {
            labels: z.argmax_axis(1).unwrap(),
            names: (0..k).map(|c| c.to_string()).collect(),
        },
    };
    let features = match sparse {
        true => Features::Sparse(CsrMatrix::from_dense(&x).unwrap()),
        false => Features::Dense(x),
    };
    Dataset::new(features, targets, Vec::new()).unwrap()
}

fn weights(m: &FittedLinear<f64>) -> Vec<f64> {
    let (w, b) = m.coefficients().unwrap();
    w.concat().into_iter().chain(b).collect()
}

/// Fits `p` (batch 1, 3 epochs, shuffled) both ways and compares the weights.
fn same_both_ways(mut p: LinearParams, data: &Dataset<f64>, what: &str) {
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = 3;
    p.fit.scaler = ScalerKind::None;
    let fast = p.clone().check().unwrap();
    assert!(
        fast.fast_path().is_ok(),
        "{what}: expected the fast path: {:?}",
        fast.fast_path()
    );
    p.fit.fast_path = false;
    let general = p.check().unwrap();
    let (a, b) = (fast.fit(data).unwrap(), general.fit(data).unwrap());
    let (wa, wb) = (weights(&a), weights(&b));
    let scale = wb.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    let worst = wa.iter().zip(&wb).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-9 * scale, "{what}: off by {worst:e} (scale {scale})");
    assert!(scale > 1e-2, "{what}: the weights did not move");
    assert_eq!(a.history.len(), b.history.len());
}

fn sgd(lr: f64) -> OptimizerSpec {
    OptimizerSpec::Sgd(Sgd {
        lr,
        momentum: 0.0,
        ..Sgd::default()
    })
}

#[test]
fn plain_sgd_with_l2_equals_the_general_loop_dense_and_sparse() {
    for sparse in [false, true] {
        let mut p = LinearParams::logistic_regression().penalty(Penalty::L2 { alpha: 0.01 });
        p.fit.optimizer = sgd(0.05);
        same_both_ways(p, &data(200, 13, 2, sparse), &format!("logistic l2 sparse={sparse}"));
    }
}

#[test]
fn adagrad_equals_the_general_loop() {
    let mut p = LinearParams::logistic_regression();
    p.fit.optimizer = OptimizerSpec::Adagrad(Adagrad {
        lr: 0.2,
        ..Adagrad::default()
    });
    same_both_ways(p, &data(200, 13, 2, true), "logistic adagrad");
}

#[test]
fn one_vs_rest_svm_and_least_squares_equal_the_general_loop() {
    let mut p = LinearParams::linear_svm();
    p.kind = LinearKind::Svm {
        loss: LinearLoss::Hinge,
        multiclass: Multiclass::OneVsRest,
    };
    p.penalty = Penalty::L2 { alpha: 1e-3 };
    p.fit.optimizer = sgd(0.02);
    same_both_ways(p, &data(150, 9, 3, true), "svm ovr, 3 classes");
    let mut p = LinearParams::ridge(0.01);
    p.fit.optimizer = sgd(0.01);
    same_both_ways(p, &data(150, 9, 0, false), "ridge");
}

#[test]
fn schedules_per_epoch_and_the_optimal_rate_per_example_equal_the_general_loop() {
    let mut p = LinearParams::logistic_regression().penalty(Penalty::L2 { alpha: 0.01 });
    p.fit.optimizer = sgd(0.1);
    p.fit.schedule = Some(ScheduleSpec::Exponential { gamma: 0.5 });
    same_both_ways(p, &data(120, 11, 2, true), "exponential per epoch");
    let mut p = LinearParams::logistic_regression().penalty(Penalty::L2 { alpha: 0.01 });
    p.fit.optimizer = sgd(1.0);
    p.fit.schedule = Some(ScheduleSpec::Optimal { alpha: 0.01 });
    p.fit.train.schedule_per = SchedulePer::Step;
    same_both_ways(p, &data(120, 11, 2, true), "optimal per example");
}

#[test]
fn softmax_regression_per_example_equals_the_general_loop() {
    for (k, sparse) in [(3, true), (4, false), (2, true)] {
        let mut p = LinearParams::softmax_regression();
        p.fit.optimizer = OptimizerSpec::Adagrad(Adagrad {
            lr: 0.3,
            ..Adagrad::default()
        });
        same_both_ways(p, &data(150, 9, k, sparse), &format!("softmax adagrad, {k} classes"));
        let mut p = LinearParams::softmax_regression().penalty(Penalty::L2 { alpha: 0.02 });
        p.fit.optimizer = sgd(0.05);
        same_both_ways(p, &data(150, 9, k, sparse), &format!("softmax sgd l2, {k} classes"));
    }
    let mut p = LinearParams::softmax_regression().penalty(Penalty::L2 { alpha: 0.01 });
    p.fit.optimizer = sgd(1.0);
    p.fit.schedule = Some(ScheduleSpec::Optimal { alpha: 0.01 });
    p.fit.train.schedule_per = SchedulePer::Step;
    same_both_ways(p, &data(120, 11, 3, true), "softmax, optimal per example");
    // Invariant steps are for one output (and only the fast path runs them): refused, saying
    // why.
    let mut p = LinearParams::softmax_regression();
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.optimizer = OptimizerSpec::Invariant(Default::default());
    let why = p.check().unwrap_err().to_string();
    assert!(why.contains("single-output"), "{why}");
}

#[test]
fn settings_the_fast_path_cannot_take_say_why() {
    let mut p = LinearParams::logistic_regression();
    p.fit.train.batch_size = BatchSize::Rows(1);
    // The default optimizer has momentum 0.9.
    let why = p.clone().check().unwrap().fast_path().unwrap_err();
    assert!(why.contains("momentum"), "{why}");
    p.fit.optimizer = sgd(0.1);
    p.penalty = Penalty::L1 { alpha: 0.1 };
    let why = p.clone().check().unwrap().fast_path().unwrap_err();
    assert!(why.contains("L1"), "{why}");
    p.penalty = Penalty::None;
    p.fit.train.batch_size = BatchSize::Rows(8);
    assert!(p.check().unwrap().fast_path().is_err());
}

/// Fits `p` for `epochs` passes, checkpointing every pass into `dir`.
fn fit_checkpointed(
    mut p: LinearParams,
    data: &Dataset<f64>,
    epochs: usize,
    dir: &std::path::Path,
) -> FittedLinear<f64> {
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = epochs;
    p.fit.scaler = ScalerKind::None;
    p.fit.train.checkpoint_dir = Some(dir.to_path_buf());
    p.fit.train.checkpoint_every_epochs = Some(1);
    let p = p.check().unwrap();
    assert!(p.fast_path().is_ok(), "{:?}", p.fast_path());
    p.fit(data).unwrap()
}

#[test]
fn a_run_interrupted_after_a_pass_resumes_to_the_steps_of_the_run_that_was_not() {
    let cases = [
        // Invariant steps (paired sums) with a schedule stepped per pass.
        {
            let mut p = LinearParams::logistic_regression();
            p.fit.optimizer = OptimizerSpec::Invariant(steepest::optim::Invariant::default());
            p.fit.schedule = Some(ScheduleSpec::Exponential { gamma: 0.7 });
            (p, data(160, 12, 2, true), "invariant, exponential")
        },
        // One-vs-rest on 3 classes with L2 (the lazy scale) and scikit-learn's optimal rate.
        {
            let mut p = LinearParams::linear_svm().penalty(Penalty::L2 { alpha: 0.01 });
            p.kind = LinearKind::Svm {
                loss: LinearLoss::Hinge,
                multiclass: Multiclass::OneVsRest,
            };
            p.fit.optimizer = sgd(1.0);
            p.fit.schedule = Some(ScheduleSpec::Optimal { alpha: 0.01 });
            p.fit.train.schedule_per = SchedulePer::Step;
            (p, data(150, 9, 3, false), "svm ovr, optimal")
        },
    ];
    for (p, d, what) in cases {
        let (whole, cut) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let straight = fit_checkpointed(p.clone(), &d, 4, whole.path());
        // Stopped after 2 passes: the checkpoint holds the state after the first (none is
        // written after the last pass, whose model is the fit's result).
        fit_checkpointed(p.clone(), &d, 2, cut.path());
        let ck = steepest::train::Checkpoint::<f64>::load(cut.path()).unwrap();
        assert_eq!(ck.state.epoch, 1, "{what}");
        let mut q = p.clone();
        q.fit.train.batch_size = BatchSize::Rows(1);
        q.fit.train.epochs = 4;
        q.fit.scaler = ScalerKind::None;
        let resumed = q.check().unwrap().fit_with(&d, Some(ck), &mut []).unwrap();
        assert_eq!(weights(&resumed), weights(&straight), "{what}: bit for bit");
        assert_eq!(resumed.history.len(), 4, "{what}");
        for (a, b) in resumed.history.iter().zip(&straight.history) {
            assert_eq!(a.train_loss, b.train_loss, "{what}");
        }
        // The uninterrupted run wrote its checkpoint at pass 3, not after pass 4.
        let last = steepest::train::Checkpoint::<f64>::load(whole.path()).unwrap();
        assert_eq!(last.state.epoch, 3, "{what}");
    }
}
