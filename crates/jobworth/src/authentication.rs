//! `GET /v3/zhima/customer/jobworth/authentication` (职得身份认证查询接口), typed.

use std::fmt;
use std::time::Duration;

use http::Method;

use crate::client::{Call, Client};
use crate::error::{json_error_text, Error, NotSentError, VerificationError, VerificationKind};
use crate::request::RawResponse;
use crate::token;
use crate::validate::{self, ValidationError};
use crate::{AuthenticationResult, CertType, IdentityType, QueryType, AUTHENTICATION_PATH};

impl Client {
    /// Starts an authentication query (step 3 of the flow). Parameters are sent in the documented
    /// order `conn_key, once_token, query_type, identity_type, service_id, user_id, open_id,
    /// cert_no, cert_type`; absent ones are left out.
    ///
    /// ```no_run
    /// use jobworth::{IdentityResult, IdentityType, QueryType};
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let res = client
    ///     .authentication_query()
    ///     .conn_key("conn-7f3c1e2a")
    ///     .once_token("tok-9b1d")
    ///     .query_type(QueryType::Exact)
    ///     .identity_type(IdentityType::Teacher)
    ///     .service_id("2019120400000000000004450100")
    ///     .user_id("2088402562742105")
    ///     .send()
    ///     .await?;
    /// if res.identity_result == IdentityResult::Success { /* verified teacher */ }
    /// # Ok(()) }
    /// ```
    pub fn authentication_query(&self) -> AuthenticationQuery {
        AuthenticationQuery {
            client: self.clone(),
            conn_key: None,
            once_token: None,
            query_type: None,
            identity_type: None,
            service_id: None,
            user_id: None,
            open_id: None,
            cert_no: None,
            cert_type: None,
            app_auth_token: None,
            timeout: None,
            retry_ambiguous: false,
            strict: false,
        }
    }

    /// The seed's Java call, one-to-one:
    /// `ZhimaCustomerJobworthAuthenticationApi.query(connKey, onceToken, queryType, identityType,
    /// serviceId, userId, openId, certNo, certType)`. `None` leaves a parameter out.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let res = client
    ///     .query(Some("uuid"), Some("uuid"), Some("exact"), Some("04"),
    ///            Some("2019120400000000000004450100"), Some("20881029102921"), None, None, None)
    ///     .await?;
    /// println!("{}", res.identity_result);
    /// # Ok(()) }
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub async fn query(
        &self,
        conn_key: Option<&str>,
        once_token: Option<&str>,
        query_type: Option<&str>,
        identity_type: Option<&str>,
        service_id: Option<&str>,
        user_id: Option<&str>,
        open_id: Option<&str>,
        cert_no: Option<&str>,
        cert_type: Option<&str>,
    ) -> Result<AuthenticationResult, Error> {
        let mut q = self.authentication_query();
        q.conn_key = conn_key.map(str::to_string);
        q.once_token = once_token.map(str::to_string);
        q.query_type = query_type.map(QueryType::from);
        q.identity_type = identity_type.map(IdentityType::from);
        q.service_id = service_id.map(str::to_string);
        q.user_id = user_id.map(str::to_string);
        q.open_id = open_id.map(str::to_string);
        q.cert_no = cert_no.map(str::to_string);
        q.cert_type = cert_type.map(CertType::from);
        q.send().await
    }
}

/// A Jobworth authentication query being assembled. Created by
/// [`Client::authentication_query`]. `Debug` masks `cert_no`.
///
/// # Retries
/// The query's `once_token` is single-use once the result is terminal. Apart from what the
/// [`Client`] does for every call ("Retries"): after an ambiguous attempt (timeout, connection
/// lost, 5xx) the query is **not** repeated unless you opt in with
/// [`retry_ambiguous`](Self::retry_ambiguous); the error says the token may have been consumed.
/// The client remembers tokens whose query was ambiguous: if a later query with the same token
/// (retried by the SDK or by you) answers `TOKEN_INVALID`, you get
/// [`Error::TokenPossiblyConsumed`] instead of a bare `TOKEN_INVALID`.
#[must_use]
#[derive(Clone)]
pub struct AuthenticationQuery {
    client: Client,
    conn_key: Option<String>,
    once_token: Option<String>,
    query_type: Option<QueryType>,
    identity_type: Option<IdentityType>,
    service_id: Option<String>,
    user_id: Option<String>,
    open_id: Option<String>,
    cert_no: Option<String>,
    cert_type: Option<CertType>,
    app_auth_token: Option<String>,
    timeout: Option<Duration>,
    retry_ambiguous: bool,
    strict: bool,
}

