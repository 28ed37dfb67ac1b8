//! Streamed linear learning: a stream learns what the in-memory fast path learns over the same
//! rows in the same order, its cache is used when valid, rebuilt when the source changes and
//! refused when damaged; feature hashing counts its collisions.

use std::io::Write;
use steepest::data::{murmur3_32, read_libsvm, BatchSize, FeatureHasher, ScalerKind, StreamSource, Task};
use steepest::models::{FittedLinear, LinearParams};
use steepest::optim::{Invariant, OptimizerSpec};

/// `n` LIBSVM rows over 40 features with values that f32 holds exactly (k / 8), labels from a
/// fixed rule.
fn write_rows(path: &std::path::Path, n: usize, seed: u64) {
    // A 64-bit linear congruential stream (Knuth's MMIX constants).
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut f = std::fs::File::create(path).unwrap();
    for _ in 0..n {
        let mut feats: Vec<(u32, f64)> = (0..6)
            .map(|_| {
                let j = 1 + (next() % 40) as u32;
                (j, (1 + next() % 16) as f64 / 8.0)
            })
            .collect();
        feats.sort_by_key(|e| e.0);
        feats.dedup_by_key(|e| e.0);
        let z: f64 = feats.iter().map(|(j, v)| if j % 2 == 0 { *v } else { -v }).sum();
        let line: Vec<String> = feats.iter().map(|(j, v)| format!("{j}:{v}")).collect();
        writeln!(f, "{} {}", usize::from(z > 0.0), line.join(" ")).unwrap();
    }
}

fn params(epochs: usize) -> LinearParams {
    let mut p = LinearParams::logistic_regression();
    p.fit.optimizer = OptimizerSpec::Invariant(Invariant::default());
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = epochs;
    p.fit.train.shuffle = false;
    p.fit.scaler = ScalerKind::None;
    p
}

fn weights(m: &FittedLinear<f64>) -> Vec<f64> {
    let (w, b) = m.coefficients().unwrap();
    w.concat().into_iter().chain(b).collect()
}

#[test]
fn a_stream_learns_what_the_in_memory_fast_path_learns() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("train.svm");
    write_rows(&file, 500, 1);
    let p = params(2).check().unwrap();
    let mut src = StreamSource::new(&file, None, Some(&dir.path().join("cache"))).unwrap();
    let streamed: FittedLinear<f64> = p.fit_stream(&mut src, &mut []).unwrap();
    assert_eq!(src.cached_passes, 1, "the second pass reads the cache");
    let data = read_libsvm::<f64>(&file, Some(Task::Classify)).unwrap();
    let memory = p.fit(&data).unwrap();
    let (a, b) = (weights(&streamed), weights(&memory));
    assert_eq!(a.len(), b.len());
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-9, "stream and memory differ by {worst:e}");
    assert!(a.iter().any(|w| w.abs() > 0.1), "the weights did not move");
    assert_eq!(streamed.history.len(), 2);
    assert!((streamed.history[0].train_loss - memory.history[0].train_loss).abs() < 1e-9);
}

#[test]
fn a_cache_is_reused_rebuilt_when_the_source_changes_and_refused_when_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let (file, cache) = (dir.path().join("d.svm"), dir.path().join("cache"));
    write_rows(&file, 300, 2);
    let p = params(2).check().unwrap();
    let mut src = StreamSource::new(&file, None, Some(&cache)).unwrap();
    let first: FittedLinear<f64> = p.fit_stream(&mut src, &mut []).unwrap();
    // A later run on the unchanged file reads the cache from its first pass.
    let mut src = StreamSource::new(&file, None, Some(&cache)).unwrap();
    let again: FittedLinear<f64> = p.fit_stream(&mut src, &mut []).unwrap();
    assert_eq!(src.cached_passes, 2);
    assert_eq!(weights(&first), weights(&again));
    // Another source (more rows): the old cache is not trusted.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_rows(&file, 400, 3);
    let mut src = StreamSource::new(&file, None, Some(&cache)).unwrap();
    let changed: FittedLinear<f64> = p.fit_stream(&mut src, &mut []).unwrap();
    assert_eq!(src.cached_passes, 1, "rebuilt from the text on the first pass");
    let fresh = p
        .fit(&read_libsvm::<f64>(&file, Some(Task::Classify)).unwrap())
        .unwrap();
    let worst = weights(&changed)
        .iter()
        .zip(&weights(&fresh))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-9, "the rebuilt cache gave another model ({worst:e})");
    // Truncated: an error naming the cache, not a model of part of the rows.
    let cfile = src.cache_path().unwrap().to_path_buf();
    let bytes = std::fs::read(&cfile).unwrap();
    std::fs::write(&cfile, &bytes[..bytes.len() - 40]).unwrap();
    let mut src = StreamSource::new(&file, None, Some(&cache)).unwrap();
    let err = p.fit_stream::<f64>(&mut src, &mut []).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains(".cache"), "{err}");
}

