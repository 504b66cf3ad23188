//! Replayed and tampered traffic, both directions:
//!
//! * the sandbox refuses a replayed `authorization`, stale and future timestamps, an altered
//!   request-target / body / app-auth token / method, another app's key and another app's
//!   `app_cert_sn`, each with its gateway error code, signed, and consuming nothing;
//! * the SDK (`jobworth::Client`) refuses answers that a loopback proxy tampered with, truncated,
//!   stripped of their signature, re-signed with another key, or gave a foreign `alipay-sn` —
//!   in key, certificate and AES mode — while the same proxy passing answers through works.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipay_v3::headers as h;
use alipay_v3::keys::PrivateKey;
use jobworth::{Error, IdentityResult, VerificationKind};
use jobworth_testkit::app::{query_target, App};
use jobworth_testkit::http::{http, send, Resp};
use jobworth_testkit::sandbox::{start, Harness};
use jobworth_testkit::sdk::{cert_builder, exact_query, key_builder};
use jobworth_testkit::signed::{authorization, sign_answer, sign_get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIN: u64 = 60_000;

fn assert_refused(reply: &Resp, code: &str, alipay: &alipay_v3::keys::PublicKey, what: &str) {
    assert_eq!(reply.status, 400, "{what}: {:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.code(), code, "{what}: {}", reply.json());
    reply.verify(alipay);
}

#[tokio::test]
async fn gateway_refuses_replay_stale_and_tampered_requests() {
    let sb = start().await;
    let a = sb.register_new("2021000000000101", None).await;
    let b = sb.register_new("2021000000000102", None).await;
    let alipay = a.alipay_public_key();
    let http = http();
    let (conn_key, token, user_id) = sb.new_token(&a).await;
    let target = query_target(&conn_key, &token, &user_id);
    let get = |auth: String| {
        let (http, base, target) = (http.clone(), sb.base().to_string(), target.clone());
        async move { send(&http, &base, "GET", &target, &[(h::AUTHORIZATION, auth)], "").await }
    };
    let sign = |key: &PrivateKey, app_id: &str, ts: u64, method: &str, target: &str, body: &str, tok: Option<&str>| {
        authorization(key, (app_id, None, &alipay_v3::new_nonce(), ts), method, target, body, tok)
    };
    let now = alipay_v3::now_millis;

    let r = send(&http, sb.base(), "GET", &target, &[], "").await;
    assert_refused(&r, "missing-signature", &alipay, "no authorization");

    let r = get(sign(&a.key, "2021009999999999", now(), "GET", &target, "", None)).await;
    assert_refused(&r, "invalid-app-id", &alipay, "unknown app");

    let r = get(sign(&b.key, &a.app_id, now(), "GET", &target, "", None)).await;
    assert_refused(&r, "invalid-signature", &alipay, "another app's key");

    // Altered request-target: another user, an added parameter, another spelling of a byte.
    let other_user = query_target(&conn_key, &token, "2088000000000000");
    let r = send(&http, sb.base(), "GET", &other_user, &[(h::AUTHORIZATION, sign_get(&a, &target))], "").await;
    assert_refused(&r, "invalid-signature", &alipay, "altered user_id");
    let extended = format!("{target}&open_id=x");
    let r = send(&http, sb.base(), "GET", &extended, &[(h::AUTHORIZATION, sign_get(&a, &target))], "").await;
    assert_refused(&r, "invalid-signature", &alipay, "added parameter");
    let respelled = target.replacen("conn-", "conn%2D", 1);
    assert_ne!(respelled, target);
    let r = send(&http, sb.base(), "GET", &respelled, &[(h::AUTHORIZATION, sign_get(&a, &target))], "").await;
    assert_refused(&r, "invalid-signature", &alipay, "re-encoded target");

    // Altered body and method.
    let auth = sign(&a.key, &a.app_id, now(), "GET", &target, r#"{"a":1}"#, None);
    let r = send(&http, sb.base(), "GET", &target, &[(h::AUTHORIZATION, auth)], r#"{"a":2}"#).await;
    assert_refused(&r, "invalid-signature", &alipay, "altered body");
    let r = get(sign(&a.key, &a.app_id, now(), "POST", &target, "", None)).await;
    assert_refused(&r, "invalid-signature", &alipay, "signed as POST, sent as GET");

    // Altered, added and dropped app-auth token.
    for (signed, sent) in [(Some("tok-1"), Some("tok-2")), (None, Some("tok-1")), (Some("tok-1"), None)] {
        let auth = sign(&a.key, &a.app_id, now(), "GET", &target, "", signed);
        let mut headers = vec![(h::AUTHORIZATION, auth)];
        if let Some(t) = sent {
            headers.push((h::APP_AUTH_TOKEN, t.to_string()));
        }
        let r = send(&http, sb.base(), "GET", &target, &headers, "").await;
        assert_refused(&r, "invalid-signature", &alipay, &format!("app auth token signed {signed:?}, sent {sent:?}"));
    }

    // Timestamps outside the ±15 min window, however correctly signed.
    for (ts, what) in [
        (now() - 16 * MIN, "16 min old"),
        (now() + 16 * MIN, "16 min ahead"),
        (0, "epoch"),
        (9_999_999_999_999_999_999, "huge"),
    ] {
        let r = get(sign(&a.key, &a.app_id, ts, "GET", &target, "", None)).await;
        assert_refused(&r, "invalid-timestamp", &alipay, what);
    }

    // None of that consumed the token: a correct request succeeds now, exactly once...
    let auth = sign_get(&a, &target);
    let r = get(auth.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json());
    r.verify(&alipay);
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    // ...its replay (same nonce) is refused as a replay, before any business rule...
    let r = get(auth).await;
    assert_refused(&r, "invalid-signature", &alipay, "replayed authorization");
    let msg = r.json()["message"].as_str().unwrap().to_lowercase();
    assert!(msg.contains("replay"), "the message says replay: {msg}");
    // ...and a fresh request finds the token consumed.
    let r = get(sign_get(&a, &target)).await;
    assert_refused(&r, "TOKEN_INVALID", &alipay, "after the success");

    sb.sandbox.shutdown().await;
}

#[tokio::test]
async fn certificate_mode_refuses_another_apps_cert_sn() {
    let sb = start().await;
    let a = sb.register_new("2021000000000111", None).await;
    let b = sb.register_new("2021000000000112", None).await;
    assert_ne!(a.app_cert_sn(), b.app_cert_sn());
    let alipay = a.alipay_public_key();
    let http = http();
    let (conn_key, token, user_id) = sb.new_token(&a).await;
    let target = query_target(&conn_key, &token, &user_id);
    let with_sn = |sn: &str| {
        let nonce = alipay_v3::new_nonce();
        let auth =
            authorization(&a.key, (&a.app_id, Some(sn), &nonce, alipay_v3::now_millis()), "GET", &target, "", None);
        vec![(h::AUTHORIZATION, auth)]
    };
    for (sn, what) in
        [(b.app_cert_sn().as_str(), "another app's SN"), ("00000000000000000000000000000000", "unknown SN")]
    {
        let r = send(&http, sb.base(), "GET", &target, &with_sn(sn), "").await;
        assert_refused(&r, "app-cert-not-exist", &alipay, what);
        assert_eq!(r.header(h::SN), a.registration["alipay_cert_sn"].as_str(), "errors carry alipay-sn too");
    }
    let r = send(&http, sb.base(), "GET", &target, &with_sn(&a.app_cert_sn()), "").await;
    assert_eq!(r.status, 200, "own SN: {}", r.json());
    r.verify(&alipay);
    assert_eq!(r.header(h::SN), a.registration["alipay_cert_sn"].as_str());
    sb.sandbox.shutdown().await;
}

/// What the proxy does to each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mangle {
    PassThrough,
    /// Changes one value in the body (JSON) or one character (ciphertext).
    AlterBody,
    /// Keeps the first half of the body (content-length adjusted).
    Truncate,
    /// Removes `alipay-signature`.
    Unsign,
    /// Re-signs the unchanged body with a key that is not the sandbox's.
    ForeignSignature,
    /// Moves `alipay-timestamp` by 1 ms.
    ShiftTimestamp,
    /// Replaces `alipay-sn` with another certificate's SN.
    ForeignSn,
}

/// A loopback HTTP/1.1 proxy in front of the sandbox that mangles every answer.
struct Proxy {
    url: String,
    mode: Arc<Mutex<Mangle>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mangle::PassThrough));
        let foreign = PrivateKey::generate().unwrap();
        let m = mode.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { break };
                let (upstream, m, foreign) = (upstream.clone(), m.clone(), foreign.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), relay(sock, &upstream, m, &foreign)).await;
                });
            }
        });
        Proxy { url, mode, task }
    }

    fn set(&self, m: Mangle) {
        *self.mode.lock().unwrap() = m;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut sock: TcpStream, upstream: &str, mode: Arc<Mutex<Mangle>>, foreign: &PrivateKey) {
    // Read the request head and its content-length body.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let (method, target) = (first.next().unwrap().to_string(), first.next().unwrap().to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().into()))
        .collect();
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + 4 + len {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end + 4..head_end + 4 + len].to_vec()).unwrap();
    let forward: Vec<(&str, String)> = headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "host" | "connection" | "content-length"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let reply = send(&http(), upstream, &method, &target, &forward, &body).await;

    let m = *mode.lock().unwrap();
    let mut headers = reply.headers.clone();
    let mut body = reply.body.clone();
    let set = |hs: &mut Vec<(String, String)>, name: &str, value: String| {
        hs.retain(|(k, _)| k != name);
        hs.push((name.to_string(), value));
    };
    match m {
        Mangle::PassThrough => {}
        Mangle::AlterBody => {
            let text = String::from_utf8(body.clone()).unwrap();
            let altered = if text.contains("\"SUCCESS\"") {
                text.replacen("\"SUCCESS\"", "\"FAILED\"", 1)
            } else if text.starts_with('{') {
                text.replacen("\"code\":\"", "\"code\":\"SYSTEM_ERROR_", 1)
            } else {
                // Ciphertext: change one base64 character.
                let mut b = text.into_bytes();
                b[0] = if b[0] == b'A' { b'B' } else { b'A' };
                String::from_utf8(b).unwrap()
            };
            assert_ne!(altered.as_bytes(), &body[..]);
            body = altered.into_bytes();
        }
        Mangle::Truncate => body.truncate(body.len() / 2),
        Mangle::Unsign => headers.retain(|(k, _)| k != h::SIGNATURE),
        Mangle::ForeignSignature => {
            let sig = sign_answer(foreign, &body);
            set(&mut headers, h::TIMESTAMP, sig.timestamp);
            set(&mut headers, h::NONCE, sig.nonce);
            set(&mut headers, h::SIGNATURE, sig.signature);
        }
        Mangle::ShiftTimestamp => {
            let ts: u64 = reply.header(h::TIMESTAMP).unwrap().parse().unwrap();
            set(&mut headers, h::TIMESTAMP, (ts + 1).to_string());
        }
        Mangle::ForeignSn => set(&mut headers, h::SN, "0123456789abcdef0123456789abcdef".into()),
    }
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in
        headers.iter().filter(|(k, _)| !matches!(k.as_str(), "content-length" | "transfer-encoding" | "connection"))
    {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    let _ = sock.write_all(&bytes).await;
    let _ = sock.shutdown().await;
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Key,
    Certificate,
    Aes,
}

