//! The acceptance desk (受理台): opening it from a step-1 order string, and the user's actions
//! (complete as a persona, resolve a pending verification, cancel). Shared by the JSON control
//! plane and the HTML pages.

use alipay_v3::aes::AesKey;
use alipay_v3::keys::PublicKey;
use alipay_v3::order::{parse_order_string, sign_content, verify_order_string, OrderParams};
use alipay_v3::OrderStringError;
use jobworth_wire::code::gateway as code;
use jobworth_wire::{ErrorCode, IdentityResult, CREDIT_AGREEMENT_SIGN};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::diagnosis::{self, Diagnosis, Refusal, Signed};
use crate::error::ApiError;
use crate::personas::{self, Outcome, Persona};
use crate::redact;
use crate::state::AppState;
use crate::store::{AppRecord, Desk, DeskResult, DeskState, NewDesk};
use crate::web::log;

/// Identity type when step 1 names none: `04` (teacher).
pub const DEFAULT_IDENTITY_TYPE: &str = "04";
/// Longest order string accepted.
const MAX_ORDER_STR: usize = 16 * 1024;

/// Checks a merchant-chosen identifier: non-empty, bounded, no control characters.
pub(crate) fn check_id(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::Invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(ApiError::Invalid(format!("{field} is longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Invalid(format!("{field} contains control characters")));
    }
    Ok(())
}

/// What a merchant id in step 1 may look like: ASCII letters, digits, `-_.` (it also becomes
/// the CN of the app certificate, which must stay plain ASCII).
pub(crate) fn check_app_id(app_id: &str) -> Result<(), ApiError> {
    let ok = !app_id.is_empty()
        && app_id.len() <= 64
        && app_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Invalid("app_id must be 1-64 ASCII letters, digits, '-', '_' or '.'".into()))
    }
}

