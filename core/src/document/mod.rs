//! Nabo documents: kinds, scopes, the skeleton every document starts from, schema versions
//! and migration on load, and conflict-aware access to the records inside.
//!
//! Which documents exist, and why, is decided in `docs/adr/0002-documents-by-access-boundary.md`.
//! In short, one Automerge document per access and erasure boundary:
//!
//! | kind | scope | id |
//! |---|---|---|
//! | [`DocKind::Tenant`] | one per tenant: organisations, areas, programmes, local catalogue | derived |
//! | [`DocKind::Staff`] | one per tenant: staff, placements, role assignments (central only) | derived |
//! | [`DocKind::Volunteers`] | one per tenant: volunteers, engagements, child certificates | derived |
//! | [`DocKind::Activity`] | one per activity: schedule, roster, change theory, reports | random |
//! | [`DocKind::Register`] | one per activity per term: sessions, participants, attendance | derived |
//! | [`DocKind::Outreach`] | one per worker per area per quarter: contacts, referrals | derived |
//! | [`DocKind::Network`] | one per network: members, meetings | random |
//! | [`DocKind::ResidentLog`] | one per activity per term: ambassador rounds, food-club evenings | derived |
//!
//! Root layout of every document:
//!
//! ```text
//! kind:   "register"                       written once, in the skeleton
//! schema: 2                                schema version (max over conflicting writes)
//! tenant: "t-…"                            written once, in the skeleton
//! scope:  "register/t-…/a-…/2026H2"        the input of the derived document id
//! info:   { … }                            document-level fields written by devices
//! <container>: { <record id>: { … } }      one map per record type, made in the skeleton
//! ```
//!
//! The skeleton is one change made with an actor derived from the document id and the schema
//! version, at time 0, so two phones that create the same register offline make a
//! byte-identical first change and their documents merge as one.

mod containers;
mod id;
mod migrate;
mod rewrite;

use std::fmt;
use std::str::FromStr;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue, Value};

pub use containers::Versions;
pub(crate) use containers::{Containers, read_all, read_one, write_record};
pub use id::{BadDocumentId, DocumentId};

use crate::error::{Error, Result};
use crate::ids::{ActivityId, AreaId, NetworkId, StaffId, TenantId};
use crate::model::By;
use crate::time::{Quarter, Term, Timestamp};

crate::codes::code_enum! {
    /// The kinds of Nabo documents.
    pub enum DocKind {
        /// The tenant catalogue.
        Tenant = "tenant",
        /// The staff directory.
        Staff = "staff",
        /// The volunteer directory.
        Volunteers = "volunteers",
        /// One activity.
        Activity = "activity",
        /// The attendance register of one activity for one term.
        Register = "register",
        /// The outreach log of one worker in one area for one quarter.
        Outreach = "outreach",
        /// One network.
        Network = "network",
        /// What the resident volunteers of one activity log themselves in one term:
        /// ambassador rounds and food-club evenings, aggregates only (ADR 0030).
        ResidentLog = "resident-log",
    }
}

impl DocKind {
    /// The newest schema version of this kind that this build writes.
    pub fn current_schema(self) -> u64 {
        match self {
            DocKind::Register => 2,
            _ => 1,
        }
    }

    /// The record containers of this kind at a schema version (the skeleton's maps).
    pub(crate) fn containers(self, schema: u64) -> &'static [&'static str] {
        match (self, schema) {
            (DocKind::Tenant, _) => &[
                "organisations",
                "areas",
                "programmes",
                "local_activity_types",
                "local_target_groups",
                "local_indicators",
            ],
            (DocKind::Staff, _) => &["staff", "assignments"],
            (DocKind::Volunteers, _) => &["volunteers", "engagements"],
            (DocKind::Activity, _) => &[
                "series",
                "roster",
                "challenges",
                "goals",
                "indicators",
                "measurements",
                "reports",
            ],
            (DocKind::Register, 1) => &[
                "sessions",
                "participants",
                "headcounts",
                "shifts",
                "staff_presence",
            ],
            (DocKind::Register, _) => &[
                "sessions",
                "participants",
                "attendance",
                "headcounts",
                "shifts",
                "staff_presence",
            ],
            (DocKind::Outreach, _) => &["contacts", "people", "referrals", "observations"],
            (DocKind::Network, _) => &["meetings"],
            (DocKind::ResidentLog, _) => &["rounds", "evenings"],
        }
    }
}

