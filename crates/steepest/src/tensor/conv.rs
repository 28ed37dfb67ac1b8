//! 2-D convolution (cross-correlation, as PyTorch's `conv2d`) by im2col and [`gemm`], with its
//! backward for the input and the weights. 1-D convolution is the case of height 1.
//!
//! For input `x [N, C, H, W]`, weight `w [O, C / groups, kh, kw]` and bias `b [O]`:
//!
//! `y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x[n, g(o) C/groups + c, i s_h - pad_h + p d_h, j s_w - pad_w + q d_w]`
//!
//! with zeros outside the image, and `OH = (H + 2 pad_h - d_h (kh - 1) - 1) / s_h + 1` (likewise
//! `OW`). Each image's patches are unrolled into a `[C/groups kh kw, OH OW]` matrix (im2col),
//! so the forward is one product `w_g col` per image and group; the weight gradient is
//! `sum_n dy_n col_n^T`, the input gradient `col2im(w_g^T dy_n)`. Images run in parallel; the
//! weight gradient is summed over fixed chunks of images in order, so the result does not depend
//! on the thread count.

use super::{matmul_slices, split_threads, MatRef, Scalar, Tensor};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Stride, padding, dilation (height, width) and groups of a 2-D convolution or pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conv2dGeometry {
    /// Step between output positions.
    pub stride: [usize; 2],
    /// Zeros added on each side.
    pub padding: [usize; 2],
    /// Spacing between kernel taps.
    pub dilation: [usize; 2],
    /// Input and output channels are split into this many independent groups.
    pub groups: usize,
}

