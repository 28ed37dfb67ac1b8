//! Model files: the weights in safetensors (`model.safetensors`, readable by other frameworks)
//! and everything else in `model.json`: format version, model kind, hyper-parameters, feature
//! and class names, the scaler, and the size and CRC-32 of the weights file. Loading validates
//! all of it, so a truncated or altered file is rejected with a message saying what is wrong.

use super::kernel_approx::FeatureMap;
use super::kernel_svm::{FittedKernelSvm, Kernel, KernelMulticlass, KernelSvmParams};
use super::linear::{FittedLinear, LinearKind, LinearParams};
use super::mlp::{FittedMlp, MlpParams};
use super::net::{FittedNet, NetParams, Network};
use super::platt::Sigmoid;
use super::predict::{FittedModel, Predictor};
use super::rff::RandomFourierFeatures;
use crate::data::{PolynomialFeatures, Scaler, TableEncoder, Task};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::linear::LinearCore;
use crate::nn::ParamStore;
use crate::tensor::{Scalar, Tensor};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The version of the model-file layout this build writes. It reads this one and version 1
/// (whose MLP weights were `[in, out]`; they are transposed on loading).
pub const FORMAT_VERSION: u32 = 2;
const WEIGHTS: &str = "model.safetensors";
const META: &str = "model.json";

#[derive(Serialize, Deserialize)]
struct WeightsInfo {
    file: String,
    bytes: u64,
    crc32: u32,
    tensors: BTreeMap<String, Vec<usize>>,
}

#[derive(Serialize, Deserialize)]
struct Metadata {
    format: String,
    format_version: u32,
    kind: String,
    dtype: String,
    task: Task,
    hyperparameters: serde_json::Value,
    n_features: usize,
    feature_names: Vec<String>,
    class_names: Vec<String>,
    scaler: Scaler,
    #[serde(default)]
    target_scale: Option<(f64, f64)>,
    /// The shape of one input example (networks built from layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    example_shape: Vec<usize>,
    /// Per layer: name, type, output shape, parameter count (networks built from layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    layers: Vec<crate::nn::arch::LayerSummary>,
    /// How a table's columns become the features (one-hot categories, imputed cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encoder: Option<TableEncoder>,
    weights: WeightsInfo,
    training: serde_json::Value,
}

/// What a kernel SVM's model.json holds besides the common fields.
#[derive(Serialize, Deserialize)]
struct KernelMeta {
    params: KernelSvmParams,
    kernel: Kernel,
    pairs: Vec<(usize, usize)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sigmoids: Vec<Sigmoid>,
}

fn to_bytes<T: Scalar>(t: &Tensor<T>) -> Vec<u8> {
    t.data()
        .iter()
        .flat_map(|v| {
            if T::DTYPE == "f32" {
                (v.as_f64() as f32).to_le_bytes().to_vec()
            } else {
                v.as_f64().to_le_bytes().to_vec()
            }
        })
        .collect()
}

/// Writes `model` into folder `dir` (created if needed) as `model.safetensors` and
/// `model.json`, each through a temporary file and a rename. A model with a non-finite
/// parameter is refused, so it never replaces a good one.
pub fn save_model<T: Scalar>(model: &FittedModel<T>, dir: &Path) -> Result<()> {
    save_model_encoded(model, None, dir)
}

