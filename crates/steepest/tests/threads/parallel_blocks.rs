//! Element-wise work split into blocks across threads: the optimizer steps (several parameters
//! side by side) and the gradient norm give the same numbers on one thread and on two, and the
//! steps on parameters several blocks long still follow their formulas (re-derived here in
//! plain loops). The whole MLP fit on one and two threads is compared in tests/threads/mlp_kernel.rs.
//! One test function, because the thread count is a process-wide setting.

use steepest::nn::ParamStore;
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::{Optimizer, RuleOptimizer, UpdateRule};
use steepest::tensor::{elementwise::BLOCK, set_num_threads};
use steepest::Tensor;

/// Not a multiple of the block, so the last block is short.
const N: usize = 3 * BLOCK + 123;

fn grad(p: &[f64], t: usize) -> Vec<f64> {
    p.iter()
        .enumerate()
        .map(|(i, v)| (v + 0.001 * i as f64).sin() + 0.1 * t as f64)
        .collect()
}

/// Two large parameters with the same values (so the optimizer updates them side by side, and
/// both must match the reference), plus a small one.
fn store(v: Vec<f64>) -> ParamStore<f64> {
    let mut s = ParamStore::new();
    s.insert("w", Tensor::from_vec(v.clone()));
    s.insert("bias", Tensor::from_vec(v[..5].to_vec()));
    s.insert("u", Tensor::from_vec(v));
    s
}

fn run<R: UpdateRule<f64>>(rule: R, threads: usize) -> Vec<f64> {
    set_num_threads(threads);
    let mut opt = RuleOptimizer::new(rule).unwrap();
    let mut p = store((0..N).map(|i| (i as f64 * 0.37).cos()).collect());
    for t in 1..=4 {
        let g = grad(p.get("w").unwrap().data(), t);
        opt.step_with_loss(&mut p, &store(g), None).unwrap();
    }
    set_num_threads(1);
    assert_eq!(p.get("w").unwrap().data(), p.get("u").unwrap().data());
    assert_eq!(p.get("w").unwrap().data()[..5], *p.get("bias").unwrap().data());
    assert_eq!((opt.steps_of("w"), opt.steps_of("u"), opt.steps_of("bias")), (4, 4, 4));
    p.get("w").unwrap().data().to_vec()
}

fn reference(mut update: impl FnMut(usize, &mut [f64], &[f64])) -> Vec<f64> {
    let mut p: Vec<f64> = (0..N).map(|i| (i as f64 * 0.37).cos()).collect();
    for t in 1..=4 {
        let g = grad(&p, t);
        update(t, &mut p, &g);
    }
    p
}

fn close(name: &str, got: &[f64], want: &[f64]) {
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-12, "{name}: element {i}: {a} vs {b}");
    }
}

#[test]
fn blocks_on_two_threads_give_the_one_thread_numbers() {
    let _one = crate::one_at_a_time();
    // SGD, Nesterov momentum and coupled weight decay.
    let sgd = Sgd {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 0.01,
        nesterov: true,
        ..Sgd::default()
    };
    let one = run(sgd.clone(), 1);
    assert_eq!(one, run(sgd, 2), "sgd: 1 vs 2 threads");
    let mut b = vec![0.0; N];
    let want = reference(|t, p, g| {
        for i in 0..N {
            let g = g[i] + 0.01 * p[i];
            b[i] = if t == 1 { g } else { 0.9 * b[i] + g };
            p[i] -= 0.05 * (g + 0.9 * b[i]);
        }
    });
    close("sgd", &one, &want);

    // Adam with AMSGrad.
    let adam = Adam {
        lr: 0.01,
        amsgrad: true,
        ..Adam::default()
    };
    let one = run(adam.clone(), 1);
    assert_eq!(one, run(adam, 2), "adam: 1 vs 2 threads");
    let (mut m, mut v, mut vm) = (vec![0.0; N], vec![0.0; N], vec![0.0f64; N]);
    let want = reference(|t, p, g| {
        let (bc1, bc2) = (1.0 - 0.9f64.powi(t as i32), 1.0 - 0.999f64.powi(t as i32));
        for i in 0..N {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
            vm[i] = vm[i].max(v[i]);
            p[i] -= 0.01 * (m[i] / bc1) / ((vm[i] / bc2).sqrt() + 1e-8);
        }
    });
    close("adam", &one, &want);

    // The gradient norm: the same bits on 1 and 2 threads, and the plain sum to rounding.
    let s = store(grad(&vec![0.5; N], 1));
    let plain = s.flatten().iter().map(|v| v * v).sum::<f64>().sqrt();
    set_num_threads(2);
    let two = s.global_norm();
    set_num_threads(1);
    assert_eq!(s.global_norm(), two);
    assert!((two - plain).abs() <= 1e-12 * plain, "{two} vs {plain}");

    // The norm the optimizer computes in its update's sweep: global_norm's bits, and the same
    // step as step_with_loss, on 1 and 2 threads.
    for threads in [1, 2] {
        set_num_threads(threads);
        let rule = Sgd {
            lr: 0.05,
            momentum: 0.9,
            ..Sgd::default()
        };
        let (mut a, mut b) = (
            RuleOptimizer::new(rule.clone()).unwrap(),
            RuleOptimizer::new(rule).unwrap(),
        );
        let (mut pa, mut pb) = (store(vec![0.25; N]), store(vec![0.25; N]));
        for _ in 0..2 {
            let norm = a.step_and_norm(&mut pa, &s, None).unwrap();
            assert_eq!(norm, two, "{threads} threads");
            b.step_with_loss(&mut pb, &s, None).unwrap();
        }
        assert_eq!(pa.flatten(), pb.flatten());
        set_num_threads(1);
    }
}
