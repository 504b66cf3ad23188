//! `GET /v3/zhima/customer/jobworth/info/query`: the user's work card (工作证) and its links.
//!
//! Order: parameter checks (`INVALID_PARAMETER` for what is missing, `ILLEGAL_ARGUMENT` for a
//! value of the wrong form) → the user (`user_id`, else `open_id`, else `cert_no` + `cert_type`:
//! the uid wins when both are set) → the user authorized a desk of this app (of `conn_key`, when
//! sent), else `USER_NOT_AUTHORIZE` → the persona (`BLACK_CONTROL`, the `USER_NOT_OPEN_ZHIMA`
//! sub_code, no card) → `job_id` → the links, which open this sandbox's card pages.

use jobworth_wire::code::{business as code, family};
use jobworth_wire::family::work_card::{UserIdentifier, VisitorType, WorkCardInfo, WorkCardParams};
use jobworth_wire::{CertType, ErrorCode};

use super::{encode, invalid, is_link, Call};
use crate::cert_no::normalize_resident_id;
use crate::error::ApiError;
use crate::personas::{self, Outcome, Persona};
use crate::state::AppState;
use crate::workcard::{self, Display};

/// The parameters, in the official SDKs' order.
pub(crate) const NAMES: &[&str] = &[
    "user_name",
    "conn_key",
    "cert_no",
    "user_id",
    "open_id",
    "back_url",
    "cert_type",
    "ka_visitor_id",
    "visitor_type",
    "visitor_name",
    "company_certificate",
    "visitor_url",
    "has_button",
    "has_number",
    "has_qr_code",
    "has_html",
    "job_id",
    "industry_id",
    "cloud_resume_scene",
];

pub(crate) fn illegal(message: impl Into<String>) -> ApiError {
    ApiError::business(family::ILLEGAL_ARGUMENT, message)
}

/// Who a call is about: `user_id`, else `open_id`, else `cert_no` + `cert_type`. `None`: no
/// identifier was sent. An identifier that names nobody gives `Ok(Some(None))`.
pub(crate) fn identify(
    state: &AppState,
    user_id: Option<&str>,
    open_id: Option<&str>,
    cert_no: Option<&str>,
    cert_type: Option<&CertType>,
) -> Result<Option<Option<&'static Persona>>, ApiError> {
    fn set(v: Option<&str>) -> Option<&str> {
        v.filter(|s| !s.is_empty())
    }
    if let Some(uid) = set(user_id) {
        return Ok(Some(personas::by_uid(Some(uid), None)));
    }
    if let Some(oid) = set(open_id) {
        return Ok(Some(personas::by_uid(None, Some(oid))));
    }
    let Some(no) = set(cert_no) else { return Ok(None) };
    let default = state.cfg().default_cert_type.as_deref().map(CertType::from);
    let cert_type = cert_type.or(default.as_ref()).ok_or_else(|| invalid("参数有误 (cert_no needs cert_type)"))?;
    if !cert_type.is_known() {
        return Err(illegal("参数非法 (cert_type must be one of 0-5)"));
    }
    let no = match cert_type {
        CertType::IdCard => {
            normalize_resident_id(no).map_err(|_| illegal("参数非法 (cert_no is not a valid resident ID)"))?
        }
        _ => no.to_owned(),
    };
    Ok(Some(personas::by_cert(cert_type.as_str(), &no)))
}

fn check_link(name: &str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if !is_link(v) => {
            Err(illegal(format!("参数非法 ({name} must be an http(s) or alipays:// URL of at most 1024 characters)")))
        }
        _ => Ok(()),
    }
}

/// Runs the query; returns the JSON body of a 200 answer.
pub(crate) async fn query(call: &Call<'_>, p: WorkCardParams) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    if p.visitor_type.as_ref().is_some_and(|t| !matches!(t, VisitorType::Company | VisitorType::Person)) {
        return Err(illegal("参数非法 (visitor_type must be C or P)"));
    }
    check_link("back_url", p.back_url.as_deref())?;
    check_link("visitor_url", p.visitor_url.as_deref())?;
    let persona =
        identify(state, p.user_id.as_deref(), p.open_id.as_deref(), p.cert_no.as_deref(), p.cert_type.as_ref())?
            .ok_or_else(|| invalid("参数有误 (user_id, open_id or cert_no + cert_type is required)"))?;
    let by = p.identifier().map_or("the user", UserIdentifier::as_str);
    let not_authorized = || {
        ApiError::business(
            code::USER_NOT_AUTHORIZE,
            format!(
                "用户未授权 (the user named by {by} has not authorized this app at a desk{})",
                match &p.conn_key {
                    Some(_) => " of this conn_key",
                    None => "",
                }
            ),
        )
    };
    let persona = persona.ok_or_else(not_authorized)?;
    let desk = state
        .store()
        .authorized_by(&app.app_id, persona.persona, p.conn_key.as_deref())
        .await?
        .ok_or_else(not_authorized)?;
    match persona.outcome {
        Outcome::Error(code::JOB_WORTH_BLACK_LIST) => {
            return Err(ApiError::business(family::BLACK_CONTROL, "黑名单管控 (the user is under blacklist control)"))
        }
        Outcome::Error(code::NOT_OPEN_ZM) => {
            let answer = WorkCardInfo {
                acceptance_id: Some(desk.desk_id),
                sub_code: Some(ErrorCode::UserNotOpenZhima),
                sub_msg: Some("用户没有开通芝麻".into()),
                ..Default::default()
            };
            return encode(&answer);
        }
        _ => {}
    }
    let card = persona.card.ok_or_else(|| {
        ApiError::business(code::USER_NOT_AUTHORIZE, "用户未授权 (the user has not opened a Jobworth work card)")
    })?;
    if p.job_id.as_deref().is_some_and(|j| j != card.job_id) {
        return Err(ApiError::business(
            family::JOB_ID_NOT_MATCH,
            "职业不匹配 (job_id is not the job of the user's work card)",
        ));
    }
    let display = Display {
        button: p.has_button.unwrap_or(false),
        number: p.has_number.unwrap_or(false),
        qr: p.has_qr_code.unwrap_or(false),
        back: p.back_url.clone(),
    };
    let links = workcard::links(state, &app.app_id, persona, &display);
    let answer = WorkCardInfo {
        acceptance_id: Some(desk.desk_id),
        html_url: p.has_html.unwrap_or(false).then_some(links.html),
        picture_url: Some(links.picture),
        scene_result: p.cloud_resume_scene.as_ref().map(|_| persona.resume.is_some()),
        update_url: Some(links.update),
        url: Some(links.page),
        ..Default::default()
    };
    encode(&answer)
}
