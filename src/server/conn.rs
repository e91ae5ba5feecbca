//! The reference server's accept loop: a cap on open connections, per-connection clocks, and
//! refusals of the HTTP layer in the ERR-1 shape.
//!
//! Each connection is served by hyper behind a [`Gate`] that checks request heads and keeps
//! the clocks. Past the cap a connection gets one answer, 429 `TooManyRequestsException` with
//! `Connection: close` and `Retry-After: 1` (the service's own throttling shape, which AWS SDKs
//! retry), and is closed; the others are not disturbed. Connections end with a lingering close
//! (write side first, then the client's last bytes read for a moment), so that a client still
//! sending sees the answer rather than a reset.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, RETRY_AFTER};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::{Instant, timeout, timeout_at};

use super::gate::{Clocks, Gate, HEAD_BYTES_MAX, HEADERS_MAX, Refusal};
use super::http::{Front, REQUEST_TIMEOUT_TYPE, error_response};
use super::rejection::{ErrorWire, Rejection};
use super::variant::Variant;
use crate::spec::ErrorKind;

/// The HTTP layer's settings: clocks, the connection cap and CORS. Build it with
/// `HttpOptions { .., ..Default::default() }`: fields may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// From a request head's first byte to its last; a late head gets 408.
    pub header_timeout: Duration,
    /// For a request's whole body once the server reads it; a late body gets 408.
    pub body_timeout: Duration,
    /// How long a connection may wait for its next request (fresh or kept alive), or for its
    /// client to take some of an answer, before it is closed.
    pub idle_timeout: Duration,
    /// Open connections served at once; `None` derives it from the open-file limit
    /// ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// Origins allowed by CORS (`*` for any, `none` for none); `None`: any origin on a
    /// loopback address, none elsewhere.
    pub cors_origins: Option<Vec<String>>,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            cors_origins: None,
        }
    }
}

/// Connections refused at once past the cap; beyond these a connection is closed unanswered
/// (each refusal holds a descriptor for up to [`LINGER`]).
const REFUSALS_IN_FLIGHT_MAX: usize = 64;
/// How long a closing connection's last bytes are read and dropped.
const LINGER: Duration = Duration::from_secs(1);
/// How many of them.
const LINGER_BYTES_MAX: usize = 256 * 1024;
/// How long writing a refusal may take.
const REFUSAL_WRITE_LIMIT: Duration = Duration::from_secs(2);
/// Pause after `accept` fails for want of descriptors or memory, so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// The default cap never exceeds this, however high the open-file limit.
const CONNECTIONS_DEFAULT_MAX: usize = 16_384;
/// Descriptors kept out of the default cap (at least; an eighth of the limit when larger): the
/// database files, refusals in flight, the runtime's own.
const FD_HEADROOM_MIN: u64 = 128;

/// Raises this process's soft open-file limit to its hard limit (Unix); returns the soft limit
/// in force afterwards, `None` when unlimited or unknown.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            let _ = setrlimit(Resource::Nofile, raised);
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The cap used when none is given: the soft open-file limit less headroom, at most
/// 16,384.
pub fn default_max_connections() -> usize {
    match fd_limit() {
        None => CONNECTIONS_DEFAULT_MAX,
        Some(limit) => {
            let headroom = (limit / 8).max(FD_HEADROOM_MIN);
            let cap = usize::try_from(limit.saturating_sub(headroom)).unwrap_or(usize::MAX);
            cap.clamp(1, CONNECTIONS_DEFAULT_MAX)
        }
    }
}

/// Serves `listener` until `shutdown` completes, then lets every connection finish its
/// in-flight request and returns when all are closed.
pub(super) async fn serve(
    listener: TcpListener,
    front: Arc<Front>,
    options: &HttpOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let cap = options
        .max_connections
        .unwrap_or_else(default_max_connections)
        .max(1);
    let permits = Arc::new(Semaphore::new(cap));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT_MAX));
    let clocks = Clocks {
        header: options.header_timeout,
        body: options.body_timeout,
        idle: options.idle_timeout,
    };
    let mut builder = http1::Builder::new();
    // The gate keeps the clocks; a half-closed client still gets its answer.
    builder
        .half_close(true)
        .keep_alive(true)
        .header_read_timeout(None)
        .max_headers(HEADERS_MAX)
        .max_buf_size(HEAD_BYTES_MAX.max(8192) * 2);
    let (stop, stopped) = watch::channel(false);
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if is_per_connection(&e) => continue,
            Err(_) => {
                // Out of descriptors or memory: the connection waits in the backlog.
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(connection(Connection {
                    stream,
                    front: Arc::clone(&front),
                    builder: builder.clone(),
                    clocks,
                    stopped: stopped.clone(),
                    _alive: alive.clone(),
                    _permit: permit,
                }));
            }
            Err(_) => {
                if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                    let variant = front.service.variant();
                    tokio::spawn(refuse_busy(stream, cap, variant, permit));
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    let _ = all_closed.recv().await;
    Ok(())
}

/// Errors of one incoming connection (it was reset before it was accepted), not of the
/// listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

struct Connection {
    stream: TcpStream,
    front: Arc<Front>,
    builder: http1::Builder,
    clocks: Clocks,
    stopped: watch::Receiver<bool>,
    /// Dropped when the connection ends: the server waits for every one at shutdown.
    _alive: mpsc::Sender<()>,
    /// One place under the cap.
    _permit: OwnedSemaphorePermit,
}

