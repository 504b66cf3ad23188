//! SQLite state under the data dir: schema migrations, apps, keys, desks, nonces.
//!
//! Every state change that must happen once (token consumption, desk completion) is a single
//! conditional `UPDATE … RETURNING`, so it is atomic across connections and across processes
//! sharing the file.
//!
//! Apps and desks read for queries are kept in memory, tagged with the change counter they were
//! read at (`generations`, kept by triggers); the nonce insert that every v3 request makes anyway
//! returns the counters, so a hot query costs one SQLite statement instead of three.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

use alipay_v3::keys::PublicKey;
use alipay_v3::KeyError;
use tokio::sync::oneshot;

pub(crate) mod cache;
pub(crate) mod writer;

use cache::{Copies, Versioned};
use writer::{NonceError, Recorded, Writer};

/// Schema migrations: (version, SQL). Applied in order inside one `BEGIN IMMEDIATE`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/001_init.sql")),
    (2, include_str!("migrations/002_generations.sql")),
    (3, include_str!("migrations/003_nonce_horizon.sql")),
];

/// File name of the database inside the data dir.
pub const DB_FILE: &str = "sandbox.db";

/// Errors while opening the store.
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
    /// SQLite failed.
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

/// The persisted key material of the sandbox (one row). Its private keys are wiped when it is
/// dropped and never shown by `Debug`.
#[derive(Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// PKCS#8 DER of the Alipay signing key.
    pub alipay_key_pkcs8: Vec<u8>,
    /// PKCS#8 DER of the root CA key.
    pub root_key_pkcs8: Vec<u8>,
    /// Root certificate PEM.
    pub root_cert_pem: String,
    /// Alipay certificate PEM (issued by the root over the Alipay key).
    pub alipay_cert_pem: String,
}

impl Drop for KeyRow {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.alipay_key_pkcs8.zeroize();
        self.root_key_pkcs8.zeroize();
    }
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("alipay_key_pkcs8", &"<redacted>")
            .field("root_key_pkcs8", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A registered app. `Debug` leaves out its AES key.
#[derive(Clone, sqlx::FromRow)]
pub struct AppRecord {
    /// `app_id`
    pub app_id: String,
    /// SPKI DER of the app's public key.
    pub public_key_spki: Option<Vec<u8>>,
    /// base64 AES key.
    pub encrypt_key: Option<String>,
    /// App certificate PEM issued by the sandbox CA.
    pub app_cert_pem: Option<String>,
    /// SN of that certificate.
    pub app_cert_sn: Option<String>,
}

impl std::fmt::Debug for AppRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRecord")
            .field("app_id", &self.app_id)
            .field("public_key_spki", &self.public_key_spki.as_ref().map(|k| k.len()))
            .field("encrypt_key", &self.encrypt_key.as_ref().map(|_| "<redacted>"))
            .field("app_cert_sn", &self.app_cert_sn)
            .finish_non_exhaustive()
    }
}

/// An app as requests use it: the record, and its public key parsed once per read.
#[derive(Debug)]
pub struct App {
    /// The stored row.
    pub record: AppRecord,
    /// `public_key_spki` parsed; `None` when no key is registered.
    pub public_key: Option<Result<PublicKey, KeyError>>,
}

impl App {
    fn new(record: AppRecord) -> Self {
        let public_key = record.public_key_spki.as_deref().map(PublicKey::from_spki_der);
        App { record, public_key }
    }
}

/// Desk state values.
pub mod state {
    /// Opened, or completed by the `pending` persona and not yet resolved.
    pub const PENDING: &str = "pending";
    /// A result (or a persona error outcome) is known.
    pub const TERMINAL: &str = "terminal";
    /// The user declined.
    pub const CANCELLED: &str = "cancelled";
}

