//! The sandbox's own key material: one row, written once per store.

use super::backend::Backend;
use super::{on_db, KeyRow, Store, StoreError};

impl Store {
    /// The stored key row, if the sandbox was started on this store before.
    pub async fn keys(&self) -> Result<Option<KeyRow>, StoreError> {
        on_db!(self, db => db.keys().await)
    }

    /// Stores `new` unless a key row exists, then returns the stored row. When several
    /// processes race on a fresh store, the first insert wins and everyone uses that row.
    pub async fn insert_keys_if_absent(&self, new: &KeyRow) -> Result<KeyRow, StoreError> {
        on_db!(self, db => db.insert_keys_if_absent(new).await)
    }
}
