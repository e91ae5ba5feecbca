//! Durable state of the reference server: identities, datasets and records in SQLite.
//!
//! One connection behind a mutex. Every write is one `BEGIN IMMEDIATE` transaction that checks
//! conflicts and limits *and* writes, so concurrent writers can never lose an update and a
//! rejected request changes nothing (UR-3, ERR-3). Critical sections are a handful of
//! cached statements; no JSON is built and no `.await` happens while the lock is held.
//! Injected faults ([`Fault`]) and allowed variants ([`Variant`]) are switched at the point
//! where each one deviates.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use super::fault::Fault;
use super::parse::{DatasetRef, IdentityRef, Patch};
use super::rejection::Rejection;
use super::token::SECRET_LEN;
use super::variant::Variant;
use crate::spec::{DATASET_BYTES_MAX, DATASETS_PER_IDENTITY_MAX, RECORDS_PER_DATASET_MAX};

/// The schema. `datasets` rows are never deleted: a DeleteDataset clears `live` and keeps
/// `sync_count`, so a re-created dataset continues above the old count (AMB-RECREATE-COUNT)
/// and `deleted_count` (the highest count before the latest delete) tells ListRecords whether
/// a caller's copy predates the delete.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS identities (
    pool             TEXT NOT NULL,
    identity         TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (pool, identity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets (
    id               INTEGER PRIMARY KEY,
    pool             TEXT NOT NULL,
    identity         TEXT NOT NULL,
    name             TEXT NOT NULL,
    sync_count       INTEGER NOT NULL,
    live             INTEGER NOT NULL,
    creation_ms      INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    last_modified_by TEXT NOT NULL,
    num_records      INTEGER NOT NULL,
    data_storage     INTEGER NOT NULL,
    deleted_count    INTEGER,
    UNIQUE (pool, identity, name)
);
CREATE TABLE IF NOT EXISTS records (
    dataset_id           INTEGER NOT NULL REFERENCES datasets (id),
    key                  TEXT NOT NULL,
    value                TEXT,
    sync_count           INTEGER NOT NULL,
    last_modified_ms     INTEGER NOT NULL,
    last_modified_by     TEXT NOT NULL,
    device_last_modified REAL NOT NULL,
    bytes                INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_sync_count ON records (dataset_id, sync_count, key);
CREATE TABLE IF NOT EXISTS pool_sessions (
    pool  TEXT PRIMARY KEY,
    count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pool_config (
    pool            TEXT PRIMARY KEY,
    push_sync       TEXT,
    cognito_streams TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pool_events (
    pool  TEXT NOT NULL,
    event TEXT NOT NULL,
    arn   TEXT NOT NULL,
    PRIMARY KEY (pool, event)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    pool      TEXT NOT NULL,
    identity  TEXT NOT NULL,
    platform  TEXT NOT NULL,
    token     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_by_token ON devices (pool, identity, platform, token);
CREATE TABLE IF NOT EXISTS subscriptions (
    pool      TEXT NOT NULL,
    identity  TEXT NOT NULL,
    dataset   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (pool, identity, dataset, device_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bulk_publish (
    pool        TEXT PRIMARY KEY,
    start_ms    INTEGER NOT NULL,
    complete_ms INTEGER
) WITHOUT ROWID;
";

const SECRET_NAME: &str = "token_secret";

/// A record as stored; `value` is `None` for a tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub key: String,
    pub value: Option<String>,
    pub sync_count: i64,
    pub last_modified_ms: i64,
    pub last_modified_by: String,
    /// Epoch seconds, exactly as the client sent them (UR-9).
    pub device_last_modified: f64,
}

/// A live dataset's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetMeta {
    pub name: String,
    pub creation_ms: i64,
    pub last_modified_ms: i64,
    pub last_modified_by: String,
    pub data_storage: i64,
    pub num_records: i64,
}

/// What ListRecords learns about the dataset besides its records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsPage {
    pub exists: bool,
    /// 0 when the dataset does not exist (LR-2).
    pub sync_count: i64,
    pub last_modified_by: Option<String>,
    /// The highest count before the latest delete, if the dataset was ever deleted.
    pub deleted_count: Option<i64>,
    /// Up to `limit + 1` records, so the caller knows whether another page follows.
    pub records: Vec<StoredRecord>,
    /// Records matching on all pages; counted only under the count-is-total variant.
    pub total: Option<i64>,
}

/// What ListDatasets reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetsPage {
    /// Up to `limit + 1` live datasets, so the caller knows whether another page follows.
    pub datasets: Vec<DatasetMeta>,
    /// Live datasets on all pages; counted only under the count-is-total variant.
    pub total: Option<i64>,
}

/// A patched key's state before a patch: as stored, or as an earlier patch of the same request
/// left it (two patches of one key are applied in order under the dup-key-applied-in-order
/// variant).
#[derive(Debug, Clone, Copy)]
enum KeyState {
    Absent,
    Tombstone,
    /// A live record and its LIM-3 bytes.
    Live(i64),
}

/// An identity's usage across its live datasets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityUsageRow {
    pub last_modified_ms: i64,
    pub dataset_count: i64,
    pub data_storage: i64,
}

/// Where a ListRecords page starts: after this (SyncCount, Key).
#[derive(Debug, Clone, Copy)]
pub struct RecordsAfter<'a> {
    pub sync_count: i64,
    pub key: &'a str,
}

/// The reference server's storage.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    persistent: bool,
    fault: Option<Fault>,
    variant: Option<Variant>,
}

