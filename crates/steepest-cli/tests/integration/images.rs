//! Images from the command line: an image folder (class folders, train/ and test/), the
//! embedded mnist10k, predictions for image files, and the errors of undecodable or
//! odd-sized files.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn steepest() -> Command {
    Command::cargo_bin("steepest").unwrap()
}

/// An 8x8 grey image of class `c`: bright top rows (0), left columns (1) or diagonal (10), with
/// a little seeded noise.
fn digit(c: usize, seed: u32) -> image::GrayImage {
    image::GrayImage::from_fn(8, 8, |x, y| {
        let on = match c {
            0 => y < 3,
            1 => x < 3,
            _ => x.abs_diff(y) < 2,
        };
        let noise = (seed.wrapping_mul(2654435761).wrapping_add(x * 31 + y * 17) >> 24) as u8 / 8;
        image::Luma([if on { 220 - noise } else { 20 + noise }])
    })
}

fn make_folder(root: &Path, per_class: (u32, u32)) {
    for (split, n) in [("train", per_class.0), ("test", per_class.1)] {
        for c in [0usize, 1, 10] {
            let dir = root.join(split).join(c.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                digit(c, i + 100 * c as u32).save(dir.join(format!("{i}.png"))).unwrap();
            }
        }
    }
}

#[test]
fn an_image_folder_trains_and_its_files_are_predicted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shapes");
    make_folder(&root, (12, 4));
    let run = dir.path().join("run").display().to_string();
    let a = steepest()
        .args([
            "train",
            "--data",
            root.to_str().unwrap(),
            "--model",
            "mlp",
            "--hidden",
            "16",
        ])
        .args(["--epochs", "40", "--json", "--out", &run])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(
        v["test_rows"].as_u64(),
        Some(12),
        "the test/ folder is the test split: {v}"
    );
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{v}");
    // The pictures of an image classifier: valid PNG files.
    for pic in ["misclassified.png", "filters.png"] {
        let img = image::open(Path::new(&run).join(pic)).unwrap();
        assert!(img.width() >= 150 && img.height() >= 40, "{pic}");
    }
    // Classes in numeric order: 10 after 1.
    let i = steepest().args(["inspect", &run, "--json"]).assert().success();
    let info: Value = serde_json::from_slice(&i.get_output().stdout).unwrap();
    assert_eq!(info["classes"], serde_json::json!(["0", "1", "10"]));
    // Predictions for image files: one line each, the class and its probability.
    let files: Vec<String> = [("0", 0), ("10", 1), ("1", 2)]
        .iter()
        .map(|(c, i)| root.join("test").join(c).join(format!("{i}.png")).display().to_string())
        .collect();
    let p = steepest()
        .args(["predict", "--model", &run])
        .args(&files)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&p.get_output().stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "file,class,probability");
    for (line, want) in lines[1..].iter().zip(["0", "10", "1"]) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[1], want, "{text}");
        let prob: f64 = f[2].parse().unwrap();
        assert!(prob > 0.5 && prob <= 1.0, "{text}");
    }
    let j = steepest()
        .args(["predict", "--model", &run, "--json"])
        .args(&files[..1])
        .assert()
        .success();
    let arr: Value = serde_json::from_slice(&j.get_output().stdout).unwrap();
    assert_eq!(arr[0]["class"], "0", "{arr}");
    // The same images as a CSV list of path,label (relative paths), split 80/20.
    let mut list = String::from("path,label\n");
    for c in ["0", "1", "10"] {
        for i in 0..12 {
            list.push_str(&format!("train/{c}/{i}.png,{c}\n"));
        }
    }
    std::fs::write(root.join("list.csv"), list).unwrap();
    let l = steepest()
        .args([
            "train",
            "--data",
            root.join("list.csv").to_str().unwrap(),
            "--model",
            "mlp",
            "--hidden",
            "16",
        ])
        .args([
            "--epochs",
            "40",
            "--json",
            "--out",
            dir.path().join("list-run").to_str().unwrap(),
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&l.get_output().stdout).unwrap();
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.8, "{v}");
    // eval reads the folder's test split.
    steepest()
        .args(["eval", "--model", &run, "--data", root.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("accuracy"));
}

