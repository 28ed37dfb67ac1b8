//! The multi-layer perceptron: a [`Sequential`] of `Linear` layers (PyTorch's layout, `[out,
//! in]`, named `hidden.0`, ..., `output`), activations and dropout, trained through the tape or,
//! when the network matches it (dense rows, no dropout, an activation whose derivative follows
//! from its output), through the fused kernel [`mlp_loss_grad_rows`](crate::nn::mlp_loss_grad_rows), which computes the same
//! loss and gradients (a test holds them equal).

use super::linear::classes_from_decision;
use super::options::{lr_find, network_outputs, run_fit, scaled, target_scale, FitOptions};
use crate::autograd::{Tape, Var};
use crate::collective::Communicator;
use crate::data::{Dataset, Features, Scaler, Targets, Task};
use crate::error::{Error, Result};
use crate::nn::MlpWorkspace;
use crate::nn::{Cx, Dropout, Linear, Mode, Module, ParamStore, Sequential, VarBuilder};
use crate::optim::rules::Adam;
use crate::optim::{LrFinderConfig, LrFinderResult, Optimizer, OptimizerSpec, StepArgs};
use crate::tensor::elementwise::sum_of_squares;
use crate::tensor::{rng, Rng, Scalar, Tensor};
use crate::train::metrics::MetricParts;
use crate::train::{loss_grad_replacing, History, Observer, Trainable};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;

/// Hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// max(x, 0).
    Relu,
    /// tanh x.
    Tanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// Exact GELU.
    Gelu,
    /// Leaky ReLU with slope 0.01.
    LeakyRelu,
    /// x.
    Identity,
}

impl Activation {
    /// The layer that computes it (activations are defined once, in [`crate::nn`]).
    pub fn layer(self) -> crate::nn::Activation {
        match self {
            Activation::Relu => crate::nn::Activation::Relu,
            Activation::Tanh => crate::nn::Activation::Tanh,
            Activation::Sigmoid => crate::nn::Activation::Sigmoid,
            Activation::Gelu => crate::nn::Activation::Gelu,
            Activation::LeakyRelu => crate::nn::Activation::LeakyRelu(0.01),
            Activation::Identity => crate::nn::Activation::Identity,
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            Error::invalid(
                "activation",
                format!("unknown activation '{s}' (relu, tanh, sigmoid, gelu, leaky-relu, identity)"),
            )
        })
    }
}

/// Weight initialization (biases start at 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Init {
    /// He (Kaiming) normal: N(0, 2 / fan_in) (He et al. 2015), for ReLU-like activations.
    He,
    /// Xavier (Glorot) uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio
    /// 2010), for tanh and sigmoid.
    Xavier,
    /// PyTorch's default for `nn.Linear` weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming
    /// uniform with a = sqrt 5). Biases still start at 0.
    Torch,
    /// N(0, std^2).
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// U(-limit, limit).
    Uniform {
        /// Half-width.
        limit: f64,
    },
    /// All zeros (no symmetry breaking: for tests and linear layers).
    Zeros,
}

impl Init {
    /// A weight `[fan_out, fan_in]` (PyTorch's layout).
    fn draw<T: Scalar>(self, fan_in: usize, fan_out: usize, r: &mut Rng) -> Tensor<T> {
        self.draw_in_out(fan_in, fan_out, r).transpose().expect("a matrix")
    }

    /// The values drawn as `[fan_in, fan_out]` (the order of the generator's draws).
    fn draw_in_out<T: Scalar>(self, fan_in: usize, fan_out: usize, r: &mut Rng) -> Tensor<T> {
        let shape = [fan_in, fan_out];
        match self {
            Init::He => Tensor::randn(&shape, 0.0, (2.0 / fan_in as f64).sqrt(), r),
            Init::Xavier => {
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                Tensor::rand_uniform(&shape, -a, a, r)
            }
            Init::Torch => {
                let a = 1.0 / (fan_in as f64).sqrt();
                Tensor::rand_uniform(&shape, -a, a, r)
            }
            Init::Normal { std } => Tensor::randn(&shape, 0.0, std, r),
            Init::Uniform { limit } => Tensor::rand_uniform(&shape, -limit, limit, r),
            Init::Zeros => Tensor::zeros(&shape),
        }
    }
}

/// The hyper-parameters of an MLP (builder). Defaults: one hidden layer of 100 (as
/// scikit-learn), ReLU, He initialization, no dropout, alpha 1e-4 (L2 on the weights), Adam
/// with lr 1e-3, batches of 32, 50 epochs, standardized features.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MlpParams {
    /// Sizes of the hidden layers.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Probability of zeroing a hidden unit in training (inverted dropout).
    pub dropout: f64,
    /// Weight initialization.
    pub init: Init,
    /// L2 penalty alpha ||W||^2 / 2 on the weights (not the biases).
    pub alpha: f64,
    /// Training options.
    pub fit: FitOptions,
}

