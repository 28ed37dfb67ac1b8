//! The fused MLP kernel against central finite differences (f64) and against the same network
//! built from layers on the tape, and the thread-split batch against the single-threaded one.

use steepest::data::{embedded, BatchSize};
use steepest::models::MlpParams;
use steepest::nn::{mlp_loss_grad, KernelActivation, KernelTargets, MlpWorkspace};
use steepest::tensor::{rng, set_num_threads, Tensor};

fn loss_and_grads(
    w: &[Tensor<f64>],
    b: &[Tensor<f64>],
    act: KernelActivation,
    x: &Tensor<f64>,
    t: &KernelTargets<'_>,
) -> (f64, Vec<Tensor<f64>>, Vec<Tensor<f64>>) {
    let mut gw: Vec<Tensor<f64>> = w.iter().map(|t| Tensor::zeros(t.shape())).collect();
    let mut gb: Vec<Tensor<f64>> = b.iter().map(|t| Tensor::zeros(t.shape())).collect();
    let wr: Vec<&Tensor<f64>> = w.iter().collect();
    let br: Vec<&Tensor<f64>> = b.iter().collect();
    let t2 = match t {
        KernelTargets::Classes(c) => KernelTargets::Classes(c),
        KernelTargets::Values(v) => KernelTargets::Values(v),
    };
    let l = mlp_loss_grad(&wr, &br, act, x, t2, &mut MlpWorkspace::default(), &mut gw, &mut gb).unwrap();
    (l, gw, gb)
}

#[test]
fn fused_gradients_match_finite_differences() {
    let _one = crate::one_at_a_time();
    let sizes = [5, 7, 4, 3];
    let x = Tensor::<f64>::randn(&[6, 5], 0.0, 1.0, &mut rng(1));
    let classes = [0usize, 2, 1, 1, 0, 2];
    let values: Vec<f64> = (0..18).map(|i| (i as f64 * 0.37).sin()).collect();
    for act in [
        KernelActivation::Identity,
        KernelActivation::Tanh,
        KernelActivation::Relu,
        KernelActivation::LeakyRelu,
        KernelActivation::Sigmoid,
    ] {
        for targets in [KernelTargets::Classes(&classes), KernelTargets::Values(&values)] {
            let mut w: Vec<Tensor<f64>> = (0..3)
                .map(|l| Tensor::randn(&[sizes[l + 1], sizes[l]], 0.0, 0.6, &mut rng(10 + l as u64)))
                .collect();
            let mut b: Vec<Tensor<f64>> = (0..3)
                .map(|l| Tensor::randn(&[sizes[l + 1]], 0.0, 0.3, &mut rng(20 + l as u64)))
                .collect();
            let (_, gw, gb) = loss_and_grads(&w, &b, act, &x, &targets);
            let h = 1e-6;
            for l in 0..3 {
                for i in 0..w[l].len() {
                    let x0 = w[l].data()[i];
                    w[l].data_mut()[i] = x0 + h;
                    let up = loss_and_grads(&w, &b, act, &x, &targets).0;
                    w[l].data_mut()[i] = x0 - h;
                    let down = loss_and_grads(&w, &b, act, &x, &targets).0;
                    w[l].data_mut()[i] = x0;
                    let fd = (up - down) / (2.0 * h);
                    let an = gw[l].data()[i];
                    assert!(
                        (fd - an).abs() <= 1e-6 * fd.abs().max(1.0),
                        "{act:?} w{l}[{i}]: {an} vs {fd}"
                    );
                }
                for i in 0..b[l].len() {
                    let x0 = b[l].data()[i];
                    b[l].data_mut()[i] = x0 + h;
                    let up = loss_and_grads(&w, &b, act, &x, &targets).0;
                    b[l].data_mut()[i] = x0 - h;
                    let down = loss_and_grads(&w, &b, act, &x, &targets).0;
                    b[l].data_mut()[i] = x0;
                    let fd = (up - down) / (2.0 * h);
                    assert!(
                        (fd - gb[l].data()[i]).abs() <= 1e-6 * fd.abs().max(1.0),
                        "{act:?} b{l}[{i}]"
                    );
                }
            }
        }
    }
}

