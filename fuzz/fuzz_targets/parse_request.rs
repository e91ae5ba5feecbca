//! Arbitrary bytes as an HTTP-like request into the server's request parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cogsync::fuzzing::parse_request(data));
