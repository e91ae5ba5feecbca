//! The model of the eleven pool-level and push-sync operations (spec §11): what a conforming
//! endpoint may answer to each, given what the model knows of the pool, and how the pool
//! changes along the outcome the endpoint took.
//!
//! The same three steps as the dataset model: [`Model::expect_pool`] lists every allowed
//! outcome (reference first, AMB- rows named), [`PoolExpectation::judge`] matches the answer,
//! [`Model::advance_pool`] follows it. Some outcomes carry what only the answer can say (the
//! DeviceId the endpoint chose, the bulk publish status it reached), so advancing reads the
//! answer too. Pool usage is computed from the dataset model's own identities, so it is
//! consistent with the datasets the suite wrote (POOL-1, POOL-2).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::judge::{Judgement, Mismatch, check_error, write_outcomes};
use super::{Ambiguity, Model};
use crate::spec::{
    APPLICATION_ARN_PATTERN, BulkPublishDetails, CognitoStreams, DatasetName, DatasetPath,
    DeviceId, EVENTS_MAX, ErrorKind, IdentityId, IdentityPath, IdentityPoolId, IdentityPoolUsage,
    ListIdentityPoolUsageResponse, PLATFORM_VALUES, PoolConfigurationBody,
    PoolConfigurationResponse, PoolRequest, PushSync, ROLE_ARN_LEN_MAX, ROLE_ARN_LEN_MIN,
    ROLE_ARN_PATTERN, STREAM_NAME_LEN_MAX, STREAM_NAME_LEN_MIN, STREAMING_STATUS_VALUES,
    SYNC_TRIGGER_EVENT,
};

/// What the model remembers of one pool beyond its identities' datasets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct PoolState {
    /// The stored configuration; `None` until a Set succeeds (CFG-2).
    configuration: Option<PoolConfigurationBody>,
    /// EVT-1: the stored events.
    events: BTreeMap<String, String>,
    /// DEV-1: (identity, platform, token) → every DeviceId the endpoint returned for it.
    registrations: BTreeMap<(String, String, String), BTreeSet<String>>,
    /// DEV-2: identity → DeviceIds registered for it.
    devices: BTreeMap<String, BTreeSet<String>>,
    /// DEV-2: (identity, dataset, device) subscriptions.
    subscriptions: BTreeSet<(String, String, String)>,
    bulk: BulkState,
    /// POOL-1: `SyncSessionsCount` never decreases; the highest one seen.
    sync_sessions_seen: i64,
}

/// BULK-2 as far as the endpoint has shown it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum BulkState {
    #[default]
    NotStarted,
    /// Started; still running or done, the endpoint has not said (AMB-BULK-TIME).
    Started,
    Succeeded,
    Failed,
}

/// Every outcome a conforming endpoint may choose for one call of the eleven.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolExpectation {
    pub outcomes: Vec<PoolOutcome>,
}

/// One allowed outcome; `ambiguities` is empty for the reference and the outcomes as good.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolOutcome {
    pub ambiguities: Vec<Ambiguity>,
    pub expected: PoolExpected,
    effect: PoolEffect,
}

/// What the endpoint answers in one outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolExpected {
    /// Any of these kinds, with its status and a message (ERR-1, ERR-2).
    Error(Vec<ErrorKind>),
    /// POOL-1.
    Usage(ExpectedPoolUsage),
    /// POOL-2: each pool of `pools` exactly once over the walk, other pools ignored; pages of
    /// at most `page_size_max` when the caller sent `maxResults`.
    UsageList {
        pools: Vec<ExpectedPoolUsage>,
        page_size_max: Option<usize>,
    },
    /// CFG-1, CFG-2: the stored configuration.
    Configuration {
        identity_pool_id: String,
        stored: PoolConfigurationBody,
    },
    /// EVT-1 GetCognitoEvents.
    Events(BTreeMap<String, String>),
    /// A 2xx with `{}` or no body (SetCognitoEvents, Subscribe, Unsubscribe).
    Done,
    /// DEV-1: a DeviceId of 1–256 chars; one of `same_as` when it is not empty.
    Device { same_as: BTreeSet<String> },
    /// BULK-1.
    BulkStarted { identity_pool_id: String },
    /// BULK-2: one of `statuses`, with the times each status carries.
    BulkDetails {
        identity_pool_id: String,
        statuses: Vec<&'static str>,
    },
}

/// One pool's usage as the model computes it from the datasets it saw written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPoolUsage {
    pub identity_pool_id: String,
    pub data_storage: i64,
    /// POOL-1: never below the highest count seen.
    pub sync_sessions_min: i64,
    /// Whether the pool holds data (POOL-2: it must be listed).
    pub holds_data: bool,
}

/// How an outcome changes the pool.
#[derive(Debug, Clone, PartialEq)]
enum PoolEffect {
    Unchanged,
    Configure(PoolConfigurationBody),
    Events(BTreeMap<String, String>),
    /// The DeviceId comes from the answer.
    Register {
        identity: String,
        platform: String,
        token: String,
    },
    Subscribe((String, String, String)),
    Unsubscribe((String, String, String)),
    Bulk(BulkState),
    /// The status comes from the answer.
    BulkFromDetails,
    /// The sync sessions count comes from the answer.
    Usage,
}

/// What the endpoint answered to one call of the eleven, built by the suite from HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolObserved {
    Error {
        status: u16,
        kind: Option<ErrorKind>,
        message: Option<String>,
    },
    Usage(Option<IdentityPoolUsage>),
    UsagePages(Vec<ListIdentityPoolUsageResponse>),
    Configuration(PoolConfigurationResponse),
    Events(Option<BTreeMap<String, String>>),
    Done,
    Device(Option<String>),
    BulkStarted(Option<String>),
    BulkDetails(BulkPublishDetails),
}

impl PoolOutcome {
    fn new(expected: PoolExpected, effect: PoolEffect, ambiguities: Vec<Ambiguity>) -> Self {
        PoolOutcome {
            ambiguities,
            expected,
            effect,
        }
    }

    fn error(kinds: &[ErrorKind], ambiguities: Vec<Ambiguity>) -> Self {
        PoolOutcome::new(
            PoolExpected::Error(kinds.to_vec()),
            PoolEffect::Unchanged,
            ambiguities,
        )
    }

    /// Whether this outcome refuses the call.
    pub fn is_error(&self) -> bool {
        matches!(self.expected, PoolExpected::Error(_))
    }
}

/// The pool a call names, if it names one.
pub fn pool_of(call: &PoolRequest) -> Option<&str> {
    match call {
        PoolRequest::ListIdentityPoolUsage { .. } => None,
        PoolRequest::DescribeIdentityPoolUsage { identity_pool_id }
        | PoolRequest::SetIdentityPoolConfiguration {
            identity_pool_id, ..
        }
        | PoolRequest::GetIdentityPoolConfiguration { identity_pool_id }
        | PoolRequest::SetCognitoEvents {
            identity_pool_id, ..
        }
        | PoolRequest::GetCognitoEvents { identity_pool_id }
        | PoolRequest::BulkPublish { identity_pool_id }
        | PoolRequest::GetBulkPublishDetails { identity_pool_id } => Some(identity_pool_id),
        PoolRequest::RegisterDevice { identity, .. } => Some(&identity.identity_pool_id),
        PoolRequest::SubscribeToDataset { path, .. }
        | PoolRequest::UnsubscribeFromDataset { path, .. } => Some(&path.identity_pool_id),
    }
}

impl Model {
    /// Every allowed outcome of `call`, reference first.
    pub fn expect_pool(&self, call: &PoolRequest) -> PoolExpectation {
        let mut outcomes = expect(self, call);
        // AMB-OTHER-CREDENTIALS: any call of the eleven may be refused to a caller the
        // endpoint does not accept.
        outcomes.push(PoolOutcome::error(
            &[ErrorKind::NotAuthorized],
            vec![Ambiguity::OtherCredentials],
        ));
        PoolExpectation { outcomes }
    }

