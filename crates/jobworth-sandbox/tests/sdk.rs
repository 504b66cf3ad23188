//! The sandbox driven by the project's own SDK (`jobworth::Client`) through every answer of the
//! query that a correct client can produce: the whole flow, key mode, certificate mode, AES,
//! every persona, pending → resolve, the business errors and the gateway errors.
//! (Byte-level abuse — replay, tampered targets, stale timestamps — needs a hand-built request
//! and lives in `gateway.rs`.)

use std::time::Duration;

use alipay_v3::keys::PrivateKey;
use jobworth::{CertType, Client, ErrorCode, IdentityResult, IdentityType, QueryType, TokenStatus};
use jobworth_testkit::app::App;
use jobworth_testkit::fixtures::{app_key, APP_ID as APP, SERVICE_ID, TEACHER_CERT, TEACHER_OPEN, TEACHER_USER};
use jobworth_testkit::sandbox::{start, start_with, start_with_aes_app, Harness};
use jobworth_testkit::sdk::{cert_builder, exact_query, key_builder};
use serde_json::json;

fn key_client(h: &Harness, app: &App) -> Client {
    key_builder(h.base(), app).timeout(Duration::from_secs(20)).build().unwrap()
}

fn cert_client(h: &Harness, app: &App) -> Client {
    cert_builder(h.base(), app).build().unwrap()
}

fn query(client: &Client, conn: &str, tok: &str) -> jobworth::AuthenticationQuery {
    exact_query(client, conn, tok, TEACHER_USER)
}

fn api_code(err: &jobworth::Error) -> String {
    err.api_code().unwrap_or_else(|| panic!("not an API error: {err}")).as_str().to_string()
}

