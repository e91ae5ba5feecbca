//! The eleven pool-level and push-sync operations of the reference server (spec §11), in
//! process: each reference choice of `docs/reference-choices.md`, and that a refused request
//! changes nothing.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::in_process::{
    Answer, Endpoint, IDENTITY, POOL, ROLE_ARN, application_arn, endpoint, ok, put,
};
use super::{Clock, ServerConfig};

const OTHER_IDENTITY: &str = "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0c";
const START_MS: i64 = 1_700_000_000_000;

fn server() -> Endpoint {
    endpoint(&ServerConfig::default())
}

#[track_caller]
fn refused(answer: &Answer, status: u16, shape: &str) {
    assert_eq!(
        (answer.status, answer.error_type.as_deref()),
        (status, Some(shape)),
        "{}",
        answer.body
    );
    assert!(answer.body["message"].is_string(), "{}", answer.body);
}

async fn write_as(ep: &Endpoint, identity: &str, dataset: &str, key: &str, value: &str) {
    let path = format!("{identity}/datasets/{dataset}");
    let listed = ep.call("GET", &format!("{path}/records"), None).await;
    let token = listed.body["SyncSessionToken"].as_str().expect("token");
    let count = listed.body["Records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["Key"] == key)
        .map_or(0, |r| r["SyncCount"].as_i64().expect("count"));
    ok(&ep
        .call(
            "POST",
            &path,
            Some(json!({"SyncSessionToken": token, "RecordPatches": [put(key, value, count)]})),
        )
        .await);
}

#[tokio::test]
async fn pool_usage_is_the_sum_of_the_identities_usage() {
    let ep = server();
    let empty = ep.pool_usage().await;
    ok(&empty);
    let usage = &empty.body["IdentityPoolUsage"];
    assert_eq!(usage["IdentityPoolId"], "us-east-1:0a");
    assert_eq!(
        (
            usage["DataStorage"].clone(),
            usage["SyncSessionsCount"].clone()
        ),
        (json!(0), json!(0))
    );
    assert!(usage.get("LastModifiedDate").is_none(), "{usage}");

    write_as(&ep, IDENTITY, "a", "k", "vvvv").await;
    write_as(&ep, IDENTITY, "b", "kk", "v").await;
    write_as(&ep, OTHER_IDENTITY, "a", "key", "value").await;
    let mut sum = 0;
    for identity in [IDENTITY, OTHER_IDENTITY] {
        let answer = ep.call("GET", identity, None).await;
        sum += answer.body["IdentityUsage"]["DataStorage"]
            .as_i64()
            .expect("storage");
    }
    assert_eq!(sum, 5 + 3 + 8);
    let usage = ep.pool_usage().await.body["IdentityPoolUsage"].clone();
    assert_eq!(usage["DataStorage"], sum);
    assert!(usage["LastModifiedDate"].is_number());
    let sessions = usage["SyncSessionsCount"].as_i64().expect("sessions");
    assert!(sessions >= 3, "{usage}");

    ok(&ep.delete("a").await);
    let usage = ep.pool_usage().await.body["IdentityPoolUsage"].clone();
    assert_eq!(usage["DataStorage"], 3 + 8);
    assert!(usage["SyncSessionsCount"].as_i64().expect("sessions") >= sessions);

    let listed = ep.call("GET", "/identitypools", None).await;
    ok(&listed);
    assert_eq!(listed.body["Count"], 1);
    assert_eq!(listed.body["MaxResults"], 60);
    assert_eq!(listed.body["IdentityPoolUsages"][0], usage);
    assert!(listed.body.get("NextToken").is_none());
}

#[tokio::test]
async fn pool_usage_lists_every_pool_once_across_signed_pages() {
    let ep = server();
    let pools: Vec<String> = (0..5).map(|i| format!("us-east-1:{i:x}f")).collect();
    for pool in &pools {
        let identity = format!(
            "/identitypools/{}/identities/us-east-1%3A0b",
            pool.replace(':', "%3A")
        );
        write_as(&ep, &identity, "d", "k", "v").await;
    }
    let mut seen = Vec::new();
    let mut query = "maxResults=2".to_owned();
    for _ in 0..10 {
        let page = ep
            .call("GET", &format!("/identitypools?{query}"), None)
            .await;
        ok(&page);
        let usages = page.body["IdentityPoolUsages"].as_array().expect("usages");
        assert!(usages.len() <= 2);
        assert_eq!(page.body["Count"], usages.len());
        assert_eq!(page.body["MaxResults"], 2);
        seen.extend(
            usages
                .iter()
                .map(|u| u["IdentityPoolId"].as_str().expect("id").to_owned()),
        );
        match page.body["NextToken"].as_str() {
            Some(token) => query = format!("maxResults=2&nextToken={token}"),
            None => break,
        }
    }
    assert_eq!(seen, pools);
    for (query, status, shape) in [
        ("maxResults=0", 400, "InvalidParameterException"),
        ("nextToken=garbage", 400, "InvalidParameterException"),
        ("maxResults=x", 400, "SerializationException"),
    ] {
        refused(
            &ep.call("GET", &format!("/identitypools?{query}"), None)
                .await,
            status,
            shape,
        );
    }
    // A ListDatasets token is not a ListIdentityPoolUsage token.
    for i in 0..3 {
        write_as(&ep, IDENTITY, &format!("d{i}"), "k", "v").await;
    }
    let datasets = ep.list_datasets("maxResults=1").await;
    let token = datasets.body["NextToken"].as_str().expect("more datasets");
    refused(
        &ep.call("GET", &format!("/identitypools?nextToken={token}"), None)
            .await,
        400,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn configuration_sections_are_replaced_when_sent_and_kept_when_absent() {
    let ep = server();
    let empty = ep.get_config().await;
    ok(&empty);
    assert_eq!(empty.body, json!({"IdentityPoolId": "us-east-1:0a"}));

    let push = json!({"ApplicationArns": [application_arn("GCM")], "RoleArn": ROLE_ARN});
    let answer = ep.set_config(json!({"PushSync": push})).await;
    ok(&answer);
    assert_eq!(
        answer.body,
        json!({"IdentityPoolId": "us-east-1:0a", "PushSync": push})
    );
    let streams = json!({"StreamName": "s", "RoleArn": ROLE_ARN, "StreamingStatus": "ENABLED"});
    let answer = ep.set_config(json!({"CognitoStreams": streams})).await;
    ok(&answer);
    let both =
        json!({"IdentityPoolId": "us-east-1:0a", "PushSync": push, "CognitoStreams": streams});
    assert_eq!(answer.body, both);
    assert_eq!(ep.get_config().await.body, both);

    // Every refusal is a 400 naming the member, and changes nothing.
    for (body, member) in [
        (
            json!({"PushSync": {"ApplicationArns": ["arn:aws:sns:x"]}}),
            "ApplicationArns",
        ),
        (
            json!({"PushSync": {"RoleArn": "arn:aws:iam::1:role"}}),
            "RoleArn",
        ),
        (json!({"CognitoStreams": {"StreamName": ""}}), "StreamName"),
        (
            json!({"CognitoStreams": {"StreamName": "x".repeat(129)}}),
            "StreamName",
        ),
        (
            json!({"CognitoStreams": {"StreamingStatus": "ON"}}),
            "StreamingStatus",
        ),
        (
            json!({"PushSync": {}, "CognitoStreams": {"RoleArn": "arn:aws:iam::12:user/x-long-enough"}}),
            "RoleArn",
        ),
    ] {
        let answer = ep.set_config(body.clone()).await;
        refused(&answer, 400, "ValidationException");
        let message = answer.body["message"].as_str().expect("message");
        assert!(
            message.contains(&format!("at '{member}'")),
            "{body}: {message}"
        );
    }
    for body in [
        json!({"PushSync": []}),
        json!({"PushSync": {"ApplicationArns": "x"}}),
        json!([]),
    ] {
        refused(&ep.set_config(body).await, 400, "SerializationException");
    }
    assert_eq!(ep.get_config().await.body, both);

    // A section sent as {} is stored empty (AMB-CONFIG-EMPTY).
    let answer = ep.set_config(json!({"PushSync": {}})).await;
    assert_eq!(answer.body["PushSync"], json!({}));
    assert_eq!(ep.get_config().await.body["CognitoStreams"], streams);
}

#[tokio::test]
async fn cognito_events_change_only_the_keys_sent() {
    let ep = server();
    assert_eq!(ep.get_events().await.body, json!({"Events": {}}));
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:merge";
    let answer = ep.set_events(json!({"SyncTrigger": arn})).await;
    ok(&answer);
    assert_eq!(answer.body, Value::Null, "SetCognitoEvents has no output");
    let set = json!({"Events": {"SyncTrigger": arn}});
    assert_eq!(ep.get_events().await.body, set);
    ok(&ep.set_events(json!({})).await);
    assert_eq!(ep.get_events().await.body, set, "no key sent, none changes");

    refused(
        &ep.set_events(json!({"Other": arn})).await,
        400,
        "InvalidParameterException",
    );
    refused(
        &ep.set_events(json!({"SyncTrigger": arn, "Other": arn}))
            .await,
        400,
        "ValidationException",
    );
    refused(
        &ep.call("POST", &format!("{POOL}/events"), Some(json!({})))
            .await,
        400,
        "ValidationException",
    );
    refused(
        &ep.set_events(json!({"SyncTrigger": 5})).await,
        400,
        "SerializationException",
    );
    assert_eq!(ep.get_events().await.body, set);

    ok(&ep.set_events(json!({"SyncTrigger": ""})).await);
    assert_eq!(ep.get_events().await.body, json!({"Events": {}}));
}

#[tokio::test]
async fn devices_need_push_config_and_keep_their_id() {
    let ep = server();
    let register = format!("{POOL}/identity/us-east-1%3A0b");
    refused(
        &ep.register(&register, "GCM", "t").await,
        400,
        "InvalidConfigurationException",
    );
    ep.push_config(&["APNS"]).await;
    refused(
        &ep.register(&register, "GCM", "t").await,
        400,
        "InvalidConfigurationException",
    );
    let id = ep.device("GCM", "t").await;
    assert!((1..=256).contains(&id.len()));
    assert_eq!(
        ep.register(&register, "GCM", "t").await.body["DeviceId"],
        id.as_str()
    );
    let other = ep.register(&register, "GCM", "u").await;
    assert_ne!(other.body["DeviceId"], id.as_str());

    let answer = ep.register(&register, "WINDOWS", "t").await;
    refused(&answer, 400, "ValidationException");
    assert!(
        answer.body["message"]
            .as_str()
            .expect("m")
            .contains("at 'Platform'")
    );
    for body in [json!({"Platform": "GCM"}), json!({"Token": "t"})] {
        refused(
            &ep.call("POST", &format!("{register}/device"), Some(body))
                .await,
            400,
            "ValidationException",
        );
    }
    refused(
        &ep.call(
            "POST",
            "/identitypools/us-east-1%3A0a/identity/bad/device",
            Some(json!({"Platform": "GCM", "Token": "t"})),
        )
        .await,
        400,
        "ValidationException",
    );

    // Subscriptions: only registered devices, idempotent both ways, dataset need not exist.
    refused(
        &ep.subscription("POST", "ds", "nobody").await,
        404,
        "ResourceNotFoundException",
    );
    refused(
        &ep.subscription("DELETE", "ds", "nobody").await,
        404,
        "ResourceNotFoundException",
    );
    for _ in 0..2 {
        let answer = ep.subscription("POST", "ds", &id).await;
        ok(&answer);
        assert_eq!(answer.body, json!({}));
    }
    for _ in 0..2 {
        ok(&ep.subscription("DELETE", "ds", &id).await);
    }
    // Another identity's device is not this identity's.
    let path = format!("{OTHER_IDENTITY}/datasets/ds/subscriptions/{id}");
    refused(
        &ep.call("POST", &path, None).await,
        404,
        "ResourceNotFoundException",
    );
    let path = format!("{IDENTITY}/datasets/bad%2Fname/subscriptions/{id}");
    refused(
        &ep.call("POST", &path, None).await,
        400,
        "ValidationException",
    );
}

#[tokio::test]
async fn bulk_publish_runs_on_the_service_clock() {
    let (clock, now) = Clock::manual(START_MS);
    let ep = endpoint(&ServerConfig {
        clock,
        ..ServerConfig::default()
    });
    let details = ep.bulk_details().await;
    ok(&details);
    assert_eq!(
        details.body,
        json!({"IdentityPoolId": "us-east-1:0a", "BulkPublishStatus": "NOT_STARTED"})
    );
    refused(&ep.bulk_publish().await, 400, "InvalidParameterException");
    ep.stream_config("ENABLED").await;
    let started = ep.bulk_publish().await;
    ok(&started);
    assert_eq!(started.body, json!({"IdentityPoolId": "us-east-1:0a"}));
    let details = ep.bulk_details().await;
    assert_eq!(details.body["BulkPublishStatus"], "IN_PROGRESS");
    assert_eq!(details.body["BulkPublishStartTime"], json!(1_700_000_000.0));
    assert!(details.body.get("BulkPublishCompleteTime").is_none());
    refused(&ep.bulk_publish().await, 400, "DuplicateRequestException");

    now.fetch_add(2_000, Ordering::Relaxed);
    let details = ep.bulk_details().await;
    assert_eq!(details.body["BulkPublishStatus"], "SUCCEEDED");
    assert_eq!(
        details.body["BulkPublishCompleteTime"],
        json!(1_700_000_002.0)
    );
    refused(&ep.bulk_publish().await, 400, "AlreadyStreamedException");
    now.fetch_add(24 * 3600 * 1000, Ordering::Relaxed);
    ok(&ep.bulk_publish().await);
    assert_eq!(
        ep.bulk_details().await.body["BulkPublishStatus"],
        "IN_PROGRESS"
    );
}

#[tokio::test]
async fn pool_state_survives_a_restart() {
    let path = std::env::temp_dir().join(format!(
        "cogsync-pool-{}-{}.db",
        std::process::id(),
        rand::random::<u64>()
    ));
    let config = ServerConfig::with_db(&path);
    let arn = "arn:aws:lambda:us-east-1:1:function:f";
    let id = {
        let ep = endpoint(&config);
        ep.stream_config("DISABLED").await;
        ok(&ep.set_events(json!({"SyncTrigger": arn})).await);
        let id = ep.device("ADM", "tok").await;
        ok(&ep.subscription("POST", "ds", &id).await);
        ok(&ep.bulk_publish().await);
        write_as(&ep, IDENTITY, "ds", "k", "v").await;
        id
    };
    let ep = endpoint(&config);
    let config = ep.get_config().await.body;
    assert_eq!(config["CognitoStreams"]["StreamingStatus"], "DISABLED");
    assert_eq!(
        config["PushSync"]["ApplicationArns"][0],
        application_arn("ADM")
    );
    assert_eq!(ep.get_events().await.body["Events"]["SyncTrigger"], arn);
    assert_eq!(ep.device("ADM", "tok").await, id);
    ok(&ep.subscription("DELETE", "ds", &id).await);
    assert_ne!(
        ep.bulk_details().await.body["BulkPublishStatus"],
        "NOT_STARTED"
    );
    let usage = ep.pool_usage().await.body["IdentityPoolUsage"].clone();
    assert_eq!(usage["DataStorage"], 2);
    assert!(usage["SyncSessionsCount"].as_i64().expect("sessions") >= 1);
    drop(ep);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn bad_labels_and_bodies_are_refused_before_anything_else() {
    let ep = server();
    refused(
        &ep.call("GET", "/identitypools/nocolon", None).await,
        400,
        "ValidationException",
    );
    refused(
        &ep.call("POST", "/identitypools/x/configuration", Some(json!([])))
            .await,
        400,
        "SerializationException",
    );
    refused(
        &ep.call("POST", &format!("{POOL}/bulkpublish"), Some(json!([1])))
            .await,
        400,
        "SerializationException",
    );
    let raw = super::in_process::send_raw(
        &ep.service,
        "POST",
        &format!("{POOL}/configuration"),
        axum::body::Body::from(r#"{"PushSync":{},"PushSync":{}}"#),
    )
    .await;
    refused(&raw, 400, "SerializationException");
    assert_eq!(
        ep.get_config().await.body,
        json!({"IdentityPoolId": "us-east-1:0a"})
    );
    // Near misses of the eleven routes stay unknown.
    for (method, path) in [
        ("PUT", format!("{POOL}/events")),
        ("GET", format!("{POOL}/bulkpublish")),
    ] {
        refused(
            &ep.call(method, &path, None).await,
            404,
            "UnknownOperationException",
        );
    }
}
