//! Every allowed variant changes what a client sees, and only when it is switched on.
//!
//! Each test runs one scenario against the reference server and against the server with the
//! variant, in process (`in_process`), and asserts both answers: the reference choice without
//! the variant, the variant's choice with it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::in_process::{
    Answer, Endpoint, IDENTITY, dataset_path, endpoint, is_kebab_case, ok, put, record_keys,
    remove, send, send_raw,
};
use super::{Clock, Fault, ServerConfig, Variant};
use crate::spec::REQUEST_BODY_BYTES_MAX;

fn server(variant: Option<Variant>) -> Endpoint {
    endpoint(&ServerConfig {
        variant,
        ..ServerConfig::default()
    })
}

/// Runs `scenario` against the reference server and against one with `variant`:
/// (reference, variant).
async fn both<T>(variant: Variant, scenario: impl AsyncFn(&Endpoint) -> T) -> (T, T) {
    let reference = scenario(&server(None)).await;
    let deviating = scenario(&server(Some(variant))).await;
    (reference, deviating)
}

/// An answer's status and `x-amzn-ErrorType`.
fn outcome(answer: &Answer) -> (u16, Option<String>) {
    (answer.status, answer.error_type.clone())
}

fn error(status: u16, shape: &str) -> (u16, Option<String>) {
    (status, Some(shape.to_owned()))
}

const SUCCESS: (u16, Option<String>) = (200, None);

#[test]
fn variant_names_are_unique_kebab_case_round_trip_and_differ_from_faults() {
    let fault_names: HashSet<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
    let mut names = HashSet::new();
    let spec = include_str!("../../docs/spec.md");
    let choices = include_str!("../../docs/reference-choices.md");
    for variant in Variant::ALL {
        let name = variant.name();
        assert!(names.insert(name), "duplicate name {name}");
        assert!(!fault_names.contains(name), "{name} is a fault's name too");
        assert!(is_kebab_case(name), "{name} is not kebab-case");
        assert_eq!(name.parse::<Variant>(), Ok(variant));
        assert_eq!(variant.to_string(), name);
        let description = variant.description();
        let names_a_row = variant
            .covers()
            .iter()
            .any(|id| description.contains(&format!("{id})")) || description.contains(id));
        assert!(
            names_a_row || description.contains("unstated by the spec"),
            "{name}: the description names no spec row: {description}"
        );
        for id in variant.covers() {
            assert!(
                spec.contains(&format!("**{id}**"))
                    || spec.contains(&format!("| {id} |"))
                    || choices.contains(id),
                "{name} covers {id}, which the spec does not define"
            );
        }
    }
    let err = "no-such-variant".parse::<Variant>().expect_err("unknown");
    let message = err.to_string();
    assert!(message.contains("no-such-variant"), "{message}");
    assert!(
        Variant::ALL.iter().all(|v| message.contains(v.name())),
        "{message}"
    );
}

#[tokio::test]
async fn a_server_serves_one_fault_and_one_variant_at_once() {
    let ep = endpoint(&ServerConfig {
        fault: Some(Fault::DoubleBump),
        variant: Some(Variant::ListsReverseOrder),
        ..ServerConfig::default()
    });
    assert_eq!(ep.service.fault(), Some(Fault::DoubleBump));
    assert_eq!(ep.service.variant(), Some(Variant::ListsReverseOrder));
    ok(&ep
        .update("ds", json!([put("a", "1", 0), put("b", "1", 0)]))
        .await);
    assert_eq!(
        ep.list_all("ds", "").await,
        [("b".to_owned(), 2), ("a".to_owned(), 2)]
    );
    assert_eq!(server(None).service.variant(), None);
}

#[tokio::test]
async fn dup_key_validation() {
    let (reference, variant) = both(Variant::DupKeyValidation, async |ep| {
        let answer = ep
            .update("ds", json!([put("a", "1", 0), put("a", "2", 0)]))
            .await;
        (
            outcome(&answer),
            ep.list("ds", "").await.body["DatasetExists"].clone(),
        )
    })
    .await;
    assert_eq!(
        reference,
        (error(400, "InvalidParameterException"), json!(false))
    );
    assert_eq!(variant, (error(400, "ValidationException"), json!(false)));
}

