//! Networks and their meetings (DOMAIN.md §1.14). One network document per network.

use autosurgeon::{Hydrate, Reconcile};

use super::{IdMap, NetworkFocus, Set};
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
}
