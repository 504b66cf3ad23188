//! Everything that needs no server: the step-1 order string (vector V-ORDER), configuration
//! errors, ID validation (vectors `cn_resident_id_18`), typed values.

use std::time::Duration;

use alipay_v3::keys::PrivateKey;
use jobworth::{
    validate, AuthenticationResult, CertType, Client, ConfigError, Error, IdentityResult, IdentityType, NotSentKind,
    OrderError, OrderString, QueryType,
};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

#[test]
fn order_string_reproduces_vector_v_order() {
    let v = vectors();
    let vo = v["v2_order_string"]["vectors"].as_array().unwrap().iter().find(|x| x["id"] == "V-ORDER").unwrap().clone();
    let expected_params: Vec<(String, String)> = vo["params_in_emitted_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();

    let builder = OrderString::builder()
        .app_id("2021000122671080")
        .out_agreement_no("conn-7f3c1e2a")
        .service_id("2019120400000000000004450100")
        .once_token("tok-9b1d")
        .timestamp_epoch_secs(1_717_756_911); // 2024-06-07 18:41:51 Asia/Shanghai
    let params: Vec<(String, String)> =
        builder.params().unwrap().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(params, expected_params);
    assert_eq!(alipay_v3::order::sign_content(&params), vo["string_to_sign"].as_str().unwrap());

    for key_text in [fixture("app-private-key-pkcs1.pem"), fixture("app-private-key-pkcs8-bare.txt")] {
        let key = PrivateKey::parse(&key_text).unwrap();
        let order = builder.sign(&key).unwrap();
        assert_eq!(order, vo["order_string"].as_str().unwrap());
        let parsed = alipay_v3::order::verify_order_string(&order, &app_public()).unwrap();
        assert_eq!(parsed.get("sign"), vo["signature"].as_str());
    }

    // The same through a client's pre-filled builder.
    let c = builder_for_offline().build().unwrap();
    let order = c
        .order_string()
        .out_agreement_no("conn-7f3c1e2a")
        .service_id("2019120400000000000004450100")
        .once_token("tok-9b1d")
        .timestamp("2024-06-07 18:41:51")
        .build()
        .unwrap();
    assert_eq!(order, vo["order_string"].as_str().unwrap());
}

fn builder_for_offline() -> jobworth::ClientBuilder {
    builder(&closed_endpoint())
}

#[test]
fn order_string_optional_fields_and_errors() {
    let key = app_key();
    let order = OrderString::builder()
        .app_id("2021000122671080")
        .out_agreement_no("c 1")
        .service_id("s")
        .once_token("t")
        .identity_type(IdentityType::Teacher)
        .extra_param("scene", "入职")
        .product_code("CREDIT_PAY_AFTER_USE")
        .category_id("cat")
        .return_back_link("alipays://back?x=1")
        .cancel_back_link("alipays://cancel")
        .notify_url("https://merchant.example/notify")
        .return_url("https://merchant.example/return")
        .app_auth_token("tok")
        .timestamp("2024-06-07 18:41:51")
        .sign(&key)
        .unwrap();
    let p = alipay_v3::order::verify_order_string(&order, &app_public()).unwrap();
    let keys: Vec<&str> = p.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "method",
            "app_id",
            "charset",
            "version",
            "sign_type",
            "timestamp",
            "notify_url",
            "return_url",
            "app_auth_token",
            "biz_content",
            "sign"
        ]
    );
    let biz: Value = serde_json::from_str(p.get("biz_content").unwrap()).unwrap();
    assert_eq!(
        p.get("biz_content").unwrap(),
        r#"{"out_agreement_no":"c 1","zm_service_id":"s","product_code":"CREDIT_PAY_AFTER_USE","category_id":"cat","extra_param":"{\"onceToken\":\"t\",\"identityType\":\"04\",\"scene\":\"入职\"}","return_back_link":"alipays://back?x=1","cancel_back_link":"alipays://cancel"}"#
    );
    let extra: Value = serde_json::from_str(biz["extra_param"].as_str().unwrap()).unwrap();
    assert_eq!(extra["onceToken"], "t");

    assert_eq!(
        OrderString::builder().out_agreement_no("c").service_id("s").sign(&key),
        Err(OrderError::Missing("app_id"))
    );
    assert_eq!(
        OrderString::builder().app_id("1").out_agreement_no("c").service_id("").sign(&key),
        Err(OrderError::Missing("zm_service_id"))
    );
    assert!(OrderString::builder().app_id("1").out_agreement_no("c").service_id("s").build().is_err(), "no key");
    // Default timestamp: now, Shanghai time, the documented format.
    let p = OrderString::builder().app_id("1").out_agreement_no("c").service_id("s").params().unwrap();
    let ts = &p.iter().find(|(k, _)| *k == "timestamp").unwrap().1;
    assert_eq!(ts.len(), 19);
    assert_eq!(&ts[4..5], "-");
    assert_eq!(&ts[10..11], " ");
}

