//! Helpers shared by the tests: ranks as threads.

use steepest_distributed::ThreadComm;

/// Runs `f(comm)` on `n` thread ranks; returns each rank's result in rank order.
pub fn on_ranks<R: Send>(n: usize, f: impl Fn(&mut ThreadComm) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let handles: Vec<_> = ThreadComm::group(n)
            .into_iter()
            .map(|mut c| {
                let f = &f;
                s.spawn(move || f(&mut c))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
