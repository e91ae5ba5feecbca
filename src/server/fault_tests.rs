//! Every injectable fault changes what a client sees, and only when it is switched on.
//!
//! Each test runs one scenario against a correct server and against the server with the fault,
//! in process (`in_process`), and asserts both answers.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::in_process::{Endpoint, dataset_path, is_kebab_case, ok, put, remove, send};
use super::{Fault, ServerConfig, Service};

fn endpoint(fault: Option<Fault>) -> Endpoint {
    super::in_process::endpoint(&ServerConfig {
        fault,
        ..ServerConfig::default()
    })
}

/// Runs `scenario` against a correct server and against one with `fault`: (clean, faulty).
async fn both<T>(fault: Fault, scenario: impl AsyncFn(&Endpoint) -> T) -> (T, T) {
    let clean = scenario(&endpoint(None)).await;
    let faulty = scenario(&endpoint(Some(fault))).await;
    (clean, faulty)
}

#[test]
fn fault_names_are_unique_kebab_case_and_round_trip() {
    let mut names = HashSet::new();
    for fault in Fault::ALL {
        let name = fault.name();
        assert!(names.insert(name), "duplicate name {name}");
        assert!(is_kebab_case(name), "{name} is not kebab-case");
        assert_eq!(name.parse::<Fault>(), Ok(fault));
        assert_eq!(fault.to_string(), name);
        let description = fault.description();
        assert!(
            description.split(['(', ' ', ',', ';', ')']).any(|word| {
                word.split_once('-').is_some_and(|(area, rest)| {
                    !area.is_empty()
                        && area.chars().all(|c| c.is_ascii_uppercase())
                        && !rest.is_empty()
                })
            }),
            "{name}: the description names no SPEC ID: {description}"
        );
        assert_eq!(fault.needs_concurrency(), fault == Fault::LostUpdateRace);
    }
    let err = "no-such-fault".parse::<Fault>().expect_err("unknown");
    let message = err.to_string();
    assert!(message.contains("no-such-fault"), "{message}");
    assert!(
        Fault::ALL.iter().all(|f| message.contains(f.name())),
        "{message}"
    );
}

#[tokio::test]
async fn stale_accepted() {
    let (clean, faulty) = both(Fault::StaleAccepted, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "a", "2", 1).await);
        let stale = ep.put("ds", "a", "3", 1).await.status;
        let higher = ep.put("ds", "a", "3", 9).await.status;
        (stale, higher)
    })
    .await;
    assert_eq!(clean, (409, 409));
    assert_eq!(faulty, (200, 409));
}

#[tokio::test]
async fn higher_accepted() {
    let (clean, faulty) = both(Fault::HigherAccepted, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "a", "2", 1).await);
        let higher = ep.put("ds", "a", "3", 5).await.status;
        let stale = ep.put("ds", "a", "3", 1).await.status;
        (higher, stale)
    })
    .await;
    assert_eq!(clean, (409, 409));
    assert_eq!(faulty, (200, 409));
}

#[tokio::test]
async fn greater_or_equal_accepted() {
    let (clean, faulty) = both(Fault::GreaterOrEqualAccepted, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        // a is at 1, the dataset at 2: a count of 2 is a conflict.
        let at_dataset_count = ep.put("ds", "a", "2", 2).await.status;
        let stale = ep.put("ds", "b", "2", 0).await.status;
        (at_dataset_count, stale)
    })
    .await;
    assert_eq!(clean, (409, 409));
    assert_eq!(faulty, (200, 409));
}

#[tokio::test]
async fn stale_accepted_when_value_unchanged() {
    let (clean, faulty) = both(Fault::StaleAcceptedWhenValueUnchanged, async |ep| {
        ok(&ep.put("ds", "a", "v", 0).await);
        ok(&ep.put("ds", "a", "v", 1).await);
        let same_value = ep.put("ds", "a", "v", 1).await.status;
        let other_value = ep.put("ds", "a", "w", 1).await.status;
        (same_value, other_value)
    })
    .await;
    assert_eq!(clean, (409, 409));
    assert_eq!(faulty, (200, 409));
}

#[tokio::test]
async fn partial_batch() {
    let (clean, faulty) = both(Fault::PartialBatch, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let answer = ep
            .update("ds", json!([put("b", "1", 0), put("a", "2", 0)]))
            .await;
        (answer.status, ep.keys("ds").await)
    })
    .await;
    assert_eq!(clean, (409, vec!["a".to_owned()]));
    assert_eq!(faulty, (409, vec!["a".to_owned(), "b".to_owned()]));
}

