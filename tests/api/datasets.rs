//! DS-1..5: DescribeDataset, ListDatasets, DeleteDataset, DescribeIdentityUsage; and a file
//! database that outlives its server.

use std::path::PathBuf;

use cogsync::server::ServerConfig;
use cogsync::spec::ErrorKind;
use serde_json::{Value, json};

use crate::harness::{Ds, Endpoint, POOL, fresh_identity, remove, replace, row, summary};

fn dataset_of(reply: Value) -> Value {
    let dataset = reply["Dataset"].clone();
    assert!(dataset.is_object(), "a Dataset member: {reply}");
    dataset
}

fn names(list: &Value) -> Vec<String> {
    list["Datasets"]
        .as_array()
        .expect("Datasets is an array")
        .iter()
        .map(|d| d["DatasetName"].as_str().expect("DatasetName").to_owned())
        .collect()
}

// ---- DS-1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ds_1_describe_dataset_returns_every_metadata_member() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("meta");
    ep.write(&ds, json!([replace("ab", "cde", 0), replace("é", "ü€", 0)]))
        .await;
    let dataset = dataset_of(ep.describe_dataset(&ds).await.ok());
    assert_eq!(dataset["IdentityId"], ds.identity.as_str());
    assert_eq!(dataset["DatasetName"], "meta");
    assert!(dataset["CreationDate"].is_number(), "{dataset}");
    assert!(dataset["LastModifiedDate"].is_number(), "{dataset}");
    assert!(
        dataset["LastModifiedDate"].as_f64() >= dataset["CreationDate"].as_f64(),
        "{dataset}"
    );
    assert_eq!(dataset["LastModifiedBy"], ds.identity.as_str());
    assert_eq!(dataset["NumRecords"], 2);
    // UTF-8 bytes of live keys and values: 2 + 3 + 2 + (2 + 3).
    assert_eq!(dataset["DataStorage"], 12);
}

#[tokio::test]
async fn ds_1_creation_date_stays_while_records_and_storage_follow_the_writes() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("grow");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    let first = dataset_of(ep.describe_dataset(&ds).await.ok());
    ep.write(&ds, json!([replace("b", "22", 0), replace("a", "", 1)]))
        .await;
    let second = dataset_of(ep.describe_dataset(&ds).await.ok());
    assert_eq!(second["CreationDate"], first["CreationDate"]);
    assert!(second["LastModifiedDate"].as_f64() >= first["LastModifiedDate"].as_f64());
    assert_eq!(second["NumRecords"], 2);
    assert_eq!(second["DataStorage"], 4);
    ep.write(&ds, json!([remove("b", 2)])).await;
    let third = dataset_of(ep.describe_dataset(&ds).await.ok());
    assert_eq!(third["NumRecords"], 1);
    assert_eq!(third["DataStorage"], 1);
}

#[tokio::test]
async fn ds_1_describing_a_dataset_that_does_not_exist_is_404_resource_not_found() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("nothing");
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
    ep.write(&ds.sibling("something"), json!([replace("a", "1", 0)]))
        .await;
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn ds_1_describing_a_deleted_dataset_is_404_resource_not_found() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("gone");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.delete_dataset(&ds).await.ok();
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

// ---- DS-2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ds_2_list_datasets_lists_the_live_datasets_ordered_by_name() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("zeta");
    for name in ["zeta", "alpha", "mid", "Beta"] {
        ep.write(&ds.sibling(name), json!([replace("k", "v", 0)]))
            .await;
    }
    // Another identity's datasets are not listed.
    ep.write(
        &Ds::new(POOL, &fresh_identity(), "other"),
        json!([replace("k", "v", 0)]),
    )
    .await;
    let list = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    assert_eq!(names(&list), vec!["Beta", "alpha", "mid", "zeta"]);
    assert_eq!(list["Count"], 4);
    assert!(list.get("NextToken").is_none(), "{list}");
    let alpha = list["Datasets"][1].clone();
    assert_eq!(
        alpha,
        dataset_of(ep.describe_dataset(&ds.sibling("alpha")).await.ok())
    );
}

#[tokio::test]
async fn ds_2_deleted_datasets_are_not_listed() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("keep");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    ep.write(&ds.sibling("drop"), json!([replace("k", "v", 0)]))
        .await;
    ep.delete_dataset(&ds.sibling("drop")).await.ok();
    let list = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    assert_eq!(names(&list), vec!["keep"]);
    assert_eq!(list["Count"], 1);
}

#[tokio::test]
async fn ds_2_paging_through_list_datasets_yields_every_dataset_exactly_once() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("d0");
    let all: Vec<String> = (0..7).map(|i| format!("d{i}")).collect();
    for name in &all {
        ep.write(&ds.sibling(name), json!([replace("k", "v", 0)]))
            .await;
    }
    for max in 1..=3_usize {
        let mut got = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= 10, "paging ends");
            let max_text = max.to_string();
            let mut query = vec![("maxResults", max_text.as_str())];
            if let Some(token) = next.as_deref() {
                query.push(("nextToken", token));
            }
            let page = ep.list_datasets(&ds.pool, &ds.identity, &query).await.ok();
            let page_names = names(&page);
            assert!(page_names.len() <= max, "{page}");
            assert_eq!(page["Count"], page_names.len(), "{page}");
            got.extend(page_names);
            match page["NextToken"].as_str() {
                Some(token) => next = Some(token.to_owned()),
                None => break,
            }
        }
        assert_eq!(got, all, "maxResults={max}");
        assert_eq!(pages, all.len().div_ceil(max));
    }
}

