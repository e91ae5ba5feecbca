//! Why a command stopped before it could give its verdict, with the exit code that says so.

use super::{EXIT_HARNESS, EXIT_USAGE};

/// A command that could not do what was asked. Findings about an endpoint are not errors:
/// they are verdicts in a report, and the command returns their exit code as a value.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line or a file it names is wrong; the message says what would be right.
    #[error("{0}")]
    Usage(String),
    /// The harness could not work: an endpoint that is not there or is not this API, a server
    /// that cannot start, a file that cannot be written.
    #[error("{0}")]
    Harness(String),
    /// Harness trouble with a cause chain (I/O, the runtime).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    /// The exit code documented for this kind of trouble.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Harness(_) | CliError::Other(_) => EXIT_HARNESS,
        }
    }
}

/// What commands return: an exit code for a command that ran (0, 1, 4), or why it could not.
pub type CliResult = Result<u8, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_trouble_has_its_exit_code() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), EXIT_USAGE);
        assert_eq!(CliError::Harness("x".into()).exit_code(), EXIT_HARNESS);
        assert_eq!(
            CliError::from(anyhow::anyhow!("disk full")).exit_code(),
            EXIT_HARNESS
        );
    }
}
