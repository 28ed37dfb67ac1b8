//! Strided views: element `(i0, i1, ...)` of a view is `buf[offset + i0 * s0 + i1 * s1 + ...]`,
//! so permuting, transposing, narrowing and broadcasting (stride 0) move no element, and a
//! reshape of a view keeps it a view where the strides allow (as PyTorch's `view`). The
//! row-major elements of a view are gathered the first time [`Tensor::data`] asks for them and
//! kept with the view, so each view is copied at most once, and only when something reads it
//! in row-major order; matrix products read views through their strides instead.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};
use std::sync::{Arc, OnceLock};

/// Where a view's elements are in its buffer, and their row-major copy once made.
#[derive(Debug)]
pub(super) struct Strided<T> {
    pub(super) strides: Vec<usize>,
    pub(super) offset: usize,
    /// Whether the elements are one row-major block of the buffer (a narrow of the first axis,
    /// a reshape of one): then they are read in place, never copied.
    block: bool,
    dense: OnceLock<Vec<T>>,
}

impl<T: Copy> Strided<T> {
    /// The row-major elements of the view of `shape` over `buf`.
    pub(super) fn dense<'a>(&'a self, buf: &'a [T], shape: &[usize]) -> &'a [T] {
        if self.block {
            return &buf[self.offset..self.offset + shape.iter().product::<usize>()];
        }
        self.dense
            .get_or_init(|| gather(buf, shape, &self.strides, self.offset))
    }
}

/// The buffer offsets of `t`'s elements in row-major order.
pub(super) fn offsets<T>(t: &Tensor<T>) -> impl Iterator<Item = usize> + '_ {
    let (strides, offset) = match &t.view {
        None => (row_major_strides(&t.shape), 0),
        Some(v) => (v.strides.clone(), v.offset),
    };
    let n: usize = t.shape.iter().product();
    let mut idx = vec![0usize; t.shape.len()];
    (0..n).map(move |k| {
        if k > 0 {
            for ax in (0..idx.len()).rev() {
                idx[ax] += 1;
                if idx[ax] < t.shape[ax] {
                    break;
                }
                idx[ax] = 0;
            }
        }
        offset + idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>()
    })
}

/// Row-major strides of `shape`.
pub(super) fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

/// Whether `strides` lay `shape` out row-major without gaps (axes of length 1, whose stride is
/// never used, aside).
fn is_row_major(shape: &[usize], strides: &[usize]) -> bool {
    let mut want = 1;
    for (&len, &stride) in shape.iter().zip(strides).rev() {
        if len != 1 && stride != want {
            return false;
        }
        want *= len;
    }
    true
}

/// The elements of the view `(shape, strides, offset)` of `buf`, row-major.
fn gather<T: Copy>(buf: &[T], shape: &[usize], strides: &[usize], offset: usize) -> Vec<T> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    // Axes that run contiguously into the next are merged (and axes of length 1 dropped), so
    // that the inner loop below copies runs as long as the layout allows.
    let (mut shape_m, mut strides_m): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for (&len, &stride) in shape.iter().zip(strides).filter(|(&len, _)| len != 1) {
        match (shape_m.last_mut(), strides_m.last_mut()) {
            (Some(l), Some(s)) if *s == stride * len => {
                *l *= len;
                *s = stride;
            }
            _ => {
                shape_m.push(len);
                strides_m.push(stride);
            }
        }
    }
    let (shape, strides) = (shape_m.as_slice(), strides_m.as_slice());
    let rank = shape.len();
    if rank == 0 {
        out.push(buf[offset]);
        return out;
    }
    let (last_len, last_stride) = (shape[rank - 1], strides[rank - 1]);
    let mut idx = vec![0usize; rank];
    let mut off = offset;
    loop {
        match last_stride {
            1 => out.extend_from_slice(&buf[off..off + last_len]),
            0 => out.extend(std::iter::repeat_n(buf[off], last_len)),
            s => out.extend((0..last_len).map(|k| buf[off + k * s])),
        }
        // Advance the outer indices.
        let mut ax = rank - 1;
        loop {
            if ax == 0 {
                return out;
            }
            ax -= 1;
            idx[ax] += 1;
            off += strides[ax];
            if idx[ax] < shape[ax] {
                break;
            }
            off -= strides[ax] * idx[ax];
            idx[ax] = 0;
        }
    }
}

