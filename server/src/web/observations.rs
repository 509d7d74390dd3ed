//! Observations from safety walks (tryghedsvandringer, tryghedskorps): broken lighting,
//! vandalism, waste — not personal data — routed to the estate office (ejendomskontoret) as a
//! list it works through (issue 10 item 5, ADR 0023). `/observationer` lists them from every
//! outreach log, filtered by the office they are routed to and by status, with who changed
//! the status last and when; each row moves on (ny → i gang → løst, or afvist; any status can
//! be set back) and can be routed; the same list exports as CSV or Excel for an office
//! without a login. Every change goes through `OutreachDoc`'s operations and `Hub::edit`.

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::routing::{get, post};
use maud::html;
use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::model::outreach::{Observation, ObservationStatus};
use nabo_core::prelude::*;
use serde::Deserialize;

use super::data::{OutreachEntry, TenantData};
use super::fmt;
use super::networks::{Notice, NoticeQuery, cooperation_nav, edit_refused, notice};
use super::table::{Cell, ExportQuery, Table};
use super::{FormFields, Nav, Viewer, WebError, WebResult, export, page};
use crate::api::AppState;

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/observationer", get(list))
        .route("/observationer/status", post(set_status))
        .route("/observationer/send", post(route))
}

pub(super) fn status_da(s: ObservationStatus) -> (&'static str, &'static str) {
    match s {
        ObservationStatus::New => ("Ny", "ny"),
        ObservationStatus::InProgress => ("I gang", "markeret"),
        ObservationStatus::Resolved => ("Løst", "godkendt"),
        ObservationStatus::Rejected => ("Afvist", "afvist"),
    }
}

/// `?kontor=&status=` (and the export's `eksport=&tabel=`).
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    /// An organisation id, `ingen` (not routed) or empty (all).
    kontor: Option<String>,
    /// A status code, `aabne` (ny and i gang; the default) or `alle`.
    status: Option<String>,
    #[serde(flatten)]
    export: ExportQuery,
    #[serde(flatten)]
    notice: NoticeQuery,
}

impl Filter {
    fn office(&self) -> &str {
        self.kontor.as_deref().unwrap_or_default()
    }

    fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("aabne")
    }

    fn keeps(&self, o: &Observation) -> bool {
        let office = match self.office() {
            "" => true,
            "ingen" => o.routed_to.is_none(),
            x => o.routed_to.as_ref().is_some_and(|r| r.as_str() == x),
        };
        let status = match self.status() {
            "alle" => true,
            "aabne" => matches!(
                o.status(),
                ObservationStatus::New | ObservationStatus::InProgress
            ),
            x => o.status().code() == x,
        };
        office && status
    }

    fn query(&self) -> String {
        format!(
            "kontor={}&status={}",
            fmt::url_encode(self.office()),
            fmt::url_encode(self.status())
        )
    }
}

/// The kept observations, oldest first (the order an office works through them).
fn rows<'a>(
    d: &'a TenantData,
    f: &Filter,
) -> Vec<(&'a OutreachEntry, &'a ObservationId, &'a Observation)> {
    let mut v: Vec<_> = d
        .outreach
        .iter()
        .flat_map(|o| o.view.observations.iter().map(move |(id, ob)| (o, id, ob)))
        .filter(|(_, _, ob)| f.keeps(ob))
        .collect();
    v.sort_by_key(|(_, id, ob)| (ob.at, (*id).clone()));
    v
}

fn org_name(d: &TenantData, id: &OrgId) -> String {
    d.orgs.get(id).map_or_else(
        || format!("Organisation {}", super::data::short(id.as_str())),
        |o| o.name.clone(),
    )
}

/// Where the log's observations are: its area.
fn area_of(d: &TenantData, o: &OutreachEntry) -> String {
    o.meta
        .area
        .as_ref()
        .and_then(|a| a.parse::<AreaId>().ok())
        .map(|a| d.area_name(&a))
        .unwrap_or_default()
}

