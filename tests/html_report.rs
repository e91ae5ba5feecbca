//! The HTML report of `cogsync check --html`, read back with CSS selectors: it agrees with the
//! JSON report of the same run, every in-page link has its target, and it keeps the DOM
//! contract other tools rely on (`#count-<verdict>`, `section.case#case-<ID>`, step anchors,
//! `svg.timeline` lanes, `table#profile` rows). Runs against the embedded reference server, a
//! server with an injected fault (failures, their first difference and reproduction) and one
//! with a variant (an alternative in the ambiguity profile).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

/// What one `check` run left: its exit code, stdout, JSON report and HTML page.
struct Run {
    code: i32,
    stdout: String,
    json: Value,
    html: Html,
    artifacts: PathBuf,
}

fn check(dir: &Path, extra: &[&str]) -> Run {
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    let artifacts = dir.join("artifacts");
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["check", "--sequences", "30", "--rounds", "2", "--seed", "1"])
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .arg("--artifacts")
        .arg(&artifacts)
        .args(extra)
        .output()
        .expect("cogsync runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}\nstdout:\n{stdout}", path.display()))
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        json: serde_json::from_str(&read(&json)).expect("the JSON report parses"),
        html: Html::parse_document(&read(&html)),
        stdout,
        artifacts,
    }
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"))
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    html.select(&sel(css)).collect()
}

fn text(element: ElementRef<'_>) -> String {
    element.text().collect()
}

/// The one element with this id.
fn by_id<'a>(html: &'a Html, id: &str) -> ElementRef<'a> {
    let found: Vec<ElementRef<'a>> = html
        .select(&sel("[id]"))
        .filter(|e| e.value().id() == Some(id))
        .collect();
    assert_eq!(found.len(), 1, "one element with id {id:?}");
    found[0]
}

/// The page's ids, each once.
fn ids(html: &Html) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for element in select(html, "[id]") {
        let id = element.value().id().unwrap_or_default().to_owned();
        assert!(seen.insert(id.clone()), "id {id:?} appears twice");
    }
    seen
}

