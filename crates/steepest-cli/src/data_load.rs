//! Loading the data a command names: an embedded dataset or a file, and the test part.

use crate::config::RunConfig;
use crate::distributed::agree;
use crate::error::{usage, CliError, CliResult};
use std::path::Path;
use steepest::collective::{shard_range, Communicator};
use steepest::data::{
    embedded, read_file, read_table, read_table_from, split, ColumnKind, CsvOptions, Dataset, EncodeOptions,
    EncodeReport, Format, ReadOptions, Table, TableEncoder, Task,
};
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
        "linear" | "ridge" | "lasso" | "elastic-net" | "svr" => Some(Task::Regress),
        "logistic" | "softmax" | "svm" | "rbf-svm" | "perceptron" => Some(Task::Classify),
        _ => None,
    }
}

/// The task of a fitted model's targets: classes for a classifier, values otherwise.
pub fn task_of<T: Scalar>(m: &steepest::models::FittedModel<T>) -> Task {
    use steepest::models::Predictor;
    match m.is_classifier() {
        true => Task::Classify,
        false => Task::Regress,
    }
}

/// Read options from the format name, target column and task.
pub fn read_options(format: Option<&str>, target: Option<&str>, task: Option<Task>) -> CliResult<ReadOptions> {
    read_options_encoded(format, target, task, EncodeOptions::default())
}

/// [`read_options`] with the encoding of a CSV's columns (categorical columns, imputation).
pub fn read_options_encoded(
    format: Option<&str>,
    target: Option<&str>,
    task: Option<Task>,
    encode: EncodeOptions,
) -> CliResult<ReadOptions> {
    let format = format
        .map(Format::parse)
        .transpose()
        .map_err(|e| usage(format!("--format: {e}")))?;
    Ok(ReadOptions {
        format,
        csv: CsvOptions {
            target: target.map(String::from),
            task,
            encode,
            ..CsvOptions::default()
        },
        vw_crosses: Vec::new(),
    })
}

/// Whether `name` means an embedded dataset (no file of that name exists).
fn is_embedded(name: &str) -> bool {
    embedded::LIST.iter().any(|(n, _, _)| *n == name) && !Path::new(name).exists()
}

/// The table of a CSV file or an embedded dataset, before encoding; `None` for other formats
/// (LIBSVM, IDX), which are numeric already.
pub fn read_table_named(name: &str, opts: &ReadOptions) -> CliResult<Option<Table>> {
    if is_embedded(name) && embedded::is_images(name) {
        return Ok(None);
    }
    if is_embedded(name) {
        let csv = CsvOptions {
            task: opts
                .csv
                .task
                .or_else(|| embedded::LIST.iter().find(|(n, _, _)| *n == name).map(|(_, t, _)| *t)),
            ..opts.csv.clone()
        };
        let text = embedded::csv_text(name)?;
        return Ok(Some(read_table_from(text.as_bytes(), name, &csv)?));
    }
    let path = Path::new(name);
    if path.is_dir() || opts.format.or_else(|| Format::from_path(path)) != Some(Format::Csv) {
        return Ok(None);
    }
    if !path.exists() {
        return Err(usage(format!(
            "{name}: no such file (embedded datasets: digits, iris, diabetes, mnist10k)"
        )));
    }
    Ok(Some(read_table(path, &opts.csv)?))
}

/// Encodes `table` with `enc`, printing a note for what it met (categories not seen in training).
pub fn encode_table<T: Scalar>(enc: &TableEncoder, table: &Table, quiet: bool) -> CliResult<Dataset<T>> {
    encode_table_report(enc, table, quiet).map(|(d, _)| d)
}

/// [`encode_table`], also returning the report (the columns the encoder left unused, say).
pub fn encode_table_report<T: Scalar>(
    enc: &TableEncoder,
    table: &Table,
    quiet: bool,
) -> CliResult<(Dataset<T>, EncodeReport)> {
    let (d, report) = enc.transform::<T>(table)?;
    if !quiet {
        for n in report.notes(&table.source) {
            eprintln!("warning: {n}");
        }
    }
    Ok((d, report))
}

/// One warning for the image files `--skip-bad` left out, naming the first.
fn warn_skipped(skipped: &[steepest::data::Skipped]) {
    if let Some((first, why)) = skipped.first() {
        eprintln!(
            "warning: {} image files could not be decoded and were left out (first: {}: {why})",
            skipped.len(),
            first.display()
        );
    }
}

