//! Networks built from layers ([`nn::arch`](crate::nn::arch)): any architecture, trained by the
//! one loop. `NetParams::cnn()` is PyTorch's `examples/mnist` network; `NetParams::from_layers`
//! takes any list of layers (what `steepest train --arch net.toml` reads).

use super::linear::classes_from_decision;
use super::options::{lr_find, network_outputs, run_fit, scaled, target_scale, FitOptions};
use crate::autograd::Tape;
use crate::collective::Communicator;
use crate::data::{Augment, BatchTransform, Dataset, Features, Scaler, ScalerKind, Targets, Task};
use crate::error::{Error, Result};
use crate::nn::arch::{build, mnist_cnn, LayerSpec, LayerSummary};
use crate::nn::{Cx, Mode, Module, ParamStore, Sequential, VarBuilder};
use crate::optim::rules::Adam;
use crate::optim::{LrFinderConfig, LrFinderResult, OptimizerSpec};
use crate::tensor::{Rng, Scalar, Tensor};
use crate::train::metrics::MetricParts;
use crate::train::{History, Observer, Trainable};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Rows per forward pass when evaluating or predicting (bounds the memory of large inputs).
const EVAL_ROWS: usize = 256;

/// The fewest rows of a part when a training batch is split across threads.
const SHARD_MIN_ROWS: usize = 8;

/// The hyper-parameters of a network built from layers (builder). Defaults: Adam with lr 1e-3,
/// batches of 32, 50 epochs, per-channel standardization for examples with a shape (images),
/// per-feature standardization otherwise, PyTorch's initialization of each layer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetParams {
    /// A name for the architecture (`cnn`, or the file it came from).
    pub arch_name: String,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
    /// Seed of the initialization.
    pub init_seed: u64,
    /// Augmentations of each training batch, in order (none by default).
    #[serde(default)]
    pub augment: Vec<Augment>,
    /// Label smoothing of the training loss on classes, eps in [0, 1): the target puts
    /// 1 - eps on the true class and eps spread evenly over all (PyTorch's
    /// `CrossEntropyLoss(label_smoothing=eps)`); 0 by default. Evaluation losses are plain
    /// cross-entropy.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Training options.
    pub fit: FitOptions,
}

impl NetParams {
    /// A network of `layers` called `name`.
    pub fn from_layers(name: &str, layers: Vec<LayerSpec>) -> Self {
        let fit = FitOptions {
            optimizer: OptimizerSpec::Adam(Adam {
                lr: 1e-3,
                ..Adam::default()
            }),
            ..FitOptions::default()
        };
        Self {
            arch_name: name.into(),
            layers,
            init_seed: 0,
            augment: Vec::new(),
            label_smoothing: 0.0,
            fit,
        }
    }

    /// PyTorch's `examples/mnist` network (see [`mnist_cnn`]).
    pub fn cnn() -> Self {
        Self::from_layers("cnn", mnist_cnn())
    }

    /// LeNet-5 (see [`lenet5`](crate::nn::arch::lenet5)), Adam 1e-3.
    pub fn lenet5() -> Self {
        Self::from_layers("lenet5", crate::nn::arch::lenet5())
    }

    /// Conv-BN-ReLU blocks for small grey images (see [`cnn_bn`](crate::nn::arch::cnn_bn)),
    /// Adam 1e-3.
    pub fn cnn_bn() -> Self {
        Self::from_layers("cnn-bn", crate::nn::arch::cnn_bn())
    }

    /// ResNet-20 for small colour images (see [`resnet`](crate::nn::arch::resnet)).
    pub fn resnet() -> Self {
        Self::from_layers("resnet", crate::nn::arch::resnet(3))
    }

    /// The names of the preset networks.
    pub const PRESETS: [&'static str; 4] = ["cnn", "cnn-bn", "lenet5", "resnet"];

    /// The preset called `name` (one of [`NetParams::PRESETS`]), if there is one.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "cnn" => Some(Self::cnn()),
            "cnn-bn" => Some(Self::cnn_bn()),
            "lenet5" => Some(Self::lenet5()),
            "resnet" => Some(Self::resnet()),
            _ => None,
        }
    }

    /// Validates the settings (the layers are checked against the data when fitting).
    pub fn check(self) -> Result<ValidNetParams> {
        self.fit.validate()?;
        if self.layers.is_empty() {
            return Err(Error::invalid("network", "the architecture has no layers"));
        }
        Ok(ValidNetParams(self))
    }
}

