//! `GET /v3/zhima/customer/jobworth/info/query` (职得工作证信息查询): the work card of a user, as
//! links and display flags.

use crate::family::{lenient, outcome_fields, query_model, wire_model, Endpoint, QueryValue, Verb};
use crate::values::wire_enum;
use crate::{CertType, ErrorCode};

/// The v3 path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/info/query";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.customer.jobworth.info.query";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint = Endpoint {
    verb: Verb::Get,
    path: PATH,
    method: METHOD,
    error_codes: &[
        ErrorCode::InvalidParameter,
        ErrorCode::SystemError,
        ErrorCode::BlackControl,
        ErrorCode::JobIdNotMatch,
        ErrorCode::ConfigErrorWithoutServiceId,
        ErrorCode::UserNotAuthorize,
        ErrorCode::IllegalArgument,
    ],
};

wire_enum! {
    /// `visitor_type`: who looks at the work card, `C` or `P` as documented.
    ///
    /// ```
    /// use jobworth_wire::family::work_card::VisitorType;
    /// assert_eq!(VisitorType::from("C"), VisitorType::Company);
    /// assert_eq!(VisitorType::from("X").as_str(), "X");
    /// ```
    VisitorType {
        /// `C`: a company (the recruiter's organisation).
        Company = "C",
        /// `P`: a person.
        Person = "P",
    }
}

impl QueryValue for VisitorType {
    fn to_query(&self) -> String {
        self.as_str().to_string()
    }
}

query_model! {
    /// The query parameters, in the order the official SDKs send them. The user is named by
    /// `user_id`/`open_id` or by `cert_no` + `cert_type`; when both are sent, the uid wins.
    /// `Debug` hides `cert_no` and `user_name`.
    ///
    /// ```
    /// use jobworth_wire::family::work_card::WorkCardParams;
    /// let p = WorkCardParams { user_id: Some("2088000000000001".into()), has_button: Some(true), ..Default::default() };
    /// assert_eq!(p.pairs(), [("user_id", "2088000000000001".to_string()), ("has_button", "true".to_string())]);
    /// ```
    WorkCardParams {
        /// `user_name`: the user's name.
        user_name: String as redacted,
        /// `conn_key`: the `out_agreement_no` of step 1.
        conn_key: String,
        /// `cert_no`: the user's ID number (with `cert_type`).
        cert_no: String as redacted,
        /// `user_id`: the user's member id (2088…).
        user_id: String,
        /// `open_id`: the user's per-app OpenID.
        open_id: String,
        /// `back_url`: where the work-card page returns to.
        back_url: String,
        /// `cert_type`: the kind of ID document in `cert_no`.
        cert_type: CertType,
        /// `ka_visitor_id`: the merchant's id of the visitor.
        ka_visitor_id: String,
        /// `visitor_type`: `C` or `P`.
        visitor_type: VisitorType,
        /// `visitor_name`: the visitor's name.
        visitor_name: String,
        /// `company_certificate`: the visiting company's certificate (registration) number.
        company_certificate: String,
        /// `visitor_url`: a link about the visitor.
        visitor_url: String,
        /// `has_button`: show the card's button.
        #[serde(deserialize_with = "lenient::flag")]
        has_button: bool,
        /// `has_number`: show the card's number.
        #[serde(deserialize_with = "lenient::flag")]
        has_number: bool,
        /// `has_qr_code`: show the card's QR code.
        #[serde(deserialize_with = "lenient::flag")]
        has_qr_code: bool,
        /// `has_html`: answer with an `html_url` too.
        #[serde(deserialize_with = "lenient::flag")]
        has_html: bool,
        /// `job_id`: the job the card is shown for.
        job_id: String,
        /// `industry_id`: the industry the card is shown for.
        industry_id: String,
        /// `cloud_resume_scene`: the résumé scene the card is part of.
        cloud_resume_scene: String,
    }
}

impl WorkCardParams {
    /// Which identifier the gateway will use: the uid (`user_id`, else `open_id`) when one is
    /// set, else `cert_no` + `cert_type`; `None` when the parameters name no user.
    ///
    /// ```
    /// use jobworth_wire::family::work_card::{UserIdentifier, WorkCardParams};
    /// let p = WorkCardParams { open_id: Some("074a".into()), cert_no: Some("x".into()), ..Default::default() };
    /// assert_eq!(p.identifier(), Some(UserIdentifier::OpenId));
    /// ```
    pub fn identifier(&self) -> Option<UserIdentifier> {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        if set(&self.user_id) {
            Some(UserIdentifier::UserId)
        } else if set(&self.open_id) {
            Some(UserIdentifier::OpenId)
        } else if set(&self.cert_no) {
            Some(UserIdentifier::Cert)
        } else {
            None
        }
    }
}

