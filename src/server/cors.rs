//! CORS, so that a browser page on another origin (amazon-cognito-js is a browser library
//! first) can use the reference server.
//!
//! Which origins are allowed comes from `serve --cors-origin` (repeatable, `*` for any,
//! `none` for CORS off). Without it, a server bound to a loopback address allows any origin (it
//! is a local stand-in that checks no signatures anyway) and any other server allows none.
//! A preflight is answered for every route of the service's route table (all 17 operations);
//! one from an origin not allowed is refused 403 `NotAuthorizedException`, one for a method and
//! path that is no route 404 `UnknownOperationException`, both in the ERR-1 shape.

use std::net::IpAddr;

use axum::body::Body;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;

use super::rejection::{ErrorWire, Rejection};
use super::variant::Variant;
use crate::spec::{ErrorKind, ROUTES, route_of};

/// The headers AWS SDKs (JavaScript v2 and v3, amazon-cognito-js) send, allowed when a
/// preflight does not list the ones it wants.
pub const ALLOWED_HEADERS: &str = "authorization, content-type, x-amz-date, \
     x-amz-security-token, x-amz-user-agent, x-amz-client-context, amz-sdk-invocation-id, \
     amz-sdk-request, x-amz-content-sha256, x-amz-target";
/// The answer headers a page may read: the request id and the error type (ERR-1).
pub const EXPOSED_HEADERS: &str = "x-amzn-requestid, x-amzn-errortype";
/// How long a browser may cache a preflight's answer, in seconds.
pub const MAX_AGE_SECS: u32 = 600;

/// Which origins a server answers with CORS headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsPolicy {
    /// No CORS headers; every preflight is refused.
    #[default]
    Off,
    /// Every origin.
    Any,
    /// These origins exactly (`scheme://host[:port]`, as browsers send `Origin`).
    Listed(Vec<String>),
}

