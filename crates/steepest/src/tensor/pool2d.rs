//! 2-D pooling over `[N, C, H, W]`: max (keeping the position of each maximum for the
//! backward), average (padding counted, as PyTorch's default `count_include_pad=True`) and
//! adaptive average (PyTorch's windows `floor(i H / OH) .. ceil((i + 1) H / OH)`). 1-D pooling
//! is the case of height 1.

use super::conv::conv_out_len;
use super::{Scalar, Tensor};
use crate::error::{Error, Result};

/// Kernel, stride and padding (height, width) of a pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pool2dGeometry {
    /// Window size.
    pub kernel: [usize; 2],
    /// Step between windows (PyTorch's default: the kernel size).
    pub stride: [usize; 2],
    /// Implicit padding on each side (at most half the kernel); max pooling pads with -inf,
    /// average pooling with zeros.
    pub padding: [usize; 2],
}

impl Pool2dGeometry {
    /// A `k x k` window with stride `k` and no padding.
    pub fn square(k: usize) -> Self {
        Self {
            kernel: [k, k],
            stride: [k, k],
            padding: [0, 0],
        }
    }

    fn out_shape(&self, x: &[usize], what: &'static str) -> Result<[usize; 4]> {
        if x.len() != 4 {
            return Err(Error::invalid(what, format!("expected input [N, C, H, W], got {x:?}")));
        }
        for a in 0..2 {
            if self.padding[a] * 2 > self.kernel[a] {
                return Err(Error::invalid(
                    what,
                    format!(
                        "padding {} must be at most half the kernel size {}",
                        self.padding[a], self.kernel[a]
                    ),
                ));
            }
        }
        let oh = conv_out_len(x[2], self.kernel[0], self.stride[0], self.padding[0], 1, what)?;
        let ow = conv_out_len(x[3], self.kernel[1], self.stride[1], self.padding[1], 1, what)?;
        Ok([x[0], x[1], oh, ow])
    }

    /// The input rows (or columns) of window `i` along axis `a`, clipped to `0..len`.
    fn window(&self, a: usize, i: usize, len: usize) -> std::ops::Range<usize> {
        let start = (i * self.stride[a]) as isize - self.padding[a] as isize;
        let end = (start + self.kernel[a] as isize).min(len as isize);
        start.max(0) as usize..end.max(0) as usize
    }
}

