//! Properties of the SDK's response model (crate `jobworth`) that must hold for any body.
//!
//! Depends only on `jobworth` and `serde_json`: also compiled into
//! `crates/jobworth-sandbox/tests/reliability_fuzz_sdk.rs`, which replays the saved inputs.

use jobworth::{AuthenticationResult, ErrorCode, IdentityResult, TokenStatus};

/// A verified, decrypted 2xx body as the SDK parses it (`AuthenticationResult` from JSON
/// bytes), and a wire code as the SDK types it (`ErrorCode`).
pub fn sdk_response(data: &[u8]) {
    if let Ok(r) = serde_json::from_slice::<AuthenticationResult>(data) {
        // What `--json` prints must parse back to the same model.
        let text = serde_json::to_string(&r).expect("a parsed result serialises");
        let again: AuthenticationResult = serde_json::from_str(&text).expect("own output parses");
        assert_eq!(again, r, "round trip through {text}");
        assert_eq!(IdentityResult::from(r.identity_result.as_str()), r.identity_result);
        if let Some(t) = &r.token_status {
            assert_eq!(&TokenStatus::from(t.as_str()), t);
        }
    }
    // Error bodies: the SDK reads `code` as a string and types it; unknown codes stay verbatim.
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(serde_json::Value::String(code)) = obj.get("code") {
            let typed = ErrorCode::from(code.as_str());
            assert_eq!(typed.as_str(), code);
            assert_eq!(ErrorCode::from(typed.as_str()), typed);
        }
    }
}
