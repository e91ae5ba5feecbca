//! The eleven pool-level and push-sync operations (spec §10, §11): routes, parsing and
//! validation in the order of `docs/reference-choices.md`, and the operations themselves.
//!
//! Kept apart from the dataset API's parser so that parser stays a pure function of the six
//! operations the fuzz targets drive; the HTTP layer tries these routes only when the dataset
//! API has none.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};

use super::fault::Fault;
use super::ops::Service;
use super::parse::{DatasetRef, IdentityRef, decode_label, read_query, serialization_error};
use super::pool_store::{BulkPublishRow, CognitoStreams, PoolConfig, PoolUsage, PushSync};
use super::rejection::Rejection;
use super::variant::Variant;
use crate::spec::{
    APPLICATION_ARN_PATTERN, BULK_PUBLISH_INTERVAL_SECS, BULK_PUBLISH_SECS_REFERENCE,
    ConstraintError, DATASET_NAME_PATTERN, DatasetName, DeviceId, EVENTS_MAX, ErrorKind,
    IDENTITY_PATTERN, IdentityId, IdentityPoolId, LIST_POOL_USAGE_MAX_RESULTS_DEFAULT,
    PLATFORM_VALUES, ROLE_ARN_LEN_MAX, ROLE_ARN_LEN_MIN, ROLE_ARN_PATTERN, Rule,
    STREAM_NAME_LEN_MAX, STREAM_NAME_LEN_MIN, STREAMING_STATUS_VALUES, SYNC_TRIGGER_EVENT,
};

/// How long the usage-lag variant serves a pool's usage before computing it again.
const USAGE_LAG_MS: i64 = 5_000;

/// The eleven operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolOperation {
    ListIdentityPoolUsage,
    DescribeIdentityPoolUsage,
    BulkPublish,
    GetBulkPublishDetails,
    GetCognitoEvents,
    SetCognitoEvents,
    GetIdentityPoolConfiguration,
    SetIdentityPoolConfiguration,
    RegisterDevice,
    SubscribeToDataset,
    UnsubscribeFromDataset,
}

/// A matched route of the eleven with its still-encoded path labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRoute<'a> {
    pub operation: PoolOperation,
    pool: Option<&'a str>,
    identity: Option<&'a str>,
    dataset: Option<&'a str>,
    device: Option<&'a str>,
}

/// Step 1 for the eleven: the operation at (method, raw path), labels non-empty.
pub fn match_pool_route<'a>(method: &str, raw_path: &'a str) -> Option<PoolRoute<'a>> {
    use PoolOperation as Op;
    let route = |operation, pool, identity, dataset, device| PoolRoute {
        operation,
        pool: Some(pool),
        identity,
        dataset,
        device,
    };
    if raw_path == "/identitypools" {
        return (method == "GET").then_some(PoolRoute {
            operation: Op::ListIdentityPoolUsage,
            pool: None,
            identity: None,
            dataset: None,
            device: None,
        });
    }
    let rest = raw_path.strip_prefix("/identitypools/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let found = match (method, parts.as_slice()) {
        ("GET", [pool]) => route(Op::DescribeIdentityPoolUsage, pool, None, None, None),
        ("POST", [pool, "bulkpublish"]) => route(Op::BulkPublish, pool, None, None, None),
        ("POST", [pool, "getBulkPublishDetails"]) => {
            route(Op::GetBulkPublishDetails, pool, None, None, None)
        }
        ("GET", [pool, "events"]) => route(Op::GetCognitoEvents, pool, None, None, None),
        ("POST", [pool, "events"]) => route(Op::SetCognitoEvents, pool, None, None, None),
        ("GET", [pool, "configuration"]) => {
            route(Op::GetIdentityPoolConfiguration, pool, None, None, None)
        }
        ("POST", [pool, "configuration"]) => {
            route(Op::SetIdentityPoolConfiguration, pool, None, None, None)
        }
        ("POST", [pool, "identity", identity, "device"]) => {
            route(Op::RegisterDevice, pool, Some(identity), None, None)
        }
        (
            "POST" | "DELETE",
            [
                pool,
                "identities",
                identity,
                "datasets",
                dataset,
                "subscriptions",
                device,
            ],
        ) => route(
            if method == "POST" {
                Op::SubscribeToDataset
            } else {
                Op::UnsubscribeFromDataset
            },
            pool,
            Some(identity),
            Some(dataset),
            Some(device),
        ),
        _ => return None,
    };
    Some(found)
}

