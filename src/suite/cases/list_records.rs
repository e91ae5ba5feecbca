//! ListRecords: what `lastSyncCount` selects, paging, and what every page carries (SPEC §3).

use super::support::{ensure, list_from, list_intended, pages, write, write_reusing_token};
use crate::spec::{ErrorKind, ListRecordsRequest};
use crate::suite::session::{Intent, Session, TokenChoice, remove, replace};
use crate::suite::verdict::Stop;

cases! {
    "list-records.missing-dataset.empty", Must, ["LR-2", "DATA-2", "LR-5"],
    "A dataset that was never written lists as empty",
    "ListRecords of a missing dataset answers 200 with no records, Count 0, DatasetSyncCount 0, DatasetExists=false and a SyncSessionToken."
        => missing_dataset_empty;

    "list-records.last-sync-count.greater-than", Must, ["LR-1"],
    "lastSyncCount selects the records changed after it",
    "With records at SyncCount 1, 2 and 3, lastSyncCount=2 returns only the record at 3."
        => greater_than;

    "list-records.last-sync-count.zero-is-everything", Must, ["LR-1"],
    "lastSyncCount 0 or absent returns every record",
    "A ListRecords without lastSyncCount and one with lastSyncCount=0 both return every record and tombstone."
        => zero_is_everything;

    "list-records.last-sync-count.current-is-empty", Must, ["LR-1", "LR-5"],
    "lastSyncCount equal to the dataset count returns nothing new",
    "lastSyncCount equal to DatasetSyncCount answers no records on an existing dataset, with DatasetExists=true."
        => current_is_empty;

    "list-records.last-sync-count.includes-tombstones", Must, ["LR-1", "UR-6"],
    "Tombstones newer than lastSyncCount are returned",
    "A key removed after the caller's lastSyncCount comes back as a record without Value."
        => includes_tombstones;

    "list-records.last-sync-count.beyond-rejected", Must, ["LR-3"],
    "lastSyncCount beyond the dataset's count is rejected",
    "lastSyncCount greater than DatasetSyncCount on an existing dataset fails with 400 InvalidParameterException."
        => beyond_rejected;

    "list-records.last-sync-count.beyond-on-missing-dataset", Unstated, ["LR-2", "LR-3", "AMB-X-BEYOND-ON-MISSING"],
    "lastSyncCount on a missing dataset is not an error",
    "A missing dataset lists as empty whatever lastSyncCount the caller sends (LR-3's 400 is NON-STRICT: the spec fixes LR-3 for existing datasets only)."
        => beyond_on_missing_dataset;

    "list-records.last-sync-count.negative-rejected", Must, ["LR-1", "VAL-1", "AMB-NEGATIVE-LAST-SYNC-COUNT"],
    "A negative lastSyncCount is rejected",
    "lastSyncCount=-1 fails with 400 and changes nothing (reading it as 0 is NON-STRICT)."
        => negative_rejected;

    "list-records.paging.max-results-1", Must, ["LR-4"],
    "Pages of one record yield every record once",
    "With maxResults=1, following NextToken returns each of five records exactly once, one per page."
        => paging_1;

    "list-records.paging.max-results-2", Must, ["LR-4", "LR-5"],
    "Pages of two records yield every record once",
    "With maxResults=2 over five records, pages hold at most two records and the walk returns every record once."
        => paging_2;

    "list-records.paging.max-results-3-from-last-sync-count", Must, ["LR-4", "LR-1"],
    "Paging combines with lastSyncCount",
    "With maxResults=3 and lastSyncCount=2, the walk returns exactly the records changed after version 2, at most three per page."
        => paging_3_from_last_sync_count;

    "list-records.paging.exact-multiple", Must, ["LR-4"],
    "The last page carries no NextToken",
    "When the records fill the pages exactly (four records, maxResults=2), the last page has no NextToken."
        => paging_exact_multiple;

    "list-records.paging.with-tombstones", Must, ["LR-4", "UR-6"],
    "Paging returns tombstones like records",
    "Walking pages of two over records and tombstones returns each exactly once."
        => paging_with_tombstones;

    "list-records.paging.max-results-above-cap", Must, ["LR-4"],
    "A large maxResults is served, not rejected",
    "maxResults=5000 answers the records (the server may cap the page size)."
        => max_results_above_cap;

    "list-records.paging.max-results-zero-rejected", Must, ["LR-4", "VAL-1", "AMB-MAX-RESULTS"],
    "maxResults 0 is rejected",
    "maxResults=0 fails with 400 and changes nothing (serving the default page size is NON-STRICT)."
        => max_results_zero_rejected;

    "list-records.paging.garbage-next-token-rejected", Unstated, ["LR-4", "AMB-X-NEXT-TOKEN"],
    "A nextToken the endpoint never issued is rejected",
    "A garbage nextToken fails with 400 InvalidParameterException (serving the first page is NON-STRICT; the spec does not say)."
        => garbage_next_token_rejected;

    "list-records.paging.every-page-carries-token", Must, ["LR-4", "UR-8"],
    "The token of a paged walk is good for UpdateRecords",
    "After a walk in pages of one, the SyncSessionToken of the last page is accepted by UpdateRecords."
        => every_page_carries_token;

    "list-records.reply.always-carries-flags", Must, ["LR-5"],
    "Every page carries Count, DatasetExists and DatasetDeletedAfterRequestedSyncCount",
    "ListRecords answers always include Count, DatasetExists and DatasetDeletedAfterRequestedSyncCount, also on empty pages and missing datasets."
        => always_carries_flags;

    "list-records.sync-session-token.valid-accepted", Must, ["UR-8", "LR-1", "AMB-LIST-TOKEN"],
    "ListRecords accepts its own syncSessionToken, even spent",
    "A ListRecords that sends the token its previous call returned succeeds, also after an UpdateRecords used that token (iOS lists with it when it retries after a conflict)."
        => sync_session_token_valid;

    "list-records.sync-session-token.garbage-rejected", Must, ["UR-8", "AMB-LIST-TOKEN"],
    "ListRecords rejects a garbage syncSessionToken",
    "A syncSessionToken the endpoint never issued fails with 400 InvalidParameterException (ignoring the optional parameter is NON-STRICT)."
        => sync_session_token_garbage;
}

