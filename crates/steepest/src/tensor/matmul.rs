//! Matrix products through the [`gemm`] crate, with either operand read transposed through its
//! strides (no copy). The thread count is a process-wide setting; small products always run on
//! the calling thread, so no pool spins for them.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every matrix product on the calling thread single-threaded (for work that is
/// already split across threads at a higher level).
pub fn with_serial_matmul<R>(f: impl FnOnce() -> R) -> R {
    let old = SERIAL.with(|s| s.replace(true));
    let r = f();
    SERIAL.with(|s| s.set(old));
    r
}

/// Sets how many threads a large matrix product may use (at least 1; default 1).
pub fn set_num_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The thread count set by [`set_num_threads`].
pub fn num_threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// Products with fewer multiply-adds than this run on one thread.
const PARALLEL_MIN_FLOPS: usize = 1 << 21;

/// `out = op(a) op(b)` (or `out += op(a) op(b)` with `accumulate`), where `op` transposes when its
/// flag is set. `out` must already have the product's shape.
///
/// ```
/// # use steepest::tensor::{matmul_into, Tensor};
/// let a = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let mut out = Tensor::ones(&[2, 2]);
/// matmul_into(&mut out, &a, true, &a, false, true).unwrap(); // out += a^T a
/// assert_eq!(out.data(), &[11.0, 15.0, 15.0, 21.0]);
/// ```
pub fn matmul_into<T: Scalar>(
    out: &mut Tensor<T>,
    a: &Tensor<T>,
    trans_a: bool,
    b: &Tensor<T>,
    trans_b: bool,
    accumulate: bool,
) -> Result<()> {
    let (a, b) = (matrix_view(a, trans_a)?, matrix_view(b, trans_b)?);
    if a.cols == b.rows && out.shape() != [a.rows, b.cols] {
        return Err(Error::shapes("matmul (output)", out.shape(), &[a.rows, b.cols]));
    }
    product(
        out.data_mut(),
        (b.cols, 1),
        a,
        b,
        accumulate,
        parallelism_for(a.rows, a.cols, b.cols),
    )
}

/// A 2-D tensor as a matrix read through its strides (a view is not copied), transposed when
/// `trans` is set.
fn matrix_view<T: Scalar>(t: &Tensor<T>, trans: bool) -> Result<MatRef<'_, T>> {
    let (r, c) = t.check_matrix("matmul")?;
    let m = match t.is_contiguous() {
        true => MatRef::row_major(t.data(), r, c),
        false => strided_matrix(t, t.offset(), r, c),
    };
    Ok(if trans { m.t() } else { m })
}

/// The `[rows, cols]` matrix of the last two axes of `t` starting at buffer offset `at`.
pub(crate) fn strided_matrix<T: Scalar>(t: &Tensor<T>, at: usize, rows: usize, cols: usize) -> MatRef<'_, T> {
    let (buf, strides) = (t.buffer(), t.strides());
    let nd = strides.len();
    MatRef {
        data: &buf[at.min(buf.len())..],
        rows,
        cols,
        row_stride: strides[nd - 2],
        col_stride: strides[nd - 1],
    }
}

/// The threads an `[m, k] x [k, n]` product of [`matmul_into`] may use.
fn parallelism_for(m: usize, k: usize, n: usize) -> gemm::Parallelism {
    let threads = split_threads();
    if threads > 1 && m * n * k >= PARALLEL_MIN_FLOPS {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}

/// A matrix read from a slice: element `(i, j)` is `data[i * row_stride + j * col_stride]`
/// (so a transpose or a block of columns is a view, not a copy).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// The elements.
    pub data: &'a [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `[rows, cols]` matrix.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A column-major `[rows, cols]` matrix (element (i, j) at `j * rows + i`).
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: rows,
        }
    }

    /// Rows `start..start + n` of the matrix (a view of the same elements).
    ///
    /// ```
    /// use steepest::tensor::MatRef;
    /// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // [3, 2] column-major
    /// let rows = MatRef::col_major(&a, 3, 2).row_block(1, 2);
    /// assert_eq!((rows.data[0], rows.data[rows.col_stride + 1]), (2.0, 6.0));
    /// ```
    pub fn row_block(self, start: usize, n: usize) -> Self {
        Self {
            data: &self.data[(start * self.row_stride).min(self.data.len())..],
            rows: n,
            ..self
        }
    }

    /// The transpose (the same elements).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    fn check(&self, what: &'static str) -> Result<()> {
        let last = match (self.rows, self.cols) {
            (0, _) | (_, 0) => return Ok(()),
            (r, c) => (r - 1)
                .checked_mul(self.row_stride)
                .zip((c - 1).checked_mul(self.col_stride))
                .and_then(|(a, b)| a.checked_add(b)),
        };
        match last {
            Some(i) if i < self.data.len() => Ok(()),
            _ => Err(Error::invalid(
                what,
                format!(
                    "a [{}, {}] view with strides ({}, {}) reaches past its {} elements",
                    self.rows,
                    self.cols,
                    self.row_stride,
                    self.col_stride,
                    self.data.len()
                ),
            )),
        }
    }
}

