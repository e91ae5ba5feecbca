//! `cogsync mutants` for people: the faults table (each fault killed, by which case, how fast,
//! how short), the variants table (each allowed deviation passed or not, with the failing
//! cases), and the closing figures.

use serde::Serialize;

use super::Summary;
use crate::suite::verdict::{CaseReport, Verdict};

/// Failing case IDs shown in the variants table; the JSON report lists all of them.
const FAILING_IDS_SHOWN: usize = 3;
/// Characters of a failure detail shown under the variants table.
const DETAIL_CHARS_SHOWN: usize = 220;

/// One row of the faults table.
#[derive(Debug, Clone, Serialize)]
pub struct MutantRow {
    pub fault: String,
    pub description: String,
    pub killed: bool,
    /// Only a concurrent phase can catch this fault, and it survived.
    pub needs_concurrency: bool,
    /// The case ID (or `random`) whose failure killed the fault.
    pub killed_by: Option<String>,
    pub first_failure_ms: Option<f64>,
    /// Steps of the killing case's transcript, or actions of the shrunk random sequence.
    pub shrunk_len: Option<usize>,
    pub wall_ms: f64,
}

/// One row of the variants table.
#[derive(Debug, Clone, Serialize)]
pub struct VariantRow {
    pub variant: String,
    pub description: String,
    pub covers: Vec<String>,
    /// No FAIL and no ERROR in the whole run (NON-STRICT is allowed: that is the point).
    pub passed: bool,
    pub summary: String,
    /// IDs of the cases (and `random`, `concurrent`) that failed or errored, in case order.
    pub failing: Vec<String>,
    /// `<id>: <detail>` of the first of them.
    pub first_failure: Option<String>,
    pub wall_ms: f64,
}

/// Both tables and their figures, as `--json` writes them.
#[derive(Debug, Serialize)]
pub struct MutantsReport {
    pub seed: u64,
    /// The faults table.
    pub rows: Vec<MutantRow>,
    pub variants: Vec<VariantRow>,
    pub clean_passed: bool,
    pub clean_summary: String,
    pub killed: usize,
    pub total: usize,
    pub variants_passed: usize,
    pub variants_total: usize,
    pub median_time_to_kill_ms: Option<f64>,
    pub median_shrunk_len: Option<f64>,
    pub wall_ms: f64,
}

/// The clean server's line, and every case that did not PASS on it.
pub fn print_clean(summary: &Summary, cases: &[CaseReport], elapsed: std::time::Duration) {
    println!(
        "clean server: {} ({:.1} s)",
        summary.line(),
        elapsed.as_secs_f64()
    );
    for case in cases.iter().filter(|c| c.verdict != Verdict::Pass) {
        println!(
            "  {} {}: {}",
            case.verdict.label(),
            case.id,
            case.detail.as_deref().unwrap_or("")
        );
    }
}

/// The faults table's header.
pub fn print_fault_header() {
    println!(
        "\n{:<40} {:<9} {:<52} {:>9} {:>7}",
        "fault", "verdict", "killed by", "1st fail", "length"
    );
}

/// The variants table's header.
pub fn print_variant_header() {
    println!(
        "\n{:<34} {:<7} {:>8}  failing cases",
        "variant", "verdict", "wall"
    );
}

pub fn print_fault_row(row: &MutantRow) {
    let verdict = match (row.killed, row.needs_concurrency) {
        (true, _) => "killed",
        (false, true) => "survived*",
        (false, false) => "SURVIVED",
    };
    println!(
        "{:<40} {:<9} {:<52} {:>9} {:>7}",
        row.fault,
        verdict,
        row.killed_by.as_deref().unwrap_or("-"),
        row.first_failure_ms
            .map_or("-".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
        row.shrunk_len.map_or("-".to_owned(), |n| n.to_string()),
    );
}

pub fn print_variant_row(row: &VariantRow) {
    let failing = match row.failing.len() {
        0 => "-".to_owned(),
        n if n <= FAILING_IDS_SHOWN => row.failing.join(", "),
        n => format!(
            "{} (+{} more)",
            row.failing[..FAILING_IDS_SHOWN].join(", "),
            n - FAILING_IDS_SHOWN
        ),
    };
    println!(
        "{:<34} {:<7} {:>8}  {}",
        row.variant,
        if row.passed { "passed" } else { "FAILED" },
        seconds(row.wall_ms),
        failing
    );
    if let Some(first) = &row.first_failure {
        println!("    first failure: {}", one_line(first, DETAIL_CHARS_SHOWN));
    }
}

/// The medians under the faults table, and the footnote for faults only races can show.
pub fn print_figures(report: &MutantsReport, pending: usize) {
    if report.total > 0 {
        println!(
            "\nmedian time to kill {}; median length {}",
            report
                .median_time_to_kill_ms
                .map_or("-".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
            report
                .median_shrunk_len
                .map_or("-".to_owned(), |n| format!("{n} steps")),
        );
    }
    if pending > 0 {
        println!("* survived, and only a concurrent phase can catch it: {pending} fault(s)");
    }
}

/// The last line: the counts and the wall time.
pub fn print_closing(report: &MutantsReport) {
    println!(
        "\nfaults killed {}/{}, variants passed {}/{}, clean server {}, \
         wall time {}",
        report.killed,
        report.total,
        report.variants_passed,
        report.variants_total,
        if report.clean_passed {
            "passed"
        } else {
            "FAILED"
        },
        seconds(report.wall_ms)
    );
}

/// Milliseconds as seconds with one decimal.
fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// One line of text, at most `chars` characters.
fn one_line(text: &str, chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut shown: String = flat.chars().take(chars).collect();
    if flat.chars().nth(chars).is_some() {
        shown.push_str("...");
    }
    shown
}
