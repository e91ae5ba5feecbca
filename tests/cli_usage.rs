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
