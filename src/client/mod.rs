//! Talking to any endpoint: one call per operation, each returning the typed reply *and* the
//! raw exchange, so a report can show exactly what went over the wire.
//!
//! Whatever the endpoint does — hang, reset, send garbage, a huge body, the wrong content type —
//! becomes a [`Trouble`] inside the reply, never a panic or a hang: every exchange runs under a
//! timeout and reads at most a capped number of body bytes.

mod pool;
pub mod sigv4;
mod walk;

pub use pool::pool_to_raw;
pub use walk::{PAGES_PER_WALK_MAX, Paged, walk};

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::spec::{
    self, CLIENT_CONTEXT_HEADER, DatasetPath, ERROR_TYPE_HEADER, ErrorBody, ErrorKind,
    IdentityPath, Request,
};

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded, which
/// is how the AWS SDKs encode path labels and query values (`:` becomes `%3A`).
const LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Headers whose values never appear in output.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-amz-security-token", "cookie"];

/// How the client treats an endpoint.
#[derive(Debug, Clone)]
pub struct EndpointOptions {
    /// Whole-exchange limit: connect, send, headers and body.
    pub timeout: Duration,
    /// Response bodies longer than this are a finding, not something to buffer.
    pub response_bytes_max: usize,
    /// Sign every request with SigV4 when set.
    pub signer: Option<sigv4::Signer>,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        EndpointOptions {
            timeout: Duration::from_secs(10),
            response_bytes_max: 32 * 1024 * 1024,
            signer: None,
        }
    }
}

/// Harness trouble while setting up a client (not a finding about the endpoint).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("endpoint URL {url:?} is not an http:// or https:// URL")]
    BadUrl { url: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// An endpoint of the Cognito Sync dataset API.
#[derive(Debug, Clone)]
pub struct Endpoint {
    base: String,
    http: reqwest::Client,
    options: EndpointOptions,
}

/// One HTTP request and what came back, for reports; secrets are already redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), for people.
    pub request_body: String,
    /// The body's exact bytes in base64 when they are not UTF-8 (`request_body` is lossy
    /// then), so a curl script or replay can send what was sent; absent for UTF-8 bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_base64: Option<String>,
    /// `None` when no response arrived (timeout, reset, refused).
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), cut at the response cap.
    pub response_body: String,
    pub elapsed_ms: f64,
}

impl Exchange {
    /// The record of `request` sent to `url` with `headers` (secrets are redacted here), before
    /// any answer.
    pub fn of(request: &RawRequest, url: String, headers: &[(String, String)]) -> Exchange {
        Exchange {
            method: request.method.clone(),
            url,
            request_headers: redact(headers),
            request_body: String::from_utf8_lossy(&request.body).into_owned(),
            request_body_base64: base64_unless_utf8(&request.body),
            status: None,
            response_headers: Vec::new(),
            response_body: String::new(),
            elapsed_ms: 0.0,
        }
    }

    /// Records what came back, if anything did.
    pub fn answered(&mut self, result: &Result<RawResponse, Trouble>) {
        if let Ok(response) = result {
            self.status = Some(response.status);
            self.response_headers = response.headers.clone();
            self.response_body = String::from_utf8_lossy(&response.body).into_owned();
        }
    }

    /// A response header, by case-insensitive name.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }

    /// The request body byte for byte, as it was sent.
    pub fn request_bytes(&self) -> Vec<u8> {
        match &self.request_body_base64 {
            Some(encoded) => BASE64.decode(encoded).unwrap_or_default(),
            None => self.request_body.clone().into_bytes(),
        }
    }
}

/// Base64 of `bytes` when they are not UTF-8 text: what a report keeps beside the lossy text.
pub fn base64_unless_utf8(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes)
        .is_err()
        .then(|| BASE64.encode(bytes))
}

/// Why an exchange produced no usable answer: always a finding about the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Trouble {
    #[error("no complete answer within {ms} ms")]
    Timeout { ms: u64 },
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("response body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("success answer with Content-Type {0:?}, not application/json (ERR-4)")]
    WrongContentType(String),
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body does not have the operation's shape: {0}")]
    BadShape(String),
}

