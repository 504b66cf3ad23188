//! `jobworth doctor` and `jobworth keys fingerprint` through the real binary: a good configuration
//! passes in both modes (files from a spawned sandbox's registration, settings from flags or the
//! environment), and each kind of broken one fails its check with the fix, exit 2.

mod odd_keys;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;

use jobworth_testkit::fixtures::*;
use jobworth_testkit::process::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

/// `jobworth doctor --json` with `args`; returns the exit code and the report.
fn doctor(args: &[OsString]) -> (i32, Value) {
    doctor_in(&mut jobworth(BIN), args)
}

fn doctor_in(cmd: &mut std::process::Command, args: &[OsString]) -> (i32, Value) {
    let (code, out, err) = run(cmd.arg("doctor").args(args).arg("--json"));
    assert_eq!(out.lines().count(), 1, "one JSON object: {out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], code == 0, "{report}");
    // In the documented order: `ok` first, each check's `name` first.
    assert!(out.starts_with(r#"{"ok":"#), "{out}");
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(out.matches(r#"{"name":"#).count(), checks.len(), "{out}");
    for c in checks {
        let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["detail", "fix", "name", "ok"], "{c}");
        assert_eq!(c["fix"].is_null(), c["ok"] == true, "a fix exactly on failure: {c}");
    }
    (code, report)
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// Exit 2, `name` failed saying `detail` with a fix that says `fix`.
fn assert_fails(code: i32, report: &Value, name: &str, detail: &str, fix: &str) {
    assert_eq!(code, 2, "{report}");
    let c = check(report, name);
    assert_eq!(c["ok"], false, "{c}");
    assert!(c["detail"].as_str().unwrap().contains(detail), "{name}: {c}");
    assert!(c["fix"].as_str().unwrap().contains(fix), "{name}: {c}");
}

fn failed(report: &Value) -> Vec<String> {
    report["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["name"].to_string()).collect()
}

/// The endpoint, app id and private key of `app`, then `verification`'s flags and files.
fn connection(sandbox: &SandboxProcess, app: &AppFiles, verification: &[(&str, &Path)]) -> Vec<OsString> {
    let mut args =
        os(&[&"--endpoint", &sandbox.base_url, &"--app-id", &app.app_id, &"--private-key", &app.private_key]);
    for (flag, path) in verification {
        args.extend(os(&[flag, path]));
    }
    args
}

fn key_mode(sandbox: &SandboxProcess, app: &AppFiles) -> Vec<OsString> {
    connection(sandbox, app, &[("--alipay-public-key", &app.alipay_public_key)])
}

fn cert_mode(sandbox: &SandboxProcess, app: &AppFiles) -> Vec<OsString> {
    connection(
        sandbox,
        app,
        &[
            ("--app-cert", &app.app_cert),
            ("--alipay-cert", &app.alipay_cert),
            ("--alipay-root-cert", &app.alipay_root_cert),
        ],
    )
}

/// Replaces the value after `flag`.
fn with(mut args: Vec<OsString>, flag: &str, value: impl AsRef<std::ffi::OsStr>) -> Vec<OsString> {
    let i = args.iter().position(|a| a == flag).unwrap();
    args[i + 1] = value.as_ref().to_os_string();
    args
}

fn fingerprint(path: &Path) -> String {
    let (code, out, err) = run(jobworth(BIN).args(["keys", "fingerprint"]).arg(path));
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn keys_fingerprint_is_one_for_a_key_its_public_half_and_its_certificate() {
    // `openssl pkey -pubin -in app-public-key.pem -outform DER | sha256sum`, as pairs.
    let expected =
        "SHA256:ff:9b:07:cc:0c:b2:52:13:90:5f:0d:cf:c4:cd:cb:89:24:e9:9d:e2:f1:6a:9c:ab:5f:e2:ba:ad:2f:fe:dd:96\n";
    for name in ["app-public-key.pem", "app-private-key-pkcs1.pem", "app-private-key-pkcs8-bare.txt"] {
        assert_eq!(fingerprint(&fixture_path(name)), expected, "{name}");
    }
    let (code, out, _) =
        run(jobworth(BIN).args(["keys", "fingerprint", "--json"]).arg(fixture_path("app-public-key.pem")));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, serde_json::json!({ "fingerprint": expected.trim() }));

    // A generated pair and the certificate the sandbox issues over it.
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000301", false);
    let fp = fingerprint(&app.private_key);
    assert!(fp.starts_with("SHA256:") && fp.len() == "SHA256:".len() + 95 + 1, "{fp}");
    assert!(fp.trim()[7..]
        .split(':')
        .all(|h| h.len() == 2 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())));
    assert_eq!(fingerprint(&app.public_key), fp);
    assert_eq!(fingerprint(&app.app_cert), fp);
    assert_ne!(fingerprint(&app.alipay_public_key), fp);
    assert_eq!(fingerprint(&app.alipay_cert), fingerprint(&app.alipay_public_key));
    let private = std::fs::read_to_string(&app.private_key).unwrap();
    let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!fp.contains(&body[40..80]));

    // DER input, and what is no key: exit 2 naming the file, not a placeholder.
    let dir = tempfile::tempdir().unwrap();
    let der = dir.path().join("app.der");
    std::fs::write(
        &der,
        alipay_v3::pem::decode_blocks(&std::fs::read_to_string(&app.app_cert).unwrap()).unwrap()[0].der.clone(),
    )
    .unwrap();
    assert_eq!(fingerprint(&der), fp);
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello\n").unwrap();
    for path in [junk, dir.path().join("missing.pem")] {
        let (code, out, err) = run(jobworth(BIN).args(["keys", "fingerprint"]).arg(&path));
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains(&*path.to_string_lossy()) && !err.contains("FILE"), "{err}");
    }
    let (code, _, err) =
        run(jobworth(BIN).args(["keys", "fingerprint"]).arg(write_one(dir.path(), "ec.pem", odd_keys::EC_P256)));
    assert_eq!(code, 2);
    assert!(err.contains("EC (elliptic-curve) key"), "{err}");
}

fn write_one(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_good_key_mode_configuration_passes() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000302", false);
    let mut args = key_mode(&sandbox, &app);
    args.extend(os(&[&"--app-public-key", &app.public_key]));
    let (code, report) = doctor(&args);
    assert_eq!(code, 0, "{report}");
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "private-key",
            "app-public-key",
            "mode",
            "alipay-public-key",
            "alipay-key-is-not-app-key",
            "encrypt-key",
            "endpoint",
            "reachable",
            "clock",
            "server-key"
        ]
    );
    assert!(check(&report, "private-key")["detail"]
        .as_str()
        .unwrap()
        .contains("RSA-2048, PKCS#8 PEM (BEGIN PRIVATE KEY)"));
    assert!(check(&report, "mode")["detail"] == "key mode, AES off");
    assert!(check(&report, "clock")["detail"].as_str().unwrap().contains("the server's clock is"));

    // Human output: one line per check, each ✓, then the summary; no key material.
    let (code, out, err) = run(jobworth(BIN).arg("doctor").args(&args));
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), names.len() + 1, "{out}");
    for (line, name) in lines.iter().zip(&names) {
        assert!(line.starts_with(&format!("✓ {name}: ")), "{out}");
    }
    assert_eq!(lines[names.len()], format!("all {} checks passed", names.len()));
    let private = std::fs::read_to_string(&app.private_key).unwrap();
    let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!out.contains(&body[40..80]) && !err.contains(&body[40..80]));

    // PKCS#1 and bare base64 are named as such.
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = doctor(&with(args.clone(), "--private-key", fixture_path("app-private-key-pkcs1.pem")));
    assert!(check(&report, "private-key")["detail"].as_str().unwrap().contains("PKCS#1 PEM (BEGIN RSA PRIVATE KEY)"));
    let (_, report) = doctor(&with(args, "--private-key", fixture_path("app-private-key-pkcs8-bare.txt")));
    assert!(check(&report, "private-key")["detail"].as_str().unwrap().contains("PKCS#8 DER as bare base64"));
    drop(dir);
}

