//! Merged records: activities with their sessions and roll calls as merged from every phone,
//! a record's history from the CRDT, review states and the review queue, duplicate
//! candidates and conflicts that staff resolve.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Extension, Form, Path, Query, State};

use maud::{Markup, html};
use nabo_core::access_log::{AccessKind, Purpose};
use nabo_core::docs::register::{RegisterContext, RegisterView, ReviewItem};
use nabo_core::document::{DocumentId, RecordChange, TypedDoc};
#[allow(unused_imports)]
use nabo_core::model::activity::{Activity, Goal, IndicatorDef};
use nabo_core::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::data::{OutreachEntry, RegisterEntry, SessionReview, TenantData, short};
use super::fmt::{self, Da};
use super::table::{Cell, ExportQuery, Table};
use super::{Nav, Viewer, WebError, WebResult, back_to, export, page};
use crate::api::AppState;
use crate::storage::{DocMeta, ReviewRow};

/// Review states.
pub const REVIEWED: &str = "reviewed";
/// Flagged with a comment.
pub const FLAGGED: &str = "flagged";

fn fingerprint(parts: &impl std::fmt::Debug) -> String {
    hex::encode(&Sha256::digest(format!("{parts:?}").as_bytes())[..12])
}

/// A session's record as the review sees it: the session, its marks, headcounts and shifts.
pub fn session_fingerprint(v: &RegisterView, s: &SessionId) -> String {
    fingerprint(&(
        v.sessions.get(s),
        v.attendance
            .iter()
            .filter(|((x, _), _)| x == s)
            .collect::<Vec<_>>(),
        v.headcounts
            .iter()
            .filter(|((x, _), _)| x == s)
            .collect::<Vec<_>>(),
        v.shifts
            .iter()
            .filter(|((x, _), _)| x == s)
            .collect::<Vec<_>>(),
    ))
}

/// [`session_has_records`] and [`session_fingerprint`] of every session of a view, in one
/// pass over its marks, headcounts and shifts (the same fingerprints as one at a time).
pub(super) fn session_reviews(v: &RegisterView) -> BTreeMap<SessionId, SessionReview> {
    type Parts<'a, A, B, C> = (Vec<A>, Vec<B>, Vec<C>);
    let mut by: BTreeMap<&SessionId, Parts<'_, _, _, _>> = BTreeMap::new();
    for e @ ((s, _), _) in &v.attendance {
        by.entry(s).or_default().0.push(e);
    }
    for e @ ((s, _), _) in &v.headcounts {
        by.entry(s).or_default().1.push(e);
    }
    for e @ ((s, _), _) in &v.shifts {
        by.entry(s).or_default().2.push(e);
    }
    v.sessions
        .keys()
        .map(|s| {
            let (att, heads, shifts) = by.remove(s).unwrap_or_default();
            let has_records =
                !att.is_empty() || heads.iter().any(|(_, c)| c.current > 0) || !shifts.is_empty();
            let fingerprint = fingerprint(&(v.sessions.get(s), att, heads, shifts));
            (
                s.clone(),
                SessionReview {
                    has_records,
                    fingerprint,
                },
            )
        })
        .collect()
}

/// The contacts of an outreach log never reviewed or changed since, as (record, fingerprint).
fn unreviewed_contacts(
    o: &OutreachEntry,
    rv: &HashMap<(DocumentId, String), ReviewRow>,
) -> Vec<(String, String)> {
    o.view
        .contacts
        .iter()
        .filter_map(|(id, c)| {
            let key = format!("kontakt:{id}");
            let fp = fingerprint(c);
            rv.get(&(o.meta.id, key.clone()))
                .is_none_or(|r| r.fingerprint != fp)
                .then_some((key, fp))
        })
        .collect()
}

pub(super) fn session_has_records(v: &RegisterView, s: &SessionId) -> bool {
    v.attendance.keys().any(|(x, _)| x == s)
        || v.headcounts
            .iter()
            .any(|((x, _), c)| x == s && c.current > 0)
        || v.shifts.keys().any(|(x, _)| x == s)
}

/// The review states of a tenant, by (document, record).
pub(super) async fn reviews(
    s: &AppState,
    tenant: &TenantId,
) -> Result<HashMap<(DocumentId, String), ReviewRow>, WebError> {
    Ok(s.storage
        .reviews(tenant)
        .await?
        .into_iter()
        .map(|r| ((r.doc_id, r.record.clone()), r))
        .collect())
}

fn state_badge(review: Option<&ReviewRow>, current: &str) -> Markup {
    match review {
        None => html! { span class="maerke ny" { "Ny" } },
        Some(r) if r.state == FLAGGED => html! { span class="maerke markeret" { "Markeret" } },
        Some(r) if r.fingerprint != current => {
            html! { span class="maerke ny" { "Ændret siden gennemgang" } }
        }
        Some(_) => html! { span class="maerke godkendt" { "Gennemgået" } },
    }
}

// Activities ----------------------------------------------------------------------------------

/// `GET /aktiviteter`.
pub async fn activities(State(s): State<AppState>, Extension(v): Extension<Viewer>) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    Ok(page(
        &v,
        Nav::Records,
        "Aktiviteter",
        html! {
            (d.flags())
            div class="rul" {
                table {
                    thead { tr { th scope="col" { "Aktivitet" } th scope="col" { "Indsatsområde" } th scope="col" { "Type" } th scope="col" { "Boligområde" } th scope="col" { "Registre" } } }
                    tbody {
                        @for a in d.live_activities() {
                            tr {
                                th scope="row" { a href={"/aktiviteter/" (a.id.as_str())} { (a.activity.name) } @if a.activity.main_activity { " " span class="maerke" { "Hovedaktivitet" } } }
                                td { (d.intervention_area(&a.activity).1) }
                                td { (d.activity_type_name(&a.activity)) }
                                td { (d.area_name(&a.activity.area)) }
                                td class="tal" { (d.registers.iter().filter(|r| r.doc.activity_id() == &a.id).count()) }
                            }
                        }
                    }
                }
            }
            @if !d.resident_logs.is_empty() {
                h2 { "Beboerdrevne aktiviteter" }
                p {
                    a href="/beboerdrevet" { "Ambassadørrunder og madklubaftener" }
                    " – " (fmt::count(d.resident_logs.len() as i64, "beboerlog", "beboerlogs"))
                }
            }
            h2 { "Opsøgende logbøger" }
            ul {
                @for o in outreach_newest_first(&d) {
                    li { a href={"/opsoegende/" (o.meta.id)} { (d.outreach_title(o)) } " – " (fmt::count(o.view.contacts.len() as i64, "kontakt", "kontakter")) }
                }
            }
        },
    ))
}

