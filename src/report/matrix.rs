//! `cogsync matrix`: several endpoints' runs side by side, one column per endpoint and one row
//! per case, grouped under the specification's requirements (as Autobahn's test-suite report
//! sets WebSocket implementations side by side). HTML, where every cell links to that
//! endpoint's transcript on the same page, and GitHub-flavoured Markdown.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::html;
use super::markup::{self, VERDICTS, escape, verdict_class};
use super::profile::ProfileEntry;
use super::{CONCURRENT_ROW, RANDOM_ROW, Row, RunReport};
use crate::spec::catalogue::Catalogue;
use crate::suite::verdict::{Step, Verdict};

/// The longest requirement text shown in a heading row; the specification has the rest.
const REQUIREMENT_CHARS_MAX: usize = 140;

/// One report of the matrix and what its column is called.
#[derive(Debug, Clone)]
pub struct Column {
    pub report: RunReport,
    /// The file it was read from (its name), shown in the header and used to tell apart
    /// columns that would otherwise have one name.
    pub source: String,
    /// The column's heading: the report's `display_name()`, with the file name when another
    /// column has the same one.
    pub label: String,
}

/// The columns of `reports` (file name, report) in argument order, each with a label no other
/// column has.
pub fn columns(reports: Vec<(String, RunReport)>) -> Vec<Column> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (_, report) in &reports {
        *seen.entry(report.display_name().to_owned()).or_default() += 1;
    }
    let mut taken: HashSet<String> = HashSet::new();
    reports
        .into_iter()
        .enumerate()
        .map(|(i, (source, report))| {
            let name = report.display_name();
            let mut label = if seen.get(name).copied().unwrap_or(0) > 1 {
                format!("{name} ({source})")
            } else {
                name.to_owned()
            };
            // Two files of one name in different directories: the column number decides.
            if taken.contains(&label) {
                label = format!("{label} #{}", i + 1);
            }
            taken.insert(label.clone());
            Column {
                report,
                source,
                label,
            }
        })
        .collect()
}

/// The matrix's rows under one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementRows {
    /// `UR-2`; the first ID a case covers even when the catalogue does not know it.
    pub id: String,
    /// Its evidence grade (`DOC, FIELD`, `AMB`), empty when none or unknown.
    pub grade: String,
    /// Its text, shortened, without Markdown emphasis.
    pub text: String,
    /// Case IDs, in the order the first report that has each lists them.
    pub cases: Vec<String>,
}

/// The matrix's rows under one section of the specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRows {
    /// `2`; empty for cases whose requirement the catalogue does not list.
    pub number: String,
    pub title: String,
    pub requirements: Vec<RequirementRows>,
}

/// Every row of the matrix: the named cases by requirement, then the phases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    pub sections: Vec<SectionRows>,
    /// `random.sequences` and `concurrent.linearizability`, those that any report ran.
    pub phases: Vec<String>,
}

impl Grouping {
    /// Every row's ID, in the order of the table.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .flat_map(|s| s.requirements.iter())
            .flat_map(|r| r.cases.iter())
            .chain(self.phases.iter())
            .map(String::as_str)
    }
}

