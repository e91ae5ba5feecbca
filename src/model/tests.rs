//! Unit tests of the model: at least one per requirement ID of SPEC §1–§7 and per AMB row,
//! each named after it. They assert concrete predictions and how hand-built answers are judged.

use super::*;
use crate::spec::{
    Dataset, DeleteDatasetRequest, DescribeDatasetRequest, DescribeIdentityUsageRequest,
    IdentityUsage, ListDatasetsRequest, ListRecordsRequest, Record, RecordPatch, UpdateRecordsBody,
    UpdateRecordsRequest,
};

const POOL: &str = "us-east-1:0000aaaa-0000-4000-8000-000000000001";
const ID: &str = "us-east-1:1111bbbb-0000-4000-8000-000000000002";
const NOW: Timestamp = 1_000.0;

fn path(name: &str) -> DatasetPath {
    DatasetPath {
        identity_pool_id: POOL.to_owned(),
        identity_id: ID.to_owned(),
        dataset_name: name.to_owned(),
    }
}

fn identity() -> IdentityPath {
    IdentityPath {
        identity_pool_id: POOL.to_owned(),
        identity_id: ID.to_owned(),
    }
}

fn token(name: &str) -> TokenClaim {
    TokenClaim::IssuedFor {
        path: path(name),
        issued_at: NOW - 10.0,
        used_before: false,
    }
}

fn replace(key: &str, value: &str, sync_count: i64) -> RecordPatch {
    RecordPatch {
        op: Some("replace".to_owned()),
        key: Some(key.to_owned()),
        value: Some(value.to_owned()),
        sync_count: Some(sync_count),
        device_last_modified_date: None,
    }
}

fn remove(key: &str, sync_count: i64) -> RecordPatch {
    RecordPatch {
        op: Some("remove".to_owned()),
        key: Some(key.to_owned()),
        value: None,
        sync_count: Some(sync_count),
        device_last_modified_date: None,
    }
}

fn update_at(path: DatasetPath, patches: Vec<RecordPatch>, token: TokenClaim) -> Call {
    Call::UpdateRecords {
        request: UpdateRecordsRequest {
            path,
            client_context: None,
            body: UpdateRecordsBody {
                device_id: None,
                record_patches: Some(patches),
                sync_session_token: None,
            },
        },
        token,
    }
}

fn update(name: &str, patches: Vec<RecordPatch>) -> Call {
    update_at(path(name), patches, token(name))
}

fn list_request(name: &str, last_sync_count: Option<i64>, max_results: Option<i32>) -> Call {
    Call::ListRecords {
        request: ListRecordsRequest {
            path: path(name),
            last_sync_count,
            max_results,
            next_token: None,
            sync_session_token: None,
        },
        token: TokenClaim::Missing,
    }
}

fn list(name: &str, last_sync_count: i64) -> Call {
    list_request(name, Some(last_sync_count), None)
}

fn describe(name: &str) -> Call {
    Call::DescribeDataset(DescribeDatasetRequest { path: path(name) })
}

fn delete(name: &str) -> Call {
    Call::DeleteDataset(DeleteDatasetRequest { path: path(name) })
}

fn list_datasets(max_results: Option<i32>) -> Call {
    Call::ListDatasets(ListDatasetsRequest {
        path: identity(),
        max_results,
        next_token: None,
    })
}

fn usage() -> Call {
    Call::DescribeIdentityUsage(DescribeIdentityUsageRequest { path: identity() })
}

fn error(kind: ErrorKind) -> Observed {
    Observed::Error {
        status: kind.status(),
        kind: Some(kind),
        message: Some("rejected".to_owned()),
    }
}

fn wire_record(record: &ExpectedRecord) -> Record {
    Record {
        key: Some(record.key.clone()),
        value: record.value.clone(),
        sync_count: Some(record.sync_count),
        last_modified_date: Some(NOW),
        last_modified_by: Some(record.last_modified_by.clone()),
        device_last_modified_date: Some(record.device_last_modified_date.unwrap_or(NOW)),
    }
}

fn wire_dataset(dataset: &ExpectedDataset) -> Dataset {
    Dataset {
        identity_id: Some(dataset.identity_id.clone()),
        dataset_name: Some(dataset.dataset_name.clone()),
        creation_date: Some(NOW),
        last_modified_date: Some(NOW),
        last_modified_by: Some(dataset.last_modified_by.clone()),
        data_storage: Some(dataset.data_storage),
        num_records: Some(dataset.num_records),
    }
}

fn count(n: usize) -> Option<i32> {
    Some(i32::try_from(n).expect("small"))
}

/// The answer a reference endpoint gives for `expected`.
fn answer(expected: &Expected) -> Observed {
    match expected {
        Expected::Error {
            kinds,
            message_contains,
        } => Observed::Error {
            status: kinds[0].status(),
            kind: Some(kinds[0]),
            message: Some(format!("m {}", message_contains.join(" "))),
        },
        Expected::UpdateRecords { records, .. } => Observed::UpdateRecords(UpdateRecordsResponse {
            records: Some(records.iter().map(wire_record).collect()),
        }),
        Expected::ListRecords(list) => {
            let chunks: Vec<&[ExpectedRecord]> = if list.records.is_empty() {
                vec![&[]]
            } else {
                list.records.chunks(list.page_size_max).collect()
            };
            let last = chunks.len() - 1;
            Observed::ListRecords(
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, chunk)| ListRecordsResponse {
                        records: Some(chunk.iter().map(wire_record).collect()),
                        next_token: (i < last).then(|| format!("next-{i}")),
                        count: count(chunk.len()),
                        dataset_sync_count: Some(list.dataset_sync_count),
                        last_modified_by: list.last_modified_by.clone(),
                        merged_dataset_names: Some(Vec::new()),
                        dataset_exists: Some(list.dataset_exists),
                        dataset_deleted_after_requested_sync_count: Some(
                            list.deleted_after_requested_sync_count,
                        ),
                        sync_session_token: Some("session".to_owned()),
                    })
                    .collect(),
            )
        }
        Expected::DescribeDataset(dataset) => Observed::DescribeDataset(DescribeDatasetResponse {
            dataset: Some(wire_dataset(dataset)),
        }),
        Expected::DeleteDataset(dataset) => Observed::DeleteDataset(DeleteDatasetResponse {
            dataset: Some(wire_dataset(dataset)),
        }),
        Expected::ListDatasets {
            datasets,
            page_size_max,
            ..
        } => {
            let chunks: Vec<&[ExpectedDataset]> = if datasets.is_empty() {
                vec![&[]]
            } else {
                datasets.chunks(*page_size_max).collect()
            };
            let last = chunks.len() - 1;
            Observed::ListDatasets(
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, chunk)| ListDatasetsResponse {
                        datasets: Some(chunk.iter().map(wire_dataset).collect()),
                        count: count(chunk.len()),
                        next_token: (i < last).then(|| format!("next-{i}")),
                    })
                    .collect(),
            )
        }
        Expected::DescribeIdentityUsage(usage) => {
            Observed::DescribeIdentityUsage(DescribeIdentityUsageResponse {
                identity_usage: Some(IdentityUsage {
                    identity_id: Some(usage.identity_id.clone()),
                    identity_pool_id: Some(usage.identity_pool_id.clone()),
                    last_modified_date: Some(NOW),
                    dataset_count: Some(i32::try_from(usage.dataset_count).expect("small")),
                    data_storage: Some(usage.data_storage),
                }),
            })
        }
    }
}

/// Drives `call` with the reference answer; returns that answer.
fn step(model: &mut Model, call: &Call) -> Observed {
    let observed = answer(&model.expect(call, NOW).reference().expected);
    assert_eq!(
        model.observe(call, NOW, &observed),
        Judgement::Reference,
        "{call:?}"
    );
    observed
}

fn records_of(observed: &Observed) -> Vec<Record> {
    match observed {
        Observed::UpdateRecords(response) => response.records.clone().unwrap_or_default(),
        Observed::ListRecords(pages) => pages
            .iter()
            .flat_map(|p| p.records.clone().unwrap_or_default())
            .collect(),
        other => panic!("no records in {other:?}"),
    }
}

fn counts(observed: &Observed) -> Vec<(String, i64, bool)> {
    records_of(observed)
        .into_iter()
        .map(|r| {
            (
                r.key.unwrap_or_default(),
                r.sync_count.unwrap_or(-1),
                r.value.is_none(),
            )
        })
        .collect()
}

