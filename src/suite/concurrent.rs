//! The concurrent phase: several devices sync one dataset at once, like real sync managers —
//! list, then write with the counts they just saw (sometimes stale ones), list again after a
//! conflict — and the recorded history is checked for linearizability against the model.
//!
//! Sequential checks cannot see races: two devices presenting the same SyncCount and both
//! succeeding (a lost update), or counts that skip or repeat. This phase can.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::linear::{self, HistoryOp, Linearizability, SearchBudget};
use super::session::{Namer, Now, dataset_of, observed};
use super::token_book::{TokenBook, TokenChoice};
use super::verdict::Verdict;
use crate::client::{Endpoint, Reply};
use crate::model::{Call, Observed, TokenClaim};
use crate::spec::{
    DatasetPath, DeleteDatasetRequest, ListRecordsRequest, ListRecordsResponse, RecordPatch,
    Request, UpdateRecordsBody, UpdateRecordsRequest, UpdateRecordsResponse,
};

/// Keys the devices share: few, so that writes collide.
const KEYS: usize = 4;

/// Settings of the concurrent phase.
#[derive(Clone)]
pub struct ConcurrentPlan {
    pub endpoint: Endpoint,
    pub clock: Now,
    pub run_id: u32,
    pub seed: u64,
    pub devices: usize,
    /// Independent rounds, each on a fresh identity and dataset.
    pub rounds: usize,
    pub ops_per_device: usize,
    pub keep: bool,
    /// Re-runs allowed to find a smaller failing history.
    pub shrink_runs: usize,
    /// What the linearizability check of one round may spend; a round past it is "unknown",
    /// neither a pass nor a failure.
    pub search_budget: SearchBudget,
    /// No round starts after this instant (`check --time-budget`).
    pub deadline: Option<Instant>,
    /// Called with the number of rounds done: 0 when the phase starts, then after each round.
    pub progress: Arc<dyn Fn(usize) + Send + Sync>,
    /// Rounds run at once, each on its own identity and dataset: rounds are independent, so
    /// against a slow endpoint several hide each other's latency. 1 runs them one by one.
    pub rounds_in_flight: usize,
}

/// One round's history: a violation, minimised (the operations no order explains), or a
/// round that passed, kept as an example. Reports render it (`crate::report::history`) into a
/// timeline, an EDN event list and a JSON history, which the JSON report keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundHistory {
    pub devices: usize,
    pub operations: usize,
    /// The history itself (not in the JSON report, which keeps the renderings below).
    #[serde(skip)]
    pub ops: Vec<HistoryOp>,
    /// Indices into `ops` of the operations that cannot come next (none in a passing round).
    #[serde(skip)]
    pub stuck: Vec<usize>,
    #[serde(default)]
    pub timeline: String,
    /// Knossos/Jepsen-style EDN event list.
    #[serde(default)]
    pub edn: String,
    /// The operations as JSON (call, answer, times), for tools and for reading.
    #[serde(default)]
    pub history: serde_json::Value,
}

/// What the concurrent phase found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConcurrentReport {
    pub verdict: Verdict,
    pub devices: usize,
    /// Rounds planned.
    pub rounds: usize,
    /// Rounds that ran: all of them, unless the deadline came first.
    pub rounds_run: usize,
    /// Rounds whose check ran out of its search budget: not proven linearizable, not refuted.
    pub unknown_rounds: usize,
    /// Why the verdict is not a plain PASS or FAIL (unknown rounds, rounds cut by the deadline).
    pub detail: Option<String>,
    pub operations: u64,
    pub conflicts: u64,
    pub indeterminate: u64,
    pub elapsed_ms: f64,
    pub check_ms: f64,
    pub violation: Option<RoundHistory>,
    /// The lowest-numbered round that was proven linearizable, for reports to draw.
    #[serde(default)]
    pub example: Option<RoundHistory>,
    pub first_failure_ms: Option<f64>,
}

struct Device {
    index: u32,
    lane: u32,
    rng: StdRng,
    tokens: TokenBook,
    last_sync: i64,
    known: BTreeMap<String, i64>,
    must_list: bool,
}

struct Recorder {
    started: Instant,
    ops: Mutex<Vec<HistoryOp>>,
}

/// The answer as the history records it; `None` when the operation may or may not have taken
/// effect: no usable answer, or a 5xx.
fn determinate<T>(reply: Reply<T>, wrap: impl FnOnce(T) -> Observed) -> Option<Observed> {
    observed(reply, wrap)
        .ok()
        .filter(|o| !matches!(o, Observed::Error { status, .. } if *status >= 500))
}

