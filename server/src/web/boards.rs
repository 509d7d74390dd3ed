//! A programme's board (bestyrelse) edited on the programme's edit page (issue 10 item 2,
//! ADR 0026): its type (seed 001's three) and its seats at organisation level with the
//! seat's function and the chair. Validated by the core (`check_board` in
//! `TenantDoc::put_programme`) through [`crate::relay::Hub::edit`]; `/bestyrelser` shows it.
//!
//! Route: `POST /administration/programmer/{id}/bestyrelse`.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::post;
use maud::{Markup, html};
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::model::programme::{Board, BoardMember, Programme};
use nabo_core::prelude::*;

use super::data::TenantData;
use super::manage::{bad, tenant_meta};
use super::networks::board_type_da;
use super::{FormFields, Viewer, WebError, WebResult};
use crate::api::AppState;

/// Empty rows offered for new seats.
const NEW_ROWS: usize = 3;

/// The route of the board form.
pub fn routes() -> Router<AppState> {
    Router::new().route("/administration/programmer/{id}/bestyrelse", post(save))
}

/// The board form on the programme's edit page.
pub fn editor(d: &TenantData, id: &ProgrammeId, p: &Programme) -> Markup {
    let members: Vec<(Option<&BoardMemberId>, Option<&BoardMember>)> = p
        .board
        .iter()
        .flat_map(|b| b.members.iter().map(|(k, m)| (Some(k), Some(m))))
        .chain(std::iter::repeat_n((None, None), NEW_ROWS))
        .collect();
    html! {
        section id="bestyrelse" {
            h2 { "Bestyrelse" }
            p class="note" { "Pladserne registreres på organisationsniveau med funktion – aldrig med navn. Tøm organisationsfeltet for at fjerne en plads. Underskriverne vælges ovenfor." }
            form method="post" action={"/administration/programmer/" (id.as_str()) "/bestyrelse"} class="stak" {
                label { "Bestyrelsestype"
                    select name="type" {
                        option value="" { "Ingen bestyrelse registreret" }
                        @for k in BoardType::ALL {
                            option value=(k.code()) selected[p.board.as_ref().is_some_and(|b| b.kind == *k)] { (board_type_da(*k).0) }
                        }
                    }
                }
                @for (i, (mid, m)) in members.iter().enumerate() {
                    fieldset class="raekke" {
                        legend { @if m.is_some() { "Plads " (i + 1) } @else { "Ny plads" } }
                        @if let Some(mid) = mid { input type="hidden" name={"id-" (i)} value=(mid.as_str()); }
                        label { "Organisation"
                            select name={"org-" (i)} {
                                option value="" { "Ingen" }
                                @for (oid, o) in d.orgs.iter().filter(|(oid, o)| !o.archived || m.is_some_and(|m| &m.org == *oid)) {
                                    option value=(oid.as_str()) selected[m.is_some_and(|m| &m.org == oid)] { (o.name) }
                                }
                            }
                        }
                        label { "Funktion, fx direktør for børne- og ungeforvaltningen" input name={"funktion-" (i)} maxlength="200" value=[m.map(|m| m.function.as_str())]; }
                        label class="valg" { input type="radio" name="formand" value=(i) checked[m.is_some_and(|m| m.chair)]; " Formand" }
                    }
                }
                button type="submit" { "Gem bestyrelsen" }
            }
        }
    }
}

/// `POST /administration/programmer/{id}/bestyrelse`.
async fn save(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let pid: ProgrammeId = id
        .parse()
        .ok()
        .filter(|p| d.programmes.contains_key(p))
        .ok_or(WebError::NotFound)?;
    let p = &d.programmes[&pid];
    let kind = match form.one("type").filter(|x| !x.is_empty()) {
        None => None,
        Some(k) => Some(
            k.parse::<BoardType>()
                .map_err(|_| bad("«Bestyrelsestype» er ikke en kendt type."))?,
        ),
    };
    let chair = form.one("formand");
    let mut members = IdMap::new();
    let rows = p.board.as_ref().map_or(0, |b| b.members.len()) + NEW_ROWS;
    for i in 0..rows {
        let Some(org) = form.one(&format!("org-{i}")).filter(|x| !x.is_empty()) else {
            continue;
        };
        let org: OrgId = org
            .parse()
            .ok()
            .filter(|o| d.orgs.contains_key(o))
            .ok_or_else(|| bad("«Organisation» er ikke en kendt organisation."))?;
        let function = form
            .one(&format!("funktion-{i}"))
            .unwrap_or_default()
            .to_owned();
        if function.is_empty() {
            return Err(bad(format!(
                "«Funktion» skal udfyldes for {}.",
                d.orgs[&org].name
            )));
        }
        // A seat keeps its id while it stays on the board.
        let mid = form
            .one(&format!("id-{i}"))
            .and_then(|m| m.parse::<BoardMemberId>().ok())
            .filter(|m| p.board.as_ref().is_some_and(|b| b.members.contains_key(m)))
            .unwrap_or_else(BoardMemberId::random);
        members.insert(
            mid,
            BoardMember {
                org,
                function,
                chair: chair == Some(i.to_string().as_str()),
            },
        );
    }
    let board = match kind {
        Some(kind) => Some(Board { kind, members }),
        None if members.is_empty() => None,
        None => return Err(bad("«Bestyrelsestype»: vælg en type, når der er pladser.")),
    };
    let by = v.author();
    let cat = &d.catalogue;
    s.hub
        .edit(&tenant_meta(&d)?, &v.principal, |t: &mut TenantDoc| {
            t.edit_programme(&by, cat, &pid, |x| x.board = board)
        })
        .await?;
    Ok(super::manage::said(
        &format!("/administration/programmer/{}", pid.as_str()),
        "bestyrelse-gemt",
        "#bestyrelse",
    ))
}
