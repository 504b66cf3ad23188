//! The HTTP/1.1 server loop: hyper with a timer, so that slow and idle clients are cut off, and a
//! cap on open connections.
//!
//! `axum::serve` runs hyper without a timer, which leaves hyper's header-read timeout off: a
//! client could hold a connection open forever by never finishing its request head.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};

use crate::config::Limits;
use crate::error::ApiError;

/// Refusals being written at once; past it a connection over the cap is closed without an answer.
const MAX_REFUSING: usize = 64;
/// How long a refusal waits to read the request it answers, so the close does not reset the
/// connection under the client's feet.
const REFUSE_READ: Duration = Duration::from_millis(500);

/// Serves `router` on `listener` until `stop` fires, then lets open requests finish.
pub(crate) async fn serve(listener: TcpListener, router: Router, limits: Limits, mut stop: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection cap reached; refusing");
            if let Ok(permit) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        let service = tower::util::MapRequest::new(router.clone(), move |mut req: http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over the cap with `503` JSON and closes it.
async fn refuse(mut stream: TcpStream) {
    let err = ApiError::Unavailable("too many open connections; try again shortly".into());
    let body = err.body();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(REFUSE_READ, stream.read(&mut buf)).await;
    if stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(&body).await.is_ok() {
        let _ = stream.shutdown().await;
    }
}
