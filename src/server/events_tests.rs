//! Effects a stand-in shows locally (`docs/events.md`): the `--events` sink's push messages and
//! stream records, and the `--sync-trigger` webhook standing in for the SyncTrigger function.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::in_process::{Answer, Endpoint, endpoint, ok, put, remove};
use super::{ServerConfig, SyncTrigger};

struct Sink(PathBuf);

impl Sink {
    fn new() -> Sink {
        Sink(std::env::temp_dir().join(format!(
            "cogsync-events-{}-{}.jsonl",
            std::process::id(),
            rand::random::<u64>()
        )))
    }

    /// Every event written so far; each line must be one JSON object.
    fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.0).unwrap_or_default();
        text.lines()
            .map(|line| {
                let event: Value = serde_json::from_str(line).expect("one JSON object per line");
                assert!(event.is_object(), "{line}");
                event
            })
            .collect()
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn with_sink(sink: &Sink) -> Endpoint {
    endpoint(&ServerConfig {
        events: Some(sink.0.clone()),
        ..ServerConfig::default()
    })
}

#[tokio::test]
async fn changes_push_to_subscribed_devices_and_stream_when_enabled() {
    let sink = Sink::new();
    let ep = with_sink(&sink);
    let device = ep.device("GCM", "gcm-token").await;
    let idle = ep.device("GCM", "other-token").await;
    ok(&ep.subscription("POST", "ds", &device).await);
    ok(&ep.subscription("POST", "elsewhere", &idle).await);
    ep.stream_config("ENABLED").await;

    ok(&ep.put("ds", "k", "v", 0).await);
    let pushes = sink.of_kind("push");
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(
        pushes[0],
        json!({
            "event": "push",
            "deviceId": device,
            "platform": "GCM",
            "token": "gcm-token",
            "message": {
                "source": "cognito-sync",
                "identityPoolId": "us-east-1:0a",
                "identityId": "us-east-1:0b",
                "datasetName": "ds",
                "syncCount": 1,
            },
        })
    );
    let streams = sink.of_kind("stream");
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["streamName"], "cogsync-stream");
    let record = &streams[0]["record"];
    assert_eq!(record["dataSetName"], "ds");
    assert_eq!(record["operation"], "replace");
    assert_eq!(record["syncCount"], 1);
    assert_eq!(record["payloadType"], "Inline");
    let synced = &record["kinesisSyncRecords"][0];
    assert_eq!(
        (
            &synced["key"],
            &synced["value"],
            &synced["op"],
            &synced["syncCount"]
        ),
        (&json!("k"), &json!("v"), &json!("replace"), &json!(1))
    );
    assert_eq!(synced["lastModifiedBy"], "us-east-1:0b");

    // A refused write, an empty one and a read write nothing.
    let token = ep.token("ds").await;
    assert_eq!(
        ep.update_with("ds", &token, json!([put("k", "x", 0)]))
            .await
            .status,
        409
    );
    ok(&ep.update_with("ds", &token, json!([])).await);
    assert_eq!(sink.events().len(), 2);

    // A remove, then a delete with the stream disabled: pushes only.
    ok(&ep.update("ds", json!([remove("k", 1)])).await);
    let last = sink.events().pop().expect("stream record");
    assert_eq!(last["record"]["kinesisSyncRecords"][0]["op"], "remove");
    assert_eq!(
        last["record"]["kinesisSyncRecords"][0]["value"],
        Value::Null
    );
    ep.stream_config("DISABLED").await;
    ok(&ep.delete("ds").await);
    let pushes = sink.of_kind("push");
    assert_eq!(pushes.len(), 3);
    assert_eq!(pushes[2]["message"]["syncCount"], 2);
    assert_eq!(sink.of_kind("stream").len(), 2);

    // Unsubscribed: nothing more for it.
    ok(&ep.subscription("DELETE", "ds", &device).await);
    ok(&ep.put("ds", "k", "v", 0).await);
    assert_eq!(sink.of_kind("push").len(), 3);
}

#[tokio::test]
async fn a_deleted_dataset_is_streamed_as_a_remove() {
    let sink = Sink::new();
    let ep = with_sink(&sink);
    ep.stream_config("ENABLED").await;
    ok(&ep.put("ds", "k", "v", 0).await);
    ok(&ep.delete("ds").await);
    let streams = sink.of_kind("stream");
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[1]["record"]["operation"], "remove");
    assert_eq!(streams[1]["record"]["kinesisSyncRecords"], json!([]));
}

