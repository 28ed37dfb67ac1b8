//! The Cholesky factorization A = L L' of a symmetric positive-definite matrix, blocked so that
//! nearly all of its n^3 / 3 multiply-adds are matrix products through [`gemm`] (the
//! right-looking algorithm of LAPACK's `dpotrf`: factor a diagonal block, solve the panel below
//! it, subtract the panel's product from the trailing matrix).

use super::matmul::{matmul_slices, MatRef};
use rayon::prelude::*;

/// Columns per block.
const BLOCK: usize = 64;

/// `sum a_i b_i` over eight interleaved partial sums (so that the loop vectorizes).
#[inline(always)]
fn dot_generic<T: super::Scalar>(a: &[T], b: &[T]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k].as_f64() * y[k].as_f64();
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x.as_f64() * y.as_f64();
    }
    s
}
super::multiversion!(fn dot<T>(a: &[T], b: &[T]) -> f64 => dot_generic);

/// Factors the diagonal block `[k0, k0 + kb)` of `a` (its earlier columns already subtracted)
/// and solves the panel below it (each row x L11' = a_i), both at once: the block's columns
/// below the diagonal, copied into `cols` column by column, go through the left-looking
/// column algorithm (column j minus L_jk times column k for k < j, then divided by its pivot's
/// square root), whose inner loops run down contiguous columns with no reductions; false when
/// a pivot is not positive.
#[inline(always)]
fn diagonal_and_panel_generic<T: super::Scalar>(
    a: &mut [T],
    n: usize,
    k0: usize,
    kb: usize,
    cols: &mut Vec<f64>,
) -> bool {
    let r = n - k0; // rows from the block's first one down
    cols.clear();
    cols.resize(kb * r, 0.0);
    for i in 0..r {
        let row = &a[(k0 + i) * n + k0..(k0 + i) * n + k0 + kb.min(i + 1)];
        for (j, v) in row.iter().enumerate() {
            cols[j * r + i] = v.as_f64();
        }
    }
    for j in 0..kb {
        let (done, rest) = cols.split_at_mut(j * r);
        // Column j from row j down, minus four earlier columns at a time (one pass per four).
        let cj = &mut rest[j..r];
        let mut k = 0;
        while k + 4 <= j {
            let (c0, c1, c2, c3) = (
                &done[k * r..],
                &done[(k + 1) * r..],
                &done[(k + 2) * r..],
                &done[(k + 3) * r..],
            );
            let (l0, l1, l2, l3) = (c0[j], c1[j], c2[j], c3[j]);
            let (c0, c1, c2, c3) = (&c0[j..r], &c1[j..r], &c2[j..r], &c3[j..r]);
            for (i, v) in cj.iter_mut().enumerate() {
                *v -= (l0 * c0[i] + l1 * c1[i]) + (l2 * c2[i] + l3 * c3[i]);
            }
            k += 4;
        }
        while k < j {
            let ck = &done[k * r..(k + 1) * r];
            let l = ck[j];
            for (v, c) in cj.iter_mut().zip(&ck[j..r]) {
                *v -= l * c;
            }
            k += 1;
        }
        let d = cj[0];
        if d.is_nan() || d <= 0.0 || d.is_infinite() {
            return false;
        }
        let d = d.sqrt();
        cj[0] = d;
        let inv = 1.0 / d;
        cj[1..].iter_mut().for_each(|v| *v *= inv);
    }
    for i in 0..r {
        let row = &mut a[(k0 + i) * n + k0..(k0 + i) * n + k0 + kb.min(i + 1)];
        for (j, v) in row.iter_mut().enumerate() {
            *v = T::of(cols[j * r + i]);
        }
    }
    true
}
super::multiversion!(fn diagonal_and_panel<T>(a: &mut [T], n: usize, k0: usize, kb: usize, cols: &mut Vec<f64>) -> bool => diagonal_and_panel_generic);

