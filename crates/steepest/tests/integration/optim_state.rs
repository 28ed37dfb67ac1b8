//! Saving and restoring optimizer and schedule state, by parameter name.

use steepest::nn::ParamStore;
use steepest::optim::rules::*;
use steepest::optim::schedule::*;
use steepest::optim::{Lbfgs, LineSearchOptimizer, Optimizer, ParamGroup, RuleOptimizer, UpdateRule};
use steepest::tensor::rng;
use steepest::Tensor;

fn params() -> ParamStore<f32> {
    let mut p = ParamStore::new();
    p.insert("hidden.weight", Tensor::randn(&[3, 2], 0.0, 1.0, &mut rng(1)));
    p.insert("hidden.bias", Tensor::randn(&[2], 0.0, 1.0, &mut rng(2)));
    p
}

/// A deterministic, parameter-dependent gradient.
fn grads(p: &ParamStore<f32>) -> ParamStore<f32> {
    let mut g = ParamStore::new();
    for (n, t) in p.iter() {
        g.insert(n, t.map(|v| v.sin() + 0.5 * v - 0.1));
    }
    g
}

/// Runs 10 steps straight, and 4 steps + save + fresh objects + load + 6 steps; both must end
/// bit-identical (parameters compared with ==).
fn resumes_exactly<R: UpdateRule<f32>>(rule: R, make_schedule: fn() -> Box<dyn Schedule>) {
    let run = |opt: &mut dyn Optimizer<f32>, s: &mut dyn Schedule, p: &mut ParamStore<f32>, n: usize| {
        for _ in 0..n {
            opt.set_lr(s.lr());
            let g = grads(p);
            opt.step_with_loss(p, &g, Some(1.0)).unwrap();
            s.step(Some(1.0));
        }
    };
    let mut straight = params();
    let (mut o1, mut s1) = (RuleOptimizer::new(rule.clone()).unwrap(), make_schedule());
    run(&mut o1, s1.as_mut(), &mut straight, 10);

    let mut p = params();
    let (mut o2, mut s2) = (RuleOptimizer::new(rule.clone()).unwrap(), make_schedule());
    run(&mut o2, s2.as_mut(), &mut p, 4);
    // Through text, as a checkpoint file would be.
    let (os, ss) = (o2.state().unwrap().to_string(), s2.state().to_string());
    let (mut o3, mut s3) = (RuleOptimizer::new(rule).unwrap(), make_schedule());
    o3.load_state(&serde_json::from_str(&os).unwrap(), &p).unwrap();
    s3.load_state(&serde_json::from_str(&ss).unwrap()).unwrap();
    run(&mut o3, s3.as_mut(), &mut p, 6);
    assert_eq!(p, straight, "{} did not resume bit-identically", o3.name());
}

#[test]
fn every_rule_and_schedule_resumes_bit_identically() {
    let cos = || {
        Box::new(Stepped::new(Cosine {
            lr: 0.05,
            t_max: 10,
            eta_min: 0.001,
        })) as Box<dyn Schedule>
    };
    let plateau = || {
        let mut s = ReduceOnPlateau::new(0.05, PlateauMode::Min);
        s.patience = 1;
        Box::new(s) as Box<dyn Schedule>
    };
    let seq = || {
        let w = Box::new(Stepped::new(LinearWarmup {
            lr: 0.05,
            warmup_steps: 3,
            start_factor: 0.1,
        }));
        let c = Box::new(Stepped::new(Cosine {
            lr: 0.05,
            t_max: 7,
            eta_min: 0.0,
        }));
        Box::new(Sequential::new(vec![w, c], vec![3]).unwrap()) as Box<dyn Schedule>
    };
    resumes_exactly(
        Sgd {
            momentum: 0.9,
            nesterov: true,
            ..Sgd::default()
        },
        cos,
    );
    resumes_exactly(Adagrad::default(), plateau);
    resumes_exactly(
        RmsProp {
            centered: true,
            momentum: 0.5,
            ..RmsProp::default()
        },
        seq,
    );
    resumes_exactly(Adadelta::default(), cos);
    resumes_exactly(
        Adam {
            amsgrad: true,
            ..Adam::default()
        },
        seq,
    );
    resumes_exactly(AdamW::default(), cos);
    resumes_exactly(NAdam::default(), plateau);
    resumes_exactly(RAdam::default(), cos);
    resumes_exactly(Adamax::default(), cos);
    resumes_exactly(Lion::default(), seq);
    resumes_exactly(Muon::default(), cos);
    resumes_exactly(ScheduleFreeSgd::default(), plateau);
    resumes_exactly(
        ScheduleFreeAdamW {
            warmup_steps: 5,
            ..ScheduleFreeAdamW::default()
        },
        cos,
    );
    resumes_exactly(
        Polyak {
            f_star: -1.0,
            ..Polyak::default()
        },
        cos,
    );
}