#[tokio::test]
async fn dup_key_applied_in_order() {
    let (reference, variant) = both(Variant::DupKeyAppliedInOrder, async |ep| {
        let fresh = ep
            .update("ds", json!([put("a", "1", 0), put("a", "2", 0)]))
            .await;
        if fresh.status != 200 {
            return (fresh.status, Value::Null, Vec::new(), Value::Null);
        }
        ok(&ep.put("ds", "b", "vvv", 0).await);
        // The live record becomes a tombstone: it no longer counts toward the storage.
        ok(&ep
            .update("ds", json!([put("b", "wwww", 2), remove("b", 2)]))
            .await);
        let described = ep.call("GET", &dataset_path("ds"), None).await;
        let records: Vec<Value> = fresh.body["Records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| json!([r["Key"], r["Value"], r["SyncCount"]]))
            .collect();
        (
            fresh.status,
            Value::from(records),
            ep.list_all("ds", "").await,
            json!([
                described.body["Dataset"]["NumRecords"],
                described.body["Dataset"]["DataStorage"]
            ]),
        )
    })
    .await;
    assert_eq!(reference, (400, Value::Null, Vec::new(), Value::Null));
    assert_eq!(
        variant,
        (
            200,
            json!([["a", "1", 1], ["a", "2", 1]]),
            vec![("a".to_owned(), 1), ("b".to_owned(), 3)],
            json!([1, 2])
        )
    );
}

#[tokio::test]
async fn empty_patches_rejected() {
    let (reference, variant) = both(Variant::EmptyPatchesRejected, async |ep| {
        let token = ep.token("ds").await;
        let absent = ep
            .update_body("ds", json!({"SyncSessionToken": token}))
            .await;
        let empty = ep.update_with("ds", &token, json!([])).await;
        (
            outcome(&absent),
            outcome(&empty),
            ep.list("ds", "").await.body["DatasetExists"].clone(),
        )
    })
    .await;
    assert_eq!(reference, (SUCCESS, SUCCESS, json!(false)));
    let refused = error(400, "InvalidParameterException");
    assert_eq!(variant, (refused.clone(), refused, json!(false)));
}

#[tokio::test]
async fn token_single_use() {
    let (reference, variant) = both(Variant::TokenSingleUse, async |ep| {
        let token = ep.token("ds").await;
        let first = ep
            .update_with("ds", &token, json!([put("a", "1", 0)]))
            .await;
        let again = ep
            .update_with("ds", &token, json!([put("b", "1", 0)]))
            .await;
        // A token spent on a conflict is spent too.
        let other = ep.token("ds").await;
        let conflict = ep
            .update_with("ds", &other, json!([put("a", "2", 0)]))
            .await;
        let after_conflict = ep
            .update_with("ds", &other, json!([put("a", "2", 1)]))
            .await;
        let listed = ep.list("ds", &format!("syncSessionToken={token}")).await;
        (
            first.status,
            outcome(&again),
            conflict.status,
            outcome(&after_conflict),
            listed.status,
        )
    })
    .await;
    assert_eq!(reference, (200, SUCCESS, 409, SUCCESS, 200));
    let spent = error(400, "InvalidParameterException");
    assert_eq!(variant, (200, spent.clone(), 409, spent, 200));
}

#[tokio::test]
async fn colon_rejected() {
    let (reference, variant) = both(Variant::ColonRejected, async |ep| {
        let listed = ep.list("a%3Ab", "").await;
        let token = listed.body["SyncSessionToken"].as_str().unwrap_or("none");
        let written = ep
            .update_with("a%3Ab", token, json!([put("k", "v", 0)]))
            .await;
        let described = ep.call("GET", &dataset_path("a%3Ab"), None).await;
        let deleted = ep.delete("a%3Ab").await;
        (
            outcome(&listed),
            outcome(&written),
            described.status,
            deleted.status,
            ep.list("ab", "").await.status,
        )
    })
    .await;
    assert_eq!(reference, (SUCCESS, SUCCESS, 200, 200, 200));
    let refused = error(400, "ValidationException");
    assert_eq!(variant, (refused.clone(), refused, 400, 400, 200));
}

#[tokio::test]
async fn validation_as_invalid_parameter() {
    let (reference, variant) = both(Variant::ValidationAsInvalidParameter, async |ep| {
        let token = ep.token("ds").await;
        let no_value = ep
            .update_with(
                "ds",
                &token,
                json!([{"Op": "replace", "Key": "a", "SyncCount": 0}]),
            )
            .await;
        let bad_pool = ep
            .call(
                "GET",
                "/identitypools/nocolon/identities/us-east-1%3A0b/datasets",
                None,
            )
            .await;
        let conflict_free = ep.put("ds", "a", "1", 0).await.status;
        (
            outcome(&no_value),
            no_value.body["__type"].clone(),
            outcome(&bad_pool),
            conflict_free,
        )
    })
    .await;
    let validation = error(400, "ValidationException");
    assert_eq!(
        reference,
        (
            validation.clone(),
            json!("ValidationException"),
            validation,
            200
        )
    );
    let invalid = error(400, "InvalidParameterException");
    assert_eq!(
        variant,
        (
            invalid.clone(),
            json!("InvalidParameterException"),
            invalid,
            200
        )
    );
}

/// ListRecords(N=2) of a dataset written twice and deleted: (DatasetExists, the flag,
/// Records, DatasetSyncCount).
async fn list_deleted(ep: &Endpoint) -> (Value, Value, Value, Value) {
    ok(&ep.put("ds", "a", "1", 0).await);
    ok(&ep.put("ds", "a", "2", 1).await);
    ok(&ep.delete("ds").await);
    let answer = ep.list("ds", "lastSyncCount=2").await;
    ok(&answer);
    (
        answer.body["DatasetExists"].clone(),
        answer.body["DatasetDeletedAfterRequestedSyncCount"].clone(),
        answer.body["Records"].clone(),
        answer.body["DatasetSyncCount"].clone(),
    )
}

#[tokio::test]
async fn deleted_exists_false_only() {
    let (reference, variant) = both(Variant::DeletedExistsFalseOnly, list_deleted).await;
    assert_eq!(reference, (json!(false), json!(true), json!([]), json!(0)));
    assert_eq!(variant, (json!(false), json!(false), json!([]), json!(0)));
}

#[tokio::test]
async fn deleted_flag_exists_true() {
    let (reference, variant) = both(Variant::DeletedFlagExistsTrue, list_deleted).await;
    assert_eq!(reference, (json!(false), json!(true), json!([]), json!(0)));
    assert_eq!(variant, (json!(true), json!(true), json!([]), json!(0)));
}

#[tokio::test]
async fn recreate_count_restarts() {
    let (reference, variant) = both(Variant::RecreateCountRestarts, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        ok(&ep.delete("ds").await);
        let recreated = ep.put("ds", "c", "1", 0).await;
        ok(&recreated);
        let from_before = ep.list("ds", "lastSyncCount=2").await;
        ok(&from_before);
        // A second delete and re-create: a count from before the first is still recognised.
        ok(&ep.delete("ds").await);
        ok(&ep.put("ds", "d", "1", 0).await);
        let from_long_before = ep.list("ds", "lastSyncCount=2").await;
        ok(&from_long_before);
        let flag = |a: &Answer| a.body["DatasetDeletedAfterRequestedSyncCount"].clone();
        (
            recreated.body["Records"][0]["SyncCount"].clone(),
            flag(&from_before),
            record_keys(&from_before),
            flag(&from_long_before),
            ep.list_all("ds", "lastSyncCount=2").await,
        )
    })
    .await;
    let keys = |k: &str| vec![k.to_owned()];
    assert_eq!(
        reference,
        (
            json!(3),
            json!(true),
            keys("c"),
            json!(true),
            vec![("d".to_owned(), 4)]
        )
    );
    assert_eq!(
        variant,
        (
            json!(1),
            json!(true),
            keys("c"),
            json!(true),
            vec![("d".to_owned(), 1)]
        )
    );
}

