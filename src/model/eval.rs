//! Predictions: the allowed outcomes of one call on the model's state.
//!
//! A call is evaluated once under the reference reading of the spec and once more under each
//! single departure ("reading") that an AMB- row allows and that can matter for this call (a
//! `:` in the name, a reused token, duplicate keys...). Within a reading, the broken rules are
//! collected in the order of docs/reference-choices.md: the first one's error is that reading's
//! answer, any other's is allowed under AMB-X-ERROR-PRECEDENCE. The outcomes of all readings,
//! de-duplicated, are the expectation, the reference reading's first.

use super::judge::{
    Effect, Expectation, Expected, ExpectedDataset, ExpectedRecord, ExpectedRecordList,
    ExpectedUsage, Outcome,
};
use super::state::{
    DatasetState, IdentityKey, IdentityState, Incarnation, RecreateMode, StoredRecord,
};
use super::{Ambiguity, Call, Model, TokenClaim};
use crate::spec::{
    DATASET_BYTES_MAX, DATASETS_PER_IDENTITY_MAX, DatasetName, DatasetPath, DeviceId, ErrorKind,
    IdentityId, IdentityPath, IdentityPoolId, LIST_DATASETS_MAX_RESULTS_DEFAULT,
    LIST_RECORDS_MAX_RESULTS_DEFAULT, ListDatasetsRequest, ListRecordsRequest, Operation,
    RECORDS_PER_DATASET_MAX, RecordKey, RecordPatch, SESSION_TOKEN_LIFETIME_SECS, Timestamp,
    UpdateRecordsRequest, validate_record_value,
};

/// `None`: the reference reading; `Some(a)`: the reading that departs from it on `a` only.
type Reading = Option<Ambiguity>;

pub(crate) fn expect(model: &Model, call: &Call, now: Timestamp) -> Expectation {
    let mut readings: Vec<Reading> = vec![None];
    readings.extend(departures(model, call, now).into_iter().map(Some));
    let mut outcomes: Vec<Outcome> = Vec::new();
    for reading in readings {
        for mut outcome in evaluate(model, call, now, reading) {
            outcome.ambiguities.extend(reading);
            outcome.ambiguities.sort();
            outcome.ambiguities.dedup();
            push_unique(&mut outcomes, outcome);
        }
    }
    Expectation { outcomes }
}

/// The same answer and effect reached by two readings is one outcome, labelled with the
/// fewest departures.
fn push_unique(outcomes: &mut Vec<Outcome>, outcome: Outcome) {
    let same = outcomes
        .iter_mut()
        .find(|o| o.expected == outcome.expected && o.effect == outcome.effect);
    match same {
        Some(same) if outcome.ambiguities.len() < same.ambiguities.len() => {
            same.ambiguities = outcome.ambiguities;
        }
        Some(_) => {}
        None => outcomes.push(outcome),
    }
}