#[test]
fn a_good_certificate_mode_configuration_with_aes_passes_from_the_environment() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000303", true);
    let mut cmd = jobworth(BIN);
    cmd.env("ALIPAY_ENDPOINT", &sandbox.base_url)
        .env("ALIPAY_APP_ID", &app.app_id)
        .env("ALIPAY_PRIVATE_KEY", &app.private_key)
        .env("ALIPAY_APP_CERT", &app.app_cert)
        .env("ALIPAY_CERT", &app.alipay_cert)
        .env("ALIPAY_ROOT_CERT", &app.alipay_root_cert)
        .env("ALIPAY_ENCRYPT_KEY", app.encrypt_key.as_deref().unwrap());
    let (code, report) = doctor_in(&mut cmd, &[]);
    assert_eq!(code, 0, "{report}");
    for name in [
        "app-cert",
        "app-cert-validity",
        "alipay-root-cert",
        "alipay-cert",
        "alipay-cert-validity",
        "alipay-cert-chain",
    ] {
        assert_eq!(check(&report, name)["ok"], true, "{name}");
    }
    let sns = check(&report, "cert-sns")["detail"].as_str().unwrap();
    for field in ["app_cert_sn", "alipay_root_cert_sn", "alipay_cert_sn"] {
        assert!(sns.contains(app.registration[field].as_str().unwrap()), "{field}: {sns}");
    }
    assert_eq!(check(&report, "mode")["detail"], "certificate mode, AES on");
    assert!(check(&report, "encrypt-key")["detail"].as_str().unwrap().contains("16 bytes"));
    assert_eq!(check(&report, "server-key")["ok"], true);
    assert!(!report.to_string().contains(app.encrypt_key.as_deref().unwrap()), "the AES key is never printed");
}

