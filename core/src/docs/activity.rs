//! The activity document: one activity with its schedule, volunteer roster, change theory,
//! measurements and goal-fulfilment reports.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ActorId;

use super::{MAX_NAME, MAX_TEXT, limit_text, require_term, require_terms, require_text};
use crate::catalogue::{Catalogue, Vocabulary};
use crate::document::{
    Author, NaboDoc, Scope, Versions, read_all, read_one, typed_doc, write_record,
};
use crate::error::{Reason, Result, invalid};
use crate::ids::{
    ActivityId, AreaId, ChallengeId, Code, GoalId, IndicatorId, MeasurementId, ProgrammeId,
    ReportId, SeriesId, TenantId, VenueId, VolunteerId,
};
use crate::model::activity::{
    Activity, Challenge, Goal, GoalReport, IndicatorDef, Measurement, RosterVolunteer,
    SessionSeries,
};
use crate::model::{
    ActivityStatus, AttendanceMode, GoalLevel, GoalStatus, IdMap, LegalBasis, Priority,
    RetentionClass, Set,
};
use crate::time::{Date, Time, Weekday};

/// The activity document.
#[derive(Debug, Clone)]
pub struct ActivityDoc {
    doc: NaboDoc,
}
typed_doc!(ActivityDoc, crate::document::DocKind::Activity);

/// Input for a new activity. Defaults are the minimal ones: headcount attendance, legal basis
/// "legitimate interest", grant-documentation retention.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// Name.
    pub name: String,
    /// Programme.
    pub programme: ProgrammeId,
    /// Area.
    pub area: AreaId,
    /// Taxonomy id.
    pub taxonomy: String,
    /// Primary type code.
    pub primary_type: String,
    /// Secondary type codes.
    pub secondary_types: Vec<String>,
    /// Main activity of its intervention area.
    pub main_activity: bool,
    /// Target groups; empty means the type's default target groups.
    pub target_groups: Vec<(String, Priority)>,
    /// Methods.
    pub methods: Vec<String>,
    /// Delivery formats.
    pub formats: Vec<String>,
    /// Attendance mode.
    pub attendance_mode: AttendanceMode,
    /// Children under 15 take part; `None` derives it from the target groups.
    pub children_under_15: Option<bool>,
    /// Venue.
    pub venue: Option<VenueId>,
    /// Start date.
    pub start: Option<Date>,
    /// Legal basis.
    pub legal_basis: LegalBasis,
    /// The statute, when the basis is `other-statutory` (ADR 0034).
    pub legal_basis_text: Option<String>,
    /// Retention class.
    pub retention: RetentionClass,
    /// Purpose.
    pub purpose: String,
}

impl NewActivity {
    /// An activity of a type with the minimal defaults.
    pub fn new(
        name: &str,
        programme: ProgrammeId,
        area: AreaId,
        taxonomy: &str,
        primary_type: &str,
    ) -> Self {
        NewActivity {
            name: name.to_owned(),
            programme,
            area,
            taxonomy: taxonomy.to_owned(),
            primary_type: primary_type.to_owned(),
            secondary_types: Vec::new(),
            main_activity: false,
            target_groups: Vec::new(),
            methods: Vec::new(),
            formats: Vec::new(),
            attendance_mode: AttendanceMode::Headcount,
            children_under_15: None,
            venue: None,
            start: None,
            legal_basis: LegalBasis::LegitimateInterest,
            legal_basis_text: None,
            retention: RetentionClass::GrantDocumentation5y,
            purpose: "Dokumentation af aktiviteten over for bestyrelse og bevillingsgivere".into(),
        }
    }
}

/// Input for a weekly series.
#[derive(Debug, Clone)]
pub struct NewSeries {
    /// Weekday.
    pub weekday: Weekday,
    /// Start.
    pub start: Time,
    /// End.
    pub end: Time,
    /// First date.
    pub from: Date,
    /// Last date.
    pub until: Option<Date>,
    /// Venue.
    pub venue: Option<VenueId>,
}

fn code(field: &'static str, s: &str) -> Result<Code> {
    s.parse()
        .or_else(|_| invalid(field, Reason::UnknownCode, "malformed code"))
}