/// A request of the eleven after steps 1–4.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolRequest {
    ListUsage {
        max_results: Option<i32>,
        next_token: Option<String>,
    },
    DescribeUsage(IdentityPoolId),
    BulkPublish(IdentityPoolId),
    GetBulkPublishDetails(IdentityPoolId),
    GetEvents(IdentityPoolId),
    SetEvents {
        pool: IdentityPoolId,
        events: BTreeMap<String, String>,
    },
    GetConfig(IdentityPoolId),
    SetConfig {
        pool: IdentityPoolId,
        push_sync: Option<PushSync>,
        cognito_streams: Option<CognitoStreams>,
    },
    RegisterDevice {
        identity: IdentityRef,
        platform: String,
        token: String,
    },
    Subscription {
        dataset: DatasetRef,
        device: DeviceId,
        subscribe: bool,
    },
}

/// Bodies of the operations without input members: a JSON object, members ignored.
#[derive(Debug, Default, Deserialize)]
struct NoMembers {}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EventsBody {
    events: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigBody {
    push_sync: Option<PushSync>,
    cognito_streams: Option<CognitoStreams>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeviceBody {
    platform: Option<String>,
    token: Option<String>,
}

/// Step 3: a body is a JSON object of the operation's shape (empty reads as `{}`); a
/// duplicate member or a member of the wrong JSON type cannot be read.
fn read_body<T: Default + serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Rejection> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Ok(T::default()),
        Some(b'{') => serde_json::from_slice(body).map_err(|e| serialization_error(&e)),
        Some(_) => Err(Rejection::serialization(
            "Request body is not a valid JSON document: expected a JSON object",
        )),
    }
}

/// A derived struct also reads a JSON array by position; the configuration's sections must be
/// objects (or null), as the shape says.
fn sections_are_objects(body: &[u8]) -> Result<(), Rejection> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| serialization_error(&e))?;
    for section in ["PushSync", "CognitoStreams"] {
        if value
            .get(section)
            .is_some_and(|s| !(s.is_object() || s.is_null()))
        {
            return Err(Rejection::serialization(format!(
                "Request body is not a valid JSON document: {section} must be an object"
            )));
        }
    }
    Ok(())
}

fn pattern(source: &'static str, cell: &'static OnceLock<Regex>) -> &'static Regex {
    cell.get_or_init(|| match Regex::new(&format!("^(?:{source})$")) {
        Ok(regex) => regex,
        Err(e) => unreachable!("the service model's pattern {source} is a valid regex: {e}"),
    })
}

fn check_application_arn(arn: &str) -> Result<(), ConstraintError> {
    static CELL: OnceLock<Regex> = OnceLock::new();
    if pattern(APPLICATION_ARN_PATTERN, &CELL).is_match(arn) {
        Ok(())
    } else {
        Err(ConstraintError::new(
            "ApplicationArns",
            Rule::Pattern(APPLICATION_ARN_PATTERN),
            arn,
        ))
    }
}

fn check_role_arn(arn: &str) -> Result<(), ConstraintError> {
    static CELL: OnceLock<Regex> = OnceLock::new();
    let chars = arn.chars().take(ROLE_ARN_LEN_MAX + 1).count();
    if chars < ROLE_ARN_LEN_MIN {
        return Err(ConstraintError::new(
            "RoleArn",
            Rule::LenMin(ROLE_ARN_LEN_MIN),
            arn,
        ));
    }
    if chars > ROLE_ARN_LEN_MAX {
        return Err(ConstraintError::new(
            "RoleArn",
            Rule::LenMax(ROLE_ARN_LEN_MAX),
            arn,
        ));
    }
    if !pattern(ROLE_ARN_PATTERN, &CELL).is_match(arn) {
        return Err(ConstraintError::new(
            "RoleArn",
            Rule::Pattern(ROLE_ARN_PATTERN),
            arn,
        ));
    }
    Ok(())
}

fn check_one_of(
    member: &'static str,
    values: &'static [&'static str],
    value: &str,
) -> Result<(), ConstraintError> {
    if values.contains(&value) {
        Ok(())
    } else {
        Err(ConstraintError::new(member, Rule::OneOf(values), value))
    }
}

