//! Ranks as threads of one process: a [`Communicator`] for tests and for trying data-parallel
//! training without MPI.

use std::sync::{Arc, Barrier, Mutex};
use steepest::collective::Communicator;
use steepest::{Error, Result};

struct Shared {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<f64>>>,
    bytes: Mutex<Vec<u8>>,
}

/// One rank of a group made by [`ThreadComm::group`]; move each into its own thread. Sums are
/// taken in rank order, so results are deterministic.
///
/// ```
/// use steepest::collective::Communicator;
/// use steepest_distributed::ThreadComm;
/// let handles: Vec<_> = ThreadComm::group(3)
///     .into_iter()
///     .map(|mut c| {
///         std::thread::spawn(move || {
///             let mut v = [c.rank() as f64, 1.0];
///             c.allreduce_sum_f64(&mut v).unwrap();
///             v
///         })
///     })
///     .collect();
/// for h in handles {
///     assert_eq!(h.join().unwrap(), [3.0, 3.0]);
/// }
/// ```
pub struct ThreadComm {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl ThreadComm {
    /// `size` connected ranks, 0 to `size - 1`.
    pub fn group(size: usize) -> Vec<ThreadComm> {
        let size = size.max(1);
        let shared = Arc::new(Shared {
            barrier: Barrier::new(size),
            slots: Mutex::new(vec![Vec::new(); size]),
            bytes: Mutex::new(Vec::new()),
        });
        (0..size)
            .map(|rank| ThreadComm {
                rank,
                size,
                shared: shared.clone(),
            })
            .collect()
    }

    fn sum(&mut self, values: Vec<f64>) -> Result<Vec<f64>> {
        let poisoned = |_| Error::invalid("threads", "another rank panicked");
        self.shared.slots.lock().map_err(poisoned)?[self.rank] = values;
        self.shared.barrier.wait();
        let total = {
            let slots = self.shared.slots.lock().map_err(poisoned)?;
            let len = slots[0].len();
            if slots.iter().any(|s| s.len() != len) {
                return Err(Error::invalid("allreduce", "ranks passed buffers of different lengths"));
            }
            let mut total = vec![0.0; len];
            for s in slots.iter() {
                total.iter_mut().zip(s).for_each(|(t, v)| *t += v);
            }
            total
        };
        self.shared.barrier.wait();
        Ok(total)
    }
}

impl Communicator for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn allreduce_sum_f64(&mut self, buf: &mut [f64]) -> Result<()> {
        let total = self.sum(buf.to_vec())?;
        buf.copy_from_slice(&total);
        Ok(())
    }
    fn allreduce_sum_f32(&mut self, buf: &mut [f32]) -> Result<()> {
        // Summed in f64 and rounded once (an MPI sum in f32 may differ in the last bit).
        let total = self.sum(buf.iter().map(|&v| v as f64).collect())?;
        buf.iter_mut().zip(total).for_each(|(b, t)| *b = t as f32);
        Ok(())
    }
    fn broadcast(&mut self, root: usize, bytes: &mut Vec<u8>) -> Result<()> {
        if root >= self.size {
            return Err(Error::invalid(
                "broadcast",
                format!("root {root} of {} ranks", self.size),
            ));
        }
        let poisoned = |_| Error::invalid("threads", "another rank panicked");
        if self.rank == root {
            *self.shared.bytes.lock().map_err(poisoned)? = bytes.clone();
        }
        self.shared.barrier.wait();
        if self.rank != root {
            *bytes = self.shared.bytes.lock().map_err(poisoned)?.clone();
        }
        self.shared.barrier.wait();
        Ok(())
    }
    fn barrier(&mut self) -> Result<()> {
        self.shared.barrier.wait();
        Ok(())
    }
}
