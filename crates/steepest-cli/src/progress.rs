//! Progress: an indicatif bar per epoch on a terminal, plain lines otherwise, nothing with
//! `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;
use steepest::train::{EpochRecord, Observer};

/// Reports training progress on stderr.
pub struct Progress {
    bar: Option<ProgressBar>,
    terminal: bool,
    quiet: bool,
    epochs: usize,
    batches: usize,
    rows: usize,
    started: Instant,
}

impl Progress {
    /// A reporter; `quiet` silences it.
    pub fn new(quiet: bool) -> Self {
        Self {
            bar: None,
            terminal: std::io::stderr().is_terminal(),
            quiet,
            epochs: 0,
            batches: 0,
            rows: 0,
            started: Instant::now(),
        }
    }

    fn bar_for(&mut self, epoch: usize) -> &ProgressBar {
        if self.bar.is_none() {
            let b = ProgressBar::new(self.batches as u64);
            let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            b.set_style(style);
            b.set_prefix(format!("{epoch}/{}", self.epochs));
            self.started = Instant::now();
            self.rows = 0;
            self.bar = Some(b);
        }
        self.bar.as_ref().expect("just set")
    }
}

impl Observer for Progress {
    fn on_start(&mut self, epochs: usize, batches: usize) {
        self.epochs = epochs;
        self.batches = batches;
    }

    fn on_batch(&mut self, epoch: usize, batch: usize, rows: usize, loss: f64) {
        if self.quiet || !self.terminal {
            return;
        }
        self.rows += rows;
        let rate = self.rows as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let b = self.bar_for(epoch);
        b.set_position(batch as u64);
        if batch.is_multiple_of(8) || batch == 1 {
            b.set_message(format!("loss {loss:.4} {rate:.0} rows/s"));
        }
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        if self.quiet {
            return;
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let val = match (r.val_loss, &r.val_metric) {
            (Some(l), Some((n, m))) => format!("  val_loss {l:.4}  val_{n} {m:.4}"),
            (Some(l), None) => format!("  val_loss {l:.4}"),
            _ => String::new(),
        };
        eprintln!(
            "epoch {:>3}/{}  train_loss {:.4}{val}  lr {:.2e}  {:.2}s",
            r.epoch, self.epochs, r.train_loss, r.lr, r.seconds
        );
    }

    fn on_message(&mut self, m: &str) {
        if let Some(b) = &self.bar {
            b.suspend(|| eprintln!("{m}"));
        } else if !self.quiet {
            eprintln!("{m}");
        }
    }

    fn on_end(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
