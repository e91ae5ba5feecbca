//! The HTTP layer: one handler for every path, so routing, body limits and error bodies are
//! ours and not the framework's defaults.

use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, EXPECT};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use super::fault::Fault;
use super::ops::Service;
use super::parse::{match_route, parse_routed_with_fault};
use super::rejection::Rejection;
use crate::spec::{CLIENT_CONTEXT_HEADER, CONTENT_TYPE_JSON, REQUEST_BODY_BYTES_MAX};

/// How much of an oversized or unroutable body is read and thrown away before answering, so
/// the client sees the answer instead of a reset connection; past this the connection is
/// simply closed after the answer.
const DRAIN_BYTES_MAX: usize = 4 * REQUEST_BODY_BYTES_MAX;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
static ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// The router of the reference server: every request goes to [`handle`].
pub fn router(service: Arc<Service>) -> Router {
    Router::new().fallback(handler).with_state(service)
}

async fn handler(State(service): State<Arc<Service>>, request: Request) -> Response {
    handle(&service, request).await
}

/// Answers one HTTP request; usable in-process without a socket or a router.
pub async fn handle(service: &Service, request: Request) -> Response {
    let mut response = answer(service, request).await;
    if service.fault_is(Fault::ConflictAs400) && response.status() == StatusCode::CONFLICT {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    if service.fault_is(Fault::ErrorTypeHeaderMissing) {
        response.headers_mut().remove(&ERROR_TYPE);
    }
    response
}

async fn answer(service: &Service, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let Some(route) = match_route(method, path) else {
        drain(body, DRAIN_BYTES_MAX).await;
        return error_response(&Rejection::unknown_operation(method, path));
    };
    let declared_too_large = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > REQUEST_BODY_BYTES_MAX as u64);
    let bytes = if declared_too_large {
        // A client waiting for `100 Continue` has sent nothing yet; any other one is sending
        // the body now and would see a reset instead of the 413 if it were not read.
        let expects_continue = parts
            .headers
            .get(EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if !expects_continue {
            drain(body, DRAIN_BYTES_MAX).await;
        }
        Err(BodyError::TooLarge)
    } else {
        read_body(body, REQUEST_BODY_BYTES_MAX).await
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return error_response(&Rejection::too_large(REQUEST_BODY_BYTES_MAX));
        }
        Err(BodyError::Broken) => {
            return error_response(&Rejection::serialization("Request body could not be read"));
        }
    };
    let client_context = parts
        .headers
        .get(CLIENT_CONTEXT_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let parsed = match parse_routed_with_fault(
        route,
        parts.uri.query(),
        client_context,
        &bytes,
        service.fault(),
    ) {
        Ok(parsed) => parsed,
        Err(rejection) => return error_response(&rejection),
    };
    drop(bytes);
    match service.execute(parsed) {
        Ok(json) if service.fault_is(Fault::TimestampsAsStrings) => {
            json_response(StatusCode::OK, timestamps_as_strings(json))
        }
        Ok(json) => json_response(StatusCode::OK, json),
        Err(rejection) => error_response(&rejection),
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

async fn next_frame(body: &mut Body) -> Option<Result<Bytes, ()>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
                // Trailers carry nothing this API uses.
            }
            Err(_) => return Some(Err(())),
        }
    }
}

/// Reads the whole body if it is at most `limit` bytes. An oversized body is never buffered:
/// the rest of it is read and discarded (up to [`DRAIN_BYTES_MAX`]) before the 413.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = next_frame(&mut body).await {
        let data = frame.map_err(|()| BodyError::Broken)?;
        total = total.saturating_add(data.len());
        if total > limit {
            drain(body, DRAIN_BYTES_MAX.saturating_sub(total)).await;
            return Err(BodyError::TooLarge);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(head) => {
                joined.reserve(head.len() + data.len());
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(only) => only,
        None => Bytes::from(joined),
    })
}

/// Reads and discards up to `budget` bytes of a body nobody needs.
async fn drain(mut body: Body, budget: usize) {
    if body.is_end_stream() {
        return;
    }
    let mut seen = 0usize;
    while let Some(Ok(data)) = next_frame(&mut body).await {
        seen = seen.saturating_add(data.len());
        if seen > budget {
            return;
        }
    }
}

/// A random identifier in the shape of a UUID, as AWS services send in `x-amzn-RequestId`.
fn request_id() -> HeaderValue {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    let id = format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    );
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("0"))
}

fn json_response(status: StatusCode, json: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
    headers.insert(REQUEST_ID.clone(), request_id());
    response
}

/// ERR-1: status of the shape, `x-amzn-ErrorType`, JSON body with `message` and `__type`.
pub(crate) fn error_response(rejection: &Rejection) -> Response {
    let status =
        StatusCode::from_u16(rejection.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, rejection.body_json());
    response.headers_mut().insert(
        ERROR_TYPE.clone(),
        HeaderValue::from_static(rejection.kind.type_name()),
    );
    response
}

/// The timestamps-as-strings fault: every date member of a success body rewritten as an
/// ISO-8601 string (`2023-11-14T22:13:20.000Z`).
fn timestamps_as_strings(json: Vec<u8>) -> Vec<u8> {
    fn rewrite(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (name, member) in members.iter_mut() {
                    match member.as_f64() {
                        Some(secs) if name.ends_with("Date") => {
                            *member = serde_json::Value::String(iso_8601(secs));
                        }
                        _ => rewrite(member),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return json;
    };
    rewrite(&mut value);
    serde_json::to_vec(&value).unwrap_or(json)
}

/// Epoch seconds as a UTC ISO-8601 date-time with milliseconds.
fn iso_8601(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as i64;
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}
