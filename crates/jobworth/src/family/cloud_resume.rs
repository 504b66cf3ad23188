//! `GET /v3/zhima/customer/jobworth/cloudresume/query` (职得云简历查询), typed.

use jobworth_wire::family::cloud_resume::{self, CloudResume, CloudResumeParams};

use super::{option_setters, Options};
use crate::client::Client;
use crate::error::Error;
use crate::token;
use crate::ErrorCode;

impl Client {
    /// Starts a cloud-résumé query (`zhima.customer.jobworth.cloudresume.query`) with the
    /// `conn_key` and the single-use `once_token` of the user's authorization (within five
    /// minutes of it). The token gives the résumé once.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let resume = client.cloud_resume("conn-7f3c1e2a", "tok-9b1d").send().await?;
    /// for school in resume.education_experiences.unwrap_or_default() {
    ///     println!("{:?} {:?}", school.school_name, school.degree);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn cloud_resume(&self, conn_key: impl Into<String>, once_token: impl Into<String>) -> CloudResumeQuery {
        CloudResumeQuery {
            client: self.clone(),
            params: CloudResumeParams { conn_key: Some(conn_key.into()), once_token: Some(once_token.into()) },
            options: Options::default(),
            retry_ambiguous: false,
        }
    }
}

/// A cloud-résumé query being assembled. Created by [`Client::cloud_resume`].
///
/// # Retries
/// The `once_token` answers once, like the authentication query's: after an ambiguous attempt
/// (timeout, lost connection, 5xx) the query is not repeated unless you opt in with
/// [`retry_ambiguous`](Self::retry_ambiguous), and the client remembers the token: if a later
/// query with it answers that the token is spent (`USER_NOT_AUTHORIZE`, or `TOKEN_INVALID`), you
/// get [`Error::TokenPossiblyConsumed`] instead.
#[must_use]
#[derive(Debug, Clone)]
pub struct CloudResumeQuery {
    client: Client,
    params: CloudResumeParams,
    options: Options,
    retry_ambiguous: bool,
}

impl CloudResumeQuery {
    super::documented! { "cloud_resume(\"c-1\", \"t-1\")", ("retry_ambiguous(true)"),
        [
        /// Opt in to repeating the query after an ambiguous attempt. Default `false`.
        ]
        pub fn retry_ambiguous(mut self, on: bool) -> Self {
            self.retry_ambiguous = on;
            self
        }
    }

    option_setters!("cloud_resume(\"c-1\", \"t-1\")");

    /// Signs and sends the query, verifies (and decrypts) the answer and parses it.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// match client.cloud_resume("conn-7f3c1e2a", "tok-9b1d").send().await {
    ///     Ok(resume) => println!("{:?}", resume.user_name),
    ///     Err(e) if e.needs_new_token() => println!("the résumé may be gone: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<CloudResume, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.cloud_resume("c-1", "t-1").send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(CloudResume, crate::Receipt), Error> {
        let tokens = &*self.client.inner.tokens;
        let token =
            self.params.once_token.as_deref().map(|t| {
                token::TokenKey::at(self.client.app_id(), cloud_resume::PATH, self.params.conn_key.as_deref(), t)
            });
        let mut call = super::call(&cloud_resume::ENDPOINT, self.params.pairs(), None, self.options);
        call.retry = token::retry_policy(self.retry_ambiguous);
        let spent = [ErrorCode::TokenInvalid, cloud_resume::SPENT_TOKEN];
        let settle = token::TokenSettle { ledger: tokens, key: token, spent: &spent };
        let raw = match self.client.execute_with(call, &settle).await {
            Ok(raw) => raw,
            Err(e) => {
                if matches!(e, Error::ReceiptNotStored(_)) {
                    // Settled already; a result the caller holds but could not store still spends the token.
                    token::remember_ambiguous(tokens, settle.key.as_ref(), &e).await;
                }
                return Err(e);
            }
        };
        let result = super::read(&raw);
        if let Err(e) = &result {
            if e.token_may_be_consumed() {
                // The answer was verified, so the résumé may have been read with it.
                token::remember_ambiguous(tokens, settle.key.as_ref(), e).await;
            }
        }
        result.map(|answer| (answer, crate::Receipt::clone(&raw.receipt)))
    }
}
