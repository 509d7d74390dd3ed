//! Who may change what, and what every change must leave behind (ADR 0013).
//!
//! The relay runs [`check`] on every incoming change set before it stores or relays it, and
//! on its own edits from the review pages; a phone runs the same function on its own pending
//! changes when the relay refused one ([`rebase`]). Pure functions over Automerge documents:
//! no runtime, no storage, no clock.
//!
//! For a change set (the changes after `before`, already applied to the document) [`check`]
//! verifies, in this order, and answers the first violation as a [`Refusal`] naming the
//! record (and field) and the reason:
//!
//! 1. every change's note ([`ChangeNote`]) is signed by the editor — or by `system` for a
//!    schema migration, which any device runs;
//! 2. the skeleton actor of the document writes nothing but the skeleton;
//! 3. the document's identity (`kind`, `tenant`, `scope`) is written only when it is created,
//!    a container is never replaced, and nothing is written outside the document's layout;
//! 4. every record the changes touch still parses as its type in every concurrent version,
//!    passes the record's own checks (ranges, codes from the catalogue, references inside the
//!    document), and is not removed (roll-call marks excepted);
//! 5. the editor's role may make that kind of edit on that record: the table is in ADR 0013
//!    and, per kind of document, in `records.rs`.
//!
//! What the rules do *not* re-check is what depended on another document's state at the
//! moment a phone made the edit offline (the activity's attendance mode): the phone checked
//! them against its copy, and refusing them later would lose honest work. Such cases reach
//! the review instead. The one exception is the child certificate (ADR 0023): a volunteer's
//! own sign-up or check-in for a session with children under 15 needs a certificate valid on
//! the session's day in the volunteer directory as it is now ([`Context::shifts`]).

pub mod access;
mod paths;
mod rebase;
mod records;
mod unreadable;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use automerge::{Automerge, Change, ChangeHash};

pub use rebase::{Rebased, carry_over, rebase};
pub use unreadable::{Unreadable, unreadable};

use crate::catalogue::Catalogue;
use crate::document::{ChangeNote, DocKind, Scope, identity, skeleton_change};
use crate::error::Reason;
use crate::ids::{StaffId, VolunteerId};
use crate::model::{AppRole, By};

/// Who is editing: the role and identity of the login behind a connection (the relay knows
/// it from the access token; a phone from its account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    /// The application role.
    pub role: AppRole,
    /// The staff member the login is, if any.
    pub staff: Option<StaffId>,
    /// The volunteer the login is, if any.
    pub volunteer: Option<VolunteerId>,
}

impl Editor {
    /// An editor from the strings an account or a token carries (malformed ids count as
    /// none: such an editor signs nothing).
    pub fn new(role: AppRole, staff: Option<&str>, volunteer: Option<&str>) -> Self {
        Editor {
            role,
            staff: staff.and_then(|s| s.parse().ok()),
            volunteer: volunteer.and_then(|v| v.parse().ok()),
        }
    }

    /// Whether a record or change signed `by` may come from this editor: their own staff or
    /// volunteer identity, or `system` from a login that has neither (an administrator's
    /// account, whose page edits are signed `system`).
    pub fn signs(&self, by: &By) -> bool {
        match by {
            By::Staff(s) => self.staff.as_ref() == Some(s),
            By::Volunteer(v) => self.volunteer.as_ref() == Some(v),
            By::System => self.staff.is_none() && self.volunteer.is_none(),
        }
    }
}

/// Why a change set was refused: the record (and field) it touched and the reason. Names
/// records by their pseudonymous keys only, never by content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What was refused, e.g. `participants/p-1.age_band`, `shifts/s-1/v-2`, `info.area`,
    /// `change 3f2a…`.
    pub record: String,
    /// Why.
    pub reason: Reason,
    /// A short English explanation without personal data.
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(
        record: impl Into<String>,
        reason: Reason,
        detail: impl Into<String>,
    ) -> Self {
        Refusal {
            record: record.into(),
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.record, self.reason, self.detail)
    }
}

