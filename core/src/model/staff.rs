//! Staff, their placement over time and their roles (DOMAIN.md §1.4, §1.10). Held in the
//! staff directory document (central staff only).

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};

use super::{AppRole, IdMap, PlacementKind, PracticeRole, Role};
use crate::ids::{ActivityId, AreaId, NetworkId, OrgId, ProgrammeId, StaffId};
use crate::time::{Date, Weekday};

/// A staff member (medarbejder).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StaffMember {
    /// Name as shown to colleagues. Staff are employees acting in their job; see ADR 0004.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Job title as free text (gadeplansmedarbejder, social vicevært, …), not a role.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub title: String,
    /// Employer.
    pub employer: Option<OrgId>,
    /// Application role.
    pub app_role: AppRole,
    /// Placement periods, so records keep the area they were captured in after a move.
    pub placements: IdMap<crate::ids::PlacementId, Placement>,
    /// Still employed.
    pub active: bool,
    /// The day the staff member left: set when central staff close their login, cleared
    /// when they open it again. The staff retention class counts from it
    /// ([`crate::retention::staff_ended`]).
    #[autosurgeon(hydrate = "crate::model::lenient::missing_none")]
    pub left: Option<Date>,
    /// Set when the staff member was erased (ADR 0019, issue 11 item 4): name and title are
    /// gone; the record stays (placements, roles) so what they recorded keeps its area and
    /// the counts add up.
    #[autosurgeon(
        reconcile = "crate::erasure::reconcile_mark",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub erased: Option<Date>,
}

/// One period of a staff member's placement, as a weekly pattern.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Placement {
    /// First day.
    pub from: Date,
    /// Last day, if ended.
    pub to: Option<Date>,
    /// Weekday → where (days without an entry: not working).
    pub days: IdMap<Weekday, PlacementDay>,
}

/// Where a staff member works on one weekday.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct PlacementDay {
    /// Local or central.
    pub kind: PlacementKind,
    /// The home area on local days.
    pub area: Option<AreaId>,
}

impl Placement {
    /// Whether the placement covers `date`.
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }

    /// Local, central or mix, summarising the weekly pattern.
    pub fn summary(&self) -> Option<PlacementKind> {
        let local = self.days.values().any(|d| d.kind == PlacementKind::Local);
        let central = self.days.values().any(|d| d.kind == PlacementKind::Central);
        let mix = self.days.values().any(|d| d.kind == PlacementKind::Mix);
        match (local, central, mix) {
            (false, false, false) => None,
            (true, false, false) => Some(PlacementKind::Local),
            (false, true, false) => Some(PlacementKind::Central),
            _ => Some(PlacementKind::Mix),
        }
    }
}

/// What a role assignment is about.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleScope {
    /// A programme.
    Programme(ProgrammeId),
    /// An activity.
    Activity(ActivityId),
    /// A network.
    Network(NetworkId),
}

impl fmt::Display for RoleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleScope::Programme(id) => write!(f, "programme:{id}"),
            RoleScope::Activity(id) => write!(f, "activity:{id}"),
            RoleScope::Network(id) => write!(f, "network:{id}"),
        }
    }
}

impl fmt::Debug for RoleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for RoleScope {
    type Err = crate::codes::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = crate::codes::UnknownCode { kind: "RoleScope" };
        let (kind, id) = s.split_once(':').ok_or(bad.clone())?;
        match kind {
            "programme" => id.parse().map(RoleScope::Programme).map_err(|_| bad),
            "activity" => id.parse().map(RoleScope::Activity).map_err(|_| bad),
            "network" => id.parse().map(RoleScope::Network).map_err(|_| bad),
            _ => Err(bad),
        }
    }
}

crate::time::stored_as_string!(RoleScope);

/// A staff member holding one of the eight roles (S000) and/or one of the four practice roles
/// (S004) in a programme, an activity or a network, for a period.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RoleAssignment {
    /// Who.
    pub staff: StaffId,
    /// Where.
    pub scope: RoleScope,
    /// One of the eight roles of S000.
    pub role: Option<Role>,
    /// One of the four practice roles of S004.
    pub practice_role: Option<PracticeRole>,
    /// First day.
    pub from: Date,
    /// Last day, if ended.
    pub to: Option<Date>,
}
