//! Kernel support vector machines trained in the primal by Newton's method (O. Chapelle,
//! "Training a Support Vector Machine in the Primal", Neural Computation 19, 2007; the solver is
//! in `svm_newton`): classification (C-SVC) and regression (epsilon-SVR), with the RBF,
//! polynomial, sigmoid or linear kernel, exact or approximated by explicit features.
//!
//! Exact: the decision function is a kernel expansion over the training rows,
//! f(x) = sum_i beta_i k(x_i, x) + b, and (beta, b) minimize 1/2 beta' K beta + sum_i C_i
//! loss(x_i) with the hinge (classification) or the epsilon-insensitive loss (regression),
//! Huber-smoothed over a band of half-width h = 1e-5 (libsvm minimizes the unsmoothed losses to
//! a tolerance of 1e-3 on the gradient, which leaves its decision values about as close).
//! The kernel matrix's columns are computed when the solver first needs them (those of rows
//! that are or were in the expansion: `kernel_columns`), but at worst it is n x n in f64, so
//! this is for data up to some tens of thousands of rows; a larger request is refused by the
//! memory budget with a pointer to the approximations.
//!
//! Approximate ([`KernelApprox`]): the rows are mapped to D random Fourier or Nyström features
//! z(x) and f(x) = w.z(x) + b minimizes 1/2 ||w||^2 + sum_i C_i loss(x_i), the same objective
//! with the approximate kernel, by the same Newton's method over w (a (D+1)-square system); the
//! cost is linear in the rows, and more components bring the model toward the exact one.
//!
//! Multi-class: one-vs-one (libsvm's way, the default): a binary model per pair of classes on
//! their rows, and a vote (ties go to the lower class index); or one-vs-rest: a model per class
//! against the others, the largest decision wins.

use super::kernel_approx::{FeatureMap, KernelApprox};
use super::kernel_columns::KernelColumns;
use super::linear::ClassWeight;
use super::platt::{couple, Sigmoid};
use super::predict::Predictor;
use super::svm_newton::{solve_dual, solve_primal, Solution, SvmLoss};
use crate::data::{Dataset, Features, Scaler, ScalerKind, Targets};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::tensor::{Scalar, Tensor};
use crate::train::{EpochRecord, History};
use nalgebra::DMatrix;
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
            Kernel::Rbf { gamma } => crate::tensor::exp::exp(-gamma * (sq_x + sq_z - 2.0 * dot).max(0.0)),
            Kernel::Poly { gamma, degree, coef0 } => (gamma * dot + coef0).powi(degree as i32),
            Kernel::Sigmoid { gamma, coef0 } => (gamma * dot + coef0).tanh(),
        }
    }

    /// Turns `col`, the dot products of one point (squared norm `sq_z`) with points of squared
    /// norms `sq_x`, into their kernel values (RBF: the exponents, then their exponentials in
    /// vectors).
    pub(crate) fn apply_column(&self, col: &mut [f64], sq_x: &[f64], sq_z: f64) {
        match *self {
            Kernel::Rbf { gamma } => {
                for (v, sx) in col.iter_mut().zip(sq_x) {
                    *v = -gamma * (sx + sq_z - 2.0 * *v).max(0.0);
                }
                crate::tensor::exp::exp_in_place(col);
            }
            _ => {
                for (v, &sx) in col.iter_mut().zip(sq_x) {
                    *v = self.of(*v, sx, sq_z);
                }
            }
        }
    }

    /// The kernel matrix `[a.rows, b.rows]` between the rows of `a` and of `b` (dense, the same
    /// width), through one matrix product of their dot products.
    pub fn matrix<T: Scalar>(&self, a: &Tensor<T>, b: &Tensor<T>) -> Result<DMatrix<f64>> {
        // b a' row-major [m, n] is a b' column-major [n, m]: the products' buffer becomes the
        // matrix, and the kernel is applied in place (no second n x m copy).
        let dots: Tensor<f64> = b.cast::<f64>().matmul_t(&a.cast::<f64>(), false, true)?;
        let sq = |t: &Tensor<T>| -> Vec<f64> {
            (0..t.rows_count())
                .map(|r| t.row(r).iter().map(|v| v.as_f64() * v.as_f64()).sum())
                .collect()
        };
        let (sa, sb) = (sq(a), sq(b));
        let (n, m) = (a.rows_count(), b.rows_count());
        let mut k = DMatrix::from_vec(n, m, dots.into_vec());
        if n > 0 {
            use rayon::prelude::*;
            k.as_mut_slice()
                .par_chunks_mut(n)
                .enumerate()
                .for_each(|(j, col)| self.apply_column(col, &sa, sb[j]));
        }
        Ok(k)
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

/// How a kernel SVM splits more than two classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelMulticlass {
    /// A model per pair of classes and a vote (libsvm's way).
    #[default]
    Ovo,
    /// A model per class against the others; the largest decision wins.
    Ovr,
}

