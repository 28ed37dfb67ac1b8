//! The distributed crate's integration tests over thread ranks, one binary; the tests over a
//! real MPI launch (feature `mpi`) are `tests/mpi.rs`.

mod common;
mod data_parallel;
mod read_shard;
