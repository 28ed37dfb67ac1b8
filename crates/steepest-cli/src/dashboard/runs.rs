//! Reading run folders for the dashboard and the report: which folders are runs, what each
//! holds (summary, status, configuration, the metrics table, pictures), read defensively.
//!
//! Nothing here follows a symbolic link or reads a file outside the runs folder; a file that
//! is missing, too large, half written or malformed becomes an error message on its run (the
//! rest of the run is still shown), never a failure of the listing.

use crate::live_run::{State, Status, METRICS_FILE, STATUS_FILE};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Files whose presence makes a folder a run folder (training runs; the LR range test's and
/// the landscape's folders, shown for their pictures).
const MARKERS: [&str; 6] = [
    "config.toml",
    METRICS_FILE,
    "summary.json",
    STATUS_FILE,
    "lr_find.csv",
    "landscape.csv",
];
/// How deep under the runs folder run folders are looked for (`runs/sweep/lr-0.1` is 2).
const MAX_DEPTH: usize = 3;
/// The largest metrics table read (a 64 MiB table is ~1 million epochs).
const MAX_TABLE: u64 = 64 << 20;
/// The largest JSON or TOML file read.
const MAX_SMALL: u64 = 4 << 20;
/// The largest picture served.
const MAX_PICTURE: u64 = 32 << 20;
/// Curves longer than this are thinned (every k-th row and the last) before they are sent.
pub const MAX_POINTS: usize = 4000;

/// A parsed metrics table: columns by name, values column by column (`None`: an empty cell).
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names, from the header.
    pub columns: Vec<String>,
    /// One vector per column.
    pub data: Vec<Vec<Option<f64>>>,
    /// Rows in the file (before thinning).
    pub rows: usize,
    /// Whether the last line was partial (being written) and skipped.
    pub partial: bool,
    /// The first malformed line, when one was met (the rows before it are kept).
    pub error: Option<String>,
}

impl Table {
    /// Parses `metrics.csv` text: the header, then each complete line; a last line without its
    /// newline is being written and is skipped.
    pub fn parse(text: &str) -> Table {
        let mut t = Table::default();
        let mut lines = text.split_inclusive('\n');
        let Some(header) = lines.next().filter(|h| h.ends_with('\n')) else {
            t.partial = !text.is_empty();
            return t;
        };
        t.columns = header.trim_end().split(',').map(|c| c.trim().to_string()).collect();
        t.data = vec![Vec::new(); t.columns.len()];
        for (i, line) in lines.enumerate() {
            if !line.ends_with('\n') {
                t.partial = true;
                break;
            }
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != t.columns.len() {
                t.error = Some(format!(
                    "{METRICS_FILE} line {}: {} fields where the header has {}",
                    i + 2,
                    cells.len(),
                    t.columns.len()
                ));
                break;
            }
            let parsed: Result<Vec<Option<f64>>, usize> = cells
                .iter()
                .enumerate()
                .map(|(j, c)| match c.trim() {
                    "" => Ok(None),
                    v => v.parse::<f64>().map(Some).map_err(|_| j),
                })
                .collect();
            match parsed {
                Ok(v) => {
                    for (col, x) in t.data.iter_mut().zip(v) {
                        col.push(x);
                    }
                    t.rows += 1;
                }
                Err(j) => {
                    t.error = Some(format!(
                        "{METRICS_FILE} line {}: '{}' in column {} is not a number",
                        i + 2,
                        cells[j].chars().take(40).collect::<String>(),
                        t.columns[j]
                    ));
                    break;
                }
            }
        }
        t
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&[Option<f64>]> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| self.data[i].as_slice())
    }

    /// The table as JSON, thinned to at most `max` rows (every k-th row and the last).
    pub fn to_json(&self, max: usize) -> Value {
        let keep: Vec<usize> = match self.rows > max {
            false => (0..self.rows).collect(),
            true => {
                let k = self.rows.div_ceil(max - 1);
                (0..self.rows).filter(|i| i % k == 0 || *i == self.rows - 1).collect()
            }
        };
        let data: Vec<Vec<Option<f64>>> = self
            .data
            .iter()
            .map(|c| keep.iter().map(|&i| c[i].filter(|v| v.is_finite())).collect())
            .collect();
        json!({
            "columns": self.columns,
            "data": data,
            "rows": self.rows,
            "shown": keep.len(),
            "partial": self.partial,
        })
    }

    /// The best value of the validation metric (or the validation loss, or the training loss)
    /// and the epoch it was reached: the largest for scores, the smallest for losses and errors.
    pub fn best(&self) -> Option<(String, f64, f64)> {
        let metric = self
            .columns
            .iter()
            .find(|c| c.starts_with("val_") && *c != "val_loss" && *c != "val_metric")
            .filter(|c| self.column(c).is_some_and(|v| v.iter().any(|x| x.is_some())));
        let name = match metric {
            Some(m) => m.clone(),
            None if self.column("val_loss").is_some_and(|v| v.iter().any(|x| x.is_some())) => "val_loss".into(),
            None => "train_loss".into(),
        };
        let lower = ["loss", "rmse", "mae", "mse", "error"].iter().any(|w| name.contains(w));
        let values = self.column(&name)?;
        let epochs = self.column("epoch");
        let mut best: Option<(f64, f64)> = None;
        for (i, v) in values.iter().enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else { continue };
            let better = best.is_none_or(|(b, _)| if lower { v < b } else { v > b });
            if better {
                let e = epochs.and_then(|e| e[i]).unwrap_or((i + 1) as f64);
                best = Some((v, e));
            }
        }
        best.map(|(v, e)| (name, v, e))
    }
}

