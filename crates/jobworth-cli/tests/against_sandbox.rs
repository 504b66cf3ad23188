//! `jobworth query` against a running `jobworth sandbox` (the real binary, spawned on a free loopback
//! port and always stopped): key mode, certificate mode and AES, each configured only from the files
//! `POST /sandbox/apps` returned; `--json` output field by field; exit codes 0, 3 and 4.

use std::time::{Duration, Instant};

use jobworth_testkit::fixtures::fixture_path;
use jobworth_testkit::process::*;
use serde_json::Value;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

fn json_line(out: &str) -> Value {
    assert_eq!(out.lines().count(), 1, "one JSON object on one line: {out}");
    serde_json::from_str(out.trim()).unwrap()
}

/// Checks a successful `--json` answer for `auth` field by field.
fn assert_success_json(v: &Value, auth: &Authorization) {
    let obj = v.as_object().unwrap();
    assert_eq!(v["identity_result"], "SUCCESS");
    assert_eq!(v["token_status"], "FINISH");
    assert_eq!(v["user_id"], auth.user_id.as_str());
    assert!(auth.user_id.starts_with("2088") && auth.user_id.len() == 16, "{}", auth.user_id);
    assert_eq!(v["open_id"], auth.open_id.as_str());
    assert!(v["merchant_identity_id"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    let allowed =
        ["identity_result", "token_status", "identity_result_skip_url", "user_id", "open_id", "merchant_identity_id"];
    for k in obj.keys() {
        assert!(allowed.contains(&k.as_str()), "unexpected field {k} in {v}");
    }
}

/// Checks the `--json` error object of an exit-4 failure: no field of the unverified answer.
fn assert_exit_4_json(v: &Value, code: &str) {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "exit", "hint", "http_status", "message", "trace_id"], "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["exit"], 4, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

/// Checks the `--json` error object of an API error.
fn assert_error_json(v: &Value, code: &str, http_status: u64) {
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "http_status", "links", "message", "trace_id"], "{v}");
    assert_eq!(v["code"], code);
    assert_eq!(v["http_status"], http_status);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(v["trace_id"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert!(v["links"].is_array(), "{v}");
}

#[test]
fn key_mode_json_then_token_invalid() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000101", "teacher");

    let (code, out, err) = run(key_query(&sandbox, &app, &auth).arg("--json"));
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    assert_success_json(&json_line(&out), &auth);

    // The same token again: an API error, exit 3, the error object on stdout.
    let (code, out, err) = run(key_query(&sandbox, &app, &auth).arg("--json"));
    assert_eq!(code, 3, "{err}");
    assert_error_json(&json_line(&out), "TOKEN_INVALID", 400);
    assert!(err.contains("TOKEN_INVALID") && err.contains("trace id"), "{err}");
}

#[test]
fn key_mode_human_output_from_environment_variables() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000102", "teacher");
    let teacher = persona(&sandbox, "teacher");
    let cert_no = teacher["cert_no"].as_str().unwrap().to_string();
    assert_eq!(teacher["user_id"], auth.user_id.as_str());

    // All connection settings from the environment; the user identified by cert_no as well.
    let mut cmd = jobworth(BIN);
    cmd.env("ALIPAY_ENDPOINT", &sandbox.base_url)
        .env("ALIPAY_APP_ID", &app.app_id)
        .env("ALIPAY_PRIVATE_KEY", &app.private_key)
        .env("ALIPAY_PUBLIC_KEY", &app.alipay_public_key)
        .arg("query")
        .args(query_flags(&auth))
        .args(["--cert-type", "0", "--cert-no", &cert_no]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    assert!(out.contains("identity_result") && out.contains("SUCCESS"), "{out}");
    assert!(out.contains("FINISH") && out.contains(&auth.user_id), "{out}");
    assert!(!out.contains('\x1b'), "no colour when stdout is not a terminal");
    assert!(!out.contains(&cert_no) && !err.contains(&cert_no), "cert_no never in clear");
}

#[test]
fn certificate_mode_from_the_registration_files() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000103", false);
    // The files really are what the registration said.
    let app_cert_sn = app.registration["app_cert_sn"].as_str().unwrap();
    let (code, out, _) = run(jobworth(BIN).arg("cert-sn").arg(&app.app_cert));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), app_cert_sn);
    let (code, out, _) = run(jobworth(BIN).args(["cert-sn", "--root"]).arg(&app.alipay_root_cert));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), app.registration["alipay_root_cert_sn"].as_str().unwrap());

    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&app.app_cert)
        .env("ALIPAY_CERT", &app.alipay_cert)
        .env("ALIPAY_ROOT_CERT", &app.alipay_root_cert)
        .arg("--json"));
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    assert_success_json(&json_line(&out), &auth);

    // Certificate mode with another app's certificate: the gateway refuses it, exit 3.
    let other = AppFiles::register(&sandbox, "2021000000000104", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&other.app_cert)
        .arg("--alipay-cert")
        .arg(&app.alipay_cert)
        .arg("--alipay-root-cert")
        .arg(&app.alipay_root_cert)
        .arg("--json"));
    assert_eq!(code, 3, "{out}{err}");
    assert_error_json(&json_line(&out), "app-cert-not-exist", 400);
}

