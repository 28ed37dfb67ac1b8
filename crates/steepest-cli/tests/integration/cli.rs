//! The `steepest` binary end to end: every subcommand, `--json` output parsed and checked,
//! every error path with its exit code and message, and kill -9 followed by `--resume`.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn steepest() -> Command {
    Command::cargo_bin("steepest").unwrap()
}

fn json_of(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON line: {text}");
    serde_json::from_str(text.trim()).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn default_train_reaches_097_on_digits_and_writes_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let a = steepest()
        .args(["train", "--json", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    assert_eq!(j["model"], "mlp");
    assert_eq!(j["optimizer"], "adam");
    assert_eq!(j["epochs"], 50);
    assert!(j["seconds"].as_f64().unwrap() > 0.0);
    assert!(j["train_loss"].as_f64().unwrap() < 0.1);
    assert_eq!(j["out_dir"], out.display().to_string());
    let m = &j["metrics"];
    assert!(m["accuracy"].as_f64().unwrap() >= 0.97, "{m}");
    assert!(m["f1_macro"].as_f64().unwrap() >= 0.97 && m["log_loss"].as_f64().unwrap() < 0.2);
    for f in [
        "model.safetensors",
        "model.json",
        "config.toml",
        "metrics.csv",
        "loss.png",
        "loss.svg",
        "confusion.png",
        "summary.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let png = std::fs::read(out.join("loss.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("epoch,train_loss,val_loss,"));
    assert_eq!(csv.lines().count(), 51);

    // eval, predict and inspect on that run folder.
    let digits = dir.path().join("digits.csv");
    steepest()
        .args(["datasets", "--export", "digits", "--out"])
        .arg(&digits)
        .assert()
        .success();
    let a = steepest()
        .args(["eval", "--json", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&digits)
        .assert()
        .success();
    let e = json_of(&a.get_output().stdout);
    assert_eq!(e["rows"], 1797);
    assert!(e["metrics"]["accuracy"].as_f64().unwrap() > 0.97);
    let a = steepest()
        .args(["predict", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&digits)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "prediction");
    assert_eq!(lines.len(), 1798);
    assert_eq!(lines[1], "0", "the first digit is a 0");
    let a = steepest()
        .args(["predict", "--proba", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&digits)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    let row1: Vec<f64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(row1.len(), 10);
    assert!((row1.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    let a = steepest().args(["inspect", "--json"]).arg(&out).assert().success();
    let i = json_of(&a.get_output().stdout);
    assert_eq!(i["parameter_count"], 64 * 100 + 100 + 100 * 10 + 10);
    assert_eq!(i["parameters"]["hidden.0.weight"], serde_json::json!([100, 64]));
}

#[test]
fn linear_model_inspect_reports_coefficients_in_feature_units() {
    let dir = tempfile::tempdir().unwrap();
    // y = 2 a - 3 b + 5 exactly; the fit must report those numbers, not standardized ones.
    let mut csv = String::from("a,b,y\n");
    for i in 0..40 {
        let (a, b) = (i as f64 * 10.0, (i * 7 % 11) as f64);
        csv.push_str(&format!("{a},{b},{}\n", 2.0 * a - 3.0 * b + 5.0));
    }
    let data = write(dir.path(), "lin.csv", &csv);
    let out = dir.path().join("lin");
    steepest()
        .args([
            "train",
            "--quiet",
            "--model",
            "linear",
            "--optimizer",
            "lbfgs",
            "--epochs",
            "5",
            "--test-split",
            "0",
            "--task",
            "regress",
            "--data",
            &data,
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let a = steepest().args(["inspect", "--json"]).arg(&out).assert().success();
    let i = json_of(&a.get_output().stdout);
    let c = &i["coefficients"];
    assert!((c["a"].as_f64().unwrap() - 2.0).abs() < 1e-3, "{i}");
    assert!((c["b"].as_f64().unwrap() + 3.0).abs() < 1e-3, "{i}");
    assert!((i["intercept"].as_f64().unwrap() - 5.0).abs() < 1e-2, "{i}");
    steepest()
        .arg("inspect")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("coefficients (original feature units)"));
    // A regression run reports regression metrics.
    let a = steepest()
        .args(["eval", "--json", "--model"])
        .arg(&out)
        .args(["--data", &data])
        .assert()
        .success();
    let m = &json_of(&a.get_output().stdout)["metrics"];
    assert!(
        m["r2"].as_f64().unwrap() > 0.99999
            && m["rmse"].as_f64().is_some()
            && m["mae"].as_f64().is_some()
            && m["mse"].as_f64().is_some()
    );
}

#[test]
fn flags_config_files_and_models() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "run.toml",
        "model = \"softmax\"\nepochs = 3\ndata = \"iris\"\n[optimizer]\nname = \"sgd\"\nlr = 0.05\nmomentum = 0.9\n",
    );
    let out = dir.path().join("cfg");
    // The file sets the model; the flag overrides its epochs.
    let a = steepest()
        .args(["train", "--json", "--quiet", "--config", &cfg, "--epochs", "4", "--out"])
        .arg(&out)
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    assert_eq!(
        (j["model"].as_str(), j["epochs"].as_u64(), j["optimizer"].as_str()),
        (Some("softmax"), Some(4), Some("sgd"))
    );
    let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        resolved.contains("epochs = 4") && resolved.contains("lr = 0.05"),
        "{resolved}"
    );
    for model in ["svm", "perceptron", "rbf-svm"] {
        steepest()
            .args([
                "train", "--quiet", "--epochs", "3", "--data", "iris", "--model", model, "--out",
            ])
            .arg(dir.path().join(model))
            .assert()
            .success();
    }
    let mut binary = String::from("x,y,label\n");
    for i in 0..60 {
        let s = if i % 2 == 0 { 1.0 } else { -1.0 };
        binary.push_str(&format!(
            "{},{},{}\n",
            s * 2.0 + (i % 7) as f64 * 0.1,
            (i % 5) as f64,
            if s > 0.0 { "yes" } else { "no" }
        ));
    }
    let bin = write(dir.path(), "bin.csv", &binary);
    let a = steepest()
        .args([
            "train",
            "--json",
            "--quiet",
            "--epochs",
            "20",
            "--data",
            &bin,
            "--model",
            "logistic",
            "--class-weight",
            "balanced",
            "--out",
        ])
        .arg(dir.path().join("logistic"))
        .assert()
        .success();
    let m = &json_of(&a.get_output().stdout)["metrics"];
    assert_eq!(m["accuracy"].as_f64(), Some(1.0), "{m}");
    assert!(m["roc_auc"].as_f64().is_some());
    // Logistic regression on three classes is multinomial (see
    // the_model_decides_the_task_and_logistic_goes_multinomial).
    let out2 = dir.path().join("opt");
    let a = steepest()
        .args([
            "train",
            "--json",
            "--quiet",
            "--data",
            "iris",
            "--model",
            "mlp",
            "--hidden",
            "16,8",
            "--optimizer",
            "sgd",
            "--lr",
            "0.1",
            "--momentum",
            "0.9",
            "--nesterov",
            "--schedule",
            "cosine",
            "--batch-size",
            "full",
            "--epochs",
            "30",
            "--out",
        ])
        .arg(&out2)
        .assert()
        .success();
    assert!(json_of(&a.get_output().stdout)["metrics"]["accuracy"].as_f64().unwrap() > 0.8);
    let a = steepest()
        .args([
            "train", "--json", "--quiet", "--data", "diabetes", "--model", "ridge", "--alpha", "0.1", "--epochs", "20",
            "--out",
        ])
        .arg(dir.path().join("ridge"))
        .assert()
        .success();
    let m = &json_of(&a.get_output().stdout)["metrics"];
    assert!(m["r2"].as_f64().unwrap() > 0.3, "{m}");
}

#[test]
fn error_paths_have_their_exit_codes_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    // Missing file.
    steepest()
        .args(["train", "--data", "nope.csv", "--out"])
        .arg(&o)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.csv: no such file"));
    // Malformed row (a word among numbers): file, line and column.
    let rows = "1,2,0\n".repeat(9);
    let bad = write(dir.path(), "bad.csv", &format!("a,b,y\n{rows}3,x,1\n"));
    steepest()
        .args(["train", "--data", &bad, "--out"])
        .arg(&o)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.csv:11:3: expected a number in column 'b', found 'x'",
        ));
    let ragged = write(dir.path(), "ragged.csv", "a,b,y\n1,2,0\n3,1\n");
    steepest()
        .args(["train", "--data", &ragged])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ragged.csv:3:").and(predicate::str::contains("expected 3 fields, found 2")));
    // Unknown model, bad flag values, unknown flag, unknown hyper-parameter.
    steepest()
        .args(["train", "--model", "forest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown model 'forest'"));
    steepest()
        .args(["train", "--batch-size", "zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--batch-size"));
    steepest()
        .args(["train", "--epochs", "many"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'many'"));
    steepest()
        .args(["train", "--frobnicate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--frobnicate"));
    steepest()
        .args(["train", "--optimizer", "adam", "--momentum", "0.9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'adam' has no hyper-parameter 'momentum'"));
    steepest()
        .args(["train", "--optimizer", "adamm"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown optimizer 'adamm'"));
    // Corrupt model file.
    let m = dir.path().join("m");
    steepest()
        .args([
            "train", "--quiet", "--data", "iris", "--model", "softmax", "--epochs", "2", "--out",
        ])
        .arg(&m)
        .assert()
        .success();
    let w = m.join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    steepest()
        .args(["inspect"])
        .arg(&m)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("model.safetensors").and(predicate::str::contains("truncated")));
    steepest()
        .args(["eval", "--model"])
        .arg(dir.path().join("none"))
        .args(["--data", "iris"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("model.json"));
    // Divergence that cannot be recovered is a failure of the run: exit code 1.
    steepest()
        .args([
            "train",
            "--quiet",
            "--data",
            "diabetes",
            "--model",
            "linear",
            "--optimizer",
            "sgd",
            "--lr",
            "1e30",
            "--epochs",
            "3",
            "--out",
        ])
        .arg(dir.path().join("div"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("diverged"));
    // The dashboard's status file says so too.
    let status = std::fs::read_to_string(dir.path().join("div/status.json")).unwrap();
    assert!(status.contains("\"state\": \"diverged\""), "{status}");
}

#[test]
fn kill_9_then_resume_ends_with_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        [
            "train",
            "--quiet",
            "--hidden",
            "256,256",
            "--epochs",
            "40",
            "--batch-size",
            "16",
            "--dropout",
            "0.1",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let full = dir.path().join("full");
    steepest().args(args(&full)).assert().success();

    let cut = dir.path().join("cut");
    let bin = assert_cmd::cargo::cargo_bin("steepest");
    let mut child = std::process::Command::new(&bin).args(args(&cut)).spawn().unwrap();
    // Wait until a few epochs are checkpointed, then kill -9.
    let ck = cut.join("checkpoint.json");
    let t0 = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if let Ok(t) = std::fs::read_to_string(&ck) {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["epoch"].as_u64().unwrap() >= 3 {
                break;
            }
        }
        assert!(t0.elapsed().as_secs() < 120, "no checkpoint appeared");
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!cut.join("model.safetensors").exists(), "killed before the end");
    steepest()
        .args(["train", "--quiet", "--resume"])
        .arg(&cut)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(cut.join("model.safetensors")).unwrap(),
        std::fs::read(full.join("model.safetensors")).unwrap()
    );
}

#[test]
fn lr_find_landscape_and_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lr");
    let a = steepest()
        .args([
            "lr-find",
            "--json",
            "--data",
            "digits",
            "--model",
            "softmax",
            "--optimizer",
            "sgd",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    let s = j["suggestion"].as_f64().unwrap();
    assert!(s > 1e-5 && s < 10.0, "{s}");
    assert!(out.join("lr_find.png").exists() && out.join("lr_find.svg").exists());

    let land = dir.path().join("land");
    let a = steepest()
        .args([
            "landscape",
            "--json",
            "--function",
            "rosenbrock",
            "--optimizers",
            "gd,momentum,nesterov,adam,lbfgs",
            "--out",
        ])
        .arg(&land)
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    assert_eq!(j["function"], "rosenbrock");
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    let by = |n: &str| runs.iter().find(|r| r["optimizer"] == n).unwrap();
    // Plain GD crawls along the valley; L-BFGS reaches (1, 1).
    assert!(by("gd")["distance_to_minimum"].as_f64().unwrap() > 0.1);
    assert!(by("lbfgs")["distance_to_minimum"].as_f64().unwrap() < 1e-4);
    let tr = by("gd")["trajectory"].as_array().unwrap();
    assert_eq!(tr[0], serde_json::json!([-1.5, 2.0]));
    assert_eq!(tr.len() as u64, by("gd")["steps"].as_u64().unwrap() + 1);
    assert!(land.join("landscape.png").exists() && land.join("landscape.svg").exists());

    let a = steepest()
        .args([
            "landscape",
            "--json",
            "--function",
            "rastrigin",
            "--starts",
            "8",
            "--out",
        ])
        .arg(dir.path().join("r"))
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    let best = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["distance_to_minimum"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(best < 1e-3, "no start reached the global minimum: {best}");
    steepest()
        .args(["landscape", "--momentum", "0.9", "--optimizers", "adam,lbfgs", "--out"])
        .arg(dir.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--momentum: none of the optimizers"));

    steepest()
        .arg("datasets")
        .assert()
        .success()
        .stdout(predicate::str::contains("digits").and(predicate::str::contains("1797")));
    steepest()
        .args(["datasets", "--export", "iris"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("sepal_length"));
    steepest().args(["datasets", "--export", "mnist"]).assert().code(2);
}

#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_mpi_says_how_to_build_it() {
    steepest()
        .args(["train", "--distributed", "--epochs", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("built without MPI").and(predicate::str::contains("--features mpi")));
}

#[test]
fn libsvm_training_evaluates_and_predicts() {
    // Sparse data has no column names; the model must still know its 7 inputs.
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..120)
        .map(|i| format!("{} 1:{} 7:{}\n", i % 2, (i % 2) as f64 + (i % 5) as f64 * 0.1, i % 3))
        .collect();
    let data = write(dir.path(), "d.svm", &rows);
    for model in ["logistic", "mlp"] {
        let out = dir.path().join(model);
        let a = steepest()
            .args([
                "train", "--json", "--quiet", "--epochs", "20", "--model", model, "--data", &data, "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        let j = json_of(&a.get_output().stdout);
        assert!(j["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{model}: {j}");
        steepest()
            .args(["predict", "--model"])
            .arg(&out)
            .args(["--data", &data])
            .assert()
            .success();
    }
}

/// Writes an IDX pair `<part>-images-idx3-ubyte` / `<part>-labels-idx1-ubyte` of `n` 12x12
/// images: class k has a bright 4x4 square at its own corner, plus seeded noise.
fn write_idx_pair(dir: &Path, part: &str, n: usize, seed: u64) {
    let mut img = vec![0u8, 0, 8, 3];
    img.extend((n as u32).to_be_bytes());
    img.extend(12u32.to_be_bytes());
    img.extend(12u32.to_be_bytes());
    let mut lab = vec![0u8, 0, 8, 1];
    lab.extend((n as u32).to_be_bytes());
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in 0..n {
        let k = i % 4;
        let (r0, c0) = [(0, 0), (0, 8), (8, 0), (8, 8)][k];
        for r in 0..12 {
            for c in 0..12 {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = (s >> 59) as u8 * 8;
                let on = (r0..r0 + 4).contains(&r) && (c0..c0 + 4).contains(&c);
                img.push(if on { 200 + noise / 8 } else { noise });
            }
        }
        lab.push(k as u8);
    }
    std::fs::write(dir.join(format!("{part}-images-idx3-ubyte")), img).unwrap();
    std::fs::write(dir.join(format!("{part}-labels-idx1-ubyte")), lab).unwrap();
}

#[test]
fn a_cnn_trains_on_an_idx_folder_and_an_architecture_file_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("images");
    std::fs::create_dir(&data).unwrap();
    write_idx_pair(&data, "train", 160, 1);
    write_idx_pair(&data, "t10k", 40, 2);
    let out = dir.path().join("cnn");
    let a = steepest()
        .args([
            "train",
            "--json",
            "--quiet",
            "--model",
            "cnn",
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    assert_eq!(j["model"], "cnn");
    assert_eq!(j["test_rows"], 40, "the folder's test split is the test data");
    assert!(j["metrics"]["accuracy"].as_f64().unwrap() >= 0.9, "{j}");
    // inspect: the per-layer table, PyTorch's layouts.
    let a = steepest().args(["inspect", "--json"]).arg(&out).assert().success();
    let i = json_of(&a.get_output().stdout);
    assert_eq!(i["input_shape"], serde_json::json!([1, 12, 12]));
    assert_eq!(i["parameters"]["conv1.weight"], serde_json::json!([32, 1, 3, 3]));
    assert_eq!(i["parameters"]["fc1.weight"], serde_json::json!([128, 1024]));
    let layers = i["layers"].as_array().unwrap();
    assert_eq!(layers[0]["output"], serde_json::json!([32, 10, 10]));
    // eval on the folder scores its test split.
    steepest()
        .args(["eval", "--json", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"rows\":40"));
    // An architecture file: a wrong in_features names both layers; an unknown type names the
    // line; nothing is written for either.
    let bad = write(
        dir.path(),
        "bad.toml",
        "[[layer]]\ntype = \"Conv2d\"\nout_channels = 4\nkernel_size = 3\n\n[[layer]]\ntype = \"Flatten\"\n\n[[layer]]\ntype = \"Linear\"\nin_features = 99\n",
    );
    let run = dir.path().join("bad-run");
    steepest()
        .args(["train", "--arch", &bad, "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "layer 2 (Linear '2'): in_features = 99, but layer 1 (Flatten '1') gives [400]",
        ));
    assert!(!run.exists());
    let unknown = write(dir.path(), "unknown.toml", "[[layer]]\ntype = \"Conv3d\"\n");
    steepest()
        .args(["train", "--arch", &unknown, "--data"])
        .arg(&data)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown.toml:2:8: unknown variant `Conv3d`"));
    // The same network through --arch trains to the same weights as --model cnn.
    let arch = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/arch/mnist-cnn.toml");
    let out2 = dir.path().join("arch");
    steepest()
        .args([
            "train",
            "--quiet",
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--arch",
            arch,
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out2)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "in_features = 9216, but layer 6 (Flatten '6') gives [1024]",
        ));
}

#[test]
fn output_cut_short_by_its_reader_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Std, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    steepest()
        .args(["train", "--quiet", "--model", "softmax", "--epochs", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    // Predictions for digits repeated: far more than a pipe holds.
    let csv = dir.path().join("many.csv");
    steepest()
        .args(["datasets", "--export", "digits", "--out"])
        .arg(&csv)
        .assert()
        .success();
    let body = std::fs::read_to_string(&csv).unwrap();
    let mut lines = body.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let mut big = header + "\n";
    for _ in 0..40 {
        for r in &rows {
            big.push_str(r);
            big.push('\n');
        }
    }
    std::fs::write(&csv, big).unwrap();
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("steepest"))
        .args(["predict", "--target", "label", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first.trim(), "prediction");
    // The reader is gone: the next writes fail.
    let result = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        err.trim().is_empty(),
        "ends quietly, as other tools in a pipe do: {err}"
    );
    assert!(!result.status.success());
}

#[test]
fn eval_and_predict_match_columns_by_header_name() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<(f64, f64, f64)> = (0..60)
        .map(|i| (i as f64 * 0.1, (i % 7) as f64, (i % 5) as f64 * 0.3))
        .collect();
    let y = |a: f64, b: f64, c: f64| 3.0 * a - 2.0 * b + 0.5 * c + 1.0;
    let mut train = String::from("a,b,c,y\n");
    let mut shuffled = String::from("c,y,a,b,extra\n");
    let mut missing = String::from("a,c,y\n");
    for &(a, b, c) in &rows {
        train.push_str(&format!("{a},{b},{c},{}\n", y(a, b, c)));
        shuffled.push_str(&format!("{c},{},{a},{b},7\n", y(a, b, c)));
        missing.push_str(&format!("{a},{c},{}\n", y(a, b, c)));
    }
    let train = write(dir.path(), "train.csv", &train);
    let shuffled = write(dir.path(), "shuffled.csv", &shuffled);
    let missing = write(dir.path(), "missing.csv", &missing);
    let out = dir.path().join("m");
    steepest()
        .args([
            "train",
            "--quiet",
            "--model",
            "ridge",
            "--alpha",
            "0.001",
            "--target",
            "y",
            "--test-split",
            "0",
            "--epochs",
            "200",
            "--data",
            &train,
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let eval = |data: &str| {
        let a = steepest()
            .args(["eval", "--json", "--target", "y", "--data", data, "--model"])
            .arg(&out)
            .assert()
            .success();
        json_of(&a.get_output().stdout)["metrics"]["r2"].as_f64().unwrap()
    };
    let (r2_train, r2_shuffled) = (eval(&train), eval(&shuffled));
    assert!(r2_train > 0.99, "{r2_train}");
    assert!(
        (r2_train - r2_shuffled).abs() < 1e-12,
        "the same rows, columns matched by name: {r2_train} vs {r2_shuffled}"
    );
    let predict = |data: &str| {
        let a = steepest()
            .args(["predict", "--data", data, "--model"])
            .arg(&out)
            .assert()
            .success();
        String::from_utf8_lossy(&a.get_output().stdout).to_string()
    };
    assert_eq!(predict(&train), predict(&shuffled));
    steepest()
        .args(["eval", "--target", "y", "--data", &missing, "--model"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("columns b are missing"));
}

#[test]
fn resume_refuses_flags_that_contradict_the_run_and_extends_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    steepest()
        .args(["train", "--quiet", "--hidden", "16", "--epochs", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    steepest()
        .args(["train", "--quiet", "--model", "linear", "--lr", "0.5", "--resume"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the flags contradict the run's settings"))
        .stderr(predicate::str::contains(
            "model \"mlp\" (the run) vs \"linear\" (the flags)",
        ))
        .stderr(predicate::str::contains("optimizer"));
    let a = steepest()
        .args(["train", "--json", "--quiet", "--epochs", "4", "--resume"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("the run now ends after 4 epochs (was 2)"));
    assert_eq!(json_of(&a.get_output().stdout)["epochs"], 4);
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(cfg.contains("epochs = 4"), "{cfg}");
}

#[test]
fn an_interrupted_run_says_where_its_checkpoint_is() {
    use std::process::{Command as Std, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = Std::new(assert_cmd::cargo::cargo_bin("steepest"))
        .args(["train", "--quiet", "--hidden", "8", "--epochs", "1000000", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    // While it trains, metrics.csv gains a row per epoch and status.json says running.
    let rows = |out: &Path| {
        std::fs::read_to_string(out.join("metrics.csv")).map_or(0, |s| s.lines().count().saturating_sub(1))
    };
    while !out.join("checkpoint.json").exists() || rows(&out) < 2 {
        assert!(t0.elapsed().as_secs() < 60, "no checkpoint and metrics rows appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::fs::read_to_string(out.join("status.json")).unwrap();
    assert!(status.contains("\"state\": \"running\""), "{status}");
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("training interrupted (SIGINT)"), "{err}");
    assert!(err.contains("resume with `steepest train --resume"), "{err}");
    let status = std::fs::read_to_string(out.join("status.json")).unwrap();
    assert!(status.contains("\"state\": \"interrupted\""), "{status}");
    // Every row written is whole, numbered 1, 2, 3, ...
    let live = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    for (i, line) in live.lines().skip(1).enumerate() {
        assert!(line.starts_with(&format!("{},", i + 1)), "{live}");
        assert_eq!(line.split(',').count(), 7, "{live}");
    }
    // The checkpoint it names resumes, and the finished run's table counts its epochs once.
    steepest()
        .args(["train", "--quiet", "--epochs", "3", "--resume"])
        .arg(&out)
        .assert()
        .success();
    let status = std::fs::read_to_string(out.join("status.json")).unwrap();
    assert!(status.contains("\"state\": \"finished\""), "{status}");
    let table = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let epochs: Vec<usize> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(epochs.len() >= 2, "{table}");
    assert_eq!(epochs, (1..=epochs.len()).collect::<Vec<_>>(), "{table}");
}

#[test]
fn the_model_decides_the_task_and_logistic_goes_multinomial() {
    let dir = tempfile::tempdir().unwrap();
    // Whole-number targets (a price): a regression model reads them as values.
    let rows: String = (1..=30)
        .map(|i| format!("{i},{},{}\n", i % 4, 3 * i + 2 * (i % 4) + 5))
        .collect();
    let data = write(dir.path(), "ints.csv", &format!("x1,x2,price\n{rows}"));
    let a = steepest()
        .args([
            "train", "--json", "--quiet", "--model", "ridge", "--alpha", "0.0001", "--epochs", "300", "--data", &data,
            "--out",
        ])
        .arg(dir.path().join("r"))
        .assert()
        .success();
    let j = json_of(&a.get_output().stdout);
    assert!(j["metrics"]["r2"].as_f64().unwrap() > 0.95, "{j}");
    // logistic on three classes: multinomial, said so.
    let a = steepest()
        .args([
            "train", "--json", "--quiet", "--model", "logistic", "--data", "iris", "--out",
        ])
        .arg(dir.path().join("l"))
        .assert()
        .success()
        .stderr(predicate::str::contains("multinomial"));
    let j = json_of(&a.get_output().stdout);
    assert!(j["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{j}");
}

#[test]
fn predict_drops_a_string_label_column() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["setosa", "versicolor", "virginica"];
    let rows: String = (0..60)
        .map(|i| {
            let k = i % 3;
            format!("{},{},{}\n", k as f64 + 0.1 * (i % 5) as f64, 2.0 - k as f64, names[k])
        })
        .collect();
    let data = write(dir.path(), "s.csv", &format!("a,b,species\n{rows}"));
    let out = dir.path().join("m");
    steepest()
        .args([
            "train", "--quiet", "--model", "softmax", "--target", "species", "--data", &data, "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    for extra in [&["--target", "species"][..], &[][..]] {
        let a = steepest()
            .args(["predict", "--data", &data, "--model"])
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        let text = String::from_utf8_lossy(&a.get_output().stdout).to_string();
        assert_eq!(text.lines().count(), 61, "{text}");
        assert_eq!(text.lines().nth(1), Some("setosa"));
    }
}

#[test]
fn a_folder_of_neither_images_nor_idx_says_what_a_data_folder_is_and_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("recordings");
    std::fs::create_dir(&rec).unwrap();
    for i in 0..3 {
        std::fs::write(rec.join(format!("0_george_{i}.wav")), b"RIFF").unwrap();
    }
    std::fs::write(dir.path().join("README.md"), b"spoken digits").unwrap();
    steepest()
        .args(["train", "--model", "mlp", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("run"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("image folder"))
        .stderr(predicate::str::contains("3 .wav files, 1 .md files"));
}
