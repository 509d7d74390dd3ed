//! Login limits that slow guessing down without locking the owner out (ADR 0014).
//!
//! Every attempt is counted in the database **before** the password is checked, in one
//! statement per key (so 40 concurrent attempts are 40 counts, on every relay node):
//!
//! - **Per client address** (behind a trusted proxy, the address it forwards): more than
//!   [`LoginLimits::per_address`] attempts in two minutes are refused with 429 without being
//!   checked. A successful login takes its count back.
//! - **Per account**: never refused. After [`LoginLimits::free_per_account`] failures in 15
//!   minutes, each attempt waits before it is checked, doubling from 250 ms up to
//!   [`LoginLimits::max_delay`]. Someone guessing from elsewhere makes the owner's login
//!   slower, never impossible; guessing from one address runs into the address limit.
//!
//! Keys are salted hashes of the address and the lower-cased username, never the values, and
//! counts older than 15 minutes are deleted.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::storage::{Storage, StorageError, now_ms};

/// The limits.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Attempts per client address in two minutes.
    pub per_address: i64,
    /// Failed attempts per account in 15 minutes before attempts are slowed down.
    pub free_per_account: i64,
    /// The longest wait before an attempt is checked.
    pub max_delay: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_address: 20,
            free_per_account: 5,
            max_delay: Duration::from_secs(8),
        }
    }
}

/// How long an attempt on an account with `counted` recent attempts (this one included)
/// waits before its password is checked.
pub fn account_delay(counted: i64, limits: &LoginLimits) -> Duration {
    let over = counted - limits.free_per_account;
    if over <= 0 {
        return Duration::ZERO;
    }
    let exp = u32::try_from(over - 1).unwrap_or(u32::MAX).min(16);
    Duration::from_millis(250u64 << exp).min(limits.max_delay)
}

const ADDRESS_WINDOW_MINUTES: i64 = 2;
const ACCOUNT_WINDOW_MINUTES: i64 = 15;

/// An attempt that was counted; [`Counted::succeeded`] takes it back.
#[derive(Debug)]
pub struct Counted {
    keys: Vec<String>,
    minute: i64,
}

/// The limiter (state lives in storage).
#[derive(Debug, Clone)]
pub struct Limiter {
    salt: String,
    limits: LoginLimits,
}

/// What a counted attempt may do.
#[derive(Debug)]
pub enum Verdict {
    /// Check the password after waiting `delay`.
    Check {
        /// The account's slow-down.
        delay: Duration,
        /// Take it back on success.
        counted: Counted,
    },
    /// Too many attempts from this address: refuse unchecked.
    Refused,
}

impl Limiter {
    /// A limiter whose keys are hashed with `salt` (per installation).
    pub fn new(salt: String, limits: LoginLimits) -> Self {
        Limiter { salt, limits }
    }

    fn key(&self, kind: &str, value: &str) -> String {
        hex::encode(Sha256::digest(
            format!("{}\0{kind}\0{value}", self.salt).as_bytes(),
        ))
    }

    /// Counts an attempt from `client` (on `account`, for logins) and decides.
    pub async fn attempt(
        &self,
        storage: &dyn Storage,
        kind: &str,
        client: &str,
        account: Option<&str>,
    ) -> Result<Verdict, StorageError> {
        let minute = now_ms() / 60_000;
        let forget = minute - ACCOUNT_WINDOW_MINUTES;
        let address = self.key(&format!("{kind}-address"), client);
        let n = storage
            .count_login_attempt(
                &address,
                minute,
                minute - ADDRESS_WINDOW_MINUTES + 1,
                forget,
            )
            .await?;
        if n > self.limits.per_address {
            return Ok(Verdict::Refused);
        }
        let mut keys = vec![address];
        let mut delay = Duration::ZERO;
        if let Some(a) = account {
            let key = self.key("account", &a.to_lowercase());
            let m = storage
                .count_login_attempt(&key, minute, minute - ACCOUNT_WINDOW_MINUTES + 1, forget)
                .await?;
            delay = account_delay(m, &self.limits);
            keys.push(key);
        }
        Ok(Verdict::Check {
            delay,
            counted: Counted { keys, minute },
        })
    }

    /// The attempt succeeded: it does not count against the address or the account.
    pub async fn succeeded(
        &self,
        storage: &dyn Storage,
        counted: Counted,
    ) -> Result<(), StorageError> {
        for k in &counted.keys {
            storage.uncount_login_attempt(k, counted.minute).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_slow_down_doubles_and_is_capped() {
        let l = LoginLimits::default();
        assert_eq!(account_delay(1, &l), Duration::ZERO);
        assert_eq!(account_delay(5, &l), Duration::ZERO);
        assert_eq!(account_delay(6, &l), Duration::from_millis(250));
        assert_eq!(account_delay(7, &l), Duration::from_millis(500));
        assert_eq!(account_delay(9, &l), Duration::from_secs(2));
        assert_eq!(account_delay(60, &l), Duration::from_secs(8));
        assert_eq!(account_delay(i64::MAX, &l), Duration::from_secs(8));
    }
}
