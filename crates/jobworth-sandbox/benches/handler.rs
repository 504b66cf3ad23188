//! The sandbox's request path without the network: `app(state)` driven with
//! `tower::ServiceExt::oneshot`, against the crypto the gateway must do per query.
//!
//! * `query_pending`: a signed `GET /v3/zhima/customer/jobworth/authentication` for a `pending`
//!   token (WAITING_VERIFY, repeatable) — header parse, app lookup, signature check, nonce insert,
//!   token lookup, JSON answer, response signature — real SQLite in a temp dir. Each request is
//!   signed (fresh nonce) outside the timed part.
//! * `bare_verify_and_sign`: the request verification and response signature alone, with keys of
//!   the same size: what `query_pending` cannot avoid.
//! * `health`: routing and middleware with no work (`GET /sandbox/health`).
//!
//! ```text
//! cargo bench -p jobworth-sandbox --bench handler
//! ```

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use alipay_v3::keys::PrivateKey;
use alipay_v3::query::{request_uri, QueryEncoding};
use alipay_v3::{sign, verify};
use axum::body::{Body, Bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::Router;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::Request;
use serde_json::{json, Value};
use tower::ServiceExt;

const APP_ID: &str = "2021000000000042";
const SERVICE_ID: &str = "2019120400000000000004450100";

async fn call(router: &Router, req: Request<Body>) -> (u16, Bytes) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    (status, axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap())
}

async fn post(router: &Router, path: &str, body: Value) -> Value {
    let req =
        Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    let (status, bytes) = call(router, req).await;
    assert!((200..300).contains(&status), "{path}: {status} {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

fn handler(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = jobworth_sandbox::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.path().join("state"),
        timestamp_window: Duration::from_secs(900),
        ..jobworth_sandbox::Config::default()
    };
    let state = rt.block_on(jobworth_sandbox::AppState::open(cfg)).unwrap();
    let router = jobworth_sandbox::app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));

    let app_key = PrivateKey::generate().unwrap();
    let (auth, uri) = rt.block_on(async {
        post(&router, "/sandbox/apps", json!({"app_id": APP_ID, "public_key": app_key.public_key().to_spki_pem()})).await;
        let auth = post(
            &router,
            "/sandbox/authentications",
            json!({"app_id": APP_ID, "conn_key": "bench-conn", "service_id": SERVICE_ID, "identity_type": "04", "persona": "pending"}),
        )
        .await;
        let uri = request_uri(
            jobworth_sandbox::AUTHENTICATION_PATH,
            [
                ("conn_key", auth["conn_key"].as_str().unwrap()),
                ("once_token", auth["once_token"].as_str().unwrap()),
                ("query_type", "exact"),
                ("identity_type", "04"),
                ("service_id", SERVICE_ID),
                ("user_id", auth["user_id"].as_str().unwrap()),
            ],
            QueryEncoding::Rfc3986,
        );
        (auth, uri)
    });
    let signed = || {
        let a = sign::auth_string(APP_ID, None, &alipay_v3::new_nonce(), alipay_v3::now_millis());
        let header = sign::sign_request(&app_key, &a, &sign::RequestTarget::new("GET", &uri));
        Request::get(uri.as_str()).header("authorization", header).body(Body::empty()).unwrap()
    };
    let (status, body) = rt.block_on(call(&router, signed()));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["identity_result"], "WAITING_VERIFY", "{auth}");

    let mut g = c.benchmark_group("sandbox_handler");
    g.bench_function("query_pending", |b| {
        b.to_async(&rt).iter_batched(
            signed,
            |req| async {
                let (status, body) = call(&router, req).await;
                assert_eq!(status, 200);
                body
            },
            BatchSize::SmallInput,
        )
    });

    let server_key = PrivateKey::generate().unwrap();
    let app_public = app_key.public_key();
    let header = sign::sign_request(
        &app_key,
        &sign::auth_string(APP_ID, None, &alipay_v3::new_nonce(), alipay_v3::now_millis()),
        &sign::RequestTarget::new("GET", &uri),
    );
    g.bench_function("bare_verify_and_sign", |b| {
        b.iter(|| {
            let parsed = verify::AuthorizationHeader::parse(black_box(&header)).unwrap();
            verify::verify_request(&app_public, &parsed, &sign::RequestTarget::new("GET", &uri)).unwrap();
            sign::ResponseSignature::new(&server_key, black_box(&body))
        })
    });

    g.bench_function("health", |b| {
        b.to_async(&rt).iter(|| async {
            let (status, body) = call(&router, Request::get("/sandbox/health").body(Body::empty()).unwrap()).await;
            assert_eq!(status, 200);
            body
        })
    });
    g.finish();
    rt.block_on(state.close());
}

criterion_group!(benches, handler);
criterion_main!(benches);
