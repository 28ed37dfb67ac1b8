//! Moving elements between layouts: N-D permutation, a slice along any axis, rows selected by
//! index and their adjoint (added back by index), and products batched over leading axes.

use super::matmul::strided_matrix;
use super::{matmul_slices, split_threads, MatRef, Scalar, Tensor};
use crate::error::{Error, Result};
use rayon::prelude::*;

impl<T: Scalar> Tensor<T> {
    /// Adds `g` (the shape of a [`Tensor::narrow`] of `self`) into elements `start..` of `axis`:
    /// the adjoint of `narrow`.
    pub fn narrow_add(&mut self, axis: usize, start: usize, g: &Self) -> Result<()> {
        let s = self.shape().to_vec();
        let len = g.shape().get(axis).copied().unwrap_or(0);
        if axis >= s.len() || start + len > s[axis] || g.len() != self.len() / s[axis] * len {
            return Err(Error::invalid("narrow", "gradient does not fit"));
        }
        let outer: usize = s[..axis].iter().product();
        let inner: usize = s[axis + 1..].iter().product();
        for o in 0..outer {
            let base = (o * s[axis] + start) * inner;
            let src = &g.data()[o * len * inner..(o + 1) * len * inner];
            self.data_mut()[base..base + len * inner]
                .iter_mut()
                .zip(src)
                .for_each(|(a, &b)| *a += b);
        }
        Ok(())
    }

    /// Rows of the first axis by index (repeats allowed): `index_select(0, idx)`, the lookup
    /// of an embedding table. Indices are checked.
    pub fn index_select_rows(&self, idx: &[usize]) -> Result<Self> {
        let n = self.shape().first().copied().unwrap_or(0);
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                "index_select",
                format!("index {bad} out of range for {n} rows"),
            ));
        }
        self.gather_rows(idx)
    }

    /// Adds row `k` of `src` into row `idx[k]` of `self` (PyTorch's `index_add_` on the first
    /// axis, the adjoint of [`Tensor::index_select_rows`]).
    pub fn scatter_add_rows(&mut self, idx: &[usize], src: &Self) -> Result<()> {
        let w = self.row_len();
        let n = self.shape().first().copied().unwrap_or(0);
        if src.len() != idx.len() * w {
            return Err(Error::invalid("scatter_add", "source rows do not match the indices"));
        }
        for (k, &i) in idx.iter().enumerate() {
            if i >= n {
                return Err(Error::invalid(
                    "scatter_add",
                    format!("index {i} out of range for {n} rows"),
                ));
            }
            let s = &src.data()[k * w..(k + 1) * w];
            self.data_mut()[i * w..(i + 1) * w]
                .iter_mut()
                .zip(s)
                .for_each(|(a, &b)| *a += b);
        }
        Ok(())
    }

    /// Matrix products batched over the leading axes: `op(a)[..., m, k] op(b)[..., k, n]`, where
    /// `op` transposes the last two axes when its flag is set, and both have the same leading
    /// axes (or `b` is 2-D and shared by every batch). Both are read through their strides, so
    /// views (a permutation of heads and positions, a transpose, a narrowed block) are never
    /// copied. Each product goes through [`gemm`]; batches run in parallel when several threads
    /// are set.
    ///
    /// ```
    /// use steepest::Tensor;
    /// let a = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 1.0, 0.0, 0.0, 1.0], &[2, 2, 2])?;
    /// let b = Tensor::new(vec![1.0f32, 1.0, 0.0, 1.0], &[2, 2])?;
    /// let c = a.bmm(&b, false, false)?;
    /// assert_eq!(c.data(), &[1.0, 3.0, 3.0, 7.0, 1.0, 1.0, 0.0, 1.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn bmm(&self, b: &Self, ta: bool, tb: bool) -> Result<Self> {
        let (sa, sb) = (self.shape(), b.shape());
        if sa.len() < 2 || sb.len() < 2 || (sb.len() != 2 && sa[..sa.len() - 2] != sb[..sb.len() - 2]) {
            return Err(Error::ShapeMismatch {
                op: "bmm",
                lhs: sa.to_vec(),
                rhs: sb.to_vec(),
            });
        }
        let (ar, ac) = (sa[sa.len() - 2], sa[sa.len() - 1]);
        let (br, bc) = (sb[sb.len() - 2], sb[sb.len() - 1]);
        let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
        let (k2, n) = if tb { (bc, br) } else { (br, bc) };
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op: "bmm",
                lhs: sa.to_vec(),
                rhs: sb.to_vec(),
            });
        }
        let batch: usize = sa[..sa.len() - 2].iter().product();
        let shared = sb.len() == 2;
        let mut shape = sa[..sa.len() - 2].to_vec();
        shape.extend([m, n]);
        let mut out = vec![T::zero(); batch * m * n];
        let (a_at, b_at) = (batch_offsets(self), batch_offsets(b));
        fn view<T: Scalar>(t: &Tensor<T>, at: usize, r: usize, c: usize, trans: bool) -> MatRef<'_, T> {
            let v = strided_matrix(t, at, r, c);
            if trans {
                v.t()
            } else {
                v
            }
        }
        let one = |i: usize, o: &mut [T]| {
            let a = view(self, a_at[i], ar, ac, ta);
            let bm = view(b, b_at[if shared { 0 } else { i }], br, bc, tb);
            matmul_slices(o, n, a, bm, false).expect("shapes checked");
        };
        if m * n > 0 {
            if split_threads() > 1 && batch > 1 && batch * m * n * k >= 1 << 16 {
                out.par_chunks_mut(m * n).enumerate().for_each(|(i, o)| one(i, o));
            } else {
                out.chunks_mut(m * n).enumerate().for_each(|(i, o)| one(i, o));
            }
        }
        Tensor::new(out, &shape)
    }
}

/// The buffer offset of each matrix (the last two axes) of `t`, over its leading axes in
/// row-major order.
fn batch_offsets<T: Scalar>(t: &Tensor<T>) -> Vec<usize> {
    let (shape, strides, base) = (t.shape(), t.strides(), t.offset());
    let lead = shape.len().saturating_sub(2);
    let mut offsets = vec![base];
    for ax in 0..lead {
        let (len, stride) = (shape[ax], strides[ax]);
        offsets = offsets
            .iter()
            .flat_map(|&o| (0..len).map(move |i| o + i * stride))
            .collect();
    }
    offsets
}
