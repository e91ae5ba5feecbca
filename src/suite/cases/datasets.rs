//! DescribeDataset, ListDatasets, DeleteDataset, DescribeIdentityUsage (SPEC §4).

use super::support::{call_intended, ensure, list_from, write, write_rejected};
use crate::model::Call;
use crate::spec::{
    DatasetPath, DeleteDatasetRequest, DescribeDatasetRequest, DescribeIdentityUsageRequest,
    ErrorKind, IdentityPath, ListDatasetsRequest,
};
use crate::suite::session::{Answer, Intent, Session, dataset_of, remove, replace};
use crate::suite::verdict::Stop;

cases! {
    "datasets.recreate.stale-copy-gets-flag-and-records", Must, ["DS-4", "DS-3", "AMB-RECREATE-COUNT"],
    "A copy from before a delete learns of it, with the new records",
    "After a delete and a re-create, ListRecords with a lastSyncCount from before the delete answers DatasetDeletedAfterRequestedSyncCount=true and the re-created records in the same reply, never 400, whether the counter continued or restarted."
        => recreate_stale_copy;

    "datasets.name.case-distinct", Must, ["DATA-1", "DS-2"],
    "Dataset names that differ only in case are different datasets",
    "Writing `Prefs` and `prefs` for one identity creates two datasets with their own records and counters."
        => name_case_distinct;

    "datasets.describe.last-modified-moves-forward", Must, ["DS-1", "DS-5"],
    "LastModifiedDate follows the writes",
    "LastModifiedDate never precedes CreationDate and moves forward with a later write, a remove-only write included; CreationDate stays; the identity's usage date moves too."
        => last_modified_moves_forward;

    "datasets.describe.after-write", Must, ["DS-1"],
    "DescribeDataset reports records and storage",
    "DescribeDataset of a written dataset answers its name, identity, dates, NumRecords and DataStorage (UTF-8 bytes of keys and values)."
        => describe_after_write;

    "datasets.describe.tombstones-not-counted", Must, ["DS-1", "UR-6"],
    "Tombstones count neither as records nor as storage",
    "After a remove, DescribeDataset's NumRecords and DataStorage cover only live records."
        => describe_tombstones_not_counted;

    "datasets.describe.missing-404", Must, ["DS-1", "ERR-2"],
    "DescribeDataset of a missing dataset is 404",
    "DescribeDataset of a dataset that was never written fails with 404 ResourceNotFoundException."
        => describe_missing;

    "datasets.describe.deleted-404", Must, ["DS-1", "DS-3"],
    "DescribeDataset of a deleted dataset is 404",
    "After DeleteDataset, DescribeDataset fails with 404 ResourceNotFoundException."
        => describe_deleted;

    "datasets.list.by-name", Must, ["DS-2"],
    "ListDatasets lists every dataset of the identity",
    "ListDatasets answers each of the identity's datasets with its metadata, and no other identity's."
        => list_by_name;

    "datasets.list.paging", Must, ["DS-2"],
    "ListDatasets pages with NextToken",
    "With maxResults=2 over five datasets, following NextToken lists each dataset exactly once."
        => list_paging;

    "datasets.list.deleted-not-listed", Must, ["DS-2", "DS-3"],
    "Deleted datasets are not listed",
    "After DeleteDataset, ListDatasets no longer lists the dataset."
        => list_deleted_not_listed;

    "datasets.list.empty-identity", Must, ["DS-2"],
    "An identity without datasets lists none",
    "ListDatasets of an identity that never wrote answers 200 with no datasets and Count 0."
        => list_empty_identity;

    "datasets.list.garbage-next-token-rejected", Unstated, ["DS-2", "AMB-X-NEXT-TOKEN"],
    "ListDatasets rejects a nextToken it never issued",
    "A garbage nextToken fails with 400 InvalidParameterException (serving the first page is NON-STRICT; the spec does not say)."
        => list_garbage_next_token;

    "datasets.list.max-results-zero-rejected", Must, ["DS-2", "VAL-1", "AMB-MAX-RESULTS"],
    "ListDatasets rejects maxResults 0",
    "maxResults=0 fails with 400 (serving the default page size is NON-STRICT)."
        => list_max_results_zero;

    "datasets.delete.returns-metadata", Must, ["DS-3"],
    "DeleteDataset answers the dataset as it was",
    "DeleteDataset answers the dataset's metadata from before the delete."
        => delete_returns_metadata;

    "datasets.delete.missing-404", Must, ["DS-3", "ERR-2"],
    "Deleting a missing dataset is 404",
    "DeleteDataset of a dataset that was never written, or a second time, fails with 404 ResourceNotFoundException."
        => delete_missing;

    "datasets.delete.records-gone", Must, ["DS-3", "LR-2"],
    "After a delete the dataset lists as missing",
    "After DeleteDataset, ListRecords from 0 answers no records, no tombstones, DatasetExists=false."
        => delete_records_gone;

    "datasets.delete.counts-reset", Must, ["DS-3", "UR-4"],
    "After a delete every key's count is 0 again",
    "After DeleteDataset, a write with the old SyncCount fails with 409 and a write with 0 re-creates the dataset."
        => delete_counts_reset;

    "datasets.delete.tombstones-gone", Must, ["DS-3", "UR-6"],
    "A delete drops tombstones too",
    "After DeleteDataset, a removed key's count is 0 again and the re-created dataset lists no tombstone."
        => delete_tombstones_gone;

    "datasets.delete.flag-for-stale-copy", Must, ["DS-4"],
    "A device with an old copy learns of the delete",
    "After DeleteDataset, ListRecords with the device's lastSyncCount answers DatasetDeletedAfterRequestedSyncCount=true or DatasetExists=false."
        => delete_flag_for_stale_copy;

    "datasets.usage.counts", Must, ["DS-5"],
    "DescribeIdentityUsage sums the identity's datasets",
    "DescribeIdentityUsage answers the number of datasets and the sum of their DataStorage."
        => usage_counts;

    "datasets.usage.after-delete", Must, ["DS-5", "DS-3"],
    "DescribeIdentityUsage follows deletes",
    "After DeleteDataset, DescribeIdentityUsage counts one dataset fewer and drops its storage."
        => usage_after_delete;
}