/// What a series must satisfy: sessions end after they start, the series does not end before
/// it starts.
pub(crate) fn check_series(s: &SessionSeries) -> Result<()> {
    if s.end <= s.start {
        return invalid(
            "end",
            Reason::EndBeforeStart,
            "a session must end after it starts",
        );
    }
    if s.until.is_some_and(|u| u < s.from) {
        return invalid(
            "until",
            Reason::EndBeforeStart,
            "the series ends before it starts",
        );
    }
    Ok(())
}

/// Checks an activity record against the catalogue.
pub fn validate_activity(cat: &Catalogue, a: &Activity) -> Result<()> {
    require_text("name", &a.name, MAX_NAME)?;
    limit_text("purpose", &a.purpose, MAX_TEXT)?;
    crate::consent::check_basis(
        "legal_basis_text",
        a.legal_basis,
        a.legal_basis_text.as_deref(),
    )?;
    let Some(tax) = cat.taxonomy(a.taxonomy.as_str()) else {
        return invalid(
            "taxonomy",
            Reason::UnknownCode,
            format!("{} is not a taxonomy", a.taxonomy),
        );
    };
    match cat.activity_type(&tax.id, a.primary_type.as_str()) {
        None => {
            return invalid(
                "primary_type",
                Reason::UnknownCode,
                format!("{} is not a type of {}", a.primary_type, tax.id),
            );
        }
        Some(t) if t.retired => {
            return invalid(
                "primary_type",
                Reason::NotActive,
                format!("{} is retired", a.primary_type),
            );
        }
        Some(_) => {}
    }
    for t in a.secondary_types.iter() {
        if cat.activity_type(&tax.id, t.as_str()).is_none() {
            return invalid(
                "secondary_types",
                Reason::UnknownCode,
                format!("{t} is not a type of {}", tax.id),
            );
        }
        if *t == a.primary_type {
            return invalid(
                "secondary_types",
                Reason::Inconsistent,
                "the primary type cannot also be secondary",
            );
        }
    }
    for g in a.target_groups.keys() {
        if cat.target_group(g.as_str()).is_none() {
            return invalid(
                "target_groups",
                Reason::UnknownCode,
                format!("{g} is not a target group"),
            );
        }
    }
    require_terms(cat, Vocabulary::Methods, "methods", &a.methods)?;
    require_terms(cat, Vocabulary::DeliveryFormats, "formats", &a.formats)?;
    if let (Some(s), Some(e)) = (a.start, a.end)
        && e < s
    {
        return invalid("end", Reason::EndBeforeStart, "ends before it starts");
    }
    Ok(())
}

/// Whether target groups include children under 15 (the default of the child certificate
/// rule). Groups without ages are not assumed to be children; the flag can be set by hand.
pub fn groups_include_children_under_15(cat: &Catalogue, groups: &IdMap<Code, Priority>) -> bool {
    groups
        .keys()
        .filter_map(|g| cat.target_group(g.as_str()))
        .any(|g| g.includes_children_under_15())
}

