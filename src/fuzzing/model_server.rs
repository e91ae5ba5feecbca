//! The `model_vs_server` target: short operation sequences applied to the model and to the
//! reference server in process (no socket), every answer judged against the model.
//!
//! The sequence drives the server through the suite's own [`Session`], over the
//! [`InProcess`] transport: the same page walker, token book and judging as `cogsync check`.
//! The server runs on a manual clock that the sequence moves; the model is told that clock's
//! time. An answer outside the model's allowed set (or no usable answer) panics with the
//! sequence so far.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arbitrary::{Arbitrary, Unstructured};

use super::codec::{self, Encoder};
use super::in_process::InProcess;
use crate::model::Call;
use crate::server::{Clock, ServerConfig, Service};
use crate::spec::{
    DatasetPath, DeleteDatasetRequest, DescribeDatasetRequest, DescribeIdentityUsageRequest,
    IdentityPath, ListDatasetsRequest, ListRecordsRequest, RecordPatch,
};
use crate::suite::session::{self, Namer, Session, TokenChoice};
use crate::suite::verdict::Stop;

/// Longest sequence decoded from one input: small sequences keep executions fast.
pub const OPS_MAX: usize = 12;
/// Most patches in one UpdateRecords.
pub const PATCHES_MAX: usize = 4;
/// Server clock at the start of every sequence (epoch ms).
const START_MS: i64 = 1_700_000_000_000;

const POOL: &str = "us-east-1:0a0b0c0d-0000-4000-8000-000000000000";
const IDENTITIES: [&str; 2] = [
    "us-east-1:0a0b0c0d-0000-4000-8000-000000000001",
    "us-east-1:0a0b0c0d-0000-4000-8000-000000000002",
];
const DATASET_NAMES: [&str; 3] = ["settings", "a:b", "x.y-z_1"];

/// Keys: plain, non-ASCII, at and past the length bound, empty (invalid).
fn key(i: u8) -> String {
    match i % 9 {
        0 => "a".to_owned(),
        1 => "b".to_owned(),
        2 => "key with spaces".to_owned(),
        3 => "é".to_owned(),
        4 => "日本".to_owned(),
        5 => "🔑".to_owned(),
        6 => "k".repeat(1024),
        7 => String::new(),
        _ => "k".repeat(1025),
    }
}

fn value(i: u8) -> String {
    match i % 5 {
        0 => String::new(),
        1 => "v".to_owned(),
        2 => "ünïcödé 😀".to_owned(),
        3 => "w".repeat(1000),
        _ => "1".to_owned(),
    }
}

/// A SyncCount as the sequence chooses it: relative to the model's current count, so writes
/// succeed often and conflicts are near misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPick {
    Current,
    Offset(i8),
    Raw(i64),
}

impl CountPick {
    fn read(u: &mut Unstructured<'_>) -> CountPick {
        match codec::pick(u, 4) {
            0 | 1 => CountPick::Current,
            2 => CountPick::Offset(codec::byte(u).cast_signed()),
            _ => CountPick::Raw(codec::i64_le(u)),
        }
    }

    fn write(self, e: &mut Encoder) {
        match self {
            CountPick::Current => e.pick(0),
            CountPick::Offset(o) => {
                e.pick(2);
                e.byte(o.cast_unsigned());
            }
            CountPick::Raw(n) => {
                e.pick(3);
                e.i64_le(n);
            }
        }
    }

    fn resolve(self, current: i64) -> i64 {
        match self {
            CountPick::Current => current,
            CountPick::Offset(o) => current.saturating_add(i64::from(o)),
            CountPick::Raw(n) => n,
        }
    }
}

/// Which SyncSessionToken a call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPick {
    /// The latest token the server issued for this dataset (missing if none yet).
    Latest,
    Missing,
    Garbage,
    /// The latest token of dataset number `n`.
    Of(u8),
}

impl TokenPick {
    fn read(u: &mut Unstructured<'_>) -> TokenPick {
        match codec::pick(u, 6) {
            0..=2 => TokenPick::Latest,
            3 => TokenPick::Missing,
            4 => TokenPick::Garbage,
            _ => TokenPick::Of(codec::byte(u)),
        }
    }

