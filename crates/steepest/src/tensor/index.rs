//! Integer index tensors and the ops that read or write by them along any axis: PyTorch's
//! `index_select` and its adjoint `index_add`, `gather` and its adjoint `scatter_add`.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

/// A tensor of indices (PyTorch's `LongTensor`): a shape and its `usize` elements in row-major
/// order, for [`Tensor::gather`] and [`Tensor::scatter_add`].
///
/// ```
/// use steepest::tensor::Indices;
/// let i = Indices::new(vec![0, 2, 1, 1], &[2, 2])?;
/// assert_eq!((i.shape(), i.data()), (&[2, 2][..], &[0, 2, 1, 1][..]));
/// assert!(Indices::new(vec![0, 1, 2], &[2, 2]).is_err());
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indices {
    shape: Vec<usize>,
    data: Vec<usize>,
}

impl Indices {
    /// `data` as indices of `shape`; the lengths must agree.
    pub fn new(data: Vec<usize>, shape: &[usize]) -> Result<Self> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(Error::invalid(
                "Indices::new",
                format!("{} indices cannot have shape {shape:?}", data.len()),
            ));
        }
        Ok(Self {
            shape: shape.to_vec(),
            data,
        })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The indices in row-major order.
    pub fn data(&self) -> &[usize] {
        &self.data
    }
}

/// `(outer, len, inner)` sizes around `axis` of `shape`.
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

fn check_indices(op: &'static str, idx: &[usize], len: usize, axis: usize) -> Result<()> {
    match idx.iter().find(|&&i| i >= len) {
        Some(bad) => Err(Error::invalid(
            op,
            format!("index {bad} out of range for axis {axis} of length {len}"),
        )),
        None => Ok(()),
    }
}

impl<T: Scalar> Tensor<T> {
    /// The slices at `idx` (repeats allowed) along `axis`: `out[.., k, ..] = self[.., idx[k], ..]`
    /// (PyTorch's `index_select`).
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::new((0..6).map(|v| v as f32).collect(), &[2, 3])?;
    /// assert_eq!(t.index_select(1, &[2, 0, 2])?.data(), &[2.0, 0.0, 2.0, 5.0, 3.0, 5.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn index_select(&self, axis: usize, idx: &[usize]) -> Result<Self> {
        self.check_axis("index_select", axis)?;
        let (outer, len, inner) = split(self.shape(), axis);
        check_indices("index_select", idx, len, axis)?;
        let src = self.data();
        let mut out = Vec::with_capacity(outer * idx.len() * inner);
        for o in 0..outer {
            for &i in idx {
                let at = (o * len + i) * inner;
                out.extend_from_slice(&src[at..at + inner]);
            }
        }
        let mut shape = self.shape().to_vec();
        shape[axis] = idx.len();
        Tensor::new(out, &shape)
    }

    /// Adds slice `k` of `src` along `axis` into slice `idx[k]` of `self` (PyTorch's
    /// `index_add_`, the adjoint of [`Tensor::index_select`]).
    pub fn index_add(&mut self, axis: usize, idx: &[usize], src: &Self) -> Result<()> {
        self.check_axis("index_add", axis)?;
        let (outer, len, inner) = split(self.shape(), axis);
        let mut want = self.shape().to_vec();
        want[axis] = idx.len();
        if src.shape() != want.as_slice() {
            return Err(Error::shapes("index_add", &want, src.shape()));
        }
        check_indices("index_add", idx, len, axis)?;
        let s = src.data();
        let d = self.data_mut();
        for o in 0..outer {
            for (k, &i) in idx.iter().enumerate() {
                let (to, from) = ((o * len + i) * inner, (o * idx.len() + k) * inner);
                d[to..to + inner]
                    .iter_mut()
                    .zip(&s[from..from + inner])
                    .for_each(|(a, &b)| *a += b);
            }
        }
        Ok(())
    }

    /// Elements picked along `axis` by `index` (PyTorch's `gather`): `index` has the rank of
    /// `self` and no axis longer than `self`'s but `axis`; the output has `index`'s shape, with
    /// `out[i][j][k] = self[index[i][j][k]][j][k]` for `axis` 0 (and so on).
    ///
    /// ```
    /// use steepest::tensor::{Indices, Tensor};
    /// let t = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let i = Indices::new(vec![0, 0, 1, 0], &[2, 2])?;
    /// assert_eq!(t.gather(1, &i)?.data(), &[1.0, 1.0, 4.0, 3.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn gather(&self, axis: usize, index: &Indices) -> Result<Self> {
        self.check_gather("gather", axis, index)?;
        let src = self.data();
        let out = gather_offsets(self.shape(), axis, index).map(|at| src[at]).collect();
        Tensor::new(out, index.shape())
    }

    /// Adds each element of `src` (the shape of `index`) into `self` at the place
    /// [`Tensor::gather`] would read it from (PyTorch's `scatter_add_`, the adjoint of `gather`).
    ///
    /// ```
    /// use steepest::tensor::{Indices, Tensor};
    /// let mut t = Tensor::<f32>::zeros(&[2, 2]);
    /// let i = Indices::new(vec![0, 0, 1, 0], &[2, 2])?;
    /// t.scatter_add(1, &i, &Tensor::new(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])?)?;
    /// assert_eq!(t.data(), &[3.0, 0.0, 4.0, 3.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn scatter_add(&mut self, axis: usize, index: &Indices, src: &Self) -> Result<()> {
        self.check_gather("scatter_add", axis, index)?;
        if src.shape() != index.shape() {
            return Err(Error::shapes("scatter_add", index.shape(), src.shape()));
        }
        let offsets: Vec<usize> = gather_offsets(self.shape(), axis, index).collect();
        let d = self.data_mut();
        for (at, &v) in offsets.into_iter().zip(src.data()) {
            d[at] += v;
        }
        Ok(())
    }

    fn check_gather(&self, op: &'static str, axis: usize, index: &Indices) -> Result<()> {
        self.check_axis(op, axis)?;
        let (s, is) = (self.shape(), index.shape());
        if is.len() != s.len() || is.iter().zip(s).enumerate().any(|(d, (i, n))| d != axis && i > n) {
            return Err(Error::invalid(
                op,
                format!("an index of shape {is:?} does not fit a tensor of shape {s:?} along axis {axis}"),
            ));
        }
        check_indices(op, index.data(), s[axis], axis)
    }
}

/// The offset in a row-major tensor of `shape` of each element [`Tensor::gather`] reads, in
/// the order of `index`.
fn gather_offsets<'a>(shape: &'a [usize], axis: usize, index: &'a Indices) -> impl Iterator<Item = usize> + 'a {
    let strides = super::view::row_major_strides(shape);
    let is = index.shape();
    let mut pos = vec![0usize; is.len()];
    index.data().iter().enumerate().map(move |(k, &i)| {
        if k > 0 {
            for d in (0..pos.len()).rev() {
                pos[d] += 1;
                if pos[d] < is[d] {
                    break;
                }
                pos[d] = 0;
            }
        }
        pos.iter()
            .zip(&strides)
            .enumerate()
            .map(|(d, (&p, &st))| if d == axis { i * st } else { p * st })
            .sum()
    })
}
