//! The refusal oracle: whether the answer to a request that breaks a rule is one the
//! specification allows for it (docs/spec.md ERR-1..3, VAL-1; ERR-4 for an allowed success).
//! One reading, used by the named cases (through `Session::raw_judged`) and the network fuzzer.
//!
//! What a request allows is a [`RawRule`]: the reference refusals, and whether another clean
//! refusal or an acceptance is allowed too — as good as the reference, NON-STRICT on an AMB-
//! row, or NON-STRICT because the spec says nothing. [`judge`] answers `None` for the reference
//! (or an answer as good as it) and otherwise the [`RefusalOracle`] the answer departed from,
//! with a permanent ID and a [`Level`]: only a MUST departure fails an endpoint. Whether the
//! request changed nothing (ERR-3) is the caller's next step: it lists the dataset again.

use std::fmt;

use serde_json::Value;

use crate::client::{ErrorReply, RawResponse, Reply, Trouble, decode};
use crate::model::{Ambiguity, Expectation, Expected};
use crate::spec::{ErrorKind, Level};

/// Whether an answer other than the reference is allowed, and how it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    No,
    /// Allowed and as good as the reference (a route this project does not model).
    Reference,
    /// Allowed on this AMB- row: NON-STRICT.
    NonStrict(Ambiguity),
    /// The specification says nothing either way: allowed, NON-STRICT.
    Unstated,
}

/// What the specification allows as the answer to one request that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRule<'a> {
    /// The reference outcome: an error of one of these kinds, with its own status (ERR-2) and a
    /// JSON message (ERR-1).
    pub kinds: &'a [ErrorKind],
    /// Whether any other 4xx with the ERR-1 shape (a shape name in `x-amzn-ErrorType`, a JSON
    /// message) is allowed.
    pub other_refusal: Allow,
    /// Whether a 2xx is allowed: one whose body is a JSON object (ERR-4); as `Reference`, also
    /// one without a body (operations without an output shape); as `Unstated`, any (a route
    /// outside the service has no success shape to hold it to).
    pub accepted: Allow,
}

impl RawRule<'static> {
    /// Every reading of the spec refuses (ERR-1..3, VAL-1): a 4xx naming a shape of this API
    /// with that shape's status. A shape the service model does not declare is NON-STRICT: the
    /// request may break a rule no shape of this API is for.
    pub const MUST_REFUSE: RawRule<'static> = RawRule {
        kinds: &ErrorKind::ALL,
        other_refusal: Allow::Unstated,
        accepted: Allow::No,
    };

    /// One of the service's operations this project does not model (AMB-OTHER-OPERATIONS):
    /// implemented (a 2xx with a JSON object, or no body) or any 4xx with the ERR-1 shape,
    /// whatever its shape name and status.
    pub const OTHER_OPERATION: RawRule<'static> = RawRule {
        kinds: &[],
        other_refusal: Allow::Reference,
        accepted: Allow::Reference,
    };

    /// A request to one of the eleven that an implementing endpoint must refuse too (a
    /// required member missing, a device never registered, a bulk publish without a stream):
    /// any 4xx with the ERR-1 shape, whether the operation is implemented or not; never a 2xx.
    pub const OTHER_OPERATION_REFUSED: RawRule<'static> = RawRule {
        kinds: &[],
        other_refusal: Allow::Reference,
        accepted: Allow::No,
    };

    /// A (method, path) outside the service's route table: any 4xx with the ERR-1 shape; the
    /// spec does not say what the service answers there, so a 2xx is NON-STRICT.
    pub const UNKNOWN_ROUTE: RawRule<'static> = RawRule {
        kinds: &[],
        other_refusal: Allow::Reference,
        accepted: Allow::Unstated,
    };

    /// Refused as for [`RawRule::MUST_REFUSE`], or the bad part ignored: a 2xx with a JSON
    /// object, NON-STRICT on `row`.
    pub const fn refuse_or_ignore(row: Ambiguity) -> RawRule<'static> {
        RawRule {
            accepted: Allow::NonStrict(row),
            ..RawRule::MUST_REFUSE
        }
    }

    /// What the model allows for a request it can express: a 2xx when one of its outcomes is a
    /// success (the reference, or NON-STRICT on the outcome's row) or when `row` (an AMB- row
    /// the model may not know yet) lets a server ignore the bad part; a refusal only otherwise
    /// (e.g. LR-3).
    pub fn from_model(expectation: &Expectation, row: Option<Ambiguity>) -> RawRule<'static> {
        let success = expectation
            .outcomes
            .iter()
            .find(|outcome| !matches!(outcome.expected, Expected::Error { .. }));
        match success.map(|outcome| outcome.ambiguities.first().copied().or(row)) {
            Some(None) => RawRule {
                accepted: Allow::Reference,
                ..RawRule::MUST_REFUSE
            },
            Some(Some(row)) => RawRule::refuse_or_ignore(row),
            None => row.map_or(RawRule::MUST_REFUSE, RawRule::refuse_or_ignore),
        }
    }
}