async fn connection(c: Connection) {
    let Connection {
        stream,
        front,
        builder,
        clocks,
        mut stopped,
        _alive,
        _permit,
    } = c;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new(stream, clocks, Arc::clone(&in_flight));
    let service = ConnService {
        front: Arc::clone(&front),
        in_flight,
    };
    let mut conn = builder.serve_connection(TokioIo::new(gate), service);
    let mut stopping = false;
    let ended = loop {
        if !stopping && *stopped.borrow() {
            stopping = true;
            Pin::new(&mut conn).graceful_shutdown();
        }
        let step = tokio::select! {
            ended = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => Some(ended),
            changed = stopped.changed(), if !stopping => {
                if changed.is_err() {
                    stopping = true;
                    Pin::new(&mut conn).graceful_shutdown();
                }
                None
            }
        };
        if let Some(ended) = step {
            break ended;
        }
    };
    let gate = conn.into_parts().io.into_inner();
    // After a hyper error (a broken body) hyper has answered or cannot: the gate says nothing.
    let refusal = ended.is_ok().then(|| gate.refusal().cloned()).flatten();
    let origin = gate.origin().cloned();
    let mut stream = gate.into_stream();
    if let Some(refusal) = refusal {
        let mut response = error_response(refusal_wire(&refusal, front.service.variant()));
        front.cors.decorate(origin.as_ref(), response.headers_mut());
        let _ = timeout(REFUSAL_WRITE_LIMIT, write_closing(&mut stream, response)).await;
    }
    linger_close(stream).await;
}

/// A gate refusal as the client sees it.
fn refusal_wire(refusal: &Refusal, variant: Option<Variant>) -> ErrorWire {
    match refusal {
        Refusal::Malformed(why) => Rejection::serialization(why.clone()).wire(variant),
        Refusal::UriTooLong => ErrorWire::http_layer(
            414,
            "UriTooLongException",
            format!("The request line is longer than {HEAD_BYTES_MAX} bytes"),
        ),
        Refusal::HeadTooLarge => ErrorWire::http_layer(
            431,
            "RequestHeaderFieldsTooLargeException",
            format!(
                "The request head is larger than {HEAD_BYTES_MAX} bytes or has more than \
                 {HEADERS_MAX} header lines"
            ),
        ),
        Refusal::HeadTimeout(wait) => ErrorWire::http_layer(
            408,
            REQUEST_TIMEOUT_TYPE,
            format!("The request head did not arrive within {wait:?}"),
        ),
    }
}

/// The answer past the connection cap.
async fn refuse_busy(
    mut stream: TcpStream,
    cap: usize,
    variant: Option<Variant>,
    _permit: OwnedSemaphorePermit,
) {
    let wire = Rejection::new(
        ErrorKind::TooManyRequests,
        format!(
            "This server has {cap} connections open, its limit (serve --max-connections); \
             try again shortly"
        ),
    )
    .wire(variant);
    let mut response = error_response(wire);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    let _ = timeout(REFUSAL_WRITE_LIMIT, write_closing(&mut stream, response)).await;
    linger_close(stream).await;
}

/// Writes a whole answer whose body is in memory, saying the connection closes after it.
async fn write_closing(stream: &mut TcpStream, response: Response) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(io::Error::other)?;
    let status = parts.status;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        if name == CONNECTION || name == CONTENT_LENGTH {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    head.extend_from_slice(&body);
    stream.write_all(&head).await?;
    stream.flush().await
}

/// Closes the write side, then reads and drops what the client still sends for a moment, so
/// that the answer is not lost to a reset.
async fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 4096];
    let mut seen = 0usize;
    while seen < LINGER_BYTES_MAX {
        match timeout_at(deadline, stream.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => seen += n,
            _ => break,
        }
    }
}

/// hyper's service for one connection: the [`Front`], counting requests in flight so the gate
/// does not take a slow answer for an idle connection.
struct ConnService {
    front: Arc<Front>,
    in_flight: Arc<AtomicUsize>,
}

/// One request in flight, until its answer is ready (or the connection dropped it).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let front = Arc::clone(&self.front);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let busy = InFlight(Arc::clone(&self.in_flight));
        Box::pin(async move {
            let response = front.respond(request.map(Body::new)).await;
            drop(busy);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn the_default_cap_leaves_headroom_below_the_open_file_limit() {
        let cap = default_max_connections();
        assert!(cap >= 1);
        if let Some(limit) = fd_limit() {
            assert!((cap as u64) < limit, "cap {cap}, limit {limit}");
        }
        assert!(cap <= CONNECTIONS_DEFAULT_MAX);
    }

    #[test]
    fn every_gate_refusal_has_the_error_shape() {
        for refusal in [
            Refusal::Malformed("bad".into()),
            Refusal::UriTooLong,
            Refusal::HeadTooLarge,
            Refusal::HeadTimeout(Duration::from_secs(1)),
        ] {
            let wire = refusal_wire(&refusal, None);
            assert!((400..500).contains(&wire.status), "{refusal:?}");
            let body: serde_json::Value = serde_json::from_slice(&wire.body).expect("json");
            assert!(body["message"].is_string(), "{refusal:?}");
            assert!(wire.error_type.ends_with("Exception"), "{refusal:?}");
            assert!(StatusCode::from_u16(wire.status).is_ok());
        }
    }
}
