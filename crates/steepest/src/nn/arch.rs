//! Architectures as data: a list of layers (type plus PyTorch's argument names), checked and
//! built into a [`Sequential`] with the input sizes inferred from the data. This is what
//! `model.json` stores and what an `--arch` TOML file holds (`docs/architecture.md`).

use super::layers::{
    Activation, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, BatchNorm, Conv1d, Conv2d, Dropout, Embedding, Flatten,
    GroupNorm, LayerNorm, Linear, MaxPool1d, MaxPool2d, MultiheadAttention, Residual, Sequential, TransformerConfig,
    TransformerEncoderLayer,
};
use super::{Module, VarBuilder};
use crate::error::{Error, Result};
use crate::tensor::{conv_out_len, Conv2dGeometry, Pool2dGeometry, Scalar};
use serde::{Deserialize, Serialize};

/// A size given as one number (both axes) or as `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Size2 {
    /// The same along both axes.
    One(usize),
    /// Height and width.
    Two([usize; 2]),
}

impl Size2 {
    /// As `[height, width]`.
    pub fn pair(self) -> [usize; 2] {
        match self {
            Size2::One(v) => [v, v],
            Size2::Two(p) => p,
        }
    }
}

fn one() -> usize {
    1
}
fn zero2() -> Size2 {
    Size2::One(0)
}
fn one2() -> Size2 {
    Size2::One(1)
}
fn yes() -> bool {
    true
}
fn half() -> f64 {
    0.5
}
fn slope() -> f64 {
    0.01
}
fn ff() -> usize {
    2048
}
fn tenth() -> f64 {
    0.1
}
fn relu() -> String {
    "relu".into()
}
fn eps() -> f64 {
    1e-5
}
fn momentum() -> f64 {
    0.1
}

