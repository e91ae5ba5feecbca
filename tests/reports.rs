//! Snapshots of the machine-readable reports of `cogsync check` (JSON and JUnit), with
//! durations, seeds, run IDs, ports and tokens redacted, so their shape changes only on purpose;
//! and the curl scripts of failures, run with the real `curl`: they send the bytes that were sent
//! and get the answer the harness got.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::Duration;

use cogsync::client::{Endpoint, EndpointOptions, RawRequest};
use cogsync::report::curl::{curl_script, request_script};
use cogsync::spec::{DatasetPath, ListRecordsRequest, ListRecordsResponse, Request};
use cogsync::suite::verdict::{Step, StepVerdict};

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
            // A passing round's history: its times, interleaving and tokens vary run to run.
            ".concurrent.example" => "[round]",
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

fn curl_missing() -> bool {
    let missing = Command::new("curl")
        .arg("--version")
        .output()
        .map_or(true, |o| !o.status.success());
    if missing {
        println!("skipped: no `curl` on the PATH to run the generated scripts with");
    }
    missing
}

/// Runs a generated script with `sh` (and so with the real `curl`); its stdout.
fn run_script(script: &str, name: &str) -> String {
    let path = std::env::temp_dir().join(format!("cogsync-{name}-{}.sh", std::process::id()));
    std::fs::write(&path, script).expect("write the script");
    let output = Command::new("sh")
        .arg(&path)
        .output()
        .expect("sh runs the script");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success(), "{output:?}\n{script}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A raw request no typed call can make: `..`, `.` and `%2F` in the path, a bad escape, a
/// non-UTF-8 body with quotes, a NUL and escapes in it, and no `Content-Type`.
fn raw_path_request() -> RawRequest {
    RawRequest {
        method: "POST".to_owned(),
        path_and_query: "/identitypools/us-east-1%3A00000000-c065-4000-8000-000000000000/\
                         identities/../identities/./us-east-1%3Ax/datasets/a%2Fb%zz?q=[1]&r=%25"
            .to_owned(),
        headers: vec![("x-amz-client-context".to_owned(), "it's".to_owned())],
        body: b"{\"SyncSessionToken\":\"\xff\xfe'%\\n\0\"}".to_vec(),
    }
}

#[test]
fn a_curl_script_sends_the_request_line_and_body_bytes_that_were_sent() {
    if curl_missing() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let recorder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("curl connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line).expect("read a line");
            if line == b"\r\n" || line.is_empty() {
                break;
            }
            head.push(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        let length: usize = head
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().expect("a length"))
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("read the body");
        let answer = "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: ValidationException\r\n\
                      content-type: application/json\r\ncontent-length: 15\r\n\
                      connection: close\r\n\r\n{\"message\":\"m\"}";
        stream.write_all(answer.as_bytes()).expect("answer");
        (head, body)
    });
    let request = raw_path_request();
    let out = run_script(&request_script(&base_url, &request), "recorded");
    let (head, body) = recorder.join().expect("the recorder saw a request");
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert_eq!(head[0], format!("POST {} HTTP/1.1", request.path_and_query));
    assert!(
        head.iter().any(|h| h == "x-amz-client-context: it's"),
        "{head:?}"
    );
    assert!(
        !head
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("content-type")),
        "{head:?}"
    );
    assert_eq!(body, request.body);
}

struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Serve {
    let (child, url) = common::spawn_serve(extra);
    Serve { child, url }
}

/// Status and `x-amzn-ErrorType` of a `curl -i` answer.
fn status_and_type(curl_output: &str) -> (u16, Option<String>) {
    let status = curl_output
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let kind = curl_output.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amzn-errortype")
            .then(|| value.trim().to_owned())
    });
    (status, kind)
}

#[test]
fn a_curl_script_gets_from_cogsync_serve_the_answer_the_harness_got() {
    if curl_missing() {
        return;
    }
    let server = serve(&["--fault", "500-on-non-ascii-key"]);
    let endpoint = Endpoint::new(&server.url, EndpointOptions::default()).expect("endpoint");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let path = DatasetPath {
        identity_pool_id: "us-east-1:00000000-c065-4000-8000-000000000000".into(),
        identity_id: "us-east-1:00000000-0000-4000-8000-000000000001".into(),
        dataset_name: "game:state".into(),
    };
    let (listed, _) = runtime.block_on(endpoint.call::<ListRecordsResponse>(
        &Request::ListRecords(ListRecordsRequest {
            path: path.clone(),
            ..ListRecordsRequest::default()
        }),
    ));
    let token = listed
        .success()
        .and_then(|l| l.sync_session_token.clone())
        .expect("a session token");
    let non_ascii_key = RawRequest {
        method: "POST".to_owned(),
        path_and_query: "/identitypools/us-east-1%3A00000000-c065-4000-8000-000000000000/\
                         identities/us-east-1%3A00000000-0000-4000-8000-000000000001/datasets/\
                         game%3Astate"
            .to_owned(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: format!(
            r#"{{"SyncSessionToken":"{token}","RecordPatches":[{{"Op":"replace","Key":"ключ's","Value":"v","SyncCount":0}}]}}"#
        )
        .into_bytes(),
    };
    let answer_of = |result: Result<cogsync::client::RawResponse, _>| {
        let response = result.expect("an answer");
        let kind = response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-errortype"))
            .map(|(_, v)| v.clone());
        (response.status, kind)
    };
    // A finding's request: the fuzzer only sends what goes on the wire unchanged.
    let (result, _) = runtime.block_on(endpoint.send_raw(&non_ascii_key));
    let expected = answer_of(result);
    assert_eq!(expected.0, 500, "{expected:?}");
    let out = run_script(&request_script(&server.url, &non_ascii_key), "finding");
    assert_eq!(status_and_type(&out), expected, "{out}");
    // A case's exchange records the URL as the HTTP stack sent it (dot segments removed), and
    // the transcript's script sends that, body bytes included.
    let (result, exchange) = runtime.block_on(endpoint.send_raw(&raw_path_request()));
    let expected = answer_of(result);
    assert!(!exchange.url.contains("/../"), "{}", exchange.url);
    assert_eq!(exchange.request_bytes(), raw_path_request().body);
    let step = Step {
        operation: "raw: a raw path".to_owned(),
        exchanges: vec![exchange],
        expected: "an error".to_owned(),
        actual: String::new(),
        verdict: StepVerdict::Reference,
    };
    let out = run_script(&curl_script(&[step]), "transcript");
    assert_eq!(status_and_type(&out), expected, "{out}");
}
