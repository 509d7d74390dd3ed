//! The attendance register: one activity for one term — sessions, participants, roll calls,
//! headcounts, volunteer shifts and staff presence.
//!
//! Merge rules (ADR 0003, tested in `core/tests/merge_semantics.rs`):
//! - two phones mark the same child present in the same session → one mark (the key is
//!   `<session>/<participant>`);
//! - one marks present, the other absent → Automerge's deterministic winner is shown on every
//!   replica and the losing mark is kept in [`Versions::conflicts`] for review; marking again
//!   resolves it;
//! - a session cancelled on one phone while another takes the roll → the session is cancelled
//!   (never removed) and the marks are kept; the review lists it
//!   ([`ReviewItem::CancelledSessionWithAttendance`]);
//! - the same new child added on two phones → two participants (random ids); the review
//!   proposes them as duplicates and [`RegisterDoc::merge_participants`] merges them, after
//!   which their marks count as one person's;
//! - sessions generated from a series have derived ids, so two phones generating the same
//!   occurrence offline write the same session.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::ActorId;
use automerge::transaction::Transactable;

use super::activity::ActivitySnapshot;
use super::{MAX_NAME, limit_text, require_term};
use crate::catalogue::{Catalogue, Vocabulary};
use crate::document::{
    Author, ChangeNote, Containers, NaboDoc, Scope, Versions, read_all, read_one, typed_doc,
    write_record,
};
use crate::error::{Error, Reason, Result, invalid};
use crate::ids::{
    ActivityId, AreaId, Code, ParticipantId, SessionId, StaffId, TenantId, VenueId, VolunteerId,
};
use crate::model::register::{HeadcountBucket, HeadcountSplit, Participant, Session, Shift};
use crate::model::{AttendanceMode, AttendanceStatus, By, Gender, Sealed};
use crate::time::{Date, Term, Time, Timestamp};

/// The largest headcount accepted for one bucket of one session.
pub const MAX_HEADCOUNT: u32 = 5000;
/// The longest shift accepted, in minutes.
pub const MAX_SHIFT_MINUTES: u32 = 24 * 60;

/// The attendance register of an activity for a term.
#[derive(Debug, Clone)]
pub struct RegisterDoc {
    doc: NaboDoc,
    /// What the hot paths (roll call, check-in) validate against, valid for `heads`.
    index: Option<RegisterIndex>,
}
typed_doc!(RegisterDoc, crate::document::DocKind::Register, index: None);

/// An in-memory index of the fields the roll call checks: a session's date and whether it is
/// cancelled, a participant's merge target, and the object ids of the hot containers. It is
/// valid for exactly the heads it was built at (or advanced to by a write that cannot change
/// it); any other change — a merge, a sync, another operation — makes it rebuild on next use.
#[derive(Debug, Clone)]
struct RegisterIndex {
    heads: Vec<automerge::ChangeHash>,
    sessions: HashMap<SessionId, SessionBrief>,
    participants: HashMap<ParticipantId, ParticipantBrief>,
    attendance: Option<automerge::ObjId>,
    shifts: Option<automerge::ObjId>,
}

#[derive(Debug, Clone, autosurgeon::Hydrate)]
struct SessionBrief {
    date: Date,
    cancelled: bool,
}

#[derive(Debug, Clone, autosurgeon::Hydrate)]
struct ParticipantBrief {
    merged_into: Option<ParticipantId>,
}

/// What register operations validate against: the catalogue, the activity and the
/// volunteers' current child certificates.
#[derive(Debug, Clone, Copy)]
pub struct RegisterContext<'a> {
    /// The catalogue (with the tenant's local additions).
    pub catalogue: &'a Catalogue,
    /// The activity, its series and roster.
    pub activity: &'a ActivitySnapshot,
    /// The volunteers' current child certificates from the volunteer directory (a
    /// volunteer's phone: its own). [`crate::docs::volunteers::NO_CERTIFICATES`] where no
    /// volunteer's shift is written.
    pub certificates: &'a crate::docs::volunteers::Certificates,
}

/// Input for a one-off session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Date.
    pub date: Date,
    /// Start.
    pub start: Time,
    /// End.
    pub end: Time,
    /// Venue.
    pub venue: Option<VenueId>,
    /// Title (a party, a trip).
    pub title: Option<String>,
}

/// Input for a new participant.
#[derive(Debug, Clone)]
pub struct NewParticipant {
    /// Age band code.
    pub age_band: String,
    /// Gender, if the activity asks.
    pub gender: Option<Gender>,
    /// Lives in the area.
    pub resident: Option<bool>,
    /// The roll-call label sealed with the participant's key ([`crate::seal`]). Not allowed in
    /// headcount mode.
    pub label: Option<Sealed>,
    /// Recruitment path code.
    pub recruitment: Option<String>,
}

/// The merged register.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterView {
    /// Sessions.
    pub sessions: BTreeMap<SessionId, Versions<Session>>,
    /// Participants.
    pub participants: BTreeMap<ParticipantId, Versions<Participant>>,
    /// Roll-call marks by (session, participant). Who marked and when is in the change
    /// history ([`RegisterDoc::mark_history`]).
    pub attendance: BTreeMap<(SessionId, ParticipantId), Versions<AttendanceStatus>>,
    /// Headcounts by (session, bucket).
    pub headcounts: BTreeMap<(SessionId, HeadcountBucket), Versions<u32>>,
    /// Volunteer shifts by (session, volunteer).
    pub shifts: BTreeMap<(SessionId, VolunteerId), Versions<Shift>>,
    /// Staff minutes by (session, staff member).
    pub staff_presence: BTreeMap<(SessionId, StaffId), Versions<u32>>,
}

/// One value of a roll-call mark with its provenance from the change history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkProvenance {
    /// The status written.
    pub status: AttendanceStatus,
    /// Who wrote it (from the change note).
    pub by: Option<By>,
    /// When (seconds since the epoch, device clock).
    pub time: i64,
    /// The device (actor id, hex).
    pub actor: String,
}

