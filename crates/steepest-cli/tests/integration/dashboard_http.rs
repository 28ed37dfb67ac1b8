//! `steepest dashboard` over plain HTTP (issue 14): what it lists and serves, and what it
//! refuses: paths that climb out (raw and percent-encoded), links that point outside, files
//! too large or half written or malformed. The server keeps answering through all of it and
//! never returns a byte from outside the runs folder.

use crate::common;

use common::dashboard::{get, request, runs_with_finished, Server};
use serde_json::Value;
use std::path::Path;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(body);
        panic!("{e}: {}", text.chars().take(400).collect::<String>())
    })
}

fn run<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no run {id} in {list}"))
}

/// A secret outside the runs folder that nothing may serve.
const SECRET: &str = "SECRET-OUTSIDE-THE-RUNS-FOLDER";

fn hostile_runs(root: &Path, outside: &Path) {
    std::fs::write(outside.join("secret.png"), SECRET).unwrap();
    std::fs::write(outside.join("config.toml"), format!("model = \"{SECRET}\"\n")).unwrap();
    // A run whose metrics.csv is being written: the last line is partial.
    let t = root.join("truncated");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("metrics.csv"),
        "epoch,train_loss,val_loss,val_metric,lr,grad_norm,seconds\n1,0.9,,,0.1,,0.01\n2,0.8,,,0.1,,0.01\n3,0.7,,,0.1,,0.01\n4,0.6",
    )
    .unwrap();
    // A garbage summary.json.
    let g = root.join("garbage");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(g.join("summary.json"), "{\"model\": \"mlp\", \"epo").unwrap();
    std::fs::write(g.join("metrics.csv"), "epoch,train_loss\n1,0.5\n").unwrap();
    // A 10 MB metrics.csv.
    let b = root.join("big");
    std::fs::create_dir_all(&b).unwrap();
    let mut text = String::from("epoch,train_loss,val_loss,val_accuracy,lr,grad_norm,seconds\n");
    let mut n = 0;
    while text.len() < 10_000_000 {
        n += 1;
        text.push_str(&format!(
            "{n},{:.12},{:.12},{:.12},0.001,{:.12},0.0123456\n",
            1.0 / n as f64,
            1.5 / n as f64,
            1.0 - 1.0 / n as f64,
            2.0 / n as f64
        ));
    }
    std::fs::write(b.join("metrics.csv"), &text).unwrap();
    std::fs::write(b.join("rows"), n.to_string()).unwrap();
    // Links that point outside: a picture, the config, and a whole folder that looks like a run.
    let l = root.join("linky");
    std::fs::create_dir_all(&l).unwrap();
    std::fs::write(l.join("metrics.csv"), "epoch,train_loss\n1,0.5\n").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.png"), l.join("evil.png")).unwrap();
    std::os::unix::fs::symlink(outside.join("config.toml"), l.join("config.toml")).unwrap();
    std::os::unix::fs::symlink(outside, root.join("outside")).unwrap();
}

