//! The `parse_request` and `json_body` targets: raw bytes into the server's request parser.
//!
//! `parse_request` reads its input as a small HTTP/1-like text, so seeds are readable requests
//! and the fuzzer's dictionary words land where they mean something:
//!
//! ```text
//! METHOD SP PATH[?QUERY] LF
//! (NAME: VALUE LF)*
//! LF
//! BODY (any bytes)
//! ```
//!
//! Every byte string is some request (missing parts are empty). Properties: the parser never
//! panics; an accepted request, serialised as a client would send it, parses back to the same
//! value; and what it keeps is never larger than what it read.

use std::borrow::Cow;

use crate::client::to_raw;
use crate::server::pool::{match_pool_route, parse_pool};
use crate::server::{ParsedRequest, parse_request};
use crate::spec;

/// A request split from fuzz bytes. The request line's parts borrow from the input when it is
/// UTF-8 (the usual case): every allocation counts in the executions per second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParts<'a> {
    pub method: Cow<'a, str>,
    pub path: Cow<'a, str>,
    pub query: Option<Cow<'a, str>>,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

fn next_line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    if rest.is_empty() {
        return None;
    }
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = &rest[..end];
    *rest = rest.get(end + 1..).unwrap_or(&[]);
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

/// `METHOD SP PATH[?QUERY]` split into its three parts.
fn split_request_line(line: &str) -> (&str, &str, Option<&str>) {
    let (method, target) = line.split_once(' ').unwrap_or((line, ""));
    match target.split_once('?') {
        Some((path, query)) => (method, path, Some(query)),
        None => (method, target, None),
    }
}

/// Splits fuzz bytes into the parts `parse_request` takes.
pub fn split(data: &[u8]) -> RawParts<'_> {
    let mut rest = data;
    let (method, path, query) = match String::from_utf8_lossy(next_line(&mut rest).unwrap_or(&[])) {
        Cow::Borrowed(line) => {
            let (method, path, query) = split_request_line(line);
            (
                Cow::Borrowed(method),
                Cow::Borrowed(path),
                query.map(Cow::Borrowed),
            )
        }
        Cow::Owned(line) => {
            let (method, path, query) = split_request_line(&line);
            (
                Cow::Owned(method.to_owned()),
                Cow::Owned(path.to_owned()),
                query.map(|q| Cow::Owned(q.to_owned())),
            )
        }
    };
    let mut headers = Vec::new();
    while let Some(line) = next_line(&mut rest) {
        if line.is_empty() {
            break;
        }
        let line = String::from_utf8_lossy(line);
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    RawParts {
        method,
        path,
        query,
        headers,
        body: rest,
    }
}

/// Bytes of every string a parsed request keeps: decoding must never amplify its input.
fn kept_bytes(request: &spec::Request) -> usize {
    match request {
        spec::Request::UpdateRecords(u) => {
            let b = &u.body;
            u.client_context.as_ref().map_or(0, String::len)
                + b.device_id.as_ref().map_or(0, String::len)
                + b.sync_session_token.as_ref().map_or(0, String::len)
                + b.record_patches
                    .iter()
                    .flatten()
                    .map(|p| {
                        p.key.as_ref().map_or(0, String::len)
                            + p.value.as_ref().map_or(0, String::len)
                    })
                    .sum::<usize>()
        }
        spec::Request::ListRecords(l) => {
            l.next_token.as_ref().map_or(0, String::len)
                + l.sync_session_token.as_ref().map_or(0, String::len)
        }
        spec::Request::ListDatasets(l) => l.next_token.as_ref().map_or(0, String::len),
        _ => 0,
    }
}

/// Serialises an accepted request (`request` is `parsed` in wire form) as a client would and
/// parses it again: it must come back the same.
fn round_trip(parsed: &ParsedRequest, request: &spec::Request) {
    let raw = to_raw(request);
    let (path, query) = match raw.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw.path_and_query.as_str(), None),
    };
    match parse_request(&raw.method, path, query, &raw.headers, &raw.body) {
        Ok(again) => assert_eq!(
            &again,
            parsed,
            "a serialised request parses to a different value\nwire: {} {}\nbody: {}",
            raw.method,
            raw.path_and_query,
            String::from_utf8_lossy(&raw.body)
        ),
        Err(rejection) => panic!(
            "a serialised accepted request is rejected: {rejection}\nwire: {} {}\nbody: {}",
            raw.method,
            raw.path_and_query,
            String::from_utf8_lossy(&raw.body)
        ),
    }
}

