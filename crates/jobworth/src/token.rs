//! The query's single-use `once_token`: which tokens had an ambiguous query, and what a later
//! `TOKEN_INVALID` for one of them means.
//!
//! The transport knows nothing of this: it hands each attempt's outcome to [`settle`] before it
//! decides on a retry. Where the memory lives is a [`TokenLedger`]: in this process by default
//! ([`MemoryLedger`]), or a store that several instances of a backend share.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::client::{Retry, Settle};
use crate::error::{Error, RecordedAttempt};
use crate::request::RawResponse;
use jobworth_wire::ErrorCode;

const LEDGER_CAPACITY: usize = 4096;
/// How long an ambiguous attempt is remembered (a desk's token lives shorter).
pub const LEDGER_TTL: Duration = Duration::from_secs(3600);

/// The future a [`TokenLedger`] or a [`ReceiptSink`](crate::ReceiptSink) method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// What a [`TokenLedger`] or a [`ReceiptSink`](crate::ReceiptSink) reports when its store fails.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// A token as a ledger knows it: the app id and a SHA-256 of `(conn_key, once_token)`, never
/// the token itself. The same on every instance, so that a shared store finds it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    app_id: String,
    hash: [u8; 32],
}

impl TokenKey {
    /// The key of a query's token.
    pub fn new(app_id: &str, conn_key: Option<&str>, once_token: &str) -> Self {
        Self::hashed(app_id, None, conn_key, once_token)
    }

    /// The key of a token sent to another endpoint (`path`, e.g. the cloud résumé's): what one
    /// endpoint consumes is apart from what the query consumes.
    pub fn at(app_id: &str, path: &str, conn_key: Option<&str>, once_token: &str) -> Self {
        Self::hashed(app_id, Some(path), conn_key, once_token)
    }

    fn hashed(app_id: &str, path: Option<&str>, conn_key: Option<&str>, once_token: &str) -> Self {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"jobworth-token-ledger/1\0");
        if let Some(path) = path {
            // The query's keys stay as they were; other endpoints' are told apart by their path.
            ctx.update(b"path\0");
            ctx.update(&(path.len() as u64).to_be_bytes());
            ctx.update(path.as_bytes());
        }
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        for part in [conn_key.unwrap_or(""), once_token] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let mut hash = [0u8; 32];
        hash.copy_from_slice(ctx.finish().as_ref());
        TokenKey { app_id: app_id.to_string(), hash }
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// SHA-256 of the conn_key and once_token.
    pub fn token_hash(&self) -> &[u8; 32] {
        &self.hash
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey({}, {}…)", self.app_id, alipay_v3::hex(&self.hash[..6]))
    }
}

/// The first ambiguous attempt with a token, as a ledger keeps it.
#[derive(Clone, Debug)]
pub struct AmbiguousAttempt {
    /// One line: what happened and the ids to quote (no token, no secret).
    pub summary: String,
    /// When it was recorded, epoch milliseconds.
    pub recorded_at_ms: u64,
    /// The error itself, when the ledger is in this process.
    error: Option<Box<Error>>,
}

impl AmbiguousAttempt {
    /// An attempt read back from a store: its summary and when it was recorded.
    pub fn new(summary: impl Into<String>, recorded_at_ms: u64) -> Self {
        AmbiguousAttempt { summary: summary.into(), recorded_at_ms, error: None }
    }

    fn of(err: &Error) -> Self {
        AmbiguousAttempt {
            summary: err.summary(),
            recorded_at_ms: alipay_v3::now_millis(),
            error: Some(Box::new(err.clone())),
        }
    }

    /// The error, when this process saw it (`None` when another instance recorded it).
    pub fn error(&self) -> Option<&Error> {
        self.error.as_deref()
    }

    /// What [`Error::TokenPossiblyConsumed`] reports as `first`.
    fn into_error(self) -> Error {
        match self.error {
            Some(e) => *e,
            None => Error::from(RecordedAttempt { summary: self.summary, recorded_at_ms: self.recorded_at_ms }),
        }
    }
}

/// Where the client remembers tokens whose query was ambiguous, so that a later `TOKEN_INVALID`
/// for one of them is reported as [`Error::TokenPossiblyConsumed`].
///
/// The default is [`MemoryLedger`], one per client (shared by its clones). Instances of a
/// backend that share one store (the `postgres` feature's `PostgresLedger`, or your own) give
/// each other that knowledge. A failing store never fails a call: the outcome is returned as
/// it is and the failure is logged (`warn`), which can only turn a `TokenPossiblyConsumed` back
/// into a plain `TOKEN_INVALID`.
///
/// ```
/// use jobworth::{AmbiguousAttempt, BoxFuture, StoreError, TokenKey, TokenLedger};
/// struct Forgetful;
/// impl TokenLedger for Forgetful {
///     fn remember<'a>(&'a self, _: &'a TokenKey, _: &'a AmbiguousAttempt) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async { Ok(()) })
///     }
///     fn take<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<Option<AmbiguousAttempt>, StoreError>> {
///         Box::pin(async { Ok(None) })
///     }
///     fn forget<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait TokenLedger: Send + Sync {
    /// Records an ambiguous attempt; an unexpired record of the same token is kept (the first
    /// one is the attempt that may have consumed it).
    fn remember<'a>(
        &'a self,
        key: &'a TokenKey,
        attempt: &'a AmbiguousAttempt,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes the token's record and returns it, unless older than [`LEDGER_TTL`].
    fn take<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<Option<AmbiguousAttempt>, StoreError>>;
    /// Removes the token's record: a definite answer came.
    fn forget<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// The in-process [`TokenLedger`]: at most 4096 tokens, each for [`LEDGER_TTL`].
