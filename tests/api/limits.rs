//! LIM-1..3: datasets per identity, records per dataset, bytes per dataset.

use cogsync::spec::{self, ErrorKind};
use serde_json::{Value, json};

use crate::harness::{Ds, Endpoint, remove, replace};

fn patches(keys: impl IntoIterator<Item = String>) -> Value {
    Value::Array(keys.into_iter().map(|k| replace(&k, "v", 0)).collect())
}

fn numbered(from: usize, to: usize) -> impl Iterator<Item = String> {
    (from..to).map(|i| format!("r{i:04}"))
}

async fn assert_limit_exceeded(ep: &Endpoint, ds: &Ds, patches: Value) {
    let before = ep.state(ds).await;
    ep.list_then_update(ds, patches)
        .await
        .assert_error(ErrorKind::LimitExceeded);
    ep.assert_unchanged(ds, &before).await;
}

// ---- LIM-1 -----------------------------------------------------------------------------------

async fn twenty_datasets(ep: &Endpoint, ds: &Ds) {
    for i in 0..spec::DATASETS_PER_IDENTITY_MAX {
        ep.write(
            &ds.sibling(&format!("d{i:02}")),
            json!([replace("k", "v", 0)]),
        )
        .await;
    }
}

#[tokio::test]
async fn lim_1_twenty_datasets_fit_and_the_write_creating_the_21st_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("d00");
    twenty_datasets(&ep, &ds).await;
    let list = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    assert_eq!(list["Count"], 20);

    let extra = ds.sibling("d20");
    assert_limit_exceeded(&ep, &extra, json!([replace("k", "v", 0)])).await;
    // The other datasets of the identity are untouched too.
    let after = ep.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
    assert_eq!(after, list);
    ep.describe_dataset(&extra)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn lim_1_writing_to_an_existing_dataset_at_the_limit_is_fine() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("d00");
    twenty_datasets(&ep, &ds).await;
    ep.write(
        &ds.sibling("d07"),
        json!([replace("k", "w", 1), remove("x", 0)]),
    )
    .await;
}

#[tokio::test]
async fn lim_1_after_a_delete_a_new_dataset_fits_again() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("d00");
    twenty_datasets(&ep, &ds).await;
    ep.delete_dataset(&ds.sibling("d03")).await.ok();
    ep.write(&ds.sibling("d20"), json!([replace("k", "v", 0)]))
        .await;
    assert_limit_exceeded(&ep, &ds.sibling("d21"), json!([replace("k", "v", 0)])).await;
}

#[tokio::test]
async fn lim_1_an_empty_update_on_a_21st_dataset_creates_nothing_and_is_not_limited() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("d00");
    twenty_datasets(&ep, &ds).await;
    let extra = ds.sibling("d20");
    let reply = ep.list_then_update(&extra, json!([])).await.ok();
    assert_eq!(reply, json!({"Records": []}));
    ep.describe_dataset(&extra)
        .await
        .assert_error(ErrorKind::ResourceNotFound);
}

// ---- LIM-2 -----------------------------------------------------------------------------------

#[tokio::test]
async fn lim_2_1024_records_fit_and_the_1025th_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("many");
    let written = ep.write(&ds, patches(numbered(0, 1024))).await;
    assert_eq!(written.len(), 1024);
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["NumRecords"], 1024);

    assert_limit_exceeded(&ep, &ds, json!([replace("one-more", "v", 0)])).await;
    // Replacing existing records keeps the count and is fine.
    ep.write(&ds, json!([replace("r0000", "w", 1)])).await;
}

#[tokio::test]
async fn lim_2_one_request_with_1025_new_records_is_rejected_whole() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("too-many");
    assert_limit_exceeded(&ep, &ds, patches(numbered(0, 1025))).await;
    ep.describe_dataset(&ds)
        .await
        .assert_error(ErrorKind::ResourceNotFound);

    ep.write(&ds, patches(numbered(0, 1000))).await;
    assert_limit_exceeded(&ep, &ds, patches(numbered(1000, 1025))).await;
    // Removes and adds in one request are judged on the state they produce.
    let mut mixed = vec![remove("r0000", 1)];
    mixed.extend(numbered(1000, 1025).map(|k| replace(&k, "v", 0)));
    ep.write(&ds, Value::Array(mixed)).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["NumRecords"], 1024);
}

