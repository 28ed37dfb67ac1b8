//! LIBSVM / svmlight reader: `label [qid:n] index:value ... [# comment]`, one row per line.
//!
//! Indices must increase within a line. They are one-based unless an index 0 appears anywhere
//! in the file, in which case all are zero-based (as scikit-learn's `zero_based="auto"`).
//! Columns are named by their 0-based position (`f0, f1, ...`).
//! `qid` is read and ignored; labels may be any numbers (several classes, or real values).

use super::csv_reader::{fmt_label, numeric_targets};
use super::dataset::{Dataset, Features, Targets, Task};
use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Reads a LIBSVM file (see the module docs). `task` as in [`CsvOptions`](super::CsvOptions).
/// The file is memory-mapped and parsed in parallel, one piece per core.
pub fn read_libsvm<T: Scalar>(path: impl AsRef<Path>, task: Option<Task>) -> Result<Dataset<T>> {
    let path = path.as_ref();
    // A gzipped file (by its magic bytes, whatever its name) streams through the decoder.
    let mut magic = [0u8; 2];
    let gz = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b];
    if gz {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return read_libsvm_from(flate2::read::GzDecoder::new(file), &path.display().to_string(), task);
    }
    let p = read_libsvm_part::<T>(path, 0, 1)?;
    assemble(
        p.labels,
        p.indptr,
        p.indices,
        p.values,
        p.min_index,
        p.max_index,
        p.lines,
        &p.name,
        task,
    )
}

/// The rows of one part of a LIBSVM file, parsed, before the decisions that need the whole
/// file (one- or zero-based indices, the column count, the task and the classes): a
/// data-parallel reader agrees on those across ranks, then calls
/// [`LibsvmPart::into_dataset`].
#[derive(Clone, Debug)]
pub struct LibsvmPart<T: Scalar> {
    /// The label of each row, as a number.
    pub labels: Vec<f64>,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<T>,
    /// The smallest index in the part (`u64::MAX` when it has none).
    pub min_index: u64,
    /// The largest index in the part (0 when it has none).
    pub max_index: u64,
    lines: usize,
    name: String,
}

/// Reads the lines of `path` that start in part `part` of `parts` equal byte ranges (each
/// range moved to the next line start): the rows one rank of a data-parallel job reads, without
/// touching the rest of the file. Errors name the line in the whole file.
pub fn read_libsvm_part<T: Scalar>(path: impl AsRef<Path>, part: usize, parts: usize) -> Result<LibsvmPart<T>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
    if len == 0 || part >= parts {
        return Ok(LibsvmPart::of(super::libsvm_fast::Piece::new(), name));
    }
    // SAFETY: the map is only read, and only while this function runs; a file changed by
    // another process meanwhile can give wrong numbers but not unsafety in this parser,
    // which reads bytes and checks every index.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    // The same cut as a stream's part (see `part_range`), so that both read the same rows.
    let (start, end) = super::stream::part_range(path, part, parts)?;
    let end = (end as usize).min(map.len());
    let start = (start as usize).min(end);
    let before = map[..start].iter().filter(|&&b| b == b'\n').count();
    let pieces = super::libsvm_fast::parse_parallel_after::<T>(
        &map[start..end],
        &name,
        before,
        &super::vw::SparseText::Libsvm,
        rayon::current_num_threads(),
    )?;
    let p = match pieces.is_empty() {
        true => super::libsvm_fast::Piece::new(),
        false => super::libsvm_fast::join_pieces(pieces),
    };
    Ok(LibsvmPart::of(p, name))
}

impl<T: Scalar> LibsvmPart<T> {
    /// The part holding the parsed rows `p` of the file `name`.
    fn of(p: super::libsvm_fast::Piece<T>, name: String) -> Self {
        LibsvmPart {
            labels: p.labels,
            indptr: p.indptr,
            indices: p.indices,
            values: p.values,
            min_index: p.min_index,
            max_index: p.max_index,
            lines: p.lines,
            name,
        }
    }

    /// The dataset of this part, with the file-wide decisions: indices one-based (shifted down),
    /// `cols` columns, and class targets over `classes` (the sorted distinct labels of the whole
    /// file) or, without, real-valued targets.
    pub fn into_dataset(self, one_based: bool, cols: usize, classes: Option<&[f64]>) -> Result<Dataset<T>> {
        let mut indices = self.indices;
        if one_based {
            if indices.contains(&0) {
                return Err(Error::format(&self.name, "index 0 in a file with one-based indices"));
            }
            indices.iter_mut().for_each(|i| *i -= 1);
        }
        let x = CsrMatrix::new(self.labels.len(), cols, self.indptr, indices, self.values)?;
        let targets = match classes {
            None => Targets::Values(self.labels),
            Some(c) => {
                let labels = self
                    .labels
                    .iter()
                    .map(|l| {
                        c.binary_search_by(|d| d.total_cmp(l))
                            .map_err(|_| Error::format(&self.name, format!("label {l} is not among the classes")))
                    })
                    .collect::<Result<Vec<usize>>>()?;
                Targets::Classes {
                    labels,
                    names: c.iter().map(|&v| fmt_label(v)).collect(),
                }
            }
        };
        Dataset::new(Features::Sparse(x), targets, Vec::new())
    }
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
        let n = rdr.read_line(&mut line).map_err(|e| {
            perr(
                lineno + 1,
                1,
                format!("the file cannot be read past line {lineno}: {e}"),
            )
        })?;
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
            // Digits only (no sign), as the file reader accepts them.
            let digits = !k.is_empty() && k.len() <= 19 && k.bytes().all(|b| b.is_ascii_digit());
            let idx: u64 = k.parse().ok().filter(|_| digits).ok_or_else(|| {
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

/// Tokens separated by ASCII whitespace (as the file reader splits them), with their 1-based
/// columns.
fn tokens_with_columns(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = s;
    let mut offset = 0;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| !c.is_ascii_whitespace())?;
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_ascii_whitespace()).unwrap_or(tail.len());
        let tok = &tail[..end];
        let col = offset + start + 1;
        offset += start + end;
        rest = &tail[end..];
        Some((col, tok))
    })
}
