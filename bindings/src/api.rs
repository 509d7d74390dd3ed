//! Records and enums crossing the FFI boundary. Dates are ISO strings (`2026-11-24`), times
//! `HH:MM`, instants milliseconds since the Unix epoch.

/// The signed-in user of this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserInfo {
    /// User id.
    pub user_id: String,
    /// `central`, `outreach`, `volunteer` or `board`.
    pub role: String,
    /// Shown in the app's header.
    pub display_name: String,
    /// The staff member (outreach workers, central staff).
    pub staff_id: Option<String>,
    /// The volunteer (volunteers).
    pub volunteer_id: Option<String>,
    /// The enrolled device, for volunteers' phones.
    pub device_id: Option<String>,
    /// Housing areas in the user's scope.
    pub areas: Vec<String>,
}

/// An activity the user works in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivityInfo {
    /// Activity id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Housing area id.
    pub area_id: String,
    /// Primary activity type code, e.g. `BU.lektiehjaelp`.
    pub activity_type: String,
    /// How attendance is taken.
    pub attendance_mode: AttendanceMode,
}

/// How attendance is taken in an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AttendanceMode {
    /// Only a count per session.
    Headcount,
    /// Roll call of pseudonymous participants (a pseudonym or first name, sealed).
    Pseudonymous,
    /// Roll call by first name (sealed).
    Named,
}

/// A session (a homework evening, a trip).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    /// Reference used by roll-call calls (`<register document>/<session>`).
    pub id: String,
    /// Activity id.
    pub activity_id: String,
    /// Activity name.
    pub activity_name: String,
    /// Date.
    pub date: String,
    /// Start `HH:MM`.
    pub start: String,
    /// End `HH:MM`.
    pub end: String,
    /// Title of a one-off session.
    pub title: Option<String>,
    /// Cancelled.
    pub cancelled: bool,
}

/// A roll-call mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Mark {
    /// Came.
    Present,
    /// Did not come.
    Absent,
    /// Did not come, with notice.
    Excused,
}

/// One participant on a roll call.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RollCallEntry {
    /// Pseudonymous participant id.
    pub participant_id: String,
    /// The first name or pseudonym, when this device holds its key; otherwise `None` and the
    /// app shows the age band and a short form of the id.
    pub label: Option<String>,
    /// Age band code.
    pub age_band: String,
    /// The mark, if taken.
    pub mark: Option<Mark>,
    /// Two phones marked differently offline; the review decides, the mark shown is the
    /// deterministic winner.
    pub conflict: bool,
    /// The child may be named (ADR 0027): a named roll call whose basis, or the guardian's
    /// recorded consent, covers naming today. Otherwise the app shows the pseudonym or the
    /// age band only, and offers no name field.
    pub may_be_named: bool,
}

/// A session's roll call as merged on this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RollCall {
    /// The session.
    pub session: SessionInfo,
    /// How attendance is taken.
    pub mode: AttendanceMode,
    /// Participants, sorted by label then id (empty in headcount mode).
    pub entries: Vec<RollCallEntry>,
    /// The headcount (headcount mode): everybody counted.
    pub headcount: Option<u32>,
    /// The headcount by group, when it was taken by group.
    pub headcount_split: Option<HeadcountSplit>,
    /// Present participants, the marks of erased people included (they count without a
    /// name; the entries do not list them).
    pub present: u32,
    /// The signed-in volunteer's own shift (volunteers only): restores the check-in button
    /// when the screen is opened again.
    pub my_shift: Option<ShiftInfo>,
    /// The phone has been out of contact with the relay for longer than the tenant allows
    /// (ADR 0031): every label is hidden until it syncs again; the app says so.
    pub names_hidden: bool,
}

/// A headcount by group (stories 12 and 17): children and adults, residents of the area and
/// outsiders, and of all of them how many came for the first time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, uniffi::Record)]
pub struct HeadcountSplit {
    /// Children (0–17) living in the area.
    pub children_residents: u32,
    /// Children from outside the area.
    pub children_outsiders: u32,
    /// Adults living in the area.
    pub adults_residents: u32,
    /// Adults from outside the area.
    pub adults_outsiders: u32,
    /// Of all of them, how many came for the first time.
    pub first_timers: u32,
}

/// A code from one of the catalogue's vocabularies, with its Danish label.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeLabel {
    /// Stable code.
    pub code: String,
    /// Danish label.
    pub label: String,
}