/// The settings of a kernel SVM. Defaults as scikit-learn's `SVC()` and `SVR()`: RBF, gamma
/// `scale`, C = 1, degree 3, coef0 0, epsilon 0.1 (regression), one-vs-one; the exact kernel
/// expansion; features standardized (Steepest's default scaling). Classification or
/// regression follows the targets.
///
/// ```
/// use steepest::data::embedded;
/// use steepest::models::{KernelApprox, KernelSvmParams, Predictor};
/// let data = embedded::iris::<f64>()?;
/// let m = KernelSvmParams::default().check()?.fit(&data)?;
/// assert!(m.score(&data)? > 0.95);
/// // The same with 100 Nyström features.
/// let approx = KernelSvmParams { approx: Some(KernelApprox::Nystroem), components: 100, ..Default::default() };
/// assert!(approx.check()?.fit(&data)?.score(&data)? > 0.95);
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
    /// Half-width of the regression tube (scikit-learn's `SVR(epsilon=...)`, in target units).
    pub epsilon: f64,
    /// Feature scaling before the kernel.
    pub scaler: ScalerKind,
    /// Most Newton steps per problem and band width.
    pub max_iter: usize,
    /// Width h of the smoothed hinge (0: the squared hinge) (default 1e-5).
    pub smoothing: f64,
    /// Per-class weights multiplying C (scikit-learn's `class_weight`).
    pub class_weight: ClassWeight,
    /// Fit Platt's sigmoids for probabilities (scikit-learn's `probability=True`): each
    /// problem's decision values from a 5-fold cross-validation on its rows, so about 5 more fits.
    pub probability: bool,
    /// More than two classes: one-vs-one or one-vs-rest.
    pub multiclass: KernelMulticlass,
    /// `None`: the exact kernel expansion; else the approximation.
    pub approx: Option<KernelApprox>,
    /// Features of the approximation (default 500).
    pub components: usize,
    /// Seed of the approximation's draws.
    pub seed: u64,
}

impl Default for KernelSvmParams {
    fn default() -> Self {
        KernelSvmParams {
            kernel: KernelName::Rbf,
            gamma: Gamma::Scale,
            degree: 3,
            coef0: 0.0,
            c: 1.0,
            epsilon: 0.1,
            scaler: ScalerKind::Standard,
            max_iter: 100,
            smoothing: 1e-5,
            class_weight: ClassWeight::Uniform,
            probability: false,
            multiclass: KernelMulticlass::Ovo,
            approx: None,
            components: 500,
            seed: 0,
        }
    }
}

impl KernelSvmParams {
    /// Checks the settings: C > 0, a given gamma > 0, degree >= 1, epsilon >= 0, at least one
    /// component, random Fourier features only for the RBF kernel.
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
        if !(self.epsilon >= 0.0 && self.epsilon.is_finite()) {
            return Err(Error::invalid(
                "svm",
                format!("epsilon = {} must be a finite number >= 0", self.epsilon),
            ));
        }
        if self.approx.is_some() && self.components == 0 {
            return Err(Error::invalid("svm", "the approximation needs at least one component"));
        }
        if self.approx == Some(KernelApprox::Rff) && self.kernel != KernelName::Rbf {
            return Err(Error::invalid(
                "svm",
                "random Fourier features approximate the rbf kernel only; use nystroem for this kernel",
            ));
        }
        Ok(ValidKernelSvmParams(self))
    }
}

