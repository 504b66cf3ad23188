//! Error types. None of them ever carries key material or a full identifier.

use thiserror::Error;

/// A key (or the text that should hold one) could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing but whitespace was given.
    #[error("key is empty")]
    Empty,
    /// The text is neither PEM nor bare base64.
    #[error("key is not valid PEM or base64 ({0})")]
    Encoding(&'static str),
    /// The DER is not one of the accepted structures.
    #[error("key DER is not {expected}")]
    Format {
        /// What was expected (e.g. "a PKCS#1 or PKCS#8 RSA private key").
        expected: &'static str,
    },
    /// The structure parsed but the crypto library refused the key (wrong size, inconsistent).
    #[error("RSA key rejected: {0}")]
    Rejected(String),
    /// A PEM block of a kind that does not hold this sort of key.
    #[error("PEM block '{0}' does not hold the expected key")]
    WrongPemLabel(String),
    /// A certificate holding the key could not be read.
    #[error("certificate: {0}")]
    Cert(#[from] CertError),
    /// Key generation or serialisation failed inside the crypto library.
    #[error("key generation failed")]
    Generate,
}

/// A signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature text is not standard base64.
    #[error("signature is not valid base64")]
    Base64,
    /// The signature does not match the signed content and key.
    #[error("signature does not match")]
    Mismatch,
}

/// AES content encryption failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AesError {
    /// The key is not base64 or not 16/24/32 bytes.
    #[error("AES key must be base64 of 16, 24 or 32 bytes")]
    Key,
    /// The ciphertext is not standard base64.
    #[error("ciphertext is not valid base64")]
    Base64,
    /// Wrong length, wrong key or bad padding.
    #[error("ciphertext does not decrypt with the configured key")]
    Decrypt,
}

/// A certificate or certificate bundle could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CertError {
    /// No `-----BEGIN CERTIFICATE-----` block (nor DER) was found.
    #[error("no certificate found")]
    NoCertificate,
    /// The base64 between the armor lines does not decode.
    #[error("certificate base64 is invalid")]
    Base64,
    /// The DER does not have the X.509 structure.
    #[error("certificate DER is malformed: {0}")]
    Der(&'static str),
    /// A root bundle held no RSA-signed certificate.
    #[error("root bundle holds no RSA-signed certificate")]
    NoRsaRoot,
}

/// The `authorization` header of a request could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthHeaderError {
    /// Not starting with `ALIPAY-SHA256withRSA `.
    #[error("authorization does not start with 'ALIPAY-SHA256withRSA '")]
    Scheme,
    /// No `,sign=` part.
    #[error("authorization has no sign")]
    MissingSign,
    /// A required field is absent or empty.
    #[error("authorization has no {0}")]
    MissingField(&'static str),
    /// A field appears twice.
    #[error("authorization has {0} twice")]
    DuplicateField(String),
    /// A pair without `=`.
    #[error("authorization has a malformed field")]
    Malformed,
    /// The timestamp is not a decimal number of milliseconds.
    #[error("authorization timestamp is not epoch milliseconds")]
    Timestamp,
}

/// A query string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// `%` not followed by two hex digits.
    #[error("invalid percent-encoding in query")]
    Percent,
    /// Decoded bytes are not UTF-8.
    #[error("query is not UTF-8 after decoding")]
    Utf8,
}

/// A v2 order string could not be read or verified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OrderStringError {
    /// The parameter encoding is broken.
    #[error("order string encoding: {0}")]
    Encoding(#[from] QueryError),
    /// A required parameter is missing.
    #[error("order string has no {0}")]
    Missing(&'static str),
    /// A parameter appears twice.
    #[error("order string has {0} twice")]
    Duplicate(String),
    /// `sign_type` is not RSA2.
    #[error("order string sign_type must be RSA2")]
    SignType,
    /// The signature does not verify.
    #[error("order string signature: {0}")]
    Signature(#[from] SignatureError),
}