/// The checks every page must pass, whatever the run found.
fn assert_page_agrees_with_json(run: &Run) {
    let html = &run.html;
    let json = &run.json;
    assert!(
        run.stdout.contains("HTML report written to") && run.stdout.contains("KiB, generated in"),
        "the run says where the page went, its size and time:\n{}",
        run.stdout
    );

    // The summary comes first, with the JSON's counts.
    let first = select(html, "body section")
        .into_iter()
        .next()
        .expect("a section");
    assert_eq!(first.value().id(), Some("summary"));
    for (verdict, field) in common::VERDICT_FIELDS {
        let count = text(by_id(html, &format!("count-{verdict}")));
        assert_eq!(
            count,
            json["summary"][field].to_string(),
            "count-{verdict} against summary.{field}"
        );
    }

    // Every in-page link has its target; nothing leaves the page.
    let ids = ids(html);
    let links = select(html, "a[href]");
    assert!(links.len() > 10, "{} links", links.len());
    for link in links {
        let href = link.value().attr("href").unwrap_or_default();
        let target = href
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("link {href:?} leaves the page"));
        assert!(ids.contains(target), "no element has the id of {href}");
    }
    for css in ["script", "link", "img", "iframe", "[src]"] {
        assert!(
            select(html, css).is_empty(),
            "{css}: the page must be self-contained"
        );
    }

    // One section per case and per phase, with the JSON's verdict.
    let sections = select(html, "section.case");
    let cases = json["cases"].as_array().expect("cases");
    let phases =
        usize::from(!json["random"].is_null()) + usize::from(!json["concurrent"].is_null());
    assert_eq!(sections.len(), cases.len() + phases);
    let verdicts: BTreeMap<&str, &str> = sections
        .iter()
        .map(|s| {
            (
                s.value().id().unwrap_or_default(),
                s.value().attr("data-verdict").unwrap_or_default(),
            )
        })
        .collect();
    for case in cases {
        let id = case["id"].as_str().expect("id");
        assert_eq!(
            verdicts.get(format!("case-{id}").as_str()).copied(),
            case["verdict"].as_str(),
            "{id}"
        );
        // Each requirement it covers links back to it.
        for covered in case["covers"].as_array().expect("covers") {
            let requirement = by_id(html, &format!("req-{}", covered.as_str().unwrap_or("")));
            assert!(requirement.value().classes().any(|c| c == "requirement"));
            let back = format!("a[href=\"#case-{id}\"]");
            assert!(
                requirement.select(&sel(&back)).next().is_some(),
                "req-{covered} links to {id}"
            );
        }
    }
    for (phase, key) in [
        ("random.sequences", "random"),
        ("concurrent.linearizability", "concurrent"),
    ] {
        if !json[key].is_null() {
            assert_eq!(
                verdicts.get(format!("case-{phase}").as_str()).copied(),
                json[key]["verdict"].as_str()
            );
        }
    }

    // The concurrent rounds: lanes = data-devices = the round's devices, a bar per operation.
    let concurrent = by_id(html, "case-concurrent.linearizability");
    let timelines: Vec<ElementRef<'_>> = concurrent.select(&sel("svg.timeline")).collect();
    let rounds: Vec<&Value> = ["violation", "example"]
        .iter()
        .map(|k| &json["concurrent"][k])
        .filter(|r| !r.is_null())
        .collect();
    assert!(!rounds.is_empty(), "a round is kept");
    assert_eq!(timelines.len(), rounds.len());
    for (svg, round) in timelines.iter().zip(rounds) {
        let devices = round["devices"].as_u64().expect("devices");
        assert_eq!(
            svg.value().attr("data-devices"),
            Some(devices.to_string().as_str())
        );
        let lanes: Vec<ElementRef<'_>> = svg.select(&sel("g.lane")).collect();
        assert_eq!(lanes.len() as u64, devices);
        let history = round["history"].as_array().expect("history");
        for lane in &lanes {
            let device: u64 = lane
                .value()
                .attr("data-device")
                .and_then(|d| d.parse().ok())
                .expect("data-device");
            let ops = history.iter().filter(|o| o["device"] == device).count();
            assert_eq!(lane.select(&sel("rect.op")).count(), ops, "device {device}");
        }
        let indeterminate = history
            .iter()
            .filter(|o| o["complete_ns"].is_null())
            .count();
        assert_eq!(
            svg.select(&sel("rect.op.indeterminate")).count(),
            indeterminate
        );
        let conflicts = history.iter().filter(|o| o["status"] == 409).count();
        assert_eq!(svg.select(&sel("rect.op.conflict")).count(), conflicts);
        let stuck = history.iter().filter(|o| o["stuck"] == true).count();
        assert_eq!(svg.select(&sel("rect.op.stuck")).count(), stuck);
        assert!(svg.select(&sel("rect.op > title")).count() == history.len());
    }

    // The ambiguity profile: a row per entry, with the JSON's choice.
    let profile = json["profile"].as_array().expect("profile");
    let rows = select(html, "table#profile tr[data-choice]");
    assert_eq!(rows.len(), profile.len());
    for (row, entry) in rows.iter().zip(profile) {
        assert_eq!(
            row.value().id(),
            Some(format!("profile-{}", entry["id"].as_str().unwrap_or("")).as_str())
        );
        assert_eq!(row.value().attr("data-choice"), entry["choice"].as_str());
    }
}