/// An outreach contact to log. Anonymous by default: a count, an age band and codes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactInput {
    /// Housing area.
    pub area_id: String,
    /// Coarse location code (`location-hints`).
    pub location: String,
    /// Contact kind code (`contact-kinds`).
    pub kind: String,
    /// How many people.
    pub count: u32,
    /// Age band code.
    pub age_band: String,
    /// Topic codes (`outreach-topics`).
    pub topics: Vec<String>,
    /// Outcome codes (`outreach-outcomes`).
    pub outcomes: Vec<String>,
    /// Follow up on this date.
    pub followup: Option<String>,
    /// A known person (see `add_known_person`) met on their own (`count` 1), when the
    /// contact is not anonymous.
    #[uniffi(default)]
    pub participant_id: Option<String>,
    /// A concern about a child was reported (underretning) on this day (ISO date), with
    /// `concern_to`. Only the worker and central staff ever see it (ADR 0027).
    #[uniffi(default)]
    pub concern_reported_on: Option<String>,
    /// The authority it was reported to: `kommune-boernefamilie`, `politi` or
    /// `kommune-anden`.
    #[uniffi(default)]
    pub concern_to: Option<String>,
    /// A free-text note (at most 500 characters), only where the organisation has switched
    /// notes on (else refused naming `note`). Sealed on this phone with the known person's
    /// key, or with a key of the contact's own when it names nobody: erasing the person (or
    /// the key) makes the note unreadable everywhere. A blank note is none.
    #[uniffi(default)]
    pub note: Option<String>,
}

/// A logged contact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactInfo {
    /// Reference (`<log document>/<contact>`).
    pub id: String,
    /// Area.
    pub area_id: String,
    /// When (ms since epoch).
    pub at_ms: i64,
    /// Location code.
    pub location: String,
    /// Kind code.
    pub kind: String,
    /// Count.
    pub count: u32,
    /// Age band code.
    pub age_band: Option<String>,
    /// Topic codes.
    pub topics: Vec<String>,
    /// Outcome codes.
    pub outcomes: Vec<String>,
    /// The known person, if the contact was with one.
    pub participant_id: Option<String>,
    /// The free-text note, when the contact has one and this phone holds its key (none when
    /// the person was erased or the key has not reached this phone).
    pub note: Option<String>,
    /// The contact has a note (readable or not).
    pub has_note: bool,
}

/// Kind of referral (brobygning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReferralKind {
    /// Information about where to go.
    Information,
    /// The worker goes along.
    Accompanied,
    /// The worker sits in as bisidder.
    Bisidder,
    /// Help with a letter.
    LetterHelp,
    /// Recruitment into an activity.
    Recruitment,
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReferralStatus {
    /// Suggested.
    Suggested,
    /// The target was contacted.
    Contacted,
    /// A first meeting took place.
    FirstMeeting,
    /// Ongoing.
    Ongoing,
    /// Completed.
    Completed,
    /// Declined.
    Declined,
}

/// A referral to make.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReferralInput {
    /// Housing area (the outreach log it goes in).
    pub area_id: String,
    /// The contact it came from (a [`ContactInfo::id`]), if any.
    pub contact_id: Option<String>,
    /// Target code (`referral-targets`), e.g. `jobcenter`.
    pub to: String,
    /// Kind.
    pub kind: ReferralKind,
    /// The person consented to sharing details with the partner. Needs a known person
    /// (`participant_id`, or the contact's) whose consent is recorded and not withdrawn.
    pub consent_to_share: bool,
    /// The known person referred (a [`KnownPersonInfo::participant_id`] in the same log).
    /// When `None` and the contact was with a known person, that person.
    #[uniffi(default)]
    pub participant_id: Option<String>,
    /// The activity recruited into (required for [`ReferralKind::Recruitment`]): an
    /// [`ActivityInfo::id`] on this device.
    #[uniffi(default)]
    pub to_activity_id: Option<String>,
}

