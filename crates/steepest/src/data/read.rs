//! Reading any supported file: the format from the extension, or as told.

use super::csv_reader::{read_csv, CsvOptions};
use super::dataset::Dataset;
use super::idx::read_idx;
use super::libsvm::read_libsvm;
use crate::error::{Error, Result};
use crate::tensor::Scalar;
use std::path::Path;

/// A data-file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or otherwise) separated values.
    Csv,
    /// LIBSVM / svmlight sparse text.
    Libsvm,
    /// IDX (MNIST) images with their labels file.
    Idx,
    /// Vowpal Wabbit's text format (named features in namespaces, hashed).
    Vw,
}

impl Format {
    /// The format a file name implies: `.csv`/`.tsv`/`.txt` (CSV), `.svm`/`.libsvm`/`.svmlight`
    /// (LIBSVM), `-ubyte` or `.idx` (IDX), `.vw` (Vowpal Wabbit); a trailing `.gz` is looked
    /// through.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with("-ubyte") || name.ends_with(".idx") || name.contains("idx3") {
            Some(Format::Idx)
        } else if [".svm", ".libsvm", ".svmlight"].iter().any(|e| name.ends_with(e)) {
            Some(Format::Libsvm)
        } else if name.ends_with(".vw") {
            Some(Format::Vw)
        } else if [".csv", ".tsv", ".txt"].iter().any(|e| name.ends_with(e)) {
            Some(Format::Csv)
        } else {
            None
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(Format::Csv),
            "libsvm" | "svmlight" | "svm" => Ok(Format::Libsvm),
            "idx" | "mnist" => Ok(Format::Idx),
            "vw" => Ok(Format::Vw),
            _ => Err(Error::invalid(
                "format",
                format!("unknown format '{s}' (csv, libsvm, idx, vw)"),
            )),
        }
    }
}

/// Options of [`read_file`].
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Format override.
    pub format: Option<Format>,
    /// CSV options (the task applies to every format).
    pub csv: CsvOptions,
    /// Vowpal Wabbit's format: the namespace crosses to make while reading (pairs of first
    /// letters; see [`super::read_vw_crossed`]). An error for the other formats, which have no
    /// namespaces.
    pub vw_crosses: Vec<(u8, u8)>,
}

/// Reads a data file in the format its name implies (or `opts.format`).
pub fn read_file<T: Scalar>(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Dataset<T>> {
    let path = path.as_ref();
    let format = opts.format.or_else(|| Format::from_path(path)).ok_or_else(|| {
        Error::format(
            path.display().to_string(),
            "unknown file type: name it .csv, .svm or -ubyte, or give the format",
        )
    })?;
    if !opts.vw_crosses.is_empty() && format != Format::Vw {
        return Err(Error::format(
            path.display().to_string(),
            "namespace crosses need Vowpal Wabbit's format (the model crosses namespaces; this file has none)",
        ));
    }
    let data = match format {
        Format::Csv => read_csv(path, &opts.csv)?,
        Format::Libsvm => read_libsvm(path, opts.csv.task)?,
        Format::Idx => read_idx(path, None)?,
        Format::Vw => super::vw::read_vw_crossed(path, opts.csv.task, &opts.vw_crosses)?,
    };
    data.check_finite(&path.display().to_string())?;
    Ok(data)
}
