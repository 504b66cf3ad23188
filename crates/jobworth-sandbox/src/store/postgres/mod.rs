//! The PostgreSQL backend: several sandbox instances on one database.
//!
//! Each write is one statement on the pool, committed before it returns, so an instance killed
//! at any moment loses nothing it acknowledged. Exactly-once consumption is the same conditional
//! `UPDATE … RETURNING` as on SQLite (row locks make concurrent ones wait and re-check the
//! `WHERE`); a nonce is refused by the primary key (`ON CONFLICT DO NOTHING` returns no row);
//! the change counters are bumped by triggers in the writing transaction, so the in-memory
//! copies stay exact across instances.

pub(super) mod schema;

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Connection;

use super::authorizations::Authorization;
use super::backend::{Backend, DeskChange};
use super::pushed::{JobDataRow, NewJobData, NewPicture, PictureRow, PositionRow};
use super::sql::{self, backend_reads, bind_app, bind_desk_change, bind_desk_insert};
use super::{
    duration_ms, now_ms, AppRecord, Desk, Generational, Generations, KeyRow, NewDesk, NonceError, Recorded, StoreError,
};

/// How long the first connection may take (a server that drops packets would hang it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Connections per instance: several instances share the server's connection limit.
const MAX_CONNECTIONS: u32 = 10;

/// A database URL shown without its password (and without query parameters, which may carry
/// one): `host:port/db`.
pub(super) fn describe(opts: &PgConnectOptions) -> String {
    format!("{}:{}/{}", opts.get_host(), opts.get_port(), opts.get_database().unwrap_or_else(|| opts.get_username()))
}

/// Parses a `postgres://` URL; the error never repeats the URL (it may hold a password).
pub(super) fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Url("it must start with postgres:// or postgresql://".to_owned()));
    }
    PgConnectOptions::from_str(url).map_err(|e| {
        let why = match e {
            sqlx::Error::Configuration(inner) => inner.to_string(),
            _ => "not a PostgreSQL URL".to_owned(),
        };
        StoreError::Url(why.replace(url, "<url>"))
    })
}

/// Connections to one PostgreSQL database.
#[derive(Debug)]
pub(super) struct PgDb {
    pool: PgPool,
    /// When this instance last pruned nonces (epoch ms).
    pub(super) last_prune_ms: AtomicI64,
    /// The horizon this instance raised at its previous prune: nonces below it are deleted now.
    previous_cutoff: AtomicI64,
}

impl PgDb {
    /// Connects and applies migrations.
    pub(super) async fn open(opts: PgConnectOptions) -> Result<Self, StoreError> {
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&opts))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let migrated = schema::migrate(&mut conn).await;
        let _ = conn.close().await;
        migrated?;
        // No ping before each use (sqlx's default): it doubles the round trips of every
        // statement. A connection the server dropped fails its one statement (a 5xx, nothing
        // half-done: each write is one statement) and is not returned to the pool.
        let pool = PgPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(opts)
            .await?;
        Ok(PgDb { pool, last_prune_ms: AtomicI64::new(0), previous_cutoff: AtomicI64::new(i64::MIN) })
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Raises the pruning horizon to `now - window` and deletes the nonces below the horizon this
    /// instance raised at its previous prune, a second or more ago. The delay is what keeps a
    /// replay out: a nonce insert reads the horizon in its statement's snapshot, so one that began
    /// just before the horizon moved, and met the old nonce's row only once it was deleted, would
    /// see neither; deleting only below a horizon committed a second before leaves no such window
    /// for any statement that does not stall that long.
    async fn prune(&self, now: i64, window: Duration) -> Result<(), sqlx::Error> {
        let cutoff = now - duration_ms(window);
        // At most one prune a second starts here (the exchange in `record_nonce`).
        let delete_below = self.previous_cutoff.load(Ordering::Relaxed);
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE generations SET nonces_pruned_before = GREATEST(nonces_pruned_before, $1)")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        if delete_below > i64::MIN {
            // A bounded batch, as on SQLite: a backlog drains over several prunes.
            sqlx::query(
                "DELETE FROM nonces WHERE ctid IN (SELECT ctid FROM nonces WHERE ts < $1 ORDER BY ts LIMIT $2)",
            )
            .bind(delete_below.min(cutoff))
            .bind(super::PRUNE_BATCH)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        // Only a committed horizon counts as raised.
        self.previous_cutoff.store(cutoff, Ordering::Relaxed);
        Ok(())
    }
}

