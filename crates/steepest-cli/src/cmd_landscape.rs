//! `steepest landscape`: optimizers racing on a classic test surface.

use crate::args::LandscapeArgs;
use crate::error::{usage, CliResult, RunFailure};
use crate::output::next_dir;
use crate::plots::{self, Path2};
use rand::Rng as _;
use serde_json::json;
use steepest::optim::rules::{Polyak, Sgd};
use steepest::optim::test_functions::{by_name, run_line_search, run_optimizer, TestFunction, Trajectory};
use steepest::optim::{BuiltOptimizer, Lbfgs, OptimizerSpec};
use steepest::tensor::rng;

/// The optimizer names the race knows: `gd`/`sgd` (plain), `momentum` and `nesterov` (momentum
/// 0.9) besides the names of [`OptimizerSpec`].
const EXTRA: [&str; 4] = ["gd", "momentum", "nesterov", "sgd"];

/// A learning rate that works on these surfaces (their gradients reach the hundreds).
fn default_lr(name: &str) -> f64 {
    match name {
        "gd" | "sgd" | "momentum" | "nesterov" => 1e-3,
        "adagrad" => 0.5,
        "rmsprop" | "lion" | "schedule-free-sgd" => 1e-2,
        "adadelta" | "polyak" | "lbfgs" | "armijo" => 1.0,
        "muon" => 2e-2,
        _ => 5e-2,
    }
}

fn spec_for(name: &str, f: &dyn TestFunction) -> CliResult<OptimizerSpec> {
    let lr = default_lr(name);
    let mut spec = match name {
        "gd" | "sgd" => OptimizerSpec::Sgd(Sgd::plain(lr)),
        "momentum" => OptimizerSpec::Sgd(Sgd {
            lr,
            momentum: 0.9,
            ..Sgd::default()
        }),
        "nesterov" => OptimizerSpec::Sgd(Sgd {
            lr,
            momentum: 0.9,
            nesterov: true,
            ..Sgd::default()
        }),
        // With the minimum known, Polyak's step (halved, capped at 1) hops out of local minima.
        "polyak" => OptimizerSpec::Polyak(Polyak {
            f_star: f.minimum(),
            c: 2.0,
            max_step: Some(1.0),
            ..Polyak::default()
        }),
        "lbfgs" => OptimizerSpec::Lbfgs(Lbfgs {
            max_iter: 1,
            ..Lbfgs::default()
        }),
        other => OptimizerSpec::from_name(other).map_err(|_| {
            usage(format!(
                "--optimizers: unknown optimizer '{other}' (also: {})",
                EXTRA.join(", ")
            ))
        })?,
    };
    if !matches!(
        spec,
        OptimizerSpec::Lbfgs(_) | OptimizerSpec::Armijo(_) | OptimizerSpec::Polyak(_)
    ) {
        spec.set_lr(lr);
    }
    Ok(spec)
}

fn default_start(name: &str) -> Vec<f64> {
    match name {
        "beale" => vec![1.0, 1.5],
        "booth" => vec![-8.0, 8.0],
        "himmelblau" => vec![0.0, -0.5],
        "rastrigin" | "ackley" => vec![2.6, -3.3],
        "sphere" => vec![3.0, -4.0],
        "styblinski-tang" => vec![0.5, 4.0],
        _ => vec![-1.5, 2.0],
    }
}

