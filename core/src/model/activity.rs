//! Activities with their types, target groups, schedule, volunteer roster, change theory,
//! measurements and goal-fulfilment reports (DOMAIN.md §1.6, §1.8, §1.15–1.16). Held in the
//! activity document (one per activity).

use autosurgeon::{Hydrate, Reconcile};

use super::{
    ActivityStatus, Approach, AttendanceMode, By, GoalLevel, GoalStatus, Hardness, IdMap,
    IndicatorSource, IndicatorUnit, LegalBasis, Priority, ReportState, RetentionClass, Set,
};
use crate::ids::{AreaId, Code, GoalId, IndicatorId, MeasurementId, OrgId, ProgrammeId, VenueId};
use crate::time::{Date, Time, Weekday};

/// An activity: an instance of an activity type in a programme.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Activity {
    /// Name, e.g. "Lektiecaféen i Beboerhuset".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// The programme it belongs to.
    pub programme: ProgrammeId,
    /// The housing area it is run in now.
    pub area: AreaId,
    /// Area history: date of a move → the area from that date. Records keep the area they
    /// were captured in (S002: staff and activities move between areas).
    pub area_history: IdMap<Date, AreaId>,
    /// Taxonomy the types come from (catalogue id, e.g. `lbf-2006-2010`).
    pub taxonomy: Code,
    /// Primary activity type (e.g. `BE.lektiecafe`).
    pub primary_type: Code,
    /// Secondary activity types (CFBU: types overlap).
    pub secondary_types: Set<Code>,
    /// The main activity (hovedaktivitet) of its intervention area in the programme.
    pub main_activity: bool,
    /// Target groups with priority.
    pub target_groups: IdMap<Code, Priority>,
    /// Methods (praksisnær læring, individuel brobygning, …).
    pub methods: Set<Code>,
    /// Delivery formats (en-til-en, …).
    pub formats: Set<Code>,
    /// Individual- or area-oriented.
    pub approach: Option<Approach>,
    /// How attendance is captured. Headcount by default (data minimisation).
    pub attendance_mode: AttendanceMode,
    /// Sessions involve children under 15: volunteers need a valid child certificate.
    pub children_under_15: bool,
    /// Usual venue.
    pub venue: Option<VenueId>,
    /// Status.
    pub status: ActivityStatus,
    /// Started on.
    pub start: Option<Date>,
    /// Ended on.
    pub end: Option<Date>,
    /// Data controller for the activity's records.
    pub controller: Option<OrgId>,
    /// Legal basis of processing the participants' data.
    pub legal_basis: LegalBasis,
    /// The statute, when the basis is another statutory basis (`other-statutory`, ADR 0034),
    /// e.g. «Serviceloven § 11, stk. 3». Absent in activities written before it.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_string")]
    pub legal_basis_text: Option<String>,
    /// Retention class of its registers.
    pub retention: RetentionClass,
    /// Purpose of processing, in plain words.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub purpose: String,
    /// Archived (ADR 0022): gone from lists and pickers, kept in history and in the reports
    /// of its period. Missing in records written before archiving existed.
    #[autosurgeon(hydrate = "crate::model::lenient::missing_false")]
    pub archived: bool,
}

impl Activity {
    /// The area the activity was run in on `date`.
    pub fn area_on(&self, date: Date) -> &AreaId {
        self.area_history
            .range(..=date)
            .next_back()
            .map(|(_, a)| a)
            .unwrap_or(&self.area)
    }
}

/// A weekly recurring session series (e.g. Tuesdays and Thursdays 15–17).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct SessionSeries {
    /// Weekday.
    pub weekday: Weekday,
    /// Starts at.
    pub start: Time,
    /// Ends at.
    pub end: Time,
    /// First date.
    pub from: Date,
    /// Last date, if set.
    pub until: Option<Date>,
    /// Venue.
    pub venue: Option<VenueId>,
    /// Holiday weeks and other dates without a session.
    pub skip: Set<Date>,
    /// The series was stopped (kept for history).
    pub cancelled: bool,
}

impl SessionSeries {
    /// The dates of the series within `[from, to]`.
    pub fn dates_between(&self, from: Date, to: Date) -> Vec<Date> {
        if self.cancelled {
            return Vec::new();
        }
        let start = from.max(self.from);
        let end = self.until.map_or(to, |u| u.min(to));
        let mut out = Vec::new();
        let mut d = start;
        while d <= end {
            if d.weekday() == self.weekday && !self.skip.contains(&d) {
                out.push(d);
            }
            d = d.add_days(1);
        }
        out
    }
}

