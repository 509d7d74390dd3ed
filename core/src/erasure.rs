//! What an erased person looks like in the documents, and the rules that keep them erased
//! (ADR 0004 §4, ADR 0019). Pure functions: the relay and the phones both call them.
//!
//! Erasure destroys the person's subject key (on the relay and on every phone), which makes
//! every sealed copy of their label unreadable in every replica and in the whole change
//! history at once. What stays in the register is the participant record without its label,
//! marked `erased`, so attendance marks keep counting as anonymous aggregates (a session's
//! attendance, unique participants per age band, new participants). Views list an erased
//! participant nowhere by name; the rules refuse any edit that puts a label back on an erased
//! record or clears the mark.

use std::collections::{BTreeMap, BTreeSet};

use crate::document::Versions;
use crate::ids::ParticipantId;
use crate::model::Sealed;
use crate::model::outreach::KnownPerson;
use crate::model::register::Participant;
use crate::model::staff::StaffMember;
use crate::model::volunteer::Volunteer;
use crate::time::Date;

/// Why a person is erased (a code, never free text: the erasure log holds no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErasureReason {
    /// The person (or their guardian) asked for erasure (GDPR art. 17(1)).
    Request,
    /// Consent was withdrawn and no other basis applies (art. 17(1)(b)).
    ConsentWithdrawn,
    /// The purpose has ended (art. 17(1)(a)).
    PurposeEnded,
    /// The data should never have been recorded (art. 17(1)(d)).
    Unlawful,
    /// A duplicate or mistaken registration of someone who does not take part.
    Mistake,
}

impl ErasureReason {
    /// Every reason, in the order the pages offer them.
    pub const ALL: [ErasureReason; 5] = [
        ErasureReason::Request,
        ErasureReason::ConsentWithdrawn,
        ErasureReason::PurposeEnded,
        ErasureReason::Unlawful,
        ErasureReason::Mistake,
    ];

    /// The stable code (API, log).
    pub fn code(self) -> &'static str {
        match self {
            ErasureReason::Request => "request",
            ErasureReason::ConsentWithdrawn => "consent-withdrawn",
            ErasureReason::PurposeEnded => "purpose-ended",
            ErasureReason::Unlawful => "unlawful",
            ErasureReason::Mistake => "mistake",
        }
    }

    /// The Danish label (the pages).
    pub fn da(self) -> &'static str {
        match self {
            ErasureReason::Request => "Personen (eller forældremyndigheden) har bedt om sletning",
            ErasureReason::ConsentWithdrawn => "Samtykket er trukket tilbage",
            ErasureReason::PurposeEnded => "Formålet er ophørt",
            ErasureReason::Unlawful => "Oplysningerne burde ikke være registreret",
            ErasureReason::Mistake => "Fejlregistrering",
        }
    }

    /// The reason of a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The participant record as it stays after erasure: no label, marked erased on `on`. What
/// reports count by (age band, gender, residence, first seen, recruitment path, a review
/// merge) stays, so the counts survive; none of it names anyone.
pub fn erased_participant(p: &Participant, on: Date) -> Participant {
    Participant {
        label: None,
        erased: Some(p.erased.unwrap_or(on)),
        ..p.clone()
    }
}

/// A record of a person that erasure marks: a register's participant, an outreach log's
/// known person.
pub trait Erasable {
    /// The day the person was erased, if they were.
    fn erased_on(&self) -> Option<Date>;
    /// Whether the record still carries the person's sealed label or name.
    fn labelled(&self) -> bool;
}

impl Erasable for Participant {
    fn erased_on(&self) -> Option<Date> {
        self.erased
    }
    fn labelled(&self) -> bool {
        self.label.is_some()
    }
}