/// What the rule expects, for transcripts: `an error: 400 ValidationException or …`.
impl fmt::Display for RawRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.kinds.is_empty() {
            f.write_str("an error: ")?;
        }
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .map(|k| format!("{} {}", k.status(), k.type_name()))
            .collect();
        f.write_str(&kinds.join(" or "))?;
        match self.other_refusal {
            Allow::No => {}
            Allow::Reference => f.write_str(" or any 4xx with the error shape")?,
            Allow::NonStrict(row) => {
                write!(f, "; also allowed: any 4xx with the error shape [{row}]")?;
            }
            Allow::Unstated => {
                f.write_str("; also allowed: any 4xx with the error shape [not stated]")?;
            }
        }
        match self.accepted {
            Allow::No => Ok(()),
            Allow::Reference => f.write_str(" or a 2xx JSON object"),
            Allow::NonStrict(row) => {
                write!(
                    f,
                    "; also allowed: a 2xx JSON object, nothing changed [{row}]"
                )
            }
            Allow::Unstated => f.write_str("; also allowed: a 2xx, nothing changed [not stated]"),
        }
    }
}

/// One way an answer can depart from what a [`RawRule`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefusalOracle {
    /// A 2xx to a request every conforming server refuses.
    Accepted,
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
    /// A refusal naming another shape than the ones the spec gives for this request.
    ErrorTypeUnexpected,
    /// An allowed 2xx whose body is not a JSON object (ERR-4).
    SuccessNotJson,
    /// The 2xx branch of the named AMB- row: allowed, not the reference.
    Ignored(Ambiguity),
    /// A refusal with another shape than the reference's, allowed by the named AMB- row.
    OtherRefusal(Ambiguity),
    /// A 2xx to a route outside the service: not specified.
    UnknownRouteAccepted,
}

