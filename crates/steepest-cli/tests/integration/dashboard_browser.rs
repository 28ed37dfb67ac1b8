//! The dashboard and the report in a real browser (issue 14): headless Chromium over the
//! DevTools protocol reads the page's DOM. Three finished runs and one being written (this
//! test appends its epochs while the page is open): all four listed, each curve with as many
//! points as its metrics.csv has rows, the running curve growing without a reload; the same
//! from `report.html` opened from disk with the network off. Screenshots go to
//! `target/screenshots/`; the load time of 50 runs of 200 epochs is printed (not asserted).

use crate::common;

use common::browser::{artifacts, chromium, Browser};
use common::dashboard::{runs_with_finished, Server};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// One browser at a time: two headless browsers side by side on a 2-core machine starved
/// each other's pages.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

const HEADER: &str = "epoch,train_loss,val_loss,val_accuracy,lr,grad_norm,seconds\n";

fn row(e: usize) -> String {
    let x = e as f64;
    format!("{e},{},{},{},0.05,{},0.02\n", 2.0 / x, 2.2 / x, 1.0 - 0.5 / x, 1.0 / x)
}

/// A run another process is writing: status running (this process's id), `epochs` rows.
fn running_run(dir: &Path, epochs: usize, planned: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!("data = \"digits\"\nmodel = \"mlp\"\nepochs = {planned}\nhidden = [32]\n\n[optimizer]\nname = \"sgd\"\nlr = 0.05\n"),
    )
    .unwrap();
    let rows: String = (1..=epochs).map(row).collect();
    std::fs::write(dir.join("metrics.csv"), format!("{HEADER}{rows}")).unwrap();
    status(dir, "running", epochs, planned);
}

fn status(dir: &Path, state: &str, epoch: usize, planned: usize) {
    let s = json!({"state": state, "epoch": epoch, "epochs": planned, "pid": std::process::id(),
                   "started": 1.0e9, "updated": 1.0e9 + epoch as f64});
    std::fs::write(dir.join("status.json"), s.to_string()).unwrap();
}

fn append(dir: &Path, e: usize, planned: usize) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("metrics.csv"))
        .unwrap();
    f.write_all(row(e).as_bytes()).unwrap();
    status(dir, "running", e, planned);
}

/// The points each run has on the chart `key`, as the page drew them.
fn points(b: &mut Browser, key: &str) -> Value {
    b.eval(&format!(
        "(() => {{ const c = document.querySelector('#charts .chart[data-key=\"{key}\"]'); return c ? JSON.parse(c.dataset.points) : null; }})()"
    ))
}

/// What the listing shows: run id to state.
fn listed(b: &mut Browser) -> Value {
    b.eval(
        "Object.fromEntries([...document.querySelectorAll('#runs tr.run')].map(r => [r.dataset.id, r.dataset.state]))",
    )
}

fn check_four_runs(b: &mut Browser, finished: &[(String, usize)], live_rows: usize) {
    b.wait_for(
        "document.body.dataset.ready === '1'",
        30,
        "document.body.innerText.slice(0, 300)",
    );
    let list = listed(b);
    assert_eq!(list.as_object().unwrap().len(), 4, "{list}");
    for (id, _) in finished {
        assert_eq!(list[id], "finished", "{list}");
    }
    let mut want = serde_json::Map::new();
    for (id, rows) in finished {
        want.insert(id.clone(), json!(rows));
    }
    want.insert("live".into(), json!(live_rows));
    for key in ["train_loss", "val_loss", "val_accuracy", "lr"] {
        assert_eq!(points(b, key), Value::Object(want.clone()), "{key}");
    }
}