/// One layer of an architecture: the type (PyTorch's class name) and its arguments under
/// PyTorch's names. `in_features` / `in_channels` may be left out (inferred from the previous
/// layer), and so may the last layer's `out_features` (the number of classes, or 1 for
/// regression). `name` names the layer's parameters (`name.weight`); it defaults to the layer's
/// position, as in `nn.Sequential`.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum LayerSpec {
    Linear {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_features: Option<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        out_features: Option<usize>,
        #[serde(default = "yes")]
        bias: bool,
    },
    Conv2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_channels: Option<usize>,
        out_channels: usize,
        kernel_size: Size2,
        #[serde(default = "one2")]
        stride: Size2,
        #[serde(default = "zero2")]
        padding: Size2,
        #[serde(default = "one2")]
        dilation: Size2,
        #[serde(default = "one")]
        groups: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// ResNet's `BasicBlock` (torchvision's names): conv 3x3 (stride) - BN - ReLU - conv 3x3 -
    /// BN, plus the input (through conv 1x1 - BN when the stride or width changes), then ReLU.
    BasicBlock {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_channels: Option<usize>,
        out_channels: usize,
        #[serde(default = "one")]
        stride: usize,
    },
    Conv1d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_channels: Option<usize>,
        out_channels: usize,
        kernel_size: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "one")]
        dilation: usize,
        #[serde(default = "one")]
        groups: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    MaxPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel_size: Size2,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Size2>,
        #[serde(default = "zero2")]
        padding: Size2,
    },
    AvgPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel_size: Size2,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Size2>,
        #[serde(default = "zero2")]
        padding: Size2,
    },
    MaxPool1d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel_size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
        #[serde(default)]
        padding: usize,
    },
    AvgPool1d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel_size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
        #[serde(default)]
        padding: usize,
    },
    AdaptiveAvgPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        output_size: Size2,
    },
    Flatten {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Embedding {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        num_embeddings: usize,
        embedding_dim: usize,
    },
    MultiheadAttention {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embed_dim: Option<usize>,
        num_heads: usize,
        #[serde(default)]
        dropout: f64,
        #[serde(default)]
        causal: bool,
    },
    TransformerEncoderLayer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        d_model: Option<usize>,
        nhead: usize,
        #[serde(default = "ff")]
        dim_feedforward: usize,
        #[serde(default = "tenth")]
        dropout: f64,
        #[serde(default = "relu")]
        activation: String,
        #[serde(default)]
        norm_first: bool,
        #[serde(default)]
        causal: bool,
    },
    BatchNorm1d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        num_features: Option<usize>,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default = "momentum")]
        momentum: f64,
        #[serde(default = "yes")]
        affine: bool,
    },
    BatchNorm2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        num_features: Option<usize>,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default = "momentum")]
        momentum: f64,
        #[serde(default = "yes")]
        affine: bool,
    },
    LayerNorm {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Default: the last dimension of the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        normalized_shape: Option<Vec<usize>>,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default = "yes")]
        elementwise_affine: bool,
    },
    GroupNorm {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        num_groups: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        num_channels: Option<usize>,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default = "yes")]
        affine: bool,
    },
    Dropout {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default = "half")]
        p: f64,
    },
    #[serde(rename = "ReLU", alias = "Relu")]
    Relu {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    #[serde(rename = "LeakyReLU", alias = "LeakyRelu")]
    LeakyRelu {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default = "slope")]
        negative_slope: f64,
    },
    #[serde(rename = "GELU", alias = "Gelu")]
    Gelu {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    #[serde(rename = "SiLU", alias = "Silu")]
    Silu {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Tanh {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Sigmoid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Softplus {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl LayerSpec {
    /// Whether the layer's training output for one example depends on the other examples of
    /// the batch (batch norm's batch statistics): a network without such a layer gives the same
    /// per-example outputs however its batch is split.
    pub fn couples_examples(&self) -> bool {
        matches!(
            self,
            LayerSpec::BatchNorm1d { .. } | LayerSpec::BatchNorm2d { .. } | LayerSpec::BasicBlock { .. }
        )
    }

    /// The type name (PyTorch's class name).
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Linear { .. } => "Linear",
            LayerSpec::Conv2d { .. } => "Conv2d",
            LayerSpec::BasicBlock { .. } => "BasicBlock",
            LayerSpec::Conv1d { .. } => "Conv1d",
            LayerSpec::MaxPool2d { .. } => "MaxPool2d",
            LayerSpec::AvgPool2d { .. } => "AvgPool2d",
            LayerSpec::MaxPool1d { .. } => "MaxPool1d",
            LayerSpec::AvgPool1d { .. } => "AvgPool1d",
            LayerSpec::AdaptiveAvgPool2d { .. } => "AdaptiveAvgPool2d",
            LayerSpec::Flatten { .. } => "Flatten",
            LayerSpec::Embedding { .. } => "Embedding",
            LayerSpec::MultiheadAttention { .. } => "MultiheadAttention",
            LayerSpec::TransformerEncoderLayer { .. } => "TransformerEncoderLayer",
            LayerSpec::BatchNorm1d { .. } => "BatchNorm1d",
            LayerSpec::BatchNorm2d { .. } => "BatchNorm2d",
            LayerSpec::LayerNorm { .. } => "LayerNorm",
            LayerSpec::GroupNorm { .. } => "GroupNorm",
            LayerSpec::Dropout { .. } => "Dropout",
            LayerSpec::Relu { .. } => "ReLU",
            LayerSpec::LeakyRelu { .. } => "LeakyReLU",
            LayerSpec::Gelu { .. } => "GELU",
            LayerSpec::Silu { .. } => "SiLU",
            LayerSpec::Tanh { .. } => "Tanh",
            LayerSpec::Sigmoid { .. } => "Sigmoid",
            LayerSpec::Softplus { .. } => "Softplus",
        }
    }

    /// The name given in the architecture, if any.
    pub fn given_name(&self) -> Option<&str> {
        match self {
            LayerSpec::Linear { name, .. }
            | LayerSpec::Conv2d { name, .. }
            | LayerSpec::BasicBlock { name, .. }
            | LayerSpec::Conv1d { name, .. }
            | LayerSpec::MaxPool2d { name, .. }
            | LayerSpec::AvgPool2d { name, .. }
            | LayerSpec::MaxPool1d { name, .. }
            | LayerSpec::AvgPool1d { name, .. }
            | LayerSpec::AdaptiveAvgPool2d { name, .. }
            | LayerSpec::Flatten { name }
            | LayerSpec::Embedding { name, .. }
            | LayerSpec::MultiheadAttention { name, .. }
            | LayerSpec::TransformerEncoderLayer { name, .. }
            | LayerSpec::BatchNorm1d { name, .. }
            | LayerSpec::BatchNorm2d { name, .. }
            | LayerSpec::LayerNorm { name, .. }
            | LayerSpec::GroupNorm { name, .. }
            | LayerSpec::Dropout { name, .. }
            | LayerSpec::Relu { name }
            | LayerSpec::LeakyRelu { name, .. }
            | LayerSpec::Gelu { name }
            | LayerSpec::Silu { name }
            | LayerSpec::Tanh { name }
            | LayerSpec::Sigmoid { name }
            | LayerSpec::Softplus { name } => name.as_deref(),
        }
    }
}

/// One built layer: its name, type, output shape (per example) and parameter count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Name (prefix of its parameters).
    pub name: String,
    /// Type.
    pub kind: String,
    /// Output shape of one example.
    pub output: Vec<usize>,
    /// Number of trainable values.
    pub params: usize,
}

/// A network built from an architecture.
pub struct BuiltNet<T: Scalar> {
    /// The layers.
    pub net: Sequential<T>,
    /// One line per layer.
    pub summary: Vec<LayerSummary>,
}

/// PyTorch's `examples/mnist` network: conv 32 3x3, ReLU, conv 64 3x3, ReLU, max-pool 2,
/// dropout 0.25, flatten, linear 128 (sized from the input), ReLU, dropout 0.5, linear to the
/// classes; parameters `conv1.*`, `conv2.*`, `fc1.*`, `fc2.*` as that example's state dict.
pub fn mnist_cnn() -> Vec<LayerSpec> {
    let conv = |name: &str, out: usize| LayerSpec::Conv2d {
        name: Some(name.into()),
        in_channels: None,
        out_channels: out,
        kernel_size: Size2::One(3),
        stride: Size2::One(1),
        padding: Size2::One(0),
        dilation: Size2::One(1),
        groups: 1,
        bias: true,
    };
    let relu = || LayerSpec::Relu { name: None };
    let linear = |name: &str, out: Option<usize>| LayerSpec::Linear {
        name: Some(name.into()),
        in_features: None,
        out_features: out,
        bias: true,
    };
    vec![
        conv("conv1", 32),
        relu(),
        conv("conv2", 64),
        relu(),
        LayerSpec::MaxPool2d {
            name: None,
            kernel_size: Size2::One(2),
            stride: None,
            padding: Size2::One(0),
        },
        LayerSpec::Dropout { name: None, p: 0.25 },
        LayerSpec::Flatten { name: None },
        linear("fc1", Some(128)),
        relu(),
        LayerSpec::Dropout { name: None, p: 0.5 },
        linear("fc2", None),
    ]
}

fn conv_spec(name: &str, out: usize, kernel: usize, padding: usize) -> LayerSpec {
    LayerSpec::Conv2d {
        name: Some(name.into()),
        in_channels: None,
        out_channels: out,
        kernel_size: Size2::One(kernel),
        stride: Size2::One(1),
        padding: Size2::One(padding),
        dilation: Size2::One(1),
        groups: 1,
        bias: true,
    }
}

fn linear_spec(name: &str, out: Option<usize>) -> LayerSpec {
    LayerSpec::Linear {
        name: Some(name.into()),
        in_features: None,
        out_features: out,
        bias: true,
    }
}

fn max_pool2() -> LayerSpec {
    LayerSpec::MaxPool2d {
        name: None,
        kernel_size: Size2::One(2),
        stride: None,
        padding: Size2::One(0),
    }
}

/// LeNet-5 as PyTorch users write it today (LeCun et al. 1998, with ReLU and max-pooling):
/// conv 6 5x5 (padding 2), max-pool 2, conv 16 5x5, max-pool 2, linear 120, linear 84, linear
/// (the classes); ReLU after each hidden layer; the first linear layer sized from the input
/// (400 inputs for 28x28 images).
pub fn lenet5() -> Vec<LayerSpec> {
    let relu = || LayerSpec::Relu { name: None };
    vec![
        conv_spec("conv1", 6, 5, 2),
        relu(),
        max_pool2(),
        conv_spec("conv2", 16, 5, 0),
        relu(),
        max_pool2(),
        LayerSpec::Flatten { name: None },
        linear_spec("fc1", Some(120)),
        relu(),
        linear_spec("fc2", Some(84)),
        relu(),
        linear_spec("fc3", None),
    ]
}

/// A small convolutional network with batch norm for small grey images: blocks of conv 3x3
/// (padding 1), batch norm and ReLU with 32, 32 channels, max-pool 2, 64, 64, max-pool 2,
/// dropout 0.25, linear 128 with ReLU, dropout 0.5, linear (the classes).
pub fn cnn_bn() -> Vec<LayerSpec> {
    let block = |i: usize, out: usize| {
        vec![
            conv_spec(&format!("conv{i}"), out, 3, 1),
            LayerSpec::BatchNorm2d {
                name: Some(format!("bn{i}")),
                num_features: None,
                eps: 1e-5,
                momentum: 0.1,
                affine: true,
            },
            LayerSpec::Relu { name: None },
        ]
    };
    let mut layers = Vec::new();
    layers.extend(block(1, 32));
    layers.extend(block(2, 32));
    layers.push(max_pool2());
    layers.extend(block(3, 64));
    layers.extend(block(4, 64));
    layers.push(max_pool2());
    layers.push(LayerSpec::Dropout { name: None, p: 0.25 });
    layers.push(LayerSpec::Flatten { name: None });
    layers.push(linear_spec("fc1", Some(128)));
    layers.push(LayerSpec::Relu { name: None });
    layers.push(LayerSpec::Dropout { name: None, p: 0.5 });
    layers.push(linear_spec("fc2", None));
    layers
}

/// A ResNet for small colour images (He, Zhang, Ren and Sun 2016, section 4.2, their CIFAR-10
/// networks): conv 3x3 16 (no bias) - BN - ReLU, then three stages of `blocks` BasicBlocks of
/// 16, 32 and 64 channels (the second and third start with stride 2), global average pooling
/// and a linear layer to the classes: 6 `blocks` + 2 layers (`blocks` = 3: ResNet-20, 0.27 M
/// parameters). Parameters named as torchvision's (`conv1`, `bn1`, `layer1.0.conv1`, ...,
/// `fc`).
pub fn resnet(blocks: usize) -> Vec<LayerSpec> {
    let mut layers = vec![
        LayerSpec::Conv2d {
            name: Some("conv1".into()),
            in_channels: None,
            out_channels: 16,
            kernel_size: Size2::One(3),
            stride: Size2::One(1),
            padding: Size2::One(1),
            dilation: Size2::One(1),
            groups: 1,
            bias: false,
        },
        LayerSpec::BatchNorm2d {
            name: Some("bn1".into()),
            num_features: None,
            eps: 1e-5,
            momentum: 0.1,
            affine: true,
        },
        LayerSpec::Relu { name: None },
    ];
    for (stage, width) in [16, 32, 64].into_iter().enumerate() {
        for b in 0..blocks {
            layers.push(LayerSpec::BasicBlock {
                name: Some(format!("layer{}.{b}", stage + 1)),
                in_channels: None,
                out_channels: width,
                stride: if stage > 0 && b == 0 { 2 } else { 1 },
            });
        }
    }
    layers.push(LayerSpec::AdaptiveAvgPool2d {
        name: Some("avgpool".into()),
        output_size: Size2::One(1),
    });
    layers.push(LayerSpec::Flatten { name: None });
    layers.push(linear_spec("fc", None));
    layers
}

fn shape_err(i: usize, spec: &LayerSpec, name: &str, msg: String) -> Error {
    Error::invalid("architecture", format!("layer {i} ({} '{name}'): {msg}", spec.kind()))
}

/// Builds `layers` for examples of shape `input` (no batch axis) with `outputs` outputs,
/// declaring parameters under `vb`; checks every layer's input against the previous layer's
/// output, naming both on a mismatch.
pub fn build<T: Scalar>(
    layers: &[LayerSpec],
    vb: &VarBuilder<'_, T>,
    input: &[usize],
    outputs: usize,
) -> Result<BuiltNet<T>> {
    if layers.is_empty() {
        return Err(Error::invalid("architecture", "no layers"));
    }
    let mut net = Sequential::new();
    let mut summary: Vec<LayerSummary> = Vec::new();
    let mut shape = input.to_vec();
    let mut names = std::collections::HashSet::new();
    for (i, spec) in layers.iter().enumerate() {
        let name = spec.given_name().map_or_else(|| i.to_string(), str::to_string);
        if name.is_empty() || name.contains(char::is_whitespace) || !names.insert(name.clone()) {
            return Err(shape_err(
                i,
                spec,
                &name,
                "layer names must be unique, non-empty, without spaces".into(),
            ));
        }
        let prev = match i {
            0 => "the input".to_string(),
            _ => format!("layer {} ({} '{}')", i - 1, summary[i - 1].kind, summary[i - 1].name),
        };
        let err = |msg: String| shape_err(i, spec, &name, msg);
        let needs = |want: usize, what: &str| -> Result<()> {
            if shape.len() != want {
                return Err(err(format!("expects {what} per example, but {prev} gives {shape:?}")));
            }
            Ok(())
        };
        // A size the architecture states (in_channels, num_features, ...) must be the input's.
        let declared = |field: &str, given: Option<usize>, have: usize| -> Result<()> {
            match given {
                Some(g) if g != have => Err(err(format!("{field} = {g}, but {prev} gives {shape:?}"))),
                _ => Ok(()),
            }
        };
        let lvb = vb.pp(&name);
        let last = i + 1 == layers.len();
        let (module, out): (Box<dyn Module<T>>, Vec<usize>) = match spec {
            LayerSpec::Linear {
                in_features,
                out_features,
                bias,
                ..
            } => {
                let Some(&have) = shape.last() else {
                    return Err(err(format!("{prev} gives a scalar")));
                };
                if let Some(want) = *in_features {
                    if want != have {
                        return Err(err(format!(
                            "in_features = {want}, but {prev} gives {shape:?} ({have} features)"
                        )));
                    }
                }
                let out = match (out_features, last) {
                    (Some(o), _) => *o,
                    (None, true) => outputs,
                    (None, false) => return Err(err("missing field `out_features`".into())),
                };
                let mut s = shape.clone();
                *s.last_mut().expect("non-empty") = out;
                (
                    Box::new(Linear::new(&lvb, have, out, *bias).map_err(|e| err(e.to_string()))?),
                    s,
                )
            }
            LayerSpec::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias,
                ..
            } => {
                needs(3, "[channels, height, width]")?;
                declared("in_channels", *in_channels, shape[0])?;
                let geo = Conv2dGeometry {
                    stride: stride.pair(),
                    padding: padding.pair(),
                    dilation: dilation.pair(),
                    groups: *groups,
                };
                let k = kernel_size.pair();
                let m = Conv2d::new(&lvb, shape[0], *out_channels, k, geo, *bias).map_err(|e| err(e.to_string()))?;
                let oh = conv_out_len(shape[1], k[0], geo.stride[0], geo.padding[0], geo.dilation[0], "Conv2d")
                    .map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))?;
                let ow = conv_out_len(shape[2], k[1], geo.stride[1], geo.padding[1], geo.dilation[1], "Conv2d")
                    .map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))?;
                (Box::new(m), vec![*out_channels, oh, ow])
            }
            LayerSpec::BasicBlock {
                in_channels,
                out_channels,
                stride,
                ..
            } => {
                needs(3, "[channels, height, width]")?;
                declared("in_channels", *in_channels, shape[0])?;
                if *stride == 0 || *out_channels == 0 {
                    return Err(err("out_channels and stride must be at least 1".into()));
                }
                let m =
                    Residual::basic_block(&lvb, shape[0], *out_channels, *stride).map_err(|e| err(e.to_string()))?;
                let side = |n: usize| {
                    conv_out_len(n, 3, *stride, 1, 1, "BasicBlock")
                        .map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))
                };
                let (oh, ow) = (side(shape[1])?, side(shape[2])?);
                (Box::new(m), vec![*out_channels, oh, ow])
            }
            LayerSpec::Conv1d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias,
                ..
            } => {
                needs(2, "[channels, length]")?;
                declared("in_channels", *in_channels, shape[0])?;
                let m = Conv1d::new(
                    &lvb,
                    shape[0],
                    *out_channels,
                    *kernel_size,
                    *stride,
                    *padding,
                    *dilation,
                    *groups,
                    *bias,
                )
                .map_err(|e| err(e.to_string()))?;
                let l = conv_out_len(shape[1], *kernel_size, *stride, *padding, *dilation, "Conv1d")
                    .map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))?;
                (Box::new(m), vec![*out_channels, l])
            }
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
                ..
            }
            | LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
                ..
            } => {
                needs(3, "[channels, height, width]")?;
                let k = kernel_size.pair();
                let geo = Pool2dGeometry {
                    kernel: k,
                    stride: stride.map_or(k, Size2::pair),
                    padding: padding.pair(),
                };
                let out = pool_out(&geo, &shape).map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))?;
                let m: Box<dyn Module<T>> = match spec {
                    LayerSpec::MaxPool2d { .. } => Box::new(MaxPool2d(geo)),
                    _ => Box::new(AvgPool2d(geo)),
                };
                (m, vec![shape[0], out[0], out[1]])
            }
            LayerSpec::MaxPool1d {
                kernel_size,
                stride,
                padding,
                ..
            }
            | LayerSpec::AvgPool1d {
                kernel_size,
                stride,
                padding,
                ..
            } => {
                needs(2, "[channels, length]")?;
                let geo = Pool2dGeometry {
                    kernel: [1, *kernel_size],
                    stride: [1, stride.unwrap_or(*kernel_size)],
                    padding: [0, *padding],
                };
                let out = pool_out(&geo, &[shape[0], 1, shape[1]])
                    .map_err(|e| err(format!("{e} ({prev} gives {shape:?})")))?;
                let m: Box<dyn Module<T>> = match spec {
                    LayerSpec::MaxPool1d { .. } => Box::new(MaxPool1d(geo)),
                    _ => Box::new(AvgPool1d(geo)),
                };
                (m, vec![shape[0], out[1]])
            }
            LayerSpec::AdaptiveAvgPool2d { output_size, .. } => {
                needs(3, "[channels, height, width]")?;
                let o = output_size.pair();
                if o.contains(&0) {
                    return Err(err("output_size must be at least 1".into()));
                }
                (Box::new(AdaptiveAvgPool2d(o)), vec![shape[0], o[0], o[1]])
            }
            LayerSpec::Flatten { .. } => (Box::new(Flatten), vec![shape.iter().product()]),
            LayerSpec::Embedding {
                num_embeddings,
                embedding_dim,
                ..
            } => {
                let m = Embedding::new(&lvb, *num_embeddings, *embedding_dim).map_err(|e| err(e.to_string()))?;
                let mut s = shape.clone();
                s.push(*embedding_dim);
                (Box::new(m), s)
            }
            LayerSpec::MultiheadAttention {
                embed_dim,
                num_heads,
                dropout,
                causal,
                ..
            } => {
                needs(2, "[length, embed_dim]")?;
                if embed_dim.is_some_and(|e| e != shape[1]) {
                    return Err(err(format!(
                        "embed_dim = {}, but {prev} gives {shape:?}",
                        embed_dim.unwrap_or(0)
                    )));
                }
                let m = MultiheadAttention::new(&lvb, shape[1], *num_heads, *dropout, *causal)
                    .map_err(|e| err(e.to_string()))?;
                (Box::new(m), shape.clone())
            }
            LayerSpec::TransformerEncoderLayer {
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                norm_first,
                causal,
                ..
            } => {
                needs(2, "[length, d_model]")?;
                if d_model.is_some_and(|e| e != shape[1]) {
                    return Err(err(format!(
                        "d_model = {}, but {prev} gives {shape:?}",
                        d_model.unwrap_or(0)
                    )));
                }
                let act = match activation.as_str() {
                    "relu" => Activation::Relu,
                    "gelu" => Activation::Gelu,
                    a => return Err(err(format!("activation '{a}': expected relu or gelu"))),
                };
                let cfg = TransformerConfig {
                    d_model: shape[1],
                    nhead: *nhead,
                    dim_feedforward: *dim_feedforward,
                    dropout: *dropout,
                    activation: act,
                    norm_first: *norm_first,
                    causal: *causal,
                };
                let m = TransformerEncoderLayer::new(&lvb, cfg).map_err(|e| err(e.to_string()))?;
                (Box::new(m), shape.clone())
            }
            LayerSpec::BatchNorm1d {
                num_features,
                eps,
                momentum,
                affine,
                ..
            }
            | LayerSpec::BatchNorm2d {
                num_features,
                eps,
                momentum,
                affine,
                ..
            } => {
                let two = matches!(spec, LayerSpec::BatchNorm2d { .. });
                let c = match (two, shape.len()) {
                    (true, 3) | (false, 1) | (false, 2) => shape[0],
                    (true, _) => {
                        return Err(err(format!(
                            "expects [channels, height, width] per example, but {prev} gives {shape:?}"
                        )))
                    }
                    (false, _) => {
                        return Err(err(format!(
                            "expects [features] or [channels, length] per example, but {prev} gives {shape:?}"
                        )))
                    }
                };
                declared("num_features", *num_features, c)?;
                let dims: &'static [usize] = if two { &[4] } else { &[2, 3] };
                let m = BatchNorm::new(&lvb, c, *eps, *momentum, *affine, dims).map_err(|e| err(e.to_string()))?;
                (Box::new(m), shape.clone())
            }
            LayerSpec::LayerNorm {
                normalized_shape,
                eps,
                elementwise_affine,
                ..
            } => {
                let ns = match normalized_shape {
                    Some(ns) => ns.clone(),
                    None => vec![*shape.last().ok_or_else(|| err(format!("{prev} gives a scalar")))?],
                };
                if ns.len() > shape.len() || shape[shape.len() - ns.len()..] != ns[..] {
                    return Err(err(format!(
                        "normalized_shape {ns:?} is not the end of {shape:?} from {prev}"
                    )));
                }
                let m = LayerNorm::new(&lvb, &ns, *eps, *elementwise_affine).map_err(|e| err(e.to_string()))?;
                (Box::new(m), shape.clone())
            }
            LayerSpec::GroupNorm {
                num_groups,
                num_channels,
                eps,
                affine,
                ..
            } => {
                if shape.len() < 2 {
                    return Err(err(format!(
                        "expects [channels, ...] per example, but {prev} gives {shape:?}"
                    )));
                }
                declared("num_channels", *num_channels, shape[0])?;
                let m = GroupNorm::new(&lvb, *num_groups, shape[0], *eps, *affine).map_err(|e| err(e.to_string()))?;
                (Box::new(m), shape.clone())
            }
            LayerSpec::Dropout { p, .. } => (
                Box::new(Dropout::new(*p).map_err(|e| err(e.to_string()))?),
                shape.clone(),
            ),
            LayerSpec::Relu { .. } => (Box::new(Activation::Relu), shape.clone()),
            LayerSpec::LeakyRelu { negative_slope, .. } => {
                (Box::new(Activation::LeakyRelu(*negative_slope)), shape.clone())
            }
            LayerSpec::Gelu { .. } => (Box::new(Activation::Gelu), shape.clone()),
            LayerSpec::Silu { .. } => (Box::new(Activation::Silu), shape.clone()),
            LayerSpec::Tanh { .. } => (Box::new(Activation::Tanh), shape.clone()),
            LayerSpec::Sigmoid { .. } => (Box::new(Activation::Sigmoid), shape.clone()),
            LayerSpec::Softplus { .. } => (Box::new(Activation::Softplus), shape.clone()),
        };
        net.push_boxed(module);
        summary.push(LayerSummary {
            name: name.clone(),
            kind: spec.kind().into(),
            output: out.clone(),
            params: 0,
        });
        shape = out;
    }
    if shape != [outputs] {
        let l = summary.last().expect("non-empty");
        return Err(Error::invalid(
            "architecture",
            format!(
                "the last layer ({} '{}') gives {shape:?} per example, the data needs [{outputs}] (one output per class, or 1 for regression)",
                l.kind, l.name
            ),
        ));
    }
    Ok(BuiltNet { net, summary })
}

fn pool_out(geo: &Pool2dGeometry, shape: &[usize]) -> Result<[usize; 2]> {
    for a in 0..2 {
        if geo.padding[a] * 2 > geo.kernel[a] {
            return Err(Error::invalid(
                "pooling",
                "padding must be at most half the kernel size",
            ));
        }
    }
    Ok([
        conv_out_len(shape[1], geo.kernel[0], geo.stride[0], geo.padding[0], 1, "pooling")?,
        conv_out_len(shape[2], geo.kernel[1], geo.stride[1], geo.padding[1], 1, "pooling")?,
    ])
}
