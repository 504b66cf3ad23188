//! The error model: what happened to a call, in terms a caller can act on.
//!
//! No error text ever holds key material or a full `cert_no`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use alipay_v3::{AesError, CertError, KeyError};
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;

use crate::config::CertificateAuthority;
use crate::request::RawResponse;
use crate::ErrorCode;
use alipay_v3::receipt::Receipt;

pub(crate) type Source = Arc<dyn StdError + Send + Sync>;

/// A client or request setting that cannot be used. Names what is wrong; never panics.
///
/// ```
/// let err = jobworth::Client::builder().private_key_pem("not a key").unwrap_err();
/// assert!(err.to_string().starts_with("private key: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key could not be read (`what` names which one).
    #[error("{what}: {source}")]
    Key {
        /// Which key: "private key", "Alipay public key", ….
        what: &'static str,
        /// Why it was refused.
        source: KeyError,
    },
    /// A certificate could not be read (`what` names which one).
    #[error("{what}: {source}")]
    Certificate {
        /// Which certificate: "app certificate", "Alipay certificate", "Alipay root certificate".
        what: &'static str,
        /// Why it was refused.
        source: CertError,
    },
    /// The AES encrypt key is not base64 of 16, 24 or 32 bytes.
    #[error("encrypt key: {0}")]
    EncryptKey(#[source] AesError),
    /// The endpoint is not an `http(s)://host[:port]` origin.
    #[error("endpoint: {0}")]
    Endpoint(String),
    /// A required setting is missing.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// Two settings exclude each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// A value cannot be used (`what` names the setting).
    #[error("{what}: {reason}")]
    Invalid {
        /// The setting.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The HTTP client could not be created.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// Which call an error belongs to: enough to find it in logs and at Alipay support, nothing
/// secret (the query string is never included).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestInfo {
    /// HTTP method.
    pub method: Method,
    /// Path without the query, e.g. `/v3/zhima/customer/jobworth/authentication`.
    pub path: String,
    /// `alipay-request-id` of the last attempt.
    pub request_id: String,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// The call carried a single-use `once_token` (the Jobworth query).
    pub single_use_token: bool,
}

impl fmt::Display for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}, request id {}", self.method, self.path, self.request_id)?;
        if self.attempts > 1 {
            write!(f, ", {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

const TOKEN_HINT: &str = "the once_token may already have been consumed by this request: querying again may \
                          answer TOKEN_INVALID, and then a new step 1 (new conn_key and once_token) is needed";

fn token_hint(f: &mut fmt::Formatter<'_>, request: &RequestInfo) -> fmt::Result {
    if request.single_use_token {
        write!(f, "; {TOKEN_HINT}")?;
    }
    Ok(())
}

/// The answer an error is about, and the call it answered. Shared by every error that got one
/// ([`ApiError`], [`VerificationError`], [`DecryptionError`], [`DecodeError`]).
///
/// `Debug` shows header names only: header values are the server's text and may echo request data.
#[derive(Clone)]
#[non_exhaustive]
pub struct ResponseInfo {
    /// HTTP status.
    pub status: StatusCode,
    /// `alipay-trace-id`, if any (unauthenticated when the answer failed verification).
    pub trace_id: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
    /// The call.
    pub request: RequestInfo,
    receipt: Option<Arc<Receipt>>,
}

impl ResponseInfo {
    pub(crate) fn new(status: StatusCode, trace_id: Option<String>, headers: HeaderMap, request: RequestInfo) -> Self {
        ResponseInfo { status, trace_id, headers, request, receipt: None }
    }

    pub(crate) fn with_receipt(mut self, receipt: Option<Arc<Receipt>>) -> Self {
        self.receipt = receipt;
        self
    }

    /// The receipt of the answer, when its signature verified (a signed error, or a verified
    /// answer that did not decrypt or decode).
    pub fn receipt(&self) -> Option<&Receipt> {
        self.receipt.as_deref()
    }

    /// The common end of every message: ` (trace id …, METHOD path, request id …)`, then the
    /// once-token hint when `hint` and the call carried one.
    fn fmt_tail(&self, f: &mut fmt::Formatter<'_>, hint: bool) -> fmt::Result {
        write!(f, " (")?;
        if let Some(t) = &self.trace_id {
            write!(f, "trace id {t}, ")?;
        }
        write!(f, "{})", self.request)?;
        if hint {
            token_hint(f, &self.request)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ResponseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseInfo")
            .field("status", &self.status)
            .field("trace_id", &self.trace_id)
            .field("headers", &self.headers.keys().map(|k| k.as_str()).collect::<Vec<_>>())
            .field("request", &self.request)
            .field("receipt", &self.receipt.is_some())
            .finish()
    }
}

/// `<n bytes>`: bodies are never printed by `Debug`.
struct ByteCount(usize);

impl fmt::Debug for ByteCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// Everything that can go wrong with a call.
///
/// | variant | meaning | safe to send again? |
/// |---|---|---|
/// | [`Error::Config`] | the client or request is misconfigured | fix the configuration |
/// | [`Error::NotSent`] | nothing left this machine (connect failed, invalid request) | yes |
/// | [`Error::MaybeSent`] | timeout or connection lost after the request may have been written | only if the call is idempotent |
/// | [`Error::Api`] | Alipay answered with an error (`code`, `message`, `links`, trace id) | see [`Error::is_retryable`] |
/// | [`Error::Verification`] | the answer's signature is missing or wrong; it was not used | no |
/// | [`Error::Decryption`] | the verified answer did not decrypt with the AES key | no |
/// | [`Error::Decode`] | the verified answer is not the expected JSON | no |
/// | [`Error::Business`] | a verified 200 answer carries a `sub_code`: the call did not do what was asked | see [`Error::is_retryable`] |
/// | [`Error::TokenPossiblyConsumed`] | `TOKEN_INVALID` after an earlier ambiguous attempt with the same token | new step 1 needed |
/// | [`Error::ReceiptNotStored`] | the receipt sink failed; the error holds the receipt and the outcome | handle the outcome it holds |
/// | [`Error::Recorded`] | only as `first` of `TokenPossiblyConsumed`: an attempt another instance recorded | — |
///
/// No error text ever holds key material or a full `cert_no`.
///
/// ```no_run
/// # async fn run(client: jobworth::Client) {
/// use jobworth::{Error, ErrorCode};
/// match client.authentication_query().conn_key("c").once_token("t").send().await {
///     Ok(result) => println!("{}", result.identity_result),
///     Err(Error::Api(api)) if api.code == ErrorCode::TokenInvalid => println!("start a new step 1"),
///     Err(e) if e.token_may_be_consumed() => println!("result may be lost: {e}"),
///     Err(e) => println!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client or the request is misconfigured; nothing was sent.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// Nothing left this machine: connecting failed or the request could not be built.
    #[error(transparent)]
    NotSent(Box<NotSentError>),
    /// The request may have reached Alipay but no complete answer came back.
    #[error(transparent)]
    MaybeSent(Box<MaybeSentError>),
    /// Alipay answered with an error status (≥ 400).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The answer's signature (or `alipay-sn`) did not check out; the answer was not used.
    #[error(transparent)]
    Verification(Box<VerificationError>),
    /// The verified answer did not decrypt with the configured AES key.
    #[error(transparent)]
    Decryption(Box<DecryptionError>),
    /// The verified answer is not the expected JSON.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// A verified 200 answer of a family endpoint carries a `sub_code` (and `sub_msg`): Alipay
    /// took the request but did not do what was asked. The answer is kept.
    #[error(transparent)]
    Business(Box<BusinessError>),
    /// `TOKEN_INVALID` (for the cloud résumé: the code a spent token answers) came back for a
    /// `once_token` whose earlier query was ambiguous (timed out, lost, 5xx, or an unverifiable
    /// answer): that earlier query may have consumed the token, and its result is lost. Start a
    /// new step 1.
    #[error(
        "{}, but an earlier query with this once_token may have consumed it and its result is lost \
         (earlier: {}; now: {}); start a new step 1 (new conn_key and once_token) and have the user pass the desk \
         again",
        last.api_code().map_or(ErrorCode::TokenInvalid.as_str(), ErrorCode::as_str),
        first.summary(),
        last.summary()
    )]
    TokenPossiblyConsumed {
        /// The earlier ambiguous outcome.
        first: Box<Error>,
        /// The final answer (an [`Error::Api`] with `TOKEN_INVALID`, or the cloud résumé's
        /// spent-token code).
        last: Box<Error>,
    },
    /// The answer was verified, but the [`ReceiptSink`](crate::ReceiptSink) failed to store its
    /// receipt. The error holds the receipt and the outcome the call would have returned.
    #[error(transparent)]
    ReceiptNotStored(Box<ReceiptNotStoredError>),
    /// An ambiguous attempt read back from a shared [`TokenLedger`](crate::TokenLedger): it was
    /// made by another instance (or before a restart), so only its summary is known. Appears as
    /// `first` of [`Error::TokenPossiblyConsumed`].
    #[error(transparent)]
    Recorded(Box<RecordedAttempt>),
}