#[test]
fn state_is_matched_by_name_so_a_new_layer_starts_fresh() {
    let mut p = params();
    let mut opt = RuleOptimizer::new(Adam::default()).unwrap();
    for _ in 0..3 {
        let g = grads(&p);
        opt.step(&mut p, &g).unwrap();
    }
    let saved = opt.state().unwrap();
    // The model grows a layer in front: the old names keep their state, the new one starts at 0.
    let mut grown = ParamStore::new();
    grown.insert("embed.weight", Tensor::ones(&[4, 3]));
    for (n, t) in p.iter() {
        grown.insert(n, t.clone());
    }
    let mut fresh = RuleOptimizer::new(Adam::default()).unwrap();
    fresh.load_state(&saved, &grown).unwrap();
    let g = grads(&grown);
    fresh.step(&mut grown, &g).unwrap();
    assert_eq!(fresh.steps_of("hidden.weight"), 4);
    assert_eq!(fresh.steps_of("embed.weight"), 1);
}

#[test]
fn mismatched_shapes_and_kinds_are_clear_errors() {
    let mut p = params();
    let mut opt = RuleOptimizer::new(Sgd {
        momentum: 0.9,
        ..Sgd::default()
    })
    .unwrap();
    let g = grads(&p);
    opt.step(&mut p, &g).unwrap();
    let saved = opt.state().unwrap();
    let mut other = ParamStore::new();
    other.insert("hidden.weight", Tensor::<f32>::zeros(&[2, 3]));
    let e = RuleOptimizer::new(Sgd::default())
        .unwrap()
        .load_state(&saved, &other)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'hidden.weight'") && e.contains("[3, 2]") && e.contains("[2, 3]"),
        "{e}"
    );
    let e = RuleOptimizer::new(Adam::default())
        .unwrap()
        .load_state(&saved, &p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("saved by 'sgd'"), "{e}");
    let mut bad = saved.clone();
    bad["params"]["hidden.bias"]["state"] = serde_json::json!({"momentum_buffer": "oops"});
    assert!(RuleOptimizer::new(Sgd::default())
        .unwrap()
        .load_state(&bad, &p)
        .is_err());
    let e = Stepped::new(Cosine {
        lr: 1.0,
        t_max: 3,
        eta_min: 0.0,
    })
    .load_state(&Stepped::new(Constant { lr: 1.0 }).state())
    .unwrap_err()
    .to_string();
    assert!(e.contains("saved by 'constant'"), "{e}");
    // A gradient of the wrong shape is named.
    let mut g2 = ParamStore::new();
    g2.insert("hidden.bias", Tensor::<f32>::zeros(&[5]));
    let e = opt.step(&mut p, &g2).unwrap_err().to_string();
    assert!(e.contains("[5]") && e.contains("[2]"), "{e}");
}

