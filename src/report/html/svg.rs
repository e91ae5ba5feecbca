//! A concurrent round drawn as an SVG timeline: one lane per device, one bar per operation
//! from its invocation to its answer.
//!
//! Drawn from the round's JSON `history` (not from the in-memory operations), so a report read
//! back from JSON draws the same picture. An operation without an answer runs to the end of
//! the round, hatched by a dashed outline; a device's operations after such an operation run in
//! a new sub-row of its lane (the history's `lane`), so bars of one row never overlap.

use std::fmt::Write as _;

use crate::report::markup::escape;

/// Width of the whole drawing, in SVG units (it scales to the page).
pub const WIDTH: f64 = 960.0;
/// Room on the left for the lane labels.
pub const LABEL_WIDTH: f64 = 80.0;
const RIGHT_MARGIN: f64 = 12.0;
/// Height of one sub-row of a lane, and of a bar in it.
pub const ROW_HEIGHT: f64 = 20.0;
const BAR_HEIGHT: f64 = 14.0;
const TOP: f64 = 8.0;
/// Gap between two devices' lanes.
const LANE_GAP: f64 = 6.0;
/// The narrowest bar drawn, so an instant operation stays visible and hoverable.
const BAR_WIDTH_MIN: f64 = 2.0;
const TICKS: usize = 5;
/// The narrowest bar that carries its operation's number.
const NUMBER_WIDTH_MIN: f64 = 20.0;

/// One operation of a history, as the JSON history spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub device: u64,
    /// The sequential thread within the device (a new one after an unanswered operation).
    pub lane: u64,
    pub invoke_ns: u64,
    /// `None`: no answer, the operation may or may not have taken effect.
    pub complete_ns: Option<u64>,
    pub operation: String,
    pub status: Option<u64>,
    pub stuck: bool,
}

/// The entries of a JSON history; entries without a device or an invocation time are left
/// out (they cannot be placed).
pub fn entries(history: &serde_json::Value) -> Vec<HistoryEntry> {
    let Some(ops) = history.as_array() else {
        return Vec::new();
    };
    ops.iter().filter_map(entry).collect()
}

/// One operation of a JSON history, if it has a device and an invocation time.
pub fn entry(op: &serde_json::Value) -> Option<HistoryEntry> {
    let device = op.get("device")?.as_u64()?;
    Some(HistoryEntry {
        device,
        lane: op.get("lane").and_then(|l| l.as_u64()).unwrap_or(device),
        invoke_ns: op.get("invoke_ns")?.as_u64()?,
        complete_ns: op.get("complete_ns").and_then(|c| c.as_u64()),
        operation: op
            .get("operation")
            .and_then(|o| o.as_str())
            .unwrap_or("?")
            .to_owned(),
        status: op.get("status").and_then(|s| s.as_u64()),
        stuck: op.get("stuck").and_then(|s| s.as_bool()).unwrap_or(false),
    })
}

/// A device's lane: where it sits and its sub-rows (history lanes) in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub device: u64,
    pub y: f64,
    pub rows: Vec<u64>,
}

impl Lane {
    pub fn height(&self) -> f64 {
        self.rows.len() as f64 * ROW_HEIGHT
    }
}

/// One bar: which entry, its lane (index into [`Layout::lanes`]) and its box.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub entry: usize,
    pub lane: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
}

/// Where everything goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub start_ns: u64,
    pub end_ns: u64,
    pub lanes: Vec<Lane>,
    pub bars: Vec<Bar>,
    /// The bottom of the last lane.
    pub lanes_bottom: f64,
}

impl Layout {
    /// The x of a time.
    pub fn x(&self, t_ns: u64) -> f64 {
        let span = (self.end_ns - self.start_ns).max(1) as f64;
        LABEL_WIDTH
            + (t_ns.saturating_sub(self.start_ns)) as f64 / span
                * (WIDTH - LABEL_WIDTH - RIGHT_MARGIN)
    }
}