/// Checked [`KernelSvmParams`], ready to fit.
#[derive(Clone, Debug)]
pub struct ValidKernelSvmParams(KernelSvmParams);

/// What the solver sees: the kernel matrix of the training rows (exact) or their features
/// (approximate).
enum Design {
    Kernel(KernelColumns),
    Features(DMatrix<f64>),
}

impl Design {
    /// Solves one problem on `rows` with targets `y` and weights `c`.
    fn solve(&self, rows: &[usize], y: &[f64], c: &[f64], loss: SvmLoss, p: &KernelSvmParams) -> Result<Solution> {
        match self {
            Design::Kernel(k) if rows.len() == k.order() && rows.iter().enumerate().all(|(i, &r)| i == r) => {
                solve_dual(k, y, c, loss, p.smoothing, p.max_iter)
            }
            // A problem on some of the rows (a pair of classes, a fold) has its own kernel
            // columns, computed as it needs them.
            Design::Kernel(k) => solve_dual(&k.restrict(rows), y, c, loss, p.smoothing, p.max_iter),
            Design::Features(z) => {
                let sub = z.select_rows(rows);
                // Up to 4 rows per feature (and 10,000 rows), the same problem in its kernel form,
                // K = Z Z' and w = Z' beta (the representer theorem), is cheaper: its Newton
                // systems are the size of the margin's rows, not of the features.
                if rows.len() > (4 * sub.ncols()).min(10_000) {
                    return solve_primal(&sub, y, c, loss, p.smoothing, p.max_iter);
                }
                // Row-major rows (the transpose's column-major buffer); K = Z Z'.
                let rows_major: Vec<f64> = sub.transpose().data.into();
                let k = KernelColumns::new(Kernel::Linear, rows_major, sub.nrows(), sub.ncols());
                let mut s = solve_dual(&k, y, c, loss, p.smoothing, p.max_iter)?;
                s.coef = sub
                    .tr_mul(&nalgebra::DVector::from_column_slice(&s.coef))
                    .iter()
                    .copied()
                    .collect();
                Ok(s)
            }
        }
    }

    /// Decision values at rows `at` of a solution fitted on rows `fitted`.
    fn decide(&self, fitted: &[usize], s: &Solution, at: &[usize]) -> Vec<f64> {
        match self {
            Design::Kernel(k) => {
                let terms: Vec<(usize, f64)> = fitted
                    .iter()
                    .copied()
                    .zip(s.coef.iter().copied())
                    .filter(|t| t.1 != 0.0)
                    .collect();
                k.prepare(&terms.iter().map(|t| t.0).collect::<Vec<_>>());
                at.iter()
                    .map(|&i| terms.iter().map(|&(j, b)| k.get(i, j) * b).sum::<f64>() + s.intercept)
                    .collect()
            }
            Design::Features(z) => at
                .iter()
                .map(|&i| (0..z.ncols()).map(|j| z[(i, j)] * s.coef[j]).sum::<f64>() + s.intercept)
                .collect(),
        }
    }
}

/// One problem of a fit: its rows and targets (+-1 or values).
struct Problem {
    rows: Vec<usize>,
    y: Vec<f64>,
    c: Vec<f64>,
}

impl ValidKernelSvmParams {
    /// The settings.
    pub fn params(&self) -> &KernelSvmParams {
        &self.0
    }