/// One desk / verification.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Desk {
    /// Random id (32 hex).
    pub desk_id: String,
    /// Merchant app.
    pub app_id: String,
    /// `out_agreement_no` of step 1.
    pub conn_key: String,
    /// The single-use token.
    pub once_token: String,
    /// Identity type the token was issued for.
    pub identity_type: String,
    /// `zm_service_id` of step 1.
    pub service_id: String,
    /// The order string that opened the desk (absent for fixture shortcuts).
    pub order_str: Option<String>,
    /// Persona that completed the desk.
    pub persona: Option<String>,
    /// `pending`, `terminal` or `cancelled`.
    pub state: String,
    /// `SUCCESS`, `FAILED`, or a business error code.
    pub result: Option<String>,
    /// When the state became terminal/cancelled (epoch ms).
    pub became_terminal_at: Option<i64>,
    /// Whether a terminal result was read.
    pub consumed: bool,
}

/// What a new desk is made of.
#[derive(Debug, Clone)]
pub struct NewDesk<'a> {
    /// Merchant app.
    pub app_id: &'a str,
    /// `conn_key`
    pub conn_key: &'a str,
    /// `once_token`
    pub once_token: &'a str,
    /// Identity type.
    pub identity_type: &'a str,
    /// Service id.
    pub service_id: &'a str,
    /// SHA-256 hex of the order string, for idempotent re-opening.
    pub order_hash: Option<&'a str>,
    /// The order string.
    pub order_str: Option<&'a str>,
}

const KEYS_SELECT: &str =
    "SELECT alipay_key_pkcs8, root_key_pkcs8, root_cert_pem, alipay_cert_pem FROM sandbox_keys WHERE id = 1";

const APP_COLUMNS: &str = "app_id, public_key_spki, encrypt_key, app_cert_pem, app_cert_sn";

/// A row read together with its table's change counter.
#[derive(sqlx::FromRow)]
struct Generational<T> {
    #[sqlx(flatten)]
    row: T,
    generation: i64,
}

const DESK_COLUMNS: &str = "desk_id, app_id, conn_key, once_token, identity_type, service_id, order_str, persona, \
                            state, result, became_terminal_at, consumed";

