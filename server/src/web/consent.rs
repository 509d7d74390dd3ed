//! A person's legal basis and consent on the review pages (ADR 0027): `/samtykke?emne=<id>`
//! shows, for every register and outreach log the person is in, the basis, the consent (who
//! gave it, relation, scope, date, channel, partners) and what it allows today; central staff
//! withdraw a consent there (`POST /samtykke/tilbagetraek`), which takes effect from that day
//! (GDPR art. 7(3)), and are offered erasure next. Every view and withdrawal is in the access
//! log (purpose `subject-request`).

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::access_log::{AccessKind, Purpose};
use nabo_core::consent::{Use, channel_da, covers, may_be_named};
use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::erasure::ErasureReason;
use nabo_core::ids::ParticipantId;
use nabo_core::model::LegalBasis;
use nabo_core::model::outreach::Consent;
use nabo_core::retention::WithdrawalAction;
use serde::Deserialize;

use super::data::TenantData;
use super::fmt::date;
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/samtykke", get(show))
        .route("/samtykke/tilbagetraek", post(withdraw))
}

#[derive(Deserialize)]
pub struct Subject {
    emne: String,
}

/// The Danish name of a legal basis.
pub fn basis_da(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "Samtykke",
        LegalBasis::PublicTask => "Myndighedsopgave (offentlig opgave)",
        LegalBasis::LegitimateInterest => "Legitim interesse",
        LegalBasis::LegalObligation => "Retlig forpligtelse (lovhjemmel)",
        LegalBasis::Contract => "Aftale",
    }
}

/// Where the person is, with the basis and consent there.
struct Place {
    title: String,
    document: nabo_core::document::DocumentId,
    basis: LegalBasis,
    consent: Option<Consent>,
    /// For a register: whether the roll call may name the child today.
    named: Option<bool>,
}

fn places(d: &TenantData, pid: &ParticipantId) -> Vec<Place> {
    let mut out = Vec::new();
    for reg in &d.registers {
        let Some(p) = reg.view.participants.get(pid) else {
            continue;
        };
        let Some(act) = d.activity(reg.doc.activity_id()) else {
            continue;
        };
        let a = &act.activity;
        out.push(Place {
            title: format!("Fremmøde: {}", a.name),
            document: reg.meta.id,
            basis: if p.current.consent.is_some() {
                LegalBasis::Consent
            } else {
                a.legal_basis
            },
            named: Some(may_be_named(
                a.attendance_mode,
                a.legal_basis,
                p.current.consent.as_ref(),
                d.today,
            )),
            consent: p.current.consent.clone(),
        });
    }
    for o in &d.outreach {
        if let Some(p) = o.view.people.get(pid) {
            out.push(Place {
                title: d.outreach_title(o),
                document: o.meta.id,
                basis: p.basis,
                consent: p.consent.clone(),
                named: None,
            });
        }
    }
    out
}

fn allowed(d: &TenantData, place: &Place) -> Markup {
    let ok = |u: Use| covers(place.basis, place.consent.as_ref(), u, d.today).is_ok();
    let yes_no = |b: bool| if b { "Ja" } else { "Nej" };
    html! {
        ul {
            @if let Some(n) = place.named {
                li { "Må navngives på fremmødelisten: " strong { (yes_no(n)) } }
            } @else {
                li { "Må følges som kendt person: " strong { (yes_no(ok(Use::FollowUp))) } }
            }
            li { "Portrætfotos: " strong { (yes_no(ok(Use::Photos))) } }
            li { "Oplysninger må deles med samarbejdspartner: " strong { (yes_no(ok(Use::ShareWithPartners))) } }
        }
    }
}

fn consent_details(d: &TenantData, c: &Consent) -> Markup {
    html! {
        table {
            tr { th { "Givet" } td { (date(c.given_on)) } }
            tr { th { "Givet af" } td {
                @if c.by_guardian {
                    (c.relation.map_or("Forælder eller værge", |r| r.da()))
                } @else { "Personen selv" }
            } }
            tr { th { "Kanal" } td { (channel_da(c.channel.as_str())) } }
            tr { th { "Omfatter" } td {
                @for (i, s) in c.scope.iter().enumerate() {
                    @if i > 0 { ", " }
                    (s.as_str().parse::<Use>().map_or(s.as_str(), |u| u.da()))
                }
            } }
            @if !c.partners.is_empty() {
                tr { th { "Samarbejdspartnere" } td {
                    @for (i, o) in c.partners.iter().enumerate() {
                        @if i > 0 { ", " }
                        (d.orgs.get(o).map_or_else(|| o.to_string(), |x| x.name.clone()))
                    }
                } }
            }
            tr { th { "Trukket tilbage" } td {
                @match c.withdrawn_on { Some(w) => (date(w)), None => "Nej" }
            } }
        }
    }
}

fn who(d: &TenantData, pid: &ParticipantId) -> String {
    d.registers
        .iter()
        .find(|r| r.view.participants.contains_key(pid))
        .map_or_else(
            || format!("Person {}", super::data::short(pid.as_str())),
            |r| d.participant_name(r, pid),
        )
}

