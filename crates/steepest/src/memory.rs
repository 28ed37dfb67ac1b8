//! The memory budget: sizes are checked against it before large allocations (a model's
//! parameters and optimizer state, a table's columns), so that a request the machine cannot
//! hold is one clear error instead of an abort or a swap storm.
//!
//! The budget is [`set_limit`]'s value when set (the CLI's `--max-memory`), else the memory
//! the operating system reports available (`MemAvailable` in `/proc/meminfo`), else unbounded.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};

static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Sets the budget in bytes (0: the machine's available memory).
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The budget in bytes, and whether it was set (rather than read off the machine).
pub fn budget() -> (u64, bool) {
    match LIMIT.load(Ordering::Relaxed) {
        0 => (available().unwrap_or(u64::MAX), false),
        n => (n, true),
    }
}

/// The memory the operating system reports available, in bytes.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// A byte count for people: `1.5 GiB`.
///
/// ```
/// assert_eq!(steepest::memory::human(3 << 30), "3.0 GiB");
/// ```
pub fn human(bytes: u128) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Parses a size: a number of bytes with an optional unit K, M, G or T (powers of 1024).
///
/// ```
/// assert_eq!(steepest::memory::parse_size("512M")?, 512 << 20);
/// assert!(steepest::memory::parse_size("lots").is_err());
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, shift) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        Some('T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let v: f64 = num.trim().parse().map_err(|_| {
        Error::invalid(
            "memory size",
            format!("'{s}': expected a number of bytes with K, M, G or T"),
        )
    })?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(Error::invalid("memory size", format!("'{s}' must be positive")));
    }
    Ok((v * (1u64 << shift) as f64) as u64)
}

/// Checks that `bytes` fit the budget; the error says what was asked (`what`), how much it
/// needs, what the budget is, and `hint` when given.
pub fn ensure(what: &str, bytes: u128, hint: &str) -> Result<()> {
    let (limit, set) = budget();
    if bytes <= limit as u128 {
        return Ok(());
    }
    Err(Error::invalid(
        "memory",
        format!(
            "{what} needs about {}, more than the {} {}{}{hint}",
            human(bytes),
            human(limit as u128),
            if set {
                "the memory limit allows"
            } else {
                "this machine has available"
            },
            if set { "" } else { " (--max-memory sets the limit)" },
        ),
    ))
}
