//! The `model_vs_server` target: short operation sequences applied to the model and to the
//! reference server in process (no socket), every answer judged against the model.
//!
//! The sequence drives the server through the suite's own [`Session`], over the
//! [`InProcess`] transport: the same page walker, token book and judging as `cogsync check`.
//! The server runs on a manual clock that the sequence moves; the model is told that clock's
//! time. An answer outside the model's allowed set (or no usable answer) panics with the
//! sequence so far.
//!
//! Speed: opening a SQLite-backed service costs more than running a whole short sequence, so a
//! thread keeps one service (and one runtime) for all its inputs. Inputs stay independent
//! because each one gets identities no earlier input used (its number is folded into the
//! identity IDs), a fresh model and session, and the server clock set back to the same start.
//!
//! Memory: after each input its identities are removed from the store
//! ([`Service::forget_identity`]; a DeleteDataset would keep the dataset rows), so the store
//! holds at most one input's data and SQLite reuses the freed pages. A process running
//! millions of inputs does not grow, and an input rarely allocates memory it does not free,
//! which would make libFuzzer run it again with a leak check.

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
/// Identities of one sequence.
const IDENTITIES: usize = 2;
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

/// Identity number `i` of input number `input`: no two inputs of a thread share one, so an
/// input's answers do not depend on what ran before it. The number is always 12 decimal
/// digits: every input formats and validates the same characters' classes the same number of
/// times, so the counter adds no coverage noise that would look new to the fuzzer.
fn identity_id(input: u64, i: usize) -> String {
    const FIRST: u64 = 100_000_000_000;
    format!(
        "us-east-1:0a0b0c0d-{i:04}-4000-8000-{}",
        FIRST + input % (9 * FIRST)
    )
}

/// The reference server a thread's inputs share, and the handle of its clock.
struct Server {
    service: Arc<Service>,
    clock_ms: Arc<AtomicI64>,
}

/// One write to `ds` of `key` at the model's current count, with the latest token.
fn warm_up_write(ds: u8, key: u8, remove: bool) -> Op {
    Op::Update {
        ds,
        device: Some(0),
        patches: Some(vec![ScenarioPatch {
            remove,
            key,
            value: Some(1),
            count: CountPick::Current,
            date: Some(0),
        }]),
        token: TokenPick::Latest,
    }
}

/// A sequence that runs every statement of the store once (reads, writes, a conflict, a
/// delete and a re-creation), so that a fresh service has all of them prepared and cached.
fn warm_up_ops() -> Vec<Op> {
    let list = |ds, last_sync_count| Op::List {
        ds,
        last_sync_count,
        max_results: Some(3),
        token: TokenPick::Latest,
        garbage_next_token: false,
    };
    vec![
        list(0, None),
        warm_up_write(0, 0, false),
        warm_up_write(0, 1, true),
        Op::Update {
            ds: 0,
            device: None,
            patches: Some(vec![ScenarioPatch {
                remove: false,
                key: 0,
                value: Some(2),
                count: CountPick::Offset(-1),
                date: None,
            }]),
            token: TokenPick::Latest,
        },
        list(0, Some(CountPick::Offset(-1))),
        Op::Describe { ds: 0 },
        Op::Describe { ds: 1 },
        Op::ListDatasets {
            identity: 0,
            max_results: Some(3),
        },
        Op::Usage { identity: 0 },
        Op::Usage { identity: 1 },
        Op::Delete { ds: 0 },
        Op::Delete { ds: 0 },
        list(0, Some(CountPick::Current)),
        warm_up_write(0, 0, false),
    ]
}

