//! Subcommands that need no server: `keys generate`, `cert-sn`, `order-string`, `--help`/`--version`,
//! and every usage/configuration error of `query` (exit 2, one line that says what to fix).

use assert_cmd::assert::OutputAssertExt;
use jobworth_testkit::fixtures::fixture_path;
use jobworth_testkit::process::{jobworth, run, ALIPAY_VARS};
use predicates::prelude::*;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

const APP_CERT_SN: &str = "866efef280dec9137a87d047ac446315";
const ROOT_SN: &str = "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6";

#[test]
fn version_and_help() {
    jobworth(BIN).arg("--version").assert().success().stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    let (code, out, _) = run(jobworth(BIN).arg("--help"));
    assert_eq!(code, 0);
    for sub in ["demo", "query", "sandbox", "order-string", "keys", "cert-sn", "bench"] {
        assert!(out.contains(sub), "--help lists {sub}");
    }
    let (code, out, _) = run(jobworth(BIN).args(["query", "--help"]));
    assert_eq!(code, 0);
    for env in ALIPAY_VARS {
        assert!(out.contains(env), "query --help shows the {env} fallback");
    }
    assert!(out.contains("https://openapi.alipay.com"));
    let (code, out, _) = run(jobworth(BIN).args(["sandbox", "--help"]));
    assert_eq!(code, 0);
    assert!(out.contains("127.0.0.1:8340") && out.contains(".jobworth-sandbox"));
}

#[test]
fn usage_errors_exit_2() {
    jobworth(BIN).assert().code(2);
    jobworth(BIN).arg("frobnicate").assert().code(2);
    jobworth(BIN).args(["cert-sn"]).assert().code(2);
    jobworth(BIN).args(["keys", "generate"]).assert().code(2).stderr(predicate::str::contains("--out"));
    jobworth(BIN).args(["sandbox", "--listen", "not-an-address"]).assert().code(2);
    jobworth(BIN).args(["sandbox", "--token-ttl", "-5"]).assert().code(2);
    jobworth(BIN)
        .args(["order-string", "--app-id", "1", "--private-key", "k", "--out-agreement-no", "a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--service-id"));
}

#[test]
fn sandbox_on_a_busy_port_exits_2_naming_the_flag() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let (code, out, err) = run(jobworth(BIN).args(["sandbox", "--listen", &addr, "--data"]).arg(data.path()));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no `listening on` line: {out}");
    assert!(err.contains(&addr) && err.contains("--listen"), "{err}");
}

