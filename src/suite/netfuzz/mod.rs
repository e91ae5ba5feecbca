//! Network fuzzing of any endpoint: valid traffic, judged by the model through a
//! [`Session`](crate::suite::session::Session), interleaved with malformed requests judged by
//! what the specification allows for each.
//!
//! Most malformed requests must be refused (ERR-1..3, VAL-1): a 4xx whose `x-amzn-ErrorType`
//! names a shape with that very status and whose body is a JSON object with a string `message`
//! — never a 2xx, a 5xx, a reset or a hang past the timeout. Some may also be accepted: an
//! optional query parameter a server may ignore (SPEC §8), one of the service's other eleven
//! operations (§10), a route outside the service. Whatever the answer, the data must not
//! change: a ListRecords of the dataset the request aimed at must still match the model.
//!
//! Each oracle has a level ([`FuzzOracle::level`]): only a MUST fails the run; SHOULD and
//! UNSTATED ones are NON-STRICT notes, findings only with `strict` (docs/spec.md, "Never fail a
//! correct server").
//!
//! The run learns from the answers: inputs (sequences of seeded genes) that reach a new
//! behaviour signature join a corpus, and most later inputs are its mutants (`genome`,
//! `signature`, `campaign`). Everything is decided by seeded RNGs, so a run of one worker
//! without a corpus directory is repeated from its seed and iteration count
//! (`sequence_digest` shows that it took the same path). Findings are
//! shrunk (JSON members dropped, strings shortened, headers and parameters dropped while the
//! same failure persists) and carried in the report, which renders them as curl (`report::curl`).
//!
//! Rooms: `patches` draws valid record patches; `mutations` builds the malformed requests from
//! what a `Mutator` lends it (never from the loop itself), each with the `suite::refusal` rule
//! that judges its answer (the same oracle the named cases use); `oracle` names what the fuzzer
//! files findings under; `shrink` makes findings small; `genome` is what an input is and how it
//! mutates; `signature` says what counts as new behaviour; `campaign` keeps the corpus and the
//! findings (in memory and in a corpus directory); `fuzzer` runs the workers' loops.

mod campaign;
mod fuzzer;
mod genome;
mod mutations;
mod oracle;
mod patches;
mod pool;
mod shrink;
mod signature;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::client::{RawRequest, RawResponse, Trouble, base64_unless_utf8};
use crate::spec::Level;
use crate::suite::verdict::Step;

pub use campaign::{Campaign, CorpusDir, MergeSummary, SavedFinding, SavedInput, merge};
pub use fuzzer::run;
pub use genome::{Gene, Input, Tweak};
pub use oracle::FuzzOracle;
pub use signature::template as message_template;
/// Distinct findings (and distinct notes) kept; later ones only count as occurrences.
const FINDINGS_MAX: usize = 20;
/// Requests one shrink may send.
const SHRINK_BUDGET: usize = 200;

const DATASET_NAMES: [&str; 3] = ["settings", "game:state", "a.b-c_d"];
const KEYS: [&str; 9] = [
    "a",
    "b",
    "highScore",
    "key with spaces",
    "naïve",
    "ключ",
    "🔑",
    "日本語",
    "x.y",
];

/// How one run goes.
#[derive(Debug, Clone)]
pub struct NetFuzzOptions {
    pub seed: u64,
    /// Stop generating after this long; `None`: only `iterations_max` stops the run.
    pub duration: Option<Duration>,
    /// Stop after this many iterations, whichever comes first. The seed and this count repeat
    /// a run exactly (against an endpoint that answers the same way).
    pub iterations_max: Option<u64>,
    /// Names the identities of the run (`us-east-1:<run_id>-…`).
    pub run_id: u32,
    /// Fail the run on SHOULD and UNSTATED oracles too, not only on MUST ones (`--strict`);
    /// false by default, so that a correct server that takes an allowed branch passes.
    pub strict: bool,
    /// Fuzzing loops in this process, each on its own identities (at least 1).
    pub workers: usize,
    /// Learn from the answers (keep inputs that reached new signatures, mutate them); false:
    /// every input is drawn fresh (the blind mode, for comparison).
    pub feedback: bool,
    /// Set to stop the run cleanly (Ctrl-C, SIGTERM): workers finish their request, clean up
    /// and the report is written as for any other end.
    pub stop: Option<Arc<AtomicBool>>,
    /// End the run at its first finding that fails it (a CI gate, or timing how soon a fault
    /// is found).
    pub stop_on_finding: bool,
}

/// When the run's first finding was filed: how long, how many requests and iterations in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FirstFinding {
    pub elapsed_ms: f64,
    pub requests: u64,
    pub iterations: u64,
}

/// One request as saved: text when the body is UTF-8, base64 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl SavedRequest {
    pub fn from_raw(raw: &RawRequest) -> SavedRequest {
        let body_base64 = base64_unless_utf8(&raw.body);
        SavedRequest {
            method: raw.method.clone(),
            path_and_query: raw.path_and_query.clone(),
            headers: raw.headers.clone(),
            body: body_base64
                .is_none()
                .then(|| String::from_utf8_lossy(&raw.body).into_owned()),
            body_base64,
        }
    }

    pub fn to_raw(&self) -> RawRequest {
        let body = match (&self.body, &self.body_base64) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        RawRequest {
            method: self.method.clone(),
            path_and_query: self.path_and_query.clone(),
            headers: self.headers.clone(),
            body,
        }
    }
}

