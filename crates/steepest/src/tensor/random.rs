//! Seeded random tensors. The generator is xoshiro256++, whose state serializes, so a
//! checkpoint can carry it.

use super::{Scalar, Tensor};
use rand::{Rng as _, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The random generator used everywhere in Steepest (xoshiro256++, serializable state).
pub type Rng = rand_xoshiro::Xoshiro256PlusPlus;

/// A generator seeded from `seed` (SplitMix64 expansion, so nearby seeds give unrelated streams).
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

impl<T: Scalar> Tensor<T> {
    /// Elements drawn from N(mean, std^2).
    ///
    /// ```
    /// # use steepest::tensor::{rng, Tensor};
    /// let a = Tensor::<f32>::randn(&[2, 3], 0.0, 1.0, &mut rng(7));
    /// let b = Tensor::<f32>::randn(&[2, 3], 0.0, 1.0, &mut rng(7));
    /// assert_eq!(a, b);
    /// ```
    pub fn randn(shape: &[usize], mean: f64, std: f64, rng: &mut Rng) -> Self {
        let n = shape.iter().product();
        let data = (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                T::of(mean + std * z)
            })
            .collect();
        Self::from_parts(shape.to_vec(), data)
    }

    /// Elements drawn uniformly from `[low, high)`.
    pub fn rand_uniform(shape: &[usize], low: f64, high: f64, rng: &mut Rng) -> Self {
        let n = shape.iter().product();
        let data = (0..n)
            .map(|_| T::of(low + (high - low) * rng.random::<f64>()))
            .collect();
        Self::from_parts(shape.to_vec(), data)
    }
}
