//! Augmentation: transforms of a training batch, drawn per example and seeded, applied by the
//! training step before the forward pass (never in evaluation).

use crate::error::{Error, Result};
use crate::tensor::{Rng, Scalar, Tensor};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// A transform of a batch `[n, ...example]` in place; `rng(i)` is the generator of example `i`
/// (seeded by the step and the example's row, so runs repeat exactly).
pub trait BatchTransform<T: Scalar>: Send + Sync {
    /// Transforms the batch.
    fn apply(&self, batch: &mut Tensor<T>, rng: &mut dyn FnMut(usize) -> Rng) -> Result<()>;
}

/// The built-in augmentations for images `[C, H, W]`, named as torchvision's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Augment {
    /// Shifts the image by a whole number of pixels drawn uniformly from `-pixels..=pixels` on
    /// each axis, filling with zeros: torchvision's `RandomCrop(size, padding=pixels)`.
    RandomShift {
        /// Largest shift.
        pixels: usize,
    },
    /// Mirrors the image left to right with probability `p` (`RandomHorizontalFlip`).
    HorizontalFlip {
        /// Probability of a flip.
        #[serde(default = "half")]
        p: f64,
    },
    /// Rotates the image about its centre by an angle drawn uniformly from
    /// `-degrees..=degrees`, nearest-neighbour, filling with zeros: torchvision's
    /// `RandomRotation(degrees)` with its defaults.
    RandomRotation {
        /// Largest angle, in degrees.
        degrees: f64,
    },
    /// With probability `p`, sets a random rectangle of the image to 0 in every channel:
    /// torchvision's `RandomErasing(p)` with its defaults (area 2 % to 33 % of the image, aspect
    /// ratio 0.3 to 3.3 drawn log-uniformly, up to 10 tries to fit).
    RandomErasing {
        /// Probability of erasing.
        #[serde(default = "half")]
        p: f64,
    },
}

fn half() -> f64 {
    0.5
}

fn image_dims<T: Scalar>(batch: &Tensor<T>) -> Result<(usize, usize, usize, usize)> {
    match *batch.shape() {
        [n, c, h, w] => Ok((n, c, h, w)),
        ref s => Err(Error::invalid(
            "augment",
            format!("expects images [N, C, H, W], got {s:?}"),
        )),
    }
}

impl<T: Scalar> BatchTransform<T> for Augment {
    fn apply(&self, batch: &mut Tensor<T>, rng: &mut dyn FnMut(usize) -> Rng) -> Result<()> {
        let (n, c, h, w) = image_dims(batch)?;
        let per = c * h * w;
        match *self {
            Augment::RandomShift { pixels } => {
                let k = pixels as i64;
                let mut buf = vec![T::zero(); per];
                for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
                    let mut r = rng(i);
                    let (dy, dx) = (r.random_range(-k..=k), r.random_range(-k..=k));
                    if dy == 0 && dx == 0 {
                        continue;
                    }
                    buf.iter_mut().for_each(|v| *v = T::zero());
                    for ch in 0..c {
                        for y in 0..h as i64 {
                            let sy = y - dy;
                            if sy < 0 || sy >= h as i64 {
                                continue;
                            }
                            for x in 0..w as i64 {
                                let sx = x - dx;
                                if sx >= 0 && sx < w as i64 {
                                    buf[(ch * h + y as usize) * w + x as usize] =
                                        img[(ch * h + sy as usize) * w + sx as usize];
                                }
                            }
                        }
                    }
                    img.copy_from_slice(&buf);
                }
            }
            Augment::HorizontalFlip { p } => {
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::invalid(
                        "augment",
                        format!("flip probability {p} must be in [0, 1]"),
                    ));
                }
                for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
                    if rng(i).random::<f64>() < p {
                        img.chunks_mut(w.max(1)).for_each(<[T]>::reverse);
                    }
                }
            }
            Augment::RandomRotation { degrees } => {
                if !(0.0..=360.0).contains(&degrees) {
                    return Err(Error::invalid(
                        "augment",
                        format!("rotation of {degrees} degrees must be in [0, 360]"),
                    ));
                }
                let mut buf = vec![T::zero(); per];
                let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
                for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
                    let a = rng(i).random_range(-degrees..=degrees).to_radians();
                    let (sin, cos) = a.sin_cos();
                    buf.iter_mut().for_each(|v| *v = T::zero());
                    for y in 0..h {
                        for x in 0..w {
                            // The source of output pixel (y, x): the inverse rotation.
                            let (dy, dx) = (y as f64 - cy, x as f64 - cx);
                            let sy = (cos * dy - sin * dx + cy).round();
                            let sx = (sin * dy + cos * dx + cx).round();
                            if sy >= 0.0 && sx >= 0.0 && (sy as usize) < h && (sx as usize) < w {
                                for ch in 0..c {
                                    buf[(ch * h + y) * w + x] = img[(ch * h + sy as usize) * w + sx as usize];
                                }
                            }
                        }
                    }
                    img.copy_from_slice(&buf);
                }
            }
            Augment::RandomErasing { p } => {
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::invalid(
                        "augment",
                        format!("erasing probability {p} must be in [0, 1]"),
                    ));
                }
                for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
                    let mut r = rng(i);
                    if r.random::<f64>() >= p {
                        continue;
                    }
                    let area = (h * w) as f64;
                    for _ in 0..10 {
                        let target = area * r.random_range(0.02..=0.33);
                        let ratio = r.random_range(0.3f64.ln()..=3.3f64.ln()).exp();
                        let eh = (target * ratio).sqrt().round() as usize;
                        let ew = (target / ratio).sqrt().round() as usize;
                        if eh == 0 || ew == 0 || eh >= h || ew >= w {
                            continue;
                        }
                        let (y0, x0) = (r.random_range(0..=h - eh), r.random_range(0..=w - ew));
                        for ch in 0..c {
                            for y in y0..y0 + eh {
                                img[(ch * h + y) * w + x0..(ch * h + y) * w + x0 + ew].fill(T::zero());
                            }
                        }
                        break;
                    }
                }
            }
        }
        let _ = n;
        Ok(())
    }
}
