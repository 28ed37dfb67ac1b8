//! Data-parallel training over real MPI ranks. Each test starts itself under
//! `mpirun -np 2` (the child runs the body as one rank); run with `--features mpi` on a machine
//! with Open MPI (`.ci/run` does).
#![cfg(feature = "mpi")]

use std::process::Command;
use steepest::collective::{shard_range, Communicator};
use steepest::data::{embedded, BatchSize, Dataset, Targets};
use steepest::models::{MlpParams, NetParams};
use steepest::optim::rules::Sgd;
use steepest::optim::OptimizerSpec;
use steepest_distributed::MpiComm;

/// Runs `body` as one rank of an `mpirun -np ranks` job. In the parent (the test as cargo runs
/// it) this starts this test binary's `name` under `mpirun`, then checks that mpirun succeeded
/// and that every rank finished `body` (each rank writes a marker file into a directory the
/// parent names; the ranks' interleaved stdout is not parsed, it only goes into the message).
fn on_ranks(name: &str, ranks: usize, body: impl FnOnce(&mut MpiComm)) {
    const DIR: &str = "STEEPEST_MPI_TEST_DONE_DIR";
    if std::env::var_os("OMPI_COMM_WORLD_RANK").is_some() || std::env::var_os("PMI_RANK").is_some() {
        let mut comm = MpiComm::init().expect("MPI");
        body(&mut comm);
        let dir = std::env::var_os(DIR).expect("the parent names the marker directory");
        std::fs::write(std::path::Path::new(&dir).join(format!("rank-{}", comm.rank())), "ok").unwrap();
        return;
    }
    let done = std::env::temp_dir().join(format!("steepest-mpi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&done);
    std::fs::create_dir_all(&done).unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", &ranks.to_string()])
        .args(["-x", DIR])
        .env(DIR, &done)
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .output()
        .expect("mpirun (install openmpi-bin)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mpirun failed:\n{text}");
    let missing: Vec<usize> = (0..ranks)
        .filter(|r| !done.join(format!("rank-{r}")).exists())
        .collect();
    let _ = std::fs::remove_dir_all(&done);
    assert!(missing.is_empty(), "ranks {missing:?} did not finish:\n{text}");
}

fn spec(batch: usize) -> steepest::models::ValidMlpParams {
    let mut p = MlpParams::default();
    p.hidden = vec![32];
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 0.05,
        momentum: 0.9,
        ..Sgd::default()
    });
    p.fit.train.batch_size = BatchSize::Rows(batch);
    p.fit.train.shuffle = false;
    p.fit.train.epochs = 5;
    p.check().unwrap()
}

/// The order in which one process sees the rows of 2 ranks with per-rank batch b.
fn interleaved(data: &Dataset<f64>, b: usize) -> Dataset<f64> {
    let s: Vec<Vec<usize>> = (0..2).map(|r| shard_range(data.rows(), r, 2).collect()).collect();
    let mut order = Vec::new();
    for k in 0..s[0].len().div_ceil(b) {
        for shard in &s {
            order.extend(shard.iter().skip(k * b).take(b));
        }
    }
    data.subset(&order).unwrap()
}

#[test]
fn mpi_two_ranks_with_batch_b_match_one_process_with_batch_2b() {
    on_ranks(
        "mpi_two_ranks_with_batch_b_match_one_process_with_batch_2b",
        2,
        |comm| {
            assert_eq!(comm.size(), 2);
            let all = embedded::by_name::<f64>("digits").unwrap();
            let data = all.subset(&(0..501).collect::<Vec<_>>()).unwrap();
            let b = 10;
            let mine = data
                .subset(&shard_range(data.rows(), comm.rank(), 2).collect::<Vec<_>>())
                .unwrap();
            let dist = spec(b).fit_parallel(&mine, None, &mut [], Some(comm)).unwrap();
            let one = spec(2 * b).fit(&interleaved(&data, b)).unwrap();
            let (p, q) = (dist.net.params.flatten(), one.net.params.flatten());
            let d = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            println!("rank {}: max |2 ranks - 1 process| = {d:e}", comm.rank());
            assert!(d < 1e-6, "rank {}: {d}", comm.rank());
            assert!(dist.history[4].train_loss < 0.5 * dist.history[0].train_loss);
            // The ranks hold the same parameters, bit for bit.
            let mut sum = p.clone();
            comm.allreduce_sum_f64(&mut sum).unwrap();
            assert!(sum.iter().zip(&p).all(|(s, v)| *s == 2.0 * v));
        },
    );
}

