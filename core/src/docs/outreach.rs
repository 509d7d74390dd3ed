//! The outreach log of one worker in one area for one quarter: contacts, known persons,
//! referrals and area observations. Visible to its author and the tenant's central staff.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ActorId;

use super::activity::typed_keys;
use super::{MAX_NAME, require_term, require_terms};
use crate::catalogue::{Catalogue, Vocabulary};
use crate::document::{
    Author, NaboDoc, Scope, Versions, read_all, read_one, typed_doc, write_record,
};
use crate::error::{Reason, Result, invalid};
use crate::ids::{
    ActivityId, AreaId, Code, ContactId, ObservationId, OrgId, ParticipantId, ReferralId, StaffId,
    TenantId,
};
use crate::model::outreach::{
    ConcernReport, Consent, KnownPerson, Observation, ObservationStatus, ObservationUpdate,
    OutreachContact, Referral, StatusChange,
};
use crate::model::{By, Gender, IdMap, LegalBasis, ReferralKind, ReferralStatus, Sealed, Set};
use crate::time::{Date, Quarter, Timestamp};

/// Most people met in one contact.
pub const MAX_COUNT: u32 = 200;

/// The outreach log.
#[derive(Debug, Clone)]
pub struct OutreachDoc {
    doc: NaboDoc,
}
typed_doc!(OutreachDoc, crate::document::DocKind::Outreach);

/// Input for a contact. The defaults are anonymous and coded.
#[derive(Debug, Clone)]
pub struct NewContact {
    /// When.
    pub at: Timestamp,
    /// Coarse location code.
    pub location: String,
    /// Kind code.
    pub kind: String,
    /// Activity type, e.g. `BU.gadeplansarbejde`.
    pub activity_type: Option<String>,
    /// Other staff present.
    pub staff: Vec<StaffId>,
    /// A known person, if upgraded.
    pub participant: Option<ParticipantId>,
    /// How many people.
    pub count: u32,
    /// Age band.
    pub age_band: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Topic codes.
    pub topics: Vec<String>,
    /// Outcome codes.
    pub outcomes: Vec<String>,
    /// Follow up on.
    pub followup: Option<Date>,
    /// A sealed free-text note (only where the tenant allows notes).
    pub note: Option<Sealed>,
    /// A concern report was made.
    pub concern: Option<ConcernReport>,
}

impl NewContact {
    /// An anonymous contact: `count` people of `age_band` at `location`.
    pub fn anonymous(
        at: Timestamp,
        location: &str,
        kind: &str,
        count: u32,
        age_band: &str,
    ) -> Self {
        NewContact {
            at,
            location: location.into(),
            kind: kind.into(),
            activity_type: None,
            staff: Vec::new(),
            participant: None,
            count,
            age_band: Some(age_band.into()),
            gender: None,
            topics: Vec::new(),
            outcomes: Vec::new(),
            followup: None,
            note: None,
            concern: None,
        }
    }
}

/// Input for a referral.
#[derive(Debug, Clone)]
pub struct NewReferral {
    /// When.
    pub at: Timestamp,
    /// From a contact in this log.
    pub from_contact: Option<ContactId>,
    /// From an activity.
    pub from_activity: Option<ActivityId>,
    /// The known person.
    pub participant: Option<ParticipantId>,
    /// Target code.
    pub to: String,
    /// Target organisation.
    pub to_org: Option<OrgId>,
    /// Target activity (recruitment).
    pub to_activity: Option<ActivityId>,
    /// Kind.
    pub kind: ReferralKind,
    /// The person consented to sharing details with the partner.
    pub consent_to_share: bool,
}

fn code(field: &'static str, s: &str) -> Result<Code> {
    s.parse()
        .or_else(|_| invalid(field, Reason::UnknownCode, "malformed code"))
}

fn codes(field: &'static str, v: &[String]) -> Result<Set<Code>> {
    v.iter().map(|s| code(field, s)).collect()
}