impl Default for Conv2dGeometry {
    /// Stride 1, no padding, dilation 1, one group (PyTorch's defaults).
    fn default() -> Self {
        Self {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// Output length along one axis: `(len + 2 pad - dil (k - 1) - 1) / stride + 1`, or an error
/// when the kernel does not fit.
pub fn conv_out_len(len: usize, k: usize, stride: usize, pad: usize, dil: usize, what: &'static str) -> Result<usize> {
    if k == 0 || stride == 0 || dil == 0 {
        return Err(Error::invalid(
            what,
            "kernel size, stride and dilation must be at least 1",
        ));
    }
    let span = dil * (k - 1) + 1;
    let padded = len + 2 * pad;
    if padded < span {
        return Err(Error::invalid(
            what,
            format!("input of size {len} (padding {pad}) is smaller than the kernel's span {span}"),
        ));
    }
    Ok((padded - span) / stride + 1)
}

/// The shapes of one convolution, checked.
#[derive(Clone, Copy, Debug)]
struct Dims {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    g: usize,
}

impl Dims {
    fn new(x: &[usize], w: &[usize], geo: &Conv2dGeometry) -> Result<Self> {
        if x.len() != 4 || w.len() != 4 {
            return Err(Error::invalid(
                "conv2d",
                format!("expected input [N, C, H, W] and weight [O, C/groups, kh, kw], got {x:?} and {w:?}"),
            ));
        }
        let g = geo.groups;
        if g == 0 || !x[1].is_multiple_of(g) || !w[0].is_multiple_of(g) || w[1] * g != x[1] {
            return Err(Error::invalid(
                "conv2d",
                format!(
                    "input has {} channels, weight {:?} with {g} groups expects {}",
                    x[1],
                    w,
                    w[1] * g
                ),
            ));
        }
        let oh = conv_out_len(x[2], w[2], geo.stride[0], geo.padding[0], geo.dilation[0], "conv2d")?;
        let ow = conv_out_len(x[3], w[3], geo.stride[1], geo.padding[1], geo.dilation[1], "conv2d")?;
        Ok(Self {
            n: x[0],
            c: x[1],
            h: x[2],
            w: x[3],
            o: w[0],
            kh: w[2],
            kw: w[3],
            oh,
            ow,
            g,
        })
    }
    /// Rows of one group's patch matrix.
    fn k(&self) -> usize {
        self.c / self.g * self.kh * self.kw
    }
    fn plane(&self) -> usize {
        self.oh * self.ow
    }
}

/// The output columns `j_lo..j_hi` whose input column `j sw - pw + off` lies inside `[0, w)`
/// (`off` = the kernel tap's offset `q dw`).
fn columns_inside(w: usize, ow: usize, sw: usize, pw: usize, off: usize) -> (usize, usize) {
    let lo = if off >= pw { 0 } else { (pw - off).div_ceil(sw) };
    let hi = if w + pw > off {
        ((w + pw - off - 1) / sw + 1).min(ow)
    } else {
        0
    };
    (lo, hi)
}

/// The input run one output row of one kernel tap reads: input row `ih`, output columns
/// `j_lo..j_hi`, starting at input column `start` and stepping by the stride.
struct Run {
    ih: usize,
    j_lo: usize,
    j_hi: usize,
    start: usize,
}

/// Calls `f(c, row, i, run)` for channel `c` of channels `c0..c0 + cg`, patch-matrix row `row`
/// (one per channel and kernel tap) and output row `i`, with the input run it reads, or `None`
/// when that output row of the tap falls in the padding: the walk im2col and col2im share.
fn for_each_run(d: &Dims, geo: &Conv2dGeometry, c0: usize, mut f: impl FnMut(usize, usize, usize, Option<Run>)) {
    let [sh, sw] = geo.stride;
    let [ph, pw] = geo.padding;
    let [dh, dw] = geo.dilation;
    let mut row = 0;
    for c in c0..c0 + d.c / d.g {
        for p in 0..d.kh {
            for q in 0..d.kw {
                let off = q * dw;
                let (j_lo, j_hi) = columns_inside(d.w, d.ow, sw, pw, off);
                for i in 0..d.oh {
                    let ih = (i * sh + p * dh) as isize - ph as isize;
                    let run = (ih >= 0 && ih < d.h as isize && j_lo < j_hi).then(|| Run {
                        ih: ih as usize,
                        j_lo,
                        j_hi,
                        start: j_lo * sw + off - pw,
                    });
                    f(c, row, i, run);
                }
                row += 1;
            }
        }
    }
}

/// Unrolls channels `c0..c0 + cg` of one image `x [C, H, W]` into `col [cg kh kw, OH OW]`.
fn im2col<T: Scalar>(x: &[T], d: &Dims, geo: &Conv2dGeometry, c0: usize, col: &mut [T]) {
    let (ow, plane, hw, sw) = (d.ow, d.plane(), d.h * d.w, geo.stride[1]);
    for_each_run(d, geo, c0, |c, row, i, run| {
        let r = &mut col[row * plane + i * ow..row * plane + (i + 1) * ow];
        let Some(Run { ih, j_lo, j_hi, start }) = run else {
            r.iter_mut().for_each(|v| *v = T::zero());
            return;
        };
        let src = &x[c * hw + ih * d.w..c * hw + (ih + 1) * d.w];
        r[..j_lo].iter_mut().for_each(|v| *v = T::zero());
        r[j_hi..].iter_mut().for_each(|v| *v = T::zero());
        if sw == 1 {
            r[j_lo..j_hi].copy_from_slice(&src[start..start + (j_hi - j_lo)]);
        } else {
            for (k, v) in r[j_lo..j_hi].iter_mut().enumerate() {
                *v = src[start + k * sw];
            }
        }
    });
}

/// Adds `col [cg kh kw, OH OW]` back onto channels `c0..c0 + cg` of one image `dx [C, H, W]`
/// (the adjoint of [`im2col`]).
fn col2im<T: Scalar>(col: &[T], d: &Dims, geo: &Conv2dGeometry, c0: usize, dx: &mut [T]) {
    let (ow, plane, hw, sw) = (d.ow, d.plane(), d.h * d.w, geo.stride[1]);
    for_each_run(d, geo, c0, |c, row, i, run| {
        let Some(Run { ih, j_lo, j_hi, start }) = run else {
            return;
        };
        let r = &col[row * plane + i * ow..row * plane + (i + 1) * ow];
        let dst = &mut dx[c * hw + ih * d.w..c * hw + (ih + 1) * d.w];
        if sw == 1 {
            dst[start..start + (j_hi - j_lo)]
                .iter_mut()
                .zip(&r[j_lo..j_hi])
                .for_each(|(a, &v)| *a += v);
        } else {
            for (k, &v) in r[j_lo..j_hi].iter().enumerate() {
                dst[start + k * sw] += v;
            }
        }
    });
}

/// Whether the patch matrix of a group is the image itself (1x1 kernel, stride 1, no padding).
fn is_pointwise(d: &Dims, geo: &Conv2dGeometry) -> bool {
    d.kh == 1 && d.kw == 1 && geo.stride == [1, 1] && geo.padding == [0, 0]
}

/// Runs `f(scratch, index, item)` over `items`, in parallel when more than one thread is set;
/// `init` makes the scratch space (patch matrices), once per thread's run of items rather than
/// once per item.
fn for_each_indexed<I: Send, S>(
    items: Vec<I>,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, I) + Sync,
) {
    if split_threads() > 1 && items.len() > 1 {
        items
            .into_par_iter()
            .enumerate()
            .for_each_init(&init, |s, (i, it)| f(s, i, it));
    } else {
        let mut s = init();
        items.into_iter().enumerate().for_each(|(i, it)| f(&mut s, i, it));
    }
}

/// Images per chunk of the weight gradient's sum (fixed, so the sum's order does not depend on
/// the thread count).
const CHUNK: usize = 4;

/// Forward 2-D convolution: `x [N, C, H, W]`, `w [O, C/groups, kh, kw]`, optional `b [O]` ->
/// `[N, O, OH, OW]` (see the module docs).
///
/// ```
/// use steepest::tensor::{conv2d, Conv2dGeometry, Tensor};
/// // A 3x3 image and a 2x2 kernel of ones: each output is the sum of a 2x2 window.
/// let x = Tensor::new((1..=9).map(|v| v as f32).collect(), &[1, 1, 3, 3])?;
/// let w = Tensor::ones(&[1, 1, 2, 2]);
/// let y = conv2d(&x, &w, None, &Conv2dGeometry::default())?;
/// assert_eq!(y.shape(), &[1, 1, 2, 2]);
/// assert_eq!(y.data(), &[12.0, 16.0, 24.0, 28.0]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn conv2d<T: Scalar>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    b: Option<&Tensor<T>>,
    geo: &Conv2dGeometry,
) -> Result<Tensor<T>> {
    let d = Dims::new(x.shape(), w.shape(), geo)?;
    if let Some(b) = b {
        if b.shape() != [d.o] {
            return Err(Error::invalid(
                "conv2d",
                format!("bias has shape {:?}, expected [{}]", b.shape(), d.o),
            ));
        }
    }
    let (plane, k, og) = (d.plane(), d.k(), d.o / d.g);
    let xs = x.data();
    let ws = w.data();
    let img_len = d.c * d.h * d.w;
    let pointwise = is_pointwise(&d, geo);
    let per = (d.o * plane).max(1);
    let total = d.n * d.o * plane;
    let mut y: Vec<T> = Vec::with_capacity(total);
    let items: Vec<&mut [MaybeUninit<T>]> = y.spare_capacity_mut()[..total].chunks_mut(CHUNK * per).collect();
    // One patch matrix per thread, reused across its images.
    let scratch = || {
        if pointwise {
            Vec::new()
        } else {
            vec![T::zero(); k * plane]
        }
    };
    for_each_indexed(items, scratch, |col, ci, outs| {
        // Each output plane starts as its channel's bias (or zero) and the products add onto
        // it: one pass over the output, no zero fill before it.
        let outs = start_planes(outs, plane, |o| b.map_or(T::zero(), |b| b.data()[o % d.o]));
        for (local, out) in outs.chunks_mut(per).enumerate() {
            let n = ci * CHUNK + local;
            let img = &xs[n * img_len..(n + 1) * img_len];
            for gi in 0..d.g {
                let c0 = gi * d.c / d.g;
                let colm = if pointwise {
                    MatRef::row_major(&img[c0 * plane..(c0 + d.c / d.g) * plane], k, plane)
                } else {
                    im2col(img, &d, geo, c0, col);
                    MatRef::row_major(col, k, plane)
                };
                let wg = MatRef::row_major(&ws[gi * og * k..(gi + 1) * og * k], og, k);
                matmul_slices(&mut out[gi * og * plane..(gi + 1) * og * plane], plane, wg, colm, true)
                    .expect("shapes checked");
            }
        }
    });
    // SAFETY: the chunks cover the first `total` elements, and `start_planes` wrote each one.
    unsafe { y.set_len(total) };
    Tensor::new(y, &[d.n, d.o, d.oh, d.ow])
}

/// Writes `value(p)` to every element of plane `p` (consecutive runs of `plane` elements) of
/// `out`, and returns it initialized.
fn start_planes<T: Copy>(out: &mut [MaybeUninit<T>], plane: usize, value: impl Fn(usize) -> T) -> &mut [T] {
    for (p, run) in out.chunks_mut(plane.max(1)).enumerate() {
        let v = value(p);
        run.iter_mut().for_each(|e| {
            e.write(v);
        });
    }
    // SAFETY: every element was written above; `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(out as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// The gradients of a convolution's input and weight, each when asked for.
pub type InputWeightGrads<T> = (Option<Tensor<T>>, Option<Tensor<T>>);

/// Gradients of [`conv2d`] with respect to its input and its weight (each only when asked for),
/// given the gradient `gy [N, O, OH, OW]` of its output. The bias gradient is `gy` summed over
/// `N`, `OH` and `OW`.
pub fn conv2d_backward<T: Scalar>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    gy: &Tensor<T>,
    geo: &Conv2dGeometry,
    need_x: bool,
    need_w: bool,
) -> Result<InputWeightGrads<T>> {
    let d = Dims::new(x.shape(), w.shape(), geo)?;
    if gy.shape() != [d.n, d.o, d.oh, d.ow] {
        return Err(Error::invalid(
            "conv2d backward",
            format!(
                "gradient has shape {:?}, expected {:?}",
                gy.shape(),
                [d.n, d.o, d.oh, d.ow]
            ),
        ));
    }
    let (plane, k, og) = (d.plane(), d.k(), d.o / d.g);
    let img_len = d.c * d.h * d.w;
    let out_len = d.o * plane;
    let (xs, ws, gs) = (x.data(), w.data(), gy.data());
    let pointwise = is_pointwise(&d, geo);
    let mut dx = need_x.then(|| Tensor::<T>::zeros(x.shape()));
    let chunks = d.n.div_ceil(CHUNK);
    let mut partial: Vec<Vec<T>> = if need_w {
        (0..chunks).map(|_| vec![T::zero(); w.len()]).collect()
    } else {
        Vec::new()
    };
    {
        let dx_chunks: Vec<Option<&mut [T]>> = match dx.as_mut() {
            Some(t) => t.data_mut().chunks_mut(CHUNK * img_len).map(Some).collect(),
            None => (0..chunks).map(|_| None).collect(),
        };
        let dw_chunks: Vec<Option<&mut Vec<T>>> = match need_w {
            true => partial.iter_mut().map(Some).collect(),
            false => (0..chunks).map(|_| None).collect(),
        };
        let items: Vec<_> = dx_chunks.into_iter().zip(dw_chunks).collect();
        let scratch = || {
            let col = vec![T::zero(); if pointwise { 0 } else { k * plane }];
            let dcol = vec![T::zero(); if need_x && !pointwise { k * plane } else { 0 }];
            (col, dcol)
        };
        for_each_indexed(items, scratch, |(col, dcol), ci, (mut dxc, mut dwc)| {
            for n in ci * CHUNK..((ci + 1) * CHUNK).min(d.n) {
                let img = &xs[n * img_len..(n + 1) * img_len];
                let gimg = &gs[n * out_len..(n + 1) * out_len];
                for gi in 0..d.g {
                    let c0 = gi * d.c / d.g;
                    let gyg = MatRef::row_major(&gimg[gi * og * plane..(gi + 1) * og * plane], og, plane);
                    let wg = MatRef::row_major(&ws[gi * og * k..(gi + 1) * og * k], og, k);
                    if let Some(dw) = dwc.as_deref_mut() {
                        let colm = if pointwise {
                            MatRef::row_major(&img[c0 * plane..(c0 + d.c / d.g) * plane], k, plane)
                        } else {
                            im2col(img, &d, geo, c0, col);
                            MatRef::row_major(col, k, plane)
                        };
                        let first = n == ci * CHUNK;
                        matmul_slices(&mut dw[gi * og * k..(gi + 1) * og * k], k, gyg, colm.t(), !first)
                            .expect("shapes checked");
                    }
                    if let Some(dxc) = dxc.as_deref_mut() {
                        let local = &mut dxc[(n - ci * CHUNK) * img_len..(n - ci * CHUNK + 1) * img_len];
                        if pointwise {
                            let dst = &mut local[c0 * plane..(c0 + d.c / d.g) * plane];
                            matmul_slices(dst, plane, wg.t(), gyg, false).expect("shapes checked");
                        } else {
                            matmul_slices(dcol, plane, wg.t(), gyg, false).expect("shapes checked");
                            col2im(dcol, &d, geo, c0, local);
                        }
                    }
                }
            }
        });
    }
    let dw = need_w.then(|| {
        let mut it = partial.into_iter();
        let mut acc = it.next().unwrap_or_else(|| vec![T::zero(); w.len()]);
        for p in it {
            acc.iter_mut().zip(&p).for_each(|(a, &b)| *a += b);
        }
        Tensor::new(acc, w.shape()).expect("weight shape")
    });
    Ok((dx, dw))
}

/// The bias gradient of a convolution: `gy [N, O, ...]` summed over every axis but the second.
pub fn channel_sum<T: Scalar>(gy: &Tensor<T>) -> Result<Tensor<T>> {
    let s = gy.shape();
    if s.len() < 2 {
        return Err(Error::invalid(
            "channel_sum",
            format!("expected [N, C, ...], got {s:?}"),
        ));
    }
    let (n, c) = (s[0], s[1]);
    let inner: usize = s[2..].iter().product();
    let mut out = vec![0.0f64; c];
    for i in 0..n {
        for (ch, o) in out.iter_mut().enumerate() {
            let start = (i * c + ch) * inner;
            *o += super::elementwise::sum(&gy.data()[start..start + inner]);
        }
    }
    Tensor::new(out.into_iter().map(T::of).collect(), &[c])
}