/// Checked [`NetParams`], ready to fit.
#[derive(Clone, Debug)]
pub struct ValidNetParams(NetParams);

/// The network being trained: its layers, parameters, buffers and task.
#[derive(Clone)]
pub struct Network<T: Scalar> {
    /// The parameters by name (`conv1.weight` `[out, in, kh, kw]`, `fc1.weight` `[out, in]`).
    pub params: ParamStore<T>,
    /// Saved but not trained (running statistics).
    pub buffers: ParamStore<T>,
    net: Arc<Sequential<T>>,
    augment: Vec<Augment>,
    label_smoothing: f64,
    pending: Pending<T>,
    input: Vec<usize>,
    outputs: usize,
    task: Task,
    summary: Vec<LayerSummary>,
    /// Whether a layer couples the examples of a batch (see [`LayerSpec::couples_examples`]).
    couples_examples: bool,
    tapes: TapePool<T>,
}

/// What a training pass gives: the loss (times its weight), the gradient of every parameter,
/// and the buffer updates.
type Pass<T> = (f64, ParamStore<T>, Vec<(String, Tensor<T>)>);

/// Tapes kept between training passes (one per thread that ran one), so that a pass records
/// into the node storage of an earlier one instead of growing a new tape from empty.
struct TapePool<T: Scalar>(std::sync::Mutex<Vec<Tape<T>>>);

impl<T: Scalar> Clone for TapePool<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T: Scalar> Default for TapePool<T> {
    fn default() -> Self {
        Self(std::sync::Mutex::new(Vec::new()))
    }
}

impl<T: Scalar> TapePool<T> {
    fn take(&self) -> Tape<T> {
        self.0.lock().ok().and_then(|mut v| v.pop()).unwrap_or_default()
    }

    fn give(&self, mut tape: Tape<T>) {
        tape.reset();
        if let Ok(mut v) = self.0.lock() {
            v.push(tape);
        }
    }
}

/// Buffer values computed in the last training pass, written after its optimizer step.
struct Pending<T>(std::sync::Mutex<Vec<(String, Tensor<T>)>>);

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        Self(std::sync::Mutex::new(Vec::new()))
    }
}

impl<T> Pending<T> {
    fn put(&self, v: Vec<(String, Tensor<T>)>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = v;
    }
    fn take(&self) -> Vec<(String, Tensor<T>)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T: Scalar> std::fmt::Debug for Network<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("input", &self.input)
            .field("outputs", &self.outputs)
            .field("layers", &self.summary)
            .finish()
    }
}

