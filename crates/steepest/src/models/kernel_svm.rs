//! The exact kernel SVM, trained in the primal by Newton's method (O. Chapelle, "Training a
//! Support Vector Machine in the Primal", Neural Computation 19, 2007).
//!
//! Binary problem, labels y_i = +-1, kernel matrix K over the n training rows: the decision
//! function is f(x) = sum_i beta_i k(x_i, x) + b, and (beta, b) minimize
//!
//! 1/2 beta' K beta + C sum_i max(0, 1 - y_i f(x_i))^2
//!
//! (the squared hinge; libsvm's `SVC` minimizes the hinge, so the two agree on all but points
//! near the margin). Each Newton step solves, over the rows S with y_i f(x_i) < 1,
//! (K_SS + I / (2C)) beta_S + b 1 = y_S with 1' beta_S = 0 (beta is zero off S), through a
//! Cholesky factorization, until S stops changing (or the objective stops falling).
//! Multi-class: one-vs-one (libsvm's way): a binary model per pair of classes on their rows,
//! and a vote (ties go to the lower class index).
//!
//! The kernel matrix is n x n in f64, so this is for data up to some tens of thousands of rows;
//! a larger request is refused by the memory budget with a pointer to the approximations.

use super::linear::ClassWeight;
use super::platt::{couple, Sigmoid};
use super::predict::Predictor;
use crate::data::{Dataset, Features, Scaler, ScalerKind, Targets};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{Scalar, Tensor};
use crate::train::{EpochRecord, History};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// A kernel with its parameters resolved.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Kernel {
    /// k(x, z) = x.z
    Linear,
    /// k(x, z) = exp(-gamma |x - z|^2)
    Rbf {
        /// Width.
        gamma: f64,
    },
    /// k(x, z) = (gamma x.z + coef0)^degree
    Poly {
        /// Scale of the dot product.
        gamma: f64,
        /// Degree.
        degree: u32,
        /// Constant term.
        coef0: f64,
    },
    /// k(x, z) = tanh(gamma x.z + coef0)
    Sigmoid {
        /// Scale of the dot product.
        gamma: f64,
        /// Constant term.
        coef0: f64,
    },
}

impl Kernel {
    /// k from the dot product and the squared norms of the two points.
    fn of(&self, dot: f64, sq_x: f64, sq_z: f64) -> f64 {
        match *self {
            Kernel::Linear => dot,
            Kernel::Rbf { gamma } => (-gamma * (sq_x + sq_z - 2.0 * dot).max(0.0)).exp(),
            Kernel::Poly { gamma, degree, coef0 } => (gamma * dot + coef0).powi(degree as i32),
            Kernel::Sigmoid { gamma, coef0 } => (gamma * dot + coef0).tanh(),
        }
    }

    /// The kernel matrix `[a.rows, b.rows]` between the rows of `a` and of `b` (dense, the same
    /// width), through one matrix product of their dot products.
    pub fn matrix<T: Scalar>(&self, a: &Tensor<T>, b: &Tensor<T>) -> Result<DMatrix<f64>> {
        let dots: Tensor<f64> = a.cast::<f64>().matmul_t(&b.cast::<f64>(), false, true)?;
        let sq = |t: &Tensor<T>| -> Vec<f64> {
            (0..t.rows_count())
                .map(|r| t.row(r).iter().map(|v| v.as_f64() * v.as_f64()).sum())
                .collect()
        };
        let (sa, sb) = (sq(a), sq(b));
        let (n, m) = (a.rows_count(), b.rows_count());
        let d = dots.data();
        Ok(DMatrix::from_fn(n, m, |i, j| self.of(d[i * m + j], sa[i], sb[j])))
    }
}

/// The kernel width: a number, or scikit-learn's `scale` (1 / (features var(X)), the variance
/// over every element of the training features) or `auto` (1 / features).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gamma {
    /// 1 / (features * var(X)).
    Scale,
    /// 1 / features.
    Auto,
    /// This value.
    Value(f64),
}

