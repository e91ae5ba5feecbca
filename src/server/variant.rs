//! Allowed variants: one switch each, off unless `ServerConfig::variant` names one.
//!
//! A [`Fault`](super::Fault) is a bug the suite must catch; a variant is the opposite: a
//! deviation from the reference server's choices that SPEC.md allows (an AMB- row of §8, a
//! decoration ERR-1 permits, or a situation the spec leaves unstated), which the suite must
//! *not* fail. `cogsync mutants` serves with each variant in turn and expects a run without
//! FAIL or ERROR, which shows the suite is fair to servers that chose differently.
//! Each variant is one small switch at one point of the server. Names are permanent: reports
//! and CI configurations refer to them.

use std::fmt;
use std::str::FromStr;

/// One allowed deviation of the reference server from its own choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    DupKeyValidation,
    DupKeyAppliedInOrder,
    EmptyPatchesRejected,
    TokenSingleUse,
    ColonRejected,
    ValidationAsInvalidParameter,
    DeletedExistsFalseOnly,
    DeletedFlagExistsTrue,
    RecreateCountRestarts,
    TombstonesCountTowardLimits,
    ListsReverseOrder,
    CountIsTotal,
    LastModifiedByAbsent,
    ListTokenIgnored,
    NegativeLastSyncCountAsZero,
    MaxResultsBelowOneAsDefault,
    PagesOf50,
    BadQueryIgnored,
    OtherOperations403,
    UnknownIdentityZeros,
    GarbageNextTokenFirstPage,
    UnknownRoute403,
    HugeBody400,
    RemoveValueRejected,
    BeyondOnMissingRejected,
    ConflictBeforeToken,
    ErrorTypeWithSuffix,
    ErrorBodyWithType,
    ConnectionClose,
    Delay40ms,
    IntegerDates,
    ClientContextIgnored,
    OtherOperations404,
    PoolEmpty404,
    UsageLag,
    ConfigMergeClears,
    ConfigEmptyClears,
    EventTypeStored,
    NewDeviceIdEachTime,
    PushConfigNotRequired,
    DeviceUnknown400,
    UnsubscribeNotSubscribed404,
    BulkNoStreamInvalidConfiguration,
    BulkPublishInstant,
}

impl Variant {
    /// Every variant, in a stable order (the order `--variant list` prints).
    pub const ALL: [Variant; 44] = [
        Variant::DupKeyValidation,
        Variant::DupKeyAppliedInOrder,
        Variant::EmptyPatchesRejected,
        Variant::TokenSingleUse,
        Variant::ColonRejected,
        Variant::ValidationAsInvalidParameter,
        Variant::DeletedExistsFalseOnly,
        Variant::DeletedFlagExistsTrue,
        Variant::RecreateCountRestarts,
        Variant::TombstonesCountTowardLimits,
        Variant::ListsReverseOrder,
        Variant::CountIsTotal,
        Variant::LastModifiedByAbsent,
        Variant::ListTokenIgnored,
        Variant::NegativeLastSyncCountAsZero,
        Variant::MaxResultsBelowOneAsDefault,
        Variant::PagesOf50,
        Variant::BadQueryIgnored,
        Variant::OtherOperations403,
        Variant::UnknownIdentityZeros,
        Variant::GarbageNextTokenFirstPage,
        Variant::UnknownRoute403,
        Variant::HugeBody400,
        Variant::RemoveValueRejected,
        Variant::BeyondOnMissingRejected,
        Variant::ConflictBeforeToken,
        Variant::ErrorTypeWithSuffix,
        Variant::ErrorBodyWithType,
        Variant::ConnectionClose,
        Variant::Delay40ms,
        Variant::IntegerDates,
        Variant::ClientContextIgnored,
        Variant::OtherOperations404,
        Variant::PoolEmpty404,
        Variant::UsageLag,
        Variant::ConfigMergeClears,
        Variant::ConfigEmptyClears,
        Variant::EventTypeStored,
        Variant::NewDeviceIdEachTime,
        Variant::PushConfigNotRequired,
        Variant::DeviceUnknown400,
        Variant::UnsubscribeNotSubscribed404,
        Variant::BulkNoStreamInvalidConfiguration,
        Variant::BulkPublishInstant,
    ];

