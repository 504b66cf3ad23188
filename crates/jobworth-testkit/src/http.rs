//! Answers as the tests read them, and plain (unsigned) requests through reqwest.

use std::time::Duration;

use alipay_v3::headers as h;
use alipay_v3::keys::PublicKey;
use serde_json::Value;

use crate::signed::verify_answer;

/// A loopback client with a per-request deadline of `timeout`.
pub fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(timeout).build().unwrap()
}

/// A loopback client with a generous deadline (30 s), for one request at a time.
pub fn client() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(30))
}

/// A loopback client with a short deadline (10 s), for load where a stuck request must give up.
pub fn http() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(10))
}

/// An answer: status, lower-case headers, body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    /// Checks the answer's signature with `key` over the exact body bytes.
    pub fn verify(&self, key: &PublicKey) {
        let get = |n| self.header(n).unwrap_or_else(|| panic!("answer has no {n}"));
        verify_answer(key, get(h::TIMESTAMP), get(h::NONCE), &self.body, get(h::SIGNATURE))
            .unwrap_or_else(|e| panic!("response signature verifies: {e}"));
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

pub async fn into_resp(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers =
        res.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    Resp { status, headers, body: res.bytes().await.unwrap().to_vec() }
}

/// `POST url` with a JSON body.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Resp {
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    into_resp(res).await
}

/// Sends `method base+target` with `headers` and `body`, as given.
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Resp {
    let mut req = client.request(method.parse().unwrap(), format!("{base}{target}"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    if !body.is_empty() {
        req = req.body(body.to_string());
    }
    into_resp(req.send().await.unwrap()).await
}
