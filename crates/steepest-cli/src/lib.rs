//! The `steepest` command-line program as a library: the binary's `main` calls [`run`]; the
//! run configuration ([`config::RunConfig`]) is public for the fuzz targets and tools.
//!
//! Exit codes: 0 on success, 2 for bad usage or input (flags, files, models), 1 for failures
//! during a run (divergence, unwritable outputs).

pub mod args;
mod cmd_datasets;
mod cmd_landscape;
mod cmd_lr_find;
mod cmd_model;
mod cmd_stats;
mod cmd_stream;
mod cmd_train;
pub mod config;
mod dashboard;
mod data_load;
mod distributed;
pub mod error;
mod live_run;
mod output;
mod pictures;
mod plots;
mod progress;
mod run_folder;
mod score_stream;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// Sets the thread count of matrix products (0: every core).
pub fn set_threads(n: usize) {
    let n = if n == 0 {
        std::thread::available_parallelism().map_or(1, |p| p.get())
    } else {
        n
    };
    steepest::tensor::set_num_threads(n);
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn run() -> ExitCode {
    // Output piped into a reader that stops early (`steepest predict ... | head`) ends the
    // process quietly, as other command-line tools do, instead of a panic in println!.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let result = match cli.command {
        Command::Train(a) => cmd_train::run(a),
        Command::Eval(a) => cmd_model::eval(a),
        Command::Predict(a) => cmd_model::predict(a),
        Command::Inspect(a) => cmd_model::inspect(a),
        Command::LrFind(a) => cmd_lr_find::run(a),
        Command::Landscape(a) => cmd_landscape::run(a),
        Command::Datasets(a) => cmd_datasets::run(a),
        Command::Dashboard(a) => dashboard::serve(a),
        Command::Report(a) => dashboard::report(a),
    };
    distributed::FINISHING.store(true, std::sync::atomic::Ordering::SeqCst);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.msg);
            ExitCode::from(e.code)
        }
    }
}
