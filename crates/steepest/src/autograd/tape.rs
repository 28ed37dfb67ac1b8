//! The tape: an arena of nodes in the order they were computed, and the reverse sweep.

use super::ops::Op;
use super::var::Var;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use std::cell::{Cell, RefCell};

/// One recorded value and the op that produced it.
pub(crate) struct Node<T> {
    pub value: Tensor<T>,
    pub op: Op<T>,
    pub requires_grad: bool,
}

/// A Wengert list: values in the order they were computed, with the ops that made them.
///
/// Create one per forward pass (or [`Tape::reset`] it), add leaves with [`Tape::param`]
/// (differentiated) and [`Tape::constant`] (not), compute with the methods of [`Var`], then call
/// [`Tape::backward`] on the scalar loss.
pub struct Tape<T: Scalar = f32> {
    nodes: RefCell<Vec<Node<T>>>,
    recording: Cell<bool>,
}

impl<T: Scalar> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> Tape<T> {
    /// A tape that records operations for [`Tape::backward`].
    pub fn new() -> Self {
        Self {
            nodes: RefCell::new(Vec::new()),
            recording: Cell::new(true),
        }
    }

    /// A tape that records no operations: values only, no graph, no gradients.
    pub fn inference() -> Self {
        let t = Self::new();
        t.recording.set(false);
        t
    }

    /// Whether operations are being recorded.
    pub fn is_recording(&self) -> bool {
        self.recording.get()
    }

    /// Forgets every node (their values are released; the node storage is kept), so the tape
    /// can serve the next pass without growing its storage again.
    pub fn reset(&mut self) {
        self.nodes.get_mut().clear();
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A leaf whose gradient [`Tape::backward`] computes.
    pub fn param(&self, value: Tensor<T>) -> Var<'_, T> {
        let rg = self.is_recording();
        self.push_node(value, Op::Leaf, rg)
    }

    /// A leaf treated as a constant (data, targets, masks).
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_node(value, Op::Leaf, false)
    }

    fn push_node(&self, value: Tensor<T>, op: Op<T>, requires_grad: bool) -> Var<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            value,
            op,
            requires_grad,
        });
        Var::new(self, nodes.len() - 1)
    }

    /// Records the result of `op` on `parents`.
    pub(crate) fn push(&self, value: Tensor<T>, op: Op<T>, parents: &[usize]) -> Var<'_, T> {
        let rg = self.is_recording() && {
            let nodes = self.nodes.borrow();
            parents.iter().any(|&p| nodes[p].requires_grad)
        };
        let op = if rg { op } else { Op::Leaf };
        self.push_node(value, op, rg)
    }

    /// Runs `f` on the value of node `id`.
    pub(crate) fn with_value<R>(&self, id: usize, f: impl FnOnce(&Tensor<T>) -> R) -> R {
        f(&self.nodes.borrow()[id].value)
    }

    /// Runs `f` on the values of two nodes.
    pub(crate) fn with_values2<R>(&self, a: usize, b: usize, f: impl FnOnce(&Tensor<T>, &Tensor<T>) -> R) -> R {
        let nodes = self.nodes.borrow();
        f(&nodes[a].value, &nodes[b].value)
    }

    /// Runs `f` on the values of several nodes.
    pub(crate) fn with_many<R>(&self, ids: &[usize], f: impl FnOnce(&[&Tensor<T>]) -> R) -> R {
        let nodes = self.nodes.borrow();
        let vals: Vec<&Tensor<T>> = ids.iter().map(|&i| &nodes[i].value).collect();
        f(&vals)
    }

    /// A copy of node `id`'s value.
    pub(crate) fn value_of(&self, id: usize) -> Tensor<T> {
        self.with_value(id, Tensor::clone)
    }

    /// Reverse sweep from a one-element `loss`: the gradient of `loss` with respect to every leaf
    /// created by [`Tape::param`] that it depends on.
    pub fn backward(&self, loss: Var<'_, T>) -> Result<Gradients<T>> {
        if !std::ptr::eq(loss.tape(), self) {
            return Err(Error::invalid("backward", "the loss belongs to another tape"));
        }
        let nodes = self.nodes.borrow();
        let root = &nodes[loss.id()];
        if root.value.len() != 1 {
            return Err(Error::invalid(
                "backward",
                format!("the loss must have one element, got shape {:?}", root.value.shape()),
            ));
        }
        let mut grads: Vec<Option<Tensor<T>>> = (0..=loss.id()).map(|_| None).collect();
        grads[loss.id()] = Some(Tensor::ones(root.value.shape()));
        for id in (0..=loss.id()).rev() {
            let node = &nodes[id];
            if matches!(node.op, Op::Leaf) || !node.requires_grad {
                continue;
            }
            let Some(g) = grads[id].take() else { continue };
            for (p, contribution) in node.op.backward(&nodes, &node.value, &g)? {
                match &mut grads[p] {
                    Some(acc) => acc
                        .data_mut()
                        .iter_mut()
                        .zip(contribution.data())
                        .for_each(|(a, &c)| *a += c),
                    slot => *slot = Some(contribution),
                }
            }
        }
        for (id, g) in grads.iter_mut().enumerate() {
            if !nodes[id].requires_grad {
                *g = None;
            }
        }
        Ok(Gradients { grads })
    }
}

/// Gradients of a loss with respect to the leaves of a tape, from [`Tape::backward`].
pub struct Gradients<T> {
    grads: Vec<Option<Tensor<T>>>,
}

impl<T: Scalar> Gradients<T> {
    /// The gradient for `leaf`, if the loss depends on it.
    pub fn get(&self, leaf: Var<'_, T>) -> Option<&Tensor<T>> {
        self.grads.get(leaf.id()).and_then(Option::as_ref)
    }

    /// Takes the gradient for `leaf` out, leaving `None`.
    pub fn take(&mut self, leaf: Var<'_, T>) -> Option<Tensor<T>> {
        self.grads.get_mut(leaf.id()).and_then(Option::take)
    }

    /// The gradient for `leaf`: zeros if the loss does not depend on it, an error if `leaf` is
    /// not a parameter.
    pub fn wrt(&self, leaf: Var<'_, T>) -> Result<Tensor<T>> {
        if let Some(g) = self.get(leaf) {
            return Ok(g.clone());
        }
        if leaf.requires_grad() {
            Ok(Tensor::zeros(&leaf.shape()))
        } else {
            Err(Error::invalid(
                "gradient",
                "the variable is not a parameter of the tape",
            ))
        }
    }
}

impl<'t, T: Scalar> Var<'t, T> {
    /// Whether gradients flow to this variable.
    pub fn requires_grad(&self) -> bool {
        self.tape().nodes.borrow()[self.id()].requires_grad
    }
}