#[tokio::test]
async fn per_record_counter() {
    let (clean, faulty) = both(Fault::PerRecordCounter, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        let answer = ep.put("ds", "a", "2", 1).await;
        ok(&answer);
        let listed = ep.list_all("ds", "lastSyncCount=2").await;
        (answer.body["Records"][0]["SyncCount"].clone(), listed)
    })
    .await;
    assert_eq!(clean, (json!(3), vec![("a".to_owned(), 3)]));
    assert_eq!(faulty, (json!(2), vec![]));
}

#[tokio::test]
async fn no_bump_on_remove_only() {
    let (clean, faulty) = both(Fault::NoBumpOnRemoveOnly, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.update("ds", json!([remove("a", 1)])).await);
        ep.list("ds", "").await.body["DatasetSyncCount"].clone()
    })
    .await;
    assert_eq!(clean, json!(2));
    assert_eq!(faulty, json!(1));
}

#[tokio::test]
async fn double_bump() {
    let (clean, faulty) = both(Fault::DoubleBump, async |ep| {
        let answer = ep.put("ds", "a", "1", 0).await;
        ok(&answer);
        (
            answer.body["Records"][0]["SyncCount"].clone(),
            ep.list("ds", "").await.body["DatasetSyncCount"].clone(),
        )
    })
    .await;
    assert_eq!(clean, (json!(1), json!(1)));
    assert_eq!(faulty, (json!(2), json!(2)));
}

#[tokio::test]
async fn counter_restarts_after_delete() {
    let (clean, faulty) = both(Fault::CounterRestartsAfterDelete, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        ok(&ep.delete("ds").await);
        let recreated = ep.put("ds", "a", "2", 0).await;
        ok(&recreated);
        let old_key = ep.put("ds", "b", "2", 0).await;
        (
            recreated.body["Records"][0]["SyncCount"].clone(),
            old_key.status,
        )
    })
    .await;
    assert_eq!(clean, (json!(3), 200));
    assert_eq!(faulty, (json!(1), 409));
}

#[tokio::test]
async fn tombstones_hidden() {
    let (clean, faulty) = both(Fault::TombstonesHidden, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.update("ds", json!([remove("a", 1)])).await);
        ep.list_all("ds", "").await
    })
    .await;
    assert_eq!(clean, vec![("a".to_owned(), 2)]);
    assert_eq!(faulty, vec![]);
}

#[tokio::test]
async fn recreate_demands_zero() {
    let (clean, faulty) = both(Fault::RecreateDemandsZero, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.update("ds", json!([remove("a", 1)])).await);
        let with_zero = ep.put("ds", "a", "2", 0).await.status;
        let with_tombstone_count = ep.put("ds", "a", "2", 2).await.status;
        (with_zero, with_tombstone_count)
    })
    .await;
    assert_eq!(clean, (409, 200));
    assert_eq!(faulty, (200, 409));
}