impl std::error::Error for Refusal {}

/// What the record checks need besides the document: the tenant's catalogue (with its local
/// additions) and its settings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The catalogue with the tenant's local additions.
    pub catalogue: &'a Catalogue,
    /// The tenant allows free-text notes on outreach contacts.
    pub free_text_notes: bool,
    /// For a register: what a volunteer's own sign-up and check-in are checked against (the
    /// child certificate, ADR 0023). `None`: not known to this checker, not checked.
    pub shifts: Option<ShiftFacts<'a>>,
}

/// What a volunteer's sign-up or check-in in a register is checked against: the volunteers'
/// current child certificates (from the volunteer directory, never the roster's copy) and
/// whether the register's activity is for children under 15.
#[derive(Debug, Clone, Copy)]
pub struct ShiftFacts<'a> {
    /// The current certificates.
    pub certificates: &'a crate::docs::volunteers::Certificates,
    /// The activity says its sessions involve children under 15.
    pub children_under_15: bool,
}

/// Checks the changes after `before` in `doc` (already applied to it) as made by `editor`.
/// `changes` are those changes (`doc.get_changes(before)`), passed in because the caller
/// needs them too. An empty `before` means the changes create the document.
pub fn check(
    doc: &Automerge,
    before: &[ChangeHash],
    changes: &[Change],
    editor: &Editor,
    ctx: &Context<'_>,
) -> Result<(), Refusal> {
    if changes.is_empty() {
        return Ok(());
    }
    let new_ops = NewOps::of(changes);
    let (kind, scope, _) =
        identity(doc).map_err(|e| identity_refusal(doc, before.is_empty(), &new_ops, e))?;
    let mut paths = paths::Paths::new(doc);
    let mut touched: BTreeMap<(String, Option<String>), Touch> = BTreeMap::new();
    for c in changes {
        check_note(c, editor)?;
        check_skeleton(c, &scope)?;
        let decoded = crate::document::guarded(|| c.decode())
            .map_err(|_| change_refusal(c, Reason::Malformed, "the change does not decode"))?;
        for op in &decoded.operations {
            paths.touch(kind, op, &new_ops, &mut touched)?;
        }
    }
    let mut ck = records::Checker {
        doc,
        before,
        kind,
        scope: &scope,
        editor,
        ctx,
        creating: before.is_empty(),
        new_ops: &new_ops,
        before_doc: None,
    };
    for ((root, key), t) in &touched {
        ck.entry(root, key.as_deref(), t)?;
    }
    Ok(())
}

/// Why the document no longer reads as a Nabo document after the changes: the identity key
/// they wrote (it is written only when the document is created), or what is wrong with it.
fn identity_refusal(
    doc: &Automerge,
    creating: bool,
    new_ops: &NewOps,
    e: crate::error::Error,
) -> Refusal {
    use automerge::ReadDoc;
    let written = |key: &str| {
        doc.get_all(automerge::ROOT, key)
            .unwrap_or_default()
            .iter()
            .any(|(_, id)| new_ops.contains(&id.to_string()))
    };
    match ["kind", "tenant", "scope"].into_iter().find(|k| written(k)) {
        Some(key) if !creating => Refusal::new(
            key,
            Reason::NotPermitted,
            "a document's identity never changes",
        ),
        _ => Refusal::new("document", Reason::Malformed, e.to_string()),
    }
}

/// The refusal of any change to a document of `kind` that the sender may only read (a
/// volunteer's copy of an activity, the tenant catalogue on a phone).
pub fn read_only(kind: DocKind) -> Refusal {
    Refusal::new(
        kind.code(),
        Reason::NotPermitted,
        "the sender may only read this document",
    )
}