fn kinds(expectation: &Expectation) -> Vec<(ErrorKind, Vec<Ambiguity>)> {
    expectation
        .outcomes
        .iter()
        .filter_map(|o| match &o.expected {
            Expected::Error { kinds, .. } => Some((kinds[0], o.ambiguities.clone())),
            _ => None,
        })
        .collect()
}

fn is_mismatch(judgement: &Judgement) -> bool {
    matches!(judgement, Judgement::Mismatch(_))
}

fn first_difference(judgement: Judgement) -> String {
    match judgement {
        Judgement::Mismatch(m) => m.first_difference,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

/// A model where dataset "d" holds a@1, b@2 (removed), c@3.
fn seeded() -> Model {
    let mut model = Model::new();
    step(
        &mut model,
        &update("d", vec![replace("a", "1", 0), replace("b", "2", 0)]),
    );
    step(&mut model, &update("d", vec![remove("b", 1)]));
    step(&mut model, &update("d", vec![replace("c", "3", 0)]));
    model
}

fn update_response(records: Vec<Record>) -> Observed {
    Observed::UpdateRecords(UpdateRecordsResponse {
        records: Some(records),
    })
}

// ---- §1 Resources and counters ----

#[test]
fn data_1_first_successful_write_creates_the_dataset() {
    let mut model = Model::new();
    assert_eq!(
        model.expect(&describe("d"), NOW).reference().expected,
        Expected::Error {
            kinds: vec![ErrorKind::ResourceNotFound],
            message_contains: vec![]
        }
    );
    step(&mut model, &update("d", vec![replace("k", "v", 0)]));
    assert!(model.dataset_exists(&path("d")));
    let observed = step(&mut model, &describe("d"));
    let Observed::DescribeDataset(response) = observed else {
        panic!("describe")
    };
    assert_eq!(response.dataset.and_then(|d| d.num_records), Some(1));
}

#[test]
fn data_2_dataset_sync_count_is_zero_before_the_dataset_exists() {
    let mut model = Model::new();
    let Expected::ListRecords(expected) = model
        .expect(&list("d", 0), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert_eq!(expected.dataset_sync_count, 0);
    step(&mut model, &update("d", vec![replace("k", "v", 0)]));
    assert_eq!(model.dataset_sync_count(&path("d")), 1);
}

#[test]
fn data_3_every_patched_record_gets_the_new_dataset_count() {
    let mut model = seeded();
    assert_eq!(model.dataset_sync_count(&path("d")), 3);
    // a was last written at 1: the new count is 4 (dataset + 1), not 2 (record + 1).
    let observed = step(
        &mut model,
        &update("d", vec![replace("a", "x", 1), remove("c", 3)]),
    );
    assert_eq!(
        counts(&observed),
        vec![("a".to_owned(), 4, false), ("c".to_owned(), 4, true)]
    );
    assert_eq!(model.dataset_sync_count(&path("d")), 4);
}

#[test]
fn data_3_record_count_plus_one_is_a_mismatch() {
    let model = seeded();
    let call = update("d", vec![replace("a", "x", 1)]);
    let expectation = model.expect(&call, NOW);
    let mut record = wire_record(&ExpectedRecord {
        key: "a".to_owned(),
        value: Some("x".to_owned()),
        sync_count: 2,
        device_last_modified_date: None,
        last_modified_by: ID.to_owned(),
    });
    let (judgement, matched) = expectation.judge(&update_response(vec![record.clone()]));
    assert_eq!(matched, None);
    assert_eq!(
        first_difference(judgement),
        "Records[0].SyncCount: expected 4, got 2"
    );
    record.sync_count = Some(4);
    assert_eq!(
        expectation.judge(&update_response(vec![record])).0,
        Judgement::Reference
    );
}

// ---- §2 UpdateRecords ----

#[test]
fn ur_1_a_new_key_is_written_with_sync_count_zero() {
    let model = seeded();
    let ok = model.expect(&update("d", vec![replace("new", "v", 0)]), NOW);
    assert!(matches!(
        ok.reference().expected,
        Expected::UpdateRecords { .. }
    ));
    let bad = model.expect(&update("d", vec![replace("new", "v", 1)]), NOW);
    assert_eq!(kinds(&bad)[0].0, ErrorKind::ResourceConflict);
}

#[test]
fn ur_2_stale_sync_count_conflicts_even_when_value_is_unchanged() {
    let mut model = seeded();
    step(&mut model, &update("d", vec![replace("a", "1", 1)]));
    // a is now at 4; sending its old count 1 with the same value still conflicts.
    let expectation = model.expect(&update("d", vec![replace("a", "1", 1)]), NOW);
    assert_eq!(
        expectation.reference().expected,
        Expected::Error {
            kinds: vec![ErrorKind::ResourceConflict],
            message_contains: vec!["a".to_owned(), "4".to_owned(), "1".to_owned()]
        }
    );
    assert!(is_mismatch(
        &expectation
            .judge(&update_response(vec![Record::default()]))
            .0
    ));
}

#[test]
fn ur_2_higher_and_negative_counts_conflict() {
    let model = seeded();
    for sent in [2, 7, -1] {
        let expectation = model.expect(&update("d", vec![replace("a", "x", sent)]), NOW);
        assert_eq!(
            kinds(&expectation),
            vec![(ErrorKind::ResourceConflict, vec![])]
        );
    }
}

#[test]
fn ur_2_conflict_message_names_the_first_conflicting_key_and_both_counts() {
    let model = seeded();
    let call = update("d", vec![replace("a", "x", 1), replace("c", "y", 9)]);
    let expectation = model.expect(&call, NOW);
    let observed = |message: &str| Observed::Error {
        status: 409,
        kind: Some(ErrorKind::ResourceConflict),
        message: Some(message.to_owned()),
    };
    assert_eq!(
        expectation
            .judge(&observed("Current SyncCount for: c is: 3 not: 9"))
            .0,
        Judgement::Reference
    );
    let judgement = expectation
        .judge(&observed("Current SyncCount for: a is: 1 not: 1"))
        .0;
    assert!(first_difference(judgement).starts_with("message:"));
}

#[test]
fn ur_3_a_conflict_rejects_the_whole_batch_and_changes_nothing() {
    let mut model = seeded();
    let before = model.clone();
    let call = update("d", vec![replace("a", "x", 1), replace("c", "y", 0)]);
    let expectation = model.expect(&call, NOW);
    assert!(expectation.outcomes.iter().all(Outcome::changes_nothing));
    let judgement = model.observe(&call, NOW, &error(ErrorKind::ResourceConflict));
    assert!(is_mismatch(&judgement), "message lacks key and counts");
    assert_eq!(model, before);
    // A partial apply (a written, c not) is a mismatch.
    let partial = update_response(vec![Record {
        key: Some("a".to_owned()),
        value: Some("x".to_owned()),
        sync_count: Some(4),
        last_modified_date: Some(NOW),
        ..Record::default()
    }]);
    assert!(is_mismatch(&model.observe(&call, NOW, &partial)));
    assert_eq!(model, before);
}

#[test]
fn ur_4_current_count_is_stored_tombstone_or_zero() {
    let model = seeded();
    assert_eq!(model.record_sync_count(&path("d"), "a"), 1);
    assert_eq!(model.record_sync_count(&path("d"), "b"), 2);
    assert_eq!(model.record_sync_count(&path("d"), "never"), 0);
    assert_eq!(model.record_sync_count(&path("other"), "a"), 0);
    let expectation = model.expect(&update("d", vec![replace("b", "x", 1)]), NOW);
    assert_eq!(
        expectation.reference().expected,
        Expected::Error {
            kinds: vec![ErrorKind::ResourceConflict],
            message_contains: vec!["b".to_owned(), "2".to_owned(), "1".to_owned()]
        }
    );
}

#[test]
fn ur_5_the_response_lists_each_patched_key_removed_ones_without_value() {
    let model = seeded();
    let call = update("d", vec![remove("a", 1), replace("z", "v", 0)]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[a@4(removed), z@4]"
    );
    let mut observed = answer(&expectation.reference().expected);
    if let Observed::UpdateRecords(response) = &mut observed {
        let records = response.records.as_mut().expect("records");
        records[0].value = Some(String::new());
    }
    assert_eq!(
        first_difference(expectation.judge(&observed).0),
        "Records[0].Value: expected no Value (tombstone), got \"\""
    );
    let missing = update_response(vec![]);
    assert!(first_difference(expectation.judge(&missing).0).contains("missing a@4(removed)"));
}

#[test]
fn ur_6_removing_a_key_that_never_existed_leaves_a_tombstone() {
    let mut model = Model::new();
    let observed = step(&mut model, &update("d", vec![remove("ghost", 0)]));
    assert_eq!(counts(&observed), vec![("ghost".to_owned(), 1, true)]);
    let listed = step(&mut model, &list("d", 0));
    assert_eq!(counts(&listed), vec![("ghost".to_owned(), 1, true)]);
    assert_eq!(model.record_sync_count(&path("d"), "ghost"), 1);
}

#[test]
fn ur_7_writing_a_removed_key_again_needs_the_tombstone_count() {
    let mut model = seeded();
    assert_eq!(
        kinds(&model.expect(&update("d", vec![replace("b", "again", 0)]), NOW))[0].0,
        ErrorKind::ResourceConflict
    );
    let observed = step(&mut model, &update("d", vec![replace("b", "again", 2)]));
    assert_eq!(counts(&observed), vec![("b".to_owned(), 4, false)]);
}

#[test]
fn ur_8_a_missing_token_is_a_validation_error() {
    let model = seeded();
    let call = update_at(path("d"), vec![replace("a", "x", 1)], TokenClaim::Missing);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::Validation, vec![]),
            (ErrorKind::InvalidParameter, vec![Ambiguity::ValidationCode]),
        ]
    );
}