#[tokio::test]
async fn tombstones_count_toward_limits() {
    let (reference, variant) = both(Variant::TombstonesCountTowardLimits, async |ep| {
        // LIM-2: 1,023 live records and a tombstone, then one more record.
        let patches: Vec<Value> = (0..1024).map(|i| put(&format!("k{i}"), "", 0)).collect();
        ok(&ep.update("records", Value::Array(patches)).await);
        ok(&ep.update("records", json!([remove("k0", 1)])).await);
        let one_more = ep.put("records", "new", "", 0).await;
        // LIM-3: a 1,024-byte tombstone key, then exactly 1 MiB of live key and value.
        let long_key = "x".repeat(1024);
        ok(&ep.update("bytes", json!([remove(&long_key, 0)])).await);
        let full = ep.put("bytes", "v", &"v".repeat(1_048_575), 0).await;
        (outcome(&one_more), outcome(&full))
    })
    .await;
    assert_eq!(reference, (SUCCESS, SUCCESS));
    let limit = error(400, "LimitExceededException");
    assert_eq!(variant, (limit.clone(), limit));
}

#[tokio::test]
async fn lists_reverse_order() {
    let (reference, variant) = both(Variant::ListsReverseOrder, async |ep| {
        for key in ["a", "b", "c"] {
            ok(&ep.put("ds", key, "1", 0).await);
        }
        ok(&ep.put("other", "k", "1", 0).await);
        let one_page = record_keys(&ep.list("ds", "").await);
        let paged: Vec<String> = ep
            .list_all("ds", "maxResults=2")
            .await
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        let datasets = ep.list_datasets("").await;
        let names: Vec<Value> = datasets.body["Datasets"]
            .as_array()
            .expect("datasets")
            .iter()
            .map(|d| d["DatasetName"].clone())
            .collect();
        (one_page, paged, names)
    })
    .await;
    assert_eq!(
        reference,
        (
            vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            vec![json!("ds"), json!("other")]
        )
    );
    assert_eq!(
        variant,
        (
            vec!["c".to_owned(), "b".to_owned(), "a".to_owned()],
            vec!["b".to_owned(), "a".to_owned(), "c".to_owned()],
            vec![json!("other"), json!("ds")]
        )
    );
}

#[tokio::test]
async fn count_is_total() {
    let (reference, variant) = both(Variant::CountIsTotal, async |ep| {
        for key in ["a", "b", "c"] {
            ok(&ep.put(key, key, "1", 0).await);
            ok(&ep.put("ds", key, "1", 0).await);
        }
        let page = ep.list("ds", "maxResults=2").await;
        let newer = ep.list("ds", "lastSyncCount=1&maxResults=1").await;
        let datasets = ep.list_datasets("maxResults=2").await;
        (
            page.body["Count"].clone(),
            page.body["Records"].as_array().map(Vec::len),
            newer.body["Count"].clone(),
            datasets.body["Count"].clone(),
        )
    })
    .await;
    assert_eq!(reference, (json!(2), Some(2), json!(1), json!(2)));
    assert_eq!(variant, (json!(3), Some(2), json!(2), json!(4)));
}

#[tokio::test]
async fn last_modified_by_absent() {
    let (reference, variant) = both(Variant::LastModifiedByAbsent, async |ep| {
        let written = ep.put("ds", "a", "1", 0).await;
        let listed = ep.list("ds", "").await;
        let described = ep.call("GET", &dataset_path("ds"), None).await;
        let datasets = ep.list_datasets("").await;
        [
            written.body["Records"][0].get("LastModifiedBy").is_some(),
            listed.body.get("LastModifiedBy").is_some(),
            listed.body["Records"][0].get("LastModifiedBy").is_some(),
            described.body["Dataset"].get("LastModifiedBy").is_some(),
            datasets.body["Datasets"][0].get("LastModifiedBy").is_some(),
            listed.body["Records"][0].get("LastModifiedDate").is_some(),
        ]
    })
    .await;
    assert_eq!(reference, [true; 6]);
    assert_eq!(variant, [false, false, false, false, false, true]);
}

