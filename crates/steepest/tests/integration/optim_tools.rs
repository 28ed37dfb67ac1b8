//! L-BFGS against the dense BFGS update, the line searches against their conditions and hand
//! steps, and the tools around the step (clipping, accumulation, averaging, LR finder,
//! multi-start).

use rand::Rng as _;
use steepest::nn::ParamStore;
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::test_functions::{run_optimizer, Rastrigin, TestFunction};
use steepest::optim::*;
use steepest::tensor::rng;
use steepest::Tensor;

fn one(name: &str, v: Vec<f64>) -> ParamStore<f64> {
    let mut p = ParamStore::new();
    p.insert(name, Tensor::from_vec(v));
    p
}

fn x_of(p: &ParamStore<f64>) -> Vec<f64> {
    p.get("x").unwrap().data().to_vec()
}

/// A 4-D convex quadratic 0.5 x^T A x - b^T x with a fixed SPD A.
struct Quad {
    a: [[f64; 4]; 4],
    b: [f64; 4],
}

impl Quad {
    fn new() -> Self {
        let m = [
            [2.0, 0.3, 0.0, 0.1],
            [0.5, 1.0, 0.2, 0.0],
            [0.0, 0.4, 3.0, 0.6],
            [0.1, 0.0, 0.2, 1.5],
        ];
        let mut a = [[0.0; 4]; 4];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..4).map(|k| m[k][i] * m[k][j]).sum::<f64>() + if i == j { 0.5 } else { 0.0 };
            }
        }
        Quad {
            a,
            b: [1.0, -2.0, 0.5, 3.0],
        }
    }
    fn grad(&self, x: &[f64]) -> Vec<f64> {
        (0..4)
            .map(|i| (0..4).map(|j| self.a[i][j] * x[j]).sum::<f64>() - self.b[i])
            .collect()
    }
    fn value(&self, x: &[f64]) -> f64 {
        let ax = self.grad(x);
        (0..4)
            .map(|i| 0.5 * x[i] * (ax[i] + self.b[i]) - self.b[i] * x[i])
            .sum()
    }
}

#[test]
fn lbfgs_direction_equals_the_dense_bfgs_inverse_hessian_update() {
    let q = Quad::new();
    let mut lb = Lbfgs {
        max_iter: 1,
        ..Lbfgs::default()
    };
    let mut p = one("x", vec![1.0, 1.0, -1.0, 0.5]);
    let mut xs = vec![x_of(&p)];
    for _ in 0..3 {
        let mut f = |r: &ParamStore<f64>| Ok((q.value(&x_of(r)), one("x", q.grad(&x_of(r)))));
        lb.step(&mut p, &mut f).unwrap();
        xs.push(x_of(&p));
    }
    // Dense BFGS: H0 = gamma I (gamma from the latest pair), then
    // H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T for each pair in order.
    let pairs: Vec<(Vec<f64>, Vec<f64>)> = xs
        .windows(2)
        .map(|w| {
            let s: Vec<f64> = (0..4).map(|i| w[1][i] - w[0][i]).collect();
            let (g0, g1) = (q.grad(&w[0]), q.grad(&w[1]));
            (s, (0..4).map(|i| g1[i] - g0[i]).collect())
        })
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (sl, yl) = pairs.last().unwrap();
    let gamma = dot(sl, yl) / dot(yl, yl);
    let mut h = [[0.0; 4]; 4];
    (0..4).for_each(|i| h[i][i] = gamma);
    for (s, y) in &pairs {
        let rho = 1.0 / dot(s, y);
        let mut left = [[0.0; 4]; 4]; // I - rho s y^T
        for i in 0..4 {
            for j in 0..4 {
                left[i][j] = if i == j { 1.0 } else { 0.0 } - rho * s[i] * y[j];
            }
        }
        let mut lh = [[0.0; 4]; 4];
        let mut next = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                lh[i][j] = (0..4).map(|k| left[i][k] * h[k][j]).sum();
            }
        }
        for i in 0..4 {
            for j in 0..4 {
                next[i][j] = (0..4).map(|k| lh[i][k] * left[j][k]).sum::<f64>() + rho * s[i] * s[j];
            }
        }
        h = next;
    }
    let g = q.grad(xs.last().unwrap());
    let want: Vec<f64> = (0..4).map(|i| -(0..4).map(|j| h[i][j] * g[j]).sum::<f64>()).collect();
    let got = lb.direction(&g);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{got:?} vs {want:?}");
    }
    // And L-BFGS solves the 4-D quadratic: A x = b.
    let mut lb = Lbfgs {
        tolerance_change: 1e-14,
        ..Lbfgs::default()
    };
    let mut p = one("x", vec![0.0; 4]);
    let mut f = |r: &ParamStore<f64>| Ok((q.value(&x_of(r)), one("x", q.grad(&x_of(r)))));
    for _ in 0..3 {
        lb.step(&mut p, &mut f).unwrap();
    }
    let r = q.grad(&x_of(&p));
    assert!(r.iter().all(|v| v.abs() < 1e-7), "residual {r:?}");
}

