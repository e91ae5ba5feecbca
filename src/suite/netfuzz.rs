//! Network fuzzing of any endpoint: valid traffic, judged by the model through a [`Session`],
//! interleaved with malformed requests that every conforming server must refuse cleanly.
//!
//! Oracles for a malformed request (SPEC ERR-1..3): the answer is a 4xx whose
//! `x-amzn-ErrorType` names a known shape with that very status and whose body is a JSON object
//! with a string `message` — never a 2xx, a 5xx, a reset or a hang past the timeout — and a
//! rejected request changes nothing: a ListRecords of the dataset it aimed at still matches the
//! model. Every malformed request is built to break at least one SPEC rule; where a mutation
//! alone might be acceptable to some server (extra members, duplicate members, odd content
//! types, deep nesting in an unknown member), it also carries a garbage session token (UR-8).
//!
//! Everything is decided by a seeded RNG, so a run is repeatable from its seed. Findings are
//! shrunk (JSON members dropped, strings shortened, headers and parameters dropped while the
//! same failure persists) and carried in the report with a curl reproduction.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::session::{
    Clock, Namer, Session, StepVerdict, Stop, TokenChoice, dataset_of, remove, replace,
};
use crate::client::{Endpoint, RawRequest, RawResponse, Trouble, to_raw};
use crate::model::Call;
use crate::report::transcript;
use crate::spec::{
    CONTENT_TYPE_AMZ_JSON, DatasetPath, DescribeDatasetRequest, DescribeIdentityUsageRequest,
    ERROR_TYPE_HEADER, ErrorKind, IdentityPath, ListDatasetsRequest, ListRecordsRequest,
    RecordPatch, Request, UpdateRecordsBody, UpdateRecordsRequest,
};

/// A session (model, transcript, identities) lives this many iterations, then a fresh one
/// takes over: memory stays bounded and a finding never poisons later judgements.
const EPOCH_ITERATIONS: u64 = 150;
/// Distinct findings kept; later ones only count as occurrences of these.
const FINDINGS_MAX: usize = 20;
/// Requests one shrink may send.
const SHRINK_BUDGET: usize = 200;
/// A token this endpoint never issued.
const GARBAGE_TOKEN: &str = "bmV0ZnV6ei1nYXJiYWdlLXRva2Vu";

const DATASET_NAMES: [&str; 3] = ["settings", "game:state", "a.b-c_d"];
const KEYS: [&str; 9] = [
    "a",
    "b",
    "highScore",
    "key with spaces",
    "naïve",
    "ключ",
    "🔑",
    "日本語",
    "x.y",
];

/// How one run goes.
#[derive(Debug, Clone)]
pub struct NetFuzzOptions {
    pub seed: u64,
    /// Stop generating after this long.
    pub duration: Duration,
    /// Stop after this many iterations, whichever comes first (for bounded tests).
    pub iterations_max: Option<u64>,
    /// Names the identities of the run (`us-east-1:<run_id>-…`).
    pub run_id: u32,
}

/// One request as saved: text when the body is UTF-8, base64 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl SavedRequest {
    pub fn from_raw(raw: &RawRequest) -> SavedRequest {
        let (body, body_base64) = match std::str::from_utf8(&raw.body) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&raw.body)),
            ),
        };
        SavedRequest {
            method: raw.method.clone(),
            path_and_query: raw.path_and_query.clone(),
            headers: raw.headers.clone(),
            body,
            body_base64,
        }
    }

    pub fn to_raw(&self) -> RawRequest {
        let body = match (&self.body, &self.body_base64) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        RawRequest {
            method: self.method.clone(),
            path_and_query: self.path_and_query.clone(),
            headers: self.headers.clone(),
            body,
        }
    }
}

/// One thing the endpoint got wrong, with the (shrunk) request that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The broken oracle, e.g. `5xx answer to bad input (ERR-3)`.
    pub oracle: String,
    /// What was sent: a mutation name (`wrong-type:SyncCount`) or `valid:<Operation>`.
    pub mutation: String,
    /// The first difference or the answer that broke the oracle.
    pub detail: String,
    pub request: SavedRequest,
    /// Body bytes before and after shrinking.
    pub body_bytes_original: usize,
    pub body_bytes_shrunk: usize,
    /// The answer to the shrunk request, as status line, headers and body.
    pub answer: String,
    /// For findings in valid traffic: the transcript of the session up to the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// How often the same oracle broke for the same mutation during the run.
    pub occurrences: u64,
}

