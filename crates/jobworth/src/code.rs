//! [`ErrorCode`]: the `code` of an error response, typed.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a known code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeFamily {
    /// A business code of `GET /v3/zhima/customer/jobworth/authentication` (upper snake case).
    Jobworth,
    /// A common gateway code of the v3 protocol (kebab case).
    Gateway,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, $family:ident; )+) => {
        /// The `code` of an Alipay v3 error response.
        ///
        /// Known Jobworth business codes and common gateway codes have a variant; anything else
        /// is kept verbatim in [`ErrorCode::Other`] (an error body without a `code` gives
        /// `Other("")`). [`ErrorCode::as_str`] returns the wire spelling.
        ///
        /// ```
        /// use jobworth::ErrorCode;
        /// assert_eq!(ErrorCode::from("TOKEN_INVALID"), ErrorCode::TokenInvalid);
        /// assert_eq!(ErrorCode::InvalidSignature.as_str(), "invalid-signature");
        /// assert_eq!("SOMETHING_NEW".parse::<ErrorCode>().unwrap(), ErrorCode::Other("SOMETHING_NEW".into()));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
            /// A code this version does not know, kept verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// Every known code, Jobworth codes first.
            pub const KNOWN: &'static [ErrorCode] = &[$( ErrorCode::$variant, )+];

            /// The wire spelling, e.g. `"TOKEN_INVALID"` or `"invalid-signature"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorCode::$variant => $wire, )+
                    ErrorCode::Other(s) => s,
                }
            }

            /// Which family a known code belongs to; `None` for [`ErrorCode::Other`].
            pub fn family(&self) -> Option<CodeFamily> {
                match self {
                    $( ErrorCode::$variant => Some(CodeFamily::$family), )+
                    ErrorCode::Other(_) => None,
                }
            }

            fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => ErrorCode::$variant, )+
                    other => ErrorCode::Other(other.to_string()),
                }
            }
        }
    };
}

error_codes! {
    /// `USER_NOT_AUTHORIZE`: the user has not authorised (or cancelled at the desk), or the
    /// user identifier is not the verified user's.
    UserNotAuthorize = "USER_NOT_AUTHORIZE", Jobworth;
    /// `TOKEN_INVALID`: the `once_token` is unknown, expired or already consumed.
    TokenInvalid = "TOKEN_INVALID", Jobworth;
    /// `NOT_OPEN_ZM`: the user has not activated Zhima credit.
    NotOpenZm = "NOT_OPEN_ZM", Jobworth;
    /// `USER_NOT_OPEN_JOBWORTH`: the user has not activated the Jobworth work card.
    UserNotOpenJobworth = "USER_NOT_OPEN_JOBWORTH", Jobworth;
    /// `INVALID_PARAMETER`: a parameter is missing or invalid.
    InvalidParameter = "INVALID_PARAMETER", Jobworth;
    /// `JOB_WORTH_BLACK_LIST`: blocked by the Jobworth blacklist.
    JobWorthBlackList = "JOB_WORTH_BLACK_LIST", Jobworth;
    /// `SYSTEM_ERROR`: internal error on Alipay's side.
    SystemError = "SYSTEM_ERROR", Jobworth;
    /// `MERCHANT_INTERCEPT`: merchant-level block (e.g. wrong `service_id`).
    MerchantIntercept = "MERCHANT_INTERCEPT", Jobworth;
    /// `RISK_INTERCEPT`: blocked by risk control.
    RiskIntercept = "RISK_INTERCEPT", Jobworth;
    /// `OPEN_ZM_ACCOUNT_INTERCEPT`: blocked while opening the Zhima account.
    OpenZmAccountIntercept = "OPEN_ZM_ACCOUNT_INTERCEPT", Jobworth;
    /// `CARD_NO_NOT_MATCH`: `cert_no` does not match the verified user.
    CardNoNotMatch = "CARD_NO_NOT_MATCH", Jobworth;
    /// `MOBILE_NO_NOT_MATCH`: mobile number mismatch.
    MobileNoNotMatch = "MOBILE_NO_NOT_MATCH", Jobworth;
    /// `USER_NAME_NOT_MATCH`: name mismatch.
    UserNameNotMatch = "USER_NAME_NOT_MATCH", Jobworth;
    /// `WRONG_OUT_AGREEMENT_NO_INTERCEPT`: `conn_key` unknown or not bound to this token.
    WrongOutAgreementNoIntercept = "WRONG_OUT_AGREEMENT_NO_INTERCEPT", Jobworth;
    /// `TOKEN_NOT_MATCH_IDENTITY_TYPE`: `identity_type` differs from the token's.
    TokenNotMatchIdentityType = "TOKEN_NOT_MATCH_IDENTITY_TYPE", Jobworth;
    /// `PARAM_ERROR`: parameter error (e.g. an ID number with a wrong check digit).
    ParamError = "PARAM_ERROR", Jobworth;

    /// `missing-signature`: no or garbled `authorization` header.
    MissingSignature = "missing-signature", Gateway;
    /// `invalid-signature`: the request signature does not verify (or a replayed nonce).
    InvalidSignature = "invalid-signature", Gateway;
    /// `missing-app-id`
    MissingAppId = "missing-app-id", Gateway;
    /// `invalid-app-id`: the app id is unknown.
    InvalidAppId = "invalid-app-id", Gateway;
    /// `missing-timestamp`
    MissingTimestamp = "missing-timestamp", Gateway;
    /// `invalid-timestamp`: the request timestamp is outside the accepted window.
    InvalidTimestamp = "invalid-timestamp", Gateway;
    /// `illegal-timestamp`
    IllegalTimestamp = "illegal-timestamp", Gateway;
    /// `app-cert-not-exist`: the `app_cert_sn` is not a certificate issued to the app.
    AppCertNotExist = "app-cert-not-exist", Gateway;
    /// `app-cert-expired`
    AppCertExpired = "app-cert-expired", Gateway;
    /// `missing-app-cert-sn`
    MissingAppCertSn = "missing-app-cert-sn", Gateway;
    /// `missing-alipay-root-cert-sn`
    MissingAlipayRootCertSn = "missing-alipay-root-cert-sn", Gateway;
    /// `invalid-alipay-root-cert-sn`
    InvalidAlipayRootCertSn = "invalid-alipay-root-cert-sn", Gateway;
    /// `decryption-error`: the request body does not decrypt with the app's AES key.
    DecryptionError = "decryption-error", Gateway;
    /// `missing-encrypt-key`
    MissingEncryptKey = "missing-encrypt-key", Gateway;
    /// `invalid-encrypt-type`
    InvalidEncryptType = "invalid-encrypt-type", Gateway;
    /// `invalid-method`: unknown API path.
    InvalidMethod = "invalid-method", Gateway;
    /// `invalid-parameter`: common parameter error.
    GatewayInvalidParameter = "invalid-parameter", Gateway;
    /// `illegal-json`
    IllegalJson = "illegal-json", Gateway;
    /// `invalid-auth-token`
    InvalidAuthToken = "invalid-auth-token", Gateway;
    /// `invalid-app-auth-token`
    InvalidAppAuthToken = "invalid-app-auth-token", Gateway;
    /// `app-auth-token-time-out`
    AppAuthTokenTimeOut = "app-auth-token-time-out", Gateway;
    /// `insufficient-isv-permissions`
    InsufficientIsvPermissions = "insufficient-isv-permissions", Gateway;
    /// `app-call-limited`: rate limited.
    AppCallLimited = "app-call-limited", Gateway;
    /// `method-call-limited`: rate limited.
    MethodCallLimited = "method-call-limited", Gateway;
    /// `unknow-error` (sic): gateway-side failure.
    UnknowError = "unknow-error", Gateway;
}

