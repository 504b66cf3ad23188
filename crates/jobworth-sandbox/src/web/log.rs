//! The request log: one span per request, carrying the server-chosen trace id, and one line when
//! it is answered. Only the path is logged, never the query (it may hold `cert_no`) nor a header.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;
use tracing::Instrument;

use crate::error::Refused;

/// Middleware; sits inside the layer that sets the trace id.
pub(crate) async fn requests(req: Request, next: Next) -> Response {
    let trace = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    let span = tracing::info_span!("request", trace_id = %trace, method = %req.method(), path = %req.uri().path());
    async move {
        let started = Instant::now();
        let res = next.run(req).await;
        let status = res.status().as_u16();
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match res.extensions().get::<Refused>() {
            Some(Refused(code)) if status >= 500 => tracing::error!(status, code, latency_ms, "request failed"),
            Some(Refused(code)) => tracing::info!(status, code, latency_ms, "request refused"),
            None => tracing::info!(status, latency_ms, "request answered"),
        }
        res
    }
    .instrument(span)
    .await
}
