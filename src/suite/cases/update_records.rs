//! UpdateRecords: sync counts, conflicts, atomic batches, tombstones (SPEC §1–§2).

use crate::suite::session::{Session, Stop, replace};

cases! {
    "update-records.first-write.creates-dataset", Must, ["DATA-1", "DATA-3", "UR-1"],
    "A first write with SyncCount 0 creates the dataset",
    "The first successful UpdateRecords creates the dataset; its records get SyncCount 1."
        => first_write_creates_dataset;

    "update-records.sync-count.stale-rejected", Must, ["UR-2", "UR-3"],
    "A stale SyncCount is rejected with 409 and changes nothing",
    "A patch whose SyncCount is older than the key's current count fails with 409 ResourceConflictException and the dataset is unchanged."
        => stale_sync_count_rejected;
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
    s.update(&path, vec![replace("theme", "blue", 1)]).await?;
    s.list(&path).await?;
    Ok(())
}