impl OutreachDoc {
    /// Creates (or, on another phone, re-creates the same) log of `worker` in `area` for
    /// `quarter`.
    pub fn create(
        tenant: TenantId,
        worker: StaffId,
        area: AreaId,
        quarter: Quarter,
        actor: ActorId,
    ) -> Result<Self> {
        Ok(OutreachDoc {
            doc: NaboDoc::create(
                Scope::Outreach {
                    tenant,
                    worker,
                    area,
                    quarter,
                },
                actor,
            )?,
        })
    }

    /// The quarter.
    pub fn quarter(&self) -> Quarter {
        match self.doc.scope() {
            Scope::Outreach { quarter, .. } => *quarter,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// The worker.
    pub fn worker(&self) -> &StaffId {
        match self.doc.scope() {
            Scope::Outreach { worker, .. } => worker,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// The area.
    pub fn area(&self) -> &AreaId {
        match self.doc.scope() {
            Scope::Outreach { area, .. } => area,
            _ => super::activity::unreachable_scope(),
        }
    }

    /// Logs a contact. `free_text_notes` is the tenant's setting.
    pub fn log_contact(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        free_text_notes: bool,
        input: NewContact,
    ) -> Result<ContactId> {
        self.log_contact_as(author, cat, free_text_notes, ContactId::random(), input)
    }

    /// Logs a contact under an id chosen beforehand: a note on a contact without a known
    /// person is sealed for the contact's id ([`note_subject`]) before the contact is written.
    pub fn log_contact_as(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        free_text_notes: bool,
        id: ContactId,
        input: NewContact,
    ) -> Result<ContactId> {
        let c = OutreachContact {
            at: input.at,
            location: code("location", &input.location)?,
            kind: code("kind", &input.kind)?,
            activity_type: input
                .activity_type
                .as_deref()
                .map(|t| code("activity_type", t))
                .transpose()?,
            staff: input.staff.into_iter().collect(),
            participant: input.participant,
            count: input.count,
            age_band: input
                .age_band
                .as_deref()
                .map(|b| code("age_band", b))
                .transpose()?,
            gender: input.gender,
            topics: codes("topics", &input.topics)?,
            outcomes: codes("outcomes", &input.outcomes)?,
            followup: input.followup,
            note: input.note,
            concern: input.concern,
            by: author.by.clone(),
        };
        check_contact(cat, self.quarter(), free_text_notes, &c)?;
        if let Some(concern) = &c.concern {
            crate::concern::check(concern, c.at.date_dk(), Some(author.at.date_dk()))?;
        }
        if let Some(p) = &c.participant {
            self.person(p)?;
        }
        if self.contacts()?.contains_key(&id) {
            return invalid("id", Reason::AlreadyExists, "a contact with this id exists");
        }
        self.doc.write(author, "log-contact", |tx| {
            write_record(tx, "contacts", id.as_str(), &c)
        })?;
        Ok(id)
    }

    /// Adds a known person (upgrading anonymous contacts, user story 2). Refused unless the
    /// person's basis covers following them on the day they are added (ADR 0027: consent
    /// covering `follow-up`, a public task or a legal obligation); a consent for a person under
    /// the tenant's guardian age (`Settings::consent_age`) is a guardian's.
    pub fn add_person(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ParticipantId,
        p: KnownPerson,
    ) -> Result<()> {
        self.add_person_with_age(author, cat, id, p, crate::consent::DEFAULT_GUARDIAN_AGE)
    }

    /// [`Self::add_person`] with the tenant's guardian age.
    pub fn add_person_with_age(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ParticipantId,
        p: KnownPerson,
        guardian_age: u8,
    ) -> Result<()> {
        check_person(cat, &p)?;
        if let Some(c) = &p.consent {
            crate::consent::check(cat, c, p.age_band.as_str(), guardian_age)?;
        }
        if read_one::<_, KnownPerson>(self.doc.automerge(), "people", id.as_str())?.is_some() {
            return invalid("participant", Reason::AlreadyExists, "already known");
        }
        self.doc.write(author, "add-person", |tx| {
            write_record(tx, "people", id.as_str(), &p)
        })
    }

    /// Records a known person's consent, or corrects the one recorded (not a withdrawn one:
    /// a withdrawal is final, ADR 0027). The basis the person is followed on stays as it
    /// was; the consent adds what it covers (sharing with a partner, photos). A consent for a
    /// person under `guardian_age` is a guardian's.
    pub fn record_consent(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ParticipantId,
        consent: Consent,
        guardian_age: u8,
    ) -> Result<()> {
        let mut p = self.person(id)?;
        let band = p.age_band.to_string();
        crate::consent::record(cat, &mut p.consent, p.erased, &band, consent, guardian_age)?;
        check_person(cat, &p)?;
        self.doc.write(author, "record-consent", |tx| {
            write_record(tx, "people", id.as_str(), &p)
        })
    }

    /// Records that consent was withdrawn on `on` (ADR 0027): from that day the person is not
    /// followed by consent or shared with partners; what was recorded before stays lawful.
    pub fn withdraw_consent(
        &mut self,
        author: &Author,
        id: &ParticipantId,
        on: Date,
    ) -> Result<()> {
        let mut p = self.person(id)?;
        crate::consent::withdraw(p.consent.as_mut(), on)?;
        self.doc.write(author, "withdraw-consent", |tx| {
            write_record(tx, "people", id.as_str(), &p)
        })
    }

    /// Marks known persons erased (ADR 0019): each record loses its label and is marked, in
    /// every concurrent version, in one change. Returns how many records changed.
    pub fn erase_people(
        &mut self,
        author: &Author,
        ids: &BTreeSet<ParticipantId>,
        on: Date,
    ) -> Result<usize> {
        let records = crate::erasure::erased_records(
            self.doc.automerge(),
            "people",
            ids,
            ("participant", "not a known person in this log"),
            |p: &KnownPerson| crate::erasure::erased_known_person(p, on),
        )?;
        self.doc
            .write_records(author, "erase-person", "people", &records)
    }

    fn person(&self, id: &ParticipantId) -> Result<KnownPerson> {
        match read_one::<_, KnownPerson>(self.doc.automerge(), "people", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid(
                "participant",
                Reason::NotFound,
                "not a known person in this log",
            ),
        }
    }

    /// Records a referral (brobygning).
    pub fn refer(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        input: NewReferral,
    ) -> Result<ReferralId> {
        let id = ReferralId::random();
        let mut history = IdMap::new();
        history.insert(
            format!("{}-{}", input.at.0, crate::ids::random_id()),
            StatusChange {
                at: input.at,
                status: ReferralStatus::Suggested,
                by: author.by.clone(),
            },
        );
        let r = Referral {
            at: input.at,
            from_contact: input.from_contact,
            from_activity: input.from_activity,
            participant: input.participant,
            to: code("to", &input.to)?,
            to_org: input.to_org,
            to_activity: input.to_activity,
            kind: input.kind,
            status: ReferralStatus::Suggested,
            history,
            consent_to_share: input.consent_to_share,
            by: author.by.clone(),
        };
        check_referral(cat, &r)?;
        if let Some(c) = &r.from_contact
            && read_one::<_, OutreachContact>(self.doc.automerge(), "contacts", c.as_str())?
                .is_none()
        {
            return invalid(
                "from_contact",
                Reason::NotFound,
                "no such contact in this log",
            );
        }
        if let Some(p) = &r.participant {
            let person = self.person(p)?;
            check_sharing(&r, &person)?;
        }
        self.doc.write(author, "refer", |tx| {
            write_record(tx, "referrals", id.as_str(), &r)
        })?;
        Ok(id)
    }

    /// Moves a referral to a new status. A closed referral (completed, declined) stays closed.
    pub fn set_referral_status(
        &mut self,
        author: &Author,
        id: &ReferralId,
        status: ReferralStatus,
    ) -> Result<()> {
        let Some(v) = read_one::<_, Referral>(self.doc.automerge(), "referrals", id.as_str())?
        else {
            return invalid("referral", Reason::NotFound, "no such referral");
        };
        let mut r = v.current;
        if r.status.is_closed() {
            return invalid("status", Reason::NotAllowed, "the referral is closed");
        }
        if r.status == status {
            return Ok(());
        }
        r.status = status;
        r.history.insert(
            format!("{}-{}", author.at.0, crate::ids::random_id()),
            StatusChange {
                at: author.at,
                status,
                by: author.by.clone(),
            },
        );
        self.doc.write(author, "referral-status", |tx| {
            write_record(tx, "referrals", id.as_str(), &r)
        })
    }

    /// Logs an observation about the physical environment.
    pub fn observe(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        o: Observation,
    ) -> Result<ObservationId> {
        check_observation(cat, &o)?;
        let id = ObservationId::random();
        self.doc.write(author, "observe", |tx| {
            write_record(tx, "observations", id.as_str(), &o)
        })?;
        Ok(id)
    }

    /// Moves an observation on the estate office's list: a status change recorded with who
    /// and when (concurrent changes are all kept; the latest shows). Any status may follow
    /// any other — a rejected or resolved observation is reopened by setting it back — but
    /// not the one it has.
    pub fn set_observation_status(
        &mut self,
        author: &Author,
        id: &ObservationId,
        status: ObservationStatus,
    ) -> Result<()> {
        let mut o = self.observation(id)?;
        if o.status() == status {
            return invalid(
                "status",
                Reason::Inconsistent,
                "the observation has this status",
            );
        }
        o.handling.insert(
            format!("{}-{}", author.at.0, crate::ids::random_id()),
            ObservationUpdate {
                at: author.at,
                status,
                by: author.by.clone(),
            },
        );
        o.resolved = status == ObservationStatus::Resolved;
        self.doc.write(author, "observation-status", |tx| {
            write_record(tx, "observations", id.as_str(), &o)
        })
    }

    /// Routes an observation to an organisation (the estate office), or takes it off every
    /// list (`None`).
    pub fn route_observation(
        &mut self,
        author: &Author,
        id: &ObservationId,
        to: Option<OrgId>,
    ) -> Result<()> {
        let mut o = self.observation(id)?;
        o.routed_to = to;
        self.doc.write(author, "route-observation", |tx| {
            write_record(tx, "observations", id.as_str(), &o)
        })
    }

    fn observation(&self, id: &ObservationId) -> Result<Observation> {
        match read_one::<_, Observation>(self.doc.automerge(), "observations", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("observation", Reason::NotFound, "no such observation"),
        }
    }

    /// Contacts.
    pub fn contacts(&self) -> Result<BTreeMap<ContactId, OutreachContact>> {
        typed_keys(read_all(self.doc.automerge(), "contacts")?)
    }

    /// Known persons.
    pub fn people(&self) -> Result<BTreeMap<ParticipantId, KnownPerson>> {
        typed_keys(read_all(self.doc.automerge(), "people")?)
    }

    /// The subjects whose keys this log's sealed values are sealed with (ADR 0011, amended):
    /// its known persons (labels, and notes on contacts with them) and the contacts that
    /// carry a note without a known person ([`note_subject`]).
    pub fn subject_ids(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = self.people()?.keys().map(ToString::to_string).collect();
        out.extend(
            self.contacts()?
                .iter()
                .filter(|(_, c)| has_own_note_key(c))
                .map(|(id, _)| id.to_string()),
        );
        Ok(out)
    }

    /// Referrals, with concurrent versions (two phones updating the status concurrently).
    pub fn referrals(&self) -> Result<BTreeMap<ReferralId, Versions<Referral>>> {
        read_all(self.doc.automerge(), "referrals")?
            .into_iter()
            .map(|(k, v)| {
                Ok((
                    k.parse()
                        .map_err(|_| crate::Error::Schema(format!("malformed key {k}")))?,
                    v,
                ))
            })
            .collect()
    }

    /// Observations.
    pub fn observations(&self) -> Result<BTreeMap<ObservationId, Observation>> {
        typed_keys(read_all(self.doc.automerge(), "observations")?)
    }

    /// The whole merged log (for convergence checks and the review pages).
    pub fn view(&self) -> Result<OutreachView> {
        Ok(OutreachView {
            contacts: self.contacts()?,
            people: self.people()?,
            referrals: self.referrals()?,
            observations: self.observations()?,
        })
    }
}

/// The merged outreach log.
#[derive(Debug, Clone, PartialEq)]
pub struct OutreachView {
    /// Contacts.
    pub contacts: BTreeMap<ContactId, OutreachContact>,
    /// Known persons.
    pub people: BTreeMap<ParticipantId, KnownPerson>,
    /// Referrals.
    pub referrals: BTreeMap<ReferralId, Versions<Referral>>,
    /// Observations.
    pub observations: BTreeMap<ObservationId, Observation>,
}

/// Longest free-text note on a contact, in characters: at most four bytes each, so a note
/// always fits what [`crate::seal::seal`] takes.
pub const MAX_NOTE: usize = 500;
const _: () = assert!(MAX_NOTE * 4 <= crate::seal::MAX_PLAINTEXT);
/// Longest sealed note: format byte, nonce, the longest plaintext and the tag.
const MAX_SEALED_NOTE: usize = 1 + 24 + crate::seal::MAX_PLAINTEXT + 16;

/// Whether a phone may write `text` as a contact's note: the tenant allows notes
/// (`free_text_notes`) and it is at most [`MAX_NOTE`] characters. Refusals name `note`.
pub fn check_note_text(free_text_notes: bool, text: &str) -> Result<()> {
    if !free_text_notes {
        return invalid(
            "note",
            Reason::FreeTextDisabled,
            "free-text notes are switched off for this tenant",
        );
    }
    super::limit_text("note", text, MAX_NOTE)
}

/// Whether a contact's note is sealed with a key of the contact's own (a note naming no known
/// person): that key is a subject of the log, shared and erased like a person's.
pub fn has_own_note_key(c: &OutreachContact) -> bool {
    c.note.is_some() && c.participant.is_none()
}

/// The subject a contact's note is sealed for: the known person when the contact names one
/// (erasing the person destroys the key and with it the note), else the contact itself.
pub fn note_subject(id: &ContactId, c: &OutreachContact) -> String {
    match &c.participant {
        Some(p) => p.to_string(),
        None => id.to_string(),
    }
}

/// What a contact record must satisfy: in the log's quarter, codes from the catalogue, a
/// count in range (one for a known person), a follow-up not before the contact, a free-text
/// note only where the tenant allows notes. (That a known person exists is checked against
/// the log.)
pub(crate) fn check_contact(
    cat: &Catalogue,
    quarter: Quarter,
    free_text_notes: bool,
    c: &OutreachContact,
) -> Result<()> {
    if !quarter.contains(c.at.date_dk()) {
        return invalid(
            "at",
            Reason::OutsidePeriod,
            format!("not in the log's quarter {quarter}"),
        );
    }
    require_term(cat, Vocabulary::LocationHints, "location", &c.location)?;
    require_term(cat, Vocabulary::ContactKinds, "kind", &c.kind)?;
    if let Some(t) = &c.activity_type
        && !cat
            .taxonomies()
            .any(|tax| tax.activity_types.iter().any(|x| x.code == t.as_str()))
    {
        return invalid(
            "activity_type",
            Reason::UnknownCode,
            format!("{t} is not an activity type"),
        );
    }
    if c.count == 0 || c.count > MAX_COUNT {
        return invalid(
            "count",
            Reason::OutOfRange,
            format!("between 1 and {MAX_COUNT}"),
        );
    }
    if let Some(b) = &c.age_band
        && cat.age_band(b.as_str()).is_none()
    {
        return invalid(
            "age_band",
            Reason::OutOfRange,
            format!("{b} is not an age band"),
        );
    }
    require_terms(cat, Vocabulary::OutreachTopics, "topics", &c.topics)?;
    require_terms(cat, Vocabulary::OutreachOutcomes, "outcomes", &c.outcomes)?;
    if c.note.is_some() && !free_text_notes {
        return invalid(
            "note",
            Reason::FreeTextDisabled,
            "free-text notes are switched off for this tenant",
        );
    }
    if c.note.as_ref().is_some_and(|n| n.0.len() > MAX_SEALED_NOTE) {
        return invalid(
            "note",
            Reason::TooLong,
            format!("at most {MAX_NOTE} characters"),
        );
    }
    if c.participant.is_some() && c.count != 1 {
        return invalid(
            "count",
            Reason::Inconsistent,
            "a contact with a known person counts one person",
        );
    }
    if let Some(concern) = &c.concern {
        crate::concern::check(concern, c.at.date_dk(), None)?;
    }
    if c.followup.is_some_and(|f| f < c.at.date_dk()) {
        return invalid(
            "followup",
            Reason::OutOfRange,
            "follow-up date is in the past",
        );
    }
    Ok(())
}

/// What a known person must satisfy: an age band from the catalogue, and the consent recorded
/// when consent is the basis.
pub(crate) fn check_person(cat: &Catalogue, p: &KnownPerson) -> Result<()> {
    if cat.age_band(p.age_band.as_str()).is_none() {
        return invalid(
            "age_band",
            Reason::OutOfRange,
            format!("{} is not an age band", p.age_band),
        );
    }
    crate::consent::check_basis("basis_text", p.basis, p.basis_text.as_deref())?;
    if p.basis == LegalBasis::Consent && p.consent.is_none() {
        return invalid(
            "consent",
            Reason::Missing,
            "consent is the basis, so the consent must be recorded",
        );
    }
    if let Some(c) = &p.consent {
        crate::consent::check(
            cat,
            c,
            p.age_band.as_str(),
            crate::consent::MIN_GUARDIAN_AGE,
        )?;
    }
    // The upgrade to a known person needs a basis covering it on the day (ADR 0027); a later
    // withdrawal does not make the record unlawful from the start (art. 7(3)).
    let given = p.consent.clone().map(|mut c| {
        c.withdrawn_on = None;
        c
    });
    crate::consent::covers(
        p.basis,
        given.as_ref(),
        crate::consent::Use::FollowUp,
        p.added_on,
    )
}

/// A referral that shares details with a partner needs the person's consent to cover sharing
/// with that partner on the referral's day (ADR 0027, DOMAIN.md §4.9). The error names
/// `consent_to_share` and the reason.
pub(crate) fn check_sharing(r: &Referral, person: &KnownPerson) -> Result<()> {
    if !r.consent_to_share {
        return Ok(());
    }
    crate::consent::covers_sharing(
        person.basis,
        person.consent.as_ref(),
        r.to_org.as_ref(),
        r.at.date_dk(),
    )
    .or_else(|e| match e {
        crate::Error::Invalid(i) => invalid("consent_to_share", i.reason, i.detail),
        e => Err(e),
    })
}

/// What a referral must satisfy: a target from the catalogue, a recruitment names its
/// activity, details are shared only with consent (whether the consent exists is checked
/// against the log).
pub(crate) fn check_referral(cat: &Catalogue, r: &Referral) -> Result<()> {
    require_term(cat, Vocabulary::ReferralTargets, "to", &r.to)?;
    if r.kind == ReferralKind::Recruitment && r.to_activity.is_none() {
        return invalid(
            "to_activity",
            Reason::Missing,
            "a recruitment names the activity",
        );
    }
    if r.participant.is_none() && r.consent_to_share {
        return invalid(
            "consent_to_share",
            Reason::Inconsistent,
            "an anonymous referral shares no details",
        );
    }
    Ok(())
}

/// What an observation must satisfy: codes from the catalogue, a short block name.
pub(crate) fn check_observation(cat: &Catalogue, o: &Observation) -> Result<()> {
    require_term(cat, Vocabulary::ObservationKinds, "kind", &o.kind)?;
    require_term(cat, Vocabulary::LocationHints, "location", &o.location)?;
    if let Some(b) = &o.block {
        super::limit_text("block", b, MAX_NAME)?;
    }
    Ok(())
}

/// A referral's status history in time order (the status shown is the last write; concurrent
/// updates keep all history entries).
pub fn status_history(r: &Referral) -> Vec<&StatusChange> {
    let mut h: Vec<&StatusChange> = r.history.values().collect();
    h.sort_by_key(|c| c.at);
    h
}

/// Who made it, for display without personal data.
pub fn author_kind(by: &By) -> &'static str {
    match by {
        By::Staff(_) => "staff",
        By::Volunteer(_) => "volunteer",
        By::System => "system",
    }
}

#[cfg(test)]
mod note_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::Error;

    fn refused_with(r: Result<()>, reason: Reason) {
        match r {
            Err(Error::Invalid(i)) => {
                assert_eq!(i.field, "note");
                assert_eq!(i.reason, reason);
            }
            other => panic!("expected a refusal naming note, got {other:?}"),
        }
    }

    #[test]
    fn a_note_needs_the_setting_and_fits_the_limit() {
        refused_with(check_note_text(false, "kort"), Reason::FreeTextDisabled);
        check_note_text(true, &"æ".repeat(MAX_NOTE)).unwrap();
        refused_with(
            check_note_text(true, &"a".repeat(MAX_NOTE + 1)),
            Reason::TooLong,
        );
        // The longest note in the widest characters still seals.
        let key = crate::seal::SubjectKey::generate();
        crate::seal::seal(&key, "c", &"😀".repeat(MAX_NOTE)).unwrap();
    }

    #[test]
    fn notes_are_sealed_for_the_known_person_else_the_contact() {
        let cat = Catalogue::builtin().unwrap();
        let worker: StaffId = "s-ali".parse().unwrap();
        let at = Timestamp::from_dk("2026-11-10".parse().unwrap(), "19:30".parse().unwrap());
        let ali = Author {
            by: By::Staff(worker.clone()),
            at,
        };
        let mut log = OutreachDoc::create(
            "t1".parse().unwrap(),
            worker,
            "a1".parse().unwrap(),
            "2026Q4".parse().unwrap(),
            crate::entropy::actor(),
        )
        .unwrap();
        let plain = NewContact::anonymous(at, "legeplads", "uformelt-moede", 2, "15-17");
        let without = log.log_contact(&ali, cat, true, plain.clone()).unwrap();
        let cid = ContactId::random();
        let noted = NewContact {
            note: Some(Sealed(vec![1; 40])),
            ..plain.clone()
        };
        assert_eq!(
            log.log_contact_as(&ali, cat, true, cid.clone(), noted.clone())
                .unwrap(),
            cid
        );
        assert!(
            log.log_contact_as(&ali, cat, true, cid.clone(), noted)
                .is_err()
        );
        let contacts = log.contacts().unwrap();
        assert_eq!(note_subject(&cid, &contacts[&cid]), cid.to_string());
        let mut named = contacts[&cid].clone();
        let pid = ParticipantId::random();
        named.participant = Some(pid.clone());
        assert_eq!(note_subject(&cid, &named), pid.to_string());
        // Only the contact with a note is a subject.
        let subjects = log.subject_ids().unwrap();
        assert_eq!(subjects, vec![cid.to_string()]);
        assert!(!subjects.contains(&without.to_string()));
        // A sealed note longer than the longest plaintext sealed is refused.
        let mut big = contacts[&cid].clone();
        big.note = Some(Sealed(vec![1; MAX_SEALED_NOTE + 1]));
        assert!(check_contact(cat, log.quarter(), true, &big).is_err());
    }
}
