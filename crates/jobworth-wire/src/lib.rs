//! The wire vocabulary of **Zhima Jobworth (芝麻职得) identity authentication**, in one place:
//! the values of the query's parameters and answer, the typed answer, the error codes, the
//! endpoint and method names, and the checks of a resident ID number; and in [`family`], the
//! same for the product's other endpoints (work card, résumé, job data, pictures, positions,
//! credit agreement).
//!
//! No HTTP and no I/O: the client (`jobworth`) re-exports all of it, and the sandbox reads and
//! writes the same spellings without depending on the client.
//!
//! ```
//! use jobworth_wire::{code, validate, AuthenticationResult, ErrorCode, IdentityResult, QueryType};
//!
//! assert_eq!(QueryType::from("exact"), QueryType::Exact);
//! assert_eq!(jobworth_wire::AUTHENTICATION_PATH, "/v3/zhima/customer/jobworth/authentication");
//!
//! let answer: AuthenticationResult = serde_json::from_str(r#"{"identity_result":"SUCCESS"}"#)?;
//! assert!(answer.identity_result.is_terminal());
//! assert_eq!(answer.identity_result, IdentityResult::Success);
//!
//! assert_eq!(ErrorCode::from(code::business::TOKEN_INVALID), ErrorCode::TokenInvalid);
//! assert_eq!(validate::normalize_resident_id("610104620927690")?, "610104196209276908");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod code;
mod endpoint;
pub mod family;
mod result;
pub mod validate;
mod values;

pub use code::{CodeFamily, ErrorCode};
pub use endpoint::{
    ALIPAY_CA_ORGANIZATION, AUTHENTICATION_PATH, CREDIT_AGREEMENT_SIGN, DEFAULT_ENDPOINT, SANDBOX_CA_ORGANIZATION,
};
pub use result::AuthenticationResult;
pub use values::{CertType, IdentityResult, IdentityType, QueryType, TokenStatus};