#[tokio::test]
async fn list_token_ignored() {
    let (reference, variant) = both(Variant::ListTokenIgnored, async |ep| {
        let foreign = ep.token("other").await;
        let garbage = ep.list("ds", "syncSessionToken=garbage").await;
        let foreign = ep.list("ds", &format!("syncSessionToken={foreign}")).await;
        (outcome(&garbage), outcome(&foreign))
    })
    .await;
    let refused = error(400, "InvalidParameterException");
    assert_eq!(reference, (refused.clone(), refused));
    assert_eq!(variant, (SUCCESS, SUCCESS));
}

#[tokio::test]
async fn negative_last_sync_count_as_zero() {
    let (reference, variant) = both(Variant::NegativeLastSyncCountAsZero, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let answer = ep.list("ds", "lastSyncCount=-1").await;
        let keys = if answer.status == 200 {
            record_keys(&answer)
        } else {
            Vec::new()
        };
        (outcome(&answer), keys)
    })
    .await;
    assert_eq!(reference, (error(400, "InvalidParameterException"), vec![]));
    assert_eq!(variant, (SUCCESS, vec!["a".to_owned()]));
}

#[tokio::test]
async fn max_results_below_one_as_default() {
    let (reference, variant) = both(Variant::MaxResultsBelowOneAsDefault, async |ep| {
        ok(&ep
            .update("ds", json!([put("a", "1", 0), put("b", "1", 0)]))
            .await);
        let records = ep.list("ds", "maxResults=0").await;
        let datasets = ep.list_datasets("maxResults=-5").await;
        (
            outcome(&records),
            records.body["Count"].clone(),
            outcome(&datasets),
        )
    })
    .await;
    let refused = error(400, "InvalidParameterException");
    assert_eq!(reference, (refused.clone(), Value::Null, refused));
    assert_eq!(variant, (SUCCESS, json!(2), SUCCESS));
}

#[tokio::test]
async fn pages_of_50() {
    let (reference, variant) = both(Variant::PagesOf50, async |ep| {
        let patches: Vec<Value> = (0..60).map(|i| put(&format!("k{i:02}"), "", 0)).collect();
        ok(&ep.update("ds", Value::Array(patches)).await);
        let explicit = ep.list("ds", "maxResults=100").await;
        let absent = ep.list("ds", "").await;
        let mut paged = ep.keys("ds").await;
        paged.dedup();
        (
            explicit.body["Count"].clone(),
            explicit.body["NextToken"].is_string(),
            absent.body["Count"].clone(),
            absent.body["NextToken"].is_string(),
            ep.list_all("ds", "maxResults=1000").await.len(),
            paged.len(),
        )
    })
    .await;
    assert_eq!(reference, (json!(60), false, json!(60), false, 60, 60));
    assert_eq!(variant, (json!(50), true, json!(60), false, 60, 60));
}

#[tokio::test]
async fn bad_query_ignored() {
    let (reference, variant) = both(Variant::BadQueryIgnored, async |ep| {
        ok(&ep
            .update("ds", json!([put("a", "1", 0), put("b", "1", 0)]))
            .await);
        let mut outcomes = Vec::new();
        for query in [
            "maxResults=abc",
            "lastSyncCount=%zz",
            "maxResults=1.5",
            "nextToken=%E0%A4",
            "syncSessionToken=%G1",
            "lastSyncCount=%",
        ] {
            outcomes.push(outcome(&ep.list("ds", query).await));
        }
        outcomes.push(outcome(&ep.list_datasets("maxResults=99999999999").await));
        outcomes.push(outcome(&ep.list_datasets("nextToken=%ff").await));
        // A readable parameter is still read.
        let one = ep.list("ds", "maxResults=1&lastSyncCount=x").await;
        (outcomes, one.body["Count"].clone())
    })
    .await;
    let serialization = error(400, "SerializationException");
    let invalid = error(400, "InvalidParameterException");
    assert_eq!(
        reference,
        (
            vec![
                serialization.clone(),
                serialization.clone(),
                serialization.clone(),
                invalid.clone(),
                invalid.clone(),
                serialization.clone(),
                serialization,
                invalid,
            ],
            Value::Null
        )
    );
    assert_eq!(variant, (vec![SUCCESS; 8], json!(1)));
}

#[tokio::test]
async fn other_operations_403() {
    let (reference, variant) = both(Variant::OtherOperations403, async |ep| {
        let pool_usage = ep.call("GET", "/identitypools/us-east-1%3A0a", None).await;
        let subscribe = ep
            .call(
                "POST",
                &format!("{}/subscriptions/device", dataset_path("ds")),
                Some(json!({})),
            )
            .await;
        let unknown = ep.call("GET", "/nothing/here", None).await;
        (
            outcome(&pool_usage),
            pool_usage.body["message"].is_string(),
            outcome(&subscribe),
            outcome(&unknown),
        )
    })
    .await;
    let unknown = error(404, "UnknownOperationException");
    // The reference server implements the eleven: the device was never registered.
    assert_eq!(
        reference,
        (
            SUCCESS,
            false,
            error(404, "ResourceNotFoundException"),
            unknown.clone()
        )
    );
    let refused = error(403, "NotAuthorizedException");
    assert_eq!(variant, (refused.clone(), true, refused, unknown));
}

