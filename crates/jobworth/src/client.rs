//! [`Client`]: signs every attempt, sends it, verifies (then decrypts) every answer, and applies
//! the retry policy.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::PrivateKey;
use alipay_v3::query::{self, QueryEncoding};
use alipay_v3::{headers as h, sign, verify, AesError};
use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use tracing::Instrument;

use crate::config::{parse_endpoint, ClientBuilder, Credentials};
use crate::error::{
    chain_text, mask_id_numbers, scrub, ApiError, ConfigError, DecryptionError, Error, Link, MaybeSentError,
    MaybeSentKind, NotSentError, NotSentKind, ReceiptNotStoredError, RequestInfo, ResponseInfo, Source,
    VerificationError, VerificationKind, WrongEnvironment,
};
use crate::request::RawResponse;
use crate::sink::ReceiptSink;
use crate::token::{BoxFuture, MemoryLedger, TokenLedger};
use alipay_v3::receipt::Receipt;
use jobworth_wire::ErrorCode;

const USER_AGENT: &str = concat!("jobworth-rust/", env!("CARGO_PKG_VERSION"));
/// Query parameters whose values are masked in logs and scrubbed from error text.
pub(crate) const SECRET_PARAMS: &[&str] = &["cert_no"];
/// Query parameters masked where a request is shown (debug logs, `Debug`): the secret ones, the
/// single-use token (whoever reads it could spend it) and the user's name.
pub(crate) const SHOWN_MASKED: &[&str] = &["cert_no", "once_token", "user_name"];
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// An Alipay v3 client for one app. Cheap to clone (one `Arc`); share it across tasks. Clones
/// share the connection pool (HTTP keep-alive).
///
/// # What every call does
/// * builds the request-target once (RFC 3986 percent-encoding) and signs exactly that string;
/// * signs each attempt afresh (new nonce, millisecond timestamp, `alipay-request-id`);
/// * with an AES key: marks the request `alipay-encrypt-type: AES` (GET included), encrypts a
///   JSON body before signing, and decrypts 2xx answers only after verifying them;
/// * verifies every answer below 400 over the raw body bytes before using it (certificate mode:
///   `alipay-sn` must be the configured Alipay certificate); an error answer that carries a
///   signature is verified too.
///
/// # Retries
/// Each retry is a new, freshly signed attempt (at most [`ClientBuilder::max_retries`]), after
/// a doubling backoff.
/// * Nothing sent (connection refused, DNS, TLS): always retried.
/// * Alipay reported a transient error (`SYSTEM_ERROR`, `unknow-error`, 502/503/504, rate
///   limits): retried by the generic [`request`](Client::request) call.
/// * Timeout or connection lost: retried by the generic call only when marked
///   [`idempotent`](crate::RequestBuilder::idempotent).
/// * Typed calls that consume something retry less: see
///   [`AuthenticationQuery`](crate::AuthenticationQuery).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: String,
    /// The endpoint is on this machine, where sandboxes run.
    pub(crate) loopback: bool,
    pub(crate) app_id: String,
    pub(crate) key: PrivateKey,
    pub(crate) credentials: Credentials,
    pub(crate) aes: Option<AesKey>,
    pub(crate) app_auth_token: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) response_time_window: Duration,
    pub(crate) max_response_bytes: usize,
    /// What the typed queries remember between calls.
    pub(crate) tokens: Arc<dyn TokenLedger>,
    pub(crate) receipt_sink: Option<Arc<dyn ReceiptSink>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &i.endpoint)
            .field("app_id", &i.app_id)
            .field("certificate_mode", &i.credentials.is_certificate_mode())
            .field("encrypted", &i.aes.is_some())
            .field("app_auth_token", &i.app_auth_token.as_deref().map(alipay_v3::mask))
            .field("timeout", &i.timeout)
            .field("max_retries", &i.max_retries)
            .finish_non_exhaustive()
    }
}

/// Which failed attempts may be repeated, beyond those that sent nothing (always repeated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    /// An attempt that may have been sent and got no complete answer (timeout, lost connection).
    pub unanswered: bool,
    /// A transient error answer whose status leaves open that the request was processed
    /// (408, 429, 499, 5xx); transient refusals are repeated either way.
    pub ambiguous_answers: bool,
}

impl Retry {
    /// The generic call: answers are always repeatable, lost attempts only when idempotent.
    pub(crate) fn generic(idempotent: bool) -> Self {
        Retry { unanswered: idempotent, ambiguous_answers: true }
    }
}

