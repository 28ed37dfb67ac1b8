//! The estimators against independent solutions: normal equations, ridge's closed form, a
//! Newton (IRLS) solve written here, and the accuracy scikit-learn reaches on digits.

use steepest::data::{embedded, generate, split, BatchSize, Dataset, Features, ScalerKind, Targets};
use steepest::linear::{LinearLoss, Penalty};
use steepest::models::*;
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::{Lbfgs, OptimizerSpec, ScheduleSpec};
use steepest::Tensor;

/// Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        x[r] = (b[r] - (r + 1..n).map(|k| a[r][k] * x[k]).sum::<f64>()) / a[r][r];
    }
    x
}

fn rows_of(d: &Dataset<f64>) -> Vec<Vec<f64>> {
    let Features::Dense(t) = &d.features else {
        panic!("dense")
    };
    (0..t.rows_count()).map(|r| t.row(r).to_vec()).collect()
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    num / b.iter().map(|y| y * y).sum::<f64>().sqrt()
}

fn full_batch_gd(lr: f64, epochs: usize) -> FitOptions {
    let mut f = FitOptions::default();
    f.optimizer = OptimizerSpec::Sgd(Sgd {
        lr,
        momentum: 0.9,
        ..Sgd::default()
    });
    f.train.batch_size = BatchSize::Full;
    f.train.epochs = epochs;
    f
}

#[test]
fn linear_regression_on_diabetes_reaches_the_least_squares_solution() {
    let data = embedded::diabetes::<f64>().unwrap();
    let x = rows_of(&data);
    let y = data.targets.values().unwrap().to_vec();
    // Normal equations with an intercept column: [X 1]^T [X 1] beta = [X 1]^T y.
    let d = x[0].len() + 1;
    let aug: Vec<Vec<f64>> = x.iter().map(|r| r.iter().copied().chain([1.0]).collect()).collect();
    let ata: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| aug.iter().map(|r| r[i] * r[j]).sum()).collect())
        .collect();
    let aty: Vec<f64> = (0..d)
        .map(|i| aug.iter().zip(&y).map(|(r, y)| r[i] * y).sum())
        .collect();
    let beta = solve(ata, aty);

    let model = LinearParams::linear_regression()
        .fit_options(full_batch_gd(0.1, 3000))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let (coef, intercept) = model.coefficients().unwrap();
    let mut got = coef[0].clone();
    got.push(intercept[0]);
    let e = rel(&got, &beta);
    assert!(e < 1e-4, "relative error {e}: {got:?} vs {beta:?}");
}

#[test]
fn ridge_matches_its_closed_form() {
    let data = embedded::diabetes::<f64>().unwrap();
    let x = rows_of(&data);
    let y = data.targets.values().unwrap().to_vec();
    let (n, d) = (x.len() as f64, x[0].len());
    // The model standardizes features and penalizes the standardized weights:
    // minimize (1/2n) ||Xs w + b - y||^2 + alpha/2 ||w||^2  =>  (Xs^T Xs / n + alpha I) w = Xs^T (y - ybar) / n.
    let mean: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| (x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
        .collect();
    let xs: Vec<Vec<f64>> = x
        .iter()
        .map(|r| (0..d).map(|j| (r[j] - mean[j]) / sd[j]).collect())
        .collect();
    let ybar = y.iter().sum::<f64>() / n;
    let alpha = 0.5;
    let a: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| xs.iter().map(|r| r[i] * r[j]).sum::<f64>() / n + if i == j { alpha } else { 0.0 })
                .collect()
        })
        .collect();
    let b: Vec<f64> = (0..d)
        .map(|i| xs.iter().zip(&y).map(|(r, y)| r[i] * (y - ybar)).sum::<f64>() / n)
        .collect();
    let w = solve(a, b);

    let model = LinearParams::ridge(alpha)
        .fit_options(full_batch_gd(0.1, 2000))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let got: Vec<f64> = model.weights.get("weight").unwrap().data().to_vec();
    let e = rel(&got, &w);
    assert!(e < 1e-4, "relative error {e}");
    assert!((model.weights.get("bias").unwrap().data()[0] - ybar).abs() < 1e-4 * ybar);
}

