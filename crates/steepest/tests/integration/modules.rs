//! Layers and networks built from modules: gradients against finite differences in f64,
//! initialization against PyTorch's bounds, architecture errors, dropout that does not depend on
//! how a batch is split, and a network trained, saved and loaded.

use steepest::autograd::{check_gradients, Tape, Var};
use steepest::data::{generate, Dataset, Features, Targets};
use steepest::models::{load_model, save_model, FittedModel, NetParams, Network, Predictor};
use steepest::nn::arch::{build, LayerSpec, Size2};
use steepest::nn::{Cx, Mode, Module, ParamStore, VarBuilder};
use steepest::tensor::{rng, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

fn layers(toml_like: &str) -> Vec<LayerSpec> {
    serde_json::from_str(toml_like).unwrap()
}

/// Checks the gradient of sum(net(x) * R) with respect to every parameter and the input.
fn gradcheck_net(spec: &[LayerSpec], input: &[usize], outputs: usize, batch: usize) {
    let mut store = ParamStore::<f64>::new();
    let net = {
        let vb = VarBuilder::new(&mut store, 7);
        build(spec, &vb, input, outputs).unwrap().net
    };
    let names: Vec<String> = store.names().map(String::from).collect();
    let mut inputs: Vec<Tensor<f64>> = store.iter().map(|(_, t)| t.clone()).collect();
    let mut xs = vec![batch];
    xs.extend(input);
    inputs.push(randn(&xs, 3));
    let r = randn(&[batch, outputs], 4);
    let report = check_gradients(
        |t, v: &[Var<'_, f64>]| {
            // Bind the checked variables themselves, by name, so finite differences reach them.
            let mut cx = steepest_cx(t, &names, v);
            let y = net.forward(&mut cx, *v.last().unwrap())?;
            Ok(y.mul(t.constant(r.clone()))?.sum_all())
        },
        &inputs,
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "{report:?}");
}

/// A context whose parameters are the given tape variables (so finite differences reach them).
fn steepest_cx<'t>(t: &'t Tape<f64>, names: &[String], v: &[Var<'t, f64>]) -> Cx<'t, f64> {
    Cx::from_vars(t, names.iter().cloned().zip(v.iter().copied()), Mode::Eval)
}

#[test]
fn linear_conv_and_pool_layers_have_exact_gradients() {
    let cnn = layers(
        r#"[
        {"type": "Conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
        {"type": "Tanh"},
        {"type": "Conv2d", "out_channels": 4, "kernel_size": [2, 3], "stride": [1, 2], "groups": 1},
        {"type": "AvgPool2d", "kernel_size": 2},
        {"type": "SiLU"},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 5},
        {"type": "GELU"},
        {"type": "Linear"}
    ]"#,
    );
    gradcheck_net(&cnn, &[2, 6, 7], 3, 2);
    let seq = layers(
        r#"[
        {"type": "Conv1d", "out_channels": 4, "kernel_size": 3, "padding": 1, "dilation": 1},
        {"type": "Softplus"},
        {"type": "Conv1d", "out_channels": 4, "kernel_size": 2, "stride": 2, "groups": 2},
        {"type": "Sigmoid"},
        {"type": "AvgPool1d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "Linear"}
    ]"#,
    );
    gradcheck_net(&seq, &[2, 9], 2, 3);
    let pooled = layers(
        r#"[
        {"type": "Conv2d", "out_channels": 2, "kernel_size": 3},
        {"type": "AdaptiveAvgPool2d", "output_size": [2, 3]},
        {"type": "Flatten"},
        {"type": "Linear"}
    ]"#,
    );
    gradcheck_net(&pooled, &[1, 7, 8], 2, 2);
}

