//! Running named cases: each on its own session and identity, several at once, with verdicts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::cases::{Case, Level};
use super::events::{Event, Events};
use super::operations::OperationBook;
use super::pacer::{Jobs, Pacer};
use super::partition::Partition;
use super::session::{Namer, Now, Session};
use super::verdict::{CaseReport, Step, StepVerdict, Stop, Verdict};
use crate::client::Endpoint;

/// What every case of a run shares.
#[derive(Clone)]
pub struct Plan {
    pub endpoint: Endpoint,
    pub clock: Now,
    /// Run-unique prefix of every identity the run creates.
    pub run_id: u32,
    /// Cases and sequences in flight at once: fixed, or following the endpoint's latency.
    pub jobs: Jobs,
    /// The most in flight under [`Jobs::Auto`].
    pub inflight_max: usize,
    pub keep: bool,
    pub strict: bool,
    /// Case ID → reason, from `--expect-fail`.
    pub expect_fail: BTreeMap<String, String>,
    /// Stop starting cases (and skip the later phases) once this many verdicts failed the run:
    /// `Some(1)` for `cogsync mutants` and `--fail-fast`, where one failure is enough.
    pub max_fail: Option<usize>,
}

impl Plan {
    /// Whether `failed` failing verdicts are enough to stop starting new work.
    pub fn enough_failed(&self, failed: usize) -> bool {
        self.max_fail.is_some_and(|max| failed >= max.max(1))
    }
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
        Err(Stop::NotImplemented(why)) => (Verdict::NotImplemented, Some(why.clone()), ambiguities),
        Err(Stop::Skipped(why)) => (Verdict::Skipped, Some(why.clone()), ambiguities),
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
    run_case_with(plan, case, lane, Arc::new(OperationBook::default())).await
}

