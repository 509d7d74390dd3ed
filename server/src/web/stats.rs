//! The figures of the overview, the board view and the reports, computed from the merged
//! documents for a period, a programme and an area.

use std::collections::{BTreeMap, BTreeSet};

#[allow(unused_imports)]
use nabo_core::model::activity::{Activity, Goal, IndicatorDef};
use nabo_core::prelude::*;
use nabo_core::rounds;

use super::data::{RegisterEntry, TenantData};
use super::fmt::Da;
use super::table::{Cell, Table};

/// Which records count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// One programme.
    pub programme: Option<ProgrammeId>,
    /// One housing area.
    pub area: Option<AreaId>,
    /// Count every activity in this round's intervention areas (a taxonomy id); `None`
    /// counts each in its programme's own round.
    pub round: Option<String>,
}

impl Filter {
    fn dates(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }

    /// Whether an activity belongs to the programme and area and runs in the period.
    pub fn activity(&self, a: &Activity) -> bool {
        self.programme.as_ref().is_none_or(|p| &a.programme == p)
            && self.area.as_ref().is_none_or(|ar| &a.area == ar)
            && a.start.is_none_or(|s| s <= self.to)
            && a.end.is_none_or(|e| e >= self.from)
    }
}

/// What one activity did in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Sessions held (not cancelled, in the period, not in the future).
    pub sessions_held: i64,
    /// Present marks plus headcounts.
    pub attendances: i64,
    /// Headcount-only attendance (no names).
    pub headcount: i64,
    /// Of the headcounts, those taken by group (stories 12 and 17).
    pub headcount_groups: HeadcountGroups,
    /// Distinct participants present at least once (merged duplicates count once).
    pub unique: BTreeSet<(nabo_core::document::DocumentId, ParticipantId)>,
    /// Of those, added in the period.
    pub new: BTreeSet<(nabo_core::document::DocumentId, ParticipantId)>,
    /// Unique participants by age band.
    pub by_age: BTreeMap<String, (i64, i64)>,
    /// Volunteers with a completed shift.
    pub volunteers: BTreeSet<VolunteerId>,
    /// Volunteer minutes.
    pub volunteer_minutes: u64,
}

/// Headcounts taken by group (stories 12 and 17): children and adults by residents and
/// outsiders, and first-timers among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadcountGroups {
    /// Children (0–17) living in the area.
    pub children_residents: i64,
    /// Children from outside the area.
    pub children_outsiders: i64,
    /// Adults living in the area.
    pub adults_residents: i64,
    /// Adults from outside the area.
    pub adults_outsiders: i64,
    /// Came for the first time.
    pub first_timers: i64,
}

impl HeadcountGroups {
    fn add(&mut self, s: &nabo_core::model::register::HeadcountSplit) {
        self.merge(&HeadcountGroups {
            children_residents: s.children_residents.into(),
            children_outsiders: s.children_outsiders.into(),
            adults_residents: s.adults_residents.into(),
            adults_outsiders: s.adults_outsiders.into(),
            first_timers: s.first_timers.into(),
        });
    }

    fn merge(&mut self, o: &HeadcountGroups) {
        self.children_residents += o.children_residents;
        self.children_outsiders += o.children_outsiders;
        self.adults_residents += o.adults_residents;
        self.adults_outsiders += o.adults_outsiders;
        self.first_timers += o.first_timers;
    }

    /// Children counted.
    pub fn children(&self) -> i64 {
        self.children_residents + self.children_outsiders
    }

    /// Adults counted.
    pub fn adults(&self) -> i64 {
        self.adults_residents + self.adults_outsiders
    }

