//! Desks: one per (app, conn_key, once_token) verification. Every state change is one
//! conditional `UPDATE … RETURNING` on the writer.

use std::sync::Arc;
use std::time::Duration;

use jobworth_wire::{ErrorCode, IdentityResult};

use super::{duration_ms, now_ms, Desk, DeskResult, DeskState, Generational, NewDesk, Store, StoreError, Versioned};

const DESK_COLUMNS: &str = "desk_id, app_id, conn_key, once_token, identity_type, service_id, order_str, persona, \
                            state, result, became_terminal_at, consumed";

impl Store {
    /// The most recently opened desks, newest first (for the index page).
    pub async fn recent_desks(&self, limit: u32) -> Result<Vec<Desk>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {DESK_COLUMNS} FROM desks ORDER BY created_at DESC, rowid DESC LIMIT ?"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Whether any desk of `app_id` has this `conn_key`.
    pub async fn conn_key_exists(&self, app_id: &str, conn_key: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM desks WHERE app_id = ? AND conn_key = ? LIMIT 1")
            .bind(app_id)
            .bind(conn_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The desk of a (conn_key, once_token) pair.
    pub async fn desk_by_token(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Desk>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DESK_COLUMNS} FROM desks WHERE app_id = ? AND conn_key = ? AND once_token = ?"
        ))
        .bind(app_id)
        .bind(conn_key)
        .bind(once_token)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The desk of a (conn_key, once_token) pair as of `desks_generation` (from the request's
    /// nonce insert): this process's copy when it was read at that generation, else a fresh read.
    pub async fn desk_by_token_at(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
        desks_generation: i64,
    ) -> Result<Option<Arc<Versioned<Desk>>>, StoreError> {
        // Length-prefixed, so no two triples share a key.
        let key = format!("{}:{}:{app_id}{conn_key}{once_token}", app_id.len(), conn_key.len());
        if let Some(copy) = self.desks.at(&key, desks_generation) {
            return Ok(Some(copy));
        }
        let row: Option<Generational<Desk>> = sqlx::query_as(&format!(
            "SELECT {DESK_COLUMNS}, (SELECT desks FROM generations) AS generation FROM desks \
             WHERE app_id = ? AND conn_key = ? AND once_token = ?"
        ))
        .bind(app_id)
        .bind(conn_key)
        .bind(once_token)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| {
            let copy = Arc::new(Versioned { value: row.row, generation: row.generation });
            self.desks.put(key, copy.clone());
            copy
        }))
    }

    /// A desk by id.
    pub async fn desk(&self, desk_id: &str) -> Result<Option<Desk>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {DESK_COLUMNS} FROM desks WHERE desk_id = ?"))
            .bind(desk_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The desk an order string opened before, if any.
    pub async fn desk_by_order(&self, app_id: &str, order_hash: &str) -> Result<Option<Desk>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {DESK_COLUMNS} FROM desks WHERE app_id = ? AND order_hash = ?"))
            .bind(app_id)
            .bind(order_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Inserts a desk unless one with the same (app, conn_key, once_token) or the same order
    /// string exists. Returns the stored desk and whether it was created by this call.
    pub async fn insert_desk(&self, new: &NewDesk<'_>) -> Result<(Desk, bool), StoreError> {
        let desk_id = random_hex(16);
        let row = (
            desk_id.clone(),
            new.app_id.to_owned(),
            new.conn_key.to_owned(),
            new.once_token.to_owned(),
            new.identity_type.to_owned(),
            new.service_id.to_owned(),
            new.order_hash.map(str::to_owned),
            new.order_str.map(str::to_owned),
        );
        let created = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    let (desk_id, app_id, conn_key, once_token, identity_type, service_id, order_hash, order_str) = row;
                    let done = sqlx::query(
                        "INSERT OR IGNORE INTO desks (desk_id, app_id, conn_key, once_token, identity_type, service_id, \
                         order_hash, order_str, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(desk_id)
                    .bind(app_id)
                    .bind(conn_key)
                    .bind(once_token)
                    .bind(identity_type)
                    .bind(service_id)
                    .bind(order_hash)
                    .bind(order_str)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if created {
            let desk = self.desk(&desk_id).await?.ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
            return Ok((desk, true));
        }
        if let Some(hash) = new.order_hash {
            if let Some(desk) = self.desk_by_order(new.app_id, hash).await? {
                return Ok((desk, false));
            }
        }
        let desk = self
            .desk_by_token(new.app_id, new.conn_key, new.once_token)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
        Ok((desk, false))
    }

    /// Completes an open desk with a persona. `None` when the desk is unknown or not open.
    pub async fn complete(
        &self,
        desk_id: &str,
        persona: &str,
        new_state: DeskState,
        result: Option<DeskResult>,
    ) -> Result<Option<Desk>, StoreError> {
        let (desk_id, persona) = (desk_id.to_owned(), persona.to_owned());
        self.update_desk(
            "UPDATE desks SET persona = ?, state = ?, result = ?, became_terminal_at = ?, authorized_at = ?, \
             updated_at = ? WHERE desk_id = ? AND persona IS NULL AND state = ?",
            move |q, now| {
                let terminal_at = (new_state != DeskState::Pending).then_some(now);
                let from = DeskState::Pending;
                q.bind(persona)
                    .bind(new_state)
                    .bind(result)
                    .bind(terminal_at)
                    .bind(now)
                    .bind(now)
                    .bind(desk_id)
                    .bind(from)
            },
        )
        .await
    }

    /// Ends a `pending` persona's verification with a verdict (`SUCCESS` or `FAILED`).
    pub async fn resolve(&self, desk_id: &str, verdict: IdentityResult) -> Result<Option<Desk>, StoreError> {
        let desk_id = desk_id.to_owned();
        self.update_desk(
            "UPDATE desks SET state = ?, result = ?, became_terminal_at = ?, updated_at = ? \
             WHERE desk_id = ? AND persona = 'pending' AND state = ?",
            move |q, now| {
                let (to, from) = (DeskState::Terminal, DeskState::Pending);
                q.bind(to).bind(DeskResult::Verdict(verdict)).bind(now).bind(now).bind(desk_id).bind(from)
            },
        )
        .await
    }

    /// The user declines: any desk that is still pending becomes cancelled.
    pub async fn cancel(&self, desk_id: &str) -> Result<Option<Desk>, StoreError> {
        let desk_id = desk_id.to_owned();
        self.update_desk(
            "UPDATE desks SET state = ?, result = ?, became_terminal_at = ?, updated_at = ? \
             WHERE desk_id = ? AND state = ?",
            move |q, now| {
                let declined = DeskResult::Refusal(ErrorCode::UserNotAuthorize);
                q.bind(DeskState::Cancelled).bind(declined).bind(now).bind(now).bind(desk_id).bind(DeskState::Pending)
            },
        )
        .await
    }

    /// Consumes a terminal `SUCCESS`/`FAILED` token: exactly one caller ever gets `Some`, whatever
    /// the number of concurrent callers and processes. Re-checks every condition in the `WHERE`.
    pub async fn consume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Desk>, StoreError> {
        let desk_id = desk_id.to_owned();
        self.update_desk(
            "UPDATE desks SET consumed = 1, consumed_at = ?, updated_at = ? \
             WHERE desk_id = ? AND consumed = 0 AND state = ? AND result IN (?, ?) \
             AND became_terminal_at IS NOT NULL AND became_terminal_at + ? > ?",
            move |q, now| {
                q.bind(now)
                    .bind(now)
                    .bind(desk_id)
                    .bind(DeskState::Terminal)
                    .bind(DeskResult::Verdict(IdentityResult::Success))
                    .bind(DeskResult::Verdict(IdentityResult::Failed))
                    .bind(duration_ms(ttl))
                    .bind(now)
            },
        )
        .await
    }

    /// Runs one conditional `UPDATE desks …` on the writer and returns the updated row, if any.
    /// `bind` binds the statement's parameters, given the time of the update (epoch ms).
    async fn update_desk(
        &self,
        update: &'static str,
        bind: impl for<'q> FnOnce(DeskQuery<'q>, i64) -> DeskQuery<'q> + Send + 'static,
    ) -> Result<Option<Desk>, StoreError> {
        let desk = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = format!("{update} RETURNING {DESK_COLUMNS}");
                    bind(sqlx::query_as(&sql), now_ms()).fetch_optional(&mut *conn).await
                })
            })
            .await?;
        Ok(desk)
    }
}

