//! `POST /v3/zhima/customer/jobworth/jobdata/add` (职得工作证数据回传), typed.

use jobworth_wire::family::job_data::{self, JobDataAdded, JobDataBody, JobWorthJobdata};

use super::{cert_setters, option_setters, text_setters, Options};
use crate::client::Client;
use crate::error::Error;

impl Client {
    /// Starts a job-data push (`zhima.customer.jobworth.jobdata.add`): records about the user
    /// (applications, jobs, schools, certificates, skills, …) for the work card. Name the user
    /// by `conn_key`, `user_id`/`open_id` or [`cert`](JobDataAdd::cert).
    ///
    /// ```no_run
    /// use jobworth::family::JobWorthJobdata;
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let record = JobWorthJobdata {
    ///     data_type: Some("WORK".into()),
    ///     company_name: Some("某中学".into()),
    ///     job_name: Some("数学教师".into()),
    ///     ..Default::default()
    /// };
    /// let added = client.add_job_data([record]).user_id("2088402562742105").send().await?;
    /// println!("{:?}", added.acceptance_id);
    /// # Ok(()) }
    /// ```
    pub fn add_job_data(&self, job_data_list: impl IntoIterator<Item = JobWorthJobdata>) -> JobDataAdd {
        JobDataAdd {
            client: self.clone(),
            body: JobDataBody { job_data_list: Some(job_data_list.into_iter().collect()), ..Default::default() },
            options: Options::default(),
        }
    }
}

/// A job-data push being assembled. Created by [`Client::add_job_data`]. `Debug` hides
/// `cert_no` and `user_name`.
#[must_use]
#[derive(Debug, Clone)]
pub struct JobDataAdd {
    client: Client,
    body: JobDataBody,
    options: Options,
}

impl JobDataAdd {
    text_setters! { "add_job_data([])", body;
        /// `conn_key`: the key the acceptance desk returned.
        conn_key,
        /// `user_id`: the user's member id (2088…).
        user_id,
        /// `open_id`: the user's per-app OpenID.
        open_id,
        /// `user_name`: the user's name.
        user_name,
        /// `cert_no` alone; pair it with [`cert_type`](Self::cert_type), or use [`cert`](Self::cert).
        cert_no,
    }

    cert_setters!("add_job_data([])", body);

    super::documented! { "add_job_data([])", ("job_data(jobworth::family::JobWorthJobdata { skill_name: Some(\"教学\".into()), ..Default::default() })"),
        [
        /// Appends one more record to `job_data_list`.
        ]
        pub fn job_data(mut self, record: JobWorthJobdata) -> Self {
            self.body.job_data_list.get_or_insert_with(Vec::new).push(record);
            self
        }
    }

    option_setters!("add_job_data([])");

    /// The JSON body as it will be signed and sent (before encryption).
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// let push = client.add_job_data([]).conn_key("c-1");
    /// assert_eq!(serde_json::to_string(push.body()).unwrap(), r#"{"conn_key":"c-1","job_data_list":[]}"#);
    /// ```
    pub fn body(&self) -> &JobDataBody {
        &self.body
    }

    /// Signs and sends the push, verifies (and decrypts) the answer and parses it. A `sub_code`
    /// in the answer is [`Error::Business`]. It is not repeated after an attempt that may have
    /// been taken (timeout, lost connection, 5xx).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client, list: Vec<jobworth::family::JobWorthJobdata>) -> Result<(), jobworth::Error> {
    /// let added = client.add_job_data(list).conn_key("conn-7f3c1e2a").send().await?;
    /// # let _ = added; Ok(()) }
    /// ```
    pub async fn send(self) -> Result<JobDataAdded, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.add_job_data([]).send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(JobDataAdded, crate::Receipt), Error> {
        let json = super::to_json(&self.body)?;
        let call = super::call(&job_data::ENDPOINT, Vec::new(), Some(json), self.options);
        super::send(&self.client, call).await
    }
}
