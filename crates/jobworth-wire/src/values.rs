//! The enumerated values of the Jobworth authentication query: request parameters
//! (`query_type`, `identity_type`, `cert_type`) and answer fields (`identity_result`,
//! `token_status`).
//!
//! Every enum keeps values this version does not know in `Other(String)` and writes them back
//! unchanged, so a new value on the wire never breaks a caller.

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

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, ::std::convert::Infallible> {
                Ok($name::from(s))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($name::from(<String as ::serde::Deserialize>::deserialize(d)?))
            }
        }
    };
}

pub(crate) use wire_enum;

wire_enum! {
    /// `query_type`: match precision.
    ///
    /// ```
    /// use jobworth_wire::QueryType;
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
    /// use jobworth_wire::IdentityType;
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
    /// use jobworth_wire::CertType;
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
    /// use jobworth_wire::IdentityResult;
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
    /// use jobworth_wire::TokenStatus;
    /// assert_eq!(TokenStatus::from("FINISH"), TokenStatus::Finish);
    /// ```
    TokenStatus {
        /// `FINISH`: terminal.
        Finish = "FINISH",
        /// `PROCESSING`: still pending.
        Processing = "PROCESSING",
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde::{Deserialize, Serialize};

    use super::*;

    /// Reads `wire` as JSON, checks the variant, and writes it back unchanged.
    fn round_trip<T>(wire: &str, expected: T)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let json = format!("\"{wire}\"");
        let value: T = serde_json::from_str(&json).unwrap();
        assert_eq!(value, expected, "{wire}");
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
    }

    #[test]
    fn query_type_wire_values() {
        round_trip("exact", QueryType::Exact);
        round_trip("dim", QueryType::Dim);
        round_trip("EXACT", QueryType::Other("EXACT".into()));
        assert_eq!(QueryType::Dim.to_string(), "dim");
    }

    #[test]
    fn identity_type_wire_values() {
        round_trip("04", IdentityType::Teacher);
        round_trip("07", IdentityType::Other("07".into()));
        assert!(!IdentityType::from("4").is_known());
    }

    #[test]
    fn cert_type_wire_values() {
        round_trip("0", CertType::IdCard);
        round_trip("1", CertType::Passport);
        round_trip("2", CertType::HomeReturnPermit);
        round_trip("3", CertType::HkMacaoTravelPermit);
        round_trip("4", CertType::TaiwanTravelPermit);
        round_trip("5", CertType::HkMacaoDocument);
        round_trip("6", CertType::Other("6".into()));
    }

    #[test]
    fn identity_result_wire_values() {
        round_trip("SUCCESS", IdentityResult::Success);
        round_trip("FAILED", IdentityResult::Failed);
        round_trip("WAITING_VERIFY", IdentityResult::WaitingVerify);
        round_trip("MAYBE", IdentityResult::Other("MAYBE".into()));
        // The legacy spellings are read, and written back in the current one.
        for (legacy, current) in [("T", "SUCCESS"), ("F", "FAILED"), ("U", "WAITING_VERIFY")] {
            let v: IdentityResult = serde_json::from_str(&format!("\"{legacy}\"")).unwrap();
            assert_eq!(v.as_str(), current);
        }
    }

    #[test]
    fn token_status_wire_values() {
        round_trip("FINISH", TokenStatus::Finish);
        round_trip("PROCESSING", TokenStatus::Processing);
        round_trip("NEW_STATE", TokenStatus::Other("NEW_STATE".into()));
    }

    #[test]
    fn every_conversion_agrees() {
        for wire in ["exact", "dim", "x"] {
            let parsed: QueryType = wire.parse().unwrap();
            assert_eq!(parsed, QueryType::from(wire.to_string()));
            assert_eq!(parsed, QueryType::from(&wire.to_string()));
            assert_eq!(parsed.as_str(), wire);
        }
    }

    #[test]
    fn legacy_values_map() {
        for (w, v) in
            [("T", IdentityResult::Success), ("F", IdentityResult::Failed), ("U", IdentityResult::WaitingVerify)]
        {
            assert_eq!(IdentityResult::from(w), v);
        }
        for n in 0..6 {
            assert!(CertType::from(n.to_string()).is_known());
        }
        assert!(!CertType::from("6").is_known());
    }
}