impl Default for MlpParams {
    fn default() -> Self {
        let fit = FitOptions {
            optimizer: OptimizerSpec::Adam(Adam {
                lr: 1e-3,
                ..Adam::default()
            }),
            ..FitOptions::default()
        };
        Self {
            hidden: vec![100],
            activation: Activation::Relu,
            dropout: 0.0,
            init: Init::He,
            alpha: 1e-4,
            fit,
        }
    }
}

impl MlpParams {
    /// Sets the hidden layer sizes.
    pub fn hidden(mut self, sizes: &[usize]) -> Self {
        self.hidden = sizes.to_vec();
        self
    }

    /// Validates every setting.
    pub fn check(self) -> Result<ValidMlpParams> {
        self.fit.validate()?;
        if self.hidden.contains(&0) {
            return Err(Error::invalid("mlp", "hidden layers need at least one unit"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid(
                "mlp",
                format!("dropout {} must be in [0, 1)", self.dropout),
            ));
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::invalid("mlp", "alpha must be >= 0"));
        }
        Ok(ValidMlpParams(self))
    }
}

/// Checked [`MlpParams`], ready to fit.
#[derive(Clone, Debug)]
pub struct ValidMlpParams(MlpParams);

/// Layer names in order: `hidden.0`, `hidden.1`, ..., `output`.
pub(super) fn layer_names(hidden: usize) -> Vec<String> {
    (0..hidden)
        .map(|i| format!("hidden.{i}"))
        .chain(["output".to_string()])
        .collect()
}

impl ValidMlpParams {
    /// The parameters.
    pub fn params(&self) -> &MlpParams {
        &self.0
    }

    /// Fits on `data`.
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<FittedMlp<T>> {
        self.fit_with(data, None, &mut [])
    }

    /// Checks `data` and prepares it (validation split, scaling fitted on the training rows,
    /// standardized regression targets) and the initialized network.
    /// With `comm`, `data` is this rank's shard, and the scaling statistics are those of all
    /// ranks' rows.
    /// Checks that training on `data` fits the memory budget ([`crate::memory`]): the
    /// parameters with their gradient, optimizer state and best copy (about six times the
    /// model), and a batch's activations and their gradients.
    pub fn check_memory<T: Scalar>(&self, data: &Dataset<T>) -> Result<()> {
        let p = &self.0;
        let outputs = network_outputs(data, "mlp")?;
        let widths: Vec<u128> = std::iter::once(data.cols())
            .chain(p.hidden.iter().copied())
            .chain([outputs])
            .map(|w| w as u128)
            .collect();
        let count: u128 = widths.windows(2).map(|w| (w[0] + 1).saturating_mul(w[1])).sum();
        let batch = match p.fit.train.batch_size {
            crate::data::BatchSize::Rows(b) => b.min(data.rows()),
            crate::data::BatchSize::Full => data.rows(),
        } as u128;
        let per = std::mem::size_of::<T>() as u128;
        let bytes = count.saturating_mul(per * 6) + batch.saturating_mul(widths.iter().sum::<u128>()) * per * 4;
        crate::memory::ensure(
            &format!("an MLP of layer sizes {widths:?} ({count} parameters)"),
            bytes,
            "",
        )
    }

