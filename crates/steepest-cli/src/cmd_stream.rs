//! `steepest train --stream`: a linear model learned while a LIBSVM file is read, block by
//! block, with memory for the model and one block (see `StreamSource`).

use crate::args::TrainArgs;
use crate::config::RunConfig;
use crate::data_load::{for_model, read_named, read_options};
use crate::error::{failed, usage, CliResult};
use crate::output::{metrics_json, print_metrics, write_file};
use crate::progress::Progress;
use crate::run_folder::Existing;
use crate::score_stream::{score_file, StreamReading};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use steepest::data::{Format, SparseText, StreamSource};
use steepest::models::{save_model_encoded, FittedModel, Predictor};
use steepest::tensor::Scalar;

/// Whether this run streams: `--stream`, or a linear model on a sparse file larger than a
/// quarter of the memory budget (said so).
pub fn wants_stream(cfg: &RunConfig, args: &TrainArgs) -> bool {
    if args.stream {
        return true;
    }
    if args.resume.is_some() || args.distributed || !cfg.is_linear() || !cfg.is_sparse_source() {
        return false;
    }
    let Ok(meta) = std::fs::metadata(&cfg.data) else {
        return false;
    };
    let (budget, _) = steepest::memory::budget();
    let big = meta.len() > budget / 4;
    if big {
        eprintln!(
            "note: {} ({}) is larger than a quarter of the memory budget ({}): streaming it (--stream)",
            cfg.data,
            steepest::memory::human(meta.len() as u128),
            steepest::memory::human(budget as u128)
        );
    }
    big
}

