//! Fuzzing campaigns: a corpus directory that a run resumes from and that several processes
//! share, findings kept once per signature with the smallest reproduction, `--merge`,
//! `--workers`, and a `--duration forever` run stopped cleanly by SIGTERM. Every run is against
//! the embedded reference server (or one of its faults), bounded by iterations or seconds.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cogsync, scratch};
use serde_json::Value;

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `cogsync fuzz` with a JSON report; returns exit code, output and report.
fn fuzz(dir: &Path, name: &str, args: &[&str]) -> (i32, String, Value) {
    let json = dir.join(format!("{name}.json"));
    let artifacts = dir.join("artifacts");
    let mut all = vec![
        "fuzz",
        "--json",
        json.to_str().expect("utf-8 path"),
        "--artifacts",
        artifacts.to_str().expect("utf-8 path"),
    ];
    all.extend_from_slice(args);
    let output = cogsync(&all);
    let out = text(&output);
    let report = std::fs::read(&json)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("no JSON report; output:\n{out}"));
    (output.status.code().unwrap_or(-1), out, report)
}

/// Every signature the inputs of a corpus directory record, and how many inputs it has.
fn corpus_signatures(dir: &Path) -> (usize, BTreeSet<String>) {
    let mut all = BTreeSet::new();
    let mut inputs = 0;
    for entry in std::fs::read_dir(dir.join("queue")).expect("queue/") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("readable");
        let saved: Value = serde_json::from_slice(&bytes).expect("every queue file is whole JSON");
        inputs += 1;
        for s in saved["signatures"].as_array().expect("signatures") {
            all.insert(s.as_str().expect("string").to_owned());
        }
    }
    (inputs, all)
}

/// Finding groups and the files in each.
fn finding_groups(dir: &Path) -> Vec<(String, usize)> {
    let mut groups: Vec<(String, usize)> = std::fs::read_dir(dir.join("findings"))
        .expect("findings/")
        .map(|g| {
            let g = g.expect("entry");
            let files = std::fs::read_dir(g.path()).expect("group").count();
            (g.file_name().to_string_lossy().into_owned(), files)
        })
        .collect();
    groups.sort();
    groups
}

#[test]
fn a_campaign_keeps_its_corpus_and_resumes_from_it() {
    let dir = scratch("campaign", "resume");
    let corpus = dir.join("corpus");
    let c = corpus.to_str().expect("utf-8");
    let (code, out, first) = fuzz(
        &dir,
        "first",
        &["--seed", "1", "--iterations", "1500", "--corpus", c],
    );
    assert_eq!(code, 0, "{out}");
    let (inputs, signatures) = corpus_signatures(&corpus);
    assert!(
        inputs > 5,
        "inputs that reached new signatures are saved: {inputs}\n{out}"
    );
    assert_eq!(
        first["signatures"].as_u64(),
        Some(signatures.len() as u64),
        "{out}"
    );
    assert!(
        signatures
            .iter()
            .any(|s| s.starts_with("shape|UpdateRecords|replace:tombstone")),
        "model state shapes are signatures: {signatures:?}"
    );
    assert!(
        std::fs::read_dir(corpus.join("tmp"))
            .expect("tmp/")
            .next()
            .is_none()
    );

    let (code, out, second) = fuzz(
        &dir,
        "second",
        &["--seed", "2", "--iterations", "300", "--corpus", c],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "({inputs} inputs, {} signatures",
            signatures.len()
        )),
        "the second run starts from the first one's corpus:\n{out}"
    );
    // Resumed: everything the first run reached counts, only new ones are new.
    let total = second["signatures"].as_u64().expect("signatures");
    let new = second["new_signatures"].as_u64().expect("new_signatures");
    assert_eq!(total, signatures.len() as u64 + new, "{out}");
}

