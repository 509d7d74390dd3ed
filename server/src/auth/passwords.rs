//! argon2id on a bounded pool of blocking threads: a burst of logins takes at most
//! `workers` cores and never the async runtime's threads, so `/healthz`, the sync sockets and
//! the pages keep answering while it lasts.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// Hashes a password with argon2id (blocking: call it from [`Passwords`] or a blocking
/// context).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks a password against an argon2 PHC string (blocking).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A dummy hash so a login for an unknown user costs as much as a real one.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("nabo-timing-equaliser").unwrap_or_default())
}

/// The pool.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

/// Half the cores (at least one): logins never take the whole machine.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() / 2)
        .unwrap_or(1)
        .max(1)
}

impl Passwords {
    /// A pool running at most `workers` hashes at once.
    pub fn new(workers: usize) -> Self {
        Passwords {
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// Verifies `password` against `hash`, or against a dummy hash when there is none (same
    /// cost, always false). Waits for a free worker.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
        self.run(move || match hash {
            Some(h) => verify_password(&password, &h),
            None => {
                verify_password(&password, dummy_hash());
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Hashes a password on the pool.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let password = password.to_owned();
        self.run(move || hash_password(&password))
            .await
            .unwrap_or_else(|| Err(anyhow::anyhow!("the password pool stopped")))
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        // The permit moves into the blocking task: a caller that goes away (a client that
        // hangs up) does not free its worker before the hash is done.
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("kaffe og kage").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("kaffe og kage", &h));
        assert!(!verify_password("kaffe og kage ", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[tokio::test]
    async fn the_pool_runs_no_more_than_its_workers() {
        let pool = Passwords::new(1);
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(!pool.verify("x", None).await);
    }
}
