//! Receiving a sync message on the relay.
//!
//! This does what automerge's `SyncDoc::receive_sync_message` does, with two differences:
//!
//! - **Changes whose dependencies are missing are never parked in the document.** Automerge
//!   keeps such changes in a queue inside the document, where they are saved with it
//!   (`save()` keeps orphans) and grow memory without bound while the heads never move.
//!   Here the changes are decoded first ([`decode_changes`]); a change is applied only when
//!   its dependencies are in the document or earlier in the same batch. The others wait in
//!   the connection's [`Held`] queue for this document, bounded in bytes and count across all
//!   the connection's documents ([`HoldBudget`]), and go when the connection closes the
//!   document: they are never stored and never sent to another peer. The relay asks the
//!   peer for what they wait on (`need`), as automerge does for its own queue.
//! - automerge 0.12 trims the "sent hashes" by walking every ancestor of the peer's heads on
//!   every message — O(history) per message, which was over half of the relay's CPU in the
//!   relay benchmark (docs/benchmarks.md). Here the set is emptied when the peer reports our
//!   heads (it then has everything we sent), and otherwise only the peer's heads themselves
//!   are removed from it. On one WebSocket connection messages arrive in order, so whatever
//!   we sent reaches the peer; keeping a hash a little longer in the set only means we do not
//!   send that change twice, which is what the set is for.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use automerge::sync::{Capability, ChunkList, Message, MessageFlags, State};
use automerge::{Automerge, Change, ChangeHash, ReadDoc};

/// What each held change costs beyond its bytes (the decoded change's bookkeeping).
const HELD_OVERHEAD: usize = 256;

/// Why a sync message was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReceiveError {
    /// The changes do not decode, or Automerge refused them.
    #[error("{0}")]
    Malformed(String),
    /// Too many changes wait for missing dependencies on this connection.
    #[error("{0}")]
    Overflow(String),
    /// More changes in one message than the limit.
    #[error("too many changes in one message (limit {0})")]
    TooMany(usize),
    /// Changes the relay lacks, from a peer that may only read the document.
    #[error("changes to a document the sender may only read")]
    ReadOnly,
}

/// The header every Automerge chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The Automerge chunks one after another in `bytes` (a V2 sync message sends its changes
/// as one entry): each is the magic bytes, a checksum, a type byte, a LEB128 length and
/// that many bytes.
fn split_chunks(bytes: &[u8]) -> Result<Vec<&[u8]>, ReceiveError> {
    let bad = || ReceiveError::Malformed("not an Automerge chunk".into());
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 9 || rest[..4] != MAGIC {
            return Err(bad());
        }
        let mut after = &rest[9..];
        let len = leb128::read::unsigned(&mut after).map_err(|_| bad())?;
        let header = rest.len() - after.len();
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| header.checked_add(l))
            .filter(|e| *e <= rest.len())
            .ok_or_else(bad)?;
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    Ok(out)
}

/// The changes of a sync message, decoded: change chunks, or a whole document (what a peer
/// sends to a side with no heads). The one place the relay decodes changes from outside
/// bytes, so a bounded decoder can take its place (`faults` branch, `nabo_core::untrusted`).
pub(crate) fn decode_changes(entries: &ChunkList, max: usize) -> Result<Vec<Change>, ReceiveError> {
    let mut out = Vec::new();
    for bytes in entries
        .iter()
        .map(split_chunks)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
    {
        match Change::try_from(bytes) {
            Ok(c) => out.push(c),
            Err(automerge::LoadChangeError::WrongChunkType) => {
                let doc = nabo_core::document::load_automerge(bytes).map_err(|_| {
                    ReceiveError::Malformed("a document chunk does not load".into())
                })?;
                out.extend(doc.get_changes(&[]));
            }
            Err(e) => {
                return Err(ReceiveError::Malformed(format!(
                    "a change does not decode: {e}"
                )));
            }
        }
        if out.len() > max {
            return Err(ReceiveError::TooMany(max));
        }
    }
    Ok(out)
}

