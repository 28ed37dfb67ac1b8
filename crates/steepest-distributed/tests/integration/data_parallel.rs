//! Data-parallel training on ranks that are threads, against one process (the oracle): with
//! per-rank batch b on N ranks, every step must be the step of one process with batch N b over
//! the same rows in the same order.

use crate::common;

use common::on_ranks;
use steepest::collective::{all_ok, shard_range, Communicator};
use steepest::data::{embedded, generate, BatchSize, Dataset, Targets};
use steepest::linear::{sgd_pass, LinearLoss, RowTargets, SgdConfig, SgdModel};
use steepest::models::{LinearParams, MlpParams, Predictor};
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::OptimizerSpec;
use steepest::train::Checkpoint;
use steepest::Error;
use steepest_distributed::{sgd_passes_averaged, ThreadComm};

/// The rows of `data` in the order one process must see them to take the steps of `ranks`
/// ranks with per-rank batch `b` (no shuffling): batch k of rank 0, batch k of rank 1, ...
fn interleaved(data: &Dataset<f64>, ranks: usize, b: usize) -> Dataset<f64> {
    let shards: Vec<Vec<usize>> = (0..ranks)
        .map(|r| shard_range(data.rows(), r, ranks).collect())
        .collect();
    let steps = shards.iter().map(|s| s.len().div_ceil(b)).max().unwrap();
    let mut order = Vec::new();
    for k in 0..steps {
        for s in &shards {
            order.extend(s.iter().skip(k * b).take(b));
        }
    }
    data.subset(&order).unwrap()
}

/// This rank's shard of `data`.
fn shard(data: &Dataset<f64>, c: &ThreadComm) -> Dataset<f64> {
    data.subset(&shard_range(data.rows(), c.rank(), c.size()).collect::<Vec<_>>())
        .unwrap()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn mlp(optimizer: OptimizerSpec, batch: usize, epochs: usize) -> MlpParams {
    let mut p = MlpParams::default();
    p.hidden = vec![16, 8];
    p.fit.optimizer = optimizer;
    p.fit.train.batch_size = BatchSize::Rows(batch);
    p.fit.train.shuffle = false;
    p.fit.train.epochs = epochs;
    p
}

fn sgd_momentum() -> OptimizerSpec {
    OptimizerSpec::Sgd(Sgd {
        lr: 0.05,
        momentum: 0.9,
        ..Sgd::default()
    })
}

#[test]
fn two_ranks_with_batch_b_take_the_steps_of_one_process_with_batch_2b() {
    // 301 rows: shards of 151 and 150, so the last step has rows on one rank only.
    let all = embedded::by_name::<f64>("digits").unwrap();
    let data = all.subset(&(0..301).collect::<Vec<_>>()).unwrap();
    for (name, opt) in [
        ("sgd momentum", sgd_momentum()),
        (
            "adam",
            OptimizerSpec::Adam(Adam {
                lr: 0.01,
                ..Adam::default()
            }),
        ),
    ] {
        let b = 8;
        let spec = mlp(opt, b, 4).check().unwrap();
        let ranks = on_ranks(2, |c| {
            spec.fit_parallel(&shard(&data, c), None, &mut [], Some(c)).unwrap()
        });
        let single = mlp(ranks[0].params.fit.optimizer.clone(), 2 * b, 4)
            .check()
            .unwrap()
            .fit(&interleaved(&data, 2, b))
            .unwrap();
        let (p0, p1) = (ranks[0].net.params.flatten(), ranks[1].net.params.flatten());
        assert_eq!(p0, p1, "{name}: ranks disagree");
        let d = max_diff(&p0, &single.net.params.flatten());
        assert!(d < 1e-6, "{name}: 2 ranks vs 1 process differ by {d}");
        // The reported losses are those of the whole batch.
        let (h2, h1) = (&ranks[0].history, &single.history);
        for (a, b) in h2.iter().zip(h1) {
            assert!(
                (a.train_loss - b.train_loss).abs() < 1e-9,
                "{name}: {} vs {}",
                a.train_loss,
                b.train_loss
            );
        }
        // And the model moved: the test is not comparing two untrained networks.
        assert!(h1[3].train_loss < 0.5 * h1[0].train_loss, "{name}: {:?}", h1);
    }
}

#[test]
fn three_ranks_full_batch_and_lbfgs_match_one_process() {
    let data = embedded::by_name::<f64>("iris").unwrap();
    for opt in [sgd_momentum(), OptimizerSpec::from_name("lbfgs").unwrap()] {
        let mut p = LinearParams::softmax_regression();
        p.fit.optimizer = opt;
        p.fit.train.batch_size = BatchSize::Full;
        p.fit.train.epochs = 5;
        let name = p.fit.optimizer.name();
        let spec = p.check().unwrap();
        let ranks = on_ranks(3, |c| {
            spec.fit_parallel(&shard(&data, c), None, &mut [], Some(c)).unwrap()
        });
        let single = spec.fit(&data).unwrap();
        let d = max_diff(&ranks[2].weights.flatten(), &single.weights.flatten());
        // L-BFGS's line search amplifies the rounding of a 3-way sum a little.
        assert!(d < 1e-6, "{name}: {d}");
    }
}

#[test]
fn validation_r2_is_that_of_all_ranks_validation_rows() {
    let mut p = LinearParams::linear_regression();
    p.fit.train.batch_size = BatchSize::Full;
    p.fit.train.epochs = 30;
    validation_r2_on_two_ranks(p);
    // The per-example path, whose models are mixed after each pass, reduces it alike.
    let mut p = LinearParams::linear_regression();
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 0.01,
        ..Sgd::default()
    });
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = 30;
    validation_r2_on_two_ranks(p);
}