    /// The table of the overview and the board: children and adults by residents and
    /// outsiders with totals, then the first-timers (a grid, see [`GRID_TABLES`]).
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            GRID_TABLES[0],
            "Fremmøde talt i grupper (kun antal)",
            &["Gruppe", "Beboere i området", "Udefra", "I alt"],
        );
        let rows = [
            ("Børn", self.children_residents, self.children_outsiders),
            ("Voksne", self.adults_residents, self.adults_outsiders),
            (
                "I alt",
                self.children_residents + self.adults_residents,
                self.children_outsiders + self.adults_outsiders,
            ),
        ];
        for (label, r, o) in rows {
            t.row(vec![
                Cell::text(label),
                Cell::Int(r),
                Cell::Int(o),
                Cell::Int(r + o),
            ]);
        }
        t.row(vec![
            Cell::text("Heraf kom første gang"),
            Cell::Empty,
            Cell::Empty,
            Cell::Int(self.first_timers),
        ]);
        t.note = Some(
            "Fester, udflugter og andre aktiviteter, hvor der kun tælles. Børn er 0–17 år.".into(),
        );
        t
    }
}

/// The figures of one register for the period, added into `f`.
pub fn add_register(f: &mut Figures, r: &RegisterEntry, filter: &Filter, today: Date) {
    let doc = r.meta.id;
    let held: BTreeSet<&SessionId> = r
        .view
        .sessions
        .iter()
        .filter(|(_, s)| {
            !s.current.cancelled && filter.dates(s.current.date) && s.current.date <= today
        })
        .map(|(id, _)| id)
        .collect();
    f.sessions_held += held.len() as i64;
    let mut seen: BTreeSet<ParticipantId> = BTreeSet::new();
    for ((s, p), m) in &r.view.attendance {
        if !held.contains(s) || m.current != AttendanceStatus::Present {
            continue;
        }
        f.attendances += 1;
        let canonical = r.view.canonical(p).clone();
        seen.insert(canonical);
    }
    for s in &held {
        let n = i64::from(r.view.headcount(s));
        f.attendances += n;
        f.headcount += n;
        f.headcount_groups.add(&r.view.headcount_split(s));
    }
    for p in seen {
        let part = r.view.participants.get(&p).map(|v| &v.current);
        let band = part.map_or_else(|| "ukendt".to_owned(), |p| p.age_band.to_string());
        let is_new = part.is_some_and(|p| filter.dates(p.added_on));
        let e = f.by_age.entry(band).or_default();
        e.0 += 1;
        if is_new {
            e.1 += 1;
            f.new.insert((doc, p.clone()));
        }
        f.unique.insert((doc, p));
    }
    for ((s, v), sh) in &r.view.shifts {
        if !held.contains(s) {
            continue;
        }
        if let Some(m) = sh.current.minutes() {
            f.volunteers.insert(v.clone());
            f.volunteer_minutes += u64::from(m);
        }
    }
}

/// Figures per activity for the filter.
pub fn per_activity(d: &TenantData, filter: &Filter) -> BTreeMap<ActivityId, Figures> {
    let mut out: BTreeMap<ActivityId, Figures> = BTreeMap::new();
    for a in d.activities.iter().filter(|a| filter.activity(&a.activity)) {
        out.entry(a.id.clone()).or_default();
    }
    for r in &d.registers {
        let act = r.doc.activity_id();
        if !out.contains_key(act) {
            continue;
        }
        if let Some(area) = &filter.area
            && r.meta.area.as_deref().is_some_and(|a| a != area.as_str())
        {
            continue;
        }
        if let Some(f) = out.get_mut(act) {
            add_register(f, r, filter, d.today);
        }
    }
    out
}

/// What one activity's outreach-side library indicators count in a period (issue 12
/// item 11). Contacts and observations are the activity's area's: those logged under one of
/// the activity's types, or under no type (the phone's quick log has none); referrals are
/// those made from the activity or from one of those contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// Outreach contacts.
    pub contacts: i64,
    /// Of them, with a known (pseudonymous) person.
    pub known_persons: i64,
    /// Referrals made.
    pub referrals: i64,
    /// Of them, completed.
    pub completed: i64,
    /// Of them, bisidder.
    pub bisidder: i64,
    /// Safety-walk observations reported in the area.
    pub observations: i64,
    /// Meetings held by the networks that cover the activity's area.
    pub network_meetings: i64,
    /// Volunteers whose first completed shift at the activity was in the period.
    pub new_volunteers: i64,
}

