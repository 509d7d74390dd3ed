//! Schema migrations, run when a document is loaded and after changes arrive by sync.
//!
//! Each step is idempotent and writes nothing when there is nothing to do, because it must
//! also catch data that an older app wrote offline *after* another device already migrated
//! the document (the old app's changes arrive later and are upgraded on arrival).
//!
//! Register v1 → v2: v1 kept a session's roll call inside the session record
//! (`sessions/<sid>/attendance/<pid>`). Cancelling or re-creating a session on one phone while
//! another phone took the roll could hide those marks. v2 keeps marks in their own container
//! keyed `<sid>/<pid>`; the step moves every nested mark there and deletes it from the nested
//! map. The nested map itself stays (empty): an old app offline may still add marks to it,
//! and deleting the map would hide them. When both forms hold a mark for the same child, the
//! one with the later `at` wins.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, Value};

use super::{Author, Containers, DocKind, NaboDoc};
use crate::error::Result;
use crate::model::By;
use crate::model::register::AttendanceMark;
use crate::time::Timestamp;

/// Runs every step needed from `from` and raises the stored schema version.
pub(super) fn migrate(doc: &mut NaboDoc, from: u64) -> Result<()> {
    let kind = doc.kind();
    let target = kind.current_schema();
    let author = Author {
        by: By::System,
        at: Timestamp::now(),
    };
    if kind == DocKind::Register && from < 2 && needs_register_v2(doc)? {
        doc.write(&author, "migrate-register-v2", register_v1_to_v2)?;
    }
    if from < target {
        doc.write(&author, "migrate-schema", |tx| {
            tx.put(ROOT, "schema", target)?;
            Ok(())
        })?;
    }
    Ok(())
}

/// Whether a register still holds v1 content (also true for v1 writes that arrive late).
pub(super) fn needs_register_v2(doc: &NaboDoc) -> Result<bool> {
    let am = doc.automerge();
    if !matches!(
        am.get(ROOT, "attendance")?,
        Some((Value::Object(ObjType::Map), _))
    ) {
        return Ok(true);
    }
    let sessions = Containers::of(am, "sessions")?;
    for c in sessions.iter() {
        for item in am.map_range(c, ..) {
            if let automerge::ValueRef::Object(ObjType::Map) = item.value
                && let Some((Value::Object(ObjType::Map), nested)) =
                    am.get(item.id(), "attendance")?
                && am.length(&nested) > 0
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Re-runs the idempotent steps after a merge or sync (late v1 writes).
pub(super) fn repair(doc: &mut NaboDoc) -> Result<()> {
    if doc.kind() == DocKind::Register && needs_register_v2(doc)? {
        let author = Author {
            by: By::System,
            at: Timestamp::now(),
        };
        doc.write(&author, "migrate-register-v2", register_v1_to_v2)?;
    }
    Ok(())
}

fn register_v1_to_v2(tx: &mut automerge::transaction::Transaction<'_>) -> Result<()> {
    let attendance = match tx.get(ROOT, "attendance")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, "attendance", ObjType::Map)?,
    };
    let sessions = Containers::of(tx, "sessions")?;
    let mut moves = Vec::new();
    for c in sessions.iter() {
        let keys: Vec<String> = tx.keys(c).collect();
        for sid in keys {
            let Some((Value::Object(ObjType::Map), session)) = tx.get(c, sid.as_str())? else {
                continue;
            };
            let Some((Value::Object(ObjType::Map), nested)) = tx.get(&session, "attendance")?
            else {
                continue;
            };
            let pids: Vec<String> = tx.keys(&nested).collect();
            for pid in pids {
                let mark: Option<AttendanceMark> =
                    autosurgeon::hydrate_prop(tx, &nested, pid.as_str()).ok();
                if let Some(mark) = mark {
                    moves.push((format!("{sid}/{pid}"), mark));
                }
                tx.delete(&nested, pid.as_str())?;
            }
        }
    }
    for (key, mark) in moves {
        // A v2 mark (a scalar status) wins unless the v1 mark is later than its change.
        let v2_time = tx.get(&attendance, key.as_str())?.map(|(_, id)| {
            tx.hash_for_opid(&id)
                .and_then(|h| tx.get_change_by_hash(&h))
                .map_or(0, |c| c.timestamp() * 1000)
        });
        if v2_time.is_some_and(|t| t >= mark.at.0) {
            continue;
        }
        tx.put(&attendance, key.as_str(), mark.status.code())?;
    }
    Ok(())
}
