//! Editing and archiving what the management pages create (issue 10 items 2 and 7,
//! ADR 0022): organisations, housing areas, programmes and activities. Every edit goes
//! through the core's validated operations and [`crate::relay::Hub::edit`], so phones see
//! it; bad input is refused with a Danish message naming the field, and nothing changes.
//!
//! Archiving asks first on a page of its own (the pages run no script), then says what
//! happened and offers to undo it (Gendan) in the same message. Archived records leave lists
//! and pickers ([`TenantData::live_areas`] and friends) but stay in history and in the
//! reports of their period.
//!
//! Routes: `/administration/organisationer` (list and create), and for each kind
//! `/administration/<kind>/{id}` (edit form, save), `…/{id}/arkiver` (ask, archive) and
//! `…/{id}/gendan` (restore).

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::model::activity::SessionSeries;
use nabo_core::model::org::{Organisation, Venue};
use nabo_core::model::programme::{FundingShare, InstitutionSite};
use nabo_core::prelude::*;
use nabo_core::rounds;
use serde::Deserialize;

use super::data::TenantData;
use super::fmt::{self, Da};
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;

/// The routes of the edit and archive pages (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    let mut r = Router::new()
        .route(
            "/administration/organisationer",
            get(organisations).post(create_organisation),
        )
        .route(
            "/administration/organisationer/{id}",
            get(organisation_form).post(save_organisation),
        )
        .route(
            "/administration/omraader/{id}",
            get(area_form).post(save_area),
        )
        .route(
            "/administration/programmer/{id}",
            get(programme_form).post(save_programme),
        )
        .route(
            "/administration/aktiviteter/{id}",
            get(activity_form).post(save_activity),
        )
        .route("/administration/aktiviteter/{id}/serier", post(add_series))
        .route(
            "/administration/aktiviteter/{id}/serier/{series}",
            post(change_series),
        )
        .route(
            "/administration/aktiviteter/{id}/serier/{series}/stop",
            get(confirm_stop_series).post(stop_series),
        );
    for k in Kind::ALL {
        r = r
            .route(
                &format!("/administration/{}/{{id}}/arkiver", k.path()),
                get(move |s, v, p| confirm_archive(k, s, v, p))
                    .post(move |s, v, p| set_archived(k, true, s, v, p)),
            )
            .route(
                &format!("/administration/{}/{{id}}/gendan", k.path()),
                post(move |s, v, p| set_archived(k, false, s, v, p)),
            );
    }
    r
}

/// What can be edited and archived here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Organisation,
    Area,
    Programme,
    Activity,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Organisation,
        Kind::Area,
        Kind::Programme,
        Kind::Activity,
    ];

    /// The path segment under `/administration`.
    fn path(self) -> &'static str {
        match self {
            Kind::Organisation => "organisationer",
            Kind::Area => "omraader",
            Kind::Programme => "programmer",
            Kind::Activity => "aktiviteter",
        }
    }

    /// The notice code's prefix.
    fn code(self) -> &'static str {
        match self {
            Kind::Organisation => "organisation",
            Kind::Area => "omraade",
            Kind::Programme => "program",
            Kind::Activity => "aktivitet",
        }
    }

    /// "The …", capitalised, as a notice begins.
    fn the(self) -> &'static str {
        match self {
            Kind::Organisation => "Organisationen",
            Kind::Area => "Området",
            Kind::Programme => "Programmet",
            Kind::Activity => "Aktiviteten",
        }
    }

    /// Where its list is, and the list's anchor.
    fn list(self) -> (&'static str, &'static str) {
        match self {
            Kind::Organisation => ("/administration/organisationer", ""),
            Kind::Area => ("/administration", "#omraader"),
            Kind::Programme => ("/administration", "#programmer"),
            Kind::Activity => ("/administration", "#aktiviteter"),
        }
    }

    /// What archiving means for this kind, said before it is done.
    fn consequence(self) -> &'static str {
        match self {
            Kind::Organisation => {
                "Organisationen forsvinder fra lister og valgmuligheder. Programmer, områder og netværk, der henviser til den, beholder henvisningen."
            }
            Kind::Area => {
                "Området forsvinder fra lister og valgmuligheder. Aktiviteter og registreringer fra området bliver, og rapporter for perioden tæller dem stadig med."
            }
            Kind::Programme => {
                "Programmet forsvinder fra lister og valgmuligheder. Dets aktiviteter og registreringer bliver, og rapporter for perioden tæller dem stadig med."
            }
            Kind::Activity => {
                "Aktiviteten forsvinder fra aktivitetslisten og valgmulighederne, også på telefonerne. Dens fremmøde og målinger bliver, og rapporter for perioden tæller dem stadig med."
            }
        }
    }
}

/// What a form did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Created,
    Saved,
    Archived,
    Restored,
}

impl Action {
    const ALL: [Action; 4] = [
        Action::Created,
        Action::Saved,
        Action::Archived,
        Action::Restored,
    ];

    fn code(self) -> &'static str {
        match self {
            Action::Created => "oprettet",
            Action::Saved => "gemt",
            Action::Archived => "arkiveret",
            Action::Restored => "gendannet",
        }
    }
}

/// `?besked=<kind>-<action>&post=<id>` on a page a form leads back to.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    besked: Option<String>,
    post: Option<String>,
}

/// Back to the kind's list, saying what happened to which record.
fn done(kind: Kind, action: Action, id: &str) -> Response {
    let (path, anchor) = kind.list();
    Redirect::to(&format!(
        "{path}?besked={}-{}&post={}{anchor}",
        kind.code(),
        action.code(),
        fmt::url_encode(id)
    ))
    .into_response()
}

/// After a create form on the management page: back to the list, saying it was created.
pub fn created(kind: Kind, id: &str) -> Response {
    done(kind, Action::Created, id)
}

/// The management page's other forms and what they say afterwards.
const OTHER: [(&str, &str); 10] = [
    (
        "serie-oprettet",
        "Den faste mødetid er tilføjet. Telefonerne opretter gangene ud fra den.",
    ),
    (
        "serie-gemt",
        "Den faste mødetid er gemt. Ændringen gælder de gange, der ikke er oprettet endnu.",
    ),
    (
        "serie-stoppet",
        "Den faste mødetid er stoppet. Gange, der allerede er holdt, bliver i historikken.",
    ),
    ("smaa-tal-gemt", "Grænsen for små tal er gemt."),
    (
        "noter-gemt",
        "Indstillingen for fritekstnoter er gemt. Telefonerne får den ved næste synkronisering.",
    ),
    ("rolle-tildelt", "Rollen er tildelt."),
    (
        "placering-flyttet",
        "Placeringen er flyttet. Det, der er registreret før, bliver i det gamle område.",
    ),
    ("type-tilfoejet", "Den lokale aktivitetstype er tilføjet."),
    (
        "forandringsteori-gemt",
        "Leddet er føjet til forandringsteorien.",
    ),
    (
        "bestyrelse-gemt",
        "Bestyrelsen er gemt. Den vises under Samarbejde → Bestyrelser.",
    ),
];

