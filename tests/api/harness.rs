//! Spawns a reference server on a loopback port and talks to it over real HTTP: one call per
//! operation, a raw `send`, a raw TCP exchange, and the helpers a sync client would use
//! (take a token from ListRecords, then UpdateRecords).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cogsync::server::{self, RunningServer, ServerConfig};
use cogsync::spec::{self, ErrorKind};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The pool every test uses unless it checks pools themselves.
pub const POOL: &str = "us-east-1:00000000-0000-0000-0000-0000000000f0";

/// A fixed device date the tests send, so echoes can be compared exactly.
pub const DEVICE_DATE: f64 = 1_700_000_000.0;

/// Everything but the RFC 3986 unreserved characters is percent-encoded (`:` becomes `%3A`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Unique per call within this test binary; lower-case hex so it matches the IdentityId pattern.
pub fn fresh_identity() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = u64::from(std::process::id()) & 0xffff_ffff;
    format!("us-east-1:{pid:08x}-{:04x}-4000-8000-{n:012x}", n >> 48)
}

/// The address of one dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ds {
    pub pool: String,
    pub identity: String,
    pub name: String,
}

impl Ds {
    pub fn new(pool: &str, identity: &str, name: &str) -> Ds {
        Ds {
            pool: pool.to_owned(),
            identity: identity.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A dataset of a fresh identity in [`POOL`].
    pub fn fresh(name: &str) -> Ds {
        Ds::new(POOL, &fresh_identity(), name)
    }

    /// Another dataset of the same identity.
    pub fn sibling(&self, name: &str) -> Ds {
        Ds::new(&self.pool, &self.identity, name)
    }

    pub fn identity_path(&self) -> String {
        identity_path(&self.pool, &self.identity)
    }

    pub fn path(&self) -> String {
        format!("{}/datasets/{}", self.identity_path(), encode(&self.name))
    }

    pub fn records_path(&self) -> String {
        format!("{}/records", self.path())
    }
}

pub fn identity_path(pool: &str, identity: &str) -> String {
    format!(
        "/identitypools/{}/identities/{}",
        encode(pool),
        encode(identity)
    )
}

pub fn replace(key: &str, value: &str, sync_count: i64) -> Value {
    json!({"Op": "replace", "Key": key, "Value": value, "SyncCount": sync_count})
}

pub fn remove(key: &str, sync_count: i64) -> Value {
    json!({"Op": "remove", "Key": key, "SyncCount": sync_count})
}

/// One HTTP answer, kept whole so tests can look at the raw bytes as well as the JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body_text: String,
    pub json: Option<Value>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_type(&self) -> Option<&str> {
        self.header(spec::ERROR_TYPE_HEADER)
    }

    pub fn message(&self) -> &str {
        self.json
            .as_ref()
            .and_then(|j| j["message"].as_str())
            .unwrap_or_else(|| panic!("error body has a string message: {}", self.body_text))
    }

    /// The JSON body of a 200 answer.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {} {}",
            self.status, self.body_text
        );
        self.json.expect("a 200 answer has a JSON body")
    }

    /// Status, `x-amzn-ErrorType` and `__type` all name `kind` (ERR-1, ERR-2).
    #[track_caller]
    pub fn assert_error(&self, kind: ErrorKind) {
        assert_eq!(
            (self.status, self.error_type()),
            (kind.status(), Some(kind.type_name())),
            "expected {kind}, got {} {}",
            self.status,
            self.body_text
        );
        let json = self.json.as_ref().expect("an error body is JSON");
        assert!(
            json["message"].is_string(),
            "error body has a message: {}",
            self.body_text
        );
        if let Some(type_name) = json.get("__type") {
            assert_eq!(
                type_name.as_str().and_then(ErrorKind::from_type_name),
                Some(kind),
                "__type names the same shape as the header"
            );
        }
    }

    #[track_caller]
    pub fn assert_error_message(&self, kind: ErrorKind, message: &str) {
        self.assert_error(kind);
        assert_eq!(self.message(), message);
    }

    /// A 400 whose shape is one the spec allows for a model-constraint violation.
    #[track_caller]
    pub fn assert_validation_error(&self) {
        self.assert_error(ErrorKind::Validation);
    }
}

/// A reference server of its own and an HTTP client pointed at it.
pub struct Endpoint {
    server: RunningServer,
    http: reqwest::Client,
    base: String,
}

impl Endpoint {
    /// An in-memory server on a fresh loopback port.
    pub async fn start() -> Endpoint {
        Endpoint::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> Endpoint {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
        let server = server::spawn(addr, config)
            .await
            .expect("the reference server starts");
        let base = server.url().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client builds");
        Endpoint { server, http, base }
    }

    pub async fn stop(self) {
        self.server
            .shutdown()
            .await
            .expect("the server shuts down cleanly");
    }

    fn socket_addr(&self) -> SocketAddr {
        let host_port = self
            .base
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("url has a host");
        host_port.parse().expect("url is http://ip:port")
    }

    /// Any request: `path` goes on the wire as given, `query` values are percent-encoded.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut url = format!("{}{path}", self.base);
        for (i, (name, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.push_str(&encode(value));
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = self.http.request(method, &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url} answers: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the body arrives whole");
        let body_text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).ok();
        Reply {
            status,
            headers,
            body_text,
            json,
        }
    }

    /// Writes bytes on a fresh connection and reads until the server closes it.
    pub async fn raw_tcp(&self, bytes: &[u8]) -> String {
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(self.socket_addr())
                .await
                .expect("connects");
            stream.write_all(bytes).await.expect("request is written");
            let mut answer = Vec::new();
            // The server may close after answering; a reset after the answer is fine.
            let _ = stream.read_to_end(&mut answer).await;
            answer
        };
        // Only a guard against hanging forever, not a timing assertion.
        let answer = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .expect("the server answers raw requests");
        String::from_utf8_lossy(&answer).into_owned()
    }