#[tokio::test]
async fn removed_keys_missing_from_response() {
    let (clean, faulty) = both(Fault::RemovedKeysMissingFromResponse, async |ep| {
        let answer = ep
            .update("ds", json!([put("a", "1", 0), remove("b", 0)]))
            .await;
        ok(&answer);
        answer.body["Records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["Key"].clone())
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(clean, [json!("a"), json!("b")]);
    assert_eq!(faulty, [json!("a")]);
}

#[tokio::test]
async fn list_inclusive() {
    let (clean, faulty) = both(Fault::ListInclusive, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        ep.list_all("ds", "lastSyncCount=1").await
    })
    .await;
    assert_eq!(clean, vec![("b".to_owned(), 2)]);
    assert_eq!(faulty, vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
}

async fn five_records_in_pages_of_two(ep: &Endpoint) -> Vec<String> {
    for key in ["a", "b", "c", "d", "e"] {
        ok(&ep.put("ds", key, "1", 0).await);
    }
    ep.list_all("ds", "maxResults=2")
        .await
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

#[tokio::test]
async fn paging_skips_one() {
    let (clean, faulty) = both(Fault::PagingSkipsOne, five_records_in_pages_of_two).await;
    assert_eq!(clean, ["a", "b", "c", "d", "e"]);
    assert_eq!(faulty, ["a", "b", "d", "e"]);
}

#[tokio::test]
async fn paging_repeats_one() {
    let (clean, faulty) = both(Fault::PagingRepeatsOne, five_records_in_pages_of_two).await;
    assert_eq!(clean, ["a", "b", "c", "d", "e"]);
    assert_eq!(faulty, ["a", "b", "b", "c", "c", "d", "d", "e"]);
}

#[tokio::test]
async fn max_results_ignored() {
    let (clean, faulty) = both(Fault::MaxResultsIgnored, async |ep| {
        ok(&ep
            .update(
                "ds",
                json!([put("a", "1", 0), put("b", "1", 0), put("c", "1", 0)]),
            )
            .await);
        let page = ep.list("ds", "maxResults=1").await;
        (
            page.body["Count"].clone(),
            page.body["NextToken"].is_string(),
        )
    })
    .await;
    assert_eq!(clean, (json!(1), true));
    assert_eq!(faulty, (json!(3), false));
}

#[tokio::test]
async fn last_sync_count_ahead_accepted() {
    let (clean, faulty) = both(Fault::LastSyncCountAheadAccepted, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let answer = ep.list("ds", "lastSyncCount=5").await;
        (answer.status, answer.error_type)
    })
    .await;
    assert_eq!(clean, (400, Some("InvalidParameterException".to_owned())));
    assert_eq!(faulty, (200, None));
}

#[tokio::test]
async fn dataset_exists_true_when_unwritten() {
    let (clean, faulty) = both(Fault::DatasetExistsTrueWhenUnwritten, async |ep| {
        let unwritten = ep.list("never", "").await.body["DatasetExists"].clone();
        ok(&ep.put("gone", "a", "1", 0).await);
        ok(&ep.delete("gone").await);
        let deleted = ep.list("gone", "").await.body["DatasetExists"].clone();
        (unwritten, deleted)
    })
    .await;
    assert_eq!(clean, (json!(false), json!(false)));
    assert_eq!(faulty, (json!(true), json!(false)));
}

#[tokio::test]
async fn session_token_unchecked() {
    let (clean, faulty) = both(Fault::SessionTokenUnchecked, async |ep| {
        let garbage = ep
            .update_body(
                "ds",
                json!({"SyncSessionToken": "garbage", "RecordPatches": [put("a", "1", 0)]}),
            )
            .await
            .status;
        let missing = ep
            .update_body("ds", json!({"RecordPatches": [put("a", "1", 0)]}))
            .await
            .status;
        (garbage, missing)
    })
    .await;
    assert_eq!(clean, (400, 400));
    assert_eq!(faulty, (200, 400));
}

#[tokio::test]
async fn session_token_optional() {
    let (clean, faulty) = both(Fault::SessionTokenOptional, async |ep| {
        let missing = ep
            .update_body("ds", json!({"RecordPatches": [put("a", "1", 0)]}))
            .await
            .status;
        let garbage = ep
            .update_body(
                "ds",
                json!({"SyncSessionToken": "garbage", "RecordPatches": [put("b", "1", 0)]}),
            )
            .await
            .status;
        (missing, garbage)
    })
    .await;
    assert_eq!(clean, (400, 400));
    assert_eq!(faulty, (200, 400));
}

#[tokio::test]
async fn session_token_any_dataset() {
    let (clean, faulty) = both(Fault::SessionTokenAnyDataset, async |ep| {
        let token = ep.token("other").await;
        let answer = ep
            .update_body(
                "ds",
                json!({"SyncSessionToken": token, "RecordPatches": [put("a", "1", 0)]}),
            )
            .await;
        let own = ep.put("ds", "b", "1", 0).await.status;
        (answer.status, own)
    })
    .await;
    assert_eq!(clean, (400, 200));
    assert_eq!(faulty, (200, 200));
}

#[tokio::test]
async fn identity_upper_hex_accepted() {
    let (clean, faulty) = both(Fault::IdentityUpperHexAccepted, async |ep| {
        let pool = ep
            .call(
                "GET",
                "/identitypools/us-east-1%3A0A/identities/us-east-1%3A0b/datasets/ds/records",
                None,
            )
            .await
            .status;
        let identity = ep
            .call(
                "GET",
                "/identitypools/us-east-1%3A0a/identities/us-east-1%3AB0/datasets",
                None,
            )
            .await
            .status;
        let not_hex = ep
            .call(
                "GET",
                "/identitypools/us-east-1%3A0g/identities/us-east-1%3A0b/datasets",
                None,
            )
            .await
            .status;
        (pool, identity, not_hex)
    })
    .await;
    assert_eq!(clean, (400, 400, 400));
    assert_eq!(faulty, (200, 200, 400));
}

#[tokio::test]
async fn key_length_off_by_one() {
    let (clean, faulty) = both(Fault::KeyLengthOffByOne, async |ep| {
        let longest = ep.put("ds", &"k".repeat(1024), "v", 0).await.status;
        let shorter = ep.put("ds", &"k".repeat(1023), "v", 0).await.status;
        let too_long = ep.put("ds", &"k".repeat(1025), "v", 0).await.status;
        (longest, shorter, too_long)
    })
    .await;
    assert_eq!(clean, (200, 200, 400));
    assert_eq!(faulty, (400, 200, 400));
}

#[tokio::test]
async fn dataset_limit_off_by_one() {
    let (clean, faulty) = both(Fault::DatasetLimitOffByOne, async |ep| {
        for i in 0..20 {
            ok(&ep.put(&format!("d{i:02}"), "k", "v", 0).await);
        }
        let twenty_first = ep.put("d20", "k", "v", 0).await.status;
        let twenty_second = ep.put("d21", "k", "v", 0).await;
        (twenty_first, twenty_second.status, twenty_second.error_type)
    })
    .await;
    let limit = Some("LimitExceededException".to_owned());
    assert_eq!(clean, (400, 400, limit.clone()));
    assert_eq!(faulty, (200, 400, limit));
}

#[tokio::test]
async fn record_limit_off_by_one() {
    let (clean, faulty) = both(Fault::RecordLimitOffByOne, async |ep| {
        let patches: Vec<Value> = (0..1025).map(|i| put(&format!("k{i}"), "", 0)).collect();
        let over = ep.update("ds", Value::Array(patches)).await;
        let at_limit: Vec<Value> = (0..1024).map(|i| put(&format!("k{i}"), "", 0)).collect();
        let at_limit = ep.update("fits", Value::Array(at_limit)).await.status;
        (over.status, at_limit)
    })
    .await;
    assert_eq!(clean, (400, 200));
    assert_eq!(faulty, (200, 200));
}

#[tokio::test]
async fn size_in_chars() {
    let (clean, faulty) = both(Fault::SizeInChars, async |ep| {
        // 600,000 characters, 1,200,000 UTF-8 bytes.
        let wide = "é".repeat(600_000);
        let answer = ep.put("ds", "k", &wide, 0).await;
        ok(&ep.put("small", "ké", "vé", 0).await);
        let described = ep.call("GET", &dataset_path("small"), None).await;
        (
            answer.status,
            described.body["Dataset"]["DataStorage"].clone(),
        )
    })
    .await;
    assert_eq!(clean, (400, json!(6)));
    assert_eq!(faulty, (200, json!(4)));
}

#[tokio::test]
async fn conflict_as_400() {
    let (clean, faulty) = both(Fault::ConflictAs400, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let conflict = ep.put("ds", "a", "2", 0).await;
        let missing = ep.call("GET", &dataset_path("none"), None).await.status;
        (conflict.status, conflict.error_type, missing)
    })
    .await;
    let conflict = Some("ResourceConflictException".to_owned());
    assert_eq!(clean, (409, conflict.clone(), 404));
    assert_eq!(faulty, (400, conflict, 404));
}

#[tokio::test]
async fn error_type_header_missing() {
    let (clean, faulty) = both(Fault::ErrorTypeHeaderMissing, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        let conflict = ep.put("ds", "a", "2", 0).await;
        (
            conflict.status,
            conflict.error_type,
            conflict.body["__type"].clone(),
        )
    })
    .await;
    let shape = json!("ResourceConflictException");
    assert_eq!(
        clean,
        (
            409,
            Some("ResourceConflictException".to_owned()),
            shape.clone()
        )
    );
    assert_eq!(faulty, (409, None, shape));
}

#[tokio::test]
async fn timestamps_as_strings() {
    let (clean, faulty) = both(Fault::TimestampsAsStrings, async |ep| {
        let answer = ep
            .update(
                "ds",
                json!([{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0,
                    "DeviceLastModifiedDate": 1_700_000_000.5}]),
            )
            .await;
        ok(&answer);
        let described = ep.call("GET", &dataset_path("ds"), None).await;
        (
            answer.body["Records"][0]["DeviceLastModifiedDate"].clone(),
            answer.body["Records"][0]["LastModifiedDate"].is_number(),
            described.body["Dataset"]["CreationDate"].is_number(),
        )
    })
    .await;
    assert_eq!(clean, (json!(1_700_000_000.5), true, true));
    assert_eq!(faulty, (json!("2023-11-14T22:13:20.500Z"), false, false));
}

#[tokio::test]
async fn internal_error_on_non_ascii_key() {
    let (clean, faulty) = both(Fault::InternalErrorOnNonAsciiKey, async |ep| {
        let answer = ep.put("ds", "ké", "v", 0).await;
        let ascii = ep.put("ds", "k", "vé", 0).await.status;
        (answer.status, answer.error_type, ascii)
    })
    .await;
    assert_eq!(clean, (200, None, 200));
    assert_eq!(
        faulty,
        (500, Some("InternalErrorException".to_owned()), 200)
    );
}

#[tokio::test]
async fn records_survive_delete() {
    let (clean, faulty) = both(Fault::RecordsSurviveDelete, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.delete("ds").await);
        let while_deleted = ep.keys("ds").await;
        ok(&ep.put("ds", "b", "1", 0).await);
        (while_deleted, ep.keys("ds").await)
    })
    .await;
    assert_eq!(clean, (vec![], vec!["b".to_owned()]));
    assert_eq!(faulty, (vec![], vec!["a".to_owned(), "b".to_owned()]));
}

