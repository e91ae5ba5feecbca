//! DATA-1..3 and UR-1..10: datasets, counters and UpdateRecords.

use std::sync::atomic::Ordering;

use cogsync::server::{Clock, ServerConfig};
use cogsync::spec::ErrorKind;
use serde_json::{Value, json};

use crate::harness::{
    DEVICE_DATE, Ds, Endpoint, POOL, Reply, fresh_identity, remove, replace, row, summary,
};

fn conflict(key: &str, current: i64, sent: i64) -> String {
    format!("Current SyncCount for: {key} is: {current} not: {sent}")
}

// ---- DATA-1 ----------------------------------------------------------------------------------

#[tokio::test]
async fn data_1_the_first_successful_write_creates_the_dataset() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("settings");
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);

    ep.write(&ds, json!([replace("colour", "blue", 0)])).await;

    let dataset = ep.describe_dataset(&ds).await.ok()["Dataset"].clone();
    assert_eq!(dataset["DatasetName"], "settings");
    assert_eq!(dataset["IdentityId"], ds.identity.as_str());
    assert_eq!(dataset["NumRecords"], 1);
    let list = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(list["DatasetExists"], true);
}

#[tokio::test]
async fn data_1_a_dataset_maps_each_key_to_a_string_value() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("profile");
    ep.write(
        &ds,
        json!([replace("name", "Ada", 0), replace("lang", "en", 0)]),
    )
    .await;
    ep.write(&ds, json!([replace("name", "Grace", 1)])).await;

    let records = ep.all_records(&ds, 0).await;
    let mut pairs: Vec<(String, Option<String>)> = summary(&records)
        .into_iter()
        .map(|(k, _, v)| (k, v))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("lang".to_owned(), Some("en".to_owned())),
            ("name".to_owned(), Some("Grace".to_owned())),
        ]
    );
}

#[tokio::test]
async fn data_1_datasets_are_separate_per_name_per_identity_and_per_pool() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("shared");
    ep.write(&ds, json!([replace("k", "mine", 0)])).await;

    let other_name = ds.sibling("other");
    let other_identity = Ds::new(POOL, &fresh_identity(), "shared");
    let other_pool = Ds::new(
        "eu-west-1:00000000-0000-0000-0000-0000000000e1",
        &ds.identity,
        "shared",
    );
    for other in [&other_name, &other_identity, &other_pool] {
        let list = ep.list_records(other, &[]).await.ok();
        assert_eq!(list["DatasetExists"], false, "{other:?} is untouched");
        assert_eq!(list["Records"], json!([]));
        // Each starts at count 0 of its own.
        ep.write(other, json!([replace("k", "theirs", 0)])).await;
    }
    let records = ep.all_records(&ds, 0).await;
    assert_eq!(summary(&records), vec![row("k", 1, Some("mine"))]);
}

// ---- DATA-2 ----------------------------------------------------------------------------------

#[tokio::test]
async fn data_2_dataset_sync_count_is_0_before_the_dataset_exists() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("new");
    assert_eq!(ep.dataset_sync_count(&ds).await, 0);
}

#[tokio::test]
async fn data_2_every_record_carries_a_sync_count_and_only_list_records_carries_the_dataset_count()
{
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("counts");
    let token = ep.token(&ds).await;
    let update = ep
        .update(
            &ds,
            &json!({"RecordPatches": [replace("a", "1", 0)], "SyncSessionToken": token}),
        )
        .await
        .ok();
    assert_eq!(update.as_object().map(|o| o.len()), Some(1), "{update}");
    assert_eq!(update["Records"][0]["SyncCount"], 1);

    let list = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(list["DatasetSyncCount"], 1);
    assert_eq!(list["Records"][0]["SyncCount"], 1);

    let describe = ep.describe_dataset(&ds).await.ok();
    assert!(
        describe["Dataset"].get("DatasetSyncCount").is_none(),
        "{describe}"
    );
}

// ---- DATA-3 ----------------------------------------------------------------------------------

