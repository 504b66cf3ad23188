//! Client configuration: [`ClientBuilder`] and the two ways to trust Alipay's answers
//! ([`Credentials`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use alipay_v3::aes::AesKey;
use alipay_v3::cert;
use alipay_v3::keys::{PrivateKey, PublicKey};

use crate::client::Client;
use crate::sink::ReceiptSink;
use crate::token::TokenLedger;
use jobworth_wire::DEFAULT_ENDPOINT;

use crate::error::ConfigError;

/// Default time allowed for one attempt (connect, send, full answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of retries after the first attempt (see [`ClientBuilder::max_retries`]).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default largest accepted distance between an answer's `alipay-timestamp` and the local clock
/// (see [`ClientBuilder::response_time_window`]).
pub const DEFAULT_RESPONSE_TIME_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Default largest accepted response body, in bytes (see [`ClientBuilder::max_response_bytes`]).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Certificate mode: the SNs that travel with requests and the key that verifies answers.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateMode {
    /// SN of the app's public-key certificate (`app_cert_sn` in the authString).
    pub app_cert_sn: String,
    /// SN of the Alipay public-key certificate (expected in `alipay-sn`).
    pub alipay_cert_sn: String,
    /// Root SN of the Alipay root bundle (`alipay-root-cert-sn` request header).
    pub alipay_root_cert_sn: String,
    /// The Alipay certificate's public key, which verifies answers.
    pub alipay_public_key: PublicKey,
    /// Issuer of the Alipay certificate (RFC 2253, as in its SN): tells Alipay's from a sandbox's.
    pub alipay_cert_issuer: String,
}

impl CertificateMode {
    /// Whose CA issued the configured Alipay certificate, when its issuer says.
    pub fn alipay_cert_authority(&self) -> Option<CertificateAuthority> {
        CertificateAuthority::of_issuer(&self.alipay_cert_issuer)
    }
}

/// Whose certificate authority issued a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateAuthority {
    /// Alipay's (Ant Financial's), which issues production's certificates.
    Alipay,
    /// A jobworth sandbox's.
    Sandbox,
}

impl CertificateAuthority {
    /// Reads the organization (`O=`) of an issuer name in RFC 2253 form.
    ///
    /// ```
    /// use jobworth::CertificateAuthority;
    /// let alipay = "CN=Ant Financial Certification Authority Class 2 R1,OU=Certification Authority,O=Ant Financial,C=CN";
    /// assert_eq!(CertificateAuthority::of_issuer(alipay), Some(CertificateAuthority::Alipay));
    /// assert_eq!(CertificateAuthority::of_issuer("CN=x,O=Jobworth Sandbox,C=CN"), Some(CertificateAuthority::Sandbox));
    /// assert_eq!(CertificateAuthority::of_issuer("CN=x,O=Other,C=CN"), None);
    /// ```
    pub fn of_issuer(issuer_dn: &str) -> Option<Self> {
        let organization = |name: &str| issuer_dn.split(',').any(|rdn| rdn.strip_prefix("O=") == Some(name));
        if organization(jobworth_wire::ALIPAY_CA_ORGANIZATION) {
            Some(CertificateAuthority::Alipay)
        } else if organization(jobworth_wire::SANDBOX_CA_ORGANIZATION) {
            Some(CertificateAuthority::Sandbox)
        } else {
            None
        }
    }
}

impl fmt::Debug for CertificateMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateMode")
            .field("app_cert_sn", &self.app_cert_sn)
            .field("alipay_cert_sn", &self.alipay_cert_sn)
            .field("alipay_root_cert_sn", &self.alipay_root_cert_sn)
            .field("alipay_cert_issuer", &self.alipay_cert_issuer)
            .finish_non_exhaustive()
    }
}

