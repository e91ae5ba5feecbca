//! Effects a stand-in can show locally (spec DEV-3, STREAM-1, EVT-2; `docs/events.md`): the
//! JSON-lines sink of `serve --events PATH`, the webhook client of `serve --sync-trigger URL`,
//! and the documents both carry. When the operations send them: `notify`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::parse::Patch;
use super::rejection::Rejection;
use crate::spec::{ErrorKind, Operation};

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
    pub(super) fn write(&self, events: &[Value]) {
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
        SyncTrigger::with_timeout(url, SYNC_TRIGGER_TIMEOUT)
    }

    /// As [`SyncTrigger::new`] with another bound on each call, for tests.
    pub fn with_timeout(
        url: impl Into<String>,
        timeout: Duration,
    ) -> Result<SyncTrigger, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(SyncTrigger {
            url: url.into(),
            client,
        })
    }

    /// POSTs the EVT-2 document; the function's answer, or the refusal EVT-2 prescribes.
    pub(super) async fn call(&self, payload: &Value) -> Result<Value, Rejection> {
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
pub(super) fn region(pool: &str) -> &str {
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
pub(super) fn stream_record(
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

pub(super) fn kinesis_record(
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
