//! `steepest inspect --stats`: the regression-analysis table of a linear or logistic
//! regression, on the training rows read again from the run's config.

use crate::args::InspectArgs;
use crate::config::RunConfig;
use crate::data_load::{load_train_test, read_table_named};
use crate::error::{usage, CliResult};
use steepest::data::{CsvOptions, ReadOptions};
use steepest::models::{regression_table, Covariance, FittedModel, RegressionTable};
use steepest::tensor::Scalar;

/// Prints the table of the model in `a.dir` (or its JSON with `--json`).
pub fn inspect_stats<T: Scalar>(a: &InspectArgs, model: &FittedModel<T>) -> CliResult<()> {
    let FittedModel::Linear(m) = model else {
        return Err(usage(format!(
            "inspect --stats: statistics are for linear and logistic regression; this model is {}",
            model.kind_name()
        )));
    };
    let path = a.dir.join("config.toml");
    if !path.exists() {
        return Err(usage(format!(
            "inspect --stats: {} is missing; it names the training rows the statistics are computed on",
            path.display()
        )));
    }
    let cfg = RunConfig::from_file(&path)?;
    if cfg.test_data.is_none() && cfg.test_split > 0.0 {
        return Err(usage(format!(
            "inspect --stats: the model was fitted on part of the rows (--test-split {}); statistics \
             describe a fit on every row: train with --test-split 0 (or --test-data)",
            cfg.test_split
        )));
    }
    if cfg.validation.is_some_and(|v| v > 0.0) {
        return Err(usage(
            "inspect --stats: the model held out validation rows; train without --validation",
        ));
    }
    let train = load_train_test::<T>(&cfg)?.train;
    if train.feature_names != m.input_names {
        return Err(usage(format!(
            "inspect --stats: {} no longer has the columns the model was trained on",
            cfg.data
        )));
    }
    let cov = match (&a.cluster, a.robust) {
        (Some(col), _) => Covariance::Cluster(cluster_ids(&cfg, col)?),
        (None, true) => Covariance::Hc1,
        (None, false) => Covariance::NonRobust,
    };
    let t = regression_table(m, &train, &cov).map_err(|e| usage(format!("inspect --stats: {e}")))?;
    if a.json {
        println!("{}", serde_json::to_string(&t).map_err(|e| usage(e.to_string()))?);
    } else {
        let opts = ReadOptions {
            format: None,
            csv: CsvOptions {
                target: cfg.target.clone(),
                ..CsvOptions::default()
            },
            ..ReadOptions::default()
        };
        let dep = read_table_named(&cfg.data, &opts)
            .ok()
            .flatten()
            .and_then(|t| t.target_name)
            .unwrap_or_else(|| "y".into());
        print_table(&t, &dep);
    }
    Ok(())
}

/// A cluster id per training row, from the values of column `col` of the run's data file.
fn cluster_ids(cfg: &RunConfig, col: &str) -> CliResult<Vec<usize>> {
    let opts = ReadOptions {
        format: None,
        csv: CsvOptions {
            no_target: true,
            ..CsvOptions::default()
        },
        ..ReadOptions::default()
    };
    let table = read_table_named(&cfg.data, &opts)?
        .ok_or_else(|| usage(format!("--cluster: {} is not a CSV table", cfg.data)))?;
    let c = table.position(col).ok_or_else(|| {
        usage(format!(
            "--cluster: {} has no column '{col}' (columns: {})",
            cfg.data,
            table.names.join(", ")
        ))
    })?;
    let column = &table.columns[c];
    let mut ids = std::collections::BTreeMap::new();
    (0..table.rows())
        .map(|r| {
            let v = column.text(r).ok_or_else(|| {
                usage(format!(
                    "--cluster: {}:{}: column '{col}' is empty there",
                    cfg.data, table.lines[r]
                ))
            })?;
            let next = ids.len();
            Ok(*ids.entry(v.into_owned()).or_insert(next))
        })
        .collect()
}

fn fmt(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

fn print_table(t: &RegressionTable, dep: &str) {
    let dep = dep.to_string();
    let line = "=".repeat(78);
    println!("{:^78}", format!("{} Regression Results", t.model));
    println!("{line}");
    let left: Vec<(String, String)> = vec![
        ("Dep. Variable:".into(), dep),
        ("Model:".into(), t.model.clone()),
        ("No. Observations:".into(), t.n.to_string()),
        ("Df Residuals:".into(), format!("{}", t.df_resid)),
        ("Df Model:".into(), format!("{}", t.df_model)),
        ("Covariance Type:".into(), t.cov_type.clone()),
    ];
    let mut right: Vec<(String, String)> = Vec::new();
    if t.model == "OLS" {
        right.push(("R-squared:".into(), format!("{:.4}", t.r_squared)));
        right.push((
            "Adj. R-squared:".into(),
            format!("{:.4}", t.adj_r_squared.unwrap_or(f64::NAN)),
        ));
        right.push(("F-statistic:".into(), fmt(t.f_statistic.unwrap_or(f64::NAN))));
        right.push(("Prob (F-statistic):".into(), fmt(t.f_p_value.unwrap_or(f64::NAN))));
    } else {
        right.push(("Pseudo R-squ.:".into(), format!("{:.4}", t.r_squared)));
        right.push(("LL-Null:".into(), fmt(t.ll_null.unwrap_or(f64::NAN))));
        right.push(("LLR:".into(), fmt(t.llr.unwrap_or(f64::NAN))));
        right.push(("LLR p-value:".into(), fmt(t.llr_p_value.unwrap_or(f64::NAN))));
    }
    right.push(("Log-Likelihood:".into(), fmt(t.log_likelihood)));
    right.push(("AIC:".into(), fmt(t.aic)));
    right.push(("BIC:".into(), fmt(t.bic)));
    for i in 0..left.len().max(right.len()) {
        let (a, b) = left.get(i).cloned().unwrap_or_default();
        let (c, d) = right.get(i).cloned().unwrap_or_default();
        println!("{a:<20}{b:>18}   {c:<20}{d:>17}");
    }
    println!("{line}");
    let (stat, p) = if t.use_t { ("t", "P>|t|") } else { ("z", "P>|z|") };
    let width = t.estimates.iter().map(|e| e.name.len()).max().unwrap_or(9).clamp(9, 40);
    println!(
        "{:<width$} {:>11} {:>11} {:>9} {:>9} {:>11} {:>11}",
        "", "coef", "std err", stat, p, "[0.025", "0.975]"
    );
    println!("{}", "-".repeat(78.max(width + 67)));
    for e in &t.estimates {
        println!(
            "{:<width$} {:>11} {:>11} {:>9.3} {:>9.3} {:>11} {:>11}",
            e.name,
            fmt(e.coef),
            fmt(e.std_err),
            e.stat,
            e.p_value,
            fmt(e.ci_low),
            fmt(e.ci_high)
        );
    }
    println!("{line}");
    if let Some(dw) = t.durbin_watson {
        println!("Durbin-Watson: {dw:.3}    Cond. No.: {:.3e}", t.condition_number);
    }
    for (i, w) in t.warnings.iter().enumerate() {
        println!("[{}] {w}", i + 1);
    }
}
