//! The head gate: a connection's bytes pass through here on their way to hyper, and every
//! request head is read and checked first, with the same parser hyper uses.
//!
//! hyper answers a head it cannot read with a bodiless 400, 414 or 431 of its own, and closes
//! a connection whose head is late without any answer. The gate keeps a head until it is
//! complete and sound; one that is not (or that is late) is never shown to hyper: hyper sees
//! the end of the stream instead, finishes what it was doing, and hands the connection back so
//! that [`Refusal`] can be sent with the ERR-1 shape. Bodies pass straight through; the gate
//! follows their framing (content-length or chunked) only to know where the next head starts.
//!
//! The gate also keeps the connection's clocks: the idle wait for a request, the header
//! timeout from a head's first byte, a backstop for bodies nobody reads in time, and the idle
//! timeout again for an answer the client does not take.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, Uri};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The largest request head the server reads: far above the 2–3 KB an AWS SDK sends.
pub const HEAD_BYTES_MAX: usize = 64 * 1024;
/// Header lines per head, as hyper's default.
pub const HEADERS_MAX: usize = 100;
/// How long past the body timeout the gate lets a body trickle in when the handler is not
/// reading it (the handler's own timeout answers 408 first when it is).
const BODY_BACKSTOP: Duration = Duration::from_secs(1);
/// A chunk-size or trailer line longer than this is not followed: the gate stops framing and
/// lets hyper judge the rest of the connection.
const CHUNK_LINE_BYTES_MAX: usize = 4096;
/// Bytes read from the socket at a time while a head is being collected.
const READ_CHUNK_BYTES: usize = 8192;

/// The connection's clocks.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// From a head's first byte to its last.
    pub header: Duration,
    /// For a whole body (the handler's own timeout; the gate adds [`BODY_BACKSTOP`]).
    pub body: Duration,
    /// Waiting for the next request, on a fresh or a kept-alive connection.
    pub idle: Duration,
}

/// Why the gate refused a head; the connection ends with this answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: not an HTTP/1.x request head, or one hyper would refuse.
    Malformed(String),
    /// 414: the request line alone is over [`HEAD_BYTES_MAX`].
    UriTooLong,
    /// 431: the head is over [`HEAD_BYTES_MAX`] or has more than [`HEADERS_MAX`] lines.
    HeadTooLarge,
    /// 408: the head did not arrive within the header timeout.
    HeadTimeout(Duration),
}

/// Where the connection is in its stream of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Between requests: nothing of the next head has arrived.
    Idle,
    /// Part of a head has arrived (held, not shown to hyper).
    Head,
    /// A content-length body with this many bytes still to come.
    Sized(u64),
    /// A chunked body.
    Chunked(Chunk),
    /// The gate no longer follows the framing (a chunked body it could not read); hyper
    /// judges the rest, and will close the connection.
    Opaque,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In a chunk-size line; `len` bytes of it so far, `size` read from its hex digits
    /// (`digits`: at least one; `done`: past them).
    SizeLine {
        len: usize,
        size: u64,
        digits: bool,
        done: bool,
    },
    /// In chunk data with this many bytes to go, then its CRLF.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// In a trailer line (after the last chunk); `len` bytes of it so far.
    Trailer { len: usize },
}

/// A connection's socket as hyper sees it.
pub struct Gate {
    stream: TcpStream,
    /// Bytes read from the socket that hyper has not taken yet.
    held: Vec<u8>,
    /// How many leading bytes of `held` hyper may take (checked heads, body bytes).
    released: usize,
    framing: Framing,
    clocks: Clocks,
    /// Fires at or before `deadline`; moved later only when it fires early, so that the
    /// several clock changes of every request cost no timer-wheel update.
    timer: Pin<Box<Sleep>>,
    /// When the clock of the current state runs out.
    deadline: Instant,
    /// Requests whose answer is being prepared, counted by the service: a connection is not
    /// idle while one is.
    in_flight: Arc<AtomicUsize>,
    refusal: Option<Refusal>,
    /// The stream has ended for hyper (idle timeout, or the client closed between requests).
    ended: bool,
    /// The `Origin` of the head being read, to decorate its refusal.
    origin: Option<HeaderValue>,
    /// How many bytes of the head being read were already searched for its end, so that a
    /// head sent a byte at a time is not parsed again for every byte.
    scanned: usize,
    /// Runs while an answer cannot be written because the client reads none of it.
    write_stall: Option<Pin<Box<Sleep>>>,
}