/// `y -= alpha x`.
#[inline(always)]
fn sub_scaled_generic<T: super::Scalar>(y: &mut [T], x: &[T], alpha: T) {
    for (a, b) in y.iter_mut().zip(x) {
        *a -= alpha * *b;
    }
}
super::multiversion!(fn sub_scaled<T>(y: &mut [T], x: &[T], alpha: T) => sub_scaled_generic);

/// Rows of the trailing matrix per parallel task.
const ROWS_PER_TASK: usize = 128;

/// A Cholesky factor `L` (lower triangular, row-major `[n, n]`).
///
/// ```
/// use steepest::tensor::Cholesky;
/// // A = [[4, 2], [2, 3]] = L L' with L = [[2, 0], [1, sqrt(2)]].
/// let c = Cholesky::factor(vec![4.0, 2.0, 2.0, 3.0], 2).unwrap();
/// let x = c.solve(&[6.0, 5.0]); // A x = b
/// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
/// assert!(Cholesky::factor(vec![1.0, 2.0, 2.0, 1.0], 2).is_none()); // indefinite
/// ```
#[derive(Clone, Debug)]
pub struct Cholesky {
    l: Vec<f64>,
    n: usize,
}

impl Cholesky {
    /// Factors the row-major `[n, n]` matrix `a` (only its lower triangle is read); `None`
    /// when a pivot is not positive (the matrix is not positive definite).
    pub fn factor(mut a: Vec<f64>, n: usize) -> Option<Cholesky> {
        assert_eq!(a.len(), n * n, "Cholesky::factor: {} elements for [{n}, {n}]", a.len());
        let mut panel = Vec::new();
        let mut neg = Vec::new();
        let mut cols = Vec::new();
        for k0 in (0..n).step_by(BLOCK) {
            let kb = BLOCK.min(n - k0);
            // The diagonal block, unblocked, then the panel below it.
            if !diagonal_and_panel(&mut a, n, k0, kb, &mut cols) {
                return None;
            }
            let below = k0 + kb..n;
            let m = below.len();
            if m == 0 {
                break;
            }
            // Trailing update A22 -= P P', its lower triangle only: blocks of rows, each
            // through the columns up to its last row, in parallel (disjoint rows).
            panel.clear();
            neg.clear();
            for i in below.clone() {
                panel.extend_from_slice(&a[i * n + k0..i * n + k0 + kb]);
            }
            neg.extend(panel.iter().map(|v| -v));
            let col0 = k0 + kb;
            let failed = std::sync::atomic::AtomicBool::new(false);
            a[col0 * n..]
                .par_chunks_mut(ROWS_PER_TASK * n)
                .enumerate()
                .for_each(|(ci, rows)| {
                    let (r0, count) = (ci * ROWS_PER_TASK, rows.len() / n);
                    let cols = r0 + count;
                    let ok = matmul_slices(
                        &mut rows[col0..],
                        n,
                        MatRef::row_major(&neg[r0 * kb..(r0 + count) * kb], count, kb),
                        MatRef::row_major(&panel[..cols * kb], cols, kb).t(),
                        true,
                    );
                    if ok.is_err() {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            if failed.into_inner() {
                return None;
            }
        }
        // Zero the upper triangle, so that `l` is L.
        for i in 0..n {
            a[i * n + i + 1..(i + 1) * n].fill(0.0);
        }
        Some(Cholesky { l: a, n })
    }

    /// The order n.
    pub fn order(&self) -> usize {
        self.n
    }

    /// x with A x = b: forward substitution with L, then back substitution with L'.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let (l, n) = (&self.l, self.n);
        assert_eq!(b.len(), n, "Cholesky::solve: {} values for order {n}", b.len());
        let mut y = b.to_vec();
        for i in 0..n {
            let s = dot(&l[i * n..i * n + i], &y[..i]);
            y[i] = (y[i] - s) / l[i * n + i];
        }
        // L' x = y, by rows of L: x_i is final once the rows below have been subtracted.
        for i in (0..n).rev() {
            y[i] /= l[i * n + i];
            let (head, tail) = y.split_at_mut(i);
            sub_scaled(head, &l[i * n..i * n + i], tail[0]);
        }
        y
    }
}
