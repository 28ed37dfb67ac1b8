//! From a [`Table`] to model features: one-hot encoding of categorical columns and imputation
//! of missing cells, fitted on the training rows and stored with the model, as scikit-learn's
//! `OneHotEncoder` and `SimpleImputer` (with `MissingIndicator`) do.

use super::dataset::{Dataset, Features};
use super::table::{Column, Table};
use crate::error::{Error, Result};
use crate::tensor::{huge_page_vec, Scalar, Tensor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// How missing numeric cells are filled (fitted on the training rows).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impute {
    /// The column's mean.
    Mean,
    /// The column's median (the mean of the two middle values for an even count).
    Median,
    /// The column's most frequent value (the smallest among ties, as scikit-learn).
    MostFrequent,
    /// A given value.
    Constant(f64),
}

impl Impute {
    /// Parses `mean`, `median`, `most-frequent` or `constant:VALUE`.
    ///
    /// ```
    /// use steepest::data::Impute;
    /// assert_eq!(Impute::parse("constant:0.5")?, Impute::Constant(0.5));
    /// assert!(Impute::parse("constant:abc").is_err());
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Impute> {
        match s {
            "mean" => Ok(Impute::Mean),
            "median" => Ok(Impute::Median),
            "most-frequent" | "most_frequent" | "mode" => Ok(Impute::MostFrequent),
            _ => match s.strip_prefix("constant:") {
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Impute::Constant(x)),
                    _ => Err(Error::invalid(
                        "impute",
                        format!("constant:{v}: numeric columns need a finite number"),
                    )),
                },
                None => Err(Error::invalid(
                    "impute",
                    format!("unknown strategy '{s}' (mean, median, most-frequent, constant:VALUE)"),
                )),
            },
        }
    }
}

/// How missing cells of categorical columns are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategoricalImpute {
    /// The column's most frequent category.
    MostFrequent,
    /// A category of its own, named `missing`.
    Missing,
}

/// The category a missing cell becomes under [`CategoricalImpute::Missing`].
pub const MISSING_CATEGORY: &str = "missing";

/// What [`TableEncoder::fit`] does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodeOptions {
    /// Columns encoded as categories even when they hold numbers (integer codes). Columns that
    /// hold text are categories anyway.
    pub categorical: Vec<String>,
    /// Columns left out of the features (identifiers, cluster labels).
    pub ignore: Vec<String>,
    /// Leave out each categorical column's first category (the reference level), so that the
    /// one-hot columns and an intercept are not collinear (models without a penalty).
    pub drop_first: bool,
    /// Categories seen in fewer training rows than this are pooled into one column,
    /// `name=infrequent` (0 or 1: no pooling).
    pub min_frequency: usize,
    /// How missing numeric cells are filled; `None`: a missing cell is an error.
    pub impute: Option<Impute>,
    /// How missing categorical cells are filled; `None`: the most frequent category when
    /// `impute` is set, else a missing cell is an error.
    pub impute_categorical: Option<CategoricalImpute>,
    /// Add a 0/1 column `missing(name)` for each column that had missing cells in training.
    pub missing_indicator: bool,
}

/// How one input column becomes model features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ColumnKind {
    /// A number, as it is; missing cells take `fill`.
    Numeric {
        /// The imputed value (present whenever imputation was asked for).
        fill: Option<f64>,
        /// Whether a `missing(name)` column follows.
        indicator: bool,
    },
    /// One 0/1 column per category (`name=category`).
    Categorical {
        /// The categories kept, in order (numeric order when all are numbers, else by text).
        categories: Vec<String>,
        /// Whether the first category has no column (the reference level).
        drop_first: bool,
        /// Rare categories pooled into the column `name=infrequent`.
        infrequent: Vec<String>,
        /// The category a missing cell becomes.
        fill: Option<String>,
        /// Whether a `missing(name)` column follows.
        indicator: bool,
    },
}

/// One input column and its encoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnCode {
    /// The input column's name.
    pub name: String,
    /// How it is encoded.
    #[serde(flatten)]
    pub kind: ColumnKind,
}

/// What a [`TableEncoder::transform`] met that the caller may want to tell: categories not seen
/// in training, and input columns the encoder does not use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodeReport {
    /// (column, category, rows) for each category seen only now.
    pub unseen: Vec<(String, String, usize)>,
    /// Columns of the table that the encoder does not use.
    pub extra: Vec<String>,
    /// Missing cells filled.
    pub imputed: usize,
}

