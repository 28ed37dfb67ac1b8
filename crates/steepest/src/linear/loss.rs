//! Losses of a linear model's decision values, with their derivatives.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A loss on the decision values z of one row. Regression losses compare z with a real y;
/// binary ones take y in {-1, +1} (one output, or one per class for one-vs-rest); multi-class
/// ones take the class index over k outputs. Names and conventions follow scikit-learn's
/// `SGDClassifier`/`SGDRegressor` where they exist.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum LinearLoss {
    /// (z - y)^2 / 2.
    Squared,
    /// r^2 / 2 for |r| <= epsilon, else epsilon |r| - epsilon^2 / 2, with r = z - y.
    Huber {
        /// Where the loss turns linear.
        epsilon: f64,
    },
    /// |z - y|.
    Absolute,
    /// max(0, |z - y| - epsilon) (linear support-vector regression).
    EpsilonInsensitive {
        /// Width of the tube without loss.
        epsilon: f64,
    },
    /// ln(1 + e^(-y z)) (logistic regression).
    Log,
    /// max(0, 1 - y z) (linear SVM).
    Hinge,
    /// max(0, 1 - y z)^2.
    SquaredHinge,
    /// max(0, -y z).
    Perceptron,
    /// logsumexp(z) - z_y (softmax regression).
    Multinomial,
    /// max(0, 1 + max_{j != y} z_j - z_y) (Crammer and Singer 2001).
    CrammerSinger,
}

/// What a row's target looks like to a loss.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Real(f64),
    Class(usize),
}

impl LinearLoss {
    /// Whether the loss is for regression.
    pub fn is_regression(&self) -> bool {
        matches!(
            self,
            Self::Squared | Self::Huber { .. } | Self::Absolute | Self::EpsilonInsensitive { .. }
        )
    }

    /// Whether the loss takes a class index over k outputs (rather than per-output y).
    pub fn is_multiclass(&self) -> bool {
        matches!(self, Self::Multinomial | Self::CrammerSinger)
    }

    /// Checks the loss's own parameters.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::Huber { epsilon } | Self::EpsilonInsensitive { epsilon }
                if !(epsilon >= 0.0 && epsilon.is_finite()) =>
            {
                Err(Error::invalid("loss", format!("epsilon = {epsilon} must be >= 0")))
            }
            _ => Ok(()),
        }
    }

    /// The loss of one row and, into `dz`, its derivative with respect to each output.
    /// For per-output losses with a class target, output j sees y = +1 if j is the class, else -1.
    pub(crate) fn eval(&self, z: &[f64], target: Target, dz: &mut [f64]) -> f64 {
        match (self, target) {
            (Self::Multinomial, Target::Class(y)) => {
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
                let lse = m + s.ln();
                for (d, v) in dz.iter_mut().zip(z) {
                    *d = (v - lse).exp();
                }
                dz[y] -= 1.0;
                lse - z[y]
            }
            (Self::CrammerSinger, Target::Class(y)) => {
                dz.iter_mut().for_each(|d| *d = 0.0);
                let (j, zj) = z.iter().enumerate().filter(|&(j, _)| j != y).fold(
                    (usize::MAX, f64::NEG_INFINITY),
                    |b, (j, &v)| if v > b.1 { (j, v) } else { b },
                );
                let margin = 1.0 + zj - z[y];
                if j != usize::MAX && margin > 0.0 {
                    dz[j] = 1.0;
                    dz[y] = -1.0;
                    margin
                } else {
                    0.0
                }
            }
            (_, Target::Real(y)) => {
                let (l, d) = self.pointwise(z[0], y);
                dz[0] = d;
                l
            }
            (_, Target::Class(c)) => {
                let mut total = 0.0;
                for (j, (d, &v)) in dz.iter_mut().zip(z).enumerate() {
                    let y = if z.len() == 1 {
                        if c == 1 {
                            1.0
                        } else {
                            -1.0
                        }
                    } else if j == c {
                        1.0
                    } else {
                        -1.0
                    };
                    let (l, g) = self.pointwise(v, y);
                    *d = g;
                    total += l;
                }
                total
            }
        }
    }

    /// Loss and derivative of a single-output loss at decision value z against y.
    fn pointwise(&self, z: f64, y: f64) -> (f64, f64) {
        match *self {
            Self::Squared => ((z - y).powi(2) / 2.0, z - y),
            Self::Huber { epsilon } => {
                let r = z - y;
                if r.abs() <= epsilon {
                    (r * r / 2.0, r)
                } else {
                    (epsilon * r.abs() - epsilon * epsilon / 2.0, epsilon * r.signum())
                }
            }
            Self::Absolute => ((z - y).abs(), sign(z - y)),
            Self::EpsilonInsensitive { epsilon } => {
                let r = z - y;
                if r.abs() > epsilon {
                    (r.abs() - epsilon, r.signum())
                } else {
                    (0.0, 0.0)
                }
            }
            Self::Log => {
                let m = -y * z;
                // ln(1 + e^m) and its derivative -y sigmoid(m), both stable, from one
                // e = e^-|m|: sigmoid(m) = 1 / (1 + e) for m >= 0, e / (1 + e) otherwise.
                let e = (-m.abs()).exp();
                let l = m.max(0.0) + e.ln_1p();
                let s = if m >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                (l, -y * s)
            }
            Self::Hinge => {
                if y * z < 1.0 {
                    (1.0 - y * z, -y)
                } else {
                    (0.0, 0.0)
                }
            }
            Self::SquaredHinge => {
                let m = 1.0 - y * z;
                if m > 0.0 {
                    (m * m, -2.0 * y * m)
                } else {
                    (0.0, 0.0)
                }
            }
            Self::Perceptron => {
                if y * z <= 0.0 {
                    (-y * z, -y)
                } else {
                    (0.0, 0.0)
                }
            }
            Self::Multinomial | Self::CrammerSinger => (0.0, 0.0),
        }
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