#[tokio::test]
async fn data_3_each_write_raises_the_dataset_sync_count_by_exactly_one() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("steps");
    ep.write(
        &ds,
        json!([
            replace("a", "1", 0),
            replace("b", "1", 0),
            replace("c", "1", 0)
        ]),
    )
    .await;
    assert_eq!(ep.dataset_sync_count(&ds).await, 1);
    ep.write(&ds, json!([replace("a", "2", 1), remove("b", 1)]))
        .await;
    assert_eq!(ep.dataset_sync_count(&ds).await, 2);
    ep.write(&ds, json!([replace("d", "1", 0)])).await;
    assert_eq!(ep.dataset_sync_count(&ds).await, 3);
}

#[tokio::test]
async fn data_3_a_written_record_gets_the_new_dataset_count_not_its_old_count_plus_one() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("versions");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    ep.write(&ds, json!([replace("c", "1", 0)])).await;

    let written = ep.write(&ds, json!([replace("a", "2", 1)])).await;
    assert_eq!(summary(&written), vec![row("a", 4, Some("2"))]);
    let records = ep.all_records(&ds, 0).await;
    assert_eq!(
        summary(&records),
        vec![
            row("b", 2, Some("1")),
            row("c", 3, Some("1")),
            row("a", 4, Some("2")),
        ]
    );
}

#[tokio::test]
async fn data_3_replace_and_remove_in_one_write_both_take_the_new_dataset_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("mixed");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "1", 0)]))
        .await;
    ep.write(&ds, json!([replace("c", "1", 0)])).await;
    let written = ep
        .write(&ds, json!([remove("a", 1), replace("c", "2", 2)]))
        .await;
    assert_eq!(
        summary(&written),
        vec![row("a", 3, None), row("c", 3, Some("2"))]
    );
}

// ---- UR-1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_1_a_new_key_is_written_with_sync_count_0() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("new-keys");
    let written = ep.write(&ds, json!([replace("k", "v", 0)])).await;
    assert_eq!(summary(&written), vec![row("k", 1, Some("v"))]);
}

#[tokio::test]
async fn ur_1_an_existing_key_is_written_with_its_last_known_sync_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("known");
    ep.write(&ds, json!([replace("k", "v1", 0)])).await;
    ep.write(&ds, json!([replace("other", "x", 0)])).await;
    let written = ep.write(&ds, json!([replace("k", "v2", 1)])).await;
    assert_eq!(summary(&written), vec![row("k", 3, Some("v2"))]);
}

// ---- UR-2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_2_stale_sync_count_is_rejected_with_409_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("stale");
    ep.write(&ds, json!([replace("k", "v1", 0)])).await;
    ep.write(&ds, json!([replace("k", "v2", 1)])).await;
    let before = ep.state(&ds).await;

    let reply = ep
        .list_then_update(&ds, json!([replace("k", "v3", 1)]))
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 2, 1));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_2_a_higher_sync_count_than_the_current_one_is_a_conflict_too() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("future");
    ep.write(&ds, json!([replace("k", "v1", 0)])).await;
    let before = ep.state(&ds).await;

    let reply = ep
        .list_then_update(&ds, json!([replace("k", "v2", 5)]))
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 1, 5));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_2_a_stale_sync_count_conflicts_even_when_the_value_is_unchanged() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("same-value");
    ep.write(&ds, json!([replace("k", "same", 0)])).await;
    ep.write(&ds, json!([replace("k", "same", 1)])).await;
    let before = ep.state(&ds).await;

    let reply = ep
        .list_then_update(&ds, json!([replace("k", "same", 1)]))
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 2, 1));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_2_a_nonzero_sync_count_for_a_key_that_does_not_exist_is_a_conflict() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("ghost");
    ep.write(&ds, json!([replace("present", "x", 0)])).await;
    let before = ep.state(&ds).await;

    let reply = ep
        .list_then_update(&ds, json!([replace("absent", "y", 1)]))
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("absent", 0, 1));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_2_a_remove_with_a_stale_sync_count_is_a_conflict() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("stale-remove");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    ep.write(&ds, json!([replace("k", "w", 1)])).await;
    let before = ep.state(&ds).await;

    let reply = ep.list_then_update(&ds, json!([remove("k", 1)])).await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 2, 1));
    ep.assert_unchanged(&ds, &before).await;
}