/// Reads `dir/name`: a regular file (not a symbolic link) of at most `limit` bytes.
pub fn read_file(dir: &Path, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{name}: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{name}: a symbolic link (not followed)"));
    }
    if !meta.is_file() {
        return Err(format!("{name}: not a regular file"));
    }
    if meta.len() > limit {
        return Err(format!("{name}: {} bytes, more than the {} read", meta.len(), limit));
    }
    std::fs::read(&path).map_err(|e| format!("{name}: {e}"))
}

/// Whether `dir/name` is present as a regular file (not a link).
fn has_file(dir: &Path, name: &str) -> bool {
    std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_file())
}

/// A file's identity for caching and change detection: modification time and length.
fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::symlink_metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// A file's modification time and length.
type Stamp = (SystemTime, u64);

/// The runs under one folder, with parsed metrics tables cached by file stamp.
pub struct RunsDir {
    root: PathBuf,
    tables: Mutex<HashMap<PathBuf, (Stamp, Arc<Table>)>>,
}

impl RunsDir {
    /// The runs under `root` (which must be a folder).
    pub fn new(root: &Path) -> Result<Self, String> {
        let root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
        if !root.is_dir() {
            return Err(format!("{}: not a folder", root.display()));
        }
        Ok(Self {
            root,
            tables: Mutex::new(HashMap::new()),
        })
    }

