//! CSV reader: delimiter and header detection, target column by name or index (the last by
//! default), string class labels, missing values.

use super::dataset::{Dataset, Targets, Task};
use super::encode::{EncodeOptions, Impute, TableEncoder};
use super::table::{Column, Table};
use crate::error::{Error, Result};
use crate::tensor::Scalar;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

/// What to do with a missing value (an empty field, `NA`, `NaN`, `null` or `?`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    /// Report it as an error at its line and column (the default).
    #[default]
    Error,
    /// Replace it by the mean of its column over the rows that have a value (text columns:
    /// by their most frequent value).
    Mean,
}

/// Options of [`read_csv`]; every field has a sensible default.
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    /// Field delimiter; detected from the first line when `None` (`,` `;` tab `|`).
    pub delimiter: Option<u8>,
    /// Whether the first line is a header; detected when `None`: it is when one of its fields
    /// is not a number where the second line has a number.
    pub has_header: Option<bool>,
    /// Target column: a header name, or a 0-based index (negative counts from the end).
    /// The last column by default.
    pub target: Option<String>,
    /// Classification or regression; inferred when `None`: classification when a label is not
    /// a number, or when all labels are integers with at most 50 distinct values.
    pub task: Option<Task>,
    /// Missing-value policy (of [`read_csv`]; a [`Table`] keeps missing cells).
    pub missing: Missing,
    /// How [`read_csv`] encodes the table (categorical columns, imputation); its
    /// `categorical` columns are read as text by [`read_table`] too.
    pub encode: EncodeOptions,
    /// Every column is a feature (data to predict on); the targets are left empty (zeros).
    pub no_target: bool,
}

const MISSING: [&str; 6] = ["", "na", "nan", "null", "?", "n/a"];

fn is_missing(s: &str) -> bool {
    MISSING.iter().any(|m| s.eq_ignore_ascii_case(m))
}

fn is_number(s: &str) -> bool {
    let s = s.trim();
    !is_missing(s) && s.parse::<f64>().is_ok()
}

/// The file at `path` for reading, decompressed when it starts with gzip's magic bytes.
fn open_text(path: &Path) -> Result<Box<dyn Read>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = BufReader::new(file);
    let gz = buf
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(match gz {
        true => Box::new(flate2::read::GzDecoder::new(buf)),
        false => Box::new(buf),
    })
}