/// Back to `path#anchor` after one of the [`OTHER`] forms.
pub fn said(path: &str, code: &'static str, anchor: &str) -> Response {
    debug_assert!(OTHER.iter().any(|(c, _)| *c == code));
    Redirect::to(&format!("{path}?besked={code}{anchor}")).into_response()
}

/// The record's name, for a notice.
fn name_of(d: &TenantData, kind: Kind, id: &str) -> Option<String> {
    match kind {
        Kind::Organisation => d
            .orgs
            .iter()
            .find(|(k, _)| k.as_str() == id)
            .map(|(_, o)| o.name.clone()),
        Kind::Area => d
            .areas
            .iter()
            .find(|(k, _)| k.as_str() == id)
            .map(|(_, a)| a.name.clone()),
        Kind::Programme => d
            .programmes
            .iter()
            .find(|(k, _)| k.as_str() == id)
            .map(|(_, p)| p.name.clone()),
        Kind::Activity => d
            .activities
            .iter()
            .find(|a| a.id.as_str() == id)
            .map(|a| a.activity.name.clone()),
    }
}

/// The message at the top of a page after a form: what happened, and after archiving the
/// way back (Gendan) in the same place.
pub fn notice(q: &NoticeQuery, d: &TenantData) -> Markup {
    if let Some((_, text)) = OTHER.iter().find(|(c, _)| q.besked.as_deref() == Some(*c)) {
        return html! { p class="besked" role="status" { (text) } };
    }
    let Some((kind, action)) = q.besked.as_deref().and_then(|b| {
        Kind::ALL.into_iter().find_map(|k| {
            let rest = b.strip_prefix(k.code())?.strip_prefix('-')?;
            Action::ALL
                .into_iter()
                .find(|a| a.code() == rest)
                .map(|a| (k, a))
        })
    }) else {
        return html! {};
    };
    let id = q.post.as_deref().unwrap_or_default();
    let name = name_of(d, kind, id);
    html! {
        div class="besked" role="status" {
            p {
                (kind.the()) @if let Some(n) = &name { " «" (n) "»" } " er " (action.code()) "."
                @if action == Action::Archived { " Den findes stadig i historikken og i rapporterne for perioden." }
            }
            @if action == Action::Archived && name.is_some() {
                form method="post" action={"/administration/" (kind.path()) "/" (id) "/gendan"} class="inline" {
                    button type="submit" class="sekundaer" { "Fortryd (gendan)" }
                }
            }
        }
    }
}

/// The buttons under an edit form: archive (asks first) or restore.
fn archive_controls(kind: Kind, id: &str, archived: bool) -> Markup {
    html! {
        @if archived {
            p { "Arkiveret." }
            form method="post" action={"/administration/" (kind.path()) "/" (id) "/gendan"} {
                button type="submit" { "Gendan" }
            }
        } @else {
            p { a class="knap fare" href={"/administration/" (kind.path()) "/" (id) "/arkiver"} { "Arkivér …" } }
        }
    }
}

