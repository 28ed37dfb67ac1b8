//! Kernel SVMs from the command line: the exact model, the approximations (`--kernel-approx`,
//! `rbf-svm`), one-vs-rest, support vector regression (`--model svr`), saved and loaded for
//! eval and predict, and the one-line errors of bad settings.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn steepest() -> Command {
    Command::cargo_bin("steepest").unwrap()
}

fn train_json(args: &[&str]) -> Value {
    let a = steepest().args(["train", "--json"]).args(args).assert().success();
    serde_json::from_slice(&a.get_output().stdout).unwrap()
}

#[test]
fn the_exact_kernel_svm_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k").display().to_string();
    let a = steepest()
        .args([
            "train", "--data", "iris", "--model", "svm", "--kernel", "rbf", "--json", "--out", &out,
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{v}");
    let a = steepest().args(["inspect", &out, "--json"]).assert().success();
    let info: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(info["model"], "kernel-svm");
    let nsv = info["support_vectors"].as_u64().unwrap();
    assert!(nsv > 0 && nsv < 120, "{info}");
    steepest()
        .args(["eval", "--model", &out, "--data", "iris"])
        .assert()
        .success()
        .stdout(predicate::str::contains("accuracy"));
    for (args, what) in [
        (&["--C", "0"][..], "--C: 0 must be"),
        (&["--gamma", "-1"][..], "--gamma: -1 must be"),
        (&["--kernel", "cubic"][..], "unknown kernel 'cubic'"),
        (&["--max-memory", "10K"][..], "the exact kernel SVM on 120 rows"),
    ] {
        let mut all = vec!["train", "--data", "iris", "--model", "svm"];
        if !args.contains(&"--kernel") {
            all.extend(["--kernel", "rbf"]);
        }
        all.extend(args);
        steepest()
            .args(&all)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(what));
    }
}

#[test]
fn approximations_one_vs_rest_and_regression_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| dir.path().join(name).display().to_string();
    // Nystroem on digits: close to the exact model, saved with its basis, predicted again.
    let (exact, approx) = (run("exact"), run("ny"));
    let e = train_json(&["--data", "digits", "--model", "svm", "--kernel", "rbf", "--out", &exact]);
    let a = train_json(&[
        "--data",
        "digits",
        "--model",
        "svm",
        "--kernel-approx",
        "nystroem",
        "--components",
        "300",
        "--out",
        &approx,
    ]);
    let (acc_e, acc_a) = (
        e["metrics"]["accuracy"].as_f64().unwrap(),
        a["metrics"]["accuracy"].as_f64().unwrap(),
    );
    assert!(acc_a > acc_e - 0.02, "Nystroem {acc_a} against exact {acc_e}");
    let info: Value = serde_json::from_slice(
        &steepest()
            .args(["inspect", &approx, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        (info["kernel_approx"].as_str(), info["components"].as_u64()),
        (Some("nystroem"), Some(300))
    );
    let e2 = steepest()
        .args(["eval", "--model", &approx, "--data", "digits", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&e2.get_output().stdout).unwrap();
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.95, "{v}");
    // rbf-svm is the random-Fourier-feature approximation, now trained to the SVM's optimum.
    let r = train_json(&["--data", "digits", "--model", "rbf-svm", "--out", &run("rff")]);
    assert!(r["metrics"]["accuracy"].as_f64().unwrap() > 0.95, "{r}");
    // One-vs-rest with probabilities that sum to one.
    let ovr = run("ovr");
    train_json(&[
        "--data",
        "iris",
        "--model",
        "svm",
        "--kernel",
        "rbf",
        "--multiclass",
        "ovr",
        "--probability",
        "--out",
        &ovr,
    ]);
    let p = steepest()
        .args(["predict", "--model", &ovr, "--data", "iris", "--proba"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&p.get_output().stdout).to_string();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').filter_map(|v| v.parse().ok()).collect())
        .collect();
    assert!(rows.len() >= 30 && rows.iter().all(|r| r.len() >= 3), "{text}");
    assert!(
        rows.iter()
            .all(|r| (r[r.len() - 3..].iter().sum::<f64>() - 1.0).abs() < 1e-4),
        "{text}"
    );
    // Support vector regression on diabetes (targets read as values).
    let svr = run("svr");
    let s = train_json(&["--data", "diabetes", "--model", "svr", "--C", "100", "--out", &svr]);
    let r2 = s["metrics"]["r2"].as_f64().unwrap();
    assert!(r2 > 0.4, "{s}");
    let info: Value = serde_json::from_slice(
        &steepest()
            .args(["inspect", &svr, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(info["task"], "regress");
    // Bad settings: one line, exit 2.
    for (args, what) in [
        (
            &["--model", "svm", "--kernel-approx", "sketch"][..],
            "unknown approximation 'sketch'",
        ),
        (
            &["--model", "svm", "--kernel", "poly", "--kernel-approx", "rff"][..],
            "rbf kernel only",
        ),
        (
            &["--model", "svm", "--kernel", "rbf", "--multiclass", "crammer-singer"][..],
            "ovo or ovr",
        ),
        (
            &["--model", "svm", "--kernel-approx", "nystroem", "--components", "0"][..],
            "--components",
        ),
        (&["--model", "svr", "--epsilon", "-1"][..], "--epsilon: -1"),
        (
            &["--model", "rbf-svm", "--kernel", "poly"][..],
            "rbf-svm is the rbf kernel",
        ),
    ] {
        let data = if args[1] == "svr" { "diabetes" } else { "iris" };
        steepest()
            .args(["train", "--data", data])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(what));
    }
}
