//! Header names of the v3 protocol, lower case as they go on the wire.

/// Request: `ALIPAY-SHA256withRSA …,sign=…`.
pub const AUTHORIZATION: &str = "authorization";
/// Request: caller-chosen id, not signed.
pub const REQUEST_ID: &str = "alipay-request-id";
/// Request: ISV app auth token; appended to the string-to-sign.
pub const APP_AUTH_TOKEN: &str = "alipay-app-auth-token";
/// Request: root certificate SN in certificate mode.
pub const ROOT_CERT_SN: &str = "alipay-root-cert-sn";
/// Request: `AES` when the content is encrypted.
pub const ENCRYPT_TYPE: &str = "alipay-encrypt-type";
/// Request: `AES` (sent by the Node SDK next to [`ENCRYPT_TYPE`]).
pub const ENCRYPTION_ALGM: &str = "alipay-encryption-algm";
/// Response: epoch milliseconds.
pub const TIMESTAMP: &str = "alipay-timestamp";
/// Response: random string.
pub const NONCE: &str = "alipay-nonce";
/// Response: base64 RSA-SHA256 signature by the Alipay key.
pub const SIGNATURE: &str = "alipay-signature";
/// Response: SN of the Alipay certificate whose key signed (certificate mode).
pub const SN: &str = "alipay-sn";
/// Response: server trace id.
pub const TRACE_ID: &str = "alipay-trace-id";
/// The authorization scheme token.
pub const SCHEME: &str = "ALIPAY-SHA256withRSA";
