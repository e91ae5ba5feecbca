//! Bodies of the fuzz targets, as plain library functions.
//!
//! Each file in `fuzz/fuzz_targets/` is one call into a function here, so the same bodies run
//! under libFuzzer (nightly, with sanitizers) and in `cargo test` on stable, which replays the
//! committed corpus (`tests/fuzz_corpus.rs`). A target reports a finding by panicking.
//!
//! | target | input | property |
//! |---|---|---|
//! | `parse_request` | HTTP-like text ([`http_text`]) | no panic; accepted requests round-trip |
//! | `validate` | structure-aware UpdateRecords | validators agree with a regex/length reading |
//! | `json_body` | an UpdateRecords body | no panic; decoding never amplifies its input |
//! | `model_vs_server` | structure-aware sequences | every server answer is one the model allows |

pub mod codec;
pub mod http_text;
pub mod in_process;
pub mod model_server;
pub mod seeds;
pub mod validate;

pub use http_text::{json_body, parse_request_target as parse_request};
pub use model_server::model_vs_server;
pub use validate::validate;

/// A fuzz target body: panics on a finding.
pub type TargetFn = fn(&[u8]);

/// Every target by its cargo-fuzz name, for corpus replay and seed generation.
pub const TARGETS: [(&str, TargetFn); 4] = [
    ("parse_request", parse_request),
    ("validate", validate),
    ("json_body", json_body),
    ("model_vs_server", model_vs_server),
];
