//! The request parser: raw HTTP parts in, a typed and validated request out.
//!
//! Pure and synchronous so a fuzz target can call [`parse_request`] with arbitrary bytes. It
//! runs steps 1–4 of the order of checks in `docs/reference-choices.md` (route, size,
//! serialization, constraints); the checks that need the server's secret or state (step 5 on)
//! belong to the operations.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::fault::Fault;
use super::rejection::Rejection;
use super::variant::Variant;
use crate::spec::{
    self, CLIENT_CONTEXT_HEADER, ConstraintError, DATASET_NAME_PATTERN, DatasetName, DeviceId,
    ErrorKind, IDENTITY_PATTERN, IdentityId, IdentityPoolId, Operation, RECORD_KEY_LEN_MAX,
    REQUEST_BODY_BYTES_MAX, RecordKey, Rule, validate_record_value,
};

/// The six operations, as the router names them before anything else is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationName {
    UpdateRecords,
    ListRecords,
    DescribeDataset,
    ListDatasets,
    DeleteDataset,
    DescribeIdentityUsage,
}

impl OperationName {
    /// The service model's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationName::UpdateRecords => "UpdateRecords",
            OperationName::ListRecords => "ListRecords",
            OperationName::DescribeDataset => "DescribeDataset",
            OperationName::ListDatasets => "ListDatasets",
            OperationName::DeleteDataset => "DeleteDataset",
            OperationName::DescribeIdentityUsage => "DescribeIdentityUsage",
        }
    }
}

/// A matched route with its still-encoded path labels; cheap, so the HTTP layer can answer an
/// unknown route before it reads a byte of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub operation: OperationName,
    pub pool: &'a str,
    pub identity: &'a str,
    /// Absent for the two identity-level operations.
    pub dataset: Option<&'a str>,
}

/// Step 1: finds the operation for `(method, raw_path)`. The path must match exactly: no
/// trailing slash, and as in Smithy's HTTP bindings a label matches only a non-empty segment,
/// so `/datasets/` is no route rather than a DescribeDataset of an empty name.
pub fn match_route<'a>(method: &str, raw_path: &'a str) -> Option<RouteMatch<'a>> {
    let rest = raw_path.strip_prefix("/identitypools/")?;
    let mut parts = rest.split('/');
    let pool = parts.next()?;
    if parts.next()? != "identities" {
        return None;
    }
    let identity = parts.next()?;
    let (operation, dataset) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (None, _, _, _) => (OperationName::DescribeIdentityUsage, None),
        (Some("datasets"), None, _, _) => (OperationName::ListDatasets, None),
        (Some("datasets"), Some(name), None, _) => match method {
            "GET" => (OperationName::DescribeDataset, Some(name)),
            "POST" => (OperationName::UpdateRecords, Some(name)),
            "DELETE" => (OperationName::DeleteDataset, Some(name)),
            _ => return None,
        },
        (Some("datasets"), Some(name), Some("records"), None) => {
            (OperationName::ListRecords, Some(name))
        }
        _ => return None,
    };
    let method_ok = match operation {
        OperationName::UpdateRecords | OperationName::DeleteDataset => true,
        _ => method == "GET",
    };
    let labels_ok = !pool.is_empty() && !identity.is_empty() && dataset != Some("");
    (method_ok && labels_ok).then_some(RouteMatch {
        operation,
        pool,
        identity,
        dataset,
    })
}

/// Path labels of an identity, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentityRef {
    pub pool: IdentityPoolId,
    pub identity: IdentityId,
}

/// Path labels of a dataset, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatasetRef {
    pub pool: IdentityPoolId,
    pub identity: IdentityId,
    pub dataset: DatasetName,
}

/// One validated RecordPatch. `value` is `Some` exactly for `replace` (a `remove`'s value is
/// ignored, per the reference choices).
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    pub op: Operation,
    pub key: RecordKey,
    pub value: Option<String>,
    pub sync_count: i64,
    pub device_last_modified_date: Option<f64>,
}

/// UpdateRecords after steps 1–4: the token is present but not yet checked (step 5).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRecords {
    pub dataset: DatasetRef,
    pub client_context: Option<String>,
    pub device_id: Option<DeviceId>,
    pub patches: Vec<Patch>,
    /// Present (required), but not yet checked against the server's secret.
    pub sync_session_token: String,
}

/// ListRecords after steps 1–4: numbers are read, but their ranges and the tokens are checked
/// by the operation (step 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecords {
    pub dataset: DatasetRef,
    pub last_sync_count: Option<i64>,
    pub max_results: Option<i32>,
    pub next_token: Option<String>,
    pub sync_session_token: Option<String>,
}

