//! Single-use tokens under concurrency (one process, two instances on one store) and state
//! surviving a restart, on each store (SQLite under the data dir, PostgreSQL).

use std::sync::Arc;

use jobworth_sandbox::Sandbox;
use jobworth_testkit::app::{dim_query, teacher_query, App};
use jobworth_testkit::fixtures::{app_key, APP_ID as APP, TEACHER_USER};
use jobworth_testkit::sandbox::{client, Harness};
use jobworth_testkit::sdk::{exact_query, key_builder};
use jobworth_testkit::signed::{order_string, Req};
use jobworth_testkit::stores::{StoreKind, TestStore};
use serde_json::json;

/// Fires `n` SDK queries at one token, spread round-robin over `targets`, released together;
/// returns (successes, token_invalid, anything else).
async fn storm(targets: &[&Harness], app: &App, conn: &str, tok: &str, n: usize) -> (usize, usize, Vec<String>) {
    let clients: Vec<jobworth::Client> = targets
        .iter()
        .map(|h| key_builder(h.base(), app).timeout(std::time::Duration::from_secs(30)).build().unwrap())
        .collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let q = exact_query(&clients[i % clients.len()], conn, tok, TEACHER_USER);
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            q.send().await
        });
    }
    let (mut ok, mut invalid, mut other) = (0, 0, Vec::new());
    while let Some(res) = tasks.join_next().await {
        match res.unwrap() {
            Ok(r) if r.identity_result == jobworth::IdentityResult::Success => ok += 1,
            Err(e) if e.api_code() == Some(&jobworth::ErrorCode::TokenInvalid) => invalid += 1,
            Ok(r) => other.push(format!("{r:?}")),
            Err(e) => other.push(e.to_string()),
        }
    }
    (ok, invalid, other)
}

/// A sandbox on `store`, with a data dir of its own for the harness to hold.
async fn start_on(store: &TestStore) -> Harness {
    let sandbox = Sandbox::start(store.config()).await.unwrap();
    Harness { sandbox, dir: tempfile::tempdir().unwrap(), http: client() }
}

async fn sixty_four_concurrent_queries_exactly_one_wins(kind: StoreKind) {
    let store = TestStore::new(kind);
    let h = start_on(&store).await;
    let app = h.register(APP, &app_key(), None).await;
    for round in 0..2 {
        let conn = format!("conn-{round}");
        h.authenticate(&app, &conn, "tok", "teacher").await;
        let (ok, invalid, other) = storm(&[&h], &app, &conn, "tok", 64).await;
        assert!(other.is_empty(), "{other:?}");
        assert_eq!((ok, invalid), (1, 63));
    }
    h.sandbox.shutdown().await;
}

