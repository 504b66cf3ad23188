//! Control plane (`/sandbox/…`: apps, desks, personas), its loopback/admin-token gate, and the
//! desk HTML pages.

use std::net::SocketAddr;

use alipay_v3::keys::{PrivateKey, PublicKey};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use jobworth_testkit::app::*;
use jobworth_testkit::fixtures::*;
use jobworth_testkit::http::*;
use jobworth_testkit::raw::*;
use jobworth_testkit::sandbox::*;
use jobworth_testkit::signed::*;
use serde_json::{json, Value};
use tower::ServiceExt;

const APP: &str = APP_ID;

/// `base` with the fields of `extra` set.
fn merged(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in extra.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

#[tokio::test]
async fn health_public_key_and_personas() {
    let h = start().await;
    let r = h.get("/sandbox/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = h.get("/sandbox/alipay-public-key").await;
    assert_eq!(r.status, 200);
    let pem = String::from_utf8(r.body.clone()).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let key = PublicKey::parse(&pem).unwrap();
    let app = h.register(APP, &app_key(), None).await;
    assert_eq!(app.alipay_public_key(), key);
    assert_eq!(h.sandbox.state().alipay_public_key_pem(), pem);

    let list = h.get("/sandbox/personas").await.json();
    let list = list.as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|p| p["persona"].as_str().unwrap()).collect();
    assert_eq!(names, ["teacher", "not-teacher", "pending", "blacklisted", "no-zhima", "no-jobworth", "risk"]);
    for p in list {
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["cert_no", "cert_type", "name", "open_id", "outcome", "persona", "user_id"]);
        let user = p["user_id"].as_str().unwrap();
        assert!(user.len() == 16 && user.starts_with("2088"));
        assert_eq!(p["cert_type"], "0");
        let cert = p["cert_no"].as_str().unwrap();
        assert_eq!(jobworth_sandbox::cert_no::normalize_resident_id(cert).unwrap(), cert);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn apps_register_replace_and_validate() {
    let h = start().await;
    let key = app_key();
    let aes = alipay_v3::aes::AesKey::generate();
    let body = json!({"app_id": APP, "public_key": key.public_key().to_spki_base64(), "encrypt_key": aes.to_base64().as_str()});
    let r = h.post_json("/sandbox/apps", &body).await;
    assert_eq!(r.status, 201);
    let v = r.json();
    for f in [
        "app_id",
        "alipay_public_key",
        "alipay_cert",
        "alipay_cert_sn",
        "alipay_root_cert",
        "alipay_root_cert_sn",
        "app_cert",
        "app_cert_sn",
    ] {
        assert!(v[f].as_str().is_some_and(|s| !s.is_empty()), "{f}");
    }
    assert!(v.get("encrypt_key").is_none(), "the AES key is never echoed");
    assert!(!String::from_utf8_lossy(&r.body).contains(aes.to_base64().as_str()));
    assert_eq!(v["replaced"], false);
    let first_sn = v["app_cert_sn"].clone();
    // The same values again: the existing registration, its app certificate kept.
    let r = h.post_json("/sandbox/apps", &body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["app_cert_sn"], first_sn);
    assert_eq!(r.json()["app_cert"], v["app_cert"]);
    assert_eq!(r.json()["replaced"], false);
    // Other values without "replace": refused, naming what would change, nothing written.
    let other_aes = alipay_v3::aes::AesKey::generate();
    for (changed, what) in [
        (json!({"app_id": APP}), "public_key and encrypt_key"),
        (json!({"app_id": APP, "public_key": key.public_key().to_spki_pem()}), "encrypt_key"),
        (
            json!({"app_id": APP, "public_key": key.public_key().to_spki_pem(), "encrypt_key": other_aes.to_base64().as_str()}),
            "encrypt_key",
        ),
        (
            merged(&body, json!({"public_key": PrivateKey::generate().unwrap().public_key().to_spki_pem()})),
            "public_key",
        ),
        (merged(&body, json!({"name": "Shop"})), "name"),
    ] {
        let r = h.post_json("/sandbox/apps", &changed).await;
        assert_eq!((r.status, r.code().as_str()), (409, "conflict"), "{changed}");
        let msg = r.json()["message"].as_str().unwrap().to_string();
        assert!(msg.contains(&format!("another {what};")), "{msg}");
        assert!(msg.contains("\"replace\": true") && msg.contains("app-cert-not-exist"), "{msg}");
        assert!(!msg.contains(aes.to_base64().as_str()) && !msg.contains(other_aes.to_base64().as_str()), "{msg}");
    }
    let r = h.post_json("/sandbox/apps", &merged(&body, json!({"replace": false}))).await;
    assert_eq!((r.status, &r.json()["app_cert_sn"]), (200, &first_sn), "the refusals changed nothing");
    // With "replace": true it is replaced, with a new app certificate, and the answer says so.
    let r = h.post_json("/sandbox/apps", &merged(&body, json!({"replace": true, "name": "  Shop <1>  "}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["replaced"], true);
    assert_eq!(r.json()["name"], "Shop <1>");
    assert_ne!(r.json()["app_cert_sn"], first_sn);
    // "replace" on an app that does not exist registers it.
    let r = h.post_json("/sandbox/apps", &json!({"app_id": "2021000000000003", "replace": true, "name": "名字"})).await;
    assert_eq!((r.status, &r.json()["replaced"], &r.json()["name"]), (201, &json!(false), &json!("名字")));

    // Without a public key: registered, no app cert, requests cannot verify.
    let r = h.post_json("/sandbox/apps", &json!({"app_id": "2021000000000002"})).await;
    assert_eq!(r.status, 201);
    assert!(r.json().get("app_cert").is_none() && r.json().get("app_cert_sn").is_none());
    let keyless = App { app_id: "2021000000000002".into(), key: key.clone(), aes: None, registration: r.json() };
    let alipay = keyless.alipay_public_key();
    h.send(&keyless, &Req::query(&teacher_query("c", "t"))).await.assert_error(400, "invalid-signature", &alipay);

    for (bad, what) in [
        (json!({"app_id": APP, "public_key": "not a key"}), "public_key"),
        (json!({"app_id": APP, "public_key": key.public_key().to_spki_pem(), "encrypt_key": "AAAA"}), "encrypt_key"),
        (json!({"app_id": "bad id<script>", "public_key": key.public_key().to_spki_pem()}), "app_id"),
        (json!({"app_id": ""}), "app_id"),
        (json!({"public_key": "x"}), "app_id"),
        (json!({"app_id": 5}), "invalid type"),
        (json!({"app_id": APP, "name": "x".repeat(65)}), "name is longer than 64"),
        (json!({"app_id": APP, "name": "a\nb"}), "name contains control"),
        (json!({"app_id": APP, "replace": "yes"}), "invalid type"),
        (json!([1, 2]), "JSON"),
    ] {
        let r = h.post_json("/sandbox/apps", &bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.code(), "invalid-parameter");
        assert!(r.json()["message"].as_str().unwrap().contains(what), "{bad}: {}", r.json()["message"]);
    }
    let r = into_resp(
        h.http
            .post(format!("{}/sandbox/apps", h.base()))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"));
    // Wrong method on a control route: JSON 405.
    let r = h.get("/sandbox/apps").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "invalid-method");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn desk_from_order_string() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    let order = order_string(APP, &app.key, "conn-d", Some(json!({"onceToken": "tok-d", "identityType": "04"})));
    let r = h.post_json("/sandbox/desk", &json!({"order_str": order})).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let desk_id = v["desk_id"].as_str().unwrap().to_string();
    assert_eq!(v["conn_key"], "conn-d");
    assert_eq!(v["once_token"], "tok-d");
    assert_eq!(v["desk_url"], format!("{}/desk?{order}", h.base()));
    // Same order string: same desk.
    let again = h.post_json("/sandbox/desk", &json!({"order_str": order})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["desk_id"], desk_id.as_str());

    // No onceToken: one is generated; identity type defaults to 04.
    let order2 = order_string(APP, &app.key, "conn-g", None);
    let g = h.post_json("/sandbox/desk", &json!({"order_str": order2})).await.json();
    let token = g["once_token"].as_str().unwrap();
    assert_eq!(token.len(), 36);
    h.post_json(&format!("/sandbox/desk/{}/complete", g["desk_id"].as_str().unwrap()), &json!({"persona": "teacher"}))
        .await;
    assert_eq!(h.query(&app, "conn-g", token).await.json()["identity_result"], "SUCCESS");

    // identityType from extra_param is bound to the token.
    let order3 = order_string(APP, &app.key, "conn-i", Some(json!({"onceToken": "tok-i", "identityType": "02"})));
    let d3 = h.post_json("/sandbox/desk", &json!({"order_str": order3})).await.json();
    h.post_json(&format!("/sandbox/desk/{}/complete", d3["desk_id"].as_str().unwrap()), &json!({"persona": "teacher"}))
        .await;
    h.query(&app, "conn-i", "tok-i").await.assert_error(400, "TOKEN_NOT_MATCH_IDENTITY_TYPE", &alipay);

    // Refusals.
    let stranger_key = PrivateKey::generate().unwrap();
    let forged = order_string(APP, &stranger_key, "conn-z", None);
    let tampered = order.replace("conn-d", "conn-e");
    let wrong_method = alipay_v3::order::sign_order_string(
        &app.key,
        &[("method", "alipay.trade.app.pay"), ("app_id", APP), ("sign_type", "RSA2"), ("biz_content", "{}")],
    );
    let no_biz = alipay_v3::order::sign_order_string(
        &app.key,
        &[("method", "zhima.credit.payafteruse.creditagreement.sign"), ("app_id", APP), ("sign_type", "RSA2")],
    );
    let bad_extra = alipay_v3::order::sign_order_string(
        &app.key,
        &[
            ("method", "zhima.credit.payafteruse.creditagreement.sign"),
            ("app_id", APP),
            ("sign_type", "RSA2"),
            ("biz_content", r#"{"out_agreement_no":"c","zm_service_id":"s","extra_param":"{oops"}"#),
        ],
    );
    let unknown_app = order_string("2021000000000077", &app.key, "c", None);
    for (body, status, code) in [
        (json!({"order_str": forged}), 400, "invalid-signature"),
        (json!({"order_str": tampered}), 400, "invalid-signature"),
        (json!({"order_str": order.replace("sign_type=RSA2", "sign_type=RSA")}), 400, "invalid-signature"),
        (json!({"order_str": wrong_method}), 400, "invalid-method"),
        (json!({"order_str": no_biz}), 400, "invalid-parameter"),
        (json!({"order_str": bad_extra}), 400, "invalid-parameter"),
        (json!({"order_str": unknown_app}), 400, "invalid-app-id"),
        (json!({"order_str": "%%%"}), 400, "invalid-parameter"),
        (json!({"order_str": ""}), 400, "invalid-parameter"),
        (json!({"order": "x"}), 400, "invalid-parameter"),
    ] {
        let r = h.post_json("/sandbox/desk", &body).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{body}");
    }

    // complete / resolve / cancel state rules.
    let complete = format!("/sandbox/desk/{desk_id}/complete");
    let r = h.post_json(&complete, &json!({"persona": "nobody"})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"));
    let r = h.post_json(&format!("/sandbox/desk/{desk_id}/resolve"), &json!({"identity_result": "SUCCESS"})).await;
    assert_eq!((r.status, r.code().as_str()), (409, "conflict"));
    let r = h.post_json(&complete, &json!({"persona": "teacher"})).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["conn_key"], "conn-d");
    assert_eq!(v["once_token"], "tok-d");
    assert_eq!(v["identity_result"], "SUCCESS");
    assert_eq!(v["user_id"], TEACHER_USER);
    assert_eq!(v["open_id"], TEACHER_OPEN);
    let r = h.post_json(&complete, &json!({"persona": "not-teacher"})).await;
    assert_eq!((r.status, r.code().as_str()), (409, "conflict"));
    let r = h.post_json(&format!("/sandbox/desk/{desk_id}/cancel"), &json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (409, "conflict"));
    let r = h.post_json("/sandbox/desk/0000/complete", &json!({"persona": "teacher"})).await;
    assert_eq!((r.status, r.code().as_str()), (404, "not-found"));
    let r = h.post_json(&format!("/sandbox/desk/{desk_id}/resolve"), &json!({"identity_result": "MAYBE"})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"));
    assert_eq!(h.query(&app, "conn-d", "tok-d").await.json()["identity_result"], "SUCCESS");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn authentications_shortcut() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let mk = |persona: &str, token: &str| json!({"app_id": APP, "conn_key": "conn-s", "service_id": SERVICE_ID, "once_token": token, "persona": persona});
    // Unknown persona: refused, nothing written.
    let r = h.post_json("/sandbox/authentications", &mk("ghost", "tok-s")).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"));
    let r = h.post_json("/sandbox/authentications", &mk("teacher", "tok-s")).await;
    assert_eq!(r.status, 201);
    let v = r.json();
    assert_eq!(v["conn_key"], "conn-s");
    assert_eq!(v["once_token"], "tok-s");
    assert_eq!(v["identity_result"], "SUCCESS");
    assert_eq!(v["user_id"], TEACHER_USER);
    let r = h.post_json("/sandbox/authentications", &mk("teacher", "tok-s")).await;
    assert_eq!((r.status, r.code().as_str()), (409, "conflict"));
    let mut unknown = mk("teacher", "tok-u");
    unknown["app_id"] = json!("2021000000000055");
    let r = h.post_json("/sandbox/authentications", &unknown).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-app-id"));
    // Token generated when not given; identity type defaults to 04.
    let r = h
        .post_json(
            "/sandbox/authentications",
            &json!({"app_id": APP, "conn_key": "conn-s", "service_id": SERVICE_ID, "persona": "not-teacher"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let tok = r.json()["once_token"].as_str().unwrap().to_string();
    assert_eq!(h.send(&app, &Req::query(&dim_query("conn-s", &tok))).await.json()["identity_result"], "FAILED");
    h.sandbox.shutdown().await;
}

async fn oneshot(router: axum::Router, peer: [u8; 4], req: http::Request<Body>) -> (u16, Value) {
    let res = router.layer(MockConnectInfo(SocketAddr::from((peer, 40000)))).oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn get(path: &str, bearer: Option<&str>) -> http::Request<Body> {
    let mut b = http::Request::get(path);
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn control_routes_are_loopback_only_or_need_the_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let state = jobworth_sandbox::AppState::open(config(dir.path())).await.unwrap();
    let router = jobworth_sandbox::app(state.clone());
    assert_eq!(oneshot(router.clone(), [127, 0, 0, 1], get("/sandbox/health", None)).await.0, 200);
    let (status, body) = oneshot(router.clone(), [10, 0, 0, 7], get("/sandbox/health", None)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = oneshot(router.clone(), [10, 0, 0, 7], get("/sandbox/personas", None)).await;
    assert_eq!(status, 403);
    // The protocol endpoint and the desk page are not control routes.
    let (status, body) =
        oneshot(router.clone(), [10, 0, 0, 7], get("/v3/zhima/customer/jobworth/authentication", None)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("missing-signature")));
    state.close().await;

    let cfg = jobworth_sandbox::Config { admin_token: Some("s3cret".into()), ..config(dir.path()) };
    let state = jobworth_sandbox::AppState::open(cfg).await.unwrap();
    let router = jobworth_sandbox::app(state.clone());
    for peer in [[127, 0, 0, 1], [10, 0, 0, 7]] {
        let (status, body) = oneshot(router.clone(), peer, get("/sandbox/health", None)).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
        assert_eq!(oneshot(router.clone(), peer, get("/sandbox/health", Some("wrong"))).await.0, 401);
        assert_eq!(oneshot(router.clone(), peer, get("/sandbox/health", Some("s3cret"))).await.0, 200);
    }
    state.close().await;

    // Over real TCP from loopback.
    let h = start_with(|c| c.admin_token = Some("tok".into())).await;
    assert_eq!(h.get("/sandbox/health").await.status, 401);
    let r = h.http.get(format!("{}/sandbox/health", h.base())).bearer_auth("tok").send().await.unwrap();
    assert_eq!(r.status(), 200);
    h.sandbox.shutdown().await;
}

async fn page(h: &Harness, path: &str) -> (u16, String) {
    let r = h.get(path).await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"), "{path}");
    (r.status, String::from_utf8(r.body).unwrap())
}

async fn post_form(h: &Harness, path: &str, form: &str) -> reqwest::Response {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    http.post(format!("{}{path}", h.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap()
}

fn desk_id_of(html: &str) -> String {
    let start = html.find("data-desk-id=\"").unwrap() + 14;
    html[start..start + 32].to_string()
}

#[tokio::test]
async fn desk_page_flow() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let order = order_string(APP, &app.key, "conn-h", Some(json!({"onceToken": "tok-h"})));
    let (status, html) = page(&h, &format!("/desk?{order}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(APP));
    assert!(html.contains("04 教师 Teacher"));
    assert!(html.contains("conn-h"));
    assert!(html.contains("取消 Cancel"));
    for p in ["teacher", "not-teacher", "pending", "blacklisted", "no-zhima", "no-jobworth", "risk"] {
        assert!(html.contains(&format!("data-persona=\"{p}\"")), "{p}");
    }
    assert!(!html.contains(TEACHER_CERT), "cert_no is masked on the page");
    let id = desk_id_of(&html);
    // Opening again shows the same desk; the JSON route agrees.
    assert_eq!(desk_id_of(&page(&h, &format!("/desk?{order}")).await.1), id);
    assert_eq!(h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json()["desk_id"], id.as_str());

    // Click "teacher": a form post that redirects back to the desk.
    let r = post_form(&h, &format!("/desk/{id}/complete"), "persona=teacher").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/desk/{id}").as_str());
    let (_, html) = page(&h, &format!("/desk/{id}")).await;
    assert!(html.contains("data-outcome=\"SUCCESS\""));
    assert!(!html.contains("data-persona=\"teacher\""));
    // The same order string now shows the outcome too.
    assert!(page(&h, &format!("/desk?{order}")).await.1.contains("data-outcome=\"SUCCESS\""));
    let r = h.query(&app, "conn-h", "tok-h").await;
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    assert!(page(&h, &format!("/desk/{id}")).await.1.contains("used up"));
    // Clicking again: an HTML 409 with a way back.
    let r = post_form(&h, &format!("/desk/{id}/complete"), "persona=teacher").await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(&format!("href=\"/desk/{id}\"")));

    // Pending, then resolve through the page.
    let order = order_string(APP, &app.key, "conn-p", Some(json!({"onceToken": "tok-p"})));
    let id = desk_id_of(&page(&h, &format!("/desk?{order}")).await.1);
    assert_eq!(post_form(&h, &format!("/desk/{id}/complete"), "persona=pending").await.status(), 303);
    let (_, html) = page(&h, &format!("/desk/{id}")).await;
    assert!(html.contains("data-action=\"resolve-success\"") && html.contains("data-action=\"resolve-failed\""));
    assert_eq!(post_form(&h, &format!("/desk/{id}/resolve"), "identity_result=FAILED").await.status(), 303);
    assert!(page(&h, &format!("/desk/{id}")).await.1.contains("data-outcome=\"FAILED\""));

    // Cancel through the page.
    let order = order_string(APP, &app.key, "conn-c", Some(json!({"onceToken": "tok-c"})));
    let id = desk_id_of(&page(&h, &format!("/desk?{order}")).await.1);
    assert_eq!(post_form(&h, &format!("/desk/{id}/cancel"), "").await.status(), 303);
    assert!(page(&h, &format!("/desk/{id}")).await.1.contains("data-outcome=\"USER_NOT_AUTHORIZE\""));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn desk_page_escapes_and_refuses_bad_order_strings() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let evil = "<script>alert('x')</script>&\"";
    let order = order_string(APP, &app.key, evil, Some(json!({"onceToken": "t\"><img src=x>"})));
    let (status, html) = page(&h, &format!("/desk?{order}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));

    let forged = order_string(APP, &PrivateKey::generate().unwrap(), "c", None);
    for (path, code) in [
        ("/desk".to_string(), "invalid-parameter"),
        (format!("/desk?{forged}"), "invalid-signature"),
        ("/desk?app_id=%zz".to_string(), "invalid-parameter"),
        ("/desk?a=<b>".to_string(), "invalid-parameter"),
    ] {
        let (status, html) = page(&h, &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(html.contains(&format!("data-error=\"{code}\"")), "{path}: {html}");
        assert!(!html.contains("<b>"));
    }
    let (status, _) = page(&h, "/desk/ffffffffffffffffffffffffffffffff").await;
    assert_eq!(status, 404);
    let r = post_form(&h, "/desk/ffff/complete", "persona=teacher").await;
    assert_eq!(r.status(), 404);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_input_gets_4xx_json_and_the_server_keeps_serving() {
    let h = start().await;
    h.register(APP, &app_key(), None).await;
    let bodies: [&[u8]; 6] = [b"", b"null", b"{", b"\xff\xfe", b"{\"persona\":[1]}", b"{\"order_str\":5}"];
    for path in [
        "/sandbox/apps",
        "/sandbox/desk",
        "/sandbox/desk/x/complete",
        "/sandbox/desk/x/resolve",
        "/sandbox/authentications",
    ] {
        for body in bodies {
            let r =
                into_resp(h.http.post(format!("{}{path}", h.base())).body(body.to_vec()).send().await.unwrap()).await;
            assert!((400..500).contains(&r.status), "{path} {body:?}: {}", r.status);
            assert!(r.json()["code"].is_string(), "{path} {body:?}");
        }
    }
    for (status, req) in [
        (
            400,
            b"GET /v3/x HTTP/1.1\r\nHost: x\r\nAuthorization: ALIPAY-SHA256withRSA \r\nConnection: close\r\n\r\n"
                .to_vec(),
        ),
        (400, b"GET /v3/x?%%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        (404, b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
    ] {
        let (got, _, body) = raw(h.sandbox.local_addr(), &req).await;
        assert_eq!(got, status);
        assert!(serde_json::from_slice::<Value>(&body).unwrap()["code"].is_string());
    }
    assert_eq!(h.get("/sandbox/health").await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn desk_shows_the_merchant_name_and_the_query_to_copy() {
    let h = start().await;
    let key = app_key();
    let body = json!({"app_id": APP, "public_key": key.public_key().to_spki_pem(), "name": "书店 <Books & Co>"});
    assert_eq!(h.post_json("/sandbox/apps", &body).await.status, 201);
    let order = order_string(APP, &key, "conn 'q'", Some(json!({"onceToken": "tok-q"})));
    let (_, html) = page(&h, &format!("/desk?{order}")).await;
    assert!(html.contains("data-field=\"merchant\">书店 &lt;Books &amp; Co&gt;</dd>"), "{html}");
    assert!(!html.contains("<Books"));
    // Before a persona is chosen there is nothing to query.
    assert!(!html.contains("data-field=\"once_token\""));
    let id = desk_id_of(&html);
    assert_eq!(post_form(&h, &format!("/desk/{id}/complete"), "persona=teacher").await.status(), 303);
    let (_, html) = page(&h, &format!("/desk/{id}")).await;
    assert!(html.contains("data-field=\"once_token\">tok-q</dd>"), "{html}");
    assert!(html.contains("data-field=\"query_conn_key\">conn &#39;q&#39;</dd>"), "{html}");
    let start = html.find("data-field=\"query_command\"><code>").unwrap() + 33;
    let end = start + html[start..].find("</code>").unwrap();
    let mut command = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => command.push(c),
            _ => {}
        }
    }
    let command = command.replace("&#39;", "'").replace("&quot;", "\"").replace("&amp;", "&");
    let expected = format!(
        "jobworth query --endpoint {} --app-id {APP} --conn-key 'conn '\\''q'\\''' --once-token tok-q \
         --service-id {SERVICE_ID} --query-type exact --identity-type 04 --user-id {TEACHER_USER} \
         --private-key keys/app_private_key.pem --alipay-public-key keys/alipay_public_key.pem",
        h.base()
    );
    assert_eq!(command, expected);
    // A cancelled desk has no user: the command leaves it to the shell.
    let order = order_string(APP, &key, "conn-x", Some(json!({"onceToken": "tok-x"})));
    let id = desk_id_of(&page(&h, &format!("/desk?{order}")).await.1);
    assert_eq!(post_form(&h, &format!("/desk/{id}/cancel"), "").await.status(), 303);
    assert!(page(&h, &format!("/desk/{id}"))
        .await
        .1
        .contains("--user-id</span> <span class=\"nowrap\">&quot;$USER_ID&quot;</span>"));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_index_and_the_personas_page() {
    let h = start().await;
    // Empty sandbox: the index says so and links everything.
    let (status, html) = page(&h, "/").await;
    assert_eq!(status, 200);
    for link in ["/sandbox/inspector", "/personas", "/sandbox/personas", "/sandbox/openapi.json"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(html.contains("No app yet") && html.contains("No desk yet"));

    let aes = alipay_v3::aes::AesKey::generate();
    let key = app_key();
    let body = json!({"app_id": APP, "public_key": key.public_key().to_spki_pem(),
                      "encrypt_key": aes.to_base64().as_str(), "name": "<i>Shop</i>"});
    assert_eq!(h.post_json("/sandbox/apps", &body).await.status, 201);
    assert_eq!(h.post_json("/sandbox/apps", &json!({"app_id": "2021000000000002"})).await.status, 201);
    let order = order_string(APP, &key, "conn-i", Some(json!({"onceToken": "tok-i"})));
    let desk = h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    let desk_id = desk["desk_id"].as_str().unwrap();

    let (_, html) = page(&h, "/").await;
    let row = |attr: &str| {
        let start = html.find(attr).unwrap_or_else(|| panic!("{attr}: {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_string()
    };
    let app_row = row(&format!("data-app-id=\"{APP}\""));
    assert!(app_row.contains("&lt;i&gt;Shop&lt;/i&gt;") && app_row.contains("key / cert"), "{app_row}");
    assert!(app_row.contains("data-label=\"AES\">on</td>"), "{app_row}");
    let keyless = row("data-app-id=\"2021000000000002\"");
    assert!(keyless.contains("no key") && keyless.contains("data-label=\"AES\">off</td>"), "{keyless}");
    let desk_row = row(&format!("data-desk-id=\"{desk_id}\""));
    assert!(desk_row.contains(&format!("href=\"/desk/{desk_id}\"")), "{desk_row}");
    assert!(desk_row.contains("Waiting for the user") && desk_row.contains("WAITING_<wbr>VERIFY"), "{desk_row}");
    // No key material on the page.
    assert!(!html.contains(aes.to_base64().as_str()));
    assert!(!html.contains("BEGIN"));

    let (status, html) = page(&h, "/personas").await;
    assert_eq!(status, 200);
    for p in jobworth_sandbox::personas::PERSONAS {
        assert!(html.contains(&format!("data-persona-row=\"{}\"", p.persona)), "{}", p.persona);
        assert!(html.contains(p.user_id) && html.contains(p.outcome.as_str()), "{}", p.persona);
        assert!(!html.contains(p.cert_no), "cert_no is not shown");
    }

    // The pages keep the desk's Host check; an unknown path is still JSON.
    for path in ["/", "/personas"] {
        let r =
            into_resp(h.http.get(format!("{}{path}", h.base())).header("host", "evil.example").send().await.unwrap())
                .await;
        assert_eq!((r.status, r.code().as_str()), (403, "forbidden"), "{path}");
    }
    let r = h.get("/nope").await;
    assert_eq!((r.status, r.code().as_str()), (404, "not-found"));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_order_strings_are_named_once() {
    let h = start().await;
    let app = h.register(APP, &app_key(), None).await;
    let order = order_string(APP, &app.key, "conn-s", None);
    for bad in [format!("{order}&app_id={APP}"), "app_id=%zz".to_string()] {
        let r = h.post_json("/sandbox/desk", &json!({"order_str": bad})).await;
        assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"), "{bad}");
        let msg = r.json()["message"].as_str().unwrap().to_string();
        assert!(msg.starts_with("order string ") && !msg.contains("order string: order string"), "{msg}");
    }
    h.sandbox.shutdown().await;
}
