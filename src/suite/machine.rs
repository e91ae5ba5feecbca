//! The model-based random phase: proptest generates operation sequences over a few identities,
//! datasets and a small key set (so collisions happen), each sequence is replayed against the
//! endpoint through a [`Session`] that judges every answer, and a failing sequence is shrunk to
//! a minimal one.
//!
//! Actions are abstract ("a stale count for key 2"); they are resolved against the model's
//! state when they run, so a shrunk sequence still means what it says.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::{Deserialize, Serialize};

use super::run::Verdict;
use super::session::{Clock, Namer, Session, Step, StepVerdict, Stop, TokenChoice, dataset_of};
use crate::client::Endpoint;
use crate::model::{Call, Observed};
use crate::spec::{
    DatasetPath, DeleteDatasetRequest, DescribeDatasetRequest, DescribeIdentityUsageRequest,
    ErrorKind, IdentityPath, ListDatasetsRequest, ListRecordsRequest, RecordPatch,
};

/// Identities per sequence.
pub const IDENTITIES: u8 = 2;
/// Dataset names each identity uses.
pub const DATASETS: [&str; 2] = ["alpha", "beta"];
/// Record keys: few, so that patches collide.
pub const KEYS: u8 = 4;
/// The keys' names: two differ only in letter case and two only in Unicode normalization
/// (NFC vs NFD), which DATA-1 makes distinct records.
pub const KEY_NAMES: [&str; KEYS as usize] = ["k0", "K0", "\u{e9}", "e\u{301}"];
/// Distinct values: few, so that unchanged writes happen (AMB-UNCHANGED-WRITE).
pub const VALUES: u8 = 3;

/// The SyncCount a patch carries, relative to the key's current count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountSpec {
    /// The current count: should succeed.
    Fresh,
    /// Current minus n: a stale client.
    Stale(u8),
    /// Current plus n: a client from the future.
    Future(u8),
    /// Always 0: a client that thinks the key is new.
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchSpec {
    pub key: u8,
    pub remove: bool,
    pub value: u8,
    pub count: CountSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenSpec {
    Latest,
    /// The latest token of the identity's other dataset.
    OtherDataset,
    Garbage,
    Missing,
}

/// ListRecords' `lastSyncCount`, relative to the dataset's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Since {
    Zero,
    Behind(u8),
    Ahead(u8),
}

/// Occasional invalid parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invalid {
    DatasetName,
    KeyTooLong,
    BadOp,
    UpperCaseIdentity,
    ReplaceWithoutValue,
    MaxResultsZero,
}

/// One abstract step of a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Update {
        identity: u8,
        dataset: u8,
        patches: Vec<PatchSpec>,
        token: TokenSpec,
    },
    List {
        identity: u8,
        dataset: u8,
        since: Since,
        max_results: Option<i32>,
        garbage_next_token: bool,
    },
    Delete {
        identity: u8,
        dataset: u8,
    },
    Describe {
        identity: u8,
        dataset: u8,
    },
    ListDatasets {
        identity: u8,
        max_results: Option<i32>,
    },
    Usage {
        identity: u8,
    },
    Invalid {
        identity: u8,
        dataset: u8,
        kind: Invalid,
    },
}

fn count_spec() -> impl Strategy<Value = CountSpec> {
    prop_oneof![
        12 => Just(CountSpec::Fresh),
        3 => (1u8..=2).prop_map(CountSpec::Stale),
        2 => (1u8..=2).prop_map(CountSpec::Future),
        3 => Just(CountSpec::Zero),
    ]
}

fn patch_spec() -> impl Strategy<Value = PatchSpec> {
    (0..KEYS, prop::bool::weighted(0.2), 0..VALUES, count_spec()).prop_map(
        |(key, remove, value, count)| PatchSpec {
            key,
            remove,
            value,
            count,
        },
    )
}

fn token_spec() -> impl Strategy<Value = TokenSpec> {
    prop_oneof![
        34 => Just(TokenSpec::Latest),
        2 => Just(TokenSpec::OtherDataset),
        2 => Just(TokenSpec::Garbage),
        2 => Just(TokenSpec::Missing),
    ]
}