/// `GET /aktiviteter/{id}`: the activity, its change theory and its sessions as merged.
pub async fn activity(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<super::manage::NoticeQuery>,
    Query(sq): Query<super::sessions::NoticeQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let id: ActivityId = id.parse().map_err(|_| WebError::NotFound)?;
    let a = d.activity(&id).ok_or(WebError::NotFound)?;
    let rv = reviews(&s, &v.principal.tenant).await?;
    let goals = a.doc.goals()?;
    let indicators = a.doc.indicators()?;
    let challenges = a.doc.challenges()?;
    let mut regs: Vec<&RegisterEntry> = d
        .registers
        .iter()
        .filter(|r| r.doc.activity_id() == &id)
        .collect();
    regs.sort_by_key(|r| std::cmp::Reverse((r.doc.term().year, r.doc.term().half)));
    let act = &a.activity;
    // The coming sessions name the volunteers signed up (ADR 0024).
    let signed_up: Vec<String> = regs
        .iter()
        .flat_map(|r| {
            r.view
                .shifts
                .keys()
                .filter(|(sid, _)| {
                    r.view
                        .sessions
                        .get(sid)
                        .is_some_and(|x| x.current.date >= d.today)
                })
                .map(|(_, vid)| vid.to_string())
        })
        .collect();
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Read,
        Purpose::Review,
        None,
        signed_up,
    )
    .await?;
    Ok(page(
        &v,
        Nav::Records,
        &act.name,
        html! {
            (super::manage::notice(&q, &d))
            (super::sessions::notice(&sq, &d))
            @if act.archived { p class="besked" { "Aktiviteten er arkiveret. Den vises stadig her og i rapporterne for perioden." } }
            p { (super::manage::edit_link(super::manage::Kind::Activity, id.as_str(), &act.name)) }
            dl class="fakta" {
                dt { "Indsatsområde" } dd { (d.intervention_area(act).1) }
                dt { "Aktivitetstype" } dd { (d.activity_type_name(act)) }
                dt { "Boligområde" } dd { (d.area_name(&act.area)) }
                dt { "Målgrupper" } dd { (act.target_groups.keys().map(|g| d.catalogue.target_group(g.as_str()).map_or_else(|| g.to_string(), |t| t.name_da.clone())).collect::<Vec<_>>().join(", ")) }
                dt { "Hovedaktivitet" } dd { (if act.main_activity { "ja" } else { "nej" }) }
            }
            h2 { "Forandringsteori" }
            @if challenges.is_empty() && goals.is_empty() {
                p { "Ingen forandringsteori endnu. Den oprettes under " a href="/administration#forandringsteori" { "Administration" } "." }
            } @else {
                p { a href={"/rapporter/maalopfyldelse?aktivitet=" (id.as_str()) "#forandringsteori"} { "Ret, flyt eller tag mål og indikatorer ud" } }
                h3 { "Udfordringer" }
                ul { @for c in challenges.values() { li { (c.text) } } }
                h3 { "Mål" }
                ol class="maal" {
                    @for g in sorted_goals(&goals) {
                        li { strong { (g.level.da()) " (trin " (g.step) ")" } ": " (g.text)
                            @if let Some(r) = g.retired { " " span class="maerke" { "Udgået fra " (fmt::date(r)) } }
                            @if !g.indicators.is_empty() {
                                " – indikatorer: " (g.indicators.iter().filter_map(|i| indicators.get(i)).map(|i| i.name.clone()).collect::<Vec<_>>().join(", "))
                            }
                        }
                    }
                }
            }
            (coming_sessions(&d, &regs))
            (super::sessions::section(&d, a, &regs))
            @for r in &regs {
                h2 { "Gange " (crate::meta::term_da(r.doc.term())) }
                div class="rul" {
                    table {
                        thead { tr { th scope="col" { "Dato" } th scope="col" { "Tid" } th scope="col" { "Til stede" } th scope="col" { "Antal" } th scope="col" { "Frivillige" } th scope="col" { "Gennemgang" } } }
                        tbody {
                            @for (sid, sess) in sessions_newest_first(r, d.today) {
                                @let present = r.view.attendance.iter().filter(|((x, _), m)| x == sid && m.current == AttendanceStatus::Present).count();
                                @let heads: u32 = r.view.headcount(sid);
                                @let vols = r.view.shifts.keys().filter(|(x, _)| x == sid).count();
                                @let key = format!("moede:{sid}");
                                tr {
                                    th scope="row" { a href={"/registre/" (r.meta.id) "/moeder/" (sid.as_str())} { (fmt::date_with_weekday(sess.current.date)) } @if sess.current.cancelled { " " span class="maerke" { "Aflyst" } } }
                                    td { (sess.current.start) "–" (sess.current.end) }
                                    td class="tal" { (present) }
                                    td class="tal" { (heads) }
                                    td class="tal" { (vols) }
                                    @let sr = r.session_review(sid);
                                    td { @if sr.has_records { (state_badge(rv.get(&(r.meta.id, key)), &sr.fingerprint)) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The outreach logs, the latest quarter first, then by area and worker.
fn outreach_newest_first(d: &TenantData) -> Vec<&OutreachEntry> {
    let mut v: Vec<&OutreachEntry> = d.outreach.iter().collect();
    v.sort_by_key(|o| {
        let q = o.doc.quarter();
        (
            std::cmp::Reverse((q.year, q.q)),
            d.area_name(o.doc.area()),
            d.by_name(&By::Staff(o.doc.worker().clone())),
        )
    });
    v
}

/// A register's sessions up to `today`, newest first (date, then start time).
fn sessions_newest_first(
    r: &RegisterEntry,
    today: Date,
) -> Vec<(&SessionId, &Versions<nabo_core::model::register::Session>)> {
    let mut v: Vec<_> = r
        .view
        .sessions
        .iter()
        .filter(|(_, x)| x.current.date <= today)
        .collect();
    v.sort_by(|a, b| {
        (b.1.current.date, &b.1.current.start).cmp(&(a.1.current.date, &a.1.current.start))
    });
    v
}

fn sorted_goals(goals: &BTreeMap<GoalId, Goal>) -> Vec<&Goal> {
    let mut g: Vec<&Goal> = goals.values().collect();
    g.sort_by_key(|g| (g.step, g.level));
    g
}

// One session ---------------------------------------------------------------------------------

fn op_da(op: &str) -> String {
    match op {
        "add-session" => "oprettede gangen",
        "create-register" | "generate-sessions" => "oprettede gangene",
        "cancel-session" => "aflyste eller genoptog gangen",
        "add-participant" => "tilføjede en deltager",
        "update-participant" => "rettede en deltager",
        "merge-participants" => "slog dubletter sammen",
        "mark-attendance" => "registrerede fremmøde",
        "clear-mark" => "fjernede en registrering",
        "set-headcount" => "registrerede antal",
        "sign-up" => "meldte sig til vagt",
        "check-in" => "tjekkede ind",
        "check-out" => "tjekkede ud",
        "resume-shift" => "genoptog vagten",
        "cancel-sign-up" => "meldte afbud til vagt",
        "staff-present" => "registrerede medarbejdertid",
        "log-contact" => "registrerede en kontakt",
        "refer" => "oprettede en henvisning",
        "referral-status" => "ændrede henvisningens status",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn history_table(d: &TenantData, changes: &[RecordChange]) -> Markup {
    html! {
        div class="rul" {
            table class="historik" {
                thead { tr { th scope="col" { "Tidspunkt (enhedens ur)" } th scope="col" { "Hvem" } th scope="col" { "Handling" } th scope="col" { "Enhed" } } }
                tbody {
                    @for c in changes {
                        tr {
                            th scope="row" { (fmt::change_time(c.entry.time)) }
                            td { (c.entry.note.as_ref().and_then(|n| n.by.parse::<By>().ok()).map_or_else(|| "ukendt".to_owned(), |b| d.by_name(&b))) }
                            td { (c.entry.note.as_ref().map_or_else(|| "ændring uden Nabo-note".to_owned(), |n| op_da(&n.op))) }
                            td { (d.device(&c.entry.actor)) }
                        }
                    }
                }
            }
        }
    }
}

fn review_forms(doc: DocumentId, record: &str, fp: &str, back: &str) -> Markup {
    html! {
        div class="gennemgang-formularer" {
            form method="post" action="/gennemgang" class="inline" {
                input type="hidden" name="dokument" value=(doc);
                input type="hidden" name="post" value=(record);
                input type="hidden" name="aftryk" value=(fp);
                input type="hidden" name="tilbage" value=(back);
                input type="hidden" name="status" value=(REVIEWED);
                button type="submit" { "Marker som gennemgået" }
            }
            form method="post" action="/gennemgang" class="inline" {
                input type="hidden" name="dokument" value=(doc);
                input type="hidden" name="post" value=(record);
                input type="hidden" name="aftryk" value=(fp);
                input type="hidden" name="tilbage" value=(back);
                input type="hidden" name="status" value=(FLAGGED);
                label for="kommentar" { "Kommentar" }
                input id="kommentar" name="kommentar" required maxlength="500" placeholder="Hvad skal tjekkes?";
                button type="submit" class="sekundaer" { "Marker til opfølgning" }
            }
        }
    }
}

async fn review_log(
    s: &AppState,
    d: &TenantData,
    doc: DocumentId,
    record: &str,
) -> Result<Markup, WebError> {
    let log = s.storage.review_log(doc, record).await?;
    let mut names: HashMap<String, String> = HashMap::new();
    for r in &log {
        if !names.contains_key(&r.user_id) {
            let n = s
                .storage
                .user(&r.user_id)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default();
            names.insert(r.user_id.clone(), n);
        }
    }
    let _ = d;
    Ok(html! {
        @if !log.is_empty() {
            h3 { "Gennemgang" }
            ul class="log" {
                @for r in log.iter().rev() {
                    li { (fmt::datetime(Timestamp(r.at))) ": " (names.get(&r.user_id).cloned().unwrap_or_default()) " – "
                        (if r.state == FLAGGED { "markeret til opfølgning" } else { "gennemgået" })
                        @if !r.comment.is_empty() { ": «" (r.comment) "»" } }
                }
            }
        }
    })
}

/// `GET /registre/{doc}/moeder/{session}`: a session's roll call as merged from every phone,
/// who marked what from which device, conflicts, its history and its review state.
pub async fn session(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((doc, session)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let doc = DocumentId::parse(&doc).map_err(|_| WebError::NotFound)?;
    let r = d.register(doc).ok_or(WebError::NotFound)?;
    let sid: SessionId = session.parse().map_err(|_| WebError::NotFound)?;
    let sess = r.view.sessions.get(&sid).ok_or(WebError::NotFound)?;
    let act = d.activity(r.doc.activity_id());
    let record = format!("moede:{sid}");
    let fp = session_fingerprint(&r.view, &sid);
    let rv = reviews(&s, &v.principal.tenant).await?;
    let review = rv.get(&(doc, record.clone()));
    let prefix = format!("{sid}/");
    let history = r.doc.doc().record_history(
        &[
            "sessions",
            "attendance",
            "headcounts",
            "shifts",
            "staff_presence",
        ],
        |k| k == sid.as_str() || k.starts_with(&prefix),
    )?;
    let mut rows: Vec<(String, &ParticipantId, &Versions<AttendanceStatus>)> = r
        .view
        .attendance
        .iter()
        .filter(|((x, _), _)| x == &sid)
        .filter(|((_, p), _)| !erased(r, p))
        .map(|((_, p), m)| (d.participant_name(r, p), p, m))
        .collect();
    // Erased people are listed nowhere; their marks still count, anonymously (ADR 0019).
    let anonymous = r
        .view
        .attendance
        .keys()
        .filter(|(x, p)| x == &sid && erased(r, p))
        .count();
    rows.sort_by_key(|a| a.0.to_lowercase());
    let back = format!("/registre/{doc}/moeder/{sid}");
    let title = format!(
        "{} · {}",
        act.map_or("Aktivitet", |a| a.activity.name.as_str()),
        fmt::date_with_weekday(sess.current.date)
    );
    let log = review_log(&s, &d, doc, &record).await?;
    let mut marks = Vec::new();
    for (name, p, m) in &rows {
        let prov = r.doc.mark_history(&sid, p)?;
        marks.push((name, *p, *m, prov));
    }
    let list = attendance_list(&d, r, &marks, anonymous);
    let exporting = export(&q, &[&list], &format!("fremmoede-{}", sess.current.date));
    // The page names the children marked and the volunteers of the session (ADR 0024); the
    // list exported names the children.
    crate::access_log::record(
        &s,
        &v.principal,
        if exporting.is_some() {
            AccessKind::Export
        } else {
            AccessKind::Read
        },
        Purpose::Review,
        Some(doc),
        rows.iter().map(|(_, p, _)| p.to_string()).chain(
            r.view
                .shifts
                .keys()
                .filter(|(x, _)| x == &sid)
                .map(|(_, vid)| vid.to_string()),
        ),
    )
    .await?;
    if let Some(answer) = exporting {
        return answer;
    }
    Ok(page(
        &v,
        Nav::Records,
        &title,
        html! {
            p { @if let Some(a) = act { a href={"/aktiviteter/" (a.id.as_str())} { "← " (a.activity.name) } } }
            dl class="fakta" {
                dt { "Tid" } dd { (sess.current.start) "–" (sess.current.end) }
                dt { "Oprettet af" } dd { (d.by_name(&sess.current.by)) }
                @if sess.current.cancelled { dt { "Status" } dd { "Aflyst" } }
                dt { "Gennemgang" } dd { (state_badge(review, &fp)) @if let Some(r) = review { @if !r.comment.is_empty() { " «" (r.comment) "»" } } }
            }
            (review_forms(doc, &record, &fp, &back))
            div class="tabel-top" {
                h2 { "Fremmøde" }
                span class="eksport" {
                    "Fremmødeliste: "
                    a href={(back) "?eksport=csv&tabel=" (list.slug)} download { "CSV" }
                    " · "
                    a href={(back) "?eksport=xlsx&tabel=" (list.slug)} download { "Excel" }
                }
            }
            div class="rul" {
                table id="fremmoede" {
                    thead { tr { th scope="col" { "Deltager" } th scope="col" { "Aldersgruppe" } th scope="col" { "Status" } th scope="col" { "Registreret af" } th scope="col" { "Tidspunkt" } th scope="col" { "Enhed" } } }
                    tbody {
                        @for (name, p, m, prov) in &marks {
                            tr class=[(!m.conflicts.is_empty()).then_some("konflikt")] {
                                th scope="row" { (name) @if v.is_central() { " " a class="lille" href={"/sletning?emne=" (p.as_str())} { "Slet personen" } } }
                                td { (r.view.participants.get(*p).map(|x| d.age_band(x.current.age_band.as_str())).unwrap_or_default()) }
                                td { (m.current.da())
                                    @if m.conflicts.iter().any(|c| c != &m.current) {
                                        " " span class="maerke markeret" { "Konflikt: også " (m.conflicts.iter().map(|c| c.da()).collect::<Vec<_>>().join(", ")) }
                                    }
                                }
                                td { (prov.iter().map(|x| x.by.as_ref().map_or_else(|| "ukendt".to_owned(), |b| d.by_name(b))).collect::<Vec<_>>().join(" / ")) }
                                td { (prov.iter().map(|x| fmt::change_time(x.time)).collect::<Vec<_>>().join(" / ")) }
                                td { (prov.iter().map(|x| d.device(&x.actor)).collect::<Vec<_>>().join(" / ")) }
                            }
                        }
                        @if marks.is_empty() { tr { td colspan="6" class="tom" { "Intet fremmøde registreret." } } }
                    }
                }
            }
            @if anonymous > 0 {
                p class="lille" { (anonymous_note(anonymous)) }
            }
            @let heads: Vec<_> = r.view.headcounts.iter().filter(|((x, _), _)| x == &sid).collect();
            @if !heads.is_empty() {
                h2 { "Antal (uden navne)" }
                ul { @for ((_, b), c) in heads_in_age_order(&d, &heads) { li { (bucket_da(&d, b)) ": " (c.current) } } }
            }
            h2 { "Frivillige" }
            ul {
                @for ((_, vid), sh) in r.view.shifts.iter().filter(|((x, _), _)| x == &sid) {
                    li { (d.volunteer_name(vid)) ": "
                        (sh.current.check_in.map_or_else(|| "ikke tjekket ind".to_owned(), |t| format!("ind {}", fmt::datetime(t))))
                        (sh.current.check_out.map_or_else(String::new, |t| format!(", ud {}", fmt::datetime(t))))
                        (sh.current.minutes().map_or_else(String::new, |m| format!(" ({} timer)", fmt::hours(u64::from(m)))))
                    }
                }
            }
            (log)
            h2 { "Historik" }
            p class="note" { "Hver ændring fra telefonerne og kontoret, som den står i dokumentets historik." }
            (history_table(&d, &history))
        },
    ))
}

type Mark<'a> = (
    &'a String,
    &'a ParticipantId,
    &'a Versions<AttendanceStatus>,
    Vec<nabo_core::docs::register::MarkProvenance>,
);

/// The session's attendance as a list to export: the columns of the page's table, without
/// the erased (their marks are counted in the note, as on the page).
fn attendance_list(
    d: &TenantData,
    r: &RegisterEntry,
    marks: &[Mark<'_>],
    anonymous: usize,
) -> Table {
    let mut t = Table::new(
        "fremmoede",
        "Fremmødeliste",
        &[
            "Deltager",
            "Aldersgruppe",
            "Status",
            "Registreret af",
            "Tidspunkt",
            "Enhed",
        ],
    );
    for (name, p, m, prov) in marks {
        let age = r
            .view
            .participants
            .get(*p)
            .map(|x| d.age_band(x.current.age_band.as_str()))
            .unwrap_or_default();
        t.row(vec![
            Cell::text(name.as_str()),
            Cell::text(age),
            Cell::text(m.current.da()),
            Cell::text(
                prov.iter()
                    .map(|x| {
                        x.by.as_ref()
                            .map_or_else(|| "ukendt".to_owned(), |b| d.by_name(b))
                    })
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
            Cell::text(
                prov.iter()
                    .map(|x| fmt::change_time(x.time))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
            Cell::text(
                prov.iter()
                    .map(|x| d.device(&x.actor))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
        ]);
    }
    if anonymous > 0 {
        t.note = Some(anonymous_note(anonymous));
    }
    t
}

/// Marks of erased people, which count without a name (ADR 0019).
fn anonymous_note(n: usize) -> String {
    if n == 1 {
        "1 registrering af en slettet person tælles med uden navn.".to_owned()
    } else {
        format!("{n} registreringer af slettede personer tælles med uden navn.")
    }
}

/// "Kommende møder": the activity's coming sessions (today on) with who signed up and who
/// cancelled, and why (user story 14), so the coordinator knows whether a trip can run.
fn coming_sessions(d: &TenantData, regs: &[&RegisterEntry]) -> Markup {
    let mut coming: Vec<_> = regs
        .iter()
        .flat_map(|r| {
            r.view
                .sessions
                .iter()
                .filter(|(_, x)| x.current.date >= d.today && !x.current.cancelled)
                .map(move |(sid, x)| (*r, sid, &x.current))
        })
        .collect();
    coming.sort_by_key(|(_, _, x)| (x.date, x.start));
    if coming.is_empty() {
        return html! {};
    }
    let volunteers = |n: usize| {
        if n == 1 {
            "1 frivillig".to_owned()
        } else {
            format!("{n} frivillige")
        }
    };
    html! {
        h2 { "Kommende møder" }
        div class="rul" {
            table {
                thead { tr { th scope="col" { "Dato" } th scope="col" { "Tid" } th scope="col" { "Kommer" } th scope="col" { "Afbud" } } }
                tbody {
                    @for (r, sid, sess) in coming.iter().take(30) {
                        @let shifts: Vec<_> = r.view.shifts.iter().filter(|((x, _), _)| x == *sid).collect();
                        @let names: Vec<String> = shifts.iter().filter(|(_, s)| s.current.signed_up && !s.current.cancelled).map(|((_, v), _)| d.volunteer_name(v)).collect();
                        @let off: Vec<String> = shifts.iter().filter(|(_, s)| s.current.cancelled).map(|((_, v), s)| format!("{} ({})", d.volunteer_name(v), s.current.cancel_reason.map_or("ingen grund angivet", |c| c.name_da()).to_lowercase())).collect();
                        tr {
                            th scope="row" { (fmt::date_with_weekday(sess.date)) @if let Some(t) = &sess.title { " – " (t) } }
                            td { (sess.start) "–" (sess.end) }
                            td { (volunteers(names.len())) @if !names.is_empty() { ": " (names.join(", ")) } }
                            td { @if off.is_empty() { "–" } @else { (off.join(", ")) } }
                        }
                    }
                }
            }
        }
    }
}

// Outreach ------------------------------------------------------------------------------------

/// `GET /opsoegende/{doc}`: an outreach log, contacts and referrals with review states.
pub async fn outreach_log(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path(doc): Path<String>,
    Query(q): Query<ExportQuery>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let doc = DocumentId::parse(&doc).map_err(|_| WebError::NotFound)?;
    let o = d
        .outreach
        .iter()
        .find(|o| o.meta.id == doc)
        .ok_or(WebError::NotFound)?;
    let rv = reviews(&s, &v.principal.tenant).await?;
    let mut contacts = Table::new(
        "kontakter",
        "Kontakter",
        &[
            "Tidspunkt",
            "Sted",
            "Form",
            "Personer",
            "Aldersgruppe",
            "Emner",
            "Udfald",
            "Note",
            "Gennemgang",
        ],
    );
    // Free-text notes (ADR 0011), opened with the keys the relay holds for this log; a note
    // whose key is destroyed (the person erased, its retention run out) reads as removed.
    let noted: Vec<String> = o
        .view
        .contacts
        .iter()
        .filter(|(_, c)| c.note.is_some())
        .map(|(id, c)| nabo_core::docs::outreach::note_subject(id, c))
        .collect();
    let note_keys: HashMap<String, nabo_core::seal::SubjectKey> = if noted.is_empty() {
        HashMap::new()
    } else {
        s.vault
            .keys(s.storage.as_ref(), &v.principal.tenant, Some(doc), &noted)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "subject keys for notes could not be read");
                WebError::Unavailable
            })?
            .into_iter()
            .filter_map(|(subject, k)| {
                nabo_core::seal::SubjectKey::from_bytes(&k).map(|k| (subject, k))
            })
            .collect()
    };
    let mut opened: Vec<String> = Vec::new();
    let mut newest_first: Vec<_> = o.view.contacts.iter().collect();
    newest_first.sort_by_key(|(id, c)| (std::cmp::Reverse(c.at), *id));
    for (id, c) in newest_first {
        let key = format!("kontakt:{id}");
        let fp = fingerprint(c);
        let state = match rv.get(&(doc, key)) {
            None => "ny",
            Some(r) if r.state == FLAGGED => "markeret",
            Some(r) if r.fingerprint != fp => "ændret",
            Some(_) => "gennemgået",
        };
        contacts.row(vec![
            Cell::text(fmt::datetime(c.at)),
            Cell::text(d.term(Vocabulary::LocationHints, c.location.as_str())),
            Cell::text(d.term(Vocabulary::ContactKinds, c.kind.as_str())),
            Cell::Int(i64::from(c.count)),
            Cell::text(
                c.age_band
                    .as_ref()
                    .map(|b| d.age_band(b.as_str()))
                    .unwrap_or_default(),
            ),
            Cell::text(
                c.topics
                    .iter()
                    .map(|t| d.term(Vocabulary::OutreachTopics, t.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::text(
                c.outcomes
                    .iter()
                    .map(|t| d.term(Vocabulary::OutreachOutcomes, t.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::text(match &c.note {
                None => String::new(),
                Some(sealed) => {
                    let subject = nabo_core::docs::outreach::note_subject(id, c);
                    match note_keys
                        .get(&subject)
                        .and_then(|k| nabo_core::seal::open(k, &subject, sealed).ok())
                    {
                        Some(text) => {
                            opened.push(subject);
                            text
                        }
                        None => "(noten er slettet)".to_owned(),
                    }
                }
            }),
            Cell::text(state),
        ]);
    }
    let mut referrals = Table::new(
        "henvisninger",
        "Henvisninger",
        &["Oprettet", "Til", "Form", "Status", "Statushistorik"],
    );
    let mut newest_first: Vec<_> = o.view.referrals.values().collect();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.current.at));
    for r in newest_first {
        let r = &r.current;
        referrals.row(vec![
            Cell::text(fmt::datetime(r.at)),
            Cell::text(d.term(Vocabulary::ReferralTargets, r.to.as_str())),
            Cell::text(r.kind.da()),
            Cell::text(r.status.da()),
            Cell::text(
                nabo_core::docs::outreach::status_history(r)
                    .iter()
                    .map(|h| format!("{} {}", fmt::date_short(h.at.date_dk()), h.status.da()))
                    .collect::<Vec<_>>()
                    .join(" → "),
            ),
        ]);
    }
    // Contacts are anonymous counts, but the log is about residents: logged per document.
    let kind = if q.eksport.is_some() {
        AccessKind::Export
    } else {
        AccessKind::Read
    };
    // A note read is access to its subject's data: logged by the subject's id.
    opened.sort_unstable();
    opened.dedup();
    crate::access_log::record(&s, &v.principal, kind, Purpose::Review, Some(doc), &opened).await?;
    if let Some(r) = export(&q, &[&contacts, &referrals], "opsoegende") {
        return r;
    }
    let path = format!("/opsoegende/{doc}");
    let unreviewed = unreviewed_contacts(o, &rv);
    Ok(page(
        &v,
        Nav::Records,
        &d.outreach_title(o),
        html! {
            @if !unreviewed.is_empty() {
                form method="post" action="/gennemgang" {
                    input type="hidden" name="dokument" value=(doc);
                    input type="hidden" name="post" value="alle-kontakter";
                    input type="hidden" name="aftryk" value=(fingerprint(&unreviewed));
                    input type="hidden" name="tilbage" value=(path);
                    input type="hidden" name="status" value=(REVIEWED);
                    button type="submit" { "Marker " (fmt::count(unreviewed.len() as i64, "ny kontakt", "nye kontakter")) " som gennemgået" }
                }
            }
            (contacts.html(&path))
            (referrals.html(&path))
        },
    ))
}

// The review queue ----------------------------------------------------------------------------

struct QueueItem {
    what: String,
    context: String,
    date: Option<Date>,
    href: String,
    state: &'static str,
}

/// `GET /gennemgang`: records synced since they were last reviewed, flagged records, and
/// duplicate candidates and conflicts to resolve.
pub async fn queue(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<super::merges::MergeNotice>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let rv = reviews(&s, &v.principal.tenant).await?;
    let mut items: Vec<QueueItem> = Vec::new();
    let mut flagged: Vec<(QueueItem, &ReviewRow)> = Vec::new();
    for r in &d.registers {
        let act = d.activity(r.doc.activity_id());
        let act_name = act.map_or_else(|| r.meta.title.clone(), |a| a.activity.name.clone());
        for (sid, sess) in &r.view.sessions {
            let sr = r.session_review(sid);
            if !sr.has_records {
                continue;
            }
            let review = rv.get(&(r.meta.id, format!("moede:{sid}")));
            let fp = &sr.fingerprint;
            let item = QueueItem {
                what: format!("Fremmøde {}", fmt::date_with_weekday(sess.current.date)),
                context: act_name.clone(),
                date: Some(sess.current.date),
                href: format!("/registre/{}/moeder/{sid}", r.meta.id),
                state: match review {
                    None => "Ny",
                    Some(x) if x.fingerprint != *fp => "Ændret siden gennemgang",
                    Some(_) => "",
                },
            };
            match review {
                Some(x) if x.state == FLAGGED => flagged.push((item, x)),
                _ if !item.state.is_empty() => items.push(item),
                _ => {}
            }
        }
    }
    for o in &d.outreach {
        let new = unreviewed_contacts(o, &rv).len();
        if new > 0 {
            items.push(QueueItem {
                what: fmt::count(new as i64, "opsøgende kontakt", "opsøgende kontakter"),
                context: d.outreach_title(o),
                date: None,
                href: format!("/opsoegende/{}", o.meta.id),
                state: "Ny",
            });
        }
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.date));
    // Duplicates and conflicts.
    let mut problems: Vec<(&RegisterEntry, ReviewItem)> = Vec::new();
    for r in &d.registers {
        for item in r.view_review_items(&d) {
            problems.push((r, item));
        }
    }
    // The duplicates and conflicts name children (ADR 0024).
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Search,
        Purpose::Review,
        None,
        problems.iter().flat_map(|(_, item)| match item {
            ReviewItem::AttendanceConflict { participant, .. } => vec![participant.to_string()],
            ReviewItem::DuplicateParticipants { participants, .. } => {
                participants.iter().map(ToString::to_string).collect()
            }
            _ => Vec::new(),
        }),
    )
    .await?;
    Ok(page(
        &v,
        Nav::Review,
        "Gennemgang",
        html! {
            (super::merges::notice(&q))
            (d.flags())
            section aria-labelledby="koe" {
                h2 id="koe" { "Nye og ændrede poster (" (items.len()) ")" }
                @if items.is_empty() { p { "Alt synkroniseret er gennemgået." } }
                ul class="koe" {
                    @for i in &items {
                        li { a href=(i.href) { (i.what) } " – " (i.context) " " span class="maerke ny" { (i.state) } }
                    }
                }
            }
            section aria-labelledby="markerede" {
                h2 id="markerede" { "Markeret til opfølgning (" (flagged.len()) ")" }
                ul class="koe" {
                    @for (i, r) in &flagged {
                        li { a href=(i.href) { (i.what) } " – " (i.context) ": «" (r.comment) "» (" (fmt::datetime(Timestamp(r.at))) ")" }
                    }
                }
            }
            section aria-labelledby="dubletter" {
                h2 id="dubletter" { "Mulige dubletter og konflikter (" (problems.len()) ")" }
                @if problems.is_empty() { p { "Ingen fundet." } }
                @for (r, item) in &problems { (problem_html(&d, r, item)) }
            }
            (super::merges::section(&d, &rv))
        },
    ))
}

impl RegisterEntry {
    fn view_review_items(&self, d: &TenantData) -> Vec<ReviewItem> {
        self.view.review_items(|p, l| d.open(p.as_str(), l))
    }
}

/// Whether a participant of the register was erased (ADR 0019).
fn erased(r: &RegisterEntry, p: &ParticipantId) -> bool {
    r.view
        .participants
        .get(p)
        .is_some_and(nabo_core::erasure::is_erased)
}

/// A session's headcounts, age bands in age order ("Alle" first).
fn heads_in_age_order<'a, K, V>(
    d: &TenantData,
    heads: &[(&'a (K, nabo_core::model::register::HeadcountBucket), V)],
) -> Vec<(&'a (K, nabo_core::model::register::HeadcountBucket), V)>
where
    V: Copy,
{
    let mut v = heads.to_vec();
    v.sort_by_key(|((_, b), _)| {
        (
            b.first_time,
            b.age_band != "all",
            d.catalogue.age_band_order(&b.age_band),
            b.resident.map(|r| !r),
        )
    });
    v
}

/// A headcount bucket in Danish: "Børn, beboere i området", "Alle, heraf første gang".
fn bucket_da(d: &TenantData, b: &nabo_core::model::register::HeadcountBucket) -> String {
    use nabo_core::model::{Gender, register::HeadcountBucket};
    let mut parts = vec![match b.age_band.as_str() {
        "all" => "Alle".to_owned(),
        HeadcountBucket::CHILDREN => "Børn".to_owned(),
        HeadcountBucket::ADULTS => "Voksne".to_owned(),
        band => d.age_band(band),
    }];
    parts.extend(b.gender.map(|g| {
        match g {
            Gender::Female => "piger/kvinder",
            Gender::Male => "drenge/mænd",
            Gender::Other => "andet køn",
        }
        .to_owned()
    }));
    parts.extend(
        b.resident
            .map(|r| if r { "beboere i området" } else { "udefra" }.to_owned()),
    );
    if b.first_time {
        parts.push("heraf første gang".to_owned());
    }
    parts.join(", ")
}

fn participant_line(d: &TenantData, r: &RegisterEntry, p: &ParticipantId) -> String {
    let part = r.view.participants.get(p).map(|x| &x.current);
    let marks = r.view.attendance.keys().filter(|(_, x)| x == p).count();
    format!(
        "{} ({}; tilføjet {} af {}; {})",
        d.participant_name(r, p),
        part.map(|x| d.age_band(x.age_band.as_str()))
            .unwrap_or_default(),
        part.map(|x| fmt::date_short(x.added_on))
            .unwrap_or_default(),
        part.map(|x| d.by_name(&x.added_by)).unwrap_or_default(),
        fmt::count(marks as i64, "registrering", "registreringer")
    )
}

/// The answers a conflict form offers: what the phones recorded first, then the other
/// statuses (staff may know better), never one chosen in advance.
fn conflict_choices(recorded: &[AttendanceStatus]) -> Vec<AttendanceStatus> {
    let mut out: Vec<AttendanceStatus> = AttendanceStatus::ALL
        .iter()
        .copied()
        .filter(|s| recorded.contains(s))
        .collect();
    out.extend(
        AttendanceStatus::ALL
            .iter()
            .copied()
            .filter(|s| !recorded.contains(s)),
    );
    out
}

fn problem_html(d: &TenantData, r: &RegisterEntry, item: &ReviewItem) -> Markup {
    let act = d
        .activity(r.doc.activity_id())
        .map_or_else(|| r.meta.title.clone(), |a| a.activity.name.clone());
    let doc = r.meta.id;
    match item {
        ReviewItem::DuplicateParticipants { participants } => html! {
            form method="post" action="/dubletter/deltagere" class="problem" {
                h3 { "Samme barn tilføjet flere gange? – " (act) }
                input type="hidden" name="dokument" value=(doc);
                fieldset {
                    legend { "Behold denne (de andre lægges sammen med den):" }
                    @for p in participants {
                        label class="valg" { input type="radio" name="behold" value=(p.as_str()) required; " " (participant_line(d, r, p)) }
                    }
                }
                input type="hidden" name="deltagere" value=(participants.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","));
                button type="submit" { "Læg sammen" }
            }
        },
        ReviewItem::DuplicateSessions { sessions } => html! {
            form method="post" action="/dubletter/moeder" class="problem" {
                h3 { "Samme gang oprettet to gange? – " (act) }
                input type="hidden" name="dokument" value=(doc);
                fieldset {
                    legend { "Behold denne (de andre aflyses; deres fremmøde bevares i historikken):" }
                    @for sid in sessions {
                        @let s = r.view.sessions.get(sid);
                        @let n = r.view.attendance.keys().filter(|(x, _)| x == sid).count();
                        label class="valg" { input type="radio" name="behold" value=(sid.as_str()) required; " "
                            (s.map(|s| format!("{} {}–{}", fmt::date_short(s.current.date), s.current.start, s.current.end)).unwrap_or_default())
                            " – " (fmt::count(n as i64, "registrering", "registreringer")) " – oprettet af " (s.map(|s| d.by_name(&s.current.by)).unwrap_or_default()) }
                    }
                }
                input type="hidden" name="moeder" value=(sessions.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
                button type="submit" { "Behold den valgte" }
            }
        },
        ReviewItem::AttendanceConflict {
            session,
            participant,
            statuses,
        } => html! {
            form method="post" action="/konflikter/fremmoede" class="problem" {
                h3 { "Uenige registreringer – " (act) }
                p { (d.participant_name(r, participant)) " den " (r.view.sessions.get(session).map(|s| fmt::date_short(s.current.date)).unwrap_or_default())
                    ": " (statuses.iter().map(|s| s.da()).collect::<Vec<_>>().join(" og ")) ". "
                    a href={"/registre/" (doc) "/moeder/" (session.as_str())} { "Se hvem der registrerede hvad" } }
                input type="hidden" name="dokument" value=(doc);
                input type="hidden" name="moede" value=(session.as_str());
                input type="hidden" name="deltager" value=(participant.as_str());
                fieldset {
                    legend { "Det rigtige er:" }
                    // Nothing is chosen for staff: the phones' answers first, then the rest,
                    // and the form cannot be sent until someone picks one.
                    @for st in conflict_choices(statuses) {
                        label class="valg" { input type="radio" name="status" value=(st.code()) required; " " (st.da())
                            @if statuses.contains(&st) { " " span class="note" { "(registreret på en telefon)" } } }
                    }
                }
                button type="submit" { "Afgør" }
            }
        },
        ReviewItem::CancelledSessionWithAttendance { session, records } => html! {
            div class="problem" {
                h3 { "Aflyst gang med fremmøde – " (act) }
                p { "Gangen " a href={"/registre/" (doc) "/moeder/" (session.as_str())} { (r.view.sessions.get(session).map(|s| fmt::date_short(s.current.date)).unwrap_or_default()) }
                    " blev aflyst på én telefon, mens en anden registrerede " (fmt::count(*records as i64, "fremmøde", "fremmøder")) "." }
                form method="post" action="/dubletter/moeder" {
                    input type="hidden" name="dokument" value=(doc);
                    input type="hidden" name="moeder" value=(session.as_str());
                    input type="hidden" name="behold" value=(session.as_str());
                    button type="submit" { "Den blev holdt – genoptag den" }
                }
            }
        },
        ReviewItem::RecordConflict { container, key } => html! {
            div class="problem" {
                h3 { "Samtidige ændringer – " (act) }
                p { "Posten " code { (short(key)) } " (" (container) ") blev ændret på to enheder samtidig; den viste værdi er valgt automatisk." }
            }
        },
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    dokument: String,
    post: String,
    aftryk: String,
    status: String,
    kommentar: Option<String>,
    tilbage: Option<String>,
}

pub(super) async fn meta_for(s: &AppState, v: &Viewer, doc: &str) -> Result<DocMeta, WebError> {
    let id = DocumentId::parse(doc).map_err(|_| WebError::NotFound)?;
    let meta = s.storage.document(id).await?.ok_or(WebError::NotFound)?;
    if crate::acl::access(&v.principal, &meta) != crate::acl::Access::Write {
        return Err(WebError::NotFound);
    }
    Ok(meta)
}

/// `POST /gennemgang`: sets a record's review state, if the record is still what the
/// reviewer saw.
pub async fn review(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<ReviewForm>,
) -> WebResult {
    let meta = meta_for(&s, &v, &f.dokument).await?;
    if f.status != REVIEWED && f.status != FLAGGED {
        return Err(WebError::BadRequest("Ukendt status.".into()));
    }
    let comment = f.kommentar.unwrap_or_default().trim().to_owned();
    if f.status == FLAGGED && comment.is_empty() {
        return Err(WebError::BadRequest(
            "Skriv en kommentar til markeringen.".into(),
        ));
    }
    if comment.chars().count() > 500 {
        return Err(WebError::BadRequest(
            "Kommentaren må højst være 500 tegn.".into(),
        ));
    }
    let d = TenantData::load(&s, &v.principal).await?;
    // The fingerprint of the record now: a change synced since the page was shown is not
    // silently marked as reviewed.
    let current = if let Some(sid) = f.post.strip_prefix("moede:") {
        let r = d.register(meta.id).ok_or(WebError::NotFound)?;
        let sid: SessionId = sid.parse().map_err(|_| WebError::NotFound)?;
        if !r.view.sessions.contains_key(&sid) {
            return Err(WebError::NotFound);
        }
        session_fingerprint(&r.view, &sid)
    } else if f.post == "alle-kontakter" {
        let o = d
            .outreach
            .iter()
            .find(|o| o.meta.id == meta.id)
            .ok_or(WebError::NotFound)?;
        let rv = reviews(&s, &v.principal.tenant).await?;
        let unreviewed = unreviewed_contacts(o, &rv);
        if fingerprint(&unreviewed) != f.aftryk {
            return Err(stale());
        }
        let now = s.clock.now().0;
        for (key, fp) in unreviewed {
            s.storage
                .put_review(&ReviewRow {
                    doc_id: meta.id,
                    record: key,
                    tenant: v.principal.tenant.clone(),
                    state: f.status.clone(),
                    comment: comment.clone(),
                    fingerprint: fp,
                    user_id: v.principal.user_id.clone(),
                    at: now,
                })
                .await?;
        }
        return Ok(back_to(f.tilbage.as_deref().unwrap_or("/gennemgang")));
    } else {
        return Err(WebError::NotFound);
    };
    if current != f.aftryk {
        return Err(stale());
    }
    s.storage
        .put_review(&ReviewRow {
            doc_id: meta.id,
            record: f.post,
            tenant: v.principal.tenant.clone(),
            state: f.status,
            comment,
            fingerprint: current,
            user_id: v.principal.user_id.clone(),
            at: s.clock.now().0,
        })
        .await?;
    Ok(back_to(f.tilbage.as_deref().unwrap_or("/gennemgang")))
}

fn stale() -> WebError {
    WebError::Conflict(
        "Posten er blevet ændret, siden du åbnede siden (en telefon har synkroniseret). Åbn den igen, og se ændringen, før du gennemgår den.".into(),
    )
}

#[derive(Deserialize)]
pub struct MergeForm {
    dokument: String,
    deltagere: String,
    /// Missing when nothing was chosen: the form preselects none.
    behold: Option<String>,
    /// `ja` once the page that asks first was answered (ADR 0022).
    bekraeft: Option<String>,
}

/// `POST /dubletter/deltagere`: the same child added twice; the others point at the kept one.
pub async fn merge_participants(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<MergeForm>,
) -> WebResult {
    let meta = meta_for(&s, &v, &f.dokument).await?;
    let keep: ParticipantId = f
        .behold
        .as_deref()
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg hvem der beholdes.".into()))?;
    let all: Vec<ParticipantId> = f
        .deltagere
        .split(',')
        .map(|p| p.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| WebError::BadRequest("Ugyldig deltager.".into()))?;
    if !all.contains(&keep) || all.len() < 2 {
        return Err(WebError::BadRequest(
            "Vælg en af de foreslåede deltagere.".into(),
        ));
    }
    if f.bekraeft.as_deref() != Some("ja") {
        let d = TenantData::load(&s, &v.principal).await?;
        return super::merges::confirm(&v, &d, meta.id, &all, &keep);
    }
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Update,
        Purpose::Review,
        Some(meta.id),
        all.iter().map(ToString::to_string),
    )
    .await?;
    let by = v.author();
    s.hub
        .edit(&meta, &v.principal, |r: &mut RegisterDoc| {
            for p in all.iter().filter(|p| *p != &keep) {
                if r.participant(p)?.merged_into.is_none() {
                    r.merge_participants(&by, p, &keep)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(back_to("/gennemgang?besked=flettet#fletninger"))
}

#[derive(Deserialize)]
pub struct SessionsForm {
    dokument: String,
    moeder: String,
    /// Missing when nothing was chosen: the form preselects none.
    behold: Option<String>,
}

/// `POST /dubletter/moeder`: keeps one session of a duplicate group (the others are
/// cancelled; their records stay in the history), or restores a cancelled session.
pub async fn resolve_sessions(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<SessionsForm>,
) -> WebResult {
    let meta = meta_for(&s, &v, &f.dokument).await?;
    let keep: SessionId = f
        .behold
        .as_deref()
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| WebError::BadRequest("Vælg hvilken gang der beholdes.".into()))?;
    let all: Vec<SessionId> = f
        .moeder
        .split(',')
        .map(|p| p.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| WebError::BadRequest("Ugyldigt møde.".into()))?;
    if !all.contains(&keep) {
        return Err(WebError::BadRequest(
            "Vælg en af de foreslåede gange.".into(),
        ));
    }
    let by = v.author();
    s.hub
        .edit(&meta, &v.principal, |r: &mut RegisterDoc| {
            if r.session(&keep)?.cancelled {
                r.set_cancelled(&by, &keep, false)?;
            }
            for sid in all.iter().filter(|x| *x != &keep) {
                if !r.session(sid)?.cancelled {
                    r.set_cancelled(&by, sid, true)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(back_to("/gennemgang#dubletter"))
}

#[derive(Deserialize)]
pub struct MarkForm {
    dokument: String,
    moede: String,
    deltager: String,
    /// Missing when nothing was chosen: the form preselects none.
    status: Option<String>,
}

/// `POST /konflikter/fremmoede`: settles two phones' different marks with staff's answer.
pub async fn resolve_mark(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<MarkForm>,
) -> WebResult {
    let meta = meta_for(&s, &v, &f.dokument).await?;
    let status: AttendanceStatus = match f.status.as_deref() {
        None | Some("") => {
            return Err(WebError::BadRequest(
                "Vælg det rigtige fremmøde: til stede, fraværende eller afbud.".into(),
            ));
        }
        Some(x) => x
            .parse()
            .map_err(|_| WebError::BadRequest("Ukendt fremmøde.".into()))?,
    };
    let sid: SessionId = f.moede.parse().map_err(|_| WebError::NotFound)?;
    let pid: ParticipantId = f.deltager.parse().map_err(|_| WebError::NotFound)?;
    crate::access_log::record(
        &s,
        &v.principal,
        AccessKind::Update,
        Purpose::Review,
        Some(meta.id),
        [pid.to_string()],
    )
    .await?;
    let d = TenantData::load(&s, &v.principal).await?;
    let r = d.register(meta.id).ok_or(WebError::NotFound)?;
    let act = d.activity(r.doc.activity_id()).ok_or(WebError::NotFound)?;
    let snapshot = act.doc.snapshot()?;
    let by = v.author();
    let catalogue = &d.catalogue;
    s.hub
        .edit(&meta, &v.principal, |r: &mut RegisterDoc| {
            let ctx = RegisterContext {
                catalogue,
                activity: &snapshot,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            };
            r.mark(&by, ctx, &sid, &pid, status)?;
            Ok(())
        })
        .await?;
    Ok(back_to(&format!("/registre/{}/moeder/{sid}", meta.id)))
}
