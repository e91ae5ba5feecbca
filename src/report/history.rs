//! Renderings of a concurrent history that could not be linearized: a text timeline (one
//! lane per device), the Knossos/Jepsen EDN event list, and the operations as JSON.

use std::fmt::Write as _;

use crate::model::{Call, Observed};
use crate::suite::concurrent::RoundHistory;
use crate::suite::linear::HistoryOp;

/// Columns of the timeline in reports.
pub const TIMELINE_WIDTH: usize = 100;

/// Fills in the renderings of `violation` from its operations (a violation read back from a
/// JSON report has none and keeps the renderings it was saved with).
pub fn render(violation: &mut RoundHistory) {
    if violation.ops.is_empty() {
        return;
    }
    violation.timeline = timeline(&violation.ops, &violation.stuck, TIMELINE_WIDTH);
    violation.edn = to_edn(&violation.ops);
    violation.history = history_json(&violation.ops, &violation.stuck);
}

/// Fills in the renderings of a round kept only to show what a passing round looks like: the
/// timeline and the operations with their labels, times and statuses, without the full calls
/// and answers or the EDN list, which only a violation needs (they would triple the size of
/// a passing run's JSON report).
pub fn render_outline(round: &mut RoundHistory) {
    if round.ops.is_empty() {
        return;
    }
    round.timeline = timeline(&round.ops, &round.stuck, TIMELINE_WIDTH);
    round.edn = String::new();
    let mut history = history_json(&round.ops, &round.stuck);
    for op in history.as_array_mut().into_iter().flatten() {
        if let Some(fields) = op.as_object_mut() {
            fields.remove("call");
            fields.remove("answer");
        }
    }
    round.history = history;
}

/// A short label of an operation for timelines.
pub fn label(op: &HistoryOp) -> String {
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
pub fn timeline(ops: &[HistoryOp], stuck: &[usize], width: usize) -> String {
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
pub fn to_edn(ops: &[HistoryOp]) -> String {
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

/// The operations as JSON (call, answer, times; `status` is the HTTP status of an answer, null
/// when there was none; `stuck` marks the operations that cannot come next).
pub fn history_json(ops: &[HistoryOp], stuck: &[usize]) -> serde_json::Value {
    serde_json::Value::Array(
        ops.iter()
            .enumerate()
            .map(|(i, o)| {
                let status = match &o.observed {
                    None => None,
                    Some(Observed::Error { status, .. }) => Some(*status),
                    Some(_) => Some(200),
                };
                serde_json::json!({
                    "device": o.device,
                    "lane": o.lane,
                    "invoke_ns": o.invoke_ns,
                    "complete_ns": o.complete_ns,
                    "operation": label(o),
                    "call": format!("{:?}", o.call),
                    "answer": o.observed.as_ref().map(|x| format!("{x:?}")),
                    "status": status,
                    "stuck": stuck.contains(&i),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::linear::tests::write;

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
        let json = history_json(&ops, &[1]);
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        let mut outline = RoundHistory::new(ops, Vec::new());
        render_outline(&mut outline);
        let first = &outline.history[0];
        assert!(
            first["operation"].is_string() && first["status"] == 200,
            "{first}"
        );
        assert!(
            first.get("call").is_none() && first.get("answer").is_none(),
            "{first}"
        );
        assert!(outline.edn.is_empty() && outline.timeline.contains("device 0"));
    }
}
