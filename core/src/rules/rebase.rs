//! What a phone does when the relay refused one of its changes: start again from the
//! relay's copy and replay its own pending changes onto it, each checked with the same
//! rules the relay applies.
//!
//! An Automerge change cannot be taken out of a history: every later change of the same
//! device depends on it. So the phone does not keep its history; it takes the relay's copy
//! and re-makes each of its pending changes there, operation by operation, at the same place
//! in the document (the same root key, record key and field — not the same internal object
//! id), with the change's original note and time (so "who marked what, when" stays true).
//! Each re-made change is checked with [`super::check`]; one the rules refuse is dropped and
//! reported, and so is one that writes into an object only a dropped change made. Everything
//! else — the valid edits made before and after the refused one — survives.

use std::collections::HashSet;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ChangeHash, ROOT, ReadDoc, Value, legacy};

use super::paths::Paths;
use super::{Context, Editor, Refusal, change_refusal, check};
use crate::error::Reason;

/// The relay's copy with the phone's pending changes replayed onto it.
#[derive(Debug)]
pub struct Rebased {
    /// The document to keep.
    pub doc: Automerge,
    /// Pending changes re-made on the relay's copy.
    pub replayed: usize,
    /// Pending changes dropped, with the reason (the first is usually what the relay
    /// refused).
    pub refused: Vec<Refusal>,
}

/// The changes of `local` that `remote` lacks, dependencies first.
fn pending(local: &Automerge, remote: &Automerge) -> Vec<Change> {
    let added = remote.get_changes_added(local);
    let hashes: HashSet<ChangeHash> = added.iter().map(Change::hash).collect();
    let mut done: HashSet<ChangeHash> = HashSet::new();
    let mut left: Vec<Change> = added;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let (ready, rest): (Vec<Change>, Vec<Change>) = left.into_iter().partition(|c| {
            c.deps()
                .iter()
                .all(|d| !hashes.contains(d) || done.contains(d))
        });
        if ready.is_empty() {
            // Not possible for a well-formed history; keep the rest in the found order.
            out.extend(rest);
            break;
        }
        for c in &ready {
            done.insert(c.hash());
        }
        out.extend(ready);
        left = rest;
    }
    out
}

/// Re-makes the operations of `c` (read in `local`) in `tx`. `Err(())` when an operation has
/// no place in the target: it writes into an object a dropped change made, or into a list.
fn replay_ops(
    c: &Change,
    paths: &mut Paths<'_>,
    tx: &mut automerge::transaction::Transaction<'_>,
) -> Result<(), ()> {
    let decoded = crate::document::guarded(|| c.decode()).map_err(|_| ())?;
    for op in &decoded.operations {
        let down = paths.down(&op.obj.to_string()).map_err(|_| ())?;
        let legacy::Key::Map(key) = &op.key else {
            return Err(());
        };
        let mut obj = ROOT;
        for (k, _) in down.iter() {
            match tx.get(&obj, k.as_str()) {
                Ok(Some((
                    Value::Object(automerge::ObjType::Map | automerge::ObjType::Table),
                    id,
                ))) => {
                    obj = id;
                }
                _ => return Err(()),
            }
        }
        let key = key.as_str();
        let done = match &op.action {
            legacy::OpType::Put(v) => tx.put(&obj, key, v.clone()),
            legacy::OpType::Make(t) => tx.put_object(&obj, key, *t).map(|_| ()),
            legacy::OpType::Delete => tx.delete(&obj, key),
            legacy::OpType::Increment(n) => tx.increment(&obj, key, *n),
            legacy::OpType::MarkBegin(_) | legacy::OpType::MarkEnd(_) => return Err(()),
        };
        done.map_err(|_| ())?;
    }
    Ok(())
}

/// Replays the changes `local` has and `remote` lacks onto `remote` under `actor` (a new
/// actor of this device: the refused changes' actor history is left behind), each checked
/// as made by `editor`.
pub fn rebase(
    local: &Automerge,
    mut remote: Automerge,
    actor: ActorId,
    editor: &Editor,
    ctx: &Context<'_>,
) -> Rebased {
    remote.set_actor(actor);
    let mut paths = Paths::new(local);
    let mut replayed = 0;
    let mut refused = Vec::new();
    for c in pending(local, &remote) {
        let mut trial = remote.clone();
        let before = trial.get_heads();
        let mut opts = CommitOptions::default().with_time(c.timestamp());
        if let Some(m) = c.message() {
            opts = opts.with_message(m.to_owned());
        }
        let mut tx = trial.transaction();
        if replay_ops(&c, &mut paths, &mut tx).is_err() {
            tx.rollback();
            refused.push(change_refusal(
                &c,
                Reason::NotFound,
                "writes into a record an edit that was refused made",
            ));
            continue;
        }
        tx.commit_with(opts);
        let changes = trial.get_changes(&before);
        match check(&trial, &before, &changes, editor, ctx) {
            Ok(()) => {
                remote = trial;
                replayed += 1;
            }
            Err(r) => {
                refused.push(r);
            }
        }
    }
    Rebased {
        doc: remote,
        replayed,
        refused,
    }
}
