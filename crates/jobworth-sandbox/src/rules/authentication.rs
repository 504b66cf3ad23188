//! `GET /v3/zhima/customer/jobworth/authentication`: its business rules.
//!
//! Order: parameter checks (`INVALID_PARAMETER`, then `PARAM_ERROR` for a malformed resident
//! ID) → `conn_key` → `once_token` (unknown / consumed / expired) → `identity_type` →
//! `service_id` → desk state and the user's identifiers → persona outcome → consumption.
//! Everything before the consuming `UPDATE` only reads, so a refused request consumes nothing.

use alipay_v3::query::encode_uri_component;
use jobworth_wire::code::business as code;
use jobworth_wire::{CertType, IdentityResult, QueryType, TokenStatus};
use serde::Serialize;

use super::{invalid, query_pairs, Call, Params};
use crate::cert_no::{normalize_resident_id, IdError};
use crate::error::ApiError;
use crate::personas::{self, Persona};
use crate::state::AppState;
use crate::store::{duration_ms, now_ms, AppRecord, Desk, DeskResult, DeskState};

/// The query parameters, each at most once.
#[derive(Debug, Default)]
pub(crate) struct AuthenticationParams {
    conn_key: Option<String>,
    once_token: Option<String>,
    query_type: Option<String>,
    identity_type: Option<String>,
    service_id: Option<String>,
    user_id: Option<String>,
    open_id: Option<String>,
    cert_no: Option<String>,
    cert_type: Option<String>,
}

impl Params for AuthenticationParams {
    fn parse(raw: Option<&str>, allow_unknown: bool) -> Result<Self, ApiError> {
        let mut p = AuthenticationParams::default();
        for (k, v) in query_pairs(raw, &PARAM_NAMES, allow_unknown)? {
            let slot = match k {
                "conn_key" => &mut p.conn_key,
                "once_token" => &mut p.once_token,
                "query_type" => &mut p.query_type,
                "identity_type" => &mut p.identity_type,
                "service_id" => &mut p.service_id,
                "user_id" => &mut p.user_id,
                "open_id" => &mut p.open_id,
                "cert_no" => &mut p.cert_no,
                "cert_type" => &mut p.cert_type,
                _ => continue,
            };
            *slot = Some(v).filter(|v| !v.is_empty());
        }
        Ok(p)
    }
}

/// The parameters of the authentication query, in the order of the official SDKs' signature.
const PARAM_NAMES: [&str; 9] = [
    "conn_key",
    "once_token",
    "query_type",
    "identity_type",
    "service_id",
    "user_id",
    "open_id",
    "cert_no",
    "cert_type",
];

/// The successful answer.
#[derive(Debug, Serialize)]
struct Answer<'a> {
    identity_result: IdentityResult,
    token_status: TokenStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_result_skip_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    open_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_identity_id: Option<String>,
}

/// Stable per (app, user): the first 32 hex digits of SHA-256(app_id LF user_id).
pub fn merchant_identity_id(app_id: &str, user_id: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{app_id}\n{user_id}").as_bytes());
    alipay_v3::hex(&d.as_ref()[..16])
}

/// The result-page link: Alipay's H5 container (appId 20000067) opening the desk's result page.
fn skip_url(state: &AppState, desk_id: &str) -> String {
    let page = format!("{}/desk/{desk_id}", state.base_url());
    format!("alipays://platformapi/startapp?appId=20000067&url={}", encode_uri_component(&page))
}

