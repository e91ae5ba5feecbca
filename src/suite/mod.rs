//! The conformance run: named cases and model-based random sequences against any endpoint.

pub mod cases;
pub mod concurrent;
pub mod events;
pub mod linear;
pub mod machine;
pub mod netfuzz;
pub mod operations;
pub mod pacer;
pub mod partition;
pub mod refusal;
pub mod run;
pub mod session;
pub mod token_book;
pub mod verdict;