/// [`save_model`] with the [`TableEncoder`] that turns a table's columns into the model's
/// features, stored in `model.json` so that prediction encodes new files the same way (its
/// output names must be the model's feature names).
pub fn save_model_encoded<T: Scalar>(model: &FittedModel<T>, encoder: Option<&TableEncoder>, dir: &Path) -> Result<()> {
    if let Some(e) = encoder {
        if e.output_names() != model.feature_names() {
            return Err(Error::invalid(
                "save model",
                "the table encoder's outputs are not the model's features",
            ));
        }
    }
    let mut tensors: Vec<(String, Tensor<T>)> = model
        .weights()
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    if let FittedModel::Net(m) = model {
        tensors.extend(m.net.buffers.iter().map(|(n, t)| (n.to_string(), t.clone())));
    }
    if let FittedModel::Linear(FittedLinear { rff: Some(r), .. }) = model {
        tensors.push(("rff.weight".into(), r.weight.clone()));
        tensors.push(("rff.offset".into(), r.offset.clone()));
    }
    if let Some((n, _)) = tensors.iter().find(|(_, t)| !t.all_finite()) {
        return Err(Error::Diverged(format!(
            "parameter '{n}' is not finite; the model was not saved"
        )));
    }
    let dtype = if T::DTYPE == "f32" { Dtype::F32 } else { Dtype::F64 };
    let raw: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), to_bytes(t), t.shape().to_vec()))
        .collect();
    let views = raw
        .iter()
        .map(|(n, b, s)| safetensors::tensor::TensorView::new(dtype, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::format("model weights", e.to_string()))?;
    let bytes = safetensors::serialize(views, None).map_err(|e| Error::format("model weights", e.to_string()))?;
    // Only the hyper-parameters, the scaler and the target scale differ by kind.
    let (hyper, scaler, target_scale) = match model {
        FittedModel::Linear(m) => (serde_json::to_value(&m.params), m.scaler.clone(), None),
        FittedModel::Mlp(m) => (serde_json::to_value(&m.params), m.scaler.clone(), m.target_scale),
        FittedModel::Net(m) => (serde_json::to_value(&m.params), m.scaler.clone(), m.target_scale),
        FittedModel::Kernel(m) => (
            serde_json::to_value(KernelMeta {
                params: m.params.clone(),
                kernel: m.kernel,
                pairs: m.pairs.clone(),
                sigmoids: m.sigmoids.clone(),
            }),
            m.scaler.clone(),
            None,
        ),
    };
    let (example_shape, layers) = match model {
        FittedModel::Net(m) => (m.net.input_shape().to_vec(), m.net.summary().to_vec()),
        _ => (Vec::new(), Vec::new()),
    };
    let task = if model.is_classifier() {
        Task::Classify
    } else {
        Task::Regress
    };
    let hist = model.history();
    let meta = Metadata {
        format: "steepest-model".into(),
        format_version: FORMAT_VERSION,
        kind: model.kind_name().into(),
        dtype: T::DTYPE.into(),
        task,
        hyperparameters: hyper.map_err(|e| Error::format("model metadata", e.to_string()))?,
        n_features: model.n_inputs(),
        feature_names: model.feature_names().to_vec(),
        class_names: model.class_names().to_vec(),
        scaler,
        target_scale,
        example_shape,
        layers,
        encoder: encoder.cloned(),
        weights: WeightsInfo {
            file: WEIGHTS.into(),
            bytes: bytes.len() as u64,
            crc32: crc32fast::hash(&bytes),
            tensors: tensors.iter().map(|(n, t)| (n.clone(), t.shape().to_vec())).collect(),
        },
        training: serde_json::json!({
            "epochs": hist.len(),
            "final_train_loss": hist.last().map(|h| h.train_loss),
            "history": hist,
        }),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomic(&dir.join(WEIGHTS), &bytes)?;
    let text = serde_json::to_vec_pretty(&meta).map_err(|e| Error::format("model metadata", e.to_string()))?;
    write_atomic(&dir.join(META), &text)
}

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::format(path.display().to_string(), msg)
}

/// The [`TableEncoder`] stored with the model in folder `dir` (`None` when the model takes
/// numeric columns as they are), checked against the model's feature names.
pub fn load_encoder(dir: &Path) -> Result<Option<TableEncoder>> {
    let meta_path = dir.join(META);
    let text = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let meta: Metadata =
        serde_json::from_slice(&text).map_err(|e| bad(&meta_path, format!("not a valid model description: {e}")))?;
    if let Some(e) = &meta.encoder {
        if e.output_names() != meta.feature_names {
            return Err(bad(
                &meta_path,
                "the encoder's output columns are not the model's feature names",
            ));
        }
    }
    Ok(meta.encoder)
}