    fn write(self, e: &mut Encoder) {
        match self {
            TokenPick::Latest => e.pick(0),
            TokenPick::Missing => e.pick(3),
            TokenPick::Garbage => e.pick(4),
            TokenPick::Of(n) => {
                e.pick(5);
                e.byte(n);
            }
        }
    }
}

/// One patch: indices into the key and value tables above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioPatch {
    pub remove: bool,
    pub key: u8,
    /// `None` sends no `Value` (invalid for `replace`).
    pub value: Option<u8>,
    pub count: CountPick,
    /// Seconds after the start to send as `DeviceLastModifiedDate`.
    pub date: Option<u8>,
}

/// One step of a sequence; `ds` numbers one of 6 datasets (2 identities × 3 names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    List {
        ds: u8,
        last_sync_count: Option<CountPick>,
        max_results: Option<u8>,
        token: TokenPick,
        garbage_next_token: bool,
    },
    Update {
        ds: u8,
        device: Option<u8>,
        patches: Option<Vec<ScenarioPatch>>,
        token: TokenPick,
    },
    Describe {
        ds: u8,
    },
    Delete {
        ds: u8,
    },
    ListDatasets {
        identity: u8,
        max_results: Option<u8>,
    },
    Usage {
        identity: u8,
    },
    /// Moves the server clock by `secs` × 20 s (so a few steps pass the token lifetime).
    Wait {
        secs: u8,
    },
}

fn read_opt<T>(
    u: &mut Unstructured<'_>,
    read: impl FnOnce(&mut Unstructured<'_>) -> T,
) -> Option<T> {
    codec::flag(u).then(|| read(u))
}

fn write_opt<T>(e: &mut Encoder, v: Option<T>, write: impl FnOnce(T, &mut Encoder)) {
    e.flag(v.is_some());
    if let Some(v) = v {
        write(v, e);
    }
}

impl Op {
    fn read(u: &mut Unstructured<'_>) -> Op {
        match codec::pick(u, 8) {
            0 | 1 => Op::Update {
                ds: codec::byte(u),
                device: read_opt(u, codec::byte),
                patches: read_opt(u, |u| {
                    (0..codec::len(u, PATCHES_MAX))
                        .map(|_| ScenarioPatch {
                            remove: codec::flag(u),
                            key: codec::byte(u),
                            value: read_opt(u, codec::byte),
                            count: CountPick::read(u),
                            date: read_opt(u, codec::byte),
                        })
                        .collect()
                }),
                token: TokenPick::read(u),
            },
            2 => Op::List {
                ds: codec::byte(u),
                last_sync_count: read_opt(u, CountPick::read),
                max_results: read_opt(u, codec::byte),
                token: TokenPick::read(u),
                garbage_next_token: codec::byte(u) == 0xff,
            },
            3 => Op::Describe { ds: codec::byte(u) },
            4 => Op::Delete { ds: codec::byte(u) },
            5 => Op::ListDatasets {
                identity: codec::byte(u),
                max_results: read_opt(u, codec::byte),
            },
            6 => Op::Usage {
                identity: codec::byte(u),
            },
            _ => Op::Wait {
                secs: codec::byte(u),
            },
        }
    }

    fn write(&self, e: &mut Encoder) {
        match self {
            Op::Update {
                ds,
                device,
                patches,
                token,
            } => {
                e.pick(0);
                e.byte(*ds);
                write_opt(e, *device, |d, e| e.byte(d));
                write_opt(e, patches.as_ref(), |patches, e| {
                    e.len(patches.len());
                    for p in patches {
                        e.flag(p.remove);
                        e.byte(p.key);
                        write_opt(e, p.value, |v, e| e.byte(v));
                        p.count.write(e);
                        write_opt(e, p.date, |d, e| e.byte(d));
                    }
                });
                token.write(e);
            }
            Op::List {
                ds,
                last_sync_count,
                max_results,
                token,
                garbage_next_token,
            } => {
                e.pick(2);
                e.byte(*ds);
                write_opt(e, *last_sync_count, CountPick::write);
                write_opt(e, *max_results, |m, e| e.byte(m));
                token.write(e);
                e.byte(if *garbage_next_token { 0xff } else { 0 });
            }
            Op::Describe { ds } => {
                e.pick(3);
                e.byte(*ds);
            }
            Op::Delete { ds } => {
                e.pick(4);
                e.byte(*ds);
            }
            Op::ListDatasets {
                identity,
                max_results,
            } => {
                e.pick(5);
                e.byte(*identity);
                write_opt(e, *max_results, |m, e| e.byte(m));
            }
            Op::Usage { identity } => {
                e.pick(6);
                e.byte(*identity);
            }
            Op::Wait { secs } => {
                e.pick(7);
                e.byte(*secs);
            }
        }
    }
}

/// A whole input of the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < OPS_MAX {
            ops.push(Op::read(u));
        }
        Ok(Scenario { ops })
    }
}

