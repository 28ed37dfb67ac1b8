//! Readers on good and malformed input: every error names file, line and column and says what
//! was expected.

use std::io::Write;
use steepest::data::*;
use steepest::Error;

fn csv(text: &str) -> steepest::Result<Dataset<f64>> {
    read_csv_from(text.as_bytes(), "t.csv", &CsvOptions::default())
}

fn csv_with(text: &str, o: CsvOptions) -> steepest::Result<Dataset<f64>> {
    read_csv_from(text.as_bytes(), "t.csv", &o)
}

fn svm(text: &str) -> steepest::Result<Dataset<f64>> {
    read_libsvm_from(text.as_bytes(), "t.svm", None)
}

/// Asserts a parse error at (line, column) whose message contains `what`.
fn at(r: steepest::Result<Dataset<f64>>, line: usize, column: usize, what: &str) {
    match r {
        Err(Error::Parse {
            file,
            line: l,
            column: c,
            msg,
        }) => {
            assert!(file.starts_with("t."), "{file}");
            assert_eq!((l, c), (line, column), "{msg}");
            assert!(msg.contains(what), "'{msg}' lacks '{what}'");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn csv_header_delimiter_target_and_labels() {
    let d = csv("a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n").unwrap();
    assert_eq!(d.feature_names, ["a", "b"]);
    let (labels, names) = d.targets.classes().unwrap();
    assert_eq!(names, ["cat", "dog"]);
    assert_eq!(labels, [0, 1, 0]);
    // Semicolons, no header, target by index 0, numeric classes sorted numerically.
    let d = csv_with(
        "10;1.5;2\n2;2.5;3\n10;0.5;1\n",
        CsvOptions {
            target: Some("0".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(d.targets.classes().unwrap().1, ["2", "10"]);
    assert_eq!(d.feature_names, ["x1", "x2"]);
    // Target by name, regression inferred from many distinct non-integer values.
    let d = csv("y,x\n0.5,1\n1.5,2\n2.25,3\n").unwrap();
    assert!(d.targets.values().is_err(), "last column is the default target");
    let d = csv_with(
        "y,x\n0.5,1\n1.5,2\n2.25,3\n",
        CsvOptions {
            target: Some("y".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(d.targets.values().unwrap(), [0.5, 1.5, 2.25]);
    // Tabs, with the task forced.
    let d = csv_with(
        "1\t2\t3\n4\t5\t6\n",
        CsvOptions {
            task: Some(Task::Regress),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(d.targets.values().unwrap(), [3.0, 6.0]);
}

#[test]
fn csv_errors_name_line_and_column() {
    // A word among nine numbers is a typo (a column of words is categories).
    let typo = format!("a,b,y\n{}1,zz,1\n", "1,2,0\n".repeat(9));
    at(csv(&typo), 11, 3, "expected a number in column 'b', found 'zz'");
    at(csv(&typo), 11, 3, "--categorical b");
    at(csv("a,b,y\n1,2,0\n1,2\n"), 3, 3, "expected 3 fields, found 2");
    at(csv("a,b,y\n1,2,0\n1,2,3,4\n"), 3, 5, "expected 3 fields, found 4");
    at(csv("a,b,y\n1,2,0\n1,2,\n"), 3, 5, "missing target");
    at(csv("a,b,y\n1,,0\n2,3,1\n"), 2, 3, "missing value in column 'b'");
    at(csv("a,b,y\n1,,0\n2,3,1\n"), 2, 3, "--impute");
    let e = csv("a,b,y\n1,,0\n2,NA,1\n").unwrap_err().to_string();
    assert!(e.contains("column 'b' is entirely empty"), "{e}");
    at(csv("a,b,y\n1,inf,0\n"), 2, 3, "finite");
    at(csv(""), 1, 1, "empty file");
    at(csv("a,b,y\n"), 2, 1, "at least one data row");
    at(
        csv_with(
            "a,b,y\n1,2,3\n",
            CsvOptions {
                target: Some("nope".into()),
                ..Default::default()
            },
        ),
        1,
        1,
        "no column named 'nope'",
    );
    at(
        csv_with(
            "a,b,y\n1,2,3\n",
            CsvOptions {
                target: Some("7".into()),
                ..Default::default()
            },
        ),
        1,
        1,
        "out of range",
    );
}

#[test]
fn csv_mean_imputation() {
    let o = CsvOptions {
        missing: Missing::Mean,
        ..Default::default()
    };
    let d = csv_with("a,b,y\n1,NA,0\n3,4,1\n5,8,0\n", o).unwrap();
    let Features::Dense(t) = &d.features else { panic!() };
    assert_eq!(t.data(), &[1.0, 6.0, 3.0, 4.0, 5.0, 8.0]);
}

#[test]
fn libsvm_reads_sparse_rows() {
    let d = svm("1 1:0.5 3:2 # comment\n-1 qid:4 2:1.5\n1\n").unwrap();
    let Features::Sparse(s) = &d.features else { panic!() };
    assert_eq!(s.shape(), (3, 3));
    assert_eq!(s.row(0), (&[0u32, 2][..], &[0.5, 2.0][..]));
    assert_eq!(s.row(1), (&[1u32][..], &[1.5][..]));
    assert_eq!(d.targets.classes().unwrap().1, ["-1", "1"]);
    // An index 0 anywhere makes all indices zero-based.
    let d = svm("0 0:1 4:1\n2 1:1\n1 2:1\n").unwrap();
    assert_eq!(d.cols(), 5);
    assert_eq!(d.targets.classes().unwrap().1, ["0", "1", "2"]);
}

#[test]
fn libsvm_errors_name_line_and_column() {
    at(svm("1 1:0.5\n1 3:1 2:1\n"), 2, 7, "indices must increase: 2 follows 3");
    at(svm("1 1:0.5\n1 1:x\n"), 2, 5, "expected a number, found 'x'");
    at(svm("1 1:0.5\n3:1 4:2\n"), 2, 1, "missing target");
    at(svm("1 1:0.5\n1 1-2\n"), 2, 3, "expected index:value");
    at(svm("abc 1:2\n"), 1, 1, "numeric label");
    at(svm("\n\n"), 2, 1, "no data rows");
}

fn idx_bytes(ty: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

#[test]
fn idx_reads_images_and_labels_and_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("train-images-idx3-ubyte");
    std::fs::write(&images, idx_bytes(0x08, &[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7])).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&idx_bytes(0x08, &[2], &[7, 3])).unwrap();
    // The labels file is looked up by the MNIST naming, and read through gzip.
    let lz = dir.path().join("train-labels-idx1-ubyte");
    std::fs::write(&lz, gz.finish().unwrap()).unwrap();
    let d: Dataset<f64> = read_idx(&images, None).unwrap();
    assert_eq!(d.cols(), 4);
    assert_eq!(
        d.targets.classes().unwrap(),
        (&[1usize, 0][..], &["3".to_string(), "7".to_string()][..])
    );
    let bad = |bytes: Vec<u8>, what: &str| {
        let e = read_idx_tensor::<f32>(&bytes, "t.idx").unwrap_err().to_string();
        assert!(e.starts_with("t.idx:1:") && e.contains(what), "{e}");
    };
    bad(vec![1, 2, 8, 1, 0, 0, 0, 1, 5], "wrong magic number");
    bad(idx_bytes(0x07, &[1], &[1]), "unknown IDX type");
    bad(idx_bytes(0x08, &[10], &[1, 2, 3]), "truncated data");
    bad(vec![0, 0, 8, 3, 0, 0], "truncated header");
}

#[test]
fn read_file_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.svm");
    std::fs::write(&p, "1 1:1\n0 2:1\n").unwrap();
    let d: Dataset<f32> = read_file(&p, &ReadOptions::default()).unwrap();
    assert!(matches!(d.features, Features::Sparse(_)));
    let q = dir.path().join("d.data");
    std::fs::write(&q, "1,2,0\n3,4,1\n").unwrap();
    assert!(read_file::<f32>(&q, &ReadOptions::default())
        .unwrap_err()
        .to_string()
        .contains("unknown file type"));
    let o = ReadOptions {
        format: Some(Format::Csv),
        ..Default::default()
    };
    assert_eq!(read_file::<f32>(&q, &o).unwrap().rows(), 2);
    let e = read_file::<f32>(dir.path().join("missing.csv"), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}

#[test]
fn embedded_datasets_have_their_published_shapes() {
    let d = embedded::digits::<f32>().unwrap();
    assert_eq!((d.rows(), d.cols(), d.n_classes()), (1797, 64, 10));
    let i = embedded::iris::<f32>().unwrap();
    assert_eq!((i.rows(), i.cols(), i.n_classes()), (150, 4, 3));
    let b = embedded::diabetes::<f64>().unwrap();
    assert_eq!((b.rows(), b.cols()), (442, 10));
    let y = b.targets.values().unwrap();
    assert_eq!(y[0], 151.0);
}

#[test]
fn the_parallel_file_reader_agrees_with_the_stream_reader() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            "{} {}:0.5 {}:{} # row {i}\n",
            i % 3,
            i % 7 + 1,
            i % 7 + 9,
            i as f64 / 7.0
        ));
    }
    let p = dir.path().join("big.svm");
    std::fs::write(&p, &text).unwrap();
    let a: Dataset<f64> = read_libsvm(&p, None).unwrap();
    let b: Dataset<f64> = read_libsvm_from(text.as_bytes(), &p.display().to_string(), None).unwrap();
    assert_eq!(a, b);
    // An error deep in the file (in the last piece) keeps its line and column.
    let bad = text.replacen("2999 ", "x", 0) + "1 5:1 3:1\n";
    std::fs::write(&p, &bad).unwrap();
    let e = read_libsvm::<f64>(&p, None).unwrap_err().to_string();
    assert!(e.ends_with(":3001:7: indices must increase: 3 follows 5"), "{e}");
    let e2 = read_libsvm_from::<f64>(bad.as_bytes(), &p.display().to_string(), None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, e2);
    // Lines for the one-pass path (tabs, CRLF, signs, exponents, long integers, 1 as a value)
    // mixed with lines only the careful parser reads (qid, comments, blank lines).
    let mut text = String::new();
    for i in 0..2000u64 {
        text.push_str(&match i % 6 {
            0 => format!("+1 3:1 10:2.5e-3 {}:-4\n", 11 + i),
            1 => format!("-1\t2:0.25\t7:{}\r\n", 1_234_567_890_123u64 + i),
            2 => format!("1 qid:{i} 4:1 5:-0.0\n"),
            3 => "\n".to_string(),
            4 => format!("-1 1:3 2:{}.5 # c:1\n", i),
            _ => format!("1e0 6:1 9:1E2 {}:7\n", 20 + i % 9),
        });
    }
    std::fs::write(&p, &text).unwrap();
    let a: Dataset<f64> = read_libsvm(&p, None).unwrap();
    let b: Dataset<f64> = read_libsvm_from(text.as_bytes(), &p.display().to_string(), None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.rows(), 2000 - 333); // less the blank lines
                                      // Found by differential fuzzing (fuzz/fuzz_targets/libsvm_file.rs): a 25-digit index
                                      // overflowed the one-pass path, and the stream reader took a signed index.
    for (line, want) in [
        (
            "1 1234567890123456789012345:1\n",
            ":1:3: expected a non-negative integer index",
        ),
        ("1 +3:1\n", ":1:3: expected a non-negative integer index, found '+3'"),
    ] {
        std::fs::write(&p, line).unwrap();
        let e = read_libsvm::<f64>(&p, None).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
        let e2 = read_libsvm_from::<f64>(line.as_bytes(), &p.display().to_string(), None).unwrap_err();
        assert_eq!(e, e2.to_string());
    }
}

#[test]
fn gzipped_libsvm_reads_as_the_plain_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let text = "1 1:0.5 3:2\n0 2:1.5\n1 1:-1 2:0.25 3:4\n";
    let plain = dir.path().join("a.svm");
    std::fs::write(&plain, text).unwrap();
    let gz = dir.path().join("a.svm.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let a: steepest::data::Dataset<f64> = steepest::data::read_libsvm(&plain, None).unwrap();
    let b: steepest::data::Dataset<f64> = steepest::data::read_libsvm(&gz, None).unwrap();
    assert_eq!(a, b);
    let c: steepest::data::Dataset<f64> = steepest::data::read_file(&gz, &Default::default()).unwrap();
    assert_eq!(a, c);
}

#[test]
fn images_become_channel_planes_of_grey_levels() {
    use steepest::data::{read_images, ImageOptions};
    // A 2x1 RGB image: pixels (255, 0, 128) and (0, 255, 0); a grey 2x1 image (0, 51).
    let dir = tempfile::tempdir().unwrap();
    let rgb = dir.path().join("rgb.png");
    image::RgbImage::from_raw(2, 1, vec![255, 0, 128, 0, 255, 0])
        .unwrap()
        .save(&rgb)
        .unwrap();
    let d = read_images::<f64>(std::slice::from_ref(&rgb), &ImageOptions::default()).unwrap();
    assert_eq!(
        (d.shape.as_slice(), d.kept.as_slice(), d.skipped.len()),
        (&[3, 1, 2][..], &[true][..], 0)
    );
    let x = d.pixels;
    // Channel-major: the red plane, the green plane, the blue plane.
    let want = [255.0, 0.0, 0.0, 255.0, 128.0, 0.0];
    assert!(
        x.data().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{:?}",
        x.data()
    );
    let grey = dir.path().join("grey.png");
    image::GrayImage::from_raw(2, 1, vec![0, 51])
        .unwrap()
        .save(&grey)
        .unwrap();
    let g = read_images::<f64>(std::slice::from_ref(&grey), &ImageOptions::default()).unwrap();
    assert_eq!(g.shape, [1, 1, 2]);
    assert_eq!(g.pixels.data(), &[0.0, 51.0]);
    // Grey and colour together: every image as RGB (grey repeated in the three planes).
    let both = read_images::<f64>(&[grey, rgb], &ImageOptions::default()).unwrap();
    assert_eq!(both.shape, [3, 1, 2]);
    assert_eq!(both.pixels.row(0), &[0.0, 51.0, 0.0, 51.0, 0.0, 51.0]);
}
