//! The six operations: steps 5–7 of the order of checks, storage, and the success body.
//!
//! Input is a [`ParsedRequest`] (steps 1–4 done); output is the JSON body of a 200 answer or a
//! [`Rejection`]. Tokens are checked and issued here, outside the storage lock, and JSON is
//! built after the lock is released.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::events::{Change, EventSink, SyncTrigger};
use super::fault::Fault;
use super::parse::{DatasetRef, ListDatasets, ListRecords, ParsedRequest, UpdateRecords};
use super::pool_store::PoolUsage;
use super::rejection::Rejection;
use super::store::{DatasetMeta, RecordsAfter, Store};
use super::token::{RecordsPosition, TokenKeys};
use super::variant::Variant;
use crate::spec::{
    self, ErrorKind, LIST_DATASETS_MAX_RESULTS_DEFAULT, LIST_RECORDS_MAX_RESULTS_DEFAULT, Timestamp,
};

/// The page size the pages-of-50 variant clamps an explicit `maxResults` to.
const VARIANT_PAGE_SIZE_MAX: i32 = 50;

/// Where the server reads the time from. `Manual` lets tests move time (token expiry) without
/// waiting.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// Milliseconds since the epoch, set by the test.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock starting at `start_ms`, and the handle that moves it.
    pub fn manual(start_ms: i64) -> (Clock, Arc<AtomicI64>) {
        let handle = Arc::new(AtomicI64::new(start_ms));
        (Clock::Manual(Arc::clone(&handle)), handle)
    }

    /// Milliseconds since the epoch; storage keeps times at this precision.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Clock::Manual(ms) => ms.load(Ordering::Relaxed),
        }
    }
}

/// Epoch milliseconds as the wire's epoch seconds with a millisecond fraction (ERR-4).
fn seconds(ms: i64) -> Timestamp {
    ms as f64 / 1000.0
}

fn now_secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms / 1000).unwrap_or(0)
}

/// The operations over one store and one token secret.
#[derive(Debug)]
pub struct Service {
    store: Store,
    keys: TokenKeys,
    clock: Clock,
    fault: Option<Fault>,
    variant: Option<Variant>,
    /// How late every answer is sent.
    latency: Duration,
    /// Session tokens an UpdateRecords has used, under the token-single-use variant.
    spent_tokens: Mutex<HashSet<String>>,
    /// Where push messages and stream records go (`serve --events`).
    events: Option<EventSink>,
    /// The webhook standing in for a pool's SyncTrigger function (`serve --sync-trigger`).
    sync_trigger: Option<SyncTrigger>,
    /// Pool usage as last computed, under the usage-lag variant: (when, usage).
    usage_cache: Mutex<HashMap<String, (i64, PoolUsage)>>,
}

/// Whether an UpdateRecords writes, or only runs every check (before its SyncTrigger call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Write,
    CheckOnly,
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Rejection> {
    serde_json::to_vec(value).map_err(|e| Rejection::internal(format!("cannot encode answer: {e}")))
}

fn dataset_binding(d: &DatasetRef) -> [&str; 3] {
    [d.pool.as_str(), d.identity.as_str(), d.dataset.as_str()]
}

/// Step 5: `maxResults` below 1 is refused, above the page size clamped.
fn page_size(max_results: Option<i32>, default: i32) -> Result<usize, Rejection> {
    match max_results {
        Some(n) if n < 1 => Err(Rejection::invalid_parameter(format!(
            "maxResults must be greater than or equal to 1, not {n}"
        ))),
        Some(n) => Ok(usize::try_from(n.min(default)).unwrap_or(1)),
        None => Ok(usize::try_from(default).unwrap_or(1)),
    }
}

fn wire_dataset(identity_id: &str, meta: DatasetMeta) -> spec::Dataset {
    spec::Dataset {
        identity_id: Some(identity_id.to_owned()),
        dataset_name: Some(meta.name),
        creation_date: Some(seconds(meta.creation_ms)),
        last_modified_date: Some(seconds(meta.last_modified_ms)),
        last_modified_by: Some(meta.last_modified_by),
        data_storage: Some(meta.data_storage),
        num_records: Some(meta.num_records),
    }
}

