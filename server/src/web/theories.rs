//! Change theories (forandringsteori) edited, reordered and retired on the målopfyldelse page
//! (issue 10 item 2, ADR 0026). Goals and indicators are changed through the core's validated
//! operations (`ActivityDoc::update_goal`, `move_goal`, `set_goal_retired`,
//! `update_indicator`, `set_indicator_retired`) inside [`crate::relay::Hub::edit`], so phones
//! see the change; bad input is refused with a Danish message naming the field.
//!
//! Retiring asks first on a page of its own, then says what happened and offers the undo
//! (Gendan) in the same message (ADR 0022). A retired goal or indicator leaves the pickers
//! and new entries, and stays in the history and in the reports of periods before it.
//!
//! Routes under `/administration/forandringsteori/{activity}`: `maal/{goal}` (save),
//! `maal/{goal}/flyt` (move to another step), `maal/{goal}/udgaa` (ask, retire),
//! `maal/{goal}/gendan` (restore), and the same under `indikatorer/{indicator}` without
//! `flyt`.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use nabo_core::model::activity::{Goal, IndicatorDef};
use nabo_core::prelude::*;
use serde::Deserialize;

use super::data::{ActivityEntry, TenantData};
use super::fmt::{self, Da};
use super::manage::{activity_entry, bad, text};
use super::{FormFields, Nav, Viewer, WebError, WebResult, page};
use crate::api::AppState;

const BASE: &str = "/administration/forandringsteori";

/// The routes of the change-theory forms.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new().route(
        &format!("{BASE}/{{id}}/maal/{{item}}/flyt"),
        post(move_goal),
    );
    for part in [Part::Goal, Part::Indicator] {
        r = r
            .route(
                &format!("{BASE}/{{id}}/{}/{{item}}", part.path()),
                post(move |s, v, p, b| save(part, s, v, p, b)),
            )
            .route(
                &format!("{BASE}/{{id}}/{}/{{item}}/udgaa", part.path()),
                get(move |s, v, p| confirm_retire(part, s, v, p))
                    .post(move |s, v, p| set_retired(part, true, s, v, p)),
            )
            .route(
                &format!("{BASE}/{{id}}/{}/{{item}}/gendan", part.path()),
                post(move |s, v, p| set_retired(part, false, s, v, p)),
            );
    }
    r
}

/// A goal or an indicator of a change theory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Goal,
    Indicator,
}

impl Part {
    fn path(self) -> &'static str {
        match self {
            Part::Goal => "maal",
            Part::Indicator => "indikatorer",
        }
    }

    /// The notice code's prefix.
    fn code(self) -> &'static str {
        match self {
            Part::Goal => "maal",
            Part::Indicator => "indikator",
        }
    }

    /// "The …", as a notice begins.
    fn the(self) -> &'static str {
        match self {
            Part::Goal => "Målet",
            Part::Indicator => "Indikatoren",
        }
    }

    /// What retiring means, said before it is done.
    fn consequence(self) -> &'static str {
        match self {
            Part::Goal => {
                "Målet forsvinder fra skemaet til målopfyldelse og kan ikke knyttes til nye mål. Det står stadig i historikken og i rapporterne for perioder før i dag."
            }
            Part::Indicator => {
                "Indikatoren forsvinder fra valgmulighederne: der kan ikke registreres målinger for perioder fra i dag, og den kan ikke knyttes til nye mål. Målinger, der er registreret, bliver, og rapporterne for perioder før i dag viser den stadig."
            }
        }
    }
}

/// `?besked=<part>-<action>&post=<id>` on the målopfyldelse page.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    besked: Option<String>,
    post: Option<String>,
}

const ACTIONS: [(&str, &str); 4] = [
    ("gemt", "er gemt"),
    ("flyttet", "er flyttet"),
    ("udgaaet", "er taget ud af forandringsteorien"),
    ("gendannet", "er gendannet"),
];

/// The goal-fulfilment page of an activity with a notice.
fn done(activity: &ActivityId, part: Part, action: &str, id: &str) -> Response {
    Redirect::to(&format!(
        "/rapporter/maalopfyldelse?aktivitet={}&besked={}-{action}&post={}#forandringsteori",
        activity.as_str(),
        part.code(),
        fmt::url_encode(id)
    ))
    .into_response()
}