#[derive(Default)]
pub struct MemoryLedger {
    entries: Mutex<HashMap<TokenKey, (Instant, AmbiguousAttempt)>>,
}

impl fmt::Debug for MemoryLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLedger").field("tokens", &self.entries().len()).finish()
    }
}

impl MemoryLedger {
    fn entries(&self) -> MutexGuard<'_, HashMap<TokenKey, (Instant, AmbiguousAttempt)>> {
        // The ledger holds no invariant a panic elsewhere could break.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, key: &TokenKey, attempt: &AmbiguousAttempt) {
        let mut entries = self.entries();
        if entries.len() >= LEDGER_CAPACITY && !entries.contains_key(key) {
            entries.retain(|_, (at, _)| at.elapsed() < LEDGER_TTL);
            if entries.len() >= LEDGER_CAPACITY {
                if let Some(oldest) = entries.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) {
                    entries.remove(&oldest);
                }
            }
        }
        let fresh = entries.get(key).is_some_and(|(at, _)| at.elapsed() < LEDGER_TTL);
        if !fresh {
            entries.insert(key.clone(), (Instant::now(), attempt.clone()));
        }
    }
}

impl TokenLedger for MemoryLedger {
    fn remember<'a>(
        &'a self,
        key: &'a TokenKey,
        attempt: &'a AmbiguousAttempt,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.insert(key, attempt);
        Box::pin(async { Ok(()) })
    }

    fn take<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<Option<AmbiguousAttempt>, StoreError>> {
        let taken = self.entries().remove(key).filter(|(at, _)| at.elapsed() < LEDGER_TTL).map(|(_, a)| a);
        Box::pin(async move { Ok(taken) })
    }

    fn forget<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries().remove(key);
        Box::pin(async { Ok(()) })
    }
}

/// How a query with a single-use token may be repeated: an attempt that may have consumed the
/// token (timeout, lost connection, 408/429/5xx) only when the caller opted in; a plain refusal
/// consumed nothing and may be.
pub(crate) fn retry_policy(retry_ambiguous: bool) -> Retry {
    Retry { unanswered: retry_ambiguous, ambiguous_answers: retry_ambiguous }
}

fn store_failed(what: &str, e: &StoreError) {
    tracing::warn!(error = %e, "token ledger: {what} failed; the outcome is returned as it is");
}

/// A query's token and the ledger that keeps it, settling each attempt.
pub(crate) struct TokenSettle<'a> {
    pub ledger: &'a dyn TokenLedger,
    pub key: Option<TokenKey>,
    /// The codes with which the endpoint answers a spent token.
    pub spent: &'a [ErrorCode],
}

/// What the authentication query answers for a spent token.
pub(crate) const QUERY_SPENT: &[ErrorCode] = &[ErrorCode::TokenInvalid];

impl Settle for TokenSettle<'_> {
    fn settle(&self, result: Result<RawResponse, Error>) -> BoxFuture<'_, Result<RawResponse, Error>> {
        Box::pin(settle(self.ledger, self.key.as_ref(), self.spent, result))
    }
}

/// One attempt's outcome, before the retry decision: marks it as a single-use token call,
/// keeps the ledger, and turns a spent-token code (`TOKEN_INVALID` for the query) that follows an
/// ambiguous attempt into
/// [`Error::TokenPossiblyConsumed`].
pub(crate) async fn settle(
    ledger: &dyn TokenLedger,
    key: Option<&TokenKey>,
    spent: &[ErrorCode],
    result: Result<RawResponse, Error>,
) -> Result<RawResponse, Error> {
    let result = match result {
        Ok(mut r) => {
            r.request.single_use_token = true;
            Ok(r)
        }
        Err(mut e) => {
            if let Some(info) = e.request_mut() {
                info.single_use_token = true;
            }
            Err(e)
        }
    };
    let Some(k) = key else {
        return result;
    };
    match result {
        Ok(r) => {
            if let Err(e) = ledger.forget(k).await {
                store_failed("forget", &e);
            }
            Ok(r)
        }
        Err(e) if e.api_code().is_some_and(|c| spent.contains(c)) => match ledger.take(k).await {
            Ok(Some(first)) => {
                Err(Error::TokenPossiblyConsumed { first: Box::new(first.into_error()), last: Box::new(e) })
            }
            Ok(None) => Err(e),
            Err(le) => {
                store_failed("take", &le);
                Err(e)
            }
        },
        Err(e) => {
            if e.token_may_be_consumed() {
                remember_ambiguous(ledger, Some(k), &e).await;
            }
            Err(e)
        }
    }
}

/// Records an ambiguous outcome for the token (`None`: no token, nothing to record).
pub(crate) async fn remember_ambiguous(ledger: &dyn TokenLedger, key: Option<&TokenKey>, err: &Error) {
    if let Some(k) = key {
        if let Err(e) = ledger.remember(k, &AmbiguousAttempt::of(err)).await {
            store_failed("remember", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_repeats_ambiguous_attempts_only_when_asked() {
        assert_eq!(retry_policy(false), Retry { unanswered: false, ambiguous_answers: false });
        assert_eq!(retry_policy(true), Retry { unanswered: true, ambiguous_answers: true });
    }

    #[test]
    fn keys_are_stable_and_hold_no_token() {
        let a = TokenKey::new("2021", Some("conn"), "tok-secret");
        assert_eq!(a, TokenKey::new("2021", Some("conn"), "tok-secret"));
        assert_ne!(a, TokenKey::new("2021", Some("con"), "ntok-secret"));
        assert_ne!(a, TokenKey::new("2022", Some("conn"), "tok-secret"));
        assert!(!format!("{a:?}").contains("tok-secret"));
    }
}
