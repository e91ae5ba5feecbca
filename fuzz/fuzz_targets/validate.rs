//! Structure-aware UpdateRecords requests: validators vs an independent regex reading.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cogsync::fuzzing::validate(data));
