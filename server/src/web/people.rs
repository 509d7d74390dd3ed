//! People (Personer): central staff create staff logins and volunteers, invite their phones,
//! disable and re-enable them, send password-reset links, set what they work on, and see and
//! revoke each person's phones (ADR 0017). Every change goes through [`crate::people`]; every
//! form says afterwards what happened, and disabling a person or revoking a phone asks first
//! on a page of its own (the pages run no script).
//!
//! Routes are under `/personer`; a person's page is `/personer/{user id}`. To add a section to
//! a person's page, add a function returning `Markup` and call it from [`person`]; to add an
//! action, add a route in [`routes`] and a message in [`Notice`].

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::model::{AppRole, VolunteerSource};
use serde::Deserialize;

use super::data::{ActivityEntry, TenantData};
use super::fmt;
use super::{FormFields, Nav, RequestInfo, Viewer, WebError, WebResult, page};
use crate::admin::{by_of, ops};
use crate::api::AppState;
use crate::people::{self, PeopleError, Refusal};
use crate::storage::{LinkPurpose, Scopes, UserRow};

/// The routes of the people pages (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/personer", get(list))
        .route(
            "/personer/ny-medarbejder",
            get(new_staff_form).post(create_staff),
        )
        .route(
            "/personer/ny-frivillig",
            get(new_volunteer_form).post(create_volunteer),
        )
        .route("/personer/{id}", get(person))
        .route("/personer/{id}/omfang", post(set_scopes))
        .route("/personer/{id}/spaer", get(confirm_disable).post(disable))
        .route("/personer/{id}/genaktiver", post(enable))
        .route("/personer/{id}/aktivering", post(send_activation))
        .route("/personer/{id}/nulstil", post(send_reset))
        .route(
            "/personer/{id}/enheder/{device}/spaer",
            get(confirm_revoke_device).post(revoke_device),
        )
}

/// What happened, shown at the top of the page a form leads back to.
#[derive(Debug, Clone, Copy)]
pub enum Notice {
    /// A login was made and its activation link mailed.
    CreatedMailed,
    /// A volunteer was made.
    VolunteerCreated,
    /// Disabled.
    Disabled,
    /// Enabled again.
    Enabled,
    /// A link was mailed.
    LinkMailed,
    /// Scopes saved.
    ScopesSaved,
    /// A phone revoked.
    DeviceRevoked,
}

impl Notice {
    const ALL: [Notice; 7] = [
        Notice::CreatedMailed,
        Notice::VolunteerCreated,
        Notice::Disabled,
        Notice::Enabled,
        Notice::LinkMailed,
        Notice::ScopesSaved,
        Notice::DeviceRevoked,
    ];

    fn code(self) -> &'static str {
        match self {
            Notice::CreatedMailed => "oprettet",
            Notice::VolunteerCreated => "frivillig-oprettet",
            Notice::Disabled => "spaerret",
            Notice::Enabled => "genaktiveret",
            Notice::LinkMailed => "link-sendt",
            Notice::ScopesSaved => "omfang-gemt",
            Notice::DeviceRevoked => "enhed-spaerret",
        }
    }

    fn da(self) -> &'static str {
        match self {
            Notice::CreatedMailed => {
                "Brugeren er oprettet. Et aktiveringslink er sendt til brugerens e-mail."
            }
            Notice::VolunteerCreated => {
                "Den frivillige er oprettet. Invitér den frivilliges telefon med en engangskode."
            }
            Notice::Disabled => {
                "Brugeren er spærret. Brugerens sessioner og telefoner virker ikke længere."
            }
            Notice::Enabled => {
                "Brugeren er genaktiveret. Telefoner, der var tilmeldt, skal inviteres igen."
            }
            Notice::LinkMailed => "Linket er sendt til brugerens e-mail.",
            Notice::ScopesSaved => "Programmer, områder og aktiviteter er gemt.",
            Notice::DeviceRevoked => {
                "Telefonen er spærret. Den sletter sine data, næste gang den kontakter Nabo."
            }
        }
    }

    fn parse(code: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.code() == code)
    }
}

/// `?besked=` on a page.
#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    besked: Option<String>,
}

fn notice(q: &NoticeQuery) -> Markup {
    html! {
        @if let Some(n) = q.besked.as_deref().and_then(Notice::parse) {
            p class="besked" role="status" { (n.da()) }
        }
    }
}