/// A typed call's bookkeeping of each attempt's outcome, which may also change it.
pub(crate) trait Settle: Sync {
    fn settle(&self, result: Result<RawResponse, Error>) -> BoxFuture<'_, Result<RawResponse, Error>>;
}

/// The generic call keeps no books.
struct NoSettle;

impl Settle for NoSettle {
    fn settle(&self, result: Result<RawResponse, Error>) -> BoxFuture<'_, Result<RawResponse, Error>> {
        Box::pin(std::future::ready(result))
    }
}

/// One logical call, before signing.
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub json: Option<String>,
    pub encrypt: Option<bool>,
    pub app_auth_token: Option<String>,
    pub timeout: Option<Duration>,
    pub max_retries: Option<u32>,
    pub retry: Retry,
}

impl Call {
    /// Values that must never appear in logs or error text.
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.query.iter().filter(|(k, _)| SECRET_PARAMS.contains(&k.as_str())).map(|(_, v)| v.clone()).collect()
    }
}

/// The parts of a call that are the same for every attempt.
struct Prepared {
    url: reqwest::Url,
    request_uri: String,
    log_target: String,
    body: String,
    content_type: Option<&'static str>,
    encrypted: bool,
    app_auth_token: Option<String>,
    timeout: Duration,
    secrets: Vec<String>,
}

