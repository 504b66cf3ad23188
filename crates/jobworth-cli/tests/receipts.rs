//! `jobworth query --receipt FILE` and `jobworth receipt verify FILE` through the real binary
//! against a running `jobworth sandbox`: the receipt of a result and of a signed error, mode 0600,
//! never overwritten, verified offline in key mode, certificate mode and with AES; exit 0, 4, 2.

use std::path::Path;

use jobworth_testkit::process::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

fn verify_key(sandbox: &SandboxProcess, file: &Path, key: &Path) -> (i32, String, String) {
    run(sandbox.jobworth().args(["receipt", "verify"]).arg(file).arg("--alipay-public-key").arg(key))
}

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[cfg(unix)]
fn mode(file: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_result_and_the_signed_error_after_it_each_leave_a_receipt_that_verifies() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000801", "teacher");
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("first.json");

    let (code, stdout, err) = run(key_query(&sandbox, &app, &auth).arg("--json").arg("--receipt").arg(&first));
    assert_eq!(code, 0, "{err}");
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["identity_result"], "SUCCESS");
    #[cfg(unix)]
    assert_eq!(mode(&first), 0o600);
    let receipt = read_json(&first);
    assert_eq!(receipt["format"], "jobworth-receipt/1");
    assert_eq!(receipt["status"], 200);
    assert!(receipt["request_target"].as_str().unwrap().contains(&auth.once_token));
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    // Verified offline: the body printed is the answer.
    let (code, body, err) = verify_key(&sandbox, &first, &app.alipay_public_key);
    assert_eq!(code, 0, "{err}");
    let body: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(body["identity_result"], "SUCCESS");
    assert_eq!(body["user_id"], result["user_id"]);
    assert!(err.contains("verified: HTTP 200 answer received "), "{err}");
    let (code, json_out, _) = run(sandbox
        .jobworth()
        .args(["receipt", "verify", "--json"])
        .arg(&first)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(json_out.trim()).unwrap();
    assert_eq!((v["verified"].as_bool(), v["status"].as_u64()), (Some(true), Some(200)));
    assert_eq!(v["body"]["identity_result"], "SUCCESS");

    // The same path again is refused before anything is sent (the token is not touched).
    let (code, _, err) = run(key_query(&sandbox, &app, &auth).arg("--receipt").arg(&first));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the file exists; receipts are never overwritten"), "{err}");
    assert_eq!(read_json(&first), receipt, "untouched");

    // The token is spent: the signed TOKEN_INVALID is kept too (exit 3, receipt written).
    let second = out.path().join("second.json");
    let (code, _, err) = run(key_query(&sandbox, &app, &auth).arg("--receipt").arg(&second));
    assert_eq!(code, 3, "{err}");
    assert_eq!(read_json(&second)["status"], 400);
    let (code, body, err) = verify_key(&sandbox, &second, &app.alipay_public_key);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(body.trim()).unwrap()["code"], "TOKEN_INVALID");

    // One changed byte of what the signature covers: exit 4, one line.
    let mut tampered = receipt.clone();
    let nonce = tampered["alipay_nonce"].as_str().unwrap().to_string();
    let flipped = if nonce.starts_with('a') { nonce.replacen('a', "b", 1) } else { format!("a{}", &nonce[1..]) };
    tampered["alipay_nonce"] = Value::String(flipped);
    let bad = out.path().join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let (code, stdout, err) = verify_key(&sandbox, &bad, &app.alipay_public_key);
    assert_eq!(code, 4, "{err}");
    assert!(stdout.is_empty(), "nothing unverified is printed: {stdout}");
    assert!(err.starts_with("error: the receipt ") && err.contains("does not verify"), "{err}");
    let (code, stdout, _) = run(sandbox
        .jobworth()
        .args(["receipt", "verify", "--json"])
        .arg(&bad)
        .arg("--alipay-public-key")
        .arg(&app.alipay_public_key));
    assert_eq!(code, 4);
    assert_eq!(serde_json::from_str::<Value>(stdout.trim()).unwrap()["code"], "receipt-not-verified");
    // The app's own key is not the one that signed.
    let (code, _, _) = verify_key(&sandbox, &first, &app.public_key);
    assert_eq!(code, 4);
    sandbox.stop();
}

#[test]
fn certificate_mode_and_aes_receipts_verify_with_the_certificates_and_the_key() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000802", true);
    let auth = authorize(&sandbox, &app, "teacher");
    let aes = app.encrypt_key.clone().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("r.json");
    let (code, _, err) = run(cert_query(&sandbox, &app, &auth).args(["--encrypt-key", &aes, "--receipt"]).arg(&file));
    assert_eq!(code, 0, "{err}");
    let receipt = read_json(&file);
    assert_eq!(receipt["encrypted"], true);
    assert!(receipt["alipay_sn"].as_str().is_some_and(|s| s.len() == 32), "{receipt}");

    let verify = |extra: &[&str]| {
        run(sandbox
            .jobworth()
            .args(["receipt", "verify"])
            .arg(&file)
            .arg("--alipay-cert")
            .arg(&app.alipay_cert)
            .arg("--alipay-root-cert")
            .arg(&app.alipay_root_cert)
            .args(extra))
    };
    let (code, body, err) = verify(&["--encrypt-key", &aes]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(body.trim()).unwrap()["identity_result"], "SUCCESS");
    // Without the key the body cannot be read: exit 4 with the fix.
    let (code, _, err) = verify(&[]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("the AES key is needed") && err.contains("hint: pass --encrypt-key"), "{err}");
    // The key does not leak into any output.
    let (_, stdout, err) = verify(&["--encrypt-key", &aes, "--json"]);
    assert!(!stdout.contains(&aes) && !err.contains(&aes));
    sandbox.stop();
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000803", false);
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"not\":\"a receipt\"}").unwrap();
    let key = app.alipay_public_key.display().to_string();
    let cert = app.alipay_cert.display().to_string();
    let (junk, missing) = (junk.display().to_string(), dir.path().join("missing.json").display().to_string());
    let cases: [(Vec<&str>, &str); 5] = [
        (vec![&junk], "required"),
        (vec![&junk, "--alipay-public-key", &key, "--alipay-cert", &cert], "cannot be used with"),
        (vec![&junk, "--alipay-cert", &cert], "--alipay-root-cert"),
        (vec![&junk, "--alipay-public-key", &key], "not a receipt"),
        (vec![&missing, "--alipay-public-key", &key], "cannot read the receipt"),
    ];
    for (args, says) in cases {
        let (code, _, err) = run(sandbox.jobworth().args(["receipt", "verify"]).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    sandbox.stop();
}
