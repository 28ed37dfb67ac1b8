//! Moving elements between layouts: N-D permutation, a slice along any axis, rows selected by
//! index and their adjoint (added back by index), and products batched over leading axes.

use super::{matmul_slices, split_threads, MatRef, Scalar, Tensor};
use crate::error::{Error, Result};
use rayon::prelude::*;

impl<T: Scalar> Tensor<T> {
    /// The axes reordered: output axis `i` is input axis `axes[i]` (NumPy's `transpose(axes)`,
    /// PyTorch's `permute`).
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::new((0..6).map(|v| v as f32).collect(), &[1, 2, 3])?;
    /// let p = t.permute(&[2, 0, 1])?;
    /// assert_eq!(p.shape(), &[3, 1, 2]);
    /// assert_eq!(p.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn permute(&self, axes: &[usize]) -> Result<Self> {
        let s = self.shape();
        let mut seen = vec![false; s.len()];
        if axes.len() != s.len()
            || axes
                .iter()
                .any(|&a| a >= s.len() || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::invalid(
                "permute",
                format!("{axes:?} is not a permutation of the axes of {s:?}"),
            ));
        }
        let out_shape: Vec<usize> = axes.iter().map(|&a| s[a]).collect();
        let mut strides = vec![1usize; s.len()];
        for i in (0..s.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * s[i + 1];
        }
        let src_strides: Vec<usize> = axes.iter().map(|&a| strides[a]).collect();
        let n = self.len();
        let mut out = Vec::with_capacity(n);
        if n > 0 {
            let rank = out_shape.len();
            let mut idx = vec![0usize; rank];
            let mut off = 0usize;
            let src = self.data();
            // The innermost output axis runs contiguously in the loop below.
            let (last_len, last_stride) = (out_shape[rank - 1], src_strides[rank - 1]);
            loop {
                for k in 0..last_len {
                    out.push(src[off + k * last_stride]);
                }
                // Advance the outer indices.
                let mut ax = rank - 1;
                loop {
                    if ax == 0 {
                        return Tensor::new(out, &out_shape);
                    }
                    ax -= 1;
                    idx[ax] += 1;
                    off += src_strides[ax];
                    if idx[ax] < out_shape[ax] {
                        break;
                    }
                    off -= src_strides[ax] * idx[ax];
                    idx[ax] = 0;
                }
            }
        }
        Tensor::new(out, &out_shape)
    }

    /// Elements `start..start + len` along `axis` (PyTorch's `narrow`).
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::new((0..6).map(|v| v as f32).collect(), &[2, 3])?;
    /// assert_eq!(t.narrow(1, 1, 2)?.data(), &[1.0, 2.0, 4.0, 5.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Self> {
        let s = self.shape();
        if axis >= s.len() || start + len > s[axis] {
            return Err(Error::invalid(
                "narrow",
                format!("elements {start}..{} of axis {axis} of {s:?}", start + len),
            ));
        }
        let outer: usize = s[..axis].iter().product();
        let inner: usize = s[axis + 1..].iter().product();
        let mut out = Vec::with_capacity(outer * len * inner);
        for o in 0..outer {
            let base = (o * s[axis] + start) * inner;
            out.extend_from_slice(&self.data()[base..base + len * inner]);
        }
        let mut shape = s.to_vec();
        shape[axis] = len;
        Tensor::new(out, &shape)
    }

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
    /// `op` transposes the last two axes when its flag is set (through strides, no copy), and
    /// both have the same leading axes (or `b` is 2-D and shared by every batch). Each product
    /// goes through [`gemm`]; batches run in parallel when several threads are set.
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
        let (ad, bd) = (self.data(), b.data());
        fn view<T>(d: &[T], r: usize, c: usize, t: bool) -> MatRef<'_, T> {
            let v = MatRef::row_major(d, r, c);
            if t {
                v.t()
            } else {
                v
            }
        }
        let one = |i: usize, o: &mut [T]| {
            let a = view(&ad[i * ar * ac..(i + 1) * ar * ac], ar, ac, ta);
            let bi = if shared { 0 } else { i };
            let bm = view(&bd[bi * br * bc..(bi + 1) * br * bc], br, bc, tb);
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
