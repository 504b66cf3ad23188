//! Why a signed request was refused: the name the request log gives it, and the message that says
//! what the sandbox expected. A refused signature is told apart by applying the registered public
//! key to it ([`alipay_v3::diagnose`]): another key, or the registered key over another string.

use std::time::Duration;

use alipay_v3::diagnose::{diagnose_signature, DigestAlgorithm, SignatureDiagnosis};
use alipay_v3::keys::PublicKey;
use jobworth_wire::code::gateway as code;
use serde::Serialize;

use crate::error::ApiError;
use crate::redact;
use crate::store::{NonceError, StoreError};
use crate::web::log;

/// What went wrong with a signed request, as `GET /sandbox/requests` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Diagnosis {
    /// No `authorization`, or one that does not parse.
    MalformedAuthorization,
    /// The `app_id` is not registered.
    UnknownApp,
    /// `app_cert_sn` is not the SN of the app's certificate.
    WrongAppCertSn,
    /// `alipay-root-cert-sn` is not the sandbox's root.
    WrongRootCertSn,
    /// The app was registered without a public key.
    NoPublicKey,
    /// The signed body is not UTF-8 text.
    BodyNotUtf8,
    /// The signature is not base64.
    SignatureNotBase64,
    /// Made with another key than the registered one.
    WrongKey,
    /// Made with the registered key over another string-to-sign.
    WrongStringToSign,
    /// Made with the registered key and another hash than SHA-256.
    WrongHash,
    /// An order string whose `sign_type` is not `RSA2`.
    WrongSignType,
    /// The timestamp is outside the window (or older than the nonce log).
    StaleTimestamp,
    /// The nonce was used before.
    ReplayedNonce,
    /// The body or `encrypt_type` does not fit the app's AES key.
    Decryption,
}

impl Diagnosis {
    /// The wire name (`wrong-key`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Diagnosis::MalformedAuthorization => "malformed-authorization",
            Diagnosis::UnknownApp => "unknown-app",
            Diagnosis::WrongAppCertSn => "wrong-app-cert-sn",
            Diagnosis::WrongRootCertSn => "wrong-root-cert-sn",
            Diagnosis::NoPublicKey => "no-public-key",
            Diagnosis::BodyNotUtf8 => "body-not-utf8",
            Diagnosis::SignatureNotBase64 => "signature-not-base64",
            Diagnosis::WrongKey => "wrong-key",
            Diagnosis::WrongStringToSign => "wrong-string-to-sign",
            Diagnosis::WrongHash => "wrong-hash",
            Diagnosis::WrongSignType => "wrong-sign-type",
            Diagnosis::StaleTimestamp => "stale-timestamp",
            Diagnosis::ReplayedNonce => "replayed-nonce",
            Diagnosis::Decryption => "decryption",
        }
    }
}

impl Serialize for Diagnosis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refusal and, when it is about the request's signing, its diagnosis.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub error: ApiError,
    pub diagnosis: Option<Diagnosis>,
}

impl Refusal {
    pub(crate) fn new(diagnosis: Diagnosis, error: ApiError) -> Self {
        Refusal { error, diagnosis: Some(diagnosis) }
    }

    pub(crate) fn gateway(diagnosis: Diagnosis, code: &'static str, message: impl Into<String>) -> Self {
        Refusal::new(diagnosis, ApiError::gateway(code, message))
    }

    /// Tells the request log how this request was refused; the error is the answer.
    pub(crate) fn noted(self) -> ApiError {
        log::note(|n| n.refused(&self.error, self.diagnosis));
        self.error
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal { error, diagnosis: None }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<NonceError> for Refusal {
    fn from(e: NonceError) -> Self {
        ApiError::from(e).into()
    }
}

/// What was signed: a v3 request or a step-1 order string. The messages differ in how the
/// string-to-sign is built and which sign type names SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signed {
    /// A v3 request (`authorization`); `token` when `alipay-app-auth-token` was signed too.
    Request { token: bool },
    /// A v2 order string.
    OrderString,
}

impl Signed {
    fn subject(self) -> &'static str {
        match self {
            Signed::Request { .. } => "signed",
            Signed::OrderString => "order string signed",
        }
    }

    fn how_built(self) -> &'static str {
        match self {
            Signed::Request { token: false } => {
                "authString, method, the request-target exactly as sent, the body exactly as sent, each followed by \\n"
            }
            Signed::Request { token: true } => {
                "authString, method, the request-target exactly as sent, the body exactly as sent and \
                 alipay-app-auth-token, each followed by \\n"
            }
            Signed::OrderString => "every parameter but sign with a value, sorted by name, raw values, joined with &",
        }
    }

    fn hash_advice(self, digest: DigestAlgorithm) -> String {
        match (self, digest) {
            (Signed::OrderString, DigestAlgorithm::Sha1) => {
                "SHA-1, which is sign_type RSA, instead of SHA-256: sign with RSA2 (SHA256withRSA)".to_string()
            }
            (Signed::OrderString, d) => format!("{} instead of SHA-256: sign with RSA2 (SHA256withRSA)", d.name()),
            (Signed::Request { .. }, DigestAlgorithm::Sha1) => {
                "SHA-1 (SHA1withRSA, the legacy RSA sign type) instead of SHA-256: v3 signatures are SHA256withRSA"
                    .to_string()
            }
            (Signed::Request { .. }, d) => format!("{} instead of SHA-256: v3 signatures are SHA256withRSA", d.name()),
        }
    }
}

