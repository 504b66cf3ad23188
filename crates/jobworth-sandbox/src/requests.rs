//! The signed requests this process answered, kept in memory for `GET /sandbox/requests` and the
//! inspector: a ring of the last [`Limits::request_log`](crate::Limits) entries, secrets masked
//! before they are stored.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::diagnosis::Diagnosis;
use crate::error::{ApiError, JSON_UTF8};
use crate::state::AppState;

/// Entries `GET /sandbox/requests` returns without `limit`.
pub(crate) const DEFAULT_LIMIT: usize = 100;

/// `ok` (answered below 400) or `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Ok,
    Refused,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Verdict::Ok),
            "refused" => Some(Verdict::Refused),
            _ => None,
        }
    }
}

/// One answered request, as it may be shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    /// The trace id the answer carried in `alipay-trace-id`.
    pub id: String,
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    pub method: String,
    /// The request-target, secret values masked.
    pub target: String,
    pub app_id: Option<String>,
    pub status: u16,
    /// The answer's error code; `null` on success.
    pub code: Option<&'static str>,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// What the sandbox verified the signature over, secret values masked.
    pub string_to_sign: Option<String>,
    pub latency_ms: u64,
    /// The answer's error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The request headers, the signature elided (shown by the inspector only).
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub app_id: Option<String>,
    pub verdict: Option<Verdict>,
    pub limit: usize,
}

impl Filter {
    fn admits(&self, e: &Entry) -> bool {
        self.app_id.as_ref().is_none_or(|a| e.app_id.as_ref() == Some(a)) && self.verdict.is_none_or(|v| e.verdict == v)
    }

    /// Reads `limit`, `app_id` and `verdict` from a query string (empty values mean "any").
    pub(crate) fn parse(query: Option<&str>, capacity: usize) -> Result<Self, ApiError> {
        let pairs = alipay_v3::query::parse_query(query.unwrap_or_default())
            .map_err(|e| ApiError::Invalid(format!("query string: {e}")))?;
        let mut f = Filter { limit: DEFAULT_LIMIT.min(capacity.max(1)), ..Filter::default() };
        for (k, v) in pairs {
            match k.as_str() {
                "limit" => {
                    f.limit = v.parse().ok().filter(|n| (1..=capacity.max(1)).contains(n)).ok_or_else(|| {
                        ApiError::Invalid(format!("limit must be an integer from 1 to {}", capacity.max(1)))
                    })?
                }
                "app_id" if !v.is_empty() => f.app_id = Some(v),
                "verdict" if !v.is_empty() => {
                    f.verdict = Some(
                        Verdict::parse(&v)
                            .ok_or_else(|| ApiError::Invalid("verdict must be 'ok' or 'refused'".into()))?,
                    )
                }
                _ => {}
            }
        }
        Ok(f)
    }
}

/// The ring. A capacity of 0 keeps nothing.
#[derive(Debug)]
pub(crate) struct RequestLog {
    capacity: usize,
    entries: Mutex<VecDeque<Arc<Entry>>>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RequestLog { capacity, entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))) }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Entry>>> {
        // A panic while holding the lock cannot leave the ring inconsistent: keep using it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an entry, dropping the oldest when full.
    pub(crate) fn push(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.lock();
        while ring.len() >= self.capacity {
            ring.pop_front();
        }
        ring.push_back(Arc::new(entry));
    }

    /// The newest entries the filter admits, newest first.
    pub(crate) fn recent(&self, filter: &Filter) -> Vec<Arc<Entry>> {
        self.lock().iter().rev().filter(|e| filter.admits(e)).take(filter.limit).cloned().collect()
    }

    /// The entry with this trace id.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.lock().iter().rev().find(|e| e.id == id).cloned()
    }

    /// The app ids in the log, sorted.
    pub(crate) fn app_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().iter().filter_map(|e| e.app_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// `GET /sandbox/requests?limit=N&app_id=A&verdict=ok|refused`
pub(crate) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let log = state.requests();
    let filter = Filter::parse(query.as_deref(), log.capacity())?;
    let entries = log.recent(&filter);
    let list: Vec<&Entry> = entries.iter().map(Arc::as_ref).collect();
    let mut res = (StatusCode::OK, axum::Json(list)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, app: &str, verdict: Verdict) -> Entry {
        Entry {
            id: id.into(),
            at: String::new(),
            method: "GET".into(),
            target: "/v3/x".into(),
            app_id: Some(app.into()),
            status: if verdict == Verdict::Ok { 200 } else { 400 },
            code: None,
            verdict,
            diagnosis: None,
            string_to_sign: None,
            latency_ms: 0,
            message: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let log = RequestLog::new(3);
        for i in 0..5 {
            log.push(entry(&i.to_string(), if i % 2 == 0 { "a" } else { "b" }, Verdict::Ok));
        }
        let all = log.recent(&Filter { limit: 10, ..Filter::default() });
        assert_eq!(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["4", "3", "2"]);
        let a = log.recent(&Filter { app_id: Some("a".into()), limit: 10, ..Filter::default() });
        assert_eq!(a.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["4", "2"]);
        assert!(log.get("1").is_none() && log.get("3").is_some());
        assert_eq!(log.app_ids(), ["a", "b"]);
        RequestLog::new(0).push(entry("x", "a", Verdict::Ok));
    }

    #[test]
    fn filters_parse() {
        assert_eq!(Filter::parse(None, 1000).unwrap().limit, 100);
        assert_eq!(
            Filter::parse(Some("limit=1000&verdict=refused&app_id="), 1000).unwrap(),
            Filter { app_id: None, verdict: Some(Verdict::Refused), limit: 1000 }
        );
        for bad in ["limit=0", "limit=1001", "limit=x", "limit=", "verdict=maybe"] {
            assert!(matches!(Filter::parse(Some(bad), 1000), Err(ApiError::Invalid(_))), "{bad}");
        }
    }
}