/// What a document is about. For most kinds it determines the document id, so that the same
/// document is found (or created) by every phone without asking the relay.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Scope {
    /// The tenant catalogue.
    Tenant {
        /// Tenant.
        tenant: TenantId,
    },
    /// The staff directory.
    Staff {
        /// Tenant.
        tenant: TenantId,
    },
    /// The volunteer directory.
    Volunteers {
        /// Tenant.
        tenant: TenantId,
    },
    /// An activity (random document id).
    Activity {
        /// Tenant.
        tenant: TenantId,
        /// Activity.
        activity: ActivityId,
    },
    /// The register of an activity for a term.
    Register {
        /// Tenant.
        tenant: TenantId,
        /// Activity.
        activity: ActivityId,
        /// Term.
        term: Term,
    },
    /// The outreach log of a worker in an area for a quarter.
    Outreach {
        /// Tenant.
        tenant: TenantId,
        /// Worker.
        worker: StaffId,
        /// Area.
        area: AreaId,
        /// Quarter.
        quarter: Quarter,
    },
    /// A network (random document id).
    Network {
        /// Tenant.
        tenant: TenantId,
        /// Network.
        network: NetworkId,
    },
    /// The resident log of an activity for a term (ADR 0030).
    ResidentLog {
        /// Tenant.
        tenant: TenantId,
        /// Activity (the ambassador corps or the food club).
        activity: ActivityId,
        /// Term.
        term: Term,
    },
}

impl Scope {
    /// The kind of document.
    pub fn kind(&self) -> DocKind {
        match self {
            Scope::Tenant { .. } => DocKind::Tenant,
            Scope::Staff { .. } => DocKind::Staff,
            Scope::Volunteers { .. } => DocKind::Volunteers,
            Scope::Activity { .. } => DocKind::Activity,
            Scope::Register { .. } => DocKind::Register,
            Scope::Outreach { .. } => DocKind::Outreach,
            Scope::Network { .. } => DocKind::Network,
            Scope::ResidentLog { .. } => DocKind::ResidentLog,
        }
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        match self {
            Scope::Tenant { tenant }
            | Scope::Staff { tenant }
            | Scope::Volunteers { tenant }
            | Scope::Activity { tenant, .. }
            | Scope::Register { tenant, .. }
            | Scope::Outreach { tenant, .. }
            | Scope::Network { tenant, .. }
            | Scope::ResidentLog { tenant, .. } => tenant,
        }
    }