    /// Advances along outcome `index` of `expectation` (from [`Model::expect_pool`] on this
    /// state), reading from `observed` what only the endpoint decides.
    pub fn advance_pool(
        &mut self,
        call: &PoolRequest,
        expectation: &PoolExpectation,
        index: usize,
        observed: &PoolObserved,
    ) {
        let Some(outcome) = expectation.outcomes.get(index) else {
            return;
        };
        let Some(pool) = pool_of(call) else {
            return;
        };
        let state = self.pools.entry(pool.to_owned()).or_default();
        match (&outcome.effect, observed) {
            (PoolEffect::Unchanged, _) => {}
            (PoolEffect::Configure(stored), _) => state.configuration = Some(stored.clone()),
            (PoolEffect::Events(events), _) => {
                state.events = events.clone();
            }
            (
                PoolEffect::Register {
                    identity,
                    platform,
                    token,
                },
                PoolObserved::Device(Some(device)),
            ) => {
                state
                    .registrations
                    .entry((identity.clone(), platform.clone(), token.clone()))
                    .or_default()
                    .insert(device.clone());
                state
                    .devices
                    .entry(identity.clone())
                    .or_default()
                    .insert(device.clone());
            }
            (PoolEffect::Register { .. }, _) => {}
            (PoolEffect::Subscribe(key), _) => {
                state.subscriptions.insert(key.clone());
            }
            (PoolEffect::Unsubscribe(key), _) => {
                state.subscriptions.remove(key);
            }
            (PoolEffect::Bulk(bulk), _) => state.bulk = *bulk,
            (PoolEffect::BulkFromDetails, PoolObserved::BulkDetails(details)) => {
                state.bulk = match details.bulk_publish_status.as_deref() {
                    Some("SUCCEEDED") => BulkState::Succeeded,
                    Some("FAILED") => BulkState::Failed,
                    Some("IN_PROGRESS") => BulkState::Started,
                    _ => state.bulk,
                };
            }
            (PoolEffect::BulkFromDetails, _) => {}
            (PoolEffect::Usage, PoolObserved::Usage(Some(usage))) => {
                if let Some(count) = usage.sync_sessions_count {
                    state.sync_sessions_seen = state.sync_sessions_seen.max(count);
                }
            }
            (PoolEffect::Usage, _) => {}
        }
    }

    /// expect + judge + advance, as [`Model::observe`] does for the dataset API.
    pub fn observe_pool(&mut self, call: &PoolRequest, observed: &PoolObserved) -> Judgement {
        let expectation = self.expect_pool(call);
        let (judgement, matched) = expectation.judge(observed);
        if let Some(index) = matched {
            self.advance_pool(call, &expectation, index, observed);
        }
        judgement
    }

    /// The pool's usage as the datasets the model saw written make it (POOL-1).
    pub fn pool_usage(&self, pool: &str) -> ExpectedPoolUsage {
        let mut data_storage = 0i64;
        let mut holds_data = false;
        for ((identity_pool, _), identity) in &self.identities {
            if identity_pool != pool {
                continue;
            }
            for (_, live) in identity.live_datasets() {
                holds_data = true;
                data_storage += i64::try_from(live.live_bytes()).unwrap_or(i64::MAX);
            }
        }
        ExpectedPoolUsage {
            identity_pool_id: pool.to_owned(),
            data_storage,
            sync_sessions_min: self.pools.get(pool).map_or(0, |p| p.sync_sessions_seen),
            holds_data,
        }
    }

    /// The bulk publish state of the pool, as far as the endpoint has shown it.
    pub fn bulk_state(&self, pool: &str) -> BulkState {
        self.pools
            .get(pool)
            .map_or(BulkState::NotStarted, |p| p.bulk)
    }

    /// DeviceIds the endpoint returned for the identity (DEV-1).
    pub fn devices_of(&self, identity: &IdentityPath) -> BTreeSet<String> {
        self.pools
            .get(&identity.identity_pool_id)
            .and_then(|p| p.devices.get(&identity.identity_id))
            .cloned()
            .unwrap_or_default()
    }
}

const BAD_INPUT: [ErrorKind; 2] = [ErrorKind::Validation, ErrorKind::InvalidParameter];

fn expect(model: &Model, call: &PoolRequest) -> Vec<PoolOutcome> {
    let violations = violations(call);
    let state = pool_of(call)
        .and_then(|pool| model.pools.get(pool))
        .cloned()
        .unwrap_or_default();
    let outcomes = expect_valid(model, call, &state);
    if violations.is_empty() {
        return outcomes;
    }
    // VAL-1, with AMB-VALIDATION-CODE; a refusal the call would get for the state is allowed
    // as well, checked first (AMB-X-ERROR-PRECEDENCE).
    let mut refused = vec![PoolOutcome::error(
        &[
            ErrorKind::Validation,
            ErrorKind::InvalidParameter,
            ErrorKind::Serialization,
        ],
        Vec::new(),
    )];
    refused.extend(
        outcomes
            .into_iter()
            .filter(PoolOutcome::is_error)
            .map(|mut o| {
                o.ambiguities.push(Ambiguity::ErrorPrecedence);
                o
            }),
    );
    refused
}

/// Constraint violations of the call's members (§5, CFG-1, EVT-1, DEV-1, DEV-2).
fn violations(call: &PoolRequest) -> Vec<String> {
    let mut found = Vec::new();
    let mut pool = |id: &str| {
        if let Err(e) = IdentityPoolId::check(id) {
            found.push(e.to_string());
        }
    };
    match call {
        PoolRequest::ListIdentityPoolUsage { .. } => {}
        PoolRequest::DescribeIdentityPoolUsage { identity_pool_id }
        | PoolRequest::GetIdentityPoolConfiguration { identity_pool_id }
        | PoolRequest::GetCognitoEvents { identity_pool_id }
        | PoolRequest::BulkPublish { identity_pool_id }
        | PoolRequest::GetBulkPublishDetails { identity_pool_id } => pool(identity_pool_id),
        PoolRequest::SetIdentityPoolConfiguration {
            identity_pool_id,
            body,
        } => {
            pool(identity_pool_id);
            found.extend(configuration_violations(body));
        }
        PoolRequest::SetCognitoEvents {
            identity_pool_id,
            body,
        } => {
            pool(identity_pool_id);
            match &body.events {
                None => found.push("Events is required".to_owned()),
                Some(events) if events.len() > EVENTS_MAX => {
                    found.push(format!("Events holds at most {EVENTS_MAX} entry"));
                }
                Some(_) => {}
            }
        }
        PoolRequest::RegisterDevice { identity, body } => {
            pool(&identity.identity_pool_id);
            if let Err(e) = IdentityId::check(&identity.identity_id) {
                found.push(e.to_string());
            }
            match body.platform.as_deref() {
                None => found.push("Platform is required".to_owned()),
                Some(p) if !PLATFORM_VALUES.contains(&p) => {
                    found.push(format!("Platform {p:?} is not one of {PLATFORM_VALUES:?}"));
                }
                Some(_) => {}
            }
            if body.token.is_none() {
                found.push("Token is required".to_owned());
            }
        }
        PoolRequest::SubscribeToDataset { path, device_id }
        | PoolRequest::UnsubscribeFromDataset { path, device_id } => {
            pool(&path.identity_pool_id);
            for check in [
                IdentityId::check(&path.identity_id),
                DatasetName::check(&path.dataset_name),
                DeviceId::check(device_id),
            ] {
                if let Err(e) = check {
                    found.push(e.to_string());
                }
            }
        }
    }
    found
}

static APPLICATION_ARN: LazyLock<Regex> = LazyLock::new(|| whole(APPLICATION_ARN_PATTERN));
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| whole(ROLE_ARN_PATTERN));

/// The service model's patterns match the whole value.
fn whole(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).unwrap_or_else(|_| Regex::new("^$").expect("regex"))
}

fn role_arn_violation(member: &str, role: &str) -> Option<String> {
    let len = role.chars().count();
    if !(ROLE_ARN_LEN_MIN..=ROLE_ARN_LEN_MAX).contains(&len) || !ROLE_ARN.is_match(role) {
        Some(format!(
            "{member} {role:?} is not a role ARN of 20–2048 chars"
        ))
    } else {
        None
    }
}

