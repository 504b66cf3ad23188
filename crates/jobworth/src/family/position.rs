//! `POST /v3/zhima/customer/jobworth/position/add` (职得岗位发布), typed.

use jobworth_wire::family::position::{self, JobWorthPositionInfo, PositionAdded, PositionBody};

use super::{option_setters, Options};
use crate::client::Client;
use crate::error::Error;

impl Client {
    /// Starts a job posting (`zhima.customer.jobworth.position.add`).
    ///
    /// ```no_run
    /// use jobworth::family::JobWorthPositionInfo;
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let posting = JobWorthPositionInfo {
    ///     ka_position_id: Some("pos-42".into()),
    ///     position_title: Some("初中数学教师".into()),
    ///     company_name: Some("某中学".into()),
    ///     count: Some(2),
    ///     ..Default::default()
    /// };
    /// let added = client.add_position(posting).send().await?;
    /// println!("{:?}", added.position_id);
    /// # Ok(()) }
    /// ```
    pub fn add_position(&self, info: JobWorthPositionInfo) -> PositionAdd {
        PositionAdd {
            client: self.clone(),
            body: PositionBody { jobworth_position_info: Some(info) },
            options: Options::default(),
        }
    }
}

/// A job posting being assembled. Created by [`Client::add_position`].
#[must_use]
#[derive(Debug, Clone)]
pub struct PositionAdd {
    client: Client,
    body: PositionBody,
    options: Options,
}

impl PositionAdd {
    option_setters!("add_position(Default::default())");

    /// The JSON body as it will be signed and sent (before encryption).
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// let post = client.add_position(Default::default());
    /// assert_eq!(serde_json::to_string(post.body()).unwrap(), r#"{"jobworth_position_info":{}}"#);
    /// ```
    pub fn body(&self) -> &PositionBody {
        &self.body
    }

    /// Signs and sends the posting, verifies (and decrypts) the answer and parses it. A
    /// `sub_code` in the answer is [`Error::Business`]. It is not repeated after an attempt that
    /// may have been taken (timeout, lost connection, 5xx).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client, info: jobworth::family::JobWorthPositionInfo) -> Result<(), jobworth::Error> {
    /// let id = client.add_position(info).send().await?.position_id;
    /// # let _ = id; Ok(()) }
    /// ```
    pub async fn send(self) -> Result<PositionAdded, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.add_position(Default::default()).send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(PositionAdded, crate::Receipt), Error> {
        let json = super::to_json(&self.body)?;
        let call = super::call(&position::ENDPOINT, Vec::new(), Some(json), self.options);
        super::send(&self.client, call).await
    }
}
