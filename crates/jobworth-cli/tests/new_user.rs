//! What a new user trips over, each through the real binary: mistakes caught before the
//! once_token is spent (proved by the same token answering afterwards), messages that name the
//! setting actually used and say in words what is wrong, `--json` error objects, and the mode in
//! use shown in human output.

mod odd_keys;

use jobworth_testkit::fixtures::*;
use jobworth_testkit::process::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

fn json_line(out: &str) -> Value {
    assert_eq!(out.lines().count(), 1, "one JSON object on one line: {out}");
    serde_json::from_str(out.trim()).unwrap()
}

/// The token was not spent: the correct query still gets the result.
fn still_answers(sandbox: &SandboxProcess, app: &AppFiles, auth: &Authorization) {
    let (code, out, err) =
        run(query_cmd(sandbox, app, auth).arg("--alipay-public-key").arg(&app.alipay_public_key).arg("--json"));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json_line(&out)["identity_result"], "SUCCESS");
}

#[test]
fn mistakes_are_refused_before_the_once_token_is_spent() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000401", false);
    let auth = authorize(&sandbox, &app, "teacher");

    // The app's own public key configured as Alipay's.
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&app.public_key));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.starts_with("error: --alipay-public-key ") && err.contains("app's own public key"), "{err}");
    assert!(err.contains("  hint: ") && err.contains("/sandbox/alipay-public-key"), "{err}");
    // The same in certificate mode: the app certificate where Alipay's belongs.
    let (code, _, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&app.app_cert)
        .arg("--alipay-cert")
        .arg(&app.app_cert)
        .arg("--alipay-root-cert")
        .arg(&app.alipay_root_cert));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--alipay-cert") && err.contains("app's own public key"), "{err}");
    // A non-root certificate as the root bundle.
    let (code, _, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&app.app_cert)
        .arg("--alipay-cert")
        .arg(&app.alipay_cert)
        .arg("--alipay-root-cert")
        .arg(&app.alipay_cert));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--alipay-root-cert") && err.contains("not the root bundle"), "{err}");
    assert!(err.contains("hint: give the Alipay root certificate bundle"), "{err}");
    // No --query-type: a usage error, not the gateway's refusal.
    let flags: Vec<String> = query_flags(&auth);
    let i = flags.iter().position(|f| f == "--query-type").unwrap();
    let without: Vec<&String> =
        flags.iter().enumerate().filter(|(j, _)| *j != i && *j != i + 1).map(|(_, f)| f).collect();
    let (code, out, err) = run(jobworth(BIN)
        .args(["query", "--endpoint", &sandbox.base_url, "--app-id", &app.app_id, "--private-key"])
        .arg(&app.private_key)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key)
        .args(without));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--query-type is required") && err.contains("exact") && err.contains("dim"), "{err}");

    still_answers(&sandbox, &app, &auth);
}

#[test]
fn identity_type_4_is_sent_as_04() {
    // Identity types are two-digit codes compared as text (the SDK's IdentityType::Teacher is "04"):
    // a single digit gets its leading zero, in the query and in the order string.
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000402", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let flags: Vec<String> =
        query_flags(&auth).into_iter().map(|f| if f == "04" { "4".to_string() } else { f }).collect();
    assert!(flags.contains(&"4".to_string()));
    let (code, out, err) = run(jobworth(BIN)
        .args(["query", "--endpoint", &sandbox.base_url, "--app-id", &app.app_id, "--private-key"])
        .arg(&app.private_key)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key)
        .args(&flags)
        .arg("--json"));
    assert_eq!(code, 0, "{out}{err}\n{}", sandbox.log_text());
    assert_eq!(json_line(&out)["identity_result"], "SUCCESS");

    let (code, out, err) = run(jobworth(BIN)
        .args(["order-string", "--app-id", "2021000122671080", "--private-key"])
        .arg(fixture_path("app-private-key-pkcs1.pem"))
        .args(["--out-agreement-no", "c", "--service-id", SERVICE_ID, "--identity-type", "4"]));
    assert_eq!(code, 0, "{err}");
    let public =
        alipay_v3::keys::PublicKey::parse(&std::fs::read_to_string(fixture_path("app-public-key.pem")).unwrap())
            .unwrap();
    let params = alipay_v3::order::verify_order_string(out.trim(), &public).unwrap();
    let biz: Value = serde_json::from_str(params.get("biz_content").unwrap()).unwrap();
    assert_eq!(biz["extra_param"], r#"{"identityType":"04"}"#);
}

