//! Malformed requests: each breaks at least one rule of the specification and says what the
//! specification allows as its answer (a [`RawRule`] of the refusal oracle).
//!
//! Where a mutation alone might be acceptable to some server (extra members, duplicate members,
//! odd content types, deep nesting in an unknown member), it also carries a garbage session
//! token (UR-8), so every reading of it must refuse. Where the spec lets a server ignore the bad
//! part (an optional query parameter, SPEC §8), the request says so and which row allows it;
//! requests to the service's other operations and to routes outside the service say that too.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};

use super::patches::patches;
use crate::client::{RawRequest, encode_label, to_raw};
use crate::model::{Ambiguity, Call, TokenClaim};
use crate::spec::{
    CONTENT_TYPE_AMZ_JSON, CONTENT_TYPE_JSON, DatasetPath, DescribeDatasetRequest, IdentityPath,
    ListDatasetsRequest, ListRecordsRequest, ROUTES, Request, Route, UpdateRecordsBody,
    UpdateRecordsRequest,
};
use crate::suite::refusal::RawRule;
use crate::suite::session::{Now, Session};
use crate::suite::verdict::Stop;

/// A token this endpoint never issued.
pub(super) const GARBAGE_TOKEN: &str = "bmV0ZnV6ei1nYXJiYWdlLXRva2Vu";
/// The device the requests to the other operations name (RegisterDevice, SubscribeToDataset).
const DEVICE_ID: &str = "dev-1";
/// How many kinds [`Mutator::malformed`] chooses from.
const KINDS: u32 = 14;

/// A request built to break the spec, what the spec allows as its answer, and the dataset it
/// aims at (listed afterwards: whatever the answer, the data must not have changed).
pub(super) struct Malformed {
    pub label: String,
    pub request: RawRequest,
    pub dataset: Option<DatasetPath>,
    pub allows: RawRule<'static>,
}

impl Malformed {
    /// A request every reading of the spec must refuse (ERR-1..3, VAL-1): most mutations.
    fn must_refuse(label: String, request: RawRequest, dataset: Option<DatasetPath>) -> Malformed {
        Malformed {
            label,
            request,
            dataset,
            allows: RawRule::MUST_REFUSE,
        }
    }
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
    update_request(path, bytes, Some(CONTENT_TYPE_AMZ_JSON))
}

fn first_patch(body: &mut Value) -> Option<&mut Map<String, Value>> {
    body.get_mut("RecordPatches")?
        .as_array_mut()?
        .first_mut()?
        .as_object_mut()
}

/// What building a malformed request needs from the run, borrowed for one request: the run's
/// RNG (so a seed repeats the run), its session (tokens the endpoint issued, the model's
/// counts and judgement), the clock the model judges by, and the count of valid calls.
pub(super) struct Mutator<'a> {
    pub rng: &'a mut StdRng,
    pub session: &'a mut Session,
    pub clock: &'a Now,
    /// Valid calls of the run; a ListRecords made to get a token counts as one.
    pub valid_calls: &'a mut u64,
}