#[tokio::test]
async fn client_context_ignored() {
    async fn write_with_context(ep: &Endpoint, context: &str, value: &str, count: i64) -> Answer {
        let token = ep.token("ds").await;
        let body = json!({"SyncSessionToken": token, "RecordPatches": [put("a", value, count)]});
        let request = axum::http::Request::builder()
            .method("POST")
            .uri(dataset_path("ds"))
            .header("x-amz-Client-Context", context)
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = super::handle(&ep.service, request).await;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Answer {
            status,
            error_type,
            headers: response.headers().clone(),
            body: Value::Null,
        }
    }
    let (reference, variant) = both(Variant::ClientContextIgnored, async |ep| {
        // base64 of `{"a":1}`: taken by both.
        let plain = write_with_context(ep, "eyJhIjoxfQ==", "1", 0).await;
        let bad = write_with_context(ep, "%%not base64%%", "2", 1).await;
        let listed = ep.list("ds", "").await;
        (
            outcome(&plain),
            outcome(&bad),
            listed.body["Records"][0]["Value"].clone(),
        )
    })
    .await;
    assert_eq!(reference.0, SUCCESS);
    assert_eq!(reference.1, error(400, "InvalidParameterException"));
    assert_eq!(variant.0, SUCCESS);
    assert_eq!(variant.1, SUCCESS);
    // Refused, the bad header changed nothing; ignored, the write went through.
    assert_eq!(reference.2, json!("1"));
    assert_eq!(variant.2, json!("2"));
}

#[tokio::test]
async fn other_operations_404() {
    let (reference, variant) = both(Variant::OtherOperations404, async |ep| {
        let mut outcomes = Vec::new();
        for (method, path) in [
            ("GET", "/identitypools".to_owned()),
            ("GET", "/identitypools/us-east-1%3A0a/events".to_owned()),
            (
                "POST",
                "/identitypools/us-east-1%3A0a/getBulkPublishDetails".to_owned(),
            ),
        ] {
            let answer = ep.call(method, &path, None).await;
            assert!(answer.status == 200 || answer.body["message"].is_string());
            outcomes.push(outcome(&answer));
        }
        ok(&ep.put("ds", "a", "1", 0).await);
        outcomes
    })
    .await;
    assert_eq!(reference, vec![SUCCESS; 3]);
    assert_eq!(variant, vec![error(404, "UnknownOperationException"); 3]);
}

#[tokio::test]
async fn unknown_identity_zeros() {
    let (reference, variant) = both(Variant::UnknownIdentityZeros, async |ep| {
        let unknown = ep.call("GET", IDENTITY, None).await;
        ok(&ep.put("ds", "a", "bc", 0).await);
        let known = ep.call("GET", IDENTITY, None).await;
        let usage = |a: &Answer| {
            json!([
                a.body["IdentityUsage"]["DatasetCount"],
                a.body["IdentityUsage"]["DataStorage"]
            ])
        };
        (outcome(&unknown), usage(&unknown), usage(&known))
    })
    .await;
    assert_eq!(
        reference,
        (
            error(404, "ResourceNotFoundException"),
            json!([null, null]),
            json!([1, 3])
        )
    );
    assert_eq!(variant, (SUCCESS, json!([0, 0]), json!([1, 3])));
}

#[tokio::test]
async fn garbage_next_token_first_page() {
    let (reference, variant) = both(Variant::GarbageNextTokenFirstPage, async |ep| {
        for key in ["a", "b", "c"] {
            ok(&ep.put("ds", key, "1", 0).await);
        }
        let records = ep.list("ds", "maxResults=2&nextToken=garbage").await;
        let keys = if records.status == 200 {
            record_keys(&records)
        } else {
            Vec::new()
        };
        let datasets = ep.list_datasets("nextToken=garbage").await;
        (outcome(&records), keys, outcome(&datasets))
    })
    .await;
    let refused = error(400, "InvalidParameterException");
    assert_eq!(reference, (refused.clone(), vec![], refused));
    assert_eq!(
        variant,
        (SUCCESS, vec!["a".to_owned(), "b".to_owned()], SUCCESS)
    );
}

#[tokio::test]
async fn unknown_route_403() {
    let (reference, variant) = both(Variant::UnknownRoute403, async |ep| {
        let unknown = ep.call("GET", "/nothing/here", None).await;
        let other_operation = ep
            .call("GET", "/identitypools/us-east-1%3A0a/events", None)
            .await;
        (
            outcome(&unknown),
            unknown.body["message"].is_string(),
            outcome(&other_operation),
        )
    })
    .await;
    let unknown = error(404, "UnknownOperationException");
    assert_eq!(reference, (unknown, true, SUCCESS));
    assert_eq!(
        variant,
        (
            error(403, "MissingAuthenticationTokenException"),
            true,
            SUCCESS
        )
    );
}

#[tokio::test]
async fn huge_body_400() {
    let (reference, variant) = both(Variant::HugeBody400, async |ep| {
        let body = Body::from(vec![b' '; REQUEST_BODY_BYTES_MAX + 1]);
        let huge = send_raw(&ep.service, "POST", &dataset_path("ds"), body).await;
        let fits = send_raw(&ep.service, "POST", &dataset_path("ds"), Body::from("[")).await;
        (outcome(&huge), outcome(&fits))
    })
    .await;
    let serialization = error(400, "SerializationException");
    assert_eq!(
        reference,
        (
            error(413, "RequestEntityTooLargeException"),
            serialization.clone()
        )
    );
    assert_eq!(variant, (serialization.clone(), serialization));
}

