//! `GET /v3/zhima/customer/jobworth/cloudresume/query`: the user's cloud résumé, read once.
//!
//! Order: `conn_key` and `once_token` present (`INVALID_PARAMETER`) → the desk of the pair
//! (unknown: `INVALID_PARAMETER`) → the user authorized (`USER_NOT_AUTHORIZE` while the desk is
//! open or after the user declined) → the persona (`USER_NOT_OPEN_ZHIMA`, `QUERY_DATA_IS_NULL`)
//! → the read: one conditional `UPDATE`, so the token answers once, within the token lifetime
//! (`--token-ttl`, 5 minutes by default) of the authorization; after that `INVALID_PARAMETER`.
//! Refusals before the `UPDATE` consume nothing.

use jobworth_wire::code::{business as code, family};
use jobworth_wire::family::cloud_resume::{
    CloudResume, CloudResumeCertificateInfo, CloudResumeEducationExperience, CloudResumeParams,
    CloudResumePositionIntention, CloudResumeSkillInfo, CloudResumeWorkExperience,
};

use super::{encode, invalid, Call};
use crate::error::ApiError;
use crate::personas::{self, Outcome, Resume};
use crate::store::DeskState;

/// The parameters, in the official SDKs' order.
pub(crate) const NAMES: &[&str] = &["conn_key", "once_token"];

/// Runs the query; returns the JSON body of a 200 answer.
pub(crate) async fn query(call: &Call<'_>, p: CloudResumeParams) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    let conn_key = p.conn_key.as_deref().ok_or_else(|| invalid("参数有误 (conn_key is required)"))?;
    let once_token = p.once_token.as_deref().ok_or_else(|| invalid("参数有误 (once_token is required)"))?;
    let store = state.store();
    let desk = store
        .authorization_by_token(&app.app_id, conn_key, once_token)
        .await?
        .ok_or_else(|| invalid("参数有误 (once_token is not the onceToken of a step 1 of this conn_key)"))?;
    let spent = || invalid("参数有误 (once_token was already used, or the 5 minutes after the authorization are over)");
    if desk.resume_read_at.is_some() {
        return Err(spent());
    }
    let not_authorized = |why: &str| ApiError::business(code::USER_NOT_AUTHORIZE, format!("用户未授权 ({why})"));
    if desk.state == DeskState::Cancelled {
        return Err(not_authorized("the user declined at the desk"));
    }
    let Some(name) = desk.persona.as_deref() else {
        return Err(not_authorized("the user has not authorized yet"));
    };
    let persona =
        personas::find(name).ok_or_else(|| ApiError::Internal(format!("desk {} has unknown persona", desk.desk_id)))?;
    if persona.outcome == Outcome::Error(code::NOT_OPEN_ZM) {
        return Err(ApiError::business(
            family::USER_NOT_OPEN_ZHIMA,
            "用户没有开通芝麻 (the user has not opened Zhima)",
        ));
    }
    let resume = persona
        .resume
        .ok_or_else(|| ApiError::business(family::QUERY_DATA_IS_NULL, "查询数据为空 (the user has no cloud résumé)"))?;
    // The one write: exactly one concurrent caller gets the row back.
    store.read_resume(&desk.desk_id, state.cfg().token_ttl).await?.ok_or_else(spent)?;
    tracing::info!(app_id = %app.app_id, conn_key = %conn_key, "cloud résumé read");
    encode(&answer(resume))
}

fn text(s: &str) -> Option<String> {
    Some(s).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A résumé as the wire model.
fn answer(r: &Resume) -> CloudResume {
    CloudResume {
        birthday: text(r.birthday),
        certificates: Some(
            r.certificates
                .iter()
                .map(|c| CloudResumeCertificateInfo {
                    certificate_cert_level: text(c.level),
                    certificate_name: text(c.name),
                    certificate_send_card_address: text(c.issued_by),
                    certificate_verify_status: text(c.verify_status),
                    in_validity_period: Some(c.valid.to_string()),
                })
                .collect(),
        ),
        education_experiences: Some(
            r.education
                .iter()
                .map(|e| CloudResumeEducationExperience {
                    degree: text(e.degree),
                    education_status: text(e.education_status),
                    finish_school_month: Some(e.end.1.to_string()),
                    finish_school_year: Some(e.end.0),
                    in_school_month: Some(e.start.1),
                    in_school_year: Some(e.start.0),
                    location: text(e.location),
                    major: text(e.major),
                    school_name: text(e.school_name),
                    tong_zhao: Some(e.tong_zhao),
                    ..Default::default()
                })
                .collect(),
        ),
        email: text(r.email),
        gender: text(r.gender),
        intention_status: text(r.intention_status),
        person_desc: text(r.person_desc),
        phone: text(r.phone),
        pic_url: None,
        position_intentions: Some(
            r.intentions
                .iter()
                .map(|i| CloudResumePositionIntention {
                    intention_city: text(i.city),
                    job_id: text(i.job.0),
                    job_name: text(i.job.1),
                    profession_id: text(i.profession.0),
                    profession_name: text(i.profession.1),
                    salary_max: text(i.salary.1),
                    salary_min: text(i.salary.0),
                    salary_unit: text(i.salary.2),
                    work_property: text(i.work_property),
                })
                .collect(),
        ),
        position_type: text(r.position_type),
        residential_area: text(r.residential_area),
        skills: Some(r.skills.iter().map(|s| CloudResumeSkillInfo { skill_name: text(s) }).collect()),
        user_name: text(r.user_name),
        work_experiences: Some(
            r.work
                .iter()
                .map(|w| CloudResumeWorkExperience {
                    company_name: text(w.company_name),
                    job_id: text(w.job.0),
                    job_name: text(w.job.1),
                    position_name: text(w.position_name),
                    profession_id: text(w.profession.0),
                    profession_name: text(w.profession.1),
                    work_desc: text(w.work_desc),
                    work_end_time: w.end,
                    work_start_time: Some(w.start),
                })
                .collect(),
        ),
        work_start_date: Some(r.work_start_date),
    }
}