/// What one connection may hold, across its documents, of changes waiting for their
/// dependencies.
#[derive(Debug)]
pub struct HoldBudget {
    used: Mutex<(usize, usize)>,
    max_bytes: usize,
    max_changes: usize,
}

impl HoldBudget {
    /// A budget of `max_bytes` (each change costs its size plus a fixed overhead) and
    /// `max_changes`.
    pub fn new(max_bytes: usize, max_changes: usize) -> Arc<Self> {
        Arc::new(HoldBudget {
            used: Mutex::new((0, 0)),
            max_bytes,
            max_changes,
        })
    }

    fn take(&self, bytes: usize, changes: usize) -> bool {
        let Ok(mut u) = self.used.lock() else {
            return false;
        };
        if u.0 + bytes > self.max_bytes || u.1 + changes > self.max_changes {
            return false;
        }
        u.0 += bytes;
        u.1 += changes;
        true
    }

    fn give(&self, bytes: usize, changes: usize) {
        if let Ok(mut u) = self.used.lock() {
            u.0 = u.0.saturating_sub(bytes);
            u.1 = u.1.saturating_sub(changes);
        }
    }

    /// Bytes and changes held now (for tests).
    pub fn used(&self) -> (usize, usize) {
        self.used.lock().map(|u| *u).unwrap_or_default()
    }
}

/// The changes one connection sent for one document that wait for their dependencies.
/// Dropped (and its budget returned) when the connection closes the document.
#[derive(Debug)]
pub struct Held {
    changes: Vec<Change>,
    cost: usize,
    budget: Arc<HoldBudget>,
}

fn cost(c: &Change) -> usize {
    c.raw_bytes().len() + HELD_OVERHEAD
}

impl Held {
    pub fn new(budget: Arc<HoldBudget>) -> Self {
        Held {
            changes: Vec::new(),
            cost: 0,
            budget,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn clear(&mut self) -> Vec<Change> {
        self.budget.give(self.cost, self.changes.len());
        self.cost = 0;
        std::mem::take(&mut self.changes)
    }

    /// Takes `incoming`, and returns, in an order Automerge can apply, every held or incoming
    /// change whose dependencies are in `doc` or among the returned ones. The rest is held;
    /// more than the connection's budget is an error (and nothing is held).
    pub(crate) fn admit(
        &mut self,
        doc: &Automerge,
        incoming: Vec<Change>,
    ) -> Result<Vec<Change>, ReceiveError> {
        let mut pool: Vec<Change> = self.clear();
        pool.extend(incoming);
        let mut present: HashMap<ChangeHash, bool> = HashMap::new();
        let mut has = |h: &ChangeHash| *present.entry(*h).or_insert_with(|| in_doc(doc, h));
        // New changes only, each once.
        let mut seen = HashSet::new();
        pool.retain(|c| seen.insert(c.hash()) && !has(&c.hash()));
        // Kahn's algorithm over the pool: a change is ready when every dependency is in the
        // document or ready before it.
        let index: HashMap<ChangeHash, usize> = pool
            .iter()
            .enumerate()
            .map(|(i, c)| (c.hash(), i))
            .collect();
        let mut waiting = vec![0usize; pool.len()];
        let mut blocked = vec![false; pool.len()];
        let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, c) in pool.iter().enumerate() {
            for d in c.deps() {
                if has(d) {
                    continue;
                }
                match index.get(d) {
                    Some(j) => {
                        waiting[i] += 1;
                        dependents.entry(*j).or_default().push(i);
                    }
                    None => blocked[i] = true,
                }
            }
        }
        let mut queue: VecDeque<usize> = (0..pool.len())
            .filter(|i| waiting[*i] == 0 && !blocked[*i])
            .collect();
        let mut order = Vec::with_capacity(pool.len());
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for j in dependents.remove(&i).unwrap_or_default() {
                waiting[j] -= 1;
                if waiting[j] == 0 && !blocked[j] {
                    queue.push_back(j);
                }
            }
        }
        let mut slots: Vec<Option<Change>> = pool.into_iter().map(Some).collect();
        let ready: Vec<Change> = order.iter().filter_map(|i| slots[*i].take()).collect();
        let rest: Vec<Change> = slots.into_iter().flatten().collect();
        let rest_cost: usize = rest.iter().map(cost).sum();
        if !rest.is_empty() && !self.budget.take(rest_cost, rest.len()) {
            return Err(ReceiveError::Overflow(format!(
                "too many changes waiting for missing dependencies (limit {} bytes, {} changes per connection)",
                self.budget.max_bytes, self.budget.max_changes
            )));
        }
        self.cost = rest_cost;
        self.changes = rest;
        Ok(ready)
    }