/// An error answer (any non-2xx status), read as leniently as possible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub status: u16,
    /// `x-amzn-ErrorType` as sent, if it was.
    pub type_header: Option<String>,
    /// The kind named by the header (ERR-1: the header is what counts).
    pub kind: Option<ErrorKind>,
    /// The JSON body, if it was one.
    pub body: Option<ErrorBody>,
}

impl ErrorReply {
    /// The shape `x-amzn-ErrorType` names, decorations cut (ERR-1: `Shape:…`, `ns#Shape`);
    /// `None` when the header is absent or names nothing.
    pub fn shape_name(&self) -> Option<&str> {
        self.type_header
            .as_deref()
            .map(ErrorKind::shape_name)
            .filter(|name| !name.is_empty())
    }

    /// The body's `message`, if the body is a JSON object with one.
    pub fn message(&self) -> Option<&str> {
        self.body.as_ref().and_then(|b| b.message.as_deref())
    }
}

/// The endpoint's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<T> {
    Success(T),
    Error(ErrorReply),
    Broken(Trouble),
}

impl<T> Reply<T> {
    pub fn success(&self) -> Option<&T> {
        match self {
            Reply::Success(v) => Some(v),
            _ => None,
        }
    }
}

/// A request as bytes on the wire, for calls the typed API cannot express (fuzzing, replays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRequest {
    pub method: String,
    /// Path and query, already encoded, starting with `/`.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// A request whose body, if any, is JSON: the content type is added to `headers`.
    pub fn json(
        method: &str,
        path_and_query: String,
        mut headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> RawRequest {
        if !body.is_empty() {
            headers.push((
                "content-type".to_owned(),
                spec::CONTENT_TYPE_JSON.to_owned(),
            ));
        }
        RawRequest {
            method: method.to_owned(),
            path_and_query,
            headers,
            body,
        }
    }
}

/// What a raw exchange returned.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A path label or query value encoded as this client sends it (VAL-2), for requests the typed
/// API cannot express but that must still name the run's own pool, identity and dataset.
pub fn encode_label(label: &str) -> String {
    utf8_percent_encode(label, LABEL).to_string()
}

fn dataset_path(p: &DatasetPath) -> String {
    format!(
        "/identitypools/{}/identities/{}/datasets/{}",
        encode_label(&p.identity_pool_id),
        encode_label(&p.identity_id),
        encode_label(&p.dataset_name)
    )
}

fn identity_path(p: &IdentityPath) -> String {
    format!(
        "/identitypools/{}/identities/{}",
        encode_label(&p.identity_pool_id),
        encode_label(&p.identity_id)
    )
}

