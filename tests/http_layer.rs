//! The reference server's HTTP layer seen from a raw TCP client on loopback: CORS, the
//! connection clocks and cap, and refusals below the API (bad heads) in the ERR-1 shape.
//! Short clocks keep every test to a second or two; every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use cogsync::server::{HttpOptions, RunningServer, ServerConfig, spawn};
use cogsync::spec::ROUTES;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The longest any single wait in these tests may take.
const WAIT: Duration = Duration::from_secs(5);
const DATASET: &str = "/identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets/ds";
const ORIGIN: &str = "http://localhost:3000";

async fn start_on(addr: &str, http: HttpOptions) -> RunningServer {
    let addr: SocketAddr = addr.parse().expect("address");
    let config = ServerConfig {
        http,
        ..ServerConfig::default()
    };
    spawn(addr, config).await.expect("server starts")
}

async fn start(http: HttpOptions) -> RunningServer {
    start_on("127.0.0.1:0", http).await
}

fn loopback(server: &RunningServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.addr().port()))
}

/// An answer as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// ERR-1: this status, `x-amzn-ErrorType: <shape>`, a JSON body with a message.
    #[track_caller]
    fn assert_error(&self, status: u16, shape: &str) -> Value {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("x-amzn-errortype"), Some(shape), "{self:?}");
        let body: Value = serde_json::from_slice(&self.body).expect("JSON error body");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body
    }
}

/// A raw HTTP/1.1 client connection that keeps what it read past one answer.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Reads more bytes; `false` when the connection ended.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match timeout(WAIT, self.stream.read(&mut chunk))
            .await
            .expect("bytes in time")
        {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads one answer (head and `content-length` body), or `None` if the connection ends
    /// first.
    async fn answer(&mut self) -> Option<Answer> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(len)) = response.parse(&self.buf) {
                let headers: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let status = response.code.expect("status");
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().expect("content-length"));
                while self.buf.len() < len + length {
                    if !self.fill().await {
                        return None;
                    }
                }
                let body = self.buf[len..len + length].to_vec();
                self.buf.drain(..len + length);
                return Some(Answer {
                    status,
                    headers,
                    body,
                });
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Whether the server closes the connection (end of stream or reset) within `wait`.
    async fn closes_within(&mut self, wait: Duration) -> bool {
        assert!(self.buf.is_empty(), "unread bytes before the close");
        let mut chunk = [0u8; 1024];
        match timeout(wait, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) => panic!("unexpected bytes instead of a close"),
            Err(_) => false,
        }
    }
}

/// Sends `bytes` on a new connection and reads one answer.
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let mut client = Client::connect(addr).await;
    client.send(bytes).await;
    client.answer().await.expect("an answer")
}

fn preflight(path: &str, origin: &str, method: &str) -> Vec<u8> {
    format!(
        "OPTIONS {path} HTTP/1.1\r\nhost: a\r\norigin: {origin}\r\n\
         access-control-request-method: {method}\r\n\
         access-control-request-headers: content-type,x-amz-date,x-amz-client-context\r\n\r\n"
    )
    .into_bytes()
}

fn short_clocks() -> HttpOptions {
    HttpOptions {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    }
}

