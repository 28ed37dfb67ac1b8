//! LIBSVM / svmlight reader: `label [qid:n] index:value ... [# comment]`, one row per line.
//!
//! Indices must increase within a line. They are one-based unless an index 0 appears anywhere
//! in the file, in which case all are zero-based (as scikit-learn's `zero_based="auto"`).
//! Columns are named by their 0-based position (`f0, f1, ...`).
//! `qid` is read and ignored; labels may be any numbers (several classes, or real values).

use super::csv_reader::numeric_targets;
use super::dataset::{Dataset, Features, Task};
use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Reads a LIBSVM file (see the module docs). `task` as in [`CsvOptions`](super::CsvOptions).
/// The file is memory-mapped and parsed in parallel, one piece per core.
pub fn read_libsvm<T: Scalar>(path: impl AsRef<Path>, task: Option<Task>) -> Result<Dataset<T>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return read_libsvm_from(file, &name, task);
    }
    // SAFETY: the map is only read, and only while this function runs; a file changed by
    // another process meanwhile can give wrong numbers but not unsafety in this parser,
    // which reads bytes and checks every index.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let pieces = super::libsvm_fast::parse_parallel(&map, &name, rayon::current_num_threads())?;
    let nnz: usize = pieces.iter().map(|p| p.indices.len()).sum();
    let rows: usize = pieces.iter().map(|p| p.labels.len()).sum();
    let (mut labels, mut indptr, mut indices, mut values) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows + 1),
        Vec::with_capacity(nnz),
        Vec::with_capacity(nnz),
    );
    indptr.push(0usize);
    let (mut min_index, mut max_index, mut lines) = (u64::MAX, 0u64, 0usize);
    for p in pieces {
        let base = indices.len();
        indptr.extend(p.indptr[1..].iter().map(|&o| o + base));
        labels.extend(p.labels);
        indices.extend(p.indices);
        values.extend(p.values.into_iter().map(T::of));
        min_index = min_index.min(p.min_index);
        max_index = max_index.max(p.max_index);
        lines += p.lines;
    }
    assemble(
        labels, indptr, indices, values, min_index, max_index, lines, &name, task,
    )
}

/// Reads LIBSVM text from any reader; `name` is used in error messages.
pub fn read_libsvm_from<T: Scalar>(reader: impl Read, name: &str, task: Option<Task>) -> Result<Dataset<T>> {
    let perr = |line: usize, column: usize, msg: String| Error::Parse {
        file: name.to_string(),
        line,
        column,
        msg,
    };
    let mut rdr = BufReader::new(reader);
    let (mut indptr, mut indices, mut values) = (vec![0usize], Vec::<u32>::new(), Vec::<T>::new());
    let mut labels = Vec::new();
    let mut line = String::new();
    let (mut lineno, mut min_index, mut max_index) = (0usize, u64::MAX, 0u64);
    loop {
        line.clear();
        let n = rdr.read_line(&mut line).map_err(|e| Error::io(name, e))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let content = line.split('#').next().unwrap_or("");
        let mut tokens = tokens_with_columns(content);
        let Some((col, label)) = tokens.next() else { continue };
        if label.contains(':') {
            return Err(perr(
                lineno,
                col,
                format!("missing target: the line starts with '{label}', expected a label"),
            ));
        }
        if label.parse::<f64>().map_or(true, |v| !v.is_finite()) {
            return Err(perr(lineno, col, format!("expected a numeric label, found '{label}'")));
        }
        labels.push(label.parse::<f64>().unwrap_or(f64::NAN));
        let mut last: Option<u64> = None;
        for (col, tok) in tokens {
            let Some((k, v)) = tok.split_once(':') else {
                return Err(perr(lineno, col, format!("expected index:value, found '{tok}'")));
            };
            if k == "qid" {
                continue;
            }
            let idx: u64 = k.parse().map_err(|_| {
                perr(
                    lineno,
                    col,
                    format!("expected a non-negative integer index, found '{k}'"),
                )
            })?;
            let val: f64 = v
                .parse()
                .map_err(|_| perr(lineno, col + k.len() + 1, format!("expected a number, found '{v}'")))?;
            if !val.is_finite() {
                return Err(perr(
                    lineno,
                    col + k.len() + 1,
                    format!("expected a finite number, found '{v}'"),
                ));
            }
            if let Some(prev) = last.filter(|&p| idx <= p) {
                return Err(perr(
                    lineno,
                    col,
                    format!("indices must increase: {idx} follows {prev}"),
                ));
            }
            if idx > u32::MAX as u64 {
                return Err(perr(lineno, col, format!("index {idx} is too large")));
            }
            last = Some(idx);
            min_index = min_index.min(idx);
            max_index = max_index.max(idx);
            indices.push(idx as u32);
            values.push(T::of(val));
        }
        indptr.push(indices.len());
    }
    assemble(
        labels, indptr, indices, values, min_index, max_index, lineno, name, task,
    )
}

/// Builds the dataset from parsed rows: detects zero- or one-based indices, maps labels.
#[allow(clippy::too_many_arguments)]
fn assemble<T: Scalar>(
    labels: Vec<f64>,
    indptr: Vec<usize>,
    mut indices: Vec<u32>,
    values: Vec<T>,
    min_index: u64,
    max_index: u64,
    lines: usize,
    name: &str,
    task: Option<Task>,
) -> Result<Dataset<T>> {
    let perr = |line: usize, column: usize, msg: String| Error::Parse {
        file: name.to_string(),
        line,
        column,
        msg,
    };
    if labels.is_empty() {
        return Err(perr(lines.max(1), 1, "no data rows".into()));
    }
    let offset = if min_index == 0 || indices.is_empty() { 0 } else { 1 };
    let cols = if indices.is_empty() {
        0
    } else {
        (max_index + 1 - offset) as usize
    };
    if offset == 1 {
        indices.iter_mut().for_each(|i| *i -= 1);
    }
    let rows = labels.len();
    let x = CsrMatrix::new(rows, cols, indptr, indices, values)?;
    let targets = numeric_targets(labels, task);
    Dataset::new(Features::Sparse(x), targets, Vec::new())
}

/// Whitespace-separated tokens with their 1-based columns.
fn tokens_with_columns(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = s;
    let mut offset = 0;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| !c.is_whitespace())?;
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let tok = &tail[..end];
        let col = offset + start + 1;
        offset += start + end;
        rest = &tail[end..];
        Some((col, tok))
    })
}
