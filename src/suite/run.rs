//! Running named cases: each on its own session and identity, several at once, with verdicts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cases::{Case, Level};
use super::session::{Clock, Namer, Session, Step, StepVerdict, Stop};
use crate::client::Endpoint;

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

/// What every case of a run shares.
#[derive(Clone)]
pub struct Plan {
    pub endpoint: Endpoint,
    pub clock: Clock,
    /// Run-unique prefix of every identity the run creates.
    pub run_id: u32,
    pub jobs: usize,
    pub keep: bool,
    pub strict: bool,
    /// Case ID → reason, from `--expect-fail`.
    pub expect_fail: BTreeMap<String, String>,
}

/// Turns a case's ending and steps into its verdict, before `--strict` and `--expect-fail`.
pub fn judge_case(
    result: &Result<(), Stop>,
    steps: &[Step],
) -> (Verdict, Option<String>, Vec<String>) {
    let ambiguities: BTreeSet<String> = steps
        .iter()
        .filter_map(|s| match &s.verdict {
            StepVerdict::NonStrict { ambiguities } => Some(ambiguities.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let ambiguities: Vec<String> = ambiguities.into_iter().collect();
    match result {
        Err(Stop::Finding(why)) => (Verdict::Fail, Some(why.clone()), ambiguities),
        Err(Stop::Harness(why)) => (Verdict::Error, Some(why.clone()), ambiguities),
        Ok(()) if !ambiguities.is_empty() => (
            Verdict::NonStrict,
            Some(format!(
                "non-reference outcome on {}",
                ambiguities.join(", ")
            )),
            ambiguities,
        ),
        Ok(()) => (Verdict::Pass, None, ambiguities),
    }
}

/// Applies `--strict` and `--expect-fail` to a verdict.
pub fn settle(
    verdict: Verdict,
    detail: Option<String>,
    id: &str,
    plan: &Plan,
) -> (Verdict, Option<String>) {
    let verdict = if plan.strict && verdict == Verdict::NonStrict {
        Verdict::Fail
    } else {
        verdict
    };
    match plan.expect_fail.get(id) {
        Some(reason) if verdict == Verdict::Fail => (
            Verdict::Xfail,
            Some(format!(
                "expected failure: {reason}; {}",
                detail.unwrap_or_default()
            )),
        ),
        Some(reason) if matches!(verdict, Verdict::Pass | Verdict::NonStrict) => (
            Verdict::Xpass,
            Some(format!("listed as expected to fail ({reason}) but passed")),
        ),
        _ => (verdict, detail),
    }
}

/// Runs one case on a fresh session (lane `lane` of the run's identities).
pub async fn run_case(plan: &Plan, case: Case, lane: u32) -> CaseReport {
    let started = Instant::now();
    let mut session = Session::new(
        plan.endpoint.clone(),
        plan.clock.clone(),
        Namer::new(plan.run_id, lane),
    );
    let result = (case.run)(&mut session).await;
    if !plan.keep {
        session.clean_up().await;
    }
    let steps = session.into_steps();
    let (verdict, detail, ambiguities) = judge_case(&result, &steps);
    let (verdict, detail) = settle(verdict, detail, case.id, plan);
    CaseReport {
        id: case.id.to_owned(),
        title: case.title.to_owned(),
        requirement: case.requirement.to_owned(),
        level: match case.level {
            Level::Must => "MUST".to_owned(),
            Level::Should => "SHOULD".to_owned(),
        },
        covers: case.covers.iter().map(|c| (*c).to_owned()).collect(),
        verdict,
        detail,
        ambiguities,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        steps,
    }
}

/// Runs `cases`, at most `plan.jobs` at once; `done` sees each report as it finishes.
/// Reports come back in case order.
pub async fn run_cases(
    plan: &Plan,
    cases: Vec<Case>,
    mut done: impl FnMut(&CaseReport),
) -> Vec<CaseReport> {
    let permits = Arc::new(Semaphore::new(plan.jobs.max(1)));
    let mut set = JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let plan = plan.clone();
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, run_case(&plan, case, index as u32 + 1).await)
        });
    }
    let mut reports = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, report)) => {
                done(&report);
                reports.push((index, report));
            }
            Err(e) => {
                // A panic inside a case is a harness bug; keep going and report it.
                let report = CaseReport {
                    id: "harness.panic".to_owned(),
                    title: "a case panicked".to_owned(),
                    requirement: String::new(),
                    level: "MUST".to_owned(),
                    covers: Vec::new(),
                    verdict: Verdict::Error,
                    detail: Some(e.to_string()),
                    ambiguities: Vec::new(),
                    duration_ms: 0.0,
                    steps: Vec::new(),
                };
                done(&report);
                reports.push((usize::MAX, report));
            }
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}
