//! In-process copies of apps and desks, each tagged with the change counter it was read at.
//!
//! A copy is used only when the counter the request's nonce insert returned is the same, i.e. no
//! process has written that table since the copy was read: the request then sees exactly what a
//! fresh read at the moment of its nonce insert would have seen. Anything else reads the row.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// The change counters of the `generations` table (migration 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generations {
    /// Bumped by every insert, update or delete on `apps`.
    pub apps: i64,
    /// Bumped by every insert, update or delete on `desks`.
    pub desks: i64,
}

/// A row and the counter of its table when it was read (in the same statement).
#[derive(Debug)]
pub struct Versioned<T> {
    /// The row.
    pub value: T,
    /// The table's change counter at the read.
    pub generation: i64,
}

/// Entries kept per map; past it the map starts over (a sandbox serves few apps and tokens).
const MAX_ENTRIES: usize = 4096;

/// One map of copies.
#[derive(Debug)]
pub(crate) struct Copies<K, T> {
    map: Mutex<HashMap<K, Arc<Versioned<T>>>>,
}

impl<K: Eq + Hash, T> Default for Copies<K, T> {
    fn default() -> Self {
        Copies { map: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, T> Copies<K, T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<Versioned<T>>>> {
        // The map only ever holds whole entries, so a panic elsewhere cannot leave it half-written.
        self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The copy of `key`, whatever its generation.
    pub fn any<Q>(&self, key: &Q) -> Option<Arc<Versioned<T>>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(key).cloned()
    }

    /// The copy of `key` if it was read at `generation`.
    pub fn at<Q>(&self, key: &Q, generation: i64) -> Option<Arc<Versioned<T>>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(key).filter(|v| v.generation == generation).cloned()
    }

    /// Keeps `entry` unless a copy read at a later generation is already there.
    pub fn put(&self, key: K, entry: Arc<Versioned<T>>) {
        let mut map = self.lock();
        if map.get(&key).is_some_and(|old| old.generation > entry.generation) {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, entry);
    }

    /// Drops the copy of `key`.
    pub fn forget<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: &'static str, generation: i64) -> Arc<Versioned<&'static str>> {
        Arc::new(Versioned { value, generation })
    }

    #[test]
    fn copies_are_used_only_at_their_generation() {
        let c: Copies<String, &str> = Copies::default();
        assert!(c.any("a").is_none());
        c.put("a".into(), v("one", 3));
        assert_eq!(c.at("a", 3).map(|e| e.value), Some("one"));
        assert!(c.at("a", 4).is_none());
        assert_eq!(c.any("a").map(|e| e.generation), Some(3));
        // An older read never replaces a newer one.
        c.put("a".into(), v("older", 2));
        assert_eq!(c.any("a").map(|e| e.value), Some("one"));
        c.put("a".into(), v("newer", 5));
        assert_eq!(c.at("a", 5).map(|e| e.value), Some("newer"));
        c.forget("a");
        assert!(c.any("a").is_none());
    }

    #[test]
    fn the_map_is_bounded() {
        let c: Copies<usize, &str> = Copies::default();
        for i in 0..=MAX_ENTRIES {
            c.put(i, v("x", 1));
        }
        assert!(c.lock().len() <= MAX_ENTRIES);
        assert!(c.at(&MAX_ENTRIES, 1).is_some());
    }
}
