//! Observers: what the training loop tells the outside world.

use super::record::EpochRecord;

/// Receives training events. Every method has an empty default. Observers are `Send`: with
/// several threads the loop runs on a thread of rayon's pool.
pub trait Observer: Send {
    /// Training starts: `epochs` epochs of `batches` batches each.
    fn on_start(&mut self, _epochs: usize, _batches: usize) {}
    /// A batch finished with mean loss `loss` over `rows` rows.
    fn on_batch(&mut self, _epoch: usize, _batch: usize, _rows: usize, _loss: f64) {}
    /// An epoch finished.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
    /// Something worth telling a person (divergence recovered, early stop, checkpoint).
    fn on_message(&mut self, _message: &str) {}
    /// Training ended.
    fn on_end(&mut self) {}
}

/// Writes one plain line per epoch and per message to stderr.
#[derive(Default)]
pub struct LogObserver;

impl Observer for LogObserver {
    fn on_epoch(&mut self, r: &EpochRecord) {
        let val = match (r.val_loss, &r.val_metric) {
            (Some(l), Some((n, m))) => format!("  val_loss {l:.5}  val_{n} {m:.4}"),
            (Some(l), None) => format!("  val_loss {l:.5}"),
            _ => String::new(),
        };
        // The per-example fast path does not measure the gradient norm.
        let norm = match r.grad_norm.is_finite() {
            true => format!("  grad_norm {:.3e}", r.grad_norm),
            false => String::new(),
        };
        eprintln!(
            "epoch {:4}  train_loss {:.5}{val}  lr {:.3e}{norm}  {:.2}s",
            r.epoch, r.train_loss, r.lr, r.seconds
        );
    }
    fn on_message(&mut self, m: &str) {
        eprintln!("{m}");
    }
}
