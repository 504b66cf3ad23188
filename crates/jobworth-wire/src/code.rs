//! The `code` of an error response: typed as [`ErrorCode`], and spelled out as constants in
//! [`business`] and [`gateway`] for code that writes them (the sandbox).

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
    /// A business code of another endpoint of the product family (work card, résumé, job data,
    /// pictures, positions, credit agreement) that the query does not document. Codes the query
    /// also documents (`INVALID_PARAMETER`, `SYSTEM_ERROR`, `USER_NOT_AUTHORIZE`) stay
    /// [`CodeFamily::Jobworth`].
    JobworthFamily,
    /// A common gateway code of the v3 protocol (kebab case).
    Gateway,
}

macro_rules! error_codes {
    ($(
        $(#[$mdoc:meta])*
        $module:ident: $family:ident {
            $( $(#[$doc:meta])* $variant:ident = $konst:ident = $wire:literal; )+
        }
    )+) => {
        $(
            $(#[$mdoc])*
            ///
            /// Each constant is the exact wire spelling of the [`ErrorCode`] variant of the same meaning.
            pub mod $module {
                $( $(#[$doc])* pub const $konst: &str = $wire; )+
            }
        )+

        /// The `code` of an Alipay v3 error response.
        ///
        /// Known Jobworth business codes and common gateway codes have a variant; anything else
        /// is kept verbatim in [`ErrorCode::Other`] (an error body without a `code` gives
        /// `Other("")`). [`ErrorCode::as_str`] returns the wire spelling; the same spellings are
        /// constants in [`business`] and [`gateway`].
        ///
        /// ```
        /// use jobworth_wire::{code, ErrorCode};
        /// assert_eq!(ErrorCode::from("TOKEN_INVALID"), ErrorCode::TokenInvalid);
        /// assert_eq!(ErrorCode::InvalidSignature.as_str(), code::gateway::INVALID_SIGNATURE);
        /// assert_eq!("SOMETHING_NEW".parse::<ErrorCode>().unwrap(), ErrorCode::Other("SOMETHING_NEW".into()));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $( $(#[$doc])* $variant, )+ )+
            /// A code this version does not know, kept verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// Every known code, Jobworth codes first.
            pub const KNOWN: &'static [ErrorCode] = &[$( $( ErrorCode::$variant, )+ )+];

            /// The wire spelling, e.g. `"TOKEN_INVALID"` or `"invalid-signature"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $( ErrorCode::$variant => $module::$konst, )+ )+
                    ErrorCode::Other(s) => s,
                }
            }

            /// Which family a known code belongs to; `None` for [`ErrorCode::Other`].
            pub fn family(&self) -> Option<CodeFamily> {
                match self {
                    $( $( ErrorCode::$variant => Some(CodeFamily::$family), )+ )+
                    ErrorCode::Other(_) => None,
                }
            }

            fn from_wire(s: &str) -> Self {
                match s {
                    $( $( $module::$konst => ErrorCode::$variant, )+ )+
                    other => ErrorCode::Other(other.to_string()),
                }
            }
        }
    };
}

error_codes! {
    /// The business codes of the authentication query (upper snake case).
    business: Jobworth {
        /// `USER_NOT_AUTHORIZE`: the user has not authorised (or cancelled at the desk), or the
        /// user identifier is not the verified user's.
        UserNotAuthorize = USER_NOT_AUTHORIZE = "USER_NOT_AUTHORIZE";
        /// `TOKEN_INVALID`: the `once_token` is unknown, expired or already consumed.
        TokenInvalid = TOKEN_INVALID = "TOKEN_INVALID";
        /// `NOT_OPEN_ZM`: the user has not activated Zhima credit.
        NotOpenZm = NOT_OPEN_ZM = "NOT_OPEN_ZM";
        /// `USER_NOT_OPEN_JOBWORTH`: the user has not activated the Jobworth work card.
        UserNotOpenJobworth = USER_NOT_OPEN_JOBWORTH = "USER_NOT_OPEN_JOBWORTH";
        /// `INVALID_PARAMETER`: a parameter is missing or invalid.
        InvalidParameter = INVALID_PARAMETER = "INVALID_PARAMETER";
        /// `JOB_WORTH_BLACK_LIST`: blocked by the Jobworth blacklist.
        JobWorthBlackList = JOB_WORTH_BLACK_LIST = "JOB_WORTH_BLACK_LIST";
        /// `SYSTEM_ERROR`: internal error on Alipay's side.
        SystemError = SYSTEM_ERROR = "SYSTEM_ERROR";
        /// `MERCHANT_INTERCEPT`: merchant-level block (e.g. wrong `service_id`).
        MerchantIntercept = MERCHANT_INTERCEPT = "MERCHANT_INTERCEPT";
        /// `RISK_INTERCEPT`: blocked by risk control.
        RiskIntercept = RISK_INTERCEPT = "RISK_INTERCEPT";
        /// `OPEN_ZM_ACCOUNT_INTERCEPT`: blocked while opening the Zhima account.
        OpenZmAccountIntercept = OPEN_ZM_ACCOUNT_INTERCEPT = "OPEN_ZM_ACCOUNT_INTERCEPT";
        /// `CARD_NO_NOT_MATCH`: `cert_no` does not match the verified user.
        CardNoNotMatch = CARD_NO_NOT_MATCH = "CARD_NO_NOT_MATCH";
        /// `MOBILE_NO_NOT_MATCH`: mobile number mismatch.
        MobileNoNotMatch = MOBILE_NO_NOT_MATCH = "MOBILE_NO_NOT_MATCH";
        /// `USER_NAME_NOT_MATCH`: name mismatch.
        UserNameNotMatch = USER_NAME_NOT_MATCH = "USER_NAME_NOT_MATCH";
        /// `WRONG_OUT_AGREEMENT_NO_INTERCEPT`: `conn_key` unknown or not bound to this token.
        WrongOutAgreementNoIntercept = WRONG_OUT_AGREEMENT_NO_INTERCEPT = "WRONG_OUT_AGREEMENT_NO_INTERCEPT";
        /// `TOKEN_NOT_MATCH_IDENTITY_TYPE`: `identity_type` differs from the token's.
        TokenNotMatchIdentityType = TOKEN_NOT_MATCH_IDENTITY_TYPE = "TOKEN_NOT_MATCH_IDENTITY_TYPE";
        /// `PARAM_ERROR`: parameter error (e.g. an ID number with a wrong check digit).
        ParamError = PARAM_ERROR = "PARAM_ERROR";
    }
    /// The business codes the other endpoints of the product family add (upper snake case;
    /// `ZM.SYSTEM_ERROR` with its dot). [`crate::family`] lists each endpoint's codes.
    family: JobworthFamily {
        /// `ILLEGAL_ARGUMENT`: an argument is invalid (work card, job data, picture).
        IllegalArgument = ILLEGAL_ARGUMENT = "ILLEGAL_ARGUMENT";
        /// `BLACK_CONTROL`: the user is under blacklist control (work card).
        BlackControl = BLACK_CONTROL = "BLACK_CONTROL";
        /// `JOB_ID_NOT_MATCH`: `job_id` is not a known job (work card).
        JobIdNotMatch = JOB_ID_NOT_MATCH = "JOB_ID_NOT_MATCH";
        /// `CONFIG_ERROR_WITHOUT_SERVICE_ID`: the merchant has no service configured (work card).
        ConfigErrorWithoutServiceId = CONFIG_ERROR_WITHOUT_SERVICE_ID = "CONFIG_ERROR_WITHOUT_SERVICE_ID";
        /// `QUERY_DATA_IS_NULL`: the user has no résumé data (cloud résumé).
        QueryDataIsNull = QUERY_DATA_IS_NULL = "QUERY_DATA_IS_NULL";
        /// `ZM.SYSTEM_ERROR`: internal error in Zhima (cloud résumé).
        ZmSystemError = ZM_SYSTEM_ERROR = "ZM.SYSTEM_ERROR";
        /// `USER_NOT_OPEN_ZHIMA`: the user has not activated Zhima credit (cloud résumé; also a
        /// `sub_code` of the work card).
        UserNotOpenZhima = USER_NOT_OPEN_ZHIMA = "USER_NOT_OPEN_ZHIMA";
        /// `APP_INVOKE_DEGRADE`: the service is degraded for this app (cloud résumé).
        AppInvokeDegrade = APP_INVOKE_DEGRADE = "APP_INVOKE_DEGRADE";
        /// `PICTURE_UPLOAD_LIMIT_ERROR`: the picture is larger than allowed (picture).
        PictureUploadLimitError = PICTURE_UPLOAD_LIMIT_ERROR = "PICTURE_UPLOAD_LIMIT_ERROR";
        /// `PICTURE_TYPE_ERROR`: the picture is not a JPG or PNG (picture).
        PictureTypeError = PICTURE_TYPE_ERROR = "PICTURE_TYPE_ERROR";
        /// `BIZ_ERROR`: business error (credit agreement).
        BizError = BIZ_ERROR = "BIZ_ERROR";
        /// `EXTRA_PARAM_FORMAT_ERROR`: an extra parameter is malformed (credit agreement).
        ExtraParamFormatError = EXTRA_PARAM_FORMAT_ERROR = "EXTRA_PARAM_FORMAT_ERROR";
        /// `CREDIT_AUTH_NOT_EXIST`: no credit authorisation for this merchant (credit agreement).
        CreditAuthNotExist = CREDIT_AUTH_NOT_EXIST = "CREDIT_AUTH_NOT_EXIST";
        /// `ILLEGAL_QUERY`: the agreement is not the caller's to query (credit agreement).
        IllegalQuery = ILLEGAL_QUERY = "ILLEGAL_QUERY";
        /// `CREDIT_AGREEMENT_NOT_EXIST`: no agreement with that number (credit agreement).
        CreditAgreementNotExist = CREDIT_AGREEMENT_NOT_EXIST = "CREDIT_AGREEMENT_NOT_EXIST";
        /// `DEPEND_FAILURE`: a service the gateway depends on failed (credit agreement).
        DependFailure = DEPEND_FAILURE = "DEPEND_FAILURE";
    }
    /// The common gateway codes of the v3 protocol (kebab case).
    gateway: Gateway {
        /// `missing-signature`: no or garbled `authorization` header.
        MissingSignature = MISSING_SIGNATURE = "missing-signature";
        /// `invalid-signature`: the request signature does not verify (or a replayed nonce).
        InvalidSignature = INVALID_SIGNATURE = "invalid-signature";
        /// `missing-app-id`
        MissingAppId = MISSING_APP_ID = "missing-app-id";
        /// `invalid-app-id`: the app id is unknown.
        InvalidAppId = INVALID_APP_ID = "invalid-app-id";
        /// `missing-timestamp`
        MissingTimestamp = MISSING_TIMESTAMP = "missing-timestamp";
        /// `invalid-timestamp`: the request timestamp is outside the accepted window.
        InvalidTimestamp = INVALID_TIMESTAMP = "invalid-timestamp";
        /// `illegal-timestamp`
        IllegalTimestamp = ILLEGAL_TIMESTAMP = "illegal-timestamp";
        /// `app-cert-not-exist`: the `app_cert_sn` is not a certificate issued to the app.
        AppCertNotExist = APP_CERT_NOT_EXIST = "app-cert-not-exist";
        /// `app-cert-expired`
        AppCertExpired = APP_CERT_EXPIRED = "app-cert-expired";
        /// `missing-app-cert-sn`
        MissingAppCertSn = MISSING_APP_CERT_SN = "missing-app-cert-sn";
        /// `missing-alipay-root-cert-sn`
        MissingAlipayRootCertSn = MISSING_ALIPAY_ROOT_CERT_SN = "missing-alipay-root-cert-sn";
        /// `invalid-alipay-root-cert-sn`
        InvalidAlipayRootCertSn = INVALID_ALIPAY_ROOT_CERT_SN = "invalid-alipay-root-cert-sn";
        /// `decryption-error`: the request body does not decrypt with the app's AES key.
        DecryptionError = DECRYPTION_ERROR = "decryption-error";
        /// `missing-encrypt-key`
        MissingEncryptKey = MISSING_ENCRYPT_KEY = "missing-encrypt-key";
        /// `invalid-encrypt-type`
        InvalidEncryptType = INVALID_ENCRYPT_TYPE = "invalid-encrypt-type";
        /// `invalid-method`: unknown API path.
        InvalidMethod = INVALID_METHOD = "invalid-method";
        /// `invalid-parameter`: common parameter error.
        GatewayInvalidParameter = INVALID_PARAMETER = "invalid-parameter";
        /// `illegal-json`
        IllegalJson = ILLEGAL_JSON = "illegal-json";
        /// `invalid-auth-token`
        InvalidAuthToken = INVALID_AUTH_TOKEN = "invalid-auth-token";
        /// `invalid-app-auth-token`
        InvalidAppAuthToken = INVALID_APP_AUTH_TOKEN = "invalid-app-auth-token";
        /// `app-auth-token-time-out`
        AppAuthTokenTimeOut = APP_AUTH_TOKEN_TIME_OUT = "app-auth-token-time-out";
        /// `insufficient-isv-permissions`
        InsufficientIsvPermissions = INSUFFICIENT_ISV_PERMISSIONS = "insufficient-isv-permissions";
        /// `app-call-limited`: rate limited.
        AppCallLimited = APP_CALL_LIMITED = "app-call-limited";
        /// `method-call-limited`: rate limited.
        MethodCallLimited = METHOD_CALL_LIMITED = "method-call-limited";
        /// `unknow-error` (sic): gateway-side failure.
        UnknowError = UNKNOW_ERROR = "unknow-error";
    }
}

impl ErrorCode {
    /// Whether the code itself says the same request may succeed later (`SYSTEM_ERROR`,
    /// `ZM.SYSTEM_ERROR`, `APP_INVOKE_DEGRADE`, `DEPEND_FAILURE`, `unknow-error`, rate limits).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::SystemError
                | ErrorCode::ZmSystemError
                | ErrorCode::AppInvokeDegrade
                | ErrorCode::DependFailure
                | ErrorCode::UnknowError
                | ErrorCode::AppCallLimited
                | ErrorCode::MethodCallLimited
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
            ErrorCode::SystemError | ErrorCode::ZmSystemError | ErrorCode::UnknowError | ErrorCode::DependFailure => {
                "a failure on Alipay's side"
            }
            ErrorCode::AppInvokeDegrade => "the service is degraded for this app; retry later",
            ErrorCode::QueryDataIsNull => "the user has no cloud résumé to share",
            ErrorCode::UserNotOpenZhima => "the user has to activate Zhima credit first",
            ErrorCode::PictureUploadLimitError => "the picture must be at most 1 MB",
            ErrorCode::PictureTypeError => "the picture must be a JPG or PNG",
            ErrorCode::CreditAgreementNotExist => {
                "no agreement with that out_agreement_no or credit_agreement_id (the user may not have signed step 1)"
            }
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
        let family = ErrorCode::KNOWN.iter().filter(|c| c.family() == Some(CodeFamily::JobworthFamily)).count();
        assert_eq!(family, 16);
        assert_eq!(ErrorCode::from(String::from("x-y")), ErrorCode::Other("x-y".into()));
        assert_eq!(ErrorCode::Other("x-y".into()).family(), None);
    }

    #[test]
    fn constants_are_the_wire_spellings() {
        assert_eq!(business::TOKEN_INVALID, "TOKEN_INVALID");
        assert_eq!(business::INVALID_PARAMETER, "INVALID_PARAMETER");
        assert_eq!(gateway::INVALID_PARAMETER, "invalid-parameter");
        assert_eq!(gateway::UNKNOW_ERROR, "unknow-error");
        assert_eq!(ErrorCode::from(business::PARAM_ERROR), ErrorCode::ParamError);
        assert_eq!(ErrorCode::from(gateway::INVALID_SIGNATURE), ErrorCode::InvalidSignature);
        assert_eq!(ErrorCode::AppCertNotExist.as_str(), "app-cert-not-exist");
        assert_eq!(family::ZM_SYSTEM_ERROR, "ZM.SYSTEM_ERROR");
        assert_eq!(ErrorCode::from("ZM.SYSTEM_ERROR"), ErrorCode::ZmSystemError);
        assert_eq!(ErrorCode::from("ZM_SYSTEM_ERROR"), ErrorCode::Other("ZM_SYSTEM_ERROR".into()));
        assert_eq!(ErrorCode::from(family::PICTURE_TYPE_ERROR), ErrorCode::PictureTypeError);
        assert!(ErrorCode::ZmSystemError.is_transient());
        assert!(!ErrorCode::PictureTypeError.is_transient());
    }

    #[test]
    fn serde_keeps_the_wire_spelling() {
        for (wire, code) in [
            ("TOKEN_INVALID", ErrorCode::TokenInvalid),
            ("invalid-signature", ErrorCode::InvalidSignature),
            ("SOMETHING_NEW", ErrorCode::Other("SOMETHING_NEW".into())),
            ("", ErrorCode::Other(String::new())),
        ] {
            let json = format!("\"{wire}\"");
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert_eq!(serde_json::to_string(&code).unwrap(), json);
        }
    }
}
