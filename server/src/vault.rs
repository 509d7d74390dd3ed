//! Subject keys at rest (ADR 0014): every key in the relay's database is wrapped
//! (XChaCha20-Poly1305) with a key-encryption key (KEK) that lives outside the database, so a
//! dump or a backup of the database alone opens no name.
//!
//! The wrapped form is `nonce (24) ‖ ciphertext (32 + 16)` with the KEK's id beside it; the
//! tenant and the subject are bound as associated data, so a wrapped key copied onto another
//! subject's or tenant's row does not open. The KEK comes from `--key-file` or `NABO_KEK`
//! ([`crate::keys`]); rotation adds a new KEK, re-wraps every row and keeps the old KEK
//! readable until `kek retire` ([`rotate`], [`retire`]).

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use nabo_core::ids::TenantId;

use crate::keys::{KeyError, KeySource, LiveKeyring};
use crate::storage::{Storage, StorageError, WrappedKey};

const NONCE_LEN: usize = 24;
const AAD_PREFIX: &[u8] = b"nabo subject key v1\0";

/// Why a wrapped key did not open.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The KEK it was wrapped with is not in the key ring (lost, or retired too early).
    #[error("subject key wrapped with KEK {0}, which is not in the key ring")]
    UnknownKek(String),
    /// The bytes do not open under that KEK (altered, or moved to another row).
    #[error("a wrapped subject key does not open")]
    Damaged,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What became of an uploaded key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored now, or now handed out for this document too.
    Stored,
    /// Already stored for this document.
    Present,
    /// The relay holds another key for this subject: nothing changed.
    Conflicting,
}

/// Wraps and unwraps subject keys.
#[derive(Debug, Clone)]
pub struct Vault {
    kek: Arc<LiveKeyring>,
}

fn aad(tenant: &TenantId, subject: &str) -> Vec<u8> {
    let mut a = AAD_PREFIX.to_vec();
    a.extend_from_slice(tenant.as_str().as_bytes());
    a.push(0);
    a.extend_from_slice(subject.as_bytes());
    a
}

fn secret_aad(tenant: &TenantId, purpose: &str) -> Vec<u8> {
    let mut a = b"nabo secret v1\0".to_vec();
    a.extend_from_slice(tenant.as_str().as_bytes());
    a.push(0);
    a.extend_from_slice(purpose.as_bytes());
    a
}

impl Vault {
    /// Opens the KEK ring (32-byte keys).
    pub fn open(source: KeySource) -> Result<Self, KeyError> {
        Ok(Vault {
            kek: Arc::new(LiveKeyring::open(source, 32, true)?),
        })
    }

    /// The KEK ring.
    pub fn ring(&self) -> &LiveKeyring {
        &self.kek
    }

    /// Wraps `key` for `subject` of `tenant` under the active KEK.
    pub fn wrap(&self, tenant: &TenantId, subject: &str, key: &[u8; 32]) -> WrappedKey {
        let ring = self.kek.current();
        let (id, kek) = ring.active();
        Self::wrap_with(id, kek, tenant, subject, key)
    }

    fn wrap_with(
        id: &str,
        kek: &[u8],
        tenant: &TenantId,
        subject: &str,
        key: &[u8; 32],
    ) -> WrappedKey {
        Self::seal_with(id, kek, &aad(tenant, subject), key)
    }