/// A folder's training split and test split (when it has one): an image folder (class
/// folders, see [`steepest::data::read_image_folder`]) or IDX pairs; undecodable images left
/// out with `--skip-bad` are counted in a warning.
pub fn read_folder<T: Scalar>(
    name: &str,
    images: &steepest::data::ImageOptions,
) -> CliResult<(Dataset<T>, Option<Dataset<T>>)> {
    if steepest::data::is_image_folder(Path::new(name)) {
        let f = steepest::data::read_image_folder::<T>(name, images)?;
        warn_skipped(&f.skipped);
        return Ok((f.train, f.test));
    }
    let dir = Path::new(name);
    let idx = ["", ".gz"]
        .iter()
        .any(|ext| dir.join(format!("train-images-idx3-ubyte{ext}")).is_file());
    if !idx {
        return Err(usage(format!(
            "{name}: a data folder is an image folder (a subfolder per class of PNG, JPEG, BMP or GIF files, \
             with train/ and test/ when split) or an IDX pair per split named as MNIST's files \
             (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]); this one holds {}",
            folder_contents(dir)
        )));
    }
    Ok(steepest::data::read_idx_dir::<T>(name)?)
}

/// What a folder holds, for an error: its files counted by extension (subfolders one level
/// down included), the most common first.
fn folder_contents(dir: &Path) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    for e in entries {
        let path = e.path();
        let files: Vec<std::path::PathBuf> = match path.is_dir() {
            true => std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|f| f.path())
                .filter(|f| f.is_file())
                .collect(),
            false => vec![path],
        };
        for f in files {
            let ext = f.extension().map_or_else(
                || "without an extension".to_string(),
                |x| format!(".{}", x.to_string_lossy()),
            );
            *counts.entry(ext).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return "no files".into();
    }
    let mut by_count: Vec<(String, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let parts: Vec<String> = by_count
        .iter()
        .take(4)
        .map(|(ext, n)| match ext.starts_with('.') {
            true => format!("{n} {ext} files"),
            false => format!("{n} files {ext}"),
        })
        .collect();
    parts.join(", ")
}

