//! Images from files: a folder tree of class folders (torchvision's `ImageFolder`), or a list
//! of files to predict; PNG, JPEG, BMP and GIF decoded by the `image` crate.
//!
//! A folder `DIR` is read as:
//! * an IDX pair per split (MNIST's file names), see [`read_idx_dir`](super::read_idx_dir);
//! * `DIR/train/<class>/*` with `DIR/test/<class>/*` (or `val/`) when those folders exist;
//! * else `DIR/<class>/*`, one split.
//!
//! A CSV file of `path,label` rows is a list of images ([`read_image_list`]).
//!
//! Classes are the folder names, ordered as numbers when every name is a number (so `10`
//! follows `9`), else by name. Every image becomes `channels x height x width` grey levels
//! 0-255, as IDX files hold them (grey when every training image is grey, else RGB; an alpha
//! channel is dropped; models standardize each channel),
//! resized to [`ImageOptions::size`] (bilinear, as torchvision's `Resize`) or, without it, all
//! of the first image's size. Images are decoded in parallel; one that cannot be read is an
//! error naming the file, or with [`ImageOptions::skip_bad`] a counted warning.

use super::dataset::{Dataset, Features, Targets};
use crate::error::{Error, Result};
use crate::tensor::{Scalar, Tensor};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// How images are read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageOptions {
    /// Height and width to resize every image to (`None`: the first image's, and all must
    /// agree).
    pub size: Option<(usize, usize)>,
    /// Channels: 1 (grey) or 3 (RGB); `None`: grey when every image is grey.
    pub channels: Option<usize>,
    /// Leave out files that cannot be decoded (counted in [`ImageFolder::skipped`]) instead
    /// of failing.
    pub skip_bad: bool,
}

impl ImageOptions {
    /// Images read as examples of `shape` (`[channels, height, width]`) are: that size and
    /// those channels; `None` when `shape` is not an image's.
    pub fn for_shape(shape: &[usize], skip_bad: bool) -> Option<ImageOptions> {
        match *shape {
            [c, h, w] => Some(ImageOptions {
                size: Some((h, w)),
                channels: Some(c),
                skip_bad,
            }),
            _ => None,
        }
    }
}

/// A file that could not be decoded, with the reason.
pub type Skipped = (PathBuf, String);

/// Images decoded by [`read_images`].
#[derive(Clone, Debug)]
pub struct DecodedImages<T: Scalar> {
    /// `[images kept, channels * height * width]`, values 0-255, channel planes in order.
    pub pixels: Tensor<T>,
    /// `[channels, height, width]`.
    pub shape: Vec<usize>,
    /// Per file given, whether it is in `pixels`.
    pub kept: Vec<bool>,
    /// The files left out (with `skip_bad`).
    pub skipped: Vec<Skipped>,
}

/// An image folder read into datasets.
#[derive(Clone, Debug)]
pub struct ImageFolder<T: Scalar> {
    /// The training images (or the only split).
    pub train: Dataset<T>,
    /// The test (or validation) images, when the folder has that split.
    pub test: Option<Dataset<T>>,
    /// Files left out as undecodable, with the reason (with `skip_bad`).
    pub skipped: Vec<Skipped>,
}

/// Whether `path` names an image file this reader decodes (by extension).
pub fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "bmp" | "gif"))
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        if p.is_dir() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sorts class names (with what goes with them) by name, or as numbers when all are numbers.
fn order_classes<X>(classes: &mut [(String, X)]) {
    classes.sort_by(|a, b| a.0.cmp(&b.0));
    if !classes.is_empty() && classes.iter().all(|(n, _)| n.parse::<f64>().is_ok()) {
        classes.sort_by(|a, b| {
            a.0.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.0.parse::<f64>().unwrap_or(0.0))
        });
    }
}

/// The class folders of `dir` in class order.
fn class_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut classes: Vec<(String, PathBuf)> = sorted_dirs(dir)?
        .into_iter()
        .map(|p| (name_of(&p), p))
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    order_classes(&mut classes);
    Ok(classes)
}

/// The image files of a class folder, by name.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        if p.is_file() && is_image_file(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `dir` looks like an image folder: class folders holding image files, directly or
/// under `train/`.
pub fn is_image_folder(dir: &Path) -> bool {
    let root = if dir.join("train").is_dir() {
        dir.join("train")
    } else {
        dir.to_path_buf()
    };
    class_dirs(&root)
        .map(|c| c.iter().any(|(_, p)| image_files(p).is_ok_and(|f| !f.is_empty())))
        .unwrap_or(false)
}

/// One decoded image, whether it is grey, and its size.
struct Decoded {
    grey: bool,
    width: u32,
    height: u32,
    image: image::DynamicImage,
}

