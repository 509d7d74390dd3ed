//! Cooperation (issue 10 item 5, ADR 0023): networks of organisations with each member's
//! role, their meetings with agreed actions and the follow-up of those actions
//! (`/netvaerk`), and the boards of the programmes (`/bestyrelser`). Every edit goes through
//! the network document's validated operations (`nabo_core::docs::network`) and `Hub::edit`,
//! so an outreach worker leading a network sees it on the phone. A board is read from the
//! programme in the tenant document (edited in the programme form); this page only shows it.
//! Observations from safety walks are `observations.rs`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::docs::network::{NetworkDoc, has_convener};
use nabo_core::document::TypedDoc;
use nabo_core::model::network::{
    AgreedAction, FollowUp, Membership, Network, NetworkMeeting, NetworkRole,
};
use nabo_core::prelude::*;
use serde::Deserialize;

use super::data::TenantData;
use super::fmt;
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::acl::{Access, access};
use crate::api::AppState;
use crate::relay::EditError;
use crate::storage::DocMeta;

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/netvaerk", get(list).post(create))
        .route("/netvaerk/{id}", get(show))
        .route("/netvaerk/{id}/medlemmer", post(set_member))
        .route(
            "/netvaerk/{id}/medlemmer/{org}/fjern",
            get(confirm_remove).post(remove_member),
        )
        .route("/netvaerk/{id}/moeder", post(record_meeting))
        .route("/netvaerk/{id}/handlinger", post(set_action))
        .route("/bestyrelser", get(boards))
}

/// What just happened, shown at the top of the page after a form (`?besked=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notice {
    NetworkCreated,
    MemberSaved,
    MemberRemoved,
    MeetingRecorded,
    ActionDone,
    ActionReopened,
    StatusSaved,
    Routed,
}

impl Notice {
    const ALL: [Notice; 8] = [
        Notice::NetworkCreated,
        Notice::MemberSaved,
        Notice::MemberRemoved,
        Notice::MeetingRecorded,
        Notice::ActionDone,
        Notice::ActionReopened,
        Notice::StatusSaved,
        Notice::Routed,
    ];

    fn code(self) -> &'static str {
        match self {
            Notice::NetworkCreated => "netvaerk-oprettet",
            Notice::MemberSaved => "medlem-gemt",
            Notice::MemberRemoved => "medlem-fjernet",
            Notice::MeetingRecorded => "moede-gemt",
            Notice::ActionDone => "handling-udfoert",
            Notice::ActionReopened => "handling-genaabnet",
            Notice::StatusSaved => "status-gemt",
            Notice::Routed => "sendt-videre",
        }
    }

    fn da(self) -> &'static str {
        match self {
            Notice::NetworkCreated => "Netværket er oprettet. Tilføj medlemmerne nedenfor.",
            Notice::MemberSaved => "Medlemmet er gemt.",
            Notice::MemberRemoved => {
                "Organisationen er taget ud af netværket. Tidligere møder nævner den stadig. Tilføj den igen for at fortryde."
            }
            Notice::MeetingRecorded => "Mødet er gemt med de aftalte handlinger.",
            Notice::ActionDone => "Handlingen er markeret som udført.",
            Notice::ActionReopened => "Handlingen er åbnet igen.",
            Notice::StatusSaved => "Observationens status er gemt.",
            Notice::Routed => "Observationen er sendt videre.",
        }
    }

    fn parse(code: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.code() == code)
    }
}

/// `?besked=` on a page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    besked: Option<String>,
}

pub(super) fn notice(q: &NoticeQuery) -> Markup {
    html! {
        @if let Some(n) = q.besked.as_deref().and_then(Notice::parse) {
            p class="besked" role="status" { (n.da()) }
        }
    }
}

/// Back to `path` saying what happened (`anchor` after the query).
pub(super) fn done(path: &str, n: Notice, anchor: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}besked={}{anchor}", n.code())).into_response()
}