impl Error {
    /// One line: what happened and the ids to quote, without advice.
    pub(crate) fn summary(&self) -> String {
        let what = match self {
            Error::Config(e) => e.to_string(),
            Error::NotSent(e) => e.message.clone(),
            Error::MaybeSent(e) => match e.kind {
                MaybeSentKind::Timeout { after } => format!("no answer within {after:?}"),
                MaybeSentKind::ConnectionLost => "connection lost".to_string(),
                MaybeSentKind::ResponseTooLarge { limit } => format!("answer longer than {limit} bytes"),
            },
            Error::Api(e) => {
                format!("HTTP {} {} {}", e.response.status.as_u16(), e.code, e.message).trim_end().to_string()
            }
            Error::Verification(e) => format!("HTTP {} answer failed verification", e.response.status.as_u16()),
            Error::Decryption(e) => format!("HTTP {} answer did not decrypt", e.response.status.as_u16()),
            Error::Decode(e) => format!("HTTP {} answer could not be decoded", e.response.status.as_u16()),
            Error::Business(e) => {
                format!("HTTP {} sub_code {} {}", e.response.status.as_u16(), e.code, e.message).trim_end().to_string()
            }
            Error::TokenPossiblyConsumed { last, .. } => return last.summary(),
            Error::ReceiptNotStored(e) => match &e.outcome {
                Ok(r) => format!("HTTP {} answer verified, receipt not stored", r.status.as_u16()),
                Err(inner) => format!("{}; receipt not stored", inner.summary()),
            },
            Error::Recorded(e) => return e.summary.clone(),
        };
        let mut s = what;
        if let Some(t) = self.trace_id() {
            s.push_str(&format!(", trace id {t}"));
        }
        if let Some(r) = self.request() {
            s.push_str(&format!(", request id {}", r.request_id));
        }
        s
    }