#[test]
fn murmur3_matches_published_values_and_hashing_counts_collisions() {
    // Reference values of MurmurHash3_x86_32.
    assert_eq!(murmur3_32(b"", 0), 0);
    assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
    assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
    assert_eq!(
        murmur3_32(b"The quick brown fox jumps over the lazy dog", 0),
        0x2e4f_f723
    );
    let mut h = FeatureHasher::new(4).unwrap();
    let buckets: Vec<u32> = (0..100u32).map(|j| h.bucket_of_index(j)).collect();
    // Counted independently: each index after the first in its bucket is a collision.
    let mut first = std::collections::HashSet::new();
    let collided = buckets.iter().filter(|b| !first.insert(**b)).count() as u64;
    assert_eq!(h.collisions(), (100, collided));
    assert!(collided >= 84, "100 features into 16 buckets: at least 84 collide");
    // Seeing a feature again is not a new collision.
    h.bucket_of_index(7);
    assert_eq!(h.collisions(), (100, collided));
}

#[test]
fn vowpal_wabbit_lines_become_hashed_columns_by_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.vw");
    std::fs::write(
        &file,
        "1 'row1 |a price:0.5 big |b:2 17 x:3\n-1 1 | 5 5:2 word\n\n1 |a price\n",
    )
    .unwrap();
    let d = steepest::data::read_vw::<f64>(&file, None).unwrap();
    assert_eq!(d.rows(), 3);
    let (labels, names) = d.targets.classes().unwrap();
    assert_eq!(names, ["-1", "1"]);
    assert_eq!(labels, [1, 0, 1]);
    let steepest::data::Features::Sparse(x) = &d.features else {
        panic!("sparse")
    };
    let (a, b) = (murmur3_32(b"a", 0), murmur3_32(b"b", 0));
    // Row 1: price 0.5 and big 1 in namespace a; in b (scale 2) the number 17 and x:3.
    let mut want = [
        (murmur3_32(b"price", a), 0.5),
        (murmur3_32(b"big", a), 1.0),
        (17u32.wrapping_add(b), 2.0),
        (murmur3_32(b"x", b), 6.0),
    ];
    want.sort_by_key(|e| e.0);
    let (idx, val) = x.row(0);
    assert_eq!(idx, want.iter().map(|e| e.0).collect::<Vec<_>>().as_slice());
    assert_eq!(val, want.iter().map(|e| e.1).collect::<Vec<_>>().as_slice());
    // Row 2 (importance 1, the unnamed namespace): feature 5 twice adds up to 3.
    let (idx, val) = x.row(1);
    let mut want = [(5u32, 3.0), (murmur3_32(b"word", 0), 1.0)];
    want.sort_by_key(|e| e.0);
    assert_eq!(idx, want.iter().map(|e| e.0).collect::<Vec<_>>().as_slice());
    assert_eq!(val, want.iter().map(|e| e.1).collect::<Vec<_>>().as_slice());
    // An importance weight other than 1 is refused with its line.
    std::fs::write(&file, "1 |a x\n1 0.5 |a y\n").unwrap();
    let err = steepest::data::read_vw::<f64>(&file, None).unwrap_err().to_string();
    assert!(err.contains(":2:") && err.contains("importance"), "{err}");
}

