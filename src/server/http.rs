//! The HTTP layer: one handler for every path, so routing, body limits and error bodies are
//! ours and not the framework's defaults.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, ORIGIN};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::cors::CorsPolicy;
use super::fault::Fault;
use super::ops::Service;
use super::parse::{OperationName, RouteMatch, match_route, parse_routed_with};
use super::pool::{PoolRoute, match_pool_route, parse_pool};
use super::rejection::{ErrorWire, Rejection};
use super::variant::Variant;
use crate::spec::{
    CLIENT_CONTEXT_HEADER, CONTENT_TYPE_JSON, ErrorKind, REQUEST_BODY_BYTES_MAX, route_of,
};

/// How late every answer is under the delay-40ms variant.
const VARIANT_DELAY: Duration = Duration::from_millis(40);

/// How much of an oversized or unroutable body is read and thrown away before answering, so
/// the client sees the answer instead of a reset connection; past this the connection is
/// simply closed after the answer.
const DRAIN_BYTES_MAX: usize = 4 * REQUEST_BODY_BYTES_MAX;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
static ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// How long the handler waits for a request's whole body; set per request by the connection
/// layer (a request extension), absent in-process.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyTimeout(pub Duration);

/// What stands in front of [`handle`]: CORS and the body timeout.
#[derive(Debug)]
pub(super) struct Front {
    pub service: Arc<Service>,
    pub cors: CorsPolicy,
    pub body_timeout: Option<Duration>,
}

impl Front {
    /// Answers one request: a CORS preflight here, anything else through [`handle`], with the
    /// CORS headers of its origin on every answer, errors included.
    pub(super) async fn respond(&self, mut request: Request) -> Response {
        let origin = request.headers().get(ORIGIN).cloned();
        match self.cors.preflight(&request, self.service.variant()) {
            None => {}
            Some(Ok(answer)) => return answer,
            Some(Err(refusal)) => {
                let mut response = error_response(refusal);
                self.cors.decorate(origin.as_ref(), response.headers_mut());
                return response;
            }
        }
        if let Some(timeout) = self.body_timeout {
            request.extensions_mut().insert(BodyTimeout(timeout));
        }
        let mut response = handle(&self.service, request).await;
        self.cors.decorate(origin.as_ref(), response.headers_mut());
        response
    }
}

/// The router of the reference server: every request goes to [`handle`].
pub fn router(service: Arc<Service>) -> Router {
    router_of(Front {
        service,
        cors: CorsPolicy::Off,
        body_timeout: None,
    })
}

pub(super) fn router_of(front: Front) -> Router {
    Router::new().fallback(handler).with_state(Arc::new(front))
}