#[test]
fn findings_are_kept_once_per_signature_with_the_smallest_reproduction() {
    let dir = scratch("campaign", "findings");
    let corpus = dir.join("corpus");
    let c = corpus.to_str().expect("utf-8");
    let args = |seed: &'static str| {
        vec![
            "--fault",
            "tombstones-hidden",
            "--seed",
            seed,
            "--iterations",
            "400",
            "--corpus",
            c,
        ]
    };
    let (code, out, report) = fuzz(&dir, "a", &args("1"));
    assert_eq!(code, 1, "the fault is found:\n{out}");
    let findings = report["findings"].as_array().expect("findings");
    let signatures: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["signature"].as_str().expect("signature"))
        .collect();
    assert_eq!(
        signatures.len(),
        findings.len(),
        "one finding per signature in a run"
    );
    let groups = finding_groups(&corpus);
    assert_eq!(groups.len(), findings.len(), "{groups:?}");
    // One symptom, shown by many mutations, is few findings, not one per mutation.
    assert!(findings.len() <= 4, "{out}");

    let (_, out, _) = fuzz(&dir, "b", &args("2"));
    assert!(out.contains("finding group(s) before this run"), "{out}");
    let after = finding_groups(&corpus);
    assert!(
        after.iter().all(|(_, files)| *files == 1),
        "each group keeps one reproduction: {after:?}"
    );
    for (group, _) in &after {
        let file = std::fs::read_dir(corpus.join("findings").join(group))
            .expect("group")
            .next()
            .expect("a file")
            .expect("entry")
            .path();
        let saved: Value = serde_json::from_slice(&std::fs::read(&file).expect("readable"))
            .expect("a whole JSON finding");
        assert!(saved["finding"]["request"]["method"].is_string(), "{saved}");
        // Handed to replay, it is told apart from the files replay runs.
        let output = cogsync(&["replay", file.to_str().expect("utf-8")]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(
            text(&output).contains("finding of a fuzz campaign"),
            "{}",
            text(&output)
        );
        assert!(
            !saved["input"]["genes"]
                .as_array()
                .expect("genes")
                .is_empty()
        );
    }
}