impl Gate {
    pub fn new(stream: TcpStream, clocks: Clocks, in_flight: Arc<AtomicUsize>) -> Gate {
        Gate {
            stream,
            held: Vec::new(),
            released: 0,
            framing: Framing::Idle,
            clocks,
            timer: Box::pin(tokio::time::sleep(clocks.idle)),
            deadline: Instant::now() + clocks.idle,
            in_flight,
            refusal: None,
            ended: false,
            origin: None,
            scanned: 0,
            write_stall: None,
        }
    }

    /// Why the gate refused a head, if it did.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.refusal.as_ref()
    }

    /// The `Origin` header of the last head this connection sent.
    pub fn origin(&self) -> Option<&HeaderValue> {
        self.origin.as_ref()
    }

    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    fn arm(&mut self, after: Duration) {
        self.deadline = Instant::now() + after;
        if self.deadline < self.timer.deadline() {
            self.timer.as_mut().reset(self.deadline);
        }
    }

    /// Whether the current state's clock has run out; registers the wake-up otherwise.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        while self.timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= self.deadline {
                return true;
            }
            let deadline = self.deadline;
            self.timer.as_mut().reset(deadline);
        }
        false
    }

    fn enter(&mut self, framing: Framing) {
        self.framing = framing;
        match framing {
            Framing::Idle => self.arm(self.clocks.idle),
            Framing::Head => {
                self.origin = None;
                self.scanned = 0;
                self.arm(self.clocks.header);
            }
            Framing::Sized(0) => self.enter(Framing::Idle),
            Framing::Sized(_) | Framing::Chunked(_) => {
                self.arm(self.clocks.body + BODY_BACKSTOP);
            }
            Framing::Opaque => {}
        }
    }

    fn refuse(&mut self, refusal: Refusal) {
        self.refusal = Some(refusal);
    }

    /// Tries to read a complete head from `held`; releases it when it is sound. The head is
    /// parsed once its end has arrived (or it is over the size cap), as hyper does.
    fn check_head(&mut self) {
        let from = self.scanned.saturating_sub(3);
        let ended = head_ends_in(self.held.get(from..).unwrap_or_default());
        self.scanned = self.held.len();
        if !ended {
            if self.held.len() > HEAD_BYTES_MAX {
                self.refuse(self.too_large());
            }
            return;
        }
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&self.held) {
            Ok(httparse::Status::Complete(len)) => {
                if len > HEAD_BYTES_MAX {
                    return self.refuse(self.too_large());
                }
                let origin = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("origin"))
                    .and_then(|h| HeaderValue::from_bytes(h.value).ok());
                self.origin = origin;
                match body_framing(&request) {
                    Ok(framing) => {
                        self.released = len;
                        self.enter(framing);
                    }
                    Err(why) => self.refuse(Refusal::Malformed(why)),
                }
            }
            Ok(httparse::Status::Partial) => {
                if self.held.len() > HEAD_BYTES_MAX {
                    self.refuse(self.too_large());
                }
            }
            Err(httparse::Error::TooManyHeaders) => self.refuse(Refusal::HeadTooLarge),
            Err(err) => self.refuse(Refusal::Malformed(format!(
                "The request head cannot be read as HTTP/1.1 ({})",
                parse_error_words(err)
            ))),
        }
    }

    /// A sized body has `left` bytes to come; the body's clock runs from its head.
    fn body_read(&mut self, left: u64) {
        if left == 0 {
            self.enter(Framing::Idle);
        } else {
            self.framing = Framing::Sized(left);
        }
    }

    /// 414 when the request line alone is too long, else 431.
    fn too_large(&self) -> Refusal {
        match self.held.iter().position(|&b| b == b'\n') {
            Some(end) if end <= HEAD_BYTES_MAX => Refusal::HeadTooLarge,
            _ => Refusal::UriTooLong,
        }
    }

    /// Releases the body bytes in `held`, following the framing up to the next head.
    fn follow_body(&mut self) {
        while self.released < self.held.len() {
            match self.framing {
                Framing::Idle | Framing::Head => return,
                Framing::Opaque => self.released = self.held.len(),
                Framing::Sized(left) => {
                    let here = (self.held.len() - self.released) as u64;
                    let take = left.min(here);
                    self.released += take as usize;
                    self.body_read(left - take);
                }
                Framing::Chunked(state) => {
                    let byte = self.held[self.released];
                    self.released += 1;
                    match next_chunk_state(state, byte) {
                        Some(ChunkStep::Same(state)) => self.framing = Framing::Chunked(state),
                        Some(ChunkStep::End) => self.enter(Framing::Idle),
                        None => self.framing = Framing::Opaque,
                    }
                }
            }
        }
    }

    /// What the timer's firing means now.
    fn on_timer(&mut self) -> Poll<io::Result<()>> {
        match self.framing {
            Framing::Idle if self.in_flight.load(Ordering::Acquire) > 0 => {
                self.arm(self.clocks.idle);
                Poll::Pending
            }
            Framing::Idle => {
                self.ended = true;
                Poll::Ready(Ok(()))
            }
            Framing::Head => {
                self.refuse(Refusal::HeadTimeout(self.clocks.header));
                Poll::Ready(Ok(()))
            }
            Framing::Sized(_) | Framing::Chunked(_) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request body timed out",
            ))),
            Framing::Opaque => Poll::Pending,
        }
    }

    /// Reads once from the socket into `held`.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        let mut buf = ReadBuf::new(&mut chunk);
        ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf))?;
        let got = buf.filled();
        self.held.extend_from_slice(got);
        Poll::Ready(Ok(got.len()))
    }
}