/// The archived records of a kind, each with Gendan (under a list on the pages).
pub fn archived_list(kind: Kind, rows: &[(String, String)]) -> Markup {
    html! {
        @if !rows.is_empty() {
            details class="arkiv" {
                summary { "Arkiverede (" (rows.len()) ")" }
                ul {
                    @for (id, name) in rows {
                        li {
                            a href={"/administration/" (kind.path()) "/" (id)} { (name) } " "
                            form method="post" action={"/administration/" (kind.path()) "/" (id) "/gendan"} class="inline" {
                                button type="submit" class="sekundaer" aria-label={"Gendan " (name)} { "Gendan" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The edit link of a record in a list.
pub fn edit_link(kind: Kind, id: &str, name: &str) -> Markup {
    html! { a href={"/administration/" (kind.path()) "/" (id)} aria-label={"Redigér " (name)} { "Redigér" } }
}

pub(super) fn bad(text: impl Into<String>) -> WebError {
    WebError::BadRequest(text.into())
}

/// A required text field, trimmed; `label` names it in the Danish error.
pub(super) fn text(form: &FormFields, name: &str, label: &str) -> Result<String, WebError> {
    match form.one(name) {
        Some(v) if !v.is_empty() => {
            if v.chars().count() > 200 {
                Err(bad(format!("«{label}» må højst være 200 tegn.")))
            } else {
                Ok(v.to_owned())
            }
        }
        _ => Err(bad(format!("«{label}» skal udfyldes."))),
    }
}

/// An optional whole number within `max`; `label` names it.
fn number<T: std::str::FromStr + PartialOrd + From<u8>>(
    form: &FormFields,
    name: &str,
    label: &str,
    max: T,
) -> Result<Option<T>, WebError> {
    match form.one(name).filter(|x| !x.is_empty()) {
        None => Ok(None),
        Some(x) => match x.parse::<T>() {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(bad(format!("«{label}» skal være et helt tal fra 0."))),
        },
    }
}

/// The most extra funding rows a programme form takes (beyond one per funder kind).
const MAX_EXTRA_SHARES: usize = 20;

/// Lines of a text area, trimmed, blanks dropped, each within 200 characters.
fn lines(form: &FormFields, name: &str, label: &str) -> Result<Vec<String>, WebError> {
    let v: Vec<String> = form
        .one(name)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if v.iter().any(|l| l.chars().count() > 200) {
        return Err(bad(format!("En linje i «{label}» er over 200 tegn.")));
    }
    Ok(v)
}

/// The key `id` of a record in `records`; an unknown or malformed one is not found.
fn known<K: std::str::FromStr + Ord, V>(
    records: &std::collections::BTreeMap<K, V>,
    id: &str,
) -> Result<K, WebError> {
    id.parse::<K>()
        .ok()
        .filter(|x| records.contains_key(x))
        .ok_or(WebError::NotFound)
}

/// Refuses a form that names an archived record (a page loaded before it was archived,
/// ADR 0026): the field and the record are named, nothing is changed.
pub(super) fn refuse_archived(
    kind: Kind,
    archived: bool,
    label: &str,
    name: &str,
) -> Result<(), WebError> {
    if archived {
        return Err(bad(format!(
            "«{label}»: {} «{name}» er arkiveret. Genindlæs siden, og vælg igen.",
            kind.the().to_lowercase()
        )));
    }
    Ok(())
}

/// [`refuse_archived`] for the housing areas of a form.
pub(super) fn refuse_archived_areas<'a>(
    d: &TenantData,
    areas: impl IntoIterator<Item = &'a AreaId>,
    label: &str,
) -> Result<(), WebError> {
    for a in areas {
        if let Some(x) = d.areas.get(a) {
            refuse_archived(Kind::Area, x.archived, label, &x.name)?;
        }
    }
    Ok(())
}

/// The tenant document's meta (central staff edit it through the hub).
pub(super) fn tenant_meta(d: &TenantData) -> Result<crate::storage::DocMeta, WebError> {
    d.tenant_meta.clone().ok_or(WebError::NotFound)
}

// Organisations -------------------------------------------------------------------------------

fn org_kind_da(k: OrgKind) -> &'static str {
    match k {
        OrgKind::Kommune => "Kommune",
        OrgKind::KommuneDepartment => "Kommunal forvaltning",
        OrgKind::HousingOrganisation => "Boligorganisation",
        OrgKind::HousingDepartment => "Boligafdeling",
        OrgKind::Ngo => "Civilsamfundsorganisation",
        OrgKind::LocalAssociation => "Lokal forening",
        OrgKind::Police => "Politi",
        OrgKind::Health => "Sundhedsvæsen",
        OrgKind::Business => "Erhvervsliv",
        OrgKind::Funder => "Fond eller bevillingsgiver",
        OrgKind::KnowledgeCentre => "Videnscenter",
        OrgKind::Press => "Lokalpresse",
        OrgKind::Other => "Andet",
    }
}

fn org_fields(d: &TenantData, current: Option<(&OrgId, &Organisation)>) -> Markup {
    let o = current.map(|(_, o)| o);
    html! {
        label { "Navn" input name="navn" required maxlength="200" value=[o.map(|o| o.name.as_str())]; }
        label { "Art"
            select name="art" required {
                @for k in OrgKind::ALL {
                    option value=(k.code()) selected[o.is_some_and(|o| o.kind == *k)] { (org_kind_da(*k)) }
                }
            }
        }
        label { "Hører under (valgfri)"
            select name="overordnet" {
                option value="" { "Ingen" }
                @for (id, x) in d.orgs.iter().filter(|(id, x)| !x.archived && current.is_none_or(|(c, _)| c != *id)) {
                    option value=(id.as_str()) selected[o.is_some_and(|o| o.parent.as_ref() == Some(id))] { (x.name) }
                }
            }
        }
    }
}

/// `GET /administration/organisationer`.
async fn organisations(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let archived: Vec<(String, String)> = d
        .orgs
        .iter()
        .filter(|(_, o)| o.archived)
        .map(|(id, o)| (id.to_string(), o.name.clone()))
        .collect();
    Ok(page(
        &v,
        Nav::Admin,
        "Organisationer",
        html! {
            (notice(&q, &d))
            p { "Kommuner, forvaltninger, boligorganisationer, foreninger og andre, som programmer, bestyrelser og netværk henviser til." }
            div class="rul" { table {
                thead { tr { th scope="col" { "Organisation" } th scope="col" { "Art" } th scope="col" { "Hører under" } th scope="col" {} } }
                tbody {
                    @for (id, o) in d.orgs.iter().filter(|(_, o)| !o.archived) { tr {
                        th scope="row" { (o.name) }
                        td { (org_kind_da(o.kind)) }
                        td { (o.parent.as_ref().and_then(|p| d.orgs.get(p)).map(|p| p.name.clone()).unwrap_or_default()) }
                        td { (edit_link(Kind::Organisation, id.as_str(), &o.name)) }
                    } }
                }
            } }
            (archived_list(Kind::Organisation, &archived))
            details {
                summary { "Tilføj organisation" }
                form method="post" action="/administration/organisationer" class="stak" {
                    (org_fields(&d, None))
                    button type="submit" { "Tilføj" }
                }
            }
            p { a href="/administration" { "Tilbage til administration" } }
        },
    ))
}

fn org_from_form(
    form: &FormFields,
    d: &TenantData,
    archived: bool,
) -> Result<Organisation, WebError> {
    let kind: OrgKind = form
        .one("art")
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| bad("Vælg organisationens art."))?;
    let parent = match form.one("overordnet").filter(|x| !x.is_empty()) {
        None => None,
        Some(p) => Some(
            p.parse::<OrgId>()
                .ok()
                .filter(|p| d.orgs.contains_key(p))
                .ok_or_else(|| bad("«Hører under» er ikke en kendt organisation."))?,
        ),
    };
    Ok(Organisation {
        name: text(form, "navn", "Navn")?,
        kind,
        parent,
        archived,
    })
}

/// `POST /administration/organisationer`.
async fn create_organisation(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let org = org_from_form(&form, &d, false)?;
    let id = OrgId::random();
    let by = v.author();
    s.hub
        .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
            t.put_organisation(&by, &id, org)
        })
        .await?;
    Ok(done(Kind::Organisation, Action::Created, id.as_str()))
}

fn org_id(d: &TenantData, id: &str) -> Result<OrgId, WebError> {
    known(&d.orgs, id)
}

/// `GET /administration/organisationer/{id}`.
async fn organisation_form(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let id = org_id(&d, &id)?;
    let o = &d.orgs[&id];
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Redigér {}", o.name),
        html! {
            form method="post" action={"/administration/organisationer/" (id)} class="stak" {
                (org_fields(&d, Some((&id, o))))
                button type="submit" { "Gem" }
            }
            (archive_controls(Kind::Organisation, id.as_str(), o.archived))
            p { a href="/administration/organisationer" { "Tilbage til organisationerne" } }
        },
    ))
}

/// `POST /administration/organisationer/{id}`.
async fn save_organisation(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let id = org_id(&d, &id)?;
    let new = org_from_form(&form, &d, d.orgs[&id].archived)?;
    let by = v.author();
    s.hub
        .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
            t.edit_organisation(&by, &id, |o| {
                o.name = new.name;
                o.kind = new.kind;
                o.parent = new.parent;
            })
        })
        .await?;
    Ok(done(Kind::Organisation, Action::Saved, id.as_str()))
}

// Housing areas -------------------------------------------------------------------------------

fn area_id(d: &TenantData, id: &str) -> Result<AreaId, WebError> {
    known(&d.areas, id)
}

