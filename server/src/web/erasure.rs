//! Erasing a person from the review pages (ADR 0019): `/sletning?emne=<id>` asks first, on a
//! page of its own, naming what goes and what stays as anonymous counts; the form posts to
//! `/sletning` and calls the same [`crate::erasure`] operations as the API. Central staff only.

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use nabo_core::erasure::ErasureReason;
use nabo_core::ids::ParticipantId;
use serde::Deserialize;

use super::data::TenantData;
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;
use crate::erasure::{EraseError, Plan, erase, plan};

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new().route("/sletning", get(confirm).post(submit))
}

impl From<EraseError> for WebError {
    fn from(e: EraseError) -> Self {
        match e {
            EraseError::NotFound => WebError::NotFound,
            EraseError::Storage(s) => s.into(),
            EraseError::Edit(e) => e.into(),
            EraseError::Journal(e) => {
                tracing::error!(error = %e, "the erasure journal could not be written");
                WebError::Unavailable
            }
            EraseError::Rewrite(e) => {
                tracing::error!(error = %e, "an erasure could not rewrite a document");
                WebError::Unavailable
            }
            EraseError::Held => WebError::BadRequest(
                "Personen kan ikke slettes, fordi der er et retligt tilbagehold på personens oplysninger. Ophæv tilbageholdet først (under Indsigt).".into(),
            ),
        }
    }
}

/// "1 fremmøderegistrering", "3 fremmøderegistreringer".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[derive(Deserialize)]
pub struct Subject {
    emne: String,
}

async fn planned(s: &AppState, v: &Viewer, subject: &str) -> Result<Plan, WebError> {
    v.require_central()?;
    crate::erasure::check_subject(subject).map_err(|_| WebError::NotFound)?;
    plan(s, &v.principal.tenant, subject)
        .await?
        .ok_or(WebError::NotFound)
}

/// Who the subject is, as staff see them (the name while the relay still holds the key).
fn who(d: &TenantData, p: &Plan) -> String {
    if let Some(r) = p.registers.first()
        && let Ok(pid) = p.subject.parse::<ParticipantId>()
        && let Some(reg) = d.register(r.meta.id)
    {
        return d.participant_name(reg, &pid);
    }
    if let Some(o) = p.outreach.first()
        && let Ok(pid) = p.subject.parse::<ParticipantId>()
        && let Some(log) = d.outreach.iter().find(|x| x.meta.id == o.meta.id)
    {
        return d.known_person_name(log, &pid);
    }
    if p.staff.is_some()
        && let Ok(sid) = p.subject.parse()
    {
        return d.staff_name(&sid);
    }
    p.subject
        .parse()
        .map_or_else(|_| p.subject.clone(), |v| d.volunteer_name(&v))
}

