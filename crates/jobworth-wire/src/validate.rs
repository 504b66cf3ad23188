//! Checks of request parameters, shared by the client's opt-in strict mode and the sandbox's
//! `PARAM_ERROR` rule so the two cannot disagree. Nothing here runs unless called. Error texts
//! never contain the checked number.

use std::fmt;

use crate::values::CertType;

/// Why an 18-character PRC resident ID number (GB 11643-1999) is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not 18 characters.
    #[error("ID number must have 18 characters, it has {0}")]
    Length(usize),
    /// Not 17 digits followed by a digit or `X`.
    #[error("ID number must be 17 digits followed by a digit or X")]
    Format,
    /// Characters 7–14 are not a real `YYYYMMDD` date.
    #[error("ID number birth date (characters 7-14) is not a real date")]
    BirthDate,
    /// The ISO 7064 MOD 11-2 check character is wrong.
    #[error("ID number check character is wrong")]
    CheckChar,
}

/// Checks an 18-character resident ID: 17 digits, a real birth date, and the MOD 11-2 check
/// character (`X` or `x` for 10). Also valid for HK/Macau/Taiwan residence permits.
///
/// ```
/// use jobworth_wire::validate::{resident_id_18, IdError};
/// assert_eq!(resident_id_18("34052419800101001x"), Ok(()));
/// assert_eq!(resident_id_18("13070119931030228X"), Err(IdError::CheckChar));
/// assert_eq!(resident_id_18("110105194902310026"), Err(IdError::BirthDate));
/// ```
pub fn resident_id_18(number: &str) -> Result<(), IdError> {
    let chars = number.chars().count();
    if chars != 18 {
        return Err(IdError::Length(chars));
    }
    normalize_resident_id(number).map(drop)
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// ISO 7064 MOD 11-2 check character of the first 17 digits (`None` if they are not 17 digits).
///
/// ```
/// assert_eq!(jobworth_wire::validate::check_char("13070119931030228"), Some('8'));
/// ```
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize] as char)
}

fn num(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// Validates an 18-character ID (lower-case `x` accepted) or a legacy 15-digit ID (GB 11643-1989,
/// no check character) and returns the 18-character form with an upper-case check character.
///
/// ```
/// use jobworth_wire::validate::normalize_resident_id;
/// assert_eq!(normalize_resident_id("610104620927690").unwrap(), "610104196209276908");
/// assert_eq!(normalize_resident_id("34052419800101001x").unwrap(), "34052419800101001X");
/// ```
pub fn normalize_resident_id(input: &str) -> Result<String, IdError> {
    let s = input.trim();
    let b = s.as_bytes();
    match b.len() {
        18 => {
            // Check bytes before slicing: a multi-byte character must not reach a str slice.
            let last = b[17].to_ascii_uppercase();
            if !b[..17].iter().all(u8::is_ascii_digit) || !(last.is_ascii_digit() || last == b'X') {
                return Err(IdError::Format);
            }
            let body = &s[..17];
            if !is_date(num(&s[6..10]), num(&s[10..12]), num(&s[12..14])) {
                return Err(IdError::BirthDate);
            }
            if check_char(body) != Some(last as char) {
                return Err(IdError::CheckChar);
            }
            Ok(format!("{body}{}", last as char))
        }
        15 if b.iter().all(u8::is_ascii_digit) => {
            if !is_date(1900 + num(&s[6..8]), num(&s[8..10]), num(&s[10..12])) {
                return Err(IdError::BirthDate);
            }
            let body = format!("{}19{}", &s[..6], &s[6..]);
            let c = check_char(&body).ok_or(IdError::Format)?;
            Ok(format!("{body}{c}"))
        }
        _ => Err(IdError::Format),
    }
}

fn is_date(y: u32, m: u32, d: u32) -> bool {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1800 && (1..=days).contains(&d)
}

/// Checks that `value` is a documented `cert_type` (`0`–`5`) and returns it typed.
///
/// ```
/// use jobworth_wire::{validate, CertType};
/// assert_eq!(validate::cert_type("3").unwrap(), CertType::HkMacaoTravelPermit);
/// assert!(validate::cert_type("6").is_err());
/// ```
pub fn cert_type(value: &str) -> Result<CertType, ValidationError> {
    match CertType::from(value) {
        CertType::Other(_) => Err(ValidationError::new("cert_type", "must be 0, 1, 2, 3, 4 or 5")),
        known => Ok(known),
    }
}

/// A request parameter that fails a client-side check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    /// The parameter, e.g. `"cert_no"`.
    pub field: &'static str,
    /// What is wrong with it (never the value itself).
    pub problem: String,
}

impl ValidationError {
    /// A problem with `field`; `problem` must not quote the value.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        ValidationError { field, problem: problem.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date(2000, 2, 29));
        assert!(!is_date(1900, 2, 29));
        assert!(!is_date(2001, 13, 1));
        assert!(!is_date(2001, 4, 31));
        assert!(!is_date(2001, 1, 0));
    }

    #[test]
    fn shapes() {
        assert_eq!(resident_id_18("11010519491231002"), Err(IdError::Length(17)));
        assert_eq!(resident_id_18("11010519491231002A"), Err(IdError::Format));
        assert_eq!(resident_id_18("1101051949123100２2"), Err(IdError::Format));
        assert_eq!(resident_id_18(""), Err(IdError::Length(0)));
    }
}