fn string_field(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match obj.get(*n) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Opens (or re-opens) the desk of a signed step-1 order string. Returns the desk and whether
/// this call created it. The same order string always gives the same desk.
pub(crate) async fn open(state: &AppState, order_str: &str) -> Result<(Desk, bool), ApiError> {
    let opened = open_verified(state, order_str).await;
    opened.map_err(|e| Refusal::from(e).noted())
}

/// Parses and verifies an order string: its parameters and the app that signed it. A refused
/// signature says whether the key or the string-to-sign was wrong.
async fn verify_order(state: &AppState, order_str: &str) -> Result<(OrderParams, AppRecord), Refusal> {
    // The core's errors already begin with "order string".
    let params = parse_order_string(order_str).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let app_id = params.get("app_id").ok_or_else(|| ApiError::Invalid("order string has no app_id".into()))?;
    let content = sign_content(&params.0);
    log::note(|n| n.signed(app_id, Some(&content)));
    let app = state.store().app(app_id).await?.ok_or_else(|| {
        Refusal::gateway(
            Diagnosis::UnknownApp,
            code::INVALID_APP_ID,
            format!(
                "无效的AppID参数 (the order string's app_id {} is not registered in the sandbox; register \
                 it with POST /sandbox/apps)",
                redact::id(app_id)
            ),
        )
    })?;
    let spki = app.public_key_spki.as_deref().ok_or_else(|| {
        Refusal::gateway(
            Diagnosis::NoPublicKey,
            code::INVALID_SIGNATURE,
            "验签出错 (no public key is registered for this app)",
        )
    })?;
    let key = PublicKey::from_spki_der(spki).map_err(|e| ApiError::Internal(format!("stored app key: {e}")))?;
    match verify_order_string(order_str, &key) {
        Ok(verified) => Ok((verified, app)),
        Err(OrderStringError::Signature(_)) => {
            diagnosis::check_signature(
                Signed::OrderString,
                app_id,
                &key,
                &content,
                params.get("sign").unwrap_or_default(),
            )?;
            Err(ApiError::Internal("an order string signature failed once and verified once".into()).into())
        }
        Err(e @ (OrderStringError::Encoding(_) | OrderStringError::Duplicate(_))) => {
            Err(ApiError::Invalid(e.to_string()).into())
        }
        Err(OrderStringError::SignType) => Err(Refusal::gateway(
            Diagnosis::WrongSignType,
            code::INVALID_SIGNATURE,
            format!(
                "验签出错 (the order string's sign_type is {:?}; the sandbox verifies RSA2 (SHA256withRSA) only)",
                redact::id(params.get("sign_type").unwrap_or_default())
            ),
        )),
        Err(other) => Err(ApiError::gateway(
            code::INVALID_SIGNATURE,
            format!("验签出错 ({other}; RSA2 over the sorted parameters, sign excluded)"),
        )
        .into()),
    }
}

async fn open_verified(state: &AppState, order_str: &str) -> Result<(Desk, bool), ApiError> {
    let order_str = order_str.trim().trim_start_matches('?');
    if order_str.is_empty() {
        return Err(ApiError::Invalid("order string is empty".into()));
    }
    if order_str.len() > MAX_ORDER_STR {
        return Err(ApiError::Invalid("order string is too long".into()));
    }
    let (params, app) = verify_order(state, order_str).await.map_err(Refusal::noted)?;
    let app_id = app.app_id.as_str();
    match params.get("method") {
        Some(CREDIT_AGREEMENT_SIGN) => {}
        _ => {
            return Err(ApiError::gateway(
                code::INVALID_METHOD,
                format!("不存在的方法名 (the order string's method must be {CREDIT_AGREEMENT_SIGN})"),
            ))
        }
    }
    let biz = params.get("biz_content").ok_or_else(|| ApiError::Invalid("order string has no biz_content".into()))?;
    // With an AES key configured the official SDKs send biz_content encrypted (signed as
    // ciphertext) and say so in encrypt_type.
    let decrypted;
    let biz: &str = biz;
    let biz = match params.get("encrypt_type") {
        None | Some("") => biz,
        Some(t) if t.eq_ignore_ascii_case("AES") => {
            let key_b64 = app.encrypt_key.as_deref().ok_or_else(|| {
                ApiError::gateway(
                    code::MISSING_ENCRYPT_KEY,
                    "缺少加密密钥 (the order string is encrypted but no encrypt_key is registered for this app)",
                )
            })?;
            let key =
                AesKey::from_base64(key_b64).map_err(|e| ApiError::Internal(format!("stored encrypt key: {e}")))?;
            decrypted = key.decrypt_to_string(biz).map_err(|e| {
                ApiError::gateway(code::DECRYPTION_ERROR, format!("解密出错 (order string biz_content: {e})"))
            })?;
            decrypted.as_str()
        }
        Some(_) => {
            return Err(ApiError::gateway(
                code::INVALID_ENCRYPT_TYPE,
                "无效的加密类型 (the order string's encrypt_type must be AES)",
            ))
        }
    };
    let biz: Map<String, Value> = match serde_json::from_str(biz) {
        Ok(Value::Object(m)) => m,
        _ => return Err(ApiError::Invalid("biz_content is not a JSON object".into())),
    };
    let conn_key = string_field(&biz, &["out_agreement_no"])
        .ok_or_else(|| ApiError::Invalid("biz_content has no out_agreement_no".into()))?;
    let service_id = string_field(&biz, &["zm_service_id"])
        .ok_or_else(|| ApiError::Invalid("biz_content has no zm_service_id".into()))?;
    // extra_param is documented as a JSON string; the Node SDK may send it as an object with
    // snake_cased keys, so both shapes are read.
    let extra: Map<String, Value> = match biz.get("extra_param") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Map::new(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::Invalid("extra_param is not a JSON object string".into())),
        },
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::Invalid("extra_param is not a JSON object string".into())),
    };
    let once_token = string_field(&extra, &["onceToken", "once_token"]).unwrap_or_else(new_token);
    let identity_type =
        string_field(&extra, &["identityType", "identity_type"]).unwrap_or_else(|| DEFAULT_IDENTITY_TYPE.into());
    check_id("out_agreement_no", &conn_key, 128)?;
    check_id("zm_service_id", &service_id, 64)?;
    check_id("onceToken", &once_token, 128)?;
    check_id("identityType", &identity_type, 16)?;

    let hash = alipay_v3::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, order_str.as_bytes()).as_ref());
    let new = NewDesk {
        app_id,
        conn_key: &conn_key,
        once_token: &once_token,
        identity_type: &identity_type,
        service_id: &service_id,
        order_hash: Some(&hash),
        order_str: Some(order_str),
    };
    let (desk, created) = state.store().insert_desk(&new).await?;
    if !created && (desk.service_id != service_id || desk.identity_type != identity_type) {
        return Err(ApiError::Conflict(
            "this conn_key and onceToken already belong to a verification with another service or identity type".into(),
        ));
    }
    if created {
        tracing::info!(desk_id = %desk.desk_id, app_id = %desk.app_id, conn_key = %desk.conn_key, "desk opened");
    }
    Ok((desk, created))
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The JSON answer of complete / resolve / cancel / the fixture shortcut.
#[derive(Debug, Serialize)]
pub struct DeskOutcome {
    /// The desk.
    pub desk_id: String,
    /// `conn_key`
    pub conn_key: String,
    /// `once_token`
    pub once_token: String,
    /// `SUCCESS`, `FAILED`, `WAITING_VERIFY`, or the business code a query will get.
    pub identity_result: String,
    /// The persona's member id, once a persona completed the desk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The persona's OpenID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
}

/// What a query will see for this desk right now (ignoring consumption and expiry).
pub fn identity_result(desk: &Desk) -> &str {
    match (desk.state, &desk.result) {
        (DeskState::Pending, _) => Outcome::Pending.as_str(),
        (_, Some(r)) => r.as_str(),
        _ => Outcome::Pending.as_str(),
    }
}

