//! Every schedule's value at chosen steps against its closed form, written out here.

use std::f64::consts::PI;
use steepest::optim::schedule::*;

fn lrs(s: &mut dyn Schedule, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let v = s.lr();
            s.step(None);
            v
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

fn check(name: &str, got: &[f64], want: impl Fn(usize) -> f64) {
    for (t, &g) in got.iter().enumerate() {
        assert!(close(g, want(t)), "{name} at t={t}: {g} vs {}", want(t));
    }
}

#[test]
fn simple_decays() {
    check("constant", &lrs(&mut Stepped::new(Constant { lr: 0.3 }), 5), |_| 0.3);
    check(
        "step",
        &lrs(
            &mut Stepped::new(Step {
                lr: 1.0,
                step_size: 3,
                gamma: 0.1,
            }),
            10,
        ),
        |t| 0.1f64.powi((t / 3) as i32),
    );
    let ms = MultiStep {
        lr: 2.0,
        milestones: vec![2, 5],
        gamma: 0.5,
    };
    check("multi-step", &lrs(&mut Stepped::new(ms), 8), |t| {
        2.0 * [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25][t]
    });
    check(
        "exponential",
        &lrs(&mut Stepped::new(Exponential { lr: 0.5, gamma: 0.9 }), 6),
        |t| 0.5 * 0.9f64.powi(t as i32),
    );
}

#[test]
fn scikit_learn_schedules() {
    // invscaling: eta0 / t^power_t with scikit-learn's t counting from 1.
    let s = InverseScaling {
        eta0: 0.01,
        power_t: 0.25,
    };
    check("invscaling", &lrs(&mut Stepped::new(s), 5), |t| {
        0.01 / ((t + 1) as f64).powf(0.25)
    });
    // optimal: 1 / (alpha (t0 + t)), t0 = 1 / (alpha * alpha^-0.25).
    let alpha = 1e-4f64;
    let t0 = 1.0 / (alpha * alpha.powf(-0.25));
    check("optimal", &lrs(&mut Stepped::new(Optimal { alpha }), 5), |t| {
        1.0 / (alpha * (t0 + t as f64))
    });
}

#[test]
fn polynomial_and_warmup() {
    let p = Polynomial {
        lr: 1.0,
        total_steps: 4,
        power: 2.0,
        end_lr: 0.1,
    };
    check("polynomial", &lrs(&mut Stepped::new(p), 7), |t| {
        0.9 * (1.0 - t.min(4) as f64 / 4.0).powi(2) + 0.1
    });
    let w = LinearWarmup {
        lr: 0.2,
        warmup_steps: 4,
        start_factor: 0.25,
    };
    check("warmup", &lrs(&mut Stepped::new(w), 7), |t| {
        0.2 * (0.25 + 0.75 * t.min(4) as f64 / 4.0)
    });
}

#[test]
fn cosine_family() {
    let c = Cosine {
        lr: 1.0,
        t_max: 8,
        eta_min: 0.1,
    };
    check("cosine", &lrs(&mut Stepped::new(c), 12), |t| {
        0.1 + 0.9 * (1.0 + (PI * t.min(8) as f64 / 8.0).cos()) / 2.0
    });
    let wc = WarmupCosine {
        lr: 1.0,
        warmup_steps: 2,
        total_steps: 10,
        eta_min: 0.0,
    };
    check("warmup-cosine", &lrs(&mut Stepped::new(wc), 10), |t| {
        if t < 2 {
            t as f64 / 2.0
        } else {
            (1.0 + (PI * (t - 2) as f64 / 8.0).cos()) / 2.0
        }
    });
    // SGDR with t_0 = 2, t_mult = 2: cycles [0, 2), [2, 6), [6, 14).
    let r = CosineWarmRestarts {
        lr: 1.0,
        t_0: 2,
        t_mult: 2,
        eta_min: 0.0,
    };
    check("sgdr", &lrs(&mut Stepped::new(r), 14), |t| {
        let (cur, len) = if t < 2 {
            (t, 2)
        } else if t < 6 {
            (t - 2, 4)
        } else {
            (t - 6, 8)
        };
        (1.0 + (PI * cur as f64 / len as f64).cos()) / 2.0
    });
    let r1 = CosineWarmRestarts {
        lr: 1.0,
        t_0: 3,
        t_mult: 1,
        eta_min: 0.0,
    };
    check("sgdr t_mult 1", &lrs(&mut Stepped::new(r1), 7), |t| {
        (1.0 + (PI * (t % 3) as f64 / 3.0).cos()) / 2.0
    });
}

#[test]
fn one_cycle_lr_and_momentum() {
    let oc = OneCycle {
        max_lr: 1.0,
        total_steps: 10,
        ..OneCycle::default()
    };
    let mut s = Stepped::new(oc);
    let anneal = |a: f64, b: f64, pct: f64| b + (a - b) / 2.0 * ((PI * pct).cos() + 1.0);
    let init = 1.0 / 25.0;
    let min = init / 1e4;
    for t in 0..10 {
        // Phase 1 ends at step 0.3 * 10 - 1 = 2; phase 2 at 9.
        let (lr, m) = if t <= 2 {
            let pct = t as f64 / 2.0;
            (anneal(init, 1.0, pct), anneal(0.95, 0.85, pct))
        } else {
            let pct = (t as f64 - 2.0) / 7.0;
            (anneal(1.0, min, pct), anneal(0.85, 0.95, pct))
        };
        assert!(close(s.lr(), lr), "one-cycle lr at {t}: {} vs {lr}", s.lr());
        assert!(close(s.momentum().unwrap(), m), "one-cycle momentum at {t}");
        s.step(None);
    }
    assert!(close(
        lrs(
            &mut Stepped::new(OneCycle {
                max_lr: 1.0,
                total_steps: 10,
                ..OneCycle::default()
            }),
            10
        )[9],
        min
    ));
}

#[test]
fn cyclic_modes() {
    let base = Cyclic {
        base_lr: 0.1,
        max_lr: 1.1,
        step_size_up: 2,
        step_size_down: Some(3),
        mode: CyclicMode::Triangular,
        gamma: 0.9,
        cycle_momentum: true,
        base_momentum: 0.8,
        max_momentum: 0.9,
    };
    // A cycle is 5 steps: up over 2 (0, .5, 1), down over 3 (2/3, 1/3, 0).
    let shape = [0.0, 0.5, 1.0, 2.0 / 3.0, 1.0 / 3.0];
    check("triangular", &lrs(&mut Stepped::new(base.clone()), 10), |t| {
        0.1 + shape[t % 5]
    });
    let tri2 = Cyclic {
        mode: CyclicMode::Triangular2,
        ..base.clone()
    };
    check("triangular2", &lrs(&mut Stepped::new(tri2), 10), |t| {
        0.1 + shape[t % 5] / 2f64.powi((t / 5) as i32)
    });
    let exp = Cyclic {
        mode: CyclicMode::ExpRange,
        ..base.clone()
    };
    check("exp_range", &lrs(&mut Stepped::new(exp), 10), |t| {
        0.1 + shape[t % 5] * 0.9f64.powi(t as i32)
    });
    let mut s = Stepped::new(base);
    s.step(None);
    assert!(close(s.momentum().unwrap(), 0.9 - 0.1 * 0.5));
}

#[test]
fn reduce_on_plateau_follows_pytorch() {
    let mut s = ReduceOnPlateau::new(1.0, PlateauMode::Min);
    s.patience = 2;
    s.cooldown = 1;
    s.factor = 0.5;
    // Step by step: best 1.0 (bad 0); 1.0 (bad 1); 0.99995 is not below 1.0 * (1 - 1e-4), so
    // bad 2; 1.2 makes bad 3 > patience 2: lr 0.5, cooldown 1. 0.5 improves (and cooldown ends);
    // 0.6 three times: bad 1, 2, 3 -> lr 0.25 at the eighth step; the ninth is in cooldown.
    let metrics = [1.0, 1.0, 0.99995, 1.2, 0.5, 0.6, 0.6, 0.6, 0.6];
    let mut got = vec![];
    for m in metrics {
        s.step(Some(m));
        got.push(s.lr());
    }
    assert_eq!(got, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]);
    let mut mx = ReduceOnPlateau::new(1.0, PlateauMode::Max);
    mx.patience = 0;
    mx.threshold_mode = ThresholdMode::Abs;
    mx.threshold = 0.1;
    mx.step(Some(0.5));
    mx.step(Some(0.55));
    assert_eq!(mx.lr(), 0.1);
}

#[test]
fn sequential_composition_and_its_errors() {
    let warm = Box::new(Stepped::new(LinearWarmup {
        lr: 1.0,
        warmup_steps: 3,
        start_factor: 0.0,
    }));
    let cos = Box::new(Stepped::new(Cosine {
        lr: 1.0,
        t_max: 4,
        eta_min: 0.0,
    }));
    let mut s = Sequential::new(vec![warm, cos], vec![3]).unwrap();
    check("sequential", &lrs(&mut s, 8), |t| {
        if t < 3 {
            t as f64 / 3.0
        } else {
            (1.0 + (PI * (t - 3).min(4) as f64 / 4.0).cos()) / 2.0
        }
    });
    let one = || Box::new(Stepped::new(Constant { lr: 1.0 })) as Box<dyn Schedule>;
    assert!(Sequential::new(vec![one(), one()], vec![]).is_err());
    assert!(Sequential::new(vec![one(), one(), one()], vec![5, 2]).is_err());
}
