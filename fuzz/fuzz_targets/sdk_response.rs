#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jobworth_fuzz::sdk_checks::sdk_response(data));
