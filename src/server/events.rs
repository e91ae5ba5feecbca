//! Effects a stand-in can show locally (spec DEV-3, STREAM-1, EVT-2; `docs/events.md`): push
//! messages and Cognito stream records written as JSON lines to `serve --events PATH`, and a
//! pool's SyncTrigger function called as a webhook at `serve --sync-trigger URL`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::ops::{Mode, Service};
use super::parse::{DatasetRef, ParsedRequest, Patch, UpdateRecords};
use super::rejection::Rejection;
use crate::spec::{ErrorKind, Operation, SYNC_TRIGGER_EVENT, validate_record_value};

/// How long the SyncTrigger webhook may take before the write is refused.
pub const SYNC_TRIGGER_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from the SyncTrigger webhook.
const SYNC_TRIGGER_ANSWER_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The `serve --events` file: one JSON object per line, appended and flushed per event.
#[derive(Debug)]
pub struct EventSink {
    path: PathBuf,
    file: Mutex<File>,
}

impl EventSink {
    /// Opens `path` for appending, creating it if missing.
    pub fn open(path: &Path) -> io::Result<EventSink> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(EventSink {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends events, one line each, in one write. A failed write is reported on stderr and
    /// does not fail the request that caused it: the data change is already committed.
    fn write(&self, events: &[Value]) {
        if events.is_empty() {
            return;
        }
        let mut lines = Vec::new();
        for event in events {
            if serde_json::to_writer(&mut lines, event).is_ok() {
                lines.push(b'\n');
            }
        }
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = file.write_all(&lines).and_then(|()| file.flush()) {
            eprintln!(
                "cogsync serve: cannot write events to {}: {e}",
                self.path.display()
            );
        }
    }
}

/// The webhook that stands in for a pool's SyncTrigger Lambda function.
#[derive(Debug, Clone)]
pub struct SyncTrigger {
    url: String,
    client: reqwest::Client,
}

impl SyncTrigger {
    pub fn new(url: impl Into<String>) -> Result<SyncTrigger, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(SYNC_TRIGGER_TIMEOUT)
            .build()?;
        Ok(SyncTrigger {
            url: url.into(),
            client,
        })
    }

    /// POSTs the EVT-2 document; the function's answer, or the refusal EVT-2 prescribes.
    async fn call(&self, payload: &Value) -> Result<Value, Rejection> {
        let failed = |why: String| {
            Rejection::new(
                ErrorKind::InvalidLambdaFunctionOutput,
                format!("The SyncTrigger function failed: {why}"),
            )
        };
        let response = self
            .client
            .post(&self.url)
            .json(payload)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        if status.as_u16() == 429 {
            return Err(Rejection::new(
                ErrorKind::LambdaThrottled,
                "The SyncTrigger function was throttled",
            ));
        }
        if !status.is_success() {
            return Err(failed(format!("it answered HTTP {status}")));
        }
        if response
            .content_length()
            .is_some_and(|n| n > SYNC_TRIGGER_ANSWER_BYTES_MAX as u64)
        {
            return Err(failed("its answer is too large".to_owned()));
        }
        let body = response.bytes().await.map_err(|e| failed(e.to_string()))?;
        if body.len() > SYNC_TRIGGER_ANSWER_BYTES_MAX {
            return Err(failed("its answer is too large".to_owned()));
        }
        serde_json::from_slice(&body).map_err(|e| failed(format!("its answer is not JSON: {e}")))
    }
}

/// What happened to a dataset, for its subscribers and the pool's stream.
pub(super) enum Change<'a> {
    Updated {
        patches: &'a [Patch],
        writer: &'a str,
        now_ms: i64,
    },
    Deleted,
}

/// The region of a pool: the part of its id before `:`.
fn region(pool: &str) -> &str {
    pool.split_once(':').map_or(pool, |(region, _)| region)
}

fn op_name(value: Option<&str>) -> &'static str {
    if value.is_some() {
        Operation::Replace.as_str()
    } else {
        Operation::Remove.as_str()
    }
}

