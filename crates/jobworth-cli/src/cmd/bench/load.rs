//! The load loop: N closed-loop workers, each repeating its own `WAITING_VERIFY` query until the
//! deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::histogram::Histogram;
use super::proc::process_cpu_time;
use super::progress::Progress;
use super::setup::{Setup, Token};
use super::SERVICE_ID;
use crate::error::CliError;

/// One query; `Ok` only for the answer a `pending` token must give.
async fn query(client: &jobworth::Client, token: &Token) -> Result<(), String> {
    let result = client
        .authentication_query()
        .conn_key(&token.conn_key)
        .once_token(&token.once_token)
        .query_type(jobworth::QueryType::Exact)
        .identity_type(jobworth::IdentityType::Teacher)
        .service_id(SERVICE_ID)
        .user_id(&token.user_id)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match result.identity_result {
        jobworth::IdentityResult::WaitingVerify => Ok(()),
        other => Err(format!("expected WAITING_VERIFY for a pending token, got {}", other.as_str())),
    }
}

pub(super) struct LoadResult {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency: Histogram,
    pub first_error: Option<String>,
    /// Process CPU time used while the clock ran.
    pub cpu: Option<Duration>,
}

pub(super) async fn run_load(setup: &Setup, duration: Duration, progress: &Progress) -> Result<LoadResult, CliError> {
    let done = Arc::new(AtomicU64::new(0));
    // Every worker's first query (its warm-up) opens its keep-alive connection; the clock starts when
    // all of them are through.
    let barrier = Arc::new(tokio::sync::Barrier::new(setup.tokens.len() + 1));
    let mut workers = Vec::with_capacity(setup.tokens.len());
    for token in &setup.tokens {
        let client = setup.clients[token.endpoint].clone();
        let token = Token {
            conn_key: token.conn_key.clone(),
            once_token: token.once_token.clone(),
            user_id: token.user_id.clone(),
            endpoint: token.endpoint,
        };
        let (done, barrier) = (done.clone(), barrier.clone());
        workers.push(tokio::spawn(async move {
            let warm_up = query(&client, &token).await;
            barrier.wait().await;
            warm_up.map_err(|e| format!("warm-up query failed: {e}"))?;
            let deadline = Instant::now() + duration;
            let mut hist = Histogram::new();
            let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
            // Bounded by the deadline; each request by the client's timeout.
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match query(&client, &token).await {
                    Ok(()) => {
                        hist.record(t0.elapsed());
                        ok += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            Ok::<_, String>((ok, errors, first_error, hist))
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let cpu_before = process_cpu_time();

    let ticker = progress.spawn_ticker(done.clone(), started, duration);
    let mut total = LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::new(),
        first_error: None,
        cpu: None,
    };
    let mut failure = None;
    for w in workers {
        match w.await {
            Ok(Ok((ok, errors, first_error, hist))) => {
                total.ok += ok;
                total.errors += errors;
                if total.first_error.is_none() {
                    total.first_error = first_error;
                }
                total.latency.merge(&hist);
            }
            Ok(Err(e)) => failure = failure.or(Some(CliError::transport(e))),
            Err(e) => failure = failure.or(Some(CliError::failure(format!("a load worker failed: {e}")))),
        }
    }
    total.elapsed = started.elapsed();
    total.cpu = cpu_before.zip(process_cpu_time()).map(|(a, b)| b.saturating_sub(a));
    if let Some(t) = ticker {
        t.stop().await;
    }
    match failure {
        Some(e) => {
            progress.clear();
            Err(e)
        }
        None => Ok(total),
    }
}
