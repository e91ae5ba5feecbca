//! LR-1..5: ListRecords, its filter, its paging and the members every reply carries.

use std::collections::BTreeMap;

use cogsync::spec::ErrorKind;
use serde_json::{Value, json};

use crate::harness::{Ds, Endpoint, POOL, fresh_identity, remove, replace, row, summary};

/// Ten records over six versions: `k0..k9`, with `k3` removed at the end.
async fn ten_records(ep: &Endpoint, ds: &Ds) {
    ep.write(
        ds,
        json!([
            replace("k0", "0", 0),
            replace("k1", "1", 0),
            replace("k2", "2", 0)
        ]),
    )
    .await;
    ep.write(ds, json!([replace("k3", "3", 0), replace("k4", "4", 0)]))
        .await;
    ep.write(ds, json!([replace("k5", "5", 0)])).await;
    ep.write(
        ds,
        json!([
            replace("k6", "6", 0),
            replace("k7", "7", 0),
            replace("k8", "8", 0)
        ]),
    )
    .await;
    ep.write(ds, json!([replace("k9", "9", 0)])).await;
    ep.write(ds, json!([remove("k3", 2)])).await;
}

fn keys(records: &[Value]) -> Vec<String> {
    summary(records).into_iter().map(|(k, _, _)| k).collect()
}

fn records_of(page: &Value) -> Vec<Value> {
    page["Records"]
        .as_array()
        .expect("Records is an array")
        .clone()
}

// ---- LR-1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn lr_1_returns_only_records_whose_sync_count_is_greater_than_last_sync_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("since");
    ten_records(&ep, &ds).await;
    let expected: BTreeMap<i64, Vec<&str>> = BTreeMap::from([
        (
            0,
            vec!["k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9", "k3"],
        ),
        (1, vec!["k4", "k5", "k6", "k7", "k8", "k9", "k3"]),
        (2, vec!["k5", "k6", "k7", "k8", "k9", "k3"]),
        (4, vec!["k9", "k3"]),
        (5, vec!["k3"]),
        (6, vec![]),
    ]);
    for (since, want) in expected {
        let page = ep
            .list_records(&ds, &[("lastSyncCount", &since.to_string())])
            .await
            .ok();
        assert_eq!(keys(&records_of(&page)), want, "lastSyncCount={since}");
        for record in records_of(&page) {
            assert!(record["SyncCount"].as_i64() > Some(since), "{record}");
        }
    }
}

#[tokio::test]
async fn lr_1_without_last_sync_count_everything_is_returned_tombstones_included() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("everything");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "2", 0)]))
        .await;
    ep.write(&ds, json!([remove("a", 1), remove("never", 0)]))
        .await;
    let page = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(
        summary(&records_of(&page)),
        vec![
            row("b", 1, Some("2")),
            row("a", 2, None),
            row("never", 2, None)
        ]
    );
    let explicit = ep.list_records(&ds, &[("lastSyncCount", "0")]).await.ok();
    assert_eq!(records_of(&explicit), records_of(&page));
}

#[tokio::test]
async fn amb_list_inclusive_last_sync_count_equal_to_a_records_count_excludes_it() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("strict");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    let page = ep.list_records(&ds, &[("lastSyncCount", "1")]).await.ok();
    assert_eq!(summary(&records_of(&page)), vec![row("b", 2, Some("1"))]);
    let page = ep.list_records(&ds, &[("lastSyncCount", "2")]).await.ok();
    assert_eq!(records_of(&page), Vec::<Value>::new());
    assert_eq!(page["Count"], 0);
    assert_eq!(page["DatasetSyncCount"], 2);
}

#[tokio::test]
async fn amb_order_records_come_ordered_by_sync_count_then_key() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("order");
    ep.write(&ds, json!([replace("z", "1", 0), replace("m", "1", 0)]))
        .await;
    ep.write(&ds, json!([replace("b", "1", 0), replace("a", "1", 0)]))
        .await;
    ep.write(&ds, json!([replace("z", "2", 1)])).await;
    let page = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(keys(&records_of(&page)), vec!["m", "a", "b", "z"]);
}