    async fn send_json(&self, method: &str, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).expect("serializes");
        self.send(
            method,
            path,
            &[],
            &[("content-type", spec::CONTENT_TYPE_JSON)],
            bytes,
        )
        .await
    }

    pub async fn update(&self, ds: &Ds, body: &Value) -> Reply {
        self.send_json("POST", &ds.path(), body).await
    }

    pub async fn list_records(&self, ds: &Ds, query: &[(&str, &str)]) -> Reply {
        self.send("GET", &ds.records_path(), query, &[], Vec::new())
            .await
    }

    pub async fn describe_dataset(&self, ds: &Ds) -> Reply {
        self.send("GET", &ds.path(), &[], &[], Vec::new()).await
    }

    pub async fn delete_dataset(&self, ds: &Ds) -> Reply {
        self.send("DELETE", &ds.path(), &[], &[], Vec::new()).await
    }

    pub async fn list_datasets(&self, pool: &str, identity: &str, query: &[(&str, &str)]) -> Reply {
        let path = format!("{}/datasets", identity_path(pool, identity));
        self.send("GET", &path, query, &[], Vec::new()).await
    }

    pub async fn describe_identity_usage(&self, pool: &str, identity: &str) -> Reply {
        self.send("GET", &identity_path(pool, identity), &[], &[], Vec::new())
            .await
    }

    /// A fresh SyncSessionToken from ListRecords, as a sync client gets one.
    pub async fn token(&self, ds: &Ds) -> String {
        let list = self.list_records(ds, &[]).await.ok();
        list["SyncSessionToken"]
            .as_str()
            .expect("ListRecords gives a SyncSessionToken")
            .to_owned()
    }

    /// ListRecords for a token, then UpdateRecords with `patches`.
    pub async fn list_then_update(&self, ds: &Ds, patches: Value) -> Reply {
        let token = self.token(ds).await;
        self.update(
            ds,
            &json!({"RecordPatches": patches, "SyncSessionToken": token}),
        )
        .await
    }

    /// A write that must succeed; returns the `Records` of the answer.
    pub async fn write(&self, ds: &Ds, patches: Value) -> Vec<Value> {
        let reply = self.list_then_update(ds, patches).await.ok();
        reply["Records"]
            .as_array()
            .expect("UpdateRecords answers Records")
            .clone()
    }

    /// Every record after `last_sync_count`, following NextToken (bounded).
    pub async fn all_records(&self, ds: &Ds, last_sync_count: i64) -> Vec<Value> {
        let mut records = Vec::new();
        let mut next: Option<String> = None;
        let last = last_sync_count.to_string();
        for _ in 0..100 {
            let mut query = vec![("lastSyncCount", last.as_str())];
            if let Some(token) = next.as_deref() {
                query.push(("nextToken", token));
            }
            let page = self.list_records(ds, &query).await.ok();
            records.extend(
                page["Records"]
                    .as_array()
                    .expect("Records is an array")
                    .iter()
                    .cloned(),
            );
            match page["NextToken"].as_str() {
                Some(token) => next = Some(token.to_owned()),
                None => return records,
            }
        }
        panic!("ListRecords paging did not end within 100 pages");
    }

    /// The dataset's observable state: records (tombstones too), counters, metadata, and the
    /// identity's dataset list and usage. Equal before and after a rejected request (UR-3).
    pub async fn state(&self, ds: &Ds) -> Value {
        let list = self.list_records(ds, &[]).await.ok();
        let describe = self.describe_dataset(ds).await;
        let datasets = self.list_datasets(&ds.pool, &ds.identity, &[]).await.ok();
        let usage = self.describe_identity_usage(&ds.pool, &ds.identity).await;
        json!({
            "records": self.all_records(ds, 0).await,
            "DatasetSyncCount": list["DatasetSyncCount"],
            "DatasetExists": list["DatasetExists"],
            "describe": [describe.status, describe.json],
            "datasets": datasets["Datasets"],
            "usage": [usage.status, usage.json],
        })
    }

    pub async fn assert_unchanged(&self, ds: &Ds, before: &Value) {
        let after = self.state(ds).await;
        assert_eq!(&after, before, "a rejected request changed nothing");
    }

    /// `DatasetSyncCount` from a ListRecords.
    pub async fn dataset_sync_count(&self, ds: &Ds) -> i64 {
        self.list_records(ds, &[]).await.ok()["DatasetSyncCount"]
            .as_i64()
            .expect("DatasetSyncCount is an integer")
    }
}

/// `(Key, SyncCount, Value)` of each record, in order; a tombstone has `None`.
pub fn summary(records: &[Value]) -> Vec<(String, i64, Option<String>)> {
    records
        .iter()
        .map(|r| {
            (
                r["Key"].as_str().expect("Key is a string").to_owned(),
                r["SyncCount"].as_i64().expect("SyncCount is an integer"),
                r.get("Value")
                    .map(|v| v.as_str().expect("Value is a string").to_owned()),
            )
        })
        .collect()
}

/// Shorthand for an expected [`summary`] row.
pub fn row(key: &str, sync_count: i64, value: Option<&str>) -> (String, i64, Option<String>) {
    (key.to_owned(), sync_count, value.map(str::to_owned))
}