impl Scenario {
    /// The bytes that decode to this scenario (seed generation).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        for op in &self.ops {
            op.write(&mut e);
        }
        e.bytes
    }
}

fn identity(i: u8) -> IdentityPath {
    IdentityPath {
        identity_pool_id: POOL.to_owned(),
        identity_id: IDENTITIES[usize::from(i) % IDENTITIES.len()].to_owned(),
    }
}

fn dataset(ds: u8) -> DatasetPath {
    let ds = usize::from(ds) % (IDENTITIES.len() * DATASET_NAMES.len());
    DatasetPath {
        identity_pool_id: POOL.to_owned(),
        identity_id: IDENTITIES[ds / DATASET_NAMES.len()].to_owned(),
        dataset_name: DATASET_NAMES[ds % DATASET_NAMES.len()].to_owned(),
    }
}

/// The model, the server in process and the sequence so far, driven by the suite's session.
struct Run {
    session: Session<InProcess>,
    clock_ms: Arc<AtomicI64>,
    log: Vec<String>,
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs a future without I/O to completion on this thread's runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap_or_else(|e| panic!("cannot build a runtime: {e}"))
        });
        runtime.block_on(future)
    })
}

impl Run {
    fn new() -> Run {
        let (clock, clock_ms) = Clock::manual(START_MS);
        let config = ServerConfig {
            clock,
            ..ServerConfig::in_memory()
        };
        let service =
            Service::open(&config).unwrap_or_else(|e| panic!("cannot open a service: {e}"));
        let read = Arc::clone(&clock_ms);
        // The model is told the server's own clock.
        let now: session::Now = Arc::new(move || read.load(Ordering::Relaxed) as f64 / 1000.0);
        Run {
            session: Session::new(InProcess::new(service), now, Namer::new(0, 0)),
            clock_ms,
            log: Vec::new(),
        }
    }

    /// The token a pick sends; [`TokenPick::Latest`] sends none before the dataset's first
    /// listing (the target never lists on its own).
    fn choice(&self, path: &DatasetPath, pick: TokenPick) -> TokenChoice {
        match pick {
            TokenPick::Latest if self.session.has_token(path) => TokenChoice::Latest,
            TokenPick::Latest | TokenPick::Missing => TokenChoice::Missing,
            TokenPick::Garbage => TokenChoice::Garbage,
            TokenPick::Of(n) => TokenChoice::From(dataset(n)),
        }
    }