#[test]
fn merge_keeps_every_signature_and_every_finding_of_its_sources() {
    let dir = scratch("campaign", "merge");
    let a = dir.join("a");
    let b = dir.join("b");
    let m = dir.join("m");
    let s = |p: &Path| p.to_str().expect("utf-8").to_owned();
    fuzz(
        &dir,
        "a",
        &["--seed", "3", "--iterations", "800", "--corpus", &s(&a)],
    );
    fuzz(
        &dir,
        "b",
        &[
            "--fault",
            "conflict-as-400",
            "--seed",
            "4",
            "--iterations",
            "800",
            "--corpus",
            &s(&b),
        ],
    );
    let output = cogsync(&["fuzz", "--corpus", &s(&m), "--merge", &s(&a), &s(&b)]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("merged 2 directories"), "{out}");
    let (_, sig_a) = corpus_signatures(&a);
    let (_, sig_b) = corpus_signatures(&b);
    let (inputs_m, sig_m) = corpus_signatures(&m);
    let union: BTreeSet<String> = sig_a.union(&sig_b).cloned().collect();
    assert_eq!(
        sig_m, union,
        "the merged corpus reaches every signature of its sources"
    );
    let (inputs_a, _) = corpus_signatures(&a);
    let (inputs_b, _) = corpus_signatures(&b);
    assert!(
        inputs_m <= inputs_a + inputs_b,
        "redundant inputs are dropped"
    );
    let groups: BTreeSet<String> = finding_groups(&m).into_iter().map(|(g, _)| g).collect();
    let source_groups: BTreeSet<String> = finding_groups(&b).into_iter().map(|(g, _)| g).collect();
    assert!(!source_groups.is_empty(), "the fault run filed findings");
    assert_eq!(groups, source_groups);

    // Not a corpus: a usage error that says so.
    let output = cogsync(&[
        "fuzz",
        "--corpus",
        &s(&m),
        "--merge",
        &s(&dir.join("nothing")),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("not a corpus directory"));
}

#[test]
fn workers_share_one_campaign_on_separate_identities() {
    let dir = scratch("campaign", "workers");
    let (code, out, report) = fuzz(
        &dir,
        "w",
        &["--seed", "5", "--iterations", "900", "--workers", "3"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(report["workers"].as_u64(), Some(3));
    assert!(report["iterations"].as_u64().expect("iterations") >= 900);
    assert!(
        report["findings"].as_array().expect("findings").is_empty(),
        "{out}"
    );
    assert!(
        out.contains("repeat (without --workers and --corpus)"),
        "{out}"
    );
}

#[test]
fn processes_sharing_a_corpus_directory_leave_only_whole_files() {
    let dir = scratch("campaign", "shared");
    let corpus = dir.join("corpus");
    let c = corpus.to_str().expect("utf-8").to_owned();
    let spawn = |seed: &str| {
        Command::new(env!("CARGO_BIN_EXE_cogsync"))
            .args(["fuzz", "--seed", seed, "--duration", "3s", "--corpus", &c])
            .args([
                "--artifacts",
                dir.join("artifacts").to_str().expect("utf-8"),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("starts")
    };
    let mut one = spawn("6");
    let mut two = spawn("7");
    assert!(one.wait().expect("ends").success());
    assert!(two.wait().expect("ends").success());
    // corpus_signatures parses every queue file; a torn write would fail it.
    let (inputs, signatures) = corpus_signatures(&corpus);
    assert!(inputs > 0 && !signatures.is_empty());
    assert!(
        std::fs::read_dir(corpus.join("tmp"))
            .expect("tmp/")
            .next()
            .is_none()
    );
    // A third process starts from both.
    let (_, out, _) = fuzz(
        &dir,
        "third",
        &["--seed", "8", "--iterations", "50", "--corpus", &c],
    );
    assert!(out.contains(&format!("({inputs} inputs")), "{out}");
}

#[cfg(unix)]
#[test]
fn a_forever_run_stops_cleanly_on_sigterm_and_saves_everything() {
    let dir = scratch("campaign", "forever");
    let corpus = dir.join("corpus");
    let json = dir.join("r.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["fuzz", "--duration", "forever", "--seed", "9"])
        .args(["--corpus", corpus.to_str().expect("utf-8")])
        .args(["--json", json.to_str().expect("utf-8")])
        .args([
            "--artifacts",
            dir.join("artifacts").to_str().expect("utf-8"),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("output");
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("until Ctrl-C or SIGTERM"), "{out}");
    assert!(out.contains("stopped by a signal"), "{out}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the report is written"))
            .expect("JSON");
    assert_eq!(report["stopped"], Value::Bool(true));
    assert!(report["iterations"].as_u64().expect("iterations") > 0);
    let (inputs, _) = corpus_signatures(&corpus);
    assert!(inputs > 0, "the corpus is saved");
}

#[test]
fn blind_and_corpus_do_not_go_together() {
    let output = cogsync(&["fuzz", "--blind", "--corpus", "x", "--iterations", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

#[test]
fn stop_on_finding_ends_the_run_at_its_first_finding() {
    let dir = scratch("campaign", "stop-on-finding");
    let (code, out, report) = fuzz(
        &dir,
        "s",
        &[
            "--fault",
            "tombstones-hidden",
            "--seed",
            "1",
            "--duration",
            "120s",
            "--stop-on-finding",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        report["findings"].as_array().expect("findings").len(),
        1,
        "{out}"
    );
    let first = &report["first_finding"];
    assert!(first["requests"].as_u64().expect("requests") > 0, "{out}");
    assert!(
        report["elapsed_ms"].as_f64().expect("elapsed") < 60_000.0,
        "the run ended at its finding, not at its duration: {out}"
    );
}
