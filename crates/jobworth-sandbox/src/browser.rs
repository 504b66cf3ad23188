//! Defences against web pages open in the developer's browser, which can reach a loopback
//! sandbox too.
//!
//! * `Host` must name the sandbox (a loopback address, `localhost`, the address it listens on, or
//!   a name given with `--allowed-host`): a page that rebinds its own DNS name to 127.0.0.1 sends
//!   its own name and is refused.
//! * Control-plane POSTs must be `application/json`: a page can send `text/plain` without asking,
//!   but `application/json` needs a CORS preflight, which the sandbox never grants.
//! * Desk form posts must come from a desk page: `Origin` (or `Referer`) must be this host.
//!
//! `/v3/…` is not covered: every request there is signed with the app's key, which a page has not.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The host part of a `Host` value (`name`, `name:port`, `[v6]:port`), lowercased.
fn host_name(value: &str) -> String {
    let v = value.trim();
    let host = if let Some(rest) = v.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        match v.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => v,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` (from a `Host` header) names this sandbox.
pub(crate) fn host_allowed(state: &AppState, host: &str) -> bool {
    let name = host_name(host);
    if name == "localhost" || state.cfg().allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip == state.cfg().listen.ip(),
        Err(_) => false,
    }
}

fn host_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// Refuses a request whose `Host` does not name the sandbox.
fn check_host(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match host_of(headers) {
        // HTTP/1.0 without Host: not a browser.
        None => Ok(()),
        Some(h) if host_allowed(state, h) => Ok(()),
        Some(h) => Err(ApiError::Forbidden(format!(
            "Host {:?} is not this sandbox; start it with --allowed-host {} to answer that name",
            h.chars().take(80).collect::<String>(),
            host_name(h).chars().take(80).collect::<String>()
        ))),
    }
}

/// Whether a content type is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The `scheme://host[:port]` an `Origin` or `Referer` names, as its authority part.
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or_default())
}

/// A form post must come from a page of this sandbox.
fn check_form_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let from =
        headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).map(|v| v.to_str().unwrap_or("null"));
    let Some(from) = from else {
        // No Origin and no Referer: not sent by a browser's form.
        return Ok(());
    };
    let same = match (authority(from), host_of(headers)) {
        (Some(a), Some(h)) => a.eq_ignore_ascii_case(h.trim()),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "desk forms are accepted from desk pages only (the request came from {:?})",
            from.chars().take(80).collect::<String>()
        )))
    }
}

/// The browser checks of the control plane: `Host`, then JSON on every POST.
pub(crate) fn check_control(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    check_host(state, headers)?;
    if method == Method::POST && !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "control-plane POSTs need 'content-type: application/json' (send {} when there is nothing to say)".into(),
        ));
    }
    Ok(())
}

/// Middleware of the desk pages: `Host`, then the origin of form posts.
pub(crate) async fn pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let checked = check_host(&state, req.headers()).and_then(|()| {
        if req.method() == Method::POST {
            check_form_origin(req.headers())
        } else {
            Ok(())
        }
    });
    match checked {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("localhost:8340"), "localhost");
        assert_eq!(host_name("[::1]:8340"), "::1");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("Sandbox.Example.:80"), "sandbox.example");
        assert_eq!(authority("http://127.0.0.1:8340/desk/x?y"), Some("127.0.0.1:8340"));
        assert_eq!(authority("null"), None);
    }

    #[test]
    fn form_origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8340".parse().unwrap());
        assert!(check_form_origin(&h).is_ok());
        h.insert(header::ORIGIN, "http://127.0.0.1:8340".parse().unwrap());
        assert!(check_form_origin(&h).is_ok());
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(check_form_origin(&h).is_err());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(check_form_origin(&h).is_err());
        h.remove(header::ORIGIN);
        h.insert(header::REFERER, "http://127.0.0.1:8341/desk/x".parse().unwrap());
        assert!(check_form_origin(&h).is_err());
    }
}
