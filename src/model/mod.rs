//! The reference model (the oracle) of the Cognito Sync dataset API.
//!
//! Given the state it has learned so far and one [`Call`], the model predicts every outcome a
//! conforming endpoint may choose ([`Model::expect`]), reference first; judges what the endpoint
//! actually answered ([`Expectation::judge`]); and advances along the outcome the endpoint took
//! ([`Model::advance`]), so that later predictions follow the endpoint's own allowed choices.
//!
//! Pure, synchronous and deterministic: no HTTP, no JSON, no clock (time is passed in), no
//! randomness. Written slow and obviously right: ordered maps and clones. It reads SPEC.md and
//! docs/reference-choices.md on its own; it never looks at the reference server.

mod eval;
mod judge;
mod pool;
mod state;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use crate::spec::{
    DatasetPath, DeleteDatasetRequest, DeleteDatasetResponse, DescribeDatasetRequest,
    DescribeDatasetResponse, DescribeIdentityUsageRequest, DescribeIdentityUsageResponse,
    ErrorKind, IdentityPath, ListDatasetsRequest, ListDatasetsResponse, ListRecordsRequest,
    ListRecordsResponse, Timestamp, UpdateRecordsRequest, UpdateRecordsResponse,
};

pub use judge::{
    Expectation, Expected, ExpectedDataset, ExpectedRecord, ExpectedRecordList, ExpectedUsage,
    Judgement, Mismatch, Outcome,
};

pub use pool::{
    BulkState, ExpectedPoolUsage, PoolExpectation, PoolExpected, PoolObserved, PoolOutcome,
    configuration_violations, pool_of,
};

use state::{IdentityKey, IdentityState};

/// What the model holds under one key of a dataset ([`Model::record_state`]), with its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Absent,
    Live(i64),
    Tombstone(i64),
}

/// What the model knows of one endpoint: (pool, identity) → identity state → dataset name →
/// dataset state. Deleted datasets stay in the map (without records) because their old counter
/// decides the next incarnation's counter (AMB-RECREATE-COUNT) and the DS-4 flag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Model {
    identities: BTreeMap<IdentityKey, IdentityState>,
    /// What the eleven pool-level operations stored, by pool (spec §11).
    pools: BTreeMap<String, pool::PoolState>,
}

/// One model step, as the suite drives it: one operation with its typed request.
///
/// Page walks (ListRecords, ListDatasets) are one step: the suite sends the first page and
/// follows `NextToken` to the end, and the model judges all pages together.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `request.body.sync_session_token` is ignored: `token` says what the caller sent, since
    /// only the suite knows where its token came from.
    UpdateRecords {
        request: UpdateRecordsRequest,
        token: TokenClaim,
    },
    /// A whole page walk: the first page with `request.max_results` / `last_sync_count`, then
    /// `NextToken` to the end. If `request.next_token` is `Some`, the caller sends that
    /// never-issued token on the first page, which must be rejected (400 InvalidParameter).
    /// `request.sync_session_token` is ignored; `token` says what was sent
    /// ([`TokenClaim::Missing`] is the common case: the parameter is optional here).
    ListRecords {
        request: ListRecordsRequest,
        token: TokenClaim,
    },
    DescribeDataset(DescribeDatasetRequest),
    /// A whole page walk, as for ListRecords; `request.next_token` is a never-issued token.
    ListDatasets(ListDatasetsRequest),
    DeleteDataset(DeleteDatasetRequest),
    DescribeIdentityUsage(DescribeIdentityUsageRequest),
}

/// What the caller claims about the `SyncSessionToken` it sent: the model cannot read tokens
/// (they are opaque), so the suite says where its token came from (UR-8).
#[derive(Debug, Clone, PartialEq)]
pub enum TokenClaim {
    /// No token sent.
    Missing,
    /// A string the endpoint never issued.
    Garbage,
    /// A token a ListRecords of `path` answered at `issued_at`; `used_before` says whether an
    /// UpdateRecords already carried it (AMB-TOKEN-REUSE).
    IssuedFor {
        path: DatasetPath,
        issued_at: Timestamp,
        used_before: bool,
    },
}