    /// Platt's sigmoid for one binary problem: decision values of each fifth of the rows from a
    /// model fitted on the other four fifths (rows i with i % 5 == fold), then the fit.
    fn platt(&self, design: &Design, pb: &Problem) -> Result<Sigmoid> {
        let n = pb.y.len();
        let y = &pb.y;
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
            let rows: Vec<usize> = train.iter().map(|&i| pb.rows[i]).collect();
            let ys: Vec<f64> = train.iter().map(|&i| y[i]).collect();
            let cs: Vec<f64> = train.iter().map(|&i| pb.c[i]).collect();
            let s = design.solve(&rows, &ys, &cs, SvmLoss::Hinge, &self.0)?;
            let at: Vec<usize> = held.iter().map(|&i| pb.rows[i]).collect();
            for (&i, v) in held.iter().zip(design.decide(&rows, &s, &at)) {
                dec[i] = v;
            }
        }
        let positive: Vec<bool> = y.iter().map(|&v| v > 0.0).collect();
        Ok(Sigmoid::fit(&dec, &positive))
    }

    /// Checks that training on `rows` rows of `features` columns fits the memory budget: the
    /// n x n kernel matrix and its pair blocks (exact), or the features and the Newton system
    /// (approximate).
    pub fn check_memory(&self, rows: usize, features: usize) -> Result<()> {
        let (n, d) = (rows as u128, features as u128);
        match self.0.approx {
            None => crate::memory::ensure(
                &format!("the exact kernel SVM on {rows} rows (an n x n kernel matrix)"),
                n * n * 8 * 2,
                "; for large data use an approximation (--kernel-approx nystroem or rff --components N)",
            ),
            Some(_) => {
                let m = self.0.components as u128;
                crate::memory::ensure(
                    &format!("a kernel SVM on {rows} rows with {m} approximate features"),
                    n * m * 8 * 3 + (m + 1) * (m + 1) * 8 * 3 + m * d * 8,
                    "; use fewer --components",
                )
            }
        }
    }

    /// Fits on `data`: classes (C-SVC) or values (epsilon-SVR).
    pub fn fit<T: Scalar>(&self, data: &Dataset<T>) -> Result<FittedKernelSvm<T>> {
        let p = &self.0;
        let names: Vec<String> = match &data.targets {
            Targets::Classes { names, .. } if names.len() < 2 => {
                return Err(Error::invalid("svm", "classification needs at least 2 classes"))
            }
            Targets::Classes { names, .. } => names.clone(),
            Targets::Values(_) => {
                if p.probability {
                    return Err(Error::invalid(
                        "svm",
                        "probabilities are for classifiers, not regression",
                    ));
                }
                if p.class_weight != ClassWeight::Uniform {
                    return Err(Error::invalid(
                        "svm",
                        "class weights are for classifiers, not regression",
                    ));
                }
                Vec::new()
            }
        };
        data.check_finite("training data")?;
        self.check_memory(data.rows(), data.cols())?;
        let scaler = Scaler::fit(p.scaler, &data.features)?;
        let Features::Dense(x) = scaler.transform(&data.features)? else {
            return Err(Error::invalid("svm", "the kernel SVM needs dense features"));
        };
        let kernel = self.kernel_for(&x);
        let t0 = std::time::Instant::now();
        let map = match p.approx {
            Some(kind) => Some(FeatureMap::fit(kind, kernel, &x, p.components, p.seed ^ 0xF0F0)?),
            None => None,
        };
        let design = match &map {
            Some(m) => Design::Features(m.transform(&x)?),
            None => {
                let rows: Vec<f64> = x.data().iter().map(|v| v.as_f64()).collect();
                Design::Kernel(KernelColumns::new(kernel, rows, x.rows_count(), x.row_len()))
            }
        };
        let (problems, pairs, loss) = self.problems(&data.targets)?;
        let mut sigmoids = Vec::new();
        let mut solutions = Vec::with_capacity(problems.len());
        let (mut steps, mut objective) = (0, 0.0);
        // The problems are independent (one-vs-one pairs): solved side by side, in order.
        use rayon::prelude::*;
        let solved: Vec<Result<_>> = problems
            .par_iter()
            .map(|pb| -> Result<_> {
                let s = design.solve(&pb.rows, &pb.y, &pb.c, loss, p)?;
                let sigmoid = match p.probability {
                    true => Some(self.platt(&design, pb)?),
                    false => None,
                };
                Ok((s, sigmoid))
            })
            .collect();
        for (pb, r) in problems.iter().zip(solved) {
            let (s, sigmoid) = r?;
            steps += s.steps;
            objective += s.objective / pb.rows.len().max(1) as f64;
            sigmoids.extend(sigmoid);
            solutions.push(s);
        }
        let mut weights = ParamStore::new();
        let np = problems.len();
        let intercept: Vec<T> = solutions.iter().map(|s| T::of(s.intercept)).collect();
        match &map {
            Some(m) => {
                let d = m.components();
                let coef: Vec<T> = solutions
                    .iter()
                    .flat_map(|s| s.coef.iter().map(|&v| T::of(v)))
                    .collect();
                m.store(&mut weights);
                weights.insert("coef", Tensor::new(coef, &[np, d])?);
            }
            None => {
                // The support vectors: rows with a non-zero coefficient in some problem.
                let mut sv_of = vec![usize::MAX; data.rows()];
                let mut support_rows = Vec::new();
                for (pb, s) in problems.iter().zip(&solutions) {
                    for (&r, &v) in pb.rows.iter().zip(&s.coef) {
                        if v != 0.0 && sv_of[r] == usize::MAX {
                            sv_of[r] = support_rows.len();
                            support_rows.push(r);
                        }
                    }
                }
                let nsv = support_rows.len();
                let mut coef = vec![T::zero(); np * nsv];
                for (pi, (pb, s)) in problems.iter().zip(&solutions).enumerate() {
                    for (&r, &v) in pb.rows.iter().zip(&s.coef) {
                        if v != 0.0 {
                            coef[pi * nsv + sv_of[r]] = T::of(v);
                        }
                    }
                }
                weights.insert("support_vectors", x.gather_rows(&support_rows)?);
                weights.insert("dual_coef", Tensor::new(coef, &[np, nsv])?);
            }
        }
        weights.insert("intercept", Tensor::new(intercept, &[np])?);
        // One record: the primal objective per row, averaged over the problems, and the time;
        // the Newton steps taken (over all problems) stand in the gradient-norm column.
        let history = vec![EpochRecord {
            epoch: 1,
            train_loss: objective / np.max(1) as f64,
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
            map,
            weights,
            pairs,
            sigmoids,
            class_names: names,
            n_inputs: data.cols(),
            feature_names: data.feature_names.clone(),
            history,
        })
    }

    /// The kernel with gamma resolved on the scaled training features `x`.
    fn kernel_for<T: Scalar>(&self, x: &Tensor<T>) -> Kernel {
        let p = &self.0;
        let d = x.row_len().max(1) as f64;
        let gamma = match p.gamma {
            Gamma::Value(g) => g,
            Gamma::Auto => 1.0 / d,
            Gamma::Scale => {
                let n = x.len().max(1) as f64;
                let mean = x.data().iter().map(|v| v.as_f64()).sum::<f64>() / n;
                let var = x.data().iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
                if var > 0.0 {
                    1.0 / (d * var)
                } else {
                    1.0
                }
            }
        };
        match p.kernel {
            KernelName::Rbf => Kernel::Rbf { gamma },
            KernelName::Poly => Kernel::Poly {
                gamma,
                degree: p.degree,
                coef0: p.coef0,
            },
            KernelName::Sigmoid => Kernel::Sigmoid { gamma, coef0: p.coef0 },
            KernelName::Linear => Kernel::Linear,
        }
    }

    /// The problems to solve: one regression; one binary problem for two classes (+1: the
    /// second); per pair (a, b), a < b, on their rows (+1: b) for one-vs-one; per class against
    /// the rest (+1: the class) for one-vs-rest. Also the pairs (one-vs-one and binary) and the
    /// loss.
    #[allow(clippy::type_complexity)]
    fn problems(&self, targets: &Targets) -> Result<(Vec<Problem>, Vec<(usize, usize)>, SvmLoss)> {
        let p = &self.0;
        let (labels, names) = match targets {
            Targets::Values(v) => {
                let pb = Problem {
                    rows: (0..v.len()).collect(),
                    y: v.clone(),
                    c: vec![p.c; v.len()],
                };
                return Ok((vec![pb], Vec::new(), SvmLoss::EpsilonInsensitive(p.epsilon)));
            }
            Targets::Classes { labels, names } => (labels, names),
        };
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
        let problem = |rows: Vec<usize>, positive: &dyn Fn(usize) -> bool| Problem {
            y: rows
                .iter()
                .map(|&r| if positive(labels[r]) { 1.0 } else { -1.0 })
                .collect(),
            c: rows.iter().map(|&r| p.c * weights[labels[r]]).collect(),
            rows,
        };
        let mut out = Vec::new();
        let mut pairs = Vec::new();
        if classes > 2 && p.multiclass == KernelMulticlass::Ovr {
            for cls in 0..classes {
                out.push(problem((0..labels.len()).collect(), &|l| l == cls));
            }
        } else {
            for a in 0..classes {
                for b in a + 1..classes {
                    let rows: Vec<usize> = (0..labels.len())
                        .filter(|&r| labels[r] == a || labels[r] == b)
                        .collect();
                    if rows.is_empty() {
                        continue;
                    }
                    out.push(problem(rows, &|l| l == b));
                    pairs.push((a, b));
                }
            }
        }
        Ok((out, pairs, SvmLoss::Hinge))
    }
}

