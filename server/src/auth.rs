//! Authentication: argon2id passwords, short-lived HS256 access tokens, rotating refresh
//! tokens stored hashed, one-time enrolment codes for volunteers' phones, login rate limits.
//!
//! The signing key is 32 random bytes generated on first start into `<data dir>/jwt.key`
//! (mode 0600), or read from `NABO_JWT_KEY_FILE`. Validation accepts HS256 only: a token with
//! `alg: none` or any other algorithm is refused (no algorithm confusion).

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::acl::Principal;
use crate::storage::{DeviceRow, RefreshRow, Storage, StorageError, now_ms};

/// Access tokens live 10 minutes.
pub const ACCESS_TTL_SECS: i64 = 600;
/// Staff refresh tokens live 14 days.
pub const REFRESH_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
/// Device refresh tokens (enrolled phones) live 90 days and rotate on use.
pub const DEVICE_REFRESH_TTL_MS: i64 = 90 * 24 * 3600 * 1000;
/// Enrolment codes are valid 48 hours.
pub const ENROLMENT_TTL_MS: i64 = 48 * 3600 * 1000;

/// Authentication failures, each with its own answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password (never says which).
    #[error("wrong username or password")]
    BadCredentials,
    /// Missing, malformed, expired or forged token.
    #[error("invalid or expired token")]
    BadToken,
    /// The user or device was revoked.
    #[error("access revoked")]
    Revoked,
    /// A refresh token was used twice: the whole family is revoked.
    #[error("refresh token reused; all sessions of this login were revoked")]
    Reused,
    /// Too many attempts.
    #[error("too many attempts; try again later")]
    RateLimited,
    /// Storage failed.
    #[error("storage unavailable")]
    Storage(#[from] StorageError),
}

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant.
    pub tid: String,
    /// Device, for enrolled phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Issued at (s).
    pub iat: i64,
    /// Expires (s).
    pub exp: i64,
}

/// A token pair as the login endpoints return it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    /// Short-lived JWT.
    pub access_token: String,
    /// Opaque rotating refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// The authenticator.
#[derive(Clone)]
pub struct Auth {
    enc: EncodingKey,
    dec: DecodingKey,
    storage: Arc<dyn Storage>,
    failures: Arc<FailureLimiter>,
}

/// Limits failed attempts: each failure spends a cell of the key's bucket (per username and
/// per client address); an exhausted key is locked until its bucket refills. Successful
/// logins cost nothing, so an office behind one address is not locked out by its own use.
struct FailureLimiter {
    by_user: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<String>,
    locked: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl FailureLimiter {
    fn is_locked(&self, keys: &[String]) -> bool {
        let now = std::time::Instant::now();
        let Ok(mut l) = self.locked.lock() else {
            return false;
        };
        l.retain(|_, until| *until > now);
        keys.iter().any(|k| l.contains_key(k))
    }

    fn failed(&self, user: Option<&str>, ip: &str) {
        let mut lock = Vec::new();
        if let Some(u) = user
            && let Err(not_until) = self.by_user.check_key(&u.to_owned())
        {
            lock.push((
                format!("user:{u}"),
                not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                )),
            ));
        }
        if let Err(not_until) = self.by_ip.check_key(&ip.to_owned()) {
            lock.push((
                format!("ip:{ip}"),
                not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                )),
            ));
        }
        if let Ok(mut l) = self.locked.lock() {
            for (k, wait) in lock {
                l.insert(k, std::time::Instant::now() + wait);
            }
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

/// Reads or creates the signing key.
pub fn load_or_create_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(path) = std::env::var("NABO_JWT_KEY_FILE") {
        let key = std::fs::read(&path)?;
        anyhow::ensure!(
            key.len() >= 32,
            "the key in NABO_JWT_KEY_FILE must be at least 32 bytes"
        );
        return Ok(key);
    }
    let path = data_dir.join("jwt.key");
    if let Ok(key) = std::fs::read(&path) {
        anyhow::ensure!(key.len() >= 32, "{} is too short", path.display());
        return Ok(key);
    }
    let key: [u8; 32] = rand::random();
    std::fs::create_dir_all(data_dir)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(&path)?.write_all(&key)?;
    Ok(key.to_vec())
}

