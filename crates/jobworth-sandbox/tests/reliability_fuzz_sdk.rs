//! Replays the `sdk_response` fuzz seeds and saved findings (`fuzz/seeds/sdk_response/`,
//! `fuzz/regressions/sdk_response/`) through the fuzz target's own checks on every `cargo test`.
//! (The core targets are replayed by `crates/alipay-v3/tests/fuzz_regressions.rs`.)

#[path = "../../../fuzz/src/sdk_checks.rs"]
mod sdk_checks;

use std::path::Path;

fn replay(kind: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join("sdk_response");
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut ran = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| sdk_checks::sdk_response(&data));
        assert!(outcome.is_ok(), "{} fails the sdk_response checks", path.display());
        ran += 1;
    }
    ran
}

#[test]
fn sdk_response_seeds_and_findings_pass_their_checks() {
    assert!(replay("seeds") >= 5, "the seed corpus is missing");
    replay("regressions");
}

#[test]
fn unknown_enum_values_pass_the_checks() {
    // An unknown identity_result is kept verbatim and round-trips.
    sdk_checks::sdk_response(br#"{"identity_result":"SOMETHING_NEW","token_status":"FINISH"}"#);
    let r: jobworth::AuthenticationResult = serde_json::from_slice(br#"{"identity_result":"SOMETHING_NEW"}"#).unwrap();
    assert_eq!(r.identity_result.as_str(), "SOMETHING_NEW");
}
