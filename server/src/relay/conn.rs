//! One WebSocket connection.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use automerge::sync::{State, SyncDoc};
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use nabo_core::document::{DocKind, DocumentId, NaboDoc, guarded};
use nabo_core::wire::{PROTOCOL_V1, PeerMetadata, WireMessage};
use tokio::sync::{mpsc, oneshot};

use super::doc::{DocCmd, Outbound};
use super::outbox::{Outbox, outbox};
use super::sync::{Held, HoldBudget, ReceiveError};
use super::{Control, Hub, Sender};
use crate::acl::{Access, Principal, access};
use crate::storage::{StorageError, now_ms};

/// A document being created by this connection: synced in memory until its root says what it
/// is, then checked, stored and handed to a document task — or dropped.
struct NewDoc {
    doc: automerge::Automerge,
    state: State,
    rounds: u32,
    /// Changes whose dependencies have not arrived yet (never part of `doc`).
    held: Held,
}

struct Attached {
    tx: mpsc::Sender<DocCmd>,
    access: Access,
    kind: DocKind,
}

struct Conn {
    id: u64,
    hub: Arc<Hub>,
    principal: Principal,
    peer_id: Option<String>,
    storage_id: Option<String>,
    // Ordered: re-checked in one order on every run (the simulation's replay).
    docs: BTreeMap<DocumentId, Attached>,
    new_docs: BTreeMap<DocumentId, NewDoc>,
    out_tx: Outbox,
    /// Ephemeral messages allowed now (refilled over time; see `Limits::ephemeral_per_second`).
    ephemeral_budget: EphemeralBudget,
    /// What this connection may hold of changes waiting for their dependencies.
    hold_budget: Arc<HoldBudget>,
    /// Documents whose changes from this connection the rules refused: closed for the rest
    /// of the connection (their messages are ignored).
    refused: HashSet<DocumentId>,
    /// Documents whose sync is in the access log for this connection (once each, ADR 0024).
    logged: HashSet<DocumentId>,
}

/// What ends a connection.
struct Closing {
    code: u16,
    reason: String,
}

impl Closing {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Closing {
            code,
            reason: reason.into(),
        }
    }
}

fn storage_closing(hub: &Hub, e: &StorageError) -> Closing {
    hub.metrics
        .storage_errors
        .with_label_values(&["request"])
        .inc();
    tracing::error!(error = %e, "storage error while serving a connection");
    Closing::new(1011, "storage unavailable; retry")
}

