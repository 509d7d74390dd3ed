//! The relay: automerge-repo sync protocol over WebSocket, built on automerge's sync module.
//!
//! - One task per loaded document ([`doc`]) owns the Automerge document and the sync state of
//!   every connection that opened it. Incoming changes are applied, **stored, and only then**
//!   relayed: no peer ever receives a message whose heads include a change that is not in the
//!   database. Idle documents are evicted, so memory is bounded by what is in use.
//! - One task per connection ([`conn`]) authenticates (done at the upgrade), binds the
//!   client's peer id, decides access per document, enforces the limits and routes messages.
//!   A connection is attached only to the documents it asked for; nothing runs per
//!   connection × loaded document.
//! - A request for a document that does not exist, or that the caller may not see, gets the
//!   same `doc-unavailable` and creates nothing. A storage error closes the connection with an
//!   error (the client reconnects and retries), never `doc-unavailable`.

mod cluster;
pub mod conn;
pub(crate) mod create;
pub mod doc;
mod facts;
mod once;
pub mod outbox;
pub mod sync;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nabo_core::catalogue::Catalogue;
use nabo_core::document::{DocumentId, Scope, TypedDoc};
use nabo_core::ids::TenantId;
use nabo_core::rules::{Context, Editor, Refusal};
use tokio::sync::{Mutex, mpsc, watch};

pub use sync::HoldBudget;

use crate::acl::Principal;
use crate::metrics::Metrics;
use crate::storage::{DocMeta, Notice, Storage, StorageError};

/// Limits, each answered with a specific error.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message accepted, bytes.
    pub max_message_bytes: usize,
    /// Largest stored document, bytes.
    pub max_document_bytes: usize,
    /// Most changes in one sync message.
    pub max_changes_per_message: usize,
    /// Most simultaneous connections per user.
    pub max_connections_per_user: usize,
    /// Most documents open on one connection.
    pub max_documents_per_connection: usize,
    /// Most consecutive sync rounds on one document without reaching agreement (the
    /// Bloom-filter poisoning attack makes an honest-looking sync last for ever).
    pub max_sync_rounds: u32,
    /// Documents being created at once on one connection.
    pub max_new_documents_per_connection: usize,
    /// An unused document is evicted from memory after this long.
    pub idle_eviction: Duration,
    /// Compact a document after this many appended chunks.
    pub compact_after: i64,
    /// Bytes waiting to be sent to one connection; a reader that falls further behind is
    /// disconnected (1013).
    pub max_outbound_bytes: usize,
    /// Largest ephemeral message (presence), bytes; larger closes the sender (1009).
    pub max_ephemeral_bytes: usize,
    /// Ephemeral messages per second one connection may send (more are dropped).
    pub ephemeral_per_second: u32,
    /// Ephemeral messages one connection may send in a burst.
    pub ephemeral_burst: u32,
    /// Most simultaneous TCP connections (HTTP and WebSocket); more are refused with 503.
    pub max_connections: usize,
    /// Time to read a request's headers, and separately its whole body (slow senders get
    /// 408 and are disconnected).
    pub http_read_timeout: Duration,
    /// Largest HTTP request body (413 above).
    pub max_body_bytes: usize,
    /// Bytes of changes one connection may hold while their dependencies are missing (across
    /// its documents; each change counts its size plus a fixed overhead). More closes the
    /// connection (1008).
    pub max_held_bytes: usize,
    /// Changes one connection may hold while their dependencies are missing.
    pub max_held_changes: usize,
    /// Memory (estimated bytes) for the review pages' decoded documents (ADR 0028); 0 turns
    /// the cache off.
    pub page_cache_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 4 << 20,
            max_document_bytes: 32 << 20,
            max_changes_per_message: 5_000,
            max_connections_per_user: 8,
            max_documents_per_connection: 512,
            max_sync_rounds: 64,
            max_new_documents_per_connection: 8,
            idle_eviction: idle_evict_default(),
            compact_after: 256,
            page_cache_bytes: 1 << 30,
            max_outbound_bytes: 8 << 20,
            max_ephemeral_bytes: 16 << 10,
            ephemeral_per_second: 10,
            ephemeral_burst: 20,
            max_connections: 10_000,
            http_read_timeout: Duration::from_secs(20),
            max_body_bytes: 64 << 10,
            max_held_bytes: 8 << 20,
            max_held_changes: 10_000,
        }
    }
}

