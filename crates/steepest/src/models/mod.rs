//! Estimators: builder -> validated parameters -> `fit` -> fitted model with `predict`,
//! `predict_proba`, `decision_function` and `score`, saved and loaded as safetensors plus
//! metadata.
//!
//! * [`LinearParams`]: linear regression (squared, Huber, absolute, epsilon-insensitive loss),
//!   ridge / lasso / elastic net through [`Penalty`](crate::linear::Penalty), logistic
//!   regression (binary, class weights), softmax regression, linear SVM (hinge or squared hinge;
//!   one-vs-rest or Crammer-Singer), RBF-kernel SVM through random Fourier features, and the
//!   perceptron; polynomial features for any of them.
//! * [`MlpParams`]: a multi-layer perceptron for classification or regression.
//! * [`NetParams`]: any network built from layers ([`nn::arch`](crate::nn::arch)), such as the
//!   convolutional network of PyTorch's MNIST example ([`NetParams::cnn`]).
//!
//! Every model trains with any optimizer and schedule ([`FitOptions`]) through
//! [`train::fit`](crate::train::fit).
//!
//! ```
//! use steepest::data::{embedded, split};
//! use steepest::models::{LinearParams, Predictor};
//! let data = embedded::iris::<f32>()?;
//! let s = split(&data.targets, 0.0, 0.2, 0)?;
//! let (train, test) = (data.subset(&s.train)?, data.subset(&s.test)?);
//! let model = LinearParams::softmax_regression().check()?.fit(&train)?;
//! assert!(model.score(&test)? > 0.9);
//! # Ok::<(), steepest::Error>(())
//! ```

mod evaluate;
mod inference;
pub mod io;
mod kernel_approx;
mod kernel_columns;
mod kernel_svm;
mod linear;
mod linear_newton;
mod linear_online;
mod mlp;
mod mlp_fused;
mod net;
mod options;
mod platt;
mod predict;
mod rff;
mod svm_newton;

pub use evaluate::Evaluator;
pub use inference::{regression_table, Covariance, Estimate, RegressionTable};
pub use io::{load_encoder, load_model, save_model, save_model_encoded, FORMAT_VERSION};
pub use kernel_approx::{FeatureMap, KernelApprox};
pub use kernel_svm::{
    FittedKernelSvm, Gamma, Kernel, KernelMulticlass, KernelName, KernelSvmParams, ValidKernelSvmParams,
};
pub use linear::{ClassWeight, FittedLinear, LinearKind, LinearParams, Multiclass, ValidLinearParams};
pub use linear_online::{is_wide_sparse, online_plan, OnlineRule};
pub use mlp::{Activation, FittedMlp, Init, MlpNet, MlpParams, ValidMlpParams};
pub use net::{FittedNet, NetParams, Network, ValidNetParams};
pub use options::FitOptions;
pub use platt::{couple, Sigmoid};
pub use predict::{FittedModel, Predictions, Predictor};
pub use rff::RandomFourierFeatures;