#[test]
fn the_page_of_a_reference_run_agrees_with_its_json_report() {
    let dir = common::scratch("html", "reference");
    let run = check(&dir, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_page_agrees_with_json(&run);
    // A green run: no first difference, no reproduction, every profile row reference or
    // not observed.
    assert!(select(&run.html, ".first-difference").is_empty());
    assert!(select(&run.html, "code.replay").is_empty());
    // Passing cases keep a compact transcript: steps, but no raw exchanges.
    let steps = select(
        &run.html,
        "section.case[data-verdict=\"pass\"] li.step.compact",
    );
    assert!(steps.len() > 100, "{} compact steps", steps.len());
    assert!(
        select(
            &run.html,
            "section.case[data-verdict=\"pass\"] details.exchange"
        )
        .is_empty()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_case_shows_its_first_difference_and_how_to_reproduce_it() {
    let (_server, url) = common::serve(&["--fault", "stale-accepted"]);
    let dir = common::scratch("html", "fault");
    let run = check(
        &dir,
        &[
            "--endpoint",
            &url,
            "--only",
            "update-records.sync-count",
            "random",
            "concurrent",
        ],
    );
    assert_eq!(run.code, 1, "the fault is found:\n{}", run.stdout);
    assert_page_agrees_with_json(&run);
    let html = &run.html;

    let id = "update-records.sync-count.stale-rejected";
    let case = by_id(html, &format!("case-{id}"));
    assert_eq!(case.value().attr("data-verdict"), Some("fail"));
    let first: Vec<ElementRef<'_>> = case.select(&sel("li.step.first-difference")).collect();
    assert_eq!(first.len(), 1, "one first difference");
    let step_id = first[0].value().id().unwrap_or_default();
    assert!(
        step_id.starts_with(&format!("case-{id}-step-")),
        "{step_id}"
    );
    assert!(
        text(first[0]).contains("first difference"),
        "{}",
        text(first[0])
    );
    // The request and the answer, in full.
    let exchange = first[0]
        .select(&sel("details.exchange pre.response"))
        .next()
        .expect("the exchange of the first difference");
    assert!(text(exchange).starts_with("HTTP 200"), "{}", text(exchange));
    let curl = case.select(&sel("pre.curl")).next().expect("a curl script");
    assert!(text(curl).contains("curl -sS -i"));
    let replay = case
        .select(&sel("code.replay"))
        .next()
        .expect("a replay command");
    let saved = run.artifacts.join(format!("{id}.json"));
    assert_eq!(
        text(replay),
        format!("cogsync replay {} --endpoint {url}", saved.display())
    );
    assert!(
        saved.is_file(),
        "the replay command names a file that exists"
    );

    // The random phase's shrunk sequence, the same way.
    let random = by_id(html, "case-random.sequences");
    assert_eq!(random.value().attr("data-verdict"), Some("fail"));
    assert_eq!(random.select(&sel("li.step.first-difference")).count(), 1);
    let replay = random
        .select(&sel("code.replay"))
        .next()
        .expect("a replay command");
    assert!(
        text(replay).contains("random-1.json --endpoint"),
        "{}",
        text(replay)
    );

    // A lost update is a violation: its timeline marks the operations that cannot be ordered.
    if !run.json["concurrent"]["violation"].is_null() {
        let concurrent = by_id(html, "case-concurrent.linearizability");
        assert!(
            concurrent
                .select(&sel("svg.timeline rect.op.stuck"))
                .count()
                > 0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_variant_shows_an_alternative_in_the_profile() {
    let (_server, url) = common::serve(&["--variant", "dup-key-validation"]);
    let dir = common::scratch("html", "variant");
    let run = check(
        &dir,
        &[
            "--endpoint",
            &url,
            "--only",
            "ambiguity",
            "update-records",
            "random",
            "concurrent",
        ],
    );
    assert_eq!(run.code, 0, "a variant is allowed:\n{}", run.stdout);
    assert_page_agrees_with_json(&run);
    let html = &run.html;
    let row = by_id(html, "profile-AMB-DUP-KEY");
    assert_eq!(row.value().attr("data-choice"), Some("alternative"));
    assert!(text(row).contains("ValidationException"), "{}", text(row));
    let link = row
        .select(&sel("a[href]"))
        .next()
        .expect("a link to the step");
    let href = link.value().attr("href").unwrap_or_default();
    let step = by_id(html, href.trim_start_matches('#'));
    assert!(
        step.value().classes().any(|c| c == "step"),
        "{href} is a step"
    );
    assert!(
        step.value().classes().any(|c| c == "non-strict"),
        "{href} took the alternative"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page of a small real run (three named cases on the embedded server, no random or
/// concurrent phase), snapshotted with what changes from run to run redacted: the port, the
/// run id, the start time and every duration.
#[test]
fn the_page_of_a_small_real_run() {
    let dir = common::scratch("html", "snapshot");
    let page = dir.join("run.html");
    let output = common::cogsync(&[
        "check",
        "--seed",
        "1",
        "--only",
        "update-records.conflict",
        "ambiguity.dup-key",
        "--sequences",
        "0",
        "--devices",
        "0",
        "--quiet",
        "--html",
        &page.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(0), "the reference server passes");
    let html = std::fs::read_to_string(&page).expect("the page");
    let body = &html[html.find("<body>").expect("a body")..];
    let mut redacted = body.to_owned();
    for (pattern, with) in [
        (r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:[port]"),
        (r"<code>[0-9a-f]{8}</code>", "<code>[run id]</code>"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[started at]"),
        (r"\d+(\.\d+)? (ms|s)</dd>", "[duration]</dd>"),
        (r"cogsync \d+\.\d+\.\d+", "cogsync [version]"),
    ] {
        redacted = regex::Regex::new(pattern)
            .expect("a valid pattern")
            .replace_all(&redacted, with)
            .into_owned();
    }
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("report_html_small_run", redacted);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
