//! Operation sequences against the model and the in-process reference server.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cogsync::fuzzing::model_vs_server(data));
