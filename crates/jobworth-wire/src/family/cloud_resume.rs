//! `GET /v3/zhima/customer/jobworth/cloudresume/query` (职得云简历查询): the user's cloud
//! résumé, by the `conn_key` and the single-use `once_token` of the authorisation (valid for
//! five minutes after it).

use crate::family::{lenient, no_outcome_fields, query_model, wire_model, Endpoint, Verb};
use crate::ErrorCode;

/// The v3 path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/cloudresume/query";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.customer.jobworth.cloudresume.query";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint = Endpoint {
    verb: Verb::Get,
    path: PATH,
    method: METHOD,
    error_codes: &[
        ErrorCode::UserNotAuthorize,
        ErrorCode::QueryDataIsNull,
        ErrorCode::SystemError,
        ErrorCode::InvalidParameter,
        ErrorCode::ZmSystemError,
        ErrorCode::UserNotOpenZhima,
        ErrorCode::AppInvokeDegrade,
    ],
};

/// What a `once_token` answers once its résumé was read or its five minutes are over: the
/// endpoint documents no `TOKEN_INVALID`, and a token that no longer authorizes the read is the
/// user's authorization gone. The sandbox answers it and the client expects it.
pub const SPENT_TOKEN: ErrorCode = ErrorCode::UserNotAuthorize;

query_model! {
    /// The query parameters, in the order the official SDKs send them.
    ///
    /// ```
    /// use jobworth_wire::family::cloud_resume::CloudResumeParams;
    /// let p = CloudResumeParams { conn_key: Some("c1".into()), once_token: Some("t1".into()) };
    /// assert_eq!(p.pairs(), [("conn_key", "c1".to_string()), ("once_token", "t1".to_string())]);
    /// ```
    CloudResumeParams {
        /// `conn_key`: the `out_agreement_no` of step 1.
        conn_key: String,
        /// `once_token`: the single-use token of the authorisation.
        once_token: String as redacted,
    }
}

wire_model! {
    /// The résumé. `Debug` hides the contact details (`phone`, `email`).
    CloudResume {
        /// `birthday`.
        birthday: String,
        /// `certificates`: certificates the user holds.
        certificates: Vec<CloudResumeCertificateInfo>,
        /// `education_experiences`.
        education_experiences: Vec<CloudResumeEducationExperience>,
        /// `email`.
        email: String as redacted,
        /// `gender`.
        gender: String,
        /// `intention_status`: whether and how the user is looking for a job.
        intention_status: String,
        /// `person_desc`: the user's description of themselves.
        person_desc: String,
        /// `phone`.
        phone: String as redacted,
        /// `pic_url`: the user's photo.
        pic_url: CloudResumeHeadPic,
        /// `position_intentions`: the jobs the user wants.
        position_intentions: Vec<CloudResumePositionIntention>,
        /// `position_type`.
        position_type: String,
        /// `residential_area`.
        residential_area: String,
        /// `skills`.
        skills: Vec<CloudResumeSkillInfo>,
        /// `user_name`.
        user_name: String,
        /// `work_experiences`.
        work_experiences: Vec<CloudResumeWorkExperience>,
        /// `work_start_date`: when the user started working (a number, e.g. `201807`).
        #[serde(deserialize_with = "lenient::int")]
        work_start_date: i64,
    }
}

no_outcome_fields!(CloudResume);

wire_model! {
    /// One certificate of the résumé.
    CloudResumeCertificateInfo {
        /// `certificate_cert_level`.
        certificate_cert_level: String,
        /// `certificate_name`.
        certificate_name: String,
        /// `certificate_send_card_address`: who issued it.
        certificate_send_card_address: String,
        /// `certificate_verify_status`.
        certificate_verify_status: String,
        /// `in_validity_period`: whether it is still valid.
        in_validity_period: String,
    }
}

wire_model! {
    /// One school of the résumé.
    CloudResumeEducationExperience {
        /// `degree`.
        degree: String,
        /// `education_status`.
        education_status: String,
        /// `finish_school_month`.
        finish_school_month: String,
        /// `finish_school_year`.
        #[serde(deserialize_with = "lenient::int")]
        finish_school_year: i64,
        /// `in_school_month`.
        #[serde(deserialize_with = "lenient::int")]
        in_school_month: i64,
        /// `in_school_year`.
        #[serde(deserialize_with = "lenient::int")]
        in_school_year: i64,
        /// `location`.
        location: String,
        /// `major`.
        major: String,
        /// `month`.
        #[serde(deserialize_with = "lenient::int")]
        month: i64,
        /// `school_name`.
        school_name: String,
        /// `tong_zhao`: admitted through the national entrance examination (统招).
        #[serde(deserialize_with = "lenient::flag")]
        tong_zhao: bool,
        /// `year`.
        #[serde(deserialize_with = "lenient::int")]
        year: i64,
    }
}

