//! Linear models without a tape: decision values Z = X W + b for dense or sparse rows, the
//! losses of linear regression, classification and SVMs with their derivatives in closed form,
//! and the penalties (L2, L1 by a proximal step, elastic net).
//!
//! The objective over n rows with row weights s_i (class weights; 1 by default) is
//! (1/n) sum_i s_i L(z_i, y_i) + alpha R(W), where R is the penalty (the intercept b is never
//! penalized), as in scikit-learn's `SGDClassifier`/`SGDRegressor`.

mod core;
mod loss;
mod penalty;
mod second_order;
mod sgd;

pub use self::core::{LinearCore, RowTargets};
pub use loss::LinearLoss;
pub use penalty::Penalty;
pub use second_order::{has_hessian, value_grad_hessian};
pub use sgd::{mix_models, sgd_pass, sgd_pass_parallel, softmax_pass, SgdConfig, SgdModel};
