//! Deliberately injectable faults: one switch each, off unless `ServerConfig::fault` names one.
//!
//! Each fault is a small, realistic deviation from SPEC.md at one point of the reference
//! server, written from the spec alone. `cogsync mutants` serves with each fault in turn and
//! expects the conformance suite to catch every one, which shows the suite can see real bugs.
//! Names are permanent: reports and CI configurations refer to them, and a retired name is
//! never given to another fault.
//!
//! Retired: `dataset-name-colon-rejected` (AMB-COLON allows it), now the variant `colon-rejected`.

use std::fmt;
use std::str::FromStr;

/// One deviation of the reference server from SPEC.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    StaleAccepted,
    HigherAccepted,
    GreaterOrEqualAccepted,
    StaleAcceptedWhenValueUnchanged,
    PartialBatch,
    PerRecordCounter,
    NoBumpOnRemoveOnly,
    DoubleBump,
    CounterRestartsAfterDelete,
    TombstonesHidden,
    RecreateDemandsZero,
    RemovedKeysMissingFromResponse,
    ListInclusive,
    PagingSkipsOne,
    PagingRepeatsOne,
    MaxResultsIgnored,
    LastSyncCountAheadAccepted,
    DatasetExistsTrueWhenUnwritten,
    SessionTokenUnchecked,
    SessionTokenOptional,
    SessionTokenAnyDataset,
    IdentityUpperHexAccepted,
    KeyLengthOffByOne,
    DatasetLimitOffByOne,
    RecordLimitOffByOne,
    SizeInChars,
    ConflictAs400,
    ErrorTypeHeaderMissing,
    TimestampsAsStrings,
    InternalErrorOnNonAsciiKey,
    RecordsSurviveDelete,
    DescribeAfterDelete200,
    LostUpdateRace,
    KeysCaseFolded,
    KeysNfcNormalized,
    DatasetNamesCaseFolded,
    LastModifiedIgnoresRemoves,
    RecreateFlagMissing,
    ListSpentTokenRejected,
    DefaultPageSize100,
    EventsReplacedWhole,
    EventEmptyValueStored,
    ConfigStreamsDropped,
    PoolUsageIgnoresDeletes,
    PoolUsageOneIdentity,
    PoolListSkipsOne,
    BulkPublishDuplicateAccepted,
    BulkPublishNeverCompletes,
    SubscribeUnregisteredAccepted,
    RegisterDeviceBadPlatformAccepted,
}

impl Fault {
    /// Every fault, in a stable order (the order `--fault list` prints).
    pub const ALL: [Fault; 50] = [
        Fault::StaleAccepted,
        Fault::HigherAccepted,
        Fault::GreaterOrEqualAccepted,
        Fault::StaleAcceptedWhenValueUnchanged,
        Fault::PartialBatch,
        Fault::PerRecordCounter,
        Fault::NoBumpOnRemoveOnly,
        Fault::DoubleBump,
        Fault::CounterRestartsAfterDelete,
        Fault::TombstonesHidden,
        Fault::RecreateDemandsZero,
        Fault::RemovedKeysMissingFromResponse,
        Fault::ListInclusive,
        Fault::PagingSkipsOne,
        Fault::PagingRepeatsOne,
        Fault::MaxResultsIgnored,
        Fault::LastSyncCountAheadAccepted,
        Fault::DatasetExistsTrueWhenUnwritten,
        Fault::SessionTokenUnchecked,
        Fault::SessionTokenOptional,
        Fault::SessionTokenAnyDataset,
        Fault::IdentityUpperHexAccepted,
        Fault::KeyLengthOffByOne,
        Fault::DatasetLimitOffByOne,
        Fault::RecordLimitOffByOne,
        Fault::SizeInChars,
        Fault::ConflictAs400,
        Fault::ErrorTypeHeaderMissing,
        Fault::TimestampsAsStrings,
        Fault::InternalErrorOnNonAsciiKey,
        Fault::RecordsSurviveDelete,
        Fault::DescribeAfterDelete200,
        Fault::LostUpdateRace,
        Fault::KeysCaseFolded,
        Fault::KeysNfcNormalized,
        Fault::DatasetNamesCaseFolded,
        Fault::LastModifiedIgnoresRemoves,
        Fault::RecreateFlagMissing,
        Fault::ListSpentTokenRejected,
        Fault::DefaultPageSize100,
        Fault::EventsReplacedWhole,
        Fault::EventEmptyValueStored,
        Fault::ConfigStreamsDropped,
        Fault::PoolUsageIgnoresDeletes,
        Fault::PoolUsageOneIdentity,
        Fault::PoolListSkipsOne,
        Fault::BulkPublishDuplicateAccepted,
        Fault::BulkPublishNeverCompletes,
        Fault::SubscribeUnregisteredAccepted,
        Fault::RegisterDeviceBadPlatformAccepted,
    ];

