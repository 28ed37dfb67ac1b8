//! IDX reader (the MNIST format), gzip-compressed or not.
//!
//! Layout: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
//! 0x0E f64), the number of dimensions, each dimension as a big-endian u32, then the values
//! big-endian in row-major order.

use super::dataset::{Dataset, Features};
use crate::error::{Error, Result};
use crate::tensor::{huge_page_vec, Scalar, Tensor};
use std::io::Read;
use std::path::{Path, PathBuf};

fn read_all(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    gunzip(raw, &path.display().to_string())
}

/// `raw` decompressed when it is a gzip stream (by its magic bytes), else as it is.
pub(crate) fn gunzip(raw: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::format(name, format!("bad gzip stream: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Decodes IDX bytes into a tensor; `name` is used in error messages (byte offsets are given
/// as columns of line 1).
pub fn read_idx_tensor<T: Scalar>(bytes: &[u8], name: &str) -> Result<Tensor<T>> {
    let perr = |at: usize, msg: String| Error::Parse {
        file: name.to_string(),
        line: 1,
        column: at + 1,
        msg,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(perr(
            0,
            "wrong magic number: expected an IDX file (00 00 type ndim)".into(),
        ));
    }
    let (ty, nd) = (bytes[2], bytes[3] as usize);
    let width = match ty {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        _ => return Err(perr(2, format!("wrong magic number: unknown IDX type 0x{ty:02x}"))),
    };
    if nd == 0 {
        return Err(perr(3, "IDX file with zero dimensions".into()));
    }
    let header = 4 + 4 * nd;
    if bytes.len() < header {
        return Err(perr(
            bytes.len(),
            format!(
                "truncated header: {nd} dimensions need {header} bytes, file has {}",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..nd)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().expect("4 bytes")) as usize)
        .collect();
    let need = dims
        .iter()
        .try_fold(width, |acc: usize, &d| acc.checked_mul(d))
        .and_then(|b| b.checked_add(header))
        .ok_or_else(|| perr(4, format!("shape {dims:?} is too large")))?;
    if bytes.len() < need {
        return Err(perr(
            bytes.len(),
            format!(
                "truncated data: shape {dims:?} needs {need} bytes, file has {}",
                bytes.len()
            ),
        ));
    }
    let body = &bytes[header..need];
    // A set of images is read row by row in shuffled order: on huge pages when it is large.
    let mut data: Vec<T> = huge_page_vec((need - header) / width);
    match ty {
        0x08 => data.extend(body.iter().map(|&b| T::of(b as f64))),
        0x09 => data.extend(body.iter().map(|&b| T::of(b as i8 as f64))),
        0x0B => data.extend(
            body.chunks_exact(2)
                .map(|c| T::of(i16::from_be_bytes([c[0], c[1]]) as f64)),
        ),
        0x0C => data.extend(
            body.chunks_exact(4)
                .map(|c| T::of(i32::from_be_bytes(c.try_into().expect("4")) as f64)),
        ),
        0x0D => data.extend(
            body.chunks_exact(4)
                .map(|c| T::of(f32::from_be_bytes(c.try_into().expect("4")) as f64)),
        ),
        _ => data.extend(
            body.chunks_exact(8)
                .map(|c| T::of(f64::from_be_bytes(c.try_into().expect("8")))),
        ),
    }
    Tensor::new(data, &dims)
}

/// The labels file that goes with an images file: `...-images-idx3-ubyte[.gz]` ->
/// `...-labels-idx1-ubyte[.gz]` (the MNIST naming).
pub(crate) fn labels_path_for(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let swapped = name.replace("images", "labels").replace("idx3", "idx1");
    (swapped != name).then(|| images.with_file_name(swapped))
}

/// Reads an IDX images file and its labels file into a classification dataset (each image
/// flattened into one row). `labels` defaults to the MNIST naming of the images file.
pub fn read_idx<T: Scalar>(images: impl AsRef<Path>, labels: Option<&Path>) -> Result<Dataset<T>> {
    let images = images.as_ref();
    let labels = match labels {
        Some(l) => l.to_path_buf(),
        None => labels_path_for(images).ok_or_else(|| {
            Error::format(
                images.display().to_string(),
                "cannot tell the labels file from this name; name it explicitly",
            )
        })?,
    };
    idx_dataset(
        (&read_all(images)?, &images.display().to_string()),
        (&read_all(&labels)?, &labels.display().to_string()),
    )
}

/// A classification dataset from the bytes of an IDX images file and of its labels file (each
/// with its name for messages).
pub(crate) fn idx_dataset<T: Scalar>(images: (&[u8], &str), labels: (&[u8], &str)) -> Result<Dataset<T>> {
    let x: Tensor<T> = read_idx_tensor(images.0, images.1)?;
    let y: Tensor<f64> = read_idx_tensor(labels.0, labels.1)?;
    let rows = x.shape()[0];
    if y.len() != rows {
        return Err(Error::format(labels.1, format!("{} labels for {rows} images", y.len())));
    }
    let x_shape = x.shape().to_vec();
    let x = x.reshape(&[rows, x.len() / rows.max(1)])?;
    let targets = super::csv_reader::numeric_targets(y.data().to_vec(), Some(super::Task::Classify));
    let names = (0..x.row_len()).map(|i| format!("pixel{i}")).collect();
    let example: Vec<usize> = dims_after_first(&x_shape);
    Dataset::new(Features::Dense(x), targets, names)?.with_example_shape(&example)
}

/// The shape of one example of an IDX array: `[1, h, w]` for images `[n, h, w]` (one channel),
/// the trailing dimensions otherwise.
fn dims_after_first(shape: &[usize]) -> Vec<usize> {
    match shape.len() {
        3 => vec![1, shape[1], shape[2]],
        1 => vec![1],
        _ => shape[1..].to_vec(),
    }
}

/// The IDX images file of split `prefixes` (MNIST names: `train-images-idx3-ubyte`,
/// `t10k-images-idx3-ubyte` or `test-...`, gzipped or not) in `dir`, if there is one.
fn find_images(dir: &Path, prefixes: &[&str]) -> Option<PathBuf> {
    prefixes.iter().find_map(|p| {
        ["", ".gz"]
            .iter()
            .map(|ext| dir.join(format!("{p}-images-idx3-ubyte{ext}")))
            .find(|f| f.is_file())
    })
}

/// Reads a folder holding an IDX pair per split, named as MNIST's files (`train-images-idx3-ubyte`
/// with `train-labels-idx1-ubyte`; the test split `t10k-...` or `test-...`; each gzipped or
/// not): the training set and, when present, the test set, as images of shape `[1, h, w]`.
///
/// ```no_run
/// let (train, test) = steepest::data::read_idx_dir::<f32>("data/mnist")?;
/// assert_eq!(train.example_shape, [1, 28, 28]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn read_idx_dir<T: Scalar>(dir: impl AsRef<Path>) -> Result<(Dataset<T>, Option<Dataset<T>>)> {
    let dir = dir.as_ref();
    let train = find_images(dir, &["train"]).ok_or_else(|| {
        Error::format(
            dir.display().to_string(),
            "no train-images-idx3-ubyte[.gz] in this folder (expected an IDX pair per split, named as MNIST's files)",
        )
    })?;
    let train = read_idx::<T>(&train, None)?;
    let test = find_images(dir, &["t10k", "test"])
        .map(|f| read_idx::<T>(&f, None))
        .transpose()?;
    if let Some(t) = &test {
        if t.example_shape != train.example_shape {
            return Err(Error::format(
                dir.display().to_string(),
                format!(
                    "test images have shape {:?}, training images {:?}",
                    t.example_shape, train.example_shape
                ),
            ));
        }
    }
    Ok((train, test))
}
