//! Signed v3 requests as a client builds them, and the checks of signed answers. Every call of the
//! protocol core's signing and verifying made by the kit is in this file.

use alipay_v3::headers as h;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{request_uri, QueryEncoding};
use alipay_v3::sign::ResponseSignature;
use alipay_v3::verify::AuthorizationHeader;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{json, Value};

use crate::app::App;
use crate::fixtures::{AUTH_PATH, SERVICE_ID};
use crate::http::{into_resp, Resp};

/// The fields of an authString: `(app_id, app_cert_sn, nonce, timestamp_ms)`.
pub type AuthFields<'a> = (&'a str, Option<&'a str>, &'a str, u64);

/// An `authorization` value for `method target body [token]` with the given authString fields.
pub fn authorization(
    key: &PrivateKey,
    (app_id, app_cert_sn, nonce, ts): AuthFields<'_>,
    method: &str,
    target: &str,
    body: &str,
    token: Option<&str>,
) -> String {
    let auth = alipay_v3::sign::auth_string(app_id, app_cert_sn, nonce, ts);
    let target = alipay_v3::sign::RequestTarget { method, uri: target, body, app_auth_token: token };
    alipay_v3::sign::sign_request(key, &auth, &target)
}

/// A fresh, correct `authorization` (new nonce, now) by `app_id` in key mode.
pub fn sign_now(key: &PrivateKey, app_id: &str, method: &str, target: &str, body: &str) -> String {
    authorization(key, (app_id, None, &alipay_v3::new_nonce(), alipay_v3::now_millis()), method, target, body, None)
}

/// A fresh, correct `authorization` for a GET of `target` by `app` in key mode.
pub fn sign_get(app: &App, target: &str) -> String {
    sign_now(&app.key, &app.app_id, "GET", target, "")
}

/// Alipay's signature headers over `body`, made with `key`.
pub fn sign_answer(key: &PrivateKey, body: &[u8]) -> ResponseSignature {
    ResponseSignature::new(key, body)
}

/// A signed step-1 order string, as the official `sdkExecute` builds it.
pub fn order_string(app_id: &str, key: &PrivateKey, conn_key: &str, extra: Option<Value>) -> String {
    let mut biz = json!({"out_agreement_no": conn_key, "zm_service_id": SERVICE_ID});
    if let Some(e) = extra {
        biz["extra_param"] = json!(e.to_string());
    }
    let params = [
        ("method", "zhima.credit.payafteruse.creditagreement.sign".to_string()),
        ("app_id", app_id.to_string()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("timestamp", alipay_v3::order::shanghai_timestamp(1_717_756_911)),
        ("biz_content", biz.to_string()),
    ];
    alipay_v3::order::sign_order_string(key, &params)
}

/// Whether `authorization` verifies with `key` over `method target body [token]`.
pub fn request_verifies(
    key: &PublicKey,
    auth: &AuthorizationHeader,
    method: &str,
    target: &str,
    body: &str,
    token: Option<&str>,
) -> bool {
    let target = alipay_v3::sign::RequestTarget { method, uri: target, body, app_auth_token: token };
    alipay_v3::verify::verify_request(key, auth, &target).is_ok()
}

/// Checks an answer's signature headers with `key` over the exact body bytes.
pub fn verify_answer(
    key: &PublicKey,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), String> {
    alipay_v3::verify::verify_response(key, timestamp, nonce, body, signature).map_err(|e| e.to_string())
}

/// One signed v3 request, with knobs for the negative tests.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub body: String,
    pub cert_sn: Option<String>,
    pub encrypt: bool,
    pub nonce: Option<String>,
    pub timestamp: Option<u64>,
    pub app_auth_token: Option<String>,
    /// Send this target instead of the signed one.
    pub send_target: Option<String>,
    /// Send this method instead of the signed one.
    pub send_method: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Req {
    pub fn get(target: impl Into<String>) -> Self {
        Req {
            method: "GET".into(),
            target: target.into(),
            body: String::new(),
            cert_sn: None,
            encrypt: false,
            nonce: None,
            timestamp: None,
            app_auth_token: None,
            send_target: None,
            send_method: None,
            extra_headers: Vec::new(),
        }
    }

    /// A GET of the authentication path with `pairs` as its query.
    pub fn query(pairs: &[(&str, &str)]) -> Self {
        Req::get_params(AUTH_PATH, pairs)
    }

    /// A GET of `path` with `pairs` as its query.
    pub fn get_params(path: &str, pairs: &[(&str, &str)]) -> Self {
        Req::get(request_uri(path, pairs.iter().copied(), QueryEncoding::Rfc3986))
    }

    /// A POST of `body` (JSON text) to `path`.
    pub fn post(path: impl Into<String>, body: impl Into<String>) -> Self {
        Req { method: "POST".into(), body: body.into(), ..Req::get(path) }
    }
}

/// Signs `req` as `app` (encrypting the body with the app's AES key when asked) and sends it to `base`.
pub async fn send_req(client: &reqwest::Client, base: &str, app: &App, req: &Req) -> Resp {
    let nonce = req.nonce.clone().unwrap_or_else(alipay_v3::new_nonce);
    let ts = req.timestamp.unwrap_or_else(alipay_v3::now_millis);
    let body = match (&app.aes, req.encrypt && !req.body.is_empty()) {
        (Some(k), true) => k.encrypt(req.body.as_bytes()),
        _ => req.body.clone(),
    };
    let authz = authorization(
        &app.key,
        (&app.app_id, req.cert_sn.as_deref(), &nonce, ts),
        &req.method,
        &req.target,
        &body,
        req.app_auth_token.as_deref(),
    );
    let target = req.send_target.as_deref().unwrap_or(&req.target);
    let method = req.send_method.as_deref().unwrap_or(&req.method);
    let mut rb = client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}{target}"))
        .header("authorization", authz)
        .header("alipay-request-id", alipay_v3::new_nonce().replace('-', ""));
    if let Some(t) = &req.app_auth_token {
        rb = rb.header("alipay-app-auth-token", t);
    }
    if req.encrypt {
        rb = rb.header("alipay-encrypt-type", "AES").header("content-type", "text/plain");
    }
    for (k, v) in &req.extra_headers {
        rb = rb.header(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    if !body.is_empty() {
        rb = rb.body(body);
    }
    into_resp(rb.send().await.unwrap()).await
}

/// What one query got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200, signature verified: the `identity_result`.
    Ok(String),
    /// An error answer, signature verified: the `code`.
    Refused(u16, String),
    /// No answer (connection refused or lost, timeout): the request may or may not have arrived.
    Lost,
}

/// Sends a freshly signed `GET target` and verifies the answer's signature with the app's Alipay key.
pub async fn signed_get(client: &reqwest::Client, base: &str, app: &App, target: &str) -> Answer {
    let res = match client.get(format!("{base}{target}")).header(h::AUTHORIZATION, sign_get(app, target)).send().await {
        Ok(r) => r,
        Err(_) => return Answer::Lost,
    };
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let Ok(body) = res.bytes().await else { return Answer::Lost };
    let hv = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    verify_answer(&app.alipay_public_key(), &hv(h::TIMESTAMP), &hv(h::NONCE), &body, &hv(h::SIGNATURE))
        .unwrap_or_else(|e| panic!("answer {status} to {target} fails verification: {e}"));
    let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("answer {status} is not JSON: {e}"));
    if status == 200 {
        Answer::Ok(v["identity_result"].as_str().unwrap_or_default().to_string())
    } else {
        Answer::Refused(status, v["code"].as_str().unwrap_or_default().to_string())
    }
}
