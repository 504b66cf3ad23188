//! The statements both backends run, written once: `$n` parameters (sqlx's SQLite driver reads
//! them too), `ON CONFLICT DO NOTHING`, `TRUE`/`FALSE`. What only one dialect says lives with
//! its backend.
//!
//! The `bind_*` macros build a statement with its parameters bound; the backend runs it on its
//! own connection (SQLite: the writer; PostgreSQL: the pool).

macro_rules! app_columns {
    () => {
        "app_id, public_key_spki, encrypt_key, app_cert_pem, app_cert_sn, name"
    };
}

macro_rules! desk_columns {
    () => {
        "desk_id, app_id, conn_key, once_token, identity_type, service_id, order_str, persona, state, result, \
         became_terminal_at, consumed"
    };
}

pub(super) const KEYS_SELECT: &str =
    "SELECT alipay_key_pkcs8, root_key_pkcs8, root_cert_pem, alipay_cert_pem FROM sandbox_keys WHERE id = 1";
pub(super) const KEYS_INSERT: &str = "INSERT INTO sandbox_keys (id, alipay_key_pkcs8, root_key_pkcs8, \
                                      root_cert_pem, alipay_cert_pem, created_at) VALUES (1, $1, $2, $3, $4, $5) \
                                      ON CONFLICT DO NOTHING";

pub(super) const APP: &str = concat!("SELECT ", app_columns!(), " FROM apps WHERE app_id = $1");
pub(super) const APPS: &str =
    concat!("SELECT ", app_columns!(), " FROM apps ORDER BY updated_at DESC, app_id LIMIT $1");
pub(super) const APP_GENERATIONAL: &str =
    concat!("SELECT ", app_columns!(), ", (SELECT apps FROM generations) AS generation FROM apps WHERE app_id = $1");
pub(super) const APP_INSERT: &str = "INSERT INTO apps (app_id, public_key_spki, encrypt_key, app_cert_pem, \
                                     app_cert_sn, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
                                     $7, $7) ON CONFLICT DO NOTHING";
// The parameters of `APP_INSERT`, so that one binding serves both.
pub(super) const APP_UPDATE: &str = "UPDATE apps SET public_key_spki = $2, encrypt_key = $3, app_cert_pem = $4, \
                                     app_cert_sn = $5, name = $6, updated_at = $7 WHERE app_id = $1";

pub(super) const DESK_COLUMNS: &str = desk_columns!();
pub(super) const CONN_KEY_EXISTS: &str = "SELECT 1 FROM desks WHERE app_id = $1 AND conn_key = $2 LIMIT 1";
pub(super) const DESK_BY_TOKEN: &str =
    concat!("SELECT ", desk_columns!(), " FROM desks WHERE app_id = $1 AND conn_key = $2 AND once_token = $3");
pub(super) const DESK_BY_TOKEN_GENERATIONAL: &str = concat!(
    "SELECT ",
    desk_columns!(),
    ", (SELECT desks FROM generations) AS generation FROM desks WHERE app_id = $1 AND conn_key = $2 AND once_token = $3"
);
pub(super) const DESK: &str = concat!("SELECT ", desk_columns!(), " FROM desks WHERE desk_id = $1");
pub(super) const DESK_BY_ORDER: &str =
    concat!("SELECT ", desk_columns!(), " FROM desks WHERE app_id = $1 AND order_hash = $2");
pub(super) const DESK_INSERT: &str = "INSERT INTO desks (desk_id, app_id, conn_key, once_token, identity_type, \
                                      service_id, order_hash, order_str, created_at, updated_at) VALUES ($1, $2, \
                                      $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING";
pub(super) const NONCE_TIMESTAMP: &str = "SELECT ts FROM nonces WHERE app_id = $1 AND nonce = $2";

