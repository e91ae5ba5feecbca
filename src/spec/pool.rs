//! Constraints and enums of the eleven pool-level and push-sync operations (spec §11), from the
//! service model. `tests/spec_constants.rs` cross-checks them against the model.

/// RegisterDevice `Platform`, in model order.
pub const PLATFORM_VALUES: [&str; 4] = ["APNS", "APNS_SANDBOX", "GCM", "ADM"];
/// `PushSync.ApplicationArns[]`: an SNS platform application ARN.
pub const APPLICATION_ARN_PATTERN: &str = r"arn:aws:sns:[-0-9a-z]+:\d+:app/[A-Z_]+/[a-zA-Z0-9_.-]+";
/// `RoleArn` of PushSync and CognitoStreams.
pub const ROLE_ARN_PATTERN: &str = r"arn:aws:iam::\d+:role/.*";
pub const ROLE_ARN_LEN_MIN: usize = 20;
pub const ROLE_ARN_LEN_MAX: usize = 2048;
pub const STREAM_NAME_LEN_MIN: usize = 1;
pub const STREAM_NAME_LEN_MAX: usize = 128;
/// `CognitoStreams.StreamingStatus`, in model order.
pub const STREAMING_STATUS_VALUES: [&str; 2] = ["ENABLED", "DISABLED"];
/// `BulkPublishStatus`, in model order.
pub const BULK_PUBLISH_STATUS_VALUES: [&str; 4] =
    ["NOT_STARTED", "IN_PROGRESS", "FAILED", "SUCCEEDED"];
/// `Events` holds at most this many entries.
pub const EVENTS_MAX: usize = 1;
/// The one documented Cognito event type (EVT-1).
pub const SYNC_TRIGGER_EVENT: &str = "SyncTrigger";
/// BULK-1: after a bulk publish succeeds, the next one is refused for this long.
pub const BULK_PUBLISH_INTERVAL_SECS: u64 = 24 * 3600;
/// ListIdentityPoolUsage page size when `maxResults` is absent (POOL-2, reference server).
pub const LIST_POOL_USAGE_MAX_RESULTS_DEFAULT: i32 = 60;
/// AMB-USAGE-LAG: how long a checker waits for pool usage to catch up before it fails.
pub const USAGE_LAG_SECS_MAX: u64 = 10;
/// AMB-BULK-TIME: how long the reference server's bulk publish stays `IN_PROGRESS`.
pub const BULK_PUBLISH_SECS_REFERENCE: u64 = 2;
