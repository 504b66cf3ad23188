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
    "UPDATE desks SET persona = $1, state = $2, result = $3, became_terminal_at = $4, updated_at = $5, \
     authorized_at = $5 WHERE desk_id = $6 AND persona IS NULL AND state = $7 RETURNING ",
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

/// What the family's reads and writes select of a desk (`Authorization`).
macro_rules! authorization_columns {
    () => {
        "desk_id, conn_key, persona, state, authorized_at, resume_read_at, became_terminal_at AS finished_at"
    };
}

pub(super) const JOB_DATA_INSERT: &str = "INSERT INTO job_data (acceptance_id, app_id, conn_key, user_id, open_id, \
                                          cert_type, cert_no_shown, user_name, items, created_at) VALUES ($1, $2, \
                                          $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const POSITION_UPSERT: &str = "INSERT INTO positions (position_id, app_id, ka_position_id, info, \
                                          created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT \
                                          (app_id, ka_position_id) WHERE ka_position_id IS NOT NULL DO UPDATE SET \
                                          info = excluded.info, updated_at = excluded.updated_at RETURNING position_id";
pub(super) const POSITION_UPDATE: &str =
    "UPDATE positions SET info = $1, updated_at = $2 WHERE app_id = $3 AND position_id = $4";
pub(super) const PICTURE_INSERT: &str = "INSERT INTO pictures (pic_id, app_id, pic_type, media_type, size, sha256, \
                                         content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
// Every condition of a résumé read is re-checked inside the statement, the TTL included.
pub(super) const READ_RESUME: &str = concat!(
    "UPDATE desks SET resume_read_at = $1, updated_at = $1 WHERE desk_id = $2 AND resume_read_at IS NULL \
     AND persona IS NOT NULL AND state != $3 AND authorized_at IS NOT NULL AND authorized_at + $4 > $1 RETURNING ",
    authorization_columns!()
);

/// The family's reads, which both backends make the same way on their pool; `$seq` is the
/// column that orders rows by insertion (SQLite's `rowid`, PostgreSQL's `seq`).
macro_rules! family_reads {
    ($pool:ident, $seq:literal) => {
        async fn job_data(&self, app_id: &str, limit: u32) -> Result<Vec<JobDataRow>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT acceptance_id, conn_key, user_id, open_id, cert_type, cert_no_shown, user_name, items, \
                 created_at FROM job_data WHERE app_id = $1 ORDER BY created_at, ",
                $seq,
                " LIMIT $2"
            ))
            .bind(app_id)
            .bind(i64::from(limit))
            .fetch_all(&self.$pool)
            .await?)
        }

        async fn positions(&self, app_id: &str, limit: u32) -> Result<Vec<PositionRow>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT position_id, ka_position_id, info, created_at, updated_at FROM positions WHERE app_id = $1 \
                 ORDER BY created_at, ",
                $seq,
                " LIMIT $2"
            ))
            .bind(app_id)
            .bind(i64::from(limit))
            .fetch_all(&self.$pool)
            .await?)
        }

        async fn pictures(&self, app_id: &str, limit: u32) -> Result<Vec<PictureRow>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT pic_id, pic_type, media_type, size, sha256, created_at FROM pictures WHERE app_id = $1 \
                 ORDER BY created_at, ",
                $seq,
                " LIMIT $2"
            ))
            .bind(app_id)
            .bind(i64::from(limit))
            .fetch_all(&self.$pool)
            .await?)
        }

        async fn picture_exists(&self, app_id: &str, pic_id: &str) -> Result<bool, StoreError> {
            let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pictures WHERE app_id = $1 AND pic_id = $2")
                .bind(app_id)
                .bind(pic_id)
                .fetch_optional(&self.$pool)
                .await?;
            Ok(row.is_some())
        }

        async fn authorizations(&self, app_id: &str, conn_key: &str) -> Result<Vec<Authorization>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                $crate::store::sql::authorization_columns!(),
                " FROM desks WHERE app_id = $1 AND conn_key = $2 ORDER BY created_at, ",
                $seq
            ))
            .bind(app_id)
            .bind(conn_key)
            .fetch_all(&self.$pool)
            .await?)
        }

        async fn authorization(&self, app_id: &str, desk_id: &str) -> Result<Option<Authorization>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                $crate::store::sql::authorization_columns!(),
                " FROM desks WHERE app_id = $1 AND desk_id = $2"
            ))
            .bind(app_id)
            .bind(desk_id)
            .fetch_optional(&self.$pool)
            .await?)
        }

        async fn authorization_by_token(
            &self,
            app_id: &str,
            conn_key: &str,
            once_token: &str,
        ) -> Result<Option<Authorization>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                $crate::store::sql::authorization_columns!(),
                " FROM desks WHERE app_id = $1 AND conn_key = $2 AND once_token = $3"
            ))
            .bind(app_id)
            .bind(conn_key)
            .bind(once_token)
            .fetch_optional(&self.$pool)
            .await?)
        }

        async fn authorized_by(
            &self,
            app_id: &str,
            persona: &str,
            conn_key: Option<&str>,
        ) -> Result<Option<Authorization>, StoreError> {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                $crate::store::sql::authorization_columns!(),
                " FROM desks WHERE app_id = $1 AND persona = $2 AND state != $3 AND ($4 IS NULL OR conn_key = $4) \
                 ORDER BY authorized_at DESC, ",
                $seq,
                " DESC LIMIT 1"
            ))
            .bind(app_id)
            .bind(persona)
            .bind($crate::store::DeskState::Cancelled)
            .bind(conn_key)
            .fetch_optional(&self.$pool)
            .await?)
        }
    };
}

/// `JOB_DATA_INSERT` with its id, app and fields bound.
macro_rules! bind_job_data {
    ($id:expr, $new:expr, $now:expr) => {{
        let who = &$new.subject;
        sqlx::query($crate::store::sql::JOB_DATA_INSERT)
            .bind($id)
            .bind(&$new.app_id)
            .bind(&who.conn_key)
            .bind(&who.user_id)
            .bind(&who.open_id)
            .bind(&who.cert_type)
            .bind(&who.cert_no_shown)
            .bind(&who.user_name)
            .bind(&$new.items)
            .bind($now)
    }};
}

/// `PICTURE_INSERT` with its id, app, checked content and digest bound.
macro_rules! bind_picture {
    ($id:expr, $new:expr, $sha256:expr, $now:expr) => {
        sqlx::query($crate::store::sql::PICTURE_INSERT)
            .bind($id)
            .bind(&$new.app_id)
            .bind(&$new.pic_type)
            .bind($new.media_type)
            .bind(i64::try_from($new.content.len()).unwrap_or(i64::MAX))
            .bind($sha256)
            .bind(&$new.content)
            .bind($now)
    };
}

pub(super) use {
    authorization_columns, backend_reads, bind_app, bind_desk_change, bind_desk_insert, bind_job_data,
    bind_keys_insert, bind_picture, family_reads,
};
