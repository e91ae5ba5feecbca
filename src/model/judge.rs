//! Predictions and their judgement: what an endpoint may answer, and whether it did.
//!
//! A prediction fixes what SPEC fixes (status and error shape, records, counts, flags) and lets
//! through what SPEC leaves open (dates are any number, `LastModifiedBy` any string, list order
//! any order); an open point the endpoint took differently from the reference is named in the
//! [`Judgement`] so the report can say NON-STRICT.

use std::collections::BTreeMap;
use std::fmt;

use super::state::{IdentityKey, IdentityState};
use super::{Ambiguity, Model, Observed};
use crate::spec::{
    Dataset, ErrorKind, IdentityUsage, ListDatasetsResponse, ListRecordsResponse, Record, Timestamp,
};

/// Every outcome a conforming endpoint may choose for one call; `outcomes[0]` is the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub outcomes: Vec<Outcome>,
}

/// One allowed outcome: what the endpoint answers and how the state changes if it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The open points on which this outcome departs from the reference; empty for the
    /// reference outcome. More than one when departures combine (e.g. another broken rule's
    /// error, answered with the other validation code).
    pub ambiguities: Vec<Ambiguity>,
    pub expected: Expected,
    pub(crate) effect: Effect,
}

/// How an outcome changes the model. Every call touches at most one identity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Rejections and reads (UR-3, ERR-3).
    Unchanged,
    /// The identity's whole state after the call.
    SetIdentity {
        key: IdentityKey,
        state: IdentityState,
    },
}

/// What the endpoint answers in one outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Any of `kinds`, with the status each kind has (ERR-2) and the header naming it (ERR-1).
    /// The message must contain every string of `message_contains` (only UR-2 fixes a message).
    Error {
        kinds: Vec<ErrorKind>,
        message_contains: Vec<String>,
    },
    /// UR-5: the patched keys in their new state, in request order (AMB-ORDER: any order).
    /// With `final_per_key` (AMB-DUP-KEY applied both), a key may appear once per patch and only
    /// its last listing must match the key's final record.
    UpdateRecords {
        records: Vec<ExpectedRecord>,
        final_per_key: bool,
    },
    ListRecords(ExpectedRecordList),
    DescribeDataset(ExpectedDataset),
    /// DS-2: live datasets in name order, in pages of at most `page_size_max`; see
    /// [`ExpectedRecordList::explicit_page_size`] for pages that are not full.
    ListDatasets {
        datasets: Vec<ExpectedDataset>,
        page_size_max: usize,
        explicit_page_size: bool,
    },
    /// DS-3: the metadata as it was before the delete.
    DeleteDataset(ExpectedDataset),
    DescribeIdentityUsage(ExpectedUsage),
}

/// A record as the endpoint must return it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedRecord {
    pub key: String,
    /// `None` for a tombstone (UR-6): the `Value` member must be absent.
    pub value: Option<String>,
    pub sync_count: i64,
    /// UR-9: the patch's date, echoed (to the millisecond); `None`: any number or absent.
    pub device_last_modified_date: Option<Timestamp>,
    /// The reference server's writer name; any other string is AMB-LASTMODIFIEDBY.
    pub last_modified_by: String,
}

/// A ListRecords page walk (LR-1..5).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedRecordList {
    /// The whole matching set, in reference order (SyncCount, Key).
    pub records: Vec<ExpectedRecord>,
    /// `min(maxResults, 1024)`.
    pub page_size_max: usize,
    /// Whether the caller sent `maxResults`. Without it every page but the last is full (LR-4:
    /// one page holds up to 1,024 records, since iOS never follows `NextToken`); with it a
    /// smaller page before the last is allowed (AMB-PAGE-SIZE).
    pub explicit_page_size: bool,
    pub dataset_sync_count: i64,
    pub dataset_exists: bool,
    pub deleted_after_requested_sync_count: bool,
    /// The dataset's last writer when it exists (AMB-LASTMODIFIEDBY); not checked otherwise.
    pub last_modified_by: Option<String>,
}

/// A dataset's metadata (DS-1); dates must be numbers, any value.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedDataset {
    pub identity_id: String,
    pub dataset_name: String,
    pub num_records: i64,
    pub data_storage: i64,
    pub last_modified_by: String,
}

