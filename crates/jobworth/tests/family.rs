//! The family endpoints' builders against the mock gateway (every request's signature verified
//! with the fixture app key, every answer signed like Alipay's): the literal request each sends
//! and the typed outcome of a success, of a 200 with `sub_code`, and of every documented error
//! code, in key mode, certificate mode and with AES.

use std::error::Error as _;
use std::time::Duration;

use jobworth::family::{
    AgreementStatus, JobWorthJobdata, JobWorthPositionInfo, PicType, PictureCheckError, UserIdentifier, VisitorType,
    MAX_PICTURE_BYTES,
};
use jobworth::jobworth_wire::family::{self as wire, Endpoint};
use jobworth::{CertType, Client, CodeFamily, Error, ErrorCode, MaybeSentKind, NotSentKind};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

/// Every family operation, sent the same way in every test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    WorkCard,
    CloudResume,
    JobData,
    Picture,
    Position,
    CreditAgreement,
}

const OPS: [Op; 6] = [Op::WorkCard, Op::CloudResume, Op::JobData, Op::Picture, Op::Position, Op::CreditAgreement];

/// A JPEG's first bytes and a little more ("/9j/4HRpbnk=" in base64).
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0tiny";

impl Op {
    fn endpoint(self) -> &'static Endpoint {
        match self {
            Op::WorkCard => &wire::work_card::ENDPOINT,
            Op::CloudResume => &wire::cloud_resume::ENDPOINT,
            Op::JobData => &wire::job_data::ENDPOINT,
            Op::Picture => &wire::picture::ENDPOINT,
            Op::Position => &wire::position::ENDPOINT,
            Op::CreditAgreement => &wire::credit_agreement::ENDPOINT,
        }
    }

    /// The request-target and the JSON body (before encryption) this op sends.
    fn request(self) -> (&'static str, &'static str) {
        match self {
            Op::WorkCard => (
                "/v3/zhima/customer/jobworth/info/query?user_id=2088402562742105&back_url=https%3A%2F%2Fm.example%2Fback%3Fx%3D1&visitor_type=C&visitor_name=%E6%9F%90%E4%B8%AD%E5%AD%A6%20%E6%8B%9B%E8%81%98&has_button=true&has_qr_code=false",
                "",
            ),
            Op::CloudResume => ("/v3/zhima/customer/jobworth/cloudresume/query?conn_key=c-1&once_token=t-1", ""),
            Op::JobData => (
                "/v3/zhima/customer/jobworth/jobdata/add",
                r#"{"conn_key":"c-1","job_data_list":[{"company_name":"某中学","job_name":"数学教师","type":"WORK"},{"skill_name":"教学","type":"SKILL"}],"user_id":"2088402562742105"}"#,
            ),
            Op::Picture => (
                "/v3/zhima/customer/jobworth/picture/upload",
                r#"{"content":"/9j/4HRpbnk=","pic_type":"JOB_DATA_UPLOAD"}"#,
            ),
            Op::Position => (
                "/v3/zhima/customer/jobworth/position/add",
                r#"{"jobworth_position_info":{"company_name":"某中学","count":2,"ka_position_id":"pos-42","position_title":"初中数学教师"}}"#,
            ),
            Op::CreditAgreement => ("/v3/zhima/credit/payafteruse/creditagreement/query?out_agreement_no=c-1", ""),
        }
    }

    /// A successful answer (with a field this version does not know).
    fn answer(self) -> &'static str {
        match self {
            Op::WorkCard => {
                r#"{"acceptance_id":"a-1","url":"https://render.example/card","picture_url":"https://render.example/card.png","scene_result":true,"future":1}"#
            }
            Op::CloudResume => {
                r#"{"user_name":"李四","education_experiences":[{"school_name":"北京师范大学","degree":"本科","tong_zhao":true,"in_school_year":2008}],"skills":[{"skill_name":"教学"}],"work_start_date":201209,"future":[]}"#
            }
            Op::JobData => r#"{"acceptance_id":"a-2","url":"https://render.example/data","future":1}"#,
            Op::Picture => r#"{"pic_id":"pic-1","future":1}"#,
            Op::Position => r#"{"position_id":"pos-9","future":1}"#,
            Op::CreditAgreement => {
                r#"{"agreement_status":"VALID","out_agreement_no":"c-1","credit_agreement_id":"z-1","alipay_user_id":"2088402562742105","future":1}"#
            }
        }
    }

    /// Sends the op; on success checks the typed answer and returns it written back as JSON.
    async fn send(self, c: &Client) -> Result<String, Error> {
        Ok(match self {
            Op::WorkCard => {
                let q = c
                    .work_card_info()
                    .user_id("2088402562742105")
                    .cert(CertType::IdCard, CERT_NO)
                    .back_url("https://m.example/back?x=1")
                    .visitor_type(VisitorType::Company)
                    .visitor_name("某中学 招聘")
                    .has_button(true)
                    .has_qr_code(false);
                assert_eq!(q.identifier(), Some(UserIdentifier::UserId));
                assert!(!format!("{q:?}").contains(CERT_NO));
                let card = q.send().await?;
                assert_eq!(card.scene_result, Some(true));
                assert_eq!(card.url.as_deref(), Some("https://render.example/card"));
                serde_json::to_string(&card).unwrap()
            }
            Op::CloudResume => {
                let r = c.cloud_resume("c-1", "t-1").send().await?;
                let school = &r.education_experiences.as_ref().unwrap()[0];
                assert_eq!(school.tong_zhao, Some(true));
                assert_eq!(school.in_school_year, Some(2008));
                assert_eq!(r.work_start_date, Some(201209));
                serde_json::to_string(&r).unwrap()
            }
            Op::JobData => {
                let work = JobWorthJobdata {
                    data_type: Some("WORK".into()),
                    company_name: Some("某中学".into()),
                    job_name: Some("数学教师".into()),
                    ..Default::default()
                };
                let skill = JobWorthJobdata {
                    data_type: Some("SKILL".into()),
                    skill_name: Some("教学".into()),
                    ..Default::default()
                };
                let added =
                    c.add_job_data([work]).job_data(skill).conn_key("c-1").user_id("2088402562742105").send().await?;
                assert_eq!(added.acceptance_id.as_deref(), Some("a-2"));
                serde_json::to_string(&added).unwrap()
            }
            Op::Picture => {
                let up = c.upload_picture(JPEG, PicType::JobDataUpload).send().await?;
                assert_eq!(up.pic_id.as_deref(), Some("pic-1"));
                serde_json::to_string(&up).unwrap()
            }
            Op::Position => {
                let info = JobWorthPositionInfo {
                    ka_position_id: Some("pos-42".into()),
                    position_title: Some("初中数学教师".into()),
                    company_name: Some("某中学".into()),
                    count: Some(2),
                    ..Default::default()
                };
                let added = c.add_position(info).send().await?;
                assert_eq!(added.position_id.as_deref(), Some("pos-9"));
                serde_json::to_string(&added).unwrap()
            }
            Op::CreditAgreement => {
                let a = c.credit_agreement().out_agreement_no("c-1").send().await?;
                assert_eq!(a.agreement_status, Some(AgreementStatus::Valid));
                serde_json::to_string(&a).unwrap()
            }
        })
    }

    /// What [`send`](Self::send) writes back for [`answer`](Self::answer): the known fields, in
    /// model order.
    fn written_back(self) -> &'static str {
        match self {
            Op::WorkCard => {
                r#"{"acceptance_id":"a-1","picture_url":"https://render.example/card.png","scene_result":true,"url":"https://render.example/card"}"#
            }
            Op::CloudResume => {
                r#"{"education_experiences":[{"degree":"本科","in_school_year":2008,"school_name":"北京师范大学","tong_zhao":true}],"skills":[{"skill_name":"教学"}],"user_name":"李四","work_start_date":201209}"#
            }
            Op::JobData => r#"{"acceptance_id":"a-2","url":"https://render.example/data"}"#,
            Op::Picture => r#"{"pic_id":"pic-1"}"#,
            Op::Position => r#"{"position_id":"pos-9"}"#,
            Op::CreditAgreement => {
                r#"{"agreement_status":"VALID","alipay_user_id":"2088402562742105","credit_agreement_id":"z-1","out_agreement_no":"c-1"}"#
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Key,
    Certificate,
    Aes,
}

fn client_in(mode: Mode, uri: &str) -> Client {
    match mode {
        Mode::Key => client(uri),
        Mode::Certificate => cert_builder(uri).build().unwrap(),
        Mode::Aes => builder(uri).encrypt_key(aes_key()).build().unwrap(),
    }
}

/// `reply` as the gateway sends it in `mode`: encrypted 200s with AES, `alipay-sn` in
/// certificate mode.
fn in_mode(mode: Mode, reply: Reply) -> Reply {
    match mode {
        Mode::Key => reply,
        Mode::Certificate => reply.header("alipay-sn", &alipay_cert().1),
        Mode::Aes if reply.status == 200 => reply.encrypted(aes_key()),
        Mode::Aes => reply,
    }
}

async fn mount(server: &MockServer, op: Op, verified: &Verified, reply: Reply, times: u64) {
    let e = op.endpoint();
    Mock::given(method(e.verb.as_str()))
        .and(path(e.path))
        .and(verified.clone())
        .respond_with(reply)
        .expect(times)
        .mount(server)
        .await;
}

/// The request as the gateway saw it: the target, and the JSON body (decrypted with AES).
fn assert_request(mode: Mode, op: Op, s: &Seen) {
    let (target, json) = op.request();
    assert_eq!(s.method, op.endpoint().verb.as_str(), "{op:?}");
    assert_eq!(s.target, target, "{op:?}");
    let body = if mode == Mode::Aes && !s.body.is_empty() {
        aes_key().decrypt_to_string(&s.body).unwrap()
    } else {
        s.body.clone()
    };
    assert_eq!(body, json, "{op:?}");
    let content_type = match (mode, json.is_empty()) {
        (Mode::Aes, _) => Some("text/plain"),
        (_, false) => Some("application/json"),
        (_, true) => None,
    };
    assert_eq!(s.header("content-type"), content_type, "{op:?}");
    assert_eq!(s.header("alipay-encrypt-type"), (mode == Mode::Aes).then_some("AES"), "{op:?}");
    match mode {
        Mode::Certificate => {
            assert_eq!(s.auth.app_cert_sn.as_deref(), Some("866efef280dec9137a87d047ac446315"));
            assert!(s.header("alipay-root-cert-sn").is_some());
        }
        _ => assert_eq!(s.auth.app_cert_sn, None),
    }
}

#[tokio::test]
async fn every_operation_succeeds_in_every_mode_with_the_literal_request() {
    for mode in [Mode::Key, Mode::Certificate, Mode::Aes] {
        for op in OPS {
            let server = server().await;
            let verified = Verified::default();
            mount(&server, op, &verified, in_mode(mode, Reply::json(200, op.answer())), 1).await;
            let written =
                op.send(&client_in(mode, &server.uri())).await.unwrap_or_else(|e| panic!("{mode:?} {op:?}: {e}"));
            assert_eq!(written, op.written_back(), "{mode:?} {op:?}");
            let seen = verified.seen();
            assert_eq!(seen.len(), 1, "{mode:?} {op:?}");
            assert_request(mode, op, &seen[0]);
        }
    }
}

#[tokio::test]
async fn a_200_with_sub_code_is_a_business_outcome_in_every_mode() {
    for mode in [Mode::Key, Mode::Certificate, Mode::Aes] {
        for op in OPS {
            let code = op.endpoint().error_codes[0].clone();
            let body = format!(r#"{{"sub_code":"{code}","sub_msg":"办不了 110105200002290021","url":"https://u"}}"#);
            let server = server().await;
            mount(&server, op, &Verified::default(), in_mode(mode, Reply::json(200, &body)), 1).await;
            let e = op.send(&client_in(mode, &server.uri())).await.unwrap_err();
            let Error::Business(b) = &e else { panic!("{mode:?} {op:?}: {e:?}") };
            assert_eq!(b.code, code, "{mode:?} {op:?}");
            assert_eq!(e.business_code(), Some(&code));
            assert_eq!(b.response.status, 200);
            assert_eq!(b.answer::<serde_json::Value>().unwrap()["url"], "https://u", "the answer is kept");
            // sub_msg echoed an ID number: masked in the message, in Display and Debug.
            assert!(!b.message.contains(CERT_NO) && b.message.starts_with("办不了 "), "{}", b.message);
            let text = e.to_string();
            assert!(text.contains(&format!("sub_code {code}")) && !text.contains(CERT_NO), "{text}");
            assert!(!format!("{e:?}").contains(CERT_NO));
            assert!(!e.token_may_be_consumed(), "a definite answer consumed nothing");
            assert_eq!(e.api_code(), None, "not an error status");
        }
    }
    // The typed answer of an endpoint whose model has the fields carries them too.
    let server = server().await;
    mount(
        &server,
        Op::WorkCard,
        &Verified::default(),
        Reply::json(200, r#"{"sub_code":"USER_NOT_OPEN_ZHIMA","sub_msg":"用户没有开通芝麻","url":"https://open"}"#),
        1,
    )
    .await;
    let e = client(&server.uri()).work_card_info().user_id("2088402562742105").send().await.unwrap_err();
    let Error::Business(b) = &e else { panic!("{e:?}") };
    assert_eq!(b.code, ErrorCode::UserNotOpenZhima);
    assert_eq!(b.code.family(), Some(CodeFamily::JobworthFamily));
    let card: jobworth::family::WorkCardInfo = b.answer().unwrap();
    assert_eq!(card.url.as_deref(), Some("https://open"));
    assert_eq!(card.sub_msg.as_deref(), Some("用户没有开通芝麻"));
    assert!(e.to_string().contains("the user has to activate Zhima credit first"), "{e}");
}

#[tokio::test]
async fn every_documented_error_code_comes_back_typed() {
    for op in OPS {
        let server = server().await;
        let verified = Verified::default();
        let codes = op.endpoint().error_codes;
        for code in codes {
            let status = if code.is_transient() { 500 } else { 400 };
            let body = format!(r#"{{"code":"{code}","message":"m"}}"#);
            Mock::given(path(op.endpoint().path))
                .and(verified.clone())
                .respond_with(Reply::json(status, &body))
                .up_to_n_times(1)
                .expect(1)
                .mount(&server)
                .await;
            let c = builder(&server.uri()).max_retries(0).build().unwrap();
            let e = op.send(&c).await.unwrap_err();
            let Error::Api(a) = &e else { panic!("{op:?} {code}: {e:?}") };
            assert_eq!(&a.code, code, "{op:?}");
            assert!(!matches!(a.code, ErrorCode::Other(_)), "{op:?} {code}");
            let family =
                if wire::AUTHENTICATION.documents(code) { CodeFamily::Jobworth } else { CodeFamily::JobworthFamily };
            assert_eq!(a.code.family(), Some(family), "{op:?} {code}");
            assert_eq!(e.is_retryable(), code.is_transient(), "{op:?} {code}");
        }
        assert_eq!(verified.seen().len(), codes.len(), "{op:?}");
    }
}

#[tokio::test]
async fn gateway_codes_and_unknown_codes_come_back_typed() {
    for op in OPS {
        let server = server().await;
        for (status, code) in [(401, "invalid-signature"), (400, "SOMETHING_NEW")] {
            Mock::given(path(op.endpoint().path))
                .and(Verified::default())
                .respond_with(Reply::json(status, &format!(r#"{{"code":"{code}","message":"m"}}"#)))
                .up_to_n_times(1)
                .expect(1)
                .mount(&server)
                .await;
            let e = op.send(&client(&server.uri())).await.unwrap_err();
            match code {
                "invalid-signature" => {
                    assert_eq!(e.api_code(), Some(&ErrorCode::InvalidSignature), "{op:?}");
                    assert_eq!(e.api_code().unwrap().family(), Some(CodeFamily::Gateway));
                }
                _ => assert_eq!(e.api_code(), Some(&ErrorCode::Other("SOMETHING_NEW".into())), "{op:?}"),
            }
        }
    }
}

#[tokio::test]
async fn the_documented_checks_run_before_anything_is_sent() {
    // The server fails the test on any request.
    let server = server().await;
    let c = client(&server.uri());

    let mut big = JPEG.to_vec();
    big.resize(MAX_PICTURE_BYTES + 1, 0);
    let e = c.upload_picture(big, PicType::JobDataUpload).send().await.unwrap_err();
    let Error::NotSent(n) = &e else { panic!("{e:?}") };
    assert_eq!(n.kind, NotSentKind::InvalidRequest);
    assert!(e.to_string().contains("PICTURE_UPLOAD_LIMIT_ERROR"), "{e}");
    let check = n.source().and_then(|s| s.downcast_ref::<PictureCheckError>()).unwrap();
    assert_eq!(check.code(), Some(ErrorCode::PictureUploadLimitError));

    let e = c.upload_picture(b"GIF89a....", "JOB_DATA_UPLOAD").send().await.unwrap_err();
    assert!(e.is_not_sent() && e.to_string().contains("PICTURE_TYPE_ERROR"), "{e}");
    let e = c.upload_picture(jobworth::family::PictureContent::base64("not base64!"), PicType::JobDataUpload);
    let e = e.send().await.unwrap_err();
    assert!(e.is_not_sent() && e.to_string().contains("not base64"), "{e}");

    for q in [c.credit_agreement(), c.credit_agreement().out_agreement_no("c").credit_agreement_id("z")] {
        let e = q.send().await.unwrap_err();
        assert!(e.is_not_sent(), "{e:?}");
        assert!(e.to_string().contains("exactly one of out_agreement_no and credit_agreement_id"), "{e}");
    }
}

#[tokio::test]
async fn a_picture_given_as_base64_is_sent_as_given_and_bytes_at_the_limit_pass() {
    let server = server().await;
    let verified = Verified::default();
    mount(&server, Op::Picture, &verified, Reply::json(200, r#"{"pic_id":"p"}"#), 2).await;
    let c = client(&server.uri());
    c.upload_picture(jobworth::family::PictureContent::base64("/9j/4HRpbnk="), PicType::JobDataUpload)
        .send()
        .await
        .unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(MAX_PICTURE_BYTES, 7);
    c.upload_picture(png, "AVATAR").send().await.unwrap();
    let seen = verified.seen();
    assert_eq!(seen[0].body, Op::Picture.request().1);
    let second: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(second["pic_type"], "AVATAR", "unknown pic types are sent as given");
}

#[tokio::test]
async fn the_uid_wins_over_cert_no_and_cert_alone_is_sent_in_order() {
    let server = server().await;
    let verified = Verified::default();
    mount(&server, Op::WorkCard, &verified, Reply::json(200, r#"{"url":"u"}"#), 3).await;
    let c = client(&server.uri());
    c.work_card_info().cert(CertType::IdCard, CERT_NO).conn_key("c-1").user_name("张三").send().await.unwrap();
    c.work_card_info().cert(CertType::IdCard, CERT_NO).open_id("074a").has_html(true).send().await.unwrap();
    c.work_card_info().open_id("074a").user_id("2088402562742105").send().await.unwrap();
    let targets: Vec<String> = verified.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(
        targets,
        [
            "/v3/zhima/customer/jobworth/info/query?user_name=%E5%BC%A0%E4%B8%89&conn_key=c-1&cert_no=110105200002290021&cert_type=0",
            "/v3/zhima/customer/jobworth/info/query?open_id=074a&has_html=true",
            "/v3/zhima/customer/jobworth/info/query?user_id=2088402562742105&open_id=074a",
        ]
    );
}

#[tokio::test]
async fn adds_are_not_repeated_after_a_5xx_and_reads_are() {
    let adds = server().await;
    let verified = Verified::default();
    for op in [Op::JobData, Op::Picture, Op::Position] {
        mount(&adds, op, &verified, Reply::json(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#), 1).await;
    }
    let e = Op::JobData.send(&client(&adds.uri())).await.unwrap_err();
    assert!(e.is_retryable() && e.request().unwrap().attempts == 1, "{e:?}");
    Op::Picture.send(&client(&adds.uri())).await.unwrap_err();
    Op::Position.send(&client(&adds.uri())).await.unwrap_err();

    // A read is repeated (signed afresh) and then succeeds.
    let reads = server().await;
    let verified = Verified::default();
    Mock::given(path(wire::credit_agreement::PATH))
        .and(verified.clone())
        .respond_with(Reply::json(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&reads)
        .await;
    mount(&reads, Op::CreditAgreement, &verified, Reply::json(200, Op::CreditAgreement.answer()), 1).await;
    Op::CreditAgreement.send(&client(&reads.uri())).await.unwrap();
    let seen = verified.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].auth.nonce, seen[1].auth.nonce);
}

/// The first résumé query with `once_token` answers too late (3 s); every later one answers
/// `then` (400), `times` times.
async fn slow_once_then(server: &MockServer, verified: &Verified, once_token: &str, then: &str, times: u64) {
    Mock::given(path(wire::cloud_resume::PATH))
        .and(query_param("once_token", once_token))
        .and(verified.clone())
        .respond_with(Reply::json(200, Op::CloudResume.answer()).delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path(wire::cloud_resume::PATH))
        .and(verified.clone())
        .respond_with(Reply::json(400, then))
        .expect(times)
        .mount(server)
        .await;
}

/// The résumé's token answers once: an ambiguous attempt is remembered like the query's, and a
/// later "spent" answer for that token says the résumé may have been read and lost.
#[tokio::test]
async fn a_cloud_resume_token_after_an_ambiguous_attempt_is_reported_possibly_consumed() {
    let server = server().await;
    let verified = Verified::default();
    slow_once_then(&server, &verified, "t1", r#"{"code":"USER_NOT_AUTHORIZE","message":"once_token used"}"#, 3).await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();

    let first = c.cloud_resume("c-1", "t1").send().await.unwrap_err();
    let Error::MaybeSent(m) = &first else { panic!("{first:?}") };
    assert_eq!(m.kind, MaybeSentKind::Timeout { after: Duration::from_millis(300) });
    assert_eq!(m.request.attempts, 1, "not repeated without opting in");
    assert!(m.request.single_use_token);
    assert!(first.to_string().contains("once_token may already have been consumed"), "{first}");

    let again = c.clone().cloud_resume("c-1", "t1").send().await.unwrap_err();
    let Error::TokenPossiblyConsumed { first: earlier, last } = &again else { panic!("{again:?}") };
    assert!(matches!(**earlier, Error::MaybeSent(_)));
    assert_eq!(last.api_code(), Some(&ErrorCode::UserNotAuthorize));
    let text = again.to_string();
    assert!(
        text.starts_with("USER_NOT_AUTHORIZE, but an earlier query with this once_token may have consumed it"),
        "{text}"
    );

    // Another token, and the authentication query with the same token, have no such history.
    let plain = c.cloud_resume("c-1", "t2").send().await.unwrap_err();
    assert!(matches!(&plain, Error::Api(a) if a.code == ErrorCode::UserNotAuthorize), "{plain:?}");
    let other = c.cloud_resume("c-2", "t1").send().await.unwrap_err();
    assert!(matches!(&other, Error::Api(_)), "{other:?}");
}

#[tokio::test]
async fn an_opted_in_cloud_resume_retry_is_reported_possibly_consumed() {
    let server = server().await;
    let verified = Verified::default();
    slow_once_then(&server, &verified, "t-1", r#"{"code":"TOKEN_INVALID","message":"m"}"#, 1).await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();
    let e = c.cloud_resume("c-1", "t-1").retry_ambiguous(true).send().await.unwrap_err();
    assert!(matches!(e, Error::TokenPossiblyConsumed { .. }), "{e:?}");
    assert_eq!(e.request().unwrap().attempts, 2);
    assert!(e.to_string().starts_with("TOKEN_INVALID, but"), "{e}");
}

#[tokio::test]
async fn a_family_answer_comes_with_a_receipt_that_verifies_offline() {
    for mode in [Mode::Key, Mode::Aes] {
        let server = server().await;
        let verified = Verified::default();
        let op = Op::CreditAgreement;
        mount(&server, op, &verified, in_mode(mode, Reply::json(200, op.answer())), 1).await;
        let client = client_in(mode, &server.uri());
        let (answer, receipt) =
            client.credit_agreement().out_agreement_no("out-1").send_with_receipt().await.expect("answer");
        assert_eq!(receipt.method, "GET");
        assert!(receipt.request_target.starts_with("/v3/zhima/credit/payafteruse/creditagreement/query?"));
        let trust = jobworth::ReceiptTrust::PublicKey(alipay_key().public_key());
        let aes = (mode == Mode::Aes).then(aes_key);
        let body = receipt.verify(&trust, aes.as_ref()).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(String::from_utf8(body).unwrap(), op.answer(), "{mode:?}");
        assert!(answer.agreement_status.is_some(), "{mode:?}");
        let other = jobworth::ReceiptTrust::PublicKey(other_key().public_key());
        assert!(receipt.verify(&other, aes.as_ref()).is_err(), "{mode:?}: another key must not verify it");
    }
}
