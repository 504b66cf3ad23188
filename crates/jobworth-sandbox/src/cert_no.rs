//! Syntax checks for `cert_no` when `cert_type` is `0` (PRC Resident ID, GB 11643-1999).

/// Why a Resident ID number is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Not 15 digits, nor 17 digits followed by a digit or `X`.
    Format,
    /// The birth date is not a calendar date.
    BirthDate,
    /// The MOD 11-2 check character is wrong.
    CheckChar,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// ISO 7064 MOD 11-2 check character of the first 17 digits (`None` if they are not 17 digits).
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize] as char)
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
    (1..=days).contains(&d)
}

fn num(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// Validates an 18-character ID (lower-case `x` accepted) or a legacy 15-digit ID and returns
/// the 18-character form with an upper-case check character.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> serde_json::Value {
        let text = include_str!("../../alipay-v3/tests/fixtures/vectors.json");
        serde_json::from_str::<serde_json::Value>(text).unwrap()["cn_resident_id_18"].clone()
    }

    #[test]
    fn fixture_vectors() {
        let v = vectors();
        let valid = v["valid"].as_array().unwrap();
        assert!(valid.len() >= 8);
        for case in valid {
            let n = case["number"].as_str().unwrap();
            assert_eq!(normalize_resident_id(n).unwrap(), n.to_ascii_uppercase(), "{n}");
        }
        let invalid = v["invalid"].as_array().unwrap();
        assert!(invalid.len() >= 5);
        for case in invalid {
            let n = case["number"].as_str().unwrap();
            let fails: Vec<&str> = case["fails"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            let err = normalize_resident_id(n).unwrap_err();
            let expected = match err {
                IdError::Format => "format",
                IdError::BirthDate => "birth_date",
                IdError::CheckChar => "check_char",
            };
            assert!(fails.contains(&expected), "{n}: {err:?} not in {fails:?}");
        }
        for case in v["upgrade_15_to_18"].as_array().unwrap() {
            assert_eq!(normalize_resident_id(case["old"].as_str().unwrap()).unwrap(), case["new"].as_str().unwrap());
        }
    }

    #[test]
    fn check_digit_alone() {
        assert_eq!(check_char("13070119931030228"), Some('8'));
        assert_eq!(normalize_resident_id("13070119931030228X"), Err(IdError::CheckChar));
        assert_eq!(check_char("1307011993103022"), None);
        assert_eq!(normalize_resident_id("1307011993103022８8"), Err(IdError::Format));
        assert_eq!(normalize_resident_id(""), Err(IdError::Format));
        assert_eq!(normalize_resident_id("中123456789012345"), Err(IdError::Format));
        assert_eq!(normalize_resident_id("12345678901234567中"), Err(IdError::Format));
        assert_eq!(normalize_resident_id("610104621327690"), Err(IdError::BirthDate));
    }
}
