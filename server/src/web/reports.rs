//! Reports: the goal-fulfilment (målopfyldelse) report per main activity per intervention
//! area, the target-group table of seed 004 figure 1, and the board view with small numbers
//! suppressed. Every table exports as CSV and XLSX.

use axum::extract::{Extension, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
#[allow(unused_imports)]
use nabo_core::model::activity::{Activity, Goal, IndicatorDef};
use nabo_core::model::activity::{GoalAssessment, GoalReport, Measurement};
use nabo_core::prelude::*;

use super::data::{ActivityEntry, TenantData};
use super::fmt::{self, Da};
use super::overview::{PeriodQuery, cards, filter_form, filter_path};
use super::stats::{self, Figures, Filter};
use super::table::{Cell, Table};
use super::{FormFields, Nav, Viewer, WebError, WebResult, back_to, export, page};
use crate::api::AppState;

/// `GET /rapporter`.
pub async fn index(Extension(v): Extension<Viewer>) -> WebResult {
    Ok(page(
        &v,
        Nav::Reports,
        "Rapporter",
        html! {
            ul class="menu" {
                li { a href="/rapporter/maalopfyldelse" { "Målopfyldelse / selvevaluering" } " – pr. hovedaktivitet pr. indsatsområde, med målstatus, målinger og årsager til manglende målopfyldelse." }
                li { a href="/rapporter/maalgrupper" { "Målgrupper" } " – aktiviteter fordelt på målgrupper (figur 1) for en periode og et program." }
                li { a href="/rapporter/bestyrelse" { "Bestyrelsens overblik" } " – samlede tal pr. område uden personoplysninger; små tal skjules." }
                li { a href="/oversigt" { "Oversigt" } " – aktiviteter, fremmøde, frivillige og opsøgende arbejde." }
            }
        },
    ))
}

/// The report's word for an indicator Nabo does not compute.
const ENTERED_BY_HAND: &str = "indtastes";

/// A computed library indicator's value for an activity in a period, from Nabo's own
/// records; `None` for an indicator entered by hand.
fn computed(code: &str, f: &Figures, r: &stats::Reach) -> Option<f64> {
    Some(match code {
        "attendance.sessions-held" => f.sessions_held as f64,
        "attendance.unique-participants" => f.unique.len() as f64,
        "attendance.new-participants" => f.new.len() as f64,
        "attendance.total-attendances" => f.attendances as f64,
        "attendance.headcount-total" => f.headcount as f64,
        "volunteers.active" => f.volunteers.len() as f64,
        "volunteers.new" => r.new_volunteers as f64,
        "volunteers.hours" => f.volunteer_minutes as f64 / 60.0,
        "outreach.contacts" => r.contacts as f64,
        "outreach.contacts-known-persons" => r.known_persons as f64,
        "referrals.made" => r.referrals as f64,
        "referrals.completed" => r.completed as f64,
        "referrals.bisidder" => r.bisidder as f64,
        "observations.reported" => r.observations as f64,
        "network.meetings" => r.network_meetings as f64,
        _ => return None,
    })
}

/// A goal's or indicator's text, saying from when it is retired.
fn retired_text(text: &str, retired: Option<Date>) -> String {
    match retired {
        Some(r) => format!("{text} (udgået fra {})", fmt::date(r)),
        None => text.to_owned(),
    }
}

/// The report a period shows: the latest one overlapping it.
fn shown_report<'r>(
    reports: &'r std::collections::BTreeMap<ReportId, GoalReport>,
    filter: &Filter,
) -> Option<(&'r ReportId, &'r GoalReport)> {
    reports
        .iter()
        .filter(|(_, r)| r.from <= filter.to && r.to >= filter.from)
        .max_by_key(|(_, r)| r.to)
}