/// Step 4 of SetIdentityPoolConfiguration: PushSync (ApplicationArns in order, RoleArn), then
/// CognitoStreams (StreamName, RoleArn, StreamingStatus).
fn validate_config(
    push: Option<&PushSync>,
    streams: Option<&CognitoStreams>,
) -> Result<(), ConstraintError> {
    if let Some(push) = push {
        for arn in push.application_arns.iter().flatten() {
            check_application_arn(arn)?;
        }
        if let Some(role) = &push.role_arn {
            check_role_arn(role)?;
        }
    }
    if let Some(streams) = streams {
        if let Some(name) = &streams.stream_name {
            let chars = name.chars().take(STREAM_NAME_LEN_MAX + 1).count();
            if chars < STREAM_NAME_LEN_MIN {
                return Err(ConstraintError::new(
                    "StreamName",
                    Rule::LenMin(STREAM_NAME_LEN_MIN),
                    name,
                ));
            }
            if chars > STREAM_NAME_LEN_MAX {
                return Err(ConstraintError::new(
                    "StreamName",
                    Rule::LenMax(STREAM_NAME_LEN_MAX),
                    name,
                ));
            }
        }
        if let Some(role) = &streams.role_arn {
            check_role_arn(role)?;
        }
        if let Some(status) = &streams.streaming_status {
            check_one_of("StreamingStatus", &STREAMING_STATUS_VALUES, status)?;
        }
    }
    Ok(())
}

fn pool_label(raw: Option<&str>) -> Result<IdentityPoolId, Rejection> {
    let raw = raw.ok_or_else(|| Rejection::internal("router produced an inconsistent route"))?;
    let decoded = decode_label(raw, IdentityPoolId::MEMBER, IDENTITY_PATTERN)?;
    Ok(IdentityPoolId::try_from(decoded.as_ref())?)
}

fn identity_label(raw: Option<&str>) -> Result<IdentityId, Rejection> {
    let raw = raw.ok_or_else(|| Rejection::internal("router produced an inconsistent route"))?;
    let decoded = decode_label(raw, IdentityId::MEMBER, IDENTITY_PATTERN)?;
    Ok(IdentityId::try_from(decoded.as_ref())?)
}

/// Steps 3 and 4 for a matched route of the eleven: body and query, then constraints (path
/// labels first, then body members in order).
pub fn parse_pool(
    route: PoolRoute<'_>,
    raw_query: Option<&str>,
    body: &[u8],
    fault: Option<Fault>,
    variant: Option<Variant>,
) -> Result<PoolRequest, Rejection> {
    use PoolOperation as Op;
    // Step 3.
    let (events, config, device) = match route.operation {
        Op::SetCognitoEvents => (Some(read_body::<EventsBody>(body)?), None, None),
        Op::SetIdentityPoolConfiguration => {
            let config = read_body::<ConfigBody>(body)?;
            sections_are_objects(body)?;
            (None, Some(config), None)
        }
        Op::RegisterDevice => (None, None, Some(read_body::<DeviceBody>(body)?)),
        _ => {
            read_body::<NoMembers>(body)?;
            (None, None, None)
        }
    };
    if route.operation == Op::ListIdentityPoolUsage {
        let query = read_query(
            raw_query.unwrap_or(""),
            variant == Some(Variant::BadQueryIgnored),
        )?;
        return Ok(PoolRequest::ListUsage {
            max_results: query.max_results,
            next_token: query.next_token,
        });
    }
    // Step 4.
    let pool = pool_label(route.pool)?;
    let request = match route.operation {
        Op::ListIdentityPoolUsage => {
            return Err(Rejection::internal("router produced an inconsistent route"));
        }
        Op::DescribeIdentityPoolUsage => PoolRequest::DescribeUsage(pool),
        Op::BulkPublish => PoolRequest::BulkPublish(pool),
        Op::GetBulkPublishDetails => PoolRequest::GetBulkPublishDetails(pool),
        Op::GetCognitoEvents => PoolRequest::GetEvents(pool),
        Op::GetIdentityPoolConfiguration => PoolRequest::GetConfig(pool),
        Op::SetCognitoEvents => {
            let events = events.unwrap_or_default().events;
            let Some(events) = events else {
                return Err(ConstraintError::required("Events").into());
            };
            if events.len() > EVENTS_MAX {
                let shown = format!("{events:?}");
                return Err(
                    ConstraintError::new("Events", Rule::LenMax(EVENTS_MAX), &shown).into(),
                );
            }
            PoolRequest::SetEvents { pool, events }
        }
        Op::SetIdentityPoolConfiguration => {
            let body = config.unwrap_or_default();
            validate_config(body.push_sync.as_ref(), body.cognito_streams.as_ref())?;
            PoolRequest::SetConfig {
                pool,
                push_sync: body.push_sync,
                cognito_streams: body.cognito_streams,
            }
        }
        Op::RegisterDevice => {
            let identity = identity_label(route.identity)?;
            let body = device.unwrap_or_default();
            let Some(platform) = body.platform else {
                return Err(ConstraintError::required("Platform").into());
            };
            if fault != Some(Fault::RegisterDeviceBadPlatformAccepted) {
                check_one_of("Platform", &PLATFORM_VALUES, &platform)?;
            }
            let Some(token) = body.token else {
                return Err(ConstraintError::required("Token").into());
            };
            PoolRequest::RegisterDevice {
                identity: IdentityRef { pool, identity },
                platform,
                token,
            }
        }
        Op::SubscribeToDataset | Op::UnsubscribeFromDataset => {
            let identity = identity_label(route.identity)?;
            let raw = route
                .dataset
                .ok_or_else(|| Rejection::internal("router produced an inconsistent route"))?;
            let name = decode_label(raw, DatasetName::MEMBER, DATASET_NAME_PATTERN)?;
            let dataset = DatasetName::try_from(name.as_ref())?;
            let raw = route
                .device
                .ok_or_else(|| Rejection::internal("router produced an inconsistent route"))?;
            let device = decode_label(raw, DeviceId::MEMBER, ".*")?;
            let device = DeviceId::try_from(device.as_ref())?;
            PoolRequest::Subscription {
                dataset: DatasetRef {
                    pool,
                    identity,
                    dataset,
                },
                device,
                subscribe: route.operation == Op::SubscribeToDataset,
            }
        }
    };
    Ok(request)
}