/// A desk statement being bound.
type DeskQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Sqlite, Desk, sqlx::sqlite::SqliteArguments<'q>>;

/// `n` random bytes as lower-case hex (desk ids).
pub(super) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // aws-lc only fails when the OS has no entropy source; nothing sensible can continue then.
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator unavailable");
    alipay_v3::hex(&b)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jobworth_wire::{ErrorCode, IdentityResult};

    use crate::store::tests::open_desk;
    use crate::store::{DeskResult, DeskState, Store, StoreError};

    fn verdict(r: IdentityResult) -> DeskResult {
        DeskResult::Verdict(r)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn consume_has_exactly_one_winner_across_pools() {
        let dir = tempfile::tempdir().unwrap();
        let a = std::sync::Arc::new(Store::open(dir.path()).await.unwrap());
        let b = std::sync::Arc::new(Store::open(dir.path()).await.unwrap());
        let ttl = Duration::from_secs(60);
        for round in 0..3 {
            let d = open_desk(&a, &format!("conn-{round}")).await;
            a.complete(&d.desk_id, "teacher", DeskState::Terminal, Some(verdict(IdentityResult::Success)))
                .await
                .unwrap()
                .unwrap();
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..64 {
                let s = if i % 2 == 0 { a.clone() } else { b.clone() };
                let id = d.desk_id.clone();
                tasks.spawn(async move { s.consume(&id, ttl).await.unwrap().is_some() });
            }
            let mut wins = 0;
            while let Some(r) = tasks.join_next().await {
                wins += usize::from(r.unwrap());
            }
            assert_eq!(wins, 1);
            assert!(b.desk(&d.desk_id).await.unwrap().unwrap().consumed);
        }
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn consume_rechecks_every_condition() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let ttl = Duration::from_secs(60);
        // Still pending (desk opened, and pending persona): nothing to consume.
        let d = open_desk(&s, "open").await;
        assert_eq!(s.consume(&d.desk_id, ttl).await.unwrap(), None);
        s.complete(&d.desk_id, "pending", DeskState::Pending, None).await.unwrap().unwrap();
        assert_eq!(s.consume(&d.desk_id, ttl).await.unwrap(), None);
        // A second completion is refused by the conditional update.
        assert_eq!(
            s.complete(&d.desk_id, "teacher", DeskState::Terminal, Some(verdict(IdentityResult::Success)))
                .await
                .unwrap(),
            None
        );
        let r = s.resolve(&d.desk_id, IdentityResult::Failed).await.unwrap().unwrap();
        assert_eq!(r.result.as_ref().map(DeskResult::as_str), Some("FAILED"));
        assert_eq!(s.resolve(&d.desk_id, IdentityResult::Success).await.unwrap(), None);
        // Expired: the TTL is checked inside the UPDATE.
        assert_eq!(s.consume(&d.desk_id, Duration::ZERO).await.unwrap(), None);
        assert!(s.consume(&d.desk_id, ttl).await.unwrap().is_some());
        // Error outcomes and cancellations are never consumed.
        let e = open_desk(&s, "err").await;
        s.complete(&e.desk_id, "risk", DeskState::Terminal, Some(DeskResult::Refusal(ErrorCode::RiskIntercept)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.consume(&e.desk_id, ttl).await.unwrap(), None);
        let c = open_desk(&s, "cancel").await;
        assert_eq!(s.cancel(&c.desk_id).await.unwrap().unwrap().state, DeskState::Cancelled);
        assert_eq!(s.consume(&c.desk_id, ttl).await.unwrap(), None);
        assert_eq!(s.cancel(&c.desk_id).await.unwrap(), None);
        s.close().await;
    }

    #[tokio::test]
    async fn unknown_text_in_the_database_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let d = open_desk(&s, "odd").await;
        sqlx::query("UPDATE desks SET result = 'SOMETHING_NEW' WHERE desk_id = ?")
            .bind(&d.desk_id)
            .execute(&s.pool)
            .await
            .unwrap();
        let e = s.desk(&d.desk_id).await.unwrap_err();
        assert!(matches!(e, StoreError::Db(sqlx::Error::ColumnDecode { .. })), "{e}");
        assert!(e.to_string().contains("unknown desk result \"SOMETHING_NEW\""), "{e}");
        s.close().await;
    }
}
