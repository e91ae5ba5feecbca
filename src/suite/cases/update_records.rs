//! UpdateRecords: sync counts, conflicts, atomic batches, tombstones (SPEC §1–§2).

use super::support::{
    DEVICE, call_intended, ensure, list_from, update_intended, write, write_rejected,
};
use crate::model::Call;
use crate::spec::{DescribeDatasetRequest, ErrorKind, RecordPatch};
use crate::suite::session::{Answer, Intent, Session, TokenChoice, dataset_of, remove, replace};
use crate::suite::verdict::Stop;

cases! {
    "update-records.key.case-distinct", Must, ["DATA-1", "UR-2"],
    "Keys that differ only in case are different records",
    "`score` and `Score` are two records: each has its own SyncCount, and writing one never conflicts with or changes the other."
        => key_case_distinct;

    "update-records.key.normalization-distinct", Must, ["DATA-1", "UR-2"],
    "Keys that differ only in Unicode normalization are different records",
    "`\u{e9}` (NFC) and `e\u{301}` (NFD) are two records, compared as exact strings."
        => key_normalization_distinct;

    "update-records.first-write.creates-dataset", Must, ["DATA-1", "DATA-3", "UR-1"],
    "A first write with SyncCount 0 creates the dataset",
    "The first successful UpdateRecords creates the dataset; its records get SyncCount 1."
        => first_write_creates_dataset;

    "update-records.sync-count.stale-rejected", Must, ["UR-2", "UR-3"],
    "A stale SyncCount is rejected with 409 and changes nothing",
    "A patch whose SyncCount is older than the key's current count fails with 409 ResourceConflictException and the dataset is unchanged."
        => stale_sync_count_rejected;

    "update-records.sync-count.higher-rejected", Must, ["UR-2", "UR-4"],
    "A SyncCount above the key's current count is a conflict",
    "The check is equality: a patch whose SyncCount is higher than the key's current count fails with 409 and changes nothing."
        => higher_sync_count_rejected;

    "update-records.sync-count.new-key-nonzero-rejected", Must, ["UR-1", "UR-2", "UR-4"],
    "A new key must be written with SyncCount 0",
    "A key that never existed has current count 0, so a patch for it with SyncCount 3 fails with 409."
        => new_key_nonzero_rejected;

    "update-records.sync-count.negative-rejected", Must, ["UR-2", "UR-4"],
    "A negative SyncCount never matches a key's count",
    "A patch with SyncCount -1 differs from every current count and fails with 409; nothing changes."
        => negative_sync_count_rejected;

    "update-records.sync-count.stale-unchanged-value-rejected", Must, ["UR-2"],
    "A stale SyncCount conflicts even when the value is unchanged",
    "A patch that writes the key's current value with a stale SyncCount still fails with 409."
        => stale_unchanged_value_rejected;

    "update-records.sync-count.stale-remove-rejected", Must, ["UR-2", "UR-6"],
    "A remove with a stale SyncCount is a conflict",
    "Op=remove is checked like replace: a stale SyncCount fails with 409 and the record stays."
        => stale_remove_rejected;

    "update-records.conflict.message-names-key-and-counts", Should, ["UR-2", "ERR-1"],
    "The conflict message names the key, the current and the sent count",
    "A 409 carries the message `Current SyncCount for: <key> is: <current> not: <sent>`."
        => conflict_message_format;

    "update-records.conflict.retry-with-server-count", Must, ["UR-2", "LR-1", "DATA-3"],
    "A device that lost a race lists again and retries with the server's count",
    "After a 409, a ListRecords from the device's lastSyncCount returns the newer record and a retry with its SyncCount succeeds."
        => conflict_then_retry;

    "update-records.batch.conflict-rejects-whole", Must, ["UR-3", "UR-2"],
    "One conflicting patch rejects the whole batch",
    "When the third of three patches conflicts, none of the three is applied and the dataset count does not move."
        => batch_conflict_rejects_whole;

    "update-records.batch.conflict-does-not-create-dataset", Must, ["UR-3", "DATA-1", "LR-2"],
    "A rejected first write does not create the dataset",
    "A first UpdateRecords with one conflicting patch leaves the dataset missing: ListRecords answers DatasetExists=false and DescribeDataset 404."
        => batch_conflict_does_not_create;

    "update-records.batch.one-count-for-all", Must, ["DATA-3", "UR-5"],
    "Every patch of one request gets the same new SyncCount",
    "A request with three replaces and a remove raises DatasetSyncCount by exactly 1 and gives every patched key that count."
        => batch_one_count_for_all;

    "update-records.sync-count.is-dataset-version", Must, ["DATA-3", "DATA-2"],
    "A record's SyncCount is the dataset version it last changed at",
    "After writes to a, b, then a again, a has SyncCount 3 (not 2) and b keeps 2."
        => sync_count_is_dataset_version;

    "update-records.response.lists-patched-keys", Must, ["UR-5"],
    "The response lists each patched key in its new state",
    "UpdateRecords answers every patched key with its new SyncCount; a removed key is listed without Value."
        => response_lists_patched_keys;

    "update-records.remove.leaves-tombstone", Must, ["UR-6", "UR-4"],
    "A remove leaves a tombstone that ListRecords returns",
    "After Op=remove the key stays without Value at the new SyncCount and is listed by ListRecords."
        => remove_leaves_tombstone;

    "update-records.remove.never-existed-creates-tombstone", Must, ["UR-6", "DATA-1"],
    "Removing a key that never existed succeeds",
    "Op=remove with SyncCount 0 for an unknown key succeeds, creates the dataset and leaves a tombstone."
        => remove_never_existed;

    "update-records.remove.rewrite-needs-tombstone-count", Must, ["UR-7", "UR-4"],
    "Writing a removed key again needs the tombstone's SyncCount",
    "After a remove, a replace with SyncCount 0 fails with 409 and one with the tombstone's count succeeds."
        => rewrite_needs_tombstone_count;

    "update-records.remove.value-ignored", Unstated, ["UR-6", "AMB-X-REMOVE-VALUE"],
    "A remove that carries a Value still removes",
    "Op=remove with a Value leaves a tombstone without Value; the sent value is ignored (a 400 is NON-STRICT: the spec does not say)."
        => remove_value_ignored;

    "update-records.device-last-modified-date.echoed", Must, ["UR-9", "ERR-4"],
    "DeviceLastModifiedDate is stored and echoed",
    "A patch's DeviceLastModifiedDate (integer or fractional epoch seconds) comes back in the response and in ListRecords."
        => device_date_echoed;

    "update-records.values.stored-verbatim", Must, ["DATA-1", "UR-5"],
    "Keys and values are stored exactly as sent",
    "Keys and values with spaces, quotes, backslashes, newlines, slashes and multi-byte characters are listed back unchanged."
        => values_stored_verbatim;

    "update-records.device-id.optional", Must, ["UR-5", "DATA-3"],
    "DeviceId may be omitted",
    "An UpdateRecords without DeviceId succeeds like one with it."
        => device_id_optional;

    "update-records.isolation.identities", Must, ["DATA-1"],
    "Identities do not share datasets",
    "Two identities writing a dataset of the same name each see only their own records and counts."
        => identities_isolated;

    "update-records.isolation.datasets", Must, ["DATA-1", "DATA-2"],
    "Datasets of one identity have their own counters",
    "Writing one dataset does not move another dataset's DatasetSyncCount or records."
        => datasets_isolated;

    "update-records.sync-count.many-writes", Must, ["DATA-2", "DATA-3"],
    "The dataset count rises by one per successful write",
    "Ten successive writes to one key leave DatasetSyncCount 10 and the key at SyncCount 10."
        => many_writes;
}