async fn handler(State(front): State<Arc<Front>>, request: Request) -> Response {
    front.respond(request).await
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
    // hyper ends a keep-alive connection after an answer that says so.
    if service.variant() == Some(Variant::ConnectionClose) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    let delay = answer_delay(service);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

/// How late an answer is sent: `serve --latency`, plus the delay-40ms variant's 40 ms.
fn answer_delay(service: &Service) -> Duration {
    let variant = if service.variant() == Some(Variant::Delay40ms) {
        VARIANT_DELAY
    } else {
        Duration::ZERO
    };
    service.latency() + variant
}

async fn answer(service: &Service, request: Request) -> Response {
    let variant = service.variant();
    let refuse = |rejection: Rejection| error_response(rejection.wire(variant));
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let body_timeout = parts.extensions.get::<BodyTimeout>().map(|t| t.0);
    // The eleven pool-level operations are served unless a variant leaves them out.
    let serves_pool_operations = !matches!(
        variant,
        Some(Variant::OtherOperations403 | Variant::OtherOperations404)
    );
    let route = match match_route(method, path) {
        Some(route) => Routed::Dataset(route),
        None => match match_pool_route(method, path).filter(|_| serves_pool_operations) {
            Some(route) => Routed::Pool(route),
            None => {
                let drained = within(body_timeout, drain(body, DRAIN_BYTES_MAX)).await;
                return closing_if(
                    drained.is_none(),
                    error_response(unrouted(variant, method, path)),
                );
            }
        },
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
        if !expects_continue
            && within(body_timeout, drain(body, DRAIN_BYTES_MAX))
                .await
                .is_none()
        {
            return closing_if(true, refuse(too_large(variant)));
        }
        Err(BodyError::TooLarge)
    } else {
        within(body_timeout, read_body(body, REQUEST_BODY_BYTES_MAX))
            .await
            .unwrap_or(Err(BodyError::TimedOut))
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return refuse(too_large(variant)),
        Err(BodyError::Broken) => {
            return refuse(Rejection::serialization("Request body could not be read"));
        }
        Err(BodyError::TimedOut) => {
            let wait = body_timeout.unwrap_or_default();
            return closing_if(true, error_response(body_timed_out(wait)));
        }
    };
    let route = match route {
        Routed::Dataset(route) => route,
        Routed::Pool(route) => {
            let parsed = parse_pool(route, parts.uri.query(), &bytes, service.fault(), variant);
            drop(bytes);
            return match parsed.and_then(|parsed| service.execute_pool(parsed)) {
                Ok(json) => json_response(StatusCode::OK, success_body(service, json)),
                Err(rejection) => refuse(rejection),
            };
        }
    };
    // A bad x-amz-Client-Context is a step-5 refusal: after the shape and constraint checks.
    let (client_context, context_refused) = match parts.headers.get(CLIENT_CONTEXT_HEADER) {
        None => (None, None),
        Some(value)
            if route.operation == OperationName::UpdateRecords
                && variant != Some(Variant::ClientContextIgnored) =>
        {
            match client_context(value.as_bytes()) {
                Ok(context) => (Some(context), None),
                Err(rejection) => (None, Some(rejection)),
            }
        }
        // Only UpdateRecords has the header; elsewhere it is ignored as any unknown header
        // (and by the client-context-ignored variant everywhere).
        Some(value) => (
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            None,
        ),
    };
    let parsed = match parse_routed_with(
        route,
        parts.uri.query(),
        client_context,
        &bytes,
        service.fault(),
        variant,
    ) {
        Ok(parsed) => parsed,
        Err(rejection) => return refuse(rejection),
    };
    if let Some(rejection) = context_refused {
        return refuse(rejection);
    }
    drop(bytes);
    match service.execute_with_trigger(parsed).await {
        Ok(json) => json_response(StatusCode::OK, success_body(service, json)),
        Err(rejection) => refuse(rejection),
    }
}

/// What step 1 found: a route of the dataset API or one of the eleven pool-level operations.
enum Routed<'a> {
    Dataset(RouteMatch<'a>),
    Pool(PoolRoute<'a>),
}

/// Step 1's refusal: nothing of the dataset API lives at (method, path). Two variants answer
/// as other services do: the service's other operations as not authorized, paths outside the
/// service's route table as API Gateway does.
fn unrouted(variant: Option<Variant>, method: &str, path: &str) -> ErrorWire {
    match (variant, route_of(method, path)) {
        (Some(Variant::OtherOperations403), Some(route)) if !route.modelled => Rejection::new(
            ErrorKind::NotAuthorized,
            format!("{} is not available on this endpoint", route.operation),
        )
        .wire(variant),
        (Some(Variant::UnknownRoute403), None) => ErrorWire::missing_authentication_token(),
        _ => Rejection::unknown_operation(method, path).wire(variant),
    }
}

/// UpdateRecords' `x-amz-Client-Context` is base64 of UTF-8 text (AMB-CLIENT-CONTEXT): one
/// that is not is refused 400 InvalidParameterException naming the header. Padding is optional.
fn client_context(value: &[u8]) -> Result<String, Rejection> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let refused =
        |why: &str| Rejection::invalid_parameter(format!("{CLIENT_CONTEXT_HEADER} {why}"));
    let decoded = LENIENT
        .decode(value.trim_ascii())
        .map_err(|_| refused("is not valid base64"))?;
    String::from_utf8(decoded).map_err(|_| refused("does not decode to UTF-8 text"))?;
    // The parser keeps the header as sent: a server passes it on, it does not read it.
    Ok(String::from_utf8_lossy(value).into_owned())
}

/// Runs `work` within `limit`, if there is one; `None` when it ran out.
async fn within<T>(limit: Option<Duration>, work: impl Future<Output = T>) -> Option<T> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        None => Some(work.await),
    }
}

