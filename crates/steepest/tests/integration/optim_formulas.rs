//! Every update rule against its documented formula, re-derived here in plain loops (never by
//! calling the implementation), step by step, to 1e-10 in f64.

use steepest::nn::ParamStore;
use steepest::optim::rules::*;
use steepest::optim::{Optimizer, RuleOptimizer, UpdateRule};
use steepest::Tensor;

const TOL: f64 = 1e-10;
const STEPS: usize = 8;
const P0: [f64; 4] = [0.5, -1.5, 2.0, 0.05];
const C: [f64; 4] = [0.3, -0.2, 0.1, 0.4];

/// f(p) = sum(-cos p + 0.15 p^2 - c p); its gradient sin p + 0.3 p - c.
fn loss(p: &[f64]) -> f64 {
    p.iter().zip(C).map(|(p, c)| -p.cos() + 0.15 * p * p - c * p).sum()
}
fn grad(p: &[f64]) -> Vec<f64> {
    p.iter().zip(C).map(|(p, c)| p.sin() + 0.3 * p - c).collect()
}

fn store(v: &[f64]) -> ParamStore<f64> {
    let mut s = ParamStore::new();
    s.insert("w", Tensor::from_vec(v.to_vec()));
    s
}

/// The implementation's iterates.
fn implementation<R: UpdateRule<f64>>(rule: R) -> Vec<Vec<f64>> {
    let mut opt = RuleOptimizer::new(rule).unwrap();
    let mut p = store(&P0);
    let mut out = vec![];
    for _ in 0..STEPS {
        let x = p.get("w").unwrap().data().to_vec();
        opt.step_with_loss(&mut p, &store(&grad(&x)), Some(loss(&x))).unwrap();
        out.push(p.get("w").unwrap().data().to_vec());
    }
    out
}

/// The test's iterates: `update(t, p, g)` applies one documented step (t is 1-based).
fn reference(mut update: impl FnMut(usize, &mut [f64], &[f64])) -> Vec<Vec<f64>> {
    let mut p = P0.to_vec();
    let mut out = vec![];
    for t in 1..=STEPS {
        let g = grad(&p);
        update(t, &mut p, &g);
        out.push(p.clone());
    }
    out
}

fn assert_same(name: &str, got: Vec<Vec<f64>>, want: Vec<Vec<f64>>) {
    for (t, (a, b)) in got.iter().zip(&want).enumerate() {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= TOL, "{name}: step {} element {i}: {x} vs {y}", t + 1);
        }
    }
    // The iterates must move, or the comparison proves nothing.
    assert!(
        want.last().unwrap().iter().zip(P0).any(|(a, b)| (a - b).abs() > 1e-3),
        "{name} did not move"
    );
}

#[test]
fn sgd_plain_and_coupled_weight_decay() {
    let (lr, wd) = (0.1, 0.05);
    let want = reference(|_, p, g| {
        for i in 0..4 {
            p[i] -= lr * (g[i] + wd * p[i]);
        }
    });
    assert_same(
        "sgd",
        implementation(Sgd {
            lr,
            weight_decay: wd,
            ..Sgd::default()
        }),
        want,
    );
}

#[test]
fn sgd_momentum_with_dampening() {
    let (lr, mu, damp) = (0.1, 0.9, 0.3);
    let mut b = [0.0; 4];
    let want = reference(|t, p, g| {
        for i in 0..4 {
            b[i] = if t == 1 { g[i] } else { mu * b[i] + (1.0 - damp) * g[i] };
            p[i] -= lr * b[i];
        }
    });
    assert_same(
        "sgd momentum+dampening",
        implementation(Sgd {
            lr,
            momentum: mu,
            dampening: damp,
            ..Sgd::default()
        }),
        want,
    );
}