/// Runs the query; returns the JSON body of a 200 answer.
pub(crate) async fn query(call: &Call<'_>, mut p: AuthenticationParams) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, generations, .. } = *call;
    if p.cert_no.is_some() && p.cert_type.is_none() {
        p.cert_type.clone_from(&state.cfg().default_cert_type);
    }
    let conn_key = p.conn_key.as_deref().ok_or_else(|| invalid("参数有误 (conn_key is required)"))?;
    let once_token = p.once_token.as_deref().ok_or_else(|| invalid("参数有误 (once_token is required)"))?;
    let service_id = p.service_id.as_deref().ok_or_else(|| invalid("参数有误 (service_id is required)"))?;
    let query_type = p
        .query_type
        .as_deref()
        .map(QueryType::from)
        .filter(QueryType::is_known)
        .ok_or_else(|| invalid("参数有误 (query_type must be exact or dim)"))?;
    let cert_type = p.cert_type.as_deref().map(CertType::from);
    if cert_type.as_ref().is_some_and(|t| !t.is_known()) {
        return Err(invalid("参数有误 (cert_type must be one of 0-5)"));
    }
    if p.cert_no.is_some() && p.cert_type.is_none() {
        return Err(invalid("参数有误 (cert_no needs cert_type)"));
    }
    if query_type == QueryType::Exact && p.user_id.is_none() && p.open_id.is_none() && p.cert_no.is_none() {
        return Err(invalid("参数有误 (query_type exact needs user_id, open_id or cert_no + cert_type)"));
    }
    // A resident ID is checked for shape before anything is looked up.
    let resident_id = match (cert_type, p.cert_no.as_deref()) {
        (Some(CertType::IdCard), Some(no)) => Some(normalize_resident_id(no).map_err(|e| {
            let why = match e {
                IdError::Format | IdError::Length(_) => "is not an 18-digit (or legacy 15-digit) resident ID",
                IdError::BirthDate => "holds an impossible birth date",
                IdError::CheckChar => "has a wrong check digit",
                _ => "is not a valid resident ID",
            };
            ApiError::business(code::PARAM_ERROR, format!("参数错误 (cert_no {why})"))
        })?),
        _ => None,
    };

    let store = state.store();
    let token_invalid = |why: &str| ApiError::business(code::TOKEN_INVALID, format!("once_token 无效 ({why})"));
    // The token's desk first: when it exists, so does its conn_key. The conn_key check (one more
    // SQLite round trip per query) only decides which error a miss gets.
    let copy = store.desk_by_token_at(&app.app_id, conn_key, once_token, generations.desks).await?;
    let desk = match copy.as_deref() {
        Some(copy) => &copy.value,
        None if !store.conn_key_exists(&app.app_id, conn_key).await? => {
            return Err(ApiError::business(
                code::WRONG_OUT_AGREEMENT_NO_INTERCEPT,
                "外部协议号错误 (conn_key is not the out_agreement_no of any step 1 of this app)",
            ));
        }
        None => return Err(token_invalid("unknown, or not issued for this conn_key")),
    };
    if desk.consumed {
        return Err(token_invalid("the terminal result was already read; start a new step 1"));
    }
    let now = now_ms();
    let ttl = state.cfg().token_ttl;
    if desk.became_terminal_at.is_some_and(|at| at.saturating_add(duration_ms(ttl)) <= now) {
        return Err(token_invalid("expired"));
    }
    if p.identity_type.as_deref() != Some(desk.identity_type.as_str()) {
        return Err(ApiError::business(
            code::TOKEN_NOT_MATCH_IDENTITY_TYPE,
            "身份类型不匹配 (identity_type is not the one the token was issued for)",
        ));
    }
    if service_id != desk.service_id {
        return Err(ApiError::business(code::MERCHANT_INTERCEPT, "商户拦截 (service_id is not the one of step 1)"));
    }
    if desk.state == DeskState::Cancelled {
        return Err(ApiError::business(code::USER_NOT_AUTHORIZE, "用户未授权 (the user declined at the desk)"));
    }
    let Some(persona_name) = desk.persona.as_deref() else {
        // The user has not finished the desk yet.
        return answer(state, app, desk, IdentityResult::WaitingVerify, TokenStatus::Processing, None);
    };
    let persona = personas::find(persona_name)
        .ok_or_else(|| ApiError::Internal(format!("desk {} has unknown persona", desk.desk_id)))?;
    check_identifiers(&p, resident_id.as_deref(), persona)?;

    if desk.state == DeskState::Pending {
        return answer(state, app, desk, IdentityResult::WaitingVerify, TokenStatus::Processing, Some(persona));
    }
    let unknown_result = || ApiError::Internal(format!("desk {} has unknown result", desk.desk_id));
    let result = match &desk.result {
        Some(DeskResult::Verdict(verdict)) => verdict.clone(),
        Some(DeskResult::Refusal(refusal)) => {
            let code = personas::PERSONAS
                .iter()
                .map(|p| p.outcome.as_str())
                .find(|c| *c == refusal.as_str())
                .ok_or_else(unknown_result)?;
            return Err(ApiError::business(code, outcome_message(code)));
        }
        None => return Err(unknown_result()),
    };
    // The one write: exactly one concurrent caller gets the row back.
    let consumed = store
        .consume(&desk.desk_id, ttl)
        .await?
        .ok_or_else(|| token_invalid("the terminal result was already read; start a new step 1"))?;
    let result = match consumed.result.clone() {
        Some(DeskResult::Verdict(verdict)) => verdict,
        _ => result,
    };
    tracing::info!(app_id = %app.app_id, conn_key = %conn_key, identity_result = result.as_str(), "token consumed");
    answer(state, app, &consumed, result, TokenStatus::Finish, Some(persona))
}

