//! The v3 checks, in order: authorization present and parseable → app known → (certificate mode)
//! `app_cert_sn` is the app's issued cert → signature over the raw request-target and raw body
//! → timestamp window → nonce not seen (recorded only after the signature verified) → body
//! decrypts when marked AES.
//!
//! The app is judged as it was when the request's nonce was recorded: the store answers for
//! that ([`Store::app_checked`], [`Store::app_as_of`]).
//!
//! [`Store::app_checked`]: crate::store::Store::app_checked
//! [`Store::app_as_of`]: crate::store::Store::app_as_of

use std::sync::Arc;

use alipay_v3::aes::AesKey;
use alipay_v3::headers as h;
use alipay_v3::sign::{request_string_to_sign, RequestTarget};
use alipay_v3::verify::AuthorizationHeader;
use alipay_v3::AuthHeaderError;
use axum::http::{HeaderMap, Method};
use jobworth_wire::code::gateway as code;

use crate::diagnosis::{self, Diagnosis, Refusal, Signed};
use crate::error::ApiError;
use crate::multipart;
use crate::redact;
use crate::state::AppState;
use crate::store::{duration_ms, now_ms, App, Generations, Versioned};
use crate::web::log;

/// Longest nonce accepted (the official SDKs send 36 characters).
const MAX_NONCE: usize = 128;

/// A request that passed every gateway check.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The calling app, current as of the nonce insert.
    pub app: Arc<Versioned<App>>,
    /// Set when the answer must be AES-encrypted (request marked `alipay-encrypt-type: AES`).
    pub response_key: Option<AesKey>,
    /// The change counters as of the nonce insert: what the request reads must be current at them.
    pub generations: Generations,
    /// The business body: the signed body, decrypted when it was sent AES-encrypted.
    pub body: Vec<u8>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_aes(headers: &HeaderMap, name: &str) -> bool {
    header_str(headers, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("AES"))
}

/// Parses the `authorization` header the way the gateway does.
pub(crate) fn parse_authorization(headers: &HeaderMap) -> Result<AuthorizationHeader, ApiError> {
    let raw = headers
        .get(h::AUTHORIZATION)
        .ok_or_else(|| ApiError::gateway(code::MISSING_SIGNATURE, "缺少签名参数 (no authorization header)"))?;
    let text = raw.to_str().map_err(|_| {
        ApiError::gateway(code::MISSING_SIGNATURE, "签名参数格式错误 (authorization is not ASCII text)")
    })?;
    let auth = AuthorizationHeader::parse(text).map_err(|e: AuthHeaderError| {
        ApiError::gateway(code::MISSING_SIGNATURE, format!("签名参数格式错误 (authorization: {e})"))
    })?;
    if auth.nonce.len() > MAX_NONCE {
        return Err(ApiError::gateway(code::MISSING_SIGNATURE, "签名参数格式错误 (authorization nonce is too long)"));
    }
    Ok(auth)
}

fn unknown_app(app_id: &str) -> Refusal {
    Refusal::gateway(
        Diagnosis::UnknownApp,
        code::INVALID_APP_ID,
        format!(
            "无效的AppID参数 (app_id {} is not registered in the sandbox; register it with POST /sandbox/apps, \
             or check that the client sends the app id it was registered with)",
            redact::id(app_id)
        ),
    )
}

/// The checks that depend on the app's record: certificate SN and signature. `content` is the
/// string-to-sign, `None` when the body is not UTF-8 text.
fn check_signature(
    app: &App,
    auth: &AuthorizationHeader,
    content: Option<&str>,
    signed: Signed,
) -> Result<(), Refusal> {
    if let Some(sn) = &auth.app_cert_sn {
        if app.record.app_cert_sn.as_deref() != Some(sn.as_str()) {
            let expected = match &app.record.app_cert_sn {
                Some(expected) => format!("expected {expected}, the SN of the app_cert POST /sandbox/apps returned"),
                None => "this app has no certificate: it was registered without a public key".into(),
            };
            return Err(Refusal::gateway(
                Diagnosis::WrongAppCertSn,
                code::APP_CERT_NOT_EXIST,
                format!(
                    "应用公钥证书不存在 (app_cert_sn {} is not the SN of the certificate the sandbox issued to this \
                     app; {expected} (registering the app again issues a new certificate))",
                    redact::id(sn)
                ),
            ));
        }
    }
    let key = match &app.public_key {
        None => {
            return Err(Refusal::gateway(
                Diagnosis::NoPublicKey,
                code::INVALID_SIGNATURE,
                "验签出错 (no public key is registered for this app)",
            ))
        }
        Some(Err(e)) => return Err(ApiError::Internal(format!("stored app key: {e}")).into()),
        Some(Ok(key)) => key,
    };
    let content = content.ok_or_else(|| {
        Refusal::gateway(Diagnosis::BodyNotUtf8, code::INVALID_SIGNATURE, "验签出错 (request body is not UTF-8 text)")
    })?;
    diagnosis::check_signature(signed, &auth.app_id, key, content, &auth.signature)
}

