//! The linear fast path against a plain per-example SGD loop written out here (explicit weights,
//! explicit L2 shrink, explicit running average): lazy scaling, lazy averaging and the AVX2
//! kernels must not change the numbers; f32 weights stay within single precision of them.

use steepest::data::Features;
use steepest::linear::{sgd_pass, LinearLoss, RowTargets, SgdConfig, SgdModel};
use steepest::tensor::{rng, CsrMatrix, Tensor};

struct Reference {
    w: Vec<f64>,
    b: f64,
    avg: Vec<f64>,
    avg_b: f64,
}

/// Log-loss SGD as the fast path documents it, on dense rows (`sparse`: only the non-zeros
/// are touched by AdaGrad's L2 term, as on sparse input).
fn reference(x: &[Vec<f64>], y: &[usize], cfg: &SgdConfig, passes: usize, sparse: bool) -> Reference {
    let d = x[0].len();
    let (mut w, mut b, mut avg, mut avg_b) = (vec![0.0; d], 0.0, vec![0.0; d], 0.0);
    let (mut g2, mut g2b, mut t) = (vec![0.0; d], 0.0, 0u64);
    let alpha = cfg.alpha;
    let t0 = 1.0 / ((1.0 / alpha.sqrt()).sqrt() * alpha);
    for _ in 0..passes {
        for (row, &label) in x.iter().zip(y) {
            let z: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b;
            let s = if label == 1 { 1.0 } else { -1.0 };
            let dz = -s / (1.0 + (s * z).exp());
            t += 1;
            if cfg.adaptive {
                let eta = cfg.eta.unwrap();
                for j in 0..d {
                    if sparse && row[j] == 0.0 {
                        continue;
                    }
                    let g = dz * row[j] + alpha * w[j];
                    if g != 0.0 {
                        g2[j] += g * g;
                        w[j] -= eta * g / (g2[j].sqrt() + cfg.eps);
                    }
                }
                if dz != 0.0 {
                    g2b += dz * dz;
                    b -= eta * dz / (g2b.sqrt() + cfg.eps);
                }
            } else {
                let eta = cfg.eta.unwrap_or(1.0 / (alpha * (t0 + t as f64 - 1.0)));
                let shrink = 1.0 - (eta * alpha).min(0.999_999);
                for j in 0..d {
                    w[j] = w[j] * shrink - eta * dz * row[j];
                }
                b -= eta * dz;
            }
            let k = 1.0 / t as f64;
            for j in 0..d {
                avg[j] += (w[j] - avg[j]) * k;
            }
            avg_b += (b - avg_b) * k;
        }
    }
    Reference { w, b, avg, avg_b }
}

fn data(n: usize, d: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut r = rng(seed);
    let x = Tensor::<f64>::randn(&[n, d], 0.0, 1.0, &mut r);
    let truth = Tensor::<f64>::randn(&[d], 0.0, 1.0, &mut r);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            // About a third of the entries are zero, for the sparse runs.
            x.row(i)
                .iter()
                .enumerate()
                .map(|(j, v)| if (i + j) % 3 == 0 { 0.0 } else { *v })
                .collect()
        })
        .collect();
    let y = rows
        .iter()
        .map(|row| usize::from(row.iter().zip(truth.data()).map(|(a, b)| a * b).sum::<f64>() > 0.3))
        .collect();
    (rows, y)
}

fn close(a: &[f64], b: &[f64], what: &str) {
    close_to(a, b, what, 1e-9);
}

fn close_to(a: &[f64], b: &[f64], what: &str, tol: f64) {
    let scale = b.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst <= tol * scale, "{what}: off by {worst:e} (scale {scale})");
}

fn run(cfg: &SgdConfig, sparse: bool) {
    run_in::<f64>(cfg, sparse, 1e-9);
}