/// Which kernel (its parameters come from [`KernelSvmParams`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelName {
    /// Radial basis function.
    Rbf,
    /// Polynomial.
    Poly,
    /// Hyperbolic tangent.
    Sigmoid,
    /// Dot product.
    Linear,
}

impl KernelName {
    /// Parses `rbf`, `poly`, `sigmoid` or `linear`.
    pub fn parse(s: &str) -> Result<KernelName> {
        match s {
            "rbf" => Ok(KernelName::Rbf),
            "poly" | "polynomial" => Ok(KernelName::Poly),
            "sigmoid" => Ok(KernelName::Sigmoid),
            "linear" => Ok(KernelName::Linear),
            _ => Err(Error::invalid(
                "kernel",
                format!("unknown kernel '{s}' (rbf, poly, sigmoid, linear)"),
            )),
        }
    }
}

/// The settings of the exact kernel SVM. Defaults as scikit-learn's `SVC()`: RBF, gamma
/// `scale`, C = 1, degree 3, coef0 0; features standardized (Steepest's default scaling).
///
/// ```
/// use steepest::data::embedded;
/// use steepest::models::{KernelSvmParams, Predictor};
/// let data = embedded::iris::<f64>()?;
/// let m = KernelSvmParams::default().check()?.fit(&data)?;
/// assert!(m.score(&data)? > 0.95);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KernelSvmParams {
    /// The kernel.
    pub kernel: KernelName,
    /// Its width (RBF, poly, sigmoid).
    pub gamma: Gamma,
    /// Degree of the polynomial kernel.
    pub degree: u32,
    /// Constant term of the polynomial and sigmoid kernels.
    pub coef0: f64,
    /// The weight of the loss against the margin (scikit-learn's `C`).
    pub c: f64,
    /// Feature scaling before the kernel.
    pub scaler: ScalerKind,
    /// Most Newton steps per binary problem.
    pub max_iter: usize,
    /// Width h of the smoothed hinge (0: the squared hinge) (default 0.001).
    pub smoothing: f64,
    /// Per-class weights multiplying C (scikit-learn's `class_weight`).
    pub class_weight: ClassWeight,
    /// Fit Platt's sigmoids for probabilities (scikit-learn's `probability=True`): each pair's
    /// decision values from a 5-fold cross-validation on its rows, so about 5 more fits.
    pub probability: bool,
}

impl Default for KernelSvmParams {
    fn default() -> Self {
        KernelSvmParams {
            kernel: KernelName::Rbf,
            gamma: Gamma::Scale,
            degree: 3,
            coef0: 0.0,
            c: 1.0,
            scaler: ScalerKind::Standard,
            max_iter: 100,
            smoothing: 0.001,
            class_weight: ClassWeight::Uniform,
            probability: false,
        }
    }
}

impl KernelSvmParams {
    /// Checks the settings: C > 0, a given gamma > 0, degree >= 1.
    pub fn check(self) -> Result<ValidKernelSvmParams> {
        if !(self.c > 0.0 && self.c.is_finite()) {
            return Err(Error::invalid(
                "svm",
                format!("C = {} must be a finite number > 0", self.c),
            ));
        }
        if let Gamma::Value(g) = self.gamma {
            if !(g > 0.0 && g.is_finite()) {
                return Err(Error::invalid(
                    "svm",
                    format!("gamma = {g} must be a finite number > 0"),
                ));
            }
        }
        if self.degree == 0 || !self.coef0.is_finite() || self.max_iter == 0 {
            return Err(Error::invalid(
                "svm",
                "the kernel degree and max_iter must be at least 1, coef0 finite",
            ));
        }
        Ok(ValidKernelSvmParams(self))
    }
}

/// Checked [`KernelSvmParams`], ready to fit.
#[derive(Clone, Debug)]
pub struct ValidKernelSvmParams(KernelSvmParams);

