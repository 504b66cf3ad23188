//! The fixed test users of the desk, like a payment provider's test cards: each persona
//! always gives the same result.

mod profiles;

use jobworth_wire::code::business as code;
use jobworth_wire::IdentityResult;
use serde::{Serialize, Serializer};

pub use profiles::{Certificate, Education, Intention, Resume, Work, WorkCard};
use profiles::{
    LI_CARD, LI_RESUME, WANG_CARD, WANG_RESUME, ZHANG_CARD, ZHANG_RESUME, ZHAO_CARD, ZHAO_RESUME, ZHOU_CARD,
    ZHOU_RESUME,
};

/// What a query returns once a persona completed the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `identity_result` `SUCCESS` (terminal).
    Success,
    /// `identity_result` `FAILED` (terminal).
    Failed,
    /// `WAITING_VERIFY` until resolved through the desk.
    Pending,
    /// The query is refused with this business error code.
    Error(&'static str),
}

impl Outcome {
    /// The wire value: an `identity_result` or an error code.
    pub fn as_str(self) -> &'static str {
        // Statics, so that the spellings borrowed from them live as long as the program.
        static SUCCESS: IdentityResult = IdentityResult::Success;
        static FAILED: IdentityResult = IdentityResult::Failed;
        static WAITING_VERIFY: IdentityResult = IdentityResult::WaitingVerify;
        match self {
            Outcome::Success => SUCCESS.as_str(),
            Outcome::Failed => FAILED.as_str(),
            Outcome::Pending => WAITING_VERIFY.as_str(),
            Outcome::Error(code) => code,
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One test user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Persona {
    /// Name used in requests and on the desk (`teacher`, `not-teacher`, …).
    pub persona: &'static str,
    /// 16-digit Ant member id starting `2088`.
    pub user_id: &'static str,
    /// The OpenID form of the member id.
    pub open_id: &'static str,
    /// Document type (`0` = resident ID card).
    pub cert_type: &'static str,
    /// 18-digit resident ID with a valid check character.
    pub cert_no: &'static str,
    /// Display name, Chinese and English.
    pub name: &'static str,
    /// `identity_result` or error code a query gets.
    pub outcome: Outcome,
    /// One line shown on the desk card.
    #[serde(skip)]
    pub description: &'static str,
    /// The work card (工作证) `info/query` links to; `None`: the user has none.
    #[serde(skip)]
    pub card: Option<&'static WorkCard>,
    /// The cloud résumé `cloudresume/query` answers; `None`: `QUERY_DATA_IS_NULL`.
    #[serde(skip)]
    pub resume: Option<&'static Resume>,
}

impl Persona {
    /// The query outcome of this persona.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// Every persona, in desk order.
pub const PERSONAS: &[Persona] = &[
    Persona {
        persona: "teacher",
        user_id: "2088102146225101",
        open_id: "074lscIBqIL7NRK7DytftadrxbStzW4Bcqbv2RDkEueL6M0",
        cert_type: "0",
        cert_no: "110105198503151230",
        name: "王老师 Wang (teacher)",
        outcome: Outcome::Success,
        description: "认证通过 · verified teacher",
        card: Some(&WANG_CARD),
        resume: Some(&WANG_RESUME),
    },
    Persona {
        persona: "not-teacher",
        user_id: "2088102146225102",
        open_id: "074WiCknsKpshYhwJDLonMUwtEF1w3rZXVb5M4LGUtZ6ex0",
        cert_type: "0",
        cert_no: "310104199007222349",
        name: "李同学 Li (not a teacher)",
        outcome: Outcome::Failed,
        description: "认证未通过 · not a teacher",
        card: Some(&LI_CARD),
        resume: Some(&LI_RESUME),
    },
    Persona {
        persona: "pending",
        user_id: "2088102146225103",
        open_id: "074lOXbz05LhZ1jpJ0zT7VW8f3FM0skdSMhaBAn51wcYQp0",
        cert_type: "0",
        cert_no: "440305198801013458",
        name: "张老师 Zhang (pending)",
        outcome: Outcome::Pending,
        description: "审核中，稍后判定 · waits until resolved",
        card: Some(&ZHANG_CARD),
        resume: Some(&ZHANG_RESUME),
    },
    Persona {
        persona: "blacklisted",
        user_id: "2088102146225104",
        open_id: "074lgfJ154sUy4USkDRysB6UZbzIKDDtA7UI4zsG90LnV30",
        cert_type: "0",
        cert_no: "510107199211114560",
        name: "赵某 Zhao (blacklisted)",
        outcome: Outcome::Error(code::JOB_WORTH_BLACK_LIST),
        description: "职得黑名单 · on the Jobworth blacklist",
        card: Some(&ZHAO_CARD),
        resume: Some(&ZHAO_RESUME),
    },
    Persona {
        persona: "no-zhima",
        user_id: "2088102146225105",
        open_id: "074du8tK7pVYHt0wKMZCdUVVP38HToeQEotncq2uJveW3i0",
        cert_type: "0",
        cert_no: "330106198709095673",
        name: "钱先生 Qian (no Zhima)",
        outcome: Outcome::Error(code::NOT_OPEN_ZM),
        description: "未开通芝麻信用 · Zhima credit not opened",
        card: None,
        resume: None,
    },
    Persona {
        persona: "no-jobworth",
        user_id: "2088102146225106",
        open_id: "074XiagfJSvpSF0oPu4BKP1CPI7jyoeaj8sMhGUF7UC3nj0",
        cert_type: "0",
        cert_no: "420106199505056783",
        name: "孙女士 Sun (no Jobworth)",
        outcome: Outcome::Error(code::USER_NOT_OPEN_JOBWORTH),
        description: "未开通职得 · Jobworth not opened",
        card: None,
        resume: None,
    },
    Persona {
        persona: "risk",
        user_id: "2088102146225107",
        open_id: "0748aVVRLFTurxzLycgCctdgB0IZSyCeBdYKbggLzC2FOP0",
        cert_type: "0",
        cert_no: "320102198002297899",
        name: "周某 Zhou (risk)",
        outcome: Outcome::Error(code::RISK_INTERCEPT),
        description: "风控拦截 · blocked by risk control",
        card: Some(&ZHOU_CARD),
        resume: Some(&ZHOU_RESUME),
    },
];

/// The persona with this `user_id` or `open_id`.
pub fn by_uid(user_id: Option<&str>, open_id: Option<&str>) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| Some(p.user_id) == user_id || Some(p.open_id) == open_id)
}

/// The persona with this document (`cert_no` already normalized for a resident ID).
pub fn by_cert(cert_type: &str, cert_no: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.cert_type == cert_type && p.cert_no == cert_no)
}

