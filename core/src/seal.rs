//! Sealing identifying data with a per-person key (crypto-shredding, ADR 0004).
//!
//! A first name in a roll call, a volunteer's name, a free-text note: each is encrypted with
//! XChaCha20-Poly1305 under a key that belongs to that person (or that note) alone, and only
//! the ciphertext goes into the Automerge document. Keys live outside the documents, in the
//! relay's and the phones' key stores, where they can really be deleted. Destroying a key
//! erases the plaintext from every copy of the document and from its whole history at once —
//! which Automerge itself cannot do (its history is append-only).
//!
//! The subject id is bound as associated data, so a ciphertext copied onto another person's
//! record does not open.
//!
//! ```
//! use nabo_core::seal::{SubjectKey, seal, open};
//! let key = SubjectKey::generate();
//! let sealed = seal(&key, "p-1", "Aisha").unwrap();
//! assert_eq!(open(&key, "p-1", &sealed).unwrap(), "Aisha");
//! assert!(open(&key, "p-2", &sealed).is_err());
//! ```

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};
use crate::model::Sealed;

/// Format byte of sealed values (lets the scheme change later).
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// The longest plaintext accepted (a label or a short note).
pub const MAX_PLAINTEXT: usize = 2000;

/// A 256-bit key belonging to one subject (a participant, a volunteer, a note).
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(…)")
    }
}

impl SubjectKey {
    /// A fresh random key from the operating system's generator (`crate::entropy`).
    pub fn generate() -> Self {
        SubjectKey(crate::entropy::bytes())
    }

    /// The raw bytes (for the key store).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(SubjectKey)
    }
}

/// Seals `plaintext` for `subject`.
pub fn seal(key: &SubjectKey, subject: &str, plaintext: &str) -> Result<Sealed> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(Error::Invalid(crate::error::Invalid::new(
            "label",
            crate::error::Reason::TooLong,
            format!("at most {MAX_PLAINTEXT} bytes"),
        )));
    }
    let cipher = XChaCha20Poly1305::new(&key.0.into());
    let nonce = XNonce::from(crate::entropy::bytes::<24>());
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext.as_bytes(),
                aad: subject.as_bytes(),
            },
        )
        .map_err(|_| Error::Sealed)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(nonce.as_slice());
    out.extend_from_slice(&ct);
    Ok(Sealed(out))
}

/// Opens a sealed value. Fails for a wrong key, another subject, or altered bytes.
pub fn open(key: &SubjectKey, subject: &str, sealed: &Sealed) -> Result<String> {
    let bytes = &sealed.0;
    if bytes.len() < 1 + NONCE_LEN || bytes[0] != VERSION {
        return Err(Error::Sealed);
    }
    let nonce = XNonce::try_from(&bytes[1..1 + NONCE_LEN]).map_err(|_| Error::Sealed)?;
    let cipher = XChaCha20Poly1305::new(&key.0.into());
    let pt = cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &bytes[1 + NONCE_LEN..],
                aad: subject.as_bytes(),
            },
        )
        .map_err(|_| Error::Sealed)?;
    String::from_utf8(pt).map_err(|_| Error::Sealed)
}

/// Where keys are looked up when a view wants to show a label.
pub trait KeyRing {
    /// The key of `subject`, if this device holds it (and it was not erased).
    fn key(&self, subject: &str) -> Option<SubjectKey>;

    /// Opens `sealed` for `subject`, or `None` when the key is missing (erased or not shared
    /// with this device) or the value does not open.
    fn open_label(&self, subject: &str, sealed: &Sealed) -> Option<String> {
        self.key(subject)
            .and_then(|k| open(&k, subject, sealed).ok())
    }
}

/// An in-memory key ring (tests, the relay's cache).
#[derive(Debug, Default, Clone)]
pub struct MemoryKeyRing(pub std::collections::HashMap<String, SubjectKey>);

impl KeyRing for MemoryKeyRing {
    fn key(&self, subject: &str) -> Option<SubjectKey> {
        self.0.get(subject).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let k = SubjectKey::generate();
        let mut s = seal(&k, "p", "Omar").unwrap();
        assert!(open(&SubjectKey::generate(), "p", &s).is_err());
        let last = s.0.len() - 1;
        s.0[last] ^= 1;
        assert!(open(&k, "p", &s).is_err());
        assert!(open(&k, "p", &Sealed(vec![1, 2, 3])).is_err());
        assert!(open(&k, "p", &Sealed(vec![])).is_err());
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let k = SubjectKey::generate();
        assert_ne!(seal(&k, "p", "x").unwrap(), seal(&k, "p", "x").unwrap());
    }
}