/// Whether a head's end (an empty line) is in `bytes`.
fn head_ends_in(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"\n\n") || bytes.windows(3).any(|w| w == b"\n\r\n")
}

/// The start of a chunk-size line.
const SIZE_LINE: Chunk = Chunk::SizeLine {
    len: 0,
    size: 0,
    digits: false,
    done: false,
};

/// One step of the chunked-body reader.
enum ChunkStep {
    Same(Chunk),
    End,
}

/// Follows a chunked body one byte at a time; `None` when it stops making sense (hyper will
/// refuse it and close the connection).
fn next_chunk_state(state: Chunk, byte: u8) -> Option<ChunkStep> {
    use ChunkStep::{End, Same};
    Some(match state {
        Chunk::SizeLine {
            len,
            size,
            digits,
            done,
        } => {
            if len >= CHUNK_LINE_BYTES_MAX {
                return None;
            }
            let next = |size, digits, done| {
                Same(Chunk::SizeLine {
                    len: len + 1,
                    size,
                    digits,
                    done,
                })
            };
            match (byte, (byte as char).to_digit(16)) {
                (b'\n', _) if !digits => return None,
                (b'\n', _) if size == 0 => Same(Chunk::Trailer { len: 0 }),
                (b'\n', _) => Same(Chunk::Data(size)),
                // The size's hex digits come first; extensions and the CR after them.
                (_, Some(d)) if !done => next(
                    size.checked_mul(16)?.checked_add(u64::from(d))?,
                    true,
                    false,
                ),
                _ => next(size, digits, true),
            }
        }
        Chunk::Data(left) => {
            if left > 1 {
                Same(Chunk::Data(left - 1))
            } else {
                Same(Chunk::DataEnd)
            }
        }
        Chunk::DataEnd => match byte {
            b'\r' => Same(Chunk::DataEnd),
            b'\n' => Same(SIZE_LINE),
            _ => return None,
        },
        Chunk::Trailer { len } => {
            if len >= CHUNK_LINE_BYTES_MAX {
                return None;
            }
            match byte {
                b'\n' if len == 0 => End,
                b'\n' => Same(Chunk::Trailer { len: 0 }),
                // A CR before the LF does not make the line non-empty.
                b'\r' => Same(Chunk::Trailer { len }),
                _ => Same(Chunk::Trailer { len: len + 1 }),
            }
        }
    })
}

