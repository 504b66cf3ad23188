//! The query's single-use `once_token`: which tokens had an ambiguous query, and what a later
//! `TOKEN_INVALID` for one of them means.
//!
//! The transport knows nothing of this: it hands each attempt's outcome to
//! [`TokenLedger::settle`] before it decides on a retry.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::client::Retry;
use crate::error::Error;
use crate::request::RawResponse;
use jobworth_wire::ErrorCode;

const LEDGER_CAPACITY: usize = 4096;
const LEDGER_TTL: Duration = Duration::from_secs(3600);

/// A token as the ledger knows it: a keyed hash of `(conn_key, once_token)`, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey(u64);

/// How a query with a single-use token may be repeated: an attempt that may have consumed the
/// token (timeout, lost connection, 408/429/5xx) only when the caller opted in; a plain refusal
/// consumed nothing and may be.
pub(crate) fn retry_policy(retry_ambiguous: bool) -> Retry {
    Retry { unanswered: retry_ambiguous, ambiguous_answers: retry_ambiguous }
}

/// Single-use tokens whose last query was ambiguous. One per client, shared by its clones.
#[derive(Default)]
pub(crate) struct TokenLedger {
    entries: Mutex<HashMap<TokenKey, (Instant, Error)>>,
    hasher: RandomState,
}

impl TokenLedger {
    /// The ledger key of a query's token (`None` without a token).
    pub(crate) fn key(&self, conn_key: Option<&str>, once_token: Option<&str>) -> Option<TokenKey> {
        let token = once_token?;
        Some(TokenKey(self.hasher.hash_one((conn_key, token))))
    }

    /// The ledger key of a token sent to another endpoint (`path`): what one endpoint consumes
    /// is apart from what the query consumes.
    pub(crate) fn key_at(&self, path: &str, conn_key: Option<&str>, once_token: Option<&str>) -> Option<TokenKey> {
        let token = once_token?;
        Some(TokenKey(self.hasher.hash_one((path, conn_key, token))))
    }

    /// One attempt's outcome, before the retry decision: marks it as a single-use token call,
    /// keeps the ledger, and turns a `TOKEN_INVALID` that follows an ambiguous attempt into
    /// [`Error::TokenPossiblyConsumed`].
    pub(crate) fn settle(
        &self,
        key: Option<TokenKey>,
        result: Result<RawResponse, Error>,
    ) -> Result<RawResponse, Error> {
        self.settle_spent(key, result, &[ErrorCode::TokenInvalid])
    }

    /// [`settle`](Self::settle) for an endpoint whose spent token answers one of `spent`.
    pub(crate) fn settle_spent(
        &self,
        key: Option<TokenKey>,
        result: Result<RawResponse, Error>,
        spent: &[ErrorCode],
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
                self.entries().remove(&k);
                Ok(r)
            }
            Err(e) if e.api_code().is_some_and(|c| spent.contains(c)) => match self.take(k) {
                Some(first) => Err(Error::TokenPossiblyConsumed { first: Box::new(first), last: Box::new(e) }),
                None => Err(e),
            },
            Err(e) => {
                if e.token_may_be_consumed() {
                    self.remember(k, e.clone());
                }
                Err(e)
            }
        }
    }

    /// Records an ambiguous outcome for the token (`None`: no token, nothing to record).
    pub(crate) fn remember_ambiguous(&self, key: Option<TokenKey>, err: &Error) {
        if let Some(k) = key {
            self.remember(k, err.clone());
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<TokenKey, (Instant, Error)>> {
        // The ledger holds no invariant a panic elsewhere could break.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, key: TokenKey, err: Error) {
        let mut entries = self.entries();
        if entries.len() >= LEDGER_CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, (at, _)| at.elapsed() < LEDGER_TTL);
            if entries.len() >= LEDGER_CAPACITY {
                if let Some(oldest) = entries.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k) {
                    entries.remove(&oldest);
                }
            }
        }
        // Keep the first ambiguous outcome: that is the attempt that may have consumed the token.
        entries.entry(key).or_insert((Instant::now(), err));
    }

    fn take(&self, key: TokenKey) -> Option<Error> {
        self.entries().remove(&key).filter(|(at, _)| at.elapsed() < LEDGER_TTL).map(|(_, e)| e)
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
}
