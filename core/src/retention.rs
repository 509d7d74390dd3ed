//! Retention (ADR 0024, DOMAIN.md §4.6): how long each kind of record is kept after its
//! purpose has ended, what happens then (deleted, or anonymised so the counts stay), and
//! whether a record is due. Pure: the relay's retention job gathers the facts and acts.
//!
//! A legal hold (notat- og journaliseringspligt, a legal claim) keeps a person's data past its
//! time: [`due`] answers [`Action::Held`] instead of a disposal while one is in force.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::code_enum;
use crate::error::{Invalid, Reason};
use crate::time::Date;

code_enum! {
    /// The record kinds with a retention class of their own.
    pub enum RecordKind {
        /// Children's and participants' names in roll calls (sealed labels).
        RollCallName = "roll-call-names",
        /// Notes and known persons in outreach logs.
        OutreachNote = "outreach-notes",
        /// Volunteers' data (name, contact, certificates) after they stop.
        Volunteer = "volunteers",
        /// Staff members' data after they leave.
        Staff = "staff",
        /// Reports and the grant documentation behind them.
        Report = "reports",
        /// The access log itself.
        AccessLog = "access-log",
    }
}

code_enum! {
    /// What happens to a record when its time is up.
    pub enum Disposal {
        /// The record goes entirely.
        Delete = "delete",
        /// What identifies a person goes; the anonymous counts stay.
        Anonymise = "anonymise",
    }
}

code_enum! {
    /// What a withdrawn consent sets off (issue 11 item 3): the tenant's choice.
    #[derive(Default)]
    pub enum WithdrawalAction {
        /// Processing stops: the name is no longer shown, on phones or pages, nor shared; the
        /// anonymous counts stay, and staff decide whether to erase (another basis, a legal
        /// hold, may still apply).
        #[default]
        StopProcessing = "stop-processing",
        /// The person is erased at once, unless a legal hold is in force.
        Erase = "erase",
    }
}

impl WithdrawalAction {
    /// The Danish label (the administration page).
    pub fn da(self) -> &'static str {
        match self {
            WithdrawalAction::StopProcessing => {
                "Behandlingen stopper: navnet vises og deles ikke, tallene bevares, og I vurderer sletning"
            }
            WithdrawalAction::Erase => {
                "Personen slettes straks (medmindre et retligt tilbagehold gælder)"
            }
        }
    }
}

impl RecordKind {
    /// The Danish label (the administration page).
    pub fn da(self) -> &'static str {
        match self {
            RecordKind::RollCallName => "Navne i fremmødelister",
            RecordKind::OutreachNote => "Noter og kendte personer i opsøgende arbejde",
            RecordKind::Volunteer => "Frivilliges oplysninger",
            RecordKind::Staff => "Medarbejderes oplysninger",
            RecordKind::Report => "Rapporter og tilskudsdokumentation",
            RecordKind::AccessLog => "Adgangsloggen",
        }
    }

    /// The settings field that holds this kind's period (errors name it).
    pub fn field(self) -> &'static str {
        match self {
            RecordKind::RollCallName => "retention.roll-call-names.months",
            RecordKind::OutreachNote => "retention.outreach-notes.months",
            RecordKind::Volunteer => "retention.volunteers.months",
            RecordKind::Staff => "retention.staff.months",
            RecordKind::Report => "retention.reports.months",
            RecordKind::AccessLog => "retention.access-log.months",
        }
    }

    /// When this kind's purpose ends (the text on the administration page).
    pub fn ends_da(self) -> &'static str {
        match self {
            RecordKind::RollCallName => "efter personens seneste fremmøde",
            RecordKind::OutreachNote => "efter kontakten",
            RecordKind::Volunteer => "efter den frivilliges sidste tilknytning",
            RecordKind::Staff => "efter medarbejderen er stoppet",
            RecordKind::Report => "efter rapportens periode",
            RecordKind::AccessLog => "efter opslaget",
        }
    }
}

impl Disposal {
    /// The Danish label.
    pub fn da(self) -> &'static str {
        match self {
            Disposal::Delete => "slettes",
            Disposal::Anonymise => "anonymiseres (tal bevares)",
        }
    }
}

