//! Property tests: round trips, single-byte tamper detection, and parsers that never panic.

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::{cert, order, pem, query, sign, verify};
use proptest::prelude::*;
use std::sync::OnceLock;

fn key() -> &'static PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| {
        PrivateKey::parse(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/app-private-key-pkcs1.pem"))
                .unwrap(),
        )
        .unwrap()
    })
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH")].prop_map(String::from)
}

fn flip(s: &str, idx: usize) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut b = s.as_bytes().to_vec();
    let i = idx % b.len();
    // stay ASCII-safe: change printable ASCII to another printable ASCII, else skip
    if !(0x21..0x7e).contains(&b[i]) {
        return None;
    }
    b[i] = if b[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn sign_verify_round_trip(
        m in method(),
        path in "/v3/[a-z/]{0,20}",
        q in proptest::collection::vec(("[a-z_]{1,8}", "\\PC{0,12}"), 0..5),
        body in "\\PC{0,64}",
        token in proptest::option::of("[A-Za-z0-9]{0,20}"),
        nonce in "[a-f0-9-]{1,36}",
        ts in 0u64..4_000_000_000_000,
        which in any::<usize>(),
        field in 0usize..6,
    ) {
        let uri = query::request_uri(&path, q.iter().map(|(a, b)| (a.as_str(), b.as_str())), query::QueryEncoding::Rfc3986);
        let auth = sign::auth_string("2021000122671080", None, &nonce, ts);
        let target = sign::RequestTarget { method: &m, uri: &uri, body: &body, app_auth_token: token.as_deref() };
        let header = sign::sign_request(key(), &auth, &target);
        let parsed = verify::AuthorizationHeader::parse(&header).unwrap();
        prop_assert_eq!(parsed.timestamp_ms, ts);
        let public = key().public_key();
        prop_assert!(verify::verify_request(&public, &parsed, &target).is_ok());
        // the query decodes back to what was encoded
        if let Some((_, raw)) = uri.split_once('?') {
            let back = query::parse_query(raw).unwrap();
            prop_assert_eq!(back, q.clone());
        }
        // any single-byte change of method, target, body, token, timestamp or nonce fails
        let fails = |m: &str, uri: &str, body: &str, token: Option<&str>, p: &verify::AuthorizationHeader| {
            verify::verify_request(&public, p, &sign::RequestTarget { method: m, uri, body, app_auth_token: token }).is_err()
        };
        match field {
            0 => { let m2 = if m == "GET" { "POST" } else { "GET" }; prop_assert!(fails(m2, &uri, &body, token.as_deref(), &parsed)); }
            1 => if let Some(u) = flip(&uri, which) { prop_assert!(fails(&m, &u, &body, token.as_deref(), &parsed)); },
            2 => { let b2 = format!("{body} "); prop_assert!(fails(&m, &uri, &b2, token.as_deref(), &parsed));
                   if let Some(b) = flip(&body, which) { prop_assert!(fails(&m, &uri, &b, token.as_deref(), &parsed)); } },
            3 => { let t2 = format!("{}x", token.clone().unwrap_or_default()); prop_assert!(fails(&m, &uri, &body, Some(&t2), &parsed)); },
            4 => { let mut p = parsed.clone(); p.auth_string = sign::auth_string("2021000122671080", None, &nonce, ts + 1); prop_assert!(fails(&m, &uri, &body, token.as_deref(), &p)); },
            _ => { let mut p = parsed.clone(); p.auth_string = sign::auth_string("2021000122671080", None, &format!("{nonce}0"), ts); prop_assert!(fails(&m, &uri, &body, token.as_deref(), &p)); },
        }
    }

    #[test]
    fn response_tamper(body in proptest::collection::vec(any::<u8>(), 0..200), idx in any::<usize>(), bit in 0u8..8) {
        let sig = sign::sign_response(key(), "1717762879833", "n", &body);
        let public = key().public_key();
        prop_assert!(verify::verify_response(&public, "1717762879833", "n", &body, &sig).is_ok());
        if !body.is_empty() {
            let mut b = body.clone();
            let i = idx % b.len();
            b[i] ^= 1 << bit;
            prop_assert!(verify::verify_response(&public, "1717762879833", "n", &b, &sig).is_err());
        }
        prop_assert!(verify::verify_response(&public, "1717762879834", "n", &body, &sig).is_err());
    }

    #[test]
    fn aes_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300), k in proptest::collection::vec(any::<u8>(), 16)) {
        let key = AesKey::from_bytes(&k).unwrap();
        let ct = key.encrypt(&data);
        prop_assert_eq!(key.decrypt(&ct).unwrap(), data);
    }

    #[test]
    fn order_string_round_trip(v in proptest::collection::vec(("[a-z_]{1,10}", "\\PC{1,20}"), 1..6)) {
        let mut params: Vec<(String, String)> = vec![("sign_type".into(), "RSA2".into())];
        for (k, val) in v { if !params.iter().any(|(x, _)| *x == k) && k != "sign" { params.push((k, val)); } }
        let os = order::sign_order_string(key(), &params);
        let parsed = order::verify_order_string(&os, &key().public_key()).unwrap();
        prop_assert_eq!(&parsed.0[..params.len()], &params[..]);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = PrivateKey::parse(&s);
        let _ = PrivateKey::from_der(&bytes);
        let _ = PublicKey::parse(&s);
        let _ = PublicKey::from_der(&bytes);
        let _ = cert::parse_bundle(&s);
        let _ = cert::parse_bundle_bytes(&bytes);
        let _ = cert::root_cert_sn(&s);
        let _ = pem::decode_blocks(&s);
        let _ = verify::AuthorizationHeader::parse(&s);
        let _ = verify::AuthorizationHeader::parse(&format!("ALIPAY-SHA256withRSA {s}"));
        let _ = query::parse_query(&s);
        let _ = order::parse_order_string(&s);
        let _ = order::verify_order_string(&s, &key().public_key());
        let _ = AesKey::from_base64(&s);
        let _ = AesKey::from_bytes(&[7u8; 16]).unwrap().decrypt(&s);
        let _ = key().public_key().verify(s.as_bytes(), &s);
    }

    #[test]
    fn truncated_der_never_panics(cut in 0usize..2000) {
        let pem_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/alipayRootCert.crt")).unwrap();
        for b in pem::decode_blocks(&pem_text).unwrap() {
            let n = cut % (b.der.len() + 1);
            let _ = cert::CertInfo::from_der(&b.der[..n]);
            let mut m = b.der.clone();
            if !m.is_empty() { let i = cut % m.len(); m[i] ^= 0xff; let _ = cert::CertInfo::from_der(&m); }
        }
        let der = key().to_pkcs8_der();
        let n = cut % (der.len() + 1);
        prop_assert!(n == der.len() || PrivateKey::from_der(&der[..n]).is_err());
    }
}