/// The default eviction delay.
pub const fn idle_evict_default() -> Duration {
    Duration::from_secs(30)
}

/// Something a connection is told to do from outside (closing goes through its outbox).
#[derive(Debug, Clone)]
pub enum Control {
    /// The user's access changed: re-read it and apply it to the open documents.
    Reevaluate,
    /// The rules refused this connection's changes to a document: the document is closed for
    /// the rest of the connection (ADR 0013).
    Refused(DocumentId),
}

/// The login and phone (if any) an actor is bound to.
type ActorOwner = (String, Option<String>);

/// Who sends changes: the login and phone behind a connection (or a review page's edit),
/// and what the rules let them edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The login.
    pub user_id: String,
    /// The enrolled phone, if the token is a device's.
    pub device_id: Option<String>,
    /// Role and identity for the rules.
    pub editor: Editor,
}

impl Sender {
    /// The relay itself acting for `user_id` (the operator API, an OIDC sign-in): a central
    /// login that is no staff member, whose changes are signed `system`.
    pub fn system(user_id: &str) -> Self {
        Sender {
            user_id: user_id.to_owned(),
            device_id: None,
            editor: Editor::new(nabo_core::model::AppRole::Central, None, None),
        }
    }

    /// The sender behind a principal.
    pub fn of(p: &Principal) -> Self {
        Sender {
            user_id: p.user_id.clone(),
            device_id: p.device_id.clone(),
            editor: Editor::new(p.role, p.staff_id.as_deref(), p.volunteer_id.as_deref()),
        }
    }
}

/// What the rules need of a tenant: its catalogue with local additions (retired codes
/// accepted: a record made offline before a code was retired is still a record) and its
/// settings.
#[derive(Debug)]
pub struct TenantRules {
    /// The tenant document it was read from.
    doc: DocumentId,
    /// The volunteer directory the certificates were read from.
    volunteers: DocumentId,
    catalogue: Catalogue,
    free_text_notes: bool,
    /// The volunteers' current child certificates (the volunteer directory; ADR 0023).
    certificates: nabo_core::docs::volunteers::Certificates,
}

impl TenantRules {
    /// The context for [`nabo_core::rules::check`]. `children_under_15`: for a register
    /// written by a volunteer, whether its activity is for children under 15 — then the
    /// volunteer's sign-ups and check-ins are checked against the current certificates.
    pub fn context(&self, children_under_15: Option<bool>) -> Context<'_> {
        Context {
            catalogue: &self.catalogue,
            free_text_notes: self.free_text_notes,
            shifts: children_under_15.map(|c| nabo_core::rules::ShiftFacts {
                certificates: &self.certificates,
                children_under_15: c,
            }),
        }
    }
}

/// Why an actor's changes were not accepted from a sender.
#[derive(Debug)]
pub(crate) enum ActorError {
    /// The actor belongs to another login or device.
    Refused(Refusal),
    /// Storage failed.
    Storage(StorageError),
}

/// Most actor owners kept in memory (the table is the truth; this saves a query per message).
const KNOWN_ACTORS: usize = 100_000;

#[derive(Debug)]
struct ConnEntry {
    user_id: String,
    device_id: Option<String>,
    /// The refresh-token family of the access token the connection was opened with.
    family: Option<String>,
    control: mpsc::UnboundedSender<Control>,
    outbox: outbox::Outbox,
}

#[derive(Debug)]
pub(crate) struct DocEntry {
    pub(crate) tx: mpsc::Sender<doc::DocCmd>,
    pub(crate) generation: u64,
    /// Another node stored changes to the document: the task reads them from storage.
    pub(crate) stale: Arc<std::sync::atomic::AtomicBool>,
}

