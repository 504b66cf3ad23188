//! SQLite state under the data dir: schema migrations, apps, keys, desks, nonces.
//!
//! Every state change that must happen once (token consumption, desk completion) is a single
//! conditional `UPDATE … RETURNING`, so it is atomic across connections and across processes
//! sharing the file.
//!
//! Apps and desks read for queries are kept in memory, tagged with the change counter they were
//! read at (`generations`, kept by triggers); the nonce insert that every v3 request makes anyway
//! returns the counters, so a hot query costs one SQLite statement instead of three. Callers
//! never see a stale copy: [`Store::app_as_of`] and [`Store::desk_by_token_at`] answer as of the
//! request's counters.

mod apps;
mod authorizations;
mod cache;
mod clock;
mod desks;
mod keys;
mod nonces;
mod pushed;
mod rows;
mod schema;
mod writer;

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::oneshot;

pub use authorizations::Authorization;
pub use cache::{Generations, Versioned};
pub use clock::{duration_ms, now_ms};
pub use pushed::{JobDataSubject, NewJobData, NewPicture};
pub use rows::{App, AppRecord, Desk, DeskResult, DeskState, KeyRow, NewDesk};
pub use writer::{NonceError, Recorded};

use cache::Copies;
use rows::Generational;
use writer::Writer;

/// File name of the database inside the data dir.
pub const DB_FILE: &str = "sandbox.db";

/// Errors of the store: opening it, and every query.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data dir could not be created.
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite failed, or a row holds a value this build cannot read.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The file system does not support WAL (e.g. some network file systems).
    #[error("could not switch the database to WAL mode (journal mode is {0})")]
    Wal(String),
    /// The schema is newer than this build knows.
    #[error("data dir has schema version {0}, newer than this sandbox supports ({1})")]
    TooNew(i64, i64),
}

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

/// Handle on the database: a pool of readers and the single writer (see `writer`).
#[derive(Debug)]
pub struct Store {
    pool: SqlitePool,
    writer: Writer,
    apps: Copies<String, App>,
    desks: Copies<String, Desk>,
    /// Dropped with the store: ends the checkpoint task.
    _stop_checkpoints: oneshot::Sender<()>,
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

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

impl Store {
    /// Opens (creating if needed) `DIR/sandbox.db` in WAL mode and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
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
        Ok(Store {
            pool,
            writer,
            apps: Copies::default(),
            desks: Copies::default(),
            _stop_checkpoints: stop_checkpoints,
        })
    }

    /// Finishes queued writes and closes the connections (waits for them to be returned).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::schema::MIGRATIONS;
    use super::*;

    /// A new desk of app `app` with conn_key `conn`.
    pub(crate) async fn open_desk(store: &Store, conn: &str) -> Desk {
        let new = NewDesk {
            app_id: "app",
            conn_key: conn,
            once_token: "tok",
            identity_type: "04",
            service_id: "svc",
            order_hash: None,
            order_str: None,
        };
        let (d, created) = store.insert_desk(&new).await.unwrap();
        assert!(created);
        d
    }

    #[tokio::test]
    async fn every_write_moves_its_tables_generation() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let w = Duration::from_secs(60);
        let mut n = 0;
        let mut gens = || {
            n += 1;
            let s = &s;
            async move { s.record_nonce("app", &format!("n{n}"), now_ms(), w).await.unwrap().unwrap().generations }
        };
        let g0 = gens().await;
        let app = AppRecord {
            app_id: "app".into(),
            public_key_spki: None,
            encrypt_key: None,
            app_cert_pem: None,
            app_cert_sn: None,
            name: None,
        };
        s.upsert_app(&app).await.unwrap();
        let g1 = gens().await;
        assert!(g1.apps > g0.apps && g1.desks == g0.desks);
        s.upsert_app(&app).await.unwrap();
        let g2 = gens().await;
        assert!(g2.apps > g1.apps);
        // A copy is tagged with the generation it was read at.
        let (copy, fresh) = s.app_copy("app").await.unwrap().unwrap();
        assert!(fresh);
        assert_eq!(copy.generation, g2.apps);
        assert!(!s.app_copy("app").await.unwrap().unwrap().1);

        let d = open_desk(&s, "c").await;
        let g3 = gens().await;
        assert!(g3.desks > g2.desks && g3.apps == g2.apps);
        let copy = s.desk_by_token_at("app", "c", "tok", g3.desks).await.unwrap().unwrap();
        assert_eq!((copy.value.state, copy.generation), (DeskState::Pending, g3.desks));
        s.complete(
            &d.desk_id,
            "teacher",
            DeskState::Terminal,
            Some(DeskResult::Verdict(jobworth_wire::IdentityResult::Success)),
        )
        .await
        .unwrap()
        .unwrap();
        let g4 = gens().await;
        assert!(g4.desks > g3.desks);
        // At the new generation the copy is not used: the row is read again.
        let copy = s.desk_by_token_at("app", "c", "tok", g4.desks).await.unwrap().unwrap();
        assert_eq!((copy.value.state, copy.generation), (DeskState::Terminal, g4.desks));
        s.close().await;
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_by_the_background_task() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        for i in 0..50 {
            s.record_nonce("app", &format!("n{i}"), now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        }
        // The writer never checkpoints; the task does, within a tick. What is in the database
        // file itself (read ignoring the WAL) is what was checkpointed.
        tokio::time::sleep(CHECKPOINT_EVERY * 4).await;
        let file = SqliteConnectOptions::new().filename(dir.path().join(DB_FILE)).immutable(true).read_only(true);
        let mut conn = file.connect().await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM nonces").fetch_one(&mut conn).await.unwrap();
        assert_eq!(n, 50);
        conn.close().await.unwrap();
        s.close().await;
    }

    #[tokio::test]
    async fn schema_version_and_nonces() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let (v,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&s.pool).await.unwrap();
        assert_eq!(v, MIGRATIONS.last().unwrap().0);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&s.pool).await.unwrap();
        assert_eq!(mode, "wal");
        let w = Duration::from_secs(60);
        assert!(s.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_some());
        assert!(s.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_none());
        assert!(s.record_nonce("b", "n1", now_ms(), w).await.unwrap().is_some());
        // Old nonces are pruned (at most once a second).
        assert!(s.record_nonce("a", "old", now_ms() - 120_000, w).await.unwrap().is_some());
        s.writer.last_prune_ms.store(0, std::sync::atomic::Ordering::Relaxed);
        assert!(s.record_nonce("a", "n2", now_ms(), w).await.unwrap().is_some());
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM nonces WHERE nonce = 'old'").fetch_one(&s.pool).await.unwrap();
        assert_eq!(n, 0);
        s.close().await;
        // The horizon moved with the prune, and every process on the dir sees it.
        let other = Store::open(dir.path()).await.unwrap();
        let seen = other.record_nonce("a", "n3", now_ms(), Duration::from_secs(3600)).await.unwrap().unwrap();
        assert!(seen.pruned_before > now_ms() - 61_000 && seen.pruned_before <= now_ms() - 59_000, "{seen:?}");
        other.close().await;
        // A database from a newer build is refused.
        let s = Store::open(dir.path()).await.unwrap();
        sqlx::raw_sql("PRAGMA user_version = 99").execute(&s.pool).await.unwrap();
        s.close().await;
        assert!(matches!(Store::open(dir.path()).await, Err(StoreError::TooNew(99, _))));
    }
}
