//! `Sequential`: modules applied in order.

use crate::autograd::Var;
use crate::error::Result;
use crate::nn::{Cx, Module};
use crate::tensor::Scalar;

/// Modules applied one after another (PyTorch's `nn.Sequential`).
///
/// ```
/// use steepest::nn::{Activation, Linear, ParamStore, Sequential, VarBuilder};
/// let mut store = ParamStore::<f32>::new();
/// let vb = VarBuilder::new(&mut store, 0);
/// let net = Sequential::<f32>::new()
///     .push(Linear::new(&vb.pp("0"), 4, 8, true)?)
///     .push(Activation::Relu)
///     .push(Linear::new(&vb.pp("2"), 8, 3, true)?);
/// assert_eq!(net.len(), 3);
/// # Ok::<(), steepest::Error>(())
/// ```
pub struct Sequential<T: Scalar> {
    layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Scalar> Default for Sequential<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> Sequential<T> {
    /// No layers.
    pub fn new() -> Self {
        Self { layers: Vec::new() }
    }

    /// Appends `m`.
    #[allow(clippy::should_implement_trait)]
    pub fn push(mut self, m: impl Module<T> + 'static) -> Self {
        self.layers.push(Box::new(m));
        self
    }

    /// Appends a boxed module.
    pub fn push_boxed(&mut self, m: Box<dyn Module<T>>) {
        self.layers.push(m);
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The output of layers `from..` applied to `x` (the input of layer `from`).
    pub fn forward_from<'t>(&self, cx: &mut Cx<'t, T>, mut x: Var<'t, T>, from: usize) -> Result<Var<'t, T>> {
        for l in self.layers.iter().skip(from) {
            x = l.forward(cx, x)?;
        }
        Ok(x)
    }

    /// The output of the first `n` layers.
    pub fn forward_first<'t>(&self, cx: &mut Cx<'t, T>, mut x: Var<'t, T>, n: usize) -> Result<Var<'t, T>> {
        for l in self.layers.iter().take(n) {
            x = l.forward(cx, x)?;
        }
        Ok(x)
    }
}

impl<T: Scalar> Module<T> for Sequential<T> {
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>> {
        self.forward_first(cx, x, self.layers.len())
    }
}
