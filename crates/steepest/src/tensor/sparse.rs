//! Compressed sparse rows (CSR): the storage for LIBSVM-style data, where each row holds a few
//! non-zeros out of many features.
//!
//! Row `i` owns `indices[indptr[i]..indptr[i + 1]]` (strictly increasing column numbers) and the
//! `values` at the same positions.

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

/// A sparse matrix in compressed-sparse-row form.
///
/// ```
/// # use steepest::tensor::{CsrMatrix, Tensor};
/// // [[1, 0, 2],
/// //  [0, 3, 0]]
/// let a = CsrMatrix::new(2, 3, vec![0, 2, 3], vec![0, 2, 1], vec![1.0f32, 2.0, 3.0]).unwrap();
/// let w = Tensor::new(vec![1.0f32, 10.0, 100.0], &[3, 1]).unwrap();
/// assert_eq!(a.matmul_dense(&w).unwrap().data(), &[201.0, 30.0]);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CsrMatrix<T = f32> {
    rows: usize,
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<T>,
}

impl<T: Scalar> CsrMatrix<T> {
    /// Builds a CSR matrix, checking that `indptr` is non-decreasing, starts at 0 and ends at
    /// the number of non-zeros, and that every row's columns increase strictly and are below
    /// `cols`.
    pub fn new(rows: usize, cols: usize, indptr: Vec<usize>, indices: Vec<u32>, values: Vec<T>) -> Result<Self> {
        let bad = |msg: String| Err(Error::invalid("CsrMatrix::new", msg));
        if indptr.len() != rows + 1 || indptr[0] != 0 || indptr[rows] != indices.len() {
            return bad(format!(
                "indptr must have {} entries from 0 to {}, got {} entries",
                rows + 1,
                indices.len(),
                indptr.len()
            ));
        }
        if values.len() != indices.len() {
            return bad(format!("{} values for {} indices", values.len(), indices.len()));
        }
        if cols > u32::MAX as usize + 1 {
            return bad(format!("{cols} columns exceed the u32 index range"));
        }
        for r in 0..rows {
            let (s, e) = (indptr[r], indptr[r + 1]);
            if s > e {
                return bad(format!("indptr decreases at row {r}"));
            }
            let idx = &indices[s..e];
            if let Some(w) = idx.windows(2).find(|w| w[0] >= w[1]) {
                return bad(format!("row {r}: column {} follows {} (must increase)", w[1], w[0]));
            }
            if let Some(&c) = idx.last().filter(|&&c| c as usize >= cols) {
                return bad(format!("row {r}: column {c} out of range for {cols} columns"));
            }
        }
        Ok(Self {
            rows,
            cols,
            indptr,
            indices,
            values,
        })
    }