    /// The document id: derived from the scope, so it is the same on every device.
    pub fn document_id(&self) -> DocumentId {
        DocumentId::derive(&self.to_string())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Tenant { tenant } => write!(f, "tenant/{tenant}"),
            Scope::Staff { tenant } => write!(f, "staff/{tenant}"),
            Scope::Volunteers { tenant } => write!(f, "volunteers/{tenant}"),
            Scope::Activity { tenant, activity } => write!(f, "activity/{tenant}/{activity}"),
            Scope::Register {
                tenant,
                activity,
                term,
            } => write!(f, "register/{tenant}/{activity}/{term}"),
            Scope::Outreach {
                tenant,
                worker,
                area,
                quarter,
            } => write!(f, "outreach/{tenant}/{worker}/{area}/{quarter}"),
            Scope::Network { tenant, network } => write!(f, "network/{tenant}/{network}"),
            Scope::ResidentLog {
                tenant,
                activity,
                term,
            } => write!(f, "resident-log/{tenant}/{activity}/{term}"),
        }
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::NotNabo("malformed scope");
        let parts: Vec<&str> = s.split('/').collect();
        let tenant = || {
            parts
                .get(1)
                .ok_or_else(bad)?
                .parse::<TenantId>()
                .map_err(|_| bad())
        };
        let part = |i: usize| parts.get(i).copied().ok_or_else(bad);
        let scope = match (parts.first().copied(), parts.len()) {
            (Some("tenant"), 2) => Scope::Tenant { tenant: tenant()? },
            (Some("staff"), 2) => Scope::Staff { tenant: tenant()? },
            (Some("volunteers"), 2) => Scope::Volunteers { tenant: tenant()? },
            (Some("activity"), 3) => Scope::Activity {
                tenant: tenant()?,
                activity: part(2)?.parse().map_err(|_| bad())?,
            },
            (Some("register"), 4) => Scope::Register {
                tenant: tenant()?,
                activity: part(2)?.parse().map_err(|_| bad())?,
                term: part(3)?.parse().map_err(|_| bad())?,
            },
            (Some("outreach"), 5) => Scope::Outreach {
                tenant: tenant()?,
                worker: part(2)?.parse().map_err(|_| bad())?,
                area: part(3)?.parse().map_err(|_| bad())?,
                quarter: part(4)?.parse().map_err(|_| bad())?,
            },
            (Some("network"), 3) => Scope::Network {
                tenant: tenant()?,
                network: part(2)?.parse().map_err(|_| bad())?,
            },
            (Some("resident-log"), 4) => Scope::ResidentLog {
                tenant: tenant()?,
                activity: part(2)?.parse().map_err(|_| bad())?,
                term: part(3)?.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        Ok(scope)
    }
}

/// Who is writing, and when. Passed to every write so the core stays free of clocks and
/// sessions; it goes into the record (`by`, `at`) and into the change's metadata (history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The person writing.
    pub by: By,
    /// The device's clock.
    pub at: Timestamp,
}

impl Author {
    /// An author at the current time of `clock`.
    pub fn now(by: By, clock: &crate::time::Clock) -> Self {
        Author {
            by,
            at: clock.now(),
        }
    }
}

/// The metadata of one change, as the history view shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeNote {
    /// The operation, e.g. `mark-attendance`.
    pub op: String,
    /// Who (`staff:<id>`, `volunteer:<id>`, `system`).
    pub by: String,
}

/// A Nabo document: an Automerge document whose kind and schema have been checked.
#[derive(Debug, Clone)]
pub struct NaboDoc {
    am: Automerge,
    kind: DocKind,
    scope: Scope,
    /// The stored schema version, refreshed whenever changes arrive from outside.
    schema: u64,
    /// The id it is stored under when that is not the scope's (a document the relay rewrote
    /// under a new id, ADR 0037).
    id: Option<DocumentId>,
}

/// The actor that writes a document's skeleton: derived, so the skeleton change is identical
/// on every device.
fn skeleton_actor(scope: &Scope, schema: u64) -> ActorId {
    let d = DocumentId::derive(&format!("skeleton/{schema}/{scope}"));
    ActorId::from(d.0.as_slice())
}

impl NaboDoc {
    /// Creates a new document for `scope` at the current schema version. `actor` is the
    /// device's actor id for the writes that follow.
    pub fn create(scope: Scope, actor: ActorId) -> Result<Self> {
        let schema = scope.kind().current_schema();
        Self::create_at_schema(scope, actor, schema)
    }