/// A refusal from the core named by the form's own Danish label of the field.
pub(super) fn refused(e: nabo_core::Error, labels: &[(&str, &str)]) -> WebError {
    match e {
        nabo_core::Error::Invalid(i) => {
            let label = labels
                .iter()
                .find(|(f, _)| *f == i.field)
                .map_or(i.field, |(_, l)| l);
            WebError::BadRequest(format!(
                "Feltet «{label}» blev afvist: {}.",
                fmt::reason_da(i.reason)
            ))
        }
        other => other.into(),
    }
}

/// [`refused`] for an edit through the hub.
pub(super) fn edit_refused(e: EditError, labels: &[(&str, &str)]) -> WebError {
    match e {
        EditError::Domain(d) => refused(d, labels),
        other => other.into(),
    }
}

/// The form labels of the network operations' fields.
const LABELS: &[(&str, &str)] = &[
    ("name", "Navn"),
    ("cadence", "Mødekadence"),
    ("function", "Funktion"),
    ("roles", "Rolle"),
    ("member", "Organisation"),
    ("attendees", "Deltagere"),
    ("agenda", "Dagsorden"),
    ("actions", "Handling"),
    ("due", "Frist"),
    ("done", "Udført"),
    ("action", "Handling"),
    ("meeting", "Møde"),
];

fn focus_da(f: NetworkFocus) -> &'static str {
    match f {
        NetworkFocus::IndividualCases => "Enkeltsager",
        NetworkFocus::Coordination => "Koordinering",
        NetworkFocus::Development => "Udvikling",
    }
}

fn role_da(r: NetworkRole) -> &'static str {
    match r {
        NetworkRole::Convener => "Tovholder",
        NetworkRole::Member => "Fast medlem",
        NetworkRole::AdHoc => "Efter behov",
    }
}

fn follow_up_da(f: FollowUp) -> (&'static str, &'static str) {
    match f {
        FollowUp::Overdue => ("Overskredet", "markeret"),
        FollowUp::Open => ("Åben", "ny"),
        FollowUp::Done => ("Udført", "godkendt"),
    }
}

pub(super) fn board_type_da(b: BoardType) -> (&'static str, &'static str) {
    match b {
        BoardType::Boligsocial => (
            "Boligsocial bestyrelse",
            "Tværorganisatorisk og tværfaglig: boligorganisationerne og de relevante kommunale fagområder på beslutningstagerniveau sætter fælles strategiske mål, koordinerer og sikrer udvikling.",
        ),
        BoardType::Bystrategisk => (
            "Bystrategisk bestyrelse",
            "Aktører fra både de sociale og de fysiske arenaer i ét forum, der samler den bystrategiske indsats i boligområdet.",
        ),
        BoardType::Solo => (
            "Solo-organisering",
            "Det boligsociale arbejde drives af én organisation (fx boligorganisationen), evt. tværfagligt med repræsentanter fra flere fagligheder.",
        ),
    }
}

/// A network document the viewer may see.
pub(super) struct NetworkEntry {
    pub meta: DocMeta,
    pub id: NetworkId,
    pub network: Network,
    pub meetings: BTreeMap<MeetingId, NetworkMeeting>,
}

/// The networks of the viewer's tenant they may see, by name.
pub(super) async fn load_networks(s: &AppState, v: &Viewer) -> Result<Vec<NetworkEntry>, WebError> {
    let mut out = Vec::new();
    for meta in s.storage.documents(&v.principal.tenant).await? {
        if meta.kind != DocKind::Network || access(&v.principal, &meta) == Access::None {
            continue;
        }
        let doc = match crate::relay::doc::load(s.storage.as_ref(), meta.id).await {
            Ok(l) => l.doc,
            Err(crate::relay::OpenError::Storage(e)) => return Err(e.into()),
            Err(crate::relay::OpenError::Damaged) => continue,
        };
        let read = NetworkDoc::from_doc(doc).and_then(|doc| {
            let network = doc.network()?;
            let meetings = doc.meetings()?;
            let id = match doc.doc().scope() {
                Scope::Network { network, .. } => network.clone(),
                _ => return Err(nabo_core::Error::NotNabo("not a network")),
            };
            Ok(NetworkEntry {
                meta: meta.clone(),
                id,
                network,
                meetings,
            })
        });
        match read {
            Ok(e) => out.push(e),
            Err(e) => {
                tracing::warn!(doc = %meta.id, error = %e, "a network does not read; skipped on the pages");
            }
        }
    }
    out.sort_by(|a, b| a.network.name.cmp(&b.network.name));
    Ok(out)
}