async fn sdk_client(mode: Mode, app: &App, endpoint: &str, aes_b64: &str) -> jobworth::Client {
    let b = match mode {
        Mode::Key => key_builder(endpoint, app),
        Mode::Certificate => cert_builder(endpoint, app),
        Mode::Aes => key_builder(endpoint, app).encrypt_key_base64(aes_b64).unwrap(),
    };
    b.max_retries(0).timeout(Duration::from_secs(10)).build().unwrap()
}

async fn sdk_query(
    client: &jobworth::Client,
    sb: &Harness,
    app: &App,
) -> Result<jobworth::AuthenticationResult, Error> {
    let (conn_key, token, user_id) = sb.new_token(app).await;
    exact_query(client, &conn_key, &token, &user_id).send().await
}

#[tokio::test]
async fn sdk_refuses_tampered_truncated_unsigned_and_foreign_signed_answers() {
    let sb = start().await;
    let aes = alipay_v3::aes::AesKey::generate();
    let aes_b64 = aes.to_base64().to_string();
    let app = sb.register_new("2021000000000121", Some(aes)).await;
    let proxy = Proxy::start(sb.base().to_string()).await;

    let mut refused = 0;
    for mode in [Mode::Key, Mode::Certificate, Mode::Aes] {
        let client = sdk_client(mode, &app, &proxy.url, &aes_b64).await;
        // The proxy itself is faithful: untouched answers are accepted.
        proxy.set(Mangle::PassThrough);
        let ok = sdk_query(&client, &sb, &app).await.unwrap_or_else(|e| panic!("{mode:?} pass-through: {e}"));
        assert_eq!(ok.identity_result, IdentityResult::Success);

        let mut cases = vec![
            (Mangle::AlterBody, "bad"),
            (Mangle::Truncate, "bad"),
            (Mangle::Unsign, "missing"),
            (Mangle::ForeignSignature, "bad"),
            (Mangle::ShiftTimestamp, "bad"),
        ];
        if matches!(mode, Mode::Certificate) {
            cases.push((Mangle::ForeignSn, "sn"));
        }
        for (m, expect) in cases {
            proxy.set(m);
            let err = sdk_query(&client, &sb, &app)
                .await
                .expect_err(&format!("{mode:?}/{m:?}: a mangled answer must be refused"));
            let Error::Verification(v) = &err else {
                panic!("{mode:?}/{m:?}: expected a verification error, got {err:?}")
            };
            match (expect, &v.kind) {
                ("bad", VerificationKind::BadSignature) => {}
                ("missing", VerificationKind::MissingHeader(name)) => assert_eq!(*name, h::SIGNATURE),
                ("sn", VerificationKind::SnMismatch { received, .. }) => {
                    assert_eq!(received, "0123456789abcdef0123456789abcdef")
                }
                (_, other) => panic!("{mode:?}/{m:?}: unexpected {other:?}"),
            }
            assert!(err.api_code().is_none(), "{mode:?}/{m:?}: no API result is reported from a refused answer");
            refused += 1;
        }
    }
    assert_eq!(refused, 16);

    // A signed error answer whose body was altered (its code rewritten) is refused
    // too: the SDK never reports a forged code.
    let client = sdk_client(Mode::Key, &app, &proxy.url, &aes_b64).await;
    proxy.set(Mangle::AlterBody);
    let err = exact_query(&client, "conn-unknown", "nope", "2088000000000000").send().await.expect_err("refused");
    assert!(matches!(&err, Error::Verification(v) if matches!(v.kind, VerificationKind::BadSignature)), "{err:?}");
    drop(proxy);
    sb.sandbox.shutdown().await;
}
