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
    let r = h.post_json("/sandbox/apps", &body).await;
    assert_eq!(r.status, 200);

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