/// [`run_case`], sharing what the run learned about the eleven pool-level operations.
pub async fn run_case_with(
    plan: &Plan,
    case: Case,
    lane: u32,
    operations: Arc<OperationBook>,
) -> CaseReport {
    let started = Instant::now();
    let mut session = Session::new(
        plan.endpoint.clone(),
        plan.clock.clone(),
        Namer::new(plan.run_id, lane),
    )
    .with_operations(operations);
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

/// Runs `cases`, as many at once as `plan.jobs` allows; `done` sees each report as it
/// finishes. Reports come back in case order.
pub async fn run_cases(
    plan: &Plan,
    cases: Vec<Case>,
    done: impl FnMut(&CaseReport),
) -> Vec<CaseReport> {
    let mut pacer = Pacer::new(plan.jobs, plan.inflight_max);
    run_cases_paced(plan, cases, &mut pacer, done).await
}

/// [`run_cases`] with a pacer that outlives the call (the random phase goes on with what it
/// learned about the endpoint).
pub async fn run_cases_paced(
    plan: &Plan,
    cases: Vec<Case>,
    pacer: &mut Pacer,
    mut done: impl FnMut(&CaseReport),
) -> Vec<CaseReport> {
    let operations = Arc::new(OperationBook::default());
    let mut failed = 0usize;
    let mut reports = Vec::new();
    // The first call of each of the eleven operations (spec §11) comes first, one after the
    // other in dependency order, so the run knows which ones the endpoint implements before
    // any case that needs them starts.
    let (mut probes, rest): (Vec<_>, Vec<_>) = cases
        .into_iter()
        .enumerate()
        .partition(|(_, case)| super::cases::probe_rank(case.id).is_some());
    probes.sort_by_key(|(_, case)| super::cases::probe_rank(case.id));
    for (index, case) in probes {
        if plan.enough_failed(failed) {
            break;
        }
        let report = run_case_with(plan, case, index as u32 + 1, operations.clone()).await;
        failed += usize::from(report.verdict.fails_run());
        done(&report);
        reports.push((index, report));
    }
    let mut pending = rest.into_iter();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < pacer.limit() && !plan.enough_failed(failed) {
            let Some((index, case)) = pending.next() else {
                break;
            };
            let plan = plan.clone();
            let operations = operations.clone();
            in_flight.spawn(async move {
                let lane = index as u32 + 1;
                (index, run_case_with(&plan, case, lane, operations).await)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        match joined {
            Ok((index, report)) => {
                pacer.finished(
                    report.steps.len() as u64,
                    Duration::from_secs_f64(report.duration_ms / 1000.0),
                );
                failed += usize::from(report.verdict.fails_run());
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
                failed += 1;
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
    /// ID prefixes to run (all when empty); whole IDs when `only_exact`.
    pub only: Vec<String>,
    /// `only` holds whole IDs, not prefixes (`--rerun-failed`).
    pub only_exact: bool,
    pub skip: Vec<String>,
    pub seed: u64,
    /// Random sequences (0: no random phase).
    pub sequences: u32,
    pub steps_max: usize,
    /// The whole run's time budget: the named cases always run, the random phase starts no
    /// new sequence after its share (see [`RANDOM_SHARE`]), the concurrent phase gets the rest.
    pub time_budget: Option<Duration>,
    /// The shard of the run (`--partition K/N`); [`Partition::WHOLE`] for all of it.
    pub partition: Partition,
    /// Devices of the concurrent phase (0: no concurrent phase).
    pub devices: usize,
    pub rounds: usize,
    pub ops_per_device: usize,
}

impl Default for SuiteOptions {
    /// The default run: every case, 1,000 random sequences of up to 40 operations, 25
    /// concurrent rounds of 4 devices doing 20 operations each, no time budget.
    fn default() -> SuiteOptions {
        SuiteOptions {
            only: Vec::new(),
            only_exact: false,
            skip: Vec::new(),
            seed: 0,
            sequences: DEFAULT.sequences,
            steps_max: DEFAULT.steps_max,
            time_budget: None,
            partition: Partition::WHOLE,
            devices: DEFAULT.devices,
            rounds: DEFAULT.rounds,
            ops_per_device: DEFAULT.ops_per_device,
        }
    }
}

/// The sizes of a default run, for the command line's defaults too.
pub struct Sizes {
    pub sequences: u32,
    pub steps_max: usize,
    pub devices: usize,
    pub rounds: usize,
    pub ops_per_device: usize,
}

/// See [`SuiteOptions::default`].
pub const DEFAULT: Sizes = Sizes {
    sequences: 1000,
    steps_max: 40,
    devices: 4,
    rounds: 25,
    ops_per_device: 20,
};

/// The pseudo case ID of the random phase, for `--only` and `--skip`.
pub const RANDOM_ID: &str = "random";
/// The pseudo case ID of the concurrent phase, for `--only` and `--skip`.
pub const CONCURRENT_ID: &str = "concurrent";
/// Under a time budget, the share of the time left after the named cases that the random
/// phase may start sequences in, when the concurrent phase comes after it.
pub const RANDOM_SHARE: f64 = 0.8;

/// How many were in flight at once, as the run's summary says it.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub jobs: Jobs,
    /// The most cases or sequences in flight at once.
    pub peak: usize,
    /// Under `--jobs auto`: the lowest mean latency per request of a window, in milliseconds.
    pub unloaded_latency_ms: Option<f64>,
}

/// Everything one run of the suite produced.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    pub cases: Vec<CaseReport>,
    pub random: Option<super::machine::RandomReport>,
    pub concurrent: Option<super::concurrent::ConcurrentReport>,
    /// Selected cases and phases that never started because `max_fail` was reached.
    pub not_run: Vec<String>,
    /// Milliseconds from the start to the first failing verdict, if any.
    pub first_failure_ms: Option<f64>,
    pub pacing: Pacing,
}

impl SuiteOutcome {
    /// Every verdict of the run: each case's, then each phase's that ran.
    pub fn verdicts(&self) -> impl Iterator<Item = Verdict> + '_ {
        verdicts_of(&self.cases, self.random.as_ref(), self.concurrent.as_ref())
    }
}

/// The verdicts of a run's parts, cases first: what summaries count.
pub fn verdicts_of<'a>(
    cases: &'a [CaseReport],
    random: Option<&'a super::machine::RandomReport>,
    concurrent: Option<&'a super::concurrent::ConcurrentReport>,
) -> impl Iterator<Item = Verdict> + 'a {
    cases
        .iter()
        .map(|c| c.verdict)
        .chain(random.map(|r| r.verdict))
        .chain(concurrent.map(|c| c.verdict))
}

fn matches_prefix(id: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| id.starts_with(p.as_str()))
}

