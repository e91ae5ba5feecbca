//! The model-based random phase: proptest generates operation sequences over a few identities,
//! datasets and a small key set (so collisions happen), each sequence is replayed against the
//! endpoint through a [`Session`] that judges every answer, and a failing sequence is shrunk to
//! a minimal one.
//!
//! Actions are abstract ("a stale count for key 2"); they are resolved against the model's
//! state when they run, so a shrunk sequence still means what it says.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::pacer::Pacer;
use super::partition::Partition;
use super::session::{Namer, Now, Session, TokenChoice, dataset_of};
use super::verdict::{Step, StepVerdict, Stop, Verdict};
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
    clock: Now,
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

/// The first lane (identity namespace) of the random phase; sequence `i` runs on lane
/// `LANE_BASE + i`, shrinking runs after the last sequence's.
const LANE_BASE: u32 = 1_000;
/// Re-runs allowed to shrink a failing sequence.
pub const SHRINK_RUNS_MAX: u32 = 4096;
/// Time allowed to shrink a failing sequence (the run in progress finishes).
pub const SHRINK_TIME_MAX: Duration = Duration::from_secs(60);

/// Settings of the random phase.
#[derive(Clone)]
pub struct RandomPlan {
    pub endpoint: Endpoint,
    pub clock: Now,
    pub run_id: u32,
    pub seed: u64,
    /// Sequences of the whole run (before shrinking), numbered from 0; this run owns those of
    /// `partition`.
    pub sequences: u32,
    pub steps_max: usize,
    pub keep: bool,
    /// Start no new sequence after this instant (the first one always starts); sequences in
    /// flight and shrinking still finish.
    pub deadline: Option<Instant>,
    /// Which sequences this run owns (`--partition`).
    pub partition: Partition,
}

/// A failing sequence after shrinking, with the transcript of its last failing run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// The sequence's number in the run (0-based): [`sequence_at`] regenerates it from the seed.
    #[serde(default)]
    pub index: u32,
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

/// The 32-byte ChaCha seed of sequence `index` of the run seeded with `seed`.
fn sequence_seed(seed: u64, index: u32) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&u64::from(index).to_le_bytes());
    bytes[16..24].copy_from_slice(b"cogsync!");
    bytes
}

/// The value tree (the sequence and how to shrink it) of sequence `index` of the run seeded
/// with `seed`. Each sequence draws from its own random stream, so it is the same whatever
/// runs beside it: `--jobs`, `--partition` and the timing of the endpoint change nothing.
fn sequence_tree(
    seed: u64,
    steps_max: usize,
    index: u32,
) -> Option<impl ValueTree<Value = Vec<Action>>> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &sequence_seed(seed, index));
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    sequence(steps_max)
        .new_tree(&mut TestRunner::new_with_rng(config, rng))
        .ok()
}

/// Sequence `index` (0-based) of the random phase seeded with `seed`.
pub fn sequence_at(seed: u64, steps_max: usize, index: u32) -> Vec<Action> {
    sequence_tree(seed, steps_max, index)
        .map(|tree| tree.current())
        .unwrap_or_default()
}

/// Runs `actions` on lane `lane` as a task of its own, so that a panic in the harness becomes
/// a failing run (reported, and shrunk like any other) instead of ending the phase.
fn run_on_lane(
    plan: &RandomPlan,
    lane: u32,
    actions: Vec<Action>,
) -> impl Future<Output = SequenceRun> + Send + 'static {
    let (endpoint, clock, namer, keep) = (
        plan.endpoint.clone(),
        plan.clock.clone(),
        Namer::new(plan.run_id, lane),
        plan.keep,
    );
    async move {
        let task =
            tokio::spawn(async move { run_sequence(endpoint, clock, namer, &actions, keep).await });
        task.await.unwrap_or_else(|e| SequenceRun {
            failure: Some(Stop::Harness(format!("the sequence's task failed: {e}"))),
            steps: Vec::new(),
            coverage: Coverage::default(),
        })
    }
}

/// What every run of the phase (shrinking runs included) adds up to.
#[derive(Default)]
struct Tally {
    coverage: Coverage,
    ambiguities: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, run: &SequenceRun) {
        self.coverage.add(run.coverage);
        for step in &run.steps {
            if let StepVerdict::NonStrict { ambiguities } = &step.verdict {
                self.ambiguities.extend(ambiguities.iter().cloned());
            }
        }
    }
}

/// A failing sequence as found, before shrinking.
struct Found {
    index: u32,
    actions: Vec<Action>,
    run: SequenceRun,
}

