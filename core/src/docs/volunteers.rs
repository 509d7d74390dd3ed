//! The volunteer directory: volunteers, their engagements, trainings and child certificate
//! status.

use std::collections::BTreeMap;

use automerge::ActorId;

use super::activity::typed_keys;
use super::{MAX_NAME, require_term, require_text};
use crate::catalogue::{Catalogue, Vocabulary};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{EngagementId, TenantId, TrainingId, VolunteerId};
use crate::model::VolunteerStatus;
use crate::model::volunteer::{ChildCertificate, Engagement, Training, Volunteer};
use crate::time::Date;

/// How long ahead a renewal warning is given (issue 10: 30 days).
pub const RENEWAL_WARNING_DAYS: i64 = 30;

/// The volunteer directory.
#[derive(Debug, Clone)]
pub struct VolunteersDoc {
    doc: NaboDoc,
}
typed_doc!(VolunteersDoc, crate::document::DocKind::Volunteers);

/// Child certificate state of a volunteer on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateState {
    /// No certificate recorded.
    Missing,
    /// Valid, renewal not yet near.
    Valid,
    /// Valid, renewal due within [`RENEWAL_WARNING_DAYS`].
    RenewalSoon,
    /// Expired.
    Expired,
}

impl VolunteersDoc {
    /// Creates the volunteer directory of a tenant.
    pub fn create(tenant: TenantId, actor: ActorId) -> Result<Self> {
        Ok(VolunteersDoc {
            doc: NaboDoc::create(Scope::Volunteers { tenant }, actor)?,
        })
    }

    /// Adds or updates a volunteer.
    pub fn put_volunteer(&mut self, author: &Author, id: &VolunteerId, v: Volunteer) -> Result<()> {
        if let Some(c) = &v.child_certificate {
            check_certificate(c, author.at.date_dk())?;
        }
        self.doc.write(author, "put-volunteer", |tx| {
            write_record(tx, "volunteers", id.as_str(), &v)
        })
    }

    /// Marks a volunteer erased (ADR 0019), in every concurrent version; `false` when the
    /// record was erased already.
    pub fn erase_volunteer(&mut self, author: &Author, id: &VolunteerId, on: Date) -> Result<bool> {
        let records = crate::erasure::erased_records(
            self.doc.automerge(),
            "volunteers",
            [id],
            ("volunteer", "no such volunteer"),
            |v: &Volunteer| crate::erasure::erased_volunteer(v, on),
        )?;
        Ok(self
            .doc
            .write_records(author, "erase-volunteer", "volunteers", &records)?
            > 0)
    }

    /// A volunteer.
    pub fn volunteer(&self, id: &VolunteerId) -> Result<Volunteer> {
        match read_one::<_, Volunteer>(self.doc.automerge(), "volunteers", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("volunteer", Reason::NotFound, "no such volunteer"),
        }
    }

    /// Volunteers.
    pub fn volunteers(&self) -> Result<BTreeMap<VolunteerId, Volunteer>> {
        typed_keys(read_all(self.doc.automerge(), "volunteers")?)
    }

    /// Records that a child certificate was obtained, and when it is due for renewal.
    pub fn set_child_certificate(
        &mut self,
        author: &Author,
        id: &VolunteerId,
        c: ChildCertificate,
    ) -> Result<()> {
        check_certificate(&c, author.at.date_dk())?;
        let mut v = self.volunteer(id)?;
        v.child_certificate = Some(c);
        self.doc.write(author, "set-child-certificate", |tx| {
            write_record(tx, "volunteers", id.as_str(), &v)
        })
    }

    /// Sets a volunteer's status.
    pub fn set_status(
        &mut self,
        author: &Author,
        id: &VolunteerId,
        status: VolunteerStatus,
    ) -> Result<()> {
        let mut v = self.volunteer(id)?;
        v.status = status;
        self.doc.write(author, "set-volunteer-status", |tx| {
            write_record(tx, "volunteers", id.as_str(), &v)
        })
    }

    /// Adds a training.
    pub fn add_training(
        &mut self,
        author: &Author,
        id: &VolunteerId,
        t: Training,
    ) -> Result<TrainingId> {
        require_text("name", &t.name, MAX_NAME)?;
        let mut v = self.volunteer(id)?;
        let tid = TrainingId::random();
        v.trainings.insert(tid.clone(), t);
        self.doc.write(author, "add-training", |tx| {
            write_record(tx, "volunteers", id.as_str(), &v)
        })?;
        Ok(tid)
    }

    /// Engages a volunteer in an activity.
    pub fn engage(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        e: Engagement,
    ) -> Result<EngagementId> {
        let v = self.volunteer(&e.volunteer)?;
        if matches!(v.status, VolunteerStatus::Archived) {
            return invalid("volunteer", Reason::NotActive, "the volunteer is archived");
        }
        require_term(cat, Vocabulary::VolunteerRoles, "role", &e.role)?;
        if e.end.is_some_and(|end| end < e.start) {
            return invalid("end", Reason::EndBeforeStart, "ends before it starts");
        }
        let id = EngagementId::random();
        self.doc.write(author, "engage", |tx| {
            write_record(tx, "engagements", id.as_str(), &e)
        })?;
        Ok(id)
    }

