//! Matrix products through the [`gemm`] crate, with either operand read transposed through its
//! strides (no copy). The thread count is a process-wide setting; small products always run on
//! the calling thread, so no pool spins for them.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};
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

/// `(rows, cols, row stride, col stride)` of a stored `[r, c]` matrix read as itself or its
/// transpose.
fn view(r: usize, c: usize, trans: bool) -> (usize, usize, isize, isize) {
    if trans {
        (c, r, 1, c as isize)
    } else {
        (r, c, c as isize, 1)
    }
}

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
    let (ar, ac) = a.check_matrix("matmul")?;
    let (br, bc) = b.check_matrix("matmul")?;
    let (m, k, a_rs, a_cs) = view(ar, ac, trans_a);
    let (k2, n, b_rs, b_cs) = view(br, bc, trans_b);
    if k != k2 {
        return Err(Error::ShapeMismatch {
            op: "matmul",
            lhs: vec![m, k],
            rhs: vec![k2, n],
        });
    }
    if out.shape() != [m, n] {
        return Err(Error::shapes("matmul (output)", out.shape(), &[m, n]));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            out.data_mut().iter_mut().for_each(|v| *v = T::zero());
        }
        return Ok(());
    }
    let threads = if SERIAL.with(|s| s.get()) { 1 } else { num_threads() };
    let parallelism = if threads > 1 && m * n * k >= PARALLEL_MIN_FLOPS {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the shapes were checked above, so every (row, column) the strides reach lies
    // inside `a`, `b` and `out`; `out` is exclusively borrowed and does not alias the inputs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.data_mut().as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data().as_ptr(),
            a_cs,
            a_rs,
            b.data().as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
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
        let (ar, ac) = self.check_matrix("matmul")?;
        let (br, bc) = other.check_matrix("matmul")?;
        let m = if trans_a { ac } else { ar };
        let n = if trans_b { br } else { bc };
        let mut out = Tensor::zeros(&[m, n]);
        matmul_into(&mut out, self, trans_a, other, trans_b, false)?;
        Ok(out)
    }
}