fn dataset_not_found(d: &DatasetRef) -> Rejection {
    Rejection::not_found(format!("Dataset {} does not exist", d.dataset))
}

impl Service {
    /// Assembles a service from its parts; [`Service::open`] builds them from a config.
    pub fn new(store: Store, keys: TokenKeys, clock: Clock) -> Service {
        Service {
            store,
            keys,
            clock,
            fault: None,
            variant: None,
            latency: Duration::ZERO,
            spent_tokens: Mutex::new(HashSet::new()),
            events: None,
            sync_trigger: None,
            usage_cache: Mutex::new(HashMap::new()),
        }
    }

    /// The same service, writing push messages and stream records to `sink`.
    pub fn with_events(mut self, sink: Option<EventSink>) -> Service {
        self.events = sink;
        self
    }

    /// The same service, calling `trigger` for pools with a SyncTrigger set.
    pub fn with_sync_trigger(mut self, trigger: Option<SyncTrigger>) -> Service {
        self.sync_trigger = trigger;
        self
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(super) fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    pub(super) fn events(&self) -> Option<&EventSink> {
        self.events.as_ref()
    }

    pub(super) fn sync_trigger(&self) -> Option<&SyncTrigger> {
        self.sync_trigger.as_ref()
    }

    pub(super) fn usage_cache(&self) -> MutexGuard<'_, HashMap<String, (i64, PoolUsage)>> {
        self.usage_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The same service with an allowed variant in its own steps (the store's are set on the
    /// store: [`Store::with_variant`]; the HTTP layer's are read from here).
    pub fn with_variant(mut self, variant: Option<Variant>) -> Service {
        self.variant = variant;
        self
    }

    /// Removes every trace of an identity from the store ([`Store::forget_identity`]): for a
    /// caller that reuses one service for many independent runs (the fuzz target).
    pub fn forget_identity(&self, pool: &str, identity: &str) -> rusqlite::Result<()> {
        self.store.forget_identity(pool, identity)
    }

    /// The allowed variant served, if any.
    pub fn variant(&self) -> Option<Variant> {
        self.variant
    }

    /// The same service, sending every answer `latency` late.
    pub fn with_latency(mut self, latency: Duration) -> Service {
        self.latency = latency;
        self
    }

    /// How late every answer is sent (`ServerConfig::latency`).
    pub fn latency(&self) -> Duration {
        self.latency
    }

    pub(super) fn variant_is(&self, variant: Variant) -> bool {
        self.variant == Some(variant)
    }

    /// The token-single-use variant: whether `token` was still unspent (it is spent now).
    fn spend(&self, token: &str) -> bool {
        self.spent_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.to_owned())
    }

    /// The list-spent-token-rejected fault: whether an UpdateRecords spent `token`.
    fn is_spent(&self, token: &str) -> bool {
        self.spent_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(token)
    }

    /// Step 5's page size, as the paging variants read `maxResults`.
    fn page_size(&self, max_results: Option<i32>, default: i32) -> Result<usize, Rejection> {
        let max_results = match max_results {
            None if self.fault_is(Fault::DefaultPageSize100) => Some(100),
            Some(n) if n < 1 && self.variant_is(Variant::MaxResultsBelowOneAsDefault) => None,
            Some(n) if self.variant_is(Variant::PagesOf50) => Some(n.min(VARIANT_PAGE_SIZE_MAX)),
            other => other,
        };
        page_size(max_results, default)
    }

    /// The same service with an injected fault in its own steps (the store's faults are set
    /// on the store: [`Store::with_fault`]).
    pub fn with_fault(mut self, fault: Option<Fault>) -> Service {
        self.fault = fault;
        self
    }

    /// The injected fault, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    pub(crate) fn fault_is(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    /// The session-token faults: whether a token that failed its check is let through.
    fn fault_lets_token_through(&self, token: &str) -> bool {
        match self.fault {
            Some(Fault::SessionTokenUnchecked) => true,
            // The parser turned a missing token into an empty one under this fault.
            Some(Fault::SessionTokenOptional) => token.is_empty(),
            _ => false,
        }
    }

    /// What a SyncSessionToken is bound to; the session-token-any-dataset fault leaves the
    /// dataset out.
    fn session_binding<'a>(&self, d: &'a DatasetRef) -> [&'a str; 3] {
        if self.fault_is(Fault::SessionTokenAnyDataset) {
            return [d.pool.as_str(), d.identity.as_str(), ""];
        }
        dataset_binding(d)
    }

