//! The tests that set the library's thread count ([`steepest::tensor::set_num_threads`], one
//! setting for the whole process), in a binary of their own: every test here holds
//! [`one_at_a_time`] while it runs, so no test sees another's count, and the tests of the
//! `integration` binary never see anything but the default of one thread.

mod batch_split;
mod conv_pool;
mod mlp_kernel;
mod parallel_blocks;

/// Holds the process's thread count for one test: taken first thing by every test of this
/// binary; the count is back at 1 when the guard drops (even when the test panics).
pub fn one_at_a_time() -> OneAtATime {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    steepest::tensor::set_num_threads(1);
    OneAtATime { _held: guard }
}

/// The guard of [`one_at_a_time`].
pub struct OneAtATime {
    _held: std::sync::MutexGuard<'static, ()>,
}

impl Drop for OneAtATime {
    fn drop(&mut self) {
        steepest::tensor::set_num_threads(1);
    }
}