fn to_json(value: &Value) -> Result<Vec<u8>, Rejection> {
    serde_json::to_vec(value).map_err(|e| Rejection::internal(format!("cannot encode answer: {e}")))
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn usage_json(pool: &str, usage: PoolUsage) -> Value {
    let mut out = json!({
        "IdentityPoolId": pool,
        "SyncSessionsCount": usage.sync_sessions,
        "DataStorage": usage.data_storage,
    });
    if let (Some(ms), Some(members)) = (usage.last_modified_ms, out.as_object_mut()) {
        members.insert("LastModifiedDate".to_owned(), json!(seconds(ms)));
    }
    out
}

fn config_json(pool: &str, config: &PoolConfig) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("IdentityPoolId".to_owned(), json!(pool));
    if let Some(push) = &config.push_sync {
        out.insert("PushSync".to_owned(), json!(push));
    }
    if let Some(streams) = &config.cognito_streams {
        out.insert("CognitoStreams".to_owned(), json!(streams));
    }
    Value::Object(out)
}

/// The platform segment of an SNS platform application ARN (`…:app/<PLATFORM>/<name>`).
fn arn_platform(arn: &str) -> Option<&str> {
    arn.split_once(":app/")?.1.split('/').next()
}

/// Where a bulk publish stands at `now_ms`: (status, complete time if done).
fn bulk_status(row: Option<BulkPublishRow>, now_ms: i64) -> (&'static str, Option<i64>) {
    match row {
        None => ("NOT_STARTED", None),
        Some(BulkPublishRow {
            complete_ms: Some(done),
            ..
        }) if now_ms >= done => ("SUCCEEDED", Some(done)),
        Some(_) => ("IN_PROGRESS", None),
    }
}