async fn two_instances_on_one_store_share_keys_and_tokens(kind: StoreKind) {
    // Both start at once on a fresh store: one schema, one key set.
    let store = TestStore::new(kind);
    let (a, b) = tokio::join!(start_on(&store), start_on(&store));
    assert_ne!(a.sandbox.local_addr(), b.sandbox.local_addr());
    assert_eq!(a.sandbox.state().alipay_public_key_pem(), b.sandbox.state().alipay_public_key_pem());
    assert_eq!(a.sandbox.state().alipay_cert(), b.sandbox.state().alipay_cert());

    // Register on A, create the verification on B, query both.
    let app = a.register(APP, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    for round in 0..2 {
        let conn = format!("conn-{round}");
        b.authenticate(&app, &conn, "tok", "teacher").await;
        let (ok, invalid, other) = storm(&[&a, &b], &app, &conn, "tok", 64).await;
        assert!(other.is_empty(), "{other:?}");
        assert_eq!((ok, invalid), (1, 63));
    }
    // A nonce used on A is a replay on B.
    let nonce = alipay_v3::new_nonce();
    let req = Req { nonce: Some(nonce), ..Req::query(&teacher_query("x", "y")) };
    assert_eq!(a.send(&app, &req).await.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    let r = b.send(&app, &req).await;
    r.assert_error(400, "invalid-signature", &alipay);
    assert!(r.json()["message"].as_str().unwrap().contains("replay"));
    a.sandbox.shutdown().await;
    b.sandbox.shutdown().await;
}

async fn state_survives_a_restart(kind: StoreKind) {
    let store = TestStore::new(kind);
    let first = start_on(&store).await;
    let app = first.register(APP, &app_key(), Some(alipay_v3::aes::AesKey::generate())).await;
    let reg = app.registration.clone();
    first.authenticate(&app, "conn-used", "tok", "teacher").await;
    first.authenticate(&app, "conn-fresh", "tok", "teacher").await;
    first.authenticate(&app, "conn-wait", "tok", "pending").await;
    let order = order_string(APP, &app.key, "conn-desk", Some(json!({"onceToken": "tok-desk"})));
    let desk = first.post_json("/sandbox/desk", &json!({"order_str": order})).await.json();
    assert_eq!(first.query(&app, "conn-used", "tok").await.json()["identity_result"], "SUCCESS");
    let nonce = alipay_v3::new_nonce();
    let replay = Req { nonce: Some(nonce), ..Req::query(&teacher_query("x", "y")) };
    first.send(&app, &replay).await;
    let pem_before = first.sandbox.state().alipay_public_key_pem().to_string();
    first.sandbox.shutdown().await;

    let second = start_on(&store).await;
    let s = second.sandbox.state();
    assert_eq!(s.alipay_public_key_pem(), pem_before);
    assert_eq!(s.alipay_cert().1, reg["alipay_cert_sn"].as_str().unwrap());
    assert_eq!(s.alipay_cert().0, reg["alipay_cert"].as_str().unwrap());
    assert_eq!(s.root_cert().1, reg["alipay_root_cert_sn"].as_str().unwrap());
    let alipay = app.alipay_public_key();

    // The app (key, cert SN, AES key) is still registered: a certificate-mode encrypted query works.
    let r = second
        .send(
            &app,
            &Req { cert_sn: Some(app.app_cert_sn()), encrypt: true, ..Req::query(&teacher_query("conn-fresh", "tok")) },
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.verify(&alipay);
    assert_eq!(r.header("alipay-sn"), reg["alipay_cert_sn"].as_str());
    let plain = app.aes.as_ref().unwrap().decrypt_to_string(std::str::from_utf8(&r.body).unwrap()).unwrap();
    assert!(plain.contains("\"SUCCESS\""));
    // Consumed before the restart: still consumed.
    second.query(&app, "conn-used", "tok").await.assert_error(400, "TOKEN_INVALID", &alipay);
    assert_eq!(second.send(&app, &dim("conn-wait")).await.json()["identity_result"], "WAITING_VERIFY");
    // The desk opened before the restart is the same desk and can be completed now.
    let again = second.post_json("/sandbox/desk", &json!({"order_str": order})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["desk_id"], desk["desk_id"]);
    let id = desk["desk_id"].as_str().unwrap();
    assert_eq!(
        second.post_json(&format!("/sandbox/desk/{id}/complete"), &json!({"persona": "teacher"})).await.status,
        200
    );
    assert_eq!(second.query(&app, "conn-desk", "tok-desk").await.json()["identity_result"], "SUCCESS");
    // Nonces are remembered too.
    let r = second.send(&app, &replay).await;
    assert!(r.json()["message"].as_str().unwrap().contains("replay"));
    // The database file is where the brief says; on PostgreSQL the data dir is not used.
    let file = store.data_dir().join(jobworth_sandbox::DB_FILE);
    assert_eq!(file.exists(), kind == StoreKind::Sqlite);
    second.sandbox.shutdown().await;
}

/// A `dim` query (no identifiers) of `conn_key` with token `tok`.
fn dim(conn_key: &str) -> Req {
    Req::query(&dim_query(conn_key, "tok"))
}

/// A sandbox keeps apps and desks in memory between queries; writes made by another process on
/// the same store must be seen by the very next query.
async fn copies_kept_in_memory_follow_another_instances_writes(kind: StoreKind) {
    let store = TestStore::new(kind);
    let a = start_on(&store).await;
    let b = start_on(&store).await;
    let old = a.register(APP, &app_key(), None).await;
    let alipay = old.alipay_public_key();
    let desk = a.authenticate(&old, "conn", "tok", "pending").await;
    // A reads (and keeps) the app and the pending desk.
    for _ in 0..2 {
        let r = a.send(&old, &dim("conn")).await;
        assert_eq!(r.json()["identity_result"], "WAITING_VERIFY", "{}", String::from_utf8_lossy(&r.body));
    }

    // B resolves the verification: A's next query consumes it, once.
    let id = desk["desk_id"].as_str().unwrap();
    let r = b.post_json(&format!("/sandbox/desk/{id}/resolve"), &json!({"identity_result": "SUCCESS"})).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = a.send(&old, &dim("conn")).await;
    r.verify(&alipay);
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    assert_eq!(r.json()["token_status"], "FINISH");
    a.send(&old, &dim("conn")).await.assert_error(400, "TOKEN_INVALID", &alipay);
    b.send(&old, &dim("conn")).await.assert_error(400, "TOKEN_INVALID", &alipay);

    // B replaces the app with a new key: on A the new key works at once and the old one is
    // refused, although A last verified with the old key.
    a.authenticate(&old, "conn-2", "tok", "pending").await;
    assert_eq!(a.send(&old, &dim("conn-2")).await.json()["identity_result"], "WAITING_VERIFY");
    let new_key = alipay_v3::keys::PrivateKey::generate().unwrap();
    let new = b.replace(APP, &new_key, None).await;
    assert_eq!(a.send(&new, &dim("conn-2")).await.json()["identity_result"], "WAITING_VERIFY");
    a.send(&old, &dim("conn-2")).await.assert_error(400, "invalid-signature", &alipay);
    // And back: A holds the new key now; the old key put back on B works on A.
    b.replace(APP, &app_key(), None).await;
    a.send(&new, &dim("conn-2")).await.assert_error(400, "invalid-signature", &alipay);
    assert_eq!(a.send(&old, &dim("conn-2")).await.json()["identity_result"], "WAITING_VERIFY");
    a.sandbox.shutdown().await;
    b.sandbox.shutdown().await;
}

jobworth_testkit::store_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)] sixty_four_concurrent_queries_exactly_one_wins,
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)] two_instances_on_one_store_share_keys_and_tokens,
    #[tokio::test] state_survives_a_restart,
    #[tokio::test] copies_kept_in_memory_follow_another_instances_writes,
}
