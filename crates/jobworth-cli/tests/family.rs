//! The family subcommands (`work-card`, `cloud-resume`, `job-data add`, `picture upload`,
//! `position add`, `credit-agreement`) through the real binary against a `jobworth sandbox`
//! process: key and certificate mode, `--json` and human output, what the control plane then
//! lists, and the exit codes of a refusal (3: an error status, and a 200 with `sub_code`) and of a
//! usage error (2); the once_token's file and environment forms, for the résumé and the query.

use std::path::Path;
use std::process::Command;

use jobworth_testkit::process::*;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

/// Connection flags of key mode or certificate mode for `app`.
fn connected(sandbox: &SandboxProcess, app: &AppFiles, cert: bool, words: &[&str]) -> Command {
    let mut cmd = sandbox.jobworth();
    cmd.args(words).args(["--endpoint", &sandbox.base_url, "--app-id", &app.app_id, "--private-key"]);
    cmd.arg(&app.private_key);
    if cert {
        cmd.arg("--app-cert").arg(&app.app_cert).arg("--alipay-cert").arg(&app.alipay_cert);
        cmd.arg("--alipay-root-cert").arg(&app.alipay_root_cert);
    } else {
        cmd.arg("--alipay-public-key").arg(&app.alipay_public_key);
    }
    cmd
}

/// Runs `cmd` expecting `exit`; returns the one JSON object it printed on stdout.
fn json_of(cmd: &mut Command, exit: i32, sandbox: &SandboxProcess) -> (Value, String) {
    let (code, out, err) = run(cmd.arg("--json"));
    assert_eq!(code, exit, "stdout {out}\nstderr {err}\n{}", sandbox.log_text());
    assert_eq!(out.lines().count(), 1, "one JSON object on one line: {out}");
    (serde_json::from_str(out.trim()).unwrap(), err)
}

fn listed(sandbox: &SandboxProcess, app: &AppFiles, what: &str) -> Vec<Value> {
    let (status, v) = control("GET", &format!("{}/sandbox/apps/{}/{what}", sandbox.base_url, app.app_id), None);
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(64, 0);
    b
}

