//! Hostile input over raw TCP: malformed HTTP, oversized
//! headers and bodies, non-UTF-8 bytes, bad percent-encoding, duplicate parameters, absurd
//! timestamps, invalid base64 signatures, truncated keys, 10k-parameter queries and garbage JSON
//! on every control route. Each is answered with a 4xx within a bounded time — JSON from the
//! sandbox, or hyper's own bare 400/431 where the bytes are not HTTP the server can route — never
//! a 5xx, a dropped connection or a hang, and the sandbox keeps serving.

use std::time::{Duration, Instant};

use alipay_v3::headers as h;
use jobworth_testkit::app::{query_target, App};
use jobworth_testkit::fixtures::AUTH_PATH as PATH;
use jobworth_testkit::raw::raw_http;
use jobworth_testkit::sandbox::start;
use jobworth_testkit::signed::{authorization, sign_get};
use serde_json::json;

/// Longest any single hostile request may take to be answered.
const LIMIT: Duration = Duration::from_secs(10);

/// Who produced a 4xx: the sandbox (JSON `{"code","message","links"}`) or hyper (bare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Sandbox,
    /// hyper refuses bytes it cannot parse as an HTTP/1.1 request before any handler runs.
    HyperOrSandbox,
    /// The desk page, made for a browser: an HTML error page.
    Page,
}

struct Case {
    name: String,
    raw: Vec<u8>,
    by: By,
    /// The exact `code` expected, when the sandbox answers.
    code: Option<&'static str>,
}

fn case(name: &str, raw: Vec<u8>, by: By, code: Option<&'static str>) -> Case {
    Case { name: name.to_string(), raw, by, code }
}