/// The [`Reach`] of activity `a` in the filter's period; `networks` are those the viewer
/// may see.
pub(super) fn reach(
    d: &TenantData,
    a: &super::data::ActivityEntry,
    networks: &[super::networks::NetworkEntry],
    filter: &Filter,
) -> Reach {
    let mut out = Reach::default();
    let act = &a.activity;
    for n in networks
        .iter()
        .filter(|n| n.network.areas.iter().any(|x| x == &act.area))
    {
        out.network_meetings += n
            .meetings
            .values()
            .filter(|m| !m.cancelled && filter.dates(m.date) && m.date <= d.today)
            .count() as i64;
    }
    let ours = |t: &Option<nabo_core::ids::Code>| {
        t.as_ref()
            .is_none_or(|t| &act.primary_type == t || act.secondary_types.iter().any(|x| x == t))
    };
    for log in &d.outreach {
        let in_area = log.doc.area() == &act.area;
        let mut attributed = BTreeSet::new();
        if in_area {
            for (id, c) in &log.view.contacts {
                if ours(&c.activity_type) {
                    attributed.insert(id);
                    if filter.dates(c.at.date_dk()) {
                        out.contacts += 1;
                        out.known_persons += i64::from(c.participant.is_some());
                    }
                }
            }
            out.observations += log
                .view
                .observations
                .values()
                .filter(|o| filter.dates(o.at.date_dk()))
                .count() as i64;
        }
        for r in log.view.referrals.values().map(|r| &r.current) {
            let from_us = r.from_activity.as_ref() == Some(&a.id)
                || r.from_contact
                    .as_ref()
                    .is_some_and(|c| attributed.contains(c));
            if from_us && filter.dates(r.at.date_dk()) {
                out.referrals += 1;
                out.completed += i64::from(r.status == ReferralStatus::Completed);
                out.bisidder += i64::from(r.kind == nabo_core::model::ReferralKind::Bisidder);
            }
        }
    }
    // Each volunteer's first completed shift at the activity, over all its registers.
    let mut first: BTreeMap<&VolunteerId, Date> = BTreeMap::new();
    for r in d.registers.iter().filter(|r| r.doc.activity_id() == &a.id) {
        for ((sid, v), sh) in &r.view.shifts {
            let Some(s) = r.view.sessions.get(sid).map(|s| &s.current) else {
                continue;
            };
            if s.cancelled || s.date > d.today || sh.current.minutes().is_none() {
                continue;
            }
            let e = first.entry(v).or_insert(s.date);
            *e = (*e).min(s.date);
        }
    }
    out.new_volunteers = first.values().filter(|d| filter.dates(**d)).count() as i64;
    out
}

/// Outreach figures for the filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outreach {
    /// Contacts (talks) in the period.
    pub contacts: i64,
    /// People met in them.
    pub people: i64,
    /// By topic: contacts, people.
    pub by_topic: BTreeMap<String, (i64, i64)>,
    /// By outcome: contacts.
    pub by_outcome: BTreeMap<String, i64>,
    /// Referrals made in the period, by status.
    pub referrals: BTreeMap<ReferralStatus, i64>,
}

/// Outreach figures.
pub fn outreach(d: &TenantData, filter: &Filter) -> Outreach {
    let mut o = Outreach::default();
    for log in &d.outreach {
        if let Some(area) = &filter.area
            && log.doc.area() != area
        {
            continue;
        }
        for c in log.view.contacts.values() {
            if !filter.dates(c.at.date_dk()) {
                continue;
            }
            o.contacts += 1;
            o.people += i64::from(c.count);
            for t in c.topics.iter() {
                let e = o.by_topic.entry(t.to_string()).or_default();
                e.0 += 1;
                e.1 += i64::from(c.count);
            }
            for x in c.outcomes.iter() {
                *o.by_outcome.entry(x.to_string()).or_default() += 1;
            }
        }
        for r in log.view.referrals.values() {
            if filter.dates(r.current.at.date_dk()) {
                *o.referrals.entry(r.current.status).or_default() += 1;
            }
        }
    }
    o
}