impl Service {
    /// Runs one request of the eleven; `Ok` is the body of the 200 answer.
    pub fn execute_pool(&self, request: PoolRequest) -> Result<Vec<u8>, Rejection> {
        let now_ms = self.clock().now_ms();
        match request {
            PoolRequest::ListUsage {
                max_results,
                next_token,
            } => self.list_pool_usage(max_results, next_token, now_ms),
            PoolRequest::DescribeUsage(pool) => {
                self.pool_must_be_known(&pool)?;
                let usage = self.lagging_usage(pool.as_str(), now_ms, None)?;
                to_json(&json!({"IdentityPoolUsage": usage_json(pool.as_str(), usage)}))
            }
            PoolRequest::GetBulkPublishDetails(pool) => {
                self.pool_must_be_known(&pool)?;
                let row = self.store().bulk_publish(pool.as_str())?;
                let (status, complete) = bulk_status(row, now_ms);
                let mut out = json!({"IdentityPoolId": pool.as_str(), "BulkPublishStatus": status});
                if let Some(members) = out.as_object_mut() {
                    if let Some(row) = row {
                        members.insert(
                            "BulkPublishStartTime".to_owned(),
                            json!(seconds(row.start_ms)),
                        );
                    }
                    if let Some(done) = complete {
                        members.insert("BulkPublishCompleteTime".to_owned(), json!(seconds(done)));
                    }
                }
                to_json(&out)
            }
            PoolRequest::BulkPublish(pool) => self.bulk_publish(&pool, now_ms),
            PoolRequest::GetEvents(pool) => {
                self.pool_must_be_known(&pool)?;
                let events = self.store().events(pool.as_str())?;
                to_json(&json!({"Events": events}))
            }
            PoolRequest::SetEvents { pool, events } => {
                if !self.variant_is(Variant::EventTypeStored)
                    && let Some(other) = events.keys().find(|k| *k != SYNC_TRIGGER_EVENT)
                {
                    return Err(Rejection::invalid_parameter(format!(
                        "Event type not supported: {other}; the only event type is \
                         {SYNC_TRIGGER_EVENT}"
                    )));
                }
                let replace_whole = self.fault_is(Fault::EventsReplacedWhole);
                let keep_empty = self.fault_is(Fault::EventEmptyValueStored);
                self.store().set_events(pool.as_str(), |stored| {
                    if replace_whole {
                        stored.clear();
                    }
                    for (event, arn) in events {
                        if arn.is_empty() && !keep_empty {
                            stored.remove(&event);
                        } else {
                            stored.insert(event, arn);
                        }
                    }
                })?;
                Ok(Vec::new())
            }
            PoolRequest::GetConfig(pool) => {
                self.pool_must_be_known(&pool)?;
                let config = self.store().pool_config(pool.as_str())?;
                to_json(&config_json(pool.as_str(), &config))
            }
            PoolRequest::SetConfig {
                pool,
                push_sync,
                cognito_streams,
            } => self.set_config(&pool, push_sync, cognito_streams),
            PoolRequest::RegisterDevice {
                identity,
                platform,
                token,
            } => self.register_device(&identity, &platform, &token),
            PoolRequest::Subscription {
                dataset,
                device,
                subscribe,
            } => self.subscription(&dataset, &device, subscribe),
        }
    }

    /// AMB-POOL-EMPTY: the reference answers a pool with nothing stored as an empty one; the
    /// pool-empty-404 variant refuses it.
    fn pool_must_be_known(&self, pool: &IdentityPoolId) -> Result<(), Rejection> {
        if self.variant_is(Variant::PoolEmpty404) && !self.store().pool_known(pool.as_str())? {
            return Err(Rejection::not_found(format!(
                "Identity pool {pool} has nothing stored"
            )));
        }
        Ok(())
    }

    /// The pool's usage; under the usage-lag variant, as computed up to 5 s ago. `fresh` is
    /// a figure already read (by a list) to use when a new one is due.
    fn lagging_usage(
        &self,
        pool: &str,
        now_ms: i64,
        fresh: Option<PoolUsage>,
    ) -> Result<PoolUsage, Rejection> {
        if !self.variant_is(Variant::UsageLag) {
            return match fresh {
                Some(usage) => Ok(usage),
                None => self.store().pool_usage(pool),
            };
        }
        let mut cache = self.usage_cache();
        if let Some((at, usage)) = cache.get(pool)
            && now_ms.saturating_sub(*at) < USAGE_LAG_MS
        {
            return Ok(*usage);
        }
        let usage = match fresh {
            Some(usage) => usage,
            None => self.store().pool_usage(pool)?,
        };
        cache.insert(pool.to_owned(), (now_ms, usage));
        Ok(usage)
    }