#[test]
fn sgd_nesterov_with_weight_decay() {
    let (lr, mu, wd) = (0.05, 0.8, 0.01);
    let mut b = [0.0; 4];
    let want = reference(|t, p, g| {
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            b[i] = if t == 1 { g } else { mu * b[i] + g };
            p[i] -= lr * (g + mu * b[i]);
        }
    });
    let rule = Sgd {
        lr,
        momentum: mu,
        nesterov: true,
        weight_decay: wd,
        ..Sgd::default()
    };
    assert_same("sgd nesterov", implementation(rule), want);
}

#[test]
fn adagrad_with_lr_decay_and_initial_accumulator() {
    let (lr, decay, init, eps, wd) = (0.3, 0.1, 0.2, 1e-10, 0.02);
    let mut s = [init; 4];
    let want = reference(|t, p, g| {
        let clr = lr / (1.0 + (t as f64 - 1.0) * decay);
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            s[i] += g * g;
            p[i] -= clr * g / (s[i].sqrt() + eps);
        }
    });
    let rule = Adagrad {
        lr,
        lr_decay: decay,
        initial_accumulator_value: init,
        weight_decay: wd,
        ..Adagrad::default()
    };
    assert_same("adagrad", implementation(rule), want);
}

#[test]
fn rmsprop_plain() {
    let (lr, alpha, eps) = (0.01, 0.99, 1e-8);
    let mut v = [0.0; 4];
    let want = reference(|_, p, g| {
        for i in 0..4 {
            v[i] = alpha * v[i] + (1.0 - alpha) * g[i] * g[i];
            p[i] -= lr * g[i] / (v[i].sqrt() + eps);
        }
    });
    assert_same(
        "rmsprop",
        implementation(RmsProp {
            lr,
            ..RmsProp::default()
        }),
        want,
    );
}

#[test]
fn rmsprop_centered_with_momentum_and_weight_decay() {
    let (lr, alpha, eps, mu, wd) = (0.01, 0.9, 1e-8, 0.5, 0.1);
    let (mut v, mut a, mut b) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let want = reference(|_, p, g| {
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            v[i] = alpha * v[i] + (1.0 - alpha) * g * g;
            a[i] = alpha * a[i] + (1.0 - alpha) * g;
            let vt = v[i] - a[i] * a[i];
            b[i] = mu * b[i] + g / (vt.sqrt() + eps);
            p[i] -= lr * b[i];
        }
    });
    let rule = RmsProp {
        lr,
        alpha,
        centered: true,
        momentum: mu,
        weight_decay: wd,
        ..RmsProp::default()
    };
    assert_same("rmsprop centered", implementation(rule), want);
}

#[test]
fn adadelta() {
    let (lr, rho, eps, wd) = (1.0, 0.9, 1e-6, 0.01);
    let (mut v, mut u) = ([0.0f64; 4], [0.0f64; 4]);
    let want = reference(|_, p, g| {
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            v[i] = rho * v[i] + (1.0 - rho) * g * g;
            let dx = (u[i] + eps).sqrt() / (v[i] + eps).sqrt() * g;
            u[i] = rho * u[i] + (1.0 - rho) * dx * dx;
            p[i] -= lr * dx;
        }
    });
    assert_same(
        "adadelta",
        implementation(Adadelta {
            weight_decay: wd,
            ..Adadelta::default()
        }),
        want,
    );
}

