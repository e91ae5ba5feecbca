//! The model's state: what a conforming endpoint must remember, and nothing it may forget.
//!
//! Dates are not kept: the model only checks that an endpoint sends them as numbers.

use std::collections::BTreeMap;

use crate::spec::Timestamp;

/// (IdentityPoolId, IdentityId): DATA-1 scopes identities by pool.
pub(crate) type IdentityKey = (String, String);

/// One identity. Its entry exists once it has created a dataset (AMB-X-UNKNOWN-IDENTITY).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct IdentityState {
    /// Every dataset ever written, live or deleted.
    pub(crate) datasets: BTreeMap<String, DatasetState>,
}

impl IdentityState {
    /// LIM-1 and DS-5 count live datasets only.
    pub(crate) fn live_datasets(&self) -> impl Iterator<Item = (&String, &Incarnation)> {
        self.datasets
            .iter()
            .filter_map(|(name, dataset)| dataset.live.as_ref().map(|live| (name, live)))
    }
}

/// One dataset name across its incarnations (DS-3: a delete ends one, the next write starts
/// another).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct DatasetState {
    /// `None` before the first write and after a delete.
    pub(crate) live: Option<Incarnation>,
    /// The highest `DatasetSyncCount` any incarnation reached: a re-created dataset continues
    /// above it (AMB-RECREATE-COUNT reference).
    pub(crate) max_count_ever: i64,
    /// The highest count at which the dataset was deleted, if ever: DS-4's flag is set for a
    /// `lastSyncCount` at or below it.
    pub(crate) deleted_max_count: Option<i64>,
    /// What the endpoint did the last time it re-created this dataset.
    pub(crate) recreate: RecreateMode,
}

/// AMB-RECREATE-COUNT as learned from the endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) enum RecreateMode {
    /// Never re-created yet: both are allowed.
    #[default]
    Unknown,
    /// The reference: the first write of a new incarnation gets old max + 1.
    Continues,
    /// Allowed: the counter restarts at 1.
    Restarts,
}

/// A live dataset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Incarnation {
    /// DATA-2 `DatasetSyncCount`.
    pub(crate) sync_count: i64,
    /// Records and tombstones (UR-6), by key.
    pub(crate) records: BTreeMap<String, StoredRecord>,
    /// The last writer, as the reference server names it (AMB-LASTMODIFIEDBY).
    pub(crate) last_modified_by: String,
}

impl Incarnation {
    /// DS-1 `NumRecords`, LIM-2: live records, tombstones excluded.
    pub(crate) fn live_records(&self) -> usize {
        self.records.values().filter(|r| r.value.is_some()).count()
    }

    /// DS-1 `DataStorage`, LIM-3: UTF-8 bytes of live keys plus values.
    pub(crate) fn live_bytes(&self) -> u64 {
        self.records
            .iter()
            .filter_map(|(key, r)| r.value.as_ref().map(|v| key.len() + v.len()))
            .map(|n| n as u64)
            .sum()
    }

    /// AMB-TOMBSTONE-LIMIT alternative: tombstone keys count toward LIM-3 as well.
    pub(crate) fn bytes_with_tombstone_keys(&self) -> u64 {
        self.records
            .iter()
            .map(|(key, r)| key.len() + r.value.as_ref().map_or(0, String::len))
            .map(|n| n as u64)
            .sum()
    }
}

/// A record or tombstone (`value == None`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredRecord {
    pub(crate) value: Option<String>,
    pub(crate) sync_count: i64,
    /// UR-9: echoed exactly when the patch had one.
    pub(crate) device_last_modified_date: Option<Timestamp>,
    pub(crate) last_modified_by: String,
}

// Dates are finite numbers (never NaN), so equality is reflexive and a model state can key a
// hash set: the linearizability checker memoises the states it has visited.
impl Eq for StoredRecord {}

impl std::hash::Hash for StoredRecord {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
        self.sync_count.hash(state);
        self.device_last_modified_date.map(f64::to_bits).hash(state);
        self.last_modified_by.hash(state);
    }
}