#[tokio::test]
async fn describe_after_delete_200() {
    let (clean, faulty) = both(Fault::DescribeAfterDelete200, async |ep| {
        let never = ep.call("GET", &dataset_path("never"), None).await.status;
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.delete("ds").await);
        let deleted = ep.call("GET", &dataset_path("ds"), None).await;
        (
            never,
            deleted.status,
            deleted.body["Dataset"]["DatasetName"].clone(),
        )
    })
    .await;
    assert_eq!(clean, (404, 404, Value::Null));
    assert_eq!(faulty, (404, 200, json!("ds")));
}

/// Rounds of `WRITERS` concurrent writers of one key with SyncCount 0, each round on a fresh
/// dataset; returns how many writers won in each round (stopping at the first round with more
/// than one winner).
async fn race_rounds(service: Arc<Service>) -> Vec<usize> {
    const ROUNDS: usize = 20;
    const WRITERS: usize = 8;
    let mut winners = Vec::new();
    for round in 0..ROUNDS {
        let dataset = format!("race{round}");
        let token = Endpoint {
            service: Arc::clone(&service),
        }
        .token(&dataset)
        .await;
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let service = Arc::clone(&service);
            let body = json!({"SyncSessionToken": token,
                "RecordPatches": [put("k", &format!("writer {writer}"), 0)]});
            let path = dataset_path(&dataset);
            tasks.push(tokio::spawn(async move {
                send(&service, "POST", &path, Some(body)).await.status
            }));
        }
        let mut won = 0;
        for task in tasks {
            let status = task.await.expect("writer task");
            assert!(status == 200 || status == 409, "status {status}");
            won += usize::from(status == 200);
        }
        winners.push(won);
        if won > 1 {
            break;
        }
    }
    winners
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_update_race() {
    assert!(Fault::LostUpdateRace.needs_concurrency());
    let clean = race_rounds(Arc::clone(&endpoint(None).service)).await;
    assert_eq!(clean, vec![1; clean.len()]);
    assert_eq!(clean.len(), 20);
    let faulty = race_rounds(Arc::clone(&endpoint(Some(Fault::LostUpdateRace)).service)).await;
    assert!(
        faulty.iter().any(|&won| won > 1),
        "no lost update in {faulty:?}"
    );

    // Sequential writers cannot see the fault.
    let ep = endpoint(Some(Fault::LostUpdateRace));
    ok(&ep.put("ds", "a", "1", 0).await);
    assert_eq!(ep.put("ds", "a", "2", 0).await.status, 409);
}

