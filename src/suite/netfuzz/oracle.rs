//! What the specification allows as the answer to each malformed request, and the oracles that
//! judge an answer against it.
//!
//! Every malformed request carries an [`Allowed`]. Every way an answer can fall outside it is a
//! [`FuzzOracle`] with a permanent ID, the spec row it enforces and its [`Level`]: only a MUST
//! oracle fails an endpoint; a SHOULD or UNSTATED one is a NON-STRICT note unless the run is
//! strict (docs/spec.md, "Never fail a correct server").

use std::fmt;

use serde_json::Value;

use crate::client::{RawResponse, Reply, Trouble, decode};
use crate::model::{Expectation, Expected};
use crate::spec::{Level, Route};

/// Names the model as what allows a 2xx when no AMB- row does (the model's own success).
const MODEL_ROW: &str = "model";

/// What the specification allows as the answer to one malformed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Allowed {
    /// ERR-1..3 and VAL-1: only a 4xx refusal with the ERR-1 shape and its ERR-2 status.
    MustRefuse,
    /// A refusal as for `MustRefuse`, or a 2xx with a JSON body that changes nothing: the row
    /// (an AMB- ID) lets a server ignore the bad part. The reference refuses, so a 2xx is
    /// NON-STRICT.
    RefuseOrIgnore(&'static str),
    /// One of the service's operations this project does not model (AMB-OTHER-OPERATIONS):
    /// implemented (a 2xx with a JSON body, or none) or any 4xx with the ERR-1 shape, whatever
    /// its shape name and status.
    OtherOperation(&'static Route),
    /// A (method, path) outside the service's route table: any 4xx with the ERR-1 shape, whatever
    /// its shape name and status. The spec does not say what the service answers there, so a
    /// 2xx that changes nothing is UNSTATED: NON-STRICT.
    UnknownRoute,
}

impl Allowed {
    /// What the model allows for a request it can express: a 2xx when one of its outcomes is a
    /// success or when `row` (an AMB- row the model may not know yet) lets a server ignore the
    /// bad part; a refusal only otherwise (e.g. LR-3).
    pub(super) fn from_model(expectation: &Expectation, row: Option<&'static str>) -> Allowed {
        let success = expectation
            .outcomes
            .iter()
            .find(|outcome| !matches!(outcome.expected, Expected::Error { .. }));
        match (success, row) {
            (Some(outcome), row) => Allowed::RefuseOrIgnore(
                outcome
                    .ambiguities
                    .first()
                    .map(|a| a.id())
                    .or(row)
                    .unwrap_or(MODEL_ROW),
            ),
            (None, Some(row)) => Allowed::RefuseOrIgnore(row),
            (None, None) => Allowed::MustRefuse,
        }
    }

    /// Whether the endpoint's error must name a shape of this API with that shape's status:
    /// only on the dataset API's own routes (elsewhere any ERR-1 shape will do).
    fn known_shape_expected(self) -> bool {
        matches!(self, Allowed::MustRefuse | Allowed::RefuseOrIgnore(_))
    }
}

/// One way an answer can break the specification, as the fuzzer checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FuzzOracle {
    /// A 2xx to a request every conforming server refuses.
    BadInputAccepted,
    /// A 5xx to bad input.
    ServerError,
    /// Neither a 2xx nor a 4xx nor a 5xx (a 1xx or 3xx) to bad input.
    NotAnError,
    NoAnswer,
    ConnectionFailed,
    /// A 4xx without an `x-amzn-ErrorType` naming a shape.
    ErrorTypeMissing,
    /// A 4xx whose body is not a JSON object with a string `message`.
    ErrorMessageMissing,
    /// A shape of this API with another status than its own.
    ErrorStatusMismatch,
    /// A refusal on the dataset API naming a shape the service model does not declare.
    ErrorTypeUnknown,
    /// An allowed 2xx whose body is not a JSON object (ERR-4).
    SuccessNotJson,
    /// A ListRecords after a refused (or ignored) request no longer matches the model.
    StateChanged,
    /// The 2xx branch of the named AMB- row: allowed, not the reference.
    Ignored(&'static str),
    /// A 2xx to a route outside the service: not specified.
    UnknownRouteAccepted,
    /// Valid traffic: no usable answer.
    ValidNoAnswer,
    /// Valid traffic: a 5xx.
    ValidServerError,
    /// Valid traffic: an answer outside the model's allowed set.
    ValidMismatch,
    /// Valid traffic: an allowed answer other than the reference (the model names the rows).
    ValidNonStrict,
}

impl FuzzOracle {
    /// The permanent ID, as reports and saved findings carry it; never renumbered or reused.
    pub const fn id(self) -> &'static str {
        match self {
            FuzzOracle::BadInputAccepted => "malformed.accepted",
            FuzzOracle::ServerError => "malformed.server-error",
            FuzzOracle::NotAnError => "malformed.not-an-error",
            FuzzOracle::NoAnswer => "malformed.no-answer",
            FuzzOracle::ConnectionFailed => "malformed.connection-failed",
            FuzzOracle::ErrorTypeMissing => "malformed.error-type-missing",
            FuzzOracle::ErrorMessageMissing => "malformed.error-message-missing",
            FuzzOracle::ErrorStatusMismatch => "malformed.error-status-mismatch",
            FuzzOracle::ErrorTypeUnknown => "malformed.error-type-unknown",
            FuzzOracle::SuccessNotJson => "malformed.success-not-json",
            FuzzOracle::StateChanged => "malformed.state-changed",
            FuzzOracle::Ignored(_) => "malformed.ignored",
            FuzzOracle::UnknownRouteAccepted => "malformed.unknown-route-accepted",
            FuzzOracle::ValidNoAnswer => "valid.no-answer",
            FuzzOracle::ValidServerError => "valid.server-error",
            FuzzOracle::ValidMismatch => "valid.mismatch",
            FuzzOracle::ValidNonStrict => "valid.non-strict",
        }
    }

    /// The requirement the oracle enforces (docs/spec.md).
    pub const fn spec(self) -> &'static str {
        match self {
            FuzzOracle::BadInputAccepted => "VAL-1",
            FuzzOracle::ServerError
            | FuzzOracle::NoAnswer
            | FuzzOracle::ConnectionFailed
            | FuzzOracle::StateChanged
            | FuzzOracle::ValidNoAnswer
            | FuzzOracle::ValidServerError => "ERR-3",
            FuzzOracle::NotAnError
            | FuzzOracle::ErrorTypeMissing
            | FuzzOracle::ErrorMessageMissing => "ERR-1",
            FuzzOracle::ErrorStatusMismatch | FuzzOracle::ErrorTypeUnknown => "ERR-2",
            FuzzOracle::SuccessNotJson => "ERR-4",
            FuzzOracle::Ignored(row) => row,
            FuzzOracle::UnknownRouteAccepted => "§10",
            FuzzOracle::ValidMismatch => "§1–§7",
            FuzzOracle::ValidNonStrict => "§8",
        }
    }

    /// How strongly the requirement binds: only MUST fails an endpoint without `--strict`.
    pub const fn level(self) -> Level {
        match self {
            // ERR-2 fixes the status of the API's own shapes; another shape name is a
            // recommendation (the mutation may break a rule no shape of this API is for).
            FuzzOracle::ErrorTypeUnknown
            // §8: an allowed outcome other than the reference.
            | FuzzOracle::Ignored(_)
            | FuzzOracle::ValidNonStrict => Level::Should,
            FuzzOracle::UnknownRouteAccepted => Level::Unstated,
            _ => Level::Must,
        }
    }

    fn text(self) -> &'static str {
        match self {
            FuzzOracle::BadInputAccepted => "bad input accepted",
            FuzzOracle::ServerError => "5xx answer to bad input",
            FuzzOracle::NotAnError => "answer to bad input is neither 2xx nor 4xx",
            FuzzOracle::NoAnswer => "no answer before the timeout",
            FuzzOracle::ConnectionFailed => "connection failed without an answer",
            FuzzOracle::ErrorTypeMissing => "error without an x-amzn-ErrorType",
            FuzzOracle::ErrorMessageMissing => "error body without a JSON message",
            FuzzOracle::ErrorStatusMismatch => "error status differs from its shape's",
            FuzzOracle::ErrorTypeUnknown => "error shape the service model does not declare",
            FuzzOracle::SuccessNotJson => "2xx answer without a JSON object",
            FuzzOracle::StateChanged => "refused or ignored request changed state",
            FuzzOracle::Ignored(_) => "bad part ignored where the reference refuses",
            FuzzOracle::UnknownRouteAccepted => "2xx answer to a route outside the service",
            FuzzOracle::ValidNoAnswer => "valid traffic: no usable answer",
            FuzzOracle::ValidServerError => "valid traffic: 5xx answer",
            FuzzOracle::ValidMismatch => "valid traffic: answer outside the model's allowed set",
            FuzzOracle::ValidNonStrict => "valid traffic: allowed answer other than the reference",
        }
    }

    /// Whether a failure can be re-checked by sending the request alone (and so shrunk):
    /// not when it needs the state around it, nor when re-sending could change data again.
    pub(super) fn shrinkable(self) -> bool {
        matches!(
            self,
            FuzzOracle::ServerError
                | FuzzOracle::NotAnError
                | FuzzOracle::NoAnswer
                | FuzzOracle::ConnectionFailed
                | FuzzOracle::ErrorTypeMissing
                | FuzzOracle::ErrorMessageMissing
                | FuzzOracle::ErrorStatusMismatch
                | FuzzOracle::ErrorTypeUnknown
                | FuzzOracle::ValidNoAnswer
                | FuzzOracle::ValidServerError
        )
    }
}

