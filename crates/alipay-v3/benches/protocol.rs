//! The protocol core against the bare aws-lc-rs operations it wraps (the core may add at most 5% to each).
//!
//! Each `sdk` case has a `bare` twin in the same group that does only the RSA operation on the
//! same bytes with the same already-parsed key, so the difference is exactly what the core adds:
//! building the string-to-sign, base64, assembling the header, parsing the header.
//!
//! ```text
//! cargo bench -p alipay-v3 --bench protocol
//! ```

use std::hint::black_box;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{self, QueryEncoding};
use alipay_v3::{sign, verify};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const PRIVATE_KEY: &str = include_str!("../tests/fixtures/app-private-key-pkcs1.pem");
const APP_ID: &str = "2021001161683774";
const PATH: &str = "/v3/zhima/customer/jobworth/authentication";
const NONCE: &str = "2b7ba2b6-2d13-4b1b-9f57-3a1c2e6a8d11";
const TS: u64 = 1_717_756_911_576;
/// A success body of the size the sandbox answers with.
const BODY: &str = r#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING","identity_result_skip_url":"alipays://platformapi/startapp?appId=2021004147683170&page=pages%2Fjobworth%2Fresult","user_id":"2088000000000003","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"2088000000000003-mi-9f2c"}"#;

fn query_pairs() -> [(&'static str, &'static str); 6] {
    [
        ("conn_key", "bench-conn-0001"),
        ("once_token", "3f8b6c1e-6a0f-4d5b-9b33-3e9b9d7f0c21"),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", "2024000000000001"),
        ("user_id", "2088000000000003"),
    ]
}

fn bare_pair() -> KeyPair {
    let key = PrivateKey::parse(PRIVATE_KEY).unwrap();
    KeyPair::from_pkcs8(&key.to_pkcs8_der()).unwrap()
}

fn bare_sign(pair: &KeyPair, rng: &SystemRandom, msg: &[u8]) -> Vec<u8> {
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, rng, msg, &mut sig).unwrap();
    sig
}

fn request_signing(c: &mut Criterion) {
    let key = PrivateKey::parse(PRIVATE_KEY).unwrap();
    let pair = bare_pair();
    let rng = SystemRandom::new();
    let uri = query::request_uri(PATH, query_pairs(), QueryEncoding::Rfc3986);
    let auth = sign::auth_string(APP_ID, None, NONCE, TS);
    let to_sign = sign::request_string_to_sign(&auth, &sign::RequestTarget::new("GET", &uri));

    let mut g = c.benchmark_group("sign_request");
    g.bench_function("bare_aws_lc", |b| b.iter(|| bare_sign(&pair, &rng, black_box(to_sign.as_bytes()))));
    g.bench_function("sdk", |b| {
        b.iter(|| sign::sign_request(&key, black_box(&auth), &sign::RequestTarget::new("GET", black_box(&uri))))
    });
    // What a client does per request besides the RSA operation: nonce, timestamp, URI, auth string.
    g.bench_function("sdk_full_prepare", |b| {
        b.iter(|| {
            let nonce = alipay_v3::new_nonce();
            let auth = sign::auth_string(APP_ID, None, &nonce, alipay_v3::now_millis());
            let uri = query::request_uri(PATH, query_pairs(), QueryEncoding::Rfc3986);
            sign::sign_request(&key, &auth, &sign::RequestTarget::new("GET", &uri))
        })
    });
    g.finish();
}

fn response_verification(c: &mut Criterion) {
    let key = PrivateKey::parse(PRIVATE_KEY).unwrap();
    let public = key.public_key();
    let bare = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.spki_der()).unwrap();
    let ts = TS.to_string();
    let sig_b64 = sign::sign_response(&key, &ts, NONCE, BODY.as_bytes());
    let sig_raw = STANDARD.decode(&sig_b64).unwrap();
    let signed = sign::response_string_to_sign(&ts, NONCE, BODY.as_bytes());

    let mut g = c.benchmark_group("verify_response");
    g.bench_function("bare_aws_lc", |b| b.iter(|| bare.verify_sig(black_box(&signed), black_box(&sig_raw)).unwrap()));
    g.bench_function("sdk", |b| {
        b.iter(|| {
            verify::verify_response(&public, &ts, NONCE, black_box(BODY.as_bytes()), black_box(&sig_b64)).unwrap()
        })
    });
    g.finish();
}