/// DS-5 usage of one identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedUsage {
    pub identity_pool_id: String,
    pub identity_id: String,
    pub dataset_count: i64,
    pub data_storage: i64,
}

/// The verdict on one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// The endpoint answered exactly as the reference does.
    Reference,
    /// An allowed answer that departs from the reference on these open points (sorted).
    NonStrict(Vec<Ambiguity>),
    /// An answer no conforming endpoint gives.
    Mismatch(Mismatch),
}

/// Human-readable account of a wrong answer, for transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The allowed outcomes, reference first.
    pub expected: String,
    /// A summary of the answer.
    pub actual: String,
    /// The first field that differs from the closest allowed outcome, e.g.
    /// `Records[1].SyncCount: expected 4, got 3`.
    pub first_difference: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected: {}\nactual: {}\nfirst difference: {}",
            self.expected, self.actual, self.first_difference
        )
    }
}

impl Outcome {
    pub(crate) fn apply(&self, model: &mut Model) {
        match &self.effect {
            Effect::Unchanged => {}
            Effect::SetIdentity { key, state } => {
                model.identities.insert(key.clone(), state.clone());
            }
        }
    }

    /// Whether this outcome leaves the model as it was.
    pub fn changes_nothing(&self) -> bool {
        self.effect == Effect::Unchanged
    }
}

impl Expectation {
    /// The reference outcome.
    pub fn reference(&self) -> &Outcome {
        &self.outcomes[0]
    }

    /// Judges an answer: the allowed outcome it matches with the fewest departures from the
    /// reference (and its index, to advance along), or a mismatch against the closest one.
    pub fn judge(&self, observed: &Observed) -> (Judgement, Option<usize>) {
        let mut best: Option<(usize, Vec<Ambiguity>)> = None;
        let mut first_difference: Option<String> = None;
        for (index, outcome) in self.outcomes.iter().enumerate() {
            match check(&outcome.expected, observed) {
                Ok(extra) => {
                    let mut ambiguities = outcome.ambiguities.clone();
                    ambiguities.extend(extra);
                    ambiguities.sort();
                    ambiguities.dedup();
                    if best
                        .as_ref()
                        .is_none_or(|(_, found)| ambiguities.len() < found.len())
                    {
                        best = Some((index, ambiguities));
                    }
                }
                Err(difference) => {
                    if first_difference.is_none() && closest(&outcome.expected, observed) {
                        first_difference = Some(difference);
                    }
                }
            }
        }
        match best {
            Some((index, ambiguities)) if ambiguities.is_empty() => {
                (Judgement::Reference, Some(index))
            }
            Some((index, ambiguities)) => (Judgement::NonStrict(ambiguities), Some(index)),
            None => {
                let first_difference = first_difference.unwrap_or_else(|| {
                    format!(
                        "expected {}, got {}",
                        self.reference().expected,
                        summary(observed)
                    )
                });
                let mismatch = Mismatch {
                    expected: self.to_string(),
                    actual: summary(observed),
                    first_difference,
                };
                (Judgement::Mismatch(mismatch), None)
            }
        }
    }
}

/// The outcome whose difference a mismatch reports: same kind of answer and, for errors, an
/// outcome that names the observed kind if there is one.
fn closest(expected: &Expected, observed: &Observed) -> bool {
    match (expected, observed) {
        (Expected::Error { kinds, .. }, Observed::Error { kind, .. }) => {
            kind.is_none_or(|kind| kinds.contains(&kind))
        }
        (Expected::UpdateRecords { .. }, Observed::UpdateRecords(_))
        | (Expected::ListRecords(_), Observed::ListRecords(_))
        | (Expected::DescribeDataset(_), Observed::DescribeDataset(_))
        | (Expected::ListDatasets { .. }, Observed::ListDatasets(_))
        | (Expected::DeleteDataset(_), Observed::DeleteDataset(_))
        | (Expected::DescribeIdentityUsage(_), Observed::DescribeIdentityUsage(_)) => true,
        _ => false,
    }
}

