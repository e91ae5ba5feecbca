//! `cogsync fuzz` end to end: the clean embedded server gives no finding (and no NON-STRICT
//! note, even with `--strict`), and injected faults are found, shrunk, saved and printed as curl.
//! Runs are bounded in time and count.

use std::process::Command;

fn fuzz(extra: &[&str], artifacts: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args([
            "fuzz",
            "--duration",
            "5s",
            "--iterations",
            "400",
            "--seed",
            "7",
        ])
        .arg("--artifacts")
        .arg(artifacts)
        .args(extra)
        .output()
        .expect("run cogsync fuzz");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}\n--- stderr ---\n{stderr}"),
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cogsync-netfuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_clean_embedded_server_gives_no_finding() {
    let dir = temp_dir("clean");
    let (code, out) = fuzz(&[], &dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("cogsync fuzz: seed 7"), "{out}");
    assert!(out.contains("requests/s"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.ends_with(" passed, 0 failed, 0 non-strict")),
        "{out}"
    );
    assert!(!dir.exists(), "nothing is saved without a finding");
}

#[test]
fn the_clean_embedded_server_passes_a_strict_run() {
    let dir = temp_dir("strict");
    let (code, out) = fuzz(&["--strict"], &dir);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(!dir.exists(), "nothing is saved without a finding");
}

#[test]
fn a_missing_error_type_header_is_a_must_finding() {
    let dir = temp_dir("header");
    let (code, out) = fuzz(&["--fault", "error-type-header-missing"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL error without an x-amzn-ErrorType (ERR-1)"),
        "{out}"
    );
    let saved: Vec<String> = std::fs::read_dir(&dir)
        .expect("artifacts saved")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read_to_string(p).expect("read finding"))
        .collect();
    assert!(
        saved.iter().any(|f| {
            f.contains(r#""oracle_id": "malformed.error-type-missing""#)
                && f.contains(r#""level": "MUST""#)
        }),
        "{saved:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_500_on_non_ascii_keys_is_found_shrunk_and_printed_as_curl() {
    let dir = temp_dir("fault");
    let (code, out) = fuzz(&["--fault", "500-on-non-ascii-key"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL valid traffic: 5xx answer (ERR-3)"),
        "{out}"
    );
    assert!(out.contains("curl -sS -i"), "{out}");
    assert!(out.contains("HTTP 500"), "{out}");
    let saved: Vec<_> = std::fs::read_dir(&dir)
        .expect("artifacts saved")
        .map(|e| e.expect("entry").path())
        .collect();
    let script = saved
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "sh"))
        .expect("a curl script");
    let script = std::fs::read_to_string(script).expect("read script");
    // Shrinking keeps only what the failure needs: one patch with a non-ASCII key.
    assert!(!script.contains("DeviceId"), "{script}");
    assert!(script.contains("\"RecordPatches\":[{"), "{script}");
    assert!(
        saved
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "json")),
        "{saved:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fault_with_an_endpoint_is_a_usage_error() {
    let (code, out) = fuzz(
        &[
            "--fault",
            "500-on-non-ascii-key",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        &temp_dir("usage"),
    );
    assert_eq!(code, 2, "{out}");
}

/// Precision: no allowed variant of the reference server is ever a finding (docs/spec.md,
/// "Never fail a correct server"). A few seconds per variant, bounded by iterations too.
#[test]
fn no_allowed_variant_gives_a_finding() {
    let list = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["serve", "--variant", "list"])
        .output()
        .expect("list variants");
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(names.len() >= 30, "variants: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let dir = temp_dir(&format!("variant-{name}"));
        let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
            .args([
                "fuzz",
                "--duration",
                "3s",
                "--iterations",
                "250",
                "--seed",
                "11",
                "--variant",
                name,
            ])
            .arg("--artifacts")
            .arg(&dir)
            .output()
            .expect("run cogsync fuzz");
        let out = String::from_utf8_lossy(&output.stdout);
        let summary_ok = out.lines().any(|l| l.contains(" passed, 0 failed, "));
        if output.status.code() != Some(0) || !summary_ok {
            failures.push(format!("{name}:\n{out}"));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs `cogsync fuzz` with `args`, its JSON report beside the artifacts; (stdout, report with
/// the run id replaced by `RUNID`, so two runs' identities compare equal).
fn fuzz_report(args: &[String], name: &str) -> (String, serde_json::Value) {
    let dir = temp_dir(name);
    let json = dir.with_extension("json");
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(args)
        .arg("--artifacts")
        .arg(&dir)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run cogsync fuzz");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let run_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run id: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the run id is printed:\n{stdout}"))
        .to_owned();
    let text = std::fs::read_to_string(&json).expect("the JSON report is written");
    let report = serde_json::from_str(&text.replace(&run_id, "RUNID")).expect("JSON");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&json);
    (stdout, report)
}

/// What must be equal between a run and its repeat: every count, the sequence digest, and each
/// finding with its shrunk request (bodies by length: they carry the endpoint's tokens).
fn repeated_part(report: &serde_json::Value) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            serde_json::json!([
                f["oracle_id"],
                f["mutation"],
                f["occurrences"],
                f["body_bytes_original"],
                f["body_bytes_shrunk"],
                f["request"]["method"],
                f["request"]["path_and_query"],
                f["request"]["headers"],
            ])
        })
        .collect();
    serde_json::json!({
        "counts": [
            report["iterations"], report["requests"], report["malformed"],
            report["valid_calls"], report["skipped"], report["non_strict"],
        ],
        "sequence_digest": report["sequence_digest"],
        "findings": findings,
    })
}

/// A run stopped by time prints its seed and iteration count; running that command again
/// sends the same requests in the same order and finds the same findings, shrunk the same.
#[test]
fn a_run_repeats_exactly_from_the_seed_and_iteration_count_it_prints() {
    let first: Vec<String> = [
        "fuzz",
        "--duration",
        "3s",
        "--seed",
        "5",
        "--fault",
        "500-on-non-ascii-key",
    ]
    .map(str::to_owned)
    .to_vec();
    let (out, report) = fuzz_report(&first, "repeat-first");
    assert!(out.starts_with("cogsync fuzz: seed 5 "), "{out}");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("repeat exactly: cogsync "))
        .unwrap_or_else(|| panic!("the repeat command is printed:\n{out}"));
    let (command, digest) = line.split_once(" (sequence digest ").expect("a digest");
    assert_eq!(
        command,
        format!(
            "fuzz --seed 5 --iterations {} --fault 500-on-non-ascii-key",
            report["iterations"]
        )
    );
    assert_eq!(
        Some(digest.trim_end_matches(')')),
        report["sequence_digest"].as_str()
    );
    assert!(
        !report["findings"].as_array().expect("findings").is_empty(),
        "the fault is found, so the findings compare something:\n{out}"
    );

    let again: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    let (out_again, repeated) = fuzz_report(&again, "repeat-again");
    assert_eq!(
        repeated_part(&repeated),
        repeated_part(&report),
        "{out_again}"
    );
    assert!(
        out_again.contains(line),
        "the repeat prints the same line:\n{out_again}"
    );
}
