//! `cogsync matrix`: several endpoints' JSON reports set side by side, as HTML and Markdown.

use std::path::{Path, PathBuf};

use clap::Args;

use super::EXIT_OK;
use super::error::{CliError, CliResult};
use super::report_file::read_report;
use crate::report::matrix;
use crate::spec::catalogue::catalogue;

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Reports written by `cogsync check --json`, one column each, in this order.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Write the matrix as a self-contained HTML page, with every endpoint's transcripts.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Write the matrix as GitHub-flavoured Markdown.
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
}

pub fn run(args: MatrixArgs) -> CliResult {
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let source = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        reports.push((source, read_report(path)?));
    }
    let columns = matrix::columns(reports);
    let catalogue = catalogue();
    if args.html.is_none() && args.markdown.is_none() {
        print!("{}", matrix::markdown(&columns, catalogue));
        return Ok(EXIT_OK);
    }
    if let Some(path) = &args.html {
        write(path, &matrix::html(&columns, catalogue), "HTML")?;
    }
    if let Some(path) = &args.markdown {
        write(path, &matrix::markdown(&columns, catalogue), "Markdown")?;
    }
    Ok(EXIT_OK)
}

fn write(path: &Path, text: &str, what: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Harness(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("cogsync matrix: {what} written to {}", path.display());
    Ok(())
}