    /// The API error code, if Alipay answered with one.
    ///
    /// ```
    /// # fn f(err: jobworth::Error) {
    /// if err.api_code() == Some(&jobworth::ErrorCode::TokenInvalid) { /* new step 1 */ }
    /// # }
    /// ```
    pub fn api_code(&self) -> Option<&ErrorCode> {
        self.as_api().map(|a| &a.code)
    }

    /// The business outcome, if a verified 200 answer carried a `sub_code`.
    ///
    /// ```
    /// # fn f(err: jobworth::Error) {
    /// if err.business_code() == Some(&jobworth::ErrorCode::UserNotOpenZhima) { /* ask the user to open Zhima */ }
    /// # }
    /// ```
    pub fn business_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Business(b) => Some(&b.code),
            _ => None,
        }
    }

    /// The API error, if Alipay answered with one (also inside [`Error::TokenPossiblyConsumed`]).
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(a) => Some(a),
            Error::TokenPossiblyConsumed { last, .. } => last.as_api(),
            _ => None,
        }
    }

    /// Whether sending the same request again might succeed: nothing was sent, or Alipay reported
    /// a transient failure (`SYSTEM_ERROR`, `unknow-error`, rate limits, 502/503/504), or the
    /// outcome is unknown (timeout, connection lost).
    ///
    /// For a single-use token query also check [`Error::token_may_be_consumed`]: repeating it
    /// may be possible but can only answer `TOKEN_INVALID` if the token was consumed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::NotSent(e) => e.kind == NotSentKind::Connect,
            // The same request would most likely get the same over-long answer.
            Error::MaybeSent(e) => !matches!(e.kind, MaybeSentKind::ResponseTooLarge { .. }),
            Error::Api(a) => a.is_retryable(),
            Error::Business(b) => b.code.is_transient(),
            _ => false,
        }
    }

    /// Whether the call reached (or may have reached) Alipay without a usable answer, so that a
    /// single-use `once_token` it carried may have been consumed and its result lost. True for
    /// timeouts, lost connections, over-long answers, 408/429/499/5xx answers and error answers
    /// without a code (see [`ApiError::is_ambiguous`]), answers that failed verification,
    /// decryption or decoding, and [`Error::TokenPossiblyConsumed`]. False when nothing was sent
    /// and for other refusals (a refused request consumes nothing).
    pub fn token_may_be_consumed(&self) -> bool {
        match self {
            // A business outcome is a definite answer: it consumed nothing.
            Error::Config(_) | Error::NotSent(_) | Error::Business(_) => false,
            Error::Api(a) => a.is_ambiguous(),
            Error::MaybeSent(_)
            | Error::Verification(_)
            | Error::Decryption(_)
            | Error::Decode(_)
            | Error::Recorded(_)
            | Error::TokenPossiblyConsumed { .. } => true,
            // A verified result that the caller has in hand but did not store counts as consumed.
            Error::ReceiptNotStored(e) => e.outcome.as_ref().err().is_none_or(Error::token_may_be_consumed),
        }
    }

    /// Whether the `once_token` of a query can no longer be expected to give a result: it may be
    /// consumed ([`Error::token_may_be_consumed`]) or Alipay said `TOKEN_INVALID`.
    pub fn needs_new_token(&self) -> bool {
        self.token_may_be_consumed() || self.api_code() == Some(&ErrorCode::TokenInvalid)
    }

    /// True when nothing was sent ([`Error::Config`] or [`Error::NotSent`]).
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Error::Config(_) | Error::NotSent(_))
    }

    /// Which call this was, when the error happened at or after sending.
    pub fn request(&self) -> Option<&RequestInfo> {
        match self {
            Error::Config(_) | Error::Recorded(_) => None,
            Error::ReceiptNotStored(e) => match &e.outcome {
                Ok(r) => Some(&r.request),
                Err(inner) => inner.request(),
            },
            Error::NotSent(e) => e.request.as_ref(),
            Error::MaybeSent(e) => Some(&e.request),
            _ => self.response().map(|r| &r.request),
        }
    }

    pub(crate) fn request_mut(&mut self) -> Option<&mut RequestInfo> {
        match self {
            Error::Config(_) | Error::Recorded(_) => None,
            Error::ReceiptNotStored(e) => match &mut e.outcome {
                Ok(r) => Some(&mut r.request),
                Err(inner) => inner.request_mut(),
            },
            Error::NotSent(e) => e.request.as_mut(),
            Error::MaybeSent(e) => Some(&mut e.request),
            Error::Api(e) => Some(&mut e.response.request),
            Error::Verification(e) => Some(&mut e.response.request),
            Error::Decryption(e) => Some(&mut e.response.request),
            Error::Decode(e) => Some(&mut e.response.request),
            Error::Business(e) => Some(&mut e.response.request),
            Error::TokenPossiblyConsumed { last, .. } => last.request_mut(),
        }
    }

    /// The answer, when one came back (whether or not it could be used).
    pub fn response(&self) -> Option<&ResponseInfo> {
        match self {
            Error::Config(_) | Error::NotSent(_) | Error::MaybeSent(_) | Error::Recorded(_) => None,
            Error::ReceiptNotStored(e) => e.outcome.as_ref().err().and_then(Error::response),
            Error::Api(e) => Some(&e.response),
            Error::Verification(e) => Some(&e.response),
            Error::Decryption(e) => Some(&e.response),
            Error::Decode(e) => Some(&e.response),
            Error::Business(e) => Some(&e.response),
            Error::TokenPossiblyConsumed { last, .. } => last.response(),
        }
    }

    /// `alipay-trace-id` of the answer, when there was one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::ReceiptNotStored(e) => match &e.outcome {
                Ok(r) => r.trace_id.as_deref(),
                Err(inner) => inner.trace_id(),
            },
            _ => self.response().and_then(|r| r.trace_id.as_deref()),
        }
    }

    /// The receipt of the signed answer this error is about: a signed error answer, a verified
    /// answer that did not decrypt or decode (or named another user), or the receipt a sink
    /// failed to store. `None` when no answer verified.
    pub fn receipt(&self) -> Option<&Receipt> {
        match self {
            Error::ReceiptNotStored(e) => Some(&e.receipt),
            _ => self.response().and_then(ResponseInfo::receipt),
        }
    }
}