/// Lays out `entries`: lanes by device number, sub-rows by history lane, time left to right
/// from the first invocation to the last answer (or invocation).
pub fn layout(entries: &[HistoryEntry]) -> Layout {
    let start_ns = entries.iter().map(|e| e.invoke_ns).min().unwrap_or(0);
    let end_ns = entries
        .iter()
        .map(|e| e.complete_ns.unwrap_or(e.invoke_ns).max(e.invoke_ns))
        .max()
        .unwrap_or(start_ns)
        .max(start_ns + 1);
    let mut devices: Vec<u64> = entries.iter().map(|e| e.device).collect();
    devices.sort_unstable();
    devices.dedup();
    let mut lanes = Vec::with_capacity(devices.len());
    let mut y = TOP;
    for device in devices {
        let mut rows: Vec<u64> = entries
            .iter()
            .filter(|e| e.device == device)
            .map(|e| e.lane)
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let lane = Lane { device, y, rows };
        y += lane.height() + LANE_GAP;
        lanes.push(lane);
    }
    let mut layout = Layout {
        start_ns,
        end_ns,
        lanes,
        bars: Vec::with_capacity(entries.len()),
        lanes_bottom: y - LANE_GAP,
    };
    for (i, entry) in entries.iter().enumerate() {
        let Some(lane_index) = layout.lanes.iter().position(|l| l.device == entry.device) else {
            continue;
        };
        let lane = &layout.lanes[lane_index];
        let row = lane.rows.iter().position(|r| *r == entry.lane).unwrap_or(0);
        let x = layout.x(entry.invoke_ns);
        let right = layout.x(entry.complete_ns.unwrap_or(end_ns).max(entry.invoke_ns));
        let bar = Bar {
            entry: i,
            lane: lane_index,
            x,
            y: lane.y + row as f64 * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
            width: (right - x).max(BAR_WIDTH_MIN),
        };
        layout.bars.push(bar);
    }
    layout
}

/// The classes of an operation's bar: `op`, then `conflict` (409), `indeterminate` (no
/// answer), `stuck` (cannot be linearized), or `refused` for another error status.
pub fn bar_classes(entry: &HistoryEntry) -> String {
    let mut classes = String::from("op");
    match (entry.complete_ns, entry.status) {
        (None, _) => classes.push_str(" indeterminate"),
        (Some(_), Some(409)) => classes.push_str(" conflict"),
        (Some(_), Some(status)) if status >= 300 => classes.push_str(" refused"),
        _ => {}
    }
    if entry.stuck {
        classes.push_str(" stuck");
    }
    classes
}

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The tooltip of a bar: device, operation, and its times from the start of the round.
fn tooltip(entry: &HistoryEntry, start_ns: u64) -> String {
    let answer = match entry.complete_ns {
        Some(c) => ms(c.saturating_sub(start_ns)),
        None => "no answer".to_owned(),
    };
    let status = entry
        .status
        .map_or_else(|| "no status".to_owned(), |s| format!("HTTP {s}"));
    format!(
        "device {} · {} · {} → {} · {status}{}",
        entry.device,
        entry.operation,
        ms(entry.invoke_ns.saturating_sub(start_ns)),
        answer,
        if entry.stuck {
            " · cannot be linearized"
        } else {
            ""
        }
    )
}