/// The AMB- rows that can change the answer to this call.
fn departures(model: &Model, call: &Call, now: Timestamp) -> Vec<Ambiguity> {
    let mut found = Vec::new();
    match call {
        Call::UpdateRecords { request, token } => {
            colon_departure(&request.path, &mut found);
            token_departures(token, &request.path, now, &mut found);
            let patches = request.body.record_patches.as_deref().unwrap_or(&[]);
            if patches.is_empty() {
                found.push(Ambiguity::EmptyPatches);
            }
            if patches
                .iter()
                .any(|p| p.op.as_deref() == Some("remove") && p.value.is_some())
            {
                found.push(Ambiguity::RemoveValue);
            }
            if has_duplicate_keys(patches) {
                found.push(Ambiguity::DupKey);
            }
            if request
                .client_context
                .as_deref()
                .is_some_and(|c| !client_context_is_plain(c))
            {
                found.push(Ambiguity::ClientContext);
            }
            found.push(Ambiguity::TombstoneLimit);
            let dataset = model.dataset(&request.path);
            let recreating = dataset.is_some_and(|d| {
                d.live.is_none()
                    && d.deleted_max_count.is_some()
                    && d.recreate == RecreateMode::Unknown
            });
            if recreating {
                found.push(Ambiguity::RecreateCount);
            }
        }
        Call::ListRecords { request, token } => {
            colon_departure(&request.path, &mut found);
            token_departures(token, &request.path, now, &mut found);
            let foreign = match token {
                TokenClaim::Missing => false,
                TokenClaim::Garbage => true,
                TokenClaim::IssuedFor { path, .. } => *path != request.path,
            };
            if foreign {
                found.push(Ambiguity::ListToken);
            }
            if request.max_results.is_some_and(|m| m < 1) {
                found.push(Ambiguity::MaxResults);
            }
            if request.last_sync_count.is_some_and(|n| n < 0) {
                found.push(Ambiguity::NegativeLastSyncCount);
            }
            if request.next_token.is_some() {
                found.push(Ambiguity::NextToken);
            }
            let never_written = model
                .dataset(&request.path)
                .is_none_or(|d| d.live.is_none() && d.deleted_max_count.is_none());
            if never_written && request.last_sync_count.is_some_and(|n| n > 0) {
                found.push(Ambiguity::BeyondOnMissing);
            }
        }
        Call::DescribeDataset(request) => colon_departure(&request.path, &mut found),
        Call::DeleteDataset(request) => colon_departure(&request.path, &mut found),
        Call::ListDatasets(request) => {
            if request.max_results.is_some_and(|m| m < 1) {
                found.push(Ambiguity::MaxResults);
            }
            if request.next_token.is_some() {
                found.push(Ambiguity::NextToken);
            }
        }
        Call::DescribeIdentityUsage(_) => found.push(Ambiguity::UnknownIdentity),
    }
    found
}

/// Whether an `x-amz-Client-Context` is what every server must take: padded standard base64
/// (RFC 4648 §4) of UTF-8 text. Anything else may be refused or ignored (AMB-CLIENT-CONTEXT).
fn client_context_is_plain(value: &str) -> bool {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok_and(|bytes| std::str::from_utf8(&bytes).is_ok())
}

fn colon_departure(path: &DatasetPath, found: &mut Vec<Ambiguity>) {
    if path.dataset_name.contains(':') {
        found.push(Ambiguity::Colon);
    }
}

fn token_departures(
    token: &TokenClaim,
    path: &DatasetPath,
    now: Timestamp,
    found: &mut Vec<Ambiguity>,
) {
    if let TokenClaim::IssuedFor {
        path: issued_for,
        issued_at,
        used_before,
    } = token
        && issued_for == path
    {
        if *used_before {
            found.push(Ambiguity::TokenReuse);
        }
        if now - issued_at >= token_lifetime() {
            found.push(Ambiguity::TokenExpiry);
        }
    }
}

fn token_lifetime() -> f64 {
    SESSION_TOKEN_LIFETIME_SECS as f64
}

fn has_duplicate_keys(patches: &[RecordPatch]) -> bool {
    let mut keys: Vec<&str> = patches.iter().filter_map(|p| p.key.as_deref()).collect();
    let len = keys.len();
    keys.sort_unstable();
    keys.dedup();
    keys.len() != len
}

fn evaluate(model: &Model, call: &Call, now: Timestamp, reading: Reading) -> Vec<Outcome> {
    match call {
        Call::UpdateRecords { request, token } => {
            update_records(model, request, token, now, reading)
        }
        Call::ListRecords { request, token } => list_records(model, request, token, now, reading),
        Call::DescribeDataset(request) => describe_dataset(model, &request.path, reading),
        Call::DeleteDataset(request) => delete_dataset(model, &request.path, reading),
        Call::ListDatasets(request) => list_datasets(model, request, reading),
        Call::DescribeIdentityUsage(request) => {
            describe_identity_usage(model, &request.path, reading)
        }
    }
}

/// One broken rule: the error kinds it may be answered with (the first is its reference kind;
/// the others name the open point they depart on) and what the message must contain.
struct BadInput {
    kinds: Vec<(ErrorKind, Option<Ambiguity>)>,
    message_contains: Vec<String>,
}

impl BadInput {
    fn of(kind: ErrorKind) -> BadInput {
        BadInput {
            kinds: vec![(kind, None)],
            message_contains: Vec::new(),
        }
    }

