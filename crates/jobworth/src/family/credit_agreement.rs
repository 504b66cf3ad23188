//! `GET /v3/zhima/credit/payafteruse/creditagreement/query` (芝麻先享信用服务协议查询), typed.

use jobworth_wire::family::credit_agreement::{self, CreditAgreement, CreditAgreementParams};

use super::{option_setters, text_setters, Options};
use crate::client::Client;
use crate::error::{Error, NotSentError};

impl Client {
    /// Starts a query of the step-1 agreement (`zhima.credit.payafteruse.creditagreement.query`)
    /// by exactly one of `out_agreement_no` (the `conn_key`) or `credit_agreement_id`.
    ///
    /// ```no_run
    /// use jobworth::family::AgreementStatus;
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let agreement = client.credit_agreement().out_agreement_no("conn-7f3c1e2a").send().await?;
    /// if agreement.agreement_status == Some(AgreementStatus::Valid) { /* the user signed */ }
    /// # Ok(()) }
    /// ```
    pub fn credit_agreement(&self) -> CreditAgreementQuery {
        CreditAgreementQuery {
            client: self.clone(),
            params: CreditAgreementParams::default(),
            options: Options::default(),
        }
    }
}

/// A credit-agreement query being assembled. Created by [`Client::credit_agreement`]. Exactly
/// one of the two numbers must be set; otherwise nothing is sent ([`Error::NotSent`]).
#[must_use]
#[derive(Debug, Clone)]
pub struct CreditAgreementQuery {
    client: Client,
    params: CreditAgreementParams,
    options: Options,
}

impl CreditAgreementQuery {
    text_setters! { "credit_agreement()", params;
        /// `out_agreement_no`: your agreement number (the `conn_key` of step 1).
        out_agreement_no,
        /// `credit_agreement_id`: Zhima's agreement id.
        credit_agreement_id,
    }

    option_setters!("credit_agreement()");

    /// Signs and sends the query, verifies (and decrypts) the answer and parses it.
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let agreement = client.credit_agreement().credit_agreement_id("ZM2024…").send().await?;
    /// println!("{:?} {:?}", agreement.agreement_status, agreement.biz_time);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<CreditAgreement, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.credit_agreement().send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(CreditAgreement, crate::Receipt), Error> {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        if set(&self.params.out_agreement_no) == set(&self.params.credit_agreement_id) {
            return Err(Error::from(NotSentError::invalid(
                "set exactly one of out_agreement_no and credit_agreement_id",
                None,
            )));
        }
        let call = super::call(&credit_agreement::ENDPOINT, self.params.pairs(), None, self.options);
        super::send(&self.client, call).await
    }
}
