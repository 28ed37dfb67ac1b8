//! Parameter averaging: Polyak-Ruppert (averaged SGD) and exponential moving averages.

use crate::error::Result;
use crate::nn::ParamStore;
use crate::tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Which average to keep.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Averaging {
    /// The arithmetic mean of the iterates after the first `start` updates:
    /// a_n = a_{n-1} + (p - a_{n-1}) / n (Polyak and Juditsky 1992; `torch.optim.swa_utils` and
    /// scikit-learn's `average=True` are of this kind).
    Polyak {
        /// Updates to skip before averaging starts.
        start: u64,
    },
    /// a <- decay a + (1 - decay) p, starting from the first iterate.
    Ema {
        /// Decay in (0, 1), e.g. 0.999.
        decay: f64,
    },
}

/// Keeps an average of the parameters; call [`Averager::update`] after each optimizer step.
///
/// ```
/// use steepest::{nn::ParamStore, optim::{Averager, Averaging}, Tensor};
/// let p = |v: f64| { let mut s = ParamStore::new(); s.insert("w", Tensor::from_vec(vec![v])); s };
/// let mut avg = Averager::new(Averaging::Polyak { start: 0 });
/// for v in [1.0, 2.0, 6.0] { avg.update(&p(v))?; }
/// assert_eq!(avg.average().unwrap().get("w").unwrap().data(), &[3.0]);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Scalar")]
pub struct Averager<T: Scalar> {
    kind: Averaging,
    avg: Option<ParamStore<T>>,
    seen: u64,
    count: u64,
}

impl<T: Scalar> Averager<T> {
    /// A new averager of the given kind.
    pub fn new(kind: Averaging) -> Self {
        Self {
            kind,
            avg: None,
            seen: 0,
            count: 0,
        }
    }

    /// Folds the current parameters into the average.
    pub fn update(&mut self, params: &ParamStore<T>) -> Result<()> {
        self.seen += 1;
        let weight = match self.kind {
            Averaging::Polyak { start } => {
                if self.seen <= start {
                    return Ok(());
                }
                self.count += 1;
                1.0 / self.count as f64
            }
            Averaging::Ema { decay } => {
                self.count += 1;
                if self.count == 1 {
                    1.0
                } else {
                    1.0 - decay
                }
            }
        };
        match &mut self.avg {
            Some(a) if weight < 1.0 => {
                params.check_matches(a, "parameter averaging")?;
                let w = T::of(weight);
                for (n, t) in a.iter_mut() {
                    let p = params.require(n)?;
                    t.data_mut()
                        .iter_mut()
                        .zip(p.data())
                        .for_each(|(a, &p)| *a += w * (p - *a));
                }
            }
            _ => self.avg = Some(params.clone()),
        }
        Ok(())
    }

    /// The average so far (`None` before the first averaged update).
    pub fn average(&self) -> Option<&ParamStore<T>> {
        self.avg.as_ref()
    }

    /// Number of iterates in the average.
    pub fn count(&self) -> u64 {
        self.count
    }
}