/// Applies the migrations this build knows, inside one `BEGIN IMMEDIATE`.
async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    // IMMEDIATE takes the write lock up front, so two processes starting on one fresh dir
    // apply the schema one after the other instead of racing.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&mut *tx).await?;
    if version > latest {
        return Err(StoreError::TooNew(version, latest));
    }
    for (v, sql) in MIGRATIONS {
        if *v > version {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
        }
    }
    if latest > version {
        sqlx::raw_sql(&format!("PRAGMA user_version = {latest}")).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
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
        if let Err(e) = migrate(&mut conn).await {
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

    /// The stored key row, if the sandbox was started here before.
    pub async fn keys(&self) -> Result<Option<KeyRow>, sqlx::Error> {
        sqlx::query_as(KEYS_SELECT).fetch_optional(&self.pool).await
    }

    /// Stores `new` unless a key row exists, then returns the stored row. When several
    /// processes race on a fresh data dir, the first insert wins and everyone uses that row.
    pub async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, sqlx::Error> {
        let new = new.clone();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT OR IGNORE INTO sandbox_keys (id, alipay_key_pkcs8, root_key_pkcs8, root_cert_pem, \
                         alipay_cert_pem, created_at) VALUES (1, ?, ?, ?, ?, ?)",
                    )
                    .bind(&new.alipay_key_pkcs8)
                    .bind(&new.root_key_pkcs8)
                    .bind(&new.root_cert_pem)
                    .bind(&new.alipay_cert_pem)
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query_as(KEYS_SELECT).fetch_one(&mut *conn).await
                })
            })
            .await
    }

    /// The app, if registered.
    pub async fn app(&self, app_id: &str) -> Result<Option<AppRecord>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {APP_COLUMNS} FROM apps WHERE app_id = ?"))
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The app as this process last read it (any generation), reading it when there is no copy.
    /// The `bool` says whether it was read just now. Check the generation against the nonce
    /// insert's before relying on it ([`Store::record_nonce`]).
    pub async fn app_copy(&self, app_id: &str) -> Result<Option<(Arc<Versioned<App>>, bool)>, sqlx::Error> {
        if let Some(copy) = self.apps.any(app_id) {
            return Ok(Some((copy, false)));
        }
        Ok(self.app_read(app_id).await?.map(|a| (a, true)))
    }

    /// Reads the app with the `apps` generation it was read at, and keeps the copy.
    pub async fn app_read(&self, app_id: &str) -> Result<Option<Arc<Versioned<App>>>, sqlx::Error> {
        let row: Option<Generational<AppRecord>> = sqlx::query_as(&format!(
            "SELECT {APP_COLUMNS}, (SELECT apps FROM generations) AS generation FROM apps WHERE app_id = ?"
        ))
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            self.apps.forget(app_id);
            return Ok(None);
        };
        let copy = Arc::new(Versioned { value: App::new(row.row), generation: row.generation });
        self.apps.put(app_id.to_owned(), copy.clone());
        Ok(Some(copy))
    }

    /// Registers or replaces an app. Returns `true` when it was new.
    pub async fn upsert_app(&self, app: &AppRecord) -> Result<bool, sqlx::Error> {
        let record = app.clone();
        let inserted = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let app = &record;
                    let now = now_ms();
                    let inserted = sqlx::query(
                        "INSERT OR IGNORE INTO apps (app_id, public_key_spki, encrypt_key, app_cert_pem, app_cert_sn, \
                         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&app.app_id)
                    .bind(&app.public_key_spki)
                    .bind(&app.encrypt_key)
                    .bind(&app.app_cert_pem)
                    .bind(&app.app_cert_sn)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                        == 1;
                    if !inserted {
                        sqlx::query(
                            "UPDATE apps SET public_key_spki = ?, encrypt_key = ?, app_cert_pem = ?, app_cert_sn = ?, \
                             updated_at = ? WHERE app_id = ?",
                        )
                        .bind(&app.public_key_spki)
                        .bind(&app.encrypt_key)
                        .bind(&app.app_cert_pem)
                        .bind(&app.app_cert_sn)
                        .bind(now)
                        .bind(&app.app_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(inserted)
                })
            })
            .await?;
        // Not needed for correctness (the generation tells), but the next request need not ask.
        self.apps.forget(&app.app_id);
        Ok(inserted)
    }

    /// Records a request nonce. Returns `None` when it was already seen for that app (replay),
    /// else the change counters as of this insert (copies read at them are current for the
    /// request) and the pruning horizon. Nonces older than `window` are pruned, at most once a
    /// second.
    pub async fn record_nonce(
        &self,
        app_id: &str,
        nonce: &str,
        ts_ms: i64,
        window: Duration,
    ) -> Result<Option<Recorded>, NonceError> {
        self.writer.record_nonce(app_id, nonce, ts_ms, window).await
    }

    /// Whether any desk of `app_id` has this `conn_key`.
    pub async fn conn_key_exists(&self, app_id: &str, conn_key: &str) -> Result<bool, sqlx::Error> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM desks WHERE app_id = ? AND conn_key = ? LIMIT 1")
            .bind(app_id)
            .bind(conn_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The desk of a (conn_key, once_token) pair.
    pub async fn desk_by_token(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Desk>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {DESK_COLUMNS} FROM desks WHERE app_id = ? AND conn_key = ? AND once_token = ?"
        ))
        .bind(app_id)
        .bind(conn_key)
        .bind(once_token)
        .fetch_optional(&self.pool)
        .await
    }

    /// The desk of a (conn_key, once_token) pair as of `desks_generation` (from the request's
    /// nonce insert): this process's copy when it was read at that generation, else a fresh read.
    pub async fn desk_by_token_at(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
        desks_generation: i64,
    ) -> Result<Option<Arc<Versioned<Desk>>>, sqlx::Error> {
        // Length-prefixed, so no two triples share a key.
        let key = format!("{}:{}:{app_id}{conn_key}{once_token}", app_id.len(), conn_key.len());
        if let Some(copy) = self.desks.at(&key, desks_generation) {
            return Ok(Some(copy));
        }
        let row: Option<Generational<Desk>> = sqlx::query_as(&format!(
            "SELECT {DESK_COLUMNS}, (SELECT desks FROM generations) AS generation FROM desks \
             WHERE app_id = ? AND conn_key = ? AND once_token = ?"
        ))
        .bind(app_id)
        .bind(conn_key)
        .bind(once_token)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| {
            let copy = Arc::new(Versioned { value: row.row, generation: row.generation });
            self.desks.put(key, copy.clone());
            copy
        }))
    }

    /// A desk by id.
    pub async fn desk(&self, desk_id: &str) -> Result<Option<Desk>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {DESK_COLUMNS} FROM desks WHERE desk_id = ?"))
            .bind(desk_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The desk an order string opened before, if any.
    pub async fn desk_by_order(&self, app_id: &str, order_hash: &str) -> Result<Option<Desk>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {DESK_COLUMNS} FROM desks WHERE app_id = ? AND order_hash = ?"))
            .bind(app_id)
            .bind(order_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Inserts a desk unless one with the same (app, conn_key, once_token) or the same order
    /// string exists. Returns the stored desk and whether it was created by this call.
    pub async fn insert_desk(&self, new: &NewDesk<'_>) -> Result<(Desk, bool), sqlx::Error> {
        let desk_id = random_hex(16);
        let row = (
            desk_id.clone(),
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
                    let now = now_ms();
                    let (desk_id, app_id, conn_key, once_token, identity_type, service_id, order_hash, order_str) = row;
                    let done = sqlx::query(
                        "INSERT OR IGNORE INTO desks (desk_id, app_id, conn_key, once_token, identity_type, service_id, \
                         order_hash, order_str, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(desk_id)
                    .bind(app_id)
                    .bind(conn_key)
                    .bind(once_token)
                    .bind(identity_type)
                    .bind(service_id)
                    .bind(order_hash)
                    .bind(order_str)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if created {
            let desk = self.desk(&desk_id).await?.ok_or(sqlx::Error::RowNotFound)?;
            return Ok((desk, true));
        }
        if let Some(hash) = new.order_hash {
            if let Some(desk) = self.desk_by_order(new.app_id, hash).await? {
                return Ok((desk, false));
            }
        }
        let desk =
            self.desk_by_token(new.app_id, new.conn_key, new.once_token).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok((desk, false))
    }

    /// Completes an open desk with a persona. `None` when the desk is unknown or not open.
    pub async fn complete(
        &self,
        desk_id: &str,
        persona: &str,
        new_state: &str,
        result: Option<&str>,
    ) -> Result<Option<Desk>, sqlx::Error> {
        let (desk_id, persona, new_state, result) =
            (desk_id.to_owned(), persona.to_owned(), new_state.to_owned(), result.map(str::to_owned));
        self.update_desk(
            "UPDATE desks SET persona = ?, state = ?, result = ?, became_terminal_at = ?, updated_at = ? \
             WHERE desk_id = ? AND persona IS NULL AND state = 'pending'",
            move |q, now| {
                let terminal_at = (new_state != state::PENDING).then_some(now);
                q.bind(persona).bind(new_state).bind(result).bind(terminal_at).bind(now).bind(desk_id)
            },
        )
        .await
    }

    /// Ends a `pending` persona's verification with `SUCCESS` or `FAILED`.
    pub async fn resolve(&self, desk_id: &str, result: &str) -> Result<Option<Desk>, sqlx::Error> {
        let (desk_id, result) = (desk_id.to_owned(), result.to_owned());
        self.update_desk(
            "UPDATE desks SET state = 'terminal', result = ?, became_terminal_at = ?, updated_at = ? \
             WHERE desk_id = ? AND persona = 'pending' AND state = 'pending'",
            move |q, now| q.bind(result).bind(now).bind(now).bind(desk_id),
        )
        .await
    }

    /// The user declines: any desk that is still pending becomes cancelled.
    pub async fn cancel(&self, desk_id: &str) -> Result<Option<Desk>, sqlx::Error> {
        let desk_id = desk_id.to_owned();
        self.update_desk(
            "UPDATE desks SET state = 'cancelled', result = 'USER_NOT_AUTHORIZE', became_terminal_at = ?, \
             updated_at = ? WHERE desk_id = ? AND state = 'pending'",
            move |q, now| q.bind(now).bind(now).bind(desk_id),
        )
        .await
    }

    /// Consumes a terminal `SUCCESS`/`FAILED` token: exactly one caller ever gets `Some`, whatever
    /// the number of concurrent callers and processes. Re-checks every condition in the `WHERE`.
    pub async fn consume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Desk>, sqlx::Error> {
        let desk_id = desk_id.to_owned();
        self.update_desk(
            "UPDATE desks SET consumed = 1, consumed_at = ?, updated_at = ? \
             WHERE desk_id = ? AND consumed = 0 AND state = 'terminal' AND result IN ('SUCCESS', 'FAILED') \
             AND became_terminal_at IS NOT NULL AND became_terminal_at + ? > ?",
            move |q, now| q.bind(now).bind(now).bind(desk_id).bind(duration_ms(ttl)).bind(now),
        )
        .await
    }

    /// Runs one conditional `UPDATE desks …` on the writer and returns the updated row, if any.
    /// `bind` binds the statement's parameters, given the time of the update (epoch ms).
    async fn update_desk(
        &self,
        update: &'static str,
        bind: impl for<'q> FnOnce(DeskQuery<'q>, i64) -> DeskQuery<'q> + Send + 'static,
    ) -> Result<Option<Desk>, sqlx::Error> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = format!("{update} RETURNING {DESK_COLUMNS}");
                    bind(sqlx::query_as(&sql), now_ms()).fetch_optional(&mut *conn).await
                })
            })
            .await
    }
}

