//! One case per open point (docs/spec.md §8 and the `AMB-X-…` rows of docs/reference-choices.md): each
//! makes the situation happen; the model allows every outcome of the row and names a
//! non-reference one NON-STRICT.

use super::support::{
    DEVICE, call_intended, list_from, update_intended, update_with_context_intended, write,
    write_rejected, write_reusing_token,
};
use crate::model::Call;
use crate::spec::{
    DeleteDatasetRequest, DescribeDatasetRequest, DescribeIdentityUsageRequest, ErrorKind,
    IdentityPath, ListDatasetsRequest, RECORDS_PER_DATASET_MAX, RecordPatch,
};
use crate::suite::session::{Answer, Intent, Session, TokenChoice, dataset_of, remove, replace};
use crate::suite::verdict::Stop;

cases! {
    "ambiguity.list-inclusive", Must, ["LR-1"],
    "lastSyncCount equal to a record's count",
    "ListRecords with lastSyncCount equal to a record's SyncCount leaves that record out (LR-1: `>` only; the former AMB-LIST-INCLUSIVE is withdrawn, `>=` loops the JavaScript sync manager)."
        => list_inclusive;

    "ambiguity.dup-key", Must, ["AMB-DUP-KEY", "UR-3"],
    "Two patches for one key in one request",
    "Two patches for the same key in one UpdateRecords are rejected with 400 InvalidParameterException (applying both in order is NON-STRICT)."
        => dup_key;

    "ambiguity.empty-patches", Must, ["AMB-EMPTY-PATCHES", "DATA-1"],
    "UpdateRecords without patches",
    "RecordPatches absent or [] answers 200 with no records and creates nothing (400 is NON-STRICT)."
        => empty_patches;

    "ambiguity.empty-value", Must, ["AMB-EMPTY-VALUE", "DATA-1"],
    "A replace with an empty value",
    "`replace` with Value \"\" stores the empty string, which is not a tombstone."
        => empty_value;

    "ambiguity.token-reuse", Must, ["AMB-TOKEN-REUSE", "UR-8"],
    "One token for a rejected write and its retry",
    "A SyncSessionToken that carried a conflicting UpdateRecords is accepted again for the corrected retry (400 is NON-STRICT; then a fresh ListRecords gives a token that works)."
        => token_reuse;

    "ambiguity.token-expiry", Must, ["AMB-TOKEN-EXPIRY", "UR-8"],
    "A token used after other work",
    "A SyncSessionToken used after other calls within the same minute is still accepted; no check depends on the lifetime."
        => token_expiry;

    "ambiguity.colon", Must, ["AMB-COLON", "VAL-2"],
    "A DatasetName with a colon",
    "A DatasetName containing `:` is accepted by every operation (400 is NON-STRICT, and then nothing may have been created)."
        => colon;

    "ambiguity.validation-code", Must, ["AMB-VALIDATION-CODE", "VAL-1"],
    "Which code a constraint violation carries",
    "A constraint violation answers 400 ValidationException (InvalidParameterException is NON-STRICT)."
        => validation_code;

    "ambiguity.delete-flag", Must, ["AMB-DELETE-FLAG", "DS-4"],
    "A stale copy after delete and re-create",
    "After a delete, ListRecords with an old lastSyncCount signals it (flag and/or DatasetExists=false); after a re-create it must set DatasetDeletedAfterRequestedSyncCount=true and carry the re-created records (DS-4), whichever way the counter went."
        => delete_flag;

    "ambiguity.recreate-count", Must, ["AMB-RECREATE-COUNT", "DS-3"],
    "The counter of a re-created dataset",
    "A dataset re-created after a delete continues its counter above the old value (restarting at 1 is NON-STRICT)."
        => recreate_count;

    "ambiguity.tombstone-limit", Must, ["AMB-TOMBSTONE-LIMIT", "LIM-2"],
    "Tombstones and the record limit",
    "With 1024 live records, removing one makes room for a new key: tombstones do not count (counting them is NON-STRICT)."
        => tombstone_limit;

    "ambiguity.order", Must, ["AMB-ORDER", "LR-4", "DS-2"],
    "Order of records and datasets",
    "Records are listed by (SyncCount, Key) and datasets by name (any order is NON-STRICT)."
        => order;

    "ambiguity.count", Must, ["AMB-COUNT", "LR-5"],
    "Count of a paged ListRecords",
    "Each page's Count is the number of records in that page (the total is NON-STRICT)."
        => count;

    "ambiguity.last-modified-by", Must, ["AMB-LASTMODIFIEDBY", "UR-5"],
    "Who LastModifiedBy names",
    "LastModifiedBy names the writing DeviceId, or the IdentityId without one (any string is NON-STRICT)."
        => last_modified_by;

    "ambiguity.unchanged-write", Must, ["AMB-UNCHANGED-WRITE", "DATA-3"],
    "A replace with the same value",
    "Writing a key's current value again counts as a write and raises the counts."
        => unchanged_write;

    "ambiguity.client-context", Must, ["AMB-CLIENT-CONTEXT", "UR-3"],
    "An x-amz-Client-Context that is not base64",
    "UpdateRecords with an x-amz-Client-Context that is not base64 of UTF-8 is refused 400 InvalidParameterException and changes nothing (ignoring the header and writing is NON-STRICT); a well-formed one is accepted."
        => client_context;

    "ambiguity.error-precedence", Unstated, ["AMB-X-ERROR-PRECEDENCE", "VAL-1", "UR-2"],
    "A request that breaks several rules",
    "A request with an invalid key, a stale count and a garbage token answers the first broken rule in reference order (another broken rule's error is NON-STRICT)."
        => error_precedence;

    "ambiguity.unknown-identity", Unstated, ["AMB-X-UNKNOWN-IDENTITY", "DS-5"],
    "Usage of an identity that never wrote",
    "DescribeIdentityUsage of an identity without datasets answers 404 ResourceNotFoundException (200 with zeros is NON-STRICT)."
        => unknown_identity;

    "ambiguity.page-size", Must, ["AMB-PAGE-SIZE", "LR-4", "DS-2"],
    "Page size for a large maxResults",
    "Over 120 records, maxResults=100 answers pages of 100 (smaller pages with NextToken are NON-STRICT); without maxResults one page holds them all (a MUST: iOS never follows NextToken)."
        => page_size;
}

