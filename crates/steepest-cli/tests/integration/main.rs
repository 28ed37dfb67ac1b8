//! The command line's integration tests, one binary: each module drives the `steepest` program
//! on one subject; `cargo test -p steepest-cli --test integration <module>::` runs one. The MPI
//! tests (feature `mpi`) are `tests/distributed.rs`.

mod cli;
mod common;
mod dashboard_browser;
mod dashboard_http;
mod images;
mod interactions;
mod kernel_svm;
mod limits;
mod linear_sparse;
mod run_folders;
mod tabular;
