//! The exact kernel SVM: its solution satisfies the optimality conditions of its objective,
//! checked by a plain loop over the rows with the kernel written out (not the implementation's
//! kernel matrix), and one-vs-one voting on three classes.

use steepest::data::{Dataset, Features, Targets};
use steepest::models::{Kernel, KernelSvmParams, Predictor};
use steepest::Tensor;

/// A seeded stream of numbers uniform in [0, 1) (a 64-bit LCG's top 53 bits).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Two overlapping blobs in 2-D (seeded), classes 0 and 1.
fn blobs(n: usize) -> Dataset<f64> {
    let mut u = uniform(99);
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 2;
        let (cx, cy) = if c == 0 { (-0.6, 0.0) } else { (0.6, 0.3) };
        x.push(cx + (u() - 0.5) * 2.0);
        x.push(cy + (u() - 0.5) * 2.0);
        labels.push(c);
    }
    let t = Tensor::new(x, &[n, 2]).unwrap();
    Dataset::from_dense(
        t,
        Targets::Classes {
            labels,
            names: vec!["a".into(), "b".into()],
        },
    )
    .unwrap()
}

/// The fitted binary RBF model written out by hand: the decision value f(x_i) of every row
/// by the kernel formula over the support vectors, and each row's coefficient beta_i (0 for a
/// row that is not a support vector).
fn by_hand(m: &steepest::models::FittedKernelSvm<f64>, data: &Dataset<f64>) -> (Vec<f64>, Vec<f64>) {
    let Kernel::Rbf { gamma } = m.kernel else { panic!("rbf") };
    let sv = m.weights.get("support_vectors").unwrap();
    let coef = m.weights.get("dual_coef").unwrap().data();
    let b = m.weights.get("intercept").unwrap().data()[0];
    let Features::Dense(x) = &data.features else { panic!() };
    let f = (0..data.rows())
        .map(|i| {
            let xi = x.row(i);
            (0..sv.rows_count())
                .map(|s| {
                    let d2: f64 = xi.iter().zip(sv.row(s)).map(|(a, b)| (a - b) * (a - b)).sum();
                    coef[s] * (-gamma * d2).exp()
                })
                .sum::<f64>()
                + b
        })
        .collect();
    let mut beta = vec![0.0; data.rows()];
    for s in 0..sv.rows_count() {
        let i = (0..data.rows()).find(|&i| x.row(i) == sv.row(s)).unwrap();
        beta[i] = coef[s];
    }
    (f, beta)
}

#[test]
fn the_solution_is_stationary_for_its_objective() {
    stationary(&[1.0, 1.0]);
    // Class weights multiply C row by row.
    stationary(&[1.0, 3.0]);
}

fn stationary(class_weights: &[f64]) {
    let data = blobs(80);
    let (c0, h) = (2.0, 0.001);
    let p = KernelSvmParams {
        c: c0,
        smoothing: h,
        scaler: steepest::data::ScalerKind::None,
        class_weight: steepest::models::ClassWeight::Manual(class_weights.to_vec()),
        ..KernelSvmParams::default()
    };
    let m = p.check().unwrap().fit(&data).unwrap();
    let (labels, _) = data.targets.classes().unwrap();
    // Stationarity: beta_i = C y_i g_i with g_i = -l'(y_i f_i) (1 below the band, (1 + h - t) / 2h
    // in it, 0 above), and sum beta = 0. Rows that are not support vectors have beta 0.
    let (f, beta_of) = by_hand(&m, &data);
    let mut worst = 0.0f64;
    for i in 0..data.rows() {
        let c = c0 * class_weights[labels[i]];
        let y = if labels[i] == 1 { 1.0 } else { -1.0 };
        let t = y * f[i];
        let g = if t > 1.0 + h {
            0.0
        } else if t >= 1.0 - h {
            (1.0 + h - t) / (2.0 * h)
        } else {
            1.0
        };
        worst = worst.max((beta_of[i] - c * y * g).abs());
    }
    assert!(worst < 1e-6, "stationarity residual {worst}");
    assert!(beta_of.iter().sum::<f64>().abs() < 1e-9);
    assert!(m.support_count() < data.rows(), "some rows are outside the margin");
}

