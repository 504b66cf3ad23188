//! The v3 gateway: request verification (protocol §1.8) and response signing (§2.5).
//!
//! Check order: authorization present and parseable → app known → (certificate mode)
//! `app_cert_sn` is the app's issued cert → signature over the raw request-target and raw body
//! → timestamp window → nonce not seen (recorded only after the signature verified) → body
//! decrypts when marked AES. Only then is the method dispatched.
//!
//! The app record comes from the process's copy; the nonce insert returns the `apps` change
//! counter, and a copy older than that is read again and the checks redone, so a request is always
//! judged on the app as it was when its nonce was recorded (see `cache`).

use std::sync::Arc;

use alipay_v3::aes::AesKey;
use alipay_v3::headers as h;
use alipay_v3::verify::{verify_request, AuthorizationHeader};
use alipay_v3::AuthHeaderError;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cache::{Generations, Versioned};
use crate::error::{ApiError, JSON_UTF8};
use crate::jobworth;
use crate::multipart;
use crate::state::AppState;
use crate::store::{duration_ms, now_ms, App};

/// The one v3 method the sandbox serves.
pub const AUTHENTICATION_PATH: &str = "/v3/zhima/customer/jobworth/authentication";

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
        .ok_or_else(|| ApiError::gateway("missing-signature", "缺少签名参数 (no authorization header)"))?;
    let text = raw
        .to_str()
        .map_err(|_| ApiError::gateway("missing-signature", "签名参数格式错误 (authorization is not ASCII text)"))?;
    let auth = AuthorizationHeader::parse(text).map_err(|e: AuthHeaderError| {
        ApiError::gateway("missing-signature", format!("签名参数格式错误 (authorization: {e})"))
    })?;
    if auth.nonce.len() > MAX_NONCE {
        return Err(ApiError::gateway("missing-signature", "签名参数格式错误 (authorization nonce is too long)"));
    }
    Ok(auth)
}

fn unknown_app() -> ApiError {
    ApiError::gateway("invalid-app-id", "无效的AppID参数 (app_id is not registered in the sandbox)")
}

/// The checks that depend on the app's record: certificate SN and signature.
fn check_signature(
    app: &App,
    auth: &AuthorizationHeader,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    signed_body: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(sn) = &auth.app_cert_sn {
        if app.record.app_cert_sn.as_deref() != Some(sn.as_str()) {
            return Err(ApiError::gateway(
                "app-cert-not-exist",
                "应用公钥证书不存在 (app_cert_sn is not the SN of the certificate the sandbox issued to this app)",
            ));
        }
    }
    let key = match &app.public_key {
        None => {
            return Err(ApiError::gateway("invalid-signature", "验签出错 (no public key is registered for this app)"))
        }
        Some(Err(e)) => return Err(ApiError::Internal(format!("stored app key: {e}"))),
        Some(Ok(key)) => key,
    };
    let signed_body = signed_body
        .ok_or_else(|| ApiError::gateway("invalid-signature", "验签出错 (request body is not UTF-8 text)"))?;
    let token = header_str(headers, h::APP_AUTH_TOKEN);
    let signed = alipay_v3::sign::RequestTarget {
        method: method.as_str(),
        uri: target,
        body: signed_body,
        app_auth_token: token,
    };
    verify_request(key, auth, &signed).map_err(|e| {
        ApiError::gateway(
            "invalid-signature",
            format!(
                "验签出错 ({e}; the sandbox signs authString, method, the raw request-target, the raw body{} — \
                 check the key and that the query is sent exactly as signed)",
                if token.is_some() { " and alipay-app-auth-token" } else { "" }
            ),
        )
    })
}

