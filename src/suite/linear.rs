//! A linearizability checker for concurrent histories of the dataset API, against the model.
//!
//! Wing–Gong search with Lowe's memoisation: an order of the operations is searched in which
//! every operation takes effect at one instant between its invocation and its completion, and
//! every answer is one the model allows in that order. Visited (positions, model state) pairs
//! are remembered, so equal states reached by different orders are explored once. Datasets are
//! independent, so a history is split by dataset and each part checked on its own.
//!
//! Each lane (a device, or a device's continuation after an indeterminate operation) runs its
//! operations one after another, so the operations already ordered are, per lane, a prefix:
//! the search state is one position per lane plus the model. An indeterminate operation (a
//! timeout, a reset, a 5xx) may take effect with any allowed outcome at any time after its
//! invocation, or never; it is always the last of its lane.
//!
//! Reductions that keep every verdict: reads and refusals change nothing in the model (UR-3,
//! ERR-3), so one that may come next and is allowed in the current state is ordered at once,
//! without trying the alternatives — any order that puts it later can put it here instead;
//! without that, every interleaving of concurrent reads is a configuration of its own, and a
//! round of many devices has exponentially many. An unanswered read, and an unanswered
//! operation's outcomes that change nothing, are the same as never taking effect. Model states
//! are stored once and named by number, and what each operation does in each state is worked
//! out once.
//!
//! The search is bounded by a [`SearchBudget`]; past it the answer is
//! [`Linearizability::Unknown`], never a guess.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::{Call, Judgement, Model, Observed};
use crate::spec::{DatasetPath, Timestamp};

/// One operation of a concurrent history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryOp {
    /// Sequential thread of control: operations of one lane never overlap.
    pub lane: u32,
    /// The device that issued it, for reports.
    pub device: u32,
    pub call: Call,
    /// `None`: indeterminate (no answer, or a 5xx) — it may or may not have taken effect.
    pub observed: Option<Observed>,
    /// Nanoseconds since the history's start.
    pub invoke_ns: u64,
    /// `None` for an indeterminate operation.
    pub complete_ns: Option<u64>,
    /// Wall time of the invocation, for the model's token-age reasoning.
    pub now: Timestamp,
}

/// The dataset an operation touches; the checker splits histories by it.
pub fn touched_dataset(call: &Call) -> Option<&DatasetPath> {
    match call {
        Call::UpdateRecords { request, .. } => Some(&request.path),
        Call::ListRecords { request, .. } => Some(&request.path),
        Call::DescribeDataset(r) => Some(&r.path),
        Call::DeleteDataset(r) => Some(&r.path),
        Call::ListDatasets(_) | Call::DescribeIdentityUsage(_) => None,
    }
}

/// How much one check may spend before it answers [`Linearizability::Unknown`]: deciding
/// linearizability is NP-complete, and a history with many indeterminate operations can need
/// more search than any machine has. The two counts bound one part's memory (with a cache of
/// at most 2^20 transitions, a few tens of MB); parts checked at once (one per core) each have
/// their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchBudget {
    /// Configurations (lane positions and a model state) the memo table may hold: about 60
    /// bytes each, plus one byte a lane or one bit an operation, whichever is less.
    pub configurations_max: usize,
    /// Distinct model states the search may hold, each stored once: a few KB each for a
    /// dataset of a few records.
    pub states_max: usize,
    /// Wall time for one history, all its parts together; `None`: no time limit.
    pub time_max: Option<Duration>,
}

impl Default for SearchBudget {
    /// A clean round of 40 devices needs a few thousand configurations and a few hundred
    /// states; at worst these take a few hundred MB.
    fn default() -> SearchBudget {
        SearchBudget {
            configurations_max: 1_000_000,
            states_max: 50_000,
            time_max: Some(Duration::from_secs(10)),
        }
    }
}

/// The part of the [`SearchBudget`] that ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchLimit {
    Configurations,
    States,
    Time,
}

/// The checker's answer for one part of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Linearizability {
    /// An order that explains every answer (indices into the part's operations).
    Linearizable { order: Vec<usize> },
    /// No order exists. `prefix` is the longest order found that explains every answer so
    /// far; `stuck` are the operations none of which could come next.
    Violation {
        prefix: Vec<usize>,
        stuck: Vec<usize>,
    },
    /// The search budget ran out before an order was found or ruled out: neither a pass nor
    /// a failure. `explored` is the number of configurations remembered.
    Unknown { explored: usize, limit: SearchLimit },
}