impl Finding {
    /// A shell script of the curl command that sends the shrunk request to `base_url`.
    pub fn curl(&self, base_url: &str) -> String {
        curl_command(base_url, &self.request.to_raw())
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetFuzzReport {
    pub seed: u64,
    pub endpoint: String,
    pub iterations: u64,
    /// HTTP requests sent, shrinking included.
    pub requests: u64,
    pub malformed: u64,
    pub valid_calls: u64,
    /// Malformed requests that could not be expressed as a URL and were not sent.
    pub skipped: u64,
    pub elapsed_ms: f64,
    pub findings: Vec<Finding>,
}

impl NetFuzzReport {
    pub fn requests_per_sec(&self) -> f64 {
        if self.elapsed_ms <= 0.0 {
            return 0.0;
        }
        self.requests as f64 * 1000.0 / self.elapsed_ms
    }

    /// The closing line: every malformed request and valid call is one check.
    pub fn summary_line(&self) -> String {
        let failed: u64 = self.findings.iter().map(|f| f.occurrences).sum();
        let checks = self.malformed + self.valid_calls;
        format!(
            "{} passed, {} failed",
            checks.saturating_sub(failed),
            failed
        )
    }
}

/// Progress, for a caller that prints.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub iterations: u64,
    pub requests: u64,
    pub findings: usize,
    pub elapsed: Duration,
}

/// Why a run could not go on (not a finding).
#[derive(Debug, thiserror::Error)]
pub enum NetFuzzError {
    #[error("the fuzzer is inconsistent: {0}")]
    Harness(String),
}

/// A request built to be refused, and the dataset it aims at (checked afterwards).
struct Malformed {
    label: String,
    request: RawRequest,
    dataset: Option<DatasetPath>,
}

/// How an answer to a malformed request broke the oracles (its class is the shrink target).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Broken {
    oracle: &'static str,
    detail: String,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// ERR-1..3 for an answer to bad input; `None` when the answer is a proper refusal.
fn judge_refusal(result: &Result<RawResponse, Trouble>) -> Option<Broken> {
    let response = match result {
        Err(Trouble::Timeout { ms }) => {
            return Some(Broken {
                oracle: "no answer before the timeout (ERR-3)",
                detail: format!("no complete answer within {ms} ms"),
            });
        }
        Err(trouble) => {
            return Some(Broken {
                oracle: "connection failed without an answer (ERR-3)",
                detail: trouble.to_string(),
            });
        }
        Ok(r) => r,
    };
    let status = response.status;
    let body_start: String = String::from_utf8_lossy(&response.body)
        .chars()
        .take(200)
        .collect();
    if (200..300).contains(&status) {
        return Some(Broken {
            oracle: "bad input accepted (VAL-1)",
            detail: format!("{status} {body_start}"),
        });
    }
    if status >= 500 {
        return Some(Broken {
            oracle: "5xx answer to bad input (ERR-3)",
            detail: format!("{status} {body_start}"),
        });
    }
    if !(400..500).contains(&status) {
        return Some(Broken {
            oracle: "answer to bad input is not a 4xx (ERR-3)",
            detail: format!("{status} {body_start}"),
        });
    }
    let type_header = header(&response.headers, ERROR_TYPE_HEADER);
    let Some(kind) = type_header.and_then(ErrorKind::from_type_name) else {
        return Some(Broken {
            oracle: "error without a known x-amzn-ErrorType (ERR-1)",
            detail: format!("{status} x-amzn-ErrorType: {type_header:?}"),
        });
    };
    if kind.status() != status {
        return Some(Broken {
            oracle: "error status differs from its shape's (ERR-2)",
            detail: format!(
                "{status} with {}, whose status is {}",
                kind.type_name(),
                kind.status()
            ),
        });
    }
    let message = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.get("message").map(Value::is_string));
    if message != Some(true) {
        return Some(Broken {
            oracle: "error body without a JSON message (ERR-1)",
            detail: format!("{status} {} {body_start}", kind.type_name()),
        });
    }
    None
}

/// Whether an oracle's failure can be re-checked by sending the request alone.
fn shrinkable(oracle: &str) -> bool {
    oracle != "bad input accepted (VAL-1)" && oracle != "rejected request changed state (UR-3)"
}

fn describe_answer(result: &Result<RawResponse, Trouble>) -> String {
    match result {
        Err(trouble) => format!("(no answer: {trouble})"),
        Ok(r) => {
            let mut out = format!("HTTP {}\n", r.status);
            for (name, value) in &r.headers {
                let _ = writeln!(out, "{name}: {value}");
            }
            out.push('\n');
            out.push_str(
                &String::from_utf8_lossy(&r.body)
                    .chars()
                    .take(2000)
                    .collect::<String>(),
            );
            out
        }
    }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A curl command sending `request` byte for byte (paths as is, no globbing).
pub fn curl_command(base_url: &str, request: &RawRequest) -> String {
    let url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        request.path_and_query
    );
    let mut cmd = format!(
        "curl -sS -i -g --path-as-is -X {} {}",
        shell_quote(&request.method),
        shell_quote(&url)
    );
    let has_content_type = header(&request.headers, "content-type").is_some();
    for (name, value) in &request.headers {
        let _ = write!(
            cmd,
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        );
    }
    if request.body.is_empty() {
        return format!("#!/bin/sh\n{cmd}\n");
    }
    if !has_content_type {
        // Otherwise curl adds a form content type of its own.
        cmd.push_str(" \\\n  -H 'Content-Type:'");
    }
    match std::str::from_utf8(&request.body) {
        Ok(text) if !text.contains('\0') => {
            let _ = write!(cmd, " \\\n  --data-binary {}", shell_quote(text));
            format!("#!/bin/sh\n{cmd}\n")
        }
        _ => {
            let mut escaped = String::new();
            for &b in &request.body {
                match b {
                    b'%' => escaped.push_str("%%"),
                    b'\\' => escaped.push_str("\\\\"),
                    b'\'' => escaped.push_str("\\047"),
                    0x20..=0x7e => escaped.push(char::from(b)),
                    _ => {
                        let _ = write!(escaped, "\\{b:03o}");
                    }
                }
            }
            format!("#!/bin/sh\nprintf '{escaped}' | {cmd} \\\n  --data-binary @-\n")
        }
    }
}

/// Whether `path_and_query` reaches the endpoint byte for byte (no URL normalisation).
fn sendable(endpoint: &Endpoint, path_and_query: &str) -> bool {
    let url = format!("{}{}", endpoint.base_url(), path_and_query);
    let Ok(parsed) = reqwest::Url::parse(&url) else {
        return false;
    };
    let mut sent = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        sent.push('?');
        sent.push_str(q);
    }
    sent == path_and_query
}

/// Shorter variants of a JSON value: members and elements dropped first, then strings cut.
fn json_variants(value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            for key in map.keys() {
                let mut smaller = map.clone();
                smaller.remove(key);
                out.push(Value::Object(smaller));
            }
            for (key, child) in map {
                for variant in json_variants(child) {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), variant);
                    out.push(Value::Object(changed));
                }
            }
        }
        Value::Array(items) => {
            for i in 0..items.len() {
                let mut smaller = items.clone();
                smaller.remove(i);
                out.push(Value::Array(smaller));
            }
            for (i, child) in items.iter().enumerate() {
                for variant in json_variants(child) {
                    let mut changed = items.clone();
                    changed[i] = variant;
                    out.push(Value::Array(changed));
                }
            }
        }
        Value::String(s) => {
            let n = s.chars().count();
            if n > 1 {
                out.push(Value::String(s.chars().take(n / 2).collect()));
                out.push(Value::String(s.chars().skip(n / 2).collect()));
            }
            if n > 0 {
                out.push(Value::String(String::new()));
            }
        }
        _ => {}
    }
    out
}