async fn network(s: &AppState, v: &Viewer, id: &str) -> Result<NetworkEntry, WebError> {
    let id: NetworkId = id.parse().map_err(|_| WebError::NotFound)?;
    load_networks(s, v)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or(WebError::NotFound)
}

/// An organisation's name, with the kommune or housing organisation it belongs to.
fn org_name(d: &TenantData, id: &OrgId) -> String {
    match d.orgs.get(id) {
        Some(o) => match o.parent.as_ref().and_then(|p| d.orgs.get(p)) {
            Some(p) => format!("{} ({})", o.name, p.name),
            None => o.name.clone(),
        },
        None => format!("Organisation {}", super::data::short(id.as_str())),
    }
}

/// The not-done actions of a network's meetings, overdue first, then by due date.
fn open_actions(
    n: &NetworkEntry,
    today: Date,
) -> Vec<(&MeetingId, &NetworkMeeting, &ActionId, &AgreedAction)> {
    let mut v: Vec<_> = n
        .meetings
        .iter()
        .flat_map(|(mid, m)| m.actions.iter().map(move |(aid, a)| (mid, m, aid, a)))
        .filter(|(_, _, _, a)| !a.done)
        .collect();
    v.sort_by_key(|(_, m, aid, a)| (a.follow_up(today), a.due, m.date, (*aid).clone()));
    v
}

pub(super) fn cooperation_nav() -> Markup {
    html! {
        nav class="indhold" aria-label="Samarbejde" {
            a href="/netvaerk" { "Netværk" } " · " a href="/bestyrelser" { "Bestyrelser" } " · "
            a href="/observationer" { "Observationer til ejendomskontoret" }
        }
    }
}

/// `GET /netvaerk`: the tenant's networks and the form to create one.
async fn list(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    v.require_central()?;
    let d = TenantData::load(&s, &v.principal).await?;
    let nets = load_networks(&s, &v).await?;
    Ok(page(
        &v,
        Nav::Cooperation,
        "Netværk",
        html! {
            (cooperation_nav())
            (notice(&q))
            p { "Netværk af organisationer – fx kommunens forvaltninger, boligorganisationen, politiet og foreningerne – med deres møder og de handlinger, der blev aftalt. Alt registreres på organisationsniveau." }
            div class="rul" { table {
                thead { tr {
                    th scope="col" { "Netværk" } th scope="col" { "Fokus" } th scope="col" { "Mødes" }
                    th scope="col" { "Netværksleder" } th scope="col" { "Medlemmer" } th scope="col" { "Seneste møde" }
                    th scope="col" { "Åbne handlinger" } th scope="col" { "Heraf overskredne" }
                } }
                tbody {
                    @if nets.is_empty() { tr { td colspan="8" class="tom" { "Ingen netværk endnu." } } }
                    @for n in &nets {
                        @let open = open_actions(n, d.today);
                        tr {
                            th scope="row" { a href={"/netvaerk/" (n.id.as_str())} { (n.network.name) } }
                            td { (focus_da(n.network.focus)) }
                            td { (n.network.cadence) }
                            td { (n.network.leader.as_ref().map(|l| d.by_name(&By::Staff(l.clone()))).unwrap_or_else(|| "–".into())) }
                            td class="tal" { (n.network.members.len()) }
                            td { (n.meetings.values().filter(|m| !m.cancelled).map(|m| m.date).max().map(fmt::date).unwrap_or_else(|| "–".into())) }
                            td class="tal" { (open.len()) }
                            td class="tal" { (open.iter().filter(|(_, _, _, a)| a.follow_up(d.today) == FollowUp::Overdue).count()) }
                        }
                    }
                }
            } }
            details id="opret" {
                summary { "Opret netværk" }
                form method="post" action="/netvaerk" class="stak" {
                    label { "Navn" input name="navn" required maxlength="200" placeholder="fx Boligsocialt team"; }
                    label { "Fokus"
                        select name="fokus" { @for f in NetworkFocus::ALL { option value=(f.code()) { (focus_da(*f)) } } }
                    }
                    p class="note" { "Netværk om enkeltsager rører ved personoplysninger: skriv sagsnumre, aldrig navne." }
                    label { "Mødekadence" input name="kadence" maxlength="200" placeholder="fx hver 14. dag"; }
                    label { "Netværksleder"
                        select name="leder" {
                            option value="" { "Ingen" }
                            @for (id, m) in d.choosable_staff() { option value=(id.as_str()) { (m.name) } }
                        }
                    }
                    fieldset { legend { "Boligområder" }
                        @for (id, a) in &d.areas { label class="valg" { input type="checkbox" name="omraade" value=(id.as_str()); " " (a.name) } }
                    }
                    label class="valg" { input type="checkbox" name="lbf" value="ja"; " Finansieret af Landsbyggefonden" }
                    button type="submit" { "Opret netværk" }
                }
            }
        },
    ))
}