#[test]
fn ur_8_garbage_or_foreign_tokens_are_invalid_parameter() {
    let model = seeded();
    for claim in [TokenClaim::Garbage, token("other")] {
        let call = update_at(path("d"), vec![replace("a", "x", 1)], claim);
        let expectation = model.expect(&call, NOW);
        assert_eq!(
            kinds(&expectation),
            vec![(ErrorKind::InvalidParameter, vec![])]
        );
        assert!(is_mismatch(
            &expectation.judge(&error(ErrorKind::Validation)).0
        ));
    }
    // Another identity's token for a dataset of the same name is foreign too.
    let mut foreign = path("d");
    foreign.identity_id = "us-east-1:ffff".to_owned();
    let claim = TokenClaim::IssuedFor {
        path: foreign,
        issued_at: NOW,
        used_before: false,
    };
    let call = update_at(path("d"), vec![replace("a", "x", 1)], claim);
    assert_eq!(
        kinds(&model.expect(&call, NOW)),
        vec![(ErrorKind::InvalidParameter, vec![])]
    );
}

#[test]
fn ur_9_device_last_modified_date_is_echoed() {
    let mut model = Model::new();
    let mut patch = replace("k", "v", 0);
    patch.device_last_modified_date = Some(1_234.5);
    let call = update("d", vec![patch]);
    let expectation = model.expect(&call, NOW);
    let mut observed = answer(&expectation.reference().expected);
    assert_eq!(
        records_of(&observed)[0].device_last_modified_date,
        Some(1_234.5)
    );
    if let Observed::UpdateRecords(response) = &mut observed {
        response.records.as_mut().expect("records")[0].device_last_modified_date = Some(NOW);
    }
    assert_eq!(
        first_difference(expectation.judge(&observed).0),
        format!("Records[0].DeviceLastModifiedDate: expected 1234.5, got {NOW}")
    );
    step(&mut model, &call);
    let listed = step(&mut model, &list("d", 0));
    assert_eq!(
        records_of(&listed)[0].device_last_modified_date,
        Some(1_234.5)
    );
}

#[test]
fn ur_10_replace_without_value_is_rejected_and_remove_ignores_value() {
    let model = seeded();
    let mut patch = replace("a", "x", 1);
    patch.value = None;
    let expectation = model.expect(&update("d", vec![patch]), NOW);
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::Validation, vec![]),
            (ErrorKind::InvalidParameter, vec![Ambiguity::ValidationCode]),
        ]
    );
    let mut removal = remove("a", 1);
    removal.value = Some("ignored".to_owned());
    let expectation = model.expect(&update("d", vec![removal]), NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[a@4(removed)]"
    );
}

// ---- §3 ListRecords ----

#[test]
fn lr_1_lists_records_above_last_sync_count_tombstones_included() {
    let model = seeded();
    let Expected::ListRecords(all) = model
        .expect(&list("d", 0), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    let keys: Vec<(String, i64)> = all
        .records
        .iter()
        .map(|r| (r.key.clone(), r.sync_count))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("a".to_owned(), 1),
            ("b".to_owned(), 2),
            ("c".to_owned(), 3)
        ]
    );
    assert_eq!(all.records[1].value, None);
    let expectation = model.expect(&list("d", 2), NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[c@3] DatasetSyncCount=3 DatasetExists=true \
         DatasetDeletedAfterRequestedSyncCount=false (pages of at most 1024)"
    );
    // Leaving the tombstone out of the full listing is a mismatch.
    let mut observed = answer(&model.expect(&list("d", 0), NOW).reference().expected);
    if let Observed::ListRecords(pages) = &mut observed {
        pages[0].records.as_mut().expect("records").remove(1);
        pages[0].count = Some(2);
    }
    let judgement = model.expect(&list("d", 0), NOW).judge(&observed).0;
    assert!(first_difference(judgement).contains("missing b@2(removed)"));
}

#[test]
fn lr_2_a_dataset_that_does_not_exist_lists_empty() {
    let model = seeded();
    let expectation = model.expect(&list("none", 5), NOW);
    // LR-3's 400 is also allowed here: the spec fixes it for existing datasets only.
    assert_eq!(expectation.outcomes.len(), 2);
    assert_eq!(
        expectation.outcomes[1].ambiguities,
        vec![Ambiguity::BeyondOnMissing]
    );
    let Expected::ListRecords(listing) = &expectation.reference().expected else {
        panic!("list")
    };
    assert!(listing.records.is_empty());
    assert_eq!(listing.dataset_sync_count, 0);
    assert!(!listing.dataset_exists);
    assert!(!listing.deleted_after_requested_sync_count);
    let observed = answer(&expectation.reference().expected);
    assert_eq!(expectation.judge(&observed).0, Judgement::Reference);
    let mut exists = observed.clone();
    if let Observed::ListRecords(pages) = &mut exists {
        pages[0].dataset_exists = Some(true);
    }
    assert_eq!(
        first_difference(expectation.judge(&exists).0),
        "page 0.DatasetExists: expected false, got true"
    );
}

#[test]
fn lr_3_last_sync_count_above_the_dataset_count_is_invalid_parameter() {
    let model = seeded();
    assert_eq!(
        kinds(&model.expect(&list("d", 4), NOW)),
        vec![(ErrorKind::InvalidParameter, vec![])]
    );
    assert!(matches!(
        model.expect(&list("d", 3), NOW).reference().expected,
        Expected::ListRecords(_)
    ));
}

#[test]
fn lr_4_pages_are_bounded_chained_and_cover_each_record_once() {
    let model = seeded();
    let call = list_request("d", Some(0), Some(2));
    let expectation = model.expect(&call, NOW);
    let observed = answer(&expectation.reference().expected);
    let Observed::ListRecords(pages) = &observed else {
        panic!("pages")
    };
    assert_eq!(pages.len(), 2);
    assert_eq!(expectation.judge(&observed).0, Judgement::Reference);

    let mut too_big = observed.clone();
    if let Observed::ListRecords(pages) = &mut too_big {
        let moved = pages.remove(1).records.expect("records");
        pages[0].records.as_mut().expect("records").extend(moved);
        pages[0].next_token = None;
        pages[0].count = Some(3);
    }
    assert_eq!(
        first_difference(expectation.judge(&too_big).0),
        "page 0.Records: expected at most 2 records, got 3"
    );

    let mut no_token = observed.clone();
    if let Observed::ListRecords(pages) = &mut no_token {
        pages[0].next_token = None;
    }
    assert!(first_difference(expectation.judge(&no_token).0).starts_with("page 0.NextToken"));

    let mut twice = observed.clone();
    if let Observed::ListRecords(pages) = &mut twice {
        let first = pages[0].records.as_ref().expect("records")[0].clone();
        pages[1].records = Some(vec![first]);
    }
    assert!(first_difference(expectation.judge(&twice).0).contains("listed twice"));

    let mut no_session = observed;
    if let Observed::ListRecords(pages) = &mut no_session {
        pages[1].sync_session_token = Some(String::new());
    }
    assert!(
        first_difference(expectation.judge(&no_session).0).starts_with("page 1.SyncSessionToken")
    );
}