/// CFG-1's constraints.
pub fn configuration_violations(body: &PoolConfigurationBody) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(push) = &body.push_sync {
        for arn in push.application_arns.iter().flatten() {
            if !APPLICATION_ARN.is_match(arn) {
                found.push(format!(
                    "ApplicationArn {arn:?} is not an SNS application ARN"
                ));
            }
        }
        if let Some(role) = &push.role_arn {
            found.extend(role_arn_violation("PushSync.RoleArn", role));
        }
    }
    if let Some(streams) = &body.cognito_streams {
        if let Some(name) = &streams.stream_name {
            let len = name.chars().count();
            if !(STREAM_NAME_LEN_MIN..=STREAM_NAME_LEN_MAX).contains(&len) {
                found.push(format!("StreamName is {len} chars, not 1–128"));
            }
        }
        if let Some(role) = &streams.role_arn {
            found.extend(role_arn_violation("CognitoStreams.RoleArn", role));
        }
        if let Some(status) = &streams.streaming_status
            && !STREAMING_STATUS_VALUES.contains(&status.as_str())
        {
            found.push(format!(
                "StreamingStatus {status:?} is not ENABLED or DISABLED"
            ));
        }
    }
    found
}

/// The platform an SNS application ARN is for: `…:app/<PLATFORM>/<name>`.
fn arn_platform(arn: &str) -> Option<&str> {
    arn.split_once(":app/")?.1.split('/').next()
}

fn success(expected: PoolExpected, effect: PoolEffect) -> PoolOutcome {
    PoolOutcome::new(expected, effect, Vec::new())
}

/// The outcomes of a call whose members are valid.
fn expect_valid(model: &Model, call: &PoolRequest, state: &PoolState) -> Vec<PoolOutcome> {
    // AMB-POOL-EMPTY, read per operation (precision first): a pool that has nothing stored of
    // what the operation reads may answer 404.
    let empty_404 = |empty: bool| {
        empty
            .then(|| PoolOutcome::error(&[ErrorKind::ResourceNotFound], vec![Ambiguity::PoolEmpty]))
    };
    match call {
        PoolRequest::DescribeIdentityPoolUsage { identity_pool_id } => {
            let usage = model.pool_usage(identity_pool_id);
            let empty = !usage.holds_data;
            let mut outcomes = vec![success(PoolExpected::Usage(usage), PoolEffect::Usage)];
            outcomes.extend(empty_404(empty));
            outcomes
        }
        PoolRequest::ListIdentityPoolUsage { max_results, .. } => {
            let pools = model
                .pools
                .keys()
                .chain(model.identities.keys().map(|(pool, _)| pool))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|pool| model.pool_usage(pool))
                .collect();
            let mut outcomes = vec![success(
                PoolExpected::UsageList {
                    pools,
                    page_size_max: max_results
                        .filter(|m| *m >= 1)
                        .map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
                },
                PoolEffect::Unchanged,
            )];
            if max_results.is_some_and(|m| m < 1) {
                // AMB-MAX-RESULTS: refused (reference) or read as the default.
                outcomes.insert(0, PoolOutcome::error(&BAD_INPUT, Vec::new()));
                outcomes[1].ambiguities.push(Ambiguity::MaxResults);
            }
            outcomes
        }
        PoolRequest::SetIdentityPoolConfiguration {
            identity_pool_id,
            body,
        } => set_configuration(identity_pool_id, body, state),
        PoolRequest::GetIdentityPoolConfiguration { identity_pool_id } => {
            let stored = state.configuration.clone().unwrap_or_default();
            let mut outcomes = vec![success(
                PoolExpected::Configuration {
                    identity_pool_id: identity_pool_id.clone(),
                    stored,
                },
                PoolEffect::Unchanged,
            )];
            let sections = state
                .configuration
                .as_ref()
                .is_some_and(|c| c.push_sync.is_some() || c.cognito_streams.is_some());
            outcomes.extend(empty_404(!sections));
            outcomes
        }
        PoolRequest::SetCognitoEvents { body, .. } => {
            let sent = body.events.clone().unwrap_or_default();
            let mut events = state.events.clone();
            for (kind, arn) in &sent {
                if arn.is_empty() {
                    events.remove(kind);
                } else {
                    events.insert(kind.clone(), arn.clone());
                }
            }
            let stored = success(PoolExpected::Done, PoolEffect::Events(events));
            if sent.keys().all(|k| k == SYNC_TRIGGER_EVENT) {
                vec![stored]
            } else {
                let mut other = stored;
                other.ambiguities.push(Ambiguity::EventType);
                vec![
                    PoolOutcome::error(
                        &[ErrorKind::InvalidParameter, ErrorKind::Validation],
                        Vec::new(),
                    ),
                    other,
                ]
            }
        }
        PoolRequest::GetCognitoEvents { .. } => {
            let mut outcomes = vec![success(
                PoolExpected::Events(state.events.clone()),
                PoolEffect::Unchanged,
            )];
            outcomes.extend(empty_404(state.events.is_empty()));
            outcomes
        }
        PoolRequest::RegisterDevice { identity, body } => {
            register_device(model, identity, body, state)
        }
        PoolRequest::SubscribeToDataset { path, device_id } => {
            subscription(state, path, device_id, true)
        }
        PoolRequest::UnsubscribeFromDataset { path, device_id } => {
            subscription(state, path, device_id, false)
        }
        PoolRequest::BulkPublish { identity_pool_id } => bulk_publish(identity_pool_id, state),
        PoolRequest::GetBulkPublishDetails { identity_pool_id } => {
            let statuses = match state.bulk {
                BulkState::NotStarted => vec!["NOT_STARTED"],
                BulkState::Started => vec!["IN_PROGRESS", "SUCCEEDED", "FAILED"],
                BulkState::Succeeded => vec!["SUCCEEDED"],
                BulkState::Failed => vec!["FAILED"],
            };
            let mut outcomes = vec![success(
                PoolExpected::BulkDetails {
                    identity_pool_id: identity_pool_id.clone(),
                    statuses,
                },
                PoolEffect::BulkFromDetails,
            )];
            outcomes.extend(empty_404(state.bulk == BulkState::NotStarted));
            outcomes
        }
    }
}

/// CFG-1 with AMB-CONFIG-MERGE (absent section kept or cleared) and AMB-CONFIG-EMPTY (a `{}`
/// section stored empty or cleared): every combination the endpoint may take.
fn set_configuration(
    pool: &str,
    body: &PoolConfigurationBody,
    state: &PoolState,
) -> Vec<PoolOutcome> {
    let old = state.configuration.clone().unwrap_or_default();
    let push: Vec<(Option<PushSync>, Option<Ambiguity>)> =
        section(body.push_sync.as_ref(), old.push_sync.as_ref());
    let streams: Vec<(Option<CognitoStreams>, Option<Ambiguity>)> =
        section(body.cognito_streams.as_ref(), old.cognito_streams.as_ref());
    let mut outcomes = Vec::new();
    for (push_sync, a) in &push {
        for (cognito_streams, b) in &streams {
            let stored = PoolConfigurationBody {
                push_sync: push_sync.clone(),
                cognito_streams: cognito_streams.clone(),
            };
            let mut ambiguities: Vec<Ambiguity> = a.iter().chain(b.iter()).copied().collect();
            ambiguities.sort();
            ambiguities.dedup();
            outcomes.push(PoolOutcome::new(
                PoolExpected::Configuration {
                    identity_pool_id: pool.to_owned(),
                    stored: stored.clone(),
                },
                PoolEffect::Configure(stored),
                ambiguities,
            ));
        }
    }
    outcomes
}

/// What one section may become: the reference first, then the allowed alternative.
fn section<T: Clone + Default + PartialEq>(
    sent: Option<&T>,
    old: Option<&T>,
) -> Vec<(Option<T>, Option<Ambiguity>)> {
    match sent {
        None => {
            let mut ways = vec![(old.cloned(), None)];
            if old.is_some() {
                ways.push((None, Some(Ambiguity::ConfigMerge)));
            }
            ways
        }
        Some(section) if *section == T::default() => vec![
            (Some(T::default()), None),
            (None, Some(Ambiguity::ConfigEmpty)),
        ],
        Some(section) => vec![(Some(section.clone()), None)],
    }
}