/// Adam's documented step, parameterized by the variants.
fn adam_reference(lr: f64, b1: f64, b2: f64, eps: f64, wd: f64, decoupled: bool, amsgrad: bool) -> Vec<Vec<f64>> {
    let (mut m, mut v, mut vmax) = ([0.0; 4], [0.0; 4], [0.0f64; 4]);
    reference(move |t, p, g| {
        for i in 0..4 {
            let mut g = g[i];
            if decoupled {
                p[i] -= lr * wd * p[i];
            } else {
                g += wd * p[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let m_hat = m[i] / (1.0 - b1.powi(t as i32));
            vmax[i] = vmax[i].max(v[i]);
            let v_hat = if amsgrad { vmax[i] } else { v[i] } / (1.0 - b2.powi(t as i32));
            p[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
    })
}

#[test]
fn adam_plain_amsgrad_and_coupled_decay() {
    let lr = 0.1;
    assert_same(
        "adam",
        implementation(Adam { lr, ..Adam::default() }),
        adam_reference(lr, 0.9, 0.999, 1e-8, 0.0, false, false),
    );
    let rule = Adam {
        lr,
        betas: (0.8, 0.9),
        amsgrad: true,
        ..Adam::default()
    };
    assert_same(
        "adam amsgrad",
        implementation(rule),
        adam_reference(lr, 0.8, 0.9, 1e-8, 0.0, false, true),
    );
    let rule = Adam {
        lr,
        weight_decay: 0.1,
        ..Adam::default()
    };
    assert_same(
        "adam coupled wd",
        implementation(rule),
        adam_reference(lr, 0.9, 0.999, 1e-8, 0.1, false, false),
    );
}

#[test]
fn adamw_decoupled_decay() {
    let lr = 0.1;
    let rule = AdamW {
        lr,
        weight_decay: 0.2,
        ..AdamW::default()
    };
    assert_same(
        "adamw",
        implementation(rule),
        adam_reference(lr, 0.9, 0.999, 1e-8, 0.2, true, false),
    );
    let rule = AdamW {
        lr,
        weight_decay: 0.2,
        amsgrad: true,
        betas: (0.5, 0.6),
        ..AdamW::default()
    };
    assert_same(
        "adamw amsgrad",
        implementation(rule),
        adam_reference(lr, 0.5, 0.6, 1e-8, 0.2, true, true),
    );
}

#[test]
fn nadam() {
    let (lr, b1, b2, eps, psi, wd) = (0.05, 0.9, 0.999, 1e-8, 4e-3, 0.01);
    let (mut m, mut v, mut prod) = ([0.0; 4], [0.0; 4], 1.0);
    let want = reference(|t, p, g| {
        let t = t as f64;
        let mu_t = b1 * (1.0 - 0.5 * 0.96f64.powf(t * psi));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * psi));
        prod *= mu_t;
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let m_hat = mu_next * m[i] / (1.0 - prod * mu_next) + (1.0 - mu_t) * g / (1.0 - prod);
            let v_hat = v[i] / (1.0 - b2.powf(t));
            p[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
    });
    assert_same(
        "nadam",
        implementation(NAdam {
            lr,
            weight_decay: wd,
            ..NAdam::default()
        }),
        want,
    );
}

/// torch.optim.NAdam (PyTorch 2.15, `torch.set_default_dtype(torch.float64)`, lr 0.05, weight
/// decay 0.01) on the test function, f64 parameters: iterates 50 and 100, pasted. Under torch's
/// default float32 dtype, its `mu_product` and `step` scalars are float32, which alone moves
/// its iterates by ~1e-9 over 100 steps (the gap once reported as an order-of-operations
/// difference); with float64 scalars the two agree to the last bits.
#[test]
fn nadam_matches_torch_over_100_steps() {
    let run = |decoupled: bool| {
        let mut opt = RuleOptimizer::new(NAdam {
            lr: 0.05,
            weight_decay: 0.01,
            decoupled_weight_decay: decoupled,
            ..NAdam::default()
        })
        .unwrap();
        let mut p = store(&P0);
        let mut out = vec![];
        for _ in 0..100 {
            let x = p.get("w").unwrap().data().to_vec();
            opt.step_with_loss(&mut p, &store(&grad(&x)), Some(loss(&x))).unwrap();
            out.push(p.get("w").unwrap().data().to_vec());
        }
        out
    };
    let got = run(false);
    let step50 = [
        0.23056990819480291,
        -0.14390422518011345,
        0.22820795477284397,
        0.30907608085328364,
    ];
    let step100 = [
        0.2305628507892227,
        -0.153819075807252,
        0.07185338154624228,
        0.3090822488131054,
    ];
    let decoupled100 = [
        0.2322753638988875,
        -0.15443688348955767,
        0.07242274316860266,
        0.3114169645356641,
    ];
    for (got, want) in [(&got[49], step50), (&got[99], step100), (&run(true)[99], decoupled100)] {
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() <= 1e-14, "{a} vs torch {b}");
        }
    }
}

#[test]
fn radam_both_regimes() {
    // b2 = 0.9 makes rho_t cross 5 within the steps (rho_t = 1, 1.95, 2.85, 3.7, ...).
    let (lr, b1, b2, eps) = (0.1f64, 0.9f64, 0.9f64, 1e-8);
    let (mut m, mut v) = ([0.0; 4], [0.0; 4]);
    let rho_inf = 2.0 / (1.0 - b2) - 1.0;
    let mut regimes = (false, false);
    let want = reference(|t, p, g| {
        let ti = t as i32;
        let rho_t = rho_inf - 2.0 * t as f64 * b2.powi(ti) / (1.0 - b2.powi(ti));
        for i in 0..4 {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let m_hat = m[i] / (1.0 - b1.powi(ti));
            if rho_t > 5.0 {
                regimes.1 = true;
                let l = (1.0 - b2.powi(ti)).sqrt() / (v[i].sqrt() + eps);
                let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).sqrt();
                p[i] -= lr * m_hat * r * l;
            } else {
                regimes.0 = true;
                p[i] -= lr * m_hat;
            }
        }
    });
    assert!(regimes.0 && regimes.1, "both branches must be exercised");
    assert_same(
        "radam",
        implementation(RAdam {
            lr,
            betas: (b1, b2),
            ..RAdam::default()
        }),
        want,
    );
}