/// ListDatasets after steps 1–4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListDatasets {
    pub identity: IdentityRef,
    pub max_results: Option<i32>,
    pub next_token: Option<String>,
}

/// A request that passed steps 1–4 of the order of checks: every constrained member is a
/// validated newtype, so the operations need not look at raw text again.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedRequest {
    UpdateRecords(UpdateRecords),
    ListRecords(ListRecords),
    DescribeDataset(DatasetRef),
    ListDatasets(ListDatasets),
    DeleteDataset(DatasetRef),
    DescribeIdentityUsage(IdentityRef),
}

impl ParsedRequest {
    pub const fn operation(&self) -> OperationName {
        match self {
            ParsedRequest::UpdateRecords(_) => OperationName::UpdateRecords,
            ParsedRequest::ListRecords(_) => OperationName::ListRecords,
            ParsedRequest::DescribeDataset(_) => OperationName::DescribeDataset,
            ParsedRequest::ListDatasets(_) => OperationName::ListDatasets,
            ParsedRequest::DeleteDataset(_) => OperationName::DeleteDataset,
            ParsedRequest::DescribeIdentityUsage(_) => OperationName::DescribeIdentityUsage,
        }
    }
}

fn dataset_path(d: &DatasetRef) -> spec::DatasetPath {
    spec::DatasetPath {
        identity_pool_id: d.pool.to_string(),
        identity_id: d.identity.to_string(),
        dataset_name: d.dataset.to_string(),
    }
}

fn identity_path(i: &IdentityRef) -> spec::IdentityPath {
    spec::IdentityPath {
        identity_pool_id: i.pool.to_string(),
        identity_id: i.identity.to_string(),
    }
}

impl From<ParsedRequest> for spec::Request {
    /// The wire form of a parsed request, for logs and for comparing with the suite's view.
    fn from(parsed: ParsedRequest) -> spec::Request {
        match parsed {
            ParsedRequest::UpdateRecords(u) => {
                spec::Request::UpdateRecords(spec::UpdateRecordsRequest {
                    path: dataset_path(&u.dataset),
                    client_context: u.client_context,
                    body: spec::UpdateRecordsBody {
                        device_id: u.device_id.map(DeviceId::into_string),
                        record_patches: Some(
                            u.patches
                                .into_iter()
                                .map(|p| spec::RecordPatch {
                                    op: Some(p.op.as_str().to_owned()),
                                    key: Some(p.key.into_string()),
                                    value: p.value,
                                    sync_count: Some(p.sync_count),
                                    device_last_modified_date: p.device_last_modified_date,
                                })
                                .collect(),
                        ),
                        sync_session_token: Some(u.sync_session_token),
                    },
                })
            }
            ParsedRequest::ListRecords(l) => spec::Request::ListRecords(spec::ListRecordsRequest {
                path: dataset_path(&l.dataset),
                last_sync_count: l.last_sync_count,
                max_results: l.max_results,
                next_token: l.next_token,
                sync_session_token: l.sync_session_token,
            }),
            ParsedRequest::DescribeDataset(d) => {
                spec::Request::DescribeDataset(spec::DescribeDatasetRequest {
                    path: dataset_path(&d),
                })
            }
            ParsedRequest::ListDatasets(l) => {
                spec::Request::ListDatasets(spec::ListDatasetsRequest {
                    path: identity_path(&l.identity),
                    max_results: l.max_results,
                    next_token: l.next_token,
                })
            }
            ParsedRequest::DeleteDataset(d) => {
                spec::Request::DeleteDataset(spec::DeleteDatasetRequest {
                    path: dataset_path(&d),
                })
            }
            ParsedRequest::DescribeIdentityUsage(i) => {
                spec::Request::DescribeIdentityUsage(spec::DescribeIdentityUsageRequest {
                    path: identity_path(&i),
                })
            }
        }
    }
}

/// Parses one request from its raw parts: steps 1–4 of the order of checks.
///
/// `raw_path` and `raw_query` are as they appear on the request line (still percent-encoded);
/// header names are matched case-insensitively; `body` may be any bytes.
pub fn parse_request(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<ParsedRequest, Rejection> {
    let route = match_route(method, raw_path)
        .ok_or_else(|| Rejection::unknown_operation(method, raw_path))?;
    if body.len() > REQUEST_BODY_BYTES_MAX {
        return Err(Rejection::too_large(REQUEST_BODY_BYTES_MAX));
    }
    let client_context = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(CLIENT_CONTEXT_HEADER))
        .map(|(_, value)| value.clone());
    parse_routed(route, raw_query, client_context, body)
}