/// The human label of a finding: what broke and the requirement, e.g.
/// `5xx answer to bad input (ERR-3)`.
impl fmt::Display for FuzzOracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text(), self.spec())
    }
}

/// An oracle an answer broke, with the answer's part that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Broken {
    pub oracle: FuzzOracle,
    pub detail: String,
}

fn broken(oracle: FuzzOracle, detail: String) -> Option<Broken> {
    Some(Broken { oracle, detail })
}

/// Judges the answer to a malformed request against what the spec allows for it; `None` when
/// the answer is one of the allowed ones and leaves nothing to note.
pub(super) fn judge(allowed: Allowed, result: &Result<RawResponse, Trouble>) -> Option<Broken> {
    let response = match result {
        Err(trouble @ Trouble::Timeout { .. }) => {
            return broken(FuzzOracle::NoAnswer, trouble.to_string());
        }
        Err(trouble) => return broken(FuzzOracle::ConnectionFailed, trouble.to_string()),
        Ok(r) => r,
    };
    let status = response.status;
    let start = || {
        let body: String = String::from_utf8_lossy(&response.body)
            .chars()
            .take(200)
            .collect();
        format!("{status} {body}")
    };
    if (200..300).contains(&status) {
        return match allowed {
            Allowed::MustRefuse => broken(FuzzOracle::BadInputAccepted, start()),
            Allowed::RefuseOrIgnore(row) => {
                success_shape(response).or_else(|| broken(FuzzOracle::Ignored(row), start()))
            }
            // SetCognitoEvents has no output shape: its success may have no body at all.
            Allowed::OtherOperation(_) if response.body.is_empty() => None,
            Allowed::OtherOperation(_) => success_shape(response),
            Allowed::UnknownRoute => broken(FuzzOracle::UnknownRouteAccepted, start()),
        };
    }
    if status >= 500 {
        return broken(FuzzOracle::ServerError, start());
    }
    if !(400..500).contains(&status) {
        return broken(FuzzOracle::NotAnError, start());
    }
    error_shape(response, allowed.known_shape_expected())
}