#[test]
fn aes_mode_and_a_wrong_aes_key() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000105", true);
    let key = app.encrypt_key.clone().unwrap();

    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, err) = run(key_query(&sandbox, &app, &auth).args(["--encrypt-key", &key, "--json"]));
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    assert_success_json(&json_line(&out), &auth);

    // AES with certificate mode, the key from ALIPAY_ENCRYPT_KEY.
    let auth = authorize(&sandbox, &app, "not-teacher");
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&app.app_cert)
        .arg("--alipay-cert")
        .arg(&app.alipay_cert)
        .arg("--alipay-root-cert")
        .arg(&app.alipay_root_cert)
        .env("ALIPAY_ENCRYPT_KEY", &key)
        .arg("--json"));
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    let v = json_line(&out);
    assert_eq!(v["identity_result"], "FAILED", "any identity_result is an answer: {v}");
    assert_eq!(v["token_status"], "FINISH");
    assert!(!err.contains(&key) && !out.contains(&key), "the AES key is never printed");

    // A different AES key: the verified answer does not decrypt, exit 4.
    let wrong = alipay_v3::aes::AesKey::generate().to_base64().as_str().to_owned();
    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, err) = run(key_query(&sandbox, &app, &auth).args(["--encrypt-key", &wrong, "--json"]));
    assert_eq!(code, 4, "{out}{err}");
    assert_exit_4_json(&json_line(&out), "decryption-failed");
    assert!(!err.contains(&wrong) && !out.contains(&wrong), "{err}");
}

#[test]
fn api_errors_exit_3() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000106", "teacher");

    // Unknown conn_key.
    let unknown = Authorization { conn_key: "no-such-conn-key".into(), ..authorize(&sandbox, &app, "teacher") };
    let (code, out, err) = run(&mut key_query(&sandbox, &app, &unknown));
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.is_empty(), "human API errors go to stderr: {out}");
    assert!(err.contains("WRONG_OUT_AGREEMENT_NO_INTERCEPT") && err.contains("HTTP 400"), "{err}");
    assert!(err.contains("trace id: ") && !err.contains("trace id: (none)"), "{err}");

    // A persona outcome that is an error.
    let blacklisted = authorize(&sandbox, &app, "blacklisted");
    let (code, out, _) = run(key_query(&sandbox, &app, &blacklisted).arg("--json"));
    assert_eq!(code, 3);
    assert_error_json(&json_line(&out), "JOB_WORTH_BLACK_LIST", 400);

    // A refused request consumed nothing: the real token still answers once.
    let (code, out, err) = run(key_query(&sandbox, &app, &auth).arg("--json"));
    assert_eq!(code, 0, "{err}");
    assert_success_json(&json_line(&out), &auth);
}

