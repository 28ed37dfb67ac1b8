//! Element-wise loops over long slices, split across threads when that pays.
//!
//! The split is by fixed blocks of [`BLOCK`] elements, never by the thread count, so a loop
//! whose blocks are independent (an optimizer step, a weighted sum of gradients) gives the same
//! bits on any number of threads, and a reduction that sums its blocks' partial results in
//! block order does too.

use super::{num_threads, Scalar};
use rayon::prelude::*;

/// Elements per block: 64 KiB of f32, enough work (~2-5 us) to outweigh handing it to another
/// thread, small enough to stay in the level-2 cache while a loop touches several arrays.
pub const BLOCK: usize = 1 << 14;

/// Whether a loop over `n` elements is split across threads: more than one thread is set
/// ([`set_num_threads`](super::set_num_threads)) and there are at least two blocks.
pub fn split_pays(n: usize) -> bool {
    num_threads() > 1 && n >= 2 * BLOCK
}

/// Runs `f(start, blocks)` on the consecutive blocks of `N` slices of one length, the blocks at
/// the same place together (in parallel when [`split_pays`]); `start` is the blocks' first
/// index, for reading other slices alongside.
///
/// # Panics
/// When the slices differ in length.
///
/// ```
/// use steepest::tensor::elementwise::for_blocks;
/// let g = vec![1.0f32; 100_000];
/// let (mut p, mut b) = (vec![2.0f32; 100_000], vec![0.0f32; 100_000]);
/// for_blocks([&mut p, &mut b], |start, [p, b]| {
///     for ((p, b), g) in p.iter_mut().zip(b.iter_mut()).zip(&g[start..]) {
///         *b = 0.9 * *b + g;
///         *p -= 0.5 * *b;
///     }
/// });
/// assert!(p.iter().all(|&v| v == 1.5) && b.iter().all(|&v| v == 1.0));
/// ```
pub fn for_blocks<T: Send, const N: usize>(slices: [&mut [T]; N], f: impl Fn(usize, [&mut [T]; N]) + Sync + Send) {
    let n = slices.first().map_or(0, |s| s.len());
    assert!(
        slices.iter().all(|s| s.len() == n),
        "for_blocks: slices of different lengths"
    );
    let mut iters = slices.map(|s| s.chunks_mut(BLOCK));
    let blocks = (0..n.div_ceil(BLOCK)).map(|i| {
        let b = iters.each_mut().map(|it| it.next().expect("equal lengths"));
        (i * BLOCK, b)
    });
    if split_pays(n) {
        let blocks: Vec<_> = blocks.collect();
        blocks.into_par_iter().for_each(|(at, b)| f(at, b));
    } else {
        blocks.for_each(|(at, b)| f(at, b));
    }
}

/// For each slice, the sum of `f(block)` over its consecutive blocks, added in block order (so
/// the same on any number of threads); the blocks of all slices run in one parallel sweep when
/// [`split_pays`] for their total length.
///
/// ```
/// use steepest::tensor::elementwise::sum_blocks_each;
/// let (a, b) = (vec![1.0f32; 70_000], vec![2.0f32; 5]);
/// let sums = sum_blocks_each(&[&a, &b], |x| x.iter().map(|&v| f64::from(v)).sum());
/// assert_eq!(sums, vec![70_000.0, 10.0]);
/// ```
pub fn sum_blocks_each<T: Sync>(slices: &[&[T]], f: impl Fn(&[T]) -> f64 + Sync) -> Vec<f64> {
    let blocks: Vec<(usize, &[T])> = slices
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.chunks(BLOCK).map(move |b| (i, b)))
        .collect();
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let parts: Vec<f64> = if split_pays(total) {
        blocks.par_iter().map(|(_, b)| f(b)).collect()
    } else {
        blocks.iter().map(|(_, b)| f(b)).collect()
    };
    let mut sums = vec![0.0; slices.len()];
    for ((i, _), v) in blocks.iter().zip(parts) {
        sums[*i] += v;
    }
    sums
}

/// The sum of the squares of `data`, in f64: each block summed with 32 partial sums (so that
/// the additions do not wait on each other), the block sums added in order by [`sum_blocks_each`].
///
/// ```
/// use steepest::tensor::elementwise::sum_of_squares;
/// assert_eq!(sum_of_squares(&[3.0f32, 4.0]), 25.0);
/// ```
pub fn sum_of_squares<T: Scalar>(data: &[T]) -> f64 {
    sum_of_squares_each(&[data])[0]
}

/// [`sum_of_squares`] of one block on the calling thread: no split, no allocation (32
/// partial sums, added in order).
///
/// ```
/// use steepest::tensor::elementwise::sum_of_squares_serial;
/// assert_eq!(sum_of_squares_serial(&[1.0f32, 2.0, 2.0]), 9.0);
/// ```
pub fn sum_of_squares_serial<T: Scalar>(data: &[T]) -> f64 {
    squares(data)
}