#[tokio::test]
async fn ds_2_a_garbage_or_tampered_next_token_is_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("a");
    for name in ["a", "b", "c"] {
        ep.write(&ds.sibling(name), json!([replace("k", "v", 0)]))
            .await;
    }
    let first = ep
        .list_datasets(&ds.pool, &ds.identity, &[("maxResults", "1")])
        .await
        .ok();
    let token = first["NextToken"].as_str().expect("a NextToken");
    let before = ep.state(&ds).await;
    let truncated = &token[..token.len() - 1];
    for bad in ["garbage", truncated] {
        ep.list_datasets(&ds.pool, &ds.identity, &[("nextToken", bad)])
            .await
            .assert_error(ErrorKind::InvalidParameter);
    }
    // Another identity's listing.
    ep.list_datasets(&ds.pool, &fresh_identity(), &[("nextToken", token)])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.list_datasets(&ds.pool, &ds.identity, &[("maxResults", "0")])
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.assert_unchanged(&ds, &before).await;
}

// ---- DS-3 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ds_3_delete_dataset_answers_the_metadata_as_it_was() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("doomed");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "22", 0)]))
        .await;
    let described = dataset_of(ep.describe_dataset(&ds).await.ok());
    let deleted = dataset_of(ep.delete_dataset(&ds).await.ok());
    assert_eq!(deleted, described);
    assert_eq!(deleted["NumRecords"], 2);
}

#[tokio::test]
async fn ds_3_deleting_a_dataset_that_does_not_exist_is_404_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("never");
    ep.write(&ds.sibling("present"), json!([replace("a", "1", 0)]))
        .await;
    let before = ep.state(&ds).await;
    ep.delete_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ds_3_deleting_twice_answers_404_the_second_time() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("twice");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.delete_dataset(&ds).await.ok();
    ep.delete_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn ds_3_after_a_delete_its_records_and_tombstones_are_gone() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("wiped");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "1", 0)]))
        .await;
    ep.write(&ds, json!([remove("a", 1)])).await;
    ep.delete_dataset(&ds).await.ok();
    let page = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(page["Records"], json!([]));
    assert_eq!(page["Count"], 0);
    assert_eq!(page["DatasetSyncCount"], 0);
    assert_eq!(page["DatasetExists"], false);
}

#[tokio::test]
async fn ds_3_after_a_delete_the_next_write_recreates_it_with_every_key_at_count_0() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("reborn");
    ep.write(&ds, json!([replace("a", "1", 0), remove("t", 0)]))
        .await;
    ep.write(&ds, json!([replace("a", "2", 1)])).await;
    ep.delete_dataset(&ds).await.ok();
    let before = ep.state(&ds).await;

    // The old counts are forgotten: sending them is a conflict now.
    ep.list_then_update(&ds, json!([replace("a", "3", 2)]))
        .await
        .assert_error_message(
            ErrorKind::ResourceConflict,
            "Current SyncCount for: a is: 0 not: 2",
        );
    ep.list_then_update(&ds, json!([replace("t", "3", 1)]))
        .await
        .assert_error_message(
            ErrorKind::ResourceConflict,
            "Current SyncCount for: t is: 0 not: 1",
        );
    ep.assert_unchanged(&ds, &before).await;

    let written = ep
        .write(&ds, json!([replace("a", "3", 0), replace("t", "x", 0)]))
        .await;
    assert_eq!(written.len(), 2);
    let dataset = dataset_of(ep.describe_dataset(&ds).await.ok());
    assert_eq!(dataset["NumRecords"], 2);
}

#[tokio::test]
async fn amb_recreate_count_the_dataset_counter_continues_above_the_old_value() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("continue");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("a", "2", 1)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    ep.delete_dataset(&ds).await.ok();

    let written = ep.write(&ds, json!([replace("a", "new", 0)])).await;
    assert_eq!(summary(&written), vec![row("a", 4, Some("new"))]);
    assert_eq!(ep.dataset_sync_count(&ds).await, 4);
    let written = ep
        .write(&ds, json!([replace("a", "newer", 4), replace("b", "x", 0)]))
        .await;
    assert_eq!(
        summary(&written),
        vec![row("a", 5, Some("newer")), row("b", 5, Some("x"))]
    );
    let created = dataset_of(ep.describe_dataset(&ds).await.ok());
    assert_eq!(created["NumRecords"], 2);
}

