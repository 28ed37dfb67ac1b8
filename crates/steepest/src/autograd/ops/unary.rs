//! Element-wise functions of one input. dy/dx for each is written beside its forward call.

use super::{Contributions, Ctx, Op};
use crate::autograd::Var;
use crate::tensor::unary::{gelu_grad, sigmoid};
use crate::tensor::{Scalar, Tensor};

pub(crate) struct UnaryOp<T> {
    kind: Kind<T>,
    x: usize,
}

#[derive(Clone, Copy)]
enum Kind<T> {
    Neg,
    AddScalar,
    MulScalar(T),
    Square,
    Exp,
    Ln,
    Sqrt,
    Abs,
    Powf(T),
    Tanh,
    Sigmoid,
    Relu,
    LeakyRelu(T),
    Gelu,
    Softplus,
    Clamp(T, T),
}

// The arithmetic returns `Result` (shapes are checked), so it cannot be `std::ops`.
#[allow(clippy::should_implement_trait)]
impl<'t, T: Scalar> Var<'t, T> {
    fn unary(self, kind: Kind<T>, f: impl FnOnce(&Tensor<T>) -> Tensor<T>) -> Var<'t, T> {
        let v = self.tape().with_value(self.id(), f);
        let x = self.id();
        self.tape().push(v, Op::Unary(UnaryOp { kind, x }), &[x])
    }

    /// `-x`.
    pub fn neg(self) -> Self {
        self.unary(Kind::Neg, Tensor::neg)
    }
    /// `x + c`.
    pub fn add_scalar(self, c: T) -> Self {
        self.unary(Kind::AddScalar, |x| x.add_scalar(c))
    }
    /// `c x`.
    pub fn mul_scalar(self, c: T) -> Self {
        self.unary(Kind::MulScalar(c), |x| x.mul_scalar(c))
    }
    /// `x^2`.
    pub fn square(self) -> Self {
        self.unary(Kind::Square, Tensor::square)
    }
    /// `e^x`.
    pub fn exp(self) -> Self {
        self.unary(Kind::Exp, Tensor::exp)
    }
    /// `ln x`.
    pub fn ln(self) -> Self {
        self.unary(Kind::Ln, Tensor::ln)
    }
    /// `sqrt x`.
    pub fn sqrt(self) -> Self {
        self.unary(Kind::Sqrt, Tensor::sqrt)
    }
    /// `|x|` (subgradient 0 at 0).
    pub fn abs(self) -> Self {
        self.unary(Kind::Abs, Tensor::abs)
    }
    /// `x^p`.
    pub fn powf(self, p: T) -> Self {
        self.unary(Kind::Powf(p), |x| x.powf(p))
    }
    /// `tanh x`.
    pub fn tanh(self) -> Self {
        self.unary(Kind::Tanh, Tensor::tanh)
    }
    /// Logistic sigmoid.
    pub fn sigmoid(self) -> Self {
        self.unary(Kind::Sigmoid, Tensor::sigmoid)
    }
    /// `max(x, 0)` (gradient 0 at 0, as PyTorch).
    pub fn relu(self) -> Self {
        self.unary(Kind::Relu, Tensor::relu)
    }
    /// Leaky ReLU with the given negative slope.
    pub fn leaky_relu(self, slope: T) -> Self {
        self.unary(Kind::LeakyRelu(slope), |x| x.leaky_relu(slope))
    }
    /// Exact GELU.
    pub fn gelu(self) -> Self {
        self.unary(Kind::Gelu, Tensor::gelu)
    }
    /// `ln(1 + e^x)`.
    pub fn softplus(self) -> Self {
        self.unary(Kind::Softplus, Tensor::softplus)
    }
    /// Clamps into `[lo, hi]`; the gradient passes where `lo <= x <= hi` (as PyTorch).
    pub fn clamp(self, lo: T, hi: T) -> Self {
        self.unary(Kind::Clamp(lo, hi), |x| x.clamp(lo, hi))
    }
}

impl<T: Scalar> UnaryOp<T> {
    pub(crate) fn backward(&self, c: &Ctx<'_, T>) -> Contributions<T> {
        if !c.needs(self.x) {
            return Ok(vec![]);
        }
        let (x, y) = (c.x(self.x), c.out);
        let zero = T::zero();
        let one = T::one();
        // dy/dx as a function of (x, y), monomorphized per op so the loop vectorizes.
        fn d<T: Scalar>(x: &Tensor<T>, y: &Tensor<T>, g: &Tensor<T>, f: impl Fn(T, T) -> T) -> Tensor<T> {
            let data = crate::tensor::elementwise::map3(x.data(), y.data(), g.data(), |x, y, g| g * f(x, y));
            Tensor::from_parts(x.shape().to_vec(), data)
        }
        let g = c.g;
        let grad = match self.kind {
            Kind::Neg => c.g.neg(),
            Kind::AddScalar => c.g.clone(),
            Kind::MulScalar(k) => c.g.mul_scalar(k),
            Kind::Square => d(x, y, g, |x, _| x + x),
            Kind::Exp => d(x, y, g, |_, y| y),
            Kind::Ln => d(x, y, g, |x, _| one / x),
            Kind::Sqrt => d(x, y, g, |_, y| T::of(0.5) / y),
            Kind::Abs => d(x, y, g, |x, _| x.signum() * if x == zero { zero } else { one }),
            Kind::Powf(p) => d(x, y, g, |x, _| p * x.powf(p - one)),
            Kind::Tanh => d(x, y, g, |_, y| one - y * y),
            Kind::Sigmoid => d(x, y, g, |_, y| y * (one - y)),
            Kind::Relu => d(x, y, g, |x, _| if x > zero { one } else { zero }),
            Kind::LeakyRelu(s) => d(x, y, g, |x, _| if x > zero { one } else { s }),
            Kind::Gelu => d(x, y, g, |x, _| gelu_grad(x)),
            Kind::Softplus => d(x, y, g, |x, _| sigmoid(x)),
            Kind::Clamp(lo, hi) => d(x, y, g, |x, _| if x >= lo && x <= hi { one } else { zero }),
        };
        Ok(vec![(self.x, grad)])
    }
}
