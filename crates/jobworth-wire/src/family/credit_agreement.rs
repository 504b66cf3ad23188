//! `GET /v3/zhima/credit/payafteruse/creditagreement/query` (芝麻先享信用服务协议查询): the
//! step-1 agreement, by `out_agreement_no` (the `conn_key`) or `credit_agreement_id`.

use crate::family::{no_outcome_fields, query_model, wire_model, Endpoint, Verb};
use crate::values::wire_enum;
use crate::ErrorCode;

/// The v3 path.
pub const PATH: &str = "/v3/zhima/credit/payafteruse/creditagreement/query";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.credit.payafteruse.creditagreement.query";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint = Endpoint {
    verb: Verb::Get,
    path: PATH,
    method: METHOD,
    error_codes: &[
        ErrorCode::SystemError,
        ErrorCode::BizError,
        ErrorCode::ExtraParamFormatError,
        ErrorCode::InvalidParameter,
        ErrorCode::CreditAuthNotExist,
        ErrorCode::IllegalQuery,
        ErrorCode::CreditAgreementNotExist,
        ErrorCode::DependFailure,
    ],
};

query_model! {
    /// The query parameters, in the order the official SDKs send them. Exactly one of the two
    /// names the agreement.
    ///
    /// ```
    /// use jobworth_wire::family::credit_agreement::CreditAgreementParams;
    /// let p = CreditAgreementParams { out_agreement_no: Some("c1".into()), ..Default::default() };
    /// assert_eq!(p.pairs(), [("out_agreement_no", "c1".to_string())]);
    /// ```
    CreditAgreementParams {
        /// `out_agreement_no`: the merchant's agreement number (the `conn_key` of step 1).
        out_agreement_no: String,
        /// `credit_agreement_id`: Zhima's agreement id.
        credit_agreement_id: String,
    }
}

wire_enum! {
    /// `agreement_status`: whether the agreement is in force.
    ///
    /// ```
    /// use jobworth_wire::family::credit_agreement::AgreementStatus;
    /// assert_eq!(AgreementStatus::from("VALID"), AgreementStatus::Valid);
    /// assert_eq!(AgreementStatus::from("FROZEN").as_str(), "FROZEN");
    /// ```
    AgreementStatus {
        /// `VALID`: the user signed it and it is in force.
        Valid = "VALID",
        /// `INVALID`: it is no longer in force (cancelled or ended).
        Invalid = "INVALID",
    }
}

wire_model! {
    /// The answer.
    CreditAgreement {
        /// `agreement_status`.
        agreement_status: AgreementStatus,
        /// `alipay_user_id`: the user who signed (2088…).
        alipay_user_id: String,
        /// `biz_time`: when the status was last changed.
        biz_time: String,
        /// `credit_agreement_id`: Zhima's agreement id.
        credit_agreement_id: String,
        /// `ext_info`: extra information (a JSON string).
        ext_info: String,
        /// `open_id`: the user's per-app OpenID.
        open_id: String,
        /// `out_agreement_no`: the merchant's agreement number.
        out_agreement_no: String,
    }
}

no_outcome_fields!(CreditAgreement);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_the_official_order() {
        let p = CreditAgreementParams { credit_agreement_id: Some("z1".into()), out_agreement_no: Some("c1".into()) };
        assert_eq!(p.pairs(), [("out_agreement_no", "c1".to_string()), ("credit_agreement_id", "z1".to_string())]);
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"out_agreement_no":"c1","credit_agreement_id":"z1"}"#);
    }

    #[test]
    fn answer_round_trips_and_keeps_unknown_statuses() {
        let wire = r#"{"agreement_status":"VALID","alipay_user_id":"2088000000000001","biz_time":"2024-01-01 10:00:00","credit_agreement_id":"z1","ext_info":"{}","open_id":"074a","out_agreement_no":"c1"}"#;
        let a: CreditAgreement = serde_json::from_str(wire).unwrap();
        assert_eq!(a.agreement_status, Some(AgreementStatus::Valid));
        assert_eq!(serde_json::to_string(&a).unwrap(), wire);
        let b: CreditAgreement = serde_json::from_str(r#"{"agreement_status":"FROZEN","new":1}"#).unwrap();
        assert_eq!(b.agreement_status, Some(AgreementStatus::Other("FROZEN".into())));
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"agreement_status":"FROZEN"}"#);
        assert_eq!(serde_json::from_str::<AgreementStatus>(r#""INVALID""#).unwrap(), AgreementStatus::Invalid);
    }
}