#[test]
fn namespace_crosses_add_vowpal_wabbits_fnv_products_of_the_raw_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.vw");
    std::fs::write(&file, "1 |user u7 age:0.5 |item i3 |other z\n").unwrap();
    let (u, i, o) = (murmur3_32(b"user", 0), murmur3_32(b"item", 0), murmur3_32(b"other", 0));
    let (u7, age, i3, z) = (
        murmur3_32(b"u7", u),
        murmur3_32(b"age", u),
        murmur3_32(b"i3", i),
        murmur3_32(b"z", o),
    );
    let cross = |a: u32, b: u32| a.wrapping_mul(16_777_619) ^ b;
    let row = |crosses: &[(u8, u8)]| {
        let d = steepest::data::read_vw_crossed::<f64>(&file, None, crosses).unwrap();
        let steepest::data::Features::Sparse(x) = &d.features else {
            panic!("sparse")
        };
        let (idx, val) = x.row(0);
        idx.iter().copied().zip(val.iter().copied()).collect::<Vec<_>>()
    };
    let sorted = |mut v: Vec<(u32, f64)>| {
        v.sort_by_key(|e| e.0);
        v
    };
    let base = vec![(u7, 1.0), (age, 0.5), (i3, 1.0), (z, 1.0)];
    // -q ui: each user feature times each item feature.
    let mut want = base.clone();
    want.extend([(cross(u7, i3), 1.0), (cross(age, i3), 0.5)]);
    assert_eq!(row(&[(b'u', b'i')]), sorted(want));
    // -q uu: pairs in file order, each feature with itself and those after it (squares too).
    let mut want = base.clone();
    want.extend([(cross(u7, u7), 1.0), (cross(u7, age), 0.5), (cross(age, age), 0.25)]);
    assert_eq!(row(&[(b'u', b'u')]), sorted(want));
    // A letter no namespace has crosses nothing.
    assert_eq!(row(&[(b'u', b'x')]), sorted(base));
    // Parsed as Vowpal Wabbit's -q or as pairs of names (first letters); mistakes named.
    let p = steepest::data::parse_namespace_crosses;
    assert_eq!(p("ui,user:item,_u").unwrap(), vec![(b'u', b'i'), (b' ', b'u')]);
    for bad in ["uix", "", ":i"] {
        assert!(p(bad).is_err(), "{bad}");
    }
}

/// The rows `lo..hi` of `d`.
fn rows<T: steepest::tensor::Scalar>(
    d: &steepest::data::Dataset<T>,
    lo: usize,
    hi: usize,
) -> steepest::data::Dataset<T> {
    d.subset(&(lo..hi).collect::<Vec<_>>()).unwrap()
}

#[test]
fn metrics_of_a_test_file_in_blocks_equal_those_of_the_whole() {
    use steepest::models::{Evaluator, Predictions, Predictor};
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.svm"), dir.path().join("test.svm"));
    write_rows(&train, 400, 3);
    write_rows(&test, 300, 4);
    let model = params(1)
        .check()
        .unwrap()
        .fit(&read_libsvm::<f64>(&train, Some(Task::Classify)).unwrap())
        .unwrap();
    let test = read_libsvm::<f64>(&test, Some(Task::Classify)).unwrap();
    let whole = model.evaluate(&test).unwrap();
    let mut e = Evaluator::new(&model);
    for (lo, hi) in [(0, 1), (1, 120), (120, 300)] {
        e.add(&model, &rows(&test, lo, hi)).unwrap();
    }
    assert_eq!(e.rows(), 300);
    let blocks = e.finish().unwrap();
    assert_eq!(
        blocks, whole,
        "a binary classifier's metrics, log_loss and roc_auc included"
    );
    assert!(blocks.contains_key("log_loss") && blocks.contains_key("roc_auc"));
    // Accuracy by a plain count of the predictions.
    let Predictions::Classes(p) = model.predict(&test.features).unwrap() else {
        panic!()
    };
    let y = model.align_classes(&test).unwrap();
    let hits = p.iter().zip(&y).filter(|(a, b)| a == b).count();
    assert_eq!(blocks["accuracy"], hits as f64 / 300.0);

    // A regressor, and a class the model never saw.
    let d = steepest::data::embedded::diabetes::<f64>().unwrap();
    let ridge = LinearParams::ridge(1.0).check().unwrap().fit(&d).unwrap();
    let mut e = Evaluator::new(&ridge);
    e.add(&ridge, &rows(&d, 0, 200)).unwrap();
    e.add(&ridge, &rows(&d, 200, d.rows())).unwrap();
    assert_eq!(e.finish().unwrap(), ridge.evaluate(&d).unwrap());
    let three = steepest::data::SparseChunk {
        labels: vec![2.0],
        x: steepest::tensor::CsrMatrix::new(1, 1, vec![0, 1], vec![0], vec![1.0f32]).unwrap(),
    };
    let mut block = three.into_dataset::<f64>(Task::Classify).unwrap();
    block.features = block.features.fit_cols(model.n_inputs).unwrap().0;
    let err = Evaluator::new(&model).add(&model, &block).unwrap_err().to_string();
    assert!(err.contains("class '2' was not seen in training"), "{err}");
}
