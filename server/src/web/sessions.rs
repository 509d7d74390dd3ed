//! One-off sessions (enkeltstående mødegange: a party, a trip, an extra homework evening)
//! created, changed, cancelled and restored from the activity page (issue 10 item 2,
//! ADR 0026). A session lives in the register of its activity and term; when no phone has
//! created that register yet, the page creates it through the relay's one path for new
//! documents ([`crate::relay::Hub::create_document`]: the rules, access and actor binding a
//! phone's new register gets), so phones find it at their next sync. Every other change goes
//! through [`crate::relay::Hub::edit`].
//!
//! Routes: `POST /aktiviteter/{activity}/moeder` (create), and for a session
//! `/registre/{doc}/moeder/{session}/aendr` (change), `…/aflys` (ask, cancel) and
//! `…/genoptag` (restore).

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::docs::register::{NewSession, RegisterContext, RegisterDoc};
use nabo_core::document::{DocumentId, Scope, TypedDoc};
use nabo_core::model::register::Session;
use nabo_core::prelude::*;
use serde::Deserialize;

use super::data::{ActivityEntry, RegisterEntry, TenantData};
use super::fmt;
use super::manage::{activity_entry, bad, hours_and_venue};
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;
use crate::relay::create::CreateError;
use crate::relay::{EditError, Sender};

/// The routes of the one-off session forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/aktiviteter/{id}/moeder", post(create))
        .route("/registre/{doc}/moeder/{session}/aendr", post(change))
        .route(
            "/registre/{doc}/moeder/{session}/aflys",
            get(confirm_cancel).post(|s, v, p| set_cancelled(true, s, v, p)),
        )
        .route(
            "/registre/{doc}/moeder/{session}/genoptag",
            post(|s, v, p| set_cancelled(false, s, v, p)),
        )
}

/// `?besked=moede-<action>&register=<doc>&moede=<session>` on the activity page.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    besked: Option<String>,
    register: Option<String>,
    moede: Option<String>,
}

const ACTIONS: [(&str, &str); 4] = [
    (
        "moede-oprettet",
        "er oprettet. Telefonerne får den, næste gang de synkroniserer.",
    ),
    ("moede-gemt", "er ændret. Det, der er registreret, bliver."),
    (
        "moede-aflyst",
        "er aflyst. Det, der er registreret, bliver i historikken.",
    ),
    ("moede-genoptaget", "holdes igen."),
];

fn done(activity: &ActivityId, action: &str, doc: DocumentId, session: &SessionId) -> Response {
    Redirect::to(&format!(
        "/aktiviteter/{}?besked={action}&register={doc}&moede={}#enkeltstaaende",
        activity.as_str(),
        session.as_str()
    ))
    .into_response()
}

/// "«Juleafslutning» tirsdag 18. december 2026 kl. 17:00–20:00".
fn described(s: &Session) -> String {
    let title = s
        .title
        .as_deref()
        .map(|t| format!("«{t}» "))
        .unwrap_or_default();
    format!(
        "{title}{} kl. {}–{}",
        fmt::date_with_weekday(s.date),
        s.start,
        s.end
    )
}

/// The message after a session form: what happened to which session, and after
/// cancelling the way back in the same place.
pub fn notice(q: &NoticeQuery, d: &TenantData) -> Markup {
    let Some((action, said)) = ACTIONS
        .iter()
        .find(|(c, _)| q.besked.as_deref() == Some(*c))
    else {
        return html! {};
    };
    let found = q
        .register
        .as_deref()
        .and_then(|r| DocumentId::parse(r).ok())
        .and_then(|r| d.register(r))
        .and_then(|r| {
            let sid: SessionId = q.moede.as_deref()?.parse().ok()?;
            let s = r.view.sessions.get(&sid)?.current.clone();
            Some((r.meta.id, sid, s))
        });
    html! {
        div class="besked" role="status" {
            p { "Mødegangen " @if let Some((_, _, s)) = &found { (described(s)) " " } (said) }
            @if *action == "moede-aflyst" {
                @if let Some((doc, sid, _)) = &found {
                    form method="post" action={"/registre/" (doc) "/moeder/" (sid.as_str()) "/genoptag"} class="inline" {
                        button type="submit" class="sekundaer" { "Fortryd (hold den alligevel)" }
                    }
                }
            }
        }
    }
}

