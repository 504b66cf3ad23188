//! Registered apps, and the process's copies of them.

use std::sync::Arc;

use super::backend::Backend;
use super::{on_db, App, AppRecord, Store, StoreError, Versioned};

impl Store {
    /// The app, if registered.
    pub async fn app(&self, app_id: &str) -> Result<Option<AppRecord>, StoreError> {
        on_db!(self, db => db.app(app_id).await)
    }

    /// Every registered app, most recently registered first (for the index page).
    pub async fn apps(&self, limit: u32) -> Result<Vec<AppRecord>, StoreError> {
        on_db!(self, db => db.apps(limit).await)
    }

    /// The app as this process last saw it, if it passes `check`. A copy that fails is read again
    /// (another process may have re-registered the app) and checked once more before its error is
    /// returned. `None`: no such app.
    ///
    /// The copy may be of any generation: once the request's nonce is recorded, pass it to
    /// [`Store::app_as_of`].
    pub async fn app_checked<E: From<StoreError>>(
        &self,
        app_id: &str,
        check: impl Fn(&App) -> Result<(), E>,
    ) -> Result<Option<Arc<Versioned<App>>>, E> {
        let Some((copy, fresh)) = self.app_copy(app_id).await? else { return Ok(None) };
        match check(&copy.value) {
            Ok(()) => Ok(Some(copy)),
            Err(e) if fresh => Err(e),
            Err(_) => self.app_read_checked(app_id, &check).await,
        }
    }

    /// The app as it is at `generation` (the `apps` counter the request's nonce insert returned),
    /// so a request is judged on the app as it was when its nonce was recorded. `seen` (from
    /// [`Store::app_checked`]) is kept when it was read at that generation; otherwise the app is
    /// read again and must pass `check` anew.
    pub async fn app_as_of<E: From<StoreError>>(
        &self,
        seen: Arc<Versioned<App>>,
        generation: i64,
        check: impl Fn(&App) -> Result<(), E>,
    ) -> Result<Option<Arc<Versioned<App>>>, E> {
        if seen.generation == generation {
            return Ok(Some(seen));
        }
        self.app_read_checked(&seen.value.record.app_id, &check).await
    }

    async fn app_read_checked<E: From<StoreError>>(
        &self,
        app_id: &str,
        check: &impl Fn(&App) -> Result<(), E>,
    ) -> Result<Option<Arc<Versioned<App>>>, E> {
        let Some(copy) = self.app_read(app_id).await? else { return Ok(None) };
        check(&copy.value)?;
        Ok(Some(copy))
    }

    /// The app as this process last read it (any generation), reading it when there is no copy.
    /// The `bool` says whether it was read just now.
    pub(super) async fn app_copy(&self, app_id: &str) -> Result<Option<(Arc<Versioned<App>>, bool)>, StoreError> {
        if let Some(copy) = self.apps.any(app_id) {
            return Ok(Some((copy, false)));
        }
        Ok(self.app_read(app_id).await?.map(|a| (a, true)))
    }

    /// Reads the app with the `apps` generation it was read at, and keeps the copy.
    async fn app_read(&self, app_id: &str) -> Result<Option<Arc<Versioned<App>>>, StoreError> {
        let row = on_db!(self, db => db.app_generational(app_id).await)?;
        let Some(row) = row else {
            self.apps.forget(app_id);
            return Ok(None);
        };
        let copy = Arc::new(Versioned { value: App::new(row.row), generation: row.generation });
        self.apps.put(app_id.to_owned(), copy.clone());
        Ok(Some(copy))
    }

    /// Registers or replaces an app. Returns `true` when it was new.
    pub async fn upsert_app(&self, app: &AppRecord) -> Result<bool, StoreError> {
        self.write_app(app, true).await
    }

    /// Registers an app unless one with its id exists. Returns `true` when it was new.
    pub async fn insert_app(&self, app: &AppRecord) -> Result<bool, StoreError> {
        self.write_app(app, false).await
    }

    async fn write_app(&self, app: &AppRecord, replace: bool) -> Result<bool, StoreError> {
        let inserted = on_db!(self, db => db.write_app(app, replace).await)?;
        // Not needed for correctness (the generation tells), but the next request need not ask.
        self.apps.forget(&app.app_id);
        Ok(inserted)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use jobworth_testkit::stores::StoreKind;

    use crate::store::tests::{another, fresh};
    use crate::store::{now_ms, AppRecord, StoreError};

    fn record(sn: &str) -> AppRecord {
        AppRecord {
            app_id: "app".into(),
            public_key_spki: None,
            encrypt_key: None,
            app_cert_pem: None,
            app_cert_sn: Some(sn.into()),
            name: None,
        }
    }

    async fn a_stale_copy_is_read_again_before_it_is_trusted(kind: StoreKind) {
        let (place, a) = fresh(kind).await;
        let b = another(&place).await;
        a.upsert_app(&record("one")).await.unwrap();
        let calls = AtomicUsize::new(0);
        let wants = |sn: &'static str| {
            let calls = &calls;
            move |app: &crate::store::App| {
                calls.fetch_add(1, Ordering::Relaxed);
                if app.record.app_cert_sn.as_deref() == Some(sn) {
                    Ok(())
                } else {
                    Err(StoreError::Wal(format!("not {sn}")))
                }
            }
        };
        let seen = a.app_checked("app", wants("one")).await.unwrap().unwrap();
        // Another process re-registers the app: the copy fails the check and is read again.
        b.upsert_app(&record("two")).await.unwrap();
        let fresh = a.app_checked("app", wants("two")).await.unwrap().unwrap();
        assert_eq!(calls.swap(0, Ordering::Relaxed), 3);
        assert!(fresh.generation > seen.generation);
        // A fresh read that fails is an error at once.
        assert!(a.app_checked("nope", wants("two")).await.unwrap().is_none());
        b.upsert_app(&record("three")).await.unwrap();
        assert!(b.app_checked("app", wants("two")).await.is_err());

        // At the generation it was read at, the copy is kept without a check; at any other it is
        // read again and checked.
        let same = a.app_as_of(fresh.clone(), fresh.generation, wants("x")).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&same, &fresh));
        assert_eq!(calls.swap(0, Ordering::Relaxed), 1);
        let gens = a.record_nonce("app", "n", now_ms(), Duration::from_secs(60)).await.unwrap().unwrap().generations;
        let now = a.app_as_of(fresh.clone(), gens.apps, wants("three")).await.unwrap().unwrap();
        assert_eq!(now.value.record.app_cert_sn.as_deref(), Some("three"));
        assert!(a.app_as_of(fresh, gens.apps, wants("two")).await.is_err());
        a.close().await;
        b.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test] a_stale_copy_is_read_again_before_it_is_trusted,
    }
}