impl Server {
    /// A fresh service, warmed up on identities of input number 0 (inputs count from 1).
    ///
    /// Why warm up: the store prepares each statement on its first use. Without the warm-up,
    /// whether an input took that path would depend on the inputs before it, and the fuzzer
    /// would take the difference for new coverage of the input.
    fn open(runtime: &tokio::runtime::Runtime) -> Server {
        let (clock, clock_ms) = Clock::manual(START_MS);
        let config = ServerConfig {
            clock,
            ..ServerConfig::in_memory()
        };
        let service =
            Service::open(&config).unwrap_or_else(|e| panic!("cannot open a service: {e}"));
        let server = Server {
            service: Arc::new(service),
            clock_ms,
        };
        let mut run = Run::new(&server, 0);
        let ops = warm_up_ops();
        runtime.block_on(async {
            for (i, op) in ops.iter().enumerate() {
                if let Err(stop) = run.step(op).await {
                    panic!(
                        "warm-up of a fresh service: {}",
                        run.failure(&stop, &ops[..=i])
                    );
                }
            }
        });
        run.forget();
        server
    }
}

/// What a thread keeps between inputs, because building it costs more than running one.
struct Shared {
    runtime: tokio::runtime::Runtime,
    server: Server,
    /// Inputs started on this thread; numbers each input's identities.
    inputs: u64,
}

impl Shared {
    fn new() -> Shared {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("cannot build a runtime: {e}"));
        let server = Server::open(&runtime);
        Shared {
            runtime,
            server,
            inputs: 0,
        }
    }

    /// A run for the next input: fresh identities and model, the clock back at the start.
    fn next_run(&mut self) -> Run {
        self.inputs += 1;
        // Waits of earlier inputs moved the clock; every input starts at the same time.
        self.server.clock_ms.store(START_MS, Ordering::Relaxed);
        Run::new(&self.server, self.inputs)
    }
}

