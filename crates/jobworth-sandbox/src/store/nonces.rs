//! Request nonces (replay protection), recorded through the writer's group commit.

use std::time::Duration;

use super::{NonceError, Recorded, Store, StoreError};

impl Store {
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

    /// The timestamp of the request that recorded this nonce, while it is in the log: what a
    /// refused replay is told. Read apart from the writer, only for replays.
    pub async fn nonce_timestamp(&self, app_id: &str, nonce: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT ts FROM nonces WHERE app_id = ? AND nonce = ?")
            .bind(app_id)
            .bind(nonce)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(ts,)| ts))
    }
}
