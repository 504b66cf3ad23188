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

/// Applies the migrations this build knows, inside one `BEGIN IMMEDIATE`.
pub(super) async fn migrate(conn: &mut SqliteConnection) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};

    use super::MIGRATIONS;
    use crate::store::tests::open_desk;
    use crate::store::{now_ms, Generations, Store, DB_FILE};

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
        open_desk(&s, "c").await;
        let g1 = s.record_nonce("app", "b", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(g1.generations, Generations { apps: 0, desks: 1 });
        s.close().await;
    }
}
