//! `steepest eval`, `steepest predict` and `steepest inspect`: commands on a saved model.

use crate::args::{EvalArgs, InspectArgs, PredictArgs};
use crate::data_load::{
    encode_table_report, for_model, read_named, read_options, read_options_encoded, read_table_named,
};
use crate::error::{usage, CliResult};
use crate::output::{metrics_json, print_metrics};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use steepest::data::{read_csv, CsvOptions, Dataset, EncodeOptions, Format, Task};
use steepest::models::{load_encoder, load_model, FittedModel, Predictions, Predictor};
use steepest::tensor::Scalar;

/// The element type a saved model was written in.
fn dtype_of(dir: &Path) -> CliResult<String> {
    let p = dir.join("model.json");
    let text = std::fs::read(&p).map_err(|e| usage(format!("{}: {e} (is this a run folder?)", p.display())))?;
    let v: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| usage(format!("{}: not a valid model description: {e}", p.display())))?;
    Ok(v.get("dtype").and_then(|d| d.as_str()).unwrap_or("f32").to_string())
}

macro_rules! by_dtype {
    ($dir:expr, $f:ident ( $($a:expr),* )) => {
        match dtype_of($dir)?.as_str() {
            "f64" => $f::<f64>($($a),*),
            _ => $f::<f32>($($a),*),
        }
    };
}

/// Runs `steepest eval`.
pub fn eval(a: EvalArgs) -> CliResult<()> {
    by_dtype!(&a.model, eval_typed(&a))
}

/// `data` with the model's feature columns in the model's order, matched by header name when
/// the file has names (extra columns are left out with a note); unchanged when it has none.
fn by_name<T: Scalar>(model: &FittedModel<T>, data: Dataset<T>, file: &str) -> CliResult<Dataset<T>> {
    let names = model.feature_names();
    let dense = matches!(data.features, steepest::data::Features::Dense(_));
    if names.is_empty() || !dense || data.feature_names == names {
        return Ok(data);
    }
    match data.select_columns(names).map_err(|e| usage(format!("{file}: {e}")))? {
        None => Ok(data),
        Some((d, extra)) => {
            if !extra.is_empty() {
                eprintln!("note: {file}: columns not used by the model: {}", extra.join(", "));
            }
            Ok(d)
        }
    }
}

/// A table file encoded as the model's training data was (columns matched by name), when the
/// model was trained on a table with categories or imputation; `None` otherwise.
fn read_encoded<T: Scalar>(
    dir: &Path,
    file: &str,
    format: Option<&str>,
    target: Option<&str>,
    task: Option<Task>,
) -> CliResult<Option<Dataset<T>>> {
    let Some(enc) = load_encoder(dir)? else {
        return Ok(None);
    };
    let encode = EncodeOptions {
        categorical: enc.categorical_columns(),
        ..EncodeOptions::default()
    };
    // Without a task, every column is read as a feature (a target column is left out by name).
    let target = target.or(enc.target.as_deref());
    let mut opts = read_options_encoded(format, target, task, encode)?;
    opts.csv.no_target = task.is_none();
    let table = read_table_named(file, &opts)?
        .ok_or_else(|| usage(format!("{file}: the model was trained on a CSV table; give a CSV file")))?;
    let (d, report) = encode_table_report(&enc, &table, false)?;
    let extra: Vec<String> = report
        .extra
        .into_iter()
        .filter(|n| Some(n.as_str()) != target)
        .collect();
    if !extra.is_empty() {
        eprintln!("note: {file}: columns not used by the model: {}", extra.join(", "));
    }
    Ok(Some(d))
}

/// Images read for `model`: at the size and channels of its input when it takes images.
fn image_options<T: Scalar>(model: &FittedModel<T>) -> steepest::data::ImageOptions {
    match model {
        FittedModel::Net(m) => steepest::data::ImageOptions::for_shape(m.net.input_shape(), false),
        _ => None,
    }
    .unwrap_or_default()
}