#[test]
fn initialization_follows_pytorch_bounds() {
    let mut store = ParamStore::<f64>::new();
    {
        let vb = VarBuilder::new(&mut store, 0);
        build(&steepest::nn::arch::mnist_cnn(), &vb, &[1, 28, 28], 10).unwrap();
    }
    // kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias likewise.
    for (name, fan_in) in [("conv1", 9.0), ("conv2", 288.0), ("fc1", 9216.0), ("fc2", 128.0)] {
        for part in ["weight", "bias"] {
            let t = store.get(&format!("{name}.{part}")).unwrap();
            let bound = 1.0 / f64::sqrt(fan_in);
            let max = t.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(max <= bound, "{name}.{part}: {max} > {bound}");
            if t.len() > 1000 {
                assert!(max > 0.99 * bound, "{name}.{part} fills its range: {max} vs {bound}");
                let var = t.data().iter().map(|v| v * v).sum::<f64>() / t.len() as f64;
                assert!(
                    (var / (bound * bound / 3.0) - 1.0).abs() < 0.05,
                    "{name}.{part} variance"
                );
            }
        }
    }
    assert_eq!(store.get("conv2.weight").unwrap().shape(), &[64, 32, 3, 3]);
    assert_eq!(store.get("fc1.weight").unwrap().shape(), &[128, 9216]);
}

