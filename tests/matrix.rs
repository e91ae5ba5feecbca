//! `cogsync matrix` over real runs: the reference server, two injected faults and two allowed
//! variants, each checked by `cogsync check --json`, then set side by side. The page is read
//! through its DOM, as the DOM contract states it.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use cogsync::report::RunReport;
use cogsync::report::markup::{VERDICTS, verdict_class};
use scraper::{ElementRef, Html, Selector};

/// A column of the matrix: what it is called and how its server is started.
struct Endpoint {
    name: &'static str,
    serve: &'static [&'static str],
}

const ENDPOINTS: [Endpoint; 5] = [
    Endpoint {
        name: "reference",
        serve: &[],
    },
    Endpoint {
        name: "conflict-as-400",
        serve: &["--fault", "conflict-as-400"],
    },
    Endpoint {
        name: "tombstones-hidden",
        serve: &["--fault", "tombstones-hidden"],
    },
    Endpoint {
        name: "dup-key-validation",
        serve: &["--variant", "dup-key-validation"],
    },
    Endpoint {
        name: "colon-rejected",
        serve: &["--variant", "colon-rejected"],
    },
];

/// A case each fault fails (column 2 and 3): the reference passes it.
const FAULT_CASES: [(usize, &str); 2] = [
    (2, "update-records.sync-count.stale-rejected"),
    (3, "update-records.remove.leaves-tombstone"),
];

/// The AMB- row each variant takes another allowed outcome on (column 4 and 5).
const VARIANT_ROWS: [(usize, &str); 2] = [(4, "AMB-DUP-KEY"), (5, "AMB-COLON")];