code_enum! {
    /// Why a legal hold keeps a person's data past its time (a code: the log holds no text).
    pub enum HoldReason {
        /// A public authority's duty to keep notes and a journal (notat- og
        /// journaliseringspligt; Datatilsynet accepted it as a reason to refuse erasure).
        JournalingDuty = "journaling-duty",
        /// A legal claim is being made, exercised or defended (GDPR art. 17(3)(e)).
        LegalClaim = "legal-claim",
        /// An authority (the police, Ankestyrelsen, a court) asked for the data to be kept.
        AuthorityRequest = "authority-request",
        /// A concern about a child is being handled (underretning).
        ChildConcern = "child-concern",
    }
}

impl HoldReason {
    /// The Danish label.
    pub fn da(self) -> &'static str {
        match self {
            HoldReason::JournalingDuty => "Notat- og journaliseringspligt",
            HoldReason::LegalClaim => "Retskrav (fastlæggelse, udøvelse eller forsvar)",
            HoldReason::AuthorityRequest => "Anmodning fra en myndighed",
            HoldReason::ChildConcern => "Underretning om et barn under behandling",
        }
    }
}

/// A retention class: kept `months` after the purpose ended, then disposed of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    /// Months after the purpose ended.
    pub months: u32,
    /// What happens then.
    pub then: Disposal,
}

/// The shortest period a tenant may set (a month: nothing is deleted the day it ends).
pub const MIN_MONTHS: u32 = 1;
/// The longest period a tenant may set (ten years).
pub const MAX_MONTHS: u32 = 120;

/// A tenant's retention classes; kinds the tenant did not set take [`default_class`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSettings {
    /// The classes the tenant set.
    #[serde(default)]
    pub classes: BTreeMap<RecordKind, Class>,
}

/// The defaults (DOMAIN.md §4.6, FDF's practice and the bookkeeping rules): sensitive data
/// goes one year after the purpose ended; grant documentation and reports stay five years,
/// then are anonymised; the access log is kept five years, as long as what it accounts for.
pub fn default_class(kind: RecordKind) -> Class {
    match kind {
        RecordKind::RollCallName => Class {
            months: 12,
            then: Disposal::Anonymise,
        },
        RecordKind::OutreachNote => Class {
            months: 12,
            then: Disposal::Delete,
        },
        RecordKind::Volunteer => Class {
            months: 12,
            then: Disposal::Anonymise,
        },
        RecordKind::Staff => Class {
            months: 60,
            then: Disposal::Anonymise,
        },
        RecordKind::Report => Class {
            months: 60,
            then: Disposal::Anonymise,
        },
        RecordKind::AccessLog => Class {
            months: 60,
            then: Disposal::Delete,
        },
    }
}

impl RetentionSettings {
    /// The class of `kind`.
    pub fn class(&self, kind: RecordKind) -> Class {
        self.classes
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_class(kind))
    }

    /// Sets `kind`'s class after checking it.
    pub fn set(&mut self, kind: RecordKind, class: Class) -> Result<(), Invalid> {
        if !(MIN_MONTHS..=MAX_MONTHS).contains(&class.months) {
            return Err(Invalid::new(
                kind.field(),
                Reason::OutOfRange,
                format!("between {MIN_MONTHS} and {MAX_MONTHS} months"),
            ));
        }
        self.classes.insert(kind, class);
        Ok(())
    }
}

/// A tenant's privacy settings kept by the relay (ADR 0024).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// Whether a data subject's extract of the access log names the employee (Datatilsynet:
    /// normally not; dates and purposes are what the subject has a right to).
    #[serde(default)]
    pub extract_names_employee: bool,
    /// The retention classes.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Days a phone may go without reaching the relay before it hides names and forgets the
    /// identity keys it can fetch again (issue 11 item 6, ADR 0031); see [`identity_expired`].
    #[serde(default = "default_offline_days")]
    pub max_offline_days: u16,
    /// What a withdrawn consent sets off (issue 11 item 3, ADR 0027).
    #[serde(default)]
    pub on_withdrawal: WithdrawalAction,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            extract_names_employee: false,
            retention: RetentionSettings::default(),
            max_offline_days: DEFAULT_OFFLINE_DAYS,
            on_withdrawal: WithdrawalAction::StopProcessing,
        }
    }
}

fn default_offline_days() -> u16 {
    DEFAULT_OFFLINE_DAYS
}

/// The shortest maximum offline period a tenant may set (days).
pub const MIN_OFFLINE_DAYS: u16 = 1;
/// The longest (a term's holiday and then some; beyond it a lost phone shows names too long).
pub const MAX_OFFLINE_DAYS: u16 = 90;
/// The default: two weeks, so a weekly café's phone that misses one sync still shows names.
pub const DEFAULT_OFFLINE_DAYS: u16 = 14;