/// `GET /administration/omraader/{id}`.
async fn area_form(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let id = area_id(&d, &id)?;
    let a = &d.areas[&id];
    let venues: Vec<&str> = a.venues.values().map(|v| v.name.as_str()).collect();
    let blocks: Vec<&str> = a.blocks.iter().map(String::as_str).collect();
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Redigér {}", a.name),
        html! {
            form method="post" action={"/administration/omraader/" (id)} class="stak" {
                label { "Navn" input name="navn" required maxlength="200" value=(a.name); }
                label { "Ejerform" select name="ejerform" { @for t in Tenure::ALL { option value=(t.code()) selected[a.tenure == *t] { (t.da()) } } } }
                label { "Antal beboere" input name="beboere" type="number" min="0" max="100000" value=[a.residents]; }
                label class="valg" { input type="checkbox" name="udsat" value="ja" checked[a.disadvantaged]; " Udsat boligområde" }
                label { "Kommune (valgfri)"
                    select name="kommune" {
                        option value="" { "Ingen valgt" }
                        @for (oid, o) in d.orgs.iter().filter(|(oid, o)| !o.archived || a.municipality.as_ref() == Some(*oid)) {
                            option value=(oid.as_str()) selected[a.municipality.as_ref() == Some(oid)] { (o.name) }
                        }
                    }
                }
                label { "Mødesteder (ét pr. linje)" textarea name="moedesteder" rows="3" { (venues.join("\n")) } }
                label { "Blokke og opgange (én pr. linje)" textarea name="blokke" rows="3" { (blocks.join("\n")) } }
                button type="submit" { "Gem" }
            }
            (archive_controls(Kind::Area, id.as_str(), a.archived))
            p { a href="/administration#omraader" { "Tilbage til administration" } }
        },
    ))
}

/// `POST /administration/omraader/{id}`.
async fn save_area(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let id = area_id(&d, &id)?;
    let name = text(&form, "navn", "Navn")?;
    let tenure: Tenure = form
        .one("ejerform")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("«Ejerform» er ikke en kendt ejerform."))?;
    let residents = number::<u32>(&form, "beboere", "Antal beboere", 100_000)?;
    let municipality = match form.one("kommune").filter(|x| !x.is_empty()) {
        None => None,
        Some(o) => Some(
            o.parse::<OrgId>()
                .ok()
                .filter(|o| d.orgs.contains_key(o))
                .ok_or_else(|| bad("«Kommune» er ikke en kendt organisation."))?,
        ),
    };
    let venue_names = lines(&form, "moedesteder", "Mødesteder")?;
    let blocks = lines(&form, "blokke", "Blokke og opgange")?;
    let disadvantaged = form.one("udsat").is_some();
    let by = v.author();
    s.hub
        .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
            t.edit_area(&by, &id, |a| {
                a.name = name;
                a.tenure = tenure;
                a.residents = residents;
                a.disadvantaged = disadvantaged;
                a.municipality = municipality;
                // A venue keeps its id while its name stays (records refer to the id).
                let mut venues = IdMap::new();
                for n in venue_names {
                    let vid = a
                        .venues
                        .iter()
                        .find(|(_, v)| v.name == n)
                        .map_or_else(VenueId::random, |(k, _)| k.clone());
                    venues.insert(vid, Venue { name: n });
                }
                a.venues = venues;
                a.blocks = blocks.into_iter().collect();
            })
        })
        .await?;
    Ok(done(Kind::Area, Action::Saved, id.as_str()))
}

// Programmes ----------------------------------------------------------------------------------

fn programme_id(d: &TenantData, id: &str) -> Result<ProgrammeId, WebError> {
    known(&d.programmes, id)
}

/// `GET /administration/programmer/{id}`.
async fn programme_form(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let id = programme_id(&d, &id)?;
    let p = &d.programmes[&id];
    let share = |k: FunderKind| p.funding.values().find(|f| f.kind == k);
    // Shares beyond the first of their kind (two foundations, say), then two empty rows.
    let extras: Vec<Option<&FundingShare>> = {
        let mut seen = std::collections::BTreeSet::new();
        p.funding
            .values()
            .filter(|f| !seen.insert(f.kind))
            .map(Some)
            .chain([None, None])
            .collect()
    };
    let sites: Vec<&str> = p.sites.values().map(|s| s.name.as_str()).collect();
    let has_activities = d.activities.iter().any(|a| a.activity.programme == id);
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Redigér {}", p.name),
        html! {
            (notice(&q, &d))
            form method="post" action={"/administration/programmer/" (id)} class="stak" {
                label { "Navn" input name="navn" required maxlength="200" value=(p.name); }
                label { "Fra" input type="date" name="fra" required value=(p.start.to_string()); }
                label { "Til" input type="date" name="til" required value=(p.end.to_string()); }
                label { "Bevillingsrunde / taksonomi"
                    select name="taksonomi" disabled[has_activities] {
                        @for t in d.catalogue.taxonomies() { option value=(t.id) selected[p.taxonomy.as_str() == t.id] { (t.name_da) } }
                    }
                }
                @if has_activities {
                    input type="hidden" name="taksonomi" value=(p.taxonomy);
                    p class="note" { "Bevillingsrunden kan ikke ændres, når programmet har aktiviteter: deres typer hører til runden." }
                }
                label { "Bevillingens betegnelse (valgfri)" input name="bevilling" maxlength="200" value=[p.funding_round.as_deref()]; }
                fieldset { legend { "Boligområder" }
                    @for (aid, a) in d.areas.iter().filter(|(aid, a)| !a.archived || p.areas.contains(aid)) {
                        label class="valg" { input type="checkbox" name="omraade" value=(aid.as_str()) checked[p.areas.contains(aid)]; " " (a.name) }
                    }
                }
                label class="valg" { input type="checkbox" name="udvalgte" value="ja" checked[p.selected_citizens]; " Udvalgte borgere uden for områderne" }
                label { "Steder uden for områderne, fx skoler og institutioner (ét pr. linje)" textarea name="steder" rows="3" { (sites.join("\n")) } }
                fieldset { legend { "Geografisk typologi" }
                    @for t in GeographyTypology::ALL { label class="valg" { input type="checkbox" name="typologi" value=(t.code()) checked[p.typologies.contains(t)]; " " (t.da()) } }
                }
                fieldset { legend { "Finansiering: andel (procent), beløb (kr.) og finansierende organisation" }
                    @for k in FunderKind::ALL {
                        @let f = share(*k);
                        div class="raekke" {
                            label { (k.da()) " – andel" input type="number" name={"andel-" (k.code())} min="0" max="100" value=(f.map_or(0, |f| f.share_pct)); }
                            label { "beløb" input type="number" name={"beloeb-" (k.code())} min="0" value=[f.and_then(|f| f.amount_dkk)]; }
                            label { "organisation"
                                select name={"org-" (k.code())} {
                                    option value="" { "Ingen valgt" }
                                    @for (oid, o) in d.orgs.iter().filter(|(_, o)| !o.archived) {
                                        option value=(oid.as_str()) selected[f.is_some_and(|f| f.org.as_ref() == Some(oid))] { (o.name) }
                                    }
                                }
                            }
                        }
                    }
                    p class="lille" { "Flere kilder af samme slags (fx to fonde): én række hver." }
                    @for (i, f) in extras.iter().enumerate() {
                        div class="raekke" {
                            label { "slags"
                                select name={"ekstra-art-" (i)} {
                                    option value="" { "–" }
                                    @for k in FunderKind::ALL {
                                        option value=(k.code()) selected[f.is_some_and(|f| f.kind == *k)] { (k.da()) }
                                    }
                                }
                            }
                            label { "andel" input type="number" name={"ekstra-andel-" (i)} min="0" max="100" value=[f.map(|f| f.share_pct)]; }
                            label { "beløb" input type="number" name={"ekstra-beloeb-" (i)} min="0" value=[f.and_then(|f| f.amount_dkk)]; }
                            label { "organisation"
                                select name={"ekstra-org-" (i)} {
                                    option value="" { "Ingen valgt" }
                                    @for (oid, o) in d.orgs.iter().filter(|(_, o)| !o.archived) {
                                        option value=(oid.as_str()) selected[f.is_some_and(|f| f.org.as_ref() == Some(oid))] { (o.name) }
                                    }
                                }
                            }
                        }
                    }
                }
                label { "Strategimiks: offentlig indramning i procent (resten er civil)" input type="number" name="offentlig" min="0" max="100" value=(p.public_framing_pct); }
                fieldset { legend { "Underskrivere af helhedsplanen" }
                    @for (oid, o) in d.orgs.iter().filter(|(oid, o)| !o.archived || p.signatories.contains(oid)) {
                        label class="valg" { input type="checkbox" name="underskriver" value=(oid.as_str()) checked[p.signatories.contains(oid)]; " " (o.name) }
                    }
                }
                button type="submit" { "Gem" }
            }
            (super::boards::editor(&d, &id, p))
            (archive_controls(Kind::Programme, id.as_str(), p.archived))
            p { a href="/administration#programmer" { "Tilbage til administration" } }
        },
    ))
}