impl fmt::Debug for AuthenticationQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticationQuery")
            .field("conn_key", &self.conn_key)
            .field("once_token", &self.once_token.as_deref().map(alipay_v3::mask))
            .field("query_type", &self.query_type)
            .field("identity_type", &self.identity_type)
            .field("service_id", &self.service_id)
            .field("user_id", &self.user_id)
            .field("open_id", &self.open_id)
            .field("cert_no", &self.cert_no.as_deref().map(alipay_v3::mask))
            .field("cert_type", &self.cert_type)
            .field("retry_ambiguous", &self.retry_ambiguous)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

impl AuthenticationQuery {
    /// `conn_key`: the `out_agreement_no` of step 1.
    pub fn conn_key(mut self, v: impl Into<String>) -> Self {
        self.conn_key = Some(v.into());
        self
    }

    /// `once_token`: the single-use token of step 1 (`extra_param.onceToken`).
    pub fn once_token(mut self, v: impl Into<String>) -> Self {
        self.once_token = Some(v.into());
        self
    }

    /// `query_type`: [`QueryType::Exact`] or [`QueryType::Dim`] (or a string).
    pub fn query_type(mut self, v: impl Into<QueryType>) -> Self {
        self.query_type = Some(v.into());
        self
    }

    /// `identity_type`: e.g. [`IdentityType::Teacher`] (`04`).
    pub fn identity_type(mut self, v: impl Into<IdentityType>) -> Self {
        self.identity_type = Some(v.into());
        self
    }

    /// `service_id`: the Zhima credit service id (`zm_service_id` of step 1).
    pub fn service_id(mut self, v: impl Into<String>) -> Self {
        self.service_id = Some(v.into());
        self
    }

    /// `user_id`: the user's member id (2088…).
    pub fn user_id(mut self, v: impl Into<String>) -> Self {
        self.user_id = Some(v.into());
        self
    }

    /// `open_id`: the user's per-app OpenID.
    pub fn open_id(mut self, v: impl Into<String>) -> Self {
        self.open_id = Some(v.into());
        self
    }

    /// `cert_no` and `cert_type` together: identify the user by ID document.
    pub fn cert(self, cert_type: impl Into<CertType>, cert_no: impl Into<String>) -> Self {
        self.cert_type(cert_type).cert_no(cert_no)
    }

    /// `cert_no` alone (the seed's shape); pair it with [`cert_type`](Self::cert_type).
    pub fn cert_no(mut self, v: impl Into<String>) -> Self {
        self.cert_no = Some(v.into());
        self
    }

    /// `cert_type` alone (the seed's shape).
    pub fn cert_type(mut self, v: impl Into<CertType>) -> Self {
        self.cert_type = Some(v.into());
        self
    }

    /// ISV `app_auth_token` for this query (overrides the client's).
    pub fn app_auth_token(mut self, v: impl Into<String>) -> Self {
        self.app_auth_token = Some(v.into());
        self
    }

    /// Per-attempt timeout for this query (overrides the client's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Opt in to repeating the query after an ambiguous attempt (timeout, lost connection, 5xx).
    /// Default `false`. A repeat can find a `WAITING_VERIFY` result again, but if the first
    /// attempt consumed the token it gets `TOKEN_INVALID`, reported as
    /// [`Error::TokenPossiblyConsumed`].
    pub fn retry_ambiguous(mut self, on: bool) -> Self {
        self.retry_ambiguous = on;
        self
    }