/// Serves one authenticated connection until it closes. `expires` is the access token's
/// expiry (seconds); the connection is closed then with code 4001. `family` is the token's
/// refresh family: logging out or a detected token reuse closes the connection at once.
pub async fn serve(
    hub: Arc<Hub>,
    socket: WebSocket,
    principal: Principal,
    expires: i64,
    family: Option<String>,
) {
    let id = hub.next_id();
    let (ctl_tx, mut ctl_rx) = mpsc::unbounded_channel();
    let (out_tx, mut out_rx) = outbox(
        hub.limits.max_outbound_bytes,
        hub.metrics
            .limit_violations
            .with_label_values(&["outbound_queue"]),
    );
    let closer = out_rx.closer();
    hub.register(id, &principal, family, ctl_tx, out_tx.clone());
    hub.metrics.connections.inc();
    let mut conn = Conn {
        id,
        hub: hub.clone(),
        ephemeral_budget: ephemeral_budget(&hub.limits),
        principal,
        peer_id: None,
        storage_id: None,
        docs: BTreeMap::new(),
        new_docs: BTreeMap::new(),
        out_tx,
        hold_budget: HoldBudget::new(hub.limits.max_held_bytes, hub.limits.max_held_changes),
        refused: HashSet::new(),
        logged: HashSet::new(),
    };
    let (mut sink, mut stream) = socket.split();
    let mut shutdown = hub.shutdown.clone();
    let until_expiry =
        std::time::Duration::from_millis(u64::try_from(expires * 1000 - now_ms()).unwrap_or(0));
    let expiry = tokio::time::sleep(until_expiry);
    tokio::pin!(expiry);

    let closing: Option<Closing> = loop {
        // Biased, in this order: what ends the connection first, then the relay's own
        // messages out, then the peer's frames in (writing before reading more keeps a peer
        // that floods frames from starving its own answers), and the same order on every run
        // (the simulation replays a seed bit for bit; an unbiased select draws at random).
        tokio::select! {
            biased;
            _ = shutdown.changed() => break Some(Closing::new(1001, "relay is shutting down")),
            (code, reason) = closer.closing() => break Some(Closing { code, reason }),
            _ = &mut expiry => break Some(Closing::new(4001, "access token expired")),
            ctl = ctl_rx.recv() => match ctl {
                Some(Control::Reevaluate) => {
                    if let Err(c) = Box::pin(conn.reevaluate()).await {
                        break Some(c);
                    }
                }
                Some(Control::Refused(id)) => {
                    if let Err(c) = conn.close_refused(id) {
                        break Some(c);
                    }
                }
                None => break None,
            },
            out = out_rx.recv() => match out {
                Some(queued) => {
                    // A reader that stops reading blocks this write: whatever else ends the
                    // connection meanwhile (an overflowing queue, revocation, token expiry,
                    // shutdown) must still end it.
                    let (bytes, written) = queued.split();
                    tokio::select! {
                        biased;
                        _ = shutdown.changed() => break Some(Closing::new(1001, "relay is shutting down")),
                        (code, reason) = closer.closing() => break Some(Closing { code, reason }),
                        _ = &mut expiry => break Some(Closing::new(4001, "access token expired")),
                        r = sink.send(WsMessage::Binary(bytes.into())) => {
                            drop(written);
                            if r.is_err() {
                                break None;
                            }
                        }
                    }
                }
                None => break None,
            },
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if let Err(c) = Box::pin(conn.on_frame(&bytes)).await {
                        break Some(c);
                    }
                }
                Some(Ok(WsMessage::Text(_))) => break Some(Closing::new(1003, "binary CBOR frames only")),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                Some(Ok(WsMessage::Close(_))) | None => break None,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("Space limit") || text.contains("too long") || text.contains("size") {
                        hub.metrics.limit_violations.with_label_values(&["message_size"]).inc();
                        break Some(Closing::new(1009, format!("message too large (limit {} bytes)", hub.limits.max_message_bytes)));
                    }
                    break None;
                }
            },
        }
    };
    // The goodbye is best effort and bounded: a peer that does not read gets its socket
    // dropped instead.
    let goodbye = async {
        if let Some(c) = &closing {
            tracing::info!(conn = id, code = c.code, reason = %c.reason, "closing connection");
            let err = WireMessage::Error {
                sender_id: hub.peer_id.clone(),
                target_id: conn.peer_id.clone().unwrap_or_default(),
                message: c.reason.clone(),
                document_id: None,
            };
            let _ = sink.send(WsMessage::Binary(err.encode().into())).await;
            let _ = sink
                .send(WsMessage::Close(Some(CloseFrame {
                    code: c.code,
                    reason: c.reason.clone().into(),
                })))
                .await;
        }
        let _ = sink.close().await;
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, goodbye).await;
    for (_, d) in std::mem::take(&mut conn.docs) {
        let _ = d.tx.send(DocCmd::Detach { conn: id }).await;
    }
    hub.unregister(id);
    hub.metrics.connections.dec();
}

/// How long a closing connection may take to say goodbye.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Ephemeral messages (presence) a connection may send: a token bucket refilled at
/// `Limits::ephemeral_per_second` up to `Limits::ephemeral_burst`.
type EphemeralBudget = governor::DefaultDirectRateLimiter;

fn ephemeral_budget(limits: &super::Limits) -> EphemeralBudget {
    let per_second =
        std::num::NonZeroU32::new(limits.ephemeral_per_second).unwrap_or(std::num::NonZeroU32::MIN);
    let burst =
        std::num::NonZeroU32::new(limits.ephemeral_burst).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::direct(governor::Quota::per_second(per_second).allow_burst(burst))
}

impl Conn {
    fn sender(&self) -> Sender {
        Sender::of(&self.principal)
    }

    /// Closes a document whose changes were refused for the rest of the connection. The
    /// set is bounded like the open documents: a connection refused more often is closed.
    fn close_refused(&mut self, id: DocumentId) -> Result<(), Closing> {
        self.docs.remove(&id);
        self.new_docs.remove(&id);
        self.refused.insert(id);
        if self.refused.len() > self.hub.limits.max_documents_per_connection {
            return Err(Closing::new(
                1008,
                "too many refused documents on this connection",
            ));
        }
        Ok(())
    }