impl RefusalOracle {
    /// The permanent ID, as reports and saved findings carry it; never renumbered or reused.
    pub const fn id(self) -> &'static str {
        match self {
            RefusalOracle::Accepted => "malformed.accepted",
            RefusalOracle::ServerError => "malformed.server-error",
            RefusalOracle::NotAnError => "malformed.not-an-error",
            RefusalOracle::NoAnswer => "malformed.no-answer",
            RefusalOracle::ConnectionFailed => "malformed.connection-failed",
            RefusalOracle::ErrorTypeMissing => "malformed.error-type-missing",
            RefusalOracle::ErrorMessageMissing => "malformed.error-message-missing",
            RefusalOracle::ErrorStatusMismatch => "malformed.error-status-mismatch",
            RefusalOracle::ErrorTypeUnknown => "malformed.error-type-unknown",
            RefusalOracle::ErrorTypeUnexpected => "malformed.error-type-unexpected",
            RefusalOracle::SuccessNotJson => "malformed.success-not-json",
            RefusalOracle::Ignored(_) => "malformed.ignored",
            RefusalOracle::OtherRefusal(_) => "malformed.other-refusal",
            RefusalOracle::UnknownRouteAccepted => "malformed.unknown-route-accepted",
        }
    }

    /// The requirement the oracle enforces (docs/spec.md), or the AMB- row that allows it.
    pub const fn spec(self) -> &'static str {
        match self {
            RefusalOracle::Accepted => "VAL-1",
            RefusalOracle::ServerError
            | RefusalOracle::NoAnswer
            | RefusalOracle::ConnectionFailed => "ERR-3",
            RefusalOracle::NotAnError
            | RefusalOracle::ErrorTypeMissing
            | RefusalOracle::ErrorMessageMissing => "ERR-1",
            RefusalOracle::ErrorStatusMismatch
            | RefusalOracle::ErrorTypeUnknown
            | RefusalOracle::ErrorTypeUnexpected => "ERR-2",
            RefusalOracle::SuccessNotJson => "ERR-4",
            RefusalOracle::Ignored(row) | RefusalOracle::OtherRefusal(row) => row.id(),
            RefusalOracle::UnknownRouteAccepted => "§10",
        }
    }

    /// How strongly the requirement binds: only MUST fails an endpoint without `--strict`.
    pub const fn level(self) -> Level {
        match self {
            // ERR-2 fixes the status of the API's own shapes; another shape name is a
            // recommendation (the request may break a rule no shape of this API is for).
            RefusalOracle::ErrorTypeUnknown => Level::Should,
            // §8: an allowed outcome other than the reference; AMB-X rows are not stated.
            RefusalOracle::Ignored(row) | RefusalOracle::OtherRefusal(row) => {
                if row.stated() {
                    Level::Should
                } else {
                    Level::Unstated
                }
            }
            RefusalOracle::UnknownRouteAccepted => Level::Unstated,
            _ => Level::Must,
        }
    }

    /// What broke, for people: `5xx answer to bad input`.
    pub const fn text(self) -> &'static str {
        match self {
            RefusalOracle::Accepted => "bad input accepted",
            RefusalOracle::ServerError => "5xx answer to bad input",
            RefusalOracle::NotAnError => "answer to bad input is neither 2xx nor 4xx",
            RefusalOracle::NoAnswer => "no answer before the timeout",
            RefusalOracle::ConnectionFailed => "connection failed without an answer",
            RefusalOracle::ErrorTypeMissing => "error without an x-amzn-ErrorType",
            RefusalOracle::ErrorMessageMissing => "error body without a JSON message",
            RefusalOracle::ErrorStatusMismatch => "error status differs from its shape's",
            RefusalOracle::ErrorTypeUnknown => "error shape the service model does not declare",
            RefusalOracle::ErrorTypeUnexpected => "error shape other than the ones allowed",
            RefusalOracle::SuccessNotJson => "2xx answer without a JSON object",
            RefusalOracle::Ignored(_) => "bad part ignored where the reference refuses",
            RefusalOracle::OtherRefusal(_) => "refused with another shape than the reference",
            RefusalOracle::UnknownRouteAccepted => "2xx answer to a route outside the service",
        }
    }
}

/// The human label: what broke and the requirement, e.g. `5xx answer to bad input (ERR-3)`.
impl fmt::Display for RefusalOracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text(), self.spec())
    }
}

/// An answer outside the reference: the oracle it departed from, and the part of the answer
/// that shows it (`status: expected an error, got 200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub oracle: RefusalOracle,
    pub detail: String,
}

fn departure(oracle: RefusalOracle, detail: String) -> Option<Departure> {
    Some(Departure { oracle, detail })
}

/// Judges the answer to a request against what `rule` allows: `None` for the reference or an
/// answer as good as it, otherwise the oracle it departed from (a finding when its level is
/// MUST, NON-STRICT otherwise).
pub fn judge(rule: &RawRule<'_>, result: &Result<RawResponse, Trouble>) -> Option<Departure> {
    let response = match result {
        Err(trouble @ Trouble::Timeout { .. }) => {
            return departure(RefusalOracle::NoAnswer, trouble.to_string());
        }
        Err(trouble) => return departure(RefusalOracle::ConnectionFailed, trouble.to_string()),
        Ok(r) => r,
    };
    let status = response.status;
    if (200..300).contains(&status) {
        return accepted(rule, response);
    }
    let start = || format!("{status} {}", body_start(response));
    if status >= 500 {
        return departure(RefusalOracle::ServerError, start());
    }
    if !(400..500).contains(&status) {
        return departure(RefusalOracle::NotAnError, start());
    }
    let Reply::Error(error) = decode::<Value>(response) else {
        return departure(
            RefusalOracle::NotAnError,
            format!("{status} read as a success"),
        );
    };
    match error.kind {
        Some(kind) if rule.kinds.contains(&kind) => reference_refusal(kind, &error, response),
        _ => other_refusal(rule, &error, response),
    }
}

fn body_start(response: &RawResponse) -> String {
    String::from_utf8_lossy(&response.body)
        .chars()
        .take(200)
        .collect()
}

