//! Constraint constants from the service model and the service's documented limits.
//!
//! `tests/spec_constants.rs` cross-checks each model-derived constant against the service model.

/// Smithy length bounds count Unicode scalar values, not bytes.
pub const IDENTITY_POOL_ID_LEN_MIN: usize = 1;
pub const IDENTITY_POOL_ID_LEN_MAX: usize = 55;
pub const IDENTITY_ID_LEN_MIN: usize = 1;
pub const IDENTITY_ID_LEN_MAX: usize = 55;
/// Pattern shared by IdentityPoolId and IdentityId; the whole value must match.
pub const IDENTITY_PATTERN: &str = r"[\w-]+:[0-9a-f-]+";
pub const DATASET_NAME_LEN_MIN: usize = 1;
pub const DATASET_NAME_LEN_MAX: usize = 128;
pub const DATASET_NAME_PATTERN: &str = "[a-zA-Z0-9_.:-]+";
pub const RECORD_KEY_LEN_MIN: usize = 1;
pub const RECORD_KEY_LEN_MAX: usize = 1024;
pub const RECORD_VALUE_LEN_MAX: usize = 1_048_575;
pub const DEVICE_ID_LEN_MIN: usize = 1;
pub const DEVICE_ID_LEN_MAX: usize = 256;
/// The two values of the service's `Operation` enum, in model order.
pub const OPERATION_VALUES: [&str; 2] = ["replace", "remove"];

/// LIM-1: live datasets per identity.
pub const DATASETS_PER_IDENTITY_MAX: usize = 20;
/// LIM-2: live records per dataset (tombstones do not count: AMB-TOMBSTONE-LIMIT reference).
pub const RECORDS_PER_DATASET_MAX: usize = 1024;
/// LIM-3: UTF-8 bytes of live keys plus values per dataset.
pub const DATASET_BYTES_MAX: u64 = 1_048_576;

/// ListRecords page size when `maxResults` is absent; larger requests are clamped to it.
pub const LIST_RECORDS_MAX_RESULTS_DEFAULT: i32 = 1024;
/// ListDatasets page size when `maxResults` is absent; larger requests are clamped to it.
pub const LIST_DATASETS_MAX_RESULTS_DEFAULT: i32 = 64;
/// AMB-TOKEN-EXPIRY: the reference server keeps session tokens valid this long.
pub const SESSION_TOKEN_LIFETIME_SECS: u64 = 3600;
/// Largest request body the reference server reads; larger ones are answered 413.
/// A maximal RecordValue written with `\uXXXX` escapes for non-BMP characters is about 12 MiB.
pub const REQUEST_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The service's JSON content type; `application/json` is accepted as well (VAL-3).
pub const CONTENT_TYPE_AMZ_JSON: &str = "application/x-amz-json-1.1";
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// ERR-1: the header the iOS SDK reads the error shape from.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";
/// The header that carries `ClientContext` on UpdateRecords.
pub const CLIENT_CONTEXT_HEADER: &str = "x-amz-Client-Context";
