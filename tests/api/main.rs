//! Integration tests over real HTTP against the reference server.
//!
//! Every test spawns its own in-memory server on a loopback port and works on identities no
//! other test uses. Test names start with the SPEC.md requirement ID they check (or the AMB- row
//! of SPEC §8 whose reference outcome they pin) and read as a sentence.

mod datasets;
mod errors;
mod harness;
mod limits;
mod list_records;
mod transcripts;
mod update_records;
mod validation;