fn describe(path: &DatasetPath) -> Call {
    Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() })
}

fn delete(path: &DatasetPath) -> Call {
    Call::DeleteDataset(DeleteDatasetRequest { path: path.clone() })
}

fn list_datasets(identity: &IdentityPath, max_results: Option<i32>) -> Call {
    Call::ListDatasets(ListDatasetsRequest {
        path: identity.clone(),
        max_results,
        next_token: None,
    })
}

fn usage(identity: &IdentityPath) -> Call {
    Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
        path: identity.clone(),
    })
}

async fn describe_after_write(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(
        s,
        &path,
        vec![replace("name", "Zoë", 0), replace("city", "Zürich", 0)],
    )
    .await?;
    call_intended(s, describe(&path), Intent::Success).await?;
    Ok(())
}

async fn describe_tombstones_not_counted(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(
        s,
        &path,
        vec![replace("name", "Ada", 0), replace("city", "London", 0)],
    )
    .await?;
    write(s, &path, vec![remove("city", 1)]).await?;
    call_intended(s, describe(&path), Intent::Success).await?;
    s.list(&path).await?;
    Ok(())
}

async fn describe_missing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    call_intended(
        s,
        describe(&path),
        Intent::Error(ErrorKind::ResourceNotFound),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn describe_deleted(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(s, &path, vec![replace("name", "Ada", 0)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    call_intended(
        s,
        describe(&path),
        Intent::Error(ErrorKind::ResourceNotFound),
    )
    .await?;
    Ok(())
}

async fn list_by_name(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let other = s.identity();
    for name in ["zeta", "alpha", "Mixed.Case_1", "beta-2"] {
        write(s, &dataset_of(&identity, name), vec![replace("k", name, 0)]).await?;
    }
    write(
        s,
        &dataset_of(&other, "alpha"),
        vec![replace("k", "other", 0)],
    )
    .await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn list_paging(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    for name in ["d1", "d2", "d3", "d4", "d5"] {
        write(s, &dataset_of(&identity, name), vec![replace("k", "v", 0)]).await?;
    }
    call_intended(s, list_datasets(&identity, Some(2)), Intent::Success).await?;
    call_intended(s, list_datasets(&identity, Some(1)), Intent::Success).await?;
    Ok(())
}

async fn list_deleted_not_listed(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let keep = dataset_of(&identity, "keep");
    let gone = dataset_of(&identity, "gone");
    write(s, &keep, vec![replace("k", "v", 0)]).await?;
    write(s, &gone, vec![replace("k", "v", 0)]).await?;
    call_intended(s, delete(&gone), Intent::Success).await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn list_empty_identity(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn list_garbage_next_token(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    write(s, &dataset_of(&identity, "a"), vec![replace("k", "v", 0)]).await?;
    let call = Call::ListDatasets(ListDatasetsRequest {
        path: identity.clone(),
        max_results: Some(1),
        next_token: Some("bm90LWEtcmVhbC1uZXh0LXRva2Vu".to_owned()),
    });
    call_intended(s, call, Intent::Error(ErrorKind::InvalidParameter)).await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn list_max_results_zero(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    write(s, &dataset_of(&identity, "a"), vec![replace("k", "v", 0)]).await?;
    call_intended(
        s,
        list_datasets(&identity, Some(0)),
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn delete_returns_metadata(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(
        s,
        &path,
        vec![replace("name", "Ada", 0), replace("city", "London", 0)],
    )
    .await?;
    write(s, &path, vec![remove("city", 1)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_missing(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    call_intended(s, delete(&path), Intent::Error(ErrorKind::ResourceNotFound)).await?;
    write(s, &path, vec![replace("name", "Ada", 0)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    call_intended(s, delete(&path), Intent::Error(ErrorKind::ResourceNotFound)).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_records_gone(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(
        s,
        &path,
        vec![replace("name", "Ada", 0), replace("city", "London", 0)],
    )
    .await?;
    write(s, &path, vec![remove("city", 1)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_counts_reset(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(s, &path, vec![replace("name", "Ada", 0)]).await?;
    write(s, &path, vec![replace("name", "Ada L.", 1)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    s.list(&path).await?;
    write_rejected(
        s,
        &path,
        vec![replace("name", "Grace", 2)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    write(s, &path, vec![replace("name", "Grace", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_tombstones_gone(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(
        s,
        &path,
        vec![replace("name", "Ada", 0), replace("city", "London", 0)],
    )
    .await?;
    write(s, &path, vec![remove("city", 1)]).await?;
    call_intended(s, delete(&path), Intent::Success).await?;
    write(s, &path, vec![replace("city", "Paris", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_flag_for_stale_copy(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("profile");
    write(s, &path, vec![replace("name", "Ada", 0)]).await?;
    write(s, &path, vec![replace("city", "London", 0)]).await?;
    // The other device last synced at 2, then this device deletes the dataset.
    call_intended(s, delete(&path), Intent::Success).await?;
    list_from(s, &path, Some(2), None).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn usage_counts(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    write(
        s,
        &dataset_of(&identity, "profile"),
        vec![replace("name", "Zoë", 0)],
    )
    .await?;
    write(
        s,
        &dataset_of(&identity, "scores"),
        vec![replace("best", "9001", 0), replace("last", "12", 0)],
    )
    .await?;
    call_intended(s, usage(&identity), Intent::Success).await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn usage_after_delete(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let profile = dataset_of(&identity, "profile");
    let scores = dataset_of(&identity, "scores");
    write(s, &profile, vec![replace("name", "Ada", 0)]).await?;
    write(s, &scores, vec![replace("best", "9001", 0)]).await?;
    call_intended(s, usage(&identity), Intent::Success).await?;
    call_intended(s, delete(&scores), Intent::Success).await?;
    call_intended(s, usage(&identity), Intent::Success).await?;
    call_intended(s, list_datasets(&identity, None), Intent::Success).await?;
    Ok(())
}

async fn recreate_stale_copy(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("c", "1", 0), replace("d", "1", 0)]).await?;
    let delete = Call::DeleteDataset(DeleteDatasetRequest { path: path.clone() });
    call_intended(s, delete, Intent::Success).await?;
    write(s, &path, vec![replace("x", "new", 0)]).await?;
    // A device that synced at 3 (the count at the delete), one at 1.
    list_from(s, &path, Some(3), None).await?;
    list_from(s, &path, Some(1), Some(1)).await?;
    for round in 0..4 {
        let x = s.count_of(&path, "x");
        write(s, &path, vec![replace("x", &format!("v{round}"), x)]).await?;
    }
    list_from(s, &path, Some(3), None).await?;
    s.list(&path).await?;
    Ok(())
}

async fn name_case_distinct(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let upper = dataset_of(&identity, "Prefs");
    let lower = dataset_of(&identity, "prefs");
    write(s, &upper, vec![replace("a", "upper", 0)]).await?;
    write(s, &lower, vec![replace("a", "lower", 0)]).await?;
    write(s, &lower, vec![replace("a", "lower-2", 1)]).await?;
    s.list(&upper).await?;
    s.list(&lower).await?;
    let list = Call::ListDatasets(ListDatasetsRequest {
        path: identity,
        max_results: None,
        next_token: None,
    });
    call_intended(s, list, Intent::Success).await?;
    Ok(())
}

/// (CreationDate, LastModifiedDate) of a DescribeDataset answer.
fn dataset_dates(answer: &Answer) -> Result<(f64, f64), Stop> {
    match answer {
        Answer::DescribeDataset(r) => {
            let d = r.dataset.as_ref();
            match (
                d.and_then(|d| d.creation_date),
                d.and_then(|d| d.last_modified_date),
            ) {
                (Some(c), Some(m)) => Ok((c, m)),
                _ => Err(Stop::Finding("DescribeDataset without dates".into())),
            }
        }
        other => Err(Stop::Harness(format!(
            "expected a DescribeDataset answer, got {other:?}"
        ))),
    }
}

fn usage_date(answer: &Answer) -> Result<Option<f64>, Stop> {
    match answer {
        Answer::DescribeIdentityUsage(r) => {
            Ok(r.identity_usage.as_ref().and_then(|u| u.last_modified_date))
        }
        other => Err(Stop::Harness(format!(
            "expected a DescribeIdentityUsage answer, got {other:?}"
        ))),
    }
}

/// Long enough that a later write is later even at whole-second resolution.
const LATER: std::time::Duration = std::time::Duration::from_millis(1_100);

async fn last_modified_moves_forward(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    let identity = IdentityPath {
        identity_pool_id: path.identity_pool_id.clone(),
        identity_id: path.identity_id.clone(),
    };
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    let usage = Call::DescribeIdentityUsage(DescribeIdentityUsageRequest { path: identity });
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    let (created, first) =
        dataset_dates(&call_intended(s, describe.clone(), Intent::Success).await?)?;
    let usage_first = usage_date(&call_intended(s, usage.clone(), Intent::Success).await?)?;
    ensure(first >= created, || {
        format!("DS-1: LastModifiedDate {first} precedes CreationDate {created}")
    })?;
    tokio::time::sleep(LATER).await;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    let (created_2, second) =
        dataset_dates(&call_intended(s, describe.clone(), Intent::Success).await?)?;
    ensure(second > first && created_2 == created, || {
        format!(
            "DS-1: after a later write LastModifiedDate went {first} -> {second} and \
             CreationDate {created} -> {created_2} (expected a later date and the same creation)"
        )
    })?;
    tokio::time::sleep(LATER).await;
    let b = s.count_of(&path, "b");
    write(s, &path, vec![remove("b", b)]).await?;
    let (_, third) = dataset_dates(&call_intended(s, describe, Intent::Success).await?)?;
    ensure(third > second, || {
        format!("DS-1: a later remove-only write left LastModifiedDate at {second} (got {third})")
    })?;
    let usage_last = usage_date(&call_intended(s, usage, Intent::Success).await?)?;
    if let (Some(before), Some(after)) = (usage_first, usage_last) {
        ensure(after > before, || {
            format!(
                "DS-1/DS-5: IdentityUsage.LastModifiedDate stayed at {before} after later writes (got {after})"
            )
        })?;
    }
    Ok(())
}