/// The actors of `changes` that belong to a device, as hex: all but the document's skeleton
/// actor, which is derived from the scope and the same on every device ([`check`] lets it
/// write the skeleton only). The relay binds each to the login and phone that first
/// delivered it.
pub fn device_actors(doc: &Automerge, changes: &[Change]) -> BTreeSet<String> {
    let scope = identity(doc).ok().map(|(_, s, _)| s);
    changes
        .iter()
        .filter(|c| {
            scope
                .as_ref()
                .is_none_or(|s| skeleton_change(s, c.actor_id()).is_none())
        })
        .map(|c| c.actor_id().to_hex_string())
        .collect()
}

fn change_refusal(c: &Change, reason: Reason, detail: &str) -> Refusal {
    let hash = c.hash().to_string();
    Refusal::new(
        format!("change {}", &hash[..12.min(hash.len())]),
        reason,
        detail,
    )
}

/// A change's note must be signed by the editor, or by `system` for a schema migration (any
/// device migrates an old document it loads). Changes without a Nabo note (a JavaScript app's)
/// claim no author and pass.
fn check_note(c: &Change, editor: &Editor) -> Result<(), Refusal> {
    let Some(note) = c
        .message()
        .and_then(|m| serde_json::from_str::<ChangeNote>(m).ok())
    else {
        return Ok(());
    };
    let Ok(by) = note.by.parse::<By>() else {
        return Err(change_refusal(
            c,
            Reason::Malformed,
            "the change note names no known author",
        ));
    };
    if editor.signs(&by) || (by == By::System && note.op.starts_with("migrate-")) {
        Ok(())
    } else {
        Err(change_refusal(
            c,
            Reason::NotPermitted,
            "the change note is signed by someone other than the sender",
        ))
    }
}

/// The skeleton actor (derived from the scope) writes exactly the skeleton change.
fn check_skeleton(c: &Change, scope: &Scope) -> Result<(), Refusal> {
    match skeleton_change(scope, c.actor_id()) {
        Some(hash) if hash != c.hash() => Err(change_refusal(
            c,
            Reason::NotPermitted,
            "the document's skeleton actor writes only the skeleton",
        )),
        _ => Ok(()),
    }
}

/// What a change set did to one record (or one root key).
#[derive(Debug, Default)]
pub(crate) struct Touch {
    /// The record (or root key) itself was put, made or deleted (not only its fields).
    pub(crate) direct: bool,
    /// A direct delete.
    pub(crate) deleted: bool,
    /// Fields written inside the record (first level).
    pub(crate) fields: BTreeSet<String>,
    /// An op overwrote a value older than the change set, or wrote into an object older than
    /// it: the record existed before.
    pub(crate) old: bool,
}

/// The op ids of the new changes, to tell what the change set made from what was there.
pub(crate) struct NewOps(HashMap<String, Vec<(u64, u64)>>);

impl NewOps {
    fn of(changes: &[Change]) -> Self {
        let mut m: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
        for c in changes {
            let start = c.start_op().get();
            m.entry(c.actor_id().to_hex_string())
                .or_default()
                .push((start, start + c.len() as u64));
        }
        NewOps(m)
    }

    /// Whether an op id (`counter@actor`, as Automerge writes object and op ids) belongs to
    /// the new changes.
    pub(crate) fn contains(&self, id: &str) -> bool {
        let Some((counter, actor)) = id.split_once('@') else {
            return false;
        };
        let Ok(counter) = counter.parse::<u64>() else {
            return false;
        };
        self.0
            .get(actor)
            .is_some_and(|r| r.iter().any(|(a, b)| counter >= *a && counter < *b))
    }
}

/// The record containers of a kind across every schema version (a register written by an
/// old app has no `attendance` yet).
pub(crate) fn containers(kind: DocKind) -> BTreeSet<&'static str> {
    (1..=kind.current_schema())
        .flat_map(|s| kind.containers(s).iter().copied())
        .collect()
}