const COMPLETE: &str = concat!(
    "UPDATE desks SET persona = $1, state = $2, result = $3, became_terminal_at = $4, updated_at = $5 \
     WHERE desk_id = $6 AND persona IS NULL AND state = $7 RETURNING ",
    desk_columns!()
);
const RESOLVE: &str = concat!(
    "UPDATE desks SET state = $1, result = $2, became_terminal_at = $3, updated_at = $3 \
     WHERE desk_id = $4 AND persona = 'pending' AND state = $5 RETURNING ",
    desk_columns!()
);
const CANCEL: &str = concat!(
    "UPDATE desks SET state = $1, result = $2, became_terminal_at = $3, updated_at = $3 \
     WHERE desk_id = $4 AND state = $5 RETURNING ",
    desk_columns!()
);
// Every condition of a consumable token is re-checked inside the statement, the TTL included.
const CONSUME: &str = concat!(
    "UPDATE desks SET consumed = TRUE, consumed_at = $1, updated_at = $1 \
     WHERE desk_id = $2 AND consumed = FALSE AND state = $3 AND result IN ($4, $5) \
     AND became_terminal_at IS NOT NULL AND became_terminal_at + $6 > $1 RETURNING ",
    desk_columns!()
);

/// The statement of a [`super::backend::DeskChange`] on desk `desk_id` at `now` (epoch ms).
pub(super) fn desk_change_sql(change: &super::backend::DeskChange) -> &'static str {
    use super::backend::DeskChange;
    match change {
        DeskChange::Complete { .. } => COMPLETE,
        DeskChange::Resolve(_) => RESOLVE,
        DeskChange::Cancel => CANCEL,
        DeskChange::Consume { .. } => CONSUME,
    }
}

/// `sqlx::query_as(sql)` of a desk change with its parameters bound (see [`desk_change_sql`]).
macro_rules! bind_desk_change {
    ($sql:expr, $change:expr, $desk_id:expr, $now:expr) => {{
        use jobworth_wire::{ErrorCode, IdentityResult};
        use $crate::store::backend::DeskChange;
        use $crate::store::{DeskResult, DeskState};
        let (q, now) = (sqlx::query_as($sql), $now);
        match $change {
            DeskChange::Complete { persona, state, result } => {
                let terminal_at = (state != DeskState::Pending).then_some(now);
                q.bind(persona)
                    .bind(state)
                    .bind(result)
                    .bind(terminal_at)
                    .bind(now)
                    .bind($desk_id)
                    .bind(DeskState::Pending)
            }
            DeskChange::Resolve(verdict) => q
                .bind(DeskState::Terminal)
                .bind(DeskResult::Verdict(verdict))
                .bind(now)
                .bind($desk_id)
                .bind(DeskState::Pending),
            DeskChange::Cancel => q
                .bind(DeskState::Cancelled)
                .bind(DeskResult::Refusal(ErrorCode::UserNotAuthorize))
                .bind(now)
                .bind($desk_id)
                .bind(DeskState::Pending),
            DeskChange::Consume { ttl } => q
                .bind(now)
                .bind($desk_id)
                .bind(DeskState::Terminal)
                .bind(DeskResult::Verdict(IdentityResult::Success))
                .bind(DeskResult::Verdict(IdentityResult::Failed))
                .bind($crate::store::duration_ms(ttl)),
        }
    }};
}

/// `KEYS_INSERT` with a key row bound.
macro_rules! bind_keys_insert {
    ($new:expr, $now:expr) => {
        sqlx::query($crate::store::sql::KEYS_INSERT)
            .bind(&$new.alipay_key_pkcs8)
            .bind(&$new.root_key_pkcs8)
            .bind(&$new.root_cert_pem)
            .bind(&$new.alipay_cert_pem)
            .bind($now)
    };
}

/// `APP_INSERT` or `APP_UPDATE` with an app record bound.
macro_rules! bind_app {
    ($sql:expr, $app:expr, $now:expr) => {
        sqlx::query($sql)
            .bind(&$app.app_id)
            .bind(&$app.public_key_spki)
            .bind(&$app.encrypt_key)
            .bind(&$app.app_cert_pem)
            .bind(&$app.app_cert_sn)
            .bind(&$app.name)
            .bind($now)
    };
}