/// How much of an UpdateRecords one lock section does. Always [`Section::Whole`], except
/// under the lost-update-race fault, which splits the check from the write, and the
/// conflict-before-token variant, which checks conflicts alone first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Whole,
    ConflictsOnly,
    CheckOnly,
    WriteUnchecked,
}

/// ListRecords' page query; the tombstones-hidden fault adds `AND value IS NOT NULL`.
macro_rules! records_page_sql {
    ($extra:literal) => {
        concat!(
            "SELECT key, value, sync_count, last_modified_ms, last_modified_by,
                 device_last_modified
             FROM records
             WHERE dataset_id = ?1 AND sync_count > ?2 AND (sync_count, key) > (?3, ?4)",
            $extra,
            "
             ORDER BY sync_count, key LIMIT ?5"
        )
    };
}

impl Store {
    /// Opens (and creates) a file database, or an in-memory one when `path` is `None`.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Store> {
        let conn = match path {
            Some(path) => {
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store {
            conn: Mutex::new(conn),
            persistent: path.is_some(),
            fault: None,
            variant: None,
        })
    }

    /// The same store with an allowed variant (see [`Variant`]); `None` keeps the reference
    /// choices.
    pub fn with_variant(mut self, variant: Option<Variant>) -> Store {
        self.variant = variant;
        self
    }

    pub(super) fn variant_is(&self, variant: Variant) -> bool {
        self.variant == Some(variant)
    }

    /// The same store with an injected fault (see [`Fault`]); `None` keeps it correct.
    pub fn with_fault(mut self, fault: Option<Fault>) -> Store {
        self.fault = fault;
        self
    }

    pub(super) fn fault_is(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic cannot leave a half-done write behind: an open transaction rolls back on drop.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token secret: kept in a file database so tokens survive a restart, fresh for an
    /// in-memory one.
    pub fn token_secret(&self) -> rusqlite::Result<[u8; SECRET_LEN]> {
        let fresh: [u8; SECRET_LEN] = rand::random();
        if !self.persistent {
            return Ok(fresh);
        }
        let conn = self.lock();
        conn.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",
            params![SECRET_NAME, &fresh[..]],
        )?;
        let stored: Vec<u8> = conn.query_row(
            "SELECT value FROM meta WHERE name = ?1",
            params![SECRET_NAME],
            |row| row.get(0),
        )?;
        Ok(stored.try_into().unwrap_or(fresh))
    }

    /// Step 6 alone, changing nothing: the conflict-before-token variant's first check.
    pub fn check_conflicts(
        &self,
        dataset: &DatasetRef,
        patches: &[Patch],
    ) -> Result<(), Rejection> {
        if patches.is_empty() {
            return Ok(());
        }
        let conn = self.lock();
        self.update_records_locked(&conn, dataset, "", patches, 0, Section::ConflictsOnly)
            .map(|_| ())
    }

    /// Steps 6–7 alone (conflicts, then limits), changing nothing: an UpdateRecords' checks
    /// before its SyncTrigger call.
    pub fn check_update(&self, dataset: &DatasetRef, patches: &[Patch]) -> Result<(), Rejection> {
        if patches.is_empty() {
            return Ok(());
        }
        let conn = self.lock();
        self.update_records_locked(&conn, dataset, "", patches, 0, Section::CheckOnly)
            .map(|_| ())
    }

    /// UpdateRecords steps 6–7 and the write, atomically. Returns the new dataset count; every
    /// patched key now has it as its SyncCount (DATA-3). `patches` must be non-empty; two
    /// patches of one key are applied in order, both checked against the count before the
    /// request.
    pub fn update_records(
        &self,
        dataset: &DatasetRef,
        writer: &str,
        patches: &[Patch],
        now_ms: i64,
    ) -> Result<i64, Rejection> {
        if self.fault_is(Fault::LostUpdateRace) {
            return self.update_records_racy(dataset, writer, patches, now_ms);
        }
        let conn = self.lock();
        self.update_records_locked(&conn, dataset, writer, patches, now_ms, Section::Whole)
    }

