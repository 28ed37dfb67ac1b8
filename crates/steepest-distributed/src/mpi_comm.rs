//! [`Communicator`] over the system MPI (Open MPI, MPICH) through rsmpi.

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives, Root};
use steepest::collective::Communicator;
use steepest::{Error, Result};

/// The world communicator of an MPI job; MPI is finalized when it is dropped. Start the program
/// with `mpirun -np N ...`; started alone it is rank 0 of 1.
pub struct MpiComm {
    world: SimpleCommunicator,
    scratch64: Vec<f64>,
    scratch32: Vec<f32>,
    // Declared last so that it drops (finalizes MPI) after `world`.
    _universe: Universe,
}

impl MpiComm {
    /// Initializes MPI (once per process).
    pub fn init() -> Result<Self> {
        let universe =
            mpi::initialize().ok_or_else(|| Error::invalid("mpi", "MPI was already initialized in this process"))?;
        Ok(Self {
            world: universe.world(),
            scratch64: Vec::new(),
            scratch32: Vec::new(),
            _universe: universe,
        })
    }

    /// The host this rank runs on, as MPI names it.
    pub fn host(&self) -> String {
        mpi::environment::processor_name().unwrap_or_else(|_| "unknown host".into())
    }

    /// Ends every rank of the job with exit status `code` (MPI_Abort): for a rank that cannot go
    /// on while the others wait in a collective.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

impl Communicator for MpiComm {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }
    fn size(&self) -> usize {
        self.world.size() as usize
    }
    fn allreduce_sum_f64(&mut self, buf: &mut [f64]) -> Result<()> {
        self.scratch64.clear();
        self.scratch64.resize(buf.len(), 0.0);
        self.world
            .all_reduce_into(&buf[..], &mut self.scratch64[..], SystemOperation::sum());
        buf.copy_from_slice(&self.scratch64);
        Ok(())
    }
    fn allreduce_sum_f32(&mut self, buf: &mut [f32]) -> Result<()> {
        self.scratch32.clear();
        self.scratch32.resize(buf.len(), 0.0);
        self.world
            .all_reduce_into(&buf[..], &mut self.scratch32[..], SystemOperation::sum());
        buf.copy_from_slice(&self.scratch32);
        Ok(())
    }
    fn broadcast(&mut self, root: usize, bytes: &mut Vec<u8>) -> Result<()> {
        if root >= self.size() {
            return Err(Error::invalid(
                "broadcast",
                format!("root {root} of {} ranks", self.size()),
            ));
        }
        let p = self.world.process_at_rank(root as i32);
        let mut len = bytes.len() as u64;
        p.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        // An empty buffer is skipped on every rank (all know the length): MPI rejects the
        // dangling pointer of an empty slice.
        if len > 0 {
            p.broadcast_into(&mut bytes[..]);
        }
        Ok(())
    }
    fn barrier(&mut self) -> Result<()> {
        self.world.barrier();
        Ok(())
    }
}
