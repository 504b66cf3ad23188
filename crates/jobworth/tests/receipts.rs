//! Receipts through the SDK against the in-process sandbox: every verified answer and signed
//! error carries one that re-verifies offline, and the receipt sink is awaited before `send()`
//! returns (a failing sink loses nothing).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobworth::{
    AuthenticationResult, BoxFuture, Error, ErrorCode, IdentityResult, Receipt, ReceiptError, ReceiptSink,
    ReceiptTrust, StoreError, RECEIPT_FORMAT,
};
use jobworth_testkit::fixtures::{AUTH_PATH, TEACHER_USER};
use jobworth_testkit::sandbox::{start_with_aes_app, start_with_app};
use jobworth_testkit::sdk::{cert_builder, exact_query, key_builder};
use tokio::sync::{mpsc, oneshot};

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn a_success_and_the_signed_error_after_it_both_carry_a_receipt_that_verifies_offline() {
    let (h, app, alipay) = start_with_app().await;
    let client = key_builder(h.base(), &app).build().unwrap();
    let (conn, tok, user) = h.new_token(&app).await;
    let trust = ReceiptTrust::PublicKey(alipay.clone());

    let (result, receipt) = exact_query(&client, &conn, &tok, &user).send_with_receipt().await.unwrap();
    assert_eq!(result.identity_result, IdentityResult::Success);
    assert_eq!(receipt.format, RECEIPT_FORMAT);
    assert_eq!((receipt.method.as_str(), receipt.status), ("GET", 200));
    assert!(receipt.request_target.starts_with(&format!("{AUTH_PATH}?conn_key=")), "{}", receipt.request_target);
    assert!(receipt.request_target.contains(&format!("once_token={tok}")), "the target is kept as sent");
    assert!(receipt.alipay_sn.is_none() && !receipt.encrypted);
    let body = receipt.verify(&trust, None).unwrap();
    assert_eq!(serde_json::from_slice::<AuthenticationResult>(&body).unwrap(), result);
    // Through JSON and back, still the same evidence.
    let text = serde_json::to_string(&receipt).unwrap();
    let back: Receipt = serde_json::from_str(&text).unwrap();
    assert_eq!(back.verify(&trust, None).unwrap(), body);
    // Another key refuses it.
    let other = ReceiptTrust::PublicKey(alipay_v3::keys::PrivateKey::generate().unwrap().public_key());
    assert!(matches!(back.verify(&other, None), Err(ReceiptError::Signature(_))));

    // The terminal result was read: the token is spent, and the signed refusal is evidence too.
    let e = exact_query(&client, &conn, &tok, &user).send().await.unwrap_err();
    assert_eq!(e.api_code(), Some(&ErrorCode::TokenInvalid));
    let r = e.receipt().expect("a signed error carries its receipt");
    assert_eq!(r.status, 400);
    assert_eq!(json(&r.verify(&trust, None).unwrap())["code"], "TOKEN_INVALID");
    assert!(matches!(&e, Error::Api(a) if a.signed));
}

#[tokio::test]
async fn the_generic_call_carries_a_receipt_too() {
    let (h, app, alipay) = start_with_app().await;
    let client = key_builder(h.base(), &app).build().unwrap();
    let (conn, tok, user) = h.new_token(&app).await;
    let raw = client
        .request(http::Method::GET, AUTH_PATH)
        .query("conn_key", &conn)
        .query("once_token", &tok)
        .query("query_type", "exact")
        .query("identity_type", "04")
        .query("service_id", jobworth_testkit::fixtures::SERVICE_ID)
        .query("user_id", &user)
        .send()
        .await
        .unwrap();
    let receipt = raw.receipt();
    assert_eq!(receipt.verify(&ReceiptTrust::PublicKey(alipay), None).unwrap(), raw.body);
}

#[tokio::test]
async fn certificate_mode_receipts_name_the_certificate_and_chain_to_the_root() {
    let (h, app, _) = start_with_app().await;
    let client = cert_builder(h.base(), &app).build().unwrap();
    let (conn, tok, user) = h.new_token(&app).await;
    let (_, receipt) = exact_query(&client, &conn, &tok, &user).send_with_receipt().await.unwrap();
    let reg = &app.registration;
    let alipay_cert = reg["alipay_cert"].as_str().unwrap();
    let root = reg["alipay_root_cert"].as_str().unwrap();
    assert_eq!(receipt.alipay_sn.as_deref(), Some(alipay_v3::cert::cert_sn(alipay_cert).unwrap().as_str()));
    let trust = ReceiptTrust::certificates(alipay_cert.as_bytes(), root.as_bytes()).unwrap();
    assert_eq!(json(&receipt.verify(&trust, None).unwrap())["identity_result"], "SUCCESS");
    // An SN that is not the certificate's is refused; so is a root bundle the certificate does not chain to.
    let wrong_sn = Receipt { alipay_sn: Some("0".repeat(32)), ..receipt.clone() };
    assert!(matches!(wrong_sn.verify(&trust, None), Err(ReceiptError::SnMismatch { .. })));
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../alipay-v3/tests/fixtures/alipayRootCert.crt");
    let foreign = ReceiptTrust::certificates(alipay_cert.as_bytes(), &std::fs::read(fixtures).unwrap()).unwrap();
    assert!(matches!(receipt.verify(&foreign, None), Err(ReceiptError::Chain { .. })));
}

