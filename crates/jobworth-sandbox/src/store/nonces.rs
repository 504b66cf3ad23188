//! Request nonces (replay protection), each committed before its request goes on.

use std::time::Duration;

use super::backend::Backend;
use super::{on_db, NonceError, Recorded, Store, StoreError};

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
        on_db!(self, db => db.record_nonce(app_id, nonce, ts_ms, window).await)
    }

    /// The timestamp of the request that recorded this nonce, while it is in the log: what a
    /// refused replay is told. Read only for replays.
    pub async fn nonce_timestamp(&self, app_id: &str, nonce: &str) -> Result<Option<i64>, StoreError> {
        on_db!(self, db => db.nonce_timestamp(app_id, nonce).await)
    }
}