fn table(d: &TenantData, f: &Filter) -> Table {
    let mut t = Table::new(
        "observationer",
        "Observationer til ejendomskontoret",
        &[
            "Observeret",
            "Type",
            "Sted",
            "Opgang / blok",
            "Boligområde",
            "Sendt til",
            "Status",
            "Senest ændret",
            "Ændret af",
        ],
    );
    for (log, _, o) in rows(d, f) {
        let last = o.last_update().map(|(_, u)| u);
        t.row(vec![
            Cell::text(fmt::datetime(o.at)),
            Cell::text(d.term(Vocabulary::ObservationKinds, o.kind.as_str())),
            Cell::text(d.term(Vocabulary::LocationHints, o.location.as_str())),
            Cell::text(o.block.clone().unwrap_or_default()),
            Cell::text(area_of(d, log)),
            Cell::text(
                o.routed_to
                    .as_ref()
                    .map(|r| org_name(d, r))
                    .unwrap_or_else(|| "Ikke sendt".into()),
            ),
            Cell::text(status_da(o.status()).0),
            Cell::text(last.map(|u| fmt::datetime(u.at)).unwrap_or_default()),
            Cell::text(last.map(|u| d.by_name(&u.by)).unwrap_or_default()),
        ]);
    }
    if t.rows.is_empty() {
        t.note = Some("Ingen observationer med dette filter.".into());
    }
    t
}

/// `GET /observationer`: the list to work through, and its export.
async fn list(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(f): Query<Filter>,
) -> WebResult {
    v.require_central()?;
    let d = TenantData::load(&s, &v.principal).await?;
    let t = table(&d, &f);
    if let Some(r) = export(&f.export, &[&t], "observationer") {
        return r;
    }
    let rows = rows(&d, &f);
    // Offices: organisations observations were sent to, then the rest (not archived).
    let mut offices: Vec<(&OrgId, String)> = d
        .orgs
        .iter()
        .filter(|(_, o)| !o.archived)
        .map(|(id, _)| (id, org_name(&d, id)))
        .collect();
    offices.sort_by(|a, b| a.1.cmp(&b.1));
    let back = f.query();
    Ok(page(
        &v,
        Nav::Cooperation,
        "Observationer til ejendomskontoret",
        html! {
            (cooperation_nav())
            (notice(&f.notice))
            p { "Det, tryghedsvandringer og tryghedskorps har set – belysning, hærværk, affald, vedligeholdelse. Ingen personoplysninger. Ejendomskontoret arbejder listen igennem: ny → i gang → løst, eller afvist." }
            form method="get" action="/observationer" class="filter" {
                label { "Sendt til"
                    select name="kontor" {
                        option value="" selected[f.office().is_empty()] { "Alle" }
                        option value="ingen" selected[f.office() == "ingen"] { "Ikke sendt videre" }
                        @for (id, name) in &offices { option value=(id.as_str()) selected[f.office() == id.as_str()] { (name) } }
                    }
                }
                label { "Status"
                    select name="status" {
                        option value="aabne" selected[f.status() == "aabne"] { "Åbne (ny og i gang)" }
                        option value="alle" selected[f.status() == "alle"] { "Alle" }
                        @for st in ObservationStatus::ALL { option value=(st.code()) selected[f.status() == st.code()] { (status_da(*st).0) } }
                    }
                }
                button type="submit" class="sekundaer" { "Vis" }
            }
            p {
                "Hent listen: "
                a href={"/observationer?" (back) "&eksport=csv&tabel=observationer"} { "CSV" } " · "
                a href={"/observationer?" (back) "&eksport=xlsx&tabel=observationer"} { "Excel" }
            }
            div class="rul" { table id="observationer" {
                thead { tr {
                    th scope="col" { "Observeret" } th scope="col" { "Type" } th scope="col" { "Sted" } th scope="col" { "Boligområde" }
                    th scope="col" { "Sendt til" } th scope="col" { "Status" } th scope="col" { "Ny status" }
                } }
                tbody {
                    @if rows.is_empty() { tr { td colspan="7" class="tom" { "Ingen observationer med dette filter." } } }
                    @for (log, id, o) in &rows {
                        @let (label, class) = status_da(o.status());
                        @let kind = d.term(Vocabulary::ObservationKinds, o.kind.as_str());
                        tr {
                            th scope="row" { (fmt::datetime(o.at)) }
                            td { (kind) }
                            td { (d.term(Vocabulary::LocationHints, o.location.as_str())) @if let Some(b) = &o.block { ", " (b) } }
                            td { (area_of(&d, log)) }
                            td {
                                form method="post" action="/observationer/send" class="inline" {
                                    input type="hidden" name="dokument" value=(log.meta.id.to_string());
                                    input type="hidden" name="observation" value=(id.as_str());
                                    input type="hidden" name="tilbage" value=(back);
                                    select name="kontor" aria-label={"Send " (kind) " til"} {
                                        option value="" selected[o.routed_to.is_none()] { "Ikke sendt" }
                                        @for (oid, name) in &offices { option value=(oid.as_str()) selected[o.routed_to.as_ref() == Some(*oid)] { (name) } }
                                    }
                                    button type="submit" class="sekundaer" { "Send" }
                                }
                            }
                            td {
                                span class={"maerke " (class)} { (label) }
                                @if let Some((_, u)) = o.last_update() { br; small { (fmt::datetime(u.at)) ", " (d.by_name(&u.by)) } }
                            }
                            td {
                                form method="post" action="/observationer/status" class="inline" {
                                    input type="hidden" name="dokument" value=(log.meta.id.to_string());
                                    input type="hidden" name="observation" value=(id.as_str());
                                    input type="hidden" name="tilbage" value=(back);
                                    select name="status" aria-label={"Ny status for " (kind)} {
                                        @for st in ObservationStatus::ALL { option value=(st.code()) selected[*st == o.status()] { (status_da(*st).0) } }
                                    }
                                    button type="submit" class="sekundaer" { "Gem" }
                                }
                            }
                        }
                    }
                }
            } }
        },
    ))
}