/// Groups the union of the reports' cases by the first requirement each covers, under the
/// catalogue's sections in the specification's order; cases whose requirement the catalogue
/// does not list (or that cover none) come last, under a section of their own.
pub fn group(reports: &[&RunReport], catalogue: &Catalogue) -> Grouping {
    // Requirement ID → its cases, each case once, in first-seen order.
    let mut by_requirement: Vec<(String, Vec<String>)> = Vec::new();
    let mut placed: HashSet<&str> = HashSet::new();
    for case in reports.iter().flat_map(|r| r.cases.iter()) {
        if !placed.insert(case.id.as_str()) {
            continue;
        }
        let requirement = case.covers.first().cloned().unwrap_or_default();
        match by_requirement.iter_mut().find(|(id, _)| *id == requirement) {
            Some((_, cases)) => cases.push(case.id.clone()),
            None => by_requirement.push((requirement, vec![case.id.clone()])),
        }
    }
    let mut sections: Vec<SectionRows> = catalogue
        .sections
        .iter()
        .map(|section| SectionRows {
            number: section.number.clone(),
            title: section.title.clone(),
            requirements: section
                .requirements
                .iter()
                .filter_map(|requirement| {
                    let at = by_requirement
                        .iter()
                        .position(|(id, _)| *id == requirement.id)?;
                    let (id, cases) = by_requirement.remove(at);
                    Some(RequirementRows {
                        id,
                        grade: requirement.grade.clone(),
                        text: shorten(&plain(&requirement.text), REQUIREMENT_CHARS_MAX),
                        cases,
                    })
                })
                .collect(),
        })
        .filter(|s| !s.requirements.is_empty())
        .collect();
    if !by_requirement.is_empty() {
        sections.push(SectionRows {
            number: String::new(),
            title: "Not in the specification's catalogue".to_owned(),
            requirements: by_requirement
                .into_iter()
                .map(|(id, cases)| RequirementRows {
                    text: if id.is_empty() {
                        "cases that name no requirement".to_owned()
                    } else {
                        "a requirement this version's docs/spec.md does not list".to_owned()
                    },
                    id,
                    grade: String::new(),
                    cases,
                })
                .collect(),
        });
    }
    let phases = [
        (RANDOM_ROW, reports.iter().any(|r| r.random.is_some())),
        (
            CONCURRENT_ROW,
            reports.iter().any(|r| r.concurrent.is_some()),
        ),
    ]
    .into_iter()
    .filter(|(_, ran)| *ran)
    .map(|(id, _)| id.to_owned())
    .collect();
    Grouping { sections, phases }
}

/// A requirement's Markdown without emphasis and code marks, which a shortened text could
/// leave unbalanced.
fn plain(text: &str) -> String {
    text.replace(['*', '`'], "")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let cut: String = text.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    } else {
        text.to_owned()
    }
}

/// What one column says about one row: its verdict and detail, or that it lacks the row.
struct Cell<'a> {
    row: Option<&'a Row>,
    /// The report lists the case as selected but never started (`--max-fail`).
    not_run: bool,
}

/// One column's rows by ID, computed once.
struct Lookup<'a> {
    column: &'a Column,
    rows: HashMap<String, Row>,
}

impl<'a> Lookup<'a> {
    fn new(column: &'a Column) -> Lookup<'a> {
        let rows = column
            .report
            .rows()
            .into_iter()
            .map(|row| (row.name.clone(), row))
            .collect();
        Lookup { column, rows }
    }

    fn cell(&self, id: &str) -> Cell<'_> {
        Cell {
            row: self.rows.get(id),
            not_run: self.column.report.not_run.iter().any(|n| n == id),
        }
    }
}

/// The profile rows of all columns: AMB IDs in the first report's order, then any others.
fn profile_ids(columns: &[Column]) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for entry in columns.iter().flat_map(|c| c.report.profile.iter()) {
        if !ids.contains(&entry.id.as_str()) {
            ids.push(&entry.id);
        }
    }
    ids
}

fn profile_entry<'a>(column: &'a Column, id: &str) -> Option<&'a ProfileEntry> {
    column.report.profile.iter().find(|e| e.id == id)
}

