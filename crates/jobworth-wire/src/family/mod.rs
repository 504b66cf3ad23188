//! The other endpoints of the Jobworth product family, one module each: path and method name,
//! request parameters or body, answer model, documented error codes.
//!
//! Field names are the wire names of the official v3 SDKs' models. Every answer field is
//! optional, unknown fields are ignored, unknown values of enumerated fields are kept, and
//! absent fields are left out when writing, so the client and the sandbox read and write the
//! same JSON.
//!
//! ```
//! use jobworth_wire::family::{self, credit_agreement::AgreementStatus, Outcome};
//!
//! assert_eq!(family::work_card::ENDPOINT.path, "/v3/zhima/customer/jobworth/info/query");
//! let a: family::credit_agreement::CreditAgreement =
//!     serde_json::from_str(r#"{"agreement_status":"VALID","out_agreement_no":"c1"}"#)?;
//! assert_eq!(a.agreement_status, Some(AgreementStatus::Valid));
//! assert_eq!(a.sub_code(), None);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use crate::ErrorCode;

pub mod cloud_resume;
pub mod credit_agreement;
pub mod job_data;
pub mod picture;
pub mod position;
pub mod work_card;

/// The HTTP method an endpoint is served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET`: parameters in the query string.
    Get,
    /// `POST`: parameters in a JSON body.
    Post,
}

impl Verb {
    /// `"GET"` or `"POST"`.
    ///
    /// ```
    /// use jobworth_wire::family::{position, Verb};
    /// assert_eq!(position::ENDPOINT.verb.as_str(), "POST");
    /// assert_eq!(Verb::Get.to_string(), "GET");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One v3 endpoint: where it is served, its OpenAPI method name, and the business codes its
/// documentation lists (gateway codes apply to every endpoint and are not repeated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The HTTP method.
    pub verb: Verb,
    /// The v3 path, e.g. `/v3/zhima/customer/jobworth/info/query`.
    pub path: &'static str,
    /// The OpenAPI method name, e.g. `zhima.customer.jobworth.info.query`.
    pub method: &'static str,
    /// The documented business error codes, in the documentation's order.
    pub error_codes: &'static [ErrorCode],
}

impl Endpoint {
    /// Whether `code` is one of this endpoint's documented business codes.
    ///
    /// ```
    /// use jobworth_wire::{family::picture, ErrorCode};
    /// assert!(picture::ENDPOINT.documents(&ErrorCode::PictureTypeError));
    /// assert!(!picture::ENDPOINT.documents(&ErrorCode::TokenInvalid));
    /// ```
    pub fn documents(&self, code: &ErrorCode) -> bool {
        self.error_codes.contains(code)
    }
}

/// The authentication query as an [`Endpoint`], so the family can be listed with it.
pub const AUTHENTICATION: Endpoint = Endpoint {
    verb: Verb::Get,
    path: crate::AUTHENTICATION_PATH,
    method: "zhima.customer.jobworth.authentication.query",
    error_codes: &[
        ErrorCode::UserNotAuthorize,
        ErrorCode::TokenInvalid,
        ErrorCode::NotOpenZm,
        ErrorCode::UserNotOpenJobworth,
        ErrorCode::InvalidParameter,
        ErrorCode::JobWorthBlackList,
        ErrorCode::SystemError,
        ErrorCode::MerchantIntercept,
        ErrorCode::RiskIntercept,
        ErrorCode::OpenZmAccountIntercept,
        ErrorCode::CardNoNotMatch,
        ErrorCode::MobileNoNotMatch,
        ErrorCode::UserNameNotMatch,
        ErrorCode::WrongOutAgreementNoIntercept,
        ErrorCode::TokenNotMatchIdentityType,
        ErrorCode::ParamError,
    ],
};

/// The seven endpoints: the authentication query first, then the family in the order of the
/// product's documentation.
pub const ENDPOINTS: &[Endpoint] = &[
    AUTHENTICATION,
    work_card::ENDPOINT,
    cloud_resume::ENDPOINT,
    job_data::ENDPOINT,
    picture::ENDPOINT,
    position::ENDPOINT,
    credit_agreement::ENDPOINT,
];