/// `Ok(extra)` when `observed` is allowed by `expected`, with the open points it took
/// differently inside this outcome (order, count, writer names); `Err` the first difference.
fn check(expected: &Expected, observed: &Observed) -> Result<Vec<Ambiguity>, String> {
    match (expected, observed) {
        (
            Expected::Error {
                kinds,
                message_contains,
            },
            Observed::Error {
                status,
                kind,
                message,
            },
        ) => check_error(kinds, message_contains, *status, *kind, message.as_deref()),
        (
            Expected::UpdateRecords {
                records,
                final_per_key,
            },
            Observed::UpdateRecords(response),
        ) => {
            let got = response.records.as_deref().unwrap_or(&[]);
            if *final_per_key {
                check_records_final_per_key(records, got)
            } else {
                check_record_set("Records", records, got)
            }
        }
        (Expected::ListRecords(list), Observed::ListRecords(pages)) => {
            check_record_pages(list, pages)
        }
        (Expected::DescribeDataset(dataset), Observed::DescribeDataset(response)) => {
            check_dataset("Dataset", dataset, response.dataset.as_ref())
        }
        (Expected::DeleteDataset(dataset), Observed::DeleteDataset(response)) => {
            check_dataset("Dataset", dataset, response.dataset.as_ref())
        }
        (
            Expected::ListDatasets {
                datasets,
                page_size_max,
                explicit_page_size,
            },
            Observed::ListDatasets(pages),
        ) => check_dataset_pages(datasets, *page_size_max, *explicit_page_size, pages),
        (Expected::DescribeIdentityUsage(usage), Observed::DescribeIdentityUsage(response)) => {
            check_usage(usage, response.identity_usage.as_ref())
        }
        _ => Err(format!("expected {}, got {}", expected, summary(observed))),
    }
}

/// ERR-1/ERR-2: the header names a shape, the status is that shape's, the shape is allowed, and
/// the body carries a message.
pub(super) fn check_error(
    kinds: &[ErrorKind],
    message_contains: &[String],
    status: u16,
    kind: Option<ErrorKind>,
    message: Option<&str>,
) -> Result<Vec<Ambiguity>, String> {
    let allowed = kind_list(kinds);
    let Some(kind) = kind else {
        return Err(format!(
            "x-amzn-ErrorType: expected {allowed}, got none (status {status})"
        ));
    };
    if status != kind.status() {
        return Err(format!(
            "status: {kind} must be answered with {}, got {status}",
            kind.status()
        ));
    }
    if !kinds.contains(&kind) {
        return Err(format!("error: expected {allowed}, got {status} {kind}"));
    }
    let Some(message) = message else {
        return Err("message: expected a JSON body with a message, got none".to_owned());
    };
    for part in message_contains {
        if !message.contains(part.as_str()) {
            return Err(format!(
                "message: expected to contain {part:?}, got {message:?}"
            ));
        }
    }
    Ok(Vec::new())
}

/// Exact set of records, each once, in reference order or (AMB-ORDER) any other.
fn check_record_set(
    what: &str,
    expected: &[ExpectedRecord],
    got: &[Record],
) -> Result<Vec<Ambiguity>, String> {
    let mut extra = Vec::new();
    let mut by_key: BTreeMap<&str, &ExpectedRecord> = BTreeMap::new();
    for record in expected {
        by_key.insert(record.key.as_str(), record);
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, record) in got.iter().enumerate() {
        let Some(key) = record.key.as_deref() else {
            return Err(format!("{what}[{index}].Key: expected a key, got none"));
        };
        if let Some(first) = seen.insert(key, index) {
            return Err(format!(
                "{what}[{index}]: key {key:?} listed twice (first at [{first}])"
            ));
        }
        let Some(want) = by_key.get(key) else {
            return Err(format!("{what}[{index}]: unexpected key {key:?}"));
        };
        extra.extend(check_record(&format!("{what}[{index}]"), want, record)?);
    }
    if let Some(missing) = expected.iter().find(|r| !seen.contains_key(r.key.as_str())) {
        return Err(format!(
            "{what}: missing {} (expected {} records, got {})",
            record_summary(missing),
            expected.len(),
            got.len()
        ));
    }
    let in_order = expected
        .iter()
        .zip(got)
        .all(|(want, record)| record.key.as_deref() == Some(want.key.as_str()));
    if !in_order {
        extra.push(Ambiguity::Order);
    }
    Ok(extra)
}