fn register_device(
    model: &Model,
    identity: &IdentityPath,
    body: &crate::spec::RegisterDeviceBody,
    state: &PoolState,
) -> Vec<PoolOutcome> {
    let platform = body.platform.clone().unwrap_or_default();
    let token = body.token.clone().unwrap_or_default();
    let effect = PoolEffect::Register {
        identity: identity.identity_id.clone(),
        platform: platform.clone(),
        token: token.clone(),
    };
    let earlier = state
        .registrations
        .get(&(identity.identity_id.clone(), platform.clone(), token))
        .cloned()
        .unwrap_or_default();
    let mut registered = vec![success(
        PoolExpected::Device {
            same_as: earlier.clone(),
        },
        effect.clone(),
    )];
    if !earlier.is_empty() {
        registered.push(PoolOutcome::new(
            PoolExpected::Device {
                same_as: BTreeSet::new(),
            },
            effect,
            vec![Ambiguity::DeviceId],
        ));
    }
    let configured = state
        .configuration
        .as_ref()
        .and_then(|c| c.push_sync.as_ref())
        .and_then(|p| p.application_arns.as_ref())
        .is_some_and(|arns| arns.iter().any(|arn| arn_platform(arn) == Some(&platform)));
    let mut outcomes = if configured {
        registered
    } else {
        let mut outcomes = vec![PoolOutcome::error(
            &[ErrorKind::InvalidConfiguration],
            Vec::new(),
        )];
        outcomes.extend(registered.into_iter().map(|mut o| {
            o.ambiguities.push(Ambiguity::PushConfig);
            o
        }));
        outcomes
    };
    let known = model.identities.contains_key(&(
        identity.identity_pool_id.clone(),
        identity.identity_id.clone(),
    ));
    if !known {
        outcomes.push(PoolOutcome::error(
            &[ErrorKind::ResourceNotFound],
            vec![Ambiguity::UnknownIdentity],
        ));
    }
    outcomes
}

/// DEV-2 with AMB-DEVICE-UNKNOWN and AMB-SUBSCRIBE-IDEMPOTENT.
fn subscription(
    state: &PoolState,
    path: &DatasetPath,
    device: &str,
    subscribe: bool,
) -> Vec<PoolOutcome> {
    let known = state
        .devices
        .get(&path.identity_id)
        .is_some_and(|devices| devices.contains(device));
    if !known {
        return vec![
            PoolOutcome::error(&[ErrorKind::ResourceNotFound], Vec::new()),
            PoolOutcome::error(&BAD_INPUT, vec![Ambiguity::DeviceUnknown]),
        ];
    }
    let key = (
        path.identity_id.clone(),
        path.dataset_name.clone(),
        device.to_owned(),
    );
    if subscribe {
        return vec![success(PoolExpected::Done, PoolEffect::Subscribe(key))];
    }
    let mut outcomes = vec![success(
        PoolExpected::Done,
        PoolEffect::Unsubscribe(key.clone()),
    )];
    if !state.subscriptions.contains(&key) {
        outcomes.push(PoolOutcome::error(
            &[ErrorKind::ResourceNotFound],
            vec![Ambiguity::SubscribeIdempotent],
        ));
    }
    outcomes
}

/// BULK-1 with AMB-BULK-NO-STREAM and AMB-BULK-TIME.
fn bulk_publish(pool: &str, state: &PoolState) -> Vec<PoolOutcome> {
    let has_stream = state
        .configuration
        .as_ref()
        .and_then(|c| c.cognito_streams.as_ref())
        .and_then(|s| s.stream_name.as_ref())
        .is_some_and(|name| !name.is_empty());
    let start = || {
        success(
            PoolExpected::BulkStarted {
                identity_pool_id: pool.to_owned(),
            },
            PoolEffect::Bulk(BulkState::Started),
        )
    };
    match state.bulk {
        // AMB-BULK-TIME: still running or already done, whichever the endpoint is in; both
        // are as good as the reference, and the model follows the one it shows.
        BulkState::Started => vec![
            PoolOutcome::new(
                PoolExpected::Error(vec![ErrorKind::DuplicateRequest]),
                PoolEffect::Unchanged,
                Vec::new(),
            ),
            PoolOutcome::new(
                PoolExpected::Error(vec![ErrorKind::AlreadyStreamed]),
                PoolEffect::Bulk(BulkState::Succeeded),
                Vec::new(),
            ),
        ],
        BulkState::Succeeded => vec![PoolOutcome::error(
            &[ErrorKind::AlreadyStreamed],
            Vec::new(),
        )],
        BulkState::NotStarted | BulkState::Failed if has_stream => vec![start()],
        BulkState::NotStarted | BulkState::Failed => vec![
            PoolOutcome::error(&[ErrorKind::InvalidParameter], Vec::new()),
            PoolOutcome::error(
                &[ErrorKind::InvalidConfiguration, ErrorKind::ResourceNotFound],
                vec![Ambiguity::BulkNoStream],
            ),
        ],
    }
}

impl PoolExpectation {
    pub fn reference(&self) -> &PoolOutcome {
        &self.outcomes[0]
    }

    /// The allowed outcome the answer matches with the fewest departures, and its index; or
    /// a mismatch against the closest one.
    pub fn judge(&self, observed: &PoolObserved) -> (Judgement, Option<usize>) {
        let mut best: Option<(usize, Vec<Ambiguity>)> = None;
        let mut first_difference = None;
        for (index, outcome) in self.outcomes.iter().enumerate() {
            match check(&outcome.expected, observed) {
                Ok(()) => {
                    let found = &outcome.ambiguities;
                    if best.as_ref().is_none_or(|(_, b)| found.len() < b.len()) {
                        best = Some((index, found.clone()));
                    }
                }
                Err(difference) => {
                    let same_kind = matches!(
                        (&outcome.expected, observed),
                        (PoolExpected::Error(_), PoolObserved::Error { .. })
                    ) || !matches!(
                        (&outcome.expected, observed),
                        (PoolExpected::Error(_), _) | (_, PoolObserved::Error { .. })
                    );
                    if first_difference.is_none() && same_kind {
                        first_difference = Some(difference);
                    }
                }
            }
        }
        match best {
            Some((index, a)) if a.is_empty() => (Judgement::Reference, Some(index)),
            Some((index, mut a)) => {
                a.sort();
                (Judgement::NonStrict(a), Some(index))
            }
            None => {
                let actual = observed.to_string();
                let first_difference = first_difference.unwrap_or_else(|| {
                    format!("expected {}, got {actual}", self.reference().expected)
                });
                (
                    Judgement::Mismatch(Mismatch {
                        expected: self.to_string(),
                        actual,
                        first_difference,
                    }),
                    None,
                )
            }
        }
    }
}

