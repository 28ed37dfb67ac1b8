//! Ops that move elements: reshape, transpose, row slices, row gathers, concatenation. Their
//! backward rules move the gradient back (gathers add where a row was taken twice).

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::{Scalar, Tensor};

pub(crate) enum ShapeOp {
    Reshape(usize),
    Transpose(usize),
    Rows { x: usize, start: usize },
    Gather { x: usize, rows: Vec<usize> },
    Concat { parts: Vec<usize>, axis: usize },
}

impl<'t, T: Scalar> Var<'t, T> {
    fn shaped(self, op: ShapeOp, parents: &[usize], v: Tensor<T>) -> Self {
        self.tape().push(v, Op::Shape(op), parents)
    }

    /// The same elements under another shape.
    pub fn reshape(self, shape: &[usize]) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.reshape(shape))?;
        Ok(self.shaped(ShapeOp::Reshape(self.id()), &[self.id()], v))
    }

    /// Transpose of a 2-D value.
    pub fn transpose(self) -> Result<Self> {
        let v = self.tape().with_value(self.id(), Tensor::transpose)?;
        Ok(self.shaped(ShapeOp::Transpose(self.id()), &[self.id()], v))
    }

    /// Rows `start..end` along the first axis.
    pub fn rows(self, start: usize, end: usize) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.rows(start, end))?;
        Ok(self.shaped(ShapeOp::Rows { x: self.id(), start }, &[self.id()], v))
    }

    /// The rows at `rows`, in that order (repeats allowed).
    pub fn gather_rows(self, rows: &[usize]) -> Result<Self> {
        let v = self.tape().with_value(self.id(), |t| t.gather_rows(rows))?;
        let op = ShapeOp::Gather {
            x: self.id(),
            rows: rows.to_vec(),
        };
        Ok(self.shaped(op, &[self.id()], v))
    }

    /// Concatenation of `parts` (at least one) along `axis`.
    pub fn concat(parts: &[Var<'t, T>], axis: usize) -> Result<Self> {
        let first = *parts
            .first()
            .ok_or_else(|| crate::Error::invalid("concat", "nothing to concatenate"))?;
        let ids: Vec<usize> = parts.iter().map(|p| p.id()).collect();
        let v = first.tape().with_many(&ids, |vals| Tensor::concat(vals, axis))?;
        Ok(first.shaped(
            ShapeOp::Concat {
                parts: ids.clone(),
                axis,
            },
            &ids,
            v,
        ))
    }
}

impl ShapeOp {
    pub(crate) fn backward<T: Scalar>(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        let g = c.g;
        Ok(match self {
            &ShapeOp::Reshape(x) => vec![(x, g.reshape(c.x(x).shape())?)],
            &ShapeOp::Transpose(x) => vec![(x, g.transpose()?)],
            &ShapeOp::Rows { x, start } => {
                let mut out = Tensor::zeros(c.x(x).shape());
                let w = g.row_len();
                out.data_mut()[start * w..start * w + g.len()].copy_from_slice(g.data());
                vec![(x, out)]
            }
            ShapeOp::Gather { x, rows } => {
                let mut out = Tensor::zeros(c.x(*x).shape());
                let w = out.row_len();
                for (k, &r) in rows.iter().enumerate() {
                    let src = g.row(k);
                    out.data_mut()[r * w..(r + 1) * w]
                        .iter_mut()
                        .zip(src)
                        .for_each(|(o, &s)| *o += s);
                }
                vec![(*x, out)]
            }
            ShapeOp::Concat { parts, axis } => {
                let outer: usize = g.shape()[..*axis].iter().product();
                let total: usize = g.shape()[*axis..].iter().product();
                let mut offset = 0;
                let mut out = Vec::new();
                for &p in parts {
                    let shape = c.x(p).shape();
                    let w: usize = shape[*axis..].iter().product();
                    if c.needs(p) {
                        let mut data = Vec::with_capacity(outer * w);
                        for o in 0..outer {
                            data.extend_from_slice(&g.data()[o * total + offset..o * total + offset + w]);
                        }
                        out.push((p, Tensor::new(data, shape)?));
                    }
                    offset += w;
                }
                out
            }
        })
    }
}
