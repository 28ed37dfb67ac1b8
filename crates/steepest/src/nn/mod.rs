//! Neural-network building blocks: the named parameter store that optimizers and models share
//! (parameters are addressed by name, such as `"conv1.weight"`, never by position), the
//! [`Module`] trait with its forward context [`Cx`], the [`VarBuilder`] that names and
//! initializes parameters, the layers, architectures as data ([`arch`]), and the fused MLP
//! kernel (an optimization the MLP picks when it applies).

pub mod arch;
mod builder;
pub mod layers;
mod loss;
mod mlp_kernel;
mod module;
mod params;

pub use builder::{torch_uniform, VarBuilder};
pub use layers::*;
pub use loss::{cross_entropy, huber, kl_diag_gaussians};
pub use mlp_kernel::{
    mlp_loss_grad, mlp_loss_grad_rows, mlp_loss_grad_step_rows, KernelActivation, KernelTargets, MlpWorkspace,
    RowUpdate, WeightStep,
};
pub use module::{Cx, Mode, Module};
pub use params::ParamStore;