/// Two passes with weights stored as `W`, against the f64 reference to `tol` (relative to the
/// largest weight).
fn run_in<W: steepest::tensor::Scalar>(cfg: &SgdConfig, sparse: bool, tol: f64) {
    let (rows, y) = data(300, 17, 5);
    let (n, d) = (rows.len(), rows[0].len());
    let dense = Tensor::new(rows.concat(), &[n, d]).unwrap();
    let x = if sparse {
        Features::Sparse(CsrMatrix::from_dense(&dense).unwrap())
    } else {
        Features::Dense(dense)
    };
    let order: Vec<usize> = (0..n).collect();
    let mut m = SgdModel::<W>::new(d);
    for _ in 0..2 {
        sgd_pass(&mut m, &x, RowTargets::Class(&y), &order, cfg).unwrap();
    }
    let want = reference(&rows, &y, cfg, 2, sparse);
    let what = format!("{cfg:?} sparse={sparse} weights {}", W::DTYPE);
    let (w, b) = m.finish(false);
    close_to(&w, &want.w, &format!("weights of {what}"), tol);
    close_to(&[b], &[want.b], &format!("intercept of {what}"), tol);
    if cfg.average {
        let (a, ab) = m.finish(true);
        close_to(&a, &want.avg, &format!("averaged weights of {what}"), tol);
        close_to(&[ab], &[want.avg_b], &format!("averaged intercept of {what}"), tol);
    }
}

#[test]
fn f32_weights_follow_the_f64_loop_to_single_precision() {
    // 600 steps of rounding to 24 bits: within 1e-4 of the largest weight, and far from the
    // 1e-9 that the f64 weights keep (so the test sees a wrong storage type).
    for (adaptive, eta, average) in [(false, None, true), (false, Some(0.2), false), (true, Some(0.3), false)] {
        let cfg = SgdConfig {
            loss: LinearLoss::Log,
            alpha: 1e-2,
            adaptive,
            eta,
            average,
            eps: 1e-10,
            invariant: false,
        };
        run_in::<f32>(&cfg, false, 1e-4);
        run_in::<f32>(&cfg, true, 1e-4);
    }
}

#[test]
fn plain_sgd_with_lazy_l2_and_averaging_matches_the_written_out_loop() {
    for alpha in [1e-4, 1e-2, 0.5] {
        // eta 0.2 with alpha 0.5 shrinks the lazy scale below 1e-9 (folded into the weights).
        for eta in [None, Some(0.05), Some(0.2)] {
            for average in [false, true] {
                let cfg = SgdConfig {
                    loss: LinearLoss::Log,
                    alpha,
                    adaptive: false,
                    eta,
                    average,
                    eps: 1e-10,
                    invariant: false,
                };
                run(&cfg, false);
                run(&cfg, true);
            }
        }
    }
}

#[test]
fn adagrad_steps_match_the_written_out_loop() {
    for alpha in [0.0, 1e-3] {
        for average in [false, true] {
            let cfg = SgdConfig {
                loss: LinearLoss::Log,
                alpha,
                adaptive: true,
                eta: Some(0.3),
                average,
                eps: 1e-10,
                invariant: false,
            };
            run(&cfg, false);
            run(&cfg, true);
        }
    }
}

#[test]
fn state_vectors_round_trip() {
    let (rows, y) = data(50, 6, 9);
    let x = Features::Dense(Tensor::new(rows.concat(), &[50, 6]).unwrap());
    let cfg = SgdConfig {
        loss: LinearLoss::Log,
        alpha: 0.01,
        adaptive: false,
        eta: None,
        average: true,
        eps: 1e-10,
        invariant: false,
    };
    let order: Vec<usize> = (0..50).collect();
    let mut m = SgdModel::<f64>::new(6);
    sgd_pass(&mut m, &x, RowTargets::Class(&y), &order, &cfg).unwrap();
    let (w, avg) = (m.finish(false), m.finish(true));
    let v = m.state_vector();
    let mut other = m.clone();
    other.load_state_vector(&v).unwrap();
    close(&other.finish(false).0, &w.0, "weights");
    close(&other.finish(true).0, &avg.0, "average");
    assert!(other.load_state_vector(&v[1..]).is_err());
}