impl<T: Scalar> Network<T> {
    /// Builds `layers` for examples of shape `input` with `outputs` outputs: over `params` when
    /// given (loaded weights: every tensor must be one the architecture declares, of its shape),
    /// initialized from `seed` otherwise.
    pub fn build(
        layers: &[LayerSpec],
        input: &[usize],
        outputs: usize,
        task: Task,
        params: Option<ParamStore<T>>,
        seed: u64,
    ) -> Result<Self> {
        let loaded = params.is_some();
        let mut store = params.unwrap_or_default();
        let before: Vec<String> = store.names().map(String::from).collect();
        let (built, mut buffers) = {
            let vb = VarBuilder::new(&mut store, seed);
            let b = build(layers, &vb, input, outputs)?;
            (b, vb.buffers())
        };
        if loaded {
            // The loaded tensors hold the buffers too: take them out of the parameters.
            let mut params = ParamStore::new();
            for (n, t) in store.iter() {
                match buffers.get_mut(n) {
                    Some(b) if b.shape() == t.shape() => *b = t.clone(),
                    Some(b) => {
                        return Err(Error::invalid(
                            "model weights",
                            format!(
                                "buffer '{n}' has shape {:?}, the architecture needs {:?}",
                                t.shape(),
                                b.shape()
                            ),
                        ))
                    }
                    None => params.insert(n, t.clone()),
                }
            }
            if let Some((n, _)) = buffers.iter().find(|(n, _)| !before.iter().any(|b| b == n)) {
                return Err(Error::invalid("model weights", format!("missing buffer '{n}'")));
            }
            store = params;
        }
        let before: Vec<String> = before.into_iter().filter(|n| buffers.get(n).is_none()).collect();
        if loaded && store.len() != before.len() {
            let missing: Vec<&str> = store.names().filter(|n| !before.iter().any(|b| b == n)).collect();
            return Err(Error::invalid(
                "model weights",
                format!(
                    "the architecture needs tensors the weights lack: {}",
                    missing.join(", ")
                ),
            ));
        }
        let mut summary = built.summary;
        for s in &mut summary {
            let prefix = format!("{}.", s.name);
            s.params = store
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix))
                .map(|(_, t)| t.len())
                .sum();
        }
        let declared: usize = summary.iter().map(|s| s.params).sum();
        if declared != store.num_elements() {
            let extra: Vec<&str> = store
                .names()
                .filter(|n| !summary.iter().any(|s| n.starts_with(&format!("{}.", s.name))))
                .collect();
            return Err(Error::invalid(
                "model weights",
                format!("tensors the architecture does not declare: {}", extra.join(", ")),
            ));
        }
        Ok(Self {
            params: store,
            buffers,
            net: Arc::new(built.net),
            augment: Vec::new(),
            label_smoothing: 0.0,
            pending: Pending(std::sync::Mutex::new(Vec::new())),
            input: input.to_vec(),
            outputs,
            task,
            summary,
            couples_examples: layers.iter().any(LayerSpec::couples_examples),
            tapes: TapePool::default(),
        })
    }

    /// One line per layer: name, type, output shape, parameter count.
    pub fn summary(&self) -> &[LayerSummary] {
        &self.summary
    }

    /// The shape of one input example.
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }

    /// How many parts a training batch of `rows` examples is passed in: one per thread when
    /// more than one thread is set, every part has at least [`SHARD_MIN_ROWS`] rows and no
    /// layer couples the examples of a batch (batch norm); one otherwise.
    fn shards(&self, rows: usize) -> usize {
        let threads = crate::tensor::num_threads();
        if threads <= 1 || self.couples_examples {
            return 1;
        }
        threads.min(rows / SHARD_MIN_ROWS).max(1)
    }

    /// One forward and backward pass over `rows` with the step's `seed`: the loss times
    /// `weight`, its gradient with respect to every parameter, and the buffer updates.
    fn pass(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        seed: u64,
        weight: f64,
    ) -> Result<Pass<T>> {
        let tape = self.tapes.take();
        let out = self.pass_on(&tape, params, data, (rows, seed, weight));
        self.tapes.give(tape);
        out
    }

    /// [`Network::pass`] recording on `tape` (empty).
    fn pass_on(
        &self,
        tape: &Tape<T>,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        (rows, seed, weight): (&[usize], u64, f64),
    ) -> Result<Pass<T>> {
        // Each example's draws are seeded by its row identity (see `Dataset::row_ids`).
        let ids: Vec<usize> = rows.iter().map(|&r| data.row_id(r) as usize).collect();
        let mut cx = Cx::new(tape, params, &self.buffers, Mode::Train).with_seed(seed, &ids);
        let mut batch = self.batch(&data.features, rows)?;
        for a in &self.augment {
            cx.next_stream();
            BatchTransform::<T>::apply(a, &mut batch, &mut |i| cx.example_rng(i))?;
        }
        let x = tape.constant(batch);
        let out = self.net.forward(&mut cx, x)?;
        let mut loss = self.loss_on(out, &data.targets, rows, self.label_smoothing)?;
        if weight != 1.0 {
            loss = loss.mul_scalar(T::of(weight));
        }
        let value = loss.item()?.as_f64();
        let mut grads = tape.backward(loss)?;
        let mut g = ParamStore::new();
        for (name, p) in params.iter() {
            let v = cx.var(name)?;
            g.insert(name, grads.take(v).unwrap_or_else(|| Tensor::zeros(p.shape())));
        }
        Ok((value, g, cx.take_buffer_updates()))
    }

    /// The rows `rows` of `x` as a batch `[rows, ...input]`.
    fn batch(&self, x: &Features<T>, rows: &[usize]) -> Result<Tensor<T>> {
        let t = x.dense("network")?;
        let per: usize = self.input.iter().product();
        if t.row_len() != per {
            return Err(Error::invalid(
                "network",
                format!(
                    "the network takes examples of {per} values, the data has {}",
                    t.row_len()
                ),
            ));
        }
        let whole = rows.len() == t.rows_count() && rows.iter().enumerate().all(|(i, &r)| i == r);
        let b = if whole { t.clone() } else { t.gather_rows(rows)? };
        let mut shape = vec![rows.len()];
        shape.extend(&self.input);
        b.reshape(&shape)
    }

    fn loss_on<'t>(
        &self,
        out: crate::autograd::Var<'t, T>,
        targets: &Targets,
        rows: &[usize],
        smoothing: f64,
    ) -> Result<crate::autograd::Var<'t, T>> {
        match targets {
            Targets::Classes { labels, .. } => {
                let y: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
                crate::nn::cross_entropy(out, &y, None, smoothing)
            }
            Targets::Values(v) => {
                let y: Vec<T> = rows.iter().map(|&r| T::of(v[r])).collect();
                let t = out.tape().constant(Tensor::new(y, &[rows.len(), 1])?);
                Ok(out.mse(t)?.mul_scalar(T::of(0.5)))
            }
        }
    }

    /// Outputs for every row of `x` in evaluation mode, `EVAL_ROWS` at a time.
    pub fn outputs(&self, x: &Features<T>) -> Result<Tensor<T>> {
        let n = x.rows();
        let mut data = Vec::with_capacity(n * self.outputs);
        let idx: Vec<usize> = (0..n).collect();
        for chunk in idx.chunks(EVAL_ROWS) {
            let tape = Tape::inference();
            let mut cx = Cx::new(&tape, &self.params, &self.buffers, Mode::Eval);
            let out = self.net.forward(&mut cx, tape.constant(self.batch(x, chunk)?))?;
            data.extend_from_slice(out.value().data());
        }
        Tensor::new(data, &[n, self.outputs])
    }
}