/// AMB-DUP-KEY applied both: every listed record is one of the patched keys at the new count,
/// and each key's last listing is its final record.
fn check_records_final_per_key(
    expected: &[ExpectedRecord],
    got: &[Record],
) -> Result<Vec<Ambiguity>, String> {
    let mut finals: BTreeMap<&str, &ExpectedRecord> = BTreeMap::new();
    for record in expected {
        finals.insert(record.key.as_str(), record);
    }
    let mut last: BTreeMap<&str, (usize, &Record)> = BTreeMap::new();
    for (index, record) in got.iter().enumerate() {
        let Some(key) = record.key.as_deref() else {
            return Err(format!("Records[{index}].Key: expected a key, got none"));
        };
        let Some(want) = finals.get(key) else {
            return Err(format!("Records[{index}]: unexpected key {key:?}"));
        };
        if record.sync_count != Some(want.sync_count) {
            return Err(format!(
                "Records[{index}].SyncCount: expected {}, got {}",
                want.sync_count,
                opt(record.sync_count)
            ));
        }
        last.insert(key, (index, record));
    }
    let mut extra = Vec::new();
    for (key, want) in finals {
        let Some((index, record)) = last.get(key) else {
            return Err(format!("Records: missing {}", record_summary(want)));
        };
        extra.extend(check_record(&format!("Records[{index}]"), want, record)?);
    }
    Ok(extra)
}

/// One record's fields: Key, Value (absent for a tombstone), SyncCount exact, dates numbers,
/// DeviceLastModifiedDate echoed (UR-9), LastModifiedBy any string (AMB-LASTMODIFIEDBY).
fn check_record(at: &str, want: &ExpectedRecord, got: &Record) -> Result<Vec<Ambiguity>, String> {
    if got.key.as_deref() != Some(want.key.as_str()) {
        return Err(format!(
            "{at}.Key: expected {:?}, got {}",
            want.key,
            opt_str(got.key.as_deref())
        ));
    }
    if got.value != want.value {
        return Err(format!(
            "{at}.Value: expected {}, got {}",
            value_text(want.value.as_deref()),
            value_text(got.value.as_deref())
        ));
    }
    if got.sync_count != Some(want.sync_count) {
        return Err(format!(
            "{at}.SyncCount: expected {}, got {}",
            want.sync_count,
            opt(got.sync_count)
        ));
    }
    match got.last_modified_date {
        Some(date) if date.is_finite() => {}
        other => {
            return Err(format!(
                "{at}.LastModifiedDate: expected a number, got {}",
                opt(other)
            ));
        }
    }
    if let Some(date) = want.device_last_modified_date {
        let echoed = got
            .device_last_modified_date
            .is_some_and(|got| same_instant(got, date));
        if !echoed {
            return Err(format!(
                "{at}.DeviceLastModifiedDate: expected {date}, got {}",
                opt(got.device_last_modified_date)
            ));
        }
    } else if got
        .device_last_modified_date
        .is_some_and(|d| !d.is_finite())
    {
        return Err(format!("{at}.DeviceLastModifiedDate: expected a number"));
    }
    if got.last_modified_by.as_deref() == Some(want.last_modified_by.as_str()) {
        Ok(Vec::new())
    } else {
        Ok(vec![Ambiguity::LastModifiedBy])
    }
}

/// Dates are `Date`s server-side: equal to the millisecond is equal.
fn same_instant(a: Timestamp, b: Timestamp) -> bool {
    (a - b).abs() < 0.000_5 + f64::EPSILON * b.abs()
}

