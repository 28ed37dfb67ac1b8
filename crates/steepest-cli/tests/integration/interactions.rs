//! `--interactions` (issue 16): quadratic crosses of feature groups, from the command line to
//! the saved model and back. The oracle is a target that is exactly linear in the crossed
//! features: with them, least squares recovers it to rounding; without, it cannot.

use crate::common;

use common::{json_of, steepest, train_json_cmd};
use std::path::Path;

/// y = 1 + 2 a - b + 3 a b + (1.5 a when region is north), rows from a fixed sequence.
fn table(rows: usize) -> String {
    let mut s = String::from("a,b,c,region,y\n");
    for i in 0..rows {
        let t = i as f64;
        let (a, b, c) = ((t * 0.37).sin(), (t * 0.91).cos(), (t * 0.13).sin() + 0.5);
        let north = i % 3 == 0;
        let y = 1.0 + 2.0 * a - b + 3.0 * a * b + if north { 1.5 * a } else { 0.0 };
        s.push_str(&format!("{a},{b},{c},{},{y}\n", if north { "north" } else { "south" }));
    }
    s
}

fn r2(dir: &Path, extra: &[&str]) -> f64 {
    let mut cmd = steepest();
    cmd.args([
        "train",
        "--quiet",
        "--json",
        "--model",
        "linear",
        "--optimizer",
        "newton",
        "--penalty",
        "none",
    ])
    .args(["--dtype", "f64", "--target", "y", "--data"])
    .arg(dir.join("train.csv"))
    .arg("--out")
    .arg(dir.join(format!("run{}", extra.len())))
    .args(extra);
    json_of(&mut cmd)["metrics"]["r2"].as_f64().unwrap()
}