// ---- UR-3 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_3_one_conflicting_patch_in_a_batch_makes_the_whole_batch_change_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("batch");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "1", 0)]))
        .await;
    let before = ep.state(&ds).await;

    let reply = ep
        .list_then_update(
            &ds,
            json!([
                replace("a", "2", 1),
                replace("new", "x", 0),
                replace("b", "2", 0),
                remove("a2", 0),
            ]),
        )
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("b", 1, 0));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_3_the_first_conflicting_patch_in_request_order_is_the_one_reported() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("first-conflict");
    ep.write(&ds, json!([replace("a", "1", 0), replace("b", "1", 0)]))
        .await;
    let before = ep.state(&ds).await;
    let reply = ep
        .list_then_update(&ds, json!([replace("b", "2", 7), replace("a", "2", 9)]))
        .await;
    reply.assert_error_message(ErrorKind::ResourceConflict, &conflict("b", 1, 7));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_3_a_rejected_first_write_does_not_create_the_dataset() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("never");
    let before = ep.state(&ds).await;
    let reply = ep
        .list_then_update(&ds, json!([replace("a", "1", 0), replace("b", "1", 3)]))
        .await;
    reply.assert_error(ErrorKind::ResourceConflict);
    ep.assert_unchanged(&ds, &before).await;
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

// ---- UR-4 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_4_the_current_count_of_a_stored_key_is_its_stored_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("stored");
    ep.write(&ds, json!([replace("a", "1", 0)])).await;
    ep.write(&ds, json!([replace("b", "1", 0)])).await;
    let before = ep.state(&ds).await;
    // "a" was last written at 1 although the dataset is at 2.
    ep.list_then_update(&ds, json!([replace("a", "2", 2)]))
        .await
        .assert_error_message(ErrorKind::ResourceConflict, &conflict("a", 1, 2));
    ep.assert_unchanged(&ds, &before).await;
    ep.write(&ds, json!([replace("a", "2", 1)])).await;
}

#[tokio::test]
async fn ur_4_the_current_count_of_a_removed_key_is_its_tombstones_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("tomb-count");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    ep.write(&ds, json!([remove("k", 1)])).await;
    let before = ep.state(&ds).await;
    ep.list_then_update(&ds, json!([replace("k", "again", 1)]))
        .await
        .assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 2, 1));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_4_every_key_of_a_dataset_that_does_not_exist_has_count_0() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("missing");
    let before = ep.state(&ds).await;
    ep.list_then_update(&ds, json!([replace("k", "v", 1)]))
        .await
        .assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 0, 1));
    ep.assert_unchanged(&ds, &before).await;
    let written = ep.write(&ds, json!([replace("k", "v", 0)])).await;
    assert_eq!(summary(&written), vec![row("k", 1, Some("v"))]);
}

// ---- UR-5 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_5_the_answer_lists_each_patched_key_in_request_order_with_its_new_state() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("answer");
    ep.write(&ds, json!([replace("m", "1", 0)])).await;
    let written = ep
        .write(
            &ds,
            json!([
                replace("z", "last", 0),
                remove("m", 1),
                replace("a", "first", 0)
            ]),
        )
        .await;
    assert_eq!(
        summary(&written),
        vec![
            row("z", 2, Some("last")),
            row("m", 2, None),
            row("a", 2, Some("first")),
        ]
    );
    for record in &written {
        assert!(record["LastModifiedDate"].is_number(), "{record}");
        assert!(record["LastModifiedBy"].is_string(), "{record}");
        assert!(record["DeviceLastModifiedDate"].is_number(), "{record}");
    }
}