/// Steps 3–4 for a matched route whose body is already known to be within the size cap.
pub fn parse_routed(
    route: RouteMatch<'_>,
    raw_query: Option<&str>,
    client_context: Option<String>,
    body: &[u8],
) -> Result<ParsedRequest, Rejection> {
    parse_routed_with(route, raw_query, client_context, body, None, None)
}

/// [`parse_routed`] with the parser's injected faults (validation and the missing token) and
/// allowed variants (the colon, bad query parameters, a remove's Value).
pub fn parse_routed_with(
    route: RouteMatch<'_>,
    raw_query: Option<&str>,
    client_context: Option<String>,
    body: &[u8],
    fault: Option<Fault>,
    variant: Option<Variant>,
) -> Result<ParsedRequest, Rejection> {
    // Step 3: everything that is a matter of reading the shape.
    let update_body = if route.operation == OperationName::UpdateRecords {
        Some(read_update_body(body)?)
    } else {
        read_ignored_body(body)?;
        None
    };
    let query = match route.operation {
        OperationName::ListRecords | OperationName::ListDatasets => read_query(
            raw_query.unwrap_or(""),
            variant == Some(Variant::BadQueryIgnored),
        )?,
        _ => Query::default(),
    };

    // Step 4: constraints, path labels first.
    let pool = decode_label(route.pool, IdentityPoolId::MEMBER, IDENTITY_PATTERN)?;
    let pool = upper_hex_read_as_lower(pool, fault);
    let pool = IdentityPoolId::try_from(pool.as_ref())?;
    let identity = decode_label(route.identity, IdentityId::MEMBER, IDENTITY_PATTERN)?;
    let identity = upper_hex_read_as_lower(identity, fault);
    let identity = IdentityId::try_from(identity.as_ref())?;
    let dataset = match route.dataset {
        Some(raw) => {
            let name = decode_label(raw, DatasetName::MEMBER, DATASET_NAME_PATTERN)?;
            if variant == Some(Variant::ColonRejected) && name.contains(':') {
                return Err(ConstraintError::new(
                    DatasetName::MEMBER,
                    Rule::Pattern("[a-zA-Z0-9_.-]+"),
                    &name,
                )
                .into());
            }
            let name = if fault == Some(Fault::DatasetNamesCaseFolded) {
                Cow::Owned(name.to_lowercase())
            } else {
                name
            };
            Some(DatasetName::try_from(name.as_ref())?)
        }
        None => None,
    };

    let parsed = match (route.operation, dataset) {
        (OperationName::DescribeIdentityUsage, _) => {
            ParsedRequest::DescribeIdentityUsage(IdentityRef { pool, identity })
        }
        (OperationName::ListDatasets, _) => ParsedRequest::ListDatasets(ListDatasets {
            identity: IdentityRef { pool, identity },
            max_results: query.max_results,
            next_token: query.next_token,
        }),
        (operation, Some(dataset)) => {
            let dataset = DatasetRef {
                pool,
                identity,
                dataset,
            };
            match operation {
                OperationName::DescribeDataset => ParsedRequest::DescribeDataset(dataset),
                OperationName::DeleteDataset => ParsedRequest::DeleteDataset(dataset),
                OperationName::ListRecords => ParsedRequest::ListRecords(ListRecords {
                    dataset,
                    last_sync_count: query.last_sync_count,
                    max_results: query.max_results,
                    next_token: query.next_token,
                    sync_session_token: query.sync_session_token,
                }),
                OperationName::UpdateRecords => {
                    let body = update_body.unwrap_or_default();
                    ParsedRequest::UpdateRecords(validate_update(
                        dataset,
                        client_context,
                        body,
                        fault,
                        variant,
                    )?)
                }
                OperationName::ListDatasets | OperationName::DescribeIdentityUsage => {
                    return Err(Rejection::internal("router produced an inconsistent route"));
                }
            }
        }
        (_, None) => return Err(Rejection::internal("router produced an inconsistent route")),
    };
    Ok(parsed)
}

/// The keys-case-folded and keys-nfc-normalized faults: the key as such a server stores it.
fn folded_key(key: String, fault: Option<Fault>) -> String {
    match fault {
        Some(Fault::KeysCaseFolded) => key.to_lowercase(),
        Some(Fault::KeysNfcNormalized) => compose_acute(&key),
        _ => key,
    }
}