/// How the client authenticates Alipay's answers (and, in certificate mode, which SNs it sends).
///
/// ```
/// # let pem = alipay_v3::keys::PrivateKey::generate().unwrap().public_key().to_spki_pem();
/// let creds = jobworth::Credentials::alipay_public_key_pem(&pem)?;
/// assert!(!creds.is_certificate_mode());
/// # Ok::<(), jobworth::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// Key mode: the Alipay public key.
    PublicKey(PublicKey),
    /// Certificate mode.
    Certificates(CertificateMode),
}

impl Credentials {
    /// Key mode from the Alipay public key as PEM or bare base64 (SPKI or PKCS#1, or a certificate).
    pub fn alipay_public_key_pem(text: &str) -> Result<Self, ConfigError> {
        PublicKey::parse(text)
            .map(Credentials::PublicKey)
            .map_err(|source| ConfigError::Key { what: "Alipay public key", source })
    }

    /// Certificate mode from the PEM texts of the app certificate, the Alipay public-key
    /// certificate and the Alipay root certificate bundle. SNs are computed as the official SDKs do.
    pub fn certificates(app_cert: &str, alipay_cert: &str, alipay_root_cert: &str) -> Result<Self, ConfigError> {
        let app_cert_sn =
            cert::cert_sn(app_cert).map_err(|source| ConfigError::Certificate { what: "app certificate", source })?;
        let alipay = cert::parse_bundle(alipay_cert)
            .map_err(|source| ConfigError::Certificate { what: "Alipay certificate", source })?;
        // parse_bundle never returns an empty list, but a typed error beats an index panic.
        let first = alipay.first().ok_or(ConfigError::Certificate {
            what: "Alipay certificate",
            source: alipay_v3::CertError::NoCertificate,
        })?;
        let alipay_public_key =
            first.public_key().map_err(|source| ConfigError::Key { what: "Alipay certificate public key", source })?;
        let alipay_root_cert_sn = cert::root_cert_sn(alipay_root_cert)
            .map_err(|source| ConfigError::Certificate { what: "Alipay root certificate", source })?;
        Ok(Credentials::Certificates(CertificateMode {
            app_cert_sn,
            alipay_cert_sn: first.sn(),
            alipay_root_cert_sn,
            alipay_public_key,
            alipay_cert_issuer: first.issuer_dn.clone(),
        }))
    }

    /// True in certificate mode.
    pub fn is_certificate_mode(&self) -> bool {
        matches!(self, Credentials::Certificates(_))
    }

    /// The key that verifies Alipay's answers.
    pub fn alipay_public_key(&self) -> &PublicKey {
        match self {
            Credentials::PublicKey(k) => k,
            Credentials::Certificates(c) => &c.alipay_public_key,
        }
    }
}

/// Builds a [`Client`]. Obtain one with [`Client::builder`].
///
/// Methods that read key or certificate text return `Result` at once so the error names the
/// input; the rest is checked by [`ClientBuilder::build`].
///
/// ```
/// # let app = alipay_v3::keys::PrivateKey::generate().unwrap();
/// # let alipay = alipay_v3::keys::PrivateKey::generate().unwrap();
/// # let (app_private_pem, alipay_public_pem) = (app.to_pkcs8_pem(), alipay.public_key().to_spki_pem());
/// let client = jobworth::Client::builder()
///     .endpoint("http://127.0.0.1:8340")
///     .app_id("2021000122671080")
///     .private_key_pem(&app_private_pem)?
///     .alipay_public_key_pem(&alipay_public_pem)?
///     .timeout(std::time::Duration::from_secs(5))
///     .build()?;
/// assert_eq!(client.endpoint(), "http://127.0.0.1:8340");
/// # Ok::<(), jobworth::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    pub(crate) endpoint: String,
    pub(crate) app_id: Option<String>,
    pub(crate) private_key: Option<PrivateKey>,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) both_modes: bool,
    pub(crate) encrypt_key: Option<AesKey>,
    pub(crate) app_auth_token: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) max_retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) response_time_window: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) receipt_sink: Option<Arc<dyn ReceiptSink>>,
    pub(crate) token_ledger: Option<Arc<dyn TokenLedger>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("credentials", &self.credentials)
            .field("encrypt_key", &self.encrypt_key.as_ref().map(|_| "<redacted>"))
            .field("app_auth_token", &self.app_auth_token.as_deref().map(alipay_v3::mask))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("response_time_window", &self.response_time_window)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("receipt_sink", &self.receipt_sink.is_some())
            .field("shared_token_ledger", &self.token_ledger.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            app_id: None,
            private_key: None,
            credentials: None,
            both_modes: false,
            encrypt_key: None,
            app_auth_token: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: Duration::from_millis(200),
            response_time_window: DEFAULT_RESPONSE_TIME_WINDOW,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            http: None,
            receipt_sink: None,
            token_ledger: None,
        }
    }
}

