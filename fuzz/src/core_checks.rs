//! Properties of the `alipay-v3` parsers that must hold for any input.
//!
//! Each function takes raw fuzz bytes. A panic anywhere (in the parser or in an assertion
//! here) is a finding. Besides "never panics", each check asserts a round trip, so a parser
//! that silently accepts and mangles input is caught too.
//!
//! This file depends only on `alipay_v3` and `std`: it is also compiled into the `alipay-v3`
//! regression test, which replays `fuzz/seeds/` and `fuzz/regressions/` on every `cargo test`.

use std::sync::OnceLock;

use alipay_v3::aes::AesKey;
use alipay_v3::cert;
use alipay_v3::headers::SCHEME;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::order::{parse_order_string, sign_order_string, verify_order_string};
use alipay_v3::query::{
    build_query, decode_component, encode_component, encode_uri_component, parse_query, QueryEncoding,
};
use alipay_v3::sign::RequestTarget;
use alipay_v3::verify::{verify_request, AuthorizationHeader};

/// The fixture app key pair (public test data from the official Node SDK's tests).
fn fixture_private() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::parse(include_str!("../../crates/alipay-v3/tests/fixtures/app-private-key-pkcs1.pem"))
            .expect("fixture private key parses")
    })
}

fn fixture_public() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| fixture_private().public_key())
}

/// `verify::AuthorizationHeader::parse`, then `verify_request` on what it returns.
pub fn auth_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(h) = AuthorizationHeader::parse(text) else { return };
    assert!(!h.app_id.is_empty(), "parsed header without app_id");
    assert!(!h.nonce.is_empty(), "parsed header without nonce");
    assert!(!h.signature.is_empty(), "parsed header without signature");
    assert!(text.contains(&h.auth_string), "authString must be taken verbatim");
    // Rebuilding the header from its two verbatim halves must parse to the same thing.
    let rebuilt = format!("{SCHEME} {},sign={}", h.auth_string, h.signature);
    assert_eq!(AuthorizationHeader::parse(&rebuilt).as_ref(), Ok(&h), "re-parse of {rebuilt:?}");
    // Verification of arbitrary input must fail cleanly (or succeed for a seed's own vector).
    let _ = verify_request(fixture_public(), &h, &RequestTarget::new("GET", "/v3/x?a=1").app_auth_token(Some("token")));
}

/// `PrivateKey::from_der` on the bytes and `PrivateKey::parse` on the text.
pub fn private_key(data: &[u8]) {
    if let Ok(k) = PrivateKey::from_der(data) {
        private_round_trip(&k);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(k) = PrivateKey::parse(text) {
            private_round_trip(&k);
        }
    }
    let _ = alipay_v3::keys::sniff_private(data);
    let _ = alipay_v3::keys::private_key_kind(data);
}

fn private_round_trip(k: &PrivateKey) {
    let pem = k.to_pkcs8_pem();
    let again = PrivateKey::parse(&pem).expect("own PKCS#8 PEM re-parses");
    assert_eq!(again.public_key(), k.public_key());
    let again = PrivateKey::parse(&k.to_pkcs8_base64()).expect("own bare base64 re-parses");
    assert_eq!(again.public_key(), k.public_key());
    let sig = k.sign(b"fuzz");
    k.public_key().verify(b"fuzz", &sig).expect("a parsed key verifies its own signature");
    let b64 = k.to_pkcs8_base64();
    assert!(!format!("{k:?}").contains(&b64[b64.len() / 2..]), "Debug leaks key material");
}

/// `PublicKey::parse` on the text, `from_der` and `from_spki_der` on the bytes.
pub fn public_key(data: &[u8]) {
    if let Ok(k) = PublicKey::from_der(data) {
        public_round_trip(&k);
    }
    if let Ok(k) = PublicKey::from_spki_der(data) {
        public_round_trip(&k);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(k) = PublicKey::parse(text) {
            public_round_trip(&k);
        }
    }
}

fn public_round_trip(k: &PublicKey) {
    assert_eq!(&PublicKey::parse(&k.to_spki_pem()).expect("own SPKI PEM re-parses"), k);
    assert_eq!(&PublicKey::parse(&k.to_spki_base64()).expect("own SPKI base64 re-parses"), k);
    // Equality is by SPKI bytes, so any accepted spelling must have been normalised.
    assert_eq!(&PublicKey::from_der(k.spki_der()).expect("own SPKI DER re-parses"), k);
    assert_eq!(&PublicKey::from_spki_der(k.spki_der()).expect("own SPKI re-parses"), k);
    assert_eq!(k.fingerprint().len(), 64);
    assert_eq!(k.verify(b"fuzz", "AAAA"), Err(alipay_v3::SignatureError::Mismatch));
}

