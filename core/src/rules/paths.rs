//! Where an operation writes: from the object it names to the path from the document's root,
//! and from there to the record it belongs to.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use automerge::{Automerge, Prop, ReadDoc, legacy};

use super::{NewOps, Refusal, Touch, containers};
use crate::document::{DocKind, guarded};
use crate::error::Reason;

/// One step down from the root: the key, and the object found under it.
type Step = (String, String);

pub(super) struct Paths<'a> {
    doc: &'a Automerge,
    cache: HashMap<String, Rc<Vec<Step>>>,
}

fn prop(p: &Prop) -> String {
    match p {
        Prop::Map(k) => k.clone(),
        Prop::Seq(i) => format!("#{i}"),
    }
}

impl<'a> Paths<'a> {
    pub(super) fn new(doc: &'a Automerge) -> Self {
        Paths {
            doc,
            cache: HashMap::new(),
        }
    }

    /// The steps from the root down to `obj` (empty for the root).
    pub(super) fn down(&mut self, obj: &str) -> Result<Rc<Vec<Step>>, Refusal> {
        if let Some(p) = self.cache.get(obj) {
            return Ok(p.clone());
        }
        let doc = self.doc;
        let unreadable = || Refusal::new("document", Reason::Malformed, "an object without a path");
        let steps = if obj == "_root" {
            Vec::new()
        } else {
            let id = guarded(|| doc.import_obj(obj))
                .ok()
                .and_then(Result::ok)
                .ok_or_else(unreadable)?;
            let parents: Vec<automerge::Parent> =
                doc.parents(&id).map_err(|_| unreadable())?.collect();
            // Nearest parent first: reverse to go down from the root. The object under each
            // step is the next step's parent, and the last is `obj` itself.
            let up: Vec<&automerge::Parent> = parents.iter().rev().collect();
            up.iter()
                .enumerate()
                .map(|(i, p)| {
                    let below = up
                        .get(i + 1)
                        .map_or_else(|| obj.to_owned(), |n| n.obj.to_string());
                    (prop(&p.prop), below)
                })
                .collect()
        };
        let steps = Rc::new(steps);
        self.cache.insert(obj.to_owned(), steps.clone());
        Ok(steps)
    }

    /// Records what `op` touched: a root key, a record of a container (or the `info` map),
    /// or a field of a single-record root (`activity`, `network`).
    pub(super) fn touch(
        &mut self,
        kind: DocKind,
        op: &legacy::Op,
        new_ops: &NewOps,
        touched: &mut BTreeMap<(String, Option<String>), Touch>,
    ) -> Result<(), Refusal> {
        let down = self.down(&op.obj.to_string())?;
        let key = match &op.key {
            legacy::Key::Map(k) => k.to_string(),
            legacy::Key::Seq(_) => "#".to_owned(),
        };
        let old_pred = op.pred.iter().any(|p| !new_ops.contains(&p.to_string()));
        let deleted = matches!(op.action, legacy::OpType::Delete);
        let mut keys: Vec<&str> = down.iter().map(|(k, _)| k.as_str()).collect();
        keys.push(&key);
        let root = keys[0].to_owned();
        let by_record = root == "info" || containers(kind).contains(root.as_str());
        if keys.len() == 1 {
            let t = touched.entry((root, None)).or_default();
            t.direct = true;
            t.deleted |= deleted;
            t.old |= old_pred;
        } else if by_record {
            let t = touched.entry((root, Some(keys[1].to_owned()))).or_default();
            if keys.len() == 2 {
                t.direct = true;
                t.deleted |= deleted;
                t.old |= old_pred;
            } else {
                t.fields.insert(keys[2].to_owned());
                // The record's object was made before this change set.
                t.old |= down.get(1).is_some_and(|(_, o)| !new_ops.contains(o));
            }
        } else {
            let t = touched.entry((root, None)).or_default();
            t.fields.insert(keys[1].to_owned());
            t.old |= down.first().is_some_and(|(_, o)| !new_ops.contains(o));
        }
        Ok(())
    }
}
