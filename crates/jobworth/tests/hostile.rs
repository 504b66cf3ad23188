//! A hostile gateway on loopback: it holds Alipay's signing key (so every answer verifies) but
//! misbehaves — rewrites statuses, replays stale answers, answers for another user, floods the
//! body. The SDK must refuse each, and treat the token as possibly consumed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_v3::sign::sign_response;
use jobworth::{Error, ErrorCode, MaybeSentKind, VerificationKind};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use jobworth_testkit::raw_server::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN_INVALID: &str = r#"{"code":"TOKEN_INVALID","message":"token used"}"#;

/// An HTTP/1.1 answer signed by the Alipay stand-in with the given `alipay-timestamp`.
fn signed_at(status: u16, body: &str, timestamp: &str) -> Vec<u8> {
    let nonce = "5f1c0d3e9a7b4c2d8e6f0a1b2c3d4e5f";
    let sig = sign_response(&alipay_key(), timestamp, nonce, body.as_bytes());
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nalipay-trace-id: hostile\r\n\
         alipay-timestamp: {timestamp}\r\nalipay-nonce: {nonce}\r\nalipay-signature: {sig}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn now_ms() -> u64 {
    alipay_v3::now_millis()
}

/// First request: `first`; every later one: a signed `TOKEN_INVALID` (the token is gone).
async fn then_token_invalid(first: Vec<u8>) -> RawServer {
    let n = Arc::new(AtomicUsize::new(0));
    RawServer::start(RawMode::Respond(Arc::new(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            first.clone()
        } else {
            signed_http(400, TOKEN_INVALID)
        }
    })))
    .await
}

fn query(c: &jobworth::Client) -> jobworth::AuthenticationQuery {
    c.authentication_query().conn_key("conn-hostile").once_token("tok-hostile").user_id("2088402562742105")
}

/// The query failed, was not repeated, and a repeat with the same token that answers
/// `TOKEN_INVALID` is reported as possibly consumed.
async fn assert_token_possibly_consumed(c: &jobworth::Client, server: &RawServer, e: &Error, what: &str) {
    assert!(e.token_may_be_consumed(), "{what}: {e:?}");
    assert_eq!(e.request().map(|r| r.attempts), Some(1), "{what}: not repeated blindly");
    assert_eq!(server.requests().len(), 1, "{what}");
    let again = query(c).send().await.unwrap_err();
    assert!(matches!(again, Error::TokenPossiblyConsumed { .. }), "{what}: {again:?}");
    assert_eq!(again.api_code(), Some(&ErrorCode::TokenInvalid));
}

