//! Identifiers. One newtype per kind of record, so an `ActivityId` can never be passed where a
//! `ParticipantId` is expected.
//!
//! Identifiers are opaque strings of 1–64 characters from `[A-Za-z0-9_.:+-]`. New ones are
//! random (UUID v4, 122 random bits, written as 32 hex digits): in particular a
//! [`ParticipantId`] says nothing about the person, the device or the time it was made
//! (DOMAIN.md §4.3: "participant IDs are random"). Some records have derived identifiers
//! (a session generated from a weekly series is `<series>.<yyyymmdd>`), so that two phones that
//! generate the same occurrence offline write the same record.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The empty string.
    #[error("an identifier cannot be empty")]
    Empty,
    /// Longer than [`MAX_ID_LEN`].
    #[error("an identifier is at most {MAX_ID_LEN} characters")]
    TooLong,
    /// A character outside `[A-Za-z0-9_.:+-]`.
    #[error("an identifier may only contain A-Z, a-z, 0-9, '_', '.', ':', '+' and '-'")]
    BadCharacter,
}

/// The longest identifier accepted.
pub const MAX_ID_LEN: usize = 64;

/// Checks the identifier syntax shared by every id type.
pub fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-' | b'+'))
    {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

/// A fresh random identifier: 32 lower-case hex digits of a UUID v4.
pub fn random_id() -> String {
    crate::entropy::uuid().simple().to_string()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new random identifier.
            pub fn random() -> Self {
                Self(random_id())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                check_id(s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check_id(&s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Reconcile for $name {
            type Key<'a> = NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(&self.0)
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
                s.parse()
                    .map_err(|e: IdError| HydrateError::unexpected(stringify!($name), e.to_string()))
            }
            fn hydrate_text<D: autosurgeon::ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, HydrateError> {
                Self::hydrate_string(&doc.text(obj)?)
            }
        }
    };
}

id_type!(
    /// A tenant: one customer of Nabo (a housing organisation, a municipality, a secretariat).
    TenantId
);
id_type!(
    /// An organisation (kommune, boligorganisation, afdeling, NGO, police, …).
    OrgId
);
id_type!(
    /// A housing area (boligområde).
    AreaId
);
id_type!(
    /// A housing department (afdeling) inside an area.
    DepartmentId
);
id_type!(
    /// A venue (lokalitet) where sessions take place.
    VenueId
);
id_type!(
    /// An institution site (a school, a day care) that may lie outside the areas.
    SiteId
);
id_type!(
    /// A programme (helhedsplan / boligsocial indsats).
    ProgrammeId
);
id_type!(
    /// A funding share of a programme.
    FundingId
);
id_type!(
    /// A staff member (medarbejder).
    StaffId
);
id_type!(
    /// A period of a staff member's placement.
    PlacementId
);
id_type!(
    /// A role assignment of a staff member.
    AssignmentId
);
id_type!(
    /// A volunteer (frivillig).
    VolunteerId
);
id_type!(
    /// A volunteer's engagement in an activity.
    EngagementId
);
id_type!(
    /// A course or training a volunteer received.
    TrainingId
);
id_type!(
    /// An activity (aktivitet).
    ActivityId
);
id_type!(
    /// A recurring weekly session series of an activity.
    SeriesId
);
id_type!(
    /// A session (mødegang): one occurrence of an activity.
    SessionId
);
id_type!(
    /// A participant (deltager): a random, pseudonymous person id.
    ParticipantId
);
id_type!(
    /// An outreach contact (opsøgende kontakt).
    ContactId
);
id_type!(
    /// A referral (brobygning).
    ReferralId
);
id_type!(
    /// An observation about the physical environment (not personal data).
    ObservationId
);
id_type!(
    /// A network (netværk).
    NetworkId
);
id_type!(
    /// An ambassador round in a resident log (ambassadørrunde).
    RoundId
);
id_type!(
    /// A food-club evening in a resident log (madklubaften).
    EveningId
);
id_type!(
    /// A network meeting.
    MeetingId
);
id_type!(
    /// An agreed action of a network meeting.
    ActionId
);
id_type!(
    /// A goal in a change theory.
    GoalId
);
id_type!(
    /// An indicator attached to an activity's change theory.
    IndicatorId
);
id_type!(
    /// A measurement of an indicator.
    MeasurementId
);
id_type!(
    /// A goal-fulfilment report (målopfyldelse / selvevaluering).
    ReportId
);
id_type!(
    /// A challenge (udfordring) in a change theory.
    ChallengeId
);
id_type!(
    /// A board member entry.
    BoardMemberId
);
id_type!(
    /// A code from the catalogue or a tenant's local extension: an activity type
    /// (`BE.lektiecafe`), a target group (`boern-7-17`), a topic, an indicator, …
    Code
);

impl SessionId {
    /// The identifier of the occurrence of `series` on `date`. Derived, so every phone that
    /// generates this occurrence offline writes the same record.
    pub fn for_occurrence(series: &SeriesId, date: crate::time::Date) -> Self {
        Self(format!("{}.{}", series.as_str(), date.0.format("%Y%m%d")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let a = ParticipantId::random();
        let b = ParticipantId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().parse::<ParticipantId>().is_ok());
    }

    #[test]
    fn bad_ids_are_rejected_with_the_reason() {
        assert_eq!("".parse::<ActivityId>(), Err(IdError::Empty));
        assert_eq!("a/b".parse::<ActivityId>(), Err(IdError::BadCharacter));
        assert_eq!("æ".parse::<ActivityId>(), Err(IdError::BadCharacter));
        assert_eq!("x".repeat(65).parse::<ActivityId>(), Err(IdError::TooLong));
        assert!("x".repeat(64).parse::<ActivityId>().is_ok());
    }

    #[test]
    fn occurrence_ids_are_deterministic() {
        let s: SeriesId = "s1".parse().unwrap();
        let d = crate::time::Date::parse("2026-11-22").unwrap();
        assert_eq!(SessionId::for_occurrence(&s, d).as_str(), "s1.20261122");
    }
}