impl ActivityDoc {
    /// Creates the document of a new activity.
    pub fn create(
        tenant: TenantId,
        activity: ActivityId,
        actor: ActorId,
        author: &Author,
        cat: &Catalogue,
        input: NewActivity,
    ) -> Result<Self> {
        let taxonomy = code("taxonomy", &input.taxonomy)?;
        let primary_type = code("primary_type", &input.primary_type)?;
        let secondary_types = input
            .secondary_types
            .iter()
            .map(|s| code("secondary_types", s))
            .collect::<Result<Set<Code>>>()?;
        let mut target_groups = IdMap::new();
        if input.target_groups.is_empty() {
            if let Some(t) = cat.activity_type(taxonomy.as_str(), primary_type.as_str()) {
                for g in &t.target_groups {
                    target_groups.insert(code("target_groups", &g.group)?, g.priority);
                }
            }
        } else {
            for (g, p) in &input.target_groups {
                target_groups.insert(code("target_groups", g)?, *p);
            }
        }
        let children = input
            .children_under_15
            .unwrap_or_else(|| groups_include_children_under_15(cat, &target_groups));
        let record = Activity {
            name: input.name.trim().to_owned(),
            programme: input.programme,
            area: input.area,
            area_history: IdMap::new(),
            taxonomy,
            primary_type,
            secondary_types,
            main_activity: input.main_activity,
            target_groups,
            methods: input
                .methods
                .iter()
                .map(|s| code("methods", s))
                .collect::<Result<_>>()?,
            formats: input
                .formats
                .iter()
                .map(|s| code("formats", s))
                .collect::<Result<_>>()?,
            approach: None,
            attendance_mode: input.attendance_mode,
            children_under_15: children,
            venue: input.venue,
            status: if input.start.is_some() {
                ActivityStatus::Running
            } else {
                ActivityStatus::Planned
            },
            start: input.start,
            end: None,
            controller: None,
            legal_basis: input.legal_basis,
            legal_basis_text: input.legal_basis_text,
            retention: input.retention,
            purpose: input.purpose,
            archived: false,
        };
        validate_activity(cat, &record)?;
        let mut doc = NaboDoc::create(Scope::Activity { tenant, activity }, actor)?;
        doc.write(author, "create-activity", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "activity", &record)?;
            Ok(())
        })?;
        Ok(ActivityDoc { doc })
    }

    /// The activity id.
    pub fn id(&self) -> &ActivityId {
        match self.doc.scope() {
            Scope::Activity { activity, .. } => activity,
            _ => unreachable_scope(),
        }
    }

    /// The activity record.
    pub fn activity(&self) -> Result<Versions<Activity>> {
        let am = self.doc.automerge();
        let Some((value, id)) = automerge::ReadDoc::get(am, automerge::ROOT, "activity")? else {
            return Err(crate::Error::Schema("activity record missing".into()));
        };
        let current = match value {
            automerge::Value::Object(_) => {
                <Activity as autosurgeon::Hydrate>::hydrate_map(am, &id)?
            }
            _ => return Err(crate::Error::Schema("activity is not a map".into())),
        };
        Ok(Versions {
            current,
            conflicts: Vec::new(),
        })
    }

    /// Changes the activity record: `f` edits a copy, the result is validated and written
    /// field by field.
    pub fn update(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        f: impl FnOnce(&mut Activity),
    ) -> Result<()> {
        let mut a = self.activity()?.current;
        f(&mut a);
        validate_activity(cat, &a)?;
        self.doc.write(author, "update-activity", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "activity", &a)?;
            Ok(())
        })
    }

    /// Moves the activity to another area from `date`, keeping the history.
    pub fn move_to_area(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        area: AreaId,
        date: Date,
    ) -> Result<()> {
        let current = self.activity()?.current;
        if current.area == area {
            return invalid(
                "area",
                Reason::Inconsistent,
                "the activity is already in that area",
            );
        }
        self.update(author, cat, |a| {
            if a.area_history.is_empty() {
                let since = a.start.unwrap_or(Date(chrono::NaiveDate::MIN));
                a.area_history.insert(since, a.area.clone());
            }
            a.area_history.insert(date, area.clone());
            a.area = area;
        })
    }

    /// Archives (`true`) or restores (`false`) the activity (ADR 0022): it leaves lists and
    /// pickers, its registers and reports stay. Archiving what is archived changes nothing.
    pub fn set_archived(&mut self, author: &Author, cat: &Catalogue, archived: bool) -> Result<()> {
        if self.activity()?.current.archived == archived {
            return Ok(());
        }
        self.update(author, cat, |a| a.archived = archived)
    }

    /// Adds a weekly session series.
    pub fn add_series(&mut self, author: &Author, input: NewSeries) -> Result<SeriesId> {
        let id = SeriesId::random();
        let s = SessionSeries {
            weekday: input.weekday,
            start: input.start,
            end: input.end,
            from: input.from,
            until: input.until,
            venue: input.venue,
            skip: Set::new(),
            cancelled: false,
        };
        check_series(&s)?;
        self.doc.write(author, "add-series", |tx| {
            write_record(tx, "series", id.as_str(), &s)
        })?;
        Ok(id)
    }

    /// Marks a date of a series as skipped (holiday), or un-skips it.
    pub fn skip_date(
        &mut self,
        author: &Author,
        series: &SeriesId,
        date: Date,
        skip: bool,
    ) -> Result<()> {
        let mut s = self.series_one(series)?;
        if date.weekday() != s.weekday {
            return invalid(
                "date",
                Reason::Inconsistent,
                "the date is not on the series' weekday",
            );
        }
        if skip {
            s.skip.insert(date);
        } else {
            s.skip.0.remove(&date);
        }
        self.doc.write(author, "skip-date", |tx| {
            write_record(tx, "series", series.as_str(), &s)
        })
    }

    /// Changes a series (weekday, times, period, venue; ADR 0022): `f` edits a copy, which
    /// is checked like a new series. Sessions already in a register keep what they were;
    /// the change applies to the sessions generated from it afterwards. A stopped series is
    /// refused.
    pub fn change_series(
        &mut self,
        author: &Author,
        series: &SeriesId,
        f: impl FnOnce(&mut SessionSeries),
    ) -> Result<()> {
        let mut s = self.series_one(series)?;
        if s.cancelled {
            return invalid("series", Reason::NotActive, "the series is stopped");
        }
        f(&mut s);
        check_series(&s)?;
        self.doc.write(author, "change-series", |tx| {
            write_record(tx, "series", series.as_str(), &s)
        })
    }

    /// Stops a series (kept for history).
    pub fn cancel_series(&mut self, author: &Author, series: &SeriesId) -> Result<()> {
        let mut s = self.series_one(series)?;
        s.cancelled = true;
        self.doc.write(author, "cancel-series", |tx| {
            write_record(tx, "series", series.as_str(), &s)
        })
    }

    fn series_one(&self, id: &SeriesId) -> Result<SessionSeries> {
        match read_one::<_, SessionSeries>(self.doc.automerge(), "series", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("series", Reason::NotFound, "no such series"),
        }
    }

    /// All series.
    pub fn series(&self) -> Result<BTreeMap<SeriesId, SessionSeries>> {
        typed_keys(read_all(self.doc.automerge(), "series")?)
    }

    /// Puts a volunteer on the roster (central staff), with the child certificate validity
    /// copied from the volunteer directory.
    pub fn set_roster(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        volunteer: &VolunteerId,
        entry: RosterVolunteer,
    ) -> Result<()> {
        require_term(cat, Vocabulary::VolunteerRoles, "role", &entry.role)?;
        self.doc.write(author, "set-roster", |tx| {
            write_record(tx, "roster", volunteer.as_str(), &entry)
        })
    }

    /// The roster.
    pub fn roster(&self) -> Result<BTreeMap<VolunteerId, RosterVolunteer>> {
        typed_keys(read_all(self.doc.automerge(), "roster")?)
    }

    /// Adds a challenge to the change theory.
    pub fn add_challenge(&mut self, author: &Author, text: &str) -> Result<ChallengeId> {
        require_text("text", text, MAX_NAME)?;
        let id = ChallengeId::random();
        let c = Challenge {
            text: text.trim().to_owned(),
        };
        self.doc.write(author, "add-challenge", |tx| {
            write_record(tx, "challenges", id.as_str(), &c)
        })?;
        Ok(id)
    }

    /// Adds an indicator: from the shared library (`library = Some(code)`, name and unit
    /// taken from it) or a local one.
    pub fn add_indicator(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        def: IndicatorDef,
    ) -> Result<IndicatorId> {
        let mut def = check_indicator(cat, def)?;
        def.retired = None;
        let id = IndicatorId::random();
        self.doc.write(author, "add-indicator", |tx| {
            write_record(tx, "indicators", id.as_str(), &def)
        })?;
        Ok(id)
    }

    /// Changes an indicator (ADR 0026): `f` edits a copy, which is checked like a new
    /// indicator. An unknown id is refused, never created; a retired one is refused (restore
    /// it first); its unit cannot change once it has measurements (they are in that unit).
    /// Retirement is changed by [`ActivityDoc::set_indicator_retired`] only. An edit that
    /// changes nothing writes nothing.
    pub fn update_indicator(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &IndicatorId,
        f: impl FnOnce(&mut IndicatorDef),
    ) -> Result<()> {
        let old = self.indicator_one(id)?;
        if old.retired.is_some() {
            return invalid("indicator", Reason::NotActive, "the indicator is retired");
        }
        let mut def = old.clone();
        f(&mut def);
        def.retired = old.retired;
        let def = check_indicator(cat, def)?;
        if def == old {
            return Ok(());
        }
        if def.unit != old.unit && self.measurements()?.values().any(|m| &m.indicator == id) {
            return invalid(
                "unit",
                Reason::Inconsistent,
                "the indicator has measurements in its unit",
            );
        }
        self.doc.write(author, "update-indicator", |tx| {
            write_record(tx, "indicators", id.as_str(), &def)
        })
    }

    /// Retires an indicator from `Some(date)` or restores it (`None`) (ADR 0026): a retired
    /// indicator leaves pickers, new goals and measurements of later periods, and stays in
    /// the history and in the reports of periods before the date. Retiring what is retired
    /// (or restoring what is live) writes nothing.
    pub fn set_indicator_retired(
        &mut self,
        author: &Author,
        id: &IndicatorId,
        retired: Option<Date>,
    ) -> Result<()> {
        let mut def = self.indicator_one(id)?;
        if def.retired.is_some() == retired.is_some() {
            return Ok(());
        }
        def.retired = retired;
        let op = if retired.is_some() {
            "retire-indicator"
        } else {
            "restore-indicator"
        };
        self.doc.write(author, op, |tx| {
            write_record(tx, "indicators", id.as_str(), &def)
        })
    }

    fn indicator_one(&self, id: &IndicatorId) -> Result<IndicatorDef> {
        match read_one::<_, IndicatorDef>(self.doc.automerge(), "indicators", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("indicator", Reason::NotFound, "no such indicator"),
        }
    }

    fn goal_one(&self, id: &GoalId) -> Result<Goal> {
        match read_one::<_, Goal>(self.doc.automerge(), "goals", id.as_str())? {
            Some(v) => Ok(v.current),
            None => invalid("goal", Reason::NotFound, "no such goal"),
        }
    }

    /// Adds a goal (deliverable, short-term or long-term) with its step number, the goals it
    /// leads to and its indicators (none of them retired).
    pub fn add_goal(&mut self, author: &Author, goal: Goal) -> Result<GoalId> {
        let mut goal = goal;
        goal.retired = None;
        let id = GoalId::random();
        self.check_goal(&id, None, &goal)?;
        self.doc.write(author, "add-goal", |tx| {
            write_record(tx, "goals", id.as_str(), &goal)
        })?;
        Ok(id)
    }

    /// Changes a goal (ADR 0026): `f` edits a copy, which is checked like a new goal (links
    /// it already had to a goal or indicator retired since are kept; new ones must be live;
    /// no goal leads back to itself). An unknown id is refused, never created; a retired
    /// goal is refused (restore it first). Retirement is changed by
    /// [`ActivityDoc::set_goal_retired`] only. An edit that changes nothing writes nothing.
    pub fn update_goal(
        &mut self,
        author: &Author,
        id: &GoalId,
        f: impl FnOnce(&mut Goal),
    ) -> Result<()> {
        let old = self.goal_one(id)?;
        if old.retired.is_some() {
            return invalid("goal", Reason::NotActive, "the goal is retired");
        }
        let mut goal = old.clone();
        f(&mut goal);
        goal.retired = old.retired;
        if goal == old {
            return Ok(());
        }
        self.check_goal(id, Some(&old), &goal)?;
        self.doc.write(author, "update-goal", |tx| {
            write_record(tx, "goals", id.as_str(), &goal)
        })
    }

    /// Moves a goal to another step of the chain (reordering the change theory): checked
    /// like any change of the goal ([`ActivityDoc::update_goal`]).
    pub fn move_goal(&mut self, author: &Author, id: &GoalId, step: u8) -> Result<()> {
        self.update_goal(author, id, |g| g.step = step)
    }

    /// Retires a goal from `Some(date)` or restores it (`None`) (ADR 0026): a retired goal
    /// leaves the report form and new links, and stays in the history and in the reports of
    /// periods before the date. Retiring what is retired (or restoring what is live) writes
    /// nothing.
    pub fn set_goal_retired(
        &mut self,
        author: &Author,
        id: &GoalId,
        retired: Option<Date>,
    ) -> Result<()> {
        let mut goal = self.goal_one(id)?;
        if goal.retired.is_some() == retired.is_some() {
            return Ok(());
        }
        goal.retired = retired;
        let op = if retired.is_some() {
            "retire-goal"
        } else {
            "restore-goal"
        };
        self.doc.write(author, op, |tx| {
            write_record(tx, "goals", id.as_str(), &goal)
        })
    }

    /// What a goal `id` (new, or changed from `old`) must satisfy.
    fn check_goal(&self, id: &GoalId, old: Option<&Goal>, goal: &Goal) -> Result<()> {
        require_text("text", &goal.text, MAX_NAME)?;
        if !(1..=9).contains(&goal.step) {
            return invalid("step", Reason::OutOfRange, "steps are numbered 1 to 9");
        }
        let goals = self.goals()?;
        for g in goal.leads_to.iter() {
            let Some(target) = goals.get(g).filter(|_| g != id) else {
                return invalid("leads_to", Reason::NotFound, "no such goal");
            };
            let kept = old.is_some_and(|o| o.leads_to.contains(g));
            if target.retired.is_some() && !kept {
                return invalid("leads_to", Reason::NotActive, "the goal is retired");
            }
            if level_rank(target.level) < level_rank(goal.level) {
                return invalid(
                    "leads_to",
                    Reason::Inconsistent,
                    "a goal can only lead to a goal at the same or a later level",
                );
            }
        }
        // No chain of arrows leads back to the goal (same-level goals may lead to each other).
        let mut seen = std::collections::BTreeSet::new();
        let mut next: Vec<&GoalId> = goal.leads_to.iter().collect();
        while let Some(g) = next.pop() {
            if g == id {
                return invalid(
                    "leads_to",
                    Reason::Inconsistent,
                    "the goals would lead in a circle",
                );
            }
            if seen.insert(g) {
                next.extend(goals.get(g).into_iter().flat_map(|x| x.leads_to.iter()));
            }
        }
        let indicators = self.indicators()?;
        for i in goal.indicators.iter() {
            let Some(def) = indicators.get(i) else {
                return invalid("indicators", Reason::NotFound, "no such indicator");
            };
            let kept = old.is_some_and(|o| o.indicators.contains(i));
            if def.retired.is_some() && !kept {
                return invalid("indicators", Reason::NotActive, "the indicator is retired");
            }
        }
        Ok(())
    }

    /// Records a measurement of an indicator.
    pub fn record_measurement(&mut self, author: &Author, m: Measurement) -> Result<MeasurementId> {
        let def = self.indicator_one(&m.indicator)?;
        if !def.live_in(m.from) {
            return invalid(
                "indicator",
                Reason::NotActive,
                "the indicator was retired before the period",
            );
        }
        if m.to < m.from {
            return invalid(
                "to",
                Reason::EndBeforeStart,
                "the period ends before it starts",
            );
        }
        if !m.value.is_finite() {
            return invalid("value", Reason::OutOfRange, "must be a finite number");
        }
        limit_text("evidence", &m.evidence, MAX_NAME)?;
        let id = MeasurementId::random();
        self.doc.write(author, "record-measurement", |tx| {
            write_record(tx, "measurements", id.as_str(), &m)
        })?;
        Ok(id)
    }

    /// Writes (creates or replaces) a goal-fulfilment report.
    pub fn write_report(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: Option<ReportId>,
        mut r: GoalReport,
    ) -> Result<ReportId> {
        let activity = self.activity()?.current;
        if cat
            .area(activity.taxonomy.as_str(), r.intervention_area.as_str())
            .is_none()
        {
            return invalid(
                "intervention_area",
                Reason::UnknownCode,
                "not an area of the activity's taxonomy",
            );
        }
        if r.to < r.from {
            return invalid(
                "to",
                Reason::EndBeforeStart,
                "the period ends before it starts",
            );
        }
        limit_text("narrative", &r.narrative, MAX_TEXT)?;
        require_terms(
            cat,
            Vocabulary::SuccessThemes,
            "success_themes",
            &r.success_themes,
        )?;
        let goals = self.goals()?;
        let measurements = self.measurements()?;
        for (gid, a) in r.goals.iter() {
            let Some(goal) = goals.get(gid) else {
                return invalid("goals", Reason::NotFound, "no such goal");
            };
            if !goal.live_in(r.from) {
                return invalid(
                    "goals",
                    Reason::NotActive,
                    "the goal was retired before the period",
                );
            }
            require_terms(cat, Vocabulary::NonFulfilmentReasons, "reasons", &a.reasons)?;
            if matches!(a.status, GoalStatus::NotAchieved | GoalStatus::Partly)
                && a.reasons.is_empty()
            {
                return invalid(
                    "reasons",
                    Reason::Missing,
                    "an unmet goal needs at least one reason code",
                );
            }
            if a.status == GoalStatus::Achieved && !a.reasons.is_empty() {
                return invalid(
                    "reasons",
                    Reason::Inconsistent,
                    "an achieved goal has no reasons for non-fulfilment",
                );
            }
            if a.measurements.iter().any(|m| !measurements.contains_key(m)) {
                return invalid("measurements", Reason::NotFound, "no such measurement");
            }
            limit_text("comment", &a.comment, MAX_TEXT)?;
        }
        let id = id.unwrap_or_else(ReportId::random);
        // A report anonymised at the end of its retention stays anonymised: rewriting it
        // keeps the mark, and its text cannot come back.
        if r.anonymised.is_none()
            && let Some(was) =
                read_one::<_, GoalReport>(self.doc.automerge(), "reports", id.as_str())?
        {
            r.anonymised = was.current.anonymised;
        }
        check_anonymised(&r)?;
        self.doc.write(author, "write-report", |tx| {
            write_record(tx, "reports", id.as_str(), &r)
        })?;
        Ok(id)
    }

    /// Blanks the free text of the reports `ids` at the end of their retention (issue 11
    /// item 4): the narrative and every goal's comment go, the report is marked anonymised
    /// on `on`; statuses, reason codes, measurements and themes stay. Central staff's (the
    /// relay's retention job). Reports anonymised already are left alone, so running it
    /// again changes nothing; answers how many reports were written. An id the activity does
    /// not hold is refused (`report`, not found).
    pub fn anonymise_reports(
        &mut self,
        author: &Author,
        ids: &BTreeSet<ReportId>,
        on: Date,
    ) -> Result<usize> {
        let records = crate::erasure::erased_records(
            self.doc.automerge(),
            "reports",
            ids,
            ("report", "no such report in this activity"),
            |r: &GoalReport| crate::erasure::anonymised_report(r, on),
        )?;
        self.doc
            .write_records(author, "anonymise-report", "reports", &records)
    }

    /// Removes the reports `ids` entirely (a retention class that says "delete"). Central
    /// staff's (the relay's retention job). Ids the activity does not hold (deleted already)
    /// are skipped; answers how many reports were removed.
    pub fn delete_reports(&mut self, author: &Author, ids: &BTreeSet<ReportId>) -> Result<usize> {
        let held: Vec<&ReportId> = {
            let am = self.doc.automerge();
            let c = crate::document::Containers::of(am, "reports")?;
            let mut held = Vec::new();
            for id in ids {
                if c.holding(am, id.as_str())?.is_some() {
                    held.push(id);
                }
            }
            held
        };
        if held.is_empty() {
            return Ok(0);
        }
        self.doc.write(author, "delete-report", |tx| {
            let c = crate::document::Containers::of(tx, "reports")?;
            for id in &held {
                // Every container holding it (two concurrent containers may both).
                for obj in c.iter() {
                    if automerge::ReadDoc::get(tx, obj, id.as_str())?.is_some() {
                        automerge::transaction::Transactable::delete(tx, obj, id.as_str())?;
                    }
                }
            }
            Ok(())
        })?;
        Ok(held.len())
    }

    /// Challenges.
    pub fn challenges(&self) -> Result<BTreeMap<ChallengeId, Challenge>> {
        typed_keys(read_all(self.doc.automerge(), "challenges")?)
    }

    /// Goals.
    pub fn goals(&self) -> Result<BTreeMap<GoalId, Goal>> {
        typed_keys(read_all(self.doc.automerge(), "goals")?)
    }

    /// Indicators.
    pub fn indicators(&self) -> Result<BTreeMap<IndicatorId, IndicatorDef>> {
        typed_keys(read_all(self.doc.automerge(), "indicators")?)
    }

    /// Measurements.
    pub fn measurements(&self) -> Result<BTreeMap<MeasurementId, Measurement>> {
        typed_keys(read_all(self.doc.automerge(), "measurements")?)
    }

    /// Reports.
    pub fn reports(&self) -> Result<BTreeMap<ReportId, GoalReport>> {
        typed_keys(read_all(self.doc.automerge(), "reports")?)
    }

    /// The step that counts as "short-term goal achieved" (S004: trin 3): the highest step of
    /// the short-term goals.
    pub fn short_term_step(&self) -> Result<Option<u8>> {
        Ok(self
            .goals()?
            .values()
            .filter(|g| g.level == GoalLevel::ShortTerm)
            .map(|g| g.step)
            .max())
    }
}

