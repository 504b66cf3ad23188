//! The sandbox's state: schema migrations, apps, keys, desks, nonces, in SQLite under the data
//! dir (the default) or in a PostgreSQL database shared by several instances.
//!
//! Both backends implement [`backend::Backend`]; [`Store`] dispatches over the two and keeps, once,
//! what does not depend on the database: the in-memory copies.
//!
//! Every state change that must happen once (token consumption, desk completion) is a single
//! conditional `UPDATE … RETURNING`, so it is atomic across connections, processes and instances.
//!
//! Apps and desks read for queries are kept in memory, tagged with the change counter they were
//! read at (`generations`, kept by triggers); the nonce insert that every v3 request makes anyway
//! returns the counters, so a hot query costs one statement instead of three. Callers never see a
//! stale copy: [`Store::app_as_of`] and [`Store::desk_by_token_at`] answer as of the request's
//! counters.

mod apps;
mod authorizations;
mod backend;
mod cache;
mod clock;
mod desks;
mod keys;
mod nonces;
mod postgres;
mod pushed;
mod rows;
mod schema;
mod sql;
mod sqlite;
mod writer;

use std::path::{Path, PathBuf};

use sqlx::postgres::PgConnectOptions;

pub use authorizations::Authorization;
pub use cache::{Generations, Versioned};
pub use clock::{duration_ms, now_ms};
pub use pushed::{JobDataSubject, NewJobData, NewPicture};
pub use rows::{App, AppRecord, Desk, DeskResult, DeskState, KeyRow, NewDesk};
pub use writer::{NonceError, Recorded};

use cache::Copies;
use postgres::PgDb;
use rows::Generational;
use sqlite::SqliteDb;

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
    /// The database failed, or a row holds a value this build cannot read.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The file system does not support WAL (e.g. some network file systems).
    #[error("could not switch the database to WAL mode (journal mode is {0})")]
    Wal(String),
    /// The schema is newer than this build knows.
    #[error("the store has schema version {0}, newer than this sandbox supports ({1})")]
    TooNew(i64, i64),
    /// The PostgreSQL URL cannot be used (the message never repeats the URL).
    #[error("invalid PostgreSQL URL: {0}")]
    Url(String),
}

/// Where the state is kept.
#[derive(Clone)]
pub enum Location {
    /// `DIR/sandbox.db`.
    DataDir(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<PgConnectOptions>),
}

impl Location {
    /// PostgreSQL at `database` when given (a `postgres://` URL), else SQLite under `data_dir`.
    pub fn new(data_dir: &Path, database: Option<&str>) -> Result<Self, StoreError> {
        match database {
            Some(url) => Ok(Location::Postgres(Box::new(postgres::parse_url(url)?))),
            None => Ok(Location::DataDir(data_dir.to_path_buf())),
        }
    }
}

/// `sqlite (DIR/sandbox.db)` or `postgresql (HOST:PORT/DB)`: never a password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::DataDir(dir) => write!(f, "sqlite ({})", dir.join(DB_FILE).display()),
            Location::Postgres(opts) => write!(f, "postgresql ({})", postgres::describe(opts)),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// The backend of a store.
#[derive(Debug)]
enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// Runs `$body` with `$db` bound to whichever backend the store has.
macro_rules! on_db {
    ($store:expr, $db:ident => $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($db) => $body,
            $crate::store::Db::Postgres($db) => $body,
        }
    };
}
use on_db;

/// Most expired nonces one prune (at most one a second per process) deletes: far above the
/// rate requests add them, so a steady store keeps up, while a backlog costs no long stall.
pub(super) const PRUNE_BATCH: i64 = 10_000;

/// Handle on the state: the backend and the in-memory copies.
#[derive(Debug)]
pub struct Store {
    db: Db,
    apps: Copies<String, App>,
    desks: Copies<String, Desk>,
}

impl Store {
    /// Opens the store at `location`, creating it (schema, data dir) on first use.
    pub async fn open(location: &Location) -> Result<Self, StoreError> {
        let db = match location {
            Location::DataDir(dir) => Db::Sqlite(SqliteDb::open(dir).await?),
            Location::Postgres(opts) => Db::Postgres(PgDb::open((**opts).clone()).await?),
        };
        Ok(Store { db, apps: Copies::default(), desks: Copies::default() })
    }

