//! Each rank reads its own rows; together they are the file read whole by one process.

use crate::common;

use common::on_ranks;
use std::path::Path;
use steepest::data::{read_file, Dataset, Features, ReadOptions};
use steepest_distributed::read_shard;

/// Rows as (target text, dense features).
fn rows(d: &Dataset<f64>) -> Vec<(String, Vec<f64>)> {
    let Features::Sparse(x) = &d.features else {
        panic!("sparse expected")
    };
    (0..d.rows())
        .map(|r| {
            let mut dense = vec![0.0; d.cols()];
            let (idx, val) = x.row(r);
            idx.iter().zip(val).for_each(|(&j, &v)| dense[j as usize] = v);
            let t = match &d.targets {
                steepest::data::Targets::Classes { labels, names } => names[labels[r]].clone(),
                steepest::data::Targets::Values(v) => format!("{}", v[r]),
            };
            (t, dense)
        })
        .collect()
}

fn check_shards_equal_whole(path: &Path, ranks: usize) {
    let opts = ReadOptions::default();
    let whole = read_file::<f64>(path, &opts).unwrap();
    let parts = on_ranks(ranks, |c| read_shard::<f64>(c, path, &opts).unwrap());
    let mut joined = Vec::new();
    for p in &parts {
        assert_eq!(p.cols(), whole.cols());
        assert_eq!(p.targets.class_names(), whole.targets.class_names());
        joined.extend(rows(p));
    }
    assert_eq!(joined, rows(&whole));
}

#[test]
fn libsvm_shards_agree_on_columns_indices_task_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    // One-based; the largest index and class 7 appear only near the end; a comment line.
    let mut text = String::from("# header comment\n");
    for i in 0..40 {
        text.push_str(&format!("{} 1:{} 3:{}.5\n", i % 3, i, i % 4));
    }
    text.push_str("7 2:1 250:2\n");
    let p = dir.path().join("a.svm");
    std::fs::write(&p, &text).unwrap();
    for ranks in [1, 2, 3, 5] {
        check_shards_equal_whole(&p, ranks);
    }
    // Real-valued labels: regression on every rank, though some parts hold only integers.
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("{} 0:{i}\n", if i == 29 { 0.5 } else { i as f64 }));
    }
    let p = dir.path().join("b.svm");
    std::fs::write(&p, &text).unwrap();
    let whole = read_file::<f64>(&p, &ReadOptions::default()).unwrap();
    assert!(whole.targets.class_names().is_empty(), "regression expected");
    check_shards_equal_whole(&p, 3);
}

#[test]
fn csv_shards_are_the_rows_of_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.csv");
    let body: String = (0..23)
        .map(|i| format!("{i},{},{}\n", i * i, ["a", "b", "c"][i % 3]))
        .collect();
    std::fs::write(&p, format!("x,y,label\n{body}")).unwrap();
    let whole = read_file::<f64>(&p, &ReadOptions::default()).unwrap();
    let parts = on_ranks(3, |c| read_shard::<f64>(c, &p, &ReadOptions::default()).unwrap());
    assert_eq!(parts.iter().map(|d| d.rows()).collect::<Vec<_>>(), [8, 8, 7]);
    let x: Vec<f64> = parts
        .iter()
        .flat_map(|d| {
            d.features
                .gather(&(0..d.rows()).collect::<Vec<_>>())
                .unwrap()
                .dense_data()
        })
        .collect();
    assert_eq!(
        x,
        whole
            .features
            .gather(&(0..23).collect::<Vec<_>>())
            .unwrap()
            .dense_data()
    );
}

#[test]
fn a_bad_line_in_one_part_is_reported_on_every_rank_with_its_line_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("{} 1:{i}\n", i % 2));
    }
    text.push_str("1 3:x\n");
    let p = dir.path().join("bad.svm");
    std::fs::write(&p, &text).unwrap();
    let errs = on_ranks(3, |c| {
        read_shard::<f64>(c, &p, &ReadOptions::default())
            .unwrap_err()
            .to_string()
    });
    for e in &errs {
        assert!(e.contains("rank 2: ") && e.contains("bad.svm:31:"), "{e}");
    }
}

trait DenseData {
    fn dense_data(&self) -> Vec<f64>;
}

impl DenseData for Features<f64> {
    fn dense_data(&self) -> Vec<f64> {
        match self {
            Features::Dense(t) => t.data().to_vec(),
            Features::Sparse(_) => panic!("dense expected"),
        }
    }
}
