//! The `cogsync` binary: parse arguments, run the command, map the result to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    cogsync::cli::main()
}