/// The drawing of a JSON history: `<svg class="timeline" data-devices="N">` with one
/// `<g class="lane" data-device="D">` per device, a time axis and a legend.
pub fn timeline(history: &serde_json::Value, caption: &str) -> String {
    let entries = entries(history);
    let layout = layout(&entries);
    let axis_y = layout.lanes_bottom + 6.0;
    let legend_y = axis_y + 34.0;
    let height = legend_y + 18.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg class=\"timeline\" data-devices=\"{}\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        layout.lanes.len(),
        escape(caption)
    );
    for (lane_index, lane) in layout.lanes.iter().enumerate() {
        let _ = writeln!(out, "<g class=\"lane\" data-device=\"{}\">", lane.device);
        let _ = writeln!(
            out,
            "<line class=\"lane-rule\" x1=\"{LABEL_WIDTH}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
            WIDTH - RIGHT_MARGIN,
            lane.y + lane.height(),
            lane.y + lane.height()
        );
        let _ = writeln!(
            out,
            "<text class=\"lane-label\" x=\"4\" y=\"{:.1}\">device {}</text>",
            lane.y + ROW_HEIGHT / 2.0 + 4.0,
            lane.device
        );
        for bar in layout.bars.iter().filter(|b| b.lane == lane_index) {
            let entry = &entries[bar.entry];
            let _ = writeln!(
                out,
                "<rect class=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR_HEIGHT}\">\
                 <title>#{} {}</title></rect>",
                bar_classes(entry),
                bar.x,
                bar.y,
                bar.width,
                bar.entry + 1,
                escape(&tooltip(entry, layout.start_ns))
            );
            // The operation's number (as in the table below the drawing) where it fits.
            if bar.width >= NUMBER_WIDTH_MIN {
                let _ = writeln!(
                    out,
                    "<text class=\"op-number\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    bar.x + 3.0,
                    bar.y + BAR_HEIGHT - 3.5,
                    bar.entry + 1
                );
            }
        }
        out.push_str("</g>\n");
    }
    axis(&mut out, &layout, axis_y);
    legend(&mut out, legend_y);
    out.push_str("</svg>\n");
    out
}

/// A time axis in milliseconds from the round's first invocation.
fn axis(out: &mut String, layout: &Layout, y: f64) {
    let _ = writeln!(
        out,
        "<g class=\"axis\"><line x1=\"{LABEL_WIDTH}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
        WIDTH - RIGHT_MARGIN
    );
    let span = layout.end_ns - layout.start_ns;
    for k in 0..=TICKS {
        let t = layout.start_ns + span * k as u64 / TICKS as u64;
        let x = layout.x(t);
        let anchor = match k {
            0 => "start",
            k if k == TICKS => "end",
            _ => "middle",
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            y + 4.0,
            y + 16.0,
            ms(t - layout.start_ns)
        );
    }
    out.push_str("</g>\n");
}

/// What the bars' looks mean.
fn legend(out: &mut String, y: f64) {
    out.push_str("<g class=\"legend\">\n");
    let keys = [
        ("key", "answered"),
        ("key conflict", "409 conflict"),
        ("key refused", "other error"),
        ("key indeterminate", "no answer (to the end)"),
        ("key stuck", "cannot be linearized"),
    ];
    let mut x = LABEL_WIDTH;
    for (class, text) in keys {
        let _ = writeln!(
            out,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"18\" height=\"10\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">{text}</text>",
            y - 9.0,
            x + 24.0
        );
        x += 40.0 + text.len() as f64 * 6.5;
    }
    out.push_str("</g>\n");
}

/// The timeline's style: bars by outcome, with the stuck ones outlined in red.
pub const STYLE: &str = r#"
svg.timeline { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; background: #fff;
  border: 1px solid var(--line); }