/// The matrix page: the table, the summary counts, the profiles, then each endpoint's
/// transcripts (the targets of the cells' links).
pub fn html(columns: &[Column], catalogue: &Catalogue) -> String {
    let reports: Vec<&RunReport> = columns.iter().map(|c| &c.report).collect();
    let grouping = group(&reports, catalogue);
    let lookups: Vec<Lookup<'_>> = columns.iter().map(Lookup::new).collect();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>cogsync matrix: {} endpoint{}</h1>\n<p class=\"muted\">Each cell is one endpoint's \
         verdict on one case and links to its transcript below. Rows are grouped by the first \
         requirement of docs/spec.md that each case covers.</p>\n",
        columns.len(),
        if columns.len() == 1 { "" } else { "s" }
    );
    matrix_table(&mut body, columns, &lookups, &grouping);
    profile_table(&mut body, columns, catalogue);
    for (i, column) in columns.iter().enumerate() {
        endpoint_section(&mut body, i + 1, column, &grouping);
    }
    // The run report's sheet too: transcripts and timelines are drawn as it draws them.
    let style = format!("{}{}{MATRIX_STYLE}", html::STYLE, html::svg::STYLE);
    markup::page("cogsync matrix", &style, &body)
}

/// What the matrix page adds to the shared style sheet.
const MATRIX_STYLE: &str = r#"
#matrix th.endpoint { white-space: nowrap; }
#matrix td.cell { text-align: center; white-space: nowrap; font-size: 12px; font-weight: 600; }
#matrix td.cell a { text-decoration: none; display: block; }
#matrix tr.section-row th { background: #ddf4ff; font-size: 1rem; padding-top: .5rem; }
#matrix tr.requirement-row th { background: var(--soft); font-weight: normal; }
#matrix tr.case-row th { font-weight: normal; }
#matrix tr.endpoint-meta td, #matrix tr.endpoint-meta th { font-weight: normal; font-size: 11px; }
#matrix tfoot th, #matrix tfoot td { font-weight: 600; }
.grade { font-size: 11px; border: 1px solid var(--line); border-radius: 3px; padding: 0 .3em; }
#matrix-profile td[data-choice="alternative"], #matrix-profile td[data-choice="mixed"] {
  background: #fff8c5; }
#matrix-profile td[data-choice="failed"] { background: #ffebe9; }
#matrix-profile td[data-choice="not-observed"] { color: #57606a; }
#matrix-profile small { display: block; font-weight: normal; }
section.endpoint { margin-top: 3rem; }
section.case { border-top: 1px solid var(--line); padding: .25rem 0 .5rem; }
"#;