#[tokio::test]
async fn statuses_that_may_have_consumed_the_token_are_remembered() {
    // (status, may the token have been consumed?)
    let table: &[(u16, bool)] = &[
        (408, true),
        (429, true),
        (499, true),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (599, true),
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (409, false),
        (422, false),
    ];
    for &(status, ambiguous) in table {
        for code in ["SYSTEM_ERROR", "APP_CALL_LIMITED", "SOME_CODE"] {
            let body = format!(r#"{{"code":"{code}","message":"m"}}"#);
            let server = then_token_invalid(signed_http(status, &body)).await;
            let c = builder(&server.url()).max_retries(3).build().unwrap();
            let e = query(&c).send().await.unwrap_err();
            let what = format!("HTTP {status} {code}");
            assert_eq!(e.token_may_be_consumed(), ambiguous, "{what}: {e:?}");
            assert_eq!(jobworth::ApiError::status_is_ambiguous(http::StatusCode::from_u16(status).unwrap()), ambiguous);
            if ambiguous {
                assert_eq!(e.as_api().map(|a| a.response.status.as_u16()), Some(status), "{what}: {e:?}");
                assert!(e.to_string().contains("may already have been consumed"), "{what}: {e}");
                assert_token_possibly_consumed(&c, &server, &e, &what).await;
            } else {
                // A refusal consumed nothing (a transient code was retried at once and met the
                // TOKEN_INVALID stand-in); a later TOKEN_INVALID is just that.
                let again = query(&c).send().await.unwrap_err();
                assert!(matches!(&again, Error::Api(a) if a.code == ErrorCode::TokenInvalid), "{what}: {again:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_signed_success_relabelled_as_an_error_is_a_verification_failure() {
    for status in [400, 403, 404, 500] {
        let server = then_token_invalid(signed_http(status, SUCCESS)).await;
        let c = client(&server.url());
        let e = query(&c).send().await.unwrap_err();
        let what = format!("success relabelled {status}");
        assert!(
            matches!(&e, Error::Verification(v) if v.kind == VerificationKind::NotAnErrorBody && v.response.status.as_u16() == status),
            "{what}: {e:?}"
        );
        assert!(e.as_api().is_none(), "not an API error with an empty code");
        let text = e.to_string();
        assert!(text.contains("not an error") && text.contains("may already have been consumed"), "{text}");
        assert_token_possibly_consumed(&c, &server, &e, &what).await;
    }
    // With the signature stripped as well it is no verified answer, but not a refusal either: an
    // error answer without a code leaves the token possibly consumed.
    for status in [400, 404] {
        let unsigned = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{SUCCESS}",
            SUCCESS.len()
        )
        .into_bytes();
        let server = then_token_invalid(unsigned).await;
        let c = client(&server.url());
        let e = query(&c).send().await.unwrap_err();
        let what = format!("unsigned success relabelled {status}");
        assert!(matches!(&e, Error::Api(a) if a.code.as_str().is_empty() && !a.signed), "{what}: {e:?}");
        assert!(e.to_string().contains("may already have been consumed"), "{what}: {e}");
        assert_token_possibly_consumed(&c, &server, &e, &what).await;
    }
    // Signed non-JSON and code-less bodies under an error status are refused the same way.
    for body in ["<html>teapot</html>", r#"{"message":"no code"}"#, r#"{"code":""}"#] {
        let server = RawServer::start(RawMode::Respond(Arc::new(move |_| signed_http(400, body)))).await;
        let e = query(&client(&server.url())).send().await.unwrap_err();
        assert!(matches!(&e, Error::Verification(v) if v.kind == VerificationKind::NotAnErrorBody), "{body}: {e:?}");
    }
}

#[tokio::test]
async fn stale_and_future_answers_are_refused() {
    let minute = 60_000;
    for (what, ts) in [
        ("16 min old", (now_ms() - 16 * minute).to_string()),
        ("16 min ahead", (now_ms() + 16 * minute).to_string()),
        ("a day old, in seconds", ((now_ms() - 1440 * minute) / 1000).to_string()),
        ("epoch", "0".to_string()),
    ] {
        let server = then_token_invalid(signed_at(200, SUCCESS, &ts)).await;
        let c = client(&server.url());
        let e = query(&c).send().await.unwrap_err();
        assert!(
            matches!(&e, Error::Verification(v) if matches!(v.kind, VerificationKind::TimestampOutOfWindow { .. })),
            "{what}: {e:?}"
        );
        assert!(e.to_string().contains("alipay-timestamp"), "{e}");
        assert_token_possibly_consumed(&c, &server, &e, what).await;
    }
    // A replayed error answer is not trusted either.
    let old = (now_ms() - 60 * minute).to_string();
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| signed_at(400, TOKEN_INVALID, &old)))).await;
    let e = query(&client(&server.url())).send().await.unwrap_err();
    assert!(matches!(&e, Error::Verification(_)), "{e:?}");

    // Inside the default window, and inside a widened one.
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| {
        signed_at(200, SUCCESS, &(now_ms() - 14 * minute).to_string())
    })))
    .await;
    query(&client(&server.url())).send().await.unwrap();
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| {
        signed_at(200, SUCCESS, &(now_ms() - 50 * minute).to_string())
    })))
    .await;
    let wide = builder(&server.url()).response_time_window(Duration::from_secs(3600)).build().unwrap();
    query(&wide).send().await.unwrap();
    let narrow = builder(&server.url()).response_time_window(Duration::from_secs(60)).build().unwrap();
    assert!(matches!(query(&narrow).send().await, Err(Error::Verification(_))));
}

