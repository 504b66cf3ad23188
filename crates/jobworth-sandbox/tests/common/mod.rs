//! Test harness: a real sandbox on a free loopback port with a temp data dir, and a small
//! client that signs requests with the protocol core.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{request_uri, QueryEncoding};
use alipay_v3::sign::{auth_string, sign_request, RequestTarget};
use jobworth_sandbox::{Config, RunningSandbox, Sandbox};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

pub const PATH: &str = "/v3/zhima/customer/jobworth/authentication";
pub const SERVICE_ID: &str = "2019120400000000000004450100";
pub const TEACHER_USER: &str = "2088102146225101";
pub const TEACHER_OPEN: &str = "074lscIBqIL7NRK7DytftadrxbStzW4Bcqbv2RDkEueL6M0";
pub const TEACHER_CERT: &str = "110105198503151230";

/// The fixture app key (no key generation needed in tests).
pub fn app_key() -> PrivateKey {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../alipay-v3/tests/fixtures/app-private-key-pkcs1.pem"
    ))
    .unwrap();
    PrivateKey::parse(&pem).unwrap()
}

pub fn config(dir: &Path) -> Config {
    Config { listen: "127.0.0.1:0".parse().unwrap(), data_dir: dir.to_path_buf(), ..Config::default() }
}

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub async fn start() -> Harness {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    tweak(&mut cfg);
    let sandbox = Sandbox::start(cfg).await.unwrap();
    Harness { sandbox, dir, http: client() }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// A registered app as a test sees it.
#[derive(Clone)]
pub struct App {
    pub app_id: String,
    pub key: PrivateKey,
    pub aes: Option<AesKey>,
    pub registration: Value,
}

impl App {
    pub fn alipay_public_key(&self) -> PublicKey {
        PublicKey::parse(self.registration["alipay_public_key"].as_str().unwrap()).unwrap()
    }

    pub fn app_cert_sn(&self) -> String {
        self.registration["app_cert_sn"].as_str().unwrap().to_string()
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Checks the response signature with `key` over the exact body bytes.
    pub fn verify(&self, key: &PublicKey) {
        let ts = self.header("alipay-timestamp").expect("alipay-timestamp");
        let nonce = self.header("alipay-nonce").expect("alipay-nonce");
        let sig = self.header("alipay-signature").expect("alipay-signature");
        alipay_v3::verify::verify_response(key, ts, nonce, &self.body, sig).expect("response signature verifies");
    }

    /// Asserts a JSON error with the given status and code, signed by `key`.
    pub fn assert_error(&self, status: u16, code: &str, key: &PublicKey) {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.code(), code, "body: {}", String::from_utf8_lossy(&self.body));
        assert!(self.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(self.json()["links"].as_array().map(Vec::len), Some(1));
        assert!(self.header("content-type").unwrap().starts_with("application/json"));
        assert!(self.header("alipay-trace-id").is_some_and(|t| !t.is_empty()));
        self.verify(key);
    }
}

/// One signed v3 request, with knobs for the negative tests.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub body: String,
    pub cert_sn: Option<String>,
    pub encrypt: bool,
    pub nonce: Option<String>,
    pub timestamp: Option<u64>,
    pub app_auth_token: Option<String>,
    /// Send this target instead of the signed one.
    pub send_target: Option<String>,
    /// Send this method instead of the signed one.
    pub send_method: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Req {
    pub fn get(target: impl Into<String>) -> Self {
        Req {
            method: "GET".into(),
            target: target.into(),
            body: String::new(),
            cert_sn: None,
            encrypt: false,
            nonce: None,
            timestamp: None,
            app_auth_token: None,
            send_target: None,
            send_method: None,
            extra_headers: Vec::new(),
        }
    }

    pub fn query(pairs: &[(&str, &str)]) -> Self {
        Req::get(request_uri(PATH, pairs.iter().copied(), QueryEncoding::Rfc3986))
    }
}

impl Harness {
    pub fn base(&self) -> &str {
        self.sandbox.base_url()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        let res = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        into_resp(res).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        let res = self.http.get(format!("{}{path}", self.base())).send().await.unwrap();
        into_resp(res).await
    }

    pub async fn register(&self, app_id: &str, key: &PrivateKey, aes: Option<AesKey>) -> App {
        let mut body = json!({"app_id": app_id, "public_key": key.public_key().to_spki_pem()});
        if let Some(k) = &aes {
            body["encrypt_key"] = json!(k.to_base64().as_str());
        }
        let r = self.post_json("/sandbox/apps", &body).await;
        assert!(r.status == 201 || r.status == 200, "{}", String::from_utf8_lossy(&r.body));
        App { app_id: app_id.into(), key: key.clone(), aes, registration: r.json() }
    }

    /// A completed verification through the fixture shortcut.
    pub async fn authenticate(&self, app: &App, conn_key: &str, once_token: &str, persona: &str) -> Value {
        let r = self
            .post_json(
                "/sandbox/authentications",
                &json!({"app_id": app.app_id, "conn_key": conn_key, "service_id": SERVICE_ID,
                        "identity_type": "04", "once_token": once_token, "persona": persona}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    }

    pub async fn send(&self, app: &App, req: &Req) -> Resp {
        let nonce = req.nonce.clone().unwrap_or_else(alipay_v3::new_nonce);
        let ts = req.timestamp.unwrap_or_else(alipay_v3::now_millis);
        let auth = auth_string(&app.app_id, req.cert_sn.as_deref(), &nonce, ts);
        let body = match (&app.aes, req.encrypt && !req.body.is_empty()) {
            (Some(k), true) => k.encrypt(req.body.as_bytes()),
            _ => req.body.clone(),
        };
        let authz = sign_request(
            &app.key,
            &auth,
            &RequestTarget {
                method: &req.method,
                uri: &req.target,
                body: &body,
                app_auth_token: req.app_auth_token.as_deref(),
            },
        );
        let target = req.send_target.as_deref().unwrap_or(&req.target);
        let method = req.send_method.as_deref().unwrap_or(&req.method);
        let mut rb = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{target}", self.base()))
            .header("authorization", authz)
            .header("alipay-request-id", alipay_v3::new_nonce().replace('-', ""));
        if let Some(t) = &req.app_auth_token {
            rb = rb.header("alipay-app-auth-token", t);
        }
        if req.encrypt {
            rb = rb.header("alipay-encrypt-type", "AES").header("content-type", "text/plain");
        }
        for (k, v) in &req.extra_headers {
            rb = rb.header(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        if !body.is_empty() {
            rb = rb.body(body);
        }
        into_resp(rb.send().await.unwrap()).await
    }

    /// The standard exact query of a teacher token.
    pub async fn query(&self, app: &App, conn_key: &str, once_token: &str) -> Resp {
        self.send(app, &Req::query(&teacher_query(conn_key, once_token))).await
    }
}

pub fn teacher_query<'a>(conn_key: &'a str, once_token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("conn_key", conn_key),
        ("once_token", once_token),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
        ("user_id", TEACHER_USER),
    ]
}

pub async fn into_resp(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await.unwrap().to_vec();
    Resp { status, headers, body }
}

/// A signed step-1 order string, as the official `sdkExecute` builds it.
pub fn order_string(app_id: &str, key: &PrivateKey, conn_key: &str, extra: Option<Value>) -> String {
    let mut biz = json!({"out_agreement_no": conn_key, "zm_service_id": SERVICE_ID});
    if let Some(e) = extra {
        biz["extra_param"] = json!(e.to_string());
    }
    let params = [
        ("method", "zhima.credit.payafteruse.creditagreement.sign".to_string()),
        ("app_id", app_id.to_string()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("timestamp", alipay_v3::order::shanghai_timestamp(1_717_756_911)),
        ("biz_content", biz.to_string()),
    ];
    alipay_v3::order::sign_order_string(key, &params)
}

/// Raw HTTP/1.1 exchange for byte-exact requests; returns (status, head, body).
pub async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(out[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    let mut body = out[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[line_end + 2..line_end + 2 + n]);
            rest = &rest[line_end + 2 + n + 2..];
        }
        body = decoded;
    }
    (status, head, body)
}
