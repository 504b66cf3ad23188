//! Receipts: a signed answer kept as evidence, re-checked offline.
//!
//! A [`Receipt`] holds what the answer's signature covers (`alipay-timestamp`, `alipay-nonce`
//! and the exact body bytes) next to the signature itself and the context of the call. Its
//! check, [`Receipt::verify`], rebuilds the string-to-sign with the one response builder
//! ([`crate::sign::response_string_to_sign`]) that the live check uses.
//!
//! The JSON form (`serde`) is stable: field names are fixed and `format` names the version
//! ([`RECEIPT_FORMAT`]). A later version adds fields; a reader refuses formats it does not know.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::aes::AesKey;
use crate::cert::{self, CertDetails};
use crate::error::{AesError, CertError, SignatureError};
use crate::keys::PublicKey;
use crate::verify::verify_response;

/// The `format` of the receipts this version writes and reads.
pub const RECEIPT_FORMAT: &str = "jobworth-receipt/1";

/// One signed answer, as received.
///
/// Covered by Alipay's signature: `alipay_timestamp`, `alipay_nonce` and the body
/// (`body_base64`). The rest is the client's record of the call (`method`, `request_target`,
/// `status`, `alipay_sn`, `encrypted`, `received_at`): kept verbatim, not signed by Alipay.
///
/// `request_target` is the exact target that was signed and sent, query included: for a
/// Jobworth query it holds the `once_token` (and `cert_no` when one was sent), so a stored
/// receipt is secret-bearing. `Debug` shows the path only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// [`RECEIPT_FORMAT`].
    pub format: String,
    /// HTTP method of the call, upper case.
    pub method: String,
    /// The request-target as signed and sent: path, `?`, query.
    pub request_target: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// `alipay-timestamp`, verbatim.
    pub alipay_timestamp: String,
    /// `alipay-nonce`, verbatim.
    pub alipay_nonce: String,
    /// `alipay-signature` (base64), verbatim.
    pub alipay_signature: String,
    /// `alipay-sn`, when the answer carried one (certificate mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alipay_sn: Option<String>,
    /// Whether the body is AES ciphertext (an encrypted call's 2xx answer).
    pub encrypted: bool,
    /// The exact body bytes received, standard base64.
    pub body_base64: String,
    /// When the client received the answer: RFC 3339, UTC, milliseconds.
    pub received_at: String,
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The query holds the once_token and possibly a cert_no.
        let path = self.request_target.split('?').next().unwrap_or("");
        f.debug_struct("Receipt")
            .field("format", &self.format)
            .field("method", &self.method)
            .field("path", &path)
            .field("status", &self.status)
            .field("alipay_timestamp", &self.alipay_timestamp)
            .field("alipay_nonce", &self.alipay_nonce)
            .field("alipay_sn", &self.alipay_sn)
            .field("encrypted", &self.encrypted)
            .field("body", &format_args!("<{} base64 characters>", self.body_base64.len()))
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// What a receipt is checked against.
#[derive(Debug, Clone)]
pub enum ReceiptTrust {
    /// Key mode: the Alipay public key.
    PublicKey(PublicKey),
    /// Certificate mode: the Alipay certificate file (its first certificate signs; any further
    /// ones are intermediates) and the Alipay root bundle it must chain to.
    Certificates {
        /// The Alipay certificate, then its intermediates.
        alipay_cert: Vec<CertDetails>,
        /// The root bundle.
        roots: Vec<CertDetails>,
    },
}

impl ReceiptTrust {
    /// Certificate mode from the bytes of the two files (PEM or DER).
    pub fn certificates(alipay_cert: &[u8], root_bundle: &[u8]) -> Result<Self, CertError> {
        Ok(ReceiptTrust::Certificates {
            alipay_cert: cert::details_bundle_bytes(alipay_cert)?,
            roots: cert::details_bundle_bytes(root_bundle)?,
        })
    }
}