/// NFC for the one combining mark the fault needs: a vowel followed by U+0301 becomes the
/// precomposed vowel with an acute accent.
fn compose_acute(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        let composed = match (c, chars.peek()) {
            ('a', Some('\u{301}')) => Some('\u{e1}'),
            ('e', Some('\u{301}')) => Some('\u{e9}'),
            ('i', Some('\u{301}')) => Some('\u{ed}'),
            ('o', Some('\u{301}')) => Some('\u{f3}'),
            ('u', Some('\u{301}')) => Some('\u{fa}'),
            ('E', Some('\u{301}')) => Some('\u{c9}'),
            _ => None,
        };
        match composed {
            Some(c) => {
                chars.next();
                out.push(c);
            }
            None => out.push(c),
        }
    }
    out
}

/// The identity-upper-hex-accepted fault: the hex part of an identity label is lower-cased
/// before its pattern is checked, so upper-case hex passes.
fn upper_hex_read_as_lower(label: Cow<'_, str>, fault: Option<Fault>) -> Cow<'_, str> {
    if fault != Some(Fault::IdentityUpperHexAccepted) {
        return label;
    }
    match label.split_once(':') {
        Some((region, id)) => Cow::Owned(format!("{region}:{}", id.to_ascii_lowercase())),
        None => label,
    }
}

/// VAL-2: decodes `%XX` escapes of a path label; bytes that are not UTF-8 after decoding
/// cannot satisfy the member's pattern.
pub(super) fn decode_label<'a>(
    raw: &'a str,
    member: &'static str,
    pattern: &'static str,
) -> Result<Cow<'a, str>, ConstraintError> {
    percent_decode_str(raw).decode_utf8().map_err(|_| {
        let lossy = percent_decode_str(raw).decode_utf8_lossy();
        ConstraintError::new(member, Rule::Pattern(pattern), &lossy)
    })
}

/// Query parameters of the two list operations; others are ignored.
#[derive(Debug, Default)]
pub(super) struct Query {
    pub(super) last_sync_count: Option<i64>,
    pub(super) max_results: Option<i32>,
    pub(super) next_token: Option<String>,
    pub(super) sync_session_token: Option<String>,
}

/// Reads the query string. Only `%XX` is decoded (`+` is a plus sign in AWS query encoding);
/// the first occurrence of a parameter wins. With `ignore_bad` (the bad-query-ignored variant)
/// a value with malformed `%` escapes, or a number that cannot be read, counts as absent.
pub(super) fn read_query(raw: &str, ignore_bad: bool) -> Result<Query, Rejection> {
    let mut query = Query::default();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode_str(name).decode_utf8_lossy();
        if ignore_bad && !well_encoded(value) {
            continue;
        }
        let value = || percent_decode_str(value).decode_utf8_lossy();
        match name.as_ref() {
            "lastSyncCount" if query.last_sync_count.is_none() => {
                query.last_sync_count = read_optional_number(&name, &value(), ignore_bad)?;
            }
            "maxResults" if query.max_results.is_none() => {
                query.max_results = read_optional_number(&name, &value(), ignore_bad)?;
            }
            "nextToken" if query.next_token.is_none() => {
                query.next_token = Some(value().into_owned());
            }
            "syncSessionToken" if query.sync_session_token.is_none() => {
                query.sync_session_token = Some(value().into_owned());
            }
            _ => {}
        }
    }
    Ok(query)
}

/// Whether every `%` of a raw query value starts a `%XX` escape and the decoded bytes are
/// UTF-8.
fn well_encoded(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    escapes_ok && percent_decode_str(raw).decode_utf8().is_ok()
}

/// A number parameter, or `None` when it cannot be read and `ignore_bad` says to ignore it.
fn read_optional_number<T: std::str::FromStr>(
    name: &str,
    value: &str,
    ignore_bad: bool,
) -> Result<Option<T>, Rejection> {
    match read_number(name, value) {
        Ok(number) => Ok(Some(number)),
        Err(_) if ignore_bad => Ok(None),
        Err(rejection) => Err(rejection),
    }
}

fn read_number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Rejection> {
    value.parse().map_err(|_| {
        let shown: String = value.chars().take(64).collect();
        Rejection::serialization(format!(
            "Query parameter '{name}' is not a number in range: '{shown}'"
        ))
    })
}

/// The UpdateRecords body as read, before constraints.
#[derive(Debug, Default)]
struct RawBody {
    device_id: Option<String>,
    record_patches: Option<Vec<RawPatch>>,
    sync_session_token: Option<String>,
}

#[derive(Debug, Default)]
struct RawPatch {
    op: Option<String>,
    key: Option<String>,
    value: Option<String>,
    sync_count: Option<i64>,
    device_last_modified_date: Option<f64>,
}