/// Step 1 with the SDK's order-string builder, the desk page clicked as `persona`.
async fn through_the_desk(h: &Harness, client: &Client, conn: &str, tok: &str, persona: &str) -> String {
    let order = client
        .order_string()
        .out_agreement_no(conn)
        .service_id(SERVICE_ID)
        .once_token(tok)
        .identity_type(IdentityType::Teacher)
        .build()
        .unwrap();
    let r = h.post_json("/sandbox/desk", &json!({"order_str": order})).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let desk = r.json();
    // The desk URL opens the page a person would see.
    let page = h.http.get(desk["desk_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-persona=\"{persona}\"")));
    let id = desk["desk_id"].as_str().unwrap().to_string();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirect
        .post(format!("{}/desk/{id}/complete", h.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("persona={persona}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    id
}

#[tokio::test]
async fn full_flow_in_key_mode() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let client = key_client(&h, &app);
    let (conn, tok) = (jobworth::new_conn_key(), jobworth::new_once_token());
    through_the_desk(&h, &client, &conn, &tok, "teacher").await;

    let res = query(&client, &conn, &tok).send().await.unwrap();
    assert_eq!(res.identity_result, IdentityResult::Success);
    assert_eq!(res.token_status, Some(TokenStatus::Finish));
    assert_eq!(res.user_id.as_deref(), Some(TEACHER_USER));
    assert_eq!(res.open_id.as_deref(), Some(TEACHER_OPEN));
    assert_eq!(res.merchant_identity_id, Some(jobworth_sandbox::merchant_identity_id(APP, TEACHER_USER)));
    assert!(res.identity_result_skip_url.unwrap().starts_with("alipays://platformapi/startapp?appId="));

    let err = query(&client, &conn, &tok).send().await.unwrap_err();
    assert_eq!(err.api_code(), Some(&ErrorCode::TokenInvalid));
    let api = err.as_api().unwrap();
    assert_eq!(api.response.status.as_u16(), 400);
    assert!(api.signed, "error answers are signed by default");
    assert!(err.trace_id().is_some_and(|t| t.len() == 32));

    // The Java-shaped call, with the id card as identifier.
    let (conn, tok) = (jobworth::new_conn_key(), jobworth::new_once_token());
    through_the_desk(&h, &client, &conn, &tok, "not-teacher").await;
    let res = client
        .query(
            Some(&conn),
            Some(&tok),
            Some("exact"),
            Some("04"),
            Some(SERVICE_ID),
            None,
            None,
            Some("310104199007222349"),
            Some("0"),
        )
        .await
        .unwrap();
    assert_eq!(res.identity_result, IdentityResult::Failed);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn certificate_mode_and_aes() {
    let (h, app, aes) = start_with_aes_app().await;

    let client = cert_client(&h, &app);
    h.authenticate(&app, "conn-c", "tok-c", "teacher").await;
    let res = query(&client, "conn-c", "tok-c").send().await.unwrap();
    assert_eq!(res.identity_result, IdentityResult::Success);

    // AES: every request marked, every 2xx body verified then decrypted by the SDK.
    let aes_client = key_builder(h.base(), &app).encrypt_key(aes.clone()).build().unwrap();
    h.authenticate(&app, "conn-a", "tok-a", "teacher").await;
    let res = query(&aes_client, "conn-a", "tok-a").send().await.unwrap();
    assert_eq!(res.identity_result, IdentityResult::Success);
    assert_eq!(res.user_id.as_deref(), Some(TEACHER_USER));
    // Both at once.
    let both = cert_builder(h.base(), &app).encrypt_key(aes).build().unwrap();
    h.authenticate(&app, "conn-b", "tok-b", "pending").await;
    let q = both
        .authentication_query()
        .conn_key("conn-b")
        .once_token("tok-b")
        .query_type(QueryType::Dim)
        .identity_type(IdentityType::Teacher)
        .service_id(SERVICE_ID);
    assert_eq!(q.send().await.unwrap().identity_result, IdentityResult::WaitingVerify);

    // Replacing the registration issues a new app cert: the old one no longer exists.
    h.replace(APP, &app_key(), None).await;
    let err = query(&client, "conn-c", "tok-c").send().await.unwrap_err();
    assert_eq!(err.api_code(), Some(&ErrorCode::AppCertNotExist));
    // And the app no longer has an AES key.
    let err = query(&aes_client, "conn-a", "tok-a").send().await.unwrap_err();
    assert_eq!(err.api_code(), Some(&ErrorCode::DecryptionError));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_persona_and_pending_resolve() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let client = key_client(&h, &app);
    let personas = h.get("/sandbox/personas").await.json();
    for p in personas.as_array().unwrap() {
        let name = p["persona"].as_str().unwrap();
        let (conn, tok) = (jobworth::new_conn_key(), jobworth::new_once_token());
        let desk_id = through_the_desk(&h, &client, &conn, &tok, name).await;
        let q = client
            .authentication_query()
            .conn_key(&conn)
            .once_token(&tok)
            .query_type(QueryType::Exact)
            .identity_type(IdentityType::Teacher)
            .service_id(SERVICE_ID)
            .open_id(p["open_id"].as_str().unwrap());
        match name {
            "teacher" => assert_eq!(q.send().await.unwrap().identity_result, IdentityResult::Success),
            "not-teacher" => assert_eq!(q.send().await.unwrap().identity_result, IdentityResult::Failed),
            "pending" => {
                for _ in 0..2 {
                    let r = q.clone().send().await.unwrap();
                    assert_eq!(r.identity_result, IdentityResult::WaitingVerify);
                    assert_eq!(r.token_status, Some(TokenStatus::Processing));
                }
                let r = h
                    .post_json(&format!("/sandbox/desk/{desk_id}/resolve"), &json!({"identity_result": "SUCCESS"}))
                    .await;
                assert_eq!(r.status, 200);
                let r = q.clone().send().await.unwrap();
                assert_eq!((r.identity_result, r.token_status), (IdentityResult::Success, Some(TokenStatus::Finish)));
                assert_eq!(q.send().await.unwrap_err().api_code(), Some(&ErrorCode::TokenInvalid));
            }
            _ => {
                let expected = match name {
                    "blacklisted" => ErrorCode::JobWorthBlackList,
                    "no-zhima" => ErrorCode::NotOpenZm,
                    "no-jobworth" => ErrorCode::UserNotOpenJobworth,
                    "risk" => ErrorCode::RiskIntercept,
                    other => panic!("unexpected persona {other}"),
                };
                for _ in 0..2 {
                    let err = q.clone().send().await.unwrap_err();
                    assert_eq!(err.api_code(), Some(&expected), "{name}");
                    assert!(!err.token_may_be_consumed());
                }
            }
        }
    }
    // Cancelled at the desk.
    let (conn, tok) = (jobworth::new_conn_key(), jobworth::new_once_token());
    let order = client.order_string().out_agreement_no(&conn).service_id(SERVICE_ID).once_token(&tok).build().unwrap();
    let desk = h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    h.post_json(&format!("/sandbox/desk/{}/cancel", desk["desk_id"].as_str().unwrap()), &json!({})).await;
    let err = query(&client, &conn, &tok).send().await.unwrap_err();
    assert_eq!(err.api_code(), Some(&ErrorCode::UserNotAuthorize));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn business_errors_through_the_sdk() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let client = key_client(&h, &app);
    h.authenticate(&app, "conn-1", "tok-1", "teacher").await;
    h.authenticate(&app, "conn-2", "tok-2", "teacher").await;
    let base = || query(&client, "conn-1", "tok-1");
    let rows: Vec<(jobworth::AuthenticationQuery, ErrorCode)> = vec![
        (query(&client, "conn-9", "tok-1"), ErrorCode::WrongOutAgreementNoIntercept),
        (query(&client, "conn-1", "tok-9"), ErrorCode::TokenInvalid),
        (query(&client, "conn-1", "tok-2"), ErrorCode::TokenInvalid),
        (base().identity_type("01"), ErrorCode::TokenNotMatchIdentityType),
        (base().service_id("2019120400000000000000000001"), ErrorCode::MerchantIntercept),
        (base().query_type("fuzzy"), ErrorCode::InvalidParameter),
        (base().cert_type("7").cert_no(TEACHER_CERT), ErrorCode::InvalidParameter),
        (
            client
                .authentication_query()
                .once_token("tok-1")
                .service_id(SERVICE_ID)
                .query_type(QueryType::Dim)
                .identity_type(IdentityType::Teacher),
            ErrorCode::InvalidParameter,
        ),
        (base().user_id("2088102146225109"), ErrorCode::UserNotAuthorize),
        (base().cert(CertType::IdCard, "310104199007222349"), ErrorCode::CardNoNotMatch),
        (base().cert(CertType::IdCard, "110105198503151231"), ErrorCode::ParamError),
    ];
    for (q, code) in rows {
        let err = q.send().await.unwrap_err();
        assert_eq!(err.api_code(), Some(&code), "{err}");
        assert!(!err.token_may_be_consumed());
    }
    // None of that consumed the token.
    assert_eq!(base().send().await.unwrap().identity_result, IdentityResult::Success);
    assert_eq!(api_code(&base().send().await.unwrap_err()), "TOKEN_INVALID");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn gateway_errors_through_the_sdk() {
    let h = start_with(|c| c.unsigned_errors = true).await;
    let app = h.register(APP, &app_key(), None).await;
    h.authenticate(&app, "conn-g", "tok-g", "teacher").await;
    let client = key_client(&h, &app);
    let wrong_key = key_builder(h.base(), &app).private_key(PrivateKey::generate().unwrap()).build().unwrap();
    let err = query(&wrong_key, "conn-g", "tok-g").send().await.unwrap_err();
    assert_eq!(err.api_code(), Some(&ErrorCode::InvalidSignature));
    assert!(!err.as_api().unwrap().signed, "--unsigned-errors");
    let stranger = key_builder(h.base(), &app).app_id("2021000000000404").build().unwrap();
    assert_eq!(
        query(&stranger, "conn-g", "tok-g").send().await.unwrap_err().api_code(),
        Some(&ErrorCode::InvalidAppId)
    );
    let raw = client.request(http::Method::GET, "/v3/alipay/user/info/share").query("a", "b").send().await;
    assert_eq!(raw.unwrap_err().api_code(), Some(&ErrorCode::InvalidMethod));
    // A client holding the wrong Alipay key refuses the (correctly signed) success.
    let misconfigured = key_builder(h.base(), &app).alipay_public_key(app.key.public_key()).build().unwrap();
    let err = query(&misconfigured, "conn-g", "tok-g").send().await.unwrap_err();
    assert!(matches!(err, jobworth::Error::Verification(_)), "{err}");
    // The sandbox did answer (and consume): the right client now sees TOKEN_INVALID.
    assert_eq!(query(&client, "conn-g", "tok-g").send().await.unwrap_err().api_code(), Some(&ErrorCode::TokenInvalid));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn token_ttl_through_the_sdk() {
    let h = start_with(|c| c.token_ttl = Duration::from_millis(600)).await;
    let app = h.register(APP, &app_key(), None).await;
    let client = key_client(&h, &app);
    h.authenticate(&app, "conn-t", "tok-t", "teacher").await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(query(&client, "conn-t", "tok-t").send().await.unwrap_err().api_code(), Some(&ErrorCode::TokenInvalid));
    h.sandbox.shutdown().await;
}

/// Production's Alipay certificate (the official fixtures are Alipay's real files) configured
/// against the sandbox: the answer's `alipay-sn` is the sandbox's, and the error says both SNs
/// and which side each certificate is of.
#[tokio::test]
async fn production_certificate_against_the_sandbox_is_named() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let r = &app.registration;
    let sandbox_sn = alipay_v3::cert::cert_sn(r["alipay_cert"].as_str().unwrap()).unwrap();
    let production_sn = "7513daaaa48aa3ba2e4018d84402479c";
    let client = Client::builder()
        .endpoint(h.base())
        .app_id(&app.app_id)
        .private_key(app.key.clone())
        .certificates(
            r["app_cert"].as_str().unwrap(),
            &jobworth_testkit::fixtures::fixture("alipayCertPublicKey_RSA2.crt"),
            &jobworth_testkit::fixtures::fixture("alipayRootCert.crt"),
        )
        .unwrap()
        .build()
        .unwrap();
    h.authenticate(&app, "conn-p", "tok-p", "teacher").await;
    let err = query(&client, "conn-p", "tok-p").send().await.unwrap_err();
    let jobworth::Error::Verification(v) = &err else { panic!("not a verification error: {err}") };
    assert_eq!(
        v.kind,
        jobworth::VerificationKind::SnMismatch { expected: production_sn.into(), received: sandbox_sn.clone() }
    );
    assert_eq!(v.environment, Some(jobworth::WrongEnvironment::ProductionAgainstSandbox));
    let text = err.to_string();
    assert!(text.contains(production_sn) && text.contains(&sandbox_sn), "{text}");
    assert!(text.contains("configured with production's Alipay certificate"), "{text}");
    assert!(text.contains("against a sandbox on this machine"), "{text}");

    // The sandbox's own certificates against the same sandbox: no environment is named.
    let ok = cert_builder(h.base(), &app).build().unwrap();
    h.authenticate(&app, "conn-q", "tok-q", "teacher").await;
    assert_eq!(query(&ok, "conn-q", "tok-q").send().await.unwrap().identity_result, IdentityResult::Success);
    // Key mode names no side: a bare key has no issuer.
    let wrong_key = key_builder(h.base(), &app).alipay_public_key(PrivateKey::generate().unwrap().public_key());
    h.authenticate(&app, "conn-k", "tok-k", "teacher").await;
    let err = query(&wrong_key.build().unwrap(), "conn-k", "tok-k").send().await.unwrap_err();
    let jobworth::Error::Verification(v) = &err else { panic!("not a verification error: {err}") };
    assert_eq!((&v.kind, v.environment), (&jobworth::VerificationKind::BadSignature, None));
    h.sandbox.shutdown().await;
}
