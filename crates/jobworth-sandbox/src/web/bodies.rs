//! Request bodies: read whole before any handler runs, bounded in size and in time.
//!
//! An oversized body is answered `413` at once, and the rest of it is read and thrown away
//! (bounded too) while the answer goes out: closing a socket with unread data resets the
//! connection, and the client would lose the answer while it is still sending.
//!
//! Only reading the body is timed. Once a handler runs it is not cut off, so a consumption that
//! commits is always answered with its result, never with a timeout.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::error::ApiError;
use crate::state::AppState;

/// Most bytes of an oversized body read and discarded after the `413`.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
/// Longest time spent discarding them.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Why a body was not read.
enum Refused {
    TooLarge,
    Broken(String),
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers.get(header::EXPECT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads frames until the end or past `limit` bytes.
async fn read_limited(body: &mut Body, limit: usize) -> Result<Bytes, Refused> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Refused::Broken(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(Refused::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// Reads and drops the rest of a body in the background, bounded in bytes and time.
fn drain(mut body: Body) {
    tokio::spawn(async move {
        let work = async {
            let mut seen = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    seen += data.len() as u64;
                    if seen > DRAIN_LIMIT {
                        return;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, work).await;
    });
}

/// An error answer after which the connection is closed.
fn closing(err: ApiError) -> Response {
    let mut res = err.into_response();
    res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Middleware: buffers the body (at most `limit` bytes, within the body timeout), then runs the
/// rest of the stack with it.
pub(crate) async fn buffer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = crate::BODY_LIMIT;
    let (parts, mut body) = req.into_parts();
    if declared_length(&parts.headers).is_some_and(|n| n > limit as u64) {
        // A client waiting for `100 Continue` has not sent the body and never will.
        if !expects_continue(&parts.headers) {
            drain(body);
        }
        return closing(ApiError::TooLarge);
    }
    match tokio::time::timeout(state.cfg().limits.body_read_timeout, read_limited(&mut body, limit)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(Refused::TooLarge)) => {
            drain(body);
            closing(ApiError::TooLarge)
        }
        Ok(Err(Refused::Broken(why))) => closing(ApiError::Invalid(format!("request body could not be read: {why}"))),
        Err(_) => closing(ApiError::Timeout),
    }
}