/// Smaller requests to try, biggest cuts first.
fn shrink_candidates(request: &RawRequest) -> Vec<RawRequest> {
    let mut out = Vec::new();
    let with_body = |body: Vec<u8>| RawRequest {
        body,
        ..request.clone()
    };
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(value) => {
            for variant in json_variants(&value) {
                out.push(with_body(serde_json::to_vec(&variant).unwrap_or_default()));
            }
        }
        Err(_) if !request.body.is_empty() => {
            let half = request.body.len() / 2;
            out.push(with_body(Vec::new()));
            out.push(with_body(request.body[..half].to_vec()));
            out.push(with_body(request.body[half..].to_vec()));
        }
        Err(_) => {}
    }
    for i in 0..request.headers.len() {
        let mut headers = request.headers.clone();
        headers.remove(i);
        out.push(RawRequest {
            headers,
            ..request.clone()
        });
    }
    if let Some((path, query)) = request.path_and_query.split_once('?') {
        let params: Vec<&str> = query.split('&').collect();
        for i in 0..params.len() {
            let rest: Vec<&str> = params
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| *p)
                .collect();
            let path_and_query = if rest.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", rest.join("&"))
            };
            out.push(RawRequest {
                path_and_query,
                ..request.clone()
            });
        }
    }
    out
}

/// The fuzzer's state across iterations.
struct Fuzzer<'a> {
    endpoint: &'a Endpoint,
    clock: Clock,
    rng: StdRng,
    run_id: u32,
    epoch: u32,
    session: Session,
    identities: Vec<IdentityPath>,
    steps_counted: usize,
    report: NetFuzzReport,
    /// (oracle, mutation) → index in `report.findings`.
    seen: BTreeMap<(String, String), usize>,
}

fn new_session(endpoint: &Endpoint, clock: &Clock, run_id: u32, epoch: u32) -> Session {
    Session::new(endpoint.clone(), clock.clone(), Namer::new(run_id, epoch))
}

impl<'a> Fuzzer<'a> {
    fn datasets(&self) -> Vec<DatasetPath> {
        self.identities
            .iter()
            .flat_map(|i| DATASET_NAMES.iter().map(|n| dataset_of(i, n)))
            .collect()
    }

    fn pick_dataset(&mut self) -> DatasetPath {
        let datasets = self.datasets();
        datasets[self.rng.random_range(0..datasets.len())].clone()
    }

    fn pick_identity(&mut self) -> IdentityPath {
        self.identities[self.rng.random_range(0..self.identities.len())].clone()
    }

    /// Counts the HTTP exchanges of session steps recorded since the last call.
    fn count_session_requests(&mut self) {
        let steps = self.session.steps();
        let new: usize = steps[self.steps_counted.min(steps.len())..]
            .iter()
            .map(|s| s.exchanges.len())
            .sum();
        self.report.requests += new as u64;
        self.steps_counted = steps.len();
    }

    /// A fresh session with fresh identities; the old one's data is deleted unjudged.
    async fn next_epoch(&mut self) {
        self.count_session_requests();
        self.epoch += 1;
        let mut session = new_session(self.endpoint, &self.clock, self.run_id, self.epoch);
        self.identities = vec![session.identity(), session.identity()];
        std::mem::swap(&mut self.session, &mut session);
        session.clean_up().await;
        self.steps_counted = 0;
    }

    fn value(&mut self) -> String {
        match self.rng.random_range(0..6) {
            0 => String::new(),
            1 => "v".to_owned(),
            2 => self.rng.random_range(0..100_000).to_string(),
            3 => "ünïcödé 😀".to_owned(),
            4 => "x".repeat(self.rng.random_range(100..3000)),
            _ => format!("{{\"level\":{}}}", self.rng.random_range(0..50)),
        }
    }

    fn key(&mut self) -> String {
        (*KEYS.choose(&mut self.rng).unwrap_or(&"a")).to_owned()
    }

    /// Patches at the model's current counts (sometimes stale, to provoke a 409).
    fn patches(&mut self, path: &DatasetPath) -> Vec<RecordPatch> {
        let n = self.rng.random_range(1..=3);
        let mut keys: Vec<String> = (0..n).map(|_| self.key()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|key| {
                let mut count = self.session.count_of(path, &key);
                if self.rng.random_bool(0.1) {
                    count += if count > 0 && self.rng.random_bool(0.5) {
                        -1
                    } else {
                        1
                    };
                }
                if self.rng.random_bool(0.25) {
                    remove(&key, count)
                } else {
                    let value = self.value();
                    let mut patch = replace(&key, &value, count);
                    if self.rng.random_bool(0.3) {
                        patch.device_last_modified_date =
                            Some(1_700_000_000.0 + f64::from(self.rng.random_range(0..1000u32)));
                    }
                    patch
                }
            })
            .collect()
    }

    /// One call of valid traffic through the session (judged by the model).
    async fn valid_call(&mut self) -> Result<(), Stop> {
        self.report.valid_calls += 1;
        let path = self.pick_dataset();
        match self.rng.random_range(0..20) {
            0..=8 => {
                let patches = self.patches(&path);
                let device = ["LGE-Nexus5", "iPhone14,2", "cogsync-netfuzz"]
                    .choose(&mut self.rng)
                    .copied();
                self.session
                    .update_with(&path, device, Some(patches), TokenChoice::Latest)
                    .await?;
            }
            9..=12 => {
                let count = self.session.model().dataset_sync_count(&path);
                let request = ListRecordsRequest {
                    path: path.clone(),
                    last_sync_count: self
                        .rng
                        .random_bool(0.5)
                        .then(|| self.rng.random_range(0..=count)),
                    max_results: self
                        .rng
                        .random_bool(0.3)
                        .then(|| self.rng.random_range(1..5)),
                    ..ListRecordsRequest::default()
                };
                self.session
                    .list_with(request, TokenChoice::Missing)
                    .await?;
            }
            13 => {
                let other = self.pick_dataset();
                if other != path && self.session.has_token(&other) {
                    let patches = self.patches(&path);
                    self.session
                        .update_with(&path, None, Some(patches), TokenChoice::From(other))
                        .await?;
                }
            }
            14 | 15 => {
                self.session
                    .call(Call::DescribeDataset(DescribeDatasetRequest { path }))
                    .await?;
            }
            16 => {
                if self.rng.random_bool(0.3) {
                    self.session
                        .call(Call::DeleteDataset(crate::spec::DeleteDatasetRequest {
                            path,
                        }))
                        .await?;
                }
            }
            17 | 18 => {
                let identity = self.pick_identity();
                self.session
                    .call(Call::ListDatasets(ListDatasetsRequest {
                        path: identity,
                        max_results: self
                            .rng
                            .random_bool(0.3)
                            .then(|| self.rng.random_range(1..3)),
                        next_token: None,
                    }))
                    .await?;
            }
            _ => {
                let identity = self.pick_identity();
                self.session
                    .call(Call::DescribeIdentityUsage(DescribeIdentityUsageRequest {
                        path: identity,
                    }))
                    .await?;
            }
        }
        Ok(())
    }