    /// XChaCha20-Poly1305 under a KEK: `nonce ‖ ciphertext`, with `aad` bound.
    fn seal_with(id: &str, kek: &[u8], aad: &[u8], msg: &[u8]) -> WrappedKey {
        let mut k = [0u8; 32];
        k.copy_from_slice(&kek[..32]);
        let nonce = XNonce::generate();
        // Encryption with a valid key and nonce does not fail.
        let ct = XChaCha20Poly1305::new(&k.into())
            .encrypt(&nonce, Payload { msg, aad })
            .unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + ct.len());
        bytes.extend_from_slice(nonce.as_slice());
        bytes.extend_from_slice(&ct);
        WrappedKey {
            kek_id: id.to_owned(),
            bytes,
        }
    }

    /// Opens what [`Vault::seal_with`] made, with the KEK it names.
    fn open_with(&self, w: &WrappedKey, aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        let kek = self
            .kek
            .key(&w.kek_id)
            .ok_or_else(|| VaultError::UnknownKek(w.kek_id.clone()))?;
        if w.bytes.len() < NONCE_LEN || kek.len() != 32 {
            return Err(VaultError::Damaged);
        }
        let mut k = [0u8; 32];
        k.copy_from_slice(&kek);
        let nonce = XNonce::try_from(&w.bytes[..NONCE_LEN]).map_err(|_| VaultError::Damaged)?;
        XChaCha20Poly1305::new(&k.into())
            .decrypt(
                &nonce,
                Payload {
                    msg: &w.bytes[NONCE_LEN..],
                    aad,
                },
            )
            .map_err(|_| VaultError::Damaged)
    }

    /// Wraps a secret that is not a subject key (a tenant's OIDC client secret) under the
    /// active KEK, bound to the tenant and what it is (`purpose`).
    pub fn wrap_secret(&self, tenant: &TenantId, purpose: &str, secret: &[u8]) -> WrappedKey {
        let ring = self.kek.current();
        let (id, kek) = ring.active();
        Self::seal_with(id, kek, &secret_aad(tenant, purpose), secret)
    }

    /// Unwraps a secret wrapped with [`Vault::wrap_secret`].
    pub fn unwrap_secret(
        &self,
        tenant: &TenantId,
        purpose: &str,
        w: &WrappedKey,
    ) -> Result<Vec<u8>, VaultError> {
        self.open_with(w, &secret_aad(tenant, purpose))
    }

    /// Unwraps a stored key.
    pub fn unwrap(
        &self,
        tenant: &TenantId,
        subject: &str,
        w: &WrappedKey,
    ) -> Result<[u8; 32], VaultError> {
        self.open_with(w, &aad(tenant, subject))?
            .try_into()
            .map_err(|_| VaultError::Damaged)
    }

    /// Takes a key a writer uploads for `doc`. A new subject's key is stored (wrapped) and
    /// handed out for `doc`. A subject the relay has a key for gets `doc` added only if the
    /// uploaded key is that key: whoever holds it may share it with another register (the
    /// same child in two activities), and nobody gets a key by naming its subject.
    pub async fn accept(
        &self,
        storage: &dyn Storage,
        tenant: &TenantId,
        doc: nabo_core::document::DocumentId,
        subject: &str,
        key: &[u8; 32],
    ) -> Result<Accepted, VaultError> {
        let wrapped = self.wrap(tenant, subject, key);
        if storage
            .insert_subject_key(tenant, subject, &wrapped, doc)
            .await?
        {
            return Ok(Accepted::Stored);
        }
        let Some(held) = storage.subject_key(tenant, subject).await? else {
            return Err(VaultError::Damaged);
        };
        if self.unwrap(tenant, subject, &held)? != *key {
            return Ok(Accepted::Conflicting);
        }
        Ok(if storage.link_subject_key(tenant, subject, doc).await? {
            Accepted::Stored
        } else {
            Accepted::Present
        })
    }

    /// The keys of `subjects` in `tenant` (with `doc`: only those uploaded for it),
    /// unwrapped. A key that does not open is an error, never "no key".
    pub async fn keys(
        &self,
        storage: &dyn Storage,
        tenant: &TenantId,
        doc: Option<nabo_core::document::DocumentId>,
        subjects: &[String],
    ) -> Result<Vec<(String, [u8; 32])>, VaultError> {
        storage
            .subject_keys(tenant, doc, subjects)
            .await?
            .into_iter()
            .map(|(subject, w)| {
                let k = self.unwrap(tenant, &subject, &w)?;
                Ok((subject, k))
            })
            .collect()
    }

    /// Re-wraps every stored key that is not under the active KEK; returns how many.
    pub async fn rewrap_all(&self, storage: &dyn Storage) -> Result<usize, VaultError> {
        let ring = self.kek.current();
        let (active, _) = ring.active();
        let mut done = 0;
        loop {
            let batch = storage.subject_keys_not_under(active, 500).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            for (tenant, subject, old) in batch {
                let key = self.unwrap(&tenant, &subject, &old)?;
                let new = self.wrap(&tenant, &subject, &key);
                if storage
                    .rewrap_subject_key(&tenant, &subject, &old, &new)
                    .await?
                {
                    done += 1;
                }
            }
        }
    }

    /// Wraps the keys a database from before ADR 0014 holds in plain text, and deletes the
    /// plain copies (once, at start-up). Such a key is handed out for the registers that
    /// list its subject now (where it was shared before). Returns how many.
    pub async fn wrap_legacy(&self, storage: &dyn Storage) -> anyhow::Result<usize> {
        let mut done = 0;
        let mut registers: std::collections::HashMap<
            (TenantId, String),
            Vec<nabo_core::document::DocumentId>,
        > = std::collections::HashMap::new();
        let mut indexed: std::collections::HashSet<TenantId> = std::collections::HashSet::new();
        loop {
            let batch = storage.legacy_subject_keys(500).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            for (tenant, subject, key) in batch {
                if indexed.insert(tenant.clone()) {
                    index_registers(storage, &tenant, &mut registers).await?;
                }
                let Ok(k) = <[u8; 32]>::try_from(key.as_slice()) else {
                    storage.drop_legacy_subject_key(&tenant, &subject).await?;
                    continue;
                };
                let w = self.wrap(&tenant, &subject, &k);
                let docs = registers
                    .get(&(tenant.clone(), subject.clone()))
                    .cloned()
                    .unwrap_or_default();
                storage
                    .adopt_legacy_subject_key(&tenant, &subject, &w, &docs)
                    .await?;
                done += 1;
            }
        }
    }
}

