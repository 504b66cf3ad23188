//! `POST /v3/zhima/customer/jobworth/jobdata/add` (职得工作证数据回传): job data the merchant
//! pushes back for a user (`job_data_list`).

use crate::family::{lenient, outcome_fields, wire_model, Endpoint, Verb};
use crate::{CertType, ErrorCode};

/// The v3 path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/jobdata/add";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.customer.jobworth.jobdata.add";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint = Endpoint {
    verb: Verb::Post,
    path: PATH,
    method: METHOD,
    error_codes: &[ErrorCode::InvalidParameter, ErrorCode::SystemError, ErrorCode::IllegalArgument],
};

wire_model! {
    /// The JSON body. `Debug` hides `cert_no` and `user_name`.
    JobDataBody {
        /// `cert_no`: the user's ID number (with `cert_type`).
        cert_no: String as redacted,
        /// `cert_type`: the kind of ID document in `cert_no`.
        cert_type: CertType,
        /// `conn_key`: the key the acceptance desk returned.
        conn_key: String,
        /// `job_data_list`: the records.
        job_data_list: Vec<JobWorthJobdata>,
        /// `open_id`: the user's per-app OpenID.
        open_id: String,
        /// `user_id`: the user's member id (2088…).
        user_id: String,
        /// `user_name`: the user's name.
        user_name: String as redacted,
    }
}

wire_model! {
    /// One record of job data: an application, a job, a school, a certificate, a skill, … as
    /// `type` says; the fields that apply to it are set.
    JobWorthJobdata {
        /// `certificate_grant_institution`: who granted the certificate.
        certificate_grant_institution: String,
        /// `certificate_id`.
        certificate_id: String,
        /// `certificate_level`.
        certificate_level: String,
        /// `certificate_name`.
        certificate_name: String,
        /// `certificate_pic_id`: the `pic_id` of an uploaded picture of the certificate.
        certificate_pic_id: String,
        /// `company_name`.
        company_name: String,
        /// `degree`.
        degree: String,
        /// `delivery_position_id`: the position an application went to.
        delivery_position_id: String,
        /// `delivery_time`: when the application was made.
        #[serde(deserialize_with = "lenient::int")]
        delivery_time: i64,
        /// `education_status`.
        education_status: String,
        /// `entry_no`.
        entry_no: String,
        /// `exam_score`.
        exam_score: String,
        /// `head_pic_id`: the `pic_id` of an uploaded photo.
        head_pic_id: String,
        /// `intention_city`.
        intention_city: String,
        /// `intention_city_name`.
        intention_city_name: String,
        /// `issue_date`.
        issue_date: String,
        /// `job_id`.
        job_id: String,
        /// `job_name`.
        job_name: String,
        /// `ka_job_id`: the merchant's own job id.
        ka_job_id: String,
        /// `ka_job_name`: the merchant's own job name.
        ka_job_name: String,
        /// `ka_profession_id`: the merchant's own profession id.
        ka_profession_id: String,
        /// `ka_profession_name`: the merchant's own profession name.
        ka_profession_name: String,
        /// `location`.
        location: String,
        /// `month`.
        month: String,
        /// `once_token`: the single-use token of the authorisation the data belongs to.
        once_token: String,
        /// `profession_id`.
        profession_id: String,
        /// `profession_name`.
        profession_name: String,
        /// `salary_max`.
        salary_max: String,
        /// `salary_min`.
        salary_min: String,
        /// `salary_unit`.
        salary_unit: String,
        /// `school_name`.
        school_name: String,
        /// `skill_name`.
        skill_name: String,
        /// `start_time`.
        start_time: String,
        /// `type`: which kind of record this is.
        #[serde(rename = "type")]
        data_type: String,
        /// `valid_date_end`.
        valid_date_end: String,
        /// `valid_date_start`.
        valid_date_start: String,
        /// `verify_status`.
        verify_status: String,
        /// `work_desc`.
        work_desc: String,
        /// `work_end_time`.
        work_end_time: String,
        /// `work_place`.
        work_place: String,
        /// `work_property`: full-time, part-time, ….
        work_property: String,
        /// `work_start_time`.
        work_start_time: String,
        /// `year`.
        year: String,
    }
}

