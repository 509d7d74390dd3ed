//! Volunteers, their engagements and their child certificate status (DOMAIN.md §1.11, §4.5).
//! Held in the volunteer directory document.

use autosurgeon::{Hydrate, Reconcile};

use super::{IdMap, Sealed, VolunteerSource, VolunteerStatus};
use crate::ids::{ActivityId, Code, OrgId, TrainingId, VolunteerId};
use crate::time::Date;

/// A volunteer (frivillig).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Volunteer {
    /// Name, sealed with the volunteer's key (erasable).
    pub name: Option<Sealed>,
    /// Resident volunteer, from a national organisation, or other.
    pub source: VolunteerSource,
    /// The organisation they come through (Red Cross, Mellemfolkeligt Samvirke, …).
    pub source_org: Option<OrgId>,
    /// Status.
    pub status: VolunteerStatus,
    /// Joined on.
    pub joined: Date,
    /// Lives in one of the areas (the "double role" of S004).
    pub resident: bool,
    /// Child certificate (børneattest): *that* it was obtained, when, and when it is due.
    /// Never its contents.
    pub child_certificate: Option<ChildCertificate>,
    /// Courses and coaching received.
    pub trainings: IdMap<TrainingId, Training>,
    /// Set when central staff erased the volunteer (ADR 0019): name and certificate dates
    /// are gone, the key is destroyed, and the record stays only so their hours and
    /// trainings keep counting.
    #[autosurgeon(
        reconcile = "crate::erasure::reconcile_mark",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub erased: Option<Date>,
}

/// Child certificate status (børneattest). Required for regular contact with children under
/// 15; Nabo records only dates.
#[derive(Debug, Clone, Copy, PartialEq, Reconcile, Hydrate)]
pub struct ChildCertificate {
    /// Date the association received the certificate.
    pub obtained: Date,
    /// Date a renewal is due.
    pub renewal_due: Date,
}

impl ChildCertificate {
    /// Whether the certificate is valid on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.obtained <= date && date < self.renewal_due
    }
}

/// A course or coaching a volunteer received.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Training {
    /// Name of the course.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Date.
    pub date: Date,
}

/// A volunteer's engagement in an activity.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Engagement {
    /// Who.
    pub volunteer: VolunteerId,
    /// Where.
    pub activity: ActivityId,
    /// Role kind (vocabulary `volunteer_roles`: lektiehjaelper, tovholder, …).
    pub role: Code,
    /// First day.
    pub start: Date,
    /// Last day, if ended.
    pub end: Option<Date>,
}

impl Engagement {
    /// Whether the engagement is active on `date`.
    pub fn active_on(&self, date: Date) -> bool {
        self.start <= date && self.end.is_none_or(|e| date <= e)
    }
}