    fn prepare<T: Scalar>(
        &self,
        data: &Dataset<T>,
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<Prepared<T>> {
        let p = &self.0;
        data.check_finite("training data")?;
        let task = data.targets.task();
        let outputs = network_outputs(data, "mlp")?;
        self.check_memory(data)?;
        let (train, val) = p.fit.split_validation(data)?;
        let scaler = Scaler::fit_parallel(p.fit.scaler, &train.features, comm.as_deref_mut())?;
        let target_scale = target_scale(&train.targets, comm)?;
        let prep = |d: &Dataset<T>| scaled(d, &scaler, target_scale);
        let train_t = prep(&train)?;
        let val_t = val.as_ref().map(prep).transpose()?;
        let mut r = rng(p.fit.train.seed ^ 0x1217);
        let mut sizes = vec![data.cols()];
        sizes.extend(&p.hidden);
        sizes.push(outputs);
        let mut params = ParamStore::new();
        for (i, name) in layer_names(p.hidden.len()).iter().enumerate() {
            params.insert(format!("{name}.weight"), p.init.draw(sizes[i], sizes[i + 1], &mut r));
            params.insert(format!("{name}.bias"), Tensor::zeros(&[sizes[i + 1]]));
        }
        let net = MlpNet::new(params, p.hidden.len(), p.activation, p.dropout, p.alpha, task)?;
        Ok(Prepared {
            net,
            train_t,
            val_t,
            scaler,
            target_scale,
        })
    }

    /// The learning-rate range test for this network on `data` (see
    /// [`lr_range_test`](crate::optim::lr_range_test)), with its optimizer and batch size.
    pub fn lr_find<T: Scalar>(&self, data: &Dataset<T>, cfg: &LrFinderConfig) -> Result<LrFinderResult> {
        let mut prep = self.prepare(data, None)?;
        lr_find(&mut prep.net, &prep.train_t, &self.0.fit, cfg)
    }

    /// Fits on `data`, resuming from `resume` if given, reporting to `observers`.
    pub fn fit_with<T: Scalar>(
        &self,
        data: &Dataset<T>,
        resume: Option<crate::train::Checkpoint<T>>,
        observers: &mut [&mut dyn Observer],
    ) -> Result<FittedMlp<T>> {
        self.fit_parallel(data, resume, observers, None)
    }

    /// [`Self::fit_with`] as one rank of a data-parallel job over `comm` (see
    /// [`train::fit_parallel`](crate::train::fit_parallel)): each rank passes its own shard of
    /// the rows as `data` (with the same columns and class names on every rank); the scaling
    /// (and the standardization of regression targets) is fitted on all ranks' rows, the
    /// validation rows are held out of each shard, and all ranks return the same model.
    pub fn fit_parallel<T: Scalar>(
        &self,
        data: &Dataset<T>,
        resume: Option<crate::train::Checkpoint<T>>,
        observers: &mut [&mut dyn Observer],
        mut comm: Option<&mut (dyn Communicator + '_)>,
    ) -> Result<FittedMlp<T>> {
        let p = &self.0;
        let Prepared {
            mut net,
            train_t,
            val_t,
            scaler,
            target_scale,
        } = self.prepare(data, comm.as_deref_mut())?;
        let history = run_fit(&mut net, &train_t, val_t.as_ref(), &p.fit, resume, observers, comm)?;
        let class_names = data.targets.class_names().to_vec();
        Ok(FittedMlp {
            params: p.clone(),
            net,
            scaler,
            target_scale,
            n_inputs: data.cols(),
            feature_names: data.feature_names.clone(),
            class_names,
            history,
        })
    }
}

struct Prepared<T: Scalar> {
    net: MlpNet<T>,
    train_t: Dataset<T>,
    val_t: Option<Dataset<T>>,
    scaler: Scaler,
    target_scale: Option<(f64, f64)>,
}

/// The fused kernel's buffers (the batch, its targets, the workspace and the gradients), kept
/// across steps.
#[derive(Clone, Debug, Default)]
pub(super) struct FastBuffers<T> {
    pub(super) ws: MlpWorkspace<T>,
    pub(super) gw: Vec<Tensor<T>>,
    pub(super) gb: Vec<Tensor<T>>,
    pub(super) labels: Vec<usize>,
    pub(super) values: Vec<f64>,
    /// Per layer, each row's sum of squares of the weights' gradient (the fused step's norm).
    pub(super) squares: Vec<Vec<f64>>,
}

/// The network: parameters, the layers that run them, and the fused kernel's buffers.
#[derive(Clone)]
pub struct MlpNet<T: Scalar> {
    /// `hidden.{i}.weight` `[out, in]` (PyTorch's layout), `hidden.{i}.bias`, `output.weight`,
    /// `output.bias`.
    pub params: ParamStore<T>,
    /// `Linear`, activation (and `Dropout`) layers, ..., `Linear`.
    layers: Arc<Sequential<T>>,
    /// Buffers of the fused kernel (batch rows and the workspace), reused across steps.
    pub(super) fast: RefCell<FastBuffers<T>>,
    pub(super) hidden: usize,
    pub(super) activation: Activation,
    pub(super) dropout: f64,
    pub(super) alpha: f64,
    task: Task,
}

impl<T: Scalar> std::fmt::Debug for MlpNet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlpNet")
            .field("hidden", &self.hidden)
            .field("activation", &self.activation)
            .field("dropout", &self.dropout)
            .finish()
    }
}

