//! Multi-start: the simplest answer to local minima.

use crate::error::{Error, Result};
use crate::tensor::{rng, Rng};

/// The outcome of [`multi_start`].
#[derive(Clone, Debug)]
pub struct MultiStartResult<P> {
    /// The best solution found.
    pub best: P,
    /// Its objective value.
    pub best_value: f64,
    /// Which start found it (0-based).
    pub best_start: usize,
    /// Final value of every start, in order.
    pub values: Vec<f64>,
}

/// Runs `k` independent starts and keeps the one with the lowest final value. Start i gets its
/// own generator seeded with `seed + i`, so start 0 is exactly the single run with `seed`, and
/// the starts are reproducible. `run(i, rng)` draws its starting point from `rng`, optimizes
/// and returns the solution and its value; non-finite values never win.
///
/// ```
/// use steepest::optim::multi_start;
/// use rand::Rng as _;
/// // Minimize (x^2 - 1)^2 + 0.3 x by "optimizing" = sampling: the best of 20 draws.
/// let r = multi_start(20, 7, |_, rng| {
///     let x: f64 = rng.random_range(-2.0..2.0);
///     Ok((x, (x * x - 1.0).powi(2) + 0.3 * x))
/// })?;
/// assert!(r.best < 0.0 && r.values.len() == 20);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn multi_start<P>(
    k: usize,
    seed: u64,
    mut run: impl FnMut(usize, &mut Rng) -> Result<(P, f64)>,
) -> Result<MultiStartResult<P>> {
    if k == 0 {
        return Err(Error::invalid("multi_start", "needs at least one start"));
    }
    let mut best: Option<(P, f64, usize)> = None;
    let mut values = Vec::with_capacity(k);
    for i in 0..k {
        let mut r = rng(seed.wrapping_add(i as u64));
        let (p, v) = run(i, &mut r)?;
        values.push(v);
        let better = v.is_finite() && best.as_ref().is_none_or(|b| !b.1.is_finite() || v < b.1);
        if better || best.is_none() {
            best = Some((p, v, i));
        }
    }
    let (best, best_value, best_start) = best.expect("k >= 1");
    Ok(MultiStartResult {
        best,
        best_value,
        best_start,
        values,
    })
}
