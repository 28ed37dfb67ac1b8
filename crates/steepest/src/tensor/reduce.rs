//! Reductions over all elements or along one axis (optionally keeping it with size 1).

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

impl<T: Scalar> Tensor<T> {
    /// Sum of all elements.
    pub fn sum_all(&self) -> T {
        self.data().iter().copied().sum()
    }

    /// Mean of all elements (NaN for an empty tensor).
    pub fn mean_all(&self) -> T {
        self.sum_all() / T::of(self.len() as f64)
    }

    /// Largest element (an error for an empty tensor); NaN propagates.
    pub fn max_all(&self) -> Result<T> {
        let i = self.argmax_all()?;
        Ok(self.data()[i])
    }

    /// Flat index of the largest element (the first one on ties; a NaN wins).
    pub fn argmax_all(&self) -> Result<usize> {
        argmax(self.data().iter().copied()).ok_or_else(|| Error::invalid("argmax", "empty tensor"))
    }

    /// Reduces along `axis` with `f(out_slot, value)` starting from `init`.
    fn reduce_axis(
        &self,
        op: &'static str,
        axis: usize,
        keepdim: bool,
        init: T,
        f: impl Fn(&mut T, T),
    ) -> Result<Self> {
        self.check_axis(op, axis)?;
        let (outer, len, inner) = self.axis_split(axis);
        let mut out = vec![init; outer * inner];
        for o in 0..outer {
            let dst = &mut out[o * inner..(o + 1) * inner];
            for k in 0..len {
                let src = &self.data()[(o * len + k) * inner..(o * len + k + 1) * inner];
                dst.iter_mut().zip(src).for_each(|(d, &v)| f(d, v));
            }
        }
        Ok(Self::from_parts(self.reduced_shape(axis, keepdim), out))
    }

    /// Shape after reducing `axis`.
    pub(crate) fn reduced_shape(&self, axis: usize, keepdim: bool) -> Vec<usize> {
        let mut s = self.shape.clone();
        if keepdim {
            s[axis] = 1;
        } else {
            s.remove(axis);
        }
        s
    }

    /// Sum along `axis`.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.sum_axis(1, true).unwrap().shape(), &[2, 1]);
    /// assert_eq!(t.sum_axis(1, false).unwrap().data(), &[6.0, 15.0]);
    /// ```
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        self.reduce_axis("sum", axis, keepdim, T::zero(), |d, v| *d += v)
    }

    /// Mean along `axis`.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        let n = T::of(*self.shape.get(axis).unwrap_or(&1) as f64);
        Ok(self.sum_axis(axis, keepdim)?.map(|v| v / n))
    }

    /// Maximum along `axis` (NaN propagates).
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        if self.shape.get(axis) == Some(&0) {
            return Err(Error::invalid(
                "max",
                format!("axis {axis} of shape {:?} is empty", self.shape),
            ));
        }
        self.reduce_axis("max", axis, keepdim, T::neg_infinity(), |d, v| {
            if v > *d || v.is_nan() {
                *d = v
            }
        })
    }

    /// Index of the maximum along `axis`, for every position of the other axes in row-major
    /// order (first index on ties).
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::new(vec![1.0f32, 9.0, 3.0, 7.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.argmax_axis(1).unwrap(), vec![1, 0]);
    /// assert_eq!(t.argmax_axis(0).unwrap(), vec![1, 0, 1]);
    /// ```
    pub fn argmax_axis(&self, axis: usize) -> Result<Vec<usize>> {
        self.check_axis("argmax", axis)?;
        let (outer, len, inner) = self.axis_split(axis);
        if len == 0 {
            return Err(Error::invalid(
                "argmax",
                format!("axis {axis} of shape {:?} is empty", self.shape),
            ));
        }
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let it = (0..len).map(|k| self.data()[(o * len + k) * inner + i]);
                out.push(argmax(it).unwrap_or(0));
            }
        }
        Ok(out)
    }
}

/// Index of the largest item (first on ties, NaN counts as largest).
pub(crate) fn argmax<T: Scalar>(it: impl Iterator<Item = T>) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in it.enumerate() {
        match best {
            Some((_, b)) if b.is_nan() || !(v > b || v.is_nan()) => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}
