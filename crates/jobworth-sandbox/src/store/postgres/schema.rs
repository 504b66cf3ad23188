//! The PostgreSQL schema: the same versions as SQLite's, in PostgreSQL's dialect, applied in one
//! transaction under an advisory lock so that instances starting together on a fresh database
//! apply it once, one after the other.

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use crate::store::StoreError;

/// Schema migrations: (version, SQL), the versions of the SQLite schema.
pub(in crate::store) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/001_init.sql")),
    (2, include_str!("migrations/002_generations.sql")),
    (3, include_str!("migrations/003_nonce_horizon.sql")),
    (4, include_str!("migrations/004_app_names.sql")),
    (5, include_str!("migrations/005_family.sql")),
];

/// Key of the advisory lock the migrations hold ("jobworth" in ASCII).
const MIGRATION_LOCK: i64 = 0x6a6f_6277_6f72_7468;

/// Applies the migrations this build knows.
pub(super) async fn migrate(conn: &mut PgConnection) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS jobworth_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL); \
         INSERT INTO jobworth_schema (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING;",
    )
    .execute(&mut *tx)
    .await?;
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM jobworth_schema").fetch_one(&mut *tx).await?;
    let (todo, latest) = crate::store::schema::pending(MIGRATIONS, version)?;
    for sql in todo {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
    }
    if latest > version {
        sqlx::query("UPDATE jobworth_schema SET version = $1").bind(latest).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