async fn list_inclusive(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("c", "1", 0)]).await?;
    list_from(s, &path, Some(2), None).await?;
    list_from(s, &path, Some(1), Some(1)).await?;
    Ok(())
}

async fn dup_key(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("other", "x", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("a", "first", 0), replace("a", "second", 0)],
        ErrorKind::InvalidParameter,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn empty_patches(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    for patches in [Some(Vec::new()), None] {
        update_intended(
            s,
            &path,
            Some(DEVICE),
            patches,
            TokenChoice::Fresh,
            Intent::Success,
        )
        .await?;
    }
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Error(ErrorKind::ResourceNotFound)).await?;
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(Vec::new()),
        TokenChoice::Fresh,
        Intent::Success,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn client_context(s: &mut Session) -> Result<(), Stop> {
    use base64::Engine as _;
    let path = s.dataset("prefs");
    let plain =
        base64::engine::general_purpose::STANDARD.encode(r#"{"client":{"app_title":"cogsync"}}"#);
    update_with_context_intended(
        s,
        &path,
        vec![replace("a", "1", 0)],
        &plain,
        Intent::Success,
    )
    .await?;
    // Whichever way the endpoint reads the bad header, the listing must agree with it.
    update_with_context_intended(
        s,
        &path,
        vec![replace("a", "2", 1)],
        "%%not base64%%",
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn empty_value(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "", 0), replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "", 1)]).await?;
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

async fn token_reuse(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    write_reusing_token(
        s,
        &path,
        vec![replace("a", "2", 0)],
        Intent::Error(ErrorKind::ResourceConflict),
    )
    .await?;
    // The retry reuses the token of the listing before the conflict.
    let retry = write_reusing_token(s, &path, vec![replace("a", "2", 1)], Intent::Success).await?;
    if matches!(retry, Answer::Error { .. }) {
        // Single-use tokens (allowed): a fresh ListRecords must give one that works.
        write(s, &path, vec![replace("a", "2", 1)]).await?;
    }
    s.list(&path).await?;
    Ok(())
}

async fn token_expiry(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let path = dataset_of(&identity, "prefs");
    let other = dataset_of(&identity, "other");
    s.list(&path).await?;
    for n in 0..5 {
        write(s, &other, vec![replace("n", &n.to_string(), n)]).await?;
    }
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn colon(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let path = dataset_of(&identity, "us-east-1:app.settings");
    s.list(&path).await?;
    let written = write(s, &path, vec![replace("a", "1", 0)]).await?;
    if matches!(written, Answer::Error { .. }) {
        // The endpoint refuses `:` (allowed): nothing may have been created.
        s.call(list_datasets(&identity)).await?;
        s.call(Call::DescribeDataset(DescribeDatasetRequest {
            path: path.clone(),
        }))
        .await?;
        return Ok(());
    }
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    let delete = Call::DeleteDataset(DeleteDatasetRequest { path: path.clone() });
    call_intended(s, delete, Intent::Success).await?;
    s.list(&path).await?;
    Ok(())
}

fn list_datasets(identity: &IdentityPath) -> Call {
    Call::ListDatasets(ListDatasetsRequest {
        path: identity.clone(),
        max_results: None,
        next_token: None,
    })
}

async fn validation_code(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(&"d".repeat(300)),
        Some(vec![replace("a", "2", 1)]),
        TokenChoice::Fresh,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    let too_long = dataset_of(
        &IdentityPath {
            identity_pool_id: path.identity_pool_id.clone(),
            identity_id: path.identity_id.clone(),
        },
        &"n".repeat(200),
    );
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: too_long });
    call_intended(s, describe, Intent::Error(ErrorKind::Validation)).await?;
    s.list(&path).await?;
    Ok(())
}