/// Runs every gateway check on a request.
pub(crate) async fn verify(
    state: &AppState,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verified, ApiError> {
    let auth = parse_authorization(headers)?;
    // BODY is the raw body text; for multipart uploads the text of the `data` part.
    let signed_body: &[u8] = match header_str(headers, "content-type").and_then(multipart::boundary) {
        Some(b) => multipart::data_part(b, body).unwrap_or_default(),
        None => body,
    };
    let signed_body = std::str::from_utf8(signed_body).ok();

    // The app as this process last saw it. A check that fails on a copy is redone on a fresh read
    // (another process may have re-registered the app) before the request is refused.
    let store = state.store();
    let (mut app, fresh) = store.app_copy(&auth.app_id).await?.ok_or_else(unknown_app)?;
    if let Err(e) = check_signature(&app.value, &auth, method, target, headers, signed_body) {
        if fresh {
            return Err(e);
        }
        app = store.app_read(&auth.app_id).await?.ok_or_else(unknown_app)?;
        check_signature(&app.value, &auth, method, target, headers, signed_body)?;
    }
    // Checked above: the signature verified over it.
    let signed_body = signed_body.unwrap_or_default();

    // Optional (the PHP SDK never sends it), but when sent it must name this sandbox's root.
    if let Some(sent) = headers.get(h::ROOT_CERT_SN) {
        if sent.to_str().ok().map(str::trim) != Some(state.keys().root_cert_sn.as_str()) {
            return Err(ApiError::gateway(
                "invalid-alipay-root-cert-sn",
                "支付宝根证书SN无效 (alipay-root-cert-sn is not the SN of the sandbox's root certificate; \
                 configure the alipay_root_cert that POST /sandbox/apps returns)",
            ));
        }
    }

    let now = now_ms();
    let window = state.cfg().timestamp_window;
    let ts = i64::try_from(auth.timestamp_ms).unwrap_or(i64::MAX);
    if now.abs_diff(ts) > duration_ms(window).unsigned_abs() {
        return Err(ApiError::gateway(
            "invalid-timestamp",
            format!("非法的时间戳参数 (timestamp is more than {}s away from the sandbox clock)", window.as_secs()),
        ));
    }
    let recorded = store.record_nonce(&auth.app_id, &auth.nonce, ts, window).await?.ok_or_else(|| {
        ApiError::gateway(
            "invalid-signature",
            "验签出错 (replay: this nonce was already used by this app within the timestamp window)",
        )
    })?;
    // Another process on this data dir with a shorter window may have pruned nonces this one
    // would still accept: a request older than the log's horizon cannot be told from a replay.
    if ts < recorded.pruned_before {
        return Err(ApiError::gateway(
            "invalid-timestamp",
            format!(
                "非法的时间戳参数 (timestamp is older than the nonce log kept on this data dir ({} ms ago); \
                 another sandbox process on it runs with a shorter --timestamp-window)",
                now.saturating_sub(recorded.pruned_before)
            ),
        ));
    }
    let generations = recorded.generations;
    if app.generation != generations.apps {
        // Some process wrote `apps` since the copy was read: judge the request on the app as it
        // is now.
        app = store.app_read(&auth.app_id).await?.ok_or_else(unknown_app)?;
        check_signature(&app.value, &auth, method, target, headers, Some(signed_body))?;
    }

    let marked = is_aes(headers, h::ENCRYPT_TYPE) || is_aes(headers, h::ENCRYPTION_ALGM);
    let unknown_type = header_str(headers, h::ENCRYPT_TYPE).is_some() && !is_aes(headers, h::ENCRYPT_TYPE);
    if unknown_type {
        return Err(ApiError::gateway("decryption-error", "解密出错 (alipay-encrypt-type must be AES)"));
    }
    let mut response_key = None;
    if marked {
        let key_b64 = app.value.record.encrypt_key.as_deref().ok_or_else(|| {
            ApiError::gateway("decryption-error", "解密出错 (no encrypt_key is registered for this app)")
        })?;
        let key = AesKey::from_base64(key_b64).map_err(|e| ApiError::Internal(format!("stored encrypt key: {e}")))?;
        if !signed_body.is_empty() {
            key.decrypt(signed_body).map_err(|e| ApiError::gateway("decryption-error", format!("解密出错 ({e})")))?;
        }
        if is_aes(headers, h::ENCRYPT_TYPE) {
            response_key = Some(key);
        }
    }
    Ok(Verified { app, response_key, generations })
}

fn body_error(rejection: BytesRejection) -> ApiError {
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => ApiError::TooLarge,
        other => ApiError::Invalid(format!("request body could not be read: {}", other.body_text())),
    }
}