/// Runs `steepest landscape`.
pub fn run(a: LandscapeArgs) -> CliResult<()> {
    let f = by_name(&a.function).map_err(|e| usage(format!("--function: {e}")))?;
    let start = a.start.clone().unwrap_or_else(|| default_start(&a.function));
    if start.len() != 2 || start.iter().any(|v| !v.is_finite()) {
        return Err(usage(format!(
            "--start: expected two finite numbers x,y, found {start:?}"
        )));
    }
    if a.starts == 0 || a.steps == 0 {
        return Err(usage("--starts and --steps must be at least 1"));
    }
    let dom = f.domain();
    let mut starts = vec![start];
    let mut r = rng(a.seed);
    for _ in 1..a.starts {
        starts.push(dom.iter().map(|&(lo, hi)| r.random_range(lo..hi)).collect());
    }
    // Apply the shared hyper-parameter flags to every optimizer that has them.
    let mut overrides: Vec<(&str, serde_json::Value)> = Vec::new();
    if let Some(v) = a.lr {
        overrides.push(("lr", json!(v)));
    }
    if let Some(v) = a.momentum {
        overrides.push(("momentum", json!(v)));
    }
    if let Some(b) = &a.betas {
        if b.len() != 2 {
            return Err(usage("--betas: expected two numbers B1,B2"));
        }
        overrides.push(("betas", json!([b[0], b[1]])));
    }
    if let Some(v) = a.weight_decay {
        overrides.push(("weight_decay", json!(v)));
    }
    let mut specs = Vec::new();
    for name in &a.optimizers {
        let mut s = spec_for(name.trim(), f.as_ref())?;
        for (k, v) in &overrides {
            if s.hyperparameters().get(*k).is_some() {
                s.set(k, v.clone())
                    .map_err(|e| usage(format!("--{}: {e}", k.replace('_', "-"))))?;
            }
        }
        specs.push((name.trim().to_string(), s));
    }
    for (k, _) in &overrides {
        if !specs.iter().any(|(_, s)| s.hyperparameters().get(*k).is_some()) {
            return Err(usage(format!(
                "--{}: none of the optimizers has this hyper-parameter",
                k.replace('_', "-")
            )));
        }
    }
    let mut runs = Vec::new();
    let mut paths = Vec::new();
    let mut table = Vec::new();
    for (i, (name, spec)) in specs.iter().enumerate() {
        for s in &starts {
            let tr: Trajectory = match spec.build::<f64>()? {
                BuiltOptimizer::Step(mut o) => run_optimizer(f.as_ref(), o.as_mut(), None, s, a.steps, 1e-8),
                BuiltOptimizer::LineSearch(mut o) => run_line_search(f.as_ref(), o.as_mut(), s, a.steps, 1e-8),
            };
            let last = tr.last().to_vec();
            let value = f.value(&last);
            let dist = f.distance_to_minimum(&last);
            table.push((name.clone(), s.clone(), last.clone(), value, dist, tr.points.len() - 1));
            runs.push(json!({
                "optimizer": name,
                "hyperparameters": spec.hyperparameters(),
                "start": s,
                "trajectory": tr.points,
                "final": last,
                "final_value": value,
                "distance_to_minimum": dist,
                "steps": tr.points.len() - 1,
            }));
            paths.push(Path2 {
                name: name.clone(),
                color: i,
                points: tr.points.iter().map(|p| (p[0], p[1])).collect(),
            });
        }
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| next_dir(&format!("landscape-{}", a.function)));
    let existing = match a.overwrite {
        true => crate::run_folder::Existing::Overwrite,
        false => crate::run_folder::Existing::Refuse,
    };
    let _lock = crate::run_folder::claim(&out, existing)?;
    let n = 150;
    let (xr, yr) = (dom[0], dom[1]);
    let fmin = f.minimum();
    let mut grid = Vec::with_capacity(n * n);
    for rr in 0..n {
        for c in 0..n {
            let x = xr.0 + (c as f64 + 0.5) * (xr.1 - xr.0) / n as f64;
            let y = yr.0 + (rr as f64 + 0.5) * (yr.1 - yr.0) / n as f64;
            grid.push((f.value(&[x, y]) - fmin).max(0.0).ln_1p());
        }
    }
    let title = format!("{} ({} steps)", a.function, a.steps);
    let l = plots::Landscape {
        title: &title,
        x: xr,
        y: yr,
        grid: (n, grid),
        minimizers: f.minimizers().iter().map(|m| (m[0], m[1])).collect(),
        paths,
    };
    plots::landscape(&out, &l).or_fail()?;
    if a.json {
        println!(
            "{}",
            json!({ "function": a.function, "minimizers": f.minimizers(), "runs": runs, "out_dir": out.display().to_string() })
        );
        return Ok(());
    }
    println!(
        "{} from {} start(s), {} steps; global minimum {:.6} at {:?}",
        a.function,
        starts.len(),
        a.steps,
        fmin,
        f.minimizers()
    );
    println!(
        "{:<20} {:>22} {:>24} {:>14} {:>12} {:>6}",
        "optimizer", "start", "final point", "final value", "distance", "steps"
    );
    for (name, s, last, v, d, steps) in &table {
        let fmt = |p: &[f64]| format!("({:.4}, {:.4})", p[0], p[1]);
        println!(
            "{name:<20} {:>22} {:>24} {v:>14.6e} {d:>12.3e} {steps:>6}",
            fmt(s),
            fmt(last)
        );
    }
    let best = table
        .iter()
        .filter(|t| t.3.is_finite())
        .min_by(|x, y| x.3.total_cmp(&y.3));
    if let Some((name, s, _, v, d, _)) = best {
        println!(
            "best: {name} from ({:.3}, {:.3}), value {v:.3e}, distance to the nearest minimizer {d:.3e}",
            s[0], s[1]
        );
    }
    println!("plot: {}", out.join("landscape.png").display());
    Ok(())
}
