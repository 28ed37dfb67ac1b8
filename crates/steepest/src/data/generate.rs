//! Synthetic datasets, seeded: linear data with noise, blobs, two moons, circles, spirals.

use super::dataset::{Dataset, Targets};
use crate::error::{Error, Result};
use crate::tensor::{rng, Scalar, Tensor};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

fn classes(k: usize) -> Vec<String> {
    (0..k).map(|c| c.to_string()).collect()
}

fn dense<T: Scalar>(x: Vec<f64>, d: usize, targets: Targets) -> Result<Dataset<T>> {
    let n = x.len() / d.max(1);
    Dataset::from_dense(Tensor::new(x.into_iter().map(T::of).collect(), &[n, d])?, targets)
}

/// y = X w + b + noise with X ~ N(0, 1), w ~ N(0, 1) per feature, b ~ N(0, 1) and
/// noise ~ N(0, noise^2). Returns the data, w and b.
pub fn linear<T: Scalar>(n: usize, d: usize, noise: f64, seed: u64) -> Result<(Dataset<T>, Vec<f64>, f64)> {
    let mut r = rng(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut r) };
    let w: Vec<f64> = (0..d).map(|_| normal()).collect();
    let b = normal();
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| normal()).collect();
        y.push(row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b + noise * normal());
        x.extend(row);
    }
    Ok((dense(x, d, Targets::Values(y))?, w, b))
}

/// Isotropic Gaussian blobs: `centers` centres drawn uniformly from [-10, 10]^d, each row drawn
/// from N(centre, std^2 I); rows are spread over the centres in turn (as scikit-learn's
/// `make_blobs`).
pub fn blobs<T: Scalar>(n: usize, centers: usize, d: usize, std: f64, seed: u64) -> Result<Dataset<T>> {
    if centers == 0 {
        return Err(Error::invalid("blobs", "needs at least one centre"));
    }
    let mut r = rng(seed);
    let c: Vec<f64> = (0..centers * d).map(|_| r.random_range(-10.0..10.0)).collect();
    let (mut x, mut y) = (Vec::with_capacity(n * d), Vec::with_capacity(n));
    for i in 0..n {
        let k = i % centers;
        for j in 0..d {
            let z: f64 = StandardNormal.sample(&mut r);
            x.push(c[k * d + j] + std * z);
        }
        y.push(k);
    }
    dense(
        x,
        d,
        Targets::Classes {
            labels: y,
            names: classes(centers),
        },
    )
}

/// Two interleaving half circles (scikit-learn's `make_moons`), with Gaussian noise.
pub fn two_moons<T: Scalar>(n: usize, noise: f64, seed: u64) -> Result<Dataset<T>> {
    let mut r = rng(seed);
    let (n_out, n_in) = (n / 2, n - n / 2);
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n_out {
        let t = PI * i as f64 / (n_out.max(2) - 1) as f64;
        x.extend([t.cos(), t.sin()]);
        y.push(0);
    }
    for i in 0..n_in {
        let t = PI * i as f64 / (n_in.max(2) - 1) as f64;
        x.extend([1.0 - t.cos(), 0.5 - t.sin()]);
        y.push(1);
    }
    for v in x.iter_mut() {
        let z: f64 = StandardNormal.sample(&mut r);
        *v += noise * z;
    }
    dense(
        x,
        2,
        Targets::Classes {
            labels: y,
            names: classes(2),
        },
    )
}

/// A large circle around a small one of relative radius `factor` (scikit-learn's
/// `make_circles`), with Gaussian noise.
pub fn circles<T: Scalar>(n: usize, noise: f64, factor: f64, seed: u64) -> Result<Dataset<T>> {
    let mut r = rng(seed);
    let (n_out, n_in) = (n / 2, n - n / 2);
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for (count, radius, label) in [(n_out, 1.0, 0), (n_in, factor, 1)] {
        for i in 0..count {
            let t = 2.0 * PI * i as f64 / count.max(1) as f64;
            x.extend([radius * t.cos(), radius * t.sin()]);
            y.push(label);
        }
    }
    for v in x.iter_mut() {
        let z: f64 = StandardNormal.sample(&mut r);
        *v += noise * z;
    }
    dense(
        x,
        2,
        Targets::Classes {
            labels: y,
            names: classes(2),
        },
    )
}

/// `classes` interleaved spiral arms of n / classes points each: radius r in [0, 1], angle
/// 4 (k + r) plus N(0, noise^2) (the CS231n spirals).
pub fn spirals<T: Scalar>(n: usize, classes_n: usize, noise: f64, seed: u64) -> Result<Dataset<T>> {
    if classes_n == 0 {
        return Err(Error::invalid("spirals", "needs at least one class"));
    }
    let mut r = rng(seed);
    let per = n / classes_n;
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for k in 0..classes_n {
        for i in 0..per {
            let rad = i as f64 / (per.max(2) - 1) as f64;
            let z: f64 = StandardNormal.sample(&mut r);
            let t = 4.0 * (k as f64 + rad) + noise * z;
            x.extend([rad * t.sin(), rad * t.cos()]);
            y.push(k);
        }
    }
    dense(
        x,
        2,
        Targets::Classes {
            labels: y,
            names: classes(classes_n),
        },
    )
}