/// With its defaults the solution meets the optimality conditions of the unsmoothed hinge
/// (libsvm's problem) to 1e-4: alpha_i = y_i beta_i in [0, C], alpha_i = 0 where y f > 1,
/// alpha_i = C where y f < 1, sum beta = 0. (A band of 0.001 fails this: rows inside it sit up
/// to 0.001 off the margin with alpha strictly between the bounds.)
#[test]
fn the_default_solution_meets_the_conditions_of_the_unsmoothed_hinge() {
    let data = blobs(120);
    let c = 1.5;
    let p = KernelSvmParams {
        c,
        scaler: steepest::data::ScalerKind::None,
        ..KernelSvmParams::default()
    };
    let m = p.check().unwrap().fit(&data).unwrap();
    let (labels, _) = data.targets.classes().unwrap();
    let (f, beta) = by_hand(&m, &data);
    let tol = 1e-4;
    let mut on_margin = 0;
    for i in 0..data.rows() {
        let y = if labels[i] == 1 { 1.0 } else { -1.0 };
        let (t, a) = (y * f[i], y * beta[i]);
        assert!((-1e-9..=c + 1e-9).contains(&a), "row {i}: alpha {a} outside [0, {c}]");
        if t > 1.0 + tol {
            assert!(a < 1e-9, "row {i}: y f = {t} beyond the margin with alpha {a}");
        } else if t < 1.0 - tol {
            assert!(a > c - 1e-9, "row {i}: y f = {t} inside the margin with alpha {a}");
        } else {
            on_margin += 1;
        }
    }
    assert!(on_margin > 0, "some rows are support vectors on the margin");
    let sum: f64 = beta.iter().sum();
    assert!(sum.abs() < 1e-9, "sum of beta {sum}");
}

#[test]
fn three_classes_vote_one_against_one() {
    let d = steepest::data::embedded::iris::<f64>().unwrap();
    let m = KernelSvmParams::default().check().unwrap().fit(&d).unwrap();
    assert_eq!(m.pairs, [(0, 1), (0, 2), (1, 2)]);
    let votes = m.decision_function(&d.features).unwrap();
    assert_eq!(votes.shape(), [150, 3]);
    // Every row casts one vote per pair.
    assert!((0..150).all(|r| votes.row(r).iter().sum::<f64>() == 3.0));
    assert!(m.score(&d).unwrap() > 0.97);
    // Bad settings.
    assert!(KernelSvmParams {
        c: 0.0,
        ..Default::default()
    }
    .check()
    .is_err());
    let g = steepest::models::Gamma::Value(-1.0);
    assert!(KernelSvmParams {
        gamma: g,
        ..Default::default()
    }
    .check()
    .is_err());
}

#[test]
fn platt_recovers_a_known_sigmoid_and_probabilities_sum_to_one() {
    use steepest::models::Sigmoid;
    // Labels drawn from P(positive | f) = 1 / (1 + exp(-2 f + 0.5)) on a grid of f.
    let (a, b) = (-2.0, 0.5);
    let mut u = uniform(7);
    let f: Vec<f64> = (0..20000).map(|i| -3.0 + 6.0 * (i % 1000) as f64 / 1000.0).collect();
    let y: Vec<bool> = f.iter().map(|&v| u() < 1.0 / (1.0 + (a * v + b).exp())).collect();
    let s = Sigmoid::fit(&f, &y);
    assert!((s.a - a).abs() < 0.1 && (s.b - b).abs() < 0.1, "{s:?}");
    // The kernel SVM's probabilities: rows sum to 1, and the most probable class is mostly the
    // voted one.
    let d = steepest::data::embedded::iris::<f64>().unwrap();
    let p = KernelSvmParams {
        probability: true,
        ..Default::default()
    };
    let m = p.check().unwrap().fit(&d).unwrap();
    let pr = m.predict_proba(&d.features).unwrap().unwrap();
    assert_eq!(pr.shape(), [150, 3]);
    assert!((0..150).all(|r| (pr.row(r).iter().sum::<f64>() - 1.0).abs() < 1e-6));
    let by_prob = pr.argmax_axis(1).unwrap();
    let steepest::models::Predictions::Classes(voted) = m.predict(&d.features).unwrap() else {
        panic!()
    };
    let same = by_prob.iter().zip(&voted).filter(|(a, b)| a == b).count();
    assert!(same >= 145, "{same}");
}

/// A smooth 1-D regression problem (seeded): y = sin(3x) + noise.
fn wave(n: usize) -> Dataset<f64> {
    let mut u = uniform(5);
    let x: Vec<f64> = (0..n).map(|_| u() * 4.0 - 2.0).collect();
    let y: Vec<f64> = x.iter().map(|&v| (3.0 * v).sin() + (u() - 0.5) * 0.4).collect();
    Dataset::from_dense(Tensor::new(x, &[n, 1]).unwrap(), Targets::Values(y)).unwrap()
}