#[tokio::test]
async fn every_route_of_the_service_has_its_preflight_answered_on_loopback() {
    let server = start(HttpOptions::default()).await;
    for route in ROUTES {
        let path = route.template.replace(['{', '}'], "");
        let answer = exchange(loopback(&server), &preflight(&path, ORIGIN, route.method)).await;
        assert_eq!(answer.status, 204, "{}: {answer:?}", route.operation);
        assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
        let methods = answer
            .header("access-control-allow-methods")
            .unwrap_or_default();
        assert!(methods.contains(route.method), "{methods}");
        let allowed = answer
            .header("access-control-allow-headers")
            .unwrap_or_default();
        assert!(allowed.contains("x-amz-client-context"), "{allowed}");
        assert!(answer.header("access-control-max-age").is_some());
        assert!(
            answer
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("vary") && v.contains("origin"))
        );
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_preflight_from_another_origin_or_for_no_route_is_refused_with_the_error_shape() {
    let server = start(HttpOptions {
        cors_origins: Some(vec!["https://app.example".to_owned()]),
        ..HttpOptions::default()
    })
    .await;
    let addr = loopback(&server);
    let refused = exchange(addr, &preflight(DATASET, "https://evil.example", "POST")).await;
    refused.assert_error(403, "NotAuthorizedException");
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let allowed = exchange(addr, &preflight(DATASET, "https://app.example", "POST")).await;
    assert_eq!(allowed.status, 204, "{allowed:?}");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );

    for (path, method) in [("/nowhere", "GET"), (DATASET, "PATCH")] {
        let unrouted = exchange(addr, &preflight(path, "https://app.example", method)).await;
        unrouted.assert_error(404, "UnknownOperationException");
        assert_eq!(
            unrouted.header("access-control-allow-origin"),
            Some("https://app.example")
        );
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn answers_to_an_allowed_origin_carry_cors_headers_errors_included() {
    let server = start(HttpOptions::default()).await;
    let addr = loopback(&server);
    let list = format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\norigin: {ORIGIN}\r\n\r\n");
    let ok = exchange(addr, list.as_bytes()).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let error = exchange(
        addr,
        format!("PATCH {DATASET} HTTP/1.1\r\nhost: a\r\norigin: {ORIGIN}\r\n\r\n").as_bytes(),
    )
    .await;
    error.assert_error(404, "UnknownOperationException");
    for answer in [&ok, &error] {
        assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
        let exposed = answer
            .header("access-control-expose-headers")
            .unwrap_or_default();
        assert!(
            exposed.contains("x-amzn-requestid") && exposed.contains("x-amzn-errortype"),
            "{exposed}"
        );
    }
    let plain = exchange(
        addr,
        format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("access-control-allow-origin"), None);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_server_on_a_network_address_sends_no_cors_headers_unless_asked() {
    let server = start_on("0.0.0.0:0", HttpOptions::default()).await;
    let addr = loopback(&server);
    let list = format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\norigin: {ORIGIN}\r\n\r\n");
    let answer = exchange(addr, list.as_bytes()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), None);
    let refused = exchange(addr, &preflight(DATASET, ORIGIN, "GET")).await;
    refused.assert_error(403, "NotAuthorizedException");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_half_sent_head_is_answered_408_within_the_header_timeout() {
    let server = start(short_clocks()).await;
    let mut stream = Client::connect(loopback(&server)).await;
    stream
        .send(b"GET /identitypools HTTP/1.1\r\nhost: a\r\n")
        .await;
    let answer = stream.answer().await.expect("a 408");
    answer.assert_error(408, "RequestTimeoutException");
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(stream.closes_within(WAIT).await);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_the_connection_closed() {
    let server = start(short_clocks()).await;
    let mut stream = Client::connect(loopback(&server)).await;
    stream
        .send(
            format!("POST {DATASET} HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n{{\"De")
                .as_bytes(),
        )
        .await;
    let answer = stream.answer().await.expect("a 408");
    answer.assert_error(408, "RequestTimeoutException");
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(stream.closes_within(WAIT).await);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn idle_connections_are_closed_fresh_or_kept_alive() {
    let server = start(short_clocks()).await;
    let addr = loopback(&server);
    let mut fresh = Client::connect(addr).await;
    assert!(fresh.closes_within(WAIT).await, "a silent client");
    let mut kept = Client::connect(addr).await;
    kept.send(format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n").as_bytes())
        .await;
    assert_eq!(kept.answer().await.expect("answer").status, 200);
    assert!(kept.closes_within(WAIT).await, "after one request");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_is_refused_cleanly_until_one_closes() {
    let server = start(HttpOptions {
        max_connections: Some(2),
        ..HttpOptions::default()
    })
    .await;
    let addr = loopback(&server);
    let list = format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n");
    let mut first = Client::connect(addr).await;
    let mut second = Client::connect(addr).await;
    // Both are being served (so both hold their place) before the third comes.
    for stream in [&mut first, &mut second] {
        stream.send(list.as_bytes()).await;
        assert_eq!(stream.answer().await.expect("answer").status, 200);
    }
    let mut third = Client::connect(addr).await;
    third.send(list.as_bytes()).await;
    let refused = third.answer().await.expect("a refusal");
    refused.assert_error(429, "TooManyRequestsException");
    assert_eq!(refused.header("connection"), Some("close"));
    assert!(refused.header("retry-after").is_some());
    assert!(third.closes_within(WAIT).await);

    // The kept connections are untouched, and a place frees when one closes.
    second.send(list.as_bytes()).await;
    assert_eq!(second.answer().await.expect("answer").status, 200);
    drop(first);
    let mut served = None;
    for _ in 0..50 {
        let answer = exchange(addr, list.as_bytes()).await;
        if answer.status == 200 {
            served = Some(answer);
            break;
        }
        answer.assert_error(429, "TooManyRequestsException");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served.is_some(),
        "a new client is served once a place is free"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn bad_heads_are_refused_with_the_error_shape() {
    let server = start(HttpOptions::default()).await;
    let addr = loopback(&server);
    let big = "a".repeat(70_000);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            format!("GET / HTTP/1.1\r\nx-big: {big}\r\n\r\n").into_bytes(),
            431,
            "RequestHeaderFieldsTooLargeException",
        ),
        (
            format!("GET /{big} HTTP/1.1\r\n\r\n").into_bytes(),
            414,
            "UriTooLongException",
        ),
        (
            b"GET /identitypools/a\xffb HTTP/1.1\r\nhost: a\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
        (
            format!("POST {DATASET} HTTP/1.1\r\ncontent-length: 1x\r\n\r\n").into_bytes(),
            400,
            "SerializationException",
        ),
        (
            format!("POST {DATASET} HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n").into_bytes(),
            400,
            "SerializationException",
        ),
        (
            b"GET / HTTP/1.1\r\nbad header: 1\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
        (
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
    ];
    for (request, status, shape) in cases {
        let mut stream = Client::connect(addr).await;
        stream.send(&request).await;
        let answer = stream
            .answer()
            .await
            .unwrap_or_else(|| panic!("no answer to {:.80}", String::from_utf8_lossy(&request)));
        answer.assert_error(status, shape);
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(stream.closes_within(WAIT).await);
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_bad_head_after_good_requests_on_one_connection_gets_its_own_refusal() {
    let server = start(HttpOptions::default()).await;
    let mut stream = Client::connect(loopback(&server)).await;
    // A chunked body, a bodiless request, then a bad head, all sent at once.
    let pipelined = format!(
        "POST {DATASET} HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n\
         2\r\n{{}}\r\n0\r\n\r\n\
         GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n\
         GET /a\x01b HTTP/1.1\r\n\r\n"
    );
    stream.send(pipelined.as_bytes()).await;
    let first = stream.answer().await.expect("first answer");
    first.assert_error(400, "ValidationException");
    let second = stream.answer().await.expect("second answer");
    assert_eq!(second.status, 200, "{second:?}");
    let third = stream.answer().await.expect("third answer");
    third.assert_error(400, "SerializationException");
    assert!(stream.closes_within(WAIT).await);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_client_context_that_is_not_base64_of_utf8_is_refused_400() {
    let server = start(HttpOptions::default()).await;
    let addr = loopback(&server);
    let list = exchange(
        addr,
        format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n").as_bytes(),
    )
    .await;
    let listed: Value = serde_json::from_slice(&list.body).expect("json");
    let token = listed["SyncSessionToken"].as_str().expect("token");
    let update = |context: &str| {
        let body = format!(
            r#"{{"SyncSessionToken":"{token}","RecordPatches":[{{"Op":"replace","Key":"k","Value":"v","SyncCount":0}}]}}"#
        );
        format!(
            "POST {DATASET} HTTP/1.1\r\nhost: a\r\nx-amz-Client-Context: {context}\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    for bad in ["%%not-base64%%", "//79", "e30==="] {
        let answer = exchange(addr, &update(bad)).await;
        let body = answer.assert_error(400, "InvalidParameterException");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("x-amz-Client-Context")),
            "{body}"
        );
    }
    // The body's shape is judged first (step 3), the header after (step 5).
    let unreadable = format!(
        "POST {DATASET} HTTP/1.1\r\nhost: a\r\nx-amz-Client-Context: %%\r\n\
         content-length: 3\r\n\r\nnot"
    );
    exchange(addr, unreadable.as_bytes())
        .await
        .assert_error(400, "SerializationException");
    // Nothing was written by the refused requests; a good context is accepted.
    let answer = exchange(addr, &update("eyJjbGllbnQiOnt9fQ==")).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    // Other operations do not have the header: it is ignored there.
    let ignored = exchange(
        addr,
        format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\nx-amz-Client-Context: %%\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(ignored.status, 200);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn shutdown_does_not_wait_for_idle_or_half_sent_connections() {
    let server = start(HttpOptions::default()).await;
    let addr = loopback(&server);
    let _idle = Client::connect(addr).await;
    let mut half = Client::connect(addr).await;
    half.send(b"GET / HTTP/1.1\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown in time")
        .expect("shutdown");
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_served() {
    let server = start(HttpOptions::default()).await;
    let mut client = Client::connect(loopback(&server)).await;
    client.stream.set_nodelay(true).expect("nodelay");
    let head = format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n");
    for byte in head.as_bytes() {
        client.send(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(client.answer().await.expect("answer").status, 200);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_client_that_takes_none_of_its_answers_loses_its_connection_after_the_idle_timeout() {
    let server = start(HttpOptions {
        idle_timeout: Duration::from_millis(500),
        max_connections: Some(1),
        ..HttpOptions::default()
    })
    .await;
    let addr = loopback(&server);
    let mut greedy = Client::connect(addr).await;
    let list = format!("GET {DATASET}/records HTTP/1.1\r\nhost: a\r\n\r\n");
    greedy.send(list.as_bytes()).await;
    let listed: Value =
        serde_json::from_slice(&greedy.answer().await.expect("answer").body).expect("json");
    let token = listed["SyncSessionToken"].as_str().expect("token");
    let body = format!(
        r#"{{"SyncSessionToken":"{token}","RecordPatches":[{{"Op":"replace","Key":"k","Value":"{}","SyncCount":0}}]}}"#,
        "v".repeat(900_000)
    );
    greedy
        .send(
            format!(
                "POST {DATASET} HTTP/1.1\r\nhost: a\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(greedy.answer().await.expect("answer").status, 200);
    // Forty answers of 900 KB each, none of which the client reads: far more than the
    // sockets' buffers hold, so the server's writes stall.
    greedy.send(list.repeat(40).as_bytes()).await;

    // The greedy client holds the only place until the server gives up on it.
    let mut served = false;
    for _ in 0..100 {
        let answer = exchange(addr, list.as_bytes()).await;
        if answer.status == 200 {
            served = true;
            break;
        }
        answer.assert_error(429, "TooManyRequestsException");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served,
        "the stalled connection was closed and its place freed"
    );
    drop(greedy);
    server.shutdown().await.expect("shutdown");
}
