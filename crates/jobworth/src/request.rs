//! The generic signed v3 call, for endpoints without a typed wrapper.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use alipay_v3::receipt::Receipt;

use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::{Call, Client, Retry, SHOWN_MASKED};
use crate::error::{json_error_text, ConfigError, DecodeError, Error, RequestInfo, ResponseInfo};

impl Client {
    /// A signed v3 call to any endpoint: `method`, `path` (e.g. `/v3/alipay/user/info/share`),
    /// query parameters, an optional JSON body. The answer is verified (and decrypted) before
    /// you see it.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let res = client
    ///     .request(http::Method::GET, "/v3/zhima/credit/payafteruse/creditagreement/query")
    ///     .query("out_agreement_no", "conn-1")
    ///     .send()
    ///     .await?;
    /// let value: serde_json::Value = res.json()?;
    /// # Ok(()) }
    /// ```
    pub fn request(&self, method: Method, path: impl Into<String>) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            path: path.into(),
            query: Vec::new(),
            json: None,
            encrypt: None,
            app_auth_token: None,
            timeout: None,
            max_retries: None,
            idempotent: false,
        }
    }
}

/// A generic v3 call being assembled. Created by [`Client::request`].
///
/// `Debug` masks `cert_no` query values and never prints the body.
#[must_use]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    json: Option<Result<String, ()>>,
    encrypt: Option<bool>,
    app_auth_token: Option<String>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    idempotent: bool,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), if SHOWN_MASKED.contains(&k.as_str()) { alipay_v3::mask(v) } else { v.clone() }))
            .collect();
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("body", &self.json.as_ref().map(|j| format!("<{} bytes>", j.as_ref().map_or(0, String::len))))
            .field("encrypt", &self.encrypt)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    /// Appends a query parameter (order is kept; values are percent-encoded per RFC 3986).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body, serialised compactly in the value's field order.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.json = Some(serde_json::to_string(body).map_err(|_| ()));
        self
    }

    /// Sets a body that already is JSON text (signed and sent exactly as given).
    pub fn json_text(mut self, body: impl Into<String>) -> Self {
        self.json = Some(Ok(body.into()));
        self
    }

    /// Overrides encryption for this call (default: on when the client has an AES key).
    pub fn encrypt(mut self, on: bool) -> Self {
        self.encrypt = Some(on);
        self
    }

    /// ISV `app_auth_token` for this call (overrides the client's).
    pub fn app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.app_auth_token = Some(token.into());
        self
    }

    /// Per-attempt timeout for this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries for this call (overrides the client's `max_retries`; 0 disables).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Declares that repeating this call has no further effect, so it may also be retried after
    /// a timeout or a lost connection. Default `false`. Do not set it for calls that consume
    /// something (such as a single-use token).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Signs, sends, verifies and (when encrypted) decrypts.
    pub async fn send(self) -> Result<RawResponse, Error> {
        let json = match self.json {
            Some(Ok(j)) => Some(j),
            Some(Err(())) => {
                return Err(Error::Config(ConfigError::Invalid {
                    what: "request body",
                    reason: "cannot be serialised as JSON",
                }))
            }
            None => None,
        };
        let call = Call {
            method: self.method,
            path: self.path,
            query: self.query,
            json,
            encrypt: self.encrypt,
            app_auth_token: self.app_auth_token,
            timeout: self.timeout,
            max_retries: self.max_retries,
            retry: Retry::generic(self.idempotent),
        };
        self.client.execute(call).await
    }
}

/// A verified (and, when encrypted, decrypted) answer with status below 400.
#[derive(Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body: the verified bytes, decrypted when the call was encrypted.
    pub body: Vec<u8>,
    /// `alipay-trace-id`.
    pub trace_id: Option<String>,
    /// Whether the body was decrypted.
    pub encrypted: bool,
    pub(crate) request: RequestInfo,
    pub(crate) receipt: Arc<Receipt>,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("trace_id", &self.trace_id)
            .field("request", &self.request)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish_non_exhaustive()
    }
}

impl RawResponse {
    /// The call this answers.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// The receipt of this answer: what its signature covers, kept to be re-checked offline.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// The `alipay-request-id` that was sent.
    pub fn request_id(&self) -> &str {
        &self.request.request_id
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|_| self.decode_error("body is not UTF-8".into()))
    }

    /// The body parsed as JSON into `T`. On failure the [`DecodeError`] holds the verified body;
    /// its message names the position, never the body's content.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let res = client.request(http::Method::GET, "/v3/x").send().await?;
    /// match res.json::<serde_json::Value>() {
    ///     Ok(v) => println!("{v}"),
    ///     Err(jobworth::Error::Decode(e)) => println!("{} verified bytes", e.body.len()),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(json_error_text(&e)))
    }

    pub(crate) fn decode_error(&self, message: String) -> Error {
        Error::from(DecodeError { message, response: self.response_info(), body: self.body.clone() })
    }

    /// Status, trace id, headers and the call, as an error carries them.
    pub(crate) fn response_info(&self) -> ResponseInfo {
        ResponseInfo::new(self.status, self.trace_id.clone(), self.headers.clone(), self.request.clone())
            .with_receipt(Some(self.receipt.clone()))
    }
}
