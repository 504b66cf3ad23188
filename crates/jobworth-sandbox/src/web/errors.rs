//! Answers that inner layers (timeout, body limit, unmatched route or method) left without a
//! body a client can parse become JSON errors, keeping their status (and `Allow`).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Whether a response already has a body a client can parse as an answer.
fn has_typed_body(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"))
}

/// Middleware; sits outside every handler and inner layer.
pub(crate) async fn json_errors(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let status = res.status();
    if status.as_u16() >= 400 && !has_typed_body(&res) {
        let err = match status {
            StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            StatusCode::NOT_FOUND => ApiError::NotFound("no such route".into()),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::Gateway(
                jobworth_wire::code::gateway::INVALID_METHOD,
                format!("method not allowed on this route ({status})"),
            ),
            s if s.is_server_error() => ApiError::Internal(format!("inner layer answered {s}")),
            s => ApiError::Invalid(format!("bad request ({s})")),
        };
        let keep = res.headers().get(header::ALLOW).cloned();
        res = err.into_response();
        *res.status_mut() = status;
        if let Some(allow) = keep {
            res.headers_mut().insert(header::ALLOW, allow);
        }
    }
    res
}
