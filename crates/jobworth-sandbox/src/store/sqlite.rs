//! The SQLite backend: one file under the data dir in WAL mode, a pool of readers, and the single
//! writer (see `writer`) through which every write of the process goes.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::oneshot;

use super::authorizations::Authorization;
use super::backend::{Backend, DeskChange};
use super::pushed::{JobDataRow, NewJobData, NewPicture, PictureRow, PositionRow};
use super::sql::{self, backend_reads, bind_app, bind_desk_change, bind_desk_insert};
use super::writer::Writer;
use super::{
    duration_ms, now_ms, schema, AppRecord, Desk, Generational, KeyRow, NewDesk, NonceError, Recorded, StoreError,
    DB_FILE,
};

/// Makes the data dir (mode 0700) and the database file (0600) private to the user: they hold the
/// sandbox's signing key, its CA key and the apps' AES keys. SQLite gives its `-wal` and `-shm`
/// files the mode of the database file.
fn private_files(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(data_dir)?;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        let db = data_dir.join(DB_FILE);
        let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(&db)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        for suffix in ["-wal", "-shm"] {
            let side = data_dir.join(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                std::fs::set_permissions(side, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(data_dir)?;
    Ok(())
}

/// How long a statement waits for another connection's (or process's) lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether SQLite answered SQLITE_BUSY or SQLITE_LOCKED (any extended code).
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Puts the database file in WAL mode (persistent), retrying while another process holds a lock.
async fn enable_wal(opts: &SqliteConnectOptions) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        let mut conn = opts.connect().await?;
        let res = sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL").fetch_one(&mut conn).await;
        let _ = conn.close().await;
        match res {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => return Err(StoreError::Wal(mode)),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How often the WAL is copied back into the database file.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Checkpoints the WAL from a reader connection until the store is dropped or closed. `PASSIVE`
/// never waits for (nor blocks) readers and writers, of this process or any other; SQLite starts
/// the WAL over once a checkpoint has copied all of it.
async fn checkpoints(pool: SqlitePool, mut stop: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            if !pool.is_closed() {
                tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
            }
        }
    }
}

/// `DIR/sandbox.db`: a pool of readers and the single writer.
#[derive(Debug)]
pub(super) struct SqliteDb {
    pub(super) pool: SqlitePool,
    pub(super) writer: Writer,
    /// Dropped with the store: ends the checkpoint task.
    _stop_checkpoints: oneshot::Sender<()>,
}

impl SqliteDb {
    /// Opens (creating if needed) `DIR/sandbox.db` in WAL mode and applies migrations.
    pub(super) async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        private_files(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        // journal_mode is left out of the per-connection pragmas: switching it needs a lock that
        // the busy timeout does not wait for, so it is set once below, with retries.
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join(DB_FILE))
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        enable_wal(&opts).await?;
        // The write connection is owned by the writer task; migrations run on it first. It never
        // checkpoints itself: a checkpoint syncs the files, and done in a commit it would stall
        // every queued write; the checkpoint task below does it from a reader connection.
        let mut conn = opts.clone().pragma("wal_autocheckpoint", "0").connect().await?;
        if let Err(e) = schema::migrate(&mut conn).await {
            let _ = conn.close().await;
            return Err(e);
        }
        let writer = Writer::start(conn);
        // No ping before handing out a connection (sqlx's default): a local SQLite connection does
        // not go stale, and each ping is one more round trip to the connection's worker thread.
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(opts)
            .await?;
        let (stop_checkpoints, stop) = oneshot::channel();
        tokio::spawn(checkpoints(pool.clone(), stop));
        Ok(SqliteDb { pool, writer, _stop_checkpoints: stop_checkpoints })
    }
}

impl Backend for SqliteDb {
    backend_reads!(pool);

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, StoreError> {
        let new = new.clone();
        let row = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    sql::bind_keys_insert!(new, now_ms()).execute(&mut *conn).await?;
                    sqlx::query_as(sql::KEYS_SELECT).fetch_one(&mut *conn).await
                })
            })
            .await?;
        Ok(row)
    }

    async fn write_app(&self, app: &AppRecord, replace: bool) -> Result<bool, StoreError> {
        let app = app.clone();
        let inserted = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    let inserted = bind_app!(sql::APP_INSERT, app, now).execute(&mut *conn).await?.rows_affected() == 1;
                    if !inserted && replace {
                        bind_app!(sql::APP_UPDATE, app, now).execute(&mut *conn).await?;
                    }
                    Ok(inserted)
                })
            })
            .await?;
        Ok(inserted)
    }

    async fn recent_desks(&self, limit: u32) -> Result<Vec<Desk>, StoreError> {
        let sql = format!("SELECT {} FROM desks ORDER BY created_at DESC, rowid DESC LIMIT $1", sql::DESK_COLUMNS);
        Ok(sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?)
    }

    async fn insert_desk(&self, desk_id: &str, new: &NewDesk<'_>) -> Result<bool, StoreError> {
        let desk_id = desk_id.to_owned();
        let row = (
            new.app_id.to_owned(),
            new.conn_key.to_owned(),
            new.once_token.to_owned(),
            new.identity_type.to_owned(),
            new.service_id.to_owned(),
            new.order_hash.map(str::to_owned),
            new.order_str.map(str::to_owned),
        );
        let created = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let (app_id, conn_key, once_token, identity_type, service_id, order_hash, order_str) = row;
                    let new = NewDesk {
                        app_id: &app_id,
                        conn_key: &conn_key,
                        once_token: &once_token,
                        identity_type: &identity_type,
                        service_id: &service_id,
                        order_hash: order_hash.as_deref(),
                        order_str: order_str.as_deref(),
                    };
                    let done = bind_desk_insert!(&desk_id, new, now_ms()).execute(&mut *conn).await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        Ok(created)
    }

    async fn update_desk(&self, desk_id: &str, change: DeskChange) -> Result<Option<Desk>, StoreError> {
        let desk_id = desk_id.to_owned();
        let desk = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = sql::desk_change_sql(&change);
                    bind_desk_change!(sql, change, desk_id, now_ms()).fetch_optional(&mut *conn).await
                })
            })
            .await?;
        Ok(desk)
    }

    async fn record_nonce(
        &self,
        app_id: &str,
        nonce: &str,
        ts_ms: i64,
        window: Duration,
    ) -> Result<Option<Recorded>, NonceError> {
        self.writer.record_nonce(app_id, nonce, ts_ms, window).await
    }

    sql::family_reads!(pool, "rowid");

    async fn insert_job_data(&self, acceptance_id: &str, new: &NewJobData) -> Result<(), StoreError> {
        let (id, new) = (acceptance_id.to_owned(), new.clone());
        self.writer
            .run(move |conn| Box::pin(async move { sql::bind_job_data!(id, new, now_ms()).execute(&mut *conn).await }))
            .await?;
        Ok(())
    }

    async fn upsert_position(
        &self,
        position_id: &str,
        app_id: &str,
        ka_position_id: Option<&str>,
        info: &str,
    ) -> Result<String, StoreError> {
        let row = (position_id.to_owned(), app_id.to_owned(), ka_position_id.map(str::to_owned), info.to_owned());
        Ok(self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let (id, app_id, ka, info) = row;
                    sqlx::query_scalar(sql::POSITION_UPSERT)
                        .bind(id)
                        .bind(app_id)
                        .bind(ka)
                        .bind(info)
                        .bind(now_ms())
                        .fetch_one(&mut *conn)
                        .await
                })
            })
            .await?)
    }

    async fn update_position(&self, app_id: &str, position_id: &str, info: &str) -> Result<bool, StoreError> {
        let row = (app_id.to_owned(), position_id.to_owned(), info.to_owned());
        let done = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let (app_id, position_id, info) = row;
                    sqlx::query(sql::POSITION_UPDATE)
                        .bind(info)
                        .bind(now_ms())
                        .bind(app_id)
                        .bind(position_id)
                        .execute(&mut *conn)
                        .await
                })
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_picture(&self, pic_id: &str, new: &NewPicture, sha256: &str) -> Result<(), StoreError> {
        let (id, new, sha256) = (pic_id.to_owned(), new.clone(), sha256.to_owned());
        self.writer
            .run(move |conn| {
                Box::pin(async move { sql::bind_picture!(id, new, sha256, now_ms()).execute(&mut *conn).await })
            })
            .await?;
        Ok(())
    }

    async fn read_resume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Authorization>, StoreError> {
        let desk_id = desk_id.to_owned();
        Ok(self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    sqlx::query_as(sql::READ_RESUME)
                        .bind(now)
                        .bind(desk_id)
                        .bind(super::DeskState::Cancelled)
                        .bind(duration_ms(ttl))
                        .fetch_optional(&mut *conn)
                        .await
                })
            })
            .await?)
    }
}
