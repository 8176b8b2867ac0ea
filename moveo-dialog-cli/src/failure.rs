//! Why a command failed, and its exit code.

/// A failed command. The exit codes are part of the CLI's interface (see `--help`):
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | the server or file was reached but is wrong: a non-2xx status, a reply or document that breaks its schema, a snapshot mismatch, an API error |
/// | 2 | bad usage or input: an unknown flag, an unreadable file, a malformed value |
/// | 3 | the server could not be reached: connection refused, DNS, timeout |
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// Exit 1. An empty message means the details were already printed.
    #[error("{0}")]
    Check(String),
    /// Exit 2.
    #[error("{0}")]
    Input(String),
    /// Exit 3.
    #[error("{0}")]
    Unreachable(String),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Check(_) => 1,
            Self::Input(_) => 2,
            Self::Unreachable(_) => 3,
        }
    }
}
