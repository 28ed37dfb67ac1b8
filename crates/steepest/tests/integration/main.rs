//! The library's integration tests, one binary (one link, one copy of the generic code); the
//! tests that set the thread count are the `threads` binary. Each module holds one subject;
//! `cargo test -p steepest --test integration <module>::` runs one.
//! Every test checks against an independent oracle: finite differences, a plain reference loop,
//! a closed form or a hand-computed step.

mod attention;
mod common;
mod data_tools;
mod gradcheck_ops;
mod huge_pages;
mod indexing;
mod kernel_svm;
mod linear_fast_path;
mod linear_gradients;
mod models;
mod modules;
mod norms;
mod optim_convergence;
mod optim_formulas;
mod optim_state;
mod optim_tools;
mod readers;
mod schedules;
mod sgd_fast_path;
mod streaming;
mod tabular;
mod tensor_ops;
mod train_parts;
mod training;
mod views;
