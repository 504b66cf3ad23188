//! The official vectors of `tests/fixtures/vectors.json`, for every form of the fixture key.

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::{cert, order, query, sign, verify};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// The fixture private key in every accepted form: PKCS#1 PEM (one line), PKCS#1 wrapped at 64,
/// PKCS#1 bare, PKCS#8 bare, PKCS#8 PEM wrapped at 64 and at 76, CRLF line endings.
fn key_forms() -> Vec<(&'static str, String)> {
    let pkcs1_pem = fixture("app-private-key-pkcs1.pem");
    let pkcs8_bare = fixture("app-private-key-pkcs8-bare.txt");
    let pkcs1_b64: String = pkcs1_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let wrap = |label: &str, b64: &str, w: usize, nl: &str| {
        let b64: String = b64.split_whitespace().collect();
        let mut out = format!("-----BEGIN {label}-----{nl}");
        for c in b64.as_bytes().chunks(w) {
            out.push_str(std::str::from_utf8(c).unwrap());
            out.push_str(nl);
        }
        out.push_str(&format!("-----END {label}-----{nl}"));
        out
    };
    vec![
        ("pkcs1 pem", pkcs1_pem.clone()),
        ("pkcs1 pem 64", wrap("RSA PRIVATE KEY", &pkcs1_b64, 64, "\n")),
        ("pkcs1 bare", pkcs1_b64.clone()),
        (
            "pkcs1 bare wrapped",
            pkcs1_b64.as_bytes().chunks(60).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n"),
        ),
        ("pkcs8 bare", pkcs8_bare.clone()),
        ("pkcs8 pem 64", wrap("PRIVATE KEY", &pkcs8_bare, 64, "\n")),
        ("pkcs8 pem 76 crlf", wrap("PRIVATE KEY", &pkcs8_bare, 76, "\r\n")),
        // armor that lies about the format: the DER decides
        ("pkcs8 in pkcs1 armor", wrap("RSA PRIVATE KEY", &pkcs8_bare, 64, "\n")),
    ]
}

#[test]
fn all_key_forms_are_the_same_key() {
    let public = PublicKey::parse(&fixture("app-public-key.pem")).unwrap();
    for (name, text) in key_forms() {
        let k = PrivateKey::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(k.public_key(), public, "{name}");
    }
}

#[test]
fn request_signing_vectors_v1_to_v7() {
    let v = vectors();
    let common = &v["request_signing"]["common"];
    let public = PublicKey::parse(&fixture("app-public-key.pem")).unwrap();
    let vecs = v["request_signing"]["vectors"].as_array().unwrap();
    assert_eq!(vecs.len(), 6);
    for (form, text) in key_forms() {
        let key = PrivateKey::parse(&text).unwrap();
        for t in vecs {
            let id = s(&t["id"]);
            let app_cert_sn = t["auth_string"]
                .as_str()
                .unwrap()
                .contains("app_cert_sn")
                .then_some("866efef280dec9137a87d047ac446315");
            let auth = sign::auth_string(
                s(&common["app_id"]),
                app_cert_sn,
                s(&common["nonce"]),
                s(&common["timestamp"]).parse().unwrap(),
            );
            assert_eq!(auth, s(&t["auth_string"]), "{id}");
            let token = t.get("app_auth_token").and_then(Value::as_str);
            let target = sign::RequestTarget {
                method: s(&t["method"]),
                uri: s(&t["request_uri"]),
                body: s(&t["body"]),
                app_auth_token: token,
            };
            let sts = sign::request_string_to_sign(&auth, &target);
            assert_eq!(sts, s(&t["string_to_sign"]), "{id}");
            let header = sign::sign_request(&key, &auth, &target);
            assert_eq!(header, s(&t["authorization"]), "{id} with {form}");
            // server half accepts it
            let parsed = verify::AuthorizationHeader::parse(&header).unwrap();
            assert_eq!(parsed.signature, s(&t["signature"]));
            verify::verify_request(&public, &parsed, &target).unwrap();
        }
    }
}