#[test]
fn splitting_a_batch_across_threads_gives_the_same_step() {
    let _one = crate::one_at_a_time();
    let data = embedded::digits::<f64>().unwrap();
    let fit = |threads: usize| {
        set_num_threads(threads);
        let mut p = MlpParams::default().hidden(&[32]);
        p.fit.train.epochs = 2;
        p.fit.train.batch_size = BatchSize::Rows(256);
        let m = p.check().unwrap().fit(&data).unwrap();
        set_num_threads(1);
        m.net.params
    };
    let (one, two) = (fit(1), fit(2));
    let worst = one
        .iter()
        .zip(two.iter())
        .flat_map(|((_, a), (_, b))| a.data().iter().zip(b.data()).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max);
    assert!(worst < 1e-10, "{worst}");
}

#[test]
fn shares_and_gathered_rows_give_the_whole_batch_gradient() {
    let _one = crate::one_at_a_time();
    use steepest::nn::mlp_loss_grad_rows;
    // 200 rows on 3 threads: shares of 67, 67 and 66 rows; weights big enough that dW is split
    // into blocks of rows.
    let sizes = [130, 140, 3];
    let data = Tensor::<f64>::randn(&[260, 130], 0.0, 1.0, &mut rng(5));
    let order: Vec<usize> = (0..200).map(|i| (i * 37 + 11) % 260).collect();
    let batch = data.gather_rows(&order).unwrap();
    let classes: Vec<usize> = (0..200).map(|i| (i * 7) % 3).collect();
    let w: Vec<Tensor<f64>> = (0..2)
        .map(|l| Tensor::randn(&[sizes[l + 1], sizes[l]], 0.0, 0.1, &mut rng(30 + l as u64)))
        .collect();
    let b: Vec<Tensor<f64>> = (0..2)
        .map(|l| Tensor::randn(&[sizes[l + 1]], 0.0, 0.1, &mut rng(40 + l as u64)))
        .collect();
    let (wr, br): (Vec<&Tensor<f64>>, Vec<&Tensor<f64>>) = (w.iter().collect(), b.iter().collect());
    // Regression targets too: three outputs per row.
    let values: Vec<f64> = (0..600).map(|i| (i as f64 * 0.13).cos()).collect();
    let grads = |threads: usize, gather: bool, regression: bool| {
        set_num_threads(threads);
        let mut gw: Vec<Tensor<f64>> = w.iter().map(|t| Tensor::zeros(t.shape())).collect();
        let mut gb: Vec<Tensor<f64>> = b.iter().map(|t| Tensor::zeros(t.shape())).collect();
        let mut ws = MlpWorkspace::default();
        let t = if regression {
            KernelTargets::Values(&values)
        } else {
            KernelTargets::Classes(&classes)
        };
        let act = KernelActivation::Tanh;
        // A read-ahead hint (rows of the next batch, prefetched during this call) changes
        // nothing, even naming rows past the end of the data.
        ws.read_ahead(&[5, 259, 260, usize::MAX, 3]);
        let l = if gather {
            mlp_loss_grad_rows(&wr, &br, act, &data, &order, t, &mut ws, &mut gw, &mut gb).unwrap()
        } else {
            mlp_loss_grad(&wr, &br, act, &batch, t, &mut ws, &mut gw, &mut gb).unwrap()
        };
        set_num_threads(1);
        let mut all = vec![l];
        for t in gw.iter().chain(&gb) {
            all.extend_from_slice(t.data());
        }
        all
    };
    for regression in [false, true] {
        let one = grads(1, false, regression);
        for (threads, gather) in [(1, true), (3, false), (3, true), (2, true)] {
            let other = grads(threads, gather, regression);
            let worst = one.iter().zip(&other).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(
                worst < 1e-12,
                "{threads} threads, gather {gather}, regression {regression}: {worst}"
            );
        }
    }
    // A row past the end is an error, not a panic.
    let mut gw: Vec<Tensor<f64>> = w.iter().map(|t| Tensor::zeros(t.shape())).collect();
    let mut gb: Vec<Tensor<f64>> = b.iter().map(|t| Tensor::zeros(t.shape())).collect();
    let bad = mlp_loss_grad_rows(
        &wr,
        &br,
        KernelActivation::Relu,
        &data,
        &[0, 260],
        KernelTargets::Classes(&[0, 1]),
        &mut MlpWorkspace::default(),
        &mut gw,
        &mut gb,
    );
    assert!(bad.unwrap_err().to_string().contains("row 260"));
}