#[tokio::test]
async fn ur_5_a_removed_key_is_listed_without_a_value() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("removed");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let written = ep.write(&ds, json!([remove("k", 1)])).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["Key"], "k");
    assert_eq!(written[0]["SyncCount"], 2);
    assert!(written[0].get("Value").is_none(), "{}", written[0]);
}

// ---- UR-6 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_6_remove_leaves_a_tombstone_that_list_records_returns_without_value() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("tombstone");
    ep.write(&ds, json!([replace("k", "v", 0), replace("keep", "x", 0)]))
        .await;
    ep.write(&ds, json!([remove("k", 1)])).await;

    let list = ep.list_records(&ds, &[]).await.ok();
    let records = list["Records"].as_array().expect("Records").clone();
    assert_eq!(
        summary(&records),
        vec![row("keep", 1, Some("x")), row("k", 2, None)]
    );
    let tombstone = &records[1];
    assert!(tombstone["LastModifiedDate"].is_number(), "{tombstone}");
    assert!(tombstone["LastModifiedBy"].is_string(), "{tombstone}");
    // Another device that synced at 1 learns of the delete.
    let since = ep.all_records(&ds, 1).await;
    assert_eq!(summary(&since), vec![row("k", 2, None)]);
}

#[tokio::test]
async fn ur_6_removing_a_key_that_never_existed_succeeds_and_creates_a_tombstone() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("never-existed");
    let written = ep.write(&ds, json!([remove("ghost", 0)])).await;
    assert_eq!(summary(&written), vec![row("ghost", 1, None)]);
    let records = ep.all_records(&ds, 0).await;
    assert_eq!(summary(&records), vec![row("ghost", 1, None)]);
    assert_eq!(ep.dataset_sync_count(&ds).await, 1);
}

#[tokio::test]
async fn ur_6_tombstones_are_not_live_records_in_num_records_or_data_storage() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("live");
    ep.write(&ds, json!([replace("ab", "cde", 0), replace("x", "yz", 0)]))
        .await;
    ep.write(&ds, json!([remove("ab", 1)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok()["Dataset"].clone();
    assert_eq!(dataset["NumRecords"], 1);
    assert_eq!(dataset["DataStorage"], 3);
}

// ---- UR-7 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_7_writing_a_removed_key_again_needs_the_tombstones_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("recreate-key");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    ep.write(&ds, json!([remove("k", 1)])).await;
    let before = ep.state(&ds).await;

    ep.list_then_update(&ds, json!([replace("k", "back", 0)]))
        .await
        .assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 2, 0));
    ep.assert_unchanged(&ds, &before).await;

    let written = ep.write(&ds, json!([replace("k", "back", 2)])).await;
    assert_eq!(summary(&written), vec![row("k", 3, Some("back"))]);
}

#[tokio::test]
async fn ur_7_removing_a_removed_key_again_also_needs_the_tombstones_count() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("remove-twice");
    ep.write(&ds, json!([remove("k", 0)])).await;
    let before = ep.state(&ds).await;
    ep.list_then_update(&ds, json!([remove("k", 0)]))
        .await
        .assert_error_message(ErrorKind::ResourceConflict, &conflict("k", 1, 0));
    ep.assert_unchanged(&ds, &before).await;
    let written = ep.write(&ds, json!([remove("k", 1)])).await;
    assert_eq!(summary(&written), vec![row("k", 2, None)]);
}

// ---- UR-8 ------------------------------------------------------------------------------------

const TOKEN_NOT_VALID: &str = "SyncSessionToken not valid for these inputs";

/// Sends a write that is good but for its token (`Null` leaves the member out); asserts a 400
/// that changed nothing and returns the answer for closer checks.
async fn reject_token(ep: &Endpoint, ds: &Ds, token: Value) -> Reply {
    let before = ep.state(ds).await;
    let current = ep
        .all_records(ds, 0)
        .await
        .iter()
        .find(|r| r["Key"] == "k")
        .map_or(0, |r| r["SyncCount"].as_i64().expect("SyncCount"));
    let mut body = json!({"RecordPatches": [replace("k", "v", current)]});
    if !token.is_null() {
        body["SyncSessionToken"] = token;
    }
    let reply = ep.update(ds, &body).await;
    assert_eq!(reply.status, 400, "{}", reply.body_text);
    ep.assert_unchanged(ds, &before).await;
    reply
}