#[tokio::test]
async fn remove_value_rejected() {
    let (reference, variant) = both(Variant::RemoveValueRejected, async |ep| {
        let with_value = ep
            .update(
                "ds",
                json!([{"Op": "remove", "Key": "a", "Value": "x", "SyncCount": 0}]),
            )
            .await;
        let without = ep.update("ds", json!([remove("b", 0)])).await;
        (outcome(&with_value), outcome(&without))
    })
    .await;
    assert_eq!(reference, (SUCCESS, SUCCESS));
    assert_eq!(variant, (error(400, "ValidationException"), SUCCESS));
}

#[tokio::test]
async fn beyond_on_missing_rejected() {
    let (reference, variant) = both(Variant::BeyondOnMissingRejected, async |ep| {
        let never = ep.list("never", "lastSyncCount=3").await;
        let never_from_zero = ep.list("never", "").await;
        ok(&ep.put("gone", "a", "1", 0).await);
        ok(&ep.delete("gone").await);
        let deleted = ep.list("gone", "lastSyncCount=1").await;
        // Beyond the count at the delete: still DS-4's answer, not the 400.
        let beyond_deleted = ep.list("gone", "lastSyncCount=7").await;
        (
            outcome(&never),
            outcome(&never_from_zero),
            outcome(&deleted),
            deleted.body["DatasetDeletedAfterRequestedSyncCount"].clone(),
            outcome(&beyond_deleted),
        )
    })
    .await;
    assert_eq!(reference, (SUCCESS, SUCCESS, SUCCESS, json!(true), SUCCESS));
    assert_eq!(
        variant,
        (
            error(400, "InvalidParameterException"),
            SUCCESS,
            SUCCESS,
            json!(true),
            SUCCESS
        )
    );
}

#[tokio::test]
async fn conflict_before_token() {
    let (reference, variant) = both(Variant::ConflictBeforeToken, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let conflicting = ep
            .update_with("ds", "garbage", json!([put("a", "2", 0)]))
            .await;
        let fine = ep
            .update_with("ds", "garbage", json!([put("a", "2", 1)]))
            .await;
        (outcome(&conflicting), outcome(&fine), ep.keys("ds").await)
    })
    .await;
    let bad_token = error(400, "InvalidParameterException");
    assert_eq!(
        reference,
        (bad_token.clone(), bad_token.clone(), vec!["a".to_owned()])
    );
    assert_eq!(
        variant,
        (
            error(409, "ResourceConflictException"),
            bad_token,
            vec!["a".to_owned()]
        )
    );
}

#[tokio::test]
async fn error_type_with_suffix() {
    let (reference, variant) = both(Variant::ErrorTypeWithSuffix, async |ep| {
        let missing = ep.call("GET", &dataset_path("none"), None).await;
        (outcome(&missing), missing.body["__type"].clone())
    })
    .await;
    let shape = json!("ResourceNotFoundException");
    assert_eq!(
        reference,
        (error(404, "ResourceNotFoundException"), shape.clone())
    );
    assert_eq!(
        variant,
        (
            error(
                404,
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.validate/"
            ),
            shape
        )
    );
}

#[tokio::test]
async fn error_body_with_type() {
    let (reference, variant) = both(Variant::ErrorBodyWithType, async |ep| {
        let missing = ep.call("GET", &dataset_path("none"), None).await;
        (
            outcome(&missing),
            missing.body["__type"].clone(),
            missing.body["message"].is_string(),
        )
    })
    .await;
    let header = error(404, "ResourceNotFoundException");
    assert_eq!(
        reference,
        (header.clone(), json!("ResourceNotFoundException"), true)
    );
    assert_eq!(
        variant,
        (
            header,
            json!("com.amazonaws.cognitosync#ResourceNotFoundException"),
            true
        )
    );
}