    /// Tells the client that `id` was rewritten (ADR 0037): the `error` names the new id when
    /// the caller may open it, and the old id is closed for the rest of the connection.
    async fn replaced(
        &mut self,
        id: DocumentId,
        r: &crate::storage::Replacement,
    ) -> Result<(), Closing> {
        let new = match self.hub.storage.document(r.new).await {
            Ok(Some(m))
                if r.tenant == self.principal.tenant
                    && access(&self.principal, &m) != Access::None =>
            {
                Some(r.new)
            }
            Ok(_) => None,
            Err(e) => return Err(storage_closing(&self.hub, &e)),
        };
        if new.is_some() {
            let peer = self.peer_id.clone().unwrap_or_default();
            self.send(WireMessage::Error {
                sender_id: self.hub.peer_id.clone(),
                target_id: peer,
                message: nabo_core::wire::replaced_message(new),
                document_id: Some(id.to_string()),
            })?;
        }
        self.unavailable(&id.to_string())?;
        self.close_refused(id)
    }

    /// Tells the client the rules refused its changes to a document not yet stored (as the
    /// document task does for a stored one) and closes it for the rest of the connection.
    fn refuse_new(&mut self, id: DocumentId, r: &nabo_core::rules::Refusal) -> Result<(), Closing> {
        self.hub
            .metrics
            .refused_changes
            .with_label_values(&[r.reason.code()])
            .inc();
        tracing::info!(doc = %id, conn = self.id, record = %r.record, reason = %r.reason, "new document refused");
        let peer = self.peer_id.clone().unwrap_or_default();
        self.send(WireMessage::Error {
            sender_id: self.hub.peer_id.clone(),
            target_id: peer,
            message: format!("refused: {r}"),
            document_id: Some(id.to_string()),
        })?;
        self.unavailable(&id.to_string())?;
        self.close_refused(id)
    }

    fn send(&self, m: WireMessage) -> Result<(), Closing> {
        self.out_tx
            .try_send(Outbound::Wire(Box::new(m)))
            .map_err(|_| Closing::new(1013, "client too slow"))
    }

