//! Matrix products (dense, and sparse-constant times dense).
//!
//! For C = op_a(A) op_b(B) with upstream gradient G:
//! dA = G op_b(B)^T (or its transpose when A was read transposed), dB = op_a(A)^T G (likewise).

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{CsrMatrix, Scalar};
use std::sync::Arc;

pub(crate) enum MatmulOp<T> {
    Dense { a: usize, b: usize, ta: bool, tb: bool },
    Sparse { a: Arc<CsrMatrix<T>>, b: usize },
}

impl<'t, T: Scalar> Var<'t, T> {
    /// Matrix product `self * other`.
    pub fn matmul(self, other: Var<'t, T>) -> Result<Self> {
        self.matmul_t(other, false, false)
    }

    /// `op(self) * op(other)`, where `op` transposes when its flag is set (no copy is made).
    pub fn matmul_t(self, other: Var<'t, T>, ta: bool, tb: bool) -> Result<Self> {
        let v = self
            .tape()
            .with_values2(self.id(), other.id(), |a, b| a.matmul_t(b, ta, tb))?;
        let op = MatmulOp::Dense {
            a: self.id(),
            b: other.id(),
            ta,
            tb,
        };
        Ok(self.tape().push(v, Op::Matmul(op), &[self.id(), other.id()]))
    }

    /// `a * self` for a constant sparse matrix `a` (e.g. a mini-batch of LIBSVM rows).
    pub fn sparse_lmul(self, a: &Arc<CsrMatrix<T>>) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |w| a.matmul_dense(w))?;
        let op = MatmulOp::Sparse {
            a: Arc::clone(a),
            b: self.id(),
        };
        Ok(self.tape().push(v, Op::Matmul(op), &[self.id()]))
    }
}

impl<T: Scalar> MatmulOp<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g;
        let mut out = Vec::with_capacity(2);
        match *self {
            MatmulOp::Dense { a, b, ta, tb } => {
                let (av, bv) = (c.x(a), c.x(b));
                if c.needs(a) {
                    let da = if ta {
                        bv.matmul_t(g, tb, true)?
                    } else {
                        g.matmul_t(bv, false, !tb)?
                    };
                    out.push((a, da));
                }
                if c.needs(b) {
                    let db = if tb {
                        g.matmul_t(av, true, ta)?
                    } else {
                        av.matmul_t(g, !ta, false)?
                    };
                    out.push((b, db));
                }
            }
            MatmulOp::Sparse { ref a, b } => {
                if c.needs(b) {
                    out.push((b, a.t_matmul_dense(g)?));
                }
            }
        }
        Ok(out)
    }
}