impl<T: Scalar> Trainable<T> for Network<T> {
    fn params(&self) -> &ParamStore<T> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut ParamStore<T> {
        &mut self.params
    }
    fn loss_grad_at(
        &self,
        params: &ParamStore<T>,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
    ) -> Result<(f64, ParamStore<T>)> {
        let seed = rng.random::<u64>();
        let shards = self.shards(rows.len());
        if shards == 1 {
            let (loss, grads, updates) = self.pass(params, data, rows, seed, 1.0)?;
            self.pending.put(updates);
            return Ok((loss, grads));
        }
        // Consecutive parts of the batch, each passed on its own thread with the whole batch's
        // seed and its rows' own draws; part s's loss is weighted by its share of the rows, so
        // the weighted losses and their gradients sum to the batch mean's.
        let n = rows.len();
        let parts: Vec<&[usize]> = (0..shards)
            .map(|s| &rows[s * n / shards..(s + 1) * n / shards])
            .collect();
        let results = crate::tensor::pool::run_parts(parts, |part| {
            crate::tensor::with_serial_matmul(|| self.pass(params, data, part, seed, part.len() as f64 / n as f64))
        });
        let mut loss = 0.0;
        let mut total: Option<ParamStore<T>> = None;
        for (s, r) in results.into_iter().enumerate() {
            let (l, g, updates) = r?;
            // Only batch norm keeps running statistics, and it is never split: nothing to merge.
            if s == 0 {
                self.pending.put(updates);
            }
            loss += l;
            match total.as_mut() {
                None => total = Some(g),
                Some(t) => {
                    for (name, acc) in t.iter_mut() {
                        if let Some(add) = g.get(name) {
                            let add = add.data();
                            crate::tensor::elementwise::for_blocks([acc.data_mut()], |at, [a]| {
                                a.iter_mut().zip(&add[at..]).for_each(|(a, &b)| *a += b)
                            });
                        }
                    }
                }
            }
        }
        Ok((loss, total.unwrap_or_default()))
    }
    fn after_step(&mut self, _lr: f64) {
        for (n, t) in self.pending.take() {
            if let Some(b) = self.buffers.get_mut(&n) {
                *b = t;
            }
        }
    }
    fn buffers(&self) -> Option<&ParamStore<T>> {
        Some(&self.buffers)
    }
    fn set_buffers(&mut self, buffers: ParamStore<T>) {
        self.buffers = buffers;
    }
    fn eval_loss(&self, data: &Dataset<T>) -> Result<f64> {
        let n = data.rows();
        let idx: Vec<usize> = (0..n).collect();
        let mut sum = 0.0;
        for chunk in idx.chunks(EVAL_ROWS) {
            let tape = Tape::inference();
            let mut cx = Cx::new(&tape, &self.params, &self.buffers, Mode::Eval);
            let out = self
                .net
                .forward(&mut cx, tape.constant(self.batch(&data.features, chunk)?))?;
            sum += self.loss_on(out, &data.targets, chunk, 0.0)?.item()?.as_f64() * chunk.len() as f64;
        }
        Ok(sum / n.max(1) as f64)
    }
    fn eval_metric(&self, data: &Dataset<T>) -> Result<Option<MetricParts>> {
        let z = self.outputs(&data.features)?;
        Ok(Some(match &data.targets {
            Targets::Classes { labels, .. } => MetricParts::accuracy(labels, &classes_from_decision(&z))?,
            Targets::Values(v) => MetricParts::r2(v, &z.data().iter().map(|x| x.as_f64()).collect::<Vec<_>>())?,
        }))
    }
}