fn matrix_table(out: &mut String, columns: &[Column], lookups: &[Lookup<'_>], grouping: &Grouping) {
    let span = columns.len() + 1;
    out.push_str("<table id=\"matrix\">\n<thead>\n<tr><th>Case</th>");
    for (i, column) in columns.iter().enumerate() {
        let r = &column.report;
        let _ = write!(
            out,
            "<th class=\"endpoint\" data-endpoint=\"{col}\" title=\"{tip}\"><a href=\"#e{col}\">{}</a></th>",
            escape(&column.label),
            col = i + 1,
            tip = escape(&format!(
                "{} · seed {} · {} · {}",
                r.endpoint, r.seed, r.started_at, column.source
            )),
        );
    }
    out.push_str(
        "</tr>\n<tr class=\"endpoint-meta\"><th class=\"muted\">endpoint, seed, started</th>",
    );
    for column in columns {
        let r = &column.report;
        let _ = write!(
            out,
            "<td class=\"muted\">{}<br>seed {}<br>{}</td>",
            escape(&r.endpoint),
            r.seed,
            escape(&r.started_at)
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for section in &grouping.sections {
        let number = if section.number.is_empty() {
            String::new()
        } else {
            format!("§{} ", section.number)
        };
        let _ = writeln!(
            out,
            "<tr class=\"section-row\"><th colspan=\"{span}\">{}{}</th></tr>",
            escape(&number),
            escape(&section.title)
        );
        for requirement in &section.requirements {
            let grade = if requirement.grade.is_empty() {
                String::new()
            } else {
                format!(
                    " <span class=\"grade\">{}</span>",
                    escape(&requirement.grade)
                )
            };
            let _ = writeln!(
                out,
                "<tr class=\"requirement-row\" data-requirement=\"{id}\"><th colspan=\"{span}\">\
                 <code>{id}</code>{grade} {}</th></tr>",
                escape(&requirement.text),
                id = escape(&requirement.id),
            );
            for id in &requirement.cases {
                case_row(out, id, lookups);
            }
        }
    }
    if !grouping.phases.is_empty() {
        let _ = writeln!(
            out,
            "<tr class=\"section-row\"><th colspan=\"{span}\">Phases: random sequences and \
             concurrent rounds checked against the model</th></tr>"
        );
        for id in &grouping.phases {
            case_row(out, id, lookups);
        }
    }
    out.push_str("</tbody>\n<tfoot>\n");
    for verdict in VERDICTS {
        let class = verdict_class(verdict);
        let _ = write!(
            out,
            "<tr class=\"count-row\" data-verdict=\"{class}\"><th>{}</th>",
            verdict.label()
        );
        for (i, column) in columns.iter().enumerate() {
            let _ = write!(
                out,
                "<td id=\"e{}-count-{class}\">{}</td>",
                i + 1,
                column.report.summary.count(verdict)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("<tr class=\"count-row\" data-verdict=\"not-run\"><th>not run</th>");
    for column in columns {
        let _ = write!(out, "<td>{}</td>", column.report.not_run.len());
    }
    out.push_str("</tr>\n</tfoot>\n</table>\n");
}

fn case_row(out: &mut String, id: &str, lookups: &[Lookup<'_>]) {
    let _ = write!(
        out,
        "<tr class=\"case-row\" data-case=\"{id}\"><th><code>{id}</code></th>",
        id = escape(id)
    );
    for (i, lookup) in lookups.iter().enumerate() {
        let cell = lookup.cell(id);
        match cell.row {
            Some(row) => {
                let class = verdict_class(row.verdict);
                let _ = write!(
                    out,
                    "<td class=\"cell {class}\" data-verdict=\"{class}\" title=\"{}\">\
                     <a href=\"#{}\">{}</a></td>",
                    escape(&row.detail),
                    escape(&markup::case_anchor(&format!("e{}-", i + 1), id)),
                    row.verdict.label()
                );
            }
            None => {
                let text = if cell.not_run { "not run" } else { "—" };
                let _ = write!(out, "<td class=\"cell absent\">{text}</td>");
            }
        }
    }
    out.push_str("</tr>\n");
}

fn profile_table(out: &mut String, columns: &[Column], catalogue: &Catalogue) {
    let ids = profile_ids(columns);
    out.push_str(
        "<h2>Ambiguity profiles</h2>\n<p class=\"muted\">Which allowed outcome each endpoint \
         chose on every AMB- row of the specification: the reference one or an alternative \
         (its answer in small text).</p>\n<table id=\"matrix-profile\">\n<thead><tr><th>AMB row</th>",
    );
    for (i, column) in columns.iter().enumerate() {
        let _ = write!(
            out,
            "<th class=\"profile-endpoint\" data-endpoint=\"{}\">{}</th>",
            i + 1,
            escape(&column.label)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for id in ids {
        let text = catalogue
            .find(id)
            .map(|(_, r)| shorten(&plain(&r.text), REQUIREMENT_CHARS_MAX))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr id=\"matrix-profile-{id}\" data-amb=\"{id}\"><th><code>{id}</code><small>{}</small></th>",
            escape(&text),
            id = escape(id)
        );
        for (i, column) in columns.iter().enumerate() {
            profile_cell(out, i + 1, column, id);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn profile_cell(out: &mut String, col: usize, column: &Column, id: &str) {
    let Some(entry) = profile_entry(column, id) else {
        out.push_str("<td class=\"choice absent\" data-choice=\"absent\">—</td>");
        return;
    };
    let choice = entry.choice.value();
    let tip = entry.observed.as_deref().unwrap_or("");
    let _ = write!(
        out,
        "<td class=\"choice {choice}\" data-choice=\"{choice}\" title=\"{}\">",
        escape(tip)
    );
    match evidence_anchor(col, &column.report, entry) {
        Some(anchor) => {
            let _ = write!(
                out,
                "<a href=\"#{}\">{}</a>",
                escape(&anchor),
                entry.choice.label()
            );
        }
        None => out.push_str(entry.choice.label()),
    }
    if let Some(observed) = &entry.observed {
        let _ = write!(out, "<small class=\"mono\">{}</small>", escape(observed));
    }
    out.push_str("</td>");
}

/// Where on the page the profile entry's evidence is: the step that showed an alternative when
/// the JSON kept it, else the case; `None` when the page has neither.
fn evidence_anchor(col: usize, report: &RunReport, entry: &ProfileEntry) -> Option<String> {
    let case = entry.case.as_deref()?;
    let prefix = format!("e{col}-");
    let steps = if case == RANDOM_ROW {
        let random = report.random.as_ref()?;
        random.failure.as_ref().map_or(0, |f| f.steps.len())
    } else {
        report.cases.iter().find(|c| c.id == case)?.steps.len()
    };
    Some(match entry.step {
        Some(n) if n >= 1 && n <= steps => markup::step_anchor(&prefix, case, n),
        _ => markup::case_anchor(&prefix, case),
    })
}

/// One endpoint's part of the page: its run, then a section per case in the table's order.
fn endpoint_section(out: &mut String, col: usize, column: &Column, grouping: &Grouping) {
    let r = &column.report;
    let _ = write!(
        out,
        "<section class=\"endpoint\" id=\"e{col}\">\n<h2>{col}. {}</h2>\n<dl class=\"meta\">",
        escape(&column.label)
    );
    for (term, value) in [
        ("endpoint", r.endpoint.clone()),
        ("report", column.source.clone()),
        ("seed", r.seed.to_string()),
        ("run id", r.run_id.clone()),
        ("started", r.started_at.clone()),
        ("elapsed", format!("{:.1} s", r.elapsed_ms / 1000.0)),
        ("cogsync", r.version.clone()),
        ("summary", r.summary.line()),
    ] {
        let _ = write!(out, "<dt>{term}</dt><dd>{}</dd>", escape(&value));
    }
    out.push_str("</dl>\n");
    if !r.not_run.is_empty() {
        let _ = writeln!(
            out,
            "<p>Not run (the run stopped starting cases after --max-fail failures): {}</p>",
            escape(&r.not_run.join(", "))
        );
    }
    let prefix = format!("e{col}-");
    for id in grouping.ids() {
        if id == RANDOM_ROW {
            random_section(out, &prefix, r);
        } else if id == CONCURRENT_ROW {
            concurrent_section(out, &prefix, r);
        } else if let Some(case) = r.cases.iter().find(|c| c.id == id) {
            case_heading(out, &prefix, id, case.verdict, &case.title);
            let _ = writeln!(
                out,
                "<p>{} <span class=\"muted\">({}; covers {})</span></p>",
                escape(&case.requirement),
                escape(&case.level),
                escape(&case.covers.join(", "))
            );
            detail(out, case.detail.as_deref());
            steps(out, &prefix, id, case.verdict, &case.steps);
            out.push_str("</section>\n");
        }
    }
    out.push_str("</section>\n");
}

fn case_heading(out: &mut String, prefix: &str, id: &str, verdict: Verdict, title: &str) {
    let class = verdict_class(verdict);
    let _ = writeln!(
        out,
        "<section class=\"case\" id=\"{}\" data-verdict=\"{class}\">\n<h3><span class=\"verdict \
         {class}\">{}</span> <code>{}</code> {}</h3>",
        escape(&markup::case_anchor(prefix, id)),
        verdict.label(),
        escape(id),
        escape(title)
    );
}

fn detail(out: &mut String, detail: Option<&str>) {
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "<p class=\"detail\">{}</p>", escape(detail));
    }
}

fn random_section(out: &mut String, prefix: &str, report: &RunReport) {
    let Some(random) = &report.random else {
        return;
    };
    case_heading(
        out,
        prefix,
        RANDOM_ROW,
        random.verdict,
        "random sequences checked against the model",
    );
    let _ = writeln!(
        out,
        "<p>{} sequences, {:.0} operations/s, seed {}</p>",
        random.sequences, random.operations_per_sec, random.seed
    );
    if !random.ambiguities.is_empty() {
        let _ = writeln!(
            out,
            "<p>Non-reference outcomes on {}</p>",
            escape(&random.ambiguities.join(", "))
        );
    }
    detail(out, random.vacuous.as_deref());
    match &random.failure {
        Some(failure) => {
            let _ = writeln!(
                out,
                "<p class=\"detail\">sequence {}, shrunk to {} step(s) from {}: {}</p>",
                failure.index,
                failure.steps.len(),
                failure.original_len,
                escape(&failure.reason)
            );
            steps(out, prefix, RANDOM_ROW, random.verdict, &failure.steps);
        }
        None => out.push_str("<p class=\"muted\">No sequence failed.</p>\n"),
    }
    out.push_str("</section>\n");
}

fn concurrent_section(out: &mut String, prefix: &str, report: &RunReport) {
    let Some(concurrent) = &report.concurrent else {
        return;
    };
    case_heading(
        out,
        prefix,
        CONCURRENT_ROW,
        concurrent.verdict,
        "concurrent rounds checked for linearizability",
    );
    let _ = writeln!(
        out,
        "<p>{} of {} rounds on {} devices, {} operations ({} conflicts, {} without an answer)</p>",
        concurrent.rounds_run,
        concurrent.rounds,
        concurrent.devices,
        concurrent.operations,
        concurrent.conflicts,
        concurrent.indeterminate
    );
    detail(out, concurrent.detail.as_deref());
    match &concurrent.violation {
        Some(violation) => {
            let _ = writeln!(
                out,
                "<p class=\"detail\">not linearizable: {} operations on {} devices</p>",
                violation.operations, violation.devices,
            );
            out.push_str(&html::svg::timeline(
                &violation.history,
                "the operations that cannot be linearized",
            ));
        }
        None => out.push_str("<p class=\"muted\">Every round checked was linearizable.</p>\n"),
    }
    out.push_str("</section>\n");
}

/// A case's kept steps, drawn as the run report draws them; a passing case has none in the
/// JSON report, and says so.
fn steps(out: &mut String, prefix: &str, id: &str, verdict: Verdict, steps: &[Step]) {
    if steps.is_empty() {
        let why = if verdict == Verdict::Pass {
            "Passed: the JSON report keeps no transcript of passing cases."
        } else {
            "No transcript in the report."
        };
        let _ = writeln!(out, "<p class=\"muted\">{why}</p>");
        return;
    }
    html::transcript(out, prefix, id, steps, &|ids| escape(&ids.join(", ")));
}

/// The matrix as GitHub-flavoured Markdown: the table with verdict words and heading rows,
/// the summary counts, the profiles, and the runs behind the columns.
pub fn markdown(columns: &[Column], catalogue: &Catalogue) -> String {
    let reports: Vec<&RunReport> = columns.iter().map(|c| &c.report).collect();
    let grouping = group(&reports, catalogue);
    let lookups: Vec<Lookup<'_>> = columns.iter().map(Lookup::new).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# cogsync matrix\n");
    header_row(&mut out, "Case", columns);
    let blanks = " |".repeat(columns.len());
    for section in &grouping.sections {
        let number = if section.number.is_empty() {
            String::new()
        } else {
            format!("§{} ", section.number)
        };
        let _ = writeln!(
            out,
            "| **{}** |{blanks}",
            md_cell(&format!("{number}{}", section.title))
        );
        for requirement in &section.requirements {
            let grade = if requirement.grade.is_empty() {
                String::new()
            } else {
                format!(" ({})", requirement.grade)
            };
            let _ = writeln!(
                out,
                "| *{}*{} {} |{blanks}",
                md_cell(&requirement.id),
                md_cell(&grade),
                md_cell(&requirement.text)
            );
            for id in &requirement.cases {
                md_case_row(&mut out, id, &lookups);
            }
        }
    }
    if !grouping.phases.is_empty() {
        let _ = writeln!(out, "| **Phases** |{blanks}");
        for id in &grouping.phases {
            md_case_row(&mut out, id, &lookups);
        }
    }
    out.push_str("\n## Summary\n\n");
    header_row(&mut out, "Verdict", columns);
    for verdict in VERDICTS {
        let _ = write!(out, "| {} |", verdict.label());
        for column in columns {
            let _ = write!(out, " {} |", column.report.summary.count(verdict));
        }
        out.push('\n');
    }
    let _ = write!(out, "| not run |");
    for column in columns {
        let _ = write!(out, " {} |", column.report.not_run.len());
    }
    out.push_str("\n\n## Ambiguity profiles\n\n");
    header_row(&mut out, "AMB row", columns);
    for id in profile_ids(columns) {
        let _ = write!(out, "| `{}` |", md_cell(id));
        for column in columns {
            let text = match profile_entry(column, id) {
                None => "—".to_owned(),
                Some(entry) => match &entry.observed {
                    Some(observed) => format!("{}: {}", entry.choice.label(), observed),
                    None => entry.choice.label().to_owned(),
                },
            };
            let _ = write!(out, " {} |", md_cell(&text));
        }
        out.push('\n');
    }
    out.push_str("\n## Endpoints\n\n");
    for (i, column) in columns.iter().enumerate() {
        let r = &column.report;
        let _ = writeln!(
            out,
            "{}. **{}**: {}, seed {}, run {}, started {}, report {}",
            i + 1,
            md_cell(&column.label),
            r.endpoint,
            r.seed,
            r.run_id,
            r.started_at,
            column.source
        );
    }
    out
}

fn header_row(out: &mut String, first: &str, columns: &[Column]) {
    let _ = write!(out, "| {first} |");
    for column in columns {
        let _ = write!(out, " {} |", md_cell(&column.label));
    }
    out.push_str("\n|---|");
    for _ in columns {
        out.push_str(":---:|");
    }
    out.push('\n');
}

fn md_case_row(out: &mut String, id: &str, lookups: &[Lookup<'_>]) {
    let _ = write!(out, "| `{}` |", md_cell(id));
    for lookup in lookups {
        let cell = lookup.cell(id);
        let text = match cell.row {
            Some(row) => row.verdict.label(),
            None if cell.not_run => "not run",
            None => "—",
        };
        let _ = write!(out, " {text} |");
    }
    out.push('\n');
}

/// Text safe in one cell of a Markdown table: one line, pipes escaped.
fn md_cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::catalogue::{Requirement, Section};
    use crate::suite::verdict::CaseReport;

    fn case(id: &str, covers: &[&str], verdict: Verdict) -> CaseReport {
        CaseReport {
            id: id.to_owned(),
            title: String::new(),
            requirement: String::new(),
            level: "MUST".to_owned(),
            covers: covers.iter().map(|c| (*c).to_owned()).collect(),
            verdict,
            detail: None,
            ambiguities: Vec::new(),
            duration_ms: 0.0,
            steps: Vec::new(),
        }
    }

    fn report(name: &str, cases: Vec<CaseReport>) -> RunReport {
        let mut report = RunReport::new("http://127.0.0.1:9", 1, 1, false, 0.0);
        report.name = Some(name.to_owned());
        report.cases = cases;
        report.tally();
        report
    }

    fn requirement(id: &str, grade: &str, text: &str) -> Requirement {
        Requirement {
            id: id.to_owned(),
            grade: grade.to_owned(),
            text: text.to_owned(),
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue {
            sections: vec![
                Section {
                    number: "2".to_owned(),
                    title: "UpdateRecords".to_owned(),
                    requirements: vec![
                        requirement("UR-1", "DOC", "**Writes** `apply` in order."),
                        requirement("UR-2", "DOC", "Stale counts conflict."),
                    ],
                },
                Section {
                    number: "3".to_owned(),
                    title: "ListRecords".to_owned(),
                    requirements: vec![requirement("LR-1", "FIELD", "Lists changes.")],
                },
            ],
        }
    }

    #[test]
    fn cases_group_under_their_first_requirement_in_the_specifications_order() {
        let one = report(
            "one",
            vec![
                case("list.a", &["LR-1", "UR-1"], Verdict::Pass),
                case("update.b", &["UR-2"], Verdict::Pass),
                case("update.a", &["UR-1"], Verdict::Pass),
            ],
        );
        let two = report(
            "two",
            vec![
                case("update.a", &["UR-1"], Verdict::Fail),
                case("new.c", &["UR-2"], Verdict::Pass),
                case("odd.d", &["ZZ-9"], Verdict::Pass),
                case("bare.e", &[], Verdict::Pass),
            ],
        );
        let grouping = group(&[&one, &two], &catalogue());
        let shape: Vec<String> = grouping
            .sections
            .iter()
            .flat_map(|s| {
                s.requirements
                    .iter()
                    .map(move |r| format!("§{} {}: {}", s.number, r.id, r.cases.join(" ")))
            })
            .collect();
        assert_eq!(
            shape,
            [
                "§2 UR-1: update.a",
                "§2 UR-2: update.b new.c",
                "§3 LR-1: list.a",
                "§ ZZ-9: odd.d",
                "§ : bare.e",
            ]
        );
        assert_eq!(
            grouping.sections[0].requirements[0].text,
            "Writes apply in order."
        );
        assert!(grouping.phases.is_empty(), "no report ran a phase");
        assert_eq!(grouping.ids().count(), 6, "each case once");
    }

    #[test]
    fn columns_of_one_name_are_told_apart_by_their_file() {
        let columns = columns(vec![
            ("a.json".to_owned(), report("same", vec![])),
            ("b.json".to_owned(), report("other", vec![])),
            ("c.json".to_owned(), report("same", vec![])),
            ("c.json".to_owned(), report("same", vec![])),
        ]);
        let labels: Vec<&str> = columns.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "same (a.json)",
                "other",
                "same (c.json)",
                "same (c.json) #4"
            ]
        );
    }

    #[test]
    fn a_report_without_a_case_gets_an_absent_cell_and_markdown_the_same_rows() {
        let columns = columns(vec![
            (
                "one.json".to_owned(),
                report("one", vec![case("update.a", &["UR-1"], Verdict::Fail)]),
            ),
            (
                "two.json".to_owned(),
                report("two", vec![case("update.b", &["UR-1"], Verdict::Pass)]),
            ),
        ]);
        let page = html(&columns, &catalogue());
        assert!(page.contains(
            "<td class=\"cell fail\" data-verdict=\"fail\" title=\"\"><a href=\"#e1-case-update.a\">FAIL</a></td><td class=\"cell absent\">—</td>"
        ));
        assert!(page.contains("<td id=\"e2-count-pass\">1</td>"));
        assert!(page.contains("id=\"e1-case-update.a\""));
        assert!(!page.contains("id=\"e2-case-update.a\""));
        let md = markdown(&columns, &catalogue());
        assert!(md.contains("| Case | one | two |"), "{md}");
        assert!(md.contains("| `update.a` | FAIL | — |"), "{md}");
        assert!(
            md.contains("| *UR-1* (DOC) Writes apply in order. | | |"),
            "{md}"
        );
    }

    #[test]
    fn markdown_cells_stay_in_their_cell() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }
}