    pub(crate) fn create_at_schema(scope: Scope, actor: ActorId, schema: u64) -> Result<Self> {
        let kind = scope.kind();
        let mut am = Automerge::new().with_actor(skeleton_actor(&scope, schema));
        let scope_string = scope.to_string();
        am.transact_with::<_, _, automerge::AutomergeError, _>(
            |_| CommitOptions::default().with_time(0),
            |tx| {
                tx.put(ROOT, "kind", kind.code())?;
                tx.put(ROOT, "schema", schema)?;
                tx.put(ROOT, "tenant", scope.tenant().as_str())?;
                tx.put(ROOT, "scope", scope_string.as_str())?;
                tx.put_object(ROOT, "info", ObjType::Map)?;
                for c in kind.containers(schema) {
                    tx.put_object(ROOT, *c, ObjType::Map)?;
                }
                Ok(())
            },
        )
        .map_err(|f| Error::Automerge(f.error))?;
        am.set_actor(actor);
        Ok(NaboDoc {
            am,
            kind,
            scope,
            schema,
            id: None,
        })
    }

    /// Loads a document from bytes (a full save, or a save followed by incremental changes),
    /// checks it is a Nabo document and migrates it to the current schema. Never panics on
    /// arbitrary bytes.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<Self> {
        let am = load_automerge(bytes)?;
        Self::from_automerge(am, actor)
    }

    /// Wraps an Automerge document (e.g. one that a sync filled), checks and migrates it.
    pub fn from_automerge(mut am: Automerge, actor: ActorId) -> Result<Self> {
        let (kind, scope, schema) = inspect(&am)?;
        am.set_actor(actor);
        let mut doc = NaboDoc {
            am,
            kind,
            scope,
            schema,
            id: None,
        };
        if schema < kind.current_schema() {
            migrate::migrate(&mut doc, schema)?;
            doc.schema = schema_of(&doc.am).unwrap_or(schema);
        }
        Ok(doc)
    }

    /// The kind.
    pub fn kind(&self) -> DocKind {
        self.kind
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The document id: derived from the scope, unless the document is stored under another
    /// ([`NaboDoc::with_id`]).
    pub fn id(&self) -> DocumentId {
        self.id.unwrap_or_else(|| self.scope.document_id())
    }

    /// The document as stored under `id` (a document the relay rewrote under a new id keeps
    /// its scope, ADR 0037).
    #[must_use]
    pub fn with_id(mut self, id: DocumentId) -> Self {
        self.id = (id != self.scope.document_id()).then_some(id);
        self
    }

    /// The schema version stored in the document.
    pub fn schema(&self) -> u64 {
        self.schema
    }

    /// The underlying Automerge document.
    pub fn automerge(&self) -> &Automerge {
        &self.am
    }

    /// The underlying Automerge document, for sync. Changes received this way are checked
    /// again by [`NaboDoc::recheck`].
    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.am
    }

    /// Checks the document again after changes arrived by sync (kind and scope must not
    /// change; a newer schema is refused; an older one is migrated).
    pub fn recheck(&mut self) -> Result<()> {
        let (kind, scope, schema) = inspect(&self.am)?;
        if kind != self.kind || scope != self.scope {
            return Err(Error::NotNabo("kind or scope changed"));
        }
        self.schema = schema;
        if schema < kind.current_schema() {
            migrate::migrate(self, schema)?;
        } else if schema == kind.current_schema() {
            migrate::repair(self)?;
        }
        self.schema = schema_of(&self.am).unwrap_or(schema);
        Ok(())
    }

    /// Full compressed save.
    pub fn save(&self) -> Vec<u8> {
        self.am.save()
    }

    /// The changes after `heads`, in the incremental format ([`Automerge::load_incremental`]).
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        self.am.save_after(heads)
    }

    /// Current heads.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.am.get_heads()
    }

    /// Merges another copy of the same document into this one.
    pub fn merge(&mut self, other: &mut NaboDoc) -> Result<()> {
        if other.scope != self.scope {
            return Err(Error::NotNabo("merging documents of different scopes"));
        }
        self.am.merge(&mut other.am)?;
        self.recheck()
    }

    /// Applies incremental bytes (changes, bundles or a saved document) received from
    /// elsewhere, after checking what they declare against the budget of a stored document
    /// ([`crate::untrusted::check`]).
    pub fn apply_incremental(&mut self, bytes: &[u8]) -> Result<()> {
        crate::untrusted::check(bytes, crate::untrusted::Budget::STORED)?;
        // Applied to a copy: if Automerge panics on malformed bytes half-way, the document
        // we hold is untouched.
        let mut copy = self.am.fork();
        copy.set_actor(self.am.get_actor().clone());
        guarded(move || copy.load_incremental(bytes).map(|_| copy))?
            .map(|am| self.am = am)
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        self.recheck()
    }

    /// The document-level `info` map's object id.
    pub(crate) fn info_obj(&self) -> Result<automerge::ObjId> {
        match self.am.get(ROOT, "info")? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(Error::NotNabo("missing info map")),
        }
    }

    /// Writes `records` into `container` in one change; answers how many (none: no change).
    pub(crate) fn write_records<K: AsRef<str>, T: autosurgeon::Reconcile>(
        &mut self,
        author: &Author,
        op: &str,
        container: &str,
        records: &[(K, T)],
    ) -> Result<usize> {
        if records.is_empty() {
            return Ok(0);
        }
        self.write(author, op, |tx| {
            for (id, r) in records {
                write_record(tx, container, id.as_ref(), r)?;
            }
            Ok(())
        })?;
        Ok(records.len())
    }

    /// Runs `f` in one transaction and commits it as one change, with the author's time and a
    /// note naming the operation. Nothing is committed if `f` fails.
    pub(crate) fn write<T>(
        &mut self,
        author: &Author,
        op: &str,
        f: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.schema > self.kind.current_schema() {
            return Err(Error::SchemaTooNew {
                kind: self.kind,
                found: self.schema(),
                supported: self.kind.current_schema(),
            });
        }
        let note = serde_json::to_string(&ChangeNote {
            op: op.to_owned(),
            by: author.by.to_string(),
        })
        .map_err(|e| Error::Schema(e.to_string()))?;
        let mut tx = self.am.transaction();
        match f(&mut tx) {
            Ok(v) => {
                tx.commit_with(
                    CommitOptions::default()
                        .with_message(note)
                        .with_time(author.at.as_secs()),
                );
                Ok(v)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    /// The history of the document: every change with its time, author note and device actor.
    pub fn history(&self) -> Vec<HistoryEntry> {
        self.am
            .get_changes(&[])
            .into_iter()
            .map(|c| HistoryEntry {
                hash: c.hash().to_string(),
                actor: c.actor_id().to_hex_string(),
                seq: c.seq(),
                time: c.timestamp(),
                note: c
                    .message()
                    .and_then(|m| serde_json::from_str::<ChangeNote>(m).ok()),
            })
            .collect()
    }
}

impl NaboDoc {
    /// The changes that touched records of this document: a record is a key in one of the
    /// root containers named in `containers` for which `key_matches` is true (its fields, if
    /// it is a map, count as the record). Used for "who changed what, when, from which
    /// device" in the review. Each entry names the operation and the keys it wrote.
    pub fn record_history(
        &self,
        containers: &[&str],
        key_matches: impl Fn(&str) -> bool,
    ) -> Result<Vec<RecordChange>> {
        use std::collections::{BTreeSet, HashMap};
        // Container objects, and the objects currently under matching keys (recursively),
        // identified the way a decoded change names them ("counter@actor").
        let mut containers_by_id: BTreeSet<String> = BTreeSet::new();
        let mut record_objs: HashMap<String, String> = HashMap::new();
        for name in containers {
            let Ok(c) = containers::Containers::of(&self.am, name) else {
                continue;
            };
            for obj in c.iter() {
                containers_by_id.insert(obj.to_string());
                for key in self.am.keys(obj) {
                    if !key_matches(&key) {
                        continue;
                    }
                    for (v, id) in self.am.get_all(obj, key.as_str())? {
                        if let Value::Object(_) = v {
                            self.collect_objects(&id, &key, &mut record_objs)?;
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for c in self.am.get_changes(&[]) {
            let mut keys: BTreeSet<String> = BTreeSet::new();
            for op in c.decode().operations {
                let obj = op.obj.to_string();
                let key = match &op.key {
                    automerge::legacy::Key::Map(k) => k.to_string(),
                    automerge::legacy::Key::Seq(_) => String::new(),
                };
                if containers_by_id.contains(&obj) {
                    if key_matches(&key) {
                        keys.insert(key);
                    }
                } else if let Some(record) = record_objs.get(&obj) {
                    keys.insert(record.clone());
                }
            }
            if keys.is_empty() {
                continue;
            }
            out.push(RecordChange {
                entry: HistoryEntry {
                    hash: c.hash().to_string(),
                    actor: c.actor_id().to_hex_string(),
                    seq: c.seq(),
                    time: c.timestamp(),
                    note: c
                        .message()
                        .and_then(|m| serde_json::from_str::<ChangeNote>(m).ok()),
                },
                keys: keys.into_iter().collect(),
            });
        }
        Ok(out)
    }

    fn collect_objects(
        &self,
        obj: &automerge::ObjId,
        record: &str,
        out: &mut std::collections::HashMap<String, String>,
    ) -> Result<()> {
        out.insert(obj.to_string(), record.to_owned());
        let children: Vec<automerge::ObjId> = match self.am.object_type(obj) {
            Ok(ObjType::Map | ObjType::Table) => {
                let mut v = Vec::new();
                for key in self.am.keys(obj) {
                    for (val, id) in self.am.get_all(obj, key.as_str())? {
                        if let Value::Object(_) = val {
                            v.push(id);
                        }
                    }
                }
                v
            }
            Ok(ObjType::List | ObjType::Text) => {
                let mut v = Vec::new();
                for i in 0..self.am.length(obj) {
                    if let Some((Value::Object(_), id)) = self.am.get(obj, i)? {
                        v.push(id);
                    }
                }
                v
            }
            Err(_) => Vec::new(),
        };
        for c in children {
            self.collect_objects(&c, record, out)?;
        }
        Ok(())
    }
}

/// A change that touched records, from [`NaboDoc::record_history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// The change.
    pub entry: HistoryEntry,
    /// The record keys it wrote.
    pub keys: Vec<String>,
}

/// Runs an Automerge call that parses untrusted bytes, turning a panic inside Automerge into
/// [`Error::Corrupt`]. Automerge 0.12 can panic on some malformed documents (found by fuzzing
/// `load`; the input is `core/tests/fixtures/fuzz/`), and a relay or a phone must not crash
/// on input from the network.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T> {
    GUARDED.with(|g| g.set(g.get() + 1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    r.map_err(|_| Error::Corrupt("automerge failed on malformed input".into()))
}

thread_local! {
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether this thread is inside [`guarded`] (for a panic hook: the fuzz targets report
/// every panic that `guarded` does not catch, including panics in spawned tasks).
pub fn in_guarded() -> bool {
    GUARDED.with(|g| g.get() > 0)
}

/// Loads Automerge bytes, never panicking, and only after checking that what they declare is
/// within the budget of a stored document ([`crate::untrusted::check`]).
pub fn load_automerge(bytes: &[u8]) -> Result<Automerge> {
    crate::untrusted::check(bytes, crate::untrusted::Budget::STORED)?;
    guarded(|| Automerge::load(bytes))?.map_err(|e| Error::Corrupt(e.to_string()))
}

/// One change in a document's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Change hash.
    pub hash: String,
    /// The device actor (hex).
    pub actor: String,
    /// Sequence number of the actor's change.
    pub seq: u64,
    /// Seconds since the epoch, from the device clock (0 for the skeleton).
    pub time: i64,
    /// The operation and author, when the change was made by Nabo.
    pub note: Option<ChangeNote>,
}

/// A root string: scalar (as Nabo writes it) or text (as the JavaScript client writes a
/// plain string).
fn str_at(am: &Automerge, key: &str) -> Option<String> {
    match am.get(ROOT, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => am.text(&id).ok(),
        _ => None,
    }
}

/// The schema version: the highest of any conflicting writes.
fn schema_of(am: &Automerge) -> Option<u64> {
    am.get_all(ROOT, "schema")
        .ok()?
        .into_iter()
        .filter_map(|(v, _)| match v {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Uint(u) => Some(*u),
                ScalarValue::Int(i) => u64::try_from(*i).ok(),
                _ => None,
            },
            _ => None,
        })
        .max()
}

/// What a document says it is: kind, scope and schema version, checked for consistency.
pub fn identity(am: &Automerge) -> Result<(DocKind, Scope, u64)> {
    inspect(am)
}

/// If `actor` is one that writes the skeleton of `scope` (at some schema version this build
/// knows), the hash of the one change it writes. Every device writes exactly that change; any
/// other change under that actor is a forgery.
pub(crate) fn skeleton_change(scope: &Scope, actor: &ActorId) -> Option<ChangeHash> {
    (1..=scope.kind().current_schema())
        .find(|schema| &skeleton_actor(scope, *schema) == actor)
        .map(|schema| {
            NaboDoc::create_at_schema(scope.clone(), crate::entropy::actor(), schema)
                .ok()
                .and_then(|d| d.am.get_heads().first().copied())
                .unwrap_or(ChangeHash([0; 32]))
        })
}

fn inspect(am: &Automerge) -> Result<(DocKind, Scope, u64)> {
    let kind: DocKind = str_at(am, "kind")
        .ok_or(Error::NotNabo("no kind"))?
        .parse()
        .map_err(|_| Error::NotNabo("unknown kind"))?;
    let scope: Scope = str_at(am, "scope")
        .ok_or(Error::NotNabo("no scope"))?
        .parse()?;
    if scope.kind() != kind {
        return Err(Error::NotNabo("scope does not match kind"));
    }
    let tenant = str_at(am, "tenant").ok_or(Error::NotNabo("no tenant"))?;
    if tenant != scope.tenant().as_str() {
        return Err(Error::NotNabo("tenant does not match scope"));
    }
    let schema = schema_of(am).ok_or(Error::NotNabo("no schema version"))?;
    if schema == 0 {
        return Err(Error::NotNabo("schema version 0"));
    }
    Ok((kind, scope, schema))
}

/// A typed view of one kind of document.
pub trait TypedDoc: Sized {
    /// The kind.
    const KIND: DocKind;
    /// Wraps a checked document.
    fn from_doc_unchecked(doc: NaboDoc) -> Self;
    /// The document.
    fn doc(&self) -> &NaboDoc;
    /// The document, mutably (for sync and merges).
    fn doc_mut(&mut self) -> &mut NaboDoc;

    /// Wraps a document, checking its kind.
    fn from_doc(doc: NaboDoc) -> Result<Self> {
        if doc.kind() != Self::KIND {
            return Err(Error::WrongKind {
                expected: Self::KIND,
                found: doc.kind(),
            });
        }
        Ok(Self::from_doc_unchecked(doc))
    }

    /// Loads from bytes and checks the kind.
    fn load(bytes: &[u8], actor: ActorId) -> Result<Self> {
        Self::from_doc(NaboDoc::load(bytes, actor)?)
    }
}

macro_rules! typed_doc {
    ($name:ident, $kind:expr $(, $field:ident : $init:expr)*) => {
        impl $crate::document::TypedDoc for $name {
            const KIND: $crate::document::DocKind = $kind;
            fn from_doc_unchecked(doc: $crate::document::NaboDoc) -> Self {
                $name { doc $(, $field: $init)* }
            }
            fn doc(&self) -> &$crate::document::NaboDoc {
                &self.doc
            }
            fn doc_mut(&mut self) -> &mut $crate::document::NaboDoc {
                &mut self.doc
            }
        }
    };
}
pub(crate) use typed_doc;
