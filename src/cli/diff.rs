//! `cogsync diff`: what changed between two runs of one endpoint, for CI baselines.

use std::path::PathBuf;

use clap::Args;

use super::error::{CliError, CliResult};
use super::report_file::read_report;
use super::{EXIT_FAILED, EXIT_OK};
use crate::report::diff;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline: a report written by `cogsync check --json`.
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The run to judge against it.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Also write the differences as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

pub fn run(args: DiffArgs) -> CliResult {
    let old = read_report(&args.old)?;
    let new = read_report(&args.new)?;
    let diff = diff::diff(&old, &new);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&diff)
            .map_err(|e| CliError::Harness(format!("cannot render the diff as JSON: {e}")))?;
        std::fs::write(path, text)
            .map_err(|e| CliError::Harness(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{}", diff::render(&diff));
    Ok(if diff.regressed() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}
