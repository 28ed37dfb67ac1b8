//! A table as read from a CSV file, before encoding: numeric and text columns, with missing
//! cells kept as missing, and where each row came from.

use super::dataset::Targets;
use crate::error::{Error, Result};
use std::borrow::Cow;

/// One column of a [`Table`].
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing cell.
    Numeric(Vec<f64>),
    /// Text (categories); `None` marks a missing cell.
    Text(Vec<Option<String>>),
}

impl Column {
    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Whether the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether cell `r` is missing.
    pub fn is_missing(&self, r: usize) -> bool {
        match self {
            Column::Numeric(v) => v[r].is_nan(),
            Column::Text(v) => v[r].is_none(),
        }
    }

    /// The cells at `idx`.
    pub fn gather(&self, idx: &[usize]) -> Column {
        match self {
            Column::Numeric(v) => Column::Numeric(idx.iter().map(|&i| v[i]).collect()),
            Column::Text(v) => Column::Text(idx.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    /// The cell at `r` as text (`None` when missing): borrowed from a text column; numbers are
    /// written without a fraction when they are whole.
    pub fn text(&self, r: usize) -> Option<Cow<'_, str>> {
        match self {
            Column::Numeric(v) if v[r].is_nan() => None,
            Column::Numeric(v) => Some(Cow::Owned(super::csv_reader::fmt_label(v[r]))),
            Column::Text(v) => v[r].as_deref().map(Cow::Borrowed),
        }
    }
}

/// A table of feature columns and targets as read from a CSV file, before any encoding
/// (see [`TableEncoder`](super::TableEncoder), which turns it into a [`Dataset`](super::Dataset)).
///
/// ```
/// use steepest::data::{read_table_from, Column, CsvOptions};
/// let t = read_table_from("size,color,price\n1,red,3\n2,,5\n".as_bytes(), "t.csv", &CsvOptions::default())?;
/// assert_eq!(t.names, ["size", "color"]);
/// assert_eq!(t.columns[1], Column::Text(vec![Some("red".into()), None]));
/// assert_eq!(t.lines, [2, 3]);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The file (or stream) the table was read from, for messages.
    pub source: String,
    /// Feature column names, in file order (the target column left out).
    pub names: Vec<String>,
    /// Feature columns, one per name.
    pub columns: Vec<Column>,
    /// The targets, one per row (zeros when the file was read without a target).
    pub targets: Targets,
    /// The name of the target column, when the file has one.
    pub target_name: Option<String>,
    /// The 1-based file line of each row.
    pub lines: Vec<usize>,
    /// Each missing cell as (row, column index, 1-based character position in its line).
    pub missing_cells: Vec<(u32, u32, u32)>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// The index of the column named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Result<Table> {
        if let Some(&bad) = idx.iter().find(|&&i| i >= self.rows()) {
            return Err(Error::invalid(
                "table subset",
                format!("row {bad} out of {}", self.rows()),
            ));
        }
        let columns: Vec<Column> = self.columns.iter().map(|c| c.gather(idx)).collect();
        let lines: Vec<usize> = idx.iter().map(|&i| self.lines[i]).collect();
        let mut new_row = vec![u32::MAX; self.rows()];
        idx.iter().enumerate().for_each(|(k, &i)| new_row[i] = k as u32);
        let mut missing_cells: Vec<(u32, u32, u32)> = self
            .missing_cells
            .iter()
            .filter(|m| new_row[m.0 as usize] != u32::MAX)
            .map(|&(r, c, at)| (new_row[r as usize], c, at))
            .collect();
        missing_cells.sort_unstable();
        Ok(Table {
            source: self.source.clone(),
            names: self.names.clone(),
            columns,
            targets: self.targets.gather(idx),
            target_name: self.target_name.clone(),
            lines,
            missing_cells,
        })
    }

    /// An error at the cell of row `r`, column `c`, as `file:line:column: msg` (the character
    /// position is known for missing cells; 1 otherwise).
    pub(crate) fn error_at(&self, r: usize, c: usize, msg: String) -> Error {
        let at = self
            .missing_cells
            .iter()
            .find(|m| m.0 as usize == r && m.1 as usize == c)
            .map_or(1, |m| m.2 as usize);
        Error::Parse {
            file: self.source.clone(),
            line: self.lines.get(r).copied().unwrap_or(0),
            column: at,
            msg,
        }
    }
}