#[tokio::test]
async fn connection_close() {
    let (reference, variant) = both(Variant::ConnectionClose, async |ep| {
        let success = ep.list("ds", "").await;
        let refusal = ep.call("GET", &dataset_path("none"), None).await;
        let connection = |a: &Answer| {
            a.headers
                .get("connection")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (connection(&success), connection(&refusal))
    })
    .await;
    assert_eq!(reference, (None, None));
    let close = Some("close".to_owned());
    assert_eq!(variant, (close.clone(), close));
}

#[tokio::test]
async fn connection_close_ends_the_connection_after_the_answer() {
    let config = ServerConfig {
        variant: Some(Variant::ConnectionClose),
        ..ServerConfig::default()
    };
    let running = super::spawn(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("spawn");
    let mut stream = tokio::net::TcpStream::connect(running.addr())
        .await
        .expect("connect");
    let request = format!(
        "GET {}/records HTTP/1.1\r\nHost: localhost\r\n\r\n",
        dataset_path("ds")
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut answer = Vec::new();
    // A kept-alive connection would never reach the end of the stream.
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn delay_40ms() {
    const REQUESTS: u32 = 10;
    let (reference, variant) = both(Variant::Delay40ms, async |ep| {
        let started = Instant::now();
        let answer = ep.list("ds", "").await;
        (answer.status, started.elapsed())
    })
    .await;
    assert_eq!(reference.0, 200);
    assert_eq!(variant.0, 200);
    assert!(variant.1 >= Duration::from_millis(40), "{:?}", variant.1);

    // The delay holds up only its own answer: concurrent requests overlap their delays.
    let ep = server(Some(Variant::Delay40ms));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let service = Arc::clone(&ep.service);
        let path = format!("{}/records", dataset_path("ds"));
        tasks.spawn(async move { send(&service, "GET", &path, None).await.status });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), 200);
    }
    assert!(
        started.elapsed() < Duration::from_millis(40) * REQUESTS,
        "{REQUESTS} delayed answers took {:?}, as if one after another",
        started.elapsed()
    );
}

/// `ServerConfig::latency` (`serve --latency`) holds every answer back, each on its own, and
/// adds to the delay-40ms variant. On tokio's paused clock, so the figures are exact.
#[tokio::test(start_paused = true)]
async fn latency_delays_every_answer_on_its_own() {
    let with = |latency: Duration, variant: Option<Variant>| {
        endpoint(&ServerConfig {
            latency,
            variant,
            ..ServerConfig::default()
        })
    };
    let elapsed = async |ep: &Endpoint| {
        let started = tokio::time::Instant::now();
        let answer = ep.list("ds", "").await;
        assert_eq!(answer.status, 200);
        started.elapsed()
    };
    let ms = Duration::from_millis;
    assert_eq!(elapsed(&with(Duration::ZERO, None)).await, Duration::ZERO);
    let late = elapsed(&with(ms(40), None)).await;
    assert!(ms(40) <= late && late < ms(41), "{late:?}");
    let both = elapsed(&with(ms(40), Some(Variant::Delay40ms))).await;
    assert!(ms(80) <= both && both < ms(81), "{both:?}");

    let ep = with(ms(40), None);
    let started = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let service = Arc::clone(&ep.service);
        let path = format!("{}/records", dataset_path("ds"));
        tasks.spawn(async move { send(&service, "GET", &path, None).await.status });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), 200);
    }
    let all = started.elapsed();
    assert!(all < ms(41), "10 answers overlap their waits: {all:?}");
}

#[tokio::test]
async fn integer_dates() {
    let scenario = async |variant: Option<Variant>| {
        let (clock, _) = Clock::manual(1_700_000_000_123);
        let ep = endpoint(&ServerConfig {
            clock,
            variant,
            ..ServerConfig::default()
        });
        let written = ep
            .update(
                "ds",
                json!([{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0,
                    "DeviceLastModifiedDate": 1_600_000_000.5}]),
            )
            .await;
        let described = ep.call("GET", &dataset_path("ds"), None).await;
        let usage = ep.call("GET", IDENTITY, None).await;
        (
            written.body["Records"][0]["LastModifiedDate"].clone(),
            written.body["Records"][0]["DeviceLastModifiedDate"].clone(),
            described.body["Dataset"]["CreationDate"].clone(),
            usage.body["IdentityUsage"]["LastModifiedDate"].clone(),
        )
    };
    let reference = scenario(None).await;
    let variant = scenario(Some(Variant::IntegerDates)).await;
    let fractional = json!(1_700_000_000.123);
    let device = json!(1_600_000_000.5);
    assert_eq!(
        reference,
        (
            fractional.clone(),
            device.clone(),
            fractional.clone(),
            fractional
        )
    );
    let whole = json!(1_700_000_000);
    assert_eq!(variant, (whole.clone(), device, whole.clone(), whole));
    assert!(variant.0.is_i64());
}

// The eleven pool-level and push-sync operations (spec §11).

mod pool {
    use std::sync::atomic::Ordering;

    use serde_json::{Value, json};

    use super::super::in_process::{Endpoint, POOL, dataset_path, ok};
    use super::super::{Clock, ServerConfig, Variant};
    use super::{SUCCESS, both, error, outcome};

    #[tokio::test]
    async fn pool_empty_404() {
        let (reference, variant) = both(Variant::PoolEmpty404, async |ep: &Endpoint| {
            let mut outcomes = Vec::new();
            for (method, tail) in [
                ("GET", ""),
                ("GET", "/configuration"),
                ("GET", "/events"),
                ("POST", "/getBulkPublishDetails"),
            ] {
                outcomes.push(outcome(
                    &ep.call(method, &format!("{POOL}{tail}"), None).await,
                ));
            }
            ok(&ep
                .set_events(json!({"SyncTrigger": "arn:aws:lambda:us-east-1:1:function:f"}))
                .await);
            outcomes.push(outcome(&ep.pool_usage().await));
            outcomes
        })
        .await;
        assert_eq!(reference, vec![SUCCESS; 5]);
        let mut expected = vec![error(404, "ResourceNotFoundException"); 4];
        expected.push(SUCCESS);
        assert_eq!(variant, expected);
    }

    #[tokio::test]
    async fn usage_lag() {
        let run = async |variant: Option<Variant>| {
            let (clock, now) = Clock::manual(1_700_000_000_000);
            let ep = super::super::in_process::endpoint(&ServerConfig {
                clock,
                variant,
                ..ServerConfig::default()
            });
            let storage =
                async || ep.pool_usage().await.body["IdentityPoolUsage"]["DataStorage"].clone();
            let before = storage().await;
            ok(&ep.put("ds", "k", "v", 0).await);
            let at_once = storage().await;
            now.fetch_add(5_000, Ordering::Relaxed);
            (before, at_once, storage().await)
        };
        assert_eq!(run(None).await, (json!(0), json!(2), json!(2)));
        assert_eq!(
            run(Some(Variant::UsageLag)).await,
            (json!(0), json!(0), json!(2))
        );
    }