/// A 2xx: allowed or not, and then ERR-4 where the request names an operation.
fn accepted(rule: &RawRule<'_>, response: &RawResponse) -> Option<Departure> {
    let status = response.status;
    let shape = || match decode::<Value>(response) {
        Reply::Broken(trouble) => departure(
            RefusalOracle::SuccessNotJson,
            format!("body: expected a JSON object, got {status} {trouble}"),
        ),
        Reply::Success(_) | Reply::Error(_) => None,
    };
    match rule.accepted {
        Allow::No => departure(
            RefusalOracle::Accepted,
            format!("status: expected an error, got {status}"),
        ),
        // SetCognitoEvents has no output shape: its success may have no body at all.
        Allow::Reference if response.body.is_empty() => None,
        Allow::Reference => shape(),
        Allow::NonStrict(row) => shape().or_else(|| {
            departure(
                RefusalOracle::Ignored(row),
                format!("{status} {}", body_start(response)),
            )
        }),
        Allow::Unstated => departure(
            RefusalOracle::UnknownRouteAccepted,
            format!("{status} {}", body_start(response)),
        ),
    }
}

/// ERR-1: an error's body is a JSON object with a message.
fn message_missing(error: &ErrorReply, response: &RawResponse) -> Option<Departure> {
    if error.message().is_some() {
        return None;
    }
    departure(
        RefusalOracle::ErrorMessageMissing,
        format!(
            "body: expected a JSON object with a message, got {}",
            body_start(response)
        ),
    )
}

/// A refusal of a reference kind: its status (ERR-2) and a message (ERR-1).
fn reference_refusal(
    kind: ErrorKind,
    error: &ErrorReply,
    response: &RawResponse,
) -> Option<Departure> {
    if let Some(missing) = message_missing(error, response) {
        return Some(missing);
    }
    if kind.status() != error.status {
        return departure(
            RefusalOracle::ErrorStatusMismatch,
            format!(
                "status: {} carries {}, got {}",
                kind.type_name(),
                kind.status(),
                error.status
            ),
        );
    }
    None
}