#[tokio::test]
async fn bulk_publish_streams_every_dataset_of_the_pool() {
    let sink = Sink::new();
    let ep = with_sink(&sink);
    ok(&ep.put("a", "k", "v", 0).await);
    ok(&ep
        .update("b", json!([put("x", "1", 0), put("y", "2", 0)]))
        .await);
    ok(&ep.put("gone", "k", "v", 0).await);
    ok(&ep.delete("gone").await);
    ep.stream_config("DISABLED").await;
    assert!(
        sink.events().is_empty(),
        "a disabled stream gets no updates"
    );
    ok(&ep.bulk_publish().await);
    let streams = sink.of_kind("stream");
    let names: Vec<&Value> = streams
        .iter()
        .map(|s| &s["record"]["dataSetName"])
        .collect();
    assert_eq!(names, [&json!("a"), &json!("b")]);
    assert_eq!(
        streams[1]["record"]["kinesisSyncRecords"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert!(streams.iter().all(|s| s["bulkPublish"] == true));
    // A refused bulk publish writes nothing.
    assert_eq!(ep.bulk_publish().await.status, 400);
    assert_eq!(sink.events().len(), 2);
}

/// A local webhook standing in for the SyncTrigger function; `/{mode}` picks its behaviour.
struct Webhook {
    url: String,
    calls: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<Value>>>,
}

#[derive(Clone)]
struct HookState {
    calls: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<Value>>>,
}

fn json_answer(value: &Value) -> Response {
    ([("content-type", "application/json")], value.to_string()).into_response()
}

async fn hook(State(state): State<HookState>, uri: Uri, body: Bytes) -> Response {
    let mode = uri.path().trim_start_matches('/');
    let Ok(mut event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state.calls.fetch_add(1, Ordering::Relaxed);
    state.seen.lock().expect("lock").push(event.clone());
    match mode {
        "upper" => {
            if let Some(records) = event["datasetRecords"].as_object_mut() {
                for record in records.values_mut() {
                    if let Some(v) = record["newValue"].as_str() {
                        record["newValue"] = json!(v.to_uppercase());
                    }
                }
            }
            json_answer(&event)
        }
        "veto" => {
            // Drops the key "secret", turns "drop" into a remove.
            if let Some(records) = event["datasetRecords"].as_object_mut() {
                records.remove("secret");
                if let Some(record) = records.get_mut("drop") {
                    record["op"] = json!("remove");
                    record["newValue"] = Value::Null;
                }
            }
            json_answer(&event)
        }
        "throttle" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        "slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            json_answer(&event)
        }
        "fail" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "garbage" => "not json".into_response(),
        "foreign-key" => {
            event["datasetRecords"]["never-sent"] = json!({"op": "replace", "newValue": "x"});
            json_answer(&event)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn webhook() -> Webhook {
    let state = HookState {
        calls: Arc::new(AtomicUsize::new(0)),
        seen: Arc::new(std::sync::Mutex::new(Vec::new())),
    };
    let app = axum::Router::new().fallback(hook).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Webhook {
        url: format!("http://{addr}"),
        calls: state.calls,
        seen: state.seen,
    }
}

fn triggered(hook: &Webhook, mode: &str) -> Endpoint {
    endpoint(&ServerConfig {
        sync_trigger: Some(format!("{}/{mode}", hook.url)),
        ..ServerConfig::default()
    })
}

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:trigger";

fn values(answer: &Answer) -> Vec<(String, Value)> {
    answer.body["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["Key"].as_str().expect("key").to_owned(),
                r["Value"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_sync_trigger_sees_every_write_and_its_answer_is_applied() {
    let hook = webhook().await;
    let ep = triggered(&hook, "upper");
    // No SyncTrigger set: nothing is called.
    ok(&ep.put("ds", "a", "old", 0).await);
    assert_eq!(hook.calls.load(Ordering::Relaxed), 0);
    ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);

    let answer = ep
        .update("ds", json!([put("a", "new", 1), put("b", "bee", 0)]))
        .await;
    ok(&answer);
    assert_eq!(
        values(&answer),
        [
            ("a".to_owned(), json!("NEW")),
            ("b".to_owned(), json!("BEE"))
        ]
    );
    let listed = ep.list("ds", "").await;
    assert_eq!(listed.body["Records"][0]["Key"], "a");
    assert_eq!(listed.body["Records"][0]["Value"], "NEW");
    let sent = hook.seen.lock().expect("lock")[0].clone();
    assert_eq!(
        sent,
        json!({
            "version": 2,
            "eventType": "SyncTrigger",
            "region": "us-east-1",
            "identityPoolId": "us-east-1:0a",
            "identityId": "us-east-1:0b",
            "datasetName": "ds",
            "datasetRecords": {
                "a": {"oldValue": "old", "newValue": "new", "op": "replace"},
                "b": {"oldValue": null, "newValue": "bee", "op": "replace"},
            },
        })
    );
    // A write the service refuses anyway never reaches the function.
    let calls = hook.calls.load(Ordering::Relaxed);
    assert_eq!(ep.put("ds", "a", "x", 0).await.status, 409);
    let token = ep.token("ds").await;
    ok(&ep.update_with("ds", &token, json!([])).await);
    assert_eq!(hook.calls.load(Ordering::Relaxed), calls);
}

#[tokio::test]
async fn the_function_may_drop_or_remove_keys() {
    let hook = webhook().await;
    let ep = triggered(&hook, "veto");
    ok(&ep.put("ds", "drop", "v", 0).await);
    ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
    let answer = ep
        .update(
            "ds",
            json!([
                put("secret", "s", 0),
                put("drop", "w", 1),
                put("keep", "k", 0)
            ]),
        )
        .await;
    ok(&answer);
    assert_eq!(
        values(&answer),
        [
            ("drop".to_owned(), Value::Null),
            ("keep".to_owned(), json!("k"))
        ]
    );
    assert_eq!(ep.keys("ds").await, ["drop", "keep"]);
}

#[tokio::test]
async fn function_failures_refuse_the_write_and_change_nothing() {
    let hook = webhook().await;
    for (mode, status, shape) in [
        ("throttle", 429, "LambdaThrottledException"),
        ("fail", 400, "InvalidLambdaFunctionOutputException"),
        ("garbage", 400, "InvalidLambdaFunctionOutputException"),
        ("foreign-key", 400, "InvalidLambdaFunctionOutputException"),
    ] {
        let ep = triggered(&hook, mode);
        ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
        let answer = ep.put("ds", "a", "v", 0).await;
        assert_eq!(
            (answer.status, answer.error_type.as_deref()),
            (status, Some(shape)),
            "{mode}: {}",
            answer.body
        );
        assert!(answer.body["message"].is_string());
        assert_eq!(
            ep.list("ds", "").await.body["DatasetExists"],
            false,
            "{mode}"
        );
    }
    // Nothing listens there: a failure too.
    let ep = endpoint(&ServerConfig {
        sync_trigger: Some("http://127.0.0.1:9/".to_owned()),
        ..ServerConfig::default()
    });
    ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
    assert_eq!(ep.put("ds", "a", "v", 0).await.status, 400);
}

#[tokio::test]
async fn without_the_option_a_sync_trigger_is_only_stored() {
    let ep = endpoint(&ServerConfig::default());
    ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
    let answer = ep.put("ds", "a", "v", 0).await;
    ok(&answer);
    assert_eq!(values(&answer), [("a".to_owned(), json!("v"))]);
    assert!(SyncTrigger::new("http://127.0.0.1:9/").is_ok());
}

#[tokio::test]
async fn a_function_that_does_not_answer_in_time_refuses_the_write() {
    let hook = webhook().await;
    let trigger = SyncTrigger::with_timeout(
        format!("{}/slow", hook.url),
        std::time::Duration::from_millis(200),
    )
    .expect("client");
    let ep = Endpoint {
        service: Arc::new(
            super::Service::open(&ServerConfig::default())
                .expect("service")
                .with_sync_trigger(Some(trigger)),
        ),
    };
    ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
    let answer = ep.put("ds", "a", "v", 0).await;
    assert_eq!(
        (answer.status, answer.error_type.as_deref()),
        (400, Some("InvalidLambdaFunctionOutputException"))
    );
    assert_eq!(ep.list("ds", "").await.body["DatasetExists"], false);
}
