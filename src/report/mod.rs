//! Reports of a run: the human summary and transcripts, JSON, JUnit XML, and curl scripts.

use std::fmt::Write as _;
use std::time::Duration;

pub mod artifacts;
pub mod diff;
pub mod fuzz;
pub mod history;
pub mod html;
pub mod human;
pub mod markup;
pub mod matrix;
pub mod mutants;
pub mod profile;
pub mod replay;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

pub mod curl;

pub use curl::curl_script;

use crate::client::Exchange;
use crate::suite::concurrent::ConcurrentReport;
use crate::suite::machine::RandomReport;
use crate::suite::verdict::{CaseReport, Step, StepVerdict, Verdict};

/// The row of the random phase in reports, beside the named cases' IDs.
pub const RANDOM_ROW: &str = "random.sequences";
/// The row of the concurrent phase in reports.
pub const CONCURRENT_ROW: &str = "concurrent.linearizability";

/// Counts of verdicts over the named cases and the random phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: u64,
    pub failed: u64,
    pub non_strict: u64,
    pub errors: u64,
    pub xfail: u64,
    pub xpass: u64,
    /// Operations of the eleven the endpoint does not implement (one entry each, spec §11).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_implemented: u64,
    /// Cases not run to the end because an operation they need is not implemented.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    pub fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::NonStrict => self.non_strict += 1,
            Verdict::Error => self.errors += 1,
            Verdict::Xfail => self.xfail += 1,
            Verdict::Xpass => self.xpass += 1,
            Verdict::NotImplemented => self.not_implemented += 1,
            Verdict::Skipped => self.skipped += 1,
        }
    }

    /// The counts of `verdicts`.
    pub fn of(verdicts: impl IntoIterator<Item = Verdict>) -> Summary {
        let mut summary = Summary::default();
        for verdict in verdicts {
            summary.add(verdict);
        }
        summary
    }

    /// How many verdicts were `verdict`.
    pub fn count(&self, verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Pass => self.passed,
            Verdict::Fail => self.failed,
            Verdict::NonStrict => self.non_strict,
            Verdict::Error => self.errors,
            Verdict::Xfail => self.xfail,
            Verdict::Xpass => self.xpass,
            Verdict::NotImplemented => self.not_implemented,
            Verdict::Skipped => self.skipped,
        }
    }

    pub fn total(&self) -> u64 {
        self.passed
            + self.failed
            + self.non_strict
            + self.errors
            + self.xfail
            + self.xpass
            + self.not_implemented
            + self.skipped
    }

    /// Exit status rule: nothing failed, errored or passed unexpectedly, and something ran.
    pub fn success(&self) -> bool {
        self.total() > 0 && self.failed == 0 && self.errors == 0 && self.xpass == 0
    }

    /// `N passed, N failed` first (what CI systems read), then the other counts; the
    /// not-implemented operations and skipped cases only when there are some.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} non-strict, {} errors, {} xfail, {} xpass",
            self.passed, self.failed, self.non_strict, self.errors, self.xfail, self.xpass
        );
        if self.not_implemented + self.skipped > 0 {
            let _ = write!(
                line,
                ", {} not implemented, {} skipped",
                self.not_implemented, self.skipped
            );
        }
        line
    }
}

/// Everything a run produced, as `--json` writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub tool: String,
    pub version: String,
    pub endpoint: String,
    /// What `check --name` called the endpoint (matrix columns); absent when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub run_id: String,
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    pub strict: bool,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
    pub elapsed_ms: f64,
    pub summary: Summary,
    /// Named cases selected but never started (`--fail-fast`, `--max-fail`).
    #[serde(default)]
    pub not_run: Vec<String>,
    pub cases: Vec<CaseReport>,
    pub random: Option<RandomReport>,
    pub concurrent: Option<ConcurrentReport>,
    /// Which allowed outcome the endpoint chose on every AMB- row.
    #[serde(default)]
    pub profile: Vec<profile::ProfileEntry>,
}

