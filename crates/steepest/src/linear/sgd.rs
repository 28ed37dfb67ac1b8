//! The linear fast path: per-example stochastic gradient descent on raw slices, without a tape
//! or per-step allocation, touching each row once per pass.
//!
//! For row x with target y and decision z = w . x + b, each step takes the loss derivative
//! d = dL/dz and updates
//! * plain: eta_t = 1 / (alpha (t0 + t)) (scikit-learn's "optimal", Bottou) or a constant;
//!   the L2 penalty shrinks w by (1 - eta_t alpha) through a scalar weight scale (lazy L2,
//!   O(nnz) per step), then w <- w - eta_t d x;
//! * adaptive (AdaGrad per feature, as Vowpal Wabbit's default `--adaptive`): G_j += (d x_j)^2,
//!   w_j <- w_j - eta d x_j / (sqrt(G_j) + eps), which makes the step invariant to feature scale
//!   (PyTorch's `Adagrad` without decay, exactly: a weight whose feature is absent has g = 0 and
//!   does not move, so only the row's features are touched).
//!
//! With `average`, the weights returned are the running mean of the iterates (averaged SGD,
//! Polyak and Juditsky 1992), dense or sparse rows. The mean is kept lazily, at no extra pass over
//! the weights: with w_t = s_t v_t (v stored, s the lazy L2 scale), t avg_t = u_t + Q_t v_t where
//! a step v_t = v_{t-1} - Delta adds Q_{t-1} Delta to u (in the same loop as the step) and
//! Q_t = Q_{t-1} + s_t (the trick of Xu 2011, "Towards optimal one pass large scale learning
//! with averaged stochastic gradient descent", as scikit-learn's averaged SGD uses).

use super::core::RowTargets;
use super::loss::{LinearLoss, Target};
use crate::data::Features;
use crate::error::{Error, Result};
use crate::tensor::{prefetch, Scalar};

/// Settings of [`sgd_pass`].
#[derive(Clone, Copy, Debug)]
pub struct SgdConfig {
    /// A single-output loss (regression or binary classification).
    pub loss: LinearLoss,
    /// L2 strength alpha.
    pub alpha: f64,
    /// Per-feature AdaGrad steps (otherwise the plain schedule).
    pub adaptive: bool,
    /// Base step: eta for adaptive steps; for plain steps a constant rate, or `None` for
    /// scikit-learn's "optimal" schedule.
    pub eta: Option<f64>,
    /// Return the averaged iterate (dense or sparse rows).
    pub average: bool,
    /// AdaGrad's term added to sqrt(G) in the denominator (PyTorch's `eps`, 1e-10).
    pub eps: f64,
    /// With `adaptive`: normalized, importance-invariant steps (see
    /// [`crate::optim::Invariant`]); needs alpha 0 and no averaging.
    pub invariant: bool,
}

/// Weights and the state the fast path carries between passes, stored as `W` (`f64` by
/// default; `f32` halves the memory the steps touch, which is what bounds a pass over sparse
/// rows with many features, as Vowpal Wabbit's 32-bit weights do). Scalars (decision value,
/// loss derivative, step size, intercept, lazy scale) are always `f64`. Serialized whole (every
/// field, so that a pass resumed from a checkpoint takes the same steps).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "", from = "SgdFields<W>")]
pub struct SgdModel<W: Scalar = f64> {
    /// Weights, multiplied by the lazy scale (see [`SgdModel::finish`] for the true ones);
    /// empty while the weights live in `cells`.
    w: Vec<W>,
    /// Intercept.
    pub b: f64,
    scale: f64,
    /// AdaGrad's sums G_j (adaptive steps that are not invariant).
    g2: Vec<W>,
    g2b: f64,
    t: u64,
    /// Lazy average: t avg = avg_u + avg_q w (see the module docs).
    avg_u: Vec<W>,
    avg_q: f64,
    avg_b: f64,
    /// Invariant steps keep each feature's weight, G_j and N_j (the largest |x_j| seen) in one
    /// cell of four (w, G, N, unused; 16 bytes in f32), so that a step on a sparse row touches
    /// one cache line per feature (as Vowpal Wabbit's weights do), and the sum over steps of
    /// sum_j x_j^2 / N_j^2 (the constant included).
    paired: bool,
    #[serde(default)]
    cells: Vec<W>,
    norm_sum: f64,
}

/// The serialized fields of [`SgdModel`], read through [`SgdModel::from`] so that a checkpoint
/// written before invariant steps kept cells (weights in `w`, G_j and N_j in pairs in `g2`)
/// loads into the cells.
#[derive(serde::Deserialize)]
#[serde(bound = "")]
struct SgdFields<W: Scalar> {
    w: Vec<W>,
    b: f64,
    scale: f64,
    g2: Vec<W>,
    g2b: f64,
    t: u64,
    avg_u: Vec<W>,
    avg_q: f64,
    avg_b: f64,
    paired: bool,
    #[serde(default)]
    cells: Vec<W>,
    norm_sum: f64,
}