/// The loss of a row at margin t = y f(x), with smoothing width `h`: 0 for t > 1 + h,
/// (1 + h - t)^2 / (4h) for |1 - t| <= h, 1 - t below (the hinge, Huber-smoothed); `h` = 0
/// means the squared hinge max(0, 1 - t)^2.
fn row_loss(t: f64, h: f64) -> f64 {
    if h == 0.0 {
        (1.0 - t).max(0.0).powi(2)
    } else if t > 1.0 + h {
        0.0
    } else if t >= 1.0 - h {
        (1.0 + h - t).powi(2) / (4.0 * h)
    } else {
        1.0 - t
    }
}

/// Newton's method on one binary problem over kernel matrix `k` and labels `y` (+-1), loss
/// [`row_loss`] with width `h`: returns (beta, b, steps, objective). The width shrinks from 0.5
/// to `h` by factors of 10, each stage starting from the last one's solution (a narrow band
/// from a cold start makes Newton's steps overshoot).
///
/// With Q the rows in the quadratic part and L those in the linear part (h > 0), stationarity
/// gives beta_L = C y_L and (K_QQ + s I) beta_Q + b 1 = r y_Q - K_QL beta_L with
/// 1' beta_Q = -1' beta_L, where s = 2h / C and r = 1 + h (squared hinge: s = 1 / (2C), r = 1,
/// no L); beta is zero elsewhere. Each step solves that system on the current parts (the
/// minimizer of the objective's local quadratic model), then a backtracking line search along
/// it keeps every step a decrease (f is linear in beta and b).
fn solve_binary(
    k: &DMatrix<f64>,
    y: &[f64],
    c: &[f64],
    h: f64,
    max_iter: usize,
) -> Result<(Vec<f64>, f64, usize, f64)> {
    let mut widths = Vec::new();
    if h > 0.0 {
        let mut w = 0.5f64.max(h);
        while w > h * 1.0001 {
            widths.push(w);
            w /= 10.0;
        }
    }
    widths.push(h);
    let n = y.len();
    let (mut beta, mut b, mut f) = (vec![0.0; n], 0.0, vec![0.0; n]);
    let (mut steps, mut obj) = (0, f64::INFINITY);
    for (stage, &w) in widths.iter().enumerate() {
        let warm = stage > 0;
        let r = newton_stage(k, y, c, w, max_iter, warm, (beta, b, f))?;
        (beta, b, f) = (r.0, r.1, r.2);
        steps += r.3;
        obj = r.4;
    }
    Ok((beta, b, steps, obj))
}

