//! The whole merchant side of a Jobworth verification, configured from the environment.
//!
//! Connection (as the `jobworth` CLI reads them):
//! `ALIPAY_ENDPOINT` (default `https://openapi.alipay.com`), `ALIPAY_APP_ID`, `ALIPAY_PRIVATE_KEY`
//! (path), and either `ALIPAY_PUBLIC_KEY` (path) or `ALIPAY_APP_CERT` + `ALIPAY_CERT` +
//! `ALIPAY_ROOT_CERT` (paths); optional `ALIPAY_ENCRYPT_KEY` (base64).
//!
//! Without `JOBWORTH_ONCE_TOKEN` it runs step 1: prints a fresh conn_key, once_token and the signed
//! order string for `JOBWORTH_SERVICE_ID`. With it, it runs step 3: queries `JOBWORTH_CONN_KEY`,
//! `JOBWORTH_ONCE_TOKEN`, `JOBWORTH_SERVICE_ID`, optional `JOBWORTH_QUERY_TYPE` (default `exact`),
//! `JOBWORTH_IDENTITY_TYPE` (default `04`), `JOBWORTH_USER_ID`, `JOBWORTH_OPEN_ID`,
//! `JOBWORTH_CERT_NO` + `JOBWORTH_CERT_TYPE`, and prints the verified result as JSON.
//!
//! ```text
//! ALIPAY_ENDPOINT=http://127.0.0.1:8340 ALIPAY_APP_ID=2021… ALIPAY_PRIVATE_KEY=app.pem \
//! ALIPAY_PUBLIC_KEY=alipay.pem JOBWORTH_SERVICE_ID=2019… cargo run -p jobworth --example query
//! ```
//!
//! Exit codes: 0 answered, 2 configuration, 3 API error, 4 transport/verification failure.

use std::process::ExitCode;

use jobworth::{Client, ConfigError, Error};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn read(var: &'static str) -> Result<String, String> {
    let path = env(var).ok_or_else(|| format!("{var} is not set"))?;
    std::fs::read_to_string(&path).map_err(|e| format!("{var}: cannot read {path}: {e}"))
}

fn client() -> Result<Client, String> {
    let cfg = |e: ConfigError| e.to_string();
    let mut b = Client::builder()
        .endpoint(env("ALIPAY_ENDPOINT").unwrap_or_else(|| jobworth::DEFAULT_ENDPOINT.to_string()))
        .app_id(env("ALIPAY_APP_ID").ok_or("ALIPAY_APP_ID is not set")?)
        .private_key_pem(&read("ALIPAY_PRIVATE_KEY")?)
        .map_err(cfg)?;
    b = if env("ALIPAY_APP_CERT").is_some() {
        b.certificates(&read("ALIPAY_APP_CERT")?, &read("ALIPAY_CERT")?, &read("ALIPAY_ROOT_CERT")?).map_err(cfg)?
    } else {
        b.alipay_public_key_pem(&read("ALIPAY_PUBLIC_KEY")?).map_err(cfg)?
    };
    if let Some(k) = env("ALIPAY_ENCRYPT_KEY") {
        b = b.encrypt_key_base64(&k).map_err(cfg)?;
    }
    b.build().map_err(cfg)
}

#[tokio::main]
async fn main() -> ExitCode {
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(service_id) = env("JOBWORTH_SERVICE_ID") else {
        eprintln!("configuration: JOBWORTH_SERVICE_ID is not set");
        return ExitCode::from(2);
    };

    let Some(once_token) = env("JOBWORTH_ONCE_TOKEN") else {
        // Step 1: the order string the user's Alipay app opens.
        let (conn_key, once_token) = (jobworth::new_conn_key(), jobworth::new_once_token());
        let identity_type = env("JOBWORTH_IDENTITY_TYPE").unwrap_or_else(|| "04".into());
        match client
            .order_string()
            .out_agreement_no(&conn_key)
            .service_id(&service_id)
            .once_token(&once_token)
            .identity_type(identity_type.as_str())
            .build()
        {
            Ok(order) => {
                println!("JOBWORTH_CONN_KEY={conn_key}\nJOBWORTH_ONCE_TOKEN={once_token}\n{order}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    };

    // Step 3: the query.
    let mut q = client
        .authentication_query()
        .once_token(once_token)
        .service_id(service_id)
        .query_type(env("JOBWORTH_QUERY_TYPE").unwrap_or_else(|| "exact".into()))
        .identity_type(env("JOBWORTH_IDENTITY_TYPE").unwrap_or_else(|| "04".into()));
    if let Some(v) = env("JOBWORTH_CONN_KEY") {
        q = q.conn_key(v);
    }
    if let Some(v) = env("JOBWORTH_USER_ID") {
        q = q.user_id(v);
    }
    if let Some(v) = env("JOBWORTH_OPEN_ID") {
        q = q.open_id(v);
    }
    if let (Some(no), Some(t)) = (env("JOBWORTH_CERT_NO"), env("JOBWORTH_CERT_TYPE")) {
        q = q.cert(t, no);
    }
    match q.send().await {
        Ok(result) => {
            println!("{}", serde_json::to_string_pretty(&result).unwrap_or_default());
            if !result.identity_result.is_terminal() {
                eprintln!("still pending: query again later with the same token");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            if e.needs_new_token() {
                eprintln!("→ run step 1 again (unset JOBWORTH_ONCE_TOKEN) to get a new conn_key and once_token");
            }
            match e {
                Error::Config(_) => ExitCode::from(2),
                Error::Api(_) | Error::TokenPossiblyConsumed { .. } => ExitCode::from(3),
                _ => ExitCode::from(4),
            }
        }
    }
}