    /// What the held changes wait for: their dependencies that are neither in `doc` nor
    /// held.
    pub(crate) fn missing(&self, doc: &Automerge) -> Vec<ChangeHash> {
        let held: HashSet<ChangeHash> = self.changes.iter().map(Change::hash).collect();
        let mut out: Vec<ChangeHash> = self
            .changes
            .iter()
            .flat_map(|c| c.deps().iter().copied())
            .filter(|d| !held.contains(d) && !in_doc(doc, d))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.give(self.cost, self.changes.len());
    }
}

/// Whether `doc` has the change (the relay's documents never park changes, so a hash that
/// is not missing is applied).
fn in_doc(doc: &Automerge, h: &ChangeHash) -> bool {
    doc.get_missing_deps(&[*h]).is_empty()
}

/// Applies `msg` from a peer to `doc` and updates `state`; changes whose dependencies are
/// missing go to `held` (at most `max_changes` decoded per message).
/// Why the relay refuses a peer's sync message: the close code, the reason sent to the peer
/// and the limit it is counted under (`nabo_limit_violations_total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// WebSocket close code.
    pub code: u16,
    /// Reason sent to the peer.
    pub reason: String,
    /// Metric label.
    pub limit: &'static str,
}

/// Why [`receive_message`] did not take a peer's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The connection is closed for it.
    Close(Refusal),
    /// The peer may only read the document and sent changes the relay lacks: refused like
    /// a change the rules refuse (the document closes for that connection), nothing applied.
    ReadOnly,
}

/// What one accepted sync message did.
#[derive(Debug)]
pub struct Received {
    /// The message carried changes (new or not): the peer is still sending.
    pub carried_changes: bool,
    /// The changes it applied, in the order Automerge reads them back: what the relay checks
    /// with the rules and stores. Empty when the heads did not move.
    pub applied: Vec<Change>,
}

