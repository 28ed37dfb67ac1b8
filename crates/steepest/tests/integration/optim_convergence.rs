//! Each optimizer on the convex quadratic 0.5 (x^2 + 10 y^2) and on Rosenbrock, both from
//! (-1.5, 2): the step from which f - f* stays at or below 1e-6, against the budget that
//! `docs/optimizers.md` lists (the measured count plus 20 %, for floating-point differences
//! between machines).
//! `cargo test -p steepest --test integration optim_convergence -- --nocapture` prints the table.

use steepest::optim::rules::*;
use steepest::optim::schedule::{Exponential, Schedule, Stepped};
use steepest::optim::test_functions::{run_line_search, run_optimizer, Quadratic, Rosenbrock, TestFunction};
use steepest::optim::{ArmijoGd, Lbfgs, LineSearchOptimizer, Optimizer, RuleOptimizer, UpdateRule};

const START: [f64; 2] = [-1.5, 2.0];
const TOL: f64 = 1e-6;
const MAX_STEPS: usize = 20_000;

type Maker = fn(f64) -> Box<dyn Optimizer<f64>>;

fn boxed<R: UpdateRule<f64>>(r: R) -> Box<dyn Optimizer<f64>> {
    Box::new(RuleOptimizer::new(r).unwrap())
}

/// (name, hyper-parameters as documented, optimizer, lr, exponential decay gamma,
/// measured steps on the quadratic, measured steps on Rosenbrock).
type Row = (&'static str, &'static str, Maker, f64, Option<f64>, usize, usize);

fn rows() -> Vec<Row> {
    vec![
        ("gd", "lr 1e-3", |lr| boxed(Sgd::plain(lr)), 1e-3, None, 6964, 15681),
        (
            "momentum",
            "lr 1e-3, momentum 0.9",
            |lr| {
                boxed(Sgd {
                    lr,
                    momentum: 0.9,
                    ..Sgd::default()
                })
            },
            1e-3,
            None,
            634,
            1484,
        ),
        (
            "momentum+dampening",
            "lr 3e-3, momentum 0.9, dampening 0.5",
            |lr| {
                boxed(Sgd {
                    lr,
                    momentum: 0.9,
                    dampening: 0.5,
                    ..Sgd::default()
                })
            },
            3e-3,
            None,
            396,
            931,
        ),
        (
            "nesterov",
            "lr 1e-3, momentum 0.9",
            |lr| {
                boxed(Sgd {
                    lr,
                    momentum: 0.9,
                    nesterov: true,
                    ..Sgd::default()
                })
            },
            1e-3,
            None,
            640,
            1379,
        ),
        (
            "adagrad",
            "lr 1",
            |lr| {
                boxed(Adagrad {
                    lr,
                    ..Adagrad::default()
                })
            },
            1.0,
            None,
            15,
            11634,
        ),
        (
            "rmsprop",
            "lr 1e-2, decay 0.999/step",
            |lr| {
                boxed(RmsProp {
                    lr,
                    ..RmsProp::default()
                })
            },
            1e-2,
            Some(0.999),
            2693,
            5572,
        ),
        (
            "rmsprop centered+momentum",
            "lr 3e-3, momentum 0.9, decay 0.998/step",
            |lr| {
                boxed(RmsProp {
                    lr,
                    centered: true,
                    momentum: 0.9,
                    ..RmsProp::default()
                })
            },
            3e-3,
            Some(0.998),
            137,
            1976,
        ),
        (
            "adadelta",
            "lr 0.3, decay 0.9995/step",
            |lr| {
                boxed(Adadelta {
                    lr,
                    ..Adadelta::default()
                })
            },
            0.3,
            Some(0.9995),
            2005,
            8410,
        ),
        (
            "adam",
            "lr 1, decay 0.9995/step",
            |lr| boxed(Adam { lr, ..Adam::default() }),
            1.0,
            Some(0.9995),
            158,
            832,
        ),
        (
            "adamw",
            "lr 1, weight_decay 0, decay 0.9995/step",
            |lr| {
                boxed(AdamW {
                    lr,
                    weight_decay: 0.0,
                    ..AdamW::default()
                })
            },
            1.0,
            Some(0.9995),
            158,
            832,
        ),
        (
            "adam amsgrad",
            "lr 1",
            |lr| {
                boxed(Adam {
                    lr,
                    amsgrad: true,
                    ..Adam::default()
                })
            },
            1.0,
            None,
            157,
            821,
        ),
        (
            "nadam",
            "lr 3e-2, decay 0.9995/step",
            |lr| boxed(NAdam { lr, ..NAdam::default() }),
            3e-2,
            Some(0.9995),
            238,
            2792,
        ),
        (
            "radam",
            "lr 3e-4",
            |lr| boxed(RAdam { lr, ..RAdam::default() }),
            3e-4,
            None,
            12066,
            18850,
        ),
        (
            "adamax",
            "lr 3e-2, decay 0.9995/step",
            |lr| {
                boxed(Adamax {
                    lr,
                    ..Adamax::default()
                })
            },
            3e-2,
            Some(0.9995),
            410,
            6042,
        ),
        (
            "lion",
            "lr 1e-2, decay 0.998/step",
            |lr| boxed(Lion { lr, ..Lion::default() }),
            1e-2,
            Some(0.998),
            1704,
            2841,
        ),
        (
            "schedule-free sgd",
            "lr 1e-2",
            |lr| {
                boxed(ScheduleFreeSgd {
                    lr,
                    ..ScheduleFreeSgd::default()
                })
            },
            1e-2,
            None,
            6707,
            13758,
        ),
        (
            "schedule-free adamw",
            "lr 1e-2",
            |lr| {
                boxed(ScheduleFreeAdamW {
                    lr,
                    ..ScheduleFreeAdamW::default()
                })
            },
            1e-2,
            None,
            3335,
            12160,
        ),
        (
            "polyak",
            "f* 0",
            |lr| {
                boxed(Polyak {
                    lr,
                    ..Polyak::default()
                })
            },
            1.0,
            None,
            23,
            984,
        ),
    ]
}