#[test]
fn architecture_errors_name_the_layers_and_shapes() {
    let try_build = |spec: &[LayerSpec], input: &[usize]| {
        let mut store = ParamStore::<f32>::new();
        let vb = VarBuilder::new(&mut store, 0);
        build(spec, &vb, input, 3).err().map(|e| e.to_string())
    };
    let bad = layers(
        r#"[{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "Flatten"},
            {"type": "Linear", "in_features": 100, "out_features": 3}]"#,
    );
    let e = try_build(&bad, &[1, 8, 8]).unwrap();
    assert!(
        e.contains("layer 2 (Linear") && e.contains("in_features = 100") && e.contains("[144]"),
        "{e}"
    );
    let e = try_build(&layers(r#"[{"type": "Linear", "out_features": 3}]"#), &[1, 8, 8]).unwrap();
    assert!(e.contains("[1, 8, 3]") && e.contains("needs [3]"), "{e}");
    let big = layers(r#"[{"type": "Conv2d", "out_channels": 4, "kernel_size": 9}]"#);
    assert!(try_build(&big, &[1, 8, 8]).is_some());
    let e = serde_json::from_str::<Vec<LayerSpec>>(r#"[{"type": "Conv2d", "kernel_size": 3}]"#)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("out_channels"), "{e}");
    assert!(serde_json::from_str::<Vec<LayerSpec>>(r#"[{"type": "Conv9d"}]"#).is_err());
    assert_eq!(
        serde_json::from_str::<Vec<LayerSpec>>(r#"[{"type": "MaxPool2d", "kernel_size": [2, 3]}]"#).unwrap()[0],
        LayerSpec::MaxPool2d {
            name: None,
            kernel_size: Size2::Two([2, 3]),
            stride: None,
            padding: Size2::One(0)
        }
    );
}

#[test]
fn dropout_masks_do_not_depend_on_how_the_batch_is_split() {
    let spec = layers(r#"[{"type": "Dropout", "p": 0.5}, {"type": "Linear"}]"#);
    let mut store = ParamStore::<f64>::new();
    let net = {
        let vb = VarBuilder::new(&mut store, 1);
        build(&spec, &vb, &[40], 2).unwrap().net
    };
    let x = randn(&[6, 40], 2);
    let run = |rows: &[usize]| {
        let t = Tape::new();
        let mut r = rng(5);
        let mut cx = Cx::new(&t, &store, &ParamStore::new(), Mode::Train).with_randomness(&mut r, rows);
        net.forward(&mut cx, t.constant(x.gather_rows(rows).unwrap()))
            .unwrap()
            .value()
    };
    let whole = run(&[0, 1, 2, 3, 4, 5]);
    let first = run(&[0, 1, 2]);
    let second = run(&[3, 4, 5]);
    assert_eq!(&whole.data()[..6], first.data());
    assert_eq!(&whole.data()[6..], second.data());
    // Masks differ between examples, and training differs from evaluation.
    assert_ne!(whole.row(0), whole.row(1));
    let t = Tape::new();
    let mut cx = Cx::new(&t, &store, &ParamStore::new(), Mode::Eval);
    let eval = net.forward(&mut cx, t.constant(x.clone())).unwrap().value();
    assert_ne!(eval, whole);
}

fn images() -> (Dataset<f32>, Dataset<f32>) {
    // Blobs laid out as 1x4x4 "images": 4 classes.
    let d = generate::blobs::<f32>(400, 4, 16, 1.5, 0).unwrap();
    let d = d.with_example_shape(&[1, 4, 4]).unwrap();
    let train = d.subset(&(0..300).collect::<Vec<_>>()).unwrap();
    let test = d.subset(&(300..400).collect::<Vec<_>>()).unwrap();
    (train, test)
}

#[test]
fn a_small_cnn_learns_saves_and_loads() {
    let (train, test) = images();
    let spec = layers(
        r#"[{"type": "Conv2d", "name": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Flatten"},
            {"type": "Linear", "name": "head"}]"#,
    );
    let mut p = NetParams::from_layers("tiny", spec);
    p.fit.train.epochs = 15;
    let model = p.check().unwrap().fit(&train).unwrap();
    let acc = model.score(&test).unwrap();
    assert!(acc > 0.9, "accuracy {acc}");
    let dir = tempfile::tempdir().unwrap();
    let m = FittedModel::Net(model);
    save_model(&m, dir.path()).unwrap();
    let back: FittedModel<f32> = load_model(dir.path()).unwrap();
    assert_eq!(
        back.decision_function(&test.features).unwrap(),
        m.decision_function(&test.features).unwrap()
    );
    assert_eq!(back.weights().get("conv.weight").unwrap().shape(), &[8, 1, 3, 3]);
    // Weights that do not fit the architecture are refused, not a panic.
    let mut other = back.weights().clone();
    other.insert("conv.weight", Tensor::zeros(&[8, 1, 2, 2]));
    let e = Network::<f32>::build(
        &NetParams::cnn().layers,
        &[1, 4, 4],
        4,
        steepest::data::Task::Classify,
        Some(other),
        0,
    );
    assert!(e.is_err());
}

#[test]
fn examples_of_any_shape_flow_through_datasets() {
    let d = Dataset::<f32>::new(
        Features::Dense(Tensor::zeros(&[3, 12])),
        Targets::Values(vec![0.0; 3]),
        vec![],
    )
    .unwrap();
    assert_eq!(d.shape_of_example(), [12]);
    let d = d.with_example_shape(&[3, 2, 2]).unwrap();
    assert_eq!(d.subset(&[2, 0]).unwrap().example_shape, [3, 2, 2]);
    assert!(Dataset::<f32>::new(
        Features::Dense(Tensor::zeros(&[3, 12])),
        Targets::Values(vec![0.0; 3]),
        vec![]
    )
    .unwrap()
    .with_example_shape(&[5, 2])
    .is_err());
}

#[test]
fn a_network_with_batch_norm_resumes_bit_identically_and_saves_its_buffers() {
    use steepest::train::Checkpoint;
    let (train, test) = images();
    let spec = layers(
        r#"[{"type": "Conv2d", "name": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d", "name": "bn"}, {"type": "ReLU"}, {"type": "Flatten"},
            {"type": "Dropout", "p": 0.2}, {"type": "Linear", "name": "head", "out_features": 8},
            {"type": "LayerNorm", "name": "ln"}, {"type": "Linear", "name": "out"}]"#,
    );
    let params = |epochs: usize, dir: Option<std::path::PathBuf>| {
        let mut p = NetParams::from_layers("bn", spec.clone());
        p.fit.train.epochs = epochs;
        p.fit.train.checkpoint_dir = dir;
        p.fit.train.checkpoint_every_epochs = Some(1);
        p.check().unwrap()
    };
    let full = params(4, None).fit(&train).unwrap();
    let dir = tempfile::tempdir().unwrap();
    params(2, Some(dir.path().to_path_buf())).fit(&train).unwrap();
    let ck = Checkpoint::<f32>::load(dir.path()).unwrap();
    assert_eq!(ck.buffers.len(), 2, "running statistics are checkpointed");
    let resumed = params(4, None).fit_parallel(&train, Some(ck), &mut [], None).unwrap();
    assert_eq!(full.net.params, resumed.net.params);
    assert_eq!(full.net.buffers, resumed.net.buffers);
    let rm = full.net.buffers.get("bn.running_mean").unwrap();
    assert!(rm.data().iter().any(|&v| v != 0.0), "running mean moved");
    assert!(full.score(&test).unwrap() > 0.85);
    let d = tempfile::tempdir().unwrap();
    let m = FittedModel::Net(full);
    save_model(&m, d.path()).unwrap();
    let back: FittedModel<f32> = load_model(d.path()).unwrap();
    assert_eq!(
        back.decision_function(&test.features).unwrap(),
        m.decision_function(&test.features).unwrap()
    );
}

#[test]
fn augmentations_move_pixels_as_defined_and_repeat_exactly() {
    use rand::Rng as _;
    use steepest::data::{Augment, BatchTransform};
    let img = Tensor::<f64>::new((0..2 * 2 * 3 * 4).map(|v| v as f64 + 1.0).collect(), &[2, 2, 3, 4]).unwrap();
    let mut shifted = img.clone();
    BatchTransform::<f64>::apply(&Augment::RandomShift { pixels: 2 }, &mut shifted, &mut |i| {
        rng(40 + i as u64)
    })
    .unwrap();
    for i in 0..2 {
        let mut r = rng(40 + i as u64);
        let (dy, dx): (i64, i64) = (r.random_range(-2..=2), r.random_range(-2..=2));
        for c in 0..2 {
            for y in 0..3i64 {
                for x in 0..4i64 {
                    let (sy, sx) = (y - dy, x - dx);
                    let want = if (0..3).contains(&sy) && (0..4).contains(&sx) {
                        img.data()[((i * 2 + c) * 3 + sy as usize) * 4 + sx as usize]
                    } else {
                        0.0
                    };
                    assert_eq!(shifted.data()[((i * 2 + c) * 3 + y as usize) * 4 + x as usize], want);
                }
            }
        }
    }
    let mut flipped = img.clone();
    BatchTransform::<f64>::apply(
        &Augment::HorizontalFlip { p: 1.0 },
        &mut flipped,
        &mut |i| rng(i as u64),
    )
    .unwrap();
    assert_eq!(&flipped.data()[..4], &[4.0, 3.0, 2.0, 1.0]);
    let mut kept = img.clone();
    BatchTransform::<f64>::apply(&Augment::HorizontalFlip { p: 0.0 }, &mut kept, &mut |i| rng(i as u64)).unwrap();
    assert_eq!(kept, img);
    // An affine map with every draw fixed: a zoom by 2 about the centre reads output pixel
    // (y, x) at (cy + (y - cy) / 2, cx + (x - cx) / 2), bilinearly (zero outside).
    let affine = |degrees: f64, scale: f64| Augment::RandomAffine {
        degrees,
        translate: 0.0,
        scale_min: scale,
        scale_max: scale,
        shear: 0.0,
    };
    let mut zoomed = img.clone();
    BatchTransform::<f64>::apply(&affine(0.0, 2.0), &mut zoomed, &mut |i| rng(i as u64)).unwrap();
    let at = |i: usize, c: usize, y: i64, x: i64| -> f64 {
        if (0..3).contains(&y) && (0..4).contains(&x) {
            img.data()[((i * 2 + c) * 3 + y as usize) * 4 + x as usize]
        } else {
            0.0
        }
    };
    for i in 0..2 {
        for c in 0..2 {
            for y in 0..3 {
                for x in 0..4 {
                    let sy = 1.0 + (y as f64 - 1.0) / 2.0;
                    let sx = 1.5 + (x as f64 - 1.5) / 2.0;
                    let (y0, x0) = (sy.floor() as i64, sx.floor() as i64);
                    let (fy, fx) = (sy - sy.floor(), sx - sx.floor());
                    let want = (1.0 - fy) * (1.0 - fx) * at(i, c, y0, x0)
                        + (1.0 - fy) * fx * at(i, c, y0, x0 + 1)
                        + fy * (1.0 - fx) * at(i, c, y0 + 1, x0)
                        + fy * fx * at(i, c, y0 + 1, x0 + 1);
                    let got = zoomed.data()[((i * 2 + c) * 3 + y) * 4 + x];
                    assert!((got - want).abs() < 1e-12, "({i}, {c}, {y}, {x}): {got} vs {want}");
                }
            }
        }
    }
    // The identity map keeps the image; a rotation by up to 360 degrees of a square image keeps
    // its centre pixel's value where the centre is a pixel (3 x 3).
    let mut same = img.clone();
    BatchTransform::<f64>::apply(&affine(0.0, 1.0), &mut same, &mut |i| rng(i as u64)).unwrap();
    assert_eq!(same, img);
    let square = Tensor::<f64>::new((1..=9).map(f64::from).collect(), &[1, 1, 3, 3]).unwrap();
    let mut turned = square.clone();
    BatchTransform::<f64>::apply(&affine(360.0, 1.0), &mut turned, &mut |i| rng(7 + i as u64)).unwrap();
    assert!((turned.data()[4] - 5.0).abs() < 1e-12);
    assert_ne!(turned, square, "a random angle moves the other pixels");
    assert!(affine(0.0, -1.0).check().is_err() && affine(400.0, 1.0).check().is_err());
    // Training with augmentation repeats exactly, and flat data is refused.
    let (train, test) = images();
    let spec = layers(
        r#"[{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"}, {"type": "Flatten"}, {"type": "Linear"}]"#,
    );
    let fit = |augment: Vec<Augment>| {
        let mut p = NetParams::from_layers("aug", spec.clone());
        p.augment = augment;
        p.fit.train.epochs = 3;
        p.check().unwrap().fit(&train).unwrap()
    };
    let on = || vec![Augment::RandomShift { pixels: 1 }, Augment::HorizontalFlip { p: 0.5 }];
    let (a, b, plain) = (fit(on()), fit(on()), fit(vec![]));
    assert_eq!(a.net.params, b.net.params);
    assert_ne!(a.net.params, plain.net.params);
    // Evaluation never augments: predictions are a function of the parameters alone.
    assert_eq!(
        a.decision_function(&test.features).unwrap(),
        b.decision_function(&test.features).unwrap()
    );
    let flat = generate::blobs::<f32>(40, 2, 4, 1.0, 0).unwrap();
    let mut p = NetParams::from_layers("aug", layers(r#"[{"type": "Linear"}]"#));
    p.augment = vec![Augment::HorizontalFlip { p: 0.5 }];
    assert!(p.check().unwrap().fit(&flat).is_err());
}

#[test]
fn rotation_keeps_distances_to_the_centre_and_erasing_zeroes_one_rectangle() {
    use steepest::data::{Augment, BatchTransform};
    use steepest::tensor::rng;
    // One bright pixel 6 pixels right of the centre of a 15x15 image: after any rotation it
    // lies about 6 pixels from the centre (nearest-neighbour rounding: within 1).
    let (h, w) = (15usize, 15usize);
    for seed in 0..20u64 {
        let mut img = vec![0.0f64; h * w];
        img[7 * w + 13] = 1.0;
        let mut t = Tensor::new(img, &[1, 1, h, w]).unwrap();
        BatchTransform::<f64>::apply(&Augment::RandomRotation { degrees: 180.0 }, &mut t, &mut |_| rng(seed)).unwrap();
        let lit: Vec<usize> = (0..h * w).filter(|&i| t.data()[i] > 0.5).collect();
        assert!(lit.len() <= 2, "{lit:?}");
        for i in lit {
            let (y, x) = ((i / w) as f64 - 7.0, (i % w) as f64 - 7.0);
            let r = (y * y + x * x).sqrt();
            assert!((r - 6.0).abs() <= 1.0, "seed {seed}: the pixel is {r} from the centre");
        }
        // Zero degrees: the image as it was.
        let mut same = Tensor::new((0..h * w).map(|v| v as f64).collect(), &[1, 1, h, w]).unwrap();
        let before = same.clone();
        BatchTransform::<f64>::apply(&Augment::RandomRotation { degrees: 0.0 }, &mut same, &mut |_| rng(seed)).unwrap();
        assert_eq!(same, before);
    }
    // Erasing with p = 1: exactly one axis-aligned rectangle of zeros covering 2 % to 33 % of
    // the image, the same in every channel; the rest untouched.
    for seed in 0..20u64 {
        let (c, h, w) = (3usize, 20usize, 24usize);
        let mut t = Tensor::new(vec![1.0f64; c * h * w], &[1, c, h, w]).unwrap();
        BatchTransform::<f64>::apply(&Augment::RandomErasing { p: 1.0 }, &mut t, &mut |_| rng(seed)).unwrap();
        let zeros: Vec<(usize, usize)> = (0..h * w)
            .filter(|&i| t.data()[i] == 0.0)
            .map(|i| (i / w, i % w))
            .collect();
        let (y0, y1) = (
            zeros.iter().map(|p| p.0).min().unwrap(),
            zeros.iter().map(|p| p.0).max().unwrap(),
        );
        let (x0, x1) = (
            zeros.iter().map(|p| p.1).min().unwrap(),
            zeros.iter().map(|p| p.1).max().unwrap(),
        );
        assert_eq!(zeros.len(), (y1 - y0 + 1) * (x1 - x0 + 1), "a rectangle");
        let share = zeros.len() as f64 / (h * w) as f64;
        assert!((0.01..=0.36).contains(&share), "{share}");
        for ch in 1..c {
            assert_eq!(&t.data()[ch * h * w..(ch + 1) * h * w], &t.data()[..h * w]);
        }
    }
}

/// Label smoothing reaches the training loss: one full-batch epoch at a negligible rate
/// reports the smoothed cross-entropy of the model's own logits (computed here from the
/// decision function, by the library's loss with eps), not the plain one.
#[test]
fn label_smoothing_is_the_training_loss() {
    use steepest::data::BatchSize;
    let (train, _) = images();
    let spec =
        layers(r#"[{"type": "Flatten"}, {"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear"}]"#);
    let mut p = NetParams::from_layers("smooth", spec);
    p.label_smoothing = 0.2;
    p.fit.train.epochs = 1;
    p.fit.train.batch_size = BatchSize::Full;
    p.fit.scaler = steepest::data::ScalerKind::None;
    p.fit.optimizer = steepest::optim::OptimizerSpec::Sgd(steepest::optim::rules::Sgd {
        lr: 1e-12,
        ..Default::default()
    });
    let m = p.clone().check().unwrap().fit(&train).unwrap();
    let reported = m.history[0].train_loss;
    let z = m.decision_function(&train.features).unwrap();
    let (labels, _) = train.targets.classes().unwrap();
    let loss = |eps: f64| {
        let t = Tape::<f32>::new();
        steepest::nn::cross_entropy(t.constant(z.clone()), labels, None, eps)
            .unwrap()
            .item()
            .unwrap() as f64
    };
    assert!((reported - loss(0.2)).abs() < 1e-5, "{reported} vs {}", loss(0.2));
    assert!((reported - loss(0.0)).abs() > 1e-3, "the plain loss is {}", loss(0.0));
    p.label_smoothing = 1.0;
    assert!(p.check().unwrap().fit(&train).is_err(), "eps must be below 1");
}
