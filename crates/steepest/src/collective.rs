//! Data-parallel training across processes: the small interface the training loop needs from a
//! communication engine (sum a slice across ranks, broadcast bytes, barrier), and the helpers
//! built on it.
//!
//! The `steepest-distributed` crate implements [`Communicator`] over MPI (and over threads, for
//! tests); the loop ([`fit_parallel`](crate::train::fit_parallel)) only knows this trait, so
//! another engine (a GPU collective library) is one more implementation.
//!
//! Sharding: rank `r` of `N` owns the contiguous rows [`shard_range`]`(n, r, N)`, which differ in
//! size by at most one row.
//!
//! ```
//! use steepest::collective::{shard_range, Communicator, SingleProcess};
//! let mut c = SingleProcess;
//! let mut g = [1.0f64, 2.0];
//! c.allreduce_sum_f64(&mut g)?; // one rank: the sum is the slice itself
//! assert_eq!(g, [1.0, 2.0]);
//! assert_eq!(shard_range(10, 1, 3), 4..7);
//! # Ok::<(), steepest::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::tensor::Scalar;
use std::any::TypeId;
use std::ops::Range;

/// The ranks of a job and the collectives the training loop uses. Every rank must call the
/// same collectives in the same order (they block until all ranks arrive).
pub trait Communicator {
    /// This process's rank, 0-based.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Replaces `buf` on every rank by its element-wise sum over all ranks.
    fn allreduce_sum_f64(&mut self, buf: &mut [f64]) -> Result<()>;
    /// [`Communicator::allreduce_sum_f64`] for `f32`.
    fn allreduce_sum_f32(&mut self, buf: &mut [f32]) -> Result<()>;
    /// Makes `bytes` on every rank equal to `bytes` on rank `root` (lengths may differ before).
    fn broadcast(&mut self, root: usize, bytes: &mut Vec<u8>) -> Result<()>;
    /// Returns once every rank has called it.
    fn barrier(&mut self) -> Result<()>;
}

/// One process alone: rank 0 of 1; every collective leaves its input as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn allreduce_sum_f64(&mut self, _buf: &mut [f64]) -> Result<()> {
        Ok(())
    }
    fn allreduce_sum_f32(&mut self, _buf: &mut [f32]) -> Result<()> {
        Ok(())
    }
    fn broadcast(&mut self, _root: usize, _bytes: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
    fn barrier(&mut self) -> Result<()> {
        Ok(())
    }
}

/// [`Communicator::allreduce_sum_f32`] or `_f64`, whichever `T` is.
pub fn allreduce_sum<T: Scalar>(comm: &mut dyn Communicator, buf: &mut [T]) -> Result<()> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked by TypeId), so the slice has the same layout.
        let s = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut f32, buf.len()) };
        comm.allreduce_sum_f32(s)
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: T is f64 (checked by TypeId), so the slice has the same layout.
        let s = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut f64, buf.len()) };
        comm.allreduce_sum_f64(s)
    } else {
        Err(Error::invalid(
            "allreduce",
            format!("unsupported element type {}", T::DTYPE),
        ))
    }
}

/// The rows rank `rank` of `size` owns out of `n`: a contiguous block, the first `n % size`
/// ranks holding one row more.
pub fn shard_range(n: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    let (q, r) = (n / size, n % size);
    let start = rank * q + rank.min(r);
    let len = q + usize::from(rank < r);
    start..(start + len).min(n)
}

/// Every rank's `text`, in rank order, on every rank (one broadcast per rank).
pub fn gather_text(comm: &mut dyn Communicator, text: &str) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(comm.size());
    for root in 0..comm.size() {
        let mut bytes = if root == comm.rank() {
            text.as_bytes().to_vec()
        } else {
            Vec::new()
        };
        comm.broadcast(root, &mut bytes)?;
        out.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(out)
}

/// Agrees on whether every rank succeeded: `local_error` is this rank's failure, if any. Returns
/// on every rank `None` when no rank failed, otherwise one message naming each failed rank and
/// its error (so that rank 0 can report why the job stops).
pub fn failed_ranks(comm: &mut dyn Communicator, local_error: Option<&str>) -> Result<Option<String>> {
    let mut flags = vec![0.0f64; comm.size()];
    if local_error.is_some() {
        flags[comm.rank()] = 1.0;
    }
    comm.allreduce_sum_f64(&mut flags)?;
    if flags.iter().all(|&f| f == 0.0) {
        return Ok(None);
    }
    let all = gather_text(comm, local_error.unwrap_or(""))?;
    let msgs: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(r, _)| flags[*r] != 0.0)
        .map(|(r, m)| format!("rank {r}: {m}"))
        .collect();
    Ok(Some(format!(
        "{} of {} ranks failed: {}",
        msgs.len(),
        comm.size(),
        msgs.join("; ")
    )))
}

