//! ERR-1..4: the wire format of errors and successes, and bad input never answered with 5xx.

use cogsync::spec::{self, ErrorKind};
use serde_json::{Value, json};

use crate::harness::{Ds, Endpoint, Reply, identity_path, replace};

/// One request of each error shape the reference server can be made to answer.
async fn one_error_of_each_kind(ep: &Endpoint) -> Vec<(ErrorKind, Reply)> {
    let ds = Ds::fresh("errors");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let mut out = Vec::new();
    out.push((
        ErrorKind::InvalidParameter,
        ep.update(
            &ds,
            &json!({"RecordPatches": [replace("k", "w", 1)], "SyncSessionToken": "garbage"}),
        )
        .await,
    ));
    out.push((
        ErrorKind::Validation,
        ep.describe_dataset(&ds.sibling("bad name")).await,
    ));
    out.push((
        ErrorKind::Serialization,
        ep.send("POST", &ds.path(), &[], &[], b"{nope".to_vec())
            .await,
    ));
    out.push((
        ErrorKind::ResourceNotFound,
        ep.describe_dataset(&ds.sibling("missing")).await,
    ));
    out.push((
        ErrorKind::ResourceConflict,
        ep.list_then_update(&ds, json!([replace("k", "w", 0)]))
            .await,
    ));
    out.push((
        ErrorKind::UnknownOperation,
        ep.send("GET", "/no/such/route", &[], &[], Vec::new()).await,
    ));
    for i in 1..spec::DATASETS_PER_IDENTITY_MAX {
        ep.write(
            &ds.sibling(&format!("fill{i:02}")),
            json!([replace("k", "v", 0)]),
        )
        .await;
    }
    out.push((
        ErrorKind::LimitExceeded,
        ep.list_then_update(&ds.sibling("one-too-many"), json!([replace("k", "v", 0)]))
            .await,
    ));
    out
}

// ---- ERR-1 -----------------------------------------------------------------------------------

