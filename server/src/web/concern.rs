//! Concerns about children (underretninger) on the review pages (ADR 0027, issue 11 item 7):
//! `/bekymringer` lists, to central staff only, every outreach contact where a worker recorded
//! that a concern was reported — when, to which authority, the follow-up date and where it
//! stands — and nothing more (Nabo is not the case file). Every view is in the access log, one
//! entry per outreach log shown (and per known person named). Who may see a concern is
//! `nabo_core::concern::may_see`: the reporter (on their phone) and central staff.

use axum::Router;
use axum::extract::{Extension, State};
use axum::routing::get;
use maud::html;
use nabo_core::access_log::{AccessKind, Purpose};
use nabo_core::concern::{Authority, may_see};

use super::data::TenantData;
use super::fmt::date;
use super::{Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new().route("/bekymringer", get(list))
}

/// `GET /bekymringer`.
async fn list(State(s): State<AppState>, Extension(v): Extension<Viewer>) -> WebResult {
    // The pages show every worker's concerns: only central staff (a reporter sees their own
    // on the phone).
    if !may_see(v.principal.role, false) {
        return Err(WebError::Forbidden);
    }
    let d = TenantData::load(&s, &v.principal).await?;
    let mut rows = Vec::new();
    for o in &d.outreach {
        for c in o.view.contacts.values() {
            if let Some(concern) = &c.concern {
                rows.push((o, c, concern));
            }
        }
    }
    rows.sort_by_key(|(_, c, r)| (std::cmp::Reverse(r.reported_on), std::cmp::Reverse(c.at)));
    // One entry per log shown; a known person is logged by their id.
    let mut logs: Vec<_> = rows.iter().map(|(o, _, _)| o.meta.id).collect();
    logs.sort_by_key(ToString::to_string);
    logs.dedup();
    for id in logs {
        let people: Vec<String> = rows
            .iter()
            .filter(|(o, _, _)| o.meta.id == id)
            .filter_map(|(_, c, _)| c.participant.as_ref().map(ToString::to_string))
            .collect();
        crate::access_log::record(
            &s,
            &v.principal,
            AccessKind::Read,
            Purpose::Outreach,
            Some(id),
            people,
        )
        .await?;
    }
    let today = d.today;
    Ok(page(
        &v,
        Nav::Review,
        "Bekymringer om børn",
        html! {
            p { "Kontakter, hvor en medarbejder har noteret, at der er sendt en underretning. Nabo er ikke sagen: selve underretningen og sagen ligger hos myndigheden. Kun den medarbejder, der noterede den, og centrale medarbejdere kan se listen, og hvert opslag logges." }
            @if rows.is_empty() {
                p { "Der er ikke noteret nogen underretninger." }
            } @else {
                table {
                    thead { tr {
                        th { "Kontakt" } th { "Log" } th { "Aldersgruppe" }
                        th { "Underretning sendt" } th { "Til" } th { "Opfølgning" } th { "Status" }
                    } }
                    tbody {
                        @for (o, c, r) in &rows {
                            tr {
                                td { (date(c.at.date_dk())) }
                                td { (d.outreach_title(o)) }
                                td { (c.age_band.as_ref().map_or_else(|| "Ukendt".to_owned(), |b| d.age_band(b.as_str()))) }
                                td { (date(r.reported_on)) }
                                td { (r.to.as_str().parse::<Authority>().map_or(r.to.as_str(), |a| a.da())) }
                                td { @match c.followup { Some(f) => (date(f)), None => "Ingen" } }
                                td { @match c.followup {
                                    Some(f) if f < today => "Opfølgning overskredet",
                                    Some(_) => "Afventer opfølgning",
                                    None => "Underretning sendt",
                                } }
                            }
                        }
                    }
                }
            }
        },
    ))
}