#[test]
fn the_dashboard_lists_runs_and_refuses_what_is_outside() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let finished = runs_with_finished(&root, 2);
    hostile_runs(&root, &outside);
    // The LR range test's folder is listed for its pictures (logistic on 3 classes goes
    // multinomial, as in train).
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("steepest"))
        .args(["lr-find", "--data", "iris", "--model", "logistic", "--out"])
        .arg(root.join("lr"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let server = Server::start(&root);

    let (code, body) = get(&server.addr, "/api/runs");
    assert_eq!(code, 200);
    let list = json(&body);
    assert_eq!(run(&list, "lr")["state"], "finished");
    let (_, body) = get(&server.addr, "/api/run?id=lr");
    assert!(json(&body)["pictures"].to_string().contains("lr_find.png"));
    let mut ids: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = finished.iter().map(|(id, _)| id.as_str()).collect();
    want.extend(["big", "garbage", "linky", "lr", "truncated"]);
    want.sort();
    // The linked folder is not a run here.
    assert_eq!(ids, want);
    for (id, rows) in &finished {
        let r = run(&list, id);
        assert_eq!(r["state"], "finished", "{r}");
        assert_eq!(r["rows"], *rows, "{r}");
        assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{r}");
        assert!(r["test"]["metric"] == "accuracy", "{r}");
    }
    // The partial line is skipped, without an error.
    let t = run(&list, "truncated");
    assert_eq!(
        (t["rows"].as_u64(), t["errors"].as_array().unwrap().len()),
        (Some(3), 0),
        "{t}"
    );
    assert_eq!(t["best"]["value"], 0.7, "{t}");
    // Garbage JSON is the run's error; the rest of the run is still shown.
    let g = run(&list, "garbage");
    assert!(
        g["errors"][0]
            .as_str()
            .unwrap()
            .contains("summary.json: not valid JSON"),
        "{g}"
    );
    assert_eq!(g["rows"], 1);
    // The linked config is an error, not read.
    let l = run(&list, "linky");
    assert!(l["errors"].to_string().contains("config.toml: a symbolic link"), "{l}");
    // The big table: all its rows counted, the curve thinned for the browser.
    let n: u64 = std::fs::read_to_string(root.join("big/rows")).unwrap().parse().unwrap();
    assert_eq!(run(&list, "big")["rows"], n);
    let (code, body) = get(&server.addr, "/api/run?id=big");
    assert_eq!(code, 200);
    let big = json(&body);
    let shown = big["metrics"]["data"][0].as_array().unwrap();
    assert!(shown.len() <= 4000 && shown.len() > 3000, "{}", shown.len());
    assert_eq!(shown.last().unwrap().as_f64(), Some(n as f64));

    // A finished run's page and its pictures.
    let (id, _) = &finished[0];
    let (code, body) = get(&server.addr, &format!("/api/run?id={id}"));
    assert_eq!(code, 200);
    let d = json(&body);
    assert!(d["config"]["model"].is_string(), "{d}");
    assert!(d["confusion"]["counts"].is_array(), "{d}");
    let pictures: Vec<&str> = d["pictures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        pictures.contains(&"loss.png") && pictures.contains(&"confusion.png"),
        "{pictures:?}"
    );
    let (code, body) = get(&server.addr, &format!("/api/file?id={id}&name=loss.png"));
    assert_eq!(code, 200);
    assert_eq!(&body[..4], b"\x89PNG");

    // What climbs out, points out or is not listed: refused, and nothing outside is read.
    let refused = [
        ("/../../etc/passwd", 400),
        ("/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 400),
        ("/api/file?id=linky&name=..%2F..%2Fetc%2Fpasswd", 400),
        ("/api/file?id=..&name=outside%2Fsecret.png", 400),
        ("/api/file?id=linky&name=evil.png", 404),
        ("/api/file?id=outside&name=secret.png", 404),
        ("/api/file?id=linky&name=%2Fetc%2Fpasswd", 404),
        (&format!("/api/file?id={id}&name=model.safetensors"), 404),
        (&format!("/api/file?id={id}&name=config.toml"), 404),
        ("/api/run?id=outside", 404),
        ("/api/run?id=%2Fetc", 404),
        ("/etc/passwd", 404),
        ("/api/file", 400),
    ];
    for (path, want) in refused {
        let (code, body) = get(&server.addr, path);
        assert_eq!(code, want, "{path}: {}", String::from_utf8_lossy(&body));
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(SECRET) && !text.contains("root:x:0"), "{path}: {text}");
    }
    let (code, _) = request(
        &server.addr,
        "POST /api/runs HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(code, 405);
    // Still serving, and the listing never showed the secret.
    let (code, body) = get(&server.addr, "/api/runs");
    assert_eq!(code, 200);
    assert!(!String::from_utf8_lossy(&body).contains(SECRET));
    let (code, body) = get(&server.addr, "/");
    assert_eq!(code, 200);
    assert!(String::from_utf8_lossy(&body).contains("<title>Steepest dashboard</title>"));
}

#[test]
fn a_missing_folder_or_a_taken_port_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("steepest")
        .unwrap()
        .args(["dashboard"])
        .arg(dir.path().join("nope"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope: no such folder"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    assert_cmd::Command::cargo_bin("steepest")
        .unwrap()
        .args(["dashboard", "--port", &port])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("choose another --port"));
}

#[test]
fn a_report_is_one_file_with_every_run_and_its_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let finished = runs_with_finished(&root, 2);
    let out = dir.path().join("report.html");
    assert_cmd::Command::cargo_bin("steepest")
        .unwrap()
        .args(["report"])
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("(2 runs,"));
    let html = std::fs::read_to_string(&out).unwrap();
    // Nothing fetched from anywhere: no external script, style or image.
    for needle in ["src=\"http", "href=\"http", "url(http", "<link"] {
        assert!(!html.contains(needle), "{needle}");
    }
    let start = html.find("window.STEEPEST_DATA = ").unwrap() + "window.STEEPEST_DATA = ".len();
    let end = start + html[start..].find(";</script>").unwrap();
    let data: Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(data["runs"].as_array().unwrap().len(), 2);
    for (id, rows) in &finished {
        let r = data["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == *id)
            .unwrap();
        assert_eq!(r["metrics"]["data"][0].as_array().unwrap().len(), *rows);
        assert!(r["picture_data"]["loss.png"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"));
    }
    // A folder without runs is bad input.
    assert_cmd::Command::cargo_bin("steepest")
        .unwrap()
        .args(["report"])
        .arg(dir.path().join("runs/..").join("nothing-here-either"))
        .assert()
        .code(2);
}

#[test]
fn train_with_dashboard_serves_the_run_while_it_trains() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs/long");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("steepest"))
        .args([
            "train",
            "--quiet",
            "--dashboard",
            "--hidden",
            "8",
            "--epochs",
            "1000000",
            "--out",
        ])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    // dashboard: http://127.0.0.1:PORT/#run/long
    let url = line
        .trim()
        .strip_prefix("dashboard: ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(url.ends_with("/#run/long"), "{url}");
    let addr = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let t0 = std::time::Instant::now();
    let rows = loop {
        let (code, body) = get(&addr, "/api/runs");
        assert_eq!(code, 200);
        let list = json(&body);
        let r = list["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "long")
            .cloned();
        if let Some(r) = r.filter(|r| r["rows"].as_u64() >= Some(2)) {
            assert_eq!(r["state"], "running", "{r}");
            break r["rows"].as_u64().unwrap();
        }
        assert!(t0.elapsed().as_secs() < 60, "the run never showed two epochs: {list}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // The page of the run follows it: more epochs a moment later.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, body) = get(&addr, "/api/run?id=long");
    assert!(json(&body)["metrics"]["rows"].as_u64().unwrap() > rows);
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let status = std::fs::read_to_string(out.join("status.json")).unwrap();
    assert!(status.contains("\"state\": \"interrupted\""), "{status}");
}