    /// Runs one parsed request; `Ok` is the JSON body of the 200 answer.
    pub fn execute(&self, request: ParsedRequest) -> Result<Vec<u8>, Rejection> {
        match request {
            ParsedRequest::UpdateRecords(r) => self.update_records(r, Mode::Write),
            ParsedRequest::ListRecords(r) => self.list_records(r),
            ParsedRequest::DescribeDataset(d) => {
                let meta = self
                    .store
                    .describe_dataset(&d)?
                    .ok_or_else(|| dataset_not_found(&d))?;
                to_json(&spec::DescribeDatasetResponse {
                    dataset: Some(wire_dataset(d.identity.as_str(), meta)),
                })
            }
            ParsedRequest::ListDatasets(r) => self.list_datasets(r),
            ParsedRequest::DeleteDataset(d) => {
                let meta = self
                    .store
                    .delete_dataset(&d, self.clock.now_ms())?
                    .ok_or_else(|| dataset_not_found(&d))?;
                if self.events.is_some() {
                    let sync_count = self.store.dataset_sync_count(
                        d.pool.as_str(),
                        d.identity.as_str(),
                        d.dataset.as_str(),
                    )?;
                    self.dataset_changed(&d, sync_count, Change::Deleted);
                }
                to_json(&spec::DeleteDatasetResponse {
                    dataset: Some(wire_dataset(d.identity.as_str(), meta)),
                })
            }
            ParsedRequest::DescribeIdentityUsage(i) => {
                let (last_modified_date, dataset_count, data_storage) =
                    match self.store.identity_usage(&i)? {
                        Some(usage) => (
                            Some(seconds(usage.last_modified_ms)),
                            usage.dataset_count,
                            usage.data_storage,
                        ),
                        // Never modified, so no date to give.
                        None if self.variant_is(Variant::UnknownIdentityZeros) => (None, 0, 0),
                        None => {
                            return Err(Rejection::not_found(format!(
                                "Identity {} has no usage",
                                i.identity
                            )));
                        }
                    };
                to_json(&spec::DescribeIdentityUsageResponse {
                    identity_usage: Some(spec::IdentityUsage {
                        identity_id: Some(i.identity.into_string()),
                        identity_pool_id: Some(i.pool.into_string()),
                        last_modified_date,
                        dataset_count: Some(i32::try_from(dataset_count).unwrap_or(i32::MAX)),
                        data_storage: Some(data_storage),
                    }),
                })
            }
        }
    }