fn invalid() -> impl Strategy<Value = Invalid> {
    prop_oneof![
        Just(Invalid::DatasetName),
        Just(Invalid::KeyTooLong),
        Just(Invalid::BadOp),
        Just(Invalid::UpperCaseIdentity),
        Just(Invalid::ReplaceWithoutValue),
        Just(Invalid::MaxResultsZero),
    ]
}

/// One action, weighted towards writes and lists like a sync client's traffic.
pub fn action() -> impl Strategy<Value = Action> {
    let who = (0..IDENTITIES, 0..DATASETS.len() as u8);
    prop_oneof![
        50 => (who.clone(), prop::collection::vec(patch_spec(), 1..=3), token_spec())
            .prop_map(|((identity, dataset), patches, token)| Action::Update { identity, dataset, patches, token }),
        25 => (
            who.clone(),
            prop_oneof![4 => Just(Since::Zero), 3 => (1u8..=3).prop_map(Since::Behind), 1 => (1u8..=2).prop_map(Since::Ahead)],
            prop_oneof![1 => Just(None), 3 => (1i32..=3).prop_map(Some)],
            prop::bool::weighted(0.03),
        )
            .prop_map(|((identity, dataset), since, max_results, garbage_next_token)| Action::List {
                identity,
                dataset,
                since,
                max_results,
                garbage_next_token,
            }),
        4 => who.clone().prop_map(|(identity, dataset)| Action::Delete { identity, dataset }),
        4 => who.clone().prop_map(|(identity, dataset)| Action::Describe { identity, dataset }),
        3 => (0..IDENTITIES, prop::option::of(1i32..=2))
            .prop_map(|(identity, max_results)| Action::ListDatasets { identity, max_results }),
        2 => (0..IDENTITIES).prop_map(|identity| Action::Usage { identity }),
        4 => (who, invalid()).prop_map(|((identity, dataset), kind)| Action::Invalid { identity, dataset, kind }),
    ]
}

/// A sequence of 1..=`steps_max` actions.
pub fn sequence(steps_max: usize) -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(action(), 1..=steps_max.max(1))
}

/// What one sequence showed, for the vacuity guard and the throughput figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub operations: u64,
    pub conflicts: u64,
    pub tombstones: u64,
    pub multi_page_lists: u64,
}

impl Coverage {
    fn add(&mut self, other: Coverage) {
        self.operations += other.operations;
        self.conflicts += other.conflicts;
        self.tombstones += other.tombstones;
        self.multi_page_lists += other.multi_page_lists;
    }
}

/// The result of running one sequence.
#[derive(Debug, Clone)]
pub struct SequenceRun {
    pub failure: Option<Stop>,
    pub steps: Vec<Step>,
    pub coverage: Coverage,
}

struct World {
    identities: Vec<IdentityPath>,
}

impl World {
    fn path(&self, identity: u8, dataset: u8) -> DatasetPath {
        let id = &self.identities[usize::from(identity) % self.identities.len()];
        dataset_of(id, DATASETS[usize::from(dataset) % DATASETS.len()])
    }

    fn identity(&self, identity: u8) -> &IdentityPath {
        &self.identities[usize::from(identity) % self.identities.len()]
    }
}

fn resolve(s: &Session, path: &DatasetPath, p: &PatchSpec) -> RecordPatch {
    let key = KEY_NAMES[usize::from(p.key) % KEY_NAMES.len()].to_owned();
    let current = s.count_of(path, &key);
    let sync_count = match p.count {
        CountSpec::Fresh => current,
        CountSpec::Stale(n) => current - i64::from(n.max(1)),
        CountSpec::Future(n) => current + i64::from(n.max(1)),
        CountSpec::Zero => 0,
    };
    RecordPatch {
        op: Some(if p.remove { "remove" } else { "replace" }.to_owned()),
        value: (!p.remove).then(|| format!("v{}", p.value)),
        key: Some(key),
        sync_count: Some(sync_count),
        device_last_modified_date: None,
    }
}