/// `out = a b` (or `out += a b` with `accumulate`) on the calling thread, where `out` is
/// row-major with rows `out_row_stride` apart (at least `b.cols`): the product for work that is
/// already split across threads, on blocks of larger matrices.
///
/// ```
/// use steepest::tensor::{matmul_slices, MatRef};
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // [2, 3]
/// let mut out = [0.0f32; 4];
/// // out = a[:, 1..3]^T a[:, 1..3]: a block of columns, transposed, by strides alone.
/// let block = MatRef { data: &a[1..], rows: 2, cols: 2, row_stride: 3, col_stride: 1 };
/// matmul_slices(&mut out, 2, block.t(), block, false).unwrap();
/// assert_eq!(out, [29.0, 36.0, 36.0, 45.0]);
/// ```
pub fn matmul_slices<T: Scalar>(
    out: &mut [T],
    out_row_stride: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
) -> Result<()> {
    product(out, (out_row_stride, 1), a, b, accumulate, gemm::Parallelism::None)
}

/// `out = a b` (or `out += a b` with `accumulate`) on the calling thread, element (i, j) of
/// the product at `out[i * strides.0 + j * strides.1]`: row-major (`(ld, 1)`) or column-major
/// (`(1, ld)`) with any leading dimension, for blocks of larger matrices in either layout.
///
/// ```
/// use steepest::tensor::{matmul_slices_strided, MatRef};
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [2, 2] row-major
/// let mut out = [0.0f32; 4];
/// // a a, written column-major.
/// matmul_slices_strided(&mut out, (1, 2), MatRef::row_major(&a, 2, 2), MatRef::row_major(&a, 2, 2), false).unwrap();
/// assert_eq!(out, [7.0, 15.0, 10.0, 22.0]);
/// ```
pub fn matmul_slices_strided<T: Scalar>(
    out: &mut [T],
    strides: (usize, usize),
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
) -> Result<()> {
    product(out, strides, a, b, accumulate, gemm::Parallelism::None)
}

/// The checked core of every product: element (i, j) of `a b` goes to
/// `out[i * strides.0 + j * strides.1]`.
fn product<T: Scalar>(
    out: &mut [T],
    strides: (usize, usize),
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) -> Result<()> {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; `product_into` writes only initialized values
    // and reads only what `accumulate` adds onto, which this slice holds.
    let out = unsafe { &mut *(out as *mut [T] as *mut [MaybeUninit<T>]) };
    // SAFETY: the output is initialized, so accumulating onto it is allowed.
    unsafe { product_into(out, strides, a, b, accumulate, parallelism) }
}

/// `a b` as a new row-major `[a.rows, b.cols]` buffer, each element written once (never
/// zero-filled first).
pub(crate) fn product_new<T: Scalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    parallelism: gemm::Parallelism,
) -> Result<Vec<T>> {
    let len = a.rows * b.cols;
    let mut v = Vec::with_capacity(len);
    // SAFETY: without `accumulate`, `product_into` writes every element of the [m, n] product
    // (or returns an error first, leaving the length at 0).
    unsafe {
        product_into(
            &mut v.spare_capacity_mut()[..len],
            (b.cols, 1),
            a,
            b,
            false,
            parallelism,
        )?;
        v.set_len(len);
    }
    Ok(v)
}

