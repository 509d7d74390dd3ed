//! Conflict-aware access to the record containers of a document.
//!
//! A container (`sessions`, `attendance`, …) is a map at the root, made in the skeleton. Two
//! phones that make the same container concurrently (only possible with mixed app versions or
//! a migration that adds a container) produce two maps at the same key; Automerge keeps both
//! and shows one. Nabo reads the *union* of all of them, so no record is hidden, and writes
//! new records into the one Automerge shows.
//!
//! A record written concurrently on two phones is an Automerge conflict at the record's key:
//! one value wins deterministically on every replica, and [`Versions::conflicts`] holds the
//! others so the review can show them.

use std::collections::BTreeMap;

use automerge::{ObjId, ObjType, ROOT, Value};
use autosurgeon::{Hydrate, Reconcile};

use crate::error::{Error, Result};

/// A record as merged: the value every replica shows, and the concurrent values it won over.
#[derive(Debug, Clone, PartialEq)]
pub struct Versions<T> {
    /// The value shown (deterministic on every replica).
    pub current: T,
    /// Concurrent values that lost; empty unless two devices wrote the record concurrently.
    pub conflicts: Vec<T>,
}

impl<T> Versions<T> {
    /// Whether concurrent writes disagree.
    pub fn is_conflicted(&self) -> bool {
        !self.conflicts.is_empty()
    }
}

/// Documents that both Automerge and autosurgeon can read (a document or a transaction).
pub(crate) trait Read: automerge::ReadDoc + autosurgeon::ReadDoc {}
impl<T: automerge::ReadDoc + autosurgeon::ReadDoc> Read for T {}

/// The object ids of a container: every conflicting map at the root key, the shown one last.
#[derive(Debug, Clone)]
pub(crate) struct Containers {
    objs: Vec<ObjId>,
}

impl Containers {
    pub(crate) fn of<D: Read>(doc: &D, key: &str) -> Result<Self> {
        let all = automerge::ReadDoc::get_all(doc, ROOT, key)?;
        let mut objs: Vec<ObjId> = Vec::with_capacity(all.len());
        if all.len() > 1 {
            // Conflicting containers: put the one Automerge shows last.
            let shown = match automerge::ReadDoc::get(doc, ROOT, key)? {
                Some((Value::Object(ObjType::Map), id)) => Some(id),
                _ => None,
            };
            for (v, id) in all {
                if matches!(v, Value::Object(ObjType::Map)) && Some(&id) != shown.as_ref() {
                    objs.push(id);
                }
            }
            objs.extend(shown);
        } else {
            for (v, id) in all {
                if matches!(v, Value::Object(ObjType::Map)) {
                    objs.push(id);
                }
            }
        }
        if objs.is_empty() {
            return Err(Error::Schema(format!("container {key} is missing")));
        }
        Ok(Containers { objs })
    }

    /// The container new records go into.
    pub(crate) fn shown(&self) -> &ObjId {
        // `of` guarantees at least one element.
        &self.objs[self.objs.len() - 1]
    }

