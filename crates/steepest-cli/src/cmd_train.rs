//! `steepest train`.

use crate::args::TrainArgs;
use crate::config::RunConfig;
use crate::data_load::{load_shard, load_train_test};
use crate::distributed::{agree, threads_per_rank};
use crate::error::{failed, usage, CliError, CliResult, RunFailure};
use crate::live_run;
use crate::output::{metrics_json, next_dir, print_metrics, write_file};
use crate::plots;
use crate::progress::Progress;
use crate::run_folder::{self, Existing, FolderLock};
use serde_json::json;
use std::path::Path;
use std::time::Instant;
use steepest::collective::Communicator;
use steepest::data::Dataset;
use steepest::models::{save_model_encoded, FittedModel, Predictor};
use steepest::tensor::Scalar;
use steepest::train::{metrics, Checkpoint, History};

/// Runs `steepest train`.
pub fn run(args: TrainArgs) -> CliResult<()> {
    if args.sync_batchnorm && !args.distributed {
        return Err(usage(
            "--sync-batchnorm synchronizes batch norm over the ranks of a --distributed run (one process has nothing to synchronize)",
        ));
    }
    if args.distributed {
        return crate::distributed::run(args);
    }
    run_with(args, None)
}

/// Runs `steepest train`, as one rank of a data-parallel job when `comm` is given.
pub fn run_with(args: TrainArgs, mut comm: Option<&mut (dyn Communicator + '_)>) -> CliResult<()> {
    if let Some(m) = &args.max_memory {
        let bytes = steepest::memory::parse_size(m).map_err(|e| usage(format!("--max-memory: {e}")))?;
        steepest::memory::set_limit(bytes);
    }
    let settings = settings(&args);
    let (cfg, out, resume) = agree(comm.as_deref_mut(), settings)?;
    if comm.is_none() {
        crate::distributed::watch_for_stop(Some(out.clone()), 1);
    }
    match comm.as_deref_mut() {
        Some(_) => steepest::tensor::set_num_threads(threads_per_rank(cfg.threads)),
        None => crate::set_threads(cfg.threads),
    }
    let serve = args.dashboard && comm.as_ref().is_none_or(|c| c.rank() == 0);
    let dashboard = match serve {
        true => Some(crate::dashboard::beside_training(&out)?),
        false => None,
    };
    let result = match cfg.dtype.as_str() {
        "f32" => train_typed::<f32>(&cfg, &out, resume, &args, comm),
        "f64" => train_typed::<f64>(&cfg, &out, resume, &args, comm),
        d => Err(usage(format!("--dtype: expected f32 or f64, found '{d}'"))),
    };
    match &result {
        Ok(()) => live_run::end(&out, live_run::State::Finished, None),
        Err(e) => live_run::end(&out, live_run::State::Failed, Some(&e.msg)),
    }
    if let Some(d) = dashboard {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            crate::distributed::LINGERING.store(true, std::sync::atomic::Ordering::SeqCst);
            eprintln!("the dashboard stays up at {} (Ctrl-C to stop)", d.url());
            d.wait();
        }
    }
    result
}