/// The endpoint served at `path` (no query string), if it is one of [`ENDPOINTS`].
///
/// ```
/// use jobworth_wire::family;
/// assert_eq!(family::by_path("/v3/zhima/customer/jobworth/position/add"), Some(&family::position::ENDPOINT));
/// assert_eq!(family::by_path("/v3/nope"), None);
/// ```
pub fn by_path(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path == path)
}

/// The business outcome a 200 answer may carry in `sub_code`/`sub_msg`: a 200 with a
/// `sub_code` did not do what was asked.
pub trait Outcome {
    /// `sub_code`, typed (`None`: the call did what was asked).
    fn sub_code(&self) -> Option<&ErrorCode>;
    /// `sub_msg`: the human-readable text of `sub_code`.
    fn sub_msg(&self) -> Option<&str>;
}

/// `sub_code` and `sub_msg` of any 200 answer, whatever else it holds: how a client reads the
/// business outcome of an endpoint whose model has no such fields.
///
/// ```
/// use jobworth_wire::{family::{Outcome, SubStatus}, ErrorCode};
/// let s: SubStatus = serde_json::from_str(r#"{"sub_code":"USER_NOT_OPEN_ZHIMA","sub_msg":"…","x":1}"#)?;
/// assert_eq!(s.sub_code(), Some(&ErrorCode::UserNotOpenZhima));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubStatus {
    /// `sub_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_code: Option<ErrorCode>,
    /// `sub_msg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_msg: Option<String>,
}

impl Outcome for SubStatus {
    fn sub_code(&self) -> Option<&ErrorCode> {
        self.sub_code.as_ref()
    }
    fn sub_msg(&self) -> Option<&str> {
        self.sub_msg.as_deref()
    }
}

/// Defines a wire model: every field `Option`, read with `default`, left out when `None`.
/// `Debug` shows every field except those marked `as redacted` (personal data), which show
/// only whether they are set.
macro_rules! wire_model {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty $(as $redact:ident)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )+
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct(stringify!($name));
                $( $crate::family::wire_model!(@field d, self, $field $(, $redact)?); )+
                d.finish()
            }
        }
    };
    (@field $d:ident, $self:ident, $field:ident) => {
        $d.field(stringify!($field), &$self.$field);
    };
    (@field $d:ident, $self:ident, $field:ident, redacted) => {
        $d.field(stringify!($field), &$self.$field.as_ref().map(|_| $crate::family::REDACTED));
    };
}
pub(crate) use wire_model;

/// A value of a `GET` parameter, as the official SDKs write it (`String.valueOf`).
pub trait QueryValue {
    /// The parameter's text.
    fn to_query(&self) -> String;
}

impl QueryValue for String {
    fn to_query(&self) -> String {
        self.clone()
    }
}

