//! The HTML report of a run (`check --html`): one self-contained page, readable without
//! JavaScript, drawn from the same [`RunReport`] as the JSON and JUnit reports.
//!
//! Top to bottom: the summary and what did not pass; the results grouped by the
//! specification's sections and requirement IDs (h2spec style); every case with its numbered
//! transcript (full exchanges and a reproduction for what did not pass, a compact one for
//! passes); the random phase; the concurrent phase with its rounds drawn as SVG timelines; and
//! the endpoint's ambiguity profile. The DOM follows the contract other tools rely on: ids
//! `summary`, `count-<verdict>`, `case-<ID>`, `case-<ID>-step-<n>`, `req-<ID>`, `profile-<ID>`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

pub mod svg;

use super::artifacts::saves;
use super::curl_script;
use super::human::Closing;
use super::markup::{VERDICTS, case_anchor, escape, page, step_anchor, verdict_class};
use super::profile::{Choice, ProfileEntry};
use super::{RunReport, Summary};
use crate::client::Exchange;
use crate::spec::catalogue::{Catalogue, Requirement, catalogue};
use crate::suite::concurrent::{ConcurrentReport, RoundHistory};
use crate::suite::machine::RandomReport;
use crate::suite::verdict::{CaseReport, Step, StepVerdict, Verdict};

/// The page ID of the random phase.
pub const RANDOM_PHASE_ID: &str = "random.sequences";
/// The page ID of the concurrent phase.
pub const CONCURRENT_PHASE_ID: &str = "concurrent.linearizability";

/// Longest request or response body shown in an exchange; the curl script has the rest.
const BODY_CHARS_MAX: usize = 8 * 1024;
/// Longest expected or actual text of a step in a full transcript.
const OUTCOME_CHARS_MAX: usize = 4 * 1024;
/// Longest expected or actual text of a step of a passing case.
const COMPACT_CHARS_MAX: usize = 160;
/// Most request-body bytes of a curl script shown inline; the saved `.sh` file has them all.
const CURL_CHARS_MAX: usize = 32 * 1024;
/// Longest detail in the list of what did not pass.
const DETAIL_CHARS_MAX: usize = 200;
/// Longest row text in the ambiguity profile.
const ROW_TEXT_CHARS_MAX: usize = 160;

/// The page's own style, after the shared sheet.
pub const STYLE: &str = r#"
nav.toc { margin: .5rem 0; } nav.toc a { margin-right: 1rem; }
.case { border: 1px solid var(--line); border-radius: 6px; padding: .25rem 1rem .75rem;
  margin: .75rem 0; }
.case[data-verdict="fail"], .case[data-verdict="error"], .case[data-verdict="xpass"] {
  border-left: 4px solid var(--fail); }
.case[data-verdict="non-strict"] { border-left: 4px solid var(--non-strict); }
.case h3, .case h2 { margin: .5rem 0 .25rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: .25rem 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.requirement { margin: .25rem 0 .75rem 1rem; } .requirement h4 { margin: .5rem 0 .1rem; }
.requirement ul, .not-passed { margin: .1rem 0; padding-left: 1.25rem; }
.grade, .level { font-size: 12px; border: 1px solid var(--line); border-radius: 3px; padding: 0 .3em; }
ol.transcript { padding-left: 2rem; } li.step { margin: .35rem 0; padding: .1rem .4rem; }
li.step .outcome { display: grid; grid-template-columns: max-content auto; gap: 0 .75rem; }
li.step .outcome > span { color: #57606a; }
li.step.compact .outcome code { white-space: pre-wrap; word-break: break-all; }
.step-verdict { font-size: 12px; font-weight: 600; margin-left: .5rem; }
.step-verdict.mismatch, .step-verdict.trouble { color: var(--fail); }
.step-verdict.non-strict { color: var(--non-strict); } .step-verdict.reference { color: var(--pass); }
.difference { margin: .25rem 0; font-weight: 600; color: var(--fail); }
.exchange .http { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
@media (max-width: 800px) { .exchange .http { grid-template-columns: 1fr; } }
.reproduce { margin-top: .5rem; } code.command { display: block; padding: .25rem .5rem;
  background: var(--soft); border: 1px solid var(--line); }
table#profile td[data-choice] { font-weight: 600; }
tr[data-choice="alternative"] td.choice, tr[data-choice="mixed"] td.choice { color: var(--non-strict); }
tr[data-choice="failed"] td.choice { color: var(--fail); }
tr[data-choice="not-observed"] td.choice { color: #57606a; }
table.ops td { font-size: 12px; } table.ops pre { max-width: 60rem; }
"#;

/// The whole page. `closing` says where the run saved its failures (replay commands) and how
/// to point a command at the endpoint.
pub fn render(report: &RunReport, closing: &Closing) -> String {
    let page_ = Page {
        report,
        closing,
        catalogue: catalogue(),
        anchors: anchors(report),
    };
    let mut body = String::with_capacity(64 * 1024);
    page_.summary(&mut body);
    page_.requirements(&mut body);
    page_.cases(&mut body);
    if let Some(random) = &report.random {
        page_.random(&mut body, random);
    }
    if let Some(concurrent) = &report.concurrent {
        page_.concurrent(&mut body, concurrent);
    }
    page_.profile(&mut body);
    let title = format!("cogsync check: {}", report.display_name());
    let style = format!("{STYLE}{}", svg::STYLE);
    page(&title, &style, &body)
}

/// What every part of the page draws from.
struct Page<'a> {
    report: &'a RunReport,
    closing: &'a Closing,
    catalogue: &'a Catalogue,
    /// Every case and step anchor the page has, so links only point at what exists.
    anchors: BTreeSet<String>,
}

/// The case and step anchors of the page: every case and phase, and every step kept.
fn anchors(report: &RunReport) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut add = |id: &str, steps: usize| {
        anchors.insert(case_anchor("", id));
        for n in 1..=steps {
            anchors.insert(step_anchor("", id, n));
        }
    };
    for case in &report.cases {
        add(&case.id, case.steps.len());
    }
    if let Some(random) = &report.random {
        add(
            RANDOM_PHASE_ID,
            random.failure.as_ref().map_or(0, |f| f.steps.len()),
        );
    }
    if report.concurrent.is_some() {
        add(CONCURRENT_PHASE_ID, 0);
    }
    anchors
}

/// The count of one verdict in a summary.
fn count(summary: &Summary, verdict: Verdict) -> u64 {
    summary.count(verdict)
}

/// How the profile spells a choice in `data-choice` (the JSON spelling).
fn choice_slug(choice: Choice) -> &'static str {
    match choice {
        Choice::Reference => "reference",
        Choice::Alternative => "alternative",
        Choice::Mixed => "mixed",
        Choice::Failed => "failed",
        Choice::NotObserved => "not-observed",
    }
}

/// A verdict badge.
fn badge(verdict: Verdict) -> String {
    format!(
        "<span class=\"verdict {}\">{}</span>",
        verdict_class(verdict),
        verdict.label()
    )
}

/// `text` cut to `max` characters, saying how much was left out and where to find it.
fn clip(text: &str, max: usize, rest_is_in: &str) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}\n… ({} more characters{rest_is_in})", total - max)
}

