//! Steepest's side of the benchmarks: one workload per process, one JSON line on stdout.
//!
//! `steepest-bench <w1|w2|w3|w3-file|w4> DATA_DIR [--optimizer sgd|adam] [--threads N]
//! [--epochs N] [--weights f32|f64]`; `bench/run` generates the data and runs the peers on the
//! same files.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;
use steepest::data::{read_idx, read_libsvm, BatchSize, Dataset, Features, ScalerKind, Task};
use steepest::linear::{sgd_pass_parallel, LinearLoss, RowTargets, SgdConfig, SgdModel};
use steepest::models::{MlpParams, NetParams, Predictor};
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::{OptimizerSpec, ScheduleSpec};
use steepest::tensor::set_num_threads;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// Peak resident memory of this process in MiB (VmHWM).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn load_idx(dir: &Path, part: &str) -> steepest::Result<Dataset<f32>> {
    let images = dir.join(format!("{part}-images-idx3-ubyte"));
    let mut d: Dataset<f32> = read_idx(&images, None)?;
    if let Features::Dense(t) = &mut d.features {
        t.map_inplace(|v| v / 255.0);
    }
    Ok(d)
}

fn load_dense(dir: &Path, part: &str) -> steepest::Result<Dataset<f32>> {
    read_idx(dir.join(format!("{part}-images-idx3-ubyte")), None)
}

fn mlp(epochs: usize, optimizer: &str, hidden: &[usize], batch: usize) -> MlpParams {
    let mut p = MlpParams::default().hidden(hidden);
    // PyTorch's initialization, as the PyTorch and JAX sides use.
    p.init = steepest::models::Init::Torch;
    p.alpha = 0.0;
    p.fit.scaler = ScalerKind::None;
    p.fit.train.epochs = epochs;
    p.fit.train.batch_size = BatchSize::Rows(batch);
    p.fit.train.checkpoint_every_epochs = None;
    p.fit.optimizer = match optimizer {
        "adam" => OptimizerSpec::Adam(Adam {
            lr: 1e-3,
            ..Adam::default()
        }),
        _ => OptimizerSpec::Sgd(Sgd {
            lr: 0.1,
            momentum: 0.9,
            ..Sgd::default()
        }),
    };
    p
}