/// (tenant, actor hex) → (login, phone).
type KnownActors = HashMap<(TenantId, String), ActorOwner>;

/// Shared state of the relay.
#[derive(Debug)]
pub struct Hub {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Metrics,
    /// The relay's peer id on the wire.
    pub peer_id: String,
    /// The relay's storage id (clients keep their sync state with us under it).
    pub storage_id: String,
    pub(crate) docs: Mutex<BTreeMap<DocumentId, DocEntry>>,
    /// Actors and the login and phone they are bound to (a cache of the `actors` table).
    known_actors: std::sync::Mutex<KnownActors>,
    /// The rules' context per tenant, dropped when the tenant document or the volunteer
    /// directory changes.
    tenant_rules: std::sync::Mutex<HashMap<TenantId, Arc<TenantRules>>>,
    /// Whether an activity is for children under 15, per (tenant, activity id), with the
    /// activity document it was read from: dropped when that document changes, here or on
    /// another node (`facts.rs`).
    children_flags: std::sync::Mutex<HashMap<(TenantId, String), (DocumentId, bool)>>,
    /// One load of a tenant's rules at a time; concurrent misses wait for it.
    rules_loads: once::OneAtATime<TenantId>,
    /// One read of an activity's children flag at a time.
    flag_loads: once::OneAtATime<(TenantId, String)>,
    conns: std::sync::Mutex<BTreeMap<u64, ConnEntry>>,
    next: AtomicU64,
    /// Documents being read from storage → (readers, another node stored changes
    /// meanwhile): such a document is read again once it is loaded.
    loading: std::sync::Mutex<HashMap<DocumentId, (usize, bool)>>,
    /// The review pages' decoded documents (ADR 0028).
    pub pages: crate::web::cache::PageCache,
    pub(crate) shutdown: watch::Receiver<bool>,
    shutdown_tx: watch::Sender<bool>,
}

/// Why an edit from the relay itself did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The document's operation refused it (nothing written).
    #[error(transparent)]
    Domain(nabo_core::Error),
    /// The relay's rules refused the change (nothing written; ADR 0013).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Storage failed (nothing acknowledged).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored document does not load.
    #[error("stored document is damaged")]
    Damaged,
    /// The document's task did not store it.
    #[error("not stored: {0}")]
    Unstored(doc::MergeError),
}

impl From<OpenError> for EditError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Storage(s) => EditError::Storage(s),
            OpenError::Damaged => EditError::Damaged,
        }
    }
}

/// Why a document could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored document does not load.
    #[error("stored document is damaged")]
    Damaged,
}

