//! Output folders (issue 15, items 5 and 9): locked while written, never overwritten silently,
//! never the filesystem root; a run that cannot write exits 1 and leaves no temporary files.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn steepest() -> Command {
    Command::cargo_bin("steepest").unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_folder_being_written_is_locked_and_a_used_one_needs_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // A long run holds the lock while it trains.
    let exe = assert_cmd::cargo::cargo_bin("steepest");
    let mut first = std::process::Command::new(&exe)
        .args(["train", "--epochs", "100000", "--quiet", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Until its first checkpoint is written.
    while !out.join("checkpoint.json").exists() && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = first.id().to_string();
    steepest()
        .args(["train", "--epochs", "1", "--overwrite", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("is being written by process {pid}")));
    first.kill().unwrap();
    first.wait().unwrap();
    // The killed run's lock names a process that is gone: a resume takes it over. A stale
    // temporary file of an interrupted write is removed.
    std::fs::write(out.join(".checkpoint.json.tmp4242"), b"half a checkpoint").unwrap();
    std::fs::write(out.join(".loss.tmp4242.png"), b"half a picture").unwrap();
    assert!(out.join("checkpoint.json").exists(), "{:?}", names(&out));
    steepest()
        .args(["train", "--resume"])
        .arg(&out)
        .args(["--steps", "1", "--quiet"])
        .assert()
        .success();
    let left = names(&out);
    assert!(!left.iter().any(|n| n.contains(".tmp")), "{left:?}");
    assert!(!left.contains(&".lock".to_string()), "{left:?}");

    // A finished classifier run in the folder: refused without --overwrite.
    let used = dir.path().join("used");
    steepest()
        .args([
            "train", "--data", "iris", "--model", "softmax", "--epochs", "2", "--quiet", "--out",
        ])
        .arg(&used)
        .assert()
        .success();
    assert!(used.join("confusion.png").exists());
    steepest()
        .args([
            "train", "--data", "diabetes", "--model", "ridge", "--epochs", "2", "--out",
        ])
        .arg(&used)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--overwrite replaces its run"));
    // --overwrite clears the old run's files (no stale confusion matrix under a regression);
    // a file that is not a run's stays.
    std::fs::write(used.join("notes.txt"), b"mine").unwrap();
    steepest()
        .args([
            "train", "--data", "diabetes", "--model", "ridge", "--epochs", "2", "--quiet",
        ])
        .args(["--overwrite", "--out"])
        .arg(&used)
        .assert()
        .success();
    let left = names(&used);
    assert!(!left.contains(&"confusion.png".to_string()), "{left:?}");
    assert!(left.contains(&"notes.txt".to_string()), "{left:?}");
    let cfg = std::fs::read_to_string(used.join("config.toml")).unwrap();
    assert!(cfg.contains("model = \"ridge\""), "{cfg}");
    // The same rule for the other commands that write a folder; never the root.
    let lr = dir.path().join("lr");
    std::fs::create_dir(&lr).unwrap();
    std::fs::write(lr.join("x.txt"), b"x").unwrap();
    steepest()
        .args(["lr-find", "--model", "softmax", "--out"])
        .arg(&lr)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--overwrite"));
    steepest()
        .args(["landscape", "--function", "rosenbrock", "--out", "/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a filesystem root cannot be an output folder"));
    steepest()
        .args(["train", "--epochs", "1", "--out", "/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("filesystem root"));
}

#[test]
#[cfg(unix)]
fn a_run_that_cannot_write_its_checkpoint_exits_1_without_temporary_files() {
    // A file-size limit makes writes past 64 KiB fail (EFBIG, SIGXFSZ ignored), as a full disk
    // would: the checkpoint of the digits MLP is larger, its config is not.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let exe = assert_cmd::cargo::cargo_bin("steepest");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 64; exec '{}' train --epochs 2 --quiet --out '{}'",
            exe.display(),
            out.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(1), "{err}");
    assert!(err.contains("error:"), "{err}");
    let left = names(&out);
    assert!(!left.iter().any(|n| n.contains(".tmp")), "{left:?}");
}