/// A fitted kernel SVM (classifier or regressor, exact or approximate).
#[derive(Clone, Debug)]
pub struct FittedKernelSvm<T: Scalar> {
    /// The settings it was fitted with.
    pub params: KernelSvmParams,
    /// The kernel, gamma resolved.
    pub kernel: Kernel,
    /// The scaling fitted on the training rows.
    pub scaler: Scaler,
    /// The approximation's feature map (`None`: exact).
    pub map: Option<FeatureMap<T>>,
    /// Exact: `support_vectors` `[nsv, features]` (scaled) and `dual_coef` `[problems, nsv]`
    /// (each support vector's coefficient per problem); approximate: `coef`
    /// `[problems, components]` and the map's tensors; both: `intercept` `[problems]`.
    pub weights: ParamStore<T>,
    /// The pairs (a, b), a < b, of one-vs-one and binary models (a positive decision votes for
    /// b); empty for one-vs-rest (a problem per class) and regression (one problem).
    pub pairs: Vec<(usize, usize)>,
    /// Per problem, Platt's sigmoid of P(positive | decision) (empty unless fitted with
    /// `probability`).
    pub sigmoids: Vec<Sigmoid>,
    /// Class names (empty for regression).
    pub class_names: Vec<String>,
    /// Number of input columns.
    pub n_inputs: usize,
    /// Input column names.
    pub feature_names: Vec<String>,
    /// One record: the objective per row (averaged over the problems), the Newton steps taken
    /// (in the gradient-norm column) and the time.
    pub history: History,
}