/// The receipt sink failed: the receipt and the outcome it belongs to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceiptNotStoredError {
    /// The receipt that was not stored.
    pub receipt: Receipt,
    /// What the call would have returned (the result is verified; nothing is lost).
    pub outcome: Result<RawResponse, Error>,
    /// The sink's error, for people.
    pub message: String,
    pub(crate) source: Option<Source>,
}

impl fmt::Display for ReceiptNotStoredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the answer (HTTP {}) was verified but its receipt was not stored: {}",
            self.receipt.status, self.message
        )?;
        match &self.outcome {
            Ok(r) => write!(f, "; the verified result is kept in this error ({})", r.request),
            Err(e) => write!(f, "; the call's outcome is kept in this error: {e}"),
        }
    }
}

impl StdError for ReceiptNotStoredError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// An ambiguous attempt as a shared token ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedAttempt {
    /// What happened and the ids to quote.
    pub summary: String,
    /// When it was recorded, epoch milliseconds.
    pub recorded_at_ms: u64,
}

impl fmt::Display for RecordedAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an earlier attempt recorded in the token ledger: {}", self.summary)
    }
}

impl StdError for RecordedAttempt {}

macro_rules! boxed_from {
    ($($variant:ident($t:ty)),+) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::$variant(Box::new(e))
            }
        }
    )+};
}

boxed_from!(
    NotSent(NotSentError),
    MaybeSent(MaybeSentError),
    Api(ApiError),
    Verification(VerificationError),
    Decryption(DecryptionError),
    Decode(DecodeError),
    Business(BusinessError),
    ReceiptNotStored(ReceiptNotStoredError),
    Recorded(RecordedAttempt)
);

/// Why a request was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSentKind {
    /// The connection (TCP or TLS) could not be established.
    Connect,
    /// The request cannot be sent as given (e.g. a path that would not be sent as signed).
    InvalidRequest,
}

/// Nothing left this machine. Sending again is safe.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NotSentError {
    /// Why.
    pub kind: NotSentKind,
    /// What went wrong, for people.
    pub message: String,
    /// The call, when it got as far as an attempt.
    pub request: Option<RequestInfo>,
    pub(crate) source: Option<Source>,
}

impl NotSentError {
    pub(crate) fn invalid(message: impl Into<String>, request: Option<RequestInfo>) -> Self {
        NotSentError { kind: NotSentKind::InvalidRequest, message: message.into(), request, source: None }
    }
}

