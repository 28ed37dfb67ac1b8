//! Ops defined outside the crate: a forward and a backward behind one trait.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use std::sync::Arc;

/// An op written outside the crate: its forward on the input values and its backward, the
/// gradient of each input given the gradient of the output (`None` for an input that needs
/// none). Record it with [`Var::custom`].
///
/// ```
/// use steepest::autograd::{check_gradients, CustomOp, Tape, Var};
/// use steepest::{Result, Tensor};
///
/// /// y = x^3, dy/dx = 3 x^2.
/// struct Cube;
/// impl CustomOp<f64> for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn forward(&self, x: &[&Tensor<f64>]) -> Result<Tensor<f64>> {
///         Ok(x[0].map(|v| v * v * v))
///     }
///     fn backward(&self, x: &[&Tensor<f64>], _y: &Tensor<f64>, g: &Tensor<f64>) -> Result<Vec<Option<Tensor<f64>>>> {
///         Ok(vec![Some(x[0].map(|v| 3.0 * v * v).mul(g)?)])
///     }
/// }
///
/// let x = Tensor::from_vec(vec![0.5, -1.0, 2.0]);
/// let r = check_gradients(|_t, v: &[Var<'_, f64>]| Ok(Var::custom(std::sync::Arc::new(Cube), &[v[0]])?.sum_all()), &[x], 1e-6)?;
/// assert!(r.max_rel_error < 1e-6);
/// # Ok::<(), steepest::Error>(())
/// ```
pub trait CustomOp<T>: Send + Sync {
    /// A name for error messages.
    fn name(&self) -> &str;
    /// The output from the input values.
    fn forward(&self, inputs: &[&Tensor<T>]) -> Result<Tensor<T>>;
    /// The gradient of each input (same shape as the input), given the inputs, the output and
    /// the output's gradient `g`.
    fn backward(&self, inputs: &[&Tensor<T>], output: &Tensor<T>, g: &Tensor<T>) -> Result<Vec<Option<Tensor<T>>>>;
}

pub(crate) struct CustomNode<T> {
    op: Arc<dyn CustomOp<T>>,
    inputs: Vec<usize>,
}

impl<'t, T: Scalar> Var<'t, T> {
    /// Records `op` applied to `inputs` (at least one, all on one tape).
    pub fn custom(op: Arc<dyn CustomOp<T>>, inputs: &[Var<'t, T>]) -> Result<Self> {
        let first = *inputs
            .first()
            .ok_or_else(|| Error::invalid("custom op", format!("{}: needs at least one input", op.name())))?;
        if inputs.iter().any(|v| !std::ptr::eq(v.tape(), first.tape())) {
            return Err(Error::invalid(
                "custom op",
                format!("{}: inputs on different tapes", op.name()),
            ));
        }
        let ids: Vec<usize> = inputs.iter().map(|v| v.id()).collect();
        let v = first.tape().with_many(&ids, |vals| op.forward(vals))?;
        Ok(first.tape().push(
            v,
            Op::Custom(CustomNode {
                op,
                inputs: ids.clone(),
            }),
            &ids,
        ))
    }
}

impl<T: Scalar> CustomNode<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let vals: Vec<&Tensor<T>> = self.inputs.iter().map(|&i| c.x(i)).collect();
        let grads = self.op.backward(&vals, c.out, c.g)?;
        if grads.len() != self.inputs.len() {
            return Err(Error::invalid(
                "custom op",
                format!(
                    "{}: backward gave {} gradients for {} inputs",
                    self.op.name(),
                    grads.len(),
                    self.inputs.len()
                ),
            ));
        }
        let mut out = Vec::new();
        for (&id, g) in self.inputs.iter().zip(grads) {
            if let Some(g) = g.filter(|_| c.needs(id)) {
                if g.shape() != c.x(id).shape() {
                    return Err(Error::invalid(
                        "custom op",
                        format!(
                            "{}: gradient of shape {:?} for an input of shape {:?}",
                            self.op.name(),
                            g.shape(),
                            c.x(id).shape()
                        ),
                    ));
                }
                out.push((id, g));
            }
        }
        Ok(out)
    }
}
