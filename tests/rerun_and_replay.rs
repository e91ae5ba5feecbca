//! What a failing run leaves behind works: every failed case can be replayed from its file,
//! `--rerun-failed` runs exactly what failed, `--fail-fast` stops and says what did not run,
//! `--quiet` prints one line per failure, and files that are not replay files are named and
//! refused as such.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cogsync::server::{self, Fault, ServerConfig};

const STALE: &str = "update-records.sync-count.stale-rejected";
const FIRST_WRITE: &str = "update-records.first-write.creates-dataset";

fn cogsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cogsync runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cogsync-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn report(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(name)).expect("the JSON report is written");
    serde_json::from_str(&text).expect("the report is JSON")
}

fn case_ids(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_replay_rerun_and_stop_early() {
    let broken = server::spawn(
        ([127, 0, 0, 1], 0).into(),
        ServerConfig {
            fault: Some(Fault::StaleAccepted),
            ..ServerConfig::default()
        },
    )
    .await
    .expect("faulty server");
    let clean = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("clean server");
    let (broken_url, clean_url) = (broken.url(), clean.url());
    let dir = temp_dir("rerun");
    let dir2 = dir.clone();
    tokio::task::spawn_blocking(move || scenario(&dir2, &broken_url, &clean_url))
        .await
        .expect("the scenario ran");
    let _ = std::fs::remove_dir_all(&dir);
}

fn scenario(dir: &Path, broken: &str, clean: &str) {
    // One failing and one passing case, quietly: one line for the failure, then the summary.
    let out = cogsync(
        dir,
        &[
            "check",
            "--endpoint",
            broken,
            "--only",
            STALE,
            FIRST_WRITE,
            "--sequences",
            "0",
            "--devices",
            "0",
            "--quiet",
            "--json",
            "first.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "a failure line, the re-run hint, the summary:\n{stdout}"
    );
    assert!(
        lines[0].starts_with(&format!("FAIL {STALE} — ")),
        "{stdout}"
    );
    assert!(lines[1].contains("--rerun-failed first.json"), "{stdout}");
    assert!(lines[2].starts_with("1 passed, 1 failed"), "{stdout}");
    let first = report(dir, "first.json");
    assert!(first["seed"].is_string(), "the seed is a string: {first}");
    assert!(
        first["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{first}"
    );

    // The named case's file replays it: reproduced on the broken server (exit 1) ...
    let saved = format!("cogsync-failures/{STALE}.json");
    let out = cogsync(dir, &["replay", &saved]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("reproduced:"), "{}", text(&out));
    // ... and not on a correct one (exit 4, saying what was compared).
    let out = cogsync(dir, &["replay", &saved, "--endpoint", clean]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("did not reproduce"), "{}", text(&out));

    // --rerun-failed runs exactly the failed case, with the earlier seed.
    let out = cogsync(
        dir,
        &[
            "check",
            "--endpoint",
            broken,
            "--rerun-failed",
            "first.json",
            "--json",
            "second.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let second = report(dir, "second.json");
    assert_eq!(case_ids(&second), vec![STALE.to_owned()]);
    assert!(second["random"].is_null() && second["concurrent"].is_null());
    assert_eq!(second["seed"], first["seed"]);
    // A report with nothing failed leaves nothing to re-run.
    let out = cogsync(
        dir,
        &[
            "check",
            "--endpoint",
            clean,
            "--rerun-failed",
            "second.json",
            "--json",
            "third.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = cogsync(
        dir,
        &["check", "--endpoint", clean, "--rerun-failed", "third.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing to re-run"), "{}", text(&out));

    // --fail-fast with one case at a time: the first failure stops the run, the rest are
    // reported as not run.
    let out = cogsync(
        dir,
        &[
            "check",
            "--endpoint",
            broken,
            "--only",
            "update-records.sync-count",
            "random",
            "concurrent",
            "--jobs",
            "1",
            "--fail-fast",
            "--json",
            "fast.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let fast = report(dir, "fast.json");
    let not_run = fast["not_run"].as_array().expect("not_run");
    assert!(not_run.iter().any(|id| id == "random"), "{fast}");
    assert!(not_run.iter().any(|id| id == "concurrent"), "{fast}");
    assert_eq!(fast["summary"]["failed"], 1, "{fast}");
    assert!(text(&out).contains("--max-fail reached"), "{}", text(&out));

    // Files that are not replay files say what they are.
    std::fs::write(dir.join("concurrent-7.history.json"), "[]").expect("write");
    let out = cogsync(dir, &["replay", "concurrent-7.history.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is a concurrent history"),
        "{}",
        text(&out)
    );
    let out = cogsync(dir, &["replay", "first.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--rerun-failed"), "{}", text(&out));
}
