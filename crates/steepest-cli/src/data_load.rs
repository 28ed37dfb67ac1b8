//! Loading the data a command names: an embedded dataset or a file, and the test part.

use crate::config::RunConfig;
use crate::error::{usage, CliResult};
use std::path::Path;
use steepest::data::{embedded, read_file, split, CsvOptions, Dataset, Format, ReadOptions, Task};
use steepest::tensor::Scalar;

/// Parses a task name.
pub fn parse_task(s: Option<&str>) -> CliResult<Option<Task>> {
    match s {
        None => Ok(None),
        Some("classify") | Some("classification") => Ok(Some(Task::Classify)),
        Some("regress") | Some("regression") => Ok(Some(Task::Regress)),
        Some(t) => Err(usage(format!("--task: expected classify or regress, found '{t}'"))),
    }
}

/// Read options from the format name, target column and task.
pub fn read_options(format: Option<&str>, target: Option<&str>, task: Option<Task>) -> CliResult<ReadOptions> {
    let format = format
        .map(Format::parse)
        .transpose()
        .map_err(|e| usage(format!("--format: {e}")))?;
    Ok(ReadOptions {
        format,
        csv: CsvOptions {
            target: target.map(String::from),
            task,
            ..CsvOptions::default()
        },
    })
}

/// An embedded dataset (when `name` is one and no file of that name exists) or a file.
pub fn read_named<T: Scalar>(name: &str, opts: &ReadOptions) -> CliResult<Dataset<T>> {
    let is_embedded = embedded::LIST.iter().any(|(n, _, _)| *n == name) && !Path::new(name).exists();
    let mut d = if is_embedded {
        embedded::by_name::<T>(name)?
    } else {
        if !Path::new(name).exists() {
            return Err(usage(format!(
                "{name}: no such file (embedded datasets: digits, iris, diabetes)"
            )));
        }
        read_file::<T>(name, opts)?
    };
    if is_embedded {
        if let Some(task) = opts.csv.task {
            if task != d.targets.task() {
                // An embedded set read with another task: re-read its targets that way.
                let text = embedded::csv_text(name)?;
                let csv = CsvOptions {
                    task: Some(task),
                    ..opts.csv.clone()
                };
                d = steepest::data::read_csv_from(text.as_bytes(), name, &csv)?;
            }
        }
    }
    Ok(d)
}

/// The training and test data of a run, and a note when the test data is the training data.
pub fn load_train_test<T: Scalar>(cfg: &RunConfig) -> CliResult<(Dataset<T>, Dataset<T>, Option<String>)> {
    let task = parse_task(cfg.task.as_deref())?;
    let opts = read_options(cfg.format.as_deref(), cfg.target.as_deref(), task)?;
    let data = read_named::<T>(&cfg.data, &opts)?;
    if data.rows() < 2 {
        return Err(usage(format!(
            "{}: needs at least 2 rows, found {}",
            cfg.data,
            data.rows()
        )));
    }
    if let Some(t) = &cfg.test_data {
        let test = read_named::<T>(t, &opts)?;
        if test.cols() != data.cols() {
            return Err(usage(format!(
                "{t}: {} features, the training data has {}",
                test.cols(),
                data.cols()
            )));
        }
        return Ok((data, test, None));
    }
    if cfg.test_split == 0.0 {
        let note = "no test data (--test-split 0): metrics are on the training rows".to_string();
        return Ok((data.clone(), data, Some(note)));
    }
    let s = split(&data.targets, 0.0, cfg.test_split, cfg.seed).map_err(|e| usage(format!("--test-split: {e}")))?;
    if s.test.is_empty() {
        return Err(usage(format!(
            "--test-split {}: leaves no test rows out of {}",
            cfg.test_split,
            data.rows()
        )));
    }
    Ok((data.subset(&s.train)?, data.subset(&s.test)?, None))
}
