//! Output folders: claimed before anything is written, locked while a command writes them.
//!
//! A folder is locked by the file `.lock` holding the writer's process id, created exclusively;
//! a lock whose process is gone (a `kill -9`) is taken over. An existing folder with files in it
//! is refused unless the command resumes it (`--resume`) or replaces it (`--overwrite`: the
//! files a run writes, and stale temporary files, are removed first; other files are left).
//! A filesystem root is never an output folder.

use crate::error::{failed, usage, CliResult};
use std::io::Write;
use std::path::{Path, PathBuf};

const LOCK: &str = ".lock";

/// The files a command writes into an output folder (removed by `--overwrite`).
const RUN_FILES: [&str; 17] = [
    "model.safetensors",
    "model.json",
    "config.toml",
    "metrics.csv",
    "loss.png",
    "loss.svg",
    "confusion.png",
    "confusion.svg",
    "summary.json",
    "status.json",
    "checkpoint.json",
    "lr_find.csv",
    "lr_find.png",
    "lr_find.svg",
    "landscape.png",
    "landscape.svg",
    "landscape.csv",
];

/// A claimed output folder; the lock is released when this is dropped.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path.join(LOCK));
    }
}

/// How a command may use an existing folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Refuse a folder with files in it.
    Refuse,
    /// Continue the run in it.
    Resume,
    /// Remove the previous run's files first.
    Overwrite,
}

/// Whether process `pid` is alive (a zombie, exited but not yet reaped, is not).
pub(crate) fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    let exists = pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM));
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|st| st == "Z"))
        })
        .unwrap_or(false);
    exists && !zombie
}

/// Removes `dir`'s lock when this process holds it (a run stopped by a signal, which exits
/// without unwinding).
pub fn release(dir: &Path) {
    let lock = dir.join(LOCK);
    let mine = std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == std::process::id().to_string());
    if mine {
        let _ = std::fs::remove_file(lock);
    }
}

/// Whether `name` is a temporary file left by an atomic write (`.NAME.tmpPID`, or
/// `.STEM.tmpPID.EXT` for pictures).
fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name.rsplit_once(".tmp").is_some_and(|(_, rest)| {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            let ext = &rest[digits..];
            digits > 0
                && (ext.is_empty() || ext.starts_with('.') && ext[1..].chars().all(|c| c.is_ascii_alphanumeric()))
        })
}

/// Claims `dir` for writing: creates it, locks it, and applies `existing` to what is in it.
pub fn claim(dir: &Path, existing: Existing) -> CliResult<FolderLock> {
    let shown = dir.display();
    if dir.as_os_str().is_empty() {
        return Err(usage("--out: an empty folder name"));
    }
    let absolute = std::path::absolute(dir).map_err(|e| usage(format!("{shown}: {e}")))?;
    if absolute.parent().is_none() {
        return Err(usage(format!(
            "--out {shown}: a filesystem root cannot be an output folder"
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(usage(format!("--out {shown}: exists and is not a folder")));
    }
    std::fs::create_dir_all(dir).map_err(|e| failed(format!("{shown}: {e}")))?;
    let lock_path = dir.join(LOCK);
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                match holder.trim().parse::<i32>() {
                    Ok(pid) if alive(pid) && pid as u32 != std::process::id() => {
                        return Err(usage(format!(
                            "{shown} is being written by process {pid} (its lock file {}); \
                             choose another --out",
                            lock_path.display()
                        )))
                    }
                    // The holder is gone (killed): take the lock over.
                    _ => {
                        let _ = std::fs::remove_file(&lock_path);
                    }
                }
            }
            Err(e) => return Err(failed(format!("{}: {e}", lock_path.display()))),
        }
    }
    let lock = FolderLock {
        path: dir.to_path_buf(),
    };
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| failed(format!("{shown}: {e}")))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LOCK)
        .collect();
    // Temporary files of an interrupted write are never worth keeping.
    for n in entries.iter().filter(|n| is_temporary(n)) {
        let _ = std::fs::remove_file(dir.join(n));
    }
    let files: Vec<&String> = entries.iter().filter(|n| !is_temporary(n)).collect();
    match existing {
        Existing::Resume => {}
        Existing::Refuse if !files.is_empty() => {
            return Err(usage(format!(
                "--out {shown}: the folder exists and holds files ({}); --overwrite replaces its run, \
                 --resume continues it",
                files.iter().take(4).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )))
        }
        Existing::Refuse => {}
        Existing::Overwrite => {
            for n in files.iter().filter(|n| RUN_FILES.contains(&n.as_str())) {
                std::fs::remove_file(dir.join(n)).map_err(|e| failed(format!("{shown}/{n}: {e}")))?;
            }
        }
    }
    Ok(lock)
}
