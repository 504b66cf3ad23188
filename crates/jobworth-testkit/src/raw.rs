//! Byte-exact HTTP/1.1 over a loopback socket, for requests no HTTP client library would send.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http::Resp;

/// Writes `request` on a new connection and reads until the server closes (the request must ask
/// for `connection: close`, or the server closes). Panics after `limit`.
pub async fn exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> Vec<u8> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // The server may answer (and close) before it read everything: ignore write errors.
        let _ = s.write_all(request).await;
        let _ = s.flush().await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        buf
    };
    tokio::time::timeout(limit, exchange).await.unwrap_or_else(|_| panic!("no answer within {limit:?}"))
}

/// The answer to `request`, or `None` when the server closed without answering.
pub async fn raw_http(addr: SocketAddr, request: &[u8], limit: Duration) -> Option<Resp> {
    parse_reply(&exchange(addr, request, limit).await)
}

/// The answer to `request` as (status, head as sent, decoded body); panics without one.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    let buf = exchange(addr, request, Duration::from_secs(20)).await;
    let reply = parse_reply(&buf).unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&buf)));
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (reply.status, String::from_utf8(buf[..end].to_vec()).unwrap(), reply.body)
}

/// Parses an HTTP/1.1 answer (content-length, chunked, or up to the close).
pub fn parse_reply(buf: &[u8]) -> Option<Resp> {
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
    let length = headers.iter().find(|(k, _)| k == "content-length").map(|(_, v)| v.parse::<usize>());
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
        match length {
            Some(len) => rest.get(..len.ok()?)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(Resp { status, headers, body })
}
