//! Authentication: argon2id passwords (on a bounded pool, [`passwords`]), short-lived HS256
//! access tokens, rotating refresh tokens stored hashed, one-time enrolment codes for
//! volunteers' phones, login limits ([`limits`]).
//!
//! Access tokens carry `jti`, `aud`, `iss` and the refresh family (`fam`), and name their
//! signing key in the header (`kid`). The signing keys are a key ring ([`crate::keys`]):
//! `<data dir>/jwt.keys` (generated on first start) or `NABO_JWT_KEY_FILE`; the first key
//! signs, every key verifies, `nabo-server rotate-signing-key` puts a new one in front.
//! Validation accepts HS256 only: a token with `alg: none` or any other algorithm is refused
//! (no algorithm confusion). Logging out or a reused refresh token puts the family on a
//! deny-list that every request and every new socket checks, until its last access token has
//! expired (ADR 0014).

pub mod limits;
pub mod passwords;
pub mod policy;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::acl::Principal;
use crate::keys::{KeySource, Keyring, LiveKeyring};
use crate::storage::{DeviceRow, RefreshRow, Storage, StorageError, UserRow, now_ms};

pub use passwords::hash_password;

/// Access tokens live 10 minutes.
pub const ACCESS_TTL_SECS: i64 = 600;
/// Clock skew accepted on `exp`.
pub const LEEWAY_SECS: u64 = 5;
/// Staff refresh tokens live 14 days.
pub const REFRESH_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
/// Device refresh tokens (enrolled phones) live 90 days and rotate on use.
pub const DEVICE_REFRESH_TTL_MS: i64 = 90 * 24 * 3600 * 1000;
/// Enrolment codes are valid 48 hours.
pub const ENROLMENT_TTL_MS: i64 = 48 * 3600 * 1000;
/// The audience of every access token.
pub const AUDIENCE: &str = "nabo-relay";

/// Authentication failures, each with its own answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password (never says which).
    #[error("wrong username or password")]
    BadCredentials,
    /// Missing, malformed, expired or forged token.
    #[error("invalid or expired token")]
    BadToken,
    /// The user or device was revoked, or the session ended.
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
    /// The refresh-token family the token was issued with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// Token id.
    pub jti: String,
    /// Audience ([`AUDIENCE`]).
    pub aud: String,
    /// Issuer: this installation (`nabo:<storage id>`).
    pub iss: String,
    /// Issued at (s).
    pub iat: i64,
    /// Expires (s).
    pub exp: i64,
}

/// A token pair as the login endpoints return it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tokens {
    /// Short-lived JWT.
    pub access_token: String,
    /// Opaque rotating refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A verified access token.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The caller.
    pub principal: Principal,
    /// Expiry (s).
    pub expires: i64,
    /// Refresh family.
    pub family: Option<String>,
}

/// Settings of the authenticator.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A refresh token presented again this soon after its rotation gets the same new pair
    /// (two page loads at once); later it counts as reuse. Zero turns the grace off.
    pub refresh_grace: Duration,
    /// argon2 hashes at once.
    pub password_workers: usize,
    /// Login limits.
    pub login: limits::LoginLimits,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            refresh_grace: Duration::from_secs(10),
            password_workers: passwords::default_workers(),
            login: limits::LoginLimits::default(),
        }
    }
}

/// Called with a refresh family whose sessions just ended (closes its sockets).
pub type OnRevoke = Arc<dyn Fn(&str) + Send + Sync>;

