//! PostgreSQL for tests: each test gets its own freshly created database, dropped when the test
//! ends.
//!
//! The server is `JOBWORTH_TEST_DATABASE_URL` (a server URL such as
//! `postgres://postgres@127.0.0.1:PORT/postgres`, whose user may create databases). Unset, a
//! throwaway server is started from the PostgreSQL binaries installed here (its own data dir,
//! a free loopback port, trust authentication) and stopped when the last test database of the
//! process is dropped. No server and no binaries is a failure, never a skipped test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

use sqlx::Connection;

/// The variable naming the test server.
pub const URL_VAR: &str = "JOBWORTH_TEST_DATABASE_URL";

/// A database of its own for one test, dropped (with any open connections) on drop.
pub struct TestDatabase {
    url: String,
    server_url: String,
    name: String,
    _server: Option<Arc<Server>>,
}

impl TestDatabase {
    /// Creates a database with a random name on the test server.
    pub fn new() -> Self {
        let (server_url, server) = match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let server = shared_server();
                (server.url(), Some(server))
            }
        };
        let name = format!("jobworth_test_{}", alipay_v3::hex(&random_bytes()));
        admin(&server_url, &format!("CREATE DATABASE {name}"));
        let url = with_database(&server_url, &name);
        TestDatabase { url, server_url, name, _server: server }
    }

    /// `postgres://…/NAME` of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin(&self.server_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn random_bytes() -> [u8; 8] {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let n = nanos as u64
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes()
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs one statement on the server's own database, from a thread of its own (so it works from
/// sync code, async tests and `Drop` alike).
fn admin(server_url: &str, statement: &str) {
    let (url, sql) = (server_url.to_owned(), statement.to_owned());
    let done = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            sqlx::raw_sql(&sql).execute(&mut conn).await?;
            conn.close().await
        })
    })
    .join()
    .unwrap();
    if let Err(e) = done {
        panic!("PostgreSQL test server ({URL_VAR} or the throwaway one): `{statement}` failed: {e}");
    }
}

/// A throwaway PostgreSQL server: data dir, socket dir and log in a temp dir; stopped on drop.
struct Server {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

static SERVER: Mutex<Weak<Server>> = Mutex::new(Weak::new());

/// The process's throwaway server, started when no test holds it.
fn shared_server() -> Arc<Server> {
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(server) = slot.upgrade() {
        return server;
    }
    let server = Arc::new(Server::start());
    *slot = Arc::downgrade(&server);
    server
}

/// The directory of `initdb` and `pg_ctl`: the newest /usr/lib/postgresql/N/bin, else `PATH`.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    if Command::new("initdb").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return PathBuf::new();
    }
    panic!(
        "PostgreSQL tests need a server: set {URL_VAR} (postgres://USER@HOST:PORT/postgres) or install \
         PostgreSQL (initdb and pg_ctl; Debian: apt-get install postgresql)"
    );
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Server {
    fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new().prefix("jobworth-pg-").tempdir().unwrap();
        let root = is_root();
        // The server refuses to run as root: the files and the server belong to `postgres`.
        if root {
            let owned = Command::new("chown").arg("postgres:").arg(dir.path()).status().unwrap();
            assert!(owned.success(), "chown postgres {}", dir.path().display());
        }
        let port = free_port();
        let data = dir.path().join("data");
        let server = Server { dir, bin, port };
        server.run(root, "initdb", &["-D", path(&data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=300",
            server.dir.path().display()
        );
        let log = server.dir.path().join("server.log");
        server.run(root, "pg_ctl", &["start", "-w", "-t", "60", "-D", path(&data), "-l", path(&log), "-o", &options]);
        server
    }

    fn run(&self, root: bool, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output().unwrap();
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{tool} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let root = is_root();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        // Once pg_ctl returns the server is gone; the temp dir goes with `dir`.
        let _ = cmd.args(["stop", "-m", "immediate", "-w", "-D"]).arg(&data).output();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "t"), "postgres://u@h:1/t");
        assert_eq!(
            with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t"),
            "postgres://u:p@h:1/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "t"), "postgres://u@h:1/t");
    }
}