#[test]
fn broken_key_mode_configurations_fail_their_check() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000304", false);
    let other = AppFiles::register(&sandbox, "2021000000000305", false);
    let good = key_mode(&sandbox, &app);

    // The app's own public key where Alipay's belongs.
    let (code, report) = doctor(&with(good.clone(), "--alipay-public-key", &app.public_key));
    assert_fails(code, &report, "alipay-key-is-not-app-key", "app's own public key", "/sandbox/alipay-public-key");
    // Another Alipay key than the server's (production's against the sandbox).
    let (code, report) =
        doctor(&with(good.clone(), "--alipay-public-key", fixture_path("alipay-stable-rsa2-public-key-bare.txt")));
    assert_fails(code, &report, "server-key", "does not verify", "production key against a sandbox");
    assert_eq!(failed(&report), ["\"server-key\""]);
    // The registered public key is not the pair of the private key.
    let mut args = good.clone();
    args.extend(os(&[&"--app-public-key", &other.public_key]));
    let (code, report) = doctor(&args);
    assert_fails(code, &report, "app-public-key", "but the private key's public half is", "jobworth keys generate");
    // An AES key of the wrong length (15 bytes).
    let mut args = good.clone();
    args.extend(os(&[&"--encrypt-key", &"AAECAwQFBgcICQoLDA0O"]));
    let (code, report) = doctor(&args);
    assert_fails(code, &report, "encrypt-key", "15 bytes after base64; AES needs 16, 24 or 32", "AES key");
    assert!(!report.to_string().contains("AAECAwQFBgcICQoLDA0O"));
    // A private key that does not parse; the kinds a new user has at hand are named.
    let dir = tempfile::tempdir().unwrap();
    for (path, words) in odd_keys::write_all(dir.path()) {
        let (code, report) = doctor(&with(good.clone(), "--private-key", &path));
        assert_fails(code, &report, "private-key", words, "");
        assert!(!report.to_string().contains("TooSmall"), "{report}");
    }
    let (code, report) = doctor(&with(good.clone(), "--private-key", &app.public_key));
    assert_fails(code, &report, "private-key", "public key or a certificate", "private key");
    let (code, report) = doctor(&with(good, "--private-key", dir.path().join("missing.pem")));
    assert_fails(code, &report, "private-key", "missing.pem", "--private-key");
}

#[test]
fn broken_certificate_mode_configurations_fail_their_check() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000306", false);
    let other = AppFiles::register(&sandbox, "2021000000000307", false);
    let good = cert_mode(&sandbox, &app);
    let (code, report) = doctor(&good);
    assert_eq!(code, 0, "{report}");

    // Another app's certificate.
    let (code, report) = doctor(&with(good.clone(), "--app-cert", &other.app_cert));
    assert_fails(code, &report, "app-cert", "but the private key's public half is", "issued for this private key");
    // The Alipay certificate given as the root bundle.
    let (code, report) = doctor(&with(good.clone(), "--alipay-root-cert", &app.alipay_cert));
    assert_fails(code, &report, "alipay-root-cert", "not the root bundle", "alipayRootCert.crt");
    assert_fails(code, &report, "alipay-cert-chain", "Jobworth Sandbox Root CA R1", "same environment");
    // Production's (expired) Alipay certificate against the sandbox's root: dates, chain, and the
    // server signs as another certificate.
    let (code, report) = doctor(&with(good.clone(), "--alipay-cert", fixture_path("alipayCertPublicKey_RSA2.crt")));
    assert_fails(code, &report, "alipay-cert-validity", "expired on 2022-05-14", "alipayCertPublicKey_RSA2.crt");
    assert_fails(
        code,
        &report,
        "alipay-cert-chain",
        "Ant Financial Certification Authority Class 2 R1",
        "same environment",
    );
    assert_fails(code, &report, "server-key", "does not verify", "production and sandbox differ");
    // The app's own certificate where Alipay's belongs.
    let (code, report) = doctor(&with(good.clone(), "--alipay-cert", &app.app_cert));
    assert_fails(code, &report, "alipay-key-is-not-app-key", "app's own public key", "Alipay's public key");
    // Something that is no certificate.
    let (code, report) = doctor(&with(good.clone(), "--app-cert", &app.public_key));
    assert_fails(code, &report, "app-cert", "not a usable certificate", "BEGIN CERTIFICATE");
    // Production's root bundle: four roots, none of them the sandbox's.
    let (code, report) = doctor(&with(good, "--alipay-root-cert", fixture_path("alipayRootCert.crt")));
    assert_eq!(check(&report, "alipay-root-cert")["detail"], "4 self-signed root certificate(s)");
    assert_fails(code, &report, "alipay-cert-chain", "not signed by any root", "same environment");
}

