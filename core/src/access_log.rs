//! The access log's rules (ADR 0024): what an entry is, its canonical bytes, the hash chain
//! that makes the log tamper-evident, and its verification. Pure: the relay stores entries
//! and calls these functions; nothing here does I/O.
//!
//! An entry says who (a login id, and the phone's device id for a sync), when, which subject
//! (a random participant, volunteer, staff or login id — never a name), which document, the
//! kind of access and its purpose (codes). Entries of a tenant form one chain: entry `n`
//! stores `hash_n = SHA-256(hash_{n-1} || canonical(entry_n))`, starting from the tenant's
//! anchor (all zeroes, or the last pruned entry's hash once retention pruned the oldest
//! entries). Changing, removing or reordering a stored entry breaks the chain at that entry.

use sha2::{Digest, Sha256};

use crate::codes::code_enum;

/// A SHA-256 hash in the chain.
pub type Hash = [u8; 32];

/// The hash before a tenant's first entry.
pub const GENESIS: Hash = [0; 32];

/// The format tag in every canonical entry (a new format gets a new tag).
const FORMAT: &[u8] = b"nabo-access-log/1";

code_enum! {
    /// The kind of access.
    pub enum AccessKind {
        /// A page or an API answer showed the data.
        Read = "read",
        /// A search or a list over many people.
        Search = "search",
        /// An export (CSV, XLSX, print).
        Export = "export",
        /// The data was recorded.
        Create = "create",
        /// The data was changed.
        Update = "update",
        /// The person was erased.
        Erase = "erase",
        /// A phone synced a document holding the data.
        Sync = "sync",
        /// A legal hold was put on the person's data.
        Hold = "hold",
        /// A legal hold was lifted.
        Release = "release",
        /// Retention deleted or anonymised the data (or pruned this log).
        Retention = "retention",
    }
}

impl AccessKind {
    /// The Danish label (extracts).
    pub fn da(self) -> &'static str {
        match self {
            AccessKind::Read => "Opslag",
            AccessKind::Search => "Søgning/liste",
            AccessKind::Export => "Eksport",
            AccessKind::Create => "Registrering",
            AccessKind::Update => "Ændring",
            AccessKind::Erase => "Sletning",
            AccessKind::Sync => "Synkronisering til telefon",
            AccessKind::Hold => "Retligt tilbagehold sat",
            AccessKind::Release => "Retligt tilbagehold ophævet",
            AccessKind::Retention => "Sletning efter opbevaringsfrist",
        }
    }
}

code_enum! {
    /// Why the data was accessed.
    pub enum Purpose {
        /// Central staff reviewing and correcting records (kvalitetssikring).
        Review = "review",
        /// Running an activity: the roll call, the shifts.
        Activity = "activity",
        /// Outreach work.
        Outreach = "outreach",
        /// Reporting to the board, funders and authorities.
        Reporting = "reporting",
        /// Administration of people, roles and phones.
        Administration = "administration",
        /// A data subject's request (access, erasure).
        SubjectRequest = "subject-request",
        /// Retention (deletion when the purpose has ended).
        Retention = "retention",
        /// A legal hold (notat- og journaliseringspligt, a legal claim).
        LegalHold = "legal-hold",
    }
}

impl Purpose {
    /// The Danish label (extracts).
    pub fn da(self) -> &'static str {
        match self {
            Purpose::Review => "Gennemgang og kvalitetssikring",
            Purpose::Activity => "Afvikling af aktiviteten",
            Purpose::Outreach => "Opsøgende arbejde",
            Purpose::Reporting => "Afrapportering",
            Purpose::Administration => "Administration",
            Purpose::SubjectRequest => "Den registreredes anmodning",
            Purpose::Retention => "Opbevaringsfrist",
            Purpose::LegalHold => "Retligt tilbagehold",
        }
    }
}

/// One entry as stored: the fields the chain covers. Kind and purpose are kept as their
/// stored codes so that an entry altered to an unknown code still hashes (and fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The tenant.
    pub tenant: String,
    /// Position in the tenant's chain (1, 2, 3, …).
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The login that accessed (its id, never its name); `system:<job>` for the relay's jobs.
    pub user_id: String,
    /// The phone, for a sync.
    pub device_id: Option<String>,
    /// The person (a random id); none for an access to a whole document (a sync).
    pub subject: Option<String>,
    /// The document, if the access was to one.
    pub document: Option<String>,
    /// [`AccessKind`] code.
    pub kind: String,
    /// [`Purpose`] code.
    pub purpose: String,
}

/// An entry to append (its tenant, position and time are given when it is appended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The person, or none for a whole document.
    pub subject: Option<String>,
    /// The document.
    pub document: Option<String>,
    /// Kind.
    pub kind: AccessKind,
    /// Purpose.
    pub purpose: Purpose,
}

fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => {
            out.extend_from_slice(&(v.len() as u64).to_be_bytes());
            out.extend_from_slice(v);
        }
        None => out.extend_from_slice(&u64::MAX.to_be_bytes()),
    }
}

