//! `steepest dashboard`, `steepest report` and `steepest train --dashboard`: the runs of a
//! folder in the browser, live from a local server or as one self-contained HTML file.

mod page;
mod runs;
mod server;

use crate::args::{DashboardArgs, ReportArgs};
use crate::error::{failed, usage, CliResult};
use base64::Engine;
use runs::RunsDir;
use serde_json::{json, Value};
use server::Dashboard;
use std::path::Path;

/// The port TensorBoard made familiar.
pub const DEFAULT_PORT: u16 = 6006;

/// Whether `host` answers only this machine.
fn loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// Runs `steepest dashboard`: serves until the process is stopped.
pub fn serve(args: DashboardArgs) -> CliResult<()> {
    let dir = &args.runs_dir;
    if !dir.is_dir() {
        return Err(usage(format!(
            "{}: no such folder (runs are written to runs/ by `steepest train`; give the folder that holds them)",
            dir.display()
        )));
    }
    let runs = RunsDir::new(dir).map_err(usage)?;
    let count = runs.scan().len();
    let dash = Dashboard::start(runs, &args.host, args.port).map_err(|e| {
        usage(format!(
            "cannot listen on {e}; choose another --port (0 picks a free one)"
        ))
    })?;
    if !loopback(&args.host) {
        eprintln!(
            "warning: --host {}: the dashboard shows your runs to anyone who can reach this address",
            args.host
        );
    }
    println!(
        "Steepest dashboard for {} ({count} runs) at {} (Ctrl-C to stop)",
        dir.display(),
        dash.url()
    );
    dash.wait();
    Ok(())
}

/// The dashboard `steepest train --dashboard` runs beside training: the run folder's parent,
/// on the default port or the next free one. Prints the run's page address.
pub fn beside_training(out: &Path) -> CliResult<Dashboard> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| failed(format!("{}: {e}", parent.display())))?;
    let mut last = String::new();
    for port in (DEFAULT_PORT..DEFAULT_PORT + 10).chain([0]) {
        let runs = RunsDir::new(&parent).map_err(usage)?;
        match Dashboard::start(runs, "127.0.0.1", port) {
            Ok(d) => {
                let name = out
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                eprintln!("dashboard: {}#run/{name}", d.url());
                return Ok(d);
            }
            Err(e) => last = e,
        }
    }
    Err(failed(format!("--dashboard: cannot listen on {last}")))
}

/// Runs `steepest report`: every run given (or found under a folder given) with its pictures,
/// into one HTML file that needs no server and no network.
pub fn report(args: ReportArgs) -> CliResult<()> {
    let mut details: Vec<Value> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for path in &args.runs {
        if !path.is_dir() {
            return Err(usage(format!("{}: no such folder", path.display())));
        }
        let dir = RunsDir::new(path).map_err(usage)?;
        let found = dir.scan();
        if found.is_empty() {
            return Err(usage(format!(
                "{}: no run folders in it (a run folder holds config.toml, metrics.csv or summary.json)",
                path.display()
            )));
        }
        for (id, run_dir) in found {
            let mut unique = id.clone();
            let mut n = 2;
            while ids.contains(&unique) {
                unique = format!("{id}-{n}");
                n += 1;
            }
            let mut d = dir.detail(&unique, &run_dir);
            let mut uris = serde_json::Map::new();
            for name in runs::pictures(&run_dir) {
                if let Some((bytes, media)) = dir.picture_in(&run_dir, &name) {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                    uris.insert(name, Value::String(format!("data:{media};base64,{b64}")));
                }
            }
            d["picture_data"] = Value::Object(uris);
            ids.push(unique);
            details.push(d);
        }
    }
    let data = json!({
        "root": args.runs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        "live": false,
        "runs": details,
    });
    let html = page::html(Some(&data));
    crate::output::write_file(&args.out, html.as_bytes())?;
    println!(
        "wrote {} ({} runs, {} KiB)",
        args.out.display(),
        ids.len(),
        html.len().div_ceil(1024)
    );
    Ok(())
}
