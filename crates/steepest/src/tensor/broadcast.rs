//! Element-wise binary operations with NumPy broadcasting, comparisons into masks, `where`, and
//! the reverse of broadcasting (`sum_to_shape`) that autodiff needs.
//!
//! Broadcasting follows NumPy: shapes are aligned on their last axis; two sizes fit when they are
//! equal or one of them is 1; a missing leading axis counts as 1.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

/// The broadcast shape of `a` and `b`, or `None` when they do not fit.
///
/// ```
/// # use steepest::tensor::broadcast_shape;
/// assert_eq!(broadcast_shape(&[4, 1, 3], &[2, 1]), Some(vec![4, 2, 3]));
/// assert_eq!(broadcast_shape(&[2, 3], &[2]), None);
/// ```
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides of `shape` read as `out` (0 along broadcast axes).
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; out.len()];
    let mut s = 1;
    for (k, &d) in shape.iter().enumerate().rev() {
        let o = k + out.len() - shape.len();
        strides[o] = if d == 1 { 0 } else { s };
        s *= d;
    }
    strides
}

/// Calls `f(out_index, a_offset, b_offset)` for every element of `out` in row-major order.
fn for_each_offset(out: &[usize], sa: &[usize], sb: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let n: usize = out.iter().product();
    if n == 0 {
        return;
    }
    let nd = out.len();
    let mut idx = vec![0usize; nd];
    let (mut oa, mut ob) = (0usize, 0usize);
    for i in 0..n {
        f(i, oa, ob);
        for d in (0..nd).rev() {
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < out[d] {
                break;
            }
            oa -= sa[d] * out[d];
            ob -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

impl<T: Scalar> Tensor<T> {
    /// Applies `f` element-wise to `self` and `other` broadcast together.
    pub fn zip_with(&self, other: &Self, op: &'static str, f: impl Fn(T, T) -> T) -> Result<Self> {
        let (a, b) = (self, other);
        if a.shape == b.shape {
            let data = super::elementwise::map2(a.data(), b.data(), f);
            return Ok(Self::from_parts(a.shape.clone(), data));
        }
        let out = broadcast_shape(&a.shape, &b.shape).ok_or_else(|| Error::shapes(op, &a.shape, &b.shape))?;
        if b.len() == 1 && out == a.shape {
            let y = b.data()[0];
            return Ok(Self::from_parts(out, a.data().iter().map(|&x| f(x, y)).collect()));
        }
        if a.len() == 1 && out == b.shape {
            let x = a.data()[0];
            return Ok(Self::from_parts(out, b.data().iter().map(|&y| f(x, y)).collect()));
        }
        if out == a.shape && !b.is_empty() && a.shape.ends_with(trim_ones(&b.shape)) {
            // The bias-add case: `b` repeats along the leading axes of `a`.
            let mut data = Vec::with_capacity(a.len());
            for chunk in a.data().chunks(b.len()) {
                data.extend(chunk.iter().zip(b.data().iter()).map(|(&x, &y)| f(x, y)));
            }
            return Ok(Self::from_parts(out, data));
        }
        let (sa, sb) = (broadcast_strides(&a.shape, &out), broadcast_strides(&b.shape, &out));
        let mut data = Vec::with_capacity(out.iter().product());
        for_each_offset(&out, &sa, &sb, |_, ia, ib| data.push(f(a.data()[ia], b.data()[ib])));
        Ok(Self::from_parts(out, data))
    }

    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "add", |x, y| x + y)
    }

    /// `self - other`, broadcasting.
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "sub", |x, y| x - y)
    }

    /// `self * other` element-wise, broadcasting.
    pub fn mul(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "mul", |x, y| x * y)
    }

    /// `self / other` element-wise, broadcasting.
    pub fn div(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "div", |x, y| x / y)
    }

    /// Element-wise maximum, broadcasting.
    pub fn maximum(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "maximum", |x, y| if y > x { y } else { x })
    }

    /// Mask (1 where true, 0 elsewhere) of `self > other`, broadcasting.
    pub fn gt(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "gt", |x, y| mask(x > y))
    }

    /// Mask of `self >= other`, broadcasting.
    pub fn ge(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "ge", |x, y| mask(x >= y))
    }

    /// Mask of `self < other`, broadcasting.
    pub fn lt(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "lt", |x, y| mask(x < y))
    }

    /// Mask of `self <= other`, broadcasting.
    pub fn le(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "le", |x, y| mask(x <= y))
    }

    /// Mask of `self == other`, broadcasting.
    pub fn eq_mask(&self, other: &Self) -> Result<Self> {
        self.zip_with(other, "eq", |x, y| mask(x == y))
    }

    /// Materializes `self` broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        match broadcast_shape(&self.shape, shape) {
            Some(out) if out == shape => {}
            _ => return Err(Error::shapes("broadcast_to", &self.shape, shape)),
        }
        if self.shape == shape {
            return Ok(self.clone());
        }
        Ok(self.broadcast_as(shape)?.contiguous())
    }

    /// `where(mask, a, b)`: `a` where `mask` is non-zero, `b` elsewhere; all three broadcast.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f32, 2.0, -3.0]);
    /// let m = x.gt(&Tensor::scalar(0.0)).unwrap();
    /// let y = Tensor::where_(&m, &x, &Tensor::scalar(0.0)).unwrap();
    /// assert_eq!(y.data(), &[0.0, 2.0, 0.0]);
    /// ```
    pub fn where_(mask: &Self, a: &Self, b: &Self) -> Result<Self> {
        let ab = broadcast_shape(&a.shape, &b.shape).ok_or_else(|| Error::shapes("where", &a.shape, &b.shape))?;
        let out = broadcast_shape(&mask.shape, &ab).ok_or_else(|| Error::shapes("where", &mask.shape, &ab))?;
        let (m, a, b) = (mask.broadcast_to(&out)?, a.broadcast_to(&out)?, b.broadcast_to(&out)?);
        let data = m
            .data()
            .iter()
            .zip(a.data().iter().zip(b.data().iter()))
            .map(|(&c, (&x, &y))| if c != T::zero() { x } else { y })
            .collect();
        Ok(Self::from_parts(out, data))
    }

    /// Sums `self` down to `shape`, undoing a broadcast from `shape` to `self.shape()`.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let g = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(g.sum_to_shape(&[3]).unwrap().data(), &[5.0, 7.0, 9.0]);
    /// assert_eq!(g.sum_to_shape(&[2, 1]).unwrap().data(), &[6.0, 15.0]);
    /// ```
    pub fn sum_to_shape(&self, shape: &[usize]) -> Result<Self> {
        if self.shape == shape {
            return Ok(self.clone());
        }
        match broadcast_shape(shape, &self.shape) {
            Some(out) if out == self.shape => {}
            _ => return Err(Error::shapes("sum_to_shape", &self.shape, shape)),
        }
        let n: usize = shape.iter().product();
        let mut acc = vec![T::zero(); n];
        if n > 0 && self.shape.ends_with(trim_ones(shape)) && n == trim_ones(shape).iter().product::<usize>() {
            for chunk in self.data().chunks(n) {
                acc.iter_mut().zip(chunk).for_each(|(a, &v)| *a += v);
            }
        } else {
            let st = broadcast_strides(shape, &self.shape);
            for_each_offset(&self.shape, &st, &st, |i, it, _| acc[it] += self.data()[i]);
        }
        Ok(Self::from_parts(shape.to_vec(), acc))
    }
}

fn mask<T: Scalar>(c: bool) -> T {
    if c {
        T::one()
    } else {
        T::zero()
    }
}

/// `shape` without its leading 1s.
fn trim_ones(shape: &[usize]) -> &[usize] {
    let k = shape.iter().take_while(|&&d| d == 1).count();
    &shape[k..]
}