/// `POST /administration/programmer/{id}`.
async fn save_programme(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let id = programme_id(&d, &id)?;
    let old = &d.programmes[&id];
    let name = text(&form, "navn", "Navn")?;
    let (start, end) = (form.date("fra", "Fra")?, form.date("til", "Til")?);
    if end < start {
        return Err(bad("«Til» ligger før «Fra»."));
    }
    let taxonomy: Code = form
        .one("taksonomi")
        .and_then(|t| t.parse().ok())
        .filter(|t: &Code| d.catalogue.taxonomy(t.as_str()).is_some())
        .ok_or_else(|| bad("«Bevillingsrunde» er ikke en kendt bevillingsrunde."))?;
    if taxonomy != old.taxonomy && d.activities.iter().any(|a| a.activity.programme == id) {
        return Err(bad(
            "«Bevillingsrunde» kan ikke ændres, når programmet har aktiviteter.",
        ));
    }
    let funding_round = form
        .one("bevilling")
        .filter(|x| !x.is_empty())
        .map(str::to_owned);
    let areas: Set<AreaId> = form
        .all("omraade")
        .map(|a| {
            a.parse::<AreaId>()
                .ok()
                .filter(|a| d.areas.contains_key(a))
                .ok_or_else(|| bad("«Boligområder» indeholder et ukendt område."))
        })
        .collect::<Result<_, _>>()?;
    refuse_archived_areas(
        &d,
        areas.iter().filter(|a| !old.areas.contains(a)),
        "Boligområder",
    )?;
    let typologies: Set<GeographyTypology> = form
        .all("typologi")
        .map(|t| {
            t.parse()
                .map_err(|_| bad("«Geografisk typologi» indeholder en ukendt typologi."))
        })
        .collect::<Result<_, _>>()?;
    let known_org = |field: &str, o: &str| -> Result<OrgId, WebError> {
        o.parse::<OrgId>()
            .ok()
            .filter(|o| d.orgs.contains_key(o))
            .ok_or_else(|| bad(format!("«{field}» er ikke en kendt organisation.")))
    };
    let mut funding = IdMap::new();
    for k in FunderKind::ALL {
        let label = format!("Andel {}", k.da());
        let pct =
            match form
                .one(&format!("andel-{}", k.code()))
                .filter(|x| !x.is_empty())
            {
                None => 0,
                Some(x) => x.parse::<u8>().ok().filter(|p| *p <= 100).ok_or_else(|| {
                    bad(format!("«{label}» skal være et helt tal fra 0 til 100."))
                })?,
            };
        let amount = number::<u64>(
            &form,
            &format!("beloeb-{}", k.code()),
            &format!("Beløb {}", k.da()),
            u64::MAX,
        )?;
        let org = match form
            .one(&format!("org-{}", k.code()))
            .filter(|x| !x.is_empty())
        {
            None => None,
            Some(o) => Some(known_org(&format!("Organisation for {}", k.da()), o)?),
        };
        if pct > 0 || amount.is_some() || org.is_some() {
            funding.insert(
                format!("f-{}", k.code())
                    .parse()
                    .map_err(|_| WebError::Internal)?,
                FundingShare {
                    kind: *k,
                    org,
                    share_pct: pct,
                    amount_dkk: amount,
                },
            );
        }
    }
    // Further shares of a kind already listed (two foundations, say), one row each.
    for i in 0..MAX_EXTRA_SHARES {
        let row = i + 1;
        let kind = form
            .one(&format!("ekstra-art-{i}"))
            .filter(|x| !x.is_empty());
        let pct = number::<u8>(
            &form,
            &format!("ekstra-andel-{i}"),
            &format!("Andel (ekstra række {row})"),
            100,
        )?;
        let amount = number::<u64>(
            &form,
            &format!("ekstra-beloeb-{i}"),
            &format!("Beløb (ekstra række {row})"),
            u64::MAX,
        )?;
        let org = match form
            .one(&format!("ekstra-org-{i}"))
            .filter(|x| !x.is_empty())
        {
            None => None,
            Some(o) => Some(known_org(&format!("Organisation (ekstra række {row})"), o)?),
        };
        let Some(kind) = kind else {
            if pct.is_some_and(|p| p > 0) || amount.is_some() || org.is_some() {
                return Err(bad(format!(
                    "«Slags» (ekstra række {row}): vælg, hvilken slags kilde det er."
                )));
            }
            continue;
        };
        let kind: FunderKind = kind.parse().map_err(|_| {
            bad(format!(
                "«Slags» (ekstra række {row}) er ikke en kendt slags."
            ))
        })?;
        let pct = pct.unwrap_or(0);
        if pct == 0 && amount.is_none() && org.is_none() {
            continue;
        }
        let n = funding.values().filter(|f| f.kind == kind).count() + 1;
        funding.insert(
            format!("f-{}-{n}", kind.code())
                .parse()
                .map_err(|_| WebError::Internal)?,
            FundingShare {
                kind,
                org,
                share_pct: pct,
                amount_dkk: amount,
            },
        );
    }
    if funding
        .values()
        .map(|f| u32::from(f.share_pct))
        .sum::<u32>()
        > 100
    {
        return Err(bad(
            "«Finansiering»: andelene er tilsammen over 100 procent.",
        ));
    }
    let public = number::<u8>(&form, "offentlig", "Offentlig indramning", 100)?.unwrap_or(0);
    let signatories: Set<OrgId> = form
        .all("underskriver")
        .map(|o| known_org("Underskrivere", o))
        .collect::<Result<_, _>>()?;
    let site_names = lines(&form, "steder", "Steder uden for områderne")?;
    let selected = form.one("udvalgte").is_some();
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
            t.edit_programme(&by, cat, &id, |p| {
                p.name = name;
                p.start = start;
                p.end = end;
                p.taxonomy = taxonomy;
                p.funding_round = funding_round;
                p.areas = areas;
                p.typologies = typologies;
                p.funding = funding;
                p.public_framing_pct = public;
                p.signatories = signatories;
                p.selected_citizens = selected;
                let mut sites = IdMap::new();
                for n in site_names {
                    let (sid, org) = p.sites.iter().find(|(_, s)| s.name == n).map_or_else(
                        || (SiteId::random(), None),
                        |(k, s)| (k.clone(), s.org.clone()),
                    );
                    sites.insert(sid, InstitutionSite { name: n, org });
                }
                p.sites = sites;
            })
        })
        .await?;
    Ok(done(Kind::Programme, Action::Saved, id.as_str()))
}

