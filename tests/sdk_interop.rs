//! Interop: the official Rust SDK (`aws-sdk-cognitosync`) pointed at the reference server.
//!
//! The SDK is the strictest client we can run here: it parses every response with the
//! service's own model, reads errors from `x-amzn-ErrorType`, and percent-encodes path labels.

use aws_sdk_cognitosync::Client;
use aws_sdk_cognitosync::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_cognitosync::types::{Operation, RecordPatch};
use cogsync::server::{self, ServerConfig};

const POOL: &str = "us-east-1:00000000-0000-4000-8000-000000000001";
const IDENTITY: &str = "us-east-1:00000000-0000-4000-8000-0000000000aa";

fn sdk_client(url: &str) -> Client {
    let config = aws_sdk_cognitosync::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "static",
        ))
        // SDKs retry 409-adjacent errors and LimitExceeded by default; a test must see each answer.
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn patch(op: Operation, key: &str, value: Option<&str>, sync_count: i64) -> RecordPatch {
    RecordPatch::builder()
        .op(op)
        .key(key)
        .set_value(value.map(str::to_owned))
        .sync_count(sync_count)
        .build()
        .expect("op, key and sync count are set")
}

#[tokio::test]
async fn sdk_list_update_stale_update_list() {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("server starts");
    let client = sdk_client(&running.url());

    let first = client
        .list_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .send()
        .await
        .expect("ListRecords of a new dataset succeeds");
    assert!(!first.dataset_exists());
    assert_eq!(first.dataset_sync_count(), Some(0));
    let token = first
        .sync_session_token()
        .expect("a session token")
        .to_owned();

    let written = client
        .update_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .device_id("device-a")
        .sync_session_token(&token)
        .record_patches(patch(Operation::Replace, "theme", Some("dark"), 0))
        .record_patches(patch(Operation::Replace, "volume", Some("7"), 0))
        .send()
        .await
        .expect("a first write succeeds");
    let records = written.records();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.sync_count() == Some(1)));
    assert_eq!(records[0].value(), Some("dark"));

    let stale = client
        .update_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .sync_session_token(&token)
        .record_patches(patch(Operation::Replace, "theme", Some("light"), 0))
        .send()
        .await
        .expect_err("a stale sync count is a conflict");
    let service_error = stale.into_service_error();
    assert!(
        service_error.is_resource_conflict_exception(),
        "the SDK sees ResourceConflictException, got {service_error:?}"
    );

    let removed = client
        .update_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .sync_session_token(&token)
        .record_patches(patch(Operation::Remove, "volume", None, 1))
        .send()
        .await
        .expect("removing with the current count succeeds");
    assert_eq!(removed.records()[0].value(), None);
    assert_eq!(removed.records()[0].sync_count(), Some(2));

    let again = client
        .list_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .last_sync_count(0)
        .send()
        .await
        .expect("ListRecords succeeds");
    assert!(again.dataset_exists());
    assert_eq!(again.dataset_sync_count(), Some(2));
    assert_eq!(again.count(), 2);
    let mut seen: Vec<(String, Option<String>, Option<i64>)> = again
        .records()
        .iter()
        .map(|r| {
            (
                r.key().unwrap_or("").to_owned(),
                r.value().map(str::to_owned),
                r.sync_count(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("theme".to_owned(), Some("dark".to_owned()), Some(1)),
            ("volume".to_owned(), None, Some(2)),
        ],
        "the stale write changed nothing and the remove left a tombstone"
    );
    assert!(
        again
            .records()
            .iter()
            .all(|r| r.last_modified_date().is_some())
    );

    running.shutdown().await.expect("the server stops cleanly");
}

#[tokio::test]
async fn sdk_dataset_operations_and_paging() {
    let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("server starts");
    let client = sdk_client(&running.url());

    for name in ["alpha", "beta", "game:save.1"] {
        let token = client
            .list_records()
            .identity_pool_id(POOL)
            .identity_id(IDENTITY)
            .dataset_name(name)
            .send()
            .await
            .expect("list")
            .sync_session_token()
            .expect("token")
            .to_owned();
        let mut update = client
            .update_records()
            .identity_pool_id(POOL)
            .identity_id(IDENTITY)
            .dataset_name(name)
            .sync_session_token(token);
        for k in 0..5 {
            update =
                update.record_patches(patch(Operation::Replace, &format!("k{k}"), Some("v"), 0));
        }
        update.send().await.expect("write five records");
    }

    let mut keys = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_records()
            .identity_pool_id(POOL)
            .identity_id(IDENTITY)
            .dataset_name("beta")
            .max_results(2)
            .set_next_token(next.clone())
            .send()
            .await
            .expect("page");
        pages += 1;
        assert!(page.records().len() <= 2);
        keys.extend(
            page.records()
                .iter()
                .map(|r| r.key().unwrap_or("").to_owned()),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() || pages > 10 {
            break;
        }
    }
    keys.sort();
    assert_eq!(keys, ["k0", "k1", "k2", "k3", "k4"]);
    assert_eq!(pages, 3);

    let described = client
        .describe_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("game:save.1")
        .send()
        .await
        .expect("describe");
    let dataset = described.dataset().expect("dataset");
    assert_eq!(dataset.num_records(), Some(5));
    assert_eq!(dataset.data_storage(), Some(5 * 3));
    assert!(dataset.creation_date().is_some());

    let listed = client
        .list_datasets()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .send()
        .await
        .expect("list datasets");
    let names: Vec<&str> = listed
        .datasets()
        .iter()
        .filter_map(|d| d.dataset_name())
        .collect();
    assert_eq!(names, ["alpha", "beta", "game:save.1"]);

    let usage = client
        .describe_identity_usage()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .send()
        .await
        .expect("usage");
    let usage = usage.identity_usage().expect("usage body");
    assert_eq!(usage.dataset_count(), 3);
    assert_eq!(usage.data_storage(), Some(45));

    client
        .delete_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("beta")
        .send()
        .await
        .expect("delete");
    let gone = client
        .describe_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("beta")
        .send()
        .await
        .expect_err("a deleted dataset is not found");
    assert!(gone.into_service_error().is_resource_not_found_exception());

    running.shutdown().await.expect("the server stops cleanly");
}

/// Every one of the eleven pool-level and push-sync operations through the SDK (spec §11):
/// a wrong wire shape shows up as a deserialisation error, an error shape as the wrong
/// service error.
#[tokio::test]
async fn sdk_pool_level_and_push_sync_operations() {
    use aws_sdk_cognitosync::types::{
        BulkPublishStatus, CognitoStreams, Platform, PushSync, StreamingStatus,
    };

    let running = server::spawn(([127, 0, 0, 1], 0).into(), ServerConfig::default())
        .await
        .expect("server starts");
    let client = sdk_client(&running.url());
    let app_arn = "arn:aws:sns:us-east-1:123456789012:app/GCM/cogsync";
    let role = "arn:aws:iam::123456789012:role/cogsync";

    let empty = client
        .describe_identity_pool_usage()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("usage of an empty pool");
    let usage = empty.identity_pool_usage().expect("usage body");
    assert_eq!(usage.identity_pool_id(), Some(POOL));
    assert_eq!(usage.data_storage(), Some(0));

    // Registering needs a push-sync configuration for the platform (AMB-PUSH-CONFIG).
    let refused = client
        .register_device()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .platform(Platform::Gcm)
        .token("device-token")
        .send()
        .await
        .expect_err("no push configuration yet");
    assert!(
        refused
            .into_service_error()
            .is_invalid_configuration_exception()
    );

    let set = client
        .set_identity_pool_configuration()
        .identity_pool_id(POOL)
        .push_sync(
            PushSync::builder()
                .application_arns(app_arn)
                .role_arn(role)
                .build(),
        )
        .cognito_streams(
            CognitoStreams::builder()
                .stream_name("cogsync-stream")
                .role_arn(role)
                .streaming_status(StreamingStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("set configuration");
    assert_eq!(set.identity_pool_id(), Some(POOL));
    assert_eq!(
        set.push_sync().map(|p| p.application_arns().to_vec()),
        Some(vec![app_arn.to_owned()])
    );
    let got = client
        .get_identity_pool_configuration()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("get configuration");
    assert_eq!(
        got.cognito_streams().and_then(|s| s.streaming_status()),
        Some(&StreamingStatus::Enabled)
    );
    assert_eq!(
        got.push_sync().and_then(|p| p.role_arn()),
        Some(role),
        "the section is kept"
    );

    client
        .set_cognito_events()
        .identity_pool_id(POOL)
        .events(
            "SyncTrigger",
            "arn:aws:lambda:us-east-1:123456789012:function:merge",
        )
        .send()
        .await
        .expect("set events");
    let events = client
        .get_cognito_events()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("get events");
    assert_eq!(
        events
            .events()
            .and_then(|e| e.get("SyncTrigger"))
            .map(String::as_str),
        Some("arn:aws:lambda:us-east-1:123456789012:function:merge")
    );
    let bad = client
        .set_cognito_events()
        .identity_pool_id(POOL)
        .events("NoSuchEvent", "arn:x")
        .send()
        .await
        .expect_err("only SyncTrigger");
    assert!(bad.into_service_error().is_invalid_parameter_exception());

    let device = client
        .register_device()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .platform(Platform::Gcm)
        .token("device-token")
        .send()
        .await
        .expect("register");
    let device_id = device.device_id().expect("DeviceId").to_owned();
    client
        .subscribe_to_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .device_id(&device_id)
        .send()
        .await
        .expect("subscribe");
    client
        .unsubscribe_from_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .device_id(&device_id)
        .send()
        .await
        .expect("unsubscribe");
    let unknown = client
        .subscribe_to_dataset()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .device_id("never-registered")
        .send()
        .await
        .expect_err("unknown device");
    assert!(
        unknown
            .into_service_error()
            .is_resource_not_found_exception()
    );

    let details = client
        .get_bulk_publish_details()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("details before any");
    assert_eq!(
        details.bulk_publish_status(),
        Some(&BulkPublishStatus::NotStarted)
    );
    let started = client
        .bulk_publish()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("bulk publish");
    assert_eq!(started.identity_pool_id(), Some(POOL));
    let details = client
        .get_bulk_publish_details()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect("details");
    assert_eq!(
        details.bulk_publish_status(),
        Some(&BulkPublishStatus::InProgress)
    );
    assert!(details.bulk_publish_start_time().is_some());
    let again = client
        .bulk_publish()
        .identity_pool_id(POOL)
        .send()
        .await
        .expect_err("one at a time");
    assert!(again.into_service_error().is_duplicate_request_exception());

    // A write, then the pool's usage agrees with the identity's.
    let token = client
        .list_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .send()
        .await
        .expect("list")
        .sync_session_token()
        .expect("token")
        .to_owned();
    client
        .update_records()
        .identity_pool_id(POOL)
        .identity_id(IDENTITY)
        .dataset_name("settings")
        .sync_session_token(token)
        .record_patches(patch(Operation::Replace, "k", Some("value"), 0))
        .send()
        .await
        .expect("write");
    let listed = client
        .list_identity_pool_usage()
        .max_results(10)
        .send()
        .await
        .expect("list pool usage");
    assert_eq!(listed.count(), 1);
    assert_eq!(listed.max_results(), 10);
    let usage = &listed.identity_pool_usages()[0];
    assert_eq!(usage.identity_pool_id(), Some(POOL));
    assert_eq!(usage.data_storage(), Some(6));
    assert!(usage.sync_sessions_count().is_some_and(|n| n >= 1));
    assert!(usage.last_modified_date().is_some());

    running.shutdown().await.expect("the server stops cleanly");
}