async fn run_action(
    s: &mut Session,
    world: &World,
    action: &Action,
    cov: &mut Coverage,
) -> Result<(), Stop> {
    let answer = match action {
        Action::Update {
            identity,
            dataset,
            patches,
            token,
        } => {
            let path = world.path(*identity, *dataset);
            let choice = match token {
                TokenSpec::Latest => TokenChoice::Latest,
                TokenSpec::OtherDataset => {
                    let other = world.path(*identity, dataset.wrapping_add(1));
                    if !s.has_token(&other) {
                        s.list(&other).await?;
                    }
                    TokenChoice::From(other)
                }
                TokenSpec::Garbage => TokenChoice::Garbage,
                TokenSpec::Missing => TokenChoice::Missing,
            };
            let resolved: Vec<RecordPatch> = patches.iter().map(|p| resolve(s, &path, p)).collect();
            let removes = resolved.iter().any(|p| p.op.as_deref() == Some("remove"));
            let answer = s
                .update_with(&path, Some("cogsync-random"), Some(resolved), choice)
                .await?;
            if removes && matches!(answer, Observed::UpdateRecords(_)) {
                cov.tombstones += 1;
            }
            answer
        }
        Action::List {
            identity,
            dataset,
            since,
            max_results,
            garbage_next_token,
        } => {
            let path = world.path(*identity, *dataset);
            let count = s.model().dataset_sync_count(&path);
            let last_sync_count = match since {
                Since::Zero => None,
                Since::Behind(n) => Some((count - i64::from(*n)).max(0)),
                Since::Ahead(n) => Some(count + i64::from(*n)),
            };
            let request = ListRecordsRequest {
                path,
                last_sync_count,
                max_results: *max_results,
                next_token: garbage_next_token.then(|| "bm90LWEtcGFnaW5nLXRva2Vu".to_owned()),
                sync_session_token: None,
            };
            let answer = s.list_with(request, TokenChoice::Missing).await?;
            if let Observed::ListRecords(pages) = &answer
                && pages.len() > 1
            {
                cov.multi_page_lists += 1;
            }
            answer
        }
        Action::Delete { identity, dataset } => {
            let path = world.path(*identity, *dataset);
            s.call(Call::DeleteDataset(DeleteDatasetRequest { path }))
                .await?
        }
        Action::Describe { identity, dataset } => {
            let path = world.path(*identity, *dataset);
            s.call(Call::DescribeDataset(DescribeDatasetRequest { path }))
                .await?
        }
        Action::ListDatasets {
            identity,
            max_results,
        } => {
            let path = world.identity(*identity).clone();
            s.call(Call::ListDatasets(ListDatasetsRequest {
                path,
                max_results: *max_results,
                next_token: None,
            }))
            .await?
        }
        Action::Usage { identity } => {
            let path = world.identity(*identity).clone();
            s.call(Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
                path,
            }))
            .await?
        }
        Action::Invalid {
            identity,
            dataset,
            kind,
        } => run_invalid(s, world.path(*identity, *dataset), *kind).await?,
    };
    if let Observed::Error {
        kind: Some(ErrorKind::ResourceConflict),
        ..
    } = answer
    {
        cov.conflicts += 1;
    }
    Ok(())
}

