//! # steepest-distributed
//!
//! Synchronous data-parallel training for Steepest across processes, over MPI.
//!
//! * [`MpiComm`] (feature `mpi`): the [`Communicator`] of an MPI job started with
//!   `mpirun -np N`, through rsmpi over the system's Open MPI or MPICH.
//! * [`ThreadComm`]: ranks as threads of one process, for tests and for trying things out.
//! * [`read_shard`]: each rank reads its own rows of a data file (a byte range of a LIBSVM
//!   file), with the columns, task and classes agreed across ranks.
//! * Mini-batch training: pass each rank's shard and a communicator to
//!   [`ValidMlpParams::fit_parallel`](steepest::models::ValidMlpParams::fit_parallel) (or the
//!   linear models', or [`steepest::train::fit_parallel`]): each step averages the gradients of
//!   all ranks with one allreduce over one flat buffer, so N ranks with batch b take the steps of
//!   one process with batch N b.
//! * The linear fast path: [`sgd_passes_averaged`], parameter averaging after each pass.
//!
//! The communication sits behind [`Communicator`] (allreduce-sum of a slice, broadcast,
//! barrier), defined in the core library so that the training loop knows no MPI.
//!
//! ```
//! use steepest::collective::{shard_range, Communicator};
//! use steepest::data::embedded;
//! use steepest::models::MlpParams;
//! use steepest_distributed::ThreadComm;
//!
//! let data = embedded::by_name::<f32>("iris")?;
//! let mut p = MlpParams::default();
//! p.hidden = vec![8];
//! p.fit.train.epochs = 3;
//! let spec = p.check()?;
//! let models: Vec<_> = std::thread::scope(|s| {
//!     let handles: Vec<_> = ThreadComm::group(2)
//!         .into_iter()
//!         .map(|mut c| {
//!             let (spec, data) = (&spec, &data);
//!             s.spawn(move || {
//!                 let rows: Vec<usize> = shard_range(data.rows(), c.rank(), c.size()).collect();
//!                 let mine = data.subset(&rows).unwrap();
//!                 spec.fit_parallel(&mine, None, &mut [], Some(&mut c)).unwrap()
//!             })
//!         })
//!         .collect();
//!     handles.into_iter().map(|h| h.join().unwrap()).collect()
//! });
//! // Both ranks end with the same parameters.
//! assert_eq!(models[0].net.params.flatten(), models[1].net.params.flatten());
//! # Ok::<(), steepest::Error>(())
//! ```

mod linear;
#[cfg(feature = "mpi")]
mod mpi_comm;
mod shard;
mod threads;

pub use linear::sgd_passes_averaged;
#[cfg(feature = "mpi")]
pub use mpi_comm::MpiComm;
pub use shard::read_shard;
pub use steepest::collective::Communicator;
pub use threads::ThreadComm;