    /// The lost-update-race fault: the check and the write in two lock sections, with a pause
    /// between them in which another writer can pass the same check.
    fn update_records_racy(
        &self,
        dataset: &DatasetRef,
        writer: &str,
        patches: &[Patch],
        now_ms: i64,
    ) -> Result<i64, Rejection> {
        {
            let conn = self.lock();
            self.update_records_locked(
                &conn,
                dataset,
                writer,
                patches,
                now_ms,
                Section::CheckOnly,
            )?;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        let conn = self.lock();
        self.update_records_locked(
            &conn,
            dataset,
            writer,
            patches,
            now_ms,
            Section::WriteUnchecked,
        )
    }

    fn update_records_locked(
        &self,
        conn: &Connection,
        dataset: &DatasetRef,
        writer: &str,
        patches: &[Patch],
        now_ms: i64,
        section: Section,
    ) -> Result<i64, Rejection> {
        let tx = ImmediateTx::begin(conn)?;
        let (pool, identity, name) = (
            dataset.pool.as_str(),
            dataset.identity.as_str(),
            dataset.dataset.as_str(),
        );
        let row: Option<(i64, i64, bool, i64, i64)> = tx
            .prepare_cached(
                "SELECT id, sync_count, live, num_records, data_storage FROM datasets
                 WHERE pool = ?1 AND identity = ?2 AND name = ?3",
            )?
            .query_row(params![pool, identity, name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let (mut num_records, mut data_storage) = match row {
            Some((_, _, true, num, bytes)) => (num, bytes),
            _ => (0, 0),
        };
        let live_id = match row {
            Some((id, _, true, _, _)) => Some(id),
            _ => None,
        };
        // Under the partial-batch fault: the conflict answered after the patches before it.
        let mut partial_batch_conflict = None;
        let mut patches = patches;
        // Tombstones and their keys' bytes, kept only for the tombstones-count-toward-limits
        // variant.
        let (mut tombstones, mut tombstone_bytes) = match live_id {
            Some(id) if self.variant_is(Variant::TombstonesCountTowardLimits) => tx
                .prepare_cached(
                    "SELECT count(*), coalesce(sum(length(CAST(key AS BLOB))), 0) FROM records
                     WHERE dataset_id = ?1 AND value IS NULL",
                )?
                .query_row(params![id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?,
            _ => (0, 0),
        };
        let mut earlier: HashMap<&str, KeyState> = HashMap::new();

        // Step 6: conflicts, first patch in request order (UR-2, UR-4).
        {
            let mut current = tx.prepare_cached(
                "SELECT sync_count, bytes, value IS NOT NULL FROM records
                 WHERE dataset_id = ?1 AND key = ?2",
            )?;
            for (index, patch) in patches.iter().enumerate() {
                let old: Option<(i64, i64, bool)> = match live_id {
                    Some(id) => current
                        .query_row(params![id, patch.key.as_str()], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .optional()?,
                    None => None,
                };
                let current_count = old.map_or(0, |(count, _, _)| count);
                let current_count = match old {
                    Some((_, _, false)) if self.fault_is(Fault::RecreateDemandsZero) => 0,
                    _ => current_count,
                };
                if patch.sync_count != current_count
                    && section != Section::WriteUnchecked
                    && !self.fault_accepts_mismatch(&tx, live_id, row, patch, current_count)?
                {
                    let conflict =
                        Rejection::conflict(patch.key.as_str(), current_count, patch.sync_count);
                    if self.fault_is(Fault::PartialBatch) && index > 0 {
                        partial_batch_conflict = Some(conflict);
                        patches = patches.get(..index).unwrap_or_default();
                        break;
                    }
                    return Err(conflict);
                }
                let key = patch.key.as_str();
                let key_bytes = i64::try_from(key.len()).unwrap_or(i64::MAX);
                let before = earlier.get(key).copied().unwrap_or(match old {
                    Some((_, bytes, true)) => KeyState::Live(bytes),
                    Some((_, _, false)) => KeyState::Tombstone,
                    None => KeyState::Absent,
                });
                match before {
                    KeyState::Live(bytes) => {
                        num_records -= 1;
                        data_storage -= bytes;
                    }
                    KeyState::Tombstone => {
                        tombstones -= 1;
                        tombstone_bytes -= key_bytes;
                    }
                    KeyState::Absent => {}
                }
                let after = match &patch.value {
                    Some(value) => {
                        let bytes = self.live_bytes(key, value);
                        num_records += 1;
                        data_storage += bytes;
                        KeyState::Live(bytes)
                    }
                    None => {
                        tombstones += 1;
                        tombstone_bytes += key_bytes;
                        KeyState::Tombstone
                    }
                };
                earlier.insert(key, after);
            }
        }
        if section == Section::ConflictsOnly {
            return Ok(0);
        }
        // AMB-TOMBSTONE-LIMIT: whether tombstones count toward LIM-2 and LIM-3.
        let (limit_records, limit_bytes) = if self.variant_is(Variant::TombstonesCountTowardLimits)
        {
            (num_records + tombstones, data_storage + tombstone_bytes)
        } else {
            (num_records, data_storage)
        };

        // Step 7: limits, judged on the state the request would produce.
        if live_id.is_none() {
            let live_datasets: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM datasets WHERE pool = ?1 AND identity = ?2 AND live = 1",
                )?
                .query_row(params![pool, identity], |r| r.get(0))?;
            if live_datasets >= DATASETS_PER_IDENTITY_MAX as i64
                && !(self.fault_is(Fault::DatasetLimitOffByOne)
                    && live_datasets == DATASETS_PER_IDENTITY_MAX as i64)
            {
                return Err(Rejection::limit_exceeded(format!(
                    "Dataset limit exceeded: an identity may have at most \
                     {DATASETS_PER_IDENTITY_MAX} datasets"
                )));
            }
        }
        if limit_records > RECORDS_PER_DATASET_MAX as i64
            && !(self.fault_is(Fault::RecordLimitOffByOne)
                && limit_records == RECORDS_PER_DATASET_MAX as i64 + 1)
        {
            return Err(Rejection::limit_exceeded(format!(
                "Record limit exceeded: a dataset may have at most {RECORDS_PER_DATASET_MAX} records"
            )));
        }
        if limit_bytes > DATASET_BYTES_MAX as i64 {
            return Err(Rejection::limit_exceeded(format!(
                "Storage limit exceeded: a dataset may hold at most {DATASET_BYTES_MAX} bytes"
            )));
        }

        if section == Section::CheckOnly {
            return Ok(0);
        }

        // The write. AMB-RECREATE-COUNT: a re-created dataset continues above its old count, or
        // restarts at 1 under the recreate-count-restarts variant.
        let old_count = match row {
            Some((_, _, false, _, _)) if self.variant_is(Variant::RecreateCountRestarts) => 0,
            Some((_, count, _, _, _)) => count,
            None => 0,
        };
        let new_count = old_count
            .checked_add(1)
            .ok_or_else(|| Rejection::internal("dataset SyncCount overflow"))?;
        let new_count = match self.fault {
            Some(Fault::DoubleBump) => new_count.saturating_add(1),
            Some(Fault::NoBumpOnRemoveOnly) if patches.iter().all(|p| p.value.is_none()) => {
                old_count
            }
            _ => new_count,
        };
        let keep_modified = self.fault_is(Fault::LastModifiedIgnoresRemoves)
            && patches.iter().all(|p| p.value.is_none());
        let dataset_id = match row {
            Some((id, ..)) => {
                tx.prepare_cached(
                    "UPDATE datasets SET sync_count = ?2, live = 1,
                         creation_ms = CASE WHEN live = 1 THEN creation_ms ELSE ?3 END,
                         last_modified_ms = CASE WHEN ?7 AND live = 1 THEN last_modified_ms
                                                 ELSE ?3 END,
                         last_modified_by = ?4,
                         num_records = ?5, data_storage = ?6
                     WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    new_count,
                    now_ms,
                    writer,
                    num_records,
                    data_storage,
                    keep_modified
                ])?;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO datasets (pool, identity, name, sync_count, live, creation_ms,
                         last_modified_ms, last_modified_by, num_records, data_storage)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    pool,
                    identity,
                    name,
                    new_count,
                    now_ms,
                    writer,
                    num_records,
                    data_storage
                ])?;
                tx.last_insert_rowid()
            }
        };
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO records (dataset_id, key, value, sync_count, last_modified_ms,
                     last_modified_by, device_last_modified, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (dataset_id, key) DO UPDATE SET
                     value = excluded.value, sync_count = excluded.sync_count,
                     last_modified_ms = excluded.last_modified_ms,
                     last_modified_by = excluded.last_modified_by,
                     device_last_modified = excluded.device_last_modified,
                     bytes = excluded.bytes",
            )?;
            let now_secs = now_ms as f64 / 1000.0;
            for patch in patches {
                let key = patch.key.as_str();
                let bytes = patch
                    .value
                    .as_deref()
                    .map_or(0, |v| self.live_bytes(key, v));
                let record_count = if self.fault_is(Fault::PerRecordCounter) {
                    patch.sync_count.saturating_add(1)
                } else {
                    new_count
                };
                upsert.execute(params![
                    dataset_id,
                    key,
                    patch.value.as_deref(),
                    record_count,
                    now_ms,
                    writer,
                    patch.device_last_modified_date.unwrap_or(now_secs),
                    bytes
                ])?;
            }
        }
        touch_identity(&tx, pool, identity, now_ms)?;
        tx.commit()?;
        if let Some(conflict) = partial_batch_conflict {
            return Err(conflict);
        }
        Ok(new_count)
    }

    /// The sync-count faults: whether a patch whose SyncCount differs from its key's current
    /// count is let through. `row` is the dataset's (id, sync_count, live, ..).
    fn fault_accepts_mismatch(
        &self,
        conn: &Connection,
        live_id: Option<i64>,
        row: Option<(i64, i64, bool, i64, i64)>,
        patch: &Patch,
        current: i64,
    ) -> rusqlite::Result<bool> {
        let sent = patch.sync_count;
        Ok(match self.fault {
            Some(Fault::StaleAccepted) => sent < current,
            Some(Fault::HigherAccepted) => sent > current,
            Some(Fault::GreaterOrEqualAccepted) => {
                let dataset_count = match row {
                    Some((_, count, true, _, _)) => count,
                    _ => 0,
                };
                sent >= dataset_count
            }
            Some(Fault::StaleAcceptedWhenValueUnchanged) if sent < current => {
                let stored: Option<Option<String>> = match live_id {
                    Some(id) => conn
                        .prepare_cached(
                            "SELECT value FROM records WHERE dataset_id = ?1 AND key = ?2",
                        )?
                        .query_row(params![id, patch.key.as_str()], |r| r.get(0))
                        .optional()?,
                    None => None,
                };
                stored.is_some_and(|value| value == patch.value)
            }
            _ => false,
        })
    }

    /// LIM-3's measure of a live record; the size-in-chars fault counts characters.
    fn live_bytes(&self, key: &str, value: &str) -> i64 {
        if self.fault_is(Fault::SizeInChars) {
            let chars = key.chars().count().saturating_add(value.chars().count());
            return i64::try_from(chars).unwrap_or(i64::MAX);
        }
        live_bytes(key, value)
    }

    /// ListRecords' read: the dataset's state and up to `limit + 1` records with SyncCount
    /// above `last_sync_count`, after `after`, ordered by (SyncCount, Key).
    ///
    /// Answers LR-3 itself, because only here is the dataset's count known.
    pub fn list_records(
        &self,
        dataset: &DatasetRef,
        last_sync_count: i64,
        after: Option<RecordsAfter<'_>>,
        limit: usize,
    ) -> Result<RecordsPage, Rejection> {
        let conn = self.lock();
        let row: Option<(i64, i64, bool, String, Option<i64>)> = conn
            .prepare_cached(
                "SELECT id, sync_count, live, last_modified_by, deleted_count FROM datasets
                 WHERE pool = ?1 AND identity = ?2 AND name = ?3",
            )?
            .query_row(
                params![
                    dataset.pool.as_str(),
                    dataset.identity.as_str(),
                    dataset.dataset.as_str()
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((id, sync_count, true, last_modified_by, deleted_count)) = row else {
            let deleted_count = row.as_ref().and_then(|r| r.4);
            // A dataset never written (after a delete, DS-4 decides the answer).
            if self.variant_is(Variant::BeyondOnMissingRejected)
                && row.is_none()
                && last_sync_count > 0
            {
                return Err(no_such_sync_count(last_sync_count));
            }
            return Ok(RecordsPage {
                exists: self.fault_is(Fault::DatasetExistsTrueWhenUnwritten) && row.is_none(),
                sync_count: 0,
                last_modified_by: None,
                deleted_count,
                records: Vec::new(),
                total: None,
            });
        };
        // With a restarted counter, an N from before the latest delete names nothing of the
        // new incarnation: the caller gets all of it (DS-4).
        let last_sync_count = if self.variant_is(Variant::RecreateCountRestarts)
            && last_sync_count > 0
            && deleted_count.is_some_and(|deleted| last_sync_count <= deleted)
        {
            0
        } else {
            last_sync_count
        };
        if last_sync_count > sync_count && !self.fault_is(Fault::LastSyncCountAheadAccepted) {
            return Err(no_such_sync_count(last_sync_count));
        }
        let after = after.unwrap_or(RecordsAfter {
            sync_count: i64::MIN,
            key: "",
        });
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let mut stmt = if self.fault_is(Fault::TombstonesHidden) {
            conn.prepare_cached(records_page_sql!(" AND value IS NOT NULL"))?
        } else {
            conn.prepare_cached(records_page_sql!(""))?
        };
        let above = if self.fault_is(Fault::ListInclusive) {
            last_sync_count.saturating_sub(1)
        } else {
            last_sync_count
        };
        let records = stmt
            .query_map(
                params![id, above, after.sync_count, after.key, fetch],
                |r| {
                    Ok(StoredRecord {
                        key: r.get(0)?,
                        value: r.get(1)?,
                        sync_count: r.get(2)?,
                        last_modified_ms: r.get(3)?,
                        last_modified_by: r.get(4)?,
                        device_last_modified: r.get(5)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total = if self.variant_is(Variant::CountIsTotal) {
            Some(
                conn.prepare_cached(
                    "SELECT count(*) FROM records WHERE dataset_id = ?1 AND sync_count > ?2",
                )?
                .query_row(params![id, above], |r| r.get(0))?,
            )
        } else {
            None
        };
        Ok(RecordsPage {
            exists: true,
            sync_count,
            last_modified_by: Some(last_modified_by),
            deleted_count,
            records,
            total,
        })
    }

    /// A live dataset's metadata.
    pub fn describe_dataset(&self, dataset: &DatasetRef) -> Result<Option<DatasetMeta>, Rejection> {
        let conn = self.lock();
        if self.fault_is(Fault::DescribeAfterDelete200) {
            return Ok(select_dataset_even_deleted(&conn, dataset)?);
        }
        Ok(select_live_dataset(&conn, dataset)?.map(|(_, meta)| meta))
    }

    /// Up to `limit + 1` live datasets of an identity named after `after`, by name.
    pub fn list_datasets(
        &self,
        identity: &IdentityRef,
        after: Option<&str>,
        limit: usize,
    ) -> Result<DatasetsPage, Rejection> {
        let (pool, identity) = (identity.pool.as_str(), identity.identity.as_str());
        let conn = self.lock();
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(
            "SELECT name, creation_ms, last_modified_ms, last_modified_by, data_storage,
                 num_records
             FROM datasets
             WHERE pool = ?1 AND identity = ?2 AND live = 1 AND name > ?3
             ORDER BY name LIMIT ?4",
        )?;
        let rows = stmt
            .query_map(
                params![pool, identity, after.unwrap_or(""), fetch],
                meta_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total = if self.variant_is(Variant::CountIsTotal) {
            Some(
                conn.prepare_cached(
                    "SELECT count(*) FROM datasets WHERE pool = ?1 AND identity = ?2 AND live = 1",
                )?
                .query_row(params![pool, identity], |r| r.get(0))?,
            )
        } else {
            None
        };
        Ok(DatasetsPage {
            datasets: rows,
            total,
        })
    }

    /// Deletes a live dataset's records and marks it deleted, keeping its counter. Returns the
    /// metadata as it was, or `None` if there was no live dataset.
    pub fn delete_dataset(
        &self,
        dataset: &DatasetRef,
        now_ms: i64,
    ) -> Result<Option<DatasetMeta>, Rejection> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        let Some((id, meta)) = select_live_dataset(&tx, dataset)? else {
            return Ok(None);
        };
        match self.fault {
            Some(Fault::RecordsSurviveDelete) => {}
            Some(Fault::CounterRestartsAfterDelete) => {
                tx.prepare_cached(
                    "UPDATE records SET value = NULL, bytes = 0 WHERE dataset_id = ?1",
                )?
                .execute(params![id])?;
            }
            _ => {
                tx.prepare_cached("DELETE FROM records WHERE dataset_id = ?1")?
                    .execute(params![id])?;
            }
        }
        // The highest count, so that a counter that restarted after an earlier delete
        // (AMB-RECREATE-COUNT) still recognises counts from before it.
        // The pool-usage-ignores-deletes fault keeps the storage figure of the deleted dataset,
        // which only the pool usage reads (it sums every row, live or not, under that fault).
        tx.prepare_cached(
            "UPDATE datasets SET live = 0,
                 deleted_count = max(coalesce(deleted_count, 0), sync_count),
                 num_records = 0,
                 data_storage = CASE WHEN ?2 THEN data_storage ELSE 0 END
             WHERE id = ?1",
        )?
        .execute(params![id, self.fault_is(Fault::PoolUsageIgnoresDeletes)])?;
        if self.fault_is(Fault::CounterRestartsAfterDelete) {
            tx.prepare_cached("UPDATE datasets SET sync_count = 0 WHERE id = ?1")?
                .execute(params![id])?;
        }
        touch_identity(
            &tx,
            dataset.pool.as_str(),
            dataset.identity.as_str(),
            now_ms,
        )?;
        tx.commit()?;
        Ok(Some(meta))
    }

    /// Removes every row of an identity: its records, its datasets (deleted ones too) and its
    /// usage. No operation does this, since a DeleteDataset keeps the dataset's row
    /// (AMB-RECREATE-COUNT); the `model_vs_server` fuzz target does it after each input, so
    /// that one long-lived store does not grow with every input (SQLite reuses the freed
    /// pages).
    pub fn forget_identity(&self, pool: &str, identity: &str) -> rusqlite::Result<()> {
        let conn = self.lock();
        let tx = ImmediateTx::begin(&conn)?;
        tx.prepare_cached(
            "DELETE FROM records WHERE dataset_id IN
                 (SELECT id FROM datasets WHERE pool = ?1 AND identity = ?2)",
        )?
        .execute(params![pool, identity])?;
        tx.prepare_cached("DELETE FROM datasets WHERE pool = ?1 AND identity = ?2")?
            .execute(params![pool, identity])?;
        tx.prepare_cached("DELETE FROM identities WHERE pool = ?1 AND identity = ?2")?
            .execute(params![pool, identity])?;
        tx.prepare_cached("DELETE FROM subscriptions WHERE pool = ?1 AND identity = ?2")?
            .execute(params![pool, identity])?;
        tx.prepare_cached("DELETE FROM devices WHERE pool = ?1 AND identity = ?2")?
            .execute(params![pool, identity])?;
        tx.commit()
    }

    /// An identity's usage, or `None` if it never created a dataset.
    pub fn identity_usage(
        &self,
        identity: &IdentityRef,
    ) -> Result<Option<IdentityUsageRow>, Rejection> {
        let conn = self.lock();
        let (pool, identity) = (identity.pool.as_str(), identity.identity.as_str());
        let last_modified_ms: Option<i64> = conn
            .prepare_cached(
                "SELECT last_modified_ms FROM identities WHERE pool = ?1 AND identity = ?2",
            )?
            .query_row(params![pool, identity], |r| r.get(0))
            .optional()?;
        let Some(last_modified_ms) = last_modified_ms else {
            return Ok(None);
        };
        let (dataset_count, data_storage) = conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(data_storage), 0) FROM datasets
                 WHERE pool = ?1 AND identity = ?2 AND live = 1",
            )?
            .query_row(params![pool, identity], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Some(IdentityUsageRow {
            last_modified_ms,
            dataset_count,
            data_storage,
        }))
    }
}

/// A `BEGIN IMMEDIATE` transaction that rolls back unless committed. Unlike rusqlite's
/// `Transaction` its BEGIN and COMMIT are cached statements: parsing them anew on every write
/// was a visible share of the write path.
pub(super) struct ImmediateTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> ImmediateTx<'c> {
    pub(super) fn begin(conn: &'c Connection) -> rusqlite::Result<ImmediateTx<'c>> {
        if !conn.is_autocommit() {
            // A transaction left open by a failed ROLLBACK must not block every later write.
            conn.prepare_cached("ROLLBACK")?.execute([])?;
        }
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(ImmediateTx { conn, open: true })
    }

    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for ImmediateTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for ImmediateTx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            // Nothing better to do with a failed ROLLBACK than to leave the error to the next
            // BEGIN, which fails and answers InternalError.
            let _ = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut stmt| stmt.execute([]));
        }
    }
}

/// LR-3's refusal.
fn no_such_sync_count(last_sync_count: i64) -> Rejection {
    Rejection::invalid_parameter(format!(
        "No such SyncCount: {last_sync_count} exists for this Dataset"
    ))
}

/// LIM-3 counts UTF-8 bytes of live keys plus values.
fn live_bytes(key: &str, value: &str) -> i64 {
    i64::try_from(key.len().saturating_add(value.len())).unwrap_or(i64::MAX)
}

fn touch_identity(
    conn: &Connection,
    pool: &str,
    identity: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO identities (pool, identity, last_modified_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (pool, identity) DO UPDATE
             SET last_modified_ms = max(last_modified_ms, excluded.last_modified_ms)",
    )?
    .execute(params![pool, identity, now_ms])?;
    Ok(())
}

fn meta_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DatasetMeta> {
    Ok(DatasetMeta {
        name: r.get(0)?,
        creation_ms: r.get(1)?,
        last_modified_ms: r.get(2)?,
        last_modified_by: r.get(3)?,
        data_storage: r.get(4)?,
        num_records: r.get(5)?,
    })
}

fn select_live_dataset(
    conn: &Connection,
    dataset: &DatasetRef,
) -> rusqlite::Result<Option<(i64, DatasetMeta)>> {
    conn.prepare_cached(
        "SELECT name, creation_ms, last_modified_ms, last_modified_by, data_storage,
             num_records, id
         FROM datasets WHERE pool = ?1 AND identity = ?2 AND name = ?3 AND live = 1",
    )?
    .query_row(
        params![
            dataset.pool.as_str(),
            dataset.identity.as_str(),
            dataset.dataset.as_str()
        ],
        |r| Ok((r.get(6)?, meta_from_row(r)?)),
    )
    .optional()
}

/// The describe-after-delete-200 fault's lookup: the dataset row whether live or deleted.
fn select_dataset_even_deleted(
    conn: &Connection,
    dataset: &DatasetRef,
) -> rusqlite::Result<Option<DatasetMeta>> {
    conn.prepare_cached(
        "SELECT name, creation_ms, last_modified_ms, last_modified_by, data_storage,
             num_records
         FROM datasets WHERE pool = ?1 AND identity = ?2 AND name = ?3",
    )?
    .query_row(
        params![
            dataset.pool.as_str(),
            dataset.identity.as_str(),
            dataset.dataset.as_str()
        ],
        meta_from_row,
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ErrorKind, Operation, RecordKey};

    const NOW: i64 = 1_700_000_000_000;

    fn dataset(name: &str) -> DatasetRef {
        DatasetRef {
            pool: "us-east-1:0a".try_into().expect("pool"),
            identity: "us-east-1:0b".try_into().expect("identity"),
            dataset: name.try_into().expect("name"),
        }
    }

    fn identity() -> IdentityRef {
        let d = dataset("x");
        IdentityRef {
            pool: d.pool,
            identity: d.identity,
        }
    }

    fn replace(key: &str, value: &str, sync_count: i64) -> Patch {
        Patch {
            op: Operation::Replace,
            key: RecordKey::try_from(key).expect("key"),
            value: Some(value.to_owned()),
            sync_count,
            device_last_modified_date: None,
        }
    }

    fn remove(key: &str, sync_count: i64) -> Patch {
        Patch {
            op: Operation::Remove,
            key: RecordKey::try_from(key).expect("key"),
            value: None,
            sync_count,
            device_last_modified_date: Some(12.5),
        }
    }

    fn all_records(store: &Store, d: &DatasetRef) -> RecordsPage {
        store.list_records(d, 0, None, 10_000).expect("list")
    }

    #[test]
    fn a_conflict_anywhere_in_the_batch_changes_nothing() {
        let store = Store::open(None).expect("open");
        let d = dataset("ds");
        assert_eq!(
            store.update_records(&d, "dev", &[replace("a", "1", 0)], NOW),
            Ok(1)
        );
        let before = all_records(&store, &d);
        let before_meta = store.describe_dataset(&d).expect("describe");

        let err = store
            .update_records(
                &d,
                "dev",
                &[replace("b", "2", 0), replace("a", "3", 0)],
                NOW + 1,
            )
            .expect_err("conflict");
        assert_eq!(err.kind, ErrorKind::ResourceConflict);
        assert_eq!(err.message, "Current SyncCount for: a is: 1 not: 0");
        assert_eq!(all_records(&store, &d), before);
        assert_eq!(store.describe_dataset(&d).expect("describe"), before_meta);
        // A higher count is a conflict too (UR-2).
        let err = store
            .update_records(&d, "dev", &[replace("a", "3", 2)], NOW + 1)
            .expect_err("conflict");
        assert_eq!(err.message, "Current SyncCount for: a is: 1 not: 2");
    }

    #[test]
    fn a_rejected_first_write_does_not_create_the_dataset() {
        let store = Store::open(None).expect("open");
        let d = dataset("ds");
        assert!(
            store
                .update_records(&d, "dev", &[replace("a", "1", 5)], NOW)
                .is_err()
        );
        assert_eq!(store.describe_dataset(&d).expect("describe"), None);
        assert_eq!(store.identity_usage(&identity()).expect("usage"), None);
    }

    #[test]
    fn tombstones_keep_their_count_and_are_listed() {
        let store = Store::open(None).expect("open");
        let d = dataset("ds");
        store
            .update_records(&d, "dev", &[replace("a", "1", 0)], NOW)
            .expect("write");
        assert_eq!(
            store.update_records(&d, "dev", &[remove("a", 1), remove("never", 0)], NOW),
            Ok(2)
        );
        let page = all_records(&store, &d);
        assert_eq!(page.sync_count, 2);
        assert!(
            page.records
                .iter()
                .all(|r| r.value.is_none() && r.sync_count == 2)
        );
        assert_eq!(page.records[0].device_last_modified, 12.5);
        let meta = store
            .describe_dataset(&d)
            .expect("describe")
            .expect("exists");
        assert_eq!((meta.num_records, meta.data_storage), (0, 0));
        // Writing a removed key again needs the tombstone's count (UR-7).
        assert!(
            store
                .update_records(&d, "dev", &[replace("a", "x", 0)], NOW)
                .is_err()
        );
        assert_eq!(
            store.update_records(&d, "dev", &[replace("a", "x", 2)], NOW),
            Ok(3)
        );
    }

    #[test]
    fn the_counter_continues_after_delete_and_re_create() {
        let store = Store::open(None).expect("open");
        let d = dataset("ds");
        store
            .update_records(&d, "dev", &[replace("a", "1", 0)], NOW)
            .expect("write");
        store
            .update_records(&d, "dev", &[replace("a", "2", 1)], NOW)
            .expect("write");
        let meta = store
            .delete_dataset(&d, NOW + 5)
            .expect("delete")
            .expect("existed");
        assert_eq!(meta.num_records, 1);
        assert_eq!(store.delete_dataset(&d, NOW + 5).expect("delete"), None);

        let gone = all_records(&store, &d);
        assert!(!gone.exists);
        assert_eq!((gone.sync_count, gone.deleted_count), (0, Some(2)));
        // Every key's count is 0 again, the dataset count continues.
        assert_eq!(
            store.update_records(&d, "dev", &[replace("a", "3", 0)], NOW + 9),
            Ok(3)
        );
        let again = store
            .describe_dataset(&d)
            .expect("describe")
            .expect("exists");
        assert_eq!(again.creation_ms, NOW + 9);
        let usage = store
            .identity_usage(&identity())
            .expect("usage")
            .expect("known");
        assert_eq!((usage.dataset_count, usage.last_modified_ms), (1, NOW + 9));
    }

    #[test]
    fn limits_are_judged_on_the_state_the_request_would_produce() {
        let store = Store::open(None).expect("open");
        for i in 0..DATASETS_PER_IDENTITY_MAX {
            store
                .update_records(
                    &dataset(&format!("d{i:02}")),
                    "dev",
                    &[replace("k", "v", 0)],
                    NOW,
                )
                .expect("within limit");
        }
        let err = store
            .update_records(&dataset("one-more"), "dev", &[replace("k", "v", 0)], NOW)
            .expect_err("21st dataset");
        assert_eq!(err.kind, ErrorKind::LimitExceeded);
        store.delete_dataset(&dataset("d00"), NOW).expect("delete");
        assert!(
            store
                .update_records(&dataset("one-more"), "dev", &[replace("k", "v", 0)], NOW)
                .is_ok()
        );

        let d = dataset("d01");
        let big = "v".repeat(600_000);
        assert!(
            store
                .update_records(&d, "dev", &[replace("a", &big, 0)], NOW)
                .is_ok()
        );
        let err = store
            .update_records(&d, "dev", &[replace("b", &big, 0)], NOW)
            .expect_err("over 1 MiB");
        assert_eq!(err.kind, ErrorKind::LimitExceeded);
        // Replacing the big value frees its bytes first.
        assert!(
            store
                .update_records(&d, "dev", &[remove("a", 2), replace("b", &big, 0)], NOW)
                .is_ok()
        );

        let d = dataset("d02");
        let patches: Vec<Patch> = (0..RECORDS_PER_DATASET_MAX)
            .map(|i| replace(&format!("k{i}"), "", 0))
            .collect();
        let err = store
            .update_records(&d, "dev", &patches, NOW)
            .expect_err("1025 records with the existing k");
        assert_eq!(err.kind, ErrorKind::LimitExceeded);
        let mut patches = patches;
        patches.push(remove("k", 1));
        assert!(
            store.update_records(&d, "dev", &patches, NOW).is_ok(),
            "tombstones do not count"
        );
    }

    #[test]
    fn paging_resumes_after_the_last_position() {
        let store = Store::open(None).expect("open");
        let d = dataset("ds");
        store
            .update_records(
                &d,
                "dev",
                &[replace("b", "1", 0), replace("a", "1", 0)],
                NOW,
            )
            .expect("write");
        store
            .update_records(&d, "dev", &[replace("c", "1", 0)], NOW)
            .expect("write");
        let first = store.list_records(&d, 0, None, 1).expect("list");
        let keys: Vec<_> = first.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["a", "b"],
            "limit + 1 rows, ordered by (SyncCount, Key)"
        );
        let after = RecordsAfter {
            sync_count: 1,
            key: "a",
        };
        let rest = store.list_records(&d, 0, Some(after), 10).expect("list");
        let keys: Vec<_> = rest.records.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["b", "c"]);
        let newer = store.list_records(&d, 1, None, 10).expect("list");
        assert_eq!(newer.records.len(), 1);
        let err = store.list_records(&d, 3, None, 10).expect_err("LR-3");
        assert_eq!(err.message, "No such SyncCount: 3 exists for this Dataset");
    }

    #[test]
    fn a_file_database_survives_reopening_with_its_secret() {
        let path = std::env::temp_dir().join(format!(
            "cogsync-store-{}-{}.db",
            std::process::id(),
            rand::random::<u64>()
        ));
        let d = dataset("ds");
        let secret = {
            let store = Store::open(Some(&path)).expect("open");
            store
                .update_records(&d, "dev", &[replace("a", "1", 0)], NOW)
                .expect("write");
            store.token_secret().expect("secret")
        };
        {
            let store = Store::open(Some(&path)).expect("reopen");
            assert_eq!(store.token_secret().expect("secret"), secret);
            let page = all_records(&store, &d);
            assert_eq!(page.sync_count, 1);
            assert_eq!(page.records[0].value.as_deref(), Some("1"));
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }

    #[test]
    fn in_memory_stores_get_fresh_secrets() {
        let store = Store::open(None).expect("open");
        assert_ne!(
            store.token_secret().expect("a"),
            store.token_secret().expect("b")
        );
    }
}