#[test]
fn the_parallel_pass_is_the_row_weighted_mean_of_the_blocks_passes() {
    let (rows, y) = data(301, 8, 11);
    let x = Features::Dense(Tensor::new(rows.concat(), &[301, 8]).unwrap());
    for adaptive in [false, true] {
        let cfg = SgdConfig {
            loss: LinearLoss::Log,
            alpha: 1e-3,
            adaptive,
            eta: adaptive.then_some(0.2),
            average: true,
            eps: 1e-10,
            invariant: false,
        };
        let order: Vec<usize> = (0..301).collect();
        let mut m = SgdModel::<f64>::new(8);
        steepest::linear::sgd_pass_parallel(&mut m, &x, RowTargets::Class(&y), &order, &cfg, 3).unwrap();
        // The oracle: three models, one per block of 101, 101 and 99 rows, averaged by hand.
        let (mut w, mut a) = (vec![0.0; 9], vec![0.0; 9]);
        for block in order.chunks(101) {
            let mut b = SgdModel::<f64>::new(8);
            sgd_pass(&mut b, &x, RowTargets::Class(&y), block, &cfg).unwrap();
            let k = block.len() as f64 / 301.0;
            let ((bw, bb), (aw, ab)) = (b.finish(false), b.finish(true));
            w.iter_mut().zip(bw.iter().chain([&bb])).for_each(|(s, v)| *s += k * v);
            a.iter_mut().zip(aw.iter().chain([&ab])).for_each(|(s, v)| *s += k * v);
        }
        let ((mw, mb), (ma, mab)) = (m.finish(false), m.finish(true));
        close(&[mw, vec![mb]].concat(), &w, "mixed weights");
        close(&[ma, vec![mab]].concat(), &a, "mixed averages");
        assert_eq!(m.steps(), 101);
        // One thread is the sequential pass.
        let (mut one, mut seq) = (SgdModel::<f64>::new(8), SgdModel::<f64>::new(8));
        steepest::linear::sgd_pass_parallel(&mut one, &x, RowTargets::Class(&y), &order, &cfg, 1).unwrap();
        sgd_pass(&mut seq, &x, RowTargets::Class(&y), &order, &cfg).unwrap();
        assert_eq!(one.finish(true), seq.finish(true));
    }
}

/// Normalized, importance-invariant AdaGrad written out, with the decision value's flow
/// dz/dt = -rate L'(z) integrated numerically (RK4, 4,000 steps) instead of the closed form.
fn invariant_reference(x: &[Vec<f64>], y: &[usize], eta: f64, eps: f64, passes: usize) -> (Vec<f64>, f64) {
    let d = x[0].len();
    let (mut w, mut g2, mut n, mut b, mut g2b) = (vec![0.0; d], vec![0.0; d], vec![0.0f64; d], 0.0, 0.0);
    let (mut t, mut norm_sum) = (0.0, 0.0);
    for _ in 0..passes {
        for (row, &label) in x.iter().zip(y) {
            let s = if label == 1 { 1.0 } else { -1.0 };
            let z: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b;
            let dz = -s / (1.0 + (s * z).exp());
            t += 1.0;
            let mut norm_x = 1.0;
            for j in 0..d {
                if row[j] != 0.0 {
                    if row[j].abs() > n[j] {
                        if n[j] > 0.0 {
                            w[j] *= n[j] / row[j].abs();
                        }
                        n[j] = row[j].abs();
                    }
                    norm_x += (row[j] / n[j]).powi(2);
                    g2[j] += (dz * row[j]).powi(2);
                }
            }
            g2b += dz * dz;
            norm_sum += norm_x;
            let r = |j: usize| 1.0 / (g2[j].sqrt() + eps) / n[j];
            let rb = 1.0 / (g2b.sqrt() + eps);
            let h: f64 = (0..d)
                .filter(|&j| row[j] != 0.0)
                .map(|j| row[j] * row[j] * r(j))
                .sum::<f64>()
                + rb;
            let rate = eta * (t / norm_sum).sqrt() * h;
            let f = |z: f64| rate * s / (1.0 + (s * z).exp());
            let (mut zt, steps) = (z, 4000);
            let dt = 1.0 / steps as f64;
            for _ in 0..steps {
                let k1 = f(zt);
                let k2 = f(zt + dt / 2.0 * k1);
                let k3 = f(zt + dt / 2.0 * k2);
                let k4 = f(zt + dt * k3);
                zt += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            }
            let step = (z - zt) / h;
            for j in 0..d {
                if row[j] != 0.0 {
                    w[j] -= step * row[j] * r(j);
                }
            }
            b -= step * rb;
        }
    }
    (w, b)
}

