//! `VarBuilder`: creates parameters under hierarchical names (`vb.pp("conv1")` gives the prefix
//! `conv1.`), initialized by a seeded generator, or checks the shape of those already there
//! (when a network is rebuilt over loaded weights).

use super::ParamStore;
use crate::error::{Error, Result};
use crate::tensor::{rng, Rng, Scalar, Tensor};
use std::cell::RefCell;
use std::rc::Rc;

struct Inner<'a, T> {
    params: &'a mut ParamStore<T>,
    buffers: ParamStore<T>,
    rng: Rng,
}

/// Parameters by hierarchical name, in the spirit of candle-nn's `VarBuilder`: layers take a
/// builder whose prefix names them, and ask it for their tensors.
///
/// ```
/// use steepest::nn::{ParamStore, VarBuilder};
/// let mut store = ParamStore::<f32>::new();
/// let vb = VarBuilder::new(&mut store, 0);
/// let name = vb.pp("block").pp(0).param("weight", &[4, 2], |shape, r| steepest::Tensor::zeros(shape))?;
/// assert_eq!(name, "block.0.weight");
/// # drop(vb);
/// assert_eq!(store.names().collect::<Vec<_>>(), ["block.0.weight"]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub struct VarBuilder<'a, T> {
    inner: Rc<RefCell<Inner<'a, T>>>,
    prefix: String,
}

impl<'a, T: Scalar> VarBuilder<'a, T> {
    /// A builder over `params`, drawing initial values from a generator seeded by `seed`.
    pub fn new(params: &'a mut ParamStore<T>, seed: u64) -> Self {
        Self {
            inner: Rc::new(RefCell::new(Inner {
                params,
                buffers: ParamStore::new(),
                rng: rng(seed),
            })),
            prefix: String::new(),
        }
    }

    /// The same store under `prefix.name`.
    pub fn pp(&self, name: impl std::fmt::Display) -> Self {
        let prefix = match self.prefix.is_empty() {
            true => name.to_string(),
            false => format!("{}.{name}", self.prefix),
        };
        Self {
            inner: Rc::clone(&self.inner),
            prefix,
        }
    }

    /// The full name of `name` under this prefix.
    pub fn name(&self, name: &str) -> String {
        match self.prefix.is_empty() {
            true => name.to_string(),
            false => format!("{}.{name}", self.prefix),
        }
    }

    /// The trainable parameter `name` of `shape`: created by `init` (shape, generator) when
    /// the store lacks it, checked against `shape` when it has it. Returns the full name.
    pub fn param(
        &self,
        name: &str,
        shape: &[usize],
        init: impl FnOnce(&[usize], &mut Rng) -> Tensor<T>,
    ) -> Result<String> {
        let full = self.name(name);
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        match inner.params.get(&full) {
            Some(t) if t.shape() == shape => {}
            Some(t) => {
                return Err(Error::invalid(
                    "model weights",
                    format!("'{full}' has shape {:?}, the architecture needs {shape:?}", t.shape()),
                ))
            }
            None => {
                let t = init(shape, &mut inner.rng);
                inner.params.insert(full.clone(), t);
            }
        }
        Ok(full)
    }

    /// A buffer (saved with the model, not trained: batch norm's running statistics) called
    /// `name`, starting at `init`. Returns the full name; [`VarBuilder::buffers`] hands them over.
    pub fn buffer(&self, name: &str, init: Tensor<T>) -> String {
        let full = self.name(name);
        self.inner.borrow_mut().buffers.insert(full.clone(), init);
        full
    }

    /// The buffers declared so far, with their initial values.
    pub fn buffers(&self) -> ParamStore<T> {
        self.inner.borrow().buffers.clone()
    }
}

/// PyTorch's default initialization of a layer's weight and bias (`kaiming_uniform_(a=sqrt(5))`
/// for the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the
/// bias), where `fan_in` is the number of inputs of one output unit.
pub fn torch_uniform<T: Scalar>(fan_in: usize) -> impl Fn(&[usize], &mut Rng) -> Tensor<T> {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    move |shape, r| Tensor::rand_uniform(shape, -bound, bound, r)
}
