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

pub mod conn;
pub mod doc;
pub mod outbox;
mod sync;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nabo_core::document::{DocumentId, TypedDoc};
use tokio::sync::{Mutex, mpsc, watch};

use crate::acl::Principal;
use crate::metrics::Metrics;
use crate::storage::{DocMeta, Storage, StorageError};

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
            max_outbound_bytes: 8 << 20,
            max_ephemeral_bytes: 16 << 10,
            ephemeral_per_second: 10,
            ephemeral_burst: 20,
            max_connections: 10_000,
            http_read_timeout: Duration::from_secs(20),
            max_body_bytes: 64 << 10,
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
}

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
}

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
    pub(crate) docs: Mutex<HashMap<DocumentId, DocEntry>>,
    /// Actors already recorded in storage (who sent them), so each is written once.
    known_actors: std::sync::Mutex<std::collections::HashSet<String>>,
    conns: std::sync::Mutex<HashMap<u64, ConnEntry>>,
    next: AtomicU64,
    pub(crate) shutdown: watch::Receiver<bool>,
    shutdown_tx: watch::Sender<bool>,
}

/// Why an edit from the relay itself did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The document's rules refused it (nothing written).
    #[error(transparent)]
    Domain(nabo_core::Error),
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
            .init_setting("storage_id", &uuid::Uuid::new_v4().to_string())
            .await?;
        let (shutdown_tx, shutdown) = watch::channel(false);
        Ok(Arc::new(Hub {
            storage,
            limits,
            metrics,
            peer_id: format!("nabo-relay-{}", uuid::Uuid::new_v4().simple()),
            storage_id,
            docs: Mutex::new(HashMap::new()),
            known_actors: std::sync::Mutex::new(std::collections::HashSet::new()),
            conns: std::sync::Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            shutdown,
            shutdown_tx,
        }))
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

    /// Closes every connection of a user at once (revocation).
    pub fn close_user(&self, user_id: &str, reason: &str) -> usize {
        self.close_where(|e| e.user_id == user_id, 4003, reason)
    }

    /// Closes every connection of a device at once (revocation).
    pub fn close_device(&self, device_id: &str, reason: &str) -> usize {
        self.close_where(|e| e.device_id.as_deref() == Some(device_id), 4003, reason)
    }

    /// Closes every connection opened with an access token of a refresh-token family
    /// (logout, a reused refresh token).
    pub fn close_family(&self, family: &str, reason: &str) -> usize {
        self.close_where(|e| e.family.as_deref() == Some(family), 4003, reason)
    }

    /// Tells a user's connections that their access changed.
    pub fn reevaluate_user(&self, user_id: &str) -> usize {
        let Ok(c) = self.conns.lock() else { return 0 };
        c.values()
            .filter(|e| e.user_id == user_id)
            .filter(|e| e.control.send(Control::Reevaluate).is_ok())
            .count()
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

    /// The login and phone of a connection.
    pub(crate) fn who(&self, conn: u64) -> Option<(String, Option<String>)> {
        let c = self.conns.lock().ok()?;
        c.get(&conn)
            .map(|e| (e.user_id.clone(), e.device_id.clone()))
    }

    /// Records the login and phone that sent new actors' changes (for "from which device" in
    /// the review). Best effort: a failure is logged and counted, the changes are stored.
    pub(crate) async fn record_actors(
        &self,
        tenant: &nabo_core::ids::TenantId,
        actors: impl IntoIterator<Item = String>,
        who: (String, Option<String>),
    ) {
        let fresh: Vec<String> = {
            let Ok(known) = self.known_actors.lock() else {
                return;
            };
            actors.into_iter().filter(|a| !known.contains(a)).collect()
        };
        if fresh.is_empty() {
            return;
        }
        let (user, device) = who;
        for a in fresh {
            match self
                .storage
                .put_actor(&a, tenant, &user, device.as_deref())
                .await
            {
                Ok(()) => {
                    if let Ok(mut k) = self.known_actors.lock() {
                        k.insert(a);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not record an actor's device"),
            }
        }
    }

    /// Applies an edit made on the relay itself (the review pages) as one change: the
    /// document is read from storage, `f` edits it, and the new change goes to the document's
    /// task like a peer's change, so it is stored before this returns and offered to every
    /// connected phone.
    pub async fn edit<D: TypedDoc, T>(
        self: &Arc<Self>,
        meta: &DocMeta,
        user_id: &str,
        f: impl FnOnce(&mut D) -> nabo_core::Result<T>,
    ) -> Result<T, EditError> {
        let loaded = doc::load(self.storage.as_ref(), meta.id)
            .await
            .map_err(EditError::from)?;
        let mut typed = D::from_doc(loaded.doc).map_err(EditError::Domain)?;
        let out = f(&mut typed).map_err(EditError::Domain)?;
        let d = typed.doc();
        let bytes = d.save_after(&loaded.stored_heads);
        if bytes.is_empty() {
            return Ok(out);
        }
        let tx = self.open(meta).await.map_err(EditError::from)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.send(doc::DocCmd::Merge { bytes, reply })
            .await
            .map_err(|_| EditError::Unstored(doc::MergeError::Closing))?;
        match answer.await {
            Ok(Ok(())) => {
                let actor = d.automerge().get_actor().to_hex_string();
                self.record_actors(&meta.tenant, [actor], (user_id.to_owned(), None))
                    .await;
                Ok(out)
            }
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
        let loaded = doc::load(self.storage.as_ref(), meta.id).await?;
        let mut docs = self.docs.lock().await;
        if let Some(e) = docs.get(&meta.id)
            && !e.tx.is_closed()
        {
            return Ok(e.tx.clone());
        }
        let generation = self.next_id();
        let tx = doc::spawn(self.clone(), meta.clone(), loaded, generation);
        docs.insert(
            meta.id,
            DocEntry {
                tx: tx.clone(),
                generation,
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