    /// The folder the runs are under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every run folder: `(id, path)` with the id the path relative to the root joined by `/`
    /// (the root's own name when the root is itself a run folder), sorted by id. Symbolic
    /// links and hidden folders are not followed; a run folder's subfolders are not searched.
    pub fn scan(&self) -> Vec<(String, PathBuf)> {
        if is_run(&self.root) {
            let name = self
                .root
                .file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned());
            return vec![(name, self.root.clone())];
        }
        let mut found = Vec::new();
        let mut stack = vec![(self.root.clone(), String::new(), 0usize)];
        while let Some((dir, prefix, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let name = e.file_name().to_string_lossy().into_owned();
                if !ft.is_dir() || name.starts_with('.') {
                    continue;
                }
                let id = match prefix.is_empty() {
                    true => name.clone(),
                    false => format!("{prefix}/{name}"),
                };
                let path = e.path();
                if is_run(&path) {
                    found.push((id, path));
                } else if depth + 1 < MAX_DEPTH {
                    stack.push((path, id, depth + 1));
                }
            }
        }
        found.sort();
        found
    }

    /// The folder of the run `id`, when it is one of the listed runs.
    pub fn find(&self, id: &str) -> Option<PathBuf> {
        self.scan().into_iter().find(|(i, _)| i == id).map(|(_, p)| p)
    }

    /// The metrics table of the run in `dir`, parsed once per change of the file.
    fn table(&self, dir: &Path) -> Result<Option<Arc<Table>>, String> {
        let path = dir.join(METRICS_FILE);
        let Some(st) = stamp(&path) else {
            return Ok(None);
        };
        if let Some((s, t)) = self.tables.lock().map_err(|_| "a poisoned cache")?.get(&path) {
            if *s == st {
                return Ok(Some(t.clone()));
            }
        }
        let bytes = read_file(dir, METRICS_FILE, MAX_TABLE)?;
        let t = Arc::new(Table::parse(&String::from_utf8_lossy(&bytes)));
        let mut cache = self.tables.lock().map_err(|_| "a poisoned cache")?;
        cache.insert(path, (st, t.clone()));
        Ok(Some(t))
    }

    /// A run's row in the listing: names, state, progress, best and final metrics, times, and
    /// any errors met reading it.
    pub fn summary(&self, id: &str, dir: &Path) -> Value {
        self.describe(id, dir, false)
    }

    /// Everything about a run: the listing's fields plus the configuration, the metrics table,
    /// the final metrics, the confusion matrix and the pictures' names.
    pub fn detail(&self, id: &str, dir: &Path) -> Value {
        self.describe(id, dir, true)
    }

    fn describe(&self, id: &str, dir: &Path, full: bool) -> Value {
        let mut errors: Vec<String> = Vec::new();
        let summary = read_json(dir, "summary.json", &mut errors);
        let status: Option<Status> = read_json(dir, STATUS_FILE, &mut errors).and_then(|v| {
            serde_json::from_value(v)
                .map_err(|e| errors.push(format!("{STATUS_FILE}: {e}")))
                .ok()
        });
        let config = read_config(dir, &mut errors);
        let table = self.table(dir).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        if let Some(e) = table.as_ref().and_then(|t| t.error.clone()) {
            errors.push(e);
        }
        let s = |k: &str| summary.as_ref().and_then(|v| v.get(k)).cloned();
        let c = |k: &str| config.as_ref().and_then(|v| v.get(k)).cloned();
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) => Some(s),
            Some(Value::Object(o)) => o.get("name").and_then(|n| n.as_str()).map(str::to_string),
            _ => None,
        };
        let model = text(s("model")).or_else(|| text(c("model")));
        let data = text(s("data")).or_else(|| text(c("data")));
        let optimizer = text(s("optimizer")).or_else(|| text(c("optimizer")));
        let state = run_state(dir, status.as_ref(), summary.is_some());
        let rows = table.as_ref().map_or(0, |t| t.rows);
        let last_epoch = table
            .as_ref()
            .and_then(|t| t.column("epoch").and_then(|e| e.iter().rev().find_map(|x| *x)))
            .map(|e| e as usize);
        let epoch = status.as_ref().map(|s| s.epoch).max(last_epoch).unwrap_or(0);
        let epochs = status
            .as_ref()
            .map(|s| s.epochs)
            .filter(|e| *e > 0)
            .or_else(|| c("epochs").and_then(|v| v.as_u64()).map(|v| v as usize));
        let seconds = s("seconds").and_then(|v| v.as_f64()).or_else(|| {
            status.as_ref().map(|s| s.updated - s.started).or_else(|| {
                table
                    .as_ref()
                    .and_then(|t| t.column("seconds").map(|v| v.iter().flatten().sum()))
            })
        });
        let best = table
            .as_ref()
            .and_then(|t| t.best())
            .map(|(m, v, e)| json!({"metric": m, "value": v, "epoch": e}));
        let metrics = s("metrics").filter(|m| m.is_object());
        let test = metrics.as_ref().and_then(|m| {
            ["accuracy", "r2", "rmse", "log_loss"].iter().find_map(|k| {
                m.get(*k)
                    .and_then(|v| v.as_f64())
                    .map(|v| json!({"metric": k, "value": v}))
            })
        });
        let stamp_of = |n: &str| {
            stamp(&dir.join(n)).map_or(String::new(), |(t, l)| {
                let ms = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
                format!("{ms}:{l}")
            })
        };
        let stamp = [METRICS_FILE, STATUS_FILE, "summary.json"].map(stamp_of).join("|");
        let mut v = json!({
            "id": id,
            "name": dir.file_name().map(|n| n.to_string_lossy().into_owned()),
            "model": model,
            "data": data,
            "optimizer": optimizer,
            "state": state,
            "epoch": epoch,
            "epochs": epochs,
            "rows": rows,
            "seconds": seconds,
            "started": status.as_ref().map(|s| s.started),
            "updated": status.as_ref().map(|s| s.updated),
            "message": status.as_ref().and_then(|s| s.message.clone()),
            "best": best,
            "test": test,
            "stamp": stamp,
            "errors": errors,
        });
        if full {
            let o = v.as_object_mut().expect("an object");
            o.insert(
                "config".into(),
                config.map_or(Value::Null, |c| Value::Object(flatten(&c))),
            );
            o.insert("metrics".into(), table.map_or(Value::Null, |t| t.to_json(MAX_POINTS)));
            o.insert("final_metrics".into(), metrics.unwrap_or(Value::Null));
            o.insert("confusion".into(), s("confusion").unwrap_or(Value::Null));
            o.insert("summary".into(), summary.unwrap_or(Value::Null));
            o.insert("pictures".into(), json!(pictures(dir)));
        }
        v
    }

    /// The bytes and media type of picture `name` of the run `id`: only a listed run, only a
    /// picture the listing shows (a regular file in the run folder itself, inside the root).
    pub fn picture(&self, id: &str, name: &str) -> Option<(Vec<u8>, &'static str)> {
        self.picture_in(&self.find(id)?, name)
    }

    /// [`Self::picture`] for a run folder `dir` from [`Self::scan`].
    pub fn picture_in(&self, dir: &Path, name: &str) -> Option<(Vec<u8>, &'static str)> {
        if !pictures(dir).iter().any(|p| p == name) {
            return None;
        }
        let real = std::fs::canonicalize(dir.join(name)).ok()?;
        if !real.starts_with(&self.root) {
            return None;
        }
        let bytes = read_file(dir, name, MAX_PICTURE).ok()?;
        Some((bytes, media_type(name)?))
    }
}

