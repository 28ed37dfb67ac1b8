//! Keeping rayon's other threads awake while a training loop runs.
//!
//! A training step has several short parallel parts (the batch's shares, the weight-gradient
//! blocks, the optimizer's sweep) with short serial gaps between them. Rayon puts a thread that
//! found no work to sleep after a few microseconds of searching, and waking it again costs tens
//! of microseconds (more on a virtual machine, where the idle CPU halts): on W1 with 2 threads
//! that was about 3.5 sleeps per 0.8 ms step. [`with_warm_pool`] runs a closure while a helper
//! on each other thread of the set count keeps looking for work with [`rayon::yield_now`] and
//! runs what it finds. The helper spins only while it keeps finding work: after
//! [`SPIN_IDLE`] without any it naps [`NAP`] at a time, so a long serial stretch (an
//! evaluation, a checkpoint write) or another process on the core costs it little.

use super::num_threads;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a helper keeps looking for work without finding any before it naps.
pub const SPIN_IDLE: Duration = Duration::from_micros(500);
/// A helper's nap once it has been idle for [`SPIN_IDLE`].
pub const NAP: Duration = Duration::from_micros(200);

/// Rounds of looking for work without finding any, and since when.
#[derive(Default)]
struct IdleClock {
    rounds: u32,
    since: Option<Instant>,
}

impl IdleClock {
    /// Counts one idle round; whether the rounds since the first have lasted [`SPIN_IDLE`]. The
    /// clock is read once per 64 rounds (reading it is not free either).
    fn spun_out(&mut self) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.rounds = self.rounds.wrapping_add(1);
        self.rounds.is_multiple_of(64) && since.elapsed() >= SPIN_IDLE
    }
}

/// Runs `f`, with helpers on the other threads of rayon's pool (up to the set thread count)
/// running the pool's work as soon as it appears. Called on a thread of the pool (inside
/// `rayon::scope` or a pool's `install`); elsewhere, or with one thread, it just runs `f`.
/// The helpers stop when `f` returns (or unwinds).
///
/// ```
/// use steepest::tensor::{pool::with_warm_pool, set_num_threads};
/// set_num_threads(2);
/// let s: u64 = rayon::scope(|_| with_warm_pool(|| {
///     use rayon::prelude::*;
///     (0..1000u64).into_par_iter().sum()
/// }));
/// set_num_threads(1);
/// assert_eq!(s, 499_500);
/// ```
pub fn with_warm_pool<R>(f: impl FnOnce() -> R) -> R {
    let Some(me) = rayon::current_thread_index() else {
        return f();
    };
    let helpers = num_threads().min(rayon::current_num_threads()).saturating_sub(1);
    if helpers == 0 {
        return f();
    }
    let active = Arc::new(AtomicBool::new(true));
    let started = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&active);
    rayon::spawn_broadcast(move |ctx| {
        // Never on the caller's thread (it would hold it), and no more helpers than threads set.
        if ctx.index() == me || started.fetch_add(1, Ordering::Relaxed) >= helpers {
            return;
        }
        let mut idle = IdleClock::default();
        while flag.load(Ordering::Relaxed) {
            if let Some(rayon::Yield::Executed) = rayon::yield_now() {
                idle = IdleClock::default();
                continue;
            }
            if idle.spun_out() {
                std::thread::sleep(NAP);
            } else {
                std::hint::spin_loop();
            }
        }
    });
    /// Stops the helpers however `f` ends.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Relaxed);
        }
    }
    let _stop = Stop(active);
    f()
}

/// Runs `f` on every part and returns the results in order: part 0 on the calling thread, the
/// others as jobs of rayon's pool (taken by the other threads, or by the caller once it is
/// done with its own). A fork-join like `rayon::join`, but the caller waits for the other parts
/// by spinning (and running any pool work it finds) for up to [`SPIN_IDLE`] before it falls
/// back to rayon's sleeping wait: the parts of a training step end within microseconds of each
/// other, and waking a sleeping thread costs tens of microseconds (measured on W1: about 30-50
/// us at the end of each of a step's parallel parts).
///
/// ```
/// use steepest::tensor::pool::run_parts;
/// let squares = run_parts(vec![1u64, 2, 3, 4], |x| x * x);
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
pub fn run_parts<P: Send, R: Send>(parts: Vec<P>, f: impl Fn(P) -> R + Sync) -> Vec<R> {
    let n = parts.len();
    if n <= 1 {
        return parts.into_iter().map(f).collect();
    }
    let slots: Vec<std::sync::Mutex<Option<R>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let done = AtomicUsize::new(0);
    let mut parts = parts.into_iter();
    let first = parts.next();
    rayon::scope(|s| {
        let (f, slots, done) = (&f, &slots, &done);
        for (i, p) in parts.enumerate() {
            s.spawn(move |_| {
                let r = f(p);
                *slots[i + 1].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                done.fetch_add(1, Ordering::Release);
            });
        }
        if let Some(p) = first {
            let r = f(p);
            *slots[0].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
        let mut idle = IdleClock::default();
        while done.load(Ordering::Acquire) < n - 1 {
            match rayon::yield_now() {
                Some(rayon::Yield::Executed) => continue,
                Some(rayon::Yield::Idle) => {}
                // Not a thread of the pool: the scope's own wait is all there is.
                None => break,
            }
            if idle.spun_out() {
                break;
            }
            std::hint::spin_loop();
        }
    });
    // The scope returned, so every part ran (a panic in one would have resumed here).
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("rayon::scope runs every spawned part before returning")
        })
        .collect()
}
