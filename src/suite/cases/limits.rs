//! Limits: datasets per identity, records per dataset, bytes per dataset (SPEC §6).

use super::support::{call_intended, write, write_rejected};
use crate::model::Call;
use crate::spec::{
    DATASET_BYTES_MAX, DATASETS_PER_IDENTITY_MAX, DeleteDatasetRequest, DescribeDatasetRequest,
    ErrorKind, ListDatasetsRequest, RECORDS_PER_DATASET_MAX, RecordPatch,
};
use crate::suite::session::{Intent, Session, dataset_of, remove, replace};
use crate::suite::verdict::Stop;

cases! {
    "limits.datasets.21st-rejected", Must, ["LIM-1", "ERR-2"],
    "The write that would create a 21st dataset is rejected",
    "With 20 datasets, creating another fails with 400 LimitExceededException while the 20 stay writable."
        => datasets_21st_rejected;

    "limits.datasets.delete-frees-a-slot", Must, ["LIM-1", "DS-3"],
    "Deleting a dataset makes room for another",
    "With 20 datasets, after one DeleteDataset a new dataset can be created."
        => datasets_delete_frees_slot;

    "limits.records.1025th-rejected", Must, ["LIM-2", "UR-3"],
    "The 1025th record is rejected",
    "A dataset filled with 1024 records in one request accepts no new key: the next write fails with 400 LimitExceededException."
        => records_1025th_rejected;

    "limits.records.batch-over-limit-rejected-whole", Must, ["LIM-2", "UR-3"],
    "A batch of 1025 new records is rejected whole",
    "One UpdateRecords with 1025 new keys fails with 400 LimitExceededException and does not create the dataset."
        => records_batch_over_limit;

    "limits.records.replace-at-limit-accepted", Must, ["LIM-2"],
    "A full dataset still accepts replaces",
    "With 1024 records, replacing existing keys succeeds: the record count does not grow."
        => records_replace_at_limit;

    "limits.bytes.exact-limit-accepted", Must, ["LIM-3"],
    "A dataset of exactly 1 MiB is accepted",
    "A record whose key and multi-byte value make exactly 1,048,576 UTF-8 bytes is stored."
        => bytes_exact_limit;

    "limits.bytes.one-byte-over-rejected", Must, ["LIM-3"],
    "One byte over 1 MiB is rejected",
    "A record of 1,048,577 UTF-8 bytes (524,288 two-byte characters) fails with 400 LimitExceededException, though it has far fewer characters."
        => bytes_one_over;

    "limits.bytes.across-records-rejected", Must, ["LIM-3", "UR-3"],
    "The byte limit is per dataset, counted in UTF-8",
    "Two records of 600,001 bytes each exceed 1 MiB together: the second write fails with 400 LimitExceededException."
        => bytes_across_records;

    "limits.bytes.remove-frees-space", Must, ["LIM-3", "UR-6"],
    "Removing a large record frees its space",
    "After the large record is removed, a write that was over the limit succeeds."
        => bytes_remove_frees_space;
}

fn many(count: usize, prefix: &str) -> Vec<RecordPatch> {
    (0..count)
        .map(|i| replace(&format!("{prefix}{i:04}"), "v", 0))
        .collect()
}

/// Fills an identity with the maximum number of datasets.
async fn fill_datasets(s: &mut Session) -> Result<crate::spec::IdentityPath, Stop> {
    let identity = s.identity();
    for i in 0..DATASETS_PER_IDENTITY_MAX {
        let path = dataset_of(&identity, &format!("set-{i:02}"));
        write(s, &path, vec![replace("k", "v", 0)]).await?;
    }
    Ok(identity)
}

async fn datasets_21st_rejected(s: &mut Session) -> Result<(), Stop> {
    let identity = fill_datasets(s).await?;
    let extra = dataset_of(&identity, "one-too-many");
    write_rejected(
        s,
        &extra,
        vec![replace("k", "v", 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    s.list(&extra).await?;
    let existing = dataset_of(&identity, "set-00");
    write(s, &existing, vec![replace("k", "w", 1)]).await?;
    let call = Call::ListDatasets(ListDatasetsRequest {
        path: identity,
        max_results: None,
        next_token: None,
    });
    call_intended(s, call, Intent::Success).await?;
    Ok(())
}

async fn datasets_delete_frees_slot(s: &mut Session) -> Result<(), Stop> {
    let identity = fill_datasets(s).await?;
    let gone = dataset_of(&identity, "set-07");
    let delete = Call::DeleteDataset(DeleteDatasetRequest { path: gone });
    call_intended(s, delete, Intent::Success).await?;
    let extra = dataset_of(&identity, "newcomer");
    write(s, &extra, vec![replace("k", "v", 0)]).await?;
    let call = Call::ListDatasets(ListDatasetsRequest {
        path: identity,
        max_results: None,
        next_token: None,
    });
    call_intended(s, call, Intent::Success).await?;
    Ok(())
}

async fn records_1025th_rejected(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write(s, &path, many(RECORDS_PER_DATASET_MAX, "k")).await?;
    write_rejected(
        s,
        &path,
        vec![replace("one-more", "v", 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn records_batch_over_limit(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write_rejected(
        s,
        &path,
        many(RECORDS_PER_DATASET_MAX + 1, "k"),
        ErrorKind::LimitExceeded,
    )
    .await?;
    s.list(&path).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path });
    call_intended(s, describe, Intent::Error(ErrorKind::ResourceNotFound)).await?;
    Ok(())
}

async fn records_replace_at_limit(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write(s, &path, many(RECORDS_PER_DATASET_MAX, "k")).await?;
    write(
        s,
        &path,
        vec![replace("k0000", "w", 1), replace("k1023", "w", 1)],
    )
    .await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

/// Key "k" (1 byte) plus `chars_2` two-byte characters plus `tail` ASCII bytes.
fn big_value(chars_2: usize, tail: usize) -> String {
    let mut value = "é".repeat(chars_2);
    value.push_str(&"x".repeat(tail));
    value
}

async fn bytes_exact_limit(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    // 1 + 2 * 524,287 + 1 = 1,048,576 bytes.
    let value = big_value((DATASET_BYTES_MAX as usize - 2) / 2, 1);
    write(s, &path, vec![replace("k", &value, 0)]).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

async fn bytes_one_over(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write(s, &path, vec![replace("small", "v", 0)]).await?;
    // 1 + 2 * 524,288 = 1,048,577 bytes, with only the small record's 6 bytes besides.
    let value = big_value(DATASET_BYTES_MAX as usize / 2, 0);
    write_rejected(
        s,
        &path,
        vec![replace("k", &value, 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    s.list(&path).await?;
    Ok(())
}

async fn bytes_across_records(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write(s, &path, vec![replace("a", &"x".repeat(600_000), 0)]).await?;
    write_rejected(
        s,
        &path,
        vec![replace("b", &big_value(300_000, 0), 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}

async fn bytes_remove_frees_space(s: &mut Session) -> Result<(), Stop> {
    let path = s.dataset("big");
    write(s, &path, vec![replace("a", &"x".repeat(600_000), 0)]).await?;
    let b = big_value(300_000, 0);
    write_rejected(
        s,
        &path,
        vec![replace("b", &b, 0)],
        ErrorKind::LimitExceeded,
    )
    .await?;
    write(s, &path, vec![remove("a", 1)]).await?;
    write(s, &path, vec![replace("b", &b, 0)]).await?;
    let describe = Call::DescribeDataset(DescribeDatasetRequest { path });
    call_intended(s, describe, Intent::Success).await?;
    Ok(())
}