/// A STREAM-1 record; `lastModifiedDate` and the records' dates are epoch milliseconds.
fn stream_record(
    d: [&str; 3],
    operation: &str,
    records: Vec<Value>,
    sync_count: i64,
    last_modified_ms: i64,
) -> Value {
    json!({
        "identityPoolId": d[0],
        "identityId": d[1],
        "dataSetName": d[2],
        "operation": operation,
        "kinesisSyncRecords": records,
        "lastModifiedDate": last_modified_ms,
        "syncCount": sync_count,
        "payloadType": "Inline",
    })
}

fn kinesis_record(
    key: &str,
    value: Option<&str>,
    sync_count: i64,
    last_modified_ms: i64,
    device_last_modified_secs: f64,
    writer: &str,
) -> Value {
    json!({
        "key": key,
        "value": value,
        "syncCount": sync_count,
        "lastModifiedDate": last_modified_ms,
        "deviceLastModifiedDate": (device_last_modified_secs * 1000.0).round() as i64,
        "lastModifiedBy": writer,
        "op": op_name(value),
    })
}

impl Service {
    /// DEV-3 and STREAM-1 for one committed change of a dataset: a push event per subscribed
    /// device and, with an enabled stream, a stream record. Only with `serve --events`.
    pub(super) fn dataset_changed(&self, d: &DatasetRef, sync_count: i64, change: Change<'_>) {
        let Some(sink) = self.events() else {
            return;
        };
        let ids = [d.pool.as_str(), d.identity.as_str(), d.dataset.as_str()];
        let mut events = Vec::new();
        match self.store().subscribers(ids[0], ids[1], ids[2]) {
            Ok(devices) => {
                for device in devices {
                    events.push(json!({
                        "event": "push",
                        "deviceId": device.device_id,
                        "platform": device.platform,
                        "token": device.token,
                        "message": {
                            "source": "cognito-sync",
                            "identityPoolId": ids[0],
                            "identityId": ids[1],
                            "datasetName": ids[2],
                            "syncCount": sync_count,
                        },
                    }));
                }
            }
            Err(e) => eprintln!("cogsync serve: cannot read subscribers: {e}"),
        }
        let stream = match self.store().pool_config(ids[0]) {
            Ok(config) => config.cognito_streams.filter(|s| {
                s.streaming_status.as_deref() == Some("ENABLED") && s.stream_name.is_some()
            }),
            Err(e) => {
                eprintln!("cogsync serve: cannot read the stream configuration: {e}");
                None
            }
        };
        if let Some(stream_name) = stream.and_then(|s| s.stream_name) {
            let record = match change {
                Change::Updated {
                    patches,
                    writer,
                    now_ms,
                } => {
                    let records = patches
                        .iter()
                        .map(|p| {
                            kinesis_record(
                                p.key.as_str(),
                                p.value.as_deref(),
                                sync_count,
                                now_ms,
                                p.device_last_modified_date
                                    .unwrap_or(now_ms as f64 / 1000.0),
                                writer,
                            )
                        })
                        .collect();
                    stream_record(ids, "replace", records, sync_count, now_ms)
                }
                Change::Deleted => {
                    stream_record(ids, "remove", Vec::new(), sync_count, self.clock().now_ms())
                }
            };
            events.push(json!({"event": "stream", "streamName": stream_name, "record": record}));
        }
        sink.write(&events);
    }

    /// BULK-1: one stream record per live dataset of the pool, every record included.
    pub(super) fn publish_pool(&self, pool: &str, stream_name: &str) -> Result<(), Rejection> {
        let Some(sink) = self.events() else {
            return Ok(());
        };
        let events: Vec<Value> = self
            .store()
            .pool_datasets(pool)?
            .into_iter()
            .map(|d| {
                let records = d
                    .records
                    .iter()
                    .map(|r| {
                        kinesis_record(
                            &r.key,
                            r.value.as_deref(),
                            r.sync_count,
                            r.last_modified_ms,
                            r.device_last_modified,
                            &r.last_modified_by,
                        )
                    })
                    .collect();
                let record = stream_record(
                    [pool, &d.identity, &d.name],
                    "replace",
                    records,
                    d.sync_count,
                    d.last_modified_ms,
                );
                json!({"event": "stream", "streamName": stream_name, "bulkPublish": true, "record": record})
            })
            .collect();
        sink.write(&events);
        Ok(())
    }

