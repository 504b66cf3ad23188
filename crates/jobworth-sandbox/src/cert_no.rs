//! Syntax checks for `cert_no` when `cert_type` is `0` (PRC Resident ID, GB 11643-1999).
//!
//! One implementation, in the wire crate, serves both sides: the SDK's opt-in client check and
//! the sandbox's `PARAM_ERROR` rule use the same code, so they cannot disagree.

pub use jobworth_wire::validate::{check_char, normalize_resident_id, IdError};

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
                other => panic!("unexpected {other:?}"),
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
