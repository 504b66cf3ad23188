//! A sandbox in this process on a free loopback port with a temp data dir, and the calls a test
//! makes to it.

use std::path::Path;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use jobworth_sandbox::{Config, RunningSandbox, Sandbox};
use serde_json::Value;

use crate::app::{self, App};
use crate::fixtures::{app_key, APP_ID};
use crate::http::{self, Resp};
use crate::signed::{self, Req};

/// The test configuration: `127.0.0.1:0`, data in `dir`.
pub fn config(dir: &Path) -> Config {
    Config { listen: "127.0.0.1:0".parse().unwrap(), data_dir: dir.to_path_buf(), ..Config::default() }
}

pub use crate::http::client;

/// A running sandbox, its data dir (removed on drop) and a client. The test that starts it
/// stops it (`h.sandbox.shutdown().await`).
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

/// A sandbox with the fixture app registered in key mode; the app and the sandbox's Alipay key.
pub async fn start_with_app() -> (Harness, App, PublicKey) {
    let h = start().await;
    let app = h.register(APP_ID, &app_key(), None).await;
    let alipay = app.alipay_public_key();
    (h, app, alipay)
}

/// A sandbox with the fixture app registered with a fresh AES key; the app and that key.
pub async fn start_with_aes_app() -> (Harness, App, AesKey) {
    let h = start().await;
    let aes = AesKey::generate();
    let app = h.register(APP_ID, &app_key(), Some(aes.clone())).await;
    (h, app, aes)
}

impl Harness {
    pub fn base(&self) -> &str {
        self.sandbox.base_url()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        http::post_json(&self.http, &format!("{}{path}", self.base()), body).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        http::into_resp(self.http.get(format!("{}{path}", self.base())).send().await.unwrap()).await
    }

    pub async fn register(&self, app_id: &str, key: &PrivateKey, aes: Option<AesKey>) -> App {
        app::register(&self.http, self.base(), app_id, key, aes).await
    }

    /// Registers `key` as `app_id` with `"replace": true`, whatever was registered before.
    pub async fn replace(&self, app_id: &str, key: &PrivateKey, aes: Option<AesKey>) -> App {
        app::replace(&self.http, self.base(), app_id, key, aes).await
    }

    /// Registers `app_id` with a freshly generated key.
    pub async fn register_new(&self, app_id: &str, aes: Option<AesKey>) -> App {
        self.register(app_id, &PrivateKey::generate().unwrap(), aes).await
    }

    /// A completed verification through the fixture shortcut.
    pub async fn authenticate(&self, app: &App, conn_key: &str, once_token: &str, persona: &str) -> Value {
        app::authenticate(&self.http, self.base(), app, conn_key, once_token, persona).await
    }

    /// A completed `teacher` verification on a fresh conn_key: `(conn_key, once_token, user_id)`.
    pub async fn new_token(&self, app: &App) -> (String, String, String) {
        app::new_token(&self.http, self.base(), &app.app_id, &app::fresh_conn_key()).await
    }

    pub async fn send(&self, app: &App, req: &Req) -> Resp {
        signed::send_req(&self.http, self.base(), app, req).await
    }

    /// The standard exact query of a teacher token.
    pub async fn query(&self, app: &App, conn_key: &str, once_token: &str) -> Resp {
        self.send(app, &Req::query(&app::teacher_query(conn_key, once_token))).await
    }
}