/// A referral and its status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReferralInfo {
    /// Reference (`<log document>/<referral>`).
    pub id: String,
    /// Area.
    pub area_id: String,
    /// When it was made (ms).
    pub at_ms: i64,
    /// Target code.
    pub to: String,
    /// Kind.
    pub kind: ReferralKind,
    /// Current status.
    pub status: ReferralStatus,
    /// Status changes so far (the first is the creation).
    pub changes: u32,
    /// The contact it came from (a [`ContactInfo::id`]).
    pub contact_id: Option<String>,
    /// The known person.
    pub participant_id: Option<String>,
    /// The known person's label, when this device holds its key.
    pub participant_label: Option<String>,
    /// The activity recruited into.
    pub to_activity_id: Option<String>,
    /// Details may be shared with the partner.
    pub consent_to_share: bool,
    /// The status changes in time order (the first is the creation).
    pub history: Vec<ReferralChange>,
}

/// One status change of a referral.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReferralChange {
    /// When (ms).
    pub at_ms: i64,
    /// The new status.
    pub status: ReferralStatus,
}

/// Consent recorded when a person agrees to be followed (DOMAIN.md §4.4).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsentInput {
    /// Given on (ISO date).
    pub given_on: String,
    /// Given by a parent or guardian rather than the person.
    pub by_guardian: bool,
    /// `oral`, `written` or `digital`.
    pub channel: String,
    /// The consent covers sharing details with partners (jobcenter, school, …).
    pub share_with_partners: bool,
    /// A guardian's relation to the person: `parent` or `guardian` (required when the person
    /// is under the tenant's guardian age, default 15).
    #[uniffi(default)]
    pub relation: Option<String>,
    /// The consent covers naming the child in a named roll call.
    #[uniffi(default)]
    pub named_roll_call: bool,
    /// The consent covers portrait photos at activities.
    #[uniffi(default)]
    pub photos: bool,
    /// The partners (organisation ids) details may be shared with; empty: any partner.
    #[uniffi(default)]
    pub partner_org_ids: Vec<String>,
}

/// A person an outreach worker follows (user story 2): a pseudonymous token in the worker's
/// log for the area and quarter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KnownPersonInput {
    /// Housing area (the outreach log it goes in).
    pub area_id: String,
    /// A first name or pseudonym the worker recognises, sealed with the person's own key
    /// kept on this device (erasable).
    pub label: Option<String>,
    /// Age band code.
    pub age_band: String,
    /// The person's (or guardian's) consent; without it the basis is the organisation's
    /// task (`public-task`) and nothing may be shared.
    pub consent: Option<ConsentInput>,
    /// The legal basis code (`consent`, `public-task`, `legal-obligation`, `other-statutory`,
    /// …). Left out: `consent` when a consent is given, otherwise `public-task`.
    #[uniffi(default)]
    pub basis: Option<String>,
    /// The statute the basis rests on (e.g. «Serviceloven § 11, stk. 3»), at most 200
    /// characters; required with `other-statutory`.
    #[uniffi(default)]
    pub basis_text: Option<String>,
}

/// A known person in the worker's log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KnownPersonInfo {
    /// Pseudonymous id.
    pub participant_id: String,
    /// Area.
    pub area_id: String,
    /// The label, when this device holds its key.
    pub label: Option<String>,
    /// Age band code.
    pub age_band: String,
    /// Consent is recorded and not withdrawn: details may be shared with a partner.
    pub consent: bool,
    /// The legal basis code the person is followed on.
    pub basis: String,
    /// The statute, for another statutory basis.
    pub basis_text: Option<String>,
}

/// Where the signed-in volunteer's own shift in a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ShiftState {
    /// Not checked in (maybe signed up).
    NotCheckedIn,
    /// Checked in, not yet out.
    CheckedIn,
    /// Checked in and out.
    Done,
}

/// The signed-in volunteer's own shift in a session, as merged on this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShiftInfo {
    /// Where it stands.
    pub state: ShiftState,
    /// Signed up in advance (and not cancelled).
    pub signed_up: bool,
    /// Checked in at (ms).
    pub check_in_ms: Option<i64>,
    /// Checked out at (ms).
    pub check_out_ms: Option<i64>,
    /// Minutes, once checked out.
    pub minutes: Option<u32>,
    /// The sign-up was cancelled.
    pub cancelled: bool,
    /// Why (a `cancel_reasons` code).
    pub cancel_reason: Option<String>,
}

/// A coming session of the volunteer's activities, with her own sign-up (user story 14).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UpcomingSession {
    /// The session.
    pub session: SessionInfo,
    /// The signed-in volunteer's shift.
    pub my_shift: ShiftInfo,
    /// Volunteers signed up (and not cancelled), her included.
    pub signed_up: u32,
}