#[tokio::test]
async fn ur_8_a_missing_sync_session_token_is_rejected_with_400_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("no-token");
    ep.write(&ds, json!([replace("k", "1", 0)])).await;
    let reply = reject_token(&ep, &ds, Value::Null).await;
    reply.assert_validation_error();
    assert!(
        reply.message().contains("at 'SyncSessionToken'"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn ur_8_an_empty_token_is_rejected_with_400_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("empty-token");
    ep.write(&ds, json!([replace("k", "1", 0)])).await;
    let reply = reject_token(&ep, &ds, json!("")).await;
    let kind = reply.error_type().and_then(ErrorKind::from_type_name);
    assert!(
        matches!(
            kind,
            Some(ErrorKind::InvalidParameter | ErrorKind::Validation)
        ),
        "{kind:?}"
    );
}

#[tokio::test]
async fn ur_8_a_garbage_token_is_rejected_as_not_valid_for_these_inputs() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("garbage-token");
    ep.write(&ds, json!([replace("k", "1", 0)])).await;
    for garbage in [
        "garbage",
        "AAAA",
        "x.y.z",
        "%%%",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        reject_token(&ep, &ds, json!(garbage))
            .await
            .assert_error_message(ErrorKind::InvalidParameter, TOKEN_NOT_VALID);
    }
}

#[tokio::test]
async fn ur_8_a_tampered_or_truncated_token_is_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("tampered-token");
    let token = ep.token(&ds).await;
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let truncated = &token[..token.len() - 1];
    let extended = format!("{token}A");
    for bad in [tampered.as_str(), truncated, &extended] {
        reject_token(&ep, &ds, json!(bad))
            .await
            .assert_error_message(ErrorKind::InvalidParameter, TOKEN_NOT_VALID);
    }
}

#[tokio::test]
async fn ur_8_a_token_from_another_dataset_identity_or_pool_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("mine");
    ep.write(&ds, json!([replace("k", "1", 0)])).await;
    let others = [
        ds.sibling("other"),
        Ds::new(POOL, &fresh_identity(), "mine"),
        Ds::new(
            "eu-west-1:00000000-0000-0000-0000-0000000000e1",
            &ds.identity,
            "mine",
        ),
    ];
    for other in &others {
        ep.write(other, json!([replace("k", "1", 0)])).await;
        let foreign = ep.token(other).await;
        reject_token(&ep, &ds, json!(foreign))
            .await
            .assert_error_message(ErrorKind::InvalidParameter, TOKEN_NOT_VALID);
    }
}

#[tokio::test]
async fn ur_8_a_token_issued_by_another_server_is_rejected() {
    let ep = Endpoint::start().await;
    let other_server = Endpoint::start().await;
    let ds = Ds::fresh("two-servers");
    let foreign = other_server.token(&ds).await;
    reject_token(&ep, &ds, json!(foreign))
        .await
        .assert_error_message(ErrorKind::InvalidParameter, TOKEN_NOT_VALID);
}

#[tokio::test]
async fn ur_8_a_token_of_the_wrong_json_type_is_rejected_with_400() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("typed-token");
    ep.write(&ds, json!([replace("k", "1", 0)])).await;
    for token in [json!(42), json!(["t"]), json!({"t": 1}), json!(true)] {
        reject_token(&ep, &ds, token)
            .await
            .assert_error(ErrorKind::Serialization);
    }
}

#[tokio::test]
async fn ur_8_a_token_from_list_records_of_a_missing_dataset_is_valid_for_its_first_write() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("first");
    let token = ep.token(&ds).await;
    ep.update(
        &ds,
        &json!({"RecordPatches": [replace("k", "v", 0)], "SyncSessionToken": token}),
    )
    .await
    .ok();
}