#[test]
fn adamax() {
    let (lr, b1, b2, eps, wd) = (0.1, 0.9, 0.999, 1e-8, 0.05);
    let (mut m, mut u) = ([0.0; 4], [0.0f64; 4]);
    let want = reference(|t, p, g| {
        for i in 0..4 {
            let g = g[i] + wd * p[i];
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            u[i] = (b2 * u[i]).max(g.abs() + eps);
            p[i] -= lr * m[i] / ((1.0 - b1.powi(t as i32)) * u[i]);
        }
    });
    assert_same(
        "adamax",
        implementation(Adamax {
            lr,
            weight_decay: wd,
            ..Adamax::default()
        }),
        want,
    );
}

#[test]
fn lion() {
    let (lr, b1, b2, wd) = (0.05, 0.9, 0.99, 0.1);
    let mut m = [0.0; 4];
    let want = reference(|_, p, g| {
        for i in 0..4 {
            let c = b1 * m[i] + (1.0 - b1) * g[i];
            let s = if c > 0.0 {
                1.0
            } else if c < 0.0 {
                -1.0
            } else {
                0.0
            };
            p[i] -= lr * (s + wd * p[i]);
            m[i] = b2 * m[i] + (1.0 - b2) * g[i];
        }
    });
    assert_same(
        "lion",
        implementation(Lion {
            lr,
            weight_decay: wd,
            ..Lion::default()
        }),
        want,
    );
}

#[test]
fn polyak_step_size() {
    let (f_star, c) = (-4.5, 0.5);
    let want = reference(|_, p, g| {
        let f = loss(p);
        let n2: f64 = g.iter().map(|v| v * v).sum();
        let gamma = ((f - f_star) / (c * n2 + 1e-12)).min(0.8);
        for i in 0..4 {
            p[i] -= gamma * g[i];
        }
    });
    let rule = Polyak {
        f_star,
        c,
        max_step: Some(0.8),
        ..Polyak::default()
    };
    assert_same("polyak", implementation(rule), want);
}

