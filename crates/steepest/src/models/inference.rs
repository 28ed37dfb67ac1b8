//! The regression-analysis table of a linear or logistic regression fitted to its optimum:
//! estimates with standard errors, test statistics, p-values and confidence intervals, and the
//! fit statistics, as statsmodels' `OLS(...).fit().summary()` and `Logit(...).fit().summary()`
//! print them.
//!
//! With theta = (w, b) the estimates in the original units and H the Hessian of the objective
//! (mean loss plus the L2 penalty) at theta, the covariance is the sandwich
//! (1/n) H^-1 M H^-1 with M = sigma^2 X'X/n (least squares; sigma^2 = SSR / (n - k)) or
//! X'WX/n (logistic, W = p(1 - p)): with no penalty, sigma^2 (X'X)^-1 and (X'WX)^-1, as
//! statsmodels. Robust: M = (1/n) sum_i s_i s_i' n/(n - k) (HC1, s_i the score of row i);
//! cluster-robust: M = (1/n) sum_g S_g S_g' G/(G - 1) (n - 1)/(n - k) over the G clusters.
//! As statsmodels by default, coefficients are tested with t (n - k degrees of freedom) under
//! the least-squares covariance and with z under a robust one; the F test of the slopes takes
//! G - 1 denominator degrees of freedom with clusters. The computation runs on
//! standardized columns and maps back, so an ill-conditioned design (Longley's) loses nothing.

use super::linear::{ClassWeight, FittedLinear, LinearKind};
use super::predict::Predictor;
use crate::data::{Dataset, Features, Targets};
use crate::error::{Error, Result};
use crate::linear::{value_grad_hessian, LinearLoss, Penalty, RowTargets};
use crate::tensor::{Scalar, Tensor};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

/// How the covariance of the estimates is estimated.
#[derive(Clone, Debug, PartialEq)]
pub enum Covariance {
    /// From the Hessian (the model's own assumptions).
    NonRobust,
    /// White's heteroscedasticity-robust sandwich with the n/(n - k) correction (HC1).
    Hc1,
    /// Cluster-robust: one cluster id per row.
    Cluster(Vec<usize>),
}

/// One row of the table: an estimate and its inference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The feature (or `intercept`).
    pub name: String,
    /// The estimate, in the feature's original units.
    pub coef: f64,
    /// Its standard error.
    pub std_err: f64,
    /// coef / std_err: t (least squares) or z (logistic).
    pub stat: f64,
    /// Two-sided p-value of the statistic.
    pub p_value: f64,
    /// Lower end of the 95 % confidence interval.
    pub ci_low: f64,
    /// Upper end of the 95 % confidence interval.
    pub ci_high: f64,
}

/// The regression-analysis table (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegressionTable {
    /// `OLS` (least squares) or `Logit`.
    pub model: String,
    /// `nonrobust`, `HC1` or `cluster`.
    pub cov_type: String,
    /// Whether the statistics are t (true) or z.
    pub use_t: bool,
    /// Rows.
    pub n: usize,
    /// Slopes (parameters besides the intercept).
    pub df_model: f64,
    /// n - parameters.
    pub df_resid: f64,
    /// The estimates, the slopes then the intercept.
    pub estimates: Vec<Estimate>,
    /// The covariance of the estimates (row-major, in the order of `estimates`).
    pub covariance: Vec<f64>,
    /// Log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// -2 llf + 2 k.
    pub aic: f64,
    /// -2 llf + k ln n.
    pub bic: f64,
    /// R^2 (least squares) or McFadden's pseudo-R^2 (logistic).
    pub r_squared: f64,
    /// Adjusted R^2 (least squares).
    pub adj_r_squared: Option<f64>,
    /// The F statistic of all slopes being zero (a Wald test with robust covariances), least squares.
    pub f_statistic: Option<f64>,
    /// Its p-value.
    pub f_p_value: Option<f64>,
    /// Log-likelihood of the intercept-only model (logistic).
    pub ll_null: Option<f64>,
    /// Likelihood-ratio statistic against the intercept-only model (logistic).
    pub llr: Option<f64>,
    /// Its p-value (chi-squared on df_model).
    pub llr_p_value: Option<f64>,
    /// Durbin-Watson statistic of the residuals (least squares).
    pub durbin_watson: Option<f64>,
    /// Condition number of the design (with the intercept column), as statsmodels reports it.
    pub condition_number: f64,
    /// statsmodels' notes on the design (large condition number, near-singular design).
    pub warnings: Vec<String>,
}