impl Client {
    /// A builder with the defaults (production endpoint, 10 s timeout, 2 retries).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_builder(b: ClientBuilder) -> Result<Client, ConfigError> {
        let (endpoint, loopback) = parse_endpoint(&b.endpoint)?;
        let app_id = b.app_id.ok_or(ConfigError::Missing("app id"))?;
        if app_id.is_empty() || !app_id.bytes().all(|c| c.is_ascii_graphic() && c != b',' && c != b'=') {
            return Err(ConfigError::Invalid {
                what: "app id",
                reason: "must be non-empty visible ASCII without ',' or '='",
            });
        }
        let key = b.private_key.ok_or(ConfigError::Missing("private key"))?;
        if b.both_modes {
            return Err(ConfigError::Conflict(
                "both an Alipay public key and certificates are set; use key mode or certificate mode",
            ));
        }
        let credentials = b.credentials.ok_or(ConfigError::Missing("Alipay public key (or certificates)"))?;
        if let Some(t) = &b.app_auth_token {
            if t.is_empty() || HeaderValue::from_str(t).is_err() {
                return Err(ConfigError::Invalid { what: "app auth token", reason: "must be non-empty visible ASCII" });
            }
        }
        if b.timeout.is_zero() {
            return Err(ConfigError::Invalid { what: "timeout", reason: "must be greater than zero" });
        }
        if b.max_response_bytes == 0 {
            return Err(ConfigError::Invalid { what: "max response bytes", reason: "must be greater than zero" });
        }
        let http = match b.http {
            Some(c) => c,
            None => {
                let connect = b.connect_timeout.unwrap_or_else(|| (b.timeout * 4 / 5).min(Duration::from_secs(5)));
                let mut hb = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(USER_AGENT)
                    .connect_timeout(connect)
                    .pool_idle_timeout(Duration::from_secs(60))
                    .tcp_keepalive(Duration::from_secs(30))
                    .tcp_nodelay(true);
                if loopback {
                    // A local sandbox never sits behind a proxy; environment proxies would break it.
                    hb = hb.no_proxy();
                }
                hb.build().map_err(|e| ConfigError::Http(chain_text(&e)))?
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                loopback,
                app_id,
                key,
                credentials,
                aes: b.encrypt_key,
                app_auth_token: b.app_auth_token,
                timeout: b.timeout,
                max_retries: b.max_retries,
                retry_backoff: b.retry_backoff,
                response_time_window: b.response_time_window,
                max_response_bytes: b.max_response_bytes,
                tokens: b.token_ledger.unwrap_or_else(|| Arc::new(MemoryLedger::default())),
                receipt_sink: b.receipt_sink,
            }),
        })
    }

    /// The endpoint origin, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// Key mode or certificate mode, as configured.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// Whether an AES key is configured (every request is then encrypted).
    pub fn is_encrypted(&self) -> bool {
        self.inner.aes.is_some()
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    fn prepare(&self, call: &Call) -> Result<Prepared, Error> {
        let invalid = |m: String| Error::from(NotSentError::invalid(m, None));
        if !call.path.starts_with('/') || call.path.contains(['?', '#']) {
            return Err(invalid(format!(
                "path must start with '/' and hold no query or fragment (pass parameters with .query()): {}",
                mask_id_numbers(&call.path)
            )));
        }
        let pairs = || call.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let request_uri = query::request_uri(&call.path, pairs(), QueryEncoding::Rfc3986);
        let url = reqwest::Url::parse(&format!("{}{}", self.inner.endpoint, request_uri))
            .map_err(|e| invalid(format!("path is not valid in a URL ({e})")))?;
        // The URL parser normalises some paths ("/./", raw spaces, non-ASCII); what is sent must
        // be byte-for-byte what was signed.
        let sent = match url.query() {
            Some(q) => format!("{}?{}", url.path(), q),
            None => url.path().to_string(),
        };
        if sent != request_uri {
            return Err(invalid(format!(
                "path would not be sent as signed (it would become {}); percent-encode it and avoid '.' segments",
                mask_id_numbers(url.path())
            )));
        }
        // The target as logged: secret values masked (stars left readable).
        let mut log_target = mask_id_numbers(&call.path);
        for (i, (k, v)) in call.query.iter().enumerate() {
            log_target.push(if i == 0 { '?' } else { '&' });
            log_target.push_str(&query::encode_component(k, QueryEncoding::Rfc3986));
            log_target.push('=');
            if SHOWN_MASKED.contains(&k.as_str()) {
                log_target.push_str(
                    &query::encode_component(&alipay_v3::mask(v), QueryEncoding::Rfc3986).replace("%2A", "*"),
                );
            } else {
                log_target.push_str(&query::encode_component(v, QueryEncoding::Rfc3986));
            }
        }

        if call.json.is_some() && matches!(call.method, Method::GET | Method::HEAD) {
            return Err(invalid(format!("{} requests carry no body", call.method)));
        }
        let encrypted = call.encrypt.unwrap_or(self.inner.aes.is_some());
        let (body, content_type) = if encrypted {
            let aes = self.inner.aes.as_ref().ok_or_else(|| {
                Error::Config(ConfigError::Invalid {
                    what: "encryption",
                    reason: "requested for this call but the client has no encrypt key",
                })
            })?;
            // Like the Java/PHP SDKs: an empty plaintext sends no body at all.
            let body = call.json.as_deref().filter(|j| !j.is_empty()).map(|j| aes.encrypt(j.as_bytes()));
            (body.unwrap_or_default(), Some("text/plain"))
        } else {
            match &call.json {
                Some(j) => (j.clone(), Some("application/json")),
                // Like the Node SDK: methods that may carry a body are always marked JSON.
                None if !matches!(call.method, Method::GET | Method::HEAD) => (String::new(), Some("application/json")),
                None => (String::new(), None),
            }
        };
        let app_auth_token =
            call.app_auth_token.clone().or_else(|| self.inner.app_auth_token.clone()).filter(|t| !t.is_empty());
        if let Some(t) = &app_auth_token {
            if HeaderValue::from_str(t).is_err() {
                return Err(invalid("app auth token is not visible ASCII".into()));
            }
        }
        Ok(Prepared {
            url,
            request_uri,
            log_target,
            body,
            content_type,
            encrypted,
            app_auth_token,
            timeout: call.timeout.unwrap_or(self.inner.timeout),
            secrets: call.secrets(),
        })
    }

    /// Runs a call with the retry policy. The only way anything is sent.
    pub(crate) async fn execute(&self, call: Call) -> Result<RawResponse, Error> {
        self.execute_with(call, &NoSettle).await
    }

    /// [`execute`](Self::execute), handing each attempt's outcome to `settle` before the retry
    /// decision: a typed call's own bookkeeping, which may also change the outcome. The final
    /// outcome's receipt goes to the receipt sink before it is returned.
    pub(crate) async fn execute_with(&self, call: Call, settle: &dyn Settle) -> Result<RawResponse, Error> {
        let outcome = self.run_attempts(call, settle).await;
        self.deliver(outcome).await
    }

    async fn run_attempts(&self, call: Call, settle: &dyn Settle) -> Result<RawResponse, Error> {
        let prepared = self.prepare(&call)?;
        let max_retries = call.max_retries.unwrap_or(self.inner.max_retries);
        let mut info = RequestInfo {
            method: call.method.clone(),
            // Shown in every error and log line: a document number in the path is masked.
            path: mask_id_numbers(&call.path),
            request_id: String::new(),
            attempts: 0,
            single_use_token: false,
        };
        loop {
            info.attempts += 1;
            info.request_id = uuid::Uuid::new_v4().simple().to_string();
            let span = tracing::debug_span!(
                "alipay_request",
                method = %info.method,
                path = %info.path,
                request_id = %info.request_id,
                attempt = info.attempts,
                status = tracing::field::Empty,
                trace_id = tracing::field::Empty,
            );
            let result = self.attempt(&prepared, &info).instrument(span).await;
            let result = settle.settle(result).await;
            let err = match result {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if info.attempts > max_retries || !should_retry(call.retry, &err) {
                tracing::debug!(error = %err, attempts = info.attempts, "call failed");
                return Err(err);
            }
            let delay = backoff(self.inner.retry_backoff, info.attempts);
            tracing::warn!(error = %err, attempt = info.attempts, ?delay, "retrying with a freshly signed request");
            tokio::time::sleep(delay).await;
        }
    }

    /// Stores the receipt of `outcome`'s signed answer, if any, with the sink, if any.
    async fn deliver(&self, outcome: Result<RawResponse, Error>) -> Result<RawResponse, Error> {
        let Some(sink) = &self.inner.receipt_sink else { return outcome };
        let receipt = match &outcome {
            Ok(r) => Receipt::clone(&r.receipt),
            Err(e) => match e.receipt() {
                Some(r) => r.clone(),
                None => return outcome,
            },
        };
        match sink.store(&receipt).await {
            Ok(()) => outcome,
            Err(e) => {
                tracing::warn!(error = %e, "the receipt sink failed; the outcome is returned inside the error");
                let message = e.to_string();
                let source: Source = Arc::from(e);
                Err(Error::from(ReceiptNotStoredError { receipt, outcome, message, source: Some(source) }))
            }
        }
    }

    async fn attempt(&self, p: &Prepared, info: &RequestInfo) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let invalid = |m: &str| Error::from(NotSentError::invalid(m, Some(info.clone())));
        let nonce = alipay_v3::new_nonce();
        let app_cert_sn = match &inner.credentials {
            Credentials::Certificates(c) => Some(c.app_cert_sn.as_str()),
            Credentials::PublicKey(_) => None,
        };
        let auth = sign::auth_string(&inner.app_id, app_cert_sn, &nonce, alipay_v3::now_millis());
        let target = sign::RequestTarget {
            method: info.method.as_str(),
            uri: &p.request_uri,
            body: &p.body,
            app_auth_token: p.app_auth_token.as_deref(),
        };
        let authorization = sign::sign_request(&inner.key, &auth, &target);

        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(
            AUTHORIZATION,
            HeaderValue::try_from(authorization).map_err(|_| invalid("authorization is not a valid header"))?,
        );
        headers.insert(
            HeaderName::from_static(h::REQUEST_ID),
            HeaderValue::try_from(info.request_id.as_str()).map_err(|_| invalid("request id"))?,
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(ct) = p.content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if p.encrypted {
            headers.insert(HeaderName::from_static(h::ENCRYPT_TYPE), HeaderValue::from_static("AES"));
        }
        if let Some(t) = &p.app_auth_token {
            headers.insert(
                HeaderName::from_static(h::APP_AUTH_TOKEN),
                HeaderValue::try_from(t.as_str()).map_err(|_| invalid("app auth token is not a valid header"))?,
            );
        }
        if let Credentials::Certificates(c) = &inner.credentials {
            headers.insert(
                HeaderName::from_static(h::ROOT_CERT_SN),
                HeaderValue::try_from(c.alipay_root_cert_sn.as_str()).map_err(|_| invalid("root cert SN"))?,
            );
        }

        tracing::debug!(target_uri = %p.log_target, encrypted = p.encrypted, "sending");
        let mut req = inner.http.request(info.method.clone(), p.url.clone()).headers(headers).timeout(p.timeout);
        if !p.body.is_empty() {
            req = req.body(p.body.clone());
        }
        let mut resp = req.send().await.map_err(|e| self.transport_error(e, info, p.timeout, false))?;
        let status = resp.status();
        let resp_headers = resp.headers().clone();
        let trace_id = resp_headers.get(h::TRACE_ID).and_then(|v| v.to_str().ok()).map(str::to_string);
        let span = tracing::Span::current();
        span.record("status", status.as_u16());
        if let Some(t) = &trace_id {
            span.record("trace_id", t.as_str());
        }
        // Read at most the limit: a server must not make the client buffer without bound.
        let limit = inner.max_response_bytes;
        let too_large = || {
            tracing::warn!(limit, status = status.as_u16(), "answer longer than the limit; not read further");
            Error::from(MaybeSentError {
                kind: MaybeSentKind::ResponseTooLarge { limit },
                message: String::new(),
                request: info.clone(),
                source: None,
            })
        };
        let announced = resp.content_length().unwrap_or(0);
        if announced > limit as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(announced as usize);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e, info, p.timeout, true))? {
            if chunk.len() > limit - body.len() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        self.process(status, resp_headers, &body, trace_id, info, p)
    }

    fn transport_error(&self, e: reqwest::Error, info: &RequestInfo, timeout: Duration, reading: bool) -> Error {
        let (connect, timed_out, builder) = (e.is_connect(), e.is_timeout(), e.is_builder());
        // Display of a reqwest error includes the URL, which holds the query (cert_no).
        let e = e.without_url();
        let text = chain_text(&e);
        let source: Source = Arc::new(e);
        if !reading && connect {
            Error::from(NotSentError {
                kind: NotSentKind::Connect,
                message: format!("could not connect to {}: {text}", self.inner.endpoint),
                request: Some(info.clone()),
                source: Some(source),
            })
        } else if !reading && builder {
            Error::from(NotSentError {
                kind: NotSentKind::InvalidRequest,
                message: text,
                request: Some(info.clone()),
                source: Some(source),
            })
        } else {
            let kind =
                if timed_out { MaybeSentKind::Timeout { after: timeout } } else { MaybeSentKind::ConnectionLost };
            Error::from(MaybeSentError { kind, message: text, request: info.clone(), source: Some(source) })
        }
    }

    fn process(
        &self,
        status: StatusCode,
        headers: HeaderMap,
        body: &[u8],
        trace_id: Option<String>,
        info: &RequestInfo,
        p: &Prepared,
    ) -> Result<RawResponse, Error> {
        let response = || ResponseInfo::new(status, trace_id.clone(), headers.clone(), info.clone());
        // The receipt of an answer whose signature verified: what it covers, as received.
        let receipt_of = |signed: Signed<'_>| {
            let ciphertext = p.encrypted && status.is_success() && !body.is_empty();
            Arc::new(Receipt::new(
                info.method.as_str(),
                &p.request_uri,
                status.as_u16(),
                signed.timestamp,
                signed.nonce,
                signed.signature,
                signed.sn,
                ciphertext,
                body,
            ))
        };
        let verification = |kind| {
            tracing::warn!(?kind, status = status.as_u16(), "answer failed verification");
            let environment = match kind {
                VerificationKind::BadSignature | VerificationKind::SnMismatch { .. } => self.wrong_environment(),
                _ => None,
            };
            Error::from(VerificationError { kind, response: response(), body: body.to_vec(), environment })
        };
        if status.as_u16() < 400 {
            let receipt = receipt_of(self.verify(&headers, body).map_err(verification)?);
            tracing::debug!(status = status.as_u16(), "answer verified");
            let body = if receipt.encrypted {
                self.decrypt(body).map_err(|source| {
                    Error::from(DecryptionError { source, response: response().with_receipt(Some(receipt.clone())) })
                })?
            } else {
                body.to_vec()
            };
            return Ok(RawResponse {
                status,
                headers,
                body,
                trace_id,
                request: info.clone(),
                encrypted: p.encrypted,
                receipt,
            });
        }

        // Like the Java/PHP SDKs: an error answer is verified when it carries a signature.
        let signature = headers.get(h::SIGNATURE).and_then(|v| v.to_str().ok()).filter(|s| !s.is_empty());
        let receipt = match signature {
            Some(s) if s != "null" => {
                let receipt = receipt_of(self.verify(&headers, body).map_err(verification)?);
                // Alipay signs the body, not the status: a signed success relabelled as an error
                // would otherwise look like a refusal that consumed nothing.
                if !is_error_body(body) {
                    let Error::Verification(mut v) = verification(VerificationKind::NotAnErrorBody) else {
                        unreachable!("verification() builds a verification error")
                    };
                    v.response = v.response.with_receipt(Some(receipt));
                    return Err(Error::Verification(v));
                }
                Some(receipt)
            }
            _ => None,
        };
        let signed = receipt.is_some();
        let (code, message, links) = parse_error_body(body);
        // Servers echo request data in their error text: what reaches a log is masked.
        let message = scrub(&message, &p.secrets);
        let code = match code {
            ErrorCode::Other(text) => ErrorCode::Other(scrub(&text, &p.secrets)),
            known => known,
        };
        let links = links
            .into_iter()
            .map(|l| Link { link: scrub(&l.link, &p.secrets), desc: l.desc.map(|d| scrub(&d, &p.secrets)) })
            .collect();
        tracing::debug!(status = status.as_u16(), code = %code, "API error");
        Err(Error::from(ApiError {
            response: ResponseInfo::new(status, trace_id, headers, info.clone()).with_receipt(receipt),
            code,
            message,
            links,
            body: body.to_vec(),
            signed,
        }))
    }

    /// Whether the configured Alipay certificate is of another environment than the endpoint:
    /// Alipay's CA against a sandbox on this machine, or a sandbox's CA against a remote gateway.
    fn wrong_environment(&self) -> Option<WrongEnvironment> {
        let Credentials::Certificates(c) = &self.inner.credentials else { return None };
        WrongEnvironment::between(c.alipay_cert_authority()?, self.inner.loopback)
    }

    fn verify<'h>(&self, headers: &'h HeaderMap, body: &[u8]) -> Result<Signed<'h>, VerificationKind> {
        fn get<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, VerificationKind> {
            match headers.get(name) {
                None => Ok(None),
                Some(v) => v
                    .to_str()
                    .map(|s| Some(s.trim()).filter(|s| !s.is_empty()))
                    .map_err(|_| VerificationKind::InvalidHeader(name)),
            }
        }
        // Node checks the SN before the signature; an unknown certificate is refused outright.
        let sn = get(headers, h::SN)?;
        if let Credentials::Certificates(c) = &self.inner.credentials {
            if let Some(sn) = sn {
                if sn != c.alipay_cert_sn {
                    return Err(VerificationKind::SnMismatch {
                        expected: c.alipay_cert_sn.clone(),
                        received: sn.to_string(),
                    });
                }
            }
        }
        let signature = get(headers, h::SIGNATURE)?.ok_or(VerificationKind::MissingHeader(h::SIGNATURE))?;
        let timestamp = get(headers, h::TIMESTAMP)?.ok_or(VerificationKind::MissingHeader(h::TIMESTAMP))?;
        let nonce = get(headers, h::NONCE)?.ok_or(VerificationKind::MissingHeader(h::NONCE))?;
        verify::verify_response(self.inner.credentials.alipay_public_key(), timestamp, nonce, body, signature)
            .map_err(|_| VerificationKind::BadSignature)?;
        // The signature covers the timestamp, so a recorded answer cannot be made fresh.
        check_timestamp(timestamp, alipay_v3::now_millis(), self.inner.response_time_window)?;
        Ok(Signed { timestamp, nonce, signature, sn })
    }

    fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, AesError> {
        let aes = self.inner.aes.as_ref().ok_or(AesError::Key)?;
        let text = std::str::from_utf8(body).map_err(|_| AesError::Base64)?;
        aes.decrypt(text)
    }
}

