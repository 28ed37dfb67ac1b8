//! The files a run keeps current while it trains, for `steepest dashboard` and other readers.
//!
//! - `metrics.csv` gains one row per epoch as the epoch ends: each row is one write of a whole
//!   line, so a reader sees complete rows and at most one partial last line (which it skips).
//!   At the end of the run the file is rewritten atomically from the model's history.
//! - `status.json` holds the run's state (`running`, `finished`, `diverged`, `failed`,
//!   `interrupted`), the epoch reached, the epochs planned, the process id and the times
//!   (seconds since the Unix epoch); it is rewritten atomically (temporary file and rename).
//!   A reader that finds `running` with a process id that is gone treats the run as interrupted.

use crate::error::CliResult;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use steepest::train::{EpochRecord, Observer};

/// The status file's name.
pub const STATUS_FILE: &str = "status.json";

/// The metrics table's name.
pub const METRICS_FILE: &str = "metrics.csv";

/// A run's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Training (or evaluating at the end).
    Running,
    /// Ended with a saved model.
    Finished,
    /// Stopped because the loss diverged.
    Diverged,
    /// Stopped by an error (a full disk, bad data met during the run).
    Failed,
    /// Stopped by a signal (Ctrl-C, `kill`) or a process that vanished.
    Interrupted,
}

impl State {
    /// The state as `status.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Finished => "finished",
            State::Diverged => "diverged",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
        }
    }
}

/// The contents of `status.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The run's state.
    pub state: State,
    /// The last epoch that ended (0 before the first).
    pub epoch: usize,
    /// The epochs planned.
    pub epochs: usize,
    /// The training process.
    pub pid: u32,
    /// When the run started (seconds since the Unix epoch).
    pub started: f64,
    /// When this file was written (seconds since the Unix epoch).
    pub updated: f64,
    /// Why the run ended, when it did not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Reads `dir`'s status, if it has a readable one.
pub fn read_status(dir: &Path) -> Option<Status> {
    let text = std::fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes `dir`'s status atomically.
pub fn write_status(dir: &Path, s: &Status) -> CliResult<()> {
    let text = serde_json::to_string_pretty(s).map_err(|e| crate::error::failed(e.to_string()))?;
    crate::output::write_file(&dir.join(STATUS_FILE), text.as_bytes())
}

/// The run folders whose end this process has written, behind the lock every status write of
/// this process takes: a stop signal's thread and the training thread write the same file, and
/// once the end is written no epoch's "running" may follow it.
static ENDED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Marks the run in `dir` as ended with `state` when this process's run is still marked
/// running there (the first ending wins: a divergence is not overwritten by the failure it
/// causes). Best effort: an unwritable folder has already been reported.
pub fn end(dir: &Path, state: State, message: Option<&str>) {
    let mut ended = ENDED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut s) = read_status(dir) {
        if s.state == State::Running && s.pid == std::process::id() {
            s.state = state;
            s.updated = now();
            s.message = message.map(str::to_string);
            let _ = write_status(dir, &s);
            ended.push(dir.to_path_buf());
        }
    }
}

/// Writes a running run's status unless its end was written already.
fn write_running(dir: &Path, s: &Status) -> CliResult<()> {
    let ended = ENDED.lock().unwrap_or_else(|e| e.into_inner());
    match ended.iter().any(|d| d == dir) {
        true => Ok(()),
        false => write_status(dir, s),
    }
}

/// The header of `metrics.csv`; `metric` names the validation metric column (`val_accuracy`,
/// `val_r2`), or `val_metric` when there is none.
pub fn metrics_header(metric: &str) -> String {
    format!("epoch,train_loss,val_loss,{metric},lr,grad_norm,seconds\n")
}

/// One row of `metrics.csv` (unmeasured values are empty cells).
pub fn metrics_row(r: &EpochRecord) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    format!(
        "{},{},{},{},{},{},{}\n",
        r.epoch,
        r.train_loss,
        opt(r.val_loss),
        opt(r.val_metric.as_ref().map(|m| m.1)),
        r.lr,
        // Not measured by the per-example fast path: an empty cell.
        opt(Some(r.grad_norm).filter(|g| g.is_finite())),
        r.seconds
    )
}

/// The validation metric column's name for a history's first record that has one.
pub fn metric_column<'a>(records: impl IntoIterator<Item = &'a EpochRecord>) -> String {
    records
        .into_iter()
        .find_map(|r| r.val_metric.as_ref().map(|(n, _)| format!("val_{n}")))
        .unwrap_or_else(|| "val_metric".into())
}

/// An observer that keeps `metrics.csv` and `status.json` current while the run trains.
pub struct RunRecorder {
    dir: PathBuf,
    file: Option<std::fs::File>,
    status: Status,
    failed: bool,
}