    /// The permanent kebab-case name, as given to `cogsync serve --variant`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::DupKeyValidation => "dup-key-validation",
            Variant::DupKeyAppliedInOrder => "dup-key-applied-in-order",
            Variant::EmptyPatchesRejected => "empty-patches-rejected",
            Variant::TokenSingleUse => "token-single-use",
            Variant::ColonRejected => "colon-rejected",
            Variant::ValidationAsInvalidParameter => "validation-as-invalid-parameter",
            Variant::DeletedExistsFalseOnly => "deleted-exists-false-only",
            Variant::DeletedFlagExistsTrue => "deleted-flag-exists-true",
            Variant::RecreateCountRestarts => "recreate-count-restarts",
            Variant::TombstonesCountTowardLimits => "tombstones-count-toward-limits",
            Variant::ListsReverseOrder => "lists-reverse-order",
            Variant::CountIsTotal => "count-is-total",
            Variant::LastModifiedByAbsent => "last-modified-by-absent",
            Variant::ListTokenIgnored => "list-token-ignored",
            Variant::NegativeLastSyncCountAsZero => "negative-last-sync-count-as-zero",
            Variant::MaxResultsBelowOneAsDefault => "max-results-below-one-as-default",
            Variant::PagesOf50 => "pages-of-50",
            Variant::BadQueryIgnored => "bad-query-ignored",
            Variant::OtherOperations403 => "other-operations-403",
            Variant::UnknownIdentityZeros => "unknown-identity-zeros",
            Variant::GarbageNextTokenFirstPage => "garbage-next-token-first-page",
            Variant::UnknownRoute403 => "unknown-route-403",
            Variant::HugeBody400 => "huge-body-400",
            Variant::RemoveValueRejected => "remove-value-rejected",
            Variant::BeyondOnMissingRejected => "beyond-on-missing-rejected",
            Variant::ConflictBeforeToken => "conflict-before-token",
            Variant::ErrorTypeWithSuffix => "error-type-with-suffix",
            Variant::ErrorBodyWithType => "error-body-with-type",
            Variant::ConnectionClose => "connection-close",
            Variant::Delay40ms => "delay-40ms",
            Variant::IntegerDates => "integer-dates",
            Variant::ClientContextIgnored => "client-context-ignored",
            Variant::OtherOperations404 => "other-operations-404",
            Variant::PoolEmpty404 => "pool-empty-404",
            Variant::UsageLag => "usage-lag",
            Variant::ConfigMergeClears => "config-merge-clears",
            Variant::ConfigEmptyClears => "config-empty-clears",
            Variant::EventTypeStored => "event-type-stored",
            Variant::NewDeviceIdEachTime => "new-device-id-each-time",
            Variant::PushConfigNotRequired => "push-config-not-required",
            Variant::DeviceUnknown400 => "device-unknown-400",
            Variant::UnsubscribeNotSubscribed404 => "unsubscribe-not-subscribed-404",
            Variant::BulkNoStreamInvalidConfiguration => "bulk-no-stream-invalid-configuration",
            Variant::BulkPublishInstant => "bulk-publish-instant",
        }
    }

    /// One sentence: what the server does instead of the reference choice, and the spec row
    /// (or "unstated") that allows it.
    pub fn description(self) -> &'static str {
        match self {
            Variant::DupKeyValidation => {
                "two patches for one key in one UpdateRecords are refused with 400 \
                 ValidationException instead of InvalidParameterException (AMB-DUP-KEY)"
            }
            Variant::DupKeyAppliedInOrder => {
                "two patches for one key in one UpdateRecords are both applied in request order, \
                 one record listed per patch, the last one wins (AMB-DUP-KEY)"
            }
            Variant::EmptyPatchesRejected => {
                "UpdateRecords with RecordPatches absent or [] is refused with 400 \
                 InvalidParameterException (AMB-EMPTY-PATCHES)"
            }
            Variant::TokenSingleUse => {
                "a SyncSessionToken is spent by the UpdateRecords that passes its check; a later \
                 UpdateRecords with it gets 400, ListRecords still accepts it (AMB-TOKEN-REUSE)"
            }
            Variant::ColonRejected => {
                "a DatasetName with ':' is refused with 400 ValidationException on every dataset \
                 operation (AMB-COLON)"
            }
            Variant::ValidationAsInvalidParameter => {
                "every ValidationException is sent as 400 InvalidParameterException \
                 (AMB-VALIDATION-CODE)"
            }
            Variant::DeletedExistsFalseOnly => {
                "ListRecords(N>0) of a deleted dataset answers DatasetExists=false with \
                 DatasetDeletedAfterRequestedSyncCount=false (AMB-DELETE-FLAG)"
            }
            Variant::DeletedFlagExistsTrue => {
                "ListRecords(N>0) of a deleted dataset answers DatasetExists=true with \
                 DatasetDeletedAfterRequestedSyncCount=true and no records (AMB-DELETE-FLAG)"
            }
            Variant::RecreateCountRestarts => {
                "a dataset re-created after a delete restarts its counter at 1; a ListRecords \
                 whose N predates the delete gets the flag and every record \
                 (AMB-RECREATE-COUNT, DS-4)"
            }
            Variant::TombstonesCountTowardLimits => {
                "tombstones count as records toward LIM-2 and their keys' bytes toward LIM-3 \
                 (AMB-TOMBSTONE-LIMIT)"
            }
            Variant::ListsReverseOrder => {
                "each ListRecords and ListDatasets page lists its items in reverse of the \
                 reference order (AMB-ORDER)"
            }
            Variant::CountIsTotal => {
                "Count of ListRecords and ListDatasets is the number of matching items across \
                 all pages, not this page's (AMB-COUNT)"
            }
            Variant::LastModifiedByAbsent => {
                "LastModifiedBy is left out of every record, ListRecords reply and dataset \
                 (AMB-LASTMODIFIEDBY)"
            }
            Variant::ListTokenIgnored => {
                "ListRecords ignores its syncSessionToken query parameter, garbage included \
                 (AMB-LIST-TOKEN)"
            }
            Variant::NegativeLastSyncCountAsZero => {
                "ListRecords reads a negative lastSyncCount as 0 (AMB-NEGATIVE-LAST-SYNC-COUNT)"
            }
            Variant::MaxResultsBelowOneAsDefault => {
                "maxResults below 1 on ListRecords and ListDatasets is read as absent \
                 (AMB-MAX-RESULTS)"
            }
            Variant::PagesOf50 => {
                "an explicit maxResults is clamped to 50 on ListRecords and ListDatasets; \
                 without it one page still holds everything (AMB-PAGE-SIZE)"
            }
            Variant::BadQueryIgnored => {
                "an optional list query parameter with malformed percent-encoding or an \
                 unreadable value is ignored as if absent (AMB-BAD-QUERY)"
            }
            Variant::OtherOperations403 => {
                "the service's 11 operations outside the dataset API are answered 403 \
                 NotAuthorizedException (AMB-OTHER-OPERATIONS)"
            }
            Variant::UnknownIdentityZeros => {
                "DescribeIdentityUsage of an identity that never created a dataset answers 200 \
                 with zero counts (AMB-X-UNKNOWN-IDENTITY)"
            }
            Variant::GarbageNextTokenFirstPage => {
                "a nextToken that fails its check is ignored and the first page served, on \
                 ListRecords and ListDatasets (unstated by the spec; LR-4, DS-2)"
            }
            Variant::UnknownRoute403 => {
                "a route outside the service's 17 answers 403 MissingAuthenticationTokenException \
                 as API-Gateway-fronted services do (unstated by the spec; ERR-1)"
            }
            Variant::HugeBody400 => {
                "a body over the size cap is answered 400 SerializationException instead of 413 \
                 (unstated by the spec; ERR-2)"
            }
            Variant::RemoveValueRejected => {
                "a remove patch that carries a Value is refused with 400 ValidationException \
                 (unstated by the spec; VAL-1)"
            }
            Variant::BeyondOnMissingRejected => {
                "ListRecords with lastSyncCount > 0 on a dataset that was never written \
                 answers 400 No such SyncCount, not 200 (unstated by the spec; LR-2, LR-3)"
            }
            Variant::ConflictBeforeToken => {
                "UpdateRecords checks SyncCount conflicts before the session token, so a \
                 conflict with a bad token is 409 (AMB-X-ERROR-PRECEDENCE)"
            }
            Variant::ErrorTypeWithSuffix => {
                "every x-amzn-ErrorType header carries the ':http://internal.amazon.com/coral/...' \
                 suffix AWS services send (ERR-1)"
            }
            Variant::ErrorBodyWithType => {
                "every error body's __type carries the service namespace, \
                 'com.amazonaws.cognitosync#<Shape>' (ERR-1)"
            }
            Variant::ConnectionClose => {
                "every response carries Connection: close and the connection is closed after it \
                 (ERR-3)"
            }
            Variant::Delay40ms => {
                "every response is sent 40 ms late, without holding up other connections \
                 (unstated by the spec)"
            }
            Variant::IntegerDates => {
                "CreationDate and LastModifiedDate are sent as whole epoch seconds (JSON \
                 integers), not with milliseconds (ERR-4)"
            }
            Variant::ClientContextIgnored => {
                "an x-amz-Client-Context that is not base64 of UTF-8 is ignored instead of \
                 refused 400 InvalidParameterException (AMB-CLIENT-CONTEXT)"
            }
            Variant::OtherOperations404 => {
                "the service's 11 operations outside the dataset API are answered as unknown \
                 routes, 404 UnknownOperationException (AMB-OTHER-OPERATIONS)"
            }
            Variant::PoolEmpty404 => {
                "DescribeIdentityPoolUsage, GetIdentityPoolConfiguration, GetCognitoEvents and \
                 GetBulkPublishDetails of a pool with nothing stored answer 404 \
                 ResourceNotFoundException (AMB-POOL-EMPTY)"
            }
            Variant::UsageLag => {
                "pool usage is recomputed at most every 5 seconds, so DescribeIdentityPoolUsage \
                 and ListIdentityPoolUsage may answer figures up to 5 s old (AMB-USAGE-LAG)"
            }
            Variant::ConfigMergeClears => {
                "SetIdentityPoolConfiguration clears a section the request leaves out instead of \
                 keeping it (AMB-CONFIG-MERGE)"
            }
            Variant::ConfigEmptyClears => {
                "SetIdentityPoolConfiguration clears a section sent as {} instead of storing it \
                 empty (AMB-CONFIG-EMPTY)"
            }
            Variant::EventTypeStored => {
                "SetCognitoEvents stores an event type other than SyncTrigger instead of refusing \
                 it (AMB-EVENT-TYPE)"
            }
            Variant::NewDeviceIdEachTime => {
                "RegisterDevice answers a new DeviceId each time, also for an identity, platform \
                 and token registered before; every id returned stays valid (AMB-DEVICE-ID)"
            }
            Variant::PushConfigNotRequired => {
                "RegisterDevice succeeds without a PushSync ApplicationArns entry for the \
                 platform (AMB-PUSH-CONFIG)"
            }
            Variant::DeviceUnknown400 => {
                "SubscribeToDataset and UnsubscribeFromDataset with a DeviceId not registered for \
                 the identity answer 400 InvalidParameterException instead of 404 \
                 (AMB-DEVICE-UNKNOWN)"
            }
            Variant::UnsubscribeNotSubscribed404 => {
                "UnsubscribeFromDataset of a registered device that is not subscribed answers 404 \
                 ResourceNotFoundException (AMB-SUBSCRIBE-IDEMPOTENT)"
            }
            Variant::BulkNoStreamInvalidConfiguration => {
                "BulkPublish without a Cognito stream configured answers 400 \
                 InvalidConfigurationException instead of InvalidParameterException \
                 (AMB-BULK-NO-STREAM)"
            }
            Variant::BulkPublishInstant => {
                "a bulk publish succeeds at once: GetBulkPublishDetails answers SUCCEEDED right \
                 after BulkPublish, and a second BulkPublish gets AlreadyStreamed (AMB-BULK-TIME)"
            }
        }
    }

    /// The SPEC.md (or `docs/reference-choices.md` `AMB-X-…`) IDs whose checks this variant
    /// exercises; empty when the variant tests the harness rather than a requirement.
    pub fn covers(self) -> &'static [&'static str] {
        match self {
            Variant::DupKeyValidation => &["AMB-DUP-KEY", "UR-3"],
            Variant::DupKeyAppliedInOrder => &["AMB-DUP-KEY", "DATA-3", "UR-5"],
            Variant::EmptyPatchesRejected => &["AMB-EMPTY-PATCHES", "UR-3"],
            Variant::TokenSingleUse => &["AMB-TOKEN-REUSE", "AMB-LIST-TOKEN", "UR-8"],
            Variant::ColonRejected => &["AMB-COLON", "VAL-1"],
            Variant::ValidationAsInvalidParameter => &["AMB-VALIDATION-CODE", "VAL-1", "UR-10"],
            Variant::DeletedExistsFalseOnly | Variant::DeletedFlagExistsTrue => {
                &["AMB-DELETE-FLAG", "DS-4"]
            }
            Variant::RecreateCountRestarts => &["AMB-RECREATE-COUNT", "DS-3", "DS-4"],
            Variant::TombstonesCountTowardLimits => &["AMB-TOMBSTONE-LIMIT", "LIM-2", "LIM-3"],
            Variant::ListsReverseOrder => &["AMB-ORDER", "LR-4", "DS-2"],
            Variant::CountIsTotal => &["AMB-COUNT", "LR-5"],
            Variant::LastModifiedByAbsent => &["AMB-LASTMODIFIEDBY"],
            Variant::ListTokenIgnored => &["AMB-LIST-TOKEN"],
            Variant::NegativeLastSyncCountAsZero => &["AMB-NEGATIVE-LAST-SYNC-COUNT", "LR-1"],
            Variant::MaxResultsBelowOneAsDefault => &["AMB-MAX-RESULTS", "LR-4", "DS-2"],
            Variant::PagesOf50 => &["AMB-PAGE-SIZE", "LR-4", "DS-2"],
            Variant::BadQueryIgnored => &["AMB-BAD-QUERY"],
            Variant::OtherOperations403 => &["AMB-OTHER-OPERATIONS", "ERR-1"],
            Variant::UnknownIdentityZeros => &["AMB-X-UNKNOWN-IDENTITY", "DS-5"],
            Variant::GarbageNextTokenFirstPage => &["LR-4", "DS-2"],
            Variant::UnknownRoute403 => &["ERR-1"],
            Variant::HugeBody400 => &["ERR-1", "ERR-2"],
            Variant::RemoveValueRejected => &["VAL-1", "UR-6"],
            Variant::BeyondOnMissingRejected => &["LR-2", "LR-3"],
            Variant::ConflictBeforeToken => &["AMB-X-ERROR-PRECEDENCE", "UR-2", "UR-8"],
            Variant::ErrorTypeWithSuffix | Variant::ErrorBodyWithType => &["ERR-1"],
            Variant::ConnectionClose => &["ERR-3"],
            Variant::Delay40ms => &[],
            Variant::IntegerDates => &["ERR-4", "DS-1"],
            Variant::ClientContextIgnored => &["AMB-CLIENT-CONTEXT", "UR-3"],
            Variant::OtherOperations404 => &["AMB-OTHER-OPERATIONS", "ERR-1"],
            Variant::PoolEmpty404 => &["AMB-POOL-EMPTY", "POOL-1", "CFG-2", "EVT-1", "BULK-2"],
            Variant::UsageLag => &["AMB-USAGE-LAG", "POOL-1", "POOL-2"],
            Variant::ConfigMergeClears => &["AMB-CONFIG-MERGE", "CFG-1", "CFG-2"],
            Variant::ConfigEmptyClears => &["AMB-CONFIG-EMPTY", "CFG-1", "CFG-2"],
            Variant::EventTypeStored => &["AMB-EVENT-TYPE", "EVT-1"],
            Variant::NewDeviceIdEachTime => &["AMB-DEVICE-ID", "DEV-1", "DEV-2"],
            Variant::PushConfigNotRequired => &["AMB-PUSH-CONFIG", "DEV-1"],
            Variant::DeviceUnknown400 => &["AMB-DEVICE-UNKNOWN", "DEV-2"],
            Variant::UnsubscribeNotSubscribed404 => &["AMB-SUBSCRIBE-IDEMPOTENT", "DEV-2"],
            Variant::BulkNoStreamInvalidConfiguration => &["AMB-BULK-NO-STREAM", "BULK-1"],
            Variant::BulkPublishInstant => &["AMB-BULK-TIME", "BULK-1", "BULK-2"],
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a variant's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variant {name:?}; valid variants: {}", valid_names())]
pub struct UnknownVariant {
    pub name: String,
}

fn valid_names() -> String {
    Variant::ALL.map(Variant::name).join(", ")
}

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(name: &str) -> Result<Variant, UnknownVariant> {
        Variant::ALL
            .into_iter()
            .find(|variant| variant.name() == name)
            .ok_or_else(|| UnknownVariant {
                name: name.to_owned(),
            })
    }
}