// ---- LR-2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn lr_2_a_dataset_that_does_not_exist_answers_empty_with_a_fresh_token() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("absent");
    let page = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(page["Records"], json!([]));
    assert_eq!(page["Count"], 0);
    assert_eq!(page["DatasetSyncCount"], 0);
    assert_eq!(page["DatasetExists"], false);
    assert_eq!(page["DatasetDeletedAfterRequestedSyncCount"], false);
    assert!(page.get("NextToken").is_none(), "{page}");
    let token = page["SyncSessionToken"].as_str().expect("a token");
    assert!(!token.is_empty());
    // The token works for the first write.
    ep.update(
        &ds,
        &json!({"RecordPatches": [replace("k", "v", 0)], "SyncSessionToken": token}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn lr_2_a_dataset_that_does_not_exist_is_not_an_error_even_with_last_sync_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("absent-since");
    let page = ep.list_records(&ds, &[("lastSyncCount", "7")]).await.ok();
    assert_eq!(page["Records"], json!([]));
    assert_eq!(page["Count"], 0);
    assert_eq!(page["DatasetSyncCount"], 0);
    assert_eq!(page["DatasetExists"], false);
    assert!(page["SyncSessionToken"].is_string(), "{page}");
}

#[tokio::test]
async fn lr_2_listing_a_dataset_that_does_not_exist_does_not_create_it() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("look-only");
    ep.list_records(&ds, &[]).await.ok();
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
    let datasets = ep.list_datasets(&ds.pool, &ds.identity, &[]).await;
    if datasets.status == 200 {
        assert_eq!(datasets.ok()["Datasets"], json!([]));
    }
}

// ---- LR-3 ------------------------------------------------------------------------------------

#[tokio::test]
async fn lr_3_last_sync_count_above_the_dataset_count_is_rejected_with_no_such_sync_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("too-far");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("a", "2", 1)])).await;
    let before = ep.state(&ds).await;
    for n in [3_i64, 4, 1000, i64::MAX] {
        ep.list_records(&ds, &[("lastSyncCount", &n.to_string())])
            .await
            .assert_error_message(
                ErrorKind::InvalidParameter,
                &format!("No such SyncCount: {n} exists for this Dataset"),
            );
    }
    ep.assert_unchanged(&ds, &before).await;
    // The boundary itself is fine.
    ep.list_records(&ds, &[("lastSyncCount", "2")]).await.ok();
}

#[tokio::test]
async fn lr_3_a_negative_last_sync_count_is_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("negative");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let before = ep.state(&ds).await;
    ep.list_records(&ds, &[("lastSyncCount", "-1")])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.assert_unchanged(&ds, &before).await;
}

// ---- LR-4 ------------------------------------------------------------------------------------

/// Follows NextToken from the first page; returns every page (bounded).
async fn pages(ep: &Endpoint, ds: &Ds, max_results: &str, since: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..50 {
        let mut query = vec![("maxResults", max_results), ("lastSyncCount", since)];
        if let Some(token) = next.as_deref() {
            query.push(("nextToken", token));
        }
        let page = ep.list_records(ds, &query).await.ok();
        next = page["NextToken"].as_str().map(str::to_owned);
        pages.push(page);
        if next.is_none() {
            return pages;
        }
    }
    panic!("paging did not end within 50 pages");
}

#[tokio::test]
async fn lr_4_paging_yields_every_record_exactly_once() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("pages");
    ten_records(&ep, &ds).await;
    let whole = ep.all_records(&ds, 0).await;
    assert_eq!(whole.len(), 10);
    for since in [0_i64, 2] {
        let want: Vec<Value> = whole
            .iter()
            .filter(|r| r["SyncCount"].as_i64() > Some(since))
            .cloned()
            .collect();
        for max in 1..=3_usize {
            let pages = pages(&ep, &ds, &max.to_string(), &since.to_string()).await;
            assert_eq!(
                pages.len(),
                want.len().div_ceil(max),
                "max={max} since={since}"
            );
            let mut got = Vec::new();
            for page in &pages {
                let records = records_of(page);
                assert!(records.len() <= max, "max={max}: {page}");
                got.extend(records);
            }
            assert_eq!(got, want, "max={max} since={since}");
        }
    }
}