/// What fitting prepares: the network, the scaled training and validation data, the scaling.
struct Prepared<T: Scalar> {
    net: Network<T>,
    train_t: Dataset<T>,
    val_t: Option<Dataset<T>>,
    scaler: Scaler,
    target_scale: Option<(f64, f64)>,
}

impl ValidNetParams {
    /// The parameters.
    pub fn params(&self) -> &NetParams {
        &self.0
    }

    /// Checks that the architecture fits `data` (input shape, number of outputs) without
    /// training: the shape errors of fitting, early.
    pub fn check_data<T: Scalar>(&self, data: &Dataset<T>) -> Result<()> {
        let outputs = network_outputs(data, "network")?;
        Network::<T>::build(
            &self.0.layers,
            &data.shape_of_example(),
            outputs,
            data.targets.task(),
            None,
            0,
        )
        .map(|_| ())
    }

    /// Fits on `data`.
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<FittedNet<T>> {
        self.fit_parallel(data, None, &mut [], None)
    }

    /// The scaling this network fits: per channel for examples with a shape (unless the
    /// options say none), else the options' kind.
    fn scaler_kind<T: Scalar>(&self, data: &Dataset<T>) -> ScalerKind {
        if matches!(self.0.layers.first(), Some(LayerSpec::Embedding { .. })) {
            return ScalerKind::None; // token indices
        }
        match (self.0.fit.scaler, data.example_shape.len() > 1) {
            (ScalerKind::None, _) => ScalerKind::None,
            (ScalerKind::Standard, true) => ScalerKind::Channel,
            (k, _) => k,
        }
    }

