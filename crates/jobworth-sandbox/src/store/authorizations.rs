//! Desks as the rest of the family reads them: who authorized and when, the agreement behind an
//! `out_agreement_no`, and the one read of a cloud résumé (a conditional `UPDATE … RETURNING`).

use std::time::Duration;

use super::backend::Backend;
use super::{on_db, DeskState, Store, StoreError};

/// A desk's authorization.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Authorization {
    /// The desk.
    pub desk_id: String,
    /// Its `out_agreement_no`.
    pub conn_key: String,
    /// The persona that completed it, once the user authorized.
    pub persona: Option<String>,
    /// Where the desk stands.
    pub state: DeskState,
    /// When the user authorized (epoch ms).
    pub authorized_at: Option<i64>,
    /// When its résumé was read, if it was.
    pub resume_read_at: Option<i64>,
    /// When it became terminal or was declined (epoch ms).
    pub finished_at: Option<i64>,
}

impl Store {
    /// The desks of an app's `conn_key`, oldest first.
    pub async fn authorizations(&self, app_id: &str, conn_key: &str) -> Result<Vec<Authorization>, StoreError> {
        on_db!(self, db => db.authorizations(app_id, conn_key).await)
    }

    /// An app's desk by id.
    pub async fn authorization(&self, app_id: &str, desk_id: &str) -> Result<Option<Authorization>, StoreError> {
        on_db!(self, db => db.authorization(app_id, desk_id).await)
    }

    /// The desk of an app's (conn_key, once_token).
    pub async fn authorization_by_token(
        &self,
        app_id: &str,
        conn_key: &str,
        once_token: &str,
    ) -> Result<Option<Authorization>, StoreError> {
        on_db!(self, db => db.authorization_by_token(app_id, conn_key, once_token).await)
    }

    /// The latest desk of the app (of `conn_key`, when given) that `persona` authorized and did not
    /// decline.
    pub async fn authorized_by(
        &self,
        app_id: &str,
        persona: &str,
        conn_key: Option<&str>,
    ) -> Result<Option<Authorization>, StoreError> {
        on_db!(self, db => db.authorized_by(app_id, persona, conn_key).await)
    }

    /// Reads a desk's résumé: exactly one caller ever gets `Some`, and only within `ttl` of the
    /// authorization. Every condition is re-checked in the `WHERE`.
    pub async fn read_resume(&self, desk_id: &str, ttl: Duration) -> Result<Option<Authorization>, StoreError> {
        on_db!(self, db => db.read_resume(desk_id, ttl).await)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jobworth_testkit::stores::StoreKind;

    use crate::store::tests::{fresh, open_desk};
    use crate::store::DeskState;

    async fn a_resume_is_read_once_within_the_ttl(kind: StoreKind) {
        let (_place, s) = fresh(kind).await;
        let s = std::sync::Arc::new(s);
        let ttl = Duration::from_secs(60);
        let d = open_desk(&s, "c").await;
        // Not authorized yet: nothing to read.
        assert_eq!(s.read_resume(&d.desk_id, ttl).await.unwrap(), None);
        s.complete(&d.desk_id, "pending", DeskState::Pending, None).await.unwrap().unwrap();
        let a = s.authorization("app", &d.desk_id).await.unwrap().unwrap();
        assert!(a.authorized_at.is_some());
        assert_eq!(s.authorized_by("app", "pending", Some("c")).await.unwrap().as_ref(), Some(&a));
        assert_eq!(s.authorized_by("app", "pending", Some("other")).await.unwrap(), None);
        assert_eq!(s.read_resume(&d.desk_id, Duration::ZERO).await.unwrap(), None);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (s, id) = (s.clone(), d.desk_id.clone());
            tasks.spawn(async move { s.read_resume(&id, ttl).await.unwrap().is_some() });
        }
        let mut wins = 0;
        while let Some(r) = tasks.join_next().await {
            wins += usize::from(r.unwrap());
        }
        assert_eq!(wins, 1);
        s.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)] a_resume_is_read_once_within_the_ttl,
    }
}
