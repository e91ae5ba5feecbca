//! Usage mistakes are usage errors (exit 2) that say what would be right, before anything runs.

use std::process::Command;

fn check(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .arg("check")
        .args(args)
        .output()
        .expect("run cogsync check");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn expect_fail_file(name: &str, text: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("cogsync-usage-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write expect-fail file");
    path
}

#[test]
fn an_only_prefix_that_matches_nothing_names_the_closest_id() {
    let (code, err) = check(&["--only", "update-record.sync-count.stale-rejected"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(r#"did you mean "update-records.sync-count.stale-rejected""#),
        "{err}"
    );
    let (code, err) = check(&["--only", "update-record.sync"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(r#"did you mean "update-records.sync""#),
        "{err}"
    );
    let (code, err) = check(&["--skip", "nosuch"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--skip nosuch: no case ID starts with it"),
        "{err}"
    );
}

#[test]
fn an_unknown_id_or_table_in_expect_fail_is_a_usage_error() {
    let typo = expect_fail_file(
        "id",
        "[expected-failures]\n\"update-records.sync-count.stale-rejectd\" = \"known\"\n",
    );
    let (code, err) = check(&["--expect-fail", typo.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(r#"did you mean "update-records.sync-count.stale-rejected""#),
        "{err}"
    );
    let table = expect_fail_file(
        "table",
        "[expected_failures]\n\"update-records.sync-count.stale-rejected\" = \"known\"\n",
    );
    let (code, err) = check(&["--expect-fail", table.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("expected_failures"), "{err}");
    for path in [typo, table] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn an_endpoint_without_a_scheme_suggests_http() {
    let (code, err) = check(&["--endpoint", "127.0.0.1:8080"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("try http://127.0.0.1:8080"), "{err}");
}

#[test]
fn a_partition_outside_one_to_n_is_a_usage_error() {
    for bad in ["0/4", "5/4", "1/0", "2", "a/b"] {
        let (code, err) = check(&["--partition", bad]);
        assert_eq!(code, Some(2), "--partition {bad}: {err}");
        assert!(
            err.contains("K/N"),
            "--partition {bad} says what is expected: {err}"
        );
    }
}

#[test]
fn jobs_take_auto_or_a_number_within_max_inflight() {
    let (code, err) = check(&["--jobs", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("auto"), "{err}");
    let (code, err) = check(&["--jobs", "100", "--max-inflight", "64"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--jobs 100 is above --max-inflight 64"),
        "{err}"
    );
    let (code, err) = check(&["--max-inflight", "0"]);
    assert_eq!(code, Some(2), "{err}");
}

/// A loopback web server that is not Cognito Sync: every request gets an HTML 404, as
/// `python3 -m http.server` answers unknown paths. It serves a few connections, then stops.
fn html_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buffer = [0_u8; 4096];
            let _ = stream.read(&mut buffer);
            let body = "<html><body><h1>Error response</h1><p>Error code: 404</p></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.0 404 File not found\r\nContent-Type: text/html;charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn an_endpoint_that_is_not_cognito_sync_gets_one_paragraph_and_exit_3() {
    let url = html_server();
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["check", "--endpoint", &url, "--timeout", "3"])
        .output()
        .expect("run cogsync check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("does not answer like a Cognito Sync endpoint"),
        "{stderr}"
    );
    assert!(stderr.contains("Check the base path"), "{stderr}");
    assert!(
        stdout.lines().count() + stderr.lines().count() < 12,
        "one paragraph, not a run:\n{stdout}\n{stderr}"
    );
}

fn list(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .arg("list")
        .args(args)
        .output()
        .expect("run cogsync list");
    assert_eq!(output.status.code(), Some(0));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn list_filters_like_only_by_requirement_and_by_level_and_prints_json() {
    let everything: serde_json::Value =
        serde_json::from_str(&list(&["--json"])).expect("list --json is JSON");
    let rows = everything.as_array().expect("an array");
    let cases = rows.iter().filter(|r| r["kind"] == "case").count();
    let all = list(&[]);
    assert!(
        all.trim_end().ends_with(&format!(
            "{cases} of {cases} named cases, and 2 of 2 phases"
        )),
        "{all}"
    );
    // A prefix, as --only takes it: `tokens.` but not every ID that merely contains it.
    let tokens = list(&["tokens."]);
    assert!(
        tokens
            .lines()
            .filter(|l| !l.contains(" named cases"))
            .all(|l| l.starts_with("tokens.")),
        "{tokens}"
    );
    let ur_8 = list(&["UR-8"]);
    assert!(ur_8.lines().count() > 2, "{ur_8}");
    for line in ur_8.lines().filter(|l| !l.contains(" named cases")) {
        assert!(line.contains("UR-8"), "{line}");
    }
    let unstated = list(&["UNSTATED"]);
    assert!(unstated.contains("UNSTATED"), "{unstated}");
    assert!(!unstated.contains("  MUST  "), "{unstated}");
}