pub(super) fn serialization_error(err: &serde_json::Error) -> Rejection {
    const SHOWN: usize = 300;
    let text = err.to_string();
    // A character is at least one byte: a message of at most SHOWN bytes is shown whole
    // without walking its characters.
    let cut = if text.len() <= SHOWN {
        None
    } else {
        text.char_indices().nth(SHOWN).map(|(end, _)| end)
    };
    let shown = match cut {
        Some(end) => format!("{}...", &text[..end]),
        None => text,
    };
    Rejection::serialization(format!(
        "Request body is not a valid JSON document: {shown}"
    ))
}

fn read_update_body(body: &[u8]) -> Result<RawBody, Rejection> {
    if body.is_empty() {
        return Ok(RawBody::default());
    }
    serde_json::from_slice(body).map_err(|e| serialization_error(&e))
}

/// Bodies of the other operations carry no members, but must still be a JSON object.
fn read_ignored_body(body: &[u8]) -> Result<(), Rejection> {
    if body.is_empty() {
        return Ok(());
    }
    serde_json::from_slice::<AnyObject>(body)
        .map(|_| ())
        .map_err(|e| serialization_error(&e))
}

/// Sets a member once; a second occurrence is a duplicate member (step 3).
fn set_once<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
    slot: &mut Option<Option<T>>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value::<Option<T>>()?);
    Ok(())
}

/// Member names are read without allocating; unknown ones are skipped.
struct MemberName<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON object whose members are all ignored.
struct AnyObject;