/// Trains by streaming (see the module docs).
///
/// Under MPI (`comm`) each rank streams its own byte range of the file and the ranks average
/// their models after every pass; rank 0 writes the run folder and scores the test file.
pub fn run<T: Scalar>(
    cfg: &RunConfig,
    out: &Path,
    args: &TrainArgs,
    mut comm: Option<&mut (dyn steepest::collective::Communicator + '_)>,
) -> CliResult<()> {
    if !cfg.is_linear() || !cfg.is_sparse_source() {
        return Err(usage(format!(
            "--stream: learns a linear model (linear, ridge, logistic, svm, perceptron) from a LIBSVM file; \
             here model '{}' on {}",
            cfg.model, cfg.data
        )));
    }
    if args.resume.is_some() {
        return Err(usage("--stream: a stream is not resumed; start it again"));
    }
    if !Path::new(&cfg.data).is_file() {
        return Err(usage(format!("{}: no such file", cfg.data)));
    }
    let mut params = cfg.linear_params()?;
    let crosses = cfg.namespace_crosses()?;
    if let (Some(bits), false) = (cfg.hash_bits, crosses.is_empty()) {
        params.interactions = Some(steepest::data::Interactions::namespaces(
            crosses.clone(),
            1usize << bits,
        ));
    } else if let Some(spec) = &cfg.interactions {
        let Some(bits) = cfg.hash_bits else {
            return Err(usage(
                "--interactions with --stream needs --hash-bits: a stream's width is known only at its end, \
                 so its crosses go into hash buckets",
            ));
        };
        let q = steepest::data::Interactions::parse(spec, &[], 1usize << bits, true)
            .map_err(|e| usage(format!("--{e}")))?;
        params.interactions = Some(q);
    }
    let params = params.check()?;
    if let Err(why) = params.fast_path() {
        return Err(usage(format!(
            "--stream takes per-example steps (--batch-size 1 with sgd, adagrad or invariant); here {why}"
        )));
    }
    let existing = if args.overwrite {
        Existing::Overwrite
    } else {
        Existing::Refuse
    };
    let root = comm.as_ref().is_none_or(|c| c.rank() == 0);
    let prepared = match root {
        true => crate::cmd_train::prepare_folder(cfg, out, existing).map(Some),
        false => Ok(None),
    };
    // Held until the run ends (rank 0 alone writes the folder).
    let _lock = crate::distributed::agree(comm.as_deref_mut(), prepared)?;
    let cache_dir = match &args.cache_dir {
        Some(d) => Some(d.clone()),
        None if cfg.epochs > 1 => Some(out.join("cache")),
        None => None,
    };
    let text = match cfg.is_vw_source() {
        true => steepest::data::SparseText::Vw { crosses },
        false => steepest::data::SparseText::Libsvm,
    };
    let source = StreamSource::with_text(Path::new(&cfg.data), text.clone(), cfg.hash_bits, cache_dir.as_deref());
    let source = match comm.as_deref() {
        Some(c) => source.and_then(|s| s.with_part(c.rank(), c.size())),
        None => source,
    };
    let mut source = crate::distributed::agree(comm.as_deref_mut(), source.map_err(Into::into))?;
    let quiet = args.quiet || !root;
    let mut progress = Progress::new(quiet);
    let mut recorder = match root {
        true => Some(crate::live_run::RunRecorder::start(out)?),
        false => None,
    };
    let t0 = Instant::now();
    let distributed = comm.is_some();
    let ranks = comm.as_deref().map_or(1, |c| c.size());
    let fitted = {
        let mut observers: Vec<&mut dyn steepest::train::Observer> = vec![&mut progress];
        if let Some(r) = recorder.as_mut() {
            observers.push(r);
        }
        params.fit_stream_with::<T>(&mut source, &mut observers, comm)
    };
    let fitted = fitted.map_err(|e| {
        if matches!(e, steepest::Error::Diverged(_)) && root {
            crate::live_run::end(out, crate::live_run::State::Diverged, Some(&e.to_string()));
        }
        let io = matches!(e, steepest::Error::Io { .. } | steepest::Error::Diverged(_));
        let mut err = crate::error::CliError::from(e);
        if io {
            err.code = 1;
        }
        // Every failure of a distributed stream is agreed across its ranks (rank 0 reports it).
        err.all_ranks = distributed;
        err
    })?;
    if !root {
        return Ok(());
    }
    let seconds = t0.elapsed().as_secs_f64();
    if let (Some(counts), Some(bits), false) = (source.collisions, cfg.hash_bits, quiet) {
        eprintln!("{}", steepest::data::FeatureHasher::describe(bits, counts));
    }
    if let (Some(c), false) = (source.cache_path(), quiet) {
        eprintln!(
            "cache: {} ({} of {} passes read from it)",
            c.display(),
            source.cached_passes,
            cfg.epochs
        );
    }
    let model = FittedModel::Linear(fitted);
    save_model_encoded(&model, None, out).map_err(|e| failed(format!("saving the model: {e}")))?;
    let history = model.history().clone();
    crate::cmd_train::write_history(out, &history)?;
    crate::cmd_train::plot_loss(out, &history)?;
    let (metrics, test_rows) = match &cfg.test_data {
        Some(t) => {
            let (m, rows) = score_test(&model, t, cfg, &text, source.one_based())?;
            (Some(m), Some(rows))
        }
        None => (None, None),
    };
    let summary = json!({
        "model": model.kind_name(),
        "optimizer": cfg.optimizer.as_ref().map_or("default", |o| o.name()),
        "epochs": history.len(),
        "seconds": seconds,
        "out_dir": out.display().to_string(),
        "train_loss": history.last().map(|h| h.train_loss),
        "progressive_loss": history.first().map(|h| h.train_loss),
        "streamed": true,
        "ranks": ranks,
        "cache": source.cache_path().map(|p| p.display().to_string()),
        "hash_collisions": source.collisions.map(|(d, c)| json!({"distinct": d, "collided": c})),
        "test_rows": test_rows,
        "data": cfg.data,
        "metrics": metrics.as_ref().map(|m| metrics_json(m, model.is_classifier())),
    });
    write_file(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)
            .map_err(|e| failed(e.to_string()))?
            .as_bytes(),
    )?;
    if args.json {
        println!("{summary}");
        return Ok(());
    }
    println!(
        "streamed {} ({} passes) in {seconds:.2} s; progressive loss {:.5} (first pass), {:.5} (last)",
        model.kind_name(),
        history.len(),
        history.first().map_or(f64::NAN, |h| h.train_loss),
        history.last().map_or(f64::NAN, |h| h.train_loss)
    );
    match (&metrics, test_rows) {
        (Some(m), Some(rows)) => print_metrics(m, model.is_classifier(), rows),
        _ => println!("no --test-data: the progressive loss is the held-out measure"),
    }
    println!("run folder: {}", out.display());
    Ok(())
}

/// The metrics of the streamed `model` on the test file `t` and its row count: a LIBSVM or
/// Vowpal Wabbit file is read block by block, as the training file was (same syntax, hashing
/// and index base); another format is read whole.
fn score_test<T: Scalar>(
    model: &FittedModel<T>,
    t: &str,
    cfg: &RunConfig,
    text: &SparseText,
    one_based: Option<bool>,
) -> CliResult<(BTreeMap<String, f64>, usize)> {
    let format = match cfg.format.as_deref() {
        Some(f) => Format::parse(f).ok(),
        None => Format::from_path(Path::new(t)),
    };
    if matches!(format, Some(Format::Libsvm | Format::Vw)) {
        let reading = StreamReading {
            text: text.clone(),
            hash_bits: cfg.hash_bits,
            one_based,
        };
        return score_file(model, t, &reading);
    }
    let mut opts = read_options(cfg.format.as_deref(), None, Some(crate::data_load::task_of(model)))?;
    opts.vw_crosses = crate::data_load::model_crosses(model);
    let d = read_named::<T>(t, &opts, &steepest::data::ImageOptions::default())?;
    let d = for_model(d, model, t)?;
    Ok((crate::output::evaluate_checked(model, &d)?, d.rows()))
}