/// One width's Newton iterations from (beta, b, f) (a cold start puts every row in the
/// quadratic part): (beta, b, f, steps, objective).
#[allow(clippy::type_complexity)]
fn newton_stage(
    k: &DMatrix<f64>,
    y: &[f64],
    c: &[f64],
    h: f64,
    max_iter: usize,
    warm: bool,
    start: (Vec<f64>, f64, Vec<f64>),
) -> Result<(Vec<f64>, f64, Vec<f64>, usize, f64)> {
    let n = y.len();
    // Per row: s_i = 1 / (2 C_i) (squared hinge) or 2h / C_i, C_i = C times the row's class weight.
    let (s, r): (Vec<f64>, f64) = if h == 0.0 {
        (c.iter().map(|c| 0.5 / c).collect(), 1.0)
    } else {
        (c.iter().map(|c| 2.0 * h / c).collect(), 1.0 + h)
    };
    // With f = K beta + b, beta' K beta = beta' (f - b): the objective costs O(n), no product.
    let objective = |beta: &[f64], f: &[f64], b: f64| -> f64 {
        0.5 * beta.iter().zip(f).map(|(a, f)| a * (f - b)).sum::<f64>()
            + y.iter()
                .zip(f)
                .zip(c)
                .map(|((y, f), c)| c * row_loss(y * f, h))
                .sum::<f64>()
    };
    let parts = |f: &[f64]| -> (Vec<usize>, Vec<usize>) {
        if h == 0.0 {
            ((0..n).filter(|&i| y[i] * f[i] < 1.0).collect(), Vec::new())
        } else {
            (
                (0..n).filter(|&i| (1.0 - y[i] * f[i]).abs() <= h).collect(),
                (0..n).filter(|&i| y[i] * f[i] < 1.0 - h).collect(),
            )
        }
    };
    let (mut beta, mut b, mut f) = start;
    let (mut quad, mut lin) = if warm {
        parts(&f)
    } else {
        ((0..n).collect(), Vec::new())
    };
    let mut best = if warm { objective(&beta, &f, b) } else { f64::INFINITY };
    let mut steps = 0;
    for _ in 0..max_iter {
        steps += 1;
        let mut beta_new = vec![0.0; n];
        for &i in &lin {
            beta_new[i] = c[i] * y[i];
        }
        let m = quad.len();
        let b_new = if m == 0 {
            b
        } else {
            let mut a = DMatrix::from_fn(m, m, |i, j| k[(quad[i], quad[j])]);
            for i in 0..m {
                a[(i, i)] += s[quad[i]];
            }
            let chol = a.cholesky().ok_or_else(|| {
                Error::invalid(
                    "svm",
                    "the kernel matrix is not positive semi-definite (sigmoid kernel?)",
                )
            })?;
            // K_QL beta_L through one product with beta (zero off L).
            let k_lin = k * DVector::from_column_slice(&beta_new);
            let rhs = DVector::from_iterator(m, quad.iter().map(|&i| r * y[i] - k_lin[i]));
            let u = chol.solve(&rhs);
            let v = chol.solve(&DVector::from_element(m, 1.0));
            let lin_sum: f64 = lin.iter().map(|&j| beta_new[j]).sum();
            // 1' (u - b v) = -lin_sum.
            let b_new = (u.sum() + lin_sum) / v.sum();
            let beta_q = &u - &v * b_new;
            for (q, &i) in quad.iter().enumerate() {
                beta_new[i] = beta_q[q];
            }
            b_new
        };
        let f_new: Vec<f64> = (k * DVector::from_column_slice(&beta_new))
            .iter()
            .map(|v| v + b_new)
            .collect();
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..50 {
            let bt: Vec<f64> = beta.iter().zip(&beta_new).map(|(a, n)| a + t * (n - a)).collect();
            let ft: Vec<f64> = match best.is_finite() {
                true => f.iter().zip(&f_new).map(|(a, n)| a + t * (n - a)).collect(),
                false => f_new.clone(),
            };
            let bb = b + t * (b_new - b);
            let obj = objective(&bt, &ft, bb);
            if !best.is_finite() || obj <= best {
                accepted = Some((bt, bb, ft, obj));
                break;
            }
            t *= 0.5;
        }
        let Some((bt, b_t, ft, obj)) = accepted else {
            break; // no decrease along the step: the optimum to the arithmetic's precision
        };
        let full = t == 1.0;
        best = obj;
        (beta, b, f) = (bt, b_t, ft);
        let (next_q, next_l) = parts(&f);
        // A full step that leaves the parts as they were has reached the minimizer.
        if full && next_q == quad && next_l == lin {
            break;
        }
        (quad, lin) = (next_q, next_l);
    }
    Ok((beta, b, f, steps, best))
}

impl ValidKernelSvmParams {
    /// The settings.
    pub fn params(&self) -> &KernelSvmParams {
        &self.0
    }

