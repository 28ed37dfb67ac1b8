//! Loading the data a command names: an embedded dataset or a file, and the test part.

use crate::config::RunConfig;
use crate::distributed::agree;
use crate::error::{usage, CliError, CliResult};
use std::path::Path;
use steepest::collective::{shard_range, Communicator};
use steepest::data::{embedded, read_file, split, CsvOptions, Dataset, Format, ReadOptions, Task};
use steepest::tensor::Scalar;
use steepest_distributed::read_shard;

/// Parses a task name.
pub fn parse_task(s: Option<&str>) -> CliResult<Option<Task>> {
    match s {
        None => Ok(None),
        Some("classify") | Some("classification") => Ok(Some(Task::Classify)),
        Some("regress") | Some("regression") => Ok(Some(Task::Regress)),
        Some(t) => Err(usage(format!("--task: expected classify or regress, found '{t}'"))),
    }
}

/// The task a model name implies (regression models read their targets as values, even whole
/// numbers such as a price or a count; classifiers as classes); `None` for networks, whose task
/// follows from the data.
pub fn model_task(model: &str) -> Option<Task> {
    match model {
        "linear" | "ridge" | "lasso" | "elastic-net" => Some(Task::Regress),
        "logistic" | "softmax" | "svm" | "rbf-svm" | "perceptron" => Some(Task::Classify),
        _ => None,
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

/// Whether `name` means an embedded dataset (no file of that name exists).
fn is_embedded(name: &str) -> bool {
    embedded::LIST.iter().any(|(n, _, _)| *n == name) && !Path::new(name).exists()
}

/// An embedded dataset (when `name` is one and no file of that name exists) or a file.
pub fn read_named<T: Scalar>(name: &str, opts: &ReadOptions) -> CliResult<Dataset<T>> {
    if Path::new(name).is_dir() {
        // A folder of IDX pairs: its test split when it has one (what eval and predict want).
        let (train, test) = steepest::data::read_idx_dir::<T>(name)?;
        return Ok(test.unwrap_or(train));
    }
    let is_embedded = is_embedded(name);
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
    let task = parse_task(cfg.task.as_deref())?.or_else(|| model_task(&cfg.model));
    let opts = read_options(cfg.format.as_deref(), cfg.target.as_deref(), task)?;
    let (data, dir_test) = match Path::new(&cfg.data).is_dir() {
        true => steepest::data::read_idx_dir::<T>(&cfg.data)?,
        false => (read_named::<T>(&cfg.data, &opts)?, None),
    };
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
    if let Some(test) = dir_test {
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

/// A rank's training rows, the test rows (on rank 0) and a note about the test rows.
pub type Shard<T> = (Dataset<T>, Option<Dataset<T>>, Option<String>);

/// In a distributed run: this rank's shard of the training rows (read with
/// [`read_shard`](steepest_distributed::read_shard): a byte range of a LIBSVM file; CSV, IDX
/// and embedded data are read whole and sliced), and on rank 0 the test data: `--test-data`,
/// or the rows rank 0 held out of its shard (every rank holds out `--test-split` of its shard,
/// so that all train on the same share). Every error is agreed across ranks (`all_ranks`).
pub fn load_shard<T: Scalar>(cfg: &RunConfig, comm: &mut dyn Communicator) -> CliResult<Shard<T>> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let task = parse_task(cfg.task.as_deref())?.or_else(|| model_task(&cfg.model));
    let opts = read_options(cfg.format.as_deref(), cfg.target.as_deref(), task)?;
    let name = cfg.data.as_str();
    let embedded = is_embedded(name);
    let exists = match embedded || Path::new(name).exists() {
        true => Ok(()),
        false => Err(usage(format!(
            "{name}: no such file (embedded datasets: digits, iris, diabetes)"
        ))),
    };
    agree(Some(&mut *comm), exists)?;
    let shard = if embedded {
        let whole = read_named::<T>(name, &opts)?;
        whole.subset(&shard_range(whole.rows(), rank, ranks).collect::<Vec<_>>())?
    } else {
        read_shard::<T>(comm, Path::new(name), &opts).map_err(|e| CliError {
            all_ranks: true,
            ..CliError::from(e)
        })?
    };
    let local = (|| -> CliResult<_> {
        if shard.rows() == 0 {
            return Err(usage(format!(
                "{name}: no rows for this rank (fewer rows than the {ranks} ranks)"
            )));
        }
        if let Some(t) = &cfg.test_data {
            let test = if rank == 0 {
                Some(read_named::<T>(t, &opts)?)
            } else {
                None
            };
            if let Some(test) = &test {
                if test.cols() != shard.cols() {
                    return Err(usage(format!(
                        "{t}: {} features, the training data has {}",
                        test.cols(),
                        shard.cols()
                    )));
                }
            }
            return Ok((shard, test, None));
        }
        if cfg.test_split == 0.0 {
            let note = "no test data (--test-split 0): metrics are on rank 0's training rows".to_string();
            let test = (rank == 0).then(|| shard.clone());
            return Ok((shard, test, Some(note)));
        }
        let s =
            split(&shard.targets, 0.0, cfg.test_split, cfg.seed).map_err(|e| usage(format!("--test-split: {e}")))?;
        if s.test.is_empty() {
            return Err(usage(format!(
                "--test-split {}: leaves no test rows out of this rank's {}",
                cfg.test_split,
                shard.rows()
            )));
        }
        let test = match rank {
            0 => Some(shard.subset(&s.test)?),
            _ => None,
        };
        let note = format!(
            "test metrics are on the {} rows rank 0 held out of its shard (each rank held out {} of its rows)",
            s.test.len(),
            cfg.test_split
        );
        Ok((shard.subset(&s.train)?, test, Some(note)))
    })();
    agree(Some(comm), local)
}