fn what_goes_and_stays(p: &Plan) -> Markup {
    let marks: usize = p.registers.iter().map(|r| r.marks).sum();
    let present: usize = p.registers.iter().map(|r| r.present).sum();
    let contacts: usize = p.outreach.iter().map(|o| o.contacts).sum();
    let shifts = p.directory.as_ref().map_or(0, |d| d.shifts);
    let referrals: usize = p.outreach.iter().map(|o| o.referrals).sum();
    html! {
        h2 { "Det forsvinder" }
        ul {
            @if p.staff.is_some() {
                li { "Kontaktoplysningerne (e-mail, telefon): nøglen, der låser dem op, destrueres på serveren, så de ikke kan læses nogen steder – heller ikke i sikkerhedskopier taget efter sletningen." }
            } @else {
                li { "Navnet: nøglen, der låser det op, destrueres på serveren, og telefonerne sletter deres kopi ved næste synkronisering. Navnet kan derefter ikke læses nogen steder – heller ikke i historikken eller i sikkerhedskopier taget efter sletningen." }
            }
            @if !p.registers.is_empty() {
                li { "Personen fjernes fra fremmødelister, gennemgang og eksport i " (count(p.registers.len(), "register", "registre")) "." }
            }
            @if p.directory.is_some() {
                li { "Den frivilliges navn, kontaktoplysninger og børneattestens datoer fjernes fra frivilligoversigten, og den frivilliges login lukkes (telefonerne tilbagekaldes og slettes)." }
            }
            @if let Some(st) = &p.staff {
                li { "Medarbejderens navn og stilling fjernes fra medarbejderoversigten, og kontaktoplysningerne (e-mail, telefon) kan ikke længere læses." }
                li { "Medarbejderens " (count(st.logins, "login", "logins")) " lukkes og mister navnet: brugernavn og navn erstattes af et nummer, adgangskoden slettes, og telefonerne tilbagekaldes." }
            }
            @if !p.outreach.is_empty() {
                li { "Personen fjernes som kendt person fra " (count(p.outreach.len(), "opsøgende log", "opsøgende logs")) ", også på den opsøgende medarbejders telefon." }
            }
            li { "Nøglen kan ikke uploades igen – heller ikke fra en telefon, der var offline under sletningen." }
        }
        h2 { "Det bliver (uden navn)" }
        ul {
            @if !p.registers.is_empty() || (p.outreach.is_empty() && p.directory.is_none() && p.staff.is_none()) {
                li { (count(marks, "fremmøderegistrering", "fremmøderegistreringer")) " og fremmøde ved " (count(present, "møde", "møder")) " tælles fortsat med i statistik og rapporter som anonyme tal." }
            }
            @if p.directory.is_some() {
                li { (count(shifts, "vagt", "vagter")) " og de timer, den frivillige har lagt, tælles fortsat med som anonyme tal, ligesom kurser." }
            }
            @if !p.outreach.is_empty() {
                li { (count(contacts, "kontakt", "kontakter")) " og " (count(referrals, "henvisning", "henvisninger")) " med personen tælles fortsat med som anonyme tal." }
            }
            @if p.staff.is_some() {
                li { "Det, medarbejderen har registreret, bliver stående og tælles med; det vises som skrevet af en slettet medarbejder. Roller og placering bliver stående uden navn." }
                li { "Loggene beholder medarbejderens nummer, ikke navnet." }
                li { "Medarbejderoversigten skrives om uden ændringshistorik, så navnet også forsvinder fra den gemte historik på serveren og på telefoner, der har hentet oversigten. Sikkerhedskopier taget før sletningen har det, indtil de udløber." }
            } @else {
                li { "Aldersgruppe, dato for første fremmøde og rekrutteringsvej bliver stående uden navn, så tallene passer." }
            }
            li { "Sletningen logges med hvem, hvornår og hvorfor – uden navn." }
        }
    }
}

/// `GET /sletning?emne=<id>`: what erasing the person does, and the form.
async fn confirm(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<Subject>,
) -> WebResult {
    let p = planned(&s, &v, &q.emne).await?;
    let d = TenantData::load(&s, &v.principal).await?;
    let name = who(&d, &p);
    Ok(page(
        &v,
        Nav::Review,
        "Slet person",
        html! {
            @if p.already {
                p class="besked" { "Personen er allerede slettet. Sletter du igen, fjernes det, der måtte være kommet til siden." }
            }
            p { "Du er ved at slette " strong { (name) } " permanent. Det kan ikke fortrydes." }
            (what_goes_and_stays(&p))
            form method="post" action="/sletning" {
                input type="hidden" name="emne" value=(p.subject);
                label for="aarsag" { "Årsag" }
                select id="aarsag" name="aarsag" required {
                    option value="" { "Vælg årsag" }
                    @for r in ErasureReason::ALL { option value=(r.code()) { (r.da()) } }
                }
                button type="submit" class="fare" { "Slet personen permanent" }
            }
        },
    ))
}

/// `POST /sletning`: erases, then says what was done.
async fn submit(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    let f = FormFields::parse(&body);
    let subject = f.one("emne").unwrap_or_default().to_owned();
    let p = planned(&s, &v, &subject).await?;
    let reason = f
        .one("aarsag")
        .and_then(ErasureReason::parse)
        .ok_or_else(|| {
            WebError::BadRequest("Feltet «Årsag» mangler: vælg hvorfor personen slettes.".into())
        })?;
    let done = erase(&s, &v.principal, &p, reason).await?;
    Ok(page(
        &v,
        Nav::Review,
        "Personen er slettet",
        html! {
            p class="besked" { "Personen er slettet (" (reason.da().to_lowercase()) ")." }
            ul {
                li { (count(done.keys_destroyed as usize, "nøgle destrueret", "nøgler destrueret")) " på serveren." }
                li { (count(done.records as usize, "personpost markeret", "personposter markeret")) " som slettet i " (count(done.documents as usize, "dokument", "dokumenter")) " (registre, opsøgende logs, frivillig- og medarbejderoversigten)." }
                li { "Telefonerne sletter deres kopi af nøglen ved næste synkronisering og melder tilbage." }
            }
            p { "Sletningens nummer i loggen: " code { (done.erasure_id) } }
            p { a href="/gennemgang" { "Til gennemgangen" } }
        },
    ))
}