    /// The container that holds `key`, preferring the shown one.
    pub(crate) fn holding<D: Read>(&self, doc: &D, key: &str) -> Result<Option<&ObjId>> {
        for obj in self.objs.iter().rev() {
            if automerge::ReadDoc::get(doc, obj, key)?.is_some() {
                return Ok(Some(obj));
            }
        }
        Ok(None)
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &ObjId> {
        self.objs.iter()
    }
}

/// Reads one value (scalar or object) of a document as `T`.
pub(crate) fn hydrate_value<D: Read, T: Hydrate>(
    doc: &D,
    value: Value<'_>,
    id: &ObjId,
) -> Result<T> {
    Ok(match value {
        Value::Object(ObjType::Map | ObjType::Table) => T::hydrate_map(doc, id)?,
        Value::Object(ObjType::List) => T::hydrate_seq(doc, id)?,
        Value::Object(ObjType::Text) => T::hydrate_text(doc, id)?,
        Value::Scalar(s) => T::hydrate_scalar(s)?,
    })
}

/// Reads the record at `key` in `container`, with its concurrent versions.
fn read_at<D: Read, T: Hydrate>(
    doc: &D,
    container: &ObjId,
    key: &str,
) -> Result<Option<Versions<T>>> {
    let Some((shown_value, shown_id)) = automerge::ReadDoc::get(doc, container, key)? else {
        return Ok(None);
    };
    let current: T = hydrate_value(doc, shown_value, &shown_id).map_err(|e| at(key, e))?;
    let mut conflicts = Vec::new();
    for (v, id) in automerge::ReadDoc::get_all(doc, container, key)? {
        if id != shown_id {
            conflicts.push(hydrate_value(doc, v, &id).map_err(|e| at(key, e))?);
        }
    }
    Ok(Some(Versions { current, conflicts }))
}

fn at(key: &str, e: Error) -> Error {
    match e {
        Error::Schema(s) => Error::Schema(format!("{key}: {s}")),
        other => other,
    }
}

/// Reads one record of a container.
pub(crate) fn read_one<D: Read, T: Hydrate>(
    doc: &D,
    container: &str,
    key: &str,
) -> Result<Option<Versions<T>>> {
    let c = Containers::of(doc, container)?;
    match c.holding(doc, key)? {
        Some(obj) => read_at(doc, obj, key),
        None => Ok(None),
    }
}

/// Reads every record of a container (the union over conflicting containers; the shown
/// container wins for a key present in several). Only keys with concurrent values cost an
/// extra lookup.
///
/// A record that does not read as `T` (from older data, or written around the operations)
/// is skipped, and so is a concurrent value that does not: one bad record must not hide
/// the others. [`crate::rules::unreadable`] lists what was skipped, for review.
pub(crate) fn read_all<D: Read, T: Hydrate>(
    doc: &D,
    container: &str,
) -> Result<BTreeMap<String, Versions<T>>> {
    let c = Containers::of(doc, container)?;
    let mut out = BTreeMap::new();
    for obj in c.iter() {
        for item in automerge::ReadDoc::map_range(doc, obj, ..) {
            let key = item.key.to_string();
            let v = if item.conflict {
                match read_lenient(doc, obj, &key)? {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                let current = if matches!(item.value, automerge::ValueRef::Object(_)) {
                    let id = item.id();
                    hydrate_value(doc, item.value.into_value(), &id)
                } else {
                    match item.value.into_value() {
                        Value::Scalar(s) => T::hydrate_scalar(s).map_err(Error::from),
                        Value::Object(_) => Err(Error::Schema("object changed to scalar".into())),
                    }
                };
                match current {
                    Ok(current) => Versions {
                        current,
                        conflicts: Vec::new(),
                    },
                    Err(Error::Automerge(e)) => return Err(Error::Automerge(e)),
                    Err(_) => continue,
                }
            };
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// The values at `key` that read as `T`: the shown one if it reads (else the first
/// concurrent one that does), and the other readable ones as conflicts.
fn read_lenient<D: Read, T: Hydrate>(
    doc: &D,
    container: &ObjId,
    key: &str,
) -> Result<Option<Versions<T>>> {
    let Some((_, shown_id)) = automerge::ReadDoc::get(doc, container, key)? else {
        return Ok(None);
    };
    let mut current = None;
    let mut conflicts = Vec::new();
    for (v, id) in automerge::ReadDoc::get_all(doc, container, key)? {
        match hydrate_value::<D, T>(doc, v, &id) {
            Ok(t) if id == shown_id => current = Some(t),
            Ok(t) => conflicts.push(t),
            Err(Error::Automerge(e)) => return Err(Error::Automerge(e)),
            Err(_) => {}
        }
    }
    Ok(match current {
        Some(current) => Some(Versions { current, conflicts }),
        None if !conflicts.is_empty() => {
            let current = conflicts.remove(0);
            Some(Versions { current, conflicts })
        }
        None => None,
    })
}

/// Writes (creates or updates) the record at `key`. Updating reconciles field by field, so
/// only changed fields become operations and concurrent edits of different fields merge.
pub(crate) fn write_record<T: Reconcile>(
    tx: &mut automerge::transaction::Transaction<'_>,
    container: &str,
    key: &str,
    value: &T,
) -> Result<()> {
    let c = Containers::of(tx, container)?;
    let obj = c.holding(tx, key)?.unwrap_or(c.shown()).clone();
    autosurgeon::reconcile_prop(tx, &obj, key, value)?;
    Ok(())
}
