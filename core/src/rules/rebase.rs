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
//!
//! [`carry_over`] is the same replay onto a *rewritten* document (erasure, issue 11: the
//! relay made a new document from the old one's current state with a history of one
//! change, [`crate::document::NaboDoc::rewritten`]): a phone that still holds the old
//! document replays the changes the relay never saw onto the new one, and keeps nothing of
//! the old history.

use std::collections::HashSet;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    legacy,
};

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

/// `changes` ordered dependencies first (dependencies outside `changes` count as met).
fn causal(changes: Vec<Change>) -> Vec<Change> {
    let hashes: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut done: HashSet<ChangeHash> = HashSet::new();
    let mut left: Vec<Change> = changes;
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

/// Whether `key` of `obj` holds exactly one value, the scalar `v`.
fn holds(
    tx: &automerge::transaction::Transaction<'_>,
    obj: &ObjId,
    key: &str,
    v: &ScalarValue,
) -> bool {
    match tx.get_all(obj, key) {
        Ok(all) => matches!(all.as_slice(), [(Value::Scalar(s), _)] if s.as_ref() == v),
        Err(_) => false,
    }
}

/// Re-makes the operations of `c` (read in `local`) in `tx`. `Err(())` when an operation has
/// no place in the target: it writes into an object the target does not have (a record
/// removed there, or made by a dropped change), or into a list.
///
/// Three operations are not re-made as they were:
///
/// - a `Make` of a map or table at a key where the target already holds an object of the
///   same type *adopts* it: no new object is made, and the change's later operations (and
///   those of later changes, found by path) write into the existing one;
/// - within the change that adopted an object, a `Put` at a key the adopted object already
///   holds is skipped: those were the initial values of what the phone thought was a new
///   object, written without seeing the target's (a phone that made the document offline
///   re-generates the sessions the relay already has, one of them since cancelled there);
/// - a `Put` of a scalar equal to the one value the key holds is skipped (a key holding
///   conflicting values is written): re-writing the identity (`kind`, `tenant`, `scope`)
///   with the values it has is then no identity change for the rules. Automerge 0.12 makes
///   no operation for such a put either; the rule is kept here so that it does not rest on
///   that.
///
/// For [`rebase`] these change nothing that the rules would have accepted before, except
/// that (1) a record the phone made under the same key as one the relay has (a derived key,
/// e.g. a shift) fills the relay's record instead of replacing it, (2) a container a
/// pending change re-made is adopted instead of the change being refused, and (3) a write
/// of a value that is already there leaves no operation, so that field's history names only
/// whoever wrote the value first.
fn replay_ops(
    c: &Change,
    paths: &mut Paths<'_>,
    tx: &mut automerge::transaction::Transaction<'_>,
) -> Result<(), ()> {
    let decoded = crate::document::guarded(|| c.decode()).map_err(|_| ())?;
    let start = c.start_op().get();
    let actor = c.actor_id().to_hex_string();
    // The objects (as `local` names them) this change made and the target already had.
    let mut adopted: HashSet<String> = HashSet::new();
    for (i, op) in decoded.operations.iter().enumerate() {
        let in_obj = op.obj.to_string();
        let down = paths.down(&in_obj).map_err(|_| ())?;
        let legacy::Key::Map(key) = &op.key else {
            return Err(());
        };
        let mut obj = ROOT;
        for (k, _) in down.iter() {
            match tx.get(&obj, k.as_str()) {
                Ok(Some((Value::Object(ObjType::Map | ObjType::Table), id))) => {
                    obj = id;
                }
                _ => return Err(()),
            }
        }
        let key = key.as_str();
        let fill_only = adopted.contains(&in_obj);
        let done = match &op.action {
            legacy::OpType::Put(v) => {
                let there = tx.get(&obj, key).ok().flatten().is_some();
                if (fill_only && there) || holds(tx, &obj, key, v) {
                    Ok(())
                } else {
                    tx.put(&obj, key, v.clone())
                }
            }
            legacy::OpType::Make(t) => match tx.get(&obj, key) {
                Ok(Some((Value::Object(have), _)))
                    if have == *t && matches!(t, ObjType::Map | ObjType::Table) =>
                {
                    adopted.insert(format!("{}@{actor}", start + i as u64));
                    Ok(())
                }
                _ => tx.put_object(&obj, key, *t).map(|_| ()),
            },
            legacy::OpType::Delete => tx.delete(&obj, key),
            legacy::OpType::Increment(n) => tx.increment(&obj, key, *n),
            legacy::OpType::MarkBegin(_) | legacy::OpType::MarkEnd(_) => return Err(()),
        };
        done.map_err(|_| ())?;
    }
    Ok(())
}

/// Replays `pending` (changes of `local`, dependencies first) onto `remote` under `actor`,
/// each checked as made by `editor`. A change whose operations are all skipped (see
/// [`replay_ops`]) is not committed and counts neither as replayed nor as refused.
fn replay(
    local: &Automerge,
    mut remote: Automerge,
    pending: Vec<Change>,
    actor: ActorId,
    editor: &Editor,
    ctx: &Context<'_>,
) -> Rebased {
    remote.set_actor(actor);
    let mut paths = Paths::new(local);
    let mut replayed = 0;
    let mut refused = Vec::new();
    for c in pending {
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
                "writes into a record the document does not have (removed, or made by a \
                 refused edit)",
            ));
            continue;
        }
        if tx.pending_ops() == 0 {
            tx.rollback();
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

/// Replays the changes `local` has and `remote` lacks onto `remote` under `actor` (a new
/// actor of this device: the refused changes' actor history is left behind), each checked
/// as made by `editor`.
pub fn rebase(
    local: &Automerge,
    remote: Automerge,
    actor: ActorId,
    editor: &Editor,
    ctx: &Context<'_>,
) -> Rebased {
    let pending = causal(remote.get_changes_added(local));
    replay(local, remote, pending, actor, editor, ctx)
}

/// Carries a phone's late edits over to a rewritten document: replays onto `remote` (the
/// new document, [`crate::document::NaboDoc::rewritten`]) the changes of `local` (the
/// phone's copy of the old one) whose hash is not in `known` (the old document's changes
/// when the relay rewrote it), dependencies first, under `actor`, each checked as made by
/// `editor`. Nothing of the old history comes back: the result holds the rewrite's change
/// and the replayed ones. An edit that writes into a record the new document no longer has
/// is dropped and reported in [`Rebased::refused`].
pub fn carry_over(
    local: &Automerge,
    remote: Automerge,
    known: &HashSet<ChangeHash>,
    actor: ActorId,
    editor: &Editor,
    ctx: &Context<'_>,
) -> Rebased {
    let pending = causal(
        local
            .get_changes(&[])
            .into_iter()
            .filter(|c| !known.contains(&c.hash()))
            .collect(),
    );
    replay(local, remote, pending, actor, editor, ctx)
}