/// Why a receipt did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// `format` is not one this version reads.
    #[error("unknown receipt format {0:?} (this version reads {RECEIPT_FORMAT})")]
    Format(String),
    /// `body_base64` is not standard base64.
    #[error("body_base64 is not valid base64")]
    Body,
    /// The signature does not match timestamp, nonce and body under the key.
    #[error("alipay_signature does not verify: {0}")]
    Signature(#[from] SignatureError),
    /// `alipay_sn` names another certificate than the one given.
    #[error("alipay_sn {received} is not the SN {expected} of the given Alipay certificate")]
    SnMismatch {
        /// SN of the given certificate.
        expected: String,
        /// The receipt's `alipay_sn`.
        received: String,
    },
    /// The Alipay certificate does not chain to a root of the bundle.
    #[error("the Alipay certificate (issued by {issuer}) does not chain to any certificate of the root bundle")]
    Chain {
        /// Issuer of the certificate where the chain stopped.
        issuer: String,
    },
    /// The certificate's key is not a usable RSA key.
    #[error("the Alipay certificate holds no usable RSA key")]
    CertificateKey,
    /// The body is ciphertext and no AES key was given.
    #[error("the body is encrypted: the AES key is needed to read it")]
    KeyNeeded,
    /// The verified body did not decrypt with the AES key given.
    #[error("the verified body did not decrypt: {0}")]
    Decrypt(AesError),
}

impl Receipt {
    /// A receipt of an answer received now.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        method: &str,
        request_target: &str,
        status: u16,
        alipay_timestamp: &str,
        alipay_nonce: &str,
        alipay_signature: &str,
        alipay_sn: Option<&str>,
        encrypted: bool,
        body: &[u8],
    ) -> Self {
        Receipt {
            format: RECEIPT_FORMAT.to_string(),
            method: method.to_ascii_uppercase(),
            request_target: request_target.to_string(),
            status,
            alipay_timestamp: alipay_timestamp.to_string(),
            alipay_nonce: alipay_nonce.to_string(),
            alipay_signature: alipay_signature.to_string(),
            alipay_sn: alipay_sn.map(str::to_string),
            encrypted,
            body_base64: STANDARD.encode(body),
            received_at: rfc3339_millis(crate::now_millis()),
        }
    }

    /// The body bytes as received (ciphertext when `encrypted`); not yet verified.
    pub fn body(&self) -> Result<Vec<u8>, ReceiptError> {
        STANDARD.decode(&self.body_base64).map_err(|_| ReceiptError::Body)
    }

    /// Re-checks the signature offline and returns the verified body, decrypted with `aes` when
    /// the body is encrypted. Certificate mode also checks that the certificate chains to the
    /// bundle (signatures only: a receipt is checked after the fact, so validity dates are not)
    /// and that `alipay_sn`, when present, is the certificate's SN.
    pub fn verify(&self, trust: &ReceiptTrust, aes: Option<&AesKey>) -> Result<Vec<u8>, ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format(self.format.clone()));
        }
        let body = self.body()?;
        let cert_key;
        let key = match trust {
            ReceiptTrust::PublicKey(k) => k,
            ReceiptTrust::Certificates { alipay_cert, roots } => {
                let first = alipay_cert.first().ok_or(ReceiptError::CertificateKey)?;
                if let Some(sn) = &self.alipay_sn {
                    let expected = first.info.sn();
                    if *sn != expected {
                        return Err(ReceiptError::SnMismatch { expected, received: sn.clone() });
                    }
                }
                chain_root(first, &alipay_cert[1..], roots)
                    .map_err(|stop| ReceiptError::Chain { issuer: stop.info.issuer_dn.clone() })?;
                cert_key = first.info.public_key().map_err(|_| ReceiptError::CertificateKey)?;
                &cert_key
            }
        };
        verify_response(key, &self.alipay_timestamp, &self.alipay_nonce, &body, &self.alipay_signature)?;
        if !self.encrypted {
            return Ok(body);
        }
        let aes = aes.ok_or(ReceiptError::KeyNeeded)?;
        let text = std::str::from_utf8(&body).map_err(|_| ReceiptError::Decrypt(AesError::Base64))?;
        aes.decrypt(text).map_err(ReceiptError::Decrypt)
    }
}

/// Follows `leaf` through `intermediates` up to a certificate of `roots` that signed it (each
/// signature checked); `Err` is the certificate where the walk stopped.
pub fn chain_root<'a>(
    leaf: &'a CertDetails,
    intermediates: &'a [CertDetails],
    roots: &'a [CertDetails],
) -> Result<&'a CertDetails, &'a CertDetails> {
    let mut current = leaf;
    for _ in 0..=intermediates.len() {
        if let Some(root) = roots.iter().find(|root| current.is_signed_by(root)) {
            return Ok(root);
        }
        match intermediates.iter().find(|i| current.is_signed_by(i)) {
            Some(next) => current = next,
            None => break,
        }
    }
    Err(current)
}

/// RFC 3339 in UTC with milliseconds, e.g. `2024-06-07T10:41:51.576Z`.
pub fn rfc3339_millis(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem / 60 % 60, rem % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(1_717_756_911_576), "2024-06-07T10:41:51.576Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
