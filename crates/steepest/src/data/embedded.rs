//! Datasets compiled into the library, so every example runs without a download.
//!
//! * `digits`: 1797 8x8 grey-level handwritten digits (values 0-16), 10 classes. "Optical
//!   Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine Learning
//!   Repository (1998), CC BY 4.0; as distributed with scikit-learn.
//! * `iris`: 150 flowers, 4 measurements, 3 classes. R. A. Fisher (1936), "The use of multiple
//!   measurements in taxonomic problems"; UCI Machine Learning Repository, CC BY 4.0.
//! * `diabetes`: 442 patients, 10 features (mean-centred and scaled as distributed with
//!   scikit-learn), a real target. B. Efron, T. Hastie, I. Johnstone, R. Tibshirani (2004),
//!   "Least Angle Regression", Annals of Statistics.

use super::csv_reader::{read_csv_from, CsvOptions};
use super::dataset::{Dataset, Task};
use crate::error::{Error, Result};
use crate::tensor::Scalar;

const DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
const IRIS: &[u8] = include_bytes!("../../data/iris.csv");
const DIABETES: &[u8] = include_bytes!("../../data/diabetes.csv");

/// Names of the embedded datasets, with their task and a one-line description.
pub const LIST: [(&str, Task, &str); 3] = [
    (
        "digits",
        Task::Classify,
        "1797 handwritten digits, 8x8 pixels (64 features), 10 classes",
    ),
    ("iris", Task::Classify, "150 iris flowers, 4 measurements, 3 species"),
    (
        "diabetes",
        Task::Regress,
        "442 diabetes patients, 10 features, disease progression after one year",
    ),
];

fn opts(task: Task) -> CsvOptions {
    CsvOptions {
        task: Some(task),
        ..CsvOptions::default()
    }
}

/// The digits dataset.
pub fn digits<T: Scalar>() -> Result<Dataset<T>> {
    read_csv_from(
        flate2::read::GzDecoder::new(DIGITS_GZ),
        "embedded digits",
        &opts(Task::Classify),
    )
}

/// The iris dataset.
pub fn iris<T: Scalar>() -> Result<Dataset<T>> {
    read_csv_from(IRIS, "embedded iris", &opts(Task::Classify))
}

/// The diabetes dataset.
pub fn diabetes<T: Scalar>() -> Result<Dataset<T>> {
    read_csv_from(DIABETES, "embedded diabetes", &opts(Task::Regress))
}

/// The embedded dataset called `name`.
pub fn by_name<T: Scalar>(name: &str) -> Result<Dataset<T>> {
    match name {
        "digits" => digits(),
        "iris" => iris(),
        "diabetes" => diabetes(),
        _ => Err(Error::invalid(
            "dataset",
            format!("no embedded dataset '{name}' (digits, iris, diabetes)"),
        )),
    }
}

/// The CSV text of the embedded dataset called `name` (as shipped, header included).
pub fn csv_text(name: &str) -> Result<String> {
    use std::io::Read;
    let mut s = String::new();
    match name {
        "digits" => {
            flate2::read::GzDecoder::new(DIGITS_GZ)
                .read_to_string(&mut s)
                .map_err(|e| Error::io("embedded digits", e))?;
        }
        "iris" => s = String::from_utf8_lossy(IRIS).into_owned(),
        "diabetes" => s = String::from_utf8_lossy(DIABETES).into_owned(),
        _ => {
            return Err(Error::invalid(
                "dataset",
                format!("no embedded dataset '{name}' (digits, iris, diabetes)"),
            ))
        }
    }
    Ok(s)
}
