//! Arbitrary bytes as an UpdateRecords body: decoding and validation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cogsync::fuzzing::json_body(data));
