//! Element-wise binary ops with broadcasting, and `where`. The backward rule of a broadcast
//! operand sums the incoming gradient back down to that operand's shape.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{Scalar, Tensor};

pub(crate) enum BinaryOp<T> {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    /// `mask` selects `a` (non-zero) or `b` (zero), broadcast to the output.
    Where {
        mask: Tensor<T>,
        a: usize,
        b: usize,
    },
}

// The arithmetic returns `Result` (shapes are checked), so it cannot be `std::ops`.
#[allow(clippy::should_implement_trait)]
impl<'t, T: Scalar> Var<'t, T> {
    fn binary(
        self,
        other: Var<'t, T>,
        op: BinaryOp<T>,
        f: fn(&Tensor<T>, &Tensor<T>) -> Result<Tensor<T>>,
    ) -> Result<Self> {
        let v = self.tape().with_values2(self.id(), other.id(), f)?;
        Ok(self.tape().push(v, Op::Binary(op), &[self.id(), other.id()]))
    }

    /// `self + other`, broadcasting.
    pub fn add(self, other: Var<'t, T>) -> Result<Self> {
        self.binary(other, BinaryOp::Add(self.id(), other.id()), Tensor::add)
    }
    /// `self - other`, broadcasting.
    pub fn sub(self, other: Var<'t, T>) -> Result<Self> {
        self.binary(other, BinaryOp::Sub(self.id(), other.id()), Tensor::sub)
    }
    /// `self * other` element-wise, broadcasting.
    pub fn mul(self, other: Var<'t, T>) -> Result<Self> {
        self.binary(other, BinaryOp::Mul(self.id(), other.id()), Tensor::mul)
    }
    /// `self / other` element-wise, broadcasting.
    pub fn div(self, other: Var<'t, T>) -> Result<Self> {
        self.binary(other, BinaryOp::Div(self.id(), other.id()), Tensor::div)
    }

    /// `where(mask, a, b)`: `a` where the constant `mask` is non-zero, `b` elsewhere.
    pub fn where_(mask: &Tensor<T>, a: Var<'t, T>, b: Var<'t, T>) -> Result<Self> {
        let v = a
            .tape()
            .with_values2(a.id(), b.id(), |x, y| Tensor::where_(mask, x, y))?;
        let mask = mask.broadcast_to(v.shape())?;
        let op = BinaryOp::Where {
            mask,
            a: a.id(),
            b: b.id(),
        };
        Ok(a.tape().push(v, Op::Binary(op), &[a.id(), b.id()]))
    }
}

impl<T: Scalar> BinaryOp<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g;
        let mut out = Vec::with_capacity(2);
        let mut give = |id: usize, make: &dyn Fn() -> Result<Tensor<T>>| -> Result<()> {
            if c.needs(id) {
                let t = make()?;
                // Summed over broadcast axes only when it was broadcast (no second copy).
                let t = match t.shape() == c.x(id).shape() {
                    true => t,
                    false => t.sum_to_shape(c.x(id).shape())?,
                };
                out.push((id, t));
            }
            Ok(())
        };
        match *self {
            BinaryOp::Add(a, b) => {
                give(a, &|| Ok(g.clone()))?;
                give(b, &|| Ok(g.clone()))?;
            }
            BinaryOp::Sub(a, b) => {
                give(a, &|| Ok(g.clone()))?;
                give(b, &|| Ok(g.neg()))?;
            }
            BinaryOp::Mul(a, b) => {
                give(a, &|| g.mul(c.x(b)))?;
                give(b, &|| g.mul(c.x(a)))?;
            }
            BinaryOp::Div(a, b) => {
                give(a, &|| g.div(c.x(b)))?;
                // d(a/b)/db = -a / b^2 = -out / b
                give(b, &|| g.mul(c.out)?.div(c.x(b)).map(|t| t.neg()))?;
            }
            BinaryOp::Where { ref mask, a, b } => {
                give(a, &|| g.mul(mask))?;
                give(b, &|| {
                    g.zip_with(mask, "where", |g, m| if m != T::zero() { T::zero() } else { g })
                })?;
            }
        }
        Ok(out)
    }
}
