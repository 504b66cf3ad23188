//! The other endpoints of the Jobworth product family, typed: one builder per operation, each
//! ending in `.send().await`.
//!
//! | operation | builder | answer |
//! |---|---|---|
//! | `GET …/jobworth/info/query` | [`Client::work_card_info`] | [`WorkCardInfo`] |
//! | `GET …/jobworth/cloudresume/query` | [`Client::cloud_resume`] | [`CloudResume`] |
//! | `POST …/jobworth/jobdata/add` | [`Client::add_job_data`] | [`JobDataAdded`] |
//! | `POST …/jobworth/picture/upload` | [`Client::upload_picture`] | [`PictureUploaded`] |
//! | `POST …/jobworth/position/add` | [`Client::add_position`] | [`PositionAdded`] |
//! | `GET …/payafteruse/creditagreement/query` | [`Client::credit_agreement`] | [`CreditAgreement`] |
//!
//! Every answer is verified (and decrypted) like the query's. A verified 200 answer that carries
//! a `sub_code` did not do what was asked: it is [`Error::Business`], with the answer kept.
//! The checks the documentation states run before anything is sent (a picture's size and
//! format; exactly one agreement number); a failure is [`Error::NotSent`].
//!
//! The models are those of [`jobworth_wire::family`], re-exported here.

use std::fmt;
use std::time::Duration;

use http::Method;
use jobworth_wire::family::{Endpoint, SubStatus, Verb};
use serde::de::DeserializeOwned;

use crate::client::{Call, Client, Retry};
use crate::error::{json_error_text, BusinessError, ConfigError, Error};
use crate::request::RawResponse;
use crate::Receipt;

mod cloud_resume;
mod credit_agreement;
mod job_data;
mod picture;
mod position;
mod work_card;

pub use cloud_resume::CloudResumeQuery;
pub use credit_agreement::CreditAgreementQuery;
pub use job_data::JobDataAdd;
pub use jobworth_wire::family::cloud_resume::{
    CloudResume, CloudResumeCertificateInfo, CloudResumeEducationExperience, CloudResumeHeadPic,
    CloudResumePositionIntention, CloudResumeSkillInfo, CloudResumeWorkExperience,
};
pub use jobworth_wire::family::credit_agreement::{AgreementStatus, CreditAgreement};
pub use jobworth_wire::family::job_data::{JobDataAdded, JobWorthJobdata};
pub use jobworth_wire::family::picture::{PicType, PictureError, PictureFormat, PictureUploaded, MAX_PICTURE_BYTES};
pub use jobworth_wire::family::position::{JobWorthPositionInfo, PositionAdded};
pub use jobworth_wire::family::work_card::{UserIdentifier, VisitorType, WorkCardInfo};
pub use jobworth_wire::family::Outcome;
pub use picture::{PictureCheckError, PictureContent, PictureUpload};
pub use position::PositionAdd;
pub use work_card::WorkCardInfoQuery;

/// What every family builder can set besides its parameters.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub app_auth_token: Option<String>,
    pub timeout: Option<Duration>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("app_auth_token", &self.app_auth_token.as_deref().map(alipay_v3::mask))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A builder method with its doc and a compiled example calling it: `client.$new.$call`.