async fn device_run(
    mut d: Device,
    endpoint: Endpoint,
    clock: Now,
    path: DatasetPath,
    ops: usize,
    rec: Arc<Recorder>,
    next_lane: Arc<std::sync::atomic::AtomicU32>,
) {
    for n in 0..ops {
        let list_now = !d.tokens.has(&path) || d.must_list || d.rng.random_bool(0.25);
        let now = clock();
        let invoke = rec.started.elapsed().as_nanos() as u64;
        let (call, observed) = if list_now {
            // A sync manager lists from its last sync count (sometimes from 0).
            let since = if d.rng.random_bool(0.3) {
                0
            } else {
                d.last_sync
            };
            let request = ListRecordsRequest {
                path: path.clone(),
                last_sync_count: Some(since),
                ..ListRecordsRequest::default()
            };
            let (reply, _) = endpoint
                .call::<ListRecordsResponse>(&Request::ListRecords(request.clone()))
                .await;
            let observed = determinate(reply, |page| Observed::ListRecords(vec![page]));
            if let Some(Observed::ListRecords(pages)) = &observed
                && let Some(page) = pages.last()
            {
                match page.sync_session_token.clone() {
                    Some(token) => d.tokens.issue_shared(&path, token, now),
                    None => d.tokens.forget(&path),
                }
                d.last_sync = page.dataset_sync_count.unwrap_or(d.last_sync);
                for r in page.records.iter().flatten() {
                    if let (Some(k), Some(c)) = (&r.key, r.sync_count) {
                        d.known.insert(k.clone(), c);
                    }
                }
                d.must_list = false;
            }
            (
                Call::ListRecords {
                    request,
                    token: TokenClaim::Missing,
                },
                observed,
            )
        } else {
            let (claim, token) = d.tokens.claim(&path, &TokenChoice::Latest);
            let patches: Vec<RecordPatch> = (0..d.rng.random_range(1..=2))
                .map(|_| format!("k{}", d.rng.random_range(0..KEYS)))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|key| {
                    let known = d.known.get(&key).copied().unwrap_or(0);
                    let count = if d.rng.random_bool(0.1) {
                        known - 1
                    } else {
                        known
                    };
                    let remove = d.rng.random_bool(0.1);
                    RecordPatch {
                        op: Some(if remove { "remove" } else { "replace" }.to_owned()),
                        value: (!remove).then(|| format!("d{}-{n}", d.index)),
                        key: Some(key),
                        sync_count: Some(count),
                        device_last_modified_date: None,
                    }
                })
                .collect();
            let request = UpdateRecordsRequest {
                path: path.clone(),
                client_context: None,
                body: UpdateRecordsBody {
                    device_id: Some(format!("device-{}", d.index)),
                    record_patches: Some(patches),
                    sync_session_token: token,
                },
            };
            let (reply, _) = endpoint
                .call::<UpdateRecordsResponse>(&Request::UpdateRecords(request.clone()))
                .await;
            let observed = determinate(reply, Observed::UpdateRecords);
            d.tokens.spend(&claim);
            match &observed {
                Some(Observed::UpdateRecords(r)) => {
                    for rec in r.records.iter().flatten() {
                        if let (Some(k), Some(c)) = (&rec.key, rec.sync_count) {
                            d.known.insert(k.clone(), c);
                        }
                    }
                }
                _ => d.must_list = true,
            }
            (
                Call::UpdateRecords {
                    request,
                    token: claim,
                },
                observed,
            )
        };
        let complete = observed
            .as_ref()
            .map(|_| rec.started.elapsed().as_nanos() as u64);
        let indeterminate = observed.is_none();
        rec.ops.lock().await.push(HistoryOp {
            lane: d.lane,
            device: d.index,
            call,
            observed,
            invoke_ns: invoke,
            complete_ns: complete,
            now,
        });
        if indeterminate {
            // The operation may still take effect: the device continues as a new lane.
            d.lane = next_lane.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Runs one round: `devices` devices on one fresh dataset; returns the history.
pub async fn run_round(
    plan: &ConcurrentPlan,
    round: usize,
    devices: usize,
    ops_per_device: usize,
    lane_base: u32,
) -> Vec<HistoryOp> {
    let mut namer = Namer::new(plan.run_id, 50_000 + lane_base);
    let identity = namer.identity();
    let path = dataset_of(&identity, "shared");
    let rec = Arc::new(Recorder {
        started: Instant::now(),
        ops: Mutex::new(Vec::new()),
    });
    let next_lane = Arc::new(std::sync::atomic::AtomicU32::new(devices as u32));
    let mut tasks = Vec::new();
    for i in 0..devices {
        let seed =
            plan.seed ^ ((round as u64) << 32) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let device = Device {
            index: i as u32,
            lane: i as u32,
            rng: StdRng::seed_from_u64(seed),
            tokens: TokenBook::new(),
            last_sync: 0,
            known: BTreeMap::new(),
            must_list: true,
        };
        tasks.push(tokio::spawn(device_run(
            device,
            plan.endpoint.clone(),
            plan.clock.clone(),
            path.clone(),
            ops_per_device,
            rec.clone(),
            next_lane.clone(),
        )));
    }
    for task in tasks {
        let _ = task.await;
    }
    if !plan.keep {
        let _ = plan
            .endpoint
            .call::<serde_json::Value>(&Request::DeleteDataset(DeleteDatasetRequest { path }))
            .await;
    }
    let mut ops = std::mem::take(&mut *rec.ops.lock().await);
    ops.sort_by_key(|o| o.invoke_ns);
    ops
}

/// One round's verdict.
enum RoundCheck {
    Linearizable,
    /// Some part ran out of search budget, and no part is a violation.
    Unknown,
    /// The first part that is not linearizable, and its stuck operations (indices into it).
    Violation(Vec<HistoryOp>, Vec<usize>),
}

fn check_round(ops: &[HistoryOp], budget: &SearchBudget) -> RoundCheck {
    let mut unknown = false;
    for part in linear::check_history(ops, budget) {
        match part.verdict {
            Linearizability::Violation { stuck, .. } => {
                let sub: Vec<HistoryOp> = part.ops.iter().map(|&i| ops[i].clone()).collect();
                let stuck_local: Vec<usize> = stuck
                    .iter()
                    .filter_map(|s| part.ops.iter().position(|i| i == s))
                    .collect();
                return RoundCheck::Violation(sub, stuck_local);
            }
            Linearizability::Unknown { .. } => unknown = true,
            Linearizability::Linearizable { .. } => {}
        }
    }
    if unknown {
        RoundCheck::Unknown
    } else {
        RoundCheck::Linearizable
    }
}

/// What the phase's verdict needs said beyond PASS or FAIL, if anything.
fn phase_detail(plan: &ConcurrentPlan, rounds_run: usize, unknown_rounds: usize) -> Option<String> {
    let mut parts = Vec::new();
    if unknown_rounds > 0 {
        let budget = &plan.search_budget;
        let time = budget
            .time_max
            .map_or_else(String::new, |t| format!(", {:.0} s", t.as_secs_f64()));
        parts.push(format!(
            "unknown (search budget exceeded) in {unknown_rounds} of {rounds_run} rounds: no \
             order found and none ruled out within {} configurations, {} model states{time} \
             per round",
            budget.configurations_max, budget.states_max
        ));
    }
    if rounds_run < plan.rounds {
        parts.push(format!(
            "{rounds_run} of {} rounds ran before the time budget ended",
            plan.rounds
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Runs the concurrent phase: rounds of racing devices, each history checked.
pub async fn run_concurrent(plan: &ConcurrentPlan) -> ConcurrentReport {
    let started = Instant::now();
    let mut operations = 0u64;
    let mut conflicts = 0u64;
    let mut indeterminate = 0u64;
    let mut check_ms = 0.0;
    let mut found: Option<(Vec<HistoryOp>, Vec<usize>)> = None;
    let mut example: Option<(usize, Vec<HistoryOp>)> = None;
    let mut first_failure_ms = None;
    let mut rounds_run = 0;
    let mut unknown_rounds = 0;
    (plan.progress)(0);
    let shared = Arc::new(plan.clone());
    // One search at a time (it uses every core itself), so memory stays within one round's
    // search budget however many rounds are in flight.
    let searching = Arc::new(tokio::sync::Semaphore::new(1));
    let mut pending = 0..plan.rounds;
    let mut in_flight = tokio::task::JoinSet::new();
    // The violation of the lowest-numbered round, once one is seen: no new round starts then.
    let mut violation_round: Option<usize> = None;
    loop {
        while in_flight.len() < plan.rounds_in_flight.max(1)
            && violation_round.is_none()
            && plan.deadline.is_none_or(|d| Instant::now() < d)
        {
            let Some(round) = pending.next() else {
                break;
            };
            let plan = shared.clone();
            let searching = searching.clone();
            in_flight.spawn(async move {
                let ops = run_round(
                    &plan,
                    round,
                    plan.devices,
                    plan.ops_per_device,
                    round as u32 * 64,
                )
                .await;
                // The search is CPU work: off the runtime's worker threads.
                let budget = plan.search_budget;
                let _searching = searching.acquire_owned().await;
                tokio::task::spawn_blocking(move || {
                    let t = Instant::now();
                    let checked = check_round(&ops, &budget);
                    (round, ops, checked, t.elapsed())
                })
                .await
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Ok(Ok((round, ops, checked, took))) = joined else {
            // A panicking round is a harness bug; it counts as run and unknown, never as a pass.
            rounds_run += 1;
            unknown_rounds += 1;
            (plan.progress)(rounds_run);
            continue;
        };
        operations += ops.len() as u64;
        conflicts += ops
            .iter()
            .filter(|o| matches!(o.observed, Some(Observed::Error { status: 409, .. })))
            .count() as u64;
        indeterminate += ops.iter().filter(|o| o.observed.is_none()).count() as u64;
        check_ms += took.as_secs_f64() * 1000.0;
        rounds_run += 1;
        (plan.progress)(rounds_run);
        match checked {
            RoundCheck::Linearizable => {
                if example.as_ref().is_none_or(|(r, _)| round < *r) {
                    example = Some((round, ops));
                }
            }
            RoundCheck::Unknown => unknown_rounds += 1,
            RoundCheck::Violation(sub, stuck) => {
                first_failure_ms.get_or_insert(started.elapsed().as_secs_f64() * 1000.0);
                if violation_round.is_none_or(|r| round < r) {
                    violation_round = Some(round);
                    found = Some((sub, stuck));
                }
            }
        }
    }
    // Shrink by re-running with fewer devices or operations while a violation still shows;
    // races are not deterministic, so each smaller setting gets a bounded number of tries.
    if let Some((mut best_ops, mut best_stuck)) = found.take() {
        let (mut devices, mut per_device) = (plan.devices, plan.ops_per_device);
        for attempt in 0..plan.shrink_runs {
            let (d, p) = if devices > 2 && (attempt % 2 == 0 || per_device <= 2) {
                (devices - 1, per_device)
            } else if per_device > 2 {
                (devices, (per_device / 2).max(2))
            } else {
                break;
            };
            let lane_base = 20_000 + attempt as u32 * 64;
            let ops = run_round(plan, 10_000 + attempt, d, p, lane_base).await;
            if let RoundCheck::Violation(sub, stuck) = check_round(&ops, &plan.search_budget)
                && sub.len() <= best_ops.len()
            {
                best_ops = sub;
                best_stuck = stuck;
                devices = d;
                per_device = p;
            }
        }
        found = Some((best_ops, best_stuck));
    }
    let violation = found.map(|(ops, stuck)| RoundHistory::new(ops, stuck));
    let example = example.map(|(_, ops)| RoundHistory::new(ops, Vec::new()));
    let verdict = if violation.is_some() {
        Verdict::Fail
    } else if rounds_run == 0 && plan.rounds > 0 {
        // The deadline came before the first round: nothing was checked, nothing failed.
        Verdict::NonStrict
    } else if operations == 0 {
        Verdict::Error
    } else if unknown_rounds > 0 {
        Verdict::NonStrict
    } else {
        Verdict::Pass
    };
    ConcurrentReport {
        verdict,
        devices: plan.devices,
        rounds: plan.rounds,
        rounds_run,
        unknown_rounds,
        detail: if violation.is_some() {
            None
        } else {
            phase_detail(plan, rounds_run, unknown_rounds)
        },
        operations,
        conflicts,
        indeterminate,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        check_ms,
        violation,
        example,
        first_failure_ms,
    }
}

impl RoundHistory {
    /// A history not rendered yet; `stuck` indexes `ops`.
    pub fn new(ops: Vec<HistoryOp>, stuck: Vec<usize>) -> RoundHistory {
        let mut devices: Vec<u32> = ops.iter().map(|o| o.device).collect();
        devices.sort_unstable();
        devices.dedup();
        RoundHistory {
            devices: devices.len(),
            operations: ops.len(),
            ops,
            stuck,
            timeline: String::new(),
            edn: String::new(),
            history: serde_json::Value::Null,
        }
    }
}
