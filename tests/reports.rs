//! Snapshots of the machine-readable reports of `cogsync check` (JSON and JUnit), with
//! durations, seeds, run IDs, ports and tokens redacted, so their shape changes only on purpose.

use std::process::Command;

fn run_check(dir: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let json = dir.join("report.json");
    let junit = dir.join("report.xml");
    let mut args = vec![
        "check".to_owned(),
        "--only".to_owned(),
        "update-records.first-write.creates-dataset".to_owned(),
        "update-records.sync-count.stale-rejected".to_owned(),
        "random".to_owned(),
        "concurrent".to_owned(),
        "--rounds".to_owned(),
        "2".to_owned(),
        "--sequences".to_owned(),
        "40".to_owned(),
        "--jobs".to_owned(),
        "1".to_owned(),
        "--seed".to_owned(),
        "7".to_owned(),
        "--json".to_owned(),
        json.to_string_lossy().into_owned(),
        "--junit".to_owned(),
        junit.to_string_lossy().into_owned(),
        "--artifacts".to_owned(),
        dir.join("artifacts").to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
        .args(&args)
        .output()
        .expect("cogsync runs");
    let code = output.status.code().unwrap_or(-1);
    let json = std::fs::read_to_string(&json).expect("the JSON report is written");
    let junit = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    (code, json, junit)
}

/// Replaces the value of every `name="…"` attribute with `[name]`.
fn redact_attr(xml: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&needle) {
        out.push_str(&rest[..i + needle.len()]);
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str(&format!("[{name}]"));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces the value of the JUnit property `name` with `[name]`.
fn redact_property(xml: &str, name: &str) -> String {
    let needle = format!("<property name=\"{name}\" value=\"");
    match xml.find(&needle) {
        Some(i) => {
            let start = i + needle.len();
            let end = start + xml[start..].find('"').unwrap_or(0);
            format!("{}[{name}]{}", &xml[..start], &xml[end..])
        }
        None => xml.to_owned(),
    }
}

#[test]
fn json_and_junit_reports_of_a_passing_run() {
    let dir = std::env::temp_dir().join(format!("cogsync-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (code, json, junit) = run_check(&dir, &[]);
    assert_eq!(code, 0, "the reference server passes:\n{json}");

    let value: serde_json::Value = serde_json::from_str(&json).expect("the report is JSON");
    assert!(
        value["random"]["coverage"]["operations"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "the random phase ran"
    );
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_json_snapshot!("report_json_passing", value, {
            ".endpoint" => "[endpoint]",
            ".run_id" => "[run_id]",
            ".seed" => "[seed]",
            ".elapsed_ms" => "[ms]",
            ".started_at" => "[timestamp]",
            ".cases[].duration_ms" => "[ms]",
            ".random.seed" => "[seed]",
            ".random.elapsed_ms" => "[ms]",
            ".random.operations_per_sec" => "[rate]",
            ".random.coverage" => "[coverage]",
            ".random.sequences" => "[count]",
            ".concurrent.elapsed_ms" => "[ms]",
            ".concurrent.check_ms" => "[ms]",
            ".concurrent.operations" => "[count]",
            ".concurrent.conflicts" => "[count]",
            ".concurrent.indeterminate" => "[count]",
        });
        let mut xml = redact_attr(&redact_attr(&redact_attr(&junit, "time"), "timestamp"), "uuid");
        for name in ["endpoint", "run_id", "started_at", "version"] {
            xml = redact_property(&xml, name);
        }
        insta::assert_snapshot!("report_junit_passing", xml);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn expected_failures_that_pass_fail_the_run() {
    let dir = std::env::temp_dir().join(format!("cogsync-xpass-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list = dir.join("expect-fail.toml");
    std::fs::write(&list, "[expected-failures]\n\"update-records.sync-count.stale-rejected\" = \"tracked as bug 1\"\n")
        .expect("write list");
    let (code, json, junit) = run_check(&dir, &["--expect-fail", &list.to_string_lossy()]);
    assert_eq!(
        code, 1,
        "a listed case that passes is XPASS and fails the run"
    );
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["summary"]["xpass"], 1);
    let case = value["cases"]
        .as_array()
        .and_then(|cases| {
            cases
                .iter()
                .find(|c| c["id"] == "update-records.sync-count.stale-rejected")
        })
        .expect("the case is reported");
    assert_eq!(case["verdict"], "xpass");
    assert!(junit.contains("XPASS"), "{junit}");
    let _ = std::fs::remove_dir_all(&dir);
}