/// A picture's media type by its extension.
pub fn media_type(name: &str) -> Option<&'static str> {
    match name.rsplit_once('.')?.1.to_ascii_lowercase().as_str() {
        "png" => Some("image/png"),
        "svg" => Some("image/svg+xml"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        _ => None,
    }
}

/// The pictures in a run folder (regular files, not links), one per name stem: a PNG when
/// there is one, else the SVG or JPEG, sorted.
pub fn pictures(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && media_type(n).is_some())
        .collect();
    names.sort();
    let stem = |n: &str| n.rsplit_once('.').map_or(n.to_string(), |(s, _)| s.to_string());
    let pngs: Vec<String> = names.iter().filter(|n| n.ends_with(".png")).map(|n| stem(n)).collect();
    names.retain(|n| n.ends_with(".png") || !pngs.contains(&stem(n)));
    names
}

/// Whether `dir` holds a run (one of the marker files, as a regular file).
fn is_run(dir: &Path) -> bool {
    MARKERS.iter().any(|m| has_file(dir, m))
}

/// A run's state: its status file's, with a `running` run whose process is gone (or whose
/// status file was lost) read as interrupted; runs written before status files existed are
/// finished when they have a summary.
fn run_state(dir: &Path, status: Option<&Status>, has_summary: bool) -> &'static str {
    match status {
        Some(s) if s.state == State::Running && !crate::run_folder::alive(s.pid as i32) => "interrupted",
        Some(s) => s.state.name(),
        None if has_summary => "finished",
        None => match std::fs::read_to_string(dir.join(".lock"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            Some(pid) if crate::run_folder::alive(pid) => "running",
            // Training that stopped before its summary.
            _ if has_file(dir, METRICS_FILE) || has_file(dir, "checkpoint.json") => "interrupted",
            // A tool's output (lr-find, landscape): complete once its lock is gone.
            _ => "finished",
        },
    }
}