/// Reads a CSV file into a dataset (see [`CsvOptions`]).
pub fn read_csv<T: Scalar>(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Dataset<T>> {
    let path = path.as_ref();
    read_csv_from(open_text(path)?, &path.display().to_string(), opts)
}

/// Reads CSV text from any reader; `name` is used in error messages. Text columns become
/// one-hot columns and missing values are imputed as [`CsvOptions::missing`] says, fitted on
/// every row of the file (see [`TableEncoder`] to fit on training rows only).
pub fn read_csv_from<T: Scalar>(reader: impl Read, name: &str, opts: &CsvOptions) -> Result<Dataset<T>> {
    let table = read_table_from(reader, name, opts)?;
    let mut enc = opts.encode.clone();
    if opts.missing == Missing::Mean && enc.impute.is_none() {
        enc.impute = Some(Impute::Mean);
    }
    TableEncoder::fit(&table, &enc)?.transform(&table).map(|(d, _)| d)
}

/// Reads a CSV file into a [`Table`] (columns kept as numbers or text, missing cells kept).
pub fn read_table(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Table> {
    let path = path.as_ref();
    read_table_from(open_text(path)?, &path.display().to_string(), opts)
}

/// A column being read: numbers until a field is not one (then text, unless most fields are
/// numbers, which is an error at the first that is not).
struct Reading {
    column: Column,
    numbers: usize,
    texts: usize,
    /// Line, character position and text of the first field that is not a number.
    first_text: Option<(usize, usize, String)>,
    named: bool,
}

impl Reading {
    fn push(&mut self, s: &str, at: (usize, usize)) -> std::result::Result<(), String> {
        if is_missing(s) {
            match &mut self.column {
                Column::Numeric(v) => v.push(f64::NAN),
                Column::Text(v) => v.push(None),
            }
            return Ok(());
        }
        let number = s.parse::<f64>().ok();
        if let Some(v) = number {
            if !v.is_finite() {
                return Err(format!("expected a finite number, found '{s}'"));
            }
            self.numbers += 1;
        } else {
            self.texts += 1;
            if self.first_text.is_none() {
                self.first_text = Some((at.0, at.1, s.to_string()));
            }
        }
        match (&mut self.column, number) {
            (Column::Numeric(v), Some(x)) if !self.named => v.push(x),
            // Numbers among categories are written one way ("1.0" and "1" are one category).
            (Column::Text(v), Some(x)) => v.push(Some(fmt_label(x))),
            (Column::Text(v), None) => v.push(Some(s.to_string())),
            (Column::Numeric(v), _) => {
                let mut text: Vec<Option<String>> = v.iter().map(|&x| (!x.is_nan()).then(|| fmt_label(x))).collect();
                text.push(Some(s.to_string()));
                self.column = Column::Text(text);
            }
        }
        Ok(())
    }
}

/// Reads CSV text from any reader into a [`Table`]; `name` is used in error messages.
pub fn read_table_from(reader: impl Read, name: &str, opts: &CsvOptions) -> Result<Table> {
    let perr = |line: u64, column: usize, msg: String| Error::Parse {
        file: name.to_string(),
        line: line as usize,
        column,
        msg,
    };
    let mut buf = BufReader::new(reader);
    // Peek at the first two lines for the delimiter and the header, then read them again.
    let mut head = Vec::new();
    for _ in 0..2 {
        buf.read_until(b'\n', &mut head).map_err(|e| Error::io(name, e))?;
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(first_line));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(Cursor::new(head).chain(buf));
    let mut records = rdr.byte_records();
    // The line of the last record read, for errors that carry no position (a truncated or
    // corrupt compressed file fails while reading the next line).
    let last_line = std::cell::Cell::new(0u64);
    let next = |records: &mut csv::ByteRecordsIter<_>| -> Result<Option<csv::ByteRecord>> {
        loop {
            match records.next() {
                None => return Ok(None),
                Some(Err(e)) => {
                    return Err(match e.position() {
                        Some(p) => perr(p.line(), 1, format!("unreadable CSV: {e}")),
                        None => perr(
                            last_line.get() + 1,
                            1,
                            format!("the file cannot be read past line {}: {e}", last_line.get()),
                        ),
                    });
                }
                Some(Ok(r)) if r.len() == 1 && r[0].iter().all(u8::is_ascii_whitespace) => continue,
                Some(Ok(r)) => {
                    last_line.set(r.position().map_or(last_line.get() + 1, |p| p.line()));
                    return Ok(Some(r));
                }
            }
        }
    };
    let text = |r: &csv::ByteRecord, i: usize, line: u64| -> Result<String> {
        String::from_utf8(r[i].to_vec()).map_err(|_| perr(line, column_of(r, i), "field is not valid UTF-8".into()))
    };
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());

    let Some(first) = next(&mut records)? else {
        return Err(perr(1, 1, "empty file: expected a header or a data row".into()));
    };
    let second = next(&mut records)?;
    let first_txt: Vec<String> = (0..first.len())
        .map(|i| text(&first, i, line_of(&first)))
        .collect::<Result<_>>()?;
    let header = opts.has_header.unwrap_or_else(|| match &second {
        Some(s) => first_txt
            .iter()
            .enumerate()
            .any(|(i, f)| !is_number(f) && i < s.len() && is_number(&String::from_utf8_lossy(&s[i]))),
        None => first_txt.iter().any(|f| !is_number(f)),
    });
    let width = first.len();
    // Each column costs its name, its cells' vector and its reading state before any row.
    crate::memory::ensure(&format!("{name}: a table of {width} columns"), width as u128 * 256, "")?;
    if width < 2 && !opts.no_target {
        return Err(perr(
            line_of(&first),
            1,
            format!(
                "expected at least 2 columns (features and a target), found {width} (delimiter '{}')",
                delimiter as char
            ),
        ));
    }
    let names: Vec<String> = if header {
        first_txt.iter().map(|s| s.trim().to_string()).collect()
    } else {
        (0..width).map(|i| format!("x{i}")).collect()
    };
    let target = if opts.no_target {
        usize::MAX
    } else {
        resolve_target(opts.target.as_deref(), &names, header, width).map_err(|msg| perr(line_of(&first), 1, msg))?
    };
    if let Some(c) = opts
        .encode
        .categorical
        .iter()
        .find(|c| names.iter().position(|n| n == *c) == Some(target))
    {
        return Err(perr(
            line_of(&first),
            1,
            format!("'{c}' is the target column; name feature columns as categorical"),
        ));
    }
    let mut cols: Vec<Reading> = (0..width)
        .filter(|&i| i != target)
        .map(|i| {
            let named = opts.encode.categorical.contains(&names[i]);
            Reading {
                column: if named {
                    Column::Text(Vec::new())
                } else {
                    Column::Numeric(Vec::new())
                },
                numbers: 0,
                texts: 0,
                first_text: None,
                named,
            }
        })
        .collect();
    let mut raw_targets: Vec<String> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    let mut missing_cells: Vec<(u32, u32, u32)> = Vec::new();
    let mut handle = |r: &csv::ByteRecord| -> Result<()> {
        let line = line_of(r);
        if r.len() != width {
            return Err(perr(
                line,
                column_of(r, r.len().min(width).saturating_sub(1)),
                format!("expected {width} fields, found {}", r.len()),
            ));
        }
        let mut c = 0;
        for i in 0..width {
            let s = std::str::from_utf8(&r[i])
                .map_err(|_| perr(line, column_of(r, i), "field is not valid UTF-8".into()))?;
            let s = s.trim();
            if i == target {
                if is_missing(s) {
                    return Err(perr(
                        line,
                        column_of(r, i),
                        format!("missing target in column '{}'", names[i]),
                    ));
                }
                raw_targets.push(s.to_string());
                continue;
            }
            if is_missing(s) {
                missing_cells.push((lines.len() as u32, c as u32, column_of(r, i) as u32));
            }
            cols[c]
                .push(s, (line as usize, column_of(r, i)))
                .map_err(|msg| perr(line, column_of(r, i), format!("{msg} in column '{}'", names[i])))?;
            c += 1;
        }
        lines.push(line as usize);
        Ok(())
    };
    if !header {
        handle(&first)?;
    }
    if let Some(s) = &second {
        handle(s)?;
    }
    while let Some(r) = next(&mut records)? {
        handle(&r)?;
    }
    let rows = lines.len();
    if rows == 0 {
        return Err(perr(
            line_of(&first) + 1,
            1,
            "expected at least one data row after the header".into(),
        ));
    }
    let feature_names: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != target)
        .map(|(_, n)| n.clone())
        .collect();
    // A column of numbers with a few stray words is a typo, not a set of categories.
    for (c, n) in cols.iter().zip(&feature_names) {
        if let (false, Some((line, at, s))) = (c.named, &c.first_text) {
            if c.numbers >= 9 * c.texts {
                return Err(perr(
                    *line as u64,
                    *at,
                    format!(
                        "expected a number in column '{n}', found '{s}' ({} of its {} values are numbers; \
                         --categorical {n} reads it as categories)",
                        c.numbers,
                        c.numbers + c.texts
                    ),
                ));
            }
        }
    }
    let targets = if opts.no_target {
        Targets::Values(vec![0.0; rows])
    } else {
        build_targets(raw_targets, opts.task).map_err(|msg| perr(0, 0, msg))?
    };
    Ok(Table {
        source: name.to_string(),
        names: feature_names,
        columns: cols.into_iter().map(|c| c.column).collect(),
        targets,
        target_name: (!opts.no_target).then(|| names[target].clone()),
        lines,
        missing_cells,
    })
}