#[test]
fn logistic_regression_reaches_the_newton_irls_optimum() {
    // Two overlapping blobs, so the optimum is finite; a small L2 penalty as well.
    let data = generate::blobs::<f64>(400, 2, 3, 4.0, 11).unwrap();
    let alpha = 1e-3;
    let x = rows_of(&data);
    let (labels, _) = data.targets.classes().unwrap();
    let (n, d) = (x.len(), x[0].len());
    let mean: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64).collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| (x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n as f64).sqrt())
        .collect();
    let xs: Vec<Vec<f64>> = x
        .iter()
        .map(|r| (0..d).map(|j| (r[j] - mean[j]) / sd[j]).chain([1.0]).collect())
        .collect();
    // IRLS on (1/n) sum ln(1 + e^{-y z}) + alpha/2 ||w||^2 (intercept unpenalized), y in {0, 1}.
    let mut beta = vec![0.0; d + 1];
    for _ in 0..50 {
        let p: Vec<f64> = xs
            .iter()
            .map(|r| 1.0 / (1.0 + (-r.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).exp()))
            .collect();
        let mut g: Vec<f64> = (0..=d)
            .map(|j| {
                xs.iter()
                    .zip(&p)
                    .zip(labels)
                    .map(|((r, p), &y)| r[j] * (p - y as f64))
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let mut h: Vec<Vec<f64>> = (0..=d)
            .map(|i| {
                (0..=d)
                    .map(|j| xs.iter().zip(&p).map(|(r, p)| r[i] * r[j] * p * (1.0 - p)).sum::<f64>() / n as f64)
                    .collect()
            })
            .collect();
        for j in 0..d {
            g[j] += alpha * beta[j];
            h[j][j] += alpha;
        }
        let step = solve(h, g);
        beta.iter_mut().zip(&step).for_each(|(b, s)| *b -= s);
    }
    let mut fit = FitOptions::default();
    fit.optimizer = OptimizerSpec::Lbfgs(Lbfgs {
        tolerance_grad: 1e-10,
        tolerance_change: 1e-14,
        ..Lbfgs::default()
    });
    fit.train.epochs = 10;
    let model = LinearParams::logistic_regression()
        .penalty(Penalty::L2 { alpha })
        .fit_options(fit)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let mut got = model.weights.get("weight").unwrap().data().to_vec();
    got.push(model.weights.get("bias").unwrap().data()[0]);
    let worst = got.iter().zip(&beta).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-3, "{got:?} vs {beta:?}");
}

fn digits_split() -> (Dataset<f32>, Dataset<f32>) {
    let data = embedded::digits::<f32>().unwrap();
    let s = split(&data.targets, 0.0, 0.2, 0).unwrap();
    (data.subset(&s.train).unwrap(), data.subset(&s.test).unwrap())
}

fn cosine(epochs: usize, mut f: FitOptions) -> FitOptions {
    f.train.epochs = epochs;
    f.schedule = Some(ScheduleSpec::Cosine {
        t_max: epochs as u64,
        eta_min: 0.0,
    });
    f
}

#[test]
fn digits_accuracy_of_softmax_svm_and_mlp() {
    let (train, test) = digits_split();
    assert_eq!((train.rows(), test.rows()), (1438, 359));
    let softmax = LinearParams::softmax_regression();
    let f = cosine(30, softmax.fit.clone());
    let acc = softmax
        .fit_options(f)
        .check()
        .unwrap()
        .fit(&train)
        .unwrap()
        .score(&test)
        .unwrap();
    assert!(acc >= 0.965, "softmax {acc}");
    let svm = LinearParams::linear_svm();
    let f = cosine(30, svm.fit.clone());
    let acc = svm
        .fit_options(f)
        .check()
        .unwrap()
        .fit(&train)
        .unwrap()
        .score(&test)
        .unwrap();
    assert!(acc >= 0.96, "svm {acc}");
    let mut mlp = MlpParams::default().hidden(&[64]);
    mlp.fit.train.epochs = 60;
    mlp.fit.optimizer = OptimizerSpec::Adam(Adam {
        lr: 1e-3,
        ..Adam::default()
    });
    let acc = mlp.check().unwrap().fit(&train).unwrap().score(&test).unwrap();
    assert!(acc >= 0.975, "mlp {acc}");
}

