//! Desks: one per (app, conn_key, once_token) verification. Every state change is one
//! conditional `UPDATE … RETURNING`.

use std::sync::Arc;
use std::time::Duration;

use jobworth_wire::IdentityResult;

use super::backend::{Backend, DeskChange};
use super::{on_db, Desk, DeskResult, DeskState, NewDesk, Store, StoreError, Versioned};

impl Store {
    /// The most recently opened desks, newest first (for the index page).
    pub async fn recent_desks(&self, limit: u32) -> Result<Vec<Desk>, StoreError> {
        on_db!(self, db => db.recent_desks(limit).await)
    }

    /// Whether any desk of `app_id` has this `conn_key`.
    pub async fn conn_key_exists(&self, app_id: &str, conn_key: &str) -> Result<bool, StoreError> {
        on_db!(self, db => db.conn_key_exists(app_id, conn_key).await)
    }

    /// The desk of a (conn_key, once_token) pair.
    pub async fn desk_by_token(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Desk>, StoreError> {
        on_db!(self, db => db.desk_by_token(app_id, conn_key, once_token).await)
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
        let row = on_db!(self, db => db.desk_by_token_generational(app_id, conn_key, once_token).await)?;
        Ok(row.map(|row| {
            let copy = Arc::new(Versioned { value: row.row, generation: row.generation });
            self.desks.put(key, copy.clone());
            copy
        }))
    }

    /// A desk by id.
    pub async fn desk(&self, desk_id: &str) -> Result<Option<Desk>, StoreError> {
        on_db!(self, db => db.desk(desk_id).await)
    }

    /// The desk an order string opened before, if any.
    pub async fn desk_by_order(&self, app_id: &str, order_hash: &str) -> Result<Option<Desk>, StoreError> {
        on_db!(self, db => db.desk_by_order(app_id, order_hash).await)
    }

    /// Inserts a desk unless one with the same (app, conn_key, once_token) or the same order
    /// string exists. Returns the stored desk and whether it was created by this call.
    pub async fn insert_desk(&self, new: &NewDesk<'_>) -> Result<(Desk, bool), StoreError> {
        let desk_id = random_hex(16);
        let created = on_db!(self, db => db.insert_desk(&desk_id, new).await)?;
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
        let change = DeskChange::Complete { persona: persona.to_owned(), state: new_state, result };
        self.update_desk(desk_id, change).await
    }

    /// Ends a `pending` persona's verification with a verdict (`SUCCESS` or `FAILED`).
    pub async fn resolve(&self, desk_id: &str, verdict: IdentityResult) -> Result<Option<Desk>, StoreError> {
        self.update_desk(desk_id, DeskChange::Resolve(verdict)).await
    }

    /// The user declines: any desk that is still pending becomes cancelled.
    pub async fn cancel(&self, desk_id: &str) -> Result<Option<Desk>, StoreError> {
        self.update_desk(desk_id, DeskChange::Cancel).await
    }

    /// Consumes a terminal `SUCCESS`/`FAILED` token: exactly one caller ever gets `Some`, whatever
    /// the number of concurrent callers, processes and instances. Re-checks every condition in
    /// the `WHERE`.
    pub async fn consume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Desk>, StoreError> {
        self.update_desk(desk_id, DeskChange::Consume { ttl }).await
    }

    async fn update_desk(&self, desk_id: &str, change: DeskChange) -> Result<Option<Desk>, StoreError> {
        on_db!(self, db => db.update_desk(desk_id, change).await)
    }
}

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

    use jobworth_testkit::stores::StoreKind;

    use crate::store::tests::{another, execute, fresh, open_desk};
    use crate::store::{DeskResult, DeskState, StoreError};

    fn verdict(r: IdentityResult) -> DeskResult {
        DeskResult::Verdict(r)
    }

    async fn consume_has_exactly_one_winner_across_pools(kind: StoreKind) {
        let (place, a) = fresh(kind).await;
        let a = std::sync::Arc::new(a);
        let b = std::sync::Arc::new(another(&place).await);
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

    async fn consume_rechecks_every_condition(kind: StoreKind) {
        let (_place, s) = fresh(kind).await;
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

    async fn unknown_text_in_the_database_is_an_error(kind: StoreKind) {
        let (_place, s) = fresh(kind).await;
        let d = open_desk(&s, "odd").await;
        execute(&s, "UPDATE desks SET result = 'SOMETHING_NEW' WHERE desk_id = $1", &d.desk_id).await;
        let e = s.desk(&d.desk_id).await.unwrap_err();
        assert!(matches!(e, StoreError::Db(sqlx::Error::ColumnDecode { .. })), "{e}");
        assert!(e.to_string().contains("unknown desk result \"SOMETHING_NEW\""), "{e}");
        s.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)] consume_has_exactly_one_winner_across_pools,
        #[tokio::test] consume_rechecks_every_condition,
        #[tokio::test] unknown_text_in_the_database_is_an_error,
    }
}