/// Strides under which the elements of `(shape, strides)` read in row-major order have
/// `new_shape` (PyTorch's `computeStride`): `None` when some merged or split axis is not
/// contiguous in the view, so that the reshape needs a copy.
fn reshaped_strides(shape: &[usize], strides: &[usize], new_shape: &[usize]) -> Option<Vec<usize>> {
    let mut out = vec![0usize; new_shape.len()];
    if shape.iter().product::<usize>() == 0 {
        return Some(row_major_strides(new_shape));
    }
    // Walk the old axes in chunks that are contiguous among themselves.
    let mut view_d = new_shape.len() as isize - 1;
    let mut chunk_base_stride = *strides.last().unwrap_or(&1);
    let mut tensor_numel = 1usize;
    let mut view_numel = 1usize;
    for tensor_d in (0..shape.len()).rev() {
        tensor_numel *= shape[tensor_d];
        // The end of a chunk: the first axis, or an axis whose neighbour is not contiguous with it.
        if tensor_d == 0 || (shape[tensor_d - 1] != 1 && strides[tensor_d - 1] != tensor_numel * chunk_base_stride) {
            while view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d as usize] == 1) {
                out[view_d as usize] = view_numel * chunk_base_stride;
                view_numel *= new_shape[view_d as usize];
                view_d -= 1;
            }
            if view_numel != tensor_numel {
                return None;
            }
            if tensor_d > 0 {
                chunk_base_stride = strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    (view_d == -1).then_some(out)
}

impl<T: Scalar> Tensor<T> {
    /// The distance in the buffer between consecutive elements along each axis: row-major for
    /// a contiguous tensor, 0 along a broadcast axis.
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::<f32>::zeros(&[2, 3, 4]);
    /// assert_eq!(t.strides(), vec![12, 4, 1]);
    /// assert_eq!(t.permute(&[2, 0, 1])?.strides(), vec![1, 12, 4]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn strides(&self) -> Vec<usize> {
        match &self.view {
            None => row_major_strides(&self.shape),
            Some(v) => v.strides.clone(),
        }
    }

    /// Where the first element is in the buffer (0 unless a view starts further in).
    pub fn offset(&self) -> usize {
        self.view.as_ref().map_or(0, |v| v.offset)
    }

    /// Whether the buffer holds exactly the elements, row-major (not a view).
    pub fn is_contiguous(&self) -> bool {
        self.view.is_none()
    }

    /// The tensor with its own contiguous row-major buffer: `self` shared when it already is
    /// one, a view's elements gathered (once) otherwise.
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::new((0..6).map(|v| v as f32).collect(), &[2, 3])?;
    /// let v = t.transpose_axes(0, 1)?;
    /// assert!(!v.is_contiguous());
    /// let c = v.contiguous();
    /// assert!(c.is_contiguous());
    /// assert_eq!(c.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn contiguous(&self) -> Self {
        match &self.view {
            None => self.clone(),
            Some(_) => Self::from_parts(self.shape.clone(), self.data().to_vec()),
        }
    }

    /// Turns a view into a contiguous tensor in place (its gathered elements reused).
    pub(super) fn make_contiguous(&mut self) {
        if let Some(v) = self.view.take() {
            let dense = match Arc::try_unwrap(v) {
                Ok(mut owned) => match owned.dense.take() {
                    Some(d) => d,
                    None => owned.dense(&self.buf, &self.shape).to_vec(),
                },
                Err(shared) => shared.dense(&self.buf, &self.shape).to_vec(),
            };
            self.buf = Arc::new(dense);
        }
    }

    /// The view `(shape, strides, offset)` of this tensor's buffer (strides and offset in the
    /// buffer's terms, as [`Tensor::strides`] and [`Tensor::offset`] give them); a contiguous
    /// tensor when the view is the whole buffer in row-major order.
    pub(crate) fn as_strided(&self, shape: Vec<usize>, strides: Vec<usize>, offset: usize) -> Self {
        let n: usize = shape.iter().product();
        let block = is_row_major(&shape, &strides);
        if block && offset == 0 && n == self.buf.len() {
            return Self {
                shape,
                buf: Arc::clone(&self.buf),
                view: None,
            };
        }
        Self {
            shape,
            buf: Arc::clone(&self.buf),
            view: Some(Arc::new(Strided {
                strides,
                offset,
                block,
                dense: OnceLock::new(),
            })),
        }
    }

    /// The axes reordered: output axis `i` is input axis `axes[i]` (NumPy's `transpose(axes)`,
    /// PyTorch's `permute`), as a view.
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
        let strides = self.strides();
        Ok(self.as_strided(
            axes.iter().map(|&a| s[a]).collect(),
            axes.iter().map(|&a| strides[a]).collect(),
            self.offset(),
        ))
    }

    /// Axes `a` and `b` swapped (PyTorch's `transpose(a, b)`), as a view.
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::<f32>::zeros(&[2, 3, 4]);
    /// assert_eq!(t.transpose_axes(0, 2)?.shape(), &[4, 3, 2]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn transpose_axes(&self, a: usize, b: usize) -> Result<Self> {
        let mut axes: Vec<usize> = (0..self.ndim()).collect();
        if a >= axes.len() || b >= axes.len() {
            return Err(Error::invalid(
                "transpose",
                format!("axes {a} and {b} of shape {:?}", self.shape()),
            ));
        }
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Elements `start..start + len` along `axis` (PyTorch's `narrow`), as a view.
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
        let strides = self.strides();
        let mut shape = s.to_vec();
        shape[axis] = len;
        let offset = if len == 0 {
            self.offset()
        } else {
            self.offset() + start * strides[axis]
        };
        Ok(self.as_strided(shape, strides, offset))
    }

    /// `self` repeated along new leading axes and along its axes of length 1 to `shape`
    /// (NumPy's broadcasting rules), as a view with stride 0 on the repeated axes (PyTorch's
    /// `expand`).
    ///
    /// ```
    /// use steepest::Tensor;
    /// let b = Tensor::new(vec![1.0f32, 2.0, 3.0], &[3])?;
    /// let v = b.broadcast_as(&[2, 3])?;
    /// assert_eq!(v.strides(), vec![0, 1]);
    /// assert_eq!(v.data(), &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn broadcast_as(&self, shape: &[usize]) -> Result<Self> {
        let s = self.shape();
        let lead = shape.len().checked_sub(s.len());
        let fits = lead.is_some_and(|lead| s.iter().zip(&shape[lead..]).all(|(&a, &b)| a == b || a == 1));
        let Some(lead) = lead.filter(|_| fits) else {
            return Err(Error::shapes("broadcast_as", s, shape));
        };
        let old = self.strides();
        let strides = (0..shape.len())
            .map(|i| match i.checked_sub(lead) {
                Some(j) if s[j] == shape[i] => old[j],
                _ => 0,
            })
            .collect();
        Ok(self.as_strided(shape.to_vec(), strides, self.offset()))
    }

    /// The same elements under a new shape with as many: a view sharing the buffer when the
    /// strides allow (always for a contiguous tensor), else a copy.
    ///
    /// ```
    /// use steepest::Tensor;
    /// let t = Tensor::new((0..6).map(|v| v as f32).collect(), &[2, 3])?;
    /// assert_eq!(t.reshape(&[3, 2])?.shape(), &[3, 2]);
    /// let n = t.narrow(0, 1, 1)?.reshape(&[3])?; // still a view
    /// assert_eq!((n.data(), n.strides()), (&[3.0, 4.0, 5.0][..], vec![1]));
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(Error::shapes("reshape", &self.shape, shape));
        }
        if self.view.is_none() {
            return Ok(Self {
                shape: shape.to_vec(),
                buf: Arc::clone(&self.buf),
                view: None,
            });
        }
        Ok(match reshaped_strides(&self.shape, &self.strides(), shape) {
            Some(strides) => self.as_strided(shape.to_vec(), strides, self.offset()),
            None => self.contiguous().reshape(shape)?,
        })
    }

    /// The whole buffer a view reads, for readers that follow [`Tensor::strides`] from
    /// [`Tensor::offset`] (matrix products).
    pub(crate) fn buffer(&self) -> &[T] {
        &self.buf
    }
}