/// Requirement text from the specification: escaped, with `code` spans as `<code>` and
/// `**strong**` / `*emphasis*` outside them.
pub fn inline_markdown(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        let closed = i + 1 < parts.len() || i % 2 == 0;
        match (i % 2 == 1, closed) {
            (true, true) => {
                let _ = write!(out, "<code>{}</code>", escape(part));
            }
            // An unmatched backtick stays a backtick.
            (true, false) => {
                let _ = write!(out, "`{}", escape(part));
            }
            _ => out.push_str(&emphasis(
                &emphasis(&escape(part), "**", "strong"),
                "*",
                "em",
            )),
        }
    }
    out
}

/// Pairs of `marker` in escaped text as `<tag>` elements; an unpaired marker stays as it is.
fn emphasis(text: &str, marker: &str, tag: &str) -> String {
    let parts: Vec<&str> = text.split(marker).collect();
    if parts.len().is_multiple_of(2) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<{tag}>{part}</{tag}>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The first sentence (or line) of a requirement's text, cut short, for tables.
fn short_text(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= ROW_TEXT_CHARS_MAX {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(ROW_TEXT_CHARS_MAX).collect();
    // A code span cut in two would show its backtick: end before it instead.
    if cut.matches('`').count() % 2 == 1
        && let Some(open) = cut.rfind('`')
    {
        cut.truncate(open);
    }
    format!("{}…", cut.trim_end())
}

/// A duration for people: milliseconds below a second, seconds above.
fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// The path and query of a URL, for summaries of exchanges.
fn path_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

impl Page<'_> {
    fn link(&self, id: &str, text: &str) -> String {
        let anchor = case_anchor("", id);
        if self.anchors.contains(&anchor) {
            format!("<a href=\"#{}\">{text}</a>", escape(&anchor))
        } else {
            text.to_owned()
        }
    }

    /// `cogsync replay FILE` with the run's endpoint flag.
    fn replay_command(&self, file: &std::path::Path) -> String {
        format!(
            "cogsync replay {}{}",
            file.display(),
            self.closing.endpoint_flag
        )
    }

    fn summary(&self, out: &mut String) {
        let r = self.report;
        let _ = writeln!(
            out,
            "<section id=\"summary\" class=\"summary\">\n<h1>cogsync check: {}</h1>",
            escape(r.display_name())
        );
        let mut toc = vec![("requirements", "by requirement"), ("cases", "cases")];
        let random_anchor = case_anchor("", RANDOM_PHASE_ID);
        let concurrent_anchor = case_anchor("", CONCURRENT_PHASE_ID);
        if r.random.is_some() {
            toc.push((random_anchor.as_str(), "random phase"));
        }
        if r.concurrent.is_some() {
            toc.push((concurrent_anchor.as_str(), "concurrent phase"));
        }
        if !r.profile.is_empty() {
            toc.push(("ambiguity-profile", "ambiguity profile"));
        }
        out.push_str("<nav class=\"toc\">");
        for (anchor, text) in toc {
            let _ = write!(out, "<a href=\"#{}\">{text}</a>", escape(anchor));
        }
        out.push_str("</nav>\n<dl>\n");
        let name = r.name.as_deref().unwrap_or("(not given)");
        let facts: [(&str, String); 8] = [
            ("endpoint", format!("<code>{}</code>", escape(&r.endpoint))),
            ("name", escape(name)),
            ("seed", format!("<code>{}</code>", r.seed)),
            ("run id", format!("<code>{}</code>", escape(&r.run_id))),
            ("started at", escape(&r.started_at)),
            ("elapsed", duration(r.elapsed_ms)),
            (
                "strict",
                if r.strict {
                    "yes (NON-STRICT counts as failure)".to_owned()
                } else {
                    "no".to_owned()
                },
            ),
            (
                "version",
                format!("{} {}", escape(&r.tool), escape(&r.version)),
            ),
        ];
        for (term, value) in facts {
            let _ = writeln!(out, "<dt>{term}</dt><dd>{value}</dd>");
        }
        out.push_str("</dl>\n<div class=\"counts\">\n");
        for verdict in VERDICTS {
            let class = verdict_class(verdict);
            let _ = writeln!(
                out,
                "<span class=\"count {class}\">{} <strong id=\"count-{class}\">{}</strong></span>",
                badge(verdict),
                count(&r.summary, verdict)
            );
        }
        let _ = writeln!(out, "</div>\n<p>{}</p>", escape(&r.summary.line()));
        self.not_passed(out);
        if !r.not_run.is_empty() {
            let _ = writeln!(
                out,
                "<h3>Not run ({}, --max-fail reached)</h3>\n<p class=\"not-run\">{}</p>",
                r.not_run.len(),
                r.not_run
                    .iter()
                    .map(|id| format!("<code>{}</code>", escape(id)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        out.push_str("</section>\n");
    }

    /// The list of cases and phases that did not pass, each linking to its section.
    fn not_passed(&self, out: &mut String) {
        let r = self.report;
        let mut rows: Vec<(Verdict, &str, String)> = r
            .cases
            .iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .map(|c| {
                (
                    c.verdict,
                    c.id.as_str(),
                    c.detail.clone().unwrap_or_default(),
                )
            })
            .collect();
        for row in r.phase_rows() {
            if row.verdict == Verdict::Pass {
                continue;
            }
            let id = if row.class == "random" {
                RANDOM_PHASE_ID
            } else {
                CONCURRENT_PHASE_ID
            };
            rows.push((row.verdict, id, row.detail));
        }
        if rows.is_empty() {
            out.push_str("<p>Every case and phase passed.</p>\n");
            return;
        }
        let _ = writeln!(
            out,
            "<h3>Did not pass ({})</h3>\n<ul class=\"not-passed\">",
            rows.len()
        );
        for (verdict, id, detail) in rows {
            let _ = writeln!(
                out,
                "<li>{} {} <span class=\"muted\">{}</span></li>",
                badge(verdict),
                self.link(id, &format!("<code>{}</code>", escape(id))),
                escape(&clip(&detail, DETAIL_CHARS_MAX, ""))
            );
        }
        out.push_str("</ul>\n");
    }

    /// Results by the specification's sections and requirement IDs.
    fn requirements(&self, out: &mut String) {
        out.push_str("<section id=\"requirements\">\n<h2>Results by requirement</h2>\n");
        let covering = |id: &str| -> Vec<&CaseReport> {
            self.report
                .cases
                .iter()
                .filter(|c| c.covers.iter().any(|x| x == id))
                .collect()
        };
        for section in &self.catalogue.sections {
            let (covered, uncovered): (Vec<&Requirement>, Vec<&Requirement>) = section
                .requirements
                .iter()
                .partition(|r| !covering(&r.id).is_empty());
            if covered.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "<h3 id=\"spec-{}\">§{} {}</h3>",
                escape(&section.number),
                escape(&section.number),
                escape(&section.title)
            );
            for requirement in covered {
                self.requirement(
                    out,
                    &requirement.id,
                    &inline_markdown(&requirement.text),
                    &requirement.grade,
                    &covering(&requirement.id),
                );
            }
            if !uncovered.is_empty() {
                let _ = writeln!(
                    out,
                    "<details class=\"uncovered muted\"><summary>{} more in §{} that no case of \
                     this run covers</summary>\n<ul>",
                    uncovered.len(),
                    escape(&section.number)
                );
                for requirement in uncovered {
                    let _ = writeln!(
                        out,
                        "<li><code>{}</code> {}</li>",
                        escape(&requirement.id),
                        inline_markdown(&short_text(&requirement.text))
                    );
                }
                out.push_str("</ul></details>\n");
            }
        }
        // IDs a case names that the specification does not (a stale `covers`).
        let unknown: BTreeSet<&str> = self
            .report
            .cases
            .iter()
            .flat_map(|c| c.covers.iter())
            .map(String::as_str)
            .filter(|id| self.catalogue.find(id).is_none())
            .collect();
        if !unknown.is_empty() {
            out.push_str("<h3 id=\"spec-unknown\">Not in docs/spec.md</h3>\n");
            for id in unknown {
                self.requirement(
                    out,
                    id,
                    "<span class=\"muted\">(the specification has no such ID)</span>",
                    "",
                    &covering(id),
                );
            }
        }
        out.push_str("</section>\n");
    }

    /// One requirement with its grade, level and the cases that cover it.
    fn requirement(
        &self,
        out: &mut String,
        id: &str,
        text: &str,
        grade: &str,
        cases: &[&CaseReport],
    ) {
        let mut levels: Vec<&str> = cases.iter().map(|c| c.level.as_str()).collect();
        let rank = |level: &str| match level {
            "MUST" => 0,
            "SHOULD" => 1,
            "UNSTATED" => 3,
            _ => 2,
        };
        levels.sort_by_key(|l| (rank(l), *l));
        levels.dedup();
        let grade = if grade.is_empty() {
            "not graded"
        } else {
            grade
        };
        let _ = writeln!(
            out,
            "<section class=\"requirement\" id=\"req-{}\">\n<h4><code>{}</code> \
             <span class=\"grade\" title=\"evidence grade\">{}</span> \
             <span class=\"level\" title=\"level of the cases\">{}</span></h4>\n<p>{text}</p>\n<ul>",
            escape(id),
            escape(id),
            escape(grade),
            escape(&levels.join(", "))
        );
        for case in cases {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{} <code>{}</code></a> {}</li>",
                escape(&case_anchor("", &case.id)),
                badge(case.verdict),
                escape(&case.id),
                escape(&case.title)
            );
        }
        out.push_str("</ul>\n</section>\n");
    }

    fn cases(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "<section id=\"cases\">\n<h2>Cases ({})</h2>\n<p class=\"muted\">Passing cases show \
             a compact transcript; the others show every exchange and how to reproduce them.</p>",
            self.report.cases.len()
        );
        for case in &self.report.cases {
            self.case(out, case);
        }
        out.push_str("</section>\n");
    }

    fn case(&self, out: &mut String, case: &CaseReport) {
        let class = verdict_class(case.verdict);
        let _ = writeln!(
            out,
            "<section class=\"case\" id=\"{}\" data-verdict=\"{class}\">\n<h3>{} <code>{}</code> \
             {}</h3>\n<p class=\"requirement-sentence\">{}</p>\n<dl class=\"facts\">",
            escape(&case_anchor("", &case.id)),
            badge(case.verdict),
            escape(&case.id),
            escape(&case.title),
            inline_markdown(&case.requirement)
        );
        let covers: Vec<String> = case
            .covers
            .iter()
            .map(|id| format!("<a href=\"#req-{}\">{}</a>", escape(id), escape(id)))
            .collect();
        let _ = writeln!(
            out,
            "<dt>level</dt><dd>{}</dd>\n<dt>covers</dt><dd>{}</dd>\n<dt>verdict</dt><dd>{}</dd>\n\
             <dt>duration</dt><dd>{:.1} ms</dd>",
            escape(&case.level),
            covers.join(" "),
            case.verdict.label(),
            case.duration_ms
        );
        if let Some(detail) = &case.detail {
            let _ = writeln!(out, "<dt>detail</dt><dd>{}</dd>", escape(detail));
        }
        if !case.ambiguities.is_empty() {
            let _ = writeln!(
                out,
                "<dt>alternatives</dt><dd>{}</dd>",
                self.ambiguity_links(&case.ambiguities)
            );
        }
        out.push_str("</dl>\n");
        if case.steps.is_empty() {
            let why = if case.verdict == Verdict::Pass {
                "Transcript not kept (a JSON report keeps only the transcripts of cases that did not pass)."
            } else {
                "No steps were recorded."
            };
            let _ = writeln!(out, "<p class=\"muted\">{why}</p>");
        } else if case.verdict == Verdict::Pass {
            self.compact_transcript(out, &case.id, &case.steps);
        } else {
            self.transcript(out, &case.id, &case.steps);
            let saved = saves(case).then(|| {
                (
                    self.closing.artifacts.case_replay(&case.id),
                    self.closing.artifacts.case_curl(&case.id),
                )
            });
            self.reproduction(out, &case.steps, saved);
        }
        out.push_str("</section>\n");
    }

    /// AMB- IDs linking to their profile rows (plain text for rows the profile lacks).
    fn ambiguity_links(&self, ids: &[String]) -> String {
        ids.iter()
            .map(|id| {
                if self.report.profile.iter().any(|e| &e.id == id) {
                    format!("<a href=\"#profile-{}\">{}</a>", escape(id), escape(id))
                } else {
                    escape(id)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A passing case's steps: operation, expected and actual, no exchanges.
    fn compact_transcript(&self, out: &mut String, id: &str, steps: &[Step]) {
        let _ = writeln!(
            out,
            "<details class=\"transcript\"><summary>transcript: {} step(s)</summary>\n\
             <ol class=\"transcript compact\">",
            steps.len()
        );
        for (i, step) in steps.iter().enumerate() {
            let (class, mark) = step_mark(&step.verdict);
            let _ = writeln!(
                out,
                "<li class=\"step compact {class}\" id=\"{}\"><span class=\"operation\">{}</span>\
                 <span class=\"step-verdict {class}\">{mark}</span>\n<div class=\"outcome\">\
                 <span>expected</span><code>{}</code><span>actual</span><code>{}</code></div></li>",
                escape(&step_anchor("", id, i + 1)),
                escape(&step.operation),
                escape(&clip(&step.expected, COMPACT_CHARS_MAX, "")),
                escape(&clip(&step.actual, COMPACT_CHARS_MAX, ""))
            );
        }
        out.push_str("</ol></details>\n");
    }

    /// Every step with its exchanges; AMB- IDs link to the profile.
    fn transcript(&self, out: &mut String, id: &str, steps: &[Step]) {
        transcript(out, "", id, steps, &|ids| self.ambiguity_links(ids));
    }

    /// The replay command (when the run saved a replay file) and the curl script.
    fn reproduction(
        &self,
        out: &mut String,
        steps: &[Step],
        saved: Option<(std::path::PathBuf, std::path::PathBuf)>,
    ) {
        out.push_str("<div class=\"reproduce\">\n<h4>Reproduce</h4>\n");
        if let Some((replay, _)) = &saved {
            let _ = writeln!(
                out,
                "<p>Replay against the endpoint:</p>\n<code class=\"command replay\">{}</code>",
                escape(&self.replay_command(replay))
            );
        }
        let saved_as = saved.as_ref().map_or_else(String::new, |(_, curl)| {
            format!(" (saved as {})", escape(&curl.display().to_string()))
        });
        // Scripts that send big bodies (the limit cases send megabytes) are not inlined:
        // rendering them costs more than the rest of the page, and the saved file has them.
        let body_bytes: usize = steps
            .iter()
            .flat_map(|s| &s.exchanges)
            .map(|e| e.request_body.len())
            .sum();
        if body_bytes > CURL_CHARS_MAX {
            let _ = writeln!(
                out,
                "<p class=\"curl muted\">The curl script sends {} KiB of request bodies, too much \
                 to show here{saved_as}.</p>",
                body_bytes / 1024
            );
        } else {
            let _ = writeln!(
                out,
                "<details class=\"curl\"><summary>curl script{saved_as}</summary>\n\
                 <pre class=\"curl\">{}</pre></details>",
                escape(&curl_script(steps))
            );
        }
        out.push_str("</div>\n");
    }

    fn random(&self, out: &mut String, random: &RandomReport) {
        let _ = writeln!(
            out,
            "<section class=\"case phase\" id=\"{}\" data-verdict=\"{}\">\n<h2>{} Random phase \
             <code>{RANDOM_PHASE_ID}</code></h2>\n<dl class=\"facts\">",
            escape(&case_anchor("", RANDOM_PHASE_ID)),
            verdict_class(random.verdict),
            badge(random.verdict)
        );
        let c = &random.coverage;
        let mut facts = vec![
            ("seed", random.seed.to_string()),
            ("sequences", random.sequences.to_string()),
            ("operations", c.operations.to_string()),
            ("conflicts", c.conflicts.to_string()),
            ("tombstones", c.tombstones.to_string()),
            ("multi-page lists", c.multi_page_lists.to_string()),
            ("elapsed", duration(random.elapsed_ms)),
            (
                "throughput",
                format!("{:.0} operations/s", random.operations_per_sec),
            ),
        ];
        if let Some(ms) = random.first_failure_ms {
            facts.push(("first failure after", format!("{ms:.0} ms")));
        }
        for (term, value) in facts {
            let _ = writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(&value));
        }
        if !random.ambiguities.is_empty() {
            let _ = writeln!(
                out,
                "<dt>alternatives</dt><dd>{}</dd>",
                self.ambiguity_links(&random.ambiguities)
            );
        }
        // Why it did not pass, worded as the other reports word it.
        if let Some(row) = self
            .report
            .phase_rows()
            .into_iter()
            .find(|row| row.class == "random" && !row.detail.is_empty())
        {
            let _ = writeln!(out, "<dt>detail</dt><dd>{}</dd>", escape(&row.detail));
        }
        out.push_str("</dl>\n");
        if let Some(failure) = &random.failure {
            let _ = writeln!(
                out,
                "<h3>Shrunk sequence</h3>\n<p>Sequence {} of seed {}, shrunk to {} step(s) from {}: \
                 {}</p>",
                failure.index,
                self.report.seed,
                failure.actions.len(),
                failure.original_len,
                escape(&failure.reason)
            );
            self.transcript(out, RANDOM_PHASE_ID, &failure.steps);
            let artifacts = &self.closing.artifacts;
            self.reproduction(
                out,
                &failure.steps,
                Some((
                    artifacts.random_replay(self.report.seed),
                    artifacts.random_curl(self.report.seed),
                )),
            );
        }
        out.push_str("</section>\n");
    }

    fn concurrent(&self, out: &mut String, concurrent: &ConcurrentReport) {
        let _ = writeln!(
            out,
            "<section class=\"case phase\" id=\"{}\" data-verdict=\"{}\">\n<h2>{} Concurrent \
             phase <code>{CONCURRENT_PHASE_ID}</code></h2>\n<dl class=\"facts\">",
            escape(&case_anchor("", CONCURRENT_PHASE_ID)),
            verdict_class(concurrent.verdict),
            badge(concurrent.verdict)
        );
        let rounds = if concurrent.rounds_run < concurrent.rounds {
            format!("{} of {}", concurrent.rounds_run, concurrent.rounds)
        } else {
            concurrent.rounds.to_string()
        };
        let facts = [
            ("devices", concurrent.devices.to_string()),
            ("rounds", rounds),
            ("unknown rounds", concurrent.unknown_rounds.to_string()),
            ("operations", concurrent.operations.to_string()),
            ("conflicts", concurrent.conflicts.to_string()),
            ("indeterminate", concurrent.indeterminate.to_string()),
            ("elapsed", duration(concurrent.elapsed_ms)),
            (
                "linearizability checked in",
                format!("{:.0} ms", concurrent.check_ms),
            ),
        ];
        for (term, value) in facts {
            let _ = writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(&value));
        }
        if let Some(detail) = &concurrent.detail {
            let _ = writeln!(out, "<dt>detail</dt><dd>{}</dd>", escape(detail));
        }
        out.push_str("</dl>\n");
        if let Some(violation) = &concurrent.violation {
            let (json, _) = self.closing.artifacts.concurrent_history(self.report.seed);
            let _ = writeln!(
                out,
                "<h3>Not linearizable: {} operations on {} devices</h3>\n<p>No order of these \
                 operations explains every answer; the bars outlined in red cannot come next. \
                 History saved as <code>{}</code> (a race is not replayable; re-run the phase \
                 with the same seed).</p>",
                violation.operations,
                violation.devices,
                escape(&json.display().to_string())
            );
            round(out, violation, "the violation", true);
        }
        if let Some(example) = &concurrent.example {
            let _ = writeln!(
                out,
                "<h3>A passing round: {} operations on {} devices</h3>",
                example.operations, example.devices
            );
            round(out, example, "a passing round", false);
        }
        out.push_str("</section>\n");
    }

    fn profile(&self, out: &mut String) {
        if self.report.profile.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"ambiguity-profile\">\n<h2>Ambiguity profile</h2>\n<p class=\"muted\">\
             Which allowed outcome the endpoint chose on every open point of the specification \
             (§8).</p>\n<table id=\"profile\">\n<thead><tr><th>row</th><th>situation and \
             allowed outcomes</th><th>choice</th><th>observed</th><th>shown by</th></tr></thead>\n\
             <tbody>\n",
        );
        for entry in &self.report.profile {
            self.profile_row(out, entry);
        }
        out.push_str("</tbody></table>\n</section>\n");
    }

    fn profile_row(&self, out: &mut String, entry: &ProfileEntry) {
        let text = self
            .catalogue
            .find(&entry.id)
            .map_or_else(String::new, |(_, r)| inline_markdown(&short_text(&r.text)));
        let shown_by = match (&entry.case, entry.step) {
            (Some(case), step) => {
                let step_link = step
                    .map(|n| step_anchor("", case, n))
                    .filter(|a| self.anchors.contains(a));
                match step_link {
                    Some(anchor) => format!(
                        "<a href=\"#{}\"><code>{}</code> step {}</a>",
                        escape(&anchor),
                        escape(case),
                        step.unwrap_or(0)
                    ),
                    None => self.link(case, &format!("<code>{}</code>", escape(case))),
                }
            }
            (None, _) => String::new(),
        };
        let slug = choice_slug(entry.choice);
        let _ = writeln!(
            out,
            "<tr id=\"profile-{}\" data-choice=\"{slug}\"><td><code>{}</code></td><td>{text}</td>\
             <td class=\"choice\">{}</td><td>{}</td><td>{shown_by}</td></tr>",
            escape(&entry.id),
            escape(&entry.id),
            entry.choice.label(),
            entry
                .observed
                .as_ref()
                .map_or_else(String::new, |o| format!("<code>{}</code>", escape(o)))
        );
    }
}

/// A step verdict's class and its short mark.
fn step_mark(verdict: &StepVerdict) -> (&'static str, &'static str) {
    match verdict {
        StepVerdict::Reference => ("reference", "ok"),
        StepVerdict::NonStrict { .. } => ("non-strict", "non-strict"),
        StepVerdict::Mismatch { .. } => ("mismatch", "mismatch"),
        StepVerdict::Trouble { .. } => ("trouble", "trouble"),
    }
}

/// One request and its answer: method, URL, headers and body; status, headers and body.
fn exchange_html(out: &mut String, exchange: &Exchange, open: bool) {
    let status = exchange
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    let _ = writeln!(
        out,
        "<details class=\"exchange\"{}><summary><code>{} {}</code> → {status} ({:.1} ms)</summary>\
         \n<div class=\"http\">",
        if open { " open" } else { "" },
        escape(&exchange.method),
        escape(path_of(&exchange.url)),
        exchange.elapsed_ms
    );
    let mut request = format!("{} {}\n", exchange.method, exchange.url);
    for (name, value) in &exchange.request_headers {
        let _ = writeln!(request, "{name}: {value}");
    }
    if !exchange.request_body.is_empty() {
        request.push('\n');
        if exchange.request_body_base64.is_some() {
            request.push_str("(not UTF-8; shown lossily, the curl script sends the exact bytes)\n");
        }
        request.push_str(&clip(
            &exchange.request_body,
            BODY_CHARS_MAX,
            "; the curl script sends all of it",
        ));
    }
    let mut response = match exchange.status {
        Some(status) => format!("HTTP {status}\n"),
        None => "no answer\n".to_owned(),
    };
    for (name, value) in &exchange.response_headers {
        let _ = writeln!(response, "{name}: {value}");
    }
    if !exchange.response_body.is_empty() {
        response.push('\n');
        response.push_str(&clip(&exchange.response_body, BODY_CHARS_MAX, ""));
    }
    let _ = writeln!(
        out,
        "<pre class=\"request\">{}</pre><pre class=\"response\">{}</pre></div></details>",
        escape(&request),
        escape(&response)
    );
}

/// Every step of a transcript with its exchanges; the first step that went wrong is marked
/// and open. Anchors carry `prefix` (a page of several runs tells them apart with it);
/// `ambiguity_links` renders the AMB- IDs of a NON-STRICT step.
pub fn transcript(
    out: &mut String,
    prefix: &str,
    id: &str,
    steps: &[Step],
    ambiguity_links: &dyn Fn(&[String]) -> String,
) {
    let first = steps.iter().position(|s| {
        matches!(
            s.verdict,
            StepVerdict::Mismatch { .. } | StepVerdict::Trouble { .. }
        )
    });
    let _ = writeln!(
        out,
        "<details class=\"transcript\" open><summary>transcript: {} step(s)</summary>\n\
         <ol class=\"transcript\">",
        steps.len()
    );
    for (i, step) in steps.iter().enumerate() {
        let (class, mark) = step_mark(&step.verdict);
        let is_first = first == Some(i);
        let _ = writeln!(
            out,
            "<li class=\"step {class}{}\" id=\"{}\"><span class=\"operation\">{}</span>\
             <span class=\"step-verdict {class}\">{mark}</span>\n<div class=\"outcome\">\
             <span>expected</span><pre>{}</pre><span>actual</span><pre>{}</pre></div>",
            if is_first { " first-difference" } else { "" },
            escape(&step_anchor(prefix, id, i + 1)),
            escape(&step.operation),
            escape(&clip(&step.expected, OUTCOME_CHARS_MAX, "")),
            escape(&clip(&step.actual, OUTCOME_CHARS_MAX, ""))
        );
        match &step.verdict {
            StepVerdict::Mismatch { first_difference } => {
                let _ = writeln!(
                    out,
                    "<p class=\"difference\">first difference: {}</p>",
                    escape(first_difference)
                );
            }
            StepVerdict::Trouble { trouble } => {
                let _ = writeln!(
                    out,
                    "<p class=\"difference\">endpoint trouble: {}</p>",
                    escape(trouble)
                );
            }
            StepVerdict::NonStrict { ambiguities } => {
                let _ = writeln!(
                    out,
                    "<p class=\"allowed\">allowed, not the reference outcome: {}</p>",
                    ambiguity_links(ambiguities)
                );
            }
            StepVerdict::Reference => {}
        }
        for exchange in &step.exchanges {
            exchange_html(out, exchange, is_first);
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol></details>\n");
}

/// A round's timeline and its operations in a table (with calls and answers for a violation).
fn round(out: &mut String, round: &RoundHistory, caption: &str, full: bool) {
    out.push_str(&svg::timeline(&round.history, caption));
    let ops: Vec<(svg::HistoryEntry, &serde_json::Value)> = round
        .history
        .as_array()
        .map(|ops| {
            ops.iter()
                .filter_map(|op| Some((svg::entry(op)?, op)))
                .collect()
        })
        .unwrap_or_default();
    let start = ops.iter().map(|(e, _)| e.invoke_ns).min().unwrap_or(0);
    let _ = writeln!(
        out,
        "<details class=\"operations\"{}><summary>the {} operations</summary>\n<table class=\"ops\">\
         <thead><tr><th>#</th><th>device</th><th>from (ms)</th><th>to (ms)</th><th>operation</th><th>status</th>\
         <th>stuck</th>{}</tr></thead>\n<tbody>",
        if full { " open" } else { "" },
        ops.len(),
        if full { "<th>call and answer</th>" } else { "" }
    );
    for (n, (entry, op)) in ops.iter().enumerate() {
        let ms = |ns: u64| format!("{:.3}", ns.saturating_sub(start) as f64 / 1e6);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>",
            n + 1,
            entry.device,
            ms(entry.invoke_ns),
            entry.complete_ns.map_or_else(|| "no answer".to_owned(), ms),
            escape(&entry.operation),
            entry
                .status
                .map_or_else(|| "–".to_owned(), |s| s.to_string()),
            if entry.stuck { "stuck" } else { "" }
        );
        if full {
            let field = |name: &str| {
                op.get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let _ = write!(
                out,
                "<td><details><summary>call and answer</summary><pre>{}\n→ {}</pre></details></td>",
                escape(&field("call")),
                escape(&field("answer"))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></details>\n");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::report::artifacts::Artifacts;
    use crate::suite::machine::{Action, Coverage, Failure};

    fn exchange(status: Option<u16>, request_body: &str, response_body: &str) -> Exchange {
        Exchange {
            method: "POST".to_owned(),
            url:
                "http://127.0.0.1:9/identitypools/us-east-1%3Aa/identities/us-east-1%3Ab/datasets/d"
                    .to_owned(),
            request_headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            request_body: request_body.to_owned(),
            request_body_base64: None,
            status,
            response_headers: vec![("x-amzn-requestid".to_owned(), "r-1".to_owned())],
            response_body: response_body.to_owned(),
            elapsed_ms: 1.5,
        }
    }

    fn step(operation: &str, verdict: StepVerdict, exchanges: Vec<Exchange>) -> Step {
        Step {
            operation: operation.to_owned(),
            exchanges,
            expected: "200 Records=[k@1]".to_owned(),
            actual: "200 Records=[k@1=\"v\"]".to_owned(),
            verdict,
        }
    }

    fn case(id: &str, covers: &[&str], verdict: Verdict, steps: Vec<Step>) -> CaseReport {
        CaseReport {
            id: id.to_owned(),
            title: format!("title of {id}"),
            requirement: "A requirement sentence.".to_owned(),
            level: if verdict == Verdict::NonStrict {
                "SHOULD"
            } else {
                "MUST"
            }
            .to_owned(),
            covers: covers.iter().map(|c| (*c).to_owned()).collect(),
            verdict,
            detail: (verdict != Verdict::Pass).then(|| format!("why {id} did not pass")),
            ambiguities: Vec::new(),
            duration_ms: 2.0,
            steps,
        }
    }

    fn history_op(
        device: u64,
        span: (u64, Option<u64>),
        operation: &str,
        status: Option<u64>,
        stuck: bool,
    ) -> serde_json::Value {
        serde_json::json!({
            "device": device, "lane": device, "invoke_ns": span.0, "complete_ns": span.1,
            "operation": operation, "call": "UpdateRecords {..}", "answer": null,
            "status": status, "stuck": stuck,
        })
    }

    /// A small fixed run: a pass, a failure with exchanges (one carrying hostile text), a
    /// NON-STRICT case, a failed random phase and a concurrent phase with an example round.
    fn fixture() -> (RunReport, Closing) {
        let mut report = RunReport::new("http://127.0.0.1:9", 0xabc, 42, false, 0.0);
        report.elapsed_ms = 1234.0;
        report.version = "[version]".to_owned();
        report.name = Some("reference <server>".to_owned());
        report.not_run = vec!["list-records.later".to_owned()];
        report.cases = vec![
            case(
                "update-records.first-write.creates-dataset",
                &["DATA-1", "UR-1"],
                Verdict::Pass,
                vec![step(
                    "UpdateRecords",
                    StepVerdict::Reference,
                    vec![exchange(Some(200), "{}", "{}")],
                )],
            ),
            case(
                "update-records.sync-count.stale-rejected",
                &["UR-2"],
                Verdict::Fail,
                vec![
                    step(
                        "UpdateRecords",
                        StepVerdict::Reference,
                        vec![exchange(
                            Some(200),
                            r#"{"Key":"<script>alert(1)</script>"}"#,
                            "{}",
                        )],
                    ),
                    step(
                        "UpdateRecords",
                        StepVerdict::Mismatch {
                            first_difference: "status: expected 409, got 200".to_owned(),
                        },
                        vec![exchange(
                            Some(200),
                            r#"{"SyncCount":1}"#,
                            r#"{"Records":[]}"#,
                        )],
                    ),
                    step(
                        "ListRecords",
                        StepVerdict::Trouble {
                            trouble: "no answer in 10 s".to_owned(),
                        },
                        vec![exchange(None, "", "")],
                    ),
                ],
            ),
            case(
                "ambiguity.dup-key",
                &["AMB-DUP-KEY", "UR-3", "NOPE-1"],
                Verdict::NonStrict,
                vec![step(
                    "UpdateRecords",
                    StepVerdict::NonStrict {
                        ambiguities: vec!["AMB-DUP-KEY".to_owned()],
                    },
                    vec![exchange(
                        Some(400),
                        "{}",
                        r#"{"__type":"ValidationException"}"#,
                    )],
                )],
            ),
        ];
        report.random = Some(RandomReport {
            seed: 42,
            verdict: Verdict::Fail,
            sequences: 30,
            coverage: Coverage {
                operations: 120,
                conflicts: 7,
                tombstones: 3,
                multi_page_lists: 2,
            },
            elapsed_ms: 500.0,
            operations_per_sec: 240.0,
            ambiguities: Vec::new(),
            vacuous: None,
            failure: Some(Failure {
                index: 4,
                reason: "stale write accepted".to_owned(),
                original_len: 17,
                actions: vec![Action::Delete {
                    identity: 0,
                    dataset: 0,
                }],
                steps: vec![step(
                    "UpdateRecords",
                    StepVerdict::Mismatch {
                        first_difference: "status: expected 409, got 200".to_owned(),
                    },
                    vec![exchange(Some(200), "{}", "{}")],
                )],
            }),
            first_failure_ms: Some(12.0),
        });
        let example = RoundHistory {
            devices: 2,
            operations: 4,
            ops: Vec::new(),
            stuck: Vec::new(),
            timeline: String::new(),
            edn: String::new(),
            history: serde_json::json!([
                history_op(
                    0,
                    (0, Some(1_000_000)),
                    "list(>0)→0 recs, count 0",
                    Some(200),
                    false
                ),
                history_op(
                    1,
                    (200_000, Some(1_500_000)),
                    "write[k@0=a]→409",
                    Some(409),
                    false
                ),
                history_op(0, (1_100_000, None), "write[k@0=b]→?", None, false),
                history_op(
                    1,
                    (1_600_000, Some(2_000_000)),
                    "write[k@1=<b>]→ok",
                    Some(200),
                    true
                ),
            ]),
        };
        report.concurrent = Some(ConcurrentReport {
            verdict: Verdict::Pass,
            devices: 2,
            rounds: 1,
            rounds_run: 1,
            unknown_rounds: 0,
            detail: None,
            operations: 4,
            conflicts: 1,
            indeterminate: 1,
            elapsed_ms: 3.0,
            check_ms: 0.5,
            violation: None,
            example: Some(example),
            first_failure_ms: None,
        });
        report.tally();
        let closing = Closing {
            artifacts: Artifacts {
                dir: PathBuf::from("failures"),
            },
            endpoint_flag: " --endpoint http://127.0.0.1:9".to_owned(),
            partition_flag: String::new(),
            json: None,
            pacing: None,
        };
        (report, closing)
    }

    /// The values of `attribute="…"` in `html`.
    fn attributes<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
        let needle = format!(" {attribute}=\"");
        html.match_indices(&needle)
            .map(|(i, _)| {
                let rest = &html[i + needle.len()..];
                &rest[..rest.find('"').unwrap_or(0)]
            })
            .collect()
    }

    #[test]
    fn every_link_in_the_page_has_its_target() {
        let (report, closing) = fixture();
        let html = render(&report, &closing);
        let ids: BTreeSet<&str> = attributes(&html, "id").into_iter().collect();
        let links = attributes(&html, "href");
        assert!(links.len() > 10, "{links:?}");
        for link in links {
            let target = link.strip_prefix('#').expect("only links within the page");
            assert!(ids.contains(target), "#{target} has no element");
        }
        assert_eq!(ids.len(), attributes(&html, "id").len(), "ids are unique");
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let (mut report, closing) = fixture();
        report.cases[1].title = "<img src=x onerror=alert(1)>".to_owned();
        let html = render(&report, &closing);
        assert!(
            !html.contains("<script>"),
            "a key from a transcript became markup"
        );
        assert!(!html.contains("<img"), "a title became markup");
        assert!(!html.contains("<server>"), "the run's name became markup");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            html.contains("k@1=&lt;b&gt;"),
            "an operation label in the timeline"
        );
    }

    #[test]
    fn only_the_first_step_that_went_wrong_is_the_first_difference() {
        let (report, closing) = fixture();
        let html = render(&report, &closing);
        assert_eq!(
            html.matches("first-difference\"").count(),
            2,
            "the case and the random phase"
        );
        assert!(html.contains(
            "<li class=\"step mismatch first-difference\" \
             id=\"case-update-records.sync-count.stale-rejected-step-2\">"
        ));
        assert!(html.contains(
            "<li class=\"step trouble\" id=\"case-update-records.sync-count.stale-rejected-step-3\">"
        ));
        assert!(html.contains(
            "cogsync replay failures/update-records.sync-count.stale-rejected.json --endpoint \
             http://127.0.0.1:9"
        ));
        assert!(html.contains("cogsync replay failures/random-42.json --endpoint"));
        assert!(html.contains("<pre class=\"curl\">"));
    }

    #[test]
    fn the_profile_links_to_the_step_that_showed_an_alternative() {
        let (report, closing) = fixture();
        let html = render(&report, &closing);
        assert!(html.contains("<tr id=\"profile-AMB-DUP-KEY\" data-choice=\"alternative\">"));
        assert!(html.contains("<a href=\"#case-ambiguity.dup-key-step-1\">"));
        assert_eq!(
            html.matches("<tr id=\"profile-").count(),
            report.profile.len()
        );
    }

    #[test]
    fn a_report_read_back_from_json_says_passing_transcripts_are_not_kept() {
        let (report, closing) = fixture();
        let back: RunReport = serde_json::from_str(&report.to_json()).expect("reads back");
        let html = render(&back, &closing);
        assert!(html.contains("Transcript not kept"));
        assert!(!html.contains("id=\"case-update-records.first-write.creates-dataset-step-1\""));
        assert!(
            html.contains("data-devices=\"2\""),
            "the timeline is drawn from the JSON history"
        );
    }

    #[test]
    fn requirement_text_keeps_code_and_emphasis() {
        assert_eq!(
            inline_markdown("a `<b>` is **not** *the* `x"),
            "a <code>&lt;b&gt;</code> is <strong>not</strong> <em>the</em> `x"
        );
    }

    #[test]
    fn the_page_of_a_small_fixed_run() {
        let (report, closing) = fixture();
        let html = render(&report, &closing);
        let body = &html[html.find("<body>").unwrap_or(0)..];
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!("report_html_fixed", body);
        });
    }
}