/// `cert::parse_bundle_bytes` and `details_bundle_bytes` on the bytes; `parse_bundle`, `cert_sn`, `root_cert_sn` on the text.
pub fn cert(data: &[u8]) {
    let bundle = cert::parse_bundle_bytes(data);
    if let Ok(certs) = &bundle {
        assert!(!certs.is_empty(), "an Ok bundle holds a certificate");
        for c in certs {
            check_cert(c);
        }
    }
    // The details decode the same certificates with the same decoder.
    match (cert::details_bundle_bytes(data), &bundle) {
        (Ok(details), Ok(certs)) => {
            assert!(details.iter().map(|d| &d.info).eq(certs.iter()));
            for d in &details {
                let _ = d.is_signed_by(d);
            }
        }
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (details, _) => panic!("details and bundle disagree: {:?}", details.map(|d| d.len())),
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    match cert::parse_bundle(text) {
        Ok(certs) => {
            assert!(!certs.is_empty());
            certs.iter().for_each(check_cert);
            assert_eq!(cert::cert_sn(text).as_deref(), Ok(certs[0].sn().as_str()));
            let rsa: Vec<String> = certs.iter().filter(|c| c.is_rsa_signed()).map(|c| c.sn()).collect();
            match cert::root_cert_sn(text) {
                Ok(root) => assert_eq!(root, rsa.join("_")),
                Err(e) => {
                    assert!(rsa.is_empty());
                    assert_eq!(e, alipay_v3::CertError::NoRsaRoot);
                }
            }
        }
        Err(_) => {
            assert!(cert::cert_sn(text).is_err());
            assert!(cert::root_cert_sn(text).is_err());
        }
    }
}

fn check_cert(c: &cert::CertInfo) {
    let sn = c.sn();
    assert_eq!(sn.len(), 32);
    assert!(sn.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(!c.serial_decimal.is_empty() && c.serial_decimal.bytes().all(|b| b.is_ascii_digit()));
    assert!(c.md5_input().ends_with(&c.serial_decimal));
    let _ = c.public_key();
}

/// `AesKey::decrypt` with a key taken from the input's head; round trips for what decrypts.
pub fn aes_decrypt(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    let len = [16usize, 24, 32][(sel % 3) as usize];
    let mut key_bytes = [0u8; 32];
    let n = rest.len().min(len);
    key_bytes[..n].copy_from_slice(&rest[..n]);
    let key = AesKey::from_bytes(&key_bytes[..len]).expect("16/24/32-byte key");
    let rest = &rest[n..];
    // Encrypting anything decrypts back to it.
    assert_eq!(key.decrypt(&key.encrypt(rest)).as_deref(), Ok(rest));
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if let Ok(plain) = key.decrypt(text) {
        // base64 decoding is canonical and CBC with a fixed IV deterministic: the ciphertext
        // is exactly what encrypting the plaintext gives.
        assert_eq!(key.encrypt(&plain), text.trim());
    }
    let _ = key.decrypt_to_string(text);
    let _ = AesKey::from_base64(text);
}

/// `order::parse_order_string` and `verify_order_string`; signer/verifier agreement.
pub fn order_string(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = verify_order_string(text, fixture_public());
    let Ok(params) = parse_order_string(text) else { return };
    // Re-encoding the decoded parameters and parsing again gives them back.
    let reencoded: Vec<String> =
        params.0.iter().map(|(k, v)| format!("{}={}", encode_uri_component(k), encode_uri_component(v))).collect();
    assert_eq!(parse_order_string(&reencoded.join("&")).as_ref(), Ok(&params));
    for (k, v) in &params.0 {
        assert_eq!(params.get(k), Some(v.as_str()));
    }
    // Signing is slow: only for inputs that look like real order strings (the seeds do).
    if params.get("sign_type") == Some("RSA2")
        && params.0.len() <= 16
        && params.0.iter().all(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        let signed = sign_order_string(fixture_private(), &params.0);
        let verified = verify_order_string(&signed, fixture_public()).expect("own order string verifies");
        let kept: Vec<&(String, String)> = params.0.iter().filter(|(k, v)| k != "sign" && !v.is_empty()).collect();
        assert_eq!(verified.0.len(), kept.len() + 1, "all non-empty params plus sign");
    }
}

/// `query::parse_query` and the component codecs.
pub fn query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for enc in [QueryEncoding::Rfc3986, QueryEncoding::Form] {
        assert_eq!(decode_component(&encode_component(text, enc)).as_deref(), Ok(text));
    }
    assert_eq!(decode_component(&encode_uri_component(text)).as_deref(), Ok(text));
    let Ok(pairs) = parse_query(text) else { return };
    for enc in [QueryEncoding::Rfc3986, QueryEncoding::Form] {
        let built = build_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), enc);
        assert_eq!(parse_query(&built).as_ref(), Ok(&pairs), "round trip of {built:?}");
    }
}
