//! The sandbox's own key material: one row, written once per data dir.

use super::{now_ms, KeyRow, Store, StoreError};

const KEYS_SELECT: &str =
    "SELECT alipay_key_pkcs8, root_key_pkcs8, root_cert_pem, alipay_cert_pem FROM sandbox_keys WHERE id = 1";

impl Store {
    /// The stored key row, if the sandbox was started here before.
    pub async fn keys(&self) -> Result<Option<KeyRow>, StoreError> {
        Ok(sqlx::query_as(KEYS_SELECT).fetch_optional(&self.pool).await?)
    }

    /// Stores `new` unless a key row exists, then returns the stored row. When several
    /// processes race on a fresh data dir, the first insert wins and everyone uses that row.
    pub async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, StoreError> {
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
            .map_err(StoreError::from)
    }
}