#[test]
fn lr_4_max_results_is_clamped_and_below_one_rejected() {
    let model = seeded();
    let Expected::ListRecords(listing) = model
        .expect(&list_request("d", None, Some(5_000)), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert_eq!(listing.page_size_max, 1024);
    assert_eq!(
        kinds(&model.expect(&list_request("d", None, Some(0)), NOW)),
        vec![
            (ErrorKind::InvalidParameter, vec![]),
            (ErrorKind::Validation, vec![Ambiguity::ValidationCode]),
        ]
    );
    let Call::ListRecords { mut request, token } = list("d", 0) else {
        panic!("list")
    };
    request.next_token = Some("never-issued".to_owned());
    let call = Call::ListRecords { request, token };
    assert_eq!(
        kinds(&model.expect(&call, NOW)),
        vec![(ErrorKind::InvalidParameter, vec![])]
    );
}

#[test]
fn lr_5_a_page_without_count_or_flags_is_a_mismatch() {
    let model = seeded();
    let expectation = model.expect(&list("d", 0), NOW);
    let observed = answer(&expectation.reference().expected);
    type Edit = fn(&mut ListRecordsResponse);
    let edits: [(Edit, &str); 3] = [
        (|p| p.count = None, "page 0.Count: expected 3, got none"),
        (
            |p| p.dataset_exists = None,
            "page 0.DatasetExists: expected true, got none",
        ),
        (
            |p| p.dataset_deleted_after_requested_sync_count = None,
            "page 0.DatasetDeletedAfterRequestedSyncCount: expected false, got none",
        ),
    ];
    for (edit, difference) in edits {
        let mut broken = observed.clone();
        if let Observed::ListRecords(pages) = &mut broken {
            edit(&mut pages[0]);
        }
        assert_eq!(first_difference(expectation.judge(&broken).0), difference);
    }
}

// ---- §4 Other dataset operations ----

#[test]
fn ds_1_describe_reports_live_records_and_utf8_bytes_and_404_when_missing() {
    let mut model = seeded();
    step(&mut model, &update("d", vec![replace("é", "ü", 0)]));
    let Expected::DescribeDataset(dataset) = model
        .expect(&describe("d"), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("describe")
    };
    // a=1 (2 bytes) + c=3 (2 bytes) + é=ü (4 bytes); the tombstone b does not count.
    assert_eq!((dataset.num_records, dataset.data_storage), (3, 8));
    let expectation = model.expect(&describe("missing"), NOW);
    assert_eq!(
        kinds(&expectation),
        vec![(ErrorKind::ResourceNotFound, vec![])]
    );
    let mut observed = answer(&model.expect(&describe("d"), NOW).reference().expected);
    if let Observed::DescribeDataset(response) = &mut observed {
        response.dataset.as_mut().expect("dataset").creation_date = None;
    }
    assert_eq!(
        first_difference(model.expect(&describe("d"), NOW).judge(&observed).0),
        "Dataset.CreationDate: expected a number, got none"
    );
}

#[test]
fn ds_2_list_datasets_lists_live_datasets_by_name_in_pages() {
    let mut model = seeded();
    step(&mut model, &update("b", vec![replace("k", "v", 0)]));
    step(&mut model, &update("a", vec![replace("k", "v", 0)]));
    step(&mut model, &delete("b"));
    let call = list_datasets(Some(1));
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Datasets=[a(NumRecords=1, DataStorage=2), d(NumRecords=2, DataStorage=4)] \
         (pages of at most 1)"
    );
    let observed = answer(&expectation.reference().expected);
    assert_eq!(expectation.judge(&observed).0, Judgement::Reference);
    let mut with_deleted = observed;
    if let Observed::ListDatasets(pages) = &mut with_deleted {
        let mut ghost = pages[0].datasets.as_ref().expect("datasets")[0].clone();
        ghost.dataset_name = Some("b".to_owned());
        pages.push(ListDatasetsResponse {
            datasets: Some(vec![ghost]),
            count: Some(1),
            next_token: None,
        });
        pages[1].next_token = Some("more".to_owned());
    }
    assert_eq!(
        first_difference(expectation.judge(&with_deleted).0),
        "Datasets[2]: unexpected dataset \"b\""
    );
}

#[test]
fn ds_3_delete_returns_the_old_metadata_and_resets_every_key() {
    let mut model = seeded();
    let expectation = model.expect(&delete("d"), NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Dataset=d(NumRecords=2, DataStorage=4)"
    );
    step(&mut model, &delete("d"));
    assert!(!model.dataset_exists(&path("d")));
    assert_eq!(model.record_sync_count(&path("d"), "a"), 0);
    assert_eq!(model.record_sync_count(&path("d"), "b"), 0);
    assert_eq!(
        kinds(&model.expect(&delete("d"), NOW)),
        vec![(ErrorKind::ResourceNotFound, vec![])]
    );
    // The next write needs count 0 for every key, even the old tombstone b.
    assert_eq!(
        kinds(&model.expect(&update("d", vec![replace("b", "x", 2)]), NOW))[0].0,
        ErrorKind::ResourceConflict
    );
    let observed = step(&mut model, &update("d", vec![replace("a", "x", 0)]));
    assert_eq!(counts(&observed), vec![("a".to_owned(), 4, false)]);
    let listed = step(&mut model, &list("d", 0));
    assert_eq!(counts(&listed), vec![("a".to_owned(), 4, false)]);
}