fn eval_typed<T: Scalar>(a: &EvalArgs) -> CliResult<()> {
    let model: FittedModel<T> = load_model(&a.model)?;
    let task = Some(crate::data_load::task_of(&model));
    if let Some(data) = read_encoded::<T>(&a.model, &a.data, a.format.as_deref(), a.target.as_deref(), task)? {
        return report_eval(a, &model, &data);
    }
    let mut opts = read_options(a.format.as_deref(), a.target.as_deref(), task)?;
    opts.vw_crosses = crate::data_load::model_crosses(&model);
    let data: Dataset<T> = read_named(&a.data, &opts, &image_options(&model))?;
    let data = by_name(&model, data, &a.data)?;
    let data = for_model(data, &model, &a.data)?;
    report_eval(a, &model, &data)
}

fn report_eval<T: Scalar>(a: &EvalArgs, model: &FittedModel<T>, data: &Dataset<T>) -> CliResult<()> {
    let m = crate::output::evaluate_checked(model, data)?;
    if a.json {
        let out = json!({
            "model": model.kind_name(),
            "model_dir": a.model.display().to_string(),
            "data": a.data,
            "rows": data.rows(),
            "metrics": metrics_json(&m, model.is_classifier()),
        });
        println!("{out}");
    } else {
        print_metrics(&m, model.is_classifier(), data.rows());
    }
    Ok(())
}

/// Runs `steepest predict`.
pub fn predict(a: PredictArgs) -> CliResult<()> {
    by_dtype!(&a.model, predict_typed(&a))
}

fn read_for_prediction<T: Scalar>(a: &PredictArgs, model: &FittedModel<T>) -> CliResult<Dataset<T>> {
    let data_name: &str = a.data.as_deref().unwrap_or_default();
    if let Some(d) = read_encoded::<T>(&a.model, data_name, a.format.as_deref(), a.target.as_deref(), None)? {
        return Ok(d);
    }
    let (n, task) = (model.n_inputs(), crate::data_load::task_of(model));
    let format = a
        .format
        .as_deref()
        .map(Format::parse)
        .transpose()?
        .or_else(|| Format::from_path(Path::new(data_name)));
    if format == Some(Format::Csv) || format.is_none() && Path::new(data_name).is_file() {
        // A CSV may hold just the features, or the features and a target column: with
        // --target that column is dropped by name (it may hold strings); without, the file is
        // read as all features, or, when that fails, with its last column as the target.
        let bare = CsvOptions {
            no_target: true,
            ..CsvOptions::default()
        };
        let with_target = CsvOptions {
            target: a.target.clone(),
            task: Some(task),
            ..CsvOptions::default()
        };
        let d: Dataset<T> = match &a.target {
            Some(_) => read_csv(data_name, &with_target)?,
            None => match read_csv(data_name, &bare) {
                Ok(d) => d,
                Err(first) => read_csv(data_name, &with_target).map_err(|_| first)?,
            },
        };
        // Columns named as the model's features are taken by name (the target and any other
        // column left out); a file without a header is read by position.
        let names = model.feature_names();
        if !names.is_empty() && d.feature_names != names {
            if let Some((d, extra)) = d
                .select_columns(names)
                .map_err(|e| usage(format!("{}: {e}", data_name)))?
            {
                let extra: Vec<&String> = extra
                    .iter()
                    .filter(|c| Some(c.as_str()) != a.target.as_deref())
                    .collect();
                if !extra.is_empty() {
                    eprintln!(
                        "note: {}: columns not used by the model: {}",
                        data_name,
                        extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    );
                }
                return Ok(d);
            }
        }
        if d.cols() == n {
            return Ok(d);
        }
        if d.cols() == n + 1 && a.target.is_none() {
            let d: Dataset<T> = read_csv(data_name, &with_target)?;
            if d.cols() == n {
                return Ok(d);
            }
        }
        return Err(usage(format!(
            "{}: {} columns, the model takes {n} features (plus an optional target)",
            data_name,
            d.cols()
        )));
    }
    let mut opts = read_options(a.format.as_deref(), a.target.as_deref(), Some(task))?;
    opts.vw_crosses = crate::data_load::model_crosses(model);
    let d: Dataset<T> = read_named(data_name, &opts, &image_options(model))?;
    for_model(d, model, data_name)
}