// Activities ----------------------------------------------------------------------------------

fn activity_status_da(s: ActivityStatus) -> &'static str {
    match s {
        ActivityStatus::Planned => "Planlagt",
        ActivityStatus::Running => "I gang",
        ActivityStatus::Ended => "Afsluttet",
    }
}

/// `GET /administration/aktiviteter/{id}`.
async fn activity_form(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let e = id
        .parse::<ActivityId>()
        .ok()
        .and_then(|x| d.activity(&x))
        .ok_or(WebError::NotFound)?;
    let a = &e.activity;
    let tax = a.taxonomy.as_str();
    let offered = rounds::offered_types(&d.catalogue, tax);
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Redigér {}", a.name),
        html! {
            (notice(&q, &d))
            form method="post" action={"/administration/aktiviteter/" (e.id.as_str())} class="stak" {
                label { "Navn" input name="navn" required maxlength="200" value=(a.name); }
                label { "Aktivitetstype (fra programmets bevillingsrunde)"
                    select name="type" required {
                        @for (area, types) in &offered {
                            optgroup label=(area.name_da) {
                                @for t in types { option value=(t.code) selected[a.primary_type.as_str() == t.code] { (t.name_da) } }
                            }
                        }
                    }
                }
                fieldset { legend { "Sekundære typer" }
                    @for (_, types) in &offered { @for t in types {
                        label class="valg" { input type="checkbox" name="sekundaer" value=(t.code) checked[a.secondary_types.iter().any(|c| c.as_str() == t.code)]; " " (t.name_da) }
                    } }
                }
                fieldset { legend { "Målgrupper (den første valgte er den primære)" }
                    @for g in d.catalogue.target_groups().filter(|g| !g.retired || a.target_groups.keys().any(|c| c.as_str() == g.code)) {
                        label class="valg" { input type="checkbox" name="maalgruppe" value=(g.code) checked[a.target_groups.keys().any(|c| c.as_str() == g.code)]; " " (g.name_da) }
                    }
                }
                label class="valg" { input type="checkbox" name="boern" value="ja" checked[a.children_under_15]; " Børn under 15 deltager (frivillige skal have gyldig børneattest)" }
                label class="valg" { input type="checkbox" name="hovedaktivitet" value="ja" checked[a.main_activity]; " Hovedaktivitet i indsatsområdet" }
                label { "Boligområde"
                    select name="omraade" required {
                        @for (aid, ar) in d.areas.iter().filter(|(aid, ar)| !ar.archived || **aid == a.area) {
                            option value=(aid.as_str()) selected[*aid == a.area] { (ar.name) }
                        }
                    }
                }
                label { "Flyttes fra (kun ved nyt område; det, der er registreret før, bliver i det gamle område)"
                    input type="date" name="flyttes" value=(d.today.to_string());
                }
                label { "Status" select name="status" { @for st in ActivityStatus::ALL { option value=(st.code()) selected[a.status == *st] { (activity_status_da(*st)) } } } }
                label { "Retsgrundlag for deltagernes oplysninger"
                    select name="grundlag" { @for b in LegalBasis::ALL { option value=(b.code()) selected[a.legal_basis == *b] { (super::consent::basis_da(*b)) } } }
                }
                label { "Lovhjemmel (kun ved anden lovhjemmel, fx «Serviceloven § 11, stk. 3»)"
                    input name="lovhjemmel" maxlength=(nabo_core::consent::MAX_STATUTE) value=[a.legal_basis_text.as_deref()];
                }
                label { "Startede" input type="date" name="start" value=[a.start.map(|x| x.to_string())]; }
                label { "Sluttede" input type="date" name="slut" value=[a.end.map(|x| x.to_string())]; }
                button type="submit" { "Gem" }
            }
            (series_section(&d, e)?)
            (archive_controls(Kind::Activity, e.id.as_str(), a.archived))
            p { a href={"/aktiviteter/" (e.id.as_str())} { "Til aktiviteten" } " · " a href="/administration#aktiviteter" { "Tilbage til administration" } }
        },
    ))
}

/// An optional date field; `label` names it.
pub(super) fn opt_date(
    form: &FormFields,
    name: &str,
    label: &str,
) -> Result<Option<Date>, WebError> {
    super::optional_date(form.one(name), label)
}