wire_model! {
    /// The résumé's photo.
    CloudResumeHeadPic {
        /// `pic_url`.
        pic_url: String,
    }
}

wire_model! {
    /// One job the user wants.
    CloudResumePositionIntention {
        /// `intention_city`.
        intention_city: String,
        /// `job_id`.
        job_id: String,
        /// `job_name`.
        job_name: String,
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
        /// `work_property`: full-time, part-time, ….
        work_property: String,
    }
}

wire_model! {
    /// One skill of the résumé.
    CloudResumeSkillInfo {
        /// `skill_name`.
        skill_name: String,
    }
}

wire_model! {
    /// One job of the résumé.
    CloudResumeWorkExperience {
        /// `company_name`.
        company_name: String,
        /// `job_id`.
        job_id: String,
        /// `job_name`.
        job_name: String,
        /// `position_name`.
        position_name: String,
        /// `profession_id`.
        profession_id: String,
        /// `profession_name`.
        profession_name: String,
        /// `work_desc`.
        work_desc: String,
        /// `work_end_time`.
        #[serde(deserialize_with = "lenient::int")]
        work_end_time: i64,
        /// `work_start_time`.
        #[serde(deserialize_with = "lenient::int")]
        work_start_time: i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESUME: &str = r#"{"birthday":"1990-03-07","certificates":[{"certificate_cert_level":"高级","certificate_name":"教师资格证","certificate_send_card_address":"教育部","certificate_verify_status":"VERIFIED","in_validity_period":"true"}],"education_experiences":[{"degree":"本科","education_status":"GRADUATED","finish_school_month":"07","finish_school_year":2012,"in_school_month":9,"in_school_year":2008,"location":"北京","major":"数学","month":7,"school_name":"北京师范大学","tong_zhao":true,"year":2012}],"email":"a@example.com","gender":"F","intention_status":"LOOKING","person_desc":"d","phone":"13800000000","pic_url":{"pic_url":"https://p"},"position_intentions":[{"intention_city":"110100","job_id":"j1","job_name":"数学教师","profession_id":"p1","profession_name":"教育","salary_max":"20000","salary_min":"10000","salary_unit":"MONTH","work_property":"FULL_TIME"}],"position_type":"t","residential_area":"海淀","skills":[{"skill_name":"教学"}],"user_name":"李四","work_experiences":[{"company_name":"某中学","job_id":"j1","job_name":"教师","position_name":"数学教师","profession_id":"p1","profession_name":"教育","work_desc":"w","work_end_time":202001,"work_start_time":201209}],"work_start_date":201209}"#;

    #[test]
    fn a_full_resume_round_trips() {
        let r: CloudResume = serde_json::from_str(RESUME).unwrap();
        assert_eq!(r.work_start_date, Some(201209));
        let edu = &r.education_experiences.as_ref().unwrap()[0];
        assert_eq!(edu.tong_zhao, Some(true));
        assert_eq!(edu.in_school_year, Some(2008));
        assert_eq!(r.pic_url.as_ref().unwrap().pic_url.as_deref(), Some("https://p"));
        assert_eq!(r.work_experiences.as_ref().unwrap()[0].work_end_time, Some(202001));
        assert_eq!(serde_json::to_string(&r).unwrap(), RESUME);
    }

    #[test]
    fn numbers_sent_as_text_and_unknown_fields_are_read() {
        let r: CloudResume = serde_json::from_str(
            r#"{"work_start_date":"201807","education_experiences":[{"year":"2012","tong_zhao":"false","new":1}],"x":[]}"#,
        )
        .unwrap();
        assert_eq!(r.work_start_date, Some(201807));
        assert_eq!(r.education_experiences.as_ref().unwrap()[0].year, Some(2012));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"education_experiences":[{"tong_zhao":false,"year":2012}],"work_start_date":201807}"#
        );
        assert!(serde_json::from_str::<CloudResume>(r#"{"work_start_date":"soon"}"#).is_err());
        assert_eq!(serde_json::from_str::<CloudResume>("{}").unwrap(), CloudResume::default());
    }

    #[test]
    fn debug_hides_contact_details() {
        let r: CloudResume = serde_json::from_str(RESUME).unwrap();
        let d = format!("{r:?}");
        assert!(!d.contains("13800000000") && !d.contains("a@example.com"), "{d}");
        assert!(d.contains("北京师范大学"));
    }
}