fn request(method: &str, target: &[u8], headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(method.as_bytes());
    r.push(b' ');
    r.extend_from_slice(target);
    r.extend_from_slice(b" HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    for (k, v) in headers {
        r.extend_from_slice(k.as_bytes());
        r.extend_from_slice(b": ");
        r.extend_from_slice(v);
        r.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || method == "POST" {
        r.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    r.extend_from_slice(b"\r\n");
    r.extend_from_slice(body);
    r
}

fn json_post(path: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path.as_bytes(), &[("content-type", b"application/json")], body)
}

/// A v3 GET of `target`, correctly signed for `target` by `app`.
fn signed(app: &App, target: &str) -> Vec<u8> {
    let auth = sign_get(app, target);
    request("GET", target.as_bytes(), &[(h::AUTHORIZATION, auth.as_bytes())], b"")
}

fn with_auth(target: &str, auth: &[u8]) -> Vec<u8> {
    request("GET", target.as_bytes(), &[(h::AUTHORIZATION, auth)], b"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_bounded_4xx_and_the_sandbox_keeps_serving() {
    let sb = start().await;
    let addr = sb.sandbox.local_addr();
    let aes = alipay_v3::aes::AesKey::generate();
    let app = sb.register_new("2021000000000201", Some(aes.clone())).await;
    let (conn_key, token, user_id) = sb.new_token(&app).await;
    let good = query_target(&conn_key, &token, &user_id);
    let (conn_key2, token2, user_id2) = sb.new_token(&app).await;
    let good2 = query_target(&conn_key2, &token2, &user_id2);
    let q = |extra: &str| format!("{PATH}?{extra}");
    let key_pem = app.key.public_key().to_spki_pem();
    let now = alipay_v3::now_millis();
    let nonce = || alipay_v3::new_nonce();

    // hyper refuses request-targets over 64 KiB (414), so the signed 10k-parameter query uses
    // 3-character names; the long form checks the 414.
    let b36 = |i: usize| -> String {
        let d = b"0123456789abcdefghijklmnopqrstuvwxyz";
        [d[i / 1296 % 36], d[i / 36 % 36], d[i % 36]].iter().map(|&c| c as char).collect()
    };
    let ten_k: String = (0..10_000).map(|i| format!("{}=&", b36(i))).collect::<String>() + &good2[PATH.len() + 1..];
    let ten_k_long: String = (0..10_000).map(|i| format!("p{i}={i}&")).collect::<String>() + &good2[PATH.len() + 1..];
    let ten_k_dup: String = "a=1&".repeat(10_000) + &good[PATH.len() + 1..];
    let nested = "[".repeat(100_000);
    let spki_with_trailing_bytes = {
        let mut d = app.key.public_key().spki_der().to_vec();
        d.extend_from_slice(&[0, 0, 0]);
        base64_encode(&d)
    };
    let mut cases = vec![
        // Not HTTP at all, or HTTP hyper cannot route.
        case("garbage request line", b"GARBAGE\r\n\r\n".to_vec(), By::HyperOrSandbox, None),
        case("binary noise", (0..=255u8).cycle().take(4096).collect(), By::HyperOrSandbox, None),
        case(
            "non-UTF-8 bytes in the request-target",
            request("GET", &[PATH.as_bytes(), b"?conn_key=\xff\xfe"].concat(), &[], b""),
            By::HyperOrSandbox,
            None,
        ),
        case(
            "1 MiB header",
            request("GET", b"/sandbox/health", &[("x-junk", "a".repeat(1 << 20).as_bytes())], b""),
            By::HyperOrSandbox,
            None,
        ),
        case(
            "300 headers",
            {
                let names: Vec<String> = (0..300).map(|i| format!("x-h{i}")).collect();
                let hs: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"v".as_slice())).collect();
                request("GET", b"/sandbox/health", &hs, b"")
            },
            By::HyperOrSandbox,
            None,
        ),
        case(
            "1 MiB request-target",
            request("GET", q(&"a".repeat(1 << 20)).as_bytes(), &[], b""),
            By::HyperOrSandbox,
            None,
        ),
        // Bodies over the 2 MiB limit, declared and chunked.
        case("3 MiB body on a control route", json_post("/sandbox/apps", &vec![b' '; 3 << 20]), By::Sandbox, None),
        case(
            "3 MiB chunked body on v3",
            {
                let mut r =
                    b"POST /v3/zhima/customer/jobworth/authentication HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                              transfer-encoding: chunked\r\n\r\n"
                        .to_vec();
                for _ in 0..48 {
                    r.extend_from_slice(format!("{:x}\r\n", 65536).as_bytes());
                    r.extend_from_slice(&vec![b'x'; 65536]);
                    r.extend_from_slice(b"\r\n");
                }
                r.extend_from_slice(b"0\r\n\r\n");
                r
            },
            By::Sandbox,
            None,
        ),
        // 100 KiB header: hyper accepts it; the sandbox answers.
        case(
            "100 KiB header on v3",
            request("GET", good.as_bytes(), &[("x-junk", "a".repeat(100 << 10).as_bytes())], b""),
            By::Sandbox,
            Some("missing-signature"),
        ),
        // Authorization headers that are not what they claim.
        case(
            "non-UTF-8 authorization",
            with_auth(&good, b"ALIPAY-SHA256withRSA app_id=\xff\xfe,nonce=n,timestamp=1,sign=x"),
            By::Sandbox,
            Some("missing-signature"),
        ),
        case(
            "negative timestamp",
            with_auth(
                &good,
                format!("ALIPAY-SHA256withRSA app_id={},nonce=n,timestamp=-5,sign=AAAA", app.app_id).as_bytes(),
            ),
            By::Sandbox,
            Some("missing-signature"),
        ),
        case(
            "20-digit timestamp",
            with_auth(
                &good,
                format!("ALIPAY-SHA256withRSA app_id={},nonce=n,timestamp=99999999999999999999,sign=AAAA", app.app_id)
                    .as_bytes(),
            ),
            By::Sandbox,
            Some("missing-signature"),
        ),
        case(
            "19-digit timestamp beyond i64, correctly signed",
            with_auth(
                &good,
                authorization(
                    &app.key,
                    (&app.app_id, None, &nonce(), 9_999_999_999_999_999_999),
                    "GET",
                    &good,
                    "",
                    None,
                )
                .as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-timestamp"),
        ),
        case(
            "signature not base64",
            with_auth(
                &good,
                format!("ALIPAY-SHA256withRSA app_id={},nonce=n,timestamp={now},sign=!!not*base64", app.app_id)
                    .as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-signature"),
        ),
        case(
            "4 KiB nonce",
            with_auth(
                &good,
                authorization(&app.key, (&app.app_id, None, &"n".repeat(4096), now), "GET", &good, "", None).as_bytes(),
            ),
            By::Sandbox,
            Some("missing-signature"),
        ),
        case(
            "duplicate authString field",
            with_auth(
                &good,
                format!("ALIPAY-SHA256withRSA app_id={0},app_id={0},nonce=n,timestamp={now},sign=AAAA", app.app_id)
                    .as_bytes(),
            ),
            By::Sandbox,
            Some("missing-signature"),
        ),
        // Queries that are correctly signed but malformed.
        case(
            "invalid percent-encoding, signed",
            signed(&app, &q("conn_key=%zz&once_token=%4")),
            By::Sandbox,
            Some("INVALID_PARAMETER"),
        ),
        case(
            "percent-encoded non-UTF-8, signed",
            signed(&app, &q("conn_key=%ff%fe")),
            By::Sandbox,
            Some("INVALID_PARAMETER"),
        ),
        case(
            "duplicate parameter, signed",
            signed(&app, &format!("{good}&conn_key={conn_key}")),
            By::Sandbox,
            Some("INVALID_PARAMETER"),
        ),
        // A parameter the endpoint does not define, and more than 64, are refused (not ignored):
        // a correctly signed query of 10k parameters used to be answered and burn the token.
        case("10k distinct parameters, signed", signed(&app, &q(&ten_k)), By::Sandbox, Some("INVALID_PARAMETER")),
        case("10k duplicate parameters, signed", signed(&app, &q(&ten_k_dup)), By::Sandbox, Some("INVALID_PARAMETER")),
        case(
            "10k parameters, unsigned",
            request("GET", q(&ten_k).as_bytes(), &[], b""),
            By::Sandbox,
            Some("missing-signature"),
        ),
        case("10k parameters in 110 KiB, signed", signed(&app, &q(&ten_k_long)), By::HyperOrSandbox, None),
        case(
            "undecryptable AES body, signed",
            {
                let body = "not-a-ciphertext";
                let auth = authorization(&app.key, (&app.app_id, None, &nonce(), now), "POST", PATH, body, None);
                request(
                    "POST",
                    PATH.as_bytes(),
                    &[(h::AUTHORIZATION, auth.as_bytes()), (h::ENCRYPT_TYPE, b"AES"), ("content-type", b"text/plain")],
                    body.as_bytes(),
                )
            },
            By::Sandbox,
            Some("decryption-error"),
        ),
        case(
            "unknown encrypt type, signed",
            {
                let auth = sign_get(&app, &good);
                request("GET", good.as_bytes(), &[(h::AUTHORIZATION, auth.as_bytes()), (h::ENCRYPT_TYPE, b"DES")], b"")
            },
            By::Sandbox,
            Some("decryption-error"),
        ),
        case(
            "unknown v3 path, signed",
            signed(&app, "/v3/alipay/nothing/here?a=1"),
            By::Sandbox,
            Some("invalid-method"),
        ),
        // Truncated and wrong keys on POST /sandbox/apps.
        case(
            "truncated PEM public key",
            json_post(
                "/sandbox/apps",
                json!({"app_id": "x1", "public_key": &key_pem[..key_pem.len() / 2]}).to_string().as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case(
            "truncated DER (base64) public key",
            json_post(
                "/sandbox/apps",
                json!({"app_id": "x2", "public_key": &app.key.public_key().to_spki_base64()[..200]})
                    .to_string()
                    .as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case(
            "DER with trailing bytes",
            json_post(
                "/sandbox/apps",
                json!({"app_id": "x3", "public_key": spki_with_trailing_bytes}).to_string().as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case(
            "a private key where the public key goes",
            json_post(
                "/sandbox/apps",
                json!({"app_id": "x4", "public_key": app.key.to_pkcs8_pem().as_str()}).to_string().as_bytes(),
            ),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case(
            "encrypt_key of 3 bytes",
            json_post("/sandbox/apps", json!({"app_id": "x5", "encrypt_key": "AAAA"}).to_string().as_bytes()),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case(
            "app_id with control characters",
            json_post("/sandbox/apps", json!({"app_id": "a\u{0}b\nc"}).to_string().as_bytes()),
            By::Sandbox,
            Some("invalid-parameter"),
        ),
        case("invalid method", request("BREW", b"/sandbox/apps", &[], b""), By::Sandbox, None),
        case("desk page with bad encoding", request("GET", b"/desk?%zz=%", &[], b""), By::Page, None),
        case("desk page of an unknown desk", request("GET", b"/desk/%00%ff", &[], b""), By::Page, None),
    ];
    // Garbage JSON on every control route that takes a body.
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("truncated", b"{\"app_id\":".to_vec()),
        ("null", b"null".to_vec()),
        ("array", b"[1,2,3]".to_vec()),
        ("wrong types", br#"{"app_id":5,"persona":[],"order_str":{},"identity_result":true}"#.to_vec()),
        ("non-UTF-8", b"{\"app_id\":\"\xff\xfe\"}".to_vec()),
        ("100k nesting", nested.as_bytes().to_vec()),
    ];
    for route in [
        "/sandbox/apps",
        "/sandbox/desk",
        "/sandbox/desk/nope/complete",
        "/sandbox/desk/nope/resolve",
        "/sandbox/authentications",
    ] {
        for (what, body) in &garbage {
            cases.push(case(&format!("{what} JSON to {route}"), json_post(route, body), By::Sandbox, None));
        }
    }
    cases.push(case(
        "POST cancel of an unknown desk",
        json_post("/sandbox/desk/nope/cancel", b"junk"),
        By::Sandbox,
        None,
    ));

    let mut report = Vec::new();
    for c in &cases {
        let started = Instant::now();
        let reply = raw_http(addr, &c.raw, LIMIT).await;
        let took = started.elapsed();
        let Some(r) = reply else { panic!("{}: connection closed without an answer", c.name) };
        let sandbox_json = r.header("content-type").is_some_and(|ct| ct.starts_with("application/json"));
        report.push(format!(
            "{:>4} {:>6}ms {:<7} {}",
            r.status,
            took.as_millis(),
            if sandbox_json { "json" } else { "bare" },
            c.name
        ));
        assert!(took < LIMIT, "{}: took {took:?}", c.name);
        assert!(
            (400..500).contains(&r.status),
            "{}: status {} {:?}",
            c.name,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        match c.by {
            By::Sandbox => {
                assert!(sandbox_json, "{}: expected a JSON error, got {:?}", c.name, r.headers);
                let v = r.json();
                assert!(v["code"].is_string() && v["message"].is_string() && v["links"].is_array(), "{}: {v}", c.name);
                if let Some(code) = c.code {
                    assert_eq!(v["code"], code, "{}: {v}", c.name);
                }
            }
            By::Page => {
                let ct = r.header("content-type").unwrap_or_default();
                assert!(ct.starts_with("text/html") || sandbox_json, "{}: {ct}", c.name);
            }
            By::HyperOrSandbox => {
                if sandbox_json {
                    assert!(r.json()["code"].is_string(), "{}", c.name);
                } else {
                    assert!(
                        matches!(r.status, 400 | 414 | 431),
                        "{}: hyper answers 400/414/431, got {}",
                        c.name,
                        r.status
                    );
                }
            }
        }
    }
    println!("hostile input ({} requests):\n{}", cases.len(), report.join("\n"));

    // Still serving: health, and the real query, whose token none of the above consumed.
    let health = raw_http(addr, &request("GET", b"/sandbox/health", &[], b""), LIMIT).await.unwrap();
    assert_eq!((health.status, health.json()["status"].clone()), (200, json!("ok")));
    let r = raw_http(addr, &signed(&app, &good), LIMIT).await.unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["identity_result"], "SUCCESS");
    sb.sandbox.shutdown().await;
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