/// The run's settings, folder and whether it resumes.
fn settings(args: &TrainArgs) -> CliResult<(RunConfig, std::path::PathBuf, bool)> {
    Ok(match &args.resume {
        Some(dir) => {
            let path = dir.join("config.toml");
            if !path.exists() {
                return Err(usage(format!(
                    "--resume {}: no config.toml there (not a run folder)",
                    dir.display()
                )));
            }
            let saved = RunConfig::from_file(&path)?;
            (resumed_config(saved, args, dir)?, dir.clone(), true)
        }
        None => {
            let mut cfg = match &args.config {
                Some(p) => RunConfig::from_file(p)?,
                None => RunConfig::default(),
            };
            cfg.apply_data(&args.data);
            if cfg.is_vw_source() && cfg.hash_bits.is_none() {
                // Vowpal Wabbit's names are hashed; its default table has 2^18 entries.
                cfg.hash_bits = Some(18);
            }
            // A preset's recipe (without a config file), then the flags over it.
            let recipe = match (&args.config, &args.model.model) {
                (None, Some(m)) => cfg.apply_recipe(m),
                _ => None,
            };
            cfg.apply_model(&args.model)?;
            let sparse = args.config.is_none() && cfg.is_linear() && cfg.is_sparse_source();
            if sparse {
                cfg.apply_sparse_recipe(args.model.scaler.is_some())?;
            }
            // The step budget first: the schedule's default lengths follow from it.
            cfg.apply_train(args);
            cfg.apply_optim(&args.optim)?;
            if sparse {
                cfg.sparse_sgd_schedule(args.optim.lr.is_some())?;
            }
            let budget_in_steps = cfg.steps.is_some();
            if let Some(name) =
                recipe.filter(|_| args.optim.schedule.is_none() && args.optim.optimizer.is_none() && !budget_in_steps)
            {
                cfg.recipe_schedule(name)?;
            }
            for w in inapplicable_flags(args, &cfg) {
                eprintln!("warning: {w}");
            }
            let stem = Path::new(&cfg.data)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("data")
                .to_string();
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| next_dir(&format!("{}-{stem}", cfg.model)));
            (cfg, out, false)
        }
    })
}

/// For an image classifier: `misclassified.png` (the test errors it was most confident about,
/// up to 36, each with its true and predicted class and the confidence) and `filters.png` (the
/// first layer's kernels, or the first linear layer's weights as images, up to 64).
fn image_pictures<T: Scalar>(
    out: &Path,
    model: &FittedModel<T>,
    test: &Dataset<T>,
    truth: &[usize],
    pred: &[usize],
) -> CliResult<()> {
    use crate::pictures::{grid, Tile};
    let s = &test.example_shape;
    let shape = [s[0], s[1], s[2]];
    let names = model.class_names();
    let proba = model.predict_proba(&test.features)?;
    let x = test.features.dense("pictures")?;
    let mut wrong: Vec<(usize, f64)> = (0..truth.len())
        .filter(|&r| truth[r] != pred[r])
        .map(|r| (r, proba.as_ref().map_or(f64::NAN, |p| p.row(r)[pred[r]].as_f64())))
        .collect();
    wrong.sort_by(|a, b| b.1.total_cmp(&a.1));
    let tiles: Vec<Tile> = wrong
        .iter()
        .take(36)
        .map(|&(r, conf)| Tile {
            values: x.row(r).iter().map(|v| v.as_f64()).collect(),
            shape,
            caption: if conf.is_nan() {
                format!("{} -> {}", names[truth[r]], names[pred[r]])
            } else {
                format!("{} -> {} ({conf:.2})", names[truth[r]], names[pred[r]])
            },
            signed: false,
        })
        .collect();
    let title = format!(
        "{} of {} test images misclassified; the most confident errors (true -> predicted)",
        wrong.len(),
        truth.len()
    );
    grid(out, "misclassified", &title, &tiles).or_fail()?;
    // The first layer that looks at the image: a convolution's kernels, or a linear layer's
    // rows as images.
    let per = shape.iter().product::<usize>();
    let first = model
        .weights()
        .iter()
        .find(|(n, t)| n.ends_with("weight") && (t.ndim() == 4 || (t.ndim() == 2 && t.shape()[1] == per)));
    if let Some((name, w)) = first {
        let (count, fshape) = if w.ndim() == 4 {
            (w.shape()[0], [w.shape()[1], w.shape()[2], w.shape()[3]])
        } else {
            (w.shape()[0], shape)
        };
        let len: usize = fshape.iter().product();
        let tiles: Vec<Tile> = (0..count.min(64))
            .map(|i| Tile {
                values: w.data()[i * len..(i + 1) * len].iter().map(|v| v.as_f64()).collect(),
                shape: fshape,
                caption: format!("{i}"),
                signed: true,
            })
            .collect();
        let title = format!("{name}: the first layer's weights (red positive, blue negative)");
        grid(out, "filters", &title, &tiles).or_fail()?;
    }
    Ok(())
}

