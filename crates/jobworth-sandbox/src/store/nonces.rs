//! Request nonces (replay protection), recorded through the writer's group commit.

use std::time::Duration;

use super::{NonceError, Recorded, Store};

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
}
