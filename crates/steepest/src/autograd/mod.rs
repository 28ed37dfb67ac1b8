//! Reverse-mode automatic differentiation on a tape.
//!
//! A [`Tape`] records every operation as code runs into an arena of nodes (a Wengert list);
//! a [`Var`] is a copyable handle (tape reference plus node index). [`Tape::backward`] walks the
//! list once in reverse from a scalar loss, applying each op's backward rule and accumulating
//! where a value feeds more than one op, and returns the gradients of the leaves
//! ([`Gradients`]). Each op's forward and backward rule sit together in one file per family
//! under `ops/`; the one `match` that dispatches them is in `ops/mod.rs`.
//!
//! [`Tape::inference`] gives a tape that records no operations, for prediction.
//! [`check_gradients`] proves a gradient against central finite differences in f64.
//!
//! ```
//! use steepest::autograd::Tape;
//! use steepest::Tensor;
//! let tape = Tape::<f64>::new();
//! let x = tape.param(Tensor::from_vec(vec![1.0, 2.0]));
//! let y = x.mul(x)?.sum_all(); // y = sum x^2, dy/dx = 2x
//! let g = tape.backward(y)?;
//! assert_eq!(g.wrt(x)?.data(), &[2.0, 4.0]);
//! # Ok::<(), steepest::Error>(())
//! ```

mod gradcheck;
mod ops;
mod tape;
mod var;

pub use gradcheck::{check_gradients, GradCheck};
pub use ops::CustomOp;
pub use tape::{Gradients, Tape};
pub use var::Var;