impl<W: Scalar> From<SgdFields<W>> for SgdModel<W> {
    fn from(f: SgdFields<W>) -> Self {
        let mut m = Self {
            w: f.w,
            b: f.b,
            scale: f.scale,
            g2: f.g2,
            g2b: f.g2b,
            t: f.t,
            avg_u: f.avg_u,
            avg_q: f.avg_q,
            avg_b: f.avg_b,
            paired: f.paired,
            cells: f.cells,
            norm_sum: f.norm_sum,
        };
        if m.paired && m.cells.is_empty() && m.g2.len() == 2 * m.w.len() {
            m.cells = (0..m.w.len())
                .flat_map(|j| [m.w[j], m.g2[2 * j], m.g2[2 * j + 1], W::zero()])
                .collect();
            m.w = Vec::new();
            m.g2 = Vec::new();
        }
        m
    }
}

impl<W: Scalar> SgdModel<W> {
    /// Zero weights for `d` features.
    ///
    /// ```
    /// use steepest::linear::SgdModel;
    /// let m: SgdModel<f32> = SgdModel::new(3);
    /// assert_eq!(m.finish(false), (vec![0.0; 3], 0.0));
    /// ```
    pub fn new(d: usize) -> Self {
        Self {
            w: vec![W::zero(); d],
            b: 0.0,
            scale: 1.0,
            g2: Vec::new(),
            g2b: 0.0,
            t: 0,
            avg_u: Vec::new(),
            avg_q: 0.0,
            avg_b: 0.0,
            paired: false,
            cells: Vec::new(),
            norm_sum: 0.0,
        }
    }

    /// The number of features.
    ///
    /// ```
    /// use steepest::linear::SgdModel;
    /// assert_eq!(SgdModel::<f64>::new(4).dim(), 4);
    /// ```
    pub fn dim(&self) -> usize {
        if self.paired {
            self.cells.len() / 4
        } else {
            self.w.len()
        }
    }

    /// The stored weight of feature `j` (times the lazy scale).
    #[inline]
    fn weight(&self, j: usize) -> W {
        if self.paired {
            self.cells[4 * j]
        } else {
            self.w[j]
        }
    }