#[tokio::test]
async fn without_a_fault_the_service_reports_none() {
    assert_eq!(endpoint(None).service.fault(), None);
    assert_eq!(
        endpoint(Some(Fault::DoubleBump)).service.fault(),
        Some(Fault::DoubleBump)
    );
}

#[tokio::test]
async fn keys_case_folded() {
    let (clean, faulty) = both(Fault::KeysCaseFolded, async |ep| {
        ok(&ep.put("ds", "score", "1", 0).await);
        let other = ep.put("ds", "Score", "2", 0).await.status;
        (other, ep.keys("ds").await)
    })
    .await;
    assert_eq!(clean, (200, vec!["Score".to_owned(), "score".to_owned()]));
    assert_eq!(faulty, (409, vec!["score".to_owned()]));
}

#[tokio::test]
async fn keys_nfc_normalized() {
    let (clean, faulty) = both(Fault::KeysNfcNormalized, async |ep| {
        ok(&ep.put("ds", "caf\u{e9}", "1", 0).await);
        let other = ep.put("ds", "cafe\u{301}", "2", 0).await.status;
        (other, ep.keys("ds").await.len())
    })
    .await;
    assert_eq!(clean, (200, 2));
    assert_eq!(faulty, (409, 1));
}

#[tokio::test]
async fn dataset_names_case_folded() {
    let (clean, faulty) = both(Fault::DatasetNamesCaseFolded, async |ep| {
        ok(&ep.put("prefs", "a", "1", 0).await);
        let other = ep.put("Prefs", "a", "2", 0).await.status;
        let listed = ep.list_datasets("").await.body["Datasets"]
            .as_array()
            .map_or(0, Vec::len);
        (other, listed)
    })
    .await;
    assert_eq!(clean, (200, 2));
    assert_eq!(faulty, (409, 1));
}