/// One completed or open shift in the volunteer's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShiftRecord {
    /// The session.
    pub session: SessionInfo,
    /// The shift.
    pub shift: ShiftInfo,
}

/// A month of the volunteer's hours.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MonthHours {
    /// `YYYY-MM`.
    pub month: String,
    /// Minutes of completed shifts.
    pub minutes: u32,
    /// Completed shifts.
    pub shifts: u32,
}

/// The signed-in volunteer's own hours on this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HoursHistory {
    /// Shifts (checked in at least), newest session first.
    pub shifts: Vec<ShiftRecord>,
    /// Per month, newest first.
    pub months: Vec<MonthHours>,
    /// All completed shifts' minutes.
    pub total_minutes: u32,
}

/// The user's own outreach log on this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutreachLog {
    /// Contacts, newest first.
    pub contacts: Vec<ContactInfo>,
    /// Referrals, newest first.
    pub referrals: Vec<ReferralInfo>,
}

/// Where syncing stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Local changes the relay has not confirmed yet.
    pub pending_changes: u64,
    /// Last successful sync (ms since epoch).
    pub last_sync_ms: Option<i64>,
    /// The last sync's error, if it failed (no personal data).
    pub last_error: Option<String>,
    /// A sync is running.
    pub syncing: bool,
    /// Automatic sync is on.
    pub auto_sync: bool,
    /// Names are hidden: out of contact for longer than the tenant allows (ADR 0031). The
    /// app asks the user to connect and sync.
    pub names_hidden: bool,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Documents synced.
    pub documents: u32,
    /// Documents that received changes from the relay.
    pub updated: u32,
    /// Documents removed from this device because the user may no longer see them.
    pub removed: u32,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeKind {
    /// An edit on this device was saved.
    LocalEdit,
    /// Changes from the relay arrived.
    Synced,
    /// The sync status changed.
    SyncStatus,
    /// The device was revoked and its data deleted.
    Wiped,
    /// The relay refused some of this device's edits to a document (a rule it broke, e.g. a
    /// shift of someone else, or access withdrawn meanwhile): the document now holds the
    /// relay's copy with every edit that still passes the rules re-made on it; `detail`
    /// says what was refused and how many edits were dropped. Tell the user which record.
    Refused,
}

/// A change notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChangeEvent {
    /// What changed.
    pub kind: ChangeKind,
    /// The document, if one.
    pub document_id: Option<String>,
    /// For `Refused`: the relay's reason (record keys and codes, no personal data).
    pub detail: Option<String>,
}

/// Receives change notifications (on a background thread: keep it short, hop to the UI
/// thread yourself).
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    /// Called for each change.
    fn on_change(&self, event: ChangeEvent) -> Result<(), crate::error::ListenerError>;
}

pub(crate) mod conv {
    use super::*;
    use nabo_core::model::{
        AttendanceMode as CoreMode, AttendanceStatus, ReferralKind as CoreKind,
        ReferralStatus as CoreStatus,
    };

    pub fn split(s: &nabo_core::model::register::HeadcountSplit) -> HeadcountSplit {
        HeadcountSplit {
            children_residents: s.children_residents,
            children_outsiders: s.children_outsiders,
            adults_residents: s.adults_residents,
            adults_outsiders: s.adults_outsiders,
            first_timers: s.first_timers,
        }
    }

    pub fn core_split(s: &HeadcountSplit) -> nabo_core::model::register::HeadcountSplit {
        nabo_core::model::register::HeadcountSplit {
            children_residents: s.children_residents,
            children_outsiders: s.children_outsiders,
            adults_residents: s.adults_residents,
            adults_outsiders: s.adults_outsiders,
            first_timers: s.first_timers,
        }
    }

    pub fn mode(m: CoreMode) -> AttendanceMode {
        match m {
            CoreMode::Headcount => AttendanceMode::Headcount,
            CoreMode::Pseudonymous => AttendanceMode::Pseudonymous,
            CoreMode::Named => AttendanceMode::Named,
        }
    }

    pub fn mark(s: AttendanceStatus) -> Mark {
        match s {
            AttendanceStatus::Present => Mark::Present,
            AttendanceStatus::Absent => Mark::Absent,
            AttendanceStatus::Excused => Mark::Excused,
        }
    }

