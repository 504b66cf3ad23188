//! Hardening through the real path: raw sockets and real HTTP on loopback against a running
//! sandbox. Each test names the attack it stands for; every one fails on the code before the fix.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jobworth_testkit::app::*;
use jobworth_testkit::fixtures::*;
use jobworth_testkit::http::*;
use jobworth_testkit::sandbox::*;
use jobworth_testkit::signed::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads from `s` until the peer closes or `limit` passes; returns what came and whether it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

/// CPU time of this process (sandbox and test client together), in ms, from /proc.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, r)| r.split(' ').collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks * 10.0
}

/// One line of the RELIABILITY.md table (`cargo test -p jobworth-sandbox --test hardening -- --nocapture`).
fn measured(attack: &str, elapsed: Duration, cpu_before: f64, more: &str) {
    eprintln!(
        "measured | {attack} | {:.1} ms | cpu {:.0} ms | {more}",
        elapsed.as_secs_f64() * 1e3,
        cpu_ms() - cpu_before
    );
}

fn status_of(resp: &[u8]) -> u16 {
    std::str::from_utf8(&resp[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn json_of(resp: &[u8]) -> Value {
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    serde_json::from_slice(&resp[split + 4..]).expect("a JSON body")
}

async fn teacher_token(h: &Harness, app: &App, conn_key: &str) -> String {
    let token = format!("tok-{conn_key}");
    h.authenticate(app, conn_key, &token, "teacher").await;
    token
}

#[tokio::test]
async fn unknown_and_too_many_parameters_are_refused_and_burn_nothing() {
    let h = start().await;
    let app = h.register("2021000000000901", &app_key(), None).await;
    let token = teacher_token(&h, &app, "p-1").await;
    let alipay = app.alipay_public_key();

    // A typo of the official field name is named in the refusal.
    let mut q = teacher_query("p-1", &token);
    q.push(("onceToken", "x"));
    let r = h.send(&app, &Req::query(&q)).await;
    r.assert_error(400, "INVALID_PARAMETER", &alipay);
    assert!(r.json()["message"].as_str().unwrap().contains("onceToken"), "{:?}", r.json());

    // 8,000 parameters (as many as a URI of at most 64 KiB holds), correctly signed: refused
    // before anything is looked up.
    let names: Vec<String> = (0..8_000).map(|i| format!("{i:x}")).collect();
    let mut q = teacher_query("p-1", &token);
    q.extend(names.iter().map(|n| (n.as_str(), "1")));
    let (t, cpu) = (Instant::now(), cpu_ms());
    let r = h.send(&app, &Req::query(&q)).await;
    r.assert_error(400, "INVALID_PARAMETER", &alipay);
    assert!(r.json()["message"].as_str().unwrap().contains("at most 64"), "{:?}", r.json());
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    measured("8,000 signed parameters", t.elapsed(), cpu, "400 INVALID_PARAMETER, token intact");

    // The token is intact: the proper query still gets the result, once.
    let r = h.query(&app, "p-1", &token).await;
    assert_eq!((r.status, r.json()["identity_result"].as_str()), (200, Some("SUCCESS")));
    h.query(&app, "p-1", &token).await.assert_error(400, "TOKEN_INVALID", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_parameters_are_answered_when_allowed() {
    let h = start_with(|c| c.allow_unknown_params = true).await;
    let app = h.register("2021000000000902", &app_key(), None).await;
    let token = teacher_token(&h, &app, "p-2").await;
    let mut q = teacher_query("p-2", &token);
    q.push(("extra", "1"));
    let r = h.send(&app, &Req::query(&q)).await;
    assert_eq!((r.status, r.json()["identity_result"].as_str()), (200, Some("SUCCESS")));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn php_style_queries_need_the_default_cert_type_switch() {
    // The PHP v3 SDK drops cert_type "0": cert_no arrives alone.
    let query = |token: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("conn_key", "php-1"),
            ("once_token", token),
            ("query_type", "exact"),
            ("identity_type", "04"),
            ("service_id", SERVICE_ID),
            ("cert_no", TEACHER_CERT),
        ]
    };
    let strict = start().await;
    let app = strict.register("2021000000000903", &app_key(), None).await;
    strict.authenticate(&app, "php-1", "tok-php", "teacher").await;
    strict.send(&app, &Req::query(&query("tok-php"))).await.assert_error(
        400,
        "INVALID_PARAMETER",
        &app.alipay_public_key(),
    );
    strict.sandbox.shutdown().await;

    let lenient = start_with(|c| c.default_cert_type = Some("0".into())).await;
    let app = lenient.register("2021000000000903", &app_key(), None).await;
    lenient.authenticate(&app, "php-1", "tok-php", "teacher").await;
    let r = lenient.send(&app, &Req::query(&query("tok-php"))).await;
    assert_eq!((r.status, r.json()["identity_result"].as_str()), (200, Some("SUCCESS")), "{:?}", r.json());
    lenient.sandbox.shutdown().await;
}

/// Sends a request head announcing `len` body bytes, then the body in chunks, while another task
/// reads: the client must get the 413 JSON before the connection goes away.
async fn oversized_upload(addr: SocketAddr, path: &str, len: usize, chunked: bool) -> (Vec<u8>, usize) {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let head = if chunked {
        format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )
    } else {
        format!("POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n")
    };
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let res = if chunked {
                let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
                wr.write_all(&framed).await
            } else {
                wr.write_all(&chunk).await
            };
            if res.is_err() {
                break;
            }
            sent += chunk.len();
        }
        if chunked {
            let _ = wr.write_all(b"0\r\n\r\n").await;
        }
        sent
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), rd.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("connection reset before the answer was read ({e}); got {out:?}"),
            Err(_) => break,
        }
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    let sent = writer.await.unwrap();
    (out, sent)
}