#[test]
fn keys_generate_writes_a_loadable_pair_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("new/keys");
    let (code, out, err) = run(jobworth(BIN).args(["keys", "generate", "--out"]).arg(&out_dir));
    assert_eq!(code, 0, "{err}");
    let private_pem = std::fs::read_to_string(out_dir.join("app_private_key.pem")).unwrap();
    let public_pem = std::fs::read_to_string(out_dir.join("app_public_key.pem")).unwrap();
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let key = alipay_v3::keys::PrivateKey::parse(&private_pem).unwrap();
    let public = alipay_v3::keys::PublicKey::parse(&public_pem).unwrap();
    assert_eq!(key.public_key(), public, "the two files are one pair");
    public.verify(b"m", &key.sign(b"m")).unwrap();
    assert!(out.contains(&public.to_spki_base64()), "prints the one-line public key");
    assert!(!out.contains(&key.to_pkcs8_base64()[30..90]), "never prints the private key");
    assert!(!err.contains(&key.to_pkcs8_base64()[30..90]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out_dir.join("app_private_key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A second run must not destroy the key that may already be registered somewhere.
    let (code, _, err) = run(jobworth(BIN).args(["keys", "generate", "--out"]).arg(&out_dir));
    assert_eq!(code, 2);
    assert!(err.contains("already exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(out_dir.join("app_private_key.pem")).unwrap(), private_pem);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = out_dir.join("app_private_key.pem");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (code, _, err) = run(jobworth(BIN).args(["keys", "generate", "--force", "--out"]).arg(&out_dir));
    assert_eq!(code, 0, "{err}");
    let replaced = std::fs::read_to_string(out_dir.join("app_private_key.pem")).unwrap();
    assert_ne!(replaced, private_pem);
    let new_public =
        alipay_v3::keys::PublicKey::parse(&std::fs::read_to_string(out_dir.join("app_public_key.pem")).unwrap())
            .unwrap();
    assert_eq!(alipay_v3::keys::PrivateKey::parse(&replaced).unwrap().public_key(), new_public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out_dir.join("app_private_key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "--force also tightens an existing file");
    }
}

#[test]
fn cert_sn_of_the_fixture_certificates() {
    let app = fixture_path("appCertPublicKey_2021001161683774.crt");
    jobworth(BIN).arg("cert-sn").arg(&app).assert().success().stdout(format!("{APP_CERT_SN}\n"));
    let root = fixture_path("alipayRootCert.crt");
    jobworth(BIN).args(["cert-sn", "--root"]).arg(&root).assert().success().stdout(format!("{ROOT_SN}\n"));

    // DER input gives the same SN.
    let pem = std::fs::read_to_string(&app).unwrap();
    let der = alipay_v3::pem::decode_blocks(&pem).unwrap().remove(0).der;
    let dir = tempfile::tempdir().unwrap();
    let der_path = dir.path().join("app.der");
    std::fs::write(&der_path, der).unwrap();
    jobworth(BIN).arg("cert-sn").arg(&der_path).assert().success().stdout(format!("{APP_CERT_SN}\n"));

    // Not a certificate, or a missing file: exit 2 with the file named.
    let (code, _, err) = run(jobworth(BIN).arg("cert-sn").arg(fixture_path("app-public-key.pem")));
    assert_eq!(code, 2);
    assert!(err.contains("app-public-key.pem") && err.contains("certificate"), "{err}");
    let (code, _, err) = run(jobworth(BIN).args(["cert-sn", "/nonexistent/cert.crt"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/cert.crt"), "{err}");
}

#[test]
fn order_string_verifies_with_the_app_public_key() {
    let public =
        alipay_v3::keys::PublicKey::parse(&std::fs::read_to_string(fixture_path("app-public-key.pem")).unwrap())
            .unwrap();
    // Both key formats the fixtures hold: PKCS#1 PEM and bare base64 PKCS#8 (through the env var).
    for (flag_key, via_env) in [("app-private-key-pkcs1.pem", false), ("app-private-key-pkcs8-bare.txt", true)] {
        let mut cmd = jobworth(BIN);
        cmd.args([
            "order-string",
            "--out-agreement-no",
            "conn-7f3c1e2a",
            "--service-id",
            "2019120400000000000004450100",
            "--once-token",
            "tok-9b1d",
            "--identity-type",
            "teacher",
        ]);
        if via_env {
            cmd.env("ALIPAY_APP_ID", "2021000122671080").env("ALIPAY_PRIVATE_KEY", fixture_path(flag_key));
        } else {
            cmd.args(["--app-id", "2021000122671080", "--private-key"]).arg(fixture_path(flag_key));
        }
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 1);
        let params = alipay_v3::order::verify_order_string(out.trim(), &public).unwrap();
        let names: Vec<&str> = params.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["method", "app_id", "charset", "version", "sign_type", "timestamp", "biz_content", "sign"]);
        assert_eq!(params.get("method"), Some("zhima.credit.payafteruse.creditagreement.sign"));
        assert_eq!(params.get("app_id"), Some("2021000122671080"));
        assert_eq!(params.get("charset"), Some("utf-8"));
        assert_eq!(params.get("version"), Some("1.0"));
        assert_eq!(params.get("sign_type"), Some("RSA2"));
        let ts = params.get("timestamp").unwrap();
        assert_eq!(ts.len(), 19);
        assert_eq!(&ts[4..5], "-");
        assert_eq!(&ts[10..11], " ");
        let biz: serde_json::Value = serde_json::from_str(params.get("biz_content").unwrap()).unwrap();
        assert_eq!(biz["out_agreement_no"], "conn-7f3c1e2a");
        assert_eq!(biz["zm_service_id"], "2019120400000000000004450100");
        let extra: serde_json::Value = serde_json::from_str(biz["extra_param"].as_str().unwrap()).unwrap();
        assert_eq!(extra, serde_json::json!({"onceToken": "tok-9b1d", "identityType": "04"}));

        // Tampering breaks the signature.
        let tampered = out.trim().replace("conn-7f3c1e2a", "conn-7f3c1e2b");
        assert!(alipay_v3::order::verify_order_string(&tampered, &public).is_err());
    }
}

#[test]
fn order_string_configuration_errors() {
    let (code, _, err) = run(jobworth(BIN).args([
        "order-string",
        "--app-id",
        "1",
        "--private-key",
        "/nonexistent/key.pem",
        "--out-agreement-no",
        "a",
        "--service-id",
        "s",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--private-key") && err.contains("/nonexistent/key.pem"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    jobworth(BIN)
        .args(["order-string", "--app-id", "1", "--private-key"])
        .arg(fixture_path("app-private-key-pkcs1.pem"))
        .args(["--out-agreement-no", "a", "--service-id", "s", "--identity-type", "professor"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--identity-type"));
}

/// `query` flags that point at a loopback address nobody listens on: configuration errors must be
/// reported before anything is sent, so the address never matters.
fn query_base() -> std::process::Command {
    let mut cmd = jobworth(BIN);
    cmd.args([
        "query",
        "--endpoint",
        "http://127.0.0.1:9",
        "--app-id",
        "2021000000000001",
        "--conn-key",
        "c",
        "--once-token",
        "t",
        "--service-id",
        "s",
    ]);
    cmd
}

fn config_error(cmd: &mut std::process::Command, must_mention: &[&str]) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for m in must_mention {
        assert!(err.contains(m), "{err:?} mentions {m}");
    }
    err
}

#[test]
fn query_configuration_errors_exit_2_with_one_line() {
    let key = fixture_path("app-private-key-pkcs1.pem");
    let pubkey = fixture_path("app-public-key.pem");

    // Missing key file.
    config_error(
        query_base().args(["--private-key", "/nonexistent/app_private_key.pem", "--alipay-public-key"]).arg(&pubkey),
        &["--private-key", "/nonexistent/app_private_key.pem"],
    );
    // A key in the wrong format: a public key where the private key belongs, and garbage.
    config_error(
        query_base().arg("--private-key").arg(&pubkey).arg("--alipay-public-key").arg(&pubkey),
        &["--private-key", "private key"],
    );
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not a key\n").unwrap();
    config_error(
        query_base().arg("--private-key").arg(&garbage).arg("--alipay-public-key").arg(&pubkey),
        &["--private-key", "garbage.pem"],
    );
    config_error(
        query_base().arg("--private-key").arg(&key).arg("--alipay-public-key").arg(&garbage),
        &["--alipay-public-key"],
    );
    // A private key where the Alipay public key belongs.
    config_error(
        query_base().arg("--private-key").arg(&key).arg("--alipay-public-key").arg(&key),
        &["--alipay-public-key"],
    );
    // Key material pasted where a path belongs is refused without being echoed.
    let pasted = std::fs::read_to_string(fixture_path("app-private-key-pkcs8-bare.txt")).unwrap();
    let err = config_error(
        query_base().env("ALIPAY_PRIVATE_KEY", pasted.trim()).arg("--alipay-public-key").arg(&pubkey),
        &["--private-key", "PATH"],
    );
    assert!(!err.contains(&pasted.trim()[20..60]), "{err}");
    // No way to verify responses.
    config_error(query_base().arg("--private-key").arg(&key), &["--alipay-public-key", "--app-cert"]);
    // Certificate mode half-configured (flags and environment variables count alike).
    config_error(
        query_base()
            .arg("--private-key")
            .arg(&key)
            .arg("--app-cert")
            .arg(fixture_path("appCertPublicKey_2021001161683774.crt"))
            .env("ALIPAY_CERT", fixture_path("alipayCertPublicKey_RSA2.crt")),
        &["half", "--alipay-root-cert", "ALIPAY_ROOT_CERT"],
    );
    // Both modes at once.
    config_error(
        query_base()
            .arg("--private-key")
            .arg(&key)
            .arg("--alipay-public-key")
            .arg(&pubkey)
            .arg("--app-cert")
            .arg(fixture_path("appCertPublicKey_2021001161683774.crt"))
            .arg("--alipay-cert")
            .arg(fixture_path("alipayCertPublicKey_RSA2.crt"))
            .arg("--alipay-root-cert")
            .arg(fixture_path("alipayRootCert.crt")),
        &["--alipay-public-key", "certificate mode"],
    );
    // A certificate flag pointing at something that is not a certificate.
    config_error(
        query_base()
            .arg("--private-key")
            .arg(&key)
            .arg("--app-cert")
            .arg(&pubkey)
            .arg("--alipay-cert")
            .arg(fixture_path("alipayCertPublicKey_RSA2.crt"))
            .arg("--alipay-root-cert")
            .arg(fixture_path("alipayRootCert.crt")),
        &["--app-cert"],
    );
    // A bad AES key: named, and its value not echoed.
    let err = config_error(
        query_base()
            .arg("--private-key")
            .arg(&key)
            .arg("--alipay-public-key")
            .arg(&pubkey)
            .args(["--encrypt-key", "c2VjcmV0LXZhbHVl"]),
        &["--encrypt-key"],
    );
    assert!(!err.contains("c2VjcmV0LXZhbHVl"));
}

#[test]
fn query_bad_enum_values_exit_2() {
    let key = fixture_path("app-private-key-pkcs1.pem");
    let pubkey = fixture_path("app-public-key.pem");
    for (flags, mention) in [
        (vec!["--query-type", "fuzzy"], "--query-type"),
        (vec!["--identity-type", "professor"], "--identity-type"),
        (vec!["--cert-type", "9", "--cert-no", "110101199003070011"], "--cert-type"),
        (vec!["--cert-no", "110101199003070011"], "--cert-type"),
        (vec!["--timeout", "0"], "--timeout"),
    ] {
        let (code, out, err) =
            run(query_base().arg("--private-key").arg(&key).arg("--alipay-public-key").arg(&pubkey).args(&flags));
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(mention), "{flags:?}: {err}");
        assert!(!err.contains("110101199003070011"), "cert_no is not echoed: {err}");
    }
    // Required query parameters.
    let (code, _, err) = run(jobworth(BIN).args(["query", "--app-id", "1", "--private-key"]).arg(&key).args([
        "--once-token",
        "t",
        "--service-id",
        "s",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--conn-key"), "{err}");
}
