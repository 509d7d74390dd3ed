//! Creating a document on the relay: the one path for a phone's new document (offered over
//! the sync protocol, [`super::conn`]) and a document made on the review pages (the term's
//! register for a one-off session, ADR 0026). The document is checked by the same rules as
//! any change (ADR 0013), created only by a caller who may write it (ADR 0009), its actors
//! bound to the sender's login and phone, and stored before this returns. A document with a
//! derived id that another phone created meanwhile gets these changes merged into it through
//! its task, so connected phones are offered them and the other nodes hear of them.

use std::sync::Arc;

use nabo_core::document::{DocKind, DocumentId, NaboDoc, Scope};
use nabo_core::rules::Refusal;
use tokio::sync::oneshot;

use super::doc::{DocCmd, MergeError};
use super::{ActorError, Hub, Sender};
use crate::acl::{Access, Principal, access};
use crate::storage::{DocMeta, StorageError};

/// What became of a created document.
#[derive(Debug)]
pub(crate) enum Created {
    /// Stored as a new document.
    New(DocMeta),
    /// It existed already (created concurrently): the changes were merged into it.
    Merged(DocMeta),
}

/// Why a document was not created.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// The caller may not write such a document (answered as "unavailable").
    NotPermitted,
    /// The rules refused a change in it (nothing stored).
    Refused(Refusal),
    /// Storage failed (nothing acknowledged).
    Storage(StorageError),
    /// The existing document's task did not store the merge.
    Unstored(MergeError),
}

impl From<StorageError> for CreateError {
    fn from(e: StorageError) -> Self {
        CreateError::Storage(e)
    }
}

impl Hub {
    /// Creates `nabo` under `id` for `principal` as sent by `sender` (see the module's
    /// documentation). The caller has checked that the id fits the scope and the tenant.
    pub(crate) async fn create_document(
        self: &Arc<Self>,
        nabo: &NaboDoc,
        id: DocumentId,
        principal: &Principal,
        sender: Sender,
    ) -> Result<Created, CreateError> {
        // A rewritten document's old id is never created again (ADR 0037).
        if self.storage.replacement(id).await?.is_some() {
            return Err(CreateError::NotPermitted);
        }
        let changes = nabo.automerge().get_changes(&[]);
        let rules = self.tenant_rules(&principal.tenant).await?;
        let activity = match nabo.scope() {
            Scope::Register { activity, .. } => Some(activity.to_string()),
            _ => None,
        };
        let children = self
            .shift_facts(
                &principal.tenant,
                nabo.kind(),
                activity.as_deref(),
                &sender.editor,
            )
            .await?;
        let checked = nabo_core::rules::check(
            nabo.automerge(),
            &[],
            &changes,
            &sender.editor,
            &rules.context(children),
        );
        let actors = nabo_core::rules::device_actors(nabo.automerge(), &changes);
        let mut meta = crate::meta::derive(nabo, self.storage.as_ref()).await?;
        meta.id = id;
        // Whether the caller may write it is said before whether its content is right.
        if access(principal, &meta) != Access::Write {
            return Err(CreateError::NotPermitted);
        }
        checked.map_err(CreateError::Refused)?;
        match self.bind_actors(&meta.tenant, actors, &sender).await {
            Ok(()) => {}
            Err(ActorError::Refused(r)) => return Err(CreateError::Refused(r)),
            Err(ActorError::Storage(e)) => return Err(CreateError::Storage(e)),
        }
        match self.storage.create_document(&meta, &nabo.save()).await {
            Ok(()) => Ok(Created::New(meta)),
            Err(StorageError::Conflict) => {
                // Created concurrently by another phone (a derived id): merge ours into it.
                let existing = self
                    .storage
                    .document(id)
                    .await?
                    .ok_or(CreateError::NotPermitted)?;
                if access(principal, &existing) != Access::Write {
                    return Err(CreateError::NotPermitted);
                }
                let tx = self.open(&existing).await.map_err(|e| match e {
                    super::OpenError::Storage(s) => CreateError::Storage(s),
                    super::OpenError::Damaged => CreateError::Unstored(MergeError::Closing),
                })?;
                let (reply, rx) = oneshot::channel();
                tx.send(DocCmd::Merge {
                    changes,
                    sender,
                    reply,
                })
                .await
                .map_err(|_| CreateError::Unstored(MergeError::Closing))?;
                match rx.await {
                    Ok(Ok(())) => Ok(Created::Merged(existing)),
                    Ok(Err(MergeError::Refused(r))) => Err(CreateError::Refused(r)),
                    Ok(Err(e)) => Err(CreateError::Unstored(e)),
                    Err(_) => Err(CreateError::Unstored(MergeError::Closing)),
                }
            }
            Err(e) => Err(CreateError::Storage(e)),
        }
    }
}

/// Whether a created document's id must be its scope's (registers, logs, the tenant's
/// documents: derived ids) or may be any (activities and networks get random ids).
pub(crate) fn derived_id(kind: DocKind) -> bool {
    !matches!(kind, DocKind::Activity | DocKind::Network)
}