/// An anonymised report holds no free text (the rules check every version of it too).
pub(crate) fn check_anonymised(r: &GoalReport) -> Result<()> {
    if r.anonymised.is_some() && r.has_text() {
        return invalid(
            "anonymised",
            Reason::Erased,
            "an anonymised report's narrative and comments stay blank",
        );
    }
    Ok(())
}

/// What an indicator must satisfy, new or changed: a library code from the catalogue (its
/// name filled in when empty, its unit kept), a name, a periodicity, finite numbers.
fn check_indicator(cat: &Catalogue, def: IndicatorDef) -> Result<IndicatorDef> {
    let mut def = def;
    if let Some(lib) = &def.library {
        let Some(li) = cat.indicator(lib.as_str()) else {
            return invalid(
                "library",
                Reason::UnknownCode,
                format!("{lib} is not in the indicator library"),
            );
        };
        if def.name.trim().is_empty() {
            def.name = li.name_da.clone();
        }
        if def.unit != li.unit {
            return invalid(
                "unit",
                Reason::Inconsistent,
                "the unit differs from the library indicator's",
            );
        }
    }
    def.name = def.name.trim().to_owned();
    require_text("name", &def.name, MAX_NAME)?;
    require_text("periodicity", &def.periodicity, 20)?;
    if def.baseline.is_some_and(|b| !b.is_finite()) {
        return invalid("baseline", Reason::OutOfRange, "must be a finite number");
    }
    if def.target.is_some_and(|t| !t.is_finite()) {
        return invalid("target", Reason::OutOfRange, "must be a finite number");
    }
    Ok(def)
}