    /// Platt's sigmoid for one binary problem: decision values of each fifth of the rows from a
    /// model fitted on the other four fifths (rows i with i % 5 == fold), then the fit.
    fn platt(&self, k: &DMatrix<f64>, y: &[f64], c: &[f64]) -> Result<Sigmoid> {
        let p = &self.0;
        let n = y.len();
        let mut dec = vec![0.0; n];
        let folds = 5.min(n);
        for fold in 0..folds {
            let (train, held): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| i % folds != fold);
            let both = train.iter().any(|&i| y[i] > 0.0) && train.iter().any(|&i| y[i] < 0.0);
            if !both || held.is_empty() {
                // One class only: libsvm's rule, the decision says that class.
                let v = if train.iter().any(|&i| y[i] > 0.0) { 1.0 } else { -1.0 };
                held.iter().for_each(|&i| dec[i] = v);
                continue;
            }
            let sub = DMatrix::from_fn(train.len(), train.len(), |a, b| k[(train[a], train[b])]);
            let ys: Vec<f64> = train.iter().map(|&i| y[i]).collect();
            let cs: Vec<f64> = train.iter().map(|&i| c[i]).collect();
            let (beta, b, _, _) = solve_binary(&sub, &ys, &cs, p.smoothing, p.max_iter)?;
            for &i in &held {
                dec[i] = train.iter().zip(&beta).map(|(&j, bj)| k[(i, j)] * bj).sum::<f64>() + b;
            }
        }
        let positive: Vec<bool> = y.iter().map(|&v| v > 0.0).collect();
        Ok(Sigmoid::fit(&dec, &positive))
    }

    /// Checks that the kernel matrices of `rows` training rows fit the memory budget.
    pub fn check_memory(&self, rows: usize) -> Result<()> {
        let n = rows as u128;
        crate::memory::ensure(
            &format!("the exact kernel SVM on {rows} rows (an n x n kernel matrix)"),
            n * n * 8 * 2,
            "; for large data use an approximation (--model rbf-svm: random Fourier features)",
        )
    }

    /// Fits on `data` (classes).
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<FittedKernelSvm<T>> {
        let p = &self.0;
        let Targets::Classes { labels, names } = &data.targets else {
            return Err(Error::invalid(
                "svm",
                "the kernel SVM classifies: the targets are values",
            ));
        };
        if names.len() < 2 {
            return Err(Error::invalid("svm", "classification needs at least 2 classes"));
        }
        data.check_finite("training data")?;
        self.check_memory(data.rows())?;
        let scaler = Scaler::fit(p.scaler, &data.features)?;
        let Features::Dense(x) = scaler.transform(&data.features)? else {
            return Err(Error::invalid("svm", "the exact kernel SVM needs dense features"));
        };
        let d = x.row_len().max(1) as f64;
        let gamma = match p.gamma {
            Gamma::Value(g) => g,
            Gamma::Auto => 1.0 / d,
            Gamma::Scale => {
                let v: Vec<f64> = x.data().iter().map(|v| v.as_f64()).collect();
                let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
                let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len().max(1) as f64;
                if var > 0.0 {
                    1.0 / (d * var)
                } else {
                    1.0
                }
            }
        };
        let kernel = match p.kernel {
            KernelName::Rbf => Kernel::Rbf { gamma },
            KernelName::Poly => Kernel::Poly {
                gamma,
                degree: p.degree,
                coef0: p.coef0,
            },
            KernelName::Sigmoid => Kernel::Sigmoid { gamma, coef0: p.coef0 },
            KernelName::Linear => Kernel::Linear,
        };
        let t0 = std::time::Instant::now();
        let k_all = kernel.matrix(&x, &x)?;
        let classes = names.len();
        // Class weights (scikit-learn's: balanced is rows / (classes * rows of the class)).
        let weights: Vec<f64> = match &p.class_weight {
            ClassWeight::Uniform => vec![1.0; classes],
            ClassWeight::Balanced => {
                let mut count = vec![0.0f64; classes];
                labels.iter().for_each(|&l| count[l] += 1.0);
                let n = labels.len() as f64;
                count
                    .iter()
                    .map(|&c| if c > 0.0 { n / (classes as f64 * c) } else { 0.0 })
                    .collect()
            }
            ClassWeight::Manual(w) if w.len() == classes => w.clone(),
            ClassWeight::Manual(w) => {
                return Err(Error::invalid(
                    "svm",
                    format!("{} class weights for {classes} classes", w.len()),
                ))
            }
        };
        if weights.iter().any(|w| !(*w > 0.0 && w.is_finite())) {
            return Err(Error::invalid("svm", "class weights must be finite and > 0"));
        }
        let mut pairs = Vec::new();
        let mut sigmoids = Vec::new();
        let mut solutions = Vec::new();
        let (mut steps, mut objective) = (0, 0.0);
        for a in 0..classes {
            for bcls in a + 1..classes {
                let rows: Vec<usize> = (0..labels.len())
                    .filter(|&r| labels[r] == a || labels[r] == bcls)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let sub = DMatrix::from_fn(rows.len(), rows.len(), |i, j| k_all[(rows[i], rows[j])]);
                // +1 for the higher class: a positive decision votes for it.
                let y: Vec<f64> = rows
                    .iter()
                    .map(|&r| if labels[r] == bcls { 1.0 } else { -1.0 })
                    .collect();
                let cs: Vec<f64> = rows.iter().map(|&r| p.c * weights[labels[r]]).collect();
                let (beta, b, s, obj) = solve_binary(&sub, &y, &cs, p.smoothing, p.max_iter)?;
                steps += s;
                if p.probability {
                    sigmoids.push(self.platt(&sub, &y, &cs)?);
                }
                objective += obj / rows.len() as f64;
                pairs.push((a, bcls));
                solutions.push((rows, beta, b));
            }
        }
        // The support vectors: rows with a non-zero coefficient in some pair.
        let mut sv_of = vec![usize::MAX; data.rows()];
        let mut support_rows = Vec::new();
        for (rows, beta, _) in &solutions {
            for (&r, &v) in rows.iter().zip(beta) {
                if v != 0.0 && sv_of[r] == usize::MAX {
                    sv_of[r] = support_rows.len();
                    support_rows.push(r);
                }
            }
        }
        let nsv = support_rows.len();
        let mut coef = vec![T::zero(); pairs.len() * nsv];
        let mut intercept = Vec::with_capacity(pairs.len());
        for (pi, (rows, beta, b)) in solutions.iter().enumerate() {
            for (&r, &v) in rows.iter().zip(beta) {
                if v != 0.0 {
                    coef[pi * nsv + sv_of[r]] = T::of(v);
                }
            }
            intercept.push(T::of(*b));
        }
        let mut weights = ParamStore::new();
        weights.insert("support_vectors", x.gather_rows(&support_rows)?);
        weights.insert("dual_coef", Tensor::new(coef, &[pairs.len(), nsv])?);
        weights.insert("intercept", Tensor::new(intercept, &[pairs.len()])?);
        // One record: the primal objective per row, averaged over the pairs, and the time; the
        // Newton steps taken (over all pairs) stand in the gradient-norm column.
        let history = vec![EpochRecord {
            epoch: 1,
            train_loss: objective / pairs.len().max(1) as f64,
            val_loss: None,
            val_metric: None,
            lr: 0.0,
            grad_norm: steps as f64,
            seconds: t0.elapsed().as_secs_f64(),
        }];
        Ok(FittedKernelSvm {
            params: p.clone(),
            kernel,
            scaler,
            weights,
            pairs,
            sigmoids,
            class_names: names.clone(),
            n_inputs: data.cols(),
            feature_names: data.feature_names.clone(),
            history,
        })
    }
}

