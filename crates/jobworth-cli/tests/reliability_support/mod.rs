//! Helpers of the `reliability_*` tests: `jobworth sandbox` processes that can be SIGKILLed and
//! restarted on one data dir, an app registered over the control plane, and raw signed v3
//! queries whose answers are verified with the sandbox's Alipay key.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use alipay_v3::headers as h;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{request_uri, QueryEncoding};
use serde_json::{json, Value};

pub const SERVICE_ID: &str = "2019120400000000000004450100";
pub const AUTHENTICATION_PATH: &str = "/v3/zhima/customer/jobworth/authentication";

// The same clean-environment `jobworth` command as the other CLI tests.
#[path = "../common/mod.rs"]
mod common;
pub use common::jobworth;

/// One `jobworth sandbox` process. Killed (SIGKILL) on drop, so a failing test leaves nothing.
pub struct SandboxProc {
    child: Child,
    pub base_url: String,
    /// stderr of this process (its log).
    pub log: PathBuf,
}

impl SandboxProc {
    /// Starts `jobworth sandbox --listen 127.0.0.1:0 --data DATA` with `envs`, logging to `log`,
    /// and waits for its `listening on` line (at most 30 s).
    pub fn start(data: &Path, log: &Path, envs: &[(&str, &str)]) -> SandboxProc {
        let err = File::create(log).unwrap();
        let mut cmd = jobworth();
        cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err));
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep draining so the process never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sandbox did not announce itself; log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
            }
        };
        let base_url = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected line {line:?}"));
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        SandboxProc { child, base_url: base_url.to_string(), log: log.to_path_buf() }
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "a killed process does not exit 0");
    }

    /// SIGTERM, and wait for the graceful shutdown to exit 0 (at most 20 s).
    pub fn terminate(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "graceful shutdown exits 0, got {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("sandbox did not stop within 20 s of SIGTERM");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A loopback-only HTTP client with a per-request deadline.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

/// An app of the test: its key pair, registered with the sandbox.
#[derive(Clone)]
pub struct App {
    pub app_id: String,
    pub key: PrivateKey,
    /// The sandbox's Alipay public key, for verifying answers.
    pub alipay_key: PublicKey,
}

/// `POST /sandbox/apps` with a fresh RSA-2048 key (and `extra` fields, e.g. `encrypt_key`).
pub async fn register_app(client: &reqwest::Client, base: &str, app_id: &str, extra: Value) -> (App, Value) {
    let key = PrivateKey::generate().unwrap();
    let mut body = json!({"app_id": app_id, "public_key": key.public_key().to_spki_pem()});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let (status, reg) = post_json(client, &format!("{base}/sandbox/apps"), &body).await;
    assert!(status.is_success(), "register app: {status} {reg}");
    let alipay_key = PublicKey::parse(reg["alipay_public_key"].as_str().unwrap()).unwrap();
    (App { app_id: app_id.to_string(), key, alipay_key }, reg)
}

/// `POST url` with a JSON body; the status and the JSON answer.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> (reqwest::StatusCode, Value) {
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{url} answered {status}, not JSON: {e}")))
}

/// A completed verification (persona `teacher` unless given): `(conn_key, once_token, user_id)`.
pub async fn new_token(client: &reqwest::Client, base: &str, app_id: &str, tag: &str) -> (String, String, String) {
    let conn_key = format!("conn-{tag}");
    let body = json!({"app_id": app_id, "conn_key": conn_key, "service_id": SERVICE_ID, "persona": "teacher"});
    let (status, v) = post_json(client, &format!("{base}/sandbox/authentications"), &body).await;
    assert_eq!(status.as_u16(), 201, "authentications: {v}");
    assert_eq!(v["identity_result"], "SUCCESS");
    (conn_key, v["once_token"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string())
}

/// The request-target of an exact teacher query.
pub fn query_target(conn_key: &str, once_token: &str, user_id: &str) -> String {
    request_uri(
        AUTHENTICATION_PATH,
        [
            ("conn_key", conn_key),
            ("once_token", once_token),
            ("query_type", "exact"),
            ("identity_type", "04"),
            ("service_id", SERVICE_ID),
            ("user_id", user_id),
        ],
        QueryEncoding::Rfc3986,
    )
}

/// What one query got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200, signature verified: the `identity_result`.
    Ok(String),
    /// An error answer, signature verified: the `code`.
    Refused(u16, String),
    /// No answer (connection refused or lost, timeout): the request may or may not have arrived.
    Lost,
}

/// Sends a freshly signed `GET target` and verifies the answer's signature.
pub async fn signed_get(client: &reqwest::Client, base: &str, app: &App, target: &str) -> Answer {
    let auth = alipay_v3::sign::auth_string(&app.app_id, None, &alipay_v3::new_nonce(), alipay_v3::now_millis());
    let authorization =
        alipay_v3::sign::sign_request(&app.key, &auth, &alipay_v3::sign::RequestTarget::new("GET", target));
    let res = match client.get(format!("{base}{target}")).header(h::AUTHORIZATION, authorization).send().await {
        Ok(r) => r,
        Err(_) => return Answer::Lost,
    };
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let Ok(body) = res.bytes().await else { return Answer::Lost };
    let hv = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    alipay_v3::verify::verify_response(&app.alipay_key, &hv(h::TIMESTAMP), &hv(h::NONCE), &body, &hv(h::SIGNATURE))
        .unwrap_or_else(|e| panic!("answer {status} to {target} fails verification: {e}"));
    let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("answer {status} is not JSON: {e}"));
    if status == 200 {
        Answer::Ok(v["identity_result"].as_str().unwrap_or_default().to_string())
    } else {
        Answer::Refused(status, v["code"].as_str().unwrap_or_default().to_string())
    }
}
