//! Checks run on every fuzz input. They live in a library so the fuzz targets stay one line
//! each, and so `cargo test` can replay saved inputs through exactly the same code
//! (`crates/alipay-v3/tests/fuzz_regressions.rs` includes `core_checks.rs` by path,
//! `crates/jobworth-sandbox/tests/reliability_fuzz_sdk.rs` includes `sdk_checks.rs`).

pub mod core_checks;
pub mod sdk_checks;
