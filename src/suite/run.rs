//! Running named cases: each on its own session and identity, several at once, with verdicts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Stop starting cases (and skip the random phase) after the first failure: for
    /// `cogsync mutants`, where one failure is enough.
    pub fail_fast: bool,
}

/// Turns a case's ending and steps into its verdict, before `--strict` and `--expect-fail`.
///
/// Only a deviation from a MUST fails: a case that checks a SHOULD, or a situation the
/// specification does not state, reports its finding as NON-STRICT with the level as the
/// reason (docs/spec.md, "Never fail a correct server").
pub fn judge_case(
    result: &Result<(), Stop>,
    steps: &[Step],
    level: Level,
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
        Err(Stop::Finding(why)) if level.binds() => (Verdict::Fail, Some(why.clone()), ambiguities),
        Err(Stop::Finding(why)) => (
            Verdict::NonStrict,
            Some(format!(
                "deviation from a {} requirement (not a MUST): {why}",
                level.as_str()
            )),
            ambiguities,
        ),
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
    let (verdict, detail, ambiguities) = judge_case(&result, &steps, case.level);
    let (verdict, detail) = settle(verdict, detail, case.id, plan);
    CaseReport {
        id: case.id.to_owned(),
        title: case.title.to_owned(),
        requirement: case.requirement.to_owned(),
        level: case.level.as_str().to_owned(),
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
    let failed = Arc::new(AtomicBool::new(false));
    let mut set = JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let plan = plan.clone();
        let permits = permits.clone();
        let failed = failed.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            if plan.fail_fast && failed.load(Ordering::Relaxed) {
                return (index, None);
            }
            let report = run_case(&plan, case, index as u32 + 1).await;
            if report.verdict.fails_run() {
                failed.store(true, Ordering::Relaxed);
            }
            (index, Some(report))
        });
    }
    let mut reports = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((_, None)) => {}
            Ok((index, Some(report))) => {
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

/// What to run beyond the per-case plan.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub seed: u64,
    /// Random sequences (0: no random phase).
    pub sequences: u32,
    pub steps_max: usize,
    pub time_budget: Option<std::time::Duration>,
    /// Devices of the concurrent phase (0: no concurrent phase).
    pub devices: usize,
    pub rounds: usize,
    pub ops_per_device: usize,
}

/// The pseudo case ID of the random phase, for `--only` and `--skip`.
pub const RANDOM_ID: &str = "random";
/// The pseudo case ID of the concurrent phase, for `--only` and `--skip`.
pub const CONCURRENT_ID: &str = "concurrent";

/// Everything one run of the suite produced.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    pub cases: Vec<CaseReport>,
    pub random: Option<super::machine::RandomReport>,
    pub concurrent: Option<super::concurrent::ConcurrentReport>,
    /// Milliseconds from the start to the first failing verdict, if any.
    pub first_failure_ms: Option<f64>,
}

fn matches_prefix(id: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| id.starts_with(p.as_str()))
}

/// Runs the selected named cases, then the random phase, then the concurrent phase; `on_case`
/// sees each case report as it finishes, `progress` the number of finished random sequences
/// and `rounds_done` the number of finished concurrent rounds (0 when that phase starts).
pub async fn run_suite(
    plan: &Plan,
    options: &SuiteOptions,
    mut on_case: impl FnMut(&CaseReport),
    progress: Arc<dyn Fn(u64) + Send + Sync>,
    rounds_done: Arc<dyn Fn(usize) + Send + Sync>,
) -> SuiteOutcome {
    let started = Instant::now();
    let mut first_failure_ms: Option<f64> = None;
    let selected = super::cases::select(&options.only, &options.skip);
    let cases = run_cases(plan, selected, |r| {
        if r.verdict.fails_run() && first_failure_ms.is_none() {
            first_failure_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        }
        on_case(r);
    })
    .await;
    let random_selected = (options.only.is_empty() || matches_prefix(RANDOM_ID, &options.only))
        && !matches_prefix(RANDOM_ID, &options.skip)
        && options.sequences > 0
        && !(plan.fail_fast && first_failure_ms.is_some());
    let random = if random_selected {
        let random_plan = super::machine::RandomPlan {
            endpoint: plan.endpoint.clone(),
            clock: plan.clock.clone(),
            run_id: plan.run_id,
            seed: options.seed,
            sequences: options.sequences,
            steps_max: options.steps_max,
            jobs: plan.jobs.max(1),
            keep: plan.keep,
            time_budget: options.time_budget,
        };
        let random_started = started.elapsed().as_secs_f64() * 1000.0;
        let mut random = super::machine::run_random(&random_plan, progress).await;
        let (verdict, _) = settle(random.verdict, None, RANDOM_ID, plan);
        random.verdict = verdict;
        if verdict.fails_run() && first_failure_ms.is_none() {
            first_failure_ms =
                Some(random_started + random.first_failure_ms.unwrap_or(random.elapsed_ms));
        }
        Some(random)
    } else {
        None
    };
    let concurrent_selected = (options.only.is_empty()
        || matches_prefix(CONCURRENT_ID, &options.only))
        && !matches_prefix(CONCURRENT_ID, &options.skip)
        && options.devices > 0
        && options.rounds > 0
        && !(plan.fail_fast && first_failure_ms.is_some());
    let concurrent = if concurrent_selected {
        let concurrent_plan = super::concurrent::ConcurrentPlan {
            endpoint: plan.endpoint.clone(),
            clock: plan.clock.clone(),
            run_id: plan.run_id,
            seed: options.seed,
            devices: options.devices,
            rounds: options.rounds,
            ops_per_device: options.ops_per_device,
            keep: plan.keep,
            shrink_runs: 8,
            search_budget: super::linear::SearchBudget::default(),
            deadline: options.time_budget.map(|budget| started + budget),
            progress: rounds_done,
        };
        let phase_started = started.elapsed().as_secs_f64() * 1000.0;
        let mut report = super::concurrent::run_concurrent(&concurrent_plan).await;
        let (verdict, _) = settle(report.verdict, None, CONCURRENT_ID, plan);
        report.verdict = verdict;
        if verdict.fails_run() && first_failure_ms.is_none() {
            first_failure_ms =
                Some(phase_started + report.first_failure_ms.unwrap_or(report.elapsed_ms));
        }
        Some(report)
    } else {
        None
    };
    SuiteOutcome {
        cases,
        random,
        concurrent,
        first_failure_ms,
    }
}