    /// The stored weights (times the lazy scale), from the cells or from `w`.
    fn stored_weights(&self) -> impl Iterator<Item = W> + '_ {
        let (from, stride) = if self.paired { (&self.cells, 4) } else { (&self.w, 1) };
        from.iter().step_by(stride).copied()
    }

    /// Invariant steps from now on (`true`: the weights move into cells with fresh sums) or
    /// not (the weights move out of the cells).
    fn set_paired(&mut self, paired: bool) {
        if paired && !self.paired {
            self.fold_scale();
            self.cells = self
                .w
                .iter()
                .flat_map(|&w| [w, W::zero(), W::zero(), W::zero()])
                .collect();
            self.w = Vec::new();
            self.g2 = Vec::new();
        } else if !paired && self.paired {
            self.w = self.stored_weights().collect();
            self.cells = Vec::new();
        }
        self.paired = paired;
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Widens the model to `d` features (new weights and AdaGrad sums 0): a stream meets its
    /// features as it goes. Never narrows.
    ///
    /// ```
    /// use steepest::linear::SgdModel;
    /// let mut m: SgdModel = SgdModel::new(2);
    /// m.grow(5);
    /// assert_eq!(m.dim(), 5);
    /// ```
    pub fn grow(&mut self, d: usize) {
        if d <= self.dim() {
            return;
        }
        if self.paired {
            self.cells.resize(4 * d, W::zero());
            return;
        }
        self.w.resize(d, W::zero());
        if !self.g2.is_empty() {
            self.g2.resize(d, W::zero());
        }
        if !self.avg_u.is_empty() {
            self.avg_u.resize(d, W::zero());
        }
    }

    /// Whether every weight and the intercept are finite.
    pub fn is_finite(&self) -> bool {
        self.b.is_finite() && self.scale.is_finite() && self.stored_weights().all(|w| w.as_f64().is_finite())
    }

    /// The decision value of a dense row.
    #[inline]
    fn dot_dense<T: Scalar>(&self, x: &[T]) -> f64 {
        let dot = match self.paired {
            true => x
                .iter()
                .zip(self.stored_weights())
                .map(|(x, w)| x.as_f64() * w.as_f64())
                .sum(),
            false => dense::dot(x, &self.w),
        };
        dot * self.scale + self.b
    }

    /// Every number the model carries between passes, with the lazy weight scale folded into
    /// the weights: `[w, b, G (AdaGrad), G_b, averaged w, averaged b]` (the arrays in use).
    /// Averaging this vector across models trained on shards (weighted by rows) and loading it
    /// back with [`SgdModel::load_state_vector`] is parameter averaging; the step counter stays.
    pub fn state_vector(&mut self) -> Vec<f64> {
        self.fold_scale();
        let avg = self.average();
        let d = self.dim();
        let mut v = Vec::with_capacity(3 * d + 4 + avg.len());
        if self.paired {
            // Weights, then (G_j, N_j) pairs.
            v.extend(self.stored_weights().map(|w| w.as_f64()));
            v.push(self.b);
            v.extend(self.cells.chunks(4).flat_map(|c| [c[1].as_f64(), c[2].as_f64()]));
        } else {
            v.extend(self.w.iter().map(|w| w.as_f64()));
            v.push(self.b);
            v.extend(self.g2.iter().map(|g| g.as_f64()));
        }
        v.push(self.g2b);
        v.extend(&avg);
        v.push(self.avg_b);
        if self.paired {
            v.push(self.norm_sum);
        }
        v
    }

    /// Sizes the AdaGrad sums and the lazy average that `cfg` needs on `x`; returns whether the
    /// pass averages.
    fn size_state<T: Scalar>(&mut self, cfg: &SgdConfig, x: &Features<T>) -> bool {
        let paired = cfg.adaptive && cfg.invariant;
        if paired != self.paired {
            // Fresh sums for the new kind of step, as when the sums did not fit.
            self.set_paired(paired);
            self.g2 = Vec::new();
        }
        if cfg.adaptive && !paired && self.g2.len() != self.w.len() {
            self.g2 = vec![W::zero(); self.w.len()];
        }
        let _ = x;
        let averaging = cfg.average;
        if averaging && self.avg_u.len() != self.w.len() {
            // The average starts now: t avg = 0 at this step count.
            self.fold_scale();
            self.avg_u = vec![W::zero(); self.w.len()];
            self.avg_q = 0.0;
        }
        averaging
    }

    /// Multiplies the lazy scale into the stored weights, and moves the lazy average's
    /// Q v term into u (so Q restarts at 0 and never grows with 1 / scale).
    fn fold_scale(&mut self) {
        if self.scale != 1.0 {
            let (s, q) = (self.scale, self.avg_q);
            self.avg_u
                .iter_mut()
                .zip(&self.w)
                .for_each(|(u, v)| *u = W::of(u.as_f64() + q * v.as_f64()));
            self.avg_q = 0.0;
            self.w.iter_mut().for_each(|v| *v = W::of(v.as_f64() * s));
            self.scale = 1.0;
        }
    }

    /// The averaged weights (empty when not averaging).
    fn average(&self) -> Vec<f64> {
        let k = 1.0 / self.t.max(1) as f64;
        let q = self.avg_q;
        self.avg_u
            .iter()
            .zip(&self.w)
            .map(|(u, v)| (u.as_f64() + q * v.as_f64()) * k)
            .collect()
    }

    /// Loads a vector laid out as [`SgdModel::state_vector`] gives.
    pub fn load_state_vector(&mut self, v: &[f64]) -> Result<()> {
        let d = self.dim();
        let (g, a) = (if self.paired { 2 * d } else { self.g2.len() }, self.avg_u.len());
        let nn = usize::from(self.paired);
        if v.len() != d + g + a + 3 + nn {
            return Err(Error::invalid(
                "sgd state",
                format!("{} values for a model of {} numbers", v.len(), d + g + a + 3 + nn),
            ));
        }
        self.scale = 1.0;
        if self.paired {
            for (j, c) in self.cells.chunks_mut(4).enumerate() {
                let at = d + 1 + 2 * j;
                c[..3].copy_from_slice(&[W::of(v[j]), W::of(v[at]), W::of(v[at + 1])]);
            }
        } else {
            self.w.iter_mut().zip(&v[..d]).for_each(|(w, &x)| *w = W::of(x));
            self.g2
                .iter_mut()
                .zip(&v[d + 1..d + 1 + g])
                .for_each(|(w, &x)| *w = W::of(x));
        }
        self.b = v[d];
        self.g2b = v[d + 1 + g];
        // u = t avg - Q v, so that the lazy average is the one given.
        let t = self.t as f64;
        for (j, a) in v[d + 2 + g..d + 2 + g + a].iter().enumerate() {
            self.avg_u[j] = W::of(t * a - self.avg_q * self.weight(j).as_f64());
        }
        self.avg_b = v[d + 2 + g + a];
        if nn > 0 {
            self.norm_sum = v[d + 3 + g + a];
        }
        Ok(())
    }

    /// Weights and intercept to predict with (the average, when averaging).
    pub fn finish(&self, average: bool) -> (Vec<f64>, f64) {
        if average && !self.avg_u.is_empty() {
            (self.average(), self.avg_b)
        } else {
            (self.stored_weights().map(|v| v.as_f64() * self.scale).collect(), self.b)
        }
    }
}