impl RunRecorder {
    /// A recorder for the run in `dir`; writes `status.json` (running) at once.
    pub fn start(dir: &Path) -> CliResult<Self> {
        let t = now();
        let status = Status {
            state: State::Running,
            epoch: 0,
            epochs: 0,
            pid: std::process::id(),
            started: t,
            updated: t,
            message: None,
        };
        write_running(dir, &status)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            file: None,
            status,
            failed: false,
        })
    }

    /// Opens `metrics.csv` for appending at the first epoch: a resumed run keeps the rows of
    /// the epochs before `r`'s (those after the checkpoint are trained again), a new run
    /// starts the file with its header.
    fn open(&mut self, r: &EpochRecord) -> std::io::Result<std::fs::File> {
        let path = self.dir.join(METRICS_FILE);
        let mut kept = String::new();
        if let Ok(old) = std::fs::read_to_string(&path) {
            let mut lines = old.split_inclusive('\n').filter(|l| l.ends_with('\n'));
            if let Some(h) = lines.next() {
                kept.push_str(h);
                for l in lines {
                    match l.split(',').next().and_then(|e| e.parse::<usize>().ok()) {
                        Some(e) if e < r.epoch => kept.push_str(l),
                        _ => break,
                    }
                }
            }
        }
        if kept.is_empty() {
            kept = metrics_header(&metric_column([r]));
        }
        steepest::fsutil::write_atomic(&path, kept.as_bytes()).map_err(|e| std::io::Error::other(e.to_string()))?;
        std::fs::OpenOptions::new().append(true).open(&path)
    }

    fn append(&mut self, r: &EpochRecord) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(self.open(r)?);
        }
        let f = self.file.as_mut().expect("just opened");
        f.write_all(metrics_row(r).as_bytes())?;
        f.flush()
    }
}

impl Observer for RunRecorder {
    fn on_start(&mut self, epochs: usize, _batches: usize) {
        self.status.epochs = epochs;
        self.status.updated = now();
        let _ = write_running(&self.dir, &self.status);
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        // The run's own files are written at its end whatever happens here: a live row that
        // cannot be written is reported once and not retried.
        if !self.failed {
            if let Err(e) = self.append(r) {
                eprintln!("warning: {}: {e}", self.dir.join(METRICS_FILE).display());
                self.failed = true;
            }
        }
        self.status.epoch = r.epoch;
        self.status.updated = now();
        let _ = write_running(&self.dir, &self.status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: loss,
            val_loss: Some(loss + 0.5),
            val_metric: Some(("accuracy".into(), 0.5)),
            lr: 0.1,
            grad_norm: f64::NAN,
            seconds: 0.25,
        }
    }

    #[test]
    fn each_epoch_appends_one_whole_row_and_updates_the_status() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = RunRecorder::start(dir.path()).unwrap();
        assert_eq!(read_status(dir.path()).unwrap().state, State::Running);
        r.on_start(3, 10);
        for e in 1..=3 {
            r.on_epoch(&record(e, 1.0 / e as f64));
            let text = std::fs::read_to_string(dir.path().join(METRICS_FILE)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines[0], "epoch,train_loss,val_loss,val_accuracy,lr,grad_norm,seconds");
            assert_eq!(lines.len(), e + 1);
            assert_eq!(
                lines[e],
                format!("{e},{},{},0.5,0.1,,0.25", 1.0 / e as f64, 1.0 / e as f64 + 0.5)
            );
            let s = read_status(dir.path()).unwrap();
            assert_eq!((s.epoch, s.epochs, s.state), (e, 3, State::Running));
            let text = std::fs::read_to_string(dir.path().join(STATUS_FILE)).unwrap();
            assert!(
                text.contains(&format!("\"state\": \"{}\"", State::Running.name())),
                "{text}"
            );
        }
        // The first ending wins; another process's run is left alone.
        end(dir.path(), State::Diverged, Some("loss NaN"));
        end(dir.path(), State::Failed, Some("later"));
        let s = read_status(dir.path()).unwrap();
        assert_eq!((s.state, s.message.as_deref()), (State::Diverged, Some("loss NaN")));
        let mut other = s.clone();
        other.state = State::Running;
        other.pid = 0;
        write_status(dir.path(), &other).unwrap();
        end(dir.path(), State::Finished, None);
        assert_eq!(read_status(dir.path()).unwrap().state, State::Running);
    }

    #[test]
    fn a_resumed_run_keeps_the_rows_before_its_first_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let old = "epoch,train_loss,val_loss,val_accuracy,lr,grad_norm,seconds\n\
                   1,1,1,1,1,1,1\n2,2,2,2,2,2,2\n3,3,3,3,3,3,3\n4,4,4,4";
        std::fs::write(dir.path().join(METRICS_FILE), old).unwrap();
        let mut r = RunRecorder::start(dir.path()).unwrap();
        r.on_epoch(&record(3, 9.0));
        let text = std::fs::read_to_string(dir.path().join(METRICS_FILE)).unwrap();
        let epochs: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
        assert_eq!(epochs, ["1", "2", "3"]);
        assert!(text.lines().last().unwrap().starts_with("3,9,"), "{text}");
    }
}