fn check(expected: &PoolExpected, observed: &PoolObserved) -> Result<(), String> {
    match (expected, observed) {
        (
            PoolExpected::Error(kinds),
            PoolObserved::Error {
                status,
                kind,
                message,
            },
        ) => check_error(kinds, &[], *status, *kind, message.as_deref()).map(|_| ()),
        (PoolExpected::Usage(want), PoolObserved::Usage(got)) => {
            let Some(got) = got else {
                return Err("IdentityPoolUsage: expected an object, got none".to_owned());
            };
            check_usage("IdentityPoolUsage", want, got)
        }
        (
            PoolExpected::UsageList {
                pools,
                page_size_max,
            },
            PoolObserved::UsagePages(pages),
        ) => check_usage_pages(pools, *page_size_max, pages),
        (
            PoolExpected::Configuration {
                identity_pool_id,
                stored,
            },
            PoolObserved::Configuration(got),
        ) => {
            same_pool(
                "IdentityPoolId",
                identity_pool_id,
                got.identity_pool_id.as_deref(),
            )?;
            let want_push = stored.push_sync.clone().map(normal_push);
            let got_push = got.push_sync.clone().map(normal_push);
            if want_push != got_push {
                return Err(format!(
                    "PushSync: expected {want_push:?}, got {got_push:?}"
                ));
            }
            if stored.cognito_streams != got.cognito_streams {
                return Err(format!(
                    "CognitoStreams: expected {:?}, got {:?}",
                    stored.cognito_streams, got.cognito_streams
                ));
            }
            Ok(())
        }
        (PoolExpected::Events(want), PoolObserved::Events(got)) => {
            let got = got.clone().unwrap_or_default();
            if *want == got {
                Ok(())
            } else {
                Err(format!("Events: expected {want:?}, got {got:?}"))
            }
        }
        (PoolExpected::Done, PoolObserved::Done) => Ok(()),
        (PoolExpected::Device { same_as }, PoolObserved::Device(got)) => {
            let Some(device) = got else {
                return Err("DeviceId: expected a DeviceId, got none".to_owned());
            };
            if DeviceId::check(device).is_err() {
                return Err(format!("DeviceId: expected 1–256 chars, got {device:?}"));
            }
            if !same_as.is_empty() && !same_as.contains(device) {
                return Err(format!(
                    "DeviceId: expected the earlier {same_as:?}, got {device:?}"
                ));
            }
            Ok(())
        }
        (PoolExpected::BulkStarted { identity_pool_id }, PoolObserved::BulkStarted(got)) => {
            same_pool("IdentityPoolId", identity_pool_id, got.as_deref())
        }
        (
            PoolExpected::BulkDetails {
                identity_pool_id,
                statuses,
            },
            PoolObserved::BulkDetails(got),
        ) => check_details(identity_pool_id, statuses, got),
        _ => Err(format!("expected {expected}, got {observed}")),
    }
}

/// `ApplicationArns: []` and no `ApplicationArns` say the same.
fn normal_push(mut push: PushSync) -> PushSync {
    if push.application_arns.as_ref().is_some_and(Vec::is_empty) {
        push.application_arns = None;
    }
    push
}

fn same_pool(at: &str, want: &str, got: Option<&str>) -> Result<(), String> {
    if got == Some(want) {
        Ok(())
    } else {
        Err(format!("{at}: expected {want:?}, got {got:?}"))
    }
}

fn check_usage(at: &str, want: &ExpectedPoolUsage, got: &IdentityPoolUsage) -> Result<(), String> {
    same_pool(
        &format!("{at}.IdentityPoolId"),
        &want.identity_pool_id,
        got.identity_pool_id.as_deref(),
    )?;
    if got.data_storage != Some(want.data_storage) {
        return Err(format!(
            "{at}.DataStorage: expected {} (the sum over the pool's identities), got {:?}",
            want.data_storage, got.data_storage
        ));
    }
    match got.sync_sessions_count {
        Some(n) if n >= want.sync_sessions_min && n >= 0 => {}
        other => {
            return Err(format!(
                "{at}.SyncSessionsCount: expected a count of at least {}, got {other:?}",
                want.sync_sessions_min
            ));
        }
    }
    if got.last_modified_date.is_some_and(|d| !d.is_finite()) {
        return Err(format!("{at}.LastModifiedDate: expected a number"));
    }
    Ok(())
}

/// POOL-2: `Count` is the page's size, pages respect `maxResults`, a `NextToken` on every
/// page but the last, and each pool the model knows appears at most once (exactly once when
/// it holds data) with its figures.
fn check_usage_pages(
    pools: &[ExpectedPoolUsage],
    page_size_max: Option<usize>,
    pages: &[ListIdentityPoolUsageResponse],
) -> Result<(), String> {
    if pages.is_empty() {
        return Err("pages: expected at least one page, got none".to_owned());
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (number, page) in pages.iter().enumerate() {
        let at = format!("page {number}");
        let usages = page.identity_pool_usages.as_deref().unwrap_or(&[]);
        if let Some(count) = page.count
            && usize::try_from(count).ok() != Some(usages.len())
        {
            return Err(format!(
                "{at}.Count: expected {} (the page's size), got {count}",
                usages.len()
            ));
        }
        if let Some(max) = page_size_max
            && usages.len() > max
        {
            return Err(format!(
                "{at}.IdentityPoolUsages: expected at most {max}, got {}",
                usages.len()
            ));
        }
        let last = number + 1 == pages.len();
        let token = page.next_token.as_deref().is_some_and(|t| !t.is_empty());
        if token == last {
            return Err(format!(
                "{at}.NextToken: expected {}",
                if last {
                    "none on the last page"
                } else {
                    "a token (more pages follow)"
                }
            ));
        }
        for (index, usage) in usages.iter().enumerate() {
            let Some(id) = usage.identity_pool_id.as_deref() else {
                return Err(format!(
                    "{at}.IdentityPoolUsages[{index}].IdentityPoolId: missing"
                ));
            };
            let Some(want) = pools.iter().find(|p| p.identity_pool_id == id) else {
                continue;
            };
            if seen.insert(&want.identity_pool_id, number).is_some() {
                return Err(format!("{at}: pool {id:?} listed twice"));
            }
            check_usage(&format!("{at}.IdentityPoolUsages[{index}]"), want, usage)?;
        }
    }
    if let Some(missing) = pools
        .iter()
        .find(|p| p.holds_data && !seen.contains_key(p.identity_pool_id.as_str()))
    {
        return Err(format!(
            "IdentityPoolUsages: pool {:?} holds data but is not listed",
            missing.identity_pool_id
        ));
    }
    Ok(())
}

/// BULK-2: the status, the start time once started, the complete time once done.
fn check_details(
    pool: &str,
    statuses: &[&'static str],
    got: &BulkPublishDetails,
) -> Result<(), String> {
    same_pool("IdentityPoolId", pool, got.identity_pool_id.as_deref())?;
    let status = got.bulk_publish_status.as_deref().unwrap_or("");
    if !statuses.contains(&status) {
        return Err(format!(
            "BulkPublishStatus: expected {}, got {status:?}",
            statuses.join(" or ")
        ));
    }
    let start = got.bulk_publish_start_time;
    let complete = got.bulk_publish_complete_time;
    if status != "NOT_STARTED" && !start.is_some_and(f64::is_finite) {
        return Err(format!(
            "BulkPublishStartTime: expected a number while {status}, got none"
        ));
    }
    if matches!(status, "SUCCEEDED" | "FAILED") {
        match (start, complete) {
            (Some(s), Some(c)) if c.is_finite() && c >= s => {}
            (_, c) => {
                return Err(format!(
                    "BulkPublishCompleteTime: expected a number not before the start once \
                     {status}, got {c:?}"
                ));
            }
        }
    }
    if status == "IN_PROGRESS" && complete.is_some() {
        return Err("BulkPublishCompleteTime: expected none while IN_PROGRESS".to_owned());
    }
    Ok(())
}

impl fmt::Display for PoolExpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolExpected::Error(kinds) => {
                let kinds: Vec<String> = kinds
                    .iter()
                    .map(|k| format!("{} {}", k.status(), k.type_name()))
                    .collect();
                write!(f, "{}", kinds.join(" or "))
            }
            PoolExpected::Usage(u) => write!(
                f,
                "200 IdentityPoolUsage DataStorage={} SyncSessionsCount>={}",
                u.data_storage, u.sync_sessions_min
            ),
            PoolExpected::UsageList { pools, .. } => {
                let pools: Vec<String> = pools
                    .iter()
                    .map(|p| format!("{} DataStorage={}", p.identity_pool_id, p.data_storage))
                    .collect();
                write!(f, "200 IdentityPoolUsages ⊇ [{}]", pools.join(", "))
            }
            PoolExpected::Configuration { stored, .. } => write!(
                f,
                "200 PushSync={:?} CognitoStreams={:?}",
                stored.push_sync, stored.cognito_streams
            ),
            PoolExpected::Events(events) => write!(f, "200 Events={events:?}"),
            PoolExpected::Done => f.write_str("200 {}"),
            PoolExpected::Device { same_as } if same_as.is_empty() => f.write_str("200 DeviceId"),
            PoolExpected::Device { same_as } => write!(f, "200 DeviceId in {same_as:?}"),
            PoolExpected::BulkStarted { .. } => f.write_str("200 IdentityPoolId"),
            PoolExpected::BulkDetails { statuses, .. } => {
                write!(f, "200 BulkPublishStatus {}", statuses.join(" or "))
            }
        }
    }
}

