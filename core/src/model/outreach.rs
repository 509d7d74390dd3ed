//! Outreach contacts, known participants, referrals (brobygning) and area observations
//! (DOMAIN.md §1.12–1.13). Held in the outreach log (one per worker per area per quarter).

use autosurgeon::{Hydrate, Reconcile};

use super::{By, Gender, IdMap, LegalBasis, ReferralKind, ReferralStatus, Sealed, Set};
use crate::ids::{ActivityId, Code, ContactId, OrgId, ParticipantId, StaffId};
use crate::time::{Date, Timestamp};

/// An outreach contact (opsøgende kontakt). Anonymous by default: a count, an age band and
/// coded topics, no name, a coarse location.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OutreachContact {
    /// When.
    pub at: Timestamp,
    /// Coarse location (vocabulary `location_hints`).
    pub location: Code,
    /// Kind of contact (vocabulary `contact_kinds`).
    pub kind: Code,
    /// The activity type it was part of (e.g. `BU.gadeplansarbejde`).
    pub activity_type: Option<Code>,
    /// Staff present (besides the log's owner).
    pub staff: Set<StaffId>,
    /// A known participant, when the person agreed to be followed (user story 2).
    pub participant: Option<ParticipantId>,
    /// Number of people met (anonymous contacts).
    pub count: u32,
    /// Age band of the people met.
    pub age_band: Option<Code>,
    /// Gender, if noted.
    pub gender: Option<Gender>,
    /// Topics (vocabulary `outreach_topics`), coded instead of free text.
    pub topics: Set<Code>,
    /// Outcomes (vocabulary `outreach_outcomes`).
    pub outcomes: Set<Code>,
    /// Follow up on.
    pub followup: Option<Date>,
    /// Free-text note: off by default, sealed with the contact's own key (erasable).
    pub note: Option<Sealed>,
    /// A concern about a child was reported (underretning): date and to whom. Nabo is not the
    /// municipal case file; it records only that a report was made.
    pub concern: Option<ConcernReport>,
    /// Who logged it.
    pub by: By,
}

/// That a concern about a child was reported to the kommune.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ConcernReport {
    /// Date the report was made.
    pub reported_on: Date,
    /// To whom (e.g. "kommune-boernefamilie").
    pub to: Code,
}

/// A participant known to the outreach worker: a pseudonymous token that later contacts and
/// referrals attach to (user story 2).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct KnownPerson {
    /// Age band.
    pub age_band: Code,
    /// Label the worker recognises, sealed with the person's key (erasable).
    pub label: Option<Sealed>,
    /// Legal basis for following the person.
    pub basis: LegalBasis,
    /// The statute, when the basis is another statutory basis (`other-statutory`, ADR 0034).
    /// Written only when set (a phone that has not heard of it writes no field); absent in
    /// persons recorded before it.
    #[autosurgeon(
        reconcile = "crate::consent::reconcile_some",
        hydrate = "crate::model::lenient::opt_string"
    )]
    pub basis_text: Option<String>,
    /// Consent, when consent is the basis.
    pub consent: Option<Consent>,
    /// Added on.
    pub added_on: Date,
    /// Set when central staff erased the person (ADR 0019): the label is gone, the key is
    /// destroyed, and the record stays only so contacts with them keep counting.
    #[autosurgeon(
        reconcile = "crate::erasure::reconcile_mark",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub erased: Option<Date>,
}

/// Evidence of consent: who, relation, scope, date, channel, and withdrawal (DOMAIN.md §4.4).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Consent {
    /// Given on.
    pub given_on: Date,
    /// Given by a guardian (forælder / værge) rather than the person.
    pub by_guardian: bool,
    /// Scope codes (e.g. `follow-up`, `share-with-partners`).
    pub scope: Set<Code>,
    /// Channel (`oral`, `written`, `digital`).
    pub channel: Code,
    /// Withdrawn on (final: a withdrawn consent stays withdrawn, ADR 0027).
    pub withdrawn_on: Option<Date>,
    /// Who gave it for the person (a guardian's consent for a child under the tenant's
    /// guardian age). Absent in consents recorded before it.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_code")]
    pub relation: Option<crate::consent::Relation>,
    /// The partners details may be shared with (empty: any partner the referral names).
    /// Absent in consents recorded before it.
    #[autosurgeon(missing = "crate::model::Set::new")]
    pub partners: Set<OrgId>,
}

/// A referral (brobygning): the worker connects a resident to an actor or offer.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Referral {
    /// Created at.
    pub at: Timestamp,
    /// The contact it came from.
    pub from_contact: Option<ContactId>,
    /// The activity it came from.
    pub from_activity: Option<ActivityId>,
    /// The (pseudonymous) participant, if known.
    pub participant: Option<ParticipantId>,
    /// Target kind (vocabulary `referral_targets`: jobcenter, uu-vejleder, forening, …).
    pub to: Code,
    /// Target organisation, if in the tenant's list.
    pub to_org: Option<OrgId>,
    /// Target activity, for recruitment into another activity.
    pub to_activity: Option<ActivityId>,
    /// Kind.
    pub kind: ReferralKind,
    /// Current status.
    pub status: ReferralStatus,
    /// Status changes, keyed by a unique id so concurrent updates are all kept.
    pub history: IdMap<String, StatusChange>,
    /// The person consented to sharing personal details with the partner (§4.9).
    pub consent_to_share: bool,
    /// Who made it.
    pub by: By,
}

/// One status change of a referral.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StatusChange {
    /// When.
    pub at: Timestamp,
    /// New status.
    pub status: ReferralStatus,
    /// Who.
    pub by: By,
}

/// An observation about the physical environment (broken lighting, vandalism): not personal
/// data, routed to the estate office (user story 8).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Observation {
    /// When.
    pub at: Timestamp,
    /// Kind (vocabulary `observation_kinds`).
    pub kind: Code,
    /// Coarse location.
    pub location: Code,
    /// Stairwell / block.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_string")]
    pub block: Option<String>,
    /// Routed to (estate office).
    pub routed_to: Option<OrgId>,
    /// Resolved (kept in step with the handling, for readers that know only this).
    pub resolved: bool,
    /// The estate office's handling: status changes, keyed by a unique id so concurrent
    /// updates are all kept. Absent in observations stored before it (issue 10).
    #[autosurgeon(missing = "crate::model::IdMap::new")]
    pub handling: IdMap<String, ObservationUpdate>,
}

/// One status change of an observation on the estate office's list.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ObservationUpdate {
    /// When.
    pub at: Timestamp,
    /// New status.
    pub status: ObservationStatus,
    /// Who.
    pub by: By,
}

crate::codes::code_enum! {
    /// Where an observation stands on the estate office's list.
    pub enum ObservationStatus {
        /// Ny: not yet looked at.
        New = "ny",
        /// I gang: the estate office works on it.
        InProgress = "i-gang",
        /// Løst.
        Resolved = "loest",
        /// Afvist: not the estate office's, or not a fault.
        Rejected = "afvist",
    }
}

impl Observation {
    /// The latest status change, if any (the latest time; the greatest key among equals, so
    /// every replica shows the same).
    pub fn last_update(&self) -> Option<(&String, &ObservationUpdate)> {
        self.handling
            .iter()
            .max_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)))
    }

    /// The current status: the latest change, or from `resolved` for an observation never
    /// handled on the list.
    pub fn status(&self) -> ObservationStatus {
        match self.last_update() {
            Some((_, u)) => u.status,
            None if self.resolved => ObservationStatus::Resolved,
            None => ObservationStatus::New,
        }
    }
}
