//! Operations that move elements without computing: 2-D transpose, row slicing and gathering,
//! concatenation (reshape and the other views are in `view.rs`).

use super::{Scalar, Tensor};
use crate::error::{Error, Result};

impl<T: Scalar> Tensor<T> {
    /// Transpose of a 2-D tensor (a view; see [`Tensor::transpose_axes`] for N-D).
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.transpose().unwrap().data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    pub fn transpose(&self) -> Result<Self> {
        self.check_matrix("transpose")?;
        self.permute(&[1, 0])
    }

    /// Row `i` (along the first axis) as a slice.
    pub fn row(&self, i: usize) -> &[T] {
        let w = self.row_len();
        &self.data()[i * w..(i + 1) * w]
    }

    /// Rows `start..end` along the first axis.
    pub fn rows(&self, start: usize, end: usize) -> Result<Self> {
        if self.ndim() == 0 || start > end || end > self.shape[0] {
            return Err(Error::invalid(
                "rows",
                format!("range {start}..{end} out of bounds for shape {:?}", self.shape),
            ));
        }
        self.narrow(0, start, end - start)
    }

    /// The rows at `indices` (repeats allowed), in that order.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let t = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    /// assert_eq!(t.gather_rows(&[2, 0, 2]).unwrap().data(), &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// ```
    pub fn gather_rows(&self, indices: &[usize]) -> Result<Self> {
        let n = self.rows_count();
        if self.ndim() == 0 {
            return Err(Error::invalid("gather_rows", "cannot gather rows of a scalar"));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                "gather_rows",
                format!("row {bad} out of bounds for shape {:?}", self.shape),
            ));
        }
        let mut data = Vec::with_capacity(indices.len() * self.row_len());
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        Ok(Self::from_parts(shape, data))
    }

    /// Concatenates tensors along `axis`; every other axis must agree.
    ///
    /// ```
    /// # use steepest::tensor::Tensor;
    /// let a = Tensor::new(vec![1.0f32, 2.0], &[2, 1]).unwrap();
    /// let b = Tensor::new(vec![3.0f32, 4.0, 5.0, 6.0], &[2, 2]).unwrap();
    /// let c = Tensor::concat(&[&a, &b], 1).unwrap();
    /// assert_eq!(c.data(), &[1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
    /// ```
    pub fn concat(parts: &[&Self], axis: usize) -> Result<Self> {
        let first = parts
            .first()
            .ok_or_else(|| Error::invalid("concat", "nothing to concatenate"))?;
        first.check_axis("concat", axis)?;
        let mut shape = first.shape.clone();
        shape[axis] = 0;
        for p in parts {
            let same_rank = p.ndim() == first.ndim();
            let others_agree = same_rank && (0..p.ndim()).all(|d| d == axis || p.shape[d] == first.shape[d]);
            if !others_agree {
                return Err(Error::shapes("concat", &first.shape, &p.shape));
            }
            shape[axis] += p.shape[axis];
        }
        let outer: usize = first.shape[..axis].iter().product();
        let mut data = Vec::with_capacity(shape.iter().product());
        for o in 0..outer {
            for p in parts {
                let w = p.shape[axis..].iter().product::<usize>();
                data.extend_from_slice(&p.data()[o * w..(o + 1) * w]);
            }
        }
        Ok(Self::from_parts(shape, data))
    }
}