/// An embedded dataset (when `name` is one and no file of that name exists) or a file; a
/// folder's test split when it has one (what eval and predict want), its images read as
/// `images` says.
pub fn read_named<T: Scalar>(
    name: &str,
    opts: &ReadOptions,
    images: &steepest::data::ImageOptions,
) -> CliResult<Dataset<T>> {
    if Path::new(name).is_dir() {
        let (train, test) = read_folder::<T>(name, images)?;
        return Ok(test.unwrap_or(train));
    }
    let is_embedded = is_embedded(name);
    let mut d = if is_embedded {
        embedded::by_name::<T>(name)?
    } else {
        if !Path::new(name).exists() {
            return Err(usage(format!(
                "{name}: no such file (embedded datasets: digits, iris, diabetes, mnist10k)"
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

/// What a run trains and tests on.
pub struct Loaded<T: Scalar> {
    /// The training rows.
    pub train: Dataset<T>,
    /// The test rows.
    pub test: Dataset<T>,
    /// A note about the test rows (when they are the training rows).
    pub note: Option<String>,
    /// How a CSV's columns were encoded (fitted on the training rows), when it is not the
    /// identity: stored with the model.
    pub encoder: Option<TableEncoder>,
}

/// The read options of a run.
fn run_read_options(cfg: &RunConfig) -> CliResult<ReadOptions> {
    let task = parse_task(cfg.task.as_deref())?.or_else(|| model_task(&cfg.model));
    let mut opts = read_options_encoded(
        cfg.format.as_deref(),
        cfg.target.as_deref(),
        task,
        cfg.encode_options()?,
    )?;
    opts.vw_crosses = cfg.namespace_crosses()?;
    Ok(opts)
}

/// The Vowpal Wabbit namespace crosses `model` was trained with (its test and prediction files
/// are read with them); none for other models.
pub fn model_crosses<T: Scalar>(model: &steepest::models::FittedModel<T>) -> Vec<(u8, u8)> {
    match model {
        steepest::models::FittedModel::Linear(m) => m
            .params
            .interactions
            .as_ref()
            .map_or_else(Vec::new, |q| q.namespaces.clone()),
        _ => Vec::new(),
    }
}

/// The training and test rows of `cfg`'s data: a test file, a folder's test split, or a
/// stratified split of the data. A CSV's columns are encoded (categories, imputation) by an
/// encoder fitted on the training rows only.
pub fn load_train_test<T: Scalar>(cfg: &RunConfig) -> CliResult<Loaded<T>> {
    let opts = run_read_options(cfg)?;
    if Path::new(&cfg.data).is_dir() && opts.format.is_some_and(|f| f != Format::Idx) {
        return Err(usage(format!(
            "{}: a folder; --format {} reads a file (a folder holds IDX pairs or images in class folders)",
            cfg.data,
            cfg.format.as_deref().unwrap_or("")
        )));
    }
    let images = cfg.image_options()?;
    let list = Path::new(&cfg.data).is_file()
        && opts.format.or_else(|| Format::from_path(Path::new(&cfg.data))) == Some(Format::Csv)
        && steepest::data::is_image_list(Path::new(&cfg.data));
    if !list {
        if let Some(table) = read_table_named(&cfg.data, &opts)? {
            return load_table(cfg, &opts, table);
        }
    }
    let (data, dir_test) = if list {
        let f = steepest::data::read_image_list::<T>(&cfg.data, &images)?;
        warn_skipped(&f.skipped);
        (f.train, None)
    } else if Path::new(&cfg.data).is_dir() {
        read_folder::<T>(&cfg.data, &images)?
    } else if is_embedded(&cfg.data) && embedded::is_images(&cfg.data) {
        let (train, test) = embedded::mnist10k::<T>()?;
        (train, Some(test))
    } else {
        (read_named::<T>(&cfg.data, &opts, &images)?, None)
    };
    if data.rows() < 2 {
        return Err(usage(format!(
            "{}: needs at least 2 rows, found {}",
            cfg.data,
            data.rows()
        )));
    }
    let loaded = |train, test, note| Loaded {
        train,
        test,
        note,
        encoder: None,
    };
    if let Some(t) = &cfg.test_data {
        // Images of a test folder at the training images' size and channels.
        let test_images = steepest::data::ImageOptions::for_shape(&data.example_shape, cfg.skip_bad)
            .unwrap_or_else(|| images.clone());
        let test = read_named::<T>(t, &opts, &test_images)?;
        let test = fit_width(test, data.cols(), t, "the training data has")?;
        return Ok(loaded(data, test, None));
    }
    if let Some(test) = dir_test {
        return Ok(loaded(data, test, None));
    }
    if cfg.test_split == 0.0 {
        let note = "no test data (--test-split 0): metrics are on the training rows".to_string();
        return Ok(loaded(data.clone(), data, Some(note)));
    }
    let s = split(&data.targets, 0.0, cfg.test_split, cfg.seed).map_err(|e| usage(format!("--test-split: {e}")))?;
    if s.test.is_empty() {
        return Err(usage(format!(
            "--test-split {}: leaves no test rows out of {}",
            cfg.test_split,
            data.rows()
        )));
    }
    Ok(loaded(data.subset(&s.train)?, data.subset(&s.test)?, None))
}

/// `data` at `cols` features: sparse rows cut or widened (a LIBSVM file's width is its
/// highest index; entries of features beyond `cols` were never seen in training and have no
/// weight: they are counted in a note), dense rows must match. `against` ends the error:
/// "{name}: N features, {against} M".
pub fn fit_width<T: Scalar>(mut data: Dataset<T>, cols: usize, name: &str, against: &str) -> CliResult<Dataset<T>> {
    let have = data.cols();
    let (features, dropped) = data
        .features
        .fit_cols(cols)
        .map_err(|_| usage(format!("{name}: {have} features, {against} {cols}")))?;
    if dropped > 0 {
        eprintln!(
            "note: {name}: {dropped} entries of features numbered beyond the {cols} seen in training ignored (they have no weight)"
        );
    }
    data.features = features;
    Ok(data)
}

/// `data` with its sparse columns hashed into 2^`bits` buckets by `hasher` (which counts the
/// collisions); an error for dense data.
pub fn hashed<T: Scalar>(
    mut data: Dataset<T>,
    hasher: &mut steepest::data::FeatureHasher,
    name: &str,
) -> CliResult<Dataset<T>> {
    data.features = hasher
        .hash_features(data.features)
        .map_err(|e| usage(format!("{name}: --hash-bits: {e}")))?;
    data.feature_names = Vec::new();
    Ok(data)
}

/// The data a model reads: hashed as it was trained (`--hash-bits`), then cut or widened to its
/// inputs.
pub fn for_model<T: Scalar>(
    data: Dataset<T>,
    model: &steepest::models::FittedModel<T>,
    name: &str,
) -> CliResult<Dataset<T>> {
    let data = match model {
        steepest::models::FittedModel::Linear(m) => match m.params.hash_bits {
            Some(bits) => hashed(data, &mut steepest::data::FeatureHasher::new(bits)?, name)?,
            None => data,
        },
        _ => data,
    };
    fit_width(data, model.n_inputs(), name, "the model takes")
}

/// [`load_train_test`] for a table: split, then the encoder fitted on the training rows.
fn load_table<T: Scalar>(cfg: &RunConfig, opts: &ReadOptions, table: Table) -> CliResult<Loaded<T>> {
    if table.rows() < 2 {
        return Err(usage(format!(
            "{}: needs at least 2 rows, found {}",
            cfg.data,
            table.rows()
        )));
    }
    // Checked on every row first, so that an error names the file's first bad cell.
    TableEncoder::fit(&table, &opts.csv.encode).map_err(|e| usage(e.to_string()))?;
    let (train, test, note) = if let Some(t) = &cfg.test_data {
        let test = read_table_named(t, opts)?.ok_or_else(|| {
            usage(format!(
                "{t}: the training data is a CSV table; give the test rows as one too"
            ))
        })?;
        (table, Some(test), None)
    } else if cfg.test_split == 0.0 {
        let note = "no test data (--test-split 0): metrics are on the training rows".to_string();
        (table, None, Some(note))
    } else {
        let s =
            split(&table.targets, 0.0, cfg.test_split, cfg.seed).map_err(|e| usage(format!("--test-split: {e}")))?;
        if s.test.is_empty() {
            return Err(usage(format!(
                "--test-split {}: leaves no test rows out of {}",
                cfg.test_split,
                table.rows()
            )));
        }
        (table.subset(&s.train)?, Some(table.subset(&s.test)?), None)
    };
    let enc = TableEncoder::fit(&train, &opts.csv.encode).map_err(|e| usage(e.to_string()))?;
    for c in &enc.columns {
        if let ColumnKind::Categorical { categories, .. } = &c.kind {
            // Nearly one category per row: an identifier or free text, not a category.
            if categories.len() > 50 && categories.len() * 2 > train.rows() {
                eprintln!(
                    "warning: {}: column '{}' has {} categories in {} training rows (an identifier or \
                     free text?): each becomes a column; --ignore {} leaves it out",
                    cfg.data,
                    c.name,
                    categories.len(),
                    train.rows(),
                    c.name
                );
            }
        }
    }
    let train_d: Dataset<T> = encode_table(&enc, &train, false)?;
    let test_d = match &test {
        Some(t) => encode_table(&enc, t, false)?,
        None => train_d.clone(),
    };
    Ok(Loaded {
        train: train_d,
        test: test_d,
        note,
        encoder: (!enc.is_identity()).then_some(enc),
    })
}

/// A rank's training rows, the test rows (on rank 0), a note about the test rows, and the
/// encoding of a CSV's columns (when not the identity).
pub type Shard<T> = (Dataset<T>, Option<Dataset<T>>, Option<String>, Option<TableEncoder>);

/// In a distributed run: this rank's shard of the training rows (read with
/// [`read_shard`](steepest_distributed::read_shard): a byte range of a LIBSVM file; CSV, IDX
/// and embedded data are read whole and sliced), and on rank 0 the test data: `--test-data`,
/// or the rows rank 0 held out of its shard (every rank holds out `--test-split` of its shard,
/// so that all train on the same share). Every error is agreed across ranks (`all_ranks`).
/// A CSV's encoding (categories, imputation) is fitted by every rank on the whole file, so that
/// all ranks encode alike.
pub fn load_shard<T: Scalar>(cfg: &RunConfig, comm: &mut dyn Communicator) -> CliResult<Shard<T>> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let opts = run_read_options(cfg)?;
    let name = cfg.data.as_str();
    let embedded = is_embedded(name);
    let exists = match embedded || Path::new(name).exists() {
        true => Ok(()),
        false => Err(usage(format!(
            "{name}: no such file (embedded datasets: digits, iris, diabetes, mnist10k)"
        ))),
    };
    agree(Some(&mut *comm), exists)?;
    // Every rank reads the same bytes, so a table's errors are the same on every rank.
    let all = |e: CliError| CliError { all_ranks: true, ..e };
    let table = read_table_named(name, &opts).map_err(all)?;
    let mut encoder = None;
    let shard = if let Some(table) = table {
        let enc = TableEncoder::fit(&table, &opts.csv.encode).map_err(|e| all(usage(e.to_string())))?;
        let whole: Dataset<T> = encode_table(&enc, &table, rank != 0).map_err(all)?;
        encoder = Some(enc);
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
            let test = match (rank, &encoder) {
                (0, Some(enc)) => match read_table_named(t, &opts)? {
                    Some(table) => Some(encode_table(enc, &table, false)?),
                    None => {
                        return Err(usage(format!(
                            "{t}: the training data is a CSV table; give the test rows as one too"
                        )))
                    }
                },
                (0, None) => Some(read_named::<T>(t, &opts, &cfg.image_options()?)?),
                _ => None,
            };
            let test = match test {
                Some(test) => Some(fit_width(test, shard.cols(), t, "the training data has")?),
                None => None,
            };
            return Ok((shard, test, None, encoder.filter(|e| !e.is_identity())));
        }
        if cfg.test_split == 0.0 {
            let note = "no test data (--test-split 0): metrics are on rank 0's training rows".to_string();
            let test = (rank == 0).then(|| shard.clone());
            return Ok((shard, test, Some(note), encoder.filter(|e| !e.is_identity())));
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
        Ok((
            shard.subset(&s.train)?,
            test,
            Some(note),
            encoder.filter(|e| !e.is_identity()),
        ))
    })();
    agree(Some(comm), local)
}