fn run(args: &[String]) -> steepest::Result<serde_json::Value> {
    let workload = args.first().map(String::as_str).unwrap_or("");
    let dir = PathBuf::from(args.get(1).cloned().unwrap_or_else(|| "bench/data".into()));
    let threads: usize = arg(args, "--threads", "1").parse().unwrap_or(1);
    set_num_threads(threads);
    Ok(match workload {
        "w1" => {
            let optimizer = arg(args, "--optimizer", "sgd");
            let epochs: usize = arg(args, "--epochs", "3").parse().unwrap_or(3);
            let (train, test) = (load_idx(&dir, "w1-train")?, load_idx(&dir, "w1-test")?);
            let m = mlp(epochs, &optimizer, &[256, 128], 128).check()?.fit(&train)?;
            // The first epoch is the warm-up.
            let mut times: Vec<f64> = m.history.iter().skip(1).map(|r| r.seconds).collect();
            json!({ "workload": format!("W1 {optimizer} {threads}t"), "seconds": median(&mut times), "times": times, "accuracy": m.score(&test)? })
        }
        "w1-ranks" => w1_ranks(&dir, args, threads)?,
        "w2" => {
            let (train, test) = (load_dense(&dir, "w2-train")?, load_dense(&dir, "w2-test")?);
            linear_pass(
                args,
                "f64",
                "W2",
                &train,
                &test,
                SgdConfig {
                    loss: LinearLoss::Log,
                    alpha: 1e-6,
                    adaptive: false,
                    eta: None,
                    average: true,
                    eps: 1e-10,
                    invariant: false,
                },
            )?
        }
        "w3" | "w3-file" => {
            let t0 = Instant::now();
            let train: Dataset<f32> = read_libsvm(dir.join("w3-train.svm"), Some(Task::Classify))?;
            let parse = t0.elapsed().as_secs_f64();
            let test: Dataset<f32> = read_libsvm(dir.join("w3-test.svm"), Some(Task::Classify))?;
            let cols = train.cols().max(test.cols());
            let mut train = train;
            train.features = train.features.with_cols(cols)?;
            let mut test = test;
            test.features = test.features.with_cols(cols)?;
            let eta: f64 = arg(args, "--eta", "0.1").parse().unwrap_or(0.1);
            let average = arg(args, "--average", "false") == "true";
            let cfg = match arg(args, "--update", "plain").as_str() {
                "plain" => SgdConfig {
                    loss: LinearLoss::Log,
                    alpha: 1e-4,
                    adaptive: false,
                    eta: None,
                    average,
                    eps: 1e-10,
                    invariant: false,
                },
                "invariant" => SgdConfig {
                    loss: LinearLoss::Log,
                    alpha: 0.0,
                    adaptive: true,
                    eta: Some(eta),
                    average: false,
                    eps: 1e-10,
                    invariant: true,
                },
                _ => SgdConfig {
                    loss: LinearLoss::Log,
                    alpha: 0.0,
                    adaptive: true,
                    eta: Some(eta),
                    average,
                    eps: 1e-10,
                    invariant: false,
                },
            };
            // 32-bit weights, as Vowpal Wabbit's: the pass is bound by fetching 50 random
            // weights per row, and half the bytes keep more of them in the cache.
            let mut r = linear_pass(args, "f32", "W3", &train, &test, cfg)?;
            if workload == "w3-file" {
                let pass = r["seconds"].as_f64().unwrap_or(f64::NAN);
                r["workload"] = json!("W3 parse+pass");
                r["seconds"] = json!(parse + pass);
                r["parse_seconds"] = json!(parse);
            } else {
                r["workload"] = json!("W3 pass");
            }
            r
        }
        "w3-cache" => {
            // Reading W3's training file as a stream: parsing the text, then reading the binary
            // cache the first pass wrote (chunks only, no learning).
            let dir_cache = std::env::temp_dir().join(format!("steepest-bench-cache-{}", std::process::id()));
            let file = dir.join("w3-train.svm");
            let mut src = steepest::data::StreamSource::new(&file, None, Some(&dir_cache))?;
            let count = |src: &mut steepest::data::StreamSource| -> steepest::Result<(f64, usize)> {
                let t0 = Instant::now();
                let mut reader = src.open_pass()?;
                let mut nnz = 0;
                while let Some(c) = reader.next_chunk()? {
                    nnz += c.x.nnz();
                }
                Ok((t0.elapsed().as_secs_f64(), nnz))
            };
            let (text, n1) = count(&mut src)?;
            let (cache, n2) = count(&mut src)?;
            let _ = std::fs::remove_dir_all(&dir_cache);
            json!({ "workload": "W3 stream read", "text_seconds": text, "cache_seconds": cache, "seconds": cache, "ratio": text / cache, "nnz": [n1, n2] })
        }
        "w4" => {
            let data = steepest::data::embedded::digits::<f32>()?;
            let s = steepest::data::split(&data.targets, 0.0, 0.2, 0)?;
            let (train, test) = (data.subset(&s.train)?, data.subset(&s.test)?);
            let t0 = Instant::now();
            let mut reached = None;
            for epochs in 1..=100 {
                let mut p = mlp(epochs, "adam", &[64], 32);
                p.fit.scaler = ScalerKind::Standard;
                let t = Instant::now();
                let m = p.check()?.fit(&train)?;
                let acc = m.score(&test)?;
                if acc >= 0.97 {
                    reached = Some((epochs, t.elapsed().as_secs_f64(), acc));
                    break;
                }
            }
            let (epochs, secs, acc) = reached.unwrap_or((0, f64::NAN, f64::NAN));
            json!({ "workload": "W4", "seconds": secs, "epochs": epochs, "accuracy": acc, "search_seconds": t0.elapsed().as_secs_f64() })
        }
        "w5" => {
            // PyTorch's examples/mnist network and recipe (Adadelta lr 1.0, StepLR gamma 0.7,
            // batch 64) on the 6,000 training images of DATA_DIR (an IDX folder).
            let epochs: usize = arg(args, "--epochs", "3").parse().unwrap_or(3);
            let (train, test) = steepest::data::read_idx_dir::<f32>(&dir)?;
            let test = test.ok_or_else(|| steepest::Error::invalid("bench", "W5 needs the test images"))?;
            let mut p = NetParams::cnn();
            p.fit.optimizer = OptimizerSpec::from_name("adadelta")?;
            if let OptimizerSpec::Adadelta(a) = &mut p.fit.optimizer {
                a.lr = 1.0;
            }
            p.fit.schedule = Some(ScheduleSpec::Step {
                step_size: 1,
                gamma: 0.7,
            });
            p.fit.train.epochs = epochs;
            p.fit.train.batch_size = BatchSize::Rows(64);
            p.fit.train.checkpoint_every_epochs = None;
            let m = p.check()?.fit(&train)?;
            let mut times: Vec<f64> = m.history.iter().skip(1).map(|r| r.seconds).collect();
            json!({ "workload": format!("W5 cnn {threads}t"), "seconds": median(&mut times), "times": times, "accuracy": m.score(&test)? })
        }
        "w6" => {
            // Per-step overhead of the generic (tape) path: a 64-64 ReLU MLP on digits, batch
            // 32, SGD, built from layers (no fused kernel); seconds per epoch of 45 steps.
            let epochs: usize = arg(args, "--epochs", "21").parse().unwrap_or(21);
            let data = steepest::data::embedded::digits::<f32>()?;
            let s = steepest::data::split(&data.targets, 0.0, 0.2, 0)?;
            let (train, test) = (data.subset(&s.train)?, data.subset(&s.test)?);
            let layers: Vec<steepest::nn::arch::LayerSpec> = serde_json::from_str(
                r#"[{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                    {"type": "Linear", "out_features": 64}, {"type": "ReLU"}, {"type": "Linear"}]"#,
            )
            .map_err(|e| steepest::Error::invalid("bench", e.to_string()))?;
            let mut p = NetParams::from_layers("mlp64", layers);
            p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
                lr: 0.01,
                momentum: 0.9,
                ..Sgd::default()
            });
            p.fit.train.epochs = epochs;
            p.fit.train.batch_size = BatchSize::Rows(32);
            p.fit.train.checkpoint_every_epochs = None;
            let m = p.check()?.fit(&train)?;
            let mut times: Vec<f64> = m.history.iter().skip(1).map(|r| r.seconds).collect();
            let steps = train.rows().div_ceil(32) as f64;
            let sec = median(&mut times);
            json!({ "workload": "W6 small-net steps", "seconds": sec, "steps_per_second": steps / sec, "times": times, "accuracy": m.score(&test)? })
        }
        _ => {
            return Err(steepest::Error::invalid(
                "bench",
                format!("unknown workload '{workload}' (w1, w2, w3, w3-file, w4, w5, w6)"),
            ))
        }
    })
}