fn check_identifiers(p: &AuthenticationParams, resident_id: Option<&str>, persona: &Persona) -> Result<(), ApiError> {
    let not_user =
        || ApiError::business(code::USER_NOT_AUTHORIZE, "用户未授权 (user_id/open_id is not the verified user)");
    if p.user_id.as_deref().is_some_and(|u| u != persona.user_id) {
        return Err(not_user());
    }
    if p.open_id.as_deref().is_some_and(|o| o != persona.open_id) {
        return Err(not_user());
    }
    if let Some(no) = p.cert_no.as_deref() {
        let matches = p.cert_type.as_deref() == Some(persona.cert_type)
            && match resident_id {
                Some(normalized) => normalized == persona.cert_no,
                None => no == persona.cert_no,
            };
        if !matches {
            return Err(ApiError::business(
                code::CARD_NO_NOT_MATCH,
                "证件号不匹配 (cert_no/cert_type is not the verified user's)",
            ));
        }
    }
    Ok(())
}

fn outcome_message(code: &str) -> &'static str {
    match code {
        code::JOB_WORTH_BLACK_LIST => "职得黑名单用户 (the user is on the Jobworth blacklist)",
        code::NOT_OPEN_ZM => "用户未开通芝麻信用 (the user has not opened Zhima credit)",
        code::USER_NOT_OPEN_JOBWORTH => "用户未开通职得 (the user has not opened Jobworth)",
        code::RISK_INTERCEPT => "风控拦截 (blocked by risk control)",
        _ => "业务处理失败 (business failure)",
    }
}

fn answer(
    state: &AppState,
    app: &AppRecord,
    desk: &Desk,
    identity_result: IdentityResult,
    token_status: TokenStatus,
    persona: Option<&Persona>,
) -> Result<Vec<u8>, ApiError> {
    let terminal = token_status == TokenStatus::Finish;
    let body = Answer {
        identity_result,
        token_status,
        identity_result_skip_url: terminal.then(|| skip_url(state, &desk.desk_id)),
        user_id: persona.map(|p| p.user_id),
        open_id: persona.map(|p| p.open_id),
        merchant_identity_id: persona.map(|p| merchant_identity_id(&app.app_id, p.user_id)),
    };
    super::encode(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p = AuthenticationParams::parse(Some("conn_key=a%20b&cert_no=&x=1&x=2"), true).unwrap_err();
        assert_eq!(p.code(), "INVALID_PARAMETER");
        let p = AuthenticationParams::parse(Some("conn_key=a%20b&cert_no=&zzz=1"), true).unwrap();
        assert_eq!(p.conn_key.as_deref(), Some("a b"));
        assert_eq!(p.cert_no, None);
        let unknown = AuthenticationParams::parse(Some("conn_key=a&onceToken=t"), false).unwrap_err();
        assert_eq!(unknown.code(), "INVALID_PARAMETER");
        assert!(unknown.message().contains("onceToken"), "{}", unknown.message());
        assert_eq!(AuthenticationParams::parse(Some("a=%zz"), true).unwrap_err().code(), "INVALID_PARAMETER");
        assert_eq!(AuthenticationParams::parse(None, false).unwrap().conn_key, None);
        let dup = AuthenticationParams::parse(Some("user_id=1&user_id=1"), false).unwrap_err();
        assert!(dup.message().contains("user_id"));
        let many: Vec<String> = (0..65).map(|i| format!("p{i}=1")).collect();
        let too_many = AuthenticationParams::parse(Some(&many.join("&")), true).unwrap_err();
        assert!(too_many.message().contains("65 parameters"), "{}", too_many.message());
        assert!(AuthenticationParams::parse(Some(&many[..64].join("&")), true).is_ok());
    }

    #[test]
    fn merchant_identity_is_stable_per_app_and_user() {
        let a = merchant_identity_id("2021001", "2088102146225101");
        assert_eq!(a, merchant_identity_id("2021001", "2088102146225101"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, merchant_identity_id("2021002", "2088102146225101"));
        assert_ne!(a, merchant_identity_id("2021001", "2088102146225102"));
    }
}
