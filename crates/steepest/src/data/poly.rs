//! Polynomial features: every monomial of the inputs up to a degree.

use super::dataset::Features;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use serde::{Deserialize, Serialize};

/// Expands d features into all monomials of degree 1 to `degree` (with interactions, no
/// constant: the models have an intercept), as scikit-learn's `PolynomialFeatures(degree,
/// include_bias=False)`, in its order: degree 1, then degree 2 (x0^2, x0 x1, ..., x1^2, ...), ...
///
/// ```
/// use steepest::data::PolynomialFeatures;
/// let p = PolynomialFeatures { degree: 2 };
/// assert_eq!(p.names(&["a".into(), "b".into()]), ["a", "b", "a^2", "a b", "b^2"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolynomialFeatures {
    /// Highest total degree (1 leaves the features unchanged).
    pub degree: usize,
}

impl PolynomialFeatures {
    /// The number of output columns for `d` inputs: C(d + degree, degree) - 1 (saturating).
    ///
    /// ```
    /// use steepest::data::PolynomialFeatures;
    /// assert_eq!(PolynomialFeatures { degree: 2 }.output_count(3), 9);
    /// ```
    pub fn output_count(&self, d: usize) -> u128 {
        // C(d + k, k) step by step: C(d + i, i) = C(d + i - 1, i - 1) (d + i) / i.
        let mut c: u128 = 1;
        for i in 1..=self.degree as u128 {
            c = match c.checked_mul(d as u128 + i) {
                Some(v) => v / i,
                None => return u128::MAX,
            };
        }
        c - 1
    }

    /// Checks that expanding `d` inputs over `rows` rows fits the memory budget (of `size`-byte
    /// elements), before any monomial is built.
    pub fn check_size(&self, d: usize, rows: usize, size: usize) -> Result<()> {
        let cols = self.output_count(d);
        let bytes = cols.saturating_mul(rows as u128).saturating_mul(size as u128);
        crate::memory::ensure(
            &format!(
                "polynomial features of degree {} on {d} features ({cols} columns)",
                self.degree
            ),
            bytes,
            "; lower --degree",
        )
    }

    /// The monomials as lists of column indices (non-decreasing).
    fn terms(&self, d: usize) -> Vec<Vec<usize>> {
        let mut all: Vec<Vec<usize>> = (0..d).map(|j| vec![j]).collect();
        let mut last = all.clone();
        for _ in 1..self.degree {
            let mut next = Vec::new();
            for t in &last {
                for j in *t.last().expect("non-empty")..d {
                    let mut u = t.clone();
                    u.push(j);
                    next.push(u);
                }
            }
            all.extend(next.iter().cloned());
            last = next;
        }
        all
    }

    /// Names of the output columns.
    pub fn names(&self, input: &[String]) -> Vec<String> {
        self.terms(input.len())
            .iter()
            .map(|t| {
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < t.len() {
                    let k = t[i..].iter().take_while(|&&c| c == t[i]).count();
                    parts.push(if k == 1 {
                        input[t[i]].clone()
                    } else {
                        format!("{}^{k}", input[t[i]])
                    });
                    i += k;
                }
                parts.join(" ")
            })
            .collect()
    }

    /// Expands dense features.
    pub fn transform<T: Scalar>(&self, x: &Features<T>) -> Result<Features<T>> {
        if self.degree == 0 {
            return Err(Error::invalid("polynomial features", "degree must be at least 1"));
        }
        let t = x.dense("polynomial features")?;
        self.check_size(t.row_len(), t.rows_count(), std::mem::size_of::<T>())?;
        let terms = self.terms(t.row_len());
        let mut data = Vec::with_capacity(t.rows_count() * terms.len());
        for r in 0..t.rows_count() {
            let row = t.row(r);
            data.extend(terms.iter().map(|m| m.iter().fold(T::one(), |acc, &j| acc * row[j])));
        }
        Ok(Features::Dense(Tensor::new(data, &[t.rows_count(), terms.len()])?))
    }
}
