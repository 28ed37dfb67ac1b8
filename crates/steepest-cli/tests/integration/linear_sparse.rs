//! Large-scale linear learning from the command line: the defaults on sparse data (per-example
//! invariant steps, one pass, no scaling), `--stream` with its cache, `--hash-bits` carried into
//! eval, and the errors of settings a stream cannot take.

use crate::common;

use common::{json_of, steepest, train_json_cmd};
use predicates::prelude::*;
use std::io::Write;
use std::path::PathBuf;

/// `steepest eval --json` of the model in `run` on `data` (read whole).
fn eval_json(run: &std::path::Path, data: &std::path::Path) -> serde_json::Value {
    json_of(
        steepest()
            .args(["eval", "--json", "--model"])
            .arg(run)
            .arg("--data")
            .arg(data),
    )
}

/// `steepest train ARGS --data DATA --out OUT` exits 2 with `needle` in its error.
fn refused(args: &[&str], data: &std::path::Path, out: &std::path::Path, needle: &str) {
    steepest()
        .arg("train")
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(needle));
}

/// A training and a test file of [`write_sparse`] rows over `d` features in `dir`, drawn with
/// seeds `seed` and `seed + 1`.
fn train_and_test(dir: &std::path::Path, rows: (usize, usize), d: u64, seed: u64) -> (PathBuf, PathBuf) {
    let (train, test) = (dir.join("train.svm"), dir.join("test.svm"));
    write_sparse(&train, rows.0, d, seed);
    write_sparse(&test, rows.1, d, seed + 1);
    (train, test)
}

/// `n` rows of a sparse logistic problem: 30 of `d` binary features per row, label drawn from
/// a logistic of a fixed random rule (a W3 in miniature).
fn write_sparse(path: &std::path::Path, n: usize, d: u64, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 11
    };
    let weight = |j: u64| ((j.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) % 2001) as f64 / 1000.0 - 1.0;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..n {
        let mut idx: Vec<u64> = (0..30).map(|_| 1 + next() % d).collect();
        idx.sort_unstable();
        idx.dedup();
        let z: f64 = idx.iter().map(|&j| weight(j)).sum::<f64>() * 0.6;
        let u = (next() % 1_000_000) as f64 / 1e6;
        let y = usize::from(u < 1.0 / (1.0 + (-z).exp()));
        let feats: Vec<String> = idx.iter().map(|j| format!("{j}:1")).collect();
        writeln!(f, "{y} {}", feats.join(" ")).unwrap();
    }
}

#[test]
fn sparse_data_get_one_fast_calibrated_pass_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path(), (20_000, 4_000), 2_000, 1);
    let out = dir.path().join("run");
    let v = json_of(train_json_cmd(&train, &test, &out).args(["--model", "logistic"]));
    assert_eq!(v["optimizer"], "invariant", "{v}");
    assert_eq!(v["epochs"], 1, "{v}");
    let acc = v["metrics"]["accuracy"].as_f64().unwrap();
    let ll = v["metrics"]["log_loss"].as_f64().unwrap();
    // The base rate's log-loss is at most ln 2; a default run must beat it, and learn.
    assert!(ll < 0.69 && acc > 0.6, "{v}");
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("scaler = \"none\"") && config.contains("batch_size = \"1\""),
        "{config}"
    );
    // The general loop's default (standard scaling, momentum, mini-batches) on the same rows
    // ends overconfident: the reason for the sparse defaults.
    let g = json_of(train_json_cmd(&train, &test, &dir.path().join("general")).args([
        "--model",
        "logistic",
        "--scaler",
        "standard",
        "--batch-size",
        "32",
        "--optimizer",
        "sgd",
        "--momentum",
        "0.9",
        "--lr",
        "0.01",
        "--epochs",
        "1",
    ]));
    assert!(g["metrics"]["log_loss"].as_f64().unwrap() > ll, "{g} vs {v}");
}