async fn first_write_creates_dataset(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    s.list(&path).await?;
    s.update(&path, vec![replace("theme", "dark", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn stale_sync_count_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    s.update(&path, vec![replace("theme", "dark", 0)]).await?;
    s.update(&path, vec![replace("theme", "light", 1)]).await?;
    // The key is now at 2: 1 is stale.
    write_rejected(
        s,
        &path,
        vec![replace("theme", "blue", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn higher_sync_count_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("theme", "light", 2)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn new_key_nonzero_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("volume", "7", 3)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn negative_sync_count_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("theme", "light", -1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn stale_unchanged_value_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write(s, &path, vec![replace("theme", "light", 1)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("theme", "light", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn stale_remove_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write(s, &path, vec![replace("theme", "light", 1)]).await?;
    write_rejected(
        s,
        &path,
        vec![remove("theme", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn conflict_message_format(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("settings");
    write(s, &path, vec![replace("theme", "dark", 0)]).await?;
    write(s, &path, vec![replace("theme", "light", 1)]).await?;
    let answer = write_rejected(
        s,
        &path,
        vec![replace("theme", "blue", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    let want = "Current SyncCount for: theme is: 2 not: 1";
    let message = match &answer {
        Answer::Error { message, .. } => message.clone().unwrap_or_default(),
        _ => String::new(),
    };
    ensure(message.contains(want), || {
        format!("conflict message: expected {want:?}, got {message:?}")
    })?;
    s.list(&path).await?;
    Ok(())
}

async fn conflict_then_retry(s: &mut Session) -> Result<(), Stop> {
    let phone = s.dataset("profile");
    write(s, &phone, vec![replace("name", "Ada", 0)]).await?;
    // Another device of the same identity syncs in between and renames.
    write(s, &phone, vec![replace("name", "Ada L.", 1)]).await?;
    write_rejected(
        s,
        &phone,
        vec![replace("name", "Ada Lovelace", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    list_from(s, &phone, Some(1), Some(1024)).await?;
    let current = s.count_of(&phone, "name");
    write(s, &phone, vec![replace("name", "Ada Lovelace", current)]).await?;
    s.list(&phone).await?;
    Ok(())
}

async fn batch_conflict_rejects_whole(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("game");
    write(
        s,
        &path,
        vec![replace("level", "1", 0), replace("score", "10", 0)],
    )
    .await?;
    write_rejected(
        s,
        &path,
        vec![
            replace("level", "2", 1),
            replace("lives", "3", 0),
            replace("score", "20", 0),
        ],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn batch_conflict_does_not_create(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("game");
    write_rejected(
        s,
        &path,
        vec![replace("level", "1", 0), replace("score", "10", 4)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    call_intended(
        s,
        Call::DescribeDataset(DescribeDatasetRequest { path }),
        Intent::Error(ErrorKind::ResourceNotFound),
    )
    .await?;
    Ok(())
}

async fn batch_one_count_for_all(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("old", "x", 0)]).await?;
    write(
        s,
        &path,
        vec![
            replace("a", "1", 0),
            replace("b", "2", 0),
            replace("c", "3", 0),
            remove("old", 1),
        ],
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn sync_count_is_dataset_version(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn response_lists_patched_keys(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    write(
        s,
        &path,
        vec![replace("a", "2", 1), remove("b", 1), replace("c", "1", 0)],
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn remove_leaves_tombstone(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    write(s, &path, vec![remove("a", 1)]).await?;
    s.list(&path).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn remove_never_existed(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.list(&path).await?;
    write(s, &path, vec![remove("ghost", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn rewrite_needs_tombstone_count(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![remove("a", 1)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("a", "again", 0)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "again", 2)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn remove_value_ignored(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let mut patch = remove("a", 1);
    patch.value = Some("ignored".to_owned());
    write(s, &path, vec![patch]).await?;
    s.list(&path).await?;
    Ok(())
}

fn dated(mut patch: RecordPatch, date: f64) -> RecordPatch {
    patch.device_last_modified_date = Some(date);
    patch
}

async fn device_date_echoed(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(
        s,
        &path,
        vec![
            dated(replace("a", "1", 0), 1_700_000_000.0),
            dated(replace("b", "1", 0), 1_700_000_123.456),
        ],
    )
    .await?;
    write(s, &path, vec![dated(remove("a", 1), 1_700_000_200.5)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn values_stored_verbatim(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("notes");
    write(
        s,
        &path,
        vec![
            replace("with space", "a \"quoted\" value", 0),
            replace("path/like\\key", "line one\nline two\ttab", 0),
            replace("ключ", "значение · 値 · 😀", 0),
            replace("json", r#"{"nested": [1, 2, {"x": null}]}"#, 0),
        ],
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn device_id_optional(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    update_intended(
        s,
        &path,
        None,
        Some(vec![replace("a", "1", 0)]),
        TokenChoice::Latest,
        Intent::Success,
    )
    .await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![replace("b", "1", 0)]),
        TokenChoice::Latest,
        Intent::Success,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn identities_isolated(s: &mut Session) -> Result<(), Stop> {
    let alice = s.dataset("settings");
    let bob = s.dataset("settings");
    write(s, &alice, vec![replace("theme", "dark", 0)]).await?;
    write(s, &alice, vec![replace("theme", "light", 1)]).await?;
    s.list(&bob).await?;
    write(s, &bob, vec![replace("theme", "blue", 0)]).await?;
    s.list(&alice).await?;
    s.list(&bob).await?;
    Ok(())
}

async fn datasets_isolated(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let settings = dataset_of(&identity, "settings");
    let scores = dataset_of(&identity, "scores");
    write(s, &settings, vec![replace("theme", "dark", 0)]).await?;
    write(s, &settings, vec![replace("theme", "light", 1)]).await?;
    write(s, &scores, vec![replace("theme", "not a theme", 0)]).await?;
    s.list(&settings).await?;
    s.list(&scores).await?;
    Ok(())
}

async fn many_writes(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("counter");
    for n in 0..10 {
        write(s, &path, vec![replace("n", &n.to_string(), n)]).await?;
    }
    s.list(&path).await?;
    Ok(())
}

/// Two keys that must stay two records: both written, one rewritten, both listed.
async fn distinct_keys(s: &mut Session, first: &str, second: &str) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace(first, "1", 0)]).await?;
    // The second key has never existed: its count is 0, whatever the first key's is.
    write(s, &path, vec![replace(second, "2", 0)]).await?;
    write(
        s,
        &path,
        vec![replace(first, "1b", 1), replace(second, "2b", 2)],
    )
    .await?;
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

async fn key_case_distinct(s: &mut Session) -> Result<(), Stop> {
    distinct_keys(s, "score", "Score").await
}

async fn key_normalization_distinct(s: &mut Session) -> Result<(), Stop> {
    distinct_keys(s, "caf\u{e9}", "cafe\u{301}").await
}
