//! Receiving a sync message on the relay.
//!
//! This does what automerge's `SyncDoc::receive_sync_message` does, with one difference:
//! automerge 0.12 trims the "sent hashes" by walking every ancestor of the peer's heads on
//! every message — O(history) per message, which was over half of the relay's CPU in the
//! relay benchmark (docs/benchmarks.md). Here the set is emptied when the peer reports our
//! heads (it then has everything we sent), and otherwise only the peer's heads themselves are
//! removed from it. On one WebSocket connection messages arrive in order, so whatever we sent
//! reaches the peer; keeping a hash a little longer in the set only means we do not send that
//! change twice, which is what the set is for.

use automerge::sync::{Capability, Message, MessageFlags, State};
use automerge::{Automerge, ChangeHash, ReadDoc};

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
    /// Whether part of the message may have been applied before it failed: the caller
    /// reverts the document to its stored state.
    pub revert: bool,
}

/// The relay's receive path for one peer's sync message, before anything is stored: the
/// bytes are decoded within the budget of their size (`nabo_core::untrusted`), the number of
/// changes is limited, and the message is applied (a panic inside Automerge becomes a
/// refusal). Returns whether the message carried changes. The fuzz target `relay_sync`
/// (core/fuzz) drives this function.
pub fn receive_message(
    doc: &mut Automerge,
    state: &mut State,
    data: &[u8],
    max_changes: usize,
) -> Result<bool, Refusal> {
    let refuse = |code, reason: String, limit, revert| Refusal {
        code,
        reason,
        limit,
        revert,
    };
    let msg = match nabo_core::untrusted::sync_message(data) {
        Ok(msg) => msg,
        Err(nabo_core::Error::TooLarge(e)) => {
            return Err(refuse(
                1009,
                format!("sync message: {e}"),
                "decode_budget",
                false,
            ));
        }
        Err(_) => {
            return Err(refuse(
                1008,
                "malformed sync message".into(),
                "malformed",
                false,
            ));
        }
    };
    if msg.changes.len() > max_changes {
        return Err(refuse(
            1008,
            format!("too many changes in one message (limit {max_changes})"),
            "changes_per_message",
            false,
        ));
    }
    let had_changes = !msg.changes.is_empty();
    match nabo_core::document::guarded(|| receive(doc, state, msg)) {
        Ok(Ok(())) => Ok(had_changes),
        // Malformed content, or Automerge failed on it.
        _ => Err(refuse(
            1008,
            "sync message could not be applied".into(),
            "malformed",
            true,
        )),
    }
}

/// Applies `msg` from a peer to `doc` and updates `state`.
fn receive(
    doc: &mut Automerge,
    state: &mut State,
    msg: Message,
) -> Result<(), automerge::AutomergeError> {
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
    let changes_empty = changes.is_empty();
    if !changes_empty && !state.read_only {
        let bytes: Vec<u8> = changes.iter().flat_map(|c| c.iter().copied()).collect();
        doc.load_incremental(&bytes)?;
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
    Ok(())
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

    /// Syncs `a` (using automerge's own receive) with `b` (using ours) to agreement.
    fn sync(a: &mut Automerge, sa: &mut State, b: &mut Automerge, sb: &mut State) -> usize {
        let mut rounds = 0;
        loop {
            let m1 = a.generate_sync_message(sa);
            if let Some(m) = &m1 {
                receive(
                    b,
                    sb,
                    Message::decode(&m.clone().encode()).unwrap_or_else(|_| unreachable!()),
                )
                .unwrap_or_default();
            }
            let m2 = b.generate_sync_message(sb);
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
    fn a_read_only_state_does_not_apply_changes() {
        let mut a = Automerge::new();
        edit(&mut a, "x");
        let mut b = Automerge::new();
        let mut sa = State::new();
        let mut sb = State::new_read_only();
        sync(&mut a, &mut sa, &mut b, &mut sb);
        assert!(b.get_heads().is_empty());
    }
}
