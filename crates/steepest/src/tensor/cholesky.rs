//! The Cholesky factorization A = L L' of a symmetric positive-definite matrix, blocked so that
//! nearly all of its n^3 / 3 multiply-adds are matrix products through [`gemm`] (the
//! right-looking algorithm of LAPACK's `dpotrf`: factor a diagonal block, solve the panel below
//! it, subtract the panel's product from the trailing matrix).

use super::matmul::{matmul_slices, MatRef};
use rayon::prelude::*;

/// Columns per block.
const BLOCK: usize = 64;

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
        for k0 in (0..n).step_by(BLOCK) {
            let kb = BLOCK.min(n - k0);
            // The diagonal block, unblocked.
            for j in k0..k0 + kb {
                let d = a[j * n + j] - (k0..j).map(|l| a[j * n + l] * a[j * n + l]).sum::<f64>();
                if d.is_nan() || d <= 0.0 || d.is_infinite() {
                    return None;
                }
                let d = d.sqrt();
                a[j * n + j] = d;
                for i in j + 1..k0 + kb {
                    let s: f64 = (k0..j).map(|l| a[i * n + l] * a[j * n + l]).sum();
                    a[i * n + j] = (a[i * n + j] - s) / d;
                }
            }
            // The panel below it: each row solves x L11' = a_i by forward substitution.
            let below = k0 + kb..n;
            for i in below.clone() {
                for j in k0..k0 + kb {
                    let s: f64 = (k0..j).map(|l| a[i * n + l] * a[j * n + l]).sum();
                    a[i * n + j] = (a[i * n + j] - s) / a[j * n + j];
                }
            }
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
            let s: f64 = (0..i).map(|j| l[i * n + j] * y[j]).sum();
            y[i] = (y[i] - s) / l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut s = y[i];
            for j in i + 1..n {
                s -= l[j * n + i] * y[j];
            }
            y[i] = s / l[i * n + i];
        }
        y
    }
}
