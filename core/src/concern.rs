//! The concern flag (underretning, issue 11 item 7, ADR 0027, DOMAIN.md §4.9): a worker
//! records on an outreach contact *that* a concern about a child was reported — the date and
//! to which authority, as codes — and nothing more: Nabo is not the municipal case file, so
//! there is no free text, no description of the concern and no name beyond the contact's
//! pseudonymous person.
//!
//! Who sees a concern ([`may_see`]): the worker who reported it (its outreach log is theirs)
//! and central staff; never volunteers, the board, or other outreach workers. The relay's
//! access table already keeps an outreach log to its worker and central staff (`acl.rs`);
//! the review pages list concerns to central staff only, and log every view.

use crate::error::{Reason, Result, invalid};
use crate::model::AppRole;
use crate::model::outreach::ConcernReport;
use crate::time::Date;

crate::codes::code_enum! {
    /// The authority a concern was reported to.
    pub enum Authority {
        /// The municipality's children and families services (underretning, Barnets lov).
        Municipality = "kommune-boernefamilie",
        /// The police (acute danger).
        Police = "politi",
        /// Another unit of the municipality (e.g. the school's PPR).
        OtherMunicipal = "kommune-anden",
    }
}

impl Authority {
    /// The Danish name (pages and phones).
    pub fn da(self) -> &'static str {
        match self {
            Authority::Municipality => "Kommunens børne- og familieafdeling",
            Authority::Police => "Politiet",
            Authority::OtherMunicipal => "Anden kommunal enhed",
        }
    }
}

/// What a concern record must satisfy: a known authority, reported on the day of the contact
/// or later, never in the future (`today`: the writer's day).
pub fn check(c: &ConcernReport, contact_day: Date, today: Option<Date>) -> Result<()> {
    if c.to.as_str().parse::<Authority>().is_err() {
        return invalid(
            "concern.to",
            Reason::UnknownCode,
            "kommune-boernefamilie, politi or kommune-anden",
        );
    }
    if c.reported_on < contact_day {
        return invalid(
            "concern.reported_on",
            Reason::EndBeforeStart,
            "reported before the contact",
        );
    }
    if today.is_some_and(|t| c.reported_on > t) {
        return invalid(
            "concern.reported_on",
            Reason::OutOfRange,
            "a report is recorded once it was made",
        );
    }
    Ok(())
}

/// Whether a login of `role` may see a concern; `reporter` says the login is the worker whose
/// log holds it. Only the reporter and central staff do.
pub fn may_see(role: AppRole, reporter: bool) -> bool {
    match role {
        AppRole::Central => true,
        AppRole::Outreach => reporter,
        AppRole::Volunteer | AppRole::Board => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn a_concern_names_a_known_authority_and_a_date_after_the_contact() {
        let mut c = ConcernReport {
            reported_on: day("2026-11-10"),
            to: "kommune-boernefamilie".parse().unwrap(),
        };
        assert!(check(&c, day("2026-11-10"), Some(day("2026-11-10"))).is_ok());
        let field = |r: Result<()>| match r {
            Err(Error::Invalid(i)) => (i.field, i.reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check(&c, day("2026-11-11"), None)),
            ("concern.reported_on", Reason::EndBeforeStart)
        );
        assert_eq!(
            field(check(&c, day("2026-11-01"), Some(day("2026-11-09")))),
            ("concern.reported_on", Reason::OutOfRange)
        );
        c.to = "naboen".parse().unwrap();
        assert_eq!(
            field(check(&c, day("2026-11-10"), None)),
            ("concern.to", Reason::UnknownCode)
        );
    }

    #[test]
    fn only_the_reporter_and_central_staff_see_a_concern() {
        assert!(may_see(AppRole::Central, false));
        assert!(may_see(AppRole::Outreach, true));
        assert!(!may_see(AppRole::Outreach, false));
        assert!(!may_see(AppRole::Volunteer, true));
        assert!(!may_see(AppRole::Board, false));
    }
}