#[test]
fn ds_4_listing_after_a_delete_says_deleted_and_not_existing() {
    let mut model = seeded();
    step(&mut model, &delete("d"));
    let Expected::ListRecords(listing) = model
        .expect(&list("d", 3), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert!(!listing.dataset_exists);
    assert!(listing.deleted_after_requested_sync_count);
    assert!(listing.records.is_empty());
    // From scratch (lastSyncCount 0) the caller has nothing to lose: no flag.
    let Expected::ListRecords(listing) = model
        .expect(&list_request("d", None, None), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert!(!listing.deleted_after_requested_sync_count);
}

#[test]
fn ds_5_identity_usage_is_consistent_with_the_datasets() {
    let mut model = seeded();
    step(&mut model, &update("e", vec![replace("key", "value", 0)]));
    let expectation = model.expect(&usage(), NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 IdentityUsage(DatasetCount=2, DataStorage=12)"
    );
    step(&mut model, &delete("e"));
    let expectation = model.expect(&usage(), NOW);
    let mut observed = answer(&expectation.reference().expected);
    if let Observed::DescribeIdentityUsage(response) = &mut observed {
        response
            .identity_usage
            .as_mut()
            .expect("usage")
            .dataset_count = Some(2);
    }
    assert_eq!(
        first_difference(expectation.judge(&observed).0),
        "IdentityUsage.DatasetCount: expected 1, got 2"
    );
}

// ---- §5 Validation ----

#[test]
fn val_1_constraint_violations_are_400_and_change_nothing() {
    let mut model = seeded();
    let before = model.clone();
    let long_key = "k".repeat(1025);
    let mut bad_op = replace("a", "x", 1);
    bad_op.op = Some("Replace".to_owned());
    let mut no_count = replace("a", "x", 1);
    no_count.sync_count = None;
    let bad_path = update_at(
        DatasetPath {
            identity_pool_id: "us-east-1:ABC".to_owned(),
            ..path("d")
        },
        vec![replace("a", "x", 1)],
        token("d"),
    );
    let calls = [
        update("d", vec![replace(&long_key, "x", 0)]),
        update("d", vec![bad_op]),
        update("d", vec![no_count]),
        update("bad name", vec![replace("a", "x", 0)]),
        bad_path,
    ];
    for call in calls {
        let expectation = model.expect(&call, NOW);
        assert_eq!(
            kinds(&expectation)[0],
            (ErrorKind::Validation, vec![]),
            "{call:?}"
        );
        assert!(is_mismatch(&model.observe(
            &call,
            NOW,
            &error(ErrorKind::Serialization)
        )));
        assert_eq!(
            model.observe(&call, NOW, &error(ErrorKind::Validation)),
            Judgement::Reference
        );
    }
    assert_eq!(model, before);
}

#[test]
fn val_1_record_value_length_counts_characters() {
    let model = Model::new();
    let big = "é".repeat(crate::spec::RECORD_VALUE_LEN_MAX + 1);
    let expectation = model.expect(&update("d", vec![replace("k", &big, 0)]), NOW);
    assert_eq!(kinds(&expectation)[0].0, ErrorKind::Validation);
}

#[test]
fn val_2_path_labels_are_judged_decoded() {
    // The suite hands the model decoded labels: `a:b` is a name, `a%3Ab` is not.
    let model = Model::new();
    let decoded = model.expect(&update("a:b", vec![replace("k", "v", 0)]), NOW);
    assert!(matches!(
        decoded.reference().expected,
        Expected::UpdateRecords { .. }
    ));
    let encoded = model.expect(&update("a%3Ab", vec![replace("k", "v", 0)]), NOW);
    assert_eq!(kinds(&encoded)[0].0, ErrorKind::Validation);
}

#[test]
fn val_3_a_well_formed_request_allows_no_rejection_whatever_its_content_type() {
    // Both JSON content types map to the same call; a 400 for either is a mismatch.
    let model = seeded();
    let call = update("d", vec![replace("a", "x", 1)]);
    let expectation = model.expect(&call, NOW);
    assert!(kinds(&expectation).is_empty());
    assert!(is_mismatch(
        &expectation.judge(&error(ErrorKind::Serialization)).0
    ));
}

// ---- §6 Limits ----

#[test]
fn lim_1_the_write_that_creates_the_21st_dataset_is_limit_exceeded() {
    let mut model = Model::new();
    for n in 0..20 {
        step(
            &mut model,
            &update(&format!("ds{n:02}"), vec![replace("k", "v", 0)]),
        );
    }
    let expectation = model.expect(&update("ds20", vec![replace("k", "v", 0)]), NOW);
    assert_eq!(
        kinds(&expectation),
        vec![(ErrorKind::LimitExceeded, vec![])]
    );
    // Writing to an existing one is fine; after a delete there is room again.
    assert!(kinds(&model.expect(&update("ds00", vec![replace("k", "w", 1)]), NOW)).is_empty());
    step(&mut model, &delete("ds00"));
    assert!(kinds(&model.expect(&update("ds20", vec![replace("k", "v", 0)]), NOW)).is_empty());
}

#[test]
fn lim_2_the_1025th_live_record_is_limit_exceeded() {
    let mut model = Model::new();
    let patches: Vec<RecordPatch> = (0..1024)
        .map(|n| replace(&format!("k{n:04}"), "v", 0))
        .collect();
    step(&mut model, &update("d", patches));
    let expectation = model.expect(&update("d", vec![replace("extra", "v", 0)]), NOW);
    assert_eq!(
        kinds(&expectation),
        vec![(ErrorKind::LimitExceeded, vec![])]
    );
    assert!(is_mismatch(
        &expectation
            .judge(&answer(&Expected::UpdateRecords {
                records: vec![],
                final_per_key: false
            }))
            .0
    ));
    // Replacing one removed by the same request keeps the count: allowed.
    let swap = update("d", vec![remove("k0000", 1), replace("extra", "v", 0)]);
    assert!(matches!(
        model.expect(&swap, NOW).reference().expected,
        Expected::UpdateRecords { .. }
    ));
}

#[test]
fn lim_3_utf8_bytes_of_live_keys_and_values_are_capped_at_one_mib() {
    let model = Model::new();
    // 1 key byte + 1,048,575 chars of 'v' = 1,048,576 bytes: exactly at the cap.
    let fits = "v".repeat(1_048_575);
    assert!(kinds(&model.expect(&update("d", vec![replace("k", &fits, 0)]), NOW)).is_empty());
    // Two-byte characters: far fewer characters go over in bytes.
    let over = "é".repeat(524_288);
    assert_eq!(
        kinds(&model.expect(&update("d", vec![replace("k", &over, 0)]), NOW)),
        vec![(ErrorKind::LimitExceeded, vec![])]
    );
}

// ---- §7 Errors ----

#[test]
fn err_1_an_error_without_its_type_header_or_message_is_a_mismatch() {
    let model = seeded();
    let expectation = model.expect(&describe("missing"), NOW);
    let no_header = Observed::Error {
        status: 404,
        kind: None,
        message: Some("not found".to_owned()),
    };
    assert!(first_difference(expectation.judge(&no_header).0).starts_with("x-amzn-ErrorType"));
    let no_message = Observed::Error {
        status: 404,
        kind: Some(ErrorKind::ResourceNotFound),
        message: None,
    };
    assert!(first_difference(expectation.judge(&no_message).0).starts_with("message"));
    assert_eq!(
        expectation.judge(&error(ErrorKind::ResourceNotFound)),
        (Judgement::Reference, Some(0))
    );
}

#[test]
fn err_2_the_status_must_be_the_status_of_the_error_kind() {
    let model = seeded();
    let expectation = model.expect(&update("d", vec![replace("a", "x", 9)]), NOW);
    let wrong_status = Observed::Error {
        status: 400,
        kind: Some(ErrorKind::ResourceConflict),
        message: Some("Current SyncCount for: a is: 1 not: 9".to_owned()),
    };
    assert_eq!(
        first_difference(expectation.judge(&wrong_status).0),
        "status: ResourceConflictException must be answered with 409, got 400"
    );
}

#[test]
fn err_3_server_errors_are_never_allowed_and_rejections_change_nothing() {
    let mut model = seeded();
    let before = model.clone();
    for call in [
        update("d", vec![replace("a", "x", 1)]),
        update("d", vec![replace("a", "x", 5)]),
        list("d", 0),
        delete("d"),
    ] {
        let judgement = model.observe(&call, NOW, &error(ErrorKind::InternalError));
        assert!(is_mismatch(&judgement));
        // On a mismatch the model follows the reference: replay the state separately.
        model = before.clone();
    }
    let rejected = update("d", vec![replace("a", "x", 5)]);
    let expectation = model.expect(&rejected, NOW);
    assert!(expectation.outcomes.iter().all(Outcome::changes_nothing));
}

#[test]
fn err_4_success_bodies_need_numeric_dates() {
    let model = seeded();
    let expectation = model.expect(&list("d", 0), NOW);
    let mut observed = answer(&expectation.reference().expected);
    if let Observed::ListRecords(pages) = &mut observed {
        pages[0].records.as_mut().expect("records")[2].last_modified_date = None;
    }
    assert_eq!(
        first_difference(expectation.judge(&observed).0),
        "Records[2].LastModifiedDate: expected a number, got none"
    );
}

// ---- §8 Ambiguities ----

#[test]
fn lr_1_greater_or_equal_is_a_mismatch_not_an_ambiguity() {
    let model = seeded();
    let expectation = model.expect(&list("d", 1), NOW);
    assert_eq!(
        expectation.outcomes.len(),
        1,
        "AMB-LIST-INCLUSIVE is withdrawn"
    );
    let inclusive = answer(&model.expect(&list("d", 0), NOW).reference().expected);
    assert_eq!(counts(&inclusive).len(), 3);
    assert!(matches!(
        expectation.judge(&inclusive).0,
        Judgement::Mismatch(_)
    ));
}

#[test]
fn amb_dup_key_is_invalid_parameter_validation_or_applied_in_order() {
    let mut model = seeded();
    let call = update("d", vec![replace("a", "x", 1), replace("a", "y", 1)]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::InvalidParameter, vec![]),
            (ErrorKind::Validation, vec![Ambiguity::DupKey]),
        ]
    );
    let record = |value: &str| Record {
        key: Some("a".to_owned()),
        value: Some(value.to_owned()),
        sync_count: Some(4),
        last_modified_date: Some(NOW),
        last_modified_by: Some(ID.to_owned()),
        device_last_modified_date: Some(NOW),
    };
    let applied = update_response(vec![record("x"), record("y")]);
    assert_eq!(
        model.clone().observe(&call, NOW, &applied),
        Judgement::NonStrict(vec![Ambiguity::DupKey])
    );
    // The final state must be the last patch's.
    let wrong = update_response(vec![record("y"), record("x")]);
    assert!(is_mismatch(&expectation.judge(&wrong).0));
    model.observe(&call, NOW, &applied);
    assert_eq!(model.dataset_sync_count(&path("d")), 4);
    let listed = step(&mut model, &list("d", 3));
    assert_eq!(records_of(&listed)[0].value.as_deref(), Some("y"));
}

#[test]
fn amb_empty_patches_succeed_empty_without_creating_the_dataset_or_400() {
    let mut model = Model::new();
    let call = update("d", vec![]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[]"
    );
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::InvalidParameter, vec![Ambiguity::EmptyPatches]),
            (ErrorKind::Validation, vec![Ambiguity::EmptyPatches]),
        ]
    );
    step(&mut model, &call);
    assert!(!model.dataset_exists(&path("d")));
    assert_eq!(
        model.observe(&call, NOW, &error(ErrorKind::Validation)),
        Judgement::NonStrict(vec![Ambiguity::EmptyPatches])
    );
}

