//! Networks and their meetings (DOMAIN.md §1.14). One network document per network.

use autosurgeon::{Hydrate, Reconcile};

use super::{By, IdMap, NetworkFocus, Set};
use crate::ids::{ActionId, AreaId, OrgId, StaffId};
use crate::time::Date;

/// A network (netværk) of organisations.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Network {
    /// Name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Network leader (netværksleder).
    pub leader: Option<StaffId>,
    /// Focus; individual-case networks touch personal data and are handled more strictly.
    pub focus: NetworkFocus,
    /// How often it meets, e.g. "hver 6. uge".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub cadence: String,
    /// Funded by LBF (networks also exist without a plan).
    pub funded_by_lbf: bool,
    /// Areas it covers.
    pub areas: Set<AreaId>,
    /// Member organisations.
    pub members: Set<OrgId>,
    /// Each member organisation's role in the network and the function of the person it
    /// sends (a function, never a name). Absent in networks stored before it (issue 10).
    #[autosurgeon(missing = "crate::model::IdMap::new")]
    pub roles: IdMap<OrgId, Membership>,
}

/// A member organisation's place in a network.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Membership {
    /// Its role in the network.
    pub role: NetworkRole,
    /// The function of the person it sends, e.g. "Socialrådgiver, Socialforvaltningen".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub function: String,
}

crate::codes::code_enum! {
    /// A member organisation's role in a network.
    pub enum NetworkRole {
        /// Convenes the meetings and keeps the actions (tovholder).
        Convener = "tovholder",
        /// A regular member (fast medlem).
        Member = "medlem",
        /// Joins when a case needs it (efter behov).
        AdHoc = "efter-behov",
    }
}

/// A network meeting, recorded at organisation level.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct NetworkMeeting {
    /// Date.
    pub date: Date,
    /// Organisations present.
    pub attendees: Set<OrgId>,
    /// Agenda (no personal data; case networks use case codes).
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub agenda: String,
    /// Agreed actions.
    pub actions: IdMap<ActionId, AgreedAction>,
    /// Cancelled.
    pub cancelled: bool,
}

/// An action agreed at a meeting.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AgreedAction {
    /// What.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub text: String,
    /// Which organisation owns it.
    pub owner: Option<OrgId>,
    /// Due.
    pub due: Option<Date>,
    /// Done.
    pub done: bool,
    /// When it was marked done (absent in actions stored before it).
    pub done_on: Option<Date>,
    /// Who marked it done or reopened it last (absent in actions stored before it).
    pub done_by: Option<By>,
}

/// Where an agreed action stands on a day (the follow-up status shown at the next meeting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FollowUp {
    /// Past its due date and not done.
    Overdue,
    /// Not done, not yet due (or no due date).
    Open,
    /// Done.
    Done,
}

impl AgreedAction {
    /// The follow-up status on `today`.
    pub fn follow_up(&self, today: Date) -> FollowUp {
        if self.done {
            FollowUp::Done
        } else if self.due.is_some_and(|d| d < today) {
            FollowUp::Overdue
        } else {
            FollowUp::Open
        }
    }
}