/// `GET /samtykke?emne=<id>`: the person's basis and consent everywhere they are.
async fn show(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<Subject>,
) -> WebResult {
    v.require_central()?;
    let pid: ParticipantId = q.emne.parse().map_err(|_| WebError::NotFound)?;
    let d = TenantData::load(&s, &v.principal).await?;
    let found = places(&d, &pid);
    if found.is_empty() {
        return Err(WebError::NotFound);
    }
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Read,
        Purpose::SubjectRequest,
        None,
        [pid.to_string()],
    )
    .await?;
    let withdrawn_any = found
        .iter()
        .any(|p| p.consent.as_ref().is_some_and(|c| c.withdrawn_on.is_some()));
    Ok(page(
        &v,
        Nav::Review,
        "Samtykke og grundlag",
        html! {
            p { "Grundlaget for at behandle oplysninger om " strong { (who(&d, &pid)) } ", og hvad det tillader i dag." }
            @for place in &found {
                section {
                    h2 { (place.title) }
                    p { "Grundlag: " strong { (basis_da(place.basis)) } }
                    @match &place.consent {
                        Some(c) => {
                            (consent_details(&d, c))
                            @if c.withdrawn_on.is_none() {
                                form method="post" action="/samtykke/tilbagetraek" {
                                    input type="hidden" name="emne" value=(pid.as_str());
                                    input type="hidden" name="dokument" value=(place.document.to_string());
                                    p { "Trækkes samtykket tilbage, gælder det fra i dag: personen navngives, fotograferes og deles ikke længere. Det, der er registreret før, var lovligt og bliver stående, indtil det slettes." }
                                    button type="submit" class="fare" { "Træk samtykket tilbage" }
                                }
                            }
                        }
                        None => p { "Der er ikke registreret et samtykke." }
                    }
                    (allowed(&d, place))
                }
            }
            @if withdrawn_any {
                p class="besked" { "Samtykket er trukket tilbage. Hviler behandlingen ikke på et andet grundlag, skal oplysningerne slettes (databeskyttelsesforordningen art. 17, stk. 1, litra b)." }
                p { a href=(format!("/sletning?emne={pid}")) { "Slet personen" } }
            }
        },
    ))
}

/// `POST /samtykke/tilbagetraek`: withdraws the consent in one document, from today.
async fn withdraw(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    v.require_central()?;
    let f = FormFields::parse(&body);
    let pid: ParticipantId = f
        .one("emne")
        .and_then(|x| x.parse().ok())
        .ok_or(WebError::NotFound)?;
    let d = TenantData::load(&s, &v.principal).await?;
    let document = f.one("dokument").unwrap_or_default();
    let place = places(&d, &pid)
        .into_iter()
        .find(|p| p.document.to_string() == document)
        .ok_or(WebError::NotFound)?;
    let today = d.today;
    let author = v.author();
    if let Some(reg) = d.registers.iter().find(|r| r.meta.id == place.document) {
        s.hub
            .edit(&reg.meta, &v.principal, |doc: &mut RegisterDoc| {
                doc.withdraw_consent(&author, &pid, today)
            })
            .await?;
    } else if let Some(o) = d.outreach.iter().find(|o| o.meta.id == place.document) {
        s.hub
            .edit(&o.meta, &v.principal, |doc: &mut OutreachDoc| {
                doc.withdraw_consent(&author, &pid, today)
            })
            .await?;
    }
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Update,
        Purpose::SubjectRequest,
        Some(place.document),
        [pid.to_string()],
    )
    .await?;
    // The tenant's action on withdrawal (issue 11 item 3): erase at once, or stop processing.
    let prefs = crate::retention::settings(s.storage.as_ref(), &v.principal.tenant).await?;
    let erased = if prefs.on_withdrawal == WithdrawalAction::Erase {
        match crate::erasure::plan(&s, &v.principal.tenant, pid.as_str()).await? {
            Some(plan) => {
                match crate::erasure::erase(
                    &s,
                    &v.principal,
                    &plan,
                    ErasureReason::ConsentWithdrawn,
                )
                .await
                {
                    Ok(_) => Some(true),
                    Err(crate::erasure::EraseError::Held) => Some(false),
                    Err(e) => return Err(e.into()),
                }
            }
            None => None,
        }
    } else {
        None
    };
    Ok(page(
        &v,
        Nav::Review,
        "Samtykket er trukket tilbage",
        html! {
            p class="besked" { "Samtykket er trukket tilbage fra " (date(today)) ". Telefonerne holder op med at vise navnet og tilbyde deling ved næste synkronisering." }
            @match erased {
                Some(true) => p class="besked" { "Personen er slettet, som jeres indstilling siger: navnet er væk fra Nabo og fra telefonerne ved deres næste synkronisering; tallene er bevaret anonymt." }
                Some(false) => p class="fejl" { "Personen er ikke slettet, fordi der er et retligt tilbagehold på personens oplysninger. Behandlingen er stoppet; ophæv tilbageholdet (under Indsigt) for at slette." }
                None => {
                    p { a href=(format!("/samtykke?emne={pid}")) { "Tilbage til samtykket" } }
                    p { a href=(format!("/sletning?emne={pid}")) { "Slet personen" } " – hvis behandlingen ikke hviler på et andet grundlag." }
                }
            }
        },
    ))
}