    /// Step 4, VAL-1: ValidationException, or InvalidParameterException (AMB-VALIDATION-CODE).
    fn validation() -> BadInput {
        BadInput {
            kinds: vec![
                (ErrorKind::Validation, None),
                (ErrorKind::InvalidParameter, Some(Ambiguity::ValidationCode)),
            ],
            message_contains: Vec::new(),
        }
    }

    /// Step 5 checks that are constraints in spirit (`maxResults` < 1, `lastSyncCount` < 0).
    fn parameter_or_validation() -> BadInput {
        BadInput {
            kinds: vec![
                (ErrorKind::InvalidParameter, None),
                (ErrorKind::Validation, Some(Ambiguity::ValidationCode)),
            ],
            message_contains: Vec::new(),
        }
    }

    /// A rejection only a departing reading makes (AMB-COLON, AMB-EMPTY-PATCHES): any 400.
    fn any_400() -> BadInput {
        BadInput {
            kinds: vec![
                (ErrorKind::InvalidParameter, None),
                (ErrorKind::Validation, None),
            ],
            message_contains: Vec::new(),
        }
    }

    /// UR-2 for the first conflicting patch.
    fn conflict(key: &str, current: i64, sent: i64) -> BadInput {
        BadInput {
            kinds: vec![(ErrorKind::ResourceConflict, None)],
            message_contains: vec![key.to_owned(), current.to_string(), sent.to_string()],
        }
    }
}

/// The reading's answer is its first broken rule; other broken rules' errors are allowed under
/// AMB-X-ERROR-PRECEDENCE. Rejections change nothing (UR-3, ERR-3).
fn error_outcomes(violations: &[BadInput]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for (index, violation) in violations.iter().enumerate() {
        for (kind, departure) in &violation.kinds {
            let mut ambiguities: Vec<Ambiguity> = departure.iter().copied().collect();
            if index > 0 {
                ambiguities.push(Ambiguity::ErrorPrecedence);
            }
            ambiguities.sort();
            push_unique(
                &mut outcomes,
                Outcome {
                    ambiguities,
                    expected: Expected::Error {
                        kinds: vec![*kind],
                        message_contains: violation.message_contains.clone(),
                    },
                    effect: Effect::Unchanged,
                },
            );
        }
    }
    outcomes
}

fn success(expected: Expected, effect: Effect, ambiguities: Vec<Ambiguity>) -> Outcome {
    Outcome {
        ambiguities,
        expected,
        effect,
    }
}

fn identity_key(pool: &str, identity: &str) -> IdentityKey {
    (pool.to_owned(), identity.to_owned())
}

impl Model {
    pub(crate) fn dataset(&self, path: &DatasetPath) -> Option<&DatasetState> {
        self.identities
            .get(&identity_key(&path.identity_pool_id, &path.identity_id))?
            .datasets
            .get(&path.dataset_name)
    }
}

/// Step 4, path labels in order: pool, identity.
fn check_identity_labels(pool: &str, identity: &str, violations: &mut Vec<BadInput>) {
    if IdentityPoolId::check(pool).is_err() {
        violations.push(BadInput::validation());
    }
    if IdentityId::check(identity).is_err() {
        violations.push(BadInput::validation());
    }
}

/// Step 4, path labels in order: pool, identity, dataset (AMB-COLON: a reading that rejects `:`).
fn check_dataset_labels(path: &DatasetPath, reading: Reading, violations: &mut Vec<BadInput>) {
    check_identity_labels(&path.identity_pool_id, &path.identity_id, violations);
    if DatasetName::check(&path.dataset_name).is_err() {
        violations.push(BadInput::validation());
    } else if reading == Some(Ambiguity::Colon) && path.dataset_name.contains(':') {
        violations.push(BadInput::any_400());
    }
}

/// Step 5, UR-8: whether this reading rejects the token. A token for the same path is good
/// for an hour; older ones are rejected (reference-choices), and accepted under
/// AMB-TOKEN-EXPIRY. Reuse is accepted, and rejected under AMB-TOKEN-REUSE.
fn token_rejected(
    token: &TokenClaim,
    path: &DatasetPath,
    now: Timestamp,
    reading: Reading,
) -> bool {
    token_rejected_on(token, path, now, reading, false)
}