impl QueryValue for bool {
    fn to_query(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for crate::CertType {
    fn to_query(&self) -> String {
        self.as_str().to_string()
    }
}

/// Defines the parameters of a `GET` endpoint: a [`wire_model!`] whose field order is the order
/// the official SDKs send them in, with `pairs()` giving them in that order.
macro_rules! query_model {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty $(as $redact:ident)? ),+ $(,)?
        }
    ) => {
        $crate::family::wire_model! {
            $(#[$meta])*
            $name { $( $(#[$fmeta])* $field: $ty $(as $redact)? ),+ }
        }

        impl $name {
            /// The query parameters in the order the official SDKs send them, absent ones left
            /// out.
            pub fn pairs(&self) -> Vec<(&'static str, String)> {
                let mut pairs = Vec::new();
                $(
                    if let Some(v) = &self.$field {
                        pairs.push((stringify!($field), $crate::family::QueryValue::to_query(v)));
                    }
                )+
                pairs
            }
        }
    };
}
pub(crate) use query_model;

/// Implements [`Outcome`] for a model with `sub_code`/`sub_msg` fields.
macro_rules! outcome_fields {
    ($($name:ident),+) => {
        $(
            impl $crate::family::Outcome for $name {
                fn sub_code(&self) -> Option<&$crate::ErrorCode> {
                    self.sub_code.as_ref()
                }
                fn sub_msg(&self) -> Option<&str> {
                    self.sub_msg.as_deref()
                }
            }
        )+
    };
}
pub(crate) use outcome_fields;

/// Implements [`Outcome`] for a model without `sub_code`/`sub_msg` (always `None`).
macro_rules! no_outcome_fields {
    ($($name:ident),+) => {
        $(
            impl $crate::family::Outcome for $name {
                fn sub_code(&self) -> Option<&$crate::ErrorCode> {
                    None
                }
                fn sub_msg(&self) -> Option<&str> {
                    None
                }
            }
        )+
    };
}
pub(crate) use no_outcome_fields;

/// What `Debug` shows for a personal value that is set.
pub(crate) const REDACTED: &str = "<redacted>";

/// Readers that accept what gateways send for a number or a flag: the JSON type, or the same
/// value as a string (`"2020"`, `"true"`); written back as the JSON type.
pub(crate) mod lenient {
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};

    struct Int;

    impl Visitor<'_> for Int {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or a string of one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| E::custom("integer out of range"))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    struct Flag;

    impl Visitor<'_> for Flag {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                "" => Ok(None),
                other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    /// An `Option<i64>` field.
    pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(Int)
    }

    /// An `Option<bool>` field.
    pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(Flag)
    }
}

/// The names of a flat JSON object's fields in the order written (string values without commas
/// or colons), for tests that pin a model's wire names.
#[cfg(test)]
pub(crate) fn field_names(json: &str) -> Vec<&str> {
    json.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter_map(|kv| kv.split(':').next())
        .map(|k| k.trim_matches('"'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_listed_once_with_its_method_name() {
        let rows: Vec<(&str, &str, &str)> = ENDPOINTS.iter().map(|e| (e.verb.as_str(), e.path, e.method)).collect();
        assert_eq!(
            rows,
            [
                ("GET", "/v3/zhima/customer/jobworth/authentication", "zhima.customer.jobworth.authentication.query"),
                ("GET", "/v3/zhima/customer/jobworth/info/query", "zhima.customer.jobworth.info.query"),
                ("GET", "/v3/zhima/customer/jobworth/cloudresume/query", "zhima.customer.jobworth.cloudresume.query"),
                ("POST", "/v3/zhima/customer/jobworth/jobdata/add", "zhima.customer.jobworth.jobdata.add"),
                ("POST", "/v3/zhima/customer/jobworth/picture/upload", "zhima.customer.jobworth.picture.upload"),
                ("POST", "/v3/zhima/customer/jobworth/position/add", "zhima.customer.jobworth.position.add"),
                (
                    "GET",
                    "/v3/zhima/credit/payafteruse/creditagreement/query",
                    "zhima.credit.payafteruse.creditagreement.query"
                ),
            ]
        );
        for e in ENDPOINTS {
            assert_eq!(by_path(e.path), Some(e));
            assert!(!e.error_codes.is_empty());
            for c in e.error_codes {
                assert!(c.family().is_some(), "{c} is a known code");
            }
        }
        assert_eq!(AUTHENTICATION.error_codes.len(), 16);
    }

    #[test]
    fn sub_status_reads_any_answer() {
        let s: SubStatus = serde_json::from_str(r#"{"pic_id":"p","sub_code":"NEW_ONE","sub_msg":"m"}"#).unwrap();
        assert_eq!(s.sub_code(), Some(&ErrorCode::Other("NEW_ONE".into())));
        assert_eq!(s.sub_msg(), Some("m"));
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"sub_code":"NEW_ONE","sub_msg":"m"}"#);
        let none: SubStatus = serde_json::from_str("{}").unwrap();
        assert_eq!(none, SubStatus::default());
        assert_eq!(serde_json::to_string(&none).unwrap(), "{}");
    }
}
