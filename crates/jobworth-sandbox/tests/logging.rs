//! Logs carry the trace id and never a `cert_no`, key or token in clear.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jobworth_testkit::app::*;
use jobworth_testkit::fixtures::*;
use jobworth_testkit::http::*;
use jobworth_testkit::sandbox::*;
use jobworth_testkit::signed::*;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_have_trace_ids_and_no_secrets() {
    let buf = Buf::default();
    let sink = buf.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let h = start_with(|c| c.admin_token = Some("admin-s3cret-token".into())).await;
    let aes = alipay_v3::aes::AesKey::generate();
    let body = serde_json::json!({"app_id": "2021000122671080", "public_key": app_key().public_key().to_spki_pem(),
                                   "encrypt_key": aes.to_base64().as_str()});
    let r = h
        .http
        .post(format!("{}/sandbox/apps", h.base()))
        .bearer_auth("admin-s3cret-token")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let app = App {
        app_id: "2021000122671080".into(),
        key: app_key(),
        aes: Some(aes.clone()),
        registration: into_resp(r).await.json(),
    };
    let r = h
        .http
        .post(format!("{}/sandbox/authentications", h.base()))
        .bearer_auth("admin-s3cret-token")
        .header("content-type", "application/json")
        .body(serde_json::json!({"app_id": app.app_id, "conn_key": "conn-l", "service_id": SERVICE_ID, "once_token": "secret-once-token-value", "persona": "teacher"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let q = [
        ("conn_key", "conn-l"),
        ("once_token", "secret-once-token-value"),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
        ("cert_type", "0"),
        ("cert_no", TEACHER_CERT),
    ];
    let ok = h.send(&app, &Req { encrypt: true, ..Req::query(&q) }).await;
    assert_eq!(ok.status, 200);
    let trace = ok.header("alipay-trace-id").unwrap().to_string();
    let bad_check = [("cert_no", "110105198503151231"), ("cert_type", "0")];
    let mut refused: Vec<(&str, &str)> = q[..5].to_vec();
    refused.extend(bad_check);
    assert_eq!(h.send(&app, &Req::query(&refused)).await.code(), "PARAM_ERROR");
    h.sandbox.shutdown().await;

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains(&trace), "trace id of the request is in the logs");
    assert!(logs.contains("token consumed"));
    for secret in [
        TEACHER_CERT,
        "110105198503151231",
        "secret-once-token-value",
        "admin-s3cret-token",
        aes.to_base64().as_str(),
        &app_key().to_pkcs8_base64()[30..70],
        "BEGIN PRIVATE KEY",
    ] {
        assert!(!logs.contains(secret), "log leaks {secret}:\n{logs}");
    }
}