/// A desk statement being bound.
type DeskQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Sqlite, Desk, sqlx::sqlite::SqliteArguments<'q>>;

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(alipay_v3::now_millis()).unwrap_or(i64::MAX)
}

/// A duration in whole milliseconds, saturating.
pub fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // aws-lc only fails when the OS has no entropy source; nothing sensible can continue then.
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator unavailable");
    alipay_v3::hex(&b)
}

#[cfg(test)]
mod tests {
    use super::cache::Generations;
    use super::*;

    async fn desk(store: &Store, conn: &str) -> Desk {
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn consume_has_exactly_one_winner_across_pools() {
        let dir = tempfile::tempdir().unwrap();
        let a = std::sync::Arc::new(Store::open(dir.path()).await.unwrap());
        let b = std::sync::Arc::new(Store::open(dir.path()).await.unwrap());
        let ttl = Duration::from_secs(60);
        for round in 0..3 {
            let d = desk(&a, &format!("conn-{round}")).await;
            a.complete(&d.desk_id, "teacher", state::TERMINAL, Some("SUCCESS")).await.unwrap().unwrap();
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..64 {
                let s = if i % 2 == 0 { a.clone() } else { b.clone() };
                let id = d.desk_id.clone();
                tasks.spawn(async move { s.consume(&id, ttl).await.unwrap().is_some() });
            }
            let mut wins = 0;
            while let Some(r) = tasks.join_next().await {
                wins += usize::from(r.unwrap());
            }
            assert_eq!(wins, 1);
            assert!(b.desk(&d.desk_id).await.unwrap().unwrap().consumed);
        }
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn consume_rechecks_every_condition() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let ttl = Duration::from_secs(60);
        // Still pending (desk opened, and pending persona): nothing to consume.
        let d = desk(&s, "open").await;
        assert_eq!(s.consume(&d.desk_id, ttl).await.unwrap(), None);
        s.complete(&d.desk_id, "pending", state::PENDING, None).await.unwrap().unwrap();
        assert_eq!(s.consume(&d.desk_id, ttl).await.unwrap(), None);
        // A second completion is refused by the conditional update.
        assert_eq!(s.complete(&d.desk_id, "teacher", state::TERMINAL, Some("SUCCESS")).await.unwrap(), None);
        let r = s.resolve(&d.desk_id, "FAILED").await.unwrap().unwrap();
        assert_eq!(r.result.as_deref(), Some("FAILED"));
        assert_eq!(s.resolve(&d.desk_id, "SUCCESS").await.unwrap(), None);
        // Expired: the TTL is checked inside the UPDATE.
        assert_eq!(s.consume(&d.desk_id, Duration::ZERO).await.unwrap(), None);
        assert!(s.consume(&d.desk_id, ttl).await.unwrap().is_some());
        // Error outcomes and cancellations are never consumed.
        let e = desk(&s, "err").await;
        s.complete(&e.desk_id, "risk", state::TERMINAL, Some("RISK_INTERCEPT")).await.unwrap().unwrap();
        assert_eq!(s.consume(&e.desk_id, ttl).await.unwrap(), None);
        let c = desk(&s, "cancel").await;
        assert_eq!(s.cancel(&c.desk_id).await.unwrap().unwrap().state, state::CANCELLED);
        assert_eq!(s.consume(&c.desk_id, ttl).await.unwrap(), None);
        assert_eq!(s.cancel(&c.desk_id).await.unwrap(), None);
        s.close().await;
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

        let d = desk(&s, "c").await;
        let g3 = gens().await;
        assert!(g3.desks > g2.desks && g3.apps == g2.apps);
        let copy = s.desk_by_token_at("app", "c", "tok", g3.desks).await.unwrap().unwrap();
        assert_eq!((copy.value.state.as_str(), copy.generation), ("pending", g3.desks));
        s.complete(&d.desk_id, "teacher", state::TERMINAL, Some("SUCCESS")).await.unwrap().unwrap();
        let g4 = gens().await;
        assert!(g4.desks > g3.desks);
        // At the new generation the copy is not used: the row is read again.
        let copy = s.desk_by_token_at("app", "c", "tok", g4.desks).await.unwrap().unwrap();
        assert_eq!((copy.value.state.as_str(), copy.generation), ("terminal", g4.desks));
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
    async fn a_version_1_data_dir_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new().filename(dir.path().join(DB_FILE)).create_if_missing(true);
        let mut conn = opts.connect().await.unwrap();
        sqlx::raw_sql(MIGRATIONS[0].1).execute(&mut conn).await.unwrap();
        sqlx::raw_sql(
            "PRAGMA user_version = 1; INSERT INTO apps (app_id, created_at, updated_at) VALUES ('app', 0, 0);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();

        let s = Store::open(dir.path()).await.unwrap();
        let (v,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&s.pool).await.unwrap();
        assert_eq!(v, MIGRATIONS.last().unwrap().0);
        assert_eq!(s.app("app").await.unwrap().unwrap().app_id, "app");
        let g0 = s.record_nonce("app", "a", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(g0.generations, Generations { apps: 0, desks: 0 });
        desk(&s, "c").await;
        let g1 = s.record_nonce("app", "b", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(g1.generations, Generations { apps: 0, desks: 1 });
        s.close().await;
    }

    #[test]
    fn debug_shows_no_key_material() {
        let row = KeyRow {
            alipay_key_pkcs8: b"PRIVATE-ALIPAY".to_vec(),
            root_key_pkcs8: b"PRIVATE-ROOT".to_vec(),
            root_cert_pem: String::new(),
            alipay_cert_pem: String::new(),
        };
        let app = AppRecord {
            app_id: "app".into(),
            public_key_spki: None,
            encrypt_key: Some("c2VjcmV0LWFlcy1rZXk=".into()),
            app_cert_pem: None,
            app_cert_sn: None,
        };
        let shown = format!("{row:?} {app:?}");
        for secret in ["PRIVATE", "80, 82, 73", "c2VjcmV0LWFlcy1rZXk="] {
            assert!(!shown.contains(secret), "{shown}");
        }
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
