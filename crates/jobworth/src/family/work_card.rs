//! `GET /v3/zhima/customer/jobworth/info/query` (职得工作证信息查询), typed.

use std::fmt;

use jobworth_wire::family::work_card::{self, UserIdentifier, VisitorType, WorkCardInfo, WorkCardParams};

use super::{cert_setters, flag_setters, option_setters, text_setters, Options};
use crate::client::Client;
use crate::error::Error;

impl Client {
    /// Starts a work-card query (`zhima.customer.jobworth.info.query`): links to the user's
    /// work card and how it is shown. Name the user by `user_id`/`open_id` or by
    /// [`cert`](WorkCardInfoQuery::cert); when both are set the uid wins and `cert_no`/`cert_type`
    /// are not sent ([`identifier`](WorkCardInfoQuery::identifier) says which is).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let card = client
    ///     .work_card_info()
    ///     .user_id("2088402562742105")
    ///     .has_button(true)
    ///     .has_qr_code(true)
    ///     .send()
    ///     .await?;
    /// println!("{:?} {:?}", card.url, card.picture_url);
    /// # Ok(()) }
    /// ```
    pub fn work_card_info(&self) -> WorkCardInfoQuery {
        WorkCardInfoQuery { client: self.clone(), params: WorkCardParams::default(), options: Options::default() }
    }
}

/// A work-card query being assembled. Created by [`Client::work_card_info`]. Parameters are
/// sent in the official SDKs' order, absent ones left out. `Debug` hides `cert_no` and
/// `user_name`.
#[must_use]
#[derive(Clone)]
pub struct WorkCardInfoQuery {
    client: Client,
    params: WorkCardParams,
    options: Options,
}

impl fmt::Debug for WorkCardInfoQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkCardInfoQuery").field("params", &self.params).finish_non_exhaustive()
    }
}

impl WorkCardInfoQuery {
    text_setters! { "work_card_info()", params;
        /// `user_name`: the user's name.
        user_name,
        /// `conn_key`: the `out_agreement_no` of step 1.
        conn_key,
        /// `cert_no` alone; pair it with [`cert_type`](Self::cert_type), or use [`cert`](Self::cert).
        cert_no,
        /// `user_id`: the user's member id (2088…).
        user_id,
        /// `open_id`: the user's per-app OpenID.
        open_id,
        /// `back_url`: where the work-card page returns to.
        back_url,
        /// `ka_visitor_id`: your id of the visitor.
        ka_visitor_id,
        /// `visitor_name`: the visitor's name.
        visitor_name,
        /// `company_certificate`: the visiting company's registration number.
        company_certificate,
        /// `visitor_url`: a link about the visitor.
        visitor_url,
        /// `job_id`: the job the card is shown for.
        job_id,
        /// `industry_id`: the industry the card is shown for.
        industry_id,
        /// `cloud_resume_scene`: the résumé scene the card is part of.
        cloud_resume_scene,
    }

    flag_setters! { "work_card_info()", params;
        /// `has_button`: show the card's button.
        has_button,
        /// `has_number`: show the card's number.
        has_number,
        /// `has_qr_code`: show the card's QR code.
        has_qr_code,
        /// `has_html`: answer with an `html_url` too.
        has_html,
    }

    cert_setters!("work_card_info()", params);

    super::documented! { "work_card_info()", ("visitor_type(jobworth::family::VisitorType::Company)"),
        [
        /// `visitor_type`: [`VisitorType::Company`] (`C`) or [`VisitorType::Person`] (`P`).
        ]
        pub fn visitor_type(mut self, v: impl Into<VisitorType>) -> Self {
            self.params.visitor_type = Some(v.into());
            self
        }
    }

    option_setters!("work_card_info()");

    /// Which identifier names the user: the uid when one is set (it wins over `cert_no`), else
    /// `cert_no` + `cert_type`; `None` when none is set.
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// use jobworth::{family::UserIdentifier, CertType};
    /// let q = client.work_card_info().cert(CertType::IdCard, "110105200002290021").user_id("2088402562742105");
    /// assert_eq!(q.identifier(), Some(UserIdentifier::UserId));
    /// assert_eq!(q.pairs(), [("user_id", "2088402562742105".to_string())]);
    /// ```
    pub fn identifier(&self) -> Option<UserIdentifier> {
        self.params.identifier()
    }

    /// The parameters as sent, in wire order: with a uid set, `cert_no` and `cert_type` are
    /// left out (the uid wins, and an ID number is not sent for nothing).
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// let q = client.work_card_info().has_html(true).cert("0", "110105200002290021");
    /// let names: Vec<&str> = q.pairs().iter().map(|(k, _)| *k).collect();
    /// assert_eq!(names, ["cert_no", "cert_type", "has_html"]);
    /// ```
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut params = self.params.clone();
        if matches!(self.identifier(), Some(UserIdentifier::UserId | UserIdentifier::OpenId)) {
            params.cert_no = None;
            params.cert_type = None;
        }
        params.pairs()
    }

    /// Signs and sends the query, verifies (and decrypts) the answer and parses it. A
    /// `sub_code` in the answer is [`Error::Business`].
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let card = client.work_card_info().open_id("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5").send().await?;
    /// # let _ = card; Ok(()) }
    /// ```
    pub async fn send(self) -> Result<WorkCardInfo, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.work_card_info().send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(WorkCardInfo, crate::Receipt), Error> {
        let identifier = self.identifier();
        if identifier != Some(UserIdentifier::Cert) && self.params.cert_no.is_some() {
            tracing::debug!(
                sends = identifier.map(UserIdentifier::as_str),
                "the uid wins: cert_no and cert_type not sent"
            );
        }
        let call = super::call(&work_card::ENDPOINT, self.pairs(), None, self.options);
        super::send(&self.client, call).await
    }
}
