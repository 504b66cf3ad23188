//! The one error type of every JSON route: `{"code","message","links"}` with the right status.
//!
//! Messages never carry keys, tokens in full or `cert_no`.

use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jobworth_wire::code;
use serde::Serialize;

use crate::store::{NonceError, StoreError};

/// Where the `links` entry of an error points: the v3 error-code reference.
const ERROR_DOC: &str = "https://opendocs.alipay.com/open-v3/054fcv";

/// An error answer. Gateway and business codes are spelled exactly as Alipay's gateway sends them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A v3 gateway check failed (`missing-signature`, `invalid-signature`, …); HTTP 400.
    #[error("{0}: {1}")]
    Gateway(&'static str, String),
    /// A Jobworth business rule refused the query (`TOKEN_INVALID`, …); HTTP 400.
    #[error("{0}: {1}")]
    Business(&'static str, String),
    /// Malformed control-plane input; HTTP 400 `invalid-parameter`.
    #[error("invalid-parameter: {0}")]
    Invalid(String),
    /// Missing or wrong admin token; HTTP 401.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Control plane reached from a non-loopback peer without an admin token; HTTP 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Unknown route or record; HTTP 404.
    #[error("not-found: {0}")]
    NotFound(String),
    /// The record is not in a state that allows the action; HTTP 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request did not complete in time; HTTP 408.
    #[error("request-timeout")]
    Timeout,
    /// The request body is over the limit; HTTP 413.
    #[error("request body too large")]
    TooLarge,
    /// A control-plane POST whose body is not declared `application/json`; HTTP 415.
    #[error("unsupported-media-type: {0}")]
    UnsupportedMediaType(String),
    /// The server is at its connection cap; HTTP 503.
    #[error("service-unavailable: {0}")]
    Unavailable(String),
    /// Anything that is the sandbox's fault; HTTP 500 `SYSTEM_ERROR`. The detail is logged, not sent.
    #[error("SYSTEM_ERROR: {0}")]
    Internal(String),
}

/// Wire body of an error.
#[derive(Debug, Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    links: [Link; 1],
}

#[derive(Debug, Serialize)]
struct Link {
    link: &'static str,
    desc: &'static str,
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Gateway(..) | ApiError::Business(..) | ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `code` field.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Gateway(c, _) | ApiError::Business(c, _) => c,
            ApiError::Invalid(_) => code::gateway::INVALID_PARAMETER,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Timeout => "request-timeout",
            ApiError::TooLarge => "invalid-request-data",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Unavailable(_) => "service-unavailable",
            ApiError::Internal(_) => code::business::SYSTEM_ERROR,
        }
    }

    /// The `message` field.
    pub fn message(&self) -> &str {
        match self {
            ApiError::Gateway(_, m)
            | ApiError::Business(_, m)
            | ApiError::Invalid(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Unavailable(m) => m,
            ApiError::Timeout => "请求超时 (request timed out)",
            ApiError::TooLarge => "请求体过大 (request body too large)",
            ApiError::Internal(_) => "系统繁忙 (internal error, see the sandbox log)",
        }
    }

    /// The JSON body bytes.
    pub fn body(&self) -> Vec<u8> {
        let body =
            Body {
                code: self.code(), message: self.message(), links: [Link { link: ERROR_DOC, desc: "解决方案" }]
            };
        // Serialising plain strings cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }

    pub(crate) fn gateway(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Gateway(code, message.into())
    }

    pub(crate) fn business(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Business(code, message.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// The one mapping of a body that could not be read: over the limit is `413`, anything else `400`.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => ApiError::TooLarge,
            other => ApiError::Invalid(format!("request body could not be read: {}", other.body_text())),
        }
    }
}

impl From<NonceError> for ApiError {
    fn from(e: NonceError) -> Self {
        ApiError::Internal(format!("nonce log: {e}"))
    }
}

/// Marks a response as this error's answer, with its code, for the request log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused(pub &'static str);

/// JSON content type of every JSON answer.
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut res = (self.status(), self.body()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        res.extensions_mut().insert(Refused(self.code()));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let e = ApiError::business("TOKEN_INVALID", "once_token 无效");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["code"], "TOKEN_INVALID");
        assert_eq!(v["message"], "once_token 无效");
        assert_eq!(v["links"][0]["desc"], "解决方案");
        assert!(String::from_utf8(e.body()).unwrap().starts_with(r#"{"code":"TOKEN_INVALID","message""#));
        let i = ApiError::Internal("secret detail".into());
        assert_eq!(i.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8(i.body()).unwrap().contains("secret"));
    }
}