/// The layers of an MLP over `params` (which fix the sizes): `Linear` `hidden.0`, activation,
/// dropout (when `dropout > 0`), ..., `Linear` `output`.
fn build_layers<T: Scalar>(
    params: &ParamStore<T>,
    hidden: usize,
    act: Activation,
    dropout: f64,
) -> Result<Sequential<T>> {
    let mut store = params.clone();
    let vb = VarBuilder::new(&mut store, 0);
    let mut net = Sequential::new();
    for (i, name) in layer_names(hidden).iter().enumerate() {
        let w = params.require(&format!("{name}.weight"))?;
        let (out, inp) = w.check_matrix("mlp weight")?;
        net = net.push(Linear::new(&vb.pp(name), inp, out, true)?);
        if i < hidden {
            net = net.push(act.layer());
            if dropout > 0.0 {
                net = net.push(Dropout::new(dropout)?);
            }
        }
    }
    Ok(net)
}

impl<T: Scalar> MlpNet<T> {
    /// The network over `params` (named as [`MlpNet::params`] says).
    fn new(
        params: ParamStore<T>,
        hidden: usize,
        activation: Activation,
        dropout: f64,
        alpha: f64,
        task: Task,
    ) -> Result<Self> {
        let layers = Arc::new(build_layers(&params, hidden, activation, dropout)?);
        Ok(Self {
            params,
            layers,
            fast: RefCell::default(),
            hidden,
            activation,
            dropout,
            alpha,
            task,
        })
    }

    /// Output (logits or standardized values) for `rows` of `x` on `tape`, through the layers
    /// over `params` bound in a context (returned, for the gradients by name); training mode
    /// (dropout) when `rng` is given, with the rows' identities (see `Dataset::row_ids`).
    fn forward<'t>(
        &self,
        tape: &'t Tape<T>,
        params: &ParamStore<T>,
        x: &Features<T>,
        rows: &[usize],
        rng: Option<(&mut Rng, &[usize])>,
    ) -> Result<(Var<'t, T>, Cx<'t, T>)> {
        let none = ParamStore::new();
        let mut cx = match rng {
            Some((r, ids)) => Cx::new(tape, params, &none, Mode::Train).with_randomness(r, ids),
            None => Cx::new(tape, params, &none, Mode::Eval),
        };
        let out = match x {
            Features::Dense(t) => {
                let xb = if rows.len() == t.rows_count() && rows.iter().enumerate().all(|(i, &r)| i == r) {
                    t.clone()
                } else {
                    t.gather_rows(rows)?
                };
                self.layers.forward(&mut cx, tape.constant(xb))?
            }
            Features::Sparse(s) => {
                // The first layer on sparse rows: A W^T + b, then the other layers.
                let w = cx.var("hidden.0.weight").or_else(|_| cx.var("output.weight"))?;
                let b = cx.var("hidden.0.bias").or_else(|_| cx.var("output.bias"))?;
                let h = w.transpose()?.sparse_lmul(&Arc::new(s.gather_rows(rows)?))?.add(b)?;
                self.layers.forward_from(&mut cx, h, 1)?
            }
        };
        Ok((out, cx))
    }

    fn loss_on<'t>(&self, out: Var<'t, T>, data: &Dataset<T>, rows: &[usize]) -> Result<Var<'t, T>> {
        match &data.targets {
            Targets::Classes { labels, .. } => {
                let y: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
                out.cross_entropy(&y, None)
            }
            Targets::Values(v) => {
                let y: Vec<T> = rows.iter().map(|&r| T::of(v[r])).collect();
                let t = out.tape().constant(Tensor::new(y, &[rows.len(), 1])?);
                Ok(out.mse(t)?.mul_scalar(T::of(0.5)))
            }
        }
    }

    pub(super) fn penalty(&self, params: &ParamStore<T>) -> f64 {
        if self.alpha == 0.0 {
            return 0.0;
        }
        params
            .iter()
            .filter(|(n, _)| n.ends_with(".weight"))
            .map(|(_, t)| sum_of_squares(t.data()))
            .sum::<f64>()
            * self.alpha
            / 2.0
    }

    /// Outputs for every row, in evaluation mode.
    fn outputs(&self, x: &Features<T>) -> Result<Tensor<T>> {
        let tape = Tape::inference();
        let all: Vec<usize> = (0..x.rows()).collect();
        Ok(self.forward(&tape, &self.params, x, &all, None)?.0.value())
    }
}

