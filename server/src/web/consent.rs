//! A person's legal basis and consent on the review pages (ADR 0027): `/samtykke?emne=<id>`
//! shows, for every register and outreach log the person is in, the basis, the consent (who
//! gave it, relation, scope, date, channel, partners) and what it allows today; central staff
//! withdraw a consent there (`POST /samtykke/tilbagetraek`), which takes effect from that day
//! (GDPR art. 7(3)), and are offered erasure next. Every view and withdrawal is in the access
//! log (purpose `subject-request`).
//!
//! Central staff also record a child's consent there, or correct one not withdrawn
//! (`POST /samtykke/registrer`, ADR 0034): the form goes through the register's validated
//! `record_consent` with the tenant's guardian age and [`crate::relay::Hub::edit`], so phones
//! see it at their next sync; a form shown before the record changed is refused as stale.

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
        .route("/samtykke/registrer", post(record))
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
        LegalBasis::OtherStatutory => "Anden lovhjemmel",
    }
}

/// A basis as the pages show it: its Danish name, and the statute of another statutory basis
/// (ADR 0034).
pub fn basis_text_da(b: LegalBasis, text: Option<&str>) -> String {
    match (b, text) {
        (LegalBasis::OtherStatutory, Some(t)) => format!("{}: {t}", basis_da(b)),
        _ => basis_da(b).to_owned(),
    }
}

/// What a consent form was shown against: a change synced since is refused as stale.
fn fingerprint(c: Option<&Consent>) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(format!("{c:?}").as_bytes())[..12])
}