    /// The permanent kebab-case name, as given to `cogsync serve --fault`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::StaleAccepted => "stale-accepted",
            Fault::HigherAccepted => "higher-accepted",
            Fault::GreaterOrEqualAccepted => "greater-or-equal-accepted",
            Fault::StaleAcceptedWhenValueUnchanged => "stale-accepted-when-value-unchanged",
            Fault::PartialBatch => "partial-batch",
            Fault::PerRecordCounter => "per-record-counter",
            Fault::NoBumpOnRemoveOnly => "no-bump-on-remove-only",
            Fault::DoubleBump => "double-bump",
            Fault::CounterRestartsAfterDelete => "counter-restarts-after-delete",
            Fault::TombstonesHidden => "tombstones-hidden",
            Fault::RecreateDemandsZero => "recreate-demands-zero",
            Fault::RemovedKeysMissingFromResponse => "removed-keys-missing-from-response",
            Fault::ListInclusive => "list-inclusive",
            Fault::PagingSkipsOne => "paging-skips-one",
            Fault::PagingRepeatsOne => "paging-repeats-one",
            Fault::MaxResultsIgnored => "max-results-ignored",
            Fault::LastSyncCountAheadAccepted => "last-sync-count-ahead-accepted",
            Fault::DatasetExistsTrueWhenUnwritten => "dataset-exists-true-when-unwritten",
            Fault::SessionTokenUnchecked => "session-token-unchecked",
            Fault::SessionTokenOptional => "session-token-optional",
            Fault::SessionTokenAnyDataset => "session-token-any-dataset",
            Fault::IdentityUpperHexAccepted => "identity-upper-hex-accepted",
            Fault::KeyLengthOffByOne => "key-length-off-by-one",
            Fault::DatasetLimitOffByOne => "dataset-limit-off-by-one",
            Fault::RecordLimitOffByOne => "record-limit-off-by-one",
            Fault::SizeInChars => "size-in-chars",
            Fault::ConflictAs400 => "conflict-as-400",
            Fault::ErrorTypeHeaderMissing => "error-type-header-missing",
            Fault::TimestampsAsStrings => "timestamps-as-strings",
            Fault::InternalErrorOnNonAsciiKey => "500-on-non-ascii-key",
            Fault::RecordsSurviveDelete => "records-survive-delete",
            Fault::DescribeAfterDelete200 => "describe-after-delete-200",
            Fault::LostUpdateRace => "lost-update-race",
            Fault::KeysCaseFolded => "keys-case-folded",
            Fault::KeysNfcNormalized => "keys-nfc-normalized",
            Fault::DatasetNamesCaseFolded => "dataset-names-case-folded",
            Fault::LastModifiedIgnoresRemoves => "last-modified-ignores-removes",
            Fault::RecreateFlagMissing => "recreate-flag-missing",
            Fault::ListSpentTokenRejected => "list-spent-token-rejected",
            Fault::DefaultPageSize100 => "default-page-size-100",
            Fault::EventsReplacedWhole => "events-replaced-whole",
            Fault::EventEmptyValueStored => "event-empty-value-stored",
            Fault::ConfigStreamsDropped => "config-streams-dropped",
            Fault::PoolUsageIgnoresDeletes => "pool-usage-ignores-deletes",
            Fault::PoolUsageOneIdentity => "pool-usage-one-identity",
            Fault::PoolListSkipsOne => "pool-list-skips-one",
            Fault::BulkPublishDuplicateAccepted => "bulk-publish-duplicate-accepted",
            Fault::BulkPublishNeverCompletes => "bulk-publish-never-completes",
            Fault::SubscribeUnregisteredAccepted => "subscribe-unregistered-accepted",
            Fault::RegisterDeviceBadPlatformAccepted => "register-device-bad-platform-accepted",
        }
    }

    /// One sentence: what the server does wrong, and the requirement it breaks.
    pub fn description(self) -> &'static str {
        match self {
            Fault::StaleAccepted => {
                "a patch whose SyncCount is lower than the key's current count is accepted (UR-2)"
            }
            Fault::HigherAccepted => {
                "a patch whose SyncCount is higher than the key's current count is accepted (UR-2)"
            }
            Fault::GreaterOrEqualAccepted => {
                "a patch whose SyncCount is >= the dataset's SyncCount is accepted whatever its \
                 key's current count, the check using >= against the wrong counter (UR-2)"
            }
            Fault::StaleAcceptedWhenValueUnchanged => {
                "a stale patch is accepted when its value equals the stored value (UR-2)"
            }
            Fault::PartialBatch => {
                "the patches before a conflicting one are applied and committed, then 409 (UR-3)"
            }
            Fault::PerRecordCounter => {
                "a written record gets its old SyncCount + 1 instead of the new DatasetSyncCount \
                 (DATA-3)"
            }
            Fault::NoBumpOnRemoveOnly => {
                "a request of removes only does not raise DatasetSyncCount; its tombstones keep \
                 the old dataset count (DATA-3, UR-6)"
            }
            Fault::DoubleBump => {
                "every write raises DatasetSyncCount by 2, records get the final value (DATA-3)"
            }
            Fault::CounterRestartsAfterDelete => {
                "DeleteDataset restarts the counter at 0 and keeps the records as tombstones, so \
                 after re-create an old key still demands its old SyncCount (DS-3, UR-4)"
            }
            Fault::TombstonesHidden => "ListRecords omits tombstones (LR-1, UR-6)",
            Fault::RecreateDemandsZero => {
                "writing a removed key needs SyncCount 0 instead of the tombstone's count (UR-7)"
            }
            Fault::RemovedKeysMissingFromResponse => {
                "the UpdateRecords response omits the removed keys (UR-5)"
            }
            Fault::ListInclusive => {
                "ListRecords returns records whose SyncCount is >= lastSyncCount rather than > \
                 (LR-1)"
            }
            Fault::PagingSkipsOne => {
                "each ListRecords NextToken points past the first record of the next page, which \
                 is never returned (LR-4)"
            }
            Fault::PagingRepeatsOne => {
                "each ListRecords page of 2+ records repeats the previous page's last record \
                 (LR-4)"
            }
            Fault::MaxResultsIgnored => {
                "ListRecords returns every matching record in one page whatever maxResults (LR-4)"
            }
            Fault::LastSyncCountAheadAccepted => {
                "lastSyncCount above DatasetSyncCount on an existing dataset answers 200 instead \
                 of 400 (LR-3)"
            }
            Fault::DatasetExistsTrueWhenUnwritten => {
                "ListRecords answers DatasetExists=true for a dataset never written (LR-2)"
            }
            Fault::SessionTokenUnchecked => {
                "UpdateRecords accepts any string as SyncSessionToken; a missing one is still \
                 refused (UR-8)"
            }
            Fault::SessionTokenOptional => {
                "UpdateRecords without SyncSessionToken is accepted (UR-8)"
            }
            Fault::SessionTokenAnyDataset => {
                "a SyncSessionToken issued for another dataset of the same identity is accepted \
                 (UR-8)"
            }
            Fault::IdentityUpperHexAccepted => {
                "upper-case hex in IdentityPoolId or IdentityId is accepted (read as lower case) \
                 instead of 400 (VAL-1)"
            }
            Fault::KeyLengthOffByOne => {
                "a record key of exactly 1024 characters is refused with 400 (VAL-1)"
            }
            Fault::DatasetLimitOffByOne => {
                "the write that creates an identity's 21st dataset is accepted (LIM-1)"
            }
            Fault::RecordLimitOffByOne => "a dataset may reach 1,025 live records (LIM-2)",
            Fault::SizeInChars => {
                "the 1 MiB dataset limit and DataStorage count characters instead of UTF-8 bytes \
                 (LIM-3)"
            }
            Fault::ConflictAs400 => {
                "a conflict is answered 400 ResourceConflictException instead of 409 (UR-2, ERR-2)"
            }
            Fault::ErrorTypeHeaderMissing => {
                "error answers carry no x-amzn-ErrorType header (ERR-1)"
            }
            Fault::TimestampsAsStrings => {
                "timestamps in success bodies are ISO-8601 strings, not epoch-second numbers \
                 (ERR-4)"
            }
            Fault::InternalErrorOnNonAsciiKey => {
                "an UpdateRecords with a non-ASCII key is answered 500 InternalErrorException \
                 (ERR-3)"
            }
            Fault::RecordsSurviveDelete => {
                "DeleteDataset keeps the records, which reappear when the dataset is re-created \
                 (DS-3)"
            }
            Fault::DescribeAfterDelete200 => {
                "DescribeDataset of a deleted dataset answers 200 with its metadata as kept at \
                 the delete instead of 404 (DS-1)"
            }
            Fault::LostUpdateRace => {
                "UpdateRecords checks counts and writes in two lock sections, so concurrent \
                 writers of one SyncCount can all succeed (UR-2, UR-3)"
            }
            Fault::KeysCaseFolded => {
                "record keys are folded to lower case, so `Score` and `score` are one record \
                 (DATA-1)"
            }
            Fault::KeysNfcNormalized => {
                "record keys are normalized to NFC (a combining acute joins its vowel), so NFD \
                 and NFC spellings are one record (DATA-1)"
            }
            Fault::DatasetNamesCaseFolded => {
                "dataset names are folded to lower case, so `Prefs` and `prefs` are one \
                 dataset (DATA-1)"
            }
            Fault::LastModifiedIgnoresRemoves => {
                "a write that only removes keys leaves the dataset's LastModifiedDate as it was \
                 (DS-1)"
            }
            Fault::RecreateFlagMissing => {
                "after a delete and a re-create, a lastSyncCount from before the delete gets no \
                 DatasetDeletedAfterRequestedSyncCount flag (DS-4)"
            }
            Fault::ListSpentTokenRejected => {
                "session tokens are single-use on ListRecords too: listing with a token an \
                 UpdateRecords used is refused, which breaks iOS conflict retries (AMB-LIST-TOKEN)"
            }
            Fault::DefaultPageSize100 => {
                "without maxResults, ListRecords serves pages of 100 records, which a client \
                 that never follows NextToken (iOS) misses the rest of (LR-4)"
            }
            Fault::EventsReplacedWhole => {
                "SetCognitoEvents replaces the pool's whole event map with the one sent instead \
                 of changing only the keys sent, so `{\"Events\": {}}` clears a set SyncTrigger \
                 (EVT-1)"
            }
            Fault::EventEmptyValueStored => {
                "SetCognitoEvents with an empty function ARN stores the empty string instead of \
                 removing the key, so GetCognitoEvents answers `{\"SyncTrigger\": \"\"}` (EVT-1)"
            }
            Fault::ConfigStreamsDropped => {
                "SetIdentityPoolConfiguration answers the CognitoStreams section it was sent but \
                 never stores it: GetIdentityPoolConfiguration has no (or the older) \
                 CognitoStreams (CFG-1, CFG-2)"
            }
            Fault::PoolUsageIgnoresDeletes => {
                "DescribeIdentityPoolUsage and ListIdentityPoolUsage still count the DataStorage \
                 a dataset had when it was deleted (POOL-1, POOL-2)"
            }
            Fault::PoolUsageOneIdentity => {
                "the pool's DataStorage counts only the datasets of the identity that wrote last, \
                 not the sum over every identity of the pool (POOL-1)"
            }
            Fault::PoolListSkipsOne => {
                "each ListIdentityPoolUsage NextToken points past the first pool of the next \
                 page, which is never listed (POOL-2)"
            }
            Fault::BulkPublishDuplicateAccepted => {
                "a BulkPublish while the pool's previous one is IN_PROGRESS is accepted (200, \
                 restarting it) instead of 400 DuplicateRequestException (BULK-1)"
            }
            Fault::BulkPublishNeverCompletes => {
                "a bulk publish stays IN_PROGRESS for ever: GetBulkPublishDetails never answers \
                 SUCCEEDED and has no BulkPublishCompleteTime (BULK-2)"
            }
            Fault::SubscribeUnregisteredAccepted => {
                "SubscribeToDataset and UnsubscribeFromDataset accept a DeviceId never registered \
                 for the identity (200) instead of refusing it (DEV-2)"
            }
            Fault::RegisterDeviceBadPlatformAccepted => {
                "RegisterDevice accepts a Platform outside APNS, APNS_SANDBOX, GCM, ADM and \
                 answers a DeviceId instead of 400 (DEV-1, VAL-1)"
            }
        }
    }

    /// Whether only concurrent requests can show the fault (sequential clients cannot).
    pub fn needs_concurrency(self) -> bool {
        self == Fault::LostUpdateRace
    }

    /// Whether the fault breaks only a SHOULD, so only a `--strict` run can fail it: a bulk
    /// publish may take any time (AMB-BULK-TIME), so one that never ends is only seen not to
    /// end within the case's wait.
    pub fn breaks_should_only(self) -> bool {
        self == Fault::BulkPublishNeverCompletes
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a fault's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {name:?}; valid faults: {}", valid_names())]
pub struct UnknownFault {
    pub name: String,
}

fn valid_names() -> String {
    Fault::ALL.map(Fault::name).join(", ")
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<Fault, UnknownFault> {
        Fault::ALL
            .into_iter()
            .find(|fault| fault.name() == name)
            .ok_or_else(|| UnknownFault {
                name: name.to_owned(),
            })
    }
}
