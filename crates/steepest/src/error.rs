//! The one error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in Steepest, with enough context to say where and what.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two operands whose shapes do not fit the operation.
    #[error("{op}: shape mismatch between {lhs:?} and {rhs:?}")]
    ShapeMismatch {
        /// The operation that was attempted.
        op: &'static str,
        /// Shape of the left (or first) operand.
        lhs: Vec<usize>,
        /// Shape of the right (or second) operand.
        rhs: Vec<usize>,
    },
    /// An argument outside what the operation accepts.
    #[error("{op}: {msg}")]
    InvalidArgument {
        /// The operation or setting that rejected the argument.
        op: &'static str,
        /// What was expected.
        msg: String,
    },
    /// Malformed input at a known place in a file.
    #[error("{file}:{line}:{column}: {msg}")]
    Parse {
        /// The file (or a description of the stream).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected.
        msg: String,
    },
    /// A state, model or checkpoint file that does not match what loads it.
    #[error("{what}: {msg}")]
    Format {
        /// The file or object being read.
        what: String,
        /// What is wrong.
        msg: String,
    },
    /// Training produced a value that is not finite and could not recover.
    #[error("diverged: {0}")]
    Diverged(String),
    /// An operating-system error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument { op, msg: msg.into() }
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub fn shapes(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Self {
        Error::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
        }
    }

    /// Shorthand for [`Error::Format`].
    pub fn format(what: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Format {
            what: what.into(),
            msg: msg.into(),
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
