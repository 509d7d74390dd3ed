//! Sessions, participants, attendance, headcounts and volunteer hours (DOMAIN.md §1.11).
//! Held in the attendance register (one per activity per term).

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, Reconcile};

use super::{AttendanceStatus, By, Gender, Sealed};
use crate::ids::{Code, ParticipantId, SeriesId, VenueId};
use crate::time::{Date, Time, Timestamp};

/// A session (mødegang): one occurrence of an activity.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Session {
    /// Date.
    pub date: Date,
    /// Starts at.
    pub start: Time,
    /// Ends at.
    pub end: Time,
    /// Venue.
    pub venue: Option<VenueId>,
    /// The series it is an occurrence of; `None` for a one-off session (a party, a trip).
    pub series: Option<SeriesId>,
    /// Title of a one-off session.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_string")]
    pub title: Option<String>,
    /// Cancelled (a session is never removed, so attendance recorded on another phone is
    /// never lost).
    pub cancelled: bool,
    /// Who created it.
    pub by: By,
}

/// A participant (deltager) in the register: a random pseudonymous id with minimal
/// attributes.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Participant {
    /// Age band (vocabulary `age_bands`).
    pub age_band: Code,
    /// Gender, only where the activity asks.
    pub gender: Option<Gender>,
    /// Lives in the area.
    pub resident: Option<bool>,
    /// The label volunteers see in the roll call: a first name (named mode) or a pseudonym
    /// (pseudonymous mode), sealed with the participant's key (erasable).
    pub label: Option<Sealed>,
    /// Date first added (a "new participant" in reports).
    pub added_on: Date,
    /// Who added them.
    pub added_by: By,
    /// Recruitment path (vocabulary `recruitment_paths`).
    pub recruitment: Option<Code>,
    /// Set when review merged this entry into another (the same child added twice).
    pub merged_into: Option<ParticipantId>,
    /// Set when central staff erased this person (ADR 0019): the label is gone, the key is
    /// destroyed, and the record stays only so attendance counts survive anonymously.
    #[autosurgeon(
        reconcile = "crate::erasure::reconcile_mark",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub erased: Option<Date>,
    /// The child's (or guardian's) consent, where one is recorded (ADR 0027): whether the
    /// child may be named in the roll call, photographed, or have details shared. The
    /// register's basis otherwise is the activity's. Written only when set.
    #[autosurgeon(
        reconcile = "crate::consent::reconcile_some",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub consent: Option<super::outreach::Consent>,
}

/// A roll-call mark as schema 1 stored it (a map inside the session). Schema 2 stores only
/// the status; who and when come from the change metadata.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AttendanceMark {
    /// Present, absent or excused.
    pub status: AttendanceStatus,
    /// Who marked it.
    pub by: By,
    /// When.
    pub at: Timestamp,
}

/// A volunteer's shift in a session: sign-up and check-in / check-out.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Shift {
    /// Signed up in advance.
    pub signed_up: bool,
    /// Cancelled the sign-up.
    pub cancelled: bool,
    /// Checked in at.
    pub check_in: Option<Timestamp>,
    /// Checked out at.
    pub check_out: Option<Timestamp>,
    /// Why the sign-up was cancelled (user story 14). Absent in shifts stored before it.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_code")]
    pub cancel_reason: Option<CancelReason>,
}

crate::codes::code_enum! {
    /// Why a volunteer cancelled a sign-up (user story 14): a code, never free text.
    pub enum CancelReason {
        /// Sygdom.
        Illness = "sygdom",
        /// Arbejde eller skole.
        WorkOrSchool = "arbejde-skole",
        /// Familie.
        Family = "familie",
        /// Transport.
        Transport = "transport",
        /// Andet.
        Other = "andet",
    }
}

impl CancelReason {
    /// The Danish label (phones and pages).
    pub fn name_da(self) -> &'static str {
        match self {
            CancelReason::Illness => "Sygdom",
            CancelReason::WorkOrSchool => "Arbejde eller skole",
            CancelReason::Family => "Familie",
            CancelReason::Transport => "Transport",
            CancelReason::Other => "Andet",
        }
    }
}