/// Max pooling: the output and, for each output element, the index of its maximum within its
/// `H x W` plane (the first maximum when several are equal, as PyTorch).
///
/// ```
/// use steepest::tensor::{max_pool2d, Pool2dGeometry, Tensor};
/// let x = Tensor::new(vec![1.0f32, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 6.0, 7.0], &[1, 1, 3, 3])?;
/// let (y, at) = max_pool2d(&x, &Pool2dGeometry::square(2))?; // one full window fits
/// assert_eq!(y.data(), &[5.0]);
/// assert_eq!(at, [1]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn max_pool2d<T: Scalar>(x: &Tensor<T>, geo: &Pool2dGeometry) -> Result<(Tensor<T>, Vec<u32>)> {
    let [n, c, oh, ow] = geo.out_shape(x.shape(), "max_pool2d")?;
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let mut y = Tensor::zeros(&[n, c, oh, ow]);
    let mut at = vec![0u32; n * c * oh * ow];
    let xs = x.data();
    let rows: Vec<std::ops::Range<usize>> = (0..oh).map(|i| geo.window(0, i, h)).collect();
    let cols: Vec<std::ops::Range<usize>> = (0..ow).map(|j| geo.window(1, j, w)).collect();
    let plane = |p: usize, out: &mut [T], idx: &mut [u32]| {
        let img = &xs[p * h * w..(p + 1) * h * w];
        let pairs = geo.kernel == [2, 2] && geo.stride == [2, 2] && geo.padding == [0, 0];
        for (i, rr) in rows.iter().enumerate() {
            if pairs {
                // The common 2x2 window with stride 2, without branches: the first maximum of
                // (a, b, c, d) in reading order.
                let (x0, x1) = (&img[2 * i * w..2 * i * w + w], &img[(2 * i + 1) * w..(2 * i + 2) * w]);
                let (o, at) = (&mut out[i * ow..(i + 1) * ow], &mut idx[i * ow..(i + 1) * ow]);
                for j in 0..ow {
                    let (a, b, c, d) = (x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]);
                    let (m1, i1) = if b > a { (b, 1) } else { (a, 0) };
                    let (m2, i2) = if d > c { (d, w + 1) } else { (c, w) };
                    let (m, k) = if m2 > m1 { (m2, i2) } else { (m1, i1) };
                    o[j] = m;
                    at[j] = (2 * i * w + 2 * j + k) as u32;
                }
                continue;
            }
            for (j, cc) in cols.iter().enumerate() {
                let mut best = T::neg_infinity();
                let mut best_at = rr.start * w + cc.start;
                for r in rr.clone() {
                    let base = r * w + cc.start;
                    for (q, &v) in img[base..r * w + cc.end].iter().enumerate() {
                        if v > best {
                            best = v;
                            best_at = base + q;
                        }
                    }
                }
                out[i * ow + j] = best;
                idx[i * ow + j] = best_at as u32;
            }
        }
        // A NaN propagates, as in PyTorch: the first one in its window (rare: checked after).
        if img.iter().any(|v| v.is_nan()) {
            for (i, rr) in rows.iter().enumerate() {
                for (j, cc) in cols.iter().enumerate() {
                    let first = rr
                        .clone()
                        .flat_map(|r| cc.clone().map(move |q| r * w + q))
                        .find(|&k| img[k].is_nan());
                    if let Some(k) = first {
                        out[i * ow + j] = img[k];
                        idx[i * ow + j] = k as u32;
                    }
                }
            }
        }
    };
    let per = (oh * ow).max(1);
    let items: Vec<(&mut [T], &mut [u32])> = y.data_mut().chunks_mut(per).zip(at.chunks_mut(per)).collect();
    if super::split_threads() > 1 && items.len() > 1 && xs.len() >= 1 << 15 {
        use rayon::prelude::*;
        items.into_par_iter().enumerate().for_each(|(p, (o, i))| plane(p, o, i));
    } else {
        items.into_iter().enumerate().for_each(|(p, (o, i))| plane(p, o, i));
    }
    Ok((y, at))
}

/// The input gradient of [`max_pool2d`]: each output's gradient goes to its maximum.
pub fn max_pool2d_backward<T: Scalar>(x_shape: &[usize], gy: &Tensor<T>, at: &[u32]) -> Result<Tensor<T>> {
    if x_shape.len() != 4 || gy.len() != at.len() {
        return Err(Error::invalid("max_pool2d backward", "shapes do not match"));
    }
    let plane = x_shape[2] * x_shape[3];
    let out_plane = gy.shape()[2..].iter().product::<usize>().max(1);
    let mut dx = Tensor::zeros(x_shape);
    for (p, (g, idx)) in gy.data().chunks(out_plane).zip(at.chunks(out_plane)).enumerate() {
        let d = &mut dx.data_mut()[p * plane..(p + 1) * plane];
        for (&gv, &i) in g.iter().zip(idx) {
            d[i as usize] += gv;
        }
    }
    Ok(dx)
}

/// Average pooling, dividing by the full window size (padding counted, PyTorch's default).
///
/// ```
/// use steepest::tensor::{avg_pool2d, Pool2dGeometry, Tensor};
/// let x = Tensor::new(vec![1.0f32, 2.0, 3.0, 4.0], &[1, 1, 2, 2])?;
/// assert_eq!(avg_pool2d(&x, &Pool2dGeometry::square(2))?.data(), &[2.5]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn avg_pool2d<T: Scalar>(x: &Tensor<T>, geo: &Pool2dGeometry) -> Result<Tensor<T>> {
    let [n, c, oh, ow] = geo.out_shape(x.shape(), "avg_pool2d")?;
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let inv = T::of(1.0 / (geo.kernel[0] * geo.kernel[1]) as f64);
    let mut y = Tensor::zeros(&[n, c, oh, ow]);
    let xs = x.data();
    for (p, out) in y.data_mut().chunks_mut((oh * ow).max(1)).enumerate() {
        let img = &xs[p * h * w..(p + 1) * h * w];
        for i in 0..oh {
            for j in 0..ow {
                let cols = geo.window(1, j, w);
                let s = geo.window(0, i, h).fold(T::zero(), |a, r| {
                    img[r * w + cols.start..r * w + cols.end].iter().fold(a, |a, &v| a + v)
                });
                out[i * ow + j] = s * inv;
            }
        }
    }
    Ok(y)
}

