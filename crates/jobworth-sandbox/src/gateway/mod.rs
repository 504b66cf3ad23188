//! The v3 gateway as HTTP: the `/v3/…` handler, the table of methods it serves, and the signing of
//! its answers. The checks are in `verify`, the business rules in `rules`.

mod verify;

use alipay_v3::aes::AesKey;
use alipay_v3::headers as h;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use jobworth_wire::code::{business, family, gateway as code};
use jobworth_wire::family::{cloud_resume as cr, credit_agreement as ca, job_data as jd, picture as pic};
use jobworth_wire::family::{position as pos, work_card as wc, ENDPOINTS};
use jobworth_wire::AUTHENTICATION_PATH;

use crate::diagnosis::Refusal;
use crate::error::{ApiError, JSON_UTF8};
use crate::rules::{authentication, cloud_resume, credit_agreement, job_data, picture, position, work_card, Call};
use crate::state::AppState;
use crate::web::extract::RawBody;
use verify::{parse_authorization, verify};

/// Handler of every `/v3/…` request: the checks, then the method's rules.
pub(crate) async fn v3(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    // The raw request-target, byte for byte as it arrived (never re-encoded).
    let target = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let verified = verify(&state, &method, target, &headers, &body).await.map_err(Refusal::noted)?;
    let call = Call {
        state: &state,
        app: &verified.app.value.record,
        generations: verified.generations,
        body: &verified.body,
    };
    let json = dispatch(&call, &method, uri.path(), uri.query()).await.map_err(|e| Refusal::from(e).noted())?;
    Ok(success(json, verified.response_key.as_ref()))
}

/// The v3 methods served, one line each: method and path, then the rules given their parameters
/// (`GET`: the query string; `POST`: the JSON body), with the code a value of the wrong form gets.
async fn dispatch(call: &Call<'_>, method: &Method, path: &str, query: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let (illegal, invalid) = (family::ILLEGAL_ARGUMENT, business::INVALID_PARAMETER);
    match (method.as_str(), path) {
        ("GET", AUTHENTICATION_PATH) => authentication::query(call, call.params(query)?).await,
        ("GET", wc::PATH) => work_card::query(call, call.query(query, work_card::NAMES, illegal)?).await,
        ("GET", cr::PATH) => cloud_resume::query(call, call.query(query, cloud_resume::NAMES, invalid)?).await,
        ("POST", jd::PATH) => job_data::add(call, call.json(illegal)?).await,
        ("POST", pic::PATH) => picture::upload(call, call.json(illegal)?).await,
        ("POST", pos::PATH) => position::add(call, call.json(invalid)?).await,
        ("GET", ca::PATH) => credit_agreement::query(call, call.query(query, credit_agreement::NAMES, invalid)?).await,
        _ => Err(ApiError::gateway(code::INVALID_METHOD, format!("不存在的方法名 (the sandbox serves {})", served()))),
    }
}

/// The served methods, for the refusal of any other: `GET /v3/…, POST /v3/…, …`.
fn served() -> String {
    ENDPOINTS.iter().map(|e| format!("{} {}", e.verb, e.path)).collect::<Vec<_>>().join(", ")
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

/// Signs every `/v3/…` answer (errors too, unless `unsigned_errors`), naming the sandbox's
/// certificate when the request was made in certificate mode.
pub(crate) async fn sign(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let v3 = is_v3_path(req.uri().path());
    let cert_mode = v3 && parse_authorization(req.headers()).is_ok_and(|a| a.app_cert_sn.is_some());
    let res = next.run(req).await;
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