fn server_side(c: &mut Criterion) {
    let key = PrivateKey::parse(PRIVATE_KEY).unwrap();
    let public = key.public_key();
    let pair = bare_pair();
    let rng = SystemRandom::new();
    let bare = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.spki_der()).unwrap();
    let uri = query::request_uri(PATH, query_pairs(), QueryEncoding::Rfc3986);
    let auth = sign::auth_string(APP_ID, None, NONCE, TS);
    let header = sign::sign_request(&key, &auth, &sign::RequestTarget::new("GET", &uri));
    let to_sign = sign::request_string_to_sign(&auth, &sign::RequestTarget::new("GET", &uri));
    let parsed = verify::AuthorizationHeader::parse(&header).unwrap();
    let sig_raw = STANDARD.decode(&parsed.signature).unwrap();

    let mut g = c.benchmark_group("verify_request");
    g.bench_function("bare_aws_lc", |b| b.iter(|| bare.verify_sig(black_box(to_sign.as_bytes()), &sig_raw).unwrap()));
    // Header parsing included: that is what a server does per request.
    g.bench_function("sdk_parse_and_verify", |b| {
        b.iter(|| {
            let auth = verify::AuthorizationHeader::parse(black_box(&header)).unwrap();
            verify::verify_request(&public, &auth, &sign::RequestTarget::new("GET", black_box(&uri))).unwrap()
        })
    });
    g.finish();

    let ts = TS.to_string();
    let signed = sign::response_string_to_sign(&ts, NONCE, BODY.as_bytes());
    let mut g = c.benchmark_group("sign_response");
    g.bench_function("bare_aws_lc", |b| b.iter(|| bare_sign(&pair, &rng, black_box(&signed))));
    g.bench_function("sdk", |b| b.iter(|| sign::sign_response(&key, &ts, NONCE, black_box(BODY.as_bytes()))));
    g.bench_function("sdk_fresh_nonce", |b| b.iter(|| sign::ResponseSignature::new(&key, black_box(BODY.as_bytes()))));
    g.finish();

    let mut g = c.benchmark_group("authorization_header");
    g.bench_function("parse", |b| b.iter(|| verify::AuthorizationHeader::parse(black_box(&header)).unwrap()));
    g.finish();
}

fn aes(c: &mut Criterion) {
    let key = AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap();
    let ct = key.encrypt(BODY.as_bytes());
    let mut g = c.benchmark_group("aes_128_cbc");
    g.throughput(Throughput::Bytes(BODY.len() as u64));
    g.bench_function("encrypt", |b| b.iter(|| key.encrypt(black_box(BODY.as_bytes()))));
    g.bench_function("decrypt", |b| b.iter(|| key.decrypt(black_box(&ct)).unwrap()));
    g.finish();
}

fn query_strings(c: &mut Criterion) {
    let uri = query::request_uri(PATH, query_pairs(), QueryEncoding::Rfc3986);
    let raw_query = uri.split_once('?').unwrap().1.to_string();
    let mut g = c.benchmark_group("query");
    g.bench_function("request_uri_rfc3986", |b| {
        b.iter(|| query::request_uri(PATH, black_box(query_pairs()), QueryEncoding::Rfc3986))
    });
    g.bench_function("request_uri_form", |b| {
        b.iter(|| query::request_uri(PATH, black_box(query_pairs()), QueryEncoding::Form))
    });
    g.bench_function("parse_query", |b| b.iter(|| query::parse_query(black_box(&raw_query)).unwrap()));
    g.finish();
}

fn key_parsing(c: &mut Criterion) {
    // Why keys must be parsed once and cached: this is paid again on every request otherwise.
    let key = PrivateKey::parse(PRIVATE_KEY).unwrap();
    let spki_pem = key.public_key().to_spki_pem();
    let mut g = c.benchmark_group("key_parse");
    g.bench_function("public_key_pem", |b| b.iter(|| PublicKey::parse(black_box(&spki_pem)).unwrap()));
    g.bench_function("private_key_pem", |b| {
        b.iter_batched(|| PRIVATE_KEY, |pem| PrivateKey::parse(black_box(pem)).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group!(benches, request_signing, response_verification, server_side, aes, query_strings, key_parsing);
criterion_main!(benches);