#[test]
fn resident_id_vectors() {
    let v = vectors();
    let ids = &v["cn_resident_id_18"];
    let valid = ids["valid"].as_array().unwrap();
    let invalid = ids["invalid"].as_array().unwrap();
    assert!(valid.len() >= 8 && invalid.len() >= 5);
    for x in valid {
        let n = x["number"].as_str().unwrap();
        assert_eq!(validate::resident_id_18(n), Ok(()), "{n}");
    }
    for x in invalid {
        let n = x["number"].as_str().unwrap();
        let fails: Vec<&str> = x["fails"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        let err = validate::resident_id_18(n).unwrap_err();
        let kind = match err {
            validate::IdError::Length(_) | validate::IdError::Format => "format",
            validate::IdError::BirthDate => "birth_date",
            validate::IdError::CheckChar => "check_char",
            _ => "other",
        };
        assert!(fails.contains(&kind), "{n}: {err:?} not in {fails:?}");
        assert!(!err.to_string().contains(n));
    }
}

#[test]
fn configuration_mistakes_are_named_errors() {
    let pem = fixture("app-private-key-pkcs1.pem");
    let alipay = alipay_key().public_key().to_spki_pem();
    let base = || Client::builder().app_id(APP_ID);
    let msg = |e: ConfigError| e.to_string();

    assert_eq!(
        msg(base().private_key_pem(&app_public().to_spki_base64()).unwrap_err()),
        "private key: key DER is not a PKCS#1 or PKCS#8 RSA private key"
    );
    assert_eq!(msg(base().private_key_pem("  ").unwrap_err()), "private key: key is empty");
    assert!(msg(base().alipay_public_key_pem("%%%").unwrap_err()).starts_with("Alipay public key: "));
    assert!(msg(base()
        .certificates("nope", &fixture("alipayCertPublicKey_RSA2.crt"), &fixture("alipayRootCert.crt"))
        .unwrap_err())
    .starts_with("app certificate: "));
    assert!(msg(base()
        .certificates(&fixture("appCertPublicKey_2021001161683774.crt"), &fixture("alipayCertPublicKey_RSA2.crt"), "")
        .unwrap_err())
    .starts_with("Alipay root certificate: "));
    assert!(msg(base().certificates(&fixture("alipayRootCert.crt"), "x", &fixture("alipayRootCert.crt")).unwrap_err())
        .starts_with("Alipay certificate: "));
    assert!(msg(base().encrypt_key_base64("AAAA").unwrap_err()).starts_with("encrypt key: "));

    let ok = || base().private_key_pem(&pem).unwrap().alipay_public_key_pem(&alipay).unwrap();
    assert_eq!(msg(Client::builder().private_key(app_key()).build().unwrap_err()), "app id is not set");
    assert_eq!(msg(base().alipay_public_key_pem(&alipay).unwrap().build().unwrap_err()), "private key is not set");
    assert_eq!(
        msg(base().private_key(app_key()).build().unwrap_err()),
        "Alipay public key (or certificates) is not set"
    );
    let e = ok().endpoint("https://openapi.alipay.com/gateway.do").build().unwrap_err();
    assert!(msg(e).contains("must be an origin"));
    assert!(matches!(ok().endpoint("openapi.alipay.com").build(), Err(ConfigError::Endpoint(_))));
    assert!(matches!(ok().app_id("a,b").build(), Err(ConfigError::Invalid { what: "app id", .. })));
    assert!(matches!(ok().timeout(Duration::ZERO).build(), Err(ConfigError::Invalid { what: "timeout", .. })));
    assert!(matches!(ok().app_auth_token("a\nb").build(), Err(ConfigError::Invalid { .. })));
    let both = ok()
        .certificates(
            &fixture("appCertPublicKey_2021001161683774.crt"),
            &fixture("alipayCertPublicKey_RSA2.crt"),
            &fixture("alipayRootCert.crt"),
        )
        .unwrap();
    assert!(matches!(both.build(), Err(ConfigError::Conflict(_))));

    // Accepted forms: PKCS#1 PEM, PKCS#8 bare base64, re-wrapped PEM with CRLF; default endpoint.
    let c = ok().build().unwrap();
    assert_eq!(c.endpoint(), "https://openapi.alipay.com");
    assert_eq!(c.app_id(), APP_ID);
    assert_eq!(c.timeout(), jobworth::DEFAULT_TIMEOUT);
    let _ = base().private_key_pem(&fixture("app-private-key-pkcs8-bare.txt")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let wrapped: Vec<String> = body.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    let rewrapped =
        format!("-----BEGIN RSA PRIVATE KEY-----\r\n{}\r\n-----END RSA PRIVATE KEY-----\r\n", wrapped.join("\r\n"));
    let _ = base().private_key_pem(&rewrapped).unwrap();
    // A config error converts into the call error type, for `?` in one function.
    let as_error: Error = base().build().unwrap_err().into();
    assert!(as_error.is_not_sent() && as_error.to_string().starts_with("configuration error: "));
}

#[test]
fn client_is_cheap_to_share() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Client>();
    assert_traits::<Error>();
    assert_traits::<jobworth::AuthenticationQuery>();
    fn assert_send<T: Send>(_: &T) {}
    let c = builder_for_offline().build().unwrap();
    assert_send(&c.authentication_query().send());
    assert_send(&c.request(http::Method::GET, "/v3/x").send());
}

#[tokio::test]
async fn strict_validation_refuses_before_sending() {
    // Nothing listens on the endpoint: a request that got as far as sending is a connect error.
    let c = builder_for_offline().max_retries(0).build().unwrap();
    let q = || {
        c.authentication_query()
            .conn_key("c")
            .once_token("t")
            .service_id("s")
            .identity_type(IdentityType::Teacher)
            .query_type(QueryType::Exact)
    };
    assert!(q().user_id("2088").validate().is_ok());
    assert!(q().cert(CertType::IdCard, CERT_NO).validate().is_ok());
    assert!(q().cert(CertType::Passport, "E1234567").validate().is_ok());
    let cases = [
        (q(), "user_id"),
        (q().cert_no(CERT_NO), "cert_type"),
        (q().cert_type("0").user_id("2088"), "cert_no"),
        (q().cert(CertType::from("9"), "x"), "cert_type"),
        (q().cert(CertType::IdCard, "420192931233123123"), "cert_no"),
        (q().query_type("fuzzy").user_id("1"), "query_type"),
        (c.authentication_query().once_token("t"), "conn_key"),
    ];
    for (query, field) in cases {
        assert_eq!(query.validate().unwrap_err().field, field);
        let e = query.strict(true).send().await.unwrap_err();
        assert!(matches!(&e, Error::NotSent(n) if n.kind == NotSentKind::InvalidRequest), "{e:?}");
        assert!(e.to_string().contains(field), "{e}");
    }
    // Not strict: sent as given (and here refused by the closed port).
    let e = q().send().await.unwrap_err();
    assert!(matches!(&e, Error::NotSent(n) if n.kind == NotSentKind::Connect), "{e:?}");
}

#[test]
fn typed_values_round_trip_and_keep_unknowns() {
    assert_eq!(CertType::from("5"), CertType::HkMacaoDocument);
    assert_eq!(validate::cert_type("2").unwrap(), CertType::HomeReturnPermit);
    assert_eq!(IdentityType::from("04"), IdentityType::Teacher);
    assert_eq!(QueryType::from("exact"), QueryType::Exact);
    assert_eq!("dim".parse::<QueryType>().unwrap(), QueryType::Dim);
    let r: AuthenticationResult = serde_json::from_str(r#"{"identity_result":"U","x":[1]}"#).unwrap();
    assert_eq!(r.identity_result, IdentityResult::WaitingVerify);
    assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"identity_result":"WAITING_VERIFY"}"#);
    let r: AuthenticationResult = serde_json::from_str(SUCCESS).unwrap();
    let back: Value = serde_json::to_value(&r).unwrap();
    for k in
        ["identity_result", "token_status", "identity_result_skip_url", "user_id", "open_id", "merchant_identity_id"]
    {
        assert!(back.get(k).is_some(), "{k}");
    }
    assert!(back.get("future_field").is_none());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any parameter name and value (arbitrary Unicode, reserved characters) gets as far as the
    /// network: the request-target built from it is always sent exactly as signed.
    #[test]
    fn any_query_value_is_sendable(name in "\\PC{1,8}", value in "\\PC{0,24}") {
        static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        let rt = RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        let c = builder_for_offline().max_retries(0).build().unwrap();
        let e = rt.block_on(c.request(http::Method::GET, "/v3/x").query(name, value).send()).unwrap_err();
        proptest::prop_assert!(matches!(&e, Error::NotSent(n) if n.kind == NotSentKind::Connect), "{:?}", e);
    }
}
