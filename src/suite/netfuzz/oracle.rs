//! The oracles the fuzzer files findings under: the refusal oracle's (`suite::refusal`) for the
//! answers to malformed requests, plus the state check after them and the model's judgement of
//! valid traffic.
//!
//! Every oracle has a permanent ID, the spec row it enforces and its [`Level`]: only a MUST
//! oracle fails an endpoint; a SHOULD or UNSTATED one is a NON-STRICT note unless the run is
//! strict (docs/spec.md, "Never fail a correct server").

use std::fmt;

use crate::spec::Level;
use crate::suite::refusal::RefusalOracle;

/// One way an answer can break the specification, as the fuzzer checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FuzzOracle {
    /// The answer to a malformed request is not one the spec allows for it.
    Refusal(RefusalOracle),
    /// A ListRecords after a refused (or ignored) request no longer matches the model.
    StateChanged,
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
            FuzzOracle::Refusal(oracle) => oracle.id(),
            FuzzOracle::StateChanged => "malformed.state-changed",
            FuzzOracle::ValidNoAnswer => "valid.no-answer",
            FuzzOracle::ValidServerError => "valid.server-error",
            FuzzOracle::ValidMismatch => "valid.mismatch",
            FuzzOracle::ValidNonStrict => "valid.non-strict",
        }
    }

    /// The requirement the oracle enforces (docs/spec.md).
    pub const fn spec(self) -> &'static str {
        match self {
            FuzzOracle::Refusal(oracle) => oracle.spec(),
            FuzzOracle::StateChanged | FuzzOracle::ValidNoAnswer | FuzzOracle::ValidServerError => {
                "ERR-3"
            }
            FuzzOracle::ValidMismatch => "§1–§7",
            FuzzOracle::ValidNonStrict => "§8",
        }
    }

    /// How strongly the requirement binds: only MUST fails an endpoint without `--strict`.
    pub const fn level(self) -> Level {
        match self {
            FuzzOracle::Refusal(oracle) => oracle.level(),
            // §8: an allowed outcome other than the reference.
            FuzzOracle::ValidNonStrict => Level::Should,
            FuzzOracle::StateChanged
            | FuzzOracle::ValidNoAnswer
            | FuzzOracle::ValidServerError
            | FuzzOracle::ValidMismatch => Level::Must,
        }
    }

    fn text(self) -> &'static str {
        match self {
            FuzzOracle::Refusal(oracle) => oracle.text(),
            FuzzOracle::StateChanged => "refused or ignored request changed state",
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
            FuzzOracle::Refusal(
                RefusalOracle::ServerError
                    | RefusalOracle::NotAnError
                    | RefusalOracle::NoAnswer
                    | RefusalOracle::ConnectionFailed
                    | RefusalOracle::ErrorTypeMissing
                    | RefusalOracle::ErrorMessageMissing
                    | RefusalOracle::ErrorStatusMismatch
                    | RefusalOracle::ErrorTypeUnknown
                    | RefusalOracle::ErrorTypeUnexpected
            ) | FuzzOracle::ValidNoAnswer
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ambiguity;

    /// Every oracle with the level it must have: one table for the level and the ID tests.
    const ORACLE_LEVELS: [(FuzzOracle, Level); 19] = [
        (FuzzOracle::Refusal(RefusalOracle::Accepted), Level::Must),
        (FuzzOracle::Refusal(RefusalOracle::ServerError), Level::Must),
        (FuzzOracle::Refusal(RefusalOracle::NotAnError), Level::Must),
        (FuzzOracle::Refusal(RefusalOracle::NoAnswer), Level::Must),
        (
            FuzzOracle::Refusal(RefusalOracle::ConnectionFailed),
            Level::Must,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::ErrorTypeMissing),
            Level::Must,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::ErrorMessageMissing),
            Level::Must,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::ErrorStatusMismatch),
            Level::Must,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::ErrorTypeUnknown),
            Level::Should,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::ErrorTypeUnexpected),
            Level::Must,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::SuccessNotJson),
            Level::Must,
        ),
        (FuzzOracle::StateChanged, Level::Must),
        (
            FuzzOracle::Refusal(RefusalOracle::Ignored(Ambiguity::BadQuery)),
            Level::Should,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::OtherRefusal(Ambiguity::HugeBody)),
            Level::Unstated,
        ),
        (
            FuzzOracle::Refusal(RefusalOracle::UnknownRouteAccepted),
            Level::Unstated,
        ),
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
            FuzzOracle::Refusal(RefusalOracle::Ignored(Ambiguity::MaxResults)).spec(),
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
    fn the_ids_findings_were_saved_with_stay_the_same() {
        let ids: Vec<&str> = ORACLE_LEVELS.iter().map(|(o, _)| o.id()).collect();
        for id in [
            "malformed.accepted",
            "malformed.server-error",
            "malformed.not-an-error",
            "malformed.no-answer",
            "malformed.connection-failed",
            "malformed.error-type-missing",
            "malformed.error-message-missing",
            "malformed.error-status-mismatch",
            "malformed.error-type-unknown",
            "malformed.success-not-json",
            "malformed.state-changed",
            "malformed.ignored",
            "malformed.unknown-route-accepted",
            "valid.no-answer",
            "valid.server-error",
            "valid.mismatch",
            "valid.non-strict",
        ] {
            assert!(ids.contains(&id), "{id}");
        }
        assert_eq!(
            FuzzOracle::Refusal(RefusalOracle::ErrorTypeMissing).to_string(),
            "error without an x-amzn-ErrorType (ERR-1)"
        );
    }
}