/// The input gradient of [`avg_pool2d`].
pub fn avg_pool2d_backward<T: Scalar>(x_shape: &[usize], gy: &Tensor<T>, geo: &Pool2dGeometry) -> Result<Tensor<T>> {
    let [_, _, oh, ow] = geo.out_shape(x_shape, "avg_pool2d backward")?;
    let (h, w) = (x_shape[2], x_shape[3]);
    let inv = T::of(1.0 / (geo.kernel[0] * geo.kernel[1]) as f64);
    let mut dx = Tensor::zeros(x_shape);
    for (p, g) in gy.data().chunks((oh * ow).max(1)).enumerate() {
        let d = &mut dx.data_mut()[p * h * w..(p + 1) * h * w];
        for i in 0..oh {
            for j in 0..ow {
                let gv = g[i * ow + j] * inv;
                let cols = geo.window(1, j, w);
                for r in geo.window(0, i, h) {
                    d[r * w + cols.start..r * w + cols.end]
                        .iter_mut()
                        .for_each(|v| *v += gv);
                }
            }
        }
    }
    Ok(dx)
}

/// PyTorch's adaptive window along one axis: `floor(i len / out) .. ceil((i + 1) len / out)`.
fn adaptive_window(i: usize, len: usize, out: usize) -> std::ops::Range<usize> {
    (i * len / out)..((i + 1) * len).div_ceil(out)
}

/// Adaptive average pooling to `[oh, ow]` (windows as PyTorch's `adaptive_avg_pool2d`).
///
/// ```
/// use steepest::tensor::{adaptive_avg_pool2d, Tensor};
/// let x = Tensor::new((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4])?;
/// assert_eq!(adaptive_avg_pool2d(&x, [1, 1])?.data(), &[7.5]); // global average
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn adaptive_avg_pool2d<T: Scalar>(x: &Tensor<T>, out: [usize; 2]) -> Result<Tensor<T>> {
    let s = x.shape();
    if s.len() != 4 || out[0] == 0 || out[1] == 0 {
        return Err(Error::invalid(
            "adaptive_avg_pool2d",
            format!("expected input [N, C, H, W] and a positive output size, got {s:?} and {out:?}"),
        ));
    }
    let (n, c, h, w) = (s[0], s[1], s[2], s[3]);
    let mut y = Tensor::zeros(&[n, c, out[0], out[1]]);
    let xs = x.data();
    for (p, o) in y.data_mut().chunks_mut(out[0] * out[1]).enumerate() {
        let img = &xs[p * h * w..(p + 1) * h * w];
        for i in 0..out[0] {
            let rows = adaptive_window(i, h, out[0]);
            for j in 0..out[1] {
                let cols = adaptive_window(j, w, out[1]);
                let count = (rows.len() * cols.len()).max(1);
                let sum = rows.clone().fold(T::zero(), |a, r| {
                    img[r * w + cols.start..r * w + cols.end].iter().fold(a, |a, &v| a + v)
                });
                o[i * out[1] + j] = sum / T::of(count as f64);
            }
        }
    }
    Ok(y)
}

/// The input gradient of [`adaptive_avg_pool2d`].
pub fn adaptive_avg_pool2d_backward<T: Scalar>(x_shape: &[usize], gy: &Tensor<T>) -> Result<Tensor<T>> {
    let gs = gy.shape();
    if x_shape.len() != 4 || gs.len() != 4 {
        return Err(Error::invalid("adaptive_avg_pool2d backward", "expected 4-D shapes"));
    }
    let (h, w, oh, ow) = (x_shape[2], x_shape[3], gs[2], gs[3]);
    let mut dx = Tensor::zeros(x_shape);
    for (p, g) in gy.data().chunks((oh * ow).max(1)).enumerate() {
        let d = &mut dx.data_mut()[p * h * w..(p + 1) * h * w];
        for i in 0..oh {
            let rows = adaptive_window(i, h, oh);
            for j in 0..ow {
                let cols = adaptive_window(j, w, ow);
                let gv = g[i * ow + j] / T::of((rows.len() * cols.len()).max(1) as f64);
                for r in rows.clone() {
                    d[r * w + cols.start..r * w + cols.end]
                        .iter_mut()
                        .for_each(|v| *v += gv);
                }
            }
        }
    }
    Ok(dx)
}
