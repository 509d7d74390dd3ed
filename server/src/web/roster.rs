//! Ending a volunteer's engagement in an activity and taking them off its roster (issue 10
//! item 4): `/vagtplan/{activity}/{volunteer}/afslut` asks first, on a page of its own, saying
//! what will happen; the form ends every active engagement of the volunteer in the activity
//! (on the chosen day) and marks their roster entry inactive, through the core's operations
//! and `Hub::edit` (phones see it); the answer says what happened and offers the undo, which
//! is engaging again (`POST /administration/tilknytning`). Central staff only.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::get;
use maud::{Markup, html};
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::prelude::*;

use super::data::{ActivityEntry, TenantData};
use super::fmt;
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/vagtplan/{activity}/{volunteer}/afslut",
        get(confirm).post(submit),
    )
}

/// The link from a roster row to the page that asks first.
pub fn end_link(activity: &ActivityId, volunteer: &VolunteerId, name: &str) -> Markup {
    html! {
        a class="knap sekundaer" href={"/vagtplan/" (activity.as_str()) "/" (volunteer.as_str()) "/afslut"}
            aria-label={"Afslut " (name) "s tilknytning"} { "Afslut …" }
    }
}

/// The activity and volunteer of the path, for central staff.
async fn target(
    s: &AppState,
    v: &Viewer,
    activity: &str,
    volunteer: &str,
) -> Result<(TenantData, ActivityId, VolunteerId), WebError> {
    v.require_central()?;
    let d = TenantData::load(s, &v.principal).await?;
    let a: ActivityId = activity.parse().map_err(|_| WebError::NotFound)?;
    let vid: VolunteerId = volunteer.parse().map_err(|_| WebError::NotFound)?;
    if d.activity(&a).is_none() || !d.volunteers.contains_key(&vid) {
        return Err(WebError::NotFound);
    }
    Ok((d, a, vid))
}

/// The volunteer's engagements in the activity that have not been ended.
fn active(d: &TenantData, a: &ActivityId, vid: &VolunteerId) -> Vec<(EngagementId, Code, Date)> {
    d.engagements
        .iter()
        .filter(|(_, e)| &e.activity == a && &e.volunteer == vid && e.end.is_none())
        .map(|(id, e)| (id.clone(), e.role.clone(), e.start))
        .collect()
}

async fn confirm(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((activity, volunteer)): Path<(String, String)>,
) -> WebResult {
    let (d, a, vid) = target(&s, &v, &activity, &volunteer).await?;
    let act = d.activity(&a).ok_or(WebError::NotFound)?;
    let name = d.volunteer_name(&vid);
    let engaged = active(&d, &a, &vid);
    let on_roster = act.doc.roster()?.get(&vid).is_some_and(|r| r.active);
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Afslut {name}s tilknytning til {}", act.activity.name),
        html! {
            @if engaged.is_empty() && !on_roster {
                p class="besked" role="status" { (name) " er ikke tilknyttet " (act.activity.name) " og står ikke på vagtplanen." }
                p { a href="/administration#vagtplan" { "Tilbage til administrationen" } }
            } @else {
                p { "Når du afslutter:" }
                ul {
                    @for (_, role, start) in &engaged {
                        li { "Tilknytningen som " (d.term(Vocabulary::VolunteerRoles, role.as_str())) " (fra " (fmt::date(*start)) ") slutter den dag, du vælger." }
                    }
                    @if on_roster { li { (name) " tages af aktivitetens vagtplan og kan ikke længere tilmelde sig eller tjekke ind." } }
                    li { "Vagter og timer, der allerede er registreret, bliver stående." }
                }
                p { "Du kan fortryde ved at tilknytte " (name) " igen." }
                form method="post" class="stak" {
                    label { "Sidste dag" input type="date" name="slut" required value=(d.today.to_string()); }
                    button type="submit" class="fare" { "Afslut tilknytningen" }
                    a href="/administration#vagtplan" { "Annullér" }
                }
            }
        },
    ))
}

async fn submit(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((activity, volunteer)): Path<(String, String)>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let (d, a, vid) = target(&s, &v, &activity, &volunteer).await?;
    let end = form.date("slut", "Sidste dag")?;
    let act: &ActivityEntry = d.activity(&a).ok_or(WebError::NotFound)?;
    let engaged = active(&d, &a, &vid);
    if let Some((_, _, start)) = engaged.iter().find(|(_, _, start)| end < *start) {
        return Err(WebError::BadRequest(format!(
            "«Sidste dag» kan ikke ligge før tilknytningen begyndte ({}).",
            fmt::date(*start)
        )));
    }
    let by = v.author();
    if !engaged.is_empty() {
        let meta = d.volunteers_meta.as_ref().ok_or(WebError::NotFound)?;
        let ids: Vec<EngagementId> = engaged.iter().map(|(id, _, _)| id.clone()).collect();
        s.hub
            .edit(meta, &v.principal, |doc: &mut VolunteersDoc| {
                for id in &ids {
                    doc.end_engagement(&by, id, end)?;
                }
                Ok(())
            })
            .await?;
    }
    let entry = act.doc.roster()?.remove(&vid);
    let role = entry
        .as_ref()
        .map(|r| r.role.clone())
        .or_else(|| engaged.first().map(|(_, r, _)| r.clone()));
    if let Some(mut r) = entry.filter(|r| r.active) {
        r.active = false;
        let cat = &d.catalogue;
        s.hub
            .edit(&act.meta, &v.principal, |doc: &mut ActivityDoc| {
                doc.set_roster(&by, cat, &vid, r)?;
                Ok(())
            })
            .await?;
    }
    let name = d.volunteer_name(&vid);
    Ok(page(
        &v,
        Nav::Admin,
        "Tilknytningen er afsluttet",
        html! {
            p class="besked" role="status" {
                (name) "s tilknytning til " (act.activity.name) " er afsluttet med sidste dag " (fmt::date(end))
                ", og " (name) " er taget af vagtplanen."
            }
            @if let Some(role) = role {
                form method="post" action="/administration/tilknytning" class="stak" {
                    input type="hidden" name="frivillig" value=(vid.as_str());
                    input type="hidden" name="aktivitet" value=(a.as_str());
                    input type="hidden" name="rolle" value=(role.as_str());
                    input type="hidden" name="fra" value=(d.today.to_string());
                    button type="submit" class="sekundaer" { "Fortryd: tilknyt " (name) " igen fra i dag" }
                }
            }
            p { a href="/administration#vagtplan" { "Tilbage til administrationen" } }
        },
    ))
}