#[test]
fn strong_wolfe_points_satisfy_both_conditions() {
    // phi(t) = -t e^{-t}: phi'(t) = (t - 1) e^{-t}, minimum at t = 1.
    let phi = |t: f64| Ok((-t * (-t).exp(), (t - 1.0) * (-t).exp()));
    for t0 in [0.01, 0.5, 3.0, 10.0] {
        let p = strong_wolfe(phi, 0.0, -1.0, t0, 1e-4, 0.9, 30).unwrap();
        assert!(p.wolfe, "from {t0}: {p:?}");
        assert!(p.f <= -(1e-4 * p.t), "sufficient decrease from {t0}: {p:?}");
        assert!(p.dphi.abs() <= 0.9, "curvature from {t0}: {p:?}");
    }
    assert!(strong_wolfe(phi, 0.0, 1.0, 1.0, 1e-4, 0.9, 30).is_err());
}

#[test]
fn armijo_backtracking_matches_hand_steps() {
    // f = 5 x^2 from x = 1. Step 1: g = 10; t = 1, 0.5, 0.25 fail, 0.125 gives x = -0.25.
    // Step 2: g = -2.5; t = 0.125 again gives x = 0.0625.
    let f = |r: &ParamStore<f64>| {
        let x = x_of(r)[0];
        Ok((5.0 * x * x, one("x", vec![10.0 * x])))
    };
    let mut opt = ArmijoGd::default();
    let mut p = one("x", vec![1.0]);
    let mut want = vec![];
    let mut x = 1.0f64;
    for _ in 0..2 {
        let (f0, g) = (5.0 * x * x, 10.0 * x);
        let mut t = 1.0;
        while 5.0 * (x - t * g).powi(2) > f0 - 1e-4 * t * g * g {
            t *= 0.5;
        }
        x -= t * g;
        want.push(x);
    }
    assert_eq!(want, [-0.25, 0.0625]);
    for w in want {
        opt.step(&mut p, &mut { f }).unwrap();
        assert_eq!(x_of(&p)[0], w);
    }
    assert_eq!(opt.last_step, 0.125);
}

#[test]
fn clipping_by_norm_and_value() {
    let mut g = ParamStore::<f64>::new();
    g.insert("a", Tensor::from_vec(vec![3.0, 0.0]));
    g.insert("b", Tensor::from_vec(vec![0.0, -4.0]));
    let n = clip_grad_norm(&mut g, 2.5);
    assert_eq!(n, 5.0);
    let c = 2.5 / (5.0 + 1e-6);
    assert_eq!(g.get("a").unwrap().data(), &[3.0 * c, 0.0]);
    assert_eq!(g.get("b").unwrap().data(), &[0.0, -4.0 * c]);
    // Below the limit nothing changes.
    let before = g.clone();
    clip_grad_norm(&mut g, 10.0);
    assert_eq!(g, before);
    let mut h = one("x", vec![-3.0, 0.5, 2.0]);
    let n = clip_grad_value(&mut h, 1.0);
    assert!((n - (9.0f64 + 0.25 + 4.0).sqrt()).abs() < 1e-15);
    assert_eq!(x_of(&h), [-1.0, 0.5, 1.0]);
}