/// Loads a model saved by [`save_model`] from folder `dir`, checking the format version, the
/// weights file's size and CRC-32, and every tensor's name, type and shape.
pub fn load_model<T: Scalar>(dir: &Path) -> Result<FittedModel<T>> {
    let meta_path = dir.join(META);
    let text = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let meta: Metadata =
        serde_json::from_slice(&text).map_err(|e| bad(&meta_path, format!("not a valid model description: {e}")))?;
    if meta.format != "steepest-model" {
        return Err(bad(
            &meta_path,
            format!("format '{}' is not a steepest model", meta.format),
        ));
    }
    if !(1..=FORMAT_VERSION).contains(&meta.format_version) {
        return Err(bad(
            &meta_path,
            format!(
                "format version {} is not one this build reads (1 to {FORMAT_VERSION}); it was written by another version of steepest",
                meta.format_version
            ),
        ));
    }
    // The weights file is a plain file inside the model folder, of the size the description
    // gives (checked before reading, so a device or a huge file is never read into memory).
    let file = &meta.weights.file;
    if file.is_empty() || file.contains(['/', '\\']) || file == "." || file == ".." {
        return Err(bad(
            &meta_path,
            format!("weights file '{file}' must be a file name inside the model folder"),
        ));
    }
    let wpath = dir.join(file);
    let md = std::fs::metadata(&wpath).map_err(|e| Error::io(&wpath, e))?;
    if !md.is_file() {
        return Err(bad(&wpath, "not a regular file"));
    }
    if md.len() != meta.weights.bytes {
        return Err(bad(
            &wpath,
            format!(
                "truncated or altered: {} bytes, the model description says {}",
                md.len(),
                meta.weights.bytes
            ),
        ));
    }
    // The scaler divides by its scales: each must be finite and non-zero, each offset finite.
    if let Some((j, v)) = meta
        .scaler
        .scale
        .iter()
        .zip(&meta.scaler.offset)
        .enumerate()
        .find(|(_, (s, o))| !(s.is_finite() && **s != 0.0 && o.is_finite()))
    {
        return Err(bad(
            &meta_path,
            format!(
                "scaler column {j}: scale {} and offset {} must be finite, the scale non-zero",
                v.0, v.1
            ),
        ));
    }
    if meta.scaler.scale.len() != meta.scaler.offset.len() {
        return Err(bad(&meta_path, "the scaler's scales and offsets differ in number"));
    }
    if meta.task == Task::Classify && meta.class_names.len() < 2 {
        return Err(bad(
            &meta_path,
            format!(
                "a classifier needs at least 2 class names, found {}",
                meta.class_names.len()
            ),
        ));
    }
    let bytes = std::fs::read(&wpath).map_err(|e| Error::io(&wpath, e))?;
    if bytes.len() as u64 != meta.weights.bytes {
        return Err(bad(
            &wpath,
            format!(
                "truncated or altered: {} bytes, the model description says {}",
                bytes.len(),
                meta.weights.bytes
            ),
        ));
    }
    if crc32fast::hash(&bytes) != meta.weights.crc32 {
        return Err(bad(
            &wpath,
            "altered: the checksum does not match the model description",
        ));
    }
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(&wpath, format!("not valid safetensors: {e}")))?;
    let mut store = ParamStore::<T>::new();
    for (name, shape) in &meta.weights.tensors {
        let view = st
            .tensor(name)
            .map_err(|_| bad(&wpath, format!("missing tensor '{name}'")))?;
        if view.shape() != shape.as_slice() {
            return Err(bad(
                &wpath,
                format!("tensor '{name}' has shape {:?}, expected {shape:?}", view.shape()),
            ));
        }
        let data: Vec<T> = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| T::of(f32::from_le_bytes(c.try_into().expect("4")) as f64))
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|c| T::of(f64::from_le_bytes(c.try_into().expect("8"))))
                .collect(),
            d => {
                return Err(bad(
                    &wpath,
                    format!("tensor '{name}' has type {d:?}, expected F32 or F64"),
                ))
            }
        };
        let t = Tensor::new(data, shape).map_err(|_| bad(&wpath, format!("tensor '{name}' has the wrong size")))?;
        if !t.all_finite() {
            return Err(bad(&wpath, format!("tensor '{name}' holds non-finite values")));
        }
        store.insert(name.clone(), t);
    }
    let n_features = meta.n_features;
    if !meta.feature_names.is_empty() && meta.feature_names.len() != n_features {
        return Err(bad(
            &meta_path,
            format!("{} feature names for {n_features} features", meta.feature_names.len()),
        ));
    }
    let need = |n: &str| {
        store
            .get(n)
            .cloned()
            .ok_or_else(|| bad(&wpath, format!("missing tensor '{n}'")))
    };
    let model = if meta.kind == "kernel-svm" {
        let km: KernelMeta = serde_json::from_value(meta.hyperparameters)
            .map_err(|e| bad(&meta_path, format!("bad hyper-parameters: {e}")))?;
        let b = need("intercept")?;
        let (np, k) = (b.len(), meta.class_names.len());
        let problems_ok = match (k, km.params.multiclass) {
            (0, _) => np == 1 && km.pairs.is_empty(),
            (2, _) | (_, KernelMulticlass::Ovo) => {
                km.pairs.len() == np && km.pairs.iter().all(|&(a, b)| a < b && b < k) && np <= k * (k - 1) / 2
            }
            (_, KernelMulticlass::Ovr) => km.pairs.is_empty() && np == k,
        };
        let mut weights = ParamStore::new();
        let map = match km.params.approx {
            Some(kind) => {
                let map = FeatureMap::load(kind, km.kernel, &store, n_features)
                    .ok_or_else(|| bad(&wpath, "the approximation's tensors are missing or of the wrong shape"))?;
                let coef = need("coef")?;
                if coef.shape() != [np, map.components()] {
                    return Err(bad(
                        &wpath,
                        "the coefficients do not match the approximation's features",
                    ));
                }
                map.store(&mut weights);
                weights.insert("coef", coef);
                Some(map)
            }
            None => {
                let (sv, coef) = (need("support_vectors")?, need("dual_coef")?);
                let nsv = sv.shape()[0];
                if sv.shape() != [nsv, n_features] || coef.shape() != [np, nsv] {
                    return Err(bad(&wpath, "the support vectors and coefficients do not agree"));
                }
                weights.insert("support_vectors", sv);
                weights.insert("dual_coef", coef);
                None
            }
        };
        if b.ndim() != 1
            || !problems_ok
            || (!km.sigmoids.is_empty() && km.sigmoids.len() != np)
            || meta.scaler.scale.len() != n_features
        {
            return Err(bad(
                &wpath,
                "the coefficients, pairs of classes, sigmoids and scaler do not agree",
            ));
        }
        weights.insert("intercept", b);
        FittedModel::Kernel(FittedKernelSvm {
            params: km.params,
            kernel: km.kernel,
            scaler: meta.scaler,
            map,
            weights,
            pairs: km.pairs,
            sigmoids: km.sigmoids,
            class_names: meta.class_names,
            n_inputs: n_features,
            feature_names: meta.feature_names,
            history: serde_json::from_value(meta.training.get("history").cloned().unwrap_or_default())
                .unwrap_or_default(),
        })
    } else if meta.kind == "net" || super::NetParams::PRESETS.contains(&meta.kind.as_str()) {
        let params: NetParams = serde_json::from_value(meta.hyperparameters)
            .map_err(|e| bad(&meta_path, format!("bad hyper-parameters: {e}")))?;
        if meta.example_shape.iter().product::<usize>() != n_features || meta.example_shape.is_empty() {
            return Err(bad(
                &meta_path,
                format!(
                    "example shape {:?} does not hold {n_features} features",
                    meta.example_shape
                ),
            ));
        }
        let outputs = match meta.task {
            Task::Classify => meta.class_names.len(),
            Task::Regress => 1,
        };
        let net = Network::build(&params.layers, &meta.example_shape, outputs, meta.task, Some(store), 0)
            .map_err(|e| bad(&wpath, format!("the weights do not fit the architecture: {e}")))?;
        if meta.scaler.scale.len() != n_features {
            return Err(bad(&meta_path, "the scaler does not match the number of features"));
        }
        FittedModel::Net(FittedNet {
            params,
            net,
            scaler: meta.scaler,
            target_scale: meta.target_scale,
            n_inputs: n_features,
            feature_names: meta.feature_names,
            class_names: meta.class_names,
            history: serde_json::from_value(meta.training.get("history").cloned().unwrap_or_default())
                .unwrap_or_default(),
        })
    } else if meta.kind == "mlp" {
        let params: MlpParams = serde_json::from_value(meta.hyperparameters)
            .map_err(|e| bad(&meta_path, format!("bad hyper-parameters: {e}")))?;
        let mut weights = ParamStore::new();
        let mut prev = n_features;
        let layers: Vec<String> = (0..params.hidden.len())
            .map(|i| format!("hidden.{i}"))
            .chain(["output".into()])
            .collect();
        for (i, l) in layers.iter().enumerate() {
            let (w, b) = (need(&format!("{l}.weight"))?, need(&format!("{l}.bias"))?);
            let out = params.hidden.get(i).copied().unwrap_or(if meta.task == Task::Classify {
                meta.class_names.len()
            } else {
                1
            });
            // Format 1 stored an MLP's weights as [in, out]; from format 2 they are [out, in],
            // PyTorch's layout.
            let w = match meta.format_version {
                1 if w.shape() == [prev, out] => w.transpose()?,
                _ => w,
            };
            if w.shape() != [out, prev] || b.shape() != [out] {
                return Err(bad(
                    &wpath,
                    format!(
                        "layer '{l}' has shapes {:?} and {:?}, expected [{out}, {prev}] and [{out}]",
                        w.shape(),
                        b.shape()
                    ),
                ));
            }
            weights.insert(format!("{l}.weight"), w);
            weights.insert(format!("{l}.bias"), b);
            prev = out;
        }
        FittedModel::Mlp(
            FittedMlp::from_parts(
                params,
                weights,
                meta.task,
                meta.scaler,
                meta.target_scale,
                n_features,
                meta.feature_names,
                meta.class_names,
            )
            .map_err(|e| bad(&wpath, e.to_string()))?,
        )
    } else {
        let params: LinearParams = serde_json::from_value(meta.hyperparameters)
            .map_err(|e| bad(&meta_path, format!("bad hyper-parameters: {e}")))?;
        if params.kind.name() != meta.kind {
            return Err(bad(
                &meta_path,
                format!(
                    "kind '{}' does not match its hyper-parameters ('{}')",
                    meta.kind,
                    params.kind.name()
                ),
            ));
        }
        let (w, b) = (need("weight")?, need("bias")?);
        let (inputs, outputs) = w
            .check_matrix("weight")
            .map_err(|_| bad(&wpath, "weight is not a matrix"))?;
        if b.shape() != [outputs] {
            return Err(bad(
                &wpath,
                format!("bias has shape {:?}, expected [{outputs}]", b.shape()),
            ));
        }
        // Every output a prediction can pick must have a class name (binary models have one
        // output for two classes).
        let classes = meta.class_names.len();
        let fits = match meta.task {
            Task::Classify => outputs == classes || (outputs == 1 && classes == 2),
            Task::Regress => outputs == 1,
        };
        if !fits {
            return Err(bad(
                &meta_path,
                format!("{outputs} outputs for {classes} class names ({:?})", meta.task),
            ));
        }
        let poly = (params.poly_degree > 1).then_some(PolynomialFeatures {
            degree: params.poly_degree,
        });
        let input_names: Vec<String> = if meta.feature_names.is_empty() {
            (0..n_features).map(|i| format!("f{i}")).collect()
        } else {
            meta.feature_names.clone()
        };
        let model_names = match (poly, &params.interactions) {
            (Some(p), _) => p.names(&input_names),
            (None, Some(q)) if q.cols == n_features => q.names(&input_names),
            (None, Some(q)) => {
                return Err(bad(
                    &meta_path,
                    format!(
                        "interactions resolved for {} features, the model has {n_features}",
                        q.cols
                    ),
                ))
            }
            (None, None) => input_names,
        };
        let rff = match params.kind {
            LinearKind::RbfSvm { .. } => Some(RandomFourierFeatures {
                weight: need("rff.weight")?,
                offset: need("rff.offset")?,
            }),
            _ => None,
        };
        let expect_inputs = rff.as_ref().map_or(model_names.len(), |r| r.offset.len());
        if inputs != expect_inputs || meta.scaler.scale.len() != model_names.len() {
            return Err(bad(
                &wpath,
                format!("weight has {inputs} rows for {expect_inputs} features"),
            ));
        }
        let mut weights = ParamStore::new();
        weights.insert("weight", w);
        weights.insert("bias", b);
        FittedModel::Linear(FittedLinear {
            params,
            core: LinearCore { inputs, outputs },
            weights,
            scaler: meta.scaler,
            poly,
            rff,
            n_inputs: n_features,
            input_names: meta.feature_names,
            feature_names: model_names,
            class_names: meta.class_names,
            history: serde_json::from_value(meta.training.get("history").cloned().unwrap_or_default())
                .unwrap_or_default(),
        })
    };
    Ok(model)
}