/// An answer after which the connection is closed (the body was not read to its end in time).
fn closing_if(close: bool, mut response: Response) -> Response {
    if close {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A body that did not arrive within the body timeout: 408, in the ERR-1 shape.
pub(super) fn body_timed_out(wait: Duration) -> ErrorWire {
    ErrorWire::http_layer(
        408,
        REQUEST_TIMEOUT_TYPE,
        format!("The request body did not arrive within {wait:?}"),
    )
}

/// The shape named in 408 answers; not a shape of this service.
pub(super) const REQUEST_TIMEOUT_TYPE: &str = "RequestTimeoutException";

/// Step 2's refusal; the huge-body-400 variant treats the body as one it cannot read.
fn too_large(variant: Option<Variant>) -> Rejection {
    if variant == Some(Variant::HugeBody400) {
        return Rejection::serialization(format!(
            "Request body is larger than {REQUEST_BODY_BYTES_MAX} bytes"
        ));
    }
    Rejection::too_large(REQUEST_BODY_BYTES_MAX)
}

/// The success body as sent: the operations' JSON, with the members the timestamps fault and
/// the last-modified-by-absent and integer-dates variants rewrite.
fn success_body(service: &Service, json: Vec<u8>) -> Vec<u8> {
    let json = if service.fault_is(Fault::TimestampsAsStrings) {
        edit_members(json, |name, member| {
            if let Some(secs) = member.as_f64().filter(|_| name.ends_with("Date")) {
                *member = Value::String(iso_8601(secs));
            }
            true
        })
    } else {
        json
    };
    match service.variant() {
        Some(Variant::LastModifiedByAbsent) => {
            edit_members(json, |name, _| name != "LastModifiedBy")
        }
        // The client's DeviceLastModifiedDate is echoed as sent (UR-9).
        Some(Variant::IntegerDates) => edit_members(json, |name, member| {
            if let Some(secs) = member
                .as_f64()
                .filter(|_| matches!(name, "CreationDate" | "LastModifiedDate"))
            {
                *member = Value::from(secs.floor() as i64);
            }
            true
        }),
        _ => json,
    }
}

/// Calls `edit(name, member)` on every object member of a JSON document, depth first;
/// `false` drops the member.
fn edit_members(json: Vec<u8>, edit: impl Fn(&str, &mut Value) -> bool) -> Vec<u8> {
    fn walk(value: &mut Value, edit: &dyn Fn(&str, &mut Value) -> bool) {
        match value {
            Value::Object(members) => members.retain(|name, member| {
                let keep = edit(name, member);
                if keep {
                    walk(member, edit);
                }
                keep
            }),
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, edit)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&json) else {
        return json;
    };
    walk(&mut value, &edit);
    serde_json::to_vec(&value).unwrap_or(json)
}

enum BodyError {
    TooLarge,
    Broken,
    TimedOut,
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
pub(super) fn request_id() -> HeaderValue {
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

/// ERR-1: status of the shape, `x-amzn-ErrorType`, JSON body (see [`Rejection::wire`]).
pub(super) fn error_response(wire: ErrorWire) -> Response {
    let status = StatusCode::from_u16(wire.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, wire.body);
    let error_type = HeaderValue::from_str(&wire.error_type)
        .unwrap_or(HeaderValue::from_static("InternalErrorException"));
    response
        .headers_mut()
        .insert(ERROR_TYPE.clone(), error_type);
    response
}

/// The timestamps-as-strings fault's date format: epoch seconds as an ISO-8601 string
/// (`2023-11-14T22:13:20.000Z`).
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