impl<T: Scalar> FittedKernelSvm<T> {
    /// The problems' decision values `[rows, problems]`.
    pub fn pair_decisions(&self, x: &Features<T>) -> Result<Tensor<T>> {
        if x.cols() != self.n_inputs {
            return Err(Error::invalid(
                "predict",
                format!("the model takes {} features, the data has {}", self.n_inputs, x.cols()),
            ));
        }
        let Features::Dense(xs) = self.scaler.transform(x)? else {
            return Err(Error::invalid("svm", "the kernel SVM needs dense features"));
        };
        let intercept = self.weights.require("intercept")?;
        let np = intercept.len();
        let (z, coef) = match &self.map {
            Some(m) => (m.transform(&xs)?, self.weights.require("coef")?),
            None => (
                self.kernel.matrix(&xs, self.weights.require("support_vectors")?)?,
                self.weights.require("dual_coef")?,
            ),
        };
        // F = Z coef' + intercept, one product.
        let coef = DMatrix::from_row_iterator(np, z.ncols(), coef.data().iter().map(|v| v.as_f64()));
        let f = z * coef.transpose();
        let rows = xs.rows_count();
        let out: Vec<T> = (0..rows * np)
            .map(|i| T::of(f[(i / np, i % np)] + intercept.data()[i % np].as_f64()))
            .collect();
        Tensor::new(out, &[rows, np])
    }

