//! The differentiable ops, one file per family. Each file defines the forward methods on
//! [`Var`](super::Var) and, beside them, the backward rule; this file holds the op enum and the
//! one `match` that sends a node's gradient to its family's rule.

mod binary;
mod conv;
mod custom;
mod layout;
mod loss;
mod matmul;
mod norm;
mod reduce;
mod shape;
mod softmax;
mod unary;

use super::tape::Node;
use crate::error::Result;
use crate::tensor::{Scalar, Tensor};

pub(crate) use binary::BinaryOp;
pub(crate) use conv::ConvOp;
pub(crate) use custom::CustomNode;
pub use custom::CustomOp;
pub(crate) use layout::LayoutOp;
pub(crate) use loss::LossOp;
pub(crate) use matmul::MatmulOp;
pub(crate) use norm::NormOp;
pub(crate) use reduce::ReduceOp;
pub(crate) use shape::ShapeOp;
pub(crate) use softmax::SoftmaxOp;
pub(crate) use unary::UnaryOp;

/// How a node was computed.
pub(crate) enum Op<T> {
    Leaf,
    Unary(UnaryOp<T>),
    Binary(BinaryOp<T>),
    Reduce(ReduceOp),
    Shape(ShapeOp),
    Matmul(MatmulOp<T>),
    Softmax(SoftmaxOp),
    Loss(LossOp<T>),
    Conv(ConvOp),
    Layout(LayoutOp),
    Norm(NormOp<T>),
    Custom(CustomNode<T>),
}

/// What a backward rule sees: every node (for its inputs' values), its own output and the
/// gradient arriving at it.
pub(crate) struct Ctx<'a, T> {
    nodes: &'a [Node<T>],
    pub out: &'a Tensor<T>,
    pub g: &'a Tensor<T>,
}

impl<'a, T: Scalar> Ctx<'a, T> {
    /// The value of input node `id`.
    pub fn x(&self, id: usize) -> &'a Tensor<T> {
        &self.nodes[id].value
    }

    /// Whether input node `id` needs a gradient.
    pub fn needs(&self, id: usize) -> bool {
        self.nodes[id].requires_grad
    }
}

/// Gradient contributions to inputs: `(node, gradient with that node's shape)`.
pub(crate) type Contributions<T> = Result<Vec<(usize, Tensor<T>)>>;

impl<T: Scalar> Op<T> {
    pub(crate) fn backward(&self, nodes: &[Node<T>], out: &Tensor<T>, g: &Tensor<T>) -> Contributions<T> {
        let c = Ctx { nodes, out, g };
        match self {
            Op::Leaf => Ok(vec![]),
            Op::Unary(op) => op.backward(&c),
            Op::Binary(op) => op.backward(&c),
            Op::Reduce(op) => op.backward(&c),
            Op::Shape(op) => op.backward(&c),
            Op::Matmul(op) => op.backward(&c),
            Op::Softmax(op) => op.backward(&c),
            Op::Loss(op) => op.backward(&c),
            Op::Conv(op) => op.backward(&c),
            Op::Layout(op) => op.backward(&c),
            Op::Norm(op) => op.backward(&c),
            Op::Custom(op) => op.backward(&c),
        }
    }
}