    /// UpdateRecords; in [`Mode::CheckOnly`] every check runs (token, duplicate keys,
    /// conflicts, limits) and nothing is written or spent: the answer is then empty.
    pub(super) fn update_records(
        &self,
        request: UpdateRecords,
        mode: Mode,
    ) -> Result<Vec<u8>, Rejection> {
        let now_ms = self.clock.now_ms();
        if self.variant_is(Variant::ConflictBeforeToken) {
            self.store
                .check_conflicts(&request.dataset, &request.patches)?;
        }
        let binding = self.session_binding(&request.dataset);
        if !self
            .keys
            .check_session(&request.sync_session_token, binding, now_secs(now_ms))
            && !self.fault_lets_token_through(&request.sync_session_token)
        {
            return Err(Rejection::invalid_session_token());
        }
        let single_use = self.variant_is(Variant::TokenSingleUse)
            || self.fault_is(Fault::ListSpentTokenRejected);
        let spent = match mode {
            Mode::Write => single_use && !self.spend(&request.sync_session_token),
            Mode::CheckOnly => single_use && self.is_spent(&request.sync_session_token),
        };
        if spent {
            return Err(Rejection::invalid_parameter(
                "SyncSessionToken has been used already",
            ));
        }
        let mut seen = HashSet::with_capacity(request.patches.len());
        for patch in &request.patches {
            if !seen.insert(patch.key.as_str()) {
                let kind = match self.variant {
                    Some(Variant::DupKeyAppliedInOrder) => continue,
                    Some(Variant::DupKeyValidation) => ErrorKind::Validation,
                    _ => ErrorKind::InvalidParameter,
                };
                return Err(Rejection::new(
                    kind,
                    format!("Duplicate key in RecordPatches: {}", patch.key),
                ));
            }
        }
        if request.patches.is_empty() {
            if self.variant_is(Variant::EmptyPatchesRejected) {
                return Err(Rejection::invalid_parameter(
                    "RecordPatches must hold at least one patch",
                ));
            }
            return to_json(&spec::UpdateRecordsResponse {
                records: Some(Vec::new()),
            });
        }
        if self.fault_is(Fault::InternalErrorOnNonAsciiKey)
            && request.patches.iter().any(|p| !p.key.as_str().is_ascii())
        {
            return Err(Rejection::internal("cannot store a non-ASCII key"));
        }
        let writer = match &request.device_id {
            Some(device) => device.as_str(),
            None => request.dataset.identity.as_str(),
        };
        if mode == Mode::CheckOnly {
            self.store
                .check_update(&request.dataset, &request.patches)?;
            return Ok(Vec::new());
        }
        let sync_count =
            self.store
                .update_records(&request.dataset, writer, &request.patches, now_ms)?;
        let writer = writer.to_owned();
        if self.events.is_some() {
            let change = Change::Updated {
                patches: &request.patches,
                writer: &writer,
                now_ms,
            };
            self.dataset_changed(&request.dataset, sync_count, change);
        }
        let records = request
            .patches
            .into_iter()
            .filter(|patch| {
                !(self.fault_is(Fault::RemovedKeysMissingFromResponse) && patch.value.is_none())
            })
            .map(|patch| spec::Record {
                sync_count: Some(if self.fault_is(Fault::PerRecordCounter) {
                    patch.sync_count.saturating_add(1)
                } else {
                    sync_count
                }),
                key: Some(patch.key.into_string()),
                value: patch.value,
                last_modified_date: Some(seconds(now_ms)),
                last_modified_by: Some(writer.clone()),
                device_last_modified_date: Some(
                    patch
                        .device_last_modified_date
                        .unwrap_or_else(|| seconds(now_ms)),
                ),
            })
            .collect();
        to_json(&spec::UpdateRecordsResponse {
            records: Some(records),
        })
    }

