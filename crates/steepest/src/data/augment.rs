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
    /// A random affine map about the image's centre, drawn per image: rotation by an angle
    /// uniform in `-degrees..=degrees`, a shift uniform in `-translate * width..=translate *
    /// width` across (and likewise with the height down), a zoom by a factor uniform in
    /// `scale_min..=scale_max` and a horizontal shear by an angle uniform in
    /// `-shear..=shear`; torchvision's `RandomAffine(degrees, translate=(t, t),
    /// scale=(min, max), shear=shear, interpolation=BILINEAR)`: each output pixel is read at
    /// its inverse image, bilinearly, with zeros outside.
    RandomAffine {
        /// Largest rotation, in degrees.
        #[serde(default)]
        degrees: f64,
        /// Largest shift, as a fraction of the width (across) and height (down).
        #[serde(default)]
        translate: f64,
        /// Smallest zoom factor.
        #[serde(default = "one")]
        scale_min: f64,
        /// Largest zoom factor.
        #[serde(default = "one")]
        scale_max: f64,
        /// Largest horizontal shear, in degrees.
        #[serde(default)]
        shear: f64,
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

fn one() -> f64 {
    1.0
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

/// Where an output pixel of a resampled image is read: at offset (dx, dy) from the image's
/// centre, less the shift (tx, ty), the source is the centre plus [[xx, xy], [yx, yy]] (dx, dy).
struct Inverse {
    xx: f64,
    xy: f64,
    yx: f64,
    yy: f64,
    tx: f64,
    ty: f64,
}

impl Inverse {
    fn linear(xx: f64, xy: f64, yx: f64, yy: f64) -> Self {
        Inverse {
            xx,
            xy,
            yx,
            yy,
            tx: 0.0,
            ty: 0.0,
        }
    }
}

/// Resamples every image `[C, H, W]` of `batch` through the inverse map `draw` makes from the
/// image's generator: the nearest source pixel (rounded) or the bilinear blend of the four
/// around it; zeros outside the image.
fn resample<T: Scalar>(
    batch: &mut Tensor<T>,
    (c, h, w): (usize, usize, usize),
    rng: &mut dyn FnMut(usize) -> Rng,
    bilinear: bool,
    draw: impl Fn(&mut Rng) -> Inverse,
) {
    let per = c * h * w;
    let mut buf = vec![T::zero(); per];
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let inside = |yy: i64, xx: i64| yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w;
    for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
        let m = draw(&mut rng(i));
        buf.iter_mut().for_each(|v| *v = T::zero());
        for y in 0..h {
            for x in 0..w {
                let (dx, dy) = (x as f64 - cx - m.tx, y as f64 - cy - m.ty);
                let sx = m.xx * dx + m.xy * dy + cx;
                let sy = m.yx * dx + m.yy * dy + cy;
                if !bilinear {
                    let (sy, sx) = (sy.round() as i64, sx.round() as i64);
                    if inside(sy, sx) {
                        for ch in 0..c {
                            buf[(ch * h + y) * w + x] = img[(ch * h + sy as usize) * w + sx as usize];
                        }
                    }
                    continue;
                }
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                let taps = [
                    (y0, x0, (1.0 - fy) * (1.0 - fx)),
                    (y0, x0 + 1, (1.0 - fy) * fx),
                    (y0 + 1, x0, fy * (1.0 - fx)),
                    (y0 + 1, x0 + 1, fy * fx),
                ];
                for ch in 0..c {
                    let v = taps
                        .iter()
                        .filter(|&&(yy, xx, wt)| wt != 0.0 && inside(yy, xx))
                        .fold(0.0, |v, &(yy, xx, wt)| {
                            v + wt * img[(ch * h + yy as usize) * w + xx as usize].as_f64()
                        });
                    buf[(ch * h + y) * w + x] = T::of(v);
                }
            }
        }
        img.copy_from_slice(&buf);
    }
}

impl Augment {
    /// Checks the settings: probabilities in [0, 1], angles in [0, 360] degrees (shear below
    /// 90), shifts in [0, 1], zoom factors positive and ordered.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid("augment", what));
        match *self {
            Augment::RandomRotation { degrees } if !(0.0..=360.0).contains(&degrees) => {
                bad(format!("rotation of {degrees} degrees must be in [0, 360]"))
            }
            Augment::HorizontalFlip { p } | Augment::RandomErasing { p } if !(0.0..=1.0).contains(&p) => {
                bad(format!("probability {p} must be in [0, 1]"))
            }
            Augment::RandomAffine {
                degrees,
                translate,
                scale_min,
                scale_max,
                shear,
            } => {
                if !(0.0..=360.0).contains(&degrees) {
                    bad(format!("rotation of {degrees} degrees must be in [0, 360]"))
                } else if !(0.0..=1.0).contains(&translate) {
                    bad(format!("translate {translate} must be a fraction in [0, 1]"))
                } else if !(scale_min > 0.0 && scale_min <= scale_max && scale_max.is_finite()) {
                    bad(format!(
                        "scale {scale_min}:{scale_max} must be positive, the smaller first"
                    ))
                } else if !(0.0..90.0).contains(&shear) {
                    bad(format!("shear of {shear} degrees must be in [0, 90)"))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

impl<T: Scalar> BatchTransform<T> for Augment {
    fn apply(&self, batch: &mut Tensor<T>, rng: &mut dyn FnMut(usize) -> Rng) -> Result<()> {
        self.check()?;
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
                for (i, img) in batch.data_mut().chunks_mut(per.max(1)).enumerate() {
                    if rng(i).random::<f64>() < p {
                        img.chunks_mut(w.max(1)).for_each(<[T]>::reverse);
                    }
                }
            }
            Augment::RandomRotation { degrees } => {
                resample(batch, (c, h, w), rng, false, |r| {
                    let (sin, cos) = r.random_range(-degrees..=degrees).to_radians().sin_cos();
                    Inverse::linear(cos, sin, -sin, cos)
                });
            }
            Augment::RandomAffine {
                degrees,
                translate,
                scale_min,
                scale_max,
                shear,
            } => {
                resample(batch, (c, h, w), rng, true, |r| {
                    let a = r.random_range(-degrees..=degrees).to_radians();
                    let tx = r.random_range(-translate..=translate) * w as f64;
                    let ty = r.random_range(-translate..=translate) * h as f64;
                    let z = r.random_range(scale_min..=scale_max);
                    let sh = r.random_range(-shear..=shear).to_radians();
                    // Forward map about the centre: rotation . shear . zoom, then the shift.
                    let (sin, cos) = a.sin_cos();
                    let t = sh.tan();
                    let (m00, m01, m10, m11) = (cos * z, (cos * t - sin) * z, sin * z, (sin * t + cos) * z);
                    let det = m00 * m11 - m01 * m10;
                    Inverse {
                        tx,
                        ty,
                        ..Inverse::linear(m11 / det, -m01 / det, -m10 / det, m00 / det)
                    }
                });
            }
            Augment::RandomErasing { p } => {
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