#[test]
fn amb_empty_value_is_stored_as_the_empty_string() {
    let mut model = Model::new();
    let observed = step(&mut model, &update("d", vec![replace("k", "", 0)]));
    assert_eq!(records_of(&observed)[0].value.as_deref(), Some(""));
    let expectation = model.expect(&list("d", 0), NOW);
    let mut listed = answer(&expectation.reference().expected);
    if let Observed::ListRecords(pages) = &mut listed {
        pages[0].records.as_mut().expect("records")[0].value = None;
    }
    assert!(is_mismatch(&expectation.judge(&listed).0));
}

#[test]
fn amb_token_reuse_is_accepted_and_rejection_is_non_strict() {
    let model = seeded();
    let claim = TokenClaim::IssuedFor {
        path: path("d"),
        issued_at: NOW - 1.0,
        used_before: true,
    };
    let call = update_at(path("d"), vec![replace("a", "x", 1)], claim);
    let expectation = model.expect(&call, NOW);
    assert!(matches!(
        expectation.reference().expected,
        Expected::UpdateRecords { .. }
    ));
    assert_eq!(
        expectation.judge(&error(ErrorKind::InvalidParameter)).0,
        Judgement::NonStrict(vec![Ambiguity::TokenReuse])
    );
}

#[test]
fn amb_token_expiry_young_tokens_must_be_accepted_and_old_ones_may_be() {
    let model = seeded();
    let at_age = |age: f64| {
        let claim = TokenClaim::IssuedFor {
            path: path("d"),
            issued_at: NOW - age,
            used_before: false,
        };
        model.expect(
            &update_at(path("d"), vec![replace("a", "x", 1)], claim),
            NOW,
        )
    };
    let young = at_age(3_599.0);
    assert!(kinds(&young).is_empty());
    let old = at_age(7_200.0);
    assert_eq!(kinds(&old)[0], (ErrorKind::InvalidParameter, vec![]));
    let accepted = answer(&young.reference().expected);
    assert_eq!(
        old.judge(&accepted).0,
        Judgement::NonStrict(vec![Ambiguity::TokenExpiry])
    );
}

#[test]
fn amb_colon_names_are_accepted_and_a_rejection_changes_nothing() {
    let mut model = Model::new();
    let call = update("a:b", vec![replace("k", "v", 0)]);
    let expectation = model.expect(&call, NOW);
    assert!(matches!(
        expectation.reference().expected,
        Expected::UpdateRecords { .. }
    ));
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::InvalidParameter, vec![Ambiguity::Colon]),
            (ErrorKind::Validation, vec![Ambiguity::Colon]),
        ]
    );
    assert_eq!(
        model.observe(&call, NOW, &error(ErrorKind::Validation)),
        Judgement::NonStrict(vec![Ambiguity::Colon])
    );
    assert!(!model.dataset_exists(&path("a:b")));
    step(&mut model, &call);
    assert!(model.dataset_exists(&path("a:b")));
}

#[test]
fn amb_validation_code_invalid_parameter_is_non_strict() {
    let model = Model::new();
    let call = update("bad name", vec![replace("k", "v", 0)]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        expectation.judge(&error(ErrorKind::InvalidParameter)).0,
        Judgement::NonStrict(vec![Ambiguity::ValidationCode])
    );
    assert!(is_mismatch(
        &expectation.judge(&error(ErrorKind::LimitExceeded)).0
    ));
}

#[test]
fn amb_delete_flag_either_signal_alone_is_non_strict() {
    let mut model = seeded();
    step(&mut model, &delete("d"));
    let expectation = model.expect(&list("d", 3), NOW);
    let reference = answer(&expectation.reference().expected);
    assert_eq!(expectation.judge(&reference).0, Judgement::Reference);
    for (exists, flag, allowed) in [
        (false, false, true),
        (true, true, true),
        (true, false, false),
    ] {
        let mut observed = reference.clone();
        if let Observed::ListRecords(pages) = &mut observed {
            pages[0].dataset_exists = Some(exists);
            pages[0].dataset_deleted_after_requested_sync_count = Some(flag);
        }
        let judgement = expectation.judge(&observed).0;
        if allowed {
            assert_eq!(judgement, Judgement::NonStrict(vec![Ambiguity::DeleteFlag]));
        } else {
            assert!(is_mismatch(&judgement));
        }
    }
    // Re-created: the dataset exists again, the flag stays for copies from before the delete.
    step(&mut model, &update("d", vec![replace("a", "new", 0)]));
    let Expected::ListRecords(listing) = model
        .expect(&list("d", 2), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert!(listing.dataset_exists && listing.deleted_after_requested_sync_count);
    let Expected::ListRecords(listing) = model
        .expect(&list("d", 4), NOW)
        .reference()
        .expected
        .clone()
    else {
        panic!("list")
    };
    assert!(!listing.deleted_after_requested_sync_count);
}

#[test]
fn amb_recreate_count_continues_by_reference_and_a_restart_is_learned() {
    let mut model = seeded();
    step(&mut model, &delete("d"));
    let call = update("d", vec![replace("a", "new", 0)]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[a@4]"
    );
    assert_eq!(
        expectation.outcomes[1].expected.to_string(),
        "200 Records=[a@1]"
    );
    let restarted = answer(&expectation.outcomes[1].expected);
    // An endpoint that continues: the model keeps continuing.
    let mut continuing = model.clone();
    step(&mut continuing, &call);
    assert_eq!(continuing.dataset_sync_count(&path("d")), 4);
    // An endpoint that restarts: learned for this dataset.
    assert_eq!(
        model.observe(&call, NOW, &restarted),
        Judgement::NonStrict(vec![Ambiguity::RecreateCount])
    );
    assert_eq!(model.dataset_sync_count(&path("d")), 1);
    step(&mut model, &update("d", vec![replace("a", "2nd", 1)]));
    assert_eq!(model.dataset_sync_count(&path("d")), 2);
    step(&mut model, &delete("d"));
    let again = model.expect(&call, NOW);
    assert_eq!(again.outcomes.len(), 1 + kinds(&again).len());
    assert_eq!(again.reference().expected.to_string(), "200 Records=[a@1]");
    assert!(is_mismatch(
        &again.judge(&answer(&expectation.reference().expected)).0
    ));
}

#[test]
fn amb_tombstone_limit_counting_tombstones_is_non_strict() {
    let mut model = Model::new();
    let patches: Vec<RecordPatch> = (0..1024)
        .map(|n| replace(&format!("k{n:04}"), "v", 0))
        .collect();
    step(&mut model, &update("d", patches));
    step(&mut model, &update("d", vec![remove("k0000", 1)]));
    let call = update("d", vec![replace("extra", "v", 0)]);
    let expectation = model.expect(&call, NOW);
    assert!(matches!(
        expectation.reference().expected,
        Expected::UpdateRecords { .. }
    ));
    assert_eq!(
        expectation.judge(&error(ErrorKind::LimitExceeded)).0,
        Judgement::NonStrict(vec![Ambiguity::TombstoneLimit])
    );
}

#[test]
fn amb_order_any_other_order_is_non_strict() {
    let model = seeded();
    let expectation = model.expect(&list("d", 0), NOW);
    let mut observed = answer(&expectation.reference().expected);
    if let Observed::ListRecords(pages) = &mut observed {
        pages[0].records.as_mut().expect("records").reverse();
    }
    assert_eq!(
        expectation.judge(&observed).0,
        Judgement::NonStrict(vec![Ambiguity::Order])
    );
}

#[test]
fn amb_count_the_total_on_each_page_is_non_strict() {
    let model = seeded();
    let expectation = model.expect(&list_request("d", Some(0), Some(2)), NOW);
    let mut observed = answer(&expectation.reference().expected);
    if let Observed::ListRecords(pages) = &mut observed {
        for page in pages.iter_mut() {
            page.count = Some(3);
        }
    }
    assert_eq!(
        expectation.judge(&observed).0,
        Judgement::NonStrict(vec![Ambiguity::Count])
    );
    if let Observed::ListRecords(pages) = &mut observed {
        pages[1].count = Some(7);
    }
    assert!(is_mismatch(&expectation.judge(&observed).0));
}

#[test]
fn amb_lastmodifiedby_any_string_is_non_strict() {
    let model = seeded();
    let Call::UpdateRecords { mut request, token } = update("d", vec![replace("a", "x", 1)]) else {
        panic!("update")
    };
    request.body.device_id = Some("phone".to_owned());
    let call = Call::UpdateRecords { request, token };
    let expectation = model.expect(&call, NOW);
    let mut observed = answer(&expectation.reference().expected);
    assert_eq!(
        records_of(&observed)[0].last_modified_by.as_deref(),
        Some("phone")
    );
    if let Observed::UpdateRecords(response) = &mut observed {
        response.records.as_mut().expect("records")[0].last_modified_by =
            Some("someone".to_owned());
    }
    assert_eq!(
        expectation.judge(&observed).0,
        Judgement::NonStrict(vec![Ambiguity::LastModifiedBy])
    );
}

#[test]
fn amb_unchanged_write_bumps_the_counts() {
    let mut model = seeded();
    let call = update("d", vec![replace("a", "1", 1)]);
    let expectation = model.expect(&call, NOW);
    assert_eq!(expectation.outcomes.len(), 1);
    assert_eq!(
        expectation.reference().expected.to_string(),
        "200 Records=[a@4]"
    );
    let mut unchanged = answer(&expectation.reference().expected);
    if let Observed::UpdateRecords(response) = &mut unchanged {
        response.records.as_mut().expect("records")[0].sync_count = Some(1);
    }
    assert!(is_mismatch(&expectation.judge(&unchanged).0));
    step(&mut model, &call);
    assert_eq!(model.dataset_sync_count(&path("d")), 4);
}

#[test]
fn amb_x_error_precedence_other_broken_rules_are_non_strict() {
    let model = seeded();
    // Broken: the key is too long (step 4), the token is garbage (step 5), a conflict (step 6).
    let call = update_at(
        path("d"),
        vec![replace("a", "x", 9), replace(&"k".repeat(1025), "v", 0)],
        TokenClaim::Garbage,
    );
    let expectation = model.expect(&call, NOW);
    assert_eq!(
        kinds(&expectation),
        vec![
            (ErrorKind::Validation, vec![]),
            // Also the token's error; one departure either way, labelled by the first found.
            (ErrorKind::InvalidParameter, vec![Ambiguity::ValidationCode]),
            (
                ErrorKind::ResourceConflict,
                vec![Ambiguity::ErrorPrecedence]
            ),
        ]
    );
    let conflict = Observed::Error {
        status: 409,
        kind: Some(ErrorKind::ResourceConflict),
        message: Some("Current SyncCount for: a is: 1 not: 9".to_owned()),
    };
    assert_eq!(
        expectation.judge(&conflict).0,
        Judgement::NonStrict(vec![Ambiguity::ErrorPrecedence])
    );
    assert!(is_mismatch(
        &expectation.judge(&error(ErrorKind::LimitExceeded)).0
    ));
}

#[test]
fn amb_x_unknown_identity_is_404_or_zero_usage() {
    let mut model = Model::new();
    let expectation = model.expect(&usage(), NOW);
    assert_eq!(
        kinds(&expectation)[0],
        (ErrorKind::ResourceNotFound, vec![])
    );
    assert_eq!(
        expectation.outcomes[1].expected.to_string(),
        "200 IdentityUsage(DatasetCount=0, DataStorage=0)"
    );
    let zeros = answer(&expectation.outcomes[1].expected);
    assert_eq!(
        expectation.judge(&zeros).0,
        Judgement::NonStrict(vec![Ambiguity::UnknownIdentity])
    );
    step(&mut model, &update("d", vec![replace("k", "v", 0)]));
    step(&mut model, &delete("d"));
    // Once it has created a dataset the identity is known, even with none left.
    let known = model.expect(&usage(), NOW);
    assert_eq!(known.outcomes.len(), 1);
    assert_eq!(
        known.reference().expected.to_string(),
        "200 IdentityUsage(DatasetCount=0, DataStorage=0)"
    );
}

// ---- The model's own vocabulary ----

#[test]
fn ambiguity_ids_are_the_spec_rows() {
    let ids: Vec<&str> = Ambiguity::ALL.iter().map(|a| a.id()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    // The stated rows are exactly the AMB- rows of docs/spec.md §8; the others are AMB-X rows
    // of docs/reference-choices.md.
    let spec = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec.md"));
    let section8 = &spec[spec.find("## 8.").expect("§8")..spec.find("## 9.").expect("§9")];
    let section11 = &spec[spec.find("## 11.").expect("§11")..];
    let rows: Vec<&str> = section8
        .lines()
        .chain(section11.lines())
        .filter_map(|line| line.strip_prefix("| AMB-"))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let stated: Vec<String> = Ambiguity::ALL
        .iter()
        .filter(|a| a.stated())
        .map(|a| a.id().trim_start_matches("AMB-").to_owned())
        .collect();
    assert_eq!(
        rows, stated,
        "Ambiguity::ALL follows SPEC §8 then §11, in their order"
    );
    let choices = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/reference-choices.md"
    ));
    for unstated in Ambiguity::ALL.iter().filter(|a| !a.stated()) {
        assert!(
            choices.contains(unstated.id()),
            "{} is described in docs/reference-choices.md",
            unstated.id()
        );
    }
}