/// The relay's receive path for one peer's sync message, before anything is stored: the
/// bytes are decoded within the budget of their size (`nabo_core::untrusted`), the number of
/// changes is limited, and the message is applied with changes whose dependencies are
/// missing held in `held` (a panic inside Automerge becomes a refusal). On a refusal part of
/// the message may have been applied: the caller reverts to its stored state if the heads
/// moved. `DocTask` and the fuzz target `sync_message` (core/fuzz) both call this.
pub fn receive_message(
    doc: &mut Automerge,
    state: &mut State,
    data: &[u8],
    held: &mut Held,
    max_changes: usize,
) -> Result<Received, Refused> {
    let refuse = |code, reason: String, limit| {
        Refused::Close(Refusal {
            code,
            reason,
            limit,
        })
    };
    let msg = match nabo_core::untrusted::sync_message(data) {
        Ok(msg) => msg,
        Err(nabo_core::Error::TooLarge(e)) => {
            return Err(refuse(1009, format!("sync message: {e}"), "decode_budget"));
        }
        Err(_) => return Err(refuse(1008, "malformed sync message".into(), "malformed")),
    };
    if msg.changes.len() > max_changes {
        let e = ReceiveError::TooMany(max_changes);
        return Err(refuse(1008, e.to_string(), "changes_per_message"));
    }
    let carried_changes = !msg.changes.is_empty();
    match nabo_core::document::guarded(|| receive(doc, state, msg, held, max_changes)) {
        Ok(Ok(applied)) => Ok(Received {
            carried_changes,
            applied,
        }),
        Ok(Err(ReceiveError::Overflow(reason))) => Err(refuse(1008, reason, "held_changes")),
        Ok(Err(e @ ReceiveError::TooMany(_))) => {
            Err(refuse(1008, e.to_string(), "changes_per_message"))
        }
        Ok(Err(ReceiveError::ReadOnly)) => Err(Refused::ReadOnly),
        Ok(Err(ReceiveError::Malformed(reason))) => Err(refuse(
            1008,
            format!("sync message could not be applied: {reason}"),
            "malformed",
        )),
        Err(_) => Err(refuse(
            1008,
            "sync message could not be applied".into(),
            "malformed",
        )),
    }
}

pub(crate) fn receive(
    doc: &mut Automerge,
    state: &mut State,
    msg: Message,
    held: &mut Held,
    max_changes: usize,
) -> Result<Vec<Change>, ReceiveError> {
    state.in_flight = false;
    let before = doc.get_heads();
    let Message {
        heads,
        need,
        have,
        changes,
        flags,
        ..
    } = msg;
    if let Some(flags) = flags {
        // A peer that sends flags speaks V2 messages.
        let mut caps = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            caps.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(caps);
        if flags.contains(MessageFlags::SYNC_RESET) {
            state.sent_hashes.clear();
        }
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }
    if let Some(bad) = have.iter().find_map(|h| bloom_refusal(&h.bloom)) {
        return Err(ReceiveError::Malformed(bad.into()));
    }
    let changes_empty = changes.is_empty();
    let mut applied = Vec::new();
    let incoming = if changes_empty {
        Vec::new()
    } else {
        decode_changes(&changes, max_changes)?
    };
    if state.read_only {
        // A reader has nothing the relay lacks: its heads come from here. Heads the relay
        // does not know are edits it made (a client that honours the read-only flag keeps
        // them and sends none), and changes the relay lacks are such edits sent anyway; both
        // are writes it may not make. Changes the relay has (a stale sync state) are not.
        if heads.iter().any(|h| !in_doc(doc, h)) || incoming.iter().any(|c| !in_doc(doc, &c.hash()))
        {
            return Err(ReceiveError::ReadOnly);
        }
    } else if !changes_empty {
        applied = apply(doc, held, incoming)?;
        let after = doc.get_heads();
        state.shared_heads = advance_heads(&before, &after, &state.shared_heads);
    }
    let mut their: Vec<ChangeHash> = heads.clone();
    their.sort();
    their.dedup();
    if their == doc.get_heads() {
        state.sent_hashes.clear();
    } else {
        for h in &heads {
            state.sent_hashes.remove(h);
        }
    }
    if changes_empty && heads == before {
        state.last_sent_heads.clone_from(&heads);
    }
    let known: Vec<ChangeHash> = heads
        .iter()
        .filter(|h| doc.get_missing_deps(&[**h]).is_empty())
        .copied()
        .collect();
    if known.len() == heads.len() {
        state.shared_heads.clone_from(&heads);
        // The peer lost all its data: start a full resync.
        if heads.is_empty() {
            state.last_sent_heads = Vec::new();
            state.sent_hashes.clear();
        }
    } else {
        let mut shared: Vec<ChangeHash> = state
            .shared_heads
            .iter()
            .chain(known.iter())
            .copied()
            .collect();
        shared.sort();
        shared.dedup();
        state.shared_heads = shared;
    }
    state.their_have = Some(have);
    state.their_heads = Some(heads);
    state.their_need = Some(need);
    Ok(applied)
}