async fn delete_flag(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("c", "1", 0)]).await?;
    let delete = Call::DeleteDataset(DeleteDatasetRequest { path: path.clone() });
    call_intended(s, delete, Intent::Success).await?;
    list_from(s, &path, Some(3), None).await?;
    write(s, &path, vec![replace("d", "1", 0)]).await?;
    // A device that last synced at 2 learns its copy predates the delete.
    list_from(s, &path, Some(2), None).await?;
    s.list(&path).await?;
    Ok(())
}

async fn recreate_count(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    let delete = Call::DeleteDataset(DeleteDatasetRequest { path: path.clone() });
    call_intended(s, delete, Intent::Success).await?;
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "new", 0)]).await?;
    s.list(&path).await?;
    let a = s.count_of(&path, "a");
    write(s, &path, vec![replace("a", "newer", a)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn tombstone_limit(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    let patches: Vec<RecordPatch> = (0..RECORDS_PER_DATASET_MAX)
        .map(|i| replace(&format!("k{i:04}"), "v", 0))
        .collect();
    write(s, &path, patches).await?;
    write(s, &path, vec![remove("k0000", 1), replace("fresh", "v", 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("one-more", "v", 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn order(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let path = dataset_of(&identity, "prefs");
    write(
        s,
        &path,
        vec![
            replace("zebra", "1", 0),
            replace("apple", "1", 0),
            replace("mango", "1", 0),
        ],
    )
    .await?;
    write(
        s,
        &path,
        vec![replace("banana", "2", 0), replace("zebra", "2", 1)],
    )
    .await?;
    s.list(&path).await?;
    list_from(s, &path, None, Some(2)).await?;
    for name in ["zz-last", "AA-upper", "mid"] {
        write(s, &dataset_of(&identity, name), vec![replace("k", "v", 0)]).await?;
    }
    let list = Call::ListDatasets(crate::spec::ListDatasetsRequest {
        path: identity,
        max_results: None,
        next_token: None,
    });
    call_intended(s, list, Intent::Success).await?;
    Ok(())
}

async fn count(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(
        s,
        &path,
        vec![
            replace("a", "1", 0),
            replace("b", "1", 0),
            replace("c", "1", 0),
            replace("d", "1", 0),
            replace("e", "1", 0),
        ],
    )
    .await?;
    list_from(s, &path, None, Some(2)).await?;
    list_from(s, &path, None, None).await?;
    Ok(())
}

async fn last_modified_by(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    for (device, key) in [(Some("phone"), "a"), (Some("tablet"), "b"), (None, "c")] {
        update_intended(
            s,
            &path,
            device,
            Some(vec![replace(key, "1", 0)]),
            TokenChoice::Fresh,
            Intent::Success,
        )
        .await?;
    }
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path: path.clone() });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

async fn unchanged_write(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "same", 0)]).await?;
    write(s, &path, vec![replace("a", "same", 1)]).await?;
    s.list(&path).await?;
    write_rejected(
        s,
        &path,
        vec![replace("a", "same", 1)],
        ErrorKind::ResourceConflict,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn error_precedence(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![
            replace("a", "2", 0),
            replace(&"k".repeat(1025), "v", 0),
        ]),
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::Validation),
    )
    .await?;
    update_intended(
        s,
        &path,
        Some(DEVICE),
        Some(vec![replace("a", "2", 0)]),
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn unknown_identity(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let usage = Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
        path: identity.clone(),
    });
    call_intended(s, usage.clone(), Intent::Error(ErrorKind::ResourceNotFound)).await?;
    s.list(&dataset_of(&identity, "prefs")).await?;
    call_intended(s, usage, Intent::Error(ErrorKind::ResourceNotFound)).await?;
    Ok(())
}

async fn page_size(s: &mut Session) -> Result<(), Stop> {
    let identity = s.identity();
    let path = dataset_of(&identity, "paged");
    let patches: Vec<RecordPatch> = (0..120)
        .map(|i| replace(&format!("k{i:03}"), "v", 0))
        .collect();
    write(s, &path, patches).await?;
    list_from(s, &path, None, Some(100)).await?;
    list_from(s, &path, Some(0), None).await?;
    for name in (0..3).map(|i| format!("set-{i}")) {
        write(s, &dataset_of(&identity, &name), vec![replace("k", "v", 0)]).await?;
    }
    s.call(Call::ListDatasets(ListDatasetsRequest {
        path: identity.clone(),
        max_results: Some(2),
        next_token: None,
    }))
    .await?;
    s.call(list_datasets(&identity)).await?;
    Ok(())
}