/// A random opaque token (256 bits, base64url).
pub fn random_token() -> String {
    let b: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The stored form of a token or code.
pub fn hash_secret(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
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

/// An enrolment code: 10 characters of Crockford base32 in two groups ("K7QM-2XHP-RT" style
/// is easy to read aloud and fits a small QR code).
pub fn enrolment_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 10] = rand::random();
    let s: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

/// Normalises a typed code: upper case, no spaces or dashes, O→0, I/L→1.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

impl Auth {
    /// An authenticator with `key`.
    pub fn new(key: &[u8], storage: Arc<dyn Storage>) -> Self {
        let per_user = Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
        let per_ip = Quota::per_minute(NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN));
        Auth {
            enc: EncodingKey::from_secret(key),
            dec: DecodingKey::from_secret(key),
            storage,
            failures: Arc::new(FailureLimiter {
                by_user: RateLimiter::keyed(per_user),
                by_ip: RateLimiter::keyed(per_ip),
                locked: std::sync::Mutex::new(std::collections::HashMap::new()),
            }),
        }
    }

    fn access_token(
        &self,
        user_id: &str,
        tenant: &str,
        device: Option<&str>,
    ) -> Result<(String, i64), AuthError> {
        let now = now_ms() / 1000;
        let claims = Claims {
            sub: user_id.into(),
            tid: tenant.into(),
            dev: device.map(str::to_owned),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.enc)
            .map_err(|_| AuthError::BadToken)?;
        Ok((token, claims.exp))
    }

    async fn issue(
        &self,
        user_id: &str,
        tenant: &str,
        device: Option<&str>,
        family: Option<String>,
    ) -> Result<Tokens, AuthError> {
        let (access_token, _) = self.access_token(user_id, tenant, device)?;
        let refresh_token = random_token();
        let ttl = if device.is_some() {
            DEVICE_REFRESH_TTL_MS
        } else {
            REFRESH_TTL_MS
        };
        self.storage
            .insert_refresh(
                &hash_secret(&refresh_token),
                &RefreshRow {
                    user_id: user_id.into(),
                    device_id: device.map(str::to_owned),
                    family_id: family.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
                    expires_at: now_ms() + ttl,
                    used: false,
                    revoked: false,
                },
            )
            .await?;
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in: ACCESS_TTL_SECS,
        })
    }

    /// Username and password login. Rate-limited per username and per client address.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<Tokens, AuthError> {
        let user_key = username.to_lowercase();
        if self
            .failures
            .is_locked(&[format!("user:{user_key}"), format!("ip:{client}")])
        {
            return Err(AuthError::RateLimited);
        }
        let user = self.storage.user_by_username(username).await?;
        let ok = match &user {
            Some(u) => u
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(password, h)),
            None => {
                verify_password(password, dummy_hash());
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            self.failures.failed(Some(&user_key), client);
            return Err(AuthError::BadCredentials);
        };
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        self.issue(&user.id, user.tenant.as_str(), None, None).await
    }

    /// Exchanges a refresh token for a new pair; the old one is spent. Reuse of a spent
    /// token revokes its whole family (someone copied it).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, AuthError> {
        let now = now_ms();
        let Some(row) = self
            .storage
            .use_refresh(&hash_secret(refresh_token), now)
            .await?
        else {
            return Err(AuthError::BadToken);
        };
        if row.revoked {
            return Err(AuthError::Revoked);
        }
        if row.used {
            self.storage.revoke_family(&row.family_id, now).await?;
            return Err(AuthError::Reused);
        }
        if row.expires_at <= now {
            return Err(AuthError::BadToken);
        }
        let user = self
            .storage
            .user(&row.user_id)
            .await?
            .ok_or(AuthError::BadToken)?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        if let Some(d) = &row.device_id
            && self.storage.device(d).await?.is_none_or(|d| d.revoked)
        {
            return Err(AuthError::Revoked);
        }
        self.issue(
            &user.id,
            user.tenant.as_str(),
            row.device_id.as_deref(),
            Some(row.family_id),
        )
        .await
    }

    /// Revokes the family of a refresh token (logout).
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let now = now_ms();
        if let Some(row) = self
            .storage
            .use_refresh(&hash_secret(refresh_token), now)
            .await?
        {
            self.storage.revoke_family(&row.family_id, now).await?;
        }
        Ok(())
    }

    /// Creates an enrolment code for `user_id` (a volunteer) on behalf of `by`.
    pub async fn create_enrolment(
        &self,
        user_id: &str,
        by: &str,
    ) -> Result<(String, i64), AuthError> {
        let code = enrolment_code();
        let expires = now_ms() + ENROLMENT_TTL_MS;
        self.storage
            .insert_enrolment(&hash_secret(&normalise_code(&code)), user_id, by, expires)
            .await?;
        Ok((code, expires))
    }

    /// A phone exchanges a one-time code for device credentials.
    pub async fn enrol(
        &self,
        code: &str,
        device_name: &str,
        client: &str,
    ) -> Result<(Tokens, String, String), AuthError> {
        if self.failures.is_locked(&[format!("ip:{client}")]) {
            return Err(AuthError::RateLimited);
        }
        let now = now_ms();
        let Some(user_id) = self
            .storage
            .redeem_enrolment(&hash_secret(&normalise_code(code)), now)
            .await?
        else {
            self.failures.failed(None, client);
            return Err(AuthError::BadCredentials);
        };
        let user = self
            .storage
            .user(&user_id)
            .await?
            .ok_or(AuthError::BadCredentials)?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        let device_id = uuid::Uuid::new_v4().simple().to_string();
        let name: String = device_name
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        self.storage
            .insert_device(&DeviceRow {
                id: device_id.clone(),
                user_id: user.id.clone(),
                name,
                revoked: false,
            })
            .await?;
        let tokens = self
            .issue(&user.id, user.tenant.as_str(), Some(&device_id), None)
            .await?;
        Ok((tokens, device_id, user.id))
    }

    /// Validates an access token (HS256 only, expiry enforced) and loads the caller. Revoked
    /// users and devices are refused even while their token has not expired.
    pub async fn principal(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &v)
            .map_err(|_| AuthError::BadToken)?;
        let c = data.claims;
        let user = self
            .storage
            .user(&c.sub)
            .await?
            .ok_or(AuthError::BadToken)?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        if user.tenant.as_str() != c.tid {
            return Err(AuthError::BadToken);
        }
        if let Some(d) = &c.dev
            && self.storage.device(d).await?.is_none_or(|d| d.revoked)
        {
            return Err(AuthError::Revoked);
        }
        let scopes = self.storage.scopes(&user.id).await?;
        Ok((
            Principal {
                user_id: user.id,
                tenant: user.tenant,
                role: user.role,
                staff_id: user.staff_id,
                volunteer_id: user.volunteer_id,
                device_id: c.dev,
                scopes,
            },
            c.exp,
        ))
    }

    /// Issues an access token for tests and the demo printout.
    pub fn token_for(&self, user_id: &str, tenant: &str) -> Option<String> {
        self.access_token(user_id, tenant, None)
            .ok()
            .map(|(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise_what_people_type() {
        let c = enrolment_code();
        assert_eq!(c.len(), 11);
        assert_eq!(
            normalise_code(&c.to_lowercase().replace('-', " ")),
            normalise_code(&c)
        );
        assert_eq!(normalise_code("ol-1i"), "0111");
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("kaffe og kage").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("kaffe og kage", &h));
        assert!(!verify_password("kaffe og kage ", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
