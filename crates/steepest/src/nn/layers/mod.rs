//! Layers, one family per file. Each holds the full names of its parameters and its settings;
//! defaults and initialization follow PyTorch's layer of the same name.

mod activation;
mod attention;
mod conv;
mod dropout;
mod embedding;
mod linear;
mod norm;
mod pool;
mod residual;
mod sequential;
mod sync_norm;
mod transformer;

pub use activation::Activation;
pub use attention::MultiheadAttention;
pub use conv::{Conv1d, Conv2d};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use linear::Linear;
pub use norm::{BatchNorm, GroupNorm, LayerNorm};
pub use pool::{AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Flatten, MaxPool1d, MaxPool2d};
pub use residual::Residual;
pub use sequential::Sequential;
pub use transformer::{TransformerConfig, TransformerDecoderLayer, TransformerEncoderLayer};