/// Every subcommand once, for the teacher of `auth`; what the sandbox stored is listed after.
fn each_subcommand(sandbox: &SandboxProcess, app: &AppFiles, auth: &Authorization, cert: bool) {
    let files = tempfile::tempdir().unwrap();
    let cmd = |words: &[&str]| connected(sandbox, app, cert, words);

    let (card, _) = json_of(
        cmd(&["work-card"]).args(["--user-id", &auth.user_id, "--conn-key", &auth.conn_key, "--has-html", "true"]),
        0,
        sandbox,
    );
    for link in ["url", "html_url", "picture_url"] {
        assert!(card[link].as_str().unwrap().starts_with(&sandbox.base_url), "{link}: {card}");
    }
    assert!(card.get("sub_code").is_none(), "{card}");

    // The token from the environment; it is never printed.
    let (resume, err) = json_of(
        cmd(&["cloud-resume", "--conn-key", &auth.conn_key]).env("ALIPAY_ONCE_TOKEN", &auth.once_token),
        0,
        sandbox,
    );
    assert!(resume["user_name"].as_str().is_some_and(|n| !n.is_empty()), "{resume}");
    assert!(!resume["education_experiences"].as_array().unwrap().is_empty(), "{resume}");
    assert!(!resume.to_string().contains(&auth.once_token) && !err.contains(&auth.once_token));
    // It answers once: the second read (token from a file) is refused, exit 3.
    let token_file = write(files.path(), "token", format!("{}\n", auth.once_token).as_bytes());
    let (again, err) = json_of(
        cmd(&["cloud-resume", "--conn-key", &auth.conn_key]).arg("--once-token-file").arg(&token_file),
        3,
        sandbox,
    );
    assert_eq!(again["code"], "INVALID_PARAMETER", "{again}");
    assert_eq!(again["http_status"], 400, "{again}");
    assert!(err.contains("INVALID_PARAMETER") && err.contains("trace id"), "{err}");
    assert!(!err.contains(&auth.once_token), "{err}");

    let pic = write(files.path(), "photo.png", &png());
    let (uploaded, _) =
        json_of(cmd(&["picture", "upload"]).arg(&pic).args(["--pic-type", "JOB_DATA_UPLOAD"]), 0, sandbox);
    let pic_id = uploaded["pic_id"].as_str().unwrap().to_string();
    let pictures = listed(sandbox, app, "pictures");
    assert!(pictures.iter().any(|p| p["pic_id"] == pic_id.as_str() && p["size"] == 64), "{pictures:?}");

    let jobs = json!([
        {"type": "WORK", "company_name": "北京市朝阳区实验中学", "job_name": "高中数学教师", "head_pic_id": pic_id},
        {"type": "SKILL", "skill_name": "板书"}
    ]);
    let jobs_file = write(files.path(), "jobs.json", jobs.to_string().as_bytes());
    let (added, _) =
        json_of(cmd(&["job-data", "add", "--user-id", &auth.user_id]).arg("--file").arg(&jobs_file), 0, sandbox);
    let acceptance = added["acceptance_id"].as_str().unwrap();
    let rows = listed(sandbox, app, "job-data");
    let row = rows.iter().find(|r| r["acceptance_id"] == acceptance).unwrap();
    assert_eq!(row["user_id"], auth.user_id.as_str());
    assert_eq!(row["job_data_list"][0]["job_name"], "高中数学教师");
    assert_eq!(row["job_data_list"][1]["skill_name"], "板书");

    let pos = json!({"ka_position_id": format!("KA-{cert}"), "position_title": "高中数学教师",
                     "company_name": "北京市朝阳区实验中学", "count": 2});
    let pos_file = write(files.path(), "pos.json", pos.to_string().as_bytes());
    let (position, _) = json_of(cmd(&["position", "add"]).arg("--file").arg(&pos_file), 0, sandbox);
    let position_id = position["position_id"].as_str().unwrap();
    let positions = listed(sandbox, app, "positions");
    let stored = positions.iter().find(|p| p["position_id"] == position_id).unwrap();
    assert_eq!(stored["jobworth_position_info"]["position_title"], "高中数学教师");

    let (agreement, _) = json_of(&mut cmd(&["credit-agreement", "--out-agreement-no", &auth.conn_key]), 0, sandbox);
    assert_eq!(agreement["agreement_status"], "VALID", "{agreement}");
    assert_eq!(agreement["alipay_user_id"], auth.user_id.as_str());
    let id = agreement["credit_agreement_id"].as_str().unwrap();
    let (by_id, _) = json_of(&mut cmd(&["credit-agreement", "--credit-agreement-id", id]), 0, sandbox);
    assert_eq!(by_id, agreement);
    // A documented error: an agreement number of no desk, exit 3.
    let (unknown, err) = json_of(&mut cmd(&["credit-agreement", "--out-agreement-no", "never-sent"]), 3, sandbox);
    assert_eq!(unknown["code"], "CREDIT_AGREEMENT_NOT_EXIST", "{unknown}");
    assert!(err.contains("CREDIT_AGREEMENT_NOT_EXIST"), "{err}");
}

#[test]
fn every_subcommand_in_key_mode() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000301", "teacher");
    each_subcommand(&sandbox, &app, &auth, false);
    sandbox.stop();
}

#[test]
fn every_subcommand_in_certificate_mode() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000302", "teacher");
    each_subcommand(&sandbox, &app, &auth, true);
    sandbox.stop();
}

