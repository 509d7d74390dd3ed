//! The resident log of one activity for one term (ADR 0030): what resident volunteers log
//! themselves — ambassadors' rounds of doorstep conversations by topic (story 16) and a
//! resident-run food club's evenings with how many came and how many were first-timers
//! (story 17). Aggregates only; no record names or describes a person.
//!
//! Its own kind of document, so the volunteers who write it need no access to anything
//! else: the activity's resident volunteers write it, the activity's staff and central staff
//! read it, and nobody reaches a staff outreach log through it
//! ([`crate::rules::access::resident_log`]).
//!
//! ```
//! use automerge::ActorId;
//! use nabo_core::catalogue::Catalogue;
//! use nabo_core::docs::resident::{NewRound, ResidentLogDoc};
//! use nabo_core::document::Author;
//! use nabo_core::model::By;
//! use nabo_core::time::{Date, Term, Timestamp};
//!
//! let cat = Catalogue::builtin().unwrap();
//! let day = Date::parse("2026-09-15").unwrap();
//! let mut log = ResidentLogDoc::create(
//!     "t-1".parse().unwrap(), "act-amb".parse().unwrap(), Term::of(day), ActorId::random(),
//! ).unwrap();
//! let me = Author { by: By::Volunteer("v-6".parse().unwrap()), at: Timestamp(0) };
//! let round = NewRound {
//!     date: day,
//!     area: "a-solbakken".parse().unwrap(),
//!     conversations: vec![("sundhed".into(), 7), ("ensomhed".into(), 3)],
//! };
//! log.log_round(&me, &cat, round).unwrap();
//! assert_eq!(log.summary(None, None).unwrap().conversations, 10);
//! ```

use std::collections::BTreeMap;

use automerge::ActorId;

use super::activity::typed_keys;
use super::require_term;
use crate::catalogue::{Catalogue, Vocabulary};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{ActivityId, AreaId, Code, EveningId, RoundId, TenantId};
use crate::model::IdMap;
use crate::model::resident::{AmbassadorRound, FoodClubEvening};
use crate::time::{Date, Term};

/// Most doorstep conversations on one topic in one round.
pub const MAX_CONVERSATIONS: u32 = 500;
/// Most people at one food-club evening.
pub const MAX_CAME: u32 = 500;

/// The resident log.
#[derive(Debug, Clone)]
pub struct ResidentLogDoc {
    doc: NaboDoc,
}
typed_doc!(ResidentLogDoc, crate::document::DocKind::ResidentLog);

/// Input for an ambassador round.
#[derive(Debug, Clone)]
pub struct NewRound {
    /// The day of the round.
    pub date: Date,
    /// The housing area walked.
    pub area: AreaId,
    /// Doorstep conversations per topic code.
    pub conversations: Vec<(String, u32)>,
}

/// Input for a food-club evening.
#[derive(Debug, Clone)]
pub struct NewEvening {
    /// The day.
    pub date: Date,
    /// The housing area.
    pub area: AreaId,
    /// How many came.
    pub came: u32,
    /// How many of them came for the first time.
    pub first_timers: u32,
}

/// The counts of a resident log over a period, without withdrawn records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResidentSummary {
    /// Ambassador rounds.
    pub rounds: u64,
    /// Doorstep conversations over every topic.
    pub conversations: u64,
    /// Doorstep conversations per topic.
    pub by_topic: BTreeMap<Code, u64>,
    /// Food-club evenings.
    pub evenings: u64,
    /// People who came, summed over the evenings.
    pub came: u64,
    /// First-timers, summed over the evenings.
    pub first_timers: u64,
}

impl ResidentSummary {
    /// Adds another summary (another activity's, another term's).
    pub fn add(&mut self, o: &ResidentSummary) {
        self.rounds += o.rounds;
        self.conversations += o.conversations;
        for (t, n) in &o.by_topic {
            *self.by_topic.entry(t.clone()).or_default() += n;
        }
        self.evenings += o.evenings;
        self.came += o.came;
        self.first_timers += o.first_timers;
    }
}

impl ResidentLogDoc {
    /// Creates (or, on another phone, re-creates the same) resident log of `activity` for
    /// `term`.
    pub fn create(
        tenant: TenantId,
        activity: ActivityId,
        term: Term,
        actor: ActorId,
    ) -> Result<Self> {
        Ok(ResidentLogDoc {
            doc: NaboDoc::create(
                Scope::ResidentLog {
                    tenant,
                    activity,
                    term,
                },
                actor,
            )?,
        })
    }