    pub fn status(m: Mark) -> AttendanceStatus {
        match m {
            Mark::Present => AttendanceStatus::Present,
            Mark::Absent => AttendanceStatus::Absent,
            Mark::Excused => AttendanceStatus::Excused,
        }
    }

    pub fn kind_in(k: ReferralKind) -> CoreKind {
        match k {
            ReferralKind::Information => CoreKind::Information,
            ReferralKind::Accompanied => CoreKind::Accompanied,
            ReferralKind::Bisidder => CoreKind::Bisidder,
            ReferralKind::LetterHelp => CoreKind::LetterHelp,
            ReferralKind::Recruitment => CoreKind::Recruitment,
        }
    }

    pub fn kind_out(k: CoreKind) -> ReferralKind {
        match k {
            CoreKind::Information => ReferralKind::Information,
            CoreKind::Accompanied => ReferralKind::Accompanied,
            CoreKind::Bisidder => ReferralKind::Bisidder,
            CoreKind::LetterHelp => ReferralKind::LetterHelp,
            CoreKind::Recruitment => ReferralKind::Recruitment,
        }
    }

    pub fn status_in(s: ReferralStatus) -> CoreStatus {
        match s {
            ReferralStatus::Suggested => CoreStatus::Suggested,
            ReferralStatus::Contacted => CoreStatus::Contacted,
            ReferralStatus::FirstMeeting => CoreStatus::FirstMeeting,
            ReferralStatus::Ongoing => CoreStatus::Ongoing,
            ReferralStatus::Completed => CoreStatus::Completed,
            ReferralStatus::Declined => CoreStatus::Declined,
        }
    }

    pub fn status_out(s: CoreStatus) -> ReferralStatus {
        match s {
            CoreStatus::Suggested => ReferralStatus::Suggested,
            CoreStatus::Contacted => ReferralStatus::Contacted,
            CoreStatus::FirstMeeting => ReferralStatus::FirstMeeting,
            CoreStatus::Ongoing => ReferralStatus::Ongoing,
            CoreStatus::Completed => ReferralStatus::Completed,
            CoreStatus::Declined => ReferralStatus::Declined,
        }
    }
}

/// Doorstep conversations on one topic (a code of the `ambassador-topics` vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TopicCount {
    /// Topic code, e.g. `sundhed`.
    pub topic: String,
    /// Number of doorstep conversations.
    pub count: u32,
}

/// An ambassador round to log (story 16): counts only, no names.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoundInput {
    /// The ambassador corps' activity.
    pub activity_id: String,
    /// The day (YYYY-MM-DD); the log is the one of that day's term.
    pub date: String,
    /// The housing area walked; the activity's area when `None`.
    pub area_id: Option<String>,
    /// Doorstep conversations per topic.
    pub conversations: Vec<TopicCount>,
}

/// A food-club evening to log (story 17): how many came, how many for the first time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FoodClubInput {
    /// The food club's activity.
    pub activity_id: String,
    /// The day (YYYY-MM-DD).
    pub date: String,
    /// The housing area; the activity's area when `None`.
    pub area_id: Option<String>,
    /// How many came.
    pub came: u32,
    /// Of them, how many came for the first time.
    pub first_timers: u32,
}

/// A logged ambassador round.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoundInfo {
    /// Reference (`<resident log document>/<round>`).
    pub id: String,
    /// The day.
    pub date: String,
    /// The housing area.
    pub area_id: String,
    /// Doorstep conversations per topic.
    pub conversations: Vec<TopicCount>,
    /// Withdrawn (not counted).
    pub withdrawn: bool,
}

/// A logged food-club evening.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FoodClubInfo {
    /// Reference (`<resident log document>/<evening>`).
    pub id: String,
    /// The day.
    pub date: String,
    /// The housing area.
    pub area_id: String,
    /// How many came.
    pub came: u32,
    /// Of them, first-timers.
    pub first_timers: u32,
    /// Withdrawn (not counted).
    pub withdrawn: bool,
}

/// What an activity's resident log on this phone holds (every term), newest first, with the
/// counts of what is not withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResidentLog {
    /// Ambassador rounds.
    pub rounds: Vec<RoundInfo>,
    /// Food-club evenings.
    pub evenings: Vec<FoodClubInfo>,
    /// Doorstep conversations over every round and topic.
    pub conversations: u64,
    /// People who came, over every evening.
    pub came: u64,
    /// Of them, first-timers.
    pub first_timers: u64,
}