    /// Finishes queued writes and closes the connections (waits for them to be returned).
    pub async fn close(&self) {
        use backend::Backend;
        on_db!(self, db => db.close().await)
    }

    /// The SQLite backend (tests of what only SQLite has).
    #[cfg(test)]
    fn sqlite(&self) -> &SqliteDb {
        match &self.db {
            Db::Sqlite(db) => db,
            Db::Postgres(_) => panic!("not a SQLite store"),
        }
    }

    /// The PostgreSQL backend (tests of what only PostgreSQL has).
    #[cfg(test)]
    fn postgres(&self) -> &PgDb {
        match &self.db {
            Db::Postgres(db) => db,
            Db::Sqlite(_) => panic!("not a PostgreSQL store"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use jobworth_testkit::stores::{StoreKind, TestStore};
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};

    use super::schema::MIGRATIONS;
    use super::sqlite::CHECKPOINT_EVERY;
    use super::*;

    /// Where `place` keeps its state.
    pub(crate) fn location(place: &TestStore) -> Location {
        Location::new(place.data_dir(), place.database_url()).unwrap()
    }

    /// A fresh store of `kind`; keep the place until the store is closed.
    pub(crate) async fn fresh(kind: StoreKind) -> (TestStore, Store) {
        let place = TestStore::new(kind);
        let store = Store::open(&location(&place)).await.unwrap();
        (place, store)
    }

    /// Opens one more store on `place` (another process's view of the same state).
    pub(crate) async fn another(place: &TestStore) -> Store {
        Store::open(&location(place)).await.unwrap()
    }

    /// Runs `sql` (one `$1` parameter) on whichever database the store has.
    pub(crate) async fn execute(store: &Store, sql: &str, param: &str) {
        match &store.db {
            Db::Sqlite(db) => drop(sqlx::query(sql).bind(param).execute(&db.pool).await.unwrap()),
            Db::Postgres(db) => drop(sqlx::query(sql).bind(param).execute(db.pool()).await.unwrap()),
        }
    }

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

    async fn every_write_moves_its_tables_generation(kind: StoreKind) {
        let (_place, s) = fresh(kind).await;
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
        let s = Store::open(&Location::DataDir(dir.path().into())).await.unwrap();
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
        let at = Location::DataDir(dir.path().into());
        let s = Store::open(&at).await.unwrap();
        let (v,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&s.sqlite().pool).await.unwrap();
        assert_eq!(v, MIGRATIONS.last().unwrap().0);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&s.sqlite().pool).await.unwrap();
        assert_eq!(mode, "wal");
        let w = Duration::from_secs(60);
        assert!(s.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_some());
        assert!(s.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_none());
        assert!(s.record_nonce("b", "n1", now_ms(), w).await.unwrap().is_some());
        // Old nonces are pruned (at most once a second).
        assert!(s.record_nonce("a", "old", now_ms() - 120_000, w).await.unwrap().is_some());
        s.sqlite().writer.last_prune_ms.store(0, std::sync::atomic::Ordering::Relaxed);
        assert!(s.record_nonce("a", "n2", now_ms(), w).await.unwrap().is_some());
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM nonces WHERE nonce = 'old'")
            .fetch_one(&s.sqlite().pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        s.close().await;
        // The horizon moved with the prune, and every process on the dir sees it.
        let other = Store::open(&at).await.unwrap();
        let seen = other.record_nonce("a", "n3", now_ms(), Duration::from_secs(3600)).await.unwrap().unwrap();
        assert!(seen.pruned_before > now_ms() - 61_000 && seen.pruned_before <= now_ms() - 59_000, "{seen:?}");
        other.close().await;
        // A database from a newer build is refused.
        let s = Store::open(&at).await.unwrap();
        sqlx::raw_sql("PRAGMA user_version = 99").execute(&s.sqlite().pool).await.unwrap();
        s.close().await;
        assert!(matches!(Store::open(&at).await, Err(StoreError::TooNew(99, _))));
    }

    async fn nonces_are_refused_once_seen_by_any_instance(kind: StoreKind) {
        let (place, a) = fresh(kind).await;
        let b = another(&place).await;
        let w = Duration::from_secs(60);
        assert!(a.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_some());
        assert!(a.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_none());
        assert!(b.record_nonce("a", "n1", now_ms(), w).await.unwrap().is_none());
        assert!(b.record_nonce("b", "n1", now_ms(), w).await.unwrap().is_some());
        assert_eq!(b.nonce_timestamp("a", "n1").await.unwrap().map(|ts| ts <= now_ms()), Some(true));
        assert_eq!(b.nonce_timestamp("a", "never").await.unwrap(), None);
        // The pruning horizon one instance raised is what every instance is told.
        let first = a.record_nonce("a", "n2", now_ms(), w).await.unwrap().unwrap();
        assert!(first.pruned_before > now_ms() - 61_000, "{first:?}");
        let seen = b.record_nonce("a", "n3", now_ms(), Duration::from_secs(3600)).await.unwrap().unwrap();
        assert!(seen.pruned_before >= first.pruned_before, "{seen:?}");
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn a_backlog_of_expired_nonces_drains_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&Location::DataDir(dir.path().into())).await.unwrap();
        let old = now_ms() - 3_600_000;
        let backlog = PRUNE_BATCH + 7;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
             INSERT INTO nonces (app_id, nonce, ts) SELECT 'app', 'old' || i, ? FROM n",
        )
        .bind(backlog)
        .bind(old)
        .execute(&s.sqlite().pool)
        .await
        .unwrap();
        let left = || async {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM nonces WHERE ts = ?")
                .bind(old)
                .fetch_one(&s.sqlite().pool)
                .await
                .unwrap();
            n
        };
        let w = Duration::from_secs(60);
        for (round, expected) in [(1, 7), (2, 0)] {
            s.sqlite().writer.last_prune_ms.store(0, std::sync::atomic::Ordering::Relaxed);
            s.record_nonce("app", &format!("fresh{round}"), now_ms(), w).await.unwrap().unwrap();
            assert_eq!(left().await, expected, "after prune {round}");
        }
        s.close().await;
    }