/// What the endpoint actually answered, built by the suite from HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// Any non-2xx answer. `kind` comes from the `x-amzn-ErrorType` header (ERR-1), `None`
    /// when the header is absent or names no known shape; `message` from the JSON body.
    Error {
        status: u16,
        kind: Option<ErrorKind>,
        message: Option<String>,
    },
    UpdateRecords(UpdateRecordsResponse),
    /// Every page of the walk, in order.
    ListRecords(Vec<ListRecordsResponse>),
    DescribeDataset(DescribeDatasetResponse),
    /// Every page of the walk, in order.
    ListDatasets(Vec<ListDatasetsResponse>),
    DeleteDataset(DeleteDatasetResponse),
    DescribeIdentityUsage(DescribeIdentityUsageResponse),
}

/// The open points of the behaviour (SPEC §8 and §11, plus docs/reference-choices.md `AMB-X-…`): a
/// judgement names the ones on which the endpoint chose a non-reference allowed outcome.
///
/// `AMB-LIST-INCLUSIVE` is withdrawn (LR-1 is `>` only); its name stays retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ambiguity {
    DupKey,
    EmptyPatches,
    EmptyValue,
    TokenReuse,
    TokenExpiry,
    Colon,
    ValidationCode,
    DeleteFlag,
    RecreateCount,
    TombstoneLimit,
    Order,
    Count,
    LastModifiedBy,
    UnchangedWrite,
    ListToken,
    NegativeLastSyncCount,
    MaxResults,
    PageSize,
    BadQuery,
    OtherOperations,
    ClientContext,
    OtherCredentials,
    PoolEmpty,
    UsageLag,
    ConfigMerge,
    ConfigEmpty,
    EventType,
    DeviceId,
    PushConfig,
    DeviceUnknown,
    SubscribeIdempotent,
    BulkNoStream,
    BulkTime,
    ErrorPrecedence,
    UnknownIdentity,
    NextToken,
    BeyondOnMissing,
    RemoveValue,
    UnknownRoute,
    HugeBody,
}

impl Ambiguity {
    /// Every ambiguity, in SPEC §8 order, then §11's, then the `AMB-X-…` rows.
    pub const ALL: [Ambiguity; 40] = [
        Ambiguity::DupKey,
        Ambiguity::EmptyPatches,
        Ambiguity::EmptyValue,
        Ambiguity::TokenReuse,
        Ambiguity::TokenExpiry,
        Ambiguity::Colon,
        Ambiguity::ValidationCode,
        Ambiguity::DeleteFlag,
        Ambiguity::RecreateCount,
        Ambiguity::TombstoneLimit,
        Ambiguity::Order,
        Ambiguity::Count,
        Ambiguity::LastModifiedBy,
        Ambiguity::UnchangedWrite,
        Ambiguity::ListToken,
        Ambiguity::NegativeLastSyncCount,
        Ambiguity::MaxResults,
        Ambiguity::PageSize,
        Ambiguity::BadQuery,
        Ambiguity::OtherOperations,
        Ambiguity::ClientContext,
        Ambiguity::OtherCredentials,
        Ambiguity::PoolEmpty,
        Ambiguity::UsageLag,
        Ambiguity::ConfigMerge,
        Ambiguity::ConfigEmpty,
        Ambiguity::EventType,
        Ambiguity::DeviceId,
        Ambiguity::PushConfig,
        Ambiguity::DeviceUnknown,
        Ambiguity::SubscribeIdempotent,
        Ambiguity::BulkNoStream,
        Ambiguity::BulkTime,
        Ambiguity::ErrorPrecedence,
        Ambiguity::UnknownIdentity,
        Ambiguity::NextToken,
        Ambiguity::BeyondOnMissing,
        Ambiguity::RemoveValue,
        Ambiguity::UnknownRoute,
        Ambiguity::HugeBody,
    ];