fn two_sided(stat: f64, use_t: bool, df: f64) -> Result<(f64, f64)> {
    let bad = |e: statrs::distribution::StudentsTError| Error::invalid("statistics", e.to_string());
    if use_t {
        let t = StudentsT::new(0.0, 1.0, df).map_err(bad)?;
        Ok((2.0 * t.sf(stat.abs()), t.inverse_cdf(0.975)))
    } else {
        let z = Normal::new(0.0, 1.0).map_err(|e| Error::invalid("statistics", e.to_string()))?;
        Ok((2.0 * z.sf(stat.abs()), z.inverse_cdf(0.975)))
    }
}

fn inverse_psd(h: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = h.clone().symmetric_eigen();
    let top = eig.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let inv = DVector::from_iterator(
        h.nrows(),
        eig.eigenvalues
            .iter()
            .map(|&l| if l > 1e-15 * top { 1.0 / l } else { 0.0 }),
    );
    &eig.eigenvectors * DMatrix::from_diagonal(&inv) * eig.eigenvectors.transpose()
}

/// The regression-analysis table of `model` on `data` (the rows it was fitted on).
///
/// Errors when the model is not a least-squares or logistic regression with no penalty or L2,
/// was not trained in f64, or is not at the optimum of its objective on `data` (a Newton step
/// from its estimates would move one by more than 1e-6 of its size plus its standard error):
/// the numbers would mean nothing.
pub fn regression_table<T: Scalar>(
    model: &FittedLinear<T>,
    data: &Dataset<T>,
    cov: &Covariance,
) -> Result<RegressionTable> {
    let p = &model.params;
    let refuse = |msg: String| Err(Error::invalid("statistics", msg));
    let logit = match p.kind {
        LinearKind::Regression {
            loss: LinearLoss::Squared,
        } => false,
        LinearKind::Logistic if model.core.outputs == 1 => true,
        _ => {
            return refuse(format!(
                "need least-squares linear regression or binary logistic regression, not {}",
                p.kind.name()
            ))
        }
    };
    let alpha = match p.penalty {
        Penalty::None => 0.0,
        Penalty::L2 { alpha } => alpha,
        _ => return refuse("need no penalty (or ridge): an L1 penalty has no such inference".into()),
    };
    if T::DTYPE != "f64" {
        return refuse("need a model trained in f64 (--dtype f64): f32 estimates are not at the optimum to the precision the statistics need".into());
    }
    if p.class_weight != ClassWeight::Uniform {
        return refuse("need uniform class weights: weighted rows are not a likelihood".into());
    }
    if model.class_names.is_empty() == logit {
        return refuse("the model and the data disagree on the task".into());
    }
    let features = match model.poly {
        Some(pf) => pf.transform(&data.features)?,
        None => data.features.clone(),
    };
    let Features::Dense(x) = &features else {
        return refuse("need dense features".into());
    };
    let (n, d) = (x.rows_count(), x.row_len());
    let k = d + 1;
    if n <= k {
        return refuse(format!("{n} rows for {k} parameters: no degrees of freedom left"));
    }
    // Standardize the columns (m, s), and the estimates with them.
    let col = |j: usize| (0..n).map(move |i| x.row(i)[j].as_f64());
    let m: Vec<f64> = (0..d).map(|j| col(j).sum::<f64>() / n as f64).collect();
    let s: Vec<f64> = (0..d)
        .map(|j| {
            let v = col(j).map(|v| (v - m[j]).powi(2)).sum::<f64>() / n as f64;
            if v > 0.0 {
                v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let z: Vec<f64> = (0..n)
        .flat_map(|i| {
            x.row(i)
                .iter()
                .enumerate()
                .map(|(j, v)| (v.as_f64() - m[j]) / s[j])
                .collect::<Vec<_>>()
        })
        .collect();
    let zt = Tensor::new(z, &[n, d])?;
    let z = zt.data();
    let (coef, intercept) = model.coefficients()?;
    let (c, b) = (&coef[0], intercept[0]);
    let mut theta: Vec<f64> = (0..d).map(|j| c[j] * s[j]).collect();
    theta.push(b + (0..d).map(|j| c[j] * m[j]).sum::<f64>());
    let y_class: Vec<usize>;
    let y = match &data.targets {
        Targets::Values(v) => RowTargets::Real(v),
        Targets::Classes { .. } => {
            y_class = Predictor::align_classes(model, data)?;
            RowTargets::Class(&y_class)
        }
    };
    let loss = if logit { LinearLoss::Log } else { LinearLoss::Squared };
    // X'WX / n and the gradient without the penalty, then the penalty on the model's scaled
    // weights w_j * scale_j = theta_j * scale_j / s_j.
    let (_, g, h0) = value_grad_hessian(&zt, y, None, loss, 0.0, &theta)?;
    let h0 = DMatrix::from_row_slice(k, k, &h0);
    let (mut h, mut g) = (h0.clone(), DVector::from_column_slice(&g));
    for j in 0..d {
        let r = model.scaler.scale.get(j).copied().unwrap_or(1.0) / s[j];
        h[(j, j)] += alpha * r * r;
        g[j] += alpha * r * r * theta[j];
    }
    let h_inv = inverse_psd(&h);
    // Per-row residual-type terms: least squares e_i = y_i - z_i; logistic y_i - p_i.
    let zrow =
        |i: usize| -> DVector<f64> { DVector::from_iterator(k, z[i * d..(i + 1) * d].iter().copied().chain([1.0])) };
    let fitted: Vec<f64> = (0..n)
        .map(|i| {
            z[i * d..(i + 1) * d]
                .iter()
                .zip(&theta)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                + theta[d]
        })
        .collect();
    let target = |i: usize| match y {
        RowTargets::Real(v) => v[i],
        RowTargets::Class(l) => l[i] as f64,
    };
    let prob = |f: f64| 1.0 / (1.0 + (-f).exp());
    let resid: Vec<f64> = (0..n)
        .map(|i| {
            if logit {
                target(i) - prob(fitted[i])
            } else {
                target(i) - fitted[i]
            }
        })
        .collect();
    let ssr: f64 = resid.iter().map(|e| e * e).sum();
    let (nf, kf) = (n as f64, k as f64);
    let df_resid = nf - kf;
    let sigma2 = ssr / df_resid;
    let scores = |i: usize| zrow(i) * resid[i];
    let (meat, cov_type, df_inference) = match cov {
        Covariance::NonRobust => (if logit { h0.clone() } else { &h0 * sigma2 }, "nonrobust", df_resid),
        Covariance::Hc1 => {
            let mut acc = DMatrix::zeros(k, k);
            for i in 0..n {
                let si = scores(i);
                acc += &si * si.transpose();
            }
            (acc * (1.0 / nf) * (nf / df_resid), "HC1", df_resid)
        }
        Covariance::Cluster(ids) => {
            if ids.len() != n {
                return refuse(format!("{} cluster ids for {n} rows", ids.len()));
            }
            let groups = ids.iter().copied().max().map_or(0, |g| g + 1);
            let mut sums = vec![DVector::zeros(k); groups];
            for (i, &gid) in ids.iter().enumerate() {
                sums[gid] += scores(i);
            }
            let sums: Vec<_> = sums.into_iter().filter(|v| v.iter().any(|x| *x != 0.0)).collect();
            let gn = ids.iter().collect::<std::collections::BTreeSet<_>>().len() as f64;
            if gn < 2.0 {
                return refuse("cluster-robust errors need at least 2 clusters".into());
            }
            let mut acc = DMatrix::zeros(k, k);
            for sg in &sums {
                acc += sg * sg.transpose();
            }
            let corr = gn / (gn - 1.0) * (nf - 1.0) / df_resid;
            (acc * (corr / nf), "cluster", gn - 1.0)
        }
    };
    let cov_z = &h_inv * meat * &h_inv * (1.0 / nf);
    let name_of = |j: usize| -> String {
        match j == d {
            true => "intercept".to_string(),
            false => model.feature_names.get(j).cloned().unwrap_or_else(|| format!("f{j}")),
        }
    };
    // Optimality: the Newton step from the estimates, against their size and standard errors.
    let step = -(&h_inv * &g);
    for j in 0..k {
        let se = cov_z[(j, j)].max(0.0).sqrt();
        if step[j].abs() > 1e-6 * (theta[j].abs() + se) {
            let name = name_of(j);
            return refuse(format!(
                "the model is not at the optimum of its objective on these rows (a Newton step \
                 would move '{name}' by {:.3e} standard errors); train it with --optimizer newton",
                step[j].abs() / se.max(f64::MIN_POSITIVE)
            ));
        }
    }
    // Back to the original units: c_j = w_j / s_j, b = b_z - sum_j w_j m_j / s_j.
    let mut jac = DMatrix::zeros(k, k);
    for j in 0..d {
        jac[(j, j)] = 1.0 / s[j];
        jac[(d, j)] = -m[j] / s[j];
    }
    jac[(d, d)] = 1.0;
    let cov_o = &jac * &cov_z * jac.transpose();
    let est_o: Vec<f64> = c.iter().copied().chain([b]).collect();
    // statsmodels' defaults: t for least squares with its own covariance, z with a robust one.
    let use_t = !logit && *cov == Covariance::NonRobust;
    let mut estimates = Vec::with_capacity(k);
    for j in 0..k {
        let se = cov_o[(j, j)].max(0.0).sqrt();
        let stat = est_o[j] / se;
        let (pv, q) = two_sided(stat, use_t, df_inference)?;
        let name = name_of(j);
        estimates.push(Estimate {
            name,
            coef: est_o[j],
            std_err: se,
            stat,
            p_value: pv,
            ci_low: est_o[j] - q * se,
            ci_high: est_o[j] + q * se,
        });
    }
    let df_model = kf - 1.0;
    // Condition number of the raw design with its intercept column (statsmodels: the square
    // root of the ratio of the extreme eigenvalues of X'X).
    let raw = DMatrix::from_fn(n, k, |i, j| if j == d { 1.0 } else { x.row(i)[j].as_f64() });
    let sv = raw.singular_values();
    let (smax, smin) = (sv.max(), sv.min());
    let condition_number = smax / smin;
    let min_eig = smin * smin;
    let mut warnings = Vec::new();
    let mut table = RegressionTable {
        model: if logit { "Logit" } else { "OLS" }.into(),
        cov_type: cov_type.into(),
        use_t,
        n,
        df_model,
        df_resid,
        estimates,
        covariance: cov_o.transpose().iter().copied().collect(),
        log_likelihood: 0.0,
        aic: 0.0,
        bic: 0.0,
        r_squared: 0.0,
        adj_r_squared: None,
        f_statistic: None,
        f_p_value: None,
        ll_null: None,
        llr: None,
        llr_p_value: None,
        durbin_watson: None,
        condition_number,
        warnings: Vec::new(),
    };
    let chi_or_f = |e: String| Error::invalid("statistics", e);
    if logit {
        let llf: f64 = (0..n)
            .map(|i| {
                let f = fitted[i];
                // ln p = -ln(1 + e^-f), ln(1 - p) = -ln(1 + e^f), computed stably.
                let lp = -((-f).max(0.0) + (-f.abs()).exp().ln_1p());
                let lq = -(f.max(0.0) + (-f.abs()).exp().ln_1p());
                if target(i) == 1.0 {
                    lp
                } else {
                    lq
                }
            })
            .sum();
        let ybar = (0..n).map(target).sum::<f64>() / nf;
        let ll_null = nf * (ybar * ybar.ln() + (1.0 - ybar) * (1.0 - ybar).ln());
        let llr = 2.0 * (llf - ll_null);
        let chi = ChiSquared::new(df_model).map_err(|e| chi_or_f(e.to_string()))?;
        table.log_likelihood = llf;
        table.r_squared = 1.0 - llf / ll_null;
        table.ll_null = Some(ll_null);
        table.llr = Some(llr);
        table.llr_p_value = Some(chi.sf(llr));
    } else {
        let ybar = (0..n).map(target).sum::<f64>() / nf;
        let sst: f64 = (0..n).map(|i| (target(i) - ybar).powi(2)).sum();
        let llf = -nf / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (ssr / nf).ln() + 1.0);
        table.log_likelihood = llf;
        table.r_squared = 1.0 - ssr / sst;
        table.adj_r_squared = Some(1.0 - (nf - 1.0) / df_resid * (1.0 - table.r_squared));
        // Wald F test of every slope being zero, on the standardized slopes (the same statistic,
        // better conditioned).
        let slopes = DVector::from_iterator(d, theta[..d].iter().copied());
        let v = cov_z.view((0, 0), (d, d)).into_owned();
        let f = (slopes.transpose() * inverse_psd(&v) * &slopes)[(0, 0)] / df_model;
        let fd = FisherSnedecor::new(df_model, df_inference).map_err(|e| chi_or_f(e.to_string()))?;
        table.f_statistic = Some(f);
        table.f_p_value = Some(fd.sf(f));
        let dw: f64 = resid.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / ssr;
        table.durbin_watson = Some(dw);
        if min_eig < 1e-10 {
            warnings.push(format!(
                "The smallest eigenvalue is {min_eig:.3e}. This might indicate that there are strong \
                 multicollinearity problems or that the design matrix is singular."
            ));
        } else if condition_number > 1000.0 {
            warnings.push(format!(
                "The condition number is large, {condition_number:.3e}. This might indicate that there are \
                 strong multicollinearity or other numerical problems."
            ));
        }
    }
    table.aic = -2.0 * table.log_likelihood + 2.0 * kf;
    table.bic = -2.0 * table.log_likelihood + kf * nf.ln();
    table.warnings = warnings;
    Ok(table)
}
