//! 03: a convolutional network on images. PyTorch's `examples/mnist` network (conv 32, conv
//! 64, max-pool, dropout, linear 128, dropout, linear), trained by the one training loop with
//! that example's recipe (Adadelta lr 1.0, step decay 0.7 per epoch, batch 64).
//!
//! `cargo run --release -p steepest --example 03_cnn_on_images -- ../shared/data/mnist10k [EPOCHS]`
//!
//! Without a folder of IDX files it trains on digits (8x8 images) embedded in the library.

use steepest::data::{embedded, read_idx_dir, split, BatchSize};
use steepest::models::{NetParams, Predictor};
use steepest::optim::rules::Adadelta;
use steepest::optim::{OptimizerSpec, ScheduleSpec};

fn main() -> steepest::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let epochs: usize = args.get(2).and_then(|e| e.parse().ok()).unwrap_or(5);
    let (train, test) = match args.get(1) {
        Some(dir) => {
            let (train, test) = read_idx_dir::<f32>(dir)?;
            (train, test.expect("a test split in the folder"))
        }
        None => {
            let d = embedded::digits::<f32>()?.with_example_shape(&[1, 8, 8])?;
            let s = split(&d.targets, 0.0, 0.2, 0)?;
            (d.subset(&s.train)?, d.subset(&s.test)?)
        }
    };
    println!("{} training images of shape {:?}", train.rows(), train.example_shape);
    let mut p = NetParams::cnn();
    p.fit.optimizer = OptimizerSpec::Adadelta(Adadelta {
        lr: 1.0,
        ..Adadelta::default()
    });
    p.fit.schedule = Some(ScheduleSpec::Step {
        step_size: 1,
        gamma: 0.7,
    });
    p.fit.train.epochs = epochs;
    p.fit.train.batch_size = BatchSize::Rows(64);
    let model = p.check()?.fit(&train)?;
    for l in model.net.summary() {
        println!(
            "  {:<6} {:<10} {:?} ({} parameters)",
            l.name, l.kind, l.output, l.params
        );
    }
    println!("test accuracy {:.4}", model.score(&test)?);
    Ok(())
}