#[tokio::test]
async fn last_modified_ignores_removes() {
    let scenario = async |fault: Option<Fault>| {
        let (clock, now) = super::Clock::manual(1_700_000_000_000);
        let ep = super::in_process::endpoint(&ServerConfig {
            fault,
            clock,
            ..ServerConfig::default()
        });
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        let describe = async || {
            ep.call("GET", &dataset_path("ds"), None).await.body["Dataset"]["LastModifiedDate"]
                .as_f64()
                .expect("date")
        };
        let before = describe().await;
        now.fetch_add(5_000, std::sync::atomic::Ordering::SeqCst);
        ok(&ep.update("ds", json!([remove("a", 1)])).await);
        describe().await - before
    };
    assert_eq!(scenario(None).await, 5.0);
    assert_eq!(scenario(Some(Fault::LastModifiedIgnoresRemoves)).await, 0.0);
}

#[tokio::test]
async fn recreate_flag_missing() {
    let (clean, faulty) = both(Fault::RecreateFlagMissing, async |ep| {
        ok(&ep.put("ds", "a", "1", 0).await);
        ok(&ep.put("ds", "b", "1", 0).await);
        ok(&ep.delete("ds").await);
        let deleted =
            ep.list("ds", "lastSyncCount=2").await.body["DatasetDeletedAfterRequestedSyncCount"]
                .clone();
        ok(&ep.put("ds", "x", "1", 0).await);
        let recreated =
            ep.list("ds", "lastSyncCount=2").await.body["DatasetDeletedAfterRequestedSyncCount"]
                .clone();
        (deleted, recreated)
    })
    .await;
    assert_eq!(clean, (json!(true), json!(true)));
    assert_eq!(faulty, (json!(true), json!(false)));
}

#[tokio::test]
async fn list_spent_token_rejected() {
    let (clean, faulty) = both(Fault::ListSpentTokenRejected, async |ep| {
        let token = ep.token("ds").await;
        ok(&ep
            .update_with("ds", &token, json!([put("a", "1", 0)]))
            .await);
        let path = format!("{}/records?syncSessionToken={token}", dataset_path("ds"));
        ep.call("GET", &path, None).await.status
    })
    .await;
    assert_eq!(clean, 200);
    assert_eq!(faulty, 400);
}