/// `DESK_INSERT` with the id and a new desk's fields bound.
macro_rules! bind_desk_insert {
    ($desk_id:expr, $new:expr, $now:expr) => {
        sqlx::query($crate::store::sql::DESK_INSERT)
            .bind($desk_id)
            .bind($new.app_id)
            .bind($new.conn_key)
            .bind($new.once_token)
            .bind($new.identity_type)
            .bind($new.service_id)
            .bind($new.order_hash)
            .bind($new.order_str)
            .bind($now)
    };
}

/// The reads both backends make the same way on their pool: `reads!(POOL)` expands to the
/// read methods of `Backend`.
macro_rules! backend_reads {
    ($pool:ident) => {
        async fn keys(&self) -> Result<Option<KeyRow>, StoreError> {
            Ok(sqlx::query_as(sql::KEYS_SELECT).fetch_optional(&self.$pool).await?)
        }

        async fn app(&self, app_id: &str) -> Result<Option<AppRecord>, StoreError> {
            Ok(sqlx::query_as(sql::APP).bind(app_id).fetch_optional(&self.$pool).await?)
        }

        async fn apps(&self, limit: u32) -> Result<Vec<AppRecord>, StoreError> {
            Ok(sqlx::query_as(sql::APPS).bind(i64::from(limit)).fetch_all(&self.$pool).await?)
        }

        async fn app_generational(&self, app_id: &str) -> Result<Option<Generational<AppRecord>>, StoreError> {
            Ok(sqlx::query_as(sql::APP_GENERATIONAL).bind(app_id).fetch_optional(&self.$pool).await?)
        }

        async fn conn_key_exists(&self, app_id: &str, conn_key: &str) -> Result<bool, StoreError> {
            let row: Option<(i32,)> =
                sqlx::query_as(sql::CONN_KEY_EXISTS).bind(app_id).bind(conn_key).fetch_optional(&self.$pool).await?;
            Ok(row.is_some())
        }

        async fn desk_by_token(
            &self,
            app_id: &str,
            conn_key: &str,
            once_token: &str,
        ) -> Result<Option<Desk>, StoreError> {
            Ok(sqlx::query_as(sql::DESK_BY_TOKEN)
                .bind(app_id)
                .bind(conn_key)
                .bind(once_token)
                .fetch_optional(&self.$pool)
                .await?)
        }

        async fn desk_by_token_generational(
            &self,
            app_id: &str,
            conn_key: &str,
            once_token: &str,
        ) -> Result<Option<Generational<Desk>>, StoreError> {
            Ok(sqlx::query_as(sql::DESK_BY_TOKEN_GENERATIONAL)
                .bind(app_id)
                .bind(conn_key)
                .bind(once_token)
                .fetch_optional(&self.$pool)
                .await?)
        }

        async fn desk(&self, desk_id: &str) -> Result<Option<Desk>, StoreError> {
            Ok(sqlx::query_as(sql::DESK).bind(desk_id).fetch_optional(&self.$pool).await?)
        }

        async fn desk_by_order(&self, app_id: &str, order_hash: &str) -> Result<Option<Desk>, StoreError> {
            Ok(sqlx::query_as(sql::DESK_BY_ORDER).bind(app_id).bind(order_hash).fetch_optional(&self.$pool).await?)
        }

        async fn nonce_timestamp(&self, app_id: &str, nonce: &str) -> Result<Option<i64>, StoreError> {
            let row: Option<(i64,)> =
                sqlx::query_as(sql::NONCE_TIMESTAMP).bind(app_id).bind(nonce).fetch_optional(&self.$pool).await?;
            Ok(row.map(|(ts,)| ts))
        }
    };
}

pub(super) use {backend_reads, bind_app, bind_desk_change, bind_desk_insert, bind_keys_insert};