// ---- DS-4 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ds_4_list_records_after_a_delete_flags_the_delete_and_the_missing_dataset() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("flags");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    ep.delete_dataset(&ds).await.ok();
    for since in ["1", "2"] {
        let page = ep.list_records(&ds, &[("lastSyncCount", since)]).await.ok();
        assert_eq!(page["DatasetExists"], false, "since {since}: {page}");
        assert_eq!(
            page["DatasetDeletedAfterRequestedSyncCount"], true,
            "since {since}: {page}"
        );
        assert_eq!(page["Records"], json!([]));
        assert_eq!(page["DatasetSyncCount"], 0);
    }
    // A count the dataset never reached is no error once the dataset is gone.
    let beyond = ep.list_records(&ds, &[("lastSyncCount", "5")]).await.ok();
    assert_eq!(beyond["DatasetExists"], false, "{beyond}");
    let from_scratch = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(from_scratch["DatasetExists"], false);
    assert_eq!(from_scratch["DatasetDeletedAfterRequestedSyncCount"], false);
}

#[tokio::test]
async fn amb_delete_flag_a_copy_older_than_the_delete_is_flagged_even_after_a_recreate() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("flag-recreate");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    ep.write(&ds, json!([replace("c", "1", 0)])).await;
    ep.delete_dataset(&ds).await.ok();
    ep.write(&ds, json!([replace("n", "1", 0)])).await;

    // A device that synced at 2 holds a copy from before the delete.
    let stale = ep.list_records(&ds, &[("lastSyncCount", "2")]).await.ok();
    assert_eq!(stale["DatasetExists"], true);
    assert_eq!(stale["DatasetDeletedAfterRequestedSyncCount"], true);
    assert_eq!(
        summary(&stale["Records"].as_array().expect("Records").clone()),
        vec![row("n", 4, Some("1"))]
    );
    // A device that synced after the re-create does not.
    let fresh = ep.list_records(&ds, &[("lastSyncCount", "4")]).await.ok();
    assert_eq!(fresh["DatasetExists"], true);
    assert_eq!(fresh["DatasetDeletedAfterRequestedSyncCount"], false);
}

// ---- DS-5 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ds_5_identity_usage_counts_the_live_datasets_and_their_storage() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("one");
    ep.write(&ds, json!([replace("ab", "cd", 0)])).await;
    ep.write(&ds.sibling("two"), json!([replace("é", "€", 0)]))
        .await;
    ep.write(&ds.sibling("three"), json!([remove("t", 0)]))
        .await;
    let usage = ep
        .describe_identity_usage(&ds.pool, &ds.identity)
        .await
        .ok()["IdentityUsage"]
        .clone();
    assert_eq!(usage["IdentityId"], ds.identity.as_str());
    assert_eq!(usage["IdentityPoolId"], ds.pool.as_str());
    assert_eq!(usage["DatasetCount"], 3);
    // 4 bytes + (2 + 3) bytes + a tombstone's nothing.
    assert_eq!(usage["DataStorage"], 9);
    assert!(usage["LastModifiedDate"].is_number(), "{usage}");
}

#[tokio::test]
async fn ds_5_identity_usage_follows_writes_and_deletes() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("first");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds.sibling("second"), json!([replace("bb", "22", 0)]))
        .await;
    ep.delete_dataset(&ds).await.ok();
    let usage = ep
        .describe_identity_usage(&ds.pool, &ds.identity)
        .await
        .ok()["IdentityUsage"]
        .clone();
    assert_eq!(usage["DatasetCount"], 1);
    assert_eq!(usage["DataStorage"], 4);
    let datasets = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    let storage: i64 = datasets["Datasets"]
        .as_array()
        .expect("Datasets")
        .iter()
        .map(|d| d["DataStorage"].as_i64().expect("DataStorage"))
        .sum();
    assert_eq!(usage["DataStorage"], storage);
}

#[tokio::test]
async fn ds_5_identity_usage_of_an_identity_without_datasets_is_404() {
    let ep = Endpoint::start().await;
    ep.describe_identity_usage(POOL, &fresh_identity())
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

// ---- a file database -------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "cogsync-api-{tag}-{}-{}",
            std::process::id(),
            fresh_identity().replace(':', "-")
        ));
        std::fs::create_dir_all(&dir).expect("temp dir is created");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn data_1_a_file_database_keeps_every_dataset_across_a_server_restart() {
    let dir = TempDir::new("restart");
    let db = dir.0.join("cogsync.db");
    let config = || ServerConfig {
        db: Some(db.clone()),
        ..ServerConfig::default()
    };
    let ds = Ds::fresh("durable");

    let ep = Endpoint::start_with(config()).await;
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "2", 0)]))
        .await;
    ep.write(&ds, json!([remove("a", 1)])).await;
    ep.write(&ds.sibling("doomed"), json!([replace("x", "y", 0)]))
        .await;
    ep.delete_dataset(&ds.sibling("doomed")).await.ok();
    let before = ep.state(&ds).await;
    ep.stop().await;

    let ep = Endpoint::start_with(config()).await;
    ep.assert_unchanged(&ds, &before).await;
    // The counters carry on where they were.
    let written = ep.write(&ds, json!([replace("a", "back", 2)])).await;
    assert_eq!(summary(&written), vec![row("a", 3, Some("back"))]);
    ep.stop().await;
}
