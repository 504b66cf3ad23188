//! A wiremock gateway for the SDK's tests: a matcher that accepts only requests whose signature
//! verifies with the fixture app public key, and a responder that signs answers like Alipay.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::verify::AuthorizationHeader;
use jobworth::{Client, ClientBuilder};
use wiremock::matchers::any;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fixtures::{app_key, app_public, fixture, APP_ID};
use crate::signed::{request_verifies, sign_answer};

/// The stand-in for Alipay's key pair.
pub fn alipay_key() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| PrivateKey::generate().unwrap()).clone()
}

/// A key that is not Alipay's.
pub fn other_key() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| PrivateKey::generate().unwrap()).clone()
}

/// A certificate over [`alipay_key`] (self-signed: the client checks SNs, not the chain) and its
/// SN: with the fixture app and root certificates, certificate mode against the mock.
pub fn alipay_cert() -> &'static (String, String) {
    static C: OnceLock<(String, String)> = OnceLock::new();
    C.get_or_init(|| {
        let key = rcgen::KeyPair::try_from(alipay_key().to_pkcs8_der().as_slice()).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "Mock Alipay RSA2");
        let pem = params.self_signed(&key).unwrap().pem();
        let sn = alipay_v3::cert::cert_sn(&pem).unwrap();
        (pem, sn)
    })
}

/// [`builder`] in certificate mode: the fixture app certificate, [`alipay_cert`], the fixture
/// root certificate. Answers must carry `alipay-sn` = `alipay_cert().1`.
pub fn cert_builder(endpoint: &str) -> ClientBuilder {
    Client::builder()
        .endpoint(endpoint)
        .app_id(APP_ID)
        .private_key(app_key())
        .certificates(
            &fixture("appCertPublicKey_2021001161683774.crt"),
            &alipay_cert().0,
            &fixture("alipayRootCert.crt"),
        )
        .unwrap()
        .timeout(Duration::from_secs(5))
        .retry_backoff(Duration::from_millis(5))
}

/// `http://127.0.0.1:PORT` where nothing listens (a port just released by the OS).
pub fn closed_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

pub fn builder(endpoint: &str) -> ClientBuilder {
    Client::builder()
        .endpoint(endpoint)
        .app_id(APP_ID)
        .private_key(app_key())
        .alipay_public_key(alipay_key().public_key())
        .timeout(Duration::from_secs(5))
        .retry_backoff(Duration::from_millis(5))
}

pub fn client(endpoint: &str) -> Client {
    builder(endpoint).build().unwrap()
}

/// One request as the server saw it, after its signature verified.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: ::http::HeaderMap,
    pub body: String,
    pub auth: AuthorizationHeader,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// Matches only requests whose `authorization` verifies with the fixture app public key over
/// the method, request-target, body and app auth token; records them.
#[derive(Clone, Default)]
pub struct Verified {
    pub log: Log,
    pub public: Option<PublicKey>,
}

impl Verified {
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

impl Match for Verified {
    fn matches(&self, req: &Request) -> bool {
        let target = match req.url.query() {
            Some(q) => format!("{}?{}", req.url.path(), q),
            None => req.url.path().to_string(),
        };
        let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok());
        let Some(auth) = header("authorization").and_then(|h| AuthorizationHeader::parse(h).ok()) else {
            return false;
        };
        let Ok(body) = String::from_utf8(req.body.clone()) else { return false };
        let key = self.public.clone().unwrap_or_else(app_public);
        if !request_verifies(&key, &auth, req.method.as_str(), &target, &body, header("alipay-app-auth-token")) {
            return false;
        }
        // Every request carries a 32-hex request id and asks for JSON.
        let rid_ok =
            header("alipay-request-id").is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()));
        if !rid_ok || header("accept") != Some("application/json") || auth.app_id != APP_ID {
            return false;
        }
        self.log.lock().unwrap().push(Seen {
            method: req.method.to_string(),
            target,
            headers: req.headers.clone(),
            body,
            auth,
        });
        true
    }
}

/// How a [`Reply`] signs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Signing {
    /// Signed by the Alipay stand-in key.
    Alipay,
    /// No signature headers.
    Unsigned,
    /// Signed by another key.
    WrongKey,
    /// Signed correctly, then one byte of the body changed.
    Tampered,
    /// Signature present, nonce header missing.
    NoNonce,
}

/// Answers like the gateway: JSON (or AES ciphertext) signed over the exact body bytes.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub signing: Signing,
    pub encrypt: Option<AesKey>,
    pub headers: Vec<(String, String)>,
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            signing: Signing::Alipay,
            encrypt: None,
            headers: vec![("alipay-trace-id".into(), "trace-0603331617156962044358274991886".into())],
            delay: None,
        }
    }

    pub fn signing(mut self, s: Signing) -> Self {
        self.signing = s;
        self
    }

    pub fn encrypted(mut self, key: AesKey) -> Self {
        self.encrypt = Some(key);
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }

    /// The body as sent and its headers.
    pub fn render(&self) -> (Vec<u8>, Vec<(String, String)>, &'static str) {
        let (mut body, ct) = match &self.encrypt {
            Some(k) => (k.encrypt(&self.body).into_bytes(), "text/plain"),
            None => (self.body.clone(), "application/json"),
        };
        let mut headers = self.headers.clone();
        let key = if self.signing == Signing::WrongKey { other_key() } else { alipay_key() };
        if self.signing != Signing::Unsigned {
            let sig = sign_answer(&key, &body);
            headers.push(("alipay-timestamp".into(), sig.timestamp));
            if self.signing != Signing::NoNonce {
                headers.push(("alipay-nonce".into(), sig.nonce));
            }
            headers.push(("alipay-signature".into(), sig.signature));
        }
        if self.signing == Signing::Tampered {
            // Flip the last character: same length, still base64/JSON-looking.
            let last = body.len() - 2;
            body[last] = if body[last] == b'A' { b'B' } else { b'A' };
        }
        (body, headers, ct)
    }
}

impl Respond for Reply {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        let (body, headers, ct) = self.render();
        let mut t = ResponseTemplate::new(self.status).set_body_raw(body, ct);
        for (k, v) in headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        if let Some(d) = self.delay {
            t = t.set_delay(d);
        }
        t
    }
}

/// A dedicated mock server (shut down when dropped) whose fallback fails the test on any request
/// that no mock accepted — including every request whose signature did not verify.
pub async fn server() -> MockServer {
    let s = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .named("unexpected or wrongly signed request")
        .expect(0)
        .mount(&s)
        .await;
    s
}

pub const SUCCESS: &str = r#"{"identity_result":"SUCCESS","token_status":"FINISH","identity_result_skip_url":"alipays://platformapi/startapp?appId=1","user_id":"2088402562742105","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"m-1","future_field":{"x":1}}"#;