#[test]
fn the_fused_kernel_computes_what_its_layers_compute() {
    let _one = crate::one_at_a_time();
    use steepest::autograd::Tape;
    use steepest::nn::{Activation, Cx, Linear, Mode, Module, ParamStore, Sequential, VarBuilder};
    let sizes = [6, 9, 5, 4];
    let x = Tensor::<f64>::randn(&[7, 6], 0.0, 1.0, &mut rng(3));
    let classes = [0usize, 3, 1, 2, 2, 0, 1];
    let values: Vec<f64> = (0..28).map(|i| (i as f64 * 0.61).cos()).collect();
    for (act, layer_act) in [
        (KernelActivation::Relu, Activation::Relu),
        (KernelActivation::Tanh, Activation::Tanh),
        (KernelActivation::Sigmoid, Activation::Sigmoid),
        (KernelActivation::LeakyRelu, Activation::LeakyRelu(0.01)),
    ] {
        let mut store = ParamStore::<f64>::new();
        let net = {
            let vb = VarBuilder::new(&mut store, 9);
            let mut net = Sequential::new();
            for l in 0..3 {
                net = net.push(Linear::new(&vb.pp(l), sizes[l], sizes[l + 1], true).unwrap());
                if l < 2 {
                    net = net.push(layer_act);
                }
            }
            net
        };
        let w: Vec<Tensor<f64>> = (0..3)
            .map(|l| store.get(&format!("{l}.weight")).unwrap().clone())
            .collect();
        let b: Vec<Tensor<f64>> = (0..3)
            .map(|l| store.get(&format!("{l}.bias")).unwrap().clone())
            .collect();
        for classify in [true, false] {
            let targets = if classify {
                KernelTargets::Classes(&classes)
            } else {
                KernelTargets::Values(&values)
            };
            let (loss, gw, gb) = loss_and_grads(&w, &b, act, &x, &targets);
            let tape = Tape::new();
            let mut cx = Cx::new(&tape, &store, &ParamStore::new(), Mode::Train);
            let out = net.forward(&mut cx, tape.constant(x.clone())).unwrap();
            let l = if classify {
                out.cross_entropy(&classes, None).unwrap()
            } else {
                let t = tape.constant(Tensor::new(values.clone(), &[7, 4]).unwrap());
                out.mse(t).unwrap().mul_scalar(0.5)
            };
            assert!((l.item().unwrap() - loss).abs() < 1e-12, "{act:?} loss");
            let g = tape.backward(l).unwrap();
            for i in 0..3 {
                let tw = g.wrt(cx.var(&format!("{i}.weight")).unwrap()).unwrap();
                let tb = g.wrt(cx.var(&format!("{i}.bias")).unwrap()).unwrap();
                for (a, e) in gw[i]
                    .data()
                    .iter()
                    .zip(tw.data())
                    .chain(gb[i].data().iter().zip(tb.data()))
                {
                    assert!((a - e).abs() < 1e-12, "{act:?} layer {i}: {a} vs {e}");
                }
            }
        }
    }
}