impl fmt::Display for NotSentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request not sent: {}", self.message)?;
        if let Some(r) = &self.request {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

impl StdError for NotSentError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// How a request may have been sent without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaybeSentKind {
    /// No complete answer within the timeout.
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection failed after the request may have been written.
    ConnectionLost,
    /// The answer's body is longer than [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes);
    /// it was not read further and not used. Not retried: the same request would get it again.
    ResponseTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
}

/// The request may have reached Alipay, but no complete answer came back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MaybeSentError {
    /// Timeout or lost connection.
    pub kind: MaybeSentKind,
    /// What went wrong, for people.
    pub message: String,
    /// The call.
    pub request: RequestInfo,
    pub(crate) source: Option<Source>,
}

impl fmt::Display for MaybeSentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MaybeSentKind::Timeout { after } => write!(f, "no answer within {after:?}")?,
            MaybeSentKind::ConnectionLost => write!(f, "connection lost before the answer was complete")?,
            MaybeSentKind::ResponseTooLarge { limit } => {
                write!(f, "the answer's body is longer than the {limit}-byte limit and was not read further")?
            }
        }
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        write!(f, "; the request may have reached Alipay ({})", self.request)?;
        token_hint(f, &self.request)
    }
}

impl StdError for MaybeSentError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// One entry of `links` in an error body. The array form is `[{"link","desc"}]`; the string
/// form (as the generated models type it) becomes one `Link` without `desc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The URL.
    pub link: String,
    /// Its description (e.g. "解决方案").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
}

/// Alipay answered with an error status (≥ 400).
///
/// The body is parsed leniently: a missing or non-JSON body gives `code` `Other("")` with the
/// raw bytes kept in `body`.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// Status, trace id, headers and the call.
    pub response: ResponseInfo,
    /// `code`, typed.
    pub code: ErrorCode,
    /// `message`.
    pub message: String,
    /// `links` (array or string form; empty when absent).
    pub links: Vec<Link>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Whether the error response carried a signature that verified (`false`: unsigned).
    pub signed: bool,
}

impl ApiError {
    /// Whether the same request may succeed later: a transient code, or 502/503/504.
    pub fn is_retryable(&self) -> bool {
        self.code.is_transient()
            || matches!(
                self.response.status,
                StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
            )
    }

    /// Whether the answer leaves open that the request was processed anyway: its status is
    /// ambiguous ([`status_is_ambiguous`](Self::status_is_ambiguous)), or it carries no error
    /// code — then it is not Alipay's refusal (a proxy's page, or an answer whose signature was
    /// stripped and status rewritten). A single-use token sent with such a request may have been
    /// consumed.
    ///
    /// ```
    /// assert!(jobworth::ApiError::status_is_ambiguous(http::StatusCode::REQUEST_TIMEOUT));
    /// assert!(!jobworth::ApiError::status_is_ambiguous(http::StatusCode::BAD_REQUEST));
    /// ```
    pub fn is_ambiguous(&self) -> bool {
        Self::status_is_ambiguous(self.response.status) || self.code.as_str().is_empty()
    }

    /// Whether a status leaves open that the request was processed: 408 and 499 (a proxy or
    /// the gateway gave up waiting while the work may still commit), 429 (some gateways shed
    /// load after accepting), and every 5xx.
    pub fn status_is_ambiguous(status: StatusCode) -> bool {
        matches!(status.as_u16(), 408 | 429 | 499) || status.is_server_error()
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("response", &self.response)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("links", &self.links)
            .field("body", &ByteCount(self.body.len()))
            .field("signed", &self.signed)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alipay answered HTTP {}", self.response.status.as_u16())?;
        if self.code.as_str().is_empty() {
            if self.message.is_empty() {
                write!(f, " without an error code ({} byte body)", self.body.len())?;
            }
        } else {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = self.code.hint() {
            write!(f, " — {hint}")?;
        }
        self.response.fmt_tail(f, self.is_ambiguous())
    }
}

impl StdError for ApiError {}

/// Serialises as the wire's error object plus what came with it:
/// `{"code","message","links","trace_id","http_status"}` (the CLI's `--json` output).
impl Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ApiError", 5)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("links", &self.links)?;
        st.serialize_field("trace_id", &self.response.trace_id)?;
        st.serialize_field("http_status", &self.response.status.as_u16())?;
        st.end()
    }
}