#[tokio::test]
async fn default_page_size_100() {
    let (clean, faulty) = both(Fault::DefaultPageSize100, async |ep| {
        let patches: Vec<Value> = (0..150).map(|i| put(&format!("k{i:03}"), "v", 0)).collect();
        ok(&ep.update("ds", Value::Array(patches)).await);
        let page = ep.list("ds", "").await;
        (
            page.body["Records"].as_array().map_or(0, Vec::len),
            page.body["NextToken"].is_string(),
            ep.list_all("ds", "").await.len(),
        )
    })
    .await;
    assert_eq!(clean, (150, false, 150));
    assert_eq!(faulty, (100, true, 150));
}

// The eleven pool-level and push-sync operations (spec §11).

mod pool {
    use std::sync::atomic::Ordering;

    use serde_json::json;

    use super::super::in_process::{Endpoint, POOL, dataset_path, endpoint as open, ok};
    use super::super::{Clock, Fault, ServerConfig};
    use super::both;

    fn status(answer: &super::super::in_process::Answer) -> (u16, Option<String>) {
        (answer.status, answer.error_type.clone())
    }

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

    #[tokio::test]
    async fn events_replaced_whole() {
        let (clean, faulty) = both(Fault::EventsReplacedWhole, async |ep: &Endpoint| {
            ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
            ok(&ep.set_events(json!({})).await);
            ep.get_events().await.body
        })
        .await;
        assert_eq!(clean, json!({"Events": {"SyncTrigger": ARN}}));
        assert_eq!(faulty, json!({"Events": {}}));
    }

    #[tokio::test]
    async fn event_empty_value_stored() {
        let (clean, faulty) = both(Fault::EventEmptyValueStored, async |ep: &Endpoint| {
            ok(&ep.set_events(json!({"SyncTrigger": ARN})).await);
            ok(&ep.set_events(json!({"SyncTrigger": ""})).await);
            ep.get_events().await.body
        })
        .await;
        assert_eq!(clean, json!({"Events": {}}));
        assert_eq!(faulty, json!({"Events": {"SyncTrigger": ""}}));
    }

    #[tokio::test]
    async fn config_streams_dropped() {
        let (clean, faulty) = both(Fault::ConfigStreamsDropped, async |ep: &Endpoint| {
            let streams = json!({"StreamName": "s", "StreamingStatus": "ENABLED"});
            let set = ep.set_config(json!({"CognitoStreams": streams})).await;
            (
                set.body["CognitoStreams"].clone(),
                ep.get_config().await.body["CognitoStreams"].clone(),
            )
        })
        .await;
        let streams = json!({"StreamName": "s", "StreamingStatus": "ENABLED"});
        assert_eq!(clean, (streams.clone(), streams.clone()));
        assert_eq!(faulty, (streams, serde_json::Value::Null));
    }

    #[tokio::test]
    async fn pool_usage_ignores_deletes() {
        let (clean, faulty) = both(Fault::PoolUsageIgnoresDeletes, async |ep: &Endpoint| {
            ok(&ep.put("a", "k", "vv", 0).await);
            ok(&ep.put("b", "k", "v", 0).await);
            ok(&ep.delete("a").await);
            let listed = ep.call("GET", "/identitypools", None).await;
            (
                ep.pool_usage().await.body["IdentityPoolUsage"]["DataStorage"].clone(),
                listed.body["IdentityPoolUsages"][0]["DataStorage"].clone(),
                ep.call("GET", super::super::in_process::IDENTITY, None)
                    .await
                    .body["IdentityUsage"]["DataStorage"]
                    .clone(),
            )
        })
        .await;
        assert_eq!(clean, (json!(2), json!(2), json!(2)));
        assert_eq!(faulty, (json!(5), json!(5), json!(2)));
    }

    #[tokio::test]
    async fn pool_usage_one_identity() {
        let (clean, faulty) = both(Fault::PoolUsageOneIdentity, async |ep: &Endpoint| {
            ok(&ep.put("a", "k", "vv", 0).await);
            let other = "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0c/datasets/a";
            let token = ep.call("GET", &format!("{other}/records"), None).await.body
                ["SyncSessionToken"]
                .clone();
            let body = json!({"SyncSessionToken": token, "RecordPatches": [super::super::in_process::put("key", "v", 0)]});
            ok(&ep.call("POST", other, Some(body)).await);
            ep.pool_usage().await.body["IdentityPoolUsage"]["DataStorage"].clone()
        })
        .await;
        assert_eq!((clean, faulty), (json!(3 + 4), json!(4)));
    }

