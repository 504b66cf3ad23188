//! The typed answer of the Jobworth authentication query.

use serde::{Deserialize, Serialize};

use crate::values::{IdentityResult, TokenStatus};

/// The verified answer of `GET /v3/zhima/customer/jobworth/authentication`.
///
/// Unknown fields are ignored; unknown enum values are kept. Serialises with the wire's
/// snake_case names, leaving out absent fields.
///
/// ```
/// use jobworth_wire::{AuthenticationResult, IdentityResult, TokenStatus};
/// let r: AuthenticationResult = serde_json::from_str(
///     r#"{"identity_result":"SUCCESS","token_status":"FINISH","user_id":"2088000000000001","new":1}"#,
/// ).unwrap();
/// assert_eq!(r.identity_result, IdentityResult::Success);
/// assert_eq!(r.token_status, Some(TokenStatus::Finish));
/// assert_eq!(serde_json::to_string(&r).unwrap(),
///     r#"{"identity_result":"SUCCESS","token_status":"FINISH","user_id":"2088000000000001"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthenticationResult {
    /// `identity_result`.
    pub identity_result: IdentityResult,
    /// `token_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_status: Option<TokenStatus>,
    /// `identity_result_skip_url`: link to Zhima's result page inside Alipay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_result_skip_url: Option<String>,
    /// `user_id`: the verified user's member id (2088…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `open_id`: the verified user's per-app OpenID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
    /// `merchant_identity_id`: stable per merchant and user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_identity_id: Option<String>,
}

impl AuthenticationResult {
    /// A result with only `identity_result` set (for tests and fixtures).
    pub fn new(identity_result: IdentityResult) -> Self {
        AuthenticationResult {
            identity_result,
            token_status: None,
            identity_result_skip_url: None,
            user_id: None,
            open_id: None,
            merchant_identity_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_survive_a_round_trip() {
        let r: AuthenticationResult =
            serde_json::from_str(r#"{"identity_result":"MAYBE","token_status":"NEW_STATE"}"#).unwrap();
        assert_eq!(r.identity_result, IdentityResult::Other("MAYBE".into()));
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"identity_result":"MAYBE","token_status":"NEW_STATE"}"#);
    }

    #[test]
    fn identity_result_is_required() {
        assert!(serde_json::from_str::<AuthenticationResult>("{}").is_err());
    }

    #[test]
    fn every_field_round_trips_with_its_wire_name() {
        let wire = r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING","identity_result_skip_url":"alipays://x","user_id":"2088000000000001","open_id":"074abc","merchant_identity_id":"m1"}"#;
        let r: AuthenticationResult = serde_json::from_str(wire).unwrap();
        assert_eq!(r.identity_result, IdentityResult::WaitingVerify);
        assert_eq!(r.token_status, Some(TokenStatus::Processing));
        assert_eq!(r.identity_result_skip_url.as_deref(), Some("alipays://x"));
        assert_eq!(r.open_id.as_deref(), Some("074abc"));
        assert_eq!(r.merchant_identity_id.as_deref(), Some("m1"));
        assert_eq!(serde_json::to_string(&r).unwrap(), wire);
        let legacy: AuthenticationResult = serde_json::from_str(r#"{"identity_result":"T"}"#).unwrap();
        assert_eq!(serde_json::to_string(&legacy).unwrap(), r#"{"identity_result":"SUCCESS"}"#);
        assert_eq!(
            AuthenticationResult::new(IdentityResult::Failed),
            serde_json::from_str(r#"{"identity_result":"FAILED"}"#).unwrap()
        );
    }
}
