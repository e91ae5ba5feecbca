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

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Call, Judgement, Model, Observed};
use crate::spec::{DatasetPath, Timestamp};

/// One operation of a concurrent history.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
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
pub fn dataset_of(call: &Call) -> Option<&DatasetPath> {
    match call {
        Call::UpdateRecords { request, .. } => Some(&request.path),
        Call::ListRecords { request, .. } => Some(&request.path),
        Call::DescribeDataset(r) => Some(&r.path),
        Call::DeleteDataset(r) => Some(&r.path),
        Call::ListDatasets(_) | Call::DescribeIdentityUsage(_) => None,
    }
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
}

impl Linearizability {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Linearizability::Linearizable { .. })
    }
}

struct Node {
    positions: Vec<u32>,
    model: Model,
    candidates: Vec<(usize, Option<usize>)>,
    next: usize,
}

/// Checks `ops` (all on one dataset, or independent of dataset boundaries) from `initial`.
pub fn check(initial: &Model, ops: &[Operation]) -> Linearizability {
    // Lanes: each lane's operations in invocation order.
    let mut lane_ids: Vec<u32> = ops.iter().map(|o| o.lane).collect();
    lane_ids.sort_unstable();
    lane_ids.dedup();
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); lane_ids.len()];
    for (i, op) in ops.iter().enumerate() {
        if let Ok(l) = lane_ids.binary_search(&op.lane) {
            lanes[l].push(i);
        }
    }
    for lane in &mut lanes {
        lane.sort_by_key(|&i| ops[i].invoke_ns);
    }

    let finished = |positions: &[u32]| {
        lanes.iter().zip(positions).all(|(lane, &p)| {
            let p = p as usize;
            p == lane.len() || (p + 1 == lane.len() && ops[lane[p]].complete_ns.is_none())
        })
    };
    // Operations that may come next: invoked before every unordered operation completed.
    let candidates = |positions: &[u32], model: &Model| -> Vec<(usize, Option<usize>)> {
        let heads: Vec<usize> = lanes
            .iter()
            .zip(positions)
            .filter_map(|(lane, &p)| lane.get(p as usize).copied())
            .collect();
        let horizon = heads
            .iter()
            .filter_map(|&i| ops[i].complete_ns)
            .min()
            .unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for &i in &heads {
            if ops[i].invoke_ns > horizon {
                continue;
            }
            if ops[i].observed.is_some() {
                out.push((i, None));
            } else {
                // Indeterminate: any allowed outcome may have happened.
                let expectation = model.expect(&ops[i].call, ops[i].now);
                for k in 0..expectation.outcomes.len() {
                    out.push((i, Some(k)));
                }
            }
        }
        out
    };
    let step = |model: &Model, op: usize, outcome: Option<usize>| -> Option<Model> {
        let o = &ops[op];
        let expectation = model.expect(&o.call, o.now);
        let chosen = match (&o.observed, outcome) {
            (Some(observed), _) => match expectation.judge(observed) {
                (Judgement::Mismatch(_), _) => return None,
                (_, matched) => matched.unwrap_or(0),
            },
            (None, Some(k)) => k,
            (None, None) => return None,
        };
        let mut next = model.clone();
        next.advance(&expectation, chosen);
        Some(next)
    };

    let lane_of = |op: usize| lane_ids.binary_search(&ops[op].lane).unwrap_or(0);
    let root_positions = vec![0u32; lanes.len()];
    let mut visited: HashSet<(Vec<u32>, Model)> = HashSet::new();
    let mut order: Vec<usize> = Vec::new();
    let mut best: (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let root_candidates = candidates(&root_positions, initial);
    let mut stack = vec![Node {
        positions: root_positions,
        model: initial.clone(),
        candidates: root_candidates,
        next: 0,
    }];
    while let Some(top) = stack.last_mut() {
        if finished(&top.positions) {
            return Linearizability::Linearizable { order };
        }
        if top.next >= top.candidates.len() {
            if order.len() >= best.0.len() {
                let mut stuck: Vec<usize> = top.candidates.iter().map(|(i, _)| *i).collect();
                stuck.dedup();
                best = (order.clone(), stuck);
            }
            stack.pop();
            order.pop();
            continue;
        }
        let (op, outcome) = top.candidates[top.next];
        top.next += 1;
        let Some(model) = step(&top.model, op, outcome) else {
            continue;
        };
        let mut positions = top.positions.clone();
        positions[lane_of(op)] += 1;
        if !visited.insert((positions.clone(), model.clone())) {
            continue;
        }
        let next_candidates = candidates(&positions, &model);
        order.push(op);
        stack.push(Node {
            positions,
            model,
            candidates: next_candidates,
            next: 0,
        });
    }
    let (prefix, mut stuck) = best;
    if stuck.is_empty() {
        // Nothing could even start: every head was blocked or refused.
        stuck = lanes.iter().filter_map(|l| l.first().copied()).collect();
    }
    Linearizability::Violation { prefix, stuck }
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
/// the machine's cores.
pub fn check_history(ops: &[Operation]) -> Vec<PartResult> {
    let mut parts: BTreeMap<Option<DatasetPath>, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        parts
            .entry(dataset_of(&op.call).cloned())
            .or_default()
            .push(i);
    }
    let parts: Vec<(Option<DatasetPath>, Vec<usize>)> = parts.into_iter().collect();
    let check_part = |(dataset, indices): &(Option<DatasetPath>, Vec<usize>)| {
        let part: Vec<Operation> = indices.iter().map(|&i| ops[i].clone()).collect();
        let verdict = match check(&Model::new(), &part) {
            Linearizability::Linearizable { order } => Linearizability::Linearizable {
                order: order.into_iter().map(|i| indices[i]).collect(),
            },
            Linearizability::Violation { prefix, stuck } => Linearizability::Violation {
                prefix: prefix.into_iter().map(|i| indices[i]).collect(),
                stuck: stuck.into_iter().map(|i| indices[i]).collect(),
            },
        };
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

/// A short label of an operation for timelines.
pub fn label(op: &Operation) -> String {
    let outcome = match &op.observed {
        None => "?".to_owned(),
        Some(Observed::Error { status, .. }) => status.to_string(),
        Some(_) => "ok".to_owned(),
    };
    match &op.call {
        Call::UpdateRecords { request, .. } => {
            let patches: Vec<String> = request
                .body
                .record_patches
                .iter()
                .flatten()
                .map(|p| {
                    let key = p.key.as_deref().unwrap_or("?");
                    let count = p.sync_count.unwrap_or(-1);
                    match p.op.as_deref() {
                        Some("remove") => format!("-{key}@{count}"),
                        _ => format!("{key}@{count}={}", p.value.as_deref().unwrap_or("")),
                    }
                })
                .collect();
            format!("write[{}]→{outcome}", patches.join(" "))
        }
        Call::ListRecords { request, .. } => {
            let since = request.last_sync_count.unwrap_or(0);
            match &op.observed {
                Some(Observed::ListRecords(pages)) => {
                    let count = pages
                        .last()
                        .and_then(|p| p.dataset_sync_count)
                        .unwrap_or(-1);
                    let n: usize = pages
                        .iter()
                        .map(|p| p.records.as_ref().map_or(0, Vec::len))
                        .sum();
                    format!("list(>{since})→{n} recs, count {count}")
                }
                _ => format!("list(>{since})→{outcome}"),
            }
        }
        Call::DeleteDataset(_) => format!("delete→{outcome}"),
        Call::DescribeDataset(_) => format!("describe→{outcome}"),
        Call::ListDatasets(_) => format!("list-datasets→{outcome}"),
        Call::DescribeIdentityUsage(_) => format!("usage→{outcome}"),
    }
}

/// A text timeline, one row per device, with operations as bars from invocation to completion
/// (`~` for indeterminate ones) and the operations that cannot be ordered marked `!`.
pub fn timeline(ops: &[Operation], stuck: &[usize], width: usize) -> String {
    let width = width.max(20);
    let start = ops.iter().map(|o| o.invoke_ns).min().unwrap_or(0);
    let end = ops
        .iter()
        .map(|o| o.complete_ns.unwrap_or(o.invoke_ns))
        .max()
        .unwrap_or(start)
        .max(start + 1);
    let scale =
        |t: u64| ((t - start) as f64 / (end - start) as f64 * (width - 1) as f64).round() as usize;
    let mut devices: Vec<u32> = ops.iter().map(|o| o.device).collect();
    devices.sort_unstable();
    devices.dedup();
    let mut out = String::new();
    let mut sorted: Vec<usize> = (0..ops.len()).collect();
    sorted.sort_by_key(|&i| (ops[i].invoke_ns, ops[i].device));
    let id_of = |i: usize| sorted.iter().position(|&j| j == i).unwrap_or(i) + 1;
    for device in &devices {
        let mut row = vec![' '; width];
        for (i, op) in ops.iter().enumerate().filter(|(_, o)| o.device == *device) {
            let a = scale(op.invoke_ns);
            let b = op.complete_ns.map_or(width - 1, scale).max(a);
            for cell in row.iter_mut().take(b + 1).skip(a) {
                *cell = if op.complete_ns.is_some() { '-' } else { '~' };
            }
            row[a] = '[';
            if op.complete_ns.is_some() {
                row[b] = ']';
            }
            let tag: Vec<char> =
                format!("{}{}", id_of(i), if stuck.contains(&i) { "!" } else { "" })
                    .chars()
                    .collect();
            for (k, c) in tag.into_iter().enumerate() {
                if a + 1 + k < b {
                    row[a + 1 + k] = c;
                }
            }
        }
        let _ = writeln!(
            out,
            "device {device:<3}|{}|",
            row.into_iter().collect::<String>()
        );
    }
    for &i in &sorted {
        let op = &ops[i];
        let _ = writeln!(
            out,
            "  {:>3}{} device {} [{:.3} ms → {}] {}",
            id_of(i),
            if stuck.contains(&i) { "!" } else { " " },
            op.device,
            (op.invoke_ns - start) as f64 / 1e6,
            op.complete_ns.map_or("no answer".to_owned(), |c| format!(
                "{:.3} ms",
                (c - start) as f64 / 1e6
            )),
            label(op)
        );
    }
    out
}

/// The history in the event-list form external checkers and visualisers read (Knossos/Jepsen
/// EDN): an `:invoke` and an `:ok`/`:fail`/`:info` event per operation, in time order. Values
/// are JSON strings of the request and the answer.
pub fn to_edn(ops: &[Operation]) -> String {
    let mut events: Vec<(u64, u8, String)> = Vec::new();
    let edn_str = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    for op in ops {
        let f = match &op.call {
            Call::UpdateRecords { .. } => ":write",
            Call::ListRecords { .. } => ":read",
            _ => ":other",
        };
        let request = format!("{:?}", op.call);
        events.push((
            op.invoke_ns,
            0,
            format!(
                "{{:process {}, :type :invoke, :f {f}, :value {}, :time {}}}",
                op.lane,
                edn_str(&request),
                op.invoke_ns
            ),
        ));
        let (kind, value, time) = match (&op.observed, op.complete_ns) {
            (Some(Observed::Error { .. }), Some(t)) => (":fail", format!("{:?}", op.observed), t),
            (Some(_), Some(t)) => (":ok", format!("{:?}", op.observed), t),
            _ => (":info", "nil".to_owned(), op.invoke_ns),
        };
        let value = if value == "nil" {
            value
        } else {
            edn_str(&value)
        };
        events.push((
            time,
            1,
            format!(
                "{{:process {}, :type {kind}, :f {f}, :value {value}, :time {time}}}",
                op.lane
            ),
        ));
    }
    events.sort_by_key(|(t, k, _)| (*t, *k));
    let mut out = String::from("[\n");
    for (_, _, e) in events {
        let _ = writeln!(out, " {e}");
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenClaim;
    use crate::spec::ErrorKind;
    use crate::spec::{
        ListRecordsRequest, ListRecordsResponse, Record, RecordPatch, UpdateRecordsBody,
        UpdateRecordsRequest, UpdateRecordsResponse,
    };

    fn path() -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:00000000-0000-4000-8000-000000000001".into(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000002".into(),
            dataset_name: "shared".into(),
        }
    }

    fn write(
        lane: u32,
        key: &str,
        value: &str,
        count: i64,
        answer: Option<Result<i64, ()>>,
        t: (u64, Option<u64>),
    ) -> Operation {
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
        Operation {
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

    fn read(lane: u32, records: Vec<(&str, &str, i64)>, count: i64, t: (u64, u64)) -> Operation {
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
        Operation {
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
        assert!(check(&Model::new(), &ops).is_linearizable());
    }

    #[test]
    fn two_winners_with_the_same_sync_count_are_a_lost_update() {
        let ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            write(1, "k", "b", 0, Some(Ok(2)), (1, Some(9))),
        ];
        let verdict = check(&Model::new(), &ops);
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
            !check(&Model::new(), &ops).is_linearizable(),
            "a stale read after a completed write"
        );
        let overlapping = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            read(1, vec![], 0, (5, 30)),
        ];
        assert!(
            check(&Model::new(), &overlapping).is_linearizable(),
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
        assert!(check(&Model::new(), &took_effect).is_linearizable());
        // A later read does not see it: also linearizable (it never took effect).
        let never = vec![
            write(0, "k", "a", 0, None, (0, None)),
            read(1, vec![], 0, (20, 30)),
        ];
        assert!(check(&Model::new(), &never).is_linearizable());
        // But a read cannot see a value nobody wrote.
        let phantom = vec![
            write(0, "k", "a", 0, None, (0, None)),
            read(1, vec![("k", "zzz", 1)], 1, (20, 30)),
        ];
        assert!(!check(&Model::new(), &phantom).is_linearizable());
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
        let verdict = check(&Model::new(), &ops);
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
        let parts = check_history(&ops);
        assert_eq!(parts.len(), 2);
        assert!(
            parts.iter().all(|p| p.verdict.is_linearizable()),
            "each dataset has its own counter"
        );
    }

    #[test]
    fn timelines_mark_operations_that_cannot_be_ordered() {
        let ops = vec![
            write(0, "k", "a", 0, Some(Ok(1)), (0, Some(10))),
            write(1, "k", "b", 0, Some(Ok(2)), (1, Some(9))),
        ];
        let text = timeline(&ops, &[1], 40);
        assert!(text.contains("device 0"), "{text}");
        assert!(text.contains("!"), "{text}");
        let edn = to_edn(&ops);
        assert!(
            edn.contains(":type :invoke") && edn.contains(":type :ok"),
            "{edn}"
        );
    }
}