/// What failed when checking an answer's authenticity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationKind {
    /// A required response header is absent (`alipay-signature`, `alipay-timestamp`, `alipay-nonce`).
    MissingHeader(&'static str),
    /// A response header is not visible ASCII.
    InvalidHeader(&'static str),
    /// The signature does not match the body with the configured Alipay public key.
    BadSignature,
    /// Certificate mode: `alipay-sn` names another Alipay certificate than the configured one.
    SnMismatch {
        /// The configured Alipay certificate SN.
        expected: String,
        /// The `alipay-sn` the answer carried.
        received: String,
    },
    /// A correctly signed answer under an error status (≥ 400) whose body is not an error
    /// (`{"code": …}`), e.g. a signed success relabelled as HTTP 400. Some party between Alipay and
    /// the client rewrote the status; what Alipay did with the request is unknown.
    NotAnErrorBody,
    /// `alipay-timestamp` is further from this machine's clock than
    /// [`ClientBuilder::response_time_window`](crate::ClientBuilder::response_time_window): a
    /// replayed (stale) answer, or a clock that is off on one side.
    TimestampOutOfWindow {
        /// Answer time minus local time, in milliseconds (negative: the answer is older).
        skew_ms: i64,
        /// The configured window.
        window: Duration,
    },
    /// The answer names another user than the query did (`field` is `user_id` or `open_id`): it
    /// belongs to another request.
    UserMismatch {
        /// Which identifier differs.
        field: &'static str,
    },
}

/// The answer could not be authenticated; it was not used.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerificationError {
    /// What failed.
    pub kind: VerificationKind,
    /// Status, trace id (unauthenticated), headers and the call.
    pub response: ResponseInfo,
    /// The body that was checked, as received (for [`VerificationKind::UserMismatch`]: the
    /// verified body, decrypted when the call was encrypted).
    pub body: Vec<u8>,
    /// For a wrong signature or `alipay-sn`: the configured Alipay certificate and the endpoint
    /// belong to different environments, when the client can tell.
    pub environment: Option<WrongEnvironment>,
}

/// The configured Alipay certificate is not of the environment the endpoint is, told by the
/// certificate's issuer and whether the endpoint is on this machine (where sandboxes run).
/// Key mode cannot tell: a bare public key names no issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrongEnvironment {
    /// Production's Alipay certificate (issued by Alipay's CA) against a sandbox on this machine.
    ProductionAgainstSandbox,
    /// A sandbox's Alipay certificate against an endpoint that is not on this machine.
    SandboxAgainstProduction,
}

impl WrongEnvironment {
    /// A certificate of `authority` against an endpoint on this machine (`loopback`) or not.
    pub(crate) fn between(authority: CertificateAuthority, loopback: bool) -> Option<Self> {
        match (authority, loopback) {
            (CertificateAuthority::Alipay, true) => Some(WrongEnvironment::ProductionAgainstSandbox),
            (CertificateAuthority::Sandbox, false) => Some(WrongEnvironment::SandboxAgainstProduction),
            _ => None,
        }
    }
}

impl fmt::Display for WrongEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WrongEnvironment::ProductionAgainstSandbox => {
                "configured with production's Alipay certificate (issued by Alipay's CA, Ant Financial) against a \
                 sandbox on this machine: use the sandbox's alipay_cert and alipay_root_cert"
            }
            WrongEnvironment::SandboxAgainstProduction => {
                "configured with a sandbox's Alipay certificate (issued by the Jobworth Sandbox CA) against an \
                 endpoint that is not on this machine: Alipay's gateway needs the certificates from Alipay's console"
            }
        })
    }
}

impl fmt::Debug for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationError")
            .field("kind", &self.kind)
            .field("response", &self.response)
            .field("body", &ByteCount(self.body.len()))
            .field("environment", &self.environment)
            .finish()
    }
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response verification failed (HTTP {}): ", self.response.status.as_u16())?;
        match &self.kind {
            VerificationKind::MissingHeader(h) => write!(f, "the answer has no {h} header (unsigned answer refused)")?,
            VerificationKind::InvalidHeader(h) => write!(f, "the {h} header is not valid text")?,
            VerificationKind::BadSignature => write!(
                f,
                "alipay-signature does not match the body; the answer was altered or not signed by the \
                 configured Alipay public key (configure Alipay's public key, not the app's)"
            )?,
            VerificationKind::SnMismatch { expected, received } => write!(
                f,
                "alipay-sn {received} is not the configured Alipay certificate {expected}; configure the current \
                 Alipay public-key certificate"
            )?,
            VerificationKind::NotAnErrorBody => write!(
                f,
                "a correctly signed answer arrived under an error status, but its body is not an error; the status \
                 was changed on the way, so whether Alipay processed the request is unknown"
            )?,
            VerificationKind::TimestampOutOfWindow { skew_ms, window } => write!(
                f,
                "alipay-timestamp is {} s {} this machine's clock, outside the allowed ±{} s; a replayed answer or a \
                 wrong clock (check NTP)",
                skew_ms.unsigned_abs() / 1000,
                if *skew_ms < 0 { "behind" } else { "ahead of" },
                window.as_secs()
            )?,
            VerificationKind::UserMismatch { field } => {
                write!(f, "the answer names another {field} than the query; it belongs to another request")?
            }
        }
        if let Some(env) = &self.environment {
            write!(f, "; {env}")?;
        }
        write!(f, "; the answer was not used")?;
        self.response.fmt_tail(f, true)
    }
}

