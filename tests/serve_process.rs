//! `cogsync serve` as a separate process, as a user runs it: it prints its URL, `check`
//! passes it over the network, data survives a restart with `--db`, and SIGTERM stops it
//! cleanly.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

struct Serve {
    child: Child,
    url: String,
}

fn serve(extra: &[&str]) -> Serve {
    let (child, url) = common::spawn_serve(extra);
    Serve { child, url }
}

fn stop(mut serve: Serve) -> std::process::ExitStatus {
    let pid = serve.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    for _ in 0..100 {
        if let Ok(Some(status)) = serve.child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = serve.child.kill();
    serve.child.wait().expect("stopped")
}

fn check(url: &str, extra: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(["check", "--endpoint", url])
        .args(extra)
        .output()
        .expect("cogsync check runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn check_passes_a_serve_process_over_the_network() {
    let server = serve(&[]);
    let (code, text) = check(&server.url, &["--sequences", "100", "--rounds", "5"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.lines().any(|l| l.contains(" passed, 0 failed")),
        "{text}"
    );
    assert!(stop(server).success(), "SIGTERM stops serve cleanly");
}

#[test]
fn a_file_database_survives_a_restart() {
    let db = std::env::temp_dir().join(format!("cogsync-serve-{}.db", std::process::id()));
    let db_arg = db.to_string_lossy().into_owned();
    let dataset = "/identitypools/us-east-1%3A00000000-0000-4000-8000-000000000001/identities/us-east-1%3A00000000-0000-4000-8000-000000000002/datasets/kept";
    let curl = |args: &[&str]| -> String {
        let out = Command::new("curl")
            .args(["-sS"])
            .args(args)
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let first = serve(&["--db", &db_arg]);
    let listed: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{}{dataset}/records", first.url)])).expect("json");
    let token = listed["SyncSessionToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let body = format!(
        r#"{{"SyncSessionToken":"{token}","RecordPatches":[{{"Op":"replace","Key":"k","Value":"v","SyncCount":0}}]}}"#
    );
    let written = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data-binary",
        &body,
        &format!("{}{dataset}", first.url),
    ]);
    assert!(written.contains("\"SyncCount\":1"), "{written}");
    assert!(stop(first).success());

    let second = serve(&["--db", &db_arg]);
    let listed: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{}{dataset}/records", second.url)])).expect("json");
    assert_eq!(listed["DatasetSyncCount"], 1, "{listed}");
    assert_eq!(listed["Records"][0]["Value"], "v", "{listed}");
    assert!(stop(second).success());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db_arg}{suffix}"));
    }
}

#[test]
fn serve_events_writes_stream_records_of_a_write_to_its_file() {
    let events = std::env::temp_dir().join(format!("cogsync-serve-{}.jsonl", std::process::id()));
    let events_arg = events.to_string_lossy().into_owned();
    let pool = "/identitypools/us-east-1%3A00000000-0000-4000-8000-000000000003";
    let dataset =
        format!("{pool}/identities/us-east-1%3A00000000-0000-4000-8000-000000000004/datasets/d");
    let curl = |args: &[&str]| -> String {
        let out = Command::new("curl")
            .args(["-sS", "-H", "content-type: application/json"])
            .args(args)
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let server = serve(&["--events", &events_arg]);
    let config = r#"{"CognitoStreams":{"StreamName":"s","StreamingStatus":"ENABLED"}}"#;
    let set = curl(&[
        "--data-binary",
        config,
        &format!("{}{pool}/configuration", server.url),
    ]);
    assert!(set.contains("ENABLED"), "{set}");
    let listed: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{}{dataset}/records", server.url)])).expect("json");
    let token = listed["SyncSessionToken"].as_str().expect("token");
    let body = format!(
        r#"{{"SyncSessionToken":"{token}","RecordPatches":[{{"Op":"replace","Key":"k","Value":"v","SyncCount":0}}]}}"#
    );
    curl(&["--data-binary", &body, &format!("{}{dataset}", server.url)]);
    // Flushed per event: the line is there while the server still runs.
    let text = std::fs::read_to_string(&events).expect("events file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["event"], "stream");
    assert_eq!(lines[0]["record"]["kinesisSyncRecords"][0]["key"], "k");
    assert!(stop(server).success());
    let _ = std::fs::remove_file(&events);
}