/// A volunteer on an activity's roster, as central staff set it. The child certificate
/// validity is copied here from the volunteer directory so that a volunteer's phone can check
/// it without holding the directory (ADR 0002).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RosterVolunteer {
    /// Role kind (vocabulary `volunteer_roles`).
    pub role: Code,
    /// Kept so rosters written before ADR 0023 still read; written as `None` and never read
    /// for a decision: the volunteer directory's current certificate decides.
    pub cleared_for_children_until: Option<Date>,
    /// Active on the roster.
    pub active: bool,
}

/// A challenge (udfordring) in a change theory.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Challenge {
    /// Text.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub text: String,
}

/// A goal in a change theory: deliverable → short-term goal → long-term goal.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Goal {
    /// Level.
    pub level: GoalLevel,
    /// Text, e.g. "Flere børn laver lektier regelmæssigt".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub text: String,
    /// Step number (trin 1..n) in the self-evaluation chain.
    pub step: u8,
    /// The goals this one leads to (the arrows of the change theory).
    pub leads_to: Set<GoalId>,
    /// Indicators that measure it.
    pub indicators: Set<IndicatorId>,
    /// Retired from this date (ADR 0026): no longer offered for new reports, kept in the
    /// history and in the reports of periods before it. Missing in older records.
    #[autosurgeon(hydrate = "crate::model::lenient::missing_none")]
    pub retired: Option<Date>,
}

impl Goal {
    /// Whether the goal was live at some point of `[from, to]` (not retired on or before
    /// `from`).
    pub fn live_in(&self, from: Date) -> bool {
        self.retired.is_none_or(|r| r > from)
    }
}

/// An indicator used by an activity, ideally mapped to the shared library.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct IndicatorDef {
    /// Library code, when the indicator is one of the shared library's.
    pub library: Option<Code>,
    /// Name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Unit.
    pub unit: IndicatorUnit,
    /// Source of the data.
    pub source: IndicatorSource,
    /// Hard or soft outcome.
    pub hardness: Hardness,
    /// Baseline value.
    pub baseline: Option<f64>,
    /// Target value.
    pub target: Option<f64>,
    /// How often it is measured (`term`, `year`, `quarter`).
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub periodicity: String,
    /// Retired from this date (ADR 0026): no longer offered for new measurements or goals,
    /// kept in the history and in the reports of periods before it. Missing in older records.
    #[autosurgeon(hydrate = "crate::model::lenient::missing_none")]
    pub retired: Option<Date>,
}

impl IndicatorDef {
    /// Whether the indicator was live in a period starting `from` (see [`Goal::live_in`]).
    pub fn live_in(&self, from: Date) -> bool {
        self.retired.is_none_or(|r| r > from)
    }
}

/// A measurement of an indicator for a period.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Measurement {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Period start.
    pub from: Date,
    /// Period end.
    pub to: Date,
    /// Value.
    pub value: f64,
    /// Where the number comes from (coded or short text, no personal data).
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub evidence: String,
    /// Who recorded it.
    pub by: By,
}

/// A goal-fulfilment report (målopfyldelse; selvevaluering in 2006–10) for a main activity in
/// one intervention area for a period.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct GoalReport {
    /// Period start.
    pub from: Date,
    /// Period end.
    pub to: Date,
    /// Intervention area code (in the activity's taxonomy).
    pub intervention_area: Code,
    /// Assessment per goal.
    pub goals: IdMap<GoalId, GoalAssessment>,
    /// Narrative.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub narrative: String,
    /// Success themes (S004 box 2).
    pub success_themes: Set<Code>,
    /// Draft or submitted.
    pub state: ReportState,
    /// Author.
    pub by: By,
    /// Set when the report's free text (the narrative and every goal's comment) was blanked
    /// at the end of its retention period (issue 11 item 4, ADR 0024): the statuses, reason
    /// codes, measurements and themes stay. Missing in older records.
    #[autosurgeon(
        reconcile = "crate::erasure::reconcile_mark",
        hydrate = "crate::model::lenient::missing_none"
    )]
    pub anonymised: Option<Date>,
}

impl GoalReport {
    /// Whether the report holds free text that may describe people (narrative or a comment).
    pub fn has_text(&self) -> bool {
        !self.narrative.is_empty() || self.goals.values().any(|a| !a.comment.is_empty())
    }
}

/// The status of one goal in a report, with evidence and, when unmet, the reasons.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct GoalAssessment {
    /// Status.
    pub status: GoalStatus,
    /// Measurements that support it.
    pub measurements: Set<MeasurementId>,
    /// Reason codes for non-fulfilment (S004 box 2 plus `maaleteknisk`).
    pub reasons: Set<Code>,
    /// Comment.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub comment: String,
}