/// One pass of per-example SGD over `order` (row indices) of `x`.
pub fn sgd_pass<T: Scalar, W: Scalar>(
    m: &mut SgdModel<W>,
    x: &Features<T>,
    y: RowTargets<'_>,
    order: &[usize],
    cfg: &SgdConfig,
) -> Result<f64> {
    if cfg.loss.is_multiclass() {
        return Err(Error::invalid("sgd fast path", "needs a single-output loss"));
    }
    let k = PassConsts::check(std::slice::from_mut(m), x, cfg)?;
    let target = |r: usize| match y {
        RowTargets::Real(v) => Target::Real(v[r]),
        RowTargets::Class(c) => Target::Class(c[r]),
    };
    let mut total = 0.0;
    let mut dz = [0.0f64];
    let mut scratch = Vec::new();
    for (i, &r) in order.iter().enumerate() {
        prefetch_ahead(std::slice::from_ref(m), x, order, i);
        let z = margin(m, x, r);
        total += cfg.loss.eval(&[z], target(r), &mut dz);
        row_step(m, x, r, z, target(r), dz[0], cfg, &k, &mut scratch);
    }
    Ok(total / order.len().max(1) as f64)
}

/// One pass of per-example steps of the multinomial (softmax) loss over `order` of `x`, with
/// class targets `y`: each row's decision values z_c = w_c x + b_c of every class's model, the
/// loss ln sum_c exp(z_c) - z_y, then each model's step with its derivative p_c - [c = y]
/// (plain or AdaGrad, lazy L2 and averaging as in [`sgd_pass`]: the steps the general loop
/// takes with batch size 1, at O(classes x non-zeros) per row). Invariant steps are for
/// single-output losses.
pub fn softmax_pass<T: Scalar, W: Scalar>(
    models: &mut [SgdModel<W>],
    x: &Features<T>,
    y: &[usize],
    order: &[usize],
    cfg: &SgdConfig,
) -> Result<f64> {
    if cfg.loss != LinearLoss::Multinomial || cfg.invariant {
        return Err(Error::invalid(
            "softmax fast path",
            "needs the multinomial loss, with plain or AdaGrad steps",
        ));
    }
    let k = PassConsts::check(models, x, cfg)?;
    let mut total = 0.0;
    let (mut z, mut dz) = (vec![0.0f64; models.len()], vec![0.0f64; models.len()]);
    let mut scratch = Vec::new();
    for (i, &r) in order.iter().enumerate() {
        let c = y[r];
        if c >= models.len() {
            return Err(Error::invalid(
                "softmax fast path",
                format!("class {c} of row {r} is not below {}", models.len()),
            ));
        }
        prefetch_ahead(models, x, order, i);
        for (zj, m) in z.iter_mut().zip(models.iter()) {
            *zj = margin(m, x, r);
        }
        total += cfg.loss.eval(&z, Target::Class(c), &mut dz);
        for ((m, &zj), &d) in models.iter_mut().zip(&z).zip(&dz) {
            row_step(m, x, r, zj, Target::Class(c), d, cfg, &k, &mut scratch);
        }
    }
    Ok(total / order.len().max(1) as f64)
}

/// What every step of a pass shares.
struct PassConsts {
    averaging: bool,
    alpha: f64,
    /// t0 of the "optimal" schedule.
    t0: f64,
    /// The adaptive steps' base rate.
    eta0: f64,
}

impl PassConsts {
    /// Checks `cfg` against the models and `x`, sizes the models' state for it.
    fn check<T: Scalar, W: Scalar>(models: &mut [SgdModel<W>], x: &Features<T>, cfg: &SgdConfig) -> Result<Self> {
        if cfg.invariant && (cfg.average || cfg.alpha != 0.0 || !cfg.adaptive) {
            return Err(Error::invalid(
                "sgd fast path",
                "invariant steps are adaptive, without averaging or an L2 term",
            ));
        }
        let mut averaging = cfg.average;
        for m in models.iter_mut() {
            if x.cols() != m.dim() {
                return Err(Error::shapes("sgd fast path", &[x.cols()], &[m.dim()]));
            }
            averaging = m.size_state(cfg, x);
        }
        let alpha = cfg.alpha;
        let t0 = if alpha > 0.0 {
            1.0 / ((1.0 / alpha.sqrt()).sqrt() * alpha)
        } else {
            1.0
        };
        Ok(Self {
            averaging,
            alpha,
            t0,
            eta0: cfg.eta.unwrap_or(0.5),
        })
    }
}

