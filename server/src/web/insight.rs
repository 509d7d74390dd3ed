//! A data subject's access to the log of lookups on their data (Indsigt, ADR 0024;
//! Datatilsynet 2024 after CJEU C-579/21): `/indsigt?emne=<id>` lists when and why the
//! person's data was looked at, exported, changed, synced to phones or erased — dates and
//! purposes, and the employee only where the tenant's settings say so — as a page, as CSV or
//! Excel (the table's export links), and printable (`/indsigt/udskrift`, `@media print`).
//! The page says whether the log's hash chain is intact. Legal holds on the person are set
//! and lifted here; the tenant's privacy settings (retention classes) are on the
//! administration page ([`settings_section`]). Central staff only.

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::access_log::{AccessKind, Entry, Purpose};
use nabo_core::erasure::merge_group;
use nabo_core::ids::{ParticipantId, StaffId, VolunteerId};
use nabo_core::retention::{Class, Disposal, HoldReason, PrivacySettings, RecordKind};
use nabo_core::time::Timestamp;
use serde::Deserialize;

use super::data::TenantData;
use super::fmt;
use super::table::{Cell, ExportQuery, Table};
use super::{FormFields, Nav, Viewer, WebError, WebResult, back_to, export, page};
use crate::access_log::{VerifyError, record, verify};
use crate::api::AppState;
use crate::retention::{HoldError, put_settings, release_hold, set_hold, settings};

/// The routes (inside the signed-in part of the site).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/indsigt", get(extract))
        .route("/indsigt/udskrift", get(printable))
        .route("/indsigt/tilbagehold", post(hold))
        .route("/indsigt/tilbagehold/ophaev", post(release))
        .route("/administration/databeskyttelse", post(save_settings))
}

#[derive(Deserialize)]
pub struct SubjectQuery {
    emne: Option<String>,
    #[serde(flatten)]
    export: ExportQuery,
}

impl From<HoldError> for WebError {
    fn from(e: HoldError) -> Self {
        match e {
            HoldError::Conflict => WebError::Conflict(
                "Der er allerede et tilbagehold på oplysningerne (eller intet at ophæve).".into(),
            ),
            HoldError::Storage(s) => s.into(),
        }
    }
}