/// The message after a change-theory form: what happened to which goal or indicator, and
/// after retiring the way back (Gendan) in the same place.
pub fn notice(q: &NoticeQuery, a: &ActivityEntry) -> Result<Markup, WebError> {
    let Some((part, action, said)) = q.besked.as_deref().and_then(|b| {
        [Part::Goal, Part::Indicator].into_iter().find_map(|p| {
            let rest = b.strip_prefix(p.code())?.strip_prefix('-')?;
            ACTIONS
                .iter()
                .find(|(c, _)| *c == rest)
                .map(|(c, s)| (p, *c, *s))
        })
    }) else {
        return Ok(html! {});
    };
    let id = q.post.as_deref().unwrap_or_default();
    let (name, step, retired) = match part {
        Part::Goal => {
            let goals = a.doc.goals()?;
            let g = id
                .parse::<GoalId>()
                .ok()
                .and_then(|g| goals.get(&g).cloned());
            (
                g.as_ref().map(|g| g.text.clone()),
                g.as_ref().map(|g| g.step),
                g.and_then(|g| g.retired),
            )
        }
        Part::Indicator => {
            let inds = a.doc.indicators()?;
            let i = id
                .parse::<IndicatorId>()
                .ok()
                .and_then(|i| inds.get(&i).cloned());
            (
                i.as_ref().map(|i| i.name.clone()),
                None,
                i.and_then(|i| i.retired),
            )
        }
    };
    Ok(html! {
        div class="besked" role="status" {
            p {
                (part.the()) @if let Some(n) = &name { " «" (n) "»" } " " (said)
                @if action == "flyttet" { @if let Some(s) = step { " til trin " (s) } }
                @if action == "udgaaet" { @if let Some(r) = retired { " fra " (fmt::date(r)) } }
                "."
                @if action == "udgaaet" { " Det står stadig i historikken og i rapporterne for perioder før." }
            }
            @if action == "udgaaet" && retired.is_some() {
                form method="post" action={(BASE) "/" (a.id.as_str()) "/" (part.path()) "/" (id) "/gendan"} class="inline" {
                    button type="submit" class="sekundaer" { "Fortryd (gendan)" }
                }
            }
        }
    })
}

/// Goals in the order of the chain: live ones by step and level, retired ones last.
fn in_order(goals: &std::collections::BTreeMap<GoalId, Goal>) -> Vec<(&GoalId, &Goal)> {
    let mut v: Vec<(&GoalId, &Goal)> = goals.iter().collect();
    v.sort_by_key(|(_, g)| (g.retired.is_some(), g.step, g.level));
    v
}