#[tokio::test]
async fn an_oversized_body_gets_its_413_while_the_client_is_still_sending() {
    let h = start().await;
    let addr = h.sandbox.local_addr();
    for chunked in [false, true] {
        let (t, cpu) = (Instant::now(), cpu_ms());
        let (resp, sent) = oversized_upload(addr, "/sandbox/apps", 10 * 1024 * 1024, chunked).await;
        assert_eq!(status_of(&resp), 413, "{}", String::from_utf8_lossy(&resp));
        assert_eq!(json_of(&resp)["code"], "invalid-request-data");
        let how = if chunked { "chunked" } else { "content-length" };
        measured(
            &format!("10 MiB POST /sandbox/apps ({how})"),
            t.elapsed(),
            cpu,
            &format!("413 JSON read, client sent {} KiB, no reset", sent / 1024),
        );
    }
    // The v3 gateway too, signed like every v3 answer.
    let (resp, _) = oversized_upload(addr, "/v3/alipay/x", 10 * 1024 * 1024, false).await;
    assert_eq!(status_of(&resp), 413);
    assert!(String::from_utf8_lossy(&resp).to_ascii_lowercase().contains("alipay-signature:"));
    // Still serving.
    assert_eq!(h.get("/sandbox/health").await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_client_waiting_for_100_continue_gets_the_413_without_sending() {
    let h = start().await;
    let mut s = TcpStream::connect(h.sandbox.local_addr()).await.unwrap();
    s.write_all(
        b"POST /sandbox/apps HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
          content-length: 10485760\r\nexpect: 100-continue\r\n\r\n",
    )
    .await
    .unwrap();
    let (resp, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert_eq!(status_of(&resp), 413, "{}", String::from_utf8_lossy(&resp));
    assert!(!String::from_utf8_lossy(&resp).contains("100 Continue"));
    assert!(closed);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed_while_others_are_served() {
    let h = start_with(|c| c.limits.header_read_timeout = Duration::from_secs(1)).await;
    let app = h.register("2021000000000904", &app_key(), None).await;
    let addr = h.sandbox.local_addr();

    // Slowloris: a request head that never ends.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /sandbox/health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-a: ").await.unwrap();
    // Idle keep-alive after one answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /sandbox/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut first = [0u8; 512];
    let n = idle.read(&mut first).await.unwrap();
    assert_eq!(status_of(&first[..n]), 200);

    // Meanwhile a real query is answered.
    let token = teacher_token(&h, &app, "slow-1").await;
    assert_eq!(h.query(&app, "slow-1", &token).await.status, 200);

    let (t, cpu) = (Instant::now(), cpu_ms());
    let (_, slow_closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    let (_, idle_closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(slow_closed && idle_closed, "slow {slow_closed}, idle {idle_closed}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    measured(
        "unfinished head + idle keep-alive (timeout set to 1 s)",
        t.elapsed(),
        cpu,
        "both closed; a query served meanwhile",
    );
    assert_eq!(h.get("/sandbox/health").await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_get_503_json_and_the_rest_are_served() {
    let h = start_with(|c| c.limits.max_connections = 4).await;
    let addr = h.sandbox.local_addr();
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /sandbox/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(status_of(&buf[..n]), 200);
        held.push(s);
    }
    let (t, cpu) = (Instant::now(), cpu_ms());
    let mut over = TcpStream::connect(addr).await.unwrap();
    over.write_all(b"GET /sandbox/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
    let (resp, closed) = read_until_closed(&mut over, Duration::from_secs(5)).await;
    assert_eq!(status_of(&resp), 503, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(json_of(&resp)["code"], "service-unavailable");
    assert!(closed);
    measured("5th connection over a cap of 4", t.elapsed(), cpu, "503 JSON, closed; held ones served");
    // A held connection keeps working, and a slot freed is a slot served.
    held[0].write_all(b"GET /sandbox/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = held[0].read(&mut buf).await.unwrap();
    assert_eq!(status_of(&buf[..n]), 200);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.get("/sandbox/health").await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_committed_consumption_is_never_answered_with_a_4xx() {
    // A body timeout far below the time a query takes: only the body read is timed, so every
    // query whose consumption commits is answered with its result.
    let h = start_with(|c| c.limits.body_read_timeout = Duration::from_millis(1)).await;
    let app = h.register("2021000000000905", &app_key(), None).await;
    let alipay = app.alipay_public_key();
    for i in 0..20 {
        let conn_key = format!("commit-{i}");
        let token = teacher_token(&h, &app, &conn_key).await;
        let first = h.query(&app, &conn_key, &token).await;
        assert_eq!(first.status, 200, "{}", String::from_utf8_lossy(&first.body));
        h.query(&app, &conn_key, &token).await.assert_error(400, "TOKEN_INVALID", &alipay);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_web_page_cannot_drive_the_control_plane() {
    let h = start_with(|c| c.allowed_hosts = vec!["sandbox.test".into()]).await;
    let base = h.base().to_string();
    let body = json!({"app_id": "2021000000000906", "public_key": app_key().public_key().to_spki_pem()}).to_string();

    // A no-cors POST from a page: text/plain.
    let r = into_resp(
        h.http
            .post(format!("{base}/sandbox/apps"))
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (415, "unsupported-media-type"));
    let r = into_resp(h.http.post(format!("{base}/sandbox/apps")).body(body.clone()).send().await.unwrap()).await;
    assert_eq!(r.status, 415);

    // DNS rebinding: the page's own name in Host.
    let r = into_resp(
        h.http
            .post(format!("{base}/sandbox/apps"))
            .header("host", "evil.example:8340")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    assert!(r.json()["message"].as_str().unwrap().contains("--allowed-host"));
    let r =
        into_resp(h.http.get(format!("{base}/desk/abc")).header("host", "evil.example").send().await.unwrap()).await;
    assert_eq!(r.status, 403);
    // Nothing was registered by the refused calls.
    let r = h
        .send(
            &App { app_id: "2021000000000906".into(), key: app_key(), aes: None, registration: json!({}) },
            &Req::query(&teacher_query("x", "y")),
        )
        .await;
    assert_eq!(r.code(), "invalid-app-id");

    // The names that are the sandbox's own are answered.
    for host in ["localhost:1", "127.0.0.1", "[::1]:8340", "sandbox.test", "SANDBOX.test:80"] {
        let r =
            into_resp(h.http.get(format!("{base}/sandbox/health")).header("host", host).send().await.unwrap()).await;
        assert_eq!(r.status, 200, "{host}");
    }
    // The v3 gateway is signed and answers whatever Host a client uses.
    let app = h.register("2021000000000906", &app_key(), None).await;
    let mut req = Req::query(&teacher_query("x", "y"));
    req.extra_headers.push(("host".into(), "openapi.alipay.com".into()));
    assert_eq!(h.send(&app, &req).await.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn desk_forms_are_accepted_from_desk_pages_only() {
    let h = start().await;
    let app = h.register("2021000000000907", &app_key(), None).await;
    let order = order_string(&app.app_id, &app.key, "form-1", None);
    let opened = h.post_json("/sandbox/desk", &json!({ "order_str": order })).await.json();
    let desk_id = opened["desk_id"].as_str().unwrap();
    let base = h.base().to_string();
    let post = |origin: &'static str| {
        h.http
            .post(format!("{base}/desk/{desk_id}/complete"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body("persona=teacher")
    };
    let r = into_resp(post("http://evil.example").send().await.unwrap()).await;
    assert_eq!(r.status, 403);
    let r = into_resp(post("null").send().await.unwrap()).await;
    assert_eq!(r.status, 403);
    // Still pending: the forged form did nothing.
    let token = opened["once_token"].as_str().unwrap();
    assert_eq!(h.query(&app, "form-1", token).await.json()["identity_result"], "WAITING_VERIFY");
    let own = format!("http://{}", h.sandbox.local_addr());
    let r = h
        .http
        .post(format!("{base}/desk/{desk_id}/complete"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", own)
        .body("persona=teacher")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    assert_eq!(h.query(&app, "form-1", token).await.json()["identity_result"], "SUCCESS");
    h.sandbox.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let h = start().await;
    let app = h.register("2021000000000908", &app_key(), None).await;
    h.query(&app, "x", "y").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(h.dir.path()), 0o700);
    for f in ["sandbox.db", "sandbox.db-wal", "sandbox.db-shm"] {
        assert_eq!(mode(&h.dir.path().join(f)), 0o600, "{f}");
    }
    h.sandbox.shutdown().await;
    // A world-readable dir left by an older build is tightened on start.
    std::fs::set_permissions(h.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(h.dir.path().join("sandbox.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = jobworth_sandbox::Sandbox::start(config(h.dir.path())).await.unwrap();
    assert_eq!(mode(h.dir.path()), 0o700);
    assert_eq!(mode(&h.dir.path().join("sandbox.db")), 0o600);
    again.shutdown().await;
}

#[tokio::test]
async fn a_wrong_alipay_root_cert_sn_is_refused_by_name() {
    let h = start().await;
    let app = h.register("2021000000000909", &app_key(), None).await;
    let alipay = app.alipay_public_key();
    let root_sn = app.registration["alipay_root_cert_sn"].as_str().unwrap().to_string();
    let token = teacher_token(&h, &app, "root-1").await;
    let mut req = Req::query(&teacher_query("root-1", &token));
    req.cert_sn = Some(app.app_cert_sn());
    req.extra_headers.push((
        "alipay-root-cert-sn".into(),
        "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6".into(),
    ));
    let r = h.send(&app, &req).await;
    r.assert_error(400, "invalid-alipay-root-cert-sn", &alipay);
    assert!(r.json()["message"].as_str().unwrap().contains("alipay-root-cert-sn"));
    req.extra_headers = vec![("alipay-root-cert-sn".into(), root_sn)];
    let r = h.send(&app, &req).await;
    assert_eq!((r.status, r.json()["identity_result"].as_str()), (200, Some("SUCCESS")));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_shorter_window_in_another_process_does_not_let_a_replay_through() {
    let dir = tempfile::tempdir().unwrap();
    let wide = jobworth_sandbox::Sandbox::start(config(dir.path())).await.unwrap();
    let narrow = jobworth_sandbox::Sandbox::start(jobworth_sandbox::Config {
        timestamp_window: Duration::from_secs(60),
        ..config(dir.path())
    })
    .await
    .unwrap();
    let h = Harness { sandbox: narrow, dir, http: client() };
    let app = h.register("2021000000000910", &app_key(), None).await;
    // Accepted by the narrow process near the edge of its window...
    let old = alipay_v3::now_millis() - 59_000;
    let req =
        Req { nonce: Some("replayed-nonce-1".into()), timestamp: Some(old), ..Req::query(&teacher_query("x", "y")) };
    assert_eq!(h.send(&app, &req).await.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    // ...which prunes it once it is past its window (pruning runs at most once a second).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(h.send(&app, &Req::query(&teacher_query("x", "y"))).await.code(), "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
    // The replay goes to the wide process, whose window still covers the timestamp.
    let wide_h = Harness { sandbox: wide, dir: tempfile::tempdir().unwrap(), http: client() };
    let r = wide_h.send(&app, &req).await;
    r.assert_error(400, "invalid-timestamp", &app.alipay_public_key());
    assert!(r.json()["message"].as_str().unwrap().contains("nonce log"), "{:?}", r.json());
    wide_h.sandbox.shutdown().await;
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn crafted_multipart_bodies_are_answered_fast() {
    let h = start().await;
    let app = h.register("2021000000000911", &app_key(), None).await;
    let auth = alipay_v3::sign::auth_string(&app.app_id, None, &alipay_v3::new_nonce(), alipay_v3::now_millis());
    // A junk but well-formed authorization: the body is parsed before the signature is checked.
    let authz = format!("ALIPAY-SHA256withRSA {auth},sign=AAAA");
    let b70 = "b".repeat(70);
    let near = format!("\r\n--{}", &b70[..69]);
    let huge_boundary = "q".repeat(300 * 1024);
    let cases = [
        (b70.clone(), format!("--{b70}\r\n\r\n{}", near.repeat(1_900_000 / near.len()))),
        (huge_boundary.clone(), format!("--{}\r\n", &huge_boundary[1..]).repeat(5)),
    ];
    for (i, (boundary, body)) in cases.into_iter().enumerate() {
        let (t, cpu) = (Instant::now(), cpu_ms());
        let r = into_resp(
            h.http
                .post(format!("{}/v3/alipay/upload", h.base()))
                .header("authorization", &authz)
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(matches!(r.status, 400 | 431 | 413), "{}", r.status);
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        let what = ["1.9 MB of near-boundaries, 70-char boundary", "300 KB boundary"][i];
        measured(&format!("multipart before auth: {what}"), t.elapsed(), cpu, &format!("{}", r.status));
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_certificate_with_a_megabyte_serial_is_refused_fast() {
    use base64::Engine as _;
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let n = content.len();
        let mut out = vec![tag];
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let len: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
            out.push(0x80 | len.len() as u8);
            out.extend(len);
        }
        out.extend_from_slice(content);
        out
    }
    let tbs = tlv(0x30, &tlv(0x02, &vec![0x7f; 1 << 20]));
    let alg = tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]));
    let der = tlv(0x30, &[tbs, alg, tlv(0x03, &[0])].concat());
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    let h = start().await;
    let (t, cpu) = (Instant::now(), cpu_ms());
    let r = h.post_json("/sandbox/apps", &json!({"app_id": "2021000000000912", "public_key": pem})).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["message"].as_str().unwrap().contains("20 octets"), "{:?}", r.json());
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    measured("certificate with a 1 MiB serial as public_key", t.elapsed(), cpu, "400 invalid-parameter");
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn aes_order_strings_of_the_official_sdks_open_the_desk() {
    let h = start().await;
    let aes = alipay_v3::aes::AesKey::from_base64("aa4BtZ4tspm2wnXLb1ThQA==").unwrap();
    let app = h.register("2021000000000913", &app_key(), Some(aes.clone())).await;
    let biz = json!({"out_agreement_no": "aes-1", "zm_service_id": SERVICE_ID,
                     "extra_param": json!({"onceToken": "tok-aes-1", "identityType": "04"}).to_string()});
    let params = |biz_content: String, encrypt_type: &str| {
        let mut p = vec![
            ("method", "zhima.credit.payafteruse.creditagreement.sign".to_string()),
            ("app_id", app.app_id.clone()),
            ("charset", "utf-8".into()),
            ("version", "1.0".into()),
            ("sign_type", "RSA2".into()),
            ("timestamp", alipay_v3::order::shanghai_timestamp(1_717_756_911)),
            ("biz_content", biz_content),
        ];
        if !encrypt_type.is_empty() {
            p.push(("encrypt_type", encrypt_type.into()));
        }
        alipay_v3::order::sign_order_string(&app.key, &p)
    };
    let r = h
        .post_json("/sandbox/desk", &json!({"order_str": params(aes.encrypt(biz.to_string().as_bytes()), "AES")}))
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!((r.json()["conn_key"].as_str(), r.json()["once_token"].as_str()), (Some("aes-1"), Some("tok-aes-1")));
    // Ciphertext under another key, and an unknown encryption type, are refused by name.
    let other = alipay_v3::aes::AesKey::from_base64("AAAAAAAAAAAAAAAAAAAAAA==").unwrap();
    let r = h
        .post_json("/sandbox/desk", &json!({"order_str": params(other.encrypt(biz.to_string().as_bytes()), "AES")}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "decryption-error"));
    let r = h.post_json("/sandbox/desk", &json!({"order_str": params(biz.to_string(), "SM4")})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-encrypt-type"));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_key_rsa2_cannot_verify_with_is_refused_at_registration() {
    // 1024 bits: registering it used to succeed (with an app certificate), and every request
    // signed with it was then refused as invalid-signature.
    const RSA_1024: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDMdCR4BuacWWeiTSeSFuAKAZIa
KInt/d6VsKBkfuHUTGUCOFMNUI48SyHNUoqIJoLntCAZtXS61Og+TeVusGGSj4vo
CbIJvuAdhe2Gm7oYw51/zC1ozBZxZTEeMXL7bF+RHQfemSN9liXTRDvCZT0VdtyS
v89nvlyvfc1IqVC2CwIDAQAB
-----END PUBLIC KEY-----";
    let h = start().await;
    let r = h.post_json("/sandbox/apps", &json!({"app_id": "2021000000000914", "public_key": RSA_1024})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid-parameter"), "{:?}", r.json());
    assert!(r.json()["message"].as_str().unwrap().contains("1024 bits"), "{:?}", r.json());
    h.sandbox.shutdown().await;
}