#[test]
fn accumulating_micro_batches_equals_the_full_batch_gradient() {
    // Mean-squared-error gradient of y = w x on 5 rows, as 2 + 3 rows.
    let xs = [1.0, 2.0, -1.0, 0.5, 3.0];
    let ys = [2.0, 3.0, -2.5, 1.0, 5.0];
    let w = 0.7;
    let grad = |rows: &[usize]| {
        let g = rows.iter().map(|&i| 2.0 * (w * xs[i] - ys[i]) * xs[i]).sum::<f64>() / rows.len() as f64;
        one("w", vec![g])
    };
    let mut acc = GradAccumulator::new();
    acc.add(&grad(&[0, 1]), 2).unwrap();
    acc.add(&grad(&[2, 3, 4]), 3).unwrap();
    let full = grad(&[0, 1, 2, 3, 4]).get("w").unwrap().data()[0];
    let got = acc.mean().unwrap().get("w").unwrap().data()[0];
    assert!((got - full).abs() < 1e-15);
    assert_eq!(acc.rows(), 5);
}

#[test]
fn averaging_polyak_and_ema() {
    let mut pol = Averager::new(Averaging::Polyak { start: 2 });
    let mut ema = Averager::new(Averaging::Ema { decay: 0.9 });
    let vals = [5.0, 7.0, 1.0, 2.0, 6.0];
    for v in vals {
        pol.update(&one("w", vec![v])).unwrap();
        ema.update(&one("w", vec![v])).unwrap();
    }
    // Polyak after skipping 2: mean(1, 2, 6) = 3.
    assert!((pol.average().unwrap().get("w").unwrap().data()[0] - 3.0).abs() < 1e-15);
    assert_eq!(pol.count(), 3);
    // EMA: a1 = 5, then a = 0.9 a + 0.1 v.
    let mut a = 5.0;
    for v in &vals[1..] {
        a = 0.9 * a + 0.1 * v;
    }
    assert!((ema.average().unwrap().get("w").unwrap().data()[0] - a).abs() < 1e-12);
}

#[test]
fn lr_range_test_stops_at_divergence_and_suggests_a_stable_rate() {
    // Mini-batch i has loss 5 (x - c_i)^2 with c_i uniform in [-1, 1]: gradient descent on it
    // diverges for lr > 2 / 10 = 0.2, while the batch noise keeps the loss from reaching 0.
    let mut opt = steepest::optim::RuleOptimizer::new(Sgd::plain(1e-3)).unwrap();
    let mut p = one("x", vec![3.0]);
    let cfg = LrFinderConfig {
        start_lr: 1e-4,
        end_lr: 10.0,
        num_steps: 200,
        ..LrFinderConfig::default()
    };
    let mut r = rng(5);
    let res = lr_range_test(&mut opt, &mut p, &cfg, |_, q| {
        let (x, c) = (x_of(q)[0], r.random_range(-1.0..1.0));
        Ok((5.0 * (x - c) * (x - c), one("x", vec![10.0 * (x - c)])))
    })
    .unwrap();
    assert!(res.diverged);
    assert_eq!(x_of(&p), [3.0], "parameters are restored");
    let last = *res.lrs.last().unwrap();
    assert!(last > 0.2 && last < 0.6, "stopped at {last}");
    let s = res.suggestion.unwrap();
    assert!(s > 1e-3 && s < 0.2, "suggestion {s}");
}

#[test]
fn multi_start_on_rastrigin_finds_the_global_minimum_a_single_start_misses() {
    let f = Rastrigin(2);
    let run = |_: usize, r: &mut steepest::tensor::Rng| {
        let start: Vec<f64> = (0..2).map(|_| r.random_range(-5.12..5.12)).collect();
        let mut opt = steepest::optim::RuleOptimizer::new(Adam {
            lr: 0.05,
            ..Adam::default()
        })
        .unwrap();
        let tr = run_optimizer(&f, &mut opt, None, &start, 1500, 1e-8);
        let last = tr.last().to_vec();
        let v = f.value(&last);
        Ok((last, v))
    };
    let single = multi_start(1, 42, run).unwrap();
    assert!(
        single.best_value > 0.5,
        "a single start from seed 42 lands in a local minimum: {}",
        single.best_value
    );
    let many = multi_start(100, 42, run).unwrap();
    assert!(
        many.best_value < 1e-6,
        "best of 100: {} at {:?}",
        many.best_value,
        many.best
    );
    assert!(f.distance_to_minimum(&many.best) < 1e-3);
    assert_eq!(many.values[0], single.best_value, "start 0 is the single start");
}