// ---- UR-9 ------------------------------------------------------------------------------------

#[tokio::test]
async fn ur_9_device_last_modified_date_is_stored_and_echoed() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("device-dates");
    let fraction = 1_650_000_000.5;
    let written = ep
        .write(
            &ds,
            json!([
                {"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0,
                 "DeviceLastModifiedDate": DEVICE_DATE},
                {"Op": "remove", "Key": "b", "SyncCount": 0, "DeviceLastModifiedDate": fraction},
            ]),
        )
        .await;
    assert_eq!(
        written[0]["DeviceLastModifiedDate"].as_f64(),
        Some(DEVICE_DATE)
    );
    assert_eq!(
        written[1]["DeviceLastModifiedDate"].as_f64(),
        Some(fraction)
    );

    let records = ep.all_records(&ds, 0).await;
    assert_eq!(records[0]["Key"], "a");
    assert_eq!(
        records[0]["DeviceLastModifiedDate"].as_f64(),
        Some(DEVICE_DATE)
    );
    assert_eq!(records[1]["Key"], "b");
    assert_eq!(
        records[1]["DeviceLastModifiedDate"].as_f64(),
        Some(fraction)
    );
}

#[tokio::test]
async fn ur_9_without_a_device_date_the_record_still_carries_a_numeric_one() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("server-dates");
    let written = ep.write(&ds, json!([replace("a", "1", 0)])).await;
    assert!(
        written[0]["DeviceLastModifiedDate"].is_number(),
        "{}",
        written[0]
    );
    let records = ep.all_records(&ds, 0).await;
    assert!(
        records[0]["DeviceLastModifiedDate"].is_number(),
        "{}",
        records[0]
    );
}

// ---- UR-10 -----------------------------------------------------------------------------------

#[tokio::test]
async fn ur_10_replace_without_value_is_rejected_with_400_and_changes_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("no-value");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let reply = ep
        .list_then_update(
            &ds,
            json!([replace("ok", "1", 0), {"Op": "replace", "Key": "k", "SyncCount": 1}]),
        )
        .await;
    reply.assert_validation_error();
    assert!(reply.message().contains("Value"), "{}", reply.message());
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_10_replace_with_a_null_value_is_rejected_like_a_missing_one() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("null-value");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let reply = ep
        .list_then_update(
            &ds,
            json!([{"Op": "replace", "Key": "k", "Value": null, "SyncCount": 1}]),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body_text);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn ur_10_remove_with_a_value_ignores_the_value() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("remove-value");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let written = ep
        .write(
            &ds,
            json!([{"Op": "remove", "Key": "k", "Value": "ignored", "SyncCount": 1}]),
        )
        .await;
    assert_eq!(summary(&written), vec![row("k", 2, None)]);
    assert_eq!(
        summary(&ep.all_records(&ds, 0).await),
        vec![row("k", 2, None)]
    );
}

// ---- AMB rows about UpdateRecords --------------------------------------------------------------

#[tokio::test]
async fn amb_dup_key_two_patches_for_one_key_are_rejected_as_invalid_parameter() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("dup");
    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    ep.list_then_update(&ds, json!([replace("k", "a", 1), replace("k", "b", 1)]))
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.list_then_update(&ds, json!([replace("new", "a", 0), remove("new", 1)]))
        .await
        .assert_error(ErrorKind::InvalidParameter);
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn amb_empty_patches_absent_or_empty_answer_no_records_and_change_nothing() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("empty");
    let missing_before = ep.state(&ds).await;
    let token = ep.token(&ds).await;
    for body in [
        json!({"SyncSessionToken": token}),
        json!({"SyncSessionToken": token, "RecordPatches": []}),
    ] {
        let reply = ep.update(&ds, &body).await.ok();
        assert_eq!(reply, json!({"Records": []}));
    }
    // The dataset is not created.
    ep.assert_unchanged(&ds, &missing_before).await;

    ep.write(&ds, json!([replace("k", "v", 0)])).await;
    let before = ep.state(&ds).await;
    let token = ep.token(&ds).await;
    let reply = ep
        .update(
            &ds,
            &json!({"SyncSessionToken": token, "RecordPatches": []}),
        )
        .await
        .ok();
    assert_eq!(reply, json!({"Records": []}));
    ep.assert_unchanged(&ds, &before).await;
}