/// The date, time, venue and title fields of a session form.
fn fields(d: &TenantData, a: &ActivityEntry, s: Option<&Session>) -> Markup {
    let venues = d
        .areas
        .get(&a.activity.area)
        .map(|ar| ar.venues.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    html! {
        label { "Dato" input type="date" name="dato" required value=(s.map_or(d.today, |s| s.date).to_string()); }
        label { "Fra kl." input type="time" name="start" required value=[s.map(|s| s.start.to_string())]; }
        label { "Til kl." input type="time" name="slut" required value=[s.map(|s| s.end.to_string())]; }
        label { "Mødested"
            select name="moedested" {
                option value="" { "Intet valgt" }
                @for (vid, venue) in &venues {
                    option value=(vid.as_str()) selected[s.is_some_and(|s| s.venue.as_ref() == Some(*vid))] { (venue.name) }
                }
            }
        }
        label { "Titel, fx Juleafslutning eller Udflugt (valgfri)" input name="titel" maxlength="200" value=[s.and_then(|s| s.title.as_deref())]; }
    }
}

/// The activity's one-off sessions, each changeable and cancellable, and a form for a new
/// one (on the activity page).
pub fn section(d: &TenantData, a: &ActivityEntry, regs: &[&RegisterEntry]) -> Markup {
    let mut one_off: Vec<(&RegisterEntry, &SessionId, &Session)> = regs
        .iter()
        .flat_map(|r| {
            r.view
                .sessions
                .iter()
                .filter(|(_, s)| s.current.series.is_none())
                .map(move |(sid, s)| (*r, sid, &s.current))
        })
        .collect();
    one_off.sort_by_key(|(_, _, s)| std::cmp::Reverse((s.date, s.start)));
    html! {
        section id="enkeltstaaende" {
            h2 { "Enkeltstående mødegange" }
            p class="note" { "Fx en fest, en udflugt eller en ekstra aften. Faste mødetider ændres under " a href={"/administration/aktiviteter/" (a.id.as_str()) "#serier"} { "Redigér" } "." }
            @if one_off.is_empty() { p class="tom" { "Ingen enkeltstående mødegange." } }
            ul {
                @for (r, sid, s) in &one_off {
                    @let base = format!("/registre/{}/moeder/{}", r.meta.id, sid.as_str());
                    li {
                        a href=(base) { (described(s)) }
                        @if s.cancelled {
                            " " span class="maerke" { "Aflyst" } " "
                            form method="post" action={(base) "/genoptag"} class="inline" {
                                button type="submit" class="sekundaer" { "Hold den alligevel" }
                            }
                        } @else {
                            details {
                                summary { "Ændr dato, tid eller sted" }
                                form method="post" action={(base) "/aendr"} class="stak" {
                                    (fields(d, a, Some(s)))
                                    button type="submit" { "Gem mødegangen" }
                                }
                            }
                            a class="knap fare" href={(base) "/aflys"} { "Aflys …" }
                        }
                    }
                }
            }
            details {
                summary { "Opret en enkeltstående mødegang" }
                form method="post" action={"/aktiviteter/" (a.id.as_str()) "/moeder"} class="stak" {
                    (fields(d, a, None))
                    button type="submit" { "Opret mødegangen" }
                }
            }
        }
    }
}

/// A session from the form; errors name the field.
fn from_form(form: &FormFields, d: &TenantData, a: &ActivityEntry) -> Result<NewSession, WebError> {
    let date = form.date("dato", "Dato")?;
    let (start, end, venue) = hours_and_venue(form, d, &a.activity.area)?;
    let title = form
        .one("titel")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(bad("«Titel» må højst være 200 tegn."));
    }
    Ok(NewSession {
        date,
        start,
        end,
        venue,
        title,
    })
}

/// A page's edit as the relay's sender: the login, from no phone.
fn page_sender(v: &Viewer) -> Sender {
    Sender {
        device_id: None,
        ..Sender::of(&v.principal)
    }
}

impl From<CreateError> for WebError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::NotPermitted => WebError::Forbidden,
            CreateError::Refused(r) => EditError::Refused(r).into(),
            CreateError::Storage(s) => s.into(),
            CreateError::Unstored(m) => EditError::Unstored(m).into(),
        }
    }
}

