//! The kernel matrix of a set of rows, computed a column at a time when a solver first needs
//! it: Newton's method for the kernel SVM reads the columns of the rows that are, or were,
//! support vectors (a fraction of them on most data), so the rest is never computed or stored.
//! Columns asked for together are computed together, through one matrix product of the rows'
//! dot products per block of them, in parallel.

use super::kernel_svm::Kernel;
use crate::tensor::{matmul_slices, MatRef};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// Columns per matrix product when computing several.
const BLOCK: usize = 64;

/// The symmetric kernel matrix K_ij = k(x_i, x_j) of `n` rows of `d` features, by columns.
pub(crate) struct KernelColumns {
    kernel: Kernel,
    x: Vec<f64>,
    n: usize,
    d: usize,
    sq: Vec<f64>,
    /// Column j: a block of columns computed together, and j's place in it.
    cols: Vec<OnceLock<(Arc<Vec<f64>>, usize)>>,
}

impl KernelColumns {
    /// Over the rows of the row-major `[n, d]` matrix `x`.
    pub fn new(kernel: Kernel, x: Vec<f64>, n: usize, d: usize) -> KernelColumns {
        assert_eq!(x.len(), n * d, "KernelColumns: {} values for [{n}, {d}]", x.len());
        let sq = x
            .chunks(d.max(1))
            .take(n)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect();
        let cols = (0..n).map(|_| OnceLock::new()).collect();
        KernelColumns {
            kernel,
            x,
            n,
            d,
            sq,
            cols,
        }
    }

    /// The number of rows (and columns).
    pub fn order(&self) -> usize {
        self.n
    }

    /// The kernel matrix of the rows `rows` (in that order), its columns not yet computed.
    pub fn restrict(&self, rows: &[usize]) -> KernelColumns {
        let mut x = Vec::with_capacity(rows.len() * self.d);
        for &r in rows {
            x.extend_from_slice(&self.x[r * self.d..(r + 1) * self.d]);
        }
        KernelColumns::new(self.kernel, x, rows.len(), self.d)
    }

    /// Computes the columns of `cols` not computed yet (blocks of them in parallel).
    pub fn prepare(&self, cols: &[usize]) {
        let missing: Vec<usize> = cols.iter().copied().filter(|&j| self.cols[j].get().is_none()).collect();
        missing.par_chunks(BLOCK).for_each(|block| {
            let values = Arc::new(self.compute(block));
            for (q, &j) in block.iter().enumerate() {
                // Another thread may have computed it meanwhile: the same numbers.
                let _ = self.cols[j].set((values.clone(), q));
            }
        });
    }

    /// Column `j` (row `j`, by symmetry), computed now if it has not been.
    pub fn column(&self, j: usize) -> &[f64] {
        let (values, q) = self.cols[j].get_or_init(|| (Arc::new(self.compute(&[j])), 0));
        &values[q * self.n..(q + 1) * self.n]
    }

    /// The entry (i, j), from column j.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.column(j)[i]
    }

    /// The columns `block`, one after another: their rows' dot products with every row (one
    /// product), turned into kernel values in place.
    fn compute(&self, block: &[usize]) -> Vec<f64> {
        let (n, d, b) = (self.n, self.d, block.len());
        let mut xb = Vec::with_capacity(b * d);
        for &j in block {
            xb.extend_from_slice(&self.x[j * d..(j + 1) * d]);
        }
        // Row-major [b, n]: row q is the dot products of row block[q] with every row.
        let mut dots = vec![0.0; b * n];
        if d > 0 {
            matmul_slices(
                &mut dots,
                n,
                MatRef::row_major(&xb, b, d),
                MatRef::row_major(&self.x, n, d).t(),
                false,
            )
            .expect("the shapes agree by construction");
        }
        for (col, &j) in dots.chunks_mut(n.max(1)).zip(block) {
            self.kernel.apply_column(col, &self.sq, self.sq[j]);
        }
        dots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_kernel_of_their_rows_and_a_restriction_is_the_sub_matrix() {
        let (n, d) = (7, 3);
        let x: Vec<f64> = (0..n * d).map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0).collect();
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let k = KernelColumns::new(kernel, x.clone(), n, d);
        k.prepare(&[4, 1, 4]);
        let row = |i: usize| &x[i * d..(i + 1) * d];
        for i in 0..n {
            for j in 0..n {
                let d2: f64 = row(i).iter().zip(row(j)).map(|(a, b)| (a - b) * (a - b)).sum();
                let want = (-0.3 * d2).exp();
                assert!((k.get(i, j) - want).abs() < 1e-14, "({i}, {j})");
            }
        }
        let sub = k.restrict(&[5, 2]);
        assert_eq!(sub.order(), 2);
        assert_eq!(sub.get(0, 1), k.get(5, 2));
        assert_eq!(sub.get(1, 1), 1.0);
    }
}