/// `POST /netvaerk`: a new network document (its leader may then see it on the phone).
async fn create(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let focus: NetworkFocus = form
        .one("fokus")
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg netværkets fokus.".into()))?;
    let leader = match form.one("leder").filter(|x| !x.is_empty()) {
        None => None,
        Some(x) => Some(
            x.parse::<StaffId>()
                .ok()
                .filter(|x| d.staff.contains_key(x))
                .ok_or_else(|| {
                    WebError::BadRequest("Feltet «Netværksleder» er ikke en medarbejder.".into())
                })?,
        ),
    };
    let mut areas = Set::new();
    for a in form.all("omraade") {
        let a: AreaId = a
            .parse()
            .ok()
            .filter(|a| d.areas.contains_key(a))
            .ok_or_else(|| {
                WebError::BadRequest("Feltet «Boligområder» henviser til et ukendt område.".into())
            })?;
        areas.insert(a);
    }
    let n = Network {
        name: form.one("navn").unwrap_or_default().to_owned(),
        leader,
        focus,
        cadence: form.one("kadence").unwrap_or_default().to_owned(),
        funded_by_lbf: form.one("lbf").is_some(),
        areas,
        members: Set::new(),
        roles: IdMap::new(),
    };
    let id = NetworkId::random();
    let doc = NetworkDoc::create(
        v.principal.tenant.clone(),
        id.clone(),
        nabo_core::entropy::actor(),
        &v.author(),
        n,
    )
    .map_err(|e| refused(e, LABELS))?;
    let meta = crate::meta::derive(doc.doc(), s.storage.as_ref()).await?;
    s.storage.create_document(&meta, &doc.doc().save()).await?;
    Ok(done(
        &format!("/netvaerk/{}", id.as_str()),
        Notice::NetworkCreated,
        "#medlemmer",
    ))
}