/// LR-1..5: the page walk as a whole and every page on its own.
fn check_record_pages(
    list: &ExpectedRecordList,
    pages: &[ListRecordsResponse],
) -> Result<Vec<Ambiguity>, String> {
    if pages.is_empty() {
        return Err("pages: expected at least one page, got none".to_owned());
    }
    let mut extra = Vec::new();
    let total = list.records.len();
    let mut all = Vec::new();
    for (number, page) in pages.iter().enumerate() {
        let at = format!("page {number}");
        let records = page.records.as_deref().unwrap_or(&[]);
        if records.len() > list.page_size_max {
            return Err(format!(
                "{at}.Records: expected at most {} records, got {}",
                list.page_size_max,
                records.len()
            ));
        }
        let last = number + 1 == pages.len();
        check_next_token(&at, page.next_token.as_deref(), last)?;
        extra.extend(check_page_fill(
            &at,
            "records",
            records.len(),
            list.page_size_max,
            list.explicit_page_size,
            last,
        )?);
        extra.extend(check_count(&at, page.count, records.len(), total)?);
        if page.dataset_sync_count != Some(list.dataset_sync_count) {
            return Err(format!(
                "{at}.DatasetSyncCount: expected {}, got {}",
                list.dataset_sync_count,
                opt(page.dataset_sync_count)
            ));
        }
        if page.dataset_exists != Some(list.dataset_exists) {
            return Err(format!(
                "{at}.DatasetExists: expected {}, got {}",
                list.dataset_exists,
                opt(page.dataset_exists)
            ));
        }
        if page.dataset_deleted_after_requested_sync_count
            != Some(list.deleted_after_requested_sync_count)
        {
            return Err(format!(
                "{at}.DatasetDeletedAfterRequestedSyncCount: expected {}, got {}",
                list.deleted_after_requested_sync_count,
                opt(page.dataset_deleted_after_requested_sync_count)
            ));
        }
        if page.sync_session_token.as_deref().is_none_or(str::is_empty) {
            return Err(format!(
                "{at}.SyncSessionToken: expected a token, got {}",
                opt_str(page.sync_session_token.as_deref())
            ));
        }
        if let Some(writer) = &list.last_modified_by
            && page.last_modified_by.as_deref() != Some(writer.as_str())
        {
            extra.push(Ambiguity::LastModifiedBy);
        }
        all.extend(records.iter().cloned());
    }
    extra.extend(check_record_set("Records", &list.records, &all)?);
    Ok(extra)
}

