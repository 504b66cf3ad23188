//! What the protocol core adds to each RSA operation, measured two ways that survive a noisy,
//! shared machine (the budget is under 5%):
//!
//! * wall time, **interleaved**: every round times a batch of the core's call and a batch of the
//!   bare aws-lc-rs operation on the same bytes with the same parsed key, back to back, so drift in
//!   machine load hits both; the report is the median of the per-round ratios;
//! * instructions: each variant is a named `#[inline(never)]` function (`sdk_*` / `bare_*`), so
//!   `valgrind --tool=callgrind` gives exact, repeatable per-call counts (`bench/overhead-instructions.sh`).
//!
//! ```text
//! cargo bench -p alipay-v3 --bench overhead            # wall time, ~20 s
//! cargo bench -p alipay-v3 --bench overhead -- --quick # a short run (what the callgrind script uses)
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{self, QueryEncoding};
use alipay_v3::{sign, verify};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const PRIVATE_KEY: &str = include_str!("../tests/fixtures/app-private-key-pkcs1.pem");
const APP_ID: &str = "2021001161683774";
const NONCE: &str = "2b7ba2b6-2d13-4b1b-9f57-3a1c2e6a8d11";
const TS: &str = "1717756911576";
const BODY: &[u8] = br#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING","user_id":"2088000000000003","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"1b2c3d4e5f60718293a4b5c6d7e8f901"}"#;

struct Fixture {
    key: PrivateKey,
    public: PublicKey,
    pair: KeyPair,
    bare_public: ParsedPublicKey,
    rng: SystemRandom,
    auth: String,
    uri: String,
    request_to_sign: String,
    header: String,
    request_sig_raw: Vec<u8>,
    response_to_sign: Vec<u8>,
    response_sig: String,
    response_sig_raw: Vec<u8>,
}

impl Fixture {
    fn new() -> Self {
        // Both sides load the same PKCS#8 DER the same way, so they hold identical aws-lc keys.
        let pkcs8 = PrivateKey::parse(PRIVATE_KEY).unwrap().to_pkcs8_der();
        let key = PrivateKey::from_der(&pkcs8).unwrap();
        let public = key.public_key();
        let pair = KeyPair::from_pkcs8(&pkcs8).unwrap();
        let bare_public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.spki_der()).unwrap();
        let uri = query::request_uri(
            "/v3/zhima/customer/jobworth/authentication",
            [
                ("conn_key", "bench-conn-0001"),
                ("once_token", "3f8b6c1e6a0f4d5b9b333e9b9d7f0c21"),
                ("query_type", "exact"),
                ("identity_type", "04"),
                ("service_id", "2019120400000000000004450100"),
                ("user_id", "2088000000000003"),
            ],
            QueryEncoding::Rfc3986,
        );
        let auth = sign::auth_string(APP_ID, None, NONCE, TS.parse().unwrap());
        let request_to_sign = sign::request_string_to_sign(&auth, &sign::RequestTarget::new("GET", &uri));
        let header = sign::sign_request(&key, &auth, &sign::RequestTarget::new("GET", &uri));
        let request_sig_raw = STANDARD.decode(verify::AuthorizationHeader::parse(&header).unwrap().signature).unwrap();
        let response_to_sign = sign::response_string_to_sign(TS, NONCE, BODY);
        let response_sig = sign::sign_response(&key, TS, NONCE, BODY);
        let response_sig_raw = STANDARD.decode(&response_sig).unwrap();
        Fixture {
            key,
            public,
            pair,
            bare_public,
            rng: SystemRandom::new(),
            auth,
            uri,
            request_to_sign,
            header,
            request_sig_raw,
            response_to_sign,
            response_sig,
            response_sig_raw,
        }
    }
}

// --- the core's calls -------------------------------------------------------------------------

/// Client: string-to-sign, RSA, base64, the `authorization` header.
#[inline(never)]
fn sdk_sign_request(f: &Fixture) -> String {
    sign::sign_request(&f.key, black_box(&f.auth), &sign::RequestTarget::new("GET", black_box(&f.uri)))
}

/// Client: string-to-sign over the body, base64-decode, RSA verify.
#[inline(never)]
fn sdk_verify_response(f: &Fixture) -> bool {
    verify::verify_response(&f.public, TS, NONCE, black_box(BODY), black_box(&f.response_sig)).is_ok()
}

