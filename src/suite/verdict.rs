//! Verdicts and what they rest on: the leaf that the run loop, the phases and the reporters
//! all import, and that imports nothing of theirs.

use serde::{Deserialize, Serialize};

use crate::client::Exchange;
use crate::model::Judgement;

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
    /// The case's first call of an operation of the eleven (spec §11) was answered with a 4xx
    /// in the ERR-1 shape: the endpoint does not implement it. One per operation; a note.
    NotImplemented,
    /// Not run to the end: an operation it needs is not implemented (reported once, by the
    /// operation's `NotImplemented` entry). Neither a pass nor a failure.
    Skipped,
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
            Verdict::NotImplemented => "NOT-IMPLEMENTED",
            Verdict::Skipped => "SKIP",
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

impl StepVerdict {
    /// The transcript's account of the model's judgement of an answer.
    pub fn of(judgement: &Judgement) -> StepVerdict {
        match judgement {
            Judgement::Reference => StepVerdict::Reference,
            Judgement::NonStrict(a) => StepVerdict::NonStrict {
                ambiguities: a.iter().map(|x| x.id().to_owned()).collect(),
            },
            Judgement::Mismatch(m) => StepVerdict::Mismatch {
                first_difference: m.first_difference.clone(),
            },
        }
    }
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
    /// The first call of an operation showed that the endpoint does not implement it
    /// (spec §11): `not implemented: BulkPublish (404 UnknownOperationException)`.
    #[error("{0}")]
    NotImplemented(String),
    /// An operation the case needs is known not to be implemented.
    #[error("{0}")]
    Skipped(String),
}
