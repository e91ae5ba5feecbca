//! How strongly a requirement binds: the level every check knows, so that only a MUST
//! deviation fails an endpoint (docs/spec.md, "Never fail a correct server").

use serde::{Deserialize, Serialize};

/// The strength of the requirement a check enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Stated by the specification as binding: a deviation is FAIL.
    Must,
    /// A recommendation: a deviation is NON-STRICT (FAIL only with `--strict`).
    Should,
    /// The specification says nothing about the situation; the check holds the endpoint to
    /// the reference choice only as a recommendation: NON-STRICT, as for SHOULD.
    Unstated,
}

impl Level {
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Unstated => "UNSTATED",
        }
    }

    /// Whether a deviation at this level fails an endpoint without `--strict`.
    pub const fn binds(self) -> bool {
        matches!(self, Level::Must)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