#[test]
fn every_linear_model_learns_something_and_predicts_consistently() {
    let (train, test) = digits_split();
    let (two_tr, two_te) = {
        let keep = |d: &Dataset<f32>| {
            let (l, _) = d.targets.classes().unwrap();
            let idx: Vec<usize> = (0..d.rows()).filter(|&i| l[i] < 2).collect();
            let mut s = d.subset(&idx).unwrap();
            if let Targets::Classes { names, .. } = &mut s.targets {
                names.truncate(2);
            }
            s
        };
        (keep(&train), keep(&test))
    };
    let cs = LinearParams::linear_svm();
    let cs = LinearParams {
        kind: LinearKind::Svm {
            loss: LinearLoss::SquaredHinge,
            multiclass: Multiclass::CrammerSinger,
        },
        ..cs
    };
    for (name, p, tr, te, min) in [
        ("crammer-singer", cs, &train, &test, 0.93),
        ("perceptron", LinearParams::perceptron(), &train, &test, 0.9),
        ("rbf-svm", LinearParams::rbf_svm(0.02, 500), &train, &test, 0.9),
        (
            "logistic binary",
            LinearParams::logistic_regression().class_weight(ClassWeight::Balanced),
            &two_tr,
            &two_te,
            0.98,
        ),
    ] {
        let m = p.check().unwrap().fit(tr).unwrap();
        let acc = m.score(te).unwrap();
        assert!(acc >= min, "{name}: {acc}");
        let Predictions::Classes(pred) = m.predict(&te.features).unwrap() else {
            panic!()
        };
        assert_eq!(pred.len(), te.rows());
        if let Some(p) = m.predict_proba(&te.features).unwrap() {
            for r in 0..p.rows_count() {
                assert!((p.row(r).iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn lasso_zeroes_coefficients_exactly_and_polynomial_features_fit_a_curve() {
    let data = embedded::diabetes::<f64>().unwrap();
    let mut f = full_batch_gd(0.05, 2000);
    f.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 0.05,
        ..Sgd::default()
    });
    let m = LinearParams::lasso(5.0)
        .fit_options(f)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let w = m.weights.get("weight").unwrap().data();
    assert!(w.iter().filter(|v| **v == 0.0).count() >= 3, "lasso weights {w:?}");
    assert!(w.iter().any(|v| *v != 0.0));
    // y = x^2 is not linear in x, but is in (x, x^2).
    let x: Vec<f64> = (0..50).map(|i| -2.0 + 4.0 * i as f64 / 49.0).collect();
    let y: Vec<f64> = x.iter().map(|v| v * v).collect();
    let d = Dataset::from_dense(Tensor::new(x, &[50, 1]).unwrap(), Targets::Values(y)).unwrap();
    let mut fl = FitOptions::default();
    fl.optimizer = OptimizerSpec::Lbfgs(Lbfgs::default());
    fl.train.epochs = 5;
    fl.scaler = ScalerKind::None;
    let m = LinearParams::linear_regression()
        .poly_degree(2)
        .fit_options(fl)
        .check()
        .unwrap()
        .fit(&d)
        .unwrap();
    assert!(m.score(&d).unwrap() > 0.999999);
    let (c, b) = m.coefficients().unwrap();
    assert!(
        (c[0][1] - 1.0).abs() < 1e-4 && c[0][0].abs() < 1e-4 && b[0].abs() < 1e-4,
        "{c:?} {b:?}"
    );
    assert_eq!(m.feature_names, ["x0", "x0^2"]);
}

#[test]
fn robust_regression_losses_resist_outliers() {
    let (mut d, w, b) = generate::linear::<f64>(300, 2, 0.01, 3).unwrap();
    if let Targets::Values(v) = &mut d.targets {
        for i in (0..300).step_by(10) {
            v[i] += 100.0;
        }
    }
    let fit = |loss| {
        let mut f = FitOptions::default();
        f.train.epochs = 100;
        f.scaler = ScalerKind::None;
        f.schedule = Some(ScheduleSpec::Cosine {
            t_max: 100,
            eta_min: 0.0,
        });
        let m = LinearParams {
            kind: LinearKind::Regression { loss },
            ..LinearParams::linear_regression()
        }
        .fit_options(f)
        .check()
        .unwrap()
        .fit(&d)
        .unwrap();
        let (c, i) = m.coefficients().unwrap();
        (
            c[0].iter().zip(&w).map(|(a, b)| (a - b).abs()).sum::<f64>() + (i[0] - b).abs(),
            m,
        )
    };
    let (err_sq, _) = fit(LinearLoss::Squared);
    let (err_huber, _) = fit(LinearLoss::Huber { epsilon: 1.35 });
    let (err_abs, _) = fit(LinearLoss::Absolute);
    let (err_eps, _) = fit(LinearLoss::EpsilonInsensitive { epsilon: 0.1 });
    for (n, e) in [
        ("huber", err_huber),
        ("absolute", err_abs),
        ("epsilon-insensitive", err_eps),
    ] {
        assert!(e < err_sq / 5.0 && e < 0.5, "{n}: {e} vs squared {err_sq}");
    }
}

#[test]
fn bad_model_settings_are_clear_errors() {
    let iris = embedded::iris::<f32>().unwrap();
    let e = LinearParams::logistic_regression()
        .check()
        .unwrap()
        .fit(&iris)
        .unwrap_err()
        .to_string();
    assert!(e.contains("binary") && e.contains("3 classes"), "{e}");
    let e = LinearParams::linear_regression()
        .check()
        .unwrap()
        .fit(&iris)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Regress") || e.contains("regress"), "{e}");
    let e = LinearParams::elastic_net(1.0, 1.5).check().unwrap_err().to_string();
    assert!(e.contains("l1_ratio"), "{e}");
    let mut p = LinearParams::lasso(1.0);
    p.fit.optimizer = OptimizerSpec::Lbfgs(Lbfgs::default());
    assert!(p.check().unwrap_err().to_string().contains("proximal"));
    assert!(MlpParams::default().hidden(&[0]).check().is_err());
    let m = LinearParams::softmax_regression().check().unwrap().fit(&iris).unwrap();
    let wrong = Features::Dense(Tensor::<f32>::zeros(&[2, 3]));
    let e = m.predict(&wrong).unwrap_err().to_string();
    assert!(e.contains("4 features") && e.contains("3"), "{e}");
}