/// Asks for the memory of row `order[i + ahead]` and the weights it touches in every model
/// (the row itself once).
#[inline(always)]
fn prefetch_ahead<T: Scalar, W: Scalar>(models: &[SgdModel<W>], x: &Features<T>, order: &[usize], i: usize) {
    // The step of each row waits on the previous one, so the memory system gets no help
    // from out-of-order execution: ask for a row a few steps ahead.
    match x {
        Features::Dense(t) => {
            if let Some(&ahead) = order.get(i + PREFETCH_ROWS) {
                prefetch(t.row(ahead));
            }
        }
        Features::Sparse(s) => {
            // The row's indices and values twice as far ahead, then the weights (and
            // AdaGrad sums) they point at, whose indices are in the cache by then.
            if let Some(&far) = order.get(i + 2 * SPARSE_AHEAD) {
                let (idx, val) = s.row(far);
                prefetch(idx);
                prefetch(val);
            }
            if let Some(&ahead) = order.get(i + SPARSE_AHEAD) {
                let (idx, _) = s.row(ahead);
                for m in models {
                    for &j in idx {
                        let j = j as usize;
                        if m.paired {
                            prefetch(std::slice::from_ref(&m.cells[4 * j]));
                        } else {
                            prefetch(std::slice::from_ref(&m.w[j]));
                            if let Some(g) = m.g2.get(j) {
                                prefetch(std::slice::from_ref(g));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The decision value of row `r`: w x + b, with the lazy scale.
#[inline(always)]
fn margin<T: Scalar, W: Scalar>(m: &SgdModel<W>, x: &Features<T>, r: usize) -> f64 {
    match x {
        Features::Dense(t) => m.dot_dense(t.row(r)),
        Features::Sparse(s) => {
            let (idx, val) = s.row(r);
            let dot: f64 = match m.paired {
                true => idx
                    .iter()
                    .zip(val)
                    .map(|(&j, v)| v.as_f64() * m.cells[4 * j as usize].as_f64())
                    .sum(),
                false => idx
                    .iter()
                    .zip(val)
                    .map(|(&j, v)| v.as_f64() * m.w[j as usize].as_f64())
                    .sum(),
            };
            dot * m.scale + m.b
        }
    }
}

/// The step of row `r` (decision value `z`, loss derivative `d`) on `m`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_step<T: Scalar, W: Scalar>(
    m: &mut SgdModel<W>,
    x: &Features<T>,
    r: usize,
    z: f64,
    target: Target,
    d: f64,
    cfg: &SgdConfig,
    k: &PassConsts,
    scratch: &mut Vec<(usize, f64, f64)>,
) {
    let (averaging, alpha, t0, eta0) = (k.averaging, k.alpha, k.t0, k.eta0);
    m.t += 1;
    if cfg.adaptive && cfg.invariant {
        if d != 0.0 {
            invariant_step(m, x, r, z, target, d, cfg, scratch);
        }
    } else if cfg.adaptive {
        // AdaGrad per feature; the L2 term enters the gradient of the touched features.
        // A change Delta of v adds Q Delta to the lazy average's u.
        let q = m.avg_q;
        let step = |j: usize, xv: f64, w: &mut [W], g2: &mut [W]| -> f64 {
            let g = d * xv + alpha * w[j].as_f64();
            if g != 0.0 {
                let g2j = g2[j].as_f64() + g * g;
                g2[j] = W::of(g2j);
                let delta = eta0 * g / (g2j.sqrt() + cfg.eps);
                w[j] = W::of(w[j].as_f64() - delta);
                delta
            } else {
                0.0
            }
        };
        match x {
            Features::Dense(t) => {
                for (j, v) in t.row(r).iter().enumerate() {
                    let delta = step(j, v.as_f64(), &mut m.w, &mut m.g2);
                    if averaging {
                        m.avg_u[j] = W::of(m.avg_u[j].as_f64() + q * delta);
                    }
                }
            }
            Features::Sparse(s) => {
                let (idx, val) = s.row(r);
                for (&j, v) in idx.iter().zip(val) {
                    let delta = step(j as usize, v.as_f64(), &mut m.w, &mut m.g2);
                    if averaging {
                        m.avg_u[j as usize] = W::of(m.avg_u[j as usize].as_f64() + q * delta);
                    }
                }
            }
        }
        if d != 0.0 {
            m.g2b += d * d;
            m.b -= eta0 * d / (m.g2b.sqrt() + cfg.eps);
        }
    } else {
        let eta = match cfg.eta {
            Some(e) => e,
            None => 1.0 / (alpha.max(1e-12) * (t0 + m.t as f64 - 1.0)),
        };
        if alpha > 0.0 {
            m.scale *= 1.0 - (eta * alpha).min(0.999_999);
            // Folded early enough that t avg = u + Q v loses no digits to cancellation.
            if m.scale < 1e-6 {
                m.fold_scale();
            }
        }
        if d != 0.0 {
            let c = eta * d / m.scale;
            match x {
                // v -= c x, and u += Q c x for the lazy average, in one loop.
                Features::Dense(t) if averaging => dense::axpy2(-c, t.row(r), &mut m.w, m.avg_q * c, &mut m.avg_u),
                Features::Dense(t) => dense::axpy(-c, t.row(r), &mut m.w),
                Features::Sparse(s) if averaging => {
                    let (idx, val) = s.row(r);
                    let cq = m.avg_q * c;
                    idx.iter().zip(val).for_each(|(&j, v)| {
                        let j = j as usize;
                        m.w[j] = W::of(m.w[j].as_f64() - c * v.as_f64());
                        m.avg_u[j] = W::of(m.avg_u[j].as_f64() + cq * v.as_f64());
                    });
                }
                Features::Sparse(s) => {
                    let (idx, val) = s.row(r);
                    idx.iter().zip(val).for_each(|(&j, v)| {
                        let w = &mut m.w[j as usize];
                        *w = W::of(w.as_f64() - c * v.as_f64());
                    });
                }
            }
            m.b -= eta * d;
        }
    }
    if averaging {
        m.avg_q += m.scale;
        m.avg_b += (m.b - m.avg_b) / m.t as f64;
    }
}

/// One normalized, importance-invariant AdaGrad step on row `r` (see
/// [`crate::optim::Invariant`]): the sums G take the row's gradient (d x_j, and d for the
/// intercept), each feature's rate is r_j = 1 / ((sqrt(G_j) + eps) N_j) (N_j the largest |x_j|
/// seen), h = sum x_j^2 r_j + r_b, the decision value moves from `z` to the end of its flow over
/// rate lr sqrt(t / sum_steps ||x||_N^2) h, and each weight takes its share: w_j -= s x_j r_j
/// with s h = z - z_new.
#[allow(clippy::too_many_arguments)]
fn invariant_step<T: Scalar, W: Scalar>(
    m: &mut SgdModel<W>,
    x: &Features<T>,
    r: usize,
    z: f64,
    target: Target,
    d: f64,
    cfg: &SgdConfig,
    scratch: &mut Vec<(usize, f64, f64)>,
) {
    let eta = cfg.eta.unwrap_or(0.5);
    let eps = cfg.eps;
    // The row's non-zeros as (feature, value, rate r_j), after the sums and scales take them.
    scratch.clear();
    match x {
        Features::Dense(t) => scratch.extend(
            t.row(r)
                .iter()
                .enumerate()
                .map(|(j, v)| (j, v.as_f64(), 0.0))
                .filter(|e| e.1 != 0.0),
        ),
        Features::Sparse(s) => {
            let (idx, val) = s.row(r);
            scratch.extend(
                idx.iter()
                    .zip(val)
                    .map(|(&j, v)| (j as usize, v.as_f64(), 0.0))
                    .filter(|e| e.1 != 0.0),
            );
        }
    }
    // Normalization: N_j grows to the largest |x_j| seen (a weight learned at a smaller scale is
    // rescaled by N_old / N_new), and the rate is multiplied by sqrt(t / sum of ||x||_N^2).
    let mut norm_x = 1.0; // the constant, whose scale is 1
    let mut h = 0.0;
    for e in scratch.iter_mut() {
        let (j, v) = (e.0, e.1);
        let cell = &mut m.cells[4 * j..4 * j + 3];
        let (a, n_old) = (v.abs(), cell[2].as_f64());
        let n = if a > n_old {
            if n_old > 0.0 {
                cell[0] = W::of(cell[0].as_f64() * n_old / a);
            }
            cell[2] = W::of(a);
            a
        } else {
            n_old
        };
        norm_x += (v / n) * (v / n);
        let g2 = cell[1].as_f64() + (d * v) * (d * v);
        cell[1] = W::of(g2);
        e.2 = 1.0 / ((g2.sqrt() + eps) * n);
        h += v * v * e.2;
    }
    m.g2b += d * d;
    m.norm_sum += norm_x;
    let hb = 1.0 / (m.g2b.sqrt() + eps);
    h += hb;
    let rate = eta * (m.t as f64 / m.norm_sum).sqrt() * h;
    let z_new = match (cfg.loss, target) {
        (LinearLoss::Squared, Target::Real(y)) => y + (z - y) * (-rate).exp(),
        (LinearLoss::Log, Target::Class(c)) | (LinearLoss::Hinge, Target::Class(c)) => {
            let y = if c == 1 { 1.0 } else { -1.0 };
            let u0 = y * z;
            let u = match cfg.loss {
                LinearLoss::Hinge => (u0 + rate).min(1.0).max(u0),
                // u + e^u = u0 + e^u0 + rate: u = ln W(e^c), W the Lambert function.
                _ if u0 < 30.0 => lambert_w_of_exp(u0 + u0.exp() + rate).ln(),
                // The derivative is below 1e-13: the flow is the plain step.
                _ => u0 - rate * d * y,
            };
            y * u
        }
        _ => z - rate * d,
    };
    let s = (z - z_new) / h;
    if !s.is_finite() || s == 0.0 {
        return;
    }
    for &(j, v, rj) in scratch.iter() {
        let w = &mut m.cells[4 * j];
        *w = W::of(w.as_f64() - s * v * rj);
    }
    m.b -= s * hb;
}

/// W(e^c), the Lambert function at e^c: the w > 0 with w + ln w = c (Newton's method from
/// c - ln c above 1, e^c below, where W(x) is about x; it converges quadratically, within
/// eight steps to f64 precision).
fn lambert_w_of_exp(c: f64) -> f64 {
    let mut w = if c > 1.0 { c - c.ln() } else { c.exp() };
    for _ in 0..8 {
        // Halley's step on f(w) = w + ln w - c (f' = (w + 1) / w, f'' = -1 / w^2):
        // w - 2 f f' / (2 f'^2 - f f'') = w - 2 f w (w + 1) / (2 (w + 1)^2 + f), cubic.
        let f = w + w.ln() - c;
        let next = (w - 2.0 * f * w * (w + 1.0) / (2.0 * (w + 1.0) * (w + 1.0) + f)).max(f64::MIN_POSITIVE);
        let done = (next - w).abs() <= 1e-15 * w;
        w = next;
        if done {
            break;
        }
    }
    w
}

/// One pass over `order` on `threads` cores by parameter mixing: the rows are cut into
/// `threads` contiguous blocks, a copy of `m` takes the per-example steps of [`sgd_pass`] over
/// each block, and `m` becomes the row-weighted average of the copies (weights, AdaGrad sums
/// and averaged weights; iterative parameter mixing, McDonald, Hall and Mann 2010). The result
/// depends on `threads` but not on timing: it is deterministic. With one thread it is
/// [`sgd_pass`]. Returns the mean loss over the rows.
pub fn sgd_pass_parallel<T: Scalar, W: Scalar>(
    m: &mut SgdModel<W>,
    x: &Features<T>,
    y: RowTargets<'_>,
    order: &[usize],
    cfg: &SgdConfig,
    threads: usize,
) -> Result<f64> {
    let threads = threads.clamp(1, order.len().max(1));
    if threads == 1 {
        return sgd_pass(m, x, y, order, cfg);
    }
    // Sized before the copies, so that their state vectors fit `m`.
    m.size_state(cfg, x);
    let block = order.len().div_ceil(threads);
    let results: Vec<Result<(SgdModel<W>, f64, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = order
            .chunks(block)
            .map(|rows| {
                let mut copy = m.clone();
                s.spawn(move || {
                    let loss = sgd_pass(&mut copy, x, y, rows, cfg)?;
                    Ok((copy, loss, rows.len()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::invalid("sgd", "a worker thread panicked")))
            })
            .collect()
    });
    let (mut sum, mut loss, mut steps) = (Vec::new(), 0.0, m.t);
    for r in results {
        let (mut copy, l, rows) = r?;
        let k = rows as f64 / order.len() as f64;
        let v = copy.state_vector();
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        sum.iter_mut().zip(&v).for_each(|(a, b)| *a += k * b);
        loss += k * l;
        steps = steps.max(copy.t);
    }
    m.fold_scale();
    m.t = steps;
    m.load_state_vector(&sum)?;
    Ok(loss)
}

/// Iterative parameter mixing (McDonald, Hall and Mann 2010): every rank's `models` replaced by
/// the average over ranks of their state vectors ([`SgdModel::state_vector`]), weighted by
/// each rank's `rows`; also sums `loss_sum` (this rank's summed loss) and `rows`. Returns the
/// mean loss over all ranks' rows, the same on every rank. Every rank must call it with models
/// of the same shapes.
pub fn mix_models<W: Scalar>(
    comm: &mut dyn crate::collective::Communicator,
    models: &mut [SgdModel<W>],
    rows: usize,
    loss_sum: f64,
) -> Result<f64> {
    let n = rows as f64;
    let mut state: Vec<f64> = Vec::new();
    let mut lens = Vec::with_capacity(models.len());
    for m in models.iter_mut() {
        let v = m.state_vector();
        lens.push(v.len());
        state.extend(v.iter().map(|x| x * n));
    }
    state.push(loss_sum);
    state.push(n);
    comm.allreduce_sum_f64(&mut state)?;
    let total = state.pop().unwrap_or(0.0);
    let loss = state.pop().unwrap_or(0.0);
    if total <= 0.0 {
        return Err(Error::invalid("distributed sgd", "no rows on any rank"));
    }
    state.iter_mut().for_each(|v| *v /= total);
    let mut at = 0;
    for (m, len) in models.iter_mut().zip(lens) {
        m.load_state_vector(&state[at..at + len])?;
        at += len;
    }
    Ok(loss / total)
}

/// How many rows ahead [`sgd_pass`] prefetches (dense rows; measured on W2, 2 to 16).
const PREFETCH_ROWS: usize = 4;

/// How many rows ahead [`sgd_pass`] prefetches the weights of sparse rows (measured on W3).
const SPARSE_AHEAD: usize = 4;

/// The dense inner loops (arithmetic in f64), compiled for AVX2 with FMA and
/// for the baseline target, chosen at run time.
mod dense {
    use crate::tensor::Scalar;

    macro_rules! kernels {
        ($($attr:meta)?) => {
            $(#[$attr])?
            #[inline]
            pub(super) unsafe fn dot_k<T: Scalar, W: Scalar>(x: &[T], w: &[W]) -> f64 {
                // 16 partial sums in f64: independent FMA chains, so their latency overlaps.
                let mut acc = [0.0f64; 16];
                let n = x.len() / 16 * 16;
                for (xc, wc) in x[..n].chunks_exact(16).zip(w[..n].chunks_exact(16)) {
                    for k in 0..16 {
                        acc[k] = xc[k].as_f64().mul_add(wc[k].as_f64(), acc[k]);
                    }
                }
                let mut s = acc.iter().sum::<f64>();
                for i in n..x.len() {
                    s += x[i].as_f64() * w[i].as_f64();
                }
                s
            }
            $(#[$attr])?
            #[inline]
            pub(super) unsafe fn axpy_k<T: Scalar, W: Scalar>(c: f64, x: &[T], w: &mut [W]) {
                w.iter_mut().zip(x).for_each(|(w, v)| *w = W::of(v.as_f64().mul_add(c, w.as_f64())));
            }
            $(#[$attr])?
            #[inline]
            pub(super) unsafe fn axpy2_k<T: Scalar, W: Scalar>(c: f64, x: &[T], w: &mut [W], c2: f64, u: &mut [W]) {
                for ((w, u), v) in w.iter_mut().zip(u.iter_mut()).zip(x) {
                    let v = v.as_f64();
                    *w = W::of(v.mul_add(c, w.as_f64()));
                    *u = W::of(v.mul_add(c2, u.as_f64()));
                }
            }
        };
    }

    mod avx2 {
        use crate::tensor::Scalar;
        kernels!(target_feature(enable = "avx2,fma"));
    }
    mod base {
        use crate::tensor::Scalar;
        kernels!();
    }

    /// Whether the CPU has AVX2 and FMA. (An AVX-512 version measured slower on W2's 100-wide
    /// rows.)
    fn has_avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// x . w (in f64).
    pub(super) fn dot<T: Scalar, W: Scalar>(x: &[T], w: &[W]) -> f64 {
        // SAFETY: each version runs only where the CPU has the features it was compiled for.
        unsafe {
            if has_avx2() {
                avx2::dot_k(x, w)
            } else {
                base::dot_k(x, w)
            }
        }
    }

    /// w <- w + c x.
    pub(super) fn axpy<T: Scalar, W: Scalar>(c: f64, x: &[T], w: &mut [W]) {
        // SAFETY: as in `dot`.
        unsafe {
            if has_avx2() {
                avx2::axpy_k(c, x, w)
            } else {
                base::axpy_k(c, x, w)
            }
        }
    }

    /// w <- w + c x and u <- u + c2 x.
    pub(super) fn axpy2<T: Scalar, W: Scalar>(c: f64, x: &[T], w: &mut [W], c2: f64, u: &mut [W]) {
        // SAFETY: as in `dot`.
        unsafe {
            if has_avx2() {
                avx2::axpy2_k(c, x, w, c2, u)
            } else {
                base::axpy2_k(c, x, w, c2, u)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lambert_w_of_exp;

    /// W(e^c) solves w + ln w = c: checked on c from -700 to 1e12 (the flow's range), to a
    /// few units in the last place of c.
    #[test]
    fn lambert_w_of_exp_solves_its_equation() {
        let mut c = -700.0f64;
        let mut checked = 0;
        while c < 1e12 {
            let w = lambert_w_of_exp(c);
            assert!(w > 0.0 && w.is_finite(), "c = {c}: w = {w}");
            let residual = (w + w.ln() - c).abs();
            assert!(
                residual <= 8.0 * f64::EPSILON * c.abs().max(1.0),
                "c = {c}: residual {residual}"
            );
            c = if c < -1.0 {
                c * 0.9
            } else if c < 1.0 {
                c + 0.01
            } else {
                c * 1.1
            };
            checked += 1;
        }
        assert!(checked > 300);
    }
}