impl Shift {
    /// Minutes worked, when both check-in and check-out are known.
    pub fn minutes(&self) -> Option<u32> {
        match (self.check_in, self.check_out) {
            (Some(i), Some(o)) if o >= i => Some(i.minutes_until(o)),
            _ => None,
        }
    }
}

/// A headcount bucket: who was counted.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeadcountBucket {
    /// Age band code, or `all`.
    pub age_band: String,
    /// Gender, or all.
    pub gender: Option<Gender>,
    /// Residents (`Some(true)`), outsiders (`Some(false)`), or all.
    pub resident: Option<bool>,
    /// "Of which first-timers" (story 17): a count within the session's other buckets, never
    /// added to them. Written `….first`; a bucket without it reads as `false`.
    pub first_time: bool,
}

impl HeadcountBucket {
    /// The age group "children" (0–17 years), for headcounts at parties and excursions.
    pub const CHILDREN: &'static str = "children";
    /// The age group "adults" (18 years and over).
    pub const ADULTS: &'static str = "adults";

    /// Everybody.
    pub fn all() -> Self {
        HeadcountBucket {
            age_band: "all".into(),
            gender: None,
            resident: None,
            first_time: false,
        }
    }

    /// Children or adults, residents or outsiders.
    pub fn group(age_group: &str, resident: bool) -> Self {
        HeadcountBucket {
            age_band: age_group.into(),
            gender: None,
            resident: Some(resident),
            first_time: false,
        }
    }

    /// Of everybody counted, those who came for the first time.
    pub fn first_timers() -> Self {
        HeadcountBucket {
            first_time: true,
            ..Self::all()
        }
    }

    /// Whether the bucket's count adds to the session's attendance (first-timers are a part
    /// of the others, so they do not).
    pub fn counts_attendance(&self) -> bool {
        !self.first_time
    }
}

/// A session's headcount by group (story 12: children and adults, residents and outsiders)
/// and how many of them came for the first time (story 17).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadcountSplit {
    /// Children (0–17) living in the area.
    pub children_residents: u32,
    /// Children from outside the area.
    pub children_outsiders: u32,
    /// Adults living in the area.
    pub adults_residents: u32,
    /// Adults from outside the area.
    pub adults_outsiders: u32,
    /// Of all of them, those who came for the first time.
    pub first_timers: u32,
}

impl HeadcountSplit {
    /// The four groups with their buckets, in display order.
    pub fn groups(&self) -> [(HeadcountBucket, u32); 4] {
        [
            (
                HeadcountBucket::group(HeadcountBucket::CHILDREN, true),
                self.children_residents,
            ),
            (
                HeadcountBucket::group(HeadcountBucket::CHILDREN, false),
                self.children_outsiders,
            ),
            (
                HeadcountBucket::group(HeadcountBucket::ADULTS, true),
                self.adults_residents,
            ),
            (
                HeadcountBucket::group(HeadcountBucket::ADULTS, false),
                self.adults_outsiders,
            ),
        ]
    }

    /// Everybody counted (first-timers are among them).
    pub fn total(&self) -> u64 {
        self.groups().iter().map(|(_, n)| u64::from(*n)).sum()
    }
}

impl fmt::Display for HeadcountBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.gender.map_or("all", |g| g.code());
        let r = match self.resident {
            None => "all",
            Some(true) => "resident",
            Some(false) => "outsider",
        };
        write!(f, "{}.{}.{}", self.age_band, g, r)?;
        if self.first_time {
            f.write_str(".first")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HeadcountBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for HeadcountBucket {
    type Err = crate::codes::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = crate::codes::UnknownCode {
            kind: "HeadcountBucket",
        };
        let mut parts = s.split('.');
        let (Some(a), Some(g), Some(r)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad);
        };
        let first_time = match (parts.next(), parts.next()) {
            (None, _) => false,
            (Some("first"), None) => true,
            _ => return Err(bad),
        };
        let gender = match g {
            "all" => None,
            g => Some(g.parse().map_err(|_| bad.clone())?),
        };
        let resident = match r {
            "all" => None,
            "resident" => Some(true),
            "outsider" => Some(false),
            _ => return Err(bad),
        };
        if a.is_empty() || crate::ids::check_id(a).is_err() {
            return Err(bad);
        }
        Ok(HeadcountBucket {
            age_band: a.to_owned(),
            gender,
            resident,
            first_time,
        })
    }
}