/// A fitted exact kernel SVM.
#[derive(Clone, Debug)]
pub struct FittedKernelSvm<T: Scalar> {
    /// The settings it was fitted with.
    pub params: KernelSvmParams,
    /// The kernel, gamma resolved.
    pub kernel: Kernel,
    /// The scaling fitted on the training rows.
    pub scaler: Scaler,
    /// `support_vectors` `[nsv, features]` (scaled), `dual_coef` `[pairs, nsv]` (per pair of
    /// classes, each support vector's coefficient) and `intercept` `[pairs]`.
    pub weights: ParamStore<T>,
    /// The pairs (a, b), a < b: a positive decision votes for b.
    pub pairs: Vec<(usize, usize)>,
    /// Per pair, Platt's sigmoid of P(b | decision) (empty unless fitted with `probability`).
    pub sigmoids: Vec<Sigmoid>,
    /// Class names.
    pub class_names: Vec<String>,
    /// Number of input columns.
    pub n_inputs: usize,
    /// Input column names.
    pub feature_names: Vec<String>,
    /// One record: the objective per row (averaged over the pairs), the Newton steps taken (in
    /// the gradient-norm column) and the time.
    pub history: History,
}

impl<T: Scalar> FittedKernelSvm<T> {
    /// The pairwise decision values `[rows, pairs]`.
    pub fn pair_decisions(&self, x: &Features<T>) -> Result<Tensor<T>> {
        if x.cols() != self.n_inputs {
            return Err(Error::invalid(
                "predict",
                format!("the model takes {} features, the data has {}", self.n_inputs, x.cols()),
            ));
        }
        let Features::Dense(xs) = self.scaler.transform(x)? else {
            return Err(Error::invalid("svm", "the exact kernel SVM needs dense features"));
        };
        let support = self.weights.require("support_vectors")?;
        let (coef, intercept) = (
            self.weights.require("dual_coef")?.data(),
            self.weights.require("intercept")?,
        );
        let k = self.kernel.matrix(&xs, support)?;
        let (rows, nsv, np) = (xs.rows_count(), support.rows_count(), self.pairs.len());
        // F = K coef' + intercept, one product.
        let coef = DMatrix::from_row_iterator(np, nsv, coef.iter().map(|v| v.as_f64()));
        let f = k * coef.transpose();
        let out: Vec<T> = (0..rows * np)
            .map(|i| T::of(f[(i / np, i % np)] + intercept.data()[i % np].as_f64()))
            .collect();
        Tensor::new(out, &[rows, np])
    }