svg.timeline .lane-rule, svg.timeline .axis line { stroke: var(--line); stroke-width: 1; }
svg.timeline .axis text, svg.timeline .lane-label { fill: #57606a; }
svg.timeline rect.op, svg.timeline rect.key { fill: #a5c8ec; stroke: #2f6fab; stroke-width: 1; }
svg.timeline rect.conflict { fill: #f3c26b; stroke: #9a6700; }
svg.timeline rect.refused { fill: #d8b9f5; stroke: #8250df; }
svg.timeline rect.indeterminate { fill: #eaeef2; fill-opacity: .6; stroke: #57606a;
  stroke-dasharray: 4 3; }
svg.timeline rect.stuck { stroke: var(--fail); stroke-width: 3; }
svg.timeline rect.op:hover { fill-opacity: .7; }
svg.timeline .op-number { font-size: 10px; fill: #1f2328; pointer-events: none; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        device: u64,
        lane: u64,
        span: (u64, Option<u64>),
        status: Option<u64>,
    ) -> HistoryEntry {
        HistoryEntry {
            device,
            lane,
            invoke_ns: span.0,
            complete_ns: span.1,
            operation: "write[k@0=v]→ok".to_owned(),
            status,
            stuck: false,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn one_lane_per_device_and_a_sub_row_per_history_lane() {
        let entries = vec![
            entry(2, 2, (0, Some(10)), Some(200)),
            entry(0, 0, (5, Some(20)), Some(200)),
            // Device 0's operation after an unanswered one runs in lane 5.
            entry(0, 0, (21, None), None),
            entry(0, 5, (25, Some(40)), Some(409)),
        ];
        let layout = layout(&entries);
        let devices: Vec<u64> = layout.lanes.iter().map(|l| l.device).collect();
        assert_eq!(devices, vec![0, 2]);
        assert_eq!(layout.lanes[0].rows, vec![0, 5]);
        assert!(close(layout.lanes[0].height(), 2.0 * ROW_HEIGHT));
        assert!(
            layout.lanes[1].y >= layout.lanes[0].y + layout.lanes[0].height(),
            "lanes do not overlap: {layout:?}"
        );
        assert_eq!(layout.bars.len(), entries.len());
        // The operation in lane 5 sits one row below device 0's first row.
        assert!(close(layout.bars[3].y - layout.bars[1].y, ROW_HEIGHT));
    }

    #[test]
    fn bars_run_from_invocation_to_answer_and_unanswered_ones_to_the_end() {
        let entries = vec![
            entry(0, 0, (100, Some(200)), Some(200)),
            entry(1, 1, (150, None), None),
            entry(1, 1, (300, Some(300)), Some(200)),
        ];
        let layout = layout(&entries);
        assert_eq!((layout.start_ns, layout.end_ns), (100, 300));
        let plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
        let first = &layout.bars[0];
        assert!(close(first.x, LABEL_WIDTH));
        assert!(close(first.width, plot / 2.0), "{first:?}");
        let unanswered = &layout.bars[1];
        assert!(close(unanswered.x + unanswered.width, WIDTH - RIGHT_MARGIN));
        // An instant operation is still drawn.
        assert!(close(layout.bars[2].width, BAR_WIDTH_MIN));
    }

    #[test]
    fn bars_are_classed_by_outcome() {
        let mut stuck = entry(0, 0, (0, Some(1)), Some(409));
        stuck.stuck = true;
        assert_eq!(bar_classes(&stuck), "op conflict stuck");
        assert_eq!(
            bar_classes(&entry(0, 0, (0, None), None)),
            "op indeterminate"
        );
        assert_eq!(
            bar_classes(&entry(0, 0, (0, Some(1)), Some(400))),
            "op refused"
        );
        assert_eq!(bar_classes(&entry(0, 0, (0, Some(1)), Some(200))), "op");
    }

    #[test]
    fn the_drawing_has_one_lane_group_per_device_and_a_rect_per_operation() {
        let history = serde_json::json!([
            {"device": 0, "lane": 0, "invoke_ns": 0, "complete_ns": 10, "operation": "<script>",
             "status": 200, "stuck": false},
            {"device": 3, "lane": 3, "invoke_ns": 2, "complete_ns": null, "operation": "list",
             "status": null, "stuck": true},
        ]);
        let svg = timeline(&history, "example & co");
        assert!(
            svg.starts_with("<svg class=\"timeline\" data-devices=\"2\""),
            "{svg}"
        );
        assert_eq!(svg.matches("<g class=\"lane\"").count(), 2);
        assert!(svg.contains("<g class=\"lane\" data-device=\"3\">"));
        assert_eq!(svg.matches("<rect class=\"op").count(), 2);
        assert!(svg.contains("class=\"op indeterminate stuck\""));
        assert!(
            svg.contains("&lt;script&gt;") && !svg.contains("<script>"),
            "{svg}"
        );
        assert!(svg.contains("aria-label=\"example &amp; co\""));
    }

    #[test]
    fn an_empty_or_malformed_history_draws_no_lanes() {
        for history in [
            serde_json::Value::Null,
            serde_json::json!([{"device": "x"}]),
        ] {
            let svg = timeline(&history, "");
            assert!(svg.contains("data-devices=\"0\""), "{svg}");
            assert!(!svg.contains("<g class=\"lane\""));
        }
    }
}