fn decode(path: &Path) -> std::result::Result<Decoded, String> {
    let reader = image::io::Reader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let image = reader.decode().map_err(|e| e.to_string())?;
    use image::ColorType::*;
    let grey = matches!(image.color(), L8 | La8 | L16 | La16);
    Ok(Decoded {
        grey,
        width: image.width(),
        height: image.height(),
        image,
    })
}

/// `d` as `channels x height x width` grey levels 0-255 (as IDX files hold them, so that a model
/// trained on either form reads the other), resized to `(h, w)` when it differs.
fn pixels<T: Scalar>(d: &Decoded, channels: usize, (h, w): (usize, usize), out: &mut [T]) {
    let img = if (d.height as usize, d.width as usize) != (h, w) {
        d.image
            .resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle)
    } else {
        d.image.clone()
    };
    if channels == 1 {
        let g = img.to_luma8();
        for (o, p) in out.iter_mut().zip(g.as_raw()) {
            *o = T::of(f64::from(*p));
        }
    } else {
        let rgb = img.to_rgb8();
        let plane = h * w;
        for (i, px) in rgb.as_raw().chunks(3).enumerate() {
            for c in 0..3 {
                out[c * plane + i] = T::of(f64::from(px[c]));
            }
        }
    }
}

/// Decodes `files` (in parallel) into `[files, channels * h * w]` with the shape rules of the
/// module; the files left out (with `skip_bad`) have no row.
pub fn read_images<T: Scalar>(files: &[PathBuf], opts: &ImageOptions) -> Result<DecodedImages<T>> {
    let decoded: Vec<std::result::Result<Decoded, String>> = files.par_iter().map(|f| decode(f)).collect();
    let mut skipped = Vec::new();
    for (f, d) in files.iter().zip(&decoded) {
        if let Err(e) = d {
            if !opts.skip_bad {
                return Err(Error::format(
                    f.display().to_string(),
                    format!("cannot decode the image: {e} (--skip-bad leaves such files out)"),
                ));
            }
            skipped.push((f.clone(), e.clone()));
        }
    }
    let good: Vec<&Decoded> = decoded.iter().filter_map(|d| d.as_ref().ok()).collect();
    let first = good
        .first()
        .ok_or_else(|| Error::invalid("images", "no image could be read"))?;
    let channels = opts.channels.unwrap_or(if good.iter().all(|d| d.grey) { 1 } else { 3 });
    let size = match opts.size {
        Some(s) => s,
        None => {
            let s = (first.height as usize, first.width as usize);
            if let Some((f, d)) = files
                .iter()
                .zip(&decoded)
                .filter_map(|(f, d)| d.as_ref().ok().map(|d| (f, d)))
                .find(|(_, d)| (d.height as usize, d.width as usize) != s)
            {
                return Err(Error::format(
                    f.display().to_string(),
                    format!(
                        "{}x{} pixels where the first image has {}x{}: give --image-size to resize every image",
                        d.height, d.width, s.0, s.1
                    ),
                ));
            }
            s
        }
    };
    let per = channels * size.0 * size.1;
    let mut data = vec![T::zero(); good.len() * per];
    data.par_chunks_mut(per.max(1))
        .zip(good.par_iter())
        .for_each(|(out, d)| pixels(d, channels, size, out));
    let kept = decoded.iter().map(|d| d.is_ok()).collect();
    Ok(DecodedImages {
        pixels: Tensor::new(data, &[good.len(), per])?,
        shape: vec![channels, size.0, size.1],
        kept,
        skipped,
    })
}

/// The classification dataset of `files` (decoded as `opts` says) labelled `labels` (indices
/// into `names`), the undecodable ones left out with their labels.
fn labelled<T: Scalar>(
    files: &[PathBuf],
    labels: Vec<usize>,
    names: Vec<String>,
    opts: &ImageOptions,
) -> Result<(Dataset<T>, Vec<Skipped>)> {
    let DecodedImages {
        pixels,
        shape,
        kept,
        skipped,
    } = read_images::<T>(files, opts)?;
    let labels: Vec<usize> = labels
        .into_iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(l, _)| l)
        .collect();
    let feature_names = (0..pixels.row_len()).map(|i| format!("pixel{i}")).collect();
    let d = Dataset::new(
        Features::Dense(pixels),
        Targets::Classes { labels, names },
        feature_names,
    )?
    .with_example_shape(&shape)?;
    Ok((d, skipped))
}