/// `jobworth query` aimed at a port nobody listens on: what is refused is refused before sending.
fn offline_query() -> std::process::Command {
    let mut cmd = jobworth(BIN);
    cmd.args(["query", "--endpoint", "http://127.0.0.1:9", "--app-id", "2021000000000403"]).args([
        "--conn-key",
        "c",
        "--once-token",
        "t",
        "--service-id",
        "s",
        "--query-type",
        "dim",
    ]);
    cmd
}

#[test]
fn messages_name_the_environment_variable_that_was_set() {
    let pubkey = fixture_path("app-public-key.pem");
    let mut cmd = offline_query();
    let (code, _, err) =
        run(cmd.env("ALIPAY_PRIVATE_KEY", "/nonexistent/key.pem").arg("--alipay-public-key").arg(&pubkey));
    assert_eq!(code, 2);
    assert!(err.contains("ALIPAY_PRIVATE_KEY (environment variable for --private-key) /nonexistent/key.pem"), "{err}");
    let mut cmd = offline_query();
    let (code, _, err) = run(cmd.args(["--private-key", "/nonexistent/key.pem"]).env("ALIPAY_PUBLIC_KEY", &pubkey));
    assert_eq!(code, 2);
    assert!(err.contains("--private-key /nonexistent/key.pem") && !err.contains("ALIPAY_PRIVATE_KEY"), "{err}");
    // The Alipay key from the environment, the order string's key too.
    let mut cmd = offline_query();
    let (code, _, err) = run(cmd
        .arg("--private-key")
        .arg(fixture_path("app-private-key-pkcs1.pem"))
        .env("ALIPAY_PUBLIC_KEY", fixture_path("app-private-key-pkcs1.pem")));
    assert_eq!(code, 2);
    assert!(err.contains("ALIPAY_PUBLIC_KEY (environment variable for --alipay-public-key)"), "{err}");
    let (code, _, err) = run(jobworth(BIN).env("ALIPAY_PRIVATE_KEY", "/nonexistent/key.pem").args([
        "order-string",
        "--app-id",
        "1",
        "--out-agreement-no",
        "a",
        "--service-id",
        "s",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("ALIPAY_PRIVATE_KEY (environment variable for --private-key)"), "{err}");
}

#[test]
fn unusable_keys_are_named_in_words() {
    let dir = tempfile::tempdir().unwrap();
    for (path, words) in odd_keys::write_all(dir.path()) {
        for sub in ["query", "order-string"] {
            let mut cmd = if sub == "query" {
                let mut cmd = offline_query();
                cmd.arg("--alipay-public-key").arg(fixture_path("app-public-key.pem"));
                cmd
            } else {
                let mut cmd = jobworth(BIN);
                cmd.args(["order-string", "--app-id", "1", "--out-agreement-no", "a", "--service-id", "s"]);
                cmd
            };
            let (code, out, err) = run(cmd.arg("--private-key").arg(&path));
            assert_eq!(code, 2, "{sub} {words}: {out}{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(words) && !err.contains("TooSmall"), "{sub}: {err}");
        }
    }
    let (_, _, err) = run(jobworth(BIN)
        .args(["order-string", "--app-id", "1", "--out-agreement-no", "a", "--service-id", "s", "--private-key"])
        .arg(dir.path().join("rsa1024.pem")));
    assert!(err.contains("RSA key is 1024 bits; Alipay needs 2048 bits or more"), "{err}");
    let (_, _, err) = run(jobworth(BIN)
        .args(["order-string", "--app-id", "1", "--out-agreement-no", "a", "--service-id", "s", "--private-key"])
        .arg(dir.path().join("encrypted.pem")));
    assert!(err.contains("openssl pkcs8"), "the way out is named: {err}");
}

#[test]
fn https_against_the_plain_http_sandbox_says_use_http() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000405", false);
    let https = sandbox.base_url.replacen("http://", "https://", 1);
    let mut cmd = jobworth(BIN);
    cmd.args(["query", "--endpoint", &https, "--app-id", &app.app_id, "--private-key"])
        .arg(&app.private_key)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key)
        .args(["--conn-key", "c", "--once-token", "t", "--service-id", SERVICE_ID, "--query-type", "dim"]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 4, "{out}{err}");
    let hint = format!("  hint: the server speaks plain http, not TLS: use {}", sandbox.base_url);
    assert!(err.lines().any(|l| l == hint), "{err}");
    let (code, out, _) = run(cmd.arg("--json"));
    assert_eq!(code, 4);
    let v = json_line(&out);
    assert_eq!(v["code"], "not-sent");
    assert_eq!(v["exit"], 4);
    assert_eq!(v["hint"], hint.trim_start().strip_prefix("hint: ").unwrap());
}

#[test]
fn a_verification_failure_is_a_message_and_hint_lines() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000406", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let wrong = fixture_path("alipay-stable-rsa2-public-key-bare.txt");
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&wrong));
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "error: response verification failed (HTTP 200): alipay-signature does not match the answer");
    let labels: Vec<&str> = lines[1..].iter().map(|l| l.trim_start().split(':').next().unwrap()).collect();
    assert_eq!(labels, ["trace id", "request", "hint", "note"], "{err}");
    assert!(lines.iter().all(|l| l.chars().count() < 200), "no ~600-character line: {err}");
    assert!(err.contains("jobworth doctor"), "{err}");

    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, _) = run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&wrong).arg("--json"));
    assert_eq!(code, 4);
    let v = json_line(&out);
    assert_eq!(v["code"], "verification-failed");
    assert_eq!(v["http_status"], 200);
    assert_eq!(v["message"], lines[0].strip_prefix("error: ").unwrap());
    assert!(v["trace_id"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert!(v.get("identity_result").is_none(), "the unverified answer is not printed: {v}");
}

/// Production's Alipay certificate and root (the official fixtures are Alipay's real files)
/// against the sandbox: exit 4 names both SNs, and the hint says which side is configured.
#[test]
fn production_certificates_against_the_sandbox_are_named() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000411", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let sandbox_sn = alipay_v3::cert::cert_sn(&std::fs::read_to_string(&app.alipay_cert).unwrap()).unwrap();
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--app-cert")
        .arg(&app.app_cert)
        .arg("--alipay-cert")
        .arg(fixture_path("alipayCertPublicKey_RSA2.crt"))
        .arg("--alipay-root-cert")
        .arg(fixture_path("alipayRootCert.crt")));
    assert_eq!(code, 4, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "error: response verification failed (HTTP 400): alipay-sn {sandbox_sn} is not the configured Alipay \
             certificate 7513daaaa48aa3ba2e4018d84402479c"
        )
    );
    let hint = lines.iter().find_map(|l| l.trim_start().strip_prefix("hint: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(hint.starts_with("configured with production's Alipay certificate"), "{hint}");
    assert!(hint.contains("against a sandbox on this machine"), "{hint}");
    // (HTTP 400: the sandbox refuses the production root SN, and signs the refusal.) An answer that
    // does not verify could have been a result: the note says the token may be spent.
    assert!(err.contains("note: the once_token may already have been consumed"), "{err}");
}

#[test]
fn json_error_objects_match_the_api_error_form() {
    // Exit 3 prints the API's error object; exit 2 and 4 print one with the same `code` and
    // `message` keys, so a script reads all three alike.
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000407", false);
    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, _) =
        run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&app.public_key).arg("--json"));
    assert_eq!(code, 2);
    let v = json_line(&out);
    assert_eq!(v["code"], "config-error");
    assert_eq!(v["exit"], 2);
    assert!(v["message"].as_str().unwrap().contains("app's own public key"), "{v}");
    assert!(v["hint"].as_str().unwrap().contains("Alipay's public key"), "{v}");
    // A usage error clap finds.
    let (code, out, err) = run(jobworth(BIN).args(["query", "--app-id", "1", "--private-key", "k", "--json"]));
    assert_eq!(code, 2, "{err}");
    let v = json_line(&out);
    assert_eq!(v["code"], "usage-error");
    assert!(v["message"].as_str().unwrap().contains("--conn-key"), "{v}");
    assert_eq!(v["hint"], "see `jobworth query --help`");
    assert!(err.contains("Usage:"), "clap's text still on stderr: {err}");
    // Exit 3, unchanged.
    still_answers(&sandbox, &app, &auth);
    let (code, out, _) =
        run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&app.alipay_public_key).arg("--json"));
    assert_eq!(code, 3);
    let v = json_line(&out);
    assert_eq!(v["code"], "TOKEN_INVALID");
    assert!(v.get("exit").is_none());
}