/// `GET /netvaerk/{id}`: members by organisation and role, the actions to follow up, the
/// meetings with their actions, and the forms.
async fn show(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    v.require_central()?;
    let d = TenantData::load(&s, &v.principal).await?;
    let n = network(&s, &v, &id).await?;
    let net = &n.network;
    let base = format!("/netvaerk/{}", n.id.as_str());
    let members: Vec<&OrgId> = {
        let mut m: Vec<&OrgId> = net.members.iter().collect();
        m.sort_by_key(|o| (net.roles.get(*o).map(|r| r.role), org_name(&d, o)));
        m
    };
    let open = open_actions(&n, d.today);
    let mut meetings: Vec<(&MeetingId, &NetworkMeeting)> = n.meetings.iter().collect();
    meetings.sort_by(|a, b| b.1.date.cmp(&a.1.date).then(a.0.cmp(b.0)));
    let choosable: Vec<(&OrgId, &nabo_core::model::org::Organisation)> =
        d.orgs.iter().filter(|(_, o)| !o.archived).collect();
    let action_form = |action: &str, m: &MeetingId, a: &ActionId, done: bool, label: &str| {
        html! {
            form method="post" action=(action) class="inline" {
                input type="hidden" name="moede" value=(m.as_str());
                input type="hidden" name="handling" value=(a.as_str());
                input type="hidden" name="udfoert" value=(if done { "ja" } else { "nej" });
                button type="submit" class="sekundaer" { (label) }
            }
        }
    };
    let act_path = format!("{base}/handlinger");
    Ok(page(
        &v,
        Nav::Cooperation,
        &net.name,
        html! {
            (cooperation_nav())
            (notice(&q))
            p {
                (focus_da(net.focus)) " · mødes " (if net.cadence.is_empty() { "efter behov" } else { net.cadence.as_str() })
                " · netværksleder: " (net.leader.as_ref().map(|l| d.by_name(&By::Staff(l.clone()))).unwrap_or_else(|| "ingen".into()))
                @if net.funded_by_lbf { " · finansieret af Landsbyggefonden" }
            }
            @if !net.areas.is_empty() { p { "Boligområder: " (net.areas.iter().map(|a| d.area_name(a)).collect::<Vec<_>>().join(", ")) } }
            @if net.focus == NetworkFocus::IndividualCases {
                p class="note" { "Netværket arbejder med enkeltsager: dagsordener og handlinger skrives med sagsnumre, aldrig med navne." }
            }
            section id="medlemmer" {
                h2 { "Medlemmer" }
                @if !net.members.is_empty() && !has_convener(net) {
                    p class="note" { "Ingen organisation er tovholder endnu." }
                }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Organisation" } th scope="col" { "Rolle i netværket" } th scope="col" { "Funktion" } th scope="col" {} } }
                    tbody {
                        @if members.is_empty() { tr { td colspan="4" class="tom" { "Ingen medlemmer endnu." } } }
                        @for o in &members {
                            @let m = net.roles.get(*o);
                            tr {
                                th scope="row" { (org_name(&d, o)) }
                                td { (m.map(|m| role_da(m.role)).unwrap_or("–")) }
                                td { (m.map(|m| m.function.as_str()).unwrap_or_default()) }
                                td { a class="knap sekundaer" href={(base) "/medlemmer/" (o.as_str()) "/fjern"} aria-label={"Fjern " (org_name(&d, o))} { "Fjern …" } }
                            }
                        }
                    }
                } }
                details {
                    summary { "Tilføj eller ændr et medlem" }
                    form method="post" action={(base) "/medlemmer"} class="stak" {
                        label { "Organisation"
                            select name="organisation" required {
                                @for (id, _) in &choosable { option value=(id.as_str()) { (org_name(&d, id)) } }
                            }
                        }
                        label { "Rolle i netværket"
                            select name="rolle" { @for r in NetworkRole::ALL { option value=(r.code()) { (role_da(*r)) } } }
                        }
                        label { "Funktion (aldrig et navn)" input name="funktion" maxlength="200" placeholder="fx Socialrådgiver, Socialforvaltningen"; }
                        button type="submit" { "Gem medlem" }
                    }
                }
            }
            section id="opfoelgning" {
                h2 { "Til opfølgning" }
                div class="rul" { table {
                    thead { tr { th scope="col" { "Handling" } th scope="col" { "Ansvarlig" } th scope="col" { "Frist" } th scope="col" { "Aftalt på mødet" } th scope="col" { "Status" } th scope="col" {} } }
                    tbody {
                        @if open.is_empty() { tr { td colspan="6" class="tom" { "Ingen åbne handlinger." } } }
                        @for (mid, m, aid, a) in &open {
                            @let (label, class) = follow_up_da(a.follow_up(d.today));
                            tr {
                                th scope="row" { (a.text) }
                                td { (a.owner.as_ref().map(|o| org_name(&d, o)).unwrap_or_else(|| "–".into())) }
                                td { (a.due.map(fmt::date).unwrap_or_else(|| "–".into())) }
                                td { (fmt::date(m.date)) }
                                td { span class={"maerke " (class)} { (label) } }
                                td { (action_form(&act_path, mid, aid, true, "Markér som udført")) }
                            }
                        }
                    }
                } }
            }
            section id="moeder" {
                h2 { "Møder" }
                @if meetings.is_empty() { p class="tom" { "Ingen møder registreret endnu." } }
                @for (mid, m) in &meetings {
                    article class="kortblok" {
                        h3 { "Møde " (fmt::date(m.date)) @if m.cancelled { " (aflyst)" } }
                        p { "Deltagere: " (if m.attendees.is_empty() { "–".to_owned() } else { m.attendees.iter().map(|o| org_name(&d, o)).collect::<Vec<_>>().join(", ") }) }
                        @if !m.agenda.is_empty() { p { "Dagsorden: " (m.agenda) } }
                        @if !m.actions.is_empty() {
                            div class="rul" { table {
                                thead { tr { th scope="col" { "Aftalt handling" } th scope="col" { "Ansvarlig" } th scope="col" { "Frist" } th scope="col" { "Status" } th scope="col" {} } }
                                tbody { @for (aid, a) in m.actions.iter() {
                                    @let (label, class) = follow_up_da(a.follow_up(d.today));
                                    tr {
                                        th scope="row" { (a.text) }
                                        td { (a.owner.as_ref().map(|o| org_name(&d, o)).unwrap_or_else(|| "–".into())) }
                                        td { (a.due.map(fmt::date).unwrap_or_else(|| "–".into())) }
                                        td {
                                            span class={"maerke " (class)} { (label) }
                                            @if a.done { @if let Some(on) = a.done_on { " " (fmt::date(on)) } @if let Some(by) = &a.done_by { " af " (d.by_name(by)) } }
                                        }
                                        td { @if a.done { (action_form(&act_path, mid, aid, false, "Genåbn")) } @else { (action_form(&act_path, mid, aid, true, "Markér som udført")) } }
                                    }
                                } }
                            } }
                        }
                    }
                }
                details id="nyt-moede" {
                    summary { "Registrér et møde" }
                    @if net.members.is_empty() { p class="note" { "Tilføj medlemmer først: deltagere og ansvarlige er netværkets organisationer." } }
                    form method="post" action={(base) "/moeder"} class="stak" {
                        label { "Dato" input type="date" name="dato" required value=(d.today.to_string()); }
                        fieldset { legend { "Deltagende organisationer" }
                            @for o in &members { label class="valg" { input type="checkbox" name="deltager" value=(o.as_str()) checked; " " (org_name(&d, o)) } }
                        }
                        label { "Dagsorden" textarea name="dagsorden" maxlength="4000" rows="2" {} }
                        @for i in 1..=3 {
                            fieldset { legend { "Aftalt handling " (i) " (valgfri)" }
                                label { "Handling" input name={"handling-" (i)} maxlength="200"; }
                                label { "Ansvarlig"
                                    select name={"ansvarlig-" (i)} {
                                        option value="" { "Ingen" }
                                        @for o in &members { option value=(o.as_str()) { (org_name(&d, o)) } }
                                    }
                                }
                                label { "Frist" input type="date" name={"frist-" (i)}; }
                            }
                        }
                        button type="submit" { "Gem mødet" }
                    }
                }
            }
        },
    ))
}