fn validation_r2_on_two_ranks(mut p: LinearParams) {
    let (data, _, _) = generate::linear::<f64>(403, 5, 0.5, 7).unwrap();
    p.fit.validation_fraction = 0.25;
    let seed = p.fit.train.seed;
    let spec = p.check().unwrap();
    let ranks = on_ranks(2, |c| {
        spec.fit_parallel(&shard(&data, c), None, &mut [], Some(c)).unwrap()
    });
    // The oracle: R^2 of the fitted model on the union of the rows each rank held out.
    let mut val_rows = Vec::new();
    for r in 0..2 {
        let rows: Vec<usize> = shard_range(data.rows(), r, 2).collect();
        let part = data.subset(&rows).unwrap();
        let s = steepest::data::split(&part.targets, 0.25, 0.0, seed).unwrap();
        val_rows.extend(s.val.iter().map(|&i| rows[i]));
    }
    let want = ranks[0].score(&data.subset(&val_rows).unwrap()).unwrap();
    // The last epoch's validation ran at the final parameters.
    let (name, got) = ranks[1].history[29].val_metric.clone().unwrap();
    assert_eq!(name, "r2");
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    assert!(want > 0.5, "{want}");
}

#[test]
fn a_checkpoint_of_two_ranks_resumes_on_one_and_one_on_two() {
    let all = embedded::by_name::<f64>("digits").unwrap();
    let data = all.subset(&(0..240).collect::<Vec<_>>()).unwrap();
    let one_data = interleaved(&data, 2, 6);
    let dir = tempfile::tempdir().unwrap();
    let with_dir = |batch, epochs, sub: &str| {
        let mut p = mlp(sgd_momentum(), batch, epochs);
        p.fit.train.checkpoint_dir = Some(dir.path().join(sub));
        p.fit.train.checkpoint_every_epochs = Some(1);
        p.check().unwrap()
    };
    // The whole run on two ranks: 6 epochs.
    let whole = on_ranks(2, |c| {
        mlp(sgd_momentum(), 6, 6)
            .check()
            .unwrap()
            .fit_parallel(&shard(&data, c), None, &mut [], Some(c))
            .unwrap()
    });
    // 2 ranks for 3 epochs, then 1 process (batch 12 over the interleaved rows) for the rest.
    let first = with_dir(6, 3, "a");
    on_ranks(2, |c| {
        first.fit_parallel(&shard(&data, c), None, &mut [], Some(c)).unwrap()
    });
    let ck = Checkpoint::<f64>::load(&dir.path().join("a")).unwrap();
    assert_eq!((ck.state.epoch, ck.state.ranks), (3, 2));
    let rest = with_dir(12, 6, "a").fit_with(&one_data, Some(ck), &mut []).unwrap();
    let d = max_diff(&rest.net.params.flatten(), &whole[0].net.params.flatten());
    assert!(d < 1e-6, "2 -> 1 ranks: {d}");
    // 1 process for 3 epochs, then 2 ranks.
    with_dir(12, 3, "b").fit(&one_data).unwrap();
    let ck = Checkpoint::<f64>::load(&dir.path().join("b")).unwrap();
    assert_eq!(ck.state.ranks, 1);
    let spec = with_dir(6, 6, "b");
    let rest = on_ranks(2, |c| {
        spec.fit_parallel(&shard(&data, c), Some(ck.clone()), &mut [], Some(c))
            .unwrap()
    });
    let d = max_diff(&rest[1].net.params.flatten(), &whole[0].net.params.flatten());
    assert!(d < 1e-6, "1 -> 2 ranks: {d}");
}

