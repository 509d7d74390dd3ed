//! The rules per kind of document and record: what a touched record must satisfy, and which
//! roles may create or change it. The table in ADR 0013 is this file in words.
//!
//! Who may write a document at all is the relay's access table (`server/src/acl.rs`); these
//! rules refine it inside the document:
//!
//! | document | record | volunteer | outreach | central |
//! |---|---|---|---|---|
//! | register | sessions | create (signed by self or `system`); an existing one only rewritten unchanged | create, change | create, change |
//! | register | participants | create (added by self, not merged) | create, change | create, change, erase (final) |
//! | register | attendance | mark, change, clear | mark, change, clear | mark, change, clear |
//! | register | headcounts | set | set | set |
//! | register | shifts | their own (`<session>/<own volunteer id>`) | any | any |
//! | register | staff_presence | – | their own | any |
//! | register | info | `area` when unset or unchanged | `area` when unset or unchanged | any |
//! | outreach log | contacts, people, referrals, observations | – | create (signed by self), change; a closed referral stays closed | the same |
//! | activity | the activity record | – | change, except area, area history, programme, legal basis, retention, controller | any |
//! | activity | roster | – | – | any |
//! | activity | series, change theory, measurements, reports | – | create, change (signed by self) | the same |
//! | activity | reports: anonymise (text blanked, final), delete | – | – | any (the retention job) |
//! | network | the network record | – | change, except its leader | any |
//! | network | meetings | – | create, change | any |
//! | resident log | rounds, evenings | create (signed by self), change their own | create (signed by self), change | any |
//! | resident log | info | – | – | any |
//! | tenant, staff, volunteers | every record | – | – | any (records must parse) |
//!
//! For every kind: records are never removed (roll-call marks excepted: a mistaken tap is
//! cleared; and a report central staff delete at the end of its retention), a document's
//! identity never changes, containers are never replaced.

use automerge::{Automerge, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use autosurgeon::Hydrate;

use super::{Context, Editor, NewOps, Refusal, Touch, containers};
use crate::document::{Containers, DocKind, Scope, Versions, read_one};
use crate::error::{Error, Reason};
use crate::ids::{AreaId, ParticipantId, SessionId, StaffId, VolunteerId};
use crate::model::activity::{Activity, GoalReport, Measurement, RosterVolunteer, SessionSeries};
use crate::model::network::Network;
use crate::model::outreach::{KnownPerson, Observation, OutreachContact, Referral};
use crate::model::register::{HeadcountBucket, Participant, Session, Shift};
use crate::model::staff::StaffMember;
use crate::model::volunteer::Volunteer;
use crate::model::{AppRole, AttendanceStatus, By};

pub(super) struct Checker<'a> {
    pub(super) doc: &'a Automerge,
    pub(super) before: &'a [ChangeHash],
    pub(super) kind: DocKind,
    pub(super) scope: &'a Scope,
    pub(super) editor: &'a Editor,
    pub(super) ctx: &'a Context<'a>,
    pub(super) creating: bool,
    pub(super) new_ops: &'a NewOps,
    /// The document as it was before the change set, made only when a rule compares.
    pub(super) before_doc: Option<Automerge>,
}

/// A record's versions as a list (the shown one first).
fn all<T>(v: &Versions<T>) -> impl Iterator<Item = &T> {
    std::iter::once(&v.current).chain(v.conflicts.iter())
}

/// A refusal of `record` from a domain check's error (which names the field).
fn from_error(record: &str, e: Error) -> Refusal {
    match e {
        Error::Invalid(i) => Refusal::new(format!("{record}.{}", i.field), i.reason, i.detail),
        _ => Refusal::new(record, Reason::Malformed, "the record does not parse"),
    }
}

/// A withdrawn consent written back as not withdrawn (ADR 0027: a withdrawal is final).
fn withdrawn(record: &str) -> Refusal {
    Refusal::new(
        format!("{record}.consent.withdrawn_on"),
        Reason::ConsentWithdrawn,
        "a withdrawn consent stays withdrawn",
    )
}

/// A disposal mark's field and the texts of its refusals ([`Checker::mark_kept`]).
struct Mark {
    field: &'static str,
    stays: &'static str,
    whose: &'static str,
}

fn not_permitted(record: &str, detail: &str) -> Refusal {
    Refusal::new(record, Reason::NotPermitted, detail)
}

/// A scalar or text value as a string (for comparing `info` fields).
fn text_of(doc: &Automerge, v: &Value<'_>, id: &automerge::ObjId) -> Option<String> {
    match v {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Value::Object(ObjType::Text) => doc.text(id).ok(),
        Value::Object(_) => None,
    }
}