/// `POST /administration/aktiviteter/{id}`: the activity's record, and a move to another
/// area from a date (earlier records keep the area they were captured in).
async fn save_activity(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let e = id
        .parse::<ActivityId>()
        .ok()
        .and_then(|x| d.activity(&x))
        .ok_or(WebError::NotFound)?;
    let tax = e.activity.taxonomy.as_str();
    let name = text(&form, "navn", "Navn")?;
    let type_code = |c: &str, label: &str| -> Result<Code, WebError> {
        c.parse::<Code>()
            .ok()
            .filter(|c| d.catalogue.activity_type(tax, c.as_str()).is_some())
            .ok_or_else(|| {
                bad(format!(
                    "«{label}» er ikke en type fra aktivitetens bevillingsrunde."
                ))
            })
    };
    let primary = type_code(form.one("type").unwrap_or_default(), "Aktivitetstype")?;
    let secondary: Set<Code> = form
        .all("sekundaer")
        .map(|c| type_code(c, "Sekundære typer"))
        .collect::<Result<_, _>>()?;
    if secondary.contains(&primary) {
        return Err(bad(
            "«Sekundære typer» kan ikke indeholde aktivitetens hovedtype.",
        ));
    }
    let mut groups = IdMap::new();
    for (i, g) in form.all("maalgruppe").enumerate() {
        let g: Code = g
            .parse()
            .ok()
            .filter(|g: &Code| d.catalogue.target_group(g.as_str()).is_some())
            .ok_or_else(|| bad("«Målgrupper» indeholder en ukendt målgruppe."))?;
        groups.insert(
            g,
            if i == 0 {
                Priority::Primary
            } else {
                Priority::Secondary
            },
        );
    }
    if groups.is_empty() {
        return Err(bad("«Målgrupper»: vælg mindst én målgruppe."));
    }
    let area: AreaId = form
        .one("omraade")
        .and_then(|a| a.parse().ok())
        .filter(|a| d.areas.contains_key(a))
        .ok_or_else(|| bad("«Boligområde» er ikke et kendt område."))?;
    let moved_from = if area == e.activity.area {
        None
    } else {
        refuse_archived_areas(&d, [&area], "Boligområde")?;
        Some(form.date("flyttes", "Flyttes fra")?)
    };
    let status: ActivityStatus = form
        .one("status")
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| bad("«Status» er ikke en kendt status."))?;
    let start = opt_date(&form, "start", "Startede")?;
    let end = opt_date(&form, "slut", "Sluttede")?;
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(bad("«Sluttede» ligger før «Startede»."));
    }
    // The legal basis (ADR 0034); a form without the field keeps it. The statute's text goes
    // with another statutory basis only; the core requires it there.
    let basis = match form.one("grundlag") {
        None => (e.activity.legal_basis, e.activity.legal_basis_text.clone()),
        Some(b) => {
            let b: LegalBasis = b
                .parse()
                .map_err(|_| bad("«Retsgrundlag» er ikke et kendt grundlag."))?;
            let text = form
                .one("lovhjemmel")
                .filter(|t| !t.is_empty() && b == LegalBasis::OtherStatutory)
                .map(str::to_owned);
            (b, text)
        }
    };
    let children = form.one("boern").is_some();
    let main = form.one("hovedaktivitet").is_some();
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&e.meta, &v.principal, |act: &mut ActivityDoc| {
            act.update(&by, cat, |a| {
                a.name = name;
                a.primary_type = primary;
                a.secondary_types = secondary;
                a.target_groups = groups;
                a.children_under_15 = children;
                a.main_activity = main;
                a.status = status;
                a.start = start;
                a.end = end;
                (a.legal_basis, a.legal_basis_text) = basis;
            })?;
            if let Some(from) = moved_from {
                act.move_to_area(&by, cat, area, from)?;
            }
            Ok(())
        })
        .await?;
    Ok(done(Kind::Activity, Action::Saved, e.id.as_str()))
}

// Archive and restore -------------------------------------------------------------------------

/// `GET /administration/<kind>/{id}/arkiver`: asks first, saying what archiving means.
async fn confirm_archive(
    kind: Kind,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let name = name_of(&d, kind, &id).ok_or(WebError::NotFound)?;
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Arkivér {name}?"),
        html! {
            p { (kind.consequence()) }
            p { "Du kan fortryde bagefter (Gendan)." }
            form method="post" action={"/administration/" (kind.path()) "/" (id) "/arkiver"} class="stak" {
                button type="submit" class="fare" { "Arkivér " (name) }
            }
            p { a href={"/administration/" (kind.path()) "/" (id)} { "Fortryd – arkivér ikke" } }
        },
    ))
}

/// `POST /administration/<kind>/{id}/arkiver` and `…/gendan`.
async fn set_archived(
    kind: Kind,
    archived: bool,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let by = v.author();
    let cat = &d.catalogue;
    match kind {
        Kind::Organisation => {
            let oid = org_id(&d, &id)?;
            s.hub
                .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
                    t.set_organisation_archived(&by, &oid, archived)
                })
                .await?;
        }
        Kind::Area => {
            let aid = area_id(&d, &id)?;
            s.hub
                .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
                    t.set_area_archived(&by, &aid, archived)
                })
                .await?;
        }
        Kind::Programme => {
            let pid = programme_id(&d, &id)?;
            s.hub
                .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
                    t.set_programme_archived(&by, cat, &pid, archived)
                })
                .await?;
        }
        Kind::Activity => {
            let e = id
                .parse::<ActivityId>()
                .ok()
                .and_then(|x| d.activity(&x))
                .ok_or(WebError::NotFound)?;
            s.hub
                .edit(&e.meta, &v.principal, |act: &mut ActivityDoc| {
                    act.set_archived(&by, cat, archived)
                })
                .await?;
        }
    }
    let action = if archived {
        Action::Archived
    } else {
        Action::Restored
    };
    Ok(done(kind, action, &id))
}

// Session series (faste mødetider) -----------------------------------------------------------