/// Which registers of `tenant` list each participant.
async fn index_registers(
    storage: &dyn Storage,
    tenant: &TenantId,
    into: &mut std::collections::HashMap<(TenantId, String), Vec<nabo_core::document::DocumentId>>,
) -> anyhow::Result<()> {
    use nabo_core::document::{DocKind, TypedDoc};
    for meta in storage.documents(tenant).await? {
        if meta.kind != DocKind::Register {
            continue;
        }
        let loaded = crate::relay::doc::load(storage, meta.id)
            .await
            .map_err(|e| anyhow::anyhow!("register {} does not load: {e}", meta.id))?;
        let reg = nabo_core::docs::register::RegisterDoc::from_doc(loaded.doc)?;
        for p in reg.participant_ids() {
            into.entry((tenant.clone(), p)).or_default().push(meta.id);
        }
    }
    Ok(())
}

/// `nabo-server kek rotate`: a new active KEK in the key file (the old ones stay readable),
/// then every stored key re-wrapped under it. Returns the new KEK's id and how many keys
/// were re-wrapped.
pub async fn rotate(vault: &Vault, storage: &dyn Storage) -> anyhow::Result<(String, usize)> {
    let path = vault.ring().path().ok_or_else(|| {
        anyhow::anyhow!(
            "rotation writes the key file: start with --key-file (NABO_KEK cannot be rewritten)"
        )
    })?;
    let next = vault.ring().current().with_new_active();
    crate::keys::write(path, &next)?;
    vault.ring().reload(false);
    let id = vault.ring().current().active().0.to_owned();
    anyhow::ensure!(id == next.active().0, "the new key file did not read back");
    let n = vault.rewrap_all(storage).await?;
    // Tenants' OIDC client secrets are wrapped under the KEK too (ADR 0017).
    for tenant in storage.tenants().await? {
        if let Some(mut c) = storage.oidc_config(&tenant).await?
            && c.secret.kek_id != id
        {
            let secret = vault.unwrap_secret(&tenant, crate::admin::OIDC_SECRET, &c.secret)?;
            c.secret = vault.wrap_secret(&tenant, crate::admin::OIDC_SECRET, &secret);
            storage.put_oidc_config(&c).await?;
        }
    }
    Ok((id, n))
}

/// `nabo-server kek retire`: removes from the key file every KEK no stored key uses (the
/// active one stays). Run it after every relay has picked up the rotated file. Returns the
/// retired ids.
pub async fn retire(vault: &Vault, storage: &dyn Storage) -> anyhow::Result<Vec<String>> {
    let path = vault
        .ring()
        .path()
        .ok_or_else(|| anyhow::anyhow!("retiring writes the key file: start with --key-file"))?;
    let ring = vault.ring().current();
    let mut in_use = storage.subject_key_keks().await?;
    for tenant in storage.tenants().await? {
        if let Some(c) = storage.oidc_config(&tenant).await? {
            in_use.push(c.secret.kek_id);
        }
    }
    let kept = ring.retain(|id| in_use.iter().any(|u| u == id));
    let retired: Vec<String> = ring
        .ids()
        .filter(|id| kept.get(id).is_none())
        .map(str::to_owned)
        .collect();
    if !retired.is_empty() {
        crate::keys::write(path, &kept)?;
        vault.ring().reload(false);
    }
    Ok(retired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::open(KeySource::Inline(
            crate::keys::Keyring::generate().to_text(),
        ))
        .unwrap()
    }

    #[test]
    fn a_wrapped_key_opens_only_for_its_tenant_and_subject() {
        let v = vault();
        let t: TenantId = "vestbyen".parse().unwrap();
        let other: TenantId = "nordby".parse().unwrap();
        let key = [7u8; 32];
        let w = v.wrap(&t, "p-1", &key);
        assert!(
            !w.bytes.windows(32).any(|win| win == key),
            "not in the clear"
        );
        assert_eq!(v.unwrap(&t, "p-1", &w).unwrap(), key);
        assert!(matches!(v.unwrap(&t, "p-2", &w), Err(VaultError::Damaged)));
        assert!(matches!(
            v.unwrap(&other, "p-1", &w),
            Err(VaultError::Damaged)
        ));
        // Another KEK opens nothing.
        assert!(matches!(
            vault().unwrap(&t, "p-1", &w),
            Err(VaultError::UnknownKek(_))
        ));
        let mut altered = w.clone();
        altered.bytes[30] ^= 1;
        assert!(matches!(
            v.unwrap(&t, "p-1", &altered),
            Err(VaultError::Damaged)
        ));
    }
}
