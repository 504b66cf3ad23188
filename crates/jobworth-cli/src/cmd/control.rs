//! The sandbox's JSON control plane (`/sandbox/*`) over loopback HTTP, for `demo` and `bench`.

use std::time::Duration;

use serde_json::Value;

use crate::error::CliError;

/// A control-plane client for one sandbox.
pub struct Control {
    http: reqwest::Client,
    base_url: String,
    /// Appended to the message of an unexpected answer: what the command needs from the sandbox.
    hint: &'static str,
}

impl Control {
    /// A client for the sandbox at `base_url` (never through a proxy: it is on this machine).
    pub fn new(base_url: &str, hint: &'static str) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CliError::failure(format!("cannot build an HTTP client: {e}")))?;
        Ok(Control { http, base_url: base_url.to_owned(), hint })
    }

    /// POSTs `body` as JSON; any status but `expect` is an error.
    pub async fn post(&self, path: &str, body: &Value, expect: u16) -> Result<Value, CliError> {
        self.post_expecting(path, body, &[expect]).await
    }

    /// POSTs `body` as JSON; any status not in `expect` is an error.
    pub async fn post_expecting(&self, path: &str, body: &Value, expect: &[u16]) -> Result<Value, CliError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        self.send("POST", path, request, expect).await
    }

    /// GETs `path`, expecting 200.
    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.send("GET", path, self.http.get(format!("{}{path}", self.base_url)), &[200]).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        request: reqwest::RequestBuilder,
        expect: &[u16],
    ) -> Result<Value, CliError> {
        let what = format!("{method} {}{path}", self.base_url);
        let response = request.send().await.map_err(|e| CliError::transport(format!("{what}: {e}")))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| CliError::transport(format!("{what}: {e}")))?;
        if !expect.contains(&status) {
            let expect: Vec<String> = expect.iter().map(u16::to_string).collect();
            let expect = expect.join(" or ");
            return Err(CliError::failure(format!(
                "{what} answered HTTP {status} (expected {expect}): {}{}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)]),
                self.hint
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| CliError::failure(format!("{what}: the answer is not JSON: {e}")))
    }
}