    #[tokio::test]
    async fn pool_list_skips_one() {
        let (clean, faulty) = both(Fault::PoolListSkipsOne, async |ep: &Endpoint| {
            for i in 0..3 {
                let path = format!("/identitypools/us-east-1%3A{i}a/identities/us-east-1%3A0b/datasets/d");
                let token = ep.call("GET", &format!("{path}/records"), None).await.body
                    ["SyncSessionToken"]
                    .clone();
                let body = json!({"SyncSessionToken": token, "RecordPatches": [super::super::in_process::put("k", "v", 0)]});
                ok(&ep.call("POST", &path, Some(body)).await);
            }
            let mut seen = Vec::new();
            let mut query = "maxResults=1".to_owned();
            for _ in 0..5 {
                let page = ep.call("GET", &format!("/identitypools?{query}"), None).await;
                for usage in page.body["IdentityPoolUsages"].as_array().expect("usages") {
                    seen.push(usage["IdentityPoolId"].as_str().expect("id").to_owned());
                }
                match page.body["NextToken"].as_str() {
                    Some(token) => query = format!("maxResults=1&nextToken={token}"),
                    None => break,
                }
            }
            seen
        })
        .await;
        assert_eq!(clean, ["us-east-1:0a", "us-east-1:1a", "us-east-1:2a"]);
        assert_eq!(faulty, ["us-east-1:0a", "us-east-1:2a"]);
    }

    /// Two bulk publishes, then the status now and 10 s later.
    async fn bulk_run(fault: Option<Fault>) -> Vec<serde_json::Value> {
        let (clock, now) = Clock::manual(1_700_000_000_000);
        let ep = open(&ServerConfig {
            clock,
            fault,
            ..ServerConfig::default()
        });
        ep.stream_config("ENABLED").await;
        let first = ep.bulk_publish().await;
        let second = ep.bulk_publish().await;
        let during = ep.bulk_details().await.body["BulkPublishStatus"].clone();
        now.fetch_add(10_000, Ordering::Relaxed);
        let after = ep.bulk_details().await.body;
        vec![
            json!(status(&first)),
            json!(status(&second)),
            during,
            after["BulkPublishStatus"].clone(),
            json!(after.get("BulkPublishCompleteTime").is_some()),
        ]
    }

    #[tokio::test]
    async fn bulk_publish_duplicate_accepted() {
        let clean = bulk_run(None).await;
        let faulty = bulk_run(Some(Fault::BulkPublishDuplicateAccepted)).await;
        assert_eq!(clean[1], json!([400, "DuplicateRequestException"]));
        assert_eq!(faulty[1], json!([200, null]));
    }

    #[tokio::test]
    async fn bulk_publish_never_completes() {
        let clean = bulk_run(None).await;
        let faulty = bulk_run(Some(Fault::BulkPublishNeverCompletes)).await;
        assert_eq!(clean[3..], [json!("SUCCEEDED"), json!(true)]);
        assert_eq!(faulty[3..], [json!("IN_PROGRESS"), json!(false)]);
    }

    #[tokio::test]
    async fn subscribe_unregistered_accepted() {
        let (clean, faulty) = both(
            Fault::SubscribeUnregisteredAccepted,
            async |ep: &Endpoint| {
                let path = format!("{}/subscriptions/never-registered", dataset_path("ds"));
                (
                    status(&ep.call("POST", &path, None).await),
                    status(&ep.call("DELETE", &path, None).await),
                )
            },
        )
        .await;
        let not_found = (404, Some("ResourceNotFoundException".to_owned()));
        assert_eq!(clean, (not_found.clone(), not_found));
        assert_eq!(faulty, ((200, None), (200, None)));
    }

    #[tokio::test]
    async fn register_device_bad_platform_accepted() {
        let (clean, faulty) = both(
            Fault::RegisterDeviceBadPlatformAccepted,
            async |ep: &Endpoint| {
                ep.push_config(&["GCM"]).await;
                let register = format!("{POOL}/identity/us-east-1%3A0b");
                let bad = ep.register(&register, "WINDOWS", "t").await;
                let good = ep.register(&register, "GCM", "t").await;
                (status(&bad), status(&good))
            },
        )
        .await;
        assert_eq!(clean.0, (400, Some("ValidationException".to_owned())));
        assert_eq!(faulty.0, (200, None));
        assert_eq!((clean.1, faulty.1), ((200, None), (200, None)));
    }
}