/// ListRecords' optional `syncSessionToken`: checked like UpdateRecords' token, except that a
/// spent token is always good (AMB-LIST-TOKEN: iOS lists with it after a conflict), and under
/// AMB-LIST-TOKEN the parameter may be ignored altogether.
fn list_token_rejected(
    token: &TokenClaim,
    path: &DatasetPath,
    now: Timestamp,
    reading: Reading,
) -> bool {
    reading != Some(Ambiguity::ListToken) && token_rejected_on(token, path, now, reading, true)
}

fn token_rejected_on(
    token: &TokenClaim,
    path: &DatasetPath,
    now: Timestamp,
    reading: Reading,
    reuse_always_good: bool,
) -> bool {
    match token {
        TokenClaim::Missing => false,
        TokenClaim::Garbage => true,
        TokenClaim::IssuedFor {
            path: issued_for,
            issued_at,
            used_before,
        } => {
            if issued_for != path {
                return true;
            }
            let age = now - issued_at;
            let expired = if reading == Some(Ambiguity::TokenExpiry) && age >= token_lifetime() {
                age <= token_lifetime()
            } else {
                age > token_lifetime()
            };
            expired
                || (!reuse_always_good && *used_before && reading == Some(Ambiguity::TokenReuse))
        }
    }
}

/// A well-formed patch (every step-4 rule holds).
/// Conflicts are judged on the raw patches, so only what a write needs is kept.
struct Patch {
    key: String,
    /// `None` for a remove.
    value: Option<String>,
    device_last_modified_date: Option<Timestamp>,
}