/// A refusal of another kind, or of none: allowed only with the ERR-1 shape, as the rule says.
fn other_refusal(
    rule: &RawRule<'_>,
    error: &ErrorReply,
    response: &RawResponse,
) -> Option<Departure> {
    let names = || {
        if rule.kinds.is_empty() {
            "a shape name".to_owned()
        } else {
            rule.kinds
                .iter()
                .map(|k| k.type_name())
                .collect::<Vec<_>>()
                .join(" or ")
        }
    };
    let Some(name) = error.shape_name() else {
        return departure(
            RefusalOracle::ErrorTypeMissing,
            format!(
                "x-amzn-ErrorType: expected {}, got {:?} (status {})",
                names(),
                error.type_header,
                error.status
            ),
        );
    };
    if rule.other_refusal == Allow::No {
        return departure(
            RefusalOracle::ErrorTypeUnexpected,
            format!("x-amzn-ErrorType: expected {}, got {name}", names()),
        );
    }
    if let Some(missing) = message_missing(error, response) {
        return Some(missing);
    }
    match rule.other_refusal {
        Allow::No | Allow::Reference => None,
        Allow::NonStrict(row) => departure(
            RefusalOracle::OtherRefusal(row),
            format!("{} {name}", error.status),
        ),
        Allow::Unstated => departure(
            RefusalOracle::ErrorTypeUnknown,
            format!("x-amzn-ErrorType: {name} (status {})", error.status),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Call, Model, TokenClaim};
    use crate::spec::{
        DatasetPath, ListRecordsRequest, RecordPatch, UpdateRecordsBody, UpdateRecordsRequest,
    };

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

    fn oracle_of(
        rule: RawRule<'_>,
        result: &Result<RawResponse, Trouble>,
    ) -> Option<RefusalOracle> {
        judge(&rule, result).map(|d| d.oracle)
    }

    #[test]
    fn a_proper_refusal_departs_from_nothing() {
        let ok = response(400, Some("ValidationException"), r#"{"message":"m"}"#);
        assert_eq!(judge(&RawRule::MUST_REFUSE, &ok), None);
        let decorated = response(
            409,
            Some("ResourceConflictException:http://internal.amazon.com/"),
            r#"{"message":"m"}"#,
        );
        assert_eq!(judge(&RawRule::MUST_REFUSE, &decorated), None);
    }

    #[test]
    fn an_error_type_with_an_aws_suffix_is_a_proper_refusal() {
        let suffixed = response(
            400,
            Some("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"),
            r#"{"message":"1 validation error detected"}"#,
        );
        assert_eq!(judge(&RawRule::MUST_REFUSE, &suffixed), None);
        let ignorable = RawRule::refuse_or_ignore(Ambiguity::BadQuery);
        assert_eq!(judge(&ignorable, &suffixed), None);
        let wrong_status = response(
            404,
            Some("ValidationException:http://internal.amazon.com/"),
            r#"{"message":"m"}"#,
        );
        assert_eq!(
            oracle_of(RawRule::MUST_REFUSE, &wrong_status),
            Some(RefusalOracle::ErrorStatusMismatch)
        );
    }

    #[test]
    fn bad_refusals_name_the_broken_oracle() {
        let cases = [
            (response(200, None, "{}"), RefusalOracle::Accepted),
            (
                response(500, Some("InternalErrorException"), r#"{"message":"m"}"#),
                RefusalOracle::ServerError,
            ),
            (response(302, None, ""), RefusalOracle::NotAnError),
            (
                response(400, None, r#"{"message":"m"}"#),
                RefusalOracle::ErrorTypeMissing,
            ),
            (
                response(400, Some(":http://x/"), r#"{"message":"m"}"#),
                RefusalOracle::ErrorTypeMissing,
            ),
            (
                response(400, Some("ResourceConflictException"), r#"{"message":"m"}"#),
                RefusalOracle::ErrorStatusMismatch,
            ),
            (
                response(400, Some("ValidationException"), r#"{"Message":"m"}"#),
                RefusalOracle::ErrorMessageMissing,
            ),
            (
                response(400, Some("BadRequestException"), r#"{"message":"m"}"#),
                RefusalOracle::ErrorTypeUnknown,
            ),
            (Err(Trouble::Timeout { ms: 10 }), RefusalOracle::NoAnswer),
            (
                Err(Trouble::Connection("reset".into())),
                RefusalOracle::ConnectionFailed,
            ),
        ];
        for (result, oracle) in cases {
            assert_eq!(oracle_of(RawRule::MUST_REFUSE, &result), Some(oracle));
        }
    }

    #[test]
    fn refuse_or_ignore_takes_a_2xx_or_a_clean_4xx_but_not_a_5xx() {
        let rule = RawRule::refuse_or_ignore(Ambiguity::BadQuery);
        let ignored = oracle_of(rule, &response(200, None, r#"{"Records":[]}"#));
        assert_eq!(ignored, Some(RefusalOracle::Ignored(Ambiguity::BadQuery)));
        assert!(!RefusalOracle::Ignored(Ambiguity::BadQuery).level().binds());
        let refused = response(400, Some("InvalidParameterException"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(rule, &refused), None);
        let five = response(500, Some("InternalErrorException"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(rule, &five), Some(RefusalOracle::ServerError));
        assert_eq!(
            oracle_of(rule, &response(400, None, "bad")),
            Some(RefusalOracle::ErrorTypeMissing)
        );
        assert_eq!(
            oracle_of(rule, &Err(Trouble::Timeout { ms: 5 })),
            Some(RefusalOracle::NoAnswer)
        );
        let html = Ok(RawResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "text/html".to_owned())],
            body: b"<html/>".to_vec(),
        });
        assert_eq!(oracle_of(rule, &html), Some(RefusalOracle::SuccessNotJson));
    }

    #[test]
    fn other_operations_take_a_2xx_json_or_any_shaped_4xx_but_not_a_500() {
        let rule = RawRule::OTHER_OPERATION;
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
                Some(RefusalOracle::ServerError),
            ),
            (
                response(403, None, r#"{"message":"m"}"#),
                Some(RefusalOracle::ErrorTypeMissing),
            ),
            (
                response(404, Some("NotFound"), "not found"),
                Some(RefusalOracle::ErrorMessageMissing),
            ),
            (
                Err(Trouble::Connection("reset".into())),
                Some(RefusalOracle::ConnectionFailed),
            ),
        ];
        for (result, oracle) in cases {
            assert_eq!(oracle_of(rule, &result), oracle, "{result:?}");
        }
        assert_eq!(
            oracle_of(rule, &response(200, None, "<ok/>")),
            Some(RefusalOracle::SuccessNotJson)
        );
    }

    #[test]
    fn unknown_routes_take_any_shaped_4xx_and_note_a_2xx() {
        let rule = RawRule::UNKNOWN_ROUTE;
        let any_shape = response(405, Some("MethodNotAllowed"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(rule, &any_shape), None);
        let accepted = oracle_of(rule, &response(200, None, "<html/>"));
        assert_eq!(accepted, Some(RefusalOracle::UnknownRouteAccepted));
        assert_eq!(
            oracle_of(rule, &response(404, None, "")),
            Some(RefusalOracle::ErrorTypeMissing)
        );
        assert_eq!(
            oracle_of(rule, &response(502, None, "")),
            Some(RefusalOracle::ServerError)
        );
    }

    #[test]
    fn a_case_rule_holds_the_refusal_to_its_kinds_with_the_words_transcripts_show() {
        let rule = RawRule {
            kinds: &[ErrorKind::Serialization],
            other_refusal: Allow::No,
            accepted: Allow::No,
        };
        assert_eq!(rule.to_string(), "an error: 400 SerializationException");
        let detail = |result| judge(&rule, &result).map(|d| (d.oracle, d.detail));
        assert_eq!(
            detail(response(
                400,
                Some("ValidationException"),
                r#"{"message":"m"}"#
            )),
            Some((
                RefusalOracle::ErrorTypeUnexpected,
                "x-amzn-ErrorType: expected SerializationException, got ValidationException"
                    .to_owned()
            ))
        );
        assert_eq!(
            detail(response(
                409,
                Some("SerializationException"),
                r#"{"message":"m"}"#
            )),
            Some((
                RefusalOracle::ErrorStatusMismatch,
                "status: SerializationException carries 400, got 409".to_owned()
            ))
        );
        assert_eq!(
            detail(response(200, None, "{}")),
            Some((
                RefusalOracle::Accepted,
                "status: expected an error, got 200".to_owned()
            ))
        );
    }

    #[test]
    fn another_shape_allowed_by_a_row_is_non_strict_on_that_row() {
        let rule = RawRule {
            kinds: &[ErrorKind::UnknownOperation, ErrorKind::ResourceNotFound],
            other_refusal: Allow::NonStrict(Ambiguity::UnknownRoute),
            accepted: Allow::No,
        };
        assert_eq!(
            rule.to_string(),
            "an error: 404 UnknownOperationException or 404 ResourceNotFoundException; also \
             allowed: any 4xx with the error shape [AMB-X-UNKNOWN-ROUTE]"
        );
        let other = response(405, Some("MethodNotAllowed"), r#"{"message":"m"}"#);
        let departed = oracle_of(rule, &other);
        assert_eq!(
            departed,
            Some(RefusalOracle::OtherRefusal(Ambiguity::UnknownRoute))
        );
        assert!(departed.is_some_and(|o| o.spec() == "AMB-X-UNKNOWN-ROUTE"));
        let reference = response(404, Some("UnknownOperationException"), r#"{"message":"m"}"#);
        assert_eq!(oracle_of(rule, &reference), None);
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
        assert_ne!(
            RawRule::from_model(&expect(&ahead), None).accepted,
            Allow::No
        );
        // The AMB- row allows a 2xx even where the model only refuses.
        let zero = list(ListRecordsRequest {
            path: path(),
            max_results: Some(0),
            ..ListRecordsRequest::default()
        });
        assert_eq!(
            RawRule::from_model(&expect(&zero), Some(Ambiguity::MaxResults)),
            RawRule::refuse_or_ignore(Ambiguity::MaxResults)
        );
        // Without a row, the model's refusal stands.
        let mut bad_label = path();
        bad_label.dataset_name = "no/slash".into();
        let refused = list(ListRecordsRequest {
            path: bad_label,
            ..ListRecordsRequest::default()
        });
        assert_eq!(
            RawRule::from_model(&expect(&refused), None),
            RawRule::MUST_REFUSE
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
                    record_patches: Some(vec![RecordPatch {
                        op: Some("replace".to_owned()),
                        key: Some("a".to_owned()),
                        value: Some("v".to_owned()),
                        sync_count: Some(0),
                        device_last_modified_date: None,
                    }]),
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
            RawRule::from_model(&model.expect(&ahead, now), None),
            RawRule::MUST_REFUSE
        );
    }
}