/// Reads a JSON file of the run, noting an error when it is present but unreadable.
fn read_json(dir: &Path, name: &str, errors: &mut Vec<String>) -> Option<Value> {
    if std::fs::symlink_metadata(dir.join(name)).is_err() {
        return None;
    }
    let bytes = read_file(dir, name, MAX_SMALL).map_err(|e| errors.push(e)).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| errors.push(format!("{name}: not valid JSON ({e})")))
        .ok()
        .filter(|v| {
            let ok = v.is_object();
            if !ok {
                errors.push(format!("{name}: not a JSON object"));
            }
            ok
        })
}

/// Reads the run's `config.toml` as JSON.
fn read_config(dir: &Path, errors: &mut Vec<String>) -> Option<Value> {
    let name = "config.toml";
    if std::fs::symlink_metadata(dir.join(name)).is_err() {
        return None;
    }
    let bytes = read_file(dir, name, MAX_SMALL).map_err(|e| errors.push(e)).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| errors.push(format!("{name}: {}", e.message())))
        .ok()?;
    serde_json::to_value(table).ok()
}

/// A configuration as one level of `key` (dotted for nested tables) to its value's text.
fn flatten(v: &Value) -> Map<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let key = match prefix.is_empty() {
                        true => k.clone(),
                        false => format!("{prefix}.{k}"),
                    };
                    walk(&key, x, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), Value::String(s.clone()));
            }
            other => {
                out.insert(prefix.to_string(), Value::String(other.to_string()));
            }
        }
    }
    let mut out = Map::new();
    walk("", v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_last_line_is_skipped_and_a_bad_line_stops_the_table() {
        let t = Table::parse("epoch,train_loss\n1,0.5\n2,0.25\n3,0.1");
        assert_eq!(t.rows, 2);
        assert!(t.partial);
        assert_eq!(t.column("train_loss").unwrap(), &[Some(0.5), Some(0.25)]);
        let t = Table::parse("epoch,train_loss\n1,0.5\n2,zz\n3,0.1\n");
        assert_eq!(t.rows, 1);
        assert!(t.error.as_deref().unwrap().contains("line 3"));
        let t = Table::parse("epoch,train_loss\n1,0.5,9\n");
        assert_eq!(t.rows, 0);
        assert!(t.error.unwrap().contains("3 fields where the header has 2"));
    }

    #[test]
    fn best_is_the_largest_score_or_the_smallest_loss() {
        let t = Table::parse("epoch,train_loss,val_loss,val_accuracy\n1,3,2,0.5\n2,2,1,0.9\n3,1,1.5,0.7\n");
        assert_eq!(t.best(), Some(("val_accuracy".into(), 0.9, 2.0)));
        let t = Table::parse("epoch,train_loss,val_loss,val_rmse\n1,3,2,5\n2,2,1,4\n3,1,1.5,4.5\n");
        assert_eq!(t.best(), Some(("val_rmse".into(), 4.0, 2.0)));
        let t = Table::parse("epoch,train_loss,val_loss,val_metric\n1,3,,\n2,2,,\n");
        assert_eq!(t.best(), Some(("train_loss".into(), 2.0, 2.0)));
    }

    #[test]
    fn thinning_keeps_the_first_and_last_rows() {
        let mut s = String::from("epoch,train_loss\n");
        for i in 1..=10_001 {
            s.push_str(&format!("{i},{}\n", 1.0 / i as f64));
        }
        let t = Table::parse(&s);
        let j = t.to_json(1000);
        let epochs = j["data"][0].as_array().unwrap();
        assert!(epochs.len() <= 1000, "{}", epochs.len());
        assert_eq!(epochs[0], json!(1.0));
        assert_eq!(epochs.last().unwrap(), &json!(10001.0));
        assert_eq!(j["rows"], json!(10_001));
    }
}
