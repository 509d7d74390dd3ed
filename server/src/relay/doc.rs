//! The task that owns one loaded document.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use automerge::ActorId;
use automerge::sync::{Message, State, SyncDoc};
use nabo_core::document::{DocKind, DocumentId, NaboDoc, guarded};
use nabo_core::rules::Refusal;
use nabo_core::wire::WireMessage;
use tokio::sync::{mpsc, oneshot};

use super::sync::{Held, HoldBudget, ReceiveError};
use super::{ActorError, Hub, OpenError, Sender};
use crate::acl::Access;
use crate::storage::{DocMeta, Storage};

/// Something for a connection to send or do.
#[derive(Debug)]
pub enum Outbound {
    /// A protocol message (boxed: queues hold many of these, and an idle connection's queue
    /// should cost little).
    Wire(Box<WireMessage>),
    /// Send an `error` message and close with this code.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Reason (also the `error` message text).
        reason: String,
    },
}

/// Why changes sent with [`DocCmd::Merge`] were not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Storage failed; nothing is stored.
    #[error("storage unavailable")]
    Storage,
    /// The bytes are not changes to this document.
    #[error("invalid changes: {0}")]
    Invalid(String),
    /// The document is closing (relay shutting down); retry.
    #[error("document closing; retry")]
    Closing,
    /// The rules refused the changes (ADR 0013).
    #[error("refused: {0}")]
    Refused(Refusal),
}