/// How a request names its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserIdentifier {
    /// `user_id` (2088…).
    UserId,
    /// `open_id`.
    OpenId,
    /// `cert_no` + `cert_type`.
    Cert,
}

impl UserIdentifier {
    /// The parameter name(s): `"user_id"`, `"open_id"` or `"cert_no+cert_type"`.
    ///
    /// ```
    /// use jobworth_wire::family::work_card::UserIdentifier;
    /// assert_eq!(UserIdentifier::Cert.as_str(), "cert_no+cert_type");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            UserIdentifier::UserId => "user_id",
            UserIdentifier::OpenId => "open_id",
            UserIdentifier::Cert => "cert_no+cert_type",
        }
    }
}

wire_model! {
    /// The answer: links to the user's work card. A `sub_code` (e.g. `USER_NOT_OPEN_ZHIMA`) says
    /// the card could not be shown.
    WorkCardInfo {
        /// `acceptance_id`: the acceptance-desk order number (a JSAPI parameter).
        acceptance_id: String,
        /// `auth_token`: the token of the user's authorisation.
        auth_token: String,
        /// `html_url`: the card as an HTML page (with `has_html`).
        html_url: String,
        /// `picture_url`: the card as a picture.
        picture_url: String,
        /// `scene_result`: whether the scene applies to the user.
        #[serde(deserialize_with = "lenient::flag")]
        scene_result: bool,
        /// `sub_code`: the business outcome when the card could not be shown.
        sub_code: ErrorCode,
        /// `sub_msg`: the text of `sub_code`.
        sub_msg: String,
        /// `update_url`: where the user updates the card.
        update_url: String,
        /// `url`: the card's page.
        url: String,
    }
}

outcome_fields!(WorkCardInfo);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Outcome;

    #[test]
    fn params_keep_the_official_order_and_read_back() {
        let p = WorkCardParams {
            cloud_resume_scene: Some("s".into()),
            user_id: Some("2088000000000001".into()),
            cert_no: Some("110101199003070011".into()),
            cert_type: Some(CertType::IdCard),
            conn_key: Some("c1".into()),
            user_name: Some("张三".into()),
            has_html: Some(false),
            has_button: Some(true),
            visitor_type: Some(VisitorType::Company),
            ..Default::default()
        };
        let names: Vec<&str> = p.pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "user_name",
                "conn_key",
                "cert_no",
                "user_id",
                "cert_type",
                "visitor_type",
                "has_button",
                "has_html",
                "cloud_resume_scene"
            ]
        );
        assert_eq!(p.identifier(), Some(UserIdentifier::UserId));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"user_name":"张三","conn_key":"c1","cert_no":"110101199003070011","user_id":"2088000000000001","cert_type":"0","visitor_type":"C","has_button":true,"has_html":false,"cloud_resume_scene":"s"}"#
        );
        assert_eq!(serde_json::from_str::<WorkCardParams>(&json).unwrap(), p);
        // Query values arrive as strings.
        let from_text: WorkCardParams =
            serde_json::from_str(r#"{"has_button":"true","has_number":"false","visitor_type":"Q"}"#).unwrap();
        assert_eq!(from_text.has_button, Some(true));
        assert_eq!(from_text.has_number, Some(false));
        assert_eq!(from_text.visitor_type, Some(VisitorType::Other("Q".into())));
        assert_eq!(from_text.identifier(), None);
    }

    #[test]
    fn debug_hides_the_id_number_and_name() {
        let p = WorkCardParams {
            cert_no: Some("110101199003070011".into()),
            user_name: Some("张三".into()),
            ..Default::default()
        };
        let d = format!("{p:?}");
        assert!(!d.contains("110101199003070011") && !d.contains("张三"), "{d}");
        assert!(d.contains("cert_no: Some(\"<redacted>\")"), "{d}");
        assert_eq!(p.identifier(), Some(UserIdentifier::Cert));
    }

    #[test]
    fn answer_round_trips_and_tolerates_unknown_fields() {
        let wire = r#"{"acceptance_id":"a1","auth_token":"t","html_url":"https://h","picture_url":"https://p","scene_result":true,"sub_code":"USER_NOT_OPEN_ZHIMA","sub_msg":"用户没有开通芝麻","update_url":"https://u","url":"https://c"}"#;
        let a: WorkCardInfo = serde_json::from_str(wire).unwrap();
        assert_eq!(a.scene_result, Some(true));
        assert_eq!(a.sub_code(), Some(&ErrorCode::UserNotOpenZhima));
        assert_eq!(a.sub_msg(), Some("用户没有开通芝麻"));
        assert_eq!(serde_json::to_string(&a).unwrap(), wire);
        let b: WorkCardInfo = serde_json::from_str(r#"{"url":"https://c","brand_new":{"x":1}}"#).unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"url":"https://c"}"#);
        assert_eq!(b.sub_code(), None);
    }
}