#[tokio::test]
async fn an_answer_for_another_user_is_refused() {
    let other_user = SUCCESS.replace("2088402562742105", "2088000000000001");
    let server = then_token_invalid(signed_http(200, &other_user)).await;
    let c = client(&server.url());
    let e = query(&c).send().await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind == VerificationKind::UserMismatch { field: "user_id" }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(text.contains("another user_id") && text.contains("may already have been consumed"), "{text}");
    assert_token_possibly_consumed(&c, &server, &e, "other user_id").await;

    let other_open = SUCCESS.replace("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", "074other");
    let server = RawServer::start(RawMode::Respond(Arc::new(move |_| signed_http(200, &other_open)))).await;
    let c = client(&server.url());
    let e = c
        .authentication_query()
        .conn_key("c")
        .once_token("t")
        .open_id("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind == VerificationKind::UserMismatch { field: "open_id" }),
        "{e:?}"
    );
    // The query named no open_id, so the answer's is not checked; its user_id matches.
    assert!(query(&c).send().await.is_ok());

    // An answer that names nobody (e.g. WAITING_VERIFY) is accepted.
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| {
        signed_http(200, r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING"}"#)
    })))
    .await;
    assert!(query(&client(&server.url())).send().await.is_ok());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    // Announced by content-length.
    let big = format!(r#"{{"identity_result":"SUCCESS","pad":"{}"}}"#, "x".repeat(1024 * 1024 + 1));
    let server = then_token_invalid(signed_http(200, &big)).await;
    let c = client(&server.url());
    let e = query(&c).send().await.unwrap_err();
    assert!(
        matches!(&e, Error::MaybeSent(m) if m.kind == MaybeSentKind::ResponseTooLarge { limit: 1024 * 1024 }),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("1048576-byte limit"), "{e}");
    assert_token_possibly_consumed(&c, &server, &e, "oversized").await;

    // A configured limit: the same 1 KiB answer passes one client and not the other.
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| signed_http(200, SUCCESS)))).await;
    let small = builder(&server.url()).max_response_bytes(SUCCESS.len()).build().unwrap();
    query(&small).send().await.unwrap();
    let tiny = builder(&server.url()).max_response_bytes(SUCCESS.len() - 1).build().unwrap();
    let e = query(&tiny).send().await.unwrap_err();
    assert!(matches!(&e, Error::MaybeSent(m) if matches!(m.kind, MaybeSentKind::ResponseTooLarge { .. })), "{e:?}");
    assert!(builder("http://127.0.0.1:9").max_response_bytes(0).build().is_err());
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
        // Until the client hangs up.
        while s.write_all(chunk.as_bytes()).await.is_ok() {
            counter.fetch_add(0x10000, Ordering::SeqCst);
        }
    });
    let c = builder(&url).max_response_bytes(256 * 1024).timeout(Duration::from_secs(20)).build().unwrap();
    let started = Instant::now();
    let e = query(&c).send().await.unwrap_err();
    assert!(matches!(&e, Error::MaybeSent(m) if m.kind == MaybeSentKind::ResponseTooLarge { limit: 262_144 }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // The client closed the connection: the server's writes fail and it stops.
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("server stopped").unwrap();
    let total = written.load(Ordering::SeqCst);
    assert!(total < 64 * 1024 * 1024, "the client stopped reading: {total} bytes written");
}

#[tokio::test]
async fn a_verified_success_the_model_cannot_decode_keeps_the_verified_body() {
    // A document number in an unexpected place: the error text must not quote it.
    let odd = format!(r#"{{"identity_result":{CERT_NO},"user_id":"2088402562742105"}}"#);
    let server = then_token_invalid(signed_http(200, &odd)).await;
    let c = client(&server.url());
    let e = query(&c).send().await.unwrap_err();
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.body, odd.as_bytes(), "the verified body is handed over");
    assert_eq!(d.body_text(), odd);
    assert!(d.response.headers.contains_key("alipay-signature"), "the answer's headers are kept");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(CERT_NO), "{shown}");
    assert!(shown.contains("not an authentication result"), "{shown}");
    assert_token_possibly_consumed(&c, &server, &e, "undecodable").await;

    // Encrypted: the body handed over is the decrypted plaintext of the verified ciphertext.
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| {
        signed_http(200, &aes_key().encrypt(br#"{"identity_result":[1,2]}"#))
    })))
    .await;
    let c = builder(&server.url()).encrypt_key(aes_key()).build().unwrap();
    let e = query(&c).send().await.unwrap_err();
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.body, br#"{"identity_result":[1,2]}"#);

    // The generic call: RawResponse::json errors keep the body and quote none of it.
    let server =
        RawServer::start(RawMode::Respond(Arc::new(|_| signed_http(200, &format!(r#"{{"n":"{CERT_NO}"}}"#))))).await;
    let res = client(&server.url()).request(http::Method::GET, "/v3/x").send().await.unwrap();
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct N {
        n: u64,
    }
    let e = res.json::<N>().unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(CERT_NO) && !shown.contains("110105"), "{shown}");
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert!(d.body_text().contains(CERT_NO));
}