    #[tokio::test]
    async fn config_merge_clears() {
        let (reference, variant) = both(Variant::ConfigMergeClears, async |ep: &Endpoint| {
            ep.push_config(&["GCM"]).await;
            ep.stream_config("ENABLED").await;
            ep.get_config().await.body.get("PushSync").is_some()
        })
        .await;
        assert_eq!((reference, variant), (true, false));
    }

    #[tokio::test]
    async fn config_empty_clears() {
        let (reference, variant) = both(Variant::ConfigEmptyClears, async |ep: &Endpoint| {
            ep.push_config(&["GCM"]).await;
            ok(&ep.set_config(json!({"PushSync": {}})).await);
            ep.get_config().await.body.get("PushSync").cloned()
        })
        .await;
        assert_eq!((reference, variant), (Some(json!({})), None));
    }

    #[tokio::test]
    async fn event_type_stored() {
        let (reference, variant) = both(Variant::EventTypeStored, async |ep: &Endpoint| {
            let set = ep.set_events(json!({"OtherEvent": "arn:x"})).await;
            (outcome(&set), ep.get_events().await.body)
        })
        .await;
        assert_eq!(
            reference,
            (
                error(400, "InvalidParameterException"),
                json!({"Events": {}})
            )
        );
        assert_eq!(
            variant,
            (SUCCESS, json!({"Events": {"OtherEvent": "arn:x"}}))
        );
    }

    #[tokio::test]
    async fn new_device_id_each_time() {
        let (reference, variant) = both(Variant::NewDeviceIdEachTime, async |ep: &Endpoint| {
            let first = ep.device("APNS", "t").await;
            let second = ep.device("APNS", "t").await;
            for id in [&first, &second] {
                ok(&ep.subscription("POST", "ds", id).await);
            }
            first == second
        })
        .await;
        assert_eq!((reference, variant), (true, false));
    }

    #[tokio::test]
    async fn push_config_not_required() {
        let (reference, variant) = both(Variant::PushConfigNotRequired, async |ep: &Endpoint| {
            let register = format!("{POOL}/identity/us-east-1%3A0b");
            outcome(&ep.register(&register, "GCM", "t").await)
        })
        .await;
        assert_eq!(reference, error(400, "InvalidConfigurationException"));
        assert_eq!(variant, SUCCESS);
    }

    #[tokio::test]
    async fn device_unknown_400() {
        let (reference, variant) = both(Variant::DeviceUnknown400, async |ep: &Endpoint| {
            let path = format!("{}/subscriptions/nobody", dataset_path("ds"));
            (
                outcome(&ep.call("POST", &path, None).await),
                outcome(&ep.call("DELETE", &path, None).await),
            )
        })
        .await;
        let not_found = error(404, "ResourceNotFoundException");
        assert_eq!(reference, (not_found.clone(), not_found));
        let invalid = error(400, "InvalidParameterException");
        assert_eq!(variant, (invalid.clone(), invalid));
    }

    #[tokio::test]
    async fn unsubscribe_not_subscribed_404() {
        let (reference, variant) = both(
            Variant::UnsubscribeNotSubscribed404,
            async |ep: &Endpoint| {
                let id = ep.device("GCM", "t").await;
                let first = ep.subscription("DELETE", "ds", &id).await;
                ok(&ep.subscription("POST", "ds", &id).await);
                ok(&ep.subscription("POST", "ds", &id).await);
                let second = ep.subscription("DELETE", "ds", &id).await;
                (outcome(&first), outcome(&second))
            },
        )
        .await;
        assert_eq!(reference, (SUCCESS, SUCCESS));
        assert_eq!(variant, (error(404, "ResourceNotFoundException"), SUCCESS));
    }

    #[tokio::test]
    async fn bulk_no_stream_invalid_configuration() {
        let (reference, variant) = both(
            Variant::BulkNoStreamInvalidConfiguration,
            async |ep: &Endpoint| {
                let refused = outcome(&ep.bulk_publish().await);
                ep.stream_config("ENABLED").await;
                (refused, outcome(&ep.bulk_publish().await))
            },
        )
        .await;
        assert_eq!(
            reference,
            (error(400, "InvalidParameterException"), SUCCESS)
        );
        assert_eq!(
            variant,
            (error(400, "InvalidConfigurationException"), SUCCESS)
        );
    }

    #[tokio::test]
    async fn bulk_publish_instant() {
        let run = async |variant: Option<Variant>| {
            let (clock, _now) = Clock::manual(1_700_000_000_000);
            let ep = super::super::in_process::endpoint(&ServerConfig {
                clock,
                variant,
                ..ServerConfig::default()
            });
            ep.stream_config("ENABLED").await;
            ok(&ep.bulk_publish().await);
            let details = ep.bulk_details().await.body;
            (
                details["BulkPublishStatus"].clone(),
                details
                    .get("BulkPublishCompleteTime")
                    .cloned()
                    .unwrap_or(Value::Null),
                outcome(&ep.bulk_publish().await),
            )
        };
        assert_eq!(
            run(None).await,
            (
                json!("IN_PROGRESS"),
                Value::Null,
                error(400, "DuplicateRequestException")
            )
        );
        assert_eq!(
            run(Some(Variant::BulkPublishInstant)).await,
            (
                json!("SUCCEEDED"),
                json!(1_700_000_000.0),
                error(400, "AlreadyStreamedException")
            )
        );
    }
}