#[tokio::test]
async fn err_1_every_error_carries_the_type_header_and_a_json_message() {
    let ep = Endpoint::start().await;
    for (kind, reply) in one_error_of_each_kind(&ep).await {
        assert_eq!(
            reply.error_type(),
            Some(kind.type_name()),
            "{kind}: {:?}",
            reply.headers
        );
        let body: Value = serde_json::from_str(&reply.body_text)
            .unwrap_or_else(|e| panic!("{kind}: the body is JSON ({e}): {}", reply.body_text));
        let message = body["message"].as_str().unwrap_or_else(|| {
            panic!("{kind}: the body has a string message: {}", reply.body_text)
        });
        assert!(!message.is_empty(), "{kind}: a message says something");
        assert_eq!(body["__type"], kind.type_name(), "{kind}");
        assert_eq!(
            reply.header("content-type"),
            Some(spec::CONTENT_TYPE_JSON),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn err_1_an_unknown_route_answers_404_with_an_error_body() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("routes");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let identity = identity_path(&ds.pool, &ds.identity);
    let cases = [
        ("GET", "/".to_owned()),
        ("GET", "/nothing".to_owned()),
        // `GET /identitypools` and `GET /identitypools/{pool}` are real operations (SPEC §10),
        // which the reference server implements.
        ("POST", "/identitypools".to_owned()),
        (
            "PUT",
            format!("/identitypools/{}", crate::harness::encode(&ds.pool)),
        ),
        ("PUT", ds.path()),
        ("PATCH", ds.path()),
        ("POST", ds.records_path()),
        ("DELETE", ds.records_path()),
        ("GET", format!("{}/extra", ds.records_path())),
        ("DELETE", identity.clone()),
        ("POST", format!("{identity}/datasets")),
    ];
    for (method, path) in cases {
        let reply = ep.send(method, &path, &[], &[], Vec::new()).await;
        reply.assert_error(ErrorKind::UnknownOperation);
        assert!(!reply.message().is_empty(), "{method} {path}");
    }
    ep.assert_unchanged(&ds, &before).await;
}

// ---- ERR-2 -----------------------------------------------------------------------------------

#[tokio::test]
async fn err_2_each_error_status_is_the_status_of_its_shape() {
    let ep = Endpoint::start().await;
    for (kind, reply) in one_error_of_each_kind(&ep).await {
        let named = reply
            .error_type()
            .and_then(ErrorKind::from_type_name)
            .unwrap_or_else(|| panic!("{kind}: a known shape in {:?}", reply.headers));
        assert_eq!(named, kind);
        assert_eq!(reply.status, named.status(), "{kind}");
    }
}

#[tokio::test]
async fn err_2_the_shapes_have_the_statuses_the_spec_lists() {
    let expected = [
        (ErrorKind::InvalidParameter, 400),
        (ErrorKind::Validation, 400),
        (ErrorKind::Serialization, 400),
        (ErrorKind::LimitExceeded, 400),
        (ErrorKind::NotAuthorized, 403),
        (ErrorKind::ResourceNotFound, 404),
        (ErrorKind::ResourceConflict, 409),
        (ErrorKind::TooManyRequests, 429),
        (ErrorKind::InternalError, 500),
    ];
    for (kind, status) in expected {
        assert_eq!(kind.status(), status, "{kind}");
    }
}

// ---- ERR-3 -----------------------------------------------------------------------------------

/// Malformed requests of many kinds; none may get a 5xx or break the server.
fn malformed(ds: &Ds) -> Vec<(&'static str, String, Vec<u8>)> {
    let path = ds.path();
    let records = ds.records_path();
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        r#"{{"RecordPatches": {}0{}, "SyncSessionToken": "t"}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut cases: Vec<(&'static str, String, Vec<u8>)> = vec![
        ("POST", path.clone(), b"{\"RecordPatches\": [{\"Op\": \"repl".to_vec()),
        ("POST", path.clone(), b"{\"SyncSessionToken\": \"t\", ".to_vec()),
        ("POST", path.clone(), deep_array.into_bytes()),
        ("POST", path.clone(), deep_object.into_bytes()),
        (
            "POST",
            path.clone(),
            br#"{"SyncSessionToken": "t", "RecordPatches": [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 99999999999999999999999999999}]}"#.to_vec(),
        ),
        (
            "POST",
            path.clone(),
            br#"{"SyncSessionToken": "t", "RecordPatches": [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": -9223372036854775809}]}"#.to_vec(),
        ),
        (
            "POST",
            path.clone(),
            br#"{"SyncSessionToken": "t", "RecordPatches": [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0, "DeviceLastModifiedDate": 1e400}]}"#.to_vec(),
        ),
        (
            "POST",
            path.clone(),
            br#"{"SyncSessionToken": "t", "RecordPatches": [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0, "DeviceLastModifiedDate": -1e300}]}"#.to_vec(),
        ),
        ("POST", path.clone(), b"{\"SyncSessionToken\": \"\xff\xfe\"}".to_vec()),
        ("POST", path.clone(), b"\xff\xfe\xfd".to_vec()),
        ("POST", path.clone(), b"{\"Key\": \"\\ud800\"}".to_vec()),
        ("POST", path.clone(), b"\0\0\0\0".to_vec()),
        ("POST", path.clone(), b"{}\n\n{}".to_vec()),
        ("POST", format!("{path}%"), b"{}".to_vec()),
        ("POST", format!("{path}%zz"), b"{}".to_vec()),
        ("GET", format!("{path}%FF%FE"), Vec::new()),
        ("GET", format!("{records}?lastSyncCount=%FF"), Vec::new()),
        ("GET", format!("{records}?maxResults=%"), Vec::new()),
        ("GET", format!("{records}?nextToken=%FF%FE"), Vec::new()),
        ("GET", format!("{records}?syncSessionToken=%00"), Vec::new()),
        ("GET", format!("{records}?lastSyncCount=1e3"), Vec::new()),
        (
            "GET",
            format!("{records}?lastSyncCount=99999999999999999999999"),
            Vec::new(),
        ),
        ("GET", "/identitypools/%ZZ/identities/%/datasets/x".to_owned(), Vec::new()),
        ("GET", "/identitypools/%C3%28/identities/a:b/datasets".to_owned(), Vec::new()),
        ("DELETE", format!("{path}%C3"), Vec::new()),
        ("GET", "/identitypools/a%3Ab/identities/a%3Ab/datasets/x/records/".to_owned(), Vec::new()),
        ("GET", "//////".to_owned(), Vec::new()),
    ];
    cases.push(("GET", format!("/{}", "a/".repeat(2_000)), Vec::new()));
    cases
}

#[tokio::test]
async fn err_3_malformed_requests_get_4xx_never_5xx_and_the_server_keeps_answering() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("malformed");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    for (method, path, body) in malformed(&ds) {
        let reply = ep.send(method, &path, &[], &[], body).await;
        assert!(
            (400..500).contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            reply.body_text
        );
        assert!(
            reply.error_type().is_some(),
            "{method} {path}: an error type header"
        );
        // The server still answers a good request.
        ep.describe_dataset(&ds).await.ok();
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn err_3_raw_bytes_that_are_not_valid_http_or_utf8_still_get_a_4xx_answer() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("raw");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let requests: [&[u8]; 4] = [
        b"GET /identitypools/\xff\xfe/identities/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST /identitypools/a:b/identities/a:b/datasets/\xc3\x28 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\nConnection: close\r\n\r\n",
    ];
    for request in requests {
        let answer = ep.raw_tcp(request).await;
        assert!(
            answer.starts_with("HTTP/1.1 4"),
            "{:?} gets a 4xx answer, got {answer:?}",
            String::from_utf8_lossy(request)
        );
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn err_3_a_body_over_16_mib_is_answered_413_without_a_change() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("huge");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let body = vec![b' '; spec::REQUEST_BODY_BYTES_MAX + 1];
    let reply = ep.send("POST", &ds.path(), &[], &[], body).await;
    reply.assert_error(ErrorKind::RequestEntityTooLarge);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn err_3_no_rejected_request_of_any_kind_changes_state() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("untouched");
    ep.write(&ds, json!([replace("k", "v", 0), replace("j", "w", 0)]))
        .await;
    let token = ep.token(&ds).await;
    let with_token = |patches: Value| json!({"RecordPatches": patches, "SyncSessionToken": token});
    let bodies: Vec<(ErrorKind, Vec<u8>)> = vec![
        (ErrorKind::Serialization, b"{\"RecordPatches\": 5}".to_vec()),
        (
            ErrorKind::Validation,
            serde_json::to_vec(&with_token(json!([
                replace("k", "x", 1),
                replace("", "x", 0)
            ])))
            .expect("json"),
        ),
        (
            ErrorKind::InvalidParameter,
            serde_json::to_vec(&with_token(json!([
                replace("k", "x", 1),
                replace("k", "y", 1)
            ])))
            .expect("json"),
        ),
        (
            ErrorKind::InvalidParameter,
            serde_json::to_vec(&json!({"RecordPatches": [replace("k", "x", 1)],
                "SyncSessionToken": "forged"}))
            .expect("json"),
        ),
        (
            ErrorKind::ResourceConflict,
            serde_json::to_vec(&with_token(json!([
                replace("k", "x", 1),
                replace("j", "y", 2)
            ])))
            .expect("json"),
        ),
        (
            ErrorKind::LimitExceeded,
            serde_json::to_vec(&with_token(json!([
                replace("k", "x", 1),
                replace("big", &"é".repeat(600_000), 0),
                replace("bigger", &"é".repeat(600_000), 0),
            ])))
            .expect("json"),
        ),
    ];
    for (kind, body) in bodies {
        let before = ep.state(&ds).await;
        let reply = ep
            .send(
                "POST",
                &ds.path(),
                &[],
                &[("content-type", spec::CONTENT_TYPE_JSON)],
                body,
            )
            .await;
        reply.assert_error(kind);
        ep.assert_unchanged(&ds, &before).await;
    }
}

// ---- ERR-4 -----------------------------------------------------------------------------------

fn assert_json_success(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body_text);
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with(spec::CONTENT_TYPE_JSON),
        "{what}: Content-Type {content_type:?}"
    );
    let body: Value = serde_json::from_str(&reply.body_text)
        .unwrap_or_else(|e| panic!("{what}: the body is JSON ({e}): {}", reply.body_text));
    assert!(body.is_object(), "{what}: a JSON object: {body}");
}