#[test]
fn a_stream_with_passes_keeps_a_cache_and_refuses_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path(), (5_000, 1_000), 1_000, 3);
    let cache = dir.path().join("cache");
    let run = |name: &str| {
        let mut c = train_json_cmd(&train, &test, &dir.path().join(name));
        c.args(["--model", "logistic", "--stream", "--passes", "2", "--cache-dir"])
            .arg(&cache);
        c
    };
    let v = json_of(&mut run("s1"));
    assert_eq!(v["streamed"], true);
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.55, "{v}");
    let metrics = std::fs::read_to_string(dir.path().join("s1/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "{metrics}");
    let cfile = cache.join("train.svm.cache");
    let bytes = std::fs::read(&cfile).unwrap();
    // Damaged: exit 2 naming the cache.
    std::fs::write(&cfile, &bytes[..bytes.len() / 2]).unwrap();
    run("s2")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("damaged").and(predicate::str::contains("train.svm.cache")));
    // A stream cannot shuffle, scale or hold out rows.
    refused(
        &["--model", "logistic", "--stream", "--scaler", "standard"],
        &train,
        &dir.path().join("s3"),
        "no scaling",
    );
    refused(
        &["--model", "mlp", "--stream"],
        &train,
        &dir.path().join("s4"),
        "--stream",
    );
}

#[test]
fn hashed_models_hash_what_they_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path(), (5_000, 1_000), 50_000, 5);
    let out = dir.path().join("h");
    let a = train_json_cmd(&train, &test, &out)
        .args(["--model", "logistic", "--hash-bits", "12"])
        .assert()
        .success()
        .stderr(predicate::str::contains("share a bucket"));
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let e = eval_json(&out, &test);
    let (x, y) = (&v["metrics"]["accuracy"], &e["metrics"]["accuracy"]);
    assert_eq!(x, y, "train's test metrics {v} vs eval {e}");
    let info = json_of(steepest().args(["inspect", "--json"]).arg(&out));
    assert_eq!(
        info["features"].as_u64(),
        Some(4096),
        "the model is over the 2^12 buckets"
    );
}

#[test]
fn in_memory_and_streamed_learn_the_same_model_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path(), (3000, 1000), 2000, 5);
    let run = |extra: &[&str], out: &str| {
        json_of(
            train_json_cmd(&train, &test, &dir.path().join(out))
                .args(["--quiet", "--model", "logistic", "--passes", "2"])
                .args(extra),
        )
    };
    let memory = run(&[], "memory");
    let streamed = run(&["--stream"], "streamed");
    // The same steps in the same order: the same model, to the last bit of its metrics.
    assert_eq!(memory["metrics"], streamed["metrics"]);
    // Shuffling, asked for, visits the rows in another order: another model.
    let shuffled = run(&["--shuffle", "true"], "shuffled");
    assert_ne!(memory["metrics"]["log_loss"], shuffled["metrics"]["log_loss"]);
}

#[test]
fn a_stream_scores_a_test_file_of_several_blocks_as_eval_does() {
    let dir = tempfile::tempdir().unwrap();
    // Over 8 MiB: the stream reads it in two blocks, keeping only the predictions.
    let (train, test) = train_and_test(dir.path(), (3000, 60_000), 2000, 7);
    assert!(std::fs::metadata(&test).unwrap().len() > 8 << 20);
    let out = dir.path().join("s");
    let v = json_of(train_json_cmd(&train, &test, &out).args(["--quiet", "--model", "logistic", "--stream"]));
    assert_eq!(v["test_rows"], 60_000);
    let e = eval_json(&out, &test);
    // eval reads the file whole: the same rows, the same numbers.
    for m in ["accuracy", "log_loss", "roc_auc", "f1_macro", "balanced_accuracy"] {
        assert_eq!(v["metrics"][m], e["metrics"][m], "{m}: streamed {v} vs eval {e}");
    }
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.6, "{v}");
}