impl DeskOutcome {
    /// Summary of a desk.
    pub fn of(desk: &Desk) -> Self {
        let persona = desk.persona.as_deref().and_then(personas::find);
        DeskOutcome {
            desk_id: desk.desk_id.clone(),
            conn_key: desk.conn_key.clone(),
            once_token: desk.once_token.clone(),
            identity_result: identity_result(desk).to_string(),
            user_id: persona.map(|p| p.user_id.to_string()),
            open_id: persona.map(|p| p.open_id.to_string()),
        }
    }
}

async fn missing_or_conflict(state: &AppState, desk_id: &str, why: &str) -> ApiError {
    match state.store().desk(desk_id).await {
        Ok(Some(_)) => ApiError::Conflict(why.into()),
        Ok(None) => ApiError::NotFound("no such desk".into()),
        Err(e) => e.into(),
    }
}

/// The user finishes the desk as `persona`.
pub(crate) async fn complete(state: &AppState, desk_id: &str, persona: &str) -> Result<Desk, ApiError> {
    let p: &Persona = personas::find(persona).ok_or_else(|| {
        let names: Vec<&str> = personas::PERSONAS.iter().map(|p| p.persona).collect();
        ApiError::Invalid(format!("persona must be one of {}", names.join(", ")))
    })?;
    let (new_state, result) = match p.outcome() {
        Outcome::Pending => (DeskState::Pending, None),
        Outcome::Success => (DeskState::Terminal, Some(DeskResult::Verdict(IdentityResult::Success))),
        Outcome::Failed => (DeskState::Terminal, Some(DeskResult::Verdict(IdentityResult::Failed))),
        Outcome::Error(code) => (DeskState::Terminal, Some(DeskResult::Refusal(ErrorCode::from(code)))),
    };
    match state.store().complete(desk_id, p.persona, new_state, result).await? {
        Some(desk) => {
            tracing::info!(desk_id, persona = p.persona, "desk completed");
            Ok(desk)
        }
        None => Err(missing_or_conflict(state, desk_id, "the desk was already completed or cancelled").await),
    }
}

/// Ends a `pending` verification.
pub(crate) async fn resolve(state: &AppState, desk_id: &str, result: &str) -> Result<Desk, ApiError> {
    // Exactly the terminal spellings: the legacy aliases (`T`, `F`) are for reading answers only.
    let verdict = [IdentityResult::Success, IdentityResult::Failed]
        .into_iter()
        .find(|v| v.as_str() == result)
        .ok_or_else(|| ApiError::Invalid("identity_result must be SUCCESS or FAILED".into()))?;
    match state.store().resolve(desk_id, verdict).await? {
        Some(desk) => {
            tracing::info!(desk_id, result, "pending verification resolved");
            Ok(desk)
        }
        None => Err(missing_or_conflict(
            state,
            desk_id,
            "only a desk completed as 'pending' and not yet resolved can be resolved",
        )
        .await),
    }
}

/// The user declines.
pub(crate) async fn cancel(state: &AppState, desk_id: &str) -> Result<Desk, ApiError> {
    match state.store().cancel(desk_id).await? {
        Some(desk) => {
            tracing::info!(desk_id, "desk cancelled");
            Ok(desk)
        }
        None => Err(missing_or_conflict(state, desk_id, "the desk already has a result").await),
    }
}

/// Fixture shortcut: a desk created and completed in one step, with no order string.
pub(crate) async fn shortcut(
    state: &AppState,
    app_id: &str,
    conn_key: &str,
    service_id: &str,
    identity_type: Option<&str>,
    once_token: Option<&str>,
    persona: &str,
) -> Result<Desk, ApiError> {
    if personas::find(persona).is_none() {
        // Refuse before anything is written.
        return complete(state, "", persona).await;
    }
    state.store().app(app_id).await?.ok_or_else(|| {
        ApiError::gateway(code::INVALID_APP_ID, "无效的AppID参数 (app_id is not registered in the sandbox)")
    })?;
    let identity_type = identity_type.filter(|s| !s.is_empty()).unwrap_or(DEFAULT_IDENTITY_TYPE);
    let once_token = once_token.filter(|s| !s.is_empty()).map_or_else(new_token, str::to_string);
    check_id("conn_key", conn_key, 128)?;
    check_id("service_id", service_id, 64)?;
    check_id("once_token", &once_token, 128)?;
    check_id("identity_type", identity_type, 16)?;
    let new = NewDesk {
        app_id,
        conn_key,
        once_token: &once_token,
        identity_type,
        service_id,
        order_hash: None,
        order_str: None,
    };
    let (desk, created) = state.store().insert_desk(&new).await?;
    if !created {
        return Err(ApiError::Conflict("a verification with this conn_key and once_token already exists".into()));
    }
    complete(state, &desk.desk_id, persona).await
}
