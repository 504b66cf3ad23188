//! The request log: one span per request, carrying the server-chosen trace id, and one line when
//! it is answered. Only the path is logged, never the query (it may hold `cert_no`) nor a header.
//!
//! Signed requests (`/v3/…`, and order strings at `POST /sandbox/desk` and `GET /desk`) also go to
//! the in-memory [`RequestLog`](crate::requests::RequestLog), with what their handler noted about
//! them ([`note`]): the app, the string-to-sign, why they were refused.

use std::cell::RefCell;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;
use tracing::Instrument;

use crate::diagnosis::{rfc3339, Diagnosis};
use crate::error::{ApiError, Refused};
use crate::redact;
use crate::requests::{Entry, Verdict};
use crate::state::AppState;
use crate::store::now_ms;

/// What a handler learnt about a signed request while answering it.
#[derive(Debug, Default)]
pub(crate) struct Note {
    /// Set by handlers of signed requests: the request goes to the request log.
    signed: bool,
    app_id: Option<String>,
    string_to_sign: Option<String>,
    diagnosis: Option<Diagnosis>,
    code: Option<&'static str>,
    message: Option<String>,
}

impl Note {
    /// A signed request by `app_id`, verified over `string_to_sign` (shown masked).
    pub(crate) fn signed(&mut self, app_id: &str, string_to_sign: Option<&str>) {
        self.signed = true;
        self.app_id = Some(redact::id(app_id));
        self.string_to_sign = string_to_sign.map(redact::string_to_sign);
    }

    /// A signed request without an app to name (its authorization did not parse).
    pub(crate) fn unsigned(&mut self) {
        self.signed = true;
    }

    /// How it was refused. The first refusal noted is the one that ended the request; a caller
    /// further out noting the same error again changes nothing.
    pub(crate) fn refused(&mut self, error: &ApiError, diagnosis: Option<Diagnosis>) {
        if self.code.is_none() {
            self.diagnosis = diagnosis;
            self.code = Some(error.code());
            self.message = Some(error.message().to_string());
        }
    }
}

tokio::task_local! {
    static NOTE: RefCell<Note>;
}

/// Adds to the note of the request being answered (nothing outside a request).
pub(crate) fn note(f: impl FnOnce(&mut Note)) {
    let _ = NOTE.try_with(|n| f(&mut n.borrow_mut()));
}

/// Paths whose requests are signed, and so may go to the request log.
fn may_be_signed(path: &str) -> bool {
    path == "/v3" || path.starts_with("/v3/") || path == "/sandbox/desk" || path == "/desk"
}

/// Middleware; sits inside the layer that sets the trace id.
pub(crate) async fn requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let trace =
        req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-").to_string();
    let span = tracing::info_span!("request", trace_id = %trace, method = %req.method(), path = %req.uri().path());
    let arrival = may_be_signed(req.uri().path()).then(|| Arrival {
        method: req.method().to_string(),
        target: req.uri().path_and_query().map_or_else(|| req.uri().path(), |pq| pq.as_str()).to_string(),
        headers: req.headers().clone(),
        at_ms: now_ms(),
    });
    async move {
        let started = Instant::now();
        let (res, note) = NOTE
            .scope(RefCell::new(Note::default()), async {
                let res = next.run(req).await;
                (res, NOTE.with(|n| n.take()))
            })
            .await;
        let status = res.status().as_u16();
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let refused = res.extensions().get::<Refused>().map(|r| r.0);
        match refused {
            Some(code) if status >= 500 => tracing::error!(status, code, latency_ms, "request failed"),
            Some(code) => tracing::info!(status, code, latency_ms, "request refused"),
            None => tracing::info!(status, latency_ms, "request answered"),
        }
        if let Some(arrival) = arrival.filter(|a| note.signed || a.target.starts_with("/v3")) {
            state.requests().push(arrival.entry(trace, status, refused, latency_ms, note));
        }
        res
    }
    .instrument(span)
    .await
}

/// A request that may go to the request log, as it arrived.
struct Arrival {
    method: String,
    target: String,
    headers: HeaderMap,
    at_ms: i64,
}

impl Arrival {
    /// Its log entry, once answered.
    fn entry(self, id: String, status: u16, refused: Option<&'static str>, latency_ms: u64, note: Note) -> Entry {
        let verdict = if status < 400 { Verdict::Ok } else { Verdict::Refused };
        Entry {
            id,
            at: rfc3339(self.at_ms),
            method: self.method,
            target: redact::target(&self.target),
            app_id: note.app_id,
            status,
            code: note.code.or(refused).filter(|_| verdict == Verdict::Refused),
            verdict,
            diagnosis: note.diagnosis,
            string_to_sign: note.string_to_sign,
            latency_ms,
            message: note.message.filter(|_| verdict == Verdict::Refused),
            headers: redact::headers(&self.headers),
        }
    }
}