    fn list_pool_usage(
        &self,
        max_results: Option<i32>,
        next_token: Option<String>,
        now_ms: i64,
    ) -> Result<Vec<u8>, Rejection> {
        let default = LIST_POOL_USAGE_MAX_RESULTS_DEFAULT;
        let max_results = match max_results {
            Some(n) if n < 1 && self.variant_is(Variant::MaxResultsBelowOneAsDefault) => None,
            other => other,
        };
        let page = match max_results {
            Some(n) if n < 1 => {
                return Err(Rejection::invalid_parameter(format!(
                    "maxResults must be greater than or equal to 1, not {n}"
                )));
            }
            Some(n) => n.min(default),
            None => default,
        };
        let after = match next_token {
            Some(token) => match self.keys().check_pools_page(&token) {
                Some(after) => Some(after),
                None if self.variant_is(Variant::GarbageNextTokenFirstPage) => None,
                None => return Err(Rejection::invalid_next_token()),
            },
            None => None,
        };
        let limit = usize::try_from(page).unwrap_or(1);
        let mut pools = self.store().list_pool_usage(after.as_deref(), limit)?;
        let next_token = if pools.len() > limit {
            let last = if self.fault_is(Fault::PoolListSkipsOne) {
                pools.get(limit)
            } else {
                pools.get(limit - 1)
            };
            let token = last.map(|(pool, _)| self.keys().issue_pools_page(pool));
            pools.truncate(limit);
            token
        } else {
            None
        };
        let mut usages = Vec::with_capacity(pools.len());
        for (pool, usage) in pools {
            let usage = self.lagging_usage(&pool, now_ms, Some(usage))?;
            usages.push(usage_json(&pool, usage));
        }
        let mut out = json!({
            "IdentityPoolUsages": usages,
            "MaxResults": page,
            "Count": usages.len(),
        });
        if let (Some(token), Some(members)) = (next_token, out.as_object_mut()) {
            members.insert("NextToken".to_owned(), json!(token));
        }
        to_json(&out)
    }

    fn set_config(
        &self,
        pool: &IdentityPoolId,
        push_sync: Option<PushSync>,
        cognito_streams: Option<CognitoStreams>,
    ) -> Result<Vec<u8>, Rejection> {
        let merge_clears = self.variant_is(Variant::ConfigMergeClears);
        let empty_clears = self.variant_is(Variant::ConfigEmptyClears);
        let streams_dropped = self.fault_is(Fault::ConfigStreamsDropped);
        let sent_streams = cognito_streams.clone();
        let mut stored = self.store().update_pool_config(pool.as_str(), |config| {
            match push_sync {
                Some(section) if empty_clears && section == PushSync::default() => {
                    config.push_sync = None;
                }
                Some(section) => config.push_sync = Some(section),
                None if merge_clears => config.push_sync = None,
                None => {}
            }
            if streams_dropped {
                return;
            }
            match cognito_streams {
                Some(section) if empty_clears && section == CognitoStreams::default() => {
                    config.cognito_streams = None;
                }
                Some(section) => config.cognito_streams = Some(section),
                None if merge_clears => config.cognito_streams = None,
                None => {}
            }
        })?;
        if streams_dropped && sent_streams.is_some() {
            // The fault answers what it was sent, as if stored.
            stored.cognito_streams = sent_streams;
        }
        to_json(&config_json(pool.as_str(), &stored))
    }

    fn register_device(
        &self,
        identity: &IdentityRef,
        platform: &str,
        token: &str,
    ) -> Result<Vec<u8>, Rejection> {
        let known_platform = PLATFORM_VALUES.contains(&platform);
        if !self.variant_is(Variant::PushConfigNotRequired) && known_platform {
            let config = self.store().pool_config(identity.pool.as_str())?;
            let configured = config
                .push_sync
                .and_then(|p| p.application_arns)
                .is_some_and(|arns| arns.iter().any(|a| arn_platform(a) == Some(platform)));
            if !configured {
                return Err(Rejection::new(
                    ErrorKind::InvalidConfiguration,
                    format!(
                        "Identity pool {} has no PushSync application ARN for platform {platform}",
                        identity.pool
                    ),
                ));
            }
        }
        let new_id = format!("{:032x}", rand::random::<u128>());
        let device_id = self.store().register_device(
            identity.pool.as_str(),
            identity.identity.as_str(),
            platform,
            token,
            new_id,
            self.variant_is(Variant::NewDeviceIdEachTime),
        )?;
        to_json(&json!({"DeviceId": device_id}))
    }