#[test]
fn parameter_groups_set_learning_rate_and_decay() {
    let mut p = ParamStore::<f64>::new();
    p.insert("layer.weight", Tensor::new(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap());
    p.insert("layer.bias", Tensor::from_vec(vec![1.0, 2.0]));
    p.insert("head.weight", Tensor::new(vec![1.0, 1.0], &[1, 2]).unwrap());
    let mut g = p.zeros_like();
    for (_, t) in g.iter_mut() {
        t.map_inplace(|_| 1.0);
    }
    let mut opt = RuleOptimizer::new(Sgd {
        lr: 0.1,
        weight_decay: 0.5,
        ..Sgd::default()
    })
    .unwrap()
    .with_group(ParamGroup::no_decay_on_biases_and_1d())
    .with_group(ParamGroup::new("head", |n, _| n.starts_with("head.")).lr_factor(10.0));
    opt.step(&mut p, &g).unwrap();
    // weight: p - 0.1 (1 + 0.5 p); bias: p - 0.1; head: p - 1.0 (1 + 0.5 p).
    assert_eq!(
        p.get("layer.weight").unwrap().data(),
        &[1.0 - 0.1 * 1.5, 2.0 - 0.1 * 2.0, 3.0 - 0.1 * 2.5, 4.0 - 0.1 * 3.0]
    );
    assert_eq!(p.get("layer.bias").unwrap().data(), &[0.9, 1.9]);
    assert_eq!(p.get("head.weight").unwrap().data(), &[1.0 - 1.5, 1.0 - 1.5]);
}

#[test]
fn lbfgs_state_resumes_exactly() {
    let f = |q: &ParamStore<f64>| -> steepest::Result<(f64, ParamStore<f64>)> {
        let x = q.require("x")?.data().to_vec();
        let v = (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let r = x[1] - x[0] * x[0];
        let mut g = ParamStore::new();
        g.insert(
            "x",
            Tensor::from_vec(vec![-2.0 * (1.0 - x[0]) - 400.0 * x[0] * r, 200.0 * r]),
        );
        Ok((v, g))
    };
    let start = || {
        let mut p = ParamStore::new();
        p.insert("x", Tensor::from_vec(vec![-1.5, 2.0]));
        p
    };
    let mut a = start();
    let mut l1 = Lbfgs {
        max_iter: 3,
        ..Lbfgs::default()
    };
    for _ in 0..6 {
        l1.step(&mut a, &mut { f }).unwrap();
    }
    let mut b = start();
    let mut l2 = Lbfgs {
        max_iter: 3,
        ..Lbfgs::default()
    };
    for _ in 0..3 {
        l2.step(&mut b, &mut { f }).unwrap();
    }
    let st = LineSearchOptimizer::<f64>::state(&l2).unwrap().to_string();
    let mut l3 = Lbfgs {
        max_iter: 3,
        ..Lbfgs::default()
    };
    l3.load_state(&serde_json::from_str(&st).unwrap(), &b).unwrap();
    for _ in 0..3 {
        l3.step(&mut b, &mut { f }).unwrap();
    }
    assert_eq!(a, b);
}

#[test]
fn a_spec_by_name_is_the_rule_with_its_defaults_as_files_spell_it() {
    use steepest::optim::{OptimizerSpec, OPTIMIZER_NAMES};
    for name in OPTIMIZER_NAMES {
        let typed = OptimizerSpec::from_name(name).unwrap();
        // The typed defaults and a file's `{"name": ...}` with every field omitted agree.
        let from_file: OptimizerSpec = serde_json::from_value(serde_json::json!({ "name": name })).unwrap();
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            serde_json::to_value(&from_file).unwrap(),
            "{name}"
        );
        assert_eq!(serde_json::to_value(&typed).unwrap()["name"], *name);
        assert_eq!(
            typed.lr(),
            typed.hyperparameters().get("lr").and_then(|v| v.as_f64()),
            "{name}"
        );
    }
}
