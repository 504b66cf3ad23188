//! The schema: migrations in order, applied once per data dir.

use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;

use super::StoreError;

/// Schema migrations: (version, SQL). Applied in order inside one `BEGIN IMMEDIATE`.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/001_init.sql")),
    (2, include_str!("migrations/002_generations.sql")),
    (3, include_str!("migrations/003_nonce_horizon.sql")),
    (4, include_str!("migrations/004_app_names.sql")),
    (5, include_str!("migrations/005_family.sql")),
];

/// The migrations of `all` that a store at `version` still needs, and the version it will be at;
/// a store newer than this build is refused (either backend).
pub(super) fn pending(
    all: &'static [(i64, &'static str)],
    version: i64,
) -> Result<(Vec<&'static str>, i64), StoreError> {
    let latest = all.last().map_or(0, |m| m.0);
    if version > latest {
        return Err(StoreError::TooNew(version, latest));
    }
    Ok((all.iter().filter(|(v, _)| *v > version).map(|(_, sql)| *sql).collect(), latest))
}

/// Applies the migrations this build knows, inside one `BEGIN IMMEDIATE`.
pub(super) async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock up front, so two processes starting on one fresh dir
    // apply the schema one after the other instead of racing.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&mut *tx).await?;
    let (todo, latest) = pending(MIGRATIONS, version)?;
    for sql in todo {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
    }
    if latest > version {
        sqlx::raw_sql(&format!("PRAGMA user_version = {latest}")).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};

    use jobworth_testkit::stores::{StoreKind, TestStore};

    use super::MIGRATIONS;
    use crate::store::tests::{another, open_desk};
    use crate::store::{now_ms, Generations, DB_FILE};

    #[test]
    fn both_stores_have_the_same_schema_versions() {
        let versions = |m: &[(i64, &str)]| m.iter().map(|(v, _)| *v).collect::<Vec<_>>();
        assert_eq!(versions(MIGRATIONS), versions(crate::store::postgres::schema::MIGRATIONS));
    }

    /// Writes a version-1 store with one app in it, as a build of that version left it.
    async fn version_1_store(place: &TestStore) {
        const APP: &str = "INSERT INTO apps (app_id, created_at, updated_at) VALUES ('app', 0, 0);";
        match place.database_url() {
            None => {
                let opts = SqliteConnectOptions::new().filename(place.data_dir().join(DB_FILE)).create_if_missing(true);
                let mut conn = opts.connect().await.unwrap();
                sqlx::raw_sql(MIGRATIONS[0].1).execute(&mut conn).await.unwrap();
                sqlx::raw_sql(&format!("PRAGMA user_version = 1; {APP}")).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::raw_sql(crate::store::postgres::schema::MIGRATIONS[0].1).execute(&mut conn).await.unwrap();
                sqlx::raw_sql(&format!(
                    "CREATE TABLE jobworth_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL); \
                     INSERT INTO jobworth_schema VALUES (1, 1); {APP}"
                ))
                .execute(&mut conn)
                .await
                .unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    async fn a_version_1_store_is_upgraded(kind: StoreKind) {
        let place = TestStore::new(kind);
        version_1_store(&place).await;
        let s = another(&place).await;
        let v = match kind {
            StoreKind::Sqlite => sqlx::query_as("PRAGMA user_version").fetch_one(&s.sqlite().pool).await,
            StoreKind::Postgres => {
                sqlx::query_as("SELECT version FROM jobworth_schema").fetch_one(s.postgres().pool()).await
            }
        };
        let (v,): (i64,) = v.unwrap();
        assert_eq!(v, MIGRATIONS.last().unwrap().0);
        assert_eq!(s.app("app").await.unwrap().unwrap().app_id, "app");
        let g0 = s.record_nonce("app", "a", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(g0.generations, Generations { apps: 0, desks: 0 });
        open_desk(&s, "c").await;
        let g1 = s.record_nonce("app", "b", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(g1.generations, Generations { apps: 0, desks: 1 });
        s.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test] a_version_1_store_is_upgraded,
    }
}