/// What follows a sound head, by the rules hyper applies (RFC 9112 §6): the last
/// `Transfer-Encoding` must end in `chunked` (and HTTP/1.0 has none); every `Content-Length`
/// must be the same number. Anything else is the 400 hyper would send.
fn body_framing(request: &httparse::Request<'_, '_>) -> Result<Framing, String> {
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err("The request line is incomplete".to_owned());
    };
    Method::from_bytes(method.as_bytes()).map_err(|_| format!("Bad method {method:?}"))?;
    if Uri::try_from(target.as_bytes()).is_err() {
        return Err(format!(
            "The request target {} is not a valid URI",
            shown(target.as_bytes())
        ));
    }
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for header in request.headers.iter() {
        HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| format!("Bad header name {:?}", header.name))?;
        HeaderValue::from_bytes(header.value)
            .map_err(|_| format!("Bad value for header {}", header.name))?;
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if version == 0 {
                return Err("HTTP/1.0 requests cannot have a Transfer-Encoding".to_owned());
            }
            let last = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim);
            chunked = Some(last.is_some_and(|c| c.eq_ignore_ascii_case("chunked")));
        } else if header.name.eq_ignore_ascii_case("content-length") && chunked.is_none() {
            let n = digits(header.value)
                .ok_or_else(|| format!("Content-Length {} is not a number", shown(header.value)))?;
            if length.is_some_and(|m| m != n) {
                return Err("Content-Length headers disagree".to_owned());
            }
            length = Some(n);
        }
    }
    Ok(match (chunked, length) {
        (Some(false), _) => {
            return Err("Transfer-Encoding must end in chunked".to_owned());
        }
        (Some(true), _) => Framing::Chunked(SIZE_LINE),
        (None, Some(n)) => Framing::Sized(n),
        (None, None) => Framing::Sized(0),
    })
}

/// A decimal number of ASCII digits and nothing else, as hyper reads `Content-Length`.
fn digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(10)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Client bytes in a message: printable ASCII kept, the rest escaped, and cut short.
fn shown(bytes: &[u8]) -> String {
    const SHOWN: usize = 120;
    let mut out = String::from("\"");
    for &b in bytes.iter().take(SHOWN) {
        out.extend(std::ascii::escape_default(b).map(char::from));
    }
    if bytes.len() > SHOWN {
        out.push_str("...");
    }
    out.push('"');
    out
}

fn parse_error_words(err: httparse::Error) -> &'static str {
    match err {
        httparse::Error::HeaderName => "a bad header name",
        httparse::Error::HeaderValue => "a bad header value",
        httparse::Error::NewLine => "a bad line ending",
        httparse::Error::Status => "a bad status",
        httparse::Error::Token => "a bad byte in the method or the request target",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "not HTTP/1.0 or HTTP/1.1",
    }
}