#[test]
fn parameter_averaging_is_the_row_weighted_mean_of_the_shard_models() {
    let data = generate::blobs::<f64>(1001, 2, 6, 2.0, 3).unwrap();
    let Targets::Classes { labels, .. } = data.targets.clone() else {
        panic!("blobs are classes")
    };
    let cfg = SgdConfig {
        loss: LinearLoss::Log,
        alpha: 1e-3,
        adaptive: true,
        eta: Some(0.1),
        average: false,
        eps: 1e-10,
        invariant: false,
    };
    let y = RowTargets::Class(&labels);
    let averaged = on_ranks(2, |c| {
        let rows: Vec<usize> = shard_range(data.rows(), c.rank(), c.size()).collect();
        let mut m = SgdModel::<f64>::new(data.cols());
        let losses = sgd_passes_averaged(c, &mut m, &data.features, y, &rows, &cfg, 1, None).unwrap();
        (m.finish(false), losses[0])
    });
    // The oracle: each shard's model trained alone, averaged by hand (501 and 500 rows).
    let mut want = vec![0.0; data.cols() + 1];
    let mut want_loss = 0.0;
    for r in 0..2 {
        let rows: Vec<usize> = shard_range(data.rows(), r, 2).collect();
        let mut m = SgdModel::<f64>::new(data.cols());
        let loss = sgd_pass(&mut m, &data.features, y, &rows, &cfg).unwrap();
        let (w, b) = m.finish(false);
        let k = rows.len() as f64 / data.rows() as f64;
        want.iter_mut().zip(w.iter().chain([&b])).for_each(|(a, v)| *a += k * v);
        want_loss += k * loss;
    }
    let ((w, b), loss) = &averaged[1];
    let got: Vec<f64> = w.iter().copied().chain([*b]).collect();
    assert!(max_diff(&got, &want) < 1e-12, "{got:?} vs {want:?}");
    assert!((loss - want_loss).abs() < 1e-12);
    assert_eq!(averaged[0].0, averaged[1].0);
    // More passes keep improving the shared model on this separable-ish data.
    let acc = on_ranks(2, |c| {
        let rows: Vec<usize> = shard_range(data.rows(), c.rank(), c.size()).collect();
        let mut m = SgdModel::<f64>::new(data.cols());
        sgd_passes_averaged(c, &mut m, &data.features, y, &rows, &cfg, 5, Some(1)).unwrap()
    });
    assert!(acc[0][4] < acc[0][0], "{:?}", acc[0]);
}

#[test]
fn the_estimators_per_example_path_on_ranks_averages_the_shard_models_after_each_pass() {
    let data = generate::blobs::<f64>(801, 2, 5, 2.0, 11).unwrap();
    let mut p = LinearParams::logistic_regression();
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 0.05,
        ..Sgd::default()
    });
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = 1;
    p.fit.scaler = steepest::data::ScalerKind::None;
    let spec = p.clone().check().unwrap();
    let ranks = on_ranks(2, |c| {
        spec.fit_parallel(&shard(&data, c), None, &mut [], Some(c))
            .unwrap()
            .weights
            .flatten()
    });
    assert_eq!(ranks[0], ranks[1]);
    // The oracle: each shard fitted alone in one process (the same per-example steps in the
    // same order), averaged by hand weighted by rows (401 and 400).
    let mut want = vec![0.0; ranks[0].len()];
    for r in 0..2 {
        let rows: Vec<usize> = shard_range(data.rows(), r, 2).collect();
        let alone = spec.fit(&data.subset(&rows).unwrap()).unwrap().weights.flatten();
        let k = rows.len() as f64 / data.rows() as f64;
        want.iter_mut().zip(&alone).for_each(|(a, v)| *a += k * v);
    }
    assert!(max_diff(&ranks[0], &want) < 1e-12, "{:?} vs {want:?}", ranks[0]);
    // A second pass starts from the mixed model: the models still agree and the loss falls.
    p.fit.train.epochs = 3;
    let spec = p.check().unwrap();
    let fitted = on_ranks(2, |c| {
        spec.fit_parallel(&shard(&data, c), None, &mut [], Some(c)).unwrap()
    });
    assert_eq!(fitted[0].weights.flatten(), fitted[1].weights.flatten());
    let h = &fitted[0].history;
    assert!(h[2].train_loss < h[0].train_loss, "{h:?}");
}

#[test]
fn a_rank_that_fails_is_named_on_every_rank() {
    let errs = on_ranks(3, |c| {
        let local = match c.rank() {
            1 => Err(Error::invalid("data.csv", "no such file")),
            _ => Ok(()),
        };
        all_ok(c, local).unwrap_err().to_string()
    });
    for e in &errs {
        assert!(
            e.contains("1 of 3 ranks failed: rank 1: ") && e.contains("no such file"),
            "{e}"
        );
    }
}