    /// Ends an engagement.
    pub fn end_engagement(&mut self, author: &Author, id: &EngagementId, end: Date) -> Result<()> {
        let Some(v) = read_one::<_, Engagement>(self.doc.automerge(), "engagements", id.as_str())?
        else {
            return invalid("engagement", Reason::NotFound, "no such engagement");
        };
        let mut e = v.current;
        if end < e.start {
            return invalid("end", Reason::EndBeforeStart, "ends before it starts");
        }
        e.end = Some(end);
        self.doc.write(author, "end-engagement", |tx| {
            write_record(tx, "engagements", id.as_str(), &e)
        })
    }

    /// Engagements.
    pub fn engagements(&self) -> Result<BTreeMap<EngagementId, Engagement>> {
        typed_keys(read_all(self.doc.automerge(), "engagements")?)
    }

    /// Child certificate state of every volunteer on `date` (renewal warnings).
    pub fn certificate_states(
        &self,
        date: Date,
    ) -> Result<BTreeMap<VolunteerId, CertificateState>> {
        Ok(self
            .volunteers()?
            .into_iter()
            .map(|(id, v)| (id, certificate_state(v.child_certificate.as_ref(), date)))
            .collect())
    }
}

/// The volunteers whose certificate needs action on `date`: expired, or due for renewal
/// within [`RENEWAL_WARNING_DAYS`]; soonest due first. (Missing certificates are not renewals.)
pub fn renewals_due(
    volunteers: &BTreeMap<VolunteerId, Volunteer>,
    date: Date,
) -> Vec<(&VolunteerId, CertificateState, ChildCertificate)> {
    let mut out: Vec<_> = volunteers
        .iter()
        .filter(|(_, v)| !matches!(v.status, VolunteerStatus::Archived))
        .filter_map(|(id, v)| {
            let c = v.child_certificate?;
            let state = certificate_state(Some(&c), date);
            matches!(
                state,
                CertificateState::RenewalSoon | CertificateState::Expired
            )
            .then_some((id, state, c))
        })
        .collect();
    out.sort_by_key(|(id, _, c)| (c.renewal_due, (*id).clone()));
    out
}

/// The volunteers' current child certificates, as the volunteer directory holds them (or the
/// part of it a reader may see: a volunteer's phone holds its own, ADR 0023). What blocks a
/// volunteer without a valid certificate from sessions with children under 15 reads this,
/// never a copy kept elsewhere (the roster's old `cleared_for_children_until` is not read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Certificates(BTreeMap<VolunteerId, ChildCertificate>);

/// No certificates known (for register edits that involve no volunteer).
pub static NO_CERTIFICATES: Certificates = Certificates(BTreeMap::new());

impl Certificates {
    /// The certificates of every volunteer in the directory.
    pub fn of(volunteers: &BTreeMap<VolunteerId, Volunteer>) -> Self {
        Certificates(
            volunteers
                .iter()
                .filter_map(|(id, v)| v.child_certificate.map(|c| (id.clone(), c)))
                .collect(),
        )
    }

    /// One volunteer's certificate (a volunteer's phone knows only its own), if any.
    pub fn one(volunteer: VolunteerId, c: Option<ChildCertificate>) -> Self {
        Certificates(c.map(|c| (volunteer, c)).into_iter().collect())
    }

    /// A volunteer's current certificate.
    pub fn get(&self, volunteer: &VolunteerId) -> Option<&ChildCertificate> {
        self.0.get(volunteer)
    }

    /// Whether the volunteer holds a certificate valid on `date`.
    pub fn valid_on(&self, volunteer: &VolunteerId, date: Date) -> bool {
        self.get(volunteer).is_some_and(|c| c.valid_on(date))
    }
}

impl VolunteersDoc {
    /// The current certificates of the directory's volunteers.
    pub fn certificates(&self) -> Result<Certificates> {
        Ok(Certificates::of(&self.volunteers()?))
    }
}

/// The state of a certificate on a date.
pub fn certificate_state(c: Option<&ChildCertificate>, date: Date) -> CertificateState {
    match c {
        None => CertificateState::Missing,
        Some(c) if !c.valid_on(date) => CertificateState::Expired,
        Some(c) if c.renewal_due <= date.add_days(RENEWAL_WARNING_DAYS) => {
            CertificateState::RenewalSoon
        }
        Some(_) => CertificateState::Valid,
    }
}

fn check_certificate(c: &ChildCertificate, today: Date) -> Result<()> {
    if c.renewal_due <= c.obtained {
        return invalid(
            "renewal_due",
            Reason::EndBeforeStart,
            "renewal must be due after the date obtained",
        );
    }
    if c.obtained > today.add_days(1) {
        return invalid(
            "obtained",
            Reason::OutOfRange,
            "cannot be obtained in the future",
        );
    }
    if c.renewal_due > c.obtained.add_days(5 * 366) {
        return invalid(
            "renewal_due",
            Reason::OutOfRange,
            "renewal is due within five years",
        );
    }
    Ok(())
}