/// The signature headers of an answer that verified.
#[derive(Clone, Copy)]
struct Signed<'h> {
    timestamp: &'h str,
    nonce: &'h str,
    signature: &'h str,
    sn: Option<&'h str>,
}

/// `alipay-timestamp` (epoch milliseconds; 10 digits or fewer read as seconds) within `window`
/// of `now_ms`.
fn check_timestamp(value: &str, now_ms: u64, window: Duration) -> Result<(), VerificationKind> {
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerificationKind::InvalidHeader(h::TIMESTAMP));
    }
    let n: u64 = value.parse().map_err(|_| VerificationKind::InvalidHeader(h::TIMESTAMP))?;
    let at_ms = if value.len() <= 10 { n.saturating_mul(1000) } else { n };
    let skew = i128::from(at_ms) - i128::from(now_ms);
    if skew.unsigned_abs() > window.as_millis() {
        let skew_ms = skew.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        return Err(VerificationKind::TimestampOutOfWindow { skew_ms, window });
    }
    Ok(())
}

/// Whether `body` is an error answer: a JSON object with a non-empty string `code`.
fn is_error_body(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(obj)) => obj.get("code").and_then(|c| c.as_str()).is_some_and(|c| !c.is_empty()),
        _ => false,
    }
}

fn should_retry(retry: Retry, e: &Error) -> bool {
    match e {
        // Nothing left this machine: repeating cannot lose or duplicate anything.
        Error::NotSent(n) => n.kind == NotSentKind::Connect,
        // The same request would get the same over-long answer.
        Error::MaybeSent(m) if matches!(m.kind, MaybeSentKind::ResponseTooLarge { .. }) => false,
        Error::MaybeSent(_) => retry.unanswered,
        // A refusal (4xx) processed nothing; a 408/429/499/5xx answer may have.
        Error::Api(a) if a.is_retryable() => retry.ambiguous_answers || !a.is_ambiguous(),
        _ => false,
    }
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

/// `{code, message, links}`, leniently: anything missing or malformed becomes empty.
fn parse_error_body(body: &[u8]) -> (ErrorCode, String, Vec<Link>) {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (ErrorCode::Other(String::new()), String::new(), Vec::new());
    };
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let code = ErrorCode::from(text(obj.get("code")));
    let message = text(obj.get("message"));
    let links = match obj.get("links") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                serde_json::Value::Object(o) => o.get("link").and_then(|l| l.as_str()).map(|l| Link {
                    link: l.to_string(),
                    desc: o.get("desc").and_then(|d| d.as_str()).map(str::to_string),
                }),
                serde_json::Value::String(s) if !s.is_empty() => Some(Link { link: s.clone(), desc: None }),
                _ => None,
            })
            .collect(),
        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![Link { link: s.clone(), desc: None }],
        _ => Vec::new(),
    };
    (code, message, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_parse_leniently() {
        let (c, m, l) = parse_error_body(
            br#"{"code":"TOKEN_INVALID","message":"m","links":[{"link":"https://x","desc":"d"},"https://y",3]}"#,
        );
        assert_eq!(c, ErrorCode::TokenInvalid);
        assert_eq!(m, "m");
        assert_eq!(
            l,
            vec![
                Link { link: "https://x".into(), desc: Some("d".into()) },
                Link { link: "https://y".into(), desc: None }
            ]
        );
        let (c, _, l) = parse_error_body(br#"{"code":"invalid-app-id","links":"https://z"}"#);
        assert_eq!(c, ErrorCode::InvalidAppId);
        assert_eq!(l, vec![Link { link: "https://z".into(), desc: None }]);
        let (c, m, l) = parse_error_body(b"<html>bad gateway</html>");
        assert_eq!((c, m.as_str(), l.len()), (ErrorCode::Other(String::new()), "", 0));
        let (c, _, _) = parse_error_body(br#"{"code":null,"links":null}"#);
        assert_eq!(c, ErrorCode::Other(String::new()));
    }

    proptest::proptest! {
        #[test]
        fn error_body_parsing_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_error_body(&body);
        }

        #[test]
        fn error_body_links_any_shape(code in "\\PC{0,12}", links in "\\PC{0,40}") {
            let body = format!(r#"{{"code":{},"links":{}}}"#, serde_json::json!(code), links);
            let (c, _, _) = parse_error_body(body.as_bytes());
            if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                proptest::prop_assert_eq!(c.as_str(), code.as_str());
            }
        }
    }

    #[test]
    fn timestamps_outside_the_window_are_refused() {
        let w = Duration::from_secs(900);
        let now = 1_700_000_000_000u64;
        assert_eq!(check_timestamp(&now.to_string(), now, w), Ok(()));
        assert_eq!(check_timestamp(&(now - 900_000).to_string(), now, w), Ok(()));
        assert_eq!(check_timestamp(&(now + 900_000).to_string(), now, w), Ok(()));
        assert_eq!(
            check_timestamp(&(now - 900_001).to_string(), now, w),
            Err(VerificationKind::TimestampOutOfWindow { skew_ms: -900_001, window: w })
        );
        assert_eq!(
            check_timestamp(&(now + 3_600_000).to_string(), now, w),
            Err(VerificationKind::TimestampOutOfWindow { skew_ms: 3_600_000, window: w })
        );
        // Seconds are read as seconds.
        assert_eq!(check_timestamp("1700000000", now, w), Ok(()));
        assert!(matches!(check_timestamp("0", now, w), Err(VerificationKind::TimestampOutOfWindow { .. })));
        for bad in ["", "-1", "1.7e12", "17000000000000000000000", "2023-11-14T22:13:20Z"] {
            assert_eq!(check_timestamp(bad, now, w), Err(VerificationKind::InvalidHeader(h::TIMESTAMP)), "{bad}");
        }
        assert!(matches!(
            check_timestamp("9999999999999999999", now, w),
            Err(VerificationKind::TimestampOutOfWindow { .. })
        ));
    }

    #[test]
    fn error_bodies_need_a_code() {
        assert!(is_error_body(br#"{"code":"TOKEN_INVALID","message":"m"}"#));
        for not in
            [&br#"{"identity_result":"SUCCESS"}"#[..], b"", b"<html/>", br#"{"code":""}"#, br#"{"code":5}"#, b"[]"]
        {
            assert!(!is_error_body(not), "{}", String::from_utf8_lossy(not));
        }
    }

    fn request_info(method: Method) -> RequestInfo {
        RequestInfo { method, path: "/v3/x".into(), request_id: "r".into(), attempts: 1, single_use_token: false }
    }

    fn api(status: u16, code: &str, method: Method) -> Error {
        let status = StatusCode::from_u16(status).unwrap();
        Error::from(ApiError {
            response: ResponseInfo::new(status, None, HeaderMap::new(), request_info(method)),
            code: ErrorCode::from(code.to_string()),
            message: String::new(),
            links: Vec::new(),
            body: Vec::new(),
            signed: false,
        })
    }

    fn maybe_sent(kind: MaybeSentKind, method: Method) -> Error {
        Error::from(MaybeSentError { kind, message: String::new(), request: request_info(method), source: None })
    }

    fn not_sent(kind: NotSentKind, method: Method) -> Error {
        Error::from(NotSentError { kind, message: String::new(), request: Some(request_info(method)), source: None })
    }

    fn response(method: Method) -> ResponseInfo {
        ResponseInfo::new(StatusCode::OK, None, HeaderMap::new(), request_info(method))
    }

    #[test]
    fn retry_table() {
        // Columns: the generic call, the same declared idempotent, a call that must not repeat
        // an ambiguous attempt, and that call with the caller's opt-in.
        const POLICIES: [Retry; 4] = [
            Retry { unanswered: false, ambiguous_answers: true },
            Retry { unanswered: true, ambiguous_answers: true },
            Retry { unanswered: false, ambiguous_answers: false },
            Retry { unanswered: true, ambiguous_answers: true },
        ];
        assert_eq!(POLICIES[0], Retry::generic(false));
        assert_eq!(POLICIES[1], Retry::generic(true));
        type Outcome = fn(Method) -> Error;
        #[rustfmt::skip]
        let table: &[(&str, Outcome, [bool; 4])] = &[
            ("connect failed",          |m| not_sent(NotSentKind::Connect, m),                          [true, true, true, true]),
            ("invalid request",         |m| not_sent(NotSentKind::InvalidRequest, m),                   [false, false, false, false]),
            ("timeout",                 |m| maybe_sent(MaybeSentKind::Timeout { after: Duration::from_secs(1) }, m), [false, true, false, true]),
            ("connection lost",         |m| maybe_sent(MaybeSentKind::ConnectionLost, m),               [false, true, false, true]),
            ("answer too large",        |m| maybe_sent(MaybeSentKind::ResponseTooLarge { limit: 1 }, m), [false, false, false, false]),
            ("400 refusal",             |m| api(400, "INVALID_PARAMETER", m),                           [false, false, false, false]),
            ("400 TOKEN_INVALID",       |m| api(400, "TOKEN_INVALID", m),                               [false, false, false, false]),
            ("400 SYSTEM_ERROR",        |m| api(400, "SYSTEM_ERROR", m),                                [true, true, true, true]),
            ("400 unknow-error",        |m| api(400, "unknow-error", m),                                [true, true, true, true]),
            ("403 app-call-limited",    |m| api(403, "app-call-limited", m),                            [true, true, true, true]),
            ("429 method-call-limited", |m| api(429, "method-call-limited", m),                         [true, true, false, true]),
            ("500 SYSTEM_ERROR",        |m| api(500, "SYSTEM_ERROR", m),                                [true, true, false, true]),
            ("500 without a code",      |m| api(500, "", m),                                            [false, false, false, false]),
            ("502 without a code",      |m| api(502, "", m),                                            [true, true, false, true]),
            ("503 without a code",      |m| api(503, "", m),                                            [true, true, false, true]),
            ("504 without a code",      |m| api(504, "", m),                                            [true, true, false, true]),
            ("408 without a code",      |m| api(408, "", m),                                            [false, false, false, false]),
            ("400 without a code",      |m| api(400, "", m),                                            [false, false, false, false]),
            ("verification failed",     |m| Error::from(VerificationError { kind: VerificationKind::BadSignature, response: response(m), body: Vec::new(), environment: None }), [false, false, false, false]),
            ("decryption failed",       |m| Error::from(DecryptionError { source: AesError::Decrypt, response: response(m) }), [false, false, false, false]),
            ("configuration",           |_| Error::Config(ConfigError::Missing("app id")),              [false, false, false, false]),
        ];
        for (what, outcome, expected) in table {
            // Only the outcome and the policy decide: the method plays no part (idempotency is declared).
            for method in [Method::GET, Method::POST] {
                let e = outcome(method.clone());
                for (policy, want) in POLICIES.iter().zip(expected) {
                    assert_eq!(should_retry(*policy, &e), *want, "{what}, {method}, {policy:?}");
                }
            }
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 1), Duration::from_millis(100));
        assert_eq!(backoff(b, 2), Duration::from_millis(200));
        assert_eq!(backoff(b, 40), MAX_BACKOFF);
    }
}
