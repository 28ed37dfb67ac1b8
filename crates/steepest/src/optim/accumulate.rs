//! Gradient accumulation over micro-batches.

use crate::error::Result;
use crate::nn::ParamStore;
use crate::tensor::Scalar;

/// Sums the mean gradients of micro-batches, weighted by their row counts, so that
/// [`GradAccumulator::mean`] equals the mean gradient over all their rows together:
/// g = sum_i n_i g_i / sum_i n_i.
///
/// ```
/// use steepest::{nn::ParamStore, optim::GradAccumulator, Tensor};
/// let grad = |v: f64| { let mut g = ParamStore::new(); g.insert("w", Tensor::from_vec(vec![v])); g };
/// let mut acc = GradAccumulator::<f64>::new();
/// acc.add(&grad(1.0), 3)?; // a micro-batch of 3 rows with mean gradient 1
/// acc.add(&grad(5.0), 1)?;
/// assert_eq!(acc.mean()?.get("w").unwrap().data(), &[2.0]);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct GradAccumulator<T: Scalar> {
    sum: Option<ParamStore<T>>,
    rows: usize,
}

impl<T: Scalar> GradAccumulator<T> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self { sum: None, rows: 0 }
    }

    /// Adds the mean gradient of a micro-batch of `rows` rows.
    pub fn add(&mut self, grads: &ParamStore<T>, rows: usize) -> Result<()> {
        let w = T::of(rows as f64);
        match &mut self.sum {
            None => {
                let mut s = grads.clone();
                for (_, t) in s.iter_mut() {
                    t.map_inplace(|v| v * w);
                }
                self.sum = Some(s);
            }
            Some(s) => {
                grads.check_matches(s, "gradient accumulation")?;
                for (n, t) in s.iter_mut() {
                    let g = grads.require(n)?;
                    t.data_mut().iter_mut().zip(g.data()).for_each(|(a, &b)| *a += w * b);
                }
            }
        }
        self.rows += rows;
        Ok(())
    }

    /// Rows accumulated so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The mean gradient over every accumulated row.
    pub fn mean(&self) -> Result<ParamStore<T>> {
        let s = self
            .sum
            .as_ref()
            .ok_or_else(|| crate::Error::invalid("gradient accumulation", "nothing accumulated"))?;
        let mut out = s.clone();
        let inv = T::of(1.0 / self.rows.max(1) as f64);
        for (_, t) in out.iter_mut() {
            t.map_inplace(|v| v * inv);
        }
        Ok(out)
    }

    /// Empties the accumulator.
    pub fn reset(&mut self) {
        self.sum = None;
        self.rows = 0;
    }
}