/// Back to the network's page, saying what happened.
fn back_to_network(n: &NetworkEntry, notice: Notice, anchor: &str) -> Response {
    done(&format!("/netvaerk/{}", n.id.as_str()), notice, anchor)
}

/// Edits the network through the hub, answering a refusal by the form's field name.
async fn edit(
    s: &AppState,
    v: &Viewer,
    n: &NetworkEntry,
    f: impl FnOnce(&mut NetworkDoc, &Author) -> nabo_core::Result<()>,
) -> Result<(), WebError> {
    let by = v.author();
    s.hub
        .edit(&n.meta, &v.principal, |doc: &mut NetworkDoc| f(doc, &by))
        .await
        .map_err(|e| edit_refused(e, LABELS))
}

/// `POST /netvaerk/{id}/medlemmer`: adds an organisation or changes its role and function.
async fn set_member(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let n = network(&s, &v, &id).await?;
    let org: OrgId = form
        .one("organisation")
        .and_then(|x| x.parse().ok())
        .filter(|o| d.orgs.contains_key(o))
        .ok_or_else(|| {
            WebError::BadRequest("Vælg en organisation i feltet «Organisation».".into())
        })?;
    let role: NetworkRole = form
        .one("rolle")
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| {
            WebError::BadRequest("Vælg en rolle i feltet «Rolle i netværket».".into())
        })?;
    let m = Membership {
        role,
        function: form.one("funktion").unwrap_or_default().to_owned(),
    };
    edit(&s, &v, &n, |doc, by| doc.set_member(by, &org, m)).await?;
    Ok(back_to_network(&n, Notice::MemberSaved, "#medlemmer"))
}