/// Element (i, j) of `a b` is written to (or, with `accumulate`, added to)
/// `out[i * strides.0 + j * strides.1]`; without `accumulate` every such element is written.
///
/// # Safety
/// With `accumulate`, the elements of `out` the strides reach are initialized.
unsafe fn product_into<T: Scalar>(
    out: &mut [MaybeUninit<T>],
    strides: (usize, usize),
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) -> Result<()> {
    static TUNED: std::sync::Once = std::sync::Once::new();
    TUNED.call_once(|| {
        // The gemm crate copies ("packs") a left operand whose columns are already contiguous
        // when the product has more than 8 * 6 columns; reading it in place is as fast, and
        // saves the copy (measured on W1 and W5: see the commit that set this).
        gemm::set_lhs_packing_threshold_single_thread(256);
    });
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k {
        return Err(Error::ShapeMismatch {
            op: "matmul",
            lhs: vec![m, k],
            rhs: vec![b.rows, n],
        });
    }
    a.check("matmul (left)")?;
    b.check("matmul (right)")?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (rs, cs) = strides;
    // Row-major (rows rs >= n apart) or column-major (columns cs >= m apart) without overlap.
    let overlaps = match cs {
        1 => m > 1 && rs < n,
        _ => rs != 1 || (n > 1 && cs < m),
    };
    if overlaps || (m - 1) * rs + (n - 1) * cs >= out.len() {
        return Err(Error::invalid(
            "matmul (output)",
            format!(
                "[{m}, {n}] with strides ({rs}, {cs}) does not fit in {} elements",
                out.len()
            ),
        ));
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    out[i * rs + j * cs].write(T::zero());
                }
            }
        }
        return Ok(());
    }
    if cs == 1 && m > 1 && n > 1 && prefers_column_major(m, k, n, a, b) {
        // The product into a column-major scratch (written whole by the product, never
        // zero-filled), then added (or copied) into `out` row by row.
        let mut scratch: Vec<T> = Vec::with_capacity(m * n);
        // SAFETY: the scratch's capacity is a column-major [m, n]; `a` and `b` were checked
        // above; without accumulating, the gemm crate writes every element of it.
        unsafe {
            raw_product(scratch.as_mut_ptr(), (1, m), a, b, false, parallelism);
            scratch.set_len(m * n);
        }
        for i in 0..m {
            let row = &mut out[i * rs..i * rs + n];
            let col = scratch[i..].iter().step_by(m);
            if accumulate {
                // SAFETY: the caller initialized what it accumulates onto.
                row.iter_mut()
                    .zip(col)
                    .for_each(|(o, &v)| unsafe { *o.assume_init_mut() += v });
            } else {
                row.iter_mut().zip(col).for_each(|(o, &v)| {
                    o.write(v);
                });
            }
        }
        return Ok(());
    }
    // SAFETY: every (row, column) the strides reach was checked to lie inside `a`, `b` and
    // `out`; `out` is exclusively borrowed, so it does not alias the inputs; the gemm crate
    // reads `out` only when asked to accumulate, and writes every element of the product.
    unsafe { raw_product(out.as_mut_ptr().cast::<T>(), strides, a, b, accumulate, parallelism) };
    Ok(())
}

/// Whether `a b` into a row-major output is cheaper computed column-major and transposed.
///
/// The [`gemm`] crate computes a row-major product as its transpose, `b^T a^T`, and reads the
/// left operand of what it computes in columns: `b^T` is read element by element when `b`'s rows
/// are not contiguous (`k n` scalar loads), `a` likewise in the column-major form (`m k`), which
/// also pays the `m n` copy back. Conv's weight gradient `dy col^T` (k = positions, n = taps)
/// and a linear layer's `x w^T` are the products this turns around.
fn prefers_column_major<T>(m: usize, k: usize, n: usize, a: MatRef<'_, T>, b: MatRef<'_, T>) -> bool {
    let as_is = if b.col_stride != 1 { k * n } else { 0 };
    let turned = if a.row_stride != 1 { m * k } else { 0 } + m * n;
    turned < as_is
}

/// The [`gemm`] call: element (i, j) of `a b` goes to (or is added to) `out[i * strides.0 +
/// j * strides.1]`.
///
/// # Safety
/// Every element the strides reach lies inside `a`, `b` and `out`, and `out` does not alias
/// them.
unsafe fn raw_product<T: Scalar>(
    out: *mut T,
    strides: (usize, usize),
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (rs, cs) = strides;
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out,
            cs as isize,
            rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// How many threads work at this level may split into: the set count, or 1 inside
/// [`with_serial_matmul`].
pub(crate) fn split_threads() -> usize {
    if SERIAL.with(|s| s.get()) {
        1
    } else {
        num_threads()
    }
}

impl<T: Scalar> Tensor<T> {
    /// Matrix product of two 2-D tensors.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let a = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// let b = Tensor::new(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]).unwrap();
    /// assert_eq!(a.matmul(&b).unwrap().data(), &[4.0, 5.0, 10.0, 11.0]);
    /// ```
    pub fn matmul(&self, other: &Self) -> Result<Self> {
        self.matmul_t(other, false, false)
    }

    /// `op(self) op(other)` where `op` transposes when its flag is set.
    pub fn matmul_t(&self, other: &Self, trans_a: bool, trans_b: bool) -> Result<Self> {
        let (a, b) = (matrix_view(self, trans_a)?, matrix_view(other, trans_b)?);
        let data = product_new(a, b, parallelism_for(a.rows, a.cols, b.cols))?;
        Ok(Tensor::from_parts(vec![a.rows, b.cols], data))
    }
}