/// Looks a persona up by name.
pub fn find(name: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.persona == name)
}

/// Human label of an identity type code.
pub fn identity_type_label(code: &str) -> &'static str {
    match code {
        "04" => "教师 Teacher",
        "01" => "医生 Doctor (legacy code)",
        "02" => "教师 Teacher (legacy code)",
        _ => "其它身份 Other identity",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert_no::normalize_resident_id;

    #[test]
    fn personas_are_well_formed() {
        let names: Vec<&str> = PERSONAS.iter().map(|p| p.persona).collect();
        assert_eq!(names, ["teacher", "not-teacher", "pending", "blacklisted", "no-zhima", "no-jobworth", "risk"]);
        for p in PERSONAS {
            assert_eq!(p.user_id.len(), 16, "{}", p.persona);
            assert!(p.user_id.starts_with("2088") && p.user_id.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(normalize_resident_id(p.cert_no).as_deref(), Ok(p.cert_no));
            assert_eq!(p.cert_type, "0");
            assert!(!p.open_id.is_empty());
            assert_eq!(find(p.persona), Some(p));
        }
        let outcomes: Vec<&str> = PERSONAS.iter().map(|p| p.outcome().as_str()).collect();
        assert_eq!(
            outcomes,
            [
                "SUCCESS",
                "FAILED",
                "WAITING_VERIFY",
                "JOB_WORTH_BLACK_LIST",
                "NOT_OPEN_ZM",
                "USER_NOT_OPEN_JOBWORTH",
                "RISK_INTERCEPT"
            ]
        );
        assert_eq!(find("nobody"), None);
    }
}