impl<T: Scalar> Trainable<T> for MlpNet<T> {
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
        let mut grads = ParamStore::new();
        if let Some(loss) = self.fused_loss_grad(params, data, rows, &mut grads)? {
            return Ok((loss, grads));
        }
        let tape = Tape::new();
        let ids: Vec<usize> = rows.iter().map(|&r| data.row_id(r) as usize).collect();
        let (out, cx) = self.forward(&tape, params, &data.features, rows, Some((rng, &ids)))?;
        let loss = self.loss_on(out, data, rows)?;
        let value = loss.item()?.as_f64() + self.penalty(params);
        let mut grads = tape.backward(loss)?;
        let mut out = ParamStore::new();
        let alpha = T::of(self.alpha);
        for (name, p) in params.iter() {
            let mut g = grads.take(cx.var(name)?).unwrap_or_else(|| Tensor::zeros(p.shape()));
            if name.ends_with(".weight") && self.alpha > 0.0 {
                g.data_mut()
                    .iter_mut()
                    .zip(p.data())
                    .for_each(|(g, &w)| *g += alpha * w);
            }
            out.insert(name, g);
        }
        Ok((value, out))
    }
    fn loss_grad_into(
        &self,
        data: &Dataset<T>,
        rows: &[usize],
        rng: &mut Rng,
        grads: &mut ParamStore<T>,
    ) -> Result<f64> {
        match self.fused_loss_grad(&self.params, data, rows, grads)? {
            Some(loss) => Ok(loss),
            None => loss_grad_replacing(self, data, rows, rng, grads),
        }
    }
    fn loss_grad_step(
        &mut self,
        data: &Dataset<T>,
        rows: &[usize],
        _rng: &mut Rng,
        opt: &mut dyn Optimizer<T>,
        args: &StepArgs,
    ) -> Result<Option<(f64, f64)>> {
        self.fused_step(data, rows, opt, args)
    }
    fn read_ahead(&mut self, rows: &[usize]) {
        self.fast.get_mut().ws.read_ahead(rows);
    }
    fn eval_loss(&self, data: &Dataset<T>) -> Result<f64> {
        let tape = Tape::inference();
        let all: Vec<usize> = (0..data.rows()).collect();
        let out = self.forward(&tape, &self.params, &data.features, &all, None)?.0;
        Ok(self.loss_on(out, data, &all)?.item()?.as_f64() + self.penalty(&self.params))
    }
    fn eval_metric(&self, data: &Dataset<T>) -> Result<Option<MetricParts>> {
        let z = self.outputs(&data.features)?;
        Ok(Some(match (&data.targets, self.task) {
            (Targets::Classes { labels, .. }, _) => MetricParts::accuracy(labels, &classes_from_decision(&z))?,
            (Targets::Values(v), _) => MetricParts::r2(v, &z.data().iter().map(|x| x.as_f64()).collect::<Vec<_>>())?,
        }))
    }
}

/// A fitted MLP.
#[derive(Clone, Debug)]
pub struct FittedMlp<T: Scalar> {
    /// The hyper-parameters it was fitted with.
    pub params: MlpParams,
    /// The network.
    pub net: MlpNet<T>,
    /// The feature scaling fitted on the training rows.
    pub scaler: Scaler,
    /// (mean, std) of the regression target (the network predicts standardized values).
    pub target_scale: Option<(f64, f64)>,
    /// Number of input columns.
    pub n_inputs: usize,
    /// Names of the input columns (empty: the defaults `f0, f1, ...`).
    pub feature_names: Vec<String>,
    /// Class names (classifiers).
    pub class_names: Vec<String>,
    /// Training history.
    pub history: History,
}

impl<T: Scalar> FittedMlp<T> {
    /// Rebuilds a fitted network from its parts (used when loading a model file); the weights
    /// must hold every layer's `weight [out, in]` and `bias`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        params: MlpParams,
        weights: ParamStore<T>,
        task: Task,
        scaler: Scaler,
        target_scale: Option<(f64, f64)>,
        n_inputs: usize,
        feature_names: Vec<String>,
        class_names: Vec<String>,
    ) -> Result<Self> {
        let net = MlpNet::new(
            weights,
            params.hidden.len(),
            params.activation,
            params.dropout,
            params.alpha,
            task,
        )?;
        Ok(Self {
            params,
            net,
            scaler,
            target_scale,
            n_inputs,
            feature_names,
            class_names,
            history: vec![],
        })
    }

    /// Whether the network predicts classes.
    pub fn is_classifier(&self) -> bool {
        self.net.task == Task::Classify
    }

    /// Raw outputs: logits for a classifier, predicted values (in target units) for a regressor.
    pub fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        // Sparse data has no names (the defaults): the count is `n_inputs`.
        if x.cols() != self.n_inputs {
            return Err(Error::invalid(
                "predict",
                format!("the model takes {} features, the data has {}", self.n_inputs, x.cols()),
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