    /// Relays an ephemeral message (presence) to the document's other connections, within
    /// the limits: a size cap, a rate per connection (excess is dropped and counted), and
    /// only where the sender may write or the document allows presence from readers
    /// (`acl::may_send_ephemeral`).
    fn on_ephemeral(&mut self, m: WireMessage) -> Result<(), Closing> {
        let WireMessage::Ephemeral {
            document_id, data, ..
        } = &m
        else {
            return Ok(());
        };
        let limits = &self.hub.limits;
        if data.len() > limits.max_ephemeral_bytes {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["ephemeral_size"])
                .inc();
            return Err(Closing::new(
                1009,
                format!(
                    "ephemeral message too large (limit {} bytes)",
                    limits.max_ephemeral_bytes
                ),
            ));
        }
        let Some(d) = DocumentId::parse(document_id)
            .ok()
            .and_then(|id| self.docs.get(&id))
        else {
            return Ok(());
        };
        if !crate::acl::may_send_ephemeral(d.access, d.kind) {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["ephemeral_read_only"])
                .inc();
            return Ok(());
        }
        if self.ephemeral_budget.check().is_err() {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["ephemeral_rate"])
                .inc();
            return Ok(());
        }
        let _ = d.tx.try_send(DocCmd::Ephemeral {
            conn: self.id,
            msg: m,
        });
        Ok(())
    }

    fn unavailable(&self, document_id: &str) -> Result<(), Closing> {
        self.send(WireMessage::DocUnavailable {
            sender_id: self.hub.peer_id.clone(),
            target_id: self.peer_id.clone().unwrap_or_default(),
            document_id: document_id.to_owned(),
        })
    }

    async fn on_frame(&mut self, bytes: &[u8]) -> Result<(), Closing> {
        let hub = self.hub.clone();
        if bytes.len() > hub.limits.max_message_bytes {
            hub.metrics
                .limit_violations
                .with_label_values(&["message_size"])
                .inc();
            return Err(Closing::new(
                1009,
                format!(
                    "message too large (limit {} bytes)",
                    hub.limits.max_message_bytes
                ),
            ));
        }
        hub.metrics.sync_messages.with_label_values(&["in"]).inc();
        hub.metrics
            .sync_bytes
            .with_label_values(&["in"])
            .inc_by(bytes.len() as u64);
        let msg = WireMessage::decode(bytes)
            .map_err(|e| Closing::new(1008, format!("malformed message: {e}")))?;
        tracing::debug!(conn = self.id, kind = msg.kind(), "frame in");
        if let WireMessage::Join {
            sender_id,
            peer_metadata,
            supported_protocol_versions,
        } = msg
        {
            return self.on_join(sender_id, peer_metadata, &supported_protocol_versions);
        }
        let Some(peer_id) = self.peer_id.clone() else {
            return Err(Closing::new(1008, "send join first"));
        };
        let sender = match &msg {
            WireMessage::Request { sender_id, .. }
            | WireMessage::Sync { sender_id, .. }
            | WireMessage::Ephemeral { sender_id, .. } => Some(sender_id),
            _ => None,
        };
        if sender.is_some_and(|s| *s != peer_id) {
            return Err(Closing::new(
                1008,
                "sender id does not match the joined peer",
            ));
        }
        match msg {
            WireMessage::Request {
                document_id, data, ..
            } => self.on_doc_message(&document_id, data, false).await,
            WireMessage::Sync {
                document_id, data, ..
            } => self.on_doc_message(&document_id, data, true).await,
            m @ WireMessage::Ephemeral { .. } => self.on_ephemeral(m),
            WireMessage::Error { .. }
            | WireMessage::DocUnavailable { .. }
            | WireMessage::Unknown { .. }
            | WireMessage::Peer { .. } => Ok(()),
            WireMessage::Join { .. } => Ok(()),
        }
    }

    fn on_join(
        &mut self,
        sender_id: String,
        meta: PeerMetadata,
        versions: &[String],
    ) -> Result<(), Closing> {
        if !versions.iter().any(|v| v == PROTOCOL_V1) {
            return Err(Closing::new(
                1002,
                "unsupported protocol version; this relay speaks \"1\"",
            ));
        }
        if sender_id.is_empty() || sender_id.len() > 128 {
            return Err(Closing::new(1008, "invalid peer id"));
        }
        if let Some(bound) = &self.peer_id
            && bound != &sender_id
        {
            return Err(Closing::new(
                1008,
                "peer id already bound on this connection",
            ));
        }
        self.peer_id = Some(sender_id.clone());
        self.storage_id = match meta.is_ephemeral {
            Some(true) => None,
            _ => meta.storage_id.filter(|s| !s.is_empty() && s.len() <= 128),
        };
        self.send(WireMessage::Peer {
            sender_id: self.hub.peer_id.clone(),
            target_id: sender_id,
            peer_metadata: PeerMetadata {
                storage_id: Some(self.hub.storage_id.clone()),
                is_ephemeral: Some(false),
            },
            selected_protocol_version: PROTOCOL_V1.into(),
        })
    }

    async fn on_doc_message(
        &mut self,
        document_id: &str,
        data: Vec<u8>,
        has_doc: bool,
    ) -> Result<(), Closing> {
        let Ok(id) = DocumentId::parse(document_id) else {
            return self.unavailable(document_id);
        };
        if self.refused.contains(&id) {
            return Ok(());
        }
        if let Some(d) = self.docs.get(&id) {
            if d.tx
                .send(DocCmd::Sync {
                    conn: self.id,
                    data: data.clone(),
                })
                .await
                .is_ok()
            {
                return Ok(());
            }
            // The document was evicted meanwhile: open it again below.
            self.docs.remove(&id);
        }
        if self.new_docs.contains_key(&id) {
            return self.on_new_doc_message(id, data).await;
        }
        let meta = match self.hub.storage.document(id).await {
            Ok(m) => m,
            Err(e) => return Err(storage_closing(&self.hub, &e)),
        };
        let Some(meta) = meta else {
            // A rewritten document's old id is never served or created again (ADR 0037).
            match self.hub.storage.replacement(id).await {
                Ok(Some(r)) => return self.replaced(id, &r).await,
                Ok(None) => {}
                Err(e) => return Err(storage_closing(&self.hub, &e)),
            }
            if !has_doc {
                // A request for a document that does not exist creates nothing.
                return self.unavailable(document_id);
            }
            if self.new_docs.len() >= self.hub.limits.max_new_documents_per_connection {
                self.hub
                    .metrics
                    .limit_violations
                    .with_label_values(&["new_documents"])
                    .inc();
                return Err(Closing::new(
                    1008,
                    format!(
                        "too many documents being created (limit {})",
                        self.hub.limits.max_new_documents_per_connection
                    ),
                ));
            }
            self.new_docs.insert(
                id,
                NewDoc {
                    doc: automerge::Automerge::new(),
                    state: State::new(),
                    rounds: 0,
                    held: Held::new(self.hold_budget.clone()),
                },
            );
            return self.on_new_doc_message(id, data).await;
        };
        let acc = access(&self.principal, &meta);
        if acc == Access::None {
            return self.unavailable(document_id);
        }
        self.attach(&meta, acc, None, Some(data)).await
    }

    async fn attach(
        &mut self,
        meta: &crate::storage::DocMeta,
        acc: Access,
        state: Option<State>,
        first: Option<Vec<u8>>,
    ) -> Result<(), Closing> {
        if self.docs.len() >= self.hub.limits.max_documents_per_connection {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["documents_per_connection"])
                .inc();
            return Err(Closing::new(
                1008,
                format!(
                    "too many documents open on this connection (limit {})",
                    self.hub.limits.max_documents_per_connection
                ),
            ));
        }
        if !self.logged.contains(&meta.id) {
            // No sync of personal data without its access-log entry (ADR 0024).
            if let Err(e) = crate::access_log::record_sync(
                self.hub.storage.as_ref(),
                &self.principal,
                meta.id,
                meta.kind,
            )
            .await
            {
                return Err(storage_closing(&self.hub, &e));
            }
            self.logged.insert(meta.id);
        }
        let mut state = state;
        let mut first = first;
        for _ in 0..3 {
            let tx = match self.hub.open(meta).await {
                Ok(tx) => tx,
                Err(super::OpenError::Storage(e)) => return Err(storage_closing(&self.hub, &e)),
                Err(super::OpenError::Damaged) => {
                    return Err(Closing::new(1011, "stored document is damaged"));
                }
            };
            let (reply, rx) = oneshot::channel();
            let cmd = DocCmd::Attach {
                conn: self.id,
                peer_id: self.peer_id.clone().unwrap_or_default(),
                storage_id: self.storage_id.clone(),
                access: acc,
                sender: self.sender(),
                budget: self.hold_budget.clone(),
                out: self.out_tx.clone(),
                state: state.take().map(Box::new),
                first: first.take(),
                reply,
            };
            if let Err(mpsc::error::SendError(cmd)) = tx.send(cmd).await {
                if let DocCmd::Attach {
                    state: s, first: f, ..
                } = cmd
                {
                    state = s.map(|b| *b);
                    first = f;
                }
                continue;
            }
            match rx.await {
                Ok(Ok(())) => {
                    self.docs.insert(
                        meta.id,
                        Attached {
                            tx,
                            access: acc,
                            kind: meta.kind,
                        },
                    );
                    return Ok(());
                }
                Ok(Err(e)) if e == "retry" => continue,
                Ok(Err(_)) | Err(_) => {
                    return Err(Closing::new(1011, "storage unavailable; retry"));
                }
            }
        }
        Err(Closing::new(1011, "document could not be opened; retry"))
    }

    async fn on_new_doc_message(&mut self, id: DocumentId, data: Vec<u8>) -> Result<(), Closing> {
        let limits = self.hub.limits.clone();
        if data.len() > limits.max_message_bytes {
            return Err(Closing::new(1009, "message too large"));
        }
        let Some(new) = self.new_docs.get_mut(&id) else {
            return Ok(());
        };
        let msg = match nabo_core::untrusted::sync_message(&data) {
            Ok(msg) => msg,
            Err(nabo_core::Error::TooLarge(e)) => {
                return Err(Closing::new(1009, format!("sync message: {e}")));
            }
            Err(_) => return Err(Closing::new(1008, "malformed sync message")),
        };
        if msg.changes.len() > limits.max_changes_per_message {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["changes_per_message"])
                .inc();
            return Err(Closing::new(
                1008,
                format!(
                    "too many changes in one message (limit {})",
                    limits.max_changes_per_message
                ),
            ));
        }
        let doc = &mut new.doc;
        let state = &mut new.state;
        let held = &mut new.held;
        let max = limits.max_changes_per_message;
        match guarded(|| super::sync::receive(doc, state, msg, held, max)) {
            Ok(Ok(_)) => {}
            Ok(Err(ReceiveError::Overflow(reason))) => {
                self.hub
                    .metrics
                    .limit_violations
                    .with_label_values(&["held_changes"])
                    .inc();
                return Err(Closing::new(1008, reason));
            }
            Ok(Err(e @ ReceiveError::TooMany(_))) => {
                self.hub
                    .metrics
                    .limit_violations
                    .with_label_values(&["changes_per_message"])
                    .inc();
                return Err(Closing::new(1008, e.to_string()));
            }
            // A new document's state is never read-only.
            Ok(Err(ReceiveError::Malformed(_) | ReceiveError::ReadOnly)) | Err(_) => {
                self.new_docs.remove(&id);
                return self.unavailable(&id.to_string());
            }
        }
        if new.doc.get_heads().is_empty() {
            new.rounds += 1;
            if new.rounds > limits.max_sync_rounds {
                self.new_docs.remove(&id);
                return self.unavailable(&id.to_string());
            }
            if let Some(mut m) = new.doc.generate_sync_message(&mut new.state) {
                super::sync::ask_for_missing(&mut m, &new.doc, &new.held);
                let peer = self.peer_id.clone().unwrap_or_default();
                return self.send(WireMessage::Sync {
                    sender_id: self.hub.peer_id.clone(),
                    target_id: peer,
                    document_id: id.to_string(),
                    data: m.encode(),
                });
            }
            return Ok(());
        }
        // The changes arrived: what is it, and may this caller create it?
        let Some(NewDoc { doc, state, .. }) = self.new_docs.remove(&id) else {
            return Ok(());
        };
        let sender = self.sender();
        let Ok(nabo) = NaboDoc::from_automerge(doc, nabo_core::entropy::actor()) else {
            return self.unavailable(&id.to_string());
        };
        let scope_ok = if super::create::derived_id(nabo.kind()) {
            nabo.scope().document_id() == id
        } else {
            true
        };
        if !scope_ok || nabo.scope().tenant() != &self.principal.tenant {
            return self.unavailable(&id.to_string());
        }
        if nabo.save().len() > limits.max_document_bytes {
            self.hub
                .metrics
                .limit_violations
                .with_label_values(&["document_size"])
                .inc();
            return Err(Closing::new(
                1009,
                format!(
                    "document too large (limit {} bytes)",
                    limits.max_document_bytes
                ),
            ));
        }
        use super::create::{CreateError, Created};
        match self
            .hub
            .create_document(&nabo, id, &self.principal, sender)
            .await
        {
            Ok(Created::New(meta)) => self.attach(&meta, Access::Write, Some(state), None).await,
            Ok(Created::Merged(meta)) => self.attach(&meta, Access::Write, None, None).await,
            Err(CreateError::NotPermitted) => self.unavailable(&id.to_string()),
            Err(CreateError::Refused(r)) => self.refuse_new(id, &r),
            Err(CreateError::Storage(e)) => Err(storage_closing(&self.hub, &e)),
            Err(CreateError::Unstored(_)) => Err(Closing::new(1011, "storage unavailable; retry")),
        }
    }

    /// The user's access changed: re-read it and apply it to every open document.
    async fn reevaluate(&mut self) -> Result<(), Closing> {
        let user = match self.hub.storage.user(&self.principal.user_id).await {
            Ok(u) => u,
            Err(e) => return Err(storage_closing(&self.hub, &e)),
        };
        let Some(user) = user.filter(|u| !u.disabled) else {
            return Err(Closing::new(4003, "access revoked"));
        };
        self.principal.role = user.role;
        self.principal.scopes = match self.hub.storage.scopes(&user.id).await {
            Ok(s) => s,
            Err(e) => return Err(storage_closing(&self.hub, &e)),
        };
        let ids: Vec<DocumentId> = self.docs.keys().copied().collect();
        for id in ids {
            let meta = match self.hub.storage.document(id).await {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => return Err(storage_closing(&self.hub, &e)),
            };
            let acc = access(&self.principal, &meta);
            let Some(d) = self.docs.get_mut(&id) else {
                continue;
            };
            if acc == Access::None {
                let _ = d.tx.send(DocCmd::Detach { conn: self.id }).await;
                self.docs.remove(&id);
                self.unavailable(&id.to_string())?;
            } else {
                d.access = acc;
                let _ =
                    d.tx.send(DocCmd::SetAccess {
                        conn: self.id,
                        access: acc,
                        sender: Sender::of(&self.principal),
                    })
                    .await;
            }
        }
        Ok(())
    }
}
