//! Verification: responses (client half) and requests (server half).

use crate::error::{AuthHeaderError, SignatureError};
use crate::headers::SCHEME;
use crate::keys::PublicKey;
use crate::sign::{request_string_to_sign, response_string_to_sign, RequestTarget};

/// Client half: verifies `alipay-signature` over `ts LF nonce LF body LF`, `body` being the
/// raw response bytes (the ciphertext for encrypted responses).
pub fn verify_response(
    key: &PublicKey,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureError> {
    key.verify(&response_string_to_sign(timestamp, nonce, body), signature_b64)
}

/// A parsed `authorization` request header. The authString is kept verbatim: it is what was
/// signed, whatever its field order or extra fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// Everything between the scheme and `,sign=`.
    pub auth_string: String,
    /// The base64 signature.
    pub signature: String,
    /// `app_id`
    pub app_id: String,
    /// `app_cert_sn` (certificate mode).
    pub app_cert_sn: Option<String>,
    /// `nonce`
    pub nonce: String,
    /// `timestamp` in epoch milliseconds.
    pub timestamp_ms: u64,
    /// Unknown fields, in order (e.g. `expired_seconds`).
    pub extra: Vec<(String, String)>,
}

impl AuthorizationHeader {
    /// Parses `ALIPAY-SHA256withRSA authString,sign=…`, splitting at the last `,sign=`.
    pub fn parse(header: &str) -> Result<Self, AuthHeaderError> {
        let rest = header.strip_prefix(SCHEME).and_then(|r| r.strip_prefix(' ')).ok_or(AuthHeaderError::Scheme)?;
        // The signature is base64 (no ','), so the last ',' is almost always the `,sign=` sought;
        // finding a byte is much cheaper than a backwards substring search over the signature.
        let idx = match rest.rfind(',') {
            Some(i) if rest[i..].starts_with(",sign=") => i,
            _ => rest.rfind(",sign=").ok_or(AuthHeaderError::MissingSign)?,
        };
        let auth_string = &rest[..idx];
        let signature = rest[idx + 6..].trim();
        if signature.is_empty() {
            return Err(AuthHeaderError::MissingSign);
        }
        let (mut app_id, mut app_cert_sn, mut nonce, mut timestamp) = (None, None, None, None);
        let mut extra = Vec::new();
        for pair in auth_string.split(',') {
            let (k, v) = pair.split_once('=').ok_or(AuthHeaderError::Malformed)?;
            let slot = match k {
                "app_id" => &mut app_id,
                "app_cert_sn" => &mut app_cert_sn,
                "nonce" => &mut nonce,
                "timestamp" => &mut timestamp,
                _ => {
                    extra.push((k.to_string(), v.to_string()));
                    continue;
                }
            };
            if slot.replace(v).is_some() {
                return Err(AuthHeaderError::DuplicateField(k.to_string()));
            }
        }
        let app_id = required(app_id, "app_id")?.to_string();
        let nonce = required(nonce, "nonce")?.to_string();
        let ts = required(timestamp, "timestamp")?;
        if ts.len() > 19 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthHeaderError::Timestamp);
        }
        let timestamp_ms = ts.parse().map_err(|_| AuthHeaderError::Timestamp)?;
        Ok(AuthorizationHeader {
            auth_string: auth_string.to_string(),
            signature: signature.to_string(),
            app_id,
            app_cert_sn: app_cert_sn.filter(|s| !s.is_empty()).map(str::to_string),
            nonce,
            timestamp_ms,
            extra,
        })
    }
}

fn required<'a>(v: Option<&'a str>, name: &'static str) -> Result<&'a str, AuthHeaderError> {
    v.filter(|s| !s.is_empty()).ok_or(AuthHeaderError::MissingField(name))
}

/// Server half: verifies a request signature against the raw request-target and body.
pub fn verify_request(
    key: &PublicKey,
    auth: &AuthorizationHeader,
    target: &RequestTarget<'_>,
) -> Result<(), SignatureError> {
    let content = request_string_to_sign(&auth.auth_string, target);
    key.verify(content.as_bytes(), &auth.signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors() {
        use AuthHeaderError::*;
        let p = AuthorizationHeader::parse;
        assert_eq!(p("Bearer x"), Err(Scheme));
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1"), Err(MissingSign));
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1,sign="), Err(MissingSign));
        assert_eq!(p("ALIPAY-SHA256withRSA nonce=n,timestamp=1,sign=x"), Err(MissingField("app_id")));
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=-1,sign=x"), Err(Timestamp));
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=99999999999999999999,sign=x"), Err(Timestamp));
        assert_eq!(
            p("ALIPAY-SHA256withRSA app_id=1,app_id=2,nonce=n,timestamp=1,sign=x"),
            Err(DuplicateField("app_id".into()))
        );
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,junk,timestamp=1,sign=x"), Err(Malformed));
        let ok = p("ALIPAY-SHA256withRSA timestamp=5,app_id=1,nonce=n,expired_seconds=120,sign=a,sign=b").unwrap();
        assert_eq!(ok.signature, "b");
        assert_eq!(ok.auth_string, "timestamp=5,app_id=1,nonce=n,expired_seconds=120,sign=a");
        // "sign=a" is inside the authString and so is an unknown extra field
        assert_eq!(ok.extra.len(), 2);
        // Whatever follows the last ",sign=" is the signature, commas included (and then fails to verify).
        let odd = p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1,sign=abc,x=y").unwrap();
        assert_eq!((odd.auth_string.as_str(), odd.signature.as_str()), ("app_id=1,nonce=n,timestamp=1", "abc,x=y"));
        assert_eq!(p("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1,x=y"), Err(MissingSign));
    }
}
