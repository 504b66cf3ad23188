//! Helpers of the sandbox's `reliability_*` tests: an in-process sandbox on a loopback port,
//! apps and tokens over the control plane, raw signed v3 requests, and raw HTTP/1.1 over TCP.
#![allow(dead_code)]

use std::time::Duration;

use alipay_v3::headers as h;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{request_uri, QueryEncoding};
use jobworth_sandbox::{Config, RunningSandbox, Sandbox};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const SERVICE_ID: &str = "2019120400000000000004450100";
pub const PATH: &str = "/v3/zhima/customer/jobworth/authentication";

/// A sandbox on `127.0.0.1:0` with its own data dir (kept alive as long as the guard).
pub struct TestSandbox {
    pub running: RunningSandbox,
    pub base: String,
    pub data: tempfile::TempDir,
}

pub async fn start_sandbox() -> TestSandbox {
    let data = tempfile::tempdir().unwrap();
    let cfg =
        Config { listen: "127.0.0.1:0".parse().unwrap(), data_dir: data.path().join("state"), ..Config::default() };
    let running = Sandbox::start(cfg).await.unwrap();
    let base = running.base_url().to_string();
    TestSandbox { running, base, data }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

/// `POST url` with a JSON body: the status and the JSON answer.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{url} answered {status}, not JSON: {e}")))
}

/// An app of the test, registered with the sandbox.
#[derive(Clone)]
pub struct App {
    pub app_id: String,
    pub key: PrivateKey,
    /// `app_cert_sn` of the certificate the sandbox issued for this app's key.
    pub app_cert_sn: String,
    /// Everything `POST /sandbox/apps` answered.
    pub registration: Value,
}

impl App {
    pub fn alipay_public_key(&self) -> PublicKey {
        PublicKey::parse(self.registration["alipay_public_key"].as_str().unwrap()).unwrap()
    }
}

/// Registers `app_id` with a fresh key (plus `extra` fields such as `encrypt_key`).
pub async fn register_app(base: &str, app_id: &str, extra: Value) -> App {
    let key = PrivateKey::generate().unwrap();
    let mut body = json!({"app_id": app_id, "public_key": key.public_key().to_spki_pem()});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let (status, reg) = post_json(&http(), &format!("{base}/sandbox/apps"), &body).await;
    assert!(status == 200 || status == 201, "register: {status} {reg}");
    let app_cert_sn = reg["app_cert_sn"].as_str().unwrap().to_string();
    App { app_id: app_id.to_string(), key, app_cert_sn, registration: reg }
}

/// A completed `teacher` verification: `(conn_key, once_token, user_id)`.
pub async fn new_token(base: &str, app_id: &str) -> (String, String, String) {
    let conn_key = format!("conn-{}", alipay_v3::new_nonce());
    let body = json!({"app_id": app_id, "conn_key": conn_key, "service_id": SERVICE_ID, "persona": "teacher"});
    let (status, v) = post_json(&http(), &format!("{base}/sandbox/authentications"), &body).await;
    assert_eq!(status, 201, "{v}");
    (conn_key, v["once_token"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string())
}

pub fn query_target(conn_key: &str, once_token: &str, user_id: &str) -> String {
    request_uri(
        PATH,
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

/// The fields of an authString: `(app_id, app_cert_sn, nonce, timestamp_ms)`.
pub type AuthFields<'a> = (&'a str, Option<&'a str>, &'a str, u64);

/// An `authorization` value for `method target body [token]` with the given authString fields.
pub fn authorization(
    key: &PrivateKey,
    (app_id, app_cert_sn, nonce, ts): AuthFields<'_>,
    method: &str,
    target: &str,
    body: &str,
    token: Option<&str>,
) -> String {
    let auth = alipay_v3::sign::auth_string(app_id, app_cert_sn, nonce, ts);
    let target = alipay_v3::sign::RequestTarget { method, uri: target, body, app_auth_token: token };
    alipay_v3::sign::sign_request(key, &auth, &target)
}

/// A fresh, correct `authorization` for a GET of `target` by `app` in key mode.
pub fn sign_get(app: &App, target: &str) -> String {
    let nonce = alipay_v3::new_nonce();
    authorization(&app.key, (&app.app_id, None, &nonce, alipay_v3::now_millis()), "GET", target, "", None)
}

/// A sandbox answer: status, lower-case headers, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body))
        })
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
    /// Asserts the sandbox's signature over this answer.
    pub fn assert_signed_by(&self, key: &PublicKey) {
        let get = |n| self.header(n).unwrap_or_else(|| panic!("answer has no {n}"));
        alipay_v3::verify::verify_response(key, get(h::TIMESTAMP), get(h::NONCE), &self.body, get(h::SIGNATURE))
            .expect("answer signed by the sandbox's Alipay key");
    }
}

/// Sends `method base+target` with `headers` and `body` through reqwest.
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Reply {
    let mut req = client.request(method.parse().unwrap(), format!("{base}{target}"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    if !body.is_empty() {
        req = req.body(body.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers =
        res.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    Reply { status, headers, body: res.bytes().await.unwrap().to_vec() }
}

/// Writes `raw` on a new loopback connection and reads the whole answer (the request must ask
/// for `connection: close`, or the server closes). `None` when the server closed without
/// answering. Panics after `limit`.
pub async fn raw_http(addr: std::net::SocketAddr, raw: &[u8], limit: Duration) -> Option<Reply> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // The server may answer (and close) before it read everything: ignore write errors.
        let _ = s.write_all(raw).await;
        let _ = s.flush().await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        buf
    };
    let buf = tokio::time::timeout(limit, exchange).await.unwrap_or_else(|_| panic!("no answer within {limit:?}"));
    parse_reply(&buf)
}

/// Parses an HTTP/1.1 answer (content-length or chunked body).
pub fn parse_reply(buf: &[u8]) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &buf[end + 4..];
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut out = Vec::new();
        let mut r = rest;
        loop {
            let eol = r.windows(2).position(|w| w == b"\r\n")?;
            let n = usize::from_str_radix(std::str::from_utf8(&r[..eol]).ok()?.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(r.get(eol + 2..eol + 2 + n)?);
            r = r.get(eol + 4 + n..)?;
        }
        out
    } else {
        let len = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        rest.get(..len)?.to_vec()
    };
    Some(Reply { status, headers, body })
}