/// The 1-based column where field `i` starts (exact for unquoted fields).
fn column_of(r: &csv::ByteRecord, i: usize) -> usize {
    1 + (0..i.min(r.len())).map(|j| r[j].len() + 1).sum::<usize>()
}

fn sniff_delimiter(line: &[u8]) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| line.iter().filter(|b| *b == d).count())
        .filter(|d| line.contains(d))
        .unwrap_or(b',')
}

fn resolve_target(
    target: Option<&str>,
    names: &[String],
    header: bool,
    width: usize,
) -> std::result::Result<usize, String> {
    let Some(t) = target else { return Ok(width - 1) };
    if let Ok(i) = t.parse::<i64>() {
        let idx = if i < 0 { width as i64 + i } else { i };
        return if (0..width as i64).contains(&idx) {
            Ok(idx as usize)
        } else {
            Err(format!("target column {i} is out of range for {width} columns"))
        };
    }
    match names.iter().position(|n| n == t) {
        Some(i) => Ok(i),
        None if !header => Err(format!("target column '{t}' named, but the file has no header")),
        None => Err(format!("no column named '{t}' (columns: {})", names.join(", "))),
    }
}

/// Class labels (sorted numerically when all are numbers, else as text) or real values.
pub(crate) fn build_targets(raw: Vec<String>, task: Option<Task>) -> std::result::Result<Targets, String> {
    let numeric: Option<Vec<f64>> = raw
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect();
    match numeric {
        Some(v) => Ok(numeric_targets(v, task)),
        None if task == Some(Task::Regress) => {
            let bad = raw
                .iter()
                .find(|s| s.parse::<f64>().map_or(true, |v| !v.is_finite()))
                .cloned()
                .unwrap_or_default();
            Err(format!("regression needs numeric targets, found '{bad}'"))
        }
        None => {
            let names: Vec<String> = raw.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
            let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
            let labels = raw.iter().map(|s| index[s.as_str()]).collect();
            Ok(Targets::Classes { labels, names })
        }
    }
}

/// Targets from finite numbers: classes (sorted numerically, named without a fraction when
/// integer) or values. Inferred task: classification when every label is an integer and there
/// are at most 50 distinct ones.
pub(crate) fn numeric_targets(v: Vec<f64>, task: Option<Task>) -> Targets {
    let mut distinct = v.clone();
    distinct.sort_by(|a, b| a.total_cmp(b));
    distinct.dedup();
    let task = task.unwrap_or(if v.iter().all(|x| x.fract() == 0.0) && distinct.len() <= 50 {
        Task::Classify
    } else {
        Task::Regress
    });
    match task {
        Task::Regress => Targets::Values(v),
        Task::Classify => {
            let labels = v
                .iter()
                .map(|x| distinct.binary_search_by(|d| d.total_cmp(x)).unwrap_or(0))
                .collect();
            Targets::Classes {
                labels,
                names: distinct.iter().map(|&x| fmt_label(x)).collect(),
            }
        }
    }
}

/// A numeric label as text: integers without a fraction ("3", not "3.0").
pub(crate) fn fmt_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