/// In the raw text, every date member is followed by a JSON number, never a string.
fn assert_dates_are_numbers(text: &str, what: &str) {
    let mut seen = 0;
    for member in ["LastModifiedDate", "CreationDate", "DeviceLastModifiedDate"] {
        let needle = format!("\"{member}\":");
        for (at, _) in text.match_indices(&needle) {
            seen += 1;
            let rest = text[at + needle.len()..].trim_start();
            assert!(
                rest.starts_with(|c: char| c.is_ascii_digit() || c == '-'),
                "{what}: {member} is a JSON number in {text}"
            );
        }
    }
    assert!(seen > 0, "{what}: some dates in {text}");
}

#[tokio::test]
async fn err_4_every_success_is_a_json_object_with_content_type_application_json() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("success");
    let list = ep.list_records(&ds, &[]).await;
    assert_json_success(&list, "ListRecords of a missing dataset");
    let token = list.json.as_ref().expect("json")["SyncSessionToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let update = ep
        .update(
            &ds,
            &json!({"RecordPatches": [replace("k", "v", 0)], "SyncSessionToken": token}),
        )
        .await;
    assert_json_success(&update, "UpdateRecords");
    assert_json_success(&ep.list_records(&ds, &[]).await, "ListRecords");
    assert_json_success(&ep.describe_dataset(&ds).await, "DescribeDataset");
    assert_json_success(
        &ep.list_datasets(&ds.pool, &ds.identity, &[]).await,
        "ListDatasets",
    );
    assert_json_success(
        &ep.describe_identity_usage(&ds.pool, &ds.identity).await,
        "DescribeIdentityUsage",
    );
    assert_json_success(&ep.delete_dataset(&ds).await, "DeleteDataset");
}