#[test]
fn expectation_display_names_the_reference_then_the_alternatives() {
    let model = seeded();
    let expectation = model.expect(&update("d", vec![replace("a", "x", 9)]), NOW);
    assert_eq!(
        expectation.to_string(),
        "409 ResourceConflictException (message containing [\"a\", \"1\", \"9\"])"
    );
    let expectation = model.expect(&update("bad name", vec![replace("a", "x", 0)]), NOW);
    assert_eq!(
        expectation.to_string(),
        "400 ValidationException; also allowed: 400 InvalidParameterException [AMB-VALIDATION-CODE]"
    );
}

#[test]
fn a_mismatch_leaves_the_model_on_the_reference_path() {
    let mut model = seeded();
    let call = update("d", vec![replace("a", "x", 1)]);
    let judgement = model.observe(&call, NOW, &error(ErrorKind::InternalError));
    assert!(is_mismatch(&judgement));
    assert_eq!(model.dataset_sync_count(&path("d")), 4);
}

// ---- Rows added with "Never fail a correct server" ----

fn list_with_token(name: &str, token: TokenClaim) -> Call {
    Call::ListRecords {
        request: ListRecordsRequest {
            path: path(name),
            ..ListRecordsRequest::default()
        },
        token,
    }
}

fn has_success(expectation: &Expectation) -> bool {
    expectation
        .outcomes
        .iter()
        .any(|o| !matches!(o.expected, Expected::Error { .. }))
}

#[test]
fn amb_list_token_garbage_is_refused_or_ignored_and_a_spent_token_is_always_good() {
    let model = seeded();
    let garbage = model.expect(&list_with_token("d", TokenClaim::Garbage), NOW);
    assert_eq!(kinds(&garbage), vec![(ErrorKind::InvalidParameter, vec![])]);
    let ignored = garbage
        .outcomes
        .iter()
        .find(|o| !matches!(o.expected, Expected::Error { .. }))
        .expect("ignoring the token is allowed");
    assert_eq!(ignored.ambiguities, vec![Ambiguity::ListToken]);
    let foreign = model.expect(&list_with_token("d", token("other")), NOW);
    assert!(has_success(&foreign));
    assert!(matches!(
        foreign.reference().expected,
        Expected::Error { .. }
    ));
    // A token an UpdateRecords already carried: only acceptance (iOS retries with it).
    let spent = TokenClaim::IssuedFor {
        path: path("d"),
        issued_at: NOW - 10.0,
        used_before: true,
    };
    let expectation = model.expect(&list_with_token("d", spent), NOW);
    assert!(kinds(&expectation).is_empty(), "{expectation}");
    // UpdateRecords may still refuse a reused token (AMB-TOKEN-REUSE).
    let reused = update_at(
        path("d"),
        vec![replace("a", "x", 1)],
        TokenClaim::IssuedFor {
            path: path("d"),
            issued_at: NOW - 10.0,
            used_before: true,
        },
    );
    assert_eq!(
        kinds(&model.expect(&reused, NOW)),
        vec![(ErrorKind::InvalidParameter, vec![Ambiguity::TokenReuse])]
    );
}

#[test]
fn amb_negative_last_sync_count_is_refused_or_read_as_zero() {
    let model = seeded();
    let expectation = model.expect(&list("d", -1), NOW);
    assert!(matches!(
        expectation.reference().expected,
        Expected::Error { .. }
    ));
    let everything = answer(&model.expect(&list("d", 0), NOW).reference().expected);
    assert_eq!(
        expectation.judge(&everything).0,
        Judgement::NonStrict(vec![Ambiguity::NegativeLastSyncCount])
    );
}