/// A fitted encoding of a table's columns into numeric features: one-hot categorical columns
/// and imputed numbers. Fitted on the training rows and stored with the model, so that
/// prediction encodes a new file the same way, matching columns by name.
///
/// ```
/// use steepest::data::{read_table_from, CsvOptions, EncodeOptions, Impute, TableEncoder};
/// let csv = "size,color,price\n1,red,3\n2,blue,5\n,red,4\n";
/// let t = read_table_from(csv.as_bytes(), "t.csv", &CsvOptions::default())?;
/// let opts = EncodeOptions { impute: Some(Impute::Mean), ..EncodeOptions::default() };
/// let enc = TableEncoder::fit(&t, &opts)?;
/// assert_eq!(enc.output_names(), ["size", "color=blue", "color=red"]);
/// let (d, _) = enc.transform::<f64>(&t)?;
/// assert_eq!(d.features.dense("")?.data(), &[1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.5, 0.0, 1.0]);
/// # Ok::<(), steepest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableEncoder {
    /// The name of the training file's target column, if it had one.
    pub target: Option<String>,
    /// The input columns, in order.
    pub columns: Vec<ColumnCode>,
    /// Columns of the training table left out of the features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// Categories sorted as numbers when all are numbers, else as text.
fn sort_categories(c: &mut [String]) {
    if c.iter().all(|s| s.parse::<f64>().is_ok()) {
        c.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    } else {
        c.sort();
    }
}

fn most_frequent<K: Ord + Clone>(counts: &BTreeMap<K, usize>) -> Option<K> {
    // BTreeMap iterates in key order, so the first of the most frequent is the smallest.
    let best = counts.values().copied().max()?;
    counts.iter().find(|(_, &n)| n == best).map(|(k, _)| k.clone())
}

impl TableEncoder {
    /// Fits the encoding on `table` (the training rows).
    pub fn fit(table: &Table, opts: &EncodeOptions) -> Result<TableEncoder> {
        for (what, names) in [("categorical", &opts.categorical), ("ignore", &opts.ignore)] {
            if let Some(c) = names.iter().find(|c| table.position(c).is_none()) {
                return Err(Error::invalid(
                    what,
                    format!(
                        "{}: no feature column '{c}' (columns: {})",
                        table.source,
                        table.names.join(", ")
                    ),
                ));
            }
        }
        if let Some(c) = opts.categorical.iter().find(|c| opts.ignore.contains(c)) {
            return Err(Error::invalid(
                "categorical",
                format!("column '{c}' is both ignored and categorical"),
            ));
        }
        let mut columns = Vec::with_capacity(table.names.len());
        for (c, (name, col)) in table.names.iter().zip(&table.columns).enumerate() {
            if opts.ignore.contains(name) {
                continue;
            }
            let missing: Vec<usize> = (0..col.len()).filter(|&r| col.is_missing(r)).collect();
            if missing.len() == col.len() {
                return Err(Error::invalid(
                    "data",
                    format!("{}: column '{name}' is entirely empty", table.source),
                ));
            }
            let needs_fill = |what: &str| -> Error {
                table.error_at(
                    missing[0],
                    c,
                    format!("missing value in column '{name}' (fill it with --impute {what})"),
                )
            };
            let categorical = matches!(col, Column::Text(_)) || opts.categorical.contains(name);
            let kind = if categorical {
                let fill = match (missing.is_empty(), opts.impute_categorical, opts.impute) {
                    (_, Some(CategoricalImpute::Missing), _) => Some(MISSING_CATEGORY.to_string()),
                    (true, _, _) => None,
                    (false, Some(CategoricalImpute::MostFrequent), _) | (false, None, Some(_)) => {
                        let mut counts = BTreeMap::new();
                        (0..col.len())
                            .filter_map(|r| col.text(r))
                            .for_each(|v| *counts.entry(v).or_insert(0) += 1);
                        most_frequent(&counts).map(|v| v.into_owned())
                    }
                    (false, None, None) => return Err(needs_fill("most-frequent, or --impute-categorical missing")),
                };
                let mut counts: BTreeMap<Cow<str>, usize> = BTreeMap::new();
                for r in 0..col.len() {
                    if let Some(v) = col.text(r).or_else(|| fill.as_deref().map(Cow::Borrowed)) {
                        *counts.entry(v).or_insert(0) += 1;
                    }
                }
                let (mut categories, mut infrequent): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
                for (v, n) in counts {
                    let v = v.into_owned();
                    if n < opts.min_frequency {
                        infrequent.push(v);
                    } else {
                        categories.push(v);
                    }
                }
                sort_categories(&mut categories);
                sort_categories(&mut infrequent);
                ColumnKind::Categorical {
                    categories,
                    drop_first: opts.drop_first,
                    infrequent,
                    indicator: opts.missing_indicator
                        && !missing.is_empty()
                        && fill.as_deref() != Some(MISSING_CATEGORY),
                    fill,
                }
            } else {
                let Column::Numeric(v) = col else {
                    unreachable!("text columns are categorical")
                };
                let mut present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                let fill = match opts.impute {
                    None if missing.is_empty() => None,
                    None => return Err(needs_fill("mean|median|most-frequent|constant:VALUE")),
                    Some(Impute::Mean) => Some(present.iter().sum::<f64>() / present.len() as f64),
                    Some(Impute::Median) => {
                        present.sort_by(|a, b| a.total_cmp(b));
                        let n = present.len();
                        Some(if n % 2 == 1 {
                            present[n / 2]
                        } else {
                            0.5 * (present[n / 2 - 1] + present[n / 2])
                        })
                    }
                    Some(Impute::MostFrequent) => {
                        // The longest run of equal sorted values; the first (smallest) among ties.
                        present.sort_by(|a, b| a.total_cmp(b));
                        let (mut best, mut best_len, mut i) = (present[0], 0, 0);
                        while i < present.len() {
                            let len = present[i..].iter().take_while(|&&x| x == present[i]).count();
                            if len > best_len {
                                (best, best_len) = (present[i], len);
                            }
                            i += len;
                        }
                        Some(best)
                    }
                    Some(Impute::Constant(x)) => Some(x),
                };
                ColumnKind::Numeric {
                    fill,
                    indicator: opts.missing_indicator && !missing.is_empty(),
                }
            };
            columns.push(ColumnCode {
                name: name.clone(),
                kind,
            });
        }
        Ok(TableEncoder {
            target: table.target_name.clone(),
            columns,
            ignored: opts.ignore.clone(),
        })
    }