    /// The activity.
    pub fn activity_id(&self) -> &ActivityId {
        match self.doc.scope() {
            Scope::ResidentLog { activity, .. } => activity,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// The term.
    pub fn term(&self) -> Term {
        match self.doc.scope() {
            Scope::ResidentLog { term, .. } => *term,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// Logs an ambassador round: the number of doorstep conversations per topic.
    pub fn log_round(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        input: NewRound,
    ) -> Result<RoundId> {
        let mut conversations = IdMap::new();
        for (topic, n) in input.conversations {
            let topic: Code = topic
                .parse()
                .or_else(|_| invalid("conversations", Reason::UnknownCode, "malformed code"))?;
            if conversations.insert(topic, n).is_some() {
                return invalid(
                    "conversations",
                    Reason::AlreadyExists,
                    "a topic is counted once per round",
                );
            }
        }
        let r = AmbassadorRound {
            date: input.date,
            area: input.area,
            conversations,
            withdrawn: false,
            by: author.by.clone(),
            at: author.at,
        };
        check_round(cat, self.term(), &r)?;
        let id = RoundId::random();
        self.doc.write(author, "log-round", |tx| {
            write_record(tx, "rounds", id.as_str(), &r)
        })?;
        Ok(id)
    }

    /// Logs a food-club evening: how many came and how many were first-timers.
    pub fn log_evening(&mut self, author: &Author, input: NewEvening) -> Result<EveningId> {
        let e = FoodClubEvening {
            date: input.date,
            area: input.area,
            came: input.came,
            first_timers: input.first_timers,
            withdrawn: false,
            by: author.by.clone(),
            at: author.at,
        };
        check_evening(self.term(), &e)?;
        let id = EveningId::random();
        self.doc.write(author, "log-evening", |tx| {
            write_record(tx, "evenings", id.as_str(), &e)
        })?;
        Ok(id)
    }

    /// Withdraws a round logged by mistake (it stays, uncounted).
    pub fn withdraw_round(&mut self, author: &Author, id: &RoundId) -> Result<()> {
        let Some(v) = read_one::<_, AmbassadorRound>(self.doc.automerge(), "rounds", id.as_str())?
        else {
            return invalid("round", Reason::NotFound, "no such round");
        };
        let mut r = v.current;
        r.withdrawn = true;
        self.doc.write(author, "withdraw-round", |tx| {
            write_record(tx, "rounds", id.as_str(), &r)
        })
    }

    /// Withdraws an evening logged by mistake (it stays, uncounted).
    pub fn withdraw_evening(&mut self, author: &Author, id: &EveningId) -> Result<()> {
        let Some(v) =
            read_one::<_, FoodClubEvening>(self.doc.automerge(), "evenings", id.as_str())?
        else {
            return invalid("evening", Reason::NotFound, "no such evening");
        };
        let mut e = v.current;
        e.withdrawn = true;
        self.doc.write(author, "withdraw-evening", |tx| {
            write_record(tx, "evenings", id.as_str(), &e)
        })
    }

    /// Every round, withdrawn ones included.
    pub fn rounds(&self) -> Result<BTreeMap<RoundId, AmbassadorRound>> {
        typed_keys(read_all(self.doc.automerge(), "rounds")?)
    }

    /// Every food-club evening, withdrawn ones included.
    pub fn evenings(&self) -> Result<BTreeMap<EveningId, FoodClubEvening>> {
        typed_keys(read_all(self.doc.automerge(), "evenings")?)
    }

    /// The counts of the rounds and evenings from `from` to `to` (inclusive; open ends
    /// when `None`), without withdrawn ones.
    pub fn summary(&self, from: Option<Date>, to: Option<Date>) -> Result<ResidentSummary> {
        let within = |d: Date| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t);
        let mut s = ResidentSummary::default();
        for r in self.rounds()?.values() {
            if r.withdrawn || !within(r.date) {
                continue;
            }
            s.rounds += 1;
            for (topic, n) in r.conversations.iter() {
                s.conversations += u64::from(*n);
                *s.by_topic.entry(topic.clone()).or_default() += u64::from(*n);
            }
        }
        for e in self.evenings()?.values() {
            if e.withdrawn || !within(e.date) {
                continue;
            }
            s.evenings += 1;
            s.came += u64::from(e.came);
            s.first_timers += u64::from(e.first_timers);
        }
        Ok(s)
    }
}

/// What an ambassador round must satisfy: a day in the log's term, topics from the
/// `ambassador_topics` vocabulary, each counted 1 to [`MAX_CONVERSATIONS`] times.
pub fn check_round(cat: &Catalogue, term: Term, r: &AmbassadorRound) -> Result<()> {
    if !term.contains(r.date) {
        return invalid(
            "date",
            Reason::OutsidePeriod,
            format!("the log is for {term}"),
        );
    }
    if r.conversations.is_empty() {
        return invalid(
            "conversations",
            Reason::Missing,
            "count the doorstep conversations of at least one topic",
        );
    }
    for (topic, n) in r.conversations.iter() {
        require_term(cat, Vocabulary::AmbassadorTopics, "conversations", topic)?;
        if *n == 0 || *n > MAX_CONVERSATIONS {
            return invalid(
                "conversations",
                Reason::OutOfRange,
                format!("1 to {MAX_CONVERSATIONS} conversations per topic"),
            );
        }
    }
    Ok(())
}

/// What a food-club evening must satisfy: a day in the log's term, at most [`MAX_CAME`]
/// people, and no more first-timers than came.
pub fn check_evening(term: Term, e: &FoodClubEvening) -> Result<()> {
    if !term.contains(e.date) {
        return invalid(
            "date",
            Reason::OutsidePeriod,
            format!("the log is for {term}"),
        );
    }
    if e.came > MAX_CAME {
        return invalid(
            "came",
            Reason::OutOfRange,
            format!("at most {MAX_CAME} people"),
        );
    }
    if e.first_timers > e.came {
        return invalid(
            "first_timers",
            Reason::OutOfRange,
            format!("{} first-timers among {} who came", e.first_timers, e.came),
        );
    }
    Ok(())
}