/// Flags given that the chosen model or settings do not use, each with what it is for.
fn inapplicable_flags(args: &TrainArgs, cfg: &RunConfig) -> Vec<String> {
    let m = &args.model;
    let model = cfg.model.as_str();
    let kernel_svm = cfg.is_kernel_svm();
    let linear = model != "mlp" && !crate::config::is_network(model) && !kernel_svm;
    let mut out = Vec::new();
    let mut check = |given: bool, flag: &str, applies: bool, for_what: &str| {
        if given && !applies {
            out.push(format!(
                "{flag} does not apply to model '{model}' (it is for {for_what}); ignored"
            ));
        }
    };
    check(m.hidden.is_some(), "--hidden", model == "mlp", "the mlp");
    let augments = m.random_crop.is_some()
        || m.random_horizontal_flip
        || m.random_rotation.is_some()
        || m.random_affine.is_some()
        || m.random_erasing.is_some();
    check(
        augments,
        "augmentation (--random-*)",
        crate::config::is_network(model),
        "networks of layers on images: cnn, cnn-bn, lenet5, resnet, net",
    );
    check(
        m.label_smoothing.is_some(),
        "--label-smoothing",
        crate::config::is_network(model),
        "networks of layers: cnn, cnn-bn, lenet5, resnet, net",
    );
    check(m.activation.is_some(), "--activation", model == "mlp", "the mlp");
    check(m.dropout.is_some(), "--dropout", model == "mlp", "the mlp");
    check(m.init.is_some(), "--init", model == "mlp", "the mlp");
    check(m.penalty.is_some(), "--penalty", linear, "linear models");
    check(
        m.l1_ratio.is_some(),
        "--l1-ratio",
        linear,
        "linear models with an elastic-net penalty",
    );
    check(m.loss.is_some(), "--loss", linear, "linear models");
    check(m.degree.is_some(), "--degree", linear, "linear models");
    check(
        m.multiclass.is_some(),
        "--multiclass",
        matches!(model, "svm" | "rbf-svm"),
        "svm and rbf-svm",
    );
    check(
        m.gamma.is_some(),
        "--gamma",
        kernel_svm,
        "kernel SVMs: svm with --kernel, rbf-svm and svr",
    );
    check(
        m.kernel.is_some(),
        "--kernel",
        matches!(model, "svm" | "svr"),
        "svm and svr",
    );
    check(
        m.kernel_approx.is_some(),
        "--kernel-approx",
        matches!(model, "svm" | "svr" | "rbf-svm"),
        "svm, svr and rbf-svm",
    );
    check(
        m.c.is_some(),
        "--C",
        kernel_svm,
        "kernel SVMs: svm with --kernel, rbf-svm and svr",
    );
    check(
        m.kernel_degree.is_some(),
        "--kernel-degree",
        kernel_svm,
        "svm with --kernel poly",
    );
    check(
        m.coef0.is_some(),
        "--coef0",
        kernel_svm,
        "svm with --kernel poly or sigmoid",
    );
    check(
        m.components.is_some(),
        "--components",
        model == "rbf-svm" || cfg.kernel_approx.is_some(),
        "rbf-svm and --kernel-approx",
    );
    if args.early_stopping.is_some_and(|p| p > 0) && cfg.validation == Some(0.0) {
        out.push(
            "--early-stopping with --validation 0 has no validation rows to watch: it stops on the training loss"
                .into(),
        );
    }
    out
}

