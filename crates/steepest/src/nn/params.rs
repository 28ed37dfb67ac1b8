//! Named parameters: an ordered map from name to tensor.

use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use std::collections::HashMap;

/// Tensors by name, in insertion order. Model weights and their gradients both live in one.
///
/// ```
/// use steepest::nn::ParamStore;
/// use steepest::Tensor;
/// let mut p = ParamStore::<f32>::new();
/// p.insert("layer.weight", Tensor::zeros(&[2, 3]));
/// p.insert("layer.bias", Tensor::zeros(&[3]));
/// assert_eq!(p.names().collect::<Vec<_>>(), ["layer.weight", "layer.bias"]);
/// assert_eq!(p.num_elements(), 9);
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    from = "Vec<(String, Tensor<T>)>",
    into = "Vec<(String, Tensor<T>)>",
    bound = "T: Scalar"
)]
pub struct ParamStore<T = f32> {
    entries: Vec<(String, Tensor<T>)>,
    index: HashMap<String, usize>,
}

impl<T: Scalar> ParamStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds or replaces `name`.
    pub fn insert(&mut self, name: impl Into<String>, value: Tensor<T>) {
        let name = name.into();
        match self.index.get(&name) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push((name, value));
            }
        }
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor<T>> {
        self.index.get(name).map(|&i| &self.entries[i].1)
    }

    /// The tensor called `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Tensor<T>> {
        self.index.get(name).map(|&i| &mut self.entries[i].1)
    }

    /// The tensor called `name`, or an error naming it.
    pub fn require(&self, name: &str) -> Result<&Tensor<T>> {
        self.get(name)
            .ok_or_else(|| Error::invalid("parameters", format!("no parameter named '{name}'")))
    }

    /// Names in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `(name, tensor)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor<T>)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// `(name, tensor)` pairs in insertion order, tensors mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Tensor<T>)> {
        self.entries.iter_mut().map(|(n, t)| (n.as_str(), t))
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalar elements.
    pub fn num_elements(&self) -> usize {
        self.entries.iter().map(|(_, t)| t.len()).sum()
    }

    /// A store with the same names and shapes, all zeros.
    pub fn zeros_like(&self) -> Self {
        let mut out = Self::new();
        for (n, t) in self.iter() {
            out.insert(n, Tensor::zeros(t.shape()));
        }
        out
    }

    /// Euclidean norm of all elements together, in f64, by
    /// [`sum_of_squares_each`](crate::tensor::elementwise::sum_of_squares_each) (every tensor's
    /// blocks in one sweep, on several threads when that pays; the same result on any number).
    pub fn global_norm(&self) -> f64 {
        let slices: Vec<&[T]> = self.entries.iter().map(|(_, t)| t.data()).collect();
        let total: f64 = crate::tensor::elementwise::sum_of_squares_each(&slices).iter().sum();
        total.sqrt()
    }

    /// Whether every element is finite.
    pub fn all_finite(&self) -> bool {
        self.entries.iter().all(|(_, t)| t.all_finite())
    }

    /// All elements concatenated in insertion order.
    pub fn flatten(&self) -> Vec<T> {
        self.entries
            .iter()
            .flat_map(|(_, t)| t.data().iter().copied())
            .collect()
    }

    /// Overwrites all elements from a flat slice laid out as [`ParamStore::flatten`] gives.
    pub fn unflatten_from(&mut self, flat: &[T]) -> Result<()> {
        if flat.len() != self.num_elements() {
            return Err(Error::invalid(
                "unflatten",
                format!("{} values for {} parameters", flat.len(), self.num_elements()),
            ));
        }
        let mut at = 0;
        for (_, t) in self.entries.iter_mut() {
            let n = t.len();
            t.data_mut().copy_from_slice(&flat[at..at + n]);
            at += n;
        }
        Ok(())
    }

    /// Checks that `other` has a tensor of the same shape for each of this store's names.
    pub fn check_matches(&self, other: &Self, what: &'static str) -> Result<()> {
        for (n, t) in self.iter() {
            match other.get(n) {
                None => return Err(Error::invalid(what, format!("missing '{n}'"))),
                Some(o) if o.shape() != t.shape() => {
                    return Err(Error::invalid(
                        what,
                        format!("'{n}' has shape {:?}, expected {:?}", o.shape(), t.shape()),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl<T: Scalar> From<Vec<(String, Tensor<T>)>> for ParamStore<T> {
    fn from(entries: Vec<(String, Tensor<T>)>) -> Self {
        let mut out = Self::new();
        for (n, t) in entries {
            out.insert(n, t);
        }
        out
    }
}

impl<T: Scalar> From<ParamStore<T>> for Vec<(String, Tensor<T>)> {
    fn from(p: ParamStore<T>) -> Self {
        p.entries
    }
}