#[tokio::test]
async fn amb_empty_value_replace_with_an_empty_string_stores_it() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("empty-value");
    let written = ep.write(&ds, json!([replace("k", "", 0)])).await;
    assert_eq!(summary(&written), vec![row("k", 1, Some(""))]);
    assert_eq!(
        summary(&ep.all_records(&ds, 0).await),
        vec![row("k", 1, Some(""))]
    );
    let dataset = ep.describe_dataset(&ds).await.ok()["Dataset"].clone();
    assert_eq!(dataset["NumRecords"], 1);
    assert_eq!(dataset["DataStorage"], 1);
}

#[tokio::test]
async fn amb_token_reuse_a_valid_token_is_accepted_any_number_of_times() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("reuse");
    let token = ep.token(&ds).await;
    for (i, count) in [0, 1, 2].into_iter().enumerate() {
        let reply = ep
            .update(
                &ds,
                &json!({"RecordPatches": [replace("k", &i.to_string(), count)],
                        "SyncSessionToken": token}),
            )
            .await
            .ok();
        assert_eq!(reply["Records"][0]["SyncCount"], count + 1);
    }
}

#[tokio::test]
async fn amb_unchanged_write_a_replace_with_the_same_value_bumps_the_counts() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("unchanged");
    ep.write(&ds, json!([replace("k", "same", 0)])).await;
    let written = ep.write(&ds, json!([replace("k", "same", 1)])).await;
    assert_eq!(summary(&written), vec![row("k", 2, Some("same"))]);
    assert_eq!(ep.dataset_sync_count(&ds).await, 2);
}

#[tokio::test]
async fn amb_lastmodifiedby_is_the_device_id_when_sent_else_the_identity() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("who");
    let written = ep.write(&ds, json!([replace("a", "1", 0)])).await;
    assert_eq!(written[0]["LastModifiedBy"], ds.identity.as_str());

    let token = ep.token(&ds).await;
    let reply = ep
        .update(
            &ds,
            &json!({"DeviceId": "phone-1", "RecordPatches": [replace("b", "1", 0)],
                    "SyncSessionToken": token}),
        )
        .await
        .ok();
    assert_eq!(reply["Records"][0]["LastModifiedBy"], "phone-1");
    let dataset = ep.describe_dataset(&ds).await.ok()["Dataset"].clone();
    assert_eq!(dataset["LastModifiedBy"], "phone-1");
    let list = ep.list_records(&ds, &[]).await.ok();
    assert_eq!(list["LastModifiedBy"], "phone-1");
}

#[tokio::test]
async fn amb_token_expiry_a_token_is_valid_for_an_hour_and_not_after() {
    let (clock, now_ms) = Clock::manual(1_700_000_000_000);
    let ep = Endpoint::start_with(ServerConfig {
        clock,
        ..ServerConfig::default()
    })
    .await;
    let ds = Ds::fresh("expiry");
    let token = ep.token(&ds).await;
    let body =
        |key: &str| json!({"RecordPatches": [replace(key, "v", 0)], "SyncSessionToken": token});

    now_ms.fetch_add(59 * 60 * 1000, Ordering::Relaxed);
    ep.update(&ds, &body("a")).await.ok();

    now_ms.fetch_add(2 * 60 * 1000, Ordering::Relaxed);
    let before = ep.state(&ds).await;
    ep.update(&ds, &body("b")).await.assert_error_message(
        ErrorKind::InvalidParameter,
        "SyncSessionToken not valid for these inputs",
    );
    ep.assert_unchanged(&ds, &before).await;
}
