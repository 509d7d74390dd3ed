//! The document-rewrite path of erasure (issue 11): where sealing a value is not enough
//! because the old value is still in the document's change history (a staff member's name
//! in an old change, a report's blanked text), the relay makes a new document from the
//! *current* state of the old one, with a history of one change. Nothing that was
//! overwritten or deleted in the old document is in the new one's bytes.
//!
//! What "the current state" is follows how Nabo reads a document, not only what Automerge
//! shows:
//!
//! - every value is copied as shown (the winning value of a conflict; the losing values,
//!   which the review would show as conflicts, are dropped: one change cannot hold a
//!   conflict);
//! - a record container (`sessions`, `contacts`, …) that two devices made concurrently is
//!   read by Nabo as the union of the conflicting maps ([`super::Containers`]), so it is
//!   rewritten as one map holding that union (the shown map wins for a key in several);
//! - the schema version is the highest of conflicting writes, as [`super::NaboDoc`] reads it;
//! - text is copied as its characters (Nabo writes no marks or blocks).

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::{Containers, NaboDoc};
use crate::error::{Error, Result};

impl NaboDoc {
    /// A new document (for a new document id, decided by the caller) holding the current
    /// state of this one in exactly one change, made by `actor`, with the message
    /// `rewritten` and the change time `time_ms` (written as given). None of this document's
    /// changes, and nothing they overwrote or deleted, is in it.
    pub fn rewritten(&self, actor: ActorId, time_ms: i64) -> Result<NaboDoc> {
        let src = &self.am;
        let mut am = Automerge::new().with_actor(actor.clone());
        am.transact_with::<_, _, Error, _>(
            |_| {
                CommitOptions::default()
                    .with_message("rewritten".to_owned())
                    .with_time(time_ms)
            },
            |tx| {
                let containers: Vec<&str> = (1..=self.kind.current_schema())
                    .flat_map(|s| self.kind.containers(s).iter().copied())
                    .collect();
                for key in src.keys(ROOT) {
                    if containers.contains(&key.as_str())
                        && let Ok(c) = Containers::of(src, &key)
                    {
                        let into = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
                        copy_union(src, &c, tx, &into)?;
                        continue;
                    }
                    let value = if key == "schema" {
                        highest(src, &key)?
                    } else {
                        src.get(ROOT, key.as_str())?
                    };
                    if let Some((v, id)) = value {
                        put_value(src, v, &id, tx, &ROOT, Place::Key(&key))?;
                    }
                }
                Ok(())
            },
        )
        .map_err(|f| f.error)?;
        NaboDoc::from_automerge(am, actor)
    }
}

/// Where a value goes in the new document.
enum Place<'a> {
    /// A map key.
    Key(&'a str),
    /// A new list element at this index.
    Insert(usize),
}

/// The entries of every conflicting map of a container, each key taken from the last map
/// holding it (the shown one is last).
fn copy_union(src: &Automerge, c: &Containers, tx: &mut Transaction<'_>, to: &ObjId) -> Result<()> {
    let maps: Vec<&ObjId> = c.iter().collect();
    let mut keys: Vec<(String, &ObjId)> = Vec::new();
    for (i, obj) in maps.iter().enumerate() {
        for key in src.keys(*obj) {
            let later = maps[i + 1..]
                .iter()
                .any(|m| src.get(*m, key.as_str()).ok().flatten().is_some());
            if !later {
                keys.push((key, *obj));
            }
        }
    }
    for (key, obj) in keys {
        if let Some((v, id)) = src.get(obj, key.as_str())? {
            put_value(src, v, &id, tx, to, Place::Key(&key))?;
        }
    }
    Ok(())
}

/// The root value among conflicting ones with the highest number (the schema version).
fn highest<'a>(src: &'a Automerge, key: &str) -> Result<Option<(Value<'a>, ObjId)>> {
    let all = src.get_all(ROOT, key)?;
    // As `schema_of` reads it.
    let number = |v: &Value<'_>| match v {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Uint(u) => Some(*u),
            ScalarValue::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        },
        Value::Object(_) => None,
    };
    let best = all
        .iter()
        .filter_map(|(v, id)| number(v).map(|n| (n, v, id)))
        .max_by_key(|(n, _, _)| *n)
        .map(|(_, v, id)| (v.clone(), id.clone()));
    match best {
        Some(b) => Ok(Some(b)),
        None => Ok(src.get(ROOT, key)?),
    }
}

/// Writes `v` (read in `src` with object id `id` when it is an object) at `place` in `to`,
/// objects recursively.
fn put_value(
    src: &Automerge,
    v: Value<'_>,
    id: &ObjId,
    tx: &mut Transaction<'_>,
    to: &ObjId,
    place: Place<'_>,
) -> Result<()> {
    match v {
        Value::Scalar(s) => {
            let s = match s.as_ref() {
                // A counter is recreated at its current value (increments included).
                ScalarValue::Counter(c) => ScalarValue::counter(i64::from(c)),
                other => other.clone(),
            };
            match place {
                Place::Key(k) => tx.put(to, k, s)?,
                Place::Insert(i) => tx.insert(to, i, s)?,
            }
        }
        Value::Object(t) => {
            let made = match place {
                Place::Key(k) => tx.put_object(to, k, t)?,
                Place::Insert(i) => tx.insert_object(to, i, t)?,
            };
            copy_object(src, id, t, tx, &made)?;
        }
    }
    Ok(())
}

/// Copies the contents of `from` (of type `t`, in `src`) into the new empty object `to`.
fn copy_object(
    src: &Automerge,
    from: &ObjId,
    t: ObjType,
    tx: &mut Transaction<'_>,
    to: &ObjId,
) -> Result<()> {
    match t {
        ObjType::Map | ObjType::Table => {
            for key in src.keys(from) {
                if let Some((v, id)) = src.get(from, key.as_str())? {
                    put_value(src, v, &id, tx, to, Place::Key(&key))?;
                }
            }
        }
        ObjType::List => {
            for i in 0..src.length(from) {
                if let Some((v, id)) = src.get(from, i)? {
                    put_value(src, v, &id, tx, to, Place::Insert(i))?;
                }
            }
        }
        ObjType::Text => {
            let s = src.text(from)?;
            if !s.is_empty() {
                tx.splice_text(to, 0, 0, &s)?;
            }
        }
    }
    Ok(())
}