/// [`sum_of_squares`] of each slice, in one parallel sweep.
pub fn sum_of_squares_each<T: Scalar>(slices: &[&[T]]) -> Vec<f64> {
    sum_blocks_each(slices, squares)
}

/// Partial sums of [`lanes`]: four vectors of eight f64, so that an AVX-512 core has four
/// independent chains of additions in flight (one chain waits the addition's latency, four
/// cycles, per eight elements: on W1 that made the gradient's sum of squares 2.2 % of a step).
const LANES: usize = 32;

/// `sum f(d_i)` in f64 over [`LANES`] partial sums (so that the additions do not wait on each
/// other and the loop vectorizes), added in order.
#[inline(always)]
fn lanes<T: Scalar>(d: &[T], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = d.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            acc[k] += f(c[k].as_f64());
        }
    }
    acc.iter().sum::<f64>() + rest.iter().map(|v| f(v.as_f64())).sum::<f64>()
}

#[inline(always)]
fn squares_generic<T: Scalar>(d: &[T]) -> f64 {
    lanes(d, |v| v * v)
}

// `squares_generic` compiled for the widest vectors the CPU has (the same bits on each).
super::multiversion!(fn squares<T>(d: &[T]) -> f64 => squares_generic);

#[inline(always)]
fn sum_generic<T: Scalar>(d: &[T]) -> f64 {
    lanes(d, |v| v)
}

// `sum_generic` compiled for the widest vectors the CPU has.
super::multiversion!(fn sum_lanes<T>(d: &[T]) -> f64 => sum_generic);

#[inline(always)]
fn map1_generic<T: Scalar>(x: &[T], f: impl Fn(T) -> T) -> Vec<T> {
    x.iter().map(|&a| f(a)).collect()
}

#[inline(always)]
fn map2_generic<T: Scalar>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    x.iter().zip(y).map(|(&a, &b)| f(a, b)).collect()
}

#[inline(always)]
fn map3_generic<T: Scalar>(x: &[T], y: &[T], z: &[T], f: impl Fn(T, T, T) -> T) -> Vec<T> {
    x.iter().zip(y).zip(z).map(|((&a, &b), &c)| f(a, b, c)).collect()
}

// The element-wise maps compiled for the widest vectors the CPU has (each element is computed
// alone, so every width gives the same bits).
super::multiversion!(fn map1_wide<T>(x: &[T], f: impl Fn(T) -> T) -> Vec<T> => map1_generic);
super::multiversion!(fn map2_wide<T>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> Vec<T> => map2_generic);
super::multiversion!(fn map3_wide<T>(x: &[T], y: &[T], z: &[T], f: impl Fn(T, T, T) -> T) -> Vec<T> => map3_generic);

/// `f(x_i)` for every element, in the CPU's widest vectors.
///
/// ```
/// use steepest::tensor::elementwise::map;
/// assert_eq!(map(&[1.0f32, -2.0], |v| v.max(0.0)), vec![1.0, 0.0]);
/// ```
pub fn map<T: Scalar>(x: &[T], f: impl Fn(T) -> T) -> Vec<T> {
    map1_wide(x, f)
}

/// `f(x_i, y_i)` for every pair of elements (the slices have one length), in the CPU's widest
/// vectors.
///
/// ```
/// use steepest::tensor::elementwise::map2;
/// assert_eq!(map2(&[1.0f32, 2.0], &[3.0, 4.0], |a, b| a * b), vec![3.0, 8.0]);
/// ```
///
/// # Panics
/// When the slices differ in length.
pub fn map2<T: Scalar>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    assert_eq!(x.len(), y.len(), "map2: slices of different lengths");
    map2_wide(x, y, f)
}

/// `f(x_i, y_i, z_i)` for every triple of elements (the slices have one length), in the CPU's
/// widest vectors.
///
/// ```
/// use steepest::tensor::elementwise::map3;
/// assert_eq!(map3(&[1.0f32], &[2.0], &[3.0], |a, b, c| a * b + c), vec![5.0]);
/// ```
///
/// # Panics
/// When the slices differ in length.
pub fn map3<T: Scalar>(x: &[T], y: &[T], z: &[T], f: impl Fn(T, T, T) -> T) -> Vec<T> {
    assert!(
        x.len() == y.len() && y.len() == z.len(),
        "map3: slices of different lengths"
    );
    map3_wide(x, y, z, f)
}

/// The sum of `data` in f64, over 32 partial sums: the same bits on every CPU (the vector
/// width changes the speed, not the order of the additions).
///
/// ```
/// use steepest::tensor::elementwise::sum;
/// assert_eq!(sum(&[1.0f32, 2.0, 3.5]), 6.5);
/// ```
pub fn sum<T: Scalar>(data: &[T]) -> f64 {
    sum_lanes(data)
}