/// Commands to a document task.
#[derive(Debug)]
pub enum DocCmd {
    /// A connection opens the document; `first` is its first sync message.
    Attach {
        /// Connection.
        conn: u64,
        /// The client's peer id.
        peer_id: String,
        /// The client's storage id (for persisted sync state).
        storage_id: Option<String>,
        /// Read or write.
        access: Access,
        /// Who the connection is, for the rules.
        sender: Sender,
        /// The connection's budget for changes waiting for their dependencies.
        budget: Arc<HoldBudget>,
        /// Where to send.
        out: super::outbox::Outbox,
        /// A sync state carried over from creating the document on this connection.
        state: Option<Box<State>>,
        /// The first message.
        first: Option<Vec<u8>>,
        /// Whether the attach worked.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// A sync message from a connection.
    Sync {
        /// Connection.
        conn: u64,
        /// Automerge sync message bytes.
        data: Vec<u8>,
    },
    /// An ephemeral message to relay to the other connections.
    Ephemeral {
        /// Connection.
        conn: u64,
        /// The message as received.
        msg: WireMessage,
    },
    /// Changes from a document created concurrently on another connection, or an edit made
    /// on the review pages.
    Merge {
        /// The changes.
        changes: Vec<automerge::Change>,
        /// Who made them, for the rules.
        sender: Sender,
        /// Whether it is stored.
        reply: oneshot::Sender<Result<(), MergeError>>,
    },
    /// A connection's access changed.
    SetAccess {
        /// Connection.
        conn: u64,
        /// New access (never `None`: the connection detaches instead).
        access: Access,
        /// The connection's role and identity now.
        sender: Sender,
    },
    /// A connection closes the document.
    Detach {
        /// Connection.
        conn: u64,
    },
    /// Another relay node stored changes: read them (the task's `stale` flag says whether
    /// it still has to; several notices in a row are one read).
    Refresh,
    /// The document was rewritten under `new` (ADR 0037): tell every connection and stop.
    Replaced {
        /// The new id, when known.
        new: Option<DocumentId>,
    },
}

struct Peer {
    /// The login, phone and role of the connection (kept here: the connection may close
    /// before its last message is processed).
    sender: Sender,
    /// Changes this connection sent whose dependencies are missing.
    held: Held,
    peer_id: String,
    storage_id: Option<String>,
    state: State,
    access: Access,
    out: super::outbox::Outbox,
    rounds: u32,
}

struct DocTask {
    hub: Arc<Hub>,
    meta: DocMeta,
    doc: NaboDoc,
    /// Ordered: the peers hear a change in one order on every run (the simulation's replay).
    peers: BTreeMap<u64, Peer>,
    appended: i64,
    /// Bytes stored for the document (checked against the size limit before each append).
    size: usize,
    /// Stored changes not yet offered to the other connections.
    dirty: bool,
    /// Another node stored changes this task has not read yet (set by the hub).
    stale: Arc<std::sync::atomic::AtomicBool>,
}

/// Why changes were not stored.
enum Rejection {
    /// The rules refused them: the sender is told and detached from the document.
    Refused(Refusal),
    /// A limit or storage: the connection closes.
    Close(CloseWith),
}

struct CloseWith {
    code: u16,
    reason: String,
    limit: Option<&'static str>,
}

impl Rejection {
    fn close(code: u16, reason: impl Into<String>, limit: Option<&'static str>) -> Self {
        Rejection::Close(CloseWith {
            code,
            reason: reason.into(),
            limit,
        })
    }
}

fn relay_actor() -> ActorId {
    nabo_core::entropy::actor()
}

/// A document loaded from storage, with the heads of what is stored (a migration on load
/// may have added changes that are not stored yet).
pub(crate) struct Loaded {
    pub(crate) doc: NaboDoc,
    pub(crate) stored_heads: Vec<automerge::ChangeHash>,
    /// Bytes stored for the document.
    pub(crate) stored_bytes: usize,
}

/// Loads a document from storage.
pub(crate) async fn load(storage: &dyn Storage, id: DocumentId) -> Result<Loaded, OpenError> {
    let chunks = storage.chunks(id).await?;
    if chunks.is_empty() {
        return Err(OpenError::Damaged);
    }
    let stored_bytes = chunks.iter().map(Vec::len).sum();
    let am =
        nabo_core::document::load_automerge(&chunks.concat()).map_err(|_| OpenError::Damaged)?;
    let stored_heads = am.get_heads();
    let doc = NaboDoc::from_automerge(am, relay_actor())
        .map_err(|_| OpenError::Damaged)?
        .with_id(id);
    Ok(Loaded {
        doc,
        stored_heads,
        stored_bytes,
    })
}

/// Starts the task of a loaded document.
pub(crate) fn spawn(
    hub: Arc<Hub>,
    meta: DocMeta,
    loaded: Loaded,
    generation: u64,
    stale: Arc<std::sync::atomic::AtomicBool>,
) -> mpsc::Sender<DocCmd> {
    let (tx, rx) = mpsc::channel(256);
    let task = DocTask {
        hub,
        meta,
        doc: loaded.doc,
        peers: BTreeMap::new(),
        appended: 0,
        size: loaded.stored_bytes,
        dirty: false,
        stale,
    };
    tokio::spawn(task.run(rx, generation, loaded.stored_heads));
    tx
}

impl DocTask {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<DocCmd>,
        generation: u64,
        stored_heads: Vec<automerge::ChangeHash>,
    ) {
        // A migration on load made changes: store them before anyone sees them.
        if let Err(e) = self.persist_since(&stored_heads).await {
            tracing::warn!(doc = %self.meta.id, error = %e, "could not store migration; unloading");
            self.unload(&mut rx, generation).await;
            return;
        }
        let mut shutdown = self.hub.shutdown.clone();
        loop {
            let idle = self.hub.limits.idle_eviction;
            // Biased (shutdown, then commands, then idleness): one order on every run.
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        if !self.handle(cmd).await {
                            break;
                        }
                        // Work through whatever queued up meanwhile, then tell the other
                        // connections once: under a burst of edits every peer gets one
                        // message with all of them instead of one per edit.
                        let mut alive = true;
                        for _ in 0..64 {
                            match rx.try_recv() {
                                Ok(cmd) => {
                                    if !self.handle(cmd).await {
                                        alive = false;
                                        break;
                                    }
                                }
                                Err(_) => break,
                            }
                        }
                        if !alive {
                            break;
                        }
                        if self.stale.swap(false, std::sync::atomic::Ordering::SeqCst)
                            && !self.read_stored().await
                        {
                            break;
                        }
                        if std::mem::take(&mut self.dirty) {
                            self.fan_out(None);
                        }
                    }
                    None => break,
                },
                _ = tokio::time::sleep(idle), if self.peers.is_empty() => break,
            }
        }
        self.unload(&mut rx, generation).await;
    }

    /// Leaves memory: saves sync states, closes whoever is still attached, and answers
    /// commands that raced with the eviction so their senders retry.
    async fn unload(&mut self, rx: &mut mpsc::Receiver<DocCmd>, generation: u64) {
        {
            let mut docs = self.hub.docs.lock().await;
            if docs
                .get(&self.meta.id)
                .is_some_and(|e| e.generation == generation)
            {
                docs.remove(&self.meta.id);
            }
            self.hub.metrics.documents_loaded.set(docs.len() as i64);
        }
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                DocCmd::Attach { reply, .. } => {
                    let _ = reply.send(Err("retry".into()));
                }
                DocCmd::Merge { reply, .. } => {
                    let _ = reply.send(Err(MergeError::Closing));
                }
                _ => {}
            }
        }
        let conns: Vec<u64> = self.peers.keys().copied().collect();
        for c in conns {
            self.save_sync_state(c).await;
            if let Some(p) = self.peers.remove(&c) {
                let _ = p.out.try_send(Outbound::Close {
                    code: 1001,
                    reason: "relay is shutting down".into(),
                });
            }
        }
    }

    async fn save_sync_state(&self, conn: u64) {
        let Some(p) = self.peers.get(&conn) else {
            return;
        };
        let Some(sid) = &p.storage_id else { return };
        if let Err(e) = self
            .hub
            .storage
            .put_sync_state(self.meta.id, sid, &p.state.encode())
            .await
        {
            self.hub
                .metrics
                .storage_errors
                .with_label_values(&["sync_state"])
                .inc();
            tracing::warn!(doc = %self.meta.id, error = %e, "could not save sync state");
        }
    }

    /// Returns false when the task must stop (storage is gone).
    async fn handle(&mut self, cmd: DocCmd) -> bool {
        match cmd {
            DocCmd::Attach {
                conn,
                peer_id,
                storage_id,
                access,
                sender,
                budget,
                out,
                state,
                first,
                reply,
            } => {
                let mut st = match (state, &storage_id) {
                    (Some(s), _) => *s,
                    (None, Some(sid)) => match self.hub.storage.sync_state(self.meta.id, sid).await
                    {
                        Ok(Some(b)) => State::decode(&b).unwrap_or_default(),
                        Ok(None) => State::new(),
                        Err(e) => {
                            self.hub
                                .metrics
                                .storage_errors
                                .with_label_values(&["sync_state"])
                                .inc();
                            let _ = reply.send(Err(format!("storage unavailable: {e}")));
                            return true;
                        }
                    },
                    (None, None) => State::new(),
                };
                st.read_only = access != Access::Write;
                self.peers.insert(
                    conn,
                    Peer {
                        peer_id,
                        storage_id,
                        state: st,
                        access,
                        out,
                        rounds: 0,
                        sender,
                        held: Held::new(budget),
                    },
                );
                let _ = reply.send(Ok(()));
                match first {
                    Some(data) => return self.on_sync(conn, data).await,
                    None => self.send_sync(conn),
                }
                true
            }
            DocCmd::Sync { conn, data } => self.on_sync(conn, data).await,
            DocCmd::Ephemeral { conn, msg } => {
                if let WireMessage::Ephemeral {
                    sender_id,
                    count,
                    session_id,
                    document_id,
                    data,
                    ..
                } = msg
                {
                    for (c, p) in &self.peers {
                        if *c != conn {
                            let m = WireMessage::Ephemeral {
                                sender_id: sender_id.clone(),
                                target_id: p.peer_id.clone(),
                                count,
                                session_id: session_id.clone(),
                                document_id: document_id.clone(),
                                data: data.clone(),
                            };
                            let _ = p.out.try_send(Outbound::Wire(Box::new(m)));
                        }
                    }
                }
                true
            }
            DocCmd::Merge {
                changes,
                sender,
                reply,
            } => {
                let before = self.doc.heads();
                let r = match self.merge(changes) {
                    Ok(applied) if applied.is_empty() => Ok(()),
                    Ok(applied) => match self.check_and_persist(&before, applied, &sender).await {
                        Ok(()) => Ok(()),
                        Err(Rejection::Refused(r)) => Err(MergeError::Refused(r)),
                        Err(Rejection::Close(c)) if c.code == 1011 => Err(MergeError::Storage),
                        Err(Rejection::Close(c)) => Err(MergeError::Invalid(c.reason)),
                    },
                    Err(e) => Err(MergeError::Invalid(e.to_string())),
                };
                match r {
                    Ok(()) => {
                        self.dirty |= self.doc.heads() != before;
                        let _ = reply.send(Ok(()));
                        true
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        self.doc.heads() == before || self.revert().await
                    }
                }
            }
            DocCmd::SetAccess {
                conn,
                access,
                sender,
            } => {
                if let Some(p) = self.peers.get_mut(&conn) {
                    p.access = access;
                    p.sender = sender;
                    p.state.set_read_only(access != Access::Write);
                }
                self.send_sync(conn);
                true
            }
            DocCmd::Detach { conn } => {
                self.save_sync_state(conn).await;
                self.peers.remove(&conn);
                true
            }
            // Done after the batch (see `run`).
            DocCmd::Refresh => true,
            DocCmd::Replaced { new } => {
                let conns: Vec<u64> = self.peers.keys().copied().collect();
                for conn in conns {
                    self.tell_replaced(conn, new);
                }
                false
            }
        }
    }

    /// Reads the changes other nodes stored that this copy lacks (ADR 0025); they go out to
    /// the connections with the batch's fan-out. Everything in memory is stored, so the
    /// stored document holds all of it and merging it in only adds. Returns false (stop the
    /// task; connections retry) when storage cannot be read.
    async fn read_stored(&mut self) -> bool {
        match load(self.hub.storage.as_ref(), self.meta.id).await {
            Ok(mut loaded) => {
                let before = self.doc.heads();
                let merged = self.doc.automerge_mut().merge(loaded.doc.automerge_mut());
                if let Err(e) = merged {
                    tracing::error!(doc = %self.meta.id, error = %e, "could not merge the stored document");
                    return self.revert().await;
                }
                self.size = loaded.stored_bytes;
                self.dirty |= self.doc.heads() != before;
                true
            }
            Err(_) => self.revert().await,
        }
    }

    fn close_peer(&mut self, conn: u64, code: u16, reason: &str, limit: Option<&str>) {
        if let Some(l) = limit {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&[l])
                .inc();
        }
        if let Some(p) = self.peers.remove(&conn) {
            let _ = p.out.try_send(Outbound::Close {
                code,
                reason: reason.into(),
            });
        }
    }

    async fn on_sync(&mut self, conn: u64, data: Vec<u8>) -> bool {
        tracing::debug!(doc = %self.meta.id, conn, bytes = data.len(), "sync in");
        let limits = self.hub.limits.clone();
        let started = Instant::now();
        let before = self.doc.heads();
        let Some(peer) = self.peers.get_mut(&conn) else {
            return true;
        };
        let their_heads_before = peer.state.their_heads.clone();
        let am = self.doc.automerge_mut();
        let max = limits.max_changes_per_message;
        let received =
            super::sync::receive_message(am, &mut peer.state, &data, &mut peer.held, max);
        let super::sync::Received {
            carried_changes,
            applied,
        } = match received {
            Ok(received) => received,
            Err(super::sync::Refused::ReadOnly) => {
                self.refuse(conn, &nabo_core::rules::read_only(self.meta.kind));
                return true;
            }
            Err(super::sync::Refused::Close(r)) => {
                self.close_peer(conn, r.code, &r.reason, Some(r.limit));
                // Drop what may have been half-applied by reloading from storage.
                return self.doc.heads() == before || self.revert().await;
            }
        };
        if self.doc.heads() != before {
            let Some(sender) = self.peers.get(&conn).map(|p| p.sender.clone()) else {
                return true;
            };
            match self.check_and_persist(&before, applied, &sender).await {
                Ok(()) => {}
                Err(Rejection::Refused(r)) => {
                    self.refuse(conn, &r);
                    return self.revert().await;
                }
                Err(Rejection::Close(c)) => {
                    self.close_peer(conn, c.code, &c.reason, c.limit);
                    return self.revert().await;
                }
            }
            self.hub
                .metrics
                .merge_seconds
                .observe(started.elapsed().as_secs_f64());
            self.dirty = true;
        }
        // Rounds in which nobody learned anything (Bloom-filter poisoning makes both sides
        // believe the other has changes it lacks, so they keep exchanging filters). A round
        // makes progress when changes flow either way or the peer's heads move; concurrent
        // editing by others always makes progress, so honest peers are never cut off.
        let Some(peer) = self.peers.get_mut(&conn) else {
            return true;
        };
        let mut reply = self.doc.automerge().generate_sync_message(&mut peer.state);
        if let Some(m) = &mut reply {
            super::sync::ask_for_missing(m, self.doc.automerge(), &peer.held);
        }
        let sends_changes = reply.as_ref().is_some_and(|m| !m.changes.is_empty());
        let heads_moved = peer.state.their_heads != their_heads_before;
        if carried_changes || sends_changes || heads_moved || reply.is_none() {
            peer.rounds = 0;
        } else {
            peer.rounds += 1;
        }
        if peer.rounds > limits.max_sync_rounds {
            self.close_peer(
                conn,
                1008,
                &format!(
                    "sync did not converge within {} rounds",
                    limits.max_sync_rounds
                ),
                Some("sync_rounds"),
            );
            return true;
        }
        if let Some(m) = reply {
            self.send(conn, m);
        }
        true
    }

    /// Applies changes sent in one piece (a concurrently created document, a page's edit):
    /// every dependency must be present, nothing is held.
    /// Returns the changes applied.
    fn merge(
        &mut self,
        changes: Vec<automerge::Change>,
    ) -> Result<Vec<automerge::Change>, ReceiveError> {
        let mut held = Held::new(HoldBudget::new(0, 0));
        let am = self.doc.automerge_mut();
        match guarded(|| super::sync::apply(am, &mut held, changes)) {
            Ok(Ok(applied)) => Ok(applied),
            Ok(Err(ReceiveError::Overflow(_))) => Err(ReceiveError::Malformed(
                "changes whose dependencies are missing".into(),
            )),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ReceiveError::Malformed(
                "changes could not be applied".into(),
            )),
        }
    }

    /// Checks `changes`, the changes after `before` (applied to the document, read back
    /// inside the receive path's guard, not yet stored or sent to anyone), with the rules as
    /// made by `sender`, binds their actors to the sender, and stores them.
    async fn check_and_persist(
        &mut self,
        before: &[automerge::ChangeHash],
        changes: Vec<automerge::Change>,
        sender: &Sender,
    ) -> Result<(), Rejection> {
        if changes.len() > self.hub.limits.max_changes_per_message {
            return Err(Rejection::close(
                1008,
                format!(
                    "too many changes in one message (limit {})",
                    self.hub.limits.max_changes_per_message
                ),
                Some("changes_per_message"),
            ));
        }
        let rules = self
            .hub
            .tenant_rules(&self.meta.tenant)
            .await
            .map_err(|e| Rejection::close(1011, self.storage_error("load", e), None))?;
        let children = self
            .hub
            .shift_facts(
                &self.meta.tenant,
                self.meta.kind,
                self.meta.activity.as_deref(),
                &sender.editor,
            )
            .await
            .map_err(|e| Rejection::close(1011, self.storage_error("load", e), None))?;
        nabo_core::rules::check(
            self.doc.automerge(),
            before,
            &changes,
            &sender.editor,
            &rules.context(children),
        )
        .map_err(Rejection::Refused)?;
        if self.doc.recheck().is_err() {
            return Err(Rejection::close(
                1008,
                "changes would make the document invalid",
                Some("invalid_document"),
            ));
        }
        let bytes = self.doc.save_after(before);
        if self.size + bytes.len() > self.hub.limits.max_document_bytes {
            return Err(Rejection::close(
                1009,
                format!(
                    "document too large (limit {} bytes)",
                    self.hub.limits.max_document_bytes
                ),
                Some("document_size"),
            ));
        }
        // Only changes about to be stored bind their actors (a set refused above binds none).
        let actors = nabo_core::rules::device_actors(self.doc.automerge(), &changes);
        match self
            .hub
            .bind_actors(&self.meta.tenant, actors, sender)
            .await
        {
            Ok(()) => {}
            Err(ActorError::Refused(r)) => return Err(Rejection::Refused(r)),
            Err(ActorError::Storage(e)) => {
                return Err(Rejection::close(
                    1011,
                    self.storage_error("actors", e),
                    None,
                ));
            }
        }
        self.append(&bytes)
            .await
            .map_err(|e| Rejection::close(1011, e, None))
    }

    /// The rules refused a connection's changes: it gets an `error` naming the reason and
    /// the document, then `doc-unavailable`, and the document is closed for the rest of the
    /// connection (its later messages for it are ignored; a new connection starts afresh).
    /// Tells a connection the document was rewritten (the message names the new id) and
    /// closes the document for it; its changes since are carried over by the phone.
    fn tell_replaced(&mut self, conn: u64, new: Option<DocumentId>) {
        self.close_with_error(conn, nabo_core::wire::replaced_message(new));
    }

    fn refuse(&mut self, conn: u64, r: &Refusal) {
        self.hub
            .metrics
            .refused_changes
            .with_label_values(&[r.reason.code()])
            .inc();
        // Record keys are pseudonymous ids; the detail carries no content.
        tracing::info!(doc = %self.meta.id, conn, record = %r.record, reason = %r.reason, "changes refused");
        self.close_with_error(conn, format!("refused: {r}"));
    }

    /// Sends a connection an `error` about this document and `doc-unavailable`, detaches it,
    /// and has the connection close the document for the rest of its life.
    fn close_with_error(&mut self, conn: u64, message: String) {
        let Some(p) = self.peers.remove(&conn) else {
            return;
        };
        let document_id = self.meta.id.to_string();
        let _ = p.out.try_send(Outbound::Wire(Box::new(WireMessage::Error {
            sender_id: self.hub.peer_id.clone(),
            target_id: p.peer_id.clone(),
            message,
            document_id: Some(document_id.clone()),
        })));
        let _ = p
            .out
            .try_send(Outbound::Wire(Box::new(WireMessage::DocUnavailable {
                sender_id: self.hub.peer_id.clone(),
                target_id: p.peer_id.clone(),
                document_id,
            })));
        self.hub.tell(conn, super::Control::Refused(self.meta.id));
    }

    /// Stores the changes after `before`. Only after this returns Ok may anyone see them.
    async fn persist_since(&mut self, before: &[automerge::ChangeHash]) -> Result<(), String> {
        if self.doc.heads() == before {
            return Ok(());
        }
        let bytes = self.doc.save_after(before);
        self.append(&bytes).await
    }

    async fn append(&mut self, bytes: &[u8]) -> Result<(), String> {
        let n = self
            .hub
            .storage
            .append(self.meta.id, bytes)
            .await
            .map_err(|e| self.storage_error("append", e))?;
        self.appended = n;
        self.size += bytes.len();
        self.hub.pages.forget(self.meta.id);
        match self.meta.kind {
            DocKind::Tenant | DocKind::Volunteers => {
                self.hub.forget_tenant_rules(&self.meta.tenant)
            }
            DocKind::Activity => {
                if let Some(a) = &self.meta.activity {
                    self.hub.forget_activity_facts(&self.meta.tenant, a);
                }
            }
            _ => {}
        }
        if n >= self.hub.limits.compact_after {
            match self.hub.storage.compact(self.meta.id).await {
                Ok(size) => self.size = size,
                Err(e) => {
                    self.storage_error("compact", e);
                }
            }
        }
        // Keep the registry's title and area in step (an activity renamed or moved, a
        // network renamed). Registers and logs take theirs from their scope.
        if matches!(self.meta.kind, DocKind::Activity | DocKind::Network)
            && let Ok(meta) = crate::meta::derive(&self.doc, self.hub.storage.as_ref()).await
            && (meta.title != self.meta.title
                || meta.area != self.meta.area
                || meta.worker != self.meta.worker)
            && self.hub.storage.update_document(&meta).await.is_ok()
        {
            self.meta = meta;
        }
        Ok(())
    }

    fn storage_error(&self, op: &str, e: crate::storage::StorageError) -> String {
        self.hub
            .metrics
            .storage_errors
            .with_label_values(&[op])
            .inc();
        tracing::error!(doc = %self.meta.id, op, error = %e, "storage error");
        "storage unavailable; retry".into()
    }

    /// Puts the in-memory document back to what is stored (after changes that were applied
    /// but not stored: refused, or storage failed). Returns false (stop the task) if storage
    /// cannot be read: every peer is closed and retries later.
    ///
    /// The other connections' sync states stay: nothing was sent between applying the
    /// changes and this, so no state mentions them (the sender's connection is detached).
    async fn revert(&mut self) -> bool {
        match load(self.hub.storage.as_ref(), self.meta.id).await {
            Ok(loaded) => {
                self.doc = loaded.doc;
                true
            }
            Err(_) => {
                self.hub
                    .metrics
                    .storage_errors
                    .with_label_values(&["load"])
                    .inc();
                let conns: Vec<u64> = self.peers.keys().copied().collect();
                for c in conns {
                    self.close_peer(c, 1011, "storage unavailable; retry", None);
                }
                false
            }
        }
    }

    fn send(&mut self, conn: u64, m: Message) {
        let Some(p) = self.peers.get(&conn) else {
            return;
        };
        let data = m.encode();
        tracing::debug!(doc = %self.meta.id, conn, bytes = data.len(), "sync out");
        self.hub
            .metrics
            .sync_messages
            .with_label_values(&["out"])
            .inc();
        self.hub
            .metrics
            .sync_bytes
            .with_label_values(&["out"])
            .inc_by(data.len() as u64);
        let msg = WireMessage::Sync {
            sender_id: self.hub.peer_id.clone(),
            target_id: p.peer_id.clone(),
            document_id: self.meta.id.to_string(),
            data,
        };
        if p.out.try_send(Outbound::Wire(Box::new(msg))).is_err() {
            // The connection cannot keep up (or is gone): close it; it resyncs on reconnect.
            // (Counted by the outbox.)
            self.close_peer(conn, 1013, "client too slow", None);
        }
    }

    fn send_sync(&mut self, conn: u64) {
        let Some(p) = self.peers.get_mut(&conn) else {
            return;
        };
        if let Some(m) = self.doc.automerge().generate_sync_message(&mut p.state) {
            self.send(conn, m);
        }
    }

    /// Sends the new state to every attached connection except `except`.
    fn fan_out(&mut self, except: Option<u64>) {
        let conns: Vec<u64> = self
            .peers
            .keys()
            .copied()
            .filter(|c| Some(*c) != except)
            .collect();
        for c in conns {
            self.send_sync(c);
        }
    }
}
