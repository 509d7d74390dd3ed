//! Document identifiers in automerge-repo form (`automerge:<bs58check>` of 16 bytes).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A document identifier: 16 bytes, written as automerge-repo does (base58check), so the same
/// id works with the JavaScript client and the relay.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId(pub [u8; 16]);

/// A string that is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a document id (expected automerge:<base58check of 16 bytes>)")]
pub struct BadDocumentId;

impl DocumentId {
    /// A random id (for documents made once by one creator, e.g. an activity).
    pub fn random() -> Self {
        DocumentId(*crate::entropy::uuid().as_bytes())
    }

    /// The id derived from a document's scope string: every phone that creates the register
    /// of the same activity and term offline creates the same document.
    pub fn derive(scope: &str) -> Self {
        let digest = Sha256::digest(format!("nabo-document-v1\0{scope}").as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        DocumentId(id)
    }

    /// The base58check form without the `automerge:` prefix (what the wire protocol carries).
    pub fn to_bs58(&self) -> String {
        bs58::encode(self.0).with_check().into_string()
    }

    /// Parses the base58check form, with or without the `automerge:` prefix.
    pub fn parse(s: &str) -> Result<Self, BadDocumentId> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        if s.is_empty() || s.len() > 40 {
            return Err(BadDocumentId);
        }
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| BadDocumentId)?;
        let id: [u8; 16] = bytes.try_into().map_err(|_| BadDocumentId)?;
        Ok(DocumentId(id))
    }

    /// The automerge-repo URL, `automerge:<bs58check>`.
    pub fn url(&self) -> String {
        format!("automerge:{}", self.to_bs58())
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bs58())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({})", self.to_bs58())
    }
}

impl FromStr for DocumentId {
    type Err = BadDocumentId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentId::parse(s)
    }
}

impl serde::Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_bs58())
    }
}

impl<'de> serde::Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DocumentId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_checksums() {
        let id = DocumentId::random();
        assert_eq!(DocumentId::parse(&id.url()).unwrap(), id);
        assert_eq!(DocumentId::parse(&id.to_bs58()).unwrap(), id);
        let mut s = id.to_bs58();
        let last = s.pop().unwrap();
        s.push(if last == '1' { '2' } else { '1' });
        assert_eq!(DocumentId::parse(&s), Err(BadDocumentId));
        assert_eq!(DocumentId::parse(""), Err(BadDocumentId));
        assert_eq!(DocumentId::parse("automerge:0OIl"), Err(BadDocumentId));
    }

    #[test]
    fn derived_ids_are_stable() {
        assert_eq!(DocumentId::derive("a"), DocumentId::derive("a"));
        assert_ne!(DocumentId::derive("a"), DocumentId::derive("b"));
    }
}
