//! The HTML reports as a real browser shows them: headless Chromium renders the page of
//! `check --html` and of `matrix --html`, and the test reads back what the browser built.
//!
//! Needs Chromium, so the tests are ignored by a plain `cargo test` (the structural checks of
//! tests/html_report.rs run there without a browser). Run them with
//! `cargo test --test browser -- --ignored`; `.ci/run` installs Debian's `chromium` and does.
//! `COGSYNC_CHROMIUM` names the browser binary if it is not `chromium` on the PATH.
//!
//! Three looks at each page:
//! - a screenshot, decoded: the page is not blank and shows the verdict colours;
//! - the DOM after the browser parsed it (`--dump-dom`), read with an HTML parser: the summary
//!   counts equal the JSON report's, and every in-page link has its target;
//! - a probe page that loads the report in a frame and measures it with the browser's own
//!   layout: each timeline has one laid-out lane per device, stacked, and every link target
//!   exists in the live document.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scraper::{Html, Selector};

/// Longest a browser invocation may take before the test gives up on it.
const BROWSER_TIME_MAX: Duration = Duration::from_secs(90);

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("COGSYNC_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no Chromium found: install Debian's `chromium` package (.ci/run does) or set \
         COGSYNC_CHROMIUM to the browser binary"
    );
}

/// Runs headless Chromium with `args` on `url` and returns its stdout; kills it after
/// [`BROWSER_TIME_MAX`].
fn headless(profile: &Path, args: &[&str], url: &str) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Pages are files; the probe reads the report's document from a frame.
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "Chromium exited with {status}");
            break;
        }
        if started.elapsed() > BROWSER_TIME_MAX {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within {BROWSER_TIME_MAX:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader")
}

fn file_url(path: &Path) -> String {
    format!(
        "file://{}",
        path.canonicalize().expect("absolute path").display()
    )
}

/// The page's DOM as the browser built it.
fn dump_dom(dir: &Path, page: &Path) -> Html {
    let dom = headless(
        &dir.join("profile-dom"),
        &["--virtual-time-budget=5000", "--dump-dom"],
        &file_url(page),
    );
    assert!(dom.contains("</html>"), "no DOM came back: {dom:.300}");
    Html::parse_document(&dom)
}

/// A screenshot of the top of the page, decoded: (width, height, RGBA bytes).
fn screenshot(dir: &Path, page: &Path) -> (u32, u32, Vec<u8>) {
    let shot = dir.join(format!(
        "{}.png",
        page.file_stem().and_then(|s| s.to_str()).unwrap_or("page")
    ));
    headless(
        &dir.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
        &file_url(page),
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("Chromium wrote the screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buffer[..info.buffer_size()].to_vec(),
        png::ColorType::Rgb => buffer[..info.buffer_size()]
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width, info.height, rgba)
}

/// Share of pixels that differ from the top-left one, and whether some pixel is within a few
/// steps of each `colours` entry.
fn looks(rgba: &[u8], colours: &[[u8; 3]]) -> (f64, Vec<bool>) {
    let pixels: Vec<&[u8]> = rgba.chunks(4).collect();
    let background = pixels[0];
    let differing = pixels.iter().filter(|p| p[..3] != background[..3]).count();
    let near =
        |p: &[u8], c: &[u8; 3]| (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= 6);
    let seen = colours
        .iter()
        .map(|c| pixels.iter().any(|p| near(p, c)))
        .collect();
    (differing as f64 / pixels.len() as f64, seen)
}

/// A probe page next to `page` that loads it in a frame and writes what the browser measured
/// into `#result` as JSON.
fn probe(dir: &Path, page: &Path) -> serde_json::Value {
    let name = page
        .file_name()
        .and_then(|s| s.to_str())
        .expect("file name");
    let probe = dir.join(format!("probe-{name}"));
    std::fs::write(
        &probe,
        format!(
            r##"<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="report" src="{name}" width="1280" height="1000"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {{
  var d = this.contentDocument, out = {{}};
  if (!d) {{ out.error = "the report's document is not readable"; }} else {{
    out.timelines = Array.prototype.map.call(d.querySelectorAll("svg.timeline"), function (svg) {{
      var lanes = Array.prototype.map.call(svg.querySelectorAll("g.lane"), function (g) {{
        var box = g.getBBox();
        return {{ device: g.getAttribute("data-device"), y: box.y, width: box.width,
                 height: box.height, ops: g.querySelectorAll("rect.op").length }};
      }});
      return {{ devices: Number(svg.getAttribute("data-devices")), lanes: lanes }};
    }});
    var links = d.querySelectorAll('a[href^="#"]');
    out.links = links.length;
    out.dangling = Array.prototype.filter.call(links, function (a) {{
      return !d.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    }}).map(function (a) {{ return a.getAttribute("href"); }});
    var summary = d.getElementById("summary");
    out.summary_height = summary ? summary.getBoundingClientRect().height : 0;
  }}
  document.getElementById("result").textContent = JSON.stringify(out);
}});
</script></body></html>"##
        ),
    )
    .expect("write the probe");
    let dom = headless(
        &dir.join("profile-probe"),
        &["--virtual-time-budget=10000", "--dump-dom"],
        &file_url(&probe),
    );
    let html = Html::parse_document(&dom);
    let result = html
        .select(&sel("#result"))
        .next()
        .map(|e| e.text().collect::<String>())
        .expect("the probe's result element");
    serde_json::from_str(&result).unwrap_or_else(|e| panic!("probe said {result:?}: {e}"))
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