#[tokio::test]
async fn an_encrypted_answer_is_kept_as_ciphertext_and_decrypts_after_verifying() {
    let (h, app, aes) = start_with_aes_app().await;
    let client = key_builder(h.base(), &app).encrypt_key(aes.clone()).build().unwrap();
    let (conn, tok, user) = h.new_token(&app).await;
    let (result, receipt) = exact_query(&client, &conn, &tok, &user).send_with_receipt().await.unwrap();
    assert!(receipt.encrypted);
    assert!(!String::from_utf8(receipt.body().unwrap()).unwrap().contains("identity_result"), "ciphertext kept");
    let trust = ReceiptTrust::PublicKey(app.alipay_public_key());
    let plain = receipt.verify(&trust, Some(&aes)).unwrap();
    assert_eq!(serde_json::from_slice::<AuthenticationResult>(&plain).unwrap(), result);
    assert_eq!(receipt.verify(&trust, None), Err(ReceiptError::KeyNeeded));
}

/// Hands each receipt to the test and waits for the test's go before it reports it stored.
struct Gated {
    called: mpsc::UnboundedSender<(Receipt, oneshot::Sender<Result<(), String>>)>,
}

impl ReceiptSink for Gated {
    fn store<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let (go, wait) = oneshot::channel();
            self.called.send((receipt.clone(), go)).map_err(|_| "test gone")?;
            wait.await.map_err(|_| "test gone")?.map_err(StoreError::from)
        })
    }
}

#[tokio::test]
async fn send_returns_only_after_the_sink_stored_the_receipt() {
    let (h, app, alipay) = start_with_app().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let client = key_builder(h.base(), &app).receipt_sink(Arc::new(Gated { called: tx })).build().unwrap();
    let (conn, tok, user) = h.new_token(&app).await;

    let call = tokio::spawn({
        let client = client.clone();
        async move { exact_query(&client, &conn, &tok, &user).send_with_receipt().await }
    });
    let (stored, go) = rx.recv().await.unwrap();
    // The answer is in, the sink holds it, and the caller has not got it yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!call.is_finished(), "send() returned before the receipt was stored");
    go.send(Ok(())).unwrap();
    let (result, receipt) = call.await.unwrap().unwrap();
    assert_eq!(result.identity_result, IdentityResult::Success);
    assert_eq!(stored, receipt, "the sink got the receipt of what send() returned");
    stored.verify(&ReceiptTrust::PublicKey(alipay), None).unwrap();
}

/// Fails the first time (a full disk), stores afterwards.
#[derive(Default)]
struct FailsOnce {
    failed: AtomicBool,
    kept: Mutex<Vec<Receipt>>,
}

impl ReceiptSink for FailsOnce {
    fn store<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if !self.failed.swap(true, Ordering::SeqCst) {
                return Err(StoreError::from("disk full"));
            }
            self.kept.lock().unwrap().push(receipt.clone());
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_failing_sink_returns_the_receipt_and_the_result_inside_the_error() {
    let (h, app, alipay) = start_with_app().await;
    let sink = Arc::new(FailsOnce::default());
    let client = key_builder(h.base(), &app).receipt_sink(sink.clone()).build().unwrap();
    let (conn, tok, _) = h.new_token(&app).await;

    let e = exact_query(&client, &conn, &tok, TEACHER_USER).send().await.unwrap_err();
    let Error::ReceiptNotStored(not_stored) = &e else { panic!("expected ReceiptNotStored, got {e:?}") };
    assert_eq!(not_stored.message, "disk full");
    let text = e.to_string();
    assert!(text.contains("was verified but its receipt was not stored: disk full"), "{text}");
    assert!(!text.contains(&tok), "{text}");
    // Nothing is lost: the verified result and its receipt are in the error.
    let raw = not_stored.outcome.as_ref().expect("the verified answer");
    let result: AuthenticationResult = raw.json().unwrap();
    assert_eq!(result.identity_result, IdentityResult::Success);
    assert_eq!(e.receipt(), Some(raw.receipt()));
    e.receipt().unwrap().verify(&ReceiptTrust::PublicKey(alipay.clone()), None).unwrap();
    // The result was read, so the token is spent: a repeat is told so, and its receipt stored.
    assert!(e.token_may_be_consumed());
    let again = exact_query(&client, &conn, &tok, TEACHER_USER).send().await.unwrap_err();
    assert!(matches!(again, Error::TokenPossiblyConsumed { .. }), "{again:?}");
    let kept = sink.kept.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].status, 400);
    assert_eq!(json(&kept[0].verify(&ReceiptTrust::PublicKey(alipay), None).unwrap())["code"], "TOKEN_INVALID");
}

#[tokio::test]
async fn a_signed_error_whose_receipt_is_not_stored_keeps_the_error() {
    let (h, app, _) = start_with_app().await;
    let client = key_builder(h.base(), &app).receipt_sink(Arc::new(FailsOnce::default())).build().unwrap();
    let e = exact_query(&client, "conn-unknown", "tok-unknown", TEACHER_USER).send().await.unwrap_err();
    let Error::ReceiptNotStored(not_stored) = &e else { panic!("expected ReceiptNotStored, got {e:?}") };
    let inner = not_stored.outcome.as_ref().unwrap_err();
    assert!(inner.as_api().is_some_and(|a| a.signed), "{inner:?}");
    assert_eq!(e.receipt().map(|r| r.status), inner.as_api().map(|a| a.response.status.as_u16()));
    assert_eq!(e.request().map(|r| r.single_use_token), Some(true));
    assert!(!e.token_may_be_consumed(), "a refusal consumed nothing");
}