/// The canonical bytes of an entry: the format tag, then every field as an 8-byte length
/// and its bytes (an absent field as the length `u64::MAX`), in a fixed order. Two different
/// entries never have the same canonical bytes.
pub fn canonical(e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    field(&mut out, Some(FORMAT));
    field(&mut out, Some(e.tenant.as_bytes()));
    field(&mut out, Some(&e.seq.to_be_bytes()));
    field(&mut out, Some(&e.at.to_be_bytes()));
    field(&mut out, Some(e.user_id.as_bytes()));
    field(&mut out, e.device_id.as_deref().map(str::as_bytes));
    field(&mut out, e.subject.as_deref().map(str::as_bytes));
    field(&mut out, e.document.as_deref().map(str::as_bytes));
    field(&mut out, Some(e.kind.as_bytes()));
    field(&mut out, Some(e.purpose.as_bytes()));
    out
}

/// The hash of `e` following `prev`: `SHA-256(prev || canonical(e))`.
pub fn link(prev: &Hash, e: &Entry) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical(e));
    h.finalize().into()
}

/// Where a tenant's chain starts: the position before its oldest stored entry and that
/// position's hash ([`GENESIS`] at 0, or the last pruned entry's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The position before the oldest stored entry.
    pub seq: i64,
    /// Its hash.
    pub hash: Hash,
}

impl Anchor {
    /// The start of a new chain.
    pub const GENESIS: Anchor = Anchor {
        seq: 0,
        hash: GENESIS,
    };
}

/// Why a chain does not verify; `seq` names the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    /// The entry's stored hash is not the hash of its contents after its predecessor: the
    /// entry (or its hash) was changed, or an entry before it was removed or changed.
    #[error("entry {seq}: its hash does not match its contents")]
    Altered {
        /// The entry.
        seq: i64,
    },
    /// An entry is missing (or out of order) before this one.
    #[error("entry {seq}: expected entry {expected} here (entries removed or reordered)")]
    Gap {
        /// The entry found.
        seq: i64,
        /// The entry expected.
        expected: i64,
    },
    /// The entry belongs to another tenant's chain.
    #[error("entry {seq}: belongs to another tenant")]
    Foreign {
        /// The entry.
        seq: i64,
    },
    /// The chain does not end at the recorded head: the newest entries were removed, entries
    /// were added past it, or the head does not match the last entry.
    #[error(
        "entry {seq}: the log does not end at its recorded head (entries removed or added at the end)"
    )]
    Truncated {
        /// The first missing (or mismatching) entry.
        seq: i64,
    },
}

impl Break {
    /// The first bad entry.
    pub fn seq(&self) -> i64 {
        match self {
            Break::Altered { seq }
            | Break::Gap { seq, .. }
            | Break::Foreign { seq }
            | Break::Truncated { seq } => *seq,
        }
    }
}

/// Verifies a chain in pieces (the relay reads it page by page): feed the stored entries in
/// position order, then [`Verifier::finish`] with the recorded head.
#[derive(Debug, Clone)]
pub struct Verifier {
    tenant: String,
    last: Anchor,
    checked: u64,
}

impl Verifier {
    /// Starts at the tenant's anchor.
    pub fn new(tenant: &str, anchor: Anchor) -> Self {
        Verifier {
            tenant: tenant.to_owned(),
            last: anchor,
            checked: 0,
        }
    }

    /// The position and hash verified so far.
    pub fn last(&self) -> Anchor {
        self.last
    }

    /// Entries verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the next stored entry and its stored hash.
    pub fn next(&mut self, e: &Entry, stored: &[u8]) -> Result<(), Break> {
        let expected = self.last.seq + 1;
        if e.seq != expected {
            return Err(Break::Gap {
                seq: e.seq,
                expected,
            });
        }
        if e.tenant != self.tenant {
            return Err(Break::Foreign { seq: e.seq });
        }
        let hash = link(&self.last.hash, e);
        if stored != hash {
            return Err(Break::Altered { seq: e.seq });
        }
        self.last = Anchor { seq: e.seq, hash };
        self.checked += 1;
        Ok(())
    }

    /// Checks that the entries fed end at the recorded head (so none were cut off the end).
    pub fn finish(&self, head: Anchor) -> Result<Anchor, Break> {
        if head != self.last {
            let seq = match head.seq.cmp(&self.last.seq) {
                // Entries cut off the end: the first missing one.
                std::cmp::Ordering::Greater => self.last.seq + 1,
                // Entries added past the head: the first of them.
                std::cmp::Ordering::Less => head.seq + 1,
                // The head or the last entry changed.
                std::cmp::Ordering::Equal => self.last.seq,
            };
            return Err(Break::Truncated { seq });
        }
        Ok(self.last)
    }
}