    fn list_records(&self, request: ListRecords) -> Result<Vec<u8>, Rejection> {
        let now_ms = self.clock.now_ms();
        let binding = dataset_binding(&request.dataset);
        let session_binding = self.session_binding(&request.dataset);
        let page = self.page_size(request.max_results, LIST_RECORDS_MAX_RESULTS_DEFAULT)?;
        let page = if self.fault_is(Fault::MaxResultsIgnored) {
            usize::MAX - 1
        } else {
            page
        };
        let mut last_sync_count = request.last_sync_count.unwrap_or(0);
        if last_sync_count < 0 {
            if !self.variant_is(Variant::NegativeLastSyncCountAsZero) {
                return Err(Rejection::invalid_parameter(format!(
                    "lastSyncCount must be greater than or equal to 0, not {last_sync_count}"
                )));
            }
            last_sync_count = 0;
        }
        let position = match &request.next_token {
            Some(token) => match self
                .keys
                .check_records_page(token, binding, last_sync_count)
            {
                Some(position) => Some(position),
                None if self.variant_is(Variant::GarbageNextTokenFirstPage) => None,
                None => return Err(Rejection::invalid_next_token()),
            },
            None => None,
        };
        if let Some(token) = &request.sync_session_token
            && !self.variant_is(Variant::ListTokenIgnored)
            && (!self
                .keys
                .check_session(token, session_binding, now_secs(now_ms))
                || (self.fault_is(Fault::ListSpentTokenRejected) && self.is_spent(token)))
        {
            return Err(Rejection::invalid_session_token());
        }

        let after = position.as_ref().map(|p| RecordsAfter {
            sync_count: p.sync_count,
            key: &p.key,
        });
        let mut found = self
            .store
            .list_records(&request.dataset, last_sync_count, after, page)?;

        let next_token = if found.records.len() > page {
            // The paging faults end the page in the right place but name another position.
            let boundary = match self.fault {
                Some(Fault::PagingSkipsOne) => page + 1,
                Some(Fault::PagingRepeatsOne) if page > 1 => page - 1,
                _ => page,
            };
            let position = found.records.get(boundary - 1).map(|last| RecordsPosition {
                last_sync_count,
                sync_count: last.sync_count,
                key: last.key.clone(),
            });
            found.records.truncate(page);
            position.map(|position| self.keys.issue_records_page(binding, &position))
        } else {
            None
        };
        let mut deleted_after = last_sync_count > 0
            && found
                .deleted_count
                .is_some_and(|deleted| deleted >= last_sync_count);
        // AMB-DELETE-FLAG: a deleted dataset may be told by either member alone.
        match self.variant {
            Some(Variant::DeletedExistsFalseOnly) if !found.exists => deleted_after = false,
            Some(Variant::DeletedFlagExistsTrue) if deleted_after => found.exists = true,
            _ => {}
        }
        if self.fault_is(Fault::RecreateFlagMissing) && found.exists {
            deleted_after = false;
        }
        let count = found.total.unwrap_or(found.records.len() as i64);
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        if self.variant_is(Variant::ListsReverseOrder) {
            found.records.reverse();
        }
        let records = found
            .records
            .into_iter()
            .map(|r| spec::Record {
                key: Some(r.key),
                value: r.value,
                sync_count: Some(r.sync_count),
                last_modified_date: Some(seconds(r.last_modified_ms)),
                last_modified_by: Some(r.last_modified_by),
                device_last_modified_date: Some(r.device_last_modified),
            })
            .collect();
        to_json(&spec::ListRecordsResponse {
            records: Some(records),
            next_token,
            count: Some(count),
            dataset_sync_count: Some(found.sync_count),
            last_modified_by: found.last_modified_by,
            merged_dataset_names: Some(Vec::new()),
            dataset_exists: Some(found.exists),
            dataset_deleted_after_requested_sync_count: Some(deleted_after),
            sync_session_token: Some(self.issue_session(session_binding, now_secs(now_ms))?),
        })
    }

    /// A SyncSessionToken, counted as a sync session of its pool (POOL-1).
    fn issue_session(&self, binding: [&str; 3], now_secs: u64) -> Result<String, Rejection> {
        self.store.count_sync_session(binding[0])?;
        Ok(self.keys.issue_session(binding, now_secs))
    }