    /// Runs one parsed request, calling the pool's SyncTrigger function first for an
    /// UpdateRecords that passes every check (EVT-2), when `serve --sync-trigger` is set.
    pub async fn execute_with_trigger(&self, request: ParsedRequest) -> Result<Vec<u8>, Rejection> {
        let ParsedRequest::UpdateRecords(update) = request else {
            return self.execute(request);
        };
        let Some(trigger) = self.sync_trigger() else {
            return self.update_records(update, Mode::Write);
        };
        if update.patches.is_empty()
            || self
                .store()
                .sync_trigger(update.dataset.pool.as_str())?
                .is_none()
        {
            return self.update_records(update, Mode::Write);
        }
        self.update_records(update.clone(), Mode::CheckOnly)?;
        let payload = self.trigger_payload(&update)?;
        let answer = trigger.call(&payload).await?;
        let update = apply_function_answer(update, &payload, &answer)?;
        self.update_records(update, Mode::Write)
    }

    /// EVT-2's document for an UpdateRecords: each patched key's stored and new value.
    fn trigger_payload(&self, update: &UpdateRecords) -> Result<Value, Rejection> {
        let d = &update.dataset;
        let keys: Vec<&str> = update.patches.iter().map(|p| p.key.as_str()).collect();
        let old = self.store().record_values(d, &keys)?;
        let mut records = Map::new();
        for patch in &update.patches {
            let old_value = old.get(patch.key.as_str()).cloned().flatten();
            records.insert(
                patch.key.as_str().to_owned(),
                json!({
                    "oldValue": old_value,
                    "newValue": patch.value,
                    "op": patch.op.as_str(),
                }),
            );
        }
        Ok(json!({
            "version": 2,
            "eventType": SYNC_TRIGGER_EVENT,
            "region": region(d.pool.as_str()),
            "identityPoolId": d.pool.as_str(),
            "identityId": d.identity.as_str(),
            "datasetName": d.dataset.as_str(),
            "datasetRecords": records,
        }))
    }
}

/// Applies what the SyncTrigger function returned: the same document, each key's `op` and
/// `newValue` possibly changed. A key the function left out is not written; anything not of
/// the document's form refuses the whole write (EVT-2).
fn apply_function_answer(
    mut update: UpdateRecords,
    sent: &Value,
    answer: &Value,
) -> Result<UpdateRecords, Rejection> {
    let malformed = |why: &str| {
        Rejection::new(
            ErrorKind::InvalidLambdaFunctionOutput,
            format!("The SyncTrigger function returned a malformed document: {why}"),
        )
    };
    let answer = answer
        .as_object()
        .ok_or_else(|| malformed("not a JSON object"))?;
    for member in ["identityPoolId", "identityId", "datasetName"] {
        if answer.get(member) != sent.get(member) {
            return Err(malformed(&format!("{member} differs from the one sent")));
        }
    }
    let records = answer
        .get("datasetRecords")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("datasetRecords is not an object"))?;
    let mut returned: HashMap<&str, (Operation, Option<String>)> = HashMap::new();
    for (key, record) in records {
        if !update.patches.iter().any(|p| p.key.as_str() == key) {
            return Err(malformed(&format!("key {key:?} was not sent")));
        }
        let op = record
            .get("op")
            .and_then(Value::as_str)
            .and_then(|op| Operation::try_from(op).ok())
            .ok_or_else(|| malformed(&format!("key {key:?} has no valid op")))?;
        let value = match (op, record.get("newValue")) {
            (Operation::Replace, Some(Value::String(value))) => {
                validate_record_value(value)
                    .map_err(|_| malformed(&format!("key {key:?} has a value that is too long")))?;
                Some(value.clone())
            }
            (Operation::Replace, _) => {
                return Err(malformed(&format!(
                    "key {key:?} is replaced without a newValue"
                )));
            }
            (Operation::Remove, None | Some(Value::Null | Value::String(_))) => None,
            (Operation::Remove, Some(_)) => {
                return Err(malformed(&format!(
                    "key {key:?} has a newValue that is not a string"
                )));
            }
        };
        returned.insert(key, (op, value));
    }
    update.patches = std::mem::take(&mut update.patches)
        .into_iter()
        .filter_map(|mut patch| {
            let (op, value) = returned.remove(patch.key.as_str())?;
            patch.op = op;
            patch.value = value;
            Some(patch)
        })
        .collect();
    Ok(update)
}
