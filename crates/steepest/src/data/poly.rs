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
        let terms = self.terms(t.row_len());
        let mut data = Vec::with_capacity(t.rows_count() * terms.len());
        for r in 0..t.rows_count() {
            let row = t.row(r);
            data.extend(terms.iter().map(|m| m.iter().fold(T::one(), |acc, &j| acc * row[j])));
        }
        Ok(Features::Dense(Tensor::new(data, &[t.rows_count(), terms.len()])?))
    }
}
