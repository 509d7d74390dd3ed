//! Which record types live where, and the records of a stored document that do not read as
//! them (older data, or anything that slipped through): the views skip those, the review
//! pages flag them.

use std::collections::BTreeSet;
use std::str::FromStr;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, Value};
use autosurgeon::Hydrate;

use crate::document::{Containers, DocKind, NaboDoc, read_one};
use crate::ids::{
    AreaId, AssignmentId, ChallengeId, Code, ContactId, EngagementId, EveningId, GoalId,
    IndicatorId, MeasurementId, MeetingId, ObservationId, OrgId, ParticipantId, ProgrammeId,
    ReferralId, ReportId, RoundId, SeriesId, SessionId, StaffId, VolunteerId,
};
use crate::model::register::HeadcountBucket;

/// A stored record that does not read as the core's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `container/key`, or a single record's root key (`activity`).
    pub record: String,
    /// Why, in English, without the value.
    pub reason: &'static str,
}

fn key<K: FromStr>(k: &str) -> Result<(), &'static str> {
    k.parse::<K>().map(|_| ()).map_err(|_| "malformed key")
}

fn pair<A: FromStr, B: FromStr>(k: &str) -> Result<(), &'static str> {
    let (a, b) = k.split_once('/').ok_or("malformed key")?;
    key::<A>(a)?;
    key::<B>(b)
}

fn value<T: Hydrate>(
    am: &Automerge,
    c: &str,
    k: &str,
    what: &'static str,
) -> Result<(), &'static str> {
    match read_one::<_, T>(am, c, k) {
        Ok(_) => Ok(()),
        Err(_) => Err(what),
    }
}

/// Whether the record at `k` of container `c` reads as its type, key and every concurrent
/// value; the error says what it should have been.
pub(crate) fn parses(am: &Automerge, kind: DocKind, c: &str, k: &str) -> Result<(), &'static str> {
    use crate::docs::tenant as t;
    use crate::model::{AttendanceStatus, staff, volunteer};
    use crate::model::{activity as a, network as n, org, outreach as o, programme, register as r};
    match (kind, c) {
        (DocKind::Register, "sessions") => {
            key::<SessionId>(k)?;
            value::<r::Session>(am, c, k, "not a session")
        }
        (DocKind::Register, "participants") => {
            key::<ParticipantId>(k)?;
            value::<r::Participant>(am, c, k, "not a participant")
        }
        (DocKind::Register, "attendance") => {
            pair::<SessionId, ParticipantId>(k)?;
            value::<AttendanceStatus>(am, c, k, "not a roll-call mark")
        }
        (DocKind::Register, "headcounts") => {
            pair::<SessionId, HeadcountBucket>(k)?;
            value::<u64>(am, c, k, "not a count")
        }
        (DocKind::Register, "shifts") => {
            pair::<SessionId, VolunteerId>(k)?;
            value::<r::Shift>(am, c, k, "not a shift")
        }
        (DocKind::Register, "staff_presence") => {
            pair::<SessionId, StaffId>(k)?;
            value::<u64>(am, c, k, "not minutes")
        }
        (DocKind::Outreach, "contacts") => {
            key::<ContactId>(k)?;
            value::<o::OutreachContact>(am, c, k, "not a contact")
        }
        (DocKind::Outreach, "people") => {
            key::<ParticipantId>(k)?;
            value::<o::KnownPerson>(am, c, k, "not a known person")
        }
        (DocKind::Outreach, "referrals") => {
            key::<ReferralId>(k)?;
            value::<o::Referral>(am, c, k, "not a referral")
        }
        (DocKind::Outreach, "observations") => {
            key::<ObservationId>(k)?;
            value::<o::Observation>(am, c, k, "not an observation")
        }
        (DocKind::Activity, "series") => {
            key::<SeriesId>(k)?;
            value::<a::SessionSeries>(am, c, k, "not a series")
        }
        (DocKind::Activity, "roster") => {
            key::<VolunteerId>(k)?;
            value::<a::RosterVolunteer>(am, c, k, "not a roster entry")
        }
        (DocKind::Activity, "challenges") => {
            key::<ChallengeId>(k)?;
            value::<a::Challenge>(am, c, k, "not a challenge")
        }
        (DocKind::Activity, "goals") => {
            key::<GoalId>(k)?;
            value::<a::Goal>(am, c, k, "not a goal")
        }
        (DocKind::Activity, "indicators") => {
            key::<IndicatorId>(k)?;
            value::<a::IndicatorDef>(am, c, k, "not an indicator")
        }
        (DocKind::Activity, "measurements") => {
            key::<MeasurementId>(k)?;
            value::<a::Measurement>(am, c, k, "not a measurement")
        }
        (DocKind::Activity, "reports") => {
            key::<ReportId>(k)?;
            value::<a::GoalReport>(am, c, k, "not a goal report")
        }
        (DocKind::ResidentLog, "rounds") => {
            key::<RoundId>(k)?;
            value::<crate::model::resident::AmbassadorRound>(am, c, k, "not an ambassador round")
        }
        (DocKind::ResidentLog, "evenings") => {
            key::<EveningId>(k)?;
            value::<crate::model::resident::FoodClubEvening>(am, c, k, "not a food-club evening")
        }
        (DocKind::Network, "meetings") => {
            key::<MeetingId>(k)?;
            value::<n::NetworkMeeting>(am, c, k, "not a network meeting")
        }
        (DocKind::Tenant, "organisations") => {
            key::<OrgId>(k)?;
            value::<org::Organisation>(am, c, k, "not an organisation")
        }
        (DocKind::Tenant, "areas") => {
            key::<AreaId>(k)?;
            value::<org::HousingArea>(am, c, k, "not a housing area")
        }
        (DocKind::Tenant, "programmes") => {
            key::<ProgrammeId>(k)?;
            value::<programme::Programme>(am, c, k, "not a programme")
        }
        (DocKind::Tenant, "local_activity_types") => {
            key::<Code>(k)?;
            value::<t::LocalActivityType>(am, c, k, "not an activity type")
        }
        (DocKind::Tenant, "local_target_groups") => {
            key::<Code>(k)?;
            value::<t::LocalTargetGroup>(am, c, k, "not a target group")
        }
        (DocKind::Tenant, "local_indicators") => {
            key::<Code>(k)?;
            value::<t::LocalIndicator>(am, c, k, "not an indicator")
        }
        (DocKind::Staff, "staff") => {
            key::<StaffId>(k)?;
            value::<staff::StaffMember>(am, c, k, "not a staff member")
        }
        (DocKind::Staff, "assignments") => {
            key::<AssignmentId>(k)?;
            value::<staff::RoleAssignment>(am, c, k, "not a role assignment")
        }
        (DocKind::Volunteers, "volunteers") => {
            key::<VolunteerId>(k)?;
            value::<volunteer::Volunteer>(am, c, k, "not a volunteer")
        }
        (DocKind::Volunteers, "engagements") => {
            key::<EngagementId>(k)?;
            value::<volunteer::Engagement>(am, c, k, "not an engagement")
        }
        _ => Err("not a container of this document"),
    }
}