wire_model! {
    /// The answer.
    JobDataAdded {
        /// `acceptance_id`: the acceptance-desk order number.
        acceptance_id: String,
        /// `sub_code`: the business outcome when the data was not taken.
        sub_code: ErrorCode,
        /// `sub_msg`: the text of `sub_code`.
        sub_msg: String,
        /// `url`: where the user sees the data.
        url: String,
    }
}

outcome_fields!(JobDataAdded);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Outcome;

    #[test]
    fn body_round_trips_with_wire_names() {
        let wire = r#"{"cert_no":"110101199003070011","cert_type":"0","conn_key":"c1","job_data_list":[{"company_name":"某中学","delivery_time":1700000000,"job_name":"教师","type":"WORK","work_start_time":"2012-09"},{"skill_name":"教学","type":"SKILL"}],"user_name":"张三"}"#;
        let b: JobDataBody = serde_json::from_str(wire).unwrap();
        let list = b.job_data_list.as_ref().unwrap();
        assert_eq!(list[0].data_type.as_deref(), Some("WORK"));
        assert_eq!(list[0].delivery_time, Some(1_700_000_000));
        assert_eq!(b.cert_type, Some(CertType::IdCard));
        assert_eq!(serde_json::to_string(&b).unwrap(), wire);
        let d = format!("{b:?}");
        assert!(!d.contains("110101199003070011") && !d.contains("张三"), "{d}");
    }

    #[test]
    fn every_field_has_its_wire_name() {
        let all = JobWorthJobdata {
            certificate_grant_institution: Some(String::new()),
            certificate_id: Some(String::new()),
            certificate_level: Some(String::new()),
            certificate_name: Some(String::new()),
            certificate_pic_id: Some(String::new()),
            company_name: Some(String::new()),
            degree: Some(String::new()),
            delivery_position_id: Some(String::new()),
            delivery_time: Some(1),
            education_status: Some(String::new()),
            entry_no: Some(String::new()),
            exam_score: Some(String::new()),
            head_pic_id: Some(String::new()),
            intention_city: Some(String::new()),
            intention_city_name: Some(String::new()),
            issue_date: Some(String::new()),
            job_id: Some(String::new()),
            job_name: Some(String::new()),
            ka_job_id: Some(String::new()),
            ka_job_name: Some(String::new()),
            ka_profession_id: Some(String::new()),
            ka_profession_name: Some(String::new()),
            location: Some(String::new()),
            month: Some(String::new()),
            once_token: Some(String::new()),
            profession_id: Some(String::new()),
            profession_name: Some(String::new()),
            salary_max: Some(String::new()),
            salary_min: Some(String::new()),
            salary_unit: Some(String::new()),
            school_name: Some(String::new()),
            skill_name: Some(String::new()),
            start_time: Some(String::new()),
            data_type: Some(String::new()),
            valid_date_end: Some(String::new()),
            valid_date_start: Some(String::new()),
            verify_status: Some(String::new()),
            work_desc: Some(String::new()),
            work_end_time: Some(String::new()),
            work_place: Some(String::new()),
            work_property: Some(String::new()),
            work_start_time: Some(String::new()),
            year: Some(String::new()),
        };
        let v = serde_json::to_string(&all).unwrap();
        assert_eq!(crate::family::field_names(&v).join(" "), "certificate_grant_institution certificate_id certificate_level certificate_name certificate_pic_id company_name degree delivery_position_id delivery_time education_status entry_no exam_score head_pic_id intention_city intention_city_name issue_date job_id job_name ka_job_id ka_job_name ka_profession_id ka_profession_name location month once_token profession_id profession_name salary_max salary_min salary_unit school_name skill_name start_time type valid_date_end valid_date_start verify_status work_desc work_end_time work_place work_property work_start_time year");
        assert_eq!(serde_json::from_str::<JobWorthJobdata>(&v).unwrap(), all);
    }

    #[test]
    fn answer_exposes_its_outcome() {
        let wire = r#"{"acceptance_id":"a1","sub_code":"ILLEGAL_ARGUMENT","sub_msg":"bad","url":"https://u"}"#;
        let a: JobDataAdded = serde_json::from_str(wire).unwrap();
        assert_eq!(a.sub_code(), Some(&ErrorCode::IllegalArgument));
        assert_eq!(serde_json::to_string(&a).unwrap(), wire);
        let ok: JobDataAdded = serde_json::from_str(r#"{"acceptance_id":"a1","later":true}"#).unwrap();
        assert_eq!(ok.sub_code(), None);
    }
}
