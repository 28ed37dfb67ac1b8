//! `Var`: a copyable handle to a value on a tape.

use super::tape::Tape;
use crate::tensor::{Scalar, Tensor};

/// A value recorded on a [`Tape`]: the tape and the node's index. Copy it freely; the ops are
/// methods (`x.matmul(w)?.add(b)?.relu()`), defined beside their backward rules.
#[derive(Clone, Copy)]
pub struct Var<'t, T: Scalar = f32> {
    tape: &'t Tape<T>,
    id: usize,
}

impl<'t, T: Scalar> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, id: usize) -> Self {
        Self { tape, id }
    }

    /// The tape this variable lives on.
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// Index of the node on its tape.
    pub fn id(&self) -> usize {
        self.id
    }

    /// A copy of the value.
    pub fn value(&self) -> Tensor<T> {
        self.tape.value_of(self.id)
    }

    /// The value's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.tape.with_value(self.id, |v| v.shape().to_vec())
    }

    /// The single element of a one-element value (e.g. a loss).
    pub fn item(&self) -> crate::Result<T> {
        self.tape.with_value(self.id, Tensor::item)
    }
}

impl<T: Scalar> std::fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var#{}{:?}", self.id, self.shape())
    }
}
