//! Who may sync the documents resident volunteers and outreach staff keep (ADR 0030): pure
//! decisions the relay's access table (`server/src/acl.rs`) takes for these two kinds.
//!
//! | role | resident log (activity × term) | outreach log (worker × area × quarter) |
//! |---|---|---|
//! | central | write | write |
//! | outreach | write if the activity is theirs, read if in their area or programme | write if they are its author |
//! | volunteer | write if the activity is theirs | – |
//! | board | – | – |
//!
//! A resident volunteer (an ambassador, a food club's cook) writes the resident log of the
//! activity they are rostered on and nothing of staff's: the outreach log stays its author's
//! and central staff's whatever a volunteer's scope says.

use crate::model::AppRole;

/// Access to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DocAccess {
    /// Invisible (answered like a document that does not exist).
    None,
    /// May sync; changes are refused.
    Read,
    /// May sync and write.
    Write,
}

/// How the caller stands to a resident log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResidentLogFacts {
    /// The log's activity is in the caller's scope (their own activity).
    pub activity_theirs: bool,
    /// The activity's area or programme is in the caller's scope.
    pub area_theirs: bool,
}

/// Access to the resident log of an activity.
pub fn resident_log(role: AppRole, f: ResidentLogFacts) -> DocAccess {
    match role {
        AppRole::Central => DocAccess::Write,
        AppRole::Outreach if f.activity_theirs => DocAccess::Write,
        AppRole::Outreach if f.area_theirs => DocAccess::Read,
        AppRole::Volunteer if f.activity_theirs => DocAccess::Write,
        AppRole::Outreach | AppRole::Volunteer | AppRole::Board => DocAccess::None,
    }
}

/// Access to a staff member's outreach log: `author` is whether the caller is the staff
/// member whose log it is. A volunteer has none, whatever else holds.
pub fn outreach_log(role: AppRole, author: bool) -> DocAccess {
    match role {
        AppRole::Central => DocAccess::Write,
        AppRole::Outreach if author => DocAccess::Write,
        AppRole::Outreach | AppRole::Volunteer | AppRole::Board => DocAccess::None,
    }
}
