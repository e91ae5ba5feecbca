//! The suite must catch a server that accepts stale sync counts, shrink the failure to a few
//! steps, and reproduce it from the saved file.
//!
//! The faulty server is the reference server behind a small proxy that rewrites every patch's
//! SyncCount to the key's current count before forwarding, so stale and future counts are
//! accepted — the classic lost-update bug of a sync server.

use std::net::SocketAddr;
use std::process::Command;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use cogsync::server::{self, ServerConfig};
use serde_json::Value;

#[derive(Clone)]
struct Proxy {
    backend: String,
    http: reqwest::Client,
}

async fn current_counts(proxy: &Proxy, path: &str) -> Vec<(String, i64)> {
    let Ok(response) = proxy
        .http
        .get(format!("{}{path}/records", proxy.backend))
        .send()
        .await
    else {
        return Vec::new();
    };
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["Records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .filter_map(|r| Some((r["Key"].as_str()?.to_owned(), r["SyncCount"].as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let method = request.method().clone();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let mut body = to_bytes(request.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default()
        .to_vec();
    if method == "POST"
        && let Ok(mut json) = serde_json::from_slice::<Value>(&body)
        && let Some(patches) = json["RecordPatches"].as_array_mut()
    {
        let counts = current_counts(&proxy, &path_and_query).await;
        for patch in patches {
            let key = patch["Key"].as_str().unwrap_or_default().to_owned();
            let current = counts
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, c)| *c);
            patch["SyncCount"] = Value::from(current);
        }
        body = serde_json::to_vec(&json).unwrap_or(body);
    }
    let mut outgoing = proxy
        .http
        .request(method, format!("{}{path_and_query}", proxy.backend))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(answer) = outgoing.send().await else {
        return Response::builder()
            .status(502)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap_or_default()
}

async fn spawn_stale_accepting_server() -> (SocketAddr, server::RunningServer) {
    let backend = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("backend starts");
    let proxy = Proxy {
        backend: backend.url(),
        http: reqwest::Client::new(),
    };
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, backend)
}

/// Runs the binary off the async runtime (the proxy above lives on it).
async fn cogsync(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_cogsync"))
            .args(&args)
            .output()
            .expect("cogsync runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    })
    .await
    .expect("the binary ran")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_a_stale_accepting_server_shrinks_and_replays() {
    let (addr, backend) = spawn_stale_accepting_server().await;
    let url = format!("http://{addr}");
    let artifacts = std::env::temp_dir().join(format!("cogsync-stale-{}", std::process::id()));
    let artifacts_arg = artifacts.to_string_lossy().into_owned();

    let (code, text) = cogsync(args(&[
        "check",
        "--endpoint",
        &url,
        "--only",
        "random",
        "--seed",
        "42",
        "--artifacts",
        &artifacts_arg,
    ]))
    .await;
    println!("{text}");
    assert_eq!(code, 1, "check fails the faulty server:\n{text}");
    let shrunk: usize = text
        .split("shrunk to ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a shrunk sequence is reported:\n{text}"));
    assert!(
        (1..=3).contains(&shrunk),
        "shrunk to {shrunk} steps (at most 3):\n{text}"
    );
    assert!(
        text.contains(">>> first difference"),
        "the transcript highlights the difference:\n{text}"
    );

    assert!(
        text.contains("\nfailed (")
            && text.contains("re-run just these: cogsync check --seed 42 --endpoint "),
        "the end of the run lists what failed and how to re-run it:\n{text}"
    );
    assert!(
        text.contains("cogsync replay") && text.contains("random-42.json --endpoint "),
        "the replay command names the endpoint the failure was found on:\n{text}"
    );

    let saved = artifacts.join("random-42.json");
    assert!(
        saved.exists(),
        "the failure is saved as {}",
        saved.display()
    );
    assert!(
        artifacts.join("random-42.sh").exists(),
        "and as a curl script"
    );
    let saved_arg = saved.to_string_lossy().into_owned();
    let (code, text) = cogsync(args(&["replay", &saved_arg, "--endpoint", &url])).await;
    assert_eq!(code, 1, "replay reproduces the failure:\n{text}");
    assert!(text.contains("reproduced"), "{text}");

    // Without --endpoint, replay goes to the endpoint saved in the file.
    let (code, text) = cogsync(args(&["replay", &saved_arg])).await;
    assert_eq!(code, 1, "replay uses the saved endpoint:\n{text}");
    assert!(text.contains("the endpoint saved in the file"), "{text}");

    // The same file against the clean reference server does not fail: its own exit code.
    let (code, text) = cogsync(args(&["replay", &saved_arg, "--endpoint", &backend.url()])).await;
    assert_eq!(
        code, 4,
        "the clean server passes the same sequence:\n{text}"
    );
    assert!(text.contains("did not reproduce"), "{text}");
    let _ = std::fs::remove_dir_all(&artifacts);
}