#[test]
fn invariant_steps_match_the_written_out_flow() {
    let (rows, y) = data(200, 9, 11);
    let (n, d) = (rows.len(), rows[0].len());
    let dense = Tensor::new(rows.concat(), &[n, d]).unwrap();
    for sparse in [false, true] {
        let x = match sparse {
            true => Features::Sparse(CsrMatrix::from_dense(&dense).unwrap()),
            false => Features::Dense(dense.clone()),
        };
        // A large rate, where a plain step would overshoot and the flow's closed form matters.
        let cfg = SgdConfig {
            loss: LinearLoss::Log,
            alpha: 0.0,
            adaptive: true,
            eta: Some(2.0),
            average: false,
            eps: 1e-10,
            invariant: true,
        };
        let order: Vec<usize> = (0..n).collect();
        let mut m = SgdModel::<f64>::new(d);
        for _ in 0..2 {
            sgd_pass(&mut m, &x, RowTargets::Class(&y), &order, &cfg).unwrap();
        }
        let (want_w, want_b) = invariant_reference(&rows, &y, 2.0, 1e-10, 2);
        let (w, b) = m.finish(false);
        close_to(&w, &want_w, &format!("invariant weights, sparse={sparse}"), 1e-8);
        close_to(&[b], &[want_b], &format!("invariant intercept, sparse={sparse}"), 1e-8);
    }
}

/// Invariant steps keep each feature's weight and sums in one cell: the model keeps its
/// weights when a pass of another kind follows (a zero rate leaves them where they were), and
/// through a checkpoint, in today's layout and in the one before cells (weights in `w`, the
/// sums G_j and N_j in pairs in `g2`).
#[test]
fn invariant_cells_keep_the_weights_across_kinds_of_steps_and_checkpoints() {
    let (rows, y) = data(120, 7, 3);
    let (n, d) = (rows.len(), rows[0].len());
    let x = Features::Sparse(CsrMatrix::from_dense(&Tensor::new(rows.concat(), &[n, d]).unwrap()).unwrap());
    let order: Vec<usize> = (0..n).collect();
    let cfg = SgdConfig {
        loss: LinearLoss::Log,
        alpha: 0.0,
        adaptive: true,
        eta: Some(0.5),
        average: false,
        eps: 1e-10,
        invariant: true,
    };
    let mut m = SgdModel::<f32>::new(d);
    sgd_pass(&mut m, &x, RowTargets::Class(&y), &order, &cfg).unwrap();
    let (w, b) = m.finish(false);
    assert!(w.iter().any(|&v| v != 0.0));
    // Through JSON, as a checkpoint.
    let json = serde_json::to_value(&m).unwrap();
    let mut back: SgdModel<f32> = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.state_vector(), m.clone().state_vector());
    // The layout before cells: w, then (G_j, N_j) pairs in g2.
    let cells: Vec<f64> = serde_json::from_value(json["cells"].clone()).unwrap();
    assert_eq!(cells.len(), 4 * d);
    let mut old = json.clone();
    old["w"] = serde_json::json!(cells.chunks(4).map(|c| c[0]).collect::<Vec<_>>());
    old["g2"] = serde_json::json!(cells.chunks(4).flat_map(|c| [c[1], c[2]]).collect::<Vec<_>>());
    old.as_object_mut().unwrap().remove("cells");
    let mut from_old: SgdModel<f32> = serde_json::from_value(old).unwrap();
    assert_eq!(from_old.state_vector(), m.clone().state_vector());
    // A plain AdaGrad pass at rate 0 starts from the same weights and leaves them.
    let plain = SgdConfig {
        invariant: false,
        eta: Some(0.0),
        ..cfg
    };
    sgd_pass(&mut back, &x, RowTargets::Class(&y), &order, &plain).unwrap();
    assert_eq!(back.finish(false).0, w);
    // And back to invariant steps: the same weights again, with fresh sums.
    sgd_pass(&mut back, &x, RowTargets::Class(&y), &[], &cfg).unwrap();
    assert_eq!(back.finish(false), (w, b));
}