#[test]
fn undecodable_and_odd_sized_images_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shapes");
    make_folder(&root, (4, 2));
    let data = root.to_str().unwrap().to_string();
    let bad = root.join("train/1/broken.png");
    std::fs::write(&bad, b"not a png").unwrap();
    steepest()
        .args(["train", "--data", &data, "--model", "mlp", "--epochs", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.png").and(predicate::str::contains("--skip-bad")));
    steepest()
        .args([
            "train",
            "--data",
            &data,
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--skip-bad",
            "--quiet",
        ])
        .args(["--out", dir.path().join("r1").to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("1 image files could not be decoded"));
    std::fs::remove_file(&bad).unwrap();
    image::GrayImage::from_pixel(10, 9, image::Luma([5]))
        .save(root.join("train/0/big.png"))
        .unwrap();
    steepest()
        .args(["train", "--data", &data, "--model", "mlp", "--epochs", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("big.png").and(predicate::str::contains("--image-size")));
    let run = dir.path().join("r2").display().to_string();
    steepest()
        .args([
            "train",
            "--data",
            &data,
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--image-size",
            "6x5",
            "--quiet",
        ])
        .args(["--out", &run])
        .assert()
        .success();
    let i = steepest().args(["inspect", &run, "--json"]).assert().success();
    let info: Value = serde_json::from_slice(&i.get_output().stdout).unwrap();
    assert_eq!(info["features"], 30, "{info}");
    steepest()
        .args(["train", "--data", &data, "--image-size", "6x", "--epochs", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--image-size"));
}

#[test]
fn the_embedded_mnist_sample_trains_a_cnn_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("cnn").display().to_string();
    let a = steepest()
        .args([
            "train", "--data", "mnist10k", "--model", "cnn", "--steps", "3", "--json", "--out", &run,
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(v["test_rows"].as_u64(), Some(2000), "{v}");
    // The other presets build and train on the same images.
    for model in ["lenet5", "cnn-bn"] {
        let r = dir.path().join(model).display().to_string();
        steepest()
            .args([
                "train", "--data", "mnist10k", "--model", model, "--steps", "2", "--quiet", "--out", &r,
            ])
            .assert()
            .success();
        let i = steepest().args(["inspect", &r, "--json"]).assert().success();
        let info: Value = serde_json::from_slice(&i.get_output().stdout).unwrap();
        assert_eq!(info["model"], model, "{info}");
    }
    // Augmentation, named as torchvision's, recorded in the run's config; bad values refused.
    let r = dir.path().join("aug").display().to_string();
    steepest()
        .args([
            "train", "--data", "mnist10k", "--model", "lenet5", "--steps", "2", "--quiet", "--out", &r,
        ])
        .args([
            "--random-crop",
            "2",
            "--random-rotation",
            "10",
            "--random-erasing",
            "0.5",
        ])
        .assert()
        .success();
    let config = std::fs::read_to_string(Path::new(&r).join("config.toml")).unwrap();
    assert!(
        config.contains("RandomRotation") && config.contains("RandomErasing"),
        "{config}"
    );
    let r = dir.path().join("affine").display().to_string();
    steepest()
        .args([
            "train", "--data", "mnist10k", "--model", "lenet5", "--steps", "2", "--quiet", "--out", &r,
        ])
        .args(["--random-affine", "degrees=10,translate=0.1,scale=0.9:1.1,shear=5"])
        .assert()
        .success();
    let config = std::fs::read_to_string(Path::new(&r).join("config.toml")).unwrap();
    assert!(
        config.contains("RandomAffine") && config.contains("scale_max = 1.1"),
        "{config}"
    );
    // Label smoothing: recorded with the model's settings; outside [0, 1) refused.
    let r = dir.path().join("smooth").display().to_string();
    steepest()
        .args([
            "train", "--data", "mnist10k", "--model", "lenet5", "--steps", "2", "--quiet", "--out", &r,
        ])
        .args(["--label-smoothing", "0.1"])
        .assert()
        .success();
    let config = std::fs::read_to_string(Path::new(&r).join("config.toml")).unwrap();
    assert!(config.contains("label_smoothing = 0.1"), "{config}");
    // Bad values of the image flags: exit 2, the flag and the reason named.
    let refused = |flag: &str, value: &str, says: &str| {
        steepest()
            .args([
                "train", "--data", "mnist10k", "--model", "lenet5", "--steps", "1", flag, value,
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says).and(predicate::str::contains(flag)));
    };
    refused("--label-smoothing", "1.5", "[0, 1)");
    refused("--random-affine", "scale=1.1:0.9", "the smaller first");
    refused("--random-affine", "degrees=ten", "not a number");
    refused("--random-affine", "zoom=2", "unknown key 'zoom'");
    refused("--random-affine", "translate=2", "in [0, 1]");
    refused("--random-rotation", "400", "[0, 360]");
    steepest()
        .args([
            "train",
            "--data",
            "iris",
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--random-crop",
            "2",
            "--quiet",
        ])
        .args(["--out", dir.path().join("mlp").to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("does not apply"));
    let out = dir.path().join("idx");
    steepest()
        .args(["datasets", "--export", "mnist10k", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    assert!(out.join("train-images-idx3-ubyte.gz").is_file());
    steepest()
        .args(["datasets"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mnist10k").and(predicate::str::contains("8000")));
}

#[test]
fn an_image_folder_written_from_mnist_trains_as_the_idx_form_and_predicts_as_eval() {
    // The embedded mnist10k written out as PNG files in class folders (train/ and test/).
    let (train, test) = steepest::data::embedded::mnist10k::<f32>().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mnist-png");
    let mut test_files = Vec::new();
    for (split, d) in [("train", &train), ("test", &test)] {
        let (labels, names) = d.targets.classes().unwrap();
        let x = d.features.dense("test").unwrap();
        for r in 0..d.rows() {
            let folder = root.join(split).join(&names[labels[r]]);
            std::fs::create_dir_all(&folder).unwrap();
            let px: Vec<u8> = x.row(r).iter().map(|&v| v as u8).collect();
            let file = folder.join(format!("{r:05}.png"));
            image::GrayImage::from_raw(28, 28, px).unwrap().save(&file).unwrap();
            if split == "test" && r < 40 {
                test_files.push(file.display().to_string());
            }
        }
    }
    let accuracy = |data: &str, out: &str| -> f64 {
        let a = steepest()
            .args([
                "train", "--data", data, "--model", "lenet5", "--epochs", "6", "--json", "--out", out,
            ])
            .assert()
            .success();
        let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        v["metrics"]["accuracy"].as_f64().unwrap()
    };
    let idx_run = dir.path().join("idx-run").display().to_string();
    let (from_idx, from_png) = (
        accuracy("mnist10k", &idx_run),
        accuracy(root.to_str().unwrap(), dir.path().join("png-run").to_str().unwrap()),
    );
    assert!(from_idx > 0.95, "{from_idx}");
    eprintln!("test accuracy after 6 epochs: IDX {from_idx}, PNG folder {from_png}");
    assert!(
        (from_idx - from_png).abs() <= 0.005,
        "IDX {from_idx}, PNG folder {from_png}"
    );
    // predict on PNG files agrees with predict on the same test rows of the IDX form.
    let files = steepest()
        .args(["predict", "--model", &idx_run])
        .args(&test_files)
        .assert()
        .success();
    let from_files: Vec<String> = String::from_utf8_lossy(&files.get_output().stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    let rows = steepest()
        .args(["predict", "--model", &idx_run, "--data", "mnist10k"])
        .assert()
        .success();
    let from_rows: Vec<String> = String::from_utf8_lossy(&rows.get_output().stdout)
        .lines()
        .skip(1)
        .take(40)
        .map(str::to_string)
        .collect();
    assert_eq!(from_files, from_rows);
}

/// An 8x8 colour image of class `c`: stripes of red (0), green (1) or blue (2) over a grey
/// background whose level, the stripes' direction and the noise vary with `seed`: only the
/// colour tells the classes apart.
fn colour(c: usize, seed: u32) -> image::RgbImage {
    let h = |k: u32| seed.wrapping_mul(2654435761).wrapping_add(k.wrapping_mul(40503)) >> 24;
    let grey = 40 + (h(1) % 120) as u8;
    image::RgbImage::from_fn(8, 8, |x, y| {
        let on = if h(2) % 2 == 0 { y % 3 == 0 } else { x % 3 == 0 };
        let noise = (h(10 + x * 8 + y) % 24) as u8;
        let mut px = [grey + noise / 2; 3];
        if on {
            px[c] = 230 - noise;
        }
        image::Rgb(px)
    })
}

#[test]
fn the_resnet_preset_learns_colour_images() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("colours");
    for (split, n) in [("train", 20u32), ("test", 8)] {
        for (c, name) in ["red", "green", "blue"].iter().enumerate() {
            let d = root.join(split).join(name);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..n {
                colour(c, i * 3 + c as u32 + if split == "test" { 1000 } else { 0 })
                    .save(d.join(format!("{i}.png")))
                    .unwrap();
            }
        }
    }
    let run = dir.path().join("run").display().to_string();
    let a = steepest()
        .args(["train", "--data", root.to_str().unwrap(), "--model", "resnet"])
        .args(["--epochs", "30", "--batch-size", "8", "--json", "--out", &run])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{v}");
    // ResNet-20's layers, counted by hand: conv1 16x3x3x3 and bn1; stage 1: three blocks of two
    // 16x16x3x3 convs and two BNs; stage 2: 32x16x3x3 + 32x32x3x3 + BNs + the 1x1 projection
    // 32x16 with its BN, then two blocks of 32-channel convs; stage 3 alike with 64; fc 64x3 + 3.
    let block = |i: usize, o: usize| o * i * 9 + o * o * 9 + 4 * o + if i != o { o * i + 2 * o } else { 0 };
    let want = 16 * 27
        + 32
        + 3 * block(16, 16)
        + block(16, 32)
        + 2 * block(32, 32)
        + block(32, 64)
        + 2 * block(64, 64)
        + 64 * 3
        + 3;
    let i = steepest().args(["inspect", &run, "--json"]).assert().success();
    let info: Value = serde_json::from_slice(&i.get_output().stdout).unwrap();
    assert_eq!(info["parameter_count"].as_u64(), Some(want as u64), "{info}");
    let text = info.to_string();
    assert!(
        text.contains("layer3.2.conv2.weight") && text.contains("layer2.0.downsample.0.weight"),
        "{text}"
    );
}