impl StdError for VerificationError {}

/// The verified answer did not decrypt with the configured AES key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecryptionError {
    /// Why.
    pub source: AesError,
    /// Status, trace id, headers and the call.
    pub response: ResponseInfo,
}

impl fmt::Display for DecryptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the verified answer did not decrypt ({}); check that the encrypt key is the AES key registered for \
             this app",
            self.source
        )?;
        self.response.fmt_tail(f, true)
    }
}

impl StdError for DecryptionError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// The verified answer is not the expected JSON. The verified (and decrypted) body is kept, so a
/// caller can still read an answer the typed model does not know.
#[derive(Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// What was wrong with it (never quotes the body).
    pub message: String,
    /// Status, trace id, headers and the call.
    pub response: ResponseInfo,
    /// The verified body: the bytes whose signature checked out, decrypted when the call was
    /// encrypted.
    pub body: Vec<u8>,
}

impl DecodeError {
    /// The verified body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("message", &self.message)
            .field("response", &self.response)
            .field("body", &ByteCount(self.body.len()))
            .finish()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode the answer (HTTP {}): {}", self.response.status.as_u16(), self.message)?;
        self.response.fmt_tail(f, true)
    }
}

impl StdError for DecodeError {}

/// A verified 200 answer whose `sub_code` says the call did not do what was asked (for instance
/// `USER_NOT_OPEN_ZHIMA` from the work-card query). The verified (and decrypted) body is kept:
/// read it with [`BusinessError::answer`] for the fields that came with the outcome.
///
/// ```no_run
/// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
/// use jobworth::{family::WorkCardInfo, Error, ErrorCode};
/// match client.work_card_info().user_id("2088402562742105").send().await {
///     Ok(card) => println!("{:?}", card.url),
///     Err(Error::Business(b)) if b.code == ErrorCode::UserNotOpenZhima => {
///         let answer: WorkCardInfo = b.answer()?;
///         println!("{}: {:?}", b.message, answer.url);
///     }
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct BusinessError {
    /// `sub_code`, typed.
    pub code: ErrorCode,
    /// `sub_msg` (an ID number in it masked).
    pub message: String,
    /// Status, trace id, headers and the call.
    pub response: ResponseInfo,
    /// The verified body, decrypted when the call was encrypted.
    pub body: Vec<u8>,
}

impl BusinessError {
    pub(crate) fn new(code: ErrorCode, message: Option<&str>, response: ResponseInfo, body: Vec<u8>) -> Self {
        BusinessError { code, message: message.map(mask_id_numbers).unwrap_or_default(), response, body }
    }

    /// The whole answer, parsed as `T` (the endpoint's model).
    pub fn answer<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::from(DecodeError {
                message: json_error_text(&e),
                response: self.response.clone(),
                body: self.body.clone(),
            })
        })
    }
}

impl fmt::Debug for BusinessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessError")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("response", &self.response)
            .field("body", &ByteCount(self.body.len()))
            .finish()
    }
}

impl fmt::Display for BusinessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alipay answered HTTP {} with sub_code {}", self.response.status.as_u16(), self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = self.code.hint() {
            write!(f, " — {hint}")?;
        }
        self.response.fmt_tail(f, false)
    }
}

impl StdError for BusinessError {}

/// Masks what could be a `cert_no` in `text`: every form of each known secret (any letter case;
/// an 18-character resident ID also in its legacy 15-digit form and vice versa), and every
/// number shaped like a resident ID (15 digits, or 17 digits and a check digit or `X`/`x`),
/// wherever it stands — servers echo numbers inside CJK text with no separator.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        for form in secret_forms(s) {
            out = replace_ignore_ascii_case(&out, &form, &alipay_v3::mask(&form));
        }
    }
    mask_id_numbers(&out)
}

/// The spellings a document number can come back in.
fn secret_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let b = secret.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    if b.len() == 18 && digits(&b[..17]) && &b[6..8] == b"19" {
        // The legacy 15-digit form drops the century and the check character.
        forms.push(format!("{}{}", &secret[..6], &secret[8..17]));
    }
    if b.len() == 15 && digits(b) {
        if let Ok(long) = crate::validate::normalize_resident_id(secret) {
            forms.push(long);
        }
    }
    forms
}