#[test]
fn mode_checks_need_one_complete_mode() {
    let key = fixture_path("app-private-key-pkcs1.pem");
    let base = os(&[&"--app-id", &"2021000000000308", &"--private-key", &key]);
    let (code, report) = doctor(&base);
    assert_fails(code, &report, "mode", "no way to verify answers", "--alipay-public-key PATH");
    // Without --endpoint nothing is sent: no reachability or clock check.
    assert!(report["checks"].as_array().unwrap().iter().all(|c| c["name"] != "clock" && c["name"] != "reachable"));
    assert!(check(&report, "endpoint")["detail"].as_str().unwrap().contains("the default"));

    let mut half = base.clone();
    half.extend(os(&[&"--app-cert", &fixture_path("appCertPublicKey_2021001161683774.crt")]));
    let (code, report) = doctor(&half);
    assert_fails(code, &report, "mode", "half-configured", "--alipay-root-cert");
    let mut both = half.clone();
    both.extend(os(&[
        &"--alipay-cert",
        &fixture_path("alipayCertPublicKey_RSA2.crt"),
        &"--alipay-root-cert",
        &fixture_path("alipayRootCert.crt"),
        &"--alipay-public-key",
        &fixture_path("alipay-stable-rsa2-public-key-bare.txt"),
    ]));
    let (code, report) = doctor(&both);
    assert_fails(code, &report, "mode", "both key mode", "use one of them");
}

#[test]
fn endpoint_checks() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000309", false);
    let good = key_mode(&sandbox, &app);
    let base = &sandbox.base_url;

    // Not a base URL: the v2 gateway, or an API path.
    let (code, report) = doctor(&with(good.clone(), "--endpoint", format!("{base}/gateway.do")));
    assert_fails(code, &report, "endpoint", "v2 gateway", &format!("use --endpoint {base}"));
    let (code, report) =
        doctor(&with(good.clone(), "--endpoint", format!("{base}/v3/zhima/customer/jobworth/authentication")));
    assert_fails(code, &report, "endpoint", "/v3/", &format!("use --endpoint {base}"));
    // https against the plain-http sandbox.
    let https = base.replacen("http://", "https://", 1);
    let (code, report) = doctor(&with(good.clone(), "--endpoint", &https));
    assert_fails(
        code,
        &report,
        "reachable",
        "cannot reach",
        &format!("the server speaks plain http, not TLS: use {base}"),
    );
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, report) = doctor(&with(good.clone(), "--endpoint", &url));
    assert_fails(code, &report, "reachable", "cannot reach", "jobworth sandbox");

    // A server whose clock is 20 minutes ahead.
    let (url, server) = one_answer(alipay_v3::now_millis() + 20 * 60_000);
    let (code, report) = doctor(&with(good, "--endpoint", &url));
    server.join().unwrap();
    assert_fails(code, &report, "clock", "s ahead of this machine's", "NTP");
    let detail = check(&report, "clock")["detail"].as_str().unwrap();
    let secs: f64 = detail.strip_prefix("the server's clock is ").unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((1190.0..1210.0).contains(&secs), "{detail}");
}

/// A loopback server that answers one request with an unsigned 401 carrying `alipay-timestamp`.
fn one_answer(timestamp_ms: u64) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let body = r#"{"code":"missing-signature","message":"no authorization"}"#;
        let answer = format!(
            "HTTP/1.1 401 X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\
             alipay-timestamp: {timestamp_ms}\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(answer.as_bytes());
    });
    (url, thread)
}