#[tokio::test]
async fn lr_4_every_page_repeats_the_dataset_members_and_a_valid_session_token() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("page-members");
    ten_records(&ep, &ds).await;
    let pages = pages(&ep, &ds, "3", "0").await;
    assert_eq!(pages.len(), 4);
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page["DatasetSyncCount"], 6, "page {i}");
        assert_eq!(page["DatasetExists"], true, "page {i}");
        assert_eq!(
            page["DatasetDeletedAfterRequestedSyncCount"], false,
            "page {i}"
        );
        assert_eq!(
            page["NextToken"].is_string(),
            i + 1 < pages.len(),
            "only the last page lacks NextToken: page {i}"
        );
        let token = page["SyncSessionToken"].as_str().expect("a session token");
        // Each page's token is valid for an UpdateRecords of this dataset.
        let reply = ep
            .update(
                &ds,
                &json!({"RecordPatches": [], "SyncSessionToken": token}),
            )
            .await
            .ok();
        assert_eq!(reply, json!({"Records": []}));
    }
    let last = pages.last().expect("a last page");
    let token = last["SyncSessionToken"].as_str().expect("a token");
    let reply = ep
        .update(
            &ds,
            &json!({"RecordPatches": [replace("k0", "new", 1)], "SyncSessionToken": token}),
        )
        .await
        .ok();
    assert_eq!(reply["Records"][0]["SyncCount"], 7);
}

#[tokio::test]
async fn lr_4_a_page_never_holds_more_than_max_results_and_the_last_has_no_next_token() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("exact");
    ep.write(
        &ds,
        json!([
            replace("a", "1", 0),
            replace("b", "1", 0),
            replace("c", "1", 0),
            replace("d", "1", 0)
        ]),
    )
    .await;
    let pages = pages(&ep, &ds, "2", "0").await;
    let sizes: Vec<usize> = pages.iter().map(|p| records_of(p).len()).collect();
    assert_eq!(sizes, vec![2, 2]);
    let big = ep.list_records(&ds, &[("maxResults", "5000")]).await.ok();
    assert_eq!(
        records_of(&big).len(),
        4,
        "maxResults above the cap is clamped"
    );
    assert!(big.get("NextToken").is_none(), "{big}");
}