/// `replace`, matching ASCII letters in any case (other characters exactly).
fn replace_ignore_ascii_case(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    // ASCII case folding keeps every byte offset, so offsets in the folded copy are offsets in `text`.
    let (hay, pat) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in hay.match_indices(&pat) {
        if i >= last {
            out.push_str(&text[last..i]);
            out.push_str(with);
            last = i + pat.len();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Masks every maximal run of ASCII digits that has the shape of a resident ID: 15 digits, 18
/// digits, or 17 digits followed by `X`/`x`. Longer runs (trace ids, service ids) are left alone.
pub(crate) fn mask_id_numbers(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        let n = end - start;
        let check_x = n == 17 && end < b.len() && (b[end] == b'X' || b[end] == b'x');
        if check_x {
            end += 1;
        }
        if n == 15 || n == 18 || check_x {
            out.push_str(&text[last..start]);
            out.push_str(&alipay_v3::mask(&text[start..end]));
            last = end;
        }
        i = end;
    }
    out.push_str(&text[last..]);
    out
}

/// A serde_json error as text that quotes nothing of the input: its messages can carry string
/// values of the body ("invalid type: string \"…\"", "unknown variant `…`"). Only the class,
/// the position and, for a missing field, the field name (from the model, not the body) remain.
pub(crate) fn json_error_text(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "could not be read".to_string(),
        Category::Syntax => "is not valid JSON".to_string(),
        Category::Eof => "is incomplete JSON".to_string(),
        Category::Data => {
            let text = e.to_string();
            match text.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
                Some(field) if field.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') => {
                    format!("lacks the field `{field}`")
                }
                _ => "has a value of the wrong type or form".to_string(),
            }
        }
    };
    if e.line() == 0 {
        format!("the body {what}")
    } else {
        format!("the body {what} (line {}, column {})", e.line(), e.column())
    }
}

/// `err` and its sources joined with ": ", skipping repeats (reqwest's top level says little).
pub(crate) fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_environment_by_issuer_and_locality() {
        use CertificateAuthority::{Alipay, Sandbox};
        assert_eq!(WrongEnvironment::between(Alipay, true), Some(WrongEnvironment::ProductionAgainstSandbox));
        assert_eq!(WrongEnvironment::between(Sandbox, false), Some(WrongEnvironment::SandboxAgainstProduction));
        assert_eq!(WrongEnvironment::between(Alipay, false), None);
        assert_eq!(WrongEnvironment::between(Sandbox, true), None);
        let text = WrongEnvironment::SandboxAgainstProduction.to_string();
        assert!(text.starts_with("configured with a sandbox's Alipay certificate"), "{text}");
    }

    #[test]
    fn error_stays_small() {
        // Result<T, Error> is returned everywhere; keep it cheap to move.
        assert!(std::mem::size_of::<Error>() <= 128, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn scrub_masks_every_occurrence() {
        let s = scrub("a 420192931233123123 b 420192931233123123", &["420192931233123123".into()]);
        assert_eq!(s, "a 4201**********3123 b 4201**********3123");
    }

    #[test]
    fn scrub_masks_every_form_of_an_id_number() {
        const ID: &str = "34052419800101001X";
        let secrets = vec![ID.to_string()];
        for (text, hidden) in [
            // as sent
            ("cert_no 34052419800101001X wrong", "34052419800101001X"),
            // lowercase check character
            ("cert_no 34052419800101001x wrong", "34052419800101001x"),
            // legacy 15-digit form of the same number
            ("旧号340524800101001不匹配", "340524800101001"),
            // glued to letters and CJK on both sides
            ("证件号34052419800101001X不匹配", "34052419800101001X"),
            ("no:34052419800101001xend", "34052419800101001x"),
            // JSON-quoted
            (r#"{"cert_no":"34052419800101001X"}"#, "34052419800101001X"),
        ] {
            let s = scrub(text, &secrets);
            assert!(!s.contains(hidden), "{text} -> {s}");
            assert!(s.contains("****"), "{text} -> {s}");
        }
        // A number the client never sent, in any ID shape, is masked too.
        for other in ["110105200002290021", "11010519491231002x", "11010519491231002X", "610104620927690"] {
            let s = scrub(&format!("id {other}."), &[]);
            assert!(!s.contains(other), "{other} -> {s}");
        }
        // A passport number sent as cert_no, echoed in another case.
        assert!(!scrub("passport e1234567 unknown", &["E1234567".into()]).to_lowercase().contains("e1234567"));
        // Other numbers stay readable.
        let keep = "trace 0603331617156962044358274991886 user 2088402562742105 at 1700000000000";
        assert_eq!(scrub(keep, &secrets), keep);
    }

    #[test]
    fn json_errors_quote_nothing_of_the_body() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct M {
            a: u32,
            b: String,
        }
        for body in [
            r#"{"a":"110105200002290021","b":"x"}"#,
            r#"{"a":1,"b":110105200002290021}"#,
            r#"{"a":1,"b":"secret-value","c":"#,
            r#"{"a":1 "secret-value"}"#,
        ] {
            let e = serde_json::from_str::<M>(body).unwrap_err();
            let text = json_error_text(&e);
            assert!(!text.contains("110105200002290021") && !text.contains("secret-value"), "{body}: {text}");
            assert!(text.starts_with("the body "), "{text}");
        }
        let e = serde_json::from_str::<M>(r#"{"b":"110105200002290021"}"#).unwrap_err();
        assert_eq!(json_error_text(&e), "the body lacks the field `a` (line 1, column 26)");
    }
}