fn to(path: &str, n: Notice) -> Response {
    Redirect::to(&format!("{path}?besked={}", n.code())).into_response()
}

impl From<PeopleError> for WebError {
    fn from(e: PeopleError) -> Self {
        match e {
            PeopleError::Refused(r) => WebError::BadRequest(r.message),
            PeopleError::NotFound => WebError::NotFound,
            PeopleError::Storage(s) => s.into(),
            PeopleError::Internal(m) => {
                tracing::error!(error = %m, "people operation from a page failed");
                WebError::Internal
            }
        }
    }
}

fn role_da(r: AppRole) -> &'static str {
    match r {
        AppRole::Central => "Central medarbejder",
        AppRole::Outreach => "Opsøgende/lokal medarbejder",
        AppRole::Volunteer => "Frivillig",
        AppRole::Board => "Bestyrelse (kun overblik)",
    }
}

/// A person's name as the pages show it.
async fn name_of(s: &AppState, u: &UserRow) -> Result<String, WebError> {
    Ok(people::display_name(s.storage.as_ref(), &s.vault, u).await?)
}

async fn user_of(s: &AppState, v: &Viewer, id: &str) -> Result<UserRow, WebError> {
    Ok(people::tenant_user(s.storage.as_ref(), &v.principal.tenant, id).await?)
}

/// `GET /personer`.
async fn list(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let users = s.storage.users(&v.principal.tenant).await?;
    let mut rows = Vec::new();
    for u in users {
        let devices = s.storage.devices(&u.id).await?;
        let active = devices.iter().filter(|d| !d.revoked).count();
        rows.push((name_of(&s, &u).await?, u, active));
    }
    rows.sort_by_key(|a| a.0.to_lowercase());
    crate::access_log::record(
        &s,
        &v.principal,
        nabo_core::access_log::AccessKind::Search,
        nabo_core::access_log::Purpose::Administration,
        None,
        rows.iter()
            .map(|(_, u, _)| crate::access_log::subject_of(u)),
    )
    .await?;
    let table = |volunteers: bool| {
        html! {
            div class="rul" { table {
                thead { tr {
                    th scope="col" { "Navn" }
                    @if !volunteers { th scope="col" { "Brugernavn" } th scope="col" { "Rolle" } }
                    th scope="col" { "Status" } th scope="col" class="tal" { "Telefoner" }
                } }
                tbody {
                    @for (name, u, phones) in rows.iter().filter(|(_, u, _)| (u.role == AppRole::Volunteer) == volunteers) {
                        tr {
                            th scope="row" { a href={"/personer/" (u.id)} { (name) } }
                            @if !volunteers { td { (u.username) } td { (role_da(u.role)) } }
                            td { (status_da(u)) }
                            td class="tal" { (phones) }
                        }
                    }
                }
            } }
        }
    };
    Ok(page(
        &v,
        Nav::People,
        "Personer",
        html! {
            (notice(&q))
            p {
                a href="/personer/ny-medarbejder" { "Opret medarbejder" } " · "
                a href="/personer/ny-frivillig" { "Opret frivillig" }
            }
            h2 { "Medarbejdere" }
            (table(false))
            h2 { "Frivillige" }
            (table(true))
        },
    ))
}

fn status_da(u: &UserRow) -> Markup {
    html! {
        @if u.disabled { span class="maerke markeret" { "Spærret" } }
        @else if u.role != AppRole::Volunteer && u.password_hash.is_none() { span class="maerke ny" { "Ikke aktiveret" } }
        @else { span class="maerke godkendt" { "Aktiv" } }
    }
}

/// A form's field with its label, value and (if refused) the reason next to it.
fn field(
    label: &str,
    name: &str,
    value: &str,
    kind: &str,
    error: Option<&Refusal>,
    extra: Markup,
) -> Markup {
    let err = error.filter(|r| form_name(r.field) == name);
    html! {
        label {
            (label)
            input name=(name) id=(name) type=(kind) value=(value) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{name}-fejl"))];
            @if let Some(e) = err { span class="felt-fejl" id={(name) "-fejl"} { (e.message) } }
            (extra)
        }
    }
}

/// The form field a refusal is about.
fn form_name(api_field: &str) -> &'static str {
    match api_field {
        "name" => "navn",
        "title" => "stilling",
        "role" => "rolle",
        "username" => "brugernavn",
        "email" => "email",
        "phone" => "telefon",
        "password" => "adgangskode",
        "password_repeat" => "gentag",
        "activities" => "aktivitet",
        _ => "",
    }
}

