//! Explicit feature maps whose dot products approximate a kernel, so that a linear model on
//! them approximates the kernel machine at a cost linear in the rows:
//!
//! * random Fourier features (Rahimi and Recht 2007; scikit-learn's `RBFSampler`), RBF only:
//!   z(x) = sqrt(2 / D) cos(W' x + b), W ~ N(0, 2 gamma I), b ~ U[0, 2 pi);
//! * Nyström features (Williams and Seeger 2001; scikit-learn's `Nystroem`), any kernel:
//!   m centres of the training rows by k-means as the basis (see `landmarks`),
//!   z(x) = k(x, basis) K_mm^(-1/2),
//!   the inverse square root through the eigendecomposition of K_mm, eigenvalues below 1e-12
//!   raised to 1e-12 as scikit-learn does, so that z(x).z(y) = k(x, B) K_mm^-1 k(B, y).

use super::kernel_svm::Kernel;
use super::rff::RandomFourierFeatures;
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{rng, Scalar, Tensor};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

/// Which approximation of the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelApprox {
    /// Random Fourier features (RBF kernel only).
    Rff,
    /// Nyström features on k-means centres of the training rows (any kernel).
    Nystroem,
}

impl KernelApprox {
    /// Parses `rff` or `nystroem` (also `nystrom`).
    pub fn parse(s: &str) -> Result<KernelApprox> {
        match s {
            "rff" => Ok(KernelApprox::Rff),
            "nystroem" | "nystrom" => Ok(KernelApprox::Nystroem),
            _ => Err(Error::invalid(
                "kernel-approx",
                format!("unknown approximation '{s}' (rff, nystroem)"),
            )),
        }
    }
}

/// The Nyström basis: `m` centres of the rows of `x` by k-means (Lloyd's iterations from
/// k-means++ seeds, at most 10), all the rows when there are no more than `m`. K-means
/// landmarks approximate the kernel matrix better than a uniform sample of the same size
/// (K. Zhang, I. Tsang and J. Kwok, "Improved Nyström low-rank approximation and error
/// analysis", ICML 2008): the error is bounded by the rows' distances to their centres.
fn landmarks<T: Scalar>(x: &Tensor<T>, m: usize, seed: u64) -> Result<Tensor<T>> {
    let (n, d) = (x.rows_count(), x.row_len());
    if n <= m {
        return Ok(x.clone());
    }
    let xs: Tensor<f64> = x.cast();
    let sq: Vec<f64> = (0..n).map(|i| xs.row(i).iter().map(|v| v * v).sum()).collect();
    // k-means++: each next seed drawn with probability proportional to the squared distance
    // to the nearest seed so far.
    let mut r = rng(seed);
    let mut centres = Vec::with_capacity(m * d);
    let first = sample(&mut r, n, 1).index(0);
    centres.extend_from_slice(xs.row(first));
    let dist_to = |c: &[f64]| -> Vec<f64> {
        let cc: f64 = c.iter().map(|v| v * v).sum();
        (0..n)
            .map(|i| (sq[i] + cc - 2.0 * xs.row(i).iter().zip(c).map(|(a, b)| a * b).sum::<f64>()).max(0.0))
            .collect()
    };
    let mut nearest = dist_to(&centres[..d]);
    for _ in 1..m {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rand::Rng::random_range(&mut r, 0.0..total);
            let mut k = n - 1;
            for (i, &w) in nearest.iter().enumerate() {
                if u < w {
                    k = i;
                    break;
                }
                u -= w;
            }
            k
        } else {
            rand::Rng::random_range(&mut r, 0..n)
        };
        let c = xs.row(pick).to_vec();
        for (a, b) in nearest.iter_mut().zip(dist_to(&c)) {
            *a = a.min(b);
        }
        centres.extend_from_slice(&c);
    }
    // Lloyd's iterations: assign through one product per iteration, then average.
    let mut assign = vec![usize::MAX; n];
    for _ in 0..10 {
        let c = Tensor::new(centres.clone(), &[m, d])?;
        let dots = xs.matmul_t(&c, false, true)?;
        let csq: Vec<f64> = (0..m).map(|j| c.row(j).iter().map(|v| v * v).sum()).collect();
        let mut changed = false;
        for i in 0..n {
            let row = dots.row(i);
            let best = (0..m)
                .min_by(|&a, &b| (csq[a] - 2.0 * row[a]).total_cmp(&(csq[b] - 2.0 * row[b])))
                .unwrap_or(0);
            changed |= assign[i] != best;
            assign[i] = best;
        }
        if !changed {
            break;
        }
        let mut sum = vec![0.0; m * d];
        let mut count = vec![0usize; m];
        for i in 0..n {
            count[assign[i]] += 1;
            sum[assign[i] * d..(assign[i] + 1) * d]
                .iter_mut()
                .zip(xs.row(i))
                .for_each(|(s, v)| *s += v);
        }
        for j in 0..m {
            // An emptied cluster keeps its centre.
            if count[j] > 0 {
                for (c, s) in centres[j * d..(j + 1) * d].iter_mut().zip(&sum[j * d..(j + 1) * d]) {
                    *c = s / count[j] as f64;
                }
            }
        }
    }
    Ok(Tensor::new(centres, &[m, d])?.cast())
}