    /// A token the endpoint issued for `path`, listing first if there is none yet.
    async fn token_for(&mut self, path: &DatasetPath) -> Result<String, Stop> {
        if let Some(token) = self.session.token_of(path) {
            return Ok(token);
        }
        self.report.valid_calls += 1;
        self.session.list(path).await?;
        Ok(self
            .session
            .token_of(path)
            .unwrap_or_else(|| GARBAGE_TOKEN.to_owned()))
    }

    /// A realistic UpdateRecords body for `path` (one or two patches at current counts).
    fn base_body(&mut self, path: &DatasetPath, token: &str) -> Value {
        let patches: Vec<Value> = self
            .patches(path)
            .into_iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect();
        json!({
            "DeviceId": "cogsync-netfuzz",
            "RecordPatches": patches,
            "SyncSessionToken": token,
        })
    }

    fn update_request(path: &DatasetPath, body: Vec<u8>, content_type: Option<&str>) -> RawRequest {
        let mut raw = to_raw(&Request::UpdateRecords(UpdateRecordsRequest {
            path: path.clone(),
            client_context: None,
            body: UpdateRecordsBody::default(),
        }));
        raw.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        if let Some(ct) = content_type {
            raw.headers.push(("content-type".to_owned(), ct.to_owned()));
        }
        raw.body = body;
        raw
    }

    fn json_update(path: &DatasetPath, body: &Value) -> RawRequest {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Fuzzer::update_request(path, bytes, Some(CONTENT_TYPE_AMZ_JSON))
    }

    fn first_patch(body: &mut Value) -> Option<&mut Map<String, Value>> {
        body.get_mut("RecordPatches")?
            .as_array_mut()?
            .first_mut()?
            .as_object_mut()
    }

