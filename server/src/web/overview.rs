//! The overview per programme and housing area, with a period filter.

use axum::extract::{Extension, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use nabo_core::prelude::*;
use serde::Deserialize;

use super::data::TenantData;
use super::stats::{Filter, overview};
use super::table::{Cell, ExportQuery, Table};
use super::{Nav, Viewer, WebError, WebResult, export, fmt, page};
use crate::api::AppState;

/// The period, programme and area of a page (`?fra=&til=&program=&omraade=`).
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    /// First day, YYYY-MM-DD.
    pub fra: Option<String>,
    /// Last day, YYYY-MM-DD.
    pub til: Option<String>,
    /// Programme id.
    pub program: Option<String>,
    /// Area id.
    pub omraade: Option<String>,
    /// Count everything in this funding round's areas (taxonomy id); empty: each programme's own.
    pub runde: Option<String>,
    /// Activity id (reports).
    pub aktivitet: Option<String>,
    /// Export format.
    pub eksport: Option<String>,
    /// Export table.
    pub tabel: Option<String>,
}

impl PeriodQuery {
    /// The filter; the default period is 1 January of this year to today.
    pub fn filter(&self, d: &TenantData) -> Result<Filter, WebError> {
        let date = |v: &Option<String>, what: &str| super::optional_date(v.as_deref(), what);
        let from = date(&self.fra, "Fra")?.unwrap_or_else(|| {
            use chrono::Datelike;
            Date::ymd(d.today.0.year(), 1, 1).unwrap_or(d.today)
        });
        let to = date(&self.til, "Til")?.unwrap_or(d.today);
        if to < from {
            return Err(WebError::BadRequest(
                "Perioden slutter, før den begynder.".into(),
            ));
        }
        let programme = match self.program.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(p) => Some(
                p.parse::<ProgrammeId>()
                    .ok()
                    .filter(|p| d.programmes.contains_key(p))
                    .ok_or(WebError::NotFound)?,
            ),
        };
        let area = match self.omraade.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(a) => Some(
                a.parse::<AreaId>()
                    .ok()
                    .filter(|a| d.areas.contains_key(a))
                    .ok_or(WebError::NotFound)?,
            ),
        };
        let round = match self.runde.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(r) if d.catalogue.taxonomy(r).is_some() => Some(r.to_owned()),
            Some(_) => {
                return Err(WebError::BadRequest(
                    "Bevillingsrunden findes ikke i kataloget.".into(),
                ));
            }
        };
        Ok(Filter {
            from,
            to,
            programme,
            area,
            round,
        })
    }

    /// The export part.
    pub fn export(&self) -> ExportQuery {
        ExportQuery {
            eksport: self.eksport.clone(),
            tabel: self.tabel.clone(),
        }
    }
}

/// The page's own address with the filter (export links are added to it).
pub fn filter_path(path: &str, f: &Filter, extra: &[(&str, &str)]) -> String {
    let mut s = format!("{path}?fra={}&til={}", f.from, f.to);
    if let Some(p) = &f.programme {
        s.push_str(&format!("&program={}", fmt::url_encode(p.as_str())));
    }
    if let Some(a) = &f.area {
        s.push_str(&format!("&omraade={}", fmt::url_encode(a.as_str())));
    }
    if let Some(r) = &f.round {
        s.push_str(&format!("&runde={}", fmt::url_encode(r)));
    }
    for (k, v) in extra {
        s.push_str(&format!("&{k}={}", fmt::url_encode(v)));
    }
    s
}

/// The filter form.
pub fn filter_form(d: &TenantData, f: &Filter, action: &str, extra: Markup) -> Markup {
    html! {
        form method="get" action=(action) class="filter" aria-label="Filter" {
            (extra)
            label { "Fra" input type="date" name="fra" value=(f.from.to_string()); }
            label { "Til" input type="date" name="til" value=(f.to.to_string()); }
            label { "Program"
                select name="program" {
                    option value="" { "Alle programmer" }
                    @for (id, p) in &d.programmes {
                        option value=(id.as_str()) selected[f.programme.as_ref() == Some(id)] { (p.name) }
                    }
                }
            }
            label { "Boligområde"
                select name="omraade" {
                    option value="" { "Alle områder" }
                    @for (id, a) in &d.areas {
                        option value=(id.as_str()) selected[f.area.as_ref() == Some(id)] { (a.name) }
                    }
                }
            }
            label { "Opgør i bevillingsrunde"
                select name="runde" {
                    option value="" { "Programmets egen" }
                    @for t in d.catalogue.taxonomies() {
                        option value=(t.id) selected[f.round.as_deref() == Some(t.id.as_str())] { (t.name_da) }
                    }
                }
            }
            button type="submit" { "Vis" }
        }
    }
}

/// Headline numbers as cards.
pub fn cards(headline: &[(&str, Cell)]) -> Markup {
    html! {
        ul class="kort" {
            @for (label, value) in headline {
                li {
                    span class="tal" { (match value {
                        Cell::Int(n) => fmt::num(*n),
                        Cell::Dec(x, d) => fmt::dec(*x, *d),
                        Cell::Suppressed => super::table::SUPPRESSED.into(),
                        _ => String::new(),
                    }) }
                    span class="etiket" { (label) }
                }
            }
        }
    }
}

/// `GET /oversigt`.
pub async fn page_handler(s: &AppState, v: &Viewer, q: &PeriodQuery) -> WebResult {
    let d = TenantData::load(s, &v.principal).await?;
    let f = q.filter(&d)?;
    let (headline, mut tables) = overview(&d, &f);
    // The reach of resident-run activities (ADR 0030), when they logged anything.
    tables.extend(super::resident::reach_table(&d, &f));
    let refs: Vec<&Table> = tables.iter().collect();
    if let Some(r) = export(&q.export(), &refs, "oversigt") {
        return r;
    }
    let path = filter_path("/oversigt", &f, &[]);
    Ok(page(
        v,
        Nav::Overview,
        "Oversigt",
        html! {
            (d.flags())
            (filter_form(&d, &f, "/oversigt", html! {}))
            p class="periode" { "Periode: " (fmt::date(f.from)) " – " (fmt::date(f.to)) }
            (cards(&headline))
            @for t in &tables { (t.html(&path)) }
        },
    ))
}

/// `GET /oversigt`.
pub async fn show(
    State(s): State<AppState>,
    Extension(v): Extension<Viewer>,
    Query(q): Query<PeriodQuery>,
) -> axum::response::Response {
    page_handler(&s, &v, &q).await.into_response()
}
