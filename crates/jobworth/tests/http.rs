//! The SDK against a local mock gateway whose matcher verifies every request signature with the
//! fixture app public key, and whose answers are signed like Alipay's.

use std::time::Duration;

use jobworth::{
    CertType, Error, ErrorCode, IdentityResult, IdentityType, Link, MaybeSentKind, QueryType, TokenStatus,
    VerificationKind,
};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::Mock;

fn full_query(client: &jobworth::Client) -> jobworth::AuthenticationQuery {
    client
        .authentication_query()
        .conn_key("conn key/中&=+*'()!")
        .once_token("tok~._-9b1d")
        .query_type(QueryType::Exact)
        .identity_type(IdentityType::Teacher)
        .service_id("2019120400000000000004450100")
        .user_id("2088402562742105")
        .open_id("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5")
        .cert(CertType::IdCard, CERT_NO)
}

const FULL_TARGET: &str = "/v3/zhima/customer/jobworth/authentication?conn_key=conn%20key%2F%E4%B8%AD%26%3D%2B%2A%27%28%29%21&once_token=tok~._-9b1d&query_type=exact&identity_type=04&service_id=2019120400000000000004450100&user_id=2088402562742105&open_id=074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5&cert_no=110105200002290021&cert_type=0";

#[tokio::test]
async fn query_success_every_parameter_encoded_and_signed() {
    let server = server().await;
    let verified = Verified::default();
    Mock::given(method("GET"))
        .and(path(AUTH_PATH))
        .and(verified.clone())
        .respond_with(Reply::json(200, SUCCESS))
        .expect(1)
        .mount(&server)
        .await;

    let res = full_query(&client(&server.uri())).send().await.unwrap();
    assert_eq!(res.identity_result, IdentityResult::Success);
    assert_eq!(res.token_status, Some(TokenStatus::Finish));
    assert_eq!(res.user_id.as_deref(), Some("2088402562742105"));
    assert_eq!(res.open_id.as_deref(), Some("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"));
    assert_eq!(res.merchant_identity_id.as_deref(), Some("m-1"));
    assert_eq!(res.identity_result_skip_url.as_deref(), Some("alipays://platformapi/startapp?appId=1"));

    let seen = verified.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.target, FULL_TARGET);
    assert_eq!(s.body, "");
    assert!(s.header("content-type").is_none(), "plain GET has no content-type");
    assert!(s.header("alipay-encrypt-type").is_none());
    assert!(s.header("alipay-root-cert-sn").is_none());
    assert_eq!(s.auth.app_cert_sn, None);
    assert_eq!(s.auth.nonce.len(), 36);
    let now = alipay_v3::now_millis();
    assert!(s.auth.timestamp_ms <= now && now - s.auth.timestamp_ms < 60_000);
}