/// The authenticator.
#[derive(Clone)]
pub struct Auth {
    keys: Arc<LiveKeyring>,
    storage: Arc<dyn Storage>,
    config: AuthConfig,
    issuer: String,
    passwords: passwords::Passwords,
    limiter: limits::Limiter,
    on_revoke: Option<OnRevoke>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

/// Where the signing keys are: `NABO_JWT_KEY_FILE`, else `<data dir>/jwt.keys` (created on
/// first start; a `jwt.key` from before key rotation becomes its first key).
pub fn signing_keys(data_dir: &Path) -> anyhow::Result<KeySource> {
    if let Ok(path) = std::env::var("NABO_JWT_KEY_FILE") {
        return Ok(KeySource::File {
            path: path.into(),
            create: false,
        });
    }
    let path = data_dir.join("jwt.keys");
    let legacy = data_dir.join("jwt.key");
    if !path.exists()
        && let Ok(key) = std::fs::read(&legacy)
    {
        anyhow::ensure!(key.len() >= 32, "{} is too short", legacy.display());
        crate::keys::write(&path, &Keyring::single("legacy", key))?;
        let _ = std::fs::remove_file(&legacy);
    }
    Ok(KeySource::File { path, create: true })
}

/// Opens the signing key ring (keys of at least 32 bytes).
pub fn open_signing_keys(source: KeySource) -> anyhow::Result<LiveKeyring> {
    Ok(LiveKeyring::open(source, 32, false)?)
}

/// `nabo-server rotate-signing-key`: a new signing key in front; the previous two stay for
/// verification (tokens signed with them live 10 minutes at most). Returns the new key's id.
pub fn rotate_signing_key(keys: &LiveKeyring) -> anyhow::Result<String> {
    let path = keys
        .path()
        .ok_or_else(|| anyhow::anyhow!("the signing keys are not in a file"))?;
    let ring = keys.current().with_new_active();
    let keep: Vec<String> = ring.ids().skip(1).take(2).map(str::to_owned).collect();
    let ring = ring.retain(|id| keep.iter().any(|k| k == id));
    crate::keys::write(path, &ring)?;
    keys.reload(false);
    Ok(ring.active().0.to_owned())
}

/// A random opaque token (256 bits, base64url).
pub fn random_token() -> String {
    let b: [u8; 32] = nabo_core::entropy::bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The stored form of a token or code.
pub fn hash_secret(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// An enrolment code: 10 characters of Crockford base32 in two groups ("K7QM-2XHP-RT" style
/// is easy to read aloud and fits a small QR code).
pub fn enrolment_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 10] = nabo_core::entropy::bytes();
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

/// The shortest and longest retry key a phone may send with a refresh ([`Auth::refresh`]).
pub const RETRY_KEY_LEN: std::ops::RangeInclusive<usize> = 32..=128;

/// Whether `key` can be a refresh's retry key: 32–128 characters of base64url or hex.
pub fn valid_retry_key(key: &str) -> bool {
    RETRY_KEY_LEN.contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The key that seals a refresh token's successor: derived from the token itself, which
/// the database holds only as a hash, and from the retry key the caller sent with it, if any
/// (the database never sees that at all).
fn successor_cipher(refresh_token: &str, retry_key: Option<&str>) -> XChaCha20Poly1305 {
    let mut h = Sha256::new();
    match retry_key {
        None => h.update(b"nabo refresh successor v1\0"),
        Some(k) => {
            h.update(b"nabo refresh successor v2\0");
            h.update(k.as_bytes());
            h.update(b"\0");
        }
    }
    h.update(refresh_token.as_bytes());
    let k: [u8; 32] = h.finalize().into();
    XChaCha20Poly1305::new(&k.into())
}

fn seal_successor(refresh_token: &str, retry_key: Option<&str>, pair: &Tokens) -> Vec<u8> {
    let nonce = XNonce::generate();
    let plain = serde_json::to_vec(pair).unwrap_or_default();
    let aad = hash_secret(refresh_token);
    let ct = successor_cipher(refresh_token, retry_key)
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut out = nonce.as_slice().to_vec();
    out.extend_from_slice(&ct);
    out
}

fn open_successor(refresh_token: &str, retry_key: Option<&str>, sealed: &[u8]) -> Option<Tokens> {
    let nonce = XNonce::try_from(sealed.get(..24)?).ok()?;
    let aad = hash_secret(refresh_token);
    let plain = successor_cipher(refresh_token, retry_key)
        .decrypt(
            &nonce,
            Payload {
                msg: sealed.get(24..)?,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

impl Auth {
    /// An authenticator signing with `keys` as `issuer` (this installation). `salt` keys the
    /// login counters; `on_revoke` is told about every refresh family whose sessions end.
    pub fn new(
        keys: LiveKeyring,
        storage: Arc<dyn Storage>,
        config: AuthConfig,
        issuer: String,
        salt: String,
        on_revoke: Option<OnRevoke>,
    ) -> Self {
        Auth {
            keys: Arc::new(keys),
            issuer,
            storage,
            passwords: passwords::Passwords::new(config.password_workers),
            limiter: limits::Limiter::new(salt, config.login.clone()),
            config,
            on_revoke,
        }
    }

    /// The signing key ring.
    pub fn keys(&self) -> &LiveKeyring {
        &self.keys
    }

    /// The password pool (hashing for new users and password changes).
    pub fn passwords(&self) -> &passwords::Passwords {
        &self.passwords
    }

    fn access_token(
        &self,
        user_id: &str,
        tenant: &str,
        device: Option<&str>,
        family: Option<&str>,
    ) -> Result<(String, i64), AuthError> {
        let now = now_ms() / 1000;
        let claims = Claims {
            sub: user_id.into(),
            tid: tenant.into(),
            dev: device.map(str::to_owned),
            fam: family.map(str::to_owned),
            jti: nabo_core::entropy::uuid().simple().to_string(),
            aud: AUDIENCE.into(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
        };
        let ring = self.keys.current();
        let (kid, key) = ring.active();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key))
            .map_err(|_| AuthError::BadToken)?;
        Ok((token, claims.exp))
    }

    /// A new pair for `user` in `family`, and the refresh row to store for it.
    fn pair(
        &self,
        user: &UserRow,
        device: Option<&str>,
        family: String,
    ) -> Result<(Tokens, RefreshRow), AuthError> {
        let (access_token, _) =
            self.access_token(&user.id, user.tenant.as_str(), device, Some(&family))?;
        let ttl = if device.is_some() {
            DEVICE_REFRESH_TTL_MS
        } else {
            REFRESH_TTL_MS
        };
        Ok((
            Tokens {
                access_token,
                refresh_token: random_token(),
                expires_in: ACCESS_TTL_SECS,
            },
            RefreshRow {
                user_id: user.id.clone(),
                device_id: device.map(str::to_owned),
                family_id: family,
                expires_at: now_ms() + ttl,
                used_at: None,
                revoked: false,
                successor: None,
            },
        ))
    }

    /// A new session (login, enrolment): a new refresh family.
    async fn issue(&self, user: &UserRow, device: Option<&str>) -> Result<Tokens, AuthError> {
        let family = nabo_core::entropy::uuid().simple().to_string();
        let (tokens, row) = self.pair(user, device, family)?;
        self.storage
            .insert_refresh(&hash_secret(&tokens.refresh_token), &row)
            .await?;
        Ok(tokens)
    }

    /// Username and password login. Counted per client address and per account before the
    /// password is checked ([`limits`]): an address over its limit is refused unchecked, an
    /// account under attack is slowed down, never locked.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<Tokens, AuthError> {
        let (delay, counted) = match self
            .limiter
            .attempt(self.storage.as_ref(), "login", client, Some(username))
            .await?
        {
            limits::Verdict::Refused => return Err(AuthError::RateLimited),
            limits::Verdict::Check { delay, counted } => (delay, counted),
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let user = self.storage.user_by_username(username).await?;
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        // Passwords are hashed in their NFKC form (ADR 0017).
        let password = policy::normalise(password);
        let ok = self.passwords.verify(&password, hash).await && hash.is_some();
        let Some(user) = user.filter(|_| ok) else {
            return Err(AuthError::BadCredentials);
        };
        self.limiter
            .succeeded(self.storage.as_ref(), counted)
            .await?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        self.issue(&user, None).await
    }

    /// A new session for a user who signed in another way (the organisation's identity
    /// provider, ADR 0017). A disabled user gets none.
    pub async fn session_for(&self, user: &UserRow) -> Result<Tokens, AuthError> {
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        self.issue(user, None).await
    }

    /// Checks the operator's credential of the admin API: `presented` must equal `expected`
    /// (compared as SHA-256 digests, in constant time). Failures are counted per client
    /// address like logins; an address over its limit is refused unchecked.
    pub async fn operator(
        &self,
        presented: &str,
        expected: &str,
        client: &str,
    ) -> Result<(), AuthError> {
        let counted = match self
            .limiter
            .attempt(self.storage.as_ref(), "operator", client, None)
            .await?
        {
            limits::Verdict::Refused => return Err(AuthError::RateLimited),
            limits::Verdict::Check { counted, .. } => counted,
        };
        let a = Sha256::digest(presented.as_bytes());
        let b = Sha256::digest(expected.as_bytes());
        let same = a
            .iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
        if !same || expected.is_empty() {
            return Err(AuthError::BadCredentials);
        }
        self.limiter
            .succeeded(self.storage.as_ref(), counted)
            .await?;
        Ok(())
    }

    /// Exchanges a refresh token for a new pair; the old one is spent, atomically on both
    /// databases (one `UPDATE … WHERE used_at IS NULL` decides). Presented again within the
    /// grace window (two page loads at once), it gets the same new pair; after that, or if
    /// that pair was used meanwhile, it is reuse and revokes its whole family (someone
    /// copied it).
    ///
    /// A phone sends a `retry_key` it stored before asking (ADR 0038). If the answer is lost
    /// (the link dropped, the phone was killed, the relay's storage failed after the
    /// rotation committed) the phone asks again with the same token and key, maybe days
    /// later, offline meanwhile: it gets the pair it missed, with a fresh access token, for
    /// as long as that pair is unused and the session is not revoked. Only the asker holds
    /// the key, so the same token without it is still reuse. The API checks the key's form
    /// ([`valid_retry_key`]) before it gets here.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        retry_key: Option<&str>,
    ) -> Result<Tokens, AuthError> {
        let hash = hash_secret(refresh_token);
        // Twice at most: a lost race reads the winner's pair.
        for _ in 0..2 {
            let now = now_ms();
            let Some(row) = self.storage.refresh_token(&hash).await? else {
                return Err(AuthError::BadToken);
            };
            if row.revoked {
                return Err(AuthError::Revoked);
            }
            if row.expires_at <= now {
                return Err(AuthError::BadToken);
            }
            if let Some(used_at) = row.used_at {
                return self
                    .replayed(refresh_token, retry_key, &row, used_at, now_ms())
                    .await;
            }
            let user = self.session_user(&row).await?;
            let (tokens, new_row) = self.pair(&user, row.device_id.as_deref(), row.family_id)?;
            let sealed = seal_successor(refresh_token, retry_key, &tokens);
            if self
                .storage
                .rotate_refresh(
                    &hash,
                    now,
                    &sealed,
                    &hash_secret(&tokens.refresh_token),
                    &new_row,
                )
                .await?
            {
                if let Some(d) = &row.device_id {
                    self.storage.device_seen(d, now).await?;
                }
                return Ok(tokens);
            }
        }
        Err(AuthError::BadToken)
    }

    /// A revoked phone (or one whose login was disabled) reports, with the refresh token it
    /// last held, that it wiped its local data: the relay records when (issue 11 item 6).
    /// The token proves which phone it is even though it no longer opens a session. Unknown
    /// tokens, tokens of no phone, and phones not revoked are refused (`BadToken`).
    pub async fn confirm_wipe(&self, refresh_token: &str) -> Result<(), AuthError> {
        let Some(row) = self
            .storage
            .refresh_token(&hash_secret(refresh_token))
            .await?
        else {
            return Err(AuthError::BadToken);
        };
        let Some(device) = row.device_id.as_deref() else {
            return Err(AuthError::BadToken);
        };
        if self.storage.device_wiped(device, now_ms()).await? {
            tracing::info!(device, "a revoked phone reported its data wiped");
            Ok(())
        } else {
            Err(AuthError::BadToken)
        }
    }

    /// The login of a refresh token's session, if neither it nor the session's phone was
    /// shut off.
    async fn session_user(&self, row: &RefreshRow) -> Result<UserRow, AuthError> {
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
        Ok(user)
    }

    /// A spent refresh token came back: within the grace window, or at any time with the
    /// retry key it was spent with, it gets the pair it was exchanged for, if that is unused;
    /// else it is reuse and the family ends.
    async fn replayed(
        &self,
        refresh_token: &str,
        retry_key: Option<&str>,
        row: &RefreshRow,
        used_at: i64,
        now: i64,
    ) -> Result<Tokens, AuthError> {
        let grace = i64::try_from(self.config.refresh_grace.as_millis()).unwrap_or(0);
        let in_grace = grace > 0 && now - used_at <= grace;
        if (in_grace || retry_key.is_some())
            && let Some(pair) = row
                .successor
                .as_deref()
                .and_then(|s| open_successor(refresh_token, retry_key, s))
            && self
                .storage
                .refresh_token(&hash_secret(&pair.refresh_token))
                .await?
                .is_some_and(|next| next.used_at.is_none() && !next.revoked)
        {
            if in_grace {
                return Ok(pair);
            }
            // Later, the login or the phone may have been shut off meanwhile, and the pair's
            // access token may have expired: checked again, and a fresh one.
            let user = self.session_user(row).await?;
            let (access_token, _) = self.access_token(
                &user.id,
                user.tenant.as_str(),
                row.device_id.as_deref(),
                Some(&row.family_id),
            )?;
            return Ok(Tokens {
                access_token,
                refresh_token: pair.refresh_token,
                expires_in: ACCESS_TTL_SECS,
            });
        }
        self.end_family(&row.family_id, now).await?;
        Err(AuthError::Reused)
    }

    /// Ends every session of a refresh family: its refresh tokens are revoked, its access
    /// tokens refused until they would have expired, its sockets closed.
    async fn end_family(&self, family: &str, now: i64) -> Result<(), AuthError> {
        let until = now + (ACCESS_TTL_SECS + LEEWAY_SECS as i64) * 1000;
        self.storage.revoke_family(family, now, until).await?;
        if let Some(f) = &self.on_revoke {
            f(family);
        }
        Ok(())
    }

    /// Ends the session of a refresh token (logout).
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        if let Some(row) = self
            .storage
            .refresh_token(&hash_secret(refresh_token))
            .await?
        {
            self.end_family(&row.family_id, now_ms()).await?;
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

    /// A phone exchanges a one-time code for device credentials. Attempts are counted per
    /// client address before the code is looked up.
    pub async fn enrol(
        &self,
        code: &str,
        device_name: &str,
        client: &str,
    ) -> Result<(Tokens, String, String), AuthError> {
        let counted = match self
            .limiter
            .attempt(self.storage.as_ref(), "enrol", client, None)
            .await?
        {
            limits::Verdict::Refused => return Err(AuthError::RateLimited),
            limits::Verdict::Check { counted, .. } => counted,
        };
        let now = now_ms();
        let Some(user_id) = self
            .storage
            .redeem_enrolment(&hash_secret(&normalise_code(code)), now)
            .await?
        else {
            return Err(AuthError::BadCredentials);
        };
        self.limiter
            .succeeded(self.storage.as_ref(), counted)
            .await?;
        let user = self
            .storage
            .user(&user_id)
            .await?
            .ok_or(AuthError::BadCredentials)?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        let device_id = nabo_core::entropy::uuid().simple().to_string();
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
                last_seen: None,
                wiped: None,
            })
            .await?;
        let tokens = self.issue(&user, Some(&device_id)).await?;
        Ok((tokens, device_id, user.id))
    }

    /// Validates an access token (HS256 with a known `kid`, audience, issuer, expiry) and
    /// loads the caller. Revoked users and devices, and ended sessions (the deny-list), are
    /// refused even while the token has not expired.
    pub async fn principal(&self, token: &str) -> Result<Verified, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::BadToken)?;
        let kid = header.kid.ok_or(AuthError::BadToken)?;
        let key = self.keys.key(&kid).ok_or(AuthError::BadToken)?;
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked below on Nabo's clock (`now_ms`: the system clock, or the
        // simulation's), with the same leeway; jsonwebtoken would read the system clock.
        v.validate_exp = false;
        v.set_audience(&[AUDIENCE]);
        v.set_issuer(&[self.issuer.as_str()]);
        v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key), &v)
            .map_err(|_| AuthError::BadToken)?;
        let c = data.claims;
        if c.exp < now_ms().div_euclid(1000) - LEEWAY_SECS as i64 {
            return Err(AuthError::BadToken);
        }
        if let Some(f) = &c.fam
            && self.storage.family_denied(f, now_ms()).await?
        {
            return Err(AuthError::Revoked);
        }
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
        Ok(Verified {
            principal: Principal {
                user_id: user.id,
                tenant: user.tenant,
                role: user.role,
                staff_id: user.staff_id,
                volunteer_id: user.volunteer_id,
                device_id: c.dev,
                scopes,
            },
            expires: c.exp,
            family: c.fam,
        })
    }

    /// Issues an access token outside any session, for tests and the demo printout.
    pub fn token_for(&self, user_id: &str, tenant: &str) -> Option<String> {
        self.access_token(user_id, tenant, None, None)
            .ok()
            .map(|(t, _)| t)
    }

    /// Signs arbitrary claims with the active key (tests of what validation refuses).
    pub fn sign(&self, claims: &serde_json::Value) -> Option<String> {
        let ring = self.keys.current();
        let (kid, key) = ring.active();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).ok()
    }

    /// The issuer of this installation's tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
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
    fn a_successor_opens_only_with_its_token() {
        let pair = Tokens {
            access_token: "a".into(),
            refresh_token: "r".into(),
            expires_in: 600,
        };
        let t = random_token();
        let sealed = seal_successor(&t, None, &pair);
        assert_eq!(open_successor(&t, None, &sealed), Some(pair.clone()));
        assert_eq!(open_successor(&random_token(), None, &sealed), None);
        assert_eq!(open_successor(&t, None, &sealed[..10]), None);
        // Sealed with a retry key: only the token and that key open it.
        let key = random_token();
        let sealed = seal_successor(&t, Some(&key), &pair);
        assert_eq!(open_successor(&t, Some(&key), &sealed), Some(pair));
        assert_eq!(open_successor(&t, None, &sealed), None);
        assert_eq!(open_successor(&t, Some(&random_token()), &sealed), None);
    }
}
