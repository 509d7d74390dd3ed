//! Merging two children asks first, and can be undone until the merge is reviewed
//! (issue 10 item 7, ADR 0022). The merge itself is [`RegisterDoc::merge_participants`];
//! undoing it is [`RegisterDoc::unmerge_participant`], a validated core operation that
//! clears only the pointer, so phones that edited or marked the child meanwhile keep
//! their work. Approving a merge ("Godkend fletningen") records a review state
//! `fletning:<participant>` in the review table; from then on the merge stays.

use axum::Router;
use axum::extract::{Extension, Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use maud::{Markup, html};
use nabo_core::document::DocumentId;
use nabo_core::prelude::*;
use serde::Deserialize;
use std::collections::HashMap;

use super::data::TenantData;
use super::records::REVIEWED;
use super::{Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;
use crate::storage::ReviewRow;

/// The routes of undoing and approving a merge.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dubletter/deltagere/fortryd", post(undo))
        .route("/dubletter/deltagere/godkend", post(approve))
}

/// The review-table key of a merge.
fn record_key(dup: &ParticipantId) -> String {
    format!("fletning:{dup}")
}

/// `?besked=` on the review queue after a merge form.
#[derive(Debug, Default, Deserialize)]
pub struct MergeNotice {
    besked: Option<String>,
}

/// What a merge form did, at the top of the review queue.
pub fn notice(q: &MergeNotice) -> Markup {
    let text = match q.besked.as_deref() {
        Some("flettet") => {
            "Deltagerne er flettet: deres fremmøde tæller nu som én persons. Fletningen kan fortrydes under «Fletninger», indtil den er godkendt."
        }
        Some("fletning-fortrudt") => "Fletningen er fortrudt: deltagerne tæller hver for sig igen.",
        Some("fletning-godkendt") => "Fletningen er godkendt og kan ikke længere fortrydes.",
        _ => return html! {},
    };
    html! { p class="besked" role="status" { (text) } }
}

/// The page that asks before merging (`POST /dubletter/deltagere` without `bekraeft`).
pub fn confirm(
    v: &Viewer,
    d: &TenantData,
    doc: DocumentId,
    all: &[ParticipantId],
    keep: &ParticipantId,
) -> WebResult {
    let r = d.register(doc).ok_or(WebError::NotFound)?;
    let ids: Vec<String> = all.iter().map(ToString::to_string).collect();
    Ok(page(
        v,
        Nav::Review,
        "Flet deltagerne?",
        html! {
            p { "Disse registreringer bliver til én deltager, og deres fremmøde tæller som én persons:" }
            ul {
                @for p in all {
                    li { (d.participant_name(r, p)) @if p == keep { " (beholdes)" } }
                }
            }
            p { "Fletningen kan fortrydes, indtil den er godkendt under «Fletninger» på gennemgangssiden." }
            form method="post" action="/dubletter/deltagere" {
                input type="hidden" name="dokument" value=(doc);
                input type="hidden" name="deltagere" value=(ids.join(","));
                input type="hidden" name="behold" value=(keep);
                input type="hidden" name="bekraeft" value="ja";
                button type="submit" { "Flet" }
            }
            p { a href="/gennemgang#dubletter" { "Fortryd – flet ikke" } }
        },
    ))
}

/// The merges that can still be undone (not approved), with Fortryd and Godkend.
pub fn section(d: &TenantData, rv: &HashMap<(DocumentId, String), ReviewRow>) -> Markup {
    let mut rows = Vec::new();
    for r in &d.registers {
        for (p, v) in &r.view.participants {
            let Some(kept) = &v.current.merged_into else {
                continue;
            };
            if rv
                .get(&(r.meta.id, record_key(p)))
                .is_some_and(|x| x.state == REVIEWED)
            {
                continue;
            }
            rows.push((r, p, kept));
        }
    }
    html! {
        section aria-labelledby="fletninger" {
            h2 id="fletninger" { "Fletninger, der kan fortrydes (" (rows.len()) ")" }
            @if rows.is_empty() { p { "Ingen." } }
            ul class="koe" {
                @for (r, p, kept) in &rows {
                    @let what = format!("{} er flettet ind i {}", d.participant_name(r, p), d.participant_name(r, kept));
                    li {
                        (what) " – " (d.activity(r.doc.activity_id()).map_or_else(|| r.meta.title.clone(), |a| a.activity.name.clone())) " "
                        form method="post" action="/dubletter/deltagere/fortryd" class="inline" {
                            input type="hidden" name="dokument" value=(r.meta.id);
                            input type="hidden" name="deltager" value=(p);
                            input type="hidden" name="beholdt" value=(kept);
                            button type="submit" class="sekundaer" aria-label={"Fortryd: " (what)} { "Fortryd fletningen" }
                        }
                        " "
                        form method="post" action="/dubletter/deltagere/godkend" class="inline" {
                            input type="hidden" name="dokument" value=(r.meta.id);
                            input type="hidden" name="deltager" value=(p);
                            input type="hidden" name="beholdt" value=(kept);
                            button type="submit" class="sekundaer" aria-label={"Godkend: " (what)} { "Godkend fletningen" }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct MergeRef {
    dokument: String,
    deltager: String,
    beholdt: String,
}

fn ids(f: &MergeRef) -> Result<(ParticipantId, ParticipantId), WebError> {
    let bad = || WebError::BadRequest("Ugyldig deltager.".into());
    Ok((
        f.deltager.parse().map_err(|_| bad())?,
        f.beholdt.parse().map_err(|_| bad())?,
    ))
}

fn to(code: &str) -> Response {
    Redirect::to(&format!("/gennemgang?besked={code}#fletninger")).into_response()
}

/// `POST /dubletter/deltagere/fortryd`: undoes a merge that is not approved yet.
async fn undo(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<MergeRef>,
) -> WebResult {
    let meta = super::records::meta_for(&s, &v, &f.dokument).await?;
    let (dup, kept) = ids(&f)?;
    let rv = super::records::reviews(&s, &v.principal.tenant).await?;
    if rv
        .get(&(meta.id, record_key(&dup)))
        .is_some_and(|x| x.state == REVIEWED)
    {
        return Err(WebError::Conflict(
            "Fletningen er godkendt og kan ikke længere fortrydes.".into(),
        ));
    }
    crate::access_log::record(
        &s,
        &v.principal,
        nabo_core::access_log::AccessKind::Update,
        nabo_core::access_log::Purpose::Review,
        Some(meta.id),
        [dup.to_string(), kept.to_string()],
    )
    .await?;
    let by = v.author();
    s.hub
        .edit(&meta, &v.principal, |r: &mut RegisterDoc| {
            r.unmerge_participant(&by, &dup, &kept)
        })
        .await?;
    Ok(to("fletning-fortrudt"))
}

/// `POST /dubletter/deltagere/godkend`: the merge is reviewed; it can no longer be undone.
async fn approve(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Form(f): Form<MergeRef>,
) -> WebResult {
    let meta = super::records::meta_for(&s, &v, &f.dokument).await?;
    let (dup, kept) = ids(&f)?;
    let d = TenantData::load(&s, &v.principal).await?;
    let r = d.register(meta.id).ok_or(WebError::NotFound)?;
    let merged = r
        .view
        .participants
        .get(&dup)
        .and_then(|p| p.current.merged_into.as_ref());
    if merged != Some(&kept) {
        return Err(WebError::Conflict(
            "Fletningen er ændret, siden du åbnede siden. Åbn gennemgangen igen.".into(),
        ));
    }
    s.storage
        .put_review(&ReviewRow {
            doc_id: meta.id,
            record: record_key(&dup),
            tenant: v.principal.tenant.clone(),
            state: REVIEWED.into(),
            comment: String::new(),
            fingerprint: kept.to_string(),
            user_id: v.principal.user_id.clone(),
            at: s.clock.now().0,
        })
        .await?;
    Ok(to("fletning-godkendt"))
}