#[test]
fn crossed_groups_fit_a_target_made_of_products_and_predictions_cross_them_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.csv"), table(300)).unwrap();
    let without = r2(dir.path(), &[]);
    // a*b, and a and c with the one-hot columns of region (a*region=north carries the term).
    let with = r2(dir.path(), &["--interactions", "a:b,a+c:region"]);
    assert!(without < 0.99, "{without}");
    assert!(with > 1.0 - 1e-9, "{with}");
    // Predictions on new rows cross the same groups: the target to rounding.
    let fresh = table(330);
    let new_rows: String = fresh.lines().skip(301).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("new.csv"), format!("a,b,c,region,y\n{new_rows}")).unwrap();
    let out = steepest()
        .args(["predict", "--model"])
        .arg(dir.path().join("run2"))
        .arg("--data")
        .arg(dir.path().join("new.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let predicted: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.trim().parse().unwrap())
        .collect();
    let truth: Vec<f64> = new_rows
        .lines()
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(predicted.len(), truth.len());
    for (p, t) in predicted.iter().zip(&truth) {
        assert!((p - t).abs() < 1e-6, "{p} vs {t}");
    }
}

#[test]
fn hashed_crosses_on_sparse_rows_and_mistakes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Class 1 exactly when features 1 and 2 are both present: linear in their product only.
    let mut svm = String::new();
    for i in 0..400 {
        let (f1, f2) = (i % 2 == 0, i % 3 == 0);
        let label = if f1 && f2 { 1 } else { 0 };
        let mut line = format!("{label}");
        if f1 {
            line.push_str(" 1:1");
        }
        if f2 {
            line.push_str(" 2:1");
        }
        line.push_str(&format!(" {}:1\n", 3 + i % 5));
        svm.push_str(&line);
    }
    std::fs::write(dir.path().join("and.svm"), svm).unwrap();
    let acc = |extra: &[&str], out: &str| -> f64 {
        let mut cmd = steepest();
        cmd.args([
            "train",
            "--quiet",
            "--json",
            "--model",
            "logistic",
            "--hash-bits",
            "10",
            "--passes",
            "20",
        ])
        .arg("--data")
        .arg(dir.path().join("and.svm"))
        .arg("--out")
        .arg(dir.path().join(out))
        .args(extra);
        json_of(&mut cmd)["metrics"]["accuracy"].as_f64().unwrap()
    };
    assert_eq!(acc(&["--interactions", "1:2"], "with"), 1.0);
    // The saved model hashes and crosses what it evaluates: the same accuracy.
    let v = json_of(
        steepest()
            .args(["eval", "--json", "--model"])
            .arg(dir.path().join("with"))
            .arg("--data")
            .arg(dir.path().join("and.svm")),
    );
    assert_eq!(v["metrics"]["accuracy"].as_f64(), Some(1.0), "{v}");
    // A stream crosses each block into its hash buckets; without buckets it is refused.
    let v = json_of(
        steepest()
            .args([
                "train",
                "--quiet",
                "--json",
                "--model",
                "logistic",
                "--stream",
                "--hash-bits",
                "10",
            ])
            .args(["--interactions", "1:2", "--passes", "20", "--data"])
            .arg(dir.path().join("and.svm"))
            .arg("--test-data")
            .arg(dir.path().join("and.svm"))
            .arg("--out")
            .arg(dir.path().join("streamed")),
    );
    assert_eq!(v["metrics"]["accuracy"].as_f64(), Some(1.0), "{v}");
    steepest()
        .args([
            "train",
            "--quiet",
            "--model",
            "logistic",
            "--stream",
            "--interactions",
            "1:2",
            "--data",
        ])
        .arg(dir.path().join("and.svm"))
        .arg("--out")
        .arg(dir.path().join("streamed-plain"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--interactions with --stream needs --hash-bits",
        ));
    for (spec, says) in [
        ("1", "GROUP:GROUP"),
        ("0:1", "numbered 1 to 1024"),
        ("x:1", "have no names"),
    ] {
        steepest()
            .args([
                "train",
                "--quiet",
                "--model",
                "logistic",
                "--hash-bits",
                "10",
                "--interactions",
                spec,
            ])
            .arg("--data")
            .arg(dir.path().join("and.svm"))
            .arg("--out")
            .arg(dir.path().join("bad"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
}

/// A Vowpal Wabbit file whose label is the parity of a user's group against an item's: no
/// weight of a single feature predicts it; a weight per (user, item) cross does.
fn parity_vw(rows: usize, offset: usize) -> String {
    let mut s = String::new();
    for k in offset..offset + rows {
        let (u, i) = ((k * 7 + k / 13) % 24, (k * 11 + k / 5) % 24);
        let y = if (u % 4 < 2) == (i % 4 < 2) { 1 } else { -1 };
        s.push_str(&format!("{y} |user u{u} |item i{i}\n"));
    }
    s
}

#[test]
fn vowpal_wabbit_namespaces_are_the_groups_in_memory_streamed_and_when_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.vw"), dir.path().join("test.vw"));
    std::fs::write(&train, parity_vw(6000, 0)).unwrap();
    std::fs::write(&test, parity_vw(1000, 6000)).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let mut cmd = train_json_cmd(&train, &test, &dir.path().join(name));
        cmd.args(["--quiet", "--model", "logistic"]).args(extra);
        json_of(&mut cmd)["metrics"]["accuracy"].as_f64().unwrap()
    };
    let without = run("plain", &[]);
    let crossed = run("crossed", &["--interactions", "ui"]);
    let streamed = run("streamed", &["--interactions", "user:item", "--stream"]);
    assert!(without < 0.7, "{without}");
    assert!(crossed > 0.95, "{crossed}");
    assert_eq!(crossed, streamed);
    // The saved model reads its test file with the same crosses.
    let mut cmd = steepest();
    cmd.args(["eval", "--json", "--model"])
        .arg(dir.path().join("crossed"))
        .arg("--data")
        .arg(&test);
    assert_eq!(json_of(&mut cmd)["metrics"]["accuracy"].as_f64().unwrap(), crossed);
    // A file without namespaces cannot be read that way; a third letter is a mistake.
    std::fs::write(dir.path().join("t.svm"), "1 3:1\n").unwrap();
    steepest()
        .args(["eval", "--model"])
        .arg(dir.path().join("crossed"))
        .arg("--data")
        .arg(dir.path().join("t.svm"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("namespace crosses"));
    steepest()
        .args(["train", "--model", "logistic", "--interactions", "uix", "--data"])
        .arg(&train)
        .arg("--out")
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("'uix'"));
}