#[test]
fn pending_then_resolved() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000107", "pending");
    for _ in 0..2 {
        let (code, out, err) = run(key_query(&sandbox, &app, &auth).arg("--json"));
        assert_eq!(code, 0, "{err}");
        let v = json_line(&out);
        assert_eq!(v["identity_result"], "WAITING_VERIFY", "{v}");
        assert_eq!(v["token_status"], "PROCESSING", "{v}");
    }
    let (code, out, _) = run(&mut key_query(&sandbox, &app, &auth));
    assert_eq!(code, 0);
    assert!(out.contains("WAITING_VERIFY") && out.contains("query again"), "{out}");
}

#[test]
fn verification_failure_exits_4() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000108", "teacher");
    // Another key than the sandbox's cannot verify its answer. (The app's own public key, the
    // classic mix-up, is refused before anything is sent: see tests/new_user.rs.)
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--alipay-public-key")
        .arg(fixture_path("alipay-stable-rsa2-public-key-bare.txt"))
        .arg("--json"));
    assert_eq!(code, 4, "{out}{err}");
    // An unverified answer is never printed: stdout holds only the error object.
    assert_exit_4_json(&json_line(&out), "verification-failed");
    assert!(!err.is_empty());
}

#[test]
fn transport_failures_exit_4() {
    let app_dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run(jobworth(BIN).args(["keys", "generate", "--out"]).arg(app_dir.path()));
    assert_eq!(code, 0);
    let key = app_dir.path().join("app_private_key.pem");
    // Any Alipay key but the app's own (which is refused before anything is sent).
    let public = fixture_path("app-public-key.pem");
    let query = |endpoint: &str| {
        let mut cmd = jobworth(BIN);
        cmd.args(["query", "--endpoint", endpoint, "--app-id", "2021000000000109", "--private-key"])
            .arg(&key)
            .arg("--alipay-public-key")
            .arg(&public)
            .args(["--conn-key", "c", "--once-token", "t", "--service-id", "s", "--query-type", "dim"]);
        cmd
    };

    // A closed loopback port: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, out, err) = run(&mut query(&format!("http://127.0.0.1:{port}")));
    assert_eq!(code, 4, "{out}{err}");
    assert!(!err.is_empty());

    // A listener that accepts connections but never answers: --timeout gives up.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let (code, out, err) = run(query(&url).args(["--timeout", "1"]));
    let took = started.elapsed();
    assert_eq!(code, 4, "{out}{err}");
    assert!(took < Duration::from_secs(20), "gave up after {took:?}");
    assert!(took >= Duration::from_millis(900), "waited for the timeout: {took:?}");
    drop(silent);
}

#[test]
fn sandbox_stops_on_sigterm_and_keeps_its_state() {
    let mut sandbox = SandboxProcess::start_with(BIN, &["--token-ttl", "600", "--timestamp-window", "600"]);
    let (status, key1) = control("GET", &format!("{}/sandbox/alipay-public-key", sandbox.base_url), None);
    assert_eq!(status, 200);
    let (status, health) = control("GET", &format!("{}/sandbox/health", sandbox.base_url), None);
    assert_eq!((status, health), (200, serde_json::json!({"status": "ok"})));
    let app = AppFiles::register(&sandbox, "2021000000000110", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let exit = sandbox.terminate();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}\n{}", sandbox.log_text());

    // Restart on the same data dir: same Alipay key, the app and the completed authorization survive.
    sandbox.restart();
    let (_, key2) = control("GET", &format!("{}/sandbox/alipay-public-key", sandbox.base_url), None);
    assert_eq!(key1, key2);
    let (code, out, err) = run(key_query(&sandbox, &app, &auth).arg("--json"));
    assert_eq!(code, 0, "{err}\n{}", sandbox.log_text());
    assert_success_json(&json_line(&out), &auth);
}