/// The report tables of one activity.
pub fn goal_tables(
    d: &TenantData,
    a: &ActivityEntry,
    networks: &[super::networks::NetworkEntry],
    filter: &Filter,
) -> Result<Vec<Table>, WebError> {
    let goals = a.doc.goals()?;
    let indicators = a.doc.indicators()?;
    let measurements = a.doc.measurements()?;
    let reports = a.doc.reports()?;
    let figures = stats::per_activity(d, filter)
        .remove(&a.id)
        .unwrap_or_default();
    let reach = stats::reach(d, a, networks, filter);
    let report = shown_report(&reports, filter).map(|(_, r)| r);

    let mut goal_table = Table::new(
        "maal",
        "Mål og målopfyldelse",
        &[
            "Trin",
            "Niveau",
            "Mål",
            "Indikatorer",
            "Status",
            "Årsager til manglende opfyldelse",
            "Kommentar",
        ],
    );
    // Goals and indicators live in the period (retired ones stay in the reports of periods
    // before their retirement, ADR 0026).
    let mut sorted: Vec<(&GoalId, &Goal)> = goals
        .iter()
        .filter(|(_, g)| g.live_in(filter.from))
        .collect();
    sorted.sort_by_key(|(_, g)| (g.step, g.level));
    for (gid, g) in sorted {
        let assessment = report.and_then(|r| r.goals.get(gid));
        goal_table.row(vec![
            Cell::Int(i64::from(g.step)),
            Cell::text(g.level.da()),
            Cell::text(retired_text(&g.text, g.retired)),
            Cell::text(
                g.indicators
                    .iter()
                    .filter_map(|i| indicators.get(i))
                    .map(|i| i.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::text(assessment.map_or("ikke vurderet", |x| x.status.da())),
            Cell::text(
                assessment
                    .map(|x| {
                        x.reasons
                            .iter()
                            .map(|r| d.term(Vocabulary::NonFulfilmentReasons, r.as_str()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default(),
            ),
            Cell::text(assessment.map(|x| x.comment.clone()).unwrap_or_default()),
        ]);
    }

    let mut ind_table = Table::new(
        "indikatorer",
        "Indikatorer og målinger",
        &[
            "Indikator",
            "Kilde",
            "Udgangspunkt",
            "Mål",
            "Målt i perioden",
            "Beregnet af Nabo",
        ],
    );
    for (iid, i) in indicators.iter().filter(|(_, i)| i.live_in(filter.from)) {
        let measured: Vec<String> = measurements
            .values()
            .filter(|m| &m.indicator == iid && m.from <= filter.to && m.to >= filter.from)
            .map(|m| {
                format!(
                    "{} ({}–{})",
                    fmt::dec(m.value, 1),
                    fmt::date_short(m.from),
                    fmt::date_short(m.to)
                )
            })
            .collect();
        let calc = i
            .library
            .as_ref()
            .and_then(|c| computed(c.as_str(), &figures, &reach));
        ind_table.row(vec![
            Cell::text(retired_text(&i.name, i.retired)),
            Cell::text(i.source.da()),
            i.baseline.map_or(Cell::Empty, |b| Cell::Dec(b, 1)),
            i.target.map_or(Cell::Empty, |t| Cell::Dec(t, 1)),
            Cell::text(measured.join("; ")),
            calc.map_or_else(|| Cell::text(ENTERED_BY_HAND), |c| Cell::Dec(c, 1)),
        ]);
    }
    ind_table.note = Some(format!(
        "«{ENTERED_BY_HAND}»: indikatoren kan ikke beregnes ud fra Nabos registreringer og \
         måles uden for Nabo (spørgeskema, registerdata, boligorganisationens eller \
         kommunens tal). Opsøgende kontakter og observationer er områdets, registreret under \
         aktivitetens type eller uden type."
    ));
    let mut out = vec![goal_table, ind_table];
    if let Some(r) = report {
        let mut narrative = Table::new("vurdering", "Samlet vurdering", &["Felt", "Indhold"]);
        narrative.row(vec![
            Cell::text("Periode"),
            Cell::text(format!("{} – {}", fmt::date(r.from), fmt::date(r.to))),
        ]);
        narrative.row(vec![
            Cell::text("Indsatsområde"),
            Cell::text(
                d.catalogue
                    .area(a.activity.taxonomy.as_str(), r.intervention_area.as_str())
                    .map_or_else(|| r.intervention_area.to_string(), |x| x.name_da.clone()),
            ),
        ]);
        narrative.row(vec![
            Cell::text("Vurdering"),
            Cell::text(match r.anonymised {
                Some(on) => format!(
                    "(teksten er fjernet {} efter opbevaringsfristen)",
                    fmt::date(on)
                ),
                None => r.narrative.clone(),
            }),
        ]);
        narrative.row(vec![
            Cell::text("Succestemaer"),
            Cell::text(
                r.success_themes
                    .iter()
                    .map(|t| d.term(Vocabulary::SuccessThemes, t.as_str()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ]);
        narrative.row(vec![
            Cell::text("Udarbejdet af"),
            Cell::text(d.by_name(&r.by)),
        ]);
        out.push(narrative);
    }
    Ok(out)
}

/// `GET /rapporter/maalopfyldelse?aktivitet=`: per main activity per intervention area.
pub async fn goals(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
    Query(n): Query<super::theories::NoticeQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let f = q.filter(&d)?;
    let mains: Vec<&ActivityEntry> = d
        .activities
        .iter()
        .filter(|a| a.activity.main_activity && f.activity(&a.activity))
        .collect();
    let chosen = match q.aktivitet.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(
            d.activities
                .iter()
                .find(|a| a.id.as_str() == id)
                .ok_or(WebError::NotFound)?,
        ),
        None => mains.first().copied(),
    };
    let networks = super::networks::load_networks(&s, &v).await?;
    let tables = match chosen {
        Some(a) => goal_tables(&d, a, &networks, &f)?,
        None => Vec::new(),
    };
    let extra: Vec<(&str, &str)> = chosen
        .map(|a| vec![("aktivitet", a.id.as_str())])
        .unwrap_or_default();
    let path = filter_path("/rapporter/maalopfyldelse", &f, &extra);
    // Central staff see when the shown report's text goes, and hold it (ADR 0024).
    let retention = match chosen {
        Some(a) if v.is_central() => retention_section(&s, &v, a, &f, &path).await?,
        _ => html! {},
    };
    let refs: Vec<&Table> = tables.iter().collect();
    if let Some(r) = export(&q.export(), &refs, "maalopfyldelse") {
        return r;
    }
    Ok(page(
        &v,
        Nav::Reports,
        "Målopfyldelse",
        html! {
            (filter_form(&d, &f, "/rapporter/maalopfyldelse", html! {
                label { "Hovedaktivitet"
                    select name="aktivitet" {
                        @for a in &mains {
                            option value=(a.id.as_str()) selected[chosen.is_some_and(|c| c.id == a.id)] {
                                (d.intervention_area(&a.activity).1) ": " (a.activity.name)
                            }
                        }
                    }
                }
            }))
            @match chosen {
                None => p { "Ingen hovedaktiviteter i perioden." },
                Some(a) => {
                    (super::theories::notice(&n, a)?)
                    h2 { (a.activity.name) }
                    p { (d.intervention_area(&a.activity).1) " · " (d.area_name(&a.activity.area)) " · " (fmt::date(f.from)) " – " (fmt::date(f.to)) }
                    @for t in &tables { (t.html(&path)) }
                    (retention)
                    (measurement_form(&d, a, &f)?)
                    (report_form(&d, a, &f)?)
                    (super::theories::section(a)?)
                }
            }
        },
    ))
}

/// The shown report's retention (issue 11 item 4, central staff): when its text is blanked
/// (or the report deleted), or that it was; a legal hold on the report (keyed by its id) set
/// and lifted through the extract page's forms, back to this page.
async fn retention_section(
    s: &AppState,
    v: &Viewer,
    a: &ActivityEntry,
    f: &Filter,
    path: &str,
) -> Result<Markup, WebError> {
    let reports = a.doc.reports()?;
    let Some((rid, r)) = shown_report(&reports, f) else {
        return Ok(html! {});
    };
    let tenant = &v.principal.tenant;
    let class = crate::retention::settings(s.storage.as_ref(), tenant)
        .await?
        .retention
        .class(nabo_core::retention::RecordKind::Report);
    let deadline = nabo_core::retention::deadline(class, nabo_core::retention::report_ended(r));
    let holds = s.storage.holds(tenant).await?;
    let in_force = |subject: &str| {
        holds
            .iter()
            .find(|h| h.subject == subject && h.released_at.is_none())
    };
    let back = format!("{path}#opbevaring");
    let reason = |code: &str| {
        code.parse::<nabo_core::retention::HoldReason>()
            .map_or_else(|_| code.to_owned(), |r| r.da().to_owned())
    };
    let what = match class.then {
        nabo_core::retention::Disposal::Anonymise => {
            "fjernes teksten (samlet vurdering og kommentarer til målene), mens status, årsager og målinger bevares"
        }
        nabo_core::retention::Disposal::Delete => "slettes hele rapporten",
    };
    Ok(html! {
        section id="opbevaring" {
            h3 { "Opbevaring af rapporten" }
            @if let Some(on) = r.anonymised {
                p { "Rapportens tekst blev fjernet " (fmt::date(on)) ", da opbevaringsfristen var udløbet. Status, årsager og målinger er bevaret." }
            } @else {
                p { "Den " (fmt::date(deadline)) " – " (class.months) " måneder efter periodens udløb – " (what) ", medmindre der er et retligt tilbagehold." }
                @if let Some(act) = a.meta.activity.as_deref() {
                    @if let Some(h) = in_force(act) {
                        p { "Der er tilbagehold på alle aktivitetens rapporter siden " (fmt::datetime(Timestamp(h.set_at))) ": " (reason(&h.reason)) "." }
                        form method="post" action="/indsigt/tilbagehold/ophaev" {
                            input type="hidden" name="emne" value=(act);
                            input type="hidden" name="tilbage" value=(back);
                            button type="submit" { "Ophæv tilbageholdet på alle aktivitetens rapporter" }
                        }
                    } @else {
                        form method="post" action="/indsigt/tilbagehold" {
                            input type="hidden" name="emne" value=(act);
                            input type="hidden" name="tilbage" value=(back);
                            label for="aktivitet-aarsag" { "Årsag til tilbagehold på alle aktivitetens rapporter" }
                            select id="aktivitet-aarsag" name="aarsag" required {
                                option value="" { "Vælg årsag" }
                                @for x in nabo_core::retention::HoldReason::ALL { option value=(x.code()) { (x.da()) } }
                            }
                            button type="submit" { "Sæt tilbagehold på alle aktivitetens rapporter" }
                        }
                    }
                }
                @if let Some(h) = in_force(rid.as_str()) {
                    p { "Der er tilbagehold på rapporten siden " (fmt::datetime(Timestamp(h.set_at))) ": " (reason(&h.reason)) ". Fristen er sat ud af kraft, til tilbageholdet ophæves." }
                    form method="post" action="/indsigt/tilbagehold/ophaev" {
                        input type="hidden" name="emne" value=(rid.as_str());
                        input type="hidden" name="tilbage" value=(back);
                        button type="submit" { "Ophæv tilbageholdet på rapporten" }
                    }
                } @else {
                    form method="post" action="/indsigt/tilbagehold" {
                        input type="hidden" name="emne" value=(rid.as_str());
                        input type="hidden" name="tilbage" value=(back);
                        label for="rapport-aarsag" { "Årsag til tilbagehold" }
                        select id="rapport-aarsag" name="aarsag" required {
                            option value="" { "Vælg årsag" }
                            @for x in nabo_core::retention::HoldReason::ALL { option value=(x.code()) { (x.da()) } }
                        }
                        button type="submit" { "Sæt tilbagehold på rapporten" }
                    }
                }
            }
        }
    })
}

fn measurement_form(d: &TenantData, a: &ActivityEntry, f: &Filter) -> Result<Markup, WebError> {
    let indicators = a.doc.indicators()?;
    let _ = d;
    Ok(html! {
        details class="formular" {
            summary { "Registrér en måling" }
            form method="post" action="/rapporter/maaling" class="stak" {
                input type="hidden" name="aktivitet" value=(a.id.as_str());
                label { "Indikator" select name="indikator" required { @for (id, i) in indicators.iter().filter(|(_, i)| i.retired.is_none()) { option value=(id.as_str()) { (i.name) } } } }
                label { "Fra" input type="date" name="fra" required value=(f.from.to_string()); }
                label { "Til" input type="date" name="til" required value=(f.to.to_string()); }
                label { "Værdi" input name="vaerdi" required inputmode="decimal" placeholder="fx 18 eller 12,5"; }
                label { "Kilde / dokumentation" input name="kilde" maxlength="200"; }
                button type="submit" { "Gem måling" }
            }
        }
    })
}

fn report_form(d: &TenantData, a: &ActivityEntry, f: &Filter) -> Result<Markup, WebError> {
    let goals = a.doc.goals()?;
    let mut sorted: Vec<(&GoalId, &Goal)> =
        goals.iter().filter(|(_, g)| g.live_in(f.from)).collect();
    sorted.sort_by_key(|(_, g)| (g.step, g.level));
    let reasons = d.catalogue.vocabulary(Vocabulary::NonFulfilmentReasons);
    let themes = d.catalogue.vocabulary(Vocabulary::SuccessThemes);
    Ok(html! {
        details class="formular" id="vurdering" {
            summary { "Udarbejd målopfyldelse for perioden" }
            form method="post" action="/rapporter/maalopfyldelse" class="stak" {
                input type="hidden" name="aktivitet" value=(a.id.as_str());
                input type="hidden" name="fra" value=(f.from.to_string());
                input type="hidden" name="til" value=(f.to.to_string());
                @for (gid, g) in &sorted {
                    fieldset {
                        legend { "Trin " (g.step) ", " (g.level.da()) ": " (g.text) }
                        label { "Status"
                            select name={"status-" (gid.as_str())} {
                                @for st in GoalStatus::ALL { option value=(st.code()) { (st.da()) } }
                            }
                        }
                        p class="note" { "Årsager, hvis målet ikke er (helt) opfyldt:" }
                        @for r in reasons.iter().filter(|r| !r.retired) {
                            label class="valg" { input type="checkbox" name={"aarsag-" (gid.as_str())} value=(r.code); " " (r.name_da) }
                        }
                        label { "Kommentar" input name={"kommentar-" (gid.as_str())} maxlength="4000"; }
                    }
                }
                label { "Samlet vurdering" textarea name="vurdering" rows="3" maxlength="4000" {} }
                fieldset {
                    legend { "Succestemaer" }
                    @for t in themes.iter().filter(|t| !t.retired) {
                        label class="valg" { input type="checkbox" name="tema" value=(t.code); " " (t.name_da) }
                    }
                }
                button type="submit" { "Gem målopfyldelse" }
            }
        }
    })
}

/// `POST /rapporter/maalopfyldelse`: writes the goal-fulfilment report of an activity for a
/// period: a status per goal, reason codes for goals not (fully) met, narrative and themes.
pub async fn write_report(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let id: ActivityId = form
        .one("aktivitet")
        .and_then(|a| a.parse().ok())
        .ok_or(WebError::NotFound)?;
    let a = d.activity(&id).ok_or(WebError::NotFound)?;
    let from = form.date("fra", "Fra")?;
    let to = form.date("til", "Til")?;
    let goals = a.doc.goals()?;
    let mut assessed = IdMap::new();
    for gid in goals
        .iter()
        .filter(|(_, g)| g.live_in(from))
        .map(|(id, _)| id)
    {
        let status: GoalStatus = form
            .one(&format!("status-{gid}"))
            .and_then(|st| st.parse().ok())
            .ok_or_else(|| WebError::BadRequest("Vælg en status for hvert mål.".into()))?;
        let reasons: Set<Code> = form
            .all(&format!("aarsag-{gid}"))
            .filter_map(|r| r.parse().ok())
            .collect();
        assessed.insert(
            gid.clone(),
            GoalAssessment {
                status,
                measurements: Set::new(),
                reasons,
                comment: form
                    .one(&format!("kommentar-{gid}"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            },
        );
    }
    let themes: Set<Code> = form.all("tema").filter_map(|t| t.parse().ok()).collect();
    let (area, _) = d.intervention_area(&a.activity);
    let area: Code = area.parse().map_err(|_| WebError::Internal)?;
    let by = v.author();
    let cat = &d.catalogue;
    let report = GoalReport {
        from,
        to,
        intervention_area: area,
        goals: assessed,
        narrative: form.one("vurdering").unwrap_or_default().trim().to_owned(),
        success_themes: themes,
        state: ReportState::Submitted,
        by: by.by.clone(),
        anonymised: None,
    };
    // The same activity and period replace the earlier report instead of adding another.
    let existing = a
        .doc
        .reports()?
        .into_iter()
        .find(|(_, r)| r.from == from && r.to == to);
    // A report whose text went at the end of its retention takes no text again (the core
    // refuses it too); its statuses and reasons may still be corrected.
    if existing
        .as_ref()
        .is_some_and(|(_, r)| r.anonymised.is_some())
        && report.has_text()
    {
        return Err(WebError::BadRequest(
            "Rapportens tekst er fjernet efter opbevaringsfristen og kan ikke skrives igen: lad «Samlet vurdering» og kommentarerne være tomme.".into(),
        ));
    }
    let existing = existing.map(|(id, _)| id);
    s.hub
        .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
            act.write_report(&by, cat, existing, report)?;
            Ok(())
        })
        .await?;
    Ok(back_to(&format!(
        "/rapporter/maalopfyldelse?aktivitet={}&fra={from}&til={to}",
        id.as_str()
    )))
}

/// `POST /rapporter/maaling`: records a measurement of one of an activity's indicators.
pub async fn record_measurement(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let id: ActivityId = form
        .one("aktivitet")
        .and_then(|a| a.parse().ok())
        .ok_or(WebError::NotFound)?;
    let a = d.activity(&id).ok_or(WebError::NotFound)?;
    let indicator: IndicatorId = form
        .one("indikator")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg en indikator.".into()))?;
    let value = super::theories::decimal(&form, "vaerdi", "Værdi")?
        .ok_or_else(|| WebError::BadRequest("«Værdi» skal udfyldes.".into()))?;
    let from = form.date("fra", "Fra")?;
    let to = form.date("til", "Til")?;
    let by = v.author();
    let m = Measurement {
        indicator,
        from,
        to,
        value,
        evidence: form.one("kilde").unwrap_or_default().trim().to_owned(),
        by: by.by.clone(),
    };
    s.hub
        .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
            act.record_measurement(&by, m)?;
            Ok(())
        })
        .await?;
    Ok(back_to(&format!(
        "/rapporter/maalopfyldelse?aktivitet={}",
        id.as_str()
    )))
}

/// `GET /rapporter/maalgrupper`: activities by target group (seed 004 figure 1).
pub async fn target_groups(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let f = q.filter(&d)?;
    let t = stats::target_group_table(&d, &f);
    if let Some(r) = export(&q.export(), &[&t], "maalgrupper") {
        return r;
    }
    let path = filter_path("/rapporter/maalgrupper", &f, &[]);
    Ok(page(
        &v,
        Nav::Reports,
        "Målgrupper",
        html! {
            (d.flags())
            (filter_form(&d, &f, "/rapporter/maalgrupper", html! {}))
            (t.html(&path))
        },
    ))
}

/// The board's figures for a period: headline and tables, small numbers hidden so that none
/// can be worked out from the rest (the tenant's threshold), without personal data.
async fn board_figures(
    s: &AppState,
    v: &Viewer,
    q: &PeriodQuery,
) -> Result<BoardFigures, WebError> {
    // Board members may not read the documents themselves; the relay aggregates for them.
    let d = TenantData::load_all(s, &v.principal.tenant).await?;
    let f = q.filter(&d)?;
    let (headline, shown) = board_tables(&d, &f);
    Ok((d, f, headline, shown))
}

/// The tenant's data, the period, the headline and the tables of the board.
type BoardFigures = (TenantData, Filter, Vec<(&'static str, Cell)>, Vec<Table>);

fn board_tables(d: &TenantData, f: &Filter) -> (Vec<(&'static str, Cell)>, Vec<Table>) {
    let (mut headline, tables) = stats::overview(d, f);
    let mut per_area = Table::new(
        "omraader",
        "Pr. boligområde",
        &[
            "Boligområde",
            "Aktiviteter",
            "Gange afholdt",
            "Fremmøder",
            "Unikke deltagere",
        ],
    );
    for (id, area) in &d.areas {
        let af = Filter {
            area: Some(id.clone()),
            ..f.clone()
        };
        let per = stats::per_activity(d, &af);
        let mut total = Figures::default();
        for x in per.values() {
            total.sessions_held += x.sessions_held;
            total.attendances += x.attendances;
            total.unique.extend(x.unique.iter().cloned());
        }
        per_area.row(vec![
            Cell::text(&area.name),
            Cell::Int(per.len() as i64),
            Cell::Int(total.sessions_held),
            Cell::Int(total.attendances),
            Cell::Int(total.unique.len() as i64),
        ]);
    }
    // The board sees aggregates only: tables by area, intervention area and age band.
    let mut shown: Vec<Table> = vec![per_area];
    shown.extend(tables.into_iter().filter(|t| t.slug != "frivillige"));
    stats::suppress_board(&mut headline, &mut shown, d.settings.small_cell_threshold);
    (headline, shown)
}

fn suppression_note(d: &TenantData) -> String {
    format!(
        "Samlede tal uden personoplysninger. Tal fra 1 til {} vises som «skjult», og så mange andre tal skjules med, at de skjulte ikke kan regnes ud fra totalerne.",
        d.settings.small_cell_threshold.saturating_sub(1)
    )
}

/// `GET /rapporter/bestyrelse`: the board's aggregated view, per area, without personal data
/// and with small numbers hidden (the tenant's threshold, complementary suppression).
pub async fn board(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
) -> WebResult {
    let (d, f, headline, shown) = board_figures(&s, &v, &q).await?;
    let refs: Vec<&Table> = shown.iter().collect();
    if let Some(r) = export(&q.export(), &refs, "bestyrelse") {
        return r;
    }
    let path = filter_path("/rapporter/bestyrelse", &f, &[]);
    let print = filter_path("/rapporter/bestyrelse/udskrift", &f, &[]);
    Ok(page(
        &v,
        Nav::Reports,
        "Bestyrelsens overblik",
        html! {
            (d.flags())
            (filter_form(&d, &f, "/rapporter/bestyrelse", html! {}))
            p class="note" { (suppression_note(&d)) }
            p { a id="udskrift" href=(print) { "Bestyrelsespakke til udskrift" } }
            (cards(&headline))
            @for t in &shown { (t.html(&path)) }
        },
    ))
}

/// `GET /rapporter/bestyrelse/udskrift`: the board pack for a meeting — the same figures as
/// the board view, per area and per intervention area, laid out for paper (`@media print`;
/// the browser's "Gem som PDF" makes the PDF, see ADR 0020).
pub async fn board_pack(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
) -> WebResult {
    let (d, f, headline, shown) = board_figures(&s, &v, &q).await?;
    let tenant = if d.settings.name.is_empty() {
        v.principal.tenant.to_string()
    } else {
        d.settings.name.clone()
    };
    let title = "Bestyrelsespakke";
    Ok(super::bare(
        title,
        html! {
            main id="indhold" class="pakke" {
                p class="skjul-udskrift" {
                    a href=(filter_path("/rapporter/bestyrelse", &f, &[])) { "← Bestyrelsens overblik" }
                    " · Udskriv med Ctrl+P (eller Gem som PDF)."
                }
                header class="pakke-top" {
                    h1 { (title) ": " (tenant) }
                    p { "Perioden " (fmt::date(f.from)) " – " (fmt::date(f.to)) ". Udskrevet " (fmt::datetime(v.clock.now())) "." }
                    p class="note" { (suppression_note(&d)) }
                }
                (cards(&headline))
                @for t in &shown {
                    section class="pakke-tabel" id=(t.slug) {
                        h2 { (t.title) }
                        (t.plain())
                    }
                }
            }
        },
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every library indicator marked `computed` is computed from the records, and every
    /// other one is said to be entered by hand (issue 12 item 11).
    #[test]
    fn the_report_computes_every_computed_library_indicator_and_no_other() {
        let cat = nabo_core::catalogue::Catalogue::builtin().expect("catalogue");
        let (f, r) = (Figures::default(), stats::Reach::default());
        let mut n = 0;
        for i in cat.indicators() {
            assert_eq!(
                computed(&i.code, &f, &r).is_some(),
                i.computed,
                "{}: computed = {} in the library",
                i.code,
                i.computed
            );
            n += usize::from(i.computed);
        }
        assert_eq!(n, 15, "the library's computed indicators");
    }
}