/// A fitted feature map.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureMap<T: Scalar> {
    /// Random Fourier features.
    Rff(RandomFourierFeatures<T>),
    /// Nyström features.
    Nystroem {
        /// The kernel.
        kernel: Kernel,
        /// The basis points `[m, features]` (in the model's scaled inputs).
        basis: Tensor<T>,
        /// K_mm^(-1/2) `[m, m]`.
        normalization: Tensor<T>,
    },
}

impl<T: Scalar> FeatureMap<T> {
    /// Fits the map of `kind` for `kernel` with `components` features on the rows of `x`
    /// (scaled), drawing from `seed`.
    pub fn fit(kind: KernelApprox, kernel: Kernel, x: &Tensor<T>, components: usize, seed: u64) -> Result<Self> {
        if components == 0 {
            return Err(Error::invalid("kernel-approx", "needs at least one component"));
        }
        match kind {
            KernelApprox::Rff => match kernel {
                Kernel::Rbf { gamma } => Ok(FeatureMap::Rff(RandomFourierFeatures::new(
                    x.row_len(),
                    components,
                    gamma,
                    seed,
                ))),
                _ => Err(Error::invalid(
                    "kernel-approx",
                    "random Fourier features approximate the rbf kernel only; use nystroem for this kernel",
                )),
            },
            KernelApprox::Nystroem => {
                let basis = landmarks(x, components, seed)?;
                let m = basis.rows_count();
                let kmm = kernel.matrix(&basis, &basis)?;
                let eig = nalgebra::SymmetricEigen::new(kmm);
                let q = &eig.eigenvectors;
                let inv_sqrt = eig.eigenvalues.map(|l| 1.0 / l.max(1e-12).sqrt());
                let norm = q * DMatrix::from_diagonal(&inv_sqrt) * q.transpose();
                let normalization = Tensor::new((0..m * m).map(|i| T::of(norm[(i / m, i % m)])).collect(), &[m, m])?;
                Ok(FeatureMap::Nystroem {
                    kernel,
                    basis,
                    normalization,
                })
            }
        }
    }

    /// The number of features out.
    pub fn components(&self) -> usize {
        match self {
            FeatureMap::Rff(r) => r.offset.len(),
            FeatureMap::Nystroem { basis, .. } => basis.rows_count(),
        }
    }

    /// The features of the rows of `x` (scaled), `[rows, components]` in f64.
    pub fn transform(&self, x: &Tensor<T>) -> Result<DMatrix<f64>> {
        match self {
            FeatureMap::Rff(r) => {
                let z = r.transform(&crate::data::Features::Dense(x.clone()))?;
                let z = z.dense("random Fourier features")?;
                let (n, d) = (z.rows_count(), z.row_len());
                Ok(DMatrix::from_row_iterator(n, d, z.data().iter().map(|v| v.as_f64())))
            }
            FeatureMap::Nystroem {
                kernel,
                basis,
                normalization,
            } => {
                let k = kernel.matrix(x, basis)?;
                let m = basis.rows_count();
                let norm = DMatrix::from_row_iterator(m, m, normalization.data().iter().map(|v| v.as_f64()));
                Ok(k * norm)
            }
        }
    }

    /// Its tensors, named for the weights file.
    pub fn store(&self, into: &mut ParamStore<T>) {
        match self {
            FeatureMap::Rff(r) => {
                into.insert("rff_weight", r.weight.clone());
                into.insert("rff_offset", r.offset.clone());
            }
            FeatureMap::Nystroem {
                basis, normalization, ..
            } => {
                into.insert("nystroem_basis", basis.clone());
                into.insert("nystroem_normalization", normalization.clone());
            }
        }
    }

    /// The map of `kind` from the tensors [`Self::store`] wrote, checked against `inputs`
    /// features; `None` when a tensor is missing or a shape disagrees.
    pub fn load(kind: KernelApprox, kernel: Kernel, from: &ParamStore<T>, inputs: usize) -> Option<Self> {
        match kind {
            KernelApprox::Rff => {
                let (w, b) = (from.get("rff_weight")?, from.get("rff_offset")?);
                let ok = w.ndim() == 2 && w.shape()[0] == inputs && b.shape() == [w.shape()[1]];
                ok.then(|| {
                    FeatureMap::Rff(RandomFourierFeatures {
                        weight: w.clone(),
                        offset: b.clone(),
                    })
                })
            }
            KernelApprox::Nystroem => {
                let (basis, norm) = (from.get("nystroem_basis")?, from.get("nystroem_normalization")?);
                let m = basis.rows_count();
                let ok = basis.ndim() == 2 && basis.row_len() == inputs && norm.shape() == [m, m];
                ok.then(|| FeatureMap::Nystroem {
                    kernel,
                    basis: basis.clone(),
                    normalization: norm.clone(),
                })
            }
        }
    }
}
