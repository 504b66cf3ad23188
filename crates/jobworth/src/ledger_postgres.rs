//! [`PostgresLedger`]: the token ledger in one PostgreSQL table, shared by every instance of a
//! backend that points at the same database.

use std::fmt;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;

use crate::token::{AmbiguousAttempt, BoxFuture, StoreError, TokenKey, TokenLedger, LEDGER_TTL};

/// The table, created when missing. One row per token with an ambiguous attempt; the key is the
/// app id and the SHA-256 of the token ([`TokenKey`]), never the token.
const CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobworth_token_ledger (
        app_id TEXT NOT NULL,
        token_hash BYTEA NOT NULL,
        recorded_at_ms BIGINT NOT NULL,
        summary TEXT NOT NULL,
        PRIMARY KEY (app_id, token_hash)
    )",
    "CREATE INDEX IF NOT EXISTS jobworth_token_ledger_recorded_at ON jobworth_token_ledger (recorded_at_ms)",
];

/// Serialises `CREATE … IF NOT EXISTS` between instances starting at once (two concurrent
/// creations of one table can both pass the check and one then fails).
const CREATE_LOCK: i64 = 0x6a6f_6277_6c64_6772;

/// A [`TokenLedger`] on PostgreSQL (feature `postgres`).
///
/// ```no_run
/// # async fn run(builder: jobworth::ClientBuilder) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let ledger = jobworth::PostgresLedger::connect("postgres://jobworth@10.0.0.5:5432/merchant").await?;
/// let client = builder.token_ledger(std::sync::Arc::new(ledger)).build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresLedger {
    pool: PgPool,
}

impl fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connect options hold the password.
        f.debug_struct("PostgresLedger").finish_non_exhaustive()
    }
}

impl PostgresLedger {
    /// Connects (a small pool) and creates the table when missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
        Self::new(pool).await
    }

    /// Uses an existing pool; creates the table when missing.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CREATE_LOCK).execute(&mut *tx).await?;
        for statement in CREATE {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(PostgresLedger { pool })
    }

    /// The pool, e.g. to close it.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn now_ms() -> i64 {
    i64::try_from(alipay_v3::now_millis()).unwrap_or(i64::MAX)
}

fn oldest_kept() -> i64 {
    now_ms().saturating_sub(i64::try_from(LEDGER_TTL.as_millis()).unwrap_or(i64::MAX))
}

impl TokenLedger for PostgresLedger {
    fn remember<'a>(
        &'a self,
        key: &'a TokenKey,
        attempt: &'a AmbiguousAttempt,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let oldest = oldest_kept();
            sqlx::query("DELETE FROM jobworth_token_ledger WHERE recorded_at_ms < $1")
                .bind(oldest)
                .execute(&self.pool)
                .await?;
            // The first unexpired attempt stays: that is the one that may have consumed the token.
            sqlx::query(
                "INSERT INTO jobworth_token_ledger (app_id, token_hash, recorded_at_ms, summary) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (app_id, token_hash) DO UPDATE
                 SET recorded_at_ms = EXCLUDED.recorded_at_ms, summary = EXCLUDED.summary
                 WHERE jobworth_token_ledger.recorded_at_ms < $5",
            )
            .bind(key.app_id())
            .bind(&key.token_hash()[..])
            .bind(i64::try_from(attempt.recorded_at_ms).unwrap_or(i64::MAX))
            .bind(&attempt.summary)
            .bind(oldest)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn take<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<Option<AmbiguousAttempt>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "DELETE FROM jobworth_token_ledger WHERE app_id = $1 AND token_hash = $2
                 RETURNING summary, recorded_at_ms",
            )
            .bind(key.app_id())
            .bind(&key.token_hash()[..])
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let at: i64 = row.try_get("recorded_at_ms")?;
            if at < oldest_kept() {
                return Ok(None);
            }
            let summary: String = row.try_get("summary")?;
            Ok(Some(AmbiguousAttempt::new(summary, u64::try_from(at).unwrap_or(0))))
        })
    }

    fn forget<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM jobworth_token_ledger WHERE app_id = $1 AND token_hash = $2")
                .bind(key.app_id())
                .bind(&key.token_hash()[..])
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }
}