/// Schedule-free reference for SGD (`adam` = None) or AdamW (`adam` = Some(b2, eps)).
fn schedule_free_reference(
    lr: f64,
    beta: f64,
    warmup: usize,
    wd: f64,
    adam: Option<(f64, f64)>,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let (mut z, mut v) = (P0.to_vec(), [0.0; 4]);
    let (mut wsum, mut lr_max) = (0.0, 0.0f64);
    let ys = reference(|t, y, g| {
        let sched = if warmup > 0 && t <= warmup {
            t as f64 / warmup as f64
        } else {
            1.0
        };
        let lr_t = lr * sched;
        lr_max = lr_max.max(lr_t);
        let w = lr_max * lr_max;
        wsum += w;
        let c = w / wsum;
        for i in 0..4 {
            let d = match adam {
                None => g[i] + wd * y[i],
                Some((b2, eps)) => {
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    g[i] / ((v[i] / (1.0 - b2.powi(t as i32))).sqrt() + eps) + wd * y[i]
                }
            };
            // x_t from y_t and z_t, then the paper's three sequences.
            let x = (y[i] - (1.0 - beta) * z[i]) / beta;
            z[i] -= lr_t * d;
            let x_next = (1.0 - c) * x + c * z[i];
            y[i] = (1.0 - beta) * z[i] + beta * x_next;
        }
    });
    let last = ys.last().unwrap();
    let x: Vec<f64> = (0..4).map(|i| (last[i] - (1.0 - beta) * z[i]) / beta).collect();
    (ys, x)
}

#[test]
fn schedule_free_sgd_and_its_evaluation_point() {
    let rule = ScheduleFreeSgd {
        lr: 0.2,
        momentum: 0.9,
        warmup_steps: 3,
        weight_decay: 0.01,
        ..ScheduleFreeSgd::default()
    };
    let (want, x_want) = schedule_free_reference(0.2, 0.9, 3, 0.01, None);
    assert_same("schedule-free sgd", implementation(rule.clone()), want);
    let mut opt = RuleOptimizer::new(rule).unwrap();
    let mut p = store(&P0);
    for _ in 0..STEPS {
        let x = p.get("w").unwrap().data().to_vec();
        opt.step(&mut p, &store(&grad(&x))).unwrap();
    }
    let x = opt.eval_params(&p).get("w").unwrap().data().to_vec();
    for (a, b) in x.iter().zip(&x_want) {
        assert!((a - b).abs() < TOL, "eval point {a} vs {b}");
    }
}

#[test]
fn schedule_free_adamw() {
    let rule = ScheduleFreeAdamW {
        lr: 0.05,
        warmup_steps: 2,
        weight_decay: 0.01,
        ..ScheduleFreeAdamW::default()
    };
    let (want, _) = schedule_free_reference(0.05, 0.9, 2, 0.01, Some((0.999, 1e-8)));
    assert_same("schedule-free adamw", implementation(rule), want);
}

/// Plain-loop matrix product for the Muon reference.
fn mm(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            out[i * m + j] = (0..k).map(|l| a[i * k + l] * b[l * m + j]).sum();
        }
    }
    out
}

fn transpose(a: &[f64], r: usize, c: usize) -> Vec<f64> {
    (0..c).flat_map(|j| (0..r).map(move |i| a[i * c + j])).collect()
}

