//! `POST /v3/zhima/customer/jobworth/position/add` (职得岗位发布): a job posting
//! (`jobworth_position_info`).

use crate::family::{lenient, outcome_fields, wire_model, Endpoint, Verb};
use crate::ErrorCode;

/// The v3 path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/position/add";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.customer.jobworth.position.add";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint =
    Endpoint { verb: Verb::Post, path: PATH, method: METHOD, error_codes: &[ErrorCode::InvalidParameter] };

wire_model! {
    /// The JSON body.
    PositionBody {
        /// `jobworth_position_info`: the posting.
        jobworth_position_info: JobWorthPositionInfo,
    }
}

wire_model! {
    /// A job posting.
    JobWorthPositionInfo {
        /// `age`.
        age: String,
        /// `benefit`.
        benefit: String,
        /// `certifications`.
        certifications: String,
        /// `company_certificate`: the company's registration (certificate) number.
        company_certificate: String,
        /// `company_logo_afts_id`: the stored id of the company's logo.
        company_logo_afts_id: String,
        /// `company_name`.
        company_name: String,
        /// `count`: how many people are hired.
        #[serde(deserialize_with = "lenient::int")]
        count: i64,
        /// `education`.
        education: String,
        /// `gender`.
        gender: String,
        /// `ka_position_id`: the merchant's own id of the position.
        ka_position_id: String,
        /// `position_desc`.
        position_desc: String,
        /// `position_id`.
        position_id: String,
        /// `position_job_id`.
        position_job_id: String,
        /// `position_job_name`.
        position_job_name: String,
        /// `position_profession_id`.
        position_profession_id: String,
        /// `position_property`: full-time, part-time, ….
        position_property: String,
        /// `position_status`.
        position_status: String,
        /// `position_title`.
        position_title: String,
        /// `salary_max`.
        salary_max: String,
        /// `salary_min`.
        salary_min: String,
        /// `salary_type`.
        salary_type: String,
        /// `salary_unit`.
        salary_unit: String,
        /// `skill_tag`.
        skill_tag: String,
        /// `skip_url`: where the posting's link goes.
        skip_url: String,
        /// `work_city`.
        work_city: String,
        /// `work_longitude`: the workplace's longitude.
        work_longitude: String,
        /// `work_region`.
        work_region: String,
        /// `work_year`.
        work_year: String,
    }
}

wire_model! {
    /// The answer.
    PositionAdded {
        /// `position_id`: the posting's id at Alipay.
        position_id: String,
        /// `sub_code`: the business outcome when the posting was not taken.
        sub_code: ErrorCode,
        /// `sub_msg`: the text of `sub_code`.
        sub_msg: String,
    }
}

outcome_fields!(PositionAdded);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Outcome;

    #[test]
    fn body_round_trips_with_wire_names() {
        let all = JobWorthPositionInfo {
            age: Some(String::new()),
            benefit: Some(String::new()),
            certifications: Some(String::new()),
            company_certificate: Some(String::new()),
            company_logo_afts_id: Some(String::new()),
            company_name: Some(String::new()),
            count: Some(3),
            education: Some(String::new()),
            gender: Some(String::new()),
            ka_position_id: Some(String::new()),
            position_desc: Some(String::new()),
            position_id: Some(String::new()),
            position_job_id: Some(String::new()),
            position_job_name: Some(String::new()),
            position_profession_id: Some(String::new()),
            position_property: Some(String::new()),
            position_status: Some(String::new()),
            position_title: Some(String::new()),
            salary_max: Some(String::new()),
            salary_min: Some(String::new()),
            salary_type: Some(String::new()),
            salary_unit: Some(String::new()),
            skill_tag: Some(String::new()),
            skip_url: Some(String::new()),
            work_city: Some(String::new()),
            work_longitude: Some(String::new()),
            work_region: Some(String::new()),
            work_year: Some(String::new()),
        };
        let v = serde_json::to_string(&all).unwrap();
        assert_eq!(crate::family::field_names(&v).join(" "), "age benefit certifications company_certificate company_logo_afts_id company_name count education gender ka_position_id position_desc position_id position_job_id position_job_name position_profession_id position_property position_status position_title salary_max salary_min salary_type salary_unit skill_tag skip_url work_city work_longitude work_region work_year");
        let wire = r#"{"jobworth_position_info":{"company_name":"某中学","count":3,"position_title":"数学教师","salary_max":"20000","work_city":"110100"}}"#;
        let b: PositionBody = serde_json::from_str(wire).unwrap();
        assert_eq!(b.jobworth_position_info.as_ref().unwrap().count, Some(3));
        assert_eq!(serde_json::to_string(&b).unwrap(), wire);
        let text: PositionBody = serde_json::from_str(r#"{"jobworth_position_info":{"count":"2","x":0}}"#).unwrap();
        assert_eq!(serde_json::to_string(&text).unwrap(), r#"{"jobworth_position_info":{"count":2}}"#);
    }

    #[test]
    fn answer_exposes_its_outcome() {
        let wire = r#"{"position_id":"pos1"}"#;
        let a: PositionAdded = serde_json::from_str(wire).unwrap();
        assert_eq!(a.position_id.as_deref(), Some("pos1"));
        assert_eq!(a.sub_code(), None);
        assert_eq!(serde_json::to_string(&a).unwrap(), wire);
        let refused: PositionAdded =
            serde_json::from_str(r#"{"sub_code":"INVALID_PARAMETER","sub_msg":"position_title"}"#).unwrap();
        assert_eq!(refused.sub_code(), Some(&ErrorCode::InvalidParameter));
        assert_eq!(refused.sub_msg(), Some("position_title"));
    }
}