thread_local! {
    /// Per thread, not per process: `cargo test` runs scenarios on parallel threads, and each
    /// needs a clock that only its own `Wait`s move. libFuzzer runs inputs on one thread.
    static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// The model, the server in process and the sequence so far, driven by the suite's session.
struct Run {
    session: Session<InProcess>,
    /// The service the session talks to, to forget this run's identities at its end.
    service: Arc<Service>,
    clock_ms: Arc<AtomicI64>,
    /// This input's identity IDs.
    identities: [String; IDENTITIES],
}

impl Run {
    fn new(server: &Server, input: u64) -> Run {
        let read = Arc::clone(&server.clock_ms);
        // The model is told the server's own clock.
        let now: session::Now = Arc::new(move || read.load(Ordering::Relaxed) as f64 / 1000.0);
        let transport = InProcess::shared(Arc::clone(&server.service));
        Run {
            session: Session::new(transport, now, Namer::new(0, 0)),
            service: Arc::clone(&server.service),
            clock_ms: Arc::clone(&server.clock_ms),
            identities: [identity_id(input, 0), identity_id(input, 1)],
        }
    }

    /// Removes this run's identities from the shared store, so that it does not grow.
    fn forget(&self) {
        for identity in &self.identities {
            if let Err(e) = self.service.forget_identity(POOL, identity) {
                panic!("cannot remove identity {identity} from the store: {e}");
            }
        }
    }

    fn identity(&self, i: u8) -> IdentityPath {
        IdentityPath {
            identity_pool_id: POOL.to_owned(),
            identity_id: self.identities[usize::from(i) % IDENTITIES].clone(),
        }
    }

    /// Dataset number `ds`: 2 identities × 3 names.
    fn dataset(&self, ds: u8) -> DatasetPath {
        let ds = usize::from(ds) % (IDENTITIES * DATASET_NAMES.len());
        DatasetPath {
            identity_pool_id: POOL.to_owned(),
            identity_id: self.identities[ds / DATASET_NAMES.len()].clone(),
            dataset_name: DATASET_NAMES[ds % DATASET_NAMES.len()].to_owned(),
        }
    }

    /// The token a pick sends; [`TokenPick::Latest`] sends none before the dataset's first
    /// listing (the target never lists on its own).
    fn choice(&self, path: &DatasetPath, pick: TokenPick) -> TokenChoice {
        match pick {
            TokenPick::Latest if self.session.has_token(path) => TokenChoice::Latest,
            TokenPick::Latest | TokenPick::Missing => TokenChoice::Missing,
            TokenPick::Garbage => TokenChoice::Garbage,
            TokenPick::Of(n) => TokenChoice::From(self.dataset(n)),
        }
    }

    async fn step(&mut self, op: &Op) -> Result<(), Stop> {
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
                let path = self.dataset(*ds);
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
                let path = self.dataset(*ds);
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
                let request = DescribeDatasetRequest {
                    path: self.dataset(*ds),
                };
                self.session.call(Call::DescribeDataset(request)).await?;
            }
            Op::Delete { ds } => {
                let request = DeleteDatasetRequest {
                    path: self.dataset(*ds),
                };
                self.session.call(Call::DeleteDataset(request)).await?;
            }
            Op::Usage { identity: i } => {
                let request = DescribeIdentityUsageRequest {
                    path: self.identity(*i),
                };
                self.session
                    .call(Call::DescribeIdentityUsage(request))
                    .await?;
            }
            Op::ListDatasets {
                identity: i,
                max_results,
            } => {
                let request = ListDatasetsRequest {
                    path: self.identity(*i),
                    max_results: max_results.map(|m| i32::from(m) - 2),
                    next_token: None,
                };
                self.session.call(Call::ListDatasets(request)).await?;
            }
        }
        Ok(())
    }

    /// The finding, with the sequence so far (`ops`, ending with the step that failed) and
    /// that step's exchange. The sequence is formatted only here: formatting every step as it
    /// ran cost time on every input.
    fn failure(&self, stop: &Stop, ops: &[Op]) -> String {
        let log: Vec<String> = ops.iter().map(|op| format!("  {op:?}")).collect();
        let mut text = format!(
            "the reference server's answer is outside the model's allowed set: {stop}\n\
             sequence so far:\n{}",
            log.join("\n")
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

/// Applies `scenario` to a fresh model and to identities of the thread's in-process server
/// that nothing used before; panics on a mismatch.
pub fn run_scenario(scenario: &Scenario) {
    SHARED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let shared = slot.get_or_insert_with(Shared::new);
        let mut run = shared.next_run();
        shared.runtime.block_on(async {
            for (i, op) in scenario.ops.iter().enumerate() {
                if let Err(stop) = run.step(op).await {
                    panic!("{}", run.failure(&stop, &scenario.ops[..=i]));
                }
            }
        });
        run.forget();
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

    #[test]
    fn inputs_sharing_a_service_do_not_see_each_other() {
        // Writes left behind, and a long wait: a later input that saw either would list
        // records, find datasets or usage the model (starting empty) does not allow.
        let writes = Scenario {
            ops: vec![
                list(0),
                write(0, 0, CountPick::Current),
                list(4),
                write(4, 1, CountPick::Current),
                Op::Wait { secs: 255 },
            ],
        };
        let reads = Scenario {
            ops: vec![
                list(0),
                Op::Describe { ds: 4 },
                Op::Usage { identity: 1 },
                Op::ListDatasets {
                    identity: 0,
                    max_results: None,
                },
            ],
        };
        for _ in 0..3 {
            run_scenario(&writes);
            run_scenario(&reads);
        }
        run_scenario(&writes);
        SHARED.with(|cell| {
            let mut slot = cell.borrow_mut();
            let shared = slot.as_mut().expect("the runs above set it up");
            let run = shared.next_run();
            assert_eq!(run.clock_ms.load(Ordering::Relaxed), START_MS);
            // The identities of the last `writes` again: the store must have forgotten them.
            let mut again = Run::new(&shared.server, shared.inputs - 1);
            shared.runtime.block_on(async {
                for (i, op) in reads.ops.iter().enumerate() {
                    if let Err(stop) = again.step(op).await {
                        panic!("{}", again.failure(&stop, &reads.ops[..=i]));
                    }
                }
            });
        });
    }

    #[test]
    fn per_input_identities_are_valid_and_distinct() {
        let ids = [identity_id(1, 0), identity_id(1, 1), identity_id(2, 0)];
        for id in &ids {
            assert_eq!(
                super::super::validate::independent_identity(id),
                None,
                "{id}"
            );
        }
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(identity_id(u64::MAX, 1).len(), ids[0].len());
    }
}