/// Five records written in three versions: a,b at 1; c at 2; d,e at 3.
async fn five_records(s: &mut Session, name: &str) -> Result<crate::spec::DatasetPath, Stop> {
    let path = s.dataset(name);
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("c", "2", 0)]).await?;
    write(s, &path, vec![replace("d", "3", 0), replace("e", "3", 0)]).await?;
    Ok(path)
}

async fn missing_dataset_empty(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("never-written");
    s.list(&path).await?;
    list_from(s, &path, Some(0), Some(10)).await?;
    Ok(())
}

async fn greater_than(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("b", "1", 0)]).await?;
    write(s, &path, vec![replace("c", "1", 0)]).await?;
    list_from(s, &path, Some(2), None).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn zero_is_everything(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    write(s, &path, vec![remove("b", 1)]).await?;
    s.list(&path).await?;
    list_from(s, &path, Some(0), None).await?;
    Ok(())
}

async fn current_is_empty(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    write(s, &path, vec![replace("a", "2", 1)]).await?;
    list_from(s, &path, Some(2), None).await?;
    Ok(())
}

async fn includes_tombstones(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    write(s, &path, vec![remove("a", 1)]).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn beyond_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        last_sync_count: Some(5),
        ..ListRecordsRequest::default()
    };
    list_intended(
        s,
        request,
        TokenChoice::Missing,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn beyond_on_missing_dataset(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("never-written");
    let request = ListRecordsRequest {
        path: path.clone(),
        last_sync_count: Some(7),
        ..ListRecordsRequest::default()
    };
    list_intended(s, request, TokenChoice::Missing, Intent::Success).await?;
    Ok(())
}

async fn negative_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        last_sync_count: Some(-1),
        ..ListRecordsRequest::default()
    };
    list_intended(
        s,
        request,
        TokenChoice::Missing,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

/// Walks with `max_results` and checks the page count the walk took.
async fn walk_pages(
    s: &mut Session,
    path: &crate::spec::DatasetPath,
    last_sync_count: Option<i64>,
    max_results: i32,
    pages_min: usize,
) -> Result<(), Stop> {
    let answer = list_from(s, path, last_sync_count, Some(max_results)).await?;
    let count = pages(&answer)?.len();
    ensure(count >= pages_min, || {
        format!("expected at least {pages_min} pages of at most {max_results}, got {count}")
    })
}

async fn paging_1(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    walk_pages(s, &path, None, 1, 5).await
}

async fn paging_2(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    walk_pages(s, &path, None, 2, 3).await
}

async fn paging_3_from_last_sync_count(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    write(s, &path, vec![replace("a", "4", 1), replace("f", "4", 0)]).await?;
    // Changed after version 2: d, e (3), a, f (4).
    walk_pages(s, &path, Some(2), 3, 2).await
}

async fn paging_exact_multiple(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("paged");
    write(
        s,
        &path,
        vec![
            replace("a", "1", 0),
            replace("b", "1", 0),
            replace("c", "1", 0),
            replace("d", "1", 0),
        ],
    )
    .await?;
    walk_pages(s, &path, None, 2, 2).await
}

async fn paging_with_tombstones(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    write(s, &path, vec![remove("b", 1), remove("d", 3)]).await?;
    walk_pages(s, &path, None, 2, 3).await?;
    walk_pages(s, &path, Some(3), 1, 2).await
}

async fn max_results_above_cap(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    list_from(s, &path, None, Some(5000)).await?;
    Ok(())
}

async fn max_results_zero_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        max_results: Some(0),
        ..ListRecordsRequest::default()
    };
    list_intended(
        s,
        request,
        TokenChoice::Missing,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn garbage_next_token_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        max_results: Some(2),
        next_token: Some("bm90LWEtcmVhbC1uZXh0LXRva2Vu".to_owned()),
        ..ListRecordsRequest::default()
    };
    list_intended(
        s,
        request,
        TokenChoice::Missing,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn every_page_carries_token(s: &mut Session) -> Result<(), Stop> {
    let path = five_records(s, "paged").await?;
    walk_pages(s, &path, None, 1, 5).await?;
    write(s, &path, vec![replace("c", "new", 2)]).await?;
    s.list(&path).await?;
    Ok(())
}

async fn always_carries_flags(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    s.list(&path).await?;
    write(s, &path, vec![replace("a", "1", 0), replace("b", "1", 0)]).await?;
    walk_pages(s, &path, None, 1, 2).await?;
    list_from(s, &path, Some(1), None).await?;
    Ok(())
}

async fn sync_session_token_valid(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    s.list(&path).await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        ..ListRecordsRequest::default()
    };
    list_intended(s, request.clone(), TokenChoice::Latest, Intent::Success).await?;
    // Spend the latest token on a conflicting write, then list with it, as iOS does.
    write_reusing_token(
        s,
        &path,
        vec![replace("a", "2", 0)],
        Intent::Error(ErrorKind::ResourceConflict),
    )
    .await?;
    list_intended(s, request, TokenChoice::Latest, Intent::Success).await?;
    Ok(())
}

async fn sync_session_token_garbage(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("prefs");
    write(s, &path, vec![replace("a", "1", 0)]).await?;
    let request = ListRecordsRequest {
        path: path.clone(),
        ..ListRecordsRequest::default()
    };
    list_intended(
        s,
        request,
        TokenChoice::Garbage,
        Intent::Error(ErrorKind::InvalidParameter),
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}