impl Linearizability {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Linearizability::Linearizable { .. })
    }

    /// The same verdict with every operation index `i` replaced by `to[i]`.
    fn renumbered(self, to: &[usize]) -> Linearizability {
        let map = |v: Vec<usize>| v.into_iter().map(|i| to[i]).collect();
        match self {
            Linearizability::Linearizable { order } => {
                Linearizability::Linearizable { order: map(order) }
            }
            Linearizability::Violation { prefix, stuck } => Linearizability::Violation {
                prefix: map(prefix),
                stuck: map(stuck),
            },
            unknown @ Linearizability::Unknown { .. } => unknown,
        }
    }
}

/// Whether a call only reads: every outcome the model allows for it changes nothing.
fn reads(call: &Call) -> bool {
    match call {
        Call::ListRecords { .. }
        | Call::DescribeDataset(_)
        | Call::ListDatasets(_)
        | Call::DescribeIdentityUsage(_) => true,
        Call::UpdateRecords { .. } | Call::DeleteDataset(_) => false,
    }
}

/// Whether an operation changes nothing in any state where its answer is allowed: the model's
/// reads, and every refusal (UR-3, ERR-3).
fn inert(op: &HistoryOp) -> bool {
    match &op.observed {
        None => false,
        Some(Observed::Error { .. }) => true,
        Some(_) => reads(&op.call),
    }
}

/// Checks `ops` (all on one dataset, or independent of dataset boundaries) from `initial`,
/// within `budget`.
pub fn check(initial: &Model, ops: &[HistoryOp], budget: &SearchBudget) -> Linearizability {
    let deadline = budget.time_max.map(|t| Instant::now() + t);
    Search::new(initial, ops).run(budget, deadline)
}

/// What an operation does in one state, worked out once per search.
enum Transition {
    /// Its answer is not one the model allows here.
    Refused,
    /// Allowed; the state after it (the same one when it changes nothing).
    To(u32),
    /// Indeterminate: the distinct states its allowed outcomes lead to.
    Any(Box<[u32]>),
}

/// Transitions remembered before the cache starts over: it saves model evaluations, and
/// unlike the memo table it may forget.
const TRANSITIONS_MAX: usize = 1 << 20;

/// How a configuration's lane positions are stored in the memo table: one position per lane in
/// the fewest bytes that hold the longest lane, or one bit per operation (set once ordered),
/// whichever is shorter.
#[derive(Clone, Copy)]
enum Layout {
    Positions { width: usize },
    Ordered,
}

impl Layout {
    fn for_lanes(lanes: &[Vec<usize>], operations: usize) -> (Layout, usize) {
        let longest = lanes.iter().map(Vec::len).max().unwrap_or(0);
        let width = match longest {
            0..=0xff => 1,
            0x100..=0xffff => 2,
            _ => 4,
        };
        let positions = lanes.len() * width;
        let ordered = operations.div_ceil(8);
        if positions <= ordered {
            (Layout::Positions { width }, positions)
        } else {
            (Layout::Ordered, ordered)
        }
    }

    /// Records that `op`, of lane `lane`, was ordered and the lane is now at `position`.
    fn advance(self, key: &mut [u8], lane: usize, position: u32, op: usize) {
        match self {
            Layout::Positions { width } => {
                let bytes = position.to_le_bytes();
                key[lane * width..(lane + 1) * width].copy_from_slice(&bytes[..width]);
            }
            Layout::Ordered => key[op / 8] |= 1 << (op % 8),
        }
    }
}

/// The model states a search has reached, each stored once and named by its index.
#[derive(Default)]
struct States {
    all: Vec<Rc<Model>>,
    ids: HashMap<Rc<Model>, u32>,
}

impl States {
    fn intern(&mut self, model: Model) -> u32 {
        if let Some(&id) = self.ids.get(&model) {
            return id;
        }
        let id = self.all.len() as u32;
        let model = Rc::new(model);
        self.all.push(model.clone());
        self.ids.insert(model, id);
        id
    }
}