#[test]
fn muon_on_a_matrix_and_adamw_fallback_on_a_vector() {
    let (lr, mu, wd, (a, b, c)) = (0.02, 0.95, 0.1, (3.4445, -4.775, 2.0315));
    let (rows, cols) = (3, 2);
    let w0 = vec![0.5, -0.3, 0.8, 0.1, -0.6, 0.2];
    let target = vec![1.0, 0.0, 0.0, 1.0, 0.5, -0.5];
    let gradw = |w: &[f64]| -> Vec<f64> { w.iter().zip(&target).map(|(w, t)| (w - t) + 0.1 * w.powi(3)).collect() };
    let bias0 = vec![0.3, -0.2];

    // Reference: Muon on the 3x2 matrix, AdamW (lr 0.01) on the bias.
    let (mut w, mut buf) = (w0.clone(), vec![0.0; 6]);
    let mut bias_p = bias0.clone();
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    let mut want = vec![];
    for t in 1..=6 {
        let g = gradw(&w);
        for i in 0..6 {
            w[i] *= 1.0 - lr * wd;
            buf[i] = mu * buf[i] + (1.0 - mu) * g[i];
        }
        let u: Vec<f64> = (0..6).map(|i| (1.0 - mu) * g[i] + mu * buf[i]).collect();
        // rows > cols: orthogonalize the transpose (2x3).
        let mut x = transpose(&u, rows, cols);
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-7);
        x.iter_mut().for_each(|v| *v /= norm);
        for _ in 0..5 {
            let gram = mm(&x, &transpose(&x, cols, rows), cols, rows, cols);
            let gg = mm(&gram, &gram, cols, cols, cols);
            let upd: Vec<f64> = gram.iter().zip(&gg).map(|(g1, g2)| b * g1 + c * g2).collect();
            let ux = mm(&upd, &x, cols, cols, rows);
            x = x.iter().zip(&ux).map(|(x, ux)| a * x + ux).collect();
        }
        let o = transpose(&x, cols, rows);
        let adj = lr * (rows as f64 / cols as f64).max(1.0).sqrt();
        for i in 0..6 {
            w[i] -= adj * o[i];
        }
        let gb: Vec<f64> = bias_p.iter().map(|b| b - 1.0).collect();
        for i in 0..2 {
            bias_p[i] *= 1.0 - 0.01 * 0.01;
            m[i] = 0.9 * m[i] + 0.1 * gb[i];
            v[i] = 0.999 * v[i] + 0.001 * gb[i] * gb[i];
            let mh = m[i] / (1.0 - 0.9f64.powi(t));
            let vh = v[i] / (1.0 - 0.999f64.powi(t));
            bias_p[i] -= 0.01 * mh / (vh.sqrt() + 1e-8);
        }
        want.push((w.clone(), bias_p.clone()));
    }

    let fallback = AdamW {
        lr: 0.01,
        ..AdamW::default()
    };
    let mut opt = RuleOptimizer::new(Muon {
        lr,
        weight_decay: wd,
        fallback,
        ..Muon::default()
    })
    .unwrap();
    let mut p = ParamStore::new();
    p.insert("layer.weight", Tensor::new(w0, &[rows, cols]).unwrap());
    p.insert("layer.bias", Tensor::from_vec(bias0));
    for (t, (w_want, b_want)) in want.iter().enumerate() {
        let mut g = ParamStore::new();
        g.insert(
            "layer.weight",
            Tensor::new(gradw(p.get("layer.weight").unwrap().data()), &[rows, cols]).unwrap(),
        );
        let gb: Vec<f64> = p.get("layer.bias").unwrap().data().iter().map(|b| b - 1.0).collect();
        g.insert("layer.bias", Tensor::from_vec(gb));
        opt.step(&mut p, &g).unwrap();
        for (x, y) in p.get("layer.weight").unwrap().data().iter().zip(w_want) {
            assert!((x - y).abs() < TOL, "muon step {}: {x} vs {y}", t + 1);
        }
        for (x, y) in p.get("layer.bias").unwrap().data().iter().zip(b_want) {
            assert!((x - y).abs() < TOL, "muon fallback step {}: {x} vs {y}", t + 1);
        }
    }
}

#[test]
fn rules_reject_invalid_hyperparameters() {
    let e = RuleOptimizer::<f64, _>::new(Sgd {
        lr: -1.0,
        ..Sgd::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("lr = -1"), "{e}");
    let e = RuleOptimizer::<f64, _>::new(Sgd {
        nesterov: true,
        ..Sgd::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("nesterov"), "{e}");
    let e = RuleOptimizer::<f64, _>::new(Adam {
        betas: (1.0, 0.999),
        ..Adam::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("beta1"), "{e}");
    let mut opt = RuleOptimizer::<f64, _>::new(Polyak::default()).unwrap();
    let e = opt.step(&mut store(&P0), &store(&P0)).unwrap_err().to_string();
    assert!(e.contains("needs the loss"), "{e}");
}
