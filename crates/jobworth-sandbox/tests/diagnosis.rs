//! Refusals that say what was expected, and the request log that keeps them: each diagnosis over
//! loopback HTTP against a started sandbox, its message and its `GET /sandbox/requests` entry.

use alipay_v3::keys::PrivateKey;
use jobworth_testkit::app::{exact_query, teacher_query, App};
use jobworth_testkit::fixtures::{APP_ID, CERT_NO, TEACHER_USER};
use jobworth_testkit::http::Resp;
use jobworth_testkit::sandbox::{start_with, start_with_app, Harness};
use jobworth_testkit::signed::{order_string, Req};
use serde_json::{json, Value};

/// `jobworth keys fingerprint crates/alipay-v3/tests/fixtures/app-public-key.pem`
const FIXTURE_FINGERPRINT: &str =
    "SHA256:ff:9b:07:cc:0c:b2:52:13:90:5f:0d:cf:c4:cd:cb:89:24:e9:9d:e2:f1:6a:9c:ab:5f:e2:ba:ad:2f:fe:dd:96";

fn message(r: &Resp) -> String {
    r.json()["message"].as_str().unwrap().to_string()
}

/// The newest entries of the request log.
async fn log(h: &Harness, query: &str) -> Vec<Value> {
    let r = h.get(&format!("/sandbox/requests{query}")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    r.json().as_array().unwrap().clone()
}

/// The log entry of answer `r` (by its trace id), checked against what the answer said.
async fn entry_of(h: &Harness, r: &Resp) -> Value {
    let id = r.header("alipay-trace-id").unwrap();
    let entries = log(h, "?limit=1000").await;
    let e = entries.iter().find(|e| e["id"] == id).unwrap_or_else(|| panic!("no log entry {id}: {entries:?}")).clone();
    assert_eq!(e["status"], r.status);
    if r.status >= 400 {
        assert_eq!(e["verdict"], "refused");
        assert_eq!(e["code"], r.json()["code"]);
        assert_eq!(e["message"], r.json()["message"]);
    } else {
        assert_eq!(e["verdict"], "ok");
        assert!(e["code"].is_null() && e.get("diagnosis").is_none(), "{e}");
    }
    assert!(e["latency_ms"].is_u64() && e["at"].as_str().unwrap().ends_with('Z'), "{e}");
    e
}

#[tokio::test]
async fn another_key_is_named_by_the_registered_fingerprint() {
    let (h, app, alipay) = start_with_app().await;
    let (conn, token, _) = h.new_token(&app).await;
    let other = App { key: PrivateKey::generate().unwrap(), ..app.clone() };
    let r = h.query(&other, &conn, &token).await;
    r.assert_error(400, "invalid-signature", &alipay);
    assert_eq!(
        message(&r),
        format!(
            "验签出错 (signed with another key than the one registered for app {APP_ID}, whose public key is \
             {FIXTURE_FINGERPRINT}; compare with `jobworth keys fingerprint FILE` on the private key you sign with: \
             another fingerprint means the app is registered with another key pair)"
        )
    );
    let e = entry_of(&h, &r).await;
    assert_eq!(e["diagnosis"], "wrong-key");
    assert_eq!(e["app_id"], APP_ID);
    assert_eq!(e["method"], "GET");
    // The token is untouched: the right key reads it.
    let ok = h.query(&app, &conn, &token).await;
    assert_eq!(ok.status, 200);
    assert_eq!(entry_of(&h, &ok).await["app_id"], APP_ID);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn another_string_is_shown_as_the_sandbox_verified_it() {
    let (h, app, alipay) = start_with_app().await;
    let (nonce, ts) = ("5f0e3c1a-diagnosis-nonce", alipay_v3::now_millis());
    let signed = Req::query(&teacher_query("conn-1", "tok-0123456789abcdef"));
    let sent = "/v3/zhima/customer/jobworth/authentication?once_token=tok-0123456789abcdef&conn_key=conn-1";
    let req = Req { nonce: Some(nonce.into()), timestamp: Some(ts), send_target: Some(sent.into()), ..signed };
    let r = h.send(&app, &req).await;
    r.assert_error(400, "invalid-signature", &alipay);
    let shown = format!(
        "app_id={APP_ID},nonce={nonce},timestamp={ts}\\nGET\\n\
         /v3/zhima/customer/jobworth/authentication?once_token=tok-************cdef&conn_key=conn-1\\n\\n"
    );
    assert_eq!(
        message(&r),
        format!(
            "验签出错 (signed with the registered key, but over another string than the one the sandbox verified: \
             \"{shown}\" (authString, method, the request-target exactly as sent, the body exactly as sent, each \
             followed by \\n; secret values masked here); compare it with the string your client signed)"
        )
    );
    let e = entry_of(&h, &r).await;
    assert_eq!(e["diagnosis"], "wrong-string-to-sign");
    assert_eq!(
        e["string_to_sign"],
        format!(
            "app_id={APP_ID},nonce={nonce},timestamp={ts}\nGET\n\
             /v3/zhima/customer/jobworth/authentication?once_token=tok-************cdef&conn_key=conn-1\n\n"
        )
    );
    assert_eq!(
        e["target"],
        "/v3/zhima/customer/jobworth/authentication?once_token=tok-************cdef&conn_key=conn-1"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn another_hash_is_named() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA512};

    let (h, app, alipay) = start_with_app().await;
    let target = "/v3/zhima/customer/jobworth/authentication?conn_key=c&once_token=t";
    let auth = alipay_v3::sign::auth_string(APP_ID, None, &alipay_v3::new_nonce(), alipay_v3::now_millis());
    let content = format!("{auth}\nGET\n{target}\n\n");
    let pair = RsaKeyPair::from_pkcs8(&app.key.to_pkcs8_der()).unwrap();
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA512, &SystemRandom::new(), content.as_bytes(), &mut sig).unwrap();
    use base64::Engine as _;
    let header = format!("ALIPAY-SHA256withRSA {auth},sign={}", base64::engine::general_purpose::STANDARD.encode(&sig));
    let r = jobworth_testkit::http::send(&h.http, h.base(), "GET", target, &[("authorization", header)], "").await;
    r.assert_error(400, "invalid-signature", &alipay);
    assert_eq!(
        message(&r),
        "验签出错 (signed with the registered key, but hashed with SHA-512 instead of SHA-256: v3 signatures are \
         SHA256withRSA)"
    );
    assert_eq!(entry_of(&h, &r).await["diagnosis"], "wrong-hash");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_stale_timestamp_says_by_how_much_and_the_window() {
    let (h, app, alipay) = start_with_app().await;
    let old = 1_717_756_911_000;
    let r = h.send(&app, &Req { timestamp: Some(old), ..Req::query(&teacher_query("c", "t")) }).await;
    r.assert_error(400, "invalid-timestamp", &alipay);
    let m = message(&r);
    let head = "非法的时间戳参数 (timestamp 1717756911000 (2024-06-07T10:41:51.000Z) is ";
    let tail = "; the window is ±900s: sign with the current time in epoch milliseconds, and check the client's clock)";
    assert!(m.starts_with(head) && m.ends_with(tail), "{m}");
    let skew = &m[head.len()..m.len() - tail.len()];
    assert!(skew.contains("h ") && skew.contains(" behind the sandbox clock (20"), "{skew}");

    let ahead = 4_102_444_800_000;
    let r = h.send(&app, &Req { timestamp: Some(ahead), ..Req::query(&teacher_query("c", "t")) }).await;
    let m = message(&r);
    assert!(m.starts_with("非法的时间戳参数 (timestamp 4102444800000 (2100-01-01T00:00:00.000Z) is "), "{m}");
    assert!(m.contains(" ahead of the sandbox clock ("), "{m}");
    assert_eq!(entry_of(&h, &r).await["diagnosis"], "stale-timestamp");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_replayed_nonce_says_when_it_was_first_used() {
    // A window of ten years, so that a request signed at a fixed past instant is still in it.
    let h = start_with(|c| c.timestamp_window = std::time::Duration::from_secs(10 * 365 * 86_400)).await;
    let app = h.register(APP_ID, &jobworth_testkit::fixtures::app_key(), None).await;
    let alipay = app.alipay_public_key();
    let ts = 1_717_756_911_000;
    let req =
        Req { nonce: Some("replayed-nonce-1".into()), timestamp: Some(ts), ..Req::query(&teacher_query("c", "t")) };
    let first = h.send(&app, &req).await;
    first.assert_error(400, "WRONG_OUT_AGREEMENT_NO_INTERCEPT", &alipay);
    let e = entry_of(&h, &first).await;
    assert!(e.get("diagnosis").is_none(), "a business refusal has no diagnosis: {e}");
    let again = h.send(&app, &req).await;
    again.assert_error(400, "invalid-signature", &alipay);
    let m = message(&again);
    let head = "验签出错 (replay: this nonce was already used by this app within the timestamp window, first by a \
                request with timestamp 1717756911000 (2024-06-07T10:41:51.000Z, ";
    let tail = " ago); every request needs a fresh nonce and signature, a retry too)";
    assert!(m.starts_with(head) && m.ends_with(tail), "{m}");
    assert!(m[head.len()..m.len() - tail.len()].contains("h "), "hours ago: {m}");
    assert_eq!(entry_of(&h, &again).await["diagnosis"], "replayed-nonce");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_app_cert_sn_names_the_expected_one() {
    let (h, app, alipay) = start_with_app().await;
    let sent = "0123456789abcdef0123456789abcdef";
    let r = h.send(&app, &Req { cert_sn: Some(sent.into()), ..Req::query(&teacher_query("c", "t")) }).await;
    r.assert_error(400, "app-cert-not-exist", &alipay);
    assert_eq!(
        message(&r),
        format!(
            "应用公钥证书不存在 (app_cert_sn {sent} is not the SN of the certificate the sandbox issued to this app; \
             expected {}, the SN of the app_cert POST /sandbox/apps returned (registering the app again issues a new \
             certificate))",
            app.app_cert_sn()
        )
    );
    assert_eq!(entry_of(&h, &r).await["diagnosis"], "wrong-app-cert-sn");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unknown_app_is_named() {
    let (h, app, alipay) = start_with_app().await;
    let stranger = App { app_id: "2021999999999999".into(), ..app };
    let r = h.send(&stranger, &Req::query(&teacher_query("c", "t"))).await;
    r.assert_error(400, "invalid-app-id", &alipay);
    assert_eq!(
        message(&r),
        "无效的AppID参数 (app_id 2021999999999999 is not registered in the sandbox; register it with POST \
         /sandbox/apps, or check that the client sends the app id it was registered with)"
    );
    let e = entry_of(&h, &r).await;
    assert_eq!((e["diagnosis"].as_str(), e["app_id"].as_str()), (Some("unknown-app"), Some("2021999999999999")));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn order_strings_at_the_desk_are_diagnosed_too() {
    let (h, app, _) = start_with_app().await;
    let extra = json!({"onceToken": "tok-0123456789abcdef"});
    let hr = &h;
    let open = |order: String| async move { hr.post_json("/sandbox/desk", &json!({ "order_str": order })).await };

    let other = PrivateKey::generate().unwrap();
    let r = open(order_string(APP_ID, &other, "conn-o1", Some(extra.clone()))).await;
    assert_eq!((r.status, r.code()), (400, "invalid-signature".to_string()));
    assert_eq!(
        message(&r),
        format!(
            "验签出错 (order string signed with another key than the one registered for app {APP_ID}, whose public \
             key is {FIXTURE_FINGERPRINT}; compare with `jobworth keys fingerprint FILE` on the private key you sign \
             with: another fingerprint means the app is registered with another key pair)"
        )
    );
    let e = &log(&h, "?limit=1").await[0];
    assert_eq!((e["diagnosis"].as_str(), e["target"].as_str()), (Some("wrong-key"), Some("/sandbox/desk")));
    assert_eq!(e["method"], "POST");

    // Signed by the app, then one parameter changed on the way.
    let order = order_string(APP_ID, &app.key, "conn-o2", Some(extra.clone()));
    let tampered = order.replace("conn-o2", "conn-o3");
    let r = open(tampered.clone()).await;
    assert_eq!((r.status, r.code()), (400, "invalid-signature".to_string()));
    let content = format!(
        "app_id={APP_ID}&biz_content={{\"extra_param\":\"{{\\\"onceToken\\\":\\\"tok-************cdef\\\"}}\",\
         \"out_agreement_no\":\"conn-o3\",\"zm_service_id\":\"2019120400000000000004450100\"}}&charset=utf-8\
         &method=zhima.credit.payafteruse.creditagreement.sign&sign_type=RSA2&timestamp=2024-06-07 18:41:51&version=1.0"
    );
    assert_eq!(
        message(&r),
        format!(
            "验签出错 (order string signed with the registered key, but over another string than the one the \
             sandbox verified: \"{content}\" (every parameter but sign with a value, sorted by name, raw values, \
             joined with &; secret values masked here); compare it with the string your client signed)"
        )
    );
    let e = &log(&h, "?limit=1").await[0];
    assert_eq!(e["diagnosis"], "wrong-string-to-sign");
    assert_eq!(e["string_to_sign"], content);

    // The desk page says the same, HTML-escaped, and its request is logged with the order elided.
    let page = h.get(&format!("/desk?{tampered}")).await;
    assert_eq!(page.status, 400);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("order string signed with the registered key, but over another string"), "{html}");
    assert!(html.contains("&quot;out_agreement_no&quot;"), "escaped: {html}");
    let e = &log(&h, "?limit=1").await[0];
    assert_eq!((e["method"].as_str(), e["diagnosis"].as_str()), (Some("GET"), Some("wrong-string-to-sign")));
    let target = e["target"].as_str().unwrap();
    assert!(target.starts_with("/desk?method=") && target.contains("&biz_content=<"), "{target}");
    assert!(!target.contains("tok-0123456789abcdef"), "{target}");

    // The same order string untouched opens the desk, and is logged as ok.
    let r = open(order).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let e = &log(&h, "?limit=1").await[0];
    assert_eq!((e["verdict"].as_str(), e["status"].as_u64()), (Some("ok"), Some(201)));
    assert!(e.get("diagnosis").is_none() && e.get("message").is_none(), "{e}");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_log_is_a_bounded_ring_newest_first_without_secrets() {
    let h = start_with(|c| c.limits.request_log = 5).await;
    let app = h.register(APP_ID, &jobworth_testkit::fixtures::app_key(), None).await;
    let token = "tok-0123456789abcdef";
    let mut ids = Vec::new();
    for i in 0..7 {
        let conn = format!("conn-{i}");
        let mut pairs = exact_query(&conn, token, TEACHER_USER);
        pairs.push(("cert_type", "0"));
        pairs.push(("cert_no", CERT_NO));
        let r = h.send(&app, &Req::query(&pairs)).await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        ids.push(r.header("alipay-trace-id").unwrap().to_string());
    }
    let entries = log(&h, "").await;
    let got: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let newest: Vec<&str> = ids.iter().rev().take(5).map(String::as_str).collect();
    assert_eq!(got, newest, "the 5 newest, newest first; the 2 oldest dropped");
    assert_eq!(log(&h, "?limit=2").await.len(), 2);
    assert_eq!(log(&h, &format!("?app_id={APP_ID}&verdict=refused")).await.len(), 5);
    assert_eq!(log(&h, "?verdict=ok").await.len(), 0);
    assert_eq!(log(&h, "?app_id=2021999999999999").await.len(), 0);

    let text = String::from_utf8(h.get("/sandbox/requests").await.body).unwrap();
    assert!(!text.contains(CERT_NO) && !text.contains(token), "{text}");
    assert!(text.contains("cert_no=1101**********0021") && text.contains("once_token=tok-************cdef"), "{text}");
    assert!(!text.contains("sign="), "no authorization in the JSON: {text}");
    let fields: Vec<&str> = entries[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "app_id",
            "at",
            "code",
            "id",
            "latency_ms",
            "message",
            "method",
            "status",
            "string_to_sign",
            "target",
            "verdict"
        ]
    );

    for bad in ["?limit=0", "?limit=6", "?limit=many", "?verdict=maybe"] {
        let r = h.get(&format!("/sandbox/requests{bad}")).await;
        assert_eq!((r.status, r.code()), (400, "invalid-parameter".to_string()), "{bad}");
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_log_is_a_control_route() {
    let h = start_with(|c| c.admin_token = Some("s3cret".into())).await;
    let r = h.get("/sandbox/requests").await;
    assert_eq!((r.status, r.code()), (401, "unauthorized".to_string()));
    let url = format!("{}/sandbox/requests", h.base());
    let r = h.http.get(&url).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = h.http.get(&url).bearer_auth("s3cret").header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_inspector_lists_filters_and_details_escaped() {
    let (h, app, _) = start_with_app().await;
    let (conn, token, _) = h.new_token(&app).await;
    let ok = h.query(&app, &conn, &token).await;
    assert_eq!(ok.status, 200);
    let other = App { key: PrivateKey::generate().unwrap(), ..app.clone() };
    let refused = h.query(&other, &conn, "tok-0123456789abcdef").await;
    let hostile = "ALIPAY-SHA256withRSA app_id=<b>x</b>,nonce=<i>n</i>,timestamp=1,sign=AAAA";
    let path = "/v3/zhima/customer/jobworth/authentication?conn_key=c";
    let odd =
        jobworth_testkit::http::send(&h.http, h.base(), "GET", path, &[("authorization", hostile.into())], "").await;
    assert_eq!(odd.code(), "invalid-app-id");

    let hr = &h;
    let page = |p: String| async move {
        let r = hr.get(&p).await;
        (r.status, String::from_utf8(r.body).unwrap())
    };
    let (status, list) = page("/sandbox/inspector".into()).await;
    assert_eq!(status, 200);
    let rows = list.matches("<li data-id=").count();
    assert_eq!(rows, 3, "{list}");
    assert!(!list.contains("<b>x</b>") && list.contains("&lt;b&gt;x&lt;/b&gt;"), "escaped: {list}");
    assert!(list.contains(&format!("<option value=\"{APP_ID}\">{APP_ID}</option>")), "{list}");
    let (_, refused_only) = page(format!("/sandbox/inspector?app_id={APP_ID}&verdict=refused")).await;
    assert_eq!(refused_only.matches("<li data-id=").count(), 1);
    assert!(refused_only.contains(&format!("data-id=\"{}\"", refused.header("alipay-trace-id").unwrap())));
    assert!(refused_only.contains("<option value=\"refused\" selected>"), "the form keeps the filter");
    let (status, bad) = page("/sandbox/inspector?verdict=maybe".into()).await;
    assert_eq!(status, 400);
    assert!(bad.contains("data-error=\"invalid-parameter\""));

    let id = refused.header("alipay-trace-id").unwrap();
    let (status, detail) = page(format!("/sandbox/inspector/{id}?verdict=refused")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("data-field=\"diagnosis\">wrong-key<"), "{detail}");
    assert!(detail.contains(FIXTURE_FINGERPRINT), "the message is shown");
    assert!(detail.contains("once_token=tok-************cdef"), "{detail}");
    assert!(detail.contains("<span class=\"nl\">\\n</span>"), "line ends shown: {detail}");
    assert!(detail.contains("href=\"/sandbox/inspector?verdict=refused\""), "back keeps the filter");
    let authz =
        detail.split("<dt class=\"mono\">authorization</dt><dd>").nth(1).unwrap().split("</dd>").next().unwrap();
    assert!(authz.starts_with(&format!("ALIPAY-SHA256withRSA app_id={APP_ID},nonce=")), "{authz}");
    assert!(authz.ends_with("…(344 chars)"), "signature elided: {authz}");
    assert!(!detail.contains("tok-0123456789abcdef"));

    let (status, gone) = page("/sandbox/inspector/no-such-id".into()).await;
    assert_eq!(status, 404);
    assert!(gone.contains("data-error=\"not-found\""));
    let r = h.http.get(format!("{}/sandbox/inspector", h.base())).header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403, "the Host check applies");
    h.sandbox.shutdown().await;
}