/// Server: parse the `authorization` header, string-to-sign, base64-decode, RSA verify.
#[inline(never)]
fn sdk_verify_request(f: &Fixture) -> bool {
    let auth = verify::AuthorizationHeader::parse(black_box(&f.header)).unwrap();
    verify::verify_request(&f.public, &auth, &sign::RequestTarget::new("GET", black_box(&f.uri))).is_ok()
}

/// Server: string-to-sign over the body, RSA, base64.
#[inline(never)]
fn sdk_sign_response(f: &Fixture) -> String {
    sign::sign_response(&f.key, TS, NONCE, black_box(BODY))
}

// --- the bare RSA operations on the same bytes ------------------------------------------------

#[inline(never)]
fn bare_sign(f: &Fixture, msg: &[u8]) -> Vec<u8> {
    let mut sig = vec![0u8; f.pair.public_modulus_len()];
    f.pair.sign(&RSA_PKCS1_SHA256, &f.rng, msg, &mut sig).unwrap();
    sig
}

#[inline(never)]
fn bare_sign_request(f: &Fixture) -> Vec<u8> {
    bare_sign(f, black_box(f.request_to_sign.as_bytes()))
}

#[inline(never)]
fn bare_verify_response(f: &Fixture) -> bool {
    f.bare_public.verify_sig(black_box(&f.response_to_sign), black_box(&f.response_sig_raw)).is_ok()
}

#[inline(never)]
fn bare_verify_request(f: &Fixture) -> bool {
    f.bare_public.verify_sig(black_box(f.request_to_sign.as_bytes()), black_box(&f.request_sig_raw)).is_ok()
}

#[inline(never)]
fn bare_sign_response(f: &Fixture) -> Vec<u8> {
    bare_sign(f, black_box(&f.response_to_sign))
}

type Case = (&'static str, fn(&Fixture), fn(&Fixture));

fn cases() -> [Case; 4] {
    [
        ("sign_request", |f| drop(black_box(sdk_sign_request(f))), |f| drop(black_box(bare_sign_request(f)))),
        ("verify_response", |f| assert!(sdk_verify_response(f)), |f| assert!(bare_verify_response(f))),
        (
            "verify_request (header parse included)",
            |f| assert!(sdk_verify_request(f)),
            |f| assert!(bare_verify_request(f)),
        ),
        ("sign_response", |f| drop(black_box(sdk_sign_response(f))), |f| drop(black_box(bare_sign_response(f)))),
    ]
}

fn time(f: &Fixture, op: fn(&Fixture), n: u32) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        op(f);
    }
    t.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `--quick` is for instruction counting under callgrind.
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, verify_batch, sign_batch) = if quick { (4, 50, 16) } else { (41, 400, 25) };
    let f = Fixture::new();
    // First use of a key makes aws-lc build and cache its Montgomery contexts: keep that out.
    for (_, sdk, bare) in cases() {
        sdk(&f);
        bare(&f);
    }
    println!("protocol core vs bare aws-lc-rs, same bytes, same parsed keys ({rounds} interleaved rounds)");
    println!("{:<42} {:>12} {:>12} {:>10}", "operation", "core µs", "bare µs", "overhead");
    for (name, sdk, bare) in cases() {
        let n = if name.starts_with("sign") { sign_batch } else { verify_batch };
        let (mut sdk_us, mut bare_us, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate which goes first so neither always runs on a warmer cache.
            let (s, b) = if round % 2 == 0 {
                let s = time(&f, sdk, n);
                (s, time(&f, bare, n))
            } else {
                let b = time(&f, bare, n);
                (time(&f, sdk, n), b)
            };
            sdk_us.push(s.as_secs_f64() * 1e6 / n as f64);
            bare_us.push(b.as_secs_f64() * 1e6 / n as f64);
            ratios.push(s.as_secs_f64() / b.as_secs_f64());
        }
        let overhead = (median(&mut ratios) - 1.0) * 100.0;
        println!("{name:<42} {:>12.2} {:>12.2} {:>9.2}%", median(&mut sdk_us), median(&mut bare_us), overhead);
    }
}