/// `GET /netvaerk/{id}/medlemmer/{org}/fjern`: asks first.
async fn confirm_remove(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, org)): Path<(String, String)>,
) -> WebResult {
    v.require_central()?;
    let d = TenantData::load(&s, &v.principal).await?;
    let n = network(&s, &v, &id).await?;
    let org: OrgId = org.parse().map_err(|_| WebError::NotFound)?;
    if !n.network.members.contains(&org) {
        return Err(WebError::NotFound);
    }
    let open = open_actions(&n, d.today)
        .iter()
        .filter(|(_, _, _, a)| a.owner.as_ref() == Some(&org))
        .count();
    Ok(page(
        &v,
        Nav::Cooperation,
        &format!("Fjern {} fra {}?", org_name(&d, &org), n.network.name),
        html! {
            ul {
                li { "Organisationen er ikke længere medlem og kan ikke vælges som deltager eller ansvarlig på nye møder." }
                li { "Tidligere møder og handlinger nævner den stadig." }
                @if open > 0 { li { strong { (open) @if open == 1 { " åben handling" } @else { " åbne handlinger" } } " har organisationen som ansvarlig; de bliver stående." } }
            }
            p { "Du kan fortryde ved at tilføje organisationen igen." }
            form method="post" class="stak" {
                button type="submit" class="fare" { "Fjern fra netværket" }
                a href={"/netvaerk/" (n.id.as_str()) "#medlemmer"} { "Annullér" }
            }
        },
    ))
}

/// `POST /netvaerk/{id}/medlemmer/{org}/fjern`.
async fn remove_member(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, org)): Path<(String, String)>,
) -> WebResult {
    v.require_central()?;
    let n = network(&s, &v, &id).await?;
    let org: OrgId = org.parse().map_err(|_| WebError::NotFound)?;
    edit(&s, &v, &n, |doc, by| doc.remove_member(by, &org)).await?;
    Ok(back_to_network(&n, Notice::MemberRemoved, "#medlemmer"))
}

/// `POST /netvaerk/{id}/moeder`: a meeting with up to three agreed actions.
async fn record_meeting(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let n = network(&s, &v, &id).await?;
    let member = |x: &str, label: &str| -> Result<OrgId, WebError> {
        x.parse::<OrgId>()
            .ok()
            .filter(|o| n.network.members.contains(o))
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "Feltet «{label}» skal være en af netværkets organisationer."
                ))
            })
    };
    let date = form.date("dato", "Dato")?;
    let mut attendees = Set::new();
    for x in form.all("deltager") {
        attendees.insert(member(x, "Deltagende organisationer")?);
    }
    let mut actions = IdMap::new();
    for i in 1..=3 {
        let text = form.one(&format!("handling-{i}")).unwrap_or_default();
        let owner = form.one(&format!("ansvarlig-{i}")).unwrap_or_default();
        let due = form.one(&format!("frist-{i}")).unwrap_or_default();
        if text.is_empty() {
            if !owner.is_empty() || !due.is_empty() {
                return Err(WebError::BadRequest(format!(
                    "Feltet «Handling» under aftalt handling {i} mangler: skriv, hvad der blev aftalt."
                )));
            }
            continue;
        }
        let owner = if owner.is_empty() {
            None
        } else {
            Some(member(owner, "Ansvarlig")?)
        };
        let due = if due.is_empty() {
            None
        } else {
            Some(form.date(&format!("frist-{i}"), "Frist")?)
        };
        actions.insert(
            format!("h{i}-{}", nabo_core::ids::random_id())
                .parse::<ActionId>()
                .map_err(|_| WebError::Internal)?,
            AgreedAction {
                text: text.to_owned(),
                owner,
                due,
                done: false,
                done_on: None,
                done_by: None,
            },
        );
    }
    let m = NetworkMeeting {
        date,
        attendees,
        agenda: form.one("dagsorden").unwrap_or_default().to_owned(),
        actions,
        cancelled: false,
    };
    edit(&s, &v, &n, |doc, by| doc.record_meeting(by, m).map(|_| ())).await?;
    Ok(back_to_network(&n, Notice::MeetingRecorded, "#moeder"))
}

