//! Softmax, log-softmax and log-sum-exp along one axis, each shifted by the maximum so that no
//! exponential overflows: logsumexp(x) = m + ln sum exp(x - m) with m = max x.

use super::{Scalar, Tensor};
use crate::error::Result;

impl<T: Scalar> Tensor<T> {
    /// Calls `f(values, out)` on every 1-D fibre along `axis` (gathered into a buffer).
    fn per_fibre(&self, op: &'static str, axis: usize, f: impl Fn(&[T], &mut [T])) -> Result<Self> {
        self.check_axis(op, axis)?;
        let (outer, len, inner) = self.axis_split(axis);
        let mut out = vec![T::zero(); self.len()];
        if inner == 1 {
            for (src, dst) in self.data().chunks(len.max(1)).zip(out.chunks_mut(len.max(1))) {
                f(src, dst);
            }
        } else {
            let (mut buf, mut res) = (vec![T::zero(); len], vec![T::zero(); len]);
            for o in 0..outer {
                for i in 0..inner {
                    let at = |k: usize| (o * len + k) * inner + i;
                    (0..len).for_each(|k| buf[k] = self.data()[at(k)]);
                    f(&buf, &mut res);
                    (0..len).for_each(|k| out[at(k)] = res[k]);
                }
            }
        }
        Ok(Self::from_parts(self.shape.clone(), out))
    }

    /// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) along `axis`.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let p = Tensor::from_vec(vec![1000.0f32, 1000.0]).softmax(0).unwrap();
    /// assert_eq!(p.data(), &[0.5, 0.5]);
    /// ```
    pub fn softmax(&self, axis: usize) -> Result<Self> {
        self.per_fibre("softmax", axis, |x, out| {
            let m = fibre_max(x);
            let mut s = T::zero();
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (v - m).exp();
                s += *o;
            }
            out.iter_mut().for_each(|o| *o /= s);
        })
    }

    /// log_softmax(x)_i = x_i - logsumexp(x) along `axis`.
    pub fn log_softmax(&self, axis: usize) -> Result<Self> {
        self.per_fibre("log_softmax", axis, |x, out| {
            let lse = logsumexp(x);
            out.iter_mut().zip(x).for_each(|(o, &v)| *o = v - lse);
        })
    }

    /// logsumexp(x) = m + ln sum exp(x - m) along `axis`.
    pub fn logsumexp(&self, axis: usize, keepdim: bool) -> Result<Self> {
        if self.shape.get(axis) == Some(&0) {
            return Err(crate::Error::invalid(
                "logsumexp",
                format!("axis {axis} of shape {:?} is empty", self.shape),
            ));
        }
        let full = self.per_fibre("logsumexp", axis, |x, out| {
            out[0] = logsumexp(x);
        })?;
        // The result sits at position 0 of each fibre; pick it out.
        let (outer, len, inner) = self.axis_split(axis);
        let mut data = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            data.extend_from_slice(&full.data()[o * len * inner..o * len * inner + inner]);
        }
        Ok(Self::from_parts(self.reduced_shape(axis, keepdim), data))
    }
}

fn fibre_max<T: Scalar>(x: &[T]) -> T {
    x.iter().copied().fold(T::neg_infinity(), T::max)
}

/// Stable log-sum-exp of a slice.
pub(crate) fn logsumexp<T: Scalar>(x: &[T]) -> T {
    let m = fibre_max(x);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
}
