//! Scaling, splits, batches, polynomial features and generators.

use steepest::data::*;
use steepest::Tensor;

#[test]
fn scaler_is_fitted_on_training_rows_only() {
    let train = Features::Dense(Tensor::new(vec![0.0f64, 10.0, 2.0, 30.0], &[2, 2]).unwrap());
    let test = Features::Dense(Tensor::new(vec![4.0f64, 20.0], &[1, 2]).unwrap());
    let s = Scaler::fit(ScalerKind::Standard, &train).unwrap();
    let Features::Dense(t) = s.transform(&test).unwrap() else {
        panic!()
    };
    assert_eq!(t.data(), &[3.0, 0.0]);
    let m = Scaler::fit(ScalerKind::MinMax, &train).unwrap();
    let Features::Dense(t) = m.transform(&test).unwrap() else {
        panic!()
    };
    assert_eq!(t.data(), &[2.0, 0.5]);
    let e = s
        .transform(&Features::Dense(Tensor::<f64>::zeros(&[1, 3])))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 columns") && e.contains("3"), "{e}");
}

#[test]
fn stratified_split_keeps_class_proportions_and_is_seeded() {
    let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 80)).collect();
    let t = Targets::Classes {
        labels,
        names: vec!["a".into(), "b".into()],
    };
    let s = split(&t, 0.1, 0.2, 5).unwrap();
    assert_eq!((s.train.len(), s.val.len(), s.test.len()), (70, 10, 20));
    assert_eq!(s.test.iter().filter(|&&i| i >= 80).count(), 4);
    assert_eq!(s.val.iter().filter(|&&i| i >= 80).count(), 2);
    let mut all: Vec<usize> = s.train.iter().chain(&s.val).chain(&s.test).copied().collect();
    all.sort();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(split(&t, 0.1, 0.2, 5).unwrap(), s);
    assert_ne!(split(&t, 0.1, 0.2, 6).unwrap(), s);
    assert!(split(&t, 0.6, 0.5, 0).is_err());
}

#[test]
fn batches_cover_every_row_once_per_epoch() {
    for size in [BatchSize::Rows(1), BatchSize::Rows(7), BatchSize::Full] {
        let b = Batches::new(30, size, true, 9, 2);
        let mut seen: Vec<usize> = b.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
    }
    let e0: Vec<usize> = Batches::new(30, BatchSize::Rows(7), true, 9, 0)
        .iter()
        .flatten()
        .copied()
        .collect();
    let e1: Vec<usize> = Batches::new(30, BatchSize::Rows(7), true, 9, 1)
        .iter()
        .flatten()
        .copied()
        .collect();
    let again: Vec<usize> = Batches::new(30, BatchSize::Rows(7), true, 9, 0)
        .iter()
        .flatten()
        .copied()
        .collect();
    assert_ne!(e0, e1);
    assert_eq!(e0, again);
    assert_eq!(BatchSize::parse("full").unwrap(), BatchSize::Full);
    assert!(BatchSize::parse("0").is_err() && BatchSize::parse("x").is_err());
}

#[test]
fn polynomial_features_match_hand_expansion() {
    let x = Features::Dense(Tensor::new(vec![2.0f64, 3.0], &[1, 2]).unwrap());
    let Features::Dense(t) = (PolynomialFeatures { degree: 3 }).transform(&x).unwrap() else {
        panic!()
    };
    // a, b, a^2, ab, b^2, a^3, a^2 b, a b^2, b^3
    assert_eq!(t.data(), &[2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0]);
}

#[test]
fn generators_produce_what_they_promise() {
    let (d, w, b) = generate::linear::<f64>(500, 3, 0.0, 1).unwrap();
    let Features::Dense(x) = &d.features else { panic!() };
    let y = d.targets.values().unwrap();
    for r in 0..5 {
        let want: f64 = x.row(r).iter().zip(&w).map(|(a, c)| a * c).sum::<f64>() + b;
        assert!((y[r] - want).abs() < 1e-12);
    }
    let blobs = generate::blobs::<f32>(90, 3, 2, 0.5, 2).unwrap();
    assert_eq!((blobs.rows(), blobs.cols(), blobs.n_classes()), (90, 2, 3));
    let moons = generate::two_moons::<f32>(100, 0.0, 3).unwrap();
    let Features::Dense(m) = &moons.features else { panic!() };
    // Noise-free upper moon points lie on the unit circle.
    assert!((m.row(10)[0].powi(2) + m.row(10)[1].powi(2) - 1.0).abs() < 1e-5);
    let c = generate::circles::<f64>(100, 0.0, 0.3, 4).unwrap();
    let Features::Dense(ct) = &c.features else { panic!() };
    assert!((ct.row(99)[0].hypot(ct.row(99)[1]) - 0.3).abs() < 1e-12);
    let s = generate::spirals::<f32>(300, 3, 0.1, 5).unwrap();
    assert_eq!((s.rows(), s.n_classes()), (300, 3));
}