impl Hub {
    /// A relay over `storage`.
    pub async fn new(
        storage: Arc<dyn Storage>,
        limits: Limits,
        metrics: Metrics,
    ) -> Result<Arc<Self>, StorageError> {
        let storage_id = storage
            .init_setting("storage_id", &nabo_core::entropy::uuid().to_string())
            .await?;
        let (shutdown_tx, shutdown) = watch::channel(false);
        let pages = crate::web::cache::PageCache::new(limits.page_cache_bytes);
        let hub = Arc::new(Hub {
            storage,
            limits,
            metrics,
            peer_id: format!("nabo-relay-{}", nabo_core::entropy::uuid().simple()),
            storage_id,
            docs: Mutex::new(BTreeMap::new()),
            known_actors: std::sync::Mutex::new(HashMap::new()),
            tenant_rules: std::sync::Mutex::new(HashMap::new()),
            children_flags: std::sync::Mutex::new(HashMap::new()),
            rules_loads: once::OneAtATime::new(),
            flag_loads: once::OneAtATime::new(),
            conns: std::sync::Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(1),
            loading: std::sync::Mutex::new(HashMap::new()),
            pages,
            shutdown,
            shutdown_tx,
        });
        cluster::join(&hub).await?;
        Ok(hub)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Open connections of a user.
    pub fn connections_of(&self, user_id: &str) -> usize {
        self.conns
            .lock()
            .map(|c| c.values().filter(|e| e.user_id == user_id).count())
            .unwrap_or(0)
    }

    pub(crate) fn register(
        &self,
        id: u64,
        p: &Principal,
        family: Option<String>,
        control: mpsc::UnboundedSender<Control>,
        outbox: outbox::Outbox,
    ) {
        if let Ok(mut c) = self.conns.lock() {
            c.insert(
                id,
                ConnEntry {
                    user_id: p.user_id.clone(),
                    device_id: p.device_id.clone(),
                    family,
                    control,
                    outbox,
                },
            );
        }
    }

    pub(crate) fn unregister(&self, id: u64) {
        if let Ok(mut c) = self.conns.lock() {
            c.remove(&id);
        }
    }

    fn close_where(&self, pred: impl Fn(&ConnEntry) -> bool, code: u16, reason: &str) -> usize {
        let Ok(c) = self.conns.lock() else { return 0 };
        let mut n = 0;
        for e in c.values().filter(|e| pred(e)) {
            e.outbox.close(code, reason);
            n += 1;
        }
        n
    }

    /// Closes every connection of a user at once (revocation), on every node.
    pub fn close_user(&self, user_id: &str, reason: &str) -> usize {
        self.announce(Notice::CloseUser(user_id.to_owned()));
        self.close_user_here(user_id, reason)
    }

    fn close_user_here(&self, user_id: &str, reason: &str) -> usize {
        self.close_where(|e| e.user_id == user_id, 4003, reason)
    }

    /// Closes every connection of a device at once (revocation), on every node.
    pub fn close_device(&self, device_id: &str, reason: &str) -> usize {
        self.announce(Notice::CloseDevice(device_id.to_owned()));
        self.close_device_here(device_id, reason)
    }

    fn close_device_here(&self, device_id: &str, reason: &str) -> usize {
        self.close_where(|e| e.device_id.as_deref() == Some(device_id), 4003, reason)
    }

    /// Closes every connection opened with an access token of a refresh-token family
    /// (logout, a reused refresh token), on every node.
    pub fn close_family(&self, family: &str, reason: &str) -> usize {
        self.announce(Notice::CloseFamily(family.to_owned()));
        self.close_family_here(family, reason)
    }

    fn close_family_here(&self, family: &str, reason: &str) -> usize {
        self.close_where(|e| e.family.as_deref() == Some(family), 4003, reason)
    }

    /// Tells a user's connections that their access changed, on every node.
    pub fn reevaluate_user(&self, user_id: &str) -> usize {
        self.announce(Notice::Reevaluate(user_id.to_owned()));
        self.reevaluate_where(|e| e.user_id == user_id)
    }

    fn reevaluate_where(&self, pred: impl Fn(&ConnEntry) -> bool) -> usize {
        let Ok(c) = self.conns.lock() else { return 0 };
        c.values()
            .filter(|e| pred(e))
            .filter(|e| e.control.send(Control::Reevaluate).is_ok())
            .count()
    }

    /// Tells the other nodes (in the background: the revocation itself is already stored,
    /// and every node checks it on each new request and socket; this closes the open ones).
    fn announce(&self, notice: Notice) {
        let storage = self.storage.clone();
        tokio::spawn(async move {
            if let Err(e) = storage.announce(notice).await {
                tracing::warn!(error = %e, "could not tell the other relay nodes");
            }
        });
    }

    /// The relay's storage.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }

    /// The relay's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Open WebSocket connections.
    pub fn connections(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Number of documents in memory.
    pub async fn loaded_documents(&self) -> usize {
        self.docs.lock().await.len()
    }

    /// Tells a connection something (no-op when it is gone).
    pub(crate) fn tell(&self, conn: u64, c: Control) {
        if let Ok(conns) = self.conns.lock()
            && let Some(e) = conns.get(&conn)
        {
            let _ = e.control.send(c);
        }
    }

    /// Binds every actor of `actors` not yet bound to `sender`'s login and phone, and
    /// refuses an actor bound to another login or phone (ADR 0013): an actor id belongs to
    /// the device that first delivered it, per tenant. Bindings are stored before the changes
    /// are, so "from which device" never names anyone else.
    pub(crate) async fn bind_actors(
        &self,
        tenant: &TenantId,
        actors: impl IntoIterator<Item = String>,
        sender: &Sender,
    ) -> Result<(), ActorError> {
        let mine = (sender.user_id.clone(), sender.device_id.clone());
        for actor in actors {
            let key = (tenant.clone(), actor);
            let cached = self
                .known_actors
                .lock()
                .ok()
                .and_then(|k| k.get(&key).cloned());
            let owner = match cached {
                Some(o) => o,
                None => {
                    let o = self
                        .storage
                        .bind_actor(tenant, &key.1, &sender.user_id, sender.device_id.as_deref())
                        .await
                        .map_err(ActorError::Storage)?;
                    if let Ok(mut k) = self.known_actors.lock() {
                        if k.len() >= KNOWN_ACTORS {
                            k.clear();
                        }
                        k.insert(key.clone(), o.clone());
                    }
                    o
                }
            };
            if owner != mine {
                return Err(ActorError::Refused(Refusal {
                    record: format!("actor {}", &key.1[..12.min(key.1.len())]),
                    reason: nabo_core::Reason::NotPermitted,
                    detail: "this actor id belongs to another login or device".into(),
                }));
            }
        }
        Ok(())
    }

    /// The rules' context for a tenant: its catalogue and settings, from the stored tenant
    /// document (the built-in catalogue when there is none).
    pub(crate) async fn tenant_rules(
        &self,
        tenant: &TenantId,
    ) -> Result<Arc<TenantRules>, StorageError> {
        let cached = || {
            self.tenant_rules
                .lock()
                .ok()
                .and_then(|m| m.get(tenant).cloned())
        };
        if let Some(r) = cached() {
            return Ok(r);
        }
        let _one = self.rules_loads.lock(tenant).await;
        if let Some(r) = cached() {
            return Ok(r);
        }
        self.metrics.rules_context_loads.inc();
        let base = Catalogue::builtin().map_err(|e| StorageError::Damaged(e.to_string()))?;
        let id = Scope::Tenant {
            tenant: tenant.clone(),
        }
        .document_id();
        let (certificates, volunteers, directory_changed) =
            self.current_certificates(tenant).await?;
        self.loading_begins(id);
        let loaded = doc::load(self.storage.as_ref(), id).await;
        let changed_meanwhile = self.loading_ends(id) || directory_changed;
        let from_doc = match loaded {
            Ok(l) => nabo_core::docs::tenant::TenantDoc::from_doc(l.doc)
                .and_then(|t| Ok((t.catalogue(base)?, t.settings()?.free_text_notes))),
            Err(OpenError::Storage(e)) => return Err(e),
            Err(OpenError::Damaged) => Err(nabo_core::Error::NotNabo("no tenant document")),
        };
        let (catalogue, free_text_notes) = from_doc.unwrap_or_else(|e| {
            tracing::warn!(tenant = %tenant, error = %e, "tenant catalogue unreadable; the built-in one applies");
            (base.clone(), false)
        });
        let r = Arc::new(TenantRules {
            doc: id,
            volunteers,
            catalogue: catalogue.accepting_retired(),
            free_text_notes,
            certificates,
        });
        // Cached only if no other node changed the tenant document while it was read.
        if !changed_meanwhile && let Ok(mut m) = self.tenant_rules.lock() {
            m.insert(tenant.clone(), r.clone());
        }
        Ok(r)
    }

    fn loading_begins(&self, id: DocumentId) {
        if let Ok(mut l) = self.loading.lock() {
            l.entry(id).or_insert((0, false)).0 += 1;
        }
    }

    /// Whether another node stored changes to the document since [`Hub::loading_begins`].
    fn loading_ends(&self, id: DocumentId) -> bool {
        let Ok(mut l) = self.loading.lock() else {
            return true;
        };
        let Some(e) = l.get_mut(&id) else {
            return true;
        };
        e.0 -= 1;
        let changed = e.1;
        if e.0 == 0 {
            l.remove(&id);
        }
        changed
    }

    /// Drops the cached rules' context of a tenant (its tenant document changed).
    pub(crate) fn forget_tenant_rules(&self, tenant: &TenantId) {
        if let Ok(mut m) = self.tenant_rules.lock() {
            m.remove(tenant);
        }
    }

    /// Applies an edit made on the relay itself (the review pages) as one change: the
    /// document is read from storage, `f` edits it, and the new change goes to the document's
    /// task like a peer's change — checked by the same rules, as made by `editor` — so it is
    /// stored before this returns and offered to every connected phone.
    pub async fn edit<D: TypedDoc, T>(
        self: &Arc<Self>,
        meta: &DocMeta,
        editor: &Principal,
        f: impl FnOnce(&mut D) -> nabo_core::Result<T>,
    ) -> Result<T, EditError> {
        self.edit_as(
            meta,
            Sender {
                // Page edits come from no phone.
                device_id: None,
                ..Sender::of(editor)
            },
            f,
        )
        .await
    }

    /// [`Hub::edit`] as made by `sender`.
    pub async fn edit_as<D: TypedDoc, T>(
        self: &Arc<Self>,
        meta: &DocMeta,
        sender: Sender,
        f: impl FnOnce(&mut D) -> nabo_core::Result<T>,
    ) -> Result<T, EditError> {
        let loaded = doc::load(self.storage.as_ref(), meta.id)
            .await
            .map_err(EditError::from)?;
        let mut typed = D::from_doc(loaded.doc).map_err(EditError::Domain)?;
        let out = f(&mut typed).map_err(EditError::Domain)?;
        let changes = typed.doc().automerge().get_changes(&loaded.stored_heads);
        if changes.is_empty() {
            return Ok(out);
        }
        let tx = self.open(meta).await.map_err(EditError::from)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.send(doc::DocCmd::Merge {
            changes,
            sender,
            reply,
        })
        .await
        .map_err(|_| EditError::Unstored(doc::MergeError::Closing))?;
        match answer.await {
            Ok(Ok(())) => Ok(out),
            Ok(Err(doc::MergeError::Refused(r))) => Err(EditError::Refused(r)),
            Ok(Err(e)) => Err(EditError::Unstored(e)),
            Err(_) => Err(EditError::Unstored(doc::MergeError::Closing)),
        }
    }

    /// The task of a document, loading it if needed.
    pub(crate) async fn open(
        self: &Arc<Self>,
        meta: &DocMeta,
    ) -> Result<mpsc::Sender<doc::DocCmd>, OpenError> {
        {
            let docs = self.docs.lock().await;
            if let Some(e) = docs.get(&meta.id)
                && !e.tx.is_closed()
            {
                return Ok(e.tx.clone());
            }
        }
        self.loading_begins(meta.id);
        let loaded = doc::load(self.storage.as_ref(), meta.id).await;
        let changed_meanwhile = self.loading_ends(meta.id);
        let loaded = loaded?;
        let mut docs = self.docs.lock().await;
        if let Some(e) = docs.get(&meta.id)
            && !e.tx.is_closed()
        {
            return Ok(e.tx.clone());
        }
        let generation = self.next_id();
        // Another node may have stored changes while this one was loading: read again.
        let stale = Arc::new(std::sync::atomic::AtomicBool::new(changed_meanwhile));
        let tx = doc::spawn(
            self.clone(),
            meta.clone(),
            loaded,
            generation,
            stale.clone(),
        );
        docs.insert(
            meta.id,
            DocEntry {
                tx: tx.clone(),
                generation,
                stale,
            },
        );
        self.metrics.documents_loaded.set(docs.len() as i64);
        Ok(tx)
    }

    /// Starts a graceful shutdown: connections close with 1001, documents save sync states.
    pub fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// Waits (at most a few seconds) until every connection has said goodbye and every
    /// document task has saved its sync states (after [`Hub::shutdown`]).
    pub async fn drained(&self) {
        for _ in 0..200 {
            if self.connections() == 0 && self.docs.lock().await.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