impl fmt::Display for PoolExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_outcomes(
            f,
            self.outcomes
                .iter()
                .map(|o| (&o.expected, o.ambiguities.as_slice())),
        )
    }
}

impl fmt::Display for PoolObserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolObserved::Error {
                status,
                kind,
                message,
            } => {
                let kind =
                    kind.map_or_else(|| "<no x-amzn-ErrorType>".to_owned(), |k| k.to_string());
                write!(f, "{status} {kind}")?;
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            PoolObserved::Usage(u) => write!(f, "200 {u:?}"),
            PoolObserved::UsagePages(pages) => write!(f, "200 {} page(s)", pages.len()),
            PoolObserved::Configuration(c) => write!(
                f,
                "200 PushSync={:?} CognitoStreams={:?}",
                c.push_sync, c.cognito_streams
            ),
            PoolObserved::Events(e) => write!(f, "200 Events={e:?}"),
            PoolObserved::Done => f.write_str("200 {}"),
            PoolObserved::Device(d) => write!(f, "200 DeviceId={d:?}"),
            PoolObserved::BulkStarted(p) => write!(f, "200 IdentityPoolId={p:?}"),
            PoolObserved::BulkDetails(d) => write!(
                f,
                "200 BulkPublishStatus={:?} start={:?} complete={:?}",
                d.bulk_publish_status, d.bulk_publish_start_time, d.bulk_publish_complete_time
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Call, Observed, TokenClaim};
    use crate::spec::{Record, UpdateRecordsResponse};
    use crate::spec::{RegisterDeviceBody, UpdateRecordsBody, UpdateRecordsRequest};

    const POOL: &str = "us-east-1:00000000-c065-4000-9000-000000010000";
    const IDENTITY: &str = "us-east-1:00000000-0001-4000-8000-000000000001";

    fn identity() -> IdentityPath {
        IdentityPath {
            identity_pool_id: POOL.to_owned(),
            identity_id: IDENTITY.to_owned(),
        }
    }

    fn path(name: &str) -> DatasetPath {
        DatasetPath {
            identity_pool_id: POOL.to_owned(),
            identity_id: IDENTITY.to_owned(),
            dataset_name: name.to_owned(),
        }
    }

    fn error(kind: ErrorKind) -> PoolObserved {
        PoolObserved::Error {
            status: kind.status(),
            kind: Some(kind),
            message: Some("m".to_owned()),
        }
    }

    fn full() -> PoolConfigurationBody {
        PoolConfigurationBody {
            push_sync: Some(PushSync {
                application_arns: Some(vec![
                    "arn:aws:sns:us-east-1:000000000000:app/GCM/cogsync".to_owned(),
                ]),
                role_arn: Some("arn:aws:iam::000000000000:role/cogsync".to_owned()),
            }),
            cognito_streams: Some(CognitoStreams {
                stream_name: Some("s".to_owned()),
                role_arn: None,
                streaming_status: Some("ENABLED".to_owned()),
            }),
        }
    }

    fn set(body: PoolConfigurationBody) -> PoolRequest {
        PoolRequest::SetIdentityPoolConfiguration {
            identity_pool_id: POOL.to_owned(),
            body,
        }
    }

    fn stored(body: &PoolConfigurationBody) -> PoolObserved {
        PoolObserved::Configuration(PoolConfigurationResponse {
            identity_pool_id: Some(POOL.to_owned()),
            push_sync: body.push_sync.clone(),
            cognito_streams: body.cognito_streams.clone(),
        })
    }

    fn get() -> PoolRequest {
        PoolRequest::GetIdentityPoolConfiguration {
            identity_pool_id: POOL.to_owned(),
        }
    }

    fn configured() -> Model {
        let mut model = Model::new();
        assert_eq!(
            model.observe_pool(&set(full()), &stored(&full())),
            Judgement::Reference
        );
        model
    }

    fn register(platform: &str) -> PoolRequest {
        PoolRequest::RegisterDevice {
            identity: identity(),
            body: RegisterDeviceBody {
                platform: Some(platform.to_owned()),
                token: Some("t".to_owned()),
            },
        }
    }

    /// A model whose identity wrote `value` under key `k` of dataset `d`.
    fn with_data(value: &str) -> Model {
        let mut model = Model::new();
        let call = Call::UpdateRecords {
            request: UpdateRecordsRequest {
                path: path("d"),
                client_context: None,
                body: UpdateRecordsBody {
                    device_id: None,
                    record_patches: Some(vec![crate::spec::RecordPatch {
                        op: Some("replace".to_owned()),
                        key: Some("k".to_owned()),
                        value: Some(value.to_owned()),
                        sync_count: Some(0),
                        device_last_modified_date: None,
                    }]),
                    sync_session_token: None,
                },
            },
            token: TokenClaim::IssuedFor {
                path: path("d"),
                issued_at: 0.0,
                used_before: false,
            },
        };
        let expectation = model.expect(&call, 1.0);
        let records = match &expectation.reference().expected {
            crate::model::Expected::UpdateRecords { records, .. } => records
                .iter()
                .map(|r| Record {
                    key: Some(r.key.clone()),
                    value: r.value.clone(),
                    sync_count: Some(r.sync_count),
                    last_modified_date: Some(1.0),
                    last_modified_by: Some(r.last_modified_by.clone()),
                    device_last_modified_date: Some(1.0),
                })
                .collect(),
            other => panic!("{other}"),
        };
        let observed = Observed::UpdateRecords(UpdateRecordsResponse {
            records: Some(records),
        });
        assert!(!matches!(
            model.observe(&call, 1.0, &observed),
            Judgement::Mismatch(_)
        ));
        model
    }

    #[test]
    fn configuration_round_trips_and_a_dropped_section_is_caught() {
        let model = configured();
        let (j, _) = model.expect_pool(&get()).judge(&stored(&full()));
        assert_eq!(j, Judgement::Reference);
        let mut dropped = full();
        dropped.cognito_streams = None;
        let (j, _) = model.expect_pool(&get()).judge(&stored(&dropped));
        assert!(matches!(j, Judgement::Mismatch(_)), "{j:?}");
    }

    #[test]
    fn a_pool_never_configured_has_no_sections_or_404() {
        let model = Model::new();
        let e = model.expect_pool(&get());
        let (j, _) = e.judge(&stored(&PoolConfigurationBody::default()));
        assert_eq!(j, Judgement::Reference);
        let (j, _) = e.judge(&error(ErrorKind::ResourceNotFound));
        assert_eq!(j, Judgement::NonStrict(vec![Ambiguity::PoolEmpty]));
        let (j, _) = e.judge(&error(ErrorKind::InternalError));
        assert!(matches!(j, Judgement::Mismatch(_)));
    }

    #[test]
    fn an_absent_section_is_kept_or_cleared_and_the_model_follows() {
        let only_push = PoolConfigurationBody {
            push_sync: full().push_sync,
            cognito_streams: None,
        };
        let mut kept = configured();
        assert_eq!(
            kept.observe_pool(&set(only_push.clone()), &stored(&full())),
            Judgement::Reference
        );
        let (j, _) = kept.expect_pool(&get()).judge(&stored(&only_push));
        assert!(
            matches!(j, Judgement::Mismatch(_)),
            "kept, then gone: {j:?}"
        );
        let mut cleared = configured();
        assert_eq!(
            cleared.observe_pool(&set(only_push.clone()), &stored(&only_push)),
            Judgement::NonStrict(vec![Ambiguity::ConfigMerge])
        );
        let (j, _) = cleared.expect_pool(&get()).judge(&stored(&only_push));
        assert_eq!(j, Judgement::Reference);
    }

    #[test]
    fn an_empty_section_is_stored_empty_or_cleared() {
        let empty = PoolConfigurationBody {
            push_sync: Some(PushSync::default()),
            cognito_streams: None,
        };
        let e = Model::new().expect_pool(&set(empty.clone()));
        assert_eq!(e.judge(&stored(&empty)).0, Judgement::Reference);
        assert_eq!(
            e.judge(&stored(&PoolConfigurationBody::default())).0,
            Judgement::NonStrict(vec![Ambiguity::ConfigEmpty])
        );
    }

    #[test]
    fn each_configuration_constraint_is_a_400() {
        let role = |r: &str| PoolConfigurationBody {
            push_sync: Some(PushSync {
                application_arns: None,
                role_arn: Some(r.to_owned()),
            }),
            cognito_streams: None,
        };
        let stream = |name: &str, status: &str| PoolConfigurationBody {
            push_sync: None,
            cognito_streams: Some(CognitoStreams {
                stream_name: Some(name.to_owned()),
                role_arn: None,
                streaming_status: Some(status.to_owned()),
            }),
        };
        let bad = [
            role("arn:aws:iam::0:role"),
            role("arn:aws:iam::000000000000:user/x"),
            role(&format!("arn:aws:iam::0:role/{}", "x".repeat(2048))),
            stream("", "ENABLED"),
            stream(&"s".repeat(129), "ENABLED"),
            stream("s", "on"),
            PoolConfigurationBody {
                push_sync: Some(PushSync {
                    application_arns: Some(vec!["arn:aws:sns:us-east-1:0:app/gcm/x".to_owned()]),
                    role_arn: None,
                }),
                cognito_streams: None,
            },
        ];
        for body in bad {
            assert_eq!(configuration_violations(&body).len(), 1, "{body:?}");
            let mut model = configured();
            let e = model.expect_pool(&set(body.clone()));
            assert_eq!(
                e.judge(&error(ErrorKind::Validation)).0,
                Judgement::Reference
            );
            assert_eq!(
                e.judge(&error(ErrorKind::InvalidParameter)).0,
                Judgement::Reference
            );
            assert!(matches!(e.judge(&stored(&body)).0, Judgement::Mismatch(_)));
            model.observe_pool(&set(body), &error(ErrorKind::Validation));
            assert_eq!(
                model.expect_pool(&get()).judge(&stored(&full())).0,
                Judgement::Reference
            );
        }
        assert!(configuration_violations(&full()).is_empty());
    }

    fn events(pairs: &[(&str, &str)]) -> PoolRequest {
        PoolRequest::SetCognitoEvents {
            identity_pool_id: POOL.to_owned(),
            body: crate::spec::CognitoEvents {
                events: Some(
                    pairs
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
            },
        }
    }

    fn get_events() -> PoolRequest {
        PoolRequest::GetCognitoEvents {
            identity_pool_id: POOL.to_owned(),
        }
    }

    fn seen_events(pairs: &[(&str, &str)]) -> PoolObserved {
        PoolObserved::Events(Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    #[test]
    fn events_change_only_the_keys_sent_and_an_empty_value_removes() {
        let mut model = Model::new();
        assert_eq!(
            model.observe_pool(&events(&[("SyncTrigger", "f")]), &PoolObserved::Done),
            Judgement::Reference
        );
        model.observe_pool(&events(&[]), &PoolObserved::Done);
        let e = model.expect_pool(&get_events());
        assert_eq!(
            e.judge(&seen_events(&[("SyncTrigger", "f")])).0,
            Judgement::Reference
        );
        assert!(matches!(
            e.judge(&seen_events(&[])).0,
            Judgement::Mismatch(_)
        ));
        model.observe_pool(&events(&[("SyncTrigger", "")]), &PoolObserved::Done);
        let e = model.expect_pool(&get_events());
        assert_eq!(e.judge(&seen_events(&[])).0, Judgement::Reference);
        assert!(matches!(
            e.judge(&seen_events(&[("SyncTrigger", "")])).0,
            Judgement::Mismatch(_)
        ));
    }

    #[test]
    fn another_event_type_is_refused_or_stored() {
        let e = Model::new().expect_pool(&events(&[("Other", "f")]));
        assert_eq!(
            e.judge(&error(ErrorKind::InvalidParameter)).0,
            Judgement::Reference
        );
        assert_eq!(
            e.judge(&PoolObserved::Done).0,
            Judgement::NonStrict(vec![Ambiguity::EventType])
        );
        let two = Model::new().expect_pool(&events(&[("SyncTrigger", "f"), ("Other", "g")]));
        assert!(matches!(
            two.judge(&PoolObserved::Done).0,
            Judgement::Mismatch(_)
        ));
    }

    #[test]
    fn register_device_needs_push_config_or_takes_the_other_branch() {
        let mut model = with_data("v");
        let e = model.expect_pool(&register("GCM"));
        assert_eq!(
            e.judge(&error(ErrorKind::InvalidConfiguration)).0,
            Judgement::Reference
        );
        assert_eq!(
            e.judge(&PoolObserved::Device(Some("d1".to_owned()))).0,
            Judgement::NonStrict(vec![Ambiguity::PushConfig])
        );
        model.observe_pool(&set(full()), &stored(&full()));
        let e = model.expect_pool(&register("GCM"));
        assert_eq!(
            e.judge(&PoolObserved::Device(Some("d1".to_owned()))).0,
            Judgement::Reference
        );
        assert!(matches!(
            e.judge(&PoolObserved::Device(Some(String::new()))).0,
            Judgement::Mismatch(_)
        ));
        assert!(matches!(
            e.judge(&PoolObserved::Device(None)).0,
            Judgement::Mismatch(_)
        ));
        let bad = model.expect_pool(&register("WNS"));
        assert!(matches!(
            bad.judge(&PoolObserved::Device(Some("d".to_owned()))).0,
            Judgement::Mismatch(_)
        ));
    }

    #[test]
    fn the_same_registration_gives_the_same_device_or_a_new_one() {
        let mut model = with_data("v");
        model.observe_pool(&set(full()), &stored(&full()));
        model.observe_pool(
            &register("GCM"),
            &PoolObserved::Device(Some("d1".to_owned())),
        );
        let e = model.expect_pool(&register("GCM"));
        assert_eq!(
            e.judge(&PoolObserved::Device(Some("d1".to_owned()))).0,
            Judgement::Reference
        );
        assert_eq!(
            e.judge(&PoolObserved::Device(Some("d2".to_owned()))).0,
            Judgement::NonStrict(vec![Ambiguity::DeviceId])
        );
        model.observe_pool(
            &register("GCM"),
            &PoolObserved::Device(Some("d2".to_owned())),
        );
        assert_eq!(
            model.devices_of(&identity()),
            ["d1".to_owned(), "d2".to_owned()].into()
        );
    }

    fn subscribe(device: &str) -> PoolRequest {
        PoolRequest::SubscribeToDataset {
            path: path("d"),
            device_id: device.to_owned(),
        }
    }

    fn unsubscribe(device: &str) -> PoolRequest {
        PoolRequest::UnsubscribeFromDataset {
            path: path("d"),
            device_id: device.to_owned(),
        }
    }

    #[test]
    fn subscriptions_of_unknown_devices_are_refused() {
        let model = Model::new();
        for call in [subscribe("x"), unsubscribe("x")] {
            let e = model.expect_pool(&call);
            assert_eq!(
                e.judge(&error(ErrorKind::ResourceNotFound)).0,
                Judgement::Reference
            );
            assert_eq!(
                e.judge(&error(ErrorKind::InvalidParameter)).0,
                Judgement::NonStrict(vec![Ambiguity::DeviceUnknown])
            );
            assert!(matches!(
                e.judge(&PoolObserved::Done).0,
                Judgement::Mismatch(_)
            ));
        }
    }

    #[test]
    fn subscriptions_are_idempotent_or_unsubscribe_404s() {
        let mut model = with_data("v");
        model.observe_pool(&set(full()), &stored(&full()));
        model.observe_pool(
            &register("GCM"),
            &PoolObserved::Device(Some("d1".to_owned())),
        );
        for _ in 0..2 {
            assert_eq!(
                model.observe_pool(&subscribe("d1"), &PoolObserved::Done),
                Judgement::Reference
            );
        }
        assert_eq!(
            model.observe_pool(&unsubscribe("d1"), &PoolObserved::Done),
            Judgement::Reference
        );
        let e = model.expect_pool(&unsubscribe("d1"));
        assert_eq!(e.judge(&PoolObserved::Done).0, Judgement::Reference);
        assert_eq!(
            e.judge(&error(ErrorKind::ResourceNotFound)).0,
            Judgement::NonStrict(vec![Ambiguity::SubscribeIdempotent])
        );
    }

    fn bulk() -> PoolRequest {
        PoolRequest::BulkPublish {
            identity_pool_id: POOL.to_owned(),
        }
    }

    fn details() -> PoolRequest {
        PoolRequest::GetBulkPublishDetails {
            identity_pool_id: POOL.to_owned(),
        }
    }

    fn status(s: &str, start: Option<f64>, complete: Option<f64>) -> PoolObserved {
        PoolObserved::BulkDetails(BulkPublishDetails {
            identity_pool_id: Some(POOL.to_owned()),
            bulk_publish_start_time: start,
            bulk_publish_complete_time: complete,
            bulk_publish_status: Some(s.to_owned()),
            failure_message: None,
        })
    }

    #[test]
    fn bulk_publish_without_a_stream_is_refused() {
        let e = Model::new().expect_pool(&bulk());
        assert_eq!(
            e.judge(&error(ErrorKind::InvalidParameter)).0,
            Judgement::Reference
        );
        for kind in [ErrorKind::InvalidConfiguration, ErrorKind::ResourceNotFound] {
            assert_eq!(
                e.judge(&error(kind)).0,
                Judgement::NonStrict(vec![Ambiguity::BulkNoStream])
            );
        }
        assert!(matches!(
            e.judge(&PoolObserved::BulkStarted(Some(POOL.to_owned()))).0,
            Judgement::Mismatch(_)
        ));
    }

    #[test]
    fn bulk_publish_runs_then_refuses_a_second_one_consistently() {
        let mut model = configured();
        let e = model.expect_pool(&details());
        assert_eq!(
            e.judge(&status("NOT_STARTED", None, None)).0,
            Judgement::Reference
        );
        assert!(matches!(
            e.judge(&status("IN_PROGRESS", Some(1.0), None)).0,
            Judgement::Mismatch(_)
        ));
        assert_eq!(
            model.observe_pool(&bulk(), &PoolObserved::BulkStarted(Some(POOL.to_owned()))),
            Judgement::Reference
        );
        let e = model.expect_pool(&details());
        assert_eq!(
            e.judge(&status("IN_PROGRESS", Some(1.0), None)).0,
            Judgement::Reference
        );
        assert_eq!(
            e.judge(&status("SUCCEEDED", Some(1.0), Some(3.0))).0,
            Judgement::Reference
        );
        for wrong in [
            status("NOT_STARTED", None, None),
            status("IN_PROGRESS", None, None),
            status("SUCCEEDED", Some(1.0), None),
            status("SUCCEEDED", Some(3.0), Some(1.0)),
        ] {
            assert!(
                matches!(e.judge(&wrong).0, Judgement::Mismatch(_)),
                "{wrong}"
            );
        }
        let second = model.expect_pool(&bulk());
        assert_eq!(
            second.judge(&error(ErrorKind::DuplicateRequest)).0,
            Judgement::Reference
        );
        assert_eq!(
            second.judge(&error(ErrorKind::AlreadyStreamed)).0,
            Judgement::Reference
        );
        assert!(matches!(
            second
                .judge(&PoolObserved::BulkStarted(Some(POOL.to_owned())))
                .0,
            Judgement::Mismatch(_)
        ));
        // AlreadyStreamed says it is done: a later IN_PROGRESS contradicts it.
        model.observe_pool(&bulk(), &error(ErrorKind::AlreadyStreamed));
        let e = model.expect_pool(&details());
        assert!(matches!(
            e.judge(&status("IN_PROGRESS", Some(1.0), None)).0,
            Judgement::Mismatch(_)
        ));
        assert!(matches!(
            model
                .expect_pool(&bulk())
                .judge(&error(ErrorKind::DuplicateRequest))
                .0,
            Judgement::Mismatch(_)
        ));
    }

    fn usage(storage: i64, sessions: i64) -> PoolObserved {
        PoolObserved::Usage(Some(IdentityPoolUsage {
            identity_pool_id: Some(POOL.to_owned()),
            sync_sessions_count: Some(sessions),
            data_storage: Some(storage),
            last_modified_date: Some(1.0),
        }))
    }

    #[test]
    fn pool_usage_is_the_sum_of_the_datasets_and_sessions_never_decrease() {
        let describe = PoolRequest::DescribeIdentityPoolUsage {
            identity_pool_id: POOL.to_owned(),
        };
        let empty = Model::new().expect_pool(&describe);
        assert_eq!(empty.judge(&usage(0, 0)).0, Judgement::Reference);
        assert_eq!(
            empty.judge(&error(ErrorKind::ResourceNotFound)).0,
            Judgement::NonStrict(vec![Ambiguity::PoolEmpty])
        );
        let mut model = with_data("four");
        let e = model.expect_pool(&describe);
        assert_eq!(e.judge(&usage(5, 1)).0, Judgement::Reference);
        assert!(matches!(e.judge(&usage(4, 1)).0, Judgement::Mismatch(_)));
        assert!(matches!(
            e.judge(&error(ErrorKind::ResourceNotFound)).0,
            Judgement::Mismatch(_)
        ));
        model.observe_pool(&describe, &usage(5, 3));
        let e = model.expect_pool(&describe);
        assert!(matches!(e.judge(&usage(5, 2)).0, Judgement::Mismatch(_)));
        assert_eq!(e.judge(&usage(5, 3)).0, Judgement::Reference);
    }

    fn page(pools: &[(&str, i64)], next: Option<&str>) -> ListIdentityPoolUsageResponse {
        ListIdentityPoolUsageResponse {
            identity_pool_usages: Some(
                pools
                    .iter()
                    .map(|(id, storage)| IdentityPoolUsage {
                        identity_pool_id: Some((*id).to_owned()),
                        sync_sessions_count: Some(0),
                        data_storage: Some(*storage),
                        last_modified_date: None,
                    })
                    .collect(),
            ),
            max_results: Some(60),
            count: Some(i32::try_from(pools.len()).expect("small")),
            next_token: next.map(str::to_owned),
        }
    }

    #[test]
    fn the_pool_is_listed_once_with_its_figures_among_others() {
        let model = with_data("four");
        let list = PoolRequest::ListIdentityPoolUsage {
            max_results: Some(2),
            next_token: None,
        };
        let e = model.expect_pool(&list);
        let other = "us-east-1:ffff";
        let ok = vec![
            page(&[(other, 9), (POOL, 5)], Some("t")),
            page(&[(other, 1)], None),
        ];
        assert_eq!(
            e.judge(&PoolObserved::UsagePages(ok)).0,
            Judgement::Reference
        );
        for wrong in [
            vec![page(&[(other, 9)], None)],
            vec![page(&[(POOL, 5)], Some("t")), page(&[(POOL, 5)], None)],
            vec![page(&[(POOL, 4)], None)],
            vec![page(&[(POOL, 5), (other, 1), (other, 2)], None)],
            vec![page(&[(POOL, 5)], Some("t"))],
        ] {
            assert!(
                matches!(
                    e.judge(&PoolObserved::UsagePages(wrong.clone())).0,
                    Judgement::Mismatch(_)
                ),
                "{wrong:?}"
            );
        }
        let mut miscounted = page(&[(POOL, 5)], None);
        miscounted.count = Some(2);
        assert!(matches!(
            e.judge(&PoolObserved::UsagePages(vec![miscounted])).0,
            Judgement::Mismatch(_)
        ));
    }

    #[test]
    fn any_call_may_be_refused_to_a_caller_the_endpoint_does_not_accept() {
        let e = Model::new().expect_pool(&get());
        assert_eq!(
            e.judge(&error(ErrorKind::NotAuthorized)).0,
            Judgement::NonStrict(vec![Ambiguity::OtherCredentials])
        );
        let headerless = PoolObserved::Error {
            status: 404,
            kind: None,
            message: Some("m".to_owned()),
        };
        assert!(matches!(e.judge(&headerless).0, Judgement::Mismatch(_)));
    }
}
