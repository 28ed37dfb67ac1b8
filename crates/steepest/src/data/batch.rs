//! One batch iterator for all three variants: batch size 1 is SGD, b is mini-batch gradient
//! descent, all rows is full-batch gradient descent.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Rows per gradient step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchSize {
    /// This many rows (1: stochastic gradient descent).
    Rows(usize),
    /// Every row: full-batch gradient descent.
    Full,
}

impl BatchSize {
    /// Parses `full`/`all` or a positive integer.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "full" | "all" => Ok(BatchSize::Full),
            t => match t.parse::<usize>() {
                Ok(b) if b > 0 => Ok(BatchSize::Rows(b)),
                _ => Err(Error::invalid(
                    "batch size",
                    format!("expected a positive integer or 'full', found '{s}'"),
                )),
            },
        }
    }

    /// Rows per batch for a dataset of `n` rows.
    pub fn rows(self, n: usize) -> usize {
        match self {
            BatchSize::Rows(b) => b.min(n).max(1),
            BatchSize::Full => n.max(1),
        }
    }
}

/// The batches of one epoch: a permutation of the rows (seeded by the run seed and the epoch
/// number, so every epoch differs and a resumed run sees the same order) cut into pieces.
///
/// ```
/// use steepest::data::{BatchSize, Batches};
/// let b = Batches::new(10, BatchSize::Rows(4), true, 42, 0);
/// let sizes: Vec<usize> = b.iter().map(|c| c.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// assert_eq!(Batches::new(10, BatchSize::Full, true, 42, 0).len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Batches {
    order: Vec<usize>,
    size: usize,
}

impl Batches {
    /// The batches of epoch `epoch` over `n` rows.
    pub fn new(n: usize, size: BatchSize, shuffle: bool, seed: u64, epoch: u64) -> Self {
        let order = if shuffle {
            super::shuffled_indices(n, seed ^ (epoch.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        } else {
            (0..n).collect()
        };
        Self {
            order,
            size: size.rows(n),
        }
    }

    /// The batches in order.
    pub fn iter(&self) -> std::slice::Chunks<'_, usize> {
        self.order.chunks(self.size)
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(self.size)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
