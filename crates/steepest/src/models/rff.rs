//! Random Fourier features for the RBF kernel.

use crate::data::Features;
use crate::error::Result;
use crate::tensor::{rng, Scalar, Tensor};
use rand::Rng as _;

/// Maps x to z(x) = sqrt(2 / D) cos(W^T x + b) with W ~ N(0, 2 gamma I) (`[d, D]`) and
/// b ~ U[0, 2 pi), so that z(x) . z(y) approximates the RBF kernel exp(-gamma ||x - y||^2)
/// (Rahimi and Recht 2007, "Random features for large-scale kernel machines"; scikit-learn's
/// `RBFSampler`). A linear SVM on z(x) approximates the RBF-kernel SVM.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomFourierFeatures<T: Scalar> {
    /// Projection `[inputs, components]`.
    pub weight: Tensor<T>,
    /// Phases `[components]`.
    pub offset: Tensor<T>,
}

impl<T: Scalar> RandomFourierFeatures<T> {
    /// Draws the projection for `inputs` features, `components` features out, kernel width
    /// `gamma`, from `seed`.
    pub fn new(inputs: usize, components: usize, gamma: f64, seed: u64) -> Self {
        let mut r = rng(seed);
        let weight = Tensor::randn(&[inputs, components], 0.0, (2.0 * gamma).sqrt(), &mut r);
        let offset = Tensor::from_vec(
            (0..components)
                .map(|_| T::of(r.random_range(0.0..std::f64::consts::TAU)))
                .collect(),
        );
        Self { weight, offset }
    }

    /// z(x) for every row of dense `x`.
    pub fn transform(&self, x: &Features<T>) -> Result<Features<T>> {
        let t = x.dense("random Fourier features")?;
        let mut z = t.matmul(&self.weight)?;
        let d = self.offset.len();
        let scale = T::of((2.0 / d as f64).sqrt());
        for row in z.data_mut().chunks_mut(d) {
            row.iter_mut()
                .zip(self.offset.data())
                .for_each(|(v, &b)| *v = scale * (*v + b).cos());
        }
        Ok(Features::Dense(z))
    }
}