impl AsyncRead for Gate {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.released > 0 {
                let n = this.released.min(out.remaining());
                out.put_slice(&this.held[..n]);
                this.held.drain(..n);
                this.released -= n;
                return Poll::Ready(Ok(()));
            }
            if this.refusal.is_some() || this.ended {
                return Poll::Ready(Ok(()));
            }
            match this.framing {
                Framing::Idle | Framing::Head if !this.held.is_empty() => {
                    if this.framing == Framing::Idle {
                        this.enter(Framing::Head);
                    }
                    this.check_head();
                    if this.released > 0 || this.refusal.is_some() {
                        continue;
                    }
                }
                Framing::Sized(_) | Framing::Chunked(_) | Framing::Opaque
                    if !this.held.is_empty() =>
                {
                    this.follow_body();
                    continue;
                }
                _ => {}
            }
            // Nothing held that hyper may take: read the socket.
            let read = match this.framing {
                Framing::Sized(left) if this.held.is_empty() => {
                    // Straight into hyper's buffer, never past the body's end.
                    let room = out
                        .remaining()
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    let before = out.filled().len();
                    let mut limited = ReadBuf::new(out.initialize_unfilled_to(room));
                    match Pin::new(&mut this.stream).poll_read(cx, &mut limited) {
                        Poll::Ready(Ok(())) => {
                            let n = limited.filled().len();
                            out.advance(n);
                            debug_assert_eq!(out.filled().len(), before + n);
                            if n == 0 {
                                // The client ended mid-body: hyper sees an incomplete body.
                                this.ended = true;
                            }
                            this.body_read(left - n as u64);
                            return Poll::Ready(Ok(()));
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => Poll::Pending,
                    }
                }
                Framing::Opaque => return Pin::new(&mut this.stream).poll_read(cx, out),
                _ => this.fill(cx),
            };
            match read {
                Poll::Ready(Ok(0)) => {
                    if this.framing == Framing::Head {
                        this.refuse(Refusal::Malformed(
                            "The connection was closed for sending in the middle of a request head"
                                .to_owned(),
                        ));
                    } else {
                        this.ended = true;
                    }
                    // An end in a body reaches hyper as an incomplete body.
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(_)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if this.timed_out(cx) {
                        match this.on_timer() {
                            Poll::Ready(result) => return Poll::Ready(result),
                            Poll::Pending => {
                                // Re-armed: register the new wake-up.
                                let _ = this.timed_out(cx);
                            }
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Gate {
    /// After a write: on progress the write clock stops (and an idle connection's wait starts
    /// again); while the client takes none of the answer, the write clock runs for the idle
    /// timeout, then the connection fails.
    fn after_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match written {
            Poll::Ready(result) => {
                self.write_stall = None;
                if result.is_ok() && self.framing == Framing::Idle {
                    self.arm(self.clocks.idle);
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                let idle = self.clocks.idle;
                let stall = self
                    .write_stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if stall.as_mut().poll(cx).is_ready() {
                    self.write_stall = None;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client took none of the answer within the idle timeout",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Gate {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        this.after_write(cx, flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing_of(head: &[u8]) -> Result<Framing, String> {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut request = httparse::Request::new(&mut headers);
        assert!(matches!(
            request.parse(head),
            Ok(httparse::Status::Complete(_))
        ));
        body_framing(&request)
    }

    #[test]
    fn heads_are_framed_as_hyper_frames_them() {
        assert_eq!(
            framing_of(b"POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\n"),
            Ok(Framing::Sized(12))
        );
        assert_eq!(framing_of(b"GET / HTTP/1.1\r\n\r\n"), Ok(Framing::Sized(0)));
        assert!(matches!(
            framing_of(
                b"POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n"
            ),
            Ok(Framing::Chunked(_))
        ));
        for bad in [
            &b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\ncontent-length: +1\r\n\r\n",
            b"POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n",
        ] {
            assert!(framing_of(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_chunked_body_ends_where_its_last_chunk_and_trailers_end() {
        let body = b"5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\nGET";
        let mut state = SIZE_LINE;
        let mut end = None;
        for (at, &byte) in body.iter().enumerate() {
            match next_chunk_state(state, byte) {
                Some(ChunkStep::Same(next)) => state = next,
                Some(ChunkStep::End) => {
                    end = Some(at + 1);
                    break;
                }
                None => panic!("lost at byte {at}"),
            }
        }
        assert_eq!(end, Some(body.len() - 3));
        assert!(next_chunk_state(SIZE_LINE, b'\n').is_none());
    }
}