impl ClientBuilder {
    /// The v3 endpoint origin, e.g. `http://127.0.0.1:8340`. Default
    /// `https://openapi.alipay.com`. A trailing `/` is dropped; a path, query or user info is a
    /// configuration error.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The app id (`2021…`). Required.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app private key as PEM (`RSA PRIVATE KEY` or `PRIVATE KEY`) or bare base64, PKCS#1
    /// or PKCS#8.
    pub fn private_key_pem(self, text: &str) -> Result<Self, ConfigError> {
        let key = PrivateKey::parse(text).map_err(|source| ConfigError::Key { what: "private key", source })?;
        Ok(self.private_key(key))
    }

    /// The app private key.
    pub fn private_key(mut self, key: PrivateKey) -> Self {
        self.private_key = Some(key);
        self
    }

    /// Key mode: the Alipay public key as PEM or bare base64.
    pub fn alipay_public_key_pem(self, text: &str) -> Result<Self, ConfigError> {
        Ok(self.credentials(Credentials::alipay_public_key_pem(text)?))
    }

    /// Key mode: the Alipay public key.
    pub fn alipay_public_key(self, key: PublicKey) -> Self {
        self.credentials(Credentials::PublicKey(key))
    }

    /// Certificate mode from the PEM texts of the app certificate, the Alipay public-key
    /// certificate and the Alipay root certificate bundle.
    pub fn certificates(self, app_cert: &str, alipay_cert: &str, alipay_root_cert: &str) -> Result<Self, ConfigError> {
        Ok(self.credentials(Credentials::certificates(app_cert, alipay_cert, alipay_root_cert)?))
    }