/// 64 images 1x8x8 of two classes (a bright bar whose column depends on the class, and
/// noise), in f64.
fn bar_images() -> Dataset<f64> {
    let (n, side) = (64, 8);
    let mut state = 777u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let labels: Vec<usize> = (0..n).map(|i| (i / 3) % 2).collect();
    let mut x = Vec::with_capacity(n * side * side);
    for &c in &labels {
        for _ in 0..side {
            for col in 0..side {
                let bar = if col / 4 == c { 1.0 } else { 0.0 };
                x.push(bar + 0.5 * noise());
            }
        }
    }
    let t = steepest::Tensor::new(x, &[n, side * side]).unwrap();
    let targets = Targets::Classes {
        labels,
        names: vec!["left".into(), "right".into()],
    };
    Dataset::from_dense(t, targets)
        .unwrap()
        .with_example_shape(&[1, side, side])
        .unwrap()
}

/// Conv 3x3 (4 channels), batch norm, ReLU, flatten, linear: batch norm couples the examples of
/// a batch, so ranks agree with one process only when its statistics are synchronized.
fn bn_net(batch: usize, sync: bool) -> steepest::models::ValidNetParams {
    use steepest::nn::arch::LayerSpec;
    let layers: Vec<LayerSpec> = serde_json::from_value(serde_json::json!([
        {"type": "Conv2d", "name": "conv", "out_channels": 4, "kernel_size": 3},
        {"type": "BatchNorm2d", "name": "bn"},
        {"type": "ReLU"},
        {"type": "Flatten"},
        {"type": "Linear", "name": "fc"}
    ]))
    .unwrap();
    let mut p = steepest::models::NetParams::from_layers("bn-net", layers);
    p.fit.train.batch_size = BatchSize::Rows(batch);
    p.fit.train.shuffle = false;
    p.fit.train.epochs = 3;
    p.fit.train.sync_batchnorm = sync;
    p.fit.optimizer = sgd_momentum();
    p.check().unwrap()
}

#[test]
fn synchronized_batch_norm_on_two_ranks_takes_the_steps_of_one_process() {
    let data = bar_images();
    let b = 8;
    let one = bn_net(2 * b, false).fit(&interleaved(&data, 2, b)).unwrap();
    let p1 = one.net.params.flatten();
    let synced = on_ranks(2, |c| {
        bn_net(b, true)
            .fit_parallel(&shard(&data, c), None, &mut [], Some(c))
            .unwrap()
    });
    let d = max_diff(&synced[0].net.params.flatten(), &p1);
    assert!(d < 1e-6, "synchronized: 2 ranks vs 1 process differ by {d}");
    // The running statistics too: they are those of the whole batches.
    let (bs, b1) = (synced[1].net.buffers.flatten(), one.net.buffers.flatten());
    assert!(max_diff(&bs, &b1) < 1e-6, "running statistics differ");
    // Per-rank statistics (DDP's default) are another model: each rank normalizes its half.
    let local = on_ranks(2, |c| {
        bn_net(b, false)
            .fit_parallel(&shard(&data, c), None, &mut [], Some(c))
            .unwrap()
    });
    let d_local = max_diff(&local[0].net.params.flatten(), &p1);
    println!("batch norm, 2 ranks vs 1 process: synchronized {d:e}, per-rank {d_local:e}");
    assert!(
        d_local > 1e-4,
        "per-rank statistics should differ from the whole batch's: {d_local}"
    );
    // The model learned something.
    assert!(
        one.history[2].train_loss < one.history[0].train_loss,
        "{:?}",
        one.history
    );
}

#[test]
fn synchronized_batch_norm_refuses_shards_of_unequal_batch_counts() {
    // 70 rows on 2 ranks of batch 8: 35 rows each, 5 batches each; 68 rows with one rank of
    // 34 rows: still 5 each. 66 rows on 3 ranks of 8: 22 rows, 3 batches each. 40 rows on 3
    // ranks: 14, 13, 13 rows; with batch 13: 2, 1, 1 batches.
    let data = bar_images();
    let data = data.subset(&(0..40).collect::<Vec<_>>()).unwrap();
    let errs = on_ranks(3, |c| {
        bn_net(13, true)
            .fit_parallel(&shard(&data, c), None, &mut [], Some(c))
            .err()
            .map(|e| e.to_string())
    });
    for e in errs {
        let e = e.expect("an error on every rank");
        assert!(e.contains("equal batch counts"), "{e}");
    }
}