/// Runs the random phase: sequences `0..plan.sequences` of the shard, in order, as many at once
/// as `pacer` allows, each on its own identities. After a failure no new sequence starts;
/// those in flight finish, and the failing sequence with the lowest index is shrunk, so the
/// same seed reports the same failure at any `--jobs`. `progress` is called with the number
/// of finished sequences.
pub async fn run_random(
    plan: &RandomPlan,
    pacer: &mut Pacer,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> RandomReport {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut done = 0u64;
    let mut first_failure_ms = None;
    let mut lowest_failing: Option<Found> = None;
    let mut pending = (0..plan.sequences).filter(|&i| plan.partition.has_sequence(i));
    let mut generating = true;
    let mut started_any = false;
    let mut in_flight = JoinSet::new();
    loop {
        while generating && in_flight.len() < pacer.limit() {
            let out_of_time = started_any && plan.deadline.is_some_and(|d| Instant::now() >= d);
            let Some(index) = pending.next().filter(|_| !out_of_time) else {
                generating = false;
                break;
            };
            started_any = true;
            let actions = sequence_at(plan.seed, plan.steps_max, index);
            let run = run_on_lane(plan, LANE_BASE + index, actions.clone());
            in_flight.spawn(async move {
                let started = Instant::now();
                let run = run.await;
                (
                    Found {
                        index,
                        actions,
                        run,
                    },
                    started.elapsed(),
                )
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Ok((found, elapsed)) = joined else {
            continue;
        };
        tally.add(&found.run);
        done += 1;
        progress(done);
        pacer.finished(found.run.coverage.operations, elapsed);
        if found.run.failure.is_some() {
            generating = false;
            first_failure_ms.get_or_insert(started.elapsed().as_secs_f64() * 1000.0);
            if lowest_failing
                .as_ref()
                .is_none_or(|lowest| found.index < lowest.index)
            {
                lowest_failing = Some(found);
            }
        }
    }
    let failure = match lowest_failing {
        Some(found) => Some(shrink(plan, found, &mut tally).await),
        None => None,
    };
    let Tally {
        coverage,
        ambiguities,
    } = tally;
    let ambiguities: Vec<String> = ambiguities.into_iter().collect();
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
        sequences: done,
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
        first_failure_ms,
    }
}

/// Shrinks a failing sequence with its value tree: simplify after a failing candidate,
/// complicate after a passing one (proptest's own loop), each candidate on fresh identities,
/// within [`SHRINK_RUNS_MAX`] runs and [`SHRINK_TIME_MAX`]. Keeps the last failing candidate
/// and the transcript of its run.
async fn shrink(plan: &RandomPlan, found: Found, tally: &mut Tally) -> Failure {
    let Found {
        index,
        actions: original,
        run,
    } = found;
    let original_len = original.len();
    let mut smallest = (original, run);
    if let Some(mut tree) = sequence_tree(plan.seed, plan.steps_max, index) {
        let started = Instant::now();
        let mut lane = LANE_BASE + plan.sequences;
        let mut more = tree.simplify();
        let mut runs = 0;
        while more && runs < SHRINK_RUNS_MAX && started.elapsed() < SHRINK_TIME_MAX {
            let candidate = tree.current();
            let run = run_on_lane(plan, lane, candidate.clone()).await;
            runs += 1;
            lane += 1;
            tally.add(&run);
            if run.failure.is_some() {
                smallest = (candidate, run);
                more = tree.simplify();
            } else {
                more = tree.complicate();
            }
        }
    }
    let (actions, run) = smallest;
    Failure {
        index,
        reason: run.failure.map(|stop| stop.to_string()).unwrap_or_default(),
        original_len,
        actions,
        steps: run.steps,
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

    /// Sequences 0..n as `lanes` workers would draw them: worker w takes w, w + lanes, ...,
    /// and the workers take turns from the last one.
    fn drawn_by(lanes: u32, seed: u64, n: u32) -> Vec<(u32, Vec<Action>)> {
        let mut drawn = Vec::new();
        for w in (0..lanes).rev() {
            for i in (w..n).step_by(lanes as usize) {
                drawn.push((i, sequence_at(seed, 30, i)));
            }
        }
        drawn.sort_by_key(|(i, _)| *i);
        drawn
    }

    #[test]
    fn the_same_seed_generates_the_same_sequences_at_any_concurrency() {
        let one = drawn_by(1, 7, 40);
        assert_eq!(one, drawn_by(8, 7, 40));
        assert_eq!(one, drawn_by(3, 7, 40));
        assert_ne!(one, drawn_by(1, 8, 40), "another seed, other sequences");
        let distinct: BTreeSet<String> = one
            .iter()
            .map(|(_, s)| serde_json::to_string(s).unwrap_or_default())
            .collect();
        assert!(distinct.len() > 35, "each index has a stream of its own");
    }

    #[test]
    fn a_sequence_is_regenerated_from_its_seed_and_index_alone() {
        let first = sequence_at(7, 40, 0);
        assert!(!first.is_empty() && first.len() <= 40);
        assert_eq!(sequence_at(7, 40, 0), first);
        let tree = sequence_tree(7, 40, 0).expect("a tree");
        assert_eq!(
            tree.current(),
            first,
            "shrinking starts from the same sequence"
        );
        assert_ne!(sequence_at(7, 40, 1), first);
    }

    #[test]
    fn generated_sequences_collide_on_keys_and_use_every_kind_of_count() {
        let mut counts = BTreeSet::new();
        let mut updates = 0;
        for i in 0..50 {
            let seq = sequence_at(1, 40, i);
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