/// One thing the endpoint got wrong (or, as a NON-STRICT note, did otherwise than the
/// reference), with the (shrunk) request that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The broken oracle for people, e.g. `5xx answer to bad input (ERR-3)`.
    pub oracle: String,
    /// The broken oracle's permanent ID ([`FuzzOracle::id`]), e.g. `malformed.server-error`,
    /// for tools that track findings across runs.
    pub oracle_id: String,
    /// How strongly the broken requirement binds: only MUST fails a run without `--strict`.
    pub level: Level,
    /// What was sent: a mutation name (`wrong-type:SyncCount`) or `valid:<Operation>`.
    pub mutation: String,
    /// The first difference or the answer that broke the oracle.
    pub detail: String,
    pub request: SavedRequest,
    /// Body bytes before and after shrinking.
    pub body_bytes_original: usize,
    pub body_bytes_shrunk: usize,
    /// The answer to the shrunk request, as status line, headers and body.
    pub answer: String,
    /// For findings in valid traffic: the session's last steps up to the finding (reports
    /// render them as a transcript).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// How often the same oracle broke with the same symptom during the run.
    pub occurrences: u64,
    /// What findings are told apart by, in a run and across runs: the oracle's ID and the
    /// detail with numbers and names masked (`valid.mismatch|Records: missing <name>@#…`).
    #[serde(default)]
    pub signature: String,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetFuzzReport {
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    pub endpoint: String,
    pub iterations: u64,
    /// HTTP requests sent, shrinking included.
    pub requests: u64,
    /// A digest of what the run chose, in order: each malformed request's mutation and each
    /// call of valid traffic. A repeat with the same seed and iteration count has the same one
    /// (if the endpoint answers the same way); the run's identities differ by their run id.
    #[serde(default)]
    pub sequence_digest: String,
    pub malformed: u64,
    pub valid_calls: u64,
    /// Malformed requests that could not be expressed as a URL and were not sent.
    pub skipped: u64,
    pub elapsed_ms: f64,
    /// Whether SHOULD and UNSTATED oracles were findings too.
    pub strict: bool,
    /// Broken oracles that fail the run.
    pub findings: Vec<Finding>,
    /// Allowed answers other than the reference, and answers to situations the spec leaves
    /// open (SHOULD, UNSTATED): every occurrence, reported but not failed (unless strict).
    pub non_strict: u64,
    /// The first occurrences of the NON-STRICT ones, as for findings.
    pub notes: Vec<Finding>,
    /// Fuzzing loops that ran.
    #[serde(default)]
    pub workers: usize,
    /// Whether the run learned from the answers (false: the blind mode).
    #[serde(default)]
    pub feedback: bool,
    /// Distinct behaviour signatures the campaign has reached (a resumed one: in all its runs).
    #[serde(default)]
    pub signatures: usize,
    /// Signatures first reached in this run.
    #[serde(default)]
    pub new_signatures: u64,
    /// Inputs in the in-memory corpus at the end, inputs this run added, and inputs read from
    /// the corpus directory that other processes wrote during the run.
    #[serde(default)]
    pub corpus: usize,
    #[serde(default)]
    pub corpus_added: u64,
    #[serde(default)]
    pub corpus_imported: u64,
    /// Finding groups the corpus directory held before the run.
    #[serde(default)]
    pub known_findings: usize,
    /// When the first finding that fails the run was filed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_finding: Option<FirstFinding>,
    /// Whether the run was stopped by a signal (not by its time or iteration bound).
    #[serde(default)]
    pub stopped: bool,
}

impl NetFuzzReport {
    pub fn requests_per_sec(&self) -> f64 {
        if self.elapsed_ms <= 0.0 {
            return 0.0;
        }
        self.requests as f64 * 1000.0 / self.elapsed_ms
    }

    /// The closing line: every malformed request and valid call is one check.
    pub fn summary_line(&self) -> String {
        let failed: u64 = self.findings.iter().map(|f| f.occurrences).sum();
        let checks = self.malformed + self.valid_calls;
        format!(
            "{} passed, {} failed, {} non-strict",
            checks.saturating_sub(failed + self.non_strict),
            failed,
            self.non_strict
        )
    }
}

/// Progress, for a caller that prints.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub iterations: u64,
    pub requests: u64,
    pub findings: usize,
    pub signatures: usize,
    pub corpus: usize,
    pub elapsed: Duration,
}

/// Why a run could not go on (not a finding).
#[derive(Debug, thiserror::Error)]
pub enum NetFuzzError {
    #[error("the fuzzer is inconsistent: {0}")]
    Harness(String),
}

fn describe_answer(result: &Result<RawResponse, Trouble>) -> String {
    match result {
        Err(trouble) => format!("(no answer: {trouble})"),
        Ok(r) => {
            let mut out = format!("HTTP {}\n", r.status);
            for (name, value) in &r.headers {
                let _ = writeln!(out, "{name}: {value}");
            }
            out.push('\n');
            out.push_str(
                &String::from_utf8_lossy(&r.body)
                    .chars()
                    .take(2000)
                    .collect::<String>(),
            );
            out
        }
    }
}

/// A one-line account of a finding for the terminal.
pub fn finding_line(finding: &Finding) -> String {
    let strict = if finding.level.binds() {
        String::new()
    } else {
        format!(" [{}, failed by --strict]", finding.level)
    };
    format!(
        "FAIL {}{strict} [{}] ×{}: {}",
        finding.oracle, finding.mutation, finding.occurrences, finding.detail
    )
}

/// A one-line account of a NON-STRICT note for the terminal.
pub fn note_line(note: &Finding) -> String {
    format!(
        "NON-STRICT {} [{}] [{}] ×{}: {}",
        note.oracle, note.level, note.mutation, note.occurrences, note.detail
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_requests_keep_non_utf8_bodies() {
        let raw = RawRequest {
            method: "POST".to_owned(),
            path_and_query: "/".to_owned(),
            headers: vec![],
            body: vec![0xff, 0x00],
        };
        assert_eq!(SavedRequest::from_raw(&raw).to_raw(), raw);
    }
}