/// Runs every gateway check on a request.
pub(super) async fn verify(
    state: &AppState,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verified, Refusal> {
    let auth = parse_authorization(headers).map_err(|e| {
        log::note(|n| n.unsigned());
        Refusal::new(Diagnosis::MalformedAuthorization, e)
    })?;
    // BODY is the raw body text; for multipart uploads the text of the `data` part.
    let signed_body: &[u8] = match header_str(headers, "content-type").and_then(multipart::boundary) {
        Some(b) => multipart::data_part(b, body).unwrap_or_default(),
        None => body,
    };
    let token = header_str(headers, h::APP_AUTH_TOKEN);
    let content = std::str::from_utf8(signed_body).ok().map(|b| {
        request_string_to_sign(
            &auth.auth_string,
            &RequestTarget::new(method.as_str(), target).body(b).app_auth_token(token),
        )
    });
    log::note(|n| n.signed(&auth.app_id, content.as_deref()));
    let signed = Signed::Request { token: token.is_some_and(|t| !t.is_empty()) };

    let store = state.store();
    let check = |app: &App| check_signature(app, &auth, content.as_deref(), signed);
    let app = store.app_checked(&auth.app_id, &check).await?.ok_or_else(|| unknown_app(&auth.app_id))?;
    // Checked above: the signature verified over it.
    let signed_body = std::str::from_utf8(signed_body).unwrap_or_default();

    // Optional (the PHP SDK never sends it), but when sent it must name this sandbox's root.
    if let Some(sent) = headers.get(h::ROOT_CERT_SN) {
        if sent.to_str().ok().map(str::trim) != Some(state.keys().root_cert_sn.as_str()) {
            return Err(Refusal::gateway(
                Diagnosis::WrongRootCertSn,
                code::INVALID_ALIPAY_ROOT_CERT_SN,
                format!(
                    "支付宝根证书SN无效 (alipay-root-cert-sn is not the SN of the sandbox's root certificate, \
                     expected {}; configure the alipay_root_cert that POST /sandbox/apps returns)",
                    state.keys().root_cert_sn
                ),
            ));
        }
    }

    let now = now_ms();
    let window = state.cfg().timestamp_window;
    let ts = i64::try_from(auth.timestamp_ms).unwrap_or(i64::MAX);
    if now.abs_diff(ts) > duration_ms(window).unsigned_abs() {
        return Err(diagnosis::stale_timestamp(ts, now, window));
    }
    let Some(recorded) = store.record_nonce(&auth.app_id, &auth.nonce, ts, window).await? else {
        let first = store.nonce_timestamp(&auth.app_id, &auth.nonce).await?;
        return Err(diagnosis::replayed_nonce(first, now));
    };
    // Another process on this data dir with a shorter window may have pruned nonces this one
    // would still accept: a request older than the log's horizon cannot be told from a replay.
    if ts < recorded.pruned_before {
        return Err(Refusal::gateway(
            Diagnosis::StaleTimestamp,
            code::INVALID_TIMESTAMP,
            format!(
                "非法的时间戳参数 (timestamp is older than the nonce log kept on this data dir ({} ms ago); \
                 another sandbox process on it runs with a shorter --timestamp-window)",
                now.saturating_sub(recorded.pruned_before)
            ),
        ));
    }
    let generations = recorded.generations;
    let app = store.app_as_of(app, generations.apps, &check).await?.ok_or_else(|| unknown_app(&auth.app_id))?;

    let marked = is_aes(headers, h::ENCRYPT_TYPE) || is_aes(headers, h::ENCRYPTION_ALGM);
    let unknown_type = header_str(headers, h::ENCRYPT_TYPE).is_some() && !is_aes(headers, h::ENCRYPT_TYPE);
    let undecryptable = |why: String| Refusal::gateway(Diagnosis::Decryption, code::DECRYPTION_ERROR, why);
    if unknown_type {
        return Err(undecryptable("解密出错 (alipay-encrypt-type must be AES)".into()));
    }
    let mut response_key = None;
    let mut plain = None;
    if marked {
        let key_b64 = app
            .value
            .record
            .encrypt_key
            .as_deref()
            .ok_or_else(|| undecryptable("解密出错 (no encrypt_key is registered for this app)".into()))?;
        let key = AesKey::from_base64(key_b64).map_err(|e| ApiError::Internal(format!("stored encrypt key: {e}")))?;
        if !signed_body.is_empty() {
            plain = Some(key.decrypt(signed_body).map_err(|e| undecryptable(format!("解密出错 ({e})")))?);
        }
        if is_aes(headers, h::ENCRYPT_TYPE) {
            response_key = Some(key);
        }
    }
    let body = plain.unwrap_or_else(|| signed_body.as_bytes().to_vec());
    Ok(Verified { app, response_key, generations, body })
}
