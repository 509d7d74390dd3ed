//! Who may read and write which document: decided by tenant, application role and scope.
//!
//! | role \ kind | tenant | staff | volunteers | activity | register | outreach | network | resident log |
//! |---|---|---|---|---|---|---|---|---|
//! | central | W | W | W | W | W | W | W | W |
//! | outreach | R | – | – | W if the activity is theirs, R if in their area or programme | W if the activity is theirs or in their area or programme | W if they are its author | W if they lead it | W if the activity is theirs, R if in their area or programme |
//! | volunteer | R | – | – | R if the activity is theirs | W if the activity is theirs | – | – | W if the activity is theirs |
//! | board | R | – | – | – | – | – | – | – |
//!
//! The outreach log and the resident log columns are the core's pure decisions
//! (`nabo_core::rules::access`, ADR 0030): a resident volunteer writes their activity's
//! resident log and never sees a staff outreach log.
//!
//! Another tenant's documents: none, for every role. "None" is answered exactly like a
//! document that does not exist. Creating a document needs write access to it.

use nabo_core::document::DocKind;
use nabo_core::ids::TenantId;
use nabo_core::model::AppRole;
use nabo_core::rules::access::{self as core_access, DocAccess, ResidentLogFacts};

use crate::storage::{DocMeta, Scopes};

/// Access to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Invisible (same answer as nonexistent).
    None,
    /// May sync, incoming changes are not applied.
    Read,
    /// May sync and write.
    Write,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: String,
    /// Tenant.
    pub tenant: TenantId,
    /// Role.
    pub role: AppRole,
    /// The staff member the user is.
    pub staff_id: Option<String>,
    /// The volunteer the user is.
    pub volunteer_id: Option<String>,
    /// The enrolled device, if the token is a device's.
    pub device_id: Option<String>,
    /// Areas and activities.
    pub scopes: Scopes,
}

impl Principal {
    /// Who the principal's document changes are signed by: their staff member, or Nabo
    /// itself (the retention job, a login that is no staff member).
    pub fn by(&self) -> nabo_core::model::By {
        self.staff_id
            .as_deref()
            .and_then(|s| s.parse().ok())
            .map_or(nabo_core::model::By::System, nabo_core::model::By::Staff)
    }

    fn has_activity(&self, a: &Option<String>) -> bool {
        a.as_ref()
            .is_some_and(|a| self.scopes.activities.contains(a))
    }
    /// The area is theirs, or the document's programme is (a programme scope reaches every
    /// area's activities of the programme the way an area scope reaches its area's).
    fn has_area(&self, meta: &DocMeta) -> bool {
        meta.area
            .as_ref()
            .is_some_and(|a| self.scopes.areas.contains(a))
            || meta
                .programme
                .as_ref()
                .is_some_and(|p| self.scopes.programmes.contains(p))
    }
}

impl From<DocAccess> for Access {
    fn from(a: DocAccess) -> Self {
        match a {
            DocAccess::None => Access::None,
            DocAccess::Read => Access::Read,
            DocAccess::Write => Access::Write,
        }
    }
}

/// The access `p` has to the document described by `meta`.
pub fn access(p: &Principal, meta: &DocMeta) -> Access {
    if meta.tenant != p.tenant {
        return Access::None;
    }
    use Access::*;
    match (p.role, meta.kind) {
        (AppRole::Central, _) => Write,
        (_, DocKind::Tenant) => Read,
        (role, DocKind::Outreach) => {
            core_access::outreach_log(role, meta.worker.is_some() && meta.worker == p.staff_id)
                .into()
        }
        (role, DocKind::ResidentLog) => core_access::resident_log(
            role,
            ResidentLogFacts {
                activity_theirs: p.has_activity(&meta.activity),
                area_theirs: p.has_area(meta),
            },
        )
        .into(),
        (AppRole::Board, _) => None,
        (AppRole::Outreach, DocKind::Activity) => {
            if p.has_activity(&meta.activity) {
                Write
            } else if p.has_area(meta) {
                Read
            } else {
                None
            }
        }
        (AppRole::Outreach, DocKind::Register) => {
            if p.has_activity(&meta.activity) || p.has_area(meta) {
                Write
            } else {
                None
            }
        }
        (AppRole::Outreach, DocKind::Network) => {
            if meta.worker.is_some() && meta.worker == p.staff_id {
                Write
            } else {
                None
            }
        }
        (AppRole::Volunteer, DocKind::Activity) => {
            if p.has_activity(&meta.activity) {
                Read
            } else {
                None
            }
        }
        (AppRole::Volunteer, DocKind::Register) => {
            if p.has_activity(&meta.activity) {
                Write
            } else {
                None
            }
        }
        (AppRole::Outreach | AppRole::Volunteer, DocKind::Staff | DocKind::Volunteers) => None,
        (AppRole::Volunteer, DocKind::Network) => None,
    }
}

/// Whether a connection with `access` to a document of `kind` may send ephemeral messages
/// (presence: "who has this open now") to the document's other connections.
///
/// | access \ kind | activity | any other kind |
/// |---|---|---|
/// | write | yes | yes |
/// | read | yes | no |
///
/// Writers work on the document together, so they may show presence everywhere. Readers may
/// only on an activity: the volunteers and outreach staff of one activity are one team, and
/// seeing who else has the activity open is what presence is for. A reader of the tenant
/// catalogue (every login of the tenant) would otherwise broadcast to the whole tenant.
pub fn may_send_ephemeral(access: Access, kind: DocKind) -> bool {
    match access {
        Access::Write => true,
        Access::Read => kind == DocKind::Activity,
        Access::None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_from_readers_only_on_activities() {
        for kind in [
            DocKind::Tenant,
            DocKind::Staff,
            DocKind::Volunteers,
            DocKind::Activity,
            DocKind::Register,
            DocKind::Outreach,
            DocKind::Network,
            DocKind::ResidentLog,
        ] {
            assert!(may_send_ephemeral(Access::Write, kind));
            assert_eq!(
                may_send_ephemeral(Access::Read, kind),
                kind == DocKind::Activity
            );
            assert!(!may_send_ephemeral(Access::None, kind));
        }
    }
}