/// The overview's headline numbers and tables (the board view hides small numbers in them
/// with [`suppress_board`]).
pub fn overview(d: &TenantData, filter: &Filter) -> (Vec<(&'static str, Cell)>, Vec<Table>) {
    let per = per_activity(d, filter);
    let mut total = Figures::default();
    // (round, area names, type, mapping) → (activities, figures).
    let mut by_type: BTreeMap<(String, String, String, String), (i64, Figures)> = BTreeMap::new();
    let mut mappings: BTreeSet<String> = BTreeSet::new();
    for a in d.activities.iter().filter(|a| per.contains_key(&a.id)) {
        let f = &per[&a.id];
        let (round, areas, via) = report_area(d, &a.activity, filter.round.as_deref());
        if let Some(v) = &via {
            mappings.insert(v.clone());
        }
        let e = by_type
            .entry((
                round,
                areas,
                d.activity_type_name(&a.activity),
                via.unwrap_or_default(),
            ))
            .or_default();
        e.0 += 1;
        merge(&mut e.1, f);
        merge(&mut total, f);
    }
    let o = outreach(d, filter);

    let mut activities = Table::new(
        "aktiviteter",
        match filter
            .round
            .as_deref()
            .and_then(|r| d.catalogue.taxonomy(r))
        {
            Some(t) => format!(
                "Aktiviteter efter indsatsområde og type, opgjort i {}",
                t.name_da
            ),
            None => "Aktiviteter efter bevillingsrunde, indsatsområde og type".to_owned(),
        },
        &[
            "Bevillingsrunde",
            "Indsatsområde",
            "Aktivitetstype",
            "Aktiviteter",
            "Gange afholdt",
            "Fremmøder",
            "Unikke deltagere",
            "Oversættelse",
        ],
    );
    for ((round, area, kind, via), (n, f)) in &by_type {
        activities.row(vec![
            Cell::text(round),
            Cell::text(area),
            Cell::text(kind),
            // Activities are not people: never suppressed.
            Cell::Int(*n),
            Cell::Int(f.sessions_held),
            Cell::Int(f.attendances),
            Cell::Int(f.unique.len() as i64),
            Cell::text(via),
        ]);
    }
    activities.note = Some(if mappings.is_empty() {
        "Hver aktivitet tælles i sit programs egen bevillingsrunde.".to_owned()
    } else {
        format!(
            "Aktiviteter fra en anden bevillingsrunde er oversat med: {}.",
            mappings.into_iter().collect::<Vec<_>>().join("; ")
        )
    });

    let mut ages = Table::new(
        "deltagere-alder",
        "Deltagere efter aldersgruppe",
        &["Aldersgruppe", "Unikke deltagere", "Nye deltagere"],
    );
    for (band, (u, n)) in d.by_age(&total.by_age) {
        ages.row(vec![
            Cell::text(d.age_band(band)),
            Cell::Int(*u),
            Cell::Int(*n),
        ]);
    }
    if total.headcount > 0 {
        ages.note = Some(format!(
            "Derudover {} talt uden navn (kun antal).",
            super::fmt::count(total.headcount, "fremmøde", "fremmøder")
        ));
    }

    let counted = (total.headcount_groups.children() + total.headcount_groups.adults() > 0)
        .then(|| total.headcount_groups.table());

    // Participants by the target groups of the activities they came to.
    let mut groups: BTreeMap<String, BTreeSet<(nabo_core::document::DocumentId, ParticipantId)>> =
        BTreeMap::new();
    for a in d.activities.iter().filter(|a| per.contains_key(&a.id)) {
        for g in a.activity.target_groups.keys() {
            groups
                .entry(g.to_string())
                .or_default()
                .extend(per[&a.id].unique.iter().cloned());
        }
    }
    let mut target = Table::new(
        "deltagere-maalgruppe",
        "Deltagere efter aktiviteternes målgrupper",
        &["Målgruppe", "Unikke deltagere"],
    );
    for (g, set) in &groups {
        let name = d
            .catalogue
            .target_group(g)
            .map_or_else(|| g.clone(), |t| t.name_da.clone());
        target.row(vec![Cell::text(name), Cell::Int(set.len() as i64)]);
    }
    target.note = Some(
        "En deltager tæller med under hver målgruppe, som aktiviteten henvender sig til.".into(),
    );

    let mut volunteers = Table::new(
        "frivillige",
        "Frivillige og frivillige timer",
        &["Aktivitet", "Frivillige", "Timer"],
    );
    for a in d.activities.iter().filter(|a| per.contains_key(&a.id)) {
        let f = &per[&a.id];
        if f.volunteers.is_empty() {
            continue;
        }
        volunteers.row(vec![
            Cell::text(&a.activity.name),
            Cell::Int(f.volunteers.len() as i64),
            Cell::Dec(f.volunteer_minutes as f64 / 60.0, 1),
        ]);
    }

    let mut topics = Table::new(
        "opsoegende-emner",
        "Opsøgende kontakter efter emne",
        &["Emne", "Kontakter", "Personer"],
    );
    for (t, (c, p)) in &o.by_topic {
        topics.row(vec![
            Cell::text(d.term(Vocabulary::OutreachTopics, t)),
            Cell::Int(*c),
            Cell::Int(*p),
        ]);
    }
    let mut outcomes = Table::new(
        "opsoegende-udfald",
        "Opsøgende kontakter efter udfald",
        &["Udfald", "Kontakter"],
    );
    for (t, c) in &o.by_outcome {
        outcomes.row(vec![
            Cell::text(d.term(Vocabulary::OutreachOutcomes, t)),
            Cell::Int(*c),
        ]);
    }
    let mut referrals = Table::new(
        "henvisninger",
        "Henvisninger (brobygning) efter status",
        &["Status", "Henvisninger"],
    );
    for s in ReferralStatus::ALL {
        if let Some(n) = o.referrals.get(s) {
            referrals.row(vec![Cell::text(s.da()), Cell::Int(*n)]);
        }
    }

    let headline = vec![
        ("Aktiviteter", Cell::Int(per.len() as i64)),
        ("Gange afholdt", Cell::Int(total.sessions_held)),
        ("Fremmøder", Cell::Int(total.attendances)),
        ("Unikke deltagere", Cell::Int(total.unique.len() as i64)),
        ("Nye deltagere", Cell::Int(total.new.len() as i64)),
        ("Frivillige", Cell::Int(total.volunteers.len() as i64)),
        (
            "Frivillige timer",
            Cell::Dec(total.volunteer_minutes as f64 / 60.0, 1),
        ),
        ("Opsøgende kontakter", Cell::Int(o.contacts)),
        ("Henvisninger", Cell::Int(o.referrals.values().sum::<i64>())),
    ];
    let mut tables = vec![activities, ages];
    tables.extend(counted);
    tables.extend([target, volunteers, topics, outcomes, referrals]);
    (headline, tables)
}

/// The round an activity is counted in (`round`, else its programme's, else its own), its
/// intervention area(s) there, and the mapping used when that is not the activity's own round
/// (in Danish, for the table and its export).
pub fn report_area(
    d: &TenantData,
    a: &Activity,
    round: Option<&str>,
) -> (String, String, Option<String>) {
    let target = round
        .map(str::to_owned)
        .or_else(|| {
            d.programmes
                .get(&a.programme)
                .map(|p| p.taxonomy.to_string())
        })
        .unwrap_or_else(|| a.taxonomy.to_string());
    let r = rounds::area_in(
        &d.catalogue,
        a.taxonomy.as_str(),
        a.primary_type.as_str(),
        &target,
    );
    let name = |tax: &str| {
        d.catalogue
            .taxonomy(tax)
            .map_or_else(|| tax.to_owned(), |t| t.name_da.clone())
    };
    let versioned = |tax: &str| {
        d.catalogue.taxonomy(tax).map_or_else(
            || tax.to_owned(),
            |t| format!("{} (katalog v{})", t.name_da, t.version),
        )
    };
    let areas = if r.areas.is_empty() {
        "Intet tilsvarende indsatsområde".to_owned()
    } else {
        r.areas
            .iter()
            .map(|c| {
                d.catalogue
                    .area(&target, c)
                    .map_or_else(|| c.clone(), |x| x.name_da.clone())
            })
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let from = name(a.taxonomy.as_str());
    let via = match r.via {
        rounds::Via::Own => None,
        rounds::Via::SourceCatalogue { taxonomy } => Some(format!(
            "fra {from}: typens indsatsområde i CFBU-kataloget, {}",
            versioned(&taxonomy)
        )),
        rounds::Via::TypePlacement { taxonomy, review } => Some(format!(
            "fra {from}: typeplacering i {}, gennemgået af {} {}",
            versioned(&taxonomy),
            review.by,
            Date::parse(&review.on).map_or(review.on.clone(), super::fmt::date)
        )),
        rounds::Via::AreaMappings { path } => Some(format!(
            "områdeoversættelse {} (tilnærmet)",
            path.iter()
                .map(|t| versioned(t))
                .collect::<Vec<_>>()
                .join(" → ")
        )),
        rounds::Via::Unmapped => Some(format!("fra {from}: ingen oversættelse findes")),
    };
    (name(&target), areas, via)
}

fn merge(into: &mut Figures, f: &Figures) {
    into.sessions_held += f.sessions_held;
    into.attendances += f.attendances;
    into.headcount += f.headcount;
    into.headcount_groups.merge(&f.headcount_groups);
    into.unique.extend(f.unique.iter().cloned());
    into.new.extend(f.new.iter().cloned());
    for (k, (u, n)) in &f.by_age {
        let e = into.by_age.entry(k.clone()).or_default();
        e.0 += u;
        e.1 += n;
    }
    into.volunteers.extend(f.volunteers.iter().cloned());
    into.volunteer_minutes += f.volunteer_minutes;
}

/// The target-group table of seed 004 figure 1: activities by target group, "included" and
/// "exclusively for the group", for the activities of the filter.
pub fn target_group_table(d: &TenantData, filter: &Filter) -> Table {
    let mut included: BTreeMap<String, i64> = BTreeMap::new();
    let mut exclusive: BTreeMap<String, i64> = BTreeMap::new();
    let mut primary: BTreeMap<String, i64> = BTreeMap::new();
    // Headcounts taken by group at the activities where the target group is included.
    let mut counted: BTreeMap<String, HeadcountGroups> = BTreeMap::new();
    let per = per_activity(d, filter);
    let mut n = 0;
    let mut several = 0;
    for a in d.activities.iter().filter(|a| filter.activity(&a.activity)) {
        n += 1;
        let groups = &a.activity.target_groups;
        if groups.len() > 1 {
            several += 1;
        }
        for (g, prio) in groups.iter() {
            if let Some(f) = per.get(&a.id) {
                counted
                    .entry(g.to_string())
                    .or_default()
                    .merge(&f.headcount_groups);
            }
            *included.entry(g.to_string()).or_default() += 1;
            if groups.len() == 1 {
                *exclusive.entry(g.to_string()).or_default() += 1;
            }
            if *prio == Priority::Primary {
                *primary.entry(g.to_string()).or_default() += 1;
            }
        }
    }
    let mut t = Table::new(
        "maalgrupper",
        "Aktiviteter fordelt på målgrupper (jf. figur 1)",
        &[
            "Målgruppe",
            "Aktiviteter hvor målgruppen indgår",
            "Aktiviteter udelukkende for målgruppen",
            "Heraf primær målgruppe",
            "Talte børn",
            "Talte voksne",
        ],
    );
    // The figure's nine groups first, in the catalogue's order, then any other group used.
    let mut order: Vec<(String, String)> = d
        .catalogue
        .target_groups()
        .filter(|g| g.figure1)
        .map(|g| (g.code.clone(), g.name_da.clone()))
        .collect();
    for g in included.keys() {
        if !order.iter().any(|(c, _)| c == g) {
            let name = d
                .catalogue
                .target_group(g)
                .map_or_else(|| g.clone(), |t| t.name_da.clone());
            order.push((g.clone(), name));
        }
    }
    for (code, name) in order {
        t.row(vec![
            Cell::text(name),
            Cell::Int(included.get(&code).copied().unwrap_or(0)),
            Cell::Int(exclusive.get(&code).copied().unwrap_or(0)),
            Cell::Int(primary.get(&code).copied().unwrap_or(0)),
            Cell::Int(counted.get(&code).map_or(0, HeadcountGroups::children)),
            Cell::Int(counted.get(&code).map_or(0, HeadcountGroups::adults)),
        ]);
    }
    t.note = Some(format!(
        "{} i alt; {} har mere end én målgruppe. Talte børn og voksne er fremmøde talt i \
         grupper i perioden ved aktiviteter, hvor målgruppen indgår.",
        super::fmt::count(n, "aktivitet", "aktiviteter"),
        super::fmt::num(several)
    ));
    t
}

/// The board's tables and the headline figure each of their count columns adds up to:
/// (table slug, column, headline label). A column not listed is hidden where small but ties
/// to nothing (its rows overlap: a contact with two topics counts under both).
const BOARD_SUMS: &[(&str, usize, &str)] = &[
    ("omraader", 2, "Gange afholdt"),
    ("omraader", 3, "Fremmøder"),
    ("omraader", 4, "Unikke deltagere"),
    ("aktiviteter", 4, "Gange afholdt"),
    ("aktiviteter", 5, "Fremmøder"),
    ("aktiviteter", 6, "Unikke deltagere"),
    ("deltagere-alder", 1, "Unikke deltagere"),
    ("deltagere-alder", 2, "Nye deltagere"),
    ("henvisninger", 1, "Henvisninger"),
];

/// Counts that are not about people and are never hidden.
const NEVER_HIDDEN: &[&str] = &["Aktiviteter"];

/// Tables laid out as a grid: the last column is the sum of the count columns before it in
/// each row above the "I alt" row, and the "I alt" row is the sum of the rows above it.
/// The board's suppression ties these sums so no hidden cell can be worked out.
pub const GRID_TABLES: &[&str] = &["talt-grupper"];

/// The sums of a grid table (see [`GRID_TABLES`]), from the value index of each cell.
fn grid_sums(
    table: &Table,
    at: &BTreeMap<(usize, usize), usize>,
    sums: &mut Vec<nabo_core::disclosure::Sum>,
) {
    let Some(total_row) = table
        .rows
        .iter()
        .position(|row| matches!(row.first(), Some(Cell::Text(t)) if t == "I alt"))
    else {
        return;
    };
    let last = table.head.len() - 1;
    for r in 0..=total_row {
        if let Some(total) = at.get(&(r, last)) {
            sums.push(nabo_core::disclosure::Sum {
                total: *total,
                parts: (1..last).filter_map(|c| at.get(&(r, c)).copied()).collect(),
            });
        }
    }
    for c in 1..=last {
        if let Some(total) = at.get(&(total_row, c)) {
            sums.push(nabo_core::disclosure::Sum {
                total: *total,
                parts: (0..total_row)
                    .filter_map(|r| at.get(&(r, c)).copied())
                    .collect(),
            });
        }
    }
}

/// Hides the board's small numbers: every count `0 < n < threshold` in the headline and the
/// tables, and as many more as it takes that none of them can be worked out from the rest
/// (each table that adds up to a headline figure gets an "I alt" row showing it, and the
/// sums tie the tables together: [`nabo_core::disclosure::suppress`]).
pub fn suppress_board(headline: &mut [(&'static str, Cell)], tables: &mut [Table], threshold: u32) {
    use nabo_core::disclosure::{Sum, suppress};
    // Every count on the board as one figure; where each is shown.
    #[derive(Clone, Copy)]
    enum At {
        Headline(usize),
        Cell(usize, usize, usize),
    }
    let mut values: Vec<u64> = Vec::new();
    let mut places: Vec<Vec<At>> = Vec::new();
    let mut headline_index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (label, c)) in headline.iter().enumerate() {
        if let Cell::Int(n) = c
            && !NEVER_HIDDEN.contains(label)
        {
            headline_index.insert(label, values.len());
            values.push((*n).max(0) as u64);
            places.push(vec![At::Headline(i)]);
        }
    }
    let mut sums: Vec<Sum> = Vec::new();
    for (t, table) in tables.iter_mut().enumerate() {
        let tied: Vec<(usize, usize)> = BOARD_SUMS
            .iter()
            .filter(|(slug, _, _)| *slug == table.slug)
            .filter_map(|(_, col, label)| headline_index.get(label).map(|h| (*col, *h)))
            .collect();
        let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut at: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (r, row) in table.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Cell::Int(n) = cell
                    && !NEVER_HIDDEN.contains(&table.head[c].as_str())
                {
                    parts.entry(c).or_default().push(values.len());
                    at.insert((r, c), values.len());
                    values.push((*n).max(0) as u64);
                    places.push(vec![At::Cell(t, r, c)]);
                }
            }
        }
        if GRID_TABLES.contains(&table.slug) {
            grid_sums(table, &at, &mut sums);
        }
        if tied.is_empty() || table.rows.is_empty() {
            continue;
        }
        // The "I alt" row: the headline figures again, as the table's totals.
        let width = table.head.len();
        let mut total_row = vec![Cell::Empty; width];
        total_row[0] = Cell::text("I alt");
        let r = table.rows.len();
        for (col, h) in &tied {
            total_row[*col] = Cell::Int(values[*h] as i64);
            places[*h].push(At::Cell(t, r, *col));
            sums.push(Sum {
                total: *h,
                parts: parts.remove(col).unwrap_or_default(),
            });
        }
        table.rows.push(total_row);
    }
    let hidden = suppress(&values, &sums, u64::from(threshold));
    for (i, at) in places.iter().enumerate() {
        if !hidden[i] {
            continue;
        }
        for a in at {
            match *a {
                At::Headline(h) => headline[h].1 = Cell::Suppressed,
                At::Cell(t, r, c) => tables[t].rows[r][c] = Cell::Suppressed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The board hides a small group and, with it, what would give it away through the
    /// grid's totals (issue 12 item 4).
    #[test]
    fn a_small_headcount_group_cannot_be_worked_out_on_the_board() {
        let groups = HeadcountGroups {
            children_residents: 23,
            children_outsiders: 2,
            adults_residents: 11,
            adults_outsiders: 9,
            first_timers: 7,
        };
        let mut tables = [groups.table()];
        suppress_board(&mut [], &mut tables, 5);
        let rows = &tables[0].rows;
        let hidden = |r: usize, c: usize| matches!(rows[r][c], Cell::Suppressed);
        assert!(hidden(0, 2), "the two children from outside");
        // Every row and column of the grid that holds the hidden cell has another hidden
        // cell, so no sum gives it back.
        assert!((1..=3).filter(|c| hidden(0, *c)).count() >= 2, "{rows:?}");
        assert!((0..=2).filter(|r| hidden(*r, 2)).count() >= 2, "{rows:?}");
        assert!(!hidden(3, 3), "first-timers (7) are not small");
    }
}