impl PrivacySettings {
    /// Sets the maximum offline period, refused outside its bounds (field `max_offline_days`).
    pub fn set_max_offline_days(&mut self, days: u16) -> Result<(), Invalid> {
        if !(MIN_OFFLINE_DAYS..=MAX_OFFLINE_DAYS).contains(&days) {
            return Err(Invalid::new(
                "max_offline_days",
                Reason::OutOfRange,
                format!("between {MIN_OFFLINE_DAYS} and {MAX_OFFLINE_DAYS} days"),
            ));
        }
        self.max_offline_days = days;
        Ok(())
    }
}

/// Whether a phone whose last contact with the relay (a refreshed session or a finished sync)
/// was at `last_contact` must reach the relay again before it shows names at `now`: more than
/// `max_days` whole days have passed. A phone that never reached the relay has nothing to
/// hide. A clock set back (now before the last contact) is not expiry.
pub fn identity_expired(
    last_contact: Option<crate::time::Timestamp>,
    now: crate::time::Timestamp,
    max_days: u16,
) -> bool {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    match last_contact {
        None => false,
        Some(t) => now.0 - t.0 > i64::from(max_days) * DAY_MS,
    }
}

/// The date a record whose purpose ended on `ended` is due: `ended` plus the class's months
/// (the last day of a shorter month where the day does not exist).
pub fn deadline(class: Class, ended: Date) -> Date {
    Date(
        ended
            .0
            .checked_add_months(chrono::Months::new(class.months))
            .unwrap_or(chrono::NaiveDate::MAX),
    )
}

/// The day before which access-log entries are due on `today`: `today` less the log's
/// period.
pub fn log_cutoff(settings: &RetentionSettings, today: Date) -> Date {
    let months = settings.class(RecordKind::AccessLog).months;
    Date(
        today
            .0
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(chrono::NaiveDate::MIN),
    )
}

/// What the retention job knows about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Its kind.
    pub kind: RecordKind,
    /// When its purpose ended (the last attendance, the contact, the end of engagement);
    /// `None` while it is ongoing.
    pub purpose_ended: Option<Date>,
    /// A legal hold is in force on it.
    pub held: bool,
    /// It was disposed of already (erased, anonymised).
    pub disposed: bool,
}

/// What to do with a record today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Not due (ongoing, or its time is not up), or disposed of already.
    Keep,
    /// Due, but a legal hold keeps it; the hold's release lets the next run dispose of it.
    Held(Disposal),
    /// Due: delete or anonymise it now.
    Dispose(Disposal),
}

/// Whether the record described by `facts` is due under `settings` on `today`.
pub fn due(facts: &Facts, settings: &RetentionSettings, today: Date) -> Action {
    if facts.disposed {
        return Action::Keep;
    }
    let Some(ended) = facts.purpose_ended else {
        return Action::Keep;
    };
    let class = settings.class(facts.kind);
    if today < deadline(class, ended) {
        Action::Keep
    } else if facts.held {
        Action::Held(class.then)
    } else {
        Action::Dispose(class.then)
    }
}

/// When the purpose of a roll-call record ended: the latest session date any record of the
/// person's merge group (`group`) was marked at, or the latest day one was added, whichever
/// is later. `None` for an empty group.
pub fn roll_call_ended(
    view: &crate::docs::register::RegisterView,
    group: &std::collections::BTreeSet<crate::ids::ParticipantId>,
) -> Option<Date> {
    let added = group
        .iter()
        .filter_map(|p| view.participants.get(p))
        .map(|p| p.current.added_on)
        .max()?;
    let marked = view
        .attendance
        .keys()
        .filter(|(_, p)| group.contains(p))
        .filter_map(|(s, _)| view.sessions.get(s))
        .map(|s| s.current.date)
        .max();
    Some(marked.map_or(added, |m| m.max(added)))
}

/// When a volunteer's purpose ended, "after the volunteer's last attachment": the latest of
/// their joining, their engagements' last days and their last shift, once no engagement of
/// theirs is open. A volunteer who never had an engagement is attached until archived.
/// `None` while they are attached.
pub fn volunteer_ended(
    v: &crate::model::volunteer::Volunteer,
    engagements: &[&crate::model::volunteer::Engagement],
    last_shift: Option<Date>,
) -> Option<Date> {
    if engagements.iter().any(|e| e.end.is_none()) {
        return None;
    }
    if engagements.is_empty() && v.status != crate::model::VolunteerStatus::Archived {
        return None;
    }
    Some(
        engagements
            .iter()
            .filter_map(|e| e.end)
            .chain(last_shift)
            .fold(v.joined, Date::max),
    )
}