    /// The number of support vectors.
    pub fn support_count(&self) -> usize {
        self.weights.get("support_vectors").map_or(0, |t| t.rows_count())
    }
}

impl<T: Scalar> Predictor<T> for FittedKernelSvm<T> {
    /// Binary: the decision value `[rows, 1]` (positive: the second class). More classes: the
    /// one-vs-one votes `[rows, classes]` (the first of the most voted wins, as libsvm).
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        let f = self.pair_decisions(x)?;
        let k = self.class_names.len();
        if k == 2 {
            return Ok(f);
        }
        let (rows, np) = (f.rows_count(), self.pairs.len());
        let mut votes = vec![T::zero(); rows * k];
        for r in 0..rows {
            for (p, &(a, b)) in self.pairs.iter().enumerate() {
                let winner = if f.data()[r * np + p] > T::zero() { b } else { a };
                votes[r * k + winner] += T::one();
            }
        }
        Tensor::new(votes, &[rows, k])
    }

    /// Platt's sigmoids per pair, coupled into one distribution (Wu, Lin and Weng), when the
    /// model was fitted with `probability`.
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        if self.sigmoids.len() != self.pairs.len() || self.pairs.is_empty() {
            return Ok(None);
        }
        let f = self.pair_decisions(x)?;
        let (rows, np, k) = (f.rows_count(), self.pairs.len(), self.class_names.len());
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let mut pr = vec![0.0; k * k];
            for (p, &(a, b)) in self.pairs.iter().enumerate() {
                // Clipped as libsvm does, so that no pair is certain.
                let pb = self.sigmoids[p]
                    .prob(f.data()[r * np + p].as_f64())
                    .clamp(1e-7, 1.0 - 1e-7);
                pr[b * k + a] = pb;
                pr[a * k + b] = 1.0 - pb;
            }
            let q = if k == 2 { vec![pr[1], pr[k]] } else { couple(&pr, k) };
            out.extend(q.into_iter().map(T::of));
        }
        Ok(Some(Tensor::new(out, &[rows, k])?))
    }

    fn is_classifier(&self) -> bool {
        true
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}