    /// Whether the encoding leaves every column as it is (all numeric, none ignored, nothing to
    /// impute).
    pub fn is_identity(&self) -> bool {
        self.ignored.is_empty()
            && self.columns.iter().all(|c| {
                matches!(
                    c.kind,
                    ColumnKind::Numeric {
                        fill: None,
                        indicator: false
                    }
                )
            })
    }

    /// The names of the columns that must be read as categories.
    pub fn categorical_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnKind::Categorical { .. }))
            .map(|c| c.name.clone())
            .collect()
    }

    /// The names of the output features: `name` for a number, `name=category` per one-hot
    /// column, `name=infrequent` for pooled categories, `missing(name)` for an indicator.
    pub fn output_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            match &c.kind {
                ColumnKind::Numeric { indicator, .. } => {
                    out.push(c.name.clone());
                    if *indicator {
                        out.push(format!("missing({})", c.name));
                    }
                }
                ColumnKind::Categorical {
                    categories,
                    drop_first,
                    infrequent,
                    indicator,
                    ..
                } => {
                    let kept = categories.iter().skip(usize::from(*drop_first));
                    out.extend(kept.map(|k| format!("{}={k}", c.name)));
                    if !infrequent.is_empty() {
                        out.push(format!("{}=infrequent", c.name));
                    }
                    if *indicator {
                        out.push(format!("missing({})", c.name));
                    }
                }
            }
        }
        out
    }

    /// Encodes `table` (columns matched by name; others are reported in
    /// [`EncodeReport::extra`]). A missing column, text in a numeric column, a missing cell
    /// without a fill, or (with `drop_first`) a category not seen in training is an error
    /// naming it; other unseen categories encode as all zeros (or as `infrequent` when rare
    /// categories were pooled) and are counted in the report.
    pub fn transform<T: Scalar>(&self, table: &Table) -> Result<(Dataset<T>, EncodeReport)> {
        let names = self.output_names();
        let (rows, width) = (table.rows(), names.len());
        // The rows are read in shuffled order every epoch: on huge pages when the set is large.
        let mut x = huge_page_vec(rows * width);
        x.resize(rows * width, T::zero());
        let mut report = EncodeReport::default();
        let mut unseen: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut start = 0;
        for code in &self.columns {
            let c = table.position(&code.name).ok_or_else(|| {
                Error::invalid(
                    "data",
                    format!(
                        "{}: no column '{}', which the model takes (columns: {})",
                        table.source,
                        code.name,
                        table.names.join(", ")
                    ),
                )
            })?;
            let col = &table.columns[c];
            let missing_error = |r: usize| {
                table.error_at(
                    r,
                    c,
                    format!(
                        "missing value in column '{}', which the model was trained without imputing",
                        code.name
                    ),
                )
            };
            match &code.kind {
                ColumnKind::Numeric { fill, indicator } => {
                    let Column::Numeric(v) = col else {
                        let r = (0..rows).find(|&r| col.text(r).is_some_and(|s| s.parse::<f64>().is_err()));
                        let r = r.unwrap_or(0);
                        return Err(table.error_at(
                            r,
                            c,
                            format!(
                                "expected a number in column '{}', found '{}'",
                                code.name,
                                col.text(r).unwrap_or_default()
                            ),
                        ));
                    };
                    for (r, &value) in v.iter().enumerate() {
                        let value = match (value.is_nan(), fill) {
                            (false, _) => value,
                            (true, Some(f)) => {
                                report.imputed += 1;
                                if *indicator {
                                    x[r * width + start + 1] = T::one();
                                }
                                *f
                            }
                            (true, None) => return Err(missing_error(r)),
                        };
                        x[r * width + start] = T::of(value);
                    }
                    start += 1 + usize::from(*indicator);
                }
                ColumnKind::Categorical {
                    categories,
                    drop_first,
                    infrequent,
                    fill,
                    indicator,
                } => {
                    let skip = usize::from(*drop_first);
                    let kept = categories.len() - skip.min(categories.len());
                    let pooled = (!infrequent.is_empty()).then_some(start + kept);
                    let ind_at = start + kept + usize::from(pooled.is_some());
                    let index: BTreeMap<&str, usize> =
                        categories.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
                    for r in 0..rows {
                        let value = match (col.text(r), fill) {
                            (Some(v), _) => v,
                            (None, Some(f)) => {
                                report.imputed += 1;
                                if *indicator {
                                    x[r * width + ind_at] = T::one();
                                }
                                Cow::Borrowed(f.as_str())
                            }
                            (None, None) => return Err(missing_error(r)),
                        };
                        match index.get(value.as_ref()) {
                            Some(&i) if i >= skip => x[r * width + start + i - skip] = T::one(),
                            Some(_) => {} // the reference level: all zeros
                            None => {
                                if let Some(p) = pooled {
                                    x[r * width + p] = T::one();
                                    if infrequent.iter().any(|v| *v == value) {
                                        continue;
                                    }
                                } else if *drop_first {
                                    return Err(table.error_at(
                                        r,
                                        c,
                                        format!(
                                            "category '{value}' of column '{}' was not seen in training; \
                                             with the first category dropped, all zeros would mean '{}'",
                                            code.name,
                                            categories.first().map_or("", |s| s.as_str())
                                        ),
                                    ));
                                }
                                *unseen.entry((code.name.clone(), value.into_owned())).or_insert(0) += 1;
                            }
                        }
                    }
                    start = ind_at + usize::from(*indicator);
                }
            }
        }
        report.unseen = unseen.into_iter().map(|((c, v), n)| (c, v, n)).collect();
        report.extra = table
            .names
            .iter()
            .filter(|n| !self.columns.iter().any(|c| &c.name == *n))
            .cloned()
            .collect();
        let x = Tensor::new(x, &[rows, width])?;
        let d = Dataset::new(Features::Dense(x), table.targets.clone(), names)?;
        Ok((d, report))
    }
}

impl EncodeReport {
    /// One line per thing worth telling about encoding `file` (unseen categories).
    pub fn notes(&self, file: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unseen.is_empty() {
            let rows: usize = self.unseen.iter().map(|u| u.2).sum();
            let list: Vec<String> = self
                .unseen
                .iter()
                .take(10)
                .map(|(c, v, n)| format!("{c}={v} ({n})"))
                .collect();
            out.push(format!(
                "{file}: {rows} {} with a category not seen in training, encoded as all zeros \
                 (as infrequent where rare categories were pooled): {}{}",
                if rows == 1 { "cell" } else { "cells" },
                list.join(", "),
                if self.unseen.len() > 10 { ", ..." } else { "" }
            ));
        }
        out
    }
}