fn update_records(
    model: &Model,
    request: &UpdateRecordsRequest,
    token: &TokenClaim,
    now: Timestamp,
    reading: Reading,
) -> Vec<Outcome> {
    let path = &request.path;
    let body = &request.body;
    let mut violations = Vec::new();
    check_dataset_labels(path, reading, &mut violations);
    if body
        .device_id
        .as_deref()
        .is_some_and(|d| DeviceId::check(d).is_err())
    {
        violations.push(BadInput::validation());
    }
    let patches = body.record_patches.as_deref().unwrap_or(&[]);
    let well_formed = check_patches(patches, reading, &mut violations);
    if *token == TokenClaim::Missing {
        violations.push(BadInput::validation());
    }
    // AMB-CLIENT-CONTEXT: refused (reference) unless the reading ignores the header.
    if request
        .client_context
        .as_deref()
        .is_some_and(|c| !client_context_is_plain(c))
        && reading != Some(Ambiguity::ClientContext)
    {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
    if token_rejected(token, path, now, reading) {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
    if patches.is_empty() && reading == Some(Ambiguity::EmptyPatches) {
        violations.push(BadInput::any_400());
    }
    if has_duplicate_keys(patches) && reading != Some(Ambiguity::DupKey) {
        violations.push(BadInput {
            kinds: vec![
                (ErrorKind::InvalidParameter, None),
                (ErrorKind::Validation, Some(Ambiguity::DupKey)),
            ],
            message_contains: Vec::new(),
        });
    }
    // Step 6 (UR-2, UR-4): every patch against the count before the request.
    let live = model.dataset(path).and_then(|d| d.live.as_ref());
    for patch in patches {
        if let (Some(key), Some(sent)) = (patch.key.as_deref(), patch.sync_count) {
            let current = live
                .and_then(|l| l.records.get(key))
                .map_or(0, |r| r.sync_count);
            if sent != current {
                violations.push(BadInput::conflict(key, current, sent));
                break;
            }
        }
    }
    if patches.is_empty() {
        if violations.is_empty() {
            // AMB-EMPTY-PATCHES reference: nothing changes, the dataset is not created.
            let expected = Expected::UpdateRecords {
                records: Vec::new(),
                final_per_key: false,
            };
            return vec![success(expected, Effect::Unchanged, Vec::new())];
        }
        return error_outcomes(&violations);
    }
    let Some(well_formed) = well_formed else {
        return error_outcomes(&violations);
    };
    let writer = body
        .device_id
        .clone()
        .unwrap_or_else(|| path.identity_id.clone());
    let applied = apply_patches(model, path, &well_formed, &writer, reading);
    // Step 7 (LIM-1..3) on the state the request would produce.
    if over_limits(&applied.identity, &path.dataset_name, reading) {
        violations.push(BadInput::of(ErrorKind::LimitExceeded));
    }
    if !violations.is_empty() {
        return error_outcomes(&violations);
    }
    let expected = Expected::UpdateRecords {
        records: applied.records,
        final_per_key: has_duplicate_keys(patches),
    };
    let effect = Effect::SetIdentity {
        key: identity_key(&path.identity_pool_id, &path.identity_id),
        state: applied.identity,
    };
    vec![success(expected, effect, applied.ambiguities)]
}

/// Step 4 over the patches in order (Op, Key, SyncCount presence, Value); the parsed patches
/// when every rule holds.
fn check_patches(
    patches: &[RecordPatch],
    reading: Reading,
    violations: &mut Vec<BadInput>,
) -> Option<Vec<Patch>> {
    let mut parsed = Some(Vec::new());
    for patch in patches {
        let op = patch
            .op
            .as_deref()
            .and_then(|op| Operation::try_from(op).ok());
        if op.is_none() {
            violations.push(BadInput::validation());
        }
        let key = patch
            .key
            .as_deref()
            .filter(|key| RecordKey::check(key).is_ok());
        if key.is_none() {
            violations.push(BadInput::validation());
        }
        if patch.sync_count.is_none() {
            violations.push(BadInput::validation());
        }
        // UR-10: replace needs a Value; a remove's Value is ignored.
        let value_ok = op != Some(Operation::Replace)
            || patch
                .value
                .as_deref()
                .is_some_and(|v| validate_record_value(v).is_ok());
        if !value_ok {
            violations.push(BadInput::validation());
        }
        // A remove's Value is ignored (reference), or refused (AMB-X-REMOVE-VALUE).
        if op == Some(Operation::Remove)
            && patch.value.is_some()
            && reading == Some(Ambiguity::RemoveValue)
        {
            violations.push(BadInput::any_400());
        }
        match (op, key, patch.sync_count, value_ok, parsed.as_mut()) {
            (Some(op), Some(key), Some(_), true, Some(list)) => list.push(Patch {
                key: key.to_owned(),
                value: match op {
                    Operation::Replace => patch.value.clone(),
                    Operation::Remove => None,
                },
                device_last_modified_date: patch.device_last_modified_date,
            }),
            _ => parsed = None,
        }
    }
    parsed
}

/// A request's result, whether or not the limits then let it through.
struct Applied {
    identity: IdentityState,
    /// UR-5: each patch's result, in request order.
    records: Vec<ExpectedRecord>,
    /// AMB-RECREATE-COUNT when the endpoint is known to restart counters.
    ambiguities: Vec<Ambiguity>,
}

/// DATA-3: N → N+1 and every patched key (replace or remove) gets N+1; removes leave
/// tombstones (UR-6); a re-created dataset continues above its old count, or (AMB-RECREATE-COUNT)
/// restarts at 1, and the choice is remembered.
fn apply_patches(
    model: &Model,
    path: &DatasetPath,
    patches: &[Patch],
    writer: &str,
    reading: Reading,
) -> Applied {
    let key = identity_key(&path.identity_pool_id, &path.identity_id);
    let mut identity = model.identities.get(&key).cloned().unwrap_or_default();
    let dataset = identity
        .datasets
        .entry(path.dataset_name.clone())
        .or_default();
    let mut ambiguities = Vec::new();
    let recreating = dataset.live.is_none() && dataset.deleted_max_count.is_some();
    let restart = recreating
        && match dataset.recreate {
            RecreateMode::Restarts => {
                ambiguities.push(Ambiguity::RecreateCount);
                true
            }
            RecreateMode::Continues => false,
            RecreateMode::Unknown => reading == Some(Ambiguity::RecreateCount),
        };
    if recreating {
        dataset.recreate = if restart {
            RecreateMode::Restarts
        } else {
            RecreateMode::Continues
        };
    }
    let base = match &dataset.live {
        Some(live) => live.sync_count,
        None if restart => 0,
        None => dataset.max_count_ever,
    };
    let new_count = base + 1;
    let mut live = dataset.live.take().unwrap_or_else(|| Incarnation {
        sync_count: 0,
        records: Default::default(),
        last_modified_by: writer.to_owned(),
    });
    live.sync_count = new_count;
    live.last_modified_by = writer.to_owned();
    let mut records = Vec::new();
    for patch in patches {
        let stored = StoredRecord {
            value: patch.value.clone(),
            sync_count: new_count,
            device_last_modified_date: patch.device_last_modified_date,
            last_modified_by: writer.to_owned(),
        };
        records.push(expected_record(&patch.key, &stored));
        live.records.insert(patch.key.clone(), stored);
    }
    dataset.max_count_ever = dataset.max_count_ever.max(new_count);
    dataset.live = Some(live);
    Applied {
        identity,
        records,
        ambiguities,
    }
}

fn expected_record(key: &str, stored: &StoredRecord) -> ExpectedRecord {
    ExpectedRecord {
        key: key.to_owned(),
        value: stored.value.clone(),
        sync_count: stored.sync_count,
        device_last_modified_date: stored.device_last_modified_date,
        last_modified_by: stored.last_modified_by.clone(),
    }
}

/// LIM-1..3 on the resulting state; tombstones count only under AMB-TOMBSTONE-LIMIT.
fn over_limits(identity: &IdentityState, name: &str, reading: Reading) -> bool {
    if identity.live_datasets().count() > DATASETS_PER_IDENTITY_MAX {
        return true;
    }
    let Some(live) = identity.datasets.get(name).and_then(|d| d.live.as_ref()) else {
        return false;
    };
    if reading == Some(Ambiguity::TombstoneLimit) {
        live.records.len() > RECORDS_PER_DATASET_MAX
            || live.bytes_with_tombstone_keys() > DATASET_BYTES_MAX
    } else {
        live.live_records() > RECORDS_PER_DATASET_MAX || live.live_bytes() > DATASET_BYTES_MAX
    }
}

/// Page size: the request's `maxResults`, clamped to the default (reference-choices); without
/// `maxResults`, the default, which then holds everything (LR-4, DS-2).
fn page_size(max_results: Option<i32>, default: i32) -> usize {
    let size = max_results.unwrap_or(default).clamp(1, default);
    usize::try_from(size).unwrap_or(1)
}

/// `maxResults` as this reading takes it: below 1 it is refused (reference) or read as absent
/// (AMB-MAX-RESULTS).
fn max_results_read(
    max_results: Option<i32>,
    reading: Reading,
    violations: &mut Vec<BadInput>,
) -> Option<i32> {
    match max_results {
        Some(m) if m < 1 && reading == Some(Ambiguity::MaxResults) => None,
        Some(m) if m < 1 => {
            violations.push(BadInput::parameter_or_validation());
            None
        }
        other => other,
    }
}

/// A never-issued `nextToken` is refused (reference) or ignored: the first page
/// (AMB-X-NEXT-TOKEN).
fn check_next_token(next_token: Option<&String>, reading: Reading, violations: &mut Vec<BadInput>) {
    if next_token.is_some() && reading != Some(Ambiguity::NextToken) {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
}

fn list_records(
    model: &Model,
    request: &ListRecordsRequest,
    token: &TokenClaim,
    now: Timestamp,
    reading: Reading,
) -> Vec<Outcome> {
    let path = &request.path;
    let mut violations = Vec::new();
    check_dataset_labels(path, reading, &mut violations);
    let max_results = max_results_read(request.max_results, reading, &mut violations);
    let last_sync_count = match request.last_sync_count {
        Some(n) if n < 0 && reading == Some(Ambiguity::NegativeLastSyncCount) => 0,
        Some(n) if n < 0 => {
            violations.push(BadInput::parameter_or_validation());
            0
        }
        other => other.unwrap_or(0),
    };
    check_next_token(request.next_token.as_ref(), reading, &mut violations);
    if list_token_rejected(token, path, now, reading) {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
    let dataset = model.dataset(path);
    let live = dataset.and_then(|d| d.live.as_ref());
    // DS-4: the caller's copy predates a delete (its count is at or below a delete's).
    let predates_delete = last_sync_count > 0
        && dataset
            .and_then(|d| d.deleted_max_count)
            .is_some_and(|deleted_at| deleted_at >= last_sync_count);
    // LR-3, only on an existing dataset, and never for a count from before a delete (DS-4:
    // a restarted counter may be below it).
    if live.is_some_and(|l| last_sync_count > l.sync_count) && !predates_delete {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
    // LR-2 on a dataset never written: 200 empty (reference), or LR-3's 400
    // (AMB-X-BEYOND-ON-MISSING).
    let never_written = dataset.is_none_or(|d| live.is_none() && d.deleted_max_count.is_none());
    if never_written && last_sync_count > 0 && reading == Some(Ambiguity::BeyondOnMissing) {
        violations.push(BadInput::of(ErrorKind::InvalidParameter));
    }
    if !violations.is_empty() {
        return error_outcomes(&violations);
    }
    let page_size_max = page_size(max_results, LIST_RECORDS_MAX_RESULTS_DEFAULT);
    let list = |records: Vec<ExpectedRecord>, exists: bool, flag: bool| {
        Expected::ListRecords(ExpectedRecordList {
            records,
            page_size_max,
            explicit_page_size: max_results.is_some(),
            dataset_sync_count: live.map_or(0, |l| l.sync_count),
            dataset_exists: exists,
            deleted_after_requested_sync_count: flag,
            last_modified_by: live.map(|l| l.last_modified_by.clone()),
        })
    };
    let mut outcomes = Vec::new();
    match live {
        None => {
            // LR-2, and AMB-DELETE-FLAG after a delete: either signal alone is allowed.
            outcomes.push(success(
                list(Vec::new(), false, predates_delete),
                Effect::Unchanged,
                vec![],
            ));
            if predates_delete {
                for (exists, flag) in [(false, false), (true, true)] {
                    outcomes.push(success(
                        list(Vec::new(), exists, flag),
                        Effect::Unchanged,
                        vec![Ambiguity::DeleteFlag],
                    ));
                }
            }
        }
        Some(live) => {
            // LR-1: greater than, ordered by (SyncCount, Key).
            let above = |floor: i64| -> Vec<ExpectedRecord> {
                let mut records: Vec<(i64, &String, &StoredRecord)> = live
                    .records
                    .iter()
                    .filter(|(_, r)| r.sync_count > floor)
                    .map(|(key, r)| (r.sync_count, key, r))
                    .collect();
                records.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
                records
                    .into_iter()
                    .map(|(_, key, r)| expected_record(key, r))
                    .collect()
            };
            if predates_delete {
                // DS-4 after a re-create: the flag, and the re-created dataset's records.
                outcomes.push(success(
                    list(above(0), true, true),
                    Effect::Unchanged,
                    vec![],
                ));
                // A restarted counter cannot tell an old count from a new one at or below it.
                let restarted = dataset.is_some_and(|d| d.recreate == RecreateMode::Restarts);
                if restarted && last_sync_count <= live.sync_count {
                    outcomes.push(success(
                        list(above(last_sync_count), true, false),
                        Effect::Unchanged,
                        vec![Ambiguity::RecreateCount],
                    ));
                }
            } else {
                outcomes.push(success(
                    list(above(last_sync_count), true, false),
                    Effect::Unchanged,
                    vec![],
                ));
            }
        }
    }
    outcomes
}

fn expected_dataset(path: &DatasetPath, live: &Incarnation) -> ExpectedDataset {
    ExpectedDataset {
        identity_id: path.identity_id.clone(),
        dataset_name: path.dataset_name.clone(),
        num_records: i64::try_from(live.live_records()).unwrap_or(i64::MAX),
        data_storage: i64::try_from(live.live_bytes()).unwrap_or(i64::MAX),
        last_modified_by: live.last_modified_by.clone(),
    }
}

/// DS-1.
fn describe_dataset(model: &Model, path: &DatasetPath, reading: Reading) -> Vec<Outcome> {
    let mut violations = Vec::new();
    check_dataset_labels(path, reading, &mut violations);
    let live = model.dataset(path).and_then(|d| d.live.as_ref());
    if live.is_none() {
        violations.push(BadInput::of(ErrorKind::ResourceNotFound));
    }
    match live {
        Some(live) if violations.is_empty() => vec![success(
            Expected::DescribeDataset(expected_dataset(path, live)),
            Effect::Unchanged,
            Vec::new(),
        )],
        _ => error_outcomes(&violations),
    }
}

/// DS-3: the metadata as it was; then no records, no tombstones, every key's count 0.
fn delete_dataset(model: &Model, path: &DatasetPath, reading: Reading) -> Vec<Outcome> {
    let mut violations = Vec::new();
    check_dataset_labels(path, reading, &mut violations);
    let live = model.dataset(path).and_then(|d| d.live.as_ref());
    if live.is_none() {
        violations.push(BadInput::of(ErrorKind::ResourceNotFound));
    }
    let Some(live) = live.filter(|_| violations.is_empty()) else {
        return error_outcomes(&violations);
    };
    let key = identity_key(&path.identity_pool_id, &path.identity_id);
    let mut identity = model.identities.get(&key).cloned().unwrap_or_default();
    let dataset = identity
        .datasets
        .entry(path.dataset_name.clone())
        .or_default();
    dataset.live = None;
    dataset.deleted_max_count = Some(
        dataset
            .deleted_max_count
            .map_or(live.sync_count, |d| d.max(live.sync_count)),
    );
    vec![success(
        Expected::DeleteDataset(expected_dataset(path, live)),
        Effect::SetIdentity {
            key,
            state: identity,
        },
        Vec::new(),
    )]
}

/// DS-2: live datasets by name.
fn list_datasets(model: &Model, request: &ListDatasetsRequest, reading: Reading) -> Vec<Outcome> {
    let path = &request.path;
    let mut violations = Vec::new();
    check_identity_labels(&path.identity_pool_id, &path.identity_id, &mut violations);
    let max_results = max_results_read(request.max_results, reading, &mut violations);
    check_next_token(request.next_token.as_ref(), reading, &mut violations);
    if !violations.is_empty() {
        return error_outcomes(&violations);
    }
    let datasets = model
        .identities
        .get(&identity_key(&path.identity_pool_id, &path.identity_id))
        .map(|identity| {
            identity
                .live_datasets()
                .map(|(name, live)| {
                    let dataset_path = DatasetPath {
                        identity_pool_id: path.identity_pool_id.clone(),
                        identity_id: path.identity_id.clone(),
                        dataset_name: name.clone(),
                    };
                    expected_dataset(&dataset_path, live)
                })
                .collect()
        })
        .unwrap_or_default();
    let expected = Expected::ListDatasets {
        datasets,
        page_size_max: page_size(max_results, LIST_DATASETS_MAX_RESULTS_DEFAULT),
        explicit_page_size: max_results.is_some(),
    };
    vec![success(expected, Effect::Unchanged, Vec::new())]
}

/// DS-5; an identity that never created a dataset is 404, or zeros (AMB-X-UNKNOWN-IDENTITY).
fn describe_identity_usage(model: &Model, path: &IdentityPath, reading: Reading) -> Vec<Outcome> {
    let mut violations = Vec::new();
    check_identity_labels(&path.identity_pool_id, &path.identity_id, &mut violations);
    let identity = model
        .identities
        .get(&identity_key(&path.identity_pool_id, &path.identity_id));
    let zeros = IdentityState::default();
    let identity = match identity {
        Some(identity) => Some(identity),
        None if reading == Some(Ambiguity::UnknownIdentity) => Some(&zeros),
        None => {
            violations.push(BadInput::of(ErrorKind::ResourceNotFound));
            None
        }
    };
    let Some(identity) = identity.filter(|_| violations.is_empty()) else {
        return error_outcomes(&violations);
    };
    let usage = ExpectedUsage {
        identity_pool_id: path.identity_pool_id.clone(),
        identity_id: path.identity_id.clone(),
        dataset_count: i64::try_from(identity.live_datasets().count()).unwrap_or(i64::MAX),
        data_storage: identity
            .live_datasets()
            .map(|(_, live)| i64::try_from(live.live_bytes()).unwrap_or(i64::MAX))
            .sum(),
    };
    vec![success(
        Expected::DescribeIdentityUsage(usage),
        Effect::Unchanged,
        Vec::new(),
    )]
}