/// When a staff member's purpose ended, "after the staff member stopped": the day they left
/// (their login was closed), or the end of a placement or role assignment of theirs that
/// ends later. `None` while they are employed, and for a record with no leaving day (closed
/// before leaving days were recorded: central staff close the login again, or erase them).
/// A role assignment left open does not keep a leaver: closing the login is what says they
/// stopped.
pub fn staff_ended(
    s: &crate::model::staff::StaffMember,
    assignments: &[&crate::model::staff::RoleAssignment],
) -> Option<Date> {
    if s.active {
        return None;
    }
    let left = s.left?;
    Some(
        s.placements
            .values()
            .filter_map(|p| p.to)
            .chain(assignments.iter().filter_map(|a| a.to))
            .fold(left, Date::max),
    )
}

/// When a goal-fulfilment report's purpose ended, "after the report's period": the last day
/// of the period it reports on (the grant documentation is kept the class's period from
/// there). A report rewritten for the same period keeps its day; a draft counts the same.
pub fn report_ended(r: &crate::model::activity::GoalReport) -> Date {
    r.to
}

/// When the purpose of a known person's record in an outreach log ended: the latest day of
/// the person's addition, a contact with them, or a referral of theirs (made or moved on).
/// `None` when the log does not know the person. The job takes the latest over every log.
pub fn known_person_ended(
    view: &crate::docs::outreach::OutreachView,
    person: &crate::ids::ParticipantId,
) -> Option<Date> {
    let added = view.people.get(person)?.added_on;
    let contacts = view
        .contacts
        .values()
        .filter(|c| c.participant.as_ref() == Some(person))
        .map(|c| c.at.date_dk());
    let referrals = view
        .referrals
        .values()
        .filter(|r| r.current.participant.as_ref() == Some(person))
        .flat_map(|r| {
            std::iter::once(r.current.at.date_dk())
                .chain(r.current.history.values().map(|h| h.at.date_dk()))
        });
    Some(contacts.chain(referrals).fold(added, Date::max))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn a_volunteer_is_attached_while_an_engagement_is_open() {
        use crate::model::volunteer::{Engagement, Volunteer};
        let v = Volunteer {
            name: None,
            source: crate::model::VolunteerSource::Resident,
            source_org: None,
            status: crate::model::VolunteerStatus::Active,
            joined: d("2025-01-10"),
            resident: true,
            child_certificate: None,
            trainings: crate::model::IdMap::new(),
            erased: None,
        };
        let e = |end: Option<&str>| Engagement {
            volunteer: "v1".parse().unwrap(),
            activity: "act-1".parse().unwrap(),
            role: "lektiehjaelper".parse().unwrap(),
            start: d("2025-01-10"),
            end: end.map(d),
        };
        let (open, ended) = (e(None), e(Some("2026-03-01")));
        assert_eq!(volunteer_ended(&v, &[&ended, &open], None), None);
        assert_eq!(
            volunteer_ended(&v, &[], None),
            None,
            "active, never engaged"
        );
        assert_eq!(
            volunteer_ended(&v, &[&ended], Some(d("2026-02-20"))),
            Some(d("2026-03-01"))
        );
        assert_eq!(
            volunteer_ended(&v, &[&ended], Some(d("2026-04-02"))),
            Some(d("2026-04-02")),
            "a later shift counts"
        );
        let archived = Volunteer {
            status: crate::model::VolunteerStatus::Archived,
            ..v
        };
        assert_eq!(volunteer_ended(&archived, &[], None), Some(d("2025-01-10")));
    }

    #[test]
    fn a_staff_member_is_kept_until_they_left_and_counted_from_their_last_day() {
        use crate::model::staff::{Placement, RoleAssignment, RoleScope, StaffMember};
        let mut placements = crate::model::IdMap::new();
        placements.insert(
            crate::ids::PlacementId::random(),
            Placement {
                from: d("2024-01-01"),
                to: Some(d("2026-02-28")),
                days: crate::model::IdMap::new(),
            },
        );
        let s = StaffMember {
            name: "Camilla Nielsen".into(),
            title: "Social vicevært".into(),
            employer: None,
            app_role: crate::model::AppRole::Outreach,
            placements,
            active: true,
            left: None,
            erased: None,
        };
        let role = |to: Option<&str>| RoleAssignment {
            staff: "s-camilla".parse().unwrap(),
            scope: RoleScope::Programme("p-1".parse().unwrap()),
            role: Some(crate::model::Role::Supporting),
            practice_role: None,
            from: d("2024-01-01"),
            to: to.map(d),
        };
        assert_eq!(staff_ended(&s, &[]), None, "employed");
        let closed_long_ago = StaffMember {
            active: false,
            ..s.clone()
        };
        assert_eq!(
            staff_ended(&closed_long_ago, &[]),
            None,
            "inactive with no leaving day: not known"
        );
        let left = StaffMember {
            active: false,
            left: Some(d("2026-03-15")),
            ..s.clone()
        };
        assert_eq!(staff_ended(&left, &[]), Some(d("2026-03-15")));
        let (open, later) = (role(None), role(Some("2026-04-30")));
        assert_eq!(
            staff_ended(&left, &[&open]),
            Some(d("2026-03-15")),
            "an open role does not keep a leaver"
        );
        assert_eq!(
            staff_ended(&left, &[&open, &later]),
            Some(d("2026-04-30")),
            "a role ended later counts"
        );
        let facts = Facts {
            kind: RecordKind::Staff,
            purpose_ended: staff_ended(&left, &[]),
            held: false,
            disposed: false,
        };
        let settings = RetentionSettings::default();
        assert_eq!(due(&facts, &settings, d("2031-03-14")), Action::Keep);
        assert_eq!(
            due(&facts, &settings, d("2031-03-15")),
            Action::Dispose(Disposal::Anonymise),
            "five years after leaving"
        );
        let erased = crate::erasure::erased_staff(&left, d("2031-03-15"));
        assert!(erased.name.is_empty() && erased.title.is_empty() && !erased.active);
        assert_eq!(erased.erased, Some(d("2031-03-15")));
        assert_eq!(erased.left, Some(d("2026-03-15")), "the leaving day stays");
        assert_eq!(erased.placements, left.placements);
    }

    #[test]
    fn a_report_is_kept_a_class_period_from_the_end_of_its_period() {
        use crate::model::activity::{GoalAssessment, GoalReport};
        let mut goals = crate::model::IdMap::new();
        goals.insert(
            "g-1".parse().unwrap(),
            GoalAssessment {
                status: crate::model::GoalStatus::Achieved,
                measurements: crate::model::Set::new(),
                reasons: crate::model::Set::new(),
                comment: "Ali kom hver gang.".into(),
            },
        );
        let r = GoalReport {
            from: d("2026-01-01"),
            to: d("2026-06-30"),
            intervention_area: "BE".parse().unwrap(),
            goals,
            narrative: "Caféen har faste deltagere.".into(),
            success_themes: crate::model::Set::new(),
            state: crate::model::ReportState::Submitted,
            by: crate::model::By::System,
            anonymised: None,
        };
        assert_eq!(report_ended(&r), d("2026-06-30"), "the period's last day");
        let facts = |r: &GoalReport| Facts {
            kind: RecordKind::Report,
            purpose_ended: Some(report_ended(r)),
            held: false,
            disposed: r.anonymised.is_some(),
        };
        let settings = RetentionSettings::default();
        assert_eq!(due(&facts(&r), &settings, d("2031-06-29")), Action::Keep);
        assert_eq!(
            due(&facts(&r), &settings, d("2031-06-30")),
            Action::Dispose(Disposal::Anonymise),
            "five years after the period ended"
        );
        let blank = crate::erasure::anonymised_report(&r, d("2031-06-30"));
        assert!(!blank.has_text() && r.has_text());
        assert_eq!(blank.anonymised, Some(d("2031-06-30")));
        assert_eq!(
            (
                &blank.goals[&"g-1".parse().unwrap()].status,
                blank.from,
                blank.to
            ),
            (&r.goals[&"g-1".parse().unwrap()].status, r.from, r.to),
            "the numbers stay"
        );
        assert_eq!(
            crate::erasure::anonymised_report(&blank, d("2032-01-01")).anonymised,
            Some(d("2031-06-30")),
            "anonymised once"
        );
        assert_eq!(
            due(&facts(&blank), &settings, d("2032-01-01")),
            Action::Keep
        );
    }

    #[test]
    fn a_phone_expires_after_more_than_the_tenants_offline_days() {
        use crate::time::Timestamp;
        const DAY: i64 = 24 * 60 * 60 * 1000;
        let t0 = Timestamp(1_780_000_000_000);
        assert!(
            !identity_expired(None, t0, 1),
            "never reached: nothing to hide"
        );
        assert!(!identity_expired(Some(t0), Timestamp(t0.0 + 14 * DAY), 14));
        assert!(identity_expired(
            Some(t0),
            Timestamp(t0.0 + 14 * DAY + 1),
            14
        ));
        assert!(
            !identity_expired(Some(t0), Timestamp(t0.0 - 5 * DAY), 1),
            "clock set back"
        );
        let mut s = PrivacySettings::default();
        assert_eq!(s.max_offline_days, DEFAULT_OFFLINE_DAYS);
        assert_eq!(
            s.set_max_offline_days(0).unwrap_err().field,
            "max_offline_days"
        );
        assert!(s.set_max_offline_days(MAX_OFFLINE_DAYS + 1).is_err());
        s.set_max_offline_days(7).unwrap();
        assert_eq!(s.max_offline_days, 7);
        // Settings stored before the field existed read with the default.
        let old: PrivacySettings =
            serde_json::from_str(r#"{"extract_names_employee":true}"#).unwrap();
        assert_eq!(old.max_offline_days, DEFAULT_OFFLINE_DAYS);
        assert_eq!(old.on_withdrawal, WithdrawalAction::StopProcessing);
    }

    fn facts(kind: RecordKind, ended: Option<&str>) -> Facts {
        Facts {
            kind,
            purpose_ended: ended.map(d),
            held: false,
            disposed: false,
        }
    }

    #[test]
    fn defaults_follow_domain_4_6() {
        let s = RetentionSettings::default();
        let name = facts(RecordKind::RollCallName, Some("2025-03-10"));
        assert_eq!(due(&name, &s, d("2026-03-09")), Action::Keep);
        assert_eq!(
            due(&name, &s, d("2026-03-10")),
            Action::Dispose(Disposal::Anonymise)
        );
        let report = facts(RecordKind::Report, Some("2025-03-10"));
        assert_eq!(due(&report, &s, d("2029-03-09")), Action::Keep);
        assert_eq!(
            due(&report, &s, d("2030-03-10")),
            Action::Dispose(Disposal::Anonymise)
        );
        assert_eq!(
            due(
                &facts(RecordKind::OutreachNote, Some("2025-01-31")),
                &s,
                d("2026-01-31")
            ),
            Action::Dispose(Disposal::Delete)
        );
    }

    #[test]
    fn ongoing_disposed_and_held_records_are_not_disposed_of() {
        let s = RetentionSettings::default();
        let today = d("2030-01-01");
        assert_eq!(
            due(&facts(RecordKind::Volunteer, None), &s, today),
            Action::Keep
        );
        let mut f = facts(RecordKind::Volunteer, Some("2020-01-01"));
        f.disposed = true;
        assert_eq!(due(&f, &s, today), Action::Keep);
        f.disposed = false;
        f.held = true;
        assert_eq!(due(&f, &s, today), Action::Held(Disposal::Anonymise));
        // A hold on a record that is not due yet changes nothing.
        let mut young = facts(RecordKind::Volunteer, Some("2029-12-01"));
        young.held = true;
        assert_eq!(due(&young, &s, today), Action::Keep);
        // Released: the next run disposes of it.
        f.held = false;
        assert_eq!(due(&f, &s, today), Action::Dispose(Disposal::Anonymise));
    }

    #[test]
    fn tenant_settings_override_the_defaults_within_bounds() {
        let mut s = RetentionSettings::default();
        s.set(
            RecordKind::RollCallName,
            Class {
                months: 3,
                then: Disposal::Delete,
            },
        )
        .unwrap();
        let f = facts(RecordKind::RollCallName, Some("2025-11-30"));
        assert_eq!(due(&f, &s, d("2026-02-27")), Action::Keep);
        // 30 November + 3 months is the last day of February.
        assert_eq!(
            due(&f, &s, d("2026-02-28")),
            Action::Dispose(Disposal::Delete)
        );
        for months in [0, MAX_MONTHS + 1] {
            let e = s
                .set(
                    RecordKind::AccessLog,
                    Class {
                        months,
                        then: Disposal::Delete,
                    },
                )
                .unwrap_err();
            assert_eq!(e.field, "retention.access-log.months");
            assert_eq!(e.reason, Reason::OutOfRange);
        }
        assert_eq!(
            s.class(RecordKind::AccessLog),
            default_class(RecordKind::AccessLog)
        );
        assert_eq!(log_cutoff(&s, d("2031-05-31")), d("2026-05-31"));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RetentionSettings>(&json).unwrap(), s);
    }
}