/// `predict --model RUN a.png b.jpg ...`: one line per file, its class and that class's
/// probability (empty for models without probabilities).
fn predict_files<T: Scalar>(a: &PredictArgs, model: &FittedModel<T>) -> CliResult<()> {
    if !model.is_classifier() {
        return Err(usage("predict IMAGE...: the model is not a classifier"));
    }
    let opts = image_options(model);
    let decoded = steepest::data::read_images::<T>(&a.files, &opts)?;
    let (x, shape) = (decoded.pixels, decoded.shape);
    if x.row_len() != model.n_inputs() {
        return Err(usage(format!(
            "the images are {} values each ({}x{}x{}), the model takes {}",
            x.row_len(),
            shape[0],
            shape[1],
            shape[2],
            model.n_inputs()
        )));
    }
    let features = steepest::data::Features::Dense(x);
    let Predictions::Classes(classes) = model.predict(&features)? else {
        return Err(usage("predict IMAGE...: the model is not a classifier"));
    };
    let proba = model.predict_proba(&features)?;
    let names = model.class_names();
    let rows: Vec<(String, String, Option<f64>)> = a
        .files
        .iter()
        .zip(&classes)
        .enumerate()
        .map(|(i, (f, &c))| {
            let p = proba.as_ref().map(|p| p.row(i)[c].as_f64());
            (f.display().to_string(), names[c].clone(), p)
        })
        .collect();
    let io = |e: std::io::Error| crate::error::failed(format!("writing predictions: {e}"));
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if a.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(f, c, p)| json!({ "file": f, "class": c, "probability": p }))
            .collect();
        writeln!(w, "{}", serde_json::Value::Array(v)).map_err(io)?;
    } else {
        writeln!(w, "file,class,probability").map_err(io)?;
        for (f, c, p) in rows {
            let quote = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            writeln!(
                w,
                "{},{},{}",
                quote(&f),
                quote(&c),
                p.map_or(String::new(), |p| format!("{p:.6}"))
            )
            .map_err(io)?;
        }
    }
    w.flush().map_err(io)
}

fn predict_typed<T: Scalar>(a: &PredictArgs) -> CliResult<()> {
    let model: FittedModel<T> = load_model(&a.model)?;
    if !a.files.is_empty() {
        return predict_files(a, &model);
    }
    let data = read_for_prediction::<T>(a, &model)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| crate::error::failed(format!("writing predictions: {e}"));
    if a.proba {
        let p = model.predict_proba(&data.features)?.ok_or_else(|| {
            let hint = match &model {
                FittedModel::Kernel(_) => " (train the kernel SVM with --probability)",
                _ => "",
            };
            usage(format!(
                "--proba: model '{}' gives no probabilities{hint}",
                model.kind_name()
            ))
        })?;
        writeln!(w, "{}", model.class_names().join(",")).map_err(io)?;
        for r in 0..p.rows_count() {
            let row: Vec<String> = p.row(r).iter().map(|v| format!("{v}")).collect();
            writeln!(w, "{}", row.join(",")).map_err(io)?;
        }
    } else {
        writeln!(w, "prediction").map_err(io)?;
        match model.predict(&data.features)? {
            Predictions::Classes(c) => {
                for k in c {
                    writeln!(w, "{}", model.class_names()[k]).map_err(io)?;
                }
            }
            Predictions::Values(v) => {
                for x in v {
                    writeln!(w, "{x}").map_err(io)?;
                }
            }
        }
    }
    w.flush().map_err(io)
}

/// Runs `steepest inspect`.
pub fn inspect(a: InspectArgs) -> CliResult<()> {
    by_dtype!(&a.dir, inspect_typed(&a))
}

