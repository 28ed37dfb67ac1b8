//! 05: a linear model learned while a file is read. A LIBSVM file is streamed block by block
//! (memory for the model and one block, whatever the file's length) with per-example
//! normalized, importance-invariant steps (Vowpal Wabbit's update); the second pass reads the
//! binary cache the first one wrote.
//!
//! `cargo run --release -p steepest --example 05_streaming_linear -- [FILE.svm] [PASSES]`
//!
//! Without a file it writes a generated one (20,000 rows, 30 of 5,000 binary features each)
//! into a temporary folder.

use std::io::Write;
use steepest::data::{read_libsvm, BatchSize, ScalerKind, StreamSource, Task};
use steepest::models::{LinearParams, Predictor};
use steepest::optim::{Invariant, OptimizerSpec};

fn main() -> steepest::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let passes: usize = args.get(2).and_then(|e| e.parse().ok()).unwrap_or(2);
    let dir = std::env::temp_dir().join(format!("steepest-example-05-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| steepest::Error::io(&dir, e))?;
    let file = match args.get(1) {
        Some(f) => std::path::PathBuf::from(f),
        None => generate(&dir.join("train.svm"))?,
    };
    let mut p = LinearParams::logistic_regression();
    p.fit.optimizer = OptimizerSpec::Invariant(Invariant::default());
    p.fit.train.batch_size = BatchSize::Rows(1);
    p.fit.train.epochs = passes;
    p.fit.scaler = ScalerKind::None;
    let p = p.check()?;
    let mut source = StreamSource::new(&file, None, Some(&dir.join("cache")))?;
    let mut log = steepest::train::LogObserver;
    let model = p.fit_stream::<f32>(&mut source, &mut [&mut log])?;
    println!(
        "{} features; {} of {passes} passes read from the cache",
        model.n_inputs, source.cached_passes
    );
    // Scored on the file itself here (give a held-out file in practice).
    let data = read_libsvm::<f32>(&file, Some(Task::Classify))?;
    let mut data = data;
    data.features = data.features.with_cols(model.n_inputs)?;
    println!("accuracy on the file: {:.4}", model.score(&data)?);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A W3 in miniature: the label drawn from a logistic of a fixed rule over the features.
fn generate(path: &std::path::Path) -> steepest::Result<std::path::PathBuf> {
    let io = |e| steepest::Error::io(path, e);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 11
    };
    let weight = |j: u64| ((j.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) % 2001) as f64 / 1000.0 - 1.0;
    for _ in 0..20_000 {
        let mut idx: Vec<u64> = (0..30).map(|_| 1 + next() % 5_000).collect();
        idx.sort_unstable();
        idx.dedup();
        let z: f64 = idx.iter().map(|&j| weight(j)).sum::<f64>() * 0.6;
        let y = u8::from(((next() % 1_000_000) as f64 / 1e6) < 1.0 / (1.0 + (-z).exp()));
        let feats: Vec<String> = idx.iter().map(|j| format!("{j}:1")).collect();
        writeln!(f, "{y} {}", feats.join(" ")).map_err(io)?;
    }
    Ok(path.to_path_buf())
}