fn text_of(html: &Html, css: &str) -> Option<String> {
    html.select(&sel(css))
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
}

/// Every in-page link of the parsed document has its target.
fn dangling_links(html: &Html) -> Vec<String> {
    let ids: std::collections::HashSet<&str> = html
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id"))
        .collect();
    html.select(&sel(r##"a[href^="#"]"##))
        .filter_map(|a| a.value().attr("href"))
        .filter(|href| !ids.contains(&href[1..]))
        .map(str::to_owned)
        .collect()
}

fn run_check(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .arg("check")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("cogsync check runs");
    // 0 for a clean run, 1 when the endpoint failed a check (the fault runs): both write reports.
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "check exited {status}"
    );
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("JSON report")).expect("JSON")
}

const PASS_GREEN: [u8; 3] = [0x1a, 0x7f, 0x37];
const FAIL_RED: [u8; 3] = [0xcf, 0x22, 0x2e];

#[test]
#[ignore = "needs Chromium: cargo test --test browser -- --ignored (.ci/run runs it)"]
fn the_run_report_renders_in_a_browser() {
    let dir = common::scratch("browser", "run");
    // A server with a bug, so the page has failures, transcripts and a shrunk sequence.
    let (mut server, url) = common::spawn_serve(&["--fault", "stale-accepted"]);
    let json = dir.join("run.json");
    let page = dir.join("run.html");
    run_check(&[
        "--endpoint",
        &url,
        "--name",
        "stale-accepted",
        "--seed",
        "1",
        "--sequences",
        "40",
        "--rounds",
        "3",
        "--artifacts",
        dir.join("failures").to_str().expect("utf-8"),
        "--json",
        json.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    let report = read_json(&json);

    let (width, height, rgba) = screenshot(&dir, &page);
    assert!(width >= 1000 && height >= 1000, "{width}x{height}");
    let (inked, colours) = looks(&rgba, &[PASS_GREEN, FAIL_RED]);
    assert!(
        inked > 0.02,
        "the page looks blank: {inked:.4} of pixels inked"
    );
    assert_eq!(colours, [true, true], "the verdict colours are on screen");

    let dom = dump_dom(&dir, &page);
    for (verdict, key) in common::VERDICT_FIELDS {
        let shown = text_of(&dom, &format!("#count-{verdict}"))
            .unwrap_or_else(|| panic!("#count-{verdict} is on the page"));
        let counted = report["summary"][key].as_u64().expect("a count");
        assert_eq!(shown, counted.to_string(), "count of {verdict}");
    }
    assert!(
        report["summary"]["failed"].as_u64() > Some(0),
        "the fault was caught"
    );
    let dangling = dangling_links(&dom);
    assert!(dangling.is_empty(), "links without a target: {dangling:?}");
    let cases = report["cases"].as_array().expect("cases").len();
    let sections = dom.select(&sel("section.case")).count();
    assert!(
        sections >= cases,
        "{sections} case sections for {cases} cases"
    );

    let measured = probe(&dir, &page);
    assert!(measured["error"].is_null(), "{measured}");
    assert_eq!(measured["dangling"], serde_json::json!([]), "{measured}");
    assert!(measured["links"].as_u64() > Some(10), "{measured}");
    assert!(
        measured["summary_height"].as_f64() > Some(20.0),
        "{measured}"
    );
    let timelines = measured["timelines"].as_array().expect("timelines");
    let kept = ["violation", "example"]
        .iter()
        .filter(|k| !report["concurrent"][**k].is_null())
        .count();
    assert!(kept > 0, "the run kept a concurrent round");
    assert_eq!(
        timelines.len(),
        kept,
        "one timeline per kept round: {measured}"
    );
    for timeline in timelines {
        let lanes = timeline["lanes"].as_array().expect("lanes");
        assert_eq!(
            lanes.len() as u64,
            timeline["devices"].as_u64().expect("data-devices"),
            "one lane per device: {timeline}"
        );
        let mut tops: Vec<f64> = Vec::new();
        for lane in lanes {
            assert!(
                lane["ops"].as_u64() > Some(0),
                "a lane without bars: {lane}"
            );
            assert!(
                lane["width"].as_f64() > Some(1.0) && lane["height"].as_f64() > Some(1.0),
                "a lane the browser did not lay out: {lane}"
            );
            tops.push(lane["y"].as_f64().expect("y"));
        }
        tops.sort_by(f64::total_cmp);
        tops.dedup();
        assert_eq!(tops.len(), lanes.len(), "lanes are stacked: {timeline}");
    }
    if !report["concurrent"]["example"].is_null() {
        let devices = report["concurrent"]["example"]["devices"].as_u64();
        assert!(
            timelines.iter().any(|t| t["devices"].as_u64() == devices),
            "the example round's timeline has its {devices:?} devices"
        );
    }
}

#[test]
#[ignore = "needs Chromium: cargo test --test browser -- --ignored (.ci/run runs it)"]
fn the_matrix_renders_in_a_browser() {
    let dir = common::scratch("browser", "matrix");
    let reference = dir.join("reference.json");
    run_check(&[
        "--name",
        "reference",
        "--seed",
        "1",
        "--sequences",
        "20",
        "--rounds",
        "2",
        "--json",
        reference.to_str().expect("utf-8"),
    ]);
    let (mut server, url) = common::spawn_serve(&["--fault", "tombstones-hidden"]);
    let faulty = dir.join("faulty.json");
    run_check(&[
        "--endpoint",
        &url,
        "--name",
        "tombstones-hidden",
        "--seed",
        "1",
        "--sequences",
        "20",
        "--rounds",
        "2",
        "--artifacts",
        dir.join("failures").to_str().expect("utf-8"),
        "--json",
        faulty.to_str().expect("utf-8"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    let page = dir.join("matrix.html");
    let status = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["matrix"])
        .arg(&reference)
        .arg(&faulty)
        .arg("--html")
        .arg(&page)
        .stdout(Stdio::null())
        .status()
        .expect("cogsync matrix runs");
    assert!(status.success(), "matrix exited {status}");

    let (_, _, rgba) = screenshot(&dir, &page);
    let (inked, colours) = looks(&rgba, &[PASS_GREEN, FAIL_RED]);
    assert!(
        inked > 0.02,
        "the page looks blank: {inked:.4} of pixels inked"
    );
    assert_eq!(colours, [true, true], "pass and fail cells are on screen");

    let dom = dump_dom(&dir, &page);
    let names: Vec<String> = dom
        .select(&sel("th.endpoint"))
        .map(|e| e.text().collect::<String>())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].contains("reference") && names[1].contains("tombstones-hidden"),
        "{names:?}"
    );
    for (col, json) in [(1, &reference), (2, &faulty)] {
        let report = read_json(json);
        for (verdict, key) in common::VERDICT_FIELDS {
            let shown = text_of(&dom, &format!("#e{col}-count-{verdict}"))
                .unwrap_or_else(|| panic!("#e{col}-count-{verdict} is on the page"));
            let counted = report["summary"][key].as_u64().expect("a count");
            assert_eq!(shown, counted.to_string(), "column {col}, {verdict}");
        }
    }
    let failing = dom.select(&sel("td.cell.fail")).count();
    assert!(failing > 0, "the fault's column has failing cells");
    let dangling = dangling_links(&dom);
    assert!(dangling.is_empty(), "links without a target: {dangling:?}");
    let measured = probe(&dir, &page);
    assert_eq!(measured["dangling"], serde_json::json!([]), "{measured}");
    assert!(measured["links"].as_u64() > Some(100), "{measured}");
}
