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

/// What a request signature covers besides the authString: the method, the exact
/// request-target, the exact body and the ISV token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTarget<'a> {
    /// HTTP method (signed upper-cased).
    pub method: &'a str,
    /// The exact request-target sent: path, `?`, query.
    pub uri: &'a str,
    /// The exact body text: ciphertext when encrypted, `""` when none.
    pub body: &'a str,
    /// `alipay-app-auth-token`; signed only when non-empty.
    pub app_auth_token: Option<&'a str>,
}

impl<'a> RequestTarget<'a> {
    /// A request without body or token.
    pub fn new(method: &'a str, uri: &'a str) -> Self {
        RequestTarget { method, uri, body: "", app_auth_token: None }
    }

    /// With this body text.
    pub fn body(self, body: &'a str) -> Self {
        RequestTarget { body, ..self }
    }

    /// With this ISV token (`None` or `""`: none).
    pub fn app_auth_token(self, app_auth_token: Option<&'a str>) -> Self {
        RequestTarget { app_auth_token, ..self }
    }
}

/// `authString LF METHOD LF REQUEST_URI LF BODY LF [APP_AUTH_TOKEN LF]`.
///
/// The token line appears only when the token is non-empty.
pub fn request_string_to_sign(auth_string: &str, target: &RequestTarget<'_>) -> String {
    let RequestTarget { method, uri, body, app_auth_token } = *target;
    let token = app_auth_token.filter(|t| !t.is_empty());
    let mut s = String::with_capacity(
        auth_string.len() + method.len() + uri.len() + body.len() + token.map_or(0, |t| t.len() + 1) + 4,
    );
    s.push_str(auth_string);
    s.push('\n');
    for c in method.chars() {
        s.push(c.to_ascii_uppercase());
    }
    s.push('\n');
    s.push_str(uri);
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
pub fn sign_request(key: &PrivateKey, auth_string: &str, target: &RequestTarget<'_>) -> String {
    let content = request_string_to_sign(auth_string, target);
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