async fn run_invalid(s: &mut Session, path: DatasetPath, kind: Invalid) -> Result<Observed, Stop> {
    let patch = |key: String, op: &str, value: Option<&str>, count: i64| RecordPatch {
        op: Some(op.to_owned()),
        key: Some(key),
        value: value.map(str::to_owned),
        sync_count: Some(count),
        device_last_modified_date: None,
    };
    match kind {
        Invalid::DatasetName => {
            let mut bad = path;
            bad.dataset_name = "bad name!".to_owned();
            s.list_with(
                ListRecordsRequest {
                    path: bad,
                    ..ListRecordsRequest::default()
                },
                TokenChoice::Missing,
            )
            .await
        }
        Invalid::UpperCaseIdentity => {
            let mut bad = path;
            bad.identity_id = bad
                .identity_id
                .to_uppercase()
                .replacen("US-EAST-1", "us-east-1", 1);
            s.list_with(
                ListRecordsRequest {
                    path: bad,
                    ..ListRecordsRequest::default()
                },
                TokenChoice::Missing,
            )
            .await
        }
        Invalid::MaxResultsZero => {
            s.list_with(
                ListRecordsRequest {
                    path,
                    max_results: Some(0),
                    ..ListRecordsRequest::default()
                },
                TokenChoice::Missing,
            )
            .await
        }
        Invalid::KeyTooLong => {
            let key = "k".repeat(crate::spec::RECORD_KEY_LEN_MAX + 1);
            s.update_with(
                &path,
                None,
                Some(vec![patch(key, "replace", Some("v"), 0)]),
                TokenChoice::Latest,
            )
            .await
        }
        Invalid::BadOp => {
            s.update_with(
                &path,
                None,
                Some(vec![patch("k0".to_owned(), "Replace", Some("v"), 0)]),
                TokenChoice::Latest,
            )
            .await
        }
        Invalid::ReplaceWithoutValue => {
            let count = s.count_of(&path, "k1");
            s.update_with(
                &path,
                None,
                Some(vec![patch("k1".to_owned(), "replace", None, count)]),
                TokenChoice::Latest,
            )
            .await
        }
    }
}

/// Runs `actions` on a fresh session (fresh identities under `namer`), stopping at the first
/// answer the model does not allow.
pub async fn run_sequence(
    endpoint: Endpoint,
    clock: Clock,
    namer: Namer,
    actions: &[Action],
    keep: bool,
) -> SequenceRun {
    let mut s = Session::new(endpoint, clock, namer);
    let world = World {
        identities: (0..IDENTITIES).map(|_| s.identity()).collect(),
    };
    let mut coverage = Coverage::default();
    let mut failure = None;
    for action in actions {
        if let Err(stop) = run_action(&mut s, &world, action, &mut coverage).await {
            failure = Some(stop);
            break;
        }
    }
    // Every judged call counts, including the ListRecords a write makes to get its token.
    coverage.operations = s.steps().len() as u64;
    if !keep {
        s.clean_up().await;
    }
    SequenceRun {
        failure,
        steps: s.into_steps(),
        coverage,
    }
}

/// Settings of the random phase.
#[derive(Clone)]
pub struct RandomPlan {
    pub endpoint: Endpoint,
    pub clock: Clock,
    pub run_id: u32,
    pub seed: u64,
    /// Sequences to generate (before shrinking).
    pub sequences: u32,
    pub steps_max: usize,
    pub jobs: usize,
    pub keep: bool,
    /// Stop generating new sequences after this long (shrinking still finishes).
    pub time_budget: Option<Duration>,
}

/// A failing sequence after shrinking, with the transcript of its last run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    /// Length of the sequence as first generated.
    pub original_len: usize,
    pub actions: Vec<Action>,
    pub steps: Vec<Step>,
}

/// What the random phase found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomReport {
    #[serde(with = "crate::spec::seed_text")]
    pub seed: u64,
    pub verdict: Verdict,
    pub sequences: u64,
    pub coverage: Coverage,
    pub elapsed_ms: f64,
    /// Checked operations per second, shrinking runs included.
    pub operations_per_sec: f64,
    pub ambiguities: Vec<String>,
    /// Why the phase proved nothing, when it did not see a conflict, a tombstone and a
    /// multi-page list.
    pub vacuous: Option<String>,
    pub failure: Option<Failure>,
    /// Milliseconds from the phase's start to the first failing sequence (before shrinking).
    pub first_failure_ms: Option<f64>,
}

/// A 32-byte ChaCha seed for job `job` of the run seeded with `seed`.
fn job_seed(seed: u64, job: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&job.to_le_bytes());
    bytes[16..24].copy_from_slice(b"cogsync!");
    bytes
}

