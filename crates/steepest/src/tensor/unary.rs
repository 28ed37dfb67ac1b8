//! Element-wise functions of one tensor: arithmetic with a scalar and the activation functions.
//! Each is written in its numerically stable form (noted where it matters).

use super::{Scalar, Tensor};

impl<T: Scalar> Tensor<T> {
    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Self::from_parts(self.shape.clone(), super::elementwise::map(self.data(), f))
    }

    /// Applies `f` to every element in place.
    pub fn map_inplace(&mut self, f: impl Fn(T) -> T) {
        self.data_mut().iter_mut().for_each(|x| *x = f(*x));
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        self.map(|x| -x)
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: T) -> Self {
        self.map(|x| x + c)
    }

    /// `c * x`.
    pub fn mul_scalar(&self, c: T) -> Self {
        self.map(|x| x * c)
    }

    /// `x^2`.
    pub fn square(&self) -> Self {
        self.map(|x| x * x)
    }

    /// `e^x`.
    pub fn exp(&self) -> Self {
        self.map(T::exp)
    }

    /// Natural logarithm.
    pub fn ln(&self) -> Self {
        self.map(T::ln)
    }

    /// Square root.
    pub fn sqrt(&self) -> Self {
        self.map(T::sqrt)
    }

    /// `|x|`.
    pub fn abs(&self) -> Self {
        self.map(T::abs)
    }

    /// `x^p`.
    pub fn powf(&self, p: T) -> Self {
        self.map(|x| x.powf(p))
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Self {
        self.map(T::tanh)
    }

    /// Logistic sigmoid 1 / (1 + e^-x), evaluated without overflow for either sign.
    pub fn sigmoid(&self) -> Self {
        self.map(sigmoid)
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Self {
        self.map(|x| if x > T::zero() { x } else { T::zero() })
    }

    /// `x` for positive `x`, `slope * x` otherwise (PyTorch's default slope is 0.01).
    pub fn leaky_relu(&self, slope: T) -> Self {
        self.map(|x| if x > T::zero() { x } else { slope * x })
    }

    /// GELU, the exact form x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default).
    pub fn gelu(&self) -> Self {
        self.map(gelu)
    }

    /// Softplus ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|).
    pub fn softplus(&self) -> Self {
        self.map(softplus)
    }

    /// Clamps every element into `[lo, hi]`.
    pub fn clamp(&self, lo: T, hi: T) -> Self {
        self.map(|x| x.max(lo).min(hi))
    }
}

/// Logistic sigmoid, stable for large |x|.
#[inline]
pub(crate) fn sigmoid<T: Scalar>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// Softplus, stable for large |x|.
#[inline]
pub(crate) fn softplus<T: Scalar>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Exact GELU.
#[inline]
pub(crate) fn gelu<T: Scalar>(x: T) -> T {
    T::of(0.5) * x * (T::one() + (x * T::of(std::f64::consts::FRAC_1_SQRT_2)).erf())
}

/// Derivative of exact GELU: Phi(x) + x phi(x).
#[inline]
pub(crate) fn gelu_grad<T: Scalar>(x: T) -> T {
    let cdf = T::of(0.5) * (T::one() + (x * T::of(std::f64::consts::FRAC_1_SQRT_2)).erf());
    let pdf = (T::of(-0.5) * x * x).exp() * T::of(0.398_942_280_401_432_7);
    cdf + x * pdf
}