#[tokio::test]
async fn err_4_timestamps_are_json_numbers_of_epoch_seconds() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("dates");
    let token = ep.token(&ds).await;
    let update = ep
        .update(
            &ds,
            &json!({"SyncSessionToken": token, "RecordPatches": [
                replace("a", "1", 0),
                {"Op": "replace", "Key": "b", "Value": "2", "SyncCount": 0,
                 "DeviceLastModifiedDate": 1_600_000_000.25},
                {"Op": "remove", "Key": "c", "SyncCount": 0},
            ]}),
        )
        .await;
    let replies = [
        ("UpdateRecords", update),
        ("ListRecords", ep.list_records(&ds, &[]).await),
        ("DescribeDataset", ep.describe_dataset(&ds).await),
        (
            "ListDatasets",
            ep.list_datasets(&ds.pool, &ds.identity, &[]).await,
        ),
        (
            "DescribeIdentityUsage",
            ep.describe_identity_usage(&ds.pool, &ds.identity).await,
        ),
    ];
    for (what, reply) in &replies {
        assert_json_success(reply, what);
        assert_dates_are_numbers(&reply.body_text, what);
    }
    // Epoch seconds, not milliseconds: between 2020 and 2100.
    let dataset = &replies[2].1.json.as_ref().expect("json")["Dataset"];
    let created = dataset["CreationDate"].as_f64().expect("a number");
    assert!((1.58e9..4.1e9).contains(&created), "{created}");
    assert_eq!(
        replies[1].1.json.as_ref().expect("json")["Records"][0]["Key"],
        "a"
    );
    assert_eq!(
        replies[1].1.json.as_ref().expect("json")["Records"][1]["DeviceLastModifiedDate"].as_f64(),
        Some(1_600_000_000.25)
    );
}
