//! Verdicts and what they rest on: the leaf that the run loop, the phases and the reporters
//! all import, and that imports nothing of theirs.

use serde::{Deserialize, Serialize};

use crate::client::Exchange;

/// The verdict on one case (or on the random phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// Allowed, but not the reference outcome on some AMB- point.
    NonStrict,
    Fail,
    /// Harness trouble: the case could not be judged.
    Error,
    /// Failed, and listed in `--expect-fail`.
    Xfail,
    /// Listed in `--expect-fail` but did not fail: the list is stale, which fails the run.
    Xpass,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::Xfail => "XFAIL",
            Verdict::Xpass => "XPASS",
        }
    }

    /// Whether this verdict makes the run fail.
    pub fn fails_run(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error | Verdict::Xpass)
    }
}

/// Everything known about one case after it ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: String,
    pub title: String,
    pub requirement: String,
    pub level: String,
    pub covers: Vec<String>,
    pub verdict: Verdict,
    /// Why it failed, errored, or was not strict; the expect-fail reason for XFAIL/XPASS.
    pub detail: Option<String>,
    pub ambiguities: Vec<String>,
    pub duration_ms: f64,
    pub steps: Vec<Step>,
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum StepVerdict {
    Reference,
    NonStrict {
        ambiguities: Vec<String>,
    },
    Mismatch {
        first_difference: String,
    },
    /// The endpoint gave no usable answer (timeout, reset, garbage, huge body).
    Trouble {
        trouble: String,
    },
}

/// One step of a transcript: what was sent, what the model allowed, what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub operation: String,
    pub exchanges: Vec<Exchange>,
    pub expected: String,
    pub actual: String,
    pub verdict: StepVerdict,
}

/// Why a case or sequence stopped early.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Stop {
    /// The endpoint broke the contract; the last step holds the details.
    #[error("the endpoint's answer is not allowed: {0}")]
    Finding(String),
    /// The suite itself is inconsistent (a case's intent disagrees with the model).
    #[error("harness: {0}")]
    Harness(String),
}
