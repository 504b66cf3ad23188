//! Before the clock starts: a fresh app registered through the control plane, one `pending`
//! authentication per worker, and the SDK client they share.

use alipay_v3::keys::{PrivateKey, PublicKey};
use serde_json::{json, Value};

use super::{REQUEST_TIMEOUT, SERVICE_ID};
use crate::cmd::control::Control;
use crate::error::CliError;

/// One worker's query: a `pending` authentication of its own, on one of the endpoints.
pub(super) struct Token {
    pub conn_key: String,
    pub once_token: String,
    pub user_id: String,
    /// Index into [`Setup::clients`].
    pub endpoint: usize,
}

pub(super) struct Setup {
    pub app_id: String,
    pub app_key: PrivateKey,
    /// One SDK client per endpoint, in the order given.
    pub clients: Vec<jobworth::Client>,
    pub tokens: Vec<Token>,
}

impl Setup {
    /// Registers a fresh app on every endpoint through its control plane and creates one `pending`
    /// authentication per worker, worker i on endpoint i mod their number.
    pub(super) async fn create(base_urls: &[String], workers: usize) -> Result<Self, CliError> {
        let app_key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
        let app_id = format!("2021{:012}", random_u64() % 1_000_000_000_000);
        let mut controls = Vec::with_capacity(base_urls.len());
        let mut clients = Vec::with_capacity(base_urls.len());
        for (i, base_url) in base_urls.iter().enumerate() {
            let control = Control::new(base_url, " — bench needs a jobworth sandbox whose control plane answers it")?;
            // Endpoints sharing a database already know the app from the first registration (200).
            let expect: &[u16] = if i == 0 { &[201] } else { &[201, 200] };
            let body = json!({ "app_id": app_id, "public_key": app_key.public_key().to_spki_pem() });
            let app = control.post_expecting("/sandbox/apps", &body, expect).await?;
            let alipay_pem = app.get("alipay_public_key").and_then(Value::as_str).ok_or_else(|| {
                CliError::failure(
                    "POST /sandbox/apps: the answer has no alipay_public_key (is --endpoint a jobworth sandbox?)",
                )
            })?;
            let alipay_key = PublicKey::parse(alipay_pem)
                .map_err(|e| CliError::failure(format!("the sandbox's alipay_public_key does not parse: {e}")))?;
            clients.push(
                jobworth::Client::builder()
                    .endpoint(base_url)
                    .app_id(&app_id)
                    .private_key(app_key.clone())
                    .alipay_public_key(alipay_key)
                    .timeout(REQUEST_TIMEOUT)
                    .build()
                    .map_err(|e| CliError::failure(format!("cannot configure the SDK client: {e}")))?,
            );
            controls.push(control);
        }

        let run_tag = alipay_v3::new_nonce();
        let mut tokens = Vec::with_capacity(workers);
        for i in 0..workers {
            let endpoint = i % controls.len();
            let created = controls[endpoint]
                .post(
                    "/sandbox/authentications",
                    &json!({
                        "app_id": app_id,
                        "conn_key": format!("bench-{}-{i}", &run_tag[..8]),
                        "service_id": SERVICE_ID,
                        "identity_type": "04",
                        "persona": "pending",
                    }),
                    201,
                )
                .await?;
            let field = |name: &str| {
                created.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    CliError::failure(format!("POST /sandbox/authentications: the answer has no `{name}`"))
                })
            };
            tokens.push(Token {
                conn_key: field("conn_key")?,
                once_token: field("once_token")?,
                user_id: field("user_id")?,
                endpoint,
            });
        }
        Ok(Setup { app_id, app_key, clients, tokens })
    }
}

fn random_u64() -> u64 {
    // 15 hex digits of a random UUID: plenty for an app id nobody else picks.
    u64::from_str_radix(&alipay_v3::new_nonce().replace('-', "")[..15], 16).unwrap_or(0)
}