#[tokio::test]
async fn java_shape_sends_the_same_request_and_omits_absent_parameters() {
    let server = server().await;
    let verified = Verified::default();
    Mock::given(path(AUTH_PATH))
        .and(verified.clone())
        .respond_with(Reply::json(200, r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING"}"#))
        .expect(3)
        .mount(&server)
        .await;
    let c = client(&server.uri());

    let res = c
        .query(
            Some("conn key/中&=+*'()!"),
            Some("tok~._-9b1d"),
            Some("exact"),
            Some("04"),
            Some("2019120400000000000004450100"),
            Some("2088402562742105"),
            Some("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"),
            Some(CERT_NO),
            Some("0"),
        )
        .await
        .unwrap();
    assert_eq!(res.identity_result, IdentityResult::WaitingVerify);
    assert_eq!(res.token_status, Some(TokenStatus::Processing));
    full_query(&c).send().await.unwrap();
    c.query(Some("c"), Some("t"), Some("dim"), Some("04"), Some("s"), None, None, None, None).await.unwrap();

    let seen = verified.seen();
    assert_eq!(seen[0].target, FULL_TARGET);
    assert_eq!(seen[1].target, FULL_TARGET);
    assert_eq!(
        seen[2].target,
        format!("{AUTH_PATH}?conn_key=c&once_token=t&query_type=dim&identity_type=04&service_id=s")
    );
    assert_ne!(seen[0].auth.nonce, seen[1].auth.nonce);
    assert_ne!(seen[0].header("alipay-request-id"), seen[1].header("alipay-request-id"));
}

async fn query_error(body: &str, status: u16, signing: Signing) -> Error {
    let server = server().await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(status, body).signing(signing))
        .expect(1)
        .mount(&server)
        .await;
    client(&server.uri()).authentication_query().conn_key("c").once_token("t").send().await.unwrap_err()
}

#[tokio::test]
async fn error_responses_map_codes_and_both_links_shapes() {
    // links as an array of {link, desc}; signed error answer
    let e = query_error(
        r#"{"code":"TOKEN_INVALID","message":"token used","links":[{"link":"https://open.alipay.com/api/errCheck?traceId=1","desc":"解决方案"}]}"#,
        400,
        Signing::Alipay,
    )
    .await;
    let api = e.as_api().unwrap();
    assert_eq!(api.response.status.as_u16(), 400);
    assert_eq!(api.code, ErrorCode::TokenInvalid);
    assert_eq!(e.api_code(), Some(&ErrorCode::TokenInvalid));
    assert_eq!(api.message, "token used");
    assert_eq!(
        api.links,
        vec![Link { link: "https://open.alipay.com/api/errCheck?traceId=1".into(), desc: Some("解决方案".into()) }]
    );
    assert_eq!(api.response.trace_id.as_deref(), Some("trace-0603331617156962044358274991886"));
    assert!(api.signed);
    assert!(api.body_text().contains("token used"));
    assert!(api.response.headers.contains_key("alipay-trace-id"));
    assert!(!e.token_may_be_consumed() && e.needs_new_token() && !e.is_retryable());
    let text = e.to_string();
    assert!(text.contains("HTTP 400 TOKEN_INVALID: token used"), "{text}");
    assert!(text.contains("new step 1"), "{text}");
    assert!(text.contains("trace id trace-0603331617156962044358274991886"), "{text}");
    let json = serde_json::to_value(api).unwrap();
    assert_eq!(json["code"], "TOKEN_INVALID");
    assert_eq!(json["links"][0]["desc"], "解决方案");

    // links as a string; unsigned error answer (accepted, like every official SDK)
    let e = query_error(
        r#"{"code":"INVALID_PARAMETER","message":"bad","links":"https://example.invalid/help"}"#,
        400,
        Signing::Unsigned,
    )
    .await;
    let api = e.as_api().unwrap();
    assert_eq!(api.code, ErrorCode::InvalidParameter);
    assert_eq!(api.links, vec![Link { link: "https://example.invalid/help".into(), desc: None }]);
    assert!(!api.signed);

    // gateway code, links absent
    let e = query_error(r#"{"code":"invalid-signature","message":"验签失败"}"#, 400, Signing::Unsigned).await;
    assert_eq!(e.api_code(), Some(&ErrorCode::InvalidSignature));
    assert!(e.as_api().unwrap().links.is_empty());
    assert!(e.to_string().contains("private key"), "{e}");

    // unknown code kept verbatim
    let e = query_error(r#"{"code":"NEW_CODE","message":"m"}"#, 403, Signing::Unsigned).await;
    assert_eq!(e.api_code(), Some(&ErrorCode::Other("NEW_CODE".into())));

    // non-JSON error body: still an API error, raw body kept
    let e = query_error("<html>bad gateway</html>", 404, Signing::Unsigned).await;
    let api = e.as_api().unwrap();
    assert_eq!(api.code, ErrorCode::Other(String::new()));
    assert_eq!(api.body, b"<html>bad gateway</html>");
    assert!(e.to_string().contains("HTTP 404 without an error code"), "{e}");

    // a signed error answer whose signature is wrong is not trusted
    let e = query_error(r#"{"code":"TOKEN_INVALID","message":"m"}"#, 400, Signing::WrongKey).await;
    assert!(matches!(&e, Error::Verification(v) if v.kind == VerificationKind::BadSignature), "{e:?}");
}

#[tokio::test]
async fn system_error_500_on_the_query_is_not_repeated_and_says_the_token_may_be_gone() {
    let e = query_error(r#"{"code":"SYSTEM_ERROR","message":"系统繁忙"}"#, 500, Signing::Alipay).await; // expect(1)
    let api = e.as_api().unwrap();
    assert_eq!((api.response.status.as_u16(), &api.code), (500, &ErrorCode::SystemError));
    assert!(e.is_retryable() && e.token_may_be_consumed());
    assert_eq!(e.request().unwrap().attempts, 1);
    let text = e.to_string();
    assert!(text.contains("once_token may already have been consumed"), "{text}");
    assert!(text.contains("new step 1"), "{text}");
}

#[tokio::test]
async fn generic_call_retries_system_error_with_fresh_signatures() {
    let server = server().await;
    let verified = Verified::default();
    let body = serde_json::json!({"date": "20230102", "offset": 20, "name": "中文 x"});
    Mock::given(method("POST"))
        .and(path("/v3/alipay/x/add"))
        .and(verified.clone())
        .respond_with(Reply::json(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/alipay/x/add"))
        .and(verified.clone())
        .respond_with(Reply::json(200, r#"{"ok":true}"#))
        .expect(1)
        .mount(&server)
        .await;

    let res = client(&server.uri())
        .request(http::Method::POST, "/v3/alipay/x/add")
        .query("a", "x y")
        .json(&body)
        .app_auth_token("202406BB_token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json::<serde_json::Value>().unwrap(), serde_json::json!({"ok": true}));
    assert_eq!(res.text().unwrap(), r#"{"ok":true}"#);
    assert_eq!(res.request().attempts, 3);
    assert_eq!(res.trace_id.as_deref(), Some("trace-0603331617156962044358274991886"));

    let seen = verified.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.target, "/v3/alipay/x/add?a=x%20y");
        assert_eq!(s.body, serde_json::to_string(&body).unwrap());
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert_eq!(s.header("alipay-app-auth-token"), Some("202406BB_token"));
    }
    let nonces: std::collections::HashSet<_> = seen.iter().map(|s| s.auth.nonce.clone()).collect();
    assert_eq!(nonces.len(), 3, "each attempt is signed afresh");
    let ids: std::collections::HashSet<_> =
        seen.iter().map(|s| s.header("alipay-request-id").unwrap().to_string()).collect();
    assert_eq!(ids.len(), 3);

    // max_retries(0) turns retries off
    let server = server_with_500().await;
    let e = client(&server.uri()).request(http::Method::GET, "/v3/x").max_retries(0).send().await.unwrap_err();
    assert_eq!(e.request().unwrap().attempts, 1);
}

async fn server_with_500() -> wiremock::MockServer {
    let server = server().await;
    Mock::given(path("/v3/x"))
        .and(Verified::default())
        .respond_with(Reply::json(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn success_answers_that_do_not_verify_are_rejected() {
    for (signing, expected) in [
        (Signing::Tampered, VerificationKind::BadSignature),
        (Signing::Unsigned, VerificationKind::MissingHeader("alipay-signature")),
        (Signing::WrongKey, VerificationKind::BadSignature),
        (Signing::NoNonce, VerificationKind::MissingHeader("alipay-nonce")),
    ] {
        let e = query_error(SUCCESS, 200, signing).await;
        match &e {
            Error::Verification(v) => {
                assert_eq!(v.kind, expected, "{signing:?}");
                assert_eq!(v.response.status.as_u16(), 200);
                // The answer that was refused is kept as it came: body and headers.
                if signing == Signing::Tampered {
                    assert_eq!(v.body.len(), SUCCESS.len());
                } else {
                    assert_eq!(v.body, SUCCESS.as_bytes(), "{signing:?}");
                }
                assert!(v.response.headers.contains_key("content-type"), "{signing:?}");
            }
            other => panic!("{signing:?}: expected a verification error, got {other:?}"),
        }
        assert!(e.token_may_be_consumed() && !e.is_retryable());
        assert!(e.to_string().contains("the answer was not used"), "{e}");
    }
}

#[tokio::test]
async fn aes_answers_are_verified_then_decrypted() {
    let server = server().await;
    let verified = Verified::default();
    Mock::given(path(AUTH_PATH))
        .and(query_param("conn_key", "ok"))
        .and(verified.clone())
        .respond_with(Reply::json(200, SUCCESS).encrypted(aes_key()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(query_param("conn_key", "tampered"))
        .and(verified.clone())
        .respond_with(Reply::json(200, SUCCESS).encrypted(aes_key()).signing(Signing::Tampered))
        .expect(1)
        .mount(&server)
        .await;
    // Correctly signed, but encrypted with another key: verification passes, decryption fails.
    Mock::given(path(AUTH_PATH))
        .and(query_param("conn_key", "otherkey"))
        .and(verified.clone())
        .respond_with(
            Reply::json(200, SUCCESS)
                .encrypted(alipay_v3::aes::AesKey::from_base64("AAAAAAAAAAAAAAAAAAAAAA==").unwrap()),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Error answers stay plaintext JSON.
    Mock::given(path(AUTH_PATH))
        .and(query_param("conn_key", "error"))
        .and(verified.clone())
        .respond_with(Reply::json(400, r#"{"code":"TOKEN_INVALID","message":"m"}"#))
        .expect(1)
        .mount(&server)
        .await;

    let c = builder(&server.uri()).encrypt_key(aes_key()).build().unwrap();
    assert!(c.is_encrypted());
    let q = |k: &str| c.authentication_query().conn_key(k).once_token(format!("t-{k}")).send();

    let res = q("ok").await.unwrap();
    assert_eq!(res.identity_result, IdentityResult::Success);

    let e = q("tampered").await.unwrap_err();
    assert!(matches!(&e, Error::Verification(v) if v.kind == VerificationKind::BadSignature), "{e:?}");

    let e = q("otherkey").await.unwrap_err();
    assert!(matches!(&e, Error::Decryption(_)), "{e:?}");
    assert!(e.to_string().contains("encrypt key"), "{e}");

    let e = q("error").await.unwrap_err();
    assert_eq!(e.api_code(), Some(&ErrorCode::TokenInvalid));

    for s in verified.seen() {
        assert_eq!(s.header("alipay-encrypt-type"), Some("AES"), "GET is marked too");
        assert_eq!(s.header("content-type"), Some("text/plain"));
        assert_eq!(s.body, "", "a GET carries no body");
    }
}

#[tokio::test]
async fn aes_request_body_is_encrypted_before_signing() {
    let server = server().await;
    let verified = Verified::default();
    Mock::given(method("POST"))
        .and(path("/v3/alipay/x/add"))
        .and(verified.clone())
        .respond_with(Reply::json(200, r#"{"echo":"中文"}"#).encrypted(aes_key()))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&server.uri()).encrypt_key_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap().build().unwrap();
    let res = c.request(http::Method::POST, "/v3/alipay/x/add").json_text(r#"{"a":"中文"}"#).send().await.unwrap();
    assert!(res.encrypted);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["echo"], "中文");
    let s = &verified.seen()[0];
    // vector from the protocol reference: {"a":"中文"} → TI5fGWVveeuELxAfOcy45g==
    assert_eq!(s.body, "TI5fGWVveeuELxAfOcy45g==");
    assert_eq!(aes_key().decrypt_to_string(&s.body).unwrap(), r#"{"a":"中文"}"#);
}

fn cert_client(endpoint: &str) -> jobworth::Client {
    jobworth::Client::builder()
        .endpoint(endpoint)
        .app_id(APP_ID)
        .private_key(app_key())
        .retry_backoff(Duration::from_millis(5))
        .certificates(
            &fixture("appCertPublicKey_2021001161683774.crt"),
            &fixture("alipayCertPublicKey_RSA2.crt"),
            &fixture("alipayRootCert.crt"),
        )
        .unwrap()
        .build()
        .unwrap()
}

const ROOT_SN: &str = "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6";

#[tokio::test]
async fn certificate_mode_sends_sns_and_rejects_a_foreign_alipay_sn() {
    let server = server().await;
    let verified = Verified::default();
    for (ck, sn, status) in [
        ("mismatch", "434f1917d274f729a2d46adda224718d-mock", 200),
        ("matching", "7513daaaa48aa3ba2e4018d84402479c", 200),
        ("error", "434f1917d274f729a2d46adda224718d-mock", 400),
    ] {
        let body = if status == 200 { SUCCESS } else { r#"{"code":"TOKEN_INVALID","message":"m"}"# };
        Mock::given(path(AUTH_PATH))
            .and(query_param("conn_key", ck))
            .and(verified.clone())
            .respond_with(Reply::json(status, body).header("alipay-sn", sn))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = cert_client(&server.uri());
    assert!(c.credentials().is_certificate_mode());
    let q = |k: &'static str| c.authentication_query().conn_key(k).once_token("t").send();

    let e = q("mismatch").await.unwrap_err();
    match &e {
        Error::Verification(v) => assert_eq!(
            v.kind,
            VerificationKind::SnMismatch {
                expected: "7513daaaa48aa3ba2e4018d84402479c".into(),
                received: "434f1917d274f729a2d46adda224718d-mock".into()
            }
        ),
        other => panic!("{other:?}"),
    }
    // Right SN, but the answer is signed by a key that is not the Alipay certificate's: the
    // certificate's key (not some configured public key) is what verifies.
    let e = q("matching").await.unwrap_err();
    assert!(matches!(&e, Error::Verification(v) if v.kind == VerificationKind::BadSignature), "{e:?}");
    // A signed error answer from another certificate is not trusted either.
    let e = q("error").await.unwrap_err();
    assert!(matches!(&e, Error::Verification(v) if matches!(v.kind, VerificationKind::SnMismatch { .. })), "{e:?}");

    for s in verified.seen() {
        assert_eq!(s.auth.app_cert_sn.as_deref(), Some("866efef280dec9137a87d047ac446315"));
        assert!(s
            .auth
            .auth_string
            .starts_with(&format!("app_id={APP_ID},app_cert_sn=866efef280dec9137a87d047ac446315,nonce=")));
        assert_eq!(s.header("alipay-root-cert-sn"), Some(ROOT_SN));
    }

    let order =
        c.order_string().out_agreement_no("c").service_id("s").timestamp("2024-06-07 18:41:51").build().unwrap();
    let params = alipay_v3::order::verify_order_string(&order, &app_public()).unwrap();
    assert_eq!(params.get("app_cert_sn"), Some("866efef280dec9137a87d047ac446315"));
    assert_eq!(params.get("alipay_root_cert_sn"), Some(ROOT_SN));
}

#[tokio::test]
async fn ambiguous_query_is_not_repeated_and_the_error_says_why() {
    let server = server().await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(200, SUCCESS).delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();
    let e = c.authentication_query().conn_key("c").once_token("t").send().await.unwrap_err();
    match &e {
        Error::MaybeSent(m) => {
            assert_eq!(m.kind, MaybeSentKind::Timeout { after: Duration::from_millis(300) });
            assert_eq!(m.request.attempts, 1);
            assert!(m.request.single_use_token);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.token_may_be_consumed() && e.is_retryable());
    let text = e.to_string();
    assert!(text.starts_with("no answer within 300ms"), "{text}");
    assert!(text.contains("once_token may already have been consumed"), "{text}");
    assert!(text.contains("new step 1"), "{text}");
}

/// The first attempt times out (the server may have consumed the token), the opted-in retry gets
/// `TOKEN_INVALID`: the caller must be told that the earlier attempt may have consumed it.
#[tokio::test]
async fn retried_ambiguous_query_does_not_hide_a_consumed_token() {
    let server = server().await;
    let verified = Verified::default();
    Mock::given(path(AUTH_PATH))
        .and(verified.clone())
        .respond_with(Reply::json(200, SUCCESS).delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(verified.clone())
        .respond_with(Reply::json(400, r#"{"code":"TOKEN_INVALID","message":"token already used"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();
    let e = c.authentication_query().conn_key("c").once_token("t").retry_ambiguous(true).send().await.unwrap_err();

    let Error::TokenPossiblyConsumed { first, last } = &e else { panic!("expected TokenPossiblyConsumed, got {e:?}") };
    assert!(matches!(**first, Error::MaybeSent(_)), "{first:?}");
    assert_eq!(last.api_code(), Some(&ErrorCode::TokenInvalid));
    assert_eq!(e.api_code(), Some(&ErrorCode::TokenInvalid));
    assert_eq!(e.request().unwrap().attempts, 2);
    assert!(e.token_may_be_consumed() && e.needs_new_token());
    let text = e.to_string();
    assert!(text.contains("TOKEN_INVALID"), "{text}");
    assert!(text.contains("an earlier query with this once_token may have consumed it"), "{text}");
    assert!(text.contains("result is lost"), "{text}");
    assert!(text.contains("earlier: no answer within 300ms, request id "), "{text}");
    assert!(text.contains("now: HTTP 400 TOKEN_INVALID token already used, trace id "), "{text}");
    assert!(text.contains("new step 1"), "{text}");
    let seen = verified.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].auth.nonce, seen[1].auth.nonce, "the retry is signed afresh");
}

/// Same, when the caller repeats the query by hand after a timeout.
#[tokio::test]
async fn caller_repeat_after_timeout_is_reported_and_other_tokens_are_not_affected() {
    let server = server().await;
    Mock::given(path(AUTH_PATH))
        .and(query_param("once_token", "t1"))
        .and(Verified::default())
        .respond_with(Reply::json(200, SUCCESS).delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(400, r#"{"code":"TOKEN_INVALID","message":"m"}"#))
        .expect(2)
        .mount(&server)
        .await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();
    let q = |t: &str| c.authentication_query().conn_key("c").once_token(t).send();

    let first = q("t1").await.unwrap_err();
    assert!(matches!(first, Error::MaybeSent(_)), "{first:?}");
    // A clone shares what the client remembers.
    let again = c.clone().authentication_query().conn_key("c").once_token("t1").send().await.unwrap_err();
    assert!(matches!(again, Error::TokenPossiblyConsumed { .. }), "{again:?}");
    // A token with no ambiguous history gets the plain answer.
    let plain = q("t2").await.unwrap_err();
    assert!(matches!(&plain, Error::Api(a) if a.code == ErrorCode::TokenInvalid), "{plain:?}");
}

#[tokio::test]
async fn a_definite_answer_clears_the_ambiguity() {
    let server = server().await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(200, SUCCESS).delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(200, r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING"}"#))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(400, r#"{"code":"TOKEN_INVALID","message":"m"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let c = builder(&server.uri()).timeout(Duration::from_millis(300)).build().unwrap();
    let q = || c.authentication_query().conn_key("c").once_token("t").send();
    assert!(matches!(q().await, Err(Error::MaybeSent(_))));
    assert_eq!(q().await.unwrap().identity_result, IdentityResult::WaitingVerify);
    // The pending answer proved the token was not consumed by the timed-out query.
    assert!(matches!(q().await, Err(Error::Api(_))));
}

#[tokio::test]
async fn verified_but_undecodable_success_is_a_decode_error() {
    for body in [r#"{"token_status":"FINISH"}"#, "not json", ""] {
        let e = query_error(body, 200, Signing::Alipay).await;
        assert!(matches!(&e, Error::Decode(_)), "{body}: {e:?}");
        assert!(e.token_may_be_consumed());
    }
}