/// Networks of one, two and four layers (the first layer split by units across threads, the
/// output layer itself when it is the only one) give the tape's loss and gradients, on one
/// thread and on three, with layers wide enough (over 16,384 weights) that three threads split
/// the weights (the one-layer network has 140 outputs for it), and 150 rows so that the batch
/// is cut into two shares of 75.
#[test]
fn every_depth_split_across_threads_computes_what_its_layers_compute() {
    let _one = crate::one_at_a_time();
    use steepest::autograd::Tape;
    use steepest::nn::{Activation, Cx, Linear, Mode, Module, ParamStore, Sequential, VarBuilder};
    let x = Tensor::<f64>::randn(&[150, 120], 0.0, 1.0, &mut rng(8));
    let classes: Vec<usize> = (0..150).map(|i| (i * 11 + 3) % 5).collect();
    for sizes in [vec![120, 140], vec![120, 150, 5], vec![120, 140, 9, 7, 5]] {
        let layers = sizes.len() - 1;
        let mut store = ParamStore::<f64>::new();
        let net = {
            let vb = VarBuilder::new(&mut store, 4);
            let mut net = Sequential::new();
            for l in 0..layers {
                net = net.push(Linear::new(&vb.pp(l), sizes[l], sizes[l + 1], true).unwrap());
                if l + 1 < layers {
                    net = net.push(Activation::Tanh);
                }
            }
            net
        };
        let w: Vec<Tensor<f64>> = (0..layers)
            .map(|l| store.get(&format!("{l}.weight")).unwrap().clone())
            .collect();
        let b: Vec<Tensor<f64>> = (0..layers)
            .map(|l| store.get(&format!("{l}.bias")).unwrap().clone())
            .collect();
        let tape = Tape::new();
        let mut cx = Cx::new(&tape, &store, &ParamStore::new(), Mode::Train);
        let out = net.forward(&mut cx, tape.constant(x.clone())).unwrap();
        let l = out.cross_entropy(&classes, None).unwrap();
        let expected = l.item().unwrap();
        let g = tape.backward(l).unwrap();
        for threads in [1, 3] {
            set_num_threads(threads);
            let (loss, gw, gb) = loss_and_grads(&w, &b, KernelActivation::Tanh, &x, &KernelTargets::Classes(&classes));
            set_num_threads(1);
            assert!((loss - expected).abs() < 1e-12, "{sizes:?} on {threads} threads: loss");
            for i in 0..layers {
                let tw = g.wrt(cx.var(&format!("{i}.weight")).unwrap()).unwrap();
                let tb = g.wrt(cx.var(&format!("{i}.bias")).unwrap()).unwrap();
                let pairs = gw[i]
                    .data()
                    .iter()
                    .zip(tw.data())
                    .chain(gb[i].data().iter().zip(tb.data()));
                let worst = pairs.map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
                assert!(worst < 1e-12, "{sizes:?} on {threads} threads, layer {i}: {worst}");
            }
        }
    }
}

/// The optimizer's step fused into the kernel (the loop's path without clipping) leaves the
/// parameters bit for bit where the gradient-then-step path leaves them (forced by clipping at
/// a norm never reached), for SGD with Nesterov momentum, Adam and AdamW with AMSGrad, with and
/// without the L2 penalty, on one thread and on two; the recorded gradient norms agree to
/// rounding. The layers are wide enough (21,000 weights) that two threads split the weights.
#[test]
fn the_fused_step_equals_the_gradient_then_the_step() {
    let _one = crate::one_at_a_time();
    use steepest::optim::rules::{Adam, AdamW, Sgd};
    use steepest::optim::OptimizerSpec;
    let data = embedded::digits::<f64>().unwrap();
    let sgd = OptimizerSpec::Sgd(Sgd {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-3,
        ..Sgd::default()
    });
    let adam = OptimizerSpec::Adam(Adam {
        lr: 2e-3,
        ..Adam::default()
    });
    let adamw = OptimizerSpec::AdamW(AdamW {
        lr: 2e-3,
        amsgrad: true,
        ..AdamW::default()
    });
    for (optimizer, alpha) in [(sgd, 1e-3), (adam, 0.0), (adamw, 1e-4)] {
        for threads in [1, 2] {
            let fit = |clip: Option<f64>| {
                set_num_threads(threads);
                let mut p = MlpParams::default().hidden(&[160, 64]);
                p.alpha = alpha;
                p.fit.optimizer = optimizer.clone();
                p.fit.train.epochs = 3;
                p.fit.train.batch_size = BatchSize::Rows(128);
                p.fit.train.clip_grad_norm = clip;
                let m = p.check().unwrap().fit(&data).unwrap();
                set_num_threads(1);
                m
            };
            let (fused, apart) = (fit(None), fit(Some(1e300)));
            for ((name, a), (_, b)) in fused.net.params.iter().zip(apart.net.params.iter()) {
                assert!(
                    a.data() == b.data(),
                    "{} with alpha {alpha} on {threads} threads: '{name}' differs",
                    optimizer.name()
                );
            }
            for (f, a) in fused.history.iter().zip(&apart.history) {
                assert!(
                    (f.grad_norm - a.grad_norm).abs() <= 1e-12 * a.grad_norm,
                    "epoch {}: norm {} vs {}",
                    f.epoch,
                    f.grad_norm,
                    a.grad_norm
                );
                assert_eq!(f.train_loss, a.train_loss);
            }
        }
    }
}