/// LR-4 / DS-2: a `NextToken` on every page but the last.
fn check_next_token(at: &str, token: Option<&str>, last: bool) -> Result<(), String> {
    let present = token.is_some_and(|t| !t.is_empty());
    match (present, last) {
        (false, false) => Err(format!(
            "{at}.NextToken: expected a token (more pages follow), got none"
        )),
        (true, true) => Err(format!(
            "{at}.NextToken: expected none on the last page, got {:?}",
            token.unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

/// LR-4 / DS-2: a page before the last is full; without `maxResults` that is a MUST (clients
/// that never follow `NextToken` would miss the rest), with it a smaller page is AMB-PAGE-SIZE.
fn check_page_fill(
    at: &str,
    items: &str,
    len: usize,
    page_size_max: usize,
    explicit_page_size: bool,
    last: bool,
) -> Result<Vec<Ambiguity>, String> {
    if last || len >= page_size_max {
        Ok(Vec::new())
    } else if explicit_page_size {
        Ok(vec![Ambiguity::PageSize])
    } else {
        Err(format!(
            "{at}: {len} {items} and a NextToken, but without maxResults one page must hold up \
             to {page_size_max} {items} (LR-4, DS-2)"
        ))
    }
}

/// LR-5: `Count` present; this page's length (reference) or the total (AMB-COUNT).
fn check_count(
    at: &str,
    count: Option<i32>,
    page_len: usize,
    total: usize,
) -> Result<Vec<Ambiguity>, String> {
    let Some(count) = count else {
        return Err(format!("{at}.Count: expected {page_len}, got none"));
    };
    let count = i64::from(count);
    if count == page_len as i64 {
        Ok(Vec::new())
    } else if count == total as i64 {
        Ok(vec![Ambiguity::Count])
    } else {
        Err(format!("{at}.Count: expected {page_len}, got {count}"))
    }
}

/// DS-1: names, `NumRecords`, `DataStorage` exact; dates numbers.
fn check_dataset(
    at: &str,
    want: &ExpectedDataset,
    got: Option<&Dataset>,
) -> Result<Vec<Ambiguity>, String> {
    let Some(got) = got else {
        return Err(format!("{at}: expected a dataset, got none"));
    };
    if got.identity_id.as_deref() != Some(want.identity_id.as_str()) {
        return Err(format!(
            "{at}.IdentityId: expected {:?}, got {}",
            want.identity_id,
            opt_str(got.identity_id.as_deref())
        ));
    }
    if got.dataset_name.as_deref() != Some(want.dataset_name.as_str()) {
        return Err(format!(
            "{at}.DatasetName: expected {:?}, got {}",
            want.dataset_name,
            opt_str(got.dataset_name.as_deref())
        ));
    }
    if got.num_records != Some(want.num_records) {
        return Err(format!(
            "{at}.NumRecords: expected {}, got {}",
            want.num_records,
            opt(got.num_records)
        ));
    }
    if got.data_storage != Some(want.data_storage) {
        return Err(format!(
            "{at}.DataStorage: expected {}, got {}",
            want.data_storage,
            opt(got.data_storage)
        ));
    }
    for (member, date) in [
        ("CreationDate", got.creation_date),
        ("LastModifiedDate", got.last_modified_date),
    ] {
        if !date.is_some_and(f64::is_finite) {
            return Err(format!(
                "{at}.{member}: expected a number, got {}",
                opt(date)
            ));
        }
    }
    if got.last_modified_by.as_deref() == Some(want.last_modified_by.as_str()) {
        Ok(Vec::new())
    } else {
        Ok(vec![Ambiguity::LastModifiedBy])
    }
}

/// DS-2: the page walk of ListDatasets.
fn check_dataset_pages(
    expected: &[ExpectedDataset],
    page_size_max: usize,
    explicit_page_size: bool,
    pages: &[ListDatasetsResponse],
) -> Result<Vec<Ambiguity>, String> {
    if pages.is_empty() {
        return Err("pages: expected at least one page, got none".to_owned());
    }
    let mut extra = Vec::new();
    let mut all: Vec<&Dataset> = Vec::new();
    for (number, page) in pages.iter().enumerate() {
        let at = format!("page {number}");
        let datasets = page.datasets.as_deref().unwrap_or(&[]);
        if datasets.len() > page_size_max {
            return Err(format!(
                "{at}.Datasets: expected at most {page_size_max} datasets, got {}",
                datasets.len()
            ));
        }
        let last = number + 1 == pages.len();
        check_next_token(&at, page.next_token.as_deref(), last)?;
        extra.extend(check_page_fill(
            &at,
            "datasets",
            datasets.len(),
            page_size_max,
            explicit_page_size,
            last,
        )?);
        extra.extend(check_count(
            &at,
            page.count,
            datasets.len(),
            expected.len(),
        )?);
        all.extend(datasets);
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, got) in all.iter().enumerate() {
        let Some(name) = got.dataset_name.as_deref() else {
            return Err(format!(
                "Datasets[{index}].DatasetName: expected a name, got none"
            ));
        };
        if let Some(first) = seen.insert(name, index) {
            return Err(format!(
                "Datasets[{index}]: {name:?} listed twice (first at [{first}])"
            ));
        }
        let Some(want) = expected.iter().find(|d| d.dataset_name == name) else {
            return Err(format!("Datasets[{index}]: unexpected dataset {name:?}"));
        };
        extra.extend(check_dataset(
            &format!("Datasets[{index}]"),
            want,
            Some(got),
        )?);
    }
    if let Some(missing) = expected
        .iter()
        .find(|d| !seen.contains_key(d.dataset_name.as_str()))
    {
        return Err(format!(
            "Datasets: missing {:?} (expected {} datasets, got {})",
            missing.dataset_name,
            expected.len(),
            all.len()
        ));
    }
    let in_order = expected
        .iter()
        .zip(&all)
        .all(|(want, got)| got.dataset_name.as_deref() == Some(want.dataset_name.as_str()));
    if !in_order {
        extra.push(Ambiguity::Order);
    }
    Ok(extra)
}

/// DS-5: counts consistent with the datasets.
fn check_usage(
    want: &ExpectedUsage,
    got: Option<&IdentityUsage>,
) -> Result<Vec<Ambiguity>, String> {
    let Some(got) = got else {
        return Err("IdentityUsage: expected a usage, got none".to_owned());
    };
    if got.identity_pool_id.as_deref() != Some(want.identity_pool_id.as_str()) {
        return Err(format!(
            "IdentityUsage.IdentityPoolId: expected {:?}, got {}",
            want.identity_pool_id,
            opt_str(got.identity_pool_id.as_deref())
        ));
    }
    if got.identity_id.as_deref() != Some(want.identity_id.as_str()) {
        return Err(format!(
            "IdentityUsage.IdentityId: expected {:?}, got {}",
            want.identity_id,
            opt_str(got.identity_id.as_deref())
        ));
    }
    if got.dataset_count.map(i64::from) != Some(want.dataset_count) {
        return Err(format!(
            "IdentityUsage.DatasetCount: expected {}, got {}",
            want.dataset_count,
            opt(got.dataset_count)
        ));
    }
    if got.data_storage != Some(want.data_storage) {
        return Err(format!(
            "IdentityUsage.DataStorage: expected {}, got {}",
            want.data_storage,
            opt(got.data_storage)
        ));
    }
    if got.last_modified_date.is_some_and(|d| !d.is_finite()) {
        return Err("IdentityUsage.LastModifiedDate: expected a number".to_owned());
    }
    Ok(Vec::new())
}

fn opt<T: fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

fn opt_str(value: Option<&str>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| format!("{v:?}"))
}

fn value_text(value: Option<&str>) -> String {
    match value {
        None => "no Value (tombstone)".to_owned(),
        Some(v) if v.chars().count() > 40 => {
            let head: String = v.chars().take(40).collect();
            format!("{head:?}... ({} chars)", v.chars().count())
        }
        Some(v) => format!("{v:?}"),
    }
}

fn kind_list(kinds: &[ErrorKind]) -> String {
    let names: Vec<String> = kinds
        .iter()
        .map(|k| format!("{} {}", k.status(), k))
        .collect();
    names.join(" or ")
}

fn record_summary(record: &ExpectedRecord) -> String {
    let removed = if record.value.is_none() {
        "(removed)"
    } else {
        ""
    };
    format!("{}@{}{}", record.key, record.sync_count, removed)
}

/// `key@count="value"` (long values cut at 24 characters), or `key@count(removed)`.
fn observed_record_summary(record: &Record) -> String {
    let key = record.key.as_deref().unwrap_or("?");
    let count = opt(record.sync_count);
    match &record.value {
        Some(v) if v.chars().count() > 24 => {
            format!(
                "{key}@{count}={:?}…",
                v.chars().take(24).collect::<String>()
            )
        }
        Some(v) => format!("{key}@{count}={v:?}"),
        None => format!("{key}@{count}(removed)"),
    }
}

/// Lists stay readable in transcripts: long ones are cut after [`LIST_ITEMS_SHOWN`] items.
fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let mut text = items
        .iter()
        .take(LIST_ITEMS_SHOWN)
        .map(f)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LIST_ITEMS_SHOWN {
        text.push_str(&format!(", ... ({} in all)", items.len()));
    }
    text
}

const LIST_ITEMS_SHOWN: usize = 16;

fn dataset_summary(d: &ExpectedDataset) -> String {
    format!(
        "{}(NumRecords={}, DataStorage={})",
        d.dataset_name, d.num_records, d.data_storage
    )
}

/// A one-line account of an answer, for transcripts and mismatches.
pub(crate) fn summary(observed: &Observed) -> String {
    match observed {
        Observed::Error {
            status,
            kind,
            message,
        } => {
            let kind = kind.map_or_else(|| "<no x-amzn-ErrorType>".to_owned(), |k| k.to_string());
            match message {
                Some(message) => format!("{status} {kind}: {message}"),
                None => format!("{status} {kind}"),
            }
        }
        Observed::UpdateRecords(response) => format!(
            "200 Records=[{}]",
            join(
                response.records.as_deref().unwrap_or(&[]),
                observed_record_summary
            )
        ),
        Observed::ListRecords(pages) => {
            let pages = join(pages, |page| {
                format!(
                    "Records=[{}] Count={} DatasetSyncCount={} DatasetExists={} \
                     DatasetDeletedAfterRequestedSyncCount={}{}",
                    join(
                        page.records.as_deref().unwrap_or(&[]),
                        observed_record_summary
                    ),
                    opt(page.count),
                    opt(page.dataset_sync_count),
                    opt(page.dataset_exists),
                    opt(page.dataset_deleted_after_requested_sync_count),
                    if page.next_token.is_some() {
                        " NextToken"
                    } else {
                        ""
                    }
                )
            });
            format!("200 pages=[{pages}]")
        }
        Observed::DescribeDataset(response) => {
            format!(
                "200 Dataset={}",
                observed_dataset(response.dataset.as_ref())
            )
        }
        Observed::DeleteDataset(response) => {
            format!(
                "200 Dataset={}",
                observed_dataset(response.dataset.as_ref())
            )
        }
        Observed::ListDatasets(pages) => {
            let pages = join(pages, |page| {
                format!(
                    "Datasets=[{}] Count={}{}",
                    join(page.datasets.as_deref().unwrap_or(&[]), |d| {
                        observed_dataset(Some(d))
                    }),
                    opt(page.count),
                    if page.next_token.is_some() {
                        " NextToken"
                    } else {
                        ""
                    }
                )
            });
            format!("200 pages=[{pages}]")
        }
        Observed::DescribeIdentityUsage(response) => match &response.identity_usage {
            Some(usage) => format!(
                "200 IdentityUsage(DatasetCount={}, DataStorage={})",
                opt(usage.dataset_count),
                opt(usage.data_storage)
            ),
            None => "200 without IdentityUsage".to_owned(),
        },
    }
}

fn observed_dataset(dataset: Option<&Dataset>) -> String {
    match dataset {
        Some(d) => format!(
            "{}(NumRecords={}, DataStorage={})",
            d.dataset_name.as_deref().unwrap_or("?"),
            opt(d.num_records),
            opt(d.data_storage)
        ),
        None => "none".to_owned(),
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&summary(self))
    }
}

/// E.g. `409 ResourceConflictException` or `200 Records=[a@5, b@5(removed)]`.
impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Error {
                kinds,
                message_contains,
            } => {
                f.write_str(&kind_list(kinds))?;
                if !message_contains.is_empty() {
                    write!(f, " (message containing {message_contains:?})")?;
                }
                Ok(())
            }
            Expected::UpdateRecords { records, .. } => {
                write!(f, "200 Records=[{}]", join(records, record_summary))
            }
            Expected::ListRecords(list) => write!(
                f,
                "200 Records=[{}] DatasetSyncCount={} DatasetExists={} \
                 DatasetDeletedAfterRequestedSyncCount={} (pages of at most {})",
                join(&list.records, record_summary),
                list.dataset_sync_count,
                list.dataset_exists,
                list.deleted_after_requested_sync_count,
                list.page_size_max
            ),
            Expected::DescribeDataset(dataset) | Expected::DeleteDataset(dataset) => {
                write!(f, "200 Dataset={}", dataset_summary(dataset))
            }
            Expected::ListDatasets {
                datasets,
                page_size_max,
                ..
            } => write!(
                f,
                "200 Datasets=[{}] (pages of at most {page_size_max})",
                join(datasets, dataset_summary)
            ),
            Expected::DescribeIdentityUsage(usage) => write!(
                f,
                "200 IdentityUsage(DatasetCount={}, DataStorage={})",
                usage.dataset_count, usage.data_storage
            ),
        }
    }
}

/// The reference outcome, then the other allowed ones with the open points they depart on:
/// `409 ResourceConflictException; also allowed: 400 InvalidParameterException [AMB-X-ERROR-PRECEDENCE]`.
impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_outcomes(
            f,
            self.outcomes
                .iter()
                .map(|o| (&o.expected, o.ambiguities.as_slice())),
        )
    }
}

/// Writes allowed outcomes, reference first, each with the open points it departs on.
pub(crate) fn write_outcomes<'a, E: fmt::Display + 'a>(
    f: &mut fmt::Formatter<'_>,
    outcomes: impl Iterator<Item = (&'a E, &'a [Ambiguity])>,
) -> fmt::Result {
    for (index, (expected, ambiguities)) in outcomes.enumerate() {
        match index {
            0 => write!(f, "{expected}")?,
            1 => write!(f, "; also allowed: {expected}")?,
            _ => write!(f, " | {expected}")?,
        }
        if !ambiguities.is_empty() {
            let ids: Vec<&str> = ambiguities.iter().map(|a| a.id()).collect();
            write!(f, " [{}]", ids.join(", "))?;
        }
    }
    Ok(())
}
