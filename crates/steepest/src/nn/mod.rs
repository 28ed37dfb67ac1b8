//! Neural-network building blocks: the named parameter store that optimizers and models share
//! (parameters are addressed by name, such as `"hidden.0.weight"`, never by position), and the
//! fused MLP kernel.

mod mlp_kernel;
mod params;

pub use mlp_kernel::{mlp_loss_grad, mlp_loss_grad_rows, KernelActivation, KernelTargets, MlpWorkspace};
pub use params::ParamStore;