    /// One malformed request of a randomly chosen kind.
    async fn malformed(&mut self) -> Result<Malformed, Stop> {
        let path = self.pick_dataset();
        let kind = self.rng.random_range(0..12);
        let token = self.token_for(&path).await?;
        let mut body = self.base_body(&path, &token);
        let aim = Some(path.clone());
        let made = match kind {
            0 => {
                // Wrong JSON types (VAL-1).
                let (member, wrong): (&str, Vec<Value>) = match self.rng.random_range(0..9) {
                    0 => (
                        "SyncSessionToken",
                        vec![json!(5), json!(true), json!([]), json!({})],
                    ),
                    1 => ("RecordPatches", vec![json!("x"), json!(1), json!({})]),
                    2 => ("Op", vec![json!(1), json!([]), json!({}), json!(true)]),
                    3 => ("Key", vec![json!(1), json!([]), json!({}), json!(false)]),
                    4 => ("Value", vec![json!(1), json!(["v"]), json!({"v": 1})]),
                    5 => (
                        "SyncCount",
                        vec![json!("0"), json!(1.5), json!([]), json!(true)],
                    ),
                    6 => (
                        "DeviceLastModifiedDate",
                        vec![json!("2020-01-01"), json!([]), json!({})],
                    ),
                    7 => ("DeviceId", vec![json!(1), json!([]), json!({})]),
                    _ => ("RecordPatches[0]", vec![json!("x"), json!(1), json!([])]),
                };
                let wrong = wrong.choose(&mut self.rng).cloned().unwrap_or(Value::Null);
                match member {
                    "SyncSessionToken" | "RecordPatches" | "DeviceId" => {
                        body[member] = wrong;
                    }
                    "RecordPatches[0]" => {
                        if let Some(first) = body
                            .get_mut("RecordPatches")
                            .and_then(Value::as_array_mut)
                            .and_then(|a| a.first_mut())
                        {
                            *first = wrong;
                        }
                    }
                    _ => {
                        if let Some(patch) = Fuzzer::first_patch(&mut body) {
                            if member == "Value" {
                                patch.insert("Op".to_owned(), json!("replace"));
                            }
                            patch.insert(member.to_owned(), wrong);
                        }
                    }
                }
                Malformed {
                    label: format!("wrong-type:{member}"),
                    request: Fuzzer::json_update(&path, &body),
                    dataset: aim,
                }
            }
            1 => {
                // Missing required members (UR-8, UR-10, SPEC §5).
                let member = *["SyncSessionToken", "Op", "Key", "SyncCount", "Value"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"SyncSessionToken");
                if member == "SyncSessionToken" {
                    if let Some(map) = body.as_object_mut() {
                        map.remove(member);
                    }
                } else if let Some(patch) = Fuzzer::first_patch(&mut body) {
                    if member == "Value" {
                        patch.insert("Op".to_owned(), json!("replace"));
                    }
                    patch.remove(member);
                }
                Malformed {
                    label: format!("missing:{member}"),
                    request: Fuzzer::json_update(&path, &body),
                    dataset: aim,
                }
            }
            2 => {
                // Extra members, with a garbage token so that no server may accept it.
                body["SyncSessionToken"] = json!(GARBAGE_TOKEN);
                let extras = [
                    ("Extra", json!({"nested": [1, 2, {"x": null}]})),
                    ("__type", json!("UpdateRecordsRequest")),
                    ("recordPatches", json!([])),
                    ("ClientContext", json!("e30=")),
                ];
                let (name, value) = extras
                    .choose(&mut self.rng)
                    .cloned()
                    .unwrap_or(extras[0].clone());
                body[name] = value;
                if let Some(patch) = Fuzzer::first_patch(&mut body) {
                    patch.insert("Unknown".to_owned(), json!(self.rng.random::<u32>()));
                }
                Malformed {
                    label: "extra-members+garbage-token".to_owned(),
                    request: Fuzzer::json_update(&path, &body),
                    dataset: aim,
                }
            }
            3 => self.oversized(&path, body),
            4 => {
                // Invalid UTF-8 in the body (a JSON text is UTF-8) or in a path label.
                let bad: &[u8] = [
                    &b"\xff"[..],
                    b"\xc3\x28",
                    b"\x80",
                    b"\xc0\x80",
                    b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80",
                ]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(b"\xff");
                if self.rng.random_bool(0.7) {
                    let text = serde_json::to_string(&body).unwrap_or_default();
                    let marker = "\"SyncSessionToken\":\"";
                    let at = text.find(marker).map_or(1, |i| i + marker.len());
                    let mut bytes = text.as_bytes()[..at].to_vec();
                    bytes.extend_from_slice(bad);
                    bytes.extend_from_slice(&text.as_bytes()[at..]);
                    Malformed {
                        label: "invalid-utf8:body".to_owned(),
                        request: Fuzzer::update_request(&path, bytes, Some(CONTENT_TYPE_AMZ_JSON)),
                        dataset: aim,
                    }
                } else {
                    let escaped: String = bad.iter().map(|b| format!("%{b:02X}")).collect();
                    let mut raw = Fuzzer::json_update(&path, &body);
                    raw.path_and_query = format!("{}{escaped}", raw.path_and_query);
                    Malformed {
                        label: "invalid-utf8:DatasetName".to_owned(),
                        request: raw,
                        dataset: aim,
                    }
                }
            }
            5 => {
                // Bad percent-encoding in a label or a query parameter.
                let bad = *["%", "%G1", "%3", "%%", "%zz", "%2"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"%");
                if self.rng.random_bool(0.5) {
                    let mut raw = Fuzzer::json_update(&path, &body);
                    raw.path_and_query = format!("{}{bad}", raw.path_and_query);
                    Malformed {
                        label: "bad-percent:DatasetName".to_owned(),
                        request: raw,
                        dataset: aim,
                    }
                } else {
                    let param = *[
                        "maxResults",
                        "lastSyncCount",
                        "nextToken",
                        "syncSessionToken",
                    ]
                    .choose(&mut self.rng)
                    .unwrap_or(&"nextToken");
                    let mut raw = to_raw(&Request::ListRecords(ListRecordsRequest {
                        path: path.clone(),
                        ..ListRecordsRequest::default()
                    }));
                    raw.path_and_query = format!("{}?{param}=a{bad}", raw.path_and_query);
                    Malformed {
                        label: format!("bad-percent:{param}"),
                        request: raw,
                        dataset: aim,
                    }
                }
            }
            6 => self.numbers(&path, body),
            7 => {
                // Deep nesting: in a known member (wrong type) or, with a garbage token, in an
                // unknown one.
                let depth = self.rng.random_range(200..20_000);
                let closed = self.rng.random_bool(0.5);
                let nest = format!(
                    "{}1{}",
                    "[".repeat(depth),
                    if closed {
                        "]".repeat(depth)
                    } else {
                        String::new()
                    }
                );
                let known = self.rng.random_bool(0.5);
                let text = if known {
                    format!(
                        r#"{{"SyncSessionToken":{},"RecordPatches":{nest}}}"#,
                        json!(token)
                    )
                } else {
                    format!(r#"{{"SyncSessionToken":"{GARBAGE_TOKEN}","Extra":{nest}}}"#)
                };
                Malformed {
                    label: if known {
                        "deep-nesting:RecordPatches".to_owned()
                    } else {
                        "deep-nesting:unknown+garbage-token".to_owned()
                    },
                    request: Fuzzer::update_request(
                        &path,
                        text.into_bytes(),
                        Some(CONTENT_TYPE_AMZ_JSON),
                    ),
                    dataset: aim,
                }
            }
            8 => {
                // Odd content types, with a garbage token.
                body["SyncSessionToken"] = json!(GARBAGE_TOKEN);
                let content_type = [
                    Some("text/plain"),
                    Some("application/xml"),
                    Some("multipart/form-data; boundary=x"),
                    Some("application/x-www-form-urlencoded"),
                    Some("application/json; charset=utf-16"),
                    Some("*/*"),
                    Some("application/x-amz-json-1.0"),
                    None,
                ]
                .choose(&mut self.rng)
                .copied()
                .flatten();
                Malformed {
                    label: format!(
                        "content-type:{}+garbage-token",
                        content_type.unwrap_or("none")
                    ),
                    request: Fuzzer::update_request(
                        &path,
                        serde_json::to_vec(&body).unwrap_or_default(),
                        content_type,
                    ),
                    dataset: aim,
                }
            }
            9 => {
                // Duplicated members; every copy is bad, so any reading must refuse.
                let text = if self.rng.random_bool(0.5) {
                    format!(
                        r#"{{"SyncSessionToken":"{GARBAGE_TOKEN}","RecordPatches":[],"SyncSessionToken":"{GARBAGE_TOKEN}x"}}"#
                    )
                } else {
                    format!(
                        r#"{{"SyncSessionToken":"{GARBAGE_TOKEN}","RecordPatches":[{{"Op":"remove","Key":"a","Key":"b","SyncCount":0}}]}}"#
                    )
                };
                Malformed {
                    label: "duplicate-members+garbage-token".to_owned(),
                    request: Fuzzer::update_request(
                        &path,
                        text.into_bytes(),
                        Some(CONTENT_TYPE_AMZ_JSON),
                    ),
                    dataset: aim,
                }
            }
            10 => self.unknown_route(&path),
            _ => {
                // Not a JSON object at all.
                let valid = serde_json::to_vec(&body).unwrap_or_default();
                let bytes = match self.rng.random_range(0..6) {
                    0 => b"[]".to_vec(),
                    1 => b"null".to_vec(),
                    2 => b"\"SyncSessionToken\"".to_vec(),
                    3 => {
                        let cut = self.rng.random_range(1..valid.len().max(2));
                        valid[..cut.min(valid.len().saturating_sub(1))].to_vec()
                    }
                    4 => {
                        let mut v = valid.clone();
                        v.extend_from_slice(b" {}");
                        v
                    }
                    _ => (0..self.rng.random_range(1..64))
                        .map(|_| self.rng.random::<u8>())
                        .collect(),
                };
                let mut bytes = bytes;
                if bytes.is_empty() || bytes == b"{}" {
                    bytes = b"[".to_vec();
                }
                Malformed {
                    label: "not-a-json-object".to_owned(),
                    request: Fuzzer::update_request(&path, bytes, Some(CONTENT_TYPE_AMZ_JSON)),
                    dataset: aim,
                }
            }
        };
        Ok(made)
    }

    fn oversized(&mut self, path: &DatasetPath, mut body: Value) -> Malformed {
        let fill = *["k", "é", "😀"].choose(&mut self.rng).unwrap_or(&"k");
        match self.rng.random_range(0..6) {
            0 => {
                if let Some(patch) = Fuzzer::first_patch(&mut body) {
                    patch.insert("Key".to_owned(), json!(fill.repeat(1025)));
                }
                Malformed {
                    label: "oversized:Key".to_owned(),
                    request: Fuzzer::json_update(path, &body),
                    dataset: Some(path.clone()),
                }
            }
            1 => {
                body["DeviceId"] = json!(fill.repeat(257));
                Malformed {
                    label: "oversized:DeviceId".to_owned(),
                    request: Fuzzer::json_update(path, &body),
                    dataset: Some(path.clone()),
                }
            }
            2 if self.rng.random_bool(0.2) => {
                if let Some(patch) = Fuzzer::first_patch(&mut body) {
                    patch.insert("Op".to_owned(), json!("replace"));
                    patch.insert("Value".to_owned(), json!("v".repeat(1_048_576)));
                }
                Malformed {
                    label: "oversized:Value".to_owned(),
                    request: Fuzzer::json_update(path, &body),
                    dataset: Some(path.clone()),
                }
            }
            3 => {
                let mut long = path.clone();
                long.dataset_name = "d".repeat(129);
                Malformed {
                    label: "oversized:DatasetName".to_owned(),
                    request: Fuzzer::json_update(&long, &body),
                    dataset: Some(path.clone()),
                }
            }
            4 => {
                let mut long = path.clone();
                long.identity_id = format!("us-east-1:{}", "a".repeat(46));
                Malformed {
                    label: "oversized:IdentityId".to_owned(),
                    request: Fuzzer::json_update(&long, &body),
                    dataset: Some(path.clone()),
                }
            }
            _ => {
                body["SyncSessionToken"] = json!(GARBAGE_TOKEN);
                if let Some(patch) = Fuzzer::first_patch(&mut body) {
                    patch.insert("Key".to_owned(), json!(fill.repeat(1024)));
                }
                Malformed {
                    label: "key-at-limit+garbage-token".to_owned(),
                    request: Fuzzer::json_update(path, &body),
                    dataset: Some(path.clone()),
                }
            }
        }
    }

    fn numbers(&mut self, path: &DatasetPath, body: Value) -> Malformed {
        let exists = self.session.model().dataset_exists(path);
        if self.rng.random_bool(0.5) {
            // Body numbers: huge, negative, fractional SyncCount; an unrepresentable date
            // (with a garbage token: some readers take it as infinity).
            let (label, number, garbage) = match self.rng.random_range(0..6) {
                0 => ("SyncCount=1e400", "1e400", false),
                1 => ("SyncCount=2^63", "9223372036854775808", false),
                2 => ("SyncCount=-2^63-1", "-9223372036854775809", false),
                3 => ("SyncCount=0.5", "0.5", false),
                4 => (
                    "SyncCount=123456789012345678901234567890",
                    "123456789012345678901234567890",
                    false,
                ),
                _ => ("DeviceLastModifiedDate=1e400", "1e400", true),
            };
            let mut body = body;
            if garbage {
                body["SyncSessionToken"] = json!(GARBAGE_TOKEN);
            }
            let member = if garbage {
                "DeviceLastModifiedDate"
            } else {
                "SyncCount"
            };
            if let Some(patch) = Fuzzer::first_patch(&mut body) {
                patch.insert(member.to_owned(), json!("__NUMBER__"));
            }
            let text = serde_json::to_string(&body)
                .unwrap_or_default()
                .replace("\"__NUMBER__\"", number);
            return Malformed {
                label: format!("number:{label}"),
                request: Fuzzer::update_request(
                    path,
                    text.into_bytes(),
                    Some(CONTENT_TYPE_AMZ_JSON),
                ),
                dataset: Some(path.clone()),
            };
        }
        // Query numbers of ListRecords (ListDatasets for maxResults sometimes).
        let mut choices = vec![
            ("maxResults", "0"),
            ("maxResults", "-1"),
            ("maxResults", "2147483648"),
            ("maxResults", "1.5"),
            ("maxResults", "abc"),
            ("lastSyncCount", "-1"),
            ("lastSyncCount", "1.5"),
            ("lastSyncCount", "abc"),
        ];
        if exists {
            choices.push(("lastSyncCount", "99999999999999999999"));
            choices.push(("lastSyncCount", "9223372036854775807"));
        }
        let (param, value) = *choices.choose(&mut self.rng).unwrap_or(&choices[0]);
        let list_datasets = param == "maxResults" && self.rng.random_bool(0.3);
        let mut raw = if list_datasets {
            to_raw(&Request::ListDatasets(ListDatasetsRequest {
                path: IdentityPath {
                    identity_pool_id: path.identity_pool_id.clone(),
                    identity_id: path.identity_id.clone(),
                },
                max_results: None,
                next_token: None,
            }))
        } else {
            to_raw(&Request::ListRecords(ListRecordsRequest {
                path: path.clone(),
                ..ListRecordsRequest::default()
            }))
        };
        raw.path_and_query = format!("{}?{param}={value}", raw.path_and_query);
        Malformed {
            label: format!(
                "number:{}{param}={value}",
                if list_datasets { "ListDatasets." } else { "" }
            ),
            request: raw,
            dataset: Some(path.clone()),
        }
    }

    fn unknown_route(&mut self, path: &DatasetPath) -> Malformed {
        let dataset_url = to_raw(&Request::DescribeDataset(DescribeDatasetRequest {
            path: path.clone(),
        }))
        .path_and_query;
        let identity_url = dataset_url
            .rsplit_once("/datasets/")
            .map_or(dataset_url.clone(), |(i, _)| i.to_owned());
        let (label, method, url, aims) = match self.rng.random_range(0..10) {
            0 => ("method:PUT", "PUT", dataset_url.clone(), true),
            1 => ("method:PATCH", "PATCH", dataset_url.clone(), true),
            2 => ("method:FROB", "FROB", dataset_url.clone(), true),
            3 => (
                "method:POST-records",
                "POST",
                format!("{dataset_url}/records"),
                true,
            ),
            4 => (
                "method:DELETE-datasets",
                "DELETE",
                format!("{identity_url}/datasets"),
                false,
            ),
            5 => ("route:root", "GET", "/".to_owned(), false),
            6 => (
                "route:trailing-slash",
                "POST",
                format!("{dataset_url}/"),
                true,
            ),
            7 => (
                "route:extra-segment",
                "GET",
                format!("{dataset_url}/records/extra"),
                true,
            ),
            8 => (
                "route:case",
                "GET",
                dataset_url.replacen("/identitypools/", "/IdentityPools/", 1),
                false,
            ),
            _ => ("route:unknown", "GET", "/identitypools".to_owned(), false),
        };
        let body = if method == "GET" || method == "DELETE" {
            Vec::new()
        } else {
            format!(r#"{{"SyncSessionToken":"{GARBAGE_TOKEN}"}}"#).into_bytes()
        };
        let headers = if body.is_empty() {
            Vec::new()
        } else {
            vec![("content-type".to_owned(), CONTENT_TYPE_AMZ_JSON.to_owned())]
        };
        Malformed {
            label: label.to_owned(),
            request: RawRequest {
                method: method.to_owned(),
                path_and_query: url,
                headers,
                body,
            },
            dataset: aims.then(|| path.clone()),
        }
    }

    async fn send(&mut self, request: &RawRequest) -> Result<RawResponse, Trouble> {
        self.report.requests += 1;
        self.endpoint.send_raw(request).await.0
    }

    /// Shrinks `request` while sending it still breaks `oracle`.
    async fn shrink(&mut self, request: RawRequest, oracle: &str) -> RawRequest {
        let mut current = request;
        let mut budget = SHRINK_BUDGET;
        'outer: while budget > 0 {
            for candidate in shrink_candidates(&current) {
                if budget == 0 {
                    break 'outer;
                }
                if !sendable(self.endpoint, &candidate.path_and_query) {
                    continue;
                }
                budget -= 1;
                let result = self.send(&candidate).await;
                if judge_refusal(&result).is_some_and(|b| b.oracle == oracle)
                    || (oracle.starts_with("valid traffic") && server_side_failure(&result))
                {
                    current = candidate;
                    continue 'outer;
                }
            }
            break;
        }
        current
    }

    /// Records a finding (shrinking it first when it is new and can be re-checked alone).
    async fn record(
        &mut self,
        oracle: &str,
        mutation: &str,
        detail: String,
        request: RawRequest,
        transcript_text: Option<String>,
        can_shrink: bool,
    ) {
        let key = (oracle.to_owned(), mutation.to_owned());
        if let Some(&index) = self.seen.get(&key) {
            self.report.findings[index].occurrences += 1;
            return;
        }
        if self.report.findings.len() >= FINDINGS_MAX {
            if let Some(last) = self.report.findings.last_mut() {
                last.occurrences += 1;
            }
            return;
        }
        let original = request.body.len();
        let shrunk = if can_shrink {
            self.shrink(request, oracle).await
        } else {
            request
        };
        let answer = describe_answer(&self.send(&shrunk).await);
        self.seen.insert(key, self.report.findings.len());
        self.report.findings.push(Finding {
            oracle: oracle.to_owned(),
            mutation: mutation.to_owned(),
            detail,
            body_bytes_original: original,
            body_bytes_shrunk: shrunk.body.len(),
            request: SavedRequest::from_raw(&shrunk),
            answer,
            transcript: transcript_text,
            occurrences: 1,
        });
    }

    /// A finding in valid traffic: the last step of the session shows it.
    async fn valid_finding(&mut self, reason: String) {
        self.count_session_requests();
        let steps = self.session.steps();
        let Some(step) = steps.last() else {
            return;
        };
        let operation = step.operation.clone();
        let trouble = matches!(step.verdict, StepVerdict::Trouble { .. });
        let five_xx = step
            .exchanges
            .last()
            .and_then(|e| e.status)
            .is_some_and(|s| s >= 500);
        let Some(exchange) = step.exchanges.last().cloned() else {
            return;
        };
        let tail_start = steps.len().saturating_sub(4);
        let transcript_text = transcript(&steps[tail_start..]);
        let request = RawRequest {
            method: exchange.method.clone(),
            path_and_query: exchange
                .url
                .strip_prefix(self.endpoint.base_url())
                .unwrap_or(&exchange.url)
                .to_owned(),
            headers: exchange
                .request_headers
                .iter()
                .filter(|(n, _)| {
                    let n = n.to_ascii_lowercase();
                    n == "content-type" || n == "x-amz-client-context"
                })
                .cloned()
                .collect(),
            body: exchange.request_body.clone().into_bytes(),
        };
        let oracle = if trouble {
            "valid traffic: no usable answer (ERR-3)"
        } else if five_xx {
            "valid traffic: 5xx answer (ERR-3)"
        } else {
            "valid traffic: answer outside the model's allowed set"
        };
        self.record(
            oracle,
            &format!("valid:{operation}"),
            reason,
            request,
            Some(transcript_text),
            trouble || five_xx,
        )
        .await;
    }

    async fn malformed_round(&mut self) -> Result<(), NetFuzzError> {
        let made = match self.malformed().await {
            Ok(m) => m,
            Err(Stop::Finding(reason)) => {
                self.valid_finding(reason).await;
                self.next_epoch().await;
                return Ok(());
            }
            Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
        };
        if !sendable(self.endpoint, &made.request.path_and_query) {
            self.report.skipped += 1;
            return Ok(());
        }
        self.report.malformed += 1;
        let result = self.send(&made.request).await;
        if let Some(broken) = judge_refusal(&result) {
            let can_shrink = shrinkable(broken.oracle);
            self.record(
                broken.oracle,
                &made.label,
                broken.detail,
                made.request,
                None,
                can_shrink,
            )
            .await;
            // The endpoint may now hold data the model does not know of.
            self.next_epoch().await;
            return Ok(());
        }
        if let Some(path) = made.dataset {
            self.report.valid_calls += 1;
            match self.session.list(&path).await {
                Ok(_) => {}
                Err(Stop::Finding(reason)) => {
                    self.count_session_requests();
                    let tail = self.session.steps();
                    let text = transcript(&tail[tail.len().saturating_sub(4)..]);
                    self.record(
                        "rejected request changed state (UR-3)",
                        &made.label,
                        reason,
                        made.request,
                        Some(text),
                        false,
                    )
                    .await;
                    self.next_epoch().await;
                }
                Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
            }
        }
        Ok(())
    }
}

/// Whether an answer is a server-side failure (5xx or no usable answer).
fn server_side_failure(result: &Result<RawResponse, Trouble>) -> bool {
    match result {
        Err(_) => true,
        Ok(r) => r.status >= 500,
    }
}

/// Fuzzes `endpoint` until the duration or the iteration bound is reached.
///
/// `progress` is called about once per 200 iterations. Datasets the run wrote are deleted at
/// the end (unjudged).
pub async fn run(
    endpoint: &Endpoint,
    clock: Clock,
    options: &NetFuzzOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<NetFuzzReport, NetFuzzError> {
    let started = Instant::now();
    let mut session = new_session(endpoint, &clock, options.run_id, 0);
    let identities = vec![session.identity(), session.identity()];
    let mut fuzzer = Fuzzer {
        endpoint,
        clock: clock.clone(),
        rng: StdRng::seed_from_u64(options.seed),
        run_id: options.run_id,
        epoch: 0,
        session,
        identities,
        steps_counted: 0,
        report: NetFuzzReport {
            seed: options.seed,
            endpoint: endpoint.base_url().to_owned(),
            iterations: 0,
            requests: 0,
            malformed: 0,
            valid_calls: 0,
            skipped: 0,
            elapsed_ms: 0.0,
            findings: Vec::new(),
        },
        seen: BTreeMap::new(),
    };
    loop {
        let iterations = fuzzer.report.iterations;
        if started.elapsed() >= options.duration
            || options.iterations_max.is_some_and(|m| iterations >= m)
        {
            break;
        }
        fuzzer.report.iterations += 1;
        if iterations > 0 && iterations.is_multiple_of(EPOCH_ITERATIONS) {
            fuzzer.next_epoch().await;
        }
        if fuzzer.rng.random_bool(0.4) {
            match fuzzer.valid_call().await {
                Ok(()) => {}
                Err(Stop::Finding(reason)) => {
                    fuzzer.valid_finding(reason).await;
                    fuzzer.next_epoch().await;
                }
                Err(Stop::Harness(h)) => return Err(NetFuzzError::Harness(h)),
            }
        } else {
            fuzzer.malformed_round().await?;
        }
        fuzzer.count_session_requests();
        if fuzzer.report.iterations.is_multiple_of(200) {
            progress(Progress {
                iterations: fuzzer.report.iterations,
                requests: fuzzer.report.requests,
                findings: fuzzer.report.findings.len(),
                elapsed: started.elapsed(),
            });
        }
    }
    fuzzer.count_session_requests();
    fuzzer.report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    fuzzer.session.clean_up().await;
    Ok(fuzzer.report)
}

/// A one-line account of a finding for the terminal.
pub fn finding_line(finding: &Finding) -> String {
    format!(
        "FAIL {} [{}] ×{}: {}",
        finding.oracle, finding.mutation, finding.occurrences, finding.detail
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, kind: Option<&str>, body: &str) -> Result<RawResponse, Trouble> {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(k) = kind {
            headers.push(("x-amzn-ErrorType".to_owned(), k.to_owned()));
        }
        Ok(RawResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn a_proper_refusal_breaks_no_oracle() {
        let ok = response(400, Some("ValidationException"), r#"{"message":"m"}"#);
        assert_eq!(judge_refusal(&ok), None);
        let decorated = response(
            409,
            Some("ResourceConflictException:http://internal.amazon.com/"),
            r#"{"message":"m"}"#,
        );
        assert_eq!(judge_refusal(&decorated), None);
    }

    #[test]
    fn bad_refusals_name_the_broken_oracle() {
        let cases = [
            (response(200, None, "{}"), "bad input accepted (VAL-1)"),
            (
                response(500, Some("InternalErrorException"), r#"{"message":"m"}"#),
                "5xx answer to bad input (ERR-3)",
            ),
            (
                response(400, None, r#"{"message":"m"}"#),
                "error without a known x-amzn-ErrorType (ERR-1)",
            ),
            (
                response(400, Some("ResourceConflictException"), r#"{"message":"m"}"#),
                "error status differs from its shape's (ERR-2)",
            ),
            (
                response(400, Some("ValidationException"), r#"{"Message":"m"}"#),
                "error body without a JSON message (ERR-1)",
            ),
            (
                Err(Trouble::Timeout { ms: 10 }),
                "no answer before the timeout (ERR-3)",
            ),
        ];
        for (result, oracle) in cases {
            assert_eq!(judge_refusal(&result).map(|b| b.oracle), Some(oracle));
        }
    }

    #[test]
    fn json_variants_drop_members_then_cut_strings() {
        let v = json!({"a": "xyz", "b": [1]});
        let variants = json_variants(&v);
        assert_eq!(variants[0], json!({"b": [1]}));
        assert!(variants.contains(&json!({"a": "x", "b": [1]})));
        assert!(variants.contains(&json!({"a": "xyz", "b": []})));
    }

    #[test]
    fn curl_commands_send_non_utf8_bodies_byte_for_byte() {
        let request = RawRequest {
            method: "POST".to_owned(),
            path_and_query: "/p?q=1".to_owned(),
            headers: vec![],
            body: b"{\"a\":\"\xff'%\"}".to_vec(),
        };
        let script = curl_command("http://127.0.0.1:1", &request);
        assert!(
            script.contains(r#"printf '{"a":"\377\047%%"}'"#),
            "{script}"
        );
        assert!(script.contains("--data-binary @-"), "{script}");
        assert!(script.contains("-H 'Content-Type:'"), "{script}");
    }

    #[test]
    fn saved_requests_keep_non_utf8_bodies() {
        let raw = RawRequest {
            method: "POST".to_owned(),
            path_and_query: "/".to_owned(),
            headers: vec![],
            body: vec![0xff, 0x00],
        };
        assert_eq!(SavedRequest::from_raw(&raw).to_raw(), raw);
    }
}