impl CorsPolicy {
    /// The policy of a server bound to `ip`, given the `--cors-origin` values (`None`: the flag
    /// was not given).
    pub fn for_bind(ip: IpAddr, configured: Option<&[String]>) -> CorsPolicy {
        match configured {
            None if ip.is_loopback() => CorsPolicy::Any,
            None => CorsPolicy::Off,
            Some(origins) if origins.iter().any(|o| o.trim() == "*") => CorsPolicy::Any,
            Some(origins) => {
                let listed: Vec<String> = origins
                    .iter()
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case("none"))
                    .collect();
                if listed.is_empty() {
                    CorsPolicy::Off
                } else {
                    CorsPolicy::Listed(listed)
                }
            }
        }
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        match self {
            CorsPolicy::Off => false,
            CorsPolicy::Any => true,
            CorsPolicy::Listed(origins) => origin.to_str().is_ok_and(|o| {
                origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(o))
            }),
        }
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or the refusal to send in the ERR-1 shape; `None` for
    /// any other request.
    pub fn preflight<B>(
        &self,
        request: &Request<B>,
        variant: Option<Variant>,
    ) -> Option<Result<Response, ErrorWire>> {
        if request.method() != Method::OPTIONS {
            return None;
        }
        let headers = request.headers();
        let origin = headers.get(ORIGIN)?;
        let wanted = headers.get(ACCESS_CONTROL_REQUEST_METHOD)?;
        let path = request.uri().path();
        if !self.allows(origin) {
            let shown = String::from_utf8_lossy(origin.as_bytes());
            let wire = Rejection::new(
                ErrorKind::NotAuthorized,
                format!(
                    "Origin {shown} is not allowed by this endpoint (serve --cors-origin ORIGIN)"
                ),
            )
            .wire(variant);
            return Some(Err(wire));
        }
        let wanted = wanted.to_str().unwrap_or_default();
        if route_of(wanted, path).is_none() {
            return Some(Err(Rejection::unknown_operation(wanted, path).wire(variant)));
        }
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let out = response.headers_mut();
        self.decorate(Some(origin), out);
        let methods: Vec<&str> = ROUTES
            .iter()
            .filter(|r| route_of(r.method, path).is_some())
            .map(|r| r.method)
            .fold(Vec::new(), |mut seen, m| {
                if !seen.contains(&m) {
                    seen.push(m);
                }
                seen
            });
        if let Ok(methods) = HeaderValue::from_str(&methods.join(", ")) {
            out.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
        }
        let allowed_headers = headers
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS));
        out.insert(ACCESS_CONTROL_ALLOW_HEADERS, allowed_headers);
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(MAX_AGE_SECS));
        out.append(
            VARY,
            HeaderValue::from_static(
                "access-control-request-method, access-control-request-headers",
            ),
        );
        Some(Ok(response))
    }

    /// Adds the CORS headers of an answer to a request from `origin` (none when CORS is off).
    pub fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if *self == CorsPolicy::Off {
            return;
        }
        // The answer depends on the request's Origin, so caches must key on it.
        headers.append(VARY, HeaderValue::from_static("origin"));
        if let Some(origin) = origin.filter(|o| self.allows(o)) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn loopback_allows_any_origin_by_default_and_other_binds_none() {
        let loopback: IpAddr = [127, 0, 0, 1].into();
        let any: IpAddr = [0, 0, 0, 0].into();
        let lan: IpAddr = [192, 168, 1, 9].into();
        assert_eq!(CorsPolicy::for_bind(loopback, None), CorsPolicy::Any);
        assert_eq!(
            CorsPolicy::for_bind(std::net::Ipv6Addr::LOCALHOST.into(), None),
            CorsPolicy::Any
        );
        assert_eq!(CorsPolicy::for_bind(any, None), CorsPolicy::Off);
        assert_eq!(CorsPolicy::for_bind(lan, None), CorsPolicy::Off);
        let listed = origins(&["https://app.example/", "http://localhost:3000"]);
        assert_eq!(
            CorsPolicy::for_bind(lan, Some(&listed)),
            CorsPolicy::Listed(origins(&["https://app.example", "http://localhost:3000"]))
        );
        assert_eq!(
            CorsPolicy::for_bind(lan, Some(&origins(&["https://a", "*"]))),
            CorsPolicy::Any
        );
        assert_eq!(
            CorsPolicy::for_bind(loopback, Some(&origins(&["none"]))),
            CorsPolicy::Off
        );
    }

    #[test]
    fn no_cors_headers_when_off() {
        let mut headers = HeaderMap::new();
        let origin = HeaderValue::from_static("https://app.example");
        CorsPolicy::Off.decorate(Some(&origin), &mut headers);
        assert!(headers.is_empty());
        let request = Request::options("/identitypools")
            .header(ORIGIN, "https://app.example")
            .header(ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(())
            .expect("request");
        let refused = CorsPolicy::Off.preflight(&request, None).expect("answered");
        assert!(matches!(refused, Err(ErrorWire { status: 403, .. })));
    }

    #[test]
    fn listed_origins_are_matched_exactly() {
        let policy = CorsPolicy::Listed(origins(&["https://app.example"]));
        let mut headers = HeaderMap::new();
        policy.decorate(
            Some(&HeaderValue::from_static("https://app.example.evil")),
            &mut headers,
        );
        assert!(headers.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(
            headers.get(VARY).map(HeaderValue::as_bytes),
            Some(&b"origin"[..])
        );
        policy.decorate(
            Some(&HeaderValue::from_static("https://app.example")),
            &mut headers,
        );
        assert_eq!(
            headers
                .get(ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(HeaderValue::as_bytes),
            Some(&b"https://app.example"[..])
        );
    }

    #[test]
    fn every_route_of_the_service_has_a_preflight() {
        let policy = CorsPolicy::Any;
        for route in ROUTES {
            let path = route.template.replace(['{', '}'], "");
            let request = Request::options(path.as_str())
                .header(ORIGIN, "http://localhost:3000")
                .header(ACCESS_CONTROL_REQUEST_METHOD, route.method)
                .body(())
                .expect("request");
            let answer = policy
                .preflight(&request, None)
                .expect("answered")
                .expect("allowed");
            assert_eq!(
                answer.status(),
                StatusCode::NO_CONTENT,
                "{}",
                route.operation
            );
            let methods = answer
                .headers()
                .get(ACCESS_CONTROL_ALLOW_METHODS)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                methods.contains(route.method),
                "{}: {methods}",
                route.operation
            );
        }
    }
}
