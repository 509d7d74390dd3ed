//! One load at a time per key, for the hub's caches of what the rules need from other
//! documents (the tenant's rules, an activity's children flag).
//!
//! Without it every caller that misses a cache loads the same documents at once: after a
//! node starts, 200 phones syncing together asked for their tenant's rules 200 times, each
//! reading and decoding the whole volunteer directory (8,000 volunteers at national size),
//! which starved the node's CPU and its database pool for seconds (docs/benchmarks.md,
//! capacity). With it the first caller loads, the others wait for it and then find its
//! answer in the cache.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, PoisonError};

/// A lock per key, made on first use and dropped once nobody holds or waits for it.
#[derive(Debug)]
pub(crate) struct OneAtATime<K> {
    locks: std::sync::Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K: Eq + Hash + Clone> OneAtATime<K> {
    pub(crate) fn new() -> Self {
        OneAtATime {
            locks: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Waits until no other caller loads for `key`; the load is this caller's until the
    /// guard drops. Callers check their cache again after this returns.
    pub(crate) async fn lock(&self, key: &K) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            // Keys nobody holds or waits for (only the map's reference is left).
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(key.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Twenty concurrent misses of one key make one load; another key is not held up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_load_once() {
        let once = Arc::new(OneAtATime::new());
        let cache: Arc<std::sync::Mutex<Option<u32>>> = Arc::default();
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (once, cache, loads) = (once.clone(), cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                if let Some(v) = *cache.lock().unwrap() {
                    return v;
                }
                let _one = once.lock(&"tenant").await;
                if let Some(v) = *cache.lock().unwrap() {
                    return v;
                }
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                *cache.lock().unwrap() = Some(7);
                7
            }));
        }
        // Another key goes ahead while "tenant" is being loaded.
        let other = tokio::time::timeout(Duration::from_millis(40), once.lock(&"other")).await;
        assert!(other.is_ok(), "a different key waited for the load");
        drop(other);
        for t in tasks {
            assert_eq!(t.await.unwrap(), 7);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Nobody holds a key any more: the next call forgets them.
        drop(once.lock(&"tenant").await);
        assert_eq!(once.locks.lock().unwrap().len(), 1);
    }
}