#[test]
fn the_dashboard_and_the_report_in_a_browser() {
    let Some(exe) = chromium() else { return };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let finished = runs_with_finished(&root, 3);
    let live = root.join("live");
    running_run(&live, 3, 12);
    let server = Server::start(&root);
    let mut b = Browser::start(&exe, 1400, 1100);
    b.navigate(&server.url());
    check_four_runs(&mut b, &finished, 3);
    assert_eq!(listed(&mut b)["live"], "running");
    // A mark on this page instance: a reload would lose it.
    b.eval("window.__mark = 'same page'");
    for e in 4..=7 {
        append(&live, e, 12);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    b.wait_for(
        "(() => { const c = document.querySelector('#charts .chart[data-key=\"train_loss\"]'); return JSON.parse(c.dataset.points).live === 7; })()",
        15,
        "document.querySelector('#charts .chart[data-key=\"train_loss\"]').dataset.points",
    );
    assert_eq!(b.eval("window.__mark"), json!("same page"));
    assert_eq!(b.eval("performance.getEntriesByType('navigation').length"), json!(1));
    assert_eq!(
        b.eval("document.querySelector('tr.run[data-id=\"live\"]').dataset.rows"),
        json!("7")
    );
    b.screenshot(&artifacts().join("dashboard.png"));

    // A run's page: its curves, confusion matrix and pictures (all loaded).
    let (id, rows) = &finished[0];
    b.navigate(&format!("{}#run/{id}", server.url()));
    b.wait_for(
        "!!document.querySelector('#run-charts .chart') && [...document.querySelectorAll('.pictures img')].length > 0 && [...document.querySelectorAll('.pictures img')].every(i => i.complete && i.naturalWidth > 0)",
        20,
        "document.querySelector('#run-view').innerText.slice(0, 400)",
    );
    let p = b.eval("JSON.parse(document.querySelector('#run-charts .chart[data-key=\"train_loss\"]').dataset.points)");
    assert_eq!(p, json!({ id.as_str(): rows }));
    assert_eq!(
        b.eval("document.querySelectorAll('#confusion tr').length"),
        json!(4),
        "3 classes and a header"
    );
    b.screenshot(&artifacts().join("dashboard-run.png"));

    // The report, from disk, with the network off: the same runs and points, nothing fetched.
    let report = dir.path().join("report.html");
    let ok = std::process::Command::new(assert_cmd::cargo::cargo_bin("steepest"))
        .arg("report")
        .arg(&root)
        .arg("--out")
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let mut r = Browser::start(&exe, 1400, 1100);
    r.offline();
    r.navigate(&format!("file://{}", report.display()));
    check_four_runs(&mut r, &finished, 7);
    assert_eq!(r.eval("performance.getEntriesByType('resource').length"), json!(0));
    assert_eq!(r.eval("document.getElementById('live').hidden"), json!(true));
    r.screenshot(&artifacts().join("report.png"));
    r.navigate(&format!("file://{}#run/{id}", report.display()));
    r.wait_for(
        "[...document.querySelectorAll('.pictures img')].length > 0 && [...document.querySelectorAll('.pictures img')].every(i => i.complete && i.naturalWidth > 0)",
        20,
        "document.querySelector('#run-view').innerText.slice(0, 400)",
    );
}

#[test]
fn fifty_runs_of_two_hundred_epochs_load_quickly() {
    let Some(exe) = chromium() else { return };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    for i in 0..50 {
        let d = root.join(format!("sweep-{i:02}"));
        running_run(&d, 200, 200);
        status(&d, "finished", 200, 200);
        std::fs::write(
            d.join("summary.json"),
            json!({"model": "mlp", "data": "digits", "optimizer": "sgd", "seconds": 12.5,
                   "metrics": {"accuracy": 0.9 + i as f64 / 1000.0}})
            .to_string(),
        )
        .unwrap();
    }
    let server = Server::start(&root);
    let mut b = Browser::start(&exe, 1400, 1100);
    b.navigate(&server.url());
    b.wait_for(
        "document.body.dataset.ready === '1'",
        30,
        "JSON.stringify([Object.keys(window.steepest.state.details), [...window.steepest.state.selected], performance.getEntriesByType('resource').map(e => [e.name, e.duration, e.responseStatus])])",
    );
    let ready = b.eval("window.steepest.readyAt").as_f64().unwrap();
    assert_eq!(b.eval("document.querySelectorAll('#runs tr.run').length"), json!(50));
    // Every run overlaid.
    let t = b.eval(
        "new Promise(done => { const t0 = performance.now(); document.getElementById('select-all').click(); \
         const tick = () => { const c = document.querySelector('#charts .chart[data-key=\"train_loss\"]'); \
         if (c && Object.keys(JSON.parse(c.dataset.points)).length === 50) done(performance.now() - t0); else setTimeout(tick, 5); }; tick(); })",
    );
    let p = points(&mut b, "val_accuracy");
    assert!(p.as_object().unwrap().values().all(|v| v == 200), "{p}");
    b.screenshot(&artifacts().join("dashboard-50-runs.png"));
    eprintln!(
        "dashboard, 50 runs of 200 epochs: listed with 5 curves {ready:.0} ms after navigation; all 50 overlaid {:.0} ms after select all",
        t.as_f64().unwrap()
    );
}