fn refusal_banner(error: Option<&Refusal>) -> Markup {
    html! {
        @if let Some(e) = error {
            p class="fejlbesked" role="alert" { "Ikke gemt: " (e.message) }
        }
    }
}

/// Programme, area and activity checkboxes: the records in use, and an archived one only
/// while the person still has it (so saving the form never drops it unasked).
fn scope_fields(d: &TenantData, chosen: &Scopes) -> Markup {
    let has = |list: &[String], id: &str| list.iter().any(|x| x == id);
    let programmes: Vec<_> = d
        .programmes
        .iter()
        .filter(|(id, p)| !p.archived || has(&chosen.programmes, id.as_str()))
        .collect();
    let areas: Vec<_> = d
        .areas
        .iter()
        .filter(|(id, a)| !a.archived || has(&chosen.areas, id.as_str()))
        .collect();
    let activities = offered_activities(d, chosen);
    html! {
        fieldset { legend { "Programmer (alle aktiviteter i programmet)" }
            @if programmes.is_empty() { p class="note" { "Ingen programmer endnu." } }
            @for (id, p) in programmes {
                label class="valg" { input type="checkbox" name="program" value=(id.as_str()) checked[has(&chosen.programmes, id.as_str())]; " " (p.name) }
            }
        }
        fieldset { legend { "Boligområder" }
            @if areas.is_empty() { p class="note" { "Ingen boligområder endnu." } }
            @for (id, a) in areas {
                label class="valg" { input type="checkbox" name="omraade" value=(id.as_str()) checked[has(&chosen.areas, id.as_str())]; " " (a.name) }
            }
        }
        fieldset { legend { "Aktiviteter" }
            @if activities.is_empty() { p class="note" { "Ingen aktiviteter endnu." } }
            @for a in activities {
                label class="valg" { input type="checkbox" name="aktivitet" value=(a.id.as_str()) checked[has(&chosen.activities, a.id.as_str())]; " " (a.activity.name) }
            }
        }
    }
}

/// The activities a person can be given: those in use, and archived ones they still have.
fn offered_activities<'a>(d: &'a TenantData, chosen: &Scopes) -> Vec<&'a ActivityEntry> {
    d.activities
        .iter()
        .filter(|a| !a.activity.archived || chosen.activities.iter().any(|x| x == a.id.as_str()))
        .collect()
}

fn scopes_of(form: &FormFields) -> Scopes {
    let all = |n| form.all(n).map(str::to_owned).collect();
    Scopes {
        programmes: all("program"),
        areas: all("omraade"),
        activities: all("aktivitet"),
    }
}

fn staff_form(d: &TenantData, f: &FormFields, error: Option<&Refusal>) -> Markup {
    let val = |n: &str| f.one(n).unwrap_or_default().to_owned();
    let role = f.one("rolle").unwrap_or("outreach");
    html! {
        (refusal_banner(error))
        form method="post" action="/personer/ny-medarbejder" class="stak" {
            (field("Navn", "navn", &val("navn"), "text", error, html! {}))
            (field("Stilling", "stilling", &val("stilling"), "text", error, html! {}))
            label { "Rolle"
                select name="rolle" id="rolle" {
                    @for r in [AppRole::Central, AppRole::Outreach, AppRole::Board] {
                        option value=(r.code()) selected[role == r.code()] { (role_da(r)) }
                    }
                }
            }
            (field("E-mail (aktiveringslinket sendes hertil)", "email", &val("email"), "email", error, html! {}))
            (field("Telefon", "telefon", &val("telefon"), "tel", error, html! {}))
            (field("Brugernavn (tomt: dannes af e-mail eller navn)", "brugernavn", &val("brugernavn"), "text", error, html! {}))
            (scope_fields(d, &scopes_of(f)))
            button type="submit" { "Opret medarbejder" }
        }
    }
}

/// `GET /personer/ny-medarbejder`.
async fn new_staff_form(State(s): State<AppState>, Extension(v): Extension<Viewer>) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    Ok(page(
        &v,
        Nav::People,
        "Opret medarbejder",
        staff_form(&d, &FormFields::parse(""), None),
    ))
}

