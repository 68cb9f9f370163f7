//! A small time-bounded cache for values that change rarely (catalogue versions, issuer
//! records, which key signs): a hit younger than the TTL is served from memory, anything
//! older is read again. Writers in this process call `clear` after changing the source.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long cached lookups live: changes made by another process show within this time.
pub const TTL: Duration = Duration::from_secs(1);

pub struct TtlCache<K, V> {
    ttl: Duration,
    map: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached value, if younger than the TTL.
    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.read().expect("cache lock");
        map.get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        self.map
            .write()
            .expect("cache lock")
            .insert(key, (value, Instant::now()));
    }

    pub fn clear(&self) {
        self.map.write().expect("cache lock").clear();
    }
}

impl<K: Eq + Hash, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache::new(TTL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_after_ttl() {
        let c = TtlCache::new(Duration::from_millis(30));
        c.put("a", 1);
        assert_eq!(c.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&"a"), None);
        c.put("a", 2);
        c.clear();
        assert_eq!(c.get(&"a"), None);
    }
}
