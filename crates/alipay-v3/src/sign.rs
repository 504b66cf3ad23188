//! Signing: the request string-to-sign (client) and the response string-to-sign (server).
//!
//! These two builders are the only place either string is assembled; the verifying side in
//! [`crate::verify`] calls the same functions.

use crate::headers::SCHEME;
use crate::keys::PrivateKey;

/// The authString the official SDKs emit: `app_id=…[,app_cert_sn=…],nonce=…,timestamp=…`.
pub fn auth_string(app_id: &str, app_cert_sn: Option<&str>, nonce: &str, timestamp_ms: u64) -> String {
    let mut s = String::with_capacity(96);
    s.push_str("app_id=");
    s.push_str(app_id);
    if let Some(sn) = app_cert_sn {
        s.push_str(",app_cert_sn=");
        s.push_str(sn);
    }
    s.push_str(",nonce=");
    s.push_str(nonce);
    s.push_str(",timestamp=");
    s.push_str(&timestamp_ms.to_string());
    s
}

/// `authString LF METHOD LF REQUEST_URI LF BODY LF [APP_AUTH_TOKEN LF]`.
///
/// `request_uri` is the exact request-target sent (path, `?`, query); `body` the exact body
/// text (ciphertext when encrypted, `""` when none). The token line appears only when the
/// token is non-empty.
pub fn request_string_to_sign(
    auth_string: &str,
    method: &str,
    request_uri: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> String {
    let token = app_auth_token.filter(|t| !t.is_empty());
    let mut s = String::with_capacity(
        auth_string.len() + method.len() + request_uri.len() + body.len() + token.map_or(0, |t| t.len() + 1) + 4,
    );
    s.push_str(auth_string);
    s.push('\n');
    for c in method.chars() {
        s.push(c.to_ascii_uppercase());
    }
    s.push('\n');
    s.push_str(request_uri);
    s.push('\n');
    s.push_str(body);
    s.push('\n');
    if let Some(t) = token {
        s.push_str(t);
        s.push('\n');
    }
    s
}

/// Signs a request and returns the full `authorization` header value.
pub fn sign_request(
    key: &PrivateKey,
    auth_string: &str,
    method: &str,
    request_uri: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> String {
    let content = request_string_to_sign(auth_string, method, request_uri, body, app_auth_token);
    let sig = key.sign(content.as_bytes());
    let mut h = String::with_capacity(SCHEME.len() + auth_string.len() + sig.len() + 8);
    h.push_str(SCHEME);
    h.push(' ');
    h.push_str(auth_string);
    h.push_str(",sign=");
    h.push_str(&sig);
    h
}

/// `alipay-timestamp LF alipay-nonce LF BODY LF` over the raw body bytes.
pub fn response_string_to_sign(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    v.extend_from_slice(timestamp.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(nonce.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(body);
    v.push(b'\n');
    v
}

/// Server half: the `alipay-signature` value for a response.
pub fn sign_response(key: &PrivateKey, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    key.sign(&response_string_to_sign(timestamp, nonce, body))
}

/// The three response headers a signed response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSignature {
    /// `alipay-timestamp`
    pub timestamp: String,
    /// `alipay-nonce`
    pub nonce: String,
    /// `alipay-signature`
    pub signature: String,
}

impl ResponseSignature {
    /// Signs `body` now with a fresh nonce.
    pub fn new(key: &PrivateKey, body: &[u8]) -> Self {
        let timestamp = crate::now_millis().to_string();
        let nonce = crate::new_nonce().replace('-', "");
        let signature = sign_response(key, &timestamp, &nonce, body);
        ResponseSignature { timestamp, nonce, signature }
    }
}