/// The records of `ids` in `container` as erasure leaves them (`erase`), leaving out those
/// erased already in every version. A record an offline phone wrote concurrently keeps its
/// label in a conflict, so it is written again: that replaces every version. An id the
/// document does not hold is refused as `missing` (field, message).
pub(crate) fn erased_records<'a, I, T>(
    am: &automerge::Automerge,
    container: &str,
    ids: impl IntoIterator<Item = &'a I>,
    missing: (&'static str, &'static str),
    erase: impl Fn(&T) -> T,
) -> crate::error::Result<Vec<(&'a I, T)>>
where
    I: AsRef<str> + 'a + ?Sized,
    T: Erasable + autosurgeon::Hydrate + Clone,
{
    let mut out = Vec::new();
    for id in ids {
        let Some(v) = crate::document::read_one::<_, T>(am, container, id.as_ref())? else {
            return crate::error::invalid(missing.0, crate::error::Reason::NotFound, missing.1);
        };
        if v.current.erased_on().is_some() && !v.current.labelled() && v.conflicts.is_empty() {
            continue;
        }
        out.push((id, erase(&v.current)));
    }
    Ok(out)
}

impl Erasable for Volunteer {
    fn erased_on(&self) -> Option<Date> {
        self.erased
    }
    fn labelled(&self) -> bool {
        self.name.is_some()
    }
}

/// The volunteer as they stay in the directory after erasure: no name, no certificate
/// dates, archived, marked erased on `on`. Source, joining date, residence and trainings
/// stay (no names in them), so hours and training counts still add up.
pub fn erased_volunteer(v: &Volunteer, on: Date) -> Volunteer {
    Volunteer {
        name: None,
        child_certificate: None,
        status: crate::model::VolunteerStatus::Archived,
        erased: Some(v.erased.unwrap_or(on)),
        ..v.clone()
    }
}

impl Erasable for KnownPerson {
    fn erased_on(&self) -> Option<Date> {
        self.erased
    }
    fn labelled(&self) -> bool {
        self.label.is_some()
    }
}

/// The known person as they stay after erasure: no label, marked erased on `on`. Age band,
/// basis and the consent's terms (no names in them) stay, so contacts keep counting.
pub fn erased_known_person(p: &KnownPerson, on: Date) -> KnownPerson {
    KnownPerson {
        label: None,
        erased: Some(p.erased.unwrap_or(on)),
        ..p.clone()
    }
}

impl Erasable for StaffMember {
    fn erased_on(&self) -> Option<Date> {
        self.erased
    }
    fn labelled(&self) -> bool {
        !self.name.is_empty() || !self.title.is_empty()
    }
}

/// The staff member as they stay in the staff directory after erasure: no name, no title,
/// not active, marked erased on `on` (and left on `on` if no leaving day was recorded).
/// Employer, role, placements stay (no names in them), so what they recorded keeps its area
/// and the counts add up; their id stays in the access and erasure logs, with no name.
pub fn erased_staff(s: &StaffMember, on: Date) -> StaffMember {
    StaffMember {
        name: String::new(),
        title: String::new(),
        active: false,
        left: Some(s.left.unwrap_or(on)),
        erased: Some(s.erased.unwrap_or(on)),
        ..s.clone()
    }
}

impl Erasable for crate::model::activity::GoalReport {
    fn erased_on(&self) -> Option<Date> {
        self.anonymised
    }
    fn labelled(&self) -> bool {
        self.has_text()
    }
}

/// The goal-fulfilment report as it stays after its retention period (issue 11 item 4): no
/// narrative, no goal comments, marked anonymised on `on`. Period, area, statuses, reason
/// codes, measurements, themes, state and author stay, so the numbers still add up.
pub fn anonymised_report(
    r: &crate::model::activity::GoalReport,
    on: Date,
) -> crate::model::activity::GoalReport {
    let mut out = r.clone();
    out.narrative.clear();
    for a in out.goals.values_mut() {
        a.comment.clear();
    }
    out.anonymised = Some(r.anonymised.unwrap_or(on));
    out
}

/// Whether a person's record is erased: in any concurrent version (an offline phone's edit
/// made before it heard of the erasure does not un-erase the record).
pub fn is_erased<T: Erasable>(v: &Versions<T>) -> bool {
    v.current.erased_on().is_some() || v.conflicts.iter().any(|c| c.erased_on().is_some())
}

/// The label a view may show: none for an erased participant, even where an offline phone's
/// concurrent edit wrote one back (it is sealed under the destroyed key and opens nowhere).
pub fn shown_label(p: &Participant) -> Option<&Sealed> {
    if p.erased.is_some() {
        None
    } else {
        p.label.as_ref()
    }
}

/// How the erasure mark is written: a date when set, nothing at all when not. A phone that
/// has not heard of an erasure and edits the record offline therefore writes no `erased`
/// field, so its edit cannot race the mark away (an `Option` would write a null).
pub fn reconcile_mark<R: autosurgeon::Reconciler>(
    v: &Option<Date>,
    r: R,
) -> std::result::Result<(), R::Error> {
    match v {
        Some(d) => autosurgeon::Reconcile::reconcile(d, r),
        None => Ok(()),
    }
}

/// Whether an edit of a person's record keeps an erasure: a record that was erased before
/// the edit must still be erased in some version after it.
pub fn keeps_erasure<T: Erasable>(before: Option<&Versions<T>>, after: &Versions<T>) -> bool {
    !before.is_some_and(is_erased) || is_erased(after)
}

/// The participants that are one person with `subject` in a register: the subject, the
/// participant it was merged into (followed to the end), and every participant merged into
/// any of them. Erasing a person erases each of these records (each has its own key).
pub fn merge_group(
    participants: &BTreeMap<ParticipantId, Versions<Participant>>,
    subject: &ParticipantId,
) -> BTreeSet<ParticipantId> {
    let root = |id: &ParticipantId| {
        let mut id = id;
        for _ in 0..16 {
            match participants
                .get(id)
                .and_then(|p| p.current.merged_into.as_ref())
            {
                Some(next) => id = next,
                None => break,
            }
        }
        id.clone()
    };
    if !participants.contains_key(subject) {
        return BTreeSet::new();
    }
    let mine = root(subject);
    participants
        .keys()
        .filter(|k| root(k) == mine)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::By;

    fn p(label: bool) -> Participant {
        Participant {
            age_band: "6-9".parse().unwrap(),
            gender: None,
            resident: Some(true),
            label: label.then(|| Sealed(vec![1, 2, 3])),
            added_on: Date::parse("2026-01-05").unwrap(),
            added_by: By::System,
            recruitment: None,
            merged_into: None,
            erased: None,
            consent: None,
        }
    }

    fn versions(current: Participant, conflicts: Vec<Participant>) -> Versions<Participant> {
        Versions { current, conflicts }
    }

    #[test]
    fn an_erased_record_keeps_what_counts_and_loses_the_label() {
        let on = Date::parse("2026-03-01").unwrap();
        let e = erased_participant(&p(true), on);
        assert_eq!(e.label, None);
        assert_eq!(e.erased, Some(on));
        assert_eq!(e.age_band, p(true).age_band);
        assert_eq!(e.added_on, p(true).added_on);
        // Erasing again keeps the first date.
        let later = Date::parse("2026-04-01").unwrap();
        assert_eq!(erased_participant(&e, later).erased, Some(on));
        assert_eq!(shown_label(&e), None);
        let relabelled = Participant {
            label: Some(Sealed(vec![9])),
            ..e
        };
        assert_eq!(shown_label(&relabelled), None);
        assert!(shown_label(&p(true)).is_some());
    }

    #[test]
    fn an_erasure_survives_a_concurrent_edit_but_not_an_overwrite() {
        let on = Date::parse("2026-03-01").unwrap();
        let erased = versions(erased_participant(&p(true), on), vec![]);
        let live = versions(p(true), vec![]);
        // An offline phone's concurrent edit: both versions kept, still erased.
        let merged = versions(p(true), vec![erased_participant(&p(true), on)]);
        assert!(is_erased(&merged));
        assert!(keeps_erasure(Some(&erased), &merged));
        // A later edit that writes the record without the mark.
        assert!(!keeps_erasure(Some(&erased), &live));
        assert!(keeps_erasure(None, &live));
        assert!(keeps_erasure(Some(&live), &live));
    }

    #[test]
    fn the_merge_group_is_everyone_who_is_the_same_person() {
        let a: ParticipantId = ParticipantId::random();
        let b: ParticipantId = ParticipantId::random();
        let c: ParticipantId = ParticipantId::random();
        let other: ParticipantId = ParticipantId::random();
        let mut pa = p(true);
        pa.merged_into = Some(b.clone());
        let pb = p(true);
        let mut pc = p(true);
        pc.merged_into = Some(a.clone());
        let po = p(true);
        let all: BTreeMap<_, _> = [(&a, pa), (&b, pb), (&c, pc), (&other, po)]
            .into_iter()
            .map(|(k, v)| (k.clone(), versions(v, vec![])))
            .collect();
        let want: BTreeSet<_> = [a.clone(), b.clone(), c.clone()].into();
        for id in [&a, &b, &c] {
            assert_eq!(merge_group(&all, id), want);
        }
        assert_eq!(merge_group(&all, &other), [other.clone()].into());
        assert!(merge_group(&all, &ParticipantId::random()).is_empty());
    }

    #[test]
    fn reasons_round_trip_by_code() {
        for r in ErasureReason::ALL {
            assert_eq!(ErasureReason::parse(r.code()), Some(r));
            assert!(!r.da().is_empty());
        }
        assert_eq!(ErasureReason::parse("because"), None);
    }
}
