//! Receipts built from the official response vectors: they verify offline, and one changed byte
//! of what the signature covers is refused.

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::receipt::{Receipt, ReceiptError, ReceiptTrust, RECEIPT_FORMAT};
use alipay_v3::{cert, sign, SignatureError};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// The V6 vector as a receipt.
fn v6() -> Receipt {
    let v: Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
    let t = &v["response_signing"]["vectors"][0];
    let h = &t["headers"];
    Receipt::new(
        "GET",
        "/v3/x?a=1",
        t["status"].as_u64().unwrap() as u16,
        s(&h["alipay-timestamp"]),
        s(&h["alipay-nonce"]),
        s(&h["alipay-signature"]),
        None,
        false,
        s(&t["body"]).as_bytes(),
    )
}

fn key() -> ReceiptTrust {
    ReceiptTrust::PublicKey(PublicKey::parse(&fixture("app-public-key.pem")).unwrap())
}

/// Flips the lowest bit of byte `i` of a string field, keeping it text.
fn flip(text: &str, i: usize) -> String {
    let mut b = text.as_bytes().to_vec();
    b[i] ^= 1;
    String::from_utf8(b).unwrap()
}

#[test]
fn the_v6_vector_verifies_as_a_receipt() {
    let r = v6();
    assert_eq!(r.format, RECEIPT_FORMAT);
    assert_eq!(r.verify(&key(), None).unwrap(), br#"{"ok":true}"#);
    // The JSON form round-trips with the documented field names.
    let json: Value = serde_json::to_value(&r).unwrap();
    let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "format",
        "method",
        "request_target",
        "status",
        "alipay_timestamp",
        "alipay_nonce",
        "alipay_signature",
        "encrypted",
        "body_base64",
        "received_at",
    ];
    want.sort_unstable();
    let mut names = names;
    names.sort_unstable();
    assert_eq!(names, want, "alipay_sn is left out when absent");
    assert_eq!(json["body_base64"], "eyJvayI6dHJ1ZX0=");
    let back: Receipt = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    // Debug shows neither the query nor the body.
    let shown = format!("{r:?}");
    assert!(!shown.contains("a=1") && !shown.contains("eyJv"), "{shown}");
}

#[test]
fn one_flipped_byte_of_what_is_signed_is_refused() {
    let good = v6();
    let body = good.body().unwrap();
    for i in 0..body.len() {
        let mut b = body.clone();
        b[i] ^= 1;
        let mut r = good.clone();
        r.body_base64 = base64_of(&b);
        assert_eq!(r.verify(&key(), None), Err(ReceiptError::Signature(SignatureError::Mismatch)), "body {i}");
    }
    for i in 0..good.alipay_timestamp.len() {
        let r = Receipt { alipay_timestamp: flip(&good.alipay_timestamp, i), ..good.clone() };
        assert_eq!(r.verify(&key(), None), Err(ReceiptError::Signature(SignatureError::Mismatch)), "timestamp {i}");
    }
    for i in 0..good.alipay_nonce.len() {
        let r = Receipt { alipay_nonce: flip(&good.alipay_nonce, i), ..good.clone() };
        assert_eq!(r.verify(&key(), None), Err(ReceiptError::Signature(SignatureError::Mismatch)), "nonce {i}");
    }
    // A changed signature byte either breaks the base64 or the signature.
    let sig = good.alipay_signature.clone();
    for i in [0, 10, sig.len() / 2, sig.len() - 3] {
        let r = Receipt { alipay_signature: flip(&sig, i), ..good.clone() };
        assert!(matches!(r.verify(&key(), None), Err(ReceiptError::Signature(_))), "signature {i}");
    }
    // Another key refuses it; an unknown format is refused before anything else.
    let other = ReceiptTrust::PublicKey(PublicKey::parse(&fixture("alipay-stable-rsa2-public-key-bare.txt")).unwrap());
    assert_eq!(good.verify(&other, None), Err(ReceiptError::Signature(SignatureError::Mismatch)));
    let r = Receipt { format: "jobworth-receipt/9".into(), ..good.clone() };
    assert!(matches!(r.verify(&key(), None), Err(ReceiptError::Format(_))));
    let r = Receipt { body_base64: "***".into(), ..good };
    assert_eq!(r.verify(&key(), None), Err(ReceiptError::Body));
}

#[test]
fn the_negative_vector_does_not_verify_as_a_receipt() {
    let v: Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
    let t = &v["response_verify_negative"];
    let h = &t["headers"];
    let r = Receipt::new(
        "GET",
        "/v3/x",
        200,
        s(&h["alipay-timestamp"]),
        s(&h["alipay-nonce"]),
        s(&h["alipay-signature"]),
        Some(s(&h["alipay-sn"])),
        false,
        s(&t["body"]).as_bytes(),
    );
    let stable = PublicKey::parse(&fixture("alipay-stable-rsa2-public-key-bare.txt")).unwrap();
    assert_eq!(
        r.verify(&ReceiptTrust::PublicKey(stable), None),
        Err(ReceiptError::Signature(SignatureError::Mismatch))
    );
}

#[test]
fn an_encrypted_body_is_verified_then_decrypted() {
    let v: Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
    let aes = AesKey::from_base64(s(&v["aes"]["key_base64"])).unwrap();
    let row = &v["aes"]["vectors"][0];
    let signer = PrivateKey::parse(&fixture("app-private-key-pkcs1.pem")).unwrap();
    let body = s(&row["ciphertext_base64"]).as_bytes();
    let (ts, nonce) = ("1717762879833", "3c0d6c77f4f773b427eb7e79625cdf4d");
    let sig = sign::sign_response(&signer, ts, nonce, body);
    let r = Receipt::new("GET", "/v3/x", 200, ts, nonce, &sig, None, true, body);
    assert_eq!(r.verify(&key(), Some(&aes)).unwrap(), s(&row["plaintext"]).as_bytes());
    assert_eq!(r.verify(&key(), None), Err(ReceiptError::KeyNeeded));
    let wrong = AesKey::from_bytes(&[7u8; 16]).unwrap();
    assert!(matches!(r.verify(&key(), Some(&wrong)), Err(ReceiptError::Decrypt(_))));
}

#[test]
fn certificate_mode_checks_the_sn_and_the_chain() {
    let alipay = fixture("alipayCertPublicKey_RSA2.crt");
    let roots = fixture("alipayRootCert.crt");
    let trust = ReceiptTrust::certificates(alipay.as_bytes(), roots.as_bytes()).unwrap();
    let sn = cert::cert_sn(&alipay).unwrap();
    // The fixture certificate is not signed by the fixture bundle (its intermediate is not in the file).
    let r = Receipt { alipay_sn: Some(sn.clone()), ..v6() };
    assert!(matches!(r.verify(&trust, None), Err(ReceiptError::Chain { .. })), "{:?}", r.verify(&trust, None));
    let r = Receipt { alipay_sn: Some(flip(&sn, 0)), ..v6() };
    assert!(matches!(r.verify(&trust, None), Err(ReceiptError::SnMismatch { .. })));
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