fn with_query(path: String, params: &[(&str, Option<String>)]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|v| format!("{name}={}", encode_label(v)))
        })
        .collect();
    if pairs.is_empty() {
        path
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// The HTTP form of a typed request, as an AWS SDK would send it.
pub fn to_raw(request: &Request) -> RawRequest {
    let (method, path_and_query, headers, body) = match request {
        Request::UpdateRecords(r) => {
            let mut headers = Vec::new();
            if let Some(ctx) = &r.client_context {
                headers.push((CLIENT_CONTEXT_HEADER.to_owned(), ctx.clone()));
            }
            // Serialising these plain structs cannot fail; an empty body is the safe fallback.
            let body = serde_json::to_vec(&r.body).unwrap_or_default();
            ("POST", dataset_path(&r.path), headers, body)
        }
        Request::ListRecords(r) => (
            "GET",
            with_query(
                format!("{}/records", dataset_path(&r.path)),
                &[
                    ("lastSyncCount", r.last_sync_count.map(|v| v.to_string())),
                    ("maxResults", r.max_results.map(|v| v.to_string())),
                    ("nextToken", r.next_token.clone()),
                    ("syncSessionToken", r.sync_session_token.clone()),
                ],
            ),
            Vec::new(),
            Vec::new(),
        ),
        Request::DescribeDataset(r) => ("GET", dataset_path(&r.path), Vec::new(), Vec::new()),
        Request::DeleteDataset(r) => ("DELETE", dataset_path(&r.path), Vec::new(), Vec::new()),
        Request::ListDatasets(r) => (
            "GET",
            with_query(
                format!("{}/datasets", identity_path(&r.path)),
                &[
                    ("maxResults", r.max_results.map(|v| v.to_string())),
                    ("nextToken", r.next_token.clone()),
                ],
            ),
            Vec::new(),
            Vec::new(),
        ),
        Request::DescribeIdentityUsage(r) => {
            ("GET", identity_path(&r.path), Vec::new(), Vec::new())
        }
    };
    RawRequest::json(method, path_and_query, headers, body)
}

fn redact(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                (name.clone(), "<redacted>".to_owned())
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect()
}

/// A response's headers as (name, value) pairs, values read leniently.
pub fn header_pairs(map: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// A header's value, by case-insensitive name (HTTP header names are).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What carries a request to an endpoint and its answer back: HTTP ([`Endpoint`]) or the
/// reference server in process (the `model_vs_server` fuzz target), so that one driver — the
/// suite's session, the page walker — serves both.
pub trait Transport: Sync {
    /// Sends bytes as they are. Whatever the endpoint does becomes a [`Trouble`], never a panic
    /// or a hang; the exchange is recorded either way.
    fn send(
        &self,
        request: &RawRequest,
    ) -> impl Future<Output = (Result<RawResponse, Trouble>, Exchange)> + Send;

    /// Sends a typed request and reads the answer as the operation's response shape `T`.
    fn call<T: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> impl Future<Output = (Reply<T>, Exchange)> + Send {
        let raw = to_raw(request);
        async move {
            let (result, exchange) = self.send(&raw).await;
            let reply = match result {
                Err(trouble) => Reply::Broken(trouble),
                Ok(response) => decode(&response),
            };
            (reply, exchange)
        }
    }
}

impl Transport for Endpoint {
    fn send(
        &self,
        request: &RawRequest,
    ) -> impl Future<Output = (Result<RawResponse, Trouble>, Exchange)> + Send {
        self.send_raw(request)
    }
}

impl Endpoint {
    /// A client for the endpoint at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str, options: EndpointOptions) -> Result<Endpoint, ClientError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl {
                url: base_url.to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Endpoint {
            base,
            http,
            options,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL a request for `path_and_query` goes out with. The HTTP stack parses URLs by
    /// the WHATWG rules (dot segments removed, some characters escaped), so this can differ
    /// from the base URL followed by `path_and_query`; exchanges record this one, so what a
    /// report shows and resends is what was sent. `None` when the URL does not parse.
    pub fn url_as_sent(&self, path_and_query: &str) -> Option<String> {
        let parsed = reqwest::Url::parse(&format!("{}{}", self.base, path_and_query)).ok()?;
        // The base's scheme and authority as given; its path, if any, is in `parsed.path()`.
        let authority_at = self.base.find("://").map_or(0, |i| i + 3);
        let origin_len = self.base[authority_at..]
            .find('/')
            .map_or(self.base.len(), |i| authority_at + i);
        let mut sent = format!("{}{}", &self.base[..origin_len], parsed.path());
        if let Some(query) = parsed.query() {
            sent.push('?');
            sent.push_str(query);
        }
        Some(sent)
    }

    /// Sends bytes as they are; the response body is capped and the exchange is timed out.
    pub async fn send_raw(&self, request: &RawRequest) -> (Result<RawResponse, Trouble>, Exchange) {
        let url = format!("{}{}", self.base, request.path_and_query);
        let mut headers = request.headers.clone();
        let mut signing_failed = None;
        if let Some(signer) = &self.options.signer {
            match signer.sign(
                &request.method,
                &url,
                &headers,
                &request.body,
                SystemTime::now(),
            ) {
                Ok(signed) => headers.extend(signed),
                Err(e) => signing_failed = Some(e.to_string()),
            }
        }
        let sent = self
            .url_as_sent(&request.path_and_query)
            .unwrap_or_else(|| url.clone());
        let mut exchange = Exchange::of(request, sent, &headers);
        let started = Instant::now();
        let timeout = self.options.timeout;
        if let Some(reason) = signing_failed {
            return (
                Err(Trouble::Connection(format!("request not sent: {reason}"))),
                exchange,
            );
        }
        let result = tokio::time::timeout(timeout, self.exchange(request, &headers, &url)).await;
        exchange.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let result = match result {
            Err(_) => Err(Trouble::Timeout {
                ms: timeout.as_millis() as u64,
            }),
            Ok(r) => r,
        };
        exchange.answered(&result);
        (result, exchange)
    }

    async fn exchange(
        &self,
        request: &RawRequest,
        headers: &[(String, String)],
        url: &str,
    ) -> Result<RawResponse, Trouble> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| Trouble::Connection(format!("invalid method: {e}")))?;
        let mut builder = self.http.request(method, url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let mut response = builder
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| Trouble::Connection(describe(&e)))?;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        let limit = self.options.response_bytes_max;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Trouble::Connection(describe(&e)))?
        {
            if body.len() + chunk.len() > limit {
                return Err(Trouble::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// Sends a typed request and reads the answer as the operation's response shape `T`.
    pub async fn call<T: DeserializeOwned>(&self, request: &Request) -> (Reply<T>, Exchange) {
        Transport::call(self, request).await
    }
}

/// Reads an HTTP answer as success (`T`), error, or trouble.
pub fn decode<T: DeserializeOwned>(response: &RawResponse) -> Reply<T> {
    if !(200..300).contains(&response.status) {
        let type_header = header(&response.headers, ERROR_TYPE_HEADER).map(str::to_owned);
        let kind = type_header.as_deref().and_then(ErrorKind::from_type_name);
        let body = serde_json::from_slice::<ErrorBody>(&response.body).ok();
        return Reply::Error(ErrorReply {
            status: response.status,
            type_header,
            kind,
            body,
        });
    }
    let content_type = header(&response.headers, "content-type").unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != spec::CONTENT_TYPE_JSON && media != spec::CONTENT_TYPE_AMZ_JSON {
        return Reply::Broken(Trouble::WrongContentType(content_type.to_owned()));
    }
    let value: serde_json::Value = match serde_json::from_slice(&response.body) {
        Ok(v) => v,
        Err(e) => return Reply::Broken(Trouble::NotJson(e.to_string())),
    };
    if !value.is_object() {
        return Reply::Broken(Trouble::BadShape(
            "the body is not a JSON object".to_owned(),
        ));
    }
    match serde_json::from_value(value) {
        Ok(v) => Reply::Success(v),
        Err(e) => Reply::Broken(Trouble::BadShape(e.to_string())),
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ListRecordsRequest, UpdateRecordsBody, UpdateRecordsRequest};

    fn path() -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:abc".into(),
            identity_id: "us-east-1:def".into(),
            dataset_name: "a:b".into(),
        }
    }

    #[test]
    fn path_labels_and_query_values_are_percent_encoded() {
        let raw = to_raw(&Request::ListRecords(ListRecordsRequest {
            path: path(),
            last_sync_count: Some(3),
            max_results: None,
            next_token: Some("a+b/c=".into()),
            sync_session_token: None,
        }));
        assert_eq!(raw.method, "GET");
        assert_eq!(
            raw.path_and_query,
            "/identitypools/us-east-1%3Aabc/identities/us-east-1%3Adef/datasets/a%3Ab/records\
             ?lastSyncCount=3&nextToken=a%2Bb%2Fc%3D"
        );
        assert!(raw.body.is_empty());
    }

    #[test]
    fn update_records_sends_a_json_body_and_the_client_context_header() {
        let raw = to_raw(&Request::UpdateRecords(UpdateRecordsRequest {
            path: path(),
            client_context: Some("ctx".into()),
            body: UpdateRecordsBody {
                sync_session_token: Some("t".into()),
                ..Default::default()
            },
        }));
        assert_eq!(raw.method, "POST");
        assert_eq!(raw.body, br#"{"SyncSessionToken":"t"}"#);
        assert!(
            raw.headers
                .contains(&(CLIENT_CONTEXT_HEADER.to_owned(), "ctx".to_owned()))
        );
    }

    #[test]
    fn error_answers_are_read_from_the_error_type_header() {
        let response = RawResponse {
            status: 409,
            headers: vec![(
                ERROR_TYPE_HEADER.to_owned(),
                "ResourceConflictException".to_owned(),
            )],
            body: br#"{"message":"Current SyncCount for: k is: 1 not: 0"}"#.to_vec(),
        };
        let Reply::<serde_json::Value>::Error(e) = decode(&response) else {
            panic!("an error reply");
        };
        assert_eq!(e.kind, Some(ErrorKind::ResourceConflict));
        assert_eq!(
            e.body.and_then(|b| b.message).as_deref(),
            Some("Current SyncCount for: k is: 1 not: 0")
        );
    }

    #[test]
    fn garbage_success_bodies_are_trouble_not_panics() {
        let json = vec![("content-type".to_owned(), "application/json".to_owned())];
        type Headers = Vec<(String, String)>;
        let cases: [(Headers, &[u8]); 4] = [
            (json.clone(), b"not json"),
            (json.clone(), b"[1,2]"),
            (json.clone(), br#"{"Records": "nope"}"#),
            (
                vec![("content-type".to_owned(), "text/html".to_owned())],
                b"{}",
            ),
        ];
        for (headers, body) in cases {
            let reply: Reply<spec::UpdateRecordsResponse> = decode(&RawResponse {
                status: 200,
                headers,
                body: body.to_vec(),
            });
            assert!(matches!(reply, Reply::Broken(_)), "{body:?} is trouble");
        }
    }

    #[test]
    fn the_url_as_sent_is_what_the_http_stack_makes_of_a_raw_path() {
        let endpoint = |base| Endpoint::new(base, EndpointOptions::default()).expect("endpoint");
        let plain = endpoint("http://127.0.0.1:9");
        let kept = "/identitypools/us-east-1:a/identities/us-east-1%3a/datasets/a%2Fb%zz?q=[1]";
        assert_eq!(
            plain.url_as_sent(kept),
            Some(format!("http://127.0.0.1:9{kept}"))
        );
        assert_eq!(
            plain.url_as_sent("/identitypools/p/../x/./y"),
            Some("http://127.0.0.1:9/identitypools/x/y".to_owned())
        );
        let prefixed = endpoint("http://127.0.0.1:9/stage/");
        assert_eq!(
            prefixed.url_as_sent("/identitypools/p?maxResults=1"),
            Some("http://127.0.0.1:9/stage/identitypools/p?maxResults=1".to_owned())
        );
    }

    #[test]
    fn exchanges_keep_the_exact_bytes_of_a_body_that_is_not_utf8() {
        let exchange = |body: &[u8]| Exchange {
            method: "POST".to_owned(),
            url: "http://127.0.0.1:9/".to_owned(),
            request_headers: Vec::new(),
            request_body: String::from_utf8_lossy(body).into_owned(),
            request_body_base64: base64_unless_utf8(body),
            status: None,
            response_headers: Vec::new(),
            response_body: String::new(),
            elapsed_ms: 0.0,
        };
        let binary = exchange(b"{\"a\":\"\xff\0\"}");
        assert_eq!(binary.request_bytes(), b"{\"a\":\"\xff\0\"}");
        let text = exchange("{\"a\":\"ü\"}".as_bytes());
        assert_eq!(text.request_body_base64, None);
        let json = serde_json::to_value(&text).expect("JSON");
        assert!(json.get("request_body_base64").is_none(), "{json}");
        assert_eq!(text.request_bytes(), "{\"a\":\"ü\"}".as_bytes());
    }

    #[test]
    fn secrets_are_redacted_in_exchanges() {
        let headers = vec![
            (
                "Authorization".to_owned(),
                "AWS4-HMAC-SHA256 Credential=AKID/...".to_owned(),
            ),
            ("x-amz-date".to_owned(), "20260101T000000Z".to_owned()),
        ];
        let shown = redact(&headers);
        assert_eq!(shown[0].1, "<redacted>");
        assert_eq!(shown[1].1, "20260101T000000Z");
    }
}
