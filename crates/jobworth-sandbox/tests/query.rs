//! Business rules of the query (after the gateway checks pass), personas, token lifecycle.

use std::time::Duration;

use jobworth_testkit::app::dim_query;
use jobworth_testkit::fixtures::{app_key, APP_ID as APP, SERVICE_ID, TEACHER_CERT, TEACHER_OPEN, TEACHER_USER};
use jobworth_testkit::sandbox::{start_with, start_with_app as setup, Harness};
use jobworth_testkit::signed::{order_string, Req};
use serde_json::{json, Value};

async fn personas(h: &Harness) -> Vec<Value> {
    h.get("/sandbox/personas").await.json().as_array().unwrap().clone()
}

#[tokio::test]
async fn teacher_succeeds_once_then_token_invalid() {
    let (h, app, alipay) = setup().await;
    let done = h.authenticate(&app, "conn-t", "tok-t", "teacher").await;
    assert_eq!(done["identity_result"], "SUCCESS");
    let r = h.query(&app, "conn-t", "tok-t").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.verify(&alipay);
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert!(r.header("alipay-sn").is_none());
    let v = r.json();
    assert_eq!(v["identity_result"], "SUCCESS");
    assert_eq!(v["token_status"], "FINISH");
    assert_eq!(v["user_id"], TEACHER_USER);
    assert_eq!(v["open_id"], TEACHER_OPEN);
    assert_eq!(v["merchant_identity_id"], jobworth_sandbox::merchant_identity_id(APP, TEACHER_USER));
    let skip = v["identity_result_skip_url"].as_str().unwrap();
    assert!(skip.starts_with("alipays://platformapi/startapp?appId="), "{skip}");
    // Field names are exactly the documented ones.
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["identity_result", "identity_result_skip_url", "merchant_identity_id", "open_id", "token_status", "user_id"]
    );
    // Second read of the same token.
    h.query(&app, "conn-t", "tok-t").await.assert_error(400, "TOKEN_INVALID", &alipay);
    h.query(&app, "conn-t", "tok-t").await.assert_error(400, "TOKEN_INVALID", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_persona_outcome() {
    let (h, app, alipay) = setup().await;
    let list = personas(&h).await;
    assert_eq!(list.len(), 7);
    for (i, p) in list.iter().enumerate() {
        let name = p["persona"].as_str().unwrap();
        let conn = format!("conn-{i}");
        h.authenticate(&app, &conn, "tok", name).await;
        let user = p["user_id"].as_str().unwrap();
        let q = [
            ("conn_key", conn.as_str()),
            ("once_token", "tok"),
            ("query_type", "exact"),
            ("identity_type", "04"),
            ("service_id", SERVICE_ID),
            ("user_id", user),
        ];
        let r = h.send(&app, &Req::query(&q)).await;
        match name {
            "teacher" | "not-teacher" => {
                assert_eq!(r.status, 200);
                r.verify(&alipay);
                let v = r.json();
                assert_eq!(v["identity_result"], if name == "teacher" { "SUCCESS" } else { "FAILED" });
                assert_eq!(v["token_status"], "FINISH");
                assert_eq!(v["user_id"], user);
                assert_eq!(v["open_id"], p["open_id"]);
                h.send(&app, &Req::query(&q)).await.assert_error(400, "TOKEN_INVALID", &alipay);
            }
            "pending" => {
                for _ in 0..2 {
                    let r = h.send(&app, &Req::query(&q)).await;
                    assert_eq!(r.status, 200);
                    assert_eq!(r.json()["identity_result"], "WAITING_VERIFY");
                    assert_eq!(r.json()["token_status"], "PROCESSING");
                    assert!(r.json().get("identity_result_skip_url").is_none());
                }
            }
            _ => {
                let code = p["outcome"].as_str().unwrap();
                let expected = match name {
                    "blacklisted" => "JOB_WORTH_BLACK_LIST",
                    "no-zhima" => "NOT_OPEN_ZM",
                    "no-jobworth" => "USER_NOT_OPEN_JOBWORTH",
                    "risk" => "RISK_INTERCEPT",
                    other => panic!("unexpected persona {other}"),
                };
                assert_eq!(code, expected);
                r.assert_error(400, expected, &alipay);
                // A refusal consumes nothing: the same answer again.
                h.send(&app, &Req::query(&q)).await.assert_error(400, expected, &alipay);
            }
        }
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn pending_until_resolved_and_cancel() {
    let (h, app, alipay) = setup().await;
    let order = order_string(APP, &app.key, "conn-p", Some(json!({"onceToken": "tok-p", "identityType": "04"})));
    let desk = h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    let desk_id = desk["desk_id"].as_str().unwrap();

    // Desk opened, user not done yet: waiting, with no user data.
    let r = h.query(&app, "conn-p", "tok-p").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["identity_result"], "WAITING_VERIFY");
    assert_eq!(r.json()["token_status"], "PROCESSING");
    assert!(r.json().get("user_id").is_none());

    let c = h.post_json(&format!("/sandbox/desk/{desk_id}/complete"), &json!({"persona": "pending"})).await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json()["identity_result"], "WAITING_VERIFY");
    let pending_q = [
        ("conn_key", "conn-p"),
        ("once_token", "tok-p"),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
        ("user_id", "2088102146225103"),
    ];
    for _ in 0..3 {
        let r = h.send(&app, &Req::query(&pending_q)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["identity_result"], "WAITING_VERIFY");
        assert_eq!(r.json()["user_id"], "2088102146225103");
    }
    let res = h.post_json(&format!("/sandbox/desk/{desk_id}/resolve"), &json!({"identity_result": "SUCCESS"})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["identity_result"], "SUCCESS");
    let r = h.send(&app, &Req::query(&pending_q)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    assert_eq!(r.json()["token_status"], "FINISH");
    h.send(&app, &Req::query(&pending_q)).await.assert_error(400, "TOKEN_INVALID", &alipay);

    // Resolved as FAILED.
    let order = order_string(APP, &app.key, "conn-f", Some(json!({"onceToken": "tok-f"})));
    let desk = h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    let id = desk["desk_id"].as_str().unwrap();
    h.post_json(&format!("/sandbox/desk/{id}/complete"), &json!({"persona": "pending"})).await;
    h.post_json(&format!("/sandbox/desk/{id}/resolve"), &json!({"identity_result": "FAILED"})).await;
    let q: Vec<(&str, &str)> = pending_q
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == "conn_key" {
                    "conn-f"
                } else if *k == "once_token" {
                    "tok-f"
                } else {
                    *v
                },
            )
        })
        .collect();
    let r = h.send(&app, &Req::query(&q)).await;
    assert_eq!(r.json()["identity_result"], "FAILED");

    // Cancelled at the desk → USER_NOT_AUTHORIZE, repeatedly (nothing to consume).
    let order = order_string(APP, &app.key, "conn-x", Some(json!({"onceToken": "tok-x"})));
    let desk = h.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    let id = desk["desk_id"].as_str().unwrap();
    let c = h.post_json(&format!("/sandbox/desk/{id}/cancel"), &json!({})).await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json()["identity_result"], "USER_NOT_AUTHORIZE");
    for _ in 0..2 {
        h.query(&app, "conn-x", "tok-x").await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn token_expires_ttl_after_terminal() {
    let h = start_with(|c| c.token_ttl = Duration::from_millis(800)).await;
    let app = h.register(APP, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    h.authenticate(&app, "conn-e", "tok-e", "teacher").await;
    h.authenticate(&app, "conn-b", "tok-b", "blacklisted").await;
    h.authenticate(&app, "conn-live", "tok-live", "teacher").await;
    // Within the TTL the live token works.
    let r = h.query(&app, "conn-live", "tok-live").await;
    assert_eq!(r.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.query(&app, "conn-e", "tok-e").await.assert_error(400, "TOKEN_INVALID", &alipay);
    h.send(&app, &Req::query(&dim_query("conn-b", "tok-b"))).await.assert_error(400, "TOKEN_INVALID", &alipay);
    // A pending verification does not expire while it waits.
    h.authenticate(&app, "conn-w", "tok-w", "pending").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        h.send(&app, &Req::query(&dim_query("conn-w", "tok-w"))).await.json()["identity_result"],
        "WAITING_VERIFY"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn business_rule_errors_consume_nothing() {
    let (h, app, alipay) = setup().await;
    h.authenticate(&app, "conn-1", "tok-1", "teacher").await;
    h.authenticate(&app, "conn-2", "tok-2", "teacher").await;
    let base = [
        ("conn_key", "conn-1"),
        ("once_token", "tok-1"),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
        ("user_id", TEACHER_USER),
    ];
    let with = |changes: &[(&'static str, Option<&'static str>)]| -> Vec<(&'static str, &'static str)> {
        let mut q: Vec<(&str, &str)> = base.to_vec();
        for (k, v) in changes {
            match (q.iter().position(|(n, _)| n == k), v) {
                (Some(i), Some(v)) => q[i].1 = v,
                (Some(i), None) => {
                    q.remove(i);
                }
                (None, Some(v)) => q.push((k, v)),
                (None, None) => {}
            }
        }
        q
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with(&[("conn_key", Some("conn-unknown"))]), "WRONG_OUT_AGREEMENT_NO_INTERCEPT"),
        (with(&[("once_token", Some("tok-unknown"))]), "TOKEN_INVALID"),
        (with(&[("once_token", Some("tok-2"))]), "TOKEN_INVALID"), // issued for conn-2
        (with(&[("identity_type", Some("01"))]), "TOKEN_NOT_MATCH_IDENTITY_TYPE"),
        (with(&[("identity_type", None)]), "TOKEN_NOT_MATCH_IDENTITY_TYPE"),
        (with(&[("service_id", Some("2019120400000000000000000000"))]), "MERCHANT_INTERCEPT"),
        (with(&[("conn_key", None)]), "INVALID_PARAMETER"),
        (with(&[("once_token", None)]), "INVALID_PARAMETER"),
        (with(&[("service_id", None)]), "INVALID_PARAMETER"),
        (with(&[("conn_key", Some(""))]), "INVALID_PARAMETER"),
        (with(&[("query_type", Some("fuzzy"))]), "INVALID_PARAMETER"),
        (with(&[("query_type", None)]), "INVALID_PARAMETER"),
        (with(&[("cert_type", Some("6")), ("cert_no", Some(TEACHER_CERT))]), "INVALID_PARAMETER"),
        (with(&[("cert_type", Some("x"))]), "INVALID_PARAMETER"),
        (with(&[("cert_no", Some(TEACHER_CERT))]), "INVALID_PARAMETER"), // no cert_type
        (with(&[("user_id", None)]), "INVALID_PARAMETER"),               // exact, no identifier
        (with(&[("user_id", Some("2088102146225102"))]), "USER_NOT_AUTHORIZE"),
        (with(&[("open_id", Some("074somebodyelse"))]), "USER_NOT_AUTHORIZE"),
        (with(&[("user_id", None), ("open_id", Some("074somebodyelse"))]), "USER_NOT_AUTHORIZE"),
        (
            with(&[("user_id", None), ("cert_type", Some("0")), ("cert_no", Some("310104199007222349"))]),
            "CARD_NO_NOT_MATCH",
        ),
        (with(&[("user_id", None), ("cert_type", Some("1")), ("cert_no", Some(TEACHER_CERT))]), "CARD_NO_NOT_MATCH"),
        // Member id wins when both are given, but every identifier must match.
        (
            with(&[("user_id", Some("2088102146225102")), ("cert_type", Some("0")), ("cert_no", Some(TEACHER_CERT))]),
            "USER_NOT_AUTHORIZE",
        ),
        (with(&[("cert_type", Some("0")), ("cert_no", Some("310104199007222349"))]), "CARD_NO_NOT_MATCH"),
        // 18 digits with a wrong check digit, an impossible date, a bad shape.
        (with(&[("user_id", None), ("cert_type", Some("0")), ("cert_no", Some("110105198503151231"))]), "PARAM_ERROR"),
        (with(&[("user_id", None), ("cert_type", Some("0")), ("cert_no", Some("110105194902310026"))]), "PARAM_ERROR"),
        (with(&[("user_id", None), ("cert_type", Some("0")), ("cert_no", Some("11010519850315123"))]), "PARAM_ERROR"),
        (with(&[("user_id", None), ("cert_type", Some("0")), ("cert_no", Some("420192931233123123"))]), "PARAM_ERROR"),
        // dim: identifiers optional, but those given must match.
        (with(&[("query_type", Some("dim")), ("user_id", Some("2088102146225102"))]), "USER_NOT_AUTHORIZE"),
    ];
    for (q, code) in &cases {
        let r = h.send(&app, &Req::query(q)).await;
        assert_eq!(r.code(), *code, "{q:?}");
        r.assert_error(400, code, &alipay);
    }
    // A parameter given twice.
    let dup = format!("{}&user_id={TEACHER_USER}", Req::query(&base).target);
    h.send(&app, &Req::get(dup)).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    let dup = format!("{}&conn_key=conn-1", Req::query(&base).target);
    h.send(&app, &Req::get(dup)).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    // Invalid UTF-8 after decoding.
    let bad = format!("{}&open_id=%ff", Req::query(&base).target);
    h.send(&app, &Req::get(bad)).await.assert_error(400, "INVALID_PARAMETER", &alipay);

    // After all of that, the token is still readable — once.
    let r = h.send(&app, &Req::query(&base)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    h.send(&app, &Req::query(&base)).await.assert_error(400, "TOKEN_INVALID", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn identifier_forms_that_match() {
    let (h, app, _alipay) = setup().await;
    let variants: Vec<Vec<(&str, &str)>> = vec![
        vec![("open_id", TEACHER_OPEN)],
        vec![("cert_type", "0"), ("cert_no", TEACHER_CERT)],
        vec![("cert_type", "0"), ("cert_no", "110105850315123")], // legacy 15-digit form
        vec![("user_id", TEACHER_USER), ("open_id", TEACHER_OPEN), ("cert_type", "0"), ("cert_no", TEACHER_CERT)],
        vec![],                   // dim, no identifier at all
        vec![("cert_type", "3")], // cert_type alone is no identifier but fine in dim
    ];
    for (i, extra) in variants.iter().enumerate() {
        let conn = format!("conn-{i}");
        h.authenticate(&app, &conn, "tok", "teacher").await;
        let dim = i >= 4;
        let mut q = vec![
            ("conn_key", conn.as_str()),
            ("once_token", "tok"),
            ("query_type", if dim { "dim" } else { "exact" }),
            ("identity_type", "04"),
            ("service_id", SERVICE_ID),
        ];
        q.extend(extra.iter().copied());
        let r = h.send(&app, &Req::query(&q)).await;
        assert_eq!(r.status, 200, "{q:?}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["identity_result"], "SUCCESS");
        assert_eq!(r.json()["user_id"], TEACHER_USER);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn merchant_identity_id_is_stable_per_app_and_user() {
    let (h, app, _alipay) = setup().await;
    let other = h.register("2021000122671099", &app_key(), None).await;
    let mut ids = Vec::new();
    for (a, conn) in [(&app, "c1"), (&app, "c2"), (&other, "c3")] {
        h.authenticate(a, conn, "tok", "teacher").await;
        let r = h.query(a, conn, "tok").await;
        ids.push(r.json()["merchant_identity_id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    h.sandbox.shutdown().await;
}