/// One split's class folders read into a dataset with `names` as its classes.
fn read_split<T: Scalar>(root: &Path, names: &[String], opts: &ImageOptions) -> Result<(Dataset<T>, Vec<Skipped>)> {
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for (name, dir) in class_dirs(root)? {
        let Some(c) = names.iter().position(|n| *n == name) else {
            return Err(Error::format(
                dir.display().to_string(),
                format!(
                    "class '{name}' is not among the training classes ({})",
                    names.join(", ")
                ),
            ));
        };
        for f in image_files(&dir)? {
            files.push(f);
            labels.push(c);
        }
    }
    if files.is_empty() {
        return Err(Error::format(
            root.display().to_string(),
            "no image files (png, jpg, bmp, gif) in its class folders",
        ));
    }
    labelled(&files, labels, names.to_vec(), opts)
}

/// Reads an image folder (see the module's doc). The test split is read at the training
/// images' size and channels.
///
/// ```no_run
/// use steepest::data::{read_image_folder, ImageOptions};
/// let f = read_image_folder::<f32>("photos", &ImageOptions { size: Some((32, 32)), ..Default::default() })?;
/// assert_eq!(f.train.example_shape[1..], [32, 32]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn read_image_folder<T: Scalar>(dir: impl AsRef<Path>, opts: &ImageOptions) -> Result<ImageFolder<T>> {
    let dir = dir.as_ref();
    let split_dir = |names: &[&str]| names.iter().map(|n| dir.join(n)).find(|p| p.is_dir());
    let (train_root, test_root) = match split_dir(&["train"]) {
        Some(t) => (t, split_dir(&["test", "val"])),
        None => (dir.to_path_buf(), None),
    };
    let names: Vec<String> = class_dirs(&train_root)?.into_iter().map(|(n, _)| n).collect();
    if names.len() < 2 {
        return Err(Error::format(
            train_root.display().to_string(),
            format!(
                "an image folder needs a folder per class (at least 2), found {}",
                names.len()
            ),
        ));
    }
    let (train, mut skipped) = read_split::<T>(&train_root, &names, opts)?;
    let test = match test_root {
        Some(root) => {
            let o = ImageOptions::for_shape(&train.example_shape, opts.skip_bad).unwrap_or_else(|| opts.clone());
            let (t, s) = read_split::<T>(&root, &names, &o)?;
            skipped.extend(s);
            Some(t)
        }
        None => None,
    };
    Ok(ImageFolder { train, test, skipped })
}

/// Whether the CSV file `path` is a list of images: its first data row's first cell names an
/// image file (by extension), with or without a header row.
pub fn is_image_list(path: &Path) -> bool {
    let Ok(mut r) = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
    else {
        return false;
    };
    r.records()
        .take(2)
        .filter_map(|rec| rec.ok())
        .any(|rec| rec.get(0).is_some_and(|c| is_image_file(Path::new(c.trim()))))
}

/// Reads a CSV list of images, `path,label` per row (a header row is skipped when its first
/// cell is not an image file name; paths relative to the CSV's folder), as one split. Labels
/// are class names, ordered as [`read_image_folder`] orders folders.
pub fn read_image_list<T: Scalar>(csv_path: impl AsRef<Path>, opts: &ImageOptions) -> Result<ImageFolder<T>> {
    let csv_path = csv_path.as_ref();
    let base = csv_path.parent().unwrap_or(Path::new("."));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| Error::format(csv_path.display().to_string(), e.to_string()))?;
    let (mut files, mut labels) = (Vec::new(), Vec::new());
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| Error::format(csv_path.display().to_string(), e.to_string()))?;
        let path = rec.get(0).unwrap_or("").trim();
        if i == 0 && !is_image_file(Path::new(path)) {
            continue; // the header
        }
        let Some(label) = rec.get(1).map(str::trim).filter(|l| !l.is_empty()) else {
            return Err(Error::Parse {
                file: csv_path.display().to_string(),
                line: i + 1,
                column: 2,
                msg: "expected path,label: the label is missing".into(),
            });
        };
        let p = Path::new(path);
        files.push(if p.is_absolute() { p.to_path_buf() } else { base.join(p) });
        labels.push(label.to_string());
    }
    let mut classes: Vec<(String, ())> = labels.iter().map(|l| (l.clone(), ())).collect();
    order_classes(&mut classes);
    classes.dedup_by(|a, b| a.0 == b.0);
    let names: Vec<String> = classes.into_iter().map(|(n, _)| n).collect();
    if names.len() < 2 {
        return Err(Error::format(
            csv_path.display().to_string(),
            format!("a list of images needs at least 2 classes, found {}", names.len()),
        ));
    }
    for f in &files {
        if !f.is_file() {
            return Err(Error::format(
                csv_path.display().to_string(),
                format!("{}: no such image file", f.display()),
            ));
        }
    }
    let index: Vec<usize> = labels
        .iter()
        .map(|l| names.iter().position(|n| n == l).unwrap_or(0))
        .collect();
    let (train, skipped) = labelled(&files, index, names, opts)?;
    Ok(ImageFolder {
        train,
        test: None,
        skipped,
    })
}