/// The derivative of the smoothed hinge of the excess u with band half-width h.
fn hinge_slope(u: f64, h: f64) -> f64 {
    if u < -h {
        0.0
    } else if u <= h {
        (u + h) / (2.0 * h)
    } else {
        1.0
    }
}

#[test]
fn support_vector_regression_is_stationary_for_its_objective() {
    // Objective 1/2 beta' K beta + C sum loss(|y - f| - eps), smoothed over h: stationarity is
    // beta_i = C sign(r_i) loss'(|r_i| - eps) and sum beta = 0, checked with the kernel written
    // out.
    let data = wave(120);
    let (c, eps, h) = (3.0, 0.1, 0.001);
    let p = KernelSvmParams {
        c,
        epsilon: eps,
        smoothing: h,
        gamma: steepest::models::Gamma::Value(2.0),
        scaler: steepest::data::ScalerKind::None,
        ..KernelSvmParams::default()
    };
    let m = p.check().unwrap().fit(&data).unwrap();
    assert!(!m.is_classifier());
    let sv = m.weights.get("support_vectors").unwrap();
    let coef = m.weights.get("dual_coef").unwrap().data();
    let b = m.weights.get("intercept").unwrap().data()[0];
    let Features::Dense(x) = &data.features else { panic!() };
    let y = data.targets.values().unwrap();
    let f = |i: usize| -> f64 {
        (0..sv.rows_count())
            .map(|s| coef[s] * (-2.0 * (x.row(i)[0] - sv.row(s)[0]).powi(2)).exp())
            .sum::<f64>()
            + b
    };
    let mut beta_of = vec![0.0; data.rows()];
    for s in 0..sv.rows_count() {
        let i = (0..data.rows()).find(|&i| x.row(i) == sv.row(s)).unwrap();
        beta_of[i] = coef[s];
    }
    let mut worst = 0.0f64;
    for i in 0..data.rows() {
        let r = y[i] - f(i);
        let want = c * r.signum() * hinge_slope(r.abs() - eps, h);
        worst = worst.max((beta_of[i] - want).abs());
    }
    assert!(worst < 1e-6, "stationarity residual {worst}");
    assert!(beta_of.iter().sum::<f64>().abs() < 1e-9);
    // The tube holds the rows it should: some inside (no coefficient), a good fit.
    assert!(m.support_count() < data.rows());
    assert!(m.score(&data).unwrap() > 0.9);
}

#[test]
fn nystroem_on_every_row_is_the_exact_model_and_the_primal_solver_is_stationary() {
    use steepest::models::{FeatureMap, KernelApprox};
    let data = blobs(60);
    let exact = KernelSvmParams {
        scaler: steepest::data::ScalerKind::None,
        ..KernelSvmParams::default()
    };
    // As many components as rows: the basis is the rows, z z' = K, the same model.
    let approx = KernelSvmParams {
        approx: Some(KernelApprox::Nystroem),
        components: 60,
        ..exact.clone()
    };
    let (me, ma) = (
        exact.check().unwrap().fit(&data).unwrap(),
        approx.check().unwrap().fit(&data).unwrap(),
    );
    let (fe, fa) = (
        me.decision_function(&data.features).unwrap(),
        ma.decision_function(&data.features).unwrap(),
    );
    let worst = fe.max_abs_diff(&fa).unwrap();
    assert!(worst < 1e-5, "exact and Nystroem-on-all-rows differ by {worst}");
    // Fewer components than rows: the features by hand, z(x) = k(x, B) N, and the primal
    // stationarity of (w, b): w = C sum_i y_i loss'(u_i) z_i, sum_i y_i loss'(u_i) = 0.
    let rows = 400;
    let big = blobs(rows);
    let p = KernelSvmParams {
        approx: Some(KernelApprox::Nystroem),
        components: 20,
        c: 2.0,
        scaler: steepest::data::ScalerKind::None,
        ..KernelSvmParams::default()
    };
    let m = p.check().unwrap().fit(&big).unwrap();
    let Some(FeatureMap::Nystroem {
        kernel: Kernel::Rbf { gamma },
        basis,
        normalization,
    }) = &m.map
    else {
        panic!("a Nystroem map")
    };
    let Features::Dense(x) = &big.features else { panic!() };
    let mc = basis.rows_count();
    let z = |i: usize| -> Vec<f64> {
        let k: Vec<f64> = (0..mc)
            .map(|j| {
                let d2: f64 = x.row(i).iter().zip(basis.row(j)).map(|(a, b)| (a - b) * (a - b)).sum();
                (-gamma * d2).exp()
            })
            .collect();
        (0..mc)
            .map(|c| (0..mc).map(|j| k[j] * normalization.data()[j * mc + c]).sum())
            .collect()
    };
    let w = m.weights.get("coef").unwrap().data().to_vec();
    let b = m.weights.get("intercept").unwrap().data()[0];
    let (labels, _) = big.targets.classes().unwrap();
    let (mut grad, mut grad_b) = (w.clone(), 0.0);
    for i in 0..rows {
        let zi = z(i);
        let y = if labels[i] == 1 { 1.0 } else { -1.0 };
        let f: f64 = zi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b;
        let g = 2.0 * y * hinge_slope(1.0 - y * f, KernelSvmParams::default().smoothing);
        grad.iter_mut().zip(&zi).for_each(|(gr, zv)| *gr -= g * zv);
        grad_b -= g;
    }
    let worst = grad.iter().fold(grad_b.abs(), |a, g| a.max(g.abs()));
    assert!(worst < 1e-6, "primal gradient {worst}");
}