/// Handler of every `/v3/…` request.
pub(crate) async fn v3(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match v3_inner(&state, &method, &uri, &headers, body).await {
        Ok(res) => res,
        Err(e) => {
            tracing::info!(code = e.code(), status = e.status().as_u16(), "v3 request refused");
            e.into_response()
        }
    }
}

async fn v3_inner(
    state: &AppState,
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(body_error)?;
    // The raw request-target, byte for byte as it arrived (never re-encoded).
    let target = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let verified = verify(state, method, target, headers, &body).await?;
    if method != Method::GET || uri.path() != AUTHENTICATION_PATH {
        return Err(ApiError::gateway(
            "invalid-method",
            format!("不存在的方法名 (the sandbox serves only GET {AUTHENTICATION_PATH})"),
        ));
    }
    let json =
        jobworth::authentication_query(state, &verified.app.value.record, verified.generations, uri.query()).await?;
    Ok(success(json, verified.response_key.as_ref()))
}

/// A 200 answer: JSON, or its base64 AES ciphertext as `text/plain` when asked for.
fn success(json: Vec<u8>, key: Option<&AesKey>) -> Response {
    match key {
        Some(k) => {
            let mut res = (StatusCode::OK, k.encrypt(&json)).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            res
        }
        None => {
            let mut res = (StatusCode::OK, json).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            res
        }
    }
}

fn is_v3_path(path: &str) -> bool {
    path == "/v3" || path.starts_with("/v3/")
}

/// Whether a response already has a body a client can parse as an answer.
fn has_typed_body(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"))
}

/// Outermost response step: turns bare error responses of inner layers (timeout, body limit,
/// unmatched method) into JSON errors, then signs every `/v3/…` response.
pub(crate) async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let v3 = is_v3_path(req.uri().path());
    let cert_mode = v3 && parse_authorization(req.headers()).is_ok_and(|a| a.app_cert_sn.is_some());
    let mut res = next.run(req).await;

    let status = res.status();
    if status.as_u16() >= 400 && !has_typed_body(&res) {
        let err = match status {
            StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            StatusCode::NOT_FOUND => ApiError::NotFound("no such route".into()),
            StatusCode::METHOD_NOT_ALLOWED => {
                ApiError::Gateway("invalid-method", format!("method not allowed on this route ({status})"))
            }
            s if s.is_server_error() => ApiError::Internal(format!("inner layer answered {s}")),
            s => ApiError::Invalid(format!("bad request ({s})")),
        };
        let keep = res.headers().get(header::ALLOW).cloned();
        res = err.into_response();
        *res.status_mut() = status;
        if let Some(allow) = keep {
            res.headers_mut().insert(header::ALLOW, allow);
        }
    }

    if !v3 || (res.status().as_u16() >= 400 && state.cfg().unsigned_errors) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let err = ApiError::Internal(format!("response body: {e}"));
            let (p, b) = err.into_response().into_parts();
            parts = p;
            axum::body::to_bytes(b, usize::MAX).await.unwrap_or_default()
        }
    };
    let sig = alipay_v3::sign::ResponseSignature::new(&state.keys().alipay_key, &bytes);
    let hs = &mut parts.headers;
    for (name, value) in [(h::TIMESTAMP, sig.timestamp), (h::NONCE, sig.nonce), (h::SIGNATURE, sig.signature)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            hs.insert(HeaderName::from_static(name), v);
        }
    }
    if cert_mode {
        if let Ok(v) = HeaderValue::from_str(&state.keys().alipay_cert_sn) {
            hs.insert(HeaderName::from_static(h::SN), v);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
