//! The SDK's own work per call, against the RSA operations it cannot avoid.
//!
//! * `response_parse`: the verified body into [`jobworth::AuthenticationResult`];
//! * `order_string`: the step-1 order string against a bare signature of the same content;
//! * `query_roundtrip`: one full `authentication_query().send()` — build, sign, HTTP/1.1 keep-alive
//!   over loopback, verify, parse — against a canned responder that does no work of its own (a
//!   pre-signed answer), next to the bare sign + verify the call contains. The difference is the
//!   SDK plus reqwest/hyper plus the loopback round trip.
//!
//! ```text
//! cargo bench -p jobworth --bench client
//! ```

use std::hint::black_box;
use std::net::SocketAddr;

use alipay_v3::keys::PrivateKey;
use alipay_v3::sign;
use criterion::{criterion_group, criterion_main, Criterion};
use jobworth::{AuthenticationResult, IdentityResult, IdentityType, OrderString, QueryType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const APP_ID: &str = "2021001161683774";
const SERVICE_ID: &str = "2019120400000000000004450100";
const BODY: &str = r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING","identity_result_skip_url":"alipays://platformapi/startapp?appId=2021004147683170&page=pages%2Fjobworth%2Fresult","user_id":"2088000000000003","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"2088000000000003-mi-9f2c"}"#;

fn response_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("response_parse");
    g.bench_function("authentication_result", |b| {
        b.iter(|| serde_json::from_slice::<AuthenticationResult>(black_box(BODY.as_bytes())).unwrap())
    });
    g.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY.as_bytes())).unwrap())
    });
    g.finish();
}

fn order_string(c: &mut Criterion) {
    let key = PrivateKey::generate().unwrap();
    let builder = OrderString::builder()
        .app_id(APP_ID)
        .out_agreement_no("conn-7f3c1e2a")
        .service_id(SERVICE_ID)
        .once_token("tok-9b1d")
        .identity_type(IdentityType::Teacher)
        .timestamp_epoch_secs(1_717_756_911);
    let order = builder.sign(&key).unwrap();
    let content = alipay_v3::order::sign_content(&alipay_v3::order::parse_order_string(&order).unwrap().0);
    let mut g = c.benchmark_group("order_string");
    g.bench_function("bare_sign", |b| b.iter(|| key.sign(black_box(content.as_bytes()))));
    g.bench_function("sdk", |b| b.iter(|| black_box(&builder).sign(&key).unwrap()));
    g.finish();
}

/// Answers every HTTP/1.1 request on a keep-alive connection with the same pre-signed response.
async fn canned_responder(alipay_key: &PrivateKey) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ts, nonce) = ("1717756911576", "0b7a1d0c9e3f4a5b8c7d6e5f4a3b2c1d");
    let signature = sign::sign_response(alipay_key, ts, nonce, BODY.as_bytes());
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nalipay-trace-id: bench\r\n\
         alipay-timestamp: {ts}\r\nalipay-nonce: {nonce}\r\nalipay-signature: {signature}\r\n\r\n{BODY}",
        BODY.len()
    );
    let response: &'static [u8] = Box::leak(response.into_bytes().into_boxed_slice());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            sock.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut filled = 0;
                loop {
                    let n = match sock.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    filled += n;
                    // GET requests carry no body: every header block ends one request.
                    while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                        if sock.write_all(response).await.is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                    }
                    if filled == buf.len() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn query_roundtrip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let app_key = PrivateKey::generate().unwrap();
    let alipay_key = PrivateKey::generate().unwrap();
    let addr = rt.block_on(canned_responder(&alipay_key));
    let client = jobworth::Client::builder()
        .endpoint(format!("http://{addr}"))
        .app_id(APP_ID)
        .private_key(app_key.clone())
        .alipay_public_key(alipay_key.public_key())
        .build()
        .unwrap();
    let query = || {
        client
            .authentication_query()
            .conn_key("bench-conn-0001")
            .once_token("3f8b6c1e6a0f4d5b9b333e9b9d7f0c21")
            .query_type(QueryType::Exact)
            .identity_type(IdentityType::Teacher)
            .service_id(SERVICE_ID)
            .user_id("2088000000000003")
    };
    let first = rt.block_on(query().send()).unwrap();
    assert_eq!(first.identity_result, IdentityResult::WaitingVerify);

    // What the call cannot avoid: one request signature and one response verification.
    let alipay_public = alipay_key.public_key();
    let uri = alipay_v3::query::request_uri(
        jobworth::AUTHENTICATION_PATH,
        query().pairs(),
        alipay_v3::query::QueryEncoding::Rfc3986,
    );
    let (ts, nonce) = ("1717756911576", "0b7a1d0c9e3f4a5b8c7d6e5f4a3b2c1d");
    let signature = sign::sign_response(&alipay_key, ts, nonce, BODY.as_bytes());

    let mut g = c.benchmark_group("query_roundtrip");
    g.bench_function("bare_sign_and_verify", |b| {
        b.iter(|| {
            let auth = sign::auth_string(APP_ID, None, &alipay_v3::new_nonce(), alipay_v3::now_millis());
            let header = sign::sign_request(&app_key, &auth, &sign::RequestTarget::new("GET", black_box(&uri)));
            alipay_v3::verify::verify_response(&alipay_public, ts, nonce, BODY.as_bytes(), &signature).unwrap();
            header
        })
    });
    g.bench_function("sdk_loopback_canned_server", |b| {
        b.to_async(&rt).iter(|| async { query().send().await.unwrap() })
    });
    g.finish();
}

criterion_group!(benches, response_parse, order_string, query_roundtrip);
criterion_main!(benches);