#[test]
fn random_fourier_features_approach_the_exact_model_as_they_grow() {
    use steepest::models::KernelApprox;
    let data = blobs(200);
    let exact = KernelSvmParams::default().check().unwrap().fit(&data).unwrap();
    let fe = exact.decision_function(&data.features).unwrap();
    let gap = |components: usize| -> f64 {
        let p = KernelSvmParams {
            approx: Some(KernelApprox::Rff),
            components,
            ..KernelSvmParams::default()
        };
        let fa = p
            .check()
            .unwrap()
            .fit(&data)
            .unwrap()
            .decision_function(&data.features)
            .unwrap();
        fe.data().iter().zip(fa.data()).map(|(a, b)| (a - b).abs()).sum::<f64>() / 200.0
    };
    let (small, large) = (gap(20), gap(2000));
    assert!(
        large < small / 2.0 && large < 0.1,
        "mean gap: 20 features {small}, 2000 features {large}"
    );
    // Random Fourier features are for the rbf kernel only.
    let poly = KernelSvmParams {
        kernel: steepest::models::KernelName::Poly,
        approx: Some(KernelApprox::Rff),
        ..KernelSvmParams::default()
    };
    assert!(poly.check().is_err());
}

#[test]
fn one_vs_rest_solves_one_binary_problem_per_class() {
    use steepest::models::KernelMulticlass;
    let d = steepest::data::embedded::iris::<f64>().unwrap();
    let p = KernelSvmParams {
        multiclass: KernelMulticlass::Ovr,
        ..KernelSvmParams::default()
    };
    let m = p.check().unwrap().fit(&d).unwrap();
    let f = m.decision_function(&d.features).unwrap();
    assert_eq!(f.shape(), [150, 3]);
    let (labels, names) = d.targets.classes().unwrap();
    // Class 1 against the rest, as its own binary model.
    let binary = Dataset::from_dense(
        d.features.dense("test").unwrap().clone(),
        Targets::Classes {
            labels: labels.iter().map(|&l| usize::from(l == 1)).collect(),
            names: vec!["rest".into(), names[1].clone()],
        },
    )
    .unwrap();
    let fb = KernelSvmParams::default()
        .check()
        .unwrap()
        .fit(&binary)
        .unwrap()
        .decision_function(&binary.features)
        .unwrap();
    let worst = (0..150).map(|r| (f.row(r)[1] - fb.row(r)[0]).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-9, "{worst}");
    assert!(m.score(&d).unwrap() > 0.95);
}

#[test]
fn the_blocked_cholesky_solves_what_a_plain_product_checks() {
    use steepest::tensor::Cholesky;
    // A = B B' + I, 150 x 150 (three blocks of 64 and a remainder); the solution of A x = b
    // is checked by multiplying back with a plain loop.
    let n = 150;
    let mut u0 = uniform(3);
    let mut u = || u0() - 0.5;
    let b: Vec<f64> = (0..n * n).map(|_| u()).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>() + f64::from(u8::from(i == j));
        }
    }
    let rhs: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    let x = Cholesky::factor(a.clone(), n).unwrap().solve(&rhs);
    let worst = (0..n)
        .map(|i| ((0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>() - rhs[i]).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-9, "residual {worst}");
    // Not positive definite: refused.
    let mut bad = a;
    bad[70 * n + 70] = -1e6;
    assert!(Cholesky::factor(bad, n).is_none());
}
