//! The two stores a sandbox keeps its state in, for tests that must hold on both: a store of
//! each kind, and [`store_tests!`](crate::store_tests) to run one test function on each.

use std::path::Path;

use jobworth_sandbox::Config;

use crate::postgres::TestDatabase;

/// SQLite under the data dir, or PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// `DIR/sandbox.db` (the default).
    Sqlite,
    /// A database of its own on the test server.
    Postgres,
}

/// A fresh, empty store: always a temp data dir and, for PostgreSQL, a database of its own too.
/// Keep it until every sandbox on it has shut down.
pub struct TestStore {
    /// Which store.
    pub kind: StoreKind,
    /// The data dir (holds the SQLite file; empty for PostgreSQL).
    pub dir: tempfile::TempDir,
    db: Option<TestDatabase>,
}

impl TestStore {
    /// A fresh store of `kind`.
    pub fn new(kind: StoreKind) -> Self {
        let db = (kind == StoreKind::Postgres).then(TestDatabase::new);
        TestStore { kind, dir: tempfile::tempdir().unwrap(), db }
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The PostgreSQL URL, for a PostgreSQL store.
    pub fn database_url(&self) -> Option<&str> {
        self.db.as_ref().map(TestDatabase::url)
    }

    /// The test configuration (`127.0.0.1:0`) on this store.
    pub fn config(&self) -> Config {
        Config { database: self.database_url().map(str::to_owned), ..crate::sandbox::config(self.data_dir()) }
    }

    /// The environment a `jobworth sandbox` process on this store needs (with `--data` as usual).
    pub fn envs(&self) -> Vec<(&'static str, &str)> {
        self.database_url().map(|url| ("JOBWORTH_DATABASE_URL", url)).into_iter().collect()
    }
}

/// Runs test functions `async fn NAME(kind: StoreKind)` once per store: each becomes the tests
/// `sqlite::NAME` and `postgres::NAME`, with the attributes given (`#[tokio::test(…)]`).
///
/// ```ignore
/// async fn consume_once(kind: StoreKind) { … }
/// jobworth_testkit::store_tests! {
///     #[tokio::test(flavor = "multi_thread", worker_threads = 4)] consume_once,
/// }
/// ```
#[macro_export]
macro_rules! store_tests {
    ($($(#[$attr:meta])+ $name:ident),+ $(,)?) => {
        mod sqlite {
            $( $(#[$attr])+ async fn $name() { super::$name($crate::stores::StoreKind::Sqlite).await } )+
        }
        mod postgres {
            $( $(#[$attr])+ async fn $name() { super::$name($crate::stores::StoreKind::Postgres).await } )+
        }
    };
}