/// W1 (SGD) as one rank of an MPI job with per-rank batch 128 / ranks, so that every step is the
/// step of one process with batch 128: started alone (or without the `mpi` feature) it is the
/// single-process baseline ("1 process"), under `mpirun -np N` the data-parallel run
/// ("steepest"). Only rank 0 reports (the other ranks return null).
fn w1_ranks(dir: &Path, args: &[String], threads: usize) -> steepest::Result<serde_json::Value> {
    let epochs: usize = arg(args, "--epochs", "3").parse().unwrap_or(3);
    let (train, test) = (load_idx(dir, "w1-train")?, load_idx(dir, "w1-test")?);
    #[cfg(feature = "mpi")]
    let mut comm = steepest_distributed::MpiComm::init()?;
    #[cfg(feature = "mpi")]
    let comm: &mut dyn steepest::collective::Communicator = &mut comm;
    #[cfg(not(feature = "mpi"))]
    let comm: &mut dyn steepest::collective::Communicator = &mut steepest::collective::SingleProcess;
    let ranks = comm.size();
    let spec = mlp(epochs, "sgd", &[256, 128], 128 / ranks).check()?;
    let rows: Vec<usize> = steepest::collective::shard_range(train.rows(), comm.rank(), ranks).collect();
    let mine = train.subset(&rows)?;
    drop(train);
    let m = spec.fit_parallel(&mine, None, &mut [], Some(comm))?;
    if comm.rank() != 0 {
        return Ok(serde_json::Value::Null);
    }
    let mut times: Vec<f64> = m.history.iter().skip(1).map(|r| r.seconds).collect();
    let tool = if ranks > 1 {
        "steepest".to_string()
    } else {
        "1 process".to_string()
    };
    Ok(json!({
        "workload": "W1 sgd ranks",
        "label": tool,
        "ranks": ranks,
        "threads_per_rank": threads,
        "seconds": median(&mut times),
        "times": times,
        "accuracy": m.score(&test)?,
    }))
}