#[test]
fn amb_max_results_below_one_is_refused_or_the_default_page_size() {
    let model = seeded();
    for call in [list_request("d", None, Some(0)), list_datasets(Some(-1))] {
        let expectation = model.expect(&call, NOW);
        assert!(matches!(
            expectation.reference().expected,
            Expected::Error { .. }
        ));
        let default = match &call {
            Call::ListRecords { .. } => list_request("d", None, None),
            _ => list_datasets(None),
        };
        let served = answer(&model.expect(&default, NOW).reference().expected);
        assert_eq!(
            expectation.judge(&served).0,
            Judgement::NonStrict(vec![Ambiguity::MaxResults])
        );
    }
}

/// `pages` of ListRecords with these page sizes over the listing's records.
fn paged(expected: &Expected, sizes: &[usize]) -> Observed {
    let Observed::ListRecords(pages) = answer(expected) else {
        panic!("list")
    };
    let template = pages[0].clone();
    let mut records: Vec<Record> = pages
        .into_iter()
        .flat_map(|p| p.records.unwrap_or_default())
        .collect();
    let mut out = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let chunk: Vec<Record> = records.drain(..(*size).min(records.len())).collect();
        let last = i + 1 == sizes.len();
        out.push(ListRecordsResponse {
            count: count(chunk.len()),
            records: Some(chunk),
            next_token: (!last).then(|| format!("t{i}")),
            ..template.clone()
        });
    }
    Observed::ListRecords(out)
}

#[test]
fn amb_page_size_smaller_pages_only_with_an_explicit_max_results() {
    let model = seeded();
    // a@1, b@2(removed), c@3: three records.
    let explicit = model.expect(&list_request("d", None, Some(2)), NOW);
    assert_eq!(
        explicit
            .judge(&paged(&explicit.reference().expected, &[2, 1]))
            .0,
        Judgement::Reference
    );
    assert_eq!(
        explicit
            .judge(&paged(&explicit.reference().expected, &[1, 1, 1]))
            .0,
        Judgement::NonStrict(vec![Ambiguity::PageSize])
    );
    // LR-4: without maxResults one page holds everything (up to 1,024).
    let default = model.expect(&list_request("d", None, None), NOW);
    let judgement = default
        .judge(&paged(&default.reference().expected, &[2, 1]))
        .0;
    assert!(first_difference(judgement).contains("without maxResults"));
}

#[test]
fn ds_4_after_a_re_create_a_pre_delete_count_gets_the_flag_and_every_new_record() {
    // Reference counter: continues above the old value.
    let mut model = seeded();
    step(&mut model, &delete("d"));
    step(&mut model, &update("d", vec![replace("x", "new", 0)]));
    let expectation = model.expect(&list("d", 2), NOW);
    assert_eq!(expectation.outcomes.len(), 1, "{expectation}");
    let Expected::ListRecords(listing) = &expectation.reference().expected else {
        panic!("list")
    };
    assert!(listing.deleted_after_requested_sync_count && listing.dataset_exists);
    assert_eq!(listing.records.len(), 1);
    // Without the flag: a mismatch (the former AMB-DELETE-FLAG leeway is gone here).
    let mut unflagged = answer(&expectation.reference().expected);
    if let Observed::ListRecords(pages) = &mut unflagged {
        pages[0].dataset_deleted_after_requested_sync_count = Some(false);
    }
    assert!(is_mismatch(&expectation.judge(&unflagged).0));

    // Restarted counter: a pre-delete count above the new count is not LR-3's 400.
    let mut model = seeded();
    step(&mut model, &delete("d"));
    let call = update("d", vec![replace("x", "new", 0)]);
    let restart = model.expect(&call, NOW).outcomes[1].expected.clone();
    model.observe(&call, NOW, &answer(&restart));
    assert_eq!(model.dataset_sync_count(&path("d")), 1);
    let expectation = model.expect(&list("d", 3), NOW);
    assert_eq!(expectation.outcomes.len(), 1, "{expectation}");
    let Expected::ListRecords(listing) = &expectation.reference().expected else {
        panic!("no 400 for a count from before the delete: {expectation}")
    };
    assert!(listing.deleted_after_requested_sync_count);
    assert_eq!(
        listing.records.len(),
        1,
        "the re-created records come along"
    );
    // At or below the new count the endpoint cannot tell: both readings are allowed.
    let ambiguous = model.expect(&list("d", 1), NOW);
    assert_eq!(ambiguous.outcomes.len(), 2, "{ambiguous}");
    assert_eq!(
        ambiguous.outcomes[1].ambiguities,
        vec![Ambiguity::RecreateCount]
    );
}

#[test]
fn unstated_situations_allow_the_other_reasonable_answer() {
    let model = seeded();
    // AMB-X-BEYOND-ON-MISSING: lastSyncCount on a dataset never written.
    let missing = model.expect(&list("never", 4), NOW);
    assert_eq!(
        kinds(&missing),
        vec![(
            ErrorKind::InvalidParameter,
            vec![Ambiguity::BeyondOnMissing]
        )]
    );
    // AMB-X-NEXT-TOKEN: a never-issued token may be ignored.
    let garbage = Call::ListDatasets(ListDatasetsRequest {
        path: identity(),
        max_results: None,
        next_token: Some("garbage".to_owned()),
    });
    let expectation = model.expect(&garbage, NOW);
    let first_page = answer(&model.expect(&list_datasets(None), NOW).reference().expected);
    assert_eq!(
        expectation.judge(&first_page).0,
        Judgement::NonStrict(vec![Ambiguity::NextToken])
    );
    // AMB-X-REMOVE-VALUE: a remove carrying a Value may be refused.
    let mut patch = remove("a", 1);
    patch.value = Some("ignored".to_owned());
    let expectation = model.expect(&update("d", vec![patch]), NOW);
    assert!(!matches!(
        expectation.reference().expected,
        Expected::Error { .. }
    ));
    let (judgement, _) = expectation.judge(&error(ErrorKind::Validation));
    assert_eq!(
        judgement,
        Judgement::NonStrict(vec![Ambiguity::RemoveValue])
    );
}

#[test]
fn data_1_keys_differing_in_case_or_normalization_are_distinct() {
    let mut model = Model::new();
    step(&mut model, &update("d", vec![replace("score", "1", 0)]));
    for other in ["Score", "caf\u{e9}", "cafe\u{301}"] {
        let call = update("d", vec![replace(other, "2", 0)]);
        assert!(!matches!(
            model.expect(&call, NOW).reference().expected,
            Expected::Error { .. }
        ));
        step(&mut model, &call);
    }
    assert_eq!(model.record_sync_count(&path("d"), "score"), 1);
    assert_eq!(model.record_sync_count(&path("d"), "cafe\u{301}"), 4);
    assert_eq!(model.record_sync_count(&path("d"), "caf\u{e9}"), 3);
}

fn with_client_context(mut call: Call, context: &str) -> Call {
    if let Call::UpdateRecords { request, .. } = &mut call {
        request.client_context = Some(context.to_owned());
    }
    call
}

#[test]
fn amb_client_context_a_bad_header_is_refused_or_ignored_and_a_plain_one_is_taken() {
    let mut model = Model::new();
    // base64 of `{"a":1}`, padded: every server takes it.
    let plain = with_client_context(update("prefs", vec![replace("k", "v", 0)]), "eyJhIjoxfQ==");
    let expectation = model.expect(&plain, NOW);
    assert!(kinds(&expectation).is_empty());
    assert!(is_mismatch(
        &expectation.judge(&error(ErrorKind::InvalidParameter)).0
    ));
    // Not base64, and base64 of bytes that are not UTF-8.
    for bad in ["%%not base64%%", "/w=="] {
        let call = with_client_context(update("prefs", vec![replace("k", "v", 0)]), bad);
        let expectation = model.expect(&call, NOW);
        assert_eq!(
            kinds(&expectation),
            vec![(ErrorKind::InvalidParameter, vec![])],
            "{bad}"
        );
        assert!(matches!(
            model.observe(&call, NOW, &error(ErrorKind::InvalidParameter)),
            Judgement::Reference
        ));
        assert!(!model.dataset_exists(&path("prefs")));
    }
    let ignored = with_client_context(update("prefs", vec![replace("k", "v", 0)]), "%%");
    let accepted = answer(&model.expect(&plain, NOW).reference().expected);
    assert_eq!(
        model.expect(&ignored, NOW).judge(&accepted).0,
        Judgement::NonStrict(vec![Ambiguity::ClientContext])
    );
}