/// When the random phase, starting at `now`, stops starting sequences: at the run's
/// `deadline`, or when a concurrent phase follows, after [`RANDOM_SHARE`] of the time left.
pub fn random_deadline(now: Instant, deadline: Instant, concurrent_follows: bool) -> Instant {
    if concurrent_follows {
        now + deadline
            .saturating_duration_since(now)
            .mul_f64(RANDOM_SHARE)
    } else {
        deadline
    }
}

/// The named cases a run with `options` runs: `--only` (prefixes, or whole IDs when
/// `only_exact`), `--skip`, then `--partition`.
pub fn selected_cases(options: &SuiteOptions) -> Vec<Case> {
    let only: &[String] = if options.only_exact {
        &[]
    } else {
        &options.only
    };
    let mut selected: Vec<Case> = super::cases::select(only, &options.skip)
        .into_iter()
        .filter(|c| !options.only_exact || options.only.iter().any(|id| id == c.id))
        .filter(|c| options.partition.has_case(c.id))
        .collect();
    // A case of the eleven pool-level operations needs their first calls to have run: every
    // shard and every selection that holds one also runs the probes (unless `--skip`ped).
    if selected.iter().any(|c| super::cases::needs_probes(c.id)) {
        let probes: Vec<Case> = super::cases::select(&[], &options.skip)
            .into_iter()
            .filter(|c| super::cases::probe_rank(c.id).is_some())
            .filter(|c| !selected.iter().any(|s| s.id == c.id))
            .collect();
        selected.extend(probes);
        selected.sort_by_key(|c| c.id);
    }
    selected
}

