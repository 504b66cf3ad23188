//! A raw TCP server: sees each request line byte for byte and can misbehave on purpose
//! (never answer, hang up, answer with any bytes).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::mock::alipay_key;
use crate::signed::sign_answer;

#[derive(Debug, Clone)]
pub struct RawRequest {
    pub request_line: String,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub type Handler = Arc<dyn Fn(&RawRequest) -> Vec<u8> + Send + Sync>;

#[derive(Clone)]
pub enum RawMode {
    /// Read the request, never answer, keep the connection open.
    Silent,
    /// Read the request, then close the connection without answering.
    Drop,
    /// Answer each request (keep-alive) with the handler's bytes.
    Respond(Handler),
}

pub struct RawServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<RawRequest>>>,
    pub connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl RawServer {
    pub async fn start(mode: RawMode) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (reqs, conns) = (requests.clone(), connections.clone());
        let task = tokio::spawn(async move {
            // Connection tasks live in the set: aborting this task drops (and aborts) them all.
            let mut set = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                conns.fetch_add(1, Ordering::SeqCst);
                set.spawn(serve(stream, mode.clone(), reqs.clone()));
            }
        });
        RawServer { addr, requests, connections, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<RawRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, mode: RawMode, log: Arc<Mutex<Vec<RawRequest>>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(req) = read_request(&mut reader).await else { return };
        log.lock().unwrap().push(req.clone());
        match &mode {
            RawMode::Silent => std::future::pending::<()>().await,
            RawMode::Drop => return,
            RawMode::Respond(h) => {
                let bytes = h(&req);
                if reader.get_mut().write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<RawRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let request_line = line.trim_end_matches(['\r', '\n']).to_string();
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await.ok()?;
    Some(RawRequest { request_line, method, target, headers, body })
}

/// A complete HTTP/1.1 answer signed by the Alipay stand-in key.
pub fn signed_http(status: u16, body: &str) -> Vec<u8> {
    let sig = sign_answer(&alipay_key(), body.as_bytes());
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nalipay-trace-id: raw-trace\r\n\
         alipay-timestamp: {}\r\nalipay-nonce: {}\r\nalipay-signature: {}\r\n\r\n{body}",
        body.len(),
        sig.timestamp,
        sig.nonce,
        sig.signature
    )
    .into_bytes()
}