/// Why a peer's Bloom filter (a `have` of its sync message) would break Automerge 0.12 when the
/// relay answers, or None. It reads `entries, bits per entry, probes` (LEB128) and the bits
/// as automerge encodes them. Found by the `sync_message` fuzz target on 2026-12-06
/// (core/tests/fixtures/fuzz-sync/bloom-zero-bits): entries with zero bits make the answer
/// divide by zero; and a huge probe count would make it allocate that many probes.
fn bloom_refusal(bloom: &automerge::sync::BloomFilter) -> Option<&'static str> {
    /// Automerge writes 7; anything near it is fine, billions are an attack.
    const MAX_PROBES: u64 = 64;
    let bytes = bloom.to_bytes();
    let mut rest = bytes.as_slice();
    let mut next = || -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let (&b, tail) = rest.split_first()?;
            rest = tail;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    if bytes.is_empty() {
        return None;
    }
    let (Some(entries), Some(bits_per_entry), Some(probes)) = (next(), next(), next()) else {
        return Some("a Bloom filter's header does not decode");
    };
    if entries > 0 && (bits_per_entry == 0 || rest.is_empty()) {
        return Some("a Bloom filter with entries and no bits");
    }
    if probes > MAX_PROBES {
        return Some("a Bloom filter with too many probes");
    }
    None
}

/// The heads both sides share after we applied the peer's changes: our new heads that came
/// from them, plus the old shared heads that are still heads.
fn advance_heads(
    before: &[ChangeHash],
    after: &[ChangeHash],
    shared: &[ChangeHash],
) -> Vec<ChangeHash> {
    let mut out: Vec<ChangeHash> = after
        .iter()
        .filter(|h| !before.contains(h))
        .copied()
        .collect();
    out.extend(shared.iter().filter(|h| after.contains(h)).copied());
    out.sort();
    out.dedup();
    out
}

/// Asks the peer, in `reply`, for what the held changes wait on (automerge asks for what its
/// own queue waits on; the relay keeps that queue outside the document).
pub(crate) fn ask_for_missing(reply: &mut Message, doc: &Automerge, held: &Held) {
    if held.is_empty() {
        return;
    }
    let mut need = std::mem::take(&mut reply.need);
    need.extend(held.missing(doc));
    need.sort();
    need.dedup();
    reply.need = need;
}