/// [`failed_ranks`] for a local result: `Ok(value)` on every rank when all succeeded, otherwise
/// on every rank an error naming each failed rank and its message.
pub fn all_ok<V>(comm: &mut dyn Communicator, local: Result<V>) -> Result<V> {
    let mine = local.as_ref().err().map(|e| e.to_string());
    match failed_ranks(comm, mine.as_deref())? {
        None => local,
        Some(msg) => Err(Error::invalid("distributed", msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_row_once() {
        for n in 0..20 {
            for size in 1..6 {
                let mut next = 0;
                for r in 0..size {
                    let s = shard_range(n, r, size);
                    assert_eq!(s.start, next);
                    assert!(s.len() == n / size || s.len() == n / size + 1);
                    next = s.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn single_process_is_identity() {
        let mut c = SingleProcess;
        let mut v = [1.5f32, -2.0];
        allreduce_sum(&mut c, &mut v).unwrap();
        assert_eq!(v, [1.5, -2.0]);
        let e = all_ok::<()>(&mut c, Err(Error::invalid("read", "no such file"))).unwrap_err();
        assert!(e.to_string().contains("rank 0: "), "{e}");
        assert_eq!(gather_text(&mut c, "hi").unwrap(), ["hi"]);
    }
}

thread_local! {
    /// The communicator of the training step running on this thread, for layers whose forward
    /// and backward reduce over the ranks (synchronized batch norm).
    static STEP_COMM: std::cell::Cell<Option<std::ptr::NonNull<dyn Communicator>>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with `comm` as this thread's step communicator: layers that synchronize over the
/// ranks ([`BatchNorm`](crate::nn::layers::BatchNorm) with synchronized statistics) reduce
/// through it while `f` runs (the loss and gradient of one step). The previous one, if any, is
/// put back afterwards, also when `f` panics.
///
/// ```
/// use steepest::collective::{step_allreduce_sum, with_step_communicator, SingleProcess};
/// let mut buf = [1.0, 2.0];
/// assert!(!step_allreduce_sum(&mut buf).unwrap()); // no communicator: nothing reduced
/// let synced = with_step_communicator(&mut SingleProcess, || step_allreduce_sum(&mut buf)).unwrap();
/// assert!(synced);
/// assert_eq!(buf, [1.0, 2.0]); // one rank: the sum is itself
/// ```
pub fn with_step_communicator<R>(comm: &mut dyn Communicator, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<std::ptr::NonNull<dyn Communicator>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            STEP_COMM.with(|c| c.set(self.0));
        }
    }
    let ptr: std::ptr::NonNull<dyn Communicator + '_> = std::ptr::NonNull::from(comm);
    // SAFETY: only the lifetime bound of the trait object changes; the pointer is removed from
    // the thread-local (by `Restore`) before the borrow of `comm` ends, and it is used only on
    // this thread, while `f` runs, when nothing else uses `comm`.
    let ptr: std::ptr::NonNull<dyn Communicator> = unsafe { std::mem::transmute(ptr) };
    let _restore = Restore(STEP_COMM.with(|c| c.replace(Some(ptr))));
    f()
}

/// Sums `buf` over the ranks through this thread's step communicator (see
/// [`with_step_communicator`]); returns whether there was one (without, `buf` is left as it
/// is: one process).
pub fn step_allreduce_sum(buf: &mut [f64]) -> Result<bool> {
    let Some(mut ptr) = STEP_COMM.with(|c| c.take()) else {
        return Ok(false);
    };
    // Taken out while in use, so that a nested call cannot alias it; put back below.
    struct Back(std::ptr::NonNull<dyn Communicator>);
    impl Drop for Back {
        fn drop(&mut self) {
            STEP_COMM.with(|c| c.set(Some(self.0)));
        }
    }
    let _back = Back(ptr);
    // SAFETY: the pointer was installed by `with_step_communicator` from a live `&mut`, whose
    // scope is still running on this thread (it removes the pointer before returning).
    unsafe { ptr.as_mut() }.allreduce_sum_f64(buf)?;
    Ok(true)
}

/// Whether a step communicator is installed on this thread (see [`with_step_communicator`]).
pub fn step_synced() -> bool {
    STEP_COMM.with(|c| c.get().is_some())
}
