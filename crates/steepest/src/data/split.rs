//! Seeded shuffling and stratified train/validation/test splits.

use super::dataset::Targets;
use crate::error::{Error, Result};
use crate::tensor::rng;
use rand::seq::SliceRandom;

/// A random permutation of `0..n`, the same for the same seed.
pub fn shuffled_indices(n: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng(seed));
    idx
}

/// Row indices of the three parts of a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows.
    pub val: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// Splits the rows of `targets` into train / validation / test with the given fractions,
/// seeded. For class targets the split is stratified: each class contributes
/// round(n_c * fraction) rows to validation and to test (so class proportions are kept), the
/// rest to training. Each part is in shuffled order.
///
/// ```
/// use steepest::data::{split, Targets};
/// let t = Targets::Classes { labels: vec![0, 0, 0, 0, 1, 1, 1, 1, 1, 1], names: vec!["a".into(), "b".into()] };
/// let s = split(&t, 0.0, 0.5, 7)?;
/// assert_eq!((s.train.len(), s.test.len()), (5, 5));
/// assert_eq!(s.test.iter().filter(|&&i| i < 4).count(), 2); // half of class "a"
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn split(targets: &Targets, val: f64, test: f64, seed: u64) -> Result<Split> {
    if !(0.0..1.0).contains(&val) || !(0.0..1.0).contains(&test) || val + test >= 1.0 {
        return Err(Error::invalid(
            "split",
            format!("fractions val {val} and test {test} must be in [0, 1) and sum below 1"),
        ));
    }
    let n = targets.len();
    let groups: Vec<Vec<usize>> = match targets {
        Targets::Classes { labels, names } => {
            let mut g = vec![Vec::new(); names.len()];
            for (i, &l) in labels.iter().enumerate() {
                g[l].push(i);
            }
            g
        }
        Targets::Values(_) => vec![(0..n).collect()],
    };
    let mut out = Split {
        train: vec![],
        val: vec![],
        test: vec![],
    };
    let mut r = rng(seed);
    for mut g in groups {
        g.shuffle(&mut r);
        let nt = (g.len() as f64 * test).round() as usize;
        let nv = ((g.len() as f64 * val).round() as usize).min(g.len() - nt);
        out.test.extend_from_slice(&g[..nt]);
        out.val.extend_from_slice(&g[nt..nt + nv]);
        out.train.extend_from_slice(&g[nt + nv..]);
    }
    out.train.shuffle(&mut r);
    out.val.shuffle(&mut r);
    out.test.shuffle(&mut r);
    if out.train.is_empty() {
        return Err(Error::invalid("split", format!("no training rows left out of {n}")));
    }
    Ok(out)
}
