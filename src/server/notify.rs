//! When the operations' effects happen (`docs/events.md`): push messages and stream records
//! after a committed change of a dataset or a bulk publish, and the SyncTrigger call before an
//! UpdateRecords is applied.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::events::{Change, kinesis_record, region, stream_record};
use super::ops::{Mode, Service};
use super::parse::{DatasetRef, ParsedRequest, UpdateRecords};
use super::rejection::Rejection;
use crate::spec::{ErrorKind, Operation, SYNC_TRIGGER_EVENT, validate_record_value};

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
