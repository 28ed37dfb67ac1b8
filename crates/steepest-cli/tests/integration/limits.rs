//! Memory bounds and messages (issue 15, items 7 and 14): sizes are checked before allocating,
//! every message is one line that names what was asked, and flags that do not apply say so.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;
use std::path::Path;

fn steepest() -> Command {
    Command::cargo_bin("steepest").unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// Runs `args`, expects exit 2 with one line of stderr containing `what`.
fn refused(args: &[&str], what: &str) {
    let a = steepest()
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(what));
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.len() < 600, "short: {err}");
}

#[test]
fn sizes_are_checked_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    // An MLP of 7.5e9 parameters: refused with its size, before any allocation.
    refused(
        &["train", "--hidden", "100000000", "--out", &out],
        "7500000010 parameters) needs about",
    );
    assert!(!Path::new(&out).exists(), "no run folder for a refused run");
    // --max-memory sets the budget.
    refused(
        &["train", "--max-memory", "64K", "--out", &out],
        "more than the 64.0 KiB the memory limit allows",
    );
    refused(&["train", "--max-memory", "lots", "--out", &out], "--max-memory");
    // A sparse file whose largest index implies 4 billion columns.
    let huge = "1 1:1 4294967295:1\n0 2:1\n".repeat(5);
    let svm = write(dir.path(), "huge.svm", huge.as_bytes());
    refused(
        &["train", "--data", &svm, "--model", "logistic", "--out", &out],
        "feature hashing",
    );
    // A config that never ends, and one with a huge value.
    refused(&["train", "--config", "/dev/zero"], "not a regular file");
    let long = format!("model = \"{}\"\nepochs = \"x\"\n", "m".repeat(1 << 20));
    let cfg = write(dir.path(), "long.toml", long.as_bytes());
    refused(&["train", "--config", &cfg, "--out", &out], "long.toml");
    // Polynomial features that overflow the element type.
    refused(
        &[
            "train", "--data", "iris", "--model", "linear", "--task", "regress", "--degree", "50",
        ],
        "degree 50 overflows f32",
    );
}

#[test]
fn messages_name_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    refused(
        &["train", "--lr=-1", "--out", &out],
        "lr = -1 must be a finite number >= 0",
    );
    refused(
        &["train", "--lr", "nan", "--out", &out],
        "--lr: NaN is not a finite number",
    );
    // A truncated gzip file: the line where reading stopped, not line 0.
    let rows: String = (0..3000)
        .map(|i| format!("{},{},{}\n", i % 7, (i * 31) % 11, i % 2))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("a,b,y\n{rows}").as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let cut = write(dir.path(), "cut.csv.gz", &bytes[..bytes.len() / 2]);
    let a = steepest()
        .args(["train", "--data", &cut, "--out", &out])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the file cannot be read past line"));
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(!err.contains(":0:"), "{err}");
    // A folder given as a LIBSVM file.
    refused(
        &[
            "train",
            "--data",
            dir.path().to_str().unwrap(),
            "--format",
            "libsvm",
            "--out",
            &out,
        ],
        "a folder; --format libsvm reads a file",
    );
    // Flags that do not apply warn (and the run goes on).
    steepest()
        .args([
            "train", "--data", "diabetes", "--model", "ridge", "--hidden", "50", "--epochs", "1",
        ])
        .args(["--quiet", "--out", &out])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "--hidden does not apply to model 'ridge' (it is for the mlp); ignored",
        ));
    steepest()
        .args([
            "train",
            "--early-stopping",
            "3",
            "--validation",
            "0",
            "--epochs",
            "1",
            "--quiet",
        ])
        .args(["--out", &format!("{out}2")])
        .assert()
        .success()
        .stderr(predicate::str::contains("it stops on the training loss"));
}
