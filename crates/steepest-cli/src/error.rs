//! Errors of the command line: one line of text and an exit code (2: bad usage or input,
//! 1: a failure while running).

use std::fmt::Display;

/// What went wrong and how the process should exit.
#[derive(Debug)]
pub struct CliError {
    /// 2 for bad usage or input, 1 for failures during a run.
    pub code: u8,
    /// One line for the user.
    pub msg: String,
    /// In a distributed run: every rank has this same error (so rank 0 alone reports it and
    /// the ranks end normally instead of aborting the job).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub all_ranks: bool,
}

/// The result type of the commands.
pub type CliResult<T> = Result<T, CliError>;

/// Bad usage or input (exit code 2).
pub fn usage(msg: impl Display) -> CliError {
    CliError {
        code: 2,
        msg: msg.to_string(),
        all_ranks: false,
    }
}

/// A failure during a run (exit code 1).
pub fn failed(msg: impl Display) -> CliError {
    CliError {
        code: 1,
        msg: msg.to_string(),
        all_ranks: false,
    }
}

impl From<steepest::Error> for CliError {
    fn from(e: steepest::Error) -> Self {
        match e {
            steepest::Error::Diverged(_) => failed(e),
            _ => usage(e),
        }
    }
}

/// Marks a library error as a failure of the run (exit code 1) rather than bad input.
pub trait RunFailure<T> {
    /// Converts any error into an exit-code-1 failure.
    fn or_fail(self) -> CliResult<T>;
}

impl<T, E: Display> RunFailure<T> for Result<T, E> {
    fn or_fail(self) -> CliResult<T> {
        self.map_err(failed)
    }
}
