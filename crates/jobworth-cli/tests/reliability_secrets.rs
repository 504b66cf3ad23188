//! Secrets stay out of every log: the complete output — stdout and
//! stderr at `RUST_LOG=debug` — of a `jobworth sandbox` process and of every CLI command of a
//! full flow (keys, order string, desk, queries in key, certificate and AES mode) and of its error
//! paths (consumed token, wrong and malformed `cert_no`, wrong AES key, another app's key, a
//! truncated key file, an unreachable endpoint), plus `jobworth demo`, holds no private key, AES
//! key or full `cert_no`; and a sandbox on PostgreSQL never shows the database URL's password.

use std::path::Path;
use std::process::Output;

use alipay_v3::keys::PrivateKey;
use jobworth_sandbox::personas::PERSONAS;
use jobworth_testkit::fixtures::SERVICE_ID;
use jobworth_testkit::http::{http, post_json};
use jobworth_testkit::process::{jobworth, SandboxProcess};
use serde_json::json;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

/// Runs a `jobworth` command at `RUST_LOG=debug`; returns its output and exit code.
fn run(args: &[&str]) -> (Output, i32) {
    let out = jobworth(BIN).args(args).env("RUST_LOG", "debug").output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    (out, code)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every 40-character window of `b64` (the "fragment of a key" a log must not hold).
fn windows(b64: &str, step: usize) -> Vec<String> {
    let chars: Vec<char> = b64.chars().filter(|c| !c.is_whitespace()).collect();
    (0..chars.len().saturating_sub(39)).step_by(step).map(|i| chars[i..i + 40].iter().collect()).collect()
}

/// The sandbox's private keys as stored in its SQLite file: PKCS#8 DER blobs, found by their
/// header bytes (`SEQUENCE { INTEGER 0, rsaEncryption, OCTET STRING …`). A blob may continue on
/// an overflow page, so each is cut at its page's end: the whole key, or its first part.
fn stored_private_key_der(state: &Path) -> Vec<Vec<u8>> {
    const HEAD: &[u8] = &[
        0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        0x04,
    ];
    const PAGE: usize = 4096;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let db = state.join(jobworth_sandbox::DB_FILE);
    for file in [db.clone(), db.with_extension("db-wal")] {
        let Ok(bytes) = std::fs::read(&file) else { continue };
        for i in 4..bytes.len().saturating_sub(HEAD.len()) {
            if &bytes[i..i + HEAD.len()] != HEAD || bytes[i - 4] != 0x30 || bytes[i - 3] != 0x82 {
                continue;
            }
            let start = i - 4;
            let len = 4 + (((bytes[i - 2] as usize) << 8) | bytes[i - 1] as usize);
            let end = (start + len).min((start / PAGE + 1) * PAGE).min(bytes.len());
            let der = bytes[start..end].to_vec();
            if !found.iter().any(|f| f[..f.len().min(64)] == der[..der.len().min(64)]) {
                found.push(der);
            }
        }
    }
    found
}

/// Standard base64 (the PEM encoder's body, unwrapped).
fn base64_encode(bytes: &[u8]) -> String {
    alipay_v3::pem::encode("K", bytes).lines().filter(|l| !l.starts_with("-----")).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_full_flow_and_its_error_paths_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut logs: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, out: &Output| logs.push((what.to_string(), text(out)));

    // Keys through the CLI.
    let (out, code) = run(&["keys", "generate", "--out", path(&d.join("keys"))]);
    assert_eq!(code, 0, "{}", text(&out));
    keep("keys generate", &out);
    let key_file = d.join("keys/app_private_key.pem");
    let app_key = PrivateKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let other_key = PrivateKey::generate().unwrap();
    let other_key_file = d.join("other.pem");
    std::fs::write(&other_key_file, other_key.to_pkcs8_pem().as_bytes()).unwrap();
    let truncated_file = d.join("truncated.pem");
    let pem = app_key.to_pkcs8_pem();
    std::fs::write(&truncated_file, &pem.as_bytes()[..pem.len() / 2]).unwrap();
    let aes = alipay_v3::aes::AesKey::generate().to_base64().to_string();
    let wrong_aes = alipay_v3::aes::AesKey::generate().to_base64().to_string();

    // The sandbox, logging at debug.
    let sb = SandboxProcess::start_on(BIN, &d.join("state"), &d.join("sandbox.log"), &[("RUST_LOG", "debug")]);
    let base = sb.base_url.clone();
    let http = http();
    let app_id = "2021000000000301";
    let body = json!({"app_id": app_id, "public_key": app_key.public_key().to_spki_pem(), "encrypt_key": aes});
    let r = post_json(&http, &format!("{base}/sandbox/apps"), &body).await;
    let (status, reg) = (r.status, r.json());
    assert!((200..300).contains(&status), "{reg}");
    for (file, field) in [
        ("alipay_public_key.pem", "alipay_public_key"),
        ("app_cert.crt", "app_cert"),
        ("alipay_cert.crt", "alipay_cert"),
        ("alipay_root.crt", "alipay_root_cert"),
    ] {
        std::fs::write(d.join(file), reg[field].as_str().unwrap()).unwrap();
    }
    let teacher = PERSONAS.iter().find(|p| p.persona == "teacher").unwrap();
    let other = PERSONAS.iter().find(|p| p.persona == "not-teacher").unwrap();
    let mut bad_check = teacher.cert_no.to_string();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '1' { '2' } else { '1' });

    // Step 1 through the CLI, the desk over the control plane.
    let mut n = 0;
    let mut new_desk = |keep: &mut dyn FnMut(&str, &Output)| {
        n += 1;
        let conn_key = format!("conn-secret-{n}");
        let once_token = format!("tok-secret-{n}");
        let (out, code) = run(&[
            "order-string",
            "--app-id",
            app_id,
            "--private-key",
            path(&key_file),
            "--out-agreement-no",
            &conn_key,
            "--service-id",
            SERVICE_ID,
            "--once-token",
            &once_token,
        ]);
        assert_eq!(code, 0, "{}", text(&out));
        keep("order-string", &out);
        (conn_key, once_token, String::from_utf8(out.stdout).unwrap().trim().to_string())
    };
    let complete = |order: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = post_json(&http, &format!("{base}/sandbox/desk"), &json!({"order_str": order})).await;
            let (s, desk) = (r.status, r.json());
            assert_eq!(s, 201, "{desk}");
            let id = desk["desk_id"].as_str().unwrap();
            let url = format!("{base}/sandbox/desk/{id}/complete");
            let r = post_json(&http, &url, &json!({"persona": "teacher"})).await;
            let (s, done) = (r.status, r.json());
            assert_eq!(s, 200, "{done}");
        }
    };

    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    let key_mode: Vec<String> =
        ["--endpoint", &base, "--app-id", app_id, "--alipay-public-key", &p("alipay_public_key.pem")]
            .map(String::from)
            .to_vec();
    let cert_mode: Vec<String> = [
        "--endpoint",
        &base,
        "--app-id",
        app_id,
        "--app-cert",
        &p("app_cert.crt"),
        "--alipay-cert",
        &p("alipay_cert.crt"),
        "--alipay-root-cert",
        &p("alipay_root.crt"),
    ]
    .map(String::from)
    .to_vec();
    let query = |conn: &[String], key: &Path, conn_key: &str, token: &str, extra: &[&str]| {
        let mut args = vec!["query", "--private-key", path(key)];
        args.extend(strs(conn));
        args.extend_from_slice(&[
            "--conn-key",
            conn_key,
            "--once-token",
            token,
            "--query-type",
            "exact",
            "--identity-type",
            "04",
            "--service-id",
            SERVICE_ID,
        ]);
        args.extend_from_slice(extra);
        run(&args)
    };
    let by_cert = |no: &str| vec!["--cert-type".to_string(), "0".to_string(), "--cert-no".to_string(), no.to_string()];

    // 1. Key mode + AES, identified by cert_no: success, then TOKEN_INVALID.
    let (c, t, order) = new_desk(&mut keep);
    complete(order).await;
    let cert = by_cert(teacher.cert_no);
    let mut aes_args = vec!["--encrypt-key", aes.as_str(), "--json"];
    aes_args.extend(strs(&cert));
    let (out, code) = query(&key_mode, &key_file, &c, &t, &aes_args);
    assert_eq!(code, 0, "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS"));
    keep("query key+AES", &out);
    let (out, code) = query(&key_mode, &key_file, &c, &t, &aes_args);
    assert_eq!(code, 3, "{}", text(&out));
    assert!(text(&out).contains("TOKEN_INVALID"));
    keep("query consumed token", &out);

    // 2. Certificate mode: success.
    let (c, t, order) = new_desk(&mut keep);
    complete(order).await;
    let (out, code) = query(&cert_mode, &key_file, &c, &t, &strs(&cert));
    assert_eq!(code, 0, "{}", text(&out));
    keep("query certificate mode", &out);

    // 3. Error paths on a fresh desk (each refusal consumes nothing).
    let (c, t, order) = new_desk(&mut keep);
    complete(order).await;
    let wrong = by_cert(other.cert_no);
    let (out, code) = query(&key_mode, &key_file, &c, &t, &strs(&wrong));
    assert_eq!(code, 3, "another person's cert_no: {}", text(&out));
    keep("query wrong cert_no", &out);
    let malformed = by_cert(&bad_check);
    let (out, code) = query(&key_mode, &key_file, &c, &t, &strs(&malformed));
    assert!(code == 2 || code == 3, "bad check digit: {}", text(&out));
    keep("query malformed cert_no", &out);
    let (out, code) = query(&key_mode, &other_key_file, &c, &t, &strs(&cert));
    assert_eq!(code, 3, "another app's key: {}", text(&out));
    assert!(text(&out).contains("invalid-signature"));
    keep("query with another key", &out);
    let (out, code) = query(&key_mode, &truncated_file, &c, &t, &strs(&cert));
    assert_eq!(code, 2, "truncated key file: {}", text(&out));
    keep("query with a truncated key", &out);
    let mut wrong_aes_args = vec!["--encrypt-key", wrong_aes.as_str()];
    wrong_aes_args.extend(strs(&cert));
    let (out, code) = query(&key_mode, &key_file, &c, &t, &wrong_aes_args);
    assert_eq!(code, 4, "wrong AES key: {}", text(&out));
    keep("query with the wrong AES key", &out);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let unreachable = format!("http://{closed}");
    let mut conn = key_mode.clone();
    conn[1] = unreachable;
    let (out, code) = query(&conn, &key_file, "conn-x", "tok-x", &strs(&cert));
    assert_eq!(code, 4, "unreachable endpoint: {}", text(&out));
    keep("query unreachable endpoint", &out);

    // 4. The demo, end to end in its own process.
    let (out, code) = run(&["demo"]);
    assert_eq!(code, 0, "{}", text(&out));
    keep("demo", &out);

    sb.stop();
    logs.push(("sandbox process".into(), std::fs::read_to_string(d.join("sandbox.log")).unwrap()));

    // What must not appear anywhere: the app keys, and the sandbox's own Alipay and CA keys,
    // read back from its database file.
    let stored = stored_private_key_der(&d.join("state"));
    let stored_bytes: Vec<usize> = stored.iter().map(Vec::len).collect();
    assert_eq!(stored.len(), 2, "the sandbox database holds its Alipay key and its CA key");
    assert!(stored_bytes.iter().all(|&n| n >= 300), "key blobs found: {stored_bytes:?} bytes");
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut key_b64 = vec![
        ("app private key", app_key.to_pkcs8_base64().to_string()),
        ("other private key", other_key.to_pkcs8_base64().to_string()),
    ];
    key_b64.extend(stored.iter().map(|der| ("sandbox private key", base64_encode(der))));
    for (name, b64) in &key_b64 {
        for w in windows(b64, 1) {
            secrets.push((name.to_string(), w));
        }
    }
    for (name, k) in [("AES key", &aes), ("wrong AES key", &wrong_aes)] {
        secrets.push((name.to_string(), k.clone()));
    }
    for no in [teacher.cert_no, other.cert_no, bad_check.as_str()] {
        secrets.push(("cert_no".to_string(), no.to_string()));
    }
    // Any private key at all (e.g. the demo's own keys): PEM armor, and the base64 that starts
    // every RSA PKCS#8 / PKCS#1 private key.
    for marker in ["PRIVATE KEY-----", "IBADANBgkqhkiG9w0BAQEFAASC", "AIBAAKCAQEA"] {
        secrets.push(("private key marker".to_string(), marker.to_string()));
    }
    let total: usize = logs.iter().map(|(_, l)| l.len()).sum();
    let mut leaks = Vec::new();
    for (what, log) in &logs {
        for (name, s) in &secrets {
            if log.contains(s.as_str()) {
                leaks.push(format!("{what}: {name} ({}…)", &s[..8.min(s.len())]));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets in the logs:\n{}", leaks.join("\n"));
    // The logs are real: debug output of both sides was captured.
    let sandbox_log = &logs.last().unwrap().1;
    assert!(sandbox_log.contains("DEBUG") && sandbox_log.contains("token consumed"), "sandbox log at debug");
    println!(
        "secrets figures: outputs={} bytes_scanned={total} secret_patterns={} sandbox_key_der_bytes={stored_bytes:?} leaks=0",
        logs.len(),
        secrets.len()
    );
}

/// A password in `--database` / `JOBWORTH_DATABASE_URL` never reaches the output: the startup line
/// names the store as `postgresql (HOST:PORT/DB)`, at `RUST_LOG=debug` too, and so does the error
/// of a server that cannot be reached.
#[test]
fn the_database_password_stays_out_of_the_output() {
    use std::io::{BufRead, BufReader};
    const PASSWORD: &str = "pw-5e1f-not-for-logs";
    let db = jobworth_testkit::postgres::TestDatabase::new();
    // The test server trusts loopback, so the password is never asked for: only shown, or not.
    let url = db.url().replacen("://postgres@", &format!("://postgres:{PASSWORD}@"), 1);
    assert!(url.contains(PASSWORD), "{url}");
    let dir = tempfile::tempdir().unwrap();
    let mut child = jobworth(BIN)
        .args(["sandbox", "--listen", "127.0.0.1:0", "--data", path(&dir.path().join("state"))])
        .env("JOBWORTH_DATABASE_URL", &url)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.next().unwrap().unwrap();
    let store = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!("{listening}\n{store}\n{}", text(&out));
    assert!(listening.starts_with("listening on http://127.0.0.1:"), "{listening}");
    let name = db.url().rsplit('/').next().unwrap();
    assert!(store.starts_with("store: postgresql (127.0.0.1:") && store.ends_with(&format!("/{name})")), "{store}");
    assert!(!all.contains(PASSWORD), "{all}");
    assert!(all.contains("store=postgresql (127.0.0.1:"), "the log names the store too: {all}");
    assert!(!dir.path().join("state").join(jobworth_sandbox::DB_FILE).exists(), "no SQLite file with --database");

    let unreachable = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/nothing");
    let (out, code) = run(&["sandbox", "--listen", "127.0.0.1:0", "--database", &unreachable]);
    let shown = text(&out);
    assert_ne!(code, 0, "{shown}");
    assert!(shown.contains("postgresql (127.0.0.1:1/nothing)") && !shown.contains(PASSWORD), "{shown}");
}