/// Runs the selected named cases, then the random phase, then the concurrent phase, telling
/// `events` as it goes.
pub async fn run_suite(plan: &Plan, options: &SuiteOptions, events: Events) -> SuiteOutcome {
    let started = Instant::now();
    let deadline = options.time_budget.map(|budget| started + budget);
    let mut first_failure_ms: Option<f64> = None;
    let mut pacer = Pacer::new(plan.jobs, plan.inflight_max);
    let selected = selected_cases(options);
    let selected_ids: Vec<&'static str> = selected.iter().map(|c| c.id).collect();
    events(&Event::CasesStarted {
        cases: selected.len(),
    });
    let cases = run_cases_paced(plan, selected, &mut pacer, |r| {
        if r.verdict.fails_run() && first_failure_ms.is_none() {
            first_failure_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        }
        events(&Event::CaseFinished(r));
    })
    .await;
    let mut not_run: Vec<String> = selected_ids
        .iter()
        .filter(|id| !cases.iter().any(|c| c.id == **id))
        .map(|id| (*id).to_owned())
        .collect();
    let mut failed = cases.iter().filter(|c| c.verdict.fails_run()).count();
    let random_wanted = (options.only.is_empty() || matches_prefix(RANDOM_ID, &options.only))
        && !matches_prefix(RANDOM_ID, &options.skip)
        && options.sequences > 0;
    let random_selected = random_wanted && !plan.enough_failed(failed);
    if random_wanted && !random_selected {
        not_run.push(RANDOM_ID.to_owned());
    }
    let concurrent_selected = (options.only.is_empty()
        || matches_prefix(CONCURRENT_ID, &options.only))
        && !matches_prefix(CONCURRENT_ID, &options.skip)
        && options.devices > 0
        && options.rounds > 0
        && options.partition.has_concurrent();
    let random = if random_selected {
        let random_deadline =
            deadline.map(|deadline| random_deadline(Instant::now(), deadline, concurrent_selected));
        let random_plan = super::machine::RandomPlan {
            endpoint: plan.endpoint.clone(),
            clock: plan.clock.clone(),
            run_id: plan.run_id,
            seed: options.seed,
            sequences: options.sequences,
            steps_max: options.steps_max,
            keep: plan.keep,
            deadline: random_deadline,
            partition: options.partition,
        };
        let random_started = started.elapsed().as_secs_f64() * 1000.0;
        events(&Event::RandomStarted {
            sequences: u64::from(options.partition.sequences_of(options.sequences)),
        });
        let sink = events.clone();
        let progress: Arc<dyn Fn(u64) + Send + Sync> =
            Arc::new(move |done| sink(&Event::RandomProgress { done }));
        let mut random = super::machine::run_random(&random_plan, &mut pacer, progress).await;
        let (verdict, _) = settle(random.verdict, None, RANDOM_ID, plan);
        random.verdict = verdict;
        failed += usize::from(verdict.fails_run());
        if verdict.fails_run() && first_failure_ms.is_none() {
            first_failure_ms =
                Some(random_started + random.first_failure_ms.unwrap_or(random.elapsed_ms));
        }
        Some(random)
    } else {
        None
    };
    let concurrent_wanted = concurrent_selected;
    let concurrent_selected = concurrent_wanted && !plan.enough_failed(failed);
    if concurrent_wanted && !concurrent_selected {
        not_run.push(CONCURRENT_ID.to_owned());
    }
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
            deadline,
            progress: {
                let sink = events.clone();
                Arc::new(move |done| sink(&Event::RoundsProgress { done }))
            },
            // As many rounds as the pacer keeps requests in flight, a round being `devices`
            // requests at a time.
            rounds_in_flight: (pacer.limit() / options.devices.max(1)).max(1),
        };
        let phase_started = started.elapsed().as_secs_f64() * 1000.0;
        events(&Event::ConcurrentStarted {
            rounds: options.rounds,
        });
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
        not_run,
        first_failure_ms,
        pacing: Pacing {
            jobs: plan.jobs,
            peak: pacer.peak(),
            unloaded_latency_ms: pacer.unloaded_latency().map(|l| l.as_secs_f64() * 1000.0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(partition: Partition) -> SuiteOptions {
        SuiteOptions {
            only: vec!["update-records.".to_owned(), "tokens.".to_owned()],
            only_exact: false,
            skip: vec!["tokens.missing".to_owned()],
            seed: 1,
            sequences: 10,
            steps_max: 5,
            time_budget: None,
            partition,
            devices: 0,
            rounds: 0,
            ops_per_device: 0,
        }
    }

    #[test]
    fn the_random_phase_leaves_a_fifth_of_the_time_left_to_the_concurrent_phase() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(50);
        assert_eq!(
            random_deadline(now, deadline, true),
            now + Duration::from_secs(40)
        );
        assert_eq!(random_deadline(now, deadline, false), deadline);
        // Named cases that overran the budget leave the random phase nothing.
        let later = deadline + Duration::from_secs(5);
        assert_eq!(random_deadline(later, deadline, true), later);
    }

    #[test]
    fn the_shards_of_a_selection_are_the_selection() {
        let whole: Vec<&str> = selected_cases(&options(Partition::WHOLE))
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(whole.len() > 10);
        let mut union: Vec<&str> = (1..=3)
            .flat_map(|k| selected_cases(&options(Partition::new(k, 3).expect("valid"))))
            .map(|c| c.id)
            .collect();
        union.sort_unstable();
        let mut sorted = whole.clone();
        sorted.sort_unstable();
        assert_eq!(union, sorted, "every selected case once, in one shard");
    }
}