/// Runs a small `check` of `url` into `json` (a fault's run exits 1: expected).
fn check(url: &str, name: &str, json: &Path, artifacts: &Path) {
    let output = common::cogsync(&[
        "check",
        "--endpoint",
        url,
        "--name",
        name,
        "--json",
        &json.to_string_lossy(),
        "--seed",
        "1",
        "--sequences",
        "20",
        "--rounds",
        "2",
        "--artifacts",
        &artifacts.to_string_lossy(),
        "--quiet",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "check of {name} could not judge: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The five reports, checked in parallel against five servers that are stopped afterwards.
fn five_reports(dir: &Path) -> Vec<PathBuf> {
    let servers: Vec<_> = ENDPOINTS
        .iter()
        .map(|e| common::spawn_serve(e.serve))
        .collect();
    let jsons: Vec<PathBuf> = ENDPOINTS
        .iter()
        .map(|e| dir.join(format!("{}.json", e.name)))
        .collect();
    std::thread::scope(|scope| {
        for ((endpoint, (_, url)), json) in ENDPOINTS.iter().zip(&servers).zip(&jsons) {
            let artifacts = dir.join(format!("{}-artifacts", endpoint.name));
            scope.spawn(move || check(url, endpoint.name, json, &artifacts));
        }
    });
    for (mut child, _) in servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    jsons
}

fn select<'a>(page: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).expect("a valid selector");
    page.select(&selector).collect()
}

fn text(element: &ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_owned()
}

fn read_report(path: &Path) -> RunReport {
    let text = std::fs::read_to_string(path).expect("the report is written");
    serde_json::from_str(&text).expect("a run report")
}

#[test]
fn five_endpoints_side_by_side_with_faults_failing_and_variants_choosing() {
    let dir = common::scratch("matrix", "five");
    let jsons = five_reports(&dir);
    let reports: Vec<RunReport> = jsons.iter().map(|p| read_report(p)).collect();
    let html_path = dir.join("matrix.html");
    let md_path = dir.join("matrix.md");
    let mut args: Vec<String> = vec!["matrix".to_owned()];
    args.extend(jsons.iter().map(|p| p.to_string_lossy().into_owned()));
    args.extend([
        "--html".to_owned(),
        html_path.to_string_lossy().into_owned(),
        "--markdown".to_owned(),
        md_path.to_string_lossy().into_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = common::cogsync(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = Html::parse_document(&std::fs::read_to_string(&html_path).expect("HTML written"));

    // Five columns, in argument order, headed by the names given to check.
    let headers = select(&page, "#matrix th.endpoint");
    let named: Vec<(String, String)> = headers
        .iter()
        .map(|th| {
            (
                th.value().attr("data-endpoint").unwrap_or("").to_owned(),
                text(th),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ENDPOINTS
        .iter()
        .enumerate()
        .map(|(i, e)| ((i + 1).to_string(), e.name.to_owned()))
        .collect();
    assert_eq!(named, expected);

    // One row per case of any report and per phase, with a cell per column linking to that
    // column's transcript of the case.
    let rows = select(&page, "#matrix tr.case-row");
    let mut union: HashSet<String> = reports
        .iter()
        .flat_map(|r| r.cases.iter().map(|c| c.id.clone()))
        .collect();
    union.extend(["random.sequences", "concurrent.linearizability"].map(str::to_owned));
    let row_ids: Vec<String> = rows
        .iter()
        .map(|r| r.value().attr("data-case").unwrap_or("").to_owned())
        .collect();
    assert_eq!(row_ids.len(), union.len(), "each case once");
    assert_eq!(row_ids.iter().cloned().collect::<HashSet<_>>(), union);
    let cell_selector = Selector::parse("td.cell").expect("selector");
    let link_selector = Selector::parse("a").expect("selector");
    let cells = |id: &str| -> Vec<ElementRef<'_>> {
        let row = rows
            .iter()
            .find(|r| r.value().attr("data-case") == Some(id))
            .unwrap_or_else(|| panic!("a row for {id}"));
        row.select(&cell_selector).collect()
    };
    for row in &rows {
        let id = row.value().attr("data-case").unwrap_or("");
        let cells: Vec<ElementRef<'_>> = row.select(&cell_selector).collect();
        assert_eq!(cells.len(), 5, "{id}");
        for (col, cell) in cells.iter().enumerate() {
            let verdict = cell.value().attr("data-verdict").unwrap_or("absent");
            assert!(
                cell.value()
                    .has_class("absent", scraper::CaseSensitivity::CaseSensitive)
                    || cell
                        .value()
                        .has_class(verdict, scraper::CaseSensitivity::CaseSensitive),
                "{id} column {}: class and data-verdict agree",
                col + 1
            );
            if verdict != "absent" {
                let link = cell.select(&link_selector).next().expect("a link");
                assert_eq!(
                    link.value().attr("href"),
                    Some(format!("#e{}-case-{id}", col + 1).as_str())
                );
            }
        }
    }

    // Each fault fails a case the reference passes.
    for (col, case) in FAULT_CASES {
        let cells = cells(case);
        assert_eq!(
            cells[0].value().attr("data-verdict"),
            Some("pass"),
            "{case}"
        );
        assert_eq!(
            cells[col - 1].value().attr("data-verdict"),
            Some("fail"),
            "{case} in column {col}"
        );
        assert!(
            cells[col - 1]
                .value()
                .has_class("fail", scraper::CaseSensitivity::CaseSensitive)
        );
    }

    // Each variant takes an alternative where the reference takes the reference outcome.
    for (col, amb) in VARIANT_ROWS {
        let row = select(&page, &format!("#matrix-profile tr[data-amb=\"{amb}\"]"));
        assert_eq!(row.len(), 1, "{amb}");
        let cells: Vec<ElementRef<'_>> = row[0]
            .select(&Selector::parse("td").expect("selector"))
            .collect();
        assert_eq!(cells.len(), 5);
        assert_eq!(
            cells[0].value().attr("data-choice"),
            Some("reference"),
            "{amb}"
        );
        assert_eq!(
            cells[col - 1].value().attr("data-choice"),
            Some("alternative"),
            "{amb} in column {col}"
        );
    }

    // Every in-page link has its target.
    let ids: HashSet<&str> = select(&page, "[id]")
        .iter()
        .filter_map(|e| e.value().attr("id"))
        .collect();
    let links = select(&page, "a[href^=\"#\"]");
    assert!(links.len() > 5 * union.len(), "every cell links");
    for link in &links {
        let href = link.value().attr("href").unwrap_or("#");
        assert!(ids.contains(&href[1..]), "{href} has no target");
    }

    // The transcripts: the fault's failing case shows where it differed; a passing case says
    // why it has none.
    let sections = select(&page, "section[id]");
    let section = |id: &str| {
        sections
            .iter()
            .find(|s| s.value().attr("id") == Some(id))
            .unwrap_or_else(|| panic!("section {id}"))
    };
    let failing = section("e2-case-update-records.sync-count.stale-rejected");
    assert_eq!(failing.value().attr("data-verdict"), Some("fail"));
    assert!(
        failing
            .select(&Selector::parse("li.step.first-difference").expect("selector"))
            .next()
            .is_some()
    );
    assert!(
        text(section("e1-case-update-records.sync-count.stale-rejected"))
            .contains("keeps no transcript of passing cases")
    );

    // The counts are each report's summary.
    for (col, report) in reports.iter().enumerate() {
        for verdict in VERDICTS {
            let id = format!("e{}-count-{}", col + 1, verdict_class(verdict));
            let cell = select(&page, &format!("td[id=\"{id}\"]"));
            assert_eq!(cell.len(), 1, "{id}");
            assert_eq!(
                text(&cell[0]),
                report.summary.count(verdict).to_string(),
                "{id}"
            );
        }
    }
    assert!(reports[1].summary.failed > 0 && reports[2].summary.failed > 0);

    // The Markdown has the same columns.
    let markdown = std::fs::read_to_string(&md_path).expect("Markdown written");
    let header = format!("| Case | {} |", ENDPOINTS.map(|e| e.name).join(" | "));
    assert!(
        markdown.lines().any(|l| l == header),
        "{header}\n{markdown}"
    );
    assert!(markdown.contains(&format!("| `{}` | PASS | FAIL |", FAULT_CASES[0].1)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_a_report_is_a_usage_error_naming_it() {
    let dir = common::scratch("matrix", "usage");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"not\": \"a report\"}").expect("written");
    let output = common::cogsync(&["matrix", &garbage.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("garbage.json"), "{stderr}");
    assert!(stderr.contains("not a report"), "{stderr}");
    assert_eq!(
        common::cogsync(&["matrix"]).status.code(),
        Some(2),
        "no reports"
    );
    let help = common::cogsync(&["matrix", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("3  cannot write"));
    let _ = std::fs::remove_dir_all(&dir);
}