/// The change theory's goals and indicators with their forms (under the report tables).
pub fn section(a: &ActivityEntry) -> Result<Markup, WebError> {
    let goals = a.doc.goals()?;
    let indicators = a.doc.indicators()?;
    let base = format!("{BASE}/{}", a.id.as_str());
    let restore = |part: Part, id: &str, name: &str| {
        html! {
            form method="post" action={(base) "/" (part.path()) "/" (id) "/gendan"} class="inline" {
                button type="submit" class="sekundaer" aria-label={"Gendan " (name)} { "Gendan" }
            }
        }
    };
    Ok(html! {
        section id="forandringsteori" {
            h2 { "Forandringsteori" }
            p class="note" { "Ret, flyt og tag mål og indikatorer ud. Det, der tages ud, forsvinder fra valgmulighederne, nye målinger og nye målopfyldelser, men står stadig i rapporterne for perioder før. Nye led tilføjes under " a href="/administration#forandringsteori" { "Administration" } "." }
            h3 { "Mål" }
            @if goals.is_empty() { p class="tom" { "Ingen mål endnu." } }
            ol class="maal" {
                @for (gid, g) in in_order(&goals) {
                    li id={"maal-" (gid.as_str())} {
                        strong { "Trin " (g.step) ", " (g.level.da()) ": " } (g.text)
                        @if let Some(r) = g.retired {
                            " " span class="maerke" { "Udgået fra " (fmt::date(r)) } " "
                            (restore(Part::Goal, gid.as_str(), &g.text))
                        } @else {
                            details {
                                summary { "Redigér målet" }
                                form method="post" action={(base) "/maal/" (gid.as_str())} class="stak" {
                                    label { "Tekst" input name="tekst" required maxlength="200" value=(g.text); }
                                    label { "Niveau" select name="niveau" { @for l in GoalLevel::ALL { option value=(l.code()) selected[g.level == *l] { (l.da()) } } } }
                                    label { "Trin (1–9)" input name="trin" type="number" min="1" max="9" required value=(g.step); }
                                    fieldset { legend { "Fører til" }
                                        @for (oid, o) in in_order(&goals).into_iter().filter(|(oid, o)| *oid != gid && (o.retired.is_none() || g.leads_to.contains(oid))) {
                                            label class="valg" { input type="checkbox" name="foerer" value=(oid.as_str()) checked[g.leads_to.contains(oid)]; " Trin " (o.step) ": " (o.text) }
                                        }
                                    }
                                    fieldset { legend { "Indikatorer" }
                                        @for (iid, i) in indicators.iter().filter(|(iid, i)| i.retired.is_none() || g.indicators.contains(iid)) {
                                            label class="valg" { input type="checkbox" name="indikatorer" value=(iid.as_str()) checked[g.indicators.contains(iid)]; " " (i.name) }
                                        }
                                    }
                                    button type="submit" { "Gem målet" }
                                }
                            }
                            form method="post" action={(base) "/maal/" (gid.as_str()) "/flyt"} class="inline" {
                                label { "Flyt til trin "
                                    select name="trin" { @for n in 1..=9u8 { option value=(n) selected[n == g.step] { (n) } } }
                                }
                                " " button type="submit" class="sekundaer" { "Flyt" }
                            }
                            " " a class="knap fare" href={(base) "/maal/" (gid.as_str()) "/udgaa"} { "Tag ud …" }
                        }
                    }
                }
            }
            h3 { "Indikatorer" }
            @if indicators.is_empty() { p class="tom" { "Ingen indikatorer endnu." } }
            ul {
                @for (iid, i) in &indicators {
                    li id={"indikator-" (iid.as_str())} {
                        strong { (i.name) } " (" (i.source.da()) ")"
                        @if let Some(r) = i.retired {
                            " " span class="maerke" { "Udgået fra " (fmt::date(r)) } " "
                            (restore(Part::Indicator, iid.as_str(), &i.name))
                        } @else {
                            details {
                                summary { "Redigér indikatoren" }
                                form method="post" action={(base) "/indikatorer/" (iid.as_str())} class="stak" {
                                    label { "Navn" input name="navn" required maxlength="200" value=(i.name); }
                                    label { "Udgangspunkt (valgfrit)" input name="udgangspunkt" inputmode="decimal" value=[i.baseline.map(|b| fmt::dec(b, 1))]; }
                                    label { "Målværdi (valgfri)" input name="maalvaerdi" inputmode="decimal" value=[i.target.map(|t| fmt::dec(t, 1))]; }
                                    label { "Hyppighed, fx halvår eller år" input name="hyppighed" required maxlength="20" value=(i.periodicity); }
                                    button type="submit" { "Gem indikatoren" }
                                }
                            }
                            " " a class="knap fare" href={(base) "/indikatorer/" (iid.as_str()) "/udgaa"} { "Tag ud …" }
                        }
                    }
                }
            }
        }
    })
}

/// A decimal field ("18", "12,5", "1.200"): `None` when empty; `label` names it.
pub fn decimal(form: &FormFields, name: &str, label: &str) -> Result<Option<f64>, WebError> {
    match form.one(name).filter(|x| !x.is_empty()) {
        None => Ok(None),
        Some(x) => x
            .replace('.', "")
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| bad(format!("«{label}» skal være et tal, fx 18 eller 12,5."))),
    }
}

/// The activity and the id of one of its goals or indicators (unknown ones are not found).
fn item<'a>(
    d: &'a TenantData,
    part: Part,
    activity: &str,
    item: &str,
) -> Result<(&'a ActivityEntry, String, String), WebError> {
    let a = activity_entry(d, activity)?;
    let name = match part {
        Part::Goal => item
            .parse::<GoalId>()
            .ok()
            .and_then(|g| a.doc.goals().ok()?.remove(&g))
            .map(|g| g.text),
        Part::Indicator => item
            .parse::<IndicatorId>()
            .ok()
            .and_then(|i| a.doc.indicators().ok()?.remove(&i))
            .map(|i| i.name),
    }
    .ok_or(WebError::NotFound)?;
    Ok((a, item.to_owned(), name))
}

fn parse<T: std::str::FromStr>(id: &str) -> Result<T, WebError> {
    id.parse().map_err(|_| WebError::NotFound)
}