/// `n` rows of a sparse 3-class problem: 20 of `d` binary features, the class the argmax of
/// three fixed random rules over them.
fn write_three_classes(path: &std::path::Path, n: usize, d: u64, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 11
    };
    let weight =
        |c: u64, j: u64| (((j * 3 + c).wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) % 2001) as f64 / 1000.0 - 1.0;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..n {
        let mut idx: Vec<u64> = (0..20).map(|_| 1 + next() % d).collect();
        idx.sort_unstable();
        idx.dedup();
        let z: Vec<f64> = (0..3).map(|c| idx.iter().map(|&j| weight(c, j)).sum()).collect();
        let y = (0..3).max_by(|&a, &b| z[a].total_cmp(&z[b])).unwrap();
        let feats: Vec<String> = idx.iter().map(|j| format!("{j}:1")).collect();
        writeln!(f, "{y} {}", feats.join(" ")).unwrap();
    }
}

#[test]
fn several_classes_on_sparse_data_take_per_example_multinomial_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.svm"), dir.path().join("test.svm"));
    write_three_classes(&train, 6000, 300, 1);
    write_three_classes(&test, 2000, 300, 2);
    let run = |model: &str, extra: &[&str], out: &str| {
        let a = train_json_cmd(&train, &test, &dir.path().join(out))
            .args(["--quiet", "--model", model])
            .args(extra)
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        (
            serde_json::from_slice::<serde_json::Value>(&a.get_output().stdout).unwrap(),
            stderr,
        )
    };
    let (softmax, _) = run("softmax", &[], "softmax");
    let acc = softmax["metrics"]["accuracy"].as_f64().unwrap();
    // A third is chance; the rule is linear, so one pass learns most of it.
    assert!(acc > 0.7, "{softmax}");
    // Calibrated: below the log-loss of predicting the class frequencies (at most ln 3).
    assert!(
        softmax["metrics"]["log_loss"].as_f64().unwrap() < 3f64.ln() * 0.8,
        "{softmax}"
    );
    assert_eq!(softmax["optimizer"], "adagrad", "{softmax}");
    // Logistic regression on three classes is the same multinomial model, said in notes.
    let (logistic, notes) = run("logistic", &[], "logistic");
    assert!(notes.contains("multinomial") && notes.contains("AdaGrad"), "{notes}");
    assert_eq!(logistic["optimizer"], "adagrad", "{logistic}");
    assert_eq!(logistic["metrics"], softmax["metrics"]);
    // Streamed: the same steps in the same order, the same model.
    let (streamed, _) = run("softmax", &["--stream"], "streamed");
    assert_eq!(streamed["metrics"], softmax["metrics"]);
    // A binary model cannot stream three classes, and says what can.
    refused(
        &["--quiet", "--model", "logistic", "--stream"],
        &train,
        &dir.path().join("refused"),
        "--model softmax",
    );
}

#[test]
fn an_overconfident_model_is_flagged_against_the_class_frequencies() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = train_and_test(dir.path(), (5_000, 1_000), 2_000, 9);
    // scikit-learn's "optimal" rate with a tiny alpha takes huge steps: probabilities near 0
    // and 1, log-loss far above ln 2, accuracy still above chance.
    let a = train_json_cmd(&train, &test, &dir.path().join("hot"))
        .args(["--quiet", "--model", "logistic", "--penalty", "l2", "--alpha", "1e-7"])
        .assert()
        .success()
        .stderr(predicate::str::contains("far above the"));
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(v["metrics"]["log_loss"].as_f64().unwrap() > 2f64.ln() * 1.1, "{v}");
    // The default run is calibrated: no warning.
    train_json_cmd(&train, &test, &dir.path().join("calm"))
        .args(["--quiet", "--model", "logistic"])
        .assert()
        .success()
        .stderr(predicate::str::contains("far above").not());
}