/// Checks `signature` over `content` with the app's registered `key`; when it does not verify,
/// the refusal says which of key, string-to-sign or hash was wrong.
pub(crate) fn check_signature(
    signed: Signed,
    app_id: &str,
    key: &PublicKey,
    content: &str,
    signature: &str,
) -> Result<(), Refusal> {
    let refuse = |d: Diagnosis, why: String| Refusal::gateway(d, code::INVALID_SIGNATURE, format!("验签出错 ({why})"));
    match diagnose_signature(key, content.as_bytes(), signature) {
        SignatureDiagnosis::Valid => Ok(()),
        SignatureDiagnosis::NotBase64 => {
            Err(refuse(Diagnosis::SignatureNotBase64, format!("{}: the signature is not base64", signed.subject())))
        }
        SignatureDiagnosis::WrongKey => Err(refuse(
            Diagnosis::WrongKey,
            format!(
                "{} with another key than the one registered for app {app_id}, whose public key is {}; \
                 compare with `jobworth keys fingerprint FILE` on the private key you sign with: another \
                 fingerprint means the app is registered with another key pair",
                signed.subject(),
                key.fingerprint_sha256()
            ),
        )),
        SignatureDiagnosis::WrongMessage { digest: DigestAlgorithm::Sha256 } => Err(refuse(
            Diagnosis::WrongStringToSign,
            format!(
                "{} with the registered key, but over another string than the one the sandbox verified: \
                 \"{}\" ({}; secret values masked here); compare it with the string your client signed",
                signed.subject(),
                redact::one_line(&redact::string_to_sign(content)),
                signed.how_built()
            ),
        )),
        SignatureDiagnosis::WrongMessage { digest } => Err(refuse(
            Diagnosis::WrongHash,
            format!("{} with the registered key, but hashed with {}", signed.subject(), signed.hash_advice(digest)),
        )),
    }
}

/// `2024-06-07T10:41:51.000Z` for epoch milliseconds.
pub(crate) fn rfc3339(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => format!("{ms} ms since 1970"),
    }
}

/// `1h 2m 3.004s` for a span of milliseconds.
pub(crate) fn span(ms: u64) -> String {
    let d = Duration::from_millis(ms);
    let (h, m, s, milli) = (d.as_secs() / 3600, d.as_secs() / 60 % 60, d.as_secs() % 60, d.subsec_millis());
    let secs = if milli == 0 { format!("{s}s") } else { format!("{s}.{milli:03}s") };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m {secs}"),
        (h, m) => format!("{h}h {m}m {secs}"),
    }
}

/// The refusal of a timestamp outside the window around `now`.
pub(crate) fn stale_timestamp(ts: i64, now: i64, window: Duration) -> Refusal {
    let skew = span(now.abs_diff(ts));
    let side = if ts > now { "ahead of" } else { "behind" };
    Refusal::gateway(
        Diagnosis::StaleTimestamp,
        code::INVALID_TIMESTAMP,
        format!(
            "非法的时间戳参数 (timestamp {ts} ({}) is {skew} {side} the sandbox clock ({}); the window is ±{}s: \
             sign with the current time in epoch milliseconds, and check the client's clock)",
            rfc3339(ts),
            rfc3339(now),
            window.as_secs()
        ),
    )
}

/// The refusal of a nonce used before; `first` is the timestamp of the request that used it.
pub(crate) fn replayed_nonce(first: Option<i64>, now: i64) -> Refusal {
    let when = match first {
        Some(ts) => format!(
            ", first by a request with timestamp {ts} ({}, {} ago)",
            rfc3339(ts),
            span(u64::try_from(now.saturating_sub(ts)).unwrap_or(0))
        ),
        None => String::new(),
    };
    Refusal::gateway(
        Diagnosis::ReplayedNonce,
        code::INVALID_SIGNATURE,
        format!(
            "验签出错 (replay: this nonce was already used by this app within the timestamp window{when}; \
             every request needs a fresh nonce and signature, a retry too)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_spans() {
        assert_eq!(rfc3339(1_717_756_911_000), "2024-06-07T10:41:51.000Z");
        assert_eq!(rfc3339(1_717_756_911_042), "2024-06-07T10:41:51.042Z");
        assert_eq!(span(0), "0s");
        assert_eq!(span(1_500), "1.500s");
        assert_eq!(span(16 * 60_000 + 40_000), "16m 40s");
        assert_eq!(span(3_600_000 + 1), "1h 0m 0.001s");
    }

    #[test]
    fn another_hash_names_the_sign_type() {
        assert_eq!(
            Signed::OrderString.hash_advice(DigestAlgorithm::Sha1),
            "SHA-1, which is sign_type RSA, instead of SHA-256: sign with RSA2 (SHA256withRSA)"
        );
        assert_eq!(
            Signed::Request { token: false }.hash_advice(DigestAlgorithm::Sha1),
            "SHA-1 (SHA1withRSA, the legacy RSA sign type) instead of SHA-256: v3 signatures are SHA256withRSA"
        );
        assert_eq!(
            Signed::OrderString.hash_advice(DigestAlgorithm::Sha512),
            "SHA-512 instead of SHA-256: sign with RSA2 (SHA256withRSA)"
        );
    }

    #[test]
    fn names() {
        assert_eq!(serde_json::to_value(Diagnosis::WrongStringToSign).unwrap(), "wrong-string-to-sign");
    }
}