/// One verdict of a run as reporters list it: a named case or a phase.
#[derive(Debug, Clone)]
pub struct Row {
    /// The case ID, or `random.sequences` / `concurrent.linearizability` for the phases.
    pub name: String,
    /// The ID's first part (`update-records`), or the phase.
    pub class: String,
    pub verdict: Verdict,
    /// Why it failed, errored or was not strict; empty for a plain pass.
    pub detail: String,
    /// The transcript (or the timeline) that shows it; empty when there is none.
    pub evidence: String,
    pub ms: f64,
}

impl RunReport {
    /// `started_at` is the run's start in seconds since the Unix epoch (the CLI reads the clock).
    pub fn new(endpoint: &str, run_id: u32, seed: u64, strict: bool, started_at: f64) -> RunReport {
        RunReport {
            tool: "cogsync".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            endpoint: endpoint.to_owned(),
            name: None,
            run_id: format!("{run_id:08x}"),
            seed,
            strict,
            started_at: rfc3339(started_at),
            elapsed_ms: 0.0,
            summary: Summary::default(),
            not_run: Vec::new(),
            cases: Vec::new(),
            random: None,
            concurrent: None,
            profile: Vec::new(),
        }
    }

    /// What to call the endpoint: its `--name`, or its address.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.endpoint)
    }

    /// Renders the concurrent phase's histories for the reports: the violation in full
    /// (timeline, EDN, JSON history with calls and answers), the passing example in outline.
    pub fn render_histories(&mut self) {
        if let Some(concurrent) = self.concurrent.as_mut() {
            if let Some(violation) = concurrent.violation.as_mut() {
                history::render(violation);
            }
            if let Some(example) = concurrent.example.as_mut() {
                history::render_outline(example);
            }
        }
    }

    /// Recounts the summary from the cases and the random phase, and works out the ambiguity
    /// profile (which needs every transcript: call it before dropping any).
    pub fn tally(&mut self) {
        self.profile = profile::profile(&self.cases, self.random.as_ref());
        self.summary = Summary::of(crate::suite::run::verdicts_of(
            &self.cases,
            self.random.as_ref(),
            self.concurrent.as_ref(),
        ));
    }

    /// The JSON report; transcripts are kept only for cases that did not pass, so the file
    /// stays small on a green run.
    pub fn to_json(&self) -> String {
        let mut trimmed = self.clone();
        for case in &mut trimmed.cases {
            if case.verdict == Verdict::Pass {
                case.steps.clear();
            }
        }
        serde_json::to_string_pretty(&trimmed).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// One row per verdict of the run: each named case, then each phase that ran.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .cases
            .iter()
            .map(|case| Row {
                name: case.id.clone(),
                class: case.id.split('.').next().unwrap_or("cases").to_owned(),
                verdict: case.verdict,
                detail: case.detail.clone().unwrap_or_default(),
                evidence: if case.steps.is_empty() {
                    String::new()
                } else {
                    transcript(&case.steps)
                },
                ms: case.duration_ms,
            })
            .collect();
        rows.extend(self.phase_rows());
        rows
    }

    /// The rows of the phases that ran (the tail of [`RunReport::rows`]), without rendering
    /// every case's transcript.
    pub fn phase_rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        if let Some(random) = &self.random {
            let detail = random
                .failure
                .as_ref()
                .map(|f| f.reason.clone())
                .or_else(|| random.vacuous.clone())
                .or_else(|| {
                    (!random.ambiguities.is_empty()).then(|| {
                        format!("non-reference outcome on {}", random.ambiguities.join(", "))
                    })
                })
                .unwrap_or_default();
            rows.push(Row {
                name: RANDOM_ROW.to_owned(),
                class: "random".to_owned(),
                verdict: random.verdict,
                detail,
                evidence: random
                    .failure
                    .as_ref()
                    .map(|f| transcript(&f.steps))
                    .unwrap_or_default(),
                ms: random.elapsed_ms,
            });
        }
        if let Some(concurrent) = &self.concurrent {
            let detail = concurrent
                .violation
                .as_ref()
                .map(|v| {
                    format!(
                        "not linearizable: {} operations on {} devices",
                        v.operations, v.devices
                    )
                })
                .or_else(|| concurrent.detail.clone())
                .unwrap_or_default();
            rows.push(Row {
                name: CONCURRENT_ROW.to_owned(),
                class: "concurrent".to_owned(),
                verdict: concurrent.verdict,
                detail,
                evidence: concurrent
                    .violation
                    .as_ref()
                    .map(|v| v.timeline.clone())
                    .unwrap_or_default(),
                ms: concurrent.elapsed_ms,
            });
        }
        rows
    }

    /// JUnit XML: one test case per named case, plus one for the random phase.
    pub fn to_junit(&self) -> String {
        let mut report = Report::new("cogsync");
        let mut suite = TestSuite::new("cogsync check");
        suite.add_properties([
            ("endpoint", self.endpoint.as_str()),
            ("seed", self.seed.to_string().as_str()),
            ("run_id", self.run_id.as_str()),
            ("strict", if self.strict { "true" } else { "false" }),
            ("started_at", self.started_at.as_str()),
            ("version", self.version.as_str()),
        ]);
        if !self.not_run.is_empty() {
            suite.add_property(("not_run", self.not_run.join(" ").as_str()));
        }
        let started = chrono::DateTime::parse_from_rfc3339(&self.started_at).ok();
        if let Some(started) = started {
            suite.set_timestamp(started);
            report.set_timestamp(started);
        }
        let elapsed = Duration::from_secs_f64(self.elapsed_ms.max(0.0) / 1000.0);
        suite.set_time(elapsed);
        report.set_time(elapsed);
        for row in self.rows() {
            let mut status = junit_status(row.verdict, &row.detail);
            if row.verdict != Verdict::Pass && !row.evidence.is_empty() {
                status.set_description(row.evidence);
            }
            let mut tc = TestCase::new(row.name, status);
            tc.set_classname(row.class);
            if matches!(row.verdict, Verdict::NonStrict | Verdict::Xfail) {
                // They pass in JUnit terms (they do not fail the run), so CI tools would show
                // them as plain passes: a `verdict` property and the detail keep them visible.
                tc.add_property(("verdict", row.verdict.label()));
                tc.set_system_out(format!("{}: {}", row.verdict.label(), row.detail));
            }
            tc.set_time(Duration::from_secs_f64(row.ms.max(0.0) / 1000.0));
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp (millisecond precision).
pub fn rfc3339(unix_secs: f64) -> String {
    let millis = (unix_secs * 1000.0).round() as i64;
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(
        || "1970-01-01T00:00:00Z".to_owned(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

fn junit_status(verdict: Verdict, detail: &str) -> TestCaseStatus {
    match verdict {
        // Allowed outcomes and expected failures do not fail the run; their detail goes to
        // the test case's system-out.
        Verdict::Pass | Verdict::NonStrict | Verdict::Xfail => TestCaseStatus::success(),
        Verdict::Fail | Verdict::Xpass => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{}: {detail}", verdict.label()));
            s
        }
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(detail);
            s
        }
        // Neither passed nor failed: JUnit's own word for it.
        Verdict::NotImplemented | Verdict::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("{}: {detail}", verdict.label()));
            s
        }
    }
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

/// One exchange on one line: method, path, the request body (cut), and the status.
pub fn exchange_line(ex: &Exchange) -> String {
    let path = ex
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(&ex.url);
    let mut line = format!("{} {path}", ex.method);
    if !ex.request_body.is_empty() {
        let _ = write!(line, "  {}", one_line(&ex.request_body, 300));
    }
    let _ = write!(
        line,
        "  → {}",
        ex.status.map_or("no answer".to_owned(), |s| s.to_string())
    );
    line
}

/// A numbered transcript: request → expected → actual, the first difference highlighted.
pub fn transcript(steps: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        let mark = match &step.verdict {
            StepVerdict::Reference => "ok",
            StepVerdict::NonStrict { .. } => "non-strict",
            StepVerdict::Mismatch { .. } => "FAIL",
            StepVerdict::Trouble { .. } => "FAIL",
        };
        let _ = writeln!(out, "{:>3}. {} [{mark}]", i + 1, step.operation);
        for ex in &step.exchanges {
            let _ = writeln!(out, "       {}", exchange_line(ex));
        }
        let _ = writeln!(out, "       expected: {}", one_line(&step.expected, 400));
        let _ = writeln!(out, "       actual:   {}", one_line(&step.actual, 400));
        match &step.verdict {
            StepVerdict::Mismatch { first_difference } => {
                let _ = writeln!(out, "       >>> first difference: {first_difference}");
            }
            StepVerdict::Trouble { trouble } => {
                let _ = writeln!(out, "       >>> endpoint trouble: {trouble}");
            }
            StepVerdict::NonStrict { ambiguities } => {
                let _ = writeln!(
                    out,
                    "       (allowed, not the reference outcome: {})",
                    ambiguities.join(", ")
                );
            }
            StepVerdict::Reference => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(verdict: StepVerdict) -> Step {
        Step {
            operation: "UpdateRecords".to_owned(),
            exchanges: vec![Exchange {
                method: "POST".to_owned(),
                url: "http://127.0.0.1:1/identitypools/a%3Ab/identities/c%3Ad/datasets/x"
                    .to_owned(),
                request_headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                request_body: r#"{"Key":"it's"}"#.to_owned(),
                request_body_base64: None,
                status: Some(200),
                response_headers: vec![],
                response_body: "{}".to_owned(),
                elapsed_ms: 1.0,
            }],
            expected: "409 ResourceConflictException".to_owned(),
            actual: "200 Records=[]".to_owned(),
            verdict,
        }
    }

    #[test]
    fn transcripts_number_steps_and_highlight_the_first_difference() {
        let text = transcript(&[
            step(StepVerdict::Reference),
            step(StepVerdict::Mismatch {
                first_difference: "status: expected 409, got 200".into(),
            }),
        ]);
        assert!(text.contains("  1. UpdateRecords [ok]"));
        assert!(text.contains("  2. UpdateRecords [FAIL]"));
        assert!(text.contains(">>> first difference: status: expected 409, got 200"));
        assert!(text.contains("POST /identitypools/a%3Ab/identities/c%3Ad/datasets/x"));
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_067_000.25), "2026-11-30T19:30:00.250Z");
    }

    #[test]
    fn junit_carries_the_run_and_shows_non_strict_cases() {
        let mut report = RunReport::new("http://127.0.0.1:9", 0xabc, 42, false, 0.0);
        report.cases.push(CaseReport {
            id: "ambiguity.colon".to_owned(),
            title: "t".to_owned(),
            requirement: "r".to_owned(),
            level: "MUST".to_owned(),
            covers: vec![],
            verdict: Verdict::NonStrict,
            detail: Some("non-reference outcome on AMB-COLON".to_owned()),
            ambiguities: vec!["AMB-COLON".to_owned()],
            duration_ms: 1.0,
            steps: vec![],
        });
        let xml = report.to_junit();
        for needle in [
            r#"<property name="seed" value="42"/>"#,
            r#"<property name="endpoint" value="http://127.0.0.1:9"/>"#,
            r#"<property name="run_id" value="00000abc"/>"#,
            r#"<property name="verdict" value="NON-STRICT"/>"#,
            "NON-STRICT: non-reference outcome on AMB-COLON",
            r#"timestamp="1970-01-01T00:00:00"#,
        ] {
            assert!(xml.contains(needle), "{needle} missing from\n{xml}");
        }
    }

    #[test]
    fn the_summary_line_starts_with_passed_and_failed() {
        let mut s = Summary::default();
        s.add(Verdict::Pass);
        s.add(Verdict::NonStrict);
        s.add(Verdict::Xfail);
        assert!(s.line().starts_with("1 passed, 0 failed"));
        assert!(s.success());
        s.add(Verdict::Xpass);
        assert!(!s.success());
        assert!(
            !Summary::default().success(),
            "nothing ran is not a success"
        );
    }
}