/// The observation a form names, with its log.
fn target<'a>(
    d: &'a TenantData,
    form: &FormFields,
) -> Result<(&'a OutreachEntry, ObservationId), WebError> {
    let doc = form.one("dokument").ok_or(WebError::NotFound)?;
    let log = d
        .outreach
        .iter()
        .find(|o| o.meta.id.to_string() == doc)
        .ok_or(WebError::NotFound)?;
    let id: ObservationId = form
        .one("observation")
        .and_then(|x| x.parse().ok())
        .filter(|x| log.view.observations.contains_key(x))
        .ok_or(WebError::NotFound)?;
    Ok((log, id))
}

/// Back to the list as it was filtered.
fn back(form: &FormFields, n: Notice) -> axum::response::Response {
    // Only the filter's own fields go back into the address.
    let q = FormFields::parse(form.one("tilbage").unwrap_or_default());
    let f = Filter {
        kontor: q.one("kontor").map(str::to_owned),
        status: q.one("status").map(str::to_owned),
        ..Filter::default()
    };
    super::networks::done(&format!("/observationer?{}", f.query()), n, "")
}

const LABELS: &[(&str, &str)] = &[("status", "Status"), ("observation", "Observation")];

/// Changes the observation a form names (`dokument`, `observation`) through the hub,
/// answering a refusal by the form's field name.
async fn change(
    s: &AppState,
    v: &Viewer,
    d: &TenantData,
    form: &FormFields,
    f: impl FnOnce(&mut OutreachDoc, &Author, &ObservationId) -> nabo_core::Result<()>,
) -> Result<(), WebError> {
    let (log, id) = target(d, form)?;
    let by = v.author();
    s.hub
        .edit(&log.meta, &v.principal, |doc: &mut OutreachDoc| {
            f(doc, &by, &id)
        })
        .await
        .map_err(|e| edit_refused(e, LABELS))
}

/// `POST /observationer/status`.
async fn set_status(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let status: ObservationStatus =
        form.one("status")
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| {
                WebError::BadRequest(
                    "Feltet «Status» skal være ny, i gang, løst eller afvist.".into(),
                )
            })?;
    change(&s, &v, &d, &form, |doc, by, id| {
        doc.set_observation_status(by, id, status)
    })
    .await?;
    Ok(back(&form, Notice::StatusSaved))
}

/// `POST /observationer/send`: routes an observation to an organisation (or to none).
async fn route(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let to = match form.one("kontor").unwrap_or_default() {
        "" => None,
        x => Some(
            x.parse::<OrgId>()
                .ok()
                .filter(|o| d.orgs.contains_key(o))
                .ok_or_else(|| {
                    WebError::BadRequest("Feltet «Sendt til» er ikke en kendt organisation.".into())
                })?,
        ),
    };
    change(&s, &v, &d, &form, |doc, by, id| {
        doc.route_observation(by, id, to)
    })
    .await?;
    Ok(back(&form, Notice::Routed))
}
