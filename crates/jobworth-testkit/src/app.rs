//! Apps and completed verifications over the sandbox's control plane (any sandbox: in this
//! process or a `jobworth sandbox` process), and the requests a test builds from them.

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::query::{request_uri, QueryEncoding};
use serde_json::{json, Value};

use crate::fixtures::{AUTH_PATH, SERVICE_ID, TEACHER_USER};
use crate::http::post_json;

/// A registered app as a test sees it.
#[derive(Clone)]
pub struct App {
    pub app_id: String,
    pub key: PrivateKey,
    pub aes: Option<AesKey>,
    /// Everything `POST /sandbox/apps` answered.
    pub registration: Value,
}

impl App {
    pub fn alipay_public_key(&self) -> PublicKey {
        PublicKey::parse(self.registration["alipay_public_key"].as_str().unwrap()).unwrap()
    }

    /// `app_cert_sn` of the certificate the sandbox issued for this app's key.
    pub fn app_cert_sn(&self) -> String {
        self.registration["app_cert_sn"].as_str().unwrap().to_string()
    }
}

/// `POST /sandbox/apps`: registers `key` (and the AES key, if any) as `app_id`.
pub async fn register(
    client: &reqwest::Client,
    base: &str,
    app_id: &str,
    key: &PrivateKey,
    aes: Option<AesKey>,
) -> App {
    register_as(client, base, app_id, key, aes, false).await
}

/// `POST /sandbox/apps` with `"replace": true`: replaces whatever `app_id` had registered.
pub async fn replace(client: &reqwest::Client, base: &str, app_id: &str, key: &PrivateKey, aes: Option<AesKey>) -> App {
    register_as(client, base, app_id, key, aes, true).await
}

async fn register_as(
    client: &reqwest::Client,
    base: &str,
    app_id: &str,
    key: &PrivateKey,
    aes: Option<AesKey>,
    replace: bool,
) -> App {
    let mut body = json!({"app_id": app_id, "public_key": key.public_key().to_spki_pem()});
    if let Some(k) = &aes {
        body["encrypt_key"] = json!(k.to_base64().as_str());
    }
    if replace {
        body["replace"] = json!(true);
    }
    let r = post_json(client, &format!("{base}/sandbox/apps"), &body).await;
    assert!(r.status == 201 || r.status == 200, "register {app_id}: {} {}", r.status, String::from_utf8_lossy(&r.body));
    App { app_id: app_id.into(), key: key.clone(), aes, registration: r.json() }
}

/// A completed verification through the fixture shortcut, with the test's own once_token.
pub async fn authenticate(
    client: &reqwest::Client,
    base: &str,
    app: &App,
    conn_key: &str,
    once_token: &str,
    persona: &str,
) -> Value {
    let body = json!({"app_id": app.app_id, "conn_key": conn_key, "service_id": SERVICE_ID,
                      "identity_type": "04", "once_token": once_token, "persona": persona});
    let r = post_json(client, &format!("{base}/sandbox/authentications"), &body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// A completed `teacher` verification under `conn_key`, the once_token chosen by the sandbox:
/// `(conn_key, once_token, user_id)`.
pub async fn new_token(client: &reqwest::Client, base: &str, app_id: &str, conn_key: &str) -> (String, String, String) {
    let body = json!({"app_id": app_id, "conn_key": conn_key, "service_id": SERVICE_ID, "persona": "teacher"});
    let r = post_json(client, &format!("{base}/sandbox/authentications"), &body).await;
    assert_eq!(r.status, 201, "authentications: {}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["identity_result"], "SUCCESS");
    (conn_key.to_string(), v["once_token"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string())
}

/// A conn_key no other test uses.
pub fn fresh_conn_key() -> String {
    format!("conn-{}", alipay_v3::new_nonce())
}

/// The query pairs of an exact teacher query.
pub fn teacher_query<'a>(conn_key: &'a str, once_token: &'a str) -> Vec<(&'a str, &'a str)> {
    exact_query(conn_key, once_token, TEACHER_USER)
}

/// The query pairs of a `dim` query: no user identifier.
pub fn dim_query<'a>(conn_key: &'a str, once_token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("conn_key", conn_key),
        ("once_token", once_token),
        ("query_type", "dim"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
    ]
}

/// The query pairs of an exact query of `user_id`.
pub fn exact_query<'a>(conn_key: &'a str, once_token: &'a str, user_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("conn_key", conn_key),
        ("once_token", once_token),
        ("query_type", "exact"),
        ("identity_type", "04"),
        ("service_id", SERVICE_ID),
        ("user_id", user_id),
    ]
}

/// The request-target of an exact query of `user_id`.
pub fn query_target(conn_key: &str, once_token: &str, user_id: &str) -> String {
    request_uri(AUTH_PATH, exact_query(conn_key, once_token, user_id), QueryEncoding::Rfc3986)
}