#[test]
fn v7_request_uri_from_node_encoding() {
    let v = vectors();
    let t = v["request_signing"]["vectors"].as_array().unwrap().iter().find(|t| t["id"] == "V7").unwrap();
    let pairs: Vec<(String, String)> = t["query_input_in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p[0]).to_string(), s(&p[1]).to_string()))
        .collect();
    let uri = query::request_uri(
        "/v3/alipay/x/query",
        pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        query::QueryEncoding::Form,
    );
    assert_eq!(uri, s(&t["request_uri"]));
    let n = &v["node_query_encoding"];
    let pairs: Vec<(String, String)> = n["query_input_in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p[0]).to_string(), s(&p[1]).to_string()))
        .collect();
    let uri = query::request_uri(
        s(&n["path"]),
        pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        query::QueryEncoding::Form,
    );
    assert_eq!(uri, s(&n["request_uri"]));
    // and the server-side decoder gets the original values back
    let decoded = query::parse_query(uri.split_once('?').unwrap().1).unwrap();
    assert_eq!(decoded, pairs);
}

#[test]
fn v5_aes_body_then_sign() {
    let v = vectors();
    let t = v["request_signing"]["vectors"].as_array().unwrap().iter().find(|t| t["id"] == "V5").unwrap();
    let key = AesKey::from_base64(s(&v["aes"]["key_base64"])).unwrap();
    assert_eq!(key.encrypt(s(&t["plaintext_body"]).as_bytes()), s(&t["body"]));
}

#[test]
fn response_vector_v6() {
    let v = vectors();
    let t = &v["response_signing"]["vectors"][0];
    let h = &t["headers"];
    let sts = sign::response_string_to_sign(s(&h["alipay-timestamp"]), s(&h["alipay-nonce"]), s(&t["body"]).as_bytes());
    assert_eq!(sts, s(&t["string_to_verify"]).as_bytes());
    for (form, text) in key_forms() {
        let key = PrivateKey::parse(&text).unwrap();
        let sig = sign::sign_response(&key, s(&h["alipay-timestamp"]), s(&h["alipay-nonce"]), s(&t["body"]).as_bytes());
        assert_eq!(sig, s(&h["alipay-signature"]), "{form}");
    }
    let public = PublicKey::parse(&fixture("app-public-key.pem")).unwrap();
    verify::verify_response(
        &public,
        s(&h["alipay-timestamp"]),
        s(&h["alipay-nonce"]),
        s(&t["body"]).as_bytes(),
        s(&h["alipay-signature"]),
    )
    .unwrap();
    // one changed body byte fails
    assert!(verify::verify_response(
        &public,
        s(&h["alipay-timestamp"]),
        s(&h["alipay-nonce"]),
        b"{\"ok\":false}",
        s(&h["alipay-signature"])
    )
    .is_err());
}

#[test]
fn negative_response_vector_fails_against_every_key() {
    let v = vectors();
    let t = &v["response_verify_negative"];
    let h = &t["headers"];
    for f in [
        "alipay-stable-rsa2-public-key-bare.txt",
        "app-public-key.pem",
        "alipayCertPublicKey_RSA2.crt",
        "appCertPublicKey_2021001161683774.crt",
    ] {
        let key = PublicKey::parse(&fixture(f)).unwrap();
        let r = verify::verify_response(
            &key,
            s(&h["alipay-timestamp"]),
            s(&h["alipay-nonce"]),
            s(&t["body"]).as_bytes(),
            s(&h["alipay-signature"]),
        );
        assert_eq!(r, Err(alipay_v3::SignatureError::Mismatch), "{f}");
    }
}

#[test]
fn aes_table() {
    let v = vectors();
    let key = AesKey::from_base64(s(&v["aes"]["key_base64"])).unwrap();
    for row in v["aes"]["vectors"].as_array().unwrap() {
        assert_eq!(key.encrypt(s(&row["plaintext"]).as_bytes()), s(&row["ciphertext_base64"]));
        assert_eq!(key.decrypt_to_string(s(&row["ciphertext_base64"])).unwrap(), s(&row["plaintext"]));
    }
}

#[test]
fn certificate_sns() {
    let v = vectors();
    for row in v["cert_sn"]["vectors"].as_array().unwrap() {
        let info = &cert::parse_bundle(&fixture(s(&row["file"]))).unwrap()[0];
        assert_eq!(info.issuer_dn, s(&row["issuer_dn_rfc2253"]));
        assert_eq!(info.serial_decimal, s(&row["serial_decimal"]));
        assert_eq!(info.md5_input(), s(&row["md5_input"]));
        assert_eq!(cert::cert_sn(&fixture(s(&row["file"]))).unwrap(), s(&row["expected_sn"]));
    }
    let root = &v["root_cert_sn"];
    let bundle = cert::parse_bundle(&fixture(s(&root["file"]))).unwrap();
    let rows = root["certificates"].as_array().unwrap();
    assert_eq!(bundle.len(), rows.len());
    for (c, row) in bundle.iter().zip(rows) {
        assert_eq!(c.signature_algorithm_oid, s(&row["signature_algorithm_oid"]));
        assert_eq!(c.issuer_dn, s(&row["issuer_dn_rfc2253"]));
        assert_eq!(c.serial_decimal, s(&row["serial_decimal"]));
        assert_eq!(c.sn(), s(&row["sn"]));
        assert_eq!(c.is_rsa_signed(), row["included"].as_bool().unwrap());
    }
    assert_eq!(cert::root_cert_sn(&fixture(s(&root["file"]))).unwrap(), s(&root["expected"]));
    // the Alipay certificate's public key
    let k = PublicKey::parse(&fixture(s(&v["cert_public_key"]["file"]))).unwrap();
    assert_eq!(k.to_spki_base64(), s(&v["cert_public_key"]["spki_der_base64"]));
    // DER input works too
    let der = alipay_v3::pem::decode_blocks(&fixture("alipayCertPublicKey_RSA2.crt")).unwrap().remove(0).der;
    assert_eq!(cert::parse_bundle_bytes(&der).unwrap()[0].sn(), "7513daaaa48aa3ba2e4018d84402479c");
}

#[test]
fn order_string_vector() {
    let v = vectors();
    let t = &v["v2_order_string"]["vectors"][0];
    let params: Vec<(String, String)> = t["params_in_emitted_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p[0]).to_string(), s(&p[1]).to_string()))
        .collect();
    assert_eq!(order::sign_content(&params), s(&t["string_to_sign"]));
    let public = PublicKey::parse(&fixture("app-public-key.pem")).unwrap();
    for (form, text) in key_forms() {
        let key = PrivateKey::parse(&text).unwrap();
        let os = order::sign_order_string(&key, &params);
        assert_eq!(os, s(&t["order_string"]), "{form}");
    }
    let parsed = order::verify_order_string(s(&t["order_string"]), &public).unwrap();
    assert_eq!(parsed.get("sign"), Some(s(&t["signature"])));
    assert_eq!(parsed.get("biz_content"), Some(params[6].1.as_str()));
    // form encoding (php http_build_query style) verifies too
    let form = alipay_v3::query::build_query(
        parsed.0.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        query::QueryEncoding::Form,
    );
    order::verify_order_string(&form, &public).unwrap();
    // a changed parameter fails
    let tampered = s(&t["order_string"]).replace("conn-7f3c1e2a", "conn-7f3c1e2b");
    assert!(matches!(order::verify_order_string(&tampered, &public), Err(alipay_v3::OrderStringError::Signature(_))));
}
