//! Several relay nodes on one PostgreSQL database (ADR 0025). The database holds the truth;
//! each node keeps the documents its connections use in memory. A node hears what the others
//! did through PostgreSQL `LISTEN/NOTIFY` ([`crate::storage::Notice`]):
//!
//! - a document's stored changes: the transaction that stores them sends the notice, so it
//!   is delivered only once they are durable. A node that has the document loaded reads the
//!   stored changes it lacks and offers them to its connections; documents do not fork,
//!   because every node stores only its own new changes and the stored set is their union.
//! - closing a user's, a device's or a session's connections, and re-reading a user's
//!   access: the revocation itself is stored first and every node checks it on each new
//!   request and socket; the notice closes the sockets that are already open.
//!
//! - a document rewritten under a new id (ADR 0037): the node drops its copy and its task
//!   tells the connections the new id.
//!
//! When the listening connection is lost (the database restarted), notices may have been
//! missed: once it is back, every loaded document is read again, the cached tenant rules
//! are dropped, and every connection re-reads its access.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use nabo_core::document::DocumentId;

use super::{Hub, doc::DocCmd};
use crate::storage::{Heard, Notice, StorageError};

/// Starts listening to the other nodes, where the database has them.
pub(super) async fn join(hub: &Arc<Hub>) -> Result<(), StorageError> {
    let Some(mut heard) = hub.storage.listen().await? else {
        return Ok(());
    };
    let weak = Arc::downgrade(hub);
    let mut shutdown = hub.shutdown.clone();
    tokio::spawn(async move {
        loop {
            let h = tokio::select! {
                biased;
                _ = shutdown.changed() => None,
                h = heard.recv() => h,
            };
            let (Some(h), Some(hub)) = (h, weak.upgrade()) else {
                return;
            };
            hub.metrics
                .cluster_notices
                .with_label_values(&[match &h {
                    Heard::Notice(Notice::Doc(_) | Notice::Replaced(_)) => "doc",
                    Heard::Notice(_) => "session",
                    Heard::Lost => "lost",
                }])
                .inc();
            hub.hear(h).await;
        }
    });
    Ok(())
}

impl Hub {
    /// Document `old` was rewritten as `new` (ADR 0037), here or on another node: what is
    /// cached of it goes, and its task tells its connections the new id and stops.
    pub(crate) async fn drop_replaced(&self, old: DocumentId, new: Option<DocumentId>) {
        self.forget_cached(old);
        let entry = self.docs.lock().await.remove(&old);
        if let Some(e) = entry {
            let _ = e.tx.send(DocCmd::Replaced { new }).await;
        }
    }

    /// What is cached of document `id` goes: a load under way reads again, and the tenant
    /// rules, facts and pages built from it are dropped.
    fn forget_cached(&self, id: DocumentId) {
        if let Ok(mut l) = self.loading.lock()
            && let Some(e) = l.get_mut(&id)
        {
            e.1 = true;
        }
        if let Ok(mut m) = self.tenant_rules.lock() {
            m.retain(|_, r| r.doc != id && r.volunteers != id);
        }
        self.forget_facts_of(id);
        self.pages.forget(id);
    }

    async fn hear(&self, h: Heard) {
        match h {
            Heard::Notice(Notice::Doc(id)) => {
                self.forget_cached(id);
                if let Some(e) = self.docs.lock().await.get(&id) {
                    e.stale.store(true, Ordering::SeqCst);
                    // A full queue is fine: the task checks the flag after its next batch.
                    let _ = e.tx.try_send(DocCmd::Refresh);
                }
            }
            Heard::Notice(Notice::Replaced(id)) => {
                let new = match self.storage.replacement(id).await {
                    Ok(r) => r.map(|r| r.new),
                    Err(_) => None,
                };
                self.drop_replaced(id, new).await;
            }
            Heard::Notice(Notice::CloseUser(u)) => {
                self.close_user_here(&u, "access revoked");
            }
            Heard::Notice(Notice::CloseDevice(d)) => {
                self.close_device_here(&d, "device revoked");
            }
            Heard::Notice(Notice::CloseFamily(f)) => {
                self.close_family_here(&f, "session ended");
            }
            Heard::Notice(Notice::Reevaluate(u)) => {
                self.reevaluate_where(|e| e.user_id == u);
            }
            Heard::Lost => {
                tracing::info!(
                    "listening to the other nodes again; reading every loaded document anew"
                );
                if let Ok(mut l) = self.loading.lock() {
                    for e in l.values_mut() {
                        e.1 = true;
                    }
                }
                if let Ok(mut m) = self.tenant_rules.lock() {
                    m.clear();
                }
                self.forget_all_facts();
                self.pages.clear();
                for e in self.docs.lock().await.values() {
                    e.stale.store(true, Ordering::SeqCst);
                    let _ = e.tx.try_send(DocCmd::Refresh);
                }
                self.reevaluate_where(|_| true);
            }
        }
    }
}