/// Where the person is, with the basis and consent there.
struct Place {
    title: String,
    document: nabo_core::document::DocumentId,
    basis: LegalBasis,
    /// The statute of another statutory basis.
    basis_text: Option<String>,
    /// For a register: the activity's own basis, as the pages show it.
    activity_basis: Option<String>,
    consent: Option<Consent>,
    /// For a register: whether the roll call may name the child today.
    named: Option<bool>,
    /// For a person not erased: the age band (the consent form says whether a guardian gives
    /// it); `None` offers no consent form.
    age_band: Option<String>,
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
            basis_text: a.legal_basis_text.clone(),
            activity_basis: Some(basis_text_da(a.legal_basis, a.legal_basis_text.as_deref())),
            // An erased child gets no consent form (the core refuses one anyway).
            age_band: p
                .current
                .erased
                .is_none()
                .then(|| p.current.age_band.to_string()),
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
                basis_text: p.basis_text.clone(),
                activity_basis: None,
                consent: p.consent.clone(),
                named: None,
                age_band: p.erased.is_none().then(|| p.age_band.to_string()),
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
                    p { "Grundlag: " strong { (basis_text_da(place.basis, place.basis_text.as_deref())) } }
                    @if let Some(ab) = &place.activity_basis {
                        p { "Aktivitetens grundlag: " (ab) }
                    }
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
                    @if place.age_band.is_some() {
                        (consent_form(&d, &pid, place))
                    }
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

/// The form that records a consent for a child in a register or a person in an outreach log,
/// or corrects one not withdrawn (prefilled with it). A withdrawn consent is final: no form, a new consent is a new person.
fn consent_form(d: &TenantData, pid: &ParticipantId, place: &Place) -> Markup {
    let c = place.consent.as_ref();
    if c.is_some_and(|c| c.withdrawn_on.is_some()) {
        return html! {
            p { "Et samtykke, der er trukket tilbage, kan ikke rettes eller gives igen her: et nyt samtykke registreres for en ny deltager." }
        };
    }
    let guardian = place.age_band.as_deref().is_some_and(|b| {
        nabo_core::consent::needs_guardian(&d.catalogue, b, d.settings.consent_age)
    });
    let by = match c {
        Some(c) if c.by_guardian => c.relation.map_or("parent", |r| r.code()),
        Some(_) => "self",
        None if guardian => "parent",
        None => "self",
    };
    let given = c.map_or(d.today, |c| c.given_on).to_string();
    let channel = c.map_or("written", |c| c.channel.as_str());
    let has = |u: Use| c.is_some_and(|c| c.scope.iter().any(|s| s.as_str() == u.code()));
    let partner = |o: &nabo_core::ids::OrgId| c.is_some_and(|c| c.partners.contains(o));
    html! {
        details open[c.is_none()] {
            summary { @if c.is_some() { "Ret samtykket" } @else { "Registrér samtykke" } }
            form method="post" action="/samtykke/registrer" class="stak" {
                input type="hidden" name="emne" value=(pid.as_str());
                input type="hidden" name="dokument" value=(place.document.to_string());
                input type="hidden" name="aftryk" value=(fingerprint(c));
                @if guardian {
                    p { "Personen er under " (d.settings.consent_age) " år: samtykket gives af en forælder eller værge." }
                }
                label { "Samtykke givet af"
                    select name="givet_af" {
                        option value="self" selected[by == "self"] { "Personen selv" }
                        option value="parent" selected[by == "parent"] { "Forælder (med forældremyndighed)" }
                        option value="guardian" selected[by == "guardian"] { "Værge" }
                    }
                }
                label { "Dato" input type="date" name="dato" value=(given) required; }
                label { "Kanal"
                    select name="kanal" {
                        @for k in nabo_core::consent::CHANNELS {
                            option value=(k) selected[channel == k] { (channel_da(k)) }
                        }
                    }
                }
                fieldset { legend { "Omfatter" }
                    @for u in Use::ALL {
                        label class="valg" { input type="checkbox" name="omfang" value=(u.code()) checked[has(*u)]; " " (u.da()) }
                    }
                }
                @if !d.orgs.is_empty() {
                    fieldset { legend { "Samarbejdspartnere (ved deling; ingen valgt: den, henvisningen nævner)" }
                        @for (id, o) in &d.orgs {
                            label class="valg" { input type="checkbox" name="partner" value=(id.as_str()) checked[partner(id)]; " " (o.name) }
                        }
                    }
                }
                button type="submit" { "Gem samtykket" }
            }
        }
    }
}

/// `POST /samtykke/registrer`: records a person's consent in one register or outreach log, or
/// corrects the one recorded there (not a withdrawn one), through the document's validated
/// operation.
async fn record(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    use nabo_core::consent::Relation;
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
    // The form was shown against the consent as it was then: a change synced since (a phone,
    // another reviewer) is seen before it is overwritten.
    if f.one("aftryk") != Some(fingerprint(place.consent.as_ref()).as_str()) {
        return Err(WebError::Conflict(
            "Samtykket er blevet ændret, siden du åbnede siden (en telefon har synkroniseret, eller en anden har rettet det). Åbn siden igen, og se ændringen, før du gemmer.".into(),
        ));
    }
    let bad = |m: &str| WebError::BadRequest(m.to_owned());
    let (by_guardian, relation) = match f.one("givet_af").unwrap_or_default() {
        "self" => (false, None),
        "parent" => (true, Some(Relation::Parent)),
        "guardian" => (true, Some(Relation::Guardian)),
        _ => {
            return Err(bad(
                "«Samtykke givet af» skal være personen selv, en forælder eller en værge.",
            ));
        }
    };
    let given_on = f.date("dato", "Dato")?;
    if given_on > d.today {
        return Err(bad(
            "«Dato» ligger efter i dag: et samtykke registreres, når det er givet.",
        ));
    }
    let channel = f
        .one("kanal")
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| bad("«Kanal» skal være mundtligt, skriftligt eller digitalt."))?;
    let scope = f
        .all("omfang")
        .map(|u| {
            u.parse::<Use>()
                .ok()
                .and_then(|u| u.code().parse().ok())
                .ok_or_else(|| bad("«Omfatter» indeholder en ukendt anvendelse."))
        })
        .collect::<Result<nabo_core::model::Set<_>, _>>()?;
    if scope.is_empty() {
        return Err(bad(
            "«Omfatter»: vælg mindst én anvendelse, samtykket dækker.",
        ));
    }
    let partners = f
        .all("partner")
        .map(|o| {
            o.parse::<nabo_core::ids::OrgId>()
                .ok()
                .filter(|o| d.orgs.contains_key(o))
                .ok_or_else(|| bad("«Samarbejdspartnere» indeholder en ukendt organisation."))
        })
        .collect::<Result<nabo_core::model::Set<_>, _>>()?;
    let consent = Consent {
        given_on,
        by_guardian,
        relation,
        scope,
        channel,
        withdrawn_on: None,
        partners,
    };
    let age = d.settings.consent_age;
    let author = v.author();
    let corrected = place.consent.is_some();
    if let Some(reg) = d.registers.iter().find(|r| r.meta.id == place.document) {
        let snapshot = d
            .activity(reg.doc.activity_id())
            .ok_or(WebError::NotFound)?
            .doc
            .snapshot()?;
        let ctx = nabo_core::docs::register::RegisterContext {
            catalogue: &d.catalogue,
            activity: &snapshot,
            certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
        };
        s.hub
            .edit(&reg.meta, &v.principal, |doc: &mut RegisterDoc| {
                doc.record_consent(&author, ctx, &pid, consent, age)
            })
            .await?;
    } else if let Some(o) = d.outreach.iter().find(|o| o.meta.id == place.document) {
        let cat = &d.catalogue;
        s.hub
            .edit(&o.meta, &v.principal, |doc: &mut OutreachDoc| {
                doc.record_consent(&author, cat, &pid, consent, age)
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
    Ok(page(
        &v,
        Nav::Review,
        if corrected {
            "Samtykket er rettet"
        } else {
            "Samtykket er registreret"
        },
        html! {
            p class="besked" { "Samtykket er gemt. Telefonerne ser det ved næste synkronisering." }
            p { a href=(format!("/samtykke?emne={pid}")) { "Tilbage til samtykket" } }
        },
    ))
}
