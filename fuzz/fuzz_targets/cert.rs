#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jobworth_fuzz::core_checks::cert(data));