    fn list_datasets(&self, request: ListDatasets) -> Result<Vec<u8>, Rejection> {
        let identity = &request.identity;
        let binding = [identity.pool.as_str(), identity.identity.as_str()];
        let page = self.page_size(request.max_results, LIST_DATASETS_MAX_RESULTS_DEFAULT)?;
        let after = match &request.next_token {
            Some(token) => match self.keys.check_datasets_page(token, binding) {
                Some(after) => Some(after),
                None if self.variant_is(Variant::GarbageNextTokenFirstPage) => None,
                None => return Err(Rejection::invalid_next_token()),
            },
            None => None,
        };
        let found = self.store.list_datasets(identity, after.as_deref(), page)?;
        let mut datasets = found.datasets;
        let next_token = if datasets.len() > page {
            datasets.truncate(page);
            datasets
                .last()
                .map(|last| self.keys.issue_datasets_page(binding, &last.name))
        } else {
            None
        };
        let count = found.total.unwrap_or(datasets.len() as i64);
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        if self.variant_is(Variant::ListsReverseOrder) {
            datasets.reverse();
        }
        let datasets = datasets
            .into_iter()
            .map(|meta| wire_dataset(identity.identity.as_str(), meta))
            .collect();
        to_json(&spec::ListDatasetsResponse {
            datasets: Some(datasets),
            count: Some(count),
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::server::parse::parse_request;
    use crate::spec::{ErrorKind, SESSION_TOKEN_LIFETIME_SECS};

    const BASE: &str = "/identitypools/us-east-1:0a/identities/us-east-1:0b";
    const START_MS: i64 = 1_700_000_000_000;

    struct Fixture {
        service: Service,
        clock: Arc<AtomicI64>,
    }

    fn fixture() -> Fixture {
        let (clock, handle) = Clock::manual(START_MS);
        let service = Service::new(
            Store::open(None).expect("store"),
            TokenKeys::new(&TokenKeys::random_secret()),
            clock,
        );
        Fixture {
            service,
            clock: handle,
        }
    }

    impl Fixture {
        fn call(
            &self,
            method: &str,
            tail: &str,
            query: Option<&str>,
            body: Value,
        ) -> Result<Value, Rejection> {
            let body = if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            };
            let parsed = parse_request(method, &format!("{BASE}{tail}"), query, &[], &body)?;
            let json = self.service.execute(parsed)?;
            Ok(serde_json::from_slice(&json).expect("json answer"))
        }

        fn list(&self, dataset: &str, query: &str) -> Result<Value, Rejection> {
            self.call(
                "GET",
                &format!("/datasets/{dataset}/records"),
                Some(query),
                Value::Null,
            )
        }

        fn token(&self, dataset: &str) -> String {
            self.list(dataset, "").expect("list")["SyncSessionToken"]
                .as_str()
                .expect("token")
                .to_owned()
        }

        fn write(&self, dataset: &str, patches: Value) -> Result<Value, Rejection> {
            let token = self.token(dataset);
            self.call(
                "POST",
                &format!("/datasets/{dataset}"),
                None,
                json!({"SyncSessionToken": token, "RecordPatches": patches}),
            )
        }
    }

    fn put(key: &str, sync_count: i64) -> Value {
        json!({"Op": "replace", "Key": key, "Value": "v", "SyncCount": sync_count})
    }

    #[test]
    fn a_missing_dataset_lists_empty_with_every_member() {
        let f = fixture();
        let answer = f.list("ds", "lastSyncCount=5").expect("list");
        assert_eq!(answer["Records"], json!([]));
        assert_eq!(answer["Count"], 0);
        assert_eq!(answer["DatasetSyncCount"], 0);
        assert_eq!(answer["DatasetExists"], false);
        assert_eq!(answer["DatasetDeletedAfterRequestedSyncCount"], false);
        assert_eq!(answer["MergedDatasetNames"], json!([]));
        assert!(answer["SyncSessionToken"].is_string());
        assert!(answer.get("NextToken").is_none());
        assert!(answer.get("LastModifiedBy").is_none());
    }

    #[test]
    fn writes_answer_the_new_state_with_the_identity_as_writer() {
        let f = fixture();
        let answer = f
            .write("ds", json!([put("a", 0), {"Op": "remove", "Key": "b", "SyncCount": 0, "DeviceLastModifiedDate": 1.25}]))
            .expect("write");
        let records = answer["Records"].as_array().expect("records");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["Key"], "a");
        assert_eq!(records[0]["SyncCount"], 1);
        assert_eq!(records[0]["LastModifiedBy"], "us-east-1:0b");
        assert_eq!(records[0]["LastModifiedDate"], json!(1_700_000_000.0));
        assert!(records[1].get("Value").is_none());
        assert_eq!(records[1]["DeviceLastModifiedDate"], json!(1.25));
        let listed = f.list("ds", "").expect("list");
        assert_eq!(listed["LastModifiedBy"], "us-east-1:0b");
        assert_eq!(listed["Records"][1]["DeviceLastModifiedDate"], json!(1.25));
    }

    #[test]
    fn session_tokens_are_checked_bound_and_expire() {
        let f = fixture();
        let token = f.token("ds");
        let write = |dataset: &str, token: &str| {
            f.call(
                "POST",
                &format!("/datasets/{dataset}"),
                None,
                json!({"SyncSessionToken": token, "RecordPatches": []}),
            )
        };
        assert_eq!(write("ds", &token).expect("valid")["Records"], json!([]));
        assert_eq!(write("ds", &token).expect("reusable")["Records"], json!([]));
        let err = write("other", &token).expect_err("wrong dataset");
        assert_eq!(err.kind, ErrorKind::InvalidParameter);
        assert_eq!(err.message, "SyncSessionToken not valid for these inputs");
        assert_eq!(
            write("ds", "garbage").expect_err("garbage").kind,
            ErrorKind::InvalidParameter
        );
        let listed = f
            .list("ds", &format!("syncSessionToken={token}"))
            .expect("valid on list");
        assert!(listed["SyncSessionToken"].is_string());
        assert_eq!(
            f.list("ds", "syncSessionToken=x").expect_err("bad").kind,
            ErrorKind::InvalidParameter
        );

        f.clock
            .fetch_add(SESSION_TOKEN_LIFETIME_SECS as i64 * 1000, Ordering::Relaxed);
        assert_eq!(
            write("ds", &token).expect_err("expired").kind,
            ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn empty_patches_change_nothing_and_duplicate_keys_are_refused() {
        let f = fixture();
        assert_eq!(
            f.write("ds", json!([])).expect("empty")["Records"],
            json!([])
        );
        let token = f.token("ds");
        let answer = f
            .call(
                "POST",
                "/datasets/ds",
                None,
                json!({"SyncSessionToken": token}),
            )
            .expect("absent");
        assert_eq!(answer["Records"], json!([]));
        assert_eq!(f.list("ds", "").expect("list")["DatasetExists"], false);
        let err = f
            .write("ds", json!([put("a", 0), put("a", 0)]))
            .expect_err("dup");
        assert_eq!(err.kind, ErrorKind::InvalidParameter);
        assert_eq!(f.list("ds", "").expect("list")["DatasetExists"], false);
    }

    #[test]
    fn paging_follows_next_tokens_to_every_record_once() {
        let f = fixture();
        for i in 0..5 {
            f.write(
                "ds",
                json!([put(&format!("k{i}"), 0), put(&format!("j{i}"), 0)]),
            )
            .expect("write");
        }
        let mut seen = Vec::new();
        let mut query = "lastSyncCount=1&maxResults=3".to_owned();
        loop {
            let page = f.list("ds", &query).expect("page");
            assert_eq!(page["DatasetSyncCount"], 5);
            let records = page["Records"].as_array().expect("records");
            assert!(records.len() <= 3);
            assert_eq!(page["Count"], records.len());
            seen.extend(
                records
                    .iter()
                    .map(|r| r["Key"].as_str().expect("key").to_owned()),
            );
            match page.get("NextToken").and_then(Value::as_str) {
                Some(token) => query = format!("lastSyncCount=1&maxResults=3&nextToken={token}"),
                None => break,
            }
        }
        assert_eq!(seen, ["j1", "k1", "j2", "k2", "j3", "k3", "j4", "k4"]);

        let page = f.list("ds", "maxResults=3").expect("page");
        let token = page["NextToken"].as_str().expect("more");
        for (query, why) in [
            (
                format!("lastSyncCount=1&nextToken={token}"),
                "other lastSyncCount",
            ),
            (format!("nextToken={token}x"), "tampered"),
        ] {
            assert_eq!(
                f.list("ds", &query).expect_err(why).kind,
                ErrorKind::InvalidParameter,
                "{why}"
            );
        }
        assert_eq!(
            f.list("other", &format!("nextToken={token}"))
                .expect_err("other dataset")
                .kind,
            ErrorKind::InvalidParameter
        );
        let err = f
            .call(
                "GET",
                "/datasets",
                Some(&format!("nextToken={token}")),
                Value::Null,
            )
            .expect_err("other operation");
        assert_eq!(err.kind, ErrorKind::InvalidParameter);
    }

    #[test]
    fn list_parameters_are_checked() {
        let f = fixture();
        for query in ["maxResults=0", "lastSyncCount=-1"] {
            assert_eq!(
                f.list("ds", query).expect_err(query).kind,
                ErrorKind::InvalidParameter
            );
        }
        assert_eq!(
            f.call("GET", "/datasets", Some("maxResults=0"), Value::Null)
                .expect_err("0")
                .kind,
            ErrorKind::InvalidParameter
        );
        f.write("ds", json!([put("a", 0)])).expect("write");
        let err = f.list("ds", "lastSyncCount=2").expect_err("LR-3");
        assert_eq!(err.message, "No such SyncCount: 2 exists for this Dataset");
        assert!(f.list("ds", "maxResults=100000").is_ok(), "clamped");
    }

    #[test]
    fn delete_sets_the_flag_for_copies_that_predate_it() {
        let f = fixture();
        f.write("ds", json!([put("a", 0)])).expect("write");
        f.write("ds", json!([put("a", 1)])).expect("write");
        let deleted = f
            .call("DELETE", "/datasets/ds", None, Value::Null)
            .expect("delete");
        assert_eq!(deleted["Dataset"]["DatasetName"], "ds");
        assert_eq!(
            f.call("DELETE", "/datasets/ds", None, Value::Null)
                .expect_err("gone")
                .kind,
            ErrorKind::ResourceNotFound
        );
        let answer = f.list("ds", "lastSyncCount=2").expect("list");
        assert_eq!(answer["DatasetExists"], false);
        assert_eq!(answer["DatasetDeletedAfterRequestedSyncCount"], true);
        assert_eq!(
            f.list("ds", "").expect("list")["DatasetDeletedAfterRequestedSyncCount"],
            false
        );

        let answer = f.write("ds", json!([put("a", 0)])).expect("re-create");
        assert_eq!(answer["Records"][0]["SyncCount"], 3);
        let answer = f.list("ds", "lastSyncCount=1").expect("list");
        assert_eq!(answer["DatasetExists"], true);
        assert_eq!(answer["DatasetDeletedAfterRequestedSyncCount"], true);
        assert_eq!(
            f.list("ds", "lastSyncCount=3").expect("list")["DatasetDeletedAfterRequestedSyncCount"],
            false
        );
    }

    #[test]
    fn dataset_operations_report_live_metadata() {
        let f = fixture();
        let err = f
            .call("GET", "", None, Value::Null)
            .expect_err("unknown identity");
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        for name in ["b", "a", "c"] {
            f.write(
                name,
                json!([{"Op": "replace", "Key": "ké", "Value": "vé", "SyncCount": 0}]),
            )
            .expect("write");
        }
        let described = f
            .call("GET", "/datasets/a", None, Value::Null)
            .expect("describe");
        assert_eq!(described["Dataset"]["NumRecords"], 1);
        assert_eq!(described["Dataset"]["DataStorage"], 6);
        assert_eq!(described["Dataset"]["IdentityId"], "us-east-1:0b");
        let page = f
            .call("GET", "/datasets", Some("maxResults=2"), Value::Null)
            .expect("list");
        assert_eq!(page["Count"], 2);
        assert_eq!(page["Datasets"][0]["DatasetName"], "a");
        let token = page["NextToken"].as_str().expect("more");
        let rest = f
            .call(
                "GET",
                "/datasets",
                Some(&format!("nextToken={token}")),
                Value::Null,
            )
            .expect("list");
        assert_eq!(rest["Datasets"][0]["DatasetName"], "c");
        assert!(rest.get("NextToken").is_none());

        f.clock.fetch_add(1000, Ordering::Relaxed);
        f.call("DELETE", "/datasets/b", None, Value::Null)
            .expect("delete");
        let usage = f.call("GET", "", None, Value::Null).expect("usage");
        assert_eq!(usage["IdentityUsage"]["DatasetCount"], 2);
        assert_eq!(usage["IdentityUsage"]["DataStorage"], 12);
        assert_eq!(usage["IdentityUsage"]["IdentityPoolId"], "us-east-1:0a");
        assert_eq!(
            usage["IdentityUsage"]["LastModifiedDate"],
            json!(1_700_000_001.0)
        );
    }
}