    #[tokio::test]
    async fn postgres_prunes_a_second_after_raising_the_horizon() {
        let (place, s) = fresh(StoreKind::Postgres).await;
        let db = s.postgres();
        let w = Duration::from_secs(60);
        assert!(s.record_nonce("a", "old", now_ms() - 120_000, w).await.unwrap().is_some());
        let count = || async {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM nonces WHERE nonce = 'old'").fetch_one(db.pool()).await.unwrap();
            n
        };
        // The first prune after the start only raised the horizon; the next one deletes below it.
        assert_eq!(count().await, 1);
        db.last_prune_ms.store(0, std::sync::atomic::Ordering::Relaxed);
        let seen = s.record_nonce("a", "n", now_ms(), w).await.unwrap().unwrap();
        assert!(seen.pruned_before > now_ms() - 61_000, "{seen:?}");
        assert_eq!(count().await, 0);
        s.close().await;
        // A database from a newer build is refused.
        let s = another(&place).await;
        execute(&s, "UPDATE jobworth_schema SET version = 99 WHERE $1 = $1", "").await;
        s.close().await;
        assert!(matches!(Store::open(&location(&place)).await, Err(StoreError::TooNew(99, _))));
    }

    #[tokio::test]
    async fn the_banner_never_shows_a_password() {
        let at = Location::new(Path::new("x"), Some("postgres://me:hunter2@db:6543/sb")).unwrap();
        assert_eq!(at.to_string(), "postgresql (db:6543/sb)");
        assert_eq!(format!("{at:?}"), "postgresql (db:6543/sb)");
        assert_eq!(
            Location::new(Path::new("d"), None).unwrap().to_string(),
            format!("sqlite ({})", Path::new("d").join(DB_FILE).display())
        );
        let e = Location::new(Path::new("x"), Some("postgres://me:hunter2@db:notaport/sb")).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = Location::new(Path::new("x"), Some("mysql://me:hunter2@db/sb")).unwrap_err();
        assert!(matches!(e, StoreError::Url(_)) && !e.to_string().contains("hunter2"), "{e}");
    }

    #[tokio::test]
    async fn an_open_postgres_store_shows_no_password() {
        let place = TestStore::new(StoreKind::Postgres);
        // The test server trusts loopback: the password is carried, never checked.
        let url = place.database_url().unwrap().replacen("://postgres@", "://postgres:hunter2@", 1);
        let s = Store::open(&Location::new(place.data_dir(), Some(&url)).unwrap()).await.unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && shown.contains("Postgres"), "{shown}");
        s.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test] every_write_moves_its_tables_generation,
        #[tokio::test] nonces_are_refused_once_seen_by_any_instance,
    }
}
