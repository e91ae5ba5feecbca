//! End-to-end tests of the reference server over real sockets.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::{RunningServer, ServerConfig, spawn};

const DS: &str = "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets/settings";

async fn start() -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    spawn(addr, ServerConfig::in_memory()).await.expect("spawn")
}

struct Answer {
    status: u16,
    error_type: Option<String>,
    content_type: Option<String>,
    request_id: bool,
    body: Value,
}

async fn send(
    client: &reqwest::Client,
    server: &RunningServer,
    method: reqwest::Method,
    path_and_query: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = client.request(method, format!("{}{path_and_query}", server.url()));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string());
    }
    let response = request.send().await.expect("answer");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let error_type = header("x-amzn-ErrorType");
    let content_type = header("content-type");
    let request_id = header("x-amzn-RequestId").is_some();
    let status = response.status().as_u16();
    let body = response.json().await.expect("json body");
    Answer {
        status,
        error_type,
        content_type,
        request_id,
        body,
    }
}

async fn session_token(client: &reqwest::Client, server: &RunningServer) -> String {
    let answer = send(
        client,
        server,
        reqwest::Method::GET,
        &format!("{DS}/records"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["SyncSessionToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn put(token: &str, key: &str, value: &str, sync_count: i64) -> Value {
    json!({"SyncSessionToken": token, "DeviceId": "dev",
        "RecordPatches": [{"Op": "replace", "Key": key, "Value": value, "SyncCount": sync_count}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_round_trip_over_http() {
    let server = start().await;
    let client = reqwest::Client::new();
    let token = session_token(&client, &server).await;

    let answer = send(
        &client,
        &server,
        reqwest::Method::POST,
        DS,
        Some(put(&token, "k", "v", 0)),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert!(answer.request_id);
    assert_eq!(answer.body["Records"][0]["SyncCount"], 1);
    assert_eq!(answer.body["Records"][0]["LastModifiedBy"], "dev");

    let answer = send(
        &client,
        &server,
        reqwest::Method::POST,
        DS,
        Some(put(&token, "k", "w", 0)),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.error_type.as_deref(),
        Some("ResourceConflictException")
    );
    assert_eq!(
        answer.body["message"],
        "Current SyncCount for: k is: 1 not: 0"
    );
    assert_eq!(answer.body["__type"], "ResourceConflictException");

    let answer = send(
        &client,
        &server,
        reqwest::Method::GET,
        &format!("{DS}/records?lastSyncCount=0"),
        None,
    )
    .await;
    assert_eq!(answer.body["Count"], 1);
    assert_eq!(answer.body["DatasetSyncCount"], 1);
    assert_eq!(answer.body["DatasetExists"], true);
    assert_eq!(answer.body["DatasetDeletedAfterRequestedSyncCount"], false);
    assert_eq!(answer.body["MergedDatasetNames"], json!([]));
    assert_eq!(answer.body["Records"][0]["Value"], "v");

    let answer = send(&client, &server, reqwest::Method::DELETE, DS, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["Dataset"]["NumRecords"], 1);
    let answer = send(&client, &server, reqwest::Method::GET, DS, None).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.error_type.as_deref(),
        Some("ResourceNotFoundException")
    );

    let answer = send(&client, &server, reqwest::Method::GET, "/nowhere", None).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.error_type.as_deref(),
        Some("UnknownOperationException")
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_one_count_have_exactly_one_winner() {
    let server = start().await;
    let client = reqwest::Client::new();
    let token = session_token(&client, &server).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = client.clone();
        let url = format!("{}{DS}", server.url());
        let body = put(&token, "k", &format!("writer {i}"), 0).to_string();
        tasks.push(tokio::spawn(async move {
            let response = client.post(url).body(body).send().await.expect("answer");
            response.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    let answer = send(
        &client,
        &server,
        reqwest::Method::GET,
        &format!("{DS}/records"),
        None,
    )
    .await;
    assert_eq!(answer.body["DatasetSyncCount"], 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_413_with_an_error_body() {
    let server = start().await;
    let client = reqwest::Client::new();
    let body = vec![b' '; crate::spec::REQUEST_BODY_BYTES_MAX + 1];
    let response = client
        .post(format!("{}{DS}", server.url()))
        .body(body)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(
        response
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok()),
        Some("RequestEntityTooLargeException")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["__type"], "RequestEntityTooLargeException");
    // The server is still there for the next request.
    let answer = send(
        &client,
        &server,
        reqwest::Method::GET,
        &format!("{DS}/records"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn in_process_requests_need_no_socket_and_stream_bodies_are_capped() {
    use axum::body::Body;
    use axum::http::Request;

    let service = super::Service::open(&ServerConfig::in_memory()).expect("service");
    let request = Request::post(DS)
        .body(Body::from(vec![
            b' ';
            crate::spec::REQUEST_BODY_BYTES_MAX + 1
        ]))
        .expect("request");
    let response = super::handle(&service, request).await;
    assert_eq!(response.status().as_u16(), 413);

    let request = Request::get(format!("{DS}/records"))
        .body(Body::empty())
        .expect("request");
    let response = super::handle(&service, request).await;
    assert_eq!(response.status().as_u16(), 200);
    let request = Request::patch(DS).body(Body::empty()).expect("request");
    let response = super::handle(&service, request).await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok()),
        Some("UnknownOperationException")
    );
}

#[test]
fn mangled_requests_are_answered_with_client_errors_only() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    let valid = br#"{"DeviceId":"d","SyncSessionToken":"t","RecordPatches":[{"Op":"replace","Key":"k","Value":"v","SyncCount":0,"DeviceLastModifiedDate":1.5}]}"#;
    let paths = [
        "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets/ds",
        "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets/ds/records",
        "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets",
    ];
    let alphabet = b"{}[]\":,0123456789.-eE %3AaZ\\u\xff\xc3";
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20_000 {
        let mut body = valid.to_vec();
        let mut path = paths[rng.random_range(0..paths.len())].as_bytes().to_vec();
        for _ in 0..rng.random_range(1..4) {
            let target = if rng.random_bool(0.8) {
                &mut body
            } else {
                &mut path
            };
            let at = rng.random_range(0..target.len());
            match rng.random_range(0..3) {
                0 => target[at] = alphabet[rng.random_range(0..alphabet.len())],
                1 => {
                    target.remove(at);
                }
                _ => target.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
            }
        }
        let path = String::from_utf8_lossy(&path);
        let query = Some("lastSyncCount=1&maxResults=%FF");
        for method in ["POST", "GET"] {
            if let Err(rejection) = super::parse_request(method, &path, query, &[], &body) {
                assert!(
                    rejection.kind.status() < 500,
                    "{method} {path} {}: {rejection}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }
}