impl Mutator<'_> {
    /// A token the endpoint issued for `path`, listing first if there is none yet.
    async fn token_for(&mut self, path: &DatasetPath) -> Result<String, Stop> {
        if let Some(token) = self.session.token_of(path) {
            return Ok(token);
        }
        *self.valid_calls += 1;
        self.session.list(path).await?;
        Ok(self
            .session
            .token_of(path)
            .unwrap_or_else(|| GARBAGE_TOKEN.to_owned()))
    }

    /// A realistic UpdateRecords body for `path` (one or two patches at current counts).
    fn base_body(&mut self, path: &DatasetPath, token: &str) -> Value {
        let patches: Vec<Value> = patches(self.rng, self.session, path)
            .into_iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect();
        json!({
            "DeviceId": "cogsync-netfuzz",
            "RecordPatches": patches,
            "SyncSessionToken": token,
        })
    }

    /// One malformed request of a randomly chosen kind, aimed at `path`.
    pub(super) async fn malformed(&mut self, path: DatasetPath) -> Result<Malformed, Stop> {
        let kind = self.rng.random_range(0..KINDS);
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
                let wrong = wrong.choose(self.rng).cloned().unwrap_or(Value::Null);
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
                        if let Some(patch) = first_patch(&mut body) {
                            if member == "Value" {
                                patch.insert("Op".to_owned(), json!("replace"));
                            }
                            patch.insert(member.to_owned(), wrong);
                        }
                    }
                }
                Malformed::must_refuse(
                    format!("wrong-type:{member}"),
                    json_update(&path, &body),
                    aim,
                )
            }
            1 => {
                // Missing required members (UR-8, UR-10, SPEC §5).
                let member = *["SyncSessionToken", "Op", "Key", "SyncCount", "Value"]
                    .choose(self.rng)
                    .unwrap_or(&"SyncSessionToken");
                if member == "SyncSessionToken" {
                    if let Some(map) = body.as_object_mut() {
                        map.remove(member);
                    }
                } else if let Some(patch) = first_patch(&mut body) {
                    if member == "Value" {
                        patch.insert("Op".to_owned(), json!("replace"));
                    }
                    patch.remove(member);
                }
                Malformed::must_refuse(format!("missing:{member}"), json_update(&path, &body), aim)
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
                    .choose(self.rng)
                    .cloned()
                    .unwrap_or(extras[0].clone());
                body[name] = value;
                if let Some(patch) = first_patch(&mut body) {
                    patch.insert("Unknown".to_owned(), json!(self.rng.random::<u32>()));
                }
                Malformed::must_refuse(
                    "extra-members+garbage-token".to_owned(),
                    json_update(&path, &body),
                    aim,
                )
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
                .choose(self.rng)
                .copied()
                .unwrap_or(b"\xff");
                if self.rng.random_bool(0.7) {
                    let text = serde_json::to_string(&body).unwrap_or_default();
                    let marker = "\"SyncSessionToken\":\"";
                    let at = text.find(marker).map_or(1, |i| i + marker.len());
                    let mut bytes = text.as_bytes()[..at].to_vec();
                    bytes.extend_from_slice(bad);
                    bytes.extend_from_slice(&text.as_bytes()[at..]);
                    Malformed::must_refuse(
                        "invalid-utf8:body".to_owned(),
                        update_request(&path, bytes, Some(CONTENT_TYPE_AMZ_JSON)),
                        aim,
                    )
                } else {
                    let escaped: String = bad.iter().map(|b| format!("%{b:02X}")).collect();
                    let mut raw = json_update(&path, &body);
                    raw.path_and_query = format!("{}{escaped}", raw.path_and_query);
                    Malformed::must_refuse("invalid-utf8:DatasetName".to_owned(), raw, aim)
                }
            }
            5 => {
                // Bad percent-encoding in a label or a query parameter.
                let bad = *["%", "%G1", "%3", "%%", "%zz", "%2"]
                    .choose(self.rng)
                    .unwrap_or(&"%");
                if self.rng.random_bool(0.5) {
                    let mut raw = json_update(&path, &body);
                    raw.path_and_query = format!("{}{bad}", raw.path_and_query);
                    Malformed::must_refuse("bad-percent:DatasetName".to_owned(), raw, aim)
                } else {
                    let param = *[
                        "maxResults",
                        "lastSyncCount",
                        "nextToken",
                        "syncSessionToken",
                    ]
                    .choose(self.rng)
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
                        allows: RawRule::refuse_or_ignore(Ambiguity::BadQuery),
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
                    request: update_request(&path, text.into_bytes(), Some(CONTENT_TYPE_AMZ_JSON)),
                    dataset: aim,
                    allows: RawRule::MUST_REFUSE,
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
                .choose(self.rng)
                .copied()
                .flatten();
                Malformed {
                    label: format!(
                        "content-type:{}+garbage-token",
                        content_type.unwrap_or("none")
                    ),
                    request: update_request(
                        &path,
                        serde_json::to_vec(&body).unwrap_or_default(),
                        content_type,
                    ),
                    dataset: aim,
                    allows: RawRule::MUST_REFUSE,
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
                    request: update_request(&path, text.into_bytes(), Some(CONTENT_TYPE_AMZ_JSON)),
                    dataset: aim,
                    allows: RawRule::MUST_REFUSE,
                }
            }
            10 => unknown_route(self.rng, &path),
            11 => other_operation(self.rng, &path),
            12 => self.garbage_list_token(&path),
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
                Malformed::must_refuse(
                    "not-a-json-object".to_owned(),
                    update_request(&path, bytes, Some(CONTENT_TYPE_AMZ_JSON)),
                    aim,
                )
            }
        };
        Ok(made)
    }

    fn oversized(&mut self, path: &DatasetPath, mut body: Value) -> Malformed {
        let fill = *["k", "é", "😀"].choose(self.rng).unwrap_or(&"k");
        match self.rng.random_range(0..6) {
            0 => {
                if let Some(patch) = first_patch(&mut body) {
                    patch.insert("Key".to_owned(), json!(fill.repeat(1025)));
                }
                Malformed::must_refuse(
                    "oversized:Key".to_owned(),
                    json_update(path, &body),
                    Some(path.clone()),
                )
            }
            1 => {
                body["DeviceId"] = json!(fill.repeat(257));
                Malformed::must_refuse(
                    "oversized:DeviceId".to_owned(),
                    json_update(path, &body),
                    Some(path.clone()),
                )
            }
            2 if self.rng.random_bool(0.2) => {
                if let Some(patch) = first_patch(&mut body) {
                    patch.insert("Op".to_owned(), json!("replace"));
                    patch.insert("Value".to_owned(), json!("v".repeat(1_048_576)));
                }
                Malformed::must_refuse(
                    "oversized:Value".to_owned(),
                    json_update(path, &body),
                    Some(path.clone()),
                )
            }
            3 => {
                let mut long = path.clone();
                long.dataset_name = "d".repeat(129);
                Malformed::must_refuse(
                    "oversized:DatasetName".to_owned(),
                    json_update(&long, &body),
                    Some(path.clone()),
                )
            }
            4 => {
                let mut long = path.clone();
                long.identity_id = format!("us-east-1:{}", "a".repeat(46));
                Malformed::must_refuse(
                    "oversized:IdentityId".to_owned(),
                    json_update(&long, &body),
                    Some(path.clone()),
                )
            }
            _ => {
                body["SyncSessionToken"] = json!(GARBAGE_TOKEN);
                if let Some(patch) = first_patch(&mut body) {
                    patch.insert("Key".to_owned(), json!(fill.repeat(1024)));
                }
                Malformed::must_refuse(
                    "key-at-limit+garbage-token".to_owned(),
                    json_update(path, &body),
                    Some(path.clone()),
                )
            }
        }
    }

    fn numbers(&mut self, path: &DatasetPath, body: Value) -> Malformed {
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
            if let Some(patch) = first_patch(&mut body) {
                patch.insert(member.to_owned(), json!("__NUMBER__"));
            }
            let text = serde_json::to_string(&body)
                .unwrap_or_default()
                .replace("\"__NUMBER__\"", number);
            return Malformed {
                label: format!("number:{label}"),
                request: update_request(path, text.into_bytes(), Some(CONTENT_TYPE_AMZ_JSON)),
                dataset: Some(path.clone()),
                allows: RawRule::MUST_REFUSE,
            };
        }
        self.query_number(path)
    }

    /// A number in an optional query parameter of ListRecords (of ListDatasets, sometimes, for
    /// `maxResults`). What the spec allows depends on the value, so the model judges the values
    /// it can express (AMB-MAX-RESULTS, AMB-NEGATIVE-LAST-SYNC-COUNT, LR-3); the others are not
    /// integers of the parameter's type at all (AMB-BAD-QUERY).
    fn query_number(&mut self, path: &DatasetPath) -> Malformed {
        /// A value the typed request can carry, and the AMB- row that lets a server ignore it.
        enum Number {
            MaxResults(i32, Ambiguity),
            LastSyncCount(i64, Option<Ambiguity>),
            Unreadable(&'static str),
        }
        let mut choices = vec![
            ("maxResults", Number::MaxResults(0, Ambiguity::MaxResults)),
            ("maxResults", Number::MaxResults(-1, Ambiguity::MaxResults)),
            ("maxResults", Number::Unreadable("2147483648")),
            ("maxResults", Number::Unreadable("1.5")),
            ("maxResults", Number::Unreadable("abc")),
            (
                "lastSyncCount",
                Number::LastSyncCount(-1, Some(Ambiguity::NegativeLastSyncCount)),
            ),
            ("lastSyncCount", Number::Unreadable("1.5")),
            ("lastSyncCount", Number::Unreadable("abc")),
        ];
        if self.session.model().dataset_exists(path) {
            choices.push(("lastSyncCount", Number::Unreadable("99999999999999999999")));
            // LR-3: ahead of an existing dataset's count; no row lets a server ignore it.
            choices.push(("lastSyncCount", Number::LastSyncCount(i64::MAX, None)));
        }
        let index = self.rng.random_range(0..choices.len());
        let (param, value) = choices.swap_remove(index);
        let identity = IdentityPath {
            identity_pool_id: path.identity_pool_id.clone(),
            identity_id: path.identity_id.clone(),
        };
        let list_datasets = param == "maxResults" && self.rng.random_bool(0.3);
        let records = |max_results, last_sync_count| ListRecordsRequest {
            path: path.clone(),
            max_results,
            last_sync_count,
            ..ListRecordsRequest::default()
        };
        let (request, call, row, shown) = match value {
            Number::MaxResults(n, row) if list_datasets => {
                let request = ListDatasetsRequest {
                    path: identity,
                    max_results: Some(n),
                    next_token: None,
                };
                let call = Call::ListDatasets(request.clone());
                (
                    Request::ListDatasets(request),
                    Some(call),
                    Some(row),
                    n.to_string(),
                )
            }
            Number::MaxResults(n, row) => {
                let request = records(Some(n), None);
                let call = Call::ListRecords {
                    request: request.clone(),
                    token: TokenClaim::Missing,
                };
                (
                    Request::ListRecords(request),
                    Some(call),
                    Some(row),
                    n.to_string(),
                )
            }
            Number::LastSyncCount(n, row) => {
                let request = records(None, Some(n));
                let call = Call::ListRecords {
                    request: request.clone(),
                    token: TokenClaim::Missing,
                };
                (
                    Request::ListRecords(request),
                    Some(call),
                    row,
                    n.to_string(),
                )
            }
            Number::Unreadable(text) if list_datasets => (
                Request::ListDatasets(ListDatasetsRequest {
                    path: identity,
                    max_results: None,
                    next_token: None,
                }),
                None,
                Some(Ambiguity::BadQuery),
                text.to_owned(),
            ),
            Number::Unreadable(text) => (
                Request::ListRecords(records(None, None)),
                None,
                Some(Ambiguity::BadQuery),
                text.to_owned(),
            ),
        };
        let mut raw = to_raw(&request);
        if call.is_none() {
            raw.path_and_query = format!("{}?{param}={shown}", raw.path_and_query);
        }
        let allows = match (&call, row) {
            (Some(call), row) => self.allowance(call, row),
            (None, Some(row)) => RawRule::refuse_or_ignore(row),
            (None, None) => RawRule::MUST_REFUSE,
        };
        Malformed {
            label: format!(
                "number:{}{param}={shown}",
                if list_datasets { "ListDatasets." } else { "" }
            ),
            request: raw,
            dataset: Some(path.clone()),
            allows,
        }
    }

    /// ListRecords with a well-formed `syncSessionToken` the endpoint never issued: refused or
    /// ignored (AMB-LIST-TOKEN), as the model says.
    fn garbage_list_token(&mut self, path: &DatasetPath) -> Malformed {
        let request = ListRecordsRequest {
            path: path.clone(),
            sync_session_token: Some(GARBAGE_TOKEN.to_owned()),
            ..ListRecordsRequest::default()
        };
        let call = Call::ListRecords {
            request: request.clone(),
            token: TokenClaim::Garbage,
        };
        Malformed {
            label: "garbage-token:ListRecords".to_owned(),
            request: to_raw(&Request::ListRecords(request)),
            dataset: Some(path.clone()),
            allows: self.allowance(&call, Some(Ambiguity::ListToken)),
        }
    }

    /// What the spec allows for a request the model can express as `call` (see
    /// [`RawRule::from_model`]).
    fn allowance(&self, call: &Call, row: Option<Ambiguity>) -> RawRule<'static> {
        let expectation = self.session.model().expect(call, (self.clock)());
        RawRule::from_model(&expectation, row)
    }
}

