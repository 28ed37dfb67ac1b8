//! The element types a [`Tensor`](super::Tensor) can hold: `f32` (the default) and `f64`.

use std::fmt::{Debug, Display};

/// A floating-point element type: `f32` or `f64`.
///
/// Beyond [`num_traits::Float`] it adds lossless-enough conversions to and from `f64`
/// (used for constants and reporting) and the error function needed by GELU.
pub trait Scalar:
    num_traits::Float
    + num_traits::NumAssign
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + std::iter::Sum
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// `"f32"` or `"f64"`, as written in files.
    const DTYPE: &'static str;
    /// Converts an `f64` constant into this type (rounding for `f32`).
    fn of(v: f64) -> Self;
    /// Widens to `f64`.
    fn as_f64(self) -> f64;
    /// The Gauss error function erf(x).
    fn erf(self) -> Self;
}

impl Scalar for f32 {
    const DTYPE: &'static str = "f32";
    #[inline]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
}

impl Scalar for f64 {
    const DTYPE: &'static str = "f64";
    #[inline]
    fn of(v: f64) -> Self {
        v
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
}