#[test]
fn human_output_shows_the_fields_and_the_mode() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000303", "teacher");
    let (code, out, err) =
        run(&mut connected(&sandbox, &app, false, &["work-card", "--user-id", &auth.user_id, "--has-qr-code", "true"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("work card") && out.contains(&format!("{}/workcard/", sandbox.base_url)), "{out}");
    assert!(out.contains("key mode, AES off"), "{out}");

    let (code, out, err) = run(connected(&sandbox, &app, true, &["cloud-resume", "--conn-key", &auth.conn_key])
        .args(["--once-token", &auth.once_token]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("education_experiences[0].school_name"), "{out}");
    assert!(out.contains("certificate mode, AES off"), "{out}");
    assert!(!out.contains(&auth.once_token), "{out}");
    sandbox.stop();
}

#[test]
fn a_sub_code_answer_exits_3_with_the_answer() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000304", "no-zhima");
    let mut cmd = connected(&sandbox, &app, false, &["work-card", "--user-id", &auth.user_id]);
    let (answer, err) = json_of(&mut cmd, 3, &sandbox);
    assert_eq!(answer["sub_code"], "USER_NOT_OPEN_ZHIMA", "{answer}");
    assert!(answer["sub_msg"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    assert!(err.contains("sub_code USER_NOT_OPEN_ZHIMA (HTTP 200)") && err.contains("trace id"), "{err}");
    // Human form: the same exit, one error line and the trace id.
    let (code, out, err) = run(&mut connected(&sandbox, &app, false, &["work-card", "--user-id", &auth.user_id]));
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.starts_with("error: the API answered sub_code USER_NOT_OPEN_ZHIMA"), "{err}");
    sandbox.stop();
}

#[test]
fn usage_errors_exit_2_before_anything_is_sent() {
    let sandbox = SandboxProcess::start(BIN);
    let app = AppFiles::register(&sandbox, "2021000000000305", false);
    let files = tempfile::tempdir().unwrap();
    let gif = write(files.path(), "anim.gif", b"GIF89a\x01\x00\x01\x00");
    let (v, err) = json_of(connected(&sandbox, &app, false, &["picture", "upload"]).arg(&gif), 2, &sandbox);
    assert_eq!(v["code"], "config-error", "{v}");
    assert!(err.contains("PICTURE_TYPE_ERROR"), "{err}");
    let big = write(files.path(), "big.png", &[png(), vec![0; 1024 * 1024]].concat());
    let (code, _, err) = run(connected(&sandbox, &app, false, &["picture", "upload"]).arg(&big));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("PICTURE_UPLOAD_LIMIT_ERROR"), "{err}");

    let (code, _, err) = run(&mut connected(&sandbox, &app, false, &["credit-agreement"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&mut connected(&sandbox, &app, false, &["cloud-resume", "--conn-key", "c"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("once_token is required"), "{err}");
    let (code, _, err) = run(connected(&sandbox, &app, false, &["cloud-resume", "--conn-key", "c"])
        .args(["--once-token", "t"])
        .env("ALIPAY_ONCE_TOKEN", "t"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than once"), "{err}");
    let not_json = write(files.path(), "jobs.json", b"[{\"type\": ");
    let (code, _, err) = run(connected(&sandbox, &app, false, &["job-data", "add"]).arg("--file").arg(&not_json));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not JSON"), "{err}");
    let (code, _, err) = run(&mut connected(&sandbox, &app, false, &["work-card", "--cert-no", "110105200002290021"]));
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("110105200002290021"), "{err}");
    // Nothing reached the gateway.
    for what in ["pictures", "job-data"] {
        assert!(listed(&sandbox, &app, what).is_empty(), "{what}");
    }
    sandbox.stop();
}

#[test]
fn the_query_takes_its_once_token_from_a_file_or_the_environment() {
    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000306", "teacher");
    let files = tempfile::tempdir().unwrap();
    let token_file = write(files.path(), "token", format!("{}\r\n", auth.once_token).as_bytes());
    let flags: Vec<String> = query_flags(&auth);
    let at = flags.iter().position(|f| f == "--once-token").unwrap();
    let without: Vec<&String> =
        flags.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, f)| f).collect();
    let query = || {
        let mut cmd = connected(&sandbox, &app, false, &["query"]);
        cmd.args(&without);
        cmd
    };
    let (v, err) = json_of(query().arg("--once-token-file").arg(&token_file), 0, &sandbox);
    assert_eq!(v["identity_result"], "SUCCESS", "{v}");
    assert!(!err.contains(&auth.once_token), "{err}");
    // The same token again, from the environment: read once, so TOKEN_INVALID.
    let (v, err) = json_of(query().env("ALIPAY_ONCE_TOKEN", &auth.once_token), 3, &sandbox);
    assert_eq!(v["code"], "TOKEN_INVALID", "{v}");
    assert!(!err.contains(&auth.once_token), "{err}");
    let (code, _, err) = run(&mut query());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a once_token is required"), "{err}");
    sandbox.stop();
}