fn budget(measured: usize) -> usize {
    measured + measured / 5 + 5
}

#[test]
fn every_optimizer_reaches_the_minimizer_within_its_documented_budget() {
    let functions: [&dyn TestFunction; 2] = [&Quadratic(vec![1.0, 10.0]), &Rosenbrock];
    println!("| optimizer | hyper-parameters | quadratic | rosenbrock |\n|---|---|---|---|");
    let mut failures = vec![];
    for (name, hp, make, lr, gamma, want_q, want_r) in rows() {
        let mut got = vec![];
        for f in functions {
            let mut opt = make(lr);
            let mut sched = gamma.map(|g| Stepped::new(Exponential { lr, gamma: g }));
            let tr = run_optimizer(
                f,
                opt.as_mut(),
                sched.as_mut().map(|s| s as &mut dyn Schedule),
                &START,
                MAX_STEPS,
                TOL,
            );
            got.push(tr.steps_to_tol);
        }
        println!("| {name} | {hp} | {} | {} |", fmt(got[0]), fmt(got[1]));
        for (g, want, fname) in [(got[0], want_q, "quadratic"), (got[1], want_r, "rosenbrock")] {
            if g.is_none_or(|s| s > budget(want)) {
                failures.push(format!("{name} on {fname}: {g:?} steps, budget {}", budget(want)));
            }
        }
    }
    let line_search = |name: &str| -> Box<dyn LineSearchOptimizer<f64>> {
        if name == "lbfgs" {
            Box::new(Lbfgs {
                max_iter: 1,
                ..Lbfgs::default()
            })
        } else {
            Box::new(ArmijoGd::default())
        }
    };
    for (name, want_q, want_r) in [("lbfgs", 5, 38), ("armijo line-search gd", 29, 8858)] {
        let q = run_line_search(functions[0], line_search(name).as_mut(), &START, MAX_STEPS, TOL).steps_to_tol;
        let r = run_line_search(functions[1], line_search(name).as_mut(), &START, MAX_STEPS, TOL).steps_to_tol;
        println!(
            "| {name} | defaults (no learning rate to tune) | {} | {} |",
            fmt(q),
            fmt(r)
        );
        if q.is_none_or(|s| s > budget(want_q)) || r.is_none_or(|s| s > budget(want_r)) {
            failures.push(format!("{name}: {q:?} / {r:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn fmt(s: Option<usize>) -> String {
    s.map_or("-".into(), |s| s.to_string())
}

#[test]
fn plain_gd_crawls_where_lbfgs_arrives() {
    // The expected story on Rosenbrock: after 1000 steps plain GD is still in the valley, far from
    // (1, 1), while L-BFGS has arrived within 60 iterations.
    let mut gd = RuleOptimizer::new(Sgd::plain(1e-3)).unwrap();
    let tr = run_optimizer(&Rosenbrock, &mut gd, None, &START, 1000, TOL);
    assert!(Rosenbrock.distance_to_minimum(tr.last()) > 0.1, "{:?}", tr.last());
    let mut lb = Lbfgs {
        max_iter: 1,
        ..Lbfgs::default()
    };
    let tr = run_line_search(&Rosenbrock, &mut lb, &START, 60, TOL);
    assert!(Rosenbrock.distance_to_minimum(tr.last()) < 1e-3, "{:?}", tr.last());
}
