//! Gateway checks of the v3 endpoint (signature, timestamp, nonce, app, certificate SN, AES) and
//! response signing.

use alipay_v3::keys::{PrivateKey, PublicKey};
use jobworth_testkit::app::{teacher_query, App};
use jobworth_testkit::fixtures::{app_key, APP_ID as APP, AUTH_PATH as PATH, SERVICE_ID, TEACHER_USER};
use jobworth_testkit::http::into_resp;
use jobworth_testkit::raw::raw;
use jobworth_testkit::sandbox::{start, start_with, start_with_aes_app, start_with_app as setup};
use jobworth_testkit::signed::{sign_now, Req};

#[tokio::test]
async fn missing_or_garbled_authorization_is_missing_signature() {
    let (h, _app, alipay) = setup().await;
    let url = format!("{}{PATH}?conn_key=a", h.base());
    let r = into_resp(h.http.get(&url).send().await.unwrap()).await;
    r.assert_error(400, "missing-signature", &alipay);
    assert!(r.header("alipay-sn").is_none());
    for bad in [
        "Bearer abc",
        "ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1",
        "ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=soon,sign=AAAA",
        "ALIPAY-SHA256withRSA nonce=n,timestamp=1,sign=AAAA",
        "ALIPAY-SHA256withRSA app_id=1,app_id=2,nonce=n,timestamp=1,sign=AAAA",
    ] {
        let r = into_resp(h.http.get(&url).header("authorization", bad).send().await.unwrap()).await;
        r.assert_error(400, "missing-signature", &alipay);
    }
    let long_nonce = format!("ALIPAY-SHA256withRSA app_id={APP},nonce={},timestamp=1,sign=AAAA", "n".repeat(300));
    let r = into_resp(h.http.get(&url).header("authorization", long_nonce).send().await.unwrap()).await;
    r.assert_error(400, "missing-signature", &alipay);
    // Non-ASCII bytes in the header value.
    let v = reqwest::header::HeaderValue::from_bytes(b"ALIPAY-SHA256withRSA app_id=\xe4\xb8\xad,sign=x").unwrap();
    let r = into_resp(h.http.get(&url).header("authorization", v).send().await.unwrap()).await;
    r.assert_error(400, "missing-signature", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_app_is_invalid_app_id() {
    let (h, app, alipay) = setup().await;
    let stranger = App { app_id: "2021999999999999".into(), ..app };
    let r = h.send(&stranger, &Req::query(&teacher_query("c", "t"))).await;
    r.assert_error(400, "invalid-app-id", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_and_tampered_targets_are_refused() {
    let (h, app, alipay) = setup().await;
    h.authenticate(&app, "conn-1", "tok-1", "teacher").await;

    // Signed with a key that is not the app's.
    let other = App { key: PrivateKey::generate().unwrap(), ..app.clone() };
    h.send(&other, &Req::query(&teacher_query("conn-1", "tok-1"))).await.assert_error(
        400,
        "invalid-signature",
        &alipay,
    );

    // Tampered request-target: one byte changed, parameters reordered, a parameter added.
    let signed = Req::query(&teacher_query("conn-1", "tok-1"));
    for sent in [
        signed.target.replace("conn-1", "conn-2"),
        signed.target.replace("query_type=exact&identity_type=04", "identity_type=04&query_type=exact"),
        format!("{}&x=1", signed.target),
        signed.target.replace("conn-1", "conn%2D1"),
    ] {
        let r = h.send(&app, &Req { send_target: Some(sent.clone()), ..signed.clone() }).await;
        r.assert_error(400, "invalid-signature", &alipay);
    }
    // Method changed after signing.
    let r = h.send(&app, &Req { send_method: Some("POST".into()), ..signed.clone() }).await;
    r.assert_error(400, "invalid-signature", &alipay);
    // Dot segments are not normalised: "/v3/./…" is not what was signed (raw request, since
    // HTTP client libraries remove dot segments).
    let authz = sign_now(&app.key, APP, "GET", &signed.target, "");
    let dotted = signed.target.replace("/v3/", "/v3/./");
    let raw_req = format!("GET {dotted} HTTP/1.1\r\nHost: x\r\nAuthorization: {authz}\r\nConnection: close\r\n\r\n");
    let (status, _, body) = raw(h.sandbox.local_addr(), raw_req.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"], "invalid-signature");
    // An app-auth token sent but not signed.
    let mut unsigned_token = signed.clone();
    unsigned_token.extra_headers.push(("alipay-app-auth-token".into(), "tok".into()));
    h.send(&app, &unsigned_token).await.assert_error(400, "invalid-signature", &alipay);
    // Signed with the token line: accepted by the gateway.
    let with_token = Req { app_auth_token: Some("202401BB".into()), ..Req::query(&teacher_query("nope", "t")) };
    h.send(&app, &with_token).await.assert_error(400, "WRONG_OUT_AGREEMENT_NO_INTERCEPT", &alipay);

    // None of the refused requests consumed the token.
    let ok = h.query(&app, "conn-1", "tok-1").await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    ok.verify(&alipay);
    assert_eq!(ok.json()["identity_result"], "SUCCESS");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn raw_request_target_is_verified_byte_for_byte() {
    let (h, app, alipay) = setup().await;
    h.authenticate(&app, "conn key,1", "tok/中", "teacher").await;
    // Node-style form encoding: '+' for space, %2C, upper-case UTF-8 escapes.
    let node = format!(
        "{PATH}?conn_key=conn+key%2C1&once_token=tok%2F%E4%B8%AD&query_type=exact&identity_type=04&service_id={SERVICE_ID}&user_id={TEACHER_USER}"
    );
    let r = h.send(&app, &Req::get(node.clone())).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.verify(&alipay);
    // Lower-case escapes are legal too, and are signed as sent.
    h.authenticate(&app, "conn key,2", "tok/中", "teacher").await;
    let lower = node.replace("conn+key%2C1", "conn%20key%2c2").replace("%E4%B8%AD", "%e4%b8%ad");
    let r = h.send(&app, &Req::get(lower)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Invalid percent-encoding passes the gateway (the signature covers the raw bytes) and is
    // then refused as a parameter error.
    let r = h.send(&app, &Req::get(format!("{PATH}?conn_key=%zz&once_token=t"))).await;
    r.assert_error(400, "INVALID_PARAMETER", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn timestamp_window() {
    let h = start_with(|c| c.timestamp_window = std::time::Duration::from_secs(60)).await;
    let app = h.register(APP, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    let now = alipay_v3::now_millis();
    for ts in [now - 61_000, now + 61_000, 0, 1] {
        let r = h.send(&app, &Req { timestamp: Some(ts), ..Req::query(&teacher_query("c", "t")) }).await;
        r.assert_error(400, "invalid-timestamp", &alipay);
    }
    for ts in [now - 30_000, now + 30_000] {
        let r = h.send(&app, &Req { timestamp: Some(ts), ..Req::query(&teacher_query("c", "t")) }).await;
        r.assert_error(400, "WRONG_OUT_AGREEMENT_NO_INTERCEPT", &alipay);
    }
    // Default window is 15 minutes.
    let d = start().await;
    let app = d.register(APP, &app_key(), None).await;
    let r = d.send(&app, &Req { timestamp: Some(now - 14 * 60_000), ..Req::query(&teacher_query("c", "t")) }).await;
    assert_eq!(r.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    let r = d.send(&app, &Req { timestamp: Some(now - 16 * 60_000), ..Req::query(&teacher_query("c", "t")) }).await;
    assert_eq!(r.code(), "invalid-timestamp");
    h.sandbox.shutdown().await;
    d.sandbox.shutdown().await;
}

#[tokio::test]
async fn replayed_nonce_is_invalid_signature() {
    let (h, app, alipay) = setup().await;
    h.authenticate(&app, "conn-r", "tok-r", "teacher").await;
    let nonce = alipay_v3::new_nonce();

    // A request that fails its signature check does not burn the nonce.
    let other = App { key: PrivateKey::generate().unwrap(), ..app.clone() };
    let req = Req { nonce: Some(nonce.clone()), ..Req::query(&teacher_query("conn-r", "tok-r")) };
    h.send(&other, &req).await.assert_error(400, "invalid-signature", &alipay);

    let first = h.send(&app, &req).await;
    assert_eq!(first.status, 200, "{}", String::from_utf8_lossy(&first.body));
    assert_eq!(first.json()["identity_result"], "SUCCESS");

    // The exact same request again, and the same nonce on another request: replay.
    let again = h.send(&app, &req).await;
    again.assert_error(400, "invalid-signature", &alipay);
    assert!(again.json()["message"].as_str().unwrap().contains("replay"));
    let other_req = Req { nonce: Some(nonce.clone()), ..Req::query(&teacher_query("x", "y")) };
    let r = h.send(&app, &other_req).await;
    assert!(r.json()["message"].as_str().unwrap().contains("replay"));

    // Nonces are per app.
    let second = h.register("2021000122671081", &app_key(), None).await;
    let r = h.send(&second, &Req { nonce: Some(nonce), ..Req::query(&teacher_query("x", "y")) }).await;
    r.assert_error(400, "WRONG_OUT_AGREEMENT_NO_INTERCEPT", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn certificate_mode() {
    let (h, app, alipay) = setup().await;
    let reg = &app.registration;
    let alipay_cert = reg["alipay_cert"].as_str().unwrap();
    let root_cert = reg["alipay_root_cert"].as_str().unwrap();
    let app_cert = reg["app_cert"].as_str().unwrap();
    // SNs as every SDK computes them from the PEMs.
    assert_eq!(alipay_v3::cert::cert_sn(alipay_cert).unwrap(), reg["alipay_cert_sn"]);
    assert_eq!(alipay_v3::cert::root_cert_sn(root_cert).unwrap(), reg["alipay_root_cert_sn"]);
    assert_eq!(alipay_v3::cert::cert_sn(app_cert).unwrap(), reg["app_cert_sn"]);
    assert_eq!(PublicKey::parse(alipay_cert).unwrap(), alipay);
    assert_eq!(PublicKey::parse(app_cert).unwrap(), app.key.public_key());
    let app_info = &alipay_v3::cert::parse_bundle(app_cert).unwrap()[0];
    let root_info = &alipay_v3::cert::parse_bundle(root_cert).unwrap()[0];
    assert_eq!(app_info.issuer_dn, root_info.issuer_dn);
    assert!(app_info.issuer_dn.split(',').all(|rdn| ["CN=", "OU=", "O=", "C="].iter().any(|p| rdn.starts_with(p))));

    h.authenticate(&app, "conn-c", "tok-c", "teacher").await;
    let sn = app.app_cert_sn();
    let alipay_sn = reg["alipay_cert_sn"].as_str().unwrap();

    // Wrong SN: refused before the signature is even looked at; the error carries alipay-sn.
    let wrong = Req {
        cert_sn: Some("0123456789abcdef0123456789abcdef".into()),
        ..Req::query(&teacher_query("conn-c", "tok-c"))
    };
    let r = h.send(&app, &wrong).await;
    r.assert_error(400, "app-cert-not-exist", &alipay);
    assert_eq!(r.header("alipay-sn"), Some(alipay_sn));
    let bad_key = App { key: PrivateKey::generate().unwrap(), ..app.clone() };
    h.send(&bad_key, &wrong).await.assert_error(400, "app-cert-not-exist", &alipay);

    let ok = h.send(&app, &Req { cert_sn: Some(sn.clone()), ..Req::query(&teacher_query("conn-c", "tok-c")) }).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.header("alipay-sn"), Some(alipay_sn));
    ok.verify(&PublicKey::parse(alipay_cert).unwrap());
    assert_eq!(ok.json()["identity_result"], "SUCCESS");

    // Key mode: no alipay-sn.
    let r = h.send(&app, &Req::query(&teacher_query("conn-c", "tok-c"))).await;
    r.assert_error(400, "TOKEN_INVALID", &alipay);
    assert!(r.header("alipay-sn").is_none());

    // Replacing the registration issues a new cert, even over the same key: the old SN stops working.
    let again = h.replace(APP, &app_key(), None).await;
    assert_ne!(again.app_cert_sn(), sn);
    assert_eq!(again.registration["alipay_cert_sn"], reg["alipay_cert_sn"]);
    let r = h.send(&app, &Req { cert_sn: Some(sn), ..Req::query(&teacher_query("x", "y")) }).await;
    r.assert_error(400, "app-cert-not-exist", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn aes_responses_and_decryption_errors() {
    let (h, app, aes) = start_with_aes_app().await;
    let alipay = app.alipay_public_key();
    h.authenticate(&app, "conn-a", "tok-a", "teacher").await;

    // Encrypted GET (no body, as the Java/PHP/.NET SDKs send it): the 2xx body is ciphertext.
    let req = Req { encrypt: true, ..Req::query(&teacher_query("conn-a", "tok-a")) };
    let r = h.send(&app, &req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    r.verify(&alipay); // over the ciphertext
    let text = std::str::from_utf8(&r.body).unwrap();
    let plain: serde_json::Value = serde_json::from_str(&aes.decrypt_to_string(text).unwrap()).unwrap();
    assert_eq!(plain["identity_result"], "SUCCESS");
    assert_eq!(plain["token_status"], "FINISH");

    // Errors stay plaintext JSON, signed.
    let r = h.send(&app, &req).await;
    r.assert_error(400, "TOKEN_INVALID", &alipay);

    // A request body that does not decrypt (any method, any path) → decryption-error.
    let post = Req {
        method: "POST".into(),
        body: "bm90IGNpcGhlcnRleHQ=".into(),
        extra_headers: vec![("alipay-encrypt-type".into(), "AES".into())],
        ..Req::get("/v3/alipay/some/thing")
    };
    h.send(&app, &post).await.assert_error(400, "decryption-error", &alipay);
    let algm_only = Req {
        extra_headers: vec![("alipay-encryption-algm".into(), "AES".into())],
        body: "%%%".into(),
        ..post.clone()
    };
    h.send(&app, &algm_only).await.assert_error(400, "decryption-error", &alipay);
    // A well-encrypted body to an unknown path passes decryption and gets invalid-method.
    let good =
        Req { method: "POST".into(), body: r#"{"a":"中文"}"#.into(), encrypt: true, ..Req::get("/v3/alipay/x") };
    h.send(&app, &good).await.assert_error(400, "invalid-method", &alipay);
    // Unsupported encryption type.
    let sm4 = Req {
        extra_headers: vec![("alipay-encrypt-type".into(), "SM4".into())],
        ..Req::query(&teacher_query("a", "b"))
    };
    h.send(&app, &sm4).await.assert_error(400, "decryption-error", &alipay);

    // An app without an encrypt key cannot ask for AES.
    let plain_app = h.register("2021000122671082", &app_key(), None).await;
    let r = h
        .send(
            &plain_app,
            &Req {
                extra_headers: vec![("alipay-encrypt-type".into(), "AES".into())],
                ..Req::query(&teacher_query("a", "b"))
            },
        )
        .await;
    r.assert_error(400, "decryption-error", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_invalid_method_after_the_checks() {
    let (h, app, alipay) = setup().await;
    for (method, target) in [
        ("GET", "/v3/alipay/user/info/share"),
        ("POST", PATH),
        ("DELETE", "/v3/zhima/customer/jobworth/authentication/query"),
        ("PUT", "/v3"),
        ("GET", "/v3/"),
    ] {
        let r = h
            .send(
                &app,
                &Req {
                    method: method.into(),
                    body: if method == "GET" { String::new() } else { "{}".into() },
                    ..Req::get(target)
                },
            )
            .await;
        r.assert_error(400, "invalid-method", &alipay);
    }
    // Unsigned: the gateway checks come first.
    let r = into_resp(h.http.get(format!("{}/v3/alipay/x", h.base())).send().await.unwrap()).await;
    r.assert_error(400, "missing-signature", &alipay);
    // Outside /v3: plain JSON 404, not signed.
    let r = h.get("/nothing/here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not-found");
    assert!(r.header("alipay-signature").is_none());
    assert!(r.header("alipay-trace-id").is_some());
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn multipart_and_chunked_bodies_are_verified() {
    let (h, app, alipay) = setup().await;
    // Multipart: the signed BODY is the `data` part.
    let boundary = "--------------------------8302643d057a10700d019509";
    let data = r#"{"biz_code":"openpt_appstore"}"#;
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\nContent-Type: application/json\r\n\r\n{data}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file_content\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nhello-file\r\n--{boundary}--\r\n"
    );
    let target = "/v3/alipay/open/file/upload";
    let authz = sign_now(&app.key, APP, "POST", target, data);
    let res = h
        .http
        .post(format!("{}{target}", h.base()))
        .header("authorization", authz)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    into_resp(res).await.assert_error(400, "invalid-method", &alipay);

    // Chunked transfer encoding.
    let json = r#"{"k":"v"}"#;
    let authz = sign_now(&app.key, APP, "POST", "/v3/alipay/x", json);
    let req = format!(
        "POST /v3/alipay/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authz}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        &json[..4],
        json.len() - 4,
        &json[4..]
    );
    let (status, head, body) = raw(h.sandbox.local_addr(), req.as_bytes()).await;
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "invalid-method");
    // Header names on the wire are lower case (the .NET SDK compares them case-sensitively).
    for name in ["alipay-signature: ", "alipay-timestamp: ", "alipay-nonce: ", "alipay-trace-id: "] {
        assert!(head.contains(name), "{head}");
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn body_limit_answers_json() {
    let (h, app, alipay) = setup().await;
    let big = "x".repeat(jobworth_sandbox::BODY_LIMIT + 1);
    let r = h.send(&app, &Req { method: "POST".into(), body: big.clone(), ..Req::get("/v3/alipay/x") }).await;
    r.assert_error(413, "invalid-request-data", &alipay);
    let r = into_resp(h.http.post(format!("{}/sandbox/apps", h.base())).body(big).send().await.unwrap()).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "invalid-request-data");
    assert_eq!(h.get("/sandbox/health").await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unsigned_errors_switch() {
    let h = start_with(|c| c.unsigned_errors = true).await;
    let app = h.register(APP, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    let r = h.send(&app, &Req::query(&teacher_query("c", "t"))).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    for name in ["alipay-signature", "alipay-timestamp", "alipay-nonce"] {
        assert!(r.header(name).is_none(), "{name}");
    }
    assert!(r.header("alipay-trace-id").is_some());
    // Successes are always signed.
    h.authenticate(&app, "c", "t", "teacher").await;
    let ok = h.query(&app, "c", "t").await;
    assert_eq!(ok.status, 200);
    ok.verify(&alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn trace_ids_are_fresh_and_server_chosen() {
    let (h, app, _alipay) = setup().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..3 {
        let req = Req {
            extra_headers: vec![("alipay-trace-id".into(), "client-chosen".into())],
            ..Req::query(&teacher_query("c", "t"))
        };
        let r = h.send(&app, &req).await;
        let id = r.header("alipay-trace-id").unwrap().to_string();
        assert_ne!(id, "client-chosen");
        assert_eq!(id.len(), 32);
        assert!(seen.insert(id));
    }
    h.sandbox.shutdown().await;
}
