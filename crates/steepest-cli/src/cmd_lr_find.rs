//! `steepest lr-find`.

use crate::args::LrFindArgs;
use crate::config::RunConfig;
use crate::data_load::load_train_test;
use crate::error::{usage, CliResult, RunFailure};
use crate::output::{next_dir, write_file};
use crate::plots;
use serde_json::json;
use std::path::Path;
use steepest::optim::LrFinderConfig;
use steepest::tensor::Scalar;

/// Runs `steepest lr-find`.
pub fn run(a: LrFindArgs) -> CliResult<()> {
    let mut cfg = RunConfig::default();
    cfg.apply_data(&a.data);
    cfg.apply_model(&a.model)?;
    cfg.apply_optim(&a.optim)?;
    crate::set_threads(cfg.threads);
    let stem = Path::new(&cfg.data)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .to_string();
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| next_dir(&format!("lr-find-{}-{stem}", cfg.model)));
    match cfg.dtype.as_str() {
        "f32" => typed::<f32>(&a, &cfg, &out),
        "f64" => typed::<f64>(&a, &cfg, &out),
        d => Err(usage(format!("--dtype: expected f32 or f64, found '{d}'"))),
    }
}

fn typed<T: Scalar>(a: &LrFindArgs, cfg: &RunConfig, out: &Path) -> CliResult<()> {
    let train = load_train_test::<T>(cfg)?.train;
    let fc = LrFinderConfig {
        start_lr: a.start_lr.unwrap_or(1e-7),
        end_lr: a.end_lr.unwrap_or(10.0),
        num_steps: a.steps.unwrap_or(100),
        ..LrFinderConfig::default()
    };
    let res = if cfg.is_kernel_svm() {
        return Err(usage(
            "lr-find: kernel SVMs train by Newton's method, which has no learning rate",
        ));
    } else if cfg.model == "mlp" {
        cfg.mlp_params()?.check()?.lr_find(&train, &fc)?
    } else if crate::config::is_network(&cfg.model) {
        cfg.net_params()?.check()?.lr_find(&train, &fc)?
    } else {
        crate::cmd_train::linear_params_for(cfg, train.n_classes())?
            .check()?
            .lr_find(&train, &fc)?
    };
    let existing = match a.overwrite {
        true => crate::run_folder::Existing::Overwrite,
        false => crate::run_folder::Existing::Refuse,
    };
    let _lock = crate::run_folder::claim(out, existing)?;
    let mut csv = String::from("lr,loss,smoothed_loss\n");
    for ((l, x), s) in res.lrs.iter().zip(&res.losses).zip(&res.smoothed) {
        csv.push_str(&format!("{l},{x},{s}\n"));
    }
    write_file(&out.join("lr_find.csv"), csv.as_bytes())?;
    let c = plots::Curves {
        title: "Learning-rate range test",
        x_label: "learning rate",
        y_label: "loss",
        series: vec![
            (
                "loss".into(),
                res.lrs.iter().copied().zip(res.losses.iter().copied()).collect(),
            ),
            (
                "smoothed".into(),
                res.lrs.iter().copied().zip(res.smoothed.iter().copied()).collect(),
            ),
        ],
        log_x: true,
        mark_x: res.suggestion,
    };
    plots::curves(out, "lr_find", &c).or_fail()?;
    if a.json {
        println!(
            "{}",
            json!({
                "suggestion": res.suggestion,
                "steepest": res.steepest,
                "diverged": res.diverged,
                "lrs": res.lrs,
                "losses": res.losses,
                "smoothed": res.smoothed,
                "out_dir": out.display().to_string(),
            })
        );
    } else {
        match res.suggestion {
            Some(s) => println!("suggested learning rate: {s:.3e} (a tenth of the rate at the smoothed minimum)"),
            None => println!("no suggestion: too few points before the loss diverged; lower --start-lr"),
        }
        if let Some(s) = res.steepest {
            println!("steepest descent at:     {s:.3e}");
        }
        println!(
            "{} rates tried from {:.1e}{}; plot: {}",
            res.lrs.len(),
            fc.start_lr,
            if res.diverged {
                ", stopped when the loss diverged"
            } else {
                ""
            },
            out.join("lr_find.png").display()
        );
    }
    Ok(())
}
