//! Opt-in client-side checks. Nothing here runs unless you call it (or set
//! [`AuthenticationQuery::strict`](crate::AuthenticationQuery::strict)). Error texts never
//! contain the checked number.

use std::fmt;

use crate::model::CertType;

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
/// use jobworth::validate::{resident_id_18, IdError};
/// assert_eq!(resident_id_18("34052419800101001x"), Ok(()));
/// assert_eq!(resident_id_18("13070119931030228X"), Err(IdError::CheckChar));
/// assert_eq!(resident_id_18("110105194902310026"), Err(IdError::BirthDate));
/// ```
pub fn resident_id_18(number: &str) -> Result<(), IdError> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = number.as_bytes();
    let chars = number.chars().count();
    if chars != 18 {
        return Err(IdError::Length(chars));
    }
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(IdError::Format);
    }
    let last = b[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return Err(IdError::Format);
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    if !is_date(num(6..10), num(10..12), num(12..14)) {
        return Err(IdError::BirthDate);
    }
    let sum: u32 = b[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    if CHECK[(sum % 11) as usize] != last {
        return Err(IdError::CheckChar);
    }
    Ok(())
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
/// use jobworth::{validate, CertType};
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
    pub(crate) fn new(field: &'static str, problem: impl Into<String>) -> Self {
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
