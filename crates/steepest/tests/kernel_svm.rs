//! The exact kernel SVM: its solution satisfies the optimality conditions of its objective,
//! checked by a plain loop over the rows with the kernel written out (not the implementation's
//! kernel matrix), and one-vs-one voting on three classes.

use steepest::data::{Dataset, Features, Targets};
use steepest::models::{Kernel, KernelSvmParams, Predictor};
use steepest::Tensor;

/// Two overlapping blobs in 2-D (seeded), classes 0 and 1.
fn blobs(n: usize) -> Dataset<f64> {
    let mut state = 99u64;
    let mut u = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
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
    let Kernel::Rbf { gamma } = m.kernel else { panic!("rbf") };
    let sv = m.weights.get("support_vectors").unwrap();
    let coef = m.weights.get("dual_coef").unwrap().data();
    let b = m.weights.get("intercept").unwrap().data()[0];
    let Features::Dense(x) = &data.features else { panic!() };
    let (labels, _) = data.targets.classes().unwrap();
    // f(x_i) by the kernel formula, over the support vectors.
    let f = |i: usize| -> f64 {
        let xi = x.row(i);
        (0..sv.rows_count())
            .map(|s| {
                let d2: f64 = xi.iter().zip(sv.row(s)).map(|(a, b)| (a - b) * (a - b)).sum();
                coef[s] * (-gamma * d2).exp()
            })
            .sum::<f64>()
            + b
    };
    // Stationarity: beta_i = C y_i g_i with g_i = -l'(y_i f_i) (1 below the band, (1 + h - t) / 2h
    // in it, 0 above), and sum beta = 0. Rows that are not support vectors have beta 0.
    let mut beta_of = vec![0.0; data.rows()];
    for s in 0..sv.rows_count() {
        let i = (0..data.rows()).find(|&i| x.row(i) == sv.row(s)).unwrap();
        beta_of[i] = coef[s];
    }
    let mut worst = 0.0f64;
    for i in 0..data.rows() {
        let c = c0 * class_weights[labels[i]];
        let y = if labels[i] == 1 { 1.0 } else { -1.0 };
        let t = y * f(i);
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
    let mut state = 7u64;
    let mut u = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
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