#[tokio::test]
async fn amb_tombstone_limit_tombstones_do_not_count_toward_the_record_limit() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("tombstones");
    ep.write(&ds, patches(numbered(0, 1024))).await;
    ep.write(&ds, json!([remove("r0000", 1), remove("r0001", 1)]))
        .await;
    // 1022 live records and two tombstones: two more fit.
    ep.write(&ds, json!([replace("new-a", "v", 0), remove("never", 0)]))
        .await;
    ep.write(&ds, json!([replace("new-b", "v", 0)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["NumRecords"], 1024);
    assert_eq!(ep.all_records(&ds, 0).await.len(), 1027);
    // Writing a tombstone's key back makes it live again: one too many.
    assert_limit_exceeded(&ep, &ds, json!([replace("r0000", "back", 2)])).await;
}

// ---- LIM-3 -----------------------------------------------------------------------------------

#[tokio::test]
async fn lim_3_a_dataset_of_exactly_1_mib_fits_and_one_byte_more_is_rejected() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("full");
    let value = "v".repeat(spec::RECORD_VALUE_LEN_MAX);
    ep.write(&ds, json!([replace("k", &value, 0)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["DataStorage"], spec::DATASET_BYTES_MAX);

    assert_limit_exceeded(&ep, &ds, json!([replace("x", "", 0)])).await;
    // Shrinking a value while adding a record within the budget is fine.
    let smaller = "v".repeat(spec::RECORD_VALUE_LEN_MAX - 2);
    ep.write(
        &ds,
        json!([replace("k", &smaller, 1), replace("x", "y", 0)]),
    )
    .await;
}

#[tokio::test]
async fn lim_3_keys_count_toward_the_bytes_too() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("keyed");
    let key = "k".repeat(spec::RECORD_KEY_LEN_MAX);
    let fits = "v".repeat(1_048_576 - spec::RECORD_KEY_LEN_MAX);
    ep.write(&ds, json!([replace(&key, &fits, 0)])).await;
    let over = "v".repeat(1_048_576 - spec::RECORD_KEY_LEN_MAX + 1);
    assert_limit_exceeded(&ep, &ds, json!([replace(&key, &over, 1)])).await;
}

#[tokio::test]
async fn lim_3_bytes_are_counted_as_utf8_not_as_characters() {
    let ep = Endpoint::start().await;
    // 'é' is two bytes: 524,287 of them and one 'v' fill the dataset with key "k" exactly.
    let exact = Ds::fresh("utf8-exact");
    let value = format!("{}v", "é".repeat(524_287));
    ep.write(&exact, json!([replace("k", &value, 0)])).await;
    let dataset = ep.describe_dataset(&exact).await.ok();
    assert_eq!(dataset["Dataset"]["DataStorage"], spec::DATASET_BYTES_MAX);

    // Swapping the 'v' for an 'é' is one byte too many, though far below the character cap.
    let over = "é".repeat(524_288);
    assert_limit_exceeded(&ep, &exact, json!([replace("k", &over, 1)])).await;

    // Four-byte characters: 262,144 characters are exactly 1 MiB, plus a key.
    let emoji = Ds::fresh("utf8-emoji");
    assert_limit_exceeded(&ep, &emoji, json!([replace("k", &"😀".repeat(262_144), 0)])).await;

    // Two records that each fit, but not together.
    let pair = Ds::fresh("utf8-pair");
    ep.write(&pair, json!([replace("a", &"é".repeat(300_000), 0)]))
        .await;
    assert_limit_exceeded(&ep, &pair, json!([replace("b", &"é".repeat(300_000), 0)])).await;
}

#[tokio::test]
async fn amb_tombstone_limit_tombstones_do_not_count_toward_the_byte_limit() {
    let ep = Endpoint::start().await;
    let ds = Ds::fresh("byte-tombstones");
    let value = "v".repeat(spec::RECORD_VALUE_LEN_MAX);
    ep.write(&ds, json!([replace("k", &value, 0)])).await;
    ep.write(&ds, json!([remove("k", 1)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["DataStorage"], 0);
    ep.write(&ds, json!([replace("j", &value, 0)])).await;
    let dataset = ep.describe_dataset(&ds).await.ok();
    assert_eq!(dataset["Dataset"]["DataStorage"], spec::DATASET_BYTES_MAX);
}