fn inspect_typed<T: Scalar>(a: &InspectArgs) -> CliResult<()> {
    let model: FittedModel<T> = load_model(&a.dir)?;
    if a.stats {
        return crate::cmd_stats::inspect_stats(a, &model);
    }
    let shapes: serde_json::Map<String, serde_json::Value> = model
        .weights()
        .iter()
        .map(|(n, t)| (n.to_string(), json!(t.shape())))
        .collect();
    let count = model.weights().num_elements();
    let h = model.history();
    let last = h.last();
    let names: Vec<String> = if model.feature_names().is_empty() {
        (0..model.n_inputs()).map(|i| format!("f{i}")).collect()
    } else {
        model.feature_names().to_vec()
    };
    let mut out = json!({
        "model": model.kind_name(),
        "task": if model.is_classifier() { "classify" } else { "regress" },
        "features": model.n_inputs(),
        "classes": model.class_names(),
        "parameters": shapes,
        "parameter_count": count,
        "training": {
            "epochs": h.len(),
            "final_train_loss": last.map(|r| r.train_loss),
            "final_val_loss": last.and_then(|r| r.val_loss),
            "final_val_metric": last.and_then(|r| r.val_metric.clone()),
        },
    });
    if let FittedModel::Kernel(k) = &model {
        out["kernel"] = json!(k.kernel);
        out["support_vectors"] = json!(k.support_count());
        out["kernel_approx"] = json!(k.params.approx);
        out["components"] = json!(k.map.as_ref().map(|m| m.components()));
    }
    if let FittedModel::Net(m) = &model {
        out["input_shape"] = json!(m.net.input_shape());
        out["layers"] = json!(m.net.summary());
    }
    let mut table: Vec<(String, Vec<f64>)> = Vec::new();
    let mut intercepts = Vec::new();
    if let FittedModel::Linear(m) = &model {
        if let Ok((coef, intercept)) = m.coefficients() {
            let feat = if m.feature_names.is_empty() {
                names.clone()
            } else {
                m.feature_names.clone()
            };
            let outputs = coef.len();
            let per_output = |c: &Vec<f64>| -> serde_json::Map<String, serde_json::Value> {
                feat.iter().zip(c).map(|(n, v)| (n.clone(), json!(v))).collect()
            };
            if outputs == 1 {
                out["coefficients"] = serde_json::Value::Object(per_output(&coef[0]));
                out["intercept"] = json!(intercept[0]);
            } else {
                let by_class: serde_json::Map<String, serde_json::Value> = m
                    .class_names
                    .iter()
                    .zip(&coef)
                    .map(|(c, w)| (c.clone(), serde_json::Value::Object(per_output(w))))
                    .collect();
                out["coefficients"] = serde_json::Value::Object(by_class);
                let ic: serde_json::Map<String, serde_json::Value> = m
                    .class_names
                    .iter()
                    .zip(&intercept)
                    .map(|(c, b)| (c.clone(), json!(b)))
                    .collect();
                out["intercept"] = serde_json::Value::Object(ic);
            }
            table = feat
                .iter()
                .enumerate()
                .map(|(j, n)| (n.clone(), coef.iter().map(|c| c[j]).collect()))
                .collect();
            intercepts = intercept;
        }
    }
    if a.json {
        println!("{out}");
        return Ok(());
    }
    println!("model      {}", model.kind_name());
    println!("task       {}", out["task"].as_str().unwrap_or(""));
    println!("features   {}", model.n_inputs());
    if model.is_classifier() {
        println!("classes    {}", model.class_names().join(", "));
    }
    println!("parameters {count}");
    if let FittedModel::Kernel(k) = &model {
        println!("model      {}", k.describe());
    }
    if let FittedModel::Net(m) = &model {
        println!("layers (output shape of one example; input {:?}):", m.net.input_shape());
        println!("  {:<12} {:<18} {:<18} {:>10}", "name", "type", "output", "parameters");
        for l in m.net.summary() {
            println!(
                "  {:<12} {:<18} {:<18} {:>10}",
                l.name,
                l.kind,
                format!("{:?}", l.output),
                l.params
            );
        }
    }
    for (n, t) in model.weights().iter() {
        println!("  {n:<24} {:?}", t.shape());
    }
    if let Some(r) = last {
        let val = r
            .val_metric
            .as_ref()
            .map_or(String::new(), |(n, v)| format!(", validation {n} {v:.4}"));
        println!(
            "training   {} epochs, final train loss {:.5}{val}",
            h.len(),
            r.train_loss
        );
    }
    if !table.is_empty() {
        println!("coefficients (original feature units):");
        let heads: Vec<String> = if intercepts.len() == 1 {
            vec!["value".into()]
        } else {
            model.class_names().to_vec()
        };
        println!(
            "  {:<24} {}",
            "feature",
            heads.iter().map(|h| format!("{h:>12}")).collect::<String>()
        );
        for (n, vals) in &table {
            println!(
                "  {n:<24} {}",
                vals.iter().map(|v| format!("{v:>12.5}")).collect::<String>()
            );
        }
        println!(
            "  {:<24} {}",
            "(intercept)",
            intercepts.iter().map(|v| format!("{v:>12.5}")).collect::<String>()
        );
    }
    Ok(())
}