/// 96 images 1x12x12 of three classes (a bright bar at a place that depends on the class,
/// and noise), in f64.
fn images() -> Dataset<f64> {
    let (n, side) = (96, 12);
    let mut state = 12345u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * side * side);
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    for &c in &labels {
        for r in 0..side {
            for col in 0..side {
                let bar = if col / 4 == c && (3..9).contains(&r) { 1.0 } else { 0.0 };
                x.push(bar + 0.3 * noise());
            }
        }
    }
    let t = steepest::Tensor::new(x, &[n, side * side]).unwrap();
    let targets = Targets::Classes {
        labels,
        names: vec!["a".into(), "b".into(), "c".into()],
    };
    Dataset::from_dense(t, targets)
        .unwrap()
        .with_example_shape(&[1, side, side])
        .unwrap()
}

fn cnn_spec(batch: usize) -> steepest::models::ValidNetParams {
    let mut p = NetParams::cnn();
    p.fit.train.batch_size = BatchSize::Rows(batch);
    p.fit.train.shuffle = false;
    p.fit.train.epochs = 2;
    p.check().unwrap()
}

#[test]
fn mpi_two_ranks_train_the_cnn_as_one_process() {
    // PyTorch's MNIST network with its two dropout layers: each example's masks are seeded by
    // its row identity and the step, so 2 ranks with batch b draw what 1 process with 2b does.
    on_ranks("mpi_two_ranks_train_the_cnn_as_one_process", 2, |comm| {
        let data = images();
        let b = 8;
        let mine = data
            .subset(&shard_range(data.rows(), comm.rank(), 2).collect::<Vec<_>>())
            .unwrap();
        let dist = cnn_spec(b).fit_parallel(&mine, None, &mut [], Some(comm)).unwrap();
        let one = cnn_spec(2 * b).fit(&interleaved(&data, b)).unwrap();
        let (p, q) = (dist.net.params.flatten(), one.net.params.flatten());
        let d = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("rank {}: CNN max |2 ranks - 1 process| = {d:e}", comm.rank());
        assert!(d < 1e-6, "rank {}: {d}", comm.rank());
        let h = &dist.history;
        assert!(h[1].train_loss < h[0].train_loss, "{h:?}");
        // (With each rank's local row positions as the examples' identities instead, the two
        // differ by 1.7e-2: the masks are what this test checks.)
    });
}

#[test]
fn mpi_broadcast_and_f32_sums() {
    on_ranks("mpi_broadcast_and_f32_sums", 2, |comm| {
        let mut bytes = if comm.rank() == 1 {
            b"from rank 1".to_vec()
        } else {
            Vec::new()
        };
        comm.broadcast(1, &mut bytes).unwrap();
        assert_eq!(bytes, b"from rank 1");
        let mut empty = if comm.rank() == 0 {
            Vec::new()
        } else {
            b"stale".to_vec()
        };
        comm.broadcast(0, &mut empty).unwrap();
        assert!(empty.is_empty());
        let mut v = [comm.rank() as f32 + 0.5, 1.0];
        comm.allreduce_sum_f32(&mut v).unwrap();
        assert_eq!(v, [2.0, 2.0]);
        comm.barrier().unwrap();
    });
}

#[test]
fn mpi_two_ranks_train_the_batch_norm_cnn_as_one_process_with_synchronized_statistics() {
    // The cnn-bn preset: four batch norm layers (and two dropout layers) whose statistics,
    // running averages and backward are summed over the ranks.
    on_ranks(
        "mpi_two_ranks_train_the_batch_norm_cnn_as_one_process_with_synchronized_statistics",
        2,
        |comm| {
            let data = images();
            let b = 8;
            let spec = |batch: usize, sync: bool| {
                let mut p = NetParams::from_layers("cnn-bn", steepest::nn::arch::cnn_bn());
                p.fit.train.batch_size = BatchSize::Rows(batch);
                p.fit.train.shuffle = false;
                p.fit.train.epochs = 2;
                p.fit.train.sync_batchnorm = sync;
                p.check().unwrap()
            };
            let mine = data
                .subset(&shard_range(data.rows(), comm.rank(), 2).collect::<Vec<_>>())
                .unwrap();
            let dist = spec(b, true).fit_parallel(&mine, None, &mut [], Some(comm)).unwrap();
            let one = spec(2 * b, false).fit(&interleaved(&data, b)).unwrap();
            let (p, q) = (dist.net.params.flatten(), one.net.params.flatten());
            let d = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            println!(
                "rank {}: cnn-bn synchronized max |2 ranks - 1 process| = {d:e}",
                comm.rank()
            );
            assert!(d < 1e-6, "rank {}: {d}", comm.rank());
            let (r, s) = (dist.net.buffers.flatten(), one.net.buffers.flatten());
            let d = r.iter().zip(&s).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(d < 1e-6, "rank {}: running statistics {d}", comm.rank());
        },
    );
}