/// Something in a register that central staff should look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewItem {
    /// Two phones gave different marks for the same child in the same session.
    AttendanceConflict {
        /// Session.
        session: SessionId,
        /// Participant.
        participant: ParticipantId,
        /// The statuses written (shown one first).
        statuses: Vec<AttendanceStatus>,
    },
    /// A session was cancelled on one phone while another recorded attendance in it.
    CancelledSessionWithAttendance {
        /// Session.
        session: SessionId,
        /// Marks and headcounts recorded.
        records: usize,
    },
    /// Two sessions on the same date and overlapping times (the same session created twice).
    DuplicateSessions {
        /// The sessions.
        sessions: Vec<SessionId>,
    },
    /// Two participants that look like the same person (the same child added twice).
    DuplicateParticipants {
        /// The participants, oldest first.
        participants: Vec<ParticipantId>,
    },
    /// A session, participant or shift edited concurrently with different values.
    RecordConflict {
        /// Which container.
        container: &'static str,
        /// Which record.
        key: String,
    },
}

fn attendance_key(s: &SessionId, p: &ParticipantId) -> String {
    format!("{s}/{p}")
}

fn split_key<A: std::str::FromStr, B: std::str::FromStr>(k: &str) -> Result<(A, B)> {
    let bad = || Error::Schema(format!("malformed key {k}"));
    let (a, b) = k.split_once('/').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

impl RegisterDoc {
    /// Creates the register of `activity` for `term`, with the sessions of its series, and
    /// records the area it is captured in. The document id is derived from the scope, so two
    /// phones creating it offline create the same document.
    pub fn create(
        tenant: TenantId,
        activity: ActivityId,
        term: Term,
        actor: ActorId,
        author: &Author,
        ctx: RegisterContext<'_>,
    ) -> Result<Self> {
        let doc = NaboDoc::create(
            Scope::Register {
                tenant,
                activity,
                term,
            },
            actor,
        )?;
        let mut reg = RegisterDoc { doc, index: None };
        let area = ctx.activity.activity.area_on(term.first_day()).clone();
        reg.doc.write(author, "create-register", |tx| {
            let info = match automerge::ReadDoc::get(tx, automerge::ROOT, "info")? {
                Some((automerge::Value::Object(_), id)) => id,
                _ => return Err(Error::Schema("info missing".into())),
            };
            tx.put(&info, "area", area.as_str())?;
            Ok(())
        })?;
        reg.generate_sessions(author, ctx)?;
        Ok(reg)
    }

    /// The term.
    pub fn term(&self) -> Term {
        match self.doc.scope() {
            Scope::Register { term, .. } => *term,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// The activity.
    pub fn activity_id(&self) -> &ActivityId {
        match self.doc.scope() {
            Scope::Register { activity, .. } => activity,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// The ids of every participant record in the register, merged-away ones included: the
    /// subjects whose keys open its labels (ADR 0004, ADR 0011). Cheap: reads the keys of the
    /// `participants` map only, not the records.
    pub fn participant_ids(&self) -> Vec<String> {
        let am = self.doc.automerge();
        match automerge::ReadDoc::get(am, automerge::ROOT, "participants") {
            Ok(Some((automerge::Value::Object(_), obj))) => {
                automerge::ReadDoc::keys(am, &obj).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The area the register was captured in.
    pub fn area(&self) -> Result<Option<AreaId>> {
        let info = self.doc.info_obj()?;
        Ok(autosurgeon::hydrate_prop::<_, Option<AreaId>, _, _>(
            self.doc.automerge(),
            &info,
            "area",
        )
        .ok()
        .flatten())
    }

    /// Creates the sessions of the activity's series in this term that do not exist yet.
    /// Derived ids make this idempotent across phones. Returns how many were added.
    pub fn generate_sessions(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
    ) -> Result<usize> {
        let term = self.term();
        let existing = read_all::<_, Session>(self.doc.automerge(), "sessions")?;
        let mut new = Vec::new();
        for (sid, s) in &ctx.activity.series {
            for date in s.dates_between(term.first_day(), term.last_day()) {
                let id = SessionId::for_occurrence(sid, date);
                if !existing.contains_key(id.as_str()) {
                    new.push((
                        id,
                        Session {
                            date,
                            start: s.start,
                            end: s.end,
                            venue: s.venue.clone(),
                            series: Some(sid.clone()),
                            title: None,
                            cancelled: false,
                            by: By::System,
                        },
                    ));
                }
            }
        }
        self.doc
            .write_records(author, "generate-sessions", "sessions", &new)
    }

    /// Adds a one-off session (a party, a trip, an extra homework evening).
    pub fn add_session(&mut self, author: &Author, input: NewSession) -> Result<SessionId> {
        let id = SessionId::random();
        let s = Session {
            date: input.date,
            start: input.start,
            end: input.end,
            venue: input.venue,
            series: None,
            title: input.title,
            cancelled: false,
            by: author.by.clone(),
        };
        check_session(self.term(), &s)?;
        self.doc.write(author, "add-session", |tx| {
            write_record(tx, "sessions", id.as_str(), &s)
        })?;
        Ok(id)
    }

    /// Cancels (or restores) a session. A session is never removed; its records stay.
    pub fn set_cancelled(
        &mut self,
        author: &Author,
        session: &SessionId,
        cancelled: bool,
    ) -> Result<()> {
        let mut s = self.session(session)?;
        s.cancelled = cancelled;
        let op = if cancelled {
            "cancel-session"
        } else {
            "restore-session"
        };
        self.doc.write(author, op, |tx| {
            write_record(tx, "sessions", session.as_str(), &s)
        })
    }

    /// Changes a session's date, times, venue or title (ADR 0026): `f` edits a copy, which is
    /// checked like a new session (a date in this register's term, ending after it starts).
    /// The session keeps its id, so a roll call, headcounts and shifts recorded for it stay
    /// with it and count on its new date; a session of a series keeps its series (its derived
    /// id stops the series from generating the original date again). Whether it is cancelled
    /// and who created it are not changed here; a cancelled session is refused (restore it
    /// first); an unknown id is refused, never created; a change that changes nothing writes
    /// nothing.
    pub fn change_session(
        &mut self,
        author: &Author,
        session: &SessionId,
        f: impl FnOnce(&mut Session),
    ) -> Result<()> {
        let old = self.session(session)?;
        if old.cancelled {
            return invalid("session", Reason::NotActive, "the session is cancelled");
        }
        let mut s = old.clone();
        f(&mut s);
        s.cancelled = old.cancelled;
        s.series = old.series.clone();
        s.by = old.by.clone();
        s.title = s
            .title
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if s == old {
            return Ok(());
        }
        check_session(self.term(), &s)?;
        self.doc.write(author, "change-session", |tx| {
            write_record(tx, "sessions", session.as_str(), &s)
        })
    }

    /// A session (the shown version).
    pub fn session(&self, id: &SessionId) -> Result<Session> {
        match read_one::<_, Session>(self.doc.automerge(), "sessions", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid(
                "session",
                Reason::NotFound,
                "no such session in this register",
            ),
        }
    }

    /// The index, rebuilt if the document changed since it was made.
    fn index(&mut self) -> Result<&RegisterIndex> {
        let heads = self.doc.heads();
        if self.index.as_ref().is_none_or(|i| i.heads != heads) {
            let am = self.doc.automerge();
            let single = |c: &str| -> Result<Option<automerge::ObjId>> {
                let cs = Containers::of(am, c)?;
                Ok(if cs.iter().count() == 1 {
                    Some(cs.shown().clone())
                } else {
                    None
                })
            };
            self.index = Some(RegisterIndex {
                sessions: typed(read_all::<_, SessionBrief>(am, "sessions")?)?
                    .into_iter()
                    .map(|(k, v)| (k, v.current))
                    .collect(),
                participants: typed(read_all::<_, ParticipantBrief>(am, "participants")?)?
                    .into_iter()
                    .map(|(k, v)| (k, v.current))
                    .collect(),
                attendance: single("attendance")?,
                shifts: single("shifts")?,
                heads,
            });
        }
        match &self.index {
            Some(i) => Ok(i),
            None => Err(Error::Schema("register index".into())),
        }
    }

    /// After a write that cannot change the index (a mark, a shift), keep it valid.
    fn index_still_valid(&mut self, before: &[automerge::ChangeHash]) {
        let heads = self.doc.heads();
        if let Some(i) = self.index.as_mut()
            && i.heads == before
        {
            i.heads = heads;
        }
    }

    /// The date of a session that is not cancelled.
    fn open_session(&mut self, id: &SessionId) -> Result<Date> {
        session_date(self.index()?, id)
    }

    /// A participant (the shown version).
    pub fn participant(&self, id: &ParticipantId) -> Result<Participant> {
        match read_one::<_, Participant>(self.doc.automerge(), "participants", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid(
                "participant",
                Reason::NotFound,
                "no such participant in this register",
            ),
        }
    }

    /// Adds a participant with a fresh random id. `on` is the date they were first seen.
    pub fn add_participant(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        on: Date,
        input: NewParticipant,
    ) -> Result<ParticipantId> {
        let id = ParticipantId::random();
        self.add_participant_with_id(author, ctx, on, id.clone(), input)?;
        Ok(id)
    }

    /// Adds a participant whose id (and label key) the caller made, e.g. because the label was
    /// sealed with a key for that id first.
    pub fn add_participant_with_id(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        on: Date,
        id: ParticipantId,
        input: NewParticipant,
    ) -> Result<()> {
        let mode = ctx.activity.activity.attendance_mode;
        if mode == AttendanceMode::Headcount {
            return invalid(
                "participant",
                Reason::NotAllowedInMode,
                "the activity counts heads only",
            );
        }
        let age_band: Code = input
            .age_band
            .parse()
            .or_else(|_| invalid("age_band", Reason::UnknownCode, "malformed age band"))?;
        let recruitment = match &input.recruitment {
            None => None,
            Some(r) => Some(
                r.parse::<Code>()
                    .or_else(|_| invalid("recruitment", Reason::UnknownCode, "malformed code"))?,
            ),
        };
        if read_one::<_, Participant>(self.doc.automerge(), "participants", id.as_str())?.is_some()
        {
            return invalid(
                "participant",
                Reason::AlreadyExists,
                "a participant with this id exists",
            );
        }
        let p = Participant {
            age_band,
            gender: input.gender,
            resident: input.resident,
            label: input.label,
            added_on: on,
            added_by: author.by.clone(),
            recruitment,
            merged_into: None,
            erased: None,
            consent: None,
        };
        check_participant(ctx.catalogue, &p)?;
        self.doc.write(author, "add-participant", |tx| {
            write_record(tx, "participants", id.as_str(), &p)
        })
    }

    /// Follows `merged_into` to the participant a record should count for.
    fn canonical(&mut self, id: &ParticipantId) -> Result<ParticipantId> {
        canonical_in(self.index()?, id)
    }

    /// Marks a participant present, absent or excused in a session. A mark for a participant
    /// that review merged into another goes to the other.
    pub fn mark(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        participant: &ParticipantId,
        status: AttendanceStatus,
    ) -> Result<()> {
        if ctx.activity.activity.attendance_mode == AttendanceMode::Headcount {
            return invalid(
                "participant",
                Reason::NotAllowedInMode,
                "the activity counts heads only",
            );
        }
        // One look at the index for everything the mark checks.
        let idx = self.index()?;
        let date = session_date(idx, session)?;
        let participant = canonical_in(idx, participant)?;
        let fast = idx.attendance.clone();
        let before = idx.heads.clone();
        if status == AttendanceStatus::Present && date > author.at.date_dk().add_days(1) {
            return invalid(
                "session",
                Reason::OutOfRange,
                "cannot mark present in a future session",
            );
        }
        let key = attendance_key(session, &participant);
        // A mark is one scalar: who and when are the change's metadata. Writing it replaces
        // every concurrent value, so marking again resolves a conflict.
        self.doc.write(author, "mark-attendance", |tx| {
            let obj = match fast {
                Some(obj) => obj,
                None => {
                    let c = Containers::of(tx, "attendance")?;
                    c.holding(tx, &key)?.unwrap_or(c.shown()).clone()
                }
            };
            tx.put(&obj, key.as_str(), status.code())?;
            Ok(())
        })?;
        self.index_still_valid(&before);
        Ok(())
    }

    /// Every current value of a mark with who wrote it, when and from which device (the
    /// review's "who marked what").
    pub fn mark_history(
        &self,
        session: &SessionId,
        participant: &ParticipantId,
    ) -> Result<Vec<MarkProvenance>> {
        let am = self.doc.automerge();
        let key = attendance_key(session, participant);
        let c = Containers::of(am, "attendance")?;
        let Some(obj) = c.holding(am, &key)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (v, id) in automerge::ReadDoc::get_all(am, obj, key.as_str())? {
            // A JavaScript client writes a status as text; Nabo as a scalar.
            let status = match v {
                automerge::Value::Scalar(sv) => {
                    <AttendanceStatus as autosurgeon::Hydrate>::hydrate_scalar(sv)
                }
                automerge::Value::Object(automerge::ObjType::Text) => {
                    <AttendanceStatus as autosurgeon::Hydrate>::hydrate_text(am, &id)
                }
                automerge::Value::Object(_) => continue,
            };
            let Ok(status) = status else {
                continue;
            };
            let meta = am
                .hash_for_opid(&id)
                .and_then(|h| am.get_change_meta_by_hash(&h));
            out.push(MarkProvenance {
                status,
                by: meta
                    .as_ref()
                    .and_then(|m| {
                        m.message
                            .as_deref()
                            .and_then(|t| serde_json::from_str::<ChangeNote>(t).ok())
                    })
                    .and_then(|n| n.by.parse().ok()),
                time: meta.as_ref().map_or(0, |m| m.timestamp),
                actor: meta
                    .as_ref()
                    .map(|m| m.actor.to_hex_string())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Removes a mark (tapped by mistake).
    pub fn clear_mark(
        &mut self,
        author: &Author,
        session: &SessionId,
        participant: &ParticipantId,
    ) -> Result<()> {
        self.session(session)?;
        let key = attendance_key(session, participant);
        self.doc.write(author, "clear-mark", |tx| {
            let c = crate::document::Containers::of(tx, "attendance")?;
            if let Some(obj) = c.holding(tx, &key)?.cloned() {
                tx.delete(&obj, key.as_str())?;
            }
            Ok(())
        })
    }

    /// Sets a headcount for a session.
    pub fn set_headcount(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        bucket: HeadcountBucket,
        count: u32,
    ) -> Result<()> {
        self.open_session(session)?;
        check_headcount(ctx.catalogue, &bucket, u64::from(count))?;
        let key = format!("{session}/{bucket}");
        self.doc.write(author, "set-headcount", |tx| {
            write_record(tx, "headcounts", &key, &u64::from(count))
        })
    }

    /// Sets a session's headcount by group and its first-timers in one change (headcount
    /// mode on the phone, stories 12 and 17). Any other count of the session that adds to
    /// its attendance (an earlier total) is set to 0, so the groups are the session's count.
    pub fn set_headcounts(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        split: &HeadcountSplit,
    ) -> Result<()> {
        if u64::from(split.first_timers) > split.total() {
            return invalid(
                "first_timers",
                Reason::OutOfRange,
                format!(
                    "{} first-timers among {} counted",
                    split.first_timers,
                    split.total()
                ),
            );
        }
        let mut counts = split.groups().to_vec();
        counts.push((HeadcountBucket::first_timers(), split.first_timers));
        self.replace_headcounts(author, ctx, session, &counts)
    }

    /// Sets a session's total headcount, without groups; counts by group written earlier
    /// are set to 0, so the total is the session's count.
    pub fn set_headcount_total(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        count: u32,
    ) -> Result<()> {
        self.replace_headcounts(author, ctx, session, &[(HeadcountBucket::all(), count)])
    }

    /// Writes `counts` for a session in one change, and 0 for every other bucket of the
    /// session that adds to attendance.
    fn replace_headcounts(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        counts: &[(HeadcountBucket, u32)],
    ) -> Result<()> {
        self.open_session(session)?;
        let mut records: Vec<(String, u64)> = Vec::new();
        for (bucket, n) in counts {
            check_headcount(ctx.catalogue, bucket, u64::from(*n))?;
            records.push((format!("{session}/{bucket}"), u64::from(*n)));
        }
        for ((s, bucket), c) in &self.view()?.headcounts {
            let ours = counts.iter().any(|(b, _)| b == bucket);
            if s == session && bucket.counts_attendance() && !ours && c.current > 0 {
                records.push((format!("{session}/{bucket}"), 0));
            }
        }
        self.doc
            .write_records(author, "set-headcount", "headcounts", &records)
            .map(|_| ())
    }

    /// Whether a session involves children under 15: the activity says so, or a participant
    /// in an under-15 age band is on the register, or a headcount counted under-15s.
    pub fn involves_children_under_15(
        &self,
        ctx: RegisterContext<'_>,
        session: &SessionId,
    ) -> Result<bool> {
        involves_children_under_15(
            self.doc.automerge(),
            ctx.catalogue,
            ctx.activity.activity.children_under_15,
            session,
        )
    }

    fn check_volunteer(
        &self,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        date: Date,
        volunteer: &VolunteerId,
    ) -> Result<()> {
        let Some(r) = ctx.activity.roster.get(volunteer) else {
            return invalid(
                "volunteer",
                Reason::NotFound,
                "not on this activity's roster",
            );
        };
        if !r.active {
            return invalid("volunteer", Reason::NotActive, "no longer on the roster");
        }
        // The directory's current certificate decides (ADR 0023), never the roster's old
        // copy of its dates.
        if self.involves_children_under_15(ctx, session)?
            && !ctx.certificates.valid_on(volunteer, date)
        {
            return invalid(
                "volunteer",
                Reason::ChildCertificateRequired,
                "a valid child certificate (børneattest) is required for sessions with children under 15",
            );
        }
        Ok(())
    }

    /// The container holding (or to hold) a shift, and the shift's current fields.
    fn shift(&mut self, key: &str) -> Result<(automerge::ObjId, Option<Shift>)> {
        let fast = self.index()?.shifts.clone();
        let am = self.doc.automerge();
        let container = match fast {
            Some(c) => c,
            None => {
                let cs = Containers::of(am, "shifts")?;
                cs.holding(am, key)?.unwrap_or(cs.shown()).clone()
            }
        };
        let shift = match automerge::ReadDoc::get(am, &container, key)? {
            Some((automerge::Value::Object(automerge::ObjType::Map), obj)) => {
                Some(<Shift as autosurgeon::Hydrate>::hydrate_map(am, &obj)?)
            }
            _ => None,
        };
        Ok((container, shift))
    }

    /// Writes the fields of a shift that differ from `old` (all of them for a new shift), so
    /// a check-out on one phone and a sign-up change on another both survive. This is the
    /// hottest write after the roll call, so it puts the changed scalars directly instead of
    /// reconciling the whole record.
    fn write_shift(
        &mut self,
        author: &Author,
        op: &str,
        key: &str,
        container: automerge::ObjId,
        old: Option<&Shift>,
        new: &Shift,
    ) -> Result<()> {
        let ts = |t: Option<Timestamp>| {
            t.map_or(automerge::ScalarValue::Null, |t| {
                automerge::ScalarValue::Timestamp(t.0)
            })
        };
        let fields = [
            (
                "signed_up",
                old.map(|o| o.signed_up != new.signed_up),
                automerge::ScalarValue::Boolean(new.signed_up),
            ),
            (
                "cancelled",
                old.map(|o| o.cancelled != new.cancelled),
                automerge::ScalarValue::Boolean(new.cancelled),
            ),
            (
                "check_in",
                old.map(|o| o.check_in != new.check_in),
                ts(new.check_in),
            ),
            (
                "check_out",
                old.map(|o| o.check_out != new.check_out),
                ts(new.check_out),
            ),
            (
                "cancel_reason",
                old.map(|o| o.cancel_reason != new.cancel_reason),
                new.cancel_reason
                    .map_or(automerge::ScalarValue::Null, |r| r.code().into()),
            ),
        ];
        let before = self.doc.heads();
        self.doc.write(author, op, |tx| {
            let obj = match (old, automerge::ReadDoc::get(tx, &container, key)?) {
                (Some(_), Some((automerge::Value::Object(automerge::ObjType::Map), obj))) => obj,
                _ => tx.put_object(&container, key, automerge::ObjType::Map)?,
            };
            for (name, changed, value) in fields {
                if changed != Some(false) {
                    tx.put(&obj, name, value)?;
                }
            }
            Ok(())
        })?;
        self.index_still_valid(&before);
        Ok(())
    }

    /// Signs a volunteer up for a session (user story 14): see [`crate::shifts::sign_up`].
    pub fn sign_up(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        volunteer: &VolunteerId,
    ) -> Result<()> {
        let date = self.open_session(session)?;
        self.check_volunteer(ctx, session, date, volunteer)?;
        let key = format!("{session}/{volunteer}");
        let (container, old) = self.shift(&key)?;
        let shift = crate::shifts::sign_up(old.as_ref())?;
        self.write_shift(author, "sign-up", &key, container, old.as_ref(), &shift)
    }

    /// Cancels a volunteer's sign-up with a reason: see [`crate::shifts::cancel`].
    pub fn cancel_sign_up(
        &mut self,
        author: &Author,
        session: &SessionId,
        volunteer: &VolunteerId,
        reason: crate::model::register::CancelReason,
    ) -> Result<()> {
        let date = self.open_session(session)?;
        let key = format!("{session}/{volunteer}");
        let (container, old) = self.shift(&key)?;
        let shift = crate::shifts::cancel(old.as_ref(), reason, date, author.at.date_dk())?;
        self.write_shift(
            author,
            "cancel-sign-up",
            &key,
            container,
            old.as_ref(),
            &shift,
        )
    }

    /// Checks a volunteer in at `at`. A second check-in is refused (it used to move the first
    /// and shorten the shift): see [`crate::shifts::check_in`].
    pub fn check_in(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        volunteer: &VolunteerId,
        at: Timestamp,
    ) -> Result<()> {
        self.check_in_or_resume(author, ctx, session, volunteer, at, false)
    }

    /// Reopens a volunteer's shift that was checked out (a check-out by mistake): the shift
    /// runs from its first check-in again. Refused when the shift is not checked out.
    pub fn resume_shift(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        volunteer: &VolunteerId,
        at: Timestamp,
    ) -> Result<()> {
        self.check_in_or_resume(author, ctx, session, volunteer, at, true)
    }

    fn check_in_or_resume(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        session: &SessionId,
        volunteer: &VolunteerId,
        at: Timestamp,
        resume: bool,
    ) -> Result<()> {
        let date = self.open_session(session)?;
        self.check_volunteer(ctx, session, date, volunteer)?;
        let day = at.date_dk();
        if day < date.add_days(-1) || day > date.add_days(1) {
            return invalid(
                "at",
                Reason::OutOfRange,
                "check-in must be on the session's day",
            );
        }
        let key = format!("{session}/{volunteer}");
        let (container, old) = self.shift(&key)?;
        if resume && crate::shifts::state(old.as_ref()) != crate::shifts::ShiftState::Done {
            return invalid(
                "check_out",
                Reason::NotFound,
                "the shift is not checked out",
            );
        }
        let shift = crate::shifts::check_in(old.as_ref(), at, resume)?;
        let op = if resume { "resume-shift" } else { "check-in" };
        self.write_shift(author, op, &key, container, old.as_ref(), &shift)
    }

    /// Checks a volunteer out at `at`.
    pub fn check_out(
        &mut self,
        author: &Author,
        session: &SessionId,
        volunteer: &VolunteerId,
        at: Timestamp,
    ) -> Result<()> {
        if !self.index()?.sessions.contains_key(session) {
            return invalid(
                "session",
                Reason::NotFound,
                "no such session in this register",
            );
        }
        let key = format!("{session}/{volunteer}");
        let (container, Some(old)) = self.shift(&key)? else {
            return invalid(
                "volunteer",
                Reason::NotFound,
                "not checked in to this session",
            );
        };
        let mut shift = old.clone();
        if shift.check_in.is_none() {
            return invalid(
                "volunteer",
                Reason::NotFound,
                "not checked in to this session",
            );
        }
        shift.check_out = Some(at);
        check_shift(&shift)?;
        self.write_shift(author, "check-out", &key, container, Some(&old), &shift)
    }

    /// Records the minutes a staff member was present at a session.
    pub fn staff_present(
        &mut self,
        author: &Author,
        session: &SessionId,
        staff: &StaffId,
        minutes: u32,
    ) -> Result<()> {
        self.session(session)?;
        check_staff_minutes(u64::from(minutes))?;
        let key = format!("{session}/{staff}");
        self.doc.write(author, "staff-present", |tx| {
            write_record(tx, "staff_presence", &key, &u64::from(minutes))
        })
    }

    /// Merges participant `duplicate` into `canonical` (review resolved the same child added
    /// twice). The duplicate stays, pointing at the canonical one, so marks made offline on
    /// a phone that has not heard of the merge still count for the right child.
    pub fn merge_participants(
        &mut self,
        author: &Author,
        duplicate: &ParticipantId,
        canonical: &ParticipantId,
    ) -> Result<()> {
        if duplicate == canonical {
            return invalid(
                "canonical",
                Reason::Inconsistent,
                "a participant cannot be merged into itself",
            );
        }
        let mut dup = self.participant(duplicate)?;
        if dup.merged_into.is_some() {
            return invalid("duplicate", Reason::NotActive, "already merged");
        }
        let target = self.canonical(canonical)?;
        if &target == duplicate {
            return invalid(
                "canonical",
                Reason::Inconsistent,
                "would create a merge cycle",
            );
        }
        dup.merged_into = Some(target);
        self.doc.write(author, "merge-participants", |tx| {
            write_record(tx, "participants", duplicate.as_str(), &dup)
        })
    }

    /// Undoes a merge (ADR 0022): `duplicate` counts for itself again. Only the pointer is
    /// cleared: the record is reconciled field by field, so a concurrent edit of the record
    /// on a phone (age band, residence, an erasure) is kept. Marks written under the duplicate's own key before
    /// the merge (and offline by phones that had not heard of it) return to it; marks made
    /// for the merged child after the merge stay with the kept one. Refused when the
    /// duplicate is not merged, or is merged into another participant than `canonical`
    /// (the page showed an older merge). Whether the merge was reviewed already is the
    /// server's record (the review table), checked before this is called.
    pub fn unmerge_participant(
        &mut self,
        author: &Author,
        duplicate: &ParticipantId,
        canonical: &ParticipantId,
    ) -> Result<()> {
        let dup = self.participant(duplicate)?;
        match &dup.merged_into {
            None => return invalid("duplicate", Reason::NotActive, "not merged"),
            Some(t) if t != canonical => {
                return invalid(
                    "canonical",
                    Reason::Inconsistent,
                    "merged into another participant",
                );
            }
            Some(_) => {}
        }
        let mut dup = dup;
        dup.merged_into = None;
        // Field by field: only `merged_into` becomes an operation.
        self.doc.write(author, "unmerge-participants", |tx| {
            write_record(tx, "participants", duplicate.as_str(), &dup)
        })
    }

    /// Marks the participants `ids` erased on `on` (ADR 0019): the label goes, the record
    /// stays so attendance keeps counting anonymously. Central staff's operation (the rules
    /// refuse it from anyone else); already erased records are left as they are. Answers how
    /// many records it marked.
    pub fn erase_participants(
        &mut self,
        author: &Author,
        ids: &BTreeSet<ParticipantId>,
        on: Date,
    ) -> Result<usize> {
        let records = crate::erasure::erased_records(
            self.doc.automerge(),
            "participants",
            ids,
            ("participant", "no such participant in this register"),
            |p: &Participant| crate::erasure::erased_participant(p, on),
        )?;
        self.doc
            .write_records(author, "erase-participant", "participants", &records)
    }

    /// Updates a participant's age band, gender, residence or recruitment path.
    pub fn update_participant(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        id: &ParticipantId,
        f: impl FnOnce(&mut Participant),
    ) -> Result<()> {
        let mut p = self.participant(id)?;
        f(&mut p);
        check_participant(ctx.catalogue, &p)?;
        self.doc.write(author, "update-participant", |tx| {
            write_record(tx, "participants", id.as_str(), &p)
        })
    }

    /// Records a child's (or guardian's) consent (ADR 0027), replacing one not yet withdrawn;
    /// `guardian_age` is the tenant's. Refused for an erased participant, and for a consent
    /// already withdrawn (a withdrawal is final).
    pub fn record_consent(
        &mut self,
        author: &Author,
        ctx: RegisterContext<'_>,
        id: &ParticipantId,
        consent: crate::model::outreach::Consent,
        guardian_age: u8,
    ) -> Result<()> {
        let mut p = self.participant(id)?;
        let band = p.age_band.to_string();
        crate::consent::record(
            ctx.catalogue,
            &mut p.consent,
            p.erased,
            &band,
            consent,
            guardian_age,
        )?;
        check_participant(ctx.catalogue, &p)?;
        self.doc.write(author, "record-consent", |tx| {
            write_record(tx, "participants", id.as_str(), &p)
        })
    }

    /// Records that a child's consent was withdrawn on `on` (ADR 0027): from that day the
    /// child is not named, photographed or shared; what was recorded before stays lawful.
    pub fn withdraw_consent(
        &mut self,
        author: &Author,
        id: &ParticipantId,
        on: Date,
    ) -> Result<()> {
        let mut p = self.participant(id)?;
        crate::consent::withdraw(p.consent.as_mut(), on)?;
        self.doc.write(author, "withdraw-consent", |tx| {
            write_record(tx, "participants", id.as_str(), &p)
        })
    }

    /// The merged register.
    pub fn view(&self) -> Result<RegisterView> {
        let am = self.doc.automerge();
        Ok(RegisterView {
            sessions: typed(read_all(am, "sessions")?)?,
            participants: typed(read_all(am, "participants")?)?,
            attendance: pairs(read_all(am, "attendance")?)?,
            headcounts: pairs(read_all::<_, u64>(am, "headcounts")?)?
                .into_iter()
                .map(|(k, v)| (k, to_u32(v)))
                .collect(),
            shifts: pairs(read_all(am, "shifts")?)?,
            staff_presence: pairs(read_all::<_, u64>(am, "staff_presence")?)?
                .into_iter()
                .map(|(k, v)| (k, to_u32(v)))
                .collect(),
        })
    }
}

/// What a session record must satisfy wherever it comes from: on a date of the register's
/// term, ending after it starts, a short title.
pub(crate) fn check_session(term: Term, s: &Session) -> Result<()> {
    if !term.contains(s.date) {
        return invalid(
            "date",
            Reason::OutsidePeriod,
            format!("not in the register's term {term}"),
        );
    }
    if s.end <= s.start {
        return invalid(
            "end",
            Reason::EndBeforeStart,
            "a session must end after it starts",
        );
    }
    if let Some(t) = &s.title {
        limit_text("title", t, MAX_NAME)?;
    }
    Ok(())
}

/// What a participant record must satisfy: an age band and recruitment path from the
/// catalogue, a label of sealed-name size.
pub(crate) fn check_participant(cat: &Catalogue, p: &Participant) -> Result<()> {
    if cat.age_band(p.age_band.as_str()).is_none() {
        return invalid(
            "age_band",
            Reason::OutOfRange,
            format!("{} is not an age band", p.age_band),
        );
    }
    if let Some(r) = &p.recruitment {
        require_term(cat, Vocabulary::RecruitmentPaths, "recruitment", r)?;
    }
    if let Some(label) = &p.label
        && label.0.len() > 4 * crate::seal::MAX_PLAINTEXT
    {
        return invalid("label", Reason::TooLong, "label too long");
    }
    if let Some(c) = &p.consent {
        crate::consent::check(
            cat,
            c,
            p.age_band.as_str(),
            crate::consent::MIN_GUARDIAN_AGE,
        )?;
    }
    Ok(())
}

/// What a headcount must satisfy: an age band from the catalogue (or `all`), at most
/// [`MAX_HEADCOUNT`].
pub(crate) fn check_headcount(cat: &Catalogue, bucket: &HeadcountBucket, count: u64) -> Result<()> {
    let group = matches!(
        bucket.age_band.as_str(),
        "all" | HeadcountBucket::CHILDREN | HeadcountBucket::ADULTS
    );
    if !group && cat.age_band(&bucket.age_band).is_none() {
        return invalid(
            "age_band",
            Reason::OutOfRange,
            format!("{} is not an age band", bucket.age_band),
        );
    }
    if count > u64::from(MAX_HEADCOUNT) {
        return invalid(
            "count",
            Reason::OutOfRange,
            format!("at most {MAX_HEADCOUNT}"),
        );
    }
    Ok(())
}

/// What a shift must satisfy: checked out after checking in, at most [`MAX_SHIFT_MINUTES`].
/// Whether a session of the register `am` involves children under 15: the activity says so
/// (`activity_flag`), or a participant in an under-15 age band is on the register, or a
/// headcount of the session counted under-15s. Shared by the register's operations and the
/// relay's rules.
pub(crate) fn involves_children_under_15(
    am: &automerge::Automerge,
    catalogue: &Catalogue,
    activity_flag: bool,
    session: &SessionId,
) -> Result<bool> {
    if activity_flag {
        return Ok(true);
    }
    // "children" (0–17) counts as under 15: the certificate rule errs on the child's side.
    let under_15 = |band: &str| {
        band == HeadcountBucket::CHILDREN
            || catalogue
                .age_band(band)
                .and_then(|b| b.min_age)
                .is_some_and(|min| min < 15)
    };
    let participants = read_all::<_, Participant>(am, "participants")?;
    if participants
        .values()
        .any(|p| under_15(p.current.age_band.as_str()))
    {
        return Ok(true);
    }
    let prefix = format!("{session}/");
    let counts = read_all::<_, u64>(am, "headcounts")?;
    Ok(counts.iter().any(|(k, v)| {
        k.strip_prefix(&prefix)
            .and_then(|b| b.parse::<HeadcountBucket>().ok())
            .is_some_and(|b| under_15(&b.age_band) && v.current > 0)
    }))
}

pub(crate) fn check_shift(s: &Shift) -> Result<()> {
    if let (Some(i), Some(o)) = (s.check_in, s.check_out) {
        if o < i {
            return invalid("at", Reason::EndBeforeStart, "check-out before check-in");
        }
        if i.minutes_until(o) > MAX_SHIFT_MINUTES {
            return invalid("at", Reason::OutOfRange, "a shift is at most 24 hours");
        }
    }
    Ok(())
}

/// Staff minutes at a session: between 1 and [`MAX_SHIFT_MINUTES`].
pub(crate) fn check_staff_minutes(minutes: u64) -> Result<()> {
    if minutes == 0 || minutes > u64::from(MAX_SHIFT_MINUTES) {
        return invalid("minutes", Reason::OutOfRange, "between 1 and 1440 minutes");
    }
    Ok(())
}

/// Records by typed key; a malformed key is skipped like an unreadable record
/// ([`crate::rules::unreadable`] lists it).
fn typed<K: std::str::FromStr + Ord, V>(m: BTreeMap<String, V>) -> Result<BTreeMap<K, V>> {
    Ok(m.into_iter()
        .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
        .collect())
}

/// Records keyed `<a>/<b>`; a malformed key is skipped like an unreadable record.
fn pairs<A: std::str::FromStr + Ord, B: std::str::FromStr + Ord, V>(
    m: BTreeMap<String, V>,
) -> Result<BTreeMap<(A, B), V>> {
    Ok(m.into_iter()
        .filter_map(|(k, v)| split_key(&k).ok().map(|k| (k, v)))
        .collect())
}

/// The date of a session that is not cancelled.
fn session_date(idx: &RegisterIndex, id: &SessionId) -> Result<Date> {
    match idx.sessions.get(id) {
        None => invalid(
            "session",
            Reason::NotFound,
            "no such session in this register",
        ),
        Some(s) if s.cancelled => invalid("session", Reason::NotActive, "the session is cancelled"),
        Some(s) => Ok(s.date),
    }
}

/// The participant a record counts for, following review merges.
fn canonical_in(idx: &RegisterIndex, id: &ParticipantId) -> Result<ParticipantId> {
    if !idx.participants.contains_key(id) {
        return invalid(
            "participant",
            Reason::NotFound,
            "no such participant in this register",
        );
    }
    let end = follow_merges(id, |p| {
        idx.participants.get(p).and_then(|b| b.merged_into.as_ref())
    });
    if idx.participants.contains_key(end) {
        Ok(end.clone())
    } else {
        invalid(
            "participant",
            Reason::NotFound,
            "merged into a participant this register does not have",
        )
    }
}

/// Follows `merged_into` links from `id` to the participant it counts for (ADR 0003 rule 5).
/// Two reviewers who merge A into B and B into A concurrently leave a cycle once their
/// changes meet; every member of a cycle then counts for the least id in it, so all replicas
/// agree and the person counts once. Terminates on any input (each id is visited once).
pub fn follow_merges<'a>(
    id: &'a ParticipantId,
    next: impl Fn(&ParticipantId) -> Option<&'a ParticipantId>,
) -> &'a ParticipantId {
    let mut path: Vec<&'a ParticipantId> = vec![id];
    let mut at = id;
    while let Some(n) = next(at) {
        if let Some(i) = path.iter().position(|p| *p == n) {
            return path[i..].iter().copied().min().unwrap_or(n);
        }
        path.push(n);
        at = n;
    }
    at
}

fn to_u32(v: Versions<u64>) -> Versions<u32> {
    let c = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
    Versions {
        current: c(v.current),
        conflicts: v.conflicts.into_iter().map(c).collect(),
    }
}

impl RegisterView {
    /// A session's headcount: the buckets that add to attendance (first-timers do not).
    pub fn headcount(&self, session: &SessionId) -> u32 {
        self.headcounts
            .iter()
            .filter(|((s, b), _)| s == session && b.counts_attendance())
            .map(|(_, c)| c.current)
            .sum()
    }

    /// A session's headcount by group, as [`RegisterDoc::set_headcounts`] wrote it; counts in
    /// other buckets (a total, age bands) are not in it.
    pub fn headcount_split(&self, session: &SessionId) -> HeadcountSplit {
        let get = |b: &HeadcountBucket| {
            self.headcounts
                .get(&(session.clone(), b.clone()))
                .map_or(0, |c| c.current)
        };
        let mut split = HeadcountSplit {
            first_timers: get(&HeadcountBucket::first_timers()),
            ..HeadcountSplit::default()
        };
        let [a, b, c, d] = split.groups().map(|(bucket, _)| get(&bucket));
        split.children_residents = a;
        split.children_outsiders = b;
        split.adults_residents = c;
        split.adults_outsiders = d;
        split
    }

    /// The participant a record counts for (following review merges).
    pub fn canonical<'a>(&'a self, id: &'a ParticipantId) -> &'a ParticipantId {
        follow_merges(id, |p| {
            self.participants
                .get(p)
                .and_then(|p| p.current.merged_into.as_ref())
        })
    }

    /// Participants present in a session (after merges, each person once).
    pub fn present(&self, session: &SessionId) -> BTreeSet<&ParticipantId> {
        self.attendance
            .iter()
            .filter(|((s, _), _)| s == session)
            .filter(|(_, m)| m.current == AttendanceStatus::Present)
            .map(|((_, p), _)| self.canonical(p))
            .collect()
    }

    /// Sessions held: not cancelled, on or before `today`.
    pub fn sessions_held(&self, today: Date) -> impl Iterator<Item = (&SessionId, &Session)> {
        self.sessions
            .iter()
            .filter(move |(_, s)| !s.current.cancelled && s.current.date <= today)
            .map(|(id, s)| (id, &s.current))
    }

    /// Volunteer minutes in the register, by volunteer.
    pub fn volunteer_minutes(&self) -> BTreeMap<&VolunteerId, u32> {
        let mut out = BTreeMap::new();
        for ((s, v), shift) in &self.shifts {
            if self.sessions.get(s).is_some_and(|s| s.current.cancelled) {
                continue;
            }
            if let Some(m) = shift.current.minutes() {
                *out.entry(v).or_insert(0) += m;
            }
        }
        out
    }

    /// What central staff should review. `label` opens a participant's sealed label (or returns
    /// `None` when this device has no key); it is used to propose duplicate participants.
    pub fn review_items(
        &self,
        label: impl Fn(&ParticipantId, &Sealed) -> Option<String>,
    ) -> Vec<ReviewItem> {
        let mut items = Vec::new();
        for ((s, p), m) in &self.attendance {
            let mut statuses: Vec<AttendanceStatus> = vec![m.current];
            statuses.extend(m.conflicts.iter().copied());
            let distinct: BTreeSet<_> = statuses.iter().collect();
            if distinct.len() > 1 {
                items.push(ReviewItem::AttendanceConflict {
                    session: s.clone(),
                    participant: p.clone(),
                    statuses,
                });
            }
        }
        for (id, s) in &self.sessions {
            if s.current.cancelled {
                let records = self.attendance.keys().filter(|(sid, _)| sid == id).count()
                    + self
                        .headcounts
                        .iter()
                        .filter(|((sid, _), c)| sid == id && c.current > 0)
                        .count();
                if records > 0 {
                    items.push(ReviewItem::CancelledSessionWithAttendance {
                        session: id.clone(),
                        records,
                    });
                }
            }
            if s.conflicts.iter().any(|c| c != &s.current) {
                items.push(ReviewItem::RecordConflict {
                    container: "sessions",
                    key: id.to_string(),
                });
            }
        }
        // The same session created twice: same date, overlapping times, not cancelled.
        let live: Vec<_> = self
            .sessions
            .iter()
            .filter(|(_, s)| !s.current.cancelled)
            .collect();
        let mut grouped: BTreeSet<&SessionId> = BTreeSet::new();
        for (i, (a_id, a)) in live.iter().enumerate() {
            if grouped.contains(a_id) {
                continue;
            }
            let mut group = vec![(*a_id).clone()];
            for (b_id, b) in &live[i + 1..] {
                let (a, b) = (&a.current, &b.current);
                if a.date == b.date
                    && a.start < b.end
                    && b.start < a.end
                    && (a.series.is_none() || b.series.is_none())
                {
                    group.push((*b_id).clone());
                    grouped.insert(b_id);
                }
            }
            if group.len() > 1 {
                items.push(ReviewItem::DuplicateSessions { sessions: group });
            }
        }
        // The same child added twice: same age band and the same label (case- and
        // space-insensitive), both unmerged.
        let mut by_label: BTreeMap<(String, String), Vec<(&Date, &ParticipantId)>> =
            BTreeMap::new();
        for (id, p) in &self.participants {
            let p = &p.current;
            if p.merged_into.is_some() {
                continue;
            }
            if let Some(l) = p.label.as_ref().and_then(|l| label(id, l)) {
                let norm = l
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase();
                by_label
                    .entry((norm, p.age_band.to_string()))
                    .or_default()
                    .push((&p.added_on, id));
            }
        }
        for mut group in by_label.into_values().filter(|g| g.len() > 1) {
            group.sort();
            items.push(ReviewItem::DuplicateParticipants {
                participants: group.into_iter().map(|(_, id)| id.clone()).collect(),
            });
        }
        for (id, p) in &self.participants {
            if p.conflicts.iter().any(|c| c != &p.current) {
                items.push(ReviewItem::RecordConflict {
                    container: "participants",
                    key: id.to_string(),
                });
            }
        }
        for ((s, v), sh) in &self.shifts {
            if sh.conflicts.iter().any(|c| c != &sh.current) {
                items.push(ReviewItem::RecordConflict {
                    container: "shifts",
                    key: format!("{s}/{v}"),
                });
            }
        }
        items.sort();
        items
    }
}