impl Checker<'_> {
    fn role(&self) -> AppRole {
        self.editor.role
    }

    /// The document before the change set (made once, when a rule needs to compare).
    fn before_doc(&mut self) -> Result<&Automerge, Refusal> {
        if self.before_doc.is_none() {
            let d = if self.creating {
                Automerge::new()
            } else {
                self.doc.fork_at(self.before).map_err(|_| {
                    Refusal::new(
                        "document",
                        Reason::Malformed,
                        "the previous state is unknown",
                    )
                })?
            };
            self.before_doc = Some(d);
        }
        match &self.before_doc {
            Some(d) => Ok(d),
            None => Err(Refusal::new(
                "document",
                Reason::Malformed,
                "no previous state",
            )),
        }
    }

    /// Whether any value at `key` of the maps at root key `root` (or the root itself) came
    /// from before the change set.
    fn visible_old(&self, root: &str, key: Option<&str>) -> bool {
        let old = |vals: Vec<(Value<'_>, automerge::ObjId)>| {
            vals.iter()
                .any(|(_, id)| !self.new_ops.contains(&id.to_string()))
        };
        match key {
            None => self.doc.get_all(ROOT, root).map(old).unwrap_or(false),
            Some(k) => self
                .doc
                .get_all(ROOT, root)
                .unwrap_or_default()
                .into_iter()
                .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
                .any(|(_, obj)| self.doc.get_all(&obj, k).map(old).unwrap_or(false)),
        }
    }

    /// Whether the record (or root key) existed before the change set.
    fn existed(&self, root: &str, key: Option<&str>, t: &Touch) -> bool {
        !self.creating && (t.old || self.visible_old(root, key))
    }

    /// Whether a record is in a container now.
    fn present(&self, container: &str, key: &str) -> bool {
        Containers::of(self.doc, container)
            .ok()
            .and_then(|c| c.holding(self.doc, key).ok().flatten().cloned())
            .is_some()
    }

    /// Every version of a record, parsed; a value that is not the record's type is refused.
    fn parse<T: Hydrate>(
        &self,
        container: &str,
        key: &str,
        what: &str,
    ) -> Result<Versions<T>, Refusal> {
        let name = format!("{container}/{key}");
        match read_one::<_, T>(self.doc, container, key) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(Refusal::new(name, Reason::Malformed, format!("not {what}"))),
            Err(_) => Err(Refusal::new(name, Reason::Malformed, format!("not {what}"))),
        }
    }

    /// Whether every version now is a version the record had before (an identical rewrite,
    /// e.g. two phones generating the same session of a series offline).
    fn unchanged<T: Hydrate + PartialEq>(
        &mut self,
        container: &str,
        key: &str,
        now: &Versions<T>,
    ) -> Result<bool, Refusal> {
        let before = self.before_doc()?;
        let Ok(Some(was)) = read_one::<_, T>(before, container, key) else {
            return Ok(false);
        };
        Ok(all(now).all(|n| all(&was).any(|w| w == n)))
    }

    /// A record created by this change set must be signed by the editor (`system` where
    /// Nabo itself makes the record, e.g. a session generated from a series).
    fn signed(&self, record: &str, field: &str, by: &By, system_ok: bool) -> Result<(), Refusal> {
        if self.editor.signs(by) || (system_ok && *by == By::System) {
            Ok(())
        } else {
            Err(not_permitted(
                &format!("{record}.{field}"),
                "the record is signed by someone other than the sender",
            ))
        }
    }

    pub(super) fn entry(
        &mut self,
        root: &str,
        key: Option<&str>,
        t: &Touch,
    ) -> Result<(), Refusal> {
        let is_container = containers(self.kind).contains(root);
        let name = key.map_or_else(|| root.to_owned(), |k| format!("{root}/{k}"));
        match (self.role(), self.kind) {
            (AppRole::Board, _) => return Err(not_permitted(&name, "board members only read")),
            (AppRole::Volunteer, k) if !matches!(k, DocKind::Register | DocKind::ResidentLog) => {
                return Err(not_permitted(
                    &name,
                    "volunteers write registers and resident logs only",
                ));
            }
            (AppRole::Outreach, DocKind::Tenant | DocKind::Staff | DocKind::Volunteers) => {
                return Err(not_permitted(&name, "central staff keep this document"));
            }
            _ => {}
        }
        match (root, key) {
            ("kind" | "tenant" | "scope", None) => {
                if self.creating {
                    Ok(())
                } else {
                    Err(not_permitted(root, "a document's identity never changes"))
                }
            }
            ("schema", None) => self.schema(),
            (_, None) if root == "info" || is_container => {
                if self.creating || !self.existed(root, None, t) {
                    Ok(())
                } else {
                    Err(not_permitted(
                        root,
                        "a container is never replaced: that would hide its records",
                    ))
                }
            }
            ("info", Some(k)) => self.info(k, t),
            (c, Some(k)) if is_container => self.record(c, k, t),
            ("activity", None) if self.kind == DocKind::Activity => self.activity(t),
            ("network", None) if self.kind == DocKind::Network => self.network(t),
            (r, _) => Err(Refusal::new(
                r,
                Reason::Malformed,
                format!("not part of a {} document", self.kind),
            )),
        }
    }

    fn schema(&self) -> Result<(), Refusal> {
        let current = self.kind.current_schema();
        for (v, _) in self.doc.get_all(ROOT, "schema").unwrap_or_default() {
            let n = match v {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Uint(u) => Some(*u),
                    ScalarValue::Int(i) => u64::try_from(*i).ok(),
                    _ => None,
                },
                Value::Object(_) => None,
            };
            match n {
                Some(n) if (1..=current).contains(&n) => {}
                Some(_) => {
                    return Err(Refusal::new(
                        "schema",
                        Reason::OutOfRange,
                        format!("this relay knows schema versions 1 to {current}"),
                    ));
                }
                None => return Err(Refusal::new("schema", Reason::Malformed, "not a version")),
            }
        }
        Ok(())
    }

    fn info(&mut self, k: &str, t: &Touch) -> Result<(), Refusal> {
        let name = format!("info/{k}");
        match self.kind {
            DocKind::Tenant => {
                let info = autosurgeon::hydrate_prop::<_, crate::docs::tenant::Settings, _, _>(
                    self.doc, ROOT, "info",
                );
                info.map(|_| ())
                    .map_err(|_| Refusal::new(name, Reason::Malformed, "not the tenant's settings"))
            }
            DocKind::ResidentLog if self.role() != AppRole::Central => Err(not_permitted(
                &name,
                "only central staff change a resident log's information",
            )),
            DocKind::Register => {
                if self.role() == AppRole::Central {
                    return Ok(());
                }
                if k != "area" {
                    return Err(not_permitted(
                        &name,
                        "only central staff change a register's information",
                    ));
                }
                let values = |doc: &Automerge| -> Vec<Option<String>> {
                    let Ok(Some((_, info))) = doc.get(ROOT, "info") else {
                        return Vec::new();
                    };
                    doc.get_all(&info, "area")
                        .unwrap_or_default()
                        .iter()
                        .map(|(v, id)| text_of(doc, v, id))
                        .collect()
                };
                let now = values(self.doc);
                if now
                    .iter()
                    .any(|v| v.as_deref().is_none_or(|a| a.parse::<AreaId>().is_err()))
                {
                    return Err(Refusal::new(name, Reason::Malformed, "not an area"));
                }
                if !self.existed("info", Some(k), t) {
                    return Ok(());
                }
                let was = values(self.before_doc()?);
                if now.iter().all(|v| was.contains(v)) {
                    Ok(())
                } else {
                    Err(not_permitted(
                        &name,
                        "the area a register was captured in is set once",
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    fn record(&mut self, c: &str, k: &str, t: &Touch) -> Result<(), Refusal> {
        let name = format!("{c}/{k}");
        let existed = self.existed(c, Some(k), t);
        if !self.present(c, k) {
            if !existed {
                return Ok(());
            }
            return if self.kind == DocKind::Register && c == "attendance" {
                Ok(())
            } else if self.kind == DocKind::Activity && c == "reports" {
                // A report whose retention class says "delete" goes entirely (issue 11
                // item 4): central staff's, as the retention job.
                if self.role() == AppRole::Central {
                    Ok(())
                } else {
                    Err(not_permitted(&name, "only central staff delete a report"))
                }
            } else {
                Err(not_permitted(
                    &name,
                    "records are never removed (sessions are cancelled, participants merged)",
                ))
            };
        }
        if let Err(what) = super::unreadable::parses(self.doc, self.kind, c, k) {
            return Err(Refusal::new(name, Reason::Malformed, what));
        }
        match self.kind {
            DocKind::Register => self.register(c, k, &name, existed, t),
            DocKind::Outreach => self.outreach(c, k, &name, existed),
            DocKind::Activity => self.activity_record(c, k, &name, existed),
            DocKind::ResidentLog => self.resident(c, k, &name, existed),
            DocKind::Volunteers if c == "volunteers" && existed => {
                // Central staff's document; an erasure is final there too (ADR 0019).
                let v = self.parse::<Volunteer>(c, k, "a volunteer")?;
                let was: Option<Versions<Volunteer>> =
                    read_one(self.before_doc()?, c, k).ok().flatten();
                self.erasure_kept(&name, was.as_ref(), &v)
            }
            DocKind::Staff if c == "staff" && existed => {
                // A staff member's erasure is final too (issue 11 item 4).
                let v = self.parse::<StaffMember>(c, k, "a staff member")?;
                let was: Option<Versions<StaffMember>> =
                    read_one(self.before_doc()?, c, k).ok().flatten();
                self.erasure_kept(&name, was.as_ref(), &v)
            }
            // Tenant, the rest of staff and volunteers (central staff's) and network meetings:
            // they parse.
            _ => Ok(()),
        }
    }

    /// Erasure is central staff's, and final (ADR 0019): a record of a person erased before
    /// the change stays erased in some version after it, and only central staff mark one.
    fn erasure_kept<T: crate::erasure::Erasable>(
        &self,
        name: &str,
        was: Option<&Versions<T>>,
        now: &Versions<T>,
    ) -> Result<(), Refusal> {
        self.mark_kept(
            name,
            was,
            now,
            Mark {
                field: "erased",
                stays: "an erased person stays erased",
                whose: "erasing a person is central staff's",
            },
        )
    }

    /// A disposal mark (an erasure, a report's anonymisation) is final and central staff's:
    /// set before the change, it stays set in some version after it; only central staff
    /// (and the relay's retention job, which acts as central) set one.
    fn mark_kept<T: crate::erasure::Erasable>(
        &self,
        name: &str,
        was: Option<&Versions<T>>,
        now: &Versions<T>,
        mark: Mark,
    ) -> Result<(), Refusal> {
        let field = format!("{name}.{}", mark.field);
        if !crate::erasure::keeps_erasure(was, now) {
            return Err(Refusal::new(field, Reason::Erased, mark.stays));
        }
        if self.role() != AppRole::Central
            && crate::erasure::is_erased(now)
            && !was.is_some_and(crate::erasure::is_erased)
        {
            return Err(not_permitted(&field, mark.whose));
        }
        Ok(())
    }

    /// The session of a `<session>/<…>` key, which must exist in the register.
    fn session_key<'k>(&self, name: &str, k: &'k str) -> Result<&'k str, Refusal> {
        let Some((s, rest)) = k.split_once('/') else {
            return Err(Refusal::new(name, Reason::Malformed, "not <session>/<…>"));
        };
        if s.parse::<SessionId>().is_err() {
            return Err(Refusal::new(name, Reason::Malformed, "not <session>/<…>"));
        }
        if !self.present("sessions", s) {
            return Err(Refusal::new(
                name,
                Reason::NotFound,
                "no such session in this register",
            ));
        }
        Ok(rest)
    }

    fn register(
        &mut self,
        c: &str,
        k: &str,
        name: &str,
        existed: bool,
        t: &Touch,
    ) -> Result<(), Refusal> {
        let cat = self.ctx.catalogue;
        let role = self.role();
        match c {
            "sessions" => {
                let v = self.parse::<Session>(c, k, "a session")?;
                let term = match self.scope {
                    Scope::Register { term, .. } => *term,
                    _ => return Err(Refusal::new(name, Reason::Malformed, "not a register")),
                };
                for s in all(&v) {
                    crate::docs::register::check_session(term, s)
                        .map_err(|e| from_error(name, e))?;
                }
                if !existed {
                    return self.signed(name, "by", &v.current.by, true);
                }
                // Marks an old app (schema 1) keeps inside the session are roll calls.
                let marks_only = !t.direct && t.fields.iter().all(|f| f == "attendance");
                if role == AppRole::Volunteer && !marks_only && !self.unchanged(c, k, &v)? {
                    return Err(not_permitted(
                        name,
                        "a volunteer adds sessions but does not change them",
                    ));
                }
                Ok(())
            }
            "participants" => {
                let v = self.parse::<Participant>(c, k, "a participant")?;
                for p in all(&v) {
                    crate::docs::register::check_participant(cat, p)
                        .map_err(|e| from_error(name, e))?;
                    if let Some(m) = &p.merged_into
                        && (m.as_str() == k || !self.present("participants", m.as_str()))
                    {
                        return Err(Refusal::new(
                            format!("{name}.merged_into"),
                            Reason::NotFound,
                            "merged into no other participant of this register",
                        ));
                    }
                }
                if k.parse::<ParticipantId>().is_err() {
                    return Err(Refusal::new(
                        name,
                        Reason::Malformed,
                        "not a participant id",
                    ));
                }
                // Erasure is central staff's, and final (ADR 0019).
                let was = if existed {
                    read_one::<_, Participant>(self.before_doc()?, c, k)
                        .ok()
                        .flatten()
                } else {
                    None
                };
                if let Some(was) = &was
                    && !crate::consent::keeps_withdrawal(
                        all(was).map(|p| p.consent.as_ref()),
                        all(&v).map(|p| p.consent.as_ref()),
                    )
                {
                    return Err(withdrawn(name));
                }
                self.erasure_kept(name, was.as_ref(), &v)?;
                if !existed {
                    self.signed(name, "added_by", &v.current.added_by, false)?;
                    if role == AppRole::Volunteer && v.current.merged_into.is_some() {
                        return Err(not_permitted(
                            &format!("{name}.merged_into"),
                            "merging participants is central staff's review",
                        ));
                    }
                    return Ok(());
                }
                // A volunteer corrects a child's details; merging and attribution are review.
                const DETAILS: [&str; 5] =
                    ["age_band", "gender", "resident", "label", "recruitment"];
                if role == AppRole::Volunteer {
                    let other = t.fields.iter().find(|f| !DETAILS.contains(&f.as_str()));
                    if (t.direct || other.is_some()) && !self.unchanged(c, k, &v)? {
                        let record =
                            other.map_or_else(|| name.to_owned(), |f| format!("{name}.{f}"));
                        return Err(not_permitted(
                            &record,
                            "a volunteer adds children and corrects their details; merging and attribution are central staff's review",
                        ));
                    }
                }
                Ok(())
            }
            "attendance" => {
                self.parse::<AttendanceStatus>(c, k, "a roll-call mark")?;
                let p = self.session_key(name, k)?;
                if p.parse::<ParticipantId>().is_err() {
                    return Err(Refusal::new(
                        name,
                        Reason::Malformed,
                        "not <session>/<participant>",
                    ));
                }
                if self.present("participants", p) {
                    Ok(())
                } else {
                    Err(Refusal::new(
                        name,
                        Reason::NotFound,
                        "no such participant in this register",
                    ))
                }
            }
            "headcounts" => {
                let bucket = self.session_key(name, k)?;
                let Ok(bucket) = bucket.parse::<HeadcountBucket>() else {
                    return Err(Refusal::new(
                        name,
                        Reason::Malformed,
                        "not a headcount bucket",
                    ));
                };
                let v = self.parse::<u64>(c, k, "a count")?;
                for n in all(&v) {
                    crate::docs::register::check_headcount(cat, &bucket, *n)
                        .map_err(|e| from_error(name, e))?;
                }
                Ok(())
            }
            "shifts" => {
                let volunteer = self.session_key(name, k)?;
                let Ok(volunteer) = volunteer.parse::<VolunteerId>() else {
                    return Err(Refusal::new(
                        name,
                        Reason::Malformed,
                        "not <session>/<volunteer>",
                    ));
                };
                let v = self.parse::<Shift>(c, k, "a shift")?;
                for s in all(&v) {
                    crate::docs::register::check_shift(s).map_err(|e| from_error(name, e))?;
                }
                if role == AppRole::Volunteer && self.editor.volunteer.as_ref() != Some(&volunteer)
                {
                    return Err(not_permitted(
                        name,
                        "a volunteer signs up, checks in and out only for themselves",
                    ));
                }
                if role == AppRole::Volunteer {
                    self.certificate(name, k, &volunteer, &v, t)?;
                }
                Ok(())
            }
            _ => {
                // staff_presence
                let staff = self.session_key(name, k)?;
                let Ok(staff) = staff.parse::<StaffId>() else {
                    return Err(Refusal::new(
                        name,
                        Reason::Malformed,
                        "not <session>/<staff>",
                    ));
                };
                let v = self.parse::<u64>(c, k, "minutes")?;
                for m in all(&v) {
                    crate::docs::register::check_staff_minutes(*m)
                        .map_err(|e| from_error(name, e))?;
                }
                match role {
                    AppRole::Central => Ok(()),
                    AppRole::Outreach if self.editor.staff.as_ref() == Some(&staff) => Ok(()),
                    _ => Err(not_permitted(name, "staff record only their own presence")),
                }
            }
        }
    }

    /// A volunteer's own sign-up or check-in (a new shift, or `signed_up` / `check_in`
    /// written) for a session with children under 15 needs a child certificate valid on the
    /// session's day, as the volunteer directory holds it now (ADR 0023). Cancelling and
    /// checking out are never blocked.
    fn certificate(
        &self,
        name: &str,
        k: &str,
        volunteer: &VolunteerId,
        v: &Versions<Shift>,
        t: &Touch,
    ) -> Result<(), Refusal> {
        let Some(facts) = self.ctx.shifts else {
            return Ok(());
        };
        let joins = t.direct || t.fields.iter().any(|f| f == "signed_up" || f == "check_in");
        let active = all(v).any(|s| (s.signed_up && !s.cancelled) || s.check_in.is_some());
        if !joins || !active {
            return Ok(());
        }
        let Some((sid, _)) = k.split_once('/') else {
            return Ok(());
        };
        let Ok(sid) = sid.parse::<SessionId>() else {
            return Ok(());
        };
        let Ok(Some(session)) = read_one::<_, Session>(self.doc, "sessions", sid.as_str()) else {
            return Ok(());
        };
        let children = crate::docs::register::involves_children_under_15(
            self.doc,
            self.ctx.catalogue,
            facts.children_under_15,
            &sid,
        )
        .map_err(|e| from_error(name, e))?;
        if children && !facts.certificates.valid_on(volunteer, session.current.date) {
            return Err(Refusal::new(
                name,
                Reason::ChildCertificateRequired,
                "a valid child certificate (børneattest) is required for sessions with children under 15",
            ));
        }
        Ok(())
    }

    fn outreach(&mut self, c: &str, k: &str, name: &str, existed: bool) -> Result<(), Refusal> {
        let cat = self.ctx.catalogue;
        match c {
            "contacts" => {
                let quarter = match self.scope {
                    Scope::Outreach { quarter, .. } => *quarter,
                    _ => return Err(Refusal::new(name, Reason::Malformed, "not an outreach log")),
                };
                let v = self.parse::<OutreachContact>(c, k, "a contact")?;
                for x in all(&v) {
                    crate::docs::outreach::check_contact(cat, quarter, self.ctx.free_text_notes, x)
                        .map_err(|e| from_error(name, e))?;
                    if let Some(p) = &x.participant
                        && !self.present("people", p.as_str())
                    {
                        return Err(Refusal::new(
                            format!("{name}.participant"),
                            Reason::NotFound,
                            "not a known person in this log",
                        ));
                    }
                }
                if existed {
                    Ok(())
                } else {
                    self.signed(name, "by", &v.current.by, false)
                }
            }
            "people" => {
                let v = self.parse::<KnownPerson>(c, k, "a known person")?;
                for p in all(&v) {
                    crate::docs::outreach::check_person(cat, p).map_err(|e| from_error(name, e))?;
                }
                let was: Option<Versions<KnownPerson>> = if existed {
                    read_one(self.before_doc()?, c, k).ok().flatten()
                } else {
                    None
                };
                if let Some(was) = &was
                    && !crate::consent::keeps_withdrawal(
                        all(was).map(|p| p.consent.as_ref()),
                        all(&v).map(|p| p.consent.as_ref()),
                    )
                {
                    return Err(withdrawn(name));
                }
                self.erasure_kept(name, was.as_ref(), &v)
            }
            "referrals" => {
                let v = self.parse::<Referral>(c, k, "a referral")?;
                for r in all(&v) {
                    crate::docs::outreach::check_referral(cat, r)
                        .map_err(|e| from_error(name, e))?;
                    if let Some(x) = &r.from_contact
                        && !self.present("contacts", x.as_str())
                    {
                        return Err(Refusal::new(
                            format!("{name}.from_contact"),
                            Reason::NotFound,
                            "no such contact in this log",
                        ));
                    }
                    if let Some(p) = &r.participant
                        && !self.present("people", p.as_str())
                    {
                        return Err(Refusal::new(
                            format!("{name}.participant"),
                            Reason::NotFound,
                            "not a known person in this log",
                        ));
                    }
                }
                let was: Option<Versions<Referral>> = if existed {
                    read_one(self.before_doc()?, c, k).ok().flatten()
                } else {
                    None
                };
                // Sharing details needs the person's consent to cover it on the referral's
                // day (ADR 0027): checked when a version starts sharing, so a referral made
                // before a withdrawal stays valid when its status moves later.
                for r in all(&v) {
                    let shared_before = was
                        .as_ref()
                        .is_some_and(|w| all(w).any(|w| w.consent_to_share));
                    if let (true, false, Some(p)) =
                        (r.consent_to_share, shared_before, &r.participant)
                    {
                        let person =
                            self.parse::<KnownPerson>("people", p.as_str(), "a known person")?;
                        crate::docs::outreach::check_sharing(r, &person.current)
                            .map_err(|e| from_error(name, e))?;
                    }
                }
                if !existed {
                    self.signed(name, "by", &v.current.by, false)?;
                }
                if let Some(was) = &was
                    && all(was).all(|w| w.status.is_closed())
                    && all(&v).any(|n| n.status != was.current.status)
                {
                    return Err(Refusal::new(
                        format!("{name}.status"),
                        Reason::NotAllowed,
                        "the referral is closed",
                    ));
                }
                // Every new status change is signed by the sender.
                for r in all(&v) {
                    for (hk, h) in r.history.iter() {
                        let old = was
                            .as_ref()
                            .is_some_and(|w| all(w).any(|w| w.history.contains_key(hk)));
                        if !old {
                            self.signed(name, "history", &h.by, false)?;
                        }
                    }
                }
                Ok(())
            }
            _ => {
                let v = self.parse::<Observation>(c, k, "an observation")?;
                for o in all(&v) {
                    crate::docs::outreach::check_observation(cat, o)
                        .map_err(|e| from_error(name, e))?;
                }
                // Every new status change on the estate office's list is signed by the sender.
                let was: Option<Versions<Observation>> = if existed {
                    read_one(self.before_doc()?, c, k).ok().flatten()
                } else {
                    None
                };
                for o in all(&v) {
                    for (hk, h) in o.handling.iter() {
                        let old = was
                            .as_ref()
                            .is_some_and(|w| all(w).any(|w| w.handling.contains_key(hk)));
                        if !old {
                            self.signed(name, "handling", &h.by, false)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Ambassador rounds and food-club evenings (ADR 0030): every version passes the
    /// record's checks; a new one is signed by the sender; a volunteer changes only what
    /// they logged themselves, and never who logged it.
    fn resident(&mut self, c: &str, k: &str, name: &str, existed: bool) -> Result<(), Refusal> {
        use crate::model::resident::{AmbassadorRound, FoodClubEvening};
        let term = match self.scope {
            Scope::ResidentLog { term, .. } => *term,
            _ => return Err(Refusal::new(name, Reason::Malformed, "not a resident log")),
        };
        let (now, was): (Vec<By>, Vec<By>) = match c {
            "rounds" => {
                let v = self.parse::<AmbassadorRound>(c, k, "an ambassador round")?;
                for r in all(&v) {
                    crate::docs::resident::check_round(self.ctx.catalogue, term, r)
                        .map_err(|e| from_error(name, e))?;
                }
                let was = if existed {
                    read_one::<_, AmbassadorRound>(self.before_doc()?, c, k)
                        .ok()
                        .flatten()
                        .map(|w| all(&w).map(|r| r.by.clone()).collect())
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                (all(&v).map(|r| r.by.clone()).collect(), was)
            }
            _ => {
                let v = self.parse::<FoodClubEvening>(c, k, "a food-club evening")?;
                for e in all(&v) {
                    crate::docs::resident::check_evening(term, e)
                        .map_err(|e| from_error(name, e))?;
                }
                let was = if existed {
                    read_one::<_, FoodClubEvening>(self.before_doc()?, c, k)
                        .ok()
                        .flatten()
                        .map(|w| all(&w).map(|e| e.by.clone()).collect())
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                (all(&v).map(|e| e.by.clone()).collect(), was)
            }
        };
        if !existed {
            return match now.first() {
                Some(by) => self.signed(name, "by", by, false),
                None => Err(Refusal::new(name, Reason::Malformed, "no author")),
            };
        }
        if self.role() == AppRole::Central {
            return Ok(());
        }
        if now.iter().any(|b| !was.contains(b)) {
            return Err(not_permitted(
                &format!("{name}.by"),
                "who logged a record never changes",
            ));
        }
        if self.role() == AppRole::Volunteer && !was.iter().all(|b| self.editor.signs(b)) {
            return Err(not_permitted(
                name,
                "a volunteer changes only what they logged themselves",
            ));
        }
        Ok(())
    }

    fn activity_record(
        &mut self,
        c: &str,
        k: &str,
        name: &str,
        existed: bool,
    ) -> Result<(), Refusal> {
        match c {
            "roster" => {
                let v = self.parse::<RosterVolunteer>(c, k, "a roster entry")?;
                for r in all(&v) {
                    crate::docs::require_term(
                        self.ctx.catalogue,
                        crate::catalogue::Vocabulary::VolunteerRoles,
                        "role",
                        &r.role,
                    )
                    .map_err(|e| from_error(name, e))?;
                }
                if self.role() == AppRole::Central {
                    Ok(())
                } else {
                    Err(not_permitted(name, "central staff keep the roster"))
                }
            }
            "series" => {
                let v = self.parse::<SessionSeries>(c, k, "a series")?;
                for s in all(&v) {
                    crate::docs::activity::check_series(s).map_err(|e| from_error(name, e))?;
                }
                Ok(())
            }
            "measurements" => {
                let v = self.parse::<Measurement>(c, k, "a measurement")?;
                if existed {
                    Ok(())
                } else {
                    self.signed(name, "by", &v.current.by, false)
                }
            }
            "reports" => {
                let v = self.parse::<GoalReport>(c, k, "a goal report")?;
                // Anonymised at the end of its retention (issue 11 item 4): no version holds
                // text, the mark stays, and only central staff set it.
                for r in all(&v) {
                    crate::docs::activity::check_anonymised(r).map_err(|e| from_error(name, e))?;
                }
                let was: Option<Versions<GoalReport>> = if existed {
                    read_one(self.before_doc()?, c, k).ok().flatten()
                } else {
                    None
                };
                self.mark_kept(
                    name,
                    was.as_ref(),
                    &v,
                    Mark {
                        field: "anonymised",
                        stays: "an anonymised report stays anonymised",
                        whose: "anonymising a report is central staff's",
                    },
                )?;
                if existed {
                    Ok(())
                } else {
                    self.signed(name, "by", &v.current.by, false)
                }
            }
            // challenges, goals, indicators: they parse.
            _ => Ok(()),
        }
    }

    /// Every version of a single-record root (`activity`, `network`).
    fn root_versions<T: Hydrate>(doc: &Automerge, key: &str) -> Result<Vec<T>, ()> {
        doc.get_all(ROOT, key)
            .map_err(|_| ())?
            .into_iter()
            .map(|(v, id)| match v {
                Value::Object(ObjType::Map) => T::hydrate_map(doc, &id).map_err(|_| ()),
                _ => Err(()),
            })
            .collect()
    }

    fn activity(&mut self, t: &Touch) -> Result<(), Refusal> {
        let now: Vec<Activity> = Self::root_versions(self.doc, "activity")
            .map_err(|_| Refusal::new("activity", Reason::Malformed, "not an activity"))?;
        for a in &now {
            crate::docs::activity::validate_activity(self.ctx.catalogue, a)
                .map_err(|e| from_error("activity", e))?;
        }
        if self.role() == AppRole::Central || !self.existed("activity", None, t) {
            return Ok(());
        }
        let was: Vec<Activity> =
            Self::root_versions(self.before_doc()?, "activity").unwrap_or_default();
        let fixed = |a: &Activity| {
            (
                a.area.clone(),
                a.area_history.clone(),
                a.programme.clone(),
                a.legal_basis,
                a.retention,
                a.controller.clone(),
            )
        };
        if now.iter().all(|n| was.iter().any(|w| fixed(w) == fixed(n))) {
            Ok(())
        } else {
            Err(not_permitted(
                "activity",
                "only central staff move an activity or change its programme, legal basis, retention or controller",
            ))
        }
    }

    fn network(&mut self, t: &Touch) -> Result<(), Refusal> {
        let now: Vec<Network> = Self::root_versions(self.doc, "network")
            .map_err(|_| Refusal::new("network", Reason::Malformed, "not a network"))?;
        for n in &now {
            crate::docs::network::check_network(n).map_err(|e| from_error("network", e))?;
        }
        if self.role() == AppRole::Central || !self.existed("network", None, t) {
            return Ok(());
        }
        let was: Vec<Network> =
            Self::root_versions(self.before_doc()?, "network").unwrap_or_default();
        if now.iter().all(|n| was.iter().any(|w| w.leader == n.leader)) {
            Ok(())
        } else {
            Err(not_permitted(
                "network.leader",
                "only central staff choose a network's leader",
            ))
        }
    }
}