/// `POST /aktiviteter/{id}/moeder`: a one-off session in the register of its term, created
/// with the register when no phone has made it yet.
async fn create(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let a = activity_entry(&d, &id)?;
    super::manage::refuse_archived(
        super::manage::Kind::Activity,
        a.activity.archived,
        "Aktivitet",
        &a.activity.name,
    )?;
    let input = from_form(&form, &d, a)?;
    let by = v.author();
    let term = Term::of(input.date);
    let doc = Scope::Register {
        tenant: v.principal.tenant.clone(),
        activity: a.id.clone(),
        term,
    }
    .document_id();
    let sid = match d.register(doc) {
        Some(r) => {
            s.hub
                .edit(&r.meta, &v.principal, |reg: &mut RegisterDoc| {
                    reg.add_session(&by, input)
                })
                .await?
        }
        None => {
            let snapshot = a.doc.snapshot()?;
            let ctx = RegisterContext {
                catalogue: &d.catalogue,
                activity: &snapshot,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            };
            let mut reg = RegisterDoc::create(
                v.principal.tenant.clone(),
                a.id.clone(),
                term,
                nabo_core::entropy::actor(),
                &by,
                ctx,
            )?;
            let sid = reg.add_session(&by, input)?;
            s.hub
                .create_document(reg.doc(), doc, &v.principal, page_sender(&v))
                .await?;
            sid
        }
    };
    Ok(done(&a.id, "moede-oprettet", doc, &sid))
}

/// The register and one of its sessions named in a path (unknown ones are not found).
fn session_of<'a>(
    d: &'a TenantData,
    doc: &str,
    session: &str,
) -> Result<(&'a RegisterEntry, &'a ActivityEntry, SessionId, &'a Session), WebError> {
    let r = DocumentId::parse(doc)
        .ok()
        .and_then(|x| d.register(x))
        .ok_or(WebError::NotFound)?;
    let a = d.activity(r.doc.activity_id()).ok_or(WebError::NotFound)?;
    let sid: SessionId = session.parse().map_err(|_| WebError::NotFound)?;
    let s = &r.view.sessions.get(&sid).ok_or(WebError::NotFound)?.current;
    Ok((r, a, sid, s))
}

/// `POST /registre/{doc}/moeder/{session}/aendr`: a session's date, time, venue or title.
/// Its records stay with it; a new date must be in the same term (the register's).
async fn change(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((doc, session)): Path<(String, String)>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let (r, a, sid, _) = session_of(&d, &doc, &session)?;
    let input = from_form(&form, &d, a)?;
    let term = r.doc.term();
    if !term.contains(input.date) {
        return Err(bad(format!(
            "«Dato» skal ligge i samme halvår som mødegangen ({} – {}). Opret en ny mødegang til en anden dato, og aflys denne.",
            fmt::date(term.first_day()),
            fmt::date(term.last_day())
        )));
    }
    let by = v.author();
    s.hub
        .edit(&r.meta, &v.principal, |reg: &mut RegisterDoc| {
            reg.change_session(&by, &sid, |x| {
                x.date = input.date;
                x.start = input.start;
                x.end = input.end;
                x.venue = input.venue;
                x.title = input.title;
            })
        })
        .await?;
    Ok(done(&a.id, "moede-gemt", r.meta.id, &sid))
}

/// `GET /registre/{doc}/moeder/{session}/aflys`: asks first.
async fn confirm_cancel(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((doc, session)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let (r, a, sid, x) = session_of(&d, &doc, &session)?;
    Ok(page(
        &v,
        Nav::Records,
        &format!("Aflys mødegangen {}?", described(x)),
        html! {
            p { "Mødegangen vises som aflyst på telefonerne. Den slettes ikke: fremmøde og vagter, der er registreret, bliver i historikken, og du kan fortryde bagefter." }
            form method="post" action={"/registre/" (r.meta.id) "/moeder/" (sid.as_str()) "/aflys"} {
                button type="submit" class="fare" { "Aflys mødegangen" }
            }
            p { a href={"/aktiviteter/" (a.id.as_str()) "#enkeltstaaende"} { "Fortryd – aflys ikke" } }
        },
    ))
}

/// `POST …/aflys` and `…/genoptag`.
async fn set_cancelled(
    cancelled: bool,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((doc, session)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let (r, a, sid, _) = session_of(&d, &doc, &session)?;
    let by = v.author();
    s.hub
        .edit(&r.meta, &v.principal, |reg: &mut RegisterDoc| {
            reg.set_cancelled(&by, &sid, cancelled)
        })
        .await?;
    let action = if cancelled {
        "moede-aflyst"
    } else {
        "moede-genoptaget"
    };
    Ok(done(&a.id, action, r.meta.id, &sid))
}