/// Chains `accesses` after `head` for `tenant` at `at`: the entries to store with their
/// hashes, and the new head.
pub fn append(
    tenant: &str,
    head: Anchor,
    at: i64,
    user_id: &str,
    device_id: Option<&str>,
    accesses: &[Access],
) -> (Vec<(Entry, Hash)>, Anchor) {
    let mut last = head;
    let mut out = Vec::with_capacity(accesses.len());
    for a in accesses {
        let e = Entry {
            tenant: tenant.to_owned(),
            seq: last.seq + 1,
            at,
            user_id: user_id.to_owned(),
            device_id: device_id.map(str::to_owned),
            subject: a.subject.clone(),
            document: a.document.clone(),
            kind: a.kind.code().to_owned(),
            purpose: a.purpose.code().to_owned(),
        };
        let hash = link(&last.hash, &e);
        last = Anchor { seq: e.seq, hash };
        out.push((e, hash));
    }
    (out, last)
}

/// Hex of a hash (the command and the page show the head this way).
pub fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn accesses(n: usize) -> Vec<Access> {
        (0..n)
            .map(|i| Access {
                subject: (i % 2 == 0).then(|| format!("p{i}")),
                document: Some("doc1".into()),
                kind: AccessKind::ALL[i % AccessKind::ALL.len()],
                purpose: Purpose::ALL[i % Purpose::ALL.len()],
            })
            .collect()
    }

    fn verify(
        tenant: &str,
        anchor: Anchor,
        stored: &[(Entry, Hash)],
        head: Anchor,
    ) -> Result<Anchor, Break> {
        let mut v = Verifier::new(tenant, anchor);
        for (e, h) in stored {
            v.next(e, h)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies_across_appends() {
        let (mut all, head) = append("t1", Anchor::GENESIS, 1000, "u1", None, &accesses(3));
        let (more, head) = append("t1", head, 2000, "u2", Some("d1"), &accesses(4));
        all.extend(more);
        assert_eq!(head.seq, 7);
        assert_eq!(verify("t1", Anchor::GENESIS, &all, head), Ok(head));
        // The same entries in one append give the same chain only if they are the same
        // entries: the time and the login are covered.
        let (other, other_head) = append("t1", Anchor::GENESIS, 1000, "u1", None, &accesses(7));
        assert_ne!(other_head.hash, head.hash);
        assert_eq!(other.len(), 7);
    }

    #[test]
    fn each_field_is_covered_and_the_first_bad_entry_is_named() {
        let (stored, head) = append("t1", Anchor::GENESIS, 1000, "u1", None, &accesses(5));
        let alterations: Vec<fn(&mut Entry)> = vec![
            |e| e.at += 1,
            |e| e.user_id.push('x'),
            |e| e.device_id = Some("d9".into()),
            |e| e.subject = Some("someone-else".into()),
            |e| e.document = None,
            |e| e.kind = "read".into(),
            |e| e.purpose = "unknown".into(),
        ];
        for alter in alterations {
            let mut s = stored.clone();
            alter(&mut s[2].0);
            if s[2].0 == stored[2].0 {
                alter(&mut s[2].0); // an alteration that happened to be a no-op
            }
            assert_eq!(
                verify("t1", Anchor::GENESIS, &s, head),
                Err(Break::Altered { seq: 3 })
            );
        }
        // A stored hash replaced.
        let mut s = stored.clone();
        s[1].1[0] ^= 1;
        assert_eq!(
            verify("t1", Anchor::GENESIS, &s, head).unwrap_err().seq(),
            2
        );
        // An entry removed from the middle, and from the end.
        let mut s = stored.clone();
        s.remove(3);
        assert_eq!(
            verify("t1", Anchor::GENESIS, &s, head),
            Err(Break::Gap {
                seq: 5,
                expected: 4
            })
        );
        let s = &stored[..4];
        assert_eq!(
            verify("t1", Anchor::GENESIS, s, head),
            Err(Break::Truncated { seq: 5 })
        );
        // Another tenant's entry moved in.
        let mut s = stored.clone();
        s[0].0.tenant = "t2".into();
        assert_eq!(
            verify("t1", Anchor::GENESIS, &s, head),
            Err(Break::Foreign { seq: 1 })
        );
    }

    #[test]
    fn a_pruned_chain_verifies_from_its_anchor() {
        let (stored, head) = append("t1", Anchor::GENESIS, 1000, "u1", None, &accesses(6));
        let anchor = Anchor {
            seq: stored[2].0.seq,
            hash: stored[2].1,
        };
        assert_eq!(verify("t1", anchor, &stored[3..], head), Ok(head));
        // A wrong anchor breaks the first entry after it.
        let wrong = Anchor {
            seq: 3,
            hash: GENESIS,
        };
        assert_eq!(
            verify("t1", wrong, &stored[3..], head),
            Err(Break::Altered { seq: 4 })
        );
    }

    #[test]
    fn canonical_bytes_keep_absent_and_empty_apart() {
        let e = Entry {
            tenant: "t".into(),
            seq: 1,
            at: 2,
            user_id: "u".into(),
            device_id: None,
            subject: Some(String::new()),
            document: None,
            kind: "read".into(),
            purpose: "review".into(),
        };
        let mut f = e.clone();
        f.subject = None;
        assert_ne!(canonical(&e), canonical(&f));
        // Moving a byte between neighbouring fields changes the bytes.
        let mut g = e.clone();
        g.user_id = "ut".into();
        g.tenant = String::new();
        assert_ne!(canonical(&e), canonical(&g));
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