/// One timed pass of the linear fast path with weights stored as `--weights f32|f64` (default
/// `weights`), then test accuracy.
fn linear_pass(
    args: &[String],
    weights: &str,
    name: &str,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    cfg: SgdConfig,
) -> steepest::Result<serde_json::Value> {
    match arg(args, "--weights", weights).as_str() {
        "f32" => linear_pass_in::<f32>(name, train, test, cfg),
        "f64" => linear_pass_in::<f64>(name, train, test, cfg),
        other => Err(steepest::Error::invalid(
            "bench",
            format!("--weights {other}: expected f32 or f64"),
        )),
    }
}

fn linear_pass_in<W: steepest::tensor::Scalar>(
    name: &str,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    cfg: SgdConfig,
) -> steepest::Result<serde_json::Value> {
    let (labels, _) = train.targets.classes()?;
    let order: Vec<usize> = (0..train.rows()).collect();
    let mut m: SgdModel<W> = SgdModel::new(train.cols());
    // Touch the data once so that the timed pass does not pay for the first page faults.
    let _ = train.features.gather(&[0, train.rows() - 1])?;
    let t0 = Instant::now();
    let threads = steepest::tensor::num_threads();
    sgd_pass_parallel(
        &mut m,
        &train.features,
        RowTargets::Class(labels),
        &order,
        &cfg,
        threads,
    )?;
    let seconds = t0.elapsed().as_secs_f64();
    let (w, b) = m.finish(cfg.average);
    let (tl, _) = test.targets.classes()?;
    let correct = (0..test.rows())
        .filter(|&r| {
            let z = match &test.features {
                Features::Dense(t) => t.row(r).iter().zip(&w).map(|(x, w)| *x as f64 * w).sum::<f64>(),
                Features::Sparse(s) => {
                    let (idx, val) = s.row(r);
                    idx.iter()
                        .zip(val)
                        .map(|(&j, v)| *v as f64 * w[j as usize])
                        .sum::<f64>()
                }
            } + b;
            usize::from(z > 0.0) == tl[r]
        })
        .count();
    let wn = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    // Several threads mix parameters (another algorithm than one sequential pass): its own label.
    let label = if threads > 1 {
        format!("steepest {threads}t")
    } else {
        "steepest".into()
    };
    Ok(
        json!({ "workload": name, "label": label, "seconds": seconds, "accuracy": correct as f64 / test.rows() as f64, "weight_norm": wn, "bias": b }),
    )
}

/// The allocator of the `steepest` program (see its main.rs): mimalloc, keeping freed pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // SAFETY: set once before any thread starts; -1: freed pages are kept for reuse.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // Transparent huge pages only where the library advises them, as the `steepest` program.
    steepest::tensor::huge_pages_only_where_advised();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(serde_json::Value::Null) => {}
        Ok(mut v) => {
            let tool = v.get("label").cloned().unwrap_or_else(|| json!("steepest"));
            v["tool"] = tool;
            v["rss_mb"] = json!(peak_rss_mb());
            println!("{v}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