/// Who a subject id is, as staff see them, and the documents whose syncs reached their data.
fn subject_of(d: &TenantData, subject: &str) -> (String, Vec<String>) {
    let mut docs = Vec::new();
    let mut name = None;
    if let Ok(pid) = subject.parse::<ParticipantId>() {
        for r in &d.registers {
            let group = merge_group(&r.view.participants, &pid);
            if !group.is_empty() {
                docs.push(r.meta.id.to_string());
                name.get_or_insert_with(|| d.participant_name(r, &pid));
            }
        }
    }
    if let Ok(vid) = subject.parse::<VolunteerId>()
        && d.volunteers.contains_key(&vid)
    {
        if let Some(m) = &d.volunteers_meta {
            docs.push(m.id.to_string());
        }
        name.get_or_insert_with(|| d.volunteer_name(&vid));
    }
    if let Ok(sid) = subject.parse::<StaffId>()
        && d.staff.contains_key(&sid)
    {
        if let Some(m) = &d.staff_meta {
            docs.push(m.id.to_string());
        }
        name.get_or_insert_with(|| d.staff_name(&sid));
    }
    (
        name.unwrap_or_else(|| format!("Person {}", short(subject))),
        docs,
    )
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// What the extract shows of an entry: when, what, why, and (where the tenant says so) who.
struct Extract {
    name: String,
    table: Table,
    chain: Markup,
}

async fn build(s: &AppState, v: &Viewer, subject: &str) -> Result<Extract, WebError> {
    v.require_central()?;
    crate::erasure::check_subject(subject).map_err(|_| WebError::NotFound)?;
    let d = TenantData::load(s, &v.principal).await?;
    let (name, docs) = subject_of(&d, subject);
    // Producing the extract is itself an access (and is listed in it).
    record(
        s,
        &v.principal,
        AccessKind::Read,
        Purpose::SubjectRequest,
        None,
        [subject],
    )
    .await?;
    let tenant = &v.principal.tenant;
    let prefs = settings(s.storage.as_ref(), tenant).await?;
    let entries = s.storage.access_of_subject(tenant, subject, &docs).await?;
    let mut head = vec!["Tidspunkt", "Handling", "Formål"];
    if prefs.extract_names_employee {
        head.push("Medarbejder");
    }
    let mut table = Table::new("indsigt", "Opslag på personens oplysninger", &head);
    let mut names: HashMap<String, String> = HashMap::new();
    for e in &entries {
        let mut row = vec![
            Cell::text(fmt::datetime(Timestamp(e.at))),
            Cell::text(kind_da(e)),
            Cell::text(purpose_da(e)),
        ];
        if prefs.extract_names_employee {
            if !names.contains_key(&e.user_id) {
                let n = employee(s, &e.user_id).await?;
                names.insert(e.user_id.clone(), n);
            }
            row.push(Cell::text(names[&e.user_id].clone()));
        }
        table.row(row);
    }
    let chain = match verify(s.storage.as_ref(), tenant).await {
        Ok(ok) => html! {
            p class="besked" { "Loggen er intakt: " (ok.checked) " poster kontrolleret mod hashkæden." }
        },
        Err(VerifyError::Broken(b)) => html! {
            p class="fejl" { "Loggen er brudt ved post nr. " (b.seq()) ": den er ændret eller slettet uden om Nabo. Kontakt driften." }
        },
        Err(VerifyError::Storage(e)) => return Err(e.into()),
    };
    Ok(Extract { name, table, chain })
}

/// Logs that the extract left the page (a file, a print).
async fn exported(s: &AppState, v: &Viewer, subject: &str) -> Result<(), WebError> {
    record(
        s,
        &v.principal,
        AccessKind::Export,
        Purpose::SubjectRequest,
        None,
        [subject],
    )
    .await?;
    Ok(())
}

fn kind_da(e: &Entry) -> String {
    e.kind
        .parse::<AccessKind>()
        .map_or_else(|_| e.kind.clone(), |k| k.da().to_owned())
}

fn purpose_da(e: &Entry) -> String {
    e.purpose
        .parse::<Purpose>()
        .map_or_else(|_| e.purpose.clone(), |p| p.da().to_owned())
}

async fn employee(s: &AppState, user_id: &str) -> Result<String, WebError> {
    if user_id.starts_with("system:") {
        return Ok("Nabo (automatisk)".into());
    }
    Ok(s.storage
        .user(user_id)
        .await?
        .map_or_else(|| "Ukendt medarbejder".into(), |u| u.display_name))
}

/// `GET /indsigt` (a form) and `GET /indsigt?emne=<id>` (the extract).
async fn extract(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<SubjectQuery>,
) -> WebResult {
    v.require_central()?;
    let Some(subject) = q.emne.as_deref().filter(|x| !x.is_empty()) else {
        return Ok(page(&v, Nav::Review, "Indsigt i logningen", ask()));
    };
    let x = build(&s, &v, subject).await?;
    if let Some(answer) = export(&q.export, &[&x.table], "indsigt") {
        exported(&s, &v, subject).await?;
        return answer;
    }
    let holds = s.storage.holds(&v.principal.tenant).await?;
    let in_force = holds
        .iter()
        .find(|h| h.subject == subject && h.released_at.is_none());
    let path = format!("/indsigt?emne={subject}");
    Ok(page(
        &v,
        Nav::Review,
        "Indsigt i logningen",
        html! {
            p { "Udtræk for " strong { (x.name) } " (id " code { (subject) } "): hvornår og hvorfor personens oplysninger er slået op, eksporteret, ændret, synkroniseret til telefoner eller slettet. Navnet står kun her på siden – loggen selv indeholder ingen navne." }
            (x.chain)
            p { a href={"/indsigt/udskrift?emne=" (subject)} { "Udskriftsvenlig version (Gem som PDF)" } }
            p { a href={"/samtykke?emne=" (subject)} { "Samtykke og grundlag" } }
            (x.table.html(&path))
            h2 { "Retligt tilbagehold" }
            @if let Some(h) = in_force {
                p { "Der er tilbagehold på personens oplysninger siden " (fmt::datetime(Timestamp(h.set_at))) ": "
                    (h.reason.parse::<HoldReason>().map_or(h.reason.as_str(), |r| r.da())) ". Opbevaringsfristen og sletning er sat ud af kraft, til tilbageholdet ophæves." }
                form method="post" action="/indsigt/tilbagehold/ophaev" {
                    input type="hidden" name="emne" value=(subject);
                    button type="submit" { "Ophæv tilbageholdet" }
                }
            } @else {
                p { "Et tilbagehold forhindrer, at personens oplysninger slettes – også når opbevaringsfristen er udløbet – fx på grund af notat- og journaliseringspligt." }
                form method="post" action="/indsigt/tilbagehold" {
                    input type="hidden" name="emne" value=(subject);
                    label for="aarsag" { "Årsag" }
                    select id="aarsag" name="aarsag" required {
                        option value="" { "Vælg årsag" }
                        @for r in HoldReason::ALL { option value=(r.code()) { (r.da()) } }
                    }
                    button type="submit" { "Sæt tilbagehold" }
                }
            }
        },
    ))
}

fn ask() -> Markup {
    html! {
        p { "Den registrerede har ret til at få at vide, hvornår og til hvilke formål der er slået op i personens oplysninger. Angiv personens id (det står på personens side og i sletningslinket)." }
        form method="get" action="/indsigt" {
            label for="emne" { "Personens id" }
            input id="emne" name="emne" required;
            button type="submit" { "Vis udtræk" }
        }
    }
}

/// `GET /indsigt/udskrift?emne=<id>`: the extract for paper (the stylesheet's `@media print`).
async fn printable(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<SubjectQuery>,
) -> WebResult {
    let subject = q.emne.as_deref().unwrap_or_default();
    let x = build(&s, &v, subject).await?;
    exported(&s, &v, subject).await?;
    let title = "Indsigt i logning af opslag";
    Ok(super::bare(
        title,
        html! {
            main id="indhold" class="pakke" {
                p class="skjul-udskrift" {
                    a href={"/indsigt?emne=" (subject)} { "← Tilbage" }
                    " · Udskriv med Ctrl+P (eller Gem som PDF)."
                }
                header class="pakke-top" {
                    h1 { (title) }
                    p { "Til: " (x.name) ". Udskrevet " (fmt::datetime(v.clock.now())) "." }
                    p class="note" { "Oversigten viser datoer og formål for opslag i dine oplysninger (databeskyttelsesforordningens art. 15)." }
                }
                (x.chain)
                (x.table.plain())
            }
        },
    )
    .into_response())
}

async fn hold(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    v.require_central()?;
    let f = FormFields::parse(&body);
    let subject = f.one("emne").unwrap_or_default().to_owned();
    crate::erasure::check_subject(&subject).map_err(|_| WebError::NotFound)?;
    let reason = f
        .one("aarsag")
        .and_then(|c| c.parse::<HoldReason>().ok())
        .ok_or_else(|| {
            WebError::BadRequest(
                "Feltet «Årsag» mangler: vælg hvorfor der sættes tilbagehold.".into(),
            )
        })?;
    set_hold(&s, &v.principal, &subject, reason).await?;
    Ok(back_to(&return_to(&f, &subject)))
}

async fn release(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    v.require_central()?;
    let f = FormFields::parse(&body);
    let subject = f.one("emne").unwrap_or_default().to_owned();
    crate::erasure::check_subject(&subject).map_err(|_| WebError::NotFound)?;
    release_hold(&s, &v.principal, &subject).await?;
    Ok(back_to(&return_to(&f, &subject)))
}

/// Where a hold's form goes back to: the page it came from (`tilbage`, a local path: a
/// report's page holds the report), else the subject's extract.
fn return_to(f: &FormFields, subject: &str) -> String {
    f.one("tilbage")
        .filter(|t| !t.is_empty())
        .map_or_else(|| format!("/indsigt?emne={subject}"), str::to_owned)
}

/// The administration page's section with the tenant's privacy settings.
pub async fn settings_section(s: &AppState, v: &Viewer) -> Result<Markup, WebError> {
    let prefs = settings(s.storage.as_ref(), &v.principal.tenant).await?;
    let holds: BTreeSet<String> =
        crate::retention::holds_in_force(s.storage.as_ref(), &v.principal.tenant).await?;
    let last_run = s
        .storage
        .retention_runs(&v.principal.tenant, 1)
        .await?
        .into_iter()
        .next();
    Ok(html! {
        h2 id="databeskyttelse" { "Databeskyttelse: opbevaring og indsigt" }
        p { "Oplysningerne slettes eller anonymiseres automatisk, når fristen efter formålets ophør er udløbet. Et retligt tilbagehold (under " a href="/indsigt" { "Indsigt" } ", og for en rapport under " a href="/rapporter/maalopfyldelse" { "Målopfyldelse" } ") sætter fristen ud af kraft for en person eller en rapport. Tilbagehold i kraft: " (holds.len()) "." }
        @if let Some(run) = last_run {
            p id="seneste-koersel" {
                "Seneste automatiske sletning (" (nabo_core::time::Date::parse(&run.today).map_or_else(|| run.today.clone(), fmt::date)) "): "
                (run.anonymised) " personer anonymiseret, "
                (run.reports) " rapporter anonymiseret eller slettet, "
                (run.held) " holdt tilbage af et retligt tilbagehold, "
                (run.log_pruned) " poster fjernet fra adgangsloggen."
            }
        }
        form method="post" action="/administration/databeskyttelse" {
            table {
                thead { tr { th scope="col" { "Oplysninger" } th scope="col" { "Måneder" } th scope="col" { "Derefter" } } }
                tbody {
                    @for k in RecordKind::ALL {
                        @let c = prefs.retention.class(*k);
                        tr {
                            th scope="row" { label for={"frist-" (k.code())} { (k.da()) " " span class="lille" { "(" (k.ends_da()) ")" } } }
                            td { input id={"frist-" (k.code())} name={"frist-" (k.code())} type="number" min=(nabo_core::retention::MIN_MONTHS) max=(nabo_core::retention::MAX_MONTHS) value=(c.months) required; }
                            td {
                                select name={"derefter-" (k.code())} aria-label={"Derefter: " (k.da())} {
                                    @for d in Disposal::ALL { option value=(d.code()) selected[c.then == *d] { (d.da()) } }
                                }
                            }
                        }
                    }
                }
            }
            p {
                label for="max-offline-dage" { "Telefoner viser navne i højst så mange dage uden forbindelse til Nabo" }
                " "
                input id="max-offline-dage" name="max-offline-dage" type="number" min=(nabo_core::retention::MIN_OFFLINE_DAYS) max=(nabo_core::retention::MAX_OFFLINE_DAYS) value=(prefs.max_offline_days) required;
                " "
                span class="lille" { "(derefter skjuler telefonen navnene og sletter de nøgler, den kan hente igen, indtil den har haft forbindelse)" }
            }
            p {
                label for="ved-tilbagetraekning" { "Når et samtykke trækkes tilbage" }
                " "
                select id="ved-tilbagetraekning" name="ved-tilbagetraekning" {
                    @for a in nabo_core::retention::WithdrawalAction::ALL {
                        option value=(a.code()) selected[prefs.on_withdrawal == *a] { (a.da()) }
                    }
                }
            }
            label {
                input type="checkbox" name="navngiv-medarbejder" value="ja" checked[prefs.extract_names_employee];
                " Udtræk til den registrerede nævner medarbejderen, der slog op (normalt ikke: dato og formål er det, den registrerede har ret til)"
            }
            button type="submit" { "Gem indstillingerne" }
        }
    })
}

async fn save_settings(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    body: String,
) -> WebResult<Response> {
    v.require_central()?;
    let f = FormFields::parse(&body);
    let mut prefs: PrivacySettings = settings(s.storage.as_ref(), &v.principal.tenant).await?;
    for k in RecordKind::ALL {
        let months = f
            .one(&format!("frist-{}", k.code()))
            .and_then(|m| m.trim().parse::<u32>().ok())
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "Feltet «Måneder» for «{}» skal være et helt tal.",
                    k.da()
                ))
            })?;
        let then = f
            .one(&format!("derefter-{}", k.code()))
            .and_then(|c| c.parse::<Disposal>().ok())
            .ok_or_else(|| {
                WebError::BadRequest(format!("Vælg, hvad der sker med «{}» derefter.", k.da()))
            })?;
        prefs
            .retention
            .set(*k, Class { months, then })
            .map_err(|_| {
                WebError::BadRequest(format!(
                    "Feltet «Måneder» for «{}» skal være mellem {} og {}.",
                    k.da(),
                    nabo_core::retention::MIN_MONTHS,
                    nabo_core::retention::MAX_MONTHS
                ))
            })?;
    }
    // A form from before the field existed keeps the tenant's setting.
    if let Some(days) = f.one("max-offline-dage") {
        let days = days.trim().parse::<u16>().map_err(|_| {
            WebError::BadRequest("Feltet «Dage uden forbindelse» skal være et helt tal.".into())
        })?;
        prefs.set_max_offline_days(days).map_err(|_| {
            WebError::BadRequest(format!(
                "Feltet «Dage uden forbindelse» skal være mellem {} og {}.",
                nabo_core::retention::MIN_OFFLINE_DAYS,
                nabo_core::retention::MAX_OFFLINE_DAYS
            ))
        })?;
    }
    if let Some(a) = f.one("ved-tilbagetraekning") {
        prefs.on_withdrawal = a.parse().map_err(|_| {
            WebError::BadRequest(
                "Vælg, hvad der sker, når et samtykke trækkes tilbage (feltet «Når et samtykke trækkes tilbage»).".into(),
            )
        })?;
    }
    prefs.extract_names_employee = f.one("navngiv-medarbejder") == Some("ja");
    put_settings(s.storage.as_ref(), &v.principal.tenant, &prefs).await?;
    Ok(back_to("/administration#databeskyttelse"))
}