impl ErrorCode {
    /// Whether the code itself says the same request may succeed later (`SYSTEM_ERROR`,
    /// `unknow-error`, rate limits).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::SystemError | ErrorCode::UnknowError | ErrorCode::AppCallLimited | ErrorCode::MethodCallLimited
        )
    }

    /// What a person can do about this code, when there is something specific to say.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::TokenInvalid => {
                "the once_token is unknown, expired or already used; start a new step 1 (new conn_key and once_token)"
            }
            ErrorCode::TokenNotMatchIdentityType => "send the identity_type the once_token was issued for",
            ErrorCode::WrongOutAgreementNoIntercept => "conn_key must be the out_agreement_no of step 1",
            ErrorCode::MerchantIntercept => "check service_id: it must be the zm_service_id of step 1",
            ErrorCode::SystemError | ErrorCode::UnknowError => "a failure on Alipay's side",
            ErrorCode::MissingSignature | ErrorCode::InvalidSignature => {
                "check that the app private key matches the public key registered for this app id"
            }
            ErrorCode::InvalidAppId => "check the app id and the endpoint",
            ErrorCode::InvalidTimestamp | ErrorCode::IllegalTimestamp | ErrorCode::MissingTimestamp => {
                "check this machine's clock"
            }
            ErrorCode::AppCertNotExist | ErrorCode::AppCertExpired => {
                "the app certificate is not the one issued for this app id; configure the current app certificate"
            }
            ErrorCode::DecryptionError => "the encrypt key differs from the AES key registered for this app",
            ErrorCode::InvalidMethod => "the path is not a known v3 API",
            ErrorCode::AppCallLimited | ErrorCode::MethodCallLimited => "rate limited; retry later",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        ErrorCode::from_wire(s)
    }
}

impl From<String> for ErrorCode {
    fn from(s: String) -> Self {
        match ErrorCode::from_wire(&s) {
            ErrorCode::Other(_) => ErrorCode::Other(s),
            known => known,
        }
    }
}

impl FromStr for ErrorCode {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(ErrorCode::from_wire(s))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ErrorCode::from(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::from(code.as_str()), code);
            assert_eq!(code.to_string(), code.as_str());
            assert!(code.family().is_some());
        }
        let jobworth = ErrorCode::KNOWN.iter().filter(|c| c.family() == Some(CodeFamily::Jobworth)).count();
        assert_eq!(jobworth, 16);
        assert_eq!(ErrorCode::from(String::from("x-y")), ErrorCode::Other("x-y".into()));
        assert_eq!(ErrorCode::Other("x-y".into()).family(), None);
    }
}