/// The path of `route` with its labels filled from `path` (and [`DEVICE_ID`]), encoded as the
/// client encodes them.
fn fill(route: &Route, path: &DatasetPath) -> String {
    route
        .template
        .split('/')
        .map(|segment| match segment {
            "{IdentityPoolId}" => encode_label(&path.identity_pool_id),
            "{IdentityId}" => encode_label(&path.identity_id),
            "{DatasetName}" => encode_label(&path.dataset_name),
            "{DeviceId}" => DEVICE_ID.to_owned(),
            literal => literal.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A request to one of the eleven pool-level operations (SPEC §10, §11) for the run's own
/// pool, identity and dataset: half the time one every reading of §11 refuses, implemented or
/// not (a constraint broken, a required member missing, a device never registered, a cut
/// body); otherwise the operation's route with `{}` (POST) or no body, which the endpoint may
/// serve or refuse (AMB-OTHER-OPERATIONS) but which some operations must refuse when they are
/// implemented too. Never a 5xx or an answer without the ERR-1 shape, and the dataset's
/// records never change.
pub(super) fn other_operation(rng: &mut StdRng, path: &DatasetPath) -> Malformed {
    if rng.random_bool(0.5) {
        let (label, request) = super::pool::malformed(rng, path);
        return Malformed {
            label,
            request,
            dataset: Some(path.clone()),
            allows: RawRule::OTHER_OPERATION_REFUSED,
        };
    }
    let others: Vec<&'static Route> = ROUTES.iter().filter(|r| !r.modelled).collect();
    let route = others[rng.random_range(0..others.len())];
    let (headers, body) = if route.method == "POST" {
        (
            vec![("content-type".to_owned(), CONTENT_TYPE_JSON.to_owned())],
            b"{}".to_vec(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    // `{}` lacks RegisterDevice's and SetCognitoEvents' required members; DEVICE_ID was never
    // registered. (BulkPublish may start: valid calls may have configured a stream.)
    let allows = match route.operation {
        "RegisterDevice" | "SetCognitoEvents" | "SubscribeToDataset" | "UnsubscribeFromDataset" => {
            RawRule::OTHER_OPERATION_REFUSED
        }
        _ => RawRule::OTHER_OPERATION,
    };
    Malformed {
        label: format!("other-operation:{}", route.operation),
        request: RawRequest {
            method: route.method.to_owned(),
            path_and_query: fill(route, path),
            headers,
            body,
        },
        dataset: Some(path.clone()),
        allows,
    }
}

/// A (method, path) outside the service's route table (`spec::route_of` finds nothing): near
/// misses of real routes (another method, a trailing slash, an extra segment, other letter
/// case) and paths no operation has. Bodies carry a garbage token, so a router that lands on
/// UpdateRecords anyway must refuse them too.
pub(super) fn unknown_route(rng: &mut StdRng, path: &DatasetPath) -> Malformed {
    let dataset_url = to_raw(&Request::DescribeDataset(DescribeDatasetRequest {
        path: path.clone(),
    }))
    .path_and_query;
    let identity_url = dataset_url
        .rsplit_once("/datasets/")
        .map_or(dataset_url.clone(), |(i, _)| i.to_owned());
    let pool_url = identity_url
        .rsplit_once("/identities/")
        .map_or(identity_url.clone(), |(p, _)| p.to_owned());
    let (label, method, url, aims) = match rng.random_range(0..12) {
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
            true,
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
            true,
        ),
        9 => ("method:DELETE-pool", "DELETE", pool_url.clone(), true),
        10 => (
            "method:GET-device",
            "GET",
            format!(
                "{}/identity/{}/device",
                pool_url,
                encode_label(&path.identity_id)
            ),
            false,
        ),
        _ => (
            "route:identities",
            "GET",
            format!("{pool_url}/identities"),
            false,
        ),
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
        allows: RawRule::UNKNOWN_ROUTE,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::spec::route_of;

    fn path() -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:0000abcd-c065-4000-8000-000000000000".into(),
            identity_id: "us-east-1:0000abcd-0000-4000-8000-000000000001".into(),
            dataset_name: "game:state".into(),
        }
    }

    #[test]
    fn unknown_routes_are_never_in_the_route_table() {
        let mut labels = std::collections::BTreeSet::new();
        for seed in 0..2000 {
            let made = unknown_route(&mut StdRng::seed_from_u64(seed), &path());
            let request = &made.request;
            assert_eq!(
                route_of(&request.method, &request.path_and_query).map(|r| r.operation),
                None,
                "{} {} {}",
                made.label,
                request.method,
                request.path_and_query
            );
            assert_eq!(made.allows, RawRule::UNKNOWN_ROUTE);
            labels.insert(made.label);
        }
        assert_eq!(labels.len(), 12, "{labels:?}");
    }

    #[test]
    fn other_operations_reach_each_unmodelled_route_with_the_runs_labels() {
        let mut seen = std::collections::BTreeSet::new();
        let mut malformed = std::collections::BTreeSet::new();
        for seed in 0..2000 {
            let made = other_operation(&mut StdRng::seed_from_u64(seed), &path());
            let request = &made.request;
            let route = route_of(&request.method, &request.path_and_query);
            assert!(
                route.is_some_and(|r| !r.modelled),
                "{}",
                request.path_and_query
            );
            assert!(
                !request.path_and_query.contains('{'),
                "{}",
                request.path_and_query
            );
            let names_the_pool = request
                .path_and_query
                .to_lowercase()
                .contains("us-east-1%3a0000abcd");
            assert_eq!(
                names_the_pool,
                request.path_and_query != "/identitypools",
                "{}",
                request.path_and_query
            );
            assert!(
                made.allows == RawRule::OTHER_OPERATION
                    || made.allows == RawRule::OTHER_OPERATION_REFUSED,
                "{}",
                made.label
            );
            seen.insert(route.map(|r| r.operation));
            if made.label.matches(':').count() == 2 {
                assert_eq!(
                    made.allows,
                    RawRule::OTHER_OPERATION_REFUSED,
                    "{}",
                    made.label
                );
                malformed.insert(made.label);
            }
        }
        assert_eq!(seen.len(), 11, "{seen:?}");
        assert_eq!(malformed.len(), 10, "{malformed:?}");
    }
}