/// Runs the random phase: `jobs` independent proptest runners, each on its own identities.
/// `progress` is called with the number of finished sequences.
pub async fn run_random(
    plan: &RandomPlan,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> RandomReport {
    let started = Instant::now();
    let jobs = plan.jobs.max(1) as u32;
    let lanes = Arc::new(AtomicU32::new(1_000));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let first_failure_us = Arc::new(AtomicU64::new(u64::MAX));
    let coverage = Arc::new(Mutex::new(Coverage::default()));
    let ambiguities = Arc::new(Mutex::new(BTreeSet::new()));
    let handle = tokio::runtime::Handle::current();
    let mut tasks = Vec::new();
    for job in 0..jobs {
        let per_job = plan.sequences / jobs + u32::from(job < plan.sequences % jobs);
        if per_job == 0 {
            continue;
        }
        let plan = plan.clone();
        let (lanes, done, stop, coverage, ambiguities, progress, handle) = (
            lanes.clone(),
            done.clone(),
            stop.clone(),
            coverage.clone(),
            ambiguities.clone(),
            progress.clone(),
            handle.clone(),
        );
        let first_failure_us = first_failure_us.clone();
        let phase_started = started;
        tasks.push(tokio::task::spawn_blocking(move || {
            let config = Config {
                cases: per_job,
                failure_persistence: None,
                max_shrink_iters: 4096,
                max_shrink_time: 60_000,
                ..Config::default()
            };
            let rng =
                TestRng::from_seed(RngAlgorithm::ChaCha, &job_seed(plan.seed, u64::from(job)));
            let mut runner = TestRunner::new_with_rng(config, rng);
            let started = Instant::now();
            let shrinking = AtomicBool::new(false);
            let result = runner.run(&sequence(plan.steps_max), |actions| {
                let over_budget = plan.time_budget.is_some_and(|b| started.elapsed() >= b);
                if !shrinking.load(Ordering::Relaxed)
                    && (stop.load(Ordering::Relaxed) || over_budget)
                {
                    // Out of time or another job already failed: skip the remaining sequences.
                    return Ok(());
                }
                let lane = lanes.fetch_add(1, Ordering::Relaxed);
                let run = handle.block_on(run_sequence(
                    plan.endpoint.clone(),
                    plan.clock.clone(),
                    Namer::new(plan.run_id, lane),
                    &actions,
                    plan.keep,
                ));
                if let Ok(mut c) = coverage.lock() {
                    c.add(run.coverage);
                }
                if let Ok(mut a) = ambiguities.lock() {
                    for step in &run.steps {
                        if let StepVerdict::NonStrict { ambiguities } = &step.verdict {
                            a.extend(ambiguities.iter().cloned());
                        }
                    }
                }
                if !shrinking.load(Ordering::Relaxed) {
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
                match run.failure {
                    Some(stop_reason) => {
                        if !shrinking.load(Ordering::Relaxed) {
                            first_failure_us.fetch_min(
                                phase_started.elapsed().as_micros() as u64,
                                Ordering::Relaxed,
                            );
                        }
                        shrinking.store(true, Ordering::Relaxed);
                        stop.store(true, Ordering::Relaxed);
                        Err(TestCaseError::fail(stop_reason.to_string()))
                    }
                    None => Ok(()),
                }
            });
            match result {
                Err(TestError::Fail(reason, minimal)) => Some((reason.to_string(), minimal)),
                _ => None,
            }
        }));
    }
    let mut first_failure: Option<(String, Vec<Action>)> = None;
    for task in tasks {
        if let Ok(Some(found)) = task.await
            && first_failure
                .as_ref()
                .is_none_or(|(_, a)| found.1.len() < a.len())
        {
            first_failure = Some(found);
        }
    }
    let failure = match first_failure {
        Some((reason, actions)) => {
            // Run the minimal sequence once more for its transcript.
            let lane = lanes.fetch_add(1, Ordering::Relaxed);
            let run = run_sequence(
                plan.endpoint.clone(),
                plan.clock.clone(),
                Namer::new(plan.run_id, lane),
                &actions,
                plan.keep,
            )
            .await;
            Some(Failure {
                reason: run.failure.map_or(reason, |s| s.to_string()),
                original_len: actions.len(),
                actions,
                steps: run.steps,
            })
        }
        None => None,
    };
    let coverage = coverage.lock().map(|c| *c).unwrap_or_default();
    let ambiguities: Vec<String> = ambiguities
        .lock()
        .map(|a| a.iter().cloned().collect())
        .unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    let vacuous = vacuity(&coverage);
    let verdict = if failure.is_some() || (vacuous.is_some() && coverage.operations > 0) {
        Verdict::Fail
    } else if coverage.operations == 0 {
        Verdict::Error
    } else if !ambiguities.is_empty() {
        Verdict::NonStrict
    } else {
        Verdict::Pass
    };
    RandomReport {
        seed: plan.seed,
        verdict,
        sequences: done.load(Ordering::Relaxed),
        coverage,
        elapsed_ms: elapsed * 1000.0,
        operations_per_sec: if elapsed > 0.0 {
            coverage.operations as f64 / elapsed
        } else {
            0.0
        },
        ambiguities,
        vacuous: if failure.is_none() { vacuous } else { None },
        failure,
        first_failure_ms: match first_failure_us.load(Ordering::Relaxed) {
            u64::MAX => None,
            us => Some(us as f64 / 1000.0),
        },
    }
}

/// The vacuity guard: a random phase that never saw a conflict, a tombstone and a multi-page
/// list has not exercised the contract and must not pass.
pub fn vacuity(c: &Coverage) -> Option<String> {
    let mut missing = Vec::new();
    if c.conflicts == 0 {
        missing.push("a 409 conflict");
    }
    if c.tombstones == 0 {
        missing.push("a tombstone");
    }
    if c.multi_page_lists == 0 {
        missing.push("a multi-page ListRecords");
    }
    (!missing.is_empty()).then(|| format!("the random phase never produced {}", missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn the_same_seed_generates_the_same_sequences() {
        let gen_with = |seed: u64| {
            let mut runner = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &job_seed(seed, 0)),
            );
            (0..20)
                .map(|_| {
                    sequence(30)
                        .new_tree(&mut runner)
                        .map(|t| t.current())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(gen_with(7), gen_with(7));
        assert_ne!(gen_with(7), gen_with(8));
    }

    #[test]
    fn generated_sequences_collide_on_keys_and_use_every_kind_of_count() {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &job_seed(1, 0)),
        );
        let mut counts = BTreeSet::new();
        let mut updates = 0;
        for _ in 0..50 {
            let seq = sequence(40)
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_default();
            for a in seq {
                if let Action::Update { patches, .. } = a {
                    updates += 1;
                    for p in patches {
                        counts.insert(
                            format!("{:?}", p.count)
                                .split('(')
                                .next()
                                .unwrap_or_default()
                                .to_owned(),
                        );
                    }
                }
            }
        }
        assert!(updates > 100);
        assert_eq!(
            counts.len(),
            4,
            "Fresh, Stale, Future and Zero all occur: {counts:?}"
        );
    }

    #[test]
    fn the_vacuity_guard_names_what_is_missing() {
        let c = Coverage {
            operations: 10,
            conflicts: 1,
            tombstones: 0,
            multi_page_lists: 0,
        };
        let why = vacuity(&c).expect("vacuous");
        assert!(why.contains("tombstone") && why.contains("multi-page") && !why.contains("409"));
        assert!(
            vacuity(&Coverage {
                operations: 3,
                conflicts: 1,
                tombstones: 1,
                multi_page_lists: 1
            })
            .is_none()
        );
    }

    #[test]
    fn actions_round_trip_through_json() {
        let actions = vec![
            Action::Update {
                identity: 0,
                dataset: 1,
                patches: vec![PatchSpec {
                    key: 2,
                    remove: false,
                    value: 1,
                    count: CountSpec::Stale(1),
                }],
                token: TokenSpec::Latest,
            },
            Action::List {
                identity: 1,
                dataset: 0,
                since: Since::Behind(2),
                max_results: Some(2),
                garbage_next_token: false,
            },
        ];
        let json = serde_json::to_string(&actions).expect("json");
        assert_eq!(
            serde_json::from_str::<Vec<Action>>(&json).expect("parse"),
            actions
        );
    }
}
