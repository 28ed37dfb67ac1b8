//! A network's training batch split across threads: the loss and the gradients of the whole
//! batch, passed on one thread, are the oracle. (In the `threads` binary: it changes the
//! process-wide thread count.)

use steepest::data::{generate, Dataset, Task};
use steepest::models::Network;
use steepest::nn::arch::LayerSpec;
use steepest::tensor::{rng, set_num_threads, Tensor};
use steepest::train::Trainable;

fn images() -> Dataset<f64> {
    let d = generate::blobs::<f64>(64, 4, 36, 1.5, 0).unwrap();
    d.with_example_shape(&[1, 6, 6]).unwrap()
}

fn network(spec: &str) -> Network<f64> {
    let layers: Vec<LayerSpec> = serde_json::from_str(spec).unwrap();
    Network::build(&layers, &[1, 6, 6], 4, Task::Classify, None, 3).unwrap()
}

/// The loss and gradients of `rows` with `threads` threads, inside a pool of that many.
fn loss_grad(net: &Network<f64>, data: &Dataset<f64>, rows: &[usize], threads: usize) -> (f64, Vec<Tensor<f64>>) {
    set_num_threads(threads);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let (loss, g) = pool
        .install(|| net.loss_grad_at(&net.params, data, rows, &mut rng(9)))
        .unwrap();
    set_num_threads(1);
    (loss, g.iter().map(|(_, t)| t.clone()).collect())
}

#[test]
fn a_batch_split_across_threads_has_the_whole_batchs_loss_and_gradients() {
    let _one = crate::one_at_a_time();
    let data = images();
    // Convolution, pooling, dropout (per-example masks) and a linear layer.
    let net = network(
        r#"[{"type": "Conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "ReLU"},
            {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Dropout", "p": 0.3},
            {"type": "Flatten"}, {"type": "Linear"}]"#,
    );
    // 37 rows: two unequal parts of 18 and 19.
    let rows: Vec<usize> = (0..37).map(|i| (i * 7) % 64).collect();
    let (whole_loss, whole) = loss_grad(&net, &data, &rows, 1);
    let (split_loss, split) = loss_grad(&net, &data, &rows, 2);
    assert!(
        (whole_loss - split_loss).abs() < 1e-12 * whole_loss.abs(),
        "{whole_loss} vs {split_loss}"
    );
    assert_eq!(whole.len(), split.len());
    for (w, s) in whole.iter().zip(&split) {
        assert_eq!(w.shape(), s.shape());
        let scale = w.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "every parameter gets a gradient");
        for (a, b) in w.data().iter().zip(s.data()) {
            assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
        }
    }
    // Dropout draws per example: a different step seed gives a different loss, so the match
    // above is not a network that ignores its masks.
    set_num_threads(1);
    let other = net.loss_grad_at(&net.params, &data, &rows, &mut rng(10)).unwrap().0;
    assert!((other - whole_loss).abs() > 1e-9);
}

#[test]
fn a_network_with_batch_norm_is_never_split() {
    let _one = crate::one_at_a_time();
    let data = images();
    // Batch statistics couple the examples: the batch is passed whole on any thread count, and
    // the kernels sum in fixed blocks, so the bits agree.
    let net = network(
        r#"[{"type": "Conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "BatchNorm2d"},
            {"type": "ReLU"}, {"type": "Flatten"}, {"type": "Linear"}]"#,
    );
    let rows: Vec<usize> = (0..40).collect();
    let (l1, g1) = loss_grad(&net, &data, &rows, 1);
    let (l2, g2) = loss_grad(&net, &data, &rows, 2);
    assert_eq!(l1, l2);
    assert_eq!(g1, g2);
}
