//! Typed request values and the typed response of the Jobworth authentication query.
//!
//! Every enum keeps values this version does not know in `Other(String)` and writes them back
//! unchanged, so a new value on the wire never breaks a caller.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
        $( aliases { $( $alias:literal => $avariant:ident ),* $(,)? } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }

            fn from_wire(s: &str) -> Option<Self> {
                match s {
                    $( $wire => Some($name::$variant), )+
                    $( $( $alias => Some($name::$avariant), )* )?
                    _ => None,
                }
            }

            /// True for a value this version knows (not `Other`).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::from_wire(s).unwrap_or_else(|| $name::Other(s.to_string()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name::from_wire(&s).unwrap_or($name::Other(s))
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name::from(s.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Infallible;
            fn from_str(s: &str) -> Result<Self, Infallible> {
                Ok($name::from(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($name::from(String::deserialize(d)?))
            }
        }
    };
}

wire_enum! {
    /// `query_type`: match precision.
    ///
    /// ```
    /// use jobworth::QueryType;
    /// assert_eq!(QueryType::from("dim"), QueryType::Dim);
    /// assert_eq!(QueryType::Exact.as_str(), "exact");
    /// ```
    QueryType {
        /// `exact`: 精确查询; a user identifier is required.
        Exact = "exact",
        /// `dim`: 模糊查询; identifiers optional.
        Dim = "dim",
    }
}

wire_enum! {
    /// `identity_type`: which professional identity is verified. Only `04` (teacher) is
    /// documented today; others are agreed with Zhima support and go in `Other`.
    ///
    /// ```
    /// use jobworth::IdentityType;
    /// assert_eq!(IdentityType::from("04"), IdentityType::Teacher);
    /// assert_eq!(IdentityType::from("07").as_str(), "07");
    /// ```
    IdentityType {
        /// `04`: 教师 (teacher).
        Teacher = "04",
    }
}

wire_enum! {
    /// `cert_type`: the kind of ID document in `cert_no` (`0`–`5`).
    ///
    /// ```
    /// use jobworth::CertType;
    /// assert_eq!(CertType::from("0"), CertType::IdCard);
    /// assert_eq!(CertType::TaiwanTravelPermit.as_str(), "4");
    /// ```
    CertType {
        /// `0`: 身份证, PRC resident ID card (18 digits).
        IdCard = "0",
        /// `1`: 护照, passport.
        Passport = "1",
        /// `2`: 回乡证, home-return permit.
        HomeReturnPermit = "2",
        /// `3`: 港澳往来通行证, HK/Macau travel permit.
        HkMacaoTravelPermit = "3",
        /// `4`: 台湾往来通行证, Taiwan travel permit.
        TaiwanTravelPermit = "4",
        /// `5`: 港澳证件, HK/Macau document.
        HkMacaoDocument = "5",
    }
}

wire_enum! {
    /// `identity_result`: the verdict. The legacy values `T`/`F`/`U` (before 2022-11) are read as
    /// `Success`/`Failed`/`WaitingVerify` and written back in the current spelling.
    ///
    /// ```
    /// use jobworth::IdentityResult;
    /// assert_eq!(IdentityResult::from("T"), IdentityResult::Success);
    /// assert!(IdentityResult::Failed.is_terminal());
    /// assert!(!IdentityResult::WaitingVerify.is_terminal());
    /// ```
    IdentityResult {
        /// `SUCCESS`: the identity is confirmed (可信).
        Success = "SUCCESS",
        /// `FAILED`: the identity is not confirmed (不可信).
        Failed = "FAILED",
        /// `WAITING_VERIFY`: not decided yet; query again later with the same token.
        WaitingVerify = "WAITING_VERIFY",
    }
    aliases { "T" => Success, "F" => Failed, "U" => WaitingVerify }
}

impl IdentityResult {
    /// `SUCCESS` or `FAILED`: the token has now been consumed by this answer.
    pub fn is_terminal(&self) -> bool {
        matches!(self, IdentityResult::Success | IdentityResult::Failed)
    }
}

wire_enum! {
    /// `token_status`: state of the verification order.
    ///
    /// ```
    /// use jobworth::TokenStatus;
    /// assert_eq!(TokenStatus::from("FINISH"), TokenStatus::Finish);
    /// ```
    TokenStatus {
        /// `FINISH`: terminal.
        Finish = "FINISH",
        /// `PROCESSING`: still pending.
        Processing = "PROCESSING",
    }
}

/// The verified answer of `GET /v3/zhima/customer/jobworth/authentication`.
///
/// Unknown fields are ignored; unknown enum values are kept. Serialises with the wire's
/// snake_case names, leaving out absent fields.
///
/// ```
/// use jobworth::{AuthenticationResult, IdentityResult, TokenStatus};
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
    fn legacy_values_map() {
        for (w, v) in
            [("T", IdentityResult::Success), ("F", IdentityResult::Failed), ("U", IdentityResult::WaitingVerify)]
        {
            assert_eq!(IdentityResult::from(w), v);
        }
        assert!(serde_json::from_str::<AuthenticationResult>("{}").is_err());
        for n in 0..6 {
            assert!(CertType::from(n.to_string()).is_known());
        }
        assert!(!CertType::from("6").is_known());
    }
}
