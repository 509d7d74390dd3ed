//! The document-rewrite path (ADR 0037, ADR 0019 says when it is used): where sealing is not
//! enough — a staff member's name in the staff directory's change history, a report's blanked
//! text in an activity's history — the relay makes the document anew from its current state
//! under a new id, with one change and no history, and deletes every stored chunk and sync
//! state of the old one in the same transaction. The old id goes on the tenant's list of
//! replaced documents for good: the relay never serves, creates or stores it again, and tells a
//! phone that still holds it the new id. The list keeps the old document's change hashes (no
//! content), so the phone can tell the edits the relay never saw from the rest and carry only
//! those over (`nabo_core::rules::carry_over`).
//!
//! A change stored to the old document meanwhile, on any node, makes the replacement a
//! conflict: the rewrite reads the document again and retries, so no stored change is lost.
//! A change that reaches a node after the replacement is refused there (the document is gone)
//! and never acknowledged; the phone that sent it carries it over.

use std::sync::Arc;

use nabo_core::document::DocumentId;

use crate::relay::Hub;
use crate::storage::{DocMeta, Replacement, StorageError, now_ms};

/// Why a document was rewritten (a code in the list, never free text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewriteReason {
    /// A person was erased whose data is in the document's history (a staff member).
    Erasure,
    /// A retention class blanked text that is still in the document's history.
    Retention,
}

impl RewriteReason {
    /// The code stored with the replacement.
    pub fn code(self) -> &'static str {
        match self {
            RewriteReason::Erasure => "erasure",
            RewriteReason::Retention => "retention",
        }
    }
}

/// Why a rewrite did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// There is no such document (or it was replaced already).
    #[error("no such document")]
    NotFound,
    /// The stored document does not load.
    #[error("the stored document is damaged")]
    Damaged,
    /// Changes kept arriving: every attempt met a newer stored version.
    #[error("the document kept changing; try again")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How often a rewrite reads the document again after changes were stored meanwhile.
const ATTEMPTS: usize = 8;

/// Rewrites document `id` under a new id (see the module's documentation) and returns the new
/// document's metadata. The old id's rows are gone when this returns, but their bytes may
/// still be in the database's free pages and log: the caller calls [`reclaim`] once after its
/// rewrites (a retention run rewrites many activities, and PostgreSQL's reclaim rewrites
/// whole tables under an exclusive lock, so once per run, not once per document).
pub async fn rewrite(
    hub: &Arc<Hub>,
    id: DocumentId,
    reason: RewriteReason,
) -> Result<DocMeta, RewriteError> {
    let storage = hub.storage();
    for _ in 0..ATTEMPTS {
        let meta = storage.document(id).await?.ok_or(RewriteError::NotFound)?;
        // The version first: a change stored after this read makes the replacement conflict.
        let version = storage
            .document_version(id)
            .await?
            .ok_or(RewriteError::NotFound)?;
        let loaded = crate::relay::doc::load(storage.as_ref(), id)
            .await
            .map_err(|e| match e {
                crate::relay::OpenError::Storage(s) => RewriteError::Storage(s),
                crate::relay::OpenError::Damaged => RewriteError::Damaged,
            })?;
        let known = loaded
            .doc
            .automerge()
            .get_changes(&[])
            .iter()
            .map(|c| c.hash())
            .collect();
        let at = now_ms();
        let fresh = loaded
            .doc
            .rewritten(nabo_core::entropy::actor(), at / 1000)
            .map_err(|_| RewriteError::Damaged)?;
        let new = DocMeta {
            id: DocumentId::random(),
            ..meta.clone()
        };
        let replacement = Replacement {
            old: id,
            new: new.id,
            tenant: meta.tenant.clone(),
            scope: meta.scope.clone(),
            reason: reason.code().to_owned(),
            at,
            known,
        };
        match storage
            .replace_document(&meta, version, &new, &fresh.save(), &replacement)
            .await
        {
            Ok(()) => {
                hub.drop_replaced(id, Some(new.id)).await;
                tracing::info!(old = %id, new = %new.id, reason = reason.code(), "document rewritten");
                return Ok(new);
            }
            Err(StorageError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RewriteError::Busy)
}

/// Reclaims the space of the documents rewritten so far (SQLite zeroes and truncates its WAL;
/// PostgreSQL rewrites the document tables), tried again a few times (PostgreSQL's VACUUM
/// FULL waits for older transactions); what is left is reclaimed by the next call.
pub async fn reclaim(hub: &Hub) {
    for attempt in 1..=4u64 {
        match hub.storage().reclaim_documents().await {
            Ok(()) => return,
            Err(e) if attempt < 4 => {
                tracing::warn!(error = %e, attempt, "space of a rewritten document not reclaimed yet; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
            }
            Err(e) => tracing::error!(error = %e, "space of a rewritten document not reclaimed"),
        }
    }
}