macro_rules! documented {
    (
        $new:literal, ($($call:tt)*),
        [$(#[$doc:meta])*]
        $vis:vis fn $name:ident($($args:tt)*) -> $ret:ty $body:block
    ) => {
        $(#[$doc])*
        ///
        /// ```
        /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
        /// # let client = jobworth::Client::builder().app_id("1").private_key(key.clone())
        /// #     .alipay_public_key(key.public_key()).build().unwrap();
        #[doc = concat!("let builder = client.", $new, ".", $($call)*, ";")]
        /// # drop(builder);
        /// ```
        $vis fn $name($($args)*) -> $ret $body
    };
}
pub(crate) use documented;

/// The setters of [`Options`], the same on every family builder (`$new` starts one).
macro_rules! option_setters {
    ($new:literal) => {
        $crate::family::documented! { $new, ("app_auth_token(\"201909BB…\")"),
            [
            /// ISV `app_auth_token` for this call (overrides the client's).
            ]
            pub fn app_auth_token(mut self, v: impl Into<String>) -> Self {
                self.options.app_auth_token = Some(v.into());
                self
            }
        }

        $crate::family::documented! { $new, ("timeout(std::time::Duration::from_secs(3))"),
            [
            /// Per-attempt timeout for this call (overrides the client's).
            ]
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.options.timeout = Some(timeout);
                self
            }
        }
    };
}
pub(crate) use option_setters;

/// Setters of string fields of `self.$part`, one per field of the same name.
macro_rules! text_setters {
    ($new:literal, $part:ident; $($(#[$doc:meta])* $field:ident),+ $(,)?) => {$(
        $crate::family::documented! { $new, (concat!(stringify!($field), "(\"…\")")),
            [$(#[$doc])*]
            pub fn $field(mut self, v: impl Into<String>) -> Self {
                self.$part.$field = Some(v.into());
                self
            }
        }
    )+};
}
pub(crate) use text_setters;

/// Setters of flag fields of `self.$part`.
macro_rules! flag_setters {
    ($new:literal, $part:ident; $($(#[$doc:meta])* $field:ident),+ $(,)?) => {$(
        $crate::family::documented! { $new, (concat!(stringify!($field), "(true)")),
            [$(#[$doc])*]
            pub fn $field(mut self, on: bool) -> Self {
                self.$part.$field = Some(on);
                self
            }
        }
    )+};
}
pub(crate) use flag_setters;

/// `cert_type` and `cert` setters on `self.$part` (whose `cert_no` has a text setter).
macro_rules! cert_setters {
    ($new:literal, $part:ident) => {
        $crate::family::documented! { $new, ("cert_type(jobworth::CertType::IdCard)"),
            [
            /// `cert_type` alone.
            ]
            pub fn cert_type(mut self, v: impl Into<$crate::CertType>) -> Self {
                self.$part.cert_type = Some(v.into());
                self
            }
        }

        $crate::family::documented! { $new, ("cert(jobworth::CertType::IdCard, \"110105200002290021\")"),
            [
            /// `cert_type` and `cert_no` together: name the user by ID document.
            ]
            pub fn cert(self, cert_type: impl Into<$crate::CertType>, cert_no: impl Into<String>) -> Self {
                self.cert_type(cert_type).cert_no(cert_no)
            }
        }
    };
}
pub(crate) use cert_setters;

/// How a family call may be repeated: a `GET` reads, so any failed attempt may be; a `POST`
/// adds something, so an attempt that may have taken effect (no answer, or 408/429/5xx) is not.
fn retry_for(verb: Verb) -> Retry {
    match verb {
        Verb::Get => Retry::generic(true),
        Verb::Post => Retry { unanswered: false, ambiguous_answers: false },
    }
}

/// One family call before signing: the endpoint, its parameters or body, the options.
pub(crate) fn call(endpoint: &Endpoint, query: Vec<(&'static str, String)>, json: Option<String>, o: Options) -> Call {
    Call {
        method: match endpoint.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        },
        path: endpoint.path.to_string(),
        query: query.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        json,
        encrypt: None,
        app_auth_token: o.app_auth_token,
        timeout: o.timeout,
        max_retries: None,
        retry: retry_for(endpoint.verb),
    }
}

/// The JSON text of a body (compact, in the model's field order).
pub(crate) fn to_json(body: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(body).map_err(|_| {
        Error::Config(ConfigError::Invalid { what: "request body", reason: "cannot be serialised as JSON" })
    })
}

/// Sends a family call and reads its answer (see [`read`]), with the answer's receipt.
pub(crate) async fn send<T: DeserializeOwned + Outcome>(client: &Client, call: Call) -> Result<(T, Receipt), Error> {
    let raw = client.execute(call).await?;
    read(&raw).map(|answer| (answer, Receipt::clone(&raw.receipt)))
}

/// Reads a verified answer: a 200 whose `sub_code` is set is [`Error::Business`]; otherwise the
/// model.
pub(crate) fn read<T: DeserializeOwned + Outcome>(raw: &RawResponse) -> Result<T, Error> {
    if !raw.status.is_success() {
        return Err(raw.decode_error(format!("expected HTTP 200, got {}", raw.status)));
    }
    // Read apart from the model, so that an endpoint whose model has no sub_code still shows one.
    let status: SubStatus = serde_json::from_slice(&raw.body)
        .map_err(|e| raw.decode_error(format!("not a JSON object: {}", json_error_text(&e))))?;
    if let Some(code) = status.sub_code.filter(|c| !c.as_str().is_empty()) {
        tracing::info!(sub_code = %code, "answer carries a business outcome");
        return Err(Error::from(BusinessError::new(
            code,
            status.sub_msg.as_deref(),
            raw.response_info(),
            raw.body.clone(),
        )));
    }
    serde_json::from_slice::<T>(&raw.body).map_err(|e| raw.decode_error(json_error_text(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_are_not_repeated_after_an_attempt_that_may_have_taken_effect() {
        assert_eq!(retry_for(Verb::Get), Retry { unanswered: true, ambiguous_answers: true });
        assert_eq!(retry_for(Verb::Post), Retry { unanswered: false, ambiguous_answers: false });
    }
}