    fn subscription(
        &self,
        dataset: &DatasetRef,
        device: &DeviceId,
        subscribe: bool,
    ) -> Result<Vec<u8>, Rejection> {
        let (pool, identity) = (dataset.pool.as_str(), dataset.identity.as_str());
        let registered = self
            .store()
            .device_registered(pool, identity, device.as_str())?;
        if !registered && !self.fault_is(Fault::SubscribeUnregisteredAccepted) {
            let message = format!("Device {device} is not registered for identity {identity}");
            return Err(if self.variant_is(Variant::DeviceUnknown400) {
                Rejection::invalid_parameter(message)
            } else {
                Rejection::not_found(message)
            });
        }
        let key = [pool, identity, dataset.dataset.as_str(), device.as_str()];
        let changed = self.store().set_subscription(key, subscribe)?;
        if !subscribe && !changed && self.variant_is(Variant::UnsubscribeNotSubscribed404) {
            return Err(Rejection::not_found(format!(
                "Device {device} is not subscribed to dataset {}",
                dataset.dataset
            )));
        }
        to_json(&json!({}))
    }

    fn bulk_publish(&self, pool: &IdentityPoolId, now_ms: i64) -> Result<Vec<u8>, Rejection> {
        let config = self.store().pool_config(pool.as_str())?;
        let Some(stream_name) = config.cognito_streams.and_then(|s| s.stream_name) else {
            let kind = if self.variant_is(Variant::BulkNoStreamInvalidConfiguration) {
                ErrorKind::InvalidConfiguration
            } else {
                ErrorKind::InvalidParameter
            };
            return Err(Rejection::new(
                kind,
                format!("Identity pool {pool} has no Cognito stream configured"),
            ));
        };
        let duration_ms = if self.variant_is(Variant::BulkPublishInstant) {
            0
        } else {
            i64::try_from(BULK_PUBLISH_SECS_REFERENCE * 1000).unwrap_or(i64::MAX)
        };
        let next = BulkPublishRow {
            start_ms: now_ms,
            complete_ms: (!self.fault_is(Fault::BulkPublishNeverCompletes))
                .then(|| now_ms.saturating_add(duration_ms)),
        };
        let duplicate_accepted = self.fault_is(Fault::BulkPublishDuplicateAccepted);
        let interval_ms = i64::try_from(BULK_PUBLISH_INTERVAL_SECS * 1000).unwrap_or(i64::MAX);
        self.store()
            .start_bulk_publish(pool.as_str(), next, |latest| {
                match bulk_status(latest, now_ms) {
                    ("IN_PROGRESS", _) if !duplicate_accepted => Err(Rejection::new(
                        ErrorKind::DuplicateRequest,
                        format!("A bulk publish of identity pool {pool} is in progress"),
                    )),
                    ("SUCCEEDED", Some(done)) if now_ms < done.saturating_add(interval_ms) => {
                        Err(Rejection::new(
                            ErrorKind::AlreadyStreamed,
                            format!(
                                "Identity pool {pool} was bulk published less than 24 hours ago"
                            ),
                        ))
                    }
                    _ => Ok(()),
                }
            })?;
        self.publish_pool(pool.as_str(), &stream_name)?;
        to_json(&json!({"IdentityPoolId": pool.as_str()}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unmodelled_route_of_the_service_is_matched_and_no_modelled_one() {
        for route in crate::spec::ROUTES {
            let path = route
                .template
                .split('/')
                .map(|s| if s.starts_with('{') { "x%3A0" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let found = match_pool_route(route.method, &path);
            assert_eq!(found.is_some(), !route.modelled, "{path}");
        }
        for (method, path) in [
            ("POST", "/identitypools"),
            ("GET", "/identitypools/"),
            ("GET", "/identitypools/p/events/"),
            ("PUT", "/identitypools/p/events"),
            ("GET", "/identitypools/p/bulkpublish"),
            ("POST", "/identitypools/p/identity//device"),
        ] {
            assert_eq!(match_pool_route(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn arn_patterns_are_anchored() {
        assert!(check_application_arn("arn:aws:sns:us-east-1:123:app/GCM/my-app").is_ok());
        assert!(check_application_arn("xarn:aws:sns:us-east-1:123:app/GCM/my-app").is_err());
        assert!(check_application_arn("arn:aws:sns:us-east-1:123:app/gcm/my-app").is_err());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/r").is_ok());
        assert!(check_role_arn("arn:aws:iam::1:role").is_err(), "too short");
        assert!(check_role_arn("arn:aws:iam::x23456789012:role/r").is_err());
        assert_eq!(
            arn_platform("arn:aws:sns:us-east-1:1:app/APNS_SANDBOX/a"),
            Some("APNS_SANDBOX")
        );
    }
}
