//! The Rust SDK's family builders against the sandbox, in key mode, certificate mode and AES: what
//! one side writes the other reads, and the sandbox's refusals arrive as the SDK's typed errors.

use jobworth::family::{AgreementStatus, JobWorthJobdata, JobWorthPositionInfo, PicType};
use jobworth::{Client, ErrorCode};
use jobworth_testkit::app::App;
use jobworth_testkit::fixtures::{app_key, APP_ID, TEACHER_USER};
use jobworth_testkit::sandbox::{start, Harness};
use jobworth_testkit::sdk::{cert_builder, key_builder};

async fn every_endpoint(h: &Harness, app: &App, client: &Client, conn: &str) {
    h.authenticate(app, conn, "tok", "teacher").await;
    let card = client.work_card_info().user_id(TEACHER_USER).has_number(true).send().await.unwrap();
    let url = card.url.unwrap();
    assert!(url.starts_with(&format!("{}/workcard/{APP_ID}/", h.base())) && url.ends_with("?number=1"), "{url}");
    assert_eq!(card.acceptance_id.as_deref().map(str::len), Some(32));

    let resume = client.cloud_resume(conn, "tok").send().await.unwrap();
    assert_eq!(resume.user_name.as_deref(), Some("王建国"));
    assert_eq!(resume.education_experiences.unwrap()[1].degree.as_deref(), Some("硕士"));
    let again = client.cloud_resume(conn, "tok").send().await.unwrap_err();
    assert_eq!(again.api_code(), Some(&ErrorCode::InvalidParameter), "{again}");

    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 24]].concat();
    let pic = client.upload_picture(png, PicType::JobDataUpload).send().await.unwrap();
    let item = JobWorthJobdata {
        data_type: Some("SKILL".into()),
        skill_name: Some("课程设计".into()),
        head_pic_id: pic.pic_id.clone(),
        ..Default::default()
    };
    let added = client.add_job_data([item]).user_id(TEACHER_USER).send().await.unwrap();
    assert_eq!(added.acceptance_id.as_deref().map(str::len), Some(32));
    assert!(added.url.unwrap().ends_with("/update"));

    let info = JobWorthPositionInfo {
        position_title: Some("高中数学教师".into()),
        company_name: Some("北京市朝阳区实验中学".into()),
        count: Some(2),
        ..Default::default()
    };
    assert!(client.add_position(info).send().await.unwrap().position_id.is_some());

    let agreement = client.credit_agreement().out_agreement_no(conn).send().await.unwrap();
    assert_eq!(agreement.agreement_status, Some(AgreementStatus::Valid));
    assert_eq!(agreement.alipay_user_id.as_deref(), Some(TEACHER_USER));
}

#[tokio::test]
async fn the_sdk_family_in_every_mode() {
    let h = start().await;
    let app = h.register(APP_ID, &app_key(), None).await;
    every_endpoint(&h, &app, &key_builder(h.base(), &app).build().unwrap(), "conn-key").await;
    every_endpoint(&h, &app, &cert_builder(h.base(), &app).build().unwrap(), "conn-cert").await;
    let aes = alipay_v3::aes::AesKey::generate();
    let app = h.replace(APP_ID, &app_key(), Some(aes.clone())).await;
    let client = key_builder(h.base(), &app).encrypt_key(aes).build().unwrap();
    every_endpoint(&h, &app, &client, "conn-aes").await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn refusals_arrive_typed() {
    let h = start().await;
    let app = h.register(APP_ID, &app_key(), None).await;
    let client = key_builder(h.base(), &app).build().unwrap();
    h.authenticate(&app, "conn-z", "tok", "no-zhima").await;
    h.authenticate(&app, "conn-n", "tok", "no-jobworth").await;
    // A 200 with a sub_code is the SDK's business outcome, not a success.
    let e = client.work_card_info().user_id("2088102146225105").send().await.unwrap_err();
    assert!(matches!(&e, jobworth::Error::Business(b) if b.code == ErrorCode::UserNotOpenZhima), "{e}");
    let e = client.cloud_resume("conn-n", "tok").send().await.unwrap_err();
    assert_eq!(e.api_code(), Some(&ErrorCode::QueryDataIsNull), "{e}");
    let e = client.credit_agreement().out_agreement_no("conn-none").send().await.unwrap_err();
    assert_eq!(e.api_code(), Some(&ErrorCode::CreditAgreementNotExist), "{e}");
    // The teacher never authorized this app.
    let e = client.work_card_info().user_id(TEACHER_USER).send().await.unwrap_err();
    assert_eq!(e.api_code(), Some(&ErrorCode::UserNotAuthorize), "{e}");
    h.sandbox.shutdown().await;
}