    async fn step(&mut self, op: &Op) -> Result<(), Stop> {
        self.log.push(format!("  {op:?}"));
        match op {
            Op::Wait { secs } => {
                self.clock_ms
                    .fetch_add(i64::from(*secs) * 20_000, Ordering::Relaxed);
            }
            Op::Update {
                ds,
                device,
                patches,
                token,
            } => {
                let path = dataset(*ds);
                let model = self.session.model();
                let patches = patches.as_ref().map(|patches| {
                    patches
                        .iter()
                        .map(|p| {
                            let key = key(p.key);
                            let current = model.record_sync_count(&path, &key);
                            RecordPatch {
                                op: Some(if p.remove { "remove" } else { "replace" }.to_owned()),
                                key: Some(key),
                                value: p.value.map(value),
                                sync_count: Some(p.count.resolve(current)),
                                device_last_modified_date: p
                                    .date
                                    .map(|d| START_MS as f64 / 1000.0 + f64::from(d) + 0.25),
                            }
                        })
                        .collect()
                });
                let device = device.map(|d| format!("device-{}", d % 3));
                let choice = self.choice(&path, *token);
                self.session
                    .update_with(&path, device.as_deref(), patches, choice)
                    .await?;
            }
            Op::List {
                ds,
                last_sync_count,
                max_results,
                token,
                garbage_next_token,
            } => {
                let path = dataset(*ds);
                let current = self.session.model().dataset_sync_count(&path);
                let request = ListRecordsRequest {
                    path: path.clone(),
                    last_sync_count: last_sync_count.map(|c| c.resolve(current)),
                    max_results: max_results.map(|m| i32::from(m) - 2),
                    next_token: garbage_next_token.then(|| "Z2FyYmFnZQ".to_owned()),
                    sync_session_token: None,
                };
                let choice = self.choice(&path, *token);
                self.session.list_with(request, choice).await?;
            }
            Op::Describe { ds } => {
                let request = DescribeDatasetRequest { path: dataset(*ds) };
                self.session.call(Call::DescribeDataset(request)).await?;
            }
            Op::Delete { ds } => {
                let request = DeleteDatasetRequest { path: dataset(*ds) };
                self.session.call(Call::DeleteDataset(request)).await?;
            }
            Op::Usage { identity: i } => {
                let request = DescribeIdentityUsageRequest { path: identity(*i) };
                self.session
                    .call(Call::DescribeIdentityUsage(request))
                    .await?;
            }
            Op::ListDatasets {
                identity: i,
                max_results,
            } => {
                let request = ListDatasetsRequest {
                    path: identity(*i),
                    max_results: max_results.map(|m| i32::from(m) - 2),
                    next_token: None,
                };
                self.session.call(Call::ListDatasets(request)).await?;
            }
        }
        Ok(())
    }

    /// The finding, with the sequence so far and the step that failed.
    fn failure(&self, stop: &Stop) -> String {
        let mut text = format!(
            "the reference server's answer is outside the model's allowed set: {stop}\n\
             sequence so far:\n{}",
            self.log.join("\n")
        );
        if let Some(step) = self.session.steps().last() {
            text.push_str(&format!(
                "\n{}\nexpected: {}\nactual: {}\n{:?}",
                step.operation, step.expected, step.actual, step.verdict
            ));
            if let Some(exchange) = step.exchanges.last() {
                text.push_str(&format!(
                    "\n{} {} -> {:?}\n{}",
                    exchange.method, exchange.url, exchange.status, exchange.response_body
                ));
            }
        }
        text
    }
}

/// The `model_vs_server` target body.
pub fn model_vs_server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(scenario) = Scenario::arbitrary(&mut u) else {
        return;
    };
    run_scenario(&scenario);
}

/// Applies `scenario` to a fresh model and a fresh in-process server; panics on a mismatch.
pub fn run_scenario(scenario: &Scenario) {
    let mut run = Run::new();
    block_on(async {
        for op in &scenario.ops {
            if let Err(stop) = run.step(op).await {
                panic!("{}", run.failure(&stop));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(ds: u8, key: u8, count: CountPick) -> Op {
        Op::Update {
            ds,
            device: Some(1),
            patches: Some(vec![ScenarioPatch {
                remove: false,
                key,
                value: Some(1),
                count,
                date: Some(3),
            }]),
            token: TokenPick::Latest,
        }
    }

    fn list(ds: u8) -> Op {
        Op::List {
            ds,
            last_sync_count: None,
            max_results: Some(3),
            token: TokenPick::Missing,
            garbage_next_token: false,
        }
    }

    #[test]
    fn a_sync_session_agrees_with_the_model() {
        let scenario = Scenario {
            ops: vec![
                list(0),
                write(0, 0, CountPick::Current),
                write(0, 3, CountPick::Current),
                write(0, 0, CountPick::Offset(-1)),
                list(0),
                Op::Wait { secs: 200 },
                write(0, 5, CountPick::Current),
                Op::Delete { ds: 0 },
                Op::Usage { identity: 0 },
                Op::ListDatasets {
                    identity: 0,
                    max_results: None,
                },
            ],
        };
        let bytes = scenario.encode();
        let decoded = Scenario::arbitrary(&mut Unstructured::new(&bytes)).expect("decodes");
        assert_eq!(decoded, scenario);
        run_scenario(&scenario);
    }
}