    /// The row's permanent ID, as reports print it.
    pub const fn id(self) -> &'static str {
        match self {
            Ambiguity::DupKey => "AMB-DUP-KEY",
            Ambiguity::EmptyPatches => "AMB-EMPTY-PATCHES",
            Ambiguity::EmptyValue => "AMB-EMPTY-VALUE",
            Ambiguity::TokenReuse => "AMB-TOKEN-REUSE",
            Ambiguity::TokenExpiry => "AMB-TOKEN-EXPIRY",
            Ambiguity::Colon => "AMB-COLON",
            Ambiguity::ValidationCode => "AMB-VALIDATION-CODE",
            Ambiguity::DeleteFlag => "AMB-DELETE-FLAG",
            Ambiguity::RecreateCount => "AMB-RECREATE-COUNT",
            Ambiguity::TombstoneLimit => "AMB-TOMBSTONE-LIMIT",
            Ambiguity::Order => "AMB-ORDER",
            Ambiguity::Count => "AMB-COUNT",
            Ambiguity::LastModifiedBy => "AMB-LASTMODIFIEDBY",
            Ambiguity::UnchangedWrite => "AMB-UNCHANGED-WRITE",
            Ambiguity::ListToken => "AMB-LIST-TOKEN",
            Ambiguity::NegativeLastSyncCount => "AMB-NEGATIVE-LAST-SYNC-COUNT",
            Ambiguity::MaxResults => "AMB-MAX-RESULTS",
            Ambiguity::PageSize => "AMB-PAGE-SIZE",
            Ambiguity::BadQuery => "AMB-BAD-QUERY",
            Ambiguity::OtherOperations => "AMB-OTHER-OPERATIONS",
            Ambiguity::ClientContext => "AMB-CLIENT-CONTEXT",
            Ambiguity::OtherCredentials => "AMB-OTHER-CREDENTIALS",
            Ambiguity::PoolEmpty => "AMB-POOL-EMPTY",
            Ambiguity::UsageLag => "AMB-USAGE-LAG",
            Ambiguity::ConfigMerge => "AMB-CONFIG-MERGE",
            Ambiguity::ConfigEmpty => "AMB-CONFIG-EMPTY",
            Ambiguity::EventType => "AMB-EVENT-TYPE",
            Ambiguity::DeviceId => "AMB-DEVICE-ID",
            Ambiguity::PushConfig => "AMB-PUSH-CONFIG",
            Ambiguity::DeviceUnknown => "AMB-DEVICE-UNKNOWN",
            Ambiguity::SubscribeIdempotent => "AMB-SUBSCRIBE-IDEMPOTENT",
            Ambiguity::BulkNoStream => "AMB-BULK-NO-STREAM",
            Ambiguity::BulkTime => "AMB-BULK-TIME",
            Ambiguity::ErrorPrecedence => "AMB-X-ERROR-PRECEDENCE",
            Ambiguity::UnknownIdentity => "AMB-X-UNKNOWN-IDENTITY",
            Ambiguity::NextToken => "AMB-X-NEXT-TOKEN",
            Ambiguity::BeyondOnMissing => "AMB-X-BEYOND-ON-MISSING",
            Ambiguity::RemoveValue => "AMB-X-REMOVE-VALUE",
            Ambiguity::UnknownRoute => "AMB-X-UNKNOWN-ROUTE",
            Ambiguity::HugeBody => "AMB-X-HUGE-BODY",
        }
    }

    /// Whether the specification states this row (SPEC §8) or only docs/reference-choices.md
    /// does because the specification says nothing about the situation (`AMB-X-…`).
    pub const fn stated(self) -> bool {
        !matches!(
            self,
            Ambiguity::ErrorPrecedence
                | Ambiguity::UnknownIdentity
                | Ambiguity::NextToken
                | Ambiguity::BeyondOnMissing
                | Ambiguity::RemoveValue
                | Ambiguity::UnknownRoute
                | Ambiguity::HugeBody
        )
    }
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Model {
    /// An endpoint with no data at all.
    pub fn new() -> Model {
        Model::default()
    }

    /// The set of allowed outcomes of `call` at time `now`, reference first. Does not change
    /// the model, so a caller may look before it sends.
    pub fn expect(&self, call: &Call, now: Timestamp) -> Expectation {
        eval::expect(self, call, now)
    }

    /// Advances along the allowed outcome the endpoint actually took (an index into
    /// `expectation.outcomes`, as [`Expectation::judge`] returns it). The expectation must come
    /// from [`Model::expect`] on this very state. An index out of range changes nothing.
    pub fn advance(&mut self, expectation: &Expectation, outcome: usize) {
        if let Some(outcome) = expectation.outcomes.get(outcome) {
            outcome.apply(self);
        }
    }

    /// expect + judge + advance: along the matched outcome, or along the reference one when the
    /// endpoint's answer is not allowed (the suite reports the mismatch and carries on).
    pub fn observe(&mut self, call: &Call, now: Timestamp, observed: &Observed) -> Judgement {
        let expectation = self.expect(call, now);
        let (judgement, matched) = expectation.judge(observed);
        self.advance(&expectation, matched.unwrap_or(0));
        judgement
    }

    /// DATA-2: the dataset's `DatasetSyncCount` in the model, 0 when it does not exist. Lets a
    /// generator build patches that do or do not conflict.
    pub fn dataset_sync_count(&self, path: &DatasetPath) -> i64 {
        self.live(path).map_or(0, |live| live.sync_count)
    }

    /// UR-4: the current count of `key` in the dataset (tombstones included), 0 when absent.
    pub fn record_sync_count(&self, path: &DatasetPath, key: &str) -> i64 {
        self.live(path)
            .and_then(|live| live.records.get(key))
            .map_or(0, |record| record.sync_count)
    }

    /// What the model holds under `key`: nothing, a live record or a tombstone (UR-6). Lets a
    /// fuzzer tell the state shapes it reached apart (a write on a tombstone, a stale count).
    pub fn record_state(&self, path: &DatasetPath, key: &str) -> RecordState {
        match self.live(path).and_then(|live| live.records.get(key)) {
            None => RecordState::Absent,
            Some(record) if record.value.is_some() => RecordState::Live(record.sync_count),
            Some(record) => RecordState::Tombstone(record.sync_count),
        }
    }

    /// How many records and tombstones changed after `sync_count` (what a ListRecords from
    /// there returns over all its pages), and the dataset's live record count.
    pub fn changed_since(&self, path: &DatasetPath, sync_count: i64) -> (usize, usize) {
        self.live(path).map_or((0, 0), |live| {
            let changed = live
                .records
                .values()
                .filter(|r| r.sync_count > sync_count)
                .count();
            (changed, live.live_records())
        })
    }

    /// Whether the dataset was deleted at least once (DS-4's flag may be due).
    pub fn ever_deleted(&self, path: &DatasetPath) -> bool {
        let key = (path.identity_pool_id.clone(), path.identity_id.clone());
        self.identities
            .get(&key)
            .and_then(|identity| identity.datasets.get(&path.dataset_name))
            .is_some_and(|dataset| dataset.deleted_max_count.is_some())
    }

    /// Whether the dataset exists (written and not deleted since).
    pub fn dataset_exists(&self, path: &DatasetPath) -> bool {
        self.live(path).is_some()
    }

    /// Names of the identity's live datasets, in name order.
    pub fn dataset_names(&self, path: &IdentityPath) -> Vec<String> {
        let key = (path.identity_pool_id.clone(), path.identity_id.clone());
        self.identities
            .get(&key)
            .map(|identity| {
                identity
                    .datasets
                    .iter()
                    .filter(|(_, dataset)| dataset.live.is_some())
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn live(&self, path: &DatasetPath) -> Option<&state::Incarnation> {
        let key = (path.identity_pool_id.clone(), path.identity_id.clone());
        self.identities
            .get(&key)?
            .datasets
            .get(&path.dataset_name)?
            .live
            .as_ref()
    }
}