/// `POST /netvaerk/{id}/handlinger`: an agreed action done, or open again.
async fn set_action(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    body: String,
) -> WebResult {
    v.require_central()?;
    let form = FormFields::parse(&body);
    let n = network(&s, &v, &id).await?;
    let meeting: MeetingId = form
        .one("moede")
        .and_then(|x| x.parse().ok())
        .ok_or(WebError::NotFound)?;
    let action: ActionId = form
        .one("handling")
        .and_then(|x| x.parse().ok())
        .ok_or(WebError::NotFound)?;
    let done_now = match form.one("udfoert") {
        Some("ja") => true,
        Some("nej") => false,
        _ => {
            return Err(WebError::BadRequest(
                "Feltet «Udført» skal være ja eller nej.".into(),
            ));
        }
    };
    edit(&s, &v, &n, |doc, by| {
        doc.set_action_done(by, &meeting, &action, done_now)
    })
    .await?;
    Ok(back_to_network(
        &n,
        if done_now {
            Notice::ActionDone
        } else {
            Notice::ActionReopened
        },
        "#opfoelgning",
    ))
}

/// `GET /bestyrelser`: each programme's board with its type and members (seats at
/// organisation level), and the signatories. Read from the programme; edited in the
/// programme form.
async fn boards(State(s): State<AppState>, Extension(v): Extension<Viewer>) -> WebResult {
    v.require_central()?;
    let d = TenantData::load(&s, &v.principal).await?;
    Ok(page(
        &v,
        Nav::Cooperation,
        "Programmernes bestyrelser",
        html! {
            (cooperation_nav())
            p { "Bestyrelsen er det tværorganisatoriske forum, der sætter retning for det boligsociale arbejde. Pladserne registreres på organisationsniveau med funktion – aldrig med navn." }
            @if d.programmes.is_empty() { p class="tom" { "Ingen programmer endnu." } }
            @for (pid, p) in &d.programmes {
                section class="kortblok" id={"bestyrelse-" (pid.as_str())} {
                    h2 { (p.name) }
                    @match &p.board {
                        None => { p class="note" { "Programmet har ingen bestyrelse registreret." } }
                        Some(b) => {
                            @let (kind, about) = board_type_da(b.kind);
                            p { strong { (kind) } }
                            p class="note" { (about) }
                            div class="rul" { table {
                                thead { tr { th scope="col" { "Organisation" } th scope="col" { "Funktion" } th scope="col" { "Formand" } } }
                                tbody {
                                    @if b.members.is_empty() { tr { td colspan="3" class="tom" { "Ingen medlemmer registreret." } } }
                                    @for m in b.members.values() {
                                        tr {
                                            th scope="row" { (org_name(&d, &m.org)) }
                                            td { (m.function) }
                                            td { (if m.chair { "formand" } else { "" }) }
                                        }
                                    }
                                }
                            } }
                        }
                    }
                    @if !p.signatories.is_empty() {
                        p { "Underskrivere: " (p.signatories.iter().map(|o| org_name(&d, o)).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        },
    ))
}