impl RawParts<'_> {
    /// Bytes the parser is given (after the lossy UTF-8 reading of the text parts).
    pub fn len(&self) -> usize {
        self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, |q| q.len())
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
            + self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs the parser on `parts` and checks what it accepted.
pub fn check_parts(parts: &RawParts<'_>) {
    let input_len = parts.len();
    let result = parse_request(
        &parts.method,
        &parts.path,
        parts.query.as_deref(),
        &parts.headers,
        parts.body,
    );
    if let Ok(parsed) = result {
        let request = spec::Request::from(parsed.clone());
        let kept = kept_bytes(&request);
        // A JSON escape or a percent escape is never shorter than the character it stands
        // for, so what is kept fits in what was read.
        assert!(
            kept <= input_len,
            "the parsed request keeps {kept} bytes of strings from {input_len} bytes of input"
        );
        round_trip(&parsed, &request);
    } else if let Some(route) = match_pool_route(&parts.method, &parts.path) {
        // The eleven pool-level operations have their own parser: it must not panic, and a
        // refusal is a client error.
        if let Err(rejection) = parse_pool(route, parts.query.as_deref(), parts.body, None, None) {
            let status = rejection.wire(None).status;
            assert!(
                (400..500).contains(&status),
                "a pool request is refused with {status}: {rejection}"
            );
        }
    }
}

/// The `parse_request` target body.
pub fn parse_request_target(data: &[u8]) {
    check_parts(&split(data));
}

/// A valid UpdateRecords path, so every body reaches decoding and validation.
pub const UPDATE_PATH: &str =
    "/identitypools/us-east-1%3A0a0b/identities/us-east-1%3A0c0d/datasets/settings";

/// The `json_body` target body: `data` is the body of an UpdateRecords.
pub fn json_body(data: &[u8]) {
    let parts = RawParts {
        method: Cow::Borrowed("POST"),
        path: Cow::Borrowed(UPDATE_PATH),
        query: None,
        headers: vec![(
            "content-type".to_owned(),
            spec::CONTENT_TYPE_AMZ_JSON.to_owned(),
        )],
        body: data,
    };
    check_parts(&parts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::parse::match_route;

    #[test]
    fn pool_level_requests_reach_their_parser() {
        // Accepted, refused by a constraint, refused as not JSON: none panics.
        for text in [
            &b"POST /identitypools/us-east-1%3A0a/configuration\n\n{\"CognitoStreams\":{\"StreamName\":\"s\"}}"[..],
            b"POST /identitypools/us-east-1%3A0a/identity/us-east-1%3A0b/device\n\n{\"Platform\":\"X\",\"Token\":\"t\"}",
            b"POST /identitypools/us-east-1%3A0a/events\n\n[",
            b"GET /identitypools?maxResults=0\n\n",
        ] {
            let parts = split(text);
            assert!(match_route(&parts.method, &parts.path).is_none());
            assert!(match_pool_route(&parts.method, &parts.path).is_some());
            parse_request_target(text);
        }
    }

    #[test]
    fn fuzz_text_splits_like_an_http_request() {
        let parts = split(b"GET /a/b?x=1&y\nHost: h\r\nX-Amz-Client-Context:  c \n\n{\"k\":1}\n");
        assert_eq!(parts.method, "GET");
        assert_eq!(parts.path, "/a/b");
        assert_eq!(parts.query.as_deref(), Some("x=1&y"));
        assert_eq!(
            parts.headers,
            vec![
                ("Host".to_owned(), "h".to_owned()),
                ("X-Amz-Client-Context".to_owned(), "c".to_owned())
            ]
        );
        assert_eq!(parts.body, b"{\"k\":1}\n");
        assert_eq!(split(b"").method, "");
    }

    #[test]
    fn accepted_requests_round_trip() {
        parse_request_target(
            b"POST /identitypools/us-east-1%3A0a/identities/us-east-1%3A0b/datasets/a%3Ab\n\
              x-amz-Client-Context: ctx\n\n\
              {\"SyncSessionToken\":\"t\",\"DeviceId\":\"d\",\"RecordPatches\":[{\"Op\":\"replace\",\
              \"Key\":\"k\\u00e9\",\"Value\":\"\",\"SyncCount\":3,\"DeviceLastModifiedDate\":1.5e9}]}",
        );
        json_body(b"{\"SyncSessionToken\":\"t\",\"RecordPatches\":[]}");
        json_body(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    }
}