#[test]
fn token_invalid_says_start_a_new_step_1_once() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000408", false);
    let auth = authorize(&sandbox, &app, "teacher");
    still_answers(&sandbox, &app, &auth);
    let (code, _, err) = run(query_cmd(&sandbox, &app, &auth).arg("--alipay-public-key").arg(&app.alipay_public_key));
    assert_eq!(code, 3);
    assert_eq!(err.matches("start a new step 1").count(), 1, "{err}");
    assert!(err.contains("hint: the once_token is unknown, expired or already used"), "{err}");
}

#[test]
fn human_output_shows_the_mode_and_aes() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000409", true);
    let key = app.encrypt_key.clone().unwrap();
    let auth = authorize(&sandbox, &app, "teacher");
    let (code, out, err) = run(query_cmd(&sandbox, &app, &auth)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key)
        .args(["--encrypt-key", &key]));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("mode") && l.ends_with("key mode, AES on")), "{out}");
    assert!(!out.contains(&key));

    let plain = AppFiles::register(&sandbox, "2021000000000410", false);
    let auth = authorize(&sandbox, &plain, "teacher");
    let (code, out, err) = run(query_cmd(&sandbox, &plain, &auth)
        .arg("--app-cert")
        .arg(&plain.app_cert)
        .arg("--alipay-cert")
        .arg(&plain.alipay_cert)
        .arg("--alipay-root-cert")
        .arg(&plain.alipay_root_cert));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.ends_with("certificate mode, AES off")), "{out}");
}

#[test]
fn help_and_placeholders() {
    let (_, help, _) = run(jobworth(BIN).args(["query", "--help"]));
    let timeout = help.lines().skip_while(|l| !l.contains("--timeout")).take(4).collect::<Vec<_>>().join("\n");
    assert!(timeout.contains("[default: 10]"), "{timeout}");
    let (_, help, _) = run(jobworth(BIN).args(["doctor", "--help"]));
    for env in ALIPAY_VARS {
        assert!(help.contains(env), "doctor reads {env} as query does");
    }
    // A positional argument's placeholder is not printed as if it were a flag.
    for args in [&["cert-sn"][..], &["keys", "fingerprint"]] {
        let (code, _, err) = run(jobworth(BIN).args(args).arg("/nonexistent/other.pem"));
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains("FILE"), "{err}");
    }
}
