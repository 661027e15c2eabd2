//! How a command's outcome becomes the process's exit code.

use std::process::ExitCode;

/// Success, or the error (with its causes) on stderr and exit code 1.
pub(crate) fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
