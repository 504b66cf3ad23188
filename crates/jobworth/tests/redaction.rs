//! Secrets (private key, AES key, full `cert_no`) never appear in `Debug`, `Display`, error text
//! or logs.

use std::sync::{Arc, Mutex, OnceLock};

use jobworth::{CertType, Client, QueryType};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use jobworth_testkit::raw_server::*;

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One process-wide subscriber at TRACE level (the HTTP stack's events included). Thread-local
/// subscribers miss events when other tests run concurrently, hence a global one.
fn logs() -> &'static LogBuf {
    static BUF: OnceLock<LogBuf> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = LogBuf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
}

/// Middle slices of the secret texts: none may show up anywhere.
fn secret_fragments() -> Vec<String> {
    let key_b64 = app_key().to_pkcs8_base64().to_string();
    let pkcs1 = fixture("app-private-key-pkcs1.pem");
    let pkcs1_body: String = pkcs1.lines().filter(|l| !l.starts_with("-----")).collect();
    vec![
        key_b64[100..140].to_string(),
        pkcs1_body[200..240].to_string(),
        "aYA0GP8JEW+D7/UFaskCWA==".to_string(),
        CERT_NO.to_string(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for s in secret_fragments() {
        assert!(!text.contains(&s), "{what} leaks a secret: {text}");
    }
}

#[tokio::test]
async fn cert_no_never_appears_in_logs_or_errors() {
    let buf = logs();
    let echo = format!(r#"{{"code":"CARD_NO_NOT_MATCH","message":"cert_no {CERT_NO} does not match"}}"#);
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| signed_http(400, &echo)))).await;
    let c = builder(&server.url()).encrypt_key(aes_key()).build().unwrap();
    let e = c
        .authentication_query()
        .conn_key("conn-redaction")
        .once_token("t")
        .query_type(QueryType::Exact)
        .cert(CertType::IdCard, CERT_NO)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(&jobworth::ErrorCode::CardNoNotMatch));
    let shown = format!("{e}\n{e:?}");
    assert_clean("API error", &shown);
    assert!(shown.contains("cert_no 1101**********0021 does not match"), "{shown}");
    // The wire did carry it, and the raw body is kept for the caller (never printed).
    assert!(server.requests()[0].target.contains(CERT_NO));
    assert!(e.as_api().unwrap().body_text().contains(CERT_NO));

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("conn_key=conn-redaction") && logs.contains("cert_no=1101**********0021"), "{logs}");
    assert!(logs.contains("request_id="), "{logs}");
    assert_clean("logs", &logs);
}

#[tokio::test]
async fn every_form_of_an_echoed_cert_no_is_masked() {
    // Born in 1980, so it also has a legacy 15-digit form.
    const ID: &str = "34052419800101001X";
    let forms = ["34052419800101001X", "34052419800101001x", "340524800101001"];
    let echo = r#"{"code":"CARD_NO_NOT_MATCH","message":"证件号34052419800101001x与340524800101001不符; other 110105200002290021","links":[{"link":"https://example.invalid/?no=34052419800101001X","desc":"号码340524800101001"}]}"#;
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| signed_http(400, echo)))).await;
    let e = client(&server.url())
        .authentication_query()
        .conn_key("c")
        .once_token("t")
        .cert(CertType::IdCard, ID)
        .send()
        .await
        .unwrap_err();
    let api = e.as_api().unwrap();
    let shown = format!("{e}\n{e:?}\n{}", serde_json::to_string(api).unwrap());
    for form in forms.iter().chain(&[CERT_NO]) {
        assert!(!shown.contains(form), "{form} leaks: {shown}");
    }
    assert!(shown.contains("证件号3405**********001X与3405*******1001不符"), "{shown}");

    // Even a code that carries the number.
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| {
        signed_http(400, r#"{"code":"BAD_34052419800101001x","message":"m"}"#)
    })))
    .await;
    let e = client(&server.url()).authentication_query().conn_key("c").once_token("t").send().await.unwrap_err();
    let shown = format!("{e}\n{e:?}");
    assert!(!shown.to_lowercase().contains("34052419800101001x"), "{shown}");
}

