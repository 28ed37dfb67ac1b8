//! # Steepest
//!
//! A gradient-descent training engine: tensors, reverse-mode automatic differentiation, the
//! optimizers of the gradient-descent family, and the models people fit with them.
//!
//! The textbook loop, on the tape: fit noisy points of y = 3x + 2 by plain gradient descent.
//!
//! ```
//! use steepest::autograd::Tape;
//! use steepest::tensor::{rng, Tensor};
//!
//! let mut r = rng(0);
//! let x = Tensor::<f64>::rand_uniform(&[200, 1], -1.0, 1.0, &mut r);
//! let noise = Tensor::<f64>::randn(&[200, 1], 0.0, 0.01, &mut r);
//! let y = x.mul_scalar(3.0).add_scalar(2.0).add(&noise)?;
//!
//! let (mut w, mut b) = (Tensor::zeros(&[1, 1]), Tensor::zeros(&[1]));
//! for _ in 0..500 {
//!     let tape = Tape::new();
//!     let (wv, bv) = (tape.param(w.clone()), tape.param(b.clone()));
//!     let pred = tape.constant(x.clone()).matmul(wv)?.add(bv)?;
//!     let loss = pred.mse(tape.constant(y.clone()))?;
//!     let grads = tape.backward(loss)?;
//!     w = w.sub(&grads.wrt(wv)?.mul_scalar(0.5))?; // step against the gradient, lr = 0.5
//!     b = b.sub(&grads.wrt(bv)?.mul_scalar(0.5))?;
//! }
//! assert!((w.item()? - 3.0).abs() < 1e-2, "slope {}", w.item()?);
//! assert!((b.item()? - 2.0).abs() < 1e-2, "intercept {}", b.item()?);
//! # Ok::<(), steepest::Error>(())
//! ```
#![warn(missing_docs)]

pub mod autograd;
pub mod collective;
pub mod data;
pub mod error;
pub mod fsutil;
pub mod linear;
pub mod memory;
pub mod models;
pub mod nn;
pub mod optim;
pub mod tensor;
pub mod train;

pub use error::{Error, Result};
pub use tensor::Tensor;