impl Backend for PgDb {
    backend_reads!(pool);

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, StoreError> {
        // The primary key (id = 1) makes a second instance's insert wait for the first one's
        // commit and then do nothing: every instance reads back the one row.
        sql::bind_keys_insert!(new, now_ms()).execute(&self.pool).await?;
        Ok(sqlx::query_as(sql::KEYS_SELECT).fetch_one(&self.pool).await?)
    }

    async fn write_app(&self, app: &AppRecord, replace: bool) -> Result<bool, StoreError> {
        let now = now_ms();
        let inserted = bind_app!(sql::APP_INSERT, app, now).execute(&self.pool).await?.rows_affected() == 1;
        if !inserted && replace {
            bind_app!(sql::APP_UPDATE, app, now).execute(&self.pool).await?;
        }
        Ok(inserted)
    }

    async fn recent_desks(&self, limit: u32) -> Result<Vec<Desk>, StoreError> {
        let sql = format!("SELECT {} FROM desks ORDER BY created_at DESC, seq DESC LIMIT $1", sql::DESK_COLUMNS);
        Ok(sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    async fn insert_desk(&self, desk_id: &str, new: &NewDesk<'_>) -> Result<bool, StoreError> {
        let done = bind_desk_insert!(desk_id, new, now_ms()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_desk(&self, desk_id: &str, change: DeskChange) -> Result<Option<Desk>, StoreError> {
        let sql = sql::desk_change_sql(&change);
        Ok(bind_desk_change!(sql, change, desk_id, now_ms()).fetch_optional(&self.pool).await?)
    }

    async fn record_nonce(
        &self,
        app_id: &str,
        nonce: &str,
        ts_ms: i64,
        window: Duration,
    ) -> Result<Option<Recorded>, NonceError> {
        let db = |e| match e {
            sqlx::Error::PoolClosed => NonceError::Closed,
            e => NonceError::Db(std::sync::Arc::new(e)),
        };
        let now = now_ms();
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        // One prune a second per instance; the exchange keeps concurrent requests from all doing it.
        if now - last >= 1000
            && self.last_prune_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.prune(now, window).await.map_err(db)?;
        }
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "INSERT INTO nonces (app_id, nonce, ts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING \
             RETURNING (SELECT apps FROM generations), (SELECT desks FROM generations), \
             (SELECT nonces_pruned_before FROM generations)",
        )
        .bind(app_id)
        .bind(nonce)
        .bind(ts_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(|(apps, desks, pruned_before)| Recorded { generations: Generations { apps, desks }, pruned_before }))
    }

    sql::family_reads!(pool, "seq");

    async fn insert_job_data(&self, acceptance_id: &str, new: &NewJobData) -> Result<(), StoreError> {
        sql::bind_job_data!(acceptance_id, new, now_ms()).execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_position(
        &self,
        position_id: &str,
        app_id: &str,
        ka_position_id: Option<&str>,
        info: &str,
    ) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar(sql::POSITION_UPSERT)
            .bind(position_id)
            .bind(app_id)
            .bind(ka_position_id)
            .bind(info)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?)
    }

    async fn update_position(&self, app_id: &str, position_id: &str, info: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::POSITION_UPDATE)
            .bind(info)
            .bind(now_ms())
            .bind(app_id)
            .bind(position_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_picture(&self, pic_id: &str, new: &NewPicture, sha256: &str) -> Result<(), StoreError> {
        sql::bind_picture!(pic_id, new, sha256, now_ms()).execute(&self.pool).await?;
        Ok(())
    }

    async fn read_resume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Authorization>, StoreError> {
        let now = now_ms();
        Ok(sqlx::query_as(sql::READ_RESUME)
            .bind(now)
            .bind(desk_id)
            .bind(super::DeskState::Cancelled)
            .bind(duration_ms(ttl))
            .fetch_optional(&self.pool)
            .await?)
    }
}