#[tokio::test]
async fn lr_4_a_tampered_next_token_is_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("tamper-next");
    ten_records(&ep, &ds).await;
    let first = ep.list_records(&ds, &[("maxResults", "2")]).await.ok();
    let token = first["NextToken"].as_str().expect("a NextToken").to_owned();
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let before = ep.state(&ds).await;
    for bad in [
        tampered.as_str(),
        &token[..token.len() - 1],
        "garbage",
        "0",
        "2",
    ] {
        ep.list_records(&ds, &[("maxResults", "2"), ("nextToken", bad)])
            .await
            .assert_error(ErrorKind::InvalidParameter);
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn lr_4_a_next_token_is_only_good_for_the_listing_it_came_from() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("next-scope");
    ten_records(&ep, &ds).await;
    let other_dataset = ds.sibling("next-scope-2");
    let other_identity = Ds::new(POOL, &fresh_identity(), "next-scope");
    ten_records(&ep, &other_dataset).await;
    ten_records(&ep, &other_identity).await;
    let before = ep.state(&ds).await;

    let first = ep.list_records(&ds, &[("maxResults", "2")]).await.ok();
    let token = first["NextToken"].as_str().expect("a NextToken");
    for other in [&other_dataset, &other_identity] {
        ep.list_records(other, &[("maxResults", "2"), ("nextToken", token)])
            .await
            .assert_error(ErrorKind::InvalidParameter);
    }
    // Another lastSyncCount is another listing.
    ep.list_records(
        &ds,
        &[
            ("maxResults", "2"),
            ("lastSyncCount", "1"),
            ("nextToken", token),
        ],
    )
    .await
    .assert_error(ErrorKind::InvalidParameter);
    // A NextToken is not a SyncSessionToken.
    ep.update(
        &ds,
        &json!({"RecordPatches": [replace("k0", "x", 1)], "SyncSessionToken": token}),
    )
    .await
    .assert_error(ErrorKind::InvalidParameter);
    // A session token is not a NextToken.
    let session = first["SyncSessionToken"].as_str().expect("a session token");
    ep.list_records(&ds, &[("maxResults", "2"), ("nextToken", session)])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn lr_4_max_results_below_1_is_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("zero-page");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let before = ep.state(&ds).await;
    for bad in ["0", "-1"] {
        ep.list_records(&ds, &[("maxResults", bad)])
            .await
            .assert_error(ErrorKind::InvalidParameter);
    }
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn lr_4_a_sync_session_token_query_must_be_valid_when_present() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("list-token");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let token = ep.token(&ds).await;
    ep.list_records(&ds, &[("syncSessionToken", &token)])
        .await
        .ok();
    ep.list_records(&ds, &[("syncSessionToken", "garbage")])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    let foreign = ep.token(&ds.sibling("elsewhere")).await;
    let before = ep.state(&ds).await;
    ep.list_records(&ds, &[("syncSessionToken", &foreign)])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.assert_unchanged(&ds, &before).await;
}

// ---- LR-5 ------------------------------------------------------------------------------------

fn assert_always_members(page: &Value, what: &str) {
    assert!(page["Count"].is_i64(), "{what}: Count in {page}");
    assert!(
        page["DatasetExists"].is_boolean(),
        "{what}: DatasetExists in {page}"
    );
    assert!(
        page["DatasetDeletedAfterRequestedSyncCount"].is_boolean(),
        "{what}: DatasetDeletedAfterRequestedSyncCount in {page}"
    );
    assert!(
        page["DatasetSyncCount"].is_i64(),
        "{what}: DatasetSyncCount in {page}"
    );
    assert!(
        page["SyncSessionToken"].is_string(),
        "{what}: SyncSessionToken in {page}"
    );
    assert!(page["Records"].is_array(), "{what}: Records in {page}");
}

#[tokio::test]
async fn lr_5_every_reply_carries_count_dataset_exists_and_the_deleted_flag() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("members");
    let absent = ep.list_records(&ds, &[]).await.ok();
    assert_always_members(&absent, "absent dataset");

    ten_records(&ep, &ds).await;
    let whole = ep.list_records(&ds, &[]).await.ok();
    assert_always_members(&whole, "existing dataset");
    let empty = ep.list_records(&ds, &[("lastSyncCount", "6")]).await.ok();
    assert_always_members(&empty, "nothing new");
    for page in pages(&ep, &ds, "4", "0").await {
        assert_always_members(&page, "a page");
    }
    ep.delete_dataset(&ds).await.ok();
    let deleted = ep.list_records(&ds, &[("lastSyncCount", "3")]).await.ok();
    assert_always_members(&deleted, "deleted dataset");
}

#[tokio::test]
async fn amb_count_is_the_number_of_records_in_this_page() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("count");
    ten_records(&ep, &ds).await;
    let counts: Vec<Value> = pages(&ep, &ds, "4", "0")
        .await
        .iter()
        .map(|p| p["Count"].clone())
        .collect();
    assert_eq!(counts, vec![json!(4), json!(4), json!(2)]);
    let all = ep.list_records(&ds, &[("lastSyncCount", "4")]).await.ok();
    assert_eq!(all["Count"], 2);
}

#[tokio::test]
async fn lr_5_merged_dataset_names_is_an_empty_list() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("merged");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let page = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(page["MergedDatasetNames"], json!([]));
}
