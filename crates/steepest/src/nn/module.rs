//! The `Module` trait and the context a forward pass runs in.
//!
//! A module's `forward` takes a [`Cx`] (the tape, the parameters bound to it by name, the mode
//! and the randomness of this step) and an input [`Var`], and returns its output as autograd ops,
//! so every network built from modules has its gradient by [`Tape::backward`].

use super::ParamStore;
use crate::autograd::{Tape, Var};
use crate::error::{Error, Result};
use crate::tensor::{rng, Rng, Scalar, Tensor};
use rand::Rng as _;
use std::collections::HashMap;

/// Training or evaluation: dropout drops and batch norm uses the batch's statistics only in
/// training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stochastic layers active, statistics from the batch.
    Train,
    /// Deterministic: no dropout, running statistics.
    Eval,
}

/// The context of one forward pass: the tape, the parameters and buffers as tape variables by
/// name, the mode, and the randomness of the step.
///
/// Stochastic layers draw per example: the mask of example `r` (its row in the dataset, from
/// `Cx::rows`) comes from a generator seeded by the step's seed and `r`, so the same
/// examples get the same masks however a batch is split (across data-parallel ranks, say).
pub struct Cx<'t, T: Scalar> {
    tape: &'t Tape<T>,
    vars: HashMap<String, Var<'t, T>>,
    mode: Mode,
    seed: u64,
    rows: Vec<usize>,
    calls: u64,
    updates: Vec<(String, Tensor<T>)>,
}

impl<'t, T: Scalar> Cx<'t, T> {
    /// Binds every tensor of `params` to `tape` as a parameter (differentiated) and every tensor
    /// of `buffers` as a constant.
    pub fn new(tape: &'t Tape<T>, params: &ParamStore<T>, buffers: &ParamStore<T>, mode: Mode) -> Self {
        let mut vars = HashMap::with_capacity(params.len() + buffers.len());
        for (n, t) in params.iter() {
            vars.insert(n.to_string(), tape.param(t.clone()));
        }
        for (n, t) in buffers.iter() {
            vars.insert(n.to_string(), tape.constant(t.clone()));
        }
        Self {
            tape,
            vars,
            mode,
            seed: 0,
            rows: Vec::new(),
            calls: 0,
            updates: Vec::new(),
        }
    }

    /// A context over variables already on `tape`, by name (for gradient checks and for code
    /// that binds its own parameters).
    pub fn from_vars(tape: &'t Tape<T>, vars: impl IntoIterator<Item = (String, Var<'t, T>)>, mode: Mode) -> Self {
        Self {
            tape,
            vars: vars.into_iter().collect(),
            mode,
            seed: 0,
            rows: Vec::new(),
            calls: 0,
            updates: Vec::new(),
        }
    }

    /// Sets the randomness of this step: a seed drawn from `r`, and the dataset rows of the
    /// batch's examples (in batch order).
    pub fn with_randomness(self, r: &mut Rng, rows: &[usize]) -> Self {
        self.with_seed(r.random::<u64>(), rows)
    }

    /// Sets the randomness of this step from a seed already drawn (as [`Cx::with_randomness`]
    /// draws it): the parts of one batch passed separately with the same seed and their own
    /// rows draw what the whole batch would.
    pub fn with_seed(mut self, seed: u64, rows: &[usize]) -> Self {
        self.seed = seed;
        self.rows = rows.to_vec();
        self
    }

    /// The tape.
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the pass trains.
    pub fn training(&self) -> bool {
        self.mode == Mode::Train
    }

    /// The parameter or buffer called `name`.
    pub fn var(&self, name: &str) -> Result<Var<'t, T>> {
        self.vars
            .get(name)
            .copied()
            .ok_or_else(|| Error::invalid("module", format!("no parameter or buffer named '{name}'")))
    }

    /// The variables bound as parameters, by name.
    pub fn vars(&self) -> &HashMap<String, Var<'t, T>> {
        &self.vars
    }

    /// A generator for example `i` of the batch, distinct for each stochastic layer called in
    /// this pass (the `k`-th call gets stream `k`).
    pub fn example_rng(&self, i: usize) -> Rng {
        let row = self.rows.get(i).copied().unwrap_or(i) as u64;
        rng(self.seed ^ (row + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.calls.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// Marks the start of another stochastic layer (its examples get fresh streams).
    pub fn next_stream(&mut self) {
        self.calls += 1;
    }

    /// Records a new value for buffer `name` (running statistics), applied after the step.
    pub fn update_buffer(&mut self, name: &str, value: Tensor<T>) {
        self.updates.push((name.to_string(), value));
    }

    /// The buffer updates recorded in this pass.
    pub fn take_buffer_updates(&mut self) -> Vec<(String, Tensor<T>)> {
        std::mem::take(&mut self.updates)
    }
}

/// A layer or a network of layers: a forward pass from autograd ops. Parameters are looked up
/// in the context by the names the module was built with (see
/// [`VarBuilder`](super::VarBuilder)).
///
/// ```
/// use steepest::autograd::{Tape, Var};
/// use steepest::nn::{Cx, Linear, Mode, Module, ParamStore, VarBuilder};
/// use steepest::Tensor;
///
/// let mut store = ParamStore::<f64>::new();
/// let vb = VarBuilder::new(&mut store, 0);
/// let fc = Linear::new(&vb.pp("fc"), 3, 2, true)?;
/// drop(vb);
/// assert_eq!(store.get("fc.weight").unwrap().shape(), &[2, 3]); // PyTorch's [out, in]
///
/// let tape = Tape::new();
/// let mut cx = Cx::new(&tape, &store, &ParamStore::new(), Mode::Eval);
/// let x = tape.constant(Tensor::ones(&[4, 3]));
/// assert_eq!(fc.forward(&mut cx, x)?.shape(), [4, 2]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub trait Module<T: Scalar>: Send + Sync {
    /// The output for input `x`.
    fn forward<'t>(&self, cx: &mut Cx<'t, T>, x: Var<'t, T>) -> Result<Var<'t, T>>;
}
