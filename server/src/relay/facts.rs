//! What the rules need from other documents than the one being changed (ADR 0023): the
//! volunteers' current child certificates (the tenant's volunteer directory) and whether a
//! register's activity is for children under 15. Both are cached on the hub and dropped when
//! the document they come from changes (`doc.rs`, after each append).

use nabo_core::docs::activity::ActivityDoc;
use nabo_core::docs::volunteers::{Certificates, VolunteersDoc};
use nabo_core::document::{DocKind, DocumentId, Scope, TypedDoc};
use nabo_core::ids::TenantId;
use nabo_core::model::AppRole;
use nabo_core::rules::Editor;

use super::{Hub, OpenError, doc};
use crate::storage::StorageError;

impl Hub {
    /// The current certificates of a tenant's volunteers, read from the stored volunteer
    /// directory, with the directory's id and whether another node changed it while it was
    /// read (then the answer is not cached). No directory (a tenant without volunteers):
    /// none. A directory that does not read: none either, logged — every volunteer is then
    /// blocked from sessions with children until it is repaired, which is the safe side.
    pub(crate) async fn current_certificates(
        &self,
        tenant: &TenantId,
    ) -> Result<(Certificates, DocumentId, bool), StorageError> {
        let id = Scope::Volunteers {
            tenant: tenant.clone(),
        }
        .document_id();
        self.loading_begins(id);
        let loaded = doc::load(self.storage.as_ref(), id).await;
        let changed = self.loading_ends(id);
        let certificates = match loaded {
            Ok(l) => VolunteersDoc::from_doc(l.doc)
                .and_then(|d| d.certificates())
                .unwrap_or_else(|e| {
                    tracing::warn!(tenant = %tenant, error = %e, "volunteer directory unreadable; no certificates apply");
                    Certificates::default()
                }),
            Err(OpenError::Storage(e)) => return Err(e),
            Err(OpenError::Damaged) => Certificates::default(),
        };
        Ok((certificates, id, changed))
    }

    /// For a change set to a document of `kind` (of `activity`, for a register) from
    /// `editor`: whether the register's activity is for children under 15, when the rules
    /// check the editor's shifts against the certificates (a volunteer writing a register);
    /// `None` otherwise.
    pub(crate) async fn shift_facts(
        &self,
        tenant: &TenantId,
        kind: DocKind,
        activity: Option<&str>,
        editor: &Editor,
    ) -> Result<Option<bool>, StorageError> {
        if kind != DocKind::Register || editor.role != AppRole::Volunteer {
            return Ok(None);
        }
        let Some(activity) = activity else {
            return Ok(Some(false));
        };
        let key = (tenant.clone(), activity.to_owned());
        let cached = || {
            self.children_flags
                .lock()
                .ok()
                .and_then(|m| m.get(&key).map(|(_, c)| *c))
        };
        if let Some(c) = cached() {
            return Ok(Some(c));
        }
        let _one = self.flag_loads.lock(&key).await;
        if let Some(c) = cached() {
            return Ok(Some(c));
        }
        let meta = self
            .storage
            .documents(tenant)
            .await?
            .into_iter()
            .find(|m| m.kind == DocKind::Activity && m.activity.as_deref() == Some(activity));
        let Some(meta) = meta else {
            return Ok(Some(false));
        };
        self.loading_begins(meta.id);
        let loaded = doc::load(self.storage.as_ref(), meta.id).await;
        let changed = self.loading_ends(meta.id);
        let children = match loaded {
            Ok(l) => ActivityDoc::from_doc(l.doc)
                .and_then(|a| a.activity())
                .map(|a| a.current.children_under_15)
                .unwrap_or(false),
            Err(OpenError::Storage(e)) => return Err(e),
            Err(OpenError::Damaged) => false,
        };
        if !changed && let Ok(mut m) = self.children_flags.lock() {
            m.insert(key, (meta.id, children));
        }
        Ok(Some(children))
    }

    /// Drops the cached flag of an activity (its document changed).
    pub(crate) fn forget_activity_facts(&self, tenant: &TenantId, activity: &str) {
        if let Ok(mut m) = self.children_flags.lock() {
            m.remove(&(tenant.clone(), activity.to_owned()));
        }
    }

    /// Drops what was read from document `id` (another node stored changes to it).
    pub(crate) fn forget_facts_of(&self, id: DocumentId) {
        if let Ok(mut m) = self.children_flags.lock() {
            m.retain(|_, (doc, _)| *doc != id);
        }
    }

    /// Drops every cached flag (the notices from other nodes were lost for a while).
    pub(crate) fn forget_all_facts(&self) {
        if let Ok(mut m) = self.children_flags.lock() {
            m.clear();
        }
    }
}