/// The settings a resumed run continues with: the run folder's, where the flags given agree
/// with them. A flag that contradicts them (another model, rate, batch size, data, ...) is an
/// error listing every conflict; more epochs or steps extend the run (said so), and the thread
/// count and checkpoint period may change.
fn resumed_config(saved: RunConfig, args: &TrainArgs, dir: &Path) -> CliResult<RunConfig> {
    let mut wanted = saved.clone();
    wanted.apply_data(&args.data);
    wanted.apply_model(&args.model)?;
    wanted.apply_train(args);
    wanted.apply_optim(&args.optim)?;
    let as_json = |c: &RunConfig| serde_json::to_value(c).unwrap_or_default();
    let (before, after) = (as_json(&saved), as_json(&wanted));
    let may_change = ["epochs", "steps", "threads", "checkpoint_every"];
    let mut conflicts = Vec::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        for k in keys {
            let (x, y) = (b.get(k), a.get(k));
            if x != y && !may_change.contains(&k.as_str()) {
                let show = |v: Option<&serde_json::Value>| v.map_or("(unset)".to_string(), |v| v.to_string());
                conflicts.push(format!("{k} {} (the run) vs {} (the flags)", show(x), show(y)));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(usage(format!(
            "--resume {}: the flags contradict the run's settings: {}; leave them out to continue the run, or start a new one",
            dir.display(),
            conflicts.join("; ")
        )));
    }
    if wanted.epochs != saved.epochs || wanted.steps != saved.steps {
        eprintln!(
            "note: the run now ends after {} epochs{} (was {}{})",
            wanted.epochs,
            wanted.steps.map_or(String::new(), |s| format!(", {s} steps")),
            saved.epochs,
            saved.steps.map_or(String::new(), |s| format!(", {s} steps"))
        );
    }
    Ok(wanted)
}

enum Spec {
    Kernel(steepest::models::ValidKernelSvmParams),
    Linear(steepest::models::ValidLinearParams),
    Mlp(steepest::models::ValidMlpParams),
    Net(steepest::models::ValidNetParams),
}

/// The linear model's settings for data with `classes` classes: logistic regression on more
/// than two is multinomial, as scikit-learn's LogisticRegression (said in a note), with
/// per-example AdaGrad in place of invariant steps.
pub(crate) fn linear_params_for(cfg: &RunConfig, classes: usize) -> CliResult<steepest::models::LinearParams> {
    let mut p = cfg.linear_params()?;
    if cfg.model == "logistic" && classes > 2 {
        eprintln!("note: logistic regression on {classes} classes is multinomial (softmax regression)");
        p.kind = steepest::models::LinearParams::softmax_regression().kind;
        if matches!(p.fit.optimizer, steepest::optim::OptimizerSpec::Invariant(_)) {
            // As the sparse recipe gives softmax regression (invariant steps are for one output).
            p.fit.optimizer = crate::config::multinomial_adagrad();
            eprintln!(
                "note: the multinomial loss takes per-example AdaGrad steps at lr {} (invariant steps are for one \
                 output; --optimizer adagrad --lr to choose)",
                p.fit.optimizer.lr().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(p)
}

fn spec_for<T: Scalar>(cfg: &RunConfig, train: &Dataset<T>, out: &Path) -> CliResult<Spec> {
    let dir = Some(out.to_path_buf());
    if cfg.interactions.is_some() && !cfg.is_linear() {
        return Err(usage(format!(
            "--interactions: crossed features are for linear models (a {} learns its own)",
            cfg.model
        )));
    }
    Ok(if cfg.is_kernel_svm() {
        let p = cfg.kernel_svm_params()?;
        p.check_memory(train.rows(), train.cols())?;
        Spec::Kernel(p)
    } else if cfg.model == "mlp" {
        let mut p = cfg.mlp_params()?;
        p.fit.train.checkpoint_dir = dir;
        let p = p.check()?;
        p.check_memory(train)?;
        Spec::Mlp(p)
    } else if crate::config::is_network(&cfg.model) {
        let mut p = cfg.net_params()?;
        p.fit.train.checkpoint_dir = dir;
        let p = p.check()?;
        p.check_data(train)?;
        Spec::Net(p)
    } else {
        let mut p = linear_params_for(cfg, train.n_classes())?;
        p.fit.train.checkpoint_dir = dir;
        if let Some(spec) = &cfg.interactions {
            let q = match cfg.is_vw_source() {
                // Made by the reader; recorded for the test and prediction files.
                true => steepest::data::Interactions::namespaces(cfg.namespace_crosses()?, train.cols()),
                false => steepest::data::Interactions::parse(
                    spec,
                    &train.feature_names,
                    train.cols(),
                    cfg.hash_bits.is_some(),
                )
                .map_err(|e| usage(format!("--{e}")))?,
            };
            p.interactions = Some(q);
        }
        let p = p.check()?;
        p.check_memory(train)?;
        if let (true, Err(why)) = (
            steepest::models::is_wide_sparse(&train.features, 100_000),
            p.fast_path(),
        ) {
            eprintln!(
                "warning: every step moves all {} weights of this sparse model, since the per-example fast path \
                 does not apply ({why}); --batch-size 1 with --optimizer invariant, adagrad or sgd (no momentum) \
                 takes O(non-zeros) steps",
                train.cols()
            );
        }
        Spec::Linear(p)
    })
}

fn train_typed<T: Scalar>(
    cfg: &RunConfig,
    out: &Path,
    resume: bool,
    args: &TrainArgs,
    mut comm: Option<&mut (dyn Communicator + '_)>,
) -> CliResult<()> {
    if !resume && crate::cmd_stream::wants_stream(cfg, args) {
        return crate::cmd_stream::run::<T>(cfg, out, args, comm);
    }
    let root = comm.as_ref().is_none_or(|c| c.rank() == 0);
    let (json, quiet) = (args.json, args.quiet || !root);
    let (train, test, note, encoder) = match comm.as_deref_mut() {
        None => load_train_test::<T>(cfg).map(|l| (l.train, Some(l.test), l.note, l.encoder))?,
        Some(c) => load_shard::<T>(cfg, c)?,
    };
    let (train, test) = match cfg.hash_bits {
        Some(bits) => {
            let mut h = steepest::data::FeatureHasher::new(bits)?;
            let train = crate::data_load::hashed(train, &mut h, &cfg.data)?;
            if !quiet {
                eprintln!("{}", steepest::data::FeatureHasher::describe(bits, h.collisions()));
            }
            let mut ht = steepest::data::FeatureHasher::new(bits)?;
            let test = test
                .map(|t| crate::data_load::hashed(t, &mut ht, cfg.test_data.as_deref().unwrap_or(&cfg.data)))
                .transpose()?;
            (train, test)
        }
        None => (train, test),
    };
    let spec = agree(comm.as_deref_mut(), spec_for(cfg, &train, out))?;
    // Training rows and ranks of the whole job.
    let (train_rows, ranks) = match comm.as_deref_mut() {
        None => (train.rows(), 1),
        Some(c) => {
            let mut v = [train.rows() as f64];
            c.allreduce_sum_f64(&mut v)?;
            (v[0] as usize, c.size())
        }
    };
    let existing = match (resume, args.overwrite) {
        (true, _) => Existing::Resume,
        (false, true) => Existing::Overwrite,
        (false, false) => Existing::Refuse,
    };
    let prepared = match root {
        true => prepare_folder(cfg, out, existing).map(Some),
        false => Ok(None),
    };
    // Held until the run ends (rank 0 alone writes the folder).
    let _lock = agree(comm.as_deref_mut(), prepared)?;
    // Every rank parses the same bytes, so they agree on the outcome without another collective.
    let checkpoint = read_checkpoint::<T>(out, resume, comm.as_deref_mut())?;
    if !quiet {
        if let Some(n) = &note {
            eprintln!("note: {n}");
        }
        if let Some(ck) = &checkpoint {
            eprintln!(
                "resuming {} from epoch {} (step {})",
                out.display(),
                ck.state.epoch,
                ck.state.step
            );
        }
    }
    let mut progress = Progress::new(quiet);
    let mut recorder = match root {
        true => Some(live_run::RunRecorder::start(out)?),
        false => None,
    };
    let mut observers: Vec<&mut dyn steepest::train::Observer> = Vec::new();
    if root {
        observers.push(&mut progress);
    }
    if let Some(r) = recorder.as_mut() {
        observers.push(r);
    }
    let t0 = Instant::now();
    let distributed = comm.is_some();
    let fitted = match &spec {
        Spec::Kernel(_) if distributed => Err(steepest::Error::invalid(
            "svm",
            "the kernel SVM trains in one process (its Newton solver is not distributed)",
        )),
        Spec::Kernel(p) => p.fit(&train).map(FittedModel::Kernel),
        Spec::Linear(p) => p
            .fit_parallel(&train, checkpoint, &mut observers, comm)
            .map(FittedModel::Linear),
        Spec::Mlp(p) => p
            .fit_parallel(&train, checkpoint, &mut observers, comm)
            .map(FittedModel::Mlp),
        Spec::Net(p) => p
            .fit_parallel(&train, checkpoint, &mut observers, comm)
            .map(FittedModel::Net),
    };
    let model = fitted.map_err(|e| {
        // Divergence is decided on reduced numbers, so every rank sees it at the same step.
        let all_ranks = distributed && matches!(e, steepest::Error::Diverged(_));
        if root && matches!(e, steepest::Error::Diverged(_)) {
            live_run::end(out, live_run::State::Diverged, Some(&e.to_string()));
        }
        // Files written during training (checkpoints) that fail, a full disk say, are a
        // failure of the run (exit 1), not bad input.
        let io = matches!(e, steepest::Error::Io { .. });
        let mut err = CliError {
            all_ranks,
            ..CliError::from(e)
        };
        if io {
            err.code = 1;
        }
        err
    })?;
    let seconds = t0.elapsed().as_secs_f64();
    let Some(test) = test.filter(|_| root) else {
        return Ok(());
    };
    save_model_encoded(&model, encoder.as_ref(), out).map_err(|e| failed(format!("saving the model: {e}")))?;
    let m = crate::output::evaluate_checked(&model, &test)?;
    let history = model.history().clone();
    write_history(out, &history)?;
    plot_loss(out, &history)?;
    let mut confusion = serde_json::Value::Null;
    if model.is_classifier() {
        let y = model.align_classes(&test)?;
        if let steepest::models::Predictions::Classes(p) = model.predict(&test.features)? {
            let cm = metrics::confusion_matrix(&y, &p, model.class_names().len())?;
            plots::confusion(out, &cm, model.class_names()).or_fail()?;
            confusion = json!({"classes": model.class_names(), "counts": cm});
            if test.example_shape.len() == 3 {
                image_pictures(out, &model, &test, &y, &p)?;
            }
        }
    }
    let optimizer = match &model {
        FittedModel::Kernel(_) => "newton".to_string(),
        // The rule it was fitted with (the multinomial loss may have changed the recipe's).
        FittedModel::Linear(m) => m.params.fit.optimizer.name().to_string(),
        _ => cfg
            .optimizer
            .clone()
            .map_or_else(|| cfg.default_optimizer().map(|o| o.name()), |o| Ok(o.name()))?
            .to_string(),
    };
    let summary = json!({
        "model": model.kind_name(),
        "optimizer": optimizer,
        "epochs": history.len(),
        "seconds": seconds,
        "out_dir": out.display().to_string(),
        "train_loss": history.last().map(|h| h.train_loss),
        "train_rows": train_rows,
        "ranks": ranks,
        "test_rows": test.rows(),
        "data": cfg.data,
        "metrics": metrics_json(&m, model.is_classifier()),
        "confusion": confusion,
        "note": note,
    });
    write_file(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary).or_fail()?.as_bytes(),
    )?;
    if json {
        println!("{summary}");
    } else if let FittedModel::Kernel(k) = &model {
        println!(
            "trained the {} by Newton's method in the primal on {} rows in {seconds:.2} s; final objective per row {:.5}",
            k.describe(),
            train_rows,
            history.last().map_or(f64::NAN, |h| h.train_loss)
        );
        print_metrics(&m, model.is_classifier(), test.rows());
        println!("run folder: {}", out.display());
    } else {
        println!(
            "trained {} ({} optimizer) on {} rows for {} epochs in {seconds:.2} s; final train loss {:.5}",
            model.kind_name(),
            optimizer,
            train_rows,
            history.len(),
            history.last().map_or(f64::NAN, |h| h.train_loss)
        );
        print_metrics(&m, model.is_classifier(), test.rows());
        println!("run folder: {}", out.display());
    }
    Ok(())
}

/// Claims the run folder (see [`run_folder::claim`]) and writes its config (a new run, or the
/// settings a resumed one continues with).
pub(crate) fn prepare_folder(cfg: &RunConfig, out: &Path, existing: Existing) -> CliResult<FolderLock> {
    let lock = run_folder::claim(out, existing)?;
    // A resumed run writes it again: the same settings, or the extended epochs.
    write_file(&out.join("config.toml"), cfg.to_toml()?.as_bytes())?;
    Ok(lock)
}

/// The checkpoint to resume from: read by rank 0 and broadcast to the other ranks (which need
/// not see rank 0's disk). The broadcast starts with a tag (0: none, 1: the file, 2: rank 0's
/// error), so that every rank learns the outcome.
fn read_checkpoint<T: Scalar>(
    out: &Path,
    resume: bool,
    comm: Option<&mut (dyn Communicator + '_)>,
) -> CliResult<Option<Checkpoint<T>>> {
    let path = out.join(steepest::train::CHECKPOINT_FILE);
    let Some(c) = comm else {
        return Ok(match resume && path.exists() {
            true => Some(Checkpoint::<T>::load(out)?),
            false => None,
        });
    };
    let mut msg = vec![0u8];
    if c.rank() == 0 && resume && path.exists() {
        msg = match std::fs::read(&path) {
            Ok(b) => [vec![1u8], b].concat(),
            Err(e) => [vec![2u8], format!("{}: {e}", path.display()).into_bytes()].concat(),
        };
    }
    c.broadcast(0, &mut msg)?;
    match msg.split_first() {
        Some((1, bytes)) => Ok(Some(Checkpoint::<T>::from_bytes(bytes, &path)?)),
        Some((2, text)) => Err(usage(String::from_utf8_lossy(text))),
        _ => Ok(None),
    }
}

pub(crate) fn write_history(out: &Path, h: &History) -> CliResult<()> {
    let mut s = crate::live_run::metrics_header(&crate::live_run::metric_column(h.iter()));
    for r in h {
        s.push_str(&crate::live_run::metrics_row(r));
    }
    write_file(&out.join("metrics.csv"), s.as_bytes())
}

pub(crate) fn plot_loss(out: &Path, h: &History) -> CliResult<()> {
    let mut series = vec![(
        "train loss".to_string(),
        h.iter().map(|r| (r.epoch as f64, r.train_loss)).collect::<Vec<_>>(),
    )];
    let val: Vec<(f64, f64)> = h
        .iter()
        .filter_map(|r| r.val_loss.map(|v| (r.epoch as f64, v)))
        .collect();
    if !val.is_empty() {
        series.push(("validation loss".to_string(), val));
    }
    let c = plots::Curves {
        title: "Loss",
        x_label: "epoch",
        y_label: "loss",
        series,
        log_x: false,
        mark_x: None,
    };
    plots::curves(out, "loss", &c).or_fail()
}