struct Node {
    positions: Vec<u32>,
    /// The positions as the memo table stores them (see [`Layout`]).
    key: Box<[u8]>,
    /// The operations that may come next, each with the state after it.
    moves: Vec<(usize, u32)>,
    next: usize,
}

/// One search over one part of a history.
struct Search<'a> {
    ops: &'a [HistoryOp],
    /// Each lane's operations in invocation order.
    lanes: Vec<Vec<usize>>,
    lane_of: Vec<usize>,
    inert: Vec<bool>,
    last_of_lane: Vec<bool>,
    layout: Layout,
    key_len: usize,
    states: States,
    transitions: HashMap<(u32, u32), Transition>,
}

impl<'a> Search<'a> {
    fn new(initial: &Model, ops: &'a [HistoryOp]) -> Search<'a> {
        // A read without an answer constrains nothing: it changes no state whenever it takes
        // effect, and without a completion time it bounds no other operation.
        let relevant = |op: &HistoryOp| op.observed.is_some() || !reads(&op.call);
        let mut lane_ids: Vec<u32> = ops.iter().filter(|o| relevant(o)).map(|o| o.lane).collect();
        lane_ids.sort_unstable();
        lane_ids.dedup();
        let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); lane_ids.len()];
        let mut lane_of = vec![usize::MAX; ops.len()];
        for (i, op) in ops.iter().enumerate() {
            if let Ok(l) = lane_ids.binary_search(&op.lane)
                && relevant(op)
            {
                lanes[l].push(i);
                lane_of[i] = l;
            }
        }
        let mut last_of_lane = vec![false; ops.len()];
        for lane in &mut lanes {
            lane.sort_by_key(|&i| ops[i].invoke_ns);
            if let Some(&last) = lane.last() {
                last_of_lane[last] = true;
            }
        }
        let (layout, key_len) = Layout::for_lanes(&lanes, ops.len());
        let mut states = States::default();
        states.intern(initial.clone());
        Search {
            ops,
            lanes,
            lane_of,
            inert: ops.iter().map(inert).collect(),
            last_of_lane,
            layout,
            key_len,
            states,
            transitions: HashMap::new(),
        }
    }

    fn finished(&self, positions: &[u32]) -> bool {
        self.lanes.iter().zip(positions).all(|(lane, &p)| {
            let p = p as usize;
            p == lane.len() || (p + 1 == lane.len() && self.ops[lane[p]].complete_ns.is_none())
        })
    }

    /// Operations that may come next: invoked before every unordered operation completed.
    fn ready(&self, positions: &[u32]) -> Vec<usize> {
        let heads: Vec<usize> = self
            .lanes
            .iter()
            .zip(positions)
            .filter_map(|(lane, &p)| lane.get(p as usize).copied())
            .collect();
        let horizon = heads
            .iter()
            .filter_map(|&i| self.ops[i].complete_ns)
            .min()
            .unwrap_or(u64::MAX);
        heads
            .into_iter()
            .filter(|&i| self.ops[i].invoke_ns <= horizon)
            .collect()
    }

    fn transition(&mut self, op: usize, state: u32) -> &Transition {
        if self.transitions.len() >= TRANSITIONS_MAX {
            self.transitions.clear();
        }
        if !self.transitions.contains_key(&(op as u32, state)) {
            let model = self.states.all[state as usize].clone();
            let ops = self.ops;
            let o = &ops[op];
            let expectation = model.expect(&o.call, o.now);
            let mut after = |k: usize| {
                if expectation.outcomes[k].changes_nothing() {
                    return state;
                }
                let mut next = Model::clone(&model);
                next.advance(&expectation, k);
                self.states.intern(next)
            };
            let transition = match &o.observed {
                Some(observed) => match expectation.judge(observed) {
                    (Judgement::Mismatch(_), _) => Transition::Refused,
                    (_, matched) => {
                        match matched.or((!expectation.outcomes.is_empty()).then_some(0)) {
                            Some(k) => Transition::To(after(k)),
                            None => Transition::To(state),
                        }
                    }
                },
                None => {
                    let mut next: Vec<u32> = (0..expectation.outcomes.len()).map(after).collect();
                    next.sort_unstable();
                    next.dedup();
                    Transition::Any(next.into_boxed_slice())
                }
            };
            self.transitions.insert((op as u32, state), transition);
        }
        &self.transitions[&(op as u32, state)]
    }

    /// The moves from a configuration, each an operation and the state after it.
    fn moves(&mut self, positions: &[u32], state: u32) -> Vec<(usize, u32)> {
        let ready = self.ready(positions);
        // An inert operation allowed here is the only move worth trying (see the module doc).
        for &i in &ready {
            if self.inert[i]
                && let Transition::To(next) = *self.transition(i, state)
                && next == state
            {
                return vec![(i, state)];
            }
        }
        let mut out = Vec::new();
        let mut unanswered = Vec::new();
        for &i in &ready {
            // At the end of its lane, an outcome that changes nothing is the same as never
            // taking effect, which needs no move.
            let skip_same = self.last_of_lane[i];
            match self.transition(i, state) {
                Transition::Refused => {}
                Transition::To(next) => out.push((i, *next)),
                Transition::Any(next) => {
                    unanswered.extend(
                        next.iter()
                            .filter(|&&n| !(skip_same && n == state))
                            .map(|&n| (i, n)),
                    );
                }
            }
        }
        // Indeterminate operations last: they may also never take effect.
        out.extend(unanswered);
        out
    }

    fn run(mut self, budget: &SearchBudget, deadline: Option<Instant>) -> Linearizability {
        let unknown =
            |explored: usize, limit: SearchLimit| Linearizability::Unknown { explored, limit };
        let root_positions = vec![0u32; self.lanes.len()];
        let root_moves = self.moves(&root_positions, 0);
        // A configuration: the positions in the memo's layout, then the state's index.
        let mut visited: HashSet<Box<[u8]>> = HashSet::new();
        let mut order: Vec<usize> = Vec::new();
        let mut best: (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        let mut stack = vec![Node {
            positions: root_positions,
            key: vec![0u8; self.key_len].into_boxed_slice(),
            moves: root_moves,
            next: 0,
        }];
        let mut steps = 0u64;
        while let Some(top) = stack.last_mut() {
            if self.finished(&top.positions) {
                return Linearizability::Linearizable { order };
            }
            steps += 1;
            if steps.is_multiple_of(16) && deadline.is_some_and(|d| Instant::now() >= d) {
                return unknown(visited.len(), SearchLimit::Time);
            }
            if top.next >= top.moves.len() {
                if order.len() >= best.0.len() {
                    best = (order.clone(), self.ready(&top.positions));
                }
                stack.pop();
                order.pop();
                continue;
            }
            let (op, state) = top.moves[top.next];
            top.next += 1;
            let lane = self.lane_of[op];
            let mut positions = top.positions.clone();
            positions[lane] += 1;
            let mut key = top.key.clone();
            self.layout.advance(&mut key, lane, positions[lane], op);
            let mut configuration = Vec::with_capacity(key.len() + 4);
            configuration.extend_from_slice(&key);
            configuration.extend_from_slice(&state.to_le_bytes());
            if !visited.insert(configuration.into_boxed_slice()) {
                continue;
            }
            if visited.len() > budget.configurations_max {
                return unknown(visited.len(), SearchLimit::Configurations);
            }
            let moves = self.moves(&positions, state);
            if self.states.all.len() > budget.states_max {
                return unknown(visited.len(), SearchLimit::States);
            }
            order.push(op);
            stack.push(Node {
                positions,
                key,
                moves,
                next: 0,
            });
        }
        let (prefix, mut stuck) = best;
        if stuck.is_empty() {
            // Nothing could even start: every head was blocked or refused.
            stuck = self
                .lanes
                .iter()
                .filter_map(|l| l.first().copied())
                .collect();
        }
        Linearizability::Violation { prefix, stuck }
    }
}

