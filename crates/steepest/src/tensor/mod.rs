//! N-dimensional arrays of `f32` (the default) or `f64`: contiguous row-major buffers shared
//! between clones, and strided views of them.
//!
//! The layer below everything else: element-wise arithmetic with NumPy broadcasting, the usual
//! activation functions, reductions over everything or one axis, matrix products through the
//! [`gemm`] crate, numerically stable softmax, and a CSR sparse matrix ([`CsrMatrix`]).
//!
//! ```
//! use steepest::tensor::Tensor;
//! let a = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
//! let b = Tensor::new(vec![10.0f32, 20.0, 30.0], &[3])?;
//! let c = a.add(&b)?; // [2, 3] + [3] broadcasts over rows
//! assert_eq!(c.data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
//! assert_eq!(c.sum_axis(0, false)?.data(), &[25.0, 47.0, 69.0]);
//! # Ok::<(), steepest::Error>(())
//! ```

/// Defines `fn $name<T: Scalar>(args)` that runs `$generic(args)` (an `#[inline(always)]`
/// element-wise loop) compiled for AVX-512F, for AVX2 with FMA, or for the baseline target, as
/// the running CPU allows, so that the loop vectorizes as wide as the machine does. Rust never
/// fuses a multiply and an add by itself, so every variant computes the same bits.
macro_rules! multiversion {
    (fn $name:ident<T>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $generic:ident) => {
        fn $name<T: $crate::tensor::Scalar>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn wide<T: $crate::tensor::Scalar>($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2<T: $crate::tensor::Scalar>($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features the function was compiled for.
                    return unsafe { wide($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}
pub(crate) use multiversion;

mod broadcast;
mod cholesky;
mod conv;
mod denormal;
pub mod elementwise;
pub(crate) mod exp;
mod huge_pages;
mod index;
mod layout;
mod matmul;
mod norm;
pub mod pool;
mod pool2d;
mod random;
pub(crate) mod reduce;
mod scalar;
mod shape_ops;
pub(crate) mod softmax;
mod sparse;
pub(crate) mod unary;
mod view;

pub use broadcast::broadcast_shape;
pub use cholesky::Cholesky;
pub use conv::{channel_sum, conv2d, conv2d_backward, conv_out_len, Conv2dGeometry};
pub use denormal::{flush_denormals_everywhere, set_flush_denormals};
pub use huge_pages::{huge_page_vec, huge_pages_only_where_advised, HUGE_PAGES_MIN_BYTES};
pub use index::Indices;
pub(crate) use matmul::split_threads;
pub use matmul::{
    matmul_into, matmul_slices, matmul_slices_strided, num_threads, set_num_threads, with_serial_matmul, MatRef,
};
pub use norm::{normalize, normalize_backward, NormKind, NormLayout, NormStats};
pub use pool2d::{
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d, avg_pool2d_backward, max_pool2d,
    max_pool2d_backward, Pool2dGeometry,
};
pub use random::{rng, Rng};
pub use scalar::Scalar;
pub use sparse::CsrMatrix;

use crate::error::{Error, Result};
use std::sync::Arc;

/// Hints the CPU to bring `row` into the cache (every 64-byte line of it); no effect on the
/// values. For loops that will read rows in an order the hardware prefetcher cannot guess.
#[inline]
pub(crate) fn prefetch<T>(row: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = std::mem::size_of_val(row);
        let p = row.as_ptr() as *const i8;
        for off in (0..bytes).step_by(64) {
            // SAFETY: prefetching has no effect on memory; the address is inside `row`.
            unsafe { std::arch::x86_64::_mm_prefetch(p.add(off), std::arch::x86_64::_MM_HINT_T0) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// A tensor: a shape over a shared buffer of elements, read either in contiguous row-major
/// order or, for a view, through per-axis strides from an offset.
///
/// A tensor of shape `[]` is a scalar holding one element. The buffer is shared between clones
/// and copied on the first write to a shared one ([`Tensor::data_mut`]), so a clone (a
/// parameter bound to a tape, a reshape) costs no copy. [`Tensor::permute`],
/// [`Tensor::transpose_axes`], [`Tensor::narrow`], [`Tensor::broadcast_as`] and
/// [`Tensor::reshape`] (where the strides allow) return views that move no element; matrix
/// products read views through their strides, and [`Tensor::data`] gives a view's elements in
/// row-major order: in place for a block of whole rows, otherwise gathered once on first use
/// and kept (see [`Tensor::contiguous`]).
#[derive(Clone, Debug)]
pub struct Tensor<T = f32> {
    shape: Vec<usize>,
    buf: Arc<Vec<T>>,
    /// `None`: the buffer holds exactly the elements, row-major.
    view: Option<Arc<view::Strided<T>>>,
}

impl<T> Default for Tensor<T> {
    /// An empty one-dimensional tensor.
    fn default() -> Self {
        Self {
            shape: vec![0],
            buf: Arc::new(Vec::new()),
            view: None,
        }
    }
}

impl<T: PartialEq> PartialEq for Tensor<T> {
    /// Same shape and same elements (whatever the layouts).
    fn eq(&self, other: &Self) -> bool {
        if self.shape != other.shape {
            return false;
        }
        if self.view.is_none() && other.view.is_none() {
            return self.buf == other.buf;
        }
        let (a, b) = (view::offsets(self), view::offsets(other));
        a.zip(b).all(|(i, j)| self.buf[i] == other.buf[j])
    }
}

/// A tensor as files hold it: its shape and its elements in row-major order.
#[derive(serde::Serialize)]
struct DenseRef<'a, T> {
    shape: &'a [usize],
    data: &'a [T],
}

#[derive(serde::Deserialize)]
struct Dense<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Scalar> serde::Serialize for Tensor<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        DenseRef {
            shape: &self.shape,
            data: self.data(),
        }
        .serialize(s)
    }
}

impl<'de, T: Scalar> serde::Deserialize<'de> for Tensor<T> {
    /// Refuses a shape whose element count differs from the data's.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let Dense { shape, data } = Dense::deserialize(d)?;
        Tensor::new(data, &shape).map_err(serde::de::Error::custom)
    }
}

impl<T: Scalar> Tensor<T> {
    /// Wraps `data` as a tensor of `shape`; the lengths must agree.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::new(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// assert_eq!(t.shape(), &[2, 2]);
    /// assert!(Tensor::new(vec![1.0f32; 3], &[2, 2]).is_err());
    /// ```
    pub fn new(data: Vec<T>, shape: &[usize]) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::invalid(
                "Tensor::new",
                format!("{} elements cannot have shape {:?} ({} elements)", data.len(), shape, n),
            ));
        }
        Ok(Self::from_parts(shape.to_vec(), data))
    }

    /// A one-dimensional tensor holding `data`.
    pub fn from_vec(data: Vec<T>) -> Self {
        Self::from_parts(vec![data.len()], data)
    }

    /// A 2-D tensor from equal-length rows.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::from_rows(&[vec![1.0f32, 2.0], vec![3.0, 4.0]]).unwrap();
    /// assert_eq!(t.shape(), &[2, 2]);
    /// ```
    pub fn from_rows(rows: &[Vec<T>]) -> Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != cols {
                return Err(Error::invalid(
                    "Tensor::from_rows",
                    format!("row {i} has {} elements, row 0 has {cols}", r.len()),
                ));
            }
            data.extend_from_slice(r);
        }
        Tensor::new(data, &[rows.len(), cols])
    }

    /// A scalar (shape `[]`).
    pub fn scalar(v: T) -> Self {
        Self::from_parts(vec![], vec![v])
    }

    /// A tensor of `shape` filled with `v`.
    pub fn full(shape: &[usize], v: T) -> Self {
        Self::from_parts(shape.to_vec(), vec![v; shape.iter().product()])
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// `[start, start + step, ...]` up to but excluding `end`, like `numpy.arange`.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// assert_eq!(Tensor::<f32>::arange(0.0, 1.0, 0.25).unwrap().data(), &[0.0, 0.25, 0.5, 0.75]);
    /// ```
    pub fn arange(start: f64, end: f64, step: f64) -> Result<Self> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "arange",
                "start, end and step must be finite, step non-zero",
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        Ok(Self::from_vec((0..n).map(|i| T::of(start + i as f64 * step)).collect()))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self.view {
            None => self.buf.len(),
            Some(_) => self.shape.iter().product(),
        }
    }

    /// Whether the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in row-major order (a view's gathered on first use, then kept).
    pub fn data(&self) -> &[T] {
        match &self.view {
            None => &self.buf,
            Some(v) => v.dense(&self.buf, &self.shape),
        }
    }

    /// The elements in row-major order, mutably (a view becomes a contiguous tensor first; a
    /// shared buffer is copied first).
    pub fn data_mut(&mut self) -> &mut [T] {
        self.make_contiguous();
        Arc::<Vec<T>>::make_mut(&mut self.buf).as_mut_slice()
    }

    /// The shape and, mutably, the elements (both at once, without copying the shape).
    pub(crate) fn shape_and_data_mut(&mut self) -> (&[usize], &mut [T]) {
        self.make_contiguous();
        (&self.shape, Arc::<Vec<T>>::make_mut(&mut self.buf).as_mut_slice())
    }

    /// Gives up the storage (a view's elements, gathered).
    pub fn into_vec(mut self) -> Vec<T> {
        self.make_contiguous();
        Arc::try_unwrap(self.buf).unwrap_or_else(|shared| (*shared).clone())
    }

    /// The single element of a one-element tensor.
    pub fn item(&self) -> Result<T> {
        match self.data() {
            [v] => Ok(*v),
            _ => Err(Error::invalid(
                "item",
                format!("tensor of shape {:?} has {} elements, not 1", self.shape, self.len()),
            )),
        }
    }

    /// Element at a multi-index.
    pub fn at(&self, index: &[usize]) -> Result<T> {
        if index.len() != self.ndim() || index.iter().zip(&self.shape).any(|(i, n)| i >= n) {
            return Err(Error::invalid(
                "at",
                format!("index {:?} out of bounds for shape {:?}", index, self.shape),
            ));
        }
        let off = index.iter().zip(&self.shape).fold(0, |acc, (i, n)| acc * n + i);
        Ok(self.data()[off])
    }

    /// Number of rows (the first axis; 1 for a scalar).
    pub fn rows_count(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Elements per row (the product of all axes but the first).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Converts to another element type.
    pub fn cast<U: Scalar>(&self) -> Tensor<U> {
        Tensor::from_parts(
            self.shape.clone(),
            self.data().iter().map(|v| U::of(v.as_f64())).collect(),
        )
    }

    /// Whether every element is finite.
    pub fn all_finite(&self) -> bool {
        self.data().iter().all(|v| v.is_finite())
    }

    /// Largest absolute element-wise difference to `other` (same shape required).
    pub fn max_abs_diff(&self, other: &Self) -> Result<f64> {
        if self.shape != other.shape {
            return Err(Error::shapes("max_abs_diff", &self.shape, &other.shape));
        }
        Ok(self
            .data()
            .iter()
            .zip(other.data().iter())
            .map(|(a, b)| (a.as_f64() - b.as_f64()).abs())
            .fold(0.0, f64::max))
    }

    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<T>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self {
            shape,
            buf: Arc::new(data),
            view: None,
        }
    }

    pub(crate) fn check_matrix(&self, op: &'static str) -> Result<(usize, usize)> {
        match self.shape.as_slice() {
            [r, c] => Ok((*r, *c)),
            _ => Err(Error::invalid(
                op,
                format!("expected a 2-D tensor, got shape {:?}", self.shape),
            )),
        }
    }

    pub(crate) fn check_axis(&self, op: &'static str, axis: usize) -> Result<()> {
        if axis >= self.ndim() {
            return Err(Error::invalid(
                op,
                format!("axis {axis} out of range for shape {:?}", self.shape),
            ));
        }
        Ok(())
    }

    /// `(outer, len, inner)` sizes around `axis`.
    pub(crate) fn axis_split(&self, axis: usize) -> (usize, usize, usize) {
        let outer = self.shape[..axis].iter().product();
        let inner = self.shape[axis + 1..].iter().product();
        (outer, self.shape[axis], inner)
    }
}