/// The activity's weekly series, each changeable and stoppable, and a form for a new one.
fn series_section(d: &TenantData, e: &super::data::ActivityEntry) -> Result<Markup, WebError> {
    let series = e.doc.series()?;
    let area = d.areas.get(&e.activity.area);
    let fields = |s: Option<&SessionSeries>| {
        html! {
            label { "Ugedag" select name="ugedag" { @for w in Weekday::ALL { option value=(w.code()) selected[s.is_some_and(|s| s.weekday == w)] { (w.name_da()) } } } }
            label { "Fra kl." input type="time" name="start" required value=[s.map(|s| s.start.to_string())]; }
            label { "Til kl." input type="time" name="slut" required value=[s.map(|s| s.end.to_string())]; }
            label { "Første dato" input type="date" name="fra" required value=(s.map_or(d.today, |s| s.from).to_string()); }
            label { "Sidste dato (valgfri)" input type="date" name="til" value=[s.and_then(|s| s.until).map(|u| u.to_string())]; }
            label { "Mødested"
                select name="moedested" {
                    option value="" { "Intet valgt" }
                    @for (vid, venue) in area.map(|a| a.venues.iter().collect::<Vec<_>>()).unwrap_or_default() {
                        option value=(vid.as_str()) selected[s.is_some_and(|s| s.venue.as_ref() == Some(vid))] { (venue.name) }
                    }
                }
            }
        }
    };
    let base = format!("/administration/aktiviteter/{}/serier", e.id.as_str());
    Ok(html! {
        section id="serier" {
            h2 { "Faste mødetider" }
            p class="note" { "Telefonerne opretter aktivitetens gange ud fra de faste mødetider. En ændring gælder de gange, der ikke er oprettet endnu." }
            @for (sid, s) in &series {
                @if s.cancelled {
                    p { "Stoppet: " (s.weekday.name_da()) " kl. " (s.start) "–" (s.end) }
                } @else {
                    details {
                        summary { (s.weekday.name_da()) " kl. " (s.start) "–" (s.end) " fra " (fmt::date(s.from)) }
                        form method="post" action={(base) "/" (sid.as_str())} class="stak" {
                            (fields(Some(s)))
                            button type="submit" { "Gem mødetiden" }
                        }
                        p { a class="knap fare" href={(base) "/" (sid.as_str()) "/stop"} { "Stop mødetiden …" } }
                    }
                }
            }
            details {
                summary { "Tilføj en fast mødetid" }
                form method="post" action=(base) class="stak" {
                    (fields(None))
                    button type="submit" { "Tilføj mødetid" }
                }
            }
        }
    })
}

/// The hours (`start`, `slut`) and the meeting place (`moedested`: none, or one of the
/// area's venues) of a session or a weekly series; errors name the field.
pub(super) fn hours_and_venue(
    form: &FormFields,
    d: &TenantData,
    area: &AreaId,
) -> Result<(Time, Time, Option<VenueId>), WebError> {
    let (start, end) = (
        form.time("start", "Fra kl.")?,
        form.time("slut", "Til kl.")?,
    );
    if end <= start {
        return Err(bad("«Til kl.» skal ligge efter «Fra kl.»."));
    }
    let venue = match form.one("moedested").filter(|x| !x.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<VenueId>()
                .ok()
                .filter(|v| d.areas.get(area).is_some_and(|a| a.venues.contains_key(v)))
                .ok_or_else(|| bad("«Mødested» er ikke et mødested i aktivitetens område."))?,
        ),
    };
    Ok((start, end, venue))
}

/// A series from the form; errors name the field.
fn series_from_form(
    form: &FormFields,
    d: &TenantData,
    e: &super::data::ActivityEntry,
) -> Result<nabo_core::docs::activity::NewSeries, WebError> {
    let weekday: Weekday = form
        .one("ugedag")
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| bad("«Ugedag» er ikke en ugedag."))?;
    let (start, end, venue) = hours_and_venue(form, d, &e.activity.area)?;
    let from = form.date("fra", "Første dato")?;
    let until = opt_date(form, "til", "Sidste dato")?;
    if until.is_some_and(|u| u < from) {
        return Err(bad("«Sidste dato» ligger før «Første dato»."));
    }
    Ok(nabo_core::docs::activity::NewSeries {
        weekday,
        start,
        end,
        from,
        until,
        venue,
    })
}

pub(super) fn activity_entry<'a>(
    d: &'a TenantData,
    id: &str,
) -> Result<&'a super::data::ActivityEntry, WebError> {
    id.parse::<ActivityId>()
        .ok()
        .and_then(|x| d.activity(&x))
        .ok_or(WebError::NotFound)
}

fn series_done(id: &ActivityId, code: &'static str) -> Response {
    said(
        &format!("/administration/aktiviteter/{}", id.as_str()),
        code,
        "#serier",
    )
}

/// `POST /administration/aktiviteter/{id}/serier`: a new weekly series.
async fn add_series(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let e = activity_entry(&d, &id)?;
    let input = series_from_form(&form, &d, e)?;
    let by = v.author();
    s.hub
        .edit(&e.meta, &v.principal, |act: &mut ActivityDoc| {
            act.add_series(&by, input).map(|_| ())
        })
        .await?;
    Ok(series_done(&e.id, "serie-oprettet"))
}

fn series_id(e: &super::data::ActivityEntry, id: &str) -> Result<SeriesId, WebError> {
    let sid: SeriesId = id.parse().map_err(|_| WebError::NotFound)?;
    if e.doc.series()?.contains_key(&sid) {
        Ok(sid)
    } else {
        Err(WebError::NotFound)
    }
}

/// `POST /administration/aktiviteter/{id}/serier/{series}`: changes a series.
async fn change_series(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, series)): Path<(String, String)>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let e = activity_entry(&d, &id)?;
    let sid = series_id(e, &series)?;
    let input = series_from_form(&form, &d, e)?;
    let by = v.author();
    s.hub
        .edit(&e.meta, &v.principal, |act: &mut ActivityDoc| {
            act.change_series(&by, &sid, |x| {
                x.weekday = input.weekday;
                x.start = input.start;
                x.end = input.end;
                x.from = input.from;
                x.until = input.until;
                x.venue = input.venue;
            })
        })
        .await?;
    Ok(series_done(&e.id, "serie-gemt"))
}

/// `GET /administration/aktiviteter/{id}/serier/{series}/stop`: asks first.
async fn confirm_stop_series(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, series)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let e = activity_entry(&d, &id)?;
    let sid = series_id(e, &series)?;
    let x = &e.doc.series()?[&sid];
    let what = format!("{} kl. {}–{}", x.weekday.name_da(), x.start, x.end);
    Ok(page(
        &v,
        Nav::Admin,
        &format!("Stop mødetiden {what}?"),
        html! {
            p { "Telefonerne opretter ikke flere gange ud fra mødetiden. Gange, der allerede er oprettet eller holdt, bliver med deres fremmøde. Vil aktiviteten mødes igen, tilføjes en ny fast mødetid." }
            form method="post" action={"/administration/aktiviteter/" (e.id.as_str()) "/serier/" (sid.as_str()) "/stop"} {
                button type="submit" class="fare" { "Stop mødetiden" }
            }
            p { a href={"/administration/aktiviteter/" (e.id.as_str()) "#serier"} { "Fortryd – stop ikke" } }
        },
    ))
}

/// `POST /administration/aktiviteter/{id}/serier/{series}/stop`.
async fn stop_series(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, series)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let e = activity_entry(&d, &id)?;
    let sid = series_id(e, &series)?;
    let by = v.author();
    s.hub
        .edit(&e.meta, &v.principal, |act: &mut ActivityDoc| {
            act.cancel_series(&by, &sid)
        })
        .await?;
    Ok(series_done(&e.id, "serie-stoppet"))
}