/// A form again with the reason it was refused (400).
fn refused_page(v: &Viewer, title: &str, body: Markup) -> Response {
    let mut r = page(v, Nav::People, title, body);
    *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    r
}

/// `POST /personer/ny-medarbejder`.
async fn create_staff(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    info: RequestInfo,
    body: String,
) -> WebResult {
    let f = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let role = f.one("rolle").unwrap_or_default().parse::<AppRole>().ok();
    let o = ops(
        &s,
        by_of(&v.principal),
        crate::relay::Sender::of(&v.principal),
    );
    let created = people::create_staff(
        &o,
        &v.principal.tenant,
        people::NewStaff {
            name: f.one("navn").unwrap_or_default().into(),
            title: f.one("stilling").unwrap_or_default().into(),
            role,
            username: f.one("brugernavn").unwrap_or_default().into(),
            email: f.one("email").unwrap_or_default().into(),
            phone: f.one("telefon").unwrap_or_default().into(),
            scopes: scopes_of(&f),
            ..Default::default()
        },
    )
    .await;
    let created = match created {
        Ok(c) => c,
        Err(PeopleError::Refused(r)) => {
            return Ok(refused_page(
                &v,
                "Opret medarbejder",
                staff_form(&d, &f, Some(&r)),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let user = user_of(&s, &v, &created.user_id).await?;
    let origin = s.site.origin_for(info.peer, &info.headers);
    let link = people::issue_link(
        &o,
        &s.mail,
        &user,
        LinkPurpose::Activate,
        Some(&v.principal.user_id),
        &origin,
    )
    .await?;
    if link.mailed {
        return Ok(to(&format!("/personer/{}", user.id), Notice::CreatedMailed));
    }
    Ok(link_page(
        &v,
        &user,
        &user.display_name,
        "Brugeren er oprettet",
        &link,
    ))
}

/// A link that was not mailed: shown once, to be handed over.
fn link_page(v: &Viewer, user: &UserRow, name: &str, title: &str, link: &people::Link) -> Response {
    page(
        v,
        Nav::People,
        title,
        html! {
            p class="besked" role="status" { (title) "." }
            p { "Der er ikke sat e-mail op på denne installation, så giv linket til " strong { (name) } " (brugernavn " code { (user.username) } ") – fx på papir eller i en besked, du selv sender. Det virker én gang og udløber " (fmt::datetime(nabo_core::time::Timestamp(link.expires_at))) "." }
            p { a id="engangslink" href=(link.url) { (link.url) } }
            p { a href={"/personer/" (user.id)} { "Til " (name) } }
        },
    )
}

fn volunteer_form(d: &TenantData, f: &FormFields, error: Option<&Refusal>) -> Markup {
    let val = |n: &str| f.one(n).unwrap_or_default().to_owned();
    let chosen = scopes_of(f);
    let source = f.one("kilde").unwrap_or("resident");
    let role = f.one("rolle").unwrap_or("lektiehjaelper");
    html! {
        (refusal_banner(error))
        form method="post" action="/personer/ny-frivillig" class="stak" {
            (field("Navn", "navn", &val("navn"), "text", error, html! { span class="note" { "Navnet gemmes krypteret med den frivilliges egen nøgle." } }))
            (field("Telefon", "telefon", &val("telefon"), "tel", error, html! {}))
            (field("E-mail", "email", &val("email"), "email", error, html! {}))
            label { "Type"
                select name="kilde" {
                    @for (code, label) in [(VolunteerSource::Resident, "Beboerfrivillig"), (VolunteerSource::NationalOrganisation, "Frivillig fra landsdækkende organisation"), (VolunteerSource::Other, "Anden")] {
                        option value=(code.code()) selected[source == code.code()] { (label) }
                    }
                }
            }
            label class="valg" { input type="checkbox" name="beboer" value="ja" checked[f.one("beboer").is_some()]; " Bor i et af områderne" }
            fieldset { legend { "Hjælper ved (aktiviteter)" }
                @if error.is_some_and(|e| e.field == "activities") { span class="felt-fejl" { (error.map(|e| e.message.clone()).unwrap_or_default()) } }
                @if offered_activities(d, &chosen).is_empty() { p class="note" { "Ingen aktiviteter endnu." } }
                @for a in offered_activities(d, &chosen) {
                    label class="valg" { input type="checkbox" name="aktivitet" value=(a.id.as_str()) checked[chosen.activities.iter().any(|x| x == a.id.as_str())]; " " (a.activity.name) }
                }
            }
            label { "Rolle"
                select name="rolle" {
                    @for t in d.catalogue.vocabulary(nabo_core::catalogue::Vocabulary::VolunteerRoles).iter().filter(|t| !t.retired) {
                        option value=(t.code) selected[role == t.code] { (t.name_da) }
                    }
                }
            }
            button type="submit" { "Opret frivillig" }
        }
    }
}

/// `GET /personer/ny-frivillig`.
async fn new_volunteer_form(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    Ok(page(
        &v,
        Nav::People,
        "Opret frivillig",
        volunteer_form(&d, &FormFields::parse(""), None),
    ))
}

/// `POST /personer/ny-frivillig`.
async fn create_volunteer(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let f = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let mut activities = Vec::new();
    for a in f.all("aktivitet") {
        match a.parse::<nabo_core::ids::ActivityId>() {
            Ok(id) if d.activity(&id).is_some() => activities.push(id),
            _ => return Err(WebError::NotFound),
        }
    }
    let source = f
        .one("kilde")
        .unwrap_or("resident")
        .parse()
        .map_err(|_| WebError::BadRequest("Ukendt type frivillig.".into()))?;
    let role = f
        .one("rolle")
        .unwrap_or("lektiehjaelper")
        .parse()
        .map_err(|_| WebError::BadRequest("Ukendt rolle.".into()))?;
    let o = ops(
        &s,
        by_of(&v.principal),
        crate::relay::Sender::of(&v.principal),
    );
    let created = people::create_volunteer(
        &o,
        &v.principal.tenant,
        &d.catalogue,
        people::NewVolunteer {
            name: f.one("navn").unwrap_or_default().into(),
            email: f.one("email").unwrap_or_default().into(),
            phone: f.one("telefon").unwrap_or_default().into(),
            source,
            resident: f.one("beboer").is_some(),
            activities,
            role,
            username: None,
            user_id: None,
            volunteer_id: None,
        },
    )
    .await;
    match created {
        Ok(c) => Ok(to(
            &format!("/personer/{}", c.user_id),
            Notice::VolunteerCreated,
        )),
        Err(PeopleError::Refused(r)) => Ok(refused_page(
            &v,
            "Opret frivillig",
            volunteer_form(&d, &f, Some(&r)),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /personer/{id}`.
async fn person(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    let d = TenantData::load(&s, &v.principal).await?;
    let name = name_of(&s, &u).await?;
    let profile = people::profile(s.storage.as_ref(), &s.vault, &u)
        .await?
        .unwrap_or_default();
    let scopes = s.storage.scopes(&u.id).await?;
    let devices = s.storage.devices(&u.id).await?;
    // The person's contact details and phones are shown (ADR 0024): logged under the id
    // their data is kept under (the volunteer or staff member, else the login).
    crate::access_log::record(
        &s,
        &v.principal,
        nabo_core::access_log::AccessKind::Read,
        nabo_core::access_log::Purpose::Administration,
        None,
        [crate::access_log::subject_of(&u)],
    )
    .await?;
    let is_self = u.id == v.principal.user_id;
    let has_password = u.password_hash.is_some();
    Ok(page(
        &v,
        Nav::People,
        &name,
        html! {
            (notice(&q))
            p { a href="/personer" { "Alle personer" } }
            dl class="fakta" {
                dt { "Rolle" } dd { (role_da(u.role)) }
                @if u.role != AppRole::Volunteer { dt { "Brugernavn" } dd { code { (u.username) } } }
                dt { "Status" } dd { (status_da(&u)) }
                dt { "E-mail" } dd { (profile.email.clone().unwrap_or_else(|| "–".into())) }
                dt { "Telefon" } dd { (profile.phone.clone().unwrap_or_else(|| "–".into())) }
            }
            h2 { "Handlinger" }
            @if u.disabled {
                form method="post" action={"/personer/" (u.id) "/genaktiver"} class="inline" {
                    button type="submit" { "Genaktivér brugeren" }
                }
            } @else {
                @if u.role != AppRole::Central && u.role != AppRole::Board {
                    form method="post" action="/administration/invitation" class="inline" {
                        input type="hidden" name="bruger" value=(u.id);
                        button type="submit" class="sekundaer" { "Invitér telefon (engangskode)" }
                    }
                }
                @if u.role != AppRole::Volunteer {
                    @if has_password {
                        form method="post" action={"/personer/" (u.id) "/nulstil"} class="inline" {
                            button type="submit" class="sekundaer" { "Send link til ny adgangskode" }
                        }
                    } @else {
                        form method="post" action={"/personer/" (u.id) "/aktivering"} class="inline" {
                            button type="submit" class="sekundaer" { "Send aktiveringslink igen" }
                        }
                    }
                }
                @if !is_self {
                    a class="knap fare" href={"/personer/" (u.id) "/spaer"} { "Spær brugeren …" }
                }
            }
            @if !is_self && (u.staff_id.is_some() || u.volunteer_id.is_some()) {
                a class="knap fare" href={"/sletning?emne=" (crate::access_log::subject_of(&u))} { "Slet personen …" }
            }
            @if u.role != AppRole::Board {
                h2 { "Arbejder med" }
                form method="post" action={"/personer/" (u.id) "/omfang"} class="stak" {
                    (scope_fields(&d, &scopes))
                    button type="submit" { "Gem" }
                }
            }
            h2 { "Telefoner" }
            div class="rul" { table id="telefoner" {
                thead { tr { th scope="col" { "Telefon" } th scope="col" { "Status" } th scope="col" { "Sidst i kontakt" } th scope="col" {} } }
                tbody {
                    @if devices.is_empty() { tr { td colspan="4" class="tom" { "Ingen telefoner tilmeldt." } } }
                    @for dev in &devices { tr {
                        th scope="row" { (dev.name) }
                        td { (device_status_da(dev)) }
                        td { (dev.last_seen.map(|t| super::fmt::datetime(nabo_core::time::Timestamp(t))).unwrap_or_else(|| "–".into())) }
                        td { @if !dev.revoked {
                            a href={"/personer/" (u.id) "/enheder/" (dev.id) "/spaer"} aria-label={"Spær " (dev.name)} { "Spær …" }
                        } }
                    } }
                }
            } }
        },
    ))
}

/// A phone's status on the person's page: active, revoked and waiting to wipe itself at its
/// next contact, or wiped (when the phone reported it, issue 11 item 6).
fn device_status_da(dev: &crate::storage::DeviceRow) -> String {
    match (dev.revoked, dev.wiped) {
        (false, _) => "aktiv".into(),
        (true, None) => "spærret – sletter sine data, når den næste gang får forbindelse".into(),
        (true, Some(t)) => format!(
            "spærret – data slettet på telefonen {}",
            super::fmt::datetime(nabo_core::time::Timestamp(t))
        ),
    }
}

/// `POST /personer/{id}/omfang`.
async fn set_scopes(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    let f = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let scopes = scopes_of(&f);
    let known = scopes
        .programmes
        .iter()
        .all(|p| d.programmes.keys().any(|k| k.as_str() == p))
        && scopes
            .areas
            .iter()
            .all(|a| d.areas.keys().any(|k| k.as_str() == a))
        && scopes
            .activities
            .iter()
            .all(|a| d.activities.iter().any(|x| x.id.as_str() == a));
    if !known {
        return Err(WebError::NotFound);
    }
    people::set_scopes(s.storage.as_ref(), &s.hub, &u, &scopes).await?;
    Ok(to(&format!("/personer/{}", u.id), Notice::ScopesSaved))
}

/// A page that asks before something that cannot simply be undone.
fn confirm(
    v: &Viewer,
    title: &str,
    question: Markup,
    action: &str,
    button: &str,
    back: &str,
) -> Response {
    page(
        v,
        Nav::People,
        title,
        html! {
            div class="problem" role="alert" { (question) }
            form method="post" action=(action) class="inline" {
                button type="submit" class="fare" { (button) }
            }
            a href=(back) { "Fortryd" }
        },
    )
}

/// `GET /personer/{id}/spaer`: asks first.
async fn confirm_disable(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    let name = name_of(&s, &u).await?;
    let phones = s
        .storage
        .devices(&u.id)
        .await?
        .iter()
        .filter(|d| !d.revoked)
        .count();
    Ok(confirm(
        &v,
        &format!("Spær {name}?"),
        html! {
            p { strong { (name) } " kan ikke længere logge ind, og alle sessioner stopper med det samme." }
            @if phones > 0 { p { (fmt::num(phones as i64)) " " (if phones == 1 { "tilmeldt telefon spærres" } else { "tilmeldte telefoner spærres" }) " og sletter sine data, næste gang de kontakter Nabo. Ændringer, der ikke er synkroniseret, går tabt." } }
            p { "Du kan genaktivere brugeren bagefter; telefoner skal så inviteres igen." }
        },
        &format!("/personer/{}/spaer", u.id),
        "Ja, spær brugeren",
        &format!("/personer/{}", u.id),
    ))
}

/// `POST /personer/{id}/spaer`.
async fn disable(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    if u.id == v.principal.user_id {
        return Err(WebError::BadRequest(
            "Du kan ikke spærre dig selv. Bed en anden central medarbejder om det.".into(),
        ));
    }
    people::close_login(&s, &v.principal, &u).await?;
    Ok(to(&format!("/personer/{}", u.id), Notice::Disabled))
}

/// `POST /personer/{id}/genaktiver`.
async fn enable(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    people::reopen_login(&s, &v.principal, &u).await?;
    Ok(to(&format!("/personer/{}", u.id), Notice::Enabled))
}

async fn send_link(
    s: &AppState,
    v: &Viewer,
    info: &RequestInfo,
    id: &str,
    purpose: LinkPurpose,
) -> WebResult {
    let u = user_of(s, v, id).await?;
    if u.role == AppRole::Volunteer {
        return Err(WebError::BadRequest(
            "Frivillige logger ind på telefonen med en engangskode, ikke med adgangskode.".into(),
        ));
    }
    let o = ops(
        s,
        by_of(&v.principal),
        crate::relay::Sender::of(&v.principal),
    );
    let origin = s.site.origin_for(info.peer, &info.headers);
    let link = people::issue_link(
        &o,
        &s.mail,
        &u,
        purpose,
        Some(&v.principal.user_id),
        &origin,
    )
    .await?;
    if link.mailed {
        return Ok(to(&format!("/personer/{}", u.id), Notice::LinkMailed));
    }
    let title = match purpose {
        LinkPurpose::Activate => "Nyt aktiveringslink",
        LinkPurpose::Reset => "Link til ny adgangskode",
    };
    Ok(link_page(v, &u, &u.display_name, title, &link))
}

/// `POST /personer/{id}/aktivering`.
async fn send_activation(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    info: RequestInfo,
    Path(id): Path<String>,
) -> WebResult {
    send_link(&s, &v, &info, &id, LinkPurpose::Activate).await
}

/// `POST /personer/{id}/nulstil`: a one-time link to choose a new password (never a
/// password shown to anyone).
async fn send_reset(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    info: RequestInfo,
    Path(id): Path<String>,
) -> WebResult {
    send_link(&s, &v, &info, &id, LinkPurpose::Reset).await
}

async fn device_of(
    s: &AppState,
    u: &UserRow,
    device: &str,
) -> Result<crate::storage::DeviceRow, WebError> {
    match s.storage.device(device).await? {
        Some(d) if d.user_id == u.id => Ok(d),
        _ => Err(WebError::NotFound),
    }
}

/// `GET /personer/{id}/enheder/{device}/spaer`: asks first.
async fn confirm_revoke_device(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, device)): Path<(String, String)>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    let d = device_of(&s, &u, &device).await?;
    let name = name_of(&s, &u).await?;
    Ok(confirm(
        &v,
        &format!("Spær telefonen «{}»?", d.name),
        html! {
            p { "Telefonen «" (d.name) "» tilhørende " strong { (name) } " kan ikke længere synkronisere. Den sletter sine data, næste gang den kontakter Nabo; ændringer, der ikke er synkroniseret, går tabt." }
            p { "Telefonen kan ikke genåbnes – invitér en ny med en engangskode." }
        },
        &format!("/personer/{}/enheder/{}/spaer", u.id, d.id),
        "Ja, spær telefonen",
        &format!("/personer/{}", u.id),
    ))
}

/// `POST /personer/{id}/enheder/{device}/spaer`.
async fn revoke_device(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, device)): Path<(String, String)>,
) -> WebResult {
    let u = user_of(&s, &v, &id).await?;
    let d = device_of(&s, &u, &device).await?;
    s.storage
        .revoke_device(&d.id, crate::storage::now_ms())
        .await?;
    s.hub.close_device(&d.id, "device revoked");
    Ok(to(&format!("/personer/{}", u.id), Notice::DeviceRevoked))
}
