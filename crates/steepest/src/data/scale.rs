//! Feature scaling, fitted on training rows only and stored with the model.

use super::dataset::Features;
use crate::collective::{Communicator, SingleProcess};
use crate::error::{Error, Result};
use crate::tensor::{huge_page_vec, Scalar, Tensor};
use serde::{Deserialize, Serialize};

/// Which scaling to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScalerKind {
    /// Leave features as they are.
    None,
    /// x' = (x - mean) / std (population std; a constant column keeps scale 1). On sparse data
    /// only the division is applied, so zeros stay zeros.
    #[default]
    Standard,
    /// x' = (x - min) / (max - min) (a constant column keeps scale 1). Dense data only.
    MinMax,
    /// x' = (x - mean_c) / std_c, one mean and standard deviation per channel (the first axis of
    /// an example), over every element of that channel in the training rows, as torchvision's
    /// `Normalize` with statistics of the data. Examples with no channel axis are one channel.
    /// Dense data only; fitted by [`Scaler::fit_channels`].
    Channel,
}

/// A fitted scaling: x' = (x - offset) / scale, per column.
///
/// ```
/// use steepest::data::{Features, Scaler, ScalerKind};
/// use steepest::Tensor;
/// let x = Features::Dense(Tensor::new(vec![1.0f32, 10.0, 3.0, 30.0], &[2, 2])?);
/// let s = Scaler::fit(ScalerKind::Standard, &x)?;
/// assert_eq!(s.offset, [2.0, 20.0]);
/// assert_eq!(s.scale, [1.0, 10.0]);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// The kind fitted.
    pub kind: ScalerKind,
    /// Subtracted from each column.
    pub offset: Vec<f64>,
    /// Each column is divided by this.
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits `kind` on `x` (the training rows).
    pub fn fit<T: Scalar>(kind: ScalerKind, x: &Features<T>) -> Result<Scaler> {
        Self::fit_parallel(kind, x, None)
    }

    /// [`Scaler::fit`] on the union of every rank's rows `x` (data-parallel training): the
    /// column sums, then the sums of squared deviations (or each rank's extremes) are summed
    /// over the ranks, so every rank gets the scaling of all the rows. Without `comm`, the rows
    /// of this process alone ([`Scaler::fit`]).
    pub fn fit_parallel<T: Scalar>(
        kind: ScalerKind,
        x: &Features<T>,
        comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<Scaler> {
        let mut alone = SingleProcess;
        let c: &mut dyn Communicator = match comm {
            Some(c) => c,
            None => &mut alone,
        };
        let d = x.cols();
        let (mut offset, mut scale) = (vec![0.0; d], vec![1.0; d]);
        let std_of = |var: f64| if var > 0.0 { var.sqrt() } else { 1.0 };
        match (kind, x) {
            (ScalerKind::None, _) => {}
            (ScalerKind::Standard, Features::Dense(t)) => {
                let mut sum = vec![0.0; d + 1];
                for r in 0..t.rows_count() {
                    t.row(r).iter().zip(&mut sum).for_each(|(v, m)| *m += v.as_f64());
                }
                sum[d] = t.rows_count() as f64;
                c.allreduce_sum_f64(&mut sum)?;
                let n = sum[d].max(1.0);
                offset = sum[..d].iter().map(|s| s / n).collect();
                let mut sq = vec![0.0; d];
                for r in 0..t.rows_count() {
                    t.row(r)
                        .iter()
                        .zip(&offset)
                        .zip(&mut sq)
                        .for_each(|((v, m), s)| *s += (v.as_f64() - m).powi(2));
                }
                c.allreduce_sum_f64(&mut sq)?;
                scale = sq.iter().map(|s| std_of(s / n)).collect();
            }
            (ScalerKind::Standard, Features::Sparse(s)) => {
                let mut sums = vec![0.0; 2 * d + 1];
                for r in 0..s.shape().0 {
                    let (idx, val) = s.row(r);
                    for (&j, v) in idx.iter().zip(val) {
                        sums[j as usize] += v.as_f64();
                        sums[d + j as usize] += v.as_f64() * v.as_f64();
                    }
                }
                sums[2 * d] = s.shape().0 as f64;
                c.allreduce_sum_f64(&mut sums)?;
                let n = sums[2 * d].max(1.0);
                scale = (0..d)
                    .map(|j| std_of(sums[d + j] / n - (sums[j] / n).powi(2)))
                    .collect();
            }
            (ScalerKind::MinMax, Features::Dense(t)) => {
                // Each rank's extremes in its own slot (infinite when it has no rows); the sum
                // over ranks gathers them all.
                let (ranks, me) = (c.size(), c.rank());
                let mut slots = vec![0.0; 2 * d * ranks];
                let (lo_me, hi_me) = slots[me * 2 * d..(me + 1) * 2 * d].split_at_mut(d);
                lo_me.fill(f64::INFINITY);
                hi_me.fill(f64::NEG_INFINITY);
                for r in 0..t.rows_count() {
                    for (j, v) in t.row(r).iter().enumerate() {
                        lo_me[j] = lo_me[j].min(v.as_f64());
                        hi_me[j] = hi_me[j].max(v.as_f64());
                    }
                }
                c.allreduce_sum_f64(&mut slots)?;
                let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
                for r in 0..ranks {
                    for j in 0..d {
                        lo[j] = lo[j].min(slots[r * 2 * d + j]);
                        hi[j] = hi[j].max(slots[r * 2 * d + d + j]);
                    }
                }
                offset = lo.iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect();
                scale = lo
                    .iter()
                    .zip(&hi)
                    .map(|(a, b)| if b > a { b - a } else { 1.0 })
                    .collect();
            }
            (ScalerKind::Channel, _) => return Self::fit_channels(x, 1, Some(c)),
            (ScalerKind::MinMax, Features::Sparse(_)) => {
                return Err(Error::invalid(
                    "min-max scaling",
                    "would make sparse data dense; use standard or none",
                ))
            }
        }
        Ok(Scaler { kind, offset, scale })
    }

    /// Per-channel standardization ([`ScalerKind::Channel`]) of rows that hold `channels`
    /// equal blocks of columns (an image `[C, H, W]` flattened), summed over every rank's rows
    /// with `comm`; the result holds one offset and scale per column.
    ///
    /// ```
    /// use steepest::data::{Features, Scaler};
    /// use steepest::Tensor;
    /// // Two examples of two channels of two pixels.
    /// let x = Features::Dense(Tensor::new(vec![0.0f32, 2.0, 10.0, 10.0, 2.0, 4.0, 30.0, 30.0], &[2, 4])?);
    /// let s = Scaler::fit_channels(&x, 2, None)?;
    /// assert_eq!(s.offset, [2.0, 2.0, 20.0, 20.0]);
    /// assert_eq!(s.scale, [2.0f64.sqrt(), 2.0f64.sqrt(), 10.0, 10.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn fit_channels<T: Scalar>(
        x: &Features<T>,
        channels: usize,
        comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<Scaler> {
        let Features::Dense(t) = x else {
            return Err(Error::invalid("per-channel scaling", "needs dense features"));
        };
        let d = t.row_len();
        if channels == 0 || d % channels != 0 {
            return Err(Error::invalid(
                "per-channel scaling",
                format!("{d} columns do not split into {channels} channels"),
            ));
        }
        let mut alone = SingleProcess;
        let c: &mut dyn Communicator = match comm {
            Some(c) => c,
            None => &mut alone,
        };
        let per = d / channels;
        let mut sum = vec![0.0; channels + 1];
        for r in 0..t.rows_count() {
            for (ch, block) in t.row(r).chunks(per.max(1)).enumerate() {
                sum[ch] += block.iter().map(|v| v.as_f64()).sum::<f64>();
            }
        }
        sum[channels] = (t.rows_count() * per) as f64;
        c.allreduce_sum_f64(&mut sum)?;
        let n = sum[channels].max(1.0);
        let mean: Vec<f64> = sum[..channels].iter().map(|s| s / n).collect();
        let mut sq = vec![0.0; channels];
        for r in 0..t.rows_count() {
            for (ch, block) in t.row(r).chunks(per.max(1)).enumerate() {
                sq[ch] += block.iter().map(|v| (v.as_f64() - mean[ch]).powi(2)).sum::<f64>();
            }
        }
        c.allreduce_sum_f64(&mut sq)?;
        let std: Vec<f64> = sq
            .iter()
            .map(|s| if s / n > 0.0 { (s / n).sqrt() } else { 1.0 })
            .collect();
        Ok(Scaler {
            kind: ScalerKind::Channel,
            offset: (0..d).map(|j| mean[j / per.max(1)]).collect(),
            scale: (0..d).map(|j| std[j / per.max(1)]).collect(),
        })
    }

    /// Applies the scaling to `x` (which must have as many columns as the fit).
    pub fn transform<T: Scalar>(&self, x: &Features<T>) -> Result<Features<T>> {
        if x.cols() != self.scale.len() {
            return Err(Error::invalid(
                "scaler",
                format!("fitted on {} columns, given {}", self.scale.len(), x.cols()),
            ));
        }
        if self.kind == ScalerKind::None {
            return Ok(x.clone());
        }
        Ok(match x {
            Features::Dense(t) => {
                // A new buffer (on huge pages when large: training reads it in shuffled order).
                let d = self.scale.len().max(1);
                let mut data = huge_page_vec(t.len());
                data.extend(t.data().iter().enumerate().map(|(i, v)| {
                    let j = i % d;
                    T::of((v.as_f64() - self.offset[j]) / self.scale[j])
                }));
                Features::Dense(Tensor::new(data, t.shape())?)
            }
            Features::Sparse(s) => {
                let inv: Vec<T> = self.scale.iter().map(|s| T::of(1.0 / s)).collect();
                Features::Sparse(s.scale_columns(&inv)?)
            }
        })
    }
}