impl<'de> de::Deserialize<'de> for AnyObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyObject, A::Error> {
                while map.next_entry::<MemberName<'de>, IgnoredAny>()?.is_some() {}
                Ok(AnyObject)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> de::Deserialize<'de> for RawBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBody;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an UpdateRecords request object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBody, A::Error> {
                let mut device_id = None;
                let mut record_patches = None;
                let mut sync_session_token = None;
                while let Some(name) = map.next_key::<MemberName<'de>>()? {
                    match name.0.as_ref() {
                        "DeviceId" => set_once(&mut device_id, &mut map, "DeviceId")?,
                        "RecordPatches" => {
                            set_once(&mut record_patches, &mut map, "RecordPatches")?;
                        }
                        "SyncSessionToken" => {
                            set_once(&mut sync_session_token, &mut map, "SyncSessionToken")?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RawBody {
                    device_id: device_id.flatten(),
                    record_patches: record_patches.flatten(),
                    sync_session_token: sync_session_token.flatten(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> de::Deserialize<'de> for RawPatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a RecordPatch object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPatch, A::Error> {
                let mut op = None;
                let mut key = None;
                let mut value = None;
                let mut sync_count = None;
                let mut device_date = None;
                while let Some(name) = map.next_key::<MemberName<'de>>()? {
                    match name.0.as_ref() {
                        "Op" => set_once(&mut op, &mut map, "Op")?,
                        "Key" => set_once(&mut key, &mut map, "Key")?,
                        "Value" => set_once(&mut value, &mut map, "Value")?,
                        "SyncCount" => set_once(&mut sync_count, &mut map, "SyncCount")?,
                        "DeviceLastModifiedDate" => {
                            set_once(&mut device_date, &mut map, "DeviceLastModifiedDate")?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RawPatch {
                    op: op.flatten(),
                    key: key.flatten(),
                    value: value.flatten(),
                    sync_count: sync_count.flatten(),
                    device_last_modified_date: device_date.flatten(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// The remove-value-rejected variant's refusal: a constraint the service model does not state,
/// worded like the ones it does.
fn remove_with_value(value: &str) -> Rejection {
    let shown = ConstraintError::new("Value", Rule::Required, value).value;
    Rejection::new(
        ErrorKind::Validation,
        format!(
            "1 validation error detected: Value '{shown}' at 'Value' failed to satisfy \
             constraint: Member must be null when Op is remove"
        ),
    )
}

/// Step 4 for the UpdateRecords body, in the reference order: DeviceId, then each patch's Op,
/// Key, SyncCount presence and Value, then SyncSessionToken presence.
fn validate_update(
    dataset: DatasetRef,
    client_context: Option<String>,
    body: RawBody,
    fault: Option<Fault>,
    variant: Option<Variant>,
) -> Result<UpdateRecords, Rejection> {
    let device_id = body.device_id.map(DeviceId::try_from).transpose()?;
    let raw_patches = body.record_patches.unwrap_or_default();
    let mut patches = Vec::with_capacity(raw_patches.len());
    for raw in raw_patches {
        let op = match raw.op {
            Some(op) => Operation::try_from(op.as_str())?,
            None => return Err(ConstraintError::required(Operation::MEMBER).into()),
        };
        let key = match raw.key {
            Some(key) => RecordKey::try_from(folded_key(key, fault))?,
            None => return Err(ConstraintError::required(RecordKey::MEMBER).into()),
        };
        if fault == Some(Fault::KeyLengthOffByOne)
            && key.as_str().chars().count() == RECORD_KEY_LEN_MAX
        {
            return Err(ConstraintError::new(
                RecordKey::MEMBER,
                Rule::LenMax(RECORD_KEY_LEN_MAX - 1),
                key.as_str(),
            )
            .into());
        }
        let Some(sync_count) = raw.sync_count else {
            return Err(ConstraintError::required("SyncCount").into());
        };
        let value = match op {
            Operation::Replace => match raw.value {
                Some(value) => {
                    validate_record_value(&value)?;
                    Some(value)
                }
                None => return Err(ConstraintError::required("Value").into()),
            },
            Operation::Remove => match raw.value {
                Some(value) if variant == Some(Variant::RemoveValueRejected) => {
                    return Err(remove_with_value(&value));
                }
                _ => None,
            },
        };
        patches.push(Patch {
            op,
            key,
            value,
            sync_count,
            device_last_modified_date: raw.device_last_modified_date,
        });
    }
    let Some(sync_session_token) = body.sync_session_token else {
        if fault == Some(Fault::SessionTokenOptional) {
            // The operation lets the empty token through under the same fault.
            return Ok(UpdateRecords {
                dataset,
                client_context,
                device_id,
                patches,
                sync_session_token: String::new(),
            });
        }
        return Err(ConstraintError::required("SyncSessionToken").into());
    };
    Ok(UpdateRecords {
        dataset,
        client_context,
        device_id,
        patches,
        sync_session_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ErrorKind;

    const POOL: &str = "us-east-1:0a";
    const ID: &str = "us-east-1:0b";

    fn path(tail: &str) -> String {
        format!("/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b{tail}")
    }

    fn parse(
        method: &str,
        tail: &str,
        query: Option<&str>,
        body: &str,
    ) -> Result<ParsedRequest, Rejection> {
        parse_request(method, &path(tail), query, &[], body.as_bytes())
    }

    fn kind(result: Result<ParsedRequest, Rejection>) -> ErrorKind {
        result.expect_err("rejected").kind
    }

    fn update(body: &str) -> Result<ParsedRequest, Rejection> {
        parse("POST", "/datasets/ds", None, body)
    }

    #[test]
    fn every_route_of_the_service_model_is_matched() {
        let cases = [
            ("GET", "", OperationName::DescribeIdentityUsage),
            ("GET", "/datasets", OperationName::ListDatasets),
            ("GET", "/datasets/ds", OperationName::DescribeDataset),
            ("POST", "/datasets/ds", OperationName::UpdateRecords),
            ("DELETE", "/datasets/ds", OperationName::DeleteDataset),
            ("GET", "/datasets/ds/records", OperationName::ListRecords),
        ];
        for (method, tail, operation) in cases {
            let body = if method == "POST" {
                r#"{"SyncSessionToken":"t"}"#
            } else {
                ""
            };
            let parsed = parse(method, tail, None, body).expect(tail);
            assert_eq!(parsed.operation(), operation, "{method} {tail}");
        }
    }

    #[test]
    fn unknown_paths_and_methods_are_unknown_operations() {
        for (method, tail) in [
            ("POST", ""),
            ("PUT", "/datasets/ds"),
            ("POST", "/datasets/ds/records"),
            ("DELETE", "/datasets"),
            ("GET", "/"),
            ("GET", "/datasets/"),
            ("GET", "/datasets/ds/records/"),
            ("GET", "/datasets/ds/other"),
        ] {
            assert_eq!(
                kind(parse(method, tail, None, "")),
                ErrorKind::UnknownOperation,
                "{method} {tail}"
            );
        }
        for raw in [
            "/",
            "",
            "/identitypools",
            "//identitypools/a:0/identities/a:0",
            "/identitypools/a:0",
        ] {
            assert_eq!(
                kind(parse_request("GET", raw, None, &[], b"")),
                ErrorKind::UnknownOperation,
                "{raw}"
            );
        }
    }

    #[test]
    fn path_labels_are_percent_decoded() {
        let parsed = parse("GET", "/datasets/a%3Ab%2Ec", None, "").expect("valid");
        let ParsedRequest::DescribeDataset(d) = parsed else {
            panic!("wrong operation: {parsed:?}");
        };
        assert_eq!(d.pool.as_str(), POOL);
        assert_eq!(d.identity.as_str(), ID);
        assert_eq!(d.dataset.as_str(), "a:b.c");
    }

    #[test]
    fn labels_that_are_not_utf8_or_break_patterns_name_their_member() {
        let err = parse("GET", "/datasets/a%FFb", None, "").expect_err("bad utf-8");
        assert_eq!(err.kind, ErrorKind::Validation);
        assert!(err.message.contains("at 'DatasetName'"), "{}", err.message);
        let err = parse("GET", "/datasets/a%2Fb", None, "").expect_err("slash");
        assert!(err.message.contains("at 'DatasetName'"), "{}", err.message);
        let err = parse_request("GET", "/identitypools/us:0A/identities/a:0", None, &[], b"")
            .expect_err("bad pool");
        assert_eq!(err.kind, ErrorKind::Validation);
        assert!(
            err.message.contains("'us:0A' at 'IdentityPoolId'"),
            "{}",
            err.message
        );
        // Pool is checked before identity.
        let err = parse_request("GET", "/identitypools/x/identities/y", None, &[], b"")
            .expect_err("both bad");
        assert!(
            err.message.contains("at 'IdentityPoolId'"),
            "{}",
            err.message
        );
        for raw in [
            "/identitypools//identities/a:0",
            "/identitypools/a:0/identities//datasets",
        ] {
            assert_eq!(
                kind(parse_request("GET", raw, None, &[], b"")),
                ErrorKind::UnknownOperation
            );
        }
    }

    #[test]
    fn any_content_type_is_read_as_json() {
        let body = br#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0}]}"#;
        let mut results = Vec::new();
        for content_type in [
            "application/json",
            "application/x-amz-json-1.1",
            "text/plain",
        ] {
            let headers = [("Content-Type".to_owned(), content_type.to_owned())];
            results.push(
                parse_request("POST", &path("/datasets/ds"), None, &headers, body)
                    .expect(content_type),
            );
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn client_context_header_is_kept() {
        let headers = [("X-Amz-Client-Context".to_owned(), "ctx".to_owned())];
        let parsed = parse_request(
            "POST",
            &path("/datasets/ds"),
            None,
            &headers,
            br#"{"SyncSessionToken":"t"}"#,
        )
        .expect("valid");
        let ParsedRequest::UpdateRecords(u) = parsed else {
            panic!("wrong operation");
        };
        assert_eq!(u.client_context.as_deref(), Some("ctx"));
    }

    #[test]
    fn bodies_over_the_cap_are_too_large_but_routes_come_first() {
        let body = vec![b' '; REQUEST_BODY_BYTES_MAX + 1];
        let err = parse_request("POST", &path("/datasets/ds"), None, &[], &body).expect_err("big");
        assert_eq!(err.kind, ErrorKind::RequestEntityTooLarge);
        let err = parse_request("PUT", &path("/datasets/ds"), None, &[], &body).expect_err("big");
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
    }

    #[test]
    fn unreadable_bodies_are_serialization_errors() {
        for body in [
            "not json",
            "[]",
            "\"x\"",
            "null",
            "{",
            r#"{"SyncSessionToken":"t"} x"#,
            r#"{"SyncSessionToken":5}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":{}}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[["replace","k","v",0]]}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":1.5}]}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":"1"}]}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":1e2}]}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":9223372036854775808}]}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0,"DeviceLastModifiedDate":"2020"}]}"#,
            r#"{"SyncSessionToken":"t","SyncSessionToken":"t"}"#,
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","Key":"j","SyncCount":0}]}"#,
            r#"{"SyncSessionToken":"\ud800"}"#,
        ] {
            assert_eq!(kind(update(body)), ErrorKind::Serialization, "{body}");
        }
        // Every operation reads its body as a JSON object, even when it has no members.
        assert_eq!(
            kind(parse("GET", "/datasets/ds", None, "[1]")),
            ErrorKind::Serialization
        );
        assert!(parse("GET", "/datasets/ds", None, r#"{"x":[1,{"y":2}]}"#).is_ok());
        // Serialization comes before constraints.
        let err = parse_request(
            "POST",
            "/identitypools/x/identities/y/datasets/ds",
            None,
            &[],
            b"{",
        )
        .expect_err("both");
        assert_eq!(err.kind, ErrorKind::Serialization);
    }

    #[test]
    fn unknown_members_and_nulls_are_ignored() {
        let parsed = update(
            r#"{"SyncSessionToken":"t","Extra":{"a":[1]},"DeviceId":null,
            "RecordPatches":[{"Op":"replace","Key":"k","Value":"","SyncCount":0,"Other":1,
            "DeviceLastModifiedDate":1700000000}]}"#,
        )
        .expect("valid");
        let ParsedRequest::UpdateRecords(u) = parsed else {
            panic!("wrong operation");
        };
        assert_eq!(u.device_id, None);
        assert_eq!(u.patches.len(), 1);
        assert_eq!(u.patches[0].value.as_deref(), Some(""));
        assert_eq!(u.patches[0].device_last_modified_date, Some(1.7e9));
    }

    fn validation_member(body: &str) -> String {
        let err = update(body).expect_err(body);
        assert_eq!(err.kind, ErrorKind::Validation, "{body}: {}", err.message);
        err.message
    }

    #[test]
    fn constraint_violations_name_their_member_in_reference_order() {
        let cases = [
            ("{}", "at 'SyncSessionToken'"),
            ("", "at 'SyncSessionToken'"),
            (
                r#"{"DeviceId":"","RecordPatches":[{"Op":"bad"}]}"#,
                "at 'DeviceId'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"bad","Key":""}]}"#,
                "'bad' at 'Op'",
            ),
            (
                r#"{"RecordPatches":[{"Key":"k","SyncCount":0}]}"#,
                "'null' at 'Op'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"remove","Key":"","SyncCount":0}]}"#,
                "at 'Key'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"remove","SyncCount":0}]}"#,
                "at 'Key'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"replace","Key":"k","Value":"v"}]}"#,
                "at 'SyncCount'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"replace","Key":"k","SyncCount":0}]}"#,
                "at 'Value'",
            ),
            (
                r#"{"RecordPatches":[{"Op":"remove","Key":"k","SyncCount":0},{"Op":"x"}]}"#,
                "at 'Op'",
            ),
        ];
        for (body, expected) in cases {
            let message = validation_member(body);
            assert!(message.contains(expected), "{body}: {message}");
        }
        let long = format!(
            r#"{{"SyncSessionToken":"t","RecordPatches":[{{"Op":"replace","Key":"k","Value":"{}","SyncCount":0}}]}}"#,
            "v".repeat(crate::spec::RECORD_VALUE_LEN_MAX + 1)
        );
        assert!(validation_member(&long).contains("at 'Value'"));
    }

    #[test]
    fn remove_ignores_its_value() {
        let parsed = update(r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","Value":"v","SyncCount":3}]}"#)
            .expect("valid");
        let ParsedRequest::UpdateRecords(u) = parsed else {
            panic!("wrong operation");
        };
        assert_eq!(u.patches[0].value, None);
        assert_eq!(u.patches[0].op, Operation::Remove);
    }

    #[test]
    fn query_numbers_and_tokens_are_read() {
        let parsed = parse(
            "GET",
            "/datasets/ds/records",
            Some("lastSyncCount=3&maxResults=10&nextToken=a%2Bb+c&syncSessionToken=s&other=x&lastSyncCount=9"),
            "",
        )
        .expect("valid");
        let ParsedRequest::ListRecords(l) = parsed else {
            panic!("wrong operation");
        };
        assert_eq!(l.last_sync_count, Some(3));
        assert_eq!(l.max_results, Some(10));
        assert_eq!(l.next_token.as_deref(), Some("a+b+c"));
        assert_eq!(l.sync_session_token.as_deref(), Some("s"));
        for query in [
            "lastSyncCount=x",
            "maxResults=",
            "maxResults=1.5",
            "maxResults=99999999999",
        ] {
            assert_eq!(
                kind(parse("GET", "/datasets/ds/records", Some(query), "")),
                ErrorKind::Serialization,
                "{query}"
            );
        }
        assert_eq!(
            kind(parse("GET", "/datasets", Some("maxResults=x"), "")),
            ErrorKind::Serialization
        );
        // Query parameters of other operations are not read.
        assert!(parse("GET", "/datasets/ds", Some("maxResults=x"), "").is_ok());
        // Negative numbers are read; refusing them is a parameter check, later.
        assert!(
            parse(
                "GET",
                "/datasets/ds/records",
                Some("lastSyncCount=-1&maxResults=0"),
                ""
            )
            .is_ok()
        );
    }

    #[test]
    fn parsed_requests_convert_to_wire_requests() {
        let parsed = update(
            r#"{"SyncSessionToken":"t","RecordPatches":[{"Op":"remove","Key":"k","SyncCount":3}]}"#,
        )
        .expect("valid");
        let spec::Request::UpdateRecords(wire) = spec::Request::from(parsed) else {
            panic!("wrong operation");
        };
        assert_eq!(wire.path.identity_pool_id, POOL);
        assert_eq!(wire.body.sync_session_token.as_deref(), Some("t"));
    }
}
