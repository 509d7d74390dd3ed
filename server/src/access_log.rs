//! The access log (ADR 0024, DOMAIN.md §4.7): who looked at, exported, changed, erased or
//! synced a person's data, when and why. Every page and API handler that shows or changes
//! personal data calls [`record`] — one function, so new pages log the same way — before it
//! answers: an access that cannot be logged is not served. A phone's sync of a document
//! holding personal data is logged once per connection and document by the relay
//! ([`purpose_of_sync`]).
//!
//! The log holds ids and codes only (a login id, a random subject id, a document id, a kind
//! and a purpose), never a name. Its tamper evidence is a hash chain per tenant
//! (`nabo_core::access_log`), checked by [`verify`] from `nabo-server access-log verify` and
//! on the extract page.

use nabo_core::access_log::{Access, AccessKind, Anchor, Break, Purpose, Verifier};
use nabo_core::document::{DocKind, DocumentId};
use nabo_core::ids::TenantId;

use crate::acl::Principal;
use crate::api::AppState;
use crate::storage::{Storage, StorageError};

/// Entries read per page while verifying (bounded memory for any length of log).
const VERIFY_PAGE: i64 = 5_000;

/// Records that `who` accessed the data of `subjects` (random ids; none: the whole
/// `document`) in one way for one purpose, at the relay's clock. Durable before it returns;
/// the caller answers only after it succeeded.
pub async fn record<S: Into<String>>(
    s: &AppState,
    who: &Principal,
    kind: AccessKind,
    purpose: Purpose,
    document: Option<DocumentId>,
    subjects: impl IntoIterator<Item = S>,
) -> Result<(), StorageError> {
    let accesses = accesses(kind, purpose, document, subjects);
    s.storage
        .append_access(
            &who.tenant,
            s.clock.now().0,
            &who.user_id,
            who.device_id.as_deref(),
            &accesses,
        )
        .await
}

/// The entries for [`record`]: one per distinct subject, or one for the whole document (none
/// when there is neither: a list that named nobody).
pub fn accesses<S: Into<String>>(
    kind: AccessKind,
    purpose: Purpose,
    document: Option<DocumentId>,
    subjects: impl IntoIterator<Item = S>,
) -> Vec<Access> {
    let document = document.map(|d| d.to_string());
    let mut subjects: Vec<String> = subjects.into_iter().map(Into::into).collect();
    subjects.sort();
    subjects.dedup();
    if subjects.is_empty() {
        if document.is_none() {
            return Vec::new();
        }
        return vec![Access {
            subject: None,
            document,
            kind,
            purpose,
        }];
    }
    subjects
        .into_iter()
        .map(|subject| Access {
            subject: Some(subject),
            document: document.clone(),
            kind,
            purpose,
        })
        .collect()
}

/// The subject id a login's personal data is kept under: the volunteer or staff member it is,
/// else the login itself (what people pages log, and what an extract is asked for).
pub fn subject_of(u: &crate::storage::UserRow) -> String {
    u.volunteer_id
        .clone()
        .or_else(|| u.staff_id.clone())
        .unwrap_or_else(|| u.id.clone())
}

/// Why a phone syncs a document of `kind`, when the document holds personal data (`None`:
/// the tenant catalogue, activities and networks hold none, and their syncs are not logged).
pub fn purpose_of_sync(kind: DocKind) -> Option<Purpose> {
    match kind {
        DocKind::Register => Some(Purpose::Activity),
        DocKind::Outreach => Some(Purpose::Outreach),
        DocKind::Volunteers | DocKind::Staff => Some(Purpose::Administration),
        // A resident log holds counts only (ADR 0030): no personal data to log access to.
        DocKind::Tenant | DocKind::Activity | DocKind::Network | DocKind::ResidentLog => None,
    }
}

/// Logs a phone's sync of a document (the relay calls it once per connection and document,
/// before the first sync message is answered).
pub async fn record_sync(
    storage: &dyn Storage,
    who: &Principal,
    document: DocumentId,
    kind: DocKind,
) -> Result<(), StorageError> {
    let Some(purpose) = purpose_of_sync(kind) else {
        return Ok(());
    };
    let accesses = accesses::<String>(AccessKind::Sync, purpose, Some(document), []);
    storage
        .append_access(
            &who.tenant,
            crate::storage::now_ms(),
            &who.user_id,
            who.device_id.as_deref(),
            &accesses,
        )
        .await
}

/// What verifying a tenant's log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub checked: u64,
    /// The chain's head (`seq` 0 for an empty log).
    pub head: Anchor,
    /// Where the stored chain starts (after retention pruned older entries).
    pub anchor: Anchor,
}

/// Why a log does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The chain is broken at an entry.
    #[error(transparent)]
    Broken(#[from] Break),
    /// Storage failed (nothing is known about the chain).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Verifies `tenant`'s whole stored chain, page by page, against its recorded head.
pub async fn verify(storage: &dyn Storage, tenant: &TenantId) -> Result<Verified, VerifyError> {
    let Some(chain) = storage.access_head(tenant).await? else {
        let first = storage.access_entries(tenant, 0, 1).await?;
        if let Some((e, _)) = first.first() {
            // Entries without a head: written around the relay.
            return Err(Break::Truncated { seq: e.seq }.into());
        }
        return Ok(Verified {
            checked: 0,
            head: Anchor::GENESIS,
            anchor: Anchor::GENESIS,
        });
    };
    let mut v = Verifier::new(tenant.as_str(), chain.anchor);
    loop {
        let page = storage
            .access_entries(tenant, v.last().seq, VERIFY_PAGE)
            .await?;
        if page.is_empty() {
            break;
        }
        for (e, hash) in &page {
            v.next(e, hash)?;
        }
    }
    // An entry removed at the very start shows as a gap only if one follows it; entries
    // before the anchor left over from a pruning would be skipped above, so look for them.
    let stray = storage.access_entries(tenant, i64::MIN, 1).await?;
    if let Some((e, _)) = stray.first()
        && e.seq <= chain.anchor.seq
    {
        return Err(Break::Gap {
            seq: e.seq,
            expected: chain.anchor.seq + 1,
        }
        .into());
    }
    let head = v.finish(chain.head)?;
    Ok(Verified {
        checked: v.checked(),
        head,
        anchor: chain.anchor,
    })
}
