//! What a store backend does: the statements, without the in-memory copies (kept once, in
//! [`super::Store`], above both backends).
//!
//! Implemented by SQLite ([`super::sqlite`]) and PostgreSQL ([`super::postgres`]). `Store`
//! dispatches over an enum of the two rather than a `dyn Backend`: async methods are not
//! object-safe without boxing every call, and the enum keeps the per-request nonce path free
//! of an allocation and of a virtual call.

use std::time::Duration;

use jobworth_wire::IdentityResult;

use super::authorizations::Authorization;
use super::pushed::{JobDataRow, NewJobData, NewPicture, PictureRow, PositionRow};
use super::{AppRecord, Desk, DeskResult, DeskState, Generational, KeyRow, NewDesk, NonceError, Recorded, StoreError};

/// A conditional change of one desk: each is one `UPDATE … WHERE <still applicable> RETURNING`.
#[derive(Debug, Clone)]
pub(super) enum DeskChange {
    /// An open desk gets a persona (and its state and result).
    Complete { persona: String, state: DeskState, result: Option<DeskResult> },
    /// A `pending` persona's verification ends with a verdict.
    Resolve(IdentityResult),
    /// The user declines a still-pending desk.
    Cancel,
    /// A terminal `SUCCESS`/`FAILED` within `ttl` is read, once.
    Consume { ttl: Duration },
}

/// The statements of a store. Every state change that must happen once is one conditional
/// statement, atomic across connections, processes and instances.
pub(super) trait Backend {
    /// Finishes queued writes and closes the connections.
    async fn close(&self);

    /// The key row, if the store has one.
    async fn keys(&self) -> Result<Option<KeyRow>, StoreError>;
    /// Stores `new` unless a key row exists; returns the stored row (the first insert wins).
    async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, StoreError>;

    /// One app.
    async fn app(&self, app_id: &str) -> Result<Option<AppRecord>, StoreError>;
    /// Apps, most recently registered first.
    async fn apps(&self, limit: u32) -> Result<Vec<AppRecord>, StoreError>;
    /// One app with the `apps` counter, read in the same statement.
    async fn app_generational(&self, app_id: &str) -> Result<Option<Generational<AppRecord>>, StoreError>;
    /// Inserts an app, or (`replace`) replaces it; `true` when it was new.
    async fn write_app(&self, app: &AppRecord, replace: bool) -> Result<bool, StoreError>;

    /// Desks, newest first.
    async fn recent_desks(&self, limit: u32) -> Result<Vec<Desk>, StoreError>;
    /// Whether any desk of the app has this conn_key.
    async fn conn_key_exists(&self, app_id: &str, conn_key: &str) -> Result<bool, StoreError>;
    /// The desk of a (conn_key, once_token) pair.
    async fn desk_by_token(&self, app_id: &str, conn_key: &str, once_token: &str) -> Result<Option<Desk>, StoreError>;
    /// The same, with the `desks` counter read in the same statement.
    async fn desk_by_token_generational(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Generational<Desk>>, StoreError>;
    /// A desk by id.
    async fn desk(&self, desk_id: &str) -> Result<Option<Desk>, StoreError>;
    /// The desk an order string opened.
    async fn desk_by_order(&self, app_id: &str, order_hash: &str) -> Result<Option<Desk>, StoreError>;
    /// Inserts a desk with id `desk_id` unless its token or order string has one; `true` when
    /// inserted.
    async fn insert_desk(&self, desk_id: &str, new: &NewDesk<'_>) -> Result<bool, StoreError>;
    /// Applies `change` to the desk if it still applies; the updated row, else `None`.
    async fn update_desk(&self, desk_id: &str, change: DeskChange) -> Result<Option<Desk>, StoreError>;

    /// Records a nonce, committed before it returns: `None` for a replay.
    async fn record_nonce(
        &self,
        app_id: &str,
        nonce: &str,
        ts_ms: i64,
        window: Duration,
    ) -> Result<Option<Recorded>, NonceError>;
    /// The timestamp a recorded nonce came with.
    async fn nonce_timestamp(&self, app_id: &str, nonce: &str) -> Result<Option<i64>, StoreError>;

    /// Stores one `jobdata/add` call under `acceptance_id`.
    async fn insert_job_data(&self, acceptance_id: &str, new: &NewJobData) -> Result<(), StoreError>;
    /// An app's `jobdata/add` calls, oldest first.
    async fn job_data(&self, app_id: &str, limit: u32) -> Result<Vec<JobDataRow>, StoreError>;
    /// Inserts a posting with id `position_id`, or updates the app's posting of the same
    /// `ka_position_id`; returns the posting's id.
    async fn upsert_position(
        &self,
        position_id: &str,
        app_id: &str,
        ka_position_id: Option<&str>,
        info: &str,
    ) -> Result<String, StoreError>;
    /// Replaces the info of the app's posting; `false` when there is none.
    async fn update_position(&self, app_id: &str, position_id: &str, info: &str) -> Result<bool, StoreError>;
    /// An app's postings, oldest first.
    async fn positions(&self, app_id: &str, limit: u32) -> Result<Vec<PositionRow>, StoreError>;
    /// Stores a checked picture under `pic_id`.
    async fn insert_picture(&self, pic_id: &str, new: &NewPicture, sha256: &str) -> Result<(), StoreError>;
    /// An app's pictures' metadata, oldest first.
    async fn pictures(&self, app_id: &str, limit: u32) -> Result<Vec<PictureRow>, StoreError>;
    /// Whether the app uploaded the picture.
    async fn picture_exists(&self, app_id: &str, pic_id: &str) -> Result<bool, StoreError>;

    /// The desks of an app's `conn_key`, oldest first.
    async fn authorizations(&self, app_id: &str, conn_key: &str) -> Result<Vec<Authorization>, StoreError>;
    /// An app's desk by id.
    async fn authorization(&self, app_id: &str, desk_id: &str) -> Result<Option<Authorization>, StoreError>;
    /// The desk of an app's (conn_key, once_token).
    async fn authorization_by_token(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Authorization>, StoreError>;
    /// The latest desk of the app (of `conn_key`, when given) that `persona` authorized and did
    /// not decline.
    async fn authorized_by(
        &self,
        app_id: &str,
        persona: &str,
        conn_key: Option<&str>,
    ) -> Result<Option<Authorization>, StoreError>;
    /// Reads a desk's résumé once, within `ttl` of the authorization (one conditional `UPDATE`).
    async fn read_resume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Authorization>, StoreError>;
}
