//! cogsync: a conformance suite, reference model and reference server for the Amazon Cognito
//! Sync dataset API.

pub mod cli;
pub mod client;
pub mod fuzzing;
pub mod model;
pub mod report;
pub mod server;
pub mod spec;
pub mod suite;
