//! `cogsync diff` over real runs: the reference server, a fault and an allowed variant, and a
//! hand-edited copy of a report; the exit status is the CI rule (1 only on regressions).

mod common;

use std::path::{Path, PathBuf};

/// A case the `conflict-as-400` fault fails and the reference passes.
const FAILED_BY_FAULT: &str = "update-records.sync-count.stale-rejected";

/// A small run (UpdateRecords and ambiguity cases, a few random sequences) of a server started
/// with `serve`, written to `json`.
fn run(dir: &Path, name: &str, serve: &[&str]) -> PathBuf {
    let (mut child, url) = common::spawn_serve(serve);
    let json = dir.join(format!("{name}.json"));
    let output = common::cogsync(&[
        "check",
        "--endpoint",
        &url,
        "--name",
        name,
        "--seed",
        "1",
        "--only",
        "update-records",
        "ambiguity",
        "random",
        "--sequences",
        "10",
        "--json",
        &json.to_string_lossy(),
        "--artifacts",
        &dir.join(format!("{name}-artifacts")).to_string_lossy(),
        "--quiet",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json
}

fn diff(old: &Path, new: &Path) -> (Option<i32>, String) {
    let output = common::cogsync(&["diff", &old.to_string_lossy(), &new.to_string_lossy()]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code(), format!("{stdout}{stderr}"))
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

#[test]
fn regressions_fail_and_fixes_variants_and_unrun_cases_do_not() {
    let dir = common::scratch("diff", "runs");
    let (reference, fault, variant) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| run(&dir, "reference", &[]));
        let fault = scope.spawn(|| run(&dir, "fault", &["--fault", "conflict-as-400"]));
        let variant = scope.spawn(|| run(&dir, "variant", &["--variant", "dup-key-validation"]));
        (
            reference.join().expect("reference run"),
            fault.join().expect("fault run"),
            variant.join().expect("variant run"),
        )
    });

    let (code, out) = diff(&reference, &reference);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(last_line(&out), "no regressions: nothing changed", "{out}");
    assert!(!out.contains("warning"), "{out}");

    let json = dir.join("diff.json");
    let output = common::cogsync(&[
        "diff",
        &reference.to_string_lossy(),
        &fault.to_string_lossy(),
        "--json",
        &json.to_string_lossy(),
    ]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    let newly_failing = out
        .split("newly failing")
        .nth(1)
        .expect("a newly failing group");
    let newly_failing = newly_failing.split("\n\n").next().unwrap_or("");
    assert!(
        newly_failing.contains(&format!("FAIL       {FAILED_BY_FAULT}  (was PASS)")),
        "{out}"
    );
    assert!(last_line(&out).contains("regression"), "{out}");
    assert!(
        out.contains("warning: the reports name different endpoints"),
        "{out}"
    );
    let structured: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("--json written"))
            .expect("JSON");
    assert!(
        structured["newly_failing"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|c| c["id"] == FAILED_BY_FAULT && c["old"] == "pass" && c["new"] == "fail"),
        "{structured}"
    );

    let (code, out) = diff(&fault, &reference);
    assert_eq!(code, Some(0), "{out}");
    let fixed = out.split("newly passing").nth(1).expect("a fixed group");
    assert!(
        fixed.contains(&format!("PASS       {FAILED_BY_FAULT}  (was FAIL)")),
        "{out}"
    );
    assert!(last_line(&out).starts_with("no regressions: "), "{out}");
    assert!(last_line(&out).contains(" fixed"), "{out}");

    let (code, out) = diff(&reference, &variant);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("AMB-DUP-KEY  reference → alternative: 400 ValidationException"),
        "{out}"
    );
    assert!(last_line(&out).contains("profile change"), "{out}");

    // A failing case NEW does not have is not a fix.
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fault).expect("fault report"))
            .expect("JSON");
    edited["cases"]
        .as_array_mut()
        .expect("cases")
        .retain(|c| c["id"] != FAILED_BY_FAULT);
    let without = dir.join("without.json");
    std::fs::write(&without, edited.to_string()).expect("written");
    let (code, out) = diff(&fault, &without);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "FAIL       {FAILED_BY_FAULT}  (not a fix: NEW did not run it)"
        )),
        "{out}"
    );
    assert!(!out.contains("newly passing"), "{out}");
    assert_eq!(last_line(&out), "no regressions: 1 not run", "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_or_foreign_files_are_usage_errors() {
    let dir = common::scratch("diff", "usage");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "\u{0}\u{1} not json").expect("written");
    let missing = dir.join("missing.json");
    let (code, out) = diff(&garbage, &garbage);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("garbage.json is not a report"), "{out}");
    let (code, out) = diff(&missing, &garbage);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("cannot read") && out.contains("missing.json"),
        "{out}"
    );
    let help = common::cogsync(&["diff", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("1  something regressed"), "{help}");
    assert!(help.contains("A regression is"), "{help}");
    let _ = std::fs::remove_dir_all(&dir);
}