fn level_rank(l: GoalLevel) -> u8 {
    match l {
        GoalLevel::Deliverable => 0,
        GoalLevel::ShortTerm => 1,
        GoalLevel::LongTerm => 2,
    }
}

#[cold]
pub(crate) fn unreachable_scope() -> ! {
    // A typed document is only constructed after its kind was checked, and kind and scope
    // are checked to agree on load.
    panic!("scope does not match the document kind")
}

/// Turns string keys into typed ids, keeping the shown value. Keys that are not valid ids
/// (written by a foreign client) are a schema error, not a panic.
/// The records of a container by typed key. A key that is not a key of the container
/// (written around the operations) is skipped like a record that does not read
/// ([`crate::rules::unreadable`] lists it).
pub(crate) fn typed_keys<K: std::str::FromStr + Ord, V>(
    m: BTreeMap<String, Versions<V>>,
) -> Result<BTreeMap<K, V>> {
    Ok(m.into_iter()
        .filter_map(|(k, v)| k.parse::<K>().ok().map(|k| (k, v.current)))
        .collect())
}

/// The data a register operation needs from the activity document.
#[derive(Debug, Clone)]
pub struct ActivitySnapshot {
    /// The activity record.
    pub activity: Activity,
    /// Its series.
    pub series: BTreeMap<SeriesId, SessionSeries>,
    /// Its roster.
    pub roster: BTreeMap<VolunteerId, RosterVolunteer>,
}

impl ActivityDoc {
    /// What registers need to validate writes.
    pub fn snapshot(&self) -> Result<ActivitySnapshot> {
        Ok(ActivitySnapshot {
            activity: self.activity()?.current,
            series: self.series()?,
            roster: self.roster()?,
        })
    }
}