    /// The number of support vectors (exact models; 0 for the approximations).
    pub fn support_count(&self) -> usize {
        self.weights.get("support_vectors").map_or(0, |t| t.rows_count())
    }

    /// One line on what it is: exact or approximate, the kernel, C, the problems and the
    /// support vectors (exact models).
    pub fn describe(&self) -> String {
        let p = &self.params;
        let what = if self.class_names.is_empty() {
            format!("kernel SVR (epsilon {})", p.epsilon)
        } else {
            "kernel SVM".to_string()
        };
        let how = match &self.map {
            Some(FeatureMap::Rff(_)) => format!(
                "{} random Fourier features",
                self.map.as_ref().map_or(0, |m| m.components())
            ),
            Some(FeatureMap::Nystroem { .. }) => {
                format!("{} Nystroem features", self.map.as_ref().map_or(0, |m| m.components()))
            }
            None => "exact".to_string(),
        };
        let k = self.class_names.len();
        let split = if k > 2 && self.one_vs_rest() {
            format!(", one-vs-rest over {k} classes")
        } else if k > 2 {
            format!(", one-vs-one over {} pairs of classes", self.pairs.len())
        } else {
            String::new()
        };
        let sv = match self.map {
            None => format!("; {} support vectors", self.support_count()),
            Some(_) => String::new(),
        };
        format!("{what} ({how}, {:?}, C {}{split}){sv}", self.kernel, p.c)
    }

    /// Whether it is one-vs-rest over more than two classes.
    fn one_vs_rest(&self) -> bool {
        self.pairs.is_empty() && self.class_names.len() > 2
    }
}

impl<T: Scalar> Predictor<T> for FittedKernelSvm<T> {
    /// Regression: the values `[rows, 1]`. Binary: the decision value `[rows, 1]` (positive:
    /// the second class). More classes, one-vs-one: the votes `[rows, classes]` (the first of
    /// the most voted wins, as libsvm); one-vs-rest: each class's decision.
    fn decision_function(&self, x: &Features<T>) -> Result<Tensor<T>> {
        let f = self.pair_decisions(x)?;
        let k = self.class_names.len();
        if k <= 2 || self.one_vs_rest() {
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

    /// Platt's sigmoids per problem, when the model was fitted with `probability`: one-vs-one
    /// pairs coupled into one distribution (Wu, Lin and Weng); one-vs-rest classes normalized
    /// to sum to one.
    fn predict_proba(&self, x: &Features<T>) -> Result<Option<Tensor<T>>> {
        let k = self.class_names.len();
        let np = if self.one_vs_rest() { k } else { self.pairs.len() };
        if k < 2 || np == 0 || self.sigmoids.len() != np {
            return Ok(None);
        }
        let f = self.pair_decisions(x)?;
        let rows = f.rows_count();
        // Clipped as libsvm does, so that no problem is certain.
        let prob = |r: usize, p: usize| {
            self.sigmoids[p]
                .prob(f.data()[r * np + p].as_f64())
                .clamp(1e-7, 1.0 - 1e-7)
        };
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            if self.one_vs_rest() {
                let q: Vec<f64> = (0..k).map(|c| prob(r, c)).collect();
                let sum: f64 = q.iter().sum();
                out.extend(q.into_iter().map(|v| T::of(v / sum)));
                continue;
            }
            let mut pr = vec![0.0; k * k];
            for (p, &(a, b)) in self.pairs.iter().enumerate() {
                let pb = prob(r, p);
                pr[b * k + a] = pb;
                pr[a * k + b] = 1.0 - pb;
            }
            let q = if k == 2 { vec![pr[1], pr[k]] } else { couple(&pr, k) };
            out.extend(q.into_iter().map(T::of));
        }
        Ok(Some(Tensor::new(out, &[rows, k])?))
    }

    fn is_classifier(&self) -> bool {
        !self.class_names.is_empty()
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}