    /// Check the parameters with [`validate`](Self::validate) before sending; a failure is
    /// [`Error::NotSent`] and consumes nothing. Default `false` (send what was given, like the
    /// official SDKs).
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// The query parameters in wire order, absent ones left out.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let fields: [(&'static str, Option<&str>); 9] = [
            ("conn_key", self.conn_key.as_deref()),
            ("once_token", self.once_token.as_deref()),
            ("query_type", self.query_type.as_ref().map(QueryType::as_str)),
            ("identity_type", self.identity_type.as_ref().map(IdentityType::as_str)),
            ("service_id", self.service_id.as_deref()),
            ("user_id", self.user_id.as_deref()),
            ("open_id", self.open_id.as_deref()),
            ("cert_no", self.cert_no.as_deref()),
            ("cert_type", self.cert_type.as_ref().map(CertType::as_str)),
        ];
        fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
    }

    /// Client-side checks of the documented rules (opt-in): `conn_key`, `once_token`,
    /// `query_type`, `identity_type`, `service_id` present; `query_type` `exact`/`dim`;
    /// `cert_type` `0`–`5` and given with `cert_no`; `exact` needs a user identifier; an ID-card
    /// `cert_no` must be a valid 18-character resident ID.
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// use jobworth::{CertType, QueryType};
    /// let q = client.authentication_query().conn_key("c").once_token("t").service_id("s")
    ///     .identity_type("04").query_type(QueryType::Exact).cert(CertType::IdCard, "420192931233123123");
    /// let err = q.validate().unwrap_err();
    /// assert_eq!(err.field, "cert_no");
    /// assert!(!err.to_string().contains("420192931233123123"));
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        let required = |field: &'static str, v: Option<&str>| match v {
            Some(s) if !s.is_empty() => Ok(()),
            _ => Err(ValidationError::new(field, "is required")),
        };
        required("conn_key", self.conn_key.as_deref())?;
        required("once_token", self.once_token.as_deref())?;
        required("query_type", self.query_type.as_ref().map(QueryType::as_str))?;
        required("identity_type", self.identity_type.as_ref().map(IdentityType::as_str))?;
        required("service_id", self.service_id.as_deref())?;
        if let Some(QueryType::Other(_)) = self.query_type {
            return Err(ValidationError::new("query_type", "must be exact or dim"));
        }
        if let Some(t) = &self.cert_type {
            validate::cert_type(t.as_str())?;
        }
        let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match (has(&self.cert_no), self.cert_type.is_some()) {
            (true, false) => return Err(ValidationError::new("cert_type", "is required with cert_no")),
            (false, true) => return Err(ValidationError::new("cert_no", "is required with cert_type")),
            _ => {}
        }
        if self.query_type == Some(QueryType::Exact)
            && !has(&self.user_id)
            && !has(&self.open_id)
            && !has(&self.cert_no)
        {
            return Err(ValidationError::new("user_id", "exact queries need user_id, open_id or cert_no"));
        }
        if let (Some(CertType::IdCard), Some(no)) = (&self.cert_type, &self.cert_no) {
            validate::resident_id_18(no).map_err(|e| ValidationError::new("cert_no", e.to_string()))?;
        }
        Ok(())
    }

    /// An answer that names another user than this query did belongs to another request (a
    /// mix-up or a substitution); an answer that names none is accepted.
    fn check_user(&self, raw: &RawResponse, result: AuthenticationResult) -> Result<AuthenticationResult, Error> {
        let differs = |asked: &Option<String>, answered: &Option<String>| match (asked, answered) {
            (Some(a), Some(b)) => !a.is_empty() && a != b,
            _ => false,
        };
        let field = if differs(&self.user_id, &result.user_id) {
            "user_id"
        } else if differs(&self.open_id, &result.open_id) {
            "open_id"
        } else {
            return Ok(result);
        };
        tracing::warn!(field, "answer names another user than the query");
        Err(Error::from(VerificationError {
            kind: VerificationKind::UserMismatch { field },
            response: raw.response_info(),
            body: raw.body.clone(),
            environment: None,
        }))
    }

    /// Signs and sends the query, verifies (and decrypts) the answer and parses it.
    pub async fn send(self) -> Result<AuthenticationResult, Error> {
        self.send_with_receipt().await.map(|(result, _)| result)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt) (an error
    /// about a signed answer carries its receipt: [`Error::receipt`]).
    pub async fn send_with_receipt(self) -> Result<(AuthenticationResult, crate::Receipt), Error> {
        if self.strict {
            self.validate()
                .map_err(|e| Error::from(NotSentError::invalid(format!("invalid query parameter: {e}"), None)))?;
        }
        let tokens = &*self.client.inner.tokens;
        let token =
            self.once_token.as_deref().map(|t| token::TokenKey::new(self.client.app_id(), self.conn_key.as_deref(), t));
        let query: Vec<(String, String)> =
            self.pairs().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let call = Call {
            method: Method::GET,
            path: AUTHENTICATION_PATH.to_string(),
            query,
            json: None,
            encrypt: None,
            app_auth_token: self.app_auth_token.clone(),
            timeout: self.timeout,
            max_retries: None,
            retry: token::retry_policy(self.retry_ambiguous),
        };
        let settle = token::TokenSettle { ledger: tokens, key: token, spent: token::QUERY_SPENT };
        let token = settle.key.as_ref();
        let raw = match self.client.execute_with(call, &settle).await {
            Ok(raw) => raw,
            Err(e) => {
                if matches!(e, Error::ReceiptNotStored(_)) {
                    // Settled already; a result the caller holds but could not store still spends the token.
                    token::remember_ambiguous(tokens, token, &e).await;
                }
                return Err(e);
            }
        };
        let result = if raw.status.is_success() {
            serde_json::from_slice::<AuthenticationResult>(&raw.body)
                .map_err(|e| raw.decode_error(format!("not an authentication result: {}", json_error_text(&e))))
                .and_then(|r| self.check_user(&raw, r))
        } else {
            Err(raw.decode_error(format!("expected HTTP 200, got {}", raw.status)))
        };
        if let Err(e) = &result {
            // The answer was verified, so a terminal result may have been consumed with it.
            token::remember_ambiguous(tokens, token, e).await;
        }
        result.map(|r| (r, crate::Receipt::clone(&raw.receipt)))
    }
}
