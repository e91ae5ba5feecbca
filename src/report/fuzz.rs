//! The network fuzzer's report for people: its NON-STRICT notes, its findings with what was
//! saved for each (the finding as JSON and a curl script that resends its request), and the
//! closing figures.

use super::artifacts::{ArtifactError, Artifacts};
use super::{curl, transcript};
use crate::suite::netfuzz::{self, NetFuzzReport};

/// Saves each finding (`netfuzz-SEED-NN.finding.json` and `.finding.sh`: not replay files;
/// the script resends the request) and prints it with how to reproduce it.
pub fn save_and_print_findings(
    report: &NetFuzzReport,
    base_url: &str,
    artifacts: &Artifacts,
) -> Result<(), ArtifactError> {
    for (i, finding) in report.findings.iter().enumerate() {
        println!("\n{}", netfuzz::finding_line(finding));
        let (json_path, curl_path) = artifacts.fuzz_finding(report.seed, i + 1);
        let json = serde_json::to_string_pretty(finding)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        artifacts.write(&json_path, &json)?;
        let curl = curl::request_script(base_url, &finding.request.to_raw());
        artifacts.write(&curl_path, &curl)?;
        println!(
            "  request body {} bytes, shrunk to {}; saved {} and {}",
            finding.body_bytes_original,
            finding.body_bytes_shrunk,
            json_path.display(),
            curl_path.display()
        );
        println!("  reproduce with:\n{}", indent(&curl));
        println!("  answer:\n{}", indent(&finding.answer));
        if !finding.steps.is_empty() {
            println!(
                "  transcript (last steps):\n{}",
                indent(&transcript(&finding.steps))
            );
        }
    }
    Ok(())
}

/// NON-STRICT notes: one line each and the request, not saved (they fail nothing).
pub fn print_notes(report: &NetFuzzReport) {
    for note in &report.notes {
        println!("\n{}", netfuzz::note_line(note));
        println!(
            "  request: {} {}",
            note.request.method, note.request.path_and_query
        );
    }
}

/// The closing figures of a fuzz run.
pub fn print_summary(report: &NetFuzzReport) {
    println!(
        "\n{} requests in {:.1} s ({:.0} requests/s): {} malformed, {} valid calls, {} skipped",
        report.requests,
        report.elapsed_ms / 1000.0,
        report.requests_per_sec(),
        report.malformed,
        report.valid_calls,
        report.skipped
    );
    let secs = (report.elapsed_ms / 1000.0).max(f64::EPSILON);
    println!(
        "{} mode, {} worker(s), {:.0} iterations/s: {} signatures ({} new this run), corpus {} \
         ({} added, {} from other processes)",
        if report.feedback { "feedback" } else { "blind" },
        report.workers,
        report.iterations as f64 / secs,
        report.signatures,
        report.new_signatures,
        report.corpus,
        report.corpus_added,
        report.corpus_imported
    );
    if let Some(first) = &report.first_finding {
        println!(
            "first finding after {:.1} s ({} requests, {} iterations)",
            first.elapsed_ms / 1000.0,
            first.requests,
            first.iterations
        );
    }
    if report.known_findings > 0 {
        println!(
            "the corpus directory held {} finding group(s) before this run",
            report.known_findings
        );
    }
    if report.stopped {
        println!("stopped by a signal; everything above is saved");
    }
    println!("{}", report.summary_line());
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