#[tokio::test]
async fn a_document_number_in_a_path_is_masked_in_errors_and_logs() {
    let buf = logs();
    let c = builder(&closed_endpoint()).max_retries(0).build().unwrap();
    let e = c.request(http::Method::GET, format!("/v3/people/{CERT_NO}/card")).send().await.unwrap_err();
    let shown = format!("{e}\n{e:?}");
    assert!(!shown.contains(CERT_NO), "{shown}");
    assert!(shown.contains("/v3/people/1101**********0021/card"), "{shown}");
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("/v3/people/1101**********0021/card"), "{logs}");
    assert_clean("logs", &logs);
}

#[test]
fn debug_output_of_configuration_and_requests_is_clean() {
    let b = builder("http://127.0.0.1:9")
        .encrypt_key_base64("aYA0GP8JEW+D7/UFaskCWA==")
        .unwrap()
        .private_key_pem(&fixture("app-private-key-pkcs1.pem"))
        .unwrap()
        .app_auth_token("202406BBsecretauthtoken");
    let shown = format!("{b:?}");
    assert_clean("builder", &shown);
    assert!(!shown.contains("202406BBsecretauthtoken"), "{shown}");

    let c: Client = b.build().unwrap();
    let shown = format!("{c:?}");
    assert_clean("client", &shown);
    assert!(!shown.contains("202406BBsecretauthtoken"), "{shown}");

    let q = c.authentication_query().conn_key("c").once_token("t").cert(CertType::IdCard, CERT_NO);
    let shown = format!("{q:?}");
    assert_clean("query", &shown);
    assert!(shown.contains("1101**********0021"), "{shown}");

    let r =
        c.request(http::Method::POST, "/v3/x").query("cert_no", CERT_NO).json(&serde_json::json!({"cert_no": CERT_NO}));
    let shown = format!("{r:?}");
    assert_clean("request builder", &shown);

    let o = c.order_string().out_agreement_no("c").service_id("s");
    assert_clean("order builder", &format!("{o:?}"));

    for e in [
        jobworth::Client::builder().private_key_pem(&app_public().to_spki_base64()).unwrap_err(),
        jobworth::Client::builder().encrypt_key_base64("aYA0GP8JEW+D7/UFaskC").unwrap_err(),
    ] {
        assert_clean("config error", &format!("{e} {e:?}"));
    }

    let v = c
        .authentication_query()
        .conn_key("c")
        .once_token("t")
        .service_id("s")
        .identity_type("04")
        .query_type(QueryType::Exact)
        .cert(CertType::IdCard, "110105200002290022")
        .validate()
        .unwrap_err();
    assert!(!format!("{v} {v:?}").contains("110105200002290022"));
}

#[tokio::test]
async fn once_tokens_and_user_names_are_masked_where_a_request_is_shown() {
    let buf = logs();
    let server =
        RawServer::start(RawMode::Respond(Arc::new(move |_| signed_http(400, r#"{"code":"SYSTEM_ERROR"}"#)))).await;
    let c = client(&server.url());
    let token = "tok-redaction-0123456789";
    let _ = c.cloud_resume("conn-masked", token).send().await.unwrap_err();
    let _ = c.work_card_info().conn_key("conn-masked").user_name("张三丰先生").user_id("2088").send().await;
    let q = c.authentication_query().conn_key("conn-masked").once_token(token);
    assert!(!format!("{q:?}").contains(token), "{q:?}");
    let r = c.cloud_resume("conn-masked", token);
    assert!(!format!("{r:?}").contains(token), "{r:?}");
    let w = c.work_card_info().user_name("张三丰先生");
    assert!(!format!("{w:?}").contains("张三丰先生"), "{w:?}");
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("conn_key=conn-masked"), "{logs}");
    assert!(!logs.contains(token), "logs show a once_token: {logs}");
    assert!(!logs.contains("张三丰先生") && !logs.contains("%E5%BC%A0%E4%B8%89%E4%B8%B0"), "logs show a name: {logs}");
    // The wire carried both.
    let targets: Vec<_> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert!(targets.iter().any(|t| t.contains(token)), "{targets:?}");
}
