//! The shared token ledger on PostgreSQL: two clients (two instances of a backend) on one
//! database. Client A's query times out, so its token may be consumed; client B's later query
//! of the same token answers `TOKEN_INVALID`, and B reports `TokenPossiblyConsumed`.
//!
//! The server: `JOBWORTH_TEST_DATABASE_URL` (a server URL, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), or else a throwaway server this test starts
//! (initdb + pg_ctl of PostgreSQL 15 as the `postgres` user, on a free loopback port) and stops.
//! Each test works in a database of its own, created with a random name and dropped at the end.
//! A minimal helper of this file's own; the workspace's shared one lives in the testkit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jobworth::{Error, ErrorCode, PostgresLedger, TokenKey, TokenLedger};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use sqlx::postgres::PgPoolOptions;
use wiremock::matchers::{path, query_param};
use wiremock::Mock;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server for one test: the configured one, or a throwaway one stopped on drop.
struct Server {
    url: String,
    own: Option<(PathBuf, tempfile::TempDir)>,
}

fn as_postgres(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn runuser(program: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--", &format!("{PG_BIN}/{program}")]);
    c
}

impl Server {
    fn get() -> Server {
        // Empty counts as unset, as for every variable the project reads.
        if let Some(url) = std::env::var("JOBWORTH_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            return Server { url, own: None };
        }
        assert!(
            Path::new(&format!("{PG_BIN}/initdb")).exists(),
            "no PostgreSQL: set JOBWORTH_TEST_DATABASE_URL or install postgresql-15 ({PG_BIN})"
        );
        let dir = tempfile::Builder::new().prefix("jobworth-pg-").tempdir().unwrap();
        as_postgres(Command::new("chown").args(["postgres:postgres", dir.path().to_str().unwrap()]));
        let data = dir.path().join("data");
        let socket = dir.path().join("sock");
        as_postgres(runuser("initdb").args(["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres"]));
        as_postgres(Command::new("runuser").args(["-u", "postgres", "--", "mkdir", socket.to_str().unwrap()]));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = format!("-c listen_addresses=127.0.0.1 -p {port} -k {}", socket.display());
        let log = dir.path().join("log");
        as_postgres(runuser("pg_ctl").args([
            "-D",
            data.to_str().unwrap(),
            "-o",
            &options,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "start",
        ]));
        Server { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), own: Some((data, dir)) }
    }

    /// A database of its own for one test: `(its URL, its name)`.
    async fn database(&self) -> (String, String) {
        let name = format!("jobworth_test_{}", alipay_v3::new_nonce().replace('-', ""));
        let admin = PgPoolOptions::new().max_connections(1).connect(&self.url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
        admin.close().await;
        let (url, params) = self.url.split_once('?').map_or((self.url.as_str(), None), |(u, q)| (u, Some(q)));
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap();
        let params = params.map(|q| format!("?{q}")).unwrap_or_default();
        (format!("{base}/{name}{params}"), name)
    }

    async fn drop_database(&self, name: &str) {
        let admin = PgPoolOptions::new().max_connections(1).connect(&self.url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await.unwrap();
        admin.close().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some((data, _dir)) = &self.own {
            let _ = runuser("pg_ctl").args(["-D", data.to_str().unwrap(), "-m", "immediate", "-w", "stop"]).output();
        }
    }
}

#[tokio::test]
async fn an_ambiguous_attempt_on_one_instance_is_known_to_another() {
    let server = Server::get();
    let (url, name) = server.database().await;
    // Two instances: each its own pool and ledger, one database.
    let ledger_a = Arc::new(PostgresLedger::connect(&url).await.unwrap());
    let ledger_b = Arc::new(PostgresLedger::connect(&url).await.unwrap());

    let gateway = jobworth_testkit::mock::server().await;
    Mock::given(path(AUTH_PATH))
        .and(query_param("once_token", "tok-shared"))
        .and(Verified::default())
        .respond_with(Reply::json(200, SUCCESS).delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&gateway)
        .await;
    Mock::given(path(AUTH_PATH))
        .and(Verified::default())
        .respond_with(Reply::json(400, r#"{"code":"TOKEN_INVALID","message":"token already used"}"#))
        .expect(3)
        .mount(&gateway)
        .await;
    let a = builder(&gateway.uri()).timeout(Duration::from_millis(300)).token_ledger(ledger_a.clone()).build().unwrap();
    let b = builder(&gateway.uri()).token_ledger(ledger_b.clone()).build().unwrap();
    let query =
        |c: &jobworth::Client, token: &str| c.authentication_query().conn_key("conn-shared").once_token(token).send();

    let first = query(&a, "tok-shared").await.unwrap_err();
    assert!(matches!(first, Error::MaybeSent(_)), "{first:?}");

    let again = query(&b, "tok-shared").await.unwrap_err();
    let Error::TokenPossiblyConsumed { first: earlier, last } = &again else {
        panic!("expected TokenPossiblyConsumed, got {again:?}")
    };
    // B never saw A's error: what it has is A's record.
    let Error::Recorded(recorded) = &**earlier else { panic!("expected the recorded attempt, got {earlier:?}") };
    assert!(recorded.summary.starts_with("no answer within 300ms, request id "), "{}", recorded.summary);
    assert_eq!(last.api_code(), Some(&ErrorCode::TokenInvalid));
    let text = again.to_string();
    assert!(text.contains("earlier: no answer within 300ms, request id "), "{text}");
    assert!(text.contains("now: HTTP 400 TOKEN_INVALID token already used"), "{text}");

    // The record was taken: a third query (from A) gets the plain answer; another token too.
    let plain = query(&a, "tok-shared").await.unwrap_err();
    assert!(matches!(&plain, Error::Api(e) if e.code == ErrorCode::TokenInvalid), "{plain:?}");
    let other = query(&b, "tok-other").await.unwrap_err();
    assert!(matches!(&other, Error::Api(e) if e.code == ErrorCode::TokenInvalid), "{other:?}");

    // The table holds hashes, never a token.
    let pool = PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let dump: Vec<(String, Vec<u8>, String)> =
        sqlx::query_as("SELECT app_id, token_hash, summary FROM jobworth_token_ledger").fetch_all(&pool).await.unwrap();
    for (_, hash, summary) in &dump {
        assert_eq!(hash.len(), 32);
        assert!(!summary.contains("tok-shared"));
    }
    pool.close().await;
    ledger_a.pool().close().await;
    ledger_b.pool().close().await;
    server.drop_database(&name).await;
}

#[tokio::test]
async fn the_first_attempt_is_kept_and_a_definite_answer_clears_it() {
    let server = Server::get();
    let (url, name) = server.database().await;
    let ledger = PostgresLedger::connect(&url).await.unwrap();
    // A second instance starting on the same database finds the table.
    let same = PostgresLedger::connect(&url).await.unwrap();
    let key = TokenKey::new("2021000122671080", Some("c"), "t");
    ledger.remember(&key, &jobworth::AmbiguousAttempt::new("first", alipay_v3::now_millis())).await.unwrap();
    same.remember(&key, &jobworth::AmbiguousAttempt::new("second", alipay_v3::now_millis())).await.unwrap();
    assert_eq!(same.take(&key).await.unwrap().unwrap().summary, "first");
    assert!(ledger.take(&key).await.unwrap().is_none(), "taken once");
    ledger.remember(&key, &jobworth::AmbiguousAttempt::new("again", alipay_v3::now_millis())).await.unwrap();
    same.forget(&key).await.unwrap();
    assert!(ledger.take(&key).await.unwrap().is_none(), "forgotten");
    // An expired record is not returned and is replaced by a fresh one.
    let old = alipay_v3::now_millis() - jobworth::LEDGER_TTL.as_millis() as u64 - 1000;
    ledger.remember(&key, &jobworth::AmbiguousAttempt::new("old", old)).await.unwrap();
    ledger.remember(&key, &jobworth::AmbiguousAttempt::new("new", alipay_v3::now_millis())).await.unwrap();
    assert_eq!(ledger.take(&key).await.unwrap().unwrap().summary, "new");
    ledger.pool().close().await;
    same.pool().close().await;
    server.drop_database(&name).await;
}