    /// Key mode or certificate mode, prepared elsewhere. Setting both modes is an error at
    /// [`build`](Self::build).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        if let Some(old) = &self.credentials {
            if old.is_certificate_mode() != credentials.is_certificate_mode() {
                self.both_modes = true;
            }
        }
        self.credentials = Some(credentials);
        self
    }

    /// The AES content-encryption key as base64 (16, 24 or 32 bytes; Alipay issues 16).
    /// With it, every request is marked `alipay-encrypt-type: AES` and every 2xx answer is
    /// verified, then decrypted.
    pub fn encrypt_key_base64(self, text: &str) -> Result<Self, ConfigError> {
        Ok(self.encrypt_key(AesKey::from_base64(text).map_err(ConfigError::EncryptKey)?))
    }

    /// The AES content-encryption key.
    pub fn encrypt_key(mut self, key: AesKey) -> Self {
        self.encrypt_key = Some(key);
        self
    }

    /// ISV `app_auth_token` sent (and signed) with every request.
    pub fn app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.app_auth_token = Some(token.into());
        self
    }

    /// Time allowed for one attempt: connecting, sending and reading the whole answer. Default
    /// 10 s. An attempt that runs out is [`Error::MaybeSent`](crate::Error::MaybeSent).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed for establishing a connection (default: the [`timeout`](Self::timeout)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt, each freshly signed (default 2). Which failures are
    /// retried depends on the call; see [`Client`] ("Retries").
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Base delay between retries, doubled per retry and capped at 2 s (default 200 ms).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// How far an answer's `alipay-timestamp` may be from this machine's clock, either way
    /// (default ±15 min). A signed answer outside it is refused as
    /// [`VerificationKind::TimestampOutOfWindow`](crate::VerificationKind::TimestampOutOfWindow):
    /// a signature alone does not show that an answer is the one to this request rather than
    /// a recorded one replayed. Widen it only for a machine whose clock cannot be fixed.
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// let client = jobworth::Client::builder()
    ///     .app_id("2021000122671080")
    ///     .private_key(key.clone())
    ///     .alipay_public_key(key.public_key())
    ///     .response_time_window(std::time::Duration::from_secs(5 * 60))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), jobworth::ConfigError>(())
    /// ```
    pub fn response_time_window(mut self, window: Duration) -> Self {
        self.response_time_window = window;
        self
    }

    /// The longest response body read, in bytes (default 1 MiB; the Jobworth answer is under
    /// 1 KiB). A longer answer is [`MaybeSentKind::ResponseTooLarge`](crate::MaybeSentKind::ResponseTooLarge):
    /// reading stops at the limit, so a hostile or broken server cannot make the client buffer
    /// without bound. Must be greater than zero.
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// let client = jobworth::Client::builder()
    ///     .app_id("2021000122671080")
    ///     .private_key(key.clone())
    ///     .alipay_public_key(key.public_key())
    ///     .max_response_bytes(64 * 1024)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), jobworth::ConfigError>(())
    /// ```
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Use this `reqwest` client (e.g. to share a connection pool or set a proxy). Timeouts are
    /// applied per request regardless. Redirects should stay disabled: a redirected request is
    /// not the one that was signed.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Where each call stores the [`Receipt`](crate::Receipt) of its signed answer before
    /// `send()` returns it (see [`ReceiptSink`]). Default: none (receipts are still on every
    /// answer and signed error).
    pub fn receipt_sink(mut self, sink: Arc<dyn ReceiptSink>) -> Self {
        self.receipt_sink = Some(sink);
        self
    }

    /// Where the client remembers tokens whose query was ambiguous (see [`TokenLedger`]).
    /// Default: a [`MemoryLedger`](crate::MemoryLedger) of this client and its clones; give
    /// the instances of a backend one shared ledger so that each knows the others' attempts.
    pub fn token_ledger(mut self, ledger: Arc<dyn TokenLedger>) -> Self {
        self.token_ledger = Some(ledger);
        self
    }

    /// Checks the configuration and creates the client.
    pub fn build(self) -> Result<Client, ConfigError> {
        Client::from_builder(self)
    }
}

/// Normalises and checks the endpoint; returns `(origin, is_loopback)`.
pub(crate) fn parse_endpoint(raw: &str) -> Result<(String, bool), ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(ConfigError::Endpoint("is empty".into()));
    }
    let shown = if trimmed.contains('@') { "<with user info>" } else { trimmed };
    let url = reqwest::Url::parse(trimmed).map_err(|e| {
        ConfigError::Endpoint(format!("'{shown}' is not a URL ({e}); expected e.g. {DEFAULT_ENDPOINT}"))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ConfigError::Endpoint(format!("'{shown}' must use http or https")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::Endpoint("must not contain user info".into()));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::Endpoint(format!(
            "'{shown}' must be an origin like {DEFAULT_ENDPOINT} (no path, query or fragment)"
        )));
    }
    let host = url.host_str().ok_or_else(|| ConfigError::Endpoint(format!("'{shown}' has no host")))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false);
    Ok((url.origin().ascii_serialization(), loopback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("https://openapi.alipay.com/").unwrap(),
            ("https://openapi.alipay.com".into(), false)
        );
        assert_eq!(parse_endpoint("http://127.0.0.1:8340").unwrap(), ("http://127.0.0.1:8340".into(), true));
        assert_eq!(parse_endpoint("http://LOCALHOST:80//").unwrap(), ("http://localhost".into(), true));
        assert!(parse_endpoint("https://openapi.alipay.com/v3").is_err());
        assert!(parse_endpoint("https://openapi.alipay.com?x=1").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("openapi.alipay.com").is_err());
        let e = parse_endpoint("http://user:secret@h").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }
}