/// Applies the changes of `incoming` (and of `held`) whose dependencies are present; the
/// others wait in `held`.
///
/// Returns the changes this applied, read back from the document: what the relay checks
/// with the rules and stores. Automerge 0.12 accepts some change sets it then cannot read
/// back (a dependency missing from its change graph: a panic in `get_changes`, found by the
/// `sync_message` fuzz target on 2026-12-06, input in
/// core/tests/fixtures/fuzz-sync/missing-dep). Reading them here, inside the caller's
/// `guarded`, refuses such a set as malformed instead of killing the document's task later.
pub(crate) fn apply(
    doc: &mut Automerge,
    held: &mut Held,
    incoming: Vec<Change>,
) -> Result<Vec<Change>, ReceiveError> {
    let ready = held.admit(doc, incoming)?;
    if ready.is_empty() {
        return Ok(Vec::new());
    }
    let before = doc.get_heads();
    doc.apply_changes(ready)
        .map_err(|e| ReceiveError::Malformed(e.to_string()))?;
    if !doc.get_missing_deps(&[]).is_empty() {
        // Not possible when every dependency was present; never keep a parked change.
        return Err(ReceiveError::Malformed(
            "changes were parked in the document".into(),
        ));
    }
    if doc.get_heads() == before {
        return Ok(Vec::new());
    }
    Ok(doc.get_changes(&before))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;

    fn edit(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, key, 1).unwrap_or_default();
        tx.commit();
    }

    fn held() -> Held {
        Held::new(HoldBudget::new(1 << 20, 100))
    }

    /// Syncs `a` (using automerge's own receive) with `b` (using ours) to agreement.
    fn sync(a: &mut Automerge, sa: &mut State, b: &mut Automerge, sb: &mut State) -> usize {
        sync_holding(a, sa, b, sb, &mut held())
    }

    fn sync_holding(
        a: &mut Automerge,
        sa: &mut State,
        b: &mut Automerge,
        sb: &mut State,
        hb: &mut Held,
    ) -> usize {
        let mut rounds = 0;
        loop {
            let m1 = a.generate_sync_message(sa);
            if let Some(m) = &m1 {
                receive(
                    b,
                    sb,
                    Message::decode(&m.clone().encode()).unwrap_or_else(|_| unreachable!()),
                    hb,
                    1000,
                )
                .unwrap_or_else(|e| panic!("{e}"));
            }
            let mut m2 = b.generate_sync_message(sb);
            if let Some(m) = &mut m2 {
                ask_for_missing(m, b, hb);
            }
            if let Some(m) = &m2 {
                a.receive_sync_message(
                    sa,
                    Message::decode(&m.clone().encode()).unwrap_or_else(|_| unreachable!()),
                )
                .unwrap_or_default();
            }
            rounds += 1;
            if (m1.is_none() && m2.is_none()) || rounds > 50 {
                return rounds;
            }
        }
    }

    #[test]
    fn converges_like_automerge_with_concurrent_edits_on_both_sides() {
        let mut a = Automerge::new();
        let mut b = Automerge::new();
        let (mut sa, mut sb) = (State::new(), State::new());
        for round in 0..20 {
            for i in 0..(round % 4) {
                edit(&mut a, &format!("a{round}-{i}"));
            }
            for i in 0..(round % 3) {
                edit(&mut b, &format!("b{round}-{i}"));
            }
            let rounds = sync(&mut a, &mut sa, &mut b, &mut sb);
            assert!(rounds < 10, "round {round} took {rounds}");
            assert_eq!(a.get_heads(), b.get_heads(), "round {round}");
        }
        assert!(sb.sent_hashes.is_empty());
    }

    #[test]
    fn a_read_only_state_refuses_edits_and_applies_nothing() {
        let mut relay = Automerge::new();
        edit(&mut relay, "x");
        let mut reader = relay.fork();
        edit(&mut reader, "y");
        let edited = reader.get_changes(&relay.get_heads());
        // The reader's first message names heads the relay lacks (its edit).
        let first = reader.generate_sync_message(&mut State::new()).unwrap();
        let mut s = State::new_read_only();
        let r = receive(&mut relay, &mut s, first, &mut held(), 1000);
        assert!(matches!(r, Err(ReceiveError::ReadOnly)), "{r:?}");
        // The edit sent anyway, under the relay's heads: refused too.
        let mut pushed = Message::decode(
            &relay
                .generate_sync_message(&mut State::new())
                .unwrap()
                .encode(),
        )
        .unwrap();
        pushed.changes = ChunkList::from(vec![edited[0].raw_bytes().to_vec()]);
        let r = receive(
            &mut relay,
            &mut State::new_read_only(),
            pushed,
            &mut held(),
            1000,
        );
        assert!(matches!(r, Err(ReceiveError::ReadOnly)), "{r:?}");
        assert_eq!(relay.get_changes(&[]).len(), 1, "nothing applied");
        // A reader in step with the relay, or one sending back what the relay has, is fine.
        let mut peer = relay.fork();
        let mut sr = State::new_read_only();
        sync(&mut peer, &mut State::new(), &mut relay, &mut sr);
        assert_eq!(peer.get_heads(), relay.get_heads());
        let mut again = relay.generate_sync_message(&mut State::new()).unwrap();
        again.changes = ChunkList::from(vec![relay.get_changes(&[])[0].raw_bytes().to_vec()]);
        assert!(
            receive(
                &mut relay,
                &mut State::new_read_only(),
                again,
                &mut held(),
                1000
            )
            .is_ok()
        );
    }

    /// Changes `n` edits on top of `base`, returned in order.
    fn chain(base: &Automerge, n: usize) -> (Automerge, Vec<Change>) {
        let mut d = base.fork();
        let heads = d.get_heads();
        for i in 0..n {
            edit(&mut d, &format!("k{i}"));
        }
        let changes = d.get_changes(&heads);
        (d, changes)
    }

    #[test]
    fn changes_with_missing_dependencies_wait_outside_the_document() {
        let mut relay = Automerge::new();
        edit(&mut relay, "base");
        let (_, changes) = chain(&relay, 3);
        let mut h = held();
        // The second and third arrive first: held, not parked in the document.
        apply(&mut relay, &mut h, changes[1..].to_vec()).unwrap();
        assert_eq!(relay.get_changes(&[]).len(), 1);
        assert!(relay.get_missing_deps(&[]).is_empty(), "nothing parked");
        let saved = relay.save();
        assert_eq!(Automerge::load(&saved).unwrap().get_changes(&[]).len(), 1);
        assert_eq!(h.missing(&relay), vec![changes[0].hash()]);
        assert_eq!(h.budget.used().1, 2);
        // The first arrives: all three are applied, nothing is held.
        apply(&mut relay, &mut h, vec![changes[0].clone()]).unwrap();
        assert_eq!(relay.get_changes(&[]).len(), 4);
        assert!(h.is_empty());
        assert_eq!(h.budget.used(), (0, 0));
    }

    #[test]
    fn the_hold_is_bounded_per_connection_and_returned_when_dropped() {
        let mut relay = Automerge::new();
        edit(&mut relay, "base");
        let (_, changes) = chain(&relay, 6);
        let budget = HoldBudget::new(1 << 20, 4);
        let mut one = Held::new(budget.clone());
        let mut two = Held::new(budget.clone());
        apply(&mut relay, &mut one, changes[1..4].to_vec()).unwrap();
        assert_eq!(budget.used().1, 3);
        // Another document of the same connection: the budget is shared.
        let e = apply(&mut relay, &mut two, changes[4..].to_vec()).unwrap_err();
        assert!(matches!(e, ReceiveError::Overflow(_)), "{e}");
        drop(one);
        drop(two);
        assert_eq!(budget.used(), (0, 0));
        assert_eq!(relay.get_changes(&[]).len(), 1);
        // By bytes, too.
        let budget = HoldBudget::new(HELD_OVERHEAD, 100);
        let mut h = Held::new(budget);
        let e = apply(&mut relay, &mut h, changes[1..2].to_vec()).unwrap_err();
        assert!(matches!(e, ReceiveError::Overflow(_)), "{e}");
    }

    #[test]
    fn a_peer_that_skipped_a_change_is_asked_for_it() {
        // The Bloom filter's false positive: the peer believes we have a change and sends
        // only what came after it. The relay holds those and asks for the one it lacks.
        let mut relay = Automerge::new();
        edit(&mut relay, "base");
        let mut phone = relay.fork();
        let (mut sr, mut sp) = (State::new(), State::new());
        sync(&mut phone, &mut sp, &mut relay, &mut sr);
        let (mut phone2, changes) = chain(&phone, 3);
        let mut h = held();
        apply(&mut relay, &mut h, changes[1..].to_vec()).unwrap();
        let rounds = sync_holding(&mut phone2, &mut sp, &mut relay, &mut sr, &mut h);
        assert!(rounds < 10, "{rounds}");
        assert_eq!(relay.get_heads(), phone2.get_heads());
        assert!(h.is_empty());
    }
}
