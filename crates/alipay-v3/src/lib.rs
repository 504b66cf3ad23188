//! Alipay OpenAPI v3 protocol core.
//!
//! Both halves of the protocol live here so that a client and a server built on this crate
//! cannot drift apart:
//!
//! * client: [`sign::sign_request`] signs a request, [`verify::verify_response`] checks the
//!   gateway's answer;
//! * server: [`verify::AuthorizationHeader::parse`] + [`verify::verify_request`] check a
//!   request, [`sign::sign_response`] signs the answer.
//!
//! Each direction has exactly one canonical string builder
//! ([`sign::request_string_to_sign`], [`sign::response_string_to_sign`]). A kept answer, a
//! [`receipt::Receipt`], is re-checked offline over the same response builder.
//!
//! ```
//! use alipay_v3::{keys::PrivateKey, sign, verify};
//! let key = PrivateKey::generate().unwrap();
//! let auth = sign::auth_string("2021000122671080", None, "nonce-1", 1717756911576);
//! let target = sign::RequestTarget::new("GET", "/v3/x?a=1");
//! let header = sign::sign_request(&key, &auth, &target);
//! let parsed = verify::AuthorizationHeader::parse(&header).unwrap();
//! verify::verify_request(&key.public_key(), &parsed, &target).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aes;
pub mod cert;
pub mod diagnose;
pub mod error;
pub mod headers;
pub mod keys;
pub mod order;
pub mod pem;
pub mod query;
pub mod receipt;
pub mod sign;
pub mod verify;

pub use error::{AesError, AuthHeaderError, CertError, KeyError, OrderStringError, QueryError, SignatureError};

/// A fresh random nonce in the dashed UUID v4 form the official SDKs send (36 characters).
pub fn new_nonce() -> String {
    let mut b = [0u8; 16];
    // aws-lc's RNG only fails if the OS has no entropy source at all; there is no sane fallback.
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator unavailable");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Current Unix time in milliseconds.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since 1970-01-01 (Howard
/// Hinnant's civil-from-days).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// Masks a sensitive identifier for display: keeps the first 4 and last 4 characters
/// (`4201**********3123`); shorter values are masked entirely.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..4].iter().collect();
    s.push_str(&"*".repeat(n - 8));
    s.extend(&chars[n - 4..]);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonce_shape() {
        let n = super::new_nonce();
        assert_eq!(n.len(), 36);
        assert_eq!(n.as_bytes()[14], b'4');
        assert_ne!(n, super::new_nonce());
    }

    #[test]
    fn masking() {
        assert_eq!(super::mask("420192931233123123"), "4201**********3123");
        assert_eq!(super::mask("12345678"), "********");
        assert_eq!(super::mask(""), "");
    }
}