    fn prepare<T: Scalar>(
        &self,
        data: &Dataset<T>,
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<Prepared<T>> {
        let p = &self.0;
        data.check_finite("training data")?;
        let task = data.targets.task();
        let outputs = network_outputs(data, "network")?;
        let input = data.shape_of_example();
        let mut net = Network::build(&p.layers, &input, outputs, task, None, p.init_seed)?;
        if !p.augment.is_empty() && input.len() != 3 {
            return Err(Error::invalid(
                "augment",
                format!("augmentation needs images [C, H, W]; the examples have shape {input:?}"),
            ));
        }
        net.augment = p.augment.clone();
        if !(0.0..1.0).contains(&p.label_smoothing) {
            return Err(Error::invalid(
                "label smoothing",
                format!("{} must be in [0, 1)", p.label_smoothing),
            ));
        }
        net.label_smoothing = p.label_smoothing;
        let (train, val) = p.fit.split_validation(data)?;
        let scaler = match self.scaler_kind(data) {
            ScalerKind::Channel => Scaler::fit_channels(&train.features, input[0], comm.as_deref_mut())?,
            k => Scaler::fit_parallel(k, &train.features, comm.as_deref_mut())?,
        };
        let target_scale = target_scale(&train.targets, comm)?;
        let prep = |d: &Dataset<T>| scaled(d, &scaler, target_scale);
        let train_t = prep(&train)?;
        let val_t = val.as_ref().map(prep).transpose()?;
        Ok(Prepared {
            net,
            train_t,
            val_t,
            scaler,
            target_scale,
        })
    }

    /// The learning-rate range test for this network on `data`.
    pub fn lr_find<T: Scalar>(&self, data: &Dataset<T>, cfg: &LrFinderConfig) -> Result<LrFinderResult> {
        let mut prep = self.prepare(data, None)?;
        lr_find(&mut prep.net, &prep.train_t, &self.0.fit, cfg)
    }

    /// Fits on `data` (this rank's shard with `comm`), resuming from `resume` if given,
    /// reporting to `observers`.
    pub fn fit_parallel<T: Scalar>(
        &self,
        data: &Dataset<T>,
        resume: Option<crate::train::Checkpoint<T>>,
        observers: &mut [&mut dyn Observer],
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<FittedNet<T>> {
        let Prepared {
            mut net,
            train_t,
            val_t,
            scaler,
            target_scale,
        } = self.prepare(data, comm.as_deref_mut())?;
        let history = run_fit(&mut net, &train_t, val_t.as_ref(), &self.0.fit, resume, observers, comm)?;
        Ok(FittedNet {
            params: self.0.clone(),
            net,
            scaler,
            target_scale,
            n_inputs: data.cols(),
            feature_names: data.feature_names.clone(),
            class_names: data.targets.class_names().to_vec(),
            history,
        })
    }
}

/// A fitted network.
#[derive(Clone, Debug)]
pub struct FittedNet<T: Scalar> {
    /// The hyper-parameters it was fitted with.
    pub params: NetParams,
    /// The network.
    pub net: Network<T>,
    /// The scaling fitted on the training rows.
    pub scaler: Scaler,
    /// (mean, std) of the regression target (the network predicts standardized values).
    pub target_scale: Option<(f64, f64)>,
    /// Number of input columns (elements of one example).
    pub n_inputs: usize,
    /// Names of the input columns (empty: the defaults).
    pub feature_names: Vec<String>,
    /// Class names (classifiers).
    pub class_names: Vec<String>,
    /// Training history.
    pub history: History,
}

impl<T: Scalar> FittedNet<T> {
    /// Whether the network predicts classes.
    pub fn is_classifier(&self) -> bool {
        self.net.task == Task::Classify
    }

    /// Raw outputs: logits for a classifier, values (in target units) for a regressor.
    pub fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        if x.cols() != self.n_inputs {
            return Err(Error::invalid(
                "predict",
                format!(
                    "the model takes examples of {} values (shape {:?}), the data has {}",
                    self.n_inputs,
                    self.net.input,
                    x.cols()
                ),
            ));
        }
        let z = self.net.outputs(&self.scaler.transform(x)?)?;
        Ok(match self.target_scale {
            Some((m, s)) => z.map(|v| T::of(v.as_f64() * s + m)),
            None => z,
        })
    }

    /// Class probabilities (softmax of the logits) for a classifier.
    pub fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        if !self.is_classifier() {
            return Ok(None);
        }
        Ok(Some(self.decision_function(x)?.softmax(1)?))
    }
}