/// One dataset's part of a history and its verdict.
#[derive(Debug, Clone)]
pub struct PartResult {
    pub dataset: Option<DatasetPath>,
    /// Indices into the whole history.
    pub ops: Vec<usize>,
    pub verdict: Linearizability,
}

/// Splits `ops` by dataset and checks each part from an empty endpoint, the parts spread over
/// the machine's cores; each part has the budget's configurations and states, and all share
/// its time.
pub fn check_history(ops: &[HistoryOp], budget: &SearchBudget) -> Vec<PartResult> {
    let deadline = budget.time_max.map(|t| Instant::now() + t);
    let mut parts: BTreeMap<Option<DatasetPath>, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        parts
            .entry(touched_dataset(&op.call).cloned())
            .or_default()
            .push(i);
    }
    let parts: Vec<(Option<DatasetPath>, Vec<usize>)> = parts.into_iter().collect();
    let check_part = |(dataset, indices): &(Option<DatasetPath>, Vec<usize>)| {
        let part: Vec<HistoryOp> = indices.iter().map(|&i| ops[i].clone()).collect();
        let verdict = Search::new(&Model::new(), &part)
            .run(budget, deadline)
            .renumbered(indices);
        PartResult {
            dataset: dataset.clone(),
            ops: indices.clone(),
            verdict,
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(parts.len().max(1));
    if threads <= 1 {
        return parts.iter().map(check_part).collect();
    }
    let chunk = parts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .chunks(chunk)
            .map(|slice| scope.spawn(move || slice.iter().map(check_part).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::TokenClaim;
    use crate::spec::ErrorKind;
    use crate::spec::{
        ListRecordsRequest, ListRecordsResponse, Record, RecordPatch, UpdateRecordsBody,
        UpdateRecordsRequest, UpdateRecordsResponse,
    };

    /// A budget of `configurations_max` and no clock: verdicts do not depend on speed.
    fn configurations(configurations_max: usize) -> SearchBudget {
        SearchBudget {
            configurations_max,
            states_max: usize::MAX,
            time_max: None,
        }
    }

    /// Large enough for every history here.
    const UNTIMED: SearchBudget = SearchBudget {
        configurations_max: 1_000_000,
        states_max: 1_000_000,
        time_max: None,
    };

    fn checked(ops: &[HistoryOp]) -> Linearizability {
        check(&Model::new(), ops, &UNTIMED)
    }

    fn is_violation(verdict: &Linearizability) -> bool {
        matches!(verdict, Linearizability::Violation { .. })
    }

    fn path() -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:00000000-0000-4000-8000-000000000001".into(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000002".into(),
            dataset_name: "shared".into(),
        }
    }

    pub(crate) fn write(
        lane: u32,
        key: &str,
        value: &str,
        count: i64,
        answer: Option<Result<i64, ()>>,
        t: (u64, Option<u64>),
    ) -> HistoryOp {
        let request = UpdateRecordsRequest {
            path: path(),
            client_context: None,
            body: UpdateRecordsBody {
                device_id: Some("d".into()),
                record_patches: Some(vec![RecordPatch {
                    op: Some("replace".into()),
                    key: Some(key.into()),
                    value: Some(value.into()),
                    sync_count: Some(count),
                    device_last_modified_date: Some(1.0),
                }]),
                sync_session_token: Some("t".into()),
            },
        };
        let observed = answer.map(|a| match a {
            Ok(new_count) => Observed::UpdateRecords(UpdateRecordsResponse {
                records: Some(vec![Record {
                    key: Some(key.into()),
                    value: Some(value.into()),
                    sync_count: Some(new_count),
                    last_modified_date: Some(1.0),
                    last_modified_by: Some("d".into()),
                    device_last_modified_date: Some(1.0),
                }]),
            }),
            Err(()) => Observed::Error {
                status: 409,
                kind: Some(ErrorKind::ResourceConflict),
                message: Some(format!(
                    "Current SyncCount for: {key} is: {} not: {count}",
                    count + 1
                )),
            },
        });
        HistoryOp {
            lane,
            device: lane,
            call: Call::UpdateRecords {
                request,
                token: TokenClaim::IssuedFor {
                    path: path(),
                    issued_at: 0.0,
                    used_before: true,
                },
            },
            observed,
            invoke_ns: t.0,
            complete_ns: t.1,
            now: 0.0,
        }
    }

    fn read(lane: u32, records: Vec<(&str, &str, i64)>, count: i64, t: (u64, u64)) -> HistoryOp {
        let response = ListRecordsResponse {
            records: Some(
                records
                    .iter()
                    .map(|(k, v, c)| Record {
                        key: Some((*k).into()),
                        value: Some((*v).into()),
                        sync_count: Some(*c),
                        last_modified_date: Some(1.0),
                        last_modified_by: Some("d".into()),
                        device_last_modified_date: Some(1.0),
                    })
                    .collect(),
            ),
            next_token: None,
            count: Some(records.len() as i32),
            dataset_sync_count: Some(count),
            last_modified_by: Some("d".into()),
            merged_dataset_names: Some(vec![]),
            dataset_exists: Some(count > 0),
            dataset_deleted_after_requested_sync_count: Some(false),
            sync_session_token: Some("t".into()),
        };
        HistoryOp {
            lane,
            device: lane,
            call: Call::ListRecords {
                request: ListRecordsRequest {
                    path: path(),
                    ..ListRecordsRequest::default()
                },
                token: TokenClaim::Missing,
            },
            observed: Some(Observed::ListRecords(vec![response])),
            invoke_ns: t.0,
            complete_ns: Some(t.1),
            now: 0.0,
        }
    }

    #[test]
    fn two_racing_writers_with_one_winner_are_linearizable() {
        let ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            write(1, "k", "b", 0, Some(Err(())), (1, Some(9))),
        ];
        assert!(checked(&ops).is_linearizable());
    }

    #[test]
    fn two_winners_with_the_same_sync_count_are_a_lost_update() {
        let ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            write(1, "k", "b", 0, Some(Ok(2)), (1, Some(9))),
        ];
        let verdict = checked(&ops);
        let Linearizability::Violation { stuck, .. } = verdict else {
            panic!("a lost update is not linearizable");
        };
        assert!(!stuck.is_empty());
    }

    #[test]
    fn a_read_must_see_a_write_that_completed_before_it_started() {
        let ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            read(1, vec![], 0, (20, 30)),
        ];
        assert!(
            is_violation(&checked(&ops)),
            "a stale read after a completed write"
        );
        let overlapping = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            read(1, vec![], 0, (5, 30)),
        ];
        assert!(
            checked(&overlapping).is_linearizable(),
            "an overlapping read may precede the write"
        );
    }

    #[test]
    fn an_indeterminate_write_may_or_may_not_have_taken_effect() {
        // The write timed out; a later read sees it: linearizable (it took effect).
        let took_effect = vec![
            write(0, "k", "a", 0, None, (0, None)),
            read(1, vec![("k", "a", 1)], 1, (20, 30)),
        ];
        assert!(checked(&took_effect).is_linearizable());
        // A later read does not see it: also linearizable (it never took effect).
        let never = vec![
            write(0, "k", "a", 0, None, (0, None)),
            read(1, vec![], 0, (20, 30)),
        ];
        assert!(checked(&never).is_linearizable());
        // But a read cannot see a value nobody wrote.
        let phantom = vec![
            write(0, "k", "a", 0, None, (0, None)),
            read(1, vec![("k", "zzz", 1)], 1, (20, 30)),
        ];
        assert!(is_violation(&checked(&phantom)));
    }

    #[test]
    fn sequential_histories_check_in_order() {
        let mut ops = Vec::new();
        for i in 0..200u64 {
            let t = i * 10;
            ops.push(write(
                (i % 3) as u32,
                "k",
                &format!("v{i}"),
                i as i64,
                Some(Ok(i as i64 + 1)),
                (t, Some(t + 5)),
            ));
        }
        let verdict = checked(&ops);
        let Linearizability::Linearizable { order } = verdict else {
            panic!("a sequential history is linearizable");
        };
        assert_eq!(order, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn histories_split_by_dataset() {
        let mut other = write(1, "k", "b", 0, Some(Ok(1)), (1, Some(9)));
        if let Call::UpdateRecords { request, token } = &mut other.call {
            request.path.dataset_name = "other".into();
            *token = TokenClaim::IssuedFor {
                path: request.path.clone(),
                issued_at: 0.0,
                used_before: true,
            };
        }
        let ops = vec![write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))), other];
        let parts = check_history(&ops, &UNTIMED);
        assert_eq!(parts.len(), 2);
        assert!(
            parts.iter().all(|p| p.verdict.is_linearizable()),
            "each dataset has its own counter"
        );
    }

    /// One write, one conflict and `n` reads on lanes 2.., all overlapping: half the reads saw
    /// the dataset before the write, half after.
    fn crowd(n: u64, second_writer: Option<Result<i64, ()>>) -> Vec<HistoryOp> {
        let mut ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(100))),
            write(1, "k", "b", 0, second_writer, (1, Some(99))),
        ];
        for i in 0..n {
            let seen = if i % 2 == 0 {
                vec![]
            } else {
                vec![("k", "a", 1)]
            };
            ops.push(read(2 + i as u32, seen, (i % 2) as i64, (2 + i, 98)));
        }
        ops
    }

    #[test]
    fn concurrent_reads_are_ordered_without_trying_their_interleavings() {
        // Every interleaving of 30 reads is 2^30 configurations; one order needs 32.
        let small = configurations(200);
        let verdict = check(&Model::new(), &crowd(30, Some(Err(()))), &small);
        let Linearizability::Linearizable { order } = verdict else {
            panic!("reads before and after a write, and a conflict after it: {verdict:?}");
        };
        assert_eq!(order.len(), 32);
    }

    #[test]
    fn a_lost_update_among_many_reads_is_still_found() {
        let small = configurations(200);
        let verdict = check(&Model::new(), &crowd(30, Some(Ok(2))), &small);
        let Linearizability::Violation { prefix, stuck } = verdict else {
            panic!("two winners with one SyncCount: {verdict:?}");
        };
        assert_eq!(stuck, vec![1], "the second winner cannot come next");
        assert_eq!(
            prefix.len(),
            31,
            "every read and the first write are ordered"
        );
    }

    /// Twelve writes that timed out, to different keys, and a read of a value nobody wrote:
    /// refuting it means trying every subset of the writes in every order.
    fn pathological() -> Vec<HistoryOp> {
        let mut ops: Vec<HistoryOp> = (0..12u32)
            .map(|lane| {
                write(
                    lane,
                    &format!("k{lane}"),
                    "v",
                    0,
                    None,
                    (u64::from(lane), None),
                )
            })
            .collect();
        ops.push(read(99, vec![("k0", "zzz", 1)], 1, (1_000, 1_010)));
        ops
    }

    #[test]
    fn a_search_past_its_configurations_budget_is_unknown() {
        let verdict = check(&Model::new(), &pathological(), &configurations(1_000));
        assert_eq!(
            verdict,
            Linearizability::Unknown {
                explored: 1_001,
                limit: SearchLimit::Configurations
            }
        );
        assert!(!verdict.is_linearizable());
    }

    #[test]
    fn a_search_past_its_states_budget_is_unknown() {
        let few_states = SearchBudget {
            states_max: 50,
            ..configurations(usize::MAX)
        };
        let verdict = check(&Model::new(), &pathological(), &few_states);
        assert!(
            matches!(
                verdict,
                Linearizability::Unknown {
                    limit: SearchLimit::States,
                    ..
                }
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_search_past_its_deadline_is_unknown() {
        let spent = SearchBudget {
            configurations_max: usize::MAX,
            states_max: usize::MAX,
            time_max: Some(Duration::ZERO),
        };
        let parts = check_history(&pathological(), &spent);
        assert_eq!(parts.len(), 1);
        assert!(
            matches!(
                parts[0].verdict,
                Linearizability::Unknown {
                    limit: SearchLimit::Time,
                    ..
                }
            ),
            "{:?}",
            parts[0].verdict
        );
    }

    #[test]
    fn unanswered_operations_that_change_nothing_add_no_search() {
        // Unanswered reads, unanswered writes that can only conflict, and a read of a value
        // nobody wrote: refuted at once, though each unanswered one might have taken effect.
        let mut ops = Vec::new();
        for lane in 0..16u32 {
            let mut list = read(lane, vec![], 0, (u64::from(lane), 0));
            (list.observed, list.complete_ns) = (None, None);
            ops.push(list);
            ops.push(write(16 + lane, "k", "x", 5, None, (u64::from(lane), None)));
        }
        ops.push(read(99, vec![("k", "zzz", 1)], 1, (1_000, 1_010)));
        let small = configurations(100);
        let verdict = check(&Model::new(), &ops, &small);
        assert!(is_violation(&verdict), "{verdict:?}");
    }
}