/// `POST …/maal/{goal}` and `…/indikatorer/{indicator}`: saves a goal or an indicator.
async fn save(
    part: Part,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, it)): Path<(String, String)>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let (a, it, _) = item(&d, part, &id, &it)?;
    let by = v.author();
    match part {
        Part::Goal => {
            let gid: GoalId = parse(&it)?;
            let goals = a.doc.goals()?;
            let indicators = a.doc.indicators()?;
            let text = text(&form, "tekst", "Tekst")?;
            let level: GoalLevel = form
                .one("niveau")
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| bad("«Niveau» er ikke et kendt niveau."))?;
            let step = form
                .one("trin")
                .and_then(|t| t.parse::<u8>().ok())
                .filter(|t| (1..=9).contains(t))
                .ok_or_else(|| bad("«Trin» skal være et helt tal fra 1 til 9."))?;
            let leads_to: Set<GoalId> = form
                .all("foerer")
                .map(|g| {
                    g.parse::<GoalId>()
                        .ok()
                        .filter(|g| goals.contains_key(g))
                        .ok_or_else(|| bad("«Fører til» indeholder et ukendt mål."))
                })
                .collect::<Result<_, _>>()?;
            let inds: Set<IndicatorId> = form
                .all("indikatorer")
                .map(|i| {
                    i.parse::<IndicatorId>()
                        .ok()
                        .filter(|i| indicators.contains_key(i))
                        .ok_or_else(|| bad("«Indikatorer» indeholder en ukendt indikator."))
                })
                .collect::<Result<_, _>>()?;
            s.hub
                .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
                    act.update_goal(&by, &gid, |g| {
                        g.text = text;
                        g.level = level;
                        g.step = step;
                        g.leads_to = leads_to;
                        g.indicators = inds;
                    })
                })
                .await?;
        }
        Part::Indicator => {
            let iid: IndicatorId = parse(&it)?;
            let name = text(&form, "navn", "Navn")?;
            let baseline = decimal(&form, "udgangspunkt", "Udgangspunkt")?;
            let target = decimal(&form, "maalvaerdi", "Målværdi")?;
            let periodicity = form.one("hyppighed").unwrap_or_default().to_owned();
            if periodicity.is_empty() || periodicity.chars().count() > 20 {
                return Err(bad("«Hyppighed» skal udfyldes med højst 20 tegn."));
            }
            let cat = &d.catalogue;
            s.hub
                .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
                    act.update_indicator(&by, cat, &iid, |i: &mut IndicatorDef| {
                        i.name = name;
                        i.baseline = baseline;
                        i.target = target;
                        i.periodicity = periodicity;
                    })
                })
                .await?;
        }
    }
    Ok(done(&a.id, part, "gemt", &it))
}

/// `POST …/maal/{goal}/flyt`: moves a goal to another step of the chain.
async fn move_goal(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, it)): Path<(String, String)>,
    body: String,
) -> WebResult {
    let form = FormFields::parse(&body);
    let d = TenantData::load(&s, &v.principal).await?;
    let (a, it, _) = item(&d, Part::Goal, &id, &it)?;
    let gid: GoalId = parse(&it)?;
    let step = form
        .one("trin")
        .and_then(|t| t.parse::<u8>().ok())
        .filter(|t| (1..=9).contains(t))
        .ok_or_else(|| bad("«Trin» skal være et helt tal fra 1 til 9."))?;
    let by = v.author();
    s.hub
        .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
            act.move_goal(&by, &gid, step)
        })
        .await?;
    Ok(done(&a.id, Part::Goal, "flyttet", &it))
}

/// `GET …/udgaa`: asks first, saying what retiring means.
async fn confirm_retire(
    part: Part,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, it)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let (a, it, name) = item(&d, part, &id, &it)?;
    let what = match part {
        Part::Goal => "målet",
        Part::Indicator => "indikatoren",
    };
    Ok(page(
        &v,
        Nav::Reports,
        &format!("Tag {what} «{name}» ud af forandringsteorien?"),
        html! {
            p { (part.consequence()) }
            p { "Du kan fortryde bagefter (Gendan)." }
            form method="post" action={(BASE) "/" (a.id.as_str()) "/" (part.path()) "/" (it) "/udgaa"} class="stak" {
                button type="submit" class="fare" { "Tag " (what) " ud" }
            }
            p { a href={"/rapporter/maalopfyldelse?aktivitet=" (a.id.as_str()) "#forandringsteori"} { "Fortryd – behold " (what) } }
        },
    ))
}

/// `POST …/udgaa` (from today) and `…/gendan`.
async fn set_retired(
    part: Part,
    retire: bool,
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Path((id, it)): Path<(String, String)>,
) -> WebResult {
    let d = TenantData::load(&s, &v.principal).await?;
    let (a, it, _) = item(&d, part, &id, &it)?;
    let on = retire.then_some(d.today);
    let by = v.author();
    match part {
        Part::Goal => {
            let gid: GoalId = parse(&it)?;
            s.hub
                .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
                    act.set_goal_retired(&by, &gid, on)
                })
                .await?;
        }
        Part::Indicator => {
            let iid: IndicatorId = parse(&it)?;
            s.hub
                .edit(&a.meta, &v.principal, |act: &mut ActivityDoc| {
                    act.set_indicator_retired(&by, &iid, on)
                })
                .await?;
        }
    }
    let action = if retire { "udgaaet" } else { "gendannet" };
    Ok(done(&a.id, part, action, &it))
}
