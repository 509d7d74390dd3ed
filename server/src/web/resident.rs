//! What resident volunteers log themselves (ADR 0030): the ambassadors' rounds of doorstep
//! conversations by topic and the resident-run food clubs' evenings, on their own page
//! (`/beboerdrevet`) and as the reach of resident-run activities on the overview. Counts
//! only; the log names no one but the volunteer who logged a record.

use axum::extract::{Extension, Query, State};
use axum::response::IntoResponse;
use maud::html;
use nabo_core::docs::resident::ResidentSummary;
use nabo_core::prelude::*;

use super::data::{ResidentLogEntry, TenantData};
use super::overview::{PeriodQuery, cards, filter_form, filter_path};
use super::stats::Filter;
use super::table::{Cell, Table};
use super::{Nav, Viewer, WebResult, export, fmt, page};
use crate::api::AppState;

/// The path of the page.
pub const PATH: &str = "/beboerdrevet";

/// The resident logs in the filter (their activity in the programme and area), each with its
/// activity's name and its counts in the period (records in the filter's area only).
fn in_filter<'a>(
    d: &'a TenantData,
    f: &Filter,
) -> Vec<(&'a ResidentLogEntry, String, ResidentSummary)> {
    let mut out = Vec::new();
    for log in d.resident_logs.iter() {
        let Some(act) = d.activity(log.doc.activity_id()) else {
            continue;
        };
        if !f.activity(&act.activity) {
            continue;
        }
        let mut s = ResidentSummary::default();
        let area = |a: &AreaId| f.area.as_ref().is_none_or(|x| x == a);
        let within = |day: Date| f.from <= day && day <= f.to;
        for r in log.rounds.values() {
            if r.withdrawn || !within(r.date) || !area(&r.area) {
                continue;
            }
            s.rounds += 1;
            for (topic, n) in r.conversations.iter() {
                s.conversations += u64::from(*n);
                *s.by_topic.entry(topic.clone()).or_default() += u64::from(*n);
            }
        }
        for e in log.evenings.values() {
            if e.withdrawn || !within(e.date) || !area(&e.area) {
                continue;
            }
            s.evenings += 1;
            s.came += u64::from(e.came);
            s.first_timers += u64::from(e.first_timers);
        }
        out.push((log, act.activity.name.clone(), s));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn int(n: u64) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The reach of resident-run activities in the period: one row per activity with a resident
/// log, and the total. `None` when no resident log has anything in the period.
pub fn reach_table(d: &TenantData, f: &Filter) -> Option<Table> {
    let logs = in_filter(d, f);
    let mut per_activity: Vec<(String, String, ResidentSummary)> = Vec::new();
    for (log, name, s) in logs {
        let area = d
            .activity(log.doc.activity_id())
            .map(|a| d.area_name(&a.activity.area))
            .unwrap_or_default();
        match per_activity
            .iter_mut()
            .find(|(n, a, _)| *n == name && *a == area)
        {
            Some((_, _, sum)) => sum.add(&s),
            None => per_activity.push((name, area, s)),
        }
    }
    let mut total = ResidentSummary::default();
    per_activity.iter().for_each(|(_, _, s)| total.add(s));
    if total.rounds == 0 && total.evenings == 0 {
        return None;
    }
    let mut t = Table::new(
        "beboerdrevet",
        "Beboerdrevne aktiviteter: ambassadører og madklubber (kun antal)",
        &[
            "Aktivitet",
            "Boligområde",
            "Ambassadørrunder",
            "Dørsamtaler",
            "Madklubaftener",
            "Fremmødte",
            "Heraf første gang",
        ],
    );
    let row = |name: Cell, area: Cell, s: &ResidentSummary| {
        vec![
            name,
            area,
            int(s.rounds),
            int(s.conversations),
            int(s.evenings),
            int(s.came),
            int(s.first_timers),
        ]
    };
    for (name, area, s) in &per_activity {
        if s.rounds == 0 && s.evenings == 0 {
            continue;
        }
        t.row(row(Cell::text(name), Cell::text(area), s));
    }
    t.row(row(Cell::text("I alt"), Cell::Empty, &total));
    t.note = Some(
        "Logget af beboerfrivillige på telefonen. Dørsamtaler tælles pr. emne; en samtale om to emner tæller under begge. Fremmødte ved madklubber tælles uden navne."
            .into(),
    );
    Some(t)
}

/// Doorstep conversations by topic in the period.
fn topics_table(d: &TenantData, f: &Filter) -> Table {
    let mut total = ResidentSummary::default();
    for (_, _, s) in in_filter(d, f) {
        total.add(&s);
    }
    let mut t = Table::new(
        "doersamtaler-emner",
        "Dørsamtaler efter emne",
        &["Emne", "Dørsamtaler"],
    );
    for term in d.catalogue.vocabulary(Vocabulary::AmbassadorTopics) {
        let n = term
            .code
            .parse::<Code>()
            .ok()
            .and_then(|c| total.by_topic.get(&c).copied())
            .unwrap_or(0);
        if n > 0 {
            t.row(vec![Cell::text(term.name_da.clone()), int(n)]);
        }
    }
    t
}

/// `GET /beboerdrevet`: the rounds and evenings of every resident log the viewer may read.
pub async fn show(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
) -> axum::response::Response {
    page_handler(&s, &v, &q).await.into_response()
}

async fn page_handler(s: &AppState, v: &Viewer, q: &PeriodQuery) -> WebResult {
    let d = TenantData::load(s, &v.principal).await?;
    let f = q.filter(&d)?;
    let reach = reach_table(&d, &f);
    let topics = topics_table(&d, &f);
    let mut tables: Vec<&Table> = reach.iter().collect();
    tables.push(&topics);
    if let Some(r) = export(&q.export(), &tables, "beboerdrevet") {
        return r;
    }
    let path = filter_path(PATH, &f, &[]);
    let logs = in_filter(&d, &f);
    let mut total = ResidentSummary::default();
    logs.iter().for_each(|(_, _, s)| total.add(s));
    let topic = |c: &Code| d.term(Vocabulary::AmbassadorTopics, c.as_str());
    let within = |day: Date| f.from <= day && day <= f.to;
    Ok(page(
        v,
        Nav::Records,
        "Beboerdrevne aktiviteter",
        html! {
            (d.flags())
            h1 { "Beboerdrevne aktiviteter" }
            p { "Ambassadørernes runder med dørsamtaler og madklubbernes aftener, som beboerfrivillige selv logger på telefonen. Kun antal – ingen navne på dem, de har talt med." }
            (filter_form(&d, &f, PATH, html! {}))
            p class="periode" { "Periode: " (fmt::date(f.from)) " – " (fmt::date(f.to)) }
            (cards(&[
                ("Ambassadørrunder", int(total.rounds)),
                ("Dørsamtaler", int(total.conversations)),
                ("Madklubaftener", int(total.evenings)),
                ("Fremmødte ved madklubber", int(total.came)),
                ("Heraf første gang", int(total.first_timers)),
            ]))
            @for t in &tables { (t.html(&path)) }
            @for (log, name, _) in &logs {
                section class="beboerlog" {
                    h2 { (name) ", " (crate::meta::term_da(log.doc.term())) }
                    @let rounds: Vec<_> = log.rounds.values().filter(|r| within(r.date)).collect();
                    @let evenings: Vec<_> = log.evenings.values().filter(|e| within(e.date)).collect();
                    @if !rounds.is_empty() {
                        table {
                            caption { "Ambassadørrunder" }
                            thead { tr { th { "Dato" } th { "Boligområde" } th { "Dørsamtaler efter emne" } th { "I alt" } th { "Logget af" } } }
                            tbody {
                                @for r in &rounds {
                                    tr class=[r.withdrawn.then_some("trukket-tilbage")] {
                                        td { (fmt::date(r.date)) }
                                        td { (d.area_name(&r.area)) }
                                        td {
                                            @for (i, (c, n)) in r.conversations.iter().enumerate() {
                                                @if i > 0 { ", " }
                                                (topic(c)) ": " (n)
                                            }
                                        }
                                        td class="tal" { (r.total()) }
                                        td {
                                            (d.by_name(&r.by))
                                            @if r.withdrawn { " (trukket tilbage – tælles ikke)" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !evenings.is_empty() {
                        table {
                            caption { "Madklubaftener" }
                            thead { tr { th { "Dato" } th { "Boligområde" } th { "Fremmødte" } th { "Heraf første gang" } th { "Logget af" } } }
                            tbody {
                                @for e in &evenings {
                                    tr class=[e.withdrawn.then_some("trukket-tilbage")] {
                                        td { (fmt::date(e.date)) }
                                        td { (d.area_name(&e.area)) }
                                        td class="tal" { (e.came) }
                                        td class="tal" { (e.first_timers) }
                                        td {
                                            (d.by_name(&e.by))
                                            @if e.withdrawn { " (trukket tilbage – tælles ikke)" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if rounds.is_empty() && evenings.is_empty() {
                        p { "Intet logget i perioden." }
                    }
                }
            }
            @if logs.is_empty() {
                p { "Ingen beboerdrevne aktiviteter med en log i perioden." }
            }
        },
    ))
}