/// Whether every version of a single record at the root (`activity`, `network`, the
/// tenant's settings in `info`) reads as its type.
pub(crate) fn root_parses(am: &Automerge, kind: DocKind, k: &str) -> Result<(), &'static str> {
    fn all<T: Hydrate>(am: &Automerge, k: &str, what: &'static str) -> Result<(), &'static str> {
        let vals = am.get_all(ROOT, k).map_err(|_| what)?;
        for (v, id) in vals {
            match v {
                Value::Object(ObjType::Map) => {
                    T::hydrate_map(am, &id).map_err(|_| what)?;
                }
                _ => return Err(what),
            }
        }
        Ok(())
    }
    match (kind, k) {
        (DocKind::Activity, "activity") => {
            all::<crate::model::activity::Activity>(am, k, "not an activity")
        }
        (DocKind::Network, "network") => {
            all::<crate::model::network::Network>(am, k, "not a network")
        }
        (DocKind::Tenant, "info") => {
            all::<crate::docs::tenant::Settings>(am, k, "not the tenant's settings")
        }
        _ => Ok(()),
    }
}

/// The records of `doc` that do not read as the core's types (the views skip them), at most
/// `limit`.
pub fn unreadable(doc: &NaboDoc, limit: usize) -> Vec<Unreadable> {
    let am = doc.automerge();
    let kind = doc.kind();
    let mut out = Vec::new();
    for root in ["activity", "network", "info"] {
        if let Err(reason) = root_parses(am, kind, root) {
            out.push(Unreadable {
                record: root.to_owned(),
                reason,
            });
        }
    }
    for c in kind.containers(doc.schema().min(kind.current_schema())) {
        let Ok(cs) = Containers::of(am, c) else {
            out.push(Unreadable {
                record: (*c).to_owned(),
                reason: "the container is missing",
            });
            continue;
        };
        let keys: BTreeSet<String> = cs.iter().flat_map(|o| am.keys(o)).collect();
        for k in keys {
            if out.len() >= limit {
                return out;
            }
            if let Err(reason) = parses(am, kind, c, &k) {
                out.push(Unreadable {
                    record: format!("{c}/{k}"),
                    reason,
                });
            }
        }
    }
    out
}