    /// Converts a dense 2-D tensor, keeping its non-zero elements.
    pub fn from_dense(t: &Tensor<T>) -> Result<Self> {
        let (r, c) = t.check_matrix("CsrMatrix::from_dense")?;
        let (mut indptr, mut indices, mut values) = (vec![0], vec![], vec![]);
        for i in 0..r {
            for (j, &v) in t.row(i).iter().enumerate() {
                if v != T::zero() {
                    indices.push(j as u32);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Self::new(r, c, indptr, indices, values)
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Converts to another element type.
    pub fn cast<U: Scalar>(&self) -> Result<CsrMatrix<U>> {
        CsrMatrix::new(
            self.rows,
            self.cols,
            self.indptr.clone(),
            self.indices.clone(),
            self.values.iter().map(|v| U::of(v.as_f64())).collect(),
        )
    }

    /// The same matrix with values of another element type, taking over its index arrays
    /// (nothing to check again: only the values change).
    ///
    /// ```
    /// # use steepest::tensor::CsrMatrix;
    /// let a = CsrMatrix::new(1, 3, vec![0, 2], vec![0, 2], vec![1.5f32, -2.0]).unwrap();
    /// let b = a.into_cast::<f64>();
    /// assert_eq!((b.shape(), b.parts().2), ((1, 3), &[1.5f64, -2.0][..]));
    /// ```
    pub fn into_cast<U: Scalar>(self) -> CsrMatrix<U> {
        CsrMatrix {
            rows: self.rows,
            cols: self.cols,
            indptr: self.indptr,
            indices: self.indices,
            // Same-sized types collect into the same allocation.
            values: self.values.into_iter().map(|v| U::of(v.as_f64())).collect(),
        }
    }

    /// Every stored value of column j multiplied by `factors[j]`.
    pub fn scale_columns(&self, factors: &[T]) -> Result<Self> {
        if factors.len() != self.cols {
            return Err(Error::invalid(
                "scale_columns",
                format!("{} factors for {} columns", factors.len(), self.cols),
            ));
        }
        let values = self
            .indices
            .iter()
            .zip(&self.values)
            .map(|(&j, &v)| v * factors[j as usize])
            .collect();
        Ok(Self { values, ..self.clone() })
    }

    /// The same rows seen as having `cols` columns (at least the current number), e.g. to match
    /// a model trained on files with higher feature indices.
    pub fn widen(&self, cols: usize) -> Result<Self> {
        if cols < self.cols {
            return Err(Error::invalid(
                "widen",
                format!("cannot shrink {} columns to {cols}", self.cols),
            ));
        }
        Ok(Self { cols, ..self.clone() })
    }

    /// [`Self::widen`], taking the matrix (no copy).
    pub fn into_widened(self, cols: usize) -> Result<Self> {
        if cols < self.cols {
            return Err(Error::invalid(
                "widen",
                format!("cannot shrink {} columns to {cols}", self.cols),
            ));
        }
        Ok(Self { cols, ..self })
    }

    /// The first `cols` columns (entries of later columns dropped) and how many entries were
    /// dropped.
    ///
    /// ```
    /// # use steepest::tensor::CsrMatrix;
    /// let a = CsrMatrix::new(2, 4, vec![0, 2, 3], vec![0, 3, 1], vec![1.0f32, 2.0, 3.0]).unwrap();
    /// let (b, dropped) = a.first_cols(2);
    /// assert_eq!((b.shape(), b.nnz(), dropped), ((2, 2), 2, 1));
    /// ```
    pub fn first_cols(&self, cols: usize) -> (Self, usize) {
        if cols >= self.cols {
            return (self.clone(), 0);
        }
        let mut indptr = Vec::with_capacity(self.rows + 1);
        let (mut indices, mut values) = (Vec::with_capacity(self.nnz()), Vec::with_capacity(self.nnz()));
        indptr.push(0);
        for r in 0..self.rows {
            let (idx, val) = self.row(r);
            let keep = idx.partition_point(|&c| (c as usize) < cols);
            indices.extend_from_slice(&idx[..keep]);
            values.extend_from_slice(&val[..keep]);
            indptr.push(indices.len());
        }
        let dropped = self.nnz() - indices.len();
        let m = Self {
            rows: self.rows,
            cols,
            indptr,
            indices,
            values,
        };
        (m, dropped)
    }

    /// The arrays, moved out: row pointers, column indices, values.
    pub fn into_parts(self) -> (Vec<usize>, Vec<u32>, Vec<T>) {
        (self.indptr, self.indices, self.values)
    }

    /// The arrays: row pointers, column indices, values.
    pub fn parts(&self) -> (&[usize], &[u32], &[T]) {
        (&self.indptr, &self.indices, &self.values)
    }

    /// Number of stored non-zeros.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Column numbers and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.values[s..e])
    }

    /// Dot product of row `i` with a dense vector of length `cols`.
    #[inline]
    pub fn row_dot(&self, i: usize, w: &[T]) -> T {
        let (idx, val) = self.row(i);
        idx.iter().zip(val).map(|(&j, &v)| v * w[j as usize]).sum()
    }

    /// The rows at `indices`, in that order.
    pub fn gather_rows(&self, rows: &[usize]) -> Result<Self> {
        let (mut indptr, mut indices, mut values) = (vec![0], vec![], vec![]);
        for &r in rows {
            if r >= self.rows {
                return Err(Error::invalid(
                    "gather_rows",
                    format!("row {r} out of bounds for {} rows", self.rows),
                ));
            }
            let (i, v) = self.row(r);
            indices.extend_from_slice(i);
            values.extend_from_slice(v);
            indptr.push(indices.len());
        }
        Ok(Self {
            rows: rows.len(),
            cols: self.cols,
            indptr,
            indices,
            values,
        })
    }

    /// The dense equivalent.
    pub fn to_dense(&self) -> Tensor<T> {
        let mut out = Tensor::zeros(&[self.rows, self.cols]);
        let d = out.data_mut();
        for r in 0..self.rows {
            let (idx, val) = self.row(r);
            for (&j, &v) in idx.iter().zip(val) {
                d[r * self.cols + j as usize] = v;
            }
        }
        out
    }

    /// `self * b` for a dense `[cols, n]` matrix `b`: a dense `[rows, n]` result.
    pub fn matmul_dense(&self, b: &Tensor<T>) -> Result<Tensor<T>> {
        let (br, n) = b.check_matrix("sparse matmul")?;
        if br != self.cols {
            return Err(Error::shapes("sparse matmul", &[self.rows, self.cols], b.shape()));
        }
        let mut out = vec![T::zero(); self.rows * n];
        for (r, o) in out.chunks_mut(n.max(1)).enumerate().take(self.rows) {
            let (idx, val) = self.row(r);
            for (&j, &v) in idx.iter().zip(val) {
                let src = b.row(j as usize);
                o.iter_mut().zip(src).for_each(|(o, &s)| *o += v * s);
            }
        }
        Tensor::new(out, &[self.rows, n])
    }

    /// `self^T * g` for a dense `[rows, n]` matrix `g`: a dense `[cols, n]` result (the gradient
    /// of a sparse-times-dense product with respect to the dense operand).
    pub fn t_matmul_dense(&self, g: &Tensor<T>) -> Result<Tensor<T>> {
        let (gr, n) = g.check_matrix("sparse transposed matmul")?;
        if gr != self.rows {
            return Err(Error::shapes(
                "sparse transposed matmul",
                &[self.cols, self.rows],
                g.shape(),
            ));
        }
        let mut out = vec![T::zero(); self.cols * n];
        for r in 0..self.rows {
            let (idx, val) = self.row(r);
            let src = g.row(r);
            for (&j, &v) in idx.iter().zip(val) {
                let j = j as usize;
                out[j * n..(j + 1) * n]
                    .iter_mut()
                    .zip(src)
                    .for_each(|(o, &s)| *o += v * s);
            }
        }
        Tensor::new(out, &[self.cols, n])
    }
}
