//! What resident volunteers log themselves (DOMAIN.md stories 16 and 17): ambassadors'
//! rounds of doorstep conversations counted by topic, and a resident-run food club's
//! evenings counted by how many came and how many came for the first time. Aggregates only:
//! no record here names or describes a person (ADR 0030).

use autosurgeon::{Hydrate, Reconcile};

use super::{By, IdMap};
use crate::ids::{AreaId, Code};
use crate::time::{Date, Timestamp};

/// An ambassador round (ambassadørrunde): one walk of the area's stairwells by health,
/// neighbour or environment ambassadors, with the number of doorstep conversations per topic.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AmbassadorRound {
    /// The day of the round.
    pub date: Date,
    /// The housing area walked.
    pub area: AreaId,
    /// Doorstep conversations per topic code (vocabulary `ambassador_topics`). A
    /// conversation that touched two topics counts under each.
    pub conversations: IdMap<Code, u32>,
    /// Withdrawn by its author or central staff (a round logged by mistake); not counted.
    pub withdrawn: bool,
    /// Who logged it.
    pub by: By,
    /// When it was logged (device clock).
    pub at: Timestamp,
}

impl AmbassadorRound {
    /// Doorstep conversations in the round, over every topic.
    pub fn total(&self) -> u64 {
        self.conversations.values().map(|n| u64::from(*n)).sum()
    }
}

/// A food-club evening (madklubaften) of a resident-run food club: how many came and how
/// many of them came for the first time.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FoodClubEvening {
    /// The day.
    pub date: Date,
    /// The housing area where the club met.
    pub area: AreaId,
    /// How many came (guests and cooks alike).
    pub came: u32,
    /// How many of them came for the first time (never more than `came`).
    pub first_timers: u32,
    /// Withdrawn by its author or central staff; not counted.
    pub withdrawn: bool,
    /// Who logged it.
    pub by: By,
    /// When it was logged (device clock).
    pub at: Timestamp,
}
