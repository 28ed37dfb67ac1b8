//! Helpers shared by integration tests (each test file uses a part of them).

pub mod browser;
pub mod dashboard;

/// The `steepest` binary.
pub fn steepest() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("steepest").unwrap()
}

/// Runs a command that must succeed and returns the JSON object it prints.
pub fn json_of(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `steepest train --json --data TRAIN --test-data TEST --out OUT`, for more arguments.
pub fn train_json_cmd(train: &std::path::Path, test: &std::path::Path, out: &std::path::Path) -> assert_cmd::Command {
    let mut c = steepest();
    c.args(["train", "--json", "--data"])
        .arg(train)
        .arg("--test-data")
        .arg(test)
        .arg("--out")
        .arg(out);
    c
}