/// ERR-4 for a 2xx the spec allows: a JSON object, as the client reads every success.
fn success_shape(response: &RawResponse) -> Option<Broken> {
    match decode::<Value>(response) {
        Reply::Broken(trouble) => broken(
            FuzzOracle::SuccessNotJson,
            format!("{} {trouble}", response.status),
        ),
        Reply::Success(_) | Reply::Error(_) => None,
    }
}

/// ERR-1 (and ERR-2 where `known_shape` says the shape must be this API's) for a 4xx.
fn error_shape(response: &RawResponse, known_shape: bool) -> Option<Broken> {
    let Reply::Error(error) = decode::<Value>(response) else {
        return broken(
            FuzzOracle::NotAnError,
            format!("{} read as a success", response.status),
        );
    };
    let status = error.status;
    let header = error.type_header.as_deref();
    let Some(name) = error.shape_name() else {
        return broken(
            FuzzOracle::ErrorTypeMissing,
            format!("{status} x-amzn-ErrorType: {header:?}"),
        );
    };
    if error.message().is_none() {
        let body: String = String::from_utf8_lossy(&response.body)
            .chars()
            .take(200)
            .collect();
        return broken(
            FuzzOracle::ErrorMessageMissing,
            format!("{status} {name} {body}"),
        );
    }
    if !known_shape {
        return None;
    }
    match error.kind {
        Some(kind) if kind.status() != status => broken(
            FuzzOracle::ErrorStatusMismatch,
            format!(
                "{status} with {}, whose status is {}",
                kind.type_name(),
                kind.status()
            ),
        ),
        Some(_) => None,
        None => broken(
            FuzzOracle::ErrorTypeUnknown,
            format!("{status} x-amzn-ErrorType: {name}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Call, Model, TokenClaim};
    use crate::spec::{
        DatasetPath, ListRecordsRequest, ROUTES, UpdateRecordsBody, UpdateRecordsRequest,
    };
    use crate::suite::session::replace;

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

    fn oracle_of(allowed: Allowed, result: &Result<RawResponse, Trouble>) -> Option<FuzzOracle> {
        judge(allowed, result).map(|b| b.oracle)
    }

    fn other_operation() -> Allowed {
        let route = ROUTES
            .iter()
            .find(|r| r.operation == "RegisterDevice")
            .expect("RegisterDevice is a route of the service");
        Allowed::OtherOperation(route)
    }

    /// Every oracle with the level it must have: one table for the level and the ID tests.
    const ORACLE_LEVELS: [(FuzzOracle, Level); 17] = [
        (FuzzOracle::BadInputAccepted, Level::Must),
        (FuzzOracle::ServerError, Level::Must),
        (FuzzOracle::NotAnError, Level::Must),
        (FuzzOracle::NoAnswer, Level::Must),
        (FuzzOracle::ConnectionFailed, Level::Must),
        (FuzzOracle::ErrorTypeMissing, Level::Must),
        (FuzzOracle::ErrorMessageMissing, Level::Must),
        (FuzzOracle::ErrorStatusMismatch, Level::Must),
        (FuzzOracle::ErrorTypeUnknown, Level::Should),
        (FuzzOracle::SuccessNotJson, Level::Must),
        (FuzzOracle::StateChanged, Level::Must),
        (FuzzOracle::Ignored("AMB-BAD-QUERY"), Level::Should),
        (FuzzOracle::UnknownRouteAccepted, Level::Unstated),
        (FuzzOracle::ValidNoAnswer, Level::Must),
        (FuzzOracle::ValidServerError, Level::Must),
        (FuzzOracle::ValidMismatch, Level::Must),
        (FuzzOracle::ValidNonStrict, Level::Should),
    ];

    #[test]
    fn each_oracle_has_its_level() {
        for (oracle, level) in ORACLE_LEVELS {
            assert_eq!(oracle.level(), level, "{}", oracle.id());
        }
        assert_eq!(
            FuzzOracle::Ignored("AMB-MAX-RESULTS").spec(),
            "AMB-MAX-RESULTS"
        );
    }

    #[test]
    fn oracle_ids_are_dotted_kebab_case_and_distinct() {
        let ids: std::collections::BTreeSet<&str> =
            ORACLE_LEVELS.iter().map(|(o, _)| o.id()).collect();
        assert_eq!(ids.len(), ORACLE_LEVELS.len());
        for id in ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.'),
                "{id}"
            );
        }
    }

    #[test]
    fn a_proper_refusal_breaks_no_oracle() {
        let ok = response(400, Some("ValidationException"), r#"{"message":"m"}"#);
        assert_eq!(judge(Allowed::MustRefuse, &ok), None);
        let decorated = response(
            409,
            Some("ResourceConflictException:http://internal.amazon.com/"),
            r#"{"message":"m"}"#,
        );
        assert_eq!(judge(Allowed::MustRefuse, &decorated), None);
    }

    #[test]
    fn an_error_type_with_an_aws_suffix_is_a_proper_refusal() {
        let suffixed = response(
            400,
            Some("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"),
            r#"{"message":"1 validation error detected"}"#,
        );
        assert_eq!(judge(Allowed::MustRefuse, &suffixed), None);
        assert_eq!(
            judge(Allowed::RefuseOrIgnore("AMB-BAD-QUERY"), &suffixed),
            None
        );
        let wrong_status = response(
            404,
            Some("ValidationException:http://internal.amazon.com/"),
            r#"{"message":"m"}"#,
        );
        assert_eq!(
            oracle_of(Allowed::MustRefuse, &wrong_status),
            Some(FuzzOracle::ErrorStatusMismatch)
        );
    }

    #[test]
    fn bad_refusals_name_the_broken_oracle() {
        let cases = [
            (response(200, None, "{}"), FuzzOracle::BadInputAccepted),
            (
                response(500, Some("InternalErrorException"), r#"{"message":"m"}"#),
                FuzzOracle::ServerError,
            ),
            (response(302, None, ""), FuzzOracle::NotAnError),
            (
                response(400, None, r#"{"message":"m"}"#),
                FuzzOracle::ErrorTypeMissing,
            ),
            (
                response(400, Some(":http://x/"), r#"{"message":"m"}"#),
                FuzzOracle::ErrorTypeMissing,
            ),
            (
                response(400, Some("ResourceConflictException"), r#"{"message":"m"}"#),
                FuzzOracle::ErrorStatusMismatch,
            ),
            (
                response(400, Some("ValidationException"), r#"{"Message":"m"}"#),
                FuzzOracle::ErrorMessageMissing,
            ),
            (
                response(400, Some("BadRequestException"), r#"{"message":"m"}"#),
                FuzzOracle::ErrorTypeUnknown,
            ),
            (Err(Trouble::Timeout { ms: 10 }), FuzzOracle::NoAnswer),
            (
                Err(Trouble::Connection("reset".into())),
                FuzzOracle::ConnectionFailed,
            ),
        ];
        for (result, oracle) in cases {
            assert_eq!(oracle_of(Allowed::MustRefuse, &result), Some(oracle));
        }
    }

    #[test]
    fn refuse_or_ignore_takes_a_2xx_or_a_clean_4xx_but_not_a_5xx() {
        let allowed = Allowed::RefuseOrIgnore("AMB-BAD-QUERY");
        let ignored = oracle_of(allowed, &response(200, None, r#"{"Records":[]}"#));
        assert_eq!(ignored, Some(FuzzOracle::Ignored("AMB-BAD-QUERY")));
        assert!(!FuzzOracle::Ignored("AMB-BAD-QUERY").level().binds());
        let refused = response(400, Some("InvalidParameterException"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(allowed, &refused), None);
        let five = response(500, Some("InternalErrorException"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(allowed, &five), Some(FuzzOracle::ServerError));
        assert_eq!(
            oracle_of(allowed, &response(400, None, "bad")),
            Some(FuzzOracle::ErrorTypeMissing)
        );
        assert_eq!(
            oracle_of(allowed, &Err(Trouble::Timeout { ms: 5 })),
            Some(FuzzOracle::NoAnswer)
        );
        let html = Ok(RawResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "text/html".to_owned())],
            body: b"<html/>".to_vec(),
        });
        assert_eq!(oracle_of(allowed, &html), Some(FuzzOracle::SuccessNotJson));
    }

    #[test]
    fn other_operations_take_a_2xx_json_or_any_shaped_4xx_but_not_a_500() {
        let allowed = other_operation();
        let cases = [
            (
                response(403, Some("NotAuthorizedException"), r#"{"message":"no"}"#),
                None,
            ),
            (
                response(
                    400,
                    Some("InvalidConfigurationException:http://internal/"),
                    r#"{"message":"no push config"}"#,
                ),
                None,
            ),
            (
                response(404, Some("UnknownOperationException"), r#"{"message":"m"}"#),
                None,
            ),
            (response(200, None, r#"{"DeviceId":"dev-1"}"#), None),
            (response(200, None, ""), None),
            (
                response(500, Some("InternalErrorException"), r#"{"message":"m"}"#),
                Some(FuzzOracle::ServerError),
            ),
            (
                response(403, None, r#"{"message":"m"}"#),
                Some(FuzzOracle::ErrorTypeMissing),
            ),
            (
                response(404, Some("NotFound"), "not found"),
                Some(FuzzOracle::ErrorMessageMissing),
            ),
            (
                Err(Trouble::Connection("reset".into())),
                Some(FuzzOracle::ConnectionFailed),
            ),
        ];
        for (result, oracle) in cases {
            assert_eq!(oracle_of(allowed, &result), oracle, "{result:?}");
        }
        assert_eq!(
            oracle_of(allowed, &response(200, None, "<ok/>")),
            Some(FuzzOracle::SuccessNotJson)
        );
    }

    #[test]
    fn unknown_routes_take_any_shaped_4xx_and_note_a_2xx() {
        let any_shape = response(405, Some("MethodNotAllowed"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(Allowed::UnknownRoute, &any_shape), None);
        let accepted = oracle_of(Allowed::UnknownRoute, &response(200, None, "<html/>"));
        assert_eq!(accepted, Some(FuzzOracle::UnknownRouteAccepted));
        assert_eq!(
            oracle_of(Allowed::UnknownRoute, &response(404, None, "")),
            Some(FuzzOracle::ErrorTypeMissing)
        );
        assert_eq!(
            oracle_of(Allowed::UnknownRoute, &response(502, None, "")),
            Some(FuzzOracle::ServerError)
        );
    }

    fn path() -> DatasetPath {
        DatasetPath {
            identity_pool_id: "us-east-1:00000000-c065-4000-8000-000000000000".into(),
            identity_id: "us-east-1:00000000-0000-4000-8000-000000000001".into(),
            dataset_name: "settings".into(),
        }
    }

    fn list(request: ListRecordsRequest) -> Call {
        Call::ListRecords {
            request,
            token: TokenClaim::Missing,
        }
    }

    #[test]
    fn the_model_and_the_ambiguity_rows_decide_what_a_query_mutation_allows() {
        let model = Model::new();
        let expect = |call: &Call| model.expect(call, 1_700_000_000.0);
        // A missing dataset lists fine whatever lastSyncCount says (LR-2): the model allows it.
        let ahead = list(ListRecordsRequest {
            path: path(),
            last_sync_count: Some(i64::MAX),
            ..ListRecordsRequest::default()
        });
        assert!(matches!(
            Allowed::from_model(&expect(&ahead), None),
            Allowed::RefuseOrIgnore(_)
        ));
        // The AMB- row allows a 2xx even where the model only refuses.
        let zero = list(ListRecordsRequest {
            path: path(),
            max_results: Some(0),
            ..ListRecordsRequest::default()
        });
        assert_eq!(
            Allowed::from_model(&expect(&zero), Some("AMB-MAX-RESULTS")),
            Allowed::RefuseOrIgnore("AMB-MAX-RESULTS")
        );
        // Without a row, the model's refusal stands.
        let mut bad_label = path();
        bad_label.dataset_name = "no/slash".into();
        let refused = list(ListRecordsRequest {
            path: bad_label,
            ..ListRecordsRequest::default()
        });
        assert_eq!(
            Allowed::from_model(&expect(&refused), None),
            Allowed::MustRefuse
        );
    }

    #[test]
    fn a_last_sync_count_ahead_of_an_existing_dataset_must_be_refused() {
        let now = 1_700_000_000.0;
        let mut model = Model::new();
        let write = Call::UpdateRecords {
            request: UpdateRecordsRequest {
                path: path(),
                client_context: None,
                body: UpdateRecordsBody {
                    record_patches: Some(vec![replace("a", "v", 0)]),
                    ..UpdateRecordsBody::default()
                },
            },
            token: TokenClaim::IssuedFor {
                path: path(),
                issued_at: now,
                used_before: false,
            },
        };
        let written = model.expect(&write, now);
        assert!(
            !matches!(written.reference().expected, Expected::Error { .. }),
            "{written}"
        );
        model.advance(&written, 0);
        let ahead = list(ListRecordsRequest {
            path: path(),
            last_sync_count: Some(i64::MAX),
            ..ListRecordsRequest::default()
        });
        assert_eq!(
            Allowed::from_model(&model.expect(&ahead, now), None),
            Allowed::MustRefuse
        );
    }
}
